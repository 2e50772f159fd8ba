"""An interrupted erasure-coded write never costs the previous version (upstream's EC
rollback: ObjectModDesc, PGLog rollback of divergent entries), in the simulator.

k=2, m=1 with min_size = k: one OSD (shard 2) is down, so the PG serves from shards 0
and 1. A write (write_full, a partial overwrite, an append, a delete, an xattr) reaches
the primary's shard 0 (committed to its disk) but never shard 1 (the primary is cut from
it), and the primary crashes. Shard 0 holds the new version,
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

from pyceph.client.op import ObjectOp
from pyceph.common.errors import CephError
from pyceph.osd.ops import load_oi
from pyceph.osd.types import object_key, pg_cid
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster
from pyceph.sim.faults import LinkSpec

SEEDS = seeds()
#: The acknowledged version (several stripes).
OLD = bytes(range(256)) * 40


def _interrupted(kind: str) -> list:
    """The ops of the write that only shard 0 applies."""
    op = ObjectOp()
    if kind == "write_full":
        op.write_full(b"\xa5" * 12288)
    elif kind == "overwrite":
        op.write(5000, b"\x5a" * 3000)
    elif kind == "append":
        op.append(b"\x77" * 9000)
    elif kind == "delete":
        op.remove()
    else:
        op.setxattr("colour", b"blue")
    return op.ops


#: The interrupted writes: one of each kind of rollback data.
KINDS = ["write_full", "overwrite", "append", "delete", "setxattr"]
#: Virtual seconds the interrupted write waits before its client gives up on it.
INTERRUPTED_TIMEOUT = 30.0
#: Bound (virtual seconds) on the read of the old version once the primary is back.
READ_TIMEOUT = 120.0
#: Bound (virtual seconds) on a daemon state change.
STATE_TIMEOUT = 60.0
#: One-way latency (virtual seconds) of the slow primary -> shard 1 link, and how often
#: the test looks at shard 0 meanwhile (well under it).
SLOW_LINK = 1.0
POLL = 0.01


def _osd(c: SimCluster, i: int):
    return c.daemons[f"osd.{i}"].obj


async def _scenario(c: SimCluster, seed: int, kind: str) -> None:
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

    # the next write reaches shard 0 only: its sub-op to shard 1 crawls over a slow link
    # (the read of shard 1 that an overwrite needs first gets through), and the primary
    # crashes once its own shard committed, resetting the link with the sub-op on it
    a, b = f"osd.{primary}", f"osd.{second}"
    c.faults.set_link(a, b, LinkSpec(latency=SLOW_LINK, jitter=0.0))
    store = _osd(c, primary).store
    cid, key = pg_cid(pool, 0, 0), object_key(pool, ("", "obj", ""))
    before = load_oi(store, cid, key).version

    def applied() -> bool:
        oi = load_oi(store, cid, key)
        return oi is None or oi.version > before

    write = asyncio.ensure_future(
        rc.op(pool, "obj", _interrupted(kind), timeout=INTERRUPTED_TIMEOUT)
    )
    await c.wait_until(applied, STATE_TIMEOUT, interval=POLL, what="the write on shard 0")
    lost = await c.crash(a)
    assert lost == 0, f"seed {seed}: the primary lost {lost} un-synced transactions"
    on_1 = load_oi(_osd(c, second).store, pg_cid(pool, 0, 1), key)
    assert on_1 is not None and on_1.version == before, f"seed {seed}: shard 1 got the write"
    c.faults.set_link(a, b, c.faults.default)
    await c.command(rc, "osd down", ids=[str(primary)])
    try:
        r = await write
        assert r.r != 0, f"seed {seed}: the interrupted write was acknowledged: {r}"
    except CephError:
        pass  # timed out: never acknowledged

    await c.restart(f"osd.{primary}")
    await c.wait_until(lambda: c.osdmap().is_up(primary), STATE_TIMEOUT, what=f"osd.{primary} up")
    r = await asyncio.wait_for(_read(rc, pool, "obj"), READ_TIMEOUT)
    assert r.r == 0 and r.outs[0].data == OLD, (
        f"seed {seed}: {kind}: read {r.r}, {len(r.outs[0].data) if r.outs else 0} bytes"
    )
    xattr = ObjectOp()
    xattr.getxattr("colour")
    r = await rc.op(pool, "obj", xattr.ops, timeout=READ_TIMEOUT)
    assert r.r < 0, f"seed {seed}: {kind}: the xattr of the undone write is there: {r}"
    # and the object takes writes again, from the old version
    r = await rc.op(pool, "obj", [("append", {}, b"tail")], timeout=READ_TIMEOUT)
    assert r.r == 0, f"seed {seed}: {r}"
    r = await _read(rc, pool, "obj")
    assert r.r == 0 and r.outs[0].data == OLD + b"tail", f"seed {seed}: after append"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS[:1])
def test_interrupted_ec_write_rolls_back_to_the_acknowledged_version(seed, kind, caplog):
    caplog.set_level(logging.INFO, logger="pyceph.osd.pg")
    with SimCluster(seed, num_osds=3) as c:
        c.run(_scenario(c, seed, kind))
    undone = [r for r in caplog.records if "rolling back" in r.getMessage()]
    assert undone, f"seed {seed}: shard 0 never undid the write"
