"""Erasure-coded PG merges in the simulator: `osd pool set P pg_num 4` on an EC pool
(k=2, m=1) of 8 PGs under writers. The mgr lowers pgp_num first (PGs remap: their
shards move through pg_temps that keep positions), then merges one PG at a time once
source and target are clean on the same acting set, so every OSD folds each shard into
the same shard of the target (upstream ready_to_merge). Nothing acknowledged is lost,
and every shard collection left holds only objects of its PG."""

from __future__ import annotations

import pytest
from tests.sim.test_sim_cluster import _wait_clean
from tests.sim.test_sim_ec_backfill import ec_pool
from tests.sim.test_sim_split import MERGE_OPTIONS, SHRINK_TIMEOUT, Writers, _read

from pyceph.osd.split import pg_of
from pyceph.osd.types import key_oid
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()
#: pg_num before and after the shrink: four merges, one PG at a time.
PG_NUMS = (8, 4)
#: OSDs: one more than k+m, so the pgp_num steps move shards between OSDs.
NUM_OSDS = 4
#: Bound (virtual seconds) on the PGs to be clean after the shrink.
CLEAN_TIMEOUT = 300.0


async def _merge_scenario(c: SimCluster, seed: int) -> list[int]:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await ec_pool(c, rc, pg_num=PG_NUMS[0])
    await _wait_clean(c, rc)
    seen = [PG_NUMS[0]]
    w = Writers(rc, pool, seed)
    try:
        await c.command(rc, "osd pool set", pool="ec", var="pg_num", val=str(PG_NUMS[1]))

        def reached() -> bool:
            n = c.osdmap().pools[pool].pg_num
            if n != seen[-1]:
                seen.append(n)
            return n == PG_NUMS[1]

        await c.wait_until(reached, SHRINK_TIMEOUT, what=f"pg_num {PG_NUMS[1]}")
    finally:
        await w.stop()
    p = c.osdmap().pools[pool]
    assert (p.pg_num, p.pgp_num, p.pg_num_target, p.pg_num_pending) == (4, 4, 4, 4), seed
    st = await _wait_clean(c, rc, timeout=CLEAN_TIMEOUT)
    assert st["pgmap"]["num_pgs"] == PG_NUMS[1], f"seed {seed}: {st['pgmap']}"
    for name in sorted(w.acked):
        r = await _read(rc, pool, name)
        assert r.r == 0 and r.outs[0].data == w.acked[name], f"seed {seed}: {name} differs"
    listed = set()
    async for _ns, name, _key in rc.objecter.list_objects(pool, None):
        listed.add(name)
    assert listed == set(w.acked), f"seed {seed}: listing {sorted(listed ^ set(w.acked))}"
    for i in range(c.num_osds):
        store = c.daemons[f"osd.{i}"].obj.store
        for cid in store.list_collections():
            if not cid.startswith(f"{pool}."):
                continue
            ps = int(cid.split(".")[1].split("s")[0], 16)
            assert ps < PG_NUMS[1], f"seed {seed}: osd.{i} still has {cid}"
            keys, _ = store.collection_list(cid, None, 10_000)
            wrong = [k.name for k in keys if pg_of(key_oid(k), PG_NUMS[1]) != ps]
            assert not wrong, f"seed {seed}: osd.{i} {cid} holds {wrong}"
    return seen


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_ec_merge_under_writers_loses_nothing(seed):
    with SimCluster(seed, num_osds=NUM_OSDS, options=MERGE_OPTIONS) as c:
        seen = c.run(_merge_scenario(c, seed))
    assert seen == list(range(PG_NUMS[0], PG_NUMS[1] - 1, -1)), seen  # one PG at a time
