"""The image trash: move, list, get, restore, remove and purge (librbd ``api/Trash.cc``,
``trash/MoveRequest.cc``, ``trash/RemoveRequest.cc``, Ceph 16.2).

A trashed image keeps its id, header and data; it leaves the name space (its
``rbd_id.<name>`` object and its ``rbd_directory`` entry go) and gains an entry
``id_<image id>`` -> `TrashImageSpec` {source, name, deletion_time, deferment_end_time,
state} in the namespace's ``rbd_trash`` object, kept by the ``rbd`` class. The entry's
state walks MOVING -> NORMAL on a move, NORMAL -> RESTORING -> (entry removed) on a
restore and NORMAL -> REMOVING -> (entry removed) on a removal, so an interrupted
operation is found again and refused or resumed as upstream does.

Entries are returned as plain dicts ``{id, name, source, deletion_time,
deferment_end_time}`` with `source` upstream's ``RBD_TRASH_IMAGE_SOURCE_*`` int and the
times as integer epoch seconds (upstream's ``trash_image_info_t``).
"""

from __future__ import annotations

import errno
import json
import logging
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.client.op import ObjectOp
from pyceph.cls.rbd_types import (
    TRASH_IMAGE_SOURCE_MIRRORING,
    TRASH_IMAGE_SOURCE_REMOVING,
    TRASH_IMAGE_SOURCE_USER,
    TRASH_IMAGE_SOURCE_USER_PARENT,
    TRASH_IMAGE_STATE_MOVING,
    TRASH_IMAGE_STATE_NORMAL,
    TRASH_IMAGE_STATE_REMOVING,
    TRASH_IMAGE_STATE_RESTORING,
    TrashImageSpec,
)
from pyceph.common.denc import utime_of
from pyceph.common.errors import CephError
from pyceph.rbdlib import _util, cls_client
from pyceph.rbdlib._util import Progress, ignore_enoent, pool_name, report
from pyceph.rbdlib.features import RBD_FEATURE_MIGRATING
from pyceph.rbdlib.layout import (
    RBD_DIRECTORY,
    RBD_TRASH,
    header_name,
    id_obj_name,
    old_header_name,
)

log = logging.getLogger("pyceph.rbdlib.trash")

#: rbd_trash entries read per trash_list call (upstream's list_trash_image_specs page).
TRASH_LIST_PAGE = 1024
#: Sources `trash_restore` accepts (upstream's Trash::RESTORE_SOURCE_WHITELIST).
RESTORE_SOURCE_WHITELIST = frozenset(
    {TRASH_IMAGE_SOURCE_USER, TRASH_IMAGE_SOURCE_MIRRORING, TRASH_IMAGE_SOURCE_USER_PARENT}
)
#: Sources `trash_purge` considers.
PURGE_SOURCES = frozenset({TRASH_IMAGE_SOURCE_USER, TRASH_IMAGE_SOURCE_USER_PARENT})
#: Errors that leave an image in the trash for another purge pass (upstream's list).
PURGE_RETRY_ERRNOS = frozenset({errno.ENOTEMPTY, errno.EBUSY, errno.EMLINK, errno.EUCLEAN})
#: `threshold` value meaning "no threshold".
NO_THRESHOLD = -1.0


def _entry(image_id: str, spec: TrashImageSpec) -> dict[str, Any]:
    return {
        "id": image_id,
        "name": spec.name,
        "source": spec.source,
        "deletion_time": int(spec.deletion_time[0]),
        "deferment_end_time": int(spec.deferment_end_time[0]),
    }


async def list_trash_specs(
    ioctx: IoCtx, exclude_user_remove_source: bool = True
) -> dict[str, TrashImageSpec]:
    """Every rbd_trash entry {image id: spec} (Trash.cc list_trash_image_specs)."""
    out: dict[str, TrashImageSpec] = {}
    start = ""
    while True:
        try:
            page = await cls_client.trash_list(ioctx, RBD_TRASH, start, TRASH_LIST_PAGE)
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        for image_id, spec in page.items():
            if exclude_user_remove_source and spec.source == TRASH_IMAGE_SOURCE_REMOVING:
                continue
            out[image_id] = spec
        if len(page) < TRASH_LIST_PAGE:
            return out
        start = max(page)


