"""OSDMap incrementals: what changed from one epoch to the next, and how to apply it.

Upstream `OSDMap::Incremental` (`src/osd/OSDMap.h`/`.cc`): the monitor commits each
epoch as a delta against the previous one, subscribers that already hold epoch N-1
receive only the delta for N, and every delta carries the crc of the full map it must
produce (`full_crc`) so a receiver detects a bad application and asks for a full map.
This module is the same idea in pyceph's own encoding, as pure functions:

- `diff(old, new)` -> `Incremental` (new.epoch must be old.epoch + 1);
- `apply(old, inc)` -> the new `OSDMap`; `apply(old, diff(old, new)).encode()` is
  byte-for-byte `new.encode()` — the property the tests check;
- `Incremental.encode()` / `Incremental.decode()` (bounded: size and shape checked);
- `advance(current, entries)`: a subscriber's step over a received `osd_map` message
  (full maps and incrementals in epoch order), verifying each incremental's crc and
  saying from which epoch it needs a full map when it meets a gap or a mismatch.

Like upstream, an incremental may carry the whole new map instead (`fullmap`): the
monitor falls back to that should a delta ever fail to reproduce the committed map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import crc32c as _crc
import msgpack

from pyceph.common.packing import unpack_bounded
from pyceph.crush.map import CrushMap
from pyceph.osdmap.osdmap import OsdInfo, OSDMap
from pyceph.osdmap.pool import Pool

#: Encoding version of an incremental.
INC_FORMAT_VERSION = 1
#: Largest encoded incremental (or full map) accepted (upstream osd_map_message_max_bytes).
MAX_MAP_BYTES = 10 * 1024 * 1024
#: Bounds on one decoded incremental's containers (a map of 64k OSDs/pools fits).
MAX_ENTRIES = 1 << 20
MAX_STR = 1 << 16

#: Kinds of a map in an `osd_map` message.
KIND_FULL = "full"
KIND_INC = "inc"

# OSD state bits carried as an xor (upstream CEPH_OSD_EXISTS, CEPH_OSD_UP, CEPH_OSD_AUTOOUT,
# and the destroyed bit of `new_state`)
STATE_EXISTS = 1 << 0
STATE_UP = 1 << 1
STATE_AUTOOUT = 1 << 2
STATE_DESTROYED = 1 << 3

#: OsdInfo fields per group of the incremental (osd_info_t, osd_xinfo_t, addresses ...).
ADDR_FIELDS = ("public_addr", "cluster_addr", "hb_back_addr", "hb_front_addr")
INFO_FIELDS = ("up_from", "down_at", "last_clean_begin", "last_clean_end", "lost_at")
XINFO_FIELDS = ("down_stamp", "old_weight")
STATE_FIELDS = {"exists": STATE_EXISTS, "up": STATE_UP, "auto_out": STATE_AUTOOUT,
                "destroyed": STATE_DESTROYED}  # fmt: skip
SCALAR_FIELDS = ("weight", "primary_affinity", "uuid", "up_thru", "capacity_bytes")
OSD_FIELDS_COVERED = (
    {"id", "metadata"} | set(ADDR_FIELDS) | set(INFO_FIELDS) | set(XINFO_FIELDS)
    | set(STATE_FIELDS) | set(SCALAR_FIELDS)
)  # fmt: skip

#: Top-level OSDMap attributes an incremental sets when they change.
MAP_SCALARS = (
    "created",
    "modified",
    "last_up_change",
    "last_in_change",
    "flags",
    "full_ratio",
    "backfillfull_ratio",
    "nearfull_ratio",
    "crush_version",
    "pool_max",
    "max_osd",
    "require_osd_release",
    "require_min_compat_client",
)

PgKey = tuple[int, int]


class IncrementalError(ValueError):
    """An incremental that cannot be decoded or does not apply to the map given."""


@dataclass
class Incremental:
    """One epoch's changes (upstream `OSDMap::Incremental`); empty fields change nothing."""

    epoch: int
    fsid: str
    #: crc32c of the full map this incremental produces
    full_crc: int = 0
    #: changed top-level attributes (names of MAP_SCALARS) and their new values
    scalars: dict[str, Any] = field(default_factory=dict)
    #: whole new pools (upstream new_pools), pools removed (old_pools), and the changed
    #: fields of other pools (upstream sends those whole too; a field is far smaller)
    new_pools: dict[int, dict[str, Any]] = field(default_factory=dict)
    old_pools: list[int] = field(default_factory=list)
    pool_changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: the binary CRUSH map, when it changed
    crush: bytes | None = None
    #: OSD slots: state bits flipped (xor), reweights, primary affinity, uuid, addresses
    #: (new_up_client & co.), up_thru, osd_info_t epochs, osd_xinfo_t, boot metadata
    new_state: dict[int, int] = field(default_factory=dict)
    new_weight: dict[int, int] = field(default_factory=dict)
    new_primary_affinity: dict[int, int] = field(default_factory=dict)
    new_uuid: dict[int, str] = field(default_factory=dict)
    new_up_client: dict[int, list[str]] = field(default_factory=dict)
    new_up_thru: dict[int, int] = field(default_factory=dict)
    new_info: dict[int, list[int]] = field(default_factory=dict)
    new_xinfo: dict[int, list[Any]] = field(default_factory=dict)
    new_capacity: dict[int, int] = field(default_factory=dict)
    new_metadata: dict[int, dict[str, str]] = field(default_factory=dict)
    #: OSD slots created (as `OsdInfo(id)`, before the changes above) or dropped
    new_osds: list[int] = field(default_factory=list)
    old_osds: list[int] = field(default_factory=list)
    new_pg_temp: dict[PgKey, list[int]] = field(default_factory=dict)
    old_pg_temp: list[PgKey] = field(default_factory=list)
    new_primary_temp: dict[PgKey, int] = field(default_factory=dict)
    old_primary_temp: list[PgKey] = field(default_factory=list)
    new_pg_upmap: dict[PgKey, list[int]] = field(default_factory=dict)
    old_pg_upmap: list[PgKey] = field(default_factory=list)
    new_pg_upmap_items: dict[PgKey, list[list[int]]] = field(default_factory=dict)
    old_pg_upmap_items: list[PgKey] = field(default_factory=list)
    new_blocklist: dict[str, float] = field(default_factory=dict)
    old_blocklist: list[str] = field(default_factory=list)
    new_erasure_code_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    old_erasure_code_profiles: list[str] = field(default_factory=list)
    #: the whole new map instead of a delta (upstream `Incremental::fullmap`)
    fullmap: bytes | None = None

    # ------------------------------------------------------------ encoding
    def encode(self) -> bytes:
        """msgpack: a version, then only the non-empty fields (short, stable order)."""
        d: dict[str, Any] = {"v": INC_FORMAT_VERSION, "e": self.epoch, "fsid": self.fsid,
                             "crc": self.full_crc}  # fmt: skip
        for name in _ENCODED_FIELDS:
            v = getattr(self, name)
            if v is None or (isinstance(v, dict | list) and not v):
                continue
            if name in _PGKEY_DICTS:
                v = [[p, s, x] for (p, s), x in sorted(v.items())]
            elif name in _PGKEY_LISTS:
                v = [[p, s] for p, s in sorted(v)]
            elif isinstance(v, dict) and name != "scalars":
                v = dict(sorted(v.items()))
            d[name] = v
        return msgpack.packb(d, use_bin_type=True)

    @classmethod
    def decode(cls, data: bytes | memoryview) -> Incremental:
        """Parse an encoded incremental; IncrementalError on anything malformed."""
        if len(data) > MAX_MAP_BYTES:
            raise IncrementalError(f"incremental of {len(data)} bytes exceeds {MAX_MAP_BYTES}")
        try:
            d = unpack_bounded(data, max_items=MAX_ENTRIES, max_str=MAX_STR)
        except (ValueError, msgpack.UnpackException) as e:
            raise IncrementalError(f"malformed incremental: {e}") from None
        try:
            return cls._from_plain(d)
        except (KeyError, TypeError, ValueError) as e:
            raise IncrementalError(f"malformed incremental: {e!r}") from None

    @classmethod
    def _from_plain(cls, d: Any) -> Incremental:
        if not isinstance(d, dict) or d.get("v") != INC_FORMAT_VERSION:
            raise ValueError("unsupported incremental version")
        inc = cls(_int(d["e"]), _str(d["fsid"]), full_crc=_int(d["crc"]))
        unknown = set(d) - set(_ENCODED_FIELDS) - {"v", "e", "fsid", "crc"}
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        for name in _ENCODED_FIELDS:
            if name in d:
                setattr(inc, name, _FIELD_PARSERS[name](d[name]))
        return inc

    def is_empty(self) -> bool:
        """Whether it changes nothing but the epoch."""
        return all(not getattr(self, n) for n in _ENCODED_FIELDS)


