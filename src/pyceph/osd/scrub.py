"""Scrub: build per-OSD scrub maps, compare them, pick the authoritative copy, plan repair.

Upstream Ceph (Pacific `src/osd/PGBackend.cc` `be_compare_scrubmaps`,
`be_select_auth_object`, `be_compare_scrub_objects`; `src/common/scrub_types.h`;
`src/tools/rados/rados.cc` `dump_inconsistent`) scrubs a PG in chunks: the primary asks
every acting OSD for a *scrub map* of the chunk's objects (size, attrs, and on a deep
scrub the data crc32c and omap digest, with read errors noted), compares them, records
the objects that differ with per-shard and per-object error names, and on repair copies
the authoritative object over the bad ones.

This module is the sans-I/O part: `build_scrub_map` reads one store synchronously (no
network), `compare_maps` turns maps into `Inconsistency` records and a repair plan, and
`scrub_due` decides when the scheduler starts a scrub. The PG (`pyceph.osd.pg`) does the
messaging, locking and the repair pushes.
"""

from __future__ import annotations

import errno
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pyceph.osd.ops import OI_ATTR, ObjectInfo
from pyceph.osd.snaps import SS_ATTR, object_keys
from pyceph.osd.types import Oid, object_hash, object_key
from pyceph.osdmap.pool import utime_str
from pyceph.store.errors import StoreError
from pyceph.store.kvcore import ceph_crc32c
from pyceph.store.types import HEAD, SNAPDIR, ObjectKey

__all__ = [
    "DIGEST_SEED",
    "Inconsistency",
    "ScrubObject",
    "ScrubOptions",
    "ScrubResult",
    "ScrubState",
    "build_scrub_map",
    "compare_maps",
    "ec_inconsistent_shards",
    "map_from_wire",
    "map_to_wire",
    "scrub_due",
]

#: Seed of upstream's data and omap digests (an empty object digests to 0xffffffff).
DIGEST_SEED = 0xFFFFFFFF

# Shard error names, in upstream's dump order (rados.cc dump_errors).
SHARD_ERRORS = (
    "missing",
    "stat_error",
    "read_error",
    "data_digest_mismatch_info",
    "omap_digest_mismatch_info",
    "size_mismatch_info",
    "ec_hash_error",
    "ec_size_error",
    "info_missing",
    "info_corrupted",
    "obj_size_info_mismatch",
    "snapset_missing",
    "snapset_corrupted",
    "hinfo_missing",
    "hinfo_corrupted",
)
# Object error names, in upstream's dump order (rados.cc dump_obj_errors).
OBJECT_ERRORS = (
    "object_info_inconsistency",
    "data_digest_mismatch",
    "omap_digest_mismatch",
    "size_mismatch",
    "attr_value_mismatch",
    "attr_name_mismatch",
    "snapset_inconsistency",
    "hinfo_inconsistency",
    "size_too_large",
)
#: Most k-shard choices an EC consistency check decodes (C(k+m, k) grows fast).
MAX_EC_CHOICES = 64
#: Shard errors that make a copy unusable as the authoritative one.
_DISQUALIFYING = frozenset(
    {"missing", "stat_error", "read_error", "info_missing", "info_corrupted",
     "obj_size_info_mismatch", "ec_hash_error", "ec_size_error"}
)  # fmt: skip


