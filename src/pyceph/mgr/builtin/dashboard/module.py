"""The `dashboard` mgr module: the versioned REST API (and the web UI) over HTTPS.

As upstream's dashboard of 16.2.15 (src/pybind/mgr/dashboard/module.py): the
module's serve() thread runs the aiohttp app (`app.build_app`) through
`pyceph.mgr.web.WebServer` on `server_addr` and `ssl_server_port` (8443) with TLS,
or `server_port` (8080) when the `ssl` option is false; the URL is published in
``ceph mgr services``. With TLS on and no certificate yet, the module waits
(checking every `CONFIG_POLL` seconds, and at once when these commands or a config
change say so) for ``ceph dashboard create-self-signed-cert`` or
``set-ssl-certificate``/``-key``, as upstream's ``await_configuration``. A change of address, port, ``ssl`` or certificate
restarts the server. The commands manage users and roles (``ac-*``), TLS
material and the token lifetime (``JWT_TOKEN_TTL``, upstream's setting name).

On a standby mgr, `StandbyModule` answers every request with a redirect to the
active mgr's dashboard (``standby_behaviour`` ``redirect``), or with
``standby_error_status_code`` (``error``).
"""

from __future__ import annotations

import errno
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from mgr_module import (
    CLICheckNonemptyFileInput,
    CLIReadCommand,
    CLIWriteCommand,
    HandleCommandResult,
    MgrModule,
    MgrStandbyModule,
    Option,
)
from mgr_util import build_url

from .access import SYSTEM_ROLES, AccessError
from .services.auth import DEFAULT_TOKEN_TTL, AuthService

# The web stack (aiohttp, pydantic, the controllers) and `cryptography` are imported
# when the module serves or handles TLS, not when the mgr loads every module at start
# to learn its commands: loading stays cheap and `pyceph up` imports `access` alone.
if TYPE_CHECKING:
    from aiohttp import web

    from pyceph.mgr.web import WebServer

#: upstream's default ports
DEFAULT_PORT = 8080
DEFAULT_SSL_PORT = 8443
#: seconds between two looks for a missing certificate
CONFIG_POLL = 1.0
#: addresses that mean "every interface": the URI shows the mgr's own address instead
WILDCARD_ADDRS = ("", "::", "0.0.0.0", "*")
FILE_DESC = "the password"

OPTIONS = [
    Option(name="server_addr", default="::", desc="the address the dashboard listens on"),
    Option(name="server_port", type="int", default=DEFAULT_PORT, min=1, max=65535),
    Option(name="ssl_server_port", type="int", default=DEFAULT_SSL_PORT, min=1, max=65535),
    Option(name="ssl", type="bool", default=True, desc="serve HTTPS"),
    Option(name="crt_file", default="", desc="a certificate file, instead of the KV store's"),
    Option(name="key_file", default="", desc="a private key file, instead of the KV store's"),
    Option(name="standby_behaviour", default="redirect", enum_allowed=["redirect", "error"]),
    Option(name="standby_error_status_code", type="int", default=500, min=400, max=599),
    Option(
        name="JWT_TOKEN_TTL",
        type="int",
        default=DEFAULT_TOKEN_TTL,
        min=1,
        desc="seconds a login token is valid",
    ),
]


def server_uri(ssl: bool, addr: str, port: int, own_ip: str) -> str:
    """The dashboard's URL as `ceph mgr services` shows it."""
    host = own_ip if addr in WILDCARD_ADDRS else addr
    return build_url(host, "https" if ssl else "http", port, "/")


def _bind_addr(addr: str) -> str:
    return "" if addr in ("*", "") else addr


class _Config:
    """Where and how to serve: compared to notice a change that needs a restart."""

    def __init__(self, mod: Any) -> None:
        self.ssl = bool(mod.get_localized_module_option("ssl", True))
        self.addr = str(mod.get_localized_module_option("server_addr") or "::")
        key = "ssl_server_port" if self.ssl else "server_port"
        default = DEFAULT_SSL_PORT if self.ssl else DEFAULT_PORT
        self.port = int(mod.get_localized_module_option(key) or default)
        self.cert, self.key = _tls_material(mod) if self.ssl else (None, None)

    def key_tuple(self) -> tuple[Any, ...]:
        return (self.ssl, self.addr, self.port, self.cert, self.key)


def _tls_material(mod: Any) -> tuple[str | None, str | None]:
    cert = key = None
    crt_file = str(mod.get_localized_module_option("crt_file") or "")
    key_file = str(mod.get_localized_module_option("key_file") or "")
    if crt_file and key_file:
        try:
            with open(crt_file) as f:
                cert = f.read()
            with open(key_file) as f:
                key = f.read()
        except OSError as e:
            mod.log.error("dashboard: cannot read %s/%s: %s", crt_file, key_file, e)
    return cert or mod.get_localized_store("crt"), key or mod.get_localized_store("key")