# ---------------------------------------------------------------- field validation
def _int(v: Any) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"expected int, got {type(v).__name__}")
    return v


def _num(v: Any) -> float | int:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError(f"expected number, got {type(v).__name__}")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected str, got {type(v).__name__}")
    return v


def _dict(v: Any) -> dict[Any, Any]:
    if not isinstance(v, dict):
        raise TypeError(f"expected map, got {type(v).__name__}")
    return v


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise TypeError(f"expected array, got {type(v).__name__}")
    return v


def _int_map(val: Any) -> Any:
    return lambda v: {_int(k): val(x) for k, x in _dict(v).items()}


def _str_map(v: Any) -> dict[str, str]:
    return {_str(k): _str(x) for k, x in _dict(v).items()}


def _pg_dict(val: Any) -> Any:
    def parse(v: Any) -> dict[PgKey, Any]:
        out = {}
        for item in _list(v):
            p, s, x = _list(item)
            out[(_int(p), _int(s))] = val(x)
        return out

    return parse


def _pg_list(v: Any) -> list[PgKey]:
    out = []
    for item in _list(v):
        p, s = _list(item)
        out.append((_int(p), _int(s)))
    return out


def _scalars(v: Any) -> dict[str, Any]:
    out = {}
    for k, x in _dict(v).items():
        if k not in MAP_SCALARS:
            raise ValueError(f"unknown map attribute {k!r}")
        out[k] = _str(x) if k.startswith("require_") else _num(x)
    return out


