"""The striped, pipelined data path of an image (librbd's io::ImageRequest and
io::ObjectRequest, without a cache).

An image request maps its range onto object extents (`Layout.file_to_extents`) and sends
every per-object op together, at most IO_OBJECTS_IN_FLIGHT at once. Upstream semantics:

* reads of a missing object read the parent within the overlap (else zeros);
* writes to a clone guard on the object's existence and, when it is missing and within
  the parent overlap, copy the parent's bytes up with the `rbd.copyup` class call in the
  same compound op as the write (AbstractObjectWriteRequest / CopyupRequest);
* discards remove, truncate or zero each object (ObjectDiscardRequest), pruned to the
  discard granularity when `rbd_skip_partial_discard` is on;
* compare-and-write must stay inside one 512-byte sector of one object and reports the
  image offset of the first differing byte (ImageCompareAndWriteRequest);
* writes to one object are submitted in the order their image requests were made
  (`WriteOrder`), whatever each waits for first;
* with the exclusive lock held, objects the object map says are missing are not read
  from the OSDs (ObjectReadRequest's object_may_exist).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pyceph.client.ioctx import SnapContext
from pyceph.client.op import ObjectOp
from pyceph.cls.rbd_types import OBJECT_NONEXISTENT
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client, object_map
from pyceph.rbdlib._util import IO_OBJECTS_IN_FLIGHT, bounded
from pyceph.rbdlib.features import RBD_FEATURE_DEEP_FLATTEN
from pyceph.rbdlib.layout import CEPH_NOSNAP, ObjectExtent

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image

#: include/err.h MAX_ERRNO: a cmpext mismatch at byte i comes back as -(MAX_ERRNO + i).
MAX_ERRNO = 4095
#: Compare-and-write works within one sector (ImageCompareAndWriteRequest).
CMP_SECTOR_SIZE = 512


Ticket = tuple["asyncio.Future[None] | None", "asyncio.Future[None]"]
#: The tickets of the image request running in this task (and the tasks it starts).
_TICKETS: contextvars.ContextVar[dict[int, Ticket] | None] = contextvars.ContextVar(
    "rbd_write_tickets", default=None
)


class WriteOrder:
    """Writes to one object go out in the order their image requests were made (as
    librbd's dispatch keeps them), whatever each waits for first (the exclusive lock, an
    object-map update, a copy-up): a request takes a ticket per object synchronously when
    it starts, and an object's op is submitted only after the previous ticket holder's."""

    def __init__(self) -> None:
        self._tail: dict[int, asyncio.Future[None]] = {}

    @contextlib.contextmanager
    def request(self, img: Image, offset: int, length: int) -> Iterator[None]:
        """Around one image write request; call it before the request's first await."""
        tickets: dict[int, Ticket] = {}
        size = img.state.size_at(img.snap_id)
        if 0 <= offset < size and length > 0:
            loop = asyncio.get_running_loop()
            for ext in img.state.layout.file_to_extents(offset, min(length, size - offset)):
                prev = self._tail.get(ext.objectno)
                mine: asyncio.Future[None] = loop.create_future()
                self._tail[ext.objectno] = mine
                tickets[ext.objectno] = (prev, mine)
        token = _TICKETS.set(tickets)
        try:
            yield
        finally:
            _TICKETS.reset(token)
            for objectno, (_prev, mine) in tickets.items():
                self.done(objectno, mine)

    def done(self, objectno: int, mine: asyncio.Future[None] | None) -> None:
        """This request's op on the object is out: the next one may go."""
        if mine is None:
            return
        if not mine.done():
            mine.set_result(None)
        if self._tail.get(objectno) is mine:
            del self._tail[objectno]


async def _my_turn(img: Image, objectno: int) -> asyncio.Future[None] | None:
    """Wait for the previous request's op on the object; this request's ticket."""
    ticket = (_TICKETS.get() or {}).get(objectno)
    if ticket is None:
        return None
    prev, mine = ticket
    if prev is not None:
        await prev
    return mine


class CompareMismatch(CephError):
    """compare_and_write found a differing byte: EILSEQ with its image offset."""

    def __init__(self, mismatch_offset: int) -> None:
        super().__init__(errno.EILSEQ, f"compare mismatch at offset {mismatch_offset}")
        self.mismatch_offset = mismatch_offset


