"""``/api/erasure_code_profile``: list, show, create and delete erasure-code profiles.

A create body's keys other than ``name`` are the profile's ``key=value`` pairs
(``k``, ``m``, ``plugin``, ``crush-failure-domain``...), checked by the monitor.

Upstream: src/pybind/mgr/dashboard/controllers/erasure_code_profile.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r204
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Route, Scope
from ..services import pool as svc
from .pool import guarded, settable

__all__ = ["ROUTES"]


class Profile(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str


class ProfileCreate(BaseModel):
    """``name`` and the profile's pairs; any other key is a pair too."""

    model_config = ConfigDict(extra="allow")
    name: str
    k: int | None = None
    m: int | None = None
    plugin: str | None = None
    technique: str | None = None


_list = guarded("erasure_code_profile", svc.ec_profile_list)
_get = guarded("erasure_code_profile", svc.ec_profile_get)
_create = guarded("erasure_code_profile", svc.ec_profile_create)
_delete = guarded("erasure_code_profile", svc.ec_profile_delete)


class Profiles(ApiView):
    SCOPE = Scope.POOL
    TAG = "ErasureCodeProfile"

    async def get(self) -> r200[list[Profile]]:
        """List erasure-code profiles.

        Tags: ErasureCodeProfile
        """
        return self.json(await self.blocking(_list, self.mgr))

    async def post(self, body: ProfileCreate) -> r201[Any]:
        """Create an erasure-code profile.

        Tags: ErasureCodeProfile
        """
        pairs = settable(body, skip=("name",))
        await self.blocking(_create, self.mgr, body.name, **pairs)
        return self.json(None, status=201)


class ProfileItem(ApiView):
    SCOPE = Scope.POOL
    TAG = "ErasureCodeProfile"

    async def get(self, name: str, /) -> r200[Profile]:
        """Show one erasure-code profile.

        Tags: ErasureCodeProfile
        """
        return self.json(await self.blocking(_get, self.mgr, name))

    async def delete(self, name: str, /) -> r204:
        """Delete an erasure-code profile (refused while a pool uses it).

        Tags: ErasureCodeProfile
        """
        await self.blocking(_delete, self.mgr, name)
        return self.json(None, status=204)


ROUTES: list[Route] = [
    ("/api/erasure_code_profile", Profiles),
    ("/api/erasure_code_profile/{name}", ProfileItem),
]
