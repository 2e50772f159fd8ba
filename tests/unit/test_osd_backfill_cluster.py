"""Remapped backfill on in-process OSD cores (pyceph.osd.fakes): a returning OSD behind
a trimmed log is a backfill target under a pg_temp of the complete OSDs, refused while
it is above the map's backfillfull_ratio (backfill_toofull), backfilled once it has room,
and the pg_temp goes away."""

from __future__ import annotations

import asyncio

from tests.unit.test_osd_cluster import _write, holders, run

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.service import OSDOptions

#: Bound on each awaited condition (seconds).
WAIT = 10.0


async def _until(pred, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.01)


def test_toofull_target_waits_then_backfills_through_pg_temp():
    async def main():
        opts = OSDOptions(max_pg_log_entries=10, min_pg_log_entries=5, backfill_retry_interval=0.1)
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)}, opts)
        await c.start()
        await c.wait_clean()
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        victim = [o for o in acting if o != primary][0]
        await c.kill(victim)
        await c.wait_active()
        for i in range(40):
            await _write(c, f"o{i}", b"v%d" % i)
        # the victim comes back nearly full for its map's backfillfull_ratio
        store = c.stores[victim]
        store.capacity = store.statfs()["used"] + (64 << 10)
        c.map.backfillfull_ratio = 0.01
        await c.revive(victim)
        pg = c.running[primary].pgs[(1, 0)]
        await _until(lambda: "backfill_toofull" in pg.pg_stats()["state"], "backfill_toofull")
        st = pg.pg_stats()
        assert st["state"].startswith("active+") and "remapped" in st["state"]
        assert victim not in st["acting"] and victim in st["up"]
        assert c.map.pg_temp[(1, 0)] == st["acting"]
        # the acting set is short of size: each copy it lacks counts as degraded (upstream)
        assert st["num_objects_misplaced"] == 40 and st["num_objects_degraded"] == 40
        # reads and writes go on meanwhile, on the acting set
        await _write(c, "during", b"d")
        store.capacity = None  # room again: the retry goes through
        await c.wait_clean()
        await _until(lambda: not c.map.pg_temp, "pg_temp removed")
        await c.wait_clean()
        for i in range(40):
            assert holders(c, 1, f"o{i}") == {o: b"v%d" % i for o in range(3)}
        assert holders(c, 1, "during") == {o: b"d" for o in range(3)}
        await c.stop()

    run(main())
