"""The CRUSH map model: devices, types, buckets, rules, tunables, and the builders,
lookups and JSON views the monitor needs (``ceph osd crush dump``, ``osd tree``)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import mapper
from .mapper import (
    ALG_LIST,
    ALG_STRAW,
    ALG_STRAW2,
    ALG_TREE,
    ALG_UNIFORM,
    CRUSH_ITEM_NONE,
    OP_CHOOSE_FIRSTN,
    OP_CHOOSE_INDEP,
    OP_CHOOSELEAF_FIRSTN,
    OP_CHOOSELEAF_INDEP,
    OP_EMIT,
    OP_NOOP,
    OP_SET_CHOOSE_LOCAL_FALLBACK_TRIES,
    OP_SET_CHOOSE_LOCAL_TRIES,
    OP_SET_CHOOSE_TRIES,
    OP_SET_CHOOSELEAF_STABLE,
    OP_SET_CHOOSELEAF_TRIES,
    OP_SET_CHOOSELEAF_VARY_R,
    OP_TAKE,
)

__all__ = ["CRUSH_ITEM_NONE", "Bucket", "CrushError", "CrushMap", "Rule", "Tunables"]

RULE_TYPE_REPLICATED = 1
RULE_TYPE_ERASURE = 3

ALG_NAMES = {
    ALG_UNIFORM: "uniform",
    ALG_LIST: "list",
    ALG_TREE: "tree",
    ALG_STRAW: "straw",
    ALG_STRAW2: "straw2",
}
ALG_IDS = {v: k for k, v in ALG_NAMES.items()}

DEFAULT_TYPES = (
    "osd",
    "host",
    "chassis",
    "rack",
    "row",
    "pdu",
    "pod",
    "room",
    "datacenter",
    "zone",
    "region",
    "root",
)

OP_NAMES = {
    OP_NOOP: "noop",
    OP_TAKE: "take",
    OP_EMIT: "emit",
    OP_CHOOSE_FIRSTN: "choose_firstn",
    OP_CHOOSE_INDEP: "choose_indep",
    OP_CHOOSELEAF_FIRSTN: "chooseleaf_firstn",
    OP_CHOOSELEAF_INDEP: "chooseleaf_indep",
    OP_SET_CHOOSE_TRIES: "set_choose_tries",
    OP_SET_CHOOSELEAF_TRIES: "set_chooseleaf_tries",
    OP_SET_CHOOSE_LOCAL_TRIES: "set_choose_local_tries",
    OP_SET_CHOOSE_LOCAL_FALLBACK_TRIES: "set_choose_local_fallback_tries",
    OP_SET_CHOOSELEAF_VARY_R: "set_chooseleaf_vary_r",
    OP_SET_CHOOSELEAF_STABLE: "set_chooseleaf_stable",
}

LEGACY_ALLOWED_BUCKET_ALGS = (1 << ALG_UNIFORM) | (1 << ALG_LIST) | (1 << ALG_STRAW)
HAMMER_ALLOWED_BUCKET_ALGS = LEGACY_ALLOWED_BUCKET_ALGS | (1 << ALG_STRAW2)


class CrushError(ValueError):
    """Invalid CRUSH map operation or input."""


def f32(value: float) -> float:
    """Round a Python float to the nearest IEEE single, as C's float does."""
    return struct.unpack("<f", struct.pack("<f", value))[0]


def weight_to_fixed(weight: float) -> int:
    """Convert a float weight to 16.16 fixed point the way upstream does (float math)."""
    return int(f32(f32(weight) * 65536.0))


def fixed_to_float(weight: int) -> float:
    """16.16 fixed point to float, through a C float like upstream's get_*_weightf."""
    return f32(f32(float(weight)) / 65536.0)