@dataclass
class ScrubOptions:
    """The scheduling options (upstream names and defaults, `options.py`)."""

    min_interval: float = 86400.0  # osd_scrub_min_interval
    max_interval: float = 604800.0  # osd_scrub_max_interval
    deep_interval: float = 604800.0  # osd_deep_scrub_interval
    load_threshold: float = 0.5  # osd_scrub_load_threshold
    begin_hour: int = 0  # osd_scrub_begin_hour
    end_hour: int = 0  # osd_scrub_end_hour
    begin_week_day: int = 0  # osd_scrub_begin_week_day (0 = Sunday)
    end_week_day: int = 0  # osd_scrub_end_week_day
    chunk_max: int = 25  # osd_scrub_chunk_max
    auto_repair: bool = False  # osd_scrub_auto_repair
    auto_repair_num_errors: int = 5  # osd_scrub_auto_repair_num_errors
    during_recovery: bool = False  # osd_scrub_during_recovery

    @classmethod
    def from_config(cls, cfg: Any) -> ScrubOptions:
        def g(name: str, default: Any) -> Any:
            try:
                v = cfg.get(name)
            except (KeyError, AttributeError, ValueError):
                return default
            return default if v is None else type(default)(v)

        d = cls()
        return cls(
            min_interval=g("osd_scrub_min_interval", d.min_interval),
            max_interval=g("osd_scrub_max_interval", d.max_interval),
            deep_interval=g("osd_deep_scrub_interval", d.deep_interval),
            load_threshold=g("osd_scrub_load_threshold", d.load_threshold),
            begin_hour=g("osd_scrub_begin_hour", d.begin_hour),
            end_hour=g("osd_scrub_end_hour", d.end_hour),
            begin_week_day=g("osd_scrub_begin_week_day", d.begin_week_day),
            end_week_day=g("osd_scrub_end_week_day", d.end_week_day),
            chunk_max=max(1, g("osd_scrub_chunk_max", d.chunk_max)),
            auto_repair=g("osd_scrub_auto_repair", d.auto_repair),
            auto_repair_num_errors=g("osd_scrub_auto_repair_num_errors", d.auto_repair_num_errors),
            during_recovery=g("osd_scrub_during_recovery", d.during_recovery),
        )


def _in_window(begin: int, end: int, now: int) -> bool:
    """begin == end means always; otherwise [begin, end), wrapping past the end."""
    if begin == end:
        return True
    if begin < end:
        return begin <= now < end
    return now >= begin or now < end


def time_permits(opts: ScrubOptions, now: float) -> bool:
    """upstream OSD::scrub_time_permit: inside the week-day and hour windows (UTC here;
    upstream uses the OSD's local time)."""
    t = time.gmtime(now)
    week_day = (t.tm_wday + 1) % 7  # struct tm counts from Sunday, Python from Monday
    return _in_window(opts.begin_week_day, opts.end_week_day, week_day) and _in_window(
        opts.begin_hour, opts.end_hour, t.tm_hour
    )


def scrub_due(
    opts: ScrubOptions,
    now: float,
    last_scrub: float,
    last_deep: float,
    loadavg: float,
) -> str | None:
    """Which scheduled scrub (``"deep"``, ``"shallow"`` or None) a PG needs now.

    upstream OSD::sched_scrub / PgScrubber::sched_scrub: past `osd_scrub_max_interval`
    a PG is scrubbed whatever the load and hour; past `osd_scrub_min_interval` only
    inside the begin/end week days and hours and under `osd_scrub_load_threshold`; a scrub is deep
    once `osd_deep_scrub_interval` has passed since the last deep one.
    """
    since = now - last_scrub
    if since < opts.min_interval:
        return None
    limited = not time_permits(opts, now) or loadavg >= opts.load_threshold
    if since < opts.max_interval and limited:
        return None
    return "deep" if now - last_deep >= opts.deep_interval else "shallow"


# -- scrub maps ---------------------------------------------------------------------------
@dataclass
class ScrubObject:
    """One store object on one OSD (upstream ScrubMap::object)."""

    size: int = 0
    attrs: dict[str, bytes] = field(default_factory=dict)
    omap_digest: int | None = None
    data_digest: int | None = None
    read_error: bool = False
    stat_error: bool = False
    #: erasure-coded shard: its bytes disagree with what the other shards decode to
    ec_hash_error: bool = False

    def to_wire(self) -> list[Any]:
        return [
            self.size,
            self.attrs,
            self.omap_digest,
            self.data_digest,
            self.read_error,
            self.stat_error,
            self.ec_hash_error,
        ]

    @classmethod
    def from_wire(cls, w: list[Any]) -> ScrubObject:
        return cls(
            int(w[0]),
            {str(k): bytes(v) for k, v in dict(w[1]).items()},
            None if w[2] is None else int(w[2]),
            None if w[3] is None else int(w[3]),
            bool(w[4]),
            bool(w[5]),
            bool(w[6]) if len(w) > 6 else False,
        )


