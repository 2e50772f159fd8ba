"""The upmap optimizer: `pg_upmap_items` that even out PGs per OSD (sans-I/O).

Upstream `OSDMap::calc_pg_upmaps` (src/osd/OSDMap.cc), which the balancer module
calls through `mgr_module.OSDMap.calc_pg_upmaps`. The same idea, in a smaller form:

- each OSD under the pools' CRUSH roots gets a target share of the pools' PG
  replicas, proportional to its CRUSH weight times its reweight (up and in OSDs);
- while some OSD deviates from its target by more than `max_deviation` PGs, one PG
  replica moves from the most overfull OSD to the most underfull one that can hold it:
  not already in that PG, under the rule's root, and in a failure domain (the rule's
  choose type) no other replica of the PG uses;
- a move first rewrites an existing item (`a -> over` becomes `a -> under`, or goes
  when `a` is `under`), else adds `over -> under`; each PG moves at most once per
  call, and at most `max_changes` PGs change.

`calc_pg_upmaps(osdmap, pool_ids, max_deviation, max_changes)` works on a copy of the
map and returns the PGs whose items changed (their new item lists) and those whose
items went; the map itself is not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyceph.osdmap.osdmap import OSDMap

__all__ = ["UpmapResult", "calc_pg_upmaps"]

PgKey = tuple[int, int]
#: CRUSH weights are 16.16 fixed point.
WEIGHT_ONE = 0x10000


@dataclass
class UpmapResult:
    """What the optimizer changed: new item lists per PG, and PGs left without items."""

    new_items: dict[PgKey, list[tuple[int, int]]] = field(default_factory=dict)
    removed: set[PgKey] = field(default_factory=set)

    @property
    def num_changed(self) -> int:
        return len(self.new_items) + len(self.removed)


class _Topology:
    """The CRUSH facts one pool's rule needs: OSD weights under its root, failure domains."""

    def __init__(self, crush_dump: dict[str, Any], rule_id: int) -> None:
        buckets = {b["id"]: b for b in crush_dump["buckets"]}
        self.parent: dict[int, int] = {}
        for b in buckets.values():
            for it in b["items"]:
                self.parent.setdefault(it["id"], b["id"])
        self.bucket_type = {bid: b["type_id"] for bid, b in buckets.items()}
        type_ids = {t["name"]: t["type_id"] for t in crush_dump["types"]}
        rule = next((r for r in crush_dump["rules"] if r["rule_id"] == rule_id), None)
        self.root: int | None = None
        self.domain_type = 0
        self.weights: dict[int, float] = {}
        if rule is None:
            return
        for step in rule["steps"]:
            if step["op"] == "take" and self.root is None:
                self.root = step["item"]
            elif step["op"].startswith("choose") and "type" in step:
                self.domain_type = int(type_ids.get(step["type"], 0))
        if self.root is not None and self.root in buckets:
            self._collect(buckets, self.root)

    def _collect(self, buckets: dict[int, Any], bid: int) -> None:
        for it in buckets[bid]["items"]:
            if it["id"] >= 0:
                self.weights[it["id"]] = self.weights.get(it["id"], 0.0) + it["weight"] / WEIGHT_ONE
            elif it["id"] in buckets:
                self._collect(buckets, it["id"])

    def domain(self, osd: int) -> int:
        """The failure-domain bucket holding `osd` (the OSD itself for type osd)."""
        if self.domain_type == 0:
            return osd
        node = osd
        while node in self.parent:
            node = self.parent[node]
            if self.bucket_type.get(node) == self.domain_type:
                return node
        return osd


def _replace(items: list[tuple[int, int]], over: int, under: int) -> list[tuple[int, int]]:
    """The PG's items after moving its replica on `over` to `under`."""
    out: list[tuple[int, int]] = []
    rewritten = False
    for a, b in items:
        if b == over and not rewritten:
            rewritten = True
            if a != under:
                out.append((a, under))
        else:
            out.append((a, b))
    if not rewritten:
        out.append((over, under))
    return out


