"""`rbd export|import|export-diff|import-diff|diff`: images and diffs as byte streams.

Upstream: src/tools/rbd/action/{Export,Import,Diff}.cc. Files or ``-`` for
stdout/stdin; raw (``--export-format 1``) exports are sparse files, format 2 adds
the image header, metadata and one diff per snapshot so snapshots travel too;
diffs are the ``rbd diff v1`` records of `rbd_stream`. Imports write only the
non-zero `--sparse-size` pieces; import from stdin grows the image by doubling and
trims it at the end, as upstream does. Progress lines ``Exporting image``,
``Importing image``, ``Importing image diff``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat as stat_mod
from typing import Any, BinaryIO

from pyceph.cli import rbd_stream as rs
from pyceph.cli.rbd_args import (
    MOD_DEST,
    MOD_SOURCE,
    SNAP_NONE,
    SNAP_PERMITTED,
    SPEC_FULL,
    SPEC_NONE,
    Spec,
    action,
    extract_spec,
    get_image_options,
    get_names,
    get_path,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import get_formatter
from pyceph.cli.rbd_image import create_kwargs, format_1_kwargs
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.cli.rbd_snap import user_snaps
from pyceph.common.output import TextTable

__all__ = ["export_diff_stream", "import_diff_stream"]

#: RBD_DEFAULT_SPARSE_SIZE
DEFAULT_SPARSE_SIZE = 4096
#: mode of files export creates (open(..., 0644))
EXPORT_FILE_MODE = 0o644
#: LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL | LIBRADOS_OP_FLAG_FADVISE_NOCACHE
FADVISE_EXPORT = 0x8 | 0x40


class _Fail(Exception):
    """An operation failed with `ret` (negative errno) after its message was printed."""

    def __init__(self, ret: int) -> None:
        super().__init__(ret)
        self.ret = ret


# ------------------------------------------------------------------ helpers
def _open_out(path: str) -> int:
    """O_WRONLY|O_CREAT|O_EXCL, as Export.cc; -errno on failure."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, EXPORT_FILE_MODE)
    except OSError as e:
        return -(e.errno or errno.EIO)


class _FdWriter:
    """Sequential writes to a file descriptor (or stdout's buffer)."""

    def __init__(self, fd: int | None, stream: BinaryIO | None) -> None:
        self.fd = fd
        self.stream = stream

    def write(self, data: bytes) -> None:
        if self.stream is not None:
            self.stream.write(data)
            return
        assert self.fd is not None
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.flush()


def _extents(ctx: Ctx, image: Any, from_snap: str | None, size: int, whole: bool) -> list:
    out: list[tuple[int, int, bool]] = []

    def cb(offset: int, length: int, exists: bool) -> int:
        out.append((offset, length, bool(exists)))
        return 0

    image.diff_iterate(0, size, from_snap, cb, include_parent=True, whole_object=whole)
    return out


def export_diff_stream(
    ctx: Ctx,
    image: Any,
    from_snap: str | None,
    end_snap: str | None,
    whole_object: bool,
    w: _FdWriter,
    pc: ProgressContext,
    fmt: int,
) -> None:
    """do_export_diff_fd: header, extents (zero when the data reads as zeros), end."""
    size = image.size()
    protected = image.is_protected_snap(end_snap) if (end_snap and fmt == 2) else None
    w.write(rs.encode_diff_header(from_snap, end_snap, size, fmt, protected))
    for offset, length, exists in _extents(ctx, image, from_snap, size, whole_object):
        data = None
        if exists:
            data = image.read(offset, length, FADVISE_EXPORT)
            if rs.is_zero(data):
                data = None
        w.write(rs.encode_extent(offset, length, data, fmt))
        pc.update_progress(offset, size)
    w.write(rs.encode_diff_end())


