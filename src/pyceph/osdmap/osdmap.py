"""The OSDMap: OSDs, pools, flags, temp mappings, blocklist and CRUSH, one epoch of it.

Object -> PG -> OSDs placement here is bit-exact with upstream `OSDMap.cc`; clients
and OSDs call it on every op, so committed maps are frozen and cache PG mappings.
Erasure-coded pools keep their positions: a hole in `up`/`acting` is
`CRUSH_ITEM_NONE` (0x7fffffff), exactly as upstream's in-memory vectors.
"""

from __future__ import annotations

import copy as _copy
import struct
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.common.packing import SHAPE_ERRORS, CorruptRecord, unpack_record
from pyceph.crush.map import CRUSH_ITEM_NONE, CrushError, CrushMap
from pyceph.osdmap.pool import Pool, calc_mask, utime_str  # noqa: F401  (calc_mask re-exported)

FORMAT_VERSION = 1
#: Bounds on decoding an encoded map: items in one container, bytes in one string, and
#: OSD slots (`max_osd`: per-OSD arrays are built that long; upstream's mon_max_osd
#: default is 10000, far below).
MAX_DECODED_ITEMS = 1 << 20
MAX_DECODED_STR = 1 << 16
MAX_DECODED_OSDS = 1 << 20

# CEPH_OSDMAP_* flags
FLAG_NEARFULL = 1 << 0
FLAG_FULL = 1 << 1
FLAG_PAUSERD = 1 << 2
FLAG_PAUSEWR = 1 << 3
FLAG_PAUSEREC = 1 << 4
FLAG_NOUP = 1 << 5
FLAG_NODOWN = 1 << 6
FLAG_NOOUT = 1 << 7
FLAG_NOIN = 1 << 8
FLAG_NOBACKFILL = 1 << 9
FLAG_NORECOVER = 1 << 10
FLAG_NOSCRUB = 1 << 11
FLAG_NODEEP_SCRUB = 1 << 12
FLAG_NOTIERAGENT = 1 << 13
FLAG_NOREBALANCE = 1 << 14
FLAG_SORTBITWISE = 1 << 15
FLAG_REQUIRE_JEWEL = 1 << 16
FLAG_REQUIRE_KRAKEN = 1 << 17
FLAG_REQUIRE_LUMINOUS = 1 << 18
FLAG_RECOVERY_DELETES = 1 << 19
FLAG_PURGED_SNAPDIRS = 1 << 20
FLAG_NOSNAPTRIM = 1 << 21
FLAG_PGLOG_HARDLIMIT = 1 << 22

# get_flag_string order
FLAG_STRING_ORDER: list[tuple[int, str]] = [
    (FLAG_NEARFULL, "nearfull"),
    (FLAG_FULL, "full"),
    (FLAG_PAUSERD, "pauserd"),
    (FLAG_PAUSEWR, "pausewr"),
    (FLAG_PAUSEREC, "pauserec"),
    (FLAG_NOUP, "noup"),
    (FLAG_NODOWN, "nodown"),
    (FLAG_NOOUT, "noout"),
    (FLAG_NOIN, "noin"),
    (FLAG_NOBACKFILL, "nobackfill"),
    (FLAG_NOREBALANCE, "norebalance"),
    (FLAG_NORECOVER, "norecover"),
    (FLAG_NOSCRUB, "noscrub"),
    (FLAG_NODEEP_SCRUB, "nodeep-scrub"),
    (FLAG_NOTIERAGENT, "notieragent"),
    (FLAG_NOSNAPTRIM, "nosnaptrim"),
    (FLAG_SORTBITWISE, "sortbitwise"),
    (FLAG_REQUIRE_JEWEL, "require_jewel_osds"),
    (FLAG_REQUIRE_KRAKEN, "require_kraken_osds"),
    (FLAG_REQUIRE_LUMINOUS, "require_luminous_osds"),
    (FLAG_RECOVERY_DELETES, "recovery_deletes"),
    (FLAG_PURGED_SNAPDIRS, "purged_snapdirs"),
    (FLAG_PGLOG_HARDLIMIT, "pglog_hardlimit"),
]
SEMIHIDDEN_FLAGS = (
    FLAG_REQUIRE_JEWEL
    | FLAG_REQUIRE_KRAKEN
    | FLAG_REQUIRE_LUMINOUS
    | FLAG_RECOVERY_DELETES
    | FLAG_SORTBITWISE
    | FLAG_PURGED_SNAPDIRS
    | FLAG_PGLOG_HARDLIMIT
)
DEFAULT_FLAGS = (
    FLAG_SORTBITWISE | FLAG_RECOVERY_DELETES | FLAG_PURGED_SNAPDIRS | FLAG_PGLOG_HARDLIMIT
)

