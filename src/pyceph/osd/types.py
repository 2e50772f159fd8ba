"""Small value types the OSD modules share: versions, PG ids, object ids, PG info.

Kept apart so the pure cores (pglog, peering, ops) and the asyncio shell agree on
one msgpack-friendly representation of each.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from pyceph.crush.hash import ceph_str_hash_rjenkins
from pyceph.store.types import ObjectKey

#: An eversion_t: (map epoch, per-PG counter). Ordered as a tuple.
Version = tuple[int, int]
ZERO: Version = (0, 0)

#: A client object id within a pool: (namespace, name, locator key).
Oid = tuple[str, str, str]
#: A client request id: (entity, instance nonce, client tid).
ReqId = tuple[str, int, int]


def ver(v: Any) -> Version:
    """A version from its wire form (a 2-list) or None."""
    if not v:
        return ZERO
    return (int(v[0]), int(v[1]))


def ver_str(v: Version) -> str:
    """Upstream's `epoch'version` notation."""
    return f"{v[0]}'{v[1]}"


def oid_of(v: Any) -> Oid:
    return (str(v[0]), str(v[1]), str(v[2]))


def reqid_of(v: Any) -> ReqId | None:
    """A request id from its wire form. The entity name is interned: a replica's PG
    logs and dup indexes hold thousands of request ids of a few clients each (one
    string per client instead of one per entry)."""
    if v is None:
        return None
    return (sys.intern(str(v[0])), int(v[1]), int(v[2]))


def pgid_str(pool: int, ps: int) -> str:
    """`1.a`: pool id, then the placement seed in hex (upstream pg_t)."""
    return f"{pool}.{ps:x}"


def parse_pgid(s: str) -> tuple[int, int]:
    pool, _, ps = s.partition(".")
    return int(pool), int(ps, 16)


#: The OSD's own collection: whoami, uuid, and per pool the pg_num its PGs are split for.
META_CID = "meta"


def pg_cid(pool: int, ps: int, shard: int | None = None) -> str:
    """The store collection holding a PG's objects, PG log and info.

    An erasure-coded PG's OSDs each hold one shard (their position in the acting
    set): upstream's spg_t names the collection after it, `1.2s0_head`."""
    if shard is None:
        return f"{pool}.{ps:x}_head"
    return f"{pool}.{ps:x}s{shard}_head"


def object_hash(oid: Oid) -> int:
    """The placement hash of an object, as the client computes it."""
    nspace, name, key = oid
    loc = key or name
    if nspace:
        loc = nspace + "\x1f" + loc
    return ceph_str_hash_rjenkins(loc.encode())


def object_key(pool: int, oid: Oid) -> ObjectKey:
    """The store key of a client object's head."""
    nspace, name, key = oid
    return ObjectKey(name, nspace, key, hash=object_hash(oid), pool=pool)


def key_oid(k: ObjectKey) -> Oid:
    return (k.namespace, k.name, k.key)


@dataclass
class PastInterval:
    """One past interval of a PG (upstream pg_interval_t)."""

    first: int
    last: int
    acting: list[int]
    primary: int
    maybe_went_rw: bool

    def to_wire(self) -> list[Any]:
        return [self.first, self.last, self.acting, self.primary, self.maybe_went_rw]

    @classmethod
    def from_wire(cls, w: list[Any]) -> PastInterval:
        return cls(int(w[0]), int(w[1]), [int(o) for o in w[2]], int(w[3]), bool(w[4]))


@dataclass
class PGInfo:
    """What a PG instance knows about itself (upstream pg_info_t + pg_history_t)."""

    pgid: str
    last_update: Version = ZERO
    last_complete: Version = ZERO
    log_tail: Version = ZERO
    last_user_version: int = 0
    last_epoch_started: int = 0
    last_epoch_clean: int = 0
    same_interval_since: int = 0
    epoch_created: int = 0
    past_intervals: list[PastInterval] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "pgid": self.pgid,
            "last_update": list(self.last_update),
            "last_complete": list(self.last_complete),
            "log_tail": list(self.log_tail),
            "luv": self.last_user_version,
            "les": self.last_epoch_started,
            "lec": self.last_epoch_clean,
            "sis": self.same_interval_since,
            "created": self.epoch_created,
            "past": [p.to_wire() for p in self.past_intervals],
            "stats": dict(self.stats),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> PGInfo:
        return cls(
            pgid=str(d["pgid"]),
            last_update=ver(d.get("last_update")),
            last_complete=ver(d.get("last_complete")),
            log_tail=ver(d.get("log_tail")),
            last_user_version=int(d.get("luv", 0)),
            last_epoch_started=int(d.get("les", 0)),
            last_epoch_clean=int(d.get("lec", 0)),
            same_interval_since=int(d.get("sis", 0)),
            epoch_created=int(d.get("created", 0)),
            past_intervals=[PastInterval.from_wire(p) for p in d.get("past", [])],
            stats={str(k): int(v) for k, v in dict(d.get("stats", {})).items()},
        )

    def copy(self) -> PGInfo:
        return PGInfo.from_wire(self.to_wire())
