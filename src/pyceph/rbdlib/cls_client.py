"""The client side of the ``rbd`` object class: upstream's ``librbd::cls_client``, async.

Every function is named as upstream's (src/cls/rbd/cls_rbd_client.h, Ceph 16.2), takes our
async `IoCtx` and the object name first and upstream's arguments after, in upstream's
order, encodes them in upstream's binary encoding, runs the method on the OSD and decodes
the answer. A failure raises `pyceph.common.errors.CephError` with the OSD's errno; an
answer that does not decode raises EBADMSG, as upstream's ``*_finish`` helpers return.

Write methods also have an ``<name>_op(op, ...)`` builder that appends the call to an
`ObjectOp`, so a caller can combine it with other sub-ops in one atomic op (upstream's
``ObjectWriteOperation`` overloads), e.g. ``create`` + ``set_id_op`` on an id object, or
``assert_snapc_seq_op`` before a data write. The header reads an image open needs have
upstream's ``<name>_start(op, ...) -> index`` / ``<name>_finish(data)`` pairs (get_size,
get_features, get_object_prefix, get_data_pool, get_snapcontext, get_flags,
op_features_get, get_stripe_unit_count, parent_get, parent_overlap_get, metadata_list,
snapshot_get) so several of them share one round trip.

Structs are the dataclasses of `pyceph.cls.rbd_types` (shared with the OSD side):
`SnapshotInfo`, `ParentImageSpec`, `ChildImageSpec`, `TrashImageSpec`, `MigrationSpec`,
`GroupSpec`, `GroupImageSpec`, `GroupImageStatus`, `GroupSnapshot` and the snapshot
namespaces; `pyceph.cls.rbd_mirror_types` (`MirrorImage`, `MirrorPeer`, statuses) and
`pyceph.cls.rbd_bitvector.BitVector2` (object maps). Timestamps are utime_t tuples
``(sec, nsec)``.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from pyceph.client.ioctx import IoCtx, SnapContext
from pyceph.client.op import ObjectOp
from pyceph.cls.rbd_bitvector import BitVector2
from pyceph.cls.rbd_mirror_types import (
    MirrorImage,
    MirrorImageMap,
    MirrorImageSiteStatus,
    MirrorImageStatus,
    MirrorPeer,
)
from pyceph.cls.rbd_types import (
    ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ,
    CEPH_NOSNAP,
    DIRECTORY_STATE_READY,
    MIRROR_PEER_DIRECTION_TX,
    ChildImageSpec,
    GroupImageSpec,
    GroupImageStatus,
    GroupSnapshot,
    GroupSpec,
    MigrationSpec,
    ParentImageSpec,
    SnapshotInfo,
    SnapshotNamespace,
    TrashImageSpec,
    UserSnapshotNamespace,
    dec_map,
    dec_opt_u64,
    decode_child_specs,
    enc_bool,
    encode_snapshot_namespace,
)
from pyceph.common.denc import Decoder, DencError, Encoder, Utime
from pyceph.common.errors import CephError

CLASS = "rbd"

T = TypeVar("T")

__all__ = [
    "get_size_start",
    "get_size_finish",
    "get_features_start",
    "get_features_finish",
    "get_object_prefix_start",
    "get_object_prefix_finish",
    "get_data_pool_start",
    "get_data_pool_finish",
    "get_snapcontext_start",
    "get_snapcontext_finish",
    "get_flags_start",
    "get_flags_finish",
    "op_features_get_start",
    "op_features_get_finish",
    "get_stripe_unit_count_start",
    "get_stripe_unit_count_finish",
    "parent_get_start",
    "parent_get_finish",
    "parent_overlap_get_start",
    "parent_overlap_get_finish",
    "metadata_list_start",
    "metadata_list_finish",
    "snapshot_get_start",
    "snapshot_get_finish",
    "mirror_peer_list",
    "mirror_peer_add",
    "mirror_peer_remove",
    "mirror_peer_set_client",
    "mirror_peer_set_cluster",
    "mirror_peer_set_direction",
    "mirror_peer_ping",
    "mirror_image_status_set",
    "mirror_image_status_remove",
    "mirror_image_status_get",
    "mirror_image_status_list",
    "mirror_image_status_get_summary",
    "mirror_image_status_remove_down",
    "mirror_image_instance_get",
    "mirror_image_instance_list",
    "mirror_instances_list",
    "mirror_instances_add",
    "mirror_instances_remove",
    "mirror_image_map_list",
    "mirror_image_map_update",
    "mirror_image_map_remove",
    "mirror_image_snapshot_unlink_peer",
    "mirror_image_snapshot_set_copy_progress",
    "CLASS",
    "add_child",
    "assert_snapc_seq",
    "child_attach",
    "child_detach",
    "children_list",
    "copyup",
    "create_image",
    "dir_add_image",
    "dir_get_id",
    "dir_get_name",
    "dir_list",
    "dir_remove_image",
    "dir_rename_image",
    "dir_state_assert",
    "dir_state_set",
    "get_access_timestamp",
    "get_all_features",
    "get_children",
    "get_create_timestamp",
    "get_data_pool",
    "get_features",
    "get_flags",
    "get_id",
    "get_modify_timestamp",
    "get_object_prefix",
    "get_parent",
    "get_protection_status",
    "get_size",
    "get_snapcontext",
    "get_snapshot_name",
    "get_snapshot_timestamp",
    "get_stripe_unit_count",
    "group_dir_add",
    "group_dir_list",
    "group_dir_remove",
    "group_dir_rename",
    "group_image_list",
    "group_image_remove",
    "group_image_set",
    "group_snap_get_by_id",
    "group_snap_list",
    "group_snap_remove",
    "group_snap_set",
    "image_group_add",
    "image_group_get",
    "image_group_remove",
    "metadata_get",
    "metadata_list",
    "metadata_remove",
    "metadata_set",
    "migration_get",
    "migration_remove",
    "migration_set",
    "migration_set_state",
    "mirror_image_get",
    "mirror_image_get_image_id",
    "mirror_image_list",
    "mirror_image_remove",
    "mirror_image_set",
    "mirror_mode_get",
    "mirror_mode_set",
    "mirror_uuid_get",
    "mirror_uuid_set",
    "namespace_add",
    "namespace_list",
    "namespace_remove",
    "object_map_load",
    "object_map_resize",
    "object_map_save",
    "object_map_snap_add",
    "object_map_snap_remove",
    "object_map_update",
    "old_snapshot_add",
    "old_snapshot_list",
    "old_snapshot_remove",
    "old_snapshot_rename",
    "op_features_get",
    "op_features_set",
    "parent_attach",
    "parent_detach",
    "parent_get",
    "parent_overlap_get",
    "remove_child",
    "remove_parent",
    "set_access_timestamp",
    "set_features",
    "set_flags",
    "set_id",
    "set_modify_timestamp",
    "set_parent",
    "set_protection_status",
    "set_size",
    "set_stripe_unit_count",
    "snapshot_add",
    "snapshot_get",
    "snapshot_get_limit",
    "snapshot_remove",
    "snapshot_rename",
    "snapshot_set_limit",
    "snapshot_trash_add",
    "sparse_copyup",
    "sparsify",
    "trash_add",
    "trash_get",
    "trash_list",
    "trash_remove",
    "trash_state_set",
]


# -- plumbing -------------------------------------------------------------------------------
def _enc(build: Callable[[Encoder], None]) -> bytes:
    e = Encoder()
    build(e)
    return bytes(e)


def _decode(out: bytes, fn: Callable[[Decoder], T], method: str) -> T:
    """Decode a method's answer; EBADMSG when it does not decode (upstream's *_finish)."""
    try:
        return fn(Decoder(out))
    except (DencError, ValueError, IndexError) as e:
        raise CephError(errno.EBADMSG, f"rbd.{method}: cannot decode the reply: {e}") from None


async def _read(ioctx: IoCtx, oid: str, method: str, indata: bytes = b"") -> bytes:
    return await ioctx.execute(oid, CLASS, method, indata)


async def _one_read(ioctx: IoCtx, oid: str, start: Callable[..., int], *args: object) -> bytes:
    """Run one ``*_start`` builder's call; its output."""
    op = ObjectOp()
    i = start(op, *args)
    return (await ioctx.operate(oid, op)).outs[i].data


