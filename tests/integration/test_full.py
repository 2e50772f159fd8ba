"""A full cluster: upstream's health checks, ENOSPC or paused writes, nothing acknowledged lost."""

from __future__ import annotations

import json
import time

import pytest

import rados

#: Bound on how long statistics take to travel OSD -> mgr -> monitor -> OSDMap.
STATS_TIMEOUT = 30.0
POLL = 0.2
MIB = 1 << 20
#: Most 1 MiB objects the test writes before the cluster must report itself full.
MAX_OBJECTS = 70


def _health(r: rados.Rados) -> dict:
    ret, out, outs = r.mon_command(
        json.dumps({"prefix": "health", "detail": "detail", "format": "json"}), b""
    )
    assert ret == 0, outs
    return json.loads(out)


def _wait_health(r: rados.Rados, pred, what: str) -> dict:
    deadline = time.monotonic() + STATS_TIMEOUT
    while True:
        h = _health(r)
        if pred(h["checks"]):
            return h
        assert time.monotonic() < deadline, f"health never {what}: {h}"
        time.sleep(POLL)


def test_full_cluster_refuses_writes_and_keeps_data(cluster_factory):
    small_cluster = cluster_factory(
        pyceph_osd_capacity="64M",
        mon_osd_nearfull_ratio="0.3",
        mon_osd_backfillfull_ratio="0.35",
        mon_osd_full_ratio="0.4",
    )
    r = rados.Rados(conffile=small_cluster.conf_path, conf={"rados_osd_op_timeout": "5"})
    r.connect(timeout=30)
    try:
        r.create_pool("fill")
        ioctx = r.open_ioctx("fill")
        ioctx.set_osdmap_full_try()  # fail with ENOSPC instead of waiting
        written = []
        with pytest.raises(rados.NoSpace):
            for i in range(MAX_OBJECTS):
                name = f"obj-{i}"
                ioctx.write_full(name, bytes([i]) * MIB)
                written.append(name)
        h = _wait_health(r, lambda c: "OSD_FULL" in c, "OSD_FULL")
        assert h["status"] == "HEALTH_ERR"
        assert h["checks"]["OSD_FULL"]["severity"] == "HEALTH_ERR"
        assert "POOL_FULL" in h["checks"]

        # Without FULL_TRY a write waits for space, as librados does, until it times out.
        ioctx.unset_osdmap_full_try()
        with pytest.raises(rados.TimedOut):
            ioctx.write_full("one-more", b"x" * MIB)
        for i, name in enumerate(written):  # every acknowledged object is intact
            assert ioctx.read(name, length=MIB) == bytes([i]) * MIB

        for name in written[: len(written) * 2 // 3]:  # deletes are allowed when full
            ioctx.remove_object(name)
        _wait_health(r, lambda c: "OSD_FULL" not in c and "POOL_FULL" not in c, "clear")
        ioctx.write_full("after", b"y" * MIB)
        assert ioctx.read("after", length=MIB) == b"y" * MIB
        ioctx.close()
    finally:
        r.shutdown()
