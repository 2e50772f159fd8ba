"""cls ``rbd``: snapshots and clone links (upstream src/cls/rbd/cls_rbd.cc, 16.2).

Snapshot records live in the header's ``snapshot_<id:016x>`` keys (`ClsRbdSnap`, v8), the
newest id in ``snap_seq``, the limit in ``snap_limit``. A clone's link to its parent is the
header's ``parent`` key (`ClsRbdParent`, v2; a snapshot of a clone keeps only its overlap);
clone-v2 children are ``snap_children_<id:016x>`` keys of the parent's header (a set of
`ChildImageSpec`) counted in the snapshot's ``child_count``; clone-v1 children are keys of
the pool's ``rbd_children`` object: the encoded (pool u64, image id, snap id) of the parent
mapping to the set of child ids.
"""

from __future__ import annotations

import errno
import uuid

from pyceph.cls.context import RD, WR, ClsError, MethodContext
from pyceph.cls.rbd import (
    CLASS,
    RBD_MAX_KEYS_READ,
    RBD_SNAP_KEY_PREFIX,
    check_exists,
    decode_input,
    enc,
    has_feature,
    iter_snapshots,
    now_utime,
    read_key,
    read_key_or,
    read_parent,
    read_snap,
    remove_key,
    require_feature,
    set_op_features,
    u64_bytes,
    write_key,
    write_parent,
    write_snap,
)
from pyceph.cls.rbd_types import (
    CEPH_MAXSNAP,
    CEPH_NOSNAP,
    RBD_FEATURE_DEEP_FLATTEN,
    RBD_FEATURE_LAYERING,
    RBD_OPERATION_FEATURE_CLONE_CHILD,
    RBD_OPERATION_FEATURE_CLONE_PARENT,
    RBD_OPERATION_FEATURE_SNAP_TRASH,
    RBD_PROTECTION_STATUS_LAST,
    RBD_PROTECTION_STATUS_UNPROTECTED,
    SNAPSHOT_NAMESPACE_TYPE_TRASH,
    SNAPSHOT_NAMESPACE_TYPE_USER,
    UINT64_MAX,
    ChildImageSpec,
    ClsRbdParent,
    ClsRbdSnap,
    ParentImageSpec,
    SnapshotInfo,
    TrashSnapshotNamespace,
    UnknownSnapshotNamespace,
    UserSnapshotNamespace,
    at_end,
    dec_bool,
    decode_child_specs,
    decode_snapshot_namespace,
    enc_opt_u64,
    encode_child_specs,
    snap_children_key,
    snap_key,
)
from pyceph.cls.registry import MethodResult, register
from pyceph.common.denc import Decoder, Encoder

#: sizeof(struct rbd_obj_header_ondisk): the fixed part of a v1 header.
V1_HEADER_SIZE = 112
_V1_SNAP_COUNT_OFFSET = 96


# -- snap context and records --------------------------------------------------------------------
def _snap_ids(ctx: MethodContext) -> list[int]:
    ids: list[int] = []
    last = RBD_SNAP_KEY_PREFIX
    more = True
    while more:
        keys, more = ctx.map_get_keys(last, RBD_MAX_KEYS_READ)
        for k in keys:
            if not k.startswith(RBD_SNAP_KEY_PREFIX):
                more = False
                break
            try:
                ids.append(int(k[len(RBD_SNAP_KEY_PREFIX) :], 16))
            except ValueError:  # a stored key that is not ours: corrupt metadata
                raise ClsError(errno.EIO, f"bad snapshot key {k!r}") from None
        if not keys:
            break
        last = keys[-1]
    return ids


