"""``/api/mgr/module``: the mgr modules, their options; enable and disable them.

Upstream: src/pybind/mgr/dashboard/controllers/mgr_modules.py (scope config-opt;
``selftest`` is not managed; option defaults, min and max converted from the
MgrMap's strings to their types). A module the mgr does not have answers 404
(upstream fails an assertion).
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp_pydantic.oas.typing import r200, r404
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, DashboardError, Permission, Route, Scope

COMPONENT = "mgr_modules"
#: modules the dashboard does not list or change (upstream's ignore_modules)
IGNORED_MODULES = ("selftest",)
_NUMERIC = {"float": float, "uint": int, "int": int, "size": int, "secs": int}


class ModuleModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    enabled: bool
    always_on: bool
    options: dict[str, Any]


class ModuleConfig(BaseModel):
    config: dict[str, Any]


def convert_options(options: dict[str, Any]) -> dict[str, Any]:
    """Option schemas with typed default/min/max (upstream's _convert_module_options)."""
    out = copy.deepcopy(options)
    for opt in out.values():
        otype = opt.get("type")
        if otype == "str":
            if opt.get("default_value") == "None":
                opt["default_value"] = ""
        elif otype == "bool":
            dv = opt.get("default_value")
            opt["default_value"] = False if dv == "" else str(dv).lower() in ("true", "1", "yes")
        elif otype in _NUMERIC:
            cast = _NUMERIC[otype]
            for key in ("default_value", "min", "max"):
                v = opt.get(key)
                if v == "None":
                    opt[key] = None
                elif v not in (None, ""):
                    try:
                        opt[key] = cast(float(v)) if cast is int else cast(v)
                    except ValueError:
                        pass
    return out


def module_list(mgr_map: dict[str, Any], release: str) -> list[dict[str, Any]]:
    always_on = set((mgr_map.get("always_on_modules") or {}).get(release, []))
    enabled = set(mgr_map.get("modules") or [])
    out = []
    for mod in mgr_map.get("available_modules") or []:
        name = mod["name"]
        if name in IGNORED_MODULES:
            continue
        out.append(
            {
                "name": name,
                "enabled": name in enabled or name in always_on,
                "always_on": name in always_on,
                "options": convert_options(mod.get("module_options") or {}),
            }
        )
    return out


def _module(mgr: Any, name: str) -> dict[str, Any]:
    for mod in module_list(mgr.get("mgr_map") or {}, mgr.release_name):
        if mod["name"] == name:
            return mod
    raise DashboardError(f"Module '{name}' not found", code="2", component=COMPONENT, status=404)


class Modules(ApiView):
    SCOPE = Scope.CONFIG_OPT
    TAG = "MgrModule"

    async def get(self) -> r200[list[ModuleModel]]:
        """List Mgr modules

        Tags: MgrModule
        """
        mgr = self.mgr
        return self.json(
            await self.blocking(lambda: module_list(mgr.get("mgr_map") or {}, mgr.release_name))
        )


class ModuleItem(ApiView):
    SCOPE = Scope.CONFIG_OPT
    TAG = "MgrModule"

    async def get(self, module_name: str, /) -> r200[dict[str, Any]] | r404:
        """Retrieve the values of the module's options

        Tags: MgrModule
        """
        mod = await self.blocking(_module, self.mgr, module_name)
        mgr = self.mgr

        def values() -> dict[str, Any]:
            return {
                name: mgr.get_module_option_ex(module_name, name, opt.get("default_value"))
                for name, opt in mod["options"].items()
            }

        return self.json(await self.blocking(values))

    async def put(self, module_name: str, /, body: ModuleConfig) -> r200[None] | r404:
        """Set the values of the module's options

        Tags: MgrModule
        """
        mod = await self.blocking(_module, self.mgr, module_name)
        unknown = sorted(set(body.config) - set(mod["options"]))
        if unknown:
            raise DashboardError(
                f"Unknown options: {', '.join(unknown)}", code="22", component=COMPONENT
            )
        for name, value in body.config.items():
            cmd = {"prefix": "config set", "who": "mgr", "name": f"mgr/{module_name}/{name}"}
            await self.mon({**cmd, "value": str(value)}, component=COMPONENT)
        return self.json(None)


class ModuleOptions(ApiView):
    SCOPE = Scope.CONFIG_OPT
    TAG = "MgrModule"

    async def get(self, module_name: str, /) -> r200[dict[str, Any]] | r404:
        """The module's option schemas

        Tags: MgrModule
        """
        return self.json((await self.blocking(_module, self.mgr, module_name))["options"])


class _Switch(ApiView):
    SCOPE = Scope.CONFIG_OPT
    PERMISSIONS = {"POST": Permission.UPDATE}
    TAG = "MgrModule"
    PREFIX = ""

    async def _switch(self, module_name: str) -> Any:
        await self.blocking(_module, self.mgr, module_name)
        await self.mon({"prefix": self.PREFIX, "module": module_name}, component=COMPONENT)
        return self.json(None)


class ModuleEnable(_Switch):
    PREFIX = "mgr module enable"

    async def post(self, module_name: str, /) -> r200[None] | r404:
        """Enable the module

        Tags: MgrModule
        """
        return await self._switch(module_name)


class ModuleDisable(_Switch):
    PREFIX = "mgr module disable"

    async def post(self, module_name: str, /) -> r200[None] | r404:
        """Disable the module

        Tags: MgrModule
        """
        return await self._switch(module_name)


ROUTES: list[Route] = [
    ("/api/mgr/module", Modules),
    ("/api/mgr/module/{module_name}", ModuleItem),
    ("/api/mgr/module/{module_name}/options", ModuleOptions),
    ("/api/mgr/module/{module_name}/enable", ModuleEnable),
    ("/api/mgr/module/{module_name}/disable", ModuleDisable),
]
