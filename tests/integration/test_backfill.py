"""Remapped backfill on real daemons (issue 9 item 2): `ceph osd out` of a loaded OSD
keeps the old acting set serving through a pg_temp (`pg dump` shows the PGs
active+remapped with the out OSD acting, misplaced objects counted) while the new OSDs
backfill in the background; a writer and a reader keep working, and every PG ends
active+clean on the up set with the data intact and no pg_temp left.

The PG logs are short (`osd_min/max_pg_log_entries`) so that joining OSDs need a backfill
(not log recovery), as in a loaded cluster; `osd_recovery_sleep` stretches the backfill
so the remapped states are seen."""

from __future__ import annotations

import json
import re
import time

from tests.integration.test_pg_split import Appender, _mon
from tests.waiting import wait_until

import rados

POOL = "bf"
#: Objects written before the OSD goes out, read back throughout.
STATIC_OBJECTS = 160
#: Bound on the cluster's healing after a change, and on any awaited condition.
HEAL_TIMEOUT = 120.0
#: The OSD marked out.
VICTIM = 0
#: upstream's OBJECT_MISPLACED summary
MISPLACED_MSG = r"\d+/\d+ objects misplaced \(\d+\.\d{3}%\)"
OPTIONS = {
    "osd_min_pg_log_entries": "4",
    "osd_max_pg_log_entries": "8",
    "osd_pg_log_trim_min": "1",
    "osd_recovery_sleep": "0.1",
    "mgr_stats_period": "1",
    "mon_warn_on_misplaced": "true",  # OBJECT_MISPLACED is off by default, as upstream
}


def _static(i: int) -> bytes:
    return b"%06d|" % i * 512


def _pgs(r: rados.Rados) -> list[dict]:
    d = _mon(r, prefix="pg dump", dumpcontents=["pgs"])
    return d.get("pg_map", d).get("pg_stats", []) if isinstance(d, dict) else d


def _all_clean(r: rados.Rados) -> bool:
    st = _mon(r, prefix="status")
    pgs = st["pgmap"]
    states = {s["state_name"]: s["count"] for s in pgs["pgs_by_state"]}
    return bool(pgs["num_pgs"]) and states.get("active+clean") == pgs["num_pgs"]


def test_osd_out_backfills_through_pg_temp_while_serving(cluster_factory) -> None:
    cluster = cluster_factory(4, **OPTIONS)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        _mon(r, prefix="osd pool create", pool=POOL, pg_num=8)
        wait_until(lambda: _all_clean(r), "pool active+clean", HEAL_TIMEOUT)
        io = r.open_ioctx(POOL)
        for i in range(STATIC_OBJECTS):
            io.write_full(f"static-{i}", _static(i))
        w = Appender(io)
        w.start()
        w.progress(200)  # every PG's log trimmed past its first writes
        _mon(r, prefix="osd out", ids=[str(VICTIM)])
        remapped: list[dict] = []
        misplaced = 0
        reads = 0
        health: set[str] = set()  # OBJECT_MISPLACED summaries seen
        status_misplaced = 0  # ceph -s pgmap misplaced_objects seen
        plain: list[str] = []  # the plain `ceph -s` line saying so
        deadline = time.monotonic() + HEAL_TIMEOUT
        while True:
            pgs = _pgs(r)
            for p in pgs:
                if p["state"].startswith("active") and "remapped" in p["state"]:
                    remapped.append(p)
                misplaced = max(misplaced, int(p["stat_sum"]["num_objects_misplaced"]))
            if all(p["state"] == "active+clean" and VICTIM not in p["acting"] for p in pgs):
                break
            assert time.monotonic() < deadline, f"PGs never moved: {[p['state'] for p in pgs]}"
            check = _mon(r, prefix="health").get("checks", {}).get("OBJECT_MISPLACED")
            if check:
                health.add(check["summary"]["message"])
            pgmap = _mon(r, prefix="status")["pgmap"]
            status_misplaced = max(status_misplaced, int(pgmap.get("misplaced_objects", 0)))
            if pgmap.get("misplaced_objects") and not plain:
                ret, out, outs = r.mon_command(json.dumps({"prefix": "status"}), b"")
                assert ret == 0, outs
                plain = [ln for ln in out.decode().splitlines() if "objects misplaced" in ln]
            i = reads % STATIC_OBJECTS  # the reader: the pool serves during the move
            assert io.read(f"static-{i}", 1 << 20) == _static(i)
            reads += 1
            time.sleep(0.2)
        model = w.finish()
        # the old acting set (still holding the out OSD) served while up had moved
        assert any(VICTIM in p["acting"] and VICTIM not in p["up"] for p in remapped), remapped
        seen = {p["state"] for p in remapped}
        assert any("backfilling" in s for s in seen), seen
        # osd_max_backfills (1): the PGs moving to one OSD wait their turn
        assert any("backfill_wait" in s for s in seen), seen
        assert misplaced > 0 and status_misplaced > 0
        # the health section's OBJECT_MISPLACED line, and the data section's pgs line
        # (the data section's line follows "pgs:" or another line of its list)
        assert len(plain) == 2, plain
        assert all(re.fullmatch(r"\s+(pgs: +)?" + MISPLACED_MSG, ln) for ln in plain), plain
        assert health and all(re.fullmatch(MISPLACED_MSG, m) for m in health), health
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
