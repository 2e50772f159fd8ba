"""A PG's durable metadata in its collection's meta keys: info, log entries, dups and
the missing set, written into the same transactions as the object changes they describe.

Reading them back treats the store as untrusted (a damaged disk): every record decodes
through the bounded unpacker with the bounds below, and anything malformed is a
`CorruptRecord` naming the record (upstream: a decode error of pg_info_t or a log entry
aborts the OSD's load of the PG).
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import msgpack

from pyceph.common.packing import SHAPE_ERRORS, CorruptRecord, unpack_record
from pyceph.osd.pglog import DupEntry, LogEntry, PGLog
from pyceph.osd.types import Oid, PastInterval, PGInfo, Version, oid_of, ver
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction

INFO_KEY = b"info"
#: the PG's interval state (same_interval_since and past intervals), written by the OSD
#: with its current map at each interval change (upstream writes the PG's info and past
#: intervals as it advances through every map; ours go apart from `info` because op
#: transactions write `info` and may commit after this one)
INTERVALS_KEY = b"intervals"
LOG_PREFIX = b"log/"
DUP_PREFIX = b"dup/"
MISSING_PREFIX = b"miss/"
_V = struct.Struct(">QQ")
#: Most items in one container of a stored PG record (past intervals and stats of the
#: info are the longest lists; a log entry, dup or missing item has a handful of fields).
MAX_RECORD_ITEMS = 1 << 16
#: Longest string in a stored PG record (object names and keys are far shorter).
MAX_RECORD_STR = 1 << 16


def _vkey(prefix: bytes, v: Version) -> bytes:
    return prefix + _V.pack(v[0], v[1])


def _dup_key(d: DupEntry) -> bytes:
    """A dup's key: its version, then its request. A merged PG holds the dups of two
    logs whose versions may coincide, so the version alone would let one overwrite the
    other on disk (and evicting one would delete both)."""
    return _vkey(DUP_PREFIX, d.version) + hashlib.sha1(_pack(list(d.reqid))).digest()[:8]


def _pack(o: object) -> bytes:
    return msgpack.packb(o, use_bin_type=True)


def _miss_key(oid: Oid) -> bytes:
    return MISSING_PREFIX + hashlib.sha1(_pack(list(oid))).digest()


def write_info(t: Transaction, cid: str, info: PGInfo) -> None:
    t.meta_set(cid, INFO_KEY, _pack(info.to_wire()))


def write_intervals(t: Transaction, cid: str, info: PGInfo) -> None:
    past = [p.to_wire() for p in info.past_intervals]
    t.meta_set(cid, INTERVALS_KEY, _pack({"sis": info.same_interval_since, "past": past}))


def write_entry(t: Transaction, cid: str, e: LogEntry) -> None:
    t.meta_set(cid, _vkey(LOG_PREFIX, e.version), _pack(e.to_wire()))


def remove_entries(t: Transaction, cid: str, after: Version) -> None:
    """Drop every log entry newer than `after` (divergent entries being rewound)."""
    t.meta_rmrange(cid, _vkey(LOG_PREFIX, (after[0], after[1] + 1)), LOG_PREFIX + b"\xff" * 17)


def remove_all_entries(t: Transaction, cid: str) -> None:
    t.meta_rmrange(cid, LOG_PREFIX, LOG_PREFIX + b"\xff" * 17)


def write_trim(
    t: Transaction, cid: str, to: Version, trimmed: list[LogEntry], evicted: list[DupEntry]
) -> None:
    t.meta_rmrange(cid, LOG_PREFIX, _vkey(LOG_PREFIX, (to[0], to[1] + 1)))
    write_dups(
        t, cid, [DupEntry(e.reqid, e.version, e.user_version, e.r) for e in trimmed if e.reqid]
    )
    for d in evicted:
        t.meta_rm(cid, _dup_key(d))
        t.meta_rm(cid, _vkey(DUP_PREFIX, d.version))  # as stores before the request suffix keyed it


def remove_entry(t: Transaction, cid: str, v: Version) -> None:
    t.meta_rm(cid, _vkey(LOG_PREFIX, v))


def write_dups(t: Transaction, cid: str, dups: list[DupEntry]) -> None:
    for d in dups:
        t.meta_set(cid, _dup_key(d), _pack(d.to_wire()))


def write_missing(t: Transaction, cid: str, oid: Oid, need: Version | None) -> None:
    """Record (or, with None, clear) that this OSD lacks `oid` at version `need`."""
    if need is None:
        t.meta_rm(cid, _miss_key(oid))
    else:
        t.meta_set(cid, _miss_key(oid), _pack([list(oid), list(need)]))


def clear_missing(t: Transaction, cid: str) -> None:
    t.meta_rmrange(cid, MISSING_PREFIX, MISSING_PREFIX + b"\xff" * 21)


def _record(raw: bytes, what: str) -> Any:
    return unpack_record(raw, what, max_items=MAX_RECORD_ITEMS, max_str=MAX_RECORD_STR)


def decode_info(raw: bytes) -> PGInfo:
    """A stored pg info; CorruptRecord if it is malformed."""
    try:
        return PGInfo.from_wire(_record(raw, "pg info"))
    except SHAPE_ERRORS as e:
        raise _corrupt("pg info", e) from None


def decode_intervals(raw: bytes) -> tuple[int, list[PastInterval]]:
    """A stored interval state (same_interval_since, past intervals); CorruptRecord if
    it is malformed."""
    try:
        w = _record(raw, "pg intervals")
        return int(w["sis"]), [PastInterval.from_wire(pw) for pw in w["past"]]
    except SHAPE_ERRORS as e:
        raise _corrupt("pg intervals", e) from None


def decode_entry(raw: bytes) -> LogEntry:
    """A stored pg log entry; CorruptRecord if it is malformed."""
    try:
        return LogEntry.from_wire(_record(raw, "pg log entry"))
    except SHAPE_ERRORS as e:
        raise _corrupt("pg log entry", e) from None


def decode_dup(raw: bytes) -> DupEntry:
    """A stored pg log dup; CorruptRecord if it is malformed."""
    try:
        w = _record(raw, "pg log dup")
        if w[0] is None:  # a dup always has the request it answers
            raise ValueError("dup without a reqid")
        return DupEntry.from_wire(w)
    except SHAPE_ERRORS as e:
        raise _corrupt("pg log dup", e) from None


def decode_missing(raw: bytes) -> tuple[Oid, Version]:
    """A stored missing-set item (object, needed version); CorruptRecord if malformed."""
    try:
        w = _record(raw, "missing item")
        return oid_of(w[0]), ver(w[1])
    except SHAPE_ERRORS as e:
        raise _corrupt("missing item", e) from None


def _corrupt(what: str, e: Exception) -> CorruptRecord:
    return e if isinstance(e, CorruptRecord) else CorruptRecord(f"corrupt {what}: {e!r}")


def load(store: ObjectStore, cid: str, pgid: str) -> tuple[PGInfo, PGLog, dict[Oid, Version]]:
    """Info, log and missing set of a PG from its collection (empty ones if absent);
    CorruptRecord if one of the records is malformed."""
    raw = store.meta_get(cid, INFO_KEY)
    info = decode_info(raw) if raw else PGInfo(pgid)
    raw = store.meta_get(cid, INTERVALS_KEY)
    if raw:
        # the newest record of the interval state (ops never change it): it may hold
        # intervals an activation has since made moot; peering skips those by epoch
        sis, past = decode_intervals(raw)
        info.same_interval_since = max(info.same_interval_since, sis)
        known = {(p.first, p.last) for p in info.past_intervals}
        info.past_intervals.extend(pi for pi in past if (pi.first, pi.last) not in known)
        info.past_intervals.sort(key=lambda p: p.first)
    entries = [decode_entry(v) for _k, v in store.meta_list(cid, LOG_PREFIX)]
    dups = [decode_dup(v) for _k, v in store.meta_list(cid, DUP_PREFIX)]
    log = PGLog(info.log_tail, entries, dups)
    missing = dict(decode_missing(v) for _k, v in store.meta_list(cid, MISSING_PREFIX))
    return info, log, missing
