"""The dashboard's controller contract: how an API endpoint is written.

Everything a controller needs is here; the app (`app.py`) wires it. This contract is
stable: controllers written against it keep working.

**Declaring routes.** A controller is a module ``controllers/<name>.py`` exposing
``ROUTES: list[Route]`` — ``(path, view class)`` pairs with aiohttp paths::

    ROUTES = [("/api/pool", PoolList), ("/api/pool/{pool_name}", PoolItem)]

The app imports every module of the `controllers` package and registers its ROUTES;
adding a file needs no edit anywhere else. Paths are absolute (``/api/...``).

**Views.** A view is a subclass of `ApiView` (an aiohttp-pydantic `PydanticView`):
one method per HTTP verb (``get``, ``post``, ``put``, ``delete``), parameters typed
(path parameters positional-only, before ``/``; query parameters after it, with
defaults when optional; a pydantic model for the JSON body), the return annotated with aiohttp-pydantic's ``r200[Model]``/``r201``/
``r202``/``r204``... so the OpenAPI document (`/docs/api.json`) describes it. The
docstring's first lines describe the operation. Class attributes:

- ``SCOPE``: the security scope, one of `Scope` (upstream's names: ``pool``,
  ``rbd-image``, ``osd``...); None (as upstream's task, summary and health
  controllers) lets any logged-in user in, and ``self.has_permission(scope, perm)``
  decides what to show.
- ``PERMISSIONS``: overrides of the permission a method needs; by default
  GET→read, POST→create, PUT/PATCH→update, DELETE→delete (`METHOD_PERMISSION`),
  e.g. ``PERMISSIONS = {"POST": Permission.UPDATE}`` for an action endpoint.
- ``AUTH = False`` for the few endpoints open without a token (``/api/auth``).
- ``VERSION``: the API version the view answers (``"1.0"``; ``VERSIONS`` per method
  where upstream differs), negotiated from the
  ``Accept: application/vnd.ceph.api.vX.Y+json`` header as upstream (415 otherwise).
- ``TAG``: the OpenAPI tag (default: the controller module's name, capitalised).

The app checks the token (401) and the user's permission on ``SCOPE`` (403) before
a view runs; ``self.username`` is the authenticated user.

**Reaching the cluster.** ``self.mgr`` is the dashboard's `MgrModule` (the public
`mgr_module` API: ``get()``, ``get_osdmap()``, ``mon_command()``, ``rados`` ...). Its
calls block: run them with ``await self.blocking(fn, *args)`` (the `WebServer`'s
worker threads), never directly on the loop. ``await self.mon(cmd, component=...)``
runs a mon command and returns its parsed JSON output (``format: json`` added),
raising `DashboardError` with the command's errno and message on failure.

**Answers.** ``return self.json(data, status=200)`` — the body as JSON with the
negotiated versioned Content-Type. ``raise DashboardError(detail, code=, component=,
status=)`` answers upstream's error body ``{"detail", "code", "component"}`` with that
status (400 by default). ``with errors_from("rbd"):`` turns a `rados`/`rbd` exception
(anything with an ``errno``) into a `DashboardError` as upstream's
``handle_rbd_error``/``handle_rados_error``. Malformed bodies or parameters answer 400
(`on_validation_error`), and unexpected exceptions 500, in the same shape.

**Long operations.** ``return await self.task("rbd/create", {"pool_name": p,
"image_name": n}, fn, *args)`` runs ``fn`` (blocking, or a coroutine function) as an
upstream-style task (`tasks.TaskManager`): finished within `tasks.TASK_WAIT` seconds
(the manager's ``wait``), the answer is its return value (201 for POST, 204 for DELETE, else 200; a failure
answers its `DashboardError` with ``task: {name, metadata}`` added); otherwise 202
``{"name", "metadata"}`` and the task shows in ``/api/task`` and ``/api/summary``. A
blocking fn reports progress with ``tasks.current_task().set_progress(p)``.

**Testing.** Enable the module on a test cluster (``ceph mgr module enable
dashboard``, ``ceph dashboard ac-user-create``), log in with ``POST /api/auth`` and send
``Authorization: Bearer <token>`` and the versioned Accept header (`accept_header()`).

Upstream: src/pybind/mgr/dashboard/controllers/_*.py (RESTController, APIRouter,
Endpoint), security.py (Scope, Permission), exceptions.py (DashboardException),
services/exception.py (serialize_dashboard_exception), tools.py (TaskManager).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic import PydanticView
from pydantic import ValidationError

from .security import Permission, Scope
from .tasks import TASK_WAIT, TaskManager

if TYPE_CHECKING:
    from pyceph.mgr.web import WebServer

__all__ = [
    "APP_CTX",
    "TASK_WAIT",
    "DEFAULT_VERSION",
    "METHOD_PERMISSION",
    "ApiView",
    "DashboardContext",
    "DashboardError",
    "Permission",
    "Route",
    "Scope",
    "accept_header",
    "errors_from",
    "json_type",
    "negotiate_version",
    "serialize_exception",
]


#: the permission an HTTP method needs unless a view overrides it (upstream's RESTController)
METHOD_PERMISSION = {
    "GET": Permission.READ,
    "HEAD": Permission.READ,
    "OPTIONS": Permission.READ,
    "POST": Permission.CREATE,
    "PUT": Permission.UPDATE,
    "PATCH": Permission.UPDATE,
    "DELETE": Permission.DELETE,
}

#: the API version of a view that does not say otherwise
DEFAULT_VERSION = "1.0"
_VND_RE = re.compile(r"application/vnd\.ceph\.api\.v(\d+\.\d+)\+json")


def json_type(version: str = DEFAULT_VERSION) -> str:
    """The versioned media type: ``application/vnd.ceph.api.v1.0+json``."""
    return f"application/vnd.ceph.api.v{version}+json"


def accept_header(version: str = DEFAULT_VERSION) -> dict[str, str]:
    """The Accept header a client sends for `version`."""
    return {"Accept": json_type(version)}


class DashboardError(Exception):
    """An error answered as upstream's body ``{"detail", "code", "component"}``.

    `code` is upstream's: a string, the errno's absolute value when the error came
    from an errno (``"2"``), else a name (``"pool_does_not_exist"``).
    """

    def __init__(
        self,
        detail: str,
        code: str | int | None = None,
        component: str | None = None,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = "Error" if code is None else str(abs(code) if isinstance(code, int) else code)
        self.component = component
        self.status = status
        self.headers = headers or {}

    @classmethod
    def from_errno(
        cls, err: int, detail: str, component: str | None = None, status: int = 400
    ) -> DashboardError:
        return cls(detail, code=abs(err), component=component, status=status)


def serialize_exception(
    e: BaseException, include_status: bool = False, task: Any = None
) -> dict[str, Any]:
    """Upstream's `serialize_dashboard_exception`: the JSON body of an error."""
    out: dict[str, Any] = {"detail": str(e)}
    if isinstance(e, DashboardError):
        out["code"] = e.code
        out["component"] = e.component
    else:
        err = getattr(e, "errno", None)
        out["code"] = str(abs(err)) if isinstance(err, int) else type(e).__name__
        out["component"] = None
    if include_status:
        out["status"] = getattr(e, "status", 500)
    if task is not None:
        out["task"] = {"name": task.name, "metadata": task.metadata}
    return out


