"""RBD groups: a named set of images with crash-consistent group snapshots (librbd
``api/Group.cc``, Ceph 16.2; the ``group_*`` / ``image_group_*`` methods of cls_rbd).

On disk, as upstream writes it:

* ``rbd_group_directory``: ``name_<group>`` -> id and ``id_<group id>`` -> name;
* ``rbd_group_header.<id>``: ``image_<pool:016x>_<image id>`` -> link state (ATTACHED 0,
  INCOMPLETE 1) and ``snapshot_<group snap id>`` -> `GroupSnapshot`;
* each member image's header: ``rbd_group_ref`` -> `GroupSpec` {pool, group id} (and the
  GROUP operation feature).

A group snapshot is one image snapshot per member in the group snapshot namespace, named
``.group.<pool hex>_<group id>_<group snap id>``; it is recorded INCOMPLETE first and
COMPLETE once every member has its snapshot, so an interrupted one is visible as such.
Images and groups share a namespace (EINVAL across namespaces).
"""

from __future__ import annotations

import errno
import random
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client, object_map
from pyceph.rbdlib._util import (
    Progress,
    bounded,
    ignore_enoent,
    ioctx_for_pool,
    management_ops,
    report,
)
from pyceph.rbdlib.layout import (
    CEPH_NOSNAP,
    RBD_DIRECTORY,
    RBD_GROUP_DIRECTORY,
    RBD_GROUP_HEADER_PREFIX,
    header_name,
)

#: Entries read per group_dir_list / group_image_list / group_snap_list call.
GROUP_LIST_PAGE = 1024
#: Bits of the random suffix of a generated group or group-snapshot id (upstream's
#: ``rand() % 0xFFFFFFFF``).
ID_SUFFIX_BOUND = 0xFFFFFFFF
#: The snapshot-create flags group_snap_create accepts (quiesce skipping; no-op here).
SNAP_CREATE_FLAGS = (1 << 0) | (1 << 1)


def group_header_name(group_id: str) -> str:
    """util::group_header_name."""
    return RBD_GROUP_HEADER_PREFIX + group_id


def generate_id(ioctx: IoCtx) -> str:
    """Group.cc generate_uuid: the client's instance id and a random u32, in hex."""
    return f"{ioctx.client.instance_id:x}{random.randrange(ID_SUFFIX_BOUND):x}"


def image_snap_name(pool_id: int, group_id: str, group_snap_id: str) -> str:
    """Group.cc calc_ind_image_snap_name: the member snapshots' name."""
    return f".group.{pool_id:x}_{group_id}_{group_snap_id}"


async def _group_id(ioctx: IoCtx, name: str) -> str:
    return await cls_client.dir_get_id(ioctx, RBD_GROUP_DIRECTORY, name)


# -- groups ----------------------------------------------------------------------------------
async def group_create(ioctx: IoCtx, name: str) -> None:
    """Group::create: directory entry, then an empty header (EEXIST for a used name,
    EINVAL for an empty one)."""
    group_id = generate_id(ioctx)
    await cls_client.group_dir_add(ioctx, RBD_GROUP_DIRECTORY, name, group_id)
    try:
        await ioctx.create(group_header_name(group_id), True)
    except CephError:
        await ignore_enoent(cls_client.group_dir_remove(ioctx, RBD_GROUP_DIRECTORY, name,
                                                        group_id))  # fmt: skip
        raise


async def group_remove(ioctx: IoCtx, name: str) -> None:
    """Group::remove: its snapshots, its members' links, header and directory entry go.
    A missing group is not an error (as upstream)."""
    try:
        group_id = await _group_id(ioctx, name)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return
    oid = group_header_name(group_id)
    for snap in await _list_snaps(ioctx, oid):
        await _snap_remove_by_record(ioctx, snap, group_id, oid)
    for st in await _list_images(ioctx, oid):
        image_ioctx = ioctx_for_pool(ioctx, st.spec.pool_id)
        await ignore_enoent(_image_remove_by_id(ioctx, group_id, image_ioctx, st.spec.image_id))
    await ignore_enoent(ioctx.remove(oid))
    await ignore_enoent(cls_client.group_dir_remove(ioctx, RBD_GROUP_DIRECTORY, name, group_id))


async def group_list(ioctx: IoCtx) -> list[str]:
    """Group::list: group names, sorted."""
    out: list[str] = []
    start = ""
    while True:
        try:
            page = await cls_client.group_dir_list(ioctx, RBD_GROUP_DIRECTORY, start,
                                                   GROUP_LIST_PAGE)  # fmt: skip
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        out.extend(page)
        if len(page) < GROUP_LIST_PAGE:
            return out
        start = out[-1]


