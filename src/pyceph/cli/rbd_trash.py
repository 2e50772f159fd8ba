"""`rbd trash mv|ls|restore|rm|purge`: deferred deletion (src/tools/rbd/action/Trash.cc).

Expiry dates go through ``date -d`` as upstream's utime_t::invoke_date does; the
listing shows ``<id> <name>`` lines or the ``ID NAME SOURCE DELETED_AT STATUS``
table; removal prints ``Removing image`` progress.
"""

from __future__ import annotations

import datetime
import errno
import subprocess
import time
from typing import Any

from pyceph.cli.rbd_args import (
    SNAP_NONE,
    SPEC_FULL,
    SPEC_NONE,
    CliError,
    action,
    extract_spec,
    get_names,
    get_pool_and_namespace,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import ctime_str, epoch_of, get_formatter
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.common.output import TextTable

__all__ = ["TRASH_SOURCES", "invoke_date"]

#: rbd_trash_image_source_t names by number
TRASH_SOURCES = {0: "USER", 1: "MIRRORING", 2: "MIGRATION", 3: "REMOVING", 4: "USER_PARENT"}
#: sources `rbd trash ls` shows without --all (Trash.cc: USER and USER_PARENT)
_USER_SOURCES = ("USER", "USER_PARENT")


def _source_name(entry: dict[str, Any]) -> str:
    """The entry's source as a name: rbd.RBD().trash_list() gives upstream's string
    ('USER', ...), as rbd.pyx's TrashIterator does; a number is mapped for robustness."""
    src = entry.get("source", "USER")
    if isinstance(src, str):
        return src
    return TRASH_SOURCES.get(int(src), "UNKNOWN")


#: seconds `date` may take
DATE_TIMEOUT = 10


def invoke_date(text: str) -> float:
    """utime_t::invoke_date: seconds since the epoch of ``date -d TEXT``."""
    try:
        proc = subprocess.run(
            ["date", "-d", text, "+%s.%N"],
            capture_output=True,
            text=True,
            timeout=DATE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CliError(f"rbd: error calling /bin/date: {cpp_strerror(errno.EINVAL)}") from e
    if proc.returncode != 0:
        raise CliError(f"rbd: error calling /bin/date: {cpp_strerror(errno.EINVAL)}")
    return float(proc.stdout.strip())


def _image_id_spec(ctx: Ctx) -> tuple[str, str, str]:
    """utils::get_pool_image_id."""
    pool = ctx.args.get("pool", "")
    ns = ctx.args.get("namespace", "")
    image_id = ctx.args.get("image-id", "")
    if not image_id:
        text = ctx.args.next_positional()
        if text:
            p, n, name, _ = extract_spec(text, SPEC_FULL, want_snap=False)
            pool = p if p is not None else pool
            ns = n if n is not None else ns
            image_id = name
    if not image_id:
        raise CliError("rbd: image id was not specified")
    return pool, ns, image_id


@action(
    "trash move",
    alias="trash mv",
    groups=("image",),
    options=("expires-at",),
    description="Move an image to the trash.",
)
def do_trash_move(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    now = time.time()
    exp = invoke_date(ctx.args.get("expires-at")) if ctx.args.has("expires-at") else now
    delay = int(exp - now)
    if delay < 0:
        raise CliError("rbd: cannot use a date in the past as an expiration date")
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    try:
        ctx.rbd.RBD().trash_move(ioctx, spec.image, delay)
    except ctx.errors as e:
        raise ctx.failed("deferred delete error", e)
    return 0


@action(
    "trash list",
    alias="trash ls",
    groups=("pool-ns", "format"),
    options=("all", "long"),
    description="List trash images.",
)
def do_trash_list(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args, validate_pool=False)
    f = get_formatter(ctx.args)
    ioctx = ctx.open_ioctx(pool, ns)
    try:
        entries = list(ctx.rbd.RBD().trash_list(ioctx))
    except ctx.errors as e:
        raise ctx.failed("trash list", e)
    show_all = ctx.args.flag("all")
    long = ctx.args.flag("long")
    entries = [e for e in entries if show_all or _source_name(e) in _USER_SOURCES]
    entries.sort(key=lambda e: e["id"])
    if not long and f is None:
        for e in entries:
            ctx.out.write(f"{e['id']} {e['name']}\n")
        return 0
    tbl = TextTable()
    for head in ("ID", "NAME", "SOURCE", "DELETED_AT", "STATUS", "PARENT"):
        tbl.define_column(head, "left", "left")
    if f is not None:
        f.open_array_section("trash")
    now = time.time()
    for e in entries:
        source = _source_name(e)
        deleted = ctime_str(e["deletion_time"]) if e.get("deletion_time") else ""
        end = e.get("deferment_end_time")
        end_s = epoch_of(end) if end else 0
        status = (
            f"protected until {ctime_str(end)}"
            if end and end_s > now
            else f"expired at {ctime_str(end) if end else ''}"
        )
        if f is not None:
            f.open_object_section("image")
            f.dump_string("id", e["id"])
            f.dump_string("name", e["name"])
            if long:
                f.dump_string("source", source)
                f.dump_string("deleted_at", deleted)
                f.dump_string("status", status)
            f.close_section()
        else:
            tbl.add_row([e["id"], e["name"], source, deleted, status, ""])
    if f is not None:
        f.close_section()
        f.flush(ctx.out)
    elif entries:
        ctx.out.write(str(tbl))
    return 0


@action(
    "trash restore",
    groups=("pool-ns",),
    options=("image-id", "image"),
    description="Restore an image from trash.",
)
def do_trash_restore(ctx: Ctx) -> int:
    pool, ns, image_id = _image_id_spec(ctx)
    ioctx = ctx.open_ioctx(pool, ns)
    rbd = ctx.rbd.RBD()
    try:
        name = ctx.args.get("image") or rbd.trash_get(ioctx, image_id)["name"]
        rbd.trash_restore(ioctx, image_id, name)
    except ctx.errors as e:
        n = errno_of(e)
        if n == errno.EEXIST:
            msg = (
                "rbd: restore error: (17) File exists\n"
                "rbd: an image with the same name already exists, try again with a different "
                "name using --image"
            )
        else:
            msg = f"rbd: restore error: {cpp_strerror(n)}"
        raise ctx.fail(msg, n)
    return 0


@action(
    "trash remove",
    alias="trash rm",
    groups=("pool-ns", "progress"),
    options=("image-id", "force"),
    description="Remove an image from trash.",
)
def do_trash_remove(ctx: Ctx) -> int:
    pool, ns, image_id = _image_id_spec(ctx)
    ioctx = ctx.open_ioctx(pool, ns)
    pc = ProgressContext("Removing image", ctx.args.flag("no-progress"), ctx.err)
    try:
        ctx.rbd.RBD().trash_remove(ioctx, image_id, ctx.args.flag("force"), on_progress=pc)
    except ctx.errors as e:
        n = errno_of(e)
        if n == errno.ENOTEMPTY:
            msg = (
                "rbd: image has snapshots - these must be deleted with 'rbd snap purge' "
                "before the image can be removed."
            )
        elif n == errno.EBUSY:
            msg = (
                "rbd: error: image still has watchers\n"
                "This means the image is still open or the client using it crashed. Try again "
                "after closing/unmapping it or waiting 30s for the crashed client to timeout."
            )
        elif n == errno.EMLINK:
            msg = "\nRemove the image from the group and try again."
        elif n == errno.EPERM:
            # printed before the failed progress line, as upstream
            ctx.say(
                "\nDeferment time has not expired, please use --force if you really want to "
                "remove the image"
            )
            pc.fail()
            raise CliError(None, n)
        else:
            msg = f"rbd: remove error: {cpp_strerror(n)}"
        pc.fail()
        raise ctx.fail(msg, n)
    pc.finish()
    return 0


@action(
    "trash purge",
    groups=("pool-ns", "progress"),
    options=("expired-before", "threshold"),
    description="Remove all expired images from trash.",
)
def do_trash_purge(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args)
    expire: Any = None
    if ctx.args.has("expired-before"):
        expire = datetime.datetime.fromtimestamp(
            invoke_date(ctx.args.get("expired-before")), tz=datetime.UTC
        ).replace(tzinfo=None)
    threshold = ctx.args.get("threshold", -1)
    if ctx.args.has("threshold") and not 0 <= threshold <= 1:
        raise CliError("rbd: argument 'threshold' is out of valid range")
    ioctx = ctx.open_ioctx(pool, ns)
    pc = ProgressContext("Removing images", ctx.args.flag("no-progress"), ctx.err)
    try:
        ctx.rbd.RBD().trash_purge(ioctx, expire, threshold)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("purge error", e)
    pc.finish()
    return 0
