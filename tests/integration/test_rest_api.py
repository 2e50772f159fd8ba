"""Seed 004's ceph-rest-api walk-through against a real cluster, in both of its hosts.

The `ceph-rest-api` command (a process of its own, `-n` a cephx user, its address
from `CEPH_ARGS`) and the `restapi` mgr module (its own session as a cephx user
set by module options) serve the same API; each is driven over HTTP through the
seed's steps: `/` redirects to `/api/v0.1`; `health` plain and as the JSON
envelope; `status`, `osd/tree`, `df`, `auth/list`; `PUT osd/pool/create` makes a
pool; `tell/<osd>/version` and `tell/<pgid>/query` reach an OSD; a GET of a write command is 405 and changes nothing; bad input is 404/400
with the reason and changes nothing; a user with `mon 'allow r'` reads and is
refused writes with upstream's `Error: access denied (-13)`.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import FAST_OPTIONS
from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import LocalCluster, free_port

#: bound on waiting for a server to listen, a module to start, a process to exit
WAIT = 30.0
#: per-request socket timeout
HTTP_TIMEOUT = 30.0
BASE = "/api/v0.1"


def _mon(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def req(port: int, method: str, path: str, accept: str | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One request, redirects not followed: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        conn.request(method, path, headers={"Accept": accept} if accept else {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _answers(port: int) -> bool:
    try:
        return req(port, "GET", "/")[0] == 302
    except OSError:
        return False


class Users:
    """The test's cephx users: a full one and a `mon 'allow r'` one, in one keyring."""

    def __init__(self, admin: rados.Rados, tmp: str) -> None:
        tag = uuid.uuid4().hex[:6]
        self.admin = admin
        self.full = f"client.restapi-{tag}"
        self.ro = f"client.restapi-ro-{tag}"
        self.keys: dict[str, str] = {}
        self.keyring = os.path.join(tmp, "keyring")
        text = ""
        for name, caps in ((self.full, ["mon", "allow *", "mgr", "allow *", "osd", "allow *"]), (self.ro, ["mon", "allow r"])):  # fmt: skip
            ret, out, outs = _mon(admin, prefix="auth get-or-create", entity=name, caps=caps)
            assert ret == 0, outs
            text += out.decode()
            ret, key, outs = _mon(admin, prefix="auth get-key", entity=name)
            assert ret == 0, outs
            self.keys[name] = key.decode().strip()
        with open(self.keyring, "w") as f:
            f.write(text)
        os.chmod(self.keyring, 0o600)

    def remove(self) -> None:
        for name in (self.full, self.ro):
            _mon(self.admin, prefix="auth rm", entity=name)


@pytest.fixture(scope="module")
def admin(cluster_conf: str) -> Iterator[rados.Rados]:
    r = rados.Rados(conffile=cluster_conf)
    r.connect()
    yield r
    r.shutdown()


@pytest.fixture(scope="module")
def users(admin: rados.Rados, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Users]:
    u = Users(admin, str(tmp_path_factory.mktemp("restapi")))
    yield u
    u.remove()


class RestApiCommand:
    """A `ceph-rest-api` process as one user; `stop()` sends SIGTERM and checks it exits 0."""

    def __init__(self, conf: str, users: Users, who: list[str], extra: str = "") -> None:
        self.port = free_port()
        env = dict(os.environ)
        env["CEPH_ARGS"] = f"--keyring {users.keyring} --restapi_public_addr 127.0.0.1:{self.port} {extra}"  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyceph.cli.rest_api_main", "-c", conf, *who],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_until(lambda: self.proc.poll() is not None or _answers(self.port), "ceph-rest-api listening", WAIT)  # fmt: skip
        assert self.proc.poll() is None, self.proc.communicate()

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=WAIT)
        return self.proc.returncode, out.decode(), err.decode()


class RestApiModule:
    """The `restapi` mgr module enabled on the shared cluster, acting as one user."""

    def __init__(self, admin: rados.Rados, users: Users, name: str) -> None:
        self.admin = admin
        self.users = users
        self.port = free_port()
        for opt, val in (("server_addr", "127.0.0.1"), ("server_port", str(self.port))):
            assert _mon(admin, prefix="config set", who="mgr", name=f"mgr/restapi/{opt}", value=val)[0] == 0  # fmt: skip
        self.act_as(name)
        wait_until(lambda: _mon(admin, prefix="mgr module enable", module="restapi")[0] == 0, "module enable", WAIT)  # fmt: skip
        wait_until(lambda: _answers(self.port), "restapi module listening", WAIT)

    def act_as(self, name: str) -> None:
        for opt, val in (("client_name", name), ("client_key", self.users.keys[name])):
            assert _mon(self.admin, prefix="config set", who="mgr", name=f"mgr/restapi/{opt}", value=val)[0] == 0  # fmt: skip

    def services(self) -> dict[str, str]:
        ret, out, _ = _mon(self.admin, prefix="mgr services", format="json")
        return json.loads(out) if ret == 0 else {}

    def stop(self) -> None:
        _mon(self.admin, prefix="mgr module disable", module="restapi")
        for opt in ("server_addr", "server_port", "client_name", "client_key"):
            _mon(self.admin, prefix="config rm", who="mgr", name=f"mgr/restapi/{opt}")


