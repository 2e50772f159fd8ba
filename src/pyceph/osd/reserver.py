"""Backfill reservations (upstream AsyncReserver, as the OSD's local and remote backfill
reservers use it): at most `slots` keys hold a reservation at once (osd_max_backfills);
the others wait in arrival order and are granted as holders release.

`Reserver` is the bookkeeping alone (no I/O, no event loop): requests and releases in,
the keys granted out. `AsyncReserver` is its shell for coroutines: `reserve` returns once
the key holds a slot; a caller that gives up (cancelled) must `release` it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class Reserver:
    """Slots for at most `slots` holders; FIFO queue for the rest."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self.granted: set[Hashable] = set()
        self.queue: list[Hashable] = []

    def request(self, key: Hashable) -> bool:
        """Ask for a slot; True when `key` holds one now (also if it already did)."""
        if key in self.granted:
            return True
        if key not in self.queue:
            self.queue.append(key)
        return key in self._fill()

    def release(self, key: Hashable) -> list[Hashable]:
        """Give up `key`'s slot (or its place in the queue); returns the keys granted now."""
        self.granted.discard(key)
        if key in self.queue:
            self.queue.remove(key)
        return self._fill()

    def _fill(self) -> list[Hashable]:
        out = []
        while self.queue and len(self.granted) < self.slots:
            k = self.queue.pop(0)
            self.granted.add(k)
            out.append(k)
        return out


class AsyncReserver:
    """A `Reserver` whose waiters are futures on the running loop."""

    def __init__(self, slots: int) -> None:
        self.r = Reserver(slots)
        self._waiters: dict[Hashable, asyncio.Future[None]] = {}

    def holds(self, key: Hashable) -> bool:
        return key in self.r.granted

    async def reserve(self, key: Hashable) -> None:
        """Until `key` holds a slot."""
        if self.r.request(key):
            return
        fut = self._waiters.get(key)
        if fut is None or fut.done():
            fut = self._waiters[key] = asyncio.get_running_loop().create_future()
        await asyncio.shield(fut)

    def release(self, key: Hashable) -> None:
        """Give up `key`'s slot or wait (a waiter of it stays blocked: its caller is
        being cancelled, as an interval change does)."""
        self._waiters.pop(key, None)
        for k in self.r.release(key):
            w = self._waiters.pop(k, None)
            if w is not None and not w.done():
                w.set_result(None)
