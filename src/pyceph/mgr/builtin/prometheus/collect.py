"""The exporter's metrics, built from cluster state (sans-I/O: dicts in, families out).

Names, help texts, label names (and their order) and types are those of upstream's
prometheus module of 16.2.15 (src/pybind/mgr/prometheus/module.py, as seen in a
reference cluster's `/metrics`). Each `add_*` function takes what one of the
module's `MgrModule.get()` calls returned and fills a `Families`; the module
times each group under upstream's method names for
`ceph_prometheus_collect_duration_seconds_{sum,count}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import Metric

__all__ = [
    "Families",
    "HEALTH_STATUS",
    "PG_STATES",
    "OSD_FLAGS",
    "DF_CLUSTER",
    "DF_POOL",
    "OSD_POOL_STATS",
    "OSD_STATS",
    "NUM_OBJECTS",
    "promethize",
]

#: `ceph_health_status` values
HEALTH_STATUS = {"HEALTH_OK": 0, "HEALTH_WARN": 1, "HEALTH_ERR": 2}
#: every PG state a `ceph_pg_<state>` gauge exists for, per pool
PG_STATES = (
    "active", "clean", "down", "recovery_unfound", "backfill_unfound", "scrubbing",
    "degraded", "inconsistent", "peering", "repair", "recovering", "forced_recovery",
    "backfill_wait", "incomplete", "stale", "remapped", "deep", "backfilling",
    "forced_backfill", "backfill_toofull", "recovery_wait", "recovery_toofull",
    "undersized", "activating", "peered", "snaptrim", "snaptrim_wait", "snaptrim_error",
    "creating", "unknown", "premerge", "failed_repair", "laggy", "wait",
)  # fmt: skip
#: OSD map flags exported as `ceph_osd_flag_<flag>` (dashes become underscores)
OSD_FLAGS = (
    "noup", "nodown", "noout", "noin", "nobackfill", "norebalance", "norecover",
    "noscrub", "nodeep-scrub",
)  # fmt: skip
DF_CLUSTER = ("total_bytes", "total_used_bytes", "total_used_raw_bytes")
DF_POOL = (
    "max_avail", "avail_raw", "stored", "stored_raw", "objects", "dirty", "quota_bytes",
    "quota_objects", "rd", "rd_bytes", "wr", "wr_bytes", "compress_bytes_used",
    "compress_under_bytes", "bytes_used", "percent_used",
)  # fmt: skip
#: DF pool statistics that only grow
DF_POOL_COUNTERS = frozenset({"rd", "rd_bytes", "wr", "wr_bytes"})
OSD_POOL_STATS = (
    "recovering_objects_per_sec", "recovering_bytes_per_sec", "recovering_keys_per_sec",
    "num_objects_recovered", "num_bytes_recovered",
)  # fmt: skip
OSD_STATS = ("apply_latency_ms", "commit_latency_ms")
NUM_OBJECTS = ("degraded", "misplaced", "unfound")
#: `type` of an erasure-coded pool in `osd dump` (1 is replicated)
POOL_TYPE_ERASURE = 3
#: perf counter type bits (upstream perfcounter_type_d)
_TIME, _LONGRUNAVG, _COUNTER, _HISTOGRAM = 0x1, 0x4, 0x8, 0x10
_NSEC = 1e9


class Families:
    """Metric families by name, in the order they were declared."""

    def __init__(self) -> None:
        self.by_name: dict[str, Metric] = {}

    def declare(self, name: str, doc: str, mtype: str = "unknown") -> Metric:
        m = self.by_name.get(name)
        if m is None:
            m = Metric(name, doc, mtype)
            self.by_name[name] = m
        return m

    def set(self, name: str, value: float, labels: dict[str, str] | None = None) -> None:
        self.by_name[name].add_sample(name, dict(labels or {}), float(value))

    def __iter__(self) -> Any:
        return iter(self.by_name.values())


def promethize(path: str) -> str:
    """A perf counter path as a metric name: `osd.op_r` -> `ceph_osd_op_r`."""
    name = re.sub(r"[./\s]|::", "_", path).replace("+", "_plus")
    name = name[:-1] + "_minus" if name.endswith("-") else name.replace("-", "_")
    return "ceph_" + name


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


# ---------------------------------------------------------------------- get_health
def add_health(f: Families, health: dict[str, Any] | None, seen: set[tuple[str, str]]) -> None:
    """`ceph_health_status`, `ceph_health_detail` (checks ever seen: 0 once cleared)
    and `ceph_healthcheck_slow_ops`. `seen` persists across scrapes."""
    h = json.loads(health["json"]) if health and "json" in health else {}
    f.declare("ceph_health_status", "Cluster health status")
    f.set("ceph_health_status", HEALTH_STATUS.get(str(h.get("status")), 0))
    checks = dict(h.get("checks") or {})
    active = {(name, str(c.get("severity", ""))) for name, c in checks.items()}
    seen |= active
    f.declare("ceph_health_detail", "healthcheck status by type (0=inactive, 1=active)", "gauge")
    for name, sev in sorted(seen):
        f.set("ceph_health_detail", 1 if (name, sev) in active else 0, {"name": name, "severity": sev})  # fmt: skip
    slow = 0
    if "SLOW_OPS" in checks:
        m = re.match(r"\s*(\d+)", str(checks["SLOW_OPS"].get("summary", {}).get("message", "")))
        slow = int(m.group(1)) if m else 0
    f.declare("ceph_healthcheck_slow_ops", "OSD or Monitor requests taking a long time to process", "gauge")  # fmt: skip
    f.set("ceph_healthcheck_slow_ops", slow)


# ---------------------------------------------------------------------- get_quorum_status
def add_quorum(f: Families, mon_status: dict[str, Any] | None, host_of: dict[str, str], version: str) -> None:  # fmt: skip
    """`ceph_mon_quorum_status` and `ceph_mon_metadata`."""
    st = json.loads(mon_status["json"]) if mon_status and "json" in mon_status else {}
    quorum = set(st.get("quorum") or [])
    f.declare("ceph_mon_quorum_status", "Monitors in quorum", "gauge")
    f.declare("ceph_fs_metadata", "FS Metadata")
    f.declare("ceph_mds_metadata", "MDS Metadata")
    f.declare("ceph_mon_metadata", "MON Metadata")
    for mon in (st.get("monmap") or {}).get("mons", []):
        daemon = f"mon.{mon.get('name')}"
        addr = str(mon.get("public_addr") or mon.get("addr") or "")
        f.set("ceph_mon_metadata", 1, {
            "ceph_daemon": daemon,
            "hostname": host_of.get(daemon, ""),
            "public_addr": addr.split("/")[0].rsplit(":", 1)[0],
            "rank": str(mon.get("rank", "")),
            "ceph_version": version,
        })  # fmt: skip
        f.set("ceph_mon_quorum_status", 1 if mon.get("rank") in quorum else 0, {"ceph_daemon": daemon})  # fmt: skip


# ---------------------------------------------------------------------- get_mgr_status
def add_mgr(f: Families, mgr_map: dict[str, Any] | None, release: str, host_of: dict[str, str], version: str) -> None:  # fmt: skip
    """`ceph_mgr_metadata`, `ceph_mgr_status`, `ceph_mgr_module_status`, `..._can_run`."""
    mm = mgr_map or {}
    f.declare("ceph_mgr_metadata", "MGR metadata", "gauge")
    f.declare("ceph_mgr_status", "MGR status (0=standby, 1=active)", "gauge")
    f.declare("ceph_mgr_module_status", "MGR module status (0=disabled, 1=enabled, 2=auto-enabled)", "gauge")  # fmt: skip
    f.declare("ceph_mgr_module_can_run", "MGR module runnable state i.e. can it run (0=no, 1=yes)", "gauge")  # fmt: skip
    names = [(str(mm.get("active_name", "")), 1)] if mm.get("active_name") else []
    names += [(str(s.get("name", "")), 0) for s in mm.get("standbys", [])]
    for name, active in names:
        daemon = f"mgr.{name}"
        f.set("ceph_mgr_metadata", 1, {"ceph_daemon": daemon, "hostname": host_of.get(daemon, ""), "ceph_version": version})  # fmt: skip
        f.set("ceph_mgr_status", active, {"ceph_daemon": daemon})
    always = set((mm.get("always_on_modules") or {}).get(release, []))
    enabled = set(mm.get("modules") or [])
    for mod in sorted(mm.get("available_modules") or [], key=lambda m: str(m.get("name"))):
        name = str(mod.get("name"))
        state = 2 if name in always else 1 if name in enabled else 0
        f.set("ceph_mgr_module_status", state, {"name": name})
        f.set("ceph_mgr_module_can_run", 1 if mod.get("can_run", True) else 0, {"name": name})


# ---------------------------------------------------------------------- get_metadata_and_osd_status
def add_osds(
    f: Families,
    osd_map: dict[str, Any] | None,
    osd_metadata: dict[str, Any] | None,
    device_class: dict[int, str],
    version: str,
    services: dict[str, Any] | None,
) -> None:
    """OSD flags, up/in/weight, `ceph_osd_metadata`, `ceph_pool_metadata`, and the
    (here empty) disk occupation and RGW/rbd-mirror metadata families."""
    om = osd_map or {}
    flags = set(str(om.get("flags", "")).split(","))
    for flag in OSD_FLAGS:
        name = "ceph_osd_flag_" + flag.replace("-", "_")
        f.declare(name, f"OSD Flag {flag}")
        f.set(name, 1 if flag in flags else 0)
    f.declare("ceph_osd_weight", "OSD status weight")
    f.declare("ceph_osd_up", "OSD status up")
    f.declare("ceph_osd_in", "OSD status in")
    f.declare("ceph_osd_metadata", "OSD Metadata")
    f.declare("ceph_disk_occupation", "Associate Ceph daemon with disk used")
    f.declare("ceph_disk_occupation_human", "Associate Ceph daemon with disk used")
    md_all = osd_metadata or {}
    for osd in om.get("osds", []):
        oid = int(osd["osd"])
        daemon = f"osd.{oid}"
        for key, name in (("weight", "ceph_osd_weight"), ("up", "ceph_osd_up"), ("in", "ceph_osd_in")):  # fmt: skip
            f.set(name, _num(osd.get(key, 0)), {"ceph_daemon": daemon})
        md = md_all.get(str(oid))
        if not md:
            continue  # upstream skips an OSD the mgr has no metadata for
        f.set("ceph_osd_metadata", 1, {
            "back_iface": str(md.get("back_iface", "")),
            "ceph_daemon": daemon,
            "cluster_addr": str(osd.get("cluster_addr", "")).split("/")[0].rsplit(":", 1)[0],
            "device_class": device_class.get(oid, ""),
            "front_iface": str(md.get("front_iface", "")),
            "hostname": str(md.get("hostname", "")),
            "objectstore": str(md.get("osd_objectstore", "")),
            "public_addr": str(osd.get("public_addr", "")).split("/")[0].rsplit(":", 1)[0],
            "ceph_version": str(md.get("ceph_version", version)),
        })  # fmt: skip
    f.declare("ceph_pool_metadata", "POOL Metadata")
    profiles = om.get("erasure_code_profiles") or {}
    for pool in om.get("pools", []):
        ec = int(pool.get("type", 1)) == POOL_TYPE_ERASURE
        if ec:
            prof = profiles.get(str(pool.get("erasure_code_profile", ""))) or {}
            desc = f"ec:{prof.get('k', '')}+{prof.get('m', '')}"
        else:
            desc = f"replica:{pool.get('size', 0)}"
        opts = pool.get("options") or {}
        f.set("ceph_pool_metadata", 1, {
            "pool_id": str(pool["pool"]),
            "name": str(pool.get("pool_name", "")),
            "type": "erasure" if ec else "replicated",
            "description": desc,
            "compression_mode": str(opts.get("compression_mode", "none")),
        })  # fmt: skip
    f.declare("ceph_rgw_metadata", "RGW Metadata")
    f.declare("ceph_rbd_mirror_metadata", "RBD Mirror Metadata")
    for svc, name, label in (("rgw", "ceph_rgw_metadata", "instance_id"), ("rbd-mirror", "ceph_rbd_mirror_metadata", "ceph_daemon")):  # fmt: skip
        daemons = ((services or {}).get("services", {}).get(svc) or {}).get("daemons", {})
        for did, d in daemons.items():
            if not isinstance(d, dict):
                continue
            md = d.get("metadata", {})
            f.set(name, 1, {label: str(did), "hostname": str(md.get("hostname", "")), "ceph_version": str(md.get("ceph_version", ""))})  # fmt: skip


# ---------------------------------------------------------------------- get_pg_status
def add_pgs(f: Families, pg_summary: dict[str, Any] | None) -> None:
    """`ceph_pg_<state>` and `ceph_pg_total` per pool."""
    f.declare("ceph_pg_total", "PG Total Count per Pool", "gauge")
    for state in PG_STATES:
        f.declare(f"ceph_pg_{state}", f"PG {state} per pool", "gauge")
    for pool, states in sorted((pg_summary or {}).get("by_pool", {}).items(), key=lambda kv: int(kv[0])):  # fmt: skip
        counts = dict.fromkeys(PG_STATES, 0)
        total = 0
        for state_name, n in states.items():
            total += int(n)
            for s in str(state_name).split("+"):
                if s in counts:
                    counts[s] += int(n)
        labels = {"pool_id": str(pool)}
        f.set("ceph_pg_total", total, labels)
        for s, n in counts.items():
            f.set(f"ceph_pg_{s}", n, labels)


# ---------------------------------------------------------------------- get_osd_stats
def add_osd_stats(f: Families, osd_stats: dict[str, Any] | None) -> None:
    for stat in OSD_STATS:
        f.declare(f"ceph_osd_{stat}", f"OSD stat {stat}", "gauge")
    for osd in (osd_stats or {}).get("osd_stats", []):
        perf = osd.get("perf_stat", {})
        for stat in OSD_STATS:
            f.set(f"ceph_osd_{stat}", _num(perf.get(stat, 0)), {"ceph_daemon": f"osd.{osd['osd']}"})  # fmt: skip


# ---------------------------------------------------------------------- get_pool_stats
def add_pool_stats(f: Families, pool_stats: dict[str, Any] | None) -> None:
    for stat in OSD_POOL_STATS:
        f.declare(f"ceph_pool_{stat}", f"OSD pool stats: {stat}", "gauge")
    for pool in (pool_stats or {}).get("pool_stats", []):
        rate = pool.get("recovery_rate") or {}
        for stat in OSD_POOL_STATS:
            f.set(f"ceph_pool_{stat}", _num(rate.get(stat, 0)), {"pool_id": str(pool["pool_id"])})  # fmt: skip


# ---------------------------------------------------------------------- get_df
def add_df(f: Families, df: dict[str, Any] | None) -> None:
    d = df or {}
    for stat in DF_CLUSTER:
        name = f"ceph_cluster_{stat}"
        f.declare(name, f"DF {stat}", "gauge")
        f.set(name, _num((d.get("stats") or {}).get(stat, 0)))
    for stat in DF_POOL:
        f.declare(f"ceph_pool_{stat}", f"DF pool {stat}", "counter" if stat in DF_POOL_COUNTERS else "gauge")  # fmt: skip
    for pool in d.get("pools", []):
        st = pool.get("stats") or {}
        for stat in DF_POOL:
            f.set(f"ceph_pool_{stat}", _num(st.get(stat, 0)), {"pool_id": str(pool["id"])})


# ---------------------------------------------------------------------- get_num_objects
def add_num_objects(f: Families, pg_summary: dict[str, Any] | None, pool_stats: dict[str, Any] | None) -> None:  # fmt: skip
    """`ceph_num_objects_{degraded,misplaced,unfound}` and per-pool repaired objects."""
    ss = ((pg_summary or {}).get("pg_stats_sum") or {}).get("stat_sum", {})
    for kind in NUM_OBJECTS:
        name = f"ceph_num_objects_{kind}"
        f.declare(name, f"Number of {kind} objects", "gauge")
        f.set(name, _num(ss.get(f"num_objects_{kind}", 0)))
    f.declare("ceph_pool_objects_repaired", "Number of objects repaired in a pool", "counter")
    for p in (pool_stats or {}).get("pool_stats", []):
        n = (p.get("stat_sum") or {}).get("num_objects_repaired", 0)
        f.set("ceph_pool_objects_repaired", _num(n), {"poolid": str(p.get("poolid", p.get("pool_id")))})  # fmt: skip


# ---------------------------------------------------------------------- daemon health metrics
def add_daemon_health(f: Families, metrics: dict[str, list[dict[str, Any]]] | None) -> None:
    f.declare("ceph_daemon_health_metrics", "Health metrics for Ceph daemons", "gauge")
    for daemon, entries in sorted((metrics or {}).items()):
        for e in entries:
            f.set("ceph_daemon_health_metrics", _num(e.get("value", 0)), {"type": str(e.get("type", "")), "ceph_daemon": str(daemon)})  # fmt: skip


# ---------------------------------------------------------------------- perf counters
def add_perf_counters(f: Families, counters: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Every daemon's perf counters (from `get_all_perf_counters`): averages as
    `<name>_sum` (seconds for time averages) and `<name>_count`."""
    for daemon, paths in counters.items():
        for path, c in paths.items():
            name = promethize(path)
            labels = {"ceph_daemon": daemon}
            ctype = int(c.get("type", 0))
            desc = str(c.get("description", ""))
            if ctype & _LONGRUNAVG:
                f.declare(name + "_sum", desc + " Total", "counter")
                f.declare(name + "_count", desc + " Count", "counter")
                total = _num(c.get("value", 0))
                f.set(name + "_sum", total / _NSEC if ctype & _TIME else total, labels)
                f.set(name + "_count", _num(c.get("count", 0)), labels)
                continue
            kind = ctype & ~3
            mtype = "gauge" if kind == 0 else "histogram" if kind == _HISTOGRAM else "counter"
            if mtype == "histogram":
                continue  # upstream exports no perf histograms through get_all_perf_counters
            f.declare(name, desc, mtype)
            v = _num(c.get("value", 0))
            f.set(name, v / _NSEC if ctype & _TIME else v, labels)


# ---------------------------------------------------------------------- timing
def add_collect_durations(f: Families, durations: Iterable[tuple[str, float, int]]) -> None:
    """`ceph_prometheus_collect_duration_seconds_{sum,count}` per collecting method."""
    s = "ceph_prometheus_collect_duration_seconds_sum"
    c = "ceph_prometheus_collect_duration_seconds_count"
    f.declare(s, "The sum of seconds took to collect all metrics of this exporter", "counter")
    f.declare(c, "The amount of metrics gathered for this exporter", "counter")
    for method, total, count in durations:
        f.set(s, total, {"method": method})
        f.set(c, count, {"method": method})
