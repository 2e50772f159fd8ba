"""`rbd du`, `status`, `watch`, `pool init|stats`, `object-map rebuild|check`.

Upstream: src/tools/rbd/action/{DiskUsage,Status,Watch,Pool,ObjectMap}.cc —
``NAME PROVISIONED USED`` with a ``<TOTAL>`` row, ``Watchers:`` lines,
``press enter to exit...`` and notification lines, the pool statistics block.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass
from typing import Any

from pyceph.cli.rbd_args import (
    FEATURE_FAST_DIFF,
    SNAP_NONE,
    SNAP_PERMITTED,
    SPEC_NONE,
    Spec,
    action,
    get_names,
    get_pool_and_namespace,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import Formatter, get_formatter, prettybyte
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.cli.rbd_snap import user_snaps
from pyceph.common.output import TextTable

__all__: list[str] = []


# ------------------------------------------------------------------ du
def _used(image: Any, from_snap: str | None, size: int, exact: bool) -> int:
    used = 0

    def cb(offset: int, length: int, exists: bool) -> int:
        nonlocal used
        if exists:
            used += length
        return 0

    image.diff_iterate(0, size, from_snap, cb, include_parent=False, whole_object=not exact)
    return used


@dataclass
class DuRow:
    """One `rbd du` row: an image (`snap` empty) or one of its snapshots."""

    name: str
    image_id: str
    snap: str
    snap_id: int
    size: int
    used: int


def _du_image(
    ctx: Ctx,
    image: Any,
    name: str,
    only_snap: str,
    from_snap: str | None,
    exact: bool,
    merge: bool,
) -> list[DuRow]:
    """The rows of one image: each snapshot's own usage (from the previous one), then HEAD's.

    With ``--merge-snapshots`` the snapshots' usage is added to the HEAD row instead.
    """
    image_id = "" if image.old_format() else image.id()  # a format-1 image has no id
    rows: list[DuRow] = []
    last: str | None = from_snap
    found_from = from_snap is None
    merged = 0
    for s in sorted(user_snaps(image), key=lambda s: s["id"]):
        if not found_from:
            found_from = s["name"] == from_snap
            continue
        image.set_snap(s["name"])
        used = _used(image, last, s["size"], exact)
        last = s["name"]
        if merge and not only_snap:
            merged += used
        elif not only_snap or only_snap == s["name"]:
            rows.append(DuRow(name, image_id, s["name"], s["id"], s["size"], used))
        if only_snap == s["name"]:
            return rows
    if not only_snap:
        image.set_snap(None)
        size = image.size()
        rows.append(DuRow(name, image_id, "", 0, size, _used(image, last, size, exact) + merged))
    return rows


def _du_dump(f: Formatter | None, tbl: TextTable, r: DuRow) -> None:
    if f is not None:
        f.open_object_section("image")
        f.dump_string("name", r.name)
        f.dump_string("id", r.image_id)
        if r.snap:
            f.dump_string("snapshot", r.snap)
            f.dump_unsigned("snapshot_id", r.snap_id)
        f.dump_unsigned("provisioned_size", r.size)
        f.dump_unsigned("used_size", r.used)
        f.close_section()
    else:
        label = f"{r.name}@{r.snap}" if r.snap else r.name
        tbl.add_row([label, prettybyte(r.size), prettybyte(r.used)])


@action(
    "disk-usage",
    alias="du",
    groups=("snap", "format"),
    options=("from-snap", "exact", "merge-snapshots"),
    description="Show disk usage stats for pool, image or snapshot.",
)
def do_du(ctx: Ctx) -> int:
    from_snap = ctx.args.get("from-snap") or None
    spec = get_names(
        ctx.args, snap=SNAP_PERMITTED, validation=SPEC_NONE, required=from_snap is not None
    )
    f = get_formatter(ctx.args)
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    rows: list[DuRow] = []
    total_prov = 0
    try:
        names = [spec.image] if spec.image else sorted(ctx.rbd.RBD().list(ioctx))
        for name in names:
            try:
                image = ctx.rbd.Image(ioctx, name, read_only=True)
            except ctx.errors as e:
                if not spec.image and errno_of(e) == errno.ENOENT:
                    continue
                raise ctx.failed(f"error opening {name}", e)
            try:
                if not image.features() & FEATURE_FAST_DIFF:
                    ctx.say(
                        f"warning: fast-diff map is not enabled for {name}. operation may be slow."
                    )
                mine = _du_image(
                    ctx,
                    image,
                    name,
                    spec.snap,
                    from_snap,
                    ctx.args.flag("exact"),
                    ctx.args.flag("merge-snapshots"),
                )
            finally:
                image.close()
            rows += mine
            total_prov += max((r.size for r in mine), default=0)
    except ctx.errors as e:
        raise ctx.failed("du failed", e)
    total_used = sum(r.used for r in rows)
    tbl = TextTable()
    tbl.define_column("NAME", "left", "left")
    tbl.define_column("PROVISIONED", "left", "right")
    tbl.define_column("USED", "left", "right")
    if f is not None:
        f.open_object_section("stats")
        f.open_array_section("images")
    for r in rows:
        _du_dump(f, tbl, r)
    if f is not None:
        f.close_section()
        if not spec.image:
            f.dump_unsigned("total_provisioned_size", total_prov)
            f.dump_unsigned("total_used_size", total_used)
        f.close_section()
        f.flush(ctx.out)
    elif rows:
        if len(rows) > 1:
            tbl.add_row(["<TOTAL>", prettybyte(total_prov), prettybyte(total_used)])
        ctx.out.write(str(tbl))
    return 0


# ------------------------------------------------------------------ status
@action("status", groups=("image", "format"), description="Show the status of this image.")
def do_status(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        watchers = list(image.watchers_list())
    except ctx.errors as e:
        raise ctx.failed("show status failed", e)
    if f is not None:
        f.open_object_section("status")
        f.open_array_section("watchers")
        for w in watchers:
            f.open_object_section("watcher")
            f.dump_string("address", w["addr"])
            f.dump_unsigned("client", w["id"])
            f.dump_unsigned("cookie", w["cookie"])
            f.close_section()
        f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return 0
    if watchers:
        ctx.out.write("Watchers:\n")
        for w in watchers:
            ctx.out.write(f"\twatcher={w['addr']} client.{w['id']} cookie={w['cookie']}\n")
    else:
        ctx.out.write("Watchers: none\n")
    return 0


# ------------------------------------------------------------------ watch
@action("watch", groups=("image",), description="Watch events on image.")
def do_watch(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    ioctx, image = ctx.open_spec(spec, read_only=True)
    old = bool(image.old_format())
    oid = f"{spec.image}.rbd" if old else f"rbd_header.{image.id()}"
    lock = threading.Lock()
    label = spec.image

    def on_notify(notify_id: int, notifier_id: int, watch_id: int, data: bytes) -> None:
        with lock:
            ctx.out.write(
                f"{label} received notification: notify_id={notify_id}, cookie={watch_id}, "
                f"notifier_id={notifier_id}, bl.length={len(data or b'')}\n"
            )
            ctx.out.flush()

    try:
        watch = ioctx.watch(oid, on_notify)
    except ctx.errors as e:
        raise ctx.failed("watch failed", e)
    try:
        ctx.out.write("press enter to exit...\n")
        ctx.out.flush()
        if ctx.inp is not None:
            ctx.inp.readline()
    finally:
        try:
            watch.close()
        except ctx.errors as e:
            raise ctx.failed("unwatch failed", e)
    return 0


# ------------------------------------------------------------------ pool
@action(
    "pool init", groups=("pool",), options=("force",), description="Initialize pool for use by RBD."
)
def do_pool_init(ctx: Ctx) -> int:
    pool, _ = get_pool_and_namespace(ctx.args)
    ioctx = ctx.open_ioctx(pool)
    try:
        ctx.rbd.RBD().pool_init(ioctx, ctx.args.flag("force"))
    except ctx.errors as e:
        n = errno_of(e)
        if n == errno.EPERM:
            msg = "rbd: pool already registered to a different application."
        else:
            msg = f"rbd: error registered application: {cpp_strerror(n)}"
        raise ctx.fail(msg, n)
    return 0


@action("pool stats", groups=("pool-ns", "format"), description="Display pool statistics.")
def do_pool_stats(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args)
    f = get_formatter(ctx.args)
    ioctx = ctx.open_ioctx(pool, ns)
    try:
        st = ctx.rbd.RBD().pool_stats_get(ioctx)
    except ctx.errors as e:
        raise ctx.failed("failed to query pool stats", e)
    if f is not None:
        f.open_object_section("stats")
        for section, prefix in (("images", "image"), ("trash", "trash")):
            f.open_object_section(section)
            f.dump_unsigned("count", st.get(f"{prefix}_count", 0))
            f.dump_unsigned("provisioned_bytes", st.get(f"{prefix}_provisioned_bytes", 0))
            f.dump_unsigned("snap_count", st.get(f"{prefix}_snap_count", 0))
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return 0
    trash = st.get("trash_count", 0)
    lines = [f"Total Images: {st.get('image_count', 0)}"]
    if trash:
        lines[-1] += f" ({trash} in trash)"
    lines.append(f"Total Snapshots: {st.get('image_snap_count', 0)}")
    if trash:
        lines[-1] += f" ({st.get('trash_snap_count', 0)} in trash)"
    lines.append(f"Provisioned Size: {prettybyte(st.get('image_provisioned_bytes', 0))}")
    if trash:
        lines[-1] += f" ({prettybyte(st.get('trash_provisioned_bytes', 0))} in trash)"
    ctx.out.write("\n".join(lines) + "\n")
    return 0


# ------------------------------------------------------------------ object-map
@action(
    "object-map rebuild",
    groups=("snap", "progress"),
    description="Rebuild an invalid object map.",
)
def do_object_map_rebuild(ctx: Ctx) -> int:
    spec: Spec = get_names(ctx.args, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    _, image = ctx.open_spec(spec, read_only=False)
    pc = ProgressContext("Object Map Rebuild", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.rebuild_object_map()
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("rebuilding object map failed", e)
    pc.finish()
    return 0


@action(
    "object-map check",
    groups=("snap", "progress"),
    description="Verify the object map is correct.",
)
def do_object_map_check(ctx: Ctx) -> int:
    spec: Spec = get_names(ctx.args, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    _, image = ctx.open_spec(spec, read_only=False)
    pc = ProgressContext("Object Map Check", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.check_object_map(on_progress=pc)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("checking object map failed", e)
    pc.finish()
    return 0