async def _write(ioctx: IoCtx, oid: str, build: Callable[[ObjectOp], int]) -> None:
    op = ObjectOp()
    build(op)
    await ioctx.operate(oid, op)


def _call(op: ObjectOp, method: str, indata: bytes = b"") -> int:
    return op.call(CLASS, method, indata)


def _u64(v: int) -> bytes:
    return _enc(lambda e: e.u64(v))


def _str(s: str) -> bytes:
    return _enc(lambda e: e.string(s))


def _start_max(start: str, max_return: int) -> bytes:
    def b(e: Encoder) -> None:
        e.string(start)
        e.u64(max_return)

    return _enc(b)


# -- header: create, size, features, prefix, data pool ------------------------------------
def create_image_op(
    op: ObjectOp,
    size: int,
    order: int,
    features: int,
    object_prefix: str,
    data_pool_id: int = -1,
) -> int:
    def b(e: Encoder) -> None:
        e.u64(size)
        e.u8(order)
        e.u64(features)
        e.string(object_prefix)
        e.i64(data_pool_id)

    return _call(op, "create", _enc(b))


async def create_image(
    ioctx: IoCtx,
    oid: str,
    size: int,
    order: int,
    features: int,
    object_prefix: str,
    data_pool_id: int = -1,
) -> None:
    """Initialize an image header (``rbd.create``): the size, order, features,
    object_prefix, snap_seq and the three timestamps. EEXIST if the header has one already;
    ENOSYS for unknown features; EINVAL for an empty prefix, the internal OPERATIONS
    feature, or a data pool given without (or missing with) the DATA_POOL feature."""
    await _write(
        ioctx,
        oid,
        lambda op: create_image_op(
            op, size, order, features, object_prefix, data_pool_id
        ),  # fmt: skip
    )


def get_features_start(op: ObjectOp, read_only: bool = False) -> int:
    return _call(op, "get_features", _enc(lambda e: (e.u64(CEPH_NOSNAP), enc_bool(e, read_only))))


def get_features_finish(out: bytes) -> tuple[int, int]:
    return _decode(out, lambda d: (d.u64(), d.u64()), "get_features")


async def get_features(ioctx: IoCtx, oid: str, read_only: bool = False) -> tuple[int, int]:
    """(features, incompatible features) of the image; the incompatible set is the
    read-only or the read/write one per `read_only`."""
    return get_features_finish(await _one_read(ioctx, oid, get_features_start, read_only))


def set_features_op(op: ObjectOp, features: int, mask: int) -> int:
    return _call(op, "set_features", _enc(lambda e: (e.u64(features), e.u64(mask))))


async def set_features(ioctx: IoCtx, oid: str, features: int, mask: int) -> None:
    """Set the features under `mask` to `features`' bits (EINVAL for immutable/internal)."""
    await _write(ioctx, oid, lambda op: set_features_op(op, features, mask))


def get_object_prefix_start(op: ObjectOp) -> int:
    return _call(op, "get_object_prefix")


def get_object_prefix_finish(out: bytes) -> str:
    return _decode(out, lambda d: d.string(), "get_object_prefix")


async def get_object_prefix(ioctx: IoCtx, oid: str) -> str:
    return get_object_prefix_finish(await _one_read(ioctx, oid, get_object_prefix_start))


def get_data_pool_start(op: ObjectOp) -> int:
    return _call(op, "get_data_pool")


def get_data_pool_finish(out: bytes) -> int:
    return _decode(out, lambda d: d.i64(), "get_data_pool")


async def get_data_pool(ioctx: IoCtx, oid: str) -> int:
    """The data pool id, or -1 when the image keeps its data in its own pool."""
    return get_data_pool_finish(await _one_read(ioctx, oid, get_data_pool_start))


def get_size_start(op: ObjectOp, snap_id: int = CEPH_NOSNAP) -> int:
    return _call(op, "get_size", _u64(snap_id))


def get_size_finish(out: bytes) -> tuple[int, int]:
    """(size, order) from get_size's order u8, size u64."""

    def dec(d: Decoder) -> tuple[int, int]:
        order = d.u8()
        return d.u64(), order

    return _decode(out, dec, "get_size")


async def get_size(ioctx: IoCtx, oid: str, snap_id: int = CEPH_NOSNAP) -> tuple[int, int]:
    """(size, order) of the head or of snapshot `snap_id` (ENOENT for an unknown snap)."""
    return get_size_finish(await _one_read(ioctx, oid, get_size_start, snap_id))


def set_size_op(op: ObjectOp, size: int) -> int:
    return _call(op, "set_size", _u64(size))


async def set_size(ioctx: IoCtx, oid: str, size: int) -> None:
    """Set the head's size (a shrink also shrinks the parent overlap)."""
    await _write(ioctx, oid, lambda op: set_size_op(op, size))


async def get_all_features(ioctx: IoCtx, oid: str) -> int:
    """Every feature bit the OSD's class supports (RBD_FEATURES_ALL)."""
    out = await _read(ioctx, oid, "get_all_features")
    return _decode(out, lambda d: d.u64(), "get_all_features")


# -- flags, op features, striping, timestamps ---------------------------------------------------
def get_flags_start(op: ObjectOp, snap_id: int = CEPH_NOSNAP) -> int:
    return _call(op, "get_flags", _u64(snap_id))


def get_flags_finish(out: bytes) -> int:
    return _decode(out, lambda d: d.u64(), "get_flags")


async def get_flags(ioctx: IoCtx, oid: str, snap_id: int = CEPH_NOSNAP) -> int:
    return get_flags_finish(await _one_read(ioctx, oid, get_flags_start, snap_id))


def set_flags_op(op: ObjectOp, snap_id: int, flags: int, mask: int) -> int:
    return _call(op, "set_flags", _enc(lambda e: (e.u64(flags), e.u64(mask), e.u64(snap_id))))


async def set_flags(ioctx: IoCtx, oid: str, snap_id: int, flags: int, mask: int) -> None:
    await _write(ioctx, oid, lambda op: set_flags_op(op, snap_id, flags, mask))


def op_features_get_start(op: ObjectOp) -> int:
    return _call(op, "op_features_get")


def op_features_get_finish(out: bytes) -> int:
    return _decode(out, lambda d: d.u64(), "op_features_get")


async def op_features_get(ioctx: IoCtx, oid: str) -> int:
    return op_features_get_finish(await _one_read(ioctx, oid, op_features_get_start))


def op_features_set_op(op: ObjectOp, op_features: int, mask: int) -> int:
    return _call(op, "op_features_set", _enc(lambda e: (e.u64(op_features), e.u64(mask))))


