"""Pool-level image operations: list, remove, rename, pool_init and pool metadata
(librbd api::Image list/list_images_v2, image::RemoveRequest, api::Image::rename,
api::Pool::init, api::PoolMetadata, image::ValidatePoolRequest).

Removal follows RemoveRequest: an image other clients watch is busy (EBUSY), one with
snapshots refuses (ENOTEMPTY, `ImageHasSnapshots`), one in a group refuses (EMLINK);
then its data objects go (bounded fan-out, progress per object), its parent link, its
object maps, header, id object and directory entry.
"""

from __future__ import annotations

import errno
import json
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.client.op import ObjectOp
from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client, object_map, v1
from pyceph.rbdlib._util import Progress, bounded, ignore_enoent, management_ops, pool_name, report
from pyceph.rbdlib.create import exists_v2, validate_pool
from pyceph.rbdlib.image import Image, open_image
from pyceph.rbdlib.layout import (
    CEPH_NOSNAP,
    RBD_DIRECTORY,
    RBD_INFO,
    id_obj_name,
    old_header_name,
)

#: rbd_directory entries read per dir_list call.
DIR_LIST_PAGE = 1024
#: Entries read per metadata_list call (the class's default page).
METADATA_PAGE = 64


async def list_images2(ioctx: IoCtx) -> list[dict[str, str]]:
    """Every image of the pool's namespace: the format-1 images of `rbd_directory`'s
    tmap first (id ""), then the format-2 ones, [{id, name}] sorted by name."""
    out: list[dict[str, str]] = [{"id": "", "name": n} for n in await v1.directory_names(ioctx)]
    start = ""
    while True:
        try:
            page = await cls_client.dir_list(ioctx, RBD_DIRECTORY, start, DIR_LIST_PAGE)
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        out.extend({"id": i, "name": n} for n, i in page.items())
        if len(page) < DIR_LIST_PAGE:
            return out
        start = next(reversed(page))


async def list_images(ioctx: IoCtx) -> list[str]:
    """Names of the pool's images."""
    return [e["name"] for e in await list_images2(ioctx)]


async def remove(ioctx: IoCtx, name: str, progress: Progress | None = None) -> None:
    """Delete image `name` and all its objects (into the trash instead when
    `rbd_move_to_trash_on_remove`)."""
    if ioctx.client.config.get("rbd_move_to_trash_on_remove"):
        from pyceph.rbdlib import trash

        await trash.trash_move(ioctx, name, 0)
        return
    try:
        img = await open_image(ioctx, name)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        await _remove_stale_entry(ioctx, name)
        return
    try:
        await remove_open_image(img, progress)
    finally:
        await img.close()


async def _remove_stale_entry(ioctx: IoCtx, name: str) -> None:
    """A directory entry left without an image (a crashed create/remove): the format-1
    tmap entry first, then the format-2 one (RemoveRequest of an unknown format)."""
    try:
        await v1.tmap_rm(ioctx, name)
        return
    except CephError as e:
        if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
            raise
    try:
        image_id = await cls_client.dir_get_id(ioctx, RBD_DIRECTORY, name)
    except CephError as e:
        raise CephError(errno.ENOENT, f"image {name} does not exist") from e
    await cls_client.dir_remove_image(ioctx, RBD_DIRECTORY, name, image_id)


#: snapshot namespaces removal prunes instead of refusing (PreRemoveRequest's
#: auto_delete_snapshot: trash; mirror snapshots go with mirroring being disabled)
_AUTO_DELETE_SNAP_TYPES = (T.SNAPSHOT_NAMESPACE_TYPE_TRASH, T.SNAPSHOT_NAMESPACE_TYPE_MIRROR)


async def remove_open_image(img: Image, progress: Progress | None = None) -> None:
    """RemoveRequest on an image this client opened for the purpose.

    The checks run in librbd's PreRemoveRequest order and change nothing when one
    fails: user/group snapshots (ENOTEMPTY), other clients watching (EBUSY), group
    membership (EMLINK); then mirroring is disabled and trash- and mirror-namespace
    snapshots are pruned (one still holding a clone is skipped and the removal fails
    with ECHILD)."""
    if img.old_format():
        await _remove_v1(img, progress)
        return
    ioctx = img.ioctx
    auto_delete = []
    for snap in img.state.snaps.values():
        if (
            getattr(snap.namespace, "type", T.SNAPSHOT_NAMESPACE_TYPE_USER)
            in _AUTO_DELETE_SNAP_TYPES
        ):
            auto_delete.append(snap.id)
        else:
            raise CephError(errno.ENOTEMPTY, "image has snapshots - not removing")
    await _check_no_other_watchers(img)
    try:
        group = await ignore_enoent(cls_client.image_group_get(ioctx, img.header_oid))
    except CephError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.ENOEXEC):
            raise
        group = None  # an OSD class without groups
    if group is not None and group.is_valid():
        raise CephError(errno.EMLINK, "image is in a group - not removing")
    await _disable_mirroring(img)
    await _prune_snapshots(img, auto_delete)
    await trim_objects(img, 0, progress)
    await detach_parent(img)
    await object_map.remove_all(img)
    await img.close()
    await ignore_enoent(ioctx.remove(img.header_oid))
    if img.name:
        await ignore_enoent(ioctx.remove(id_obj_name(img.name)))
        await ignore_enoent(cls_client.dir_remove_image(ioctx, RBD_DIRECTORY, img.name, img.id))