def _pools(admin: rados.Rados) -> list[str]:
    return sorted(admin.list_pools())


def walk_through(port: int, admin: rados.Rados) -> None:
    """The seed's steps, and the bad-input ones, against the API on `port`."""
    status, headers, body = req(port, "GET", "/")
    assert status == 302 and headers["location"] == BASE
    assert b"You should be redirected automatically to target URL" in body

    status, headers, body = req(port, "GET", BASE + "/health")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert body.decode().startswith("HEALTH_")

    status, headers, body = req(port, "GET", BASE + "/health", accept="application/json")
    assert status == 200 and headers["content-type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["status"] == "OK" and doc["output"]["status"].startswith("HEALTH_")

    status, _, body = req(port, "GET", BASE + "/health.xml")
    assert status == 200 and body.startswith(b"<response><output><status>HEALTH_")

    status, _, body = req(port, "GET", BASE + "/status")
    assert status == 200 and b"cluster:" in body and b"health:" in body
    tree = json.loads(req(port, "GET", BASE + "/osd/tree.json")[2])["output"]
    assert {n["type"] for n in tree["nodes"]} >= {"root", "host", "osd"}
    df = json.loads(req(port, "GET", BASE + "/df", accept="application/json")[2])["output"]
    assert "total_bytes" in df["stats"] and isinstance(df["pools"], list)
    auth = json.loads(req(port, "GET", BASE + "/auth/list.json")[2])["output"]
    assert "client.admin" in {e["entity"] for e in auth["auth_dump"]}

    # the help page lists every command; ?help describes one
    status, headers, body = req(port, "GET", BASE)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"osd/pool/create?pool=" in body and b"health" in body
    status, _, body = req(port, "GET", BASE + "/osd/pool/create?help")
    assert status == 200 and body.startswith(b"osd pool create pool=")

    # a write: PUT, and the pool exists after
    pool = f"rest-{uuid.uuid4().hex[:8]}"
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/create?pool={pool}&pg_num=8", accept="application/json")  # fmt: skip
    assert status == 200, body
    assert json.loads(body)["status"] == f"pool '{pool}' created"
    wait_until(lambda: pool in _pools(admin), "the new pool in the client's map", WAIT)

    # an OSD's own commands: tell/<osd id or name>/..., tell/<pgid>/... (to its primary)
    status, _, body = req(port, "GET", BASE + "/tell/osd.0/version.json")
    assert status == 200 and "version" in json.loads(body)["output"], body
    pgid = f"{admin.pool_lookup(pool)}.0"

    def pg_query() -> Any:
        answer = req(port, "GET", f"{BASE}/tell/{pgid}/query.json")
        return answer[2] if answer[0] == 200 else None

    assert json.loads(wait_until(pg_query, "pg query", WAIT))["output"]["info"]["pgid"] == pgid
    assert req(port, "GET", BASE + "/tell/nobody/version")[0] == 400

    before = _pools(admin)
    other = f"rest-{uuid.uuid4().hex[:8]}"
    # a GET of a write command: 405 with Allow, nothing created
    status, headers, _ = req(port, "GET", f"{BASE}/osd/pool/create?pool={other}&pg_num=8")
    assert status == 405 and headers["allow"] == "PUT, DELETE"
    # a read command written to: 405 with Allow: GET
    status, headers, _ = req(port, "PUT", BASE + "/health")
    assert status == 405 and headers["allow"] == "GET"
    # unknown path: 404, inside and outside the base URL
    assert req(port, "GET", BASE + "/no/such/command")[0] == 404
    assert req(port, "GET", "/elsewhere")[0] == 404
    # a partial path: upstream's help table of the commands under it, 400
    status, headers, body = req(port, "GET", BASE + "/osd/pool")
    assert status == 400 and headers["content-type"].startswith("text/html") and b"osd/pool/create" in body  # fmt: skip
    # missing, malformed and unknown arguments: 400 with the reason
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/create?pg_num=8")
    assert status == 400 and b"missing required parameter pool" in body
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/create?pool={other}&pg_num=eight")
    assert status == 400 and b"eight doesn't represent an int" in body
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/create?pool={other}&pool_type=striped")
    assert status == 400 and b"striped not in replicated|erasure" in body
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/create?pool={other}&bogus=1", accept="application/json")  # fmt: skip
    assert status == 400 and "unused arguments" in json.loads(body)["status"]
    # the cluster's own refusal: upstream's 400 "Error: <outs> (<ret>)"
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/create?pool={pool}&pg_num=8&pool_type=erasure")  # fmt: skip
    assert status == 400 and b"Error: " in body
    assert _pools(admin) == before

    # and the pool goes away the same way
    status, _, body = req(port, "PUT", f"{BASE}/osd/pool/rm?pool={pool}&pool2={pool}&yes_i_really_really_mean_it")  # fmt: skip
    assert status == 200, body
    wait_until(lambda: pool not in _pools(admin), "the pool removed", WAIT)


def read_only(port: int, admin: rados.Rados, base: str = BASE) -> None:
    """A `mon 'allow r'` user reads, and its writes are refused, changing nothing."""
    assert req(port, "GET", base + "/health")[0] == 200
    assert req(port, "GET", base + "/osd/tree.json")[0] == 200
    before = _pools(admin)
    pool = f"rest-ro-{uuid.uuid4().hex[:8]}"
    status, _, body = req(port, "PUT", f"{base}/osd/pool/create?pool={pool}&pg_num=8", accept="application/json")  # fmt: skip
    assert status == 400
    assert json.loads(body) == {"status": "Error: access denied (-13)", "output": []}
    status, _, body = req(port, "PUT", f"{base}/osd/set?key=noout")
    assert status == 400 and body == b"\nError: access denied (-13)\n"
    assert _pools(admin) == before
    assert "noout" not in json.loads(_mon(admin, prefix="osd dump", format="json")[1])["flags"]


def test_command_walk_through(cluster_conf: str, admin: rados.Rados, users: Users) -> None:
    api = RestApiCommand(cluster_conf, users, ["-n", users.full])
    try:
        walk_through(api.port, admin)
    finally:
        code, out, err = api.stop()
    assert code == 0, err
    assert f" * Running on http://127.0.0.1:{api.port}/" in out


def test_command_read_only_user(cluster_conf: str, admin: rados.Rados, users: Users) -> None:
    """As `-i ID`, with a base URL and log level of its own from the configuration."""
    api = RestApiCommand(cluster_conf, users, ["-i", users.ro.removeprefix("client.")], "--restapi_base_url /ceph/ --restapi_log_level info")  # fmt: skip
    try:
        status, headers, _ = req(api.port, "GET", "/")
        assert status == 302 and headers["location"] == "/ceph"
        read_only(api.port, admin, "/ceph")
        assert req(api.port, "GET", BASE + "/health")[0] == 404
    finally:
        code, _, err = api.stop()
    assert code == 0, err
    assert "GET /ceph/health from 127.0.0.1" in err  # requests logged at info


def test_command_bad_log_level(cluster_conf: str, users: Users) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pyceph.cli.rest_api_main", "-c", cluster_conf, "-n", users.ro],
        env={**os.environ, "CEPH_ARGS": f"--keyring {users.keyring} --restapi_log_level loud"},
        capture_output=True,
        timeout=WAIT * 2,
    )
    assert proc.returncode == 1
    assert b"restapi_log_level 'loud' is not one of critical, error, warning, info, debug" in proc.stderr  # fmt: skip


