"""`rbd clone`, `rbd flatten`, `rbd children`: copy-on-write clones and their parents.

Upstream: src/tools/rbd/action/{Clone,Flatten,Children}.cc — source snapshot spec
and destination image spec, ``Image flatten`` progress, `child` json/xml objects and
``pool/[ns/]image [(trash id)]`` plain lines.
"""

from __future__ import annotations

from pyceph.cli.rbd_args import (
    MOD_DEST,
    MOD_SOURCE,
    SNAP_NONE,
    SNAP_PERMITTED,
    SNAP_REQUIRED,
    SPEC_FULL,
    SPEC_NONE,
    CliError,
    action,
    get_image_options,
    get_names,
)
from pyceph.cli.rbd_context import Ctx
from pyceph.cli.rbd_format import get_formatter
from pyceph.cli.rbd_image import create_kwargs
from pyceph.cli.rbd_progress import ProgressContext

__all__: list[str] = []


@action(
    "clone",
    groups=("snap", "dest", "create"),
    description="Clone a snapshot into a CoW child image.",
)
def do_clone(ctx: Ctx) -> int:
    src = get_names(ctx.args, mod=MOD_SOURCE, snap=SNAP_REQUIRED, validation=SPEC_NONE)
    dst = get_names(ctx.args, mod=MOD_DEST, snap=SNAP_NONE, validation=SPEC_FULL)
    opts = get_image_options(ctx.args, False)
    p_ioctx = ctx.open_ioctx(src.pool, src.namespace)
    c_ioctx = ctx.open_ioctx(dst.pool, dst.namespace)
    kw = create_kwargs(ctx, opts)
    try:
        ctx.rbd.RBD().clone(p_ioctx, src.image, src.snap, c_ioctx, dst.image, **kw)
    except ctx.errors as e:
        raise ctx.failed("clone error", e)
    return 0


@action(
    "flatten",
    groups=("image", "progress"),
    options=("image-id",),
    description="Fill clone with parent data (make it independent).",
)
def do_flatten(ctx: Ctx) -> int:
    spec = ctx.image_spec(snap=SNAP_NONE, validation=SPEC_NONE, by_id=True)
    _, image = ctx.open_spec(spec, read_only=False)
    pc = ProgressContext("Image flatten", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.flatten(on_progress=pc)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("flatten error", e)
    pc.finish()
    return 0


@action(
    "children",
    groups=("snap", "format"),
    options=("image-id", "snap-id", "all", "descendants"),
    description="Display children of an image or its snapshot.",
)
def do_children(ctx: Ctx) -> int:
    spec = ctx.image_spec(snap=SNAP_PERMITTED, validation=SPEC_NONE, by_id=True)
    if ctx.args.has("snap-id") and spec.snap:
        raise CliError("rbd: trying to access snapshot using both name and id.")
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    show_all = ctx.args.flag("all")
    try:
        if ctx.args.has("snap-id"):
            image.set_snap_by_id(ctx.args.get("snap-id"))
        if ctx.args.flag("descendants"):
            children = list(image.list_descendants())
        else:
            children = list(image.list_children2())
    except ctx.errors as e:
        raise ctx.failed("listing children failed", e)
    if f is not None:
        f.open_array_section("children")
    for c in children:
        trash = bool(c.get("trash", False))
        if not show_all and trash:
            continue
        if f is not None:
            f.open_object_section("child")
            f.dump_string("pool", c["pool"])
            f.dump_string("pool_namespace", c.get("pool_namespace", ""))
            f.dump_string("image", c["image"])
            if show_all:
                f.dump_string("id", c.get("id", ""))
                f.dump_bool("trash", trash)
            f.close_section()
        else:
            ns = c.get("pool_namespace", "")
            line = f"{c['pool']}/" + (f"{ns}/" if ns else "") + c["image"]
            if trash:
                line += f" (trash {c.get('id', '')})"
            ctx.out.write(line + "\n")
    if f is not None:
        f.close_section()
        f.flush(ctx.out)
    return 0