#: An object's identity inside a PG: (namespace, name, locator, snap).
ObjId = tuple[str, str, str, int]
ScrubMap = dict[ObjId, ScrubObject]


def map_to_wire(m: ScrubMap) -> list[Any]:
    return [[list(k), o.to_wire()] for k, o in sorted(m.items())]


def map_from_wire(w: list[Any]) -> ScrubMap:
    out: ScrubMap = {}
    for k, o in w:
        ns, name, loc, snap = k
        out[(str(ns), str(name), str(loc), int(snap))] = ScrubObject.from_wire(o)
    return out


def _omap_digest(store: Any, cid: str, k: ObjectKey) -> int:
    """upstream: crc32c over the omap header, then every key and value (length-prefixed)."""
    crc = ceph_crc32c(DIGEST_SEED, bytes(store.omap_get_header(cid, k)))
    for name, value in store.omap_get_values(cid, k):
        kb = name.encode() if isinstance(name, str) else bytes(name)
        vb = bytes(value)
        crc = ceph_crc32c(crc, len(kb).to_bytes(4, "little") + kb)
        crc = ceph_crc32c(crc, len(vb).to_bytes(4, "little") + vb)
    return crc


def _scan_one(store: Any, cid: str, k: ObjectKey, deep: bool) -> ScrubObject:
    o = ScrubObject()
    try:
        o.size = int(store.stat(cid, k))
        o.attrs = {n: bytes(v) for n, v in store.getattrs(cid, k).items()}
    except StoreError:
        o.stat_error = True
        return o
    if not deep:
        return o
    try:
        o.omap_digest = _omap_digest(store, cid, k)
    except StoreError:
        o.read_error = True
    try:
        if not store.deep_verify(cid, k):
            raise StoreError(errno.EIO, "extent crc32c mismatch")
        o.data_digest = int(store.object_digest(cid, k, DIGEST_SEED))
    except StoreError:
        o.read_error = True
        o.data_digest = None
    return o


def build_scrub_map(store: Any, cid: str, pool: int, oids: list[Oid], deep: bool) -> ScrubMap:
    """This OSD's scrub map of `oids` (every head, snapdir and clone of each)."""
    out: ScrubMap = {}
    if not store.collection_exists(cid):
        return out
    for oid in oids:
        for k in object_keys(store, cid, object_key(pool, oid)):
            out[(k.namespace, k.name, k.key, k.snap)] = _scan_one(store, cid, k, deep)
    return out


# -- comparison ----------------------------------------------------------------------------
@dataclass
class ShardInfo:
    """One OSD's view of an inconsistent object (upstream shard_info_t)."""

    osd: int
    primary: bool
    errors: set[str] = field(default_factory=set)
    obj: ScrubObject | None = None
    shard: int | None = None
    #: differs from the authoritative copy without an error of its own (repair rewrites it)
    differs: bool = False

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"osd": self.osd, "primary": self.primary}
        if self.shard is not None:
            d["shard"] = self.shard
        d["errors"] = [e for e in SHARD_ERRORS if e in self.errors]
        o = self.obj
        if o is None or "missing" in self.errors:
            return d
        if not o.stat_error:
            d["size"] = o.size
        if o.omap_digest is not None:
            d["omap_digest"] = f"0x{o.omap_digest:08x}"
        if o.data_digest is not None:
            d["data_digest"] = f"0x{o.data_digest:08x}"
        return d


@dataclass
class Inconsistency:
    """One inconsistent object (upstream inconsistent_obj_t)."""

    oid: ObjId
    version: int
    errors: set[str]
    shards: list[ShardInfo]
    auth_osd: int | None
    selected_oi: dict[str, Any] | None

    @property
    def union_shard_errors(self) -> list[str]:
        u: set[str] = set()
        for s in self.shards:
            u |= s.errors
        return [e for e in SHARD_ERRORS if e in u]

    @property
    def bad_osds(self) -> list[int]:
        """The copies repair must overwrite with the authoritative one."""
        return [s.osd for s in self.shards if (s.errors or s.differs) and s.osd != self.auth_osd]

    def to_json(self) -> dict[str, Any]:
        ns, name, loc, snap = self.oid
        d: dict[str, Any] = {
            "object": {
                "name": name,
                "nspace": ns,
                "locator": loc,
                "snap": "head" if snap == HEAD else ("snapdir" if snap == SNAPDIR else snap),
                "version": self.version,
            },
            "errors": [e for e in OBJECT_ERRORS if e in self.errors],
            "union_shard_errors": self.union_shard_errors,
        }
        if self.selected_oi is not None:
            d["selected_object_info"] = self.selected_oi
        d["shards"] = [s.to_json() for s in sorted(self.shards, key=lambda s: s.osd)]
        return d