# -- move ----------------------------------------------------------------------------------
async def trash_move(
    ioctx: IoCtx, name: str, delay: int = 0, source: int = TRASH_IMAGE_SOURCE_USER
) -> None:
    """Trash::move: move image `name` to the trash, removable `delay` seconds from now.

    ENOENT for a missing image, EOPNOTSUPP for a format-1 image, EBUSY for a migrating
    one. An interrupted move of the same name (its entry still MOVING) is completed.
    """
    try:
        image_id = await cls_client.dir_get_id(ioctx, RBD_DIRECTORY, name)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        if await ignore_enoent(ioctx.stat(old_header_name(name))) is not None:
            raise CephError(errno.EOPNOTSUPP, "cannot move v1 image to trash") from None
        image_id = ""
        for tid, spec in (await list_trash_specs(ioctx)).items():
            if (spec.source == TRASH_IMAGE_SOURCE_USER and spec.state == TRASH_IMAGE_STATE_MOVING
                    and spec.name == name):  # fmt: skip
                image_id = tid
                break
        if not image_id:
            raise CephError(errno.ENOENT, f"image {name} does not exist") from None
    if not name or not image_id:
        raise CephError(errno.EINVAL, "invalid image name/id")
    now = _util.now(ioctx)
    await move_by_id(ioctx, source, name, image_id, now, now + delay)


async def move_by_id(
    ioctx: IoCtx,
    source: int,
    name: str,
    image_id: str,
    deletion_time: float,
    deferment_end_time: float,
) -> None:
    """The inner Trash::move with a known id: check the image, then MoveRequest (trash
    entry in state MOVING, id object and directory entry removed) and the entry marked
    NORMAL."""
    from pyceph.rbdlib.image import open_image

    try:
        img = await open_image(ioctx, image_id=image_id, read_only=True)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        img = None  # header gone: the entry still moves (upstream does the same)
    if img is not None:
        try:
            if img.state.features & RBD_FEATURE_MIGRATING:
                raise CephError(errno.EBUSY, "cannot move migrating image to trash")
            if source == TRASH_IMAGE_SOURCE_USER:
                await _disable_mirroring(img)
        finally:
            await img.close()
    spec = TrashImageSpec(
        source=source,
        name=name,
        deletion_time=utime_of(deletion_time),
        deferment_end_time=utime_of(deferment_end_time),
        state=TRASH_IMAGE_STATE_MOVING,
    )
    try:
        await cls_client.trash_add(ioctx, RBD_TRASH, image_id, spec)
    except CephError as e:
        if e.errno != errno.EEXIST:
            raise
        # resuming an interrupted move: the entry must be ours and still moving
        old = await cls_client.trash_get(ioctx, RBD_TRASH, image_id)
        if old.state != TRASH_IMAGE_STATE_MOVING or old.name != name:
            raise
    await ignore_enoent(ioctx.remove(id_obj_name(name)))
    await ignore_enoent(cls_client.dir_remove_image(ioctx, RBD_DIRECTORY, name, image_id))
    await cls_client.trash_state_set(ioctx, RBD_TRASH, image_id, TRASH_IMAGE_STATE_NORMAL,
                                     TRASH_IMAGE_STATE_MOVING)  # fmt: skip


def _mirror_hooks() -> Any:
    """The `mirror` module's trash hooks, or None while the engine has no mirroring."""
    import importlib

    try:
        return importlib.import_module("pyceph.rbdlib.mirror")
    except ModuleNotFoundError:
        return None