async def group_rename(ioctx: IoCtx, src: str, dst: str) -> None:
    """Group::rename (ENOENT for a missing group, EEXIST for a used name)."""
    group_id = await _group_id(ioctx, src)
    await ignore_enoent(cls_client.group_dir_rename(ioctx, RBD_GROUP_DIRECTORY, src, dst,
                                                    group_id))  # fmt: skip


# -- members ----------------------------------------------------------------------------------
async def _list_images(ioctx: IoCtx, oid: str) -> list[T.GroupImageStatus]:
    out: list[T.GroupImageStatus] = []
    start: T.GroupImageSpec | None = None
    while True:
        page = await cls_client.group_image_list(ioctx, oid, start, GROUP_LIST_PAGE)
        out.extend(page)
        if len(page) < GROUP_LIST_PAGE:
            return out
        start = page[-1].spec


async def _notify_image(image_ioctx: IoCtx, image_id: str) -> None:
    from pyceph.rbdlib import header

    await header.notify_header_update(image_ioctx, header_name(image_id))


async def group_image_add(ioctx: IoCtx, group: str, image_ioctx: IoCtx, image: str) -> None:
    """Group::image_add: the group's link INCOMPLETE, the image's group reference, the
    link ATTACHED. ENOENT for a missing group or image, EEXIST for an image in another
    group, EINVAL across namespaces."""
    if ioctx.nspace != image_ioctx.nspace:
        raise CephError(errno.EINVAL, "group and image cannot be in different namespaces")
    group_id = await _group_id(ioctx, group)
    oid = group_header_name(group_id)
    image_id = await cls_client.dir_get_id(image_ioctx, RBD_DIRECTORY, image)
    spec = T.GroupImageSpec(image_id, image_ioctx.pool_id)
    await cls_client.group_image_set(ioctx, oid, T.GroupImageStatus(
        spec, T.GROUP_IMAGE_LINK_STATE_INCOMPLETE))  # fmt: skip
    try:
        await cls_client.image_group_add(image_ioctx, header_name(image_id),
                                         T.GroupSpec(group_id, ioctx.pool_id))  # fmt: skip
    except CephError:
        await ignore_enoent(cls_client.group_image_remove(ioctx, oid, spec))
        raise
    await _notify_image(image_ioctx, image_id)
    await cls_client.group_image_set(ioctx, oid, T.GroupImageStatus(
        spec, T.GROUP_IMAGE_LINK_STATE_ATTACHED))  # fmt: skip


async def group_image_remove(ioctx: IoCtx, group: str, image_ioctx: IoCtx, image: str) -> None:
    """Group::image_remove (ENOENT for a missing group or image)."""
    group_id = await _group_id(ioctx, group)
    image_id = await cls_client.dir_get_id(image_ioctx, RBD_DIRECTORY, image)
    await _image_remove_by_id(ioctx, group_id, image_ioctx, image_id)


async def _image_remove_by_id(
    ioctx: IoCtx, group_id: str, image_ioctx: IoCtx, image_id: str
) -> None:
    oid = group_header_name(group_id)
    spec = T.GroupImageSpec(image_id, image_ioctx.pool_id)
    await cls_client.group_image_set(ioctx, oid, T.GroupImageStatus(
        spec, T.GROUP_IMAGE_LINK_STATE_INCOMPLETE))  # fmt: skip
    try:
        await cls_client.image_group_remove(image_ioctx, header_name(image_id),
                                            T.GroupSpec(group_id, ioctx.pool_id))  # fmt: skip
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    else:
        await _notify_image(image_ioctx, image_id)
    await cls_client.group_image_remove(ioctx, oid, spec)


async def group_image_list(ioctx: IoCtx, group: str) -> list[dict[str, Any]]:
    """Group::image_list: [{name, pool (id), state}] of the members ([] for a missing
    group: upstream ignores the lookup's error there)."""
    try:
        oid = group_header_name(await _group_id(ioctx, group))
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return []
    out = []
    for st in await _list_images(ioctx, oid):
        image_ioctx = ioctx_for_pool(ioctx, st.spec.pool_id)
        name = await cls_client.dir_get_name(image_ioctx, RBD_DIRECTORY, st.spec.image_id)
        out.append({"name": name, "pool": st.spec.pool_id, "state": st.state})
    return out


async def image_get_group(image: Any) -> dict[str, Any]:
    """Group::image_get_group: {pool (id, -1 for none), name ('' for none)}."""
    spec = await cls_client.image_group_get(image.ioctx, image.header_oid)
    if spec.pool_id == -1:
        return {"pool": -1, "name": ""}
    gio = ioctx_for_pool(image.ioctx, spec.pool_id)
    name = await cls_client.dir_get_name(gio, RBD_GROUP_DIRECTORY, spec.group_id)
    return {"pool": spec.pool_id, "name": name}


