"""Erasure-coded remapped backfill on real daemons (issue 9 item 2, upstream
calc_ec_acting): `ceph osd out` of a loaded OSD of an EC pool (k=2, m=1 on 4 OSDs) keeps
the old acting set serving through a pg_temp that keeps every shard on its position,
while the new OSD backfills the shard of its position; a writer and a reader keep
working, and every PG ends active+clean on the up set, with no pg_temp left and every
acknowledged object reading back.

The PG logs are short so that the joining OSD needs a backfill, not log recovery;
`osd_recovery_sleep` stretches the backfill so the remapped states are seen."""

from __future__ import annotations

import time

from tests.integration.test_backfill import HEAL_TIMEOUT, OPTIONS, _all_clean, _pgs
from tests.integration.test_pg_split import Appender, _mon
from tests.waiting import wait_until

import rados

POOL = "ecbf"
PROFILE = "ecbf-profile"
#: Objects written before the OSD goes out, read back throughout.
STATIC_OBJECTS = 120
#: The OSD marked out.
VICTIM = 0
#: upstream CRUSH_ITEM_NONE, as `osd dump` shows a hole of an EC pg_temp
NONE = 0x7FFFFFFF
#: Seconds between two samples of the PGs while they move.
SAMPLE_INTERVAL = 0.2


def create_ec_pool(r: rados.Rados, pool: str, profile: str) -> None:
    """An EC pool, k=2 m=1 over OSDs, 8 PGs, overwrites allowed (unaligned appends)."""
    _mon(r, prefix="osd erasure-code-profile set", name=profile,
         profile=["k=2", "m=1", "crush-failure-domain=osd"])  # fmt: skip
    _mon(r, prefix="osd pool create", pool=pool, pg_num=8, pool_type="erasure",
         erasure_code_profile=profile)  # fmt: skip
    _mon(r, prefix="osd pool set", pool=pool, var="allow_ec_overwrites", val="true")


def _static(i: int) -> bytes:
    return b"%06d|" % i * 700  # not stripe-aligned: a partial last stripe on every shard


def test_ec_osd_out_backfills_through_pg_temp_keeping_positions(cluster_factory) -> None:
    cluster = cluster_factory(4, **OPTIONS)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        create_ec_pool(r, POOL, PROFILE)
        wait_until(lambda: _all_clean(r), "pool active+clean", HEAL_TIMEOUT)
        io = r.open_ioctx(POOL)
        for i in range(STATIC_OBJECTS):
            io.write_full(f"static-{i}", _static(i))
        before = {p["pgid"]: p["up"] for p in _pgs(r)}
        w = Appender(io)
        w.start()
        w.progress(200)  # every PG's log trimmed past its first writes
        _mon(r, prefix="osd out", ids=[str(VICTIM)])
        remapped: list[dict] = []
        temps: list[tuple[str, list[int]]] = []
        misplaced = reads = 0
        deadline = time.monotonic() + HEAL_TIMEOUT
        while True:
            pgs = _pgs(r)
            for p in pgs:
                if p["state"].startswith("active") and "remapped" in p["state"]:
                    remapped.append(p)
                misplaced = max(misplaced, int(p["stat_sum"]["num_objects_misplaced"]))
            temps += [(t["pgid"], t["osds"]) for t in _mon(r, prefix="osd dump")["pg_temp"]]
            if all(p["state"] == "active+clean" and VICTIM not in p["acting"] for p in pgs):
                break
            assert time.monotonic() < deadline, f"PGs never moved: {[p['state'] for p in pgs]}"
            i = reads % STATIC_OBJECTS  # the reader: the pool serves during the move
            assert io.read(f"static-{i}", 1 << 20) == _static(i)
            reads += 1
            time.sleep(SAMPLE_INTERVAL)
        model = w.finish()
        # the old acting set, the out OSD on its own shard's position, served meanwhile
        assert any(VICTIM in p["acting"] and VICTIM not in p["up"] for p in remapped), remapped
        kept = [(pgid, t) for pgid, t in temps if VICTIM in t]
        assert kept, temps
        for pgid, t in kept:
            assert len(t) == len(before[pgid]), (pgid, t, before[pgid])
            assert t.index(VICTIM) == before[pgid].index(VICTIM), (pgid, t, before[pgid])
        assert any("backfilling" in p["state"] for p in remapped), remapped
        assert misplaced > 0
        assert w.acked > 200 and reads > 0
        wait_until(lambda: _all_clean(r), "all PGs active+clean", HEAL_TIMEOUT)
        assert _mon(r, prefix="osd dump")["pg_temp"] == []
        for name, data in model.items():
            assert io.read(name, 1 << 20) == data, name
        for i in range(STATIC_OBJECTS):
            assert io.read(f"static-{i}", 1 << 20) == _static(i)
        io.close()
    finally:
        r.shutdown()
