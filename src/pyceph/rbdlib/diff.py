"""diff_iterate (librbd api::DiffIterate and object_map::DiffRequest).

With `whole_object` and a valid fast-diff object map, the changed objects come from the
object maps of the snapshots between `from_snapshot` and the end (an object is changed
when it is new, or EXISTS — dirty — in any later map; gone when it existed and does
not now). Otherwise each object is looked at:

For each object the range touches, its existence at the end snapshot (the open one)
and at `from_snapshot` decide the report; objects gone since are reported as not
existing. With `whole_object` a new or changed object is reported by its whole extent.
Without it the extents are bytes, as librbd's ObjectListSnapsRequest gives them (and
as recorded from Ceph 16.2.15): an object new since `from_snapshot` (or since creation)
reports [0, its size), one gone since [0, its old size) as not existing; an object
present in both reports the ranges where the versions between the two snapshots
differ, from the OSD's `list_snaps` clone overlaps (the part of each version identical
to the next one) — ranges past the end size as not existing. One object's extents are
merged; different objects are reported apart.
A clone's missing objects report the parent's extents within the overlap when
`include_parent`. Extents are reported in image-offset order through
`cb(offset, length, exists)`.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyceph.cls.rbd_types import OBJECT_EXISTS, OBJECT_NONEXISTENT
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib._util import IO_OBJECTS_IN_FLIGHT, bounded
from pyceph.rbdlib.features import RBD_FEATURE_FAST_DIFF, RBD_FLAG_FAST_DIFF_INVALID
from pyceph.rbdlib.layout import CEPH_NOSNAP, ObjectExtent, object_map_name

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image


async def _size(img: Image, snap_id: int, objectno: int) -> int | None:
    """The object's size at `snap_id`; None when it did not exist then."""
    try:
        size, _mtime = await img.data_ioctx.copy(snap_read=snap_id).stat(img.data_oid(objectno))
    except CephError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    return size


def _serving_clone(clones: list[dict[str, Any]], snap_id: int) -> int:
    """The clone (by id) that holds the object as it was at `snap_id`; the head's id
    (CEPH_NOSNAP) when no clone covers the snapshot or for the head itself."""
    if snap_id != CEPH_NOSNAP:
        for c in clones:
            if c.get("cloneid") != CEPH_NOSNAP and snap_id in (c.get("snaps") or ()):
                return int(c["cloneid"])
    return CEPH_NOSNAP


async def _same_version(img: Image, objectno: int, from_snap: int, snap_id: int) -> bool:
    """Whether one object version serves both snapshots (the object did not change
    between them: RADOS made no clone in between), from the object's list_snaps."""
    try:
        info = await img.data_ioctx.list_snaps(img.data_oid(objectno))
    except CephError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    clones = list(info.get("clones") or [])
    return _serving_clone(clones, from_snap) == _serving_clone(clones, snap_id)


def _clone_index(clones: list[dict[str, Any]], snap_id: int) -> int | None:
    """The position in `clones` (list_snaps order, head last) of the version serving
    `snap_id`; None when no listed version does."""
    want = _serving_clone(clones, snap_id)
    for i, c in enumerate(clones):
        if int(c.get("cloneid", -1)) == want:
            return i
    return None


