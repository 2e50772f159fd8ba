"""``/api/perf_counters``: every daemon's perf counters, and one daemon's by type.

Upstream: src/pybind/mgr/dashboard/controllers/perf_counters.py — the list is
``mgr.get_all_perf_counters()``; ``/api/perf_counters/<type>/<id>`` answers
``{service: {type, id}, counters: [{name, description, value, unit}]}``, counters
as their most recent rate and gauges as their latest value; each type has its
scope (mon: monitor, osd: osd, mgr: manager, ...).
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r404
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, DashboardError, Route, Scope
from ..services import cluster


class DaemonCounters(BaseModel):
    model_config = ConfigDict(extra="allow")
    service: dict[str, str]
    counters: list[dict[str, Any]]


def service_counters(mgr: Any, svc_type: str, svc_id: str) -> dict[str, Any]:
    """Upstream's get_service_perf_counters (blocking); KeyError for an unknown daemon."""
    schema = (mgr.get_perf_schema(svc_type, svc_id) or {})[f"{svc_type}.{svc_id}"]
    counters = []
    for name, desc in sorted(schema.items()):
        counter: dict[str, Any] = {"name": str(name), "description": desc.get("description", "")}
        if mgr._stattype_to_str(desc.get("type", 0)) == "counter":
            data = (mgr.get_counter(svc_type, svc_id, name) or {}).get(name) or []
            counter["value"] = cluster.most_recent_rate(cluster.time_series_rates(data))
            counter["unit"] = mgr._unit_to_str(desc.get("units", 0))
        else:
            counter["value"] = mgr.get_latest(svc_type, svc_id, name)
            counter["unit"] = ""
        counters.append(counter)
    return {"service": {"type": svc_type, "id": svc_id}, "counters": counters}


class PerfCounters(ApiView):
    TAG = "PerfCounters"

    async def get(self) -> r200[dict[str, Any]]:
        """Display Perf Counters

        Tags: PerfCounters
        """
        return self.json(await self.blocking(self.mgr.get_all_perf_counters))


def _daemon_view(svc_type: str, scope: str) -> type[ApiView]:
    class DaemonPerfCounters(ApiView):
        SCOPE = scope
        TAG = "PerfCounters"

        async def get(self, service_id: str, /) -> r200[DaemonCounters] | r404:
            """One daemon's perf counters

            Tags: PerfCounters
            """
            try:
                return self.json(
                    await self.blocking(service_counters, self.mgr, svc_type, service_id)
                )
            except KeyError:
                raise DashboardError(
                    f"'{svc_type}.{service_id}' not found", code="2", status=404
                ) from None

    DaemonPerfCounters.__name__ = f"{svc_type.title()}PerfCounters"
    return DaemonPerfCounters


#: daemon types with per-daemon counters and the scope that may read them
DAEMON_SCOPES = {"mon": Scope.MONITOR, "osd": Scope.OSD, "mgr": Scope.MANAGER}

ROUTES: list[Route] = [("/api/perf_counters", PerfCounters)] + [
    (f"/api/perf_counters/{t}/{{service_id}}", _daemon_view(t, s)) for t, s in DAEMON_SCOPES.items()
]
