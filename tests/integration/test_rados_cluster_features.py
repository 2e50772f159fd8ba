"""Monitor-side and client-core features through the public `rados` API only:
self-managed and pool snapshots (metadata), the cluster log subscription, the
service map, blocklisting, ping_monitor, addresses.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import pytest
from tests.waiting import wait_until

import rados


def _cmd(cluster, **cmd):
    ret, out, outs = cluster.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs
    return out


# ------------------------------------------------------------------ self-managed snaps
def test_selfmanaged_snap_ids(cluster, pool):
    with cluster.open_ioctx(pool) as io:
        a = io.create_self_managed_snap()
        b = io.create_self_managed_snap()
        assert a == 2  # upstream: the first id on a fresh pool is 2
        assert b == a + 1
        io.remove_self_managed_snap(a)
        io.remove_self_managed_snap(a)  # already removed: fine, as upstream
        c = io.create_self_managed_snap()
        assert c > b + 1  # removal bumps snap_seq too
        with pytest.raises(rados.ObjectNotFound):
            io.remove_self_managed_snap(c + 100)
        # the pool is in self-managed mode now: pool snaps are refused
        with pytest.raises(rados.InvalidArgumentError):
            io.create_snap("nope")
    dump = json.loads(_cmd(cluster, prefix="osd pool ls", detail="detail", format="json"))
    p = next(x for x in dump if x["pool_name"] == pool)
    assert p["snap_mode"] == "selfmanaged"
    assert "selfmanaged_snaps" in p["flags_names"]
    assert p["snap_seq"] >= c


def test_selfmanaged_snap_refused_on_pool_snaps_pool(cluster, pool):
    with cluster.open_ioctx(pool) as io:
        io.create_snap("s1")
        with pytest.raises(rados.InvalidArgumentError):
            io.create_self_managed_snap()


def test_selfmanaged_snap_write_context(cluster, pool):
    with cluster.open_ioctx(pool) as io:
        s = io.create_self_managed_snap()
        io.set_self_managed_snap_write([s])
        io.write_full("obj", b"data")
        assert io.read("obj") == b"data"


# ------------------------------------------------------------------ pool snaps
def test_pool_snaps_metadata(cluster, pool):
    with cluster.open_ioctx(pool) as io:
        before = datetime.now().replace(microsecond=0)
        io.create_snap("snap1")
        io.create_snap("snap2")
        with pytest.raises(rados.ObjectExists):
            io.create_snap("snap1")
        names = [s.name for s in io.list_snaps()]
        assert names == ["snap1", "snap2"]
        s1 = io.lookup_snap("snap1")
        s2 = io.lookup_snap("snap2")
        assert s1.snap_id == 1 and s2.snap_id == 2
        stamp = s1.get_timestamp()
        assert abs((stamp - before).total_seconds()) < 60
        io.remove_snap("snap1")
        with pytest.raises(rados.ObjectNotFound):
            io.lookup_snap("snap1")
        with pytest.raises(rados.ObjectNotFound):
            io.remove_snap("snap1")
        assert [s.name for s in io.list_snaps()] == ["snap2"]
        # a pool in pool-snaps mode refuses self-managed snaps
        with pytest.raises(rados.InvalidArgumentError):
            io.create_self_managed_snap()
    dump = json.loads(_cmd(cluster, prefix="osd pool ls", detail="detail", format="json"))
    p = next(x for x in dump if x["pool_name"] == pool)
    assert p["snap_mode"] == "pool"
    assert [s["name"] for s in p["pool_snaps"]] == ["snap2"]
    assert p["snap_seq"] == 3


# ------------------------------------------------------------------ cluster log
def test_monitor_log_receives_log_command(cluster):
    got: list[tuple] = []
    cond = threading.Condition()
    marker = f"hello-{time.monotonic_ns()}"

    def cb(arg, line, channel, name, who, sec, nsec, seq, level, msg):
        with cond:
            got.append((arg, line, channel, name, who, sec, seq, level, msg))
            cond.notify_all()

    cluster.monitor_log2("info", cb, "arg")
    try:
        _cmd(cluster, prefix="log", logtext=[marker])
        deadline = time.monotonic() + 20
        with cond:
            while not any(g[8] == marker for g in got) and time.monotonic() < deadline:
                cond.wait(0.5)
        hit = next(g for g in got if g[8] == marker)
        arg, line, channel, name, who, sec, seq, level, _msg = hit
        assert arg == "arg" and channel == "cluster" and name == "client.admin"
        assert level == "[INF]" and seq > 0 and sec > 0
        assert line.endswith(f"client.admin [INF] {marker}")
        # the command itself is audited
        audit = [g[8] for g in got if g[2] == "audit" and marker in g[8]]
        assert any(a.endswith(": dispatch") and "entity='client.admin'" in a for a in audit)
        assert any(a.startswith("from='client.") for a in audit)
    finally:
        cluster.monitor_log2("info", None)
    assert cluster.monitor_callback2 is None
    out = _cmd(cluster, prefix="log last", num=50, channel="cluster", format="json")
    assert any(e["message"] == marker for e in json.loads(out))


def test_monitor_log_debug_gets_lines_without_commands(cluster):
    """As upstream's test_monitor_log: a debug subscriber hears something on its own."""
    cond = threading.Condition()
    seen: list[str] = []

    def cb(arg, line, who, sec, nsec, seq, level, msg):
        with cond:
            seen.append(line)
            cond.notify_all()

    rados.MonitorLog(cluster, "debug", cb, "arg")
    try:
        with cond:
            cond.wait_for(lambda: seen, timeout=20)
        assert seen
    finally:
        rados.MonitorLog(cluster, "debug", None, None)
    assert cluster.monitor_callback is None


