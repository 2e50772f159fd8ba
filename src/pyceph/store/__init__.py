"""The OSD object store: transactions, the ObjectStore interface, and its
memory (MemStore) and durable LMDB (LmdbStore) backends."""

from .errors import StoreError
from .lmdbstore import LmdbStore
from .memstore import MemStore
from .objectstore import ObjectStore
from .transaction import Transaction
from .types import HEAD, NO_GEN, NO_SHARD, SNAPDIR, ObjectKey, StoreLimits, StoreSettings

__all__ = [
    "HEAD",
    "NO_GEN",
    "NO_SHARD",
    "SNAPDIR",
    "LmdbStore",
    "MemStore",
    "ObjectKey",
    "ObjectStore",
    "StoreError",
    "StoreLimits",
    "StoreSettings",
    "Transaction",
]