@contextlib.contextmanager
def errors_from(component: str | None) -> Iterator[None]:
    """Turn an exception carrying an ``errno`` (rados, rbd, OSError) into a
    `DashboardError` of `component` (upstream's handle_rados_error/handle_rbd_error)."""
    try:
        yield
    except DashboardError:
        raise
    except Exception as e:
        err = getattr(e, "errno", None)
        if not isinstance(err, int):
            if type(e).__module__.split(".")[0] in ("rados", "rbd"):
                raise DashboardError(str(e), code=type(e).__name__, component=component) from e
            raise
        raise DashboardError(str(e), code=abs(err), component=component) from e


def negotiate_version(accept: str | None, supported: str) -> str:
    """The version to answer, from the request's Accept header (upstream's rule).

    The header must name ``application/vnd.ceph.api.vX.Y+json`` (else 415 "Unable to
    find version in request header"); the endpoint's version `supported` serves a
    client version of the same major and a minor not above its own (upstream's
    `APIVersion.supports`), else 415. The answer carries the endpoint's version.
    """
    m = _VND_RE.search(accept or "")
    if m is None:
        raise DashboardError("Unable to find version in request header", code="415", status=415)
    major, minor = (int(x) for x in m.group(1).split("."))
    s_major, s_minor = (int(x) for x in supported.split("."))
    if major != s_major or minor > s_minor:
        raise DashboardError(
            f"Incorrect version: endpoint is '{supported}', client requested '{m.group(1)}'",
            code="415",
            status=415,
        )
    return supported


@dataclass
class DashboardContext:
    """What the app gives its views: the module, the web server and the task manager."""

    mgr: Any
    server: WebServer
    tasks: TaskManager
    #: the access control store (users, roles); set by the app (`access.AccessControl`)
    access: Any = None


