"""PG split in the simulator: `osd pool set P pg_num N` under writers loses nothing, every
object ends up in the collection of the PG it folds into, and the pool serves throughout."""

from __future__ import annotations

import asyncio

import pytest
from tests.sim.test_sim_cluster import _pool, _wait_clean

from pyceph.osd.split import pg_of
from pyceph.osd.types import key_oid, pg_cid
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()
#: Objects the writers cycle through (enough to land in every PG of the grown pool).
OBJECTS = 48
#: pg_num before and after: 8 -> 12 splits half the PGs (a non-power-of-two target), and
#: 12 -> 32 splits again, some children of the first split among the parents.
PG_NUMS = (8, 12, 32)


def _read(rc, pool: int, name: str):
    return rc.op(pool, name, [("read", {"offset": 0, "length": 0}, b"")], timeout=120)


async def _split_scenario(c: SimCluster, seed: int) -> None:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await _pool(c, rc, pg_num=PG_NUMS[0])
    await _wait_clean(c, rc)
    acked: dict[str, bytes] = {}
    stop = asyncio.Event()

    async def writer(w: int) -> None:
        n = 0
        while not stop.is_set():
            name = f"o{(w * 7 + n) % OBJECTS}"
            data = b"%d.%d|" % (w, n) * (1 + n % 9)
            r = await rc.op(pool, name, [("append", {}, data)], timeout=120)
            assert r.r == 0, f"seed {seed}: append {name} -> {r}"
            acked[name] = acked.get(name, b"") + data
            n += 1
            await asyncio.sleep(0.02)

    # one writer per object group, so appends to one object are never concurrent
    writers = [asyncio.ensure_future(writer(w)) for w in range(4)]
    try:
        for pg_num in PG_NUMS[1:]:
            await asyncio.sleep(2)
            await c.command(rc, "osd pool set", pool="p", var="pg_num", val=str(pg_num))
            await asyncio.sleep(3)
    finally:
        stop.set()
        await asyncio.gather(*writers)
    st = await _wait_clean(c, rc, timeout=300)
    assert st["pgmap"]["num_pgs"] == PG_NUMS[-1], f"seed {seed}: {st['pgmap']}"
    for name in sorted(acked):
        r = await _read(rc, pool, name)
        assert r.r == 0 and r.outs[0].data == acked[name], f"seed {seed}: {name} differs"
    listed = set()
    async for _ns, name, _key in rc.objecter.list_objects(pool, None):
        listed.add(name)
    assert listed == set(acked), f"seed {seed}: listing {sorted(listed ^ set(acked))}"
    # every OSD keeps each object in the collection of the PG it folds into
    for i in range(3):
        store = c.daemons[f"osd.{i}"].obj.store
        for cid in store.list_collections():
            if not cid.startswith(f"{pool}."):
                continue
            ps = int(cid.split(".")[1].split("_")[0], 16)
            assert cid == pg_cid(pool, ps), cid
            keys, _ = store.collection_list(cid, None, 10_000)
            wrong = [k.name for k in keys if pg_of(key_oid(k), PG_NUMS[-1]) != ps]
            assert not wrong, f"seed {seed}: osd.{i} {cid} holds {wrong}"


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_split_under_writers_loses_nothing(seed):
    with SimCluster(seed) as c:
        c.run(_split_scenario(c, seed))
