"""Debian's own mgr modules (`ceph-mgr-modules-core`, unmodified, from
/usr/share/ceph/mgr through `mgr_module_path`) running in `pyceph-mgr`.

One real cluster for all tests. The always-on modules that can run here run
(balancer, crash, devicehealth, pg_autoscaler, progress, rbd_support, status,
telemetry) without raising health errors; `selftest` passes its self-tests; the
modules answer their commands; a module that cannot run says why in `mgr module
ls`. Debian installs the Python packages some need (`python3-prettytable`...);
here their PyPI equivalents are in the `test` extra.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import pty
import select
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.waiting import wait_until

DEBIAN_MGR = "/usr/share/ceph/mgr"
#: How long the mgr may take to load Debian's modules, start them, or act on a command.
MODULE_WAIT = 60.0
#: Upstream's always-on modules (Pacific) that load in pyceph's interpreter;
#: orchestrator and volumes need the `ceph`/`cephfs` packages Debian builds from C.
ALWAYS_ON_HERE = ("balancer", "crash", "devicehealth", "pg_autoscaler", "progress",
                  "rbd_support", "status", "telemetry")  # fmt: skip


@pytest.fixture(scope="module")
def conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.conftest import make_cluster  # noqa: PLC0415 - shared fixture helper

    cluster = make_cluster(
        str(tmp_path_factory.mktemp("mgrdeb") / "c"), num_osds=3, mgr_module_path=DEBIAN_MGR
    )
    try:
        yield cluster.conf_path
    finally:
        cluster.stop()


def _ceph(conf: str, *args: str, inbuf: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", conf, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, input=inbuf)


def _ok(conf: str, *args: str, inbuf: str | None = None) -> str:
    p = _ceph(conf, *args, inbuf=inbuf)
    assert p.returncode == 0, f"{args}: {p.stderr}"
    return p.stdout


def _outs(conf: str, *args: str) -> str:
    """A command's status text (upstream's `outs`, on the ceph CLI's stderr)."""
    p = _ceph(conf, *args)
    assert p.returncode == 0, f"{args}: {p.stderr}"
    return p.stderr


def _json(conf: str, *args: str) -> Any:
    return json.loads(_ok(conf, *args, "-f", "json"))


def _wait(pred: Callable[[], Any], what: str, timeout: float = MODULE_WAIT) -> Any:
    return wait_until(pred, what, timeout)


def _all_clean(conf: str) -> bool:
    states = _json(conf, "pg", "stat")["pg_summary"]["num_pg_by_state"]
    return [s["name"] for s in states] == ["active+clean"]


def _checks(conf: str) -> dict[str, Any]:
    return _json(conf, "health", "detail")["checks"]


@pytest.fixture(scope="module")
def ready(conf: str) -> str:
    """Always-on modules answering; selftest and iostat enabled."""
    _wait(lambda: _ceph(conf, "balancer", "status").returncode == 0, "the balancer module")
    for m in ("selftest", "iostat"):
        _ok(conf, "mgr", "module", "enable", m)
    _wait(lambda: _ceph(conf, "mgr", "self-test", "python-version").returncode == 0, "selftest")
    return conf


def test_module_ls_says_why(ready: str) -> None:
    ls = _json(ready, "mgr", "module", "ls")
    for m in ALWAYS_ON_HERE:
        assert m in ls["always_on_modules"]
    assert {"iostat", "selftest"} <= set(ls["enabled_modules"])
    disabled = {m["name"]: m for m in ls["disabled_modules"]}
    # as on the reference cluster: the influxdb package is not installed
    assert disabled["influx"]["can_run"] is False
    assert disabled["influx"]["error_string"] == "influxdb python module not found"
    # a module whose import fails cannot run, and says which import failed
    assert disabled["restful"]["can_run"] is False
    assert "pecan" in disabled["restful"]["error_string"]
    assert disabled["telegraf"]["can_run"] is True and disabled["telegraf"]["error_string"] == ""
    p = _ceph(ready, "mgr", "module", "enable", "influx")
    assert p.returncode == errno.ENOENT
    assert "reports that it cannot run on the active manager daemon: influxdb python module not found" in p.stderr  # fmt: skip


def test_always_on_modules_raise_no_health_errors(ready: str) -> None:
    def quiet() -> bool:
        codes = set(_checks(ready))
        return not codes & {"MGR_MODULE_ERROR", "MGR_MODULE_DEPENDENCY"}

    _wait(quiet, "no module health errors")
    # devicehealth made its pool, as upstream's does on a cluster with enough OSDs
    _wait(lambda: "device_health_metrics" in _ok(ready, "osd", "pool", "ls"), "the devicehealth pool")  # fmt: skip
    assert quiet()


