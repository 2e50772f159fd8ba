"""Erasure-coded remapped backfill in the simulator (upstream calc_ec_acting + pg_temp):
`ceph osd out` of a loaded OSD under writers keeps the old acting set serving through a
pg_temp that keeps every shard on its position, while the new OSD backfills the shard of
its position; then the map switches to the up set. Nothing acknowledged is lost, and the
same holds under the model-checking workload with the thrasher on an EC pool.

The PG logs are short so that an OSD joining a PG needs a backfill, not log recovery."""

from __future__ import annotations

import asyncio

import pytest
from tests.sim.test_sim_backfill import BACKFILL_TIMEOUT, OPTIONS, STATIC_OBJECTS, VICTIM, Watcher
from tests.sim.test_sim_backfill import _moved as _all_moved
from tests.sim.test_sim_cluster import _wait_clean
from tests.sim.test_sim_split import OBJECTS, Writers, _read

from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()
#: The erasure-code profile: two data shards and one coding shard, one per OSD.
PROFILE = ["k=2", "m=1", "crush-failure-domain=osd"]
#: upstream CRUSH_ITEM_NONE, a hole in an EC pg_temp
NONE = 0x7FFFFFFF


async def ec_pool(c: SimCluster, rc, name: str = "ec", pg_num: int = 8) -> int:
    """An EC pool (k=2, m=1) that allows partial overwrites, so appends need no alignment."""
    await c.command(rc, "osd erasure-code-profile set", name=f"{name}-profile", profile=PROFILE)
    await c.command(
        rc,
        "osd pool create",
        pool=name,
        pg_num=pg_num,
        pool_type="erasure",
        erasure_code_profile=f"{name}-profile",
    )
    await c.command(rc, "osd pool set", pool=name, var="allow_ec_overwrites", val="true")
    await rc.wait_for_latest_osdmap()
    pool = rc.osdmap.lookup_pool(name)
    assert pool >= 0, f"seed {c.seed}: pool {name} not in the map"
    return pool


def _static(i: int) -> bytes:
    return b"%d|" % i * 64


async def _out_scenario(c: SimCluster, seed: int) -> Watcher:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await ec_pool(c, rc)
    await _wait_clean(c, rc)
    for i in range(STATIC_OBJECTS):  # data the writers do not touch: only backfill moves it
        r = await rc.op(pool, f"s{i}", [("write_full", {}, _static(i))], timeout=120)
        assert r.r == 0, f"seed {seed}: write s{i} -> {r}"
    w = Writers(rc, pool, seed)
    try:
        await asyncio.sleep(5)  # every PG's log trimmed past its first writes
        m = c.osdmap()
        before = {(pool, ps): m.pg_to_up_acting_osds(pool, ps)[0] for ps in range(8)}
        seen = Watcher(c, rc)
        await c.command(rc, "osd out", ids=[str(VICTIM)])
        deadline = c.loop.time() + BACKFILL_TIMEOUT
        await asyncio.sleep(1)
        while not await _all_moved(c, rc):
            assert c.loop.time() < deadline, f"seed {seed}: PGs never moved: {seen.states}"
            await asyncio.sleep(0.5)
        await seen.stop()
    finally:
        await w.stop()
    # the pg_temps kept the out OSD serving its shard on its position
    temps = [(k, t) for k, t in seen.temps if VICTIM in t]
    assert temps, f"seed {seed}: no pg_temp kept osd.{VICTIM}: {seen.temps}"
    for k, t in temps:
        assert len(t) == len(before[k]) and t.index(VICTIM) == before[k].index(VICTIM), (
            f"seed {seed}: pg_temp {t} of {k} moved osd.{VICTIM} from {before[k]}"
        )
    assert any(VICTIM in a and VICTIM not in u for _p, u, a in seen.remapped), (
        f"seed {seed}: no PG served remapped: {seen.states}"
    )
    await _wait_clean(c, rc, timeout=BACKFILL_TIMEOUT)
    assert not c.osdmap().pg_temp, f"seed {seed}: pg_temp left: {c.osdmap().pg_temp}"
    for name in sorted(w.acked):
        r = await _read(rc, pool, name)
        assert r.r == 0 and r.outs[0].data == w.acked[name], f"seed {seed}: {name} differs"
    for i in range(STATIC_OBJECTS):
        r = await _read(rc, pool, f"s{i}")
        assert r.r == 0 and r.outs[0].data == _static(i), f"seed {seed}: s{i} differs"
    assert len(w.acked) == OBJECTS
    store = c.daemons[f"osd.{VICTIM}"].obj.store
    left = [
        cid
        for cid in store.list_collections()
        if cid.startswith(f"{pool}.") and store.collection_list(cid, None, 10)[0]
    ]
    assert not left, f"seed {seed}: osd.{VICTIM} still holds {left}"
    return seen


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_ec_osd_out_backfills_through_pg_temp_keeping_positions(seed):
    with SimCluster(seed, num_osds=4, options=OPTIONS) as c:
        seen = c.run(_out_scenario(c, seed))
    assert any("backfill" in s for s in seen.states), seen.states
