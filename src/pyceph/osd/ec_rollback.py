"""Rollback data of erasure-coded PG log entries (upstream ObjectModDesc, PGBackend
rollback / rollforward / trim_rollback_object): how one shard undoes an entry it applied.

An EC write that fewer than all shards applied may have to be undone on the shards that
did apply it: with m=1 a version held by one shard alone cannot be decoded, and the
version before it needs k shards too. So every shard transaction of an EC PG records,
with its log entry and in the same store transaction, what it destroys (`plan`):

- an object the transaction creates -> removed on rollback;
- an object it removes, clones over, renames or whose omap it changes -> the whole old
  object copied to a generation object (upstream's stash: the same `ObjectKey` with
  ``generation`` = the entry's version) and renamed back;
- data it overwrites or truncates (an EC shard write truncates to the first stripe it
  touches, then writes from there) -> the old bytes from that offset to the old end
  copied into the generation object (upstream's rollback_extents); rollback truncates,
  copies them back and restores the old size; a pure append is undone by a truncate;
- attrs it sets or removes -> the old attrs kept in the entry (upstream's setattrs desc),
  or, past `MAX_INLINE_ATTR_BYTES`, the whole object stashed.

The plan is made by the shard itself against its own store (each shard's bytes and sizes
differ), so it is exact for that shard; upstream computes one ObjectModDesc on the primary.
Everything here is pure: `plan` reads the old state through a callable and returns ops;
the PG puts them into its transactions.

Generation objects are never client objects: listings, scrub, backfill and stats skip
keys whose ``generation`` is not `NO_GEN` (`is_stash`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyceph.osd.types import ZERO, Version
from pyceph.store.transaction import Op, Transaction
from pyceph.store.types import NO_GEN, ObjectKey

#: (exists, size, attrs) of a store object before a transaction (attrs only when asked)
OldState = tuple[bool, int, dict[str, bytes]]
#: reads a key's `OldState`; the flag says whether its attrs are wanted
OldReader = Callable[[ObjectKey, bool], OldState]

#: Most bytes of old attrs (names and values) kept in a log entry; an object whose
#: attrs are larger is stashed whole instead, so log records stay small.
MAX_INLINE_ATTR_BYTES = 4096
#: data ops whose offset (a truncate's new size) is where the data may change from
_DATA = (Op.WRITE, Op.ZERO, Op.TRUNCATE)
_ATTRS = (Op.SETATTRS, Op.RMATTR, Op.RMATTRS)
_OMAP = (Op.OMAP_CLEAR, Op.OMAP_SETKEYS, Op.OMAP_RMKEYS, Op.OMAP_SETHEADER, Op.OMAP_RMKEYRANGE)
#: ops that leave their first key untouched (the source of a copy)
_READS_FIRST = (Op.CLONE, Op.CLONERANGE2)


def is_stash(key: ObjectKey) -> bool:
    """Is `key` a generation object (rollback data), never a client object?"""
    return key.generation != NO_GEN


def stash_key(key: ObjectKey, gen: int) -> ObjectKey:
    """The generation object holding `key`'s rollback data for the entry `gen`."""
    return dataclasses.replace(key, generation=gen)


@dataclass(slots=True)
class KeyUndo:
    """How to put one store object back as it was before an entry."""

    key: ObjectKey
    #: it did not exist: rollback removes it
    created: bool = False
    #: the whole old object is in the generation object
    whole: bool = False
    #: its old size (data objects)
    size: int = 0
    #: old bytes [stash_from, size) are in the generation object at offset 0 (None: none)
    stash_from: int | None = None
    #: the data may have changed from `lo` on (a pure append: lo >= size)
    lo: int | None = None
    #: its old attrs, when the entry changed them
    attrs: dict[str, bytes] | None = None

    def to_wire(self) -> list[Any]:
        return [
            list(self.key.to_tuple()),
            self.created,
            self.whole,
            self.size,
            self.stash_from,
            self.lo,
            self.attrs,
        ]

    @classmethod
    def from_wire(cls, w: list[Any]) -> KeyUndo:
        attrs = w[6]
        return cls(
            ObjectKey.from_tuple(w[0]),
            bool(w[1]),
            bool(w[2]),
            int(w[3]),
            None if w[4] is None else int(w[4]),
            None if w[5] is None else int(w[5]),
            None if attrs is None else {str(n): bytes(v) for n, v in attrs.items()},
        )

    @property
    def stashed(self) -> bool:
        return self.whole or self.stash_from is not None


@dataclass(slots=True)
class RollbackInfo:
    """Everything one shard needs to undo one log entry (`gen`: the entry's version
    counter, the generation of its stash objects)."""

    gen: int
    keys: list[KeyUndo] = dataclasses.field(default_factory=list)

    def to_wire(self) -> list[Any]:
        return [self.gen, [k.to_wire() for k in self.keys]]

    @classmethod
    def from_wire(cls, w: list[Any]) -> RollbackInfo:
        return cls(int(w[0]), [KeyUndo.from_wire(k) for k in w[1]])