def _bytes(v: Any) -> bytes:
    if not isinstance(v, bytes):
        raise TypeError(f"expected bin, got {type(v).__name__}")
    return v


_FIELD_PARSERS: dict[str, Any] = {
    "scalars": _scalars,
    "new_pools": _int_map(_dict),
    "old_pools": lambda v: [_int(x) for x in _list(v)],
    "pool_changes": _int_map(lambda x: {_str(k): f for k, f in _dict(x).items()}),
    "crush": _bytes,
    "new_state": _int_map(_int),
    "new_weight": _int_map(_int),
    "new_primary_affinity": _int_map(_int),
    "new_uuid": _int_map(_str),
    "new_up_client": _int_map(lambda x: [_str(a) for a in _list(x)][: len(ADDR_FIELDS)]),
    "new_up_thru": _int_map(_int),
    "new_info": _int_map(lambda x: [_int(a) for a in _list(x)][: len(INFO_FIELDS)]),
    "new_xinfo": _int_map(lambda x: [_num(a) for a in _list(x)][: len(XINFO_FIELDS)]),
    "new_capacity": _int_map(_int),
    "new_metadata": _int_map(_str_map),
    "new_osds": lambda v: [_int(x) for x in _list(v)],
    "old_osds": lambda v: [_int(x) for x in _list(v)],
    "new_pg_temp": _pg_dict(lambda x: [_int(o) for o in _list(x)]),
    "old_pg_temp": _pg_list,
    "new_primary_temp": _pg_dict(_int),
    "old_primary_temp": _pg_list,
    "new_pg_upmap": _pg_dict(lambda x: [_int(o) for o in _list(x)]),
    "old_pg_upmap": _pg_list,
    "new_pg_upmap_items": _pg_dict(lambda x: [[_int(a), _int(b)] for a, b in _list(x)]),
    "old_pg_upmap_items": _pg_list,
    "new_blocklist": lambda v: {_str(k): _num(x) for k, x in _dict(v).items()},
    "old_blocklist": lambda v: [_str(x) for x in _list(v)],
    "new_erasure_code_profiles": lambda v: {_str(k): _str_map(x) for k, x in _dict(v).items()},
    "old_erasure_code_profiles": lambda v: [_str(x) for x in _list(v)],
    "fullmap": _bytes,
}
_ENCODED_FIELDS = tuple(_FIELD_PARSERS)
_PGKEY_DICTS = ("new_pg_temp", "new_primary_temp", "new_pg_upmap", "new_pg_upmap_items")
_PGKEY_LISTS = ("old_pg_temp", "old_primary_temp", "old_pg_upmap", "old_pg_upmap_items")


# ---------------------------------------------------------------- diff
def map_crc(encoded: bytes) -> int:
    """The crc an incremental carries: crc32c of the full map's encoding."""
    return _crc.crc32c(encoded)


def _packed(v: Any) -> bytes:
    return msgpack.packb(v, use_bin_type=True)


