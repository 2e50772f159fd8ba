"""The image header (`rbd_header.<id>`) as the engine sees it: `ImageState`, loaded with
the `rbd` class methods librbd's RefreshRequest uses, and the header-update notify.

`load_state` issues its class calls together (one round trip's worth of latency), as
upstream's get_mutable_metadata batches them. `notify_header_update` sends upstream's
ImageWatcher NotifyMessage{HeaderUpdatePayload} so every open of the image (ours or a
librbd's) refreshes (src/librbd/WatchNotifyTypes.h: NOTIFY_OP_HEADER_UPDATE = 3).
"""

from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass, field
from typing import Any

from pyceph.client.ioctx import IoCtx, SnapContext
from pyceph.cls import rbd_types as T
from pyceph.common.denc import Encoder
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib.features import RBD_FEATURE_OPERATIONS, RBD_FEATURE_STRIPINGV2
from pyceph.rbdlib.layout import CEPH_NOSNAP, Layout

#: WatchNotifyTypes.h NotifyOp values the engine sends or understands.
NOTIFY_OP_HEADER_UPDATE = 3
#: Milliseconds a header-update notify waits for watchers' acks.
HEADER_UPDATE_NOTIFY_TIMEOUT_MS = 5000


@dataclass(slots=True)
class SnapState:
    """One snapshot as the header records it."""

    id: int
    name: str
    size: int
    namespace: Any
    timestamp: float
    protection: int = T.RBD_PROTECTION_STATUS_UNPROTECTED
    flags: int = 0
    #: The parent link and overlap this snapshot saw (None: no parent then).
    parent: T.ParentImageSpec | None = None
    parent_overlap: int = 0
    child_count: int = 0


@dataclass(slots=True)
class ImageState:
    """Everything a refresh reads from the header."""

    size: int
    order: int
    features: int
    incompatible: int
    object_prefix: str
    data_pool_id: int
    stripe_unit: int
    stripe_count: int
    flags: int
    op_features: int
    snap_seq: int
    snap_ids: list[int]
    snaps: dict[int, SnapState] = field(default_factory=dict)
    parent: T.ParentImageSpec | None = None
    parent_overlap: int = 0
    create_timestamp: float = 0.0
    access_timestamp: float = 0.0
    modify_timestamp: float = 0.0

    @property
    def layout(self) -> Layout:
        return Layout(self.order, self.stripe_unit, self.stripe_count)

    @property
    def snapc(self) -> SnapContext:
        return SnapContext(self.snap_seq, tuple(self.snap_ids))

    def snap_by_name(self, name: str, ns_type: int = T.SNAPSHOT_NAMESPACE_TYPE_USER) -> SnapState:
        for s in self.snaps.values():
            if s.name == name and getattr(s.namespace, "type", 0) == ns_type:
                return s
        raise CephError(errno.ENOENT, f"snapshot {name} does not exist")

    def size_at(self, snap_id: int) -> int:
        """ImageCtx::get_image_size: the head's or a snapshot's size (0 for a snapshot
        that no longer exists, as upstream)."""
        if snap_id == CEPH_NOSNAP:
            return self.size
        snap = self.snaps.get(snap_id)
        return snap.size if snap is not None else 0

    def parent_at(self, snap_id: int) -> tuple[T.ParentImageSpec | None, int]:
        """The parent link and overlap of the head or a snapshot."""
        if snap_id == CEPH_NOSNAP:
            return self.parent, self.parent_overlap
        s = self.snaps.get(snap_id)
        if s is None:  # the selected snapshot was removed: no parent (ImageCtx::get_parent_info)
            return None, 0
        return s.parent, s.parent_overlap


def utime_seconds(t: Any) -> float:
    """A utime (sec, nsec) pair, a number or None as float seconds."""
    if t is None:
        return 0.0
    if isinstance(t, tuple | list):
        return t[0] + t[1] / 1e9
    return float(t)


async def _opt(aw: Any, default: Any) -> Any:
    """Await a class call that an older header may not answer (ENOENT/EOPNOTSUPP)."""
    try:
        return await aw
    except CephError as e:
        if e.errno in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENOEXEC):
            return default
        raise


