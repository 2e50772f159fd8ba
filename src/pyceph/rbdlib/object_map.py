"""Object-map maintenance (librbd ObjectMap and object_map::*Request): a per-image
2-bit state per object in `rbd_object_map.<id>` (and a frozen copy per snapshot,
`rbd_object_map.<id>.<snapid:016x>`), kept by the `rbd` class methods.

A writable head open of an image with the object-map feature loads the map and keeps
it current: an object becomes EXISTS before the first write reaches it (the update
goes out only when the cached state differs, as ObjectMap::aio_update), and
NONEXISTENT after it is removed; a resize resizes the map; a snapshot saves the map as
the snapshot's and marks the head's objects EXISTS_CLEAN (`object_map_snap_add`, what
fast-diff reads); removing a snapshot folds its map back (`object_map_snap_remove`);
a rollback copies the snapshot's map over the head's. `check` verifies a map against
the objects that exist (librbd ObjectMapIterateRequest) and flags it invalid when it
claims less than is there.
"""

from __future__ import annotations

import bisect
import errno
from typing import TYPE_CHECKING, Any

from pyceph.cls.rbd_bitvector import BitVector2
from pyceph.cls.rbd_types import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
)
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib._util import ignore_enoent
from pyceph.rbdlib.features import (
    RBD_FEATURE_OBJECT_MAP,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_FLAG_OBJECT_MAP_INVALID,
)
from pyceph.rbdlib.layout import CEPH_NOSNAP, object_map_name

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image


def enabled(img: Image) -> bool:
    """Whether this open maintains the map (object-map on, a writable head open)."""
    return bool(
        img.state.features & RBD_FEATURE_OBJECT_MAP
        and not img.read_only
        and img.snap_id == CEPH_NOSNAP
    )


async def load(img: Image) -> BitVector2 | None:
    """The head map (a missing or short one is resized to the image, as a refresh
    would), or None when the image has no object map."""
    if not img.state.features & RBD_FEATURE_OBJECT_MAP:
        return None
    oid = object_map_name(img.id)
    count = img.layout.num_objects(img.state.size)
    try:
        omap = await cls_client.object_map_load(img.ioctx, oid)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        omap = BitVector2(0)
    if len(omap) != count and not img.read_only:
        await cls_client.object_map_resize(img.ioctx, oid, count, OBJECT_NONEXISTENT)
        omap.resize(count)
    return omap


async def mark(img: Image, objectno: int, state: int, current: int | None = None) -> None:
    """Record `state` for one object unless the cached map has it already; with
    `current`, only if the object is still in that state (ObjectMap::aio_update)."""
    omap = img.object_map
    if omap is None or not enabled(img) or objectno >= len(omap):
        return
    if omap[objectno] == state or (current is not None and omap[objectno] != current):
        return
    await cls_client.object_map_update(img.ioctx, object_map_name(img.id), objectno,
                                       objectno + 1, state, current)  # fmt: skip
    if current is None or omap[objectno] == current:
        omap[objectno] = state


async def before_write(img: Image, objectno: int) -> None:
    """A write is about to reach the object: EXISTS first."""
    await mark(img, objectno, OBJECT_EXISTS)


async def before_remove(img: Image, objectno: int) -> None:
    """An object is about to be removed: PENDING until it is gone."""
    await mark(img, objectno, OBJECT_PENDING)


async def after_remove(img: Image, objectno: int) -> None:
    """The object is gone: NONEXISTENT, unless a later write made it EXISTS meanwhile."""
    await mark(img, objectno, OBJECT_NONEXISTENT, OBJECT_PENDING)


async def resize(img: Image, new_size: int) -> None:
    omap = img.object_map
    if omap is None or not enabled(img):
        return
    count = img.layout.num_objects(new_size)
    if count < len(omap):  # the trim left the objects past the end NONEXISTENT
        await cls_client.object_map_update(img.ioctx, object_map_name(img.id), count,
                                           len(omap), OBJECT_NONEXISTENT)  # fmt: skip
    await cls_client.object_map_resize(img.ioctx, object_map_name(img.id), count,
                                       OBJECT_NONEXISTENT)  # fmt: skip
    omap.resize(count)


async def snapshot_add(img: Image, snap_id: int) -> None:
    """Freeze the head map as the snapshot's; head objects become EXISTS_CLEAN."""
    omap = img.object_map
    if omap is None or not enabled(img):
        return
    await cls_client.object_map_save(img.ioctx, object_map_name(img.id, snap_id), omap)
    await cls_client.object_map_snap_add(img.ioctx, object_map_name(img.id))
    omap.translate({OBJECT_EXISTS: OBJECT_EXISTS_CLEAN})


async def snapshot_remove(img: Image, snap_id: int) -> None:
    """Fold the snapshot's map into the head's, then drop it."""
    snap_oid = object_map_name(img.id, snap_id)
    if img.state.features & RBD_FEATURE_OBJECT_MAP:
        snap_map = await ignore_enoent(cls_client.object_map_load(img.ioctx, snap_oid))
        if snap_map is not None and enabled(img):
            await cls_client.object_map_snap_remove(img.ioctx, object_map_name(img.id),
                                                    snap_map)  # fmt: skip
            img.object_map = await load(img)
    await ignore_enoent(img.ioctx.remove(snap_oid))


