"""``/api/monitor``: the monitors, in and out of quorum, with their session counts.

Upstream: src/pybind/mgr/dashboard/controllers/monitor.py (``mon.num_sessions``
series per monitor under ``stats``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp_pydantic.oas.typing import r200
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Route, Scope

#: per-monitor perf counters shown under `stats`
MON_COUNTERS = ("mon.num_sessions",)


class MonitorModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    mon_status: dict[str, Any]
    in_quorum: list[dict[str, Any]]
    out_quorum: list[dict[str, Any]]


def collect(mgr: Any) -> dict[str, Any]:
    mon_status = json.loads((mgr.get("mon_status") or {}).get("json") or "{}")
    in_quorum, out_quorum = [], []
    quorum = mon_status.get("quorum", [])
    for mon in (mon_status.get("monmap") or {}).get("mons", []):
        mon["stats"] = {}
        for path in MON_COUNTERS:
            data = (mgr.get_counter("mon", mon["name"], path) or {}).get(path)
            mon["stats"][path.split(".")[1]] = [list(p) for p in data] if data else []
        (in_quorum if mon.get("rank") in quorum else out_quorum).append(mon)
    return {"mon_status": mon_status, "in_quorum": in_quorum, "out_quorum": out_quorum}


class Monitor(ApiView):
    SCOPE = Scope.MONITOR
    TAG = "Monitor"

    async def get(self) -> r200[MonitorModel]:
        """Get Monitor Details

        Tags: Monitor
        """
        return self.json(await self.blocking(collect, self.mgr))


ROUTES: list[Route] = [("/api/monitor", Monitor)]