async def _disable_mirroring(img: Any) -> None:
    """Trash.cc disable_mirroring: a user-trashed image stops being mirrored."""
    mirror = _mirror_hooks()
    hook = getattr(mirror, "disable_for_trash", None)
    if hook is not None:
        await hook(img)


async def _enable_mirroring(ioctx: IoCtx, image_id: str) -> None:
    """Trash.cc enable_mirroring: a restored image is mirrored again in pool mode."""
    mirror = _mirror_hooks()
    hook = getattr(mirror, "enable_if_pool_mode", None)
    if hook is None:
        return
    try:
        await hook(ioctx, image_id)
    except CephError as e:  # not fatal upstream either
        log.debug("re-enabling mirroring of %s after restore: %s", image_id, e)


# -- list / get --------------------------------------------------------------------------------
async def trash_list(ioctx: IoCtx) -> list[dict[str, Any]]:
    """Trash::list (rbd_trash_list): every entry except those of images being removed."""
    specs = await list_trash_specs(ioctx, exclude_user_remove_source=True)
    return [_entry(i, s) for i, s in specs.items()]


async def trash_get(ioctx: IoCtx, image_id: str) -> dict[str, Any]:
    """Trash::get: one entry (ENOENT when the id is not in the trash)."""
    spec = await cls_client.trash_get(ioctx, RBD_TRASH, image_id)
    return _entry(image_id, spec)


async def trash_stats(ioctx: IoCtx) -> dict[str, int]:
    """The trash half of api::Pool::get_stats: {trash_count, trash_provisioned_bytes,
    trash_max_provisioned_bytes, trash_snap_count} over every trash entry."""
    from pyceph.rbdlib.image import open_image

    count = prov = snaps = 0
    for image_id in await list_trash_specs(ioctx, exclude_user_remove_source=False):
        try:
            img = await open_image(ioctx, image_id=image_id, read_only=True)
        except CephError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        try:
            count += 1
            prov += img.state.size
            snaps += len(img.state.snaps)
        finally:
            await img.close()
    return {"trash_count": count, "trash_provisioned_bytes": prov,
            "trash_max_provisioned_bytes": prov, "trash_snap_count": snaps}  # fmt: skip


# -- restore ------------------------------------------------------------------------------------
async def trash_restore(
    ioctx: IoCtx,
    image_id: str,
    name: str = "",
    allowed_sources: frozenset[int] = RESTORE_SOURCE_WHITELIST,
) -> None:
    """Trash::restore: give a trashed image a name again (its old one when `name` is
    empty). ENOENT for an unknown id, EINVAL for a source not restorable, EBUSY while
    it is being removed, EEXIST when another image has the name."""
    spec = await cls_client.trash_get(ioctx, RBD_TRASH, image_id)
    if spec.source not in allowed_sources:
        raise CephError(errno.EINVAL, f"current trash source {spec.source} does not match "
                        "the allowed sources")  # fmt: skip
    if spec.state not in (TRASH_IMAGE_STATE_NORMAL, TRASH_IMAGE_STATE_RESTORING):
        raise CephError(errno.EBUSY, f"image {image_id} is pending deletion")
    await _state_set(ioctx, image_id, TRASH_IMAGE_STATE_RESTORING, TRASH_IMAGE_STATE_NORMAL)
    image_name = name or spec.name
    create_id_obj = True
    try:
        existing = await cls_client.get_id(ioctx, id_obj_name(image_name))
    except CephError as e:
        if e.errno != errno.ENOENT:
            await _revert_restoring(ioctx, image_id)
            raise
        existing = None
    if existing is not None:
        if existing != image_id:
            await _revert_restoring(ioctx, image_id)
            raise CephError(errno.EEXIST, f"an image named {image_name} already exists")
        create_id_obj = False  # completing an interrupted restore
    if create_id_obj:
        op = ObjectOp()
        op.create(True)
        cls_client.set_id_op(op, image_id)
        await ioctx.operate(id_obj_name(image_name), op)
    try:
        await cls_client.dir_add_image(ioctx, RBD_DIRECTORY, image_name, image_id)
    except CephError as e:
        if e.errno != errno.EEXIST:
            raise
    await _enable_mirroring(ioctx, image_id)
    await ignore_enoent(cls_client.trash_remove(ioctx, RBD_TRASH, image_id))


