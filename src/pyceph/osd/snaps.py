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

from pyceph.common.packing import SHAPE_ERRORS, CorruptRecord, unpack_record
from pyceph.store.errors import StoreError
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import HEAD, NO_GEN, SNAPDIR, ObjectKey

#: The internal attr holding the SnapSet (on the head, or on the snapdir object).
SS_ATTR = "ss"
#: Most items in a container of a stored SnapSet (clones, a clone's snaps or overlaps).
SNAPSET_MAX_ITEMS = 1 << 20

#: A snap context: (seq, snaps newest first).
SnapContext = tuple[int, list[int]]
#: Byte ranges [(offset, length)], ascending and disjoint (upstream interval_set).
Extents = list[tuple[int, int]]


def _normalize(ranges: Any) -> Extents:
    out: Extents = []
    for o, n in sorted((int(o), int(n)) for o, n in ranges if n > 0):
        if out and out[-1][0] + out[-1][1] >= o:
            po, pn = out[-1]
            out[-1] = (po, max(pn, o + n - po))
        else:
            out.append((o, n))
    return out


def extents_subtract(a: Extents, b: Extents) -> Extents:
    """The ranges of `a` outside every range of `b`."""
    out: Extents = []
    cuts = _normalize(b)
    for o, n in _normalize(a):
        start, end = o, o + n
        for co, cn in cuts:
            if co + cn <= start or co >= end:
                continue
            if co > start:
                out.append((start, co - start))
            start = max(start, co + cn)
            if start >= end:
                break
        if start < end:
            out.append((start, end - start))
    return out


def extents_intersect(a: Extents, b: Extents) -> Extents:
    """The ranges in both `a` and `b`."""
    out: Extents = []
    for o, n in _normalize(a):
        for co, cn in _normalize(b):
            lo, hi = max(o, co), min(o + n, co + cn)
            if lo < hi:
                out.append((lo, hi - lo))
    return _normalize(out)


def modified_ranges(mutations: Any, old_size: int) -> Extents:
    """The head's byte ranges an op vector's data mutations touched, as upstream's
    ctx->modified_ranges: writes and zeroes their range; write_full, remove and a
    shrinking truncate everything from where they start to the old end."""
    size = old_size
    out: Extents = []
    for name, args in mutations:
        if name == "write":
            off, data = args[0], args[1]
            out.append((off, len(data)))
            size = max(size, off + len(data))
        elif name == "zero":
            out.append((args[0], args[1]))
        elif name == "write_full":
            out.append((0, max(size, len(args[0]))))
            size = len(args[0])
        elif name == "truncate":
            if args[0] < size:
                out.append((args[0], size - args[0]))
            size = args[0]
        elif name == "remove":
            out.append((0, size))
            size = 0
    return _normalize(out)


@dataclass
class SnapSet:
    """upstream SnapSet. Clones are full copies in the store; `clone_overlap` records, as
    upstream's does, the byte ranges of each clone still identical to the next newer
    state (the next clone, or the head for the newest) — what list_snaps reports and
    librbd's diff reads."""

    seq: int = 0
    clones: list[int] = field(default_factory=list)  #: ascending
    clone_snaps: dict[int, list[int]] = field(default_factory=dict)  #: newest first
    clone_size: dict[int, int] = field(default_factory=dict)
    #: clone id -> [(offset, length)] ascending, disjoint (absent: nothing known alike)
    clone_overlap: dict[int, Extents] = field(default_factory=dict)

    def encode(self) -> bytes:
        return msgpack.packb(
            [
                self.seq,
                [
                    [
                        c,
                        self.clone_snaps.get(c, []),
                        self.clone_size.get(c, 0),
                        [list(e) for e in self.clone_overlap.get(c, [])],
                    ]
                    for c in self.clones
                ],
            ]
        )

    @classmethod
    def decode(cls, b: bytes | memoryview) -> SnapSet:
        """The stored attr; CorruptRecord if it is malformed (a damaged store)."""
        try:
            return cls._from_plain(unpack_record(b, "snapset", max_items=SNAPSET_MAX_ITEMS, max_str=0))  # fmt: skip
        except SHAPE_ERRORS as e:
            if isinstance(e, CorruptRecord):
                raise
            raise CorruptRecord(f"corrupt snapset: {e!r}") from None

    @classmethod
    def _from_plain(cls, w: Any) -> SnapSet:
        ss = cls(int(w[0]))
        for c, snaps, size, *rest in w[1]:
            ss.clones.append(int(c))
            ss.clone_snaps[int(c)] = [int(s) for s in snaps]
            ss.clone_size[int(c)] = int(size)
            # absent (or a SnapSet written before overlaps were kept): nothing alike
            overlap = [(int(o), int(n)) for o, n in (rest[0] if rest else [])]
            if overlap:
                ss.clone_overlap[int(c)] = overlap
        return ss

    def copy(self) -> SnapSet:
        return SnapSet(
            self.seq,
            list(self.clones),
            {c: list(s) for c, s in self.clone_snaps.items()},
            dict(self.clone_size),
            {c: list(o) for c, o in self.clone_overlap.items()},
        )

    def note_modified(self, modified: Extents) -> None:
        """A write changed `modified` of the head: the newest clone no longer matches the
        head there (upstream make_writeable: clone_overlap[newest].subtract)."""
        if self.clones and modified:
            newest = self.clones[-1]
            self.clone_overlap[newest] = extents_subtract(
                self.clone_overlap.get(newest, []), modified
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
            self.clone_overlap[clone] = [(0, head_size)] if head_size else []
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
                i = self.clones.index(c)
                if i > 0:
                    # the next older clone now compares with what `c` compared with
                    # (upstream trim_object: intersection_of)
                    older = self.clones[i - 1]
                    self.clone_overlap[older] = extents_intersect(
                        self.clone_overlap.get(older, []), self.clone_overlap.get(c, [])
                    )
                self.clones.remove(c)
                self.clone_snaps.pop(c, None)
                self.clone_size.pop(c, None)
                self.clone_overlap.pop(c, None)
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
    """Every store object of one client object: its clones, head and snapdir (not the
    generation objects of an EC shard's rollback data, `pyceph.osd.ec_rollback`)."""
    start = dataclasses.replace(head, snap=0, generation=0)
    out: list[ObjectKey] = []
    ident = (head.hash, head.namespace, head.key, head.name, head.pool, head.shard)
    while True:
        keys, nxt = store.collection_list(cid, start, 64)
        for k in keys:
            if (k.hash, k.namespace, k.key, k.name, k.pool, k.shard) != ident:
                return out
            if k.generation == NO_GEN:
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
