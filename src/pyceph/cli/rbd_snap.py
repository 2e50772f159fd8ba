"""`rbd snap ...`: ls, create, rm, purge, rollback, protect, unprotect, rename, limit.

Upstream: src/tools/rbd/action/Snap.cc — the `SNAPID NAME SIZE PROTECTED TIMESTAMP`
table (checked against the `rbd-snap-ls-*` samples), `snapshot` json/xml objects,
progress lines ``Creating snap``, ``Removing snap``, ``Removing all snapshots``,
``Rolling back to snapshot`` and the same error texts.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.cli.rbd_args import (
    MOD_DEST,
    SNAP_NONE,
    SNAP_REQUIRED,
    SPEC_NONE,
    SPEC_SNAP,
    CliError,
    action,
    get_names,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import ctime_str, epoch_of, get_formatter
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.cli.rbd_render import SnapRow, render_snap_list

__all__ = ["SNAP_NAMESPACE_NAMES", "user_snaps"]

SNAP_NAMESPACE_USER = 0
SNAP_NAMESPACE_GROUP = 1
SNAP_NAMESPACE_TRASH = 2
#: snapshot namespace types as `snap ls --all` prints them
SNAP_NAMESPACE_NAMES = {0: "user", 1: "group", 2: "trash", 3: "mirror"}
#: RBD_SNAP_CREATE_SKIP_QUIESCE / RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR
SNAP_CREATE_SKIP_QUIESCE = 1 << 0
SNAP_CREATE_IGNORE_QUIESCE_ERROR = 1 << 1
#: RBD_SNAP_REMOVE_UNPROTECT | RBD_SNAP_REMOVE_FLATTEN (RBD_SNAP_REMOVE_FORCE)
SNAP_REMOVE_FORCE = (1 << 0) | (1 << 1)


def user_snaps(image: Any) -> list[dict[str, Any]]:
    """The snapshots of the user namespace (is_not_user_snap_namespace filtered out)."""
    return [
        s
        for s in image.list_snaps()
        if s.get("namespace", SNAP_NAMESPACE_USER) == SNAP_NAMESPACE_USER
    ]


def _snap_spec(ctx: Ctx, presence: int, validation: int = SPEC_NONE) -> Any:
    return ctx.image_spec(snap=presence, validation=validation, by_id=True)


# ------------------------------------------------------------------ ls
@action(
    "snap list",
    alias="snap ls",
    groups=("image", "format"),
    options=("image-id", "all"),
    description="Dump list of image snapshots.",
)
def do_snap_list(ctx: Ctx) -> int:
    spec = _snap_spec(ctx, SNAP_NONE)
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    show_all = ctx.args.flag("all")
    try:
        snaps = list(image.list_snaps())
    except ctx.errors as e:
        raise ctx.failed("failed to list snapshots", e)
    if not show_all:
        snaps = [s for s in snaps if s.get("namespace", 0) == SNAP_NAMESPACE_USER]
    rows: list[SnapRow] = []
    for s in snaps:
        ns_type = s.get("namespace", SNAP_NAMESPACE_USER)
        protected = False
        if ns_type == SNAP_NAMESPACE_USER:
            try:
                protected = image.is_protected_snap(s["name"])
            except ctx.errors:
                protected = False
        ts = image.get_snap_timestamp(s["id"])
        text, detail = _namespace_info(ctx, s, ns_type)
        rows.append(
            SnapRow(
                s["id"],
                s["name"],
                s["size"],
                protected,
                ctime_str(ts) if ts and epoch_of(ts) != 0 else "",  # none on format 1
                SNAP_NAMESPACE_NAMES.get(ns_type, "unknown"),
                text,
                detail,
            )
        )
    ctx.out.write(render_snap_list(rows, f, show_all))
    return 0


def _namespace_info(ctx: Ctx, s: dict[str, Any], ns_type: int) -> tuple[str, list[tuple[str, str]]]:
    """The NAMESPACE column text and the `namespace` object's extra keys of a snapshot."""
    name = SNAP_NAMESPACE_NAMES.get(ns_type, "unknown")
    if ns_type == SNAP_NAMESPACE_GROUP and isinstance(s.get("group"), dict):
        g = s["group"]
        pool = g.get("pool", "")
        if isinstance(pool, int):
            try:
                pool = ctx.connect().pool_reverse_lookup(pool)
            except ctx.errors:
                pool = str(pool)
        group, snap = g.get("name", ""), g.get("snap_name", "")
        detail = [("pool", str(pool)), ("group", group), ("group snap", snap)]
        return f"{name} ({pool}/{group}@{snap})", detail
    if ns_type == SNAP_NAMESPACE_TRASH and isinstance(s.get("trash"), dict):
        original = s["trash"].get("original_name", "")
        return f"{name} ({original})", [("original_name", original)]
    return name, []