OSD_IN = 0x10000
OSD_OUT = 0
DEFAULT_PRIMARY_AFFINITY = 0x10000
MAX_PRIMARY_AFFINITY = 0x10000
OSD_FEATURES = 4540138314316775423
BLANK_ADDR = "(unrecognized address family 0)/0"


def flag_string(flags: int) -> str:
    """Upstream `OSDMap::get_flag_string`."""
    return ",".join(name for bit, name in FLAG_STRING_ORDER if flags & bit)


def f32(x: float) -> float:
    """Round to C float, as upstream stores the full ratios."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def addrvec(addr: str) -> dict[str, Any]:
    """`ip:port/nonce` -> upstream addrvec JSON (one v2 entry)."""
    if not addr:
        return {"addrvec": []}
    hostport, _, nonce = addr.partition("/")
    return {"addrvec": [{"type": "v2", "addr": hostport, "nonce": int(nonce or 0)}]}


@dataclass
class OsdInfo:
    """One OSD slot: existence, state, weights, addresses, epochs and boot metadata."""

    id: int
    uuid: str = "00000000-0000-0000-0000-000000000000"
    exists: bool = True
    up: bool = False
    weight: int = OSD_OUT  # 16.16 reweight; 0 = out
    primary_affinity: int = DEFAULT_PRIMARY_AFFINITY
    public_addr: str = ""
    cluster_addr: str = ""
    hb_back_addr: str = ""
    hb_front_addr: str = ""
    up_from: int = 0
    up_thru: int = 0
    down_at: int = 0
    last_clean_begin: int = 0
    last_clean_end: int = 0
    lost_at: int = 0
    down_stamp: float = 0.0
    old_weight: int = 0
    destroyed: bool = False
    auto_out: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    capacity_bytes: int = 0

    @property
    def is_in(self) -> bool:
        return self.weight > 0

    @property
    def weightf(self) -> float:
        return self.weight / 0x10000

    @property
    def primary_affinityf(self) -> float:
        return self.primary_affinity / 0x10000

    def state_names(self) -> list[str]:
        names = []
        if self.exists:
            names.append("exists")
        if self.up:
            names.append("up")
        if self.destroyed:
            names.append("destroyed")
        return names

    def dump(self) -> dict[str, Any]:
        return {
            "osd": self.id,
            "uuid": self.uuid,
            "up": int(self.up),
            "in": int(self.is_in),
            "weight": self.weightf,
            "primary_affinity": self.primary_affinityf,
            "last_clean_begin": self.last_clean_begin,
            "last_clean_end": self.last_clean_end,
            "up_from": self.up_from,
            "up_thru": self.up_thru,
            "down_at": self.down_at,
            "lost_at": self.lost_at,
            "public_addrs": addrvec(self.public_addr),
            "cluster_addrs": addrvec(self.cluster_addr),
            "heartbeat_back_addrs": addrvec(self.hb_back_addr),
            "heartbeat_front_addrs": addrvec(self.hb_front_addr),
            "public_addr": self.public_addr or BLANK_ADDR,
            "cluster_addr": self.cluster_addr or BLANK_ADDR,
            "heartbeat_back_addr": self.hb_back_addr or BLANK_ADDR,
            "heartbeat_front_addr": self.hb_front_addr or BLANK_ADDR,
            "state": self.state_names(),
        }

    def to_plain(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> OsdInfo:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in known})


DEFAULT_EC_PROFILE = {"k": "2", "m": "2", "plugin": "jerasure", "technique": "reed_sol_van"}


class OSDMap:
    """One epoch of the OSD map. `freeze()` it once committed; `copy()` starts the next."""

    def __init__(self, fsid: str = "", crush: CrushMap | None = None) -> None:
        self.epoch = 0
        self.fsid = fsid
        self.created = 0.0
        self.modified = 0.0
        self.last_up_change = 0.0
        self.last_in_change = 0.0
        self.flags = DEFAULT_FLAGS
        self.full_ratio = f32(0.95)
        self.backfillfull_ratio = f32(0.92)
        self.nearfull_ratio = f32(0.85)
        self.crush_version = 1
        self.pools: dict[int, Pool] = {}
        self.pool_name: dict[str, int] = {}
        self.pool_max = 0
        self.max_osd = 0
        self.osds: dict[int, OsdInfo] = {}
        self.pg_temp: dict[tuple[int, int], list[int]] = {}
        #: upstream pg_upmap: per PG, the whole raw OSD list replacing CRUSH's choice
        self.pg_upmap: dict[tuple[int, int], list[int]] = {}
        #: upstream pg_upmap_items: per PG, (from, to) OSD pairs replacing CRUSH's choice
        self.pg_upmap_items: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self.primary_temp: dict[tuple[int, int], int] = {}
        self.blocklist: dict[str, float] = {}
        self.erasure_code_profiles: dict[str, dict[str, str]] = {
            "default": dict(DEFAULT_EC_PROFILE)
        }
        self.require_osd_release = "pacific"
        self.require_min_compat_client = "luminous"
        self.crush: CrushMap = crush if crush is not None else CrushMap.new_default()
        self._crush_shared = False
        self._frozen = False
        self._pg_cache: dict[tuple[int, int], tuple[list[int], int, list[int], int]] = {}
        self._weights: list[int] | None = None

    # ------------------------------------------------------------ lifecycle
    def freeze(self) -> OSDMap:
        """Mark committed: no more edits, PG mappings may be cached."""
        self._frozen = True
        return self

    def copy(self) -> OSDMap:
        """A mutable successor (same epoch; the caller bumps it). CRUSH is copy-on-write."""
        m = OSDMap.__new__(OSDMap)
        m.__dict__.update(self.__dict__)
        m.pools = {k: p.copy() for k, p in self.pools.items()}
        m.pool_name = dict(self.pool_name)
        m.osds = {k: OsdInfo.from_plain(_copy.deepcopy(o.to_plain())) for k, o in self.osds.items()}
        m.pg_temp = {k: list(v) for k, v in self.pg_temp.items()}
        m.pg_upmap = {k: list(v) for k, v in self.pg_upmap.items()}
        m.pg_upmap_items = {k: list(v) for k, v in self.pg_upmap_items.items()}
        m.primary_temp = dict(self.primary_temp)
        m.blocklist = dict(self.blocklist)
        m.erasure_code_profiles = {k: dict(v) for k, v in self.erasure_code_profiles.items()}
        m._crush_shared = True
        self._crush_shared = True
        m._frozen = False
        m._pg_cache = {}
        m._weights = None
        return m

    def crush_for_write(self) -> CrushMap:
        """The CRUSH map, private to this (pending) map; bumps crush_version once."""
        assert not self._frozen, "committed OSDMap is read-only"
        if self._crush_shared:
            self.crush = _copy.deepcopy(self.crush)
            self.crush.invalidate()
            self._crush_shared = False
            self.crush_version += 1
        return self.crush

    # ------------------------------------------------------------ queries
    def exists(self, osd: int) -> bool:
        o = self.osds.get(osd)
        return o is not None and o.exists

    def is_up(self, osd: int) -> bool:
        o = self.osds.get(osd)
        return o is not None and o.exists and o.up

    def is_in(self, osd: int) -> bool:
        o = self.osds.get(osd)
        return o is not None and o.exists and o.weight > 0

    def test_flag(self, bit: int) -> bool:
        return bool(self.flags & bit)

    def lookup_pool(self, name: str) -> int:
        return self.pool_name.get(name, -1)

    def get_pool(self, pool_id: int) -> Pool | None:
        return self.pools.get(pool_id)

    def existing_osds(self) -> list[int]:
        return sorted(i for i, o in self.osds.items() if o.exists)

    def num_osds(self) -> int:
        return sum(1 for o in self.osds.values() if o.exists)

    def num_up_osds(self) -> int:
        return sum(1 for o in self.osds.values() if o.exists and o.up)

    def num_in_osds(self) -> int:
        return sum(1 for o in self.osds.values() if o.exists and o.weight > 0)

    # ------------------------------------------------------------ placement
    def object_locator_to_raw_pg(
        self, pool_id: int, name: str, nspace: str = "", key: str = ""
    ) -> tuple[int, int]:
        """Raw (unfolded) PG of an object: the full 32-bit hash as seed."""
        pool = self.pools.get(pool_id)
        if pool is None:
            raise KeyError(pool_id)
        return pool_id, pool.hash_key(key or name, nspace)

    def object_locator_to_pg(
        self, pool_id: int, name: str, nspace: str = "", key: str = ""
    ) -> tuple[int, int]:
        """(pool_id, ps) of an object, ps folded into [0, pg_num) with ceph_stable_mod."""
        pool = self.pools.get(pool_id)
        if pool is None:
            raise KeyError(pool_id)
        return pool_id, pool.raw_pg_to_pg(pool.hash_key(key or name, nspace))

    def _osd_weights(self) -> list[int]:
        w = self._weights
        if w is None or not self._frozen:
            n = max(self.max_osd, self.crush.max_devices)
            w = [0] * n
            for i, o in self.osds.items():
                if o.exists and i < n:
                    w[i] = o.weight
            self._weights = w
        return w

    def pg_to_raw_osds(self, pool: Pool, ps: int) -> tuple[list[int], int]:
        """CRUSH output for a PG minus nonexistent OSDs, and the CRUSH input (pps)."""
        pps = pool.raw_pg_to_pps(ps)
        raw: list[int] = []
        if self.crush.rule_exists(pool.crush_rule):
            raw = self.crush.do_rule(pool.crush_rule, pps, pool.size, self._osd_weights())
        osds = self.osds
        if pool.can_shift_osds():
            raw = [o for o in raw if o in osds and osds[o].exists]
        else:
            raw = [o if (o in osds and osds[o].exists) else CRUSH_ITEM_NONE for o in raw]
        return raw, pps

    def upmap_target_is_out(self, osd: int) -> bool:
        """An upmap target upstream's _apply_upmap refuses: a known OSD id reweighted to 0
        (ids past max_osd and CRUSH_ITEM_NONE are not refused here)."""
        return osd != CRUSH_ITEM_NONE and osd in self.osds and self.osds[osd].weight == 0

    def _apply_upmap(self, pgkey: tuple[int, int], raw: list[int]) -> list[int]:
        """Upstream OSDMap::_apply_upmap: a pg_upmap replaces the whole CRUSH output
        unless it names an out OSD (then the PG keeps CRUSH's choice and its items are
        not applied either); then each pg_upmap_items (from, to) replaces `from` by `to`,
        unless `to` is already there or is out."""
        whole = self.pg_upmap.get(pgkey)
        if whole is not None:
            if any(self.upmap_target_is_out(o) for o in whole):
                return raw
            raw = list(whole)
        items = self.pg_upmap_items.get(pgkey)
        if not items:
            return raw
        raw = list(raw)
        for osd_from, osd_to in items:
            if osd_to in raw:
                continue
            to_out = osd_to != CRUSH_ITEM_NONE and (
                osd_to not in self.osds or self.osds[osd_to].weight == 0
            )
            if to_out:
                continue
            for i, o in enumerate(raw):
                if o == osd_from:
                    raw[i] = osd_to
                    break
        return raw

    def pg_to_raw_upmap(self, pool_id: int, ps: int) -> tuple[list[int], list[int]]:
        """Upstream OSDMap::pg_to_raw_upmap: CRUSH's raw OSDs for a PG of an existing
        pool, and the same list with the PG's upmaps applied."""
        pool = self.pools[pool_id]
        raw, _ = self.pg_to_raw_osds(pool, ps)
        return raw, self._apply_upmap((pool_id, ps), raw)

    def _raw_to_up(self, pool: Pool, raw: list[int]) -> list[int]:
        osds = self.osds
        if pool.can_shift_osds():
            return [o for o in raw if o in osds and osds[o].exists and osds[o].up]
        return [
            o if (o in osds and osds[o].exists and osds[o].up) else CRUSH_ITEM_NONE for o in raw
        ]

    @staticmethod
    def _pick_primary(osds: list[int]) -> int:
        for o in osds:
            if o != CRUSH_ITEM_NONE:
                return o
        return -1

    def _apply_primary_affinity(
        self, pps: int, pool: Pool, osds: list[int], primary: int
    ) -> tuple[list[int], int]:
        from pyceph.crush.hash import crush_hash32_2

        aff = {
            o: self.osds[o].primary_affinity
            for o in osds
            if o != CRUSH_ITEM_NONE and o in self.osds
        }
        if all(a == DEFAULT_PRIMARY_AFFINITY for a in aff.values()):
            return osds, primary
        pos = -1
        for i, o in enumerate(osds):
            if o == CRUSH_ITEM_NONE:
                continue
            a = aff.get(o, DEFAULT_PRIMARY_AFFINITY)
            if a < MAX_PRIMARY_AFFINITY and (crush_hash32_2(pps, o) >> 16) >= a:
                if pos < 0:
                    pos = i
            else:
                pos = i
                break
        if pos < 0:
            return osds, primary
        primary = osds[pos]
        if pool.can_shift_osds() and pos > 0:
            osds = [primary] + osds[:pos] + osds[pos + 1 :]
        return osds, primary

    def _get_temp_osds(self, pool: Pool, pgkey: tuple[int, int]) -> tuple[list[int], int]:
        temp: list[int] = []
        t = self.pg_temp.get(pgkey)
        if t:
            for o in t:
                if not self.is_up(o):
                    if not pool.can_shift_osds():
                        temp.append(CRUSH_ITEM_NONE)
                else:
                    temp.append(o)
        primary = self.primary_temp.get(pgkey, -1)
        if primary == -1 and temp:
            primary = self._pick_primary(temp)
        return temp, primary

    def pg_to_up_acting_osds(self, pool_id: int, ps: int) -> tuple[list[int], int, list[int], int]:
        """(up, up_primary, acting, acting_primary) of PG `pool_id.ps` (ps raw or folded)."""
        key = (pool_id, ps)
        if self._frozen:
            hit = self._pg_cache.get(key)
            if hit is not None:
                return list(hit[0]), hit[1], list(hit[2]), hit[3]
        pool = self.pools.get(pool_id)
        if pool is None:
            return [], -1, [], -1
        pgkey = (pool_id, pool.raw_pg_to_pg(ps))
        acting, acting_primary = self._get_temp_osds(pool, pgkey)
        raw, pps = self.pg_to_raw_osds(pool, ps)
        up = self._raw_to_up(pool, self._apply_upmap(pgkey, raw))
        up_primary = self._pick_primary(up)
        up, up_primary = self._apply_primary_affinity(pps, pool, up, up_primary)
        if not acting:
            acting = list(up)
            if acting_primary == -1:
                acting_primary = up_primary
        if self._frozen:
            self._pg_cache[key] = (list(up), up_primary, list(acting), acting_primary)
        return up, up_primary, acting, acting_primary

    # ------------------------------------------------------------ JSON views
    def dump(self) -> dict[str, Any]:
        """`ceph osd dump -f json`."""
        flags_set = sorted(name for bit, name in FLAG_STRING_ORDER if self.flags & bit)
        return {
            "epoch": self.epoch,
            "fsid": self.fsid,
            "created": utime_str(self.created),
            "modified": utime_str(self.modified),
            "last_up_change": utime_str(self.last_up_change),
            "last_in_change": utime_str(self.last_in_change),
            "flags": flag_string(self.flags),
            "flags_num": self.flags,
            "flags_set": flags_set,
            "crush_version": self.crush_version,
            "full_ratio": self.full_ratio,
            "backfillfull_ratio": self.backfillfull_ratio,
            "nearfull_ratio": self.nearfull_ratio,
            "cluster_snapshot": "",
            "pool_max": self.pool_max,
            "max_osd": self.max_osd,
            "require_min_compat_client": self.require_min_compat_client,
            "min_compat_client": "jewel",
            "require_osd_release": self.require_osd_release,
            "pools": [self.pools[p].dump("pool") for p in sorted(self.pools)],
            "osds": [self.osds[i].dump() for i in self.existing_osds()],
            "osd_xinfo": [
                {
                    "osd": i,
                    "down_stamp": _stamp(self.osds[i].down_stamp),
                    "laggy_probability": 0,
                    "laggy_interval": 0,
                    "features": OSD_FEATURES if self.osds[i].up_from else 0,
                    "old_weight": self.osds[i].old_weight,
                    "last_purged_snaps_scrub": utime_str(0.0),
                    "dead_epoch": 0,
                }
                for i in self.existing_osds()
            ],
            "pg_upmap": [
                {"pgid": f"{p}.{s:x}", "osds": list(v)}
                for (p, s), v in sorted(self.pg_upmap.items())
            ],
            "pg_upmap_items": [
                {
                    "pgid": f"{p}.{s:x}",
                    "mappings": [{"from": a, "to": b} for a, b in v],
                }
                for (p, s), v in sorted(self.pg_upmap_items.items())
            ],
            "pg_temp": [
                {"pgid": f"{p}.{s:x}", "osds": list(v)}
                for (p, s), v in sorted(self.pg_temp.items())
            ],
            "primary_temp": [
                {"pgid": f"{p}.{s:x}", "osd": v} for (p, s), v in sorted(self.primary_temp.items())
            ],
            "blocklist": {a: utime_str(t) for a, t in self.blocklist.items()},
            "range_blocklist": {},
            "erasure_code_profiles": {
                k: dict(v) for k, v in sorted(self.erasure_code_profiles.items())
            },
            "removed_snaps_queue": [],
            "new_removed_snaps": [],
            "new_purged_snaps": [],
            "crush_node_flags": {},
            "device_class_flags": {},
            "stretch_mode": {
                "stretch_mode_enabled": False,
                "stretch_bucket_count": 0,
                "degraded_stretch_mode": 0,
                "recovering_stretch_mode": 0,
                "stretch_mode_bucket": 0,
            },
        }

    def _osd_status(self, osd: int) -> dict[str, Any]:
        o = self.osds.get(osd)
        exists = o is not None and o.exists
        status = "up" if exists and o.up else ("destroyed" if exists and o.destroyed else "down")
        return {
            "exists": int(exists),
            "status": status,
            "reweight": o.weightf if exists else 0.0,
            "primary_affinity": o.primary_affinityf if exists else 0.0,
        }

    def tree_rows(self) -> list[dict[str, Any]]:
        """Nodes of `osd tree` with depth and weight for plain rendering (stray last)."""
        rows = []
        weights = {it: (depth, w) for it, depth, w, _p in self.crush.tree_items()}
        nodes = self.crush.tree_nodes()
        for n in nodes:
            depth, w = weights.get(n["id"], (0, 0))
            rows.append({**n, "_depth": depth, "_weight": w / 0x10000})
        touched = {n["id"] for n in nodes}
        for i in self.existing_osds():
            if i not in touched:
                rows.append(
                    {
                        "id": i,
                        "name": f"osd.{i}",
                        "type": "osd",
                        "type_id": 0,
                        "crush_weight": 0.0,
                        "depth": 0,
                        "_depth": 0,
                        "_weight": 0.0,
                        "_stray": True,
                    }
                )
        return rows

    def tree(self) -> dict[str, Any]:
        """`ceph osd tree -f json`: {nodes, stray}."""
        parents = {it: p for it, _d, _w, p in self.crush.tree_items()}
        nodes: list[dict[str, Any]] = []
        stray: list[dict[str, Any]] = []
        for row in self.tree_rows():
            n = {k: v for k, v in row.items() if not k.startswith("_")}
            children = n.pop("children", None)
            if parents.get(n["id"]) is not None:
                n["pool_weights"] = {}
            if children is not None:
                n["children"] = children
            if n["id"] >= 0:
                n.update(self._osd_status(n["id"]))
            (stray if row.get("_stray") else nodes).append(n)
        return {"nodes": nodes, "stray": stray}

    def stat(self) -> dict[str, Any]:
        """`ceph osd stat -f json`."""
        return {
            "epoch": self.epoch,
            "num_osds": self.num_osds(),
            "num_up_osds": self.num_up_osds(),
            "osd_up_since": int(self.last_up_change),
            "num_in_osds": self.num_in_osds(),
            "osd_in_since": int(self.last_in_change),
            "num_remapped_pgs": len(self.pg_temp),
        }

    # ------------------------------------------------------------ encoding
    def encode(self) -> bytes:
        """Stable msgpack encoding (format FORMAT_VERSION) with the binary CRUSH map."""
        d = {
            "v": FORMAT_VERSION,
            "epoch": self.epoch,
            "fsid": self.fsid,
            "created": self.created,
            "modified": self.modified,
            "last_up_change": self.last_up_change,
            "last_in_change": self.last_in_change,
            "flags": self.flags,
            "ratios": [self.full_ratio, self.backfillfull_ratio, self.nearfull_ratio],
            "crush_version": self.crush_version,
            "pools": [self.pools[p].to_plain() for p in sorted(self.pools)],
            "pool_max": self.pool_max,
            "max_osd": self.max_osd,
            "osds": [self.osds[i].to_plain() for i in sorted(self.osds)],
            "pg_temp": [[p, s, v] for (p, s), v in sorted(self.pg_temp.items())],
            "primary_temp": [[p, s, v] for (p, s), v in sorted(self.primary_temp.items())],
            "blocklist": dict(sorted(self.blocklist.items())),
            "ec_profiles": dict(sorted(self.erasure_code_profiles.items())),
            "require_osd_release": self.require_osd_release,
            "require_min_compat_client": self.require_min_compat_client,
            "crush": self.crush.encode(),
        }
        if self.pg_upmap:  # absent when empty: maps without upmaps encode as before
            d["pg_upmap"] = [[p, s, list(v)] for (p, s), v in sorted(self.pg_upmap.items())]
        if self.pg_upmap_items:
            d["pg_upmap_items"] = [
                [p, s, [list(i) for i in v]] for (p, s), v in sorted(self.pg_upmap_items.items())
            ]
        return msgpack.packb(d, use_bin_type=True)

    @classmethod
    def decode(cls, data: bytes) -> OSDMap:
        """A stored (or received) full map; CorruptRecord (a ValueError, as CrushError
        is) if it is malformed, before it allocates more than it was given."""
        try:
            return cls._from_plain(
                unpack_record(data, "osdmap", max_items=MAX_DECODED_ITEMS, max_str=MAX_DECODED_STR)
            )
        except SHAPE_ERRORS as e:
            if isinstance(e, CorruptRecord | CrushError):
                raise
            raise CorruptRecord(f"corrupt osdmap: {e!r}") from None

    @classmethod
    def _from_plain(cls, d: Any) -> OSDMap:
        if d.get("v") != FORMAT_VERSION:
            raise ValueError(f"unsupported OSDMap encoding version {d.get('v')}")
        if not 0 <= d["max_osd"] <= MAX_DECODED_OSDS:  # per-OSD lists are max_osd long
            raise CorruptRecord(f"corrupt osdmap: max_osd {d['max_osd']} out of range")
        m = cls(d["fsid"], CrushMap.decode(d["crush"]))
        m.epoch = d["epoch"]
        m.created = d["created"]
        m.modified = d["modified"]
        m.last_up_change = d["last_up_change"]
        m.last_in_change = d["last_in_change"]
        m.flags = d["flags"]
        m.full_ratio, m.backfillfull_ratio, m.nearfull_ratio = d["ratios"]
        m.crush_version = d["crush_version"]
        m.pools = {p["pool_id"]: Pool.from_plain(p) for p in d["pools"]}
        m.pool_name = {p.pool_name: p.pool_id for p in m.pools.values()}
        m.pool_max = d["pool_max"]
        m.max_osd = d["max_osd"]
        m.osds = {o["id"]: OsdInfo.from_plain(o) for o in d["osds"]}
        m.pg_temp = {(p, s): list(v) for p, s, v in d["pg_temp"]}
        m.pg_upmap = {(p, s): list(v) for p, s, v in d.get("pg_upmap", [])}
        m.pg_upmap_items = {
            (p, s): [(a, b) for a, b in v] for p, s, v in d.get("pg_upmap_items", [])
        }
        m.primary_temp = {(p, s): v for p, s, v in d["primary_temp"]}
        m.blocklist = dict(d["blocklist"])
        m.erasure_code_profiles = {k: dict(v) for k, v in d["ec_profiles"].items()}
        m.require_osd_release = d["require_osd_release"]
        m.require_min_compat_client = d["require_min_compat_client"]
        return m


def _stamp(t: float) -> str:
    """utime_t as printed for small values (`0.000000`) or a date."""
    if t < 10 * 365 * 86400:
        return f"{t:.6f}"
    return utime_str(t)
