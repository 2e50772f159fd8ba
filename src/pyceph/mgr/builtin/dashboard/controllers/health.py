"""``/api/health/minimal`` and ``/api/health/full``: the cluster's state at a glance.

As upstream (controllers/health.py): each part is shown only to a user who may read
its scope (monitor, cephfs, osd, manager, pool, hosts, rgw, iscsi); the minimal
report keeps the few keys the UI's landing page needs (the reference's
``dashboard-api-health-minimal.json``). ``client_perf`` sums the per-pool client
I/O rates the mgr derives from the OSDs' PG stats.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp_pydantic.oas.typing import r200
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Permission, Route, Scope
from ..services import cluster


class HealthModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    health: dict[str, Any]


def _pick(d: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: d[k] for k in keys if k in d}


def collect(mgr: Any, allowed: set[str], minimal: bool) -> dict[str, Any]:
    """The health report for a user who may read the scopes in `allowed` (blocking)."""
    out: dict[str, Any] = {"health": cluster.health_report(mgr.get("health"))}
    if Scope.MONITOR in allowed:
        mon = json.loads((mgr.get("mon_status") or {}).get("json") or "{}")
        if minimal:
            mons = (mon.get("monmap") or {}).get("mons", [])
            mon = {"monmap": {"mons": [{} for _ in mons]}, "quorum": mon.get("quorum", [])}
        out["mon_status"] = mon
    if Scope.CEPHFS in allowed:
        fs_map = mgr.get("fs_map") or {}
        out["fs_map"] = _pick(fs_map, ("filesystems", "standbys")) if minimal else fs_map
        out["fs_map"].setdefault("filesystems", [])
        out["fs_map"].setdefault("standbys", [])
    if Scope.OSD in allowed:
        osd_map = dict(mgr.get("osd_map") or {})
        osd_map.pop("pg_temp", None)
        pg_summary = mgr.get("pg_summary") or {}
        if minimal:
            osd_map = {"osds": [_pick(o, ("in", "up", "state")) for o in osd_map.get("osds", [])]}
        else:
            osd_map["tree"] = mgr.get("osd_map_tree")
            osd_map["crush"] = mgr.get("osd_map_crush")
            osd_map["crush_map_text"] = mgr.get("osdmap_crush_map_text")
            osd_map["osd_metadata"] = mgr.get("osd_metadata")
        out["osd_map"] = osd_map
        flags = (mgr.get("osd_map") or {}).get("flags_set", [])
        out["scrub_status"] = cluster.scrub_status(flags, pg_summary)
        out["pg_info"] = cluster.pg_info(pg_summary)
    if Scope.MANAGER in allowed:
        mgr_map = mgr.get("mgr_map") or {}
        out["mgr_map"] = _pick(mgr_map, ("active_name", "standbys")) if minimal else mgr_map
    if Scope.POOL in allowed:
        pools = list((mgr.get("osd_map") or {}).get("pools", []))
        df = dict(mgr.get("df") or {})
        df.pop("stats_by_class", None)
        if minimal:
            pools = [{} for _ in pools]
            stats = df.get("stats") or {}
            df = {
                "stats": _pick(stats, ("total_avail_bytes", "total_bytes", "total_used_raw_bytes"))
            }
        out["pools"] = pools
        out["df"] = df
        out["client_perf"] = cluster.client_perf(
            (mgr.get("osd_pool_stats") or {}).get("pool_stats", [])
        )
    if Scope.HOSTS in allowed:
        out["hosts"] = len(mgr.list_servers())
    if Scope.RGW in allowed:
        out["rgw"] = 0  # no RGW daemons in pyceph
    if Scope.ISCSI in allowed:
        out["iscsi_daemons"] = {"up": 0, "down": 0}
    return out


class _Health(ApiView):
    TAG = "Health"
    MINIMAL = True

    async def _report(self) -> Any:
        allowed = {s for s in Scope.all_scopes() if self.has_permission(s, Permission.READ)}
        return self.json(await self.blocking(collect, self.mgr, allowed, self.MINIMAL))


class HealthMinimal(_Health):
    async def get(self) -> r200[HealthModel]:
        """Get Cluster's health report with lesser details

        Tags: Health
        """
        return await self._report()


class HealthFull(_Health):
    MINIMAL = False

    async def get(self) -> r200[HealthModel]:
        """Get Cluster's detailed health report

        Tags: Health
        """
        return await self._report()


ROUTES: list[Route] = [("/api/health/minimal", HealthMinimal), ("/api/health/full", HealthFull)]
