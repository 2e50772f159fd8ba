"""Recovery and backfill reservations (upstream `common/AsyncReserver.h`, the OSD's
`local_reserver` and `remote_reserver`, shared by log recovery and backfill).

At most `slots` keys (osd_max_backfills) hold a reservation at once. Waiters are granted
highest priority first, in arrival order within a priority. A holder that asked to be
preemptible loses its slot when a waiter of strictly higher priority finds no free one,
or when the slot count drops below the number of holders (upstream `do_queues` /
`preempt_one`: the lowest-priority preemptible holder goes first).

`Reserver` is the bookkeeping alone (no I/O, no event loop): requests, releases and slot
changes in, the keys granted and preempted out. `AsyncReserver` is its shell for
coroutines: `reserve` returns once the key holds a slot; a caller that gives up
(cancelled) must `release` it; a preempted holder's callback runs on the loop.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass
class Changes:
    """What one call to a `Reserver` did: keys granted and keys preempted."""

    granted: list[Hashable] = field(default_factory=list)
    preempted: list[Hashable] = field(default_factory=list)


@dataclass(frozen=True)
class _Entry:
    prio: int
    seq: int  # arrival (queue) or grant (holder) order
    preemptible: bool


class Reserver:
    """Slots for at most `slots` holders; a priority queue (FIFO within a priority)."""

    def __init__(self, slots: int, min_priority: int = 0) -> None:
        self.slots = max(0, slots)
        #: waiters below this priority are never granted (osd_min_recovery_priority)
        self.min_priority = min_priority
        self.granted: dict[Hashable, _Entry] = {}
        self.queue: dict[Hashable, _Entry] = {}
        self._seq = itertools.count()

    def holds(self, key: Hashable) -> bool:
        return key in self.granted

    def request(self, key: Hashable, prio: int = 0, preemptible: bool = False) -> Changes:
        """Queue `key` at `prio` (a holder or a waiter already queued keeps its place)."""
        if key not in self.granted and key not in self.queue:
            self.queue[key] = _Entry(prio, next(self._seq), preemptible)
        return self._fill()

    def release(self, key: Hashable) -> Changes:
        """Give up `key`'s slot or its place in the queue (a no-op for an unknown key)."""
        self.granted.pop(key, None)
        self.queue.pop(key, None)
        return self._fill()

    def set_max(self, slots: int) -> Changes:
        """A new slot count (osd_max_backfills changed): more slots grant waiters now,
        fewer preempt preemptible holders."""
        self.slots = max(0, slots)
        return self._fill()

    def _victim(self) -> Hashable | None:
        """The preemptible holder to go first: lowest priority, latest granted."""
        cands = [(e.prio, -e.seq, k) for k, e in self.granted.items() if e.preemptible]
        if not cands:
            return None
        return min(cands, key=lambda c: (c[0], c[1]))[2]

    def _preempt(self, key: Hashable, out: Changes) -> None:
        del self.granted[key]
        out.preempted.append(key)

    def _fill(self) -> Changes:
        out = Changes()
        while len(self.granted) > self.slots:
            v = self._victim()
            if v is None:
                break
            self._preempt(v, out)
        while self.queue:
            key, e = max(self.queue.items(), key=lambda kv: (kv[1].prio, -kv[1].seq))
            if e.prio < self.min_priority:
                break
            if len(self.granted) >= self.slots:
                v = self._victim()
                if v is None or self.granted[v].prio >= e.prio:
                    break
                self._preempt(v, out)
            del self.queue[key]
            self.granted[key] = _Entry(e.prio, next(self._seq), e.preemptible)
            out.granted.append(key)
        return out


class AsyncReserver:
    """A `Reserver` whose waiters are futures on the running loop."""

    def __init__(self, slots: int) -> None:
        self.r = Reserver(slots)
        self._waiters: dict[Hashable, asyncio.Future[None]] = {}
        self._on_preempt: dict[Hashable, Callable[[], None]] = {}

    @property
    def slots(self) -> int:
        return self.r.slots

    def holds(self, key: Hashable) -> bool:
        return self.r.holds(key)

    async def reserve(
        self, key: Hashable, prio: int = 0, on_preempt: Callable[[], None] | None = None
    ) -> None:
        """Until `key` holds a slot. With `on_preempt`, the slot can be taken back by a
        higher-priority waiter (or fewer slots); the callback then runs on the loop."""
        if on_preempt is not None:
            self._on_preempt[key] = on_preempt
        if self.r.holds(key):
            return
        fut = self._waiters.get(key)
        if fut is None or fut.done():
            fut = self._waiters[key] = asyncio.get_running_loop().create_future()
        self._apply(self.r.request(key, prio, on_preempt is not None))
        await asyncio.shield(fut)

    def release(self, key: Hashable) -> None:
        """Give up `key`'s slot or wait (a waiter of it stays blocked: its caller is
        being cancelled, as an interval change does)."""
        self._waiters.pop(key, None)
        self._on_preempt.pop(key, None)
        self._apply(self.r.release(key))

    def set_max(self, slots: int) -> None:
        """Change the slot count at runtime (upstream AsyncReserver::set_max)."""
        self._apply(self.r.set_max(slots))

    def _apply(self, ch: Changes) -> None:
        for k in ch.granted:
            w = self._waiters.pop(k, None)
            if w is not None and not w.done():
                w.set_result(None)
        for k in ch.preempted:
            cb = self._on_preempt.pop(k, None)
            if cb is not None:
                asyncio.get_running_loop().call_soon(cb)
