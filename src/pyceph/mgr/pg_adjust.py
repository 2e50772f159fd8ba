"""The mgr's pg_num/pgp_num stepping toward a pool's targets (upstream
DaemonServer::adjust_pgs, src/mgr/DaemonServer.cc). Sans-I/O: `adjust_pgs` takes the
OSDMap's pools and the PG statistics and returns the `osd pool set ... pg_num_actual` /
`pgp_num_actual` values to send.

A shrink goes one PG at a time. pgp_num steps down first (bounded by
`target_max_misplaced_ratio`, and only while nothing is inactive, degraded or unknown), so
that the merge source (the last PG) is placed with its target (its parent). Once pgp_num
is below pg_num and both PGs are active+clean on the same acting set, pg_num_actual is
set to pg_num - 1: the monitor lowers pg_num_pending, and lowers pg_num itself when the
OSDs report the two PGs ready (pyceph.osd.merge). Growing pg_num takes effect in the
monitor at once in pyceph (a departure: upstream steps it here too).

pyceph also ignores PG statistics older than the pool's last change (upstream's FIXME:
its checks race the OSDs' reports), so one change settles before the next is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyceph.osd.merge import parent

#: the state a merge's source and target must both be in (upstream PG_STATE_ACTIVE |
#: PG_STATE_CLEAN, other bits allowed)
ACTIVE_CLEAN = frozenset({"active", "clean"})
#: upstream `max_outpace_merges` floor: pgp_num may run this far ahead of pg_num
MIN_OUTPACE_MERGES = 8
#: upstream MAX_NUM_OBJECTS_PER_PG_FOR_LEAP: a pool with no more objects than this per
#: target PG is (virtually) empty, and pgp_num grows to its target at once
MAX_OBJECTS_PER_PG_FOR_LEAP = 1


@dataclass(frozen=True)
class PGStat:
    """What the stepping needs of one PG's statistics."""

    state: str
    acting: tuple[int, ...]
    reported_epoch: int


@dataclass(frozen=True)
class RecoveryRatios:
    """Upstream PGMap::get_recovery_stats: fractions of object copies misplaced and
    degraded, of PGs inactive and unknown."""

    misplaced: float = 0.0
    degraded: float = 0.0
    inactive: float = 0.0
    unknown: float = 0.0


def _active_clean(state: str) -> bool:
    return set(state.split("+")) >= ACTIVE_CLEAN


def _fresh(st: PGStat | None, since: int) -> PGStat | None:
    return st if st is not None and st.reported_epoch >= since else None


def merge_step(pool_id: int, pool: Any, pg_stat: Callable[[int, int], PGStat | None]) -> int | None:
    """The pg_num_actual to set for a pool shrinking toward pg_num_target, or None."""
    pg_num = int(pool.pg_num)
    if int(pool.pg_num_target) >= pg_num or pg_num < 2:
        return None
    if int(pool.pg_num_pending) != pg_num or int(pool.pgp_num) >= pg_num:
        return None  # a merge in progress, or pgp_num not stepped down yet
    since = int(getattr(pool, "last_change", 0))
    src = _fresh(pg_stat(pool_id, pg_num - 1), since)
    tgt = _fresh(pg_stat(pool_id, parent(pg_num - 1)), since)
    if src is None or tgt is None:
        return None
    if not (_active_clean(src.state) and _active_clean(tgt.state)) or src.acting != tgt.acting:
        return None
    return pg_num - 1


def pgp_step(
    pool: Any, ratios: RecoveryRatios, max_misplaced: float, num_objects: int = 0
) -> int | None:
    """The pgp_num_actual to set, or None (upstream: the pgp_num half of adjust_pgs).
    `num_objects`: the pool's objects (an empty pool grows pgp_num at once)."""
    pgp = int(pool.pgp_num)
    pg_num = int(pool.pg_num)
    target = min(int(pool.pg_num_pending), int(pool.pgp_num_target))
    if target == pgp:
        return None
    if target > pgp and pgp == pg_num:
        return None  # an increase waits for pg_num
    if ratios.inactive > 0 or ratios.degraded > 0 or ratios.unknown > 0:
        return None
    if ratios.misplaced > max_misplaced:
        return None
    if target > pgp and num_objects <= MAX_OBJECTS_PER_PG_FOR_LEAP * int(pool.pgp_num_target):
        return target
    room = min(max_misplaced - ratios.misplaced, max_misplaced / 2.0)
    estmax = max(int(pg_num * room), 1)
    nxt = min(max(target, pgp - estmax), pgp + estmax)
    if int(pool.pgp_num_target) == int(pool.pg_num_target) and int(pool.pgp_num_target) < pg_num:
        # pgp_num follows pg_num down: do not run far ahead of the merges
        outpace = max(MIN_OUTPACE_MERGES, int(pg_num * max_misplaced))
        nxt = max(nxt, pg_num - outpace)
    return nxt if nxt != pgp else None


def adjust_pgs(
    pools: Mapping[int, Any],
    pg_stat: Callable[[int, int], PGStat | None],
    ratios: RecoveryRatios,
    max_misplaced: float,
    num_objects: Mapping[int, int] | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """(pg_num_actual, pgp_num_actual) to set, by pool name (`num_objects`: by pool id)."""
    pg_nums: dict[str, int] = {}
    pgp_nums: dict[str, int] = {}
    for pool_id, pool in sorted(pools.items()):
        n = merge_step(pool_id, pool, pg_stat)
        if n is not None:
            pg_nums[pool.pool_name] = n
            continue  # upstream: a pool merging this tick leaves pgp_num alone
        since = int(getattr(pool, "last_change", 0))
        settled = all(
            _fresh(pg_stat(pool_id, ps), since) is not None for ps in range(int(pool.pg_num))
        )
        objects = (num_objects or {}).get(pool_id, 0)
        n = pgp_step(pool, ratios, max_misplaced, objects) if settled else None
        if n is not None:
            pgp_nums[pool.pool_name] = n
    return pg_nums, pgp_nums


def recovery_ratios(pgs: list[dict[str, Any]]) -> RecoveryRatios:
    """From the effective PG statistics (pyceph.mgr.pgmap `pgs()` values)."""
    if not pgs:
        return RecoveryRatios()
    copies = sum(int(d.get("num_object_copies", 0)) for d in pgs)
    degraded = sum(int(d.get("num_objects_degraded", 0)) for d in pgs)
    misplaced = sum(int(d.get("num_objects_misplaced", 0)) for d in pgs)
    states = [str(d.get("state", "unknown")) for d in pgs]
    unknown = sum(1 for s in states if s == "unknown")
    inactive = sum(1 for s in states if s != "unknown" and "active" not in s.split("+"))
    return RecoveryRatios(
        misplaced=misplaced / copies if copies else 0.0,
        degraded=degraded / copies if copies else 0.0,
        inactive=inactive / len(pgs),
        unknown=unknown / len(pgs),
    )


__all__ = [
    "PGStat",
    "RecoveryRatios",
    "adjust_pgs",
    "merge_step",
    "pgp_step",
    "recovery_ratios",
]
