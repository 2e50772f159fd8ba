"""Log recovery behind reservations on in-process OSD cores (pyceph.osd.fakes), as
upstream's WaitLocal/RemoteRecoveryReserved: a PG with missing objects shows
recovery_wait until its primary holds a local and each replica a remote slot of the
reservers it shares with backfill; a higher priority preempts a preemptible holder;
osd_max_backfills changed at runtime grants the waiters at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from tests.unit.test_osd_cluster import _write, holders, run

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.recovery_prio import OSD_BACKFILL_PRIORITY_BASE, OSD_RECOVERY_PRIORITY_MAX
from pyceph.osd.service import OSDOptions

#: Bound on each awaited condition (seconds).
WAIT = 10.0
#: objects written while a replica is down (within the log: log-based recovery)
N = 5


async def _until(pred, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.01)


async def _degraded_pg(c: InProcCluster, n: int = N) -> tuple[int, int]:
    """Kill a replica of PG 1.0 and write `n` objects `o<i>` = `v<i>` without it; the PG's
    primary and the dead replica (the caller revives it)."""
    await c.start()
    await c.wait_clean()
    _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
    victim = [o for o in acting if o != primary][0]
    await c.kill(victim)
    await c.wait_active()
    for i in range(n):
        await _write(c, f"o{i}", b"v%d" % i)
    return primary, victim


def _state(c: InProcCluster, primary: int) -> str:
    return c.running[primary].pgs[(1, 0)].pg_stats()["state"]


def _cluster(**kw) -> InProcCluster:
    return InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)}, OSDOptions(**kw))


def test_recovery_waits_for_a_local_slot_then_recovers():
    async def main():
        c = _cluster()
        primary, victim = await _degraded_pg(c)
        osd = c.running[primary]
        # another PG holds the primary's only slot (not preemptible, any priority)
        await osd.local_reserver.reserve("other", OSD_RECOVERY_PRIORITY_MAX)
        await c.revive(victim)
        await _until(lambda: "recovery_wait" in _state(c, primary), "recovery_wait")
        assert _state(c, primary) == "active+recovery_wait+degraded"
        st = osd.pgs[(1, 0)].pg_stats()
        assert st["num_objects_degraded"] == N
        osd.local_reserver.release("other")
        await c.wait_clean()
        assert not osd.local_reserver.holds("1.0")
        for i in range(N):
            assert holders(c, 1, f"o{i}") == {o: b"v%d" % i for o in range(3)}
        await c.stop()

    run(main())


def test_recovery_waits_for_the_replicas_remote_slot():
    async def main():
        c = _cluster()
        primary, victim = await _degraded_pg(c)
        await c.revive(victim)
        rep = c.running[victim]
        await rep.remote_reserver.reserve("other", OSD_RECOVERY_PRIORITY_MAX)
        # the revived replica's slot is taken: the primary holds its local one and waits
        await _until(lambda: "recovery_wait" in _state(c, primary), "recovery_wait")
        await _until(lambda: c.running[primary].local_reserver.holds("1.0"), "local slot")
        assert _state(c, primary) == "active+recovery_wait+degraded"
        rep.remote_reserver.release("other")
        await c.wait_clean()
        # every slot went back once recovered
        for o in range(3):
            assert not c.running[o].local_reserver.r.granted
            assert not c.running[o].remote_reserver.r.granted
        await c.stop()

    run(main())


def test_recovery_preempts_a_lower_priority_backfill():
    async def main():
        c = _cluster()
        primary, victim = await _degraded_pg(c)
        osd = c.running[primary]
        preempted = asyncio.Event()
        await osd.local_reserver.reserve("backfill", OSD_BACKFILL_PRIORITY_BASE, preempted.set)
        await c.revive(victim)
        await asyncio.wait_for(preempted.wait(), WAIT)
        await c.wait_clean()
        assert not osd.local_reserver.holds("backfill")
        await c.stop()

    run(main())


def test_max_backfills_raised_at_runtime_grants_the_waiter():
    async def main():
        c = _cluster(max_backfills=1)
        primary, victim = await _degraded_pg(c)
        osd = c.running[primary]
        await osd.local_reserver.reserve("other", OSD_RECOVERY_PRIORITY_MAX)
        await c.revive(victim)
        await _until(lambda: "recovery_wait" in _state(c, primary), "recovery_wait")
        osd.set_options(replace(osd.opts, max_backfills=2))
        await c.wait_clean()
        assert osd.local_reserver.holds("other") and osd.local_reserver.slots == 2
        await c.stop()

    run(main())


def test_recovering_state_and_recovery_sleep_changed_at_runtime():
    async def main():
        c = _cluster(recovery_sleep=0.2)  # osd_recovery_sleep: a pause after each object
        primary, victim = await _degraded_pg(c)
        osd = c.running[primary]
        await c.revive(victim)
        await _until(lambda: "recovering" in _state(c, primary), "recovering")
        assert _state(c, primary) == "active+recovering+degraded"
        assert osd.local_reserver.holds("1.0") and c.running[victim].remote_reserver.holds("1.0")
        osd.set_options(replace(osd.opts, recovery_sleep=0.0))
        await c.wait_clean()
        assert osd.pgs[(1, 0)].pg_stats()["state"] == "active+clean"
        await c.stop()

    run(main())


def test_a_replica_revokes_its_slot_for_a_higher_priority():
    async def main():
        c = _cluster(recovery_sleep=0.2)
        primary, victim = await _degraded_pg(c)
        await c.revive(victim)
        await _until(lambda: "recovering" in _state(c, primary), "recovering")
        rep = c.running[victim].remote_reserver
        urgent = asyncio.ensure_future(rep.reserve("urgent", OSD_RECOVERY_PRIORITY_MAX))
        await asyncio.wait_for(urgent, WAIT)  # our PG (priority 190) was preempted there
        # the primary hears the revoke, stops between objects and queues again
        await _until(lambda: "recovery_wait" in _state(c, primary), "recovery_wait again")
        assert _state(c, primary) == "active+recovery_wait+degraded"
        rep.release("urgent")
        await c.wait_clean()
        for i in range(N):
            assert holders(c, 1, f"o{i}") == {o: b"v%d" % i for o in range(3)}
        await c.stop()

    run(main())