async def _remove_v1(img: Image, progress: Progress | None) -> None:
    """RemoveRequest of a format-1 image: refuse with snapshots (ENOTEMPTY) or other
    watchers (EBUSY); remove the data objects and the header, then the `rbd_directory`
    tmap entry, whose failure (ENOENT for an unlisted image) is the removal's result."""
    if img.state.snaps:
        raise CephError(errno.ENOTEMPTY, "image has snapshots - not removing")
    await _check_no_other_watchers(img)
    await trim_objects(img, 0, progress)
    await img.close()
    await ignore_enoent(img.ioctx.remove(img.header_oid))
    await v1.tmap_rm(img.ioctx, img.name)


async def _check_no_other_watchers(img: Image) -> None:
    """PreRemoveRequest::check_image_watchers: EBUSY while another client watches."""
    me = img.ioctx.client.instance_id
    watchers = [w for w in await img.ioctx.list_watchers(img.header_oid)
                if not (_watcher_gid(w) == me and int(w.get("cookie", 0)) == _cookie(img))]  # fmt: skip
    if watchers:
        raise CephError(errno.EBUSY, "image has watchers - not removing")


async def _disable_mirroring(img: Image) -> None:
    """RemoveRequest::disable_mirror: a mirrored image stops being mirrored (record,
    status and mirror snapshots gone) before its data goes; a non-primary image refuses
    (EINVAL) and stays."""
    from pyceph.rbdlib import mirror

    await mirror.disable_for_remove(img)


async def _prune_snapshots(img: Image, snap_ids: list[int]) -> None:
    """PreRemoveRequest::remove_snapshot: drop the auto-deleted snapshots; one a clone
    still depends on is skipped and the removal fails with ECHILD at the end."""
    from pyceph.rbdlib import snapshots

    attached = False
    for snap_id in snap_ids:
        children = await ignore_enoent(cls_client.children_list(img.ioctx, img.header_oid, snap_id))
        if children:
            attached = True
            continue
        try:
            await snapshots.remove_by_id(img, snap_id)
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    if attached:
        raise CephError(errno.ECHILD, "image has a snapshot with attached clones")


def _watcher_gid(w: dict[str, Any]) -> int:
    name = str(w.get("name", w.get("watcher", "")))
    if "." in name:
        try:
            return int(name.split(".", 1)[1])
        except ValueError:
            return -1
    return int(w.get("id", -1) or -1)


def _cookie(img: Image) -> int:
    watch = img._watch
    return int(getattr(watch, "cookie", -1)) if watch is not None else -1


async def trim_objects(img: Image, start_objectno: int, progress: Progress | None) -> None:
    """Remove data objects from `start_objectno` to the end of the image (at the head)."""
    total = img.layout.num_objects(img.state.size)
    # objects may exist past the head size at older snapshots: those stay for them

    async def one(objectno: int) -> None:
        # operation::TrimRequest through AsyncObjectThrottle: progress is the number of
        # the object just issued, so the last call is (total - 1, total)
        report(progress, objectno, total)
        await ignore_enoent(img.data_ioctx.remove(img.data_oid(objectno)))

    await bounded(range(start_objectno, total), one, management_ops(img.ioctx))
    if total == 0:
        report(progress, 0, 0)


async def detach_parent(img: Image) -> None:
    """Unlink a clone from its parent: clone v2 child_detach on the parent's header,
    clone v1 remove_child from the parent pool's rbd_children."""
    from pyceph.rbdlib import clone

    spec, _ = img.state.parent_at(CEPH_NOSNAP)
    if spec is None:
        return
    await clone.detach_child(img, spec)