async def _state_set(ioctx: IoCtx, image_id: str, state: int, expect: int) -> None:
    try:
        await cls_client.trash_state_set(ioctx, RBD_TRASH, image_id, state, expect)
    except CephError as e:
        if e.errno != errno.EOPNOTSUPP:
            raise


async def _revert_restoring(ioctx: IoCtx, image_id: str) -> None:
    try:
        await _state_set(ioctx, image_id, TRASH_IMAGE_STATE_NORMAL, TRASH_IMAGE_STATE_RESTORING)
    except CephError as e:
        log.warning("resetting the trash state of %s: %s", image_id, e)


# -- remove ---------------------------------------------------------------------------------------
async def trash_remove(
    ioctx: IoCtx, image_id: str, force: bool = False, progress: Progress | None = None
) -> None:
    """Trash::remove: delete a trashed image for good. ENOENT for an unknown id, EPERM
    before its deferment end unless `force`, EUCLEAN while it is still being moved,
    EBUSY while it is being restored; the image removal's own errors (ENOTEMPTY with
    snapshots, EBUSY with watchers, EMLINK in a group) leave the entry as it was."""
    spec = await cls_client.trash_get(ioctx, RBD_TRASH, image_id)
    if _util.now(ioctx) < _seconds(spec.deferment_end_time) and not force:
        raise CephError(errno.EPERM, "error: deferment time has not expired.")
    if spec.state == TRASH_IMAGE_STATE_MOVING:
        raise CephError(errno.EUCLEAN, "error: image is pending moving to the trash.")
    if spec.state not in (TRASH_IMAGE_STATE_NORMAL, TRASH_IMAGE_STATE_REMOVING):
        raise CephError(errno.EBUSY, "error: image is pending restoration.")
    await _remove_request(ioctx, image_id, progress)


async def _remove_request(ioctx: IoCtx, image_id: str, progress: Progress | None) -> None:
    """trash::RemoveRequest: entry to REMOVING, image::RemoveRequest by id, entry gone;
    a failed removal puts the entry back to NORMAL."""
    from pyceph.rbdlib.image import open_image
    from pyceph.rbdlib.pool import remove_open_image

    await _state_set(ioctx, image_id, TRASH_IMAGE_STATE_REMOVING, TRASH_IMAGE_STATE_NORMAL)
    try:
        try:
            img = await open_image(ioctx, image_id=image_id)
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            report(progress, 0, 0)  # header already gone: only the entry is left
        else:
            img.name = ""  # a trashed image owns no id object nor directory entry
            try:
                await remove_open_image(img, progress)
            finally:
                await img.close()
    except CephError:
        try:
            await _state_set(ioctx, image_id, TRASH_IMAGE_STATE_NORMAL,
                             TRASH_IMAGE_STATE_REMOVING)  # fmt: skip
        except CephError as e2:
            log.warning("resetting the trash state of %s: %s", image_id, e2)
        raise
    await ignore_enoent(cls_client.trash_remove(ioctx, RBD_TRASH, image_id))


def _seconds(t: tuple[int, int]) -> float:
    return t[0] + t[1] / 1e9


