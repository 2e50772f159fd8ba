"""``/api/user``: the cluster's cephx users and their capabilities.

List, show, create, change the caps of and delete cephx entities with the mon's
``auth`` commands (``auth ls``, ``auth get-or-create``, ``auth caps``, ``auth
del``). Shapes follow upstream's cephx user controller (Quincy's
controllers/ceph_users.py, ``/api/cluster/user``, scope config-opt):
``{entity, key, caps}``; a body names ``user_entity`` and ``capabilities:
[{entity, cap}]``.
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r204, r404
from pydantic import BaseModel, ConfigDict, Field

from ..framework import ApiView, DashboardError, Route, Scope

COMPONENT = "user"
#: daemon types a capability can name
CAP_ENTITIES = ("mon", "osd", "mgr", "mds")
#: an entity name: TYPE.ID
ENTITY_PATTERN = r"^(client|osd|mon|mgr|mds)\.[A-Za-z0-9_.\-]+$"


class CephUser(BaseModel):
    model_config = ConfigDict(extra="allow")
    entity: str
    key: str | None = None
    caps: dict[str, str]


class Capability(BaseModel):
    entity: str = Field(pattern=r"^(mon|osd|mgr|mds)$")
    cap: str


class CreateUser(BaseModel):
    user_entity: str = Field(pattern=ENTITY_PATTERN)
    capabilities: list[Capability] = []


class EditUser(BaseModel):
    capabilities: list[Capability]


def _caps_args(caps: list[Capability]) -> list[str]:
    out: list[str] = []
    for c in caps:
        out += [c.entity, c.cap]
    return out


async def _users(view: ApiView) -> list[dict[str, Any]]:
    doc = await view.mon({"prefix": "auth ls"}, component=COMPONENT) or {}
    return list(doc.get("auth_dump", []))


async def _user(view: ApiView, entity: str) -> dict[str, Any]:
    for user in await _users(view):
        if user.get("entity") == entity:
            return user
    raise DashboardError(f"User '{entity}' not found", code="2", component=COMPONENT, status=404)


class Users(ApiView):
    SCOPE = Scope.CONFIG_OPT
    TAG = "User"

    async def get(self) -> r200[list[CephUser]]:
        """List the cephx users and their caps

        Tags: User
        """
        return self.json(await _users(self))

    async def post(self, body: CreateUser) -> r201[CephUser]:
        """Create a cephx user with capabilities

        Tags: User
        """
        if any(u.get("entity") == body.user_entity for u in await _users(self)):
            raise DashboardError(
                f"User '{body.user_entity}' already exists", code="17", component=COMPONENT
            )
        cmd = {
            "prefix": "auth get-or-create",
            "entity": body.user_entity,
            "caps": _caps_args(body.capabilities),
        }
        await self.mon(cmd, component=COMPONENT)
        return self.json(await _user(self, body.user_entity), status=201)


class UserItem(ApiView):
    SCOPE = Scope.CONFIG_OPT
    TAG = "User"

    async def get(self, user_entity: str, /) -> r200[CephUser] | r404:
        """Show a cephx user

        Tags: User
        """
        return self.json(await _user(self, user_entity))

    async def put(self, user_entity: str, /, body: EditUser) -> r200[CephUser] | r404:
        """Replace a cephx user's capabilities

        Tags: User
        """
        await _user(self, user_entity)
        cmd = {"prefix": "auth caps", "entity": user_entity, "caps": _caps_args(body.capabilities)}
        await self.mon(cmd, component=COMPONENT)
        return self.json(await _user(self, user_entity))

    async def delete(self, user_entity: str, /) -> r204 | r404:
        """Delete a cephx user

        Tags: User
        """
        await _user(self, user_entity)
        await self.mon({"prefix": "auth del", "entity": user_entity}, component=COMPONENT)
        return self.json(None, status=204)


ROUTES: list[Route] = [("/api/user", Users), ("/api/user/{user_entity}", UserItem)]
