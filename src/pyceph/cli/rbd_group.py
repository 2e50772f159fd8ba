"""`rbd group ...`: consistency groups, their images and snapshots (action/Group.cc).

Group specs are ``[pool/[namespace/]]group[@snap]`` like image specs (``--group``,
``--group-pool``...); image members are given as image specs after the group.
"""

from __future__ import annotations

from typing import Any

from pyceph.cli.rbd_args import (
    MOD_DEST,
    SNAP_NONE,
    SNAP_REQUIRED,
    SPEC_FULL,
    SPEC_NONE,
    SPEC_SNAP,
    CliError,
    Spec,
    action,
    extract_spec,
    get_names,
    get_pool_and_namespace,
    validate_snap,
)
from pyceph.cli.rbd_context import Ctx
from pyceph.cli.rbd_format import get_formatter
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.common.output import TextTable

__all__: list[str] = []

#: rbd_group_image_state_t / rbd_group_snap_state_t names
GROUP_IMAGE_STATES = {0: "attached", 1: "incomplete"}
GROUP_SNAP_STATES = {0: "incomplete", 1: "ok"}


def _group_spec(ctx: Ctx, snap: int = SNAP_NONE, validation: int = SPEC_FULL) -> Spec:
    args = ctx.args
    out = Spec(
        pool=args.get("group-pool", args.get("pool", "")),
        namespace=args.get("group-namespace", args.get("namespace", "")),
        image=args.get("group", ""),
        snap=args.get("snap", ""),
    )
    if not out.image:
        text = args.next_positional()
        if text:
            p, n, name, s = extract_spec(text, validation if snap == SNAP_NONE else SPEC_NONE)
            out.pool = p if p is not None else out.pool
            out.namespace = n if n is not None else out.namespace
            out.image = name
            if s is not None:
                out.snap = s
    if not out.image:
        raise CliError("rbd: group name was not specified")
    validate_snap(out.snap, 0, snap, SPEC_SNAP if snap == SNAP_REQUIRED else SPEC_NONE)
    return out


def _member_spec(ctx: Ctx) -> Spec:
    args = ctx.args
    out = Spec(
        pool=args.get("image-pool", ""),
        namespace=args.get("image-namespace", ""),
        image=args.get("image", ""),
    )
    if not out.image:
        text = args.next_positional()
        if text:
            p, n, name, _ = extract_spec(text, SPEC_NONE, want_snap=False)
            out.pool = p if p is not None else out.pool
            out.namespace = n if n is not None else out.namespace
            out.image = name
    if not out.image:
        raise CliError("rbd: image name was not specified")
    return out


def _group(ctx: Ctx, spec: Spec) -> tuple[Any, Any]:
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    return ioctx, ctx.rbd.Group(ioctx, spec.image)


_GROUP_OPTS = ("group", "group-pool", "group-namespace", "pool", "namespace")
_MEMBER_OPTS = ("image", "image-pool", "image-namespace")


@action("group create", options=_GROUP_OPTS, description="Create a group.")
def do_group_create(ctx: Ctx) -> int:
    spec = _group_spec(ctx)
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    try:
        ctx.rbd.RBD().group_create(ioctx, spec.image)
    except ctx.errors as e:
        raise ctx.failed("create error", e)
    return 0


@action("group remove", alias="group rm", options=_GROUP_OPTS, description="Delete a group.")
def do_group_remove(ctx: Ctx) -> int:
    spec = _group_spec(ctx, validation=SPEC_NONE)
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    try:
        ctx.rbd.RBD().group_remove(ioctx, spec.image)
    except ctx.errors as e:
        raise ctx.failed("remove error", e)
    return 0


@action(
    "group list", alias="group ls", groups=("pool-ns", "format"), description="List rbd groups."
)
def do_group_list(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args)
    f = get_formatter(ctx.args)
    ioctx = ctx.open_ioctx(pool, ns)
    try:
        names = sorted(ctx.rbd.RBD().group_list(ioctx))
    except ctx.errors as e:
        raise ctx.failed("list error", e)
    if f is not None:
        f.open_array_section("groups")
        for n in names:
            f.dump_string("name", n)
        f.close_section()
        f.flush(ctx.out)
    else:
        for n in names:
            ctx.out.write(n + "\n")
    return 0


@action(
    "group rename",
    options=(*_GROUP_OPTS, "dest-group", "dest-pool", "dest-namespace"),
    description="Rename a group within pool.",
)
def do_group_rename(ctx: Ctx) -> int:
    src = _group_spec(ctx, validation=SPEC_NONE)
    dst = get_names(
        ctx.args,
        mod=MOD_DEST,
        snap=SNAP_NONE,
        validation=SPEC_FULL,
        generic="group",
        use_snap=False,
    )
    if dst.pool and dst.pool != src.pool:
        raise CliError(
            "rbd: group rename across pools not supported\n"
            f"source pool: {src.pool}, dest pool: {dst.pool}"
        )
    ioctx = ctx.open_ioctx(src.pool, src.namespace)
    try:
        ctx.rbd.RBD().group_rename(ioctx, src.image, dst.image)
    except ctx.errors as e:
        raise ctx.failed("failed to rename group", e)
    return 0


@action(
    "group image add", options=(*_GROUP_OPTS, *_MEMBER_OPTS), description="Add an image to a group."
)
def do_group_image_add(ctx: Ctx) -> int:
    gspec = _group_spec(ctx, validation=SPEC_NONE)
    ispec = _member_spec(ctx)
    _, group = _group(ctx, gspec)
    image_ioctx = ctx.open_ioctx(ispec.pool, ispec.namespace)
    try:
        group.add_image(image_ioctx, ispec.image)
    except ctx.errors as e:
        raise ctx.failed("add image error", e)
    return 0


