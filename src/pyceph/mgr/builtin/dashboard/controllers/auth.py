"""``/api/auth``: log in (a JWT), log out, check a token.

Upstream: src/pybind/mgr/dashboard/controllers/auth.py (Pacific): login answers
201 ``{token, username, permissions, pwdExpirationDate, sso, pwdUpdateRequired}``
or 400 ``invalid_credentials``; logout blocks the token and answers
``{"redirect_url": "#/login"}``; check answers the token's user and permissions,
or ``{"login_url": "#/login"}`` for a token that is not valid.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201
from pydantic import BaseModel, ConfigDict

from ..app import token_of
from ..framework import ApiView, DashboardError, Route
from ..jwt_token import TokenError

LOGIN_URL = "#/login"


class Credentials(BaseModel):
    username: str
    password: str


class LoginResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    token: str
    username: str
    permissions: dict[str, list[str]]
    pwdExpirationDate: int | None = None  # noqa: N815 - upstream's key
    sso: bool = False
    pwdUpdateRequired: bool = False  # noqa: N815


class LogoutResult(BaseModel):
    redirect_url: str


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    username: str | None = None
    permissions: dict[str, list[str]] | None = None
    sso: bool | None = None
    pwdUpdateRequired: bool | None = None  # noqa: N815
    login_url: str | None = None


class Auth(ApiView):
    AUTH = False
    TAG = "Auth"

    async def post(self, credentials: Credentials) -> r201[LoginResult]:
        """Log in: a token for the user's credentials.

        Tags: Auth
        """
        access = self.ctx.access
        ttl = self.mgr.token_ttl()
        result = await self.blocking(access.login, credentials.username, credentials.password, ttl)
        if result is None:
            raise DashboardError(
                "Invalid credentials", code="invalid_credentials", component="auth"
            )
        token, user = result
        body = {
            "token": token,
            "username": user.username,
            "permissions": access.permissions(user.username),
            "pwdExpirationDate": user.pwdExpirationDate,
            "sso": False,
            "pwdUpdateRequired": user.pwdUpdateRequired,
        }
        resp = self.json(body, status=201)
        resp.headers["Authorization"] = f"Bearer: {token}"
        resp.set_cookie(
            "token", token, httponly=True, samesite="Strict", secure=self.request.secure, path="/"
        )
        return resp


class Logout(ApiView):
    AUTH = False
    TAG = "Auth"

    async def post(self) -> r200[LogoutResult]:
        """Log out: the request's token is no longer valid.

        Tags: Auth
        """
        token = token_of(self.request)
        if token:
            await self.blocking(self.ctx.access.logout, token)
        resp = self.json({"redirect_url": LOGIN_URL})
        resp.del_cookie("token", path="/")
        return resp


class Check(ApiView):
    AUTH = False
    TAG = "Auth"

    async def post(self, token: str = "") -> r200[CheckResult]:
        """Check a token (query parameter or JSON body ``{"token": ...}``).

        Tags: Auth
        """
        if not token and self.request.can_read_body:
            try:
                doc: Any = json.loads(await self.request.text() or "{}")
            except ValueError:
                raise DashboardError("Malformed JSON", code="invalid_input") from None
            if isinstance(doc, dict) and isinstance(doc.get("token"), str):
                token = doc["token"]
        access = self.ctx.access
        if token:
            try:
                username = access.user_of(token)
            except TokenError:
                username = None
            if username is not None:
                info = access.user_info(username)
                return self.json(
                    {
                        "username": username,
                        "permissions": info["permissions"],
                        "sso": False,
                        "pwdUpdateRequired": info["pwdUpdateRequired"],
                    }
                )
        return self.json({"login_url": LOGIN_URL})


ROUTES: list[Route] = [
    ("/api/auth", Auth),
    ("/api/auth/logout", Logout),
    ("/api/auth/check", Check),
]