async def load_state(ioctx: IoCtx, oid: str, read_only: bool = False) -> ImageState:
    """Read the header `oid` (ENOENT when the image is gone); `incompatible` is the
    read-only or read/write incompatible feature set per `read_only`."""
    size_order, feats, prefix, data_pool, flags, snapc = await asyncio.gather(
        cls_client.get_size(ioctx, oid, CEPH_NOSNAP),
        cls_client.get_features(ioctx, oid, read_only),
        cls_client.get_object_prefix(ioctx, oid),
        _opt(cls_client.get_data_pool(ioctx, oid), -1),
        _opt(cls_client.get_flags(ioctx, oid, CEPH_NOSNAP), 0),
        cls_client.get_snapcontext(ioctx, oid),
    )
    size, order = size_order
    features, incompatible = feats
    seq, snap_ids = snapc.seq, list(snapc.snaps)
    su, sc = 0, 0
    if features & RBD_FEATURE_STRIPINGV2:
        su, sc = await cls_client.get_stripe_unit_count(ioctx, oid)
    op_features = 0
    if features & RBD_FEATURE_OPERATIONS:
        op_features = await cls_client.op_features_get(ioctx, oid)
    parent, overlap, ts = await asyncio.gather(
        _opt(cls_client.parent_get(ioctx, oid), None),
        _opt(cls_client.parent_overlap_get(ioctx, oid, CEPH_NOSNAP), None),
        asyncio.gather(
            _opt(cls_client.get_create_timestamp(ioctx, oid), None),
            _opt(cls_client.get_access_timestamp(ioctx, oid), None),
            _opt(cls_client.get_modify_timestamp(ioctx, oid), None),
        ),
    )
    if parent is not None and not parent.exists():
        parent = None
    state = ImageState(
        size=size,
        order=order,
        features=features,
        incompatible=incompatible,
        object_prefix=prefix,
        data_pool_id=data_pool if data_pool is not None else -1,
        stripe_unit=su,
        stripe_count=sc,
        flags=flags,
        op_features=op_features,
        snap_seq=seq,
        snap_ids=snap_ids,
        parent=parent,
        parent_overlap=(overlap or 0) if parent is not None else 0,
        create_timestamp=utime_seconds(ts[0]),
        access_timestamp=utime_seconds(ts[1]),
        modify_timestamp=utime_seconds(ts[2]),
    )
    if snap_ids:
        snaps = await asyncio.gather(*(_load_snap(ioctx, oid, s, parent) for s in snap_ids))
        state.snaps = {s.id: s for s in snaps if s is not None}
        state.snap_ids = [s for s in snap_ids if s in state.snaps]
    return state


async def _load_snap(
    ioctx: IoCtx, oid: str, snap_id: int, head_parent: T.ParentImageSpec | None
) -> SnapState | None:
    try:
        info, prot, sflags, overlap = await asyncio.gather(
            cls_client.snapshot_get(ioctx, oid, snap_id),
            _opt(cls_client.get_protection_status(ioctx, oid, snap_id), 0),
            _opt(cls_client.get_flags(ioctx, oid, snap_id), 0),
            _opt(cls_client.parent_overlap_get(ioctx, oid, snap_id), None),
        )
    except CephError as e:
        if e.errno == errno.ENOENT:  # removed while we looked
            return None
        raise
    parent = head_parent if overlap is not None else None
    return SnapState(
        id=snap_id,
        name=info.name,
        size=info.image_size,
        namespace=info.snapshot_namespace,
        timestamp=utime_seconds(info.timestamp),
        protection=prot or 0,
        flags=sflags or 0,
        parent=parent,
        parent_overlap=overlap or 0,
        child_count=info.child_count,
    )


def header_update_payload() -> bytes:
    """NotifyMessage{HeaderUpdatePayload}: ENCODE_START(7, 1) { u32 NOTIFY_OP_HEADER_UPDATE }."""
    e = Encoder()
    with e.struct(7, 1):
        e.u32(NOTIFY_OP_HEADER_UPDATE)
    return bytes(e)


async def notify_header_update(ioctx: IoCtx, oid: str) -> None:
    """Tell every open of the image to refresh (a watcher that does not answer in time
    does not fail the operation, as librbd's ImageWatcher::notify_header_update)."""
    try:
        await ioctx.notify(oid, header_update_payload(), HEADER_UPDATE_NOTIFY_TIMEOUT_MS)
    except CephError as e:
        if e.errno not in (errno.ETIMEDOUT, errno.ENOENT):
            raise