@dataclass
class Tunables:
    """CRUSH tunables; defaults are the jewel/optimal profile Ceph 16 uses."""

    choose_local_tries: int = 0
    choose_local_fallback_tries: int = 0
    choose_total_tries: int = 50
    chooseleaf_descend_once: int = 1
    chooseleaf_vary_r: int = 1
    chooseleaf_stable: int = 1
    straw_calc_version: int = 1
    allowed_bucket_algs: int = HAMMER_ALLOWED_BUCKET_ALGS

    @classmethod
    def legacy(cls) -> Tunables:
        return cls(2, 5, 19, 0, 0, 0, 0, LEGACY_ALLOWED_BUCKET_ALGS)


@dataclass
class Bucket:
    """A CRUSH bucket; weights are 16.16 fixed point, parallel to items."""

    id: int
    name: str
    type_id: int
    alg: int = ALG_STRAW2
    hash: int = 0
    items: list[int] = field(default_factory=list)
    weights: list[int] = field(default_factory=list)
    # alg-specific data kept as decoded (straw lengths, tree node weights)
    straws: list[int] | None = None
    node_weights: list[int] | None = None

    @property
    def weight(self) -> int:
        if self.alg == ALG_UNIFORM and self.weights:
            return (self.weights[0] * len(self.weights)) & 0xFFFFFFFF
        return sum(self.weights) & 0xFFFFFFFF

    @property
    def size(self) -> int:
        return len(self.items)


@dataclass
class Rule:
    """A CRUSH rule: steps are (op, arg1, arg2) triples."""

    id: int
    name: str
    type: int = RULE_TYPE_REPLICATED
    min_size: int = 1
    max_size: int = 10
    steps: list[tuple[int, int, int]] = field(default_factory=list)
    ruleset: int | None = None

    def __post_init__(self) -> None:
        if self.ruleset is None:
            self.ruleset = self.id


