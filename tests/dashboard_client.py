"""A client of the `dashboard` module for the tests: HTTPS with the module's own
self-signed certificate trusted, the versioned Accept header, tokens of an
administrator and a read-only user (`start_dashboard` enables the module on a free
port and creates both)."""

from __future__ import annotations

import contextlib
import http.client
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import free_port

#: bound on waiting for the mgr and the module
WAIT = 30.0
#: per-request timeout
HTTP_TIMEOUT = 30.0
V1 = "application/vnd.ceph.api.v1.0+json"
#: the versions of the endpoints upstream moved on (the image list)
V2 = "application/vnd.ceph.api.v2.0+json"
ADMIN = ("admin", "Adm1n-Passw0rd!x")
READER = ("reader", "Re4der-Passw0rd!y")


def cmd(r: rados.Rados, inbuf: str = "", **c: Any) -> tuple[int, str, str]:
    """A mon command (the mgr's commands are forwarded) as (ret, out, err)."""
    ret, out, err = r.mon_command(json.dumps(c), inbuf.encode())
    return ret, out.decode(), err


def mgr_cmd(r: rados.Rados, inbuf: str = "", **c: Any) -> tuple[int, str, str]:
    ret, out, err = r.mgr_command(json.dumps(c), inbuf.encode())
    return ret, out.decode(), err


@dataclass
class Dashboard:
    """A client of the dashboard at https://127.0.0.1:`port` trusting `cafile`."""

    port: int
    context: ssl.SSLContext
    rados: rados.Rados
    cluster: Any = None
    tokens: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        accept: str | None = V1,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.context, timeout=HTTP_TIMEOUT
        )
        h = dict(headers or {})
        if accept:
            h["Accept"] = accept
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = text.decode(errors="replace")
        return resp.status, hdrs, doc

    def login(self, user: tuple[str, str]) -> str:
        status, _, doc = self.request(
            "POST", "/api/auth", {"username": user[0], "password": user[1]}
        )
        assert status == 201, doc
        return str(doc["token"])

    def as_admin(
        self, method: str, path: str, body: Any = None, **kw: Any
    ) -> tuple[int, dict[str, str], Any]:
        return self.request(method, path, body, token=self.tokens["admin"], **kw)


def start_dashboard(r: rados.Rados) -> Dashboard:
    """Enable the module with TLS on a free port, its certificate and two users."""
    port = free_port()
    for name, value in (("server_addr", "127.0.0.1"), ("ssl_server_port", str(port))):
        assert (
            cmd(r, prefix="config set", who="mgr", name=f"mgr/dashboard/{name}", value=value)[0]
            == 0
        )
    wait_until(
        lambda: cmd(r, prefix="mgr module enable", module="dashboard")[0] == 0, "enable", WAIT
    )
    # the module's commands show up once it runs
    wait_until(lambda: mgr_cmd(r, prefix="dashboard create-self-signed-cert")[0] == 0, "cert", WAIT)
    for (user, pwd), role in ((ADMIN, "administrator"), (READER, "read-only")):
        ret, out, err = mgr_cmd(
            r, pwd, prefix="dashboard ac-user-create", username=user, rolename=role
        )
        assert ret == 0, err
    ret, cert, _ = cmd(r, prefix="config-key get", key="mgr/dashboard/crt")
    assert ret == 0
    ctx = ssl.create_default_context(cadata=cert)
    dash = Dashboard(port, ctx, r)

    def up() -> bool:
        try:
            return dash.request("GET", "/docs/api.json")[0] == 200
        except OSError:
            return False

    wait_until(up, "the dashboard serving https", WAIT)
    dash.tokens["admin"] = dash.login(ADMIN)
    dash.tokens["reader"] = dash.login(READER)
    return dash


@contextlib.contextmanager
def serving(cluster: Any) -> Iterator[Dashboard]:
    """The dashboard of a started `cluster`, which is stopped afterwards."""
    r = rados.Rados(conffile=cluster.conf_path)
    try:
        r.connect()
        dash = start_dashboard(r)
        dash.cluster = cluster
        yield dash
    finally:
        r.shutdown()
        cluster.stop()
