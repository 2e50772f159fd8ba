"""PG split and merge in the simulator: `osd pool set P pg_num N` under writers (growing,
then shrinking) loses nothing, every object ends up in the collection of the PG it folds
into, and the pool serves throughout."""

from __future__ import annotations

import asyncio

import pytest
from tests.sim.test_sim_cluster import _pool, _wait_clean

from pyceph.osd.split import pg_of
from pyceph.osd.types import key_oid, pg_cid
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster
from pyceph.sim.thrasher import (
    SIM_OPTIONS,
    SIM_THINK,
    SIM_THRASH_INTERVAL,
    SimBackend,
    ThrashConfig,
    Thrasher,
    mon_command,
    setup_pools,
    sim_replica_describer,
)
from pyceph.sim.workload import POOL_SNAPS, SELF_SNAPS, Workload, WorkloadConfig

SEEDS = seeds()
#: Objects the writers cycle through (enough to land in every PG of the grown pool).
OBJECTS = 48
#: pg_num before and after: 8 -> 12 splits half the PGs (a non-power-of-two target), and
#: 12 -> 32 splits again, some children of the first split among the parents.
PG_NUMS = (8, 12, 32)
#: pg_num before and after a shrink: 32 -> 12 merges 20 PGs one at a time (some targets
#: themselves merge later), 12 -> 8 crosses a power of two.
MERGE_PG_NUMS = (32, 12, 8)
#: Stats and mgr ticks faster than the defaults, so the mgr's steps follow each other
#: in a bounded (virtual) time.
MERGE_OPTIONS = {"mgr_stats_period": "1", "mgr_tick_period": "1"}
#: Bound (virtual seconds) on a shrink to reach its target.
SHRINK_TIMEOUT = 900.0


def _read(rc, pool: int, name: str):
    return rc.op(pool, name, [("read", {"offset": 0, "length": 0}, b"")], timeout=120)


class Writers:
    """Appenders, one per object group (appends to one object are never concurrent);
    `acked` is what each object must hold."""

    def __init__(self, rc, pool: int, seed: int, n: int = 4) -> None:
        self.rc, self.pool, self.seed = rc, pool, seed
        self.acked: dict[str, bytes] = {}
        self._stop = asyncio.Event()
        self._tasks = [asyncio.ensure_future(self._run(w)) for w in range(n)]

    async def _run(self, w: int) -> None:
        n = 0
        while not self._stop.is_set():
            name = f"o{(w * 7 + n) % OBJECTS}"
            data = b"%d.%d|" % (w, n) * (1 + n % 9)
            r = await self.rc.op(self.pool, name, [("append", {}, data)], timeout=120)
            assert r.r == 0, f"seed {self.seed}: append {name} -> {r}"
            self.acked[name] = self.acked.get(name, b"") + data
            n += 1
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def _check(c: SimCluster, rc, pool: int, acked: dict[str, bytes], pg_num: int) -> None:
    """Everything acknowledged reads back, lists, and sits in the PG it folds into."""
    seed = c.seed
    st = await _wait_clean(c, rc, timeout=300)
    assert st["pgmap"]["num_pgs"] == pg_num, f"seed {seed}: {st['pgmap']}"
    for name in sorted(acked):
        r = await _read(rc, pool, name)
        assert r.r == 0 and r.outs[0].data == acked[name], f"seed {seed}: {name} differs"
    listed = set()
    async for _ns, name, _key in rc.objecter.list_objects(pool, None):
        listed.add(name)
    assert listed == set(acked), f"seed {seed}: listing {sorted(listed ^ set(acked))}"
    for i in range(c.num_osds):
        store = c.daemons[f"osd.{i}"].obj.store
        for cid in store.list_collections():
            if not cid.startswith(f"{pool}."):
                continue
            ps = int(cid.split(".")[1].split("_")[0], 16)
            assert cid == pg_cid(pool, ps) and ps < pg_num, f"seed {seed}: osd.{i} has {cid}"
            keys, _ = store.collection_list(cid, None, 10_000)
            wrong = [k.name for k in keys if pg_of(key_oid(k), pg_num) != ps]
            assert not wrong, f"seed {seed}: osd.{i} {cid} holds {wrong}"


async def _split_scenario(c: SimCluster, seed: int) -> None:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await _pool(c, rc, pg_num=PG_NUMS[0])
    await _wait_clean(c, rc)
    w = Writers(rc, pool, seed)
    try:
        for pg_num in PG_NUMS[1:]:
            await asyncio.sleep(2)
            await c.command(rc, "osd pool set", pool="p", var="pg_num", val=str(pg_num))
            await asyncio.sleep(3)
    finally:
        await w.stop()
    await _check(c, rc, pool, w.acked, PG_NUMS[-1])


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_split_under_writers_loses_nothing(seed):
    with SimCluster(seed) as c:
        c.run(_split_scenario(c, seed))