# -- group snapshots ---------------------------------------------------------------------------
async def _list_snaps(ioctx: IoCtx, oid: str) -> list[T.GroupSnapshot]:
    out: list[T.GroupSnapshot] = []
    start: T.GroupSnapshot | None = None
    while True:
        page = await cls_client.group_snap_list(ioctx, oid, start, GROUP_LIST_PAGE)
        out.extend(page)
        if len(page) < GROUP_LIST_PAGE:
            return out
        start = page[-1]


async def _find_snap(ioctx: IoCtx, group: str, snap: str) -> tuple[str, T.GroupSnapshot]:
    group_id = await _group_id(ioctx, group)
    for s in await _list_snaps(ioctx, group_header_name(group_id)):
        if s.name == snap:
            return group_id, s
    raise CephError(errno.ENOENT, f"group snapshot {snap} does not exist")


async def _open_member(ioctx: IoCtx, pool_id: int, image_id: str) -> Any:
    from pyceph.rbdlib.image import open_image

    return await open_image(ioctx_for_pool(ioctx, pool_id), image_id=image_id)


def _member_snap_id(img: Any, ns: T.GroupSnapshotNamespace, name: str) -> int:
    for s in img.state.snaps.values():
        if s.name == name and s.namespace == ns:
            return int(s.id)
    return CEPH_NOSNAP


async def group_snap_create(ioctx: IoCtx, group: str, snap: str, flags: int = 0) -> None:
    """Group::snap_create: record the snapshot INCOMPLETE (EEXIST for a used name), take
    one group-namespace snapshot of every member, record it COMPLETE. EINVAL for unknown
    flags; a member failing undoes the member snapshots and the record."""
    if flags & ~SNAP_CREATE_FLAGS:
        raise CephError(errno.EINVAL, "invalid snapshot create flags")
    group_id = await _group_id(ioctx, group)
    oid = group_header_name(group_id)
    members = await _list_images(ioctx, oid)
    gsnap = T.GroupSnapshot(
        id=generate_id(ioctx),
        name=snap,
        state=T.GROUP_SNAPSHOT_STATE_INCOMPLETE,
        snaps=[T.ImageSnapshotSpec(m.spec.pool_id, m.spec.image_id) for m in members],
    )
    await cls_client.group_snap_set(ioctx, oid, gsnap)
    ns = T.GroupSnapshotNamespace(ioctx.pool_id, group_id, gsnap.id)
    name = image_snap_name(ioctx.pool_id, group_id, gsnap.id)
    taken: list[T.ImageSnapshotSpec] = []
    try:
        for m in members:
            img = await _open_member(ioctx, m.spec.pool_id, m.spec.image_id)
            try:
                snap_id = await _member_snap_create(img, ns, name)
            finally:
                await img.close()
            taken.append(T.ImageSnapshotSpec(m.spec.pool_id, m.spec.image_id, snap_id))
    except CephError:
        for s in taken:
            try:
                await _member_snap_remove(ioctx, s, ns, name)
            except CephError:
                pass  # best effort, as upstream's cleanup
        await ignore_enoent(cls_client.group_snap_remove(ioctx, oid, gsnap.id))
        raise
    gsnap.snaps = taken
    gsnap.state = T.GROUP_SNAPSHOT_STATE_COMPLETE
    await cls_client.group_snap_set(ioctx, oid, gsnap)


async def _member_snap_create(img: Any, ns: T.GroupSnapshotNamespace, name: str) -> int:
    """SnapshotCreateRequest in the group namespace: pool snap id, then the header."""
    async with img.write_access():
        snap_id = int(await img.data_ioctx.selfmanaged_snap_create())
        try:
            await cls_client.snapshot_add(img.ioctx, img.header_oid, snap_id, name, ns)
        except CephError:
            await img.data_ioctx.selfmanaged_snap_remove(snap_id)
            raise
        await object_map.snapshot_add(img, snap_id)
    await img.notify_update()
    return snap_id


async def _member_snap_remove(
    ioctx: IoCtx, s: T.ImageSnapshotSpec, ns: T.GroupSnapshotNamespace, name: str
) -> None:
    """Remove one member's group snapshot (gone image or snapshot: nothing to do)."""
    try:
        img = await _open_member(ioctx, s.pool, s.image_id)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    try:
        snap_id = _member_snap_id(img, ns, name)
        if snap_id != CEPH_NOSNAP:
            await img.remove_snap_by_id(snap_id)
    finally:
        await img.close()


