"""A PG's durable metadata in its collection's meta keys: info, log entries, dups and
the missing set, written into the same transactions as the object changes they describe."""

from __future__ import annotations

import hashlib
import struct

import msgpack

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


def _vkey(prefix: bytes, v: Version) -> bytes:
    return prefix + _V.pack(v[0], v[1])


def _pack(o: object) -> bytes:
    return msgpack.packb(o, use_bin_type=True)


def _unpack(b: bytes) -> object:
    return msgpack.unpackb(b, raw=False, strict_map_key=False)


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
    for e in trimmed:
        if e.reqid is not None:
            d = DupEntry(e.reqid, e.version, e.user_version, e.r)
            t.meta_set(cid, _vkey(DUP_PREFIX, e.version), _pack(d.to_wire()))
    for d in evicted:
        t.meta_rm(cid, _vkey(DUP_PREFIX, d.version))


def remove_entry(t: Transaction, cid: str, v: Version) -> None:
    t.meta_rm(cid, _vkey(LOG_PREFIX, v))


def write_dups(t: Transaction, cid: str, dups: list[DupEntry]) -> None:
    for d in dups:
        t.meta_set(cid, _vkey(DUP_PREFIX, d.version), _pack(d.to_wire()))


def write_missing(t: Transaction, cid: str, oid: Oid, need: Version | None) -> None:
    """Record (or, with None, clear) that this OSD lacks `oid` at version `need`."""
    if need is None:
        t.meta_rm(cid, _miss_key(oid))
    else:
        t.meta_set(cid, _miss_key(oid), _pack([list(oid), list(need)]))


def clear_missing(t: Transaction, cid: str) -> None:
    t.meta_rmrange(cid, MISSING_PREFIX, MISSING_PREFIX + b"\xff" * 21)


def load(store: ObjectStore, cid: str, pgid: str) -> tuple[PGInfo, PGLog, dict[Oid, Version]]:
    """Info, log and missing set of a PG from its collection (empty ones if absent)."""
    raw = store.meta_get(cid, INFO_KEY)
    info = PGInfo.from_wire(_unpack(raw)) if raw else PGInfo(pgid)  # type: ignore[arg-type]
    raw = store.meta_get(cid, INTERVALS_KEY)
    if raw:
        # the newest record of the interval state (ops never change it): it may hold
        # intervals an activation has since made moot; peering skips those by epoch
        w = _unpack(raw)
        info.same_interval_since = max(info.same_interval_since, int(w["sis"]))  # type: ignore[index]
        known = {(p.first, p.last) for p in info.past_intervals}
        for pw in w["past"]:  # type: ignore[index]
            pi = PastInterval.from_wire(pw)
            if (pi.first, pi.last) not in known:
                info.past_intervals.append(pi)
        info.past_intervals.sort(key=lambda p: p.first)
    entries = [LogEntry.from_wire(_unpack(v)) for _k, v in store.meta_list(cid, LOG_PREFIX)]  # type: ignore[arg-type]
    dups = [DupEntry.from_wire(_unpack(v)) for _k, v in store.meta_list(cid, DUP_PREFIX)]  # type: ignore[arg-type]
    log = PGLog(info.log_tail, entries, dups)
    missing: dict[Oid, Version] = {}
    for _k, v in store.meta_list(cid, MISSING_PREFIX):
        w = _unpack(v)
        missing[oid_of(w[0])] = ver(w[1])  # type: ignore[index]
    return info, log, missing