@register(CLASS, "get_snapcontext", RD)
def get_snapcontext(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: snap_seq u64, snapshot ids (vector<u64>) newest first."""
    ids = _snap_ids(ctx)
    seq = read_key(ctx, "snap_seq", lambda d: d.u64())
    ids.reverse()
    return enc(lambda e: (e.u64(seq), e.seq(ids, e.u64)))


def _snap_arg(indata: bytes) -> int:
    return decode_input(indata, lambda d: d.u64())


@register(CLASS, "get_snapshot_name", RD)
def get_snapshot_name(ctx: MethodContext, indata: bytes) -> MethodResult:
    snap_id = _snap_arg(indata)
    if snap_id == CEPH_NOSNAP:
        return -errno.EINVAL
    name = read_snap(ctx, snap_id).name
    return enc(lambda e: e.string(name))


@register(CLASS, "get_snapshot_timestamp", RD)
def get_snapshot_timestamp(ctx: MethodContext, indata: bytes) -> MethodResult:
    snap_id = _snap_arg(indata)
    if snap_id == CEPH_NOSNAP:
        return -errno.EINVAL
    ts = read_snap(ctx, snap_id).timestamp
    return enc(lambda e: e.utime(ts))


@register(CLASS, "snapshot_get", RD)
def snapshot_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id. Out: cls::rbd::SnapshotInfo."""
    snap_id = _snap_arg(indata)
    if snap_id == CEPH_NOSNAP:
        return -errno.EINVAL
    s = read_snap(ctx, snap_id)
    info = SnapshotInfo(
        s.id, s.snapshot_namespace, s.name, s.image_size, s.timestamp, s.child_count
    )
    return enc(info.encode)


@register(CLASS, "snapshot_add", RD | WR)
def snapshot_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: name, snap_id u64, [namespace]. ESTALE below snap_seq, EEXIST for a used name
    (in the same namespace) or id, EDQUOT at the limit."""

    def dec(d: Decoder) -> ClsRbdSnap:
        s = ClsRbdSnap(name=d.string())
        s.id = d.u64()
        if not at_end(d):
            s.snapshot_namespace = decode_snapshot_namespace(d)
        return s

    snap = decode_input(indata, dec)
    if isinstance(snap.snapshot_namespace, UnknownSnapshotNamespace):
        return -errno.EINVAL
    if snap.id > CEPH_MAXSNAP:
        return -errno.EINVAL
    cur_seq = read_key(ctx, "snap_seq", lambda d: d.u64())
    if snap.id < cur_seq:
        return -errno.ESTALE
    snap.image_size = read_key(ctx, "size", lambda d: d.u64())
    snap.flags = read_key_or(ctx, "flags", lambda d: d.u64(), 0)
    limit = read_key_or(ctx, "snap_limit", lambda d: d.u64(), UINT64_MAX)
    snap.timestamp = now_utime(ctx)
    for total, old in enumerate(iter_snapshots(ctx), start=1):
        if total >= limit:
            return -errno.EDQUOT
        same_name = snap.name == old.name and snap.snapshot_namespace == old.snapshot_namespace
        if same_name or snap.id == old.id:
            return -errno.EEXIST
    parent = read_parent(ctx)
    if parent is not None:
        snap.parent = parent
    if snap.snapshot_namespace.type == SNAPSHOT_NAMESPACE_TYPE_TRASH:
        set_op_features(ctx, RBD_OPERATION_FEATURE_SNAP_TRASH, RBD_OPERATION_FEATURE_SNAP_TRASH)
    ctx.map_set_val("snap_seq", u64_bytes(snap.id))
    write_snap(ctx, snap)
    return None


@register(CLASS, "snapshot_rename", RD | WR)
def snapshot_rename(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: src_snap_id u64, dst_name. Only user snapshots (EINVAL); EEXIST for a used name."""
    src_id, dst = decode_input(indata, lambda d: (d.u64(), d.string()))
    for s in iter_snapshots(ctx):
        if s.snapshot_namespace.type == SNAPSHOT_NAMESPACE_TYPE_USER and s.name == dst:
            return -errno.EEXIST
    snap = read_snap(ctx, src_id)
    if snap.snapshot_namespace.type != SNAPSHOT_NAMESPACE_TYPE_USER:
        return -errno.EINVAL
    snap.name = dst
    write_snap(ctx, snap)
    return None


@register(CLASS, "snapshot_remove", RD | WR)
def snapshot_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id. EBUSY while protected or with clone-v2 children."""
    snap_id = _snap_arg(indata)
    snap = read_snap(ctx, snap_id)
    if snap.protection_status != RBD_PROTECTION_STATUS_UNPROTECTED:
        return -errno.EBUSY
    if snap.child_count > 0:
        return -errno.EBUSY
    remove_key(ctx, snap_key(snap_id))
    has_child_snaps = has_trash_snaps = False
    for s in iter_snapshots(ctx):
        if s.id == snap_id:
            continue
        if s.parent.pool_id != -1 or s.parent_overlap is not None:
            has_child_snaps = True
        if s.snapshot_namespace.type == SNAPSHOT_NAMESPACE_TYPE_TRASH:
            has_trash_snaps = True
    parent = read_parent(ctx)
    has_parent = parent is not None and parent.exists()
    is_head_child = has_parent and parent is not None and parent.head_overlap is not None
    if has_parent and not is_head_child and not has_child_snaps:
        remove_key(ctx, "parent")  # the parent spec no snapshot needs any more
    mask = 0
    if not has_child_snaps and not is_head_child:
        mask |= RBD_OPERATION_FEATURE_CLONE_CHILD
    if not has_trash_snaps:
        mask |= RBD_OPERATION_FEATURE_SNAP_TRASH
    if mask:
        set_op_features(ctx, 0, mask)
    return None


@register(CLASS, "snapshot_trash_add", RD | WR)
def snapshot_trash_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id. The snapshot moves to the trash namespace under a random UUID name."""
    snap_id = _snap_arg(indata)
    snap = read_snap(ctx, snap_id)
    if snap.protection_status != RBD_PROTECTION_STATUS_UNPROTECTED:
        return -errno.EBUSY
    snap_type = snap.snapshot_namespace.type
    if snap_type == SNAPSHOT_NAMESPACE_TYPE_TRASH:
        return -errno.EEXIST
    set_op_features(ctx, RBD_OPERATION_FEATURE_SNAP_TRASH, RBD_OPERATION_FEATURE_SNAP_TRASH)
    snap.snapshot_namespace = TrashSnapshotNamespace(snap.name, snap_type)
    snap.name = str(uuid.UUID(bytes=ctx.random_bytes(16), version=4))
    write_snap(ctx, snap)
    return None


# -- protection and limits ----------------------------------------------------------------------
@register(CLASS, "get_protection_status", RD)
def get_protection_status(ctx: MethodContext, indata: bytes) -> MethodResult:
    snap_id = _snap_arg(indata)
    check_exists(ctx)
    if snap_id == CEPH_NOSNAP:
        return -errno.EINVAL
    snap = read_snap(ctx, snap_id)
    if snap.protection_status >= RBD_PROTECTION_STATUS_LAST:
        return -errno.EIO
    return enc(lambda e: e.u8(snap.protection_status))


@register(CLASS, "set_protection_status", RD | WR)
def set_protection_status(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id u64, status u8. ENOEXEC without layering."""
    snap_id, status = decode_input(indata, lambda d: (d.u64(), d.u8()))
    check_exists(ctx)
    require_feature(ctx, RBD_FEATURE_LAYERING)
    if snap_id == CEPH_NOSNAP:
        return -errno.EINVAL
    if status >= RBD_PROTECTION_STATUS_LAST:
        return -errno.EINVAL
    snap = read_snap(ctx, snap_id)
    snap.protection_status = status
    write_snap(ctx, snap)
    return None


@register(CLASS, "snapshot_get_limit", RD)
def snapshot_get_limit(ctx: MethodContext, indata: bytes) -> MethodResult:
    return u64_bytes(read_key_or(ctx, "snap_limit", lambda d: d.u64(), UINT64_MAX))


@register(CLASS, "snapshot_set_limit", RD | WR)
def snapshot_set_limit(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: limit u64 (UINT64_MAX removes it). ERANGE below the number of snapshots."""
    limit = decode_input(indata, lambda d: d.u64())
    if limit == UINT64_MAX:
        ctx.map_remove_key("snap_limit")
        return None
    head = ctx.read(0, V1_HEADER_SIZE)
    if len(head) >= V1_HEADER_SIZE:  # a v1 header (snap_read_header succeeded)
        count = int.from_bytes(head[_V1_SNAP_COUNT_OFFSET : _V1_SNAP_COUNT_OFFSET + 4], "little")
    else:
        count = len(_snap_ids(ctx))
    if limit < count:
        return -errno.ERANGE
    ctx.map_set_val("snap_limit", u64_bytes(limit))
    return None


# -- the parent link --------------------------------------------------------------------------------
def parent_attach_impl(ctx: MethodContext, parent: ClsRbdParent, reattach: bool) -> None:
    """image::parent::attach."""
    check_exists(ctx)
    require_feature(ctx, RBD_FEATURE_LAYERING)
    if not parent.exists() or not parent.head_overlap:
        raise ClsError(errno.EINVAL, "invalid parent")
    on_disk = read_parent(ctx)
    if (
        on_disk is not None
        and (on_disk.head_overlap is not None or not on_disk.spec_equal(parent))
        and not reattach
    ):
        raise ClsError(errno.EEXIST, "a parent is attached already")
    size = read_key(ctx, "size", lambda d: d.u64())
    parent.head_overlap = min(parent.head_overlap, size)
    write_parent(ctx, parent)


def parent_detach_impl(ctx: MethodContext, legacy_api: bool) -> None:
    """image::parent::detach."""
    check_exists(ctx)
    try:
        features = read_key(ctx, "features", lambda d: d.u64())
    except ClsError as e:
        if e.errno == errno.ENOENT:
            raise ClsError(errno.ENOEXEC, "no layering") from None
        raise
    if not features & RBD_FEATURE_LAYERING:
        raise ClsError(errno.ENOEXEC, "no layering")
    on_disk = read_key(ctx, "parent", ClsRbdParent.decode)
    if legacy_api and on_disk.pool_namespace:
        raise ClsError(errno.EXDEV, "parent in a namespace")
    if on_disk.head_overlap is None:
        raise ClsError(errno.ENOENT, "no parent on the head")
    has_child_snaps = False
    for s in list(iter_snapshots(ctx)):
        if s.parent.pool_id != -1 or s.parent_overlap is not None:
            if features & RBD_FEATURE_DEEP_FLATTEN:
                s.parent = ClsRbdParent()
                s.parent_overlap = None
                write_snap(ctx, s)
            else:
                has_child_snaps = True
                break
    if has_child_snaps:
        on_disk.head_overlap = None  # snapshots keep the spec
        write_parent(ctx, on_disk)
    else:
        remove_key(ctx, "parent")
        set_op_features(ctx, 0, RBD_OPERATION_FEATURE_CLONE_CHILD)


@register(CLASS, "get_parent", RD)
def get_parent(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Legacy. In: snap_id. Out: pool i64, image_id, snap_id u64, overlap u64."""
    snap_id = _snap_arg(indata)
    check_exists(ctx)
    parent = ClsRbdParent()
    if has_feature(ctx, RBD_FEATURE_LAYERING):
        parent = read_parent(ctx) or ClsRbdParent()
        if parent.pool_namespace:
            return -errno.EXDEV
        if snap_id != CEPH_NOSNAP:
            snap = read_key_or(ctx, snap_key(snap_id), ClsRbdSnap.decode, ClsRbdSnap())
            if snap.parent.exists():
                parent = snap.parent
            elif snap.parent_overlap is not None:
                if not parent.exists():
                    return -errno.EINVAL
                parent.head_overlap = snap.parent_overlap
            else:
                parent = ClsRbdParent()
    p = parent
    return enc(
        lambda e: (
            e.i64(p.pool_id),
            e.string(p.image_id),
            e.u64(p.snap_id),
            e.u64(p.head_overlap or 0),
        )  # fmt: skip
    )


@register(CLASS, "set_parent", RD | WR)
def set_parent(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Legacy parent_attach. In: pool i64, image_id, snap_id u64, overlap u64."""

    def dec(d: Decoder) -> ClsRbdParent:
        pool, image_id, snap_id = d.i64(), d.string(), d.u64()
        return ClsRbdParent(pool, "", image_id, snap_id, d.u64())

    parent_attach_impl(ctx, decode_input(indata, dec), False)
    return None


@register(CLASS, "remove_parent", RD | WR)
def remove_parent(ctx: MethodContext, indata: bytes) -> MethodResult:
    parent_detach_impl(ctx, True)
    return None


@register(CLASS, "parent_get", RD)
def parent_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: cls::rbd::ParentImageSpec (pool -1 without a parent)."""
    check_exists(ctx)
    parent = ClsRbdParent()
    if has_feature(ctx, RBD_FEATURE_LAYERING):
        on_disk = read_parent(ctx)
        if on_disk is not None:
            parent = on_disk
        else:  # a denormalized parent in an old snapshot record
            for s in iter_snapshots(ctx):
                if s.parent.exists():
                    parent = s.parent
    spec = ParentImageSpec(parent.pool_id, parent.pool_namespace, parent.image_id, parent.snap_id)
    return enc(spec.encode)


@register(CLASS, "parent_overlap_get", RD)
def parent_overlap_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id. Out: optional<u64> overlap."""
    snap_id = _snap_arg(indata)
    overlap: int | None = None
    if has_feature(ctx, RBD_FEATURE_LAYERING):
        if snap_id == CEPH_NOSNAP:
            parent = read_parent(ctx)
            if parent is not None:
                overlap = parent.head_overlap
        else:
            snap = read_snap(ctx, snap_id)
            if snap.parent_overlap is not None:
                overlap = snap.parent_overlap
            elif snap.parent.exists():
                overlap = snap.parent.head_overlap
    return enc(lambda e: enc_opt_u64(e, overlap))


@register(CLASS, "parent_attach", RD | WR)
def parent_attach(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: ParentImageSpec, overlap u64, [reattach bool]."""

    def dec(d: Decoder) -> tuple[ParentImageSpec, int, bool]:
        spec, overlap = ParentImageSpec.decode(d), d.u64()
        return spec, overlap, (dec_bool(d) if not at_end(d) else False)

    spec, overlap, reattach = decode_input(indata, dec)
    parent = ClsRbdParent(spec.pool_id, spec.pool_namespace, spec.image_id, spec.snap_id, overlap)
    parent_attach_impl(ctx, parent, reattach)
    return None


@register(CLASS, "parent_detach", RD | WR)
def parent_detach(ctx: MethodContext, indata: bytes) -> MethodResult:
    parent_detach_impl(ctx, False)
    return None


# -- rbd_children (clone v1) ---------------------------------------------------------------------
def _children_key(pool_id: int, image_id: str, snap_id: int) -> str:
    """parent_key: the raw encoding of (pool u64, image id, snap id) as the omap key."""
    e = Encoder()
    e.u64(pool_id & UINT64_MAX)
    e.string(image_id)
    e.u64(snap_id)
    return bytes(e).decode("utf-8", "surrogateescape")


def _parent_and_child(indata: bytes, with_child: bool) -> tuple[str, str]:
    def dec(d: Decoder) -> tuple[str, str]:
        pool, image_id, snap_id = d.u64(), d.string(), d.u64()
        child = d.string() if with_child else ""
        return _children_key(pool, image_id, snap_id), child

    return decode_input(indata, dec)


def _read_children(ctx: MethodContext, key: str) -> set[str]:
    return set(read_key(ctx, key, lambda d: d.seq(d.string)))


def _write_children(ctx: MethodContext, key: str, children: set[str]) -> None:
    items = sorted(children, key=str.encode)
    write_key(ctx, key, lambda e: e.seq(items, e.string))


@register(CLASS, "add_child", RD | WR)
def add_child(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: parent pool u64, image_id, snap_id, child id. EEXIST when listed."""
    key, child = _parent_and_child(indata, True)
    try:
        children = _read_children(ctx, key)
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise
        children = set()
    if child in children:
        return -errno.EEXIST
    children.add(child)
    _write_children(ctx, key, children)
    return None


@register(CLASS, "remove_child", RD | WR)
def remove_child(ctx: MethodContext, indata: bytes) -> MethodResult:
    """ENOENT when the parent has no such child; the key goes with its last child."""
    key, child = _parent_and_child(indata, True)
    children = _read_children(ctx, key)
    if child not in children:
        return -errno.ENOENT
    children.discard(child)
    if children:
        _write_children(ctx, key, children)
    else:
        ctx.map_remove_key(key)
    return None


@register(CLASS, "get_children", RD)
def get_children(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: set<string> of child ids (ENOENT when none)."""
    key, _ = _parent_and_child(indata, False)
    items = sorted(_read_children(ctx, key), key=str.encode)
    return enc(lambda e: e.seq(items, e.string))


# -- snapshot children (clone v2) -----------------------------------------------------------------
def _snap_and_child(indata: bytes) -> tuple[int, ChildImageSpec]:
    return decode_input(indata, lambda d: (d.u64(), ChildImageSpec.decode(d)))


def _read_snap_children(ctx: MethodContext, snap_id: int) -> set[ChildImageSpec]:
    return set(read_key_or(ctx, snap_children_key(snap_id), decode_child_specs, []))


@register(CLASS, "child_attach", RD | WR)
def child_attach(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id, ChildImageSpec. ENOENT for a trashed snapshot, EEXIST when attached."""
    snap_id, child = _snap_and_child(indata)
    snap = read_snap(ctx, snap_id)
    if snap.snapshot_namespace.type == SNAPSHOT_NAMESPACE_TYPE_TRASH:
        return -errno.ENOENT
    children = _read_snap_children(ctx, snap_id)
    if child in children:
        return -errno.EEXIST
    children.add(child)
    write_key(ctx, snap_children_key(snap_id), lambda e: encode_child_specs(e, children))
    snap.child_count += 1
    write_snap(ctx, snap)
    set_op_features(ctx, RBD_OPERATION_FEATURE_CLONE_PARENT, RBD_OPERATION_FEATURE_CLONE_PARENT)
    return None


@register(CLASS, "child_detach", RD | WR)
def child_detach(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id, ChildImageSpec. ENOENT when not attached, EINVAL when the count and the
    children disagree."""
    snap_id, child = _snap_and_child(indata)
    snap = read_snap(ctx, snap_id)
    children = _read_snap_children(ctx, snap_id)
    if snap.child_count != len(children):
        return -errno.EINVAL
    if child not in children:
        return -errno.ENOENT
    children.discard(child)
    if children:
        write_key(ctx, snap_children_key(snap_id), lambda e: encode_child_specs(e, children))
    else:
        remove_key(ctx, snap_children_key(snap_id))
    snap.child_count -= 1
    write_snap(ctx, snap)
    if snap.child_count == 0:
        in_use = any(s.id != snap_id and s.child_count > 0 for s in iter_snapshots(ctx))
        if not in_use:
            set_op_features(ctx, 0, RBD_OPERATION_FEATURE_CLONE_PARENT)
    return None


@register(CLASS, "children_list", RD)
def children_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id. Out: ChildImageSpecs (ENOENT when none)."""
    snap_id = _snap_arg(indata)
    read_snap(ctx, snap_id)
    children = read_key(ctx, snap_children_key(snap_id), decode_child_specs)
    return enc(lambda e: encode_child_specs(e, children))


__all__ = ["UserSnapshotNamespace", "parent_attach_impl", "parent_detach_impl"]