class CrushMap:
    """A CRUSH map with upstream semantics; see the module docstring."""

    def __init__(self) -> None:
        self.devices: dict[int, str] = {}
        self.class_map: dict[int, int] = {}
        self.class_name: dict[int, str] = {}
        self.class_bucket: dict[int, dict[int, int]] = {}
        self.types: dict[int, str] = {}
        self.buckets: dict[int, Bucket] = {}
        self.rules: dict[int, Rule] = {}
        self.tunables = Tunables()
        self.max_buckets = 0
        self.max_devices = 0
        self.max_rules = 0
        # choose_args section kept verbatim from a decoded map (not used for mapping)
        self.raw_choose_args = b""
        self._compiled: mapper.Compiled | None = None

    # ------------------------------------------------------------------ basics

    def invalidate(self) -> None:
        """Drop the flattened form used by do_rule; call after editing fields directly."""
        self._compiled = None

    @classmethod
    def new_default(cls, chooseleaf_type: str = "host") -> CrushMap:
        """The map a new cluster starts with: default types, root 'default', replicated_rule."""
        m = cls()
        m.types = dict(enumerate(DEFAULT_TYPES))
        m.add_bucket("default", "root")
        m.add_simple_rule("replicated_rule", "default", chooseleaf_type)
        return m

    def _bucket_slot_grow(self, bid: int) -> None:
        pos = -1 - bid
        while pos >= self.max_buckets:
            self.max_buckets = self.max_buckets * 2 if self.max_buckets else 8

    def _new_bucket_id(self) -> int:
        bid = -1
        while bid in self.buckets or bid in self.devices:
            bid -= 1
        return bid

    def type_id(self, type_name: str) -> int:
        for tid, name in self.types.items():
            if name == type_name:
                return tid
        raise CrushError(f"unknown type '{type_name}'")

    def type_name(self, type_id: int) -> str | None:
        return self.types.get(type_id)

    def insert_bucket(self, bucket: Bucket) -> None:
        """Add a fully formed bucket (used by the compiler and decoder)."""
        if bucket.id in self.buckets:
            raise CrushError(f"Duplicate bucket id {bucket.id}")
        self._bucket_slot_grow(bucket.id)
        if bucket.alg == ALG_UNIFORM and bucket.weights:
            bucket.weights = [bucket.weights[0]] * len(bucket.weights)
        self.buckets[bucket.id] = bucket
        if bucket.alg == ALG_STRAW and bucket.straws is None:
            bucket.straws = calc_straws(bucket.weights, self.tunables.straw_calc_version)
        for item in bucket.items:
            if item >= self.max_devices:
                self.max_devices = item + 1
        self.invalidate()

    def add_bucket(self, name: str, type_name: str, parent_name: str | None = None) -> int:
        """Create an empty straw2 bucket, optionally linked under parent; returns its id."""
        if self.name_exists(name):
            raise CrushError(f"item '{name}' already exists")
        bid = self._new_bucket_id()
        self.insert_bucket(Bucket(bid, name, self.type_id(type_name)))
        if parent_name is not None:
            self._link(self.get_item_id(parent_name), bid, 0)
        return bid

    def add_rule(self, rule: Rule) -> int:
        if rule.id in self.rules:
            raise CrushError(f"rule {rule.id} already exists")
        self.rules[rule.id] = rule
        self.max_rules = max(self.max_rules, rule.id + 1)
        self.invalidate()
        return rule.id

    # ----------------------------------------------------------------- lookups

    def name_exists(self, name: str) -> bool:
        return any(n == name for n in self.devices.values()) or any(
            b.name == name for b in self.buckets.values()
        )

    def get_item_id(self, name: str) -> int:
        """Id of a device or bucket by name; raises KeyError if there is none."""
        for bid, b in self.buckets.items():
            if b.name == name:
                return bid
        for did, n in self.devices.items():
            if n == name:
                return did
        raise KeyError(name)

    def get_item_name(self, item_id: int) -> str | None:
        if item_id < 0:
            b = self.buckets.get(item_id)
            return b.name if b else None
        return self.devices.get(item_id)

    def item_exists(self, item_id: int) -> bool:
        return item_id in self.buckets if item_id < 0 else item_id in self.devices

    def get_bucket_children(self, bucket_id: int) -> list[int]:
        return list(self.buckets[bucket_id].items)

    def get_bucket_weight(self, bucket_id: int) -> int:
        return self.buckets[bucket_id].weight

    def get_item_weight(self, item_id: int) -> int:
        """16.16 weight of an item as recorded in its (first, non-shadow) parent."""
        for b in self.buckets.values():
            if "~" in b.name:
                continue
            for i, it in enumerate(b.items):
                if it == item_id:
                    return b.weights[i]
        return self.buckets[item_id].weight if item_id < 0 and item_id in self.buckets else 0

    def get_parent(self, item_id: int) -> int | None:
        """Id of the first non-shadow bucket containing item, or None."""
        for bid in sorted(self.buckets, reverse=True):
            b = self.buckets[bid]
            if "~" not in b.name and item_id in b.items:
                return bid
        return None

    def get_location(self, item_id: int) -> dict[str, str]:
        """Full location of an item: {type name: bucket name} for each ancestor."""
        loc: dict[str, str] = {}
        cur = self.get_parent(item_id)
        while cur is not None:
            b = self.buckets[cur]
            loc[self.types.get(b.type_id, f"type{b.type_id}")] = b.name
            cur = self.get_parent(cur)
        return loc

    def find_roots(self, include_shadow: bool = False) -> list[int]:
        children = {i for b in self.buckets.values() for i in b.items}
        return sorted(
            bid
            for bid, b in self.buckets.items()
            if bid not in children and (include_shadow or "~" not in b.name)
        )

    def find_rule(self, name: str) -> int:
        """Rule id for name, or -1 when no rule has that name."""
        for rid, r in self.rules.items():
            if r.name == name:
                return rid
        return -1

    def rule_exists(self, rule: int | str) -> bool:
        if isinstance(rule, str):
            return self.find_rule(rule) >= 0
        return rule in self.rules

    def get_class_name(self, class_id: int) -> str | None:
        return self.class_name.get(class_id)

    def get_item_class(self, item_id: int) -> str | None:
        cid = self.class_map.get(item_id)
        return None if cid is None else self.class_name.get(cid)

    def get_or_create_class_id(self, name: str) -> int:
        for cid, n in self.class_name.items():
            if n == name:
                return cid
        cid = 0
        while cid in self.class_name:
            cid += 1
        self.class_name[cid] = name
        return cid

    def set_item_class(self, item_id: int, class_name: str) -> None:
        self.class_map[item_id] = self.get_or_create_class_id(class_name)

    # ---------------------------------------------------------------- builders

    def _link(self, parent: int, child: int, weight: int) -> None:
        b = self.buckets[parent]
        if child in b.items:
            raise CrushError(f"item {child} already in bucket {b.name}")
        b.items.append(child)
        b.weights.append(weight)
        if b.alg == ALG_STRAW:
            b.straws = calc_straws(b.weights, self.tunables.straw_calc_version)
        self._propagate(parent, weight)
        self.invalidate()

    def _propagate(self, bucket_id: int, diff: int) -> None:
        """Add diff to bucket_id's weight in every parent, recursively."""
        if diff == 0:
            return
        for pid, p in self.buckets.items():
            for i, it in enumerate(p.items):
                if it == bucket_id:
                    p.weights[i] += diff
                    if p.alg == ALG_STRAW:
                        p.straws = calc_straws(p.weights, self.tunables.straw_calc_version)
                    self._propagate(pid, diff)

    def add_osd(self, osd_id: int, weight: float, location: dict[str, str]) -> None:
        """Add osd.N at location (type name -> bucket name), creating missing buckets."""
        name = f"osd.{osd_id}"
        if osd_id in self.devices:
            raise CrushError(f"device osd.{osd_id} already exists")
        for b in self.buckets.values():
            if osd_id in b.items:
                raise CrushError(f"device {osd_id} already linked")
        unknown = [t for t in location if t not in self.types.values()]
        if unknown:
            raise CrushError(f"unknown type '{unknown[0]}' in location")
        # Check the whole location before changing anything (upstream insert_item refuses
        # with EINVAL a location naming something that is not a bucket of that type).
        for tid in sorted(self.types):
            bname = location.get(self.types[tid]) if tid else None
            if bname is None:
                continue
            if bname == name:
                raise CrushError(f"item '{bname}' is not a bucket of type {self.types[tid]}")
            if self.name_exists(bname):
                bid = self.get_item_id(bname)
                if bid >= 0 or self.buckets[bid].type_id != tid:
                    raise CrushError(f"item '{bname}' is not a bucket of type {self.types[tid]}")
                break
        self.devices[osd_id] = name
        self.max_devices = max(self.max_devices, osd_id + 1)
        cur = osd_id
        cur_weight = weight_to_fixed(weight)
        for tid in sorted(self.types):
            if tid == 0:
                continue
            tname = self.types[tid]
            if tname not in location:
                continue
            bname = location[tname]
            if self.name_exists(bname):
                bid = self.get_item_id(bname)
                if bid >= 0 or self.buckets[bid].type_id != tid:
                    raise CrushError(f"item '{bname}' is not a bucket of type {tname}")
                self._link(bid, cur, cur_weight)
                break
            bid = self.add_bucket(bname, tname)
            self._link(bid, cur, cur_weight)
            cur = bid
            cur_weight = self.buckets[bid].weight
        self.invalidate()

    def remove_osd(self, osd_id: int) -> None:
        """Unlink osd.N from every bucket and forget its name and class."""
        if osd_id not in self.devices:
            raise KeyError(osd_id)
        for bid, b in list(self.buckets.items()):
            while osd_id in b.items:
                i = b.items.index(osd_id)
                w = b.weights[i]
                del b.items[i]
                del b.weights[i]
                if b.alg == ALG_STRAW:
                    b.straws = calc_straws(b.weights, self.tunables.straw_calc_version)
                self._propagate(bid, -w)
        del self.devices[osd_id]
        self.class_map.pop(osd_id, None)
        self.invalidate()

    def reweight_item(self, name: str, weight: float) -> int:
        """Set an item's weight (in every bucket holding it) and adjust ancestors."""
        item = self.get_item_id(name)
        fixed = weight_to_fixed(weight)
        changed = 0
        for bid, b in list(self.buckets.items()):
            for i, it in enumerate(b.items):
                if it == item:
                    diff = fixed - b.weights[i]
                    b.weights[i] = fixed
                    if b.alg == ALG_STRAW:
                        b.straws = calc_straws(b.weights, self.tunables.straw_calc_version)
                    self._propagate(bid, diff)
                    changed += 1
        self.invalidate()
        return changed

    def add_simple_rule(
        self,
        name: str,
        root: str,
        failure_domain_type: str,
        mode: str = "firstn",
        rule_type: str = "replicated",
    ) -> int:
        """Add a rule like ``osd crush rule create-replicated``/erasure profiles do."""
        if self.find_rule(name) >= 0:
            raise CrushError(f"rule {name} exists")
        if mode not in ("firstn", "indep"):
            raise CrushError(f"unknown mode {mode}")
        if rule_type not in ("replicated", "erasure"):
            raise CrushError(f"unknown rule type {rule_type}")
        root_id = self.get_item_id(root) if self.name_exists(root) else None
        if root_id is None:
            raise CrushError(f"root item {root} does not exist")
        ftype = self.type_id(failure_domain_type) if failure_domain_type else 0
        rid = 0
        while rid in self.rules:
            rid += 1
        steps: list[tuple[int, int, int]] = []
        if mode == "indep":
            steps += [(OP_SET_CHOOSELEAF_TRIES, 5, 0), (OP_SET_CHOOSE_TRIES, 100, 0)]
        steps.append((OP_TAKE, root_id, 0))
        if ftype:
            op = OP_CHOOSELEAF_FIRSTN if mode == "firstn" else OP_CHOOSELEAF_INDEP
        else:
            op = OP_CHOOSE_FIRSTN if mode == "firstn" else OP_CHOOSE_INDEP
        steps += [(op, 0, ftype), (OP_EMIT, 0, 0)]
        rtype = RULE_TYPE_REPLICATED if rule_type == "replicated" else RULE_TYPE_ERASURE
        min_size, max_size = (1, 10) if mode == "firstn" else (3, 20)
        return self.add_rule(Rule(rid, name, rtype, min_size, max_size, steps))

    def remove_rule(self, rule_id: int) -> None:
        del self.rules[rule_id]
        self.invalidate()

    # ----------------------------------------------------------------- mapping

    def compiled(self) -> mapper.Compiled:
        """The flattened form the mapper runs on (rebuilt after any builder call)."""
        c = self._compiled
        if c is not None:
            return c
        c = mapper.Compiled()
        c.max_buckets = self.max_buckets
        c.max_devices = self.max_devices
        c.buckets = [None] * self.max_buckets
        for bid, b in self.buckets.items():
            if b.alg == ALG_LIST:
                aux: Any = tuple(_running_sums(b.weights))
            elif b.alg == ALG_STRAW:
                aux = tuple(b.straws or calc_straws(b.weights, self.tunables.straw_calc_version))
            elif b.alg == ALG_TREE:
                aux = tuple(b.node_weights or tree_node_weights(b.weights))
            else:
                aux = None
            c.buckets[-1 - bid] = mapper.CBucket(bid, b.type_id, b.alg, b.items, b.weights, aux)
        c.rules = [None] * self.max_rules
        for rid, r in self.rules.items():
            c.rules[rid] = tuple(r.steps)
        t = self.tunables
        c.choose_local_tries = t.choose_local_tries
        c.choose_local_fallback_tries = t.choose_local_fallback_tries
        c.choose_total_tries = t.choose_total_tries
        c.chooseleaf_descend_once = t.chooseleaf_descend_once
        c.chooseleaf_vary_r = t.chooseleaf_vary_r
        c.chooseleaf_stable = t.chooseleaf_stable
        self._compiled = c
        return c

    def do_rule(
        self, rule_id: int, x: int, result_max: int, weights: Sequence[int] | None = None
    ) -> list[int]:
        """crush_do_rule: devices for input x (CRUSH_ITEM_NONE marks indep holes).

        weights is the per-device 16.16 reweight vector (0x10000 in, 0 out); by
        default every device below max_devices is fully in.
        """
        c = self._compiled or self.compiled()
        if weights is None:
            weights = _full_weights(c.max_devices)
        return mapper.do_rule(c, rule_id, x, result_max, weights)

    # --------------------------------------------------------------- JSON views

    def _tunables_dump(self) -> dict[str, Any]:
        t = self.tunables
        base = (
            t.choose_local_tries,
            t.choose_local_fallback_tries,
            t.choose_total_tries,
            t.chooseleaf_descend_once,
        )
        optimal = base == (0, 0, 50, 1)
        jewel = optimal and t.chooseleaf_vary_r == 1 and t.chooseleaf_stable == 1
        hammer = (
            optimal
            and t.chooseleaf_vary_r == 1
            and t.chooseleaf_stable == 0
            and t.allowed_bucket_algs == HAMMER_ALLOWED_BUCKET_ALGS
        )
        firefly = (
            optimal
            and t.chooseleaf_vary_r == 1
            and t.chooseleaf_stable == 0
            and t.allowed_bucket_algs == LEGACY_ALLOWED_BUCKET_ALGS
        )
        bobtail = optimal and t.chooseleaf_vary_r == 0 and t.chooseleaf_stable == 0
        legacy = (
            base == (2, 5, 19, 0)
            and t.chooseleaf_vary_r == 0
            and t.chooseleaf_stable == 0
            and t.allowed_bucket_algs == LEGACY_ALLOWED_BUCKET_ALGS
        )
        if jewel:
            profile = "jewel"
        elif hammer:
            profile = "hammer"
        elif firefly:
            profile = "firefly"
        elif bobtail:
            profile = "bobtail"
        elif legacy:
            profile = "argonaut"
        else:
            profile = "unknown"
        ops = {op for r in self.rules.values() for op, _, _ in r.steps}
        v2 = bool(
            ops
            & {OP_CHOOSE_INDEP, OP_CHOOSELEAF_INDEP, OP_SET_CHOOSE_TRIES, OP_SET_CHOOSELEAF_TRIES}
        )
        v3 = OP_SET_CHOOSELEAF_VARY_R in ops
        v5 = OP_SET_CHOOSELEAF_STABLE in ops
        v4 = any(b.alg == ALG_STRAW2 for b in self.buckets.values())
        tun1 = base[:3] != (2, 5, 19)
        tun2 = t.chooseleaf_descend_once != 0
        tun3 = t.chooseleaf_vary_r != 0
        tun5 = t.chooseleaf_stable != 0
        if tun5 or v5:
            minver = "jewel"
        elif v4:
            minver = "hammer"
        elif tun3 or v3:
            minver = "firefly"
        elif tun2 or tun1 or v2:
            minver = "bobtail"
        else:
            minver = "argonaut"
        return {
            "choose_local_tries": t.choose_local_tries,
            "choose_local_fallback_tries": t.choose_local_fallback_tries,
            "choose_total_tries": t.choose_total_tries,
            "chooseleaf_descend_once": t.chooseleaf_descend_once,
            "chooseleaf_vary_r": t.chooseleaf_vary_r,
            "chooseleaf_stable": t.chooseleaf_stable,
            "straw_calc_version": t.straw_calc_version,
            "allowed_bucket_algs": t.allowed_bucket_algs,
            "profile": profile,
            "optimal_tunables": int(jewel),
            "legacy_tunables": int(legacy),
            "minimum_required_version": minver,
            "require_feature_tunables": int(tun1),
            "require_feature_tunables2": int(tun2),
            "has_v2_rules": int(v2),
            "require_feature_tunables3": int(tun3),
            "has_v3_rules": int(v3),
            "has_v4_buckets": int(v4),
            "require_feature_tunables5": int(tun5),
            "has_v5_rules": int(v5),
        }

    def rule_dump(self, rule: int | Rule) -> dict[str, Any]:
        """One rule as ``ceph osd crush rule dump`` shows it."""
        r = rule if isinstance(rule, Rule) else self.rules[rule]
        steps: list[dict[str, Any]] = []
        for op, a1, a2 in r.steps:
            d: dict[str, Any] = {"op": OP_NAMES.get(op, str(op))}
            if op == OP_TAKE:
                d["item"] = a1
                d["item_name"] = self.get_item_name(a1) or ""
            elif op in (
                OP_CHOOSE_FIRSTN,
                OP_CHOOSE_INDEP,
                OP_CHOOSELEAF_FIRSTN,
                OP_CHOOSELEAF_INDEP,
            ):
                d["num"] = a1
                d["type"] = self.types.get(a2, str(a2))
            elif op != OP_EMIT and op != OP_NOOP:
                d["num"] = a1
            steps.append(d)
        return {
            "rule_id": r.id,
            "rule_name": r.name,
            "ruleset": r.ruleset,
            "type": r.type,
            "min_size": r.min_size,
            "max_size": r.max_size,
            "steps": steps,
        }

    def dump(self) -> dict[str, Any]:
        """The whole map as ``ceph osd crush dump`` shows it."""
        devices = []
        for did in sorted(self.devices):
            d: dict[str, Any] = {"id": did, "name": self.devices[did]}
            cls_ = self.get_item_class(did)
            if cls_ is not None:
                d["class"] = cls_
            devices.append(d)
        buckets = []
        for bid in sorted(self.buckets, reverse=True):
            b = self.buckets[bid]
            buckets.append(
                {
                    "id": bid,
                    "name": b.name,
                    "type_id": b.type_id,
                    "type_name": self.types.get(b.type_id, ""),
                    "weight": b.weight,
                    "alg": ALG_NAMES.get(b.alg, str(b.alg)),
                    "hash": "rjenkins1" if b.hash == 0 else str(b.hash),
                    "items": [
                        {"id": it, "weight": w, "pos": pos}
                        for pos, (it, w) in enumerate(zip(b.items, b.weights, strict=True))
                    ],
                }
            )
        return {
            "devices": devices,
            "types": [{"type_id": t, "name": n} for t, n in sorted(self.types.items())],
            "buckets": buckets,
            "rules": [self.rule_dump(self.rules[r]) for r in sorted(self.rules)],
            "tunables": self._tunables_dump(),
            "choose_args": {},
        }

    def tree_items(self) -> list[tuple[int, int, int, int | None]]:
        """Depth-first (id, depth, 16.16 weight, parent) in ``osd tree`` order."""
        out: list[tuple[int, int, int, int | None]] = []

        def sort_key(item: int) -> str:
            if item >= 0:
                return f"{self.get_item_class(item) or ''}_osd.{item:08d}"
            return "_" + (self.get_item_name(item) or "")

        def visit(item: int, depth: int, weight: int, parent: int | None) -> None:
            out.append((item, depth, weight, parent))
            b = self.buckets.get(item)
            if b is None:
                return
            seen: dict[str, tuple[int, int]] = {}
            for it, w in zip(b.items, b.weights, strict=True):
                seen[sort_key(it)] = (it, w)
            for key in sorted(seen):
                it, w = seen[key]
                visit(it, depth + 1, w, item)

        for root in self.find_roots():
            visit(root, 0, self.buckets[root].weight, None)
        return out

    def tree_children(self, bucket_id: int) -> list[int]:
        """Children of a bucket in the order ``osd tree`` JSON lists them."""
        order = [it for it, _, _, parent in self.tree_items() if parent == bucket_id]
        return list(reversed(order))

    def tree_nodes(self) -> list[dict[str, Any]]:
        """``osd tree`` nodes (the monitor adds status, reweight and friends)."""
        nodes: list[dict[str, Any]] = []
        items = self.tree_items()
        children: dict[int, list[int]] = {}
        for it, _, _, parent in items:
            if parent is not None:
                children.setdefault(parent, []).append(it)
        for it, depth, w, _parent in items:
            d: dict[str, Any] = {"id": it}
            cls_ = self.get_item_class(it)
            if cls_ is not None:
                d["device_class"] = cls_
            if it < 0:
                b = self.buckets[it]
                d["name"] = b.name
                d["type"] = self.types.get(b.type_id, "")
                d["type_id"] = b.type_id
                d["children"] = list(reversed(children.get(it, [])))
            else:
                d["name"] = f"osd.{it}"
                d["type"] = self.types.get(0, "osd")
                d["type_id"] = 0
                d["crush_weight"] = fixed_to_float(w)
                d["depth"] = depth
            nodes.append(d)
        return nodes

    # ------------------------------------------------------------ serialization

    def encode(self) -> bytes:
        """Upstream's binary map (what ``crushtool -c x -o map.bin`` writes)."""
        from .binary import encode

        return encode(self)

    @classmethod
    def decode(cls, data: bytes) -> CrushMap:
        """Parse upstream's binary map format."""
        from .binary import decode

        return decode(data)


