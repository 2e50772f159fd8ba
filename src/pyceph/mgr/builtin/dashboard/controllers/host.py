"""``/api/host``: the hosts the daemons run on and their services (no orchestrator).

Upstream: src/pybind/mgr/dashboard/controllers/host.py (``sources`` ceph only).
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r404
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, DashboardError, Route, Scope
from ..services import cluster


class HostModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    hostname: str
    services: list[dict[str, Any]]
    sources: dict[str, bool]


class Hosts(ApiView):
    SCOPE = Scope.HOSTS
    TAG = "Host"

    async def get(self) -> r200[list[HostModel]]:
        """List Host Specifications

        Tags: Host
        """
        return self.json(cluster.host_list(await self.blocking(self.mgr.list_servers)))


class HostItem(ApiView):
    SCOPE = Scope.HOSTS
    TAG = "Host"

    async def get(self, hostname: str, /) -> r200[HostModel] | r404:
        """Get the specified host

        Tags: Host
        """
        for host in cluster.host_list(await self.blocking(self.mgr.list_servers)):
            if host["hostname"] == hostname:
                return self.json(host)
        raise DashboardError(f"Host '{hostname}' not found", code="404", status=404)


ROUTES: list[Route] = [("/api/host", Hosts), ("/api/host/{hostname}", HostItem)]
