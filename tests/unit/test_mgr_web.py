"""`pyceph.mgr.web.WebServer`: serves from the calling thread, blocking calls off the
loop, stops from another thread, and a second server on a taken port is refused."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
from aiohttp import web

from pyceph.mgr import web as webmod
from pyceph.mgr.web import WebServer

#: Bound on the server coming up and going down.
WAIT = 10.0


def _app(server: WebServer) -> web.Application:
    def slow() -> str:
        time.sleep(0.2)
        return threading.current_thread().name

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=await server.blocking(slow))

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="quick")

    app = web.Application()
    app.router.add_get("/slow", page)
    app.router.add_get("/quick", quick)
    return app


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=WAIT) as r:
        return r.read().decode()


def test_serves_and_stops() -> None:
    server = WebServer("t")
    announced: list[tuple[int, str]] = []
    ready = threading.Event()

    def on_ready(port: int) -> None:  # a worker thread, once listening, with the real port
        announced.append((port, _get(port, "/quick")))
        ready.set()

    t = threading.Thread(target=server.run, args=(_app(server), "127.0.0.1", 0, None, on_ready))
    t.start()
    assert server.ready.wait(WAIT) and ready.wait(WAIT)
    assert server.port and announced == [(server.port, "quick")]
    # a slow blocking call runs on a worker thread while the loop keeps answering
    results: list[str] = []
    slow = threading.Thread(target=lambda: results.append(_get(server.port, "/slow")))
    slow.start()
    assert _get(server.port, "/quick") == "quick"
    slow.join(WAIT)
    assert results and results[0].startswith("t-http")
    server.stop()
    t.join(WAIT)
    assert not t.is_alive() and not server.ready.is_set()
    server.close()


def test_stop_before_run_returns_at_once() -> None:
    server = WebServer("t")
    server.stop()
    server.run(_app(server), "127.0.0.1", 0)
    assert not server.ready.is_set()


def test_taken_port_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webmod, "BIND_RETRY", 0.3)
    first = WebServer("a")
    t = threading.Thread(target=first.run, args=(_app(first), "127.0.0.1", 0))
    t.start()
    assert first.ready.wait(WAIT)
    try:
        second = WebServer("b")
        with pytest.raises(OSError):
            second.run(_app(second), "127.0.0.1", first.port)
    finally:
        first.stop()
        t.join(WAIT)
