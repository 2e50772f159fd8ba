"""Retiring an OSD in the simulator (issue 9 item 2): a loaded OSD is stopped, marked
out, found safe to destroy once its PGs are active+clean elsewhere, and purged through
the mgr (`osd purge N --yes-i-really-mean-it`): it leaves the OSDMap, CRUSH and auth, and
every PG stays active+clean with the data intact, for each seed."""

from __future__ import annotations

import asyncio
import errno
import json

import pytest
from tests.sim.test_sim_cluster import _pool, _wait_clean
from tests.sim.test_sim_split import _read

from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()
#: Short PG logs, so the PGs that lose the OSD backfill a new member.
OPTIONS = {"osd_min_pg_log_entries": "4", "osd_max_pg_log_entries": "8",
           "osd_pg_log_trim_min": "1", "mgr_stats_period": "1"}  # fmt: skip
OBJECTS = 60
VICTIM = 1
#: Bound (virtual seconds) on healing after the OSD went out, and on the mgr's verdict.
HEAL_TIMEOUT = 300.0
#: Virtual seconds between two asks of the mgr.
POLL = 1.0


async def _mgr(rc, **cmd: object) -> tuple[int, bytes, str]:
    return await rc.mgr_command(json.dumps(cmd), b"", timeout=60)


async def _scenario(c: SimCluster, seed: int) -> None:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await _pool(c, rc, pg_num=8)
    await _wait_clean(c, rc)
    for i in range(OBJECTS):
        r = await rc.op(pool, f"o{i}", [("write_full", {}, b"%d|" % i * 64)], timeout=120)
        assert r.r == 0, f"seed {seed}: write o{i} -> {r}"
    ret, _, outs = await _mgr(rc, prefix="osd purge", id=VICTIM, force=True)
    assert (ret, outs) == (-errno.EBUSY, f"osd.{VICTIM} is not `down`."), seed
    await c.stop(f"osd.{VICTIM}")
    await c.wait_until(lambda: not c.osdmap().is_up(VICTIM), what=f"osd.{VICTIM} down")
    await c.command(rc, "osd out", ids=[str(VICTIM)])
    await _wait_clean(c, rc, timeout=HEAL_TIMEOUT)

    deadline = c.loop.time() + HEAL_TIMEOUT  # the mgr's stats catch up with the move
    while (await _mgr(rc, prefix="osd safe-to-destroy", ids=[str(VICTIM)]))[0] != 0:
        assert c.loop.time() < deadline, f"seed {seed}: osd.{VICTIM} never safe to destroy"
        await asyncio.sleep(POLL)
    ret, _, outs = await _mgr(rc, prefix="osd purge", id=VICTIM, yes_i_really_mean_it=True)
    assert (ret, outs) == (0, f"purged osd.{VICTIM}"), seed
    m = c.osdmap()
    assert not m.exists(VICTIM) and VICTIM not in m.crush.devices, seed
    auth = [e["entity"] for e in (await c.command(rc, "auth ls"))["auth_dump"]]
    assert f"osd.{VICTIM}" not in auth, seed
    await _wait_clean(c, rc, timeout=HEAL_TIMEOUT)
    for i in range(OBJECTS):
        r = await _read(rc, pool, f"o{i}")
        assert r.r == 0 and r.outs[0].data == b"%d|" % i * 64, f"seed {seed}: o{i} differs"


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_stop_out_purge_heals(seed: int) -> None:
    with SimCluster(seed, num_osds=4, options=OPTIONS) as c:
        c.run(_scenario(c, seed))
