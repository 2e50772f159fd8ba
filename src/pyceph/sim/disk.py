"""`SimDisk`: a daemon's disk in the simulator, which keeps only what was made durable.

It implements the runtime's `Disk`: `open_store` gives a `SimStore` (a `MemStore`) and
`open_kv` a `SimKV` (a `MemKV`), both living on "platters" that outlive the daemon, so a
restarted daemon reopens the state it left. What a crash keeps is what had been promised
durable, and nothing more:

* `SimStore.queue_transaction` applies the transaction at once (later reads see it, as
  with a page cache), then waits a simulated sync latency before it resolves. A crash
  rolls back, newest first, every transaction whose `queue_transaction` had not resolved
  - syncs complete in order, so these are always a suffix of the history - and the
  restarted OSD finds exactly the acknowledged state. `apply_transaction` is synchronous
  and durable on return.
* `SimKV.commit` is durable on return (LmdbKV commits synchronously), so a crash loses
  nothing there.

After `crash()` the old handles are fenced: a write through them raises EIO, so code of
the crashed daemon still unwinding cannot touch the disk its successor will use.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Iterator, Mapping
from typing import Any

from pyceph.common.kvstore import MemKV
from pyceph.sim.rand import SimRand
from pyceph.store.errors import StoreError
from pyceph.store.kvcore import Applier, StoreState, UndoKV
from pyceph.store.memstore import MemKV as StoreKV
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import DEFAULT_EXTENT_SIZE, StoreSettings

#: Simulated fsync latency bounds (seconds) for a store transaction.
SYNC_LATENCY = (0.0001, 0.002)


class _StorePlatter:
    """What survives on the disk for one store path."""

    def __init__(self) -> None:
        self.created = False
        self.kv = StoreKV()
        self.state = StoreState()
        #: Un-synced transactions, oldest first: (undo records, state before it).
        self.unsynced: list[tuple[dict[tuple[int, bytes], object], StoreState]] = []
        self.handle: SimStore | None = None

    def lose_unsynced(self) -> int:
        n = len(self.unsynced)
        while self.unsynced:
            undo, state = self.unsynced.pop()
            u = UndoKV(self.kv)
            u.undo = undo
            u.rollback()
            self.state = state
        return n


class SimStore(MemStore):
    """A MemStore whose un-synced transactions are lost in a crash."""

    def __init__(
        self,
        platter: _StorePlatter,
        capacity_bytes: int | None,
        rand: SimRand,
        sync_latency: tuple[float, float] = SYNC_LATENCY,
        extent_size: int = DEFAULT_EXTENT_SIZE,
    ) -> None:
        super().__init__(capacity_bytes, extent_size)
        self._platter = platter
        self.kv = platter.kv
        self.state = platter.state
        self._rand = rand
        self._sync_latency = sync_latency
        self._fenced = False
        self._sync_tail: asyncio.Future[None] | None = None

    def _check(self) -> None:
        if self._fenced:
            raise StoreError(errno.EIO, "disk crashed: this store handle is dead")

    # -- lifecycle -------------------------------------------------------------
    def mkfs(self) -> None:
        self._check()
        p = self._platter
        p.kv = self.kv = StoreKV()
        p.state = self.state = StoreState()
        p.unsynced.clear()
        p.created = True

    def mount(self) -> None:
        self._check()
        if not self._platter.created:
            raise StoreError(errno.ENOENT, "no store on this disk; run mkfs")
        self.mounted = True

    def umount(self) -> None:
        self.mounted = False

    # -- mutation --------------------------------------------------------------
    def _apply_logged(self, txn: Transaction) -> tuple[dict[tuple[int, bytes], object], StoreState]:
        self._check()
        saved = self.state.copy()
        kv = UndoKV(self.kv)
        try:
            Applier(kv, self.state, self.limits, self.extent_size, self.capacity).apply(txn)
        except BaseException:
            kv.rollback()
            self.state = saved
            self._platter.state = saved
            self.perf["txn_errors"] += 1
            raise
        self.perf["commits"] += 1
        self.perf["txns"] += 1
        return kv.undo, saved

    def apply_transaction(self, txn: Transaction) -> None:
        """Synchronous and durable on return (mkfs-time setup, tools)."""
        self._apply_logged(txn)
        self._platter.state = self.state

    async def queue_transaction(self, txn: Transaction) -> None:
        """Applied now, durable (and resolved) after the simulated sync, in order."""
        undo, saved = self._apply_logged(txn)
        p = self._platter
        p.state = self.state
        entry = (undo, saved)
        p.unsynced.append(entry)
        prev = self._sync_tail
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sync_tail = done
        try:
            lo, hi = self._sync_latency
            await asyncio.sleep(lo + (hi - lo) * self._rand.random())
            if prev is not None and not prev.done():
                await asyncio.shield(prev)  # syncs complete in submission order
            self._check()
            # Durable: everything up to and including this entry is synced.
            for i, e in enumerate(p.unsynced):
                if e is entry:
                    del p.unsynced[: i + 1]
                    break
        finally:
            if not done.done():
                done.set_result(None)

    def fence(self) -> None:
        self._fenced = True


class SimKV:
    """The monitor's KV store on a simulated disk (commits are durable on return)."""

    def __init__(self, platter: MemKV) -> None:
        self._kv = platter
        self._fenced = False

    def get(self, key: bytes) -> bytes | None:
        return self._kv.get(key)

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        return self._kv.items(prefix)

    def commit(self, puts: Mapping[bytes, bytes], deletes: tuple[bytes, ...] = ()) -> None:
        if self._fenced:
            raise OSError(errno.EIO, "disk crashed: this kv handle is dead")
        self._kv.commit(puts, deletes)

    def close(self) -> None:
        pass

    def fence(self) -> None:
        self._fenced = True


class SimDisk:
    """One daemon's disk (the runtime's `Disk`); outlives the daemon's crashes."""

    def __init__(self, rand: SimRand, sync_latency: tuple[float, float] = SYNC_LATENCY) -> None:
        self.rand = rand
        self.sync_latency = sync_latency
        self._stores: dict[str, _StorePlatter] = {}
        self._kvs: dict[str, MemKV] = {}
        self._handles: list[SimStore | SimKV] = []
        self._opens = 0
        #: Transactions lost by crashes (for tests and reports).
        self.lost_transactions = 0

    def open_store(self, path: str, capacity: int, settings: StoreSettings) -> Any:
        p = self._stores.get(path)
        if p is None:
            p = self._stores[path] = _StorePlatter()
        if p.handle is not None and not p.handle._fenced:
            raise StoreError(errno.EBUSY, f"store {path} is already open")
        self._opens += 1
        rand = self.rand.fork(f"sync:{path}:{self._opens}")
        h = SimStore(p, capacity or None, rand, self.sync_latency, settings.extent_size)
        p.handle = h
        self._handles.append(h)
        return h

    def open_kv(self, path: str) -> Any:
        kv = self._kvs.get(path)
        if kv is None:
            kv = self._kvs[path] = MemKV()
        h = SimKV(kv)
        self._handles.append(h)
        return h

    def crash(self) -> int:
        """Power loss: fence every handle and lose every un-synced transaction."""
        for h in self._handles:
            h.fence()
        self._handles.clear()
        lost = 0
        for p in self._stores.values():
            lost += p.lose_unsynced()
            p.handle = None
        self.lost_transactions += lost
        return lost

    def close_handles(self) -> None:
        """After a clean stop: the store may be opened again."""
        for p in self._stores.values():
            p.handle = None
        self._handles.clear()

    def unsynced(self) -> int:
        return sum(len(p.unsynced) for p in self._stores.values())