@dataclass
class ScrubResult:
    """What one scrub found: the inconsistent objects and the error count."""

    inconsistents: list[Inconsistency] = field(default_factory=list)
    errors: int = 0

    def merge(self, other: ScrubResult) -> None:
        self.inconsistents.extend(other.inconsistents)
        self.errors += other.errors

    def repair_plan(self) -> list[tuple[ObjId, int, list[int]]]:
        """(object, authoritative osd, osds to overwrite) for each repairable object."""
        return [
            (i.oid, i.auth_osd, i.bad_osds)
            for i in self.inconsistents
            if i.auth_osd is not None and i.bad_osds
        ]


def _decode_oi(o: ScrubObject) -> ObjectInfo | None | str:
    """The object's info; None when absent, "corrupt" when undecodable."""
    raw = o.attrs.get(OI_ATTR)
    if raw is None:
        return None
    try:
        return ObjectInfo.decode(raw)
    except Exception:  # noqa: BLE001 - any decode failure means a corrupt attr
        return "corrupt"


def oi_dump(oid: ObjId, pool: int, oi: ObjectInfo) -> dict[str, Any]:
    """upstream object_info_t::dump (pyceph keeps no digests or reqid in it: those
    fields show upstream's "unset" values)."""
    ns, name, loc, snap = oid
    return {
        "oid": {
            "oid": name,
            "key": loc,
            "snapid": snap,
            "hash": object_hash((ns, name, loc)),
            "max": 0,
            "pool": pool,
            "namespace": ns,
        },
        "version": f"{oi.version[0]}'{oi.version[1]}",
        "prior_version": "0'0",
        "last_reqid": "client.0.0:0",
        "user_version": oi.user_version,
        "size": oi.size,
        "mtime": utime_str(oi.mtime),
        "local_mtime": utime_str(oi.mtime),
        "lost": 0,
        "flags": ["dirty"],
        "truncate_seq": 0,
        "truncate_size": 0,
        "data_digest": "0xffffffff",
        "omap_digest": "0xffffffff",
        "expected_object_size": 0,
        "expected_write_size": 0,
        "alloc_hint_flags": 0,
        "manifest": {"type": 0},
        "watchers": {},
    }


def ec_inconsistent_shards(codec: Any, shards: dict[int, bytes], size: int) -> set[int]:
    """The EC shards that disagree with the rest (upstream checks each shard against the
    hash info it stores; pyceph re-encodes instead): decode from each choice of k shards,
    re-encode, and find the smallest set of shards the re-encoding disagrees with. When
    several choices tie (one bad shard among k+1 cannot be told apart), every shard in
    a tied set is suspect: the damage is reported, but there is no copy to repair from.
    """
    k = int(codec.k)
    ids = sorted(shards)
    if len(ids) < k or len({len(b) for b in shards.values()}) != 1:
        return set()
    best: list[set[int]] = []
    for choice in itertools.islice(itertools.combinations(ids, k), MAX_EC_CHOICES):
        try:
            enc = codec.encode(codec.decode({i: shards[i] for i in choice}, size))
        except Exception:  # noqa: BLE001 - a choice that does not decode agrees with none
            continue
        bad = {i for i in ids if enc[i] != shards[i]}
        if not bad:
            return set()
        if not best or len(bad) < len(best[0]):
            best = [bad]
        elif len(bad) == len(best[0]) and bad not in best:
            best.append(bad)
    if not best:
        return set(ids)
    return set().union(*best)


