"""Cluster views the controllers share, as plain functions over the mgr's data.

Each takes what ``mgr.get(...)`` answers (or a perf counter series) and returns
upstream's dashboard shape; no I/O, so each is tested alone.

Upstream: src/pybind/mgr/dashboard/services/ceph_service.py (get_client_perf,
get_pg_info, get_scrub_status, get_rates, get_service_perf_counters),
tools.py (get_time_series_rates, get_most_recent_rate), controllers/osd.py,
controllers/host.py, controllers/health.py (minimal views).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = [
    "CLIENT_IO_STATS",
    "client_perf",
    "health_report",
    "host_list",
    "most_recent_rate",
    "osd_list",
    "pg_info",
    "scrub_status",
    "time_series_rates",
]

#: per-pool client I/O rates summed into `client_perf` (upstream's keys)
CLIENT_IO_STATS = ("read_bytes_sec", "read_op_per_sec", "write_bytes_sec", "write_op_per_sec")
RECOVERY_STATS = ("recovering_bytes_per_sec",)
#: pg_stats_sum counters shown as `object_stats`
OBJECT_STATS = (
    "num_objects",
    "num_object_copies",
    "num_objects_degraded",
    "num_objects_misplaced",
    "num_objects_unfound",
)
#: OSD counters shown as rates, and as latest values (upstream's osd list)
OSD_RATE_COUNTERS = ("osd.op_w", "osd.op_in_bytes", "osd.op_r", "osd.op_out_bytes")
OSD_GAUGE_COUNTERS = ("osd.numpg", "osd.stat_bytes", "osd.stat_bytes_used")


def client_perf(pool_stats: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Client I/O and recovery rates of the whole cluster, from ``osd_pool_stats``."""
    out: dict[str, float] = dict.fromkeys(CLIENT_IO_STATS + RECOVERY_STATS, 0)
    for pool in pool_stats:
        io = pool.get("client_io_rate") or {}
        rec = pool.get("recovery_rate") or {}
        for k in CLIENT_IO_STATS:
            out[k] += io.get(k, 0)
        for k in RECOVERY_STATS:
            out[k] += rec.get(k, 0)
    return out


def pg_info(pg_summary: dict[str, Any]) -> dict[str, Any]:
    """Object counts, PG states and PGs per OSD, from ``pg_summary``."""
    stat_sum = (pg_summary.get("pg_stats_sum") or {}).get("stat_sum") or {}
    by_osd = pg_summary.get("by_osd") or {}
    total = sum(sum(states.values()) for states in by_osd.values())
    return {
        "object_stats": {k: stat_sum.get(k, 0) for k in OBJECT_STATS},
        "statuses": dict(pg_summary.get("all") or {}),
        "pgs_per_osd": total / len(by_osd) if by_osd else 0.0,
    }


def scrub_status(flags_set: Sequence[str], pg_summary: dict[str, Any]) -> str:
    """``Disabled`` (noscrub and nodeep-scrub set), ``Active`` or ``Inactive``."""
    if "noscrub" in flags_set and "nodeep-scrub" in flags_set:
        return "Disabled"
    if any("scrubbing" in state for state in (pg_summary.get("all") or {})):
        return "Active"
    return "Inactive"


def health_report(health: dict[str, Any] | None) -> dict[str, Any]:
    """``mgr.get('health')`` with its checks as a list (each with its ``type``),
    sorted by severity, as upstream's basic_health."""
    doc = json.loads((health or {}).get("json") or "{}")
    checks = []
    for name, check in (doc.get("checks") or {}).items():
        checks.append({**check, "type": name})
    doc["checks"] = sorted(checks, key=lambda c: str(c.get("severity", "")))
    doc.setdefault("status", "HEALTH_OK")
    doc.setdefault("mutes", [])
    return doc


def time_series_rates(data: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """Per-second rates between consecutive samples (time, value[, count]): the
    derivative of the value, as upstream's get_time_series_rates."""
    out = []
    for a, b in zip(data, data[1:], strict=False):
        if b[0] > a[0]:
            out.append((float(b[0]), (b[1] - a[1]) / (b[0] - a[0])))
    return out


def most_recent_rate(rates: Sequence[Sequence[float]]) -> float:
    return float(rates[-1][1]) if rates else 0.0


def osd_list(
    osd_map: dict[str, Any],
    osd_stats: dict[str, Any],
    tree: dict[str, Any],
    counters: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Upstream's ``GET /api/osd``: each OSD of the map with its stats, tree node,
    host, perf counter rates (`counters`: id -> {counter: series or latest value})."""
    osds: dict[int, dict[str, Any]] = {}
    for osd in osd_map.get("osds", []):
        osds[int(osd["osd"])] = {**osd, "id": osd["osd"]}
    for stat in osd_stats.get("osd_stats", []):
        if int(stat["osd"]) in osds:
            osds[int(stat["osd"])]["osd_stats"] = stat
    nodes = tree.get("nodes", [])
    for node in nodes:
        if node.get("type") == "osd" and int(node["id"]) in osds:
            osds[int(node["id"])]["tree"] = node
    for host in (n for n in nodes if n.get("type") == "host"):
        for child in host.get("children", []):
            if child >= 0 and child in osds:
                osds[child]["host"] = host
    for osd_id, osd in osds.items():
        mine = counters.get(osd_id, {})
        osd["stats"] = {}
        osd["stats_history"] = {}
        for path in OSD_RATE_COUNTERS:
            rates = time_series_rates(mine.get(path) or [])
            osd["stats"][path.split(".")[1]] = most_recent_rate(rates)
            osd["stats_history"][path.split(".")[1]] = rates
        for path in OSD_GAUGE_COUNTERS:
            osd["stats"][path.split(".")[1]] = mine.get(path, 0)
        osd["operational_status"] = "unmanaged"
    return list(osds.values())


def host_list(servers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Upstream's ``GET /api/host`` from ``mgr.list_servers()`` (no orchestrator)."""
    out = []
    for server in servers:
        out.append(
            {
                "hostname": server.get("hostname", ""),
                "services": [
                    {"type": s.get("type"), "id": str(s.get("id"))}
                    | ({"ceph_version": s["ceph_version"]} if "ceph_version" in s else {})
                    for s in server.get("services", [])
                ],
                "ceph_version": server.get("ceph_version", ""),
                "addr": "",
                "labels": [],
                "sources": {"ceph": True, "orchestrator": False},
                "status": "",
            }
        )
    return out
