"""How `pyceph up` brings a cluster up fast without calling it ready too soon: every
daemon spawned at once, a daemon that dies at start reported at once, and PG states
flushed to the mgr on request (`ceph tell osd.N flush_pg_stats`) rather than waited
for a `mgr_stats_period`."""

from __future__ import annotations

import json
import os
import time

import pytest

import rados
from pyceph.cli.localcluster import PID_FILE_TIMEOUT, LocalCluster
from pyceph.common.errors import CephError

#: A stats period no test waits out: PG states reach the monitor only when flushed.
NEVER = "3600"
#: Bound on one test's waits for a cluster.
READY = 60.0


def _status(r: rados.Rados) -> dict:
    ret, out, err = r.mon_command(json.dumps({"prefix": "status", "format": "json"}), b"")
    assert ret == 0, err
    return json.loads(out)


def _pg_states(r: rados.Rados) -> dict[str, int]:
    return {s["state_name"]: s["count"] for s in _status(r)["pgmap"]["pgs_by_state"]}


def test_flush_pg_stats_reaches_the_monitor_without_a_stats_period(cluster_factory) -> None:
    """With reports every hour, a new pool's PGs stay unknown to the monitor until the
    OSDs flush: `wait_ready` flushes them and returns once they show active."""
    cluster = cluster_factory(3, mgr_stats_period=NEVER)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        r.create_pool("flushed")
        ret, out, err = r.mon_command(json.dumps({"prefix": "osd ls", "format": "json"}), b"")
        assert ret == 0, err
        # the tell answers the stat seq its report carries: up_from in the high word,
        # the reports counted below (two flushes before the report goes may share it)
        ret, out, err = r.osd_command(0, json.dumps({"prefix": "flush_pg_stats"}), b"")
        assert ret == 0, err
        first = int(out)
        osd0 = next(o for o in _osd_dump(r)["osds"] if o["osd"] == 0)
        assert first >> 32 == osd0["up_from"] and first & 0xFFFFFFFF >= 2
        ret, out, _ = r.osd_command(0, json.dumps({"prefix": "flush_pg_stats"}), b"")
        assert ret == 0 and int(out) >= first
        status = cluster.wait_ready(READY)
        states = {s["state_name"] for s in status["pgmap"]["pgs_by_state"]}
        assert states and all("active" in s.split("+") for s in states), states
        pool_id = r.pool_lookup("flushed")
        assert status["pgmap"]["num_pgs"] >= _pg_num(r, pool_id) > 0
    finally:
        r.shutdown()


def _osd_dump(r: rados.Rados) -> dict:
    ret, out, err = r.mon_command(json.dumps({"prefix": "osd dump", "format": "json"}), b"")
    assert ret == 0, err
    return json.loads(out)


def _pg_num(r: rados.Rados, pool_id: int) -> int:
    return next(p["pg_num"] for p in _osd_dump(r)["pools"] if p["pool"] == pool_id)


def test_a_daemon_that_dies_at_start_fails_start_at_once(tmp_path) -> None:
    """`start` spawns every daemon, then waits for their pid files: one that exits
    first (here an OSD that cannot open its log file) is reported with its output long before
    the pid-file bound, and the others are left for the caller to stop."""
    cluster = LocalCluster(str(tmp_path / "c"))
    cluster.create(num_osds=1, overrides={"mgr_module_path": ""})
    os.mkdir(os.path.join(cluster.path, "log", "osd.0.log"))  # a directory: not writable
    t0 = time.monotonic()
    try:
        with pytest.raises(CephError) as e:
            cluster.start()
        assert "osd.0 did not start" in e.value.message
        assert time.monotonic() - t0 < PID_FILE_TIMEOUT
        assert cluster.pid(next(d for d in cluster.daemons() if d.name == "mon.a"))
    finally:
        cluster.stop()