async def _merge_scenario(c: SimCluster, seed: int) -> list[int]:
    """Shrink 32 -> 12 -> 8 under writers; returns the pg_nums the pool went through."""
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await _pool(c, rc, pg_num=MERGE_PG_NUMS[0])
    await _wait_clean(c, rc)
    seen = [MERGE_PG_NUMS[0]]
    w = Writers(rc, pool, seed)
    try:
        for target in MERGE_PG_NUMS[1:]:
            await asyncio.sleep(2)
            await c.command(rc, "osd pool set", pool="p", var="pg_num", val=str(target))

            def reached(target: int = target) -> bool:
                n = c.osdmap().pools[pool].pg_num
                if n != seen[-1]:
                    seen.append(n)
                return n == target

            await c.wait_until(reached, SHRINK_TIMEOUT, what=f"pg_num {target}")
    finally:
        await w.stop()
    p = c.osdmap().pools[pool]
    assert (p.pg_num, p.pgp_num, p.pg_num_target, p.pg_num_pending) == (8, 8, 8, 8), seed
    await _check(c, rc, pool, w.acked, MERGE_PG_NUMS[-1])
    return seen


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_merge_under_writers_loses_nothing(seed):
    with SimCluster(seed, options=MERGE_OPTIONS) as c:
        seen = c.run(_merge_scenario(c, seed))
    # one PG at a time, never back up
    assert seen == list(range(MERGE_PG_NUMS[0], MERGE_PG_NUMS[-1] - 1, -1)), seen


#: The model-checking workload's pools grow to MODEL_PG_NUMS[0] (a split, at once), then
#: shrink to MODEL_PG_NUMS[1] under the workload: 13 merges each.
MODEL_PG_NUMS = (16, 3)
#: Upper bound on the workload's ops (it stops when the shrink is done).
MODEL_MAX_OPS = 100_000


async def _model_merge_scenario(c: SimCluster, thrash: bool) -> dict[str, int]:
    """The model-checking workload (pool and self-managed snapshots, xattrs, omap,
    watches) on two pools while both shrink (MODEL_PG_NUMS), optionally with the thrasher
    killing, cutting off and marking out OSDs; then heal and check every object at every
    snapshot. Returns what the thrasher did while the pools shrank."""
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()

    async def command(prefix: str, **args):
        return await mon_command(rc, prefix, **args)

    ids = await setup_pools(command, rc, [POOL_SNAPS, SELF_SNAPS])
    for name in ids:
        await command("osd pool set", pool=name, var="pg_num", val=str(MODEL_PG_NUMS[0]))
    tcfg = ThrashConfig(min_interval=SIM_THRASH_INTERVAL[0],
                        max_interval=SIM_THRASH_INTERVAL[1], max_down=1, max_out=1)  # fmt: skip
    th = Thrasher(SimBackend(c, rc), c.rand.fork("thrasher"), tcfg)
    await th.wait_healthy()
    cfg = WorkloadConfig(think=SIM_THINK, op_timeout=90.0)
    wl = Workload(rc, ids, c.rand.fork("workload"), cfg, describe_replicas=sim_replica_describer(c))
    await wl.setup()
    stop = asyncio.Event()
    run = asyncio.ensure_future(wl.run(MODEL_MAX_OPS, stop))
    if thrash:
        th.start()
    try:
        await asyncio.sleep(5)  # the workload (and the thrasher) under way
        target = MODEL_PG_NUMS[1]
        for name in ids:
            await command("osd pool set", pool=name, var="pg_num", val=str(target))

        def shrunk() -> bool:
            return all(c.osdmap().pools[i].pg_num == target for i in ids.values())

        await c.wait_until(shrunk, SHRINK_TIMEOUT, what=f"pg_num {target}")
        acted = dict(th.counts)
    finally:
        stop.set()
        st = await run
        if thrash:
            await th.stop_and_heal()
    await th.wait_healthy()
    await wl.verify_all()
    await wl.close()
    assert st.total() > 0 and st.reads_checked > 0, st
    return acted


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_merge_under_the_model_checker(seed):
    with SimCluster(seed, num_osds=4, options={**SIM_OPTIONS, **MERGE_OPTIONS}) as c:
        c.run(_model_merge_scenario(c, thrash=False))


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_merge_under_the_model_checker_and_the_thrasher(seed):
    with SimCluster(seed, num_osds=4, options={**SIM_OPTIONS, **MERGE_OPTIONS}) as c:
        acted = c.run(_model_merge_scenario(c, thrash=True))
    assert acted.get("kill", 0) + acted.get("isolate", 0) > 0, f"seed {seed}: {acted}"