async def op_features_set(ioctx: IoCtx, oid: str, op_features: int, mask: int) -> None:
    await _write(ioctx, oid, lambda op: op_features_set_op(op, op_features, mask))


def get_stripe_unit_count_start(op: ObjectOp) -> int:
    return _call(op, "get_stripe_unit_count")


def get_stripe_unit_count_finish(out: bytes) -> tuple[int, int]:
    return _decode(out, lambda d: (d.u64(), d.u64()), "get_stripe_unit_count")


async def get_stripe_unit_count(ioctx: IoCtx, oid: str) -> tuple[int, int]:
    """(stripe_unit, stripe_count); ENOEXEC without the STRIPINGV2 feature."""
    return get_stripe_unit_count_finish(await _one_read(ioctx, oid, get_stripe_unit_count_start))


def set_stripe_unit_count_op(op: ObjectOp, stripe_unit: int, stripe_count: int) -> int:
    return _call(
        op, "set_stripe_unit_count", _enc(lambda e: (e.u64(stripe_unit), e.u64(stripe_count)))
    )


async def set_stripe_unit_count(
    ioctx: IoCtx, oid: str, stripe_unit: int, stripe_count: int
) -> None:
    await _write(ioctx, oid, lambda op: set_stripe_unit_count_op(op, stripe_unit, stripe_count))


async def _timestamp(ioctx: IoCtx, oid: str, method: str) -> Utime:
    out = await _read(ioctx, oid, method)
    return _decode(out, lambda d: d.utime(), method)


async def get_create_timestamp(ioctx: IoCtx, oid: str) -> Utime:
    return await _timestamp(ioctx, oid, "get_create_timestamp")


async def get_access_timestamp(ioctx: IoCtx, oid: str) -> Utime:
    return await _timestamp(ioctx, oid, "get_access_timestamp")


async def get_modify_timestamp(ioctx: IoCtx, oid: str) -> Utime:
    return await _timestamp(ioctx, oid, "get_modify_timestamp")


def set_access_timestamp_op(op: ObjectOp) -> int:
    return _call(op, "set_access_timestamp")


async def set_access_timestamp(ioctx: IoCtx, oid: str) -> None:
    await _write(ioctx, oid, set_access_timestamp_op)


def set_modify_timestamp_op(op: ObjectOp) -> int:
    return _call(op, "set_modify_timestamp")


async def set_modify_timestamp(ioctx: IoCtx, oid: str) -> None:
    await _write(ioctx, oid, set_modify_timestamp_op)


# -- snapshots ------------------------------------------------------------------------------------
def get_snapcontext_start(op: ObjectOp) -> int:
    return _call(op, "get_snapcontext")


async def get_snapcontext(ioctx: IoCtx, oid: str) -> SnapContext:
    """The image's snap context: seq and every snapshot id, newest first."""
    return get_snapcontext_finish(await _one_read(ioctx, oid, get_snapcontext_start))


def get_snapcontext_finish(out: bytes) -> SnapContext:
    """EBADMSG for an answer that does not decode or is not a valid snap context."""

    def dec(d: Decoder) -> SnapContext:
        seq = d.u64()
        return SnapContext(seq, tuple(d.seq(d.u64)))

    snapc = _decode(out, dec, "get_snapcontext")
    if not snapc.is_valid():
        raise CephError(errno.EBADMSG, "rbd.get_snapcontext: invalid snap context")
    return snapc


def snapshot_add_op(
    op: ObjectOp,
    snap_id: int,
    snap_name: str,
    snap_namespace: SnapshotNamespace | None = None,
) -> int:
    def b(e: Encoder) -> None:
        e.string(snap_name)
        e.u64(snap_id)
        encode_snapshot_namespace(e, snap_namespace or UserSnapshotNamespace())

    return _call(op, "snapshot_add", _enc(b))


async def snapshot_add(
    ioctx: IoCtx,
    oid: str,
    snap_id: int,
    snap_name: str,
    snap_namespace: SnapshotNamespace | None = None,
) -> None:
    """Record snapshot `snap_id`: ESTALE if older than snap_seq, EEXIST for a used name (in
    the same namespace) or id, EDQUOT past the snapshot limit, EINVAL past CEPH_MAXSNAP."""
    await _write(ioctx, oid, lambda op: snapshot_add_op(op, snap_id, snap_name, snap_namespace))


def snapshot_remove_op(op: ObjectOp, snap_id: int) -> int:
    return _call(op, "snapshot_remove", _u64(snap_id))


async def snapshot_remove(ioctx: IoCtx, oid: str, snap_id: int) -> None:
    """Drop a snapshot record: EBUSY while protected or with clone-v2 children."""
    await _write(ioctx, oid, lambda op: snapshot_remove_op(op, snap_id))


def snapshot_rename_op(op: ObjectOp, src_snap_id: int, dst_name: str) -> int:
    return _call(op, "snapshot_rename", _enc(lambda e: (e.u64(src_snap_id), e.string(dst_name))))


async def snapshot_rename(ioctx: IoCtx, oid: str, src_snap_id: int, dst_name: str) -> None:
    """Rename a user snapshot (EEXIST for a used name, EINVAL for a non-user snapshot)."""
    await _write(ioctx, oid, lambda op: snapshot_rename_op(op, src_snap_id, dst_name))


def snapshot_trash_add_op(op: ObjectOp, snap_id: int) -> int:
    return _call(op, "snapshot_trash_add", _u64(snap_id))


async def snapshot_trash_add(ioctx: IoCtx, oid: str, snap_id: int) -> None:
    """Move a snapshot into the trash namespace (renamed to a random UUID)."""
    await _write(ioctx, oid, lambda op: snapshot_trash_add_op(op, snap_id))


def snapshot_get_start(op: ObjectOp, snap_id: int) -> int:
    return _call(op, "snapshot_get", _u64(snap_id))


def snapshot_get_finish(out: bytes) -> SnapshotInfo:
    return _decode(out, SnapshotInfo.decode, "snapshot_get")


async def snapshot_get(ioctx: IoCtx, oid: str, snap_id: int) -> SnapshotInfo:
    """A snapshot's record (EINVAL for CEPH_NOSNAP, ENOENT for an unknown id)."""
    return snapshot_get_finish(await _one_read(ioctx, oid, snapshot_get_start, snap_id))


async def get_snapshot_name(ioctx: IoCtx, oid: str, snap_id: int) -> str:
    out = await _read(ioctx, oid, "get_snapshot_name", _u64(snap_id))
    return _decode(out, lambda d: d.string(), "get_snapshot_name")


async def get_snapshot_timestamp(ioctx: IoCtx, oid: str, snap_id: int) -> Utime:
    out = await _read(ioctx, oid, "get_snapshot_timestamp", _u64(snap_id))
    return _decode(out, lambda d: d.utime(), "get_snapshot_timestamp")


async def get_protection_status(ioctx: IoCtx, oid: str, snap_id: int) -> int:
    """RBD_PROTECTION_STATUS_* of a snapshot (EINVAL for CEPH_NOSNAP)."""
    out = await _read(ioctx, oid, "get_protection_status", _u64(snap_id))
    return _decode(out, lambda d: d.u8(), "get_protection_status")


def set_protection_status_op(op: ObjectOp, snap_id: int, protection_status: int) -> int:
    return _call(
        op, "set_protection_status", _enc(lambda e: (e.u64(snap_id), e.u8(protection_status)))
    )


async def set_protection_status(
    ioctx: IoCtx, oid: str, snap_id: int, protection_status: int
) -> None:
    """ENOEXEC without layering, EINVAL for CEPH_NOSNAP or an unknown status."""
    await _write(ioctx, oid, lambda op: set_protection_status_op(op, snap_id, protection_status))


