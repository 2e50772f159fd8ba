"""The built-in `prometheus` module on a real cluster (daemon processes on loopback).

The module is enabled as on the reference cluster (`server_addr` 127.0.0.1, here a
free port), `/metrics` is scraped and parsed with `prometheus_client.parser`, and
every metric name and label set of the reference's sample
(`refceph-samples/prometheus-metrics.txt`, 3 OSDs, 3 pools, one mon, `noout` set)
must be there with the sample's type and help text — except the families listed
in `NOT_SERVED`, each with the reason pyceph has none.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import free_port

SAMPLE = os.path.join(
    os.path.dirname(__file__), "..", "unit", "data", "samples", "prometheus-metrics.txt"
)
#: Bound on waiting for the mgr, the module and the daemons' reports.
WAIT = 30.0
#: metric name prefixes of the sample pyceph does not serve, and why
NOT_SERVED = {
    "ceph_bluestore_": "BlueStore internals: pyceph's OSDs store objects in LMDB",
    "ceph_bluefs_": "BlueFS internals: pyceph's OSDs store objects in LMDB",
    "ceph_rocksdb_": "RocksDB internals: pyceph's monitor store is LMDB",
    "ceph_prioritycache": "the RocksDB/BlueStore cache autotuner: no such cache in pyceph",
}


def _not_served(name: str) -> bool:
    return any(name.startswith(p) for p in NOT_SERVED)


def _shape(text: str) -> tuple[set[tuple[str, frozenset[str]]], dict[str, tuple[str, str]]]:
    """(every (sample name, label names)), {family name: (type, help)}."""
    samples: set[tuple[str, frozenset[str]]] = set()
    families: dict[str, tuple[str, str]] = {}
    for fam in text_string_to_metric_families(text):
        families.setdefault(fam.name, (fam.type, fam.documentation))
        for s in fam.samples:
            # the parser names a counter's samples `<family>_total`: compare the text's names
            name = fam.name if fam.type == "counter" and s.name == fam.name + "_total" else s.name
            samples.add((name, frozenset(s.labels)))
    return samples, families


def _wait(pred: Callable[[], Any], what: str) -> Any:
    return wait_until(pred, what, WAIT)


def _scrape(port: int, path: str = "/metrics") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None


def test_metrics_match_reference(cluster_factory: Any) -> None:
    cluster = cluster_factory(3, mon_allow_pool_size_one="true")
    port = free_port()
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect()
    try:
        _run(r, port)
    finally:
        r.shutdown()


def _cmd(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def _run(r: rados.Rados, port: int) -> None:
    for name, value in (("server_addr", "127.0.0.1"), ("server_port", str(port)), ("scrape_interval", "1")):  # fmt: skip
        assert _cmd(r, prefix="config set", who="mgr", name=f"mgr/prometheus/{name}", value=value)[0] == 0  # fmt: skip
    # upstream's mgr_initial_modules do not include prometheus: it is enabled by hand
    ls = json.loads(_cmd(r, prefix="mgr module ls", format="json")[1])
    assert "prometheus" not in ls["enabled_modules"]
    _wait(lambda: _cmd(r, prefix="mgr module enable", module="prometheus")[0] == 0, "module enable")  # fmt: skip
    # the reference's shape: three pools (size 3, size 1, size 3), objects, `noout` set
    r.create_pool("samples_rbd")
    r.create_pool("samples_rados")
    r.create_pool("samples_noapp")
    assert _cmd(r, prefix="osd pool set", pool="samples_rados", var="size", val="1", yes_i_really_mean_it=True)[0] == 0  # fmt: skip
    assert _cmd(r, prefix="osd set", key="noout")[0] == 0
    io = r.open_ioctx("samples_rbd")
    for i in range(5):
        io.write_full(f"obj{i}", b"x" * 3000)
        assert io.read(f"obj{i}") == b"x" * 3000
    io.close()

    def complete() -> str | None:
        text = _scrape(port)
        if text is None:
            return None
        samples, _ = _shape(text)
        names = {n for n, _ in samples}
        want = {"ceph_mon_num_sessions", "ceph_paxos_commit", "ceph_osd_op", "ceph_health_detail", "ceph_pool_objects_repaired"}  # fmt: skip
        writes = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("ceph_osd_op_w{"))  # fmt: skip
        # health reaches the mgr with a delay (upstream: the mon's digest), so wait for noout
        noout = 'name="OSDMAP_FLAGS"' in text
        complete.last = (sorted(want - names), writes, noout)  # type: ignore[attr-defined]
        return text if want <= names and writes >= 5 and noout else None

    try:
        text = _wait(complete, "a complete /metrics page")
    except AssertionError:
        raise AssertionError(f"incomplete /metrics: {getattr(complete, 'last', None)}") from None
    with open(SAMPLE) as f:
        ref_samples, ref_families = _shape(f.read())
    ours, our_families = _shape(text)
    missing = sorted((n, sorted(ls)) for n, ls in ref_samples - ours if not _not_served(n))
    assert not missing, f"series of the reference sample not served: {missing}"
    for name, (rtype, rhelp) in ref_families.items():
        if _not_served(name):
            continue
        assert name in our_families, f"family {name} not declared"
        assert our_families[name][0] == rtype, f"{name}: type {our_families[name][0]} != {rtype}"
        assert our_families[name][1] == rhelp, (
            f"{name}: help {our_families[name][1]!r} != {rhelp!r}"
        )

    # values that follow the cluster
    def value(metric: str, **labels: str) -> float:
        for fam in text_string_to_metric_families(text):
            for s in fam.samples:
                if s.name in (metric, metric + "_total") and all(
                    s.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(s.value)
        raise AssertionError(f"no {metric} {labels}")

    assert value("ceph_health_status") == 1.0
    assert value("ceph_health_detail", name="OSDMAP_FLAGS", severity="HEALTH_WARN") == 1.0
    assert value("ceph_osd_flag_noout") == 1.0
    assert value("ceph_osd_up", ceph_daemon="osd.2") == 1.0
    assert value("ceph_mgr_status", ceph_daemon="mgr.x") == 1.0
    assert value("ceph_mon_quorum_status", ceph_daemon="mon.a") == 1.0
    assert value("ceph_mgr_module_status", name="prometheus") == 1.0
    assert value("ceph_cluster_total_bytes") > 0
    assert value("ceph_osd_stat_bytes", ceph_daemon="osd.0") > 0
    assert value("ceph_mon_num_sessions", ceph_daemon="mon.a") >= 1
    assert value("ceph_paxos_commit", ceph_daemon="mon.a") > 0
    for fam in text_string_to_metric_families(text):
        if fam.name == "ceph_pool_metadata":
            meta = {s.labels["name"]: s.labels["description"] for s in fam.samples}
            assert meta == {"samples_rbd": "replica:3", "samples_rados": "replica:1", "samples_noapp": "replica:3"}  # fmt: skip

    # published in `ceph mgr services`; the index links /metrics; unknown paths 404
    svc = _wait(lambda: json.loads(_cmd(r, prefix="mgr services", format="json")[1] or b"{}").get("prometheus"), "the service URI")  # fmt: skip
    assert svc == f"http://127.0.0.1:{port}/"
    assert "/metrics" in (_scrape(port, "/") or "")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/nope", timeout=10)
    assert e.value.code == 404

    # cached per scrape_interval: two scrapes inside one interval are the same page
    assert _cmd(r, prefix="config set", who="mgr", name="mgr/prometheus/scrape_interval", value="600")[0] == 0  # fmt: skip

    def cached() -> bool:
        a, b = _scrape(port), _scrape(port)
        return a is not None and a == b

    _wait(cached, "a cached page")
    # disabling the module stops the server and withdraws the service
    assert _cmd(r, prefix="mgr module disable", module="prometheus")[0] == 0
    _wait(lambda: _scrape(port) is None, "the server to stop")


def test_standby_answers_and_takes_over(cluster_factory: Any) -> None:
    """Two mgrs on one host, each on its own (localized) port: the standby's `/metrics`
    is empty and its index points at the active exporter; after `mgr fail` the new
    active one serves the metrics and `ceph mgr services` names it."""
    cluster = cluster_factory(1)
    cluster.add_mgrs(1)
    ports = {"x": free_port(), "y": free_port()}
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect()
    try:
        for mgr, port in ports.items():
            for name, value in (("server_addr", "127.0.0.1"), ("server_port", str(port))):
                assert _cmd(r, prefix="config set", who="mgr", name=f"mgr/prometheus/{mgr}/{name}", value=value)[0] == 0  # fmt: skip
        assert _cmd(r, prefix="config set", who="mgr", name="mgr/prometheus/scrape_interval", value="1")[0] == 0  # fmt: skip

        def standbys() -> bool:
            mm = json.loads(_cmd(r, prefix="mgr dump", format="json")[1])
            return mm.get("active_name") == "x" and [s["name"] for s in mm.get("standbys", [])] == ["y"]  # fmt: skip

        _wait(standbys, "mgr.x active and mgr.y standby")
        _wait(lambda: _cmd(r, prefix="mgr module enable", module="prometheus")[0] == 0, "module enable")  # fmt: skip
        _wait(lambda: "ceph_mgr_status" in (_scrape(ports["x"]) or ""), "the active exporter")
        _wait(lambda: _scrape(ports["y"]) == "", "the standby's empty /metrics")  # noqa: PLC1901
        link = f"http://127.0.0.1:{ports['x']}/metrics"
        _wait(
            lambda: link in (_scrape(ports["y"], "/") or ""),
            "the standby's index to link the active",
        )

        assert _cmd(r, prefix="mgr fail", who="x")[0] == 0

        def took_over() -> bool:
            text = _scrape(ports["y"]) or ""
            return 'ceph_mgr_status{ceph_daemon="mgr.y"} 1.0' in text

        _wait(took_over, "mgr.y to serve the metrics as the active mgr")

        def svc() -> Any:
            return json.loads(_cmd(r, prefix="mgr services", format="json")[1] or b"{}").get("prometheus")  # fmt: skip

        _wait(lambda: svc() == f"http://127.0.0.1:{ports['y']}/", "the new URI in `mgr services`")
    finally:
        r.shutdown()
