"""The dashboard's aiohttp app without a cluster: the middleware's checks (token 401,
scope 403, version 415), upstream's error bodies for 400/404/405/413, long tasks
(201 within the wait, else 202 and `/api/task`), the OpenAPI document and the
static UI. Views here are test views on the real app; users live in a real
`AuthService` over a dict."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from aiohttp_pydantic.oas.typing import r200, r201, r202
from pydantic import BaseModel

import rados
from pyceph.mgr.builtin.dashboard import openapi
from pyceph.mgr.builtin.dashboard.app import MAX_BODY, build_app
from pyceph.mgr.builtin.dashboard.framework import (
    ApiView,
    DashboardContext,
    DashboardError,
    Permission,
    Scope,
    accept_header,
    errors_from,
    negotiate_version,
    serialize_exception,
)
from pyceph.mgr.builtin.dashboard.services.auth import AuthService
from pyceph.mgr.builtin.dashboard.tasks import TaskManager
from pyceph.mgr.web import WebServer

PWD = "Str0ng-Passw0rd!q"
V1 = accept_header()
#: the test's task wait (the module's is tasks.TASK_WAIT)
WAIT = 0.3
#: bound on a test task that is held
HOLD = 5.0


class Thing(BaseModel):
    name: str
    size: int = 1


class Things(ApiView):
    SCOPE = Scope.POOL
    items: list[str] = []

    async def get(self) -> r200[list[str]]:
        """List things"""
        return self.json(self.items)

    async def post(self, body: Thing) -> r201[Thing]:
        """Create a thing"""
        self.items.append(body.name)
        return self.json(body.model_dump(), status=201)


class Action(ApiView):
    SCOPE = Scope.POOL
    PERMISSIONS = {"POST": Permission.UPDATE}

    async def post(self) -> r200[None]:
        """An action needing update"""
        return self.json(None)


class Fails(ApiView):
    SCOPE = Scope.POOL

    async def get(self, how: str) -> r200[None]:
        """Fail in a chosen way"""
        if how == "dashboard":
            raise DashboardError("no such pool", code="pool_does_not_exist", component="pool")
        if how == "rados":
            with errors_from("pool"):
                raise rados.ObjectNotFound("gone", errno=2)
        raise RuntimeError("boom")


RELEASE = threading.Event()


class Slow(ApiView):
    SCOPE = Scope.RBD_IMAGE

    async def post(self, hold: bool = False) -> r201[dict[str, Any]] | r202[dict[str, Any]]:
        """Start a task"""

        def work(n: int) -> dict[str, int]:
            if hold:
                RELEASE.wait(HOLD)
            return {"n": n}

        return await self.task("rbd/create", {"image_name": "i1", "hold": hold}, work, 7)


class Broken(ApiView):
    SCOPE = Scope.RBD_IMAGE

    async def post(self) -> r201[None]:
        """A task that fails"""

        def work() -> None:
            with errors_from("rbd"):
                raise rados.ObjectExists("exists", errno=17)

        return await self.task("rbd/create", {"image_name": "dup"}, work)


ROUTES = [
    ("/api/thing", Things),
    ("/api/thing/action", Action),
    ("/api/fails", Fails),
    ("/api/slow", Slow),
    ("/api/broken", Broken),
]


def run(test: Callable[[TestClient, dict[str, str]], Awaitable[None]], frontend: str = "") -> None:
    """Serve the app with the test views and the real task and summary controllers."""
    from pyceph.mgr.builtin.dashboard.controllers import task

    async def main() -> None:
        store: dict[str, str | None] = {}
        auth = AuthService(store.get, store.__setitem__)
        auth.db.create_user("admin", PWD, ["administrator"], 0)
        auth.db.create_user("reader", PWD, ["read-only"], 0)
        auth.db.create_user("blocky", PWD, ["block-manager"], 0)
        tokens = {u: (auth.login(u, PWD, 600) or ("", None))[0] for u in auth.db.users}
        server = WebServer("test-dashboard")
        ctx = DashboardContext(None, server, TaskManager(server.blocking, wait=WAIT), auth)
        kwargs = {"frontend_dir": frontend} if frontend else {}
        app = build_app(ctx, routes=ROUTES + task.ROUTES, **kwargs)
        client = TestClient(TestServer(app))
        await client.start_server()
        try:
            await test(client, tokens)
        finally:
            RELEASE.set()
            await client.close()
            server.close()
            RELEASE.clear()

    asyncio.run(main())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **V1}


def test_token_scope_and_version_checks() -> None:
    async def t(c: TestClient, tok: dict[str, str]) -> None:
        r = await c.get("/api/thing", headers=V1)
        assert r.status == 401
        assert await r.json() == {
            "detail": "You are not authorized to access that resource",
            "code": "401",
            "component": None,
        }
        assert (await c.get("/api/thing", headers=auth("x.y.z"))).status == 401
        r = await c.get("/api/thing", headers=auth(tok["admin"]))
        assert r.status == 200 and r.headers["Content-Type"] == "application/vnd.ceph.api.v1.0+json"
        r = await c.get("/api/thing", headers={"Cookie": f"token={tok['reader']}", **V1})
        assert r.status == 200
        # the reader reads and may not create; block-manager may not read pools' things...
        assert (await c.post("/api/thing", json={"name": "a"}, headers=auth(tok["reader"]))).status == 403  # fmt: skip
        assert (await c.post("/api/thing/action", headers=auth(tok["reader"]))).status == 403
        assert (await c.post("/api/thing/action", headers=auth(tok["admin"]))).status == 200
        assert (await c.post("/api/thing", json={"name": "b"}, headers=auth(tok["blocky"]))).status == 403  # fmt: skip
        assert Things.items == []
        # versions: none, another major, a higher minor -> 415; nothing ran
        for accept in ("application/json", "*/*", "application/vnd.ceph.api.v2.0+json", "application/vnd.ceph.api.v1.1+json"):  # fmt: skip
            headers = {"Authorization": f"Bearer {tok['admin']}", "Accept": accept}
            r = await c.post("/api/thing", json={"name": "c"}, headers=headers)
            assert r.status == 415, accept
        assert Things.items == []

    run(t)


def test_negotiate_version_is_upstreams_rule() -> None:
    assert negotiate_version("application/vnd.ceph.api.v1.0+json", "1.0") == "1.0"
    assert negotiate_version("application/vnd.ceph.api.v1.0+json", "1.2") == "1.2"
    for bad, supported in (("", "1.0"), ("application/vnd.ceph.api.v1.3+json", "1.2")):
        try:
            negotiate_version(bad, supported)
        except DashboardError as e:
            assert e.status == 415
        else:
            raise AssertionError(bad)


def test_bad_input_gets_upstreams_error_body() -> None:
    async def t(c: TestClient, tok: dict[str, str]) -> None:
        h = auth(tok["admin"])
        r = await c.get("/api/nonesuch", headers=h)
        assert r.status == 404 and set(await r.json()) == {"detail", "code", "component"}
        r = await c.delete("/api/thing", headers=h)
        assert r.status == 405 and "GET" in r.headers["Allow"]
        r = await c.post(
            "/api/thing", data=b"{bad", headers={**h, "Content-Type": "application/json"}
        )
        assert r.status == 400 and (await r.json())["detail"] == "Malformed JSON"
        r = await c.post("/api/thing", json={"size": "x"}, headers=h)
        doc = await r.json()
        assert r.status == 400 and "name" in doc["detail"] and doc["code"] == "invalid_input"
        r = await c.post("/api/thing", data=b"x" * (MAX_BODY + 1), headers={**h, "Content-Type": "application/json"})  # fmt: skip
        assert r.status == 413
        assert Things.items == []
        r = await c.get("/api/fails?how=dashboard", headers=h)
        assert r.status == 400
        assert await r.json() == {"detail": "no such pool", "code": "pool_does_not_exist", "component": "pool"}  # fmt: skip
        r = await c.get("/api/fails?how=rados", headers=h)
        assert r.status == 400 and (await r.json())["code"] == "2"
        r = await c.get("/api/fails?how=crash", headers=h)
        assert r.status == 500 and (await r.json())["detail"] == "Internal Server Error"
        r = await c.get("/api/fails", headers=h)
        assert r.status == 400

    run(t)


def test_tasks_answer_201_or_202_and_are_listed() -> None:
    async def t(c: TestClient, tok: dict[str, str]) -> None:
        h = auth(tok["admin"])
        r = await c.post("/api/slow", headers=h)
        assert r.status == 201 and await r.json() == {"n": 7}
        r = await c.post("/api/slow?hold=true", headers=h)
        assert r.status == 202
        assert await r.json() == {
            "name": "rbd/create",
            "metadata": {"image_name": "i1", "hold": True},
        }
        tasks = await (await c.get("/api/task?name=rbd/*", headers=h)).json()
        assert [t["metadata"]["hold"] for t in tasks["executing_tasks"]] == [True]
        assert set(tasks["executing_tasks"][0]) == {"name", "metadata", "begin_time", "progress"}
        assert [t["success"] for t in tasks["finished_tasks"]] == [True]
        RELEASE.set()
        for _ in range(100):
            tasks = await (await c.get("/api/task", headers=h)).json()
            if not tasks["executing_tasks"]:
                break
            await asyncio.sleep(0.05)
        assert len(tasks["finished_tasks"]) == 2
        done = tasks["finished_tasks"][1]
        assert (
            done["ret_value"] == {"n": 7} and done["exception"] is None and done["progress"] == 100
        )
        assert (await (await c.get("/api/task?name=pool/*", headers=h)).json())[
            "finished_tasks"
        ] == []
        r = await c.post("/api/broken", headers=h)
        assert r.status == 400
        doc = await r.json()
        assert doc["code"] == "17" and doc["component"] == "rbd"
        assert doc["task"] == {"name": "rbd/create", "metadata": {"image_name": "dup"}}
        tasks = await (await c.get("/api/task", headers=h)).json()
        assert tasks["finished_tasks"][-1]["success"] is False
        assert tasks["finished_tasks"][-1]["exception"]["status"] == 400

    run(t)


def test_serialize_exception_shapes() -> None:
    e = DashboardError("gone", code=-2, component="pool", status=404)
    assert serialize_exception(e) == {"detail": "gone", "code": "2", "component": "pool"}
    assert serialize_exception(e, include_status=True)["status"] == 404
    assert serialize_exception(ValueError("x")) == {"detail": "x", "code": "ValueError", "component": None}  # fmt: skip


def test_openapi_document_from_the_views() -> None:
    from pyceph.mgr.builtin.dashboard.app import collect_routes

    ctx = DashboardContext(None, WebServer("doc"), TaskManager(None), None)  # type: ignore[arg-type]
    app = build_app(ctx, routes=collect_routes())
    doc = openapi.document(app)
    ctx.server.close()
    assert doc["openapi"].startswith("3.0")
    assert doc["components"]["securitySchemes"]["jwt"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}  # fmt: skip
    for path in ("/api/auth", "/api/summary", "/api/health/minimal", "/api/osd/{svc_id}/mark", "/api/mgr/module", "/api/cluster_conf", "/api/task", "/api/user", "/api/logs/all", "/api/perf_counters"):  # fmt: skip
        assert path in doc["paths"], path
    op = doc["paths"]["/api/osd/{svc_id}/mark"]["put"]
    assert op["security"] == [{"jwt": []}] and op["tags"] == ["OSD"]
    assert op["parameters"][0]["name"] == "svc_id" and op["requestBody"]["required"] is True
    assert "application/vnd.ceph.api.v1.0+json" in op["responses"]["200"]["content"]
    assert {"400", "401", "403", "415"} <= set(op["responses"])
    assert "security" not in doc["paths"]["/api/auth"]["post"]
    json.dumps(doc)


def test_static_ui_and_docs_page(tmp_path: Any) -> None:
    (tmp_path / "index.html").write_text("<html>ui</html>")
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("console.log(1)")

    async def t(c: TestClient, tok: dict[str, str]) -> None:
        r = await c.get("/")
        assert r.status == 200 and await r.text() == "<html>ui</html>"
        assert r.headers["Cache-Control"] == "no-cache"
        r = await c.get("/js/app.js")
        assert r.status == 200 and r.headers["Cache-Control"].startswith("public, max-age=")
        assert (await c.get("/js/../../secret")).status == 404
        assert (await c.get("/nope.js")).status == 404
        r = await c.get("/docs")
        assert r.status == 200 and "/docs/api.json" in await r.text()
        r = await c.get("/docs/api.json")
        assert r.status == 200 and "/api/thing" in (await r.json())["paths"]

    run(t, frontend=str(tmp_path))