async def rename(ioctx: IoCtx, src: str, dst: str) -> None:
    """Rename an image: a new id object, the directory entry, the old id object gone
    (ENOENT for a missing source, EEXIST for a taken name).

    As librbd's operation::RenameRequest, a directory update that fails (EINVAL for an
    empty name, from cls dir_rename_image) leaves the new id object behind: the real
    16.2.15 then resolves the bad name through it (the compat recording of
    rbd_bad_input: removing "" afterwards reports the image's snapshots)."""
    try:
        image_id = await cls_client.get_id(ioctx, id_obj_name(src))
    except CephError as e:
        if e.errno != errno.ENOENT or not await v1.detect(ioctx, src):
            raise
        await _rename_v1(ioctx, src, dst)
        return
    if src == dst or await v1.detect(ioctx, dst):
        raise CephError(errno.EEXIST, f"image {dst} exists")
    op = ObjectOp()
    op.create(True)
    cls_client.set_id_op(op, image_id)
    await ioctx.operate(id_obj_name(dst), op)
    await cls_client.dir_rename_image(ioctx, RBD_DIRECTORY, src, dst, image_id)
    await ignore_enoent(ioctx.remove(id_obj_name(src)))
    from pyceph.rbdlib import header

    await header.notify_header_update(ioctx, f"rbd_header.{image_id}")


async def _rename_v1(ioctx: IoCtx, src: str, dst: str) -> None:
    """Operations::rename of a format-1 image: EEXIST when an image of either format is
    called `dst`; the opens of the image are told (its header object is gone)."""
    from pyceph.rbdlib import header

    if src == dst or await v1.detect(ioctx, dst) or await exists_v2(ioctx, dst):
        raise CephError(errno.EEXIST, f"image {dst} exists")
    await header.notify_header_update(ioctx, old_header_name(src))
    await v1.rename(ioctx, src, dst)


async def pool_init(ioctx: IoCtx, force: bool = False) -> None:
    """api::Pool::init: validate the pool unless `force`, then enable application rbd."""
    if not force:
        await validate_pool(ioctx)
    cmd = {
        "prefix": "osd pool application enable",
        "pool": pool_name(ioctx, ioctx.pool_id),
        "app": "rbd",
        "yes_i_really_mean_it": True,
    }
    ret, _out, outs = await ioctx.client.mon_command(json.dumps(cmd))
    if ret < 0:
        raise CephError(-ret, outs)


# -- pool metadata (omap of rbd_info through the rbd class) ----------------------------------
async def pool_metadata_get(ioctx: IoCtx, key: str) -> str:
    """One pool metadata value (ENOENT when absent)."""
    return await cls_client.metadata_get(ioctx, RBD_INFO, key)


async def pool_metadata_set(ioctx: IoCtx, key: str, value: str) -> None:
    """Set a pool metadata key; a `conf_` key is checked as an image's is
    (api::PoolMetadata::set: EINVAL, nothing set)."""
    from pyceph.rbdlib.config import validate_metadata

    validate_metadata(key, value)
    await cls_client.metadata_set(ioctx, RBD_INFO, {key: value})


async def pool_metadata_remove(ioctx: IoCtx, key: str) -> None:
    """Remove a key (ENOENT when absent)."""
    await cls_client.metadata_get(ioctx, RBD_INFO, key)
    await cls_client.metadata_remove(ioctx, RBD_INFO, key)


async def pool_metadata_list(ioctx: IoCtx) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    start = ""
    while True:
        try:
            page = await cls_client.metadata_list(ioctx, RBD_INFO, start, METADATA_PAGE)
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        out.extend((k, v.decode("utf-8", "surrogateescape")) for k, v in page.items())
        if len(page) < METADATA_PAGE:
            return out
        start = out[-1][0]


async def pool_stats_get(ioctx: IoCtx) -> dict[str, int]:
    """api::Pool::get_stats' image counters: images and their provisioned bytes, and
    snapshots and theirs (trash counters are zero)."""
    images = snaps = prov = snap_prov = 0
    for entry in await list_images2(ioctx):
        try:
            img = await open_image(ioctx, image_id=entry["id"], read_only=True)
        except CephError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        try:
            images += 1
            prov += img.state.size
            snaps += len(img.state.snaps)
            snap_prov += sum(s.size for s in img.state.snaps.values())
        finally:
            await img.close()
    return {
        "image_count": images,
        "image_provisioned_bytes": prov,
        "image_max_provisioned_bytes": prov,
        "image_snap_count": snaps,
        "trash_count": 0,
        "trash_provisioned_bytes": 0,
        "trash_max_provisioned_bytes": 0,
        "trash_snap_count": 0,
    }


async def config_list(ioctx: IoCtx) -> list[dict[str, Any]]:
    """Pool-level config overrides: [{name, value, source}] (see `config`)."""
    from pyceph.rbdlib import config

    return await config.config_list_pool(ioctx)