async def snapshot_get_limit(ioctx: IoCtx, oid: str) -> int:
    """The snapshot limit (UINT64_MAX when unlimited)."""
    out = await _read(ioctx, oid, "snapshot_get_limit")
    return _decode(out, lambda d: d.u64(), "snapshot_get_limit")


def snapshot_set_limit_op(op: ObjectOp, limit: int) -> int:
    return _call(op, "snapshot_set_limit", _u64(limit))


async def snapshot_set_limit(ioctx: IoCtx, oid: str, limit: int) -> None:
    """Set (UINT64_MAX removes) the limit; ERANGE below the current snapshot count."""
    await _write(ioctx, oid, lambda op: snapshot_set_limit_op(op, limit))


# -- parent (clone) links ------------------------------------------------------------------------
def parent_get_start(op: ObjectOp) -> int:
    return _call(op, "parent_get")


def parent_get_finish(out: bytes) -> ParentImageSpec:
    return _decode(out, ParentImageSpec.decode, "parent_get")


async def parent_get(ioctx: IoCtx, oid: str) -> ParentImageSpec:
    """The parent spec (pool_id -1 when there is none)."""
    return parent_get_finish(await _one_read(ioctx, oid, parent_get_start))


def parent_overlap_get_start(op: ObjectOp, snap_id: int = CEPH_NOSNAP) -> int:
    return _call(op, "parent_overlap_get", _u64(snap_id))


def parent_overlap_get_finish(out: bytes) -> int | None:
    return _decode(out, dec_opt_u64, "parent_overlap_get")


async def parent_overlap_get(ioctx: IoCtx, oid: str, snap_id: int = CEPH_NOSNAP) -> int | None:
    """The parent overlap of the head or of a snapshot, None when it has no parent."""
    return parent_overlap_get_finish(await _one_read(ioctx, oid, parent_overlap_get_start,
                                                     snap_id))  # fmt: skip


def parent_attach_op(
    op: ObjectOp, parent_image_spec: ParentImageSpec, parent_overlap: int, reattach: bool = False
) -> int:
    def b(e: Encoder) -> None:
        parent_image_spec.encode(e)
        e.u64(parent_overlap)
        enc_bool(e, reattach)

    return _call(op, "parent_attach", _enc(b))


async def parent_attach(
    ioctx: IoCtx,
    oid: str,
    parent_image_spec: ParentImageSpec,
    parent_overlap: int,
    reattach: bool = False,
) -> None:
    """Link the image to its parent: EEXIST if linked already (unless `reattach`), EINVAL
    for an empty spec or zero overlap, ENOEXEC without layering."""
    await _write(
        ioctx, oid, lambda op: parent_attach_op(op, parent_image_spec, parent_overlap, reattach)
    )


def parent_detach_op(op: ObjectOp) -> int:
    return _call(op, "parent_detach")


async def parent_detach(ioctx: IoCtx, oid: str) -> None:
    """Unlink the head from its parent (ENOENT without one)."""
    await _write(ioctx, oid, parent_detach_op)


async def get_parent(
    ioctx: IoCtx, oid: str, snap_id: int = CEPH_NOSNAP
) -> tuple[ParentImageSpec, int]:
    """Legacy: (parent spec without namespace, overlap). EXDEV for a parent in a namespace."""
    out = await _read(ioctx, oid, "get_parent", _u64(snap_id))

    def dec(d: Decoder) -> tuple[ParentImageSpec, int]:
        pool_id, image_id, snap = d.i64(), d.string(), d.u64()
        return ParentImageSpec(pool_id, "", image_id, snap), d.u64()

    return _decode(out, dec, "get_parent")


def set_parent_op(op: ObjectOp, pspec: ParentImageSpec, parent_overlap: int) -> int:
    def b(e: Encoder) -> None:
        e.i64(pspec.pool_id)
        e.string(pspec.image_id)
        e.u64(pspec.snap_id)
        e.u64(parent_overlap)

    return _call(op, "set_parent", _enc(b))


async def set_parent(ioctx: IoCtx, oid: str, pspec: ParentImageSpec, parent_overlap: int) -> None:
    """Legacy parent_attach (no namespace)."""
    await _write(ioctx, oid, lambda op: set_parent_op(op, pspec, parent_overlap))


def remove_parent_op(op: ObjectOp) -> int:
    return _call(op, "remove_parent")


async def remove_parent(ioctx: IoCtx, oid: str) -> None:
    """Legacy parent_detach (EXDEV for a parent in a namespace)."""
    await _write(ioctx, oid, remove_parent_op)


# -- children: v1 (rbd_children object) and v2 (parent snapshot records) ---------------------
def _parent_child(pspec: ParentImageSpec, child: str | None) -> bytes:
    def b(e: Encoder) -> None:
        e.i64(pspec.pool_id)
        e.string(pspec.image_id)
        e.u64(pspec.snap_id)
        if child is not None:
            e.string(child)

    return _enc(b)


def add_child_op(op: ObjectOp, pspec: ParentImageSpec, c_imageid: str) -> int:
    return _call(op, "add_child", _parent_child(pspec, c_imageid))


async def add_child(ioctx: IoCtx, oid: str, pspec: ParentImageSpec, c_imageid: str) -> None:
    """Add a child to rbd_children (EEXIST if listed)."""
    await _write(ioctx, oid, lambda op: add_child_op(op, pspec, c_imageid))


def remove_child_op(op: ObjectOp, pspec: ParentImageSpec, c_imageid: str) -> int:
    return _call(op, "remove_child", _parent_child(pspec, c_imageid))


async def remove_child(ioctx: IoCtx, oid: str, pspec: ParentImageSpec, c_imageid: str) -> None:
    """Remove a child from rbd_children (ENOENT if not listed)."""
    await _write(ioctx, oid, lambda op: remove_child_op(op, pspec, c_imageid))


async def get_children(ioctx: IoCtx, oid: str, pspec: ParentImageSpec) -> set[str]:
    """The child image ids of a parent snapshot in rbd_children (ENOENT when none)."""
    out = await _read(ioctx, oid, "get_children", _parent_child(pspec, None))
    return _decode(out, lambda d: set(d.seq(d.string)), "get_children")


def child_attach_op(op: ObjectOp, snap_id: int, child_image: ChildImageSpec) -> int:
    def b(e: Encoder) -> None:
        e.u64(snap_id)
        child_image.encode(e)

    return _call(op, "child_attach", _enc(b))


async def child_attach(ioctx: IoCtx, oid: str, snap_id: int, child_image: ChildImageSpec) -> None:
    """Clone v2: record a child on the parent's snapshot (EEXIST if attached)."""
    await _write(ioctx, oid, lambda op: child_attach_op(op, snap_id, child_image))


def child_detach_op(op: ObjectOp, snap_id: int, child_image: ChildImageSpec) -> int:
    def b(e: Encoder) -> None:
        e.u64(snap_id)
        child_image.encode(e)

    return _call(op, "child_detach", _enc(b))


async def child_detach(ioctx: IoCtx, oid: str, snap_id: int, child_image: ChildImageSpec) -> None:
    """Clone v2: drop a child from the parent's snapshot (ENOENT if not attached)."""
    await _write(ioctx, oid, lambda op: child_detach_op(op, snap_id, child_image))