def calc_pg_upmaps(
    osdmap: OSDMap, pool_ids: list[int], max_deviation: int, max_changes: int
) -> UpmapResult:
    """Upmap items that bring every OSD within `max_deviation` PGs of its target."""
    result = UpmapResult()
    pools = [p for p in pool_ids if p in osdmap.pools]
    if not pools or max_changes <= 0:
        return result
    work = osdmap.copy()
    crush = work.crush.dump()
    topo = {p: _Topology(crush, work.pools[p].crush_rule) for p in pools}
    weights: dict[int, float] = {}
    for t in topo.values():
        for osd, w in t.weights.items():
            info = work.osds.get(osd)
            if info is not None and info.exists and info.up and info.weight > 0:
                weights[osd] = max(weights.get(osd, 0.0), w * info.weightf)
    total_w = sum(weights.values())
    if total_w <= 0:
        return result
    up_of: dict[PgKey, list[int]] = {}
    for pid in pools:
        for ps in range(work.pools[pid].pg_num):
            up_of[(pid, ps)] = work.pg_to_up_acting_osds(pid, ps)[0]
    replicas = sum(len([o for o in up if o in weights]) for up in up_of.values())
    target = {o: replicas * w / total_w for o, w in weights.items()}
    count = dict.fromkeys(weights, 0)
    for up in up_of.values():
        for o in up:
            if o in count:
                count[o] += 1
    original = {k: list(v) for k, v in osdmap.pg_upmap_items.items()}
    changed: set[PgKey] = set()
    stuck: set[PgKey] = set()  # PGs a move did not remap (an item CRUSH ignores)
    while len(changed) < max_changes:
        dev = {o: count[o] - target[o] for o in weights}
        if max(abs(d) for d in dev.values()) <= max_deviation:
            break
        move = _best_move(topo, up_of, dev, changed | stuck)
        if move is None:
            break
        key, over, under = move
        before = work.pg_upmap_items.get(key)
        items = _replace(before or [], over, under)
        _set_items(work, key, items)
        new_up = work.pg_to_up_acting_osds(*key)[0]
        if over in new_up or under not in new_up:
            _set_items(work, key, before or [])
            stuck.add(key)
            continue
        for o in up_of[key]:
            if o in count:
                count[o] -= 1
        for o in new_up:
            if o in count:
                count[o] += 1
        up_of[key] = new_up
        changed.add(key)
    for key in changed:
        now = work.pg_upmap_items.get(key)
        if now == original.get(key):
            continue
        if now:
            result.new_items[key] = list(now)
        elif key in original:
            result.removed.add(key)
    return result


def _set_items(m: OSDMap, key: PgKey, items: list[tuple[int, int]]) -> None:
    if items:
        m.pg_upmap_items[key] = items
    else:
        m.pg_upmap_items.pop(key, None)


def _best_move(
    topo: dict[int, _Topology],
    up_of: dict[PgKey, list[int]],
    dev: dict[int, float],
    skip: set[PgKey],
) -> tuple[PgKey, int, int] | None:
    """(pg, over, under): the first feasible move from the most overfull OSD down;
    each PG moves once per call (`skip`: moved already, or a move did not remap it)."""
    overs = sorted(dev, key=lambda o: (-dev[o], o))
    unders = sorted(dev, key=lambda o: (dev[o], o))
    for over in overs:
        if dev[over] <= 0:
            break
        for key in sorted(k for k, up in up_of.items() if over in up):
            if key in skip:
                continue
            t = topo[key[0]]
            up = up_of[key]
            others = {t.domain(o) for o in up if o != over}
            for under in unders:
                # a move must narrow the gap: over loses one, under gains one
                if dev[over] - dev[under] <= 1:
                    break
                if under in up or under not in t.weights or t.domain(under) in others:
                    continue
                return key, over, under
    return None