# ------------------------------------------------------------------ create
@action(
    "snap create",
    alias="snap add",
    groups=("snap", "progress"),
    options=("skip-quiesce", "ignore-quiesce-error"),
    description="Create a snapshot.",
)
def do_snap_create(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_REQUIRED, validation=SPEC_SNAP)
    if ctx.args.flag("skip-quiesce") and ctx.args.flag("ignore-quiesce-error"):
        raise CliError("rbd: ignore-quiesce-error cannot be used together with skip-quiesce")
    flags = 0
    if ctx.args.flag("skip-quiesce"):
        flags |= SNAP_CREATE_SKIP_QUIESCE
    elif ctx.args.flag("ignore-quiesce-error"):
        flags |= SNAP_CREATE_IGNORE_QUIESCE_ERROR
    _, image = ctx.open_spec(spec, read_only=False, snap=False)
    pc = ProgressContext("Creating snap", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.create_snap(spec.snap, flags)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("failed to create snapshot", e)
    pc.finish()
    return 0


# ------------------------------------------------------------------ rm
@action(
    "snap remove",
    alias="snap rm",
    groups=("snap", "progress"),
    options=("image-id", "snap-id", "force"),
    description="Delete a snapshot.",
)
def do_snap_remove(ctx: Ctx) -> int:
    presence = SNAP_NONE if ctx.args.has("snap-id") else SNAP_REQUIRED
    spec = ctx.image_spec(snap=presence, validation=SPEC_NONE, by_id=True)
    if ctx.args.has("snap-id") and spec.snap:
        raise CliError("rbd: trying to access snapshot using both name and id.")
    _, image = ctx.open_spec(spec, read_only=False, snap=False)
    pc = ProgressContext("Removing snap", ctx.args.flag("no-progress"), ctx.err)
    try:
        if ctx.args.has("snap-id"):
            image.remove_snap_by_id(ctx.args.get("snap-id"))
        else:
            flags = SNAP_REMOVE_FORCE if ctx.args.flag("force") else 0
            image.remove_snap2(spec.snap, flags)
    except ctx.errors as e:
        pc.fail()
        n = errno_of(e)
        if n == errno.EBUSY:
            msg = f"rbd: snapshot '{spec.snap}' is protected from removal."
        else:
            msg = f"rbd: failed to remove snapshot: {cpp_strerror(n)}"
        raise ctx.fail(msg, n)
    pc.finish()
    return 0


# ------------------------------------------------------------------ purge
@action(
    "snap purge",
    groups=("image", "progress"),
    options=("image-id",),
    description="Delete all unprotected snapshots.",
)
def do_snap_purge(ctx: Ctx) -> int:
    spec = _snap_spec(ctx, SNAP_NONE)
    _, image = ctx.open_spec(spec, read_only=False)
    pc = ProgressContext("Removing all snapshots", ctx.args.flag("no-progress"), ctx.err)
    try:
        snaps = user_snaps(image)
        if not snaps:
            return 0
        protected = [s["name"] for s in snaps if image.is_protected_snap(s["name"])]
        removable = [s for s in snaps if s["name"] not in protected]
        if protected:
            verb = "is" if len(protected) == 1 else "are"
            ctx.out.write(
                f"rbd: error removing snapshot(s) '{', '.join(protected)}', which {verb} "
                "protected - these must be unprotected with `rbd snap unprotect`.\n"
            )
        total = len(snaps)
        for i, s in enumerate(removable):
            image.remove_snap(s["name"])
            pc.update_progress(i + 1, total)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("removing snaps failed", e)
    if protected:
        pc.fail()
    elif removable:
        pc.finish()
    return 0


# ------------------------------------------------------------------ rollback
@action(
    "snap rollback",
    alias="snap revert",
    groups=("snap", "progress"),
    description="Rollback image to snapshot.",
)
def do_snap_rollback(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_REQUIRED, validation=SPEC_NONE)
    _, image = ctx.open_spec(spec, read_only=False, snap=False)
    pc = ProgressContext("Rolling back to snapshot", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.rollback_to_snap(spec.snap)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("rollback failed", e)
    pc.finish()
    return 0


# ------------------------------------------------------------------ protect
@action(
    "snap protect",
    groups=("snap",),
    options=("image-id",),
    description="Prevent a snapshot from being deleted.",
)
def do_snap_protect(ctx: Ctx) -> int:
    spec = _snap_spec(ctx, SNAP_REQUIRED)
    _, image = ctx.open_spec(spec, read_only=False, snap=False)
    try:
        if image.is_protected_snap(spec.snap):
            raise CliError("rbd: snap is already protected", errno.EBUSY)
        image.protect_snap(spec.snap)
    except ctx.errors as e:
        raise ctx.failed("protecting snap failed", e)
    return 0


@action(
    "snap unprotect",
    groups=("snap",),
    options=("image-id",),
    description="Allow a snapshot to be deleted.",
)
def do_snap_unprotect(ctx: Ctx) -> int:
    spec = _snap_spec(ctx, SNAP_REQUIRED)
    _, image = ctx.open_spec(spec, read_only=False, snap=False)
    try:
        if not image.is_protected_snap(spec.snap):
            raise CliError("rbd: snap is already unprotected", errno.EINVAL)
        image.unprotect_snap(spec.snap)
    except ctx.errors as e:
        raise ctx.failed("unprotecting snap failed", e)
    return 0


# ------------------------------------------------------------------ rename
@action("snap rename", groups=("snap", "dest-snap"), description="Rename a snapshot.")
def do_snap_rename(ctx: Ctx) -> int:
    src = get_names(ctx.args, snap=SNAP_REQUIRED, validation=SPEC_NONE)
    dst = get_names(ctx.args, mod=MOD_DEST, snap=SNAP_REQUIRED, validation=SPEC_SNAP)
    if (dst.pool or src.pool) != (src.pool or dst.pool):
        raise CliError("rbd: source and destination pool must be the same")
    if dst.image != src.image:
        raise CliError("rbd: source and destination image name must be the same")
    _, image = ctx.open_spec(src, read_only=False, snap=False)
    try:
        image.rename_snap(src.snap, dst.snap)
    except ctx.errors as e:
        raise ctx.failed("renaming snap failed", e)
    return 0


# ------------------------------------------------------------------ limit
@action(
    "snap limit set",
    groups=("image",),
    options=("limit",),
    description="Limit the number of snapshots.",
)
def do_snap_limit_set(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    if not ctx.args.has("limit"):
        raise CliError("rbd: must specify --limit <num>", errno.ERANGE)
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.set_snap_limit(ctx.args.get("limit"))
    except ctx.errors as e:
        raise ctx.failed("setting snapshot limit failed", e)
    return 0


@action("snap limit clear", groups=("image",), description="Remove snapshot limit.")
def do_snap_limit_clear(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.remove_snap_limit()
    except ctx.errors as e:
        raise ctx.failed("clearing snapshot limit failed", e)
    return 0
