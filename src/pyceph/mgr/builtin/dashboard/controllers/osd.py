"""``/api/osd``: the OSDs with their stats; mark in/out/down, reweight, scrub.

Upstream: src/pybind/mgr/dashboard/controllers/osd.py — the list merges the OSD
map, the OSD stats, the CRUSH tree node and host, and perf counter rates;
``GET /api/osd/{id}`` answers ``{osd_map, osd_metadata, histogram}``; ``PUT
.../mark`` runs ``osd out|in|down`` (an unknown action is refused with 400 here,
upstream only logs it); ``POST .../reweight`` runs ``osd reweight``; ``POST
.../scrub?deep=`` runs ``osd [deep-]scrub``. ``GET /api/osd/flags`` lists the
cluster-wide flags, ``PUT`` sets and unsets them (``osd set|unset``).
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp_pydantic.oas.typing import r200, r404
from pydantic import BaseModel, ConfigDict, Field

from ..framework import ApiView, DashboardError, Permission, Route, Scope
from ..services import cluster

COMPONENT = "osd"
#: the cluster-wide flags a user sets and unsets (``osd set|unset``)
SETTABLE_FLAGS = (
    "pause", "noup", "nodown", "noout", "noin", "nobackfill", "norebalance",
    "norecover", "noscrub", "nodeep-scrub", "notieragent", "nosnaptrim",
)  # fmt: skip


class OsdModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    osd: int
    id: int
    up: int
    stats: dict[str, Any]


class OsdDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    osd_map: dict[str, Any]
    osd_metadata: dict[str, Any] | None
    histogram: Any


class MarkBody(BaseModel):
    action: Literal["out", "in", "down"]


class FlagsBody(BaseModel):
    flags: list[str]


class ReweightBody(BaseModel):
    weight: float = Field(ge=0.0, le=1.0)


def _collect(mgr: Any) -> list[dict[str, Any]]:
    osd_map = mgr.get("osd_map") or {}
    counters: dict[int, dict[str, Any]] = {}
    for osd in osd_map.get("osds", []):
        name = str(osd["osd"])
        mine: dict[str, Any] = {}
        for path in cluster.OSD_RATE_COUNTERS:
            mine[path] = (mgr.get_counter("osd", name, path) or {}).get(path) or []
        for path in cluster.OSD_GAUGE_COUNTERS:
            mine[path] = mgr.get_latest("osd", name, path)
        counters[int(osd["osd"])] = mine
    return cluster.osd_list(
        osd_map, mgr.get("osd_stats") or {}, mgr.get("osd_map_tree") or {}, counters
    )


def _osd_of(mgr: Any, svc_id: int) -> dict[str, Any]:
    for osd in (mgr.get("osd_map") or {}).get("osds", []):
        if int(osd["osd"]) == svc_id:
            return {**osd, "id": osd["osd"]}
    raise DashboardError(f"OSD {svc_id} not found", code="2", component=COMPONENT, status=404)


class Osds(ApiView):
    SCOPE = Scope.OSD
    TAG = "OSD"

    async def get(self) -> r200[list[OsdModel]]:
        """List the OSDs with their stats

        Tags: OSD
        """
        return self.json(await self.blocking(_collect, self.mgr))


class OsdFlags(ApiView):
    SCOPE = Scope.OSD
    TAG = "OSD"

    async def get(self) -> r200[list[str]]:
        """Display OSD Flags

        Tags: OSD
        """
        osd_map = await self.blocking(self.mgr.get, "osd_map")
        return self.json(list((osd_map or {}).get("flags_set", [])))

    async def put(self, body: FlagsBody) -> r200[list[str]]:
        """Sets OSD flags for the entire cluster: the settable flags named are set,
        the others unset (upstream's set_flags); answers the flags now set.

        Tags: OSD
        """
        unknown = sorted(set(body.flags) - set(SETTABLE_FLAGS))
        osd_map = await self.blocking(self.mgr.get, "osd_map")
        current = set((osd_map or {}).get("flags_set", []))
        unknown = [f for f in unknown if f not in current]
        if unknown:
            raise DashboardError(
                f"Invalid flags: {', '.join(unknown)}", code="22", component=COMPONENT
            )
        wanted = set(body.flags) & set(SETTABLE_FLAGS)
        settable_now = current & set(SETTABLE_FLAGS)
        for flag in sorted(wanted - settable_now):
            await self.mon({"prefix": "osd set", "key": flag}, component=COMPONENT)
        for flag in sorted(settable_now - wanted):
            await self.mon({"prefix": "osd unset", "key": flag}, component=COMPONENT)
        return self.json(sorted((current - settable_now) | wanted))


class OsdItem(ApiView):
    SCOPE = Scope.OSD
    TAG = "OSD"

    async def get(self, svc_id: int, /) -> r200[OsdDetail] | r404:
        """Get the OSD: its map entry, metadata and histogram

        Tags: OSD
        """
        osd = await self.blocking(_osd_of, self.mgr, svc_id)
        meta = await self.blocking(self.mgr.get_metadata, "osd", str(svc_id))
        histogram = "perf histogram dump is not available"
        return self.json({"osd_map": osd, "osd_metadata": meta, "histogram": histogram})


class OsdMark(ApiView):
    SCOPE = Scope.OSD
    TAG = "OSD"

    async def put(self, svc_id: int, /, body: MarkBody) -> r200[None] | r404:
        """Mark the OSD in, out or down

        Tags: OSD
        """
        await self.blocking(_osd_of, self.mgr, svc_id)
        await self.mon({"prefix": f"osd {body.action}", "ids": [str(svc_id)]}, component=COMPONENT)
        return self.json(None)


class OsdReweight(ApiView):
    SCOPE = Scope.OSD
    TAG = "OSD"

    async def post(self, svc_id: int, /, body: ReweightBody) -> r200[None] | r404:
        """Reweight the OSD (0.0 to 1.0)

        Tags: OSD
        """
        await self.blocking(_osd_of, self.mgr, svc_id)
        await self.mon(
            {"prefix": "osd reweight", "id": svc_id, "weight": body.weight}, component=COMPONENT
        )
        return self.json(None)


class OsdScrub(ApiView):
    SCOPE = Scope.OSD
    PERMISSIONS = {"POST": Permission.UPDATE}
    TAG = "OSD"

    async def post(self, svc_id: int, /, deep: bool = False) -> r200[None] | r404:
        """Start a (deep) scrub of the OSD's PGs

        Tags: OSD
        """
        await self.blocking(_osd_of, self.mgr, svc_id)
        prefix = "osd deep-scrub" if deep else "osd scrub"
        await self.mon({"prefix": prefix, "who": str(svc_id)}, component=COMPONENT)
        return self.json(None)


ROUTES: list[Route] = [
    ("/api/osd", Osds),
    ("/api/osd/flags", OsdFlags),
    ("/api/osd/{svc_id}", OsdItem),
    ("/api/osd/{svc_id}/mark", OsdMark),
    ("/api/osd/{svc_id}/reweight", OsdReweight),
    ("/api/osd/{svc_id}/scrub", OsdScrub),
]