async def children_list(ioctx: IoCtx, oid: str, snap_id: int) -> list[ChildImageSpec]:
    """Clone v2 children of a snapshot (ENOENT when it has none)."""
    out = await _read(ioctx, oid, "children_list", _u64(snap_id))
    return _decode(out, decode_child_specs, "children_list")


# -- metadata -------------------------------------------------------------------------------------
def metadata_list_start(op: ObjectOp, start: str = "", max_return: int = 0) -> int:
    return _call(op, "metadata_list", _start_max(start, max_return))


def metadata_list_finish(out: bytes) -> dict[str, bytes]:
    return _decode(out, lambda d: dec_map(d, d.string, d.raw_string), "metadata_list")


async def metadata_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 0
) -> dict[str, bytes]:
    """Image metadata after key `start`, at most `max_return` (0: 64) entries."""
    return metadata_list_finish(await _one_read(ioctx, oid, metadata_list_start, start,
                                                max_return))  # fmt: skip


def metadata_set_op(op: ObjectOp, data: Mapping[str, bytes | str]) -> int:
    def b(e: Encoder) -> None:
        e.u32(len(data))
        for k in sorted(data, key=lambda s: s.encode()):
            e.string(k)
            e.string(data[k])

    return _call(op, "metadata_set", _enc(b))


async def metadata_set(ioctx: IoCtx, oid: str, data: Mapping[str, bytes | str]) -> None:
    await _write(ioctx, oid, lambda op: metadata_set_op(op, data))


def metadata_remove_op(op: ObjectOp, key: str) -> int:
    return _call(op, "metadata_remove", _str(key))


async def metadata_remove(ioctx: IoCtx, oid: str, key: str) -> None:
    await _write(ioctx, oid, lambda op: metadata_remove_op(op, key))


async def metadata_get(ioctx: IoCtx, oid: str, key: str) -> str:
    """One metadata value (ENOENT when absent)."""
    out = await _read(ioctx, oid, "metadata_get", _str(key))
    return _decode(out, lambda d: d.raw_string().decode("utf-8", "surrogateescape"),
                   "metadata_get")  # fmt: skip


# -- rbd_id.<name> ---------------------------------------------------------------------------------
async def get_id(ioctx: IoCtx, oid: str) -> str:
    """The image id stored in an rbd_id object (ENOENT when missing or empty)."""
    out = await _read(ioctx, oid, "get_id")
    return _decode(out, lambda d: d.string(), "get_id")


def set_id_op(op: ObjectOp, id: str) -> int:
    return _call(op, "set_id", _str(id))


async def set_id(ioctx: IoCtx, oid: str, id: str) -> None:
    """Store the id into an existing empty rbd_id object (EEXIST when set, EINVAL when not
    alphanumeric, ENOENT when the object is missing)."""
    await _write(ioctx, oid, lambda op: set_id_op(op, id))


# -- rbd_directory ------------------------------------------------------------------------------------
async def dir_get_id(ioctx: IoCtx, oid: str, name: str) -> str:
    out = await _read(ioctx, oid, "dir_get_id", _str(name))
    return _decode(out, lambda d: d.string(), "dir_get_id")


async def dir_get_name(ioctx: IoCtx, oid: str, id: str) -> str:
    out = await _read(ioctx, oid, "dir_get_name", _str(id))
    return _decode(out, lambda d: d.string(), "dir_get_name")


async def dir_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> dict[str, str]:
    """{name: id} of the images after `start`, by name, at most `max_return`."""
    out = await _read(ioctx, oid, "dir_list", _start_max(start, max_return))
    return _decode(out, lambda d: dec_map(d, d.string, d.string), "dir_list")


def _name_id(name: str, id: str) -> bytes:
    return _enc(lambda e: (e.string(name), e.string(id)))


def dir_add_image_op(op: ObjectOp, name: str, id: str) -> int:
    return _call(op, "dir_add_image", _name_id(name, id))


async def dir_add_image(ioctx: IoCtx, oid: str, name: str, id: str) -> None:
    """EEXIST for a used name, EBADF for a used id, EINVAL for an empty name / bad id."""
    await _write(ioctx, oid, lambda op: dir_add_image_op(op, name, id))


def dir_remove_image_op(op: ObjectOp, name: str, id: str) -> int:
    return _call(op, "dir_remove_image", _name_id(name, id))


async def dir_remove_image(ioctx: IoCtx, oid: str, name: str, id: str) -> None:
    """ENOENT when not listed, ESTALE when name and id do not map to each other."""
    await _write(ioctx, oid, lambda op: dir_remove_image_op(op, name, id))


def dir_rename_image_op(op: ObjectOp, src: str, dest: str, id: str) -> int:
    return _call(op, "dir_rename_image", _enc(lambda e: (e.string(src), e.string(dest),
                                                         e.string(id))))  # fmt: skip


async def dir_rename_image(ioctx: IoCtx, oid: str, src: str, dest: str, id: str) -> None:
    await _write(ioctx, oid, lambda op: dir_rename_image_op(op, src, dest, id))


def dir_state_assert_op(op: ObjectOp, state: int = DIRECTORY_STATE_READY) -> int:
    return _call(op, "dir_state_assert", _enc(lambda e: e.u8(state)))


async def dir_state_assert(ioctx: IoCtx, oid: str, state: int = DIRECTORY_STATE_READY) -> None:
    await ioctx.execute(oid, CLASS, "dir_state_assert", _enc(lambda e: e.u8(state)))


def dir_state_set_op(op: ObjectOp, state: int) -> int:
    return _call(op, "dir_state_set", _enc(lambda e: e.u8(state)))


async def dir_state_set(ioctx: IoCtx, oid: str, state: int) -> None:
    await _write(ioctx, oid, lambda op: dir_state_set_op(op, state))


# -- object maps --------------------------------------------------------------------------------------
async def object_map_load(ioctx: IoCtx, oid: str) -> BitVector2:
    out = await _read(ioctx, oid, "object_map_load")
    return _decode(out, BitVector2.decode, "object_map_load")


def object_map_save_op(op: ObjectOp, object_map: BitVector2) -> int:
    return _call(op, "object_map_save", object_map.to_bytes())


async def object_map_save(ioctx: IoCtx, oid: str, object_map: BitVector2) -> None:
    await _write(ioctx, oid, lambda op: object_map_save_op(op, object_map))


def object_map_resize_op(op: ObjectOp, object_count: int, default_state: int) -> int:
    return _call(op, "object_map_resize", _enc(lambda e: (e.u64(object_count),
                                                          e.u8(default_state))))  # fmt: skip


async def object_map_resize(ioctx: IoCtx, oid: str, object_count: int, default_state: int) -> None:
    """ESTALE when shrinking over objects not in `default_state`; EINVAL past the bound."""
    await _write(ioctx, oid, lambda op: object_map_resize_op(op, object_count, default_state))


def object_map_update_op(
    op: ObjectOp,
    start_object_no: int,
    end_object_no: int,
    new_object_state: int,
    current_object_state: int | None = None,
) -> int:
    def b(e: Encoder) -> None:
        e.u64(start_object_no)
        e.u64(end_object_no)
        e.u8(new_object_state)
        if current_object_state is None:
            e.u8(0)
        else:
            e.u8(1)
            e.u8(current_object_state)

    return _call(op, "object_map_update", _enc(b))


async def object_map_update(
    ioctx: IoCtx,
    oid: str,
    start_object_no: int,
    end_object_no: int,
    new_object_state: int,
    current_object_state: int | None = None,
) -> None:
    """Set objects [start, end) to `new_object_state` (those in `current_object_state`
    only, when given); ERANGE outside the map."""
    await _write(ioctx, oid, lambda op: object_map_update_op(
        op, start_object_no, end_object_no, new_object_state, current_object_state))  # fmt: skip