async def rollback(img: Image, snap_id: int) -> None:
    """The head map becomes the snapshot's."""
    if not enabled(img):
        return
    snap_map = await ignore_enoent(
        cls_client.object_map_load(img.ioctx, object_map_name(img.id, snap_id))
    )
    if snap_map is None:
        return
    snap_map.resize(img.layout.num_objects(img.state.size))
    await cls_client.object_map_save(img.ioctx, object_map_name(img.id), snap_map)
    img.object_map = snap_map


async def remove_all(img: Image) -> None:
    """Delete the head map and every snapshot's (image removal)."""
    await ignore_enoent(img.ioctx.remove(object_map_name(img.id)))
    for sid in img.state.snaps:
        await ignore_enoent(img.ioctx.remove(object_map_name(img.id, sid)))


async def rebuild(img: Image, progress: Any = None) -> None:
    """rebuild_object_map: the map of the head (or the open snapshot) from every
    object's snapset (`expected_state`), and the invalid flags cleared (EINVAL without
    the feature)."""
    snap_id = img.snap_id
    states = await _object_states(img, progress)
    omap = BitVector2(len(states))
    for objectno, state in enumerate(states):
        omap[objectno] = state
    await cls_client.object_map_save(img.ioctx, object_map_name(img.id, snap_id), omap)
    flags = RBD_FLAG_OBJECT_MAP_INVALID | RBD_FLAG_FAST_DIFF_INVALID
    await cls_client.set_flags(img.ioctx, img.header_oid, snap_id, 0, flags)
    if snap_id == CEPH_NOSNAP and enabled(img):
        img.object_map = omap


async def _object_states(img: Image, progress: Any) -> list[int]:
    """What the map at the open snapshot should say of each object (librbd's
    ObjectMapIterateRequest, `rbd_concurrent_management_ops` objects at a time)."""
    from pyceph.rbdlib._util import bounded, management_ops, report
    from pyceph.rbdlib.features import RBD_FEATURE_FAST_DIFF

    if not img.state.features & RBD_FEATURE_OBJECT_MAP:
        raise CephError(errno.EINVAL, "image must support object-map")
    snap_id = img.snap_id
    count = img.layout.num_objects(img.state.size_at(snap_id))
    fast_diff = bool(img.state.features & RBD_FEATURE_FAST_DIFF)
    snaps = sorted(img.state.snaps)
    states = [OBJECT_NONEXISTENT] * count
    done = 0

    async def one(objectno: int) -> None:
        nonlocal done
        try:
            snapset = await img.data_ioctx.list_snaps(img.data_oid(objectno))
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            snapset = {}
        states[objectno] = expected_state(snapset, snap_id, snaps, fast_diff)
        done += 1
        report(progress, done, count)

    await bounded(range(count), one, management_ops(img.ioctx))
    if count == 0:
        report(progress, 0, 0)
    return states


def expected_state(
    snapset: dict[str, Any], snap_id: int, image_snaps: list[int], fast_diff: bool
) -> int:
    """The state an object map at `snap_id` should give an object whose `list_snaps`
    is `snapset` (upstream C_VerifyObjectCallback::get_object_state): the version of
    the object serving `snap_id` decides it; with fast-diff, a version written before
    the snapshot (or, for the head, before the latest snapshot) is EXISTS_CLEAN."""

    def next_valid(sid: int) -> int:
        i = bisect.bisect_left(image_snaps, sid)
        return image_snaps[i] if i < len(image_snaps) else CEPH_NOSNAP

    for clone in snapset.get("clones", []):
        if int(clone["cloneid"]) == CEPH_NOSNAP:
            first, last = next_valid(int(snapset.get("seq", 0)) + 1), CEPH_NOSNAP
        else:
            snaps = [int(x) for x in clone["snaps"]]
            first, last = next_valid(snaps[0]), snaps[-1]
        if last < snap_id:
            continue
        if snap_id < first:
            break
        return OBJECT_EXISTS_CLEAN if fast_diff and first != snap_id else OBJECT_EXISTS
    return OBJECT_NONEXISTENT


def _worth_invalidating(current: int, expected: int) -> bool:
    """librbd's check handler: a map that claims an object that is not there is only
    inconsistent (I/O stays correct); one that misses or mislabels an object is wrong."""
    claims = current in (OBJECT_EXISTS, OBJECT_EXISTS_CLEAN)
    return not (claims and expected in (OBJECT_NONEXISTENT, OBJECT_PENDING))


async def check(img: Image, progress: Any = None) -> list[tuple[int, int, int]]:
    """check_object_map: compare the map of the head (or the open snapshot) with every
    object's snapset; a wrong entry flags the map invalid (as `rbd info` then shows).
    Returns the wrong entries as (object number, map state, expected state)."""
    snap_id = img.snap_id
    states = await _object_states(img, progress)
    current = await cls_client.object_map_load(img.ioctx, object_map_name(img.id, snap_id))
    wrong = []
    for objectno, want in enumerate(states):
        have = current[objectno] if objectno < len(current) else OBJECT_NONEXISTENT
        if have != want and _worth_invalidating(have, want):
            wrong.append((objectno, have, want))
    if wrong:
        await cls_client.set_flags(
            img.ioctx, img.header_oid, snap_id, RBD_FLAG_OBJECT_MAP_INVALID,
            RBD_FLAG_OBJECT_MAP_INVALID,
        )  # fmt: skip
    return wrong
