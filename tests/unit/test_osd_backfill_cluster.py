"""Remapped backfill on in-process OSD cores (pyceph.osd.fakes): a returning OSD behind
a trimmed log is a backfill target under a pg_temp of the complete OSDs, refused while
it is above the map's backfillfull_ratio (backfill_toofull), backfilled once it has room,
and the pg_temp goes away."""

from __future__ import annotations

import asyncio

from tests.unit.test_osd_cluster import _write, holders, run
from tests.unit.test_osd_recovery_reserve import _degraded_pg

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.service import OSDOptions

#: Bound on each awaited condition (seconds).
WAIT = 10.0
#: Objects written while a replica is down: more than its log keeps (a backfill).
OBJECTS = 40


def _short_log_cluster() -> InProcCluster:
    """Three OSD cores and one size-3 PG whose log keeps 5 to 10 entries, trimmed at every
    write: a replica away for OBJECTS writes comes back behind it."""
    opts = OSDOptions(
        max_pg_log_entries=10,
        min_pg_log_entries=5,
        pg_log_trim_min=1,
        backfill_retry_interval=0.1,
    )
    return InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)}, opts)


async def _until(pred, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.01)


def test_toofull_target_waits_then_backfills_through_pg_temp():
    async def main():
        c = _short_log_cluster()
        primary, victim = await _degraded_pg(c, OBJECTS)
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
        assert st["num_objects_misplaced"] == OBJECTS and st["num_objects_degraded"] == OBJECTS
        # reads and writes go on meanwhile, on the acting set
        await _write(c, "during", b"d")
        store.capacity = None  # room again: the retry goes through
        await c.wait_clean()
        await _until(lambda: not c.map.pg_temp, "pg_temp removed")
        await c.wait_clean()
        for i in range(OBJECTS):
            assert holders(c, 1, f"o{i}") == {o: b"v%d" % i for o in range(3)}
        assert holders(c, 1, "during") == {o: b"d" for o in range(3)}
        await c.stop()

    run(main())


def test_a_lost_pg_temp_request_goes_again_on_a_new_monitor_session():
    """The primary's MOSDPGTemp is lost with its monitor session and no later map comes to
    make it ask again: the new session resends it (upstream OSD::ms_handle_connect)."""

    async def main():
        c = _short_log_cluster()
        primary, victim = await _degraded_pg(c, OBJECTS)
        c.mon_reachable = False
        await c.revive(victim)  # behind a trimmed log: the primary wants a pg_temp
        pg = c.running[primary].pgs[(1, 0)]
        await _until(lambda: c.lost_by_mon, "the pg_temp request (lost)")
        assert c.lost_by_mon[0][0] == "pg_temp" and not c.map.pg_temp
        assert pg.peering.want_pg_temp
        c.reconnect_mon()
        await _until(lambda: c.map.pg_temp, "the pg_temp, asked again")
        await c.wait_clean()
        await _until(lambda: not c.map.pg_temp, "pg_temp removed")
        for i in range(OBJECTS):
            assert holders(c, 1, f"o{i}") == {o: b"v%d" % i for o in range(3)}
        await c.stop()

    run(main())
