"""An interrupted erasure-coded write never costs the previous version (upstream's EC
rollback: ObjectModDesc, PGLog rollback of divergent entries), in the simulator.

k=2, m=1 with min_size = k: one OSD (shard 2) is down, so the PG serves from shards 0
and 1. A write_full reaches the primary's shard 0 (committed to its disk) but never shard
1 (the primary is cut from it), and the primary crashes. Shard 0 holds the new version,
shard 1 the old one: no version has k shards. When the primary returns, peering picks
the older log and shard 0 undoes the write with its rollback data, so the acknowledged
version reads back whole. Without rollback data the object would be unfound (shard 0
can only be rebuilt from k shards of the old version, and one of them is down)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tests.sim.test_sim_cluster import _wait_clean
from tests.sim.test_sim_ec_backfill import ec_pool
from tests.sim.test_sim_split import _read

from pyceph.common.errors import CephError
from pyceph.osd.ops import load_oi
from pyceph.osd.types import object_key, pg_cid
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()
#: The acknowledged version and the interrupted one (several stripes each).
OLD = bytes(range(256)) * 40
NEW = b"\xa5" * 12288
#: Virtual seconds the interrupted write waits before its client gives up on it.
INTERRUPTED_TIMEOUT = 30.0
#: Bound (virtual seconds) on the read of the old version once the primary is back.
READ_TIMEOUT = 120.0
#: Bound (virtual seconds) on a daemon state change.
STATE_TIMEOUT = 60.0


def _osd(c: SimCluster, i: int):
    return c.daemons[f"osd.{i}"].obj


async def _scenario(c: SimCluster, seed: int) -> None:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await ec_pool(c, rc, pg_num=1)
    await c.command(rc, "osd pool set", pool="ec", var="min_size", val="2")
    await _wait_clean(c, rc)
    r = await rc.op(pool, "obj", [("write_full", {}, OLD)], timeout=READ_TIMEOUT)
    assert r.r == 0, f"seed {seed}: {r}"
    acting = c.osdmap().pg_to_up_acting_osds(pool, 0)[2]
    primary, second, third = acting  # shard i on acting[i]
    # shard 2 goes away: the PG serves (undersized) from shards 0 and 1
    await c.crash(f"osd.{third}")
    await c.command(rc, "osd down", ids=[str(third)])
    await c.wait_until(lambda: not c.osdmap().is_up(third), STATE_TIMEOUT, what=f"osd.{third} down")
    r = await rc.op(pool, "obj", [("write_full", {}, OLD)], timeout=READ_TIMEOUT)
    assert r.r == 0, f"seed {seed}: rewrite with two shards -> {r}"

    # the next write reaches shard 0 only
    c.partition(f"osd.{primary}", f"osd.{second}")
    store = _osd(c, primary).store
    cid, key = pg_cid(pool, 0, 0), object_key(pool, ("", "obj", ""))
    before = load_oi(store, cid, key).version
    write = asyncio.ensure_future(
        rc.op(pool, "obj", [("write_full", {}, NEW)], timeout=INTERRUPTED_TIMEOUT)
    )
    await c.wait_until(
        lambda: load_oi(store, cid, key).version > before,
        STATE_TIMEOUT,
        what="the write applied on shard 0",
    )
    lost = await c.crash(f"osd.{primary}")
    assert lost == 0, f"seed {seed}: the primary lost {lost} un-synced transactions"
    await c.command(rc, "osd down", ids=[str(primary)])
    c.heal()
    try:
        r = await write
        assert r.r != 0, f"seed {seed}: the interrupted write was acknowledged: {r}"
    except CephError:
        pass  # timed out: never acknowledged

    await c.restart(f"osd.{primary}")
    await c.wait_until(lambda: c.osdmap().is_up(primary), STATE_TIMEOUT, what=f"osd.{primary} up")
    r = await asyncio.wait_for(_read(rc, pool, "obj"), READ_TIMEOUT)
    assert r.r == 0 and r.outs[0].data == OLD, (
        f"seed {seed}: read {r.r}, {len(r.outs[0].data) if r.outs else 0} bytes"
    )
    # and the object takes writes again, from the old version
    r = await rc.op(pool, "obj", [("append", {}, b"tail")], timeout=READ_TIMEOUT)
    assert r.r == 0, f"seed {seed}: {r}"
    r = await _read(rc, pool, "obj")
    assert r.r == 0 and r.outs[0].data == OLD + b"tail", f"seed {seed}: after append"


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_interrupted_ec_write_rolls_back_to_the_acknowledged_version(seed, caplog):
    caplog.set_level(logging.INFO, logger="pyceph.osd.pg")
    with SimCluster(seed, num_osds=3) as c:
        c.run(_scenario(c, seed))
    undone = [r for r in caplog.records if "rolling back" in r.getMessage()]
    assert undone, f"seed {seed}: shard 0 never undid the write"