def _shard_errors(o: ScrubObject, ec: bool) -> tuple[set[str], ObjectInfo | None]:
    """Errors a copy has on its own (upstream be_select_auth_object's checks)."""
    errs: set[str] = set()
    if o.stat_error:
        errs.add("stat_error")
    if o.read_error:
        errs.add("read_error")
    if o.ec_hash_error:
        errs.add("ec_hash_error")
    oi = _decode_oi(o)
    if oi is None:
        errs.add("info_missing")
        oi = None
    elif oi == "corrupt":
        errs.add("info_corrupted")
        oi = None
    elif isinstance(oi, ObjectInfo) and not ec and not o.stat_error and oi.size != o.size:
        errs.add("obj_size_info_mismatch")
    return errs, oi if isinstance(oi, ObjectInfo) else None


def _select_auth(
    copies: dict[int, ScrubObject], order: list[int], ec: bool
) -> tuple[int | None, dict[int, set[str]], ObjectInfo | None]:
    """upstream be_select_auth_object: a copy with valid info and no errors of its own,
    the newest version first; among those the data digest most copies share; the
    primary (first in `order`) on a tie."""
    own: dict[int, set[str]] = {}
    infos: dict[int, ObjectInfo] = {}
    for osd in order:
        o = copies.get(osd)
        if o is None:
            own[osd] = {"missing"}
            continue
        errs, oi = _shard_errors(o, ec)
        own[osd] = errs
        if oi is not None and not (errs & _DISQUALIFYING):
            infos[osd] = oi
    if not infos:
        return None, own, None
    newest = max(oi.version for oi in infos.values())
    cands = [osd for osd in order if osd in infos and infos[osd].version == newest]
    votes = Counter(copies[o].data_digest for o in cands)
    best = max(votes.values())
    auth = next(osd for osd in cands if votes[copies[osd].data_digest] == best)
    return auth, own, infos[auth]


def _differ(x: int | None, y: int | None) -> bool:
    """Two digests both present and different."""
    return x is not None and y is not None and x != y


def _compare_object(
    oid: ObjId,
    copies: dict[int, ScrubObject],
    order: list[int],
    primary: int,
    pool: int,
    shards: dict[int, int] | None,
) -> Inconsistency | None:
    auth, own, auth_oi = _select_auth(copies, order, shards is not None)
    obj_errs: set[str] = set()
    infos: list[ShardInfo] = []
    a = copies.get(auth) if auth is not None else None
    for osd in order:
        o = copies.get(osd)
        errs = set(own[osd])
        if a is not None and o is not None and osd != auth and not o.stat_error:
            ec = shards is not None
            if auth_oi is not None and o.size != auth_oi.size and not ec:
                errs.add("size_mismatch_info")
            if o.size != a.size:
                obj_errs.add("size_mismatch")
            if not ec and _differ(a.data_digest, o.data_digest):
                obj_errs.add("data_digest_mismatch")
            if _differ(a.omap_digest, o.omap_digest):
                obj_errs.add("omap_digest_mismatch")
            an = {n for n in a.attrs if n != OI_ATTR}
            on = {n for n in o.attrs if n != OI_ATTR}
            if an != on:
                obj_errs.add("attr_name_mismatch")
            elif any(a.attrs[n] != o.attrs[n] for n in an):
                if a.attrs.get(SS_ATTR) != o.attrs.get(SS_ATTR):
                    obj_errs.add("snapset_inconsistency")
                if any(a.attrs[n] != o.attrs[n] for n in an if n != SS_ATTR):
                    obj_errs.add("attr_value_mismatch")
            if a.attrs.get(OI_ATTR) != o.attrs.get(OI_ATTR) and "info_missing" not in errs:
                obj_errs.add("object_info_inconsistency")
        infos.append(ShardInfo(osd, osd == primary, errs, o, shards.get(osd) if shards else None))
    # a copy the comparison found different is a bad copy too (repair overwrites it)
    if a is not None:
        for s in infos:
            o = s.obj
            if s.osd == auth or o is None or s.errors:
                continue
            s.differs = (
                o.size != a.size
                or (shards is None and _differ(o.data_digest, a.data_digest))
                or _differ(o.omap_digest, a.omap_digest)
                or o.attrs != a.attrs
            )
    if not obj_errs and not any(s.errors for s in infos):
        return None
    version = auth_oi.user_version if auth_oi is not None else 0
    sel = oi_dump(oid, pool, auth_oi) if auth_oi is not None else None
    return Inconsistency(oid, version, obj_errs, infos, auth, sel)