@action(
    "group image remove",
    alias="group image rm",
    options=(*_GROUP_OPTS, *_MEMBER_OPTS, "image-id"),
    description="Remove an image from a group.",
)
def do_group_image_remove(ctx: Ctx) -> int:
    gspec = _group_spec(ctx, validation=SPEC_NONE)
    ispec = _member_spec(ctx)
    _, group = _group(ctx, gspec)
    image_ioctx = ctx.open_ioctx(ispec.pool, ispec.namespace)
    try:
        group.remove_image(image_ioctx, ispec.image)
    except ctx.errors as e:
        raise ctx.failed("remove image error", e)
    return 0


@action(
    "group image list",
    alias="group image ls",
    options=(*_GROUP_OPTS, "format", "pretty-format"),
    description="List images in a group.",
)
def do_group_image_list(ctx: Ctx) -> int:
    gspec = _group_spec(ctx, validation=SPEC_NONE)
    f = get_formatter(ctx.args)
    _, group = _group(ctx, gspec)
    try:
        images = list(group.list_images())
    except ctx.errors as e:
        raise ctx.failed("error listing images in group", e)
    cluster = ctx.connect()
    if f is not None:
        f.open_array_section("images")
    for img in images:
        pool = img["pool"]
        if isinstance(pool, int):
            try:
                pool = cluster.pool_reverse_lookup(pool)
            except ctx.errors:
                pool = str(pool)
        state = img.get("state", 0)
        if f is not None:
            f.open_object_section("image")
            f.dump_string("image", img["name"])
            f.dump_string("pool", pool)
            f.dump_string("namespace", gspec.namespace)
            f.dump_int("state", state)
            f.close_section()
        else:
            ns = f"{gspec.namespace}/" if gspec.namespace else ""
            note = "" if state == 0 else f"({GROUP_IMAGE_STATES.get(state, 'unknown')})"
            ctx.out.write(f"{pool}/{ns}{img['name']} {note}\n")
    if f is not None:
        f.close_section()
        f.flush(ctx.out)
    return 0


@action(
    "group snap create",
    options=(*_GROUP_OPTS, "snap", "skip-quiesce", "ignore-quiesce-error"),
    description="Make a snapshot of a group.",
)
def do_group_snap_create(ctx: Ctx) -> int:
    spec = _group_spec(ctx, snap=SNAP_REQUIRED)
    _, group = _group(ctx, spec)
    flags = (
        1 if ctx.args.flag("skip-quiesce") else (2 if ctx.args.flag("ignore-quiesce-error") else 0)
    )
    try:
        group.create_snap(spec.snap, flags)
    except ctx.errors as e:
        raise ctx.failed("failed to create group snapshot", e)
    return 0


@action(
    "group snap remove",
    alias="group snap rm",
    options=(*_GROUP_OPTS, "snap"),
    description="Remove a snapshot from a group.",
)
def do_group_snap_remove(ctx: Ctx) -> int:
    spec = _group_spec(ctx, snap=SNAP_REQUIRED)
    _, group = _group(ctx, spec)
    try:
        group.remove_snap(spec.snap)
    except ctx.errors as e:
        raise ctx.failed("failed to remove group snapshot", e)
    return 0


@action(
    "group snap rename",
    options=(*_GROUP_OPTS, "snap", "dest-snap"),
    description="Rename group's snapshot.",
)
def do_group_snap_rename(ctx: Ctx) -> int:
    spec = _group_spec(ctx, snap=SNAP_REQUIRED)
    dest = ctx.args.get("dest-snap") or ctx.args.next_positional()
    if not dest:
        raise CliError("rbd: destination snapshot name was not specified")
    validate_snap(dest, 2, SNAP_REQUIRED, SPEC_SNAP)
    _, group = _group(ctx, spec)
    try:
        group.rename_snap(spec.snap, dest)
    except ctx.errors as e:
        raise ctx.failed("failed to rename group snapshot", e)
    return 0


@action(
    "group snap list",
    alias="group snap ls",
    options=(*_GROUP_OPTS, "format", "pretty-format"),
    description="List snapshots of a group.",
)
def do_group_snap_list(ctx: Ctx) -> int:
    spec = _group_spec(ctx, validation=SPEC_NONE)
    f = get_formatter(ctx.args)
    _, group = _group(ctx, spec)
    try:
        snaps = list(group.list_snaps())
    except ctx.errors as e:
        raise ctx.failed("failed to list group snapshots", e)
    if f is not None:
        f.open_array_section("group_snaps")
        for s in snaps:
            f.open_object_section("group_snap")
            f.dump_string("snapshot", s["name"])
            f.dump_string("state", GROUP_SNAP_STATES.get(s.get("state", 1), "unknown"))
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
    elif snaps:
        tbl = TextTable()
        tbl.define_column("NAME", "left", "left")
        tbl.define_column("STATUS", "left", "right")
        for s in snaps:
            tbl.add_row([s["name"], GROUP_SNAP_STATES.get(s.get("state", 1), "unknown")])
        ctx.out.write(str(tbl))
    return 0


@action(
    "group snap rollback",
    options=(*_GROUP_OPTS, "snap", "no-progress"),
    description="Rollback group to snapshot.",
)
def do_group_snap_rollback(ctx: Ctx) -> int:
    spec = _group_spec(ctx, snap=SNAP_REQUIRED)
    _, group = _group(ctx, spec)
    pc = ProgressContext("Rolling back to group snapshot", ctx.args.flag("no-progress"), ctx.err)
    try:
        group.rollback_to_snap(spec.snap)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("rollback group to snapshot failed", e)
    pc.finish()
    return 0