def _differs(a: Any, b: Any) -> bool:
    """Different in the encoding: value, type (0 vs 0.0) or dict order."""
    if type(a) is not type(b):
        return True
    if isinstance(a, dict | list):
        return _packed(a) != _packed(b)
    return bool(a != b)


def _state_bits(o: OsdInfo) -> int:
    return sum(bit for name, bit in STATE_FIELDS.items() if getattr(o, name))


def _diff_osd(inc: Incremental, i: int, a: OsdInfo, b: OsdInfo) -> None:
    x = _state_bits(a) ^ _state_bits(b)
    if x:
        inc.new_state[i] = x
    if _differs(a.weight, b.weight):
        inc.new_weight[i] = b.weight
    if _differs(a.primary_affinity, b.primary_affinity):
        inc.new_primary_affinity[i] = b.primary_affinity
    if _differs(a.uuid, b.uuid):
        inc.new_uuid[i] = b.uuid
    if _differs(a.up_thru, b.up_thru):
        inc.new_up_thru[i] = b.up_thru
    if _differs(a.capacity_bytes, b.capacity_bytes):
        inc.new_capacity[i] = b.capacity_bytes
    if _differs(a.metadata, b.metadata):
        inc.new_metadata[i] = dict(b.metadata)
    for group, fields in ((inc.new_up_client, ADDR_FIELDS), (inc.new_info, INFO_FIELDS),
                          (inc.new_xinfo, XINFO_FIELDS)):  # fmt: skip
        if any(_differs(getattr(a, f), getattr(b, f)) for f in fields):
            group[i] = [getattr(b, f) for f in fields]


def diff(old: OSDMap, new: OSDMap, new_encoded: bytes | None = None) -> Incremental:
    """The incremental that turns `old` into `new` (new.epoch == old.epoch + 1).

    `new_encoded` is `new.encode()` when the caller already has it (for the crc).
    """
    if new.epoch != old.epoch + 1:
        raise IncrementalError(f"epoch {new.epoch} does not follow {old.epoch}")
    if new.fsid != old.fsid:
        raise IncrementalError("maps of different clusters")
    inc = Incremental(new.epoch, new.fsid)
    inc.full_crc = map_crc(new.encode() if new_encoded is None else new_encoded)
    for name in MAP_SCALARS:
        if _differs(getattr(old, name), getattr(new, name)):
            inc.scalars[name] = getattr(new, name)
    for pid, pool in new.pools.items():
        was = old.pools.get(pid)
        plain = pool.to_plain()
        if was is None:
            inc.new_pools[pid] = plain
            continue
        before = was.to_plain()
        changes = {k: v for k, v in plain.items() if k not in before or _differs(before[k], v)}
        if changes:
            inc.pool_changes[pid] = changes
    inc.old_pools = sorted(p for p in old.pools if p not in new.pools)
    if new.crush is not old.crush:
        enc = new.crush.encode()
        if enc != old.crush.encode():
            inc.crush = enc
    for i, o in new.osds.items():
        _diff_osd(inc, i, old.osds.get(i) or OsdInfo(i), o)
    inc.new_osds = sorted(i for i in new.osds if i not in old.osds)
    inc.old_osds = sorted(i for i in old.osds if i not in new.osds)
    for k, v in new.pg_temp.items():
        if k not in old.pg_temp or _differs(old.pg_temp[k], v):
            inc.new_pg_temp[k] = list(v)
    inc.old_pg_temp = sorted(k for k in old.pg_temp if k not in new.pg_temp)
    for k, p in new.primary_temp.items():
        if k not in old.primary_temp or _differs(old.primary_temp[k], p):
            inc.new_primary_temp[k] = p
    inc.old_primary_temp = sorted(k for k in old.primary_temp if k not in new.primary_temp)
    for k, osds in new.pg_upmap.items():
        if old.pg_upmap.get(k) != osds:
            inc.new_pg_upmap[k] = list(osds)
    inc.old_pg_upmap = sorted(k for k in old.pg_upmap if k not in new.pg_upmap)
    for k, items in new.pg_upmap_items.items():
        if old.pg_upmap_items.get(k) != items:
            inc.new_pg_upmap_items[k] = [list(i) for i in items]
    inc.old_pg_upmap_items = sorted(k for k in old.pg_upmap_items if k not in new.pg_upmap_items)
    for a, t in new.blocklist.items():
        if a not in old.blocklist or _differs(old.blocklist[a], t):
            inc.new_blocklist[a] = t
    inc.old_blocklist = sorted(a for a in old.blocklist if a not in new.blocklist)
    for name, prof in new.erasure_code_profiles.items():
        if name not in old.erasure_code_profiles or _differs(old.erasure_code_profiles[name], prof):
            inc.new_erasure_code_profiles[name] = dict(prof)
    inc.old_erasure_code_profiles = sorted(
        n for n in old.erasure_code_profiles if n not in new.erasure_code_profiles
    )
    return inc


