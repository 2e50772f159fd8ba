"""The `ObjectStore` interface the OSD programs against, and `KVObjectStore`, the
shared implementation of it over a key/value layer (see kvcore): backends only
supply a KV view for reads and an atomic batch commit for writes.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from .errors import StoreError
from .kvcore import CollectionStats, Reader, StoreState
from .transaction import Transaction
from .types import (
    DEFAULT_EXTENT_SIZE,
    HEAD,
    NO_GEN,
    SNAPDIR,
    ObjectKey,
    OidLike,
    StoreLimits,
    as_key,
)

#: Keys per page when the generic `collection_stats` lists a collection.
STATS_LIST_PAGE = 1024


class ObjectStore(abc.ABC):
    """Transactional object store (upstream's ObjectStore).

    Mutations only through `Transaction`s: `queue_transaction` (async, resolves
    once durable) or `apply_transaction` (sync). A transaction that fails raises
    `StoreError` and changes nothing. Reads raise `StoreError(ENOENT)` for a
    missing collection or object and `StoreError(EIO)` for a checksum mismatch.
    """

    extent_size: int
    limits: StoreLimits

    # -- lifecycle ---------------------------------------------------------------
    @abc.abstractmethod
    def mkfs(self) -> None:
        """Create an empty store (idempotent on an existing empty one)."""

    @abc.abstractmethod
    def mount(self) -> None:
        """Open the store for use."""

    @abc.abstractmethod
    def umount(self) -> None:
        """Flush and close (queued transactions are committed first)."""

    # -- mutation ----------------------------------------------------------------
    @abc.abstractmethod
    async def queue_transaction(self, txn: Transaction) -> None:
        """Apply ``txn`` atomically; return once it is durable.

        Transactions are applied in the order their calls start; concurrent
        calls are group-committed. Raises StoreError if ``txn`` failed.
        """

    @abc.abstractmethod
    def apply_transaction(self, txn: Transaction) -> None:
        """Synchronous `queue_transaction` (tests, tools, mkfs-time setup)."""

    # -- reads -------------------------------------------------------------------
    @abc.abstractmethod
    def exists(self, cid: str, oid: OidLike) -> bool: ...

    @abc.abstractmethod
    def stat(self, cid: str, oid: OidLike) -> int:
        """Object size in bytes."""

    @abc.abstractmethod
    def read(self, cid: str, oid: OidLike, offset: int = 0, length: int | None = None) -> bytes:
        """Bytes in [offset, offset+length) clipped to the size; holes read as zeros."""

    @abc.abstractmethod
    def getattr(self, cid: str, oid: OidLike, name: str) -> bytes:
        """One xattr (StoreError(ENODATA) if missing)."""

    @abc.abstractmethod
    def getattrs(self, cid: str, oid: OidLike) -> dict[str, bytes]: ...

    @abc.abstractmethod
    def omap_get_header(self, cid: str, oid: OidLike) -> bytes: ...

    @abc.abstractmethod
    def omap_get_values(
        self,
        cid: str,
        oid: OidLike,
        start_after: str | None = None,
        prefix: str | None = None,
        max_return: int | None = None,
    ) -> list[tuple[str, bytes]]:
        """Sorted (key, value) pairs with key > start_after and key.startswith(prefix)."""

    @abc.abstractmethod
    def omap_get_keys(
        self, cid: str, oid: OidLike, start_after: str | None = None, max_return: int | None = None
    ) -> list[str]: ...

    @abc.abstractmethod
    def omap_get_values_by_keys(
        self, cid: str, oid: OidLike, keys: Iterable[str]
    ) -> dict[str, bytes]: ...

    @abc.abstractmethod
    def list_collections(self) -> list[str]: ...

    @abc.abstractmethod
    def collection_exists(self, cid: str) -> bool: ...

    @abc.abstractmethod
    def collection_bits(self, cid: str) -> int: ...

    @abc.abstractmethod
    def collection_empty(self, cid: str) -> bool: ...

    @abc.abstractmethod
    def collection_list(
        self,
        cid: str,
        start: ObjectKey | None = None,
        max_count: int = 1024,
        end: ObjectKey | None = None,
    ) -> tuple[list[ObjectKey], ObjectKey | None]:
        """Objects in [start, end) in ObjectKey order, at most ``max_count``; also
        the key to resume from (None when the listing is complete)."""

    def collection_stats(self, cid: str) -> CollectionStats:
        """Objects (clones included, snapdirs not), their bytes and the clones among them
        (what a PG reports as num_objects, num_bytes and num_object_clones)."""
        st = CollectionStats()
        start: ObjectKey | None = None
        while True:
            keys, start = self.collection_list(cid, start, STATS_LIST_PAGE)
            for k in keys:
                if k.snap != SNAPDIR and k.generation == NO_GEN:  # not rollback data
                    st.add(k.snap != HEAD, self.stat(cid, k))
            if start is None:
                return st

    @abc.abstractmethod
    def meta_get(self, cid: str, key: bytes) -> bytes | None: ...

    @abc.abstractmethod
    def meta_list(
        self,
        cid: str,
        prefix: bytes = b"",
        start_after: bytes | None = None,
        max_return: int | None = None,
    ) -> list[tuple[bytes, bytes]]: ...

    @abc.abstractmethod
    def statfs(self) -> dict[str, int]:
        """``total``, ``used``, ``available`` bytes plus ``data_stored``,
        ``meta_used``, ``num_objects``."""

    @abc.abstractmethod
    def deep_verify(self, cid: str, oid: OidLike) -> bool:
        """Check every extent crc32c of an object (deep scrub)."""

    @abc.abstractmethod
    def object_digest(self, cid: str, oid: OidLike, seed: int = 0xFFFFFFFF) -> int:
        """Upstream data digest: ceph_crc32c(seed, whole object data)."""

    @abc.abstractmethod
    def fsck(self) -> list[str]:
        """Verify every checksum and counter; return the problems found."""


class KVObjectStore(ObjectStore):
    """All ObjectStore semantics over kvcore; subclasses supply the KV layer."""

    def __init__(
        self,
        capacity_bytes: int | None,
        extent_size: int = DEFAULT_EXTENT_SIZE,
        limits: StoreLimits | None = None,
    ) -> None:
        if extent_size <= 0 or extent_size % 512:
            raise ValueError("extent_size must be a positive multiple of 512")
        self.capacity = capacity_bytes
        self.extent_size = extent_size
        self.limits = limits or StoreLimits()
        self.state = StoreState()
        self.perf: dict[str, int] = {"commits": 0, "txns": 0, "txn_errors": 0}

    @abc.abstractmethod
    def _read_view(self) -> AbstractContextManager[Any]:
        """Context manager yielding a consistent read-only KV view."""

    def _reader(self) -> _ReaderCtx:
        return _ReaderCtx(self)

    # -- reads -------------------------------------------------------------------
    def exists(self, cid: str, oid: OidLike) -> bool:
        with self._reader() as r:
            return r.onode(cid, as_key(oid)) is not None

    def stat(self, cid: str, oid: OidLike) -> int:
        with self._reader() as r:
            return r.need_onode(cid, as_key(oid))[2]

    def read(self, cid: str, oid: OidLike, offset: int = 0, length: int | None = None) -> bytes:
        with self._reader() as r:
            return r.read(cid, as_key(oid), offset, length)

    def getattr(self, cid: str, oid: OidLike, name: str) -> bytes:
        with self._reader() as r:
            return r.getattr(cid, as_key(oid), name)

    def getattrs(self, cid: str, oid: OidLike) -> dict[str, bytes]:
        with self._reader() as r:
            return r.getattrs(cid, as_key(oid))

    def omap_get_header(self, cid: str, oid: OidLike) -> bytes:
        with self._reader() as r:
            return r.omap_header(cid, as_key(oid))

    def omap_get_values(
        self,
        cid: str,
        oid: OidLike,
        start_after: str | None = None,
        prefix: str | None = None,
        max_return: int | None = None,
    ) -> list[tuple[str, bytes]]:
        with self._reader() as r:
            return r.omap_values(cid, as_key(oid), start_after, prefix, max_return)

    def omap_get_keys(
        self, cid: str, oid: OidLike, start_after: str | None = None, max_return: int | None = None
    ) -> list[str]:
        return [k for k, _ in self.omap_get_values(cid, oid, start_after, None, max_return)]

    def omap_get_values_by_keys(
        self, cid: str, oid: OidLike, keys: Iterable[str]
    ) -> dict[str, bytes]:
        with self._reader() as r:
            return r.omap_by_keys(cid, as_key(oid), keys)

    def list_collections(self) -> list[str]:
        with self._reader() as r:
            return r.list_collections()

    def collection_exists(self, cid: str) -> bool:
        with self._reader() as r:
            return r.coll_exists(cid)

    def collection_bits(self, cid: str) -> int:
        with self._reader() as r:
            return r.collection_bits(cid)

    def collection_empty(self, cid: str) -> bool:
        return not self.collection_list(cid, None, 1)[0]

    def collection_list(
        self,
        cid: str,
        start: ObjectKey | None = None,
        max_count: int = 1024,
        end: ObjectKey | None = None,
    ) -> tuple[list[ObjectKey], ObjectKey | None]:
        with self._reader() as r:
            return r.collection_list(cid, start, end, max_count)

    def collection_stats(self, cid: str) -> CollectionStats:
        # one pass over the onode records: no ObjectKey decoded, no lookup per object
        with self._reader() as r:
            return r.collection_stats(cid)

    def meta_get(self, cid: str, key: bytes) -> bytes | None:
        with self._reader() as r:
            return r.meta_get(cid, key)

    def meta_list(
        self,
        cid: str,
        prefix: bytes = b"",
        start_after: bytes | None = None,
        max_return: int | None = None,
    ) -> list[tuple[bytes, bytes]]:
        with self._reader() as r:
            return r.meta_list(cid, prefix, start_after, max_return)

    def statfs(self) -> dict[str, int]:
        st = self._committed_state()
        total = self.capacity if self.capacity is not None else 0
        return {
            "total": total,
            "used": st.used,
            "available": max(0, total - st.used) if self.capacity is not None else 0,
            "data_stored": st.data_bytes,
            "meta_used": st.meta_bytes,
            "num_objects": st.num_objects,
        }

    def deep_verify(self, cid: str, oid: OidLike) -> bool:
        with self._reader() as r:
            return r.deep_verify(cid, as_key(oid))

    def object_digest(self, cid: str, oid: OidLike, seed: int = 0xFFFFFFFF) -> int:
        with self._reader() as r:
            return r.digest(cid, as_key(oid), seed)

    def fsck(self) -> list[str]:
        with self._reader() as r:
            return r.fsck(self._committed_state())

    def iter_objects(self, cid: str, batch: int = 1024) -> Iterator[ObjectKey]:
        """Every object of a collection, in order (pages internally)."""
        start: ObjectKey | None = None
        while True:
            objs, nxt = self.collection_list(cid, start, batch)
            yield from objs
            if nxt is None:
                return
            start = nxt

    def _committed_state(self) -> StoreState:
        return self.state


class _ReaderCtx:
    __slots__ = ("store", "cm")

    def __init__(self, store: KVObjectStore) -> None:
        self.store = store

    def __enter__(self) -> Reader:
        self.cm = self.store._read_view()
        kv = self.cm.__enter__()
        return Reader(kv, self.store.limits, self.store.extent_size)

    def __exit__(self, *exc: object) -> None:
        self.cm.__exit__(*exc)


__all__ = ["KVObjectStore", "ObjectStore", "StoreError"]
