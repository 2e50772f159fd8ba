"""Remapped backfill in the simulator (upstream choose_acting + pg_temp): `ceph osd out`
of a loaded OSD under writers keeps the old acting set serving through a pg_temp while
the new OSDs backfill, then the map switches to the up set; nothing is lost, and the
same holds under the model-checking workload with the thrasher.

The PG logs are kept short (`osd_min/max_pg_log_entries`) so that an OSD that joins a
PG cannot be caught up from the log and needs a backfill, as in a loaded cluster."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tests.sim.test_sim_cluster import _pool, _wait_clean
from tests.sim.test_sim_split import OBJECTS, Writers, _read

from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster
from pyceph.sim.thrasher import HEAL_TIMEOUT, SIM_OPTIONS, run_sim_seed

SEEDS = seeds()
#: Short PG logs: a PG's log is trimmed within a few writes, so new members backfill.
SHORT_LOG = {
    "osd_min_pg_log_entries": "4",
    "osd_max_pg_log_entries": "8",
    "osd_pg_log_trim_min": "1",
}
#: Faster pg stats, so `pg dump` follows the PGs' states closely; a recovery sleep, so
#: the backfill lasts long enough to be seen.
OPTIONS = {**SHORT_LOG, "mgr_stats_period": "1", "osd_recovery_sleep": "0.1"}
#: Virtual seconds between two samples of the PGs' states.
SAMPLE_INTERVAL = 0.5
#: Objects written before the OSD goes out and not touched after.
STATIC_OBJECTS = 120
#: The OSD marked out.
VICTIM = 0
#: Bound (virtual seconds) on the backfill to finish after the OSD went out.
BACKFILL_TIMEOUT = 300.0


async def _pg_states(c: SimCluster, rc) -> dict[str, dict]:
    d = await c.command(rc, "pg dump", dumpcontents=["pgs"])
    stats = d.get("pg_map", d).get("pg_stats", []) if isinstance(d, dict) else d
    return {s["pgid"]: s for s in stats}


class Watcher:
    """Samples, while the PGs move, the osdmap's pg_temps (as the monitor committed them)
    and the states `pg dump` shows."""

    def __init__(self, c: SimCluster, rc) -> None:
        self.c, self.rc = c, rc
        self.states: set[str] = set()
        #: (pgid, up, acting) of PGs `pg dump` showed active+remapped
        self.remapped: list[tuple[str, list[int], list[int]]] = []
        #: pg_temps seen in the osdmap
        self.temps: list[tuple[tuple[int, int], list[int]]] = []
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while not self._stop.is_set():
            self.temps += list(self.c.osdmap().pg_temp.items())
            sts = await _pg_states(self.c, self.rc)
            for pgid, s in sts.items():
                self.states.add(s["state"])
                if "remapped" in s["state"] and s["state"].startswith("active"):
                    self.remapped.append((pgid, s["up"], s["acting"]))
            await asyncio.sleep(SAMPLE_INTERVAL)

    async def stop(self) -> None:
        self._stop.set()
        await self._task


async def _moved(c: SimCluster, rc) -> bool:
    """Every PG active+clean without the out OSD."""
    return all(
        s["state"] == "active+clean" and VICTIM not in s["acting"]
        for s in (await _pg_states(c, rc)).values()
    )


async def _out_scenario(c: SimCluster, seed: int) -> Watcher:
    await c.start()
    await c.wait_osds_up()
    rc = await c.client()
    pool = await _pool(c, rc, pg_num=8)
    await _wait_clean(c, rc)
    for i in range(STATIC_OBJECTS):  # data the writers do not touch: only backfill moves it
        r = await rc.op(pool, f"s{i}", [("write_full", {}, _static(i))], timeout=120)
        assert r.r == 0, f"seed {seed}: write s{i} -> {r}"
    w = Writers(rc, pool, seed)
    try:
        await asyncio.sleep(5)  # every PG's log trimmed past its first writes
        seen = Watcher(c, rc)
        await c.command(rc, "osd out", ids=[str(VICTIM)])
        deadline = c.loop.time() + BACKFILL_TIMEOUT
        await asyncio.sleep(1)
        while not await _moved(c, rc):
            assert c.loop.time() < deadline, f"seed {seed}: PGs never moved: {seen.states}"
            await asyncio.sleep(0.5)
        await seen.stop()
    finally:
        await w.stop()
    # under pg_temp the old acting set (with the out OSD) served while up had moved
    assert any(VICTIM in t for _k, t in seen.temps), f"seed {seed}: no pg_temp: {seen.temps}"
    assert any(VICTIM in a and VICTIM not in u for _p, u, a in seen.remapped), (
        f"seed {seed}: no PG served remapped: {seen.states}"
    )
    await _wait_clean(c, rc, timeout=BACKFILL_TIMEOUT)
    assert not c.osdmap().pg_temp, f"seed {seed}: pg_temp left: {c.osdmap().pg_temp}"
    await _check_healed(c, rc, pool, seed, w.acked, _static)
    return seen


def _static(i: int) -> bytes:
    return b"%d|" % i * 64


async def _check_healed(c, rc, pool: int, seed: int, acked: dict, static) -> None:
    """Every acknowledged and every static object reads back, and the out OSD's copies
    were removed once the PGs were clean elsewhere."""
    for name in sorted(acked):
        r = await _read(rc, pool, name)
        assert r.r == 0 and r.outs[0].data == acked[name], f"seed {seed}: {name} differs"
    for i in range(STATIC_OBJECTS):
        r = await _read(rc, pool, f"s{i}")
        assert r.r == 0 and r.outs[0].data == static(i), f"seed {seed}: s{i} differs"
    assert len(acked) == OBJECTS
    store = c.daemons[f"osd.{VICTIM}"].obj.store
    left = [
        cid
        for cid in store.list_collections()
        if cid.startswith(f"{pool}.") and store.collection_list(cid, None, 10)[0]
    ]
    assert not left, f"seed {seed}: osd.{VICTIM} still holds {left}"


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_osd_out_backfills_through_pg_temp(seed):
    with SimCluster(seed, num_osds=4, options=OPTIONS) as c:
        seen = c.run(_out_scenario(c, seed))
    assert any("backfill" in s for s in seen.states), seen.states


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_model_checker_with_thrasher_and_short_logs(seed, caplog):
    """The model-checking workload with the thrasher (kills, partitions, out/in) while
    every OSD that joins a PG backfills through a pg_temp."""
    caplog.set_level(logging.INFO, logger="pyceph.osd.pg")
    res = run_sim_seed(seed, options={**SIM_OPTIONS, **SHORT_LOG})
    wanted = [r for r in caplog.records if r.getMessage().endswith("]") and "pg_temp" in r.msg]
    assert wanted, f"seed {seed}: no PG asked for a pg_temp"
    assert res.ops > 0 and res.reads_checked > 0, f"seed {seed}: nothing checked: {res}"
    assert res.heal_seconds <= HEAL_TIMEOUT