# ---------------------------------------------------------------- apply
def _apply_osd(inc: Incremental, m: OSDMap, i: int) -> None:
    o = m.osds.get(i)
    if o is None:
        o = m.osds[i] = OsdInfo(i)
    x = inc.new_state.get(i, 0)
    for name, bit in STATE_FIELDS.items():
        if x & bit:
            setattr(o, name, not getattr(o, name))
    if i in inc.new_weight:
        o.weight = inc.new_weight[i]
    if i in inc.new_primary_affinity:
        o.primary_affinity = inc.new_primary_affinity[i]
    if i in inc.new_uuid:
        o.uuid = inc.new_uuid[i]
    if i in inc.new_up_thru:
        o.up_thru = inc.new_up_thru[i]
    if i in inc.new_capacity:
        o.capacity_bytes = inc.new_capacity[i]
    if i in inc.new_metadata:
        o.metadata = dict(inc.new_metadata[i])
    for group, fields in ((inc.new_up_client, ADDR_FIELDS), (inc.new_info, INFO_FIELDS),
                          (inc.new_xinfo, XINFO_FIELDS)):  # fmt: skip
        vals = group.get(i)
        if vals is not None:
            if len(vals) != len(fields):
                raise IncrementalError(f"osd.{i}: {len(vals)} values for {fields}")
            for f, v in zip(fields, vals, strict=True):
                setattr(o, f, v)


def _touched_osds(inc: Incremental) -> set[int]:
    out: set[int] = set()
    for g in (inc.new_state, inc.new_weight, inc.new_primary_affinity, inc.new_uuid,
              inc.new_up_client, inc.new_up_thru, inc.new_info, inc.new_xinfo,
              inc.new_capacity, inc.new_metadata):  # fmt: skip
        out.update(g)
    return out


def apply(old: OSDMap, inc: Incremental) -> OSDMap:
    """The map `inc` makes of `old` (a new, unfrozen OSDMap; `old` is not modified)."""
    if inc.fsid != old.fsid:
        raise IncrementalError(f"incremental for cluster {inc.fsid}, map of {old.fsid}")
    if inc.epoch != old.epoch + 1:
        raise IncrementalError(f"incremental {inc.epoch} does not apply to epoch {old.epoch}")
    if inc.fullmap is not None:
        return _decode_full(inc.fullmap, inc.epoch)
    m = old.copy()
    m.epoch = inc.epoch
    for name, v in inc.scalars.items():
        setattr(m, name, v)
    for pid in inc.old_pools:
        gone = m.pools.pop(pid, None)
        if gone is not None and m.pool_name.get(gone.pool_name) == pid:
            del m.pool_name[gone.pool_name]
    for pid, plain in inc.new_pools.items():
        try:
            pool = Pool.from_plain(plain)
        except (TypeError, ValueError) as e:
            raise IncrementalError(f"pool {pid}: {e}") from None
        was = m.pools.get(pid)
        if was is not None and m.pool_name.get(was.pool_name) == pid:
            del m.pool_name[was.pool_name]
        m.pools[pid] = pool
    for pid, changes in inc.pool_changes.items():
        was = m.pools.get(pid)
        if was is None:
            raise IncrementalError(f"changes to pool {pid}, which does not exist")
        try:
            pool = Pool.from_plain({**was.to_plain(), **changes})
        except (TypeError, ValueError) as e:
            raise IncrementalError(f"pool {pid}: {e}") from None
        if m.pool_name.get(was.pool_name) == pid:
            del m.pool_name[was.pool_name]
        m.pools[pid] = pool
    for pid, pool in m.pools.items():
        m.pool_name[pool.pool_name] = pid
    if inc.crush is not None:
        try:
            m.crush = CrushMap.decode(inc.crush)
        except Exception as e:  # a malformed binary map raises what its parser meets
            raise IncrementalError(f"bad crush map: {e}") from None
        m._crush_shared = False
    for i in inc.old_osds:
        m.osds.pop(i, None)
    for i in inc.new_osds:
        m.osds[i] = OsdInfo(i)
    for i in sorted(_touched_osds(inc)):
        _apply_osd(inc, m, i)
    for k in inc.old_pg_temp:
        m.pg_temp.pop(k, None)
    m.pg_temp.update((k, list(v)) for k, v in inc.new_pg_temp.items())
    for k in inc.old_primary_temp:
        m.primary_temp.pop(k, None)
    m.primary_temp.update(inc.new_primary_temp)
    for k in inc.old_pg_upmap:
        m.pg_upmap.pop(k, None)
    m.pg_upmap.update((k, list(v)) for k, v in inc.new_pg_upmap.items())
    for k in inc.old_pg_upmap_items:
        m.pg_upmap_items.pop(k, None)
    m.pg_upmap_items.update((k, [(a, b) for a, b in v]) for k, v in inc.new_pg_upmap_items.items())
    for a in inc.old_blocklist:
        m.blocklist.pop(a, None)
    m.blocklist.update(inc.new_blocklist)
    for n in inc.old_erasure_code_profiles:
        m.erasure_code_profiles.pop(n, None)
    for n, prof in inc.new_erasure_code_profiles.items():
        m.erasure_code_profiles[n] = dict(prof)
    return m