# ------------------------------------------------------------------ service map
def test_service_daemon_register_shows_in_status(cluster_conf, cluster):
    svc = rados.Rados(conffile=cluster_conf)
    svc.connect()
    try:
        with pytest.raises(rados.InvalidArgumentError):
            svc.service_daemon_register("osd", "x", {})
        svc.service_daemon_register("rgw", "gw1", {"zone_id": "z1", "foo": "bar"})
        svc.service_daemon_update({"current_sync": "[]"})

        def status_with_rgw() -> str:
            ret, out, _ = cluster.mon_command(json.dumps({"prefix": "status"}), b"")
            return out.decode() if "rgw:" in out.decode() else ""

        plain = wait_until(status_with_rgw, "rgw in status", 30)
        assert "    rgw: 1 daemon active (1 hosts, 1 zones)" in plain
        st = json.loads(_cmd(cluster, prefix="status", format="json"))
        d = st["servicemap"]["services"]["rgw"]["daemons"]["gw1"]
        assert d["metadata"]["foo"] == "bar" and d["metadata"]["hostname"]
        assert d["gid"] == svc.get_instance_id()
        ret, out, outs = cluster.mgr_command(json.dumps({"prefix": "service dump"}), b"")
        assert ret == 0, outs
        assert "gw1" in json.loads(out)["services"]["rgw"]["daemons"]

        def gw1_status() -> dict:
            ret, out, outs = cluster.mgr_command(json.dumps({"prefix": "service status"}), b"")
            assert ret == 0, outs
            return json.loads(out)["rgw"]["gw1"]["status"]

        wait_until(lambda: gw1_status() == {"current_sync": "[]"}, "gw1's status", 20)
    finally:
        svc.shutdown()


# ------------------------------------------------------------------ blocklist
def test_blocklist_add_shuts_out_the_victim(cluster_conf, cluster, pool):
    victim = rados.Rados(conffile=cluster_conf)
    victim.connect()
    try:
        addrs = victim.get_addrs()
        assert not addrs.startswith(("v1:", "v2:")) and ":0/" in addrs
        with victim.open_ioctx(pool) as vio:
            vio.write_full("o", b"before")
            cluster.blocklist_add(addrs, 60)
            bl = json.loads(_cmd(cluster, prefix="osd blocklist ls", format="json"))
            assert any(e["addr"] == addrs for e in bl)
            assert victim.wait_for_latest_osdmap() == 0
            with pytest.raises(rados.ConnectionShutdown):
                vio.write_full("o", b"after")
            with pytest.raises(rados.ConnectionShutdown):
                vio.read("o")
        # others are not affected
        with cluster.open_ioctx(pool) as io:
            assert io.read("o") == b"before"
    finally:
        victim.shutdown()
        _cmd(cluster, prefix="osd blocklist", blocklistop="rm", addr=addrs)


# ------------------------------------------------------------------ misc
def test_ping_monitor(cluster):
    mons = json.loads(_cmd(cluster, prefix="mon dump", format="json"))["mons"]
    out = cluster.ping_monitor(mons[0]["name"])
    doc = json.loads(out)
    assert "health" in doc and doc["mon_status"]["name"] == mons[0]["name"]
    with pytest.raises(rados.ObjectNotFound):
        cluster.ping_monitor("no-such-mon")


def test_get_inconsistent_pgs_empty(cluster, pool):
    assert cluster.get_inconsistent_pgs(cluster.pool_lookup(pool)) == []
