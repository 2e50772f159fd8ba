"""Reservation priorities of log recovery and backfill (upstream `osd/osd_types.h`
OSD_*_PRIORITY_* and `PeeringState::get_recovery_priority` / `get_backfill_priority` /
`clamp_recovery_priority`): PGs whose data is most at risk get their reservations first.

Pure functions over the PG's sizes; the pool's `recovery_priority` option (-10..10)
shifts them within the band of their base.
"""

from __future__ import annotations

OSD_POOL_PRIORITY_MAX = 10
OSD_POOL_PRIORITY_MIN = -OSD_POOL_PRIORITY_MAX
OSD_RECOVERY_PRIORITY_MIN = 0
OSD_BACKFILL_PRIORITY_BASE = 100
OSD_BACKFILL_DEGRADED_PRIORITY_BASE = 140
OSD_RECOVERY_PRIORITY_BASE = 180
OSD_BACKFILL_INACTIVE_PRIORITY_BASE = 220
OSD_RECOVERY_INACTIVE_PRIORITY_BASE = 220
OSD_RECOVERY_PRIORITY_MAX = 253

#: the highest priority each base may reach with the pool's adjustment
_MAX_PRIO = {
    OSD_BACKFILL_PRIORITY_BASE: OSD_BACKFILL_DEGRADED_PRIORITY_BASE - 1,
    OSD_BACKFILL_DEGRADED_PRIORITY_BASE: OSD_RECOVERY_PRIORITY_BASE - 1,
    OSD_RECOVERY_PRIORITY_BASE: OSD_BACKFILL_INACTIVE_PRIORITY_BASE - 1,
    OSD_RECOVERY_INACTIVE_PRIORITY_BASE: OSD_RECOVERY_PRIORITY_MAX,
}


def clamp_priority(prio: int, pool_prio: int, top: int) -> int:
    """`prio` shifted by the pool's priority (its range moved to 0..20), within
    [OSD_RECOVERY_PRIORITY_MIN, top]."""
    pool_prio = min(max(pool_prio, OSD_POOL_PRIORITY_MIN), OSD_POOL_PRIORITY_MAX)
    prio += pool_prio - OSD_POOL_PRIORITY_MIN
    return min(max(prio, OSD_RECOVERY_PRIORITY_MIN), top)


def recovery_priority(min_size: int, avail_no_missing: int, pool_prio: int = 0) -> int:
    """Log recovery: base 180; 220 + the shortfall when fewer than min_size acting
    copies are complete (client I/O waits on it)."""
    base = prio = OSD_RECOVERY_PRIORITY_BASE
    if avail_no_missing < min_size:
        base = OSD_RECOVERY_INACTIVE_PRIORITY_BASE
        prio = base + (min_size - avail_no_missing)
    return clamp_priority(prio, pool_prio, _MAX_PRIO[base])


def backfill_priority(
    size: int, min_size: int, acting: int, degraded: bool, pool_prio: int = 0
) -> int:
    """Backfill: base 100; 140 (+ missing copies when undersized) when degraded;
    220 + the shortfall when the acting set is below min_size."""
    base = prio = OSD_BACKFILL_PRIORITY_BASE
    if acting < min_size:
        base = OSD_BACKFILL_INACTIVE_PRIORITY_BASE
        prio = base + (min_size - acting)
    elif acting < size:
        base = OSD_BACKFILL_DEGRADED_PRIORITY_BASE
        prio = base + (size - acting)
    elif degraded:
        base = prio = OSD_BACKFILL_DEGRADED_PRIORITY_BASE
    return clamp_priority(prio, pool_prio, _MAX_PRIO[base])
