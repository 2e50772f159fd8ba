"""``/api/cluster_conf``: the configuration options and their values in the mon's
config database; set or remove them per section.

Upstream: src/pybind/mgr/dashboard/controllers/cluster_configuration.py — each
option of ``mgr.get('config_options')`` with ``value: [{section, value}]`` from
``config dump``; ``POST {name, value: [{section, value}]}`` sets the listed
sections and removes the option from the others; ``PUT {options: {name:
{section, value}}}`` sets several; ``DELETE /{name}?section=`` removes one.
Options that cannot change at runtime are refused (400
``config_option_not_updatable_at_runtime``); an unknown option is 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r204, r404
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, DashboardError, Route, Scope

COMPONENT = "cluster_configuration"
#: the sections a value can be set in (upstream's avail_sections)
SECTIONS = ("global", "mon", "mgr", "osd", "mds", "client")


class OptionModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    type: str


class SectionValue(BaseModel):
    section: str
    value: Any = None


class CreateBody(BaseModel):
    name: str
    value: list[SectionValue]


class BulkBody(BaseModel):
    options: dict[str, SectionValue]


def with_values(
    options: list[dict[str, Any]], dump: list[dict[str, Any]], fsid: str
) -> list[dict[str, Any]]:
    """`options` with their configured values (``value``, ``source: mon``)."""
    by_name = {o["name"]: o for o in options}
    for entry in [*dump, {"name": "fsid", "section": "mgr", "value": fsid}]:
        opt = by_name.get(entry.get("name"))
        if opt is None:
            continue
        if "value" not in opt:
            opt["value"] = []
            opt["source"] = "mon"
        opt["value"].append({"section": entry.get("section"), "value": entry.get("value")})
    return options


class _Conf(ApiView):
    SCOPE = Scope.CONFIG_OPT
    TAG = "ClusterConfiguration"

    async def _options(self) -> list[dict[str, Any]]:
        mgr = self.mgr
        options = await self.blocking(
            lambda: [dict(o) for o in (mgr.get("config_options") or {}).get("options", [])]
        )
        dump = await self.mon({"prefix": "config dump"}, component=COMPONENT) or []
        fsid = await self.blocking(lambda: str((mgr.get("config") or {}).get("fsid", "")))
        return with_values(options, dump, fsid)

    async def _option(self, name: str) -> dict[str, Any]:
        for opt in await self._options():
            if opt["name"] == name:
                return opt
        raise DashboardError(
            f"Config option '{name}' not found", code="2", component=COMPONENT, status=404
        )

    async def _check_runtime(self, names: list[str]) -> None:
        options = {o["name"]: o for o in await self._options()}
        unknown = [n for n in names if n not in options]
        if unknown:
            raise DashboardError(
                f"Config option '{unknown[0]}' not found", code="2", component=COMPONENT, status=404
            )
        fixed = [n for n in names if not options[n].get("can_update_at_runtime", True)]
        if fixed:
            raise DashboardError(
                f"Config option {', '.join(fixed)} is/are not updatable at runtime",
                code="config_option_not_updatable_at_runtime",
                component=COMPONENT,
            )

    async def _set(self, section: str, name: str, value: Any) -> None:
        if section not in SECTIONS:
            raise DashboardError(f"Invalid section '{section}'", code="22", component=COMPONENT)
        cmd = {"prefix": "config set", "who": section, "name": name, "value": str(value)}
        await self.mon(cmd, component=COMPONENT)


class Conf(_Conf):
    async def get(self) -> r200[list[OptionModel]]:
        """List the configuration options and their values

        Tags: ClusterConfiguration
        """
        return self.json(await self._options())

    async def post(self, body: CreateBody) -> r201[None] | r404:
        """Set an option's values per section (others are removed)

        Tags: ClusterConfiguration
        """
        await self._check_runtime([body.name])
        for entry in body.value:
            if entry.section not in SECTIONS:
                raise DashboardError(
                    f"Invalid section '{entry.section}'", code="22", component=COMPONENT
                )
        wanted = {e.section: e.value for e in body.value if e.value is not None}
        for section in SECTIONS:
            if section in wanted:
                await self._set(section, body.name, wanted[section])
            else:
                cmd = {"prefix": "config rm", "who": section, "name": body.name}
                await self.mon(cmd, component=COMPONENT)
        return self.json(None, status=201)

    async def put(self, body: BulkBody) -> r200[None] | r404:
        """Set several options

        Tags: ClusterConfiguration
        """
        await self._check_runtime(list(body.options))
        for entry in body.options.values():
            if entry.section not in SECTIONS:
                raise DashboardError(
                    f"Invalid section '{entry.section}'", code="22", component=COMPONENT
                )
        for name, entry in body.options.items():
            await self._set(entry.section, name, entry.value)
        return self.json(None)


class ConfItem(_Conf):
    async def get(self, name: str, /) -> r200[OptionModel] | r404:
        """Get an option and its values

        Tags: ClusterConfiguration
        """
        return self.json(await self._option(name))

    async def delete(self, name: str, /, section: str) -> r204 | r404:
        """Remove an option's value from a section

        Tags: ClusterConfiguration
        """
        await self._option(name)
        if section not in SECTIONS:
            raise DashboardError(f"Invalid section '{section}'", code="22", component=COMPONENT)
        await self.mon({"prefix": "config rm", "who": section, "name": name}, component=COMPONENT)
        return self.json(None, status=204)


ROUTES: list[Route] = [("/api/cluster_conf", Conf), ("/api/cluster_conf/{name}", ConfItem)]
