"""``/api/crush_rule``: the CRUSH rules; create a replicated rule, delete one.

Upstream: src/pybind/mgr/dashboard/controllers/crush_rule.py (scope pool; rules as
``mgr.get('osd_map_crush')['rules']``; create runs ``osd crush rule
create-replicated``, delete ``osd crush rule rm``).
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r204, r404
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, DashboardError, Route, Scope

COMPONENT = "crush_rule"


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    rule_id: int
    rule_name: str
    steps: list[dict[str, Any]]


class CreateRule(BaseModel):
    name: str
    root: str = "default"
    failure_domain: str = "host"
    device_class: str | None = None


async def _rules(view: ApiView) -> list[dict[str, Any]]:
    crush = await view.blocking(view.mgr.get, "osd_map_crush")
    return list((crush or {}).get("rules", []))


async def _rule(view: ApiView, name: str) -> dict[str, Any]:
    for rule in await _rules(view):
        if rule.get("rule_name") == name:
            return rule
    raise DashboardError(
        f"CRUSH rule '{name}' not found", code="2", component=COMPONENT, status=404
    )


class Rules(ApiView):
    SCOPE = Scope.POOL
    TAG = "CrushRule"

    async def get(self) -> r200[list[RuleModel]]:
        """List Crush Rule Configuration

        Tags: CrushRule
        """
        return self.json(await _rules(self))

    async def post(self, body: CreateRule) -> r201[None]:
        """Create a replicated rule

        Tags: CrushRule
        """
        cmd: dict[str, Any] = {
            "prefix": "osd crush rule create-replicated",
            "name": body.name,
            "root": body.root,
            "type": body.failure_domain,
        }
        if body.device_class:
            cmd["class"] = body.device_class
        await self.mon(cmd, component=COMPONENT)
        return self.json(None, status=201)


class RuleItem(ApiView):
    SCOPE = Scope.POOL
    TAG = "CrushRule"

    async def get(self, name: str, /) -> r200[RuleModel] | r404:
        """Get a rule

        Tags: CrushRule
        """
        return self.json(await _rule(self, name))

    async def delete(self, name: str, /) -> r204 | r404:
        """Delete a rule

        Tags: CrushRule
        """
        await _rule(self, name)
        await self.mon({"prefix": "osd crush rule rm", "name": name}, component=COMPONENT)
        return self.json(None, status=204)


ROUTES: list[Route] = [("/api/crush_rule", Rules), ("/api/crush_rule/{name}", RuleItem)]
