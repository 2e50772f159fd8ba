"""Image snapshots (librbd operation::Snapshot*Request, api::Snapshot): self-managed
RADOS snapshots of the data objects, recorded in the header by the `rbd` class.

* create: a snap id from the (data) pool, then `snapshot_add` (EEXIST for a used name,
  EDQUOT past the limit); the id goes back to the pool if the header refuses it. librbd
  takes any name ("" and "a/b" too): `rbd_validate_names` is the rbd tool's spec check
  (tools/rbd/Utils.cc extract_spec), not the library's;
* remove: a protected snapshot is busy (EBUSY); one clone-v2 children still use moves
  to the trash namespace instead; otherwise `snapshot_remove` and the pool snap id;
* protect needs layering (ENOSYS) and is EBUSY when already protected; unprotect is
  EINVAL when not protected and EBUSY while clones (v1 or v2) of the snapshot exist;
* rollback resizes the head to the snapshot's size, then rolls every object back.
Every change notifies the other opens of the image.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client, object_map
from pyceph.rbdlib._util import Progress, bounded, ignore_enoent, management_ops, report
from pyceph.rbdlib.features import RBD_FEATURE_LAYERING
from pyceph.rbdlib.layout import CEPH_NOSNAP

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image

#: remove_snap_limit sets the limit to the largest u64 (no limit).
SNAP_LIMIT_MAX = 2**64 - 1
#: RBD_SNAP_CREATE_* flags create_snap accepts (quiesce handling is a no-op here).
SNAP_CREATE_SKIP_QUIESCE = 1 << 0
SNAP_CREATE_IGNORE_QUIESCE_ERROR = 1 << 1
#: RBD_SNAP_REMOVE_* flags.
SNAP_REMOVE_UNPROTECT = 1 << 0
SNAP_REMOVE_FLATTEN = 1 << 1
SNAP_REMOVE_FORCE = SNAP_REMOVE_UNPROTECT | SNAP_REMOVE_FLATTEN


def _writable(img: Image) -> None:
    if img.read_only or img.snap_id != CEPH_NOSNAP:
        raise CephError(errno.EROFS, "image is read-only")


def _not_read_only(img: Image) -> None:
    """Operations::snap_remove checks only the open's read-only flag: a snapshot may be
    removed while it (or another one) is selected with set_snap."""
    if img.read_only:
        raise CephError(errno.EROFS, "image is read-only")


async def list_snaps(img: Image) -> list[dict[str, Any]]:
    """Every snapshot, oldest first: {id, size, name, namespace, timestamp, protected}."""
    await img.refresh_if_required()
    out = []
    for sid in sorted(img.state.snaps):
        s = img.state.snaps[sid]
        out.append({
            "id": s.id,
            "size": s.size,
            "name": s.name,
            "namespace": int(getattr(s.namespace, "type", 0)),
            "timestamp": s.timestamp,
            "protected": s.protection == T.RBD_PROTECTION_STATUS_PROTECTED,
        })  # fmt: skip
    return out


async def create(img: Image, name: str, flags: int = 0) -> int:
    """Take snapshot `name` of the head; its id."""
    await img.refresh_if_required()
    _writable(img)
    if flags & ~(SNAP_CREATE_SKIP_QUIESCE | SNAP_CREATE_IGNORE_QUIESCE_ERROR):
        raise CephError(errno.EINVAL, "invalid snapshot create flags")
    for s in img.state.snaps.values():
        if s.name == name and getattr(s.namespace, "type", 0) == T.SNAPSHOT_NAMESPACE_TYPE_USER:
            raise CephError(errno.EEXIST, f"snapshot {name} exists")
    snap_id = await img.data_ioctx.selfmanaged_snap_create()
    try:
        if img.old_format():  # SnapshotCreateRequest: the v1 header's snapshot table
            await cls_client.old_snapshot_add(img.ioctx, img.header_oid, snap_id, name)
        else:
            await cls_client.snapshot_add(img.ioctx, img.header_oid, snap_id, name,
                                          T.UserSnapshotNamespace())  # fmt: skip
    except CephError:
        await img.data_ioctx.selfmanaged_snap_remove(snap_id)
        raise
    await object_map.snapshot_add(img, snap_id)
    await img.notify_update()
    return snap_id


async def remove(img: Image, name: str, flags: int = 0, progress: Progress | None = None) -> None:
    """Remove snapshot `name` (remove_snap2 flags: unprotect first, flatten children)."""
    await img.refresh_if_required()
    _not_read_only(img)
    snap = img.state.snap_by_name(name)
    if flags & SNAP_REMOVE_FLATTEN:
        await _flatten_children(img, snap.id)
    if flags & SNAP_REMOVE_UNPROTECT and snap.protection == T.RBD_PROTECTION_STATUS_PROTECTED:
        await unprotect(img, name)
    await remove_by_id(img, snap.id)
    report(progress, 1, 1)


async def _flatten_children(img: Image, snap_id: int) -> None:
    """remove_snap2's FLATTEN flag: every clone of the snapshot is flattened first."""
    from pyceph.rbdlib import clone
    from pyceph.rbdlib._util import ioctx_for_pool
    from pyceph.rbdlib.image import open_image

    for child in await clone.snap_children(img, snap_id):
        cctx = ioctx_for_pool(img.ioctx, child["pool_id"], child["pool_namespace"])
        kid = await open_image(cctx, image_id=child["id"])
        try:
            await kid.flatten()
        finally:
            await kid.close()
    await img.refresh()


