"""`rbd` image actions: create, ls, info, rm, rename, resize, cp, deep cp, feature, sparsify.

Upstream: src/tools/rbd/action/{Create,List,Info,Remove,Rename,Resize,Copy,Feature,
Sparsify}.cc — same option sets, messages, plain layouts (TextTable, ``prettybyte``
sizes, ``ctime`` timestamps) and json/xml keys (checked against the reference
samples `rbd-info-*`, `rbd-ls-l.*`).
"""

from __future__ import annotations

import contextlib
import errno
from typing import Any

from pyceph.cli.rbd_args import (
    FEATURE_STRIPINGV2,
    FEATURES_DEFAULT,
    MOD_DEST,
    MOD_SOURCE,
    SNAP_NONE,
    SNAP_PERMITTED,
    SPEC_FULL,
    SPEC_NONE,
    CliError,
    ImageOptions,
    action,
    get_image_options,
    get_names,
    get_pool_and_namespace,
    get_size,
    parse_features,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import ctime_str, epoch_of, get_formatter
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.cli.rbd_render import ImageInfo, LsRow, ParentSpec, render_info, render_ls_long

__all__ = ["create_kwargs", "gather_info", "parent_spec"]

#: RBD_DEFAULT_SPARSE_SIZE (Utils.h)
DEFAULT_SPARSE_SIZE = 4096
#: snapshot namespace type of user snapshots (RBD_SNAP_NAMESPACE_TYPE_USER)
SNAP_NAMESPACE_USER = 0


def default_features(ctx: Ctx) -> int:
    """rbd_default_features as a bitmask (the option holds a number or names)."""
    raw = ctx.conf_get("rbd_default_features", str(FEATURES_DEFAULT)).strip()
    if raw.isdigit():
        return int(raw)
    try:
        return parse_features([raw])
    except ValueError:
        return FEATURES_DEFAULT


def create_kwargs(ctx: Ctx, o: ImageOptions) -> dict[str, Any]:
    """ImageOptions -> keyword arguments of `RBD.create`/`clone`/`copy`."""
    kw: dict[str, Any] = {}
    if o.order is not None:
        kw["order"] = o.order
    features = o.features
    if o.features_clear:
        features = (default_features(ctx) if features is None else features) & ~o.features_clear
    if features is not None:
        kw["features"] = features
    if o.stripe_unit is not None or o.stripe_count is not None:
        kw["stripe_unit"] = o.stripe_unit or 0
        kw["stripe_count"] = o.stripe_count or 0
        if not kw["stripe_unit"] and not kw["stripe_count"]:
            del kw["stripe_unit"], kw["stripe_count"]
    if o.data_pool:
        kw["data_pool"] = o.data_pool
    return kw


# ------------------------------------------------------------------ create
@action(
    "create",
    groups=("image", "create", "create-format", "progress"),
    options=("size", "thick-provision", "mirror-image-mode"),
    description="Create an empty image.",
)
def do_create(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_FULL)
    opts = get_image_options(ctx.args, True)
    for w in opts.warnings:
        ctx.say(w)
    size = get_size(ctx.args)
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    kw = create_kwargs(ctx, opts)
    if opts.format == 1:
        kw.update(format_1_kwargs(ctx))
    try:
        ctx.rbd.RBD().create(ioctx, spec.image, size, **kw)
    except ctx.errors as e:
        n = errno_of(e)
        if spec.namespace and n == errno.ENOENT:
            ctx.say(
                "rbd: namespace not found - it must be created with 'rbd namespace create' "
                "before creating an image."
            )
        raise ctx.fail(f"rbd: create error: {cpp_strerror(n)}", n)
    if ctx.args.flag("thick-provision"):
        _thick_provision(ctx, ioctx, spec.image, size)
    return 0


def format_1_kwargs(ctx: Ctx) -> dict[str, Any]:
    """An explicit `--image-format 1`: like upstream's utils::get_image_options, set
    rbd_default_format so the create asks for format 1 (which librbd 16.2 refuses,
    EINVAL, unless RBD_FORCE_ALLOW_V1 is set)."""
    ctx.connect().conf_set("rbd_default_format", "1")
    return {"old_format": True}


#: bytes written per request while thick-provisioning (Create.cc chunk)
_THICK_CHUNK = 1 << 22


def _thick_provision(ctx: Ctx, ioctx: Any, name: str, size: int) -> None:
    pc = ProgressContext("Thick provisioning", ctx.args.flag("no-progress"), ctx.err)
    image = ctx.open_image(ioctx, name)
    zeros = bytes(_THICK_CHUNK)
    try:
        off = 0
        while off < size:
            n = min(_THICK_CHUNK, size - off)
            # real zeros, so every object is allocated (write_zeroes would punch holes)
            image.write(zeros[:n], off)
            off += n
            pc.update_progress(off, size)
        image.flush()
    except ctx.errors as e:
        pc.fail()
        raise ctx.fail(
            f"rbd: image created but error encountered during thick provisioning: "
            f"{cpp_strerror(errno_of(e))}",
            e,
        )
    pc.finish()


# ------------------------------------------------------------------ ls
def parent_spec(ctx: Ctx, image: Any) -> ParentSpec | None:
    """The image's (or current snapshot's) parent, None when it has none."""
    try:
        p = image.get_parent_image_spec()
    except ctx.errors:
        return None
    if not p or not p.get("image_name"):
        return None
    return ParentSpec(
        pool=p["pool_name"],
        namespace=p.get("pool_namespace") or "",
        image=p["image_name"],
        snapshot=p["snap_name"],
        image_id=p.get("image_id", ""),
        trash=bool(p.get("trash", False)),
    )


@action(
    "list",
    alias="ls",
    groups=("pool-ns", "format"),
    options=("long",),
    description="List rbd images.",
)
def do_list(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args, validate_pool=False)
    f = get_formatter(ctx.args)
    ioctx = ctx.open_ioctx(pool, ns)
    rbd = ctx.rbd.RBD()
    try:
        images = list(rbd.list2(ioctx))  # format-1 images first, as librbd lists them
    except ctx.errors as e:
        raise ctx.failed("listing images failed", e)
    if not ctx.args.flag("long"):
        if f is not None:
            f.open_array_section("images")
            for img in images:
                f.dump_string("name", img["name"])
            f.close_section()
            f.flush(ctx.out)
        else:
            for img in images:
                ctx.out.write(img["name"] + "\n")
        return 0
    rows: list[LsRow] = []
    for entry in images:
        try:
            # a format-1 image has no id: it opens by name
            by = {"image_id": entry["id"]} if entry["id"] else {"name": entry["name"]}
            image = ctx.rbd.Image(ioctx, read_only=True, **by)
        except ctx.errors as e:
            if errno_of(e) == errno.ENOENT:
                continue
            raise ctx.failed(f"error opening {entry['name']}", e)
        try:
            rows.extend(_ls_rows(ctx, entry, image))
        finally:
            image.close()
    ctx.out.write(render_ls_long(rows, f))
    return 0


def _ls_rows(ctx: Ctx, entry: dict[str, Any], image: Any) -> list[LsRow]:
    name, image_id = entry["name"], entry["id"]
    fmt = 1 if image.old_format() else 2
    lock = ""
    try:
        lockers = image.list_lockers()
    except ctx.errors:
        lockers = []
    if isinstance(lockers, dict) and lockers.get("lockers"):
        lock = "exclusive" if lockers.get("exclusive") else "shared"
    rows = [LsRow(name, image_id, image.size(), fmt, parent_spec(ctx, image), lock=lock)]
    for snap in image.list_snaps():
        if snap.get("namespace", SNAP_NAMESPACE_USER) != SNAP_NAMESPACE_USER:
            continue
        try:
            image.set_snap(snap["name"])
            protected = image.is_protected_snap(snap["name"])
            parent = parent_spec(ctx, image)
        except ctx.errors:
            continue
        finally:
            with contextlib.suppress(*ctx.errors):
                image.set_snap(None)
        rows.append(
            LsRow(
                name,
                image_id,
                snap["size"],
                fmt,
                parent,
                snapshot=snap["name"],
                snapshot_id=snap["id"],
                protected=protected,
            )
        )
    return rows


# ------------------------------------------------------------------ info
@action(
    "info",
    groups=("snap", "format"),
    options=("image-id",),
    description="Show information about image size, striping, etc.",
)
def do_info(ctx: Ctx) -> int:
    spec = ctx.image_spec(snap=SNAP_PERMITTED, validation=SPEC_NONE, by_id=True)
    f = get_formatter(ctx.args)
    ioctx, image = ctx.open_spec(spec, read_only=True)
    try:
        info = gather_info(ctx, ioctx, image, spec.image, spec.snap)
    except ctx.errors as e:
        raise ctx.failed("info", e)
    ctx.out.write(render_info(info, f))
    return 0


def gather_info(ctx: Ctx, ioctx: Any, image: Any, name: str, snap: str) -> ImageInfo:
    """do_show_info's queries (Info.cc)."""
    st = image.stat()
    old = bool(image.old_format())
    info = ImageInfo(
        name=name,
        id="" if old else image.id(),
        size=st["size"],
        objects=st["num_objs"],
        order=st["order"],
        object_size=st["obj_size"],
        snapshot_count=len(list(image.list_snaps())),
        block_name_prefix=image.block_name_prefix(),
        format=1 if old else 2,
    )
    if old:  # Info.cc: a format-1 image has no features, group, timestamps nor parent
        if snap:
            info.protected = bool(image.is_protected_snap(snap))
        return info
    pool_id = image.data_pool_id()
    if pool_id != ioctx.get_pool_id() and pool_id >= 0:
        try:
            info.data_pool = ctx.connect().pool_reverse_lookup(pool_id)
        except ctx.errors:
            info.data_pool = f"<missing data pool {pool_id}>"
    info.features = image.features()
    info.op_features = image.op_features()
    info.flags = image.flags()
    try:
        group = image.group()
    except ctx.errors as e:
        if errno_of(e) != errno.ENOSYS:
            raise
        group = {}
    if group and group.get("name"):
        gpool = group["pool"]
        if isinstance(gpool, int):
            try:
                gpool = ctx.connect().pool_reverse_lookup(gpool)
            except ctx.errors:
                gpool = str(gpool)
        info.group = f"{gpool}/{group['name']}"
    for key, getter in (
        ("create_timestamp", image.create_timestamp),
        ("access_timestamp", image.access_timestamp),
        ("modify_timestamp", image.modify_timestamp),
    ):
        ts = getter()
        if ts and epoch_of(ts) != 0:
            info.timestamps.append((key, ctime_str(ts)))
    if snap:
        info.protected = bool(image.is_protected_snap(snap))
    info.snap_limit = image.get_snap_limit()
    info.parent = parent_spec(ctx, image)
    if info.parent is not None:
        info.overlap = image.overlap()
        if not info.parent.image_id:
            info.parent.image_id = image.parent_id()
        info.parent.trash = info.parent.trash or _in_trash(ctx, info.parent)
    if info.features & FEATURE_STRIPINGV2:
        info.stripe = (image.stripe_unit(), image.stripe_count())
    return info


def _in_trash(ctx: Ctx, parent: ParentSpec) -> bool:
    """Whether the parent image sits in its pool's trash (`trash_get` succeeds)."""
    try:
        ioctx = ctx.connect().open_ioctx(parent.pool)
    except ctx.errors:
        return False
    try:
        ioctx.set_namespace(parent.namespace)
        ctx.rbd.RBD().trash_get(ioctx, parent.image_id)
    except ctx.errors:
        return False
    finally:
        ioctx.close()
    return True


# ------------------------------------------------------------------ rm
@action(
    "remove",
    alias="rm",
    groups=("image", "progress"),
    options=("image-id",),
    description="Delete an image.",
)
def do_remove(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    ioctx = ctx.open_ioctx(spec.pool, spec.namespace)
    pc = ProgressContext("Removing image", ctx.args.flag("no-progress"), ctx.err)
    try:
        ctx.rbd.RBD().remove(ioctx, spec.image, on_progress=pc)
    except ctx.errors as e:
        pc.fail()
        n = errno_of(e)
        if n == errno.ENOTEMPTY:
            if _has_user_snaps(ctx, ioctx, spec.image):
                msg = (
                    "rbd: image has snapshots - these must be deleted with 'rbd snap purge' "
                    "before the image can be removed."
                )
            else:
                msg = (
                    "rbd: image has snapshots with linked clones - these must be deleted or "
                    "flattened before the image can be removed."
                )
        elif n == errno.EBUSY:
            msg = (
                "rbd: error: image still has watchers\n"
                "This means the image is still open or the client using it crashed. Try again "
                "after closing/unmapping it or waiting 30s for the crashed client to timeout."
            )
        elif n == errno.EMLINK:
            msg = "\nRemove the image from the group and try again."
        else:
            msg = f"rbd: delete error: {cpp_strerror(n)}"
        raise ctx.fail(msg, n)
    pc.finish()
    return 0


def _has_user_snaps(ctx: Ctx, ioctx: Any, name: str) -> bool:
    try:
        with ctx.rbd.Image(ioctx, name, read_only=True) as image:
            return any(
                s.get("namespace", SNAP_NAMESPACE_USER) == SNAP_NAMESPACE_USER
                for s in image.list_snaps()
            )
    except ctx.errors:
        return True


# ------------------------------------------------------------------ rename
@action("rename", alias="mv", groups=("image", "dest"), description="Rename image within pool.")
def do_rename(ctx: Ctx) -> int:
    src = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    dst = get_names(ctx.args, mod=MOD_DEST, snap=SNAP_NONE, validation=SPEC_FULL)
    if not dst.pool and not ctx.args.has("dest-namespace") and not dst.namespace:
        dst.namespace = src.namespace
    if dst.pool and dst.pool != src.pool:
        raise CliError(
            f"rbd: mv/rename across pools not supported\nsource pool: {src.pool} dest pool: {dst.pool}"
        )
    if dst.namespace != src.namespace:
        raise CliError(
            "rbd: mv/rename across namespaces not supported\n"
            f"source namespace: {src.namespace} dest namespace: {dst.namespace}"
        )
    ioctx = ctx.open_ioctx(src.pool, src.namespace)
    try:
        ctx.rbd.RBD().rename(ioctx, src.image, dst.image)
    except ctx.errors as e:
        raise ctx.failed("rename error", e)
    return 0


# ------------------------------------------------------------------ resize
@action(
    "resize",
    groups=("image", "progress"),
    options=("size", "allow-shrink", "image-id"),
    description="Resize (expand or shrink) image.",
)
def do_resize(ctx: Ctx) -> int:
    spec = ctx.image_spec(snap=SNAP_NONE, validation=SPEC_NONE, by_id=True)
    size = get_size(ctx.args)
    allow_shrink = ctx.args.flag("allow-shrink")
    _, image = ctx.open_spec(spec, read_only=False)
    current = image.size()
    if current == size:
        raise CliError("rbd: new size is equal to original size ")
    if current > size and not allow_shrink:
        raise CliError("rbd: shrinking an image is only allowed with the --allow-shrink flag")
    pc = ProgressContext("Resizing image", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.resize(size, allow_shrink=allow_shrink)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("resize error", e)
    pc.finish()
    return 0


# ------------------------------------------------------------------ copy
def _copy(ctx: Ctx, deep: bool) -> int:
    src = get_names(ctx.args, mod=MOD_SOURCE, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    dst = get_names(ctx.args, mod=MOD_DEST, snap=SNAP_NONE, validation=SPEC_FULL)
    opts = get_image_options(ctx.args, False)
    _, image = ctx.open_spec(src, read_only=True)
    dst_ioctx = ctx.open_ioctx(dst.pool, dst.namespace)
    kw = create_kwargs(ctx, opts)
    what = "Image deep copy" if deep else "Image copy"
    pc = ProgressContext(what, ctx.args.flag("no-progress"), ctx.err)
    try:
        if deep:
            image.deep_copy(dst_ioctx, dst.image, **kw)
        else:
            image.copy(dst_ioctx, dst.image, **kw)
        if opts.flatten:
            with ctx.rbd.Image(dst_ioctx, dst.image) as dest:
                if parent_spec(ctx, dest) is not None:
                    dest.flatten()
    except ctx.errors as e:
        pc.fail()
        label = "deep copy" if deep else "copy"
        raise ctx.failed(f"{label} failed", e)
    pc.finish()
    return 0


@action(
    "copy",
    alias="cp",
    groups=("snap", "dest", "create", "progress"),
    options=("sparse-size",),
    description="Copy src image to dest.",
)
def do_copy(ctx: Ctx) -> int:
    return _copy(ctx, deep=False)


@action(
    "deep copy",
    alias="deep cp",
    groups=("snap", "dest", "create", "progress"),
    options=("flatten",),
    description="Deep copy (including snapshots) src image to dest.",
)
def do_deep_copy(ctx: Ctx) -> int:
    return _copy(ctx, deep=True)


# ------------------------------------------------------------------ feature
def _feature(ctx: Ctx, enable: bool) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    names = ctx.args.positional[ctx.args.index :]
    if not names:
        raise CliError("rbd: at least one feature name must be specified")
    try:
        features = parse_features(names)
    except ValueError:
        raise CliError("rbd: the argument for option is invalid", 1, blank=True)
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.update_features(features, enable)
    except ctx.errors as e:
        raise ctx.failed("failed to update image features", e)
    return 0


@action(
    "feature enable",
    groups=("image",),
    options=("journal-splay-width", "journal-object-size", "journal-pool"),
    description="Enable the specified image feature.",
)
def do_feature_enable(ctx: Ctx) -> int:
    return _feature(ctx, True)


@action("feature disable", groups=("image",), description="Disable the specified image feature.")
def do_feature_disable(ctx: Ctx) -> int:
    return _feature(ctx, False)


# ------------------------------------------------------------------ sparsify
@action(
    "sparsify",
    groups=("image", "progress"),
    options=("sparse-size",),
    description="Reclaim space for zeroed image extents.",
)
def do_sparsify(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    sparse = ctx.args.get("sparse-size", DEFAULT_SPARSE_SIZE)
    _, image = ctx.open_spec(spec, read_only=False)
    pc = ProgressContext("Image sparsify", ctx.args.flag("no-progress"), ctx.err)
    try:
        image.sparsify(sparse)
    except ctx.errors as e:
        pc.fail()
        raise ctx.failed("sparsify error", e)
    pc.finish()
    return 0