def compare_maps(
    maps: dict[int, ScrubMap],
    primary: int,
    pool: int = -1,
    shards: dict[int, int] | None = None,
) -> ScrubResult:
    """Compare the scrub maps of one chunk (`maps` keyed by OSD, the primary's first in
    iteration order preferred); `shards` maps OSD -> EC shard for erasure-coded pools,
    whose copies hold different chunks so only sizes, attrs and read errors compare."""
    order = [primary] + [o for o in maps if o != primary] if primary in maps else list(maps)
    keys: set[ObjId] = set()
    for m in maps.values():
        keys |= set(m)
    res = ScrubResult()
    for oid in sorted(keys):
        copies = {osd: m[oid] for osd, m in maps.items() if oid in m}
        inc = _compare_object(oid, copies, order, primary, pool, shards)
        if inc is None:
            continue
        res.inconsistents.append(inc)
        # upstream counts an error for every copy found bad (at least one per object)
        res.errors += max(1, sum(1 for s in inc.shards if s.errors or s.differs))
    return res


@dataclass
class ScrubState:
    """A primary PG's scrub bookkeeping (upstream scrubber state + pg_stat_t scrub fields).

    Kept in memory: a restarted primary starts with no stamps (so the scheduler scrubs
    it soon) and no stored inconsistencies (upstream keeps them until the next scrub)."""

    active: str | None = None  # "shallow" | "deep" while a scrub runs
    repair: bool = False
    queued: tuple[bool, bool] | None = None  # (deep, repair) asked while one ran
    last_scrub: tuple[int, int] = (0, 0)
    last_scrub_stamp: float = 0.0
    last_deep_scrub: tuple[int, int] = (0, 0)
    last_deep_scrub_stamp: float = 0.0
    last_clean_scrub_stamp: float = 0.0
    shallow_errors: int = 0
    deep_errors: int = 0
    result: ScrubResult | None = None
    epoch: int = 0

    @property
    def errors(self) -> int:
        return self.shallow_errors + self.deep_errors

    def finish(
        self, result: ScrubResult, deep: bool, version: tuple[int, int], now: float, epoch: int
    ) -> None:
        """Record a finished scrub (upstream PgScrubber::scrub_finish)."""
        self.result = result
        self.epoch = epoch
        if not result.errors:
            self.last_clean_scrub_stamp = now
        self.last_scrub, self.last_scrub_stamp = tuple(version), now  # type: ignore[assignment]
        if deep:
            self.last_deep_scrub, self.last_deep_scrub_stamp = tuple(version), now  # type: ignore[assignment]
            self.deep_errors, self.shallow_errors = result.errors, 0
        else:
            self.shallow_errors = result.errors

    def state_suffix(self) -> str:
        """The PG state flags (upstream pg_state_string order)."""
        out = ""
        if self.active is not None:
            out += "+scrubbing" + ("+deep" if self.active == "deep" else "")
        if self.errors:
            out += "+inconsistent"
        if self.active is not None and self.repair:
            out += "+repair"
        return out

    def stats(self) -> dict[str, Any]:
        """The pg_stat_t scrub fields of the mgr report."""
        return {
            "last_scrub": list(self.last_scrub),
            "last_scrub_stamp": self.last_scrub_stamp,
            "last_deep_scrub": list(self.last_deep_scrub),
            "last_deep_scrub_stamp": self.last_deep_scrub_stamp,
            "num_scrub_errors": self.errors,
            "num_shallow_scrub_errors": self.shallow_errors,
            "num_deep_scrub_errors": self.deep_errors,
        }

    def list_inconsistent(self) -> dict[str, Any] | None:
        """`rados list-inconsistent-obj` body; None when this PG was never scrubbed."""
        if self.result is None:
            return None
        return {
            "epoch": self.epoch,
            "inconsistents": [i.to_json() for i in self.result.inconsistents],
        }
