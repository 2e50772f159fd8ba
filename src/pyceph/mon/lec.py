"""How far back the monitor must keep OSD maps: the cluster's lowest last_epoch_clean.

A PG that is not clean may need every map since it last was to rebuild its past
intervals, and an OSD that was away walks every epoch it missed; so the monitor trims only
maps no one can still need (upstream `OSDMonitor::get_trim_to`, 16.2; the
`doc/dev/osd_internals/past_intervals.rst` "OSDMap Trimming" section). Each OSD's beacon
(`MOSDBeacon`, every `osd_beacon_report_interval`) names the PGs it is primary for, the
lowest *effective* last_epoch_clean among them (the current epoch for a clean PG) and the
map epoch it has. The monitor keeps the newest report for each PG of each pool and the
epoch each OSD last reported; the floor is the lowest of them all, and 0 (trim nothing)
while some PG of some pool was never reported. Kept in memory only, as upstream: a
restarted monitor trims nothing until the beacons come in again.

Sans-I/O: `MonState` feeds beacons and map changes in and asks `trim_to`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class PoolLec:
    """The newest last_epoch_clean reported for each PG (by placement seed) of one pool."""

    by_ps: dict[int, int] = field(default_factory=dict)

    def report(self, ps: int, lec: int) -> None:
        """A PG's report; an older report than one already held changes nothing."""
        if lec > self.by_ps.get(ps, 0):
            self.by_ps[ps] = lec

    def floor(self, pg_num: int) -> int:
        """The lowest report among PGs 0..pg_num-1; 0 while any of them is unreported."""
        lowest = None
        for ps in range(pg_num):
            lec = self.by_ps.get(ps, 0)
            if lec == 0:
                return 0
            lowest = lec if lowest is None else min(lowest, lec)
        return lowest or 0


@dataclass
class LastEpochClean:
    """Beacons received: per-pool PG reports and each OSD's reported map epoch."""

    pools: dict[int, PoolLec] = field(default_factory=dict)
    osd_epochs: dict[int, int] = field(default_factory=dict)

    def beacon(self, osd: int, epoch: int, pgs: Iterable[str], min_lec: int) -> None:
        """One OSD beacon (upstream OSDMonitor::prepare_beacon)."""
        self.osd_epochs[osd] = epoch
        for pgid in pgs:
            pool_s, _, ps_s = pgid.partition(".")
            self.pools.setdefault(int(pool_s), PoolLec()).report(int(ps_s, 16), min_lec)

    def forget_osd(self, osd: int) -> None:
        """An OSD marked out by hand no longer holds trimming back (upstream 16.2)."""
        self.osd_epochs.pop(osd, None)

    def floor(self, pg_nums: Mapping[int, int], epoch: int) -> int:
        """The lowest epoch some PG or OSD may still need (`pg_nums`: pool -> pg_num of
        the current map at `epoch`); pools no longer in the map are forgotten."""
        for gone in set(self.pools) - set(pg_nums):
            del self.pools[gone]
        floor = epoch
        for pool, pg_num in pg_nums.items():
            lec = self.pools.get(pool)
            pool_floor = lec.floor(pg_num) if lec is not None else 0
            floor = min(floor, pool_floor)
        return min([floor, *self.osd_epochs.values()])


def trim_to(first: int, last: int, floor: int, min_epochs: int) -> int:
    """The oldest epoch to keep, or 0 to trim nothing: never above `floor`, and at least
    `min_epochs` epochs below `last` kept (`mon_min_osdmap_epochs`)."""
    if floor + min_epochs > last:
        floor = last - min_epochs if min_epochs < last else 0
    return floor if floor > first else 0