def _subtract(ranges: list[tuple[int, int]], cut: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for o, n in ranges:
        start, end = o, o + n
        for co, cn in sorted(cut):
            if co + cn <= start or co >= end:
                continue
            if co > start:
                out.append((start, co - start))
            start = max(start, co + cn)
        if start < end:
            out.append((start, end - start))
    return out


def changed_ranges(
    clones: list[dict[str, Any]], from_snap: int, snap_id: int
) -> list[tuple[int, int]]:
    """Object byte ranges [(offset, length)] that differ between the versions serving
    `from_snap` and `snap_id`: for each step from one version to the next newer, all of
    both sizes except the older version's overlap (ObjectListSnapsRequest)."""
    first, last = _clone_index(clones, from_snap), _clone_index(clones, snap_id)
    if first is None or last is None or first >= last:
        return []
    out: list[tuple[int, int]] = []
    for k in range(first, last):
        older, newer = clones[k], clones[k + 1]
        span = max(int(older.get("size", 0)), int(newer.get("size", 0)))
        overlap = [(int(o), int(n)) for o, n in older.get("overlap") or []]
        out.extend(_subtract([(0, span)] if span else [], overlap))
    return out


def _to_image(img: Image, objectno: int, ranges: list[tuple[int, int]], exists: bool,
              lo: int, hi: int) -> list[tuple[int, int, bool]]:  # fmt: skip
    """Object ranges as image extents clipped to [lo, hi)."""
    out: list[tuple[int, int, bool]] = []
    for o, n in ranges:
        for io_off, io_len in img.layout.object_to_file(objectno, o, n):
            a, b = max(io_off, lo), min(io_off + io_len, hi)
            if a < b:
                out.append((a, b - a, exists))
    return out


async def collect(img: Image, snap_id: int, offset: int, length: int, from_snap: int | None,
                  include_parent: bool, whole_object: bool) -> list[tuple[int, int, bool, int]]:  # fmt: skip
    """The changed extents (offset, length, exists, objectno) of [offset, +length) at
    `snap_id` since `from_snap`, tagged with the object they belong to."""
    layout = img.layout
    size = img.state.size_at(snap_id)
    end = min(offset + length, size)
    out: list[tuple[int, int, bool, int]] = []
    if end <= offset:
        return out
    exts = layout.file_to_extents(offset, end - offset)

    def pieces(ext: ObjectExtent) -> list[tuple[int, int]]:
        if whole_object:
            return [(o, min(n, size - o)) for o, n in
                    layout.object_to_file(ext.objectno, 0, layout.object_size) if o < size]  # fmt: skip
        return [(offset + b, n) for b, n in ext.buffer_extents]

    async def one(ext: ObjectExtent) -> None:
        now = await _size(img, snap_id, ext.objectno)
        then = await _size(img, from_snap, ext.objectno) if from_snap is not None else None
        tag = ext.objectno

        def add(ranges: list[tuple[int, int]], exists: bool) -> None:
            out.extend((o, n, e, tag) for o, n, e in
                       _to_image(img, ext.objectno, ranges, exists, offset, end))  # fmt: skip

        if now is None:
            if then is not None:
                if whole_object:
                    out.extend((o, n, False, tag) for o, n in pieces(ext))
                else:
                    add([(0, then)] if then else [], False)
            elif from_snap is None and include_parent:
                spec, overlap = img.state.parent_at(snap_id)
                if spec is not None and overlap:
                    parent = await img.parent_image(snap_id)
                    for o, n in pieces(ext):
                        n = min(n, overlap - o)
                        if n > 0:
                            found = await collect(parent, parent.snap_id, o, n, None, True,
                                                  whole_object)  # fmt: skip
                            out.extend((po, pn, pe, tag) for po, pn, pe, _t in found)
            return
        if whole_object:
            if then is None or not await _same_version(img, ext.objectno, from_snap, snap_id):
                out.extend((o, n, True, tag) for o, n in pieces(ext))
            return
        if then is None:  # new since from_snap (or since creation): all of its size
            add([(0, now)] if now else [], True)
            return
        try:
            info = await img.data_ioctx.list_snaps(img.data_oid(ext.objectno))
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            return
        clones = list(info.get("clones") or [])
        changed = changed_ranges(clones, from_snap, snap_id)
        add([(o, min(o + n, now) - o) for o, n in changed if o < now], True)
        add([(max(o, now), o + n - max(o, now)) for o, n in changed if o + n > now], False)

    await bounded(exts, one, IO_OBJECTS_IN_FLIGHT)
    return out


def _object_extents(img: Image, changed: dict[int, bool], offset: int,
                    length: int) -> list[tuple[int, int, bool, int]]:  # fmt: skip
    """Whole-object image extents of the changed objects that meet [offset, +length),
    tagged with their object."""
    layout = img.layout
    size = img.state.size_at(img.snap_id)
    end = min(offset + length, size)
    out = []
    for objectno, exists in changed.items():
        for o, n in layout.object_to_file(objectno, 0, layout.object_size):
            n = min(n, size - o)
            if n > 0 and o < end and o + n > offset:
                out.append((o, n, exists, objectno))
    return out


async def _load_map(img: Image, snap_id: int) -> Any:
    return await cls_client.object_map_load(img.ioctx, object_map_name(img.id, snap_id))


async def fast_diff(img: Image, snap_id: int, from_snap: int | None) -> dict[int, bool] | None:
    """The objects changed between `from_snap` and `snap_id` from the object maps
    ({objectno: exists now}), or None when fast-diff cannot answer (feature off, a map
    flagged invalid or missing) and the objects must be looked at (DiffRequest)."""
    st = img.state
    if not st.features & RBD_FEATURE_FAST_DIFF:
        return None
    chain = [s for s in sorted(st.snaps) if (from_snap is None or s > from_snap)
             and (snap_id == CEPH_NOSNAP or s <= snap_id)]  # fmt: skip
    if snap_id == CEPH_NOSNAP:
        chain.append(CEPH_NOSNAP)
    for sid in chain:
        flags = st.flags if sid == CEPH_NOSNAP else st.snaps[sid].flags
        if flags & RBD_FLAG_FAST_DIFF_INVALID:
            return None
    try:
        maps = [await _load_map(img, sid) for sid in chain]
        start = await _load_map(img, from_snap) if from_snap is not None else None
    except CephError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    count = max([len(m) for m in maps] + [len(start) if start is not None else 0])
    out: dict[int, bool] = {}
    for i in range(count):
        before = start[i] if start is not None and i < len(start) else OBJECT_NONEXISTENT
        existed = before != OBJECT_NONEXISTENT
        dirty = False
        prev = before
        for m in maps:
            cur = m[i] if i < len(m) else OBJECT_NONEXISTENT
            if cur == OBJECT_EXISTS or (cur != OBJECT_NONEXISTENT and prev == OBJECT_NONEXISTENT):
                dirty = True
            prev = cur
        now = prev != OBJECT_NONEXISTENT
        if now and (dirty or not existed):
            out[i] = True
        elif not now and existed:
            out[i] = False
    return out


async def diff_iterate(img: Image, offset: int, length: int, from_snapshot: str | None,
                       cb: Callable[[int, int, bool], Any], include_parent: bool = True,
                       whole_object: bool = False) -> None:  # fmt: skip
    """Report the extents changed since `from_snapshot` (None: since creation)."""
    await img.refresh_if_required()
    from_id = None
    if from_snapshot is not None:
        from_id = img.state.snap_by_name(from_snapshot).id
        if img.snap_id != CEPH_NOSNAP and from_id > img.snap_id:
            raise CephError(errno.EINVAL, "from snapshot is newer than the end snapshot")
    spec, _ = img.state.parent_at(img.snap_id)
    changed = None
    if whole_object and (spec is None or not include_parent):
        changed = await fast_diff(img, img.snap_id, from_id)
    if changed is not None:
        found = _object_extents(img, changed, offset, length)
    else:
        found = await collect(img, img.snap_id, offset, length, from_id, include_parent,
                              whole_object)  # fmt: skip
    # one object's extents merge (its interval set); objects are reported apart, as
    # DiffIterate calls back per object
    merged: list[list[Any]] = []
    for o, n, e, obj in sorted(set(found)):
        last = merged[-1] if merged else None
        if last is not None and last[2] == e and last[3] == obj and last[0] + last[1] >= o:
            last[1] = max(last[1], o + n - last[0])
        else:
            merged.append([o, n, e, obj])
    for o, n, e, _obj in merged:
        cb(o, n, e)