async def _snap_remove_by_record(
    ioctx: IoCtx, gsnap: T.GroupSnapshot, group_id: str, oid: str
) -> None:
    ns = T.GroupSnapshotNamespace(ioctx.pool_id, group_id, gsnap.id)
    name = image_snap_name(ioctx.pool_id, group_id, gsnap.id)
    for s in gsnap.snaps:
        await _member_snap_remove(ioctx, s, ns, name)
    await cls_client.group_snap_remove(ioctx, oid, gsnap.id)


async def group_snap_remove(ioctx: IoCtx, group: str, snap: str) -> None:
    """Group::snap_remove (ENOENT for a missing group or snapshot)."""
    group_id, gsnap = await _find_snap(ioctx, group, snap)
    await _snap_remove_by_record(ioctx, gsnap, group_id, group_header_name(group_id))


async def group_snap_rename(ioctx: IoCtx, group: str, old: str, new: str) -> None:
    """Group::snap_rename (EEXIST for the same or a used name, ENOENT when missing)."""
    if old == new:
        raise CephError(errno.EEXIST, "new snapshot name is the same as the old one")
    group_id, gsnap = await _find_snap(ioctx, group, old)
    gsnap.name = new
    await cls_client.group_snap_set(ioctx, group_header_name(group_id), gsnap)


async def group_snap_list(ioctx: IoCtx, group: str) -> list[dict[str, Any]]:
    """Group::snap_list: [{name, state}] (state INCOMPLETE 0 / COMPLETE 1)."""
    oid = group_header_name(await _group_id(ioctx, group))
    return [{"name": s.name, "state": s.state} for s in await _list_snaps(ioctx, oid)]


async def group_snap_rollback(
    ioctx: IoCtx, group: str, snap: str, progress: Progress | None = None
) -> None:
    """Group::snap_rollback: every member back to its group snapshot. ENOENT for a
    missing group, snapshot or member snapshot; EINVAL for an incomplete snapshot."""
    group_id, gsnap = await _find_snap(ioctx, group, snap)
    if gsnap.state != T.GROUP_SNAPSHOT_STATE_COMPLETE:
        raise CephError(errno.EINVAL, "group snapshot is not complete")
    ns = T.GroupSnapshotNamespace(ioctx.pool_id, group_id, gsnap.id)
    name = image_snap_name(ioctx.pool_id, group_id, gsnap.id)
    images = [await _open_member(ioctx, s.pool, s.image_id) for s in gsnap.snaps]
    try:
        ids = [_member_snap_id(img, ns, name) for img in images]
        if CEPH_NOSNAP in ids:
            raise CephError(errno.ENOENT, "group snapshot of an image is missing")
        for i, (img, snap_id) in enumerate(zip(images, ids, strict=True)):
            await _rollback_to(img, snap_id)
            report(progress, i + 1, len(images))
    finally:
        for img in images:
            await img.close()


async def _rollback_to(img: Any, snap_id: int) -> None:
    """SnapshotRollbackRequest by snapshot id: head resized to the snapshot, each object
    rolled back, the object map too."""
    async with img.write_access():
        snap = img.state.snaps[snap_id]
        if img.state.size != snap.size:
            await img.resize(snap.size, True)
        total = img.layout.num_objects(snap.size)

        async def one(objectno: int) -> None:
            await ignore_enoent(img.data_ioctx.rollback(img.data_oid(objectno), snap_id))

        await bounded(range(total), one, management_ops(img.ioctx))
        await object_map.rollback(img, snap_id)
    await img.notify_update()


async def snap_get_group_namespace(image: Any, snap_id: int) -> dict[str, Any]:
    """Snapshot::get_group_namespace: {pool, name, snap_name} of a group snapshot's
    member (EINVAL for another namespace, ENOENT for a missing snapshot)."""
    await image.refresh_if_required()
    snap = image.state.snaps.get(snap_id)
    if snap is None:
        raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
    ns = snap.namespace
    if not isinstance(ns, T.GroupSnapshotNamespace):
        raise CephError(errno.EINVAL, "not a group snapshot")
    gio = ioctx_for_pool(image.ioctx, ns.group_pool)
    group = await cls_client.dir_get_name(gio, RBD_GROUP_DIRECTORY, ns.group_id)
    gsnap = await cls_client.group_snap_get_by_id(gio, group_header_name(ns.group_id),
                                                  ns.group_snapshot_id)  # fmt: skip
    return {"pool": ns.group_pool, "name": group, "snap_name": gsnap.name}


__all__ = [
    "group_create",
    "group_image_add",
    "group_image_list",
    "group_image_remove",
    "group_list",
    "group_remove",
    "group_rename",
    "group_snap_create",
    "group_snap_list",
    "group_snap_remove",
    "group_snap_rename",
    "group_snap_rollback",
    "image_get_group",
    "snap_get_group_namespace",
]