def object_map_snap_add_op(op: ObjectOp) -> int:
    return _call(op, "object_map_snap_add")


async def object_map_snap_add(ioctx: IoCtx, oid: str) -> None:
    await _write(ioctx, oid, object_map_snap_add_op)


def object_map_snap_remove_op(op: ObjectOp, object_map: BitVector2) -> int:
    return _call(op, "object_map_snap_remove", object_map.to_bytes())


async def object_map_snap_remove(ioctx: IoCtx, oid: str, object_map: BitVector2) -> None:
    await _write(ioctx, oid, lambda op: object_map_snap_remove_op(op, object_map))


# -- data objects -----------------------------------------------------------------------------------
def copyup_op(op: ObjectOp, data: bytes) -> int:
    return _call(op, "copyup", bytes(data))


async def copyup(ioctx: IoCtx, oid: str, data: bytes) -> None:
    """Write `data` at 0 unless the object exists already."""
    await _write(ioctx, oid, lambda op: copyup_op(op, data))


def sparse_copyup_op(
    op: ObjectOp, extent_map: Mapping[int, int] | Iterable[tuple[int, int]], data: bytes
) -> int:
    extents = dict(extent_map.items() if isinstance(extent_map, Mapping) else extent_map)

    def b(e: Encoder) -> None:
        e.u32(len(extents))
        for off in sorted(extents):
            e.u64(off)
            e.u64(extents[off])
        e.string(bytes(data))

    return _call(op, "sparse_copyup", _enc(b))


async def sparse_copyup(
    ioctx: IoCtx,
    oid: str,
    extent_map: Mapping[int, int] | Iterable[tuple[int, int]],
    data: bytes,
) -> None:
    """Write each extent {offset: length} from the concatenated `data`, unless the object
    exists; an empty map creates an empty object."""
    await _write(ioctx, oid, lambda op: sparse_copyup_op(op, extent_map, data))


def assert_snapc_seq_op(
    op: ObjectOp, snapc_seq: int, state: int = ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ
) -> int:
    return _call(op, "assert_snapc_seq", _enc(lambda e: (e.u64(snapc_seq), e.u8(state))))


async def assert_snapc_seq(
    ioctx: IoCtx, oid: str, snapc_seq: int, state: int = ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ
) -> None:
    """ERANGE when the object's SnapSet seq does not compare with `snapc_seq` as `state`."""
    await _write(ioctx, oid, lambda op: assert_snapc_seq_op(op, snapc_seq, state))


def sparsify_op(op: ObjectOp, sparse_size: int, remove_empty: bool) -> int:
    return _call(op, "sparsify", _enc(lambda e: (e.u64(sparse_size), enc_bool(e, remove_empty))))


async def sparsify(ioctx: IoCtx, oid: str, sparse_size: int, remove_empty: bool) -> None:
    """Punch zeroed runs of at least `sparse_size` bytes (remove an all-zero object when
    `remove_empty`)."""
    await _write(ioctx, oid, lambda op: sparsify_op(op, sparse_size, remove_empty))


# -- old format (v1 headers) ------------------------------------------------------------------------
def old_snapshot_add_op(op: ObjectOp, snap_id: int, snap_name: str) -> int:
    return _call(op, "snap_add", _enc(lambda e: (e.string(snap_name), e.u64(snap_id))))


async def old_snapshot_add(ioctx: IoCtx, oid: str, snap_id: int, snap_name: str) -> None:
    await _write(ioctx, oid, lambda op: old_snapshot_add_op(op, snap_id, snap_name))


def old_snapshot_remove_op(op: ObjectOp, snap_name: str) -> int:
    return _call(op, "snap_remove", _str(snap_name))


async def old_snapshot_remove(ioctx: IoCtx, oid: str, snap_name: str) -> None:
    await _write(ioctx, oid, lambda op: old_snapshot_remove_op(op, snap_name))


def old_snapshot_rename_op(op: ObjectOp, src_snap_id: int, dst_name: str) -> int:
    return _call(op, "snap_rename", _enc(lambda e: (e.u64(src_snap_id), e.string(dst_name))))


async def old_snapshot_rename(ioctx: IoCtx, oid: str, src_snap_id: int, dst_name: str) -> None:
    await _write(ioctx, oid, lambda op: old_snapshot_rename_op(op, src_snap_id, dst_name))


async def old_snapshot_list(ioctx: IoCtx, oid: str) -> tuple[list[str], list[int], SnapContext]:
    """(names, sizes, snap context) of a v1 image, newest first."""
    out = await _read(ioctx, oid, "snap_list")

    def dec(d: Decoder) -> tuple[list[str], list[int], SnapContext]:
        seq, n = d.u64(), d.u32()
        names, sizes, ids = [], [], []
        for _ in range(n):
            ids.append(d.u64())
            sizes.append(d.u64())
            names.append(d.string())
        return names, sizes, SnapContext(seq, tuple(ids))

    return _decode(out, dec, "snap_list")


# -- trash ------------------------------------------------------------------------------------------
def trash_add_op(op: ObjectOp, id: str, trash_spec: TrashImageSpec) -> int:
    def b(e: Encoder) -> None:
        e.string(id)
        trash_spec.encode(e)

    return _call(op, "trash_add", _enc(b))


async def trash_add(ioctx: IoCtx, oid: str, id: str, trash_spec: TrashImageSpec) -> None:
    """EEXIST when the id is in the trash, EINVAL for a bad id."""
    await _write(ioctx, oid, lambda op: trash_add_op(op, id, trash_spec))


def trash_remove_op(op: ObjectOp, id: str) -> int:
    return _call(op, "trash_remove", _str(id))


async def trash_remove(ioctx: IoCtx, oid: str, id: str) -> None:
    await _write(ioctx, oid, lambda op: trash_remove_op(op, id))


async def trash_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> dict[str, TrashImageSpec]:
    out = await _read(ioctx, oid, "trash_list", _start_max(start, max_return))
    return _decode(out, lambda d: dec_map(d, d.string, lambda: TrashImageSpec.decode(d)),
                   "trash_list")  # fmt: skip


async def trash_get(ioctx: IoCtx, oid: str, id: str) -> TrashImageSpec:
    out = await _read(ioctx, oid, "trash_get", _str(id))
    return _decode(out, TrashImageSpec.decode, "trash_get")


def trash_state_set_op(op: ObjectOp, id: str, trash_state: int, expect_state: int) -> int:
    return _call(op, "trash_state_set", _enc(lambda e: (e.string(id), e.u8(trash_state),
                                                        e.u8(expect_state))))  # fmt: skip


async def trash_state_set(
    ioctx: IoCtx, oid: str, id: str, trash_state: int, expect_state: int
) -> None:
    """ESTALE when the entry is in neither state."""
    await _write(ioctx, oid, lambda op: trash_state_set_op(op, id, trash_state, expect_state))


# -- namespaces -------------------------------------------------------------------------------------
def namespace_add_op(op: ObjectOp, name: str) -> int:
    return _call(op, "namespace_add", _str(name))


async def namespace_add(ioctx: IoCtx, oid: str, name: str) -> None:
    await _write(ioctx, oid, lambda op: namespace_add_op(op, name))


def namespace_remove_op(op: ObjectOp, name: str) -> int:
    return _call(op, "namespace_remove", _str(name))


