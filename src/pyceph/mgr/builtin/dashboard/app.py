"""The dashboard's aiohttp application: routes, authentication, versioning, errors.

`build_app` collects every ``controllers/*.py`` module's ``ROUTES`` (the contract in
`framework`), the OpenAPI document and its page (`openapi`), and the static UI
(``frontend/``: ``/`` is its ``index.html``). One middleware gives every API request
upstream's checks, in upstream's order: a token (``Authorization: Bearer`` or the
``token`` cookie; 401), the user's permission on the view's scope for the method
(403), then the API version from the ``Accept`` header (415). Every error under
``/api`` — a view's `DashboardError`, aiohttp's 404/405/413/400, an unexpected
exception (500, logged) — is answered as upstream's JSON body ``{"detail", "code",
"component"}``. Bodies above `MAX_BODY` bytes get 413 before any handler reads them.

Upstream: src/pybind/mgr/dashboard/controllers/_base_controller.py (version check),
services/auth.py (AuthManagerTool), tools.py (dashboard_exception_handler).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import controllers, openapi
from .framework import (
    APP_CTX,
    REQ_USER,
    REQ_VERSION,
    ApiView,
    DashboardContext,
    DashboardError,
    Route,
    negotiate_version,
    serialize_exception,
)
from .jwt_token import TokenError

__all__ = ["FRONTEND_DIR", "MAX_BODY", "build_app", "collect_routes"]

log = logging.getLogger("pyceph.mgr.dashboard")

#: largest request body accepted (bytes); more answers 413
MAX_BODY = 1024 * 1024
#: the static UI's folder
FRONTEND_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "frontend")
#: Cache-Control of the UI's assets (the index is always revalidated)
ASSET_MAX_AGE = 3600
#: upstream's messages of 401 and 403
UNAUTHORIZED = "You are not authorized to access that resource"
FORBIDDEN = "You don't have permissions to access that resource"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def collect_routes() -> list[Route]:
    """Every ``ROUTES`` entry of the `controllers` package's modules, in module order.

    A module that fails to import is logged and skipped, so one broken controller
    does not take the whole dashboard down.
    """
    routes: list[Route] = []
    for info in sorted(pkgutil.iter_modules(controllers.__path__), key=lambda i: i.name):
        name = f"{controllers.__name__}.{info.name}"
        try:
            mod = importlib.import_module(name)
        except Exception:
            log.exception("dashboard: controller %s failed to load", name)
            continue
        for path, view in getattr(mod, "ROUTES", []):
            routes.append((path, view))
    return routes


def token_of(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return request.cookies.get("token") or None


def _error(status: int, detail: str, code: str | None = None, **headers: str) -> web.Response:
    body = {"detail": detail, "code": code or str(status), "component": None}
    return web.json_response(body, status=status, headers=headers or None)


def _http_error(e: web.HTTPException) -> web.Response:
    """aiohttp's own error (404, 405, 413, a malformed JSON body) in upstream's shape."""
    detail = e.reason
    text = e.text or ""
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        detail = doc["error"]
    elif isinstance(doc, list) and doc and isinstance(doc[0], dict):
        detail = str(doc[0].get("msg", detail))
    elif text and not text.startswith(f"{e.status}:"):
        detail = text
    headers = {k: v for k, v in e.headers.items() if k.lower() in ("allow", "www-authenticate")}
    return _error(e.status, detail, **headers)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authentication, authorization and versioning of ApiViews; JSON errors under /api."""
    api = request.path.startswith("/api/") or request.path == "/api"
    try:
        view = getattr(request.match_info, "handler", None)
        if isinstance(view, type) and issubclass(view, ApiView):
            await _check(request, view)
        return await handler(request)
    except DashboardError as e:
        resp = web.json_response(serialize_exception(e), status=e.status, headers=e.headers)
        return resp
    except web.HTTPException as e:
        if not api or e.status < 400:
            raise
        return _http_error(e)
    except UnicodeDecodeError:
        return _error(400, "The request body is not valid UTF-8")
    except Exception:
        log.exception("dashboard: %s %s failed", request.method, request.path)
        if not api:
            raise
        return _error(500, "Internal Server Error")


async def _check(request: web.Request, view: type[ApiView]) -> None:
    ctx = request.app[APP_CTX]
    if view.AUTH:
        token = token_of(request)
        if token is None:
            raise DashboardError(UNAUTHORIZED, code="401", status=401)
        try:
            username = ctx.access.user_of(token)
        except TokenError:
            raise DashboardError(UNAUTHORIZED, code="401", status=401) from None
        request[REQ_USER] = username
        method = request.method
        if view.SCOPE is not None and method in view.allowed_methods:
            allowed = ctx.access.authorize(username, view.SCOPE, view.permission_for(method))
            if not allowed:
                raise DashboardError(FORBIDDEN, code="403", status=403)
    if request.method in view.allowed_methods:
        request[REQ_VERSION] = negotiate_version(
            request.headers.get("Accept"), view.version_for(request.method)
        )


def _static_handlers(root: str) -> tuple[Handler, Handler]:
    root = os.path.realpath(root)

    async def index(request: web.Request) -> web.StreamResponse:
        path = os.path.join(root, "index.html")
        if not os.path.isfile(path):
            raise web.HTTPNotFound(text="the dashboard UI is not installed")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    async def asset(request: web.Request) -> web.StreamResponse:
        rel = request.match_info["path"]
        path = os.path.realpath(os.path.join(root, rel))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            raise web.HTTPNotFound()
        cache = "no-cache" if path.endswith(".html") else f"public, max-age={ASSET_MAX_AGE}"
        return web.FileResponse(path, headers={"Cache-Control": cache})

    return index, asset


def build_app(
    ctx: DashboardContext, frontend_dir: str = FRONTEND_DIR, routes: list[Route] | None = None
) -> web.Application:
    """The application serving `ctx`'s module: API, docs and UI."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[api_middleware])
    app[APP_CTX] = ctx
    for path, view in routes if routes is not None else collect_routes():
        app.router.add_view(path, view)
    openapi.add_routes(app)
    index, asset = _static_handlers(frontend_dir)
    app.router.add_get("/", index)
    app.router.add_get("/{path:(?!api/|api$|docs/|docs$).+}", asset)

    async def _close_tasks(_app: web.Application) -> None:
        await ctx.tasks.close()

    app.on_cleanup.append(_close_tasks)
    return app