def test_selftest(ready: str) -> None:
    assert _outs(ready, "mgr", "self-test", "run").strip() == "Self-test succeeded"
    assert _ok(ready, "mgr", "self-test", "python-version").startswith("3.")
    for m in ("balancer", "crash", "status", "progress", "telemetry", "pg_autoscaler"):
        assert _outs(ready, "mgr", "self-test", "module", m).strip() == "Self-test OK"
    # options of the module, plain and localized
    _ok(ready, "config", "set", "mgr", "mgr/selftest/testkey", "plainval")
    _ok(ready, "config", "set", "mgr", "mgr/selftest/x/testlkey", "localval")
    _wait(lambda: _ok(ready, "mgr", "self-test", "config", "get", "testkey") == "plainval", "testkey")  # fmt: skip
    assert _ok(ready, "mgr", "self-test", "config", "get_localized", "testlkey") == "localval"
    # health checks set by a module reach `ceph health`, and go again
    checks = {"MGR_TEST_WARNING": {"severity": "warning", "summary": "Test warning", "detail": ["d1"]}}  # fmt: skip
    _ok(ready, "mgr", "self-test", "health", "set", json.dumps(checks))
    _wait(lambda: "MGR_TEST_WARNING" in _checks(ready), "the module's health check")
    assert _checks(ready)["MGR_TEST_WARNING"]["summary"]["message"] == "Test warning"
    _ok(ready, "mgr", "self-test", "health", "clear")
    _wait(lambda: "MGR_TEST_WARNING" not in _checks(ready), "the check cleared")
    # the cluster log
    _ok(ready, "mgr", "self-test", "cluster-log", "cluster", "info", "selftest-hello")
    _wait(lambda: "selftest-hello" in _ok(ready, "log", "last", "50"), "the cluster log line")
    # a background workload runs and stops
    assert "Running `command_spam`" in _outs(ready, "mgr", "self-test", "background", "start", "command_spam")  # fmt: skip
    assert "Stopping background workload" in _outs(ready, "mgr", "self-test", "background", "stop")
    # upstream's command_spam reweights OSDs at random: put them back, for the tests after
    for osd in ("0", "1", "2"):
        _ok(ready, "osd", "reweight", osd, "1")
    # remote() to a module that is not running: upstream's ImportError, as on the
    # reference cluster, where influx cannot run either
    p = _ceph(ready, "mgr", "self-test", "remote")
    assert p.returncode != 0 and "ImportError: Module not found" in p.stderr


def test_status_module(ready: str) -> None:
    # Pacific's status module prints a table only (it has no JSON form of this one)
    lines = _ok(ready, "osd", "status").strip("\n").splitlines()
    assert lines[0].split()[:4] == ["ID", "HOST", "USED", "AVAIL"]
    assert [ln.split()[0] for ln in lines[1:]] == ["0", "1", "2"]
    assert all(ln.rstrip().endswith("exists,up") for ln in lines[1:])
    assert _ceph(ready, "fs", "status").returncode == 0


def test_iostat(ready: str) -> None:
    _wait(lambda: _ceph(ready, "iostat").returncode == 0, "iostat")
    assert "|" in _ok(ready, "iostat")


def test_crash(ready: str) -> None:
    # recent (within the module's warn_recent_interval), so it raises RECENT_CRASH
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    crash_id = f"{stamp}_{uuid.uuid4()}"
    meta = {
        "crash_id": crash_id,
        "timestamp": stamp,
        "entity_name": "osd.1",
        "process_name": "ceph-osd",
        "ceph_version": "16.2.15",
        "utsname_hostname": "host1",
        "utsname_sysname": "Linux",
        "utsname_release": "6.1.0",
        "utsname_machine": "x86_64",
        "backtrace": ["frame 1", "frame 2"],
    }
    _ok(ready, "crash", "post", "-i", "-", inbuf=json.dumps(meta))
    assert crash_id in _ok(ready, "crash", "ls")
    assert [c["crash_id"] for c in _json(ready, "crash", "ls-new")] == [crash_id]
    info = json.loads(_ok(ready, "crash", "info", crash_id))
    assert info["entity_name"] == "osd.1" and info["backtrace"] == ["frame 1", "frame 2"]
    _wait(lambda: "RECENT_CRASH" in _checks(ready), "RECENT_CRASH")
    _ok(ready, "crash", "archive", crash_id)
    assert _json(ready, "crash", "ls-new") == []
    _wait(lambda: "RECENT_CRASH" not in _checks(ready), "RECENT_CRASH cleared")
    assert _ok(ready, "crash", "stat").startswith("1 crashes recorded")
    # the module answers +EINVAL (sic, upstream's crash module) with its message
    p = _ceph(ready, "crash", "info", "nosuchcrash")
    assert p.stdout == "" and p.stderr.strip() == "crash info: nosuchcrash not found"


