"""`MemStore`: the ObjectStore in memory (simulator, memory-only clusters).

Same semantics as LmdbStore because both run kvcore; only the KV layer differs:
here a sorted map per key space: a dict for lookups and a `SortedList` of the keys for
ordered scans. A plain sorted list with `bisect.insort` costs O(n) per new key (every
insert moves the tail of the list): with tens of thousands of keys (an embedded cluster
after a few thousand objects) that was tens of microseconds per key, several keys per
write and OSD; `SortedList` keeps it O(log n).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext

from sortedcontainers import SortedList

from .kvcore import SPACE_NAMES, Applier, StoreState, UndoKV
from .objectstore import KVObjectStore
from .transaction import Transaction
from .types import DEFAULT_EXTENT_SIZE, StoreLimits


class _Space:
    """A dict plus the sorted keys: O(1) lookups, O(log n) inserts, ordered scans."""

    __slots__ = ("d", "keys")

    def __init__(self) -> None:
        self.d: dict[bytes, bytes] = {}
        self.keys: SortedList = SortedList()


class MemKV:
    """Ordered in-memory KV."""

    def __init__(self) -> None:
        self.spaces = [_Space() for _ in SPACE_NAMES]

    def get(self, space: int, key: bytes) -> bytes | None:
        return self.spaces[space].d.get(key)

    def iterate(self, space: int, start: bytes, end: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        """Keys in [start, end) in order; the caller may put and delete while it iterates
        (each step resumes after the last key it returned, as an LMDB cursor does)."""
        sp = self.spaces[space]
        keys, d = sp.keys, sp.d
        i = keys.bisect_left(start)
        while i < len(keys):
            k = keys[i]
            if end is not None and k >= end:
                return
            yield k, d[k]
            i = keys.bisect_right(k)

    def put(self, space: int, key: bytes, value: bytes | memoryview) -> None:
        sp = self.spaces[space]
        if key not in sp.d:
            sp.keys.add(key)
        sp.d[key] = bytes(value)

    def delete(self, space: int, key: bytes) -> None:
        sp = self.spaces[space]
        if key in sp.d:
            del sp.d[key]
            sp.keys.remove(key)


class MemStore(KVObjectStore):
    """In-memory ObjectStore; a transaction is durable (in memory) on return.

    ``capacity_bytes`` (None: unlimited) gives statfs and ENOSPC like LmdbStore.
    """

    def __init__(
        self,
        capacity_bytes: int | None = None,
        extent_size: int = DEFAULT_EXTENT_SIZE,
        limits: StoreLimits | None = None,
    ) -> None:
        super().__init__(capacity_bytes, extent_size, limits)
        self.kv = MemKV()
        self.mounted = False

    @classmethod
    def with_collections(cls, *cids: str) -> MemStore:
        """A new store, made and mounted, holding the (empty) collections `cids`."""
        store = cls()
        store.mkfs()
        store.mount()
        t = Transaction()
        for cid in cids:
            t.create_collection(cid)
        store.apply_transaction(t)
        return store

    def mkfs(self) -> None:
        self.kv = MemKV()
        self.state = StoreState()

    def mount(self) -> None:
        self.mounted = True

    def umount(self) -> None:
        self.mounted = False

    def _read_view(self) -> AbstractContextManager[MemKV]:
        return nullcontext(self.kv)

    def apply_transaction(self, txn: Transaction) -> None:
        saved = self.state.copy()
        kv = UndoKV(self.kv)
        try:
            Applier(kv, self.state, self.limits, self.extent_size, self.capacity).apply(txn)
        except BaseException:
            kv.rollback()
            self.state = saved
            self.perf["txn_errors"] += 1
            raise
        self.perf["commits"] += 1
        self.perf["txns"] += 1

    async def queue_transaction(self, txn: Transaction) -> None:
        self.apply_transaction(txn)