# ------------------------------------------------------------------ export
@action(
    "export",
    groups=("snap", "progress"),
    options=("path", "export-format"),
    description="Export image to file.",
)
def do_export(ctx: Ctx) -> int:
    spec = get_names(ctx.args, mod=MOD_SOURCE, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    path = get_path(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    fmt = ctx.args.get("export-format", 1)
    to_stdout = path == "-"
    fd = None
    if not to_stdout:
        fd = _open_out(path)
        if fd < 0:
            raise ctx.fail(f"rbd: export error: {cpp_strerror(fd)}", fd)
    pc = ProgressContext("Exporting image", ctx.args.flag("no-progress"), ctx.err)
    w = _FdWriter(fd, ctx.bin_out() if to_stdout else None)
    try:
        if fmt == 1:
            _export_v1(image, fd, w, pc)
        else:
            _export_v2(ctx, image, w, pc)
        w.flush()
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("export error", e)
    except OSError as e:
        pc.fail()
        raise ctx.fail(f"rbd: export error: {cpp_strerror(e.errno or errno.EIO)}", e.errno or 5)
    finally:
        if fd is not None:
            os.close(fd)
    pc.finish()
    return 0


def _export_v1(image: Any, fd: int | None, w: _FdWriter, pc: ProgressContext) -> None:
    st = image.stat()
    size = st["size"]
    period = image.stripe_count() * (1 << st["order"])
    offset = 0
    while offset < size:
        n = min(period, size - offset)
        pc.update_progress(offset, size)
        data = image.read(offset, n, FADVISE_EXPORT)
        if fd is None:
            w.write(data)
        elif not rs.is_zero(data):
            os.lseek(fd, offset, os.SEEK_SET)
            w.write(data)
        offset += n
    if fd is not None:
        os.ftruncate(fd, size)
        os.lseek(fd, size, os.SEEK_SET)


def _export_v2(ctx: Ctx, image: Any, w: _FdWriter, pc: ProgressContext) -> None:
    st = image.stat()
    metadata = [(k, v) for k, v in image.metadata_list()]
    w.write(
        rs.encode_image_header_v2(
            st["order"], image.features(), image.stripe_unit(), image.stripe_count(), metadata
        )
    )
    snaps = sorted(user_snaps(image), key=lambda s: s["id"])
    w.write(rs.encode_image_diffs_header(len(snaps) + 1))
    quiet = ProgressContext("", True, ctx.err)
    last: str | None = None
    for i, s in enumerate(snaps):
        image.set_snap(s["name"])
        export_diff_stream(ctx, image, last, s["name"], False, w, quiet, 2)
        pc.update_progress(i, len(snaps) + 1)
        last = s["name"]
    # upstream goes back to HEAD here, whatever snapshot the spec named
    image.set_snap(None)
    export_diff_stream(ctx, image, last, None, False, w, quiet, 2)
    pc.update_progress(len(snaps) + 1, len(snaps) + 1)


# ------------------------------------------------------------------ export-diff
@action(
    "export-diff",
    groups=("snap", "progress"),
    options=("path", "from-snap", "whole-object"),
    description="Export incremental diff to file.",
)
def do_export_diff(ctx: Ctx) -> int:
    spec = get_names(ctx.args, mod=MOD_SOURCE, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    path = get_path(ctx.args)
    from_snap = ctx.args.get("from-snap") or None
    _, image = ctx.open_spec(spec, read_only=True)
    to_stdout = path == "-"
    fd = None
    if not to_stdout:
        fd = _open_out(path)
        if fd < 0:
            raise ctx.fail(f"rbd: export-diff error: {cpp_strerror(fd)}", fd)
    pc = ProgressContext("Exporting image", ctx.args.flag("no-progress"), ctx.err)
    w = _FdWriter(fd, ctx.bin_out() if to_stdout else None)
    failed: int = 0
    try:
        export_diff_stream(
            ctx, image, from_snap, spec.snap or None, ctx.args.flag("whole-object"), w, pc, 1
        )
        w.flush()
    except ctx.errors as e:
        failed = errno_of(e)
    except OSError as e:
        failed = e.errno or errno.EIO
    finally:
        if fd is not None:
            os.close(fd)
    if failed:
        pc.fail()
        if fd is not None:
            with contextlib.suppress(OSError):
                os.remove(path)
        raise ctx.fail(f"rbd: export-diff error: {cpp_strerror(failed)}", failed)
    pc.finish()
    return 0


# ------------------------------------------------------------------ import-diff
class _Source:
    """The input of an import: a file (size known, position from the file) or stdin."""

    def __init__(self, ctx: Ctx, path: str) -> None:
        self.stdin = path == "-"
        self.size = 0
        if self.stdin:
            self.f: Any = ctx.bin_in()
        else:
            self.f = open(path, "rb")  # noqa: SIM115 - closed by close()
            self.size = os.fstat(self.f.fileno()).st_size

    def close(self) -> None:
        if not self.stdin:
            self.f.close()


def import_diff_stream(
    ctx: Ctx,
    image: Any,
    reader: rs.StreamReader,
    fmt: int,
    sparse_size: int,
    pc: ProgressContext,
    src_size: int,
    stdin: bool,
) -> None:
    """do_import_diff_fd: apply one diff to HEAD, then create (and protect) its end snap."""
    reader.banner(rs.DIFF_BANNER if fmt == 1 else rs.DIFF_BANNER_V2)
    tosnap = ""
    protect = False
    total = src_size

    def progress(off: int) -> None:
        if total:
            pc.update_progress(off, total)

    for rec in reader.diff_records(fmt):
        if rec.kind == "from":
            if not image.snap_exists(rec.name):
                ctx.say(f"start snapshot '{rec.name}' does not exist in the image, aborting")
                raise _Fail(-errno.EINVAL)
            progress(reader.pos)
        elif rec.kind == "to":
            if image.snap_exists(rec.name):
                ctx.say(f"end snapshot '{rec.name}' already exists, aborting")
                raise _Fail(-errno.EEXIST)
            tosnap = rec.name
            progress(reader.pos)
        elif rec.kind == "protect":
            protect = rec.flag
        elif rec.kind == "size":
            if image.size() != rec.length:
                image.resize(rec.length)
            if stdin:
                total = rec.length
            progress(reader.pos)
        elif rec.kind == "write":
            for off, ln, zeroed in rs.sparse_runs(rec.data, sparse_size):
                if zeroed:
                    image.write_zeroes(rec.offset + off, ln)
                else:
                    image.write(rec.data[off : off + ln], rec.offset + off)
            progress(rec.offset if stdin else reader.pos)
        elif rec.kind == "zero":
            image.write_zeroes(rec.offset, rec.length)
            progress(rec.offset if stdin else reader.pos)
        else:
            ctx.say(f"unrecognized tag byte {rec.tag} in stream; skipping")
    image.flush()
    if tosnap:
        image.create_snap(tosnap)
        if protect:
            image.protect_snap(tosnap)


@action(
    "import-diff",
    groups=("image", "progress"),
    options=("path", "sparse-size"),
    description="Apply an incremental diff to image HEAD, then create a snapshot.",
)
def do_import_diff(ctx: Ctx) -> int:
    path = get_path(ctx.args)
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    sparse = ctx.args.get("sparse-size", DEFAULT_SPARSE_SIZE)
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        src = _Source(ctx, path)
    except OSError as e:
        ctx.say(f"rbd: error opening {path}")
        n = e.errno or errno.EIO
        raise ctx.fail(f"rbd: import-diff failed: {cpp_strerror(n)}", n)
    pc = ProgressContext("Importing image diff", ctx.args.flag("no-progress"), ctx.err)
    ret = 0
    try:
        import_diff_stream(ctx, image, rs.StreamReader(src.f), 1, sparse, pc, src.size, src.stdin)
    except rs.StreamError as e:
        ctx.say(e.message)
        ret = e.ret
    except _Fail as e:
        ret = e.ret
    except ctx.errors as e:
        ret = -errno_of(e)
    finally:
        src.close()
    if ret < 0:
        pc.fail()
        if ret == -errno.EDOM:
            ret = -errno.EBADMSG
        raise ctx.fail(f"rbd: import-diff failed: {cpp_strerror(ret)}", ret)
    pc.finish()
    return 0


# ------------------------------------------------------------------ import
@action(
    "import",
    groups=("dest", "create", "create-format", "progress"),
    options=("path", "sparse-size", "export-format", "pool", "image"),
    description="Import image from file.",
)
def do_import(ctx: Ctx) -> int:
    args = ctx.args
    path = get_path(args)
    dep_pool = args.get("pool", "")
    dep_image = (
        args.get("image")
        if args.has("image")
        else path[max(path.rfind("/"), path.rfind("\\")) + 1 :]
    )
    p, _, name, snap = extract_spec(dep_image, SPEC_FULL, want_ns=False)
    dep_pool = p if p is not None else dep_pool
    spec = Spec(pool=dep_pool, snap=snap or "")
    opts_spec = Spec(pool=spec.pool, snap=spec.snap)
    # the deprecated --image must not be read as the destination name again
    saved = args.opts.pop("image", None)
    try:
        dst = get_names(
            args,
            mod=MOD_DEST,
            snap=SNAP_NONE,
            validation=SPEC_FULL,
            required=False,
            spec=opts_spec,
        )
    finally:
        if saved is not None:
            args.opts["image"] = saved
    image_name = dst.image or name
    opts = get_image_options(args, True)
    for w in opts.warnings:
        ctx.say(w)
    ioctx = ctx.open_ioctx(dst.pool, dst.namespace)
    fmt = args.get("export-format", 1)
    sparse = args.get("sparse-size", DEFAULT_SPARSE_SIZE)
    pc = ProgressContext("Importing image", args.flag("no-progress"), ctx.err)
    ret = _import(ctx, ioctx, image_name, path, opts, fmt, sparse, pc)
    if ret < 0:
        raise ctx.fail(f"rbd: import failed: {cpp_strerror(ret)}", ret)
    return 0


def _import(
    ctx: Ctx,
    ioctx: Any,
    name: str,
    path: str,
    opts: Any,
    fmt: int,
    sparse: int,
    pc: ProgressContext,
) -> int:
    """do_import: header, create, metadata, data; the image is removed on failure."""
    order = opts.order if opts.order is not None else int(ctx.conf_get("rbd_default_order", "22"))
    blklen = 1 << order
    stdin = path == "-"
    if stdin:
        f: Any = ctx.bin_in()
        size = 1 << order
    else:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            ctx.say(f"rbd: error opening {path}")
            return -(e.errno or errno.EIO)
        st = os.fstat(f.fileno())
        if stat_mod.S_ISDIR(st.st_mode):
            f.close()
            ctx.say("rbd: cannot import a directory")
            pc.fail()
            return -errno.EISDIR
        size = st.st_size
    reader = rs.StreamReader(f)
    try:
        metadata: dict[str, str] = {}
        kw = create_kwargs(ctx, opts)
        if fmt == 2:
            try:
                header = reader.image_header_v2()
            except rs.StreamError as e:
                ctx.say(e.message)
                ctx.say("rbd: import header failed.")
                pc.fail()
                return e.ret
            for key, value in (
                ("order", header.order),
                ("features", header.features),
                ("stripe_unit", header.stripe_unit),
                ("stripe_count", header.stripe_count),
            ):
                if value is not None and key not in kw:
                    kw[key] = value
            metadata = header.metadata or {}
        elif opts.format == 1:
            kw.update(format_1_kwargs(ctx))
        try:
            ctx.rbd.RBD().create(ioctx, name, size, **kw)
        except ctx.errors as e:
            ctx.say("rbd: image creation failed")
            pc.fail()
            return -errno_of(e)
        ret = 0
        try:
            image = ctx.rbd.Image(ioctx, name)
        except ctx.errors as e:
            ctx.say("rbd: failed to open image")
            ret = -errno_of(e)
        else:
            try:
                for key, value in metadata.items():
                    image.metadata_set(key, value)
                if fmt == 1:
                    _import_v1(image, f, size, blklen, sparse, stdin, pc)
                else:
                    n = reader.diff_count()
                    quiet = ProgressContext("", True, ctx.err)
                    for i in range(n):
                        import_diff_stream(ctx, image, reader, 2, sparse, quiet, 0, True)
                        pc.update_progress(i + 1, n)
            except rs.StreamError as e:
                ctx.say(e.message)
                ret = e.ret
            except _Fail as e:
                ret = e.ret
            except ctx.errors as e:
                ret = -errno_of(e)
            if ret < 0:
                if fmt == 2:
                    ctx.say(f"rbd: import-diff failed: {cpp_strerror(ret)}")
                ctx.say("rbd: failed to import image")
            try:
                image.close()
            except ctx.errors as e:
                ret = ret or -errno_of(e)
        if ret < 0:
            try:
                ctx.rbd.RBD().remove(ioctx, name)
            except ctx.errors:
                pass
            pc.fail()
            return ret
        pc.finish()
        return 0
    finally:
        if not stdin:
            f.close()


def _import_v1(
    image: Any,
    f: Any,
    size: int,
    blklen: int,
    sparse: int,
    stdin: bool,
    pc: ProgressContext,
) -> None:
    """do_import_v1: fill whole blocks, write their non-zero pieces."""
    pos = 0
    while True:
        want = blklen if stdin else min(blklen, size - pos)
        block = _read_full(f, want) if want > 0 else b""
        if not stdin:
            pc.update_progress(pos, size)
        if stdin and pos + len(block) > size:
            while pos + len(block) > size:
                size *= 2
            image.resize(size)
        for off, ln, zeroed in rs.sparse_runs(block, sparse):
            if not zeroed:
                image.write(block[off : off + ln], pos + off)
        pos += len(block)
        if (not stdin and pos >= size) or len(block) < want or not block:
            break
    image.flush()
    if stdin:
        image.resize(pos)


def _read_full(f: Any, n: int) -> bytes:
    chunks = []
    left = n
    while left > 0:
        b = f.read(left)
        if not b:
            break
        chunks.append(b)
        left -= len(b)
    return b"".join(chunks)


# ------------------------------------------------------------------ diff
@action(
    "diff",
    groups=("snap", "format"),
    options=("from-snap", "whole-object"),
    description="Print extents that differ since a previous snap, or image creation.",
)
def do_diff(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    from_snap = ctx.args.get("from-snap") or None
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        extents = _extents(ctx, image, from_snap, image.size(), ctx.args.flag("whole-object"))
    except ctx.errors as e:
        raise ctx.failed("diff error", e)
    if f is not None:
        f.open_array_section("extents")
        for off, ln, exists in extents:
            f.open_object_section("extent")
            f.dump_unsigned("offset", off)
            f.dump_unsigned("length", ln)
            f.dump_string("exists", "true" if exists else "false")
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
    elif extents:
        tbl = TextTable()
        for head in ("Offset", "Length", "Type"):
            tbl.define_column(head, "left", "left")
        for off, ln, exists in extents:
            tbl.add_row([off, ln, "data" if exists else "zero"])
        ctx.out.write(str(tbl))
    return 0
