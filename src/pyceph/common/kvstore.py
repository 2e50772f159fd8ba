"""A small durable key/value store on LMDB for daemon state (the monitor's maps).

Each `commit` is one LMDB write transaction synced to disk before it returns, so state a
daemon acted on survives kill -9.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import lmdb

#: Upper bound of the monitor store's size: maps, auth and config for a small cluster.
KV_MAP_SIZE = 1 << 30


class LmdbKV:
    """bytes → bytes, with atomic synced batches."""

    def __init__(self, path: str, map_size: int = KV_MAP_SIZE) -> None:
        os.makedirs(path, exist_ok=True)
        self._env = lmdb.open(path, map_size=map_size, sync=True, metasync=True, max_dbs=1)

    def get(self, key: bytes) -> bytes | None:
        with self._env.begin() as txn:
            v = txn.get(key)
            return bytes(v) if v is not None else None

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        with self._env.begin() as txn:
            cur = txn.cursor()
            if not cur.set_range(prefix):
                return
            for k, v in cur:
                if not k.startswith(prefix):
                    break
                yield bytes(k), bytes(v)

    def commit(self, puts: Mapping[bytes, bytes], deletes: tuple[bytes, ...] = ()) -> None:
        """Apply puts and deletes atomically and durably."""
        with self._env.begin(write=True) as txn:
            for k in deletes:
                txn.delete(k)
            for k, v in puts.items():
                txn.put(k, v)

    def close(self) -> None:
        self._env.close()


class MemKV:
    """The same interface in memory, for the simulator and embedded memory clusters."""

    def __init__(self) -> None:
        self._d: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self._d.get(key)

    def items(self, prefix: bytes = b"") -> Iterator[tuple[bytes, bytes]]:
        for k in sorted(self._d):
            if k.startswith(prefix):
                yield k, self._d[k]

    def commit(self, puts: Mapping[bytes, bytes], deletes: tuple[bytes, ...] = ()) -> None:
        for k in deletes:
            self._d.pop(k, None)
        self._d.update(puts)

    def close(self) -> None:
        pass