def test_pg_autoscaler(ready: str) -> None:
    _wait(lambda: "device_health_metrics" in _ok(ready, "osd", "pool", "ls"), "a pool")
    rows = _wait(lambda: _json(ready, "osd", "pool", "autoscale-status"), "autoscale-status")
    row = next(r for r in rows if r["pool_name"] == "device_health_metrics")
    assert row["pg_autoscale_mode"] == "on" and row["pg_num_target"] >= 1
    assert "AUTOSCALE" in _ok(ready, "osd", "pool", "autoscale-status")


def test_pg_autoscaler_changes_pg_num(ready: str) -> None:
    """Mode `on`: upstream's autoscaler moves a bulk pool's pg_num to the target it shows in
    autoscale-status, and the PGs split and settle active+clean."""
    _ok(ready, "config", "set", "mgr", "mgr/pg_autoscaler/sleep_interval", "1")
    _ok(ready, "osd", "pool", "create", "scaled", "1")
    try:
        _ok(ready, "osd", "pool", "set", "scaled", "bulk", "true")

        def target() -> int:
            rows = _json(ready, "osd", "pool", "autoscale-status")
            return int(next(r for r in rows if r["pool_name"] == "scaled")["pg_num_final"])

        want = _wait(lambda: target() > 1 and target(), "a bigger pg_num in autoscale-status")
        _wait(lambda: _json(ready, "osd", "pool", "get", "scaled", "pg_num")["pg_num"] == want,
              f"the autoscaler to set pg_num {want}", timeout=2 * MODULE_WAIT)  # fmt: skip
        _wait(lambda: _all_clean(ready), "the split PGs active+clean")
    finally:
        _ok(ready, "osd", "pool", "delete", "scaled", "scaled", "--yes-i-really-really-mean-it")
        _ok(ready, "config", "rm", "mgr", "mgr/pg_autoscaler/sleep_interval")


