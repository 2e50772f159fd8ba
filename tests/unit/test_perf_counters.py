"""Perf counters: the typed registry, the mgr's store of reported counters, the OSD's
op accounting, the exporter's text format, and — in an embedded cluster — the
counters the daemons report, read by a module through upstream's `get_perf_schema`,
`get_counter`, `get_latest_counter`, `get_all_perf_counters` and
`get_daemon_health_metrics`.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.waiting import wait_until

import rados
from pyceph.common.perf_counters import (
    PERFCOUNTER_COUNTER,
    PERFCOUNTER_LONGRUNAVG,
    PERFCOUNTER_TIME,
    PERFCOUNTER_U64,
    PRIO_USEFUL,
    UNIT_BYTES,
    PerfCountersCollection,
)
from pyceph.mgr.builtin.prometheus import collect
from pyceph.mgr.builtin.prometheus.exposition import render
from pyceph.mgr.perfstore import PERF_HISTORY, PerfStore
from pyceph.osd.perf import OSDPerf

#: Bound on waiting for the embedded cluster's daemons to report.
WAIT = 20.0


def _coll() -> PerfCountersCollection:
    c = PerfCountersCollection()
    pc = c.create("osd")
    pc.add_u64("numpg", "Placement groups", "pgs", PRIO_USEFUL)
    pc.add_u64_counter("op", "Client operations", "ops", 10)
    pc.add_u64_counter("op_in_bytes", "in", unit=UNIT_BYTES)
    pc.add_time_avg("op_latency", "Latency", "l", 8)
    pc.add_u64_avg("keys", "Keys")
    return c


def test_registry_types_schema_and_dump() -> None:
    c = _coll()
    pc = c.loggers["osd"]
    pc.set("numpg", 7)
    pc.inc("op")
    pc.inc("op", 2)
    pc.tinc("op_latency", 0.5)
    pc.tinc("op_latency", 1.5)
    pc.avg_inc("keys", 4)
    sch = c.schema()["osd"]
    assert sch["numpg"] == {
        "type": PERFCOUNTER_U64,
        "metric_type": "gauge",
        "value_type": "integer",
        "description": "Placement groups",
        "nick": "pgs",
        "priority": PRIO_USEFUL,
        "units": "none",
    }
    assert sch["op"]["type"] == PERFCOUNTER_U64 | PERFCOUNTER_COUNTER
    assert sch["op"]["metric_type"] == "counter"
    assert sch["op_in_bytes"]["units"] == "bytes"
    assert sch["op_latency"]["type"] == PERFCOUNTER_TIME | PERFCOUNTER_LONGRUNAVG
    assert sch["op_latency"]["value_type"] == "real-integer-pair"
    assert sch["keys"]["value_type"] == "integer-integer-pair"
    d = c.dump()["osd"]
    assert d["numpg"] == 7 and d["op"] == 3
    assert d["op_latency"] == {"avgcount": 2, "sum": 2.0, "avgtime": 1.0}
    assert d["keys"] == {"avgcount": 1, "sum": 4}
    rep = c.report()
    assert rep["values"]["osd.op"] == 3
    assert rep["values"]["osd.op_latency"] == [2_000_000_000, 2]
    assert rep["types"]["osd.op_in_bytes"]["units"] == UNIT_BYTES


def test_registry_rejects_redeclaration_and_gauges_stay_non_negative() -> None:
    c = _coll()
    with pytest.raises(ValueError):
        c.loggers["osd"].add_u64("numpg", "again")
    with pytest.raises(ValueError):
        c.create("osd")
    c.loggers["osd"].dec("numpg")
    assert c.loggers["osd"].get("numpg") == 0


def test_store_shapes_history_and_unknowns() -> None:
    c = _coll()
    st = PerfStore()
    for i in range(PERF_HISTORY + 5):
        c.loggers["osd"].inc("op")
        c.loggers["osd"].tinc("op_latency", 0.25)
        st.ingest("osd.3", c.report(), 1000.0 + i)
    sch = st.schema("osd", "3")
    assert set(sch) == {"osd.3"}
    assert sch["osd.3"]["osd.op"] == {"description": "Client operations", "nick": "ops", "type": 10, "priority": 10, "units": 1}  # fmt: skip
    assert "nick" not in sch["osd.3"]["osd.keys"]  # upstream leaves an empty nick out
    assert set(st.schema("osd", "")) == {"osd.3"} and set(st.schema("", "")) == {"osd.3"}
    assert st.schema("mon", "a") == {}
    pts = st.counter("osd", "3", "osd.op")["osd.op"]
    assert len(pts) == PERF_HISTORY
    assert pts[-1] == (1000.0 + PERF_HISTORY + 4, PERF_HISTORY + 5)
    t, s, n = st.latest("osd", "3", "osd.op_latency")["osd.op_latency"]
    assert (s, n) == (250_000_000 * (PERF_HISTORY + 5), PERF_HISTORY + 5)
    assert st.latest("osd", "3", "osd.nope") == {"osd.nope": ()}
    assert st.counter("osd", "9", "osd.op") == {"osd.op": []}
    # a value without a declaration is ignored; health metrics are kept per daemon
    st.ingest("osd.4", {"values": {"osd.op": 1}, "health_metrics": [{"type": "SLOW_OPS", "value": 2}]}, 1.0)  # fmt: skip
    assert st.latest("osd", "4", "osd.op") == {"osd.op": ()}
    assert st.health_metrics() == {"osd.4": [{"type": "SLOW_OPS", "value": 2}]}


def test_osd_op_accounting() -> None:
    p = OSDPerf()
    t = p.op_started(10.0)
    assert p.osd.get("op_wip") == 1
    assert p.health_metrics(50.0, 30.0, 0)[0] == {"type": "SLOW_OPS", "value": 1}
    p.op_done(t, reads=False, writes=True, in_bytes=100, out_bytes=0, t_recv=9.5, t_start=10.0, t_end=10.25)  # fmt: skip
    t = p.op_started(11.0)
    p.op_done(t, reads=True, writes=False, in_bytes=0, out_bytes=40, t_recv=11.0, t_start=11.0, t_end=11.5)  # fmt: skip
    t = p.op_started(12.0)
    p.op_done(t, reads=True, writes=True, in_bytes=5, out_bytes=6, t_recv=12.0, t_start=12.0, t_end=12.0)  # fmt: skip
    t = p.op_started(13.0)
    p.op_aborted(t)
    o = p.osd
    assert (o.get("op"), o.get("op_w"), o.get("op_r"), o.get("op_rw"), o.get("op_wip")) == (3, 1, 1, 1, 0)  # fmt: skip
    assert (o.get("op_in_bytes"), o.get("op_out_bytes")) == (105, 46)
    assert (o.get("op_w_in_bytes"), o.get("op_r_out_bytes")) == (100, 40)
    assert (o.get("op_rw_in_bytes"), o.get("op_rw_out_bytes")) == (5, 6)
    assert o.get("op_w_latency") == (750_000_000, 1)  # from arrival
    assert o.get("op_w_process_latency") == (250_000_000, 1)  # from reaching the PG
    assert o.get("op_latency")[1] == 3
    assert p.health_metrics(100.0, 30.0, 2) == [
        {"type": "SLOW_OPS", "value": 0},
        {"type": "PENDING_CREATING_PGS", "value": 2},
    ]


def test_exposition_keeps_upstream_names_and_types() -> None:
    f = collect.Families()
    f.declare("ceph_pool_rd", "DF pool rd", "counter")
    f.set("ceph_pool_rd", 1520, {"pool_id": "1"})
    f.declare("ceph_health_status", "Cluster health status")
    f.set("ceph_health_status", 1)
    f.declare("ceph_pool_metadata", "POOL Metadata")
    f.set("ceph_pool_metadata", 1, {"pool_id": "2", "name": 'a"b', "type": "replicated"})
    text = render(f).decode()
    assert '# TYPE ceph_pool_rd counter\nceph_pool_rd{pool_id="1"} 1520.0\n' in text
    assert "# TYPE ceph_health_status untyped\nceph_health_status 1.0\n" in text
    assert 'name="a\\"b",type="replicated"' in text  # labels escaped, in declared order
    fams = {m.name: m for m in text_string_to_metric_families(text)}
    assert fams["ceph_pool_metadata"].samples[0].labels["name"] == 'a"b'
    assert collect.promethize("osd.op_r") == "ceph_osd_op_r"
    assert collect.promethize("mds_mem.ino+") == "ceph_mds_mem_ino_plus"
    assert collect.promethize("mds_mem.ino-") == "ceph_mds_mem_ino_minus"
    assert collect.promethize("throttle-osd_client_bytes.val") == "ceph_throttle_osd_client_bytes_val"  # fmt: skip


def test_perf_counters_to_families() -> None:
    f = collect.Families()
    counters = {
        "osd.0": {
            "osd.op": {
                "type": 10,
                "description": "Client operations",
                "priority": 10,
                "units": 1,
                "value": 5,
            },  # fmt: skip
            "osd.numpg": {
                "type": 2,
                "description": "Placement groups",
                "priority": 5,
                "units": 1,
                "value": 8,
            },  # fmt: skip
            "osd.op_latency": {
                "type": 5,
                "description": "Latency",
                "priority": 8,
                "units": 1,
                "value": 3_000_000_000,
                "count": 2,
            },  # fmt: skip
        }
    }
    collect.add_perf_counters(f, counters)
    by = f.by_name
    assert by["ceph_osd_op"].type == "counter" and by["ceph_osd_numpg"].type == "gauge"
    assert by["ceph_osd_op_latency_sum"].samples[0].value == 3.0
    assert by["ceph_osd_op_latency_count"].samples[0].value == 2.0
    assert by["ceph_osd_op_latency_sum"].documentation == "Latency Total"
    assert by["ceph_osd_op"].samples[0].labels == {"ceph_daemon": "osd.0"}


# ---------------------------------------------------------------- through a module
MODULE = textwrap.dedent(
    """
    import json
    from mgr_module import CLIReadCommand, MgrModule


    class PerfProbe(MgrModule):
        @CLIReadCommand("perfprobe schema")
        def schema(self, svc_type: str, svc_id: str = ""):
            return 0, json.dumps(self.get_perf_schema(svc_type, svc_id)), ""

        @CLIReadCommand("perfprobe counter")
        def counter(self, svc_type: str, svc_id: str, path: str):
            return 0, json.dumps(self.get_counter(svc_type, svc_id, path)), ""

        @CLIReadCommand("perfprobe latest")
        def latest(self, svc_type: str, svc_id: str, path: str):
            return 0, json.dumps(self.get_latest_counter(svc_type, svc_id, path)), ""

        @CLIReadCommand("perfprobe all")
        def all(self):
            return 0, json.dumps(self.get_all_perf_counters()), ""

        @CLIReadCommand("perfprobe health")
        def health(self):
            return 0, json.dumps(self.get_daemon_health_metrics()), ""
    """
)


def _wait(pred: Callable[[], Any], what: str) -> Any:
    return wait_until(pred, what, WAIT)


@pytest.fixture
def handle(tmp_path) -> Iterator[rados.Rados]:
    mods = tmp_path / "mods" / "perfprobe"
    mods.mkdir(parents=True)
    (mods / "__init__.py").write_text("from .module import PerfProbe\n")
    (mods / "module.py").write_text(MODULE)
    cdir = str(tmp_path / "cluster")
    conf = {"mon_host": f"embedded:{cdir}"}
    r = rados.Rados(conf=conf)
    r.connect()
    r.shutdown()
    with open(os.path.join(cdir, "ceph.conf"), "a") as f:
        f.write(f"mgr_module_path = {tmp_path / 'mods'}\nmgr_stats_period = 1\n")
    r = rados.Rados(conf=conf)
    r.connect()
    try:
        yield r
    finally:
        r.shutdown()


def _cmd(r: rados.Rados, **cmd: Any) -> tuple[int, Any]:
    ret, out, outs = r.mon_command(json.dumps(cmd), b"")
    return ret, (json.loads(out) if ret == 0 and out else outs)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_module_reads_reported_counters(handle: rados.Rados) -> None:
    r = handle
    _wait(lambda: _cmd(r, prefix="mgr module enable", module="perfprobe")[0] == 0, "module enable")
    _wait(lambda: _cmd(r, prefix="perfprobe all")[0] == 0, "the module to start")
    r.create_pool("perfpool")
    io = r.open_ioctx("perfpool")
    for i in range(10):
        io.write_full(f"o{i}", b"x" * 4096)
        assert io.read(f"o{i}") == b"x" * 4096
    io.close()

    def ops_reported() -> Any:
        total = 0
        for osd in range(3):
            _, latest = _cmd(r, prefix="perfprobe latest", svc_type="osd", svc_id=str(osd), path="osd.op_w")  # fmt: skip
            total += latest["osd.op_w"][1] if latest["osd.op_w"] else 0
        return total >= 10

    _wait(ops_reported, "the OSDs' write counts to reach the mgr")
    ret, sch = _cmd(r, prefix="perfprobe schema", svc_type="osd", svc_id="0")
    assert ret == 0 and set(sch) == {"osd.0"}
    assert sch["osd.0"]["osd.op"] == {"description": "Client operations", "nick": "ops", "type": 10, "priority": 10, "units": 1}  # fmt: skip
    assert sch["osd.0"]["osd.op_latency"]["type"] == PERFCOUNTER_TIME | PERFCOUNTER_LONGRUNAVG
    assert set(_cmd(r, prefix="perfprobe schema", svc_type="osd")[1]) == {"osd.0", "osd.1", "osd.2"}
    _, pts = _cmd(r, prefix="perfprobe counter", svc_type="osd", svc_id="0", path="osd.stat_bytes")
    assert pts["osd.stat_bytes"] and all(len(p) == 2 for p in pts["osd.stat_bytes"])
    assert pts["osd.stat_bytes"][-1][1] > 0
    _, lat = _cmd(r, prefix="perfprobe latest", svc_type="osd", svc_id="0", path="osd.op_latency")
    assert len(lat["osd.op_latency"]) == 3  # (t, sum, count)
    # the monitor reports too
    _wait(lambda: _cmd(r, prefix="perfprobe schema", svc_type="mon", svc_id="a")[1], "mon counters")
    _, sess = _cmd(
        r, prefix="perfprobe latest", svc_type="mon", svc_id="a", path="mon.num_sessions"
    )
    assert sess["mon.num_sessions"][1] >= 1
    _, win = _cmd(r, prefix="perfprobe latest", svc_type="mon", svc_id="a", path="mon.election_win")
    assert win["mon.election_win"][1] == 1
    _, commits = _cmd(r, prefix="perfprobe latest", svc_type="mon", svc_id="a", path="paxos.commit")  # fmt: skip
    assert commits["paxos.commit"][1] > 0  # the pool creation was committed
    _, everything = _cmd(r, prefix="perfprobe all")
    assert {"osd.0", "mon.a"} <= set(everything)
    assert (
        "osd.op" in everything["osd.0"] and "osd.stat_bytes_avail" not in everything["osd.0"]
    )  # prio
    assert everything["osd.0"]["osd.op_latency"]["count"] >= 0
    _, health = _cmd(r, prefix="perfprobe health")
    assert {"type": "SLOW_OPS", "value": 0} in health["osd.0"]
    assert health["mon.a"] == [{"type": "SLOW_OPS", "value": 0}]
