"""``/api/summary``: what the UI's header polls: health status, mgr, version, tasks.

Upstream: src/pybind/mgr/dashboard/controllers/summary.py (keys as the
reference's ``dashboard-api-summary.json``; no rbd-mirror daemons here, so
``rbd_mirroring`` counts none).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp_pydantic.oas.typing import r200
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Route


class SummaryModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    health_status: str
    mgr_id: str
    mgr_host: str
    have_mon_connection: bool
    executing_tasks: list[dict[str, Any]]
    finished_tasks: list[dict[str, Any]]
    version: str
    rbd_mirroring: dict[str, int]


def health_status(health: Any) -> str:
    """The overall status of `mgr.get('health')` (``{'json': text}``)."""
    try:
        return str(json.loads((health or {}).get("json") or "{}").get("status", "HEALTH_OK"))
    except ValueError:
        return "HEALTH_ERR"


class Summary(ApiView):
    TAG = "Summary"

    async def get(self) -> r200[SummaryModel]:
        """Display Summary: health status, the active mgr, the version and the tasks.

        Tags: Summary
        """
        mgr = self.mgr

        def collect() -> dict[str, Any]:
            uri = (mgr.get("mgr_map") or {}).get("services", {}).get("dashboard", "")
            return {
                "health_status": health_status(mgr.get("health")),
                "mgr_id": mgr.get_mgr_id(),
                "mgr_host": uri,
                "have_mon_connection": bool(mgr.have_mon_connection()),
                "version": mgr.version,
            }

        out = await self.blocking(collect)
        tasks = self.ctx.tasks.list()
        out.update(tasks)
        out["rbd_mirroring"] = {"warnings": 0, "errors": 0}
        return self.json(out)


ROUTES: list[Route] = [("/api/summary", Summary)]
