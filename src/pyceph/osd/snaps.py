"""Per-object snapshot state (upstream SnapSet) and the pure helpers around it.

A head object written under a snap context newer than its SnapSet is first cloned into an
object with ``snap = <snapc.seq>`` (copy-on-write, upstream ``make_writeable``); the clone
records the snaps it serves (``clone_snaps``, newest first) and its size. The SnapSet lives
in the head's internal attr ``"ss"``; when the head is deleted while clones remain it moves
to a *snapdir* object (``snap = SNAPDIR``, upstream's pre-whiteout layout) holding only the
object info and the SnapSet, so the clones stay readable and recoverable.

All objects of one client object (clones, head, snapdir) share name, namespace, locator and
hash, so they are adjacent in a PG listing; recovery moves them as one unit.
"""

from __future__ import annotations

import dataclasses
import errno
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.store.errors import StoreError
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import HEAD, SNAPDIR, ObjectKey

#: The internal attr holding the SnapSet (on the head, or on the snapdir object).
SS_ATTR = "ss"

#: A snap context: (seq, snaps newest first).
SnapContext = tuple[int, list[int]]


@dataclass
class SnapSet:
    """upstream SnapSet (abridged: no clone_overlap; clones are full copies)."""

    seq: int = 0
    clones: list[int] = field(default_factory=list)  #: ascending
    clone_snaps: dict[int, list[int]] = field(default_factory=dict)  #: newest first
    clone_size: dict[int, int] = field(default_factory=dict)

    def encode(self) -> bytes:
        return msgpack.packb(
            [
                self.seq,
                [[c, self.clone_snaps.get(c, []), self.clone_size.get(c, 0)] for c in self.clones],
            ]
        )

    @classmethod
    def decode(cls, b: bytes | memoryview) -> SnapSet:
        w = msgpack.unpackb(bytes(b))
        ss = cls(int(w[0]))
        for c, snaps, size in w[1]:
            ss.clones.append(int(c))
            ss.clone_snaps[int(c)] = [int(s) for s in snaps]
            ss.clone_size[int(c)] = int(size)
        return ss

    def copy(self) -> SnapSet:
        return SnapSet(
            self.seq,
            list(self.clones),
            {c: list(s) for c, s in self.clone_snaps.items()},
            dict(self.clone_size),
        )

    @property
    def trivial(self) -> bool:
        return not self.seq and not self.clones

    def resolve(self, snapid: int, head_exists: bool) -> int | None:
        """Which object holds the state at `snapid` (upstream find_object_context): HEAD,
        a clone id, or None when the object did not exist at that snap."""
        if snapid == HEAD:
            return HEAD if head_exists else None
        if snapid > self.seq:
            return HEAD if head_exists else None
        for c in self.clones:
            if c >= snapid:
                snaps = self.clone_snaps.get(c) or []
                if snaps and min(snaps) <= snapid:
                    return c
                return None
        return None

    def make_clone(self, snapc: SnapContext | None, head_size: int) -> int | None:
        """Copy-on-write bookkeeping before a write to an existing head: record a new clone
        when `snapc` holds snaps newer than our seq; return its id (None: no clone)."""
        if snapc is None:
            return None
        seq, snaps = snapc
        clone = None
        new = [s for s in snaps if s > self.seq]
        if new and seq > self.seq and seq not in self.clone_snaps:
            clone = seq
            self.clones.append(clone)
            self.clones.sort()
            self.clone_snaps[clone] = new
            self.clone_size[clone] = head_size
        self.seq = max(self.seq, seq)
        return clone

    def trim(self, removed: set[int]) -> tuple[list[int], bool]:
        """Drop removed snaps from every clone; returns the clones left without a snap (to
        be deleted) and whether anything changed."""
        gone: list[int] = []
        changed = False
        for c in list(self.clones):
            snaps = self.clone_snaps.get(c) or []
            keep = [s for s in snaps if s not in removed]
            if len(keep) == len(snaps) and keep:
                continue
            changed = True
            if keep:
                self.clone_snaps[c] = keep
            else:
                gone.append(c)
                self.clones.remove(c)
                self.clone_snaps.pop(c, None)
                self.clone_size.pop(c, None)
        return gone, changed