def plan(txn: Transaction, cid: str, gen: int, old: OldReader) -> tuple[Transaction, RollbackInfo]:
    """The stash transaction to run just before `txn` (in the same store transaction)
    and the rollback info of `txn`'s changes to collection `cid`; `old(key, attrs)`
    gives a key's state before `txn`."""
    whole: set[ObjectKey] = set()
    lo: dict[ObjectKey, int] = {}
    attrs: set[ObjectKey] = set()
    order: list[ObjectKey] = []

    seen: set[ObjectKey] = set()

    def see(k: ObjectKey) -> None:
        if k not in seen:
            order.append(k)
            seen.add(k)

    for op in txn.ops:
        code = op[0]
        if len(op) < 3 or op[1] != cid or not isinstance(op[2], ObjectKey):
            continue
        k = op[2]
        if code in _READS_FIRST:
            dst = op[3]
            see(dst)
            if code == Op.CLONE:
                whole.add(dst)
            else:
                lo[dst] = min(lo.get(dst, int(op[6])), int(op[6]))
            continue
        see(k)
        if code in _DATA:
            lo[k] = min(lo.get(k, int(op[3])), int(op[3]))
        elif code in _ATTRS:
            attrs.add(k)
        elif code == Op.REMOVE or code in _OMAP:
            whole.add(k)
        elif code in (Op.TRY_RENAME, Op.COLL_MOVE_RENAME):
            whole.add(k)
            dst = op[3] if code == Op.TRY_RENAME else op[4]
            if isinstance(dst, ObjectKey):
                see(dst)
                whole.add(dst)
    stash = Transaction()
    info = RollbackInfo(gen)
    for k in order:
        exists, size, old_attrs = old(k, k in attrs and k not in whole)
        if not exists:
            info.keys.append(KeyUndo(k, created=True))
            continue
        g = stash_key(k, gen)
        if (
            k in attrs
            and sum(len(n) + len(v) for n, v in old_attrs.items()) > MAX_INLINE_ATTR_BYTES
        ):
            whole.add(k)  # too large for the log entry: the stash object keeps them
        if k in whole:
            stash.clone(cid, k, g)
            info.keys.append(KeyUndo(k, whole=True, size=size))
            continue
        u = KeyUndo(k, size=size)
        if k in lo:
            u.lo = lo[k]
            if u.lo < size:
                u.stash_from = u.lo
                stash.clone_range(cid, k, g, u.lo, size - u.lo, 0)
        if k in attrs:
            u.attrs = dict(old_attrs)
        info.keys.append(u)
    return stash, info


def undo(info: RollbackInfo, cid: str) -> Transaction:
    """Put every object `info` describes back as it was before its entry, and drop the
    entry's stash objects (upstream PGBackend::rollback)."""
    t = Transaction()
    for u in info.keys:
        k = u.key
        if u.created:
            t.touch(cid, k)  # a remove of an absent key is tolerated; touch makes it plain
            t.remove(cid, k)
            continue
        g = stash_key(k, info.gen)
        if u.whole:
            t.try_rename(cid, g, k)
            continue
        if u.lo is not None:
            t.touch(cid, k)  # the entry may have removed it only to write it again
            if u.stash_from is not None:
                t.truncate(cid, k, u.stash_from)
                t.clone_range(cid, g, k, 0, u.size - u.stash_from, u.stash_from)
                t.remove(cid, g)
            t.truncate(cid, k, u.size)
        if u.attrs is not None:
            t.touch(cid, k)
            t.rmattrs(cid, k)
            if u.attrs:
                t.setattrs(cid, k, u.attrs)
    return t


def forget(info: RollbackInfo, cid: str) -> Transaction:
    """Drop the entry's stash objects: it can no longer be rolled back (upstream
    PGBackend::rollforward / trim_rollback_object)."""
    t = Transaction()
    for u in info.keys:
        if u.stashed:
            t.remove(cid, stash_key(u.key, info.gen))
    return t


class CommitTracker:
    """Primary: the newest version that every shard of the acting set committed, with
    every older one (upstream's roll_forward_to, which the primary piggybacks on later
    writes so the shards trim the rollback data of those entries)."""

    def __init__(self, head: Version = ZERO) -> None:
        self.to: Version = head
        self._pending: dict[Version, bool] = {}

    def reset(self, head: Version) -> None:
        """A new interval: everything up to the activated head is rolled forward."""
        self.to = head
        self._pending.clear()

    def submitted(self, v: Version) -> None:
        """`v` was sent to the shards (versions arrive in order)."""
        self._pending[v] = False

    def committed(self, v: Version) -> None:
        """Every shard acknowledged `v`."""
        if v not in self._pending:
            return
        self._pending[v] = True
        while self._pending:
            first = next(iter(self._pending))
            if not self._pending[first]:
                break
            del self._pending[first]
            self.to = max(self.to, first)