def test_command_bad_user_fails(cluster_conf: str, users: Users) -> None:
    """A user the cluster does not know: the command says why and exits 1."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyceph.cli.rest_api_main",
            "-c",
            cluster_conf,
            "-i",
            "nobody-" + uuid.uuid4().hex[:6],
        ],  # fmt: skip
        env={**os.environ, "CEPH_ARGS": f"--keyring {users.keyring}"},
        capture_output=True,
        timeout=WAIT * 2,
    )
    assert proc.returncode == 1
    assert b"cannot connect to the cluster" in proc.stderr


def test_mgr_module(admin: rados.Rados, users: Users) -> None:
    api = RestApiModule(admin, users, users.full)
    try:
        uri = wait_until(lambda: api.services().get("restapi"), "restapi in mgr services", WAIT)
        assert uri == f"http://127.0.0.1:{api.port}{BASE}/"
        walk_through(api.port, admin)
        # the same module as another user: that user's caps apply at once
        api.act_as(users.ro)
        # the options reach the mgr with its next config push: wait until it acts as the
        # read-only user (`auth list` needs `x`, which `mon 'allow r'` lacks)
        wait_until(lambda: req(api.port, "GET", BASE + "/auth/list")[0] == 400, "the module acting as the read-only user", WAIT)  # fmt: skip
        read_only(api.port, admin)
        # a user the cluster does not know: 503 with the reason, and nothing else changes
        assert _mon(admin, prefix="config set", who="mgr", name="mgr/restapi/client_name", value="client.nobody")[0] == 0  # fmt: skip

        def refused() -> bytes | None:
            status, _, body = req(api.port, "GET", BASE + "/health")
            return body if status == 503 else None

        assert b"cannot connect as client.nobody" in wait_until(refused, "the unknown user refused", WAIT)  # fmt: skip
        # a new port: the module rebinds and publishes its new URL
        old, api.port = api.port, free_port()
        assert _mon(admin, prefix="config set", who="mgr", name="mgr/restapi/server_port", value=str(api.port))[0] == 0  # fmt: skip
        wait_until(lambda: api.services().get("restapi") == f"http://127.0.0.1:{api.port}{BASE}/", "the new URL published", WAIT)  # fmt: skip
        assert _answers(api.port) and not _answers(old)
    finally:
        api.stop()
    wait_until(lambda: not _answers(api.port), "restapi stopped with the module", WAIT)


@pytest.fixture
def two_mgrs(tmp_path: Any) -> Iterator[LocalCluster]:
    """A cluster of one OSD and two mgrs (x active, y standby)."""
    cluster = LocalCluster(str(tmp_path / "c"))
    cluster.create(num_osds=1, overrides={**FAST_OPTIONS, "osd_pool_default_size": "1"}, num_mgrs=2)
    try:
        cluster.start()
        cluster.wait_ready()
        yield cluster
    finally:
        cluster.stop()


def _mgr_map(admin: rados.Rados) -> dict[str, Any]:
    return json.loads(_mon(admin, prefix="mgr dump", format="json")[1])


def test_module_moves_with_the_active_mgr(two_mgrs: LocalCluster, tmp_path: Any) -> None:
    """The standby's module redirects to the active one; after a failover the new
    active mgr serves the API and `ceph mgr services` follows it."""
    admin = rados.Rados(conffile=two_mgrs.conf_path)
    admin.connect()
    try:
        # the monitor enables a module only once every mgr reports it (as upstream)
        wait_until(
            lambda: [s for s in _mgr_map(admin).get("standbys", []) if s.get("available_modules")],
            "a standby mgr with its modules loaded",
            WAIT,
        )
        active = _mgr_map(admin)["active_name"]
        standby = _mgr_map(admin)["standbys"][0]["name"]
        users = Users(admin, str(tmp_path))
        ports = {active: free_port(), standby: free_port()}
        for mgr, port in ports.items():  # localized: each mgr its own port on this host
            assert _mon(admin, prefix="config set", who="mgr", name=f"mgr/restapi/{mgr}/server_port", value=str(port))[0] == 0  # fmt: skip
        for opt, val in (("server_addr", "127.0.0.1"), ("client_name", users.full), ("client_key", users.keys[users.full])):  # fmt: skip
            assert _mon(admin, prefix="config set", who="mgr", name=f"mgr/restapi/{opt}", value=val)[0] == 0  # fmt: skip
        assert _mon(admin, prefix="mgr module enable", module="restapi")[0] == 0
        wait_until(lambda: _answers(ports[active]), "the active mgr's API", WAIT)

        def redirected() -> str | None:
            try:
                status, headers, _ = req(ports[standby], "GET", BASE + "/osd/tree?x=1")
            except OSError:
                return None
            return headers.get("location") if status == 307 else None

        location = wait_until(redirected, "the standby's redirect", WAIT)
        assert location == f"http://127.0.0.1:{ports[active]}{BASE}/osd/tree?x=1"

        assert _mon(admin, prefix="mgr fail", who=active)[0] == 0
        wait_until(lambda: _answers(ports[standby]), "the new active mgr's API", WAIT)
        uri = wait_until(lambda: json.loads(_mon(admin, prefix="mgr services", format="json")[1]).get("restapi") == f"http://127.0.0.1:{ports[standby]}{BASE}/", "mgr services following the active", WAIT)  # fmt: skip
        assert uri
    finally:
        admin.shutdown()