def clip_io(img: Image, offset: int, length: int) -> int:
    """librbd's clip_io: the length clipped to the image end; EINVAL past the end."""
    if offset < 0 or length < 0:
        raise CephError(errno.EINVAL, "negative offset or length")
    if not img.selected_snap_exists:  # ImageDispatchSpec: I/O at a removed snapshot
        raise CephError(errno.ENOENT, "the selected snapshot was removed")
    size = img.state.size_at(img.snap_id)
    if length == 0:
        return 0
    if offset >= size:
        raise CephError(errno.EINVAL, f"offset {offset} past the image end {size}")
    return min(length, size - offset)


def _scatter(buf: bytearray, ext: ObjectExtent, data: bytes) -> None:
    """Put an object extent's bytes (short data reads as zeros) into the caller's buffer."""
    pos = 0
    for boff, blen in ext.buffer_extents:
        chunk = data[pos : pos + blen]
        buf[boff : boff + len(chunk)] = chunk
        pos += blen


def _gather(data: bytes | memoryview, ext: ObjectExtent) -> bytes:
    """An object extent's bytes out of the caller's buffer."""
    if len(ext.buffer_extents) == 1:
        boff, blen = ext.buffer_extents[0]
        return bytes(data[boff : boff + blen])
    return b"".join(bytes(data[b : b + n]) for b, n in ext.buffer_extents)


# -- reads ------------------------------------------------------------------------------
async def read(img: Image, offset: int, length: int, op_flags: int = 0) -> bytes:
    """Read [offset, offset+length) of the image at its current snapshot."""
    length = clip_io(img, offset, length)
    if length == 0:
        return b""
    return await read_extents(img, img.snap_id, offset, length, op_flags)


async def read_extents(
    img: Image, snap_id: int, offset: int, length: int, op_flags: int = 0
) -> bytes:
    """Read an in-bounds range at `snap_id` (used by reads, parents and copies)."""
    buf = bytearray(length)
    exts = img.state.layout.file_to_extents(offset, length)
    ioctx = img.data_ioctx.copy(snap_read=snap_id)

    # with the exclusive lock held the object map is authoritative: a read of an object
    # it says is missing goes straight to the parent (ObjectReadRequest::read_object)
    omap = img.object_map if snap_id == CEPH_NOSNAP and img.exclusive_lock.owner else None

    async def one(ext: ObjectExtent) -> None:
        if omap is not None and ext.objectno < len(omap) and \
                omap[ext.objectno] == OBJECT_NONEXISTENT:  # fmt: skip
            data = await read_parent(img, snap_id, ext)
            if data:
                _scatter(buf, ext, data)
            return
        oid = img.data_oid(ext.objectno)
        op = ObjectOp()
        op.read(ext.offset, ext.length)
        if op_flags:
            op.set_flags(op_flags)
        res = await ioctx.submit(oid, op)
        if res.r == -errno.ENOENT:
            data = await read_parent(img, snap_id, ext)
            if data:
                _scatter(buf, ext, data)
            return
        if res.r < 0:
            raise CephError(-res.r, f"read of {oid} failed")
        _scatter(buf, ext, res.outs[0].data)

    await bounded(exts, one, IO_OBJECTS_IN_FLIGHT)
    return bytes(buf)


async def read_parent(img: Image, snap_id: int, ext: ObjectExtent) -> bytes:
    """The parent's bytes behind an object extent of a clone, zero-filled beyond the
    overlap; b"" when the image has no parent there."""
    parent_spec, overlap = img.state.parent_at(snap_id)
    if parent_spec is None or overlap == 0:
        return b""
    pieces = img.state.layout.object_to_file(ext.objectno, ext.offset, ext.length)
    if all(off >= overlap for off, _ in pieces):
        return b""
    parent = await img.parent_image(snap_id)
    out = bytearray(ext.length)
    pos = 0
    for off, n in pieces:
        take = max(0, min(n, overlap - off))
        if take:
            out[pos : pos + take] = await read_extents(parent, parent.snap_id, off, take)
        pos += n
    return bytes(out)


