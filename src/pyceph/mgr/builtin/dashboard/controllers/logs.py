"""``/api/logs/all``: the latest cluster log and audit log entries, newest first.

Upstream: src/pybind/mgr/dashboard/controllers/logs.py (``clog`` and
``audit_log``, `LOG_BUFFER_SIZE` entries each, from ``log last``).
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Route, Scope

#: entries of each log shown (upstream's LOG_BUFFER_SIZE)
LOG_BUFFER_SIZE = 30


class LogsModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    clog: list[dict[str, Any]]
    audit_log: list[dict[str, Any]]


class Logs(ApiView):
    SCOPE = Scope.LOG
    TAG = "Logs"

    async def _last(self, channel: str) -> list[dict[str, Any]]:
        cmd = {"prefix": "log last", "channel": channel, "num": LOG_BUFFER_SIZE, "level": "debug"}
        lines = await self.mon(cmd, component="logs") or []
        return list(reversed(lines))

    async def get(self) -> r200[LogsModel]:
        """Display Logs Configuration

        Tags: Logs
        """
        return self.json(
            {"clog": await self._last("cluster"), "audit_log": await self._last("audit")}
        )


ROUTES: list[Route] = [("/api/logs/all", Logs)]
