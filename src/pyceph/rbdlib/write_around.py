"""librbd's default client cache: write-around (rbd_cache_policy = writearound).

Upstream's WriteAroundObjectDispatch completes a write back to its caller as soon as it
is sent, while the bytes of the writes still in flight stay within rbd_cache_max_dirty;
it keeps no data. What it owes the caller instead:

* a write that overlaps one in flight waits until that one has completed, and the
  writes admitted go out in the order they were made (here: one FIFO for all);
* a read or compare-and-write overlapping a write in flight waits for it, so a read
  sees every write acknowledged before it;
* a flush completes once every write admitted before it has, with the first error any
  of them met since the previous flush (the only place a write-around write's failure
  shows);
* with rbd_cache_writethrough_until_flush, writes go through (each waits for the OSDs)
  until the user's first flush: a guest that never flushes never depends on one;
* a write flagged FUA (LIBRADOS_OP_FLAG_FADVISE_FUA) goes through.

Ranges here are image byte ranges: the image-to-object mapping is one-to-one on bytes,
so two requests overlap in an object exactly when their image ranges overlap.
"""

from __future__ import annotations

import asyncio
import collections
import errno
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from sortedcontainers import SortedDict

from pyceph.common.errors import CephError
from pyceph.common.tasks import TaskSet

__all__ = ["OP_FLAG_FADVISE_FUA", "Slot", "WriteAround"]

#: librados.h LIBRADOS_OP_FLAG_FADVISE_FUA: force unit access (bypasses write-around).
OP_FLAG_FADVISE_FUA = 0x80


@dataclass(slots=True, eq=False)
class Slot:
    """One admitted write: its image range and what its completion resolves."""

    offset: int
    end: int
    done: asyncio.Future[None]


class WriteAround:
    """The write-around state of one open image (see the module docstring)."""

    def __init__(self, max_dirty: int, writethrough_until_flush: bool) -> None:
        #: rbd_cache_max_dirty when enabled; 0 while writes go through
        self.init_max_dirty = max_dirty
        self.max_dirty = 0 if writethrough_until_flush else max_dirty
        self.in_flight_bytes = 0
        #: offset -> Slot of every write sent and not yet complete; admission keeps
        #: their ranges disjoint, so an overlap query looks at one neighbour and on
        self._in_flight: SortedDict = SortedDict()
        #: (offset, end, admitted) of the writes waiting for their turn, oldest first
        self._queue: collections.deque[tuple[int, int, asyncio.Future[Slot]]]
        self._queue = collections.deque()
        #: the first failure of a write since the last flush (negative errno)
        self.error = 0
        self.tasks = TaskSet("rbd write-around")

    @property
    def active(self) -> bool:
        return self.max_dirty > 0

    def user_flushed(self) -> None:
        """The user's flush: write-around starts if it waited for the first one."""
        if self.max_dirty == 0 and self.init_max_dirty > 0:
            self.max_dirty = self.init_max_dirty

    # -- writes ------------------------------------------------------------------------
    async def admit(self, offset: int, length: int) -> Slot:
        """Wait for this write's turn (earlier writes first, no overlap with one in
        flight, room under max_dirty); then it counts as in flight until `send` runs it."""
        admitted: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        self._queue.append((offset, offset + length, admitted))
        self._pump()
        try:
            return await admitted
        except asyncio.CancelledError:
            self._withdraw(admitted)
            raise

    def send(self, slot: Slot, op: Coroutine[Any, Any, Any]) -> None:
        """Run an admitted write in the background; its failure lands in `error`."""
        self.tasks.spawn(self._run(slot, op), name="rbd write-around write")

    async def _run(self, slot: Slot, op: Coroutine[Any, Any, Any]) -> None:
        try:
            await op
        except CephError as e:
            self._failed(-e.errno)
        except Exception:
            self._failed(-errno.EIO)
            raise
        finally:
            self._complete(slot)

    def _complete(self, slot: Slot) -> None:
        self.in_flight_bytes -= slot.end - slot.offset
        del self._in_flight[slot.offset]
        if not slot.done.done():
            slot.done.set_result(None)
        self._pump()

    def _failed(self, r: int) -> None:
        if self.error == 0:
            self.error = r

    def _overlapping(self, offset: int, end: int) -> list[Slot]:
        """The writes in flight that overlap [offset, end)."""
        fl = self._in_flight
        i = fl.bisect_right(offset)
        out = []
        if i > 0:
            before = fl.peekitem(i - 1)[1]
            if before.end > offset:
                out.append(before)
        for o in fl.islice(i):
            if o >= end:
                break
            out.append(fl[o])
        return out

    def _pump(self) -> None:
        """Admit the writes at the head of the queue that may go now."""
        while self._queue:
            offset, end, admitted = self._queue[0]
            if admitted.done():  # withdrawn
                self._queue.popleft()
                continue
            length = end - offset
            room = self.in_flight_bytes == 0 or self.in_flight_bytes + length <= self.max_dirty
            if not room or self._overlapping(offset, end):
                return
            self._queue.popleft()
            slot = Slot(offset, end, asyncio.get_running_loop().create_future())
            self._in_flight[offset] = slot
            self.in_flight_bytes += length
            admitted.set_result(slot)

    def _withdraw(self, admitted: asyncio.Future[Slot]) -> None:
        """A caller cancelled while waiting: its write is never sent."""
        if admitted.done() and not admitted.cancelled():  # admitted as it was cancelled
            self._complete(admitted.result())
        else:
            admitted.cancel()
            self._pump()

    # -- barriers ----------------------------------------------------------------------
    async def wait_overlapping(self, offset: int, length: int) -> None:
        """Until no write in flight overlaps [offset, offset+length) (reads,
        compare-and-write, FUA writes)."""
        while pending := self._overlapping(offset, offset + length):
            await asyncio.wait([s.done for s in pending])

    async def drain(self) -> None:
        """Until every write in flight or waiting at this call has completed (what must
        see every acknowledged write: snapshots, resizes, a lock release); writes made
        meanwhile are not waited for, so a busy writer cannot hold it up."""
        waits = [s.done for s in self._in_flight.values()]
        queued = [a for _, _, a in self._queue]
        if queued:
            await asyncio.wait(queued)
            waits += [a.result().done for a in queued if not a.cancelled()]
        if waits:
            await asyncio.wait(waits)

    def take_error(self) -> int:
        """The first error since the last flush (0 if none), cleared."""
        r, self.error = self.error, 0
        return r

    async def close(self) -> None:
        """At image close: every write acknowledged so far lands first."""
        while self._in_flight or self._queue:
            await self.drain()
        await self.tasks.close()