def snap_key(head: ObjectKey, snap: int) -> ObjectKey:
    return dataclasses.replace(head, snap=snap)


def _getattr(store: ObjectStore, cid: str, key: ObjectKey, name: str) -> bytes | None:
    try:
        return bytes(store.getattr(cid, key, name))
    except StoreError as e:
        if e.errno in (errno.ENOENT, errno.ENODATA):
            return None
        raise


def load_snapset(
    store: ObjectStore, cid: str, head: ObjectKey, head_exists: bool | None = None
) -> tuple[SnapSet | None, bool]:
    """The object's SnapSet and whether it lives on the snapdir (the head being gone).
    `head_exists` (when known) spares a look at the snapdir of a live head."""
    b = _getattr(store, cid, head, SS_ATTR)
    if b is not None:
        return SnapSet.decode(b), False
    if head_exists:
        return None, False
    b = _getattr(store, cid, snap_key(head, SNAPDIR), SS_ATTR)
    if b is not None:
        return SnapSet.decode(b), True
    return None, False


def object_keys(store: ObjectStore, cid: str, head: ObjectKey) -> list[ObjectKey]:
    """Every store object of one client object: its clones, head and snapdir."""
    start = dataclasses.replace(head, snap=0, generation=0)
    out: list[ObjectKey] = []
    ident = (head.hash, head.namespace, head.key, head.name, head.pool, head.shard)
    while True:
        keys, nxt = store.collection_list(cid, start, 64)
        for k in keys:
            if (k.hash, k.namespace, k.key, k.name, k.pool, k.shard) != ident:
                return out
            out.append(k)
        if nxt is None:
            return out
        start = nxt


def snap_context(pool: Any, wire: Any) -> SnapContext | None:
    """The snap context a write runs under: the pool's in pool-snaps mode, else the client's
    (upstream do_op), without the snaps already removed (filter_snapc)."""
    removed = set(getattr(pool, "removed_snaps", None) or ())
    pool_snaps = getattr(pool, "pool_snaps", None) or {}
    is_pool_mode = getattr(pool, "is_pool_snaps_mode", None)
    if pool is not None and (is_pool_mode() if callable(is_pool_mode) else bool(pool_snaps)):
        seq = int(getattr(pool, "snap_seq", 0) or 0)
        snaps = sorted((int(s) for s in pool_snaps), reverse=True)
    elif wire:
        seq = int(wire[0])
        snaps = sorted({int(s) for s in (wire[1] or [])}, reverse=True)
    else:
        return None
    snaps = [s for s in snaps if s not in removed]
    if snaps:
        seq = max(seq, snaps[0])
    if not seq:
        return None
    return seq, snaps


def trim_txn(
    store: ObjectStore,
    cid: str,
    head: ObjectKey,
    removed: set[int],
    oi_attr: str,
    stamp_oi: Any,
) -> tuple[Transaction, bool] | None:
    """The transaction trimming `removed` snaps from one object (upstream trim_object):
    deletes the clones no remaining snap needs and rewrites the SnapSet. `stamp_oi(bytes)`
    returns the holder's object info re-stamped with the trim's version. Returns None when
    nothing changes, else (txn, whether the whole object is gone)."""
    ss, on_snapdir = load_snapset(store, cid, head)
    if ss is None:
        return None
    gone, changed = ss.trim(removed)
    if not changed:
        return None
    t = Transaction()
    for c in gone:
        t.remove(cid, snap_key(head, c))
    holder = snap_key(head, SNAPDIR) if on_snapdir else head
    if on_snapdir and not ss.clones:
        t.remove(cid, holder)
        return t, True
    t.setattr(cid, holder, SS_ATTR, ss.encode())
    oi = _getattr(store, cid, holder, oi_attr)
    if oi is not None:
        t.setattr(cid, holder, oi_attr, stamp_oi(oi))
    return t, False


__all__ = [
    "SS_ATTR",
    "SnapContext",
    "SnapSet",
    "load_snapset",
    "object_keys",
    "snap_context",
    "snap_key",
    "trim_txn",
]