class _Runner:
    """Runs the web server from serve(), restarting it when its configuration changes."""

    def __init__(self, mod: Any, make_app: Any) -> None:
        self.mod = mod
        self.make_app = make_app
        self._stop = threading.Event()
        #: set on stop or a configuration change: a wait for a certificate ends at once
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._server: WebServer | None = None
        self.config: _Config | None = None

    def run(self) -> None:
        # the web stack is imported here, while a certificate may still be on its way
        from pyceph.mgr.web import WebServer

        from . import tls

        while not self._stop.is_set():
            self._wake.clear()
            cfg = _Config(self.mod)
            if cfg.ssl and not (cfg.cert and cfg.key):
                self.mod.log.info("dashboard: no SSL certificate; waiting for one")
                self._wake.wait(CONFIG_POLL)
                continue
            ctx = None
            if cfg.ssl:
                try:
                    ctx = tls.server_context(cfg.cert or "", cfg.key or "")
                except tls.TlsError as e:
                    self.mod.log.error("dashboard: %s", e)
                    self._wake.wait(CONFIG_POLL)
                    continue
            server = WebServer("dashboard")
            with self._lock:
                if self._stop.is_set():
                    server.close()
                    return
                self._server, self.config = server, cfg
            try:
                app = self.make_app(server)
                self.mod.set_uri(server_uri(cfg.ssl, cfg.addr, cfg.port, self.mod.get_mgr_ip()))
                server.run(app, _bind_addr(cfg.addr), cfg.port, ctx)
            finally:
                server.close()
                with self._lock:
                    self._server = None

    def restart_if_changed(self) -> None:
        """Restart the server when where/how it serves changed (a config change); a
        runner still waiting for its configuration looks again at once."""
        cfg = self.config
        if cfg is None:
            self._wake.set()
        elif _Config(self.mod).key_tuple() != cfg.key_tuple():
            self.restart()

    def restart(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            self._wake.set()
            if self._server is not None:
                self._server.stop()


def _ok(out: Any = "") -> HandleCommandResult:
    return HandleCommandResult(0, out if isinstance(out, str) else json.dumps(out), "")


def _fail(e: AccessError) -> HandleCommandResult:
    return HandleCommandResult(-e.errno, "", str(e))


class Module(MgrModule):
    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._auth: AuthService | None = None
        self._auth_lock = threading.Lock()
        self._runner = _Runner(self, self._make_app)

    @property
    def auth(self) -> AuthService:
        """Users, roles and tokens (loaded from the KV store on first use)."""
        with self._auth_lock:
            if self._auth is None:
                self._auth = AuthService(self.get_store, self.set_store)
            return self._auth

    def token_ttl(self) -> int:
        return int(self.get_module_option("JWT_TOKEN_TTL") or DEFAULT_TOKEN_TTL)

    def _make_app(self, server: WebServer) -> web.Application:
        from .app import build_app
        from .framework import DashboardContext
        from .tasks import TaskManager

        ctx = DashboardContext(self, server, TaskManager(server.blocking), self.auth)
        return build_app(ctx)

    # -- lifecycle
    def serve(self) -> None:
        self.auth  # noqa: B018 - load users and the JWT secret before serving
        self._runner.run()

    def shutdown(self) -> None:
        self._runner.stop()

    def config_notify(self) -> None:
        self._runner.restart_if_changed()

    # -- users and roles (upstream's ac-* commands)
    @CLIWriteCommand("dashboard ac-user-create")
    @CLICheckNonemptyFileInput(desc=FILE_DESC)
    def ac_user_create(
        self,
        username: str,
        inbuf: str,
        rolename: str | None = None,
        name: str | None = None,
        email: str | None = None,
        enabled: bool = True,
        force_password: bool = False,
        pwd_update_required: bool = False,
    ) -> HandleCommandResult:
        """Create a user. Password read from -i <file>"""
        try:
            user = self.auth.db.create_user(
                username,
                inbuf,
                [rolename] if rolename else [],
                time.time(),
                name,
                email,
                enabled,
                force_password,
                pwd_update_required,
            )
        except AccessError as e:
            return _fail(e)
        self.auth.save()
        return _ok(user.to_dict())

    @CLIReadCommand("dashboard ac-user-show")
    def ac_user_show(self, username: str | None = None) -> HandleCommandResult:
        """Show user info"""
        if not username:
            return _ok(sorted(self.auth.db.users))
        try:
            return _ok(self.auth.db.user(username).to_dict())
        except AccessError as e:
            return _fail(e)

    @CLIWriteCommand("dashboard ac-user-delete")
    def ac_user_delete(self, username: str) -> HandleCommandResult:
        """Delete user"""
        try:
            self.auth.db.delete_user(username)
        except AccessError as e:
            return _fail(e)
        self.auth.save()
        return _ok(f"User '{username}' deleted")

    @CLIWriteCommand("dashboard ac-user-set-password")
    @CLICheckNonemptyFileInput(desc=FILE_DESC)
    def ac_user_set_password(
        self, username: str, inbuf: str, force_password: bool = False
    ) -> HandleCommandResult:
        """Set user password from -i <file>"""
        try:
            user = self.auth.db.set_password(username, inbuf, time.time(), force_password)
        except AccessError as e:
            return _fail(e)
        self.auth.save()
        return _ok(user.to_dict())

    @CLIWriteCommand("dashboard ac-user-set-roles")
    def ac_user_set_roles(self, username: str, roles: list[str]) -> HandleCommandResult:
        """Set user roles"""
        try:
            user = self.auth.db.set_roles(username, roles, time.time())
        except AccessError as e:
            return _fail(e)
        self.auth.save()
        return _ok(user.to_dict())

    @CLIReadCommand("dashboard ac-role-show")
    def ac_role_show(self, rolename: str | None = None) -> HandleCommandResult:
        """Show role info"""
        if not rolename:
            return _ok([r.name for r in self.auth.db.all_roles()])
        try:
            return _ok(self.auth.db.role(rolename).to_dict())
        except AccessError as e:
            return _fail(e)

    # -- TLS
    @CLIWriteCommand("dashboard create-self-signed-cert")
    def create_self_signed_cert(self) -> HandleCommandResult:
        """Create self signed certificate"""
        from . import tls

        cert, key = tls.make_self_signed()
        self.set_store("crt", cert)
        self.set_store("key", key)
        self._runner.restart_if_changed()
        return _ok("Self-signed certificate created")

    @CLIWriteCommand("dashboard set-ssl-certificate")
    @CLICheckNonemptyFileInput(desc="the certificate")
    def set_ssl_certificate(self, inbuf: str, mgr_id: str | None = None) -> HandleCommandResult:
        """Set the SSL certificate from -i <file>"""
        from . import tls

        try:
            tls.check_cert(inbuf)
        except tls.TlsError as e:
            return HandleCommandResult(-errno.EINVAL, "", str(e))
        self.set_store(f"{mgr_id}/crt" if mgr_id else "crt", inbuf)
        self._runner.restart_if_changed()
        return _ok("SSL certificate updated")

    @CLIWriteCommand("dashboard set-ssl-certificate-key")
    @CLICheckNonemptyFileInput(desc="the certificate key")
    def set_ssl_certificate_key(self, inbuf: str, mgr_id: str | None = None) -> HandleCommandResult:
        """Set the SSL certificate key from -i <file>"""
        from . import tls

        try:
            tls.check_key(inbuf)
        except tls.TlsError as e:
            return HandleCommandResult(-errno.EINVAL, "", str(e))
        self.set_store(f"{mgr_id}/key" if mgr_id else "key", inbuf)
        self._runner.restart_if_changed()
        return _ok("SSL certificate key updated")

    # -- settings
    @CLIReadCommand("dashboard get-jwt-token-ttl")
    def get_jwt_token_ttl(self) -> HandleCommandResult:
        """Get the JWT token TTL in seconds"""
        return _ok(str(self.token_ttl()))

    @CLIWriteCommand("dashboard set-jwt-token-ttl")
    def set_jwt_token_ttl(self, seconds: int) -> HandleCommandResult:
        """Set the JWT token TTL in seconds"""
        if seconds < 1:
            return HandleCommandResult(-errno.EINVAL, "", "the TTL must be positive")
        self.set_module_option("JWT_TOKEN_TTL", seconds)
        return _ok("Option JWT_TOKEN_TTL updated")


class StandbyModule(MgrStandbyModule):
    """On a standby mgr: redirect to the active mgr's dashboard (or answer an error)."""

    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._runner = _Runner(self, self._make_app)

    def set_uri(self, uri: str) -> None:
        pass  # only the active mgr's dashboard is published

    def _make_app(self, server: WebServer) -> web.Application:
        from aiohttp import web

        async def any_path(request: web.Request) -> web.StreamResponse:
            if self.get_module_option("standby_behaviour") == "error":
                code = int(self.get_module_option("standby_error_status_code") or 500)
                return web.Response(status=code, text="Keep on looking")
            active = await server.blocking(self.get_active_uri)
            if not active:
                return web.Response(status=503, text="No active mgr dashboard")
            target = active.rstrip("/") + request.path_qs
            raise web.HTTPSeeOther(target)

        app = web.Application()
        app.router.add_route("*", "/{path:.*}", any_path)
        return app

    def serve(self) -> None:
        self._runner.run()

    def shutdown(self) -> None:
        self._runner.stop()


__all__ = ["SYSTEM_ROLES", "Module", "StandbyModule", "server_uri"]