async def object_parent_data(img: Image, objectno: int) -> bytes | None:
    """The copy-up data of a whole object: the parent's bytes within the overlap, trailing
    zeros dropped; None when the object lies outside the overlap."""
    parent_spec, overlap = img.state.parent_at(CEPH_NOSNAP)
    if parent_spec is None or overlap == 0:
        return None
    layout = img.state.layout
    if all(off >= overlap for off, _ in layout.object_to_file(objectno, 0, layout.object_size)):
        return None
    data = await read_parent(img, CEPH_NOSNAP, ObjectExtent(objectno, 0, layout.object_size))
    return data.rstrip(b"\0")


def deep_copyup(img: Image) -> bool:
    """Whether copy-ups must also reach the snapshots (deep-flatten, snapshots exist)."""
    return bool(img.state.features & RBD_FEATURE_DEEP_FLATTEN and img.state.snap_ids)


def needs_copyup(img: Image, objectno: int) -> bool:
    """Whether a write to a missing object must first copy its parent's data up."""
    parent_spec, overlap = img.state.parent_at(CEPH_NOSNAP)
    if parent_spec is None or overlap == 0:
        return False
    layout = img.state.layout
    return any(off < overlap for off, _ in layout.object_to_file(objectno, 0, layout.object_size))


async def write_object(img: Image, objectno: int, build: ObjectOp) -> None:
    """Send a write op to a data object, copying the parent's data up first when the
    object is missing and within the overlap (the copy-up and the write go in one op)."""
    mine = await _my_turn(img, objectno)
    try:
        await _write_object(img, objectno, build, mine)
    finally:
        img.write_order.done(objectno, mine)


async def _write_object(
    img: Image, objectno: int, build: ObjectOp, mine: asyncio.Future[None] | None
) -> None:
    oid = img.data_oid(objectno)
    ioctx = img.data_ioctx
    await object_map.before_write(img, objectno)
    if objectno in img.known_objects or not needs_copyup(img, objectno):
        img.write_order.done(objectno, mine)  # the op below is submitted before we yield
        await ioctx.operate(oid, build)
        img.known_objects.add(objectno)
        return
    guarded = ObjectOp()
    guarded.stat()  # assert_exists: the write only goes when the object is there
    guarded.ops.extend(build.ops)
    res = await ioctx.submit(oid, guarded)
    if res.r >= 0:
        img.known_objects.add(objectno)
        return
    if res.r != -errno.ENOENT:
        raise CephError(-res.r, f"write to {oid} failed")
    data = await object_parent_data(img, objectno)
    op = ObjectOp()
    cls_client.copyup_op(op, data or b"")
    if deep_copyup(img):
        # the parent's data goes in "before" every snapshot, so the clone's snapshots
        # read it from the object too (CopyupRequest with deep-flatten: empty snapc)
        await ioctx.copy(snapc=SnapContext()).operate(oid, op)
        op = build
    else:
        op.ops.extend(build.ops)
    img.write_order.done(objectno, mine)
    await ioctx.operate(oid, op)
    img.known_objects.add(objectno)


# -- writes -----------------------------------------------------------------------------
def require_writable(img: Image) -> None:
    """EROFS at a snapshot, for a read-only open, and for an image snapshot mirroring
    made non-primary (IMAGE_READ_ONLY_FLAG_NON_PRIMARY)."""
    from pyceph.rbdlib import mirror

    if img.snap_id != CEPH_NOSNAP or img.read_only or mirror.non_primary(img):
        raise CephError(errno.EROFS, "image is read-only")


async def write(img: Image, data: bytes, offset: int, op_flags: int = 0) -> int:
    """Write `data` at `offset`; the number of bytes written (clipped at the image end)."""
    require_writable(img)
    length = clip_io(img, offset, len(data))
    if length == 0:
        return 0
    mv = memoryview(data)[:length]
    exts = img.state.layout.file_to_extents(offset, length)

    async def one(ext: ObjectExtent) -> None:
        op = ObjectOp()
        op.write(ext.offset, _gather(mv, ext))
        if op_flags:
            op.set_flags(op_flags)
        await write_object(img, ext.objectno, op)

    await bounded(exts, one, IO_OBJECTS_IN_FLIGHT)
    return length