def _rbd(conf: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pyceph.cli.rbd_main", "-c", conf, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _iotop_until(conf: str, want: bytes, *args: str) -> bytes:
    """Run `rbd perf image iotop` on a terminal until its screen shows `want`, then press
    q; the screen's bytes (it must exit 0)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "LINES": "24", "COLUMNS": "120"}
    cmd = [sys.executable, "-m", "pyceph.cli.rbd_main", "-c", conf, "perf", "image", "iotop", *args]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    screen = b""
    try:

        def shows() -> bool:
            nonlocal screen
            if select.select([master], [], [], 1.0)[0]:
                screen += os.read(master, 65536)
            return want in screen

        _wait(shows, f"iotop to show {want!r}")
        os.write(master, b"q")
        assert proc.wait(timeout=30) == 0, screen
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return screen


def test_rbd_perf_image_stats(ready: str) -> None:
    """Upstream's rbd_support asks the OSDs for per-image counters (OSD perf metric
    queries): an image being written shows in `rbd perf image counters` with its ops, and
    in `rbd perf image iostat` (JSON once, and the table) with a write rate."""
    import rados
    import rbd

    _ok(ready, "osd", "pool", "create", "perfpool", "8")
    stop = threading.Event()
    try:
        with rados.Rados(conffile=ready) as cluster, cluster.open_ioctx("perfpool") as io:
            rbd.RBD().pool_init(io, False)
            rbd.RBD().create(io, "busy", 8 << 20)

            def writer() -> None:
                with rbd.Image(io, "busy") as image:
                    while not stop.is_set():
                        image.write(b"x" * 4096, 0)

            t = threading.Thread(target=writer, name="perf-writer")
            t.start()
            try:
                rows = _wait(
                    lambda: _json(ready, "rbd", "perf", "image", "counters", "perfpool")["counters"],
                    "the image's counters", timeout=2 * MODULE_WAIT,
                )  # fmt: skip
                (row,) = [r for r in rows if "0/busy" in r]
                assert row["0/busy"][0] >= 1  # counter_descriptors: write_ops first
                p = _rbd(ready, "perf", "image", "iostat", "perfpool", "--format", "json")
                assert p.returncode == 0, p.stderr
                (image,) = json.loads(p.stdout)
                assert (image["pool"], image["image"]) == ("perfpool", "busy")
                assert image["write_ops"] > 0 and image["read_ops"] == 0
                p = _rbd(ready, "perf", "image", "iostat", "--iterations", "1", "perfpool")
                assert p.returncode == 0, p.stderr
                head, line = p.stdout.splitlines()[:2]
                assert head.split() == ["NAME", "WR", "RD", "WR_BYTES", "RD_BYTES", "WR_LAT", "RD_LAT"]  # fmt: skip
                assert line.split()[0] == "busy" and line.split()[1].endswith("/s")
                screen = _iotop_until(ready, b"busy", "perfpool")
                assert b">WRITES OPS" in screen and b"IMAGE" in screen
            finally:
                stop.set()
                t.join()
        p = _rbd(ready, "perf", "image", "iostat", "--sort-by", "write_ops", "perfpool")
        assert p.returncode != 0 and "--sort-by" in p.stderr  # upstream: '-' separates words
    finally:
        _ok(ready, "osd", "pool", "delete", "perfpool", "perfpool", "--yes-i-really-really-mean-it")


def test_progress(ready: str) -> None:
    assert set(_json(ready, "progress", "json")) == {"events", "completed"}
    assert _ceph(ready, "progress").returncode == 0


#: Times `test_progress_events_show_in_status` marks its OSD out or in at most.
PROGRESS_TOGGLES = 4


def test_progress_events_show_in_status(ready: str) -> None:
    """An OSD marked out (or in) starts the progress module's events for the PGs that
    move; while PGs are not active+clean (a size-4 pool on 3 OSDs stays undersized) its
    Global Recovery Event shows in `ceph -s` (JSON and plain), and all end once the OSD
    is in and the PGs are clean.

    The module compares the acting sets of the map it last saw with the newest map when
    it processes the change; by then the newest may already hold the pg_temp a primary
    asked for to backfill, which keeps the acting set (upstream's module races the same
    way): then no PG "moved" and no event starts. So the OSD is marked out and in again,
    a bounded number of times, until one change starts an event."""

    def events() -> dict[str, Any]:
        return _json(ready, "status")["progress_events"]

    def shown() -> list[dict[str, Any]]:
        return [e for e in events().values() if e["add_to_ceph_s"]]

    _wait(lambda: "device_health_metrics" in _ok(ready, "osd", "pool", "ls"), "a pool")
    _wait(lambda: _all_clean(ready), "every PG active+clean before the change")
    for pool, size in (("moved", "2"), ("undersized", "4")):
        _ok(ready, "osd", "pool", "create", pool, "4")
        _ok(ready, "osd", "pool", "set", pool, "size", size)

    def settled() -> bool:
        states = _json(ready, "pg", "stat")["pg_summary"]["num_pg_by_state"]
        return {s["name"] for s in states} <= {
            "active+clean", "active+clean+remapped", "active+undersized+degraded",
            "active+undersized+degraded+remapped",
        }  # fmt: skip

    _wait(settled, "the new pools' PGs peered (the size-4 one undersized)")
    victim = str(_json(ready, "pg", "ls-by-pool", "moved")["pg_stats"][0]["acting"][0])
    marked = "in"
    try:
        for _ in range(PROGRESS_TOGGLES):
            marked = "out" if marked == "in" else "in"
            _ok(ready, "osd", marked, victim)
            try:
                found = wait_until(shown, "an event in status", MODULE_WAIT / 4)
                break
            except AssertionError:
                _wait(settled, "the PGs settled before the next change")
        else:
            raise AssertionError(f"no progress event after {PROGRESS_TOGGLES} changes")
        assert 0.0 <= found[0]["progress"] <= 1.0
        first = found[0]["message"].splitlines()[0]
        assert first.startswith("Global Recovery Event")
        plain = _ok(ready, "status")  # the PGs are still undersized: the event is still there
        assert f"\n  progress:\n    {first.split(' (')[0]}" in plain
        tracked = _json(ready, "progress", "json")
        assert any(
            e["message"] == f"Rebalancing after osd.{victim} marked {marked}"
            for e in tracked["events"] + tracked["completed"]
        )
    finally:
        _ok(ready, "osd", "in", victim)
        for pool in ("moved", "undersized"):
            _ok(ready, "osd", "pool", "rm", pool, pool, "--yes-i-really-really-mean-it")
    _wait(lambda: not events(), "the events to complete", timeout=2 * MODULE_WAIT)
    assert "progress:" not in _ok(ready, "status")


def test_balancer(ready: str) -> None:
    st = _json(ready, "balancer", "status")
    assert st["active"] is True and st["mode"] == "upmap"
    assert _ok(ready, "balancer", "eval").startswith("current cluster score")
    p = _ceph(ready, "balancer", "mode", "nosuchmode")
    assert p.returncode != 0


def test_telemetry_show(ready: str) -> None:
    out = _ok(ready, "telemetry", "show")
    text, _, note = out.partition("\n \n")  # the report, then a note on the device report
    assert "telemetry show-device" in note
    report = json.loads(text)
    assert {"channels", "report_id", "usage", "metadata"} <= set(report)
    assert report["usage"]["pools"] >= 1 and report["usage"]["total_bytes"] > 0
    assert report["hosts"]["num_with_osd"] == 1 and "crashes" in report


#: The reference's /metrics (Ceph 16.2.15, 3 OSDs): the names Debian's exporter must serve.
PROMETHEUS_SAMPLE = os.path.join(
    os.path.dirname(__file__), "..", "unit", "data", "samples", "prometheus-metrics.txt"
)
#: Families of the sample that need daemons or stores pyceph does not have (the same
#: list test_prometheus.py keeps for the built-in exporter), and why.
PROMETHEUS_NOT_SERVED = {
    "ceph_bluestore_": "BlueStore internals: pyceph's OSDs store objects in LMDB",
    "ceph_bluefs_": "BlueFS internals: pyceph's OSDs store objects in LMDB",
    "ceph_rocksdb_": "RocksDB internals: pyceph's monitor store is LMDB",
    "ceph_prioritycache": "the RocksDB/BlueStore cache autotuner: no such cache in pyceph",
}


def _metric_names(text: str) -> set[str]:
    """Sample names of an exposition text (the `# TYPE` families and their series)."""
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    names: set[str] = set()
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            counter_total = fam.type == "counter" and s.name == fam.name + "_total"
            names.add(fam.name if counter_total else s.name)
    return names


def _http_get(url: str) -> tuple[str, str] | None:
    """(Server header, body) of a GET, None while nothing answers."""
    import urllib.error  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.headers.get("Server", ""), r.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None


def test_debian_prometheus(ready: str) -> None:
    """With Debian's folder on `mgr_module_path`, its `prometheus` shadows pyceph's
    built-in (the folder is searched first, as upstream runs what the path holds):
    the CherryPy server Debian's module starts (`Server: Ceph-Prometheus`) answers `/metrics` with every metric
    name of the reference sample that the cluster has daemons for."""
    from pyceph.cli.localcluster import free_port  # noqa: PLC0415

    port = free_port()
    for name, value in (("server_addr", "127.0.0.1"), ("server_port", str(port)), ("scrape_interval", "5")):  # fmt: skip
        _ok(ready, "config", "set", "mgr", f"mgr/prometheus/{name}", value)
    _ok(ready, "mgr", "module", "enable", "prometheus")
    # the reference sample's cluster had `noout` set: a health check for ceph_health_detail
    _ok(ready, "osd", "set", "noout")
    try:
        url = f"http://127.0.0.1:{port}/metrics"

        def served() -> tuple[str, str] | None:
            got = _http_get(url)
            return got if got is not None and 'name="OSDMAP_FLAGS"' in got[1] else None

        server, text = _wait(served, "Debian's exporter to serve /metrics")
        # Debian's module names its CherryPy server so; pyceph's built-in is aiohttp's
        assert server == "Ceph-Prometheus", f"not Debian's module: Server {server!r}"
        with open(PROMETHEUS_SAMPLE) as f:
            ref = _metric_names(f.read())
        ours = _metric_names(text)
        missing = sorted(n for n in ref - ours if not n.startswith(tuple(PROMETHEUS_NOT_SERVED)))
        assert not missing, f"metric names of the reference sample not served: {missing}"
        svc = _wait(lambda: _json(ready, "mgr", "services").get("prometheus"), "the service URI")
        assert svc == f"http://127.0.0.1:{port}/"
    finally:
        _ok(ready, "osd", "unset", "noout")
        _ok(ready, "mgr", "module", "disable", "prometheus")
