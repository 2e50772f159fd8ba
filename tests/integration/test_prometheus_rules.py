"""The ceph-mixin alert rules over pyceph's `/metrics`: no rule reads a series we lack.

The rules are Debian's (`ceph-prometheus-alerts` 16.2.15,
/etc/prometheus/ceph/ceph_default_alerts.yml, read at test time, never copied);
`promtool` is Debian's `prometheus` package (both in scripts/test-debs.txt).

1. `promtool check rules` accepts the rules file.
2. Every metric name a rule expression references (a small PromQL identifier scan:
   strings, label matchers, grouping clauses, ranges and function names taken out)
   is served by the built-in exporter on a cluster of the reference's shape — unless
   the reference's own sample (`refceph-samples/prometheus-metrics.txt`, Ceph 16.2.15)
   lacks it too (MDS, RGW, node-exporter series of daemons neither cluster runs).
3. `promtool test rules` loads our scrape as input series and evaluates, for each of
   those names, `count(<name>) > bool 0` at one minute: promtool itself finds the
   series in what we served.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families
from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import free_port

RULES = "/etc/prometheus/ceph/ceph_default_alerts.yml"
SAMPLE = os.path.join(
    os.path.dirname(__file__), "..", "unit", "data", "samples", "prometheus-metrics.txt"
)
#: Bound on the mgr, the module and the daemons' first reports.
WAIT = 60.0
#: Bound on one promtool run.
PROMTOOL_TIMEOUT = 120
#: PromQL words that look like identifiers but are not metric names.
PROMQL_WORDS = frozenset({"and", "or", "unless", "bool", "by", "without", "on", "ignoring",
                          "group_left", "group_right", "offset", "inf", "nan"})  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (identifiers that are not functions,
    keywords, label names or numbers)."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = re.sub(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", " ", text)
    names = set()
    for m in _IDENT.finditer(text):
        if m.group(2) is None and m.group(1).lower() not in PROMQL_WORDS:
            names.add(m.group(1))
    return names


def _series_names(text: str) -> set[str]:
    """Every sample name of an exposition text, as PromQL sees them."""
    out = set()
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.add(s.name)
            if fam.type == "counter" and s.name == fam.name + "_total":
                out.add(fam.name)  # the text names the counter without `_total`
    return out


def test_identifier_scan() -> None:
    assert metric_names('(rate(ceph_osd_up[5m]) * on(ceph_daemon) group_left(hostname) ceph_osd_metadata) * 60 > 1') == {"ceph_osd_up", "ceph_osd_metadata"}  # fmt: skip
    assert metric_names('ceph_health_detail{name="OSD_DOWN"} == 1') == {"ceph_health_detail"}
    assert metric_names("sum by (pool_id) (ceph_pool_bytes_used) / 1e3 > bool 0.5") == {"ceph_pool_bytes_used"}  # fmt: skip
    assert metric_names('label_replace(node_a, "x", "$1", "y", "(.*)") unless on() b:c') == {"node_a", "b:c"}  # fmt: skip


def _scrape(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            return r.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None


def _cmd(r: rados.Rados, **cmd: Any) -> int:
    return r.mon_command(json.dumps(cmd), b"")[0]


def _our_metrics(cluster_factory: Callable[..., Any]) -> str:
    """/metrics of the built-in exporter on the reference's shape (3 OSDs, 3 pools, noout)."""
    cluster = cluster_factory(3, mon_allow_pool_size_one="true")
    port = free_port()
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect()
    try:
        for name, value in (("server_addr", "127.0.0.1"), ("server_port", str(port)), ("scrape_interval", "1")):  # fmt: skip
            assert _cmd(r, prefix="config set", who="mgr", name=f"mgr/prometheus/{name}", value=value) == 0  # fmt: skip
        wait_until(lambda: _cmd(r, prefix="mgr module enable", module="prometheus") == 0, "enable", WAIT)  # fmt: skip
        for pool in ("samples_rbd", "samples_rados", "samples_noapp"):
            r.create_pool(pool)
        assert _cmd(r, prefix="osd set", key="noout") == 0
        io = r.open_ioctx("samples_rbd")
        io.write_full("obj", b"x" * 3000)
        io.close()

        def complete() -> str | None:
            text = _scrape(port)
            done = text and 'name="OSDMAP_FLAGS"' in text and "ceph_osd_op_w{" in text
            return text if done else None

        return wait_until(complete, "a complete /metrics page", WAIT)
    finally:
        r.shutdown()


def _promtool(*args: str, cwd: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: scripts/install_test_deps.sh installs `prometheus`"
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=PROMTOOL_TIMEOUT, cwd=cwd
    )


def _input_series(text: str) -> list[dict[str, str]]:
    """Our scrape as promtool input series: each sample, constant for ten minutes."""
    out = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(s.labels.items()))
            v = float(s.value)
            values = f"{v!r}+0x10" if v == v else "NaN"  # expanding notation: a+0 ten times
            out.append({"series": f"{s.name}{{{labels}}}", "values": values})
    return out


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def test_alert_rules_find_our_series(cluster_factory: Any, tmp_path: Any) -> None:
    assert os.path.exists(RULES), "ceph-prometheus-alerts missing: see scripts/test-debs.txt"
    check = _promtool("check", "rules", RULES, cwd=str(tmp_path))
    assert check.returncode == 0, check.stdout + check.stderr

    with open(RULES) as f:
        groups = yaml.safe_load(f)["groups"]
    wanted: dict[str, list[str]] = {}
    for g in groups:
        for rule in g["rules"]:
            for name in metric_names(str(rule["expr"])):
                wanted.setdefault(name, []).append(rule.get("alert") or rule.get("record"))
    assert len(wanted) > 20, sorted(wanted)  # the scan finds the rules' series

    text = _our_metrics(cluster_factory)
    ours = _series_names(text)
    with open(SAMPLE) as f:
        reference = _series_names(f.read())
    unknown = {n: alerts for n, alerts in sorted(wanted.items()) if n not in ours and n in reference}  # fmt: skip
    assert not unknown, f"series the alert rules read, served by the reference but not by us: {unknown}"  # fmt: skip
    checked = sorted(n for n in wanted if n in ours)
    assert "ceph_health_detail" in checked and "ceph_osd_up" in checked

    # promtool finds each of them in the series loaded from our scrape
    tests = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": _input_series(text),
                "promql_expr_test": [
                    {
                        "expr": f"count({n}) > bool 0",
                        "eval_time": "1m",
                        "exp_samples": [{"labels": "{}", "value": 1}],
                    }  # fmt: skip
                    for n in checked
                ],
            }
        ],
    }
    path = tmp_path / "series_test.yml"
    path.write_text(json.dumps(tests))  # JSON is YAML
    run = _promtool("test", "rules", str(path), cwd=str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