async def namespace_remove(ioctx: IoCtx, oid: str, name: str) -> None:
    await _write(ioctx, oid, lambda op: namespace_remove_op(op, name))


async def namespace_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> list[str]:
    out = await _read(ioctx, oid, "namespace_list", _start_max(start, max_return))
    return _decode(out, lambda d: d.seq(d.string), "namespace_list")


# -- migration ----------------------------------------------------------------------------------------
def migration_set_op(op: ObjectOp, migration_spec: MigrationSpec) -> int:
    return _call(op, "migration_set", _enc(migration_spec.encode))


async def migration_set(ioctx: IoCtx, oid: str, migration_spec: MigrationSpec) -> None:
    """EEXIST when a migration is set already."""
    await _write(ioctx, oid, lambda op: migration_set_op(op, migration_spec))


def migration_set_state_op(op: ObjectOp, state: int, description: str) -> int:
    return _call(op, "migration_set_state", _enc(lambda e: (e.u8(state), e.string(description))))


async def migration_set_state(ioctx: IoCtx, oid: str, state: int, description: str) -> None:
    await _write(ioctx, oid, lambda op: migration_set_state_op(op, state, description))


async def migration_get(ioctx: IoCtx, oid: str) -> MigrationSpec:
    """EINVAL when the image is not migrating."""
    out = await _read(ioctx, oid, "migration_get")
    return _decode(out, MigrationSpec.decode, "migration_get")


def migration_remove_op(op: ObjectOp) -> int:
    return _call(op, "migration_remove")


async def migration_remove(ioctx: IoCtx, oid: str) -> None:
    await _write(ioctx, oid, migration_remove_op)


# -- groups -----------------------------------------------------------------------------------------
async def group_dir_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> dict[str, str]:
    """{group name: group id} of rbd_group_directory."""
    out = await _read(ioctx, oid, "group_dir_list", _start_max(start, max_return))
    return _decode(out, lambda d: dec_map(d, d.string, d.string), "group_dir_list")


async def group_dir_add(ioctx: IoCtx, oid: str, name: str, id: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "group_dir_add", _name_id(name, id)))


async def group_dir_remove(ioctx: IoCtx, oid: str, name: str, id: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "group_dir_remove", _name_id(name, id)))


async def group_dir_rename(ioctx: IoCtx, oid: str, src: str, dest: str, id: str) -> None:
    data = _enc(lambda e: (e.string(src), e.string(dest), e.string(id)))
    await _write(ioctx, oid, lambda op: _call(op, "group_dir_rename", data))


async def group_image_remove(ioctx: IoCtx, oid: str, spec: GroupImageSpec) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "group_image_remove", _enc(spec.encode)))


async def group_image_list(
    ioctx: IoCtx, oid: str, start: GroupImageSpec | None = None, max_return: int = 1024
) -> list[GroupImageStatus]:
    def b(e: Encoder) -> None:
        (start or GroupImageSpec()).encode(e)
        e.u64(max_return)

    out = await _read(ioctx, oid, "group_image_list", _enc(b))
    return _decode(out, lambda d: d.seq(lambda: GroupImageStatus.decode(d)), "group_image_list")


async def group_image_set(ioctx: IoCtx, oid: str, st: GroupImageStatus) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "group_image_set", _enc(st.encode)))


def image_group_add_op(op: ObjectOp, group_spec: GroupSpec) -> int:
    return _call(op, "image_group_add", _enc(group_spec.encode))


async def image_group_add(ioctx: IoCtx, oid: str, group_spec: GroupSpec) -> None:
    await _write(ioctx, oid, lambda op: image_group_add_op(op, group_spec))


def image_group_remove_op(op: ObjectOp, group_spec: GroupSpec) -> int:
    return _call(op, "image_group_remove", _enc(group_spec.encode))


async def image_group_remove(ioctx: IoCtx, oid: str, group_spec: GroupSpec) -> None:
    await _write(ioctx, oid, lambda op: image_group_remove_op(op, group_spec))


async def image_group_get(ioctx: IoCtx, oid: str) -> GroupSpec:
    """The image's group (pool_id -1 when in none)."""
    out = await _read(ioctx, oid, "image_group_get")
    return _decode(out, GroupSpec.decode, "image_group_get")


async def group_snap_set(ioctx: IoCtx, oid: str, snapshot: GroupSnapshot) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "group_snap_set", _enc(snapshot.encode)))


async def group_snap_remove(ioctx: IoCtx, oid: str, snap_id: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "group_snap_remove", _str(snap_id)))


async def group_snap_get_by_id(ioctx: IoCtx, oid: str, snap_id: str) -> GroupSnapshot:
    out = await _read(ioctx, oid, "group_snap_get_by_id", _str(snap_id))
    return _decode(out, GroupSnapshot.decode, "group_snap_get_by_id")


async def group_snap_list(
    ioctx: IoCtx, oid: str, start: GroupSnapshot | None = None, max_return: int = 1024
) -> list[GroupSnapshot]:
    def b(e: Encoder) -> None:
        (start or GroupSnapshot()).encode(e)
        e.u64(max_return)

    out = await _read(ioctx, oid, "group_snap_list", _enc(b))
    return _decode(out, lambda d: d.seq(lambda: GroupSnapshot.decode(d)), "group_snap_list")


# -- mirroring (rbd_mirroring object; pool-level metadata) -------------------------------------------
async def mirror_uuid_get(ioctx: IoCtx, oid: str) -> str:
    out = await _read(ioctx, oid, "mirror_uuid_get")
    return _decode(out, lambda d: d.string(), "mirror_uuid_get")


async def mirror_uuid_set(ioctx: IoCtx, oid: str, uuid: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_uuid_set", _str(uuid)))


async def mirror_mode_get(ioctx: IoCtx, oid: str) -> int:
    out = await _read(ioctx, oid, "mirror_mode_get")
    return _decode(out, lambda d: d.u32(), "mirror_mode_get")


async def mirror_mode_set(ioctx: IoCtx, oid: str, mirror_mode: int) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_mode_set",
                                              _enc(lambda e: e.u32(mirror_mode))))  # fmt: skip


async def mirror_image_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> dict[str, str]:
    """{image id: global image id}."""
    out = await _read(ioctx, oid, "mirror_image_list", _start_max(start, max_return))
    return _decode(out, lambda d: dec_map(d, d.string, d.string), "mirror_image_list")


async def mirror_image_get_image_id(ioctx: IoCtx, oid: str, global_image_id: str) -> str:
    out = await _read(ioctx, oid, "mirror_image_get_image_id", _str(global_image_id))
    return _decode(out, lambda d: d.string(), "mirror_image_get_image_id")


async def mirror_image_get(ioctx: IoCtx, oid: str, image_id: str) -> MirrorImage:
    out = await _read(ioctx, oid, "mirror_image_get", _str(image_id))
    return _decode(out, MirrorImage.decode, "mirror_image_get")


async def mirror_image_set(
    ioctx: IoCtx, oid: str, image_id: str, mirror_image: MirrorImage
) -> None:
    def b(e: Encoder) -> None:
        e.string(image_id)
        mirror_image.encode(e)

    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_set", _enc(b)))