async def writesame(img: Image, offset: int, length: int, data: bytes, op_flags: int = 0) -> int:
    """Write `data` repeated over [offset, offset+length); EINVAL unless it divides it."""
    require_writable(img)
    if not data or length % len(data):
        raise CephError(errno.EINVAL, "data length must divide the writesame length")
    length = clip_io(img, offset, length)
    if length == 0:
        return 0
    reps = -(-length // len(data))
    return await write(img, (data * reps)[:length], offset, op_flags)


async def discard(img: Image, offset: int, length: int, zero: bool = False) -> int:
    """Discard (or, `zero`, write zeroes over) a range: objects fully covered go away
    (or become empty in a clone), tails are truncated, the rest zeroed."""
    require_writable(img)
    length = clip_io(img, offset, length)
    if length == 0:
        return 0
    layout = img.state.layout
    object_size = layout.object_size
    granularity = 0
    if not zero and img.conf("rbd_skip_partial_discard"):
        # discards prune to rbd_discard_granularity_bytes (capped at the object size)
        granularity = min(int(img.conf("rbd_discard_granularity_bytes")), object_size)
    exts = []
    for ext in layout.file_to_extents(offset, length):
        start, end = ext.offset, ext.offset + ext.length
        if granularity and (granularity < object_size or end < object_size):
            start = -(-start // granularity) * granularity
            end = end // granularity * granularity
            if start >= end:
                continue
        exts.append(ObjectExtent(ext.objectno, start, end - start))

    async def one(ext: ObjectExtent) -> None:
        mine = await _my_turn(img, ext.objectno)
        try:
            await _discard_object(img, ext, mine)
        finally:
            img.write_order.done(ext.objectno, mine)

    await bounded(exts, one, IO_OBJECTS_IN_FLIGHT)
    return length


async def _discard_object(img: Image, ext: ObjectExtent, mine: asyncio.Future[None] | None) -> None:
    oid = img.data_oid(ext.objectno)
    object_size = img.layout.object_size
    full = ext.offset == 0 and ext.length == object_size
    tail = ext.offset + ext.length >= object_size
    clone = needs_copyup(img, ext.objectno)
    omap = img.object_map
    if not clone and omap is not None and ext.objectno < len(omap) and \
            omap[ext.objectno] == OBJECT_NONEXISTENT:  # fmt: skip
        return  # nothing there to discard (object_may_exist)
    op = ObjectOp()
    if full and clone:
        op.create(False)
        op.truncate(0)
        await object_map.before_write(img, ext.objectno)
        img.write_order.done(ext.objectno, mine)
        await img.data_ioctx.operate(oid, op)
        img.known_objects.add(ext.objectno)
        return
    if full:
        op.remove()
        await object_map.before_remove(img, ext.objectno)
        img.write_order.done(ext.objectno, mine)
        img.known_objects.discard(ext.objectno)
        res = await img.data_ioctx.submit(oid, op)
        if res.r < 0 and res.r != -errno.ENOENT:
            raise CephError(-res.r, f"remove of {oid} failed")
        await object_map.after_remove(img, ext.objectno)
        return
    if tail:
        op.truncate(ext.offset)
    else:
        op.zero(ext.offset, ext.length)
    if not clone:
        # a missing object stays missing: truncate/zero of nothing is a no-op
        img.write_order.done(ext.objectno, mine)
        await img.data_ioctx.operate(oid, op)
        return
    await _write_object(img, ext.objectno, op, mine)


async def compare_and_write(
    img: Image, cmp_data: bytes, data: bytes, offset: int, op_flags: int = 0
) -> int:
    """Write `data` at `offset` if the image holds `cmp_data` there (same length, one
    sector of one object); CompareMismatch (EILSEQ) with the first differing offset."""
    require_writable(img)
    if len(cmp_data) != len(data):
        raise CephError(errno.EINVAL, "compare and write buffers differ in length")
    length = clip_io(img, offset, len(data))
    if length == 0:
        return 0
    exts = img.state.layout.file_to_extents(offset, length)
    su = img.state.layout.su
    ext = exts[0]
    if (
        len(exts) > 1
        or ext.offset % CMP_SECTOR_SIZE + ext.length > CMP_SECTOR_SIZE
        or ext.offset % su + ext.length > su
    ):
        raise CephError(errno.EINVAL, "compare and write crosses a sector boundary")
    op = ObjectOp()
    op.cmpext(ext.offset, cmp_data[:length])
    op.write(ext.offset, data[:length])
    if op_flags:
        op.set_flags(op_flags)
    try:
        await write_object(img, ext.objectno, op)
    except CephError as e:
        if e.errno >= MAX_ERRNO:
            raise CompareMismatch(offset + e.errno - MAX_ERRNO) from None
        raise
    return length
