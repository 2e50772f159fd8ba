"""The `restapi` mgr module: `ceph-rest-api`'s REST API v0.1, moving with the active mgr.

The same application as the `ceph-rest-api` command (`pyceph.restapi`), served by
the module's serve() thread with `pyceph.mgr.web.WebServer` on `server_addr`:
`server_port` under `base_url` (option names as upstream's HTTP modules name
them; the base URL as ceph-rest-api's `restapi_base_url`). Its URL is published
with `set_uri`, so `ceph mgr services` lists it. A change of any option rebinds
the server (`config_notify`).

The module does not act as the mgr: it opens its own `rados.Rados` session as the
cephx user `client_name` (upstream ceph-rest-api's default `client.restapi`),
with the key from the keyring file `client_keyring` or the secret `client_key`,
so that user's caps decide what the API can do. The session is opened on the
first request and again after the options change; until it can be opened, the
API answers 503 with the reason.

On a standby mgr, `StandbyModule` answers every request with a 307 redirect to
the same path on the active mgr's API (or 503 when no active one is known).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import rados
from mgr_module import MgrModule, MgrStandbyModule, Option
from mgr_util import build_url
from pyceph.restapi import DEFAULT_CLIENT_NAME
from pyceph.restapi.routes import DEFAULT_BASE_URL, normalize_base_url

# The web stack (aiohttp, the API's app) is imported when the module serves, not when
# the mgr loads every module at start to learn its options and commands.
if TYPE_CHECKING:
    from aiohttp import web

    from pyceph.mgr.web import WebServer

__all__ = ["Module", "StandbyModule"]

#: ceph-rest-api's port (restapi_public_addr's default)
DEFAULT_PORT = 5000
#: seconds the module's own cluster session may take to connect
CONNECT_TIMEOUT = 10
#: addresses that mean "every interface": the URI shows the mgr's own address instead
WILDCARD_ADDRS = ("", "::", "0.0.0.0")

OPTIONS = [
    Option(name="server_addr", default="::", desc="the address the REST API listens on"),
    Option(
        name="server_port",
        type="int",
        default=DEFAULT_PORT,
        min=0,
        max=65535,
        desc="the port the REST API listens on",
    ),
    Option(name="base_url", default=DEFAULT_BASE_URL, desc="the base URL of the API"),
    Option(
        name="client_name",
        default=DEFAULT_CLIENT_NAME,
        desc="the cephx user the API acts as (its caps decide what the API can do)",
    ),
    Option(name="client_keyring", default="", desc="path of a keyring with client_name's key"),
    Option(name="client_key", default="", desc="client_name's secret key (base64)"),
]

#: the options a running server depends on
_SERVER_KEYS = ("server_addr", "server_port", "base_url")
_SESSION_KEYS = ("client_name", "client_keyring", "client_key")


def uri(addr: str, port: int, base_url: str, own_ip: str) -> str:
    """The URL published in `ceph mgr services`."""
    return build_url(own_ip if addr in WILDCARD_ADDRS else addr, "http", port, f"{base_url}/")


def _settings(mod: Any, keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(mod.get_localized_module_option(k) for k in keys)


class _Session:
    """The module's own cluster session as `client_name`, (re)opened on demand."""

    def __init__(self, mod: Module) -> None:
        self.mod = mod
        self.lock = threading.Lock()
        self.cluster: Any = None
        self.opened_with: tuple[Any, ...] | None = None

    def get(self) -> Any:
        """The connected handle for the current options (called on worker threads)."""
        want = _settings(self.mod, _SESSION_KEYS)
        with self.lock:
            if self.cluster is not None and self.opened_with == want:
                return self.cluster
            self._close()
            name, keyring, key = (str(x or "") for x in want)
            conf: dict[str, str] = {}
            if keyring:
                conf["keyring"] = keyring
            if key:
                conf["key"] = key
            conf_path = self.mod.get_ceph_conf_path()
            if not conf_path:
                conf["mon_host"] = str(self.mod.get_ceph_option("mon_host") or "")
            cluster = rados.Rados(name=name or DEFAULT_CLIENT_NAME, conffile=conf_path or None, conf=conf)  # fmt: skip
            try:
                cluster.connect(timeout=CONNECT_TIMEOUT)
            except Exception as e:
                cluster.shutdown()
                raise RuntimeError(f"cannot connect as {name}: {e}") from e
            self.cluster, self.opened_with = cluster, want
            return cluster

    def _close(self) -> None:
        if self.cluster is not None:
            self.cluster.shutdown()
            self.cluster = None

    def close(self) -> None:
        with self.lock:
            self._close()


class _Serving:
    """serve()'s loop: one WebServer per set of server options, until shutdown."""

    def __init__(self, mod: Any, build: Callable[[WebServer, str], web.Application]) -> None:
        self.mod = mod
        self.build = build
        self.shutting_down = threading.Event()
        self.server: WebServer | None = None
        self.lock = threading.Lock()

    def run(self, publish: bool) -> None:
        from pyceph.mgr.web import WebServer

        while not self.shutting_down.is_set():
            addr, port, base = _settings(self.mod, _SERVER_KEYS)
            addr, port, base = str(addr), int(port), normalize_base_url(str(base))
            server = WebServer("restapi")
            with self.lock:
                if self.shutting_down.is_set():
                    break
                self.server = server

            def publish_url(bound: int, addr: str = addr, base: str = base) -> None:
                link = uri(addr, bound, base, self.mod.get_mgr_ip())
                self.mod.set_uri(link)
                self.mod.log.info("restapi: serving on %s", link)

            try:
                server.run(self.build(server, base), addr, port, on_ready=publish_url if publish else None)  # fmt: skip
            finally:
                server.stop()
                server.close()

    def restart(self) -> None:
        """Rebind with the current options."""
        with self.lock:
            if self.server is not None:
                self.server.stop()

    def stop(self) -> None:
        with self.lock:
            self.shutting_down.set()
            if self.server is not None:
                self.server.stop()


class Module(MgrModule):
    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session = _Session(self)
        self._serving = _Serving(self, self._app)
        self._running: tuple[Any, ...] | None = None

    def _app(self, server: WebServer, base_url: str) -> web.Application:
        from pyceph.restapi import make_app
        from pyceph.restapi.client import runner

        self._running = _settings(self, _SERVER_KEYS)
        return make_app(runner(server.blocking, self._session.get), base_url)

    def serve(self) -> None:
        try:
            self._serving.run(publish=True)
        finally:
            self._session.close()

    def config_notify(self) -> None:
        if self._running is not None and _settings(self, _SERVER_KEYS) != self._running:
            self._serving.restart()

    def shutdown(self) -> None:
        self._serving.stop()


class StandbyModule(MgrStandbyModule):
    """On a standby mgr: every request is redirected to the active mgr's API."""

    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serving = _Serving(self, self._app)

    def _app(self, server: WebServer, base_url: str) -> web.Application:
        from aiohttp import web

        async def redirect(request: web.Request) -> web.Response:
            active = self.get_active_uri()
            if not active:
                return web.Response(status=503, text="No active mgr serves the REST API\n")
            scheme_host = active.split("/", 3)[:3]
            target = "/".join(scheme_host) + request.rel_url.raw_path_qs
            return web.Response(status=307, headers={"Location": target}, text=f"The active REST API is at {target}\n")  # fmt: skip

        app = web.Application()
        app.router.add_route("*", "/{path:.*}", redirect)
        return app

    def serve(self) -> None:
        self._serving.run(publish=False)

    def shutdown(self) -> None:
        self._serving.stop()
