"""The model-checking workload against real daemon processes while OSDs are killed.

A 5-OSD cluster of processes, two size-3/min_size-2 pools (pool and self-managed
snapshots), the workload of `pyceph.sim.workload` on the async client core while the
thrasher kills -9 and restarts OSDs (one at a time: every PG keeps min_size copies) and
marks them out and in, until at least `MIN_KILLS` kills. Then: HEALTH_OK with every PG
active+clean within `HEAL_TIMEOUT`, and a full read of every object (head and live
snapshots) against the model. Any lost or wrong read fails the test with the object's
op history.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from pyceph.client.rados_client import RadosClient
from pyceph.common.config import CephConfig
from pyceph.common.runtime import real_runtime
from pyceph.sim.rand import SimRand
from pyceph.sim.thrasher import (
    HEAL_TIMEOUT,
    ProcessBackend,
    ThrashConfig,
    Thrasher,
    mon_command,
    setup_pools,
)
from pyceph.sim.workload import POOL_SNAPS, SELF_SNAPS, Workload, WorkloadConfig

SEED = 20260
NUM_OSDS = 5
#: The run ends once the thrasher has killed this many OSDs...
MIN_KILLS = 20
#: ...and must get there within this many seconds.
THRASH_LIMIT = 180.0

#: A loaded CI machine starts OSD processes slowly: more than the suite's default 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


async def _scenario(cluster) -> dict:
    cfg = CephConfig(name="client.admin")
    cfg.read_file(cluster.conf_path)
    rc = RadosClient(real_runtime(), cfg)
    await rc.connect(30)
    try:

        async def command(prefix: str, **args):
            return await mon_command(rc, prefix, **args)

        ids = await setup_pools(command, rc, [POOL_SNAPS, SELF_SNAPS])
        rand = SimRand(SEED)
        th = Thrasher(
            ProcessBackend(cluster, rc),
            rand.fork("thrasher"),
            ThrashConfig(
                min_interval=0.5,
                max_interval=2.0,
                partitions=False,
                weights={"kill": 8, "revive": 8, "out": 1, "in": 1},
            ),
        )
        await th.wait_healthy()
        wl = Workload(
            rc,
            ids,
            rand.fork("workload"),
            WorkloadConfig(op_timeout=60.0),
        )
        await wl.setup()
        stop = asyncio.Event()
        run = asyncio.ensure_future(wl.run(10**9, stop))
        th.start()
        start = time.monotonic()
        try:
            while th.counts["kill"] < MIN_KILLS and not run.done():
                assert time.monotonic() - start < THRASH_LIMIT, f"only {th.counts} in time"
                await asyncio.sleep(0.5)
        finally:
            stop.set()
            await th.stop_and_heal()
            stats = await run
        healed = await th.wait_healthy()
        checked = await wl.verify_all()
        await wl.close()
        return {"stats": stats, "actions": dict(th.counts), "healed": healed,
                "checked": checked, "thrash_seconds": time.monotonic() - start}  # fmt: skip
    finally:
        await rc.shutdown()


def test_workload_survives_osd_kills_on_real_processes(cluster_factory):
    cluster = cluster_factory(NUM_OSDS)
    res = asyncio.run(_scenario(cluster))
    print(f"thrash result: {res}")  # the run's numbers, for the CI log
    stats = res["stats"]
    assert res["actions"]["kill"] >= MIN_KILLS, res
    assert res["healed"] <= HEAL_TIMEOUT
    assert stats.reads_checked > 100 and stats.total() > 500, res
    assert res["checked"] >= 2 * WorkloadConfig().objects, res