async def remove_by_id(img: Image, snap_id: int) -> None:
    await img.refresh_if_required()
    _not_read_only(img)
    snap = img.state.snaps.get(snap_id)
    if snap is None:
        raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
    if snap.protection != T.RBD_PROTECTION_STATUS_UNPROTECTED:
        raise CephError(errno.EBUSY, "snapshot is protected")
    if img.old_format():  # SnapshotRemoveRequest: no clones, no object map
        await cls_client.old_snapshot_remove(img.ioctx, img.header_oid, snap.name)
        await _release_snap_id(img, snap_id)
        return
    children = await ignore_enoent(cls_client.children_list(img.ioctx, img.header_oid, snap_id))
    if children:
        if getattr(snap.namespace, "type", 0) != T.SNAPSHOT_NAMESPACE_TYPE_TRASH:
            await cls_client.snapshot_trash_add(img.ioctx, img.header_oid, snap_id)
            await img.notify_update()
        return
    await cls_client.snapshot_remove(img.ioctx, img.header_oid, snap_id)
    await object_map.snapshot_remove(img, snap_id)
    await _release_snap_id(img, snap_id)


async def _release_snap_id(img: Image, snap_id: int) -> None:
    """Give the pool back a removed snapshot's id (its clones get trimmed) and tell the
    other opens."""
    try:
        await img.data_ioctx.selfmanaged_snap_remove(snap_id)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    await img.notify_update()


async def rename(img: Image, src: str, dst: str) -> None:
    await img.refresh_if_required()
    _writable(img)
    snap = img.state.snap_by_name(src)
    if any(s.name == dst for s in img.state.snaps.values()):
        raise CephError(errno.EEXIST, f"snapshot {dst} exists")
    if img.old_format():
        await cls_client.old_snapshot_rename(img.ioctx, img.header_oid, snap.id, dst)
    else:
        await cls_client.snapshot_rename(img.ioctx, img.header_oid, snap.id, dst)
    await img.notify_update()


async def protect(img: Image, name: str) -> None:
    await img.refresh_if_required()
    _writable(img)
    if not img.state.features & RBD_FEATURE_LAYERING:
        raise CephError(errno.ENOSYS, "image must support layering")
    snap = img.state.snap_by_name(name)
    if snap.protection == T.RBD_PROTECTION_STATUS_PROTECTED:
        raise CephError(errno.EBUSY, "snapshot is already protected")
    await cls_client.set_protection_status(img.ioctx, img.header_oid, snap.id,
                                           T.RBD_PROTECTION_STATUS_PROTECTED)  # fmt: skip
    await img.notify_update()


async def unprotect(img: Image, name: str) -> None:
    from pyceph.rbdlib import clone

    await img.refresh_if_required()
    _writable(img)
    if not img.state.features & RBD_FEATURE_LAYERING:
        raise CephError(errno.ENOSYS, "image must support layering")
    snap = img.state.snap_by_name(name)
    if snap.protection == T.RBD_PROTECTION_STATUS_UNPROTECTED:
        raise CephError(errno.EINVAL, "snapshot is already unprotected")
    await cls_client.set_protection_status(img.ioctx, img.header_oid, snap.id,
                                           T.RBD_PROTECTION_STATUS_UNPROTECTING)  # fmt: skip
    try:
        if await clone.snap_children(img, snap.id, names=False):
            raise CephError(errno.EBUSY, "snapshot has children")
    except CephError:
        await cls_client.set_protection_status(img.ioctx, img.header_oid, snap.id,
                                               T.RBD_PROTECTION_STATUS_PROTECTED)  # fmt: skip
        raise
    await cls_client.set_protection_status(img.ioctx, img.header_oid, snap.id,
                                           T.RBD_PROTECTION_STATUS_UNPROTECTED)  # fmt: skip
    await img.notify_update()


async def set_limit(img: Image, limit: int) -> None:
    img._check_open()
    _writable(img)
    if limit < 0:
        raise CephError(errno.EINVAL, "negative snapshot limit")
    await cls_client.snapshot_set_limit(img.ioctx, img.header_oid, limit)
    await img.notify_update()


async def rollback(img: Image, name: str, progress: Progress | None = None) -> None:
    """Make the head what it was at snapshot `name` (SnapshotRollbackRequest)."""
    await img.refresh_if_required()
    _writable(img)
    snap = img.state.snap_by_name(name)
    head_size = img.state.size
    if head_size != snap.size:
        await img.resize(snap.size, True)
    layout = img.layout
    total = layout.num_objects(snap.size)
    done = 0

    async def one(objectno: int) -> None:
        nonlocal done
        await ignore_enoent(img.data_ioctx.rollback(img.data_oid(objectno), snap.id))
        done += 1
        report(progress, done, total)

    await bounded(range(total), one, management_ops(img.ioctx))
    await object_map.rollback(img, snap.id)
    if total == 0:
        report(progress, 0, 0)
    await img.notify_update()