_FULL_WEIGHTS_CACHE: dict[int, tuple[int, ...]] = {}


def _full_weights(n: int) -> tuple[int, ...]:
    w = _FULL_WEIGHTS_CACHE.get(n)
    if w is None:
        w = _FULL_WEIGHTS_CACHE[n] = (0x10000,) * n
    return w


def _running_sums(weights: Sequence[int]) -> list[int]:
    total = 0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


def tree_node_weights(weights: Sequence[int]) -> list[int]:
    """Node weights of a tree bucket (leaves at odd indices, sums up the tree)."""
    size = len(weights)
    if size == 0:
        return []
    depth = 1
    t = size - 1
    while t:
        t >>= 1
        depth += 1
    num_nodes = 1 << depth
    nodes = [0] * num_nodes
    for i, w in enumerate(weights):
        node = 2 * i + 1
        nodes[node] = w
        for _ in range(1, depth):
            h = (node & -node).bit_length() - 1
            parent = node + (1 << h) if (node >> (h + 1)) & 1 == 0 else node - (1 << h)
            node = parent
            nodes[node] += w
    return nodes


def calc_straws(weights: Sequence[int], straw_calc_version: int) -> list[int]:
    """Straw lengths for a legacy straw bucket (builder.c's crush_calc_straw)."""
    size = len(weights)
    if size == 0:
        return []
    order = sorted(range(size), key=lambda i: weights[i])  # stable like insertion sort
    straws = [0] * size
    numleft = size
    straw = 1.0
    wbelow = 0.0
    lastw = 0.0
    i = 0
    while i < size:
        if straw_calc_version == 0:
            if weights[order[i]] == 0:
                straws[order[i]] = 0
                i += 1
                continue
            straws[order[i]] = int(straw * 0x10000)
            i += 1
            if i == size:
                break
            if weights[order[i]] == weights[order[i - 1]]:
                continue
            wbelow += (weights[order[i - 1]] - lastw) * numleft
            for j in range(i, size):
                if weights[order[j]] == weights[order[i]]:
                    numleft -= 1
                else:
                    break
            wnext = numleft * (weights[order[i]] - weights[order[i - 1]])
            pbelow = wbelow / (wbelow + wnext)
            straw *= (1.0 / pbelow) ** (1.0 / numleft)
            lastw = weights[order[i - 1]]
        else:
            if weights[order[i]] == 0:
                straws[order[i]] = 0
                i += 1
                numleft -= 1
                continue
            straws[order[i]] = int(straw * 0x10000)
            i += 1
            if i == size:
                break
            wbelow += (weights[order[i - 1]] - lastw) * numleft
            numleft -= 1
            wnext = numleft * (weights[order[i]] - weights[order[i - 1]])
            pbelow = wbelow / (wbelow + wnext)
            straw *= (1.0 / pbelow) ** (1.0 / numleft)
            lastw = weights[order[i - 1]]
    return straws
