"""A pool as the OSDMap holds it (upstream `pg_pool_t`): fields, flags, PG masks, dump.

Kept apart from the map so clients and OSDs can use pool placement helpers
(`raw_pg_to_pg`, `raw_pg_to_pps`, `hash_key`) without the rest of the monitor.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from pyceph.crush.hash import ceph_stable_mod, ceph_str_hash_rjenkins, crush_hash32_2

TYPE_REPLICATED = 1
TYPE_ERASURE = 3
TYPE_NAMES = {TYPE_REPLICATED: "replicated", TYPE_ERASURE: "erasure"}

FLAG_HASHPSPOOL = 1 << 0
FLAG_FULL = 1 << 1
FLAG_EC_OVERWRITES = 1 << 2
FLAG_INCOMPLETE_CLONES = 1 << 3
FLAG_NODELETE = 1 << 4
FLAG_NOPGCHANGE = 1 << 5
FLAG_NOSIZECHANGE = 1 << 6
FLAG_WRITE_FADVISE_DONTNEED = 1 << 7
FLAG_NOSCRUB = 1 << 8
FLAG_NODEEP_SCRUB = 1 << 9
FLAG_FULL_QUOTA = 1 << 10
FLAG_NEARFULL = 1 << 11
FLAG_BACKFILLFULL = 1 << 12
FLAG_SELFMANAGED_SNAPS = 1 << 13
FLAG_POOL_SNAPS = 1 << 14
FLAG_CREATING = 1 << 15
FLAG_EIO = 1 << 16
FLAG_BULK = 1 << 17

FLAG_NAMES: list[tuple[int, str]] = [
    (FLAG_HASHPSPOOL, "hashpspool"),
    (FLAG_FULL, "full"),
    (FLAG_EC_OVERWRITES, "ec_overwrites"),
    (FLAG_INCOMPLETE_CLONES, "incomplete_clones"),
    (FLAG_NODELETE, "nodelete"),
    (FLAG_NOPGCHANGE, "nopgchange"),
    (FLAG_NOSIZECHANGE, "nosizechange"),
    (FLAG_WRITE_FADVISE_DONTNEED, "write_fadvise_dontneed"),
    (FLAG_NOSCRUB, "noscrub"),
    (FLAG_NODEEP_SCRUB, "nodeep-scrub"),
    (FLAG_FULL_QUOTA, "full_quota"),
    (FLAG_NEARFULL, "nearfull"),
    (FLAG_BACKFILLFULL, "backfillfull"),
    (FLAG_SELFMANAGED_SNAPS, "selfmanaged_snaps"),
    (FLAG_POOL_SNAPS, "pool_snaps"),
    (FLAG_CREATING, "creating"),
    (FLAG_EIO, "eio"),
    (FLAG_BULK, "bulk"),
]
FLAG_BY_NAME = {name: bit for bit, name in FLAG_NAMES}

AUTOSCALE_MODES = {0: "off", 1: "warn", 2: "on"}

# pg_pool_t::cache_mode_t
CACHEMODE_NONE = 0
CACHEMODE_WRITEBACK = 1
CACHEMODE_FORWARD = 2
CACHEMODE_READONLY = 3
CACHEMODE_READFORWARD = 4
CACHEMODE_READPROXY = 5
CACHEMODE_PROXY = 6
CACHE_MODE_NAMES = {CACHEMODE_NONE: "none", CACHEMODE_WRITEBACK: "writeback",
                    CACHEMODE_FORWARD: "forward", CACHEMODE_READONLY: "readonly",
                    CACHEMODE_READFORWARD: "readforward", CACHEMODE_READPROXY: "readproxy",
                    CACHEMODE_PROXY: "proxy"}  # fmt: skip
CACHE_MODE_BY_NAME = {v: k for k, v in CACHE_MODE_NAMES.items()}
AUTOSCALE_BY_NAME = {v: k for k, v in AUTOSCALE_MODES.items()}

CEPH_STR_HASH_RJENKINS = 2
CRUSH_ITEM_NONE = 0x7FFFFFFF


def utime_str(t: float, z: bool = False) -> str:
    """Upstream `utime_t` in dumps: `2026-11-22T04:40:01.835239+0000` (UTC), or `...Z`."""
    sec = int(t)
    usec = int(round((t - sec) * 1_000_000))
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    return f"{base}.{usec:06d}" + ("Z" if z else "+0000")


def calc_mask(n: int) -> int:
    """Upstream `calc_pg_masks`: `(1 << cbits(n - 1)) - 1`."""
    return (1 << max(n - 1, 0).bit_length()) - 1


@dataclass
class Pool:
    """One pool (`pg_pool_t`). Epoch-valued fields are OSDMap epochs."""

    pool_id: int
    pool_name: str
    type: int = TYPE_REPLICATED
    size: int = 3
    min_size: int = 2
    crush_rule: int = 0
    object_hash: int = CEPH_STR_HASH_RJENKINS
    pg_num: int = 32
    pgp_num: int = 32
    pg_num_target: int = 32
    pgp_num_target: int = 32
    #: a shrink under way: the pg_num the monitor is about to step down to (upstream
    #: pg_num_pending; -1 in a pool made before it existed: pg_num)
    pg_num_pending: int = -1
    #: the last merge step (upstream pg_merge_meta_t): what the source's primary reported
    #: ready with, so an OSD merging can tell whether its copies were current
    last_pg_merge_meta: dict[str, Any] = field(default_factory=dict)
    pg_num_min: int = 0
    pg_num_max: int = 0
    pg_autoscale_mode: int = 2
    flags: int = FLAG_HASHPSPOOL
    create_time: float = 0.0
    last_change: int = 0
    last_force_op_resend: int = 0
    #: epochs pre-Nautilus / pre-Luminous clients must resend their ops from (pg_num and
    #: pg_num_pending changes); `last_force_op_resend` moves all three (upstream
    #: set_last_force_op_resend), so each shows the later of the two
    last_force_op_resend_prenautilus: int = 0
    last_force_op_resend_preluminous: int = 0
    snap_seq: int = 0
    snap_epoch: int = 0
    pool_snaps: dict[int, tuple[str, float]] = field(default_factory=dict)
    removed_snaps: list[int] = field(default_factory=list)
    quota_max_bytes: int = 0
    quota_max_objects: int = 0
    erasure_code_profile: str = ""
    stripe_width: int = 0
    expected_num_objects: int = 0
    fast_read: bool = False
    application_metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    # ---- cache tiering (upstream defaults; see `handlers/tier.py`) ----
    tiers: list[int] = field(default_factory=list)  # pools that are tiers of this one
    tier_of: int = -1  # the base pool if this pool is a tier
    read_tier: int = -1  # overlay: where reads of the base pool are directed
    write_tier: int = -1
    cache_mode: int = CACHEMODE_NONE
    target_max_bytes: int = 0
    target_max_objects: int = 0
    cache_target_dirty_ratio_micro: int = 400000
    cache_target_dirty_high_ratio_micro: int = 600000
    cache_target_full_ratio_micro: int = 800000
    cache_min_flush_age: int = 0
    cache_min_evict_age: int = 0
    hit_set_params: dict[str, Any] = field(default_factory=lambda: {"type": "none"})
    hit_set_period: int = 0
    hit_set_count: int = 0
    min_read_recency_for_promote: int = 0
    min_write_recency_for_promote: int = 0
    hit_set_grade_decay_rate: int = 0
    hit_set_search_last_n: int = 0
    grade_table: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.pg_num_pending < 0:
            self.pg_num_pending = self.pg_num

    def lfor(self) -> tuple[int, int, int]:
        """(last_force_op_resend, ..._prenautilus, ..._preluminous) as upstream shows them."""
        n = self.last_force_op_resend
        return (
            n,
            max(n, self.last_force_op_resend_prenautilus),
            max(n, self.last_force_op_resend_preluminous),
        )

    def set_pg_num(self, n: int) -> None:
        """Upstream pg_pool_t::set_pg_num: pg_num and pg_num_pending move together."""
        self.pg_num = self.pg_num_pending = n

    def dec_pg_num(self, source_pgid: str, epoch: int, meta: dict[str, Any]) -> None:
        """Upstream pg_pool_t::dec_pg_num: one merge step done, remember its metadata."""
        self.pg_num -= 1
        self.last_pg_merge_meta = {
            "source_pgid": source_pgid,
            "ready_epoch": epoch,
            "last_epoch_started": int(meta.get("last_epoch_started", 0)),
            "last_epoch_clean": int(meta.get("last_epoch_clean", 0)),
            "source_version": _ev(meta.get("source_version")),
            "target_version": _ev(meta.get("target_version")),
        }

    # ---- placement helpers (hot path) ----
    @property
    def pg_num_mask(self) -> int:
        return calc_mask(self.pg_num)

    @property
    def pgp_num_mask(self) -> int:
        return calc_mask(self.pgp_num)

    def has_flag(self, bit: int) -> bool:
        return bool(self.flags & bit)

    def can_shift_osds(self) -> bool:
        """Replicated pools shift OSDs left on holes; EC pools keep positions."""
        return self.type == TYPE_REPLICATED

    def is_erasure(self) -> bool:
        return self.type == TYPE_ERASURE

    def hash_key(self, key: str, nspace: str) -> int:
        """Upstream `pg_pool_t::hash_key`: rjenkins of `nspace + "\\x1f" + key` (or key)."""
        data = key.encode() if not nspace else (nspace + "\x1f" + key).encode()
        return ceph_str_hash_rjenkins(data)

    def raw_pg_to_pg(self, ps: int) -> int:
        return ceph_stable_mod(ps, self.pg_num, self.pg_num_mask)

    def raw_pg_to_pps(self, ps: int) -> int:
        """CRUSH input for a PG seed (`pg_pool_t::raw_pg_to_pps`)."""
        stable = ceph_stable_mod(ps, self.pgp_num, self.pgp_num_mask)
        if self.flags & FLAG_HASHPSPOOL:
            return crush_hash32_2(stable, self.pool_id)
        return (stable + self.pool_id) & 0xFFFFFFFF

    # ---- presentation ----
    def flags_names(self) -> str:
        return ",".join(name for bit, name in FLAG_NAMES if self.flags & bit)

    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, "unknown")

    def autoscale_mode_name(self) -> str:
        return AUTOSCALE_MODES.get(self.pg_autoscale_mode, "unknown")

    def is_pool_snaps_mode(self) -> bool:
        return bool(self.flags & FLAG_POOL_SNAPS)

    # ---- tiering ----
    def is_tier(self) -> bool:
        return self.tier_of >= 0

    def has_tiers(self) -> bool:
        return bool(self.tiers)

    def has_read_tier(self) -> bool:
        return self.read_tier >= 0

    def has_write_tier(self) -> bool:
        return self.write_tier >= 0

    def cache_mode_name(self) -> str:
        return CACHE_MODE_NAMES.get(self.cache_mode, "unknown")

    def clear_tier_tunables(self) -> None:
        """Upstream `pg_pool_t::clear_tier_tunables` (the micro ratios drop to 0, as there)."""
        if self.cache_mode != CACHEMODE_NONE:
            self.flags |= FLAG_INCOMPLETE_CLONES
        self.cache_mode = CACHEMODE_NONE
        self.target_max_bytes = self.target_max_objects = 0
        self.cache_target_dirty_ratio_micro = 0
        self.cache_target_dirty_high_ratio_micro = 0
        self.cache_target_full_ratio_micro = 0
        self.hit_set_params = {"type": "none"}
        self.hit_set_period = self.hit_set_count = 0
        self.hit_set_grade_decay_rate = self.hit_set_search_last_n = 0
        self.grade_table = []

    def clear_tier(self) -> None:
        """Upstream `pg_pool_t::clear_tier`: no longer a tier of anything."""
        self.tier_of = -1
        self.read_tier = self.write_tier = -1
        self.clear_tier_tunables()

    def calc_grade_table(self) -> None:
        """Upstream `pg_pool_t::calc_grade_table` (hit-set recency grades, micro units)."""
        v = 1000000.0
        table = []
        for _ in range(self.hit_set_count):
            v = v * (1 - self.hit_set_grade_decay_rate / 100.0)
            table.append(int(v))
        self.grade_table = table

    def dump(self, id_key: str = "pool_id") -> dict[str, Any]:
        """`pg_pool_t::dump` preceded by the id (`pool` in osd dump, `pool_id` in ls detail)."""
        return {
            id_key: self.pool_id,
            "pool_name": self.pool_name,
            "create_time": utime_str(self.create_time),
            "flags": self.flags,
            "flags_names": self.flags_names(),
            "type": self.type,
            "size": self.size,
            "min_size": self.min_size,
            "crush_rule": self.crush_rule,
            "peering_crush_bucket_count": 0,
            "peering_crush_bucket_target": 0,
            "peering_crush_bucket_barrier": 0,
            "peering_crush_bucket_mandatory_member": CRUSH_ITEM_NONE,
            "object_hash": self.object_hash,
            "pg_autoscale_mode": self.autoscale_mode_name(),
            "pg_num": self.pg_num,
            "pg_placement_num": self.pgp_num,
            "pg_placement_num_target": self.pgp_num_target,
            "pg_num_target": self.pg_num_target,
            "pg_num_pending": self.pg_num_pending,
            "last_pg_merge_meta": {**_NO_MERGE_META, **self.last_pg_merge_meta},
            "last_change": str(self.last_change),
            "last_force_op_resend": str(self.last_force_op_resend),
            "last_force_op_resend_prenautilus": str(self.lfor()[1]),
            "last_force_op_resend_preluminous": str(self.lfor()[2]),
            "auid": 0,
            "snap_mode": "pool" if self.is_pool_snaps_mode() else "selfmanaged",
            "snap_seq": self.snap_seq,
            "snap_epoch": self.snap_epoch,
            "pool_snaps": [
                {"snapid": sid, "stamp": utime_str(stamp), "name": name}
                for sid, (name, stamp) in sorted(self.pool_snaps.items())
            ],
            "removed_snaps": _interval_str(self.removed_snaps),
            "quota_max_bytes": self.quota_max_bytes,
            "quota_max_objects": self.quota_max_objects,
            "tiers": sorted(self.tiers),
            "tier_of": self.tier_of,
            "read_tier": self.read_tier,
            "write_tier": self.write_tier,
            "cache_mode": self.cache_mode_name(),
            "target_max_bytes": self.target_max_bytes,
            "target_max_objects": self.target_max_objects,
            "cache_target_dirty_ratio_micro": self.cache_target_dirty_ratio_micro,
            "cache_target_dirty_high_ratio_micro": self.cache_target_dirty_high_ratio_micro,
            "cache_target_full_ratio_micro": self.cache_target_full_ratio_micro,
            "cache_min_flush_age": self.cache_min_flush_age,
            "cache_min_evict_age": self.cache_min_evict_age,
            "erasure_code_profile": self.erasure_code_profile,
            "hit_set_params": dict(self.hit_set_params),
            "hit_set_period": self.hit_set_period,
            "hit_set_count": self.hit_set_count,
            "use_gmt_hitset": True,
            "min_read_recency_for_promote": self.min_read_recency_for_promote,
            "min_write_recency_for_promote": self.min_write_recency_for_promote,
            "hit_set_grade_decay_rate": self.hit_set_grade_decay_rate,
            "hit_set_search_last_n": self.hit_set_search_last_n,
            "grade_table": list(self.grade_table),
            "stripe_width": self.stripe_width,
            "expected_num_objects": self.expected_num_objects,
            "fast_read": self.fast_read,
            "options": dict(self.options),
            "application_metadata": {k: dict(v) for k, v in self.application_metadata.items()},
        }

    def plain_line(self) -> str:
        """One `osd pool ls detail` line (upstream `operator<<(pg_pool_t)`)."""
        out = (
            f"pool {self.pool_id} '{self.pool_name}' {self.type_name()}"
            + (f" profile {self.erasure_code_profile}" if self.is_erasure() else "")
            + f" size {self.size}"
            f" min_size {self.min_size} crush_rule {self.crush_rule} object_hash rjenkins"
            f" pg_num {self.pg_num} pgp_num {self.pgp_num}"
        )
        if self.pg_num_target != self.pg_num:
            out += f" pg_num_target {self.pg_num_target}"
        if self.pgp_num_target != self.pgp_num:
            out += f" pgp_num_target {self.pgp_num_target}"
        if self.pg_num_pending != self.pg_num:
            out += f" pg_num_pending {self.pg_num_pending}"
        out += f" autoscale_mode {self.autoscale_mode_name()}"
        out += f" last_change {self.last_change}"
        if any(self.lfor()):
            out += " lfor {}/{}/{}".format(*self.lfor())
        if self.flags:
            out += f" flags {self.flags_names()}"
        if self.quota_max_bytes:
            out += f" max_bytes {self.quota_max_bytes}"
        if self.quota_max_objects:
            out += f" max_objects {self.quota_max_objects}"
        out += self._tier_plain()
        out += f" stripe_width {self.stripe_width}"
        if self.expected_num_objects:
            out += f" expected_num_objects {self.expected_num_objects}"
        if self.fast_read:
            out += " fast_read 1"
        if self.application_metadata:
            out += " application " + ",".join(sorted(self.application_metadata))
        return out

    def _tier_plain(self) -> str:
        """The tiering part of `operator<<(pg_pool_t)`, in upstream's order."""
        out = ""
        if self.tiers:
            out += " tiers " + ",".join(str(t) for t in sorted(self.tiers))
        if self.is_tier():
            out += f" tier_of {self.tier_of}"
        if self.has_read_tier():
            out += f" read_tier {self.read_tier}"
        if self.has_write_tier():
            out += f" write_tier {self.write_tier}"
        if self.cache_mode:
            out += f" cache_mode {self.cache_mode_name()}"
        if self.target_max_bytes:
            out += f" target_bytes {self.target_max_bytes}"
        if self.target_max_objects:
            out += f" target_objects {self.target_max_objects}"
        hs = self.hit_set_params
        if hs.get("type", "none") != "none":
            inner = ", ".join(f"{k}: {_plain_num(v)}" for k, v in hs.items() if k != "type")
            out += (
                f" hit_set {hs['type']}{{{inner}}} {self.hit_set_period}s x{self.hit_set_count}"
                f" decay_rate {self.hit_set_grade_decay_rate}"
                f" search_last_n {self.hit_set_search_last_n}"
            )
        if self.min_read_recency_for_promote:
            out += f" min_read_recency_for_promote {self.min_read_recency_for_promote}"
        if self.min_write_recency_for_promote:
            out += f" min_write_recency_for_promote {self.min_write_recency_for_promote}"
        return out

    # ---- persistence ----
    def to_plain(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["pool_snaps"] = [[k, n, s] for k, (n, s) in self.pool_snaps.items()]
        return d

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Pool:
        d = dict(d)
        d["pool_snaps"] = {int(k): (n, s) for k, n, s in d.get("pool_snaps", [])}
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def copy(self) -> Pool:
        return Pool.from_plain(self.to_plain())


#: `last_pg_merge_meta` of a pool that never merged (upstream pg_merge_meta_t defaults)
_NO_MERGE_META: dict[str, Any] = {
    "source_pgid": "0.0",
    "ready_epoch": 0,
    "last_epoch_started": 0,
    "last_epoch_clean": 0,
    "source_version": "0'0",
    "target_version": "0'0",
}


def _ev(v: Any) -> str:
    """An eversion as upstream dumps it (`epoch'version`)."""
    if isinstance(v, list | tuple) and len(v) == 2:
        return f"{int(v[0])}'{int(v[1])}"
    return str(v) if v else "0'0"


def _plain_num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _interval_str(snaps: list[int]) -> str:
    """Upstream interval_set printing: `[2~3,7~1]` (start~length)."""
    if not snaps:
        return "[]"
    runs: list[list[int]] = []
    for s in sorted(set(snaps)):
        if runs and runs[-1][0] + runs[-1][1] == s:
            runs[-1][1] += 1
        else:
            runs.append([s, 1])
    return "[" + ",".join(f"{a:x}~{n:x}" for a, n in runs) + "]"