def _decode_full(data: bytes | memoryview, epoch: int | None = None) -> OSDMap:
    if len(data) > MAX_MAP_BYTES:
        raise IncrementalError(f"map of {len(data)} bytes exceeds {MAX_MAP_BYTES}")
    try:
        m = OSDMap.decode(bytes(data))
    except Exception as e:  # msgpack, crush and field errors alike: a map we cannot use
        raise IncrementalError(f"malformed full map: {e!r}") from None
    if epoch is not None and m.epoch != epoch:
        raise IncrementalError(f"full map of epoch {m.epoch} where {epoch} was expected")
    return m


# ---------------------------------------------------------------- receiving
@dataclass
class MapEntry:
    """One map of an `osd_map` message: its epoch, kind (KIND_FULL/KIND_INC), bytes."""

    epoch: int
    kind: str
    data: bytes | memoryview


@dataclass
class Advance:
    """What a subscriber made of a message: its newest map and what it still needs."""

    osdmap: OSDMap | None
    #: epochs applied (full or incremental), in order
    applied: list[int] = field(default_factory=list)
    #: the map of each applied epoch, in order (an OSD processes every epoch: upstream
    #: OSD::handle_osd_map advances its PGs through each one, so none is skipped)
    maps: list[OSDMap] = field(default_factory=list)
    #: set when a gap, an undecodable map or a crc mismatch stopped it: the first epoch
    #: it has no good map for (it should ask for a full map)
    need_full: int | None = None
    reason: str = ""


def advance(current: OSDMap | None, entries: Sequence[MapEntry]) -> Advance:
    """Apply a message's maps to `current` in epoch order (upstream handle_osd_map).

    Full maps replace what we have; an incremental must follow our epoch exactly and
    reproduce its `full_crc`. Maps at or below our epoch are skipped. Stops at the first
    problem, keeping the maps verified before it.
    """
    m = current
    out = Advance(None)
    for ent in sorted(entries, key=lambda x: (x.epoch, x.kind != KIND_FULL)):
        if m is not None and ent.epoch <= m.epoch:
            continue
        try:
            if ent.kind == KIND_FULL:
                nxt = _decode_full(ent.data, ent.epoch)
            elif ent.kind == KIND_INC:
                if m is None or ent.epoch != m.epoch + 1:
                    have = m.epoch if m is not None else 0
                    out.need_full, out.reason = ent.epoch, f"gap: have {have}, got inc {ent.epoch}"
                    break
                inc = Incremental.decode(ent.data)
                if inc.epoch != ent.epoch:
                    raise IncrementalError(f"incremental {inc.epoch} filed as {ent.epoch}")
                nxt = apply(m, inc)
                if map_crc(nxt.encode()) != inc.full_crc:
                    out.need_full, out.reason = ent.epoch, f"crc mismatch at epoch {ent.epoch}"
                    break
            else:
                raise IncrementalError(f"unknown map kind {ent.kind!r}")
        except IncrementalError as e:
            out.need_full, out.reason = ent.epoch, str(e)
            break
        m = nxt
        out.applied.append(ent.epoch)
        out.maps.append(nxt)
    if out.applied:
        out.osdmap = m
    return out
