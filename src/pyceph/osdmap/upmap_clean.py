"""Per-epoch upmap cleanup: drop pg_upmap / pg_upmap_items that no longer make sense.

Upstream OSDMonitor::encode_pending calls `OSDMap::clean_pg_upmaps` on the map being
proposed (src/osd/OSDMap.cc `check_pg_upmaps` + `clean_pg_upmaps`, which replaced
luminous' `maybe_remove_pg_upmaps`). pyceph's monitor proposes a whole pending map, so
this is a pure function over that map: `clean_pg_upmaps(pending)` edits the pending
map's upmap tables in place and returns the PGs it touched; the incremental built from
the pending map then carries the removals (`old_pg_upmap*`) like any other change.
`MonState.commit_pending` calls it once per new OSDMap epoch, before the map is encoded.

For each PG with an upmap entry, as upstream:

- the pool is gone, or the PG is past `pg_num_pending` (gone or a merge source):
  both entries go;
- the upmapped OSD list breaks the CRUSH rule (`CrushWrapper::verify_upmap`: two OSDs
  in one failure domain of a chooseleaf step): both go;
- an upmapped OSD is not under the rule's root (gone, or moved out of that CRUSH
  tree), or its CRUSH weight times its reweight is 0 (out): both go;
- a pg_upmap naming an OSD that no longer exists: both go (upstream gets there through
  the rule's weight map once the OSD left CRUSH; pyceph also checks existence, so an OSD
  removed but still in CRUSH counts too);
- a pg_upmap equal to CRUSH's own choice, or not `size` long: both go;
- pg_upmap_items pairs whose source CRUSH no longer picks, or whose target is out,
  (or no longer exists) are dropped; an item list left empty goes.
- a pg_upmap naming an OSD that is out (but exists) stays, as upstream: `_apply_upmap`
  ignores it while the OSD is out and honours it again once the OSD is back in.

Departure: upstream cancels a PG whose upmapped list holds CRUSH_ITEM_NONE (it is in
no rule's weight map); here NONE is skipped by the weight check, so an explicit
`pg-upmap-items A 2147483647` on an erasure-coded pool survives cleanup.
"""

from __future__ import annotations

from pyceph.crush.map import OP_CHOOSELEAF_FIRSTN, OP_CHOOSELEAF_INDEP, OP_TAKE, CrushMap
from pyceph.osdmap.osdmap import CRUSH_ITEM_NONE, OSDMap

__all__ = ["clean_pg_upmaps"]

PgKey = tuple[int, int]
_CHOOSELEAF = (OP_CHOOSELEAF_FIRSTN, OP_CHOOSELEAF_INDEP)


def _rule_weights(crush: CrushMap, rule_id: int) -> dict[int, int]:
    """Upstream get_rule_weight_osd_map: OSDs under the rule's take roots, with their
    16.16 CRUSH weights (summed if an OSD sits under several)."""
    out: dict[int, int] = {}
    rule = crush.rules.get(rule_id)
    if rule is None:
        return out
    stack = [a1 for op, a1, _ in rule.steps if op == OP_TAKE]
    while stack:
        node = stack.pop()
        if node >= 0:
            continue
        b = crush.buckets.get(node)
        if b is None:
            continue
        for item, w in zip(b.items, b.weights, strict=False):
            if item >= 0:
                out[item] = out.get(item, 0) + w
            else:
                stack.append(item)
    return out


def _parent_of_type(crush: CrushMap, osd: int, type_id: int) -> int | None:
    node: int | None = osd
    while node is not None:
        node = crush.get_parent(node)
        if node is not None and crush.buckets[node].type_id == type_id:
            return node
    return None


def _verify_upmap(crush: CrushMap, rule_id: int, up: list[int]) -> bool:
    """Upstream CrushWrapper::verify_upmap's failure-domain check: for each chooseleaf
    step over a bucket type, no two OSDs of `up` share a bucket of that type."""
    rule = crush.rules.get(rule_id)
    if rule is None:
        return False
    for op, _, type_id in rule.steps:
        if op not in _CHOOSELEAF or type_id == 0:
            continue
        seen: set[int] = set()
        for osd in up:
            if osd == CRUSH_ITEM_NONE:
                continue
            parent = _parent_of_type(crush, osd, type_id)
            if parent is None:
                continue  # upstream: unable to get the parent, skipped
            if parent in seen:
                return False
            seen.add(parent)
    return True


def _target_ok(m: OSDMap, osd: int) -> bool:
    """An item target that may stay: CRUSH_ITEM_NONE, or an existing OSD that is in."""
    if osd == CRUSH_ITEM_NONE:
        return True
    return m.exists(osd) and not m.upmap_target_is_out(osd)


def _cancel_reason(m: OSDMap, key: PgKey, weights: dict[int, dict[int, int]]) -> str | None:
    """Why the PG's upmap entries must all go, or None if they may stay."""
    pool = m.pools.get(key[0])
    if pool is None or key[1] >= pool.pg_num_pending:
        return "pg is gone or merge source"
    if any(o != CRUSH_ITEM_NONE and not m.exists(o) for o in m.pg_upmap.get(key, ())):
        return "pg_upmap names an osd that no longer exists"
    raw, up = m.pg_to_raw_upmap(key[0], key[1])
    if not _verify_upmap(m.crush, pool.crush_rule, up):
        return "violates the crush rule's failure domain"
    rule_w = weights.setdefault(pool.crush_rule, _rule_weights(m.crush, pool.crush_rule))
    for osd in up:
        if osd == CRUSH_ITEM_NONE:
            continue
        if osd not in rule_w:
            return f"osd.{osd} is gone or not under the rule's root"
        info = m.osds.get(osd)
        if info is None or info.weight * rule_w[osd] == 0:
            return f"osd.{osd} is out or crush-out"
    whole = m.pg_upmap.get(key)
    if whole is not None and (whole == raw or len(whole) != pool.size):
        return "pg_upmap is redundant or not pool size long"
    return None


def clean_pg_upmaps(m: OSDMap) -> list[PgKey]:
    """Remove or simplify `m`'s invalid upmap entries in place; the PGs changed."""
    weights: dict[int, dict[int, int]] = {}
    touched: list[PgKey] = []
    for key in sorted(set(m.pg_upmap) | set(m.pg_upmap_items)):
        if _cancel_reason(m, key, weights) is not None:
            m.pg_upmap.pop(key, None)
            m.pg_upmap_items.pop(key, None)
            touched.append(key)
            continue
        items = m.pg_upmap_items.get(key)
        if not items:
            continue
        raw, _ = m.pg_to_raw_upmap(key[0], key[1])
        kept = [(a, b) for a, b in items if a in raw and _target_ok(m, b)]
        if kept != items:
            if kept:
                m.pg_upmap_items[key] = kept
            else:
                del m.pg_upmap_items[key]
            touched.append(key)
    return touched