#: the app key under which the `DashboardContext` is stored
APP_CTX: web.AppKey[DashboardContext] = web.AppKey("dashboard_ctx", DashboardContext)

#: request keys the app sets before a view runs
REQ_USER: web.RequestKey[str] = web.RequestKey("dashboard_user", str)
REQ_VERSION: web.RequestKey[str] = web.RequestKey("dashboard_version", str)


class ApiView(PydanticView):
    """Base class of every dashboard API view (see the module docstring)."""

    SCOPE: ClassVar[str | None] = None
    PERMISSIONS: ClassVar[dict[str, str]] = {}
    AUTH: ClassVar[bool] = True
    VERSION: ClassVar[str] = DEFAULT_VERSION
    #: per HTTP method versions where they differ from VERSION (upstream's
    #: `@RESTController.MethodMap(version=...)`, e.g. the image list at 2.0)
    VERSIONS: ClassVar[dict[str, str]] = {}
    TAG: ClassVar[str | None] = None

    @classmethod
    def version_for(cls, method: str) -> str:
        """The API version `method` of this view answers."""
        return cls.VERSIONS.get(method, cls.VERSION)

    @classmethod
    def permission_for(cls, method: str) -> str:
        """The permission `method` needs on `SCOPE`."""
        return cls.PERMISSIONS.get(method, METHOD_PERMISSION.get(method, Permission.READ))

    @property
    def ctx(self) -> DashboardContext:
        return self.request.app[APP_CTX]

    @property
    def mgr(self) -> Any:
        """The dashboard `MgrModule` (blocking API: call it through `blocking`)."""
        return self.ctx.mgr

    @property
    def username(self) -> str | None:
        return self.request.get(REQ_USER)

    def has_permission(self, scope: str, permission: str = Permission.READ) -> bool:
        """Whether the request's user holds `permission` on `scope` (views that show
        parts by permission, as upstream's health)."""
        user = self.username
        return user is not None and bool(self.ctx.access.authorize(user, scope, permission))

    async def blocking(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking call (the mgr API, rados, rbd) on the server's worker threads."""
        return await self.ctx.server.blocking(fn, *args, **kwargs)

    async def mon(self, cmd: dict[str, Any], inbuf: str = "", component: str | None = None) -> Any:
        """Run a mon (or mgr) command; its JSON output parsed (None when empty), or
        `DashboardError` with the command's errno and message (status 400)."""
        cmd = {"format": "json", **cmd}
        ret, outb, outs = await self.blocking(self.mgr.mon_command, cmd, inbuf or None)
        if ret != 0:
            raise DashboardError(outs or f"command failed: {cmd['prefix']}", ret, component)
        if not outb.strip():
            return None
        try:
            return json.loads(outb)
        except ValueError:
            return outb

    def json(self, data: Any, status: int = 200) -> web.Response:
        """`data` as the JSON body, with the versioned Content-Type."""
        version = self.request.get(REQ_VERSION, self.version_for(self.request.method))
        if status == 204:
            return web.Response(status=204)
        return web.Response(
            status=status,
            body=json.dumps(data).encode(),
            headers={"Content-Type": json_type(version)},
        )

    async def task(
        self,
        name: str,
        metadata: dict[str, Any],
        fn: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> web.Response:
        """Run `fn` as task `name`; the answer as the module docstring describes."""
        import asyncio

        task = self.ctx.tasks.run(name, metadata, fn, *args, **kwargs)
        try:
            await asyncio.wait_for(asyncio.shield(task.done.wait()), self.ctx.tasks.wait)
        except TimeoutError:
            return self.json({"name": name, "metadata": metadata}, status=202)
        if task.exception is not None:
            e = task.exception
            status = e.status if isinstance(e, DashboardError) else 400
            if not isinstance(e, DashboardError) and not isinstance(getattr(e, "errno", None), int):
                status = 500
            return web.json_response(serialize_exception(e, task=task), status=status)
        method = self.request.method
        status = 201 if method == "POST" else 204 if method == "DELETE" else 200
        return self.json(task.ret_value, status=status)

    async def on_validation_error(self, exception: ValidationError, context: str) -> web.Response:
        """A malformed parameter or body: 400 with the reasons, in upstream's error shape."""
        reasons = []
        for err in exception.errors(include_url=False):
            where = ".".join(str(x) for x in err.get("loc", ()))
            reasons.append(f"{context} {where}: {err.get('msg', 'invalid')}".strip())
        body = {
            "detail": "; ".join(reasons) or "invalid input",
            "code": "invalid_input",
            "component": None,
        }
        return web.json_response(body, status=400)


#: one route: an aiohttp path and the view that serves it
Route = tuple[str, type[ApiView]]