# -- purge ---------------------------------------------------------------------------------------
async def trash_purge(
    ioctx: IoCtx,
    expire_ts: int = 0,
    threshold: float = NO_THRESHOLD,
    progress: Progress | None = None,
) -> None:
    """Trash::purge: remove every user-trashed image whose deferment ended by
    `expire_ts` (epoch seconds; 0: now), and — with `threshold` in [0, 1] — the images
    (oldest deferment first) whose data brings each data pool's used fraction down to
    `threshold`. EINVAL for a threshold outside [0, 1]; images that cannot go yet
    (snapshots, busy, in a group) are retried while others go, then their first error
    is returned."""
    entries = [e for e in await trash_list(ioctx) if e["source"] in PURGE_SOURCES]
    to_remove: set[str] = set()
    if threshold != NO_THRESHOLD:
        if threshold < 0 or threshold > 1:
            raise CephError(errno.EINVAL, "argument 'threshold' is out of valid range")
        freed = await _select_by_threshold(ioctx, entries, threshold, to_remove)
        if freed == 0:
            log.debug("pool usage is lower than or equal to %s%%", threshold * 100)
            return
    if expire_ts == 0:
        expire_ts = int(_util.now(ioctx))
    to_remove.update(e["id"] for e in entries if expire_ts >= e["deferment_end_time"])
    total, done = len(to_remove), 0
    remove_err = 1
    pending = sorted(to_remove)
    while pending and remove_err == 1:
        remove_err = 0
        left: list[str] = []
        for image_id in pending:
            try:
                await cls_client.trash_get(ioctx, RBD_TRASH, image_id)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
                done += 1  # gone as a side effect of an earlier removal
                report(progress, done, total)
                continue
            try:
                await trash_remove(ioctx, image_id, force=True)
            except CephError as e:
                if e.errno in PURGE_RETRY_ERRNOS:
                    if not remove_err:
                        remove_err = -e.errno
                    left.append(image_id)
                    continue
                raise
            done += 1
            report(progress, done, total)
            remove_err = 1
        pending = left
    if pending:
        raise CephError(-remove_err if remove_err < 0 else errno.EBUSY,
                        f"couldn't remove {len(pending)} expired images")  # fmt: skip


async def _select_by_threshold(
    ioctx: IoCtx, entries: list[dict[str, Any]], threshold: float, to_remove: set[str]
) -> int:
    """The threshold half of Trash::purge: from ``ceph df``, for each data pool over
    `threshold`, pick images by deferment end until their data covers the excess."""
    from pyceph.rbdlib.image import open_image

    ret, out, outs = await ioctx.client.mon_command(json.dumps({"prefix": "df",
                                                                "format": "json"}))  # fmt: skip
    if ret < 0:
        raise CephError(-ret, outs)
    try:
        pools = json.loads(out)["pools"]
    except (ValueError, KeyError, TypeError):
        raise CephError(errno.EBADMSG, "ceph df json output could not be parsed") from None
    by_pool: dict[str, list[str]] = {}
    for e in sorted(entries, key=lambda e: e["deferment_end_time"]):
        try:
            dp = await cls_client.get_data_pool(ioctx, header_name(e["id"]))
        except CephError as err:
            if err.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
                raise
            dp = -1
        if dp == -1:
            dp = ioctx.pool_id
        try:
            by_pool.setdefault(pool_name(ioctx, dp), []).append(e["id"])
        except CephError:
            continue  # the data pool is gone
    freed = 0
    for p in pools:
        ids = by_pool.get(p.get("name"))
        if not ids:
            continue
        stats = p.get("stats", {})
        used = float(stats.get("percent_used", 0.0))
        if used <= threshold:
            continue
        freed = 0
        total_bytes = int(stats.get("max_avail", 0)) + int(stats.get("bytes_used", 0))
        goal = int(total_bytes * (used - threshold))
        for image_id in ids:
            try:
                img = await open_image(ioctx, image_id=image_id, read_only=True)
            except CephError as err:
                if err.errno == errno.ENOENT:
                    continue
                raise

            def count(offset: int, length: int, exists: bool) -> None:
                nonlocal freed
                if exists:
                    freed += length

            try:
                await img.diff_iterate(0, img.state.size, None, count, False, True)
            except CephError as err:
                log.debug("disk usage of %s: %s", image_id, err)
                continue
            finally:
                await img.close()
            to_remove.add(image_id)
            if freed >= goal:
                break
    return freed