async def mirror_image_remove(ioctx: IoCtx, oid: str, image_id: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_remove", _str(image_id)))


async def mirror_peer_list(ioctx: IoCtx, oid: str) -> list[MirrorPeer]:
    out = await _read(ioctx, oid, "mirror_peer_list")
    return _decode(out, lambda d: d.seq(lambda: MirrorPeer.decode(d)), "mirror_peer_list")


async def mirror_peer_add(ioctx: IoCtx, oid: str, mirror_peer: MirrorPeer) -> None:
    """EINVAL (mirroring disabled, invalid or TX-only peer), ESTALE (uuid used), EEXIST."""
    await _write(ioctx, oid, lambda op: _call(op, "mirror_peer_add", _enc(mirror_peer.encode)))


async def mirror_peer_remove(ioctx: IoCtx, oid: str, uuid: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_peer_remove", _str(uuid)))


async def mirror_peer_set_client(ioctx: IoCtx, oid: str, uuid: str, client_name: str) -> None:
    data = _name_id(uuid, client_name)
    await _write(ioctx, oid, lambda op: _call(op, "mirror_peer_set_client", data))


async def mirror_peer_set_cluster(ioctx: IoCtx, oid: str, uuid: str, site_name: str) -> None:
    data = _name_id(uuid, site_name)
    await _write(ioctx, oid, lambda op: _call(op, "mirror_peer_set_cluster", data))


async def mirror_peer_set_direction(ioctx: IoCtx, oid: str, uuid: str, direction: int) -> None:
    data = _enc(lambda e: (e.string(uuid), e.u8(direction)))
    await _write(ioctx, oid, lambda op: _call(op, "mirror_peer_set_direction", data))


async def mirror_peer_ping(ioctx: IoCtx, oid: str, site_name: str, fsid: str) -> None:
    """A remote site (`fsid` is its mirror uuid) reports it reached this pool."""
    data = _enc(lambda e: (e.string(site_name), e.string(fsid), e.u8(MIRROR_PEER_DIRECTION_TX)))
    await _write(ioctx, oid, lambda op: _call(op, "mirror_peer_ping", data))


async def mirror_image_status_set(
    ioctx: IoCtx, oid: str, global_image_id: str, status: MirrorImageSiteStatus
) -> None:
    data = _enc(lambda e: (e.string(global_image_id), status.encode(e)))
    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_status_set", data))


async def mirror_image_status_remove(ioctx: IoCtx, oid: str, global_image_id: str) -> None:
    data = _str(global_image_id)
    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_status_remove", data))


async def mirror_image_status_get(
    ioctx: IoCtx, oid: str, global_image_id: str
) -> MirrorImageStatus:
    """ENOENT when no site reported a status."""
    out = await _read(ioctx, oid, "mirror_image_status_get", _str(global_image_id))
    return _decode(out, MirrorImageStatus.decode, "mirror_image_status_get")


async def mirror_image_status_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> tuple[dict[str, MirrorImage], dict[str, MirrorImageStatus]]:
    out = await _read(ioctx, oid, "mirror_image_status_list", _start_max(start, max_return))

    def dec(d: Decoder) -> tuple[dict[str, MirrorImage], dict[str, MirrorImageStatus]]:
        images = dec_map(d, d.string, lambda: MirrorImage.decode(d))
        return images, dec_map(d, d.string, lambda: MirrorImageStatus.decode(d))

    return _decode(out, dec, "mirror_image_status_list")


async def mirror_image_status_get_summary(
    ioctx: IoCtx, oid: str, mirror_peer_sites: list[MirrorPeer] | None = None
) -> dict[int, int]:
    """{MIRROR_IMAGE_STATUS_STATE_*: number of images}."""
    peers = list(mirror_peer_sites or [])
    data = _enc(lambda e: (e.u32(len(peers)), [p.encode(e) for p in peers]))
    out = await _read(ioctx, oid, "mirror_image_status_get_summary", data)
    return _decode(out, lambda d: dec_map(d, d.u8, d.u32), "mirror_image_status_get_summary")


async def mirror_image_status_remove_down(ioctx: IoCtx, oid: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_status_remove_down"))


async def mirror_image_instance_get(ioctx: IoCtx, oid: str, global_image_id: str) -> str:
    """The entity of the rbd-mirror instance replaying the image (ESTALE when it is gone)."""
    out = await _read(ioctx, oid, "mirror_image_instance_get", _str(global_image_id))
    return _decode(out, lambda d: d.entity_name(), "mirror_image_instance_get")


async def mirror_image_instance_list(
    ioctx: IoCtx, oid: str, start: str = "", max_return: int = 1024
) -> dict[str, str]:
    out = await _read(ioctx, oid, "mirror_image_instance_list", _start_max(start, max_return))

    def inst(d: Decoder) -> str:
        name = d.entity_name()
        d.entity_addr()
        return name

    return _decode(out, lambda d: dec_map(d, d.string, lambda: inst(d)),
                   "mirror_image_instance_list")  # fmt: skip


async def mirror_instances_list(ioctx: IoCtx, oid: str) -> list[str]:
    out = await _read(ioctx, oid, "mirror_instances_list")
    return _decode(out, lambda d: d.seq(d.string), "mirror_instances_list")


async def mirror_instances_add(ioctx: IoCtx, oid: str, instance_id: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_instances_add", _str(instance_id)))


async def mirror_instances_remove(ioctx: IoCtx, oid: str, instance_id: str) -> None:
    await _write(ioctx, oid, lambda op: _call(op, "mirror_instances_remove", _str(instance_id)))


async def mirror_image_map_list(
    ioctx: IoCtx, oid: str, start_after: str = "", max_read: int = 1024
) -> dict[str, MirrorImageMap]:
    out = await _read(ioctx, oid, "mirror_image_map_list", _start_max(start_after, max_read))
    return _decode(out, lambda d: dec_map(d, d.string, lambda: MirrorImageMap.decode(d)),
                   "mirror_image_map_list")  # fmt: skip


async def mirror_image_map_update(
    ioctx: IoCtx, oid: str, global_image_id: str, image_map: MirrorImageMap
) -> None:
    data = _enc(lambda e: (e.string(global_image_id), image_map.encode(e)))
    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_map_update", data))


async def mirror_image_map_remove(ioctx: IoCtx, oid: str, global_image_id: str) -> None:
    data = _str(global_image_id)
    await _write(ioctx, oid, lambda op: _call(op, "mirror_image_map_remove", data))


def mirror_image_snapshot_unlink_peer_op(op: ObjectOp, snap_id: int, mirror_peer_uuid: str) -> int:
    data = _enc(lambda e: (e.u64(snap_id), e.string(mirror_peer_uuid)))
    return _call(op, "mirror_image_snapshot_unlink_peer", data)


async def mirror_image_snapshot_unlink_peer(
    ioctx: IoCtx, oid: str, snap_id: int, mirror_peer_uuid: str
) -> None:
    """EINVAL for a non-mirror snapshot, ENOENT when the peer is not linked."""
    await _write(ioctx, oid,
                 lambda op: mirror_image_snapshot_unlink_peer_op(op, snap_id, mirror_peer_uuid))  # fmt: skip


def mirror_image_snapshot_set_copy_progress_op(
    op: ObjectOp, snap_id: int, complete: bool, copy_progress: int
) -> int:
    data = _enc(lambda e: (e.u64(snap_id), enc_bool(e, complete), e.u64(copy_progress)))
    return _call(op, "mirror_image_snapshot_set_copy_progress", data)


async def mirror_image_snapshot_set_copy_progress(
    ioctx: IoCtx, oid: str, snap_id: int, complete: bool, copy_progress: int
) -> None:
    await _write(ioctx, oid, lambda op: mirror_image_snapshot_set_copy_progress_op(
        op, snap_id, complete, copy_progress))  # fmt: skip
