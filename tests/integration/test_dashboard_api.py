"""The `dashboard` module's versioned REST API against a real cluster, over HTTPS.

One cluster for the file: the module is enabled with `ssl` on (the default) on a
free port, `ceph dashboard create-self-signed-cert` makes its certificate (the
client verifies it: the certificate is read back from the KV store), and users
are created with `ceph dashboard ac-user-create`. Every test talks HTTP to the
module as a client would, and checks upstream's paths, keys and status codes.
"""

from __future__ import annotations

import http.client
import json
import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import make_cluster
from tests.dashboard_client import (
    ADMIN,
    HTTP_TIMEOUT,
    READER,
    V1,
    Dashboard,
    cmd,
    mgr_cmd,
    serving,
)
from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import free_port

#: bound on waiting for the mgr, the module and the cluster
WAIT = 30.0


@pytest.fixture(scope="module")
def dash() -> Iterator[Dashboard]:
    with tempfile.TemporaryDirectory(prefix="pyceph-dash-") as tmp:
        cluster = make_cluster(os.path.join(tmp, "c"), mon_allow_pool_delete="true")
        with serving(cluster) as d:
            yield d


# ------------------------------------------------------------------ auth
def test_login_answers_token_and_permissions(dash: Dashboard) -> None:
    status, hdrs, doc = dash.request(
        "POST", "/api/auth", {"username": ADMIN[0], "password": ADMIN[1]}
    )
    assert status == 201
    assert hdrs["content-type"].startswith(V1)
    assert set(doc) >= {
        "token",
        "username",
        "permissions",
        "pwdExpirationDate",
        "sso",
        "pwdUpdateRequired",
    }
    assert doc["username"] == "admin"
    assert doc["permissions"]["pool"] == ["create", "delete", "read", "update"]
    status, _, doc = dash.request("POST", "/api/auth/check", {"token": doc["token"]})
    assert status == 200 and doc["username"] == "admin"


def test_bad_credentials_and_tokens(dash: Dashboard) -> None:
    status, _, doc = dash.request("POST", "/api/auth", {"username": "admin", "password": "wrong"})
    assert status == 400
    assert doc == {
        "detail": "Invalid credentials",
        "code": "invalid_credentials",
        "component": "auth",
    }
    assert dash.request("GET", "/api/summary")[0] == 401
    status, _, doc = dash.request("GET", "/api/summary", token="not.a.token")
    assert status == 401 and doc["detail"] == "You are not authorized to access that resource"
    forged = dash.tokens["admin"][:-2] + ("AA" if not dash.tokens["admin"].endswith("AA") else "BB")
    assert dash.request("GET", "/api/summary", token=forged)[0] == 401
    # the cookie works as the header does
    status, _, _ = dash.request(
        "GET", "/api/summary", headers={"Cookie": f"token={dash.tokens['admin']}"}
    )
    assert status == 200


def test_logout_blocks_the_token(dash: Dashboard) -> None:
    token = dash.login(ADMIN)
    assert dash.request("GET", "/api/summary", token=token)[0] == 200
    status, _, doc = dash.request("POST", "/api/auth/logout", token=token)
    assert status == 200 and doc == {"redirect_url": "#/login"}
    assert dash.request("GET", "/api/summary", token=token)[0] == 401
    assert dash.request("POST", "/api/auth/check", {"token": token})[2] == {"login_url": "#/login"}


def test_versioning(dash: Dashboard) -> None:
    status, _, doc = dash.as_admin("GET", "/api/summary", accept="application/json")
    assert status == 415 and doc["detail"] == "Unable to find version in request header"
    status, _, doc = dash.as_admin(
        "GET", "/api/summary", accept="application/vnd.ceph.api.v2.0+json"
    )
    assert status == 415 and "Incorrect version" in doc["detail"]
    status, hdrs, _ = dash.as_admin("GET", "/api/summary")
    assert status == 200 and hdrs["content-type"].startswith(V1)


# ------------------------------------------------------------------ endpoints
DATA = os.path.join(os.path.dirname(__file__), "..", "unit", "data", "dashboard")


def sample(name: str) -> Any:
    with open(os.path.join(DATA, f"dashboard-api-{name}.json")) as f:
        return json.load(f)


def keys_of(doc: Any) -> set[str]:
    return set(doc[0] if isinstance(doc, list) else doc)


def test_summary_health_monitor_host_keys_match_reference(dash: Dashboard) -> None:
    for path, name in (
        ("/api/summary", "summary"),
        ("/api/health/minimal", "health-minimal"),
        ("/api/health/full", "health-full"),
        ("/api/monitor", "monitor"),
        ("/api/host", "host"),
        ("/api/crush_rule", "crush_rule"),
    ):
        status, _, doc = dash.as_admin("GET", path)
        assert status == 200, (path, doc)
        assert keys_of(doc) == keys_of(sample(name)), path
    status, _, doc = dash.as_admin("GET", "/api/health/minimal")
    assert set(doc["client_perf"]) == set(sample("health-minimal")["client_perf"])
    assert set(doc["pg_info"]) == {"object_stats", "statuses", "pgs_per_osd"}
    assert len(doc["osd_map"]["osds"]) == 3 and doc["health"]["status"].startswith("HEALTH_")
    status, _, doc = dash.as_admin("GET", "/api/monitor")
    assert [m["name"] for m in doc["in_quorum"]] == ["a"] and "num_sessions" in doc["in_quorum"][0][
        "stats"
    ]
    url = f"https://127.0.0.1:{dash.port}/"
    wait_until(lambda: dash.as_admin("GET", "/api/summary")[2]["mgr_host"] == url, "mgr_host", WAIT)
    services = json.loads(cmd(dash.rados, prefix="mgr services", format="json")[1])
    assert services["dashboard"] == url


def test_health_shows_only_what_the_role_may_read(dash: Dashboard) -> None:
    ret, _, err = mgr_cmd(dash.rados, "Bl0ck-Manag3r!z", prefix="dashboard ac-user-create", username="blocky", rolename="block-manager")  # fmt: skip
    assert ret == 0, err
    token = dash.login(("blocky", "Bl0ck-Manag3r!z"))
    status, _, doc = dash.request("GET", "/api/health/minimal", token=token)
    assert status == 200
    assert "pools" in doc and "osd_map" not in doc and "mon_status" not in doc
    assert dash.request("GET", "/api/osd", token=token)[0] == 403


def test_osd_list_and_actions(dash: Dashboard) -> None:
    status, _, osds = dash.as_admin("GET", "/api/osd")
    assert status == 200 and [o["id"] for o in osds] == [0, 1, 2]
    assert keys_of(osds) >= keys_of(sample("osd")) - {"osd_stats"} and "osd_stats" in osds[0]
    status, _, one = dash.as_admin("GET", "/api/osd/1")
    assert status == 200 and set(one) == {"osd_map", "osd_metadata", "histogram"}
    assert dash.as_admin("GET", "/api/osd/99")[0] == 404
    assert dash.as_admin("PUT", "/api/osd/2/mark", {"action": "out"})[0] == 200

    def osd2() -> dict[str, Any]:
        return next(o for o in dash.as_admin("GET", "/api/osd")[2] if o["id"] == 2)

    wait_until(lambda: osd2()["in"] == 0, "osd.2 out", WAIT)
    assert dash.as_admin("PUT", "/api/osd/2/mark", {"action": "in"})[0] == 200
    wait_until(lambda: osd2()["in"] == 1, "osd.2 in", WAIT)
    status, _, doc = dash.as_admin("PUT", "/api/osd/2/mark", {"action": "sideways"})
    assert status == 400 and "action" in doc["detail"]
    assert dash.as_admin("POST", "/api/osd/1/reweight", {"weight": 0.5})[0] == 200
    wait_until(lambda: next(o for o in dash.as_admin("GET", "/api/osd")[2] if o["id"] == 1)["weight"] == 0.5, "reweight", WAIT)  # fmt: skip
    assert dash.as_admin("POST", "/api/osd/1/reweight", {"weight": 1.0})[0] == 200
    assert dash.as_admin("POST", "/api/osd/0/scrub?deep=true")[0] == 200
    # cluster-wide flags: set noout, then unset it; the map's own flags stay
    status, _, flags = dash.as_admin("GET", "/api/osd/flags")
    assert status == 200 and "noout" not in flags
    status, _, now = dash.as_admin("PUT", "/api/osd/flags", {"flags": [*flags, "noout"]})
    assert status == 200 and "noout" in now
    wait_until(lambda: "noout" in dash.as_admin("GET", "/api/osd/flags")[2], "noout set", WAIT)
    assert dash.as_admin("PUT", "/api/osd/flags", {"flags": [*flags, "bogus"]})[0] == 400
    assert dash.as_admin("PUT", "/api/osd/flags", {"flags": flags})[0] == 200
    wait_until(lambda: "noout" not in dash.as_admin("GET", "/api/osd/flags")[2], "noout unset", WAIT)  # fmt: skip
    # the read-only role cannot act
    assert (
        dash.request("PUT", "/api/osd/2/mark", {"action": "out"}, token=dash.tokens["reader"])[0]
        == 403
    )


def test_mgr_modules(dash: Dashboard) -> None:
    status, _, mods = dash.as_admin("GET", "/api/mgr/module")
    assert status == 200
    assert keys_of(mods) == keys_of(sample("mgr-module"))
    by_name = {m["name"]: m for m in mods}
    assert by_name["dashboard"]["enabled"] is True
    assert by_name["dashboard"]["options"]["ssl"]["default_value"] is True
    assert by_name["dashboard"]["options"]["ssl_server_port"]["default_value"] == 8443
    status, _, values = dash.as_admin("GET", "/api/mgr/module/dashboard")
    assert status == 200 and values["ssl_server_port"] == dash.port
    assert dash.as_admin("GET", "/api/mgr/module/nonesuch")[0] == 404
    assert dash.as_admin("POST", "/api/mgr/module/iostat/enable")[0] == 200

    def enabled(name: str) -> bool:
        mods = dash.as_admin("GET", "/api/mgr/module")[2]
        return any(m["name"] == name and m["enabled"] for m in mods)

    wait_until(lambda: enabled("iostat"), "iostat enabled", WAIT)
    assert dash.as_admin("POST", "/api/mgr/module/iostat/disable")[0] == 200
    wait_until(lambda: not enabled("iostat"), "iostat disabled", WAIT)


def test_cluster_conf(dash: Dashboard) -> None:
    status, _, opt = dash.as_admin("GET", "/api/cluster_conf/osd_pool_default_size")
    assert status == 200
    assert set(sample("cluster_conf-osd_pool_default_size")) <= set(opt)
    assert dash.as_admin("GET", "/api/cluster_conf/no_such_option")[0] == 404
    body = {"name": "osd_pool_default_size", "value": [{"section": "global", "value": "2"}]}
    assert dash.as_admin("POST", "/api/cluster_conf", body)[0] == 201
    status, _, opt = dash.as_admin("GET", "/api/cluster_conf/osd_pool_default_size")
    assert {"section": "global", "value": "2"} in opt["value"]
    status, _, _ = dash.as_admin("DELETE", "/api/cluster_conf/osd_pool_default_size?section=global")
    assert status == 204
    opt = dash.as_admin("GET", "/api/cluster_conf/osd_pool_default_size")[2]
    assert {"section": "global", "value": "2"} not in opt.get("value", [])
    status, _, conf = dash.as_admin("GET", "/api/cluster_conf")
    assert status == 200 and any(o["name"] == "fsid" and o.get("value") for o in conf)


def test_crush_rules(dash: Dashboard) -> None:
    body = {"name": "fast", "root": "default", "failure_domain": "osd"}
    assert dash.as_admin("POST", "/api/crush_rule", body)[0] == 201
    status, _, rule = dash.as_admin("GET", "/api/crush_rule/fast")
    assert status == 200 and rule["rule_name"] == "fast"
    assert dash.as_admin("DELETE", "/api/crush_rule/fast")[0] == 204
    assert dash.as_admin("GET", "/api/crush_rule/fast")[0] == 404


def test_cephx_users_listed_and_managed(dash: Dashboard) -> None:
    status, _, users = dash.as_admin("GET", "/api/user")
    assert status == 200 and {"client.admin", "mgr.x"} <= {u["entity"] for u in users}
    status, _, user = dash.as_admin("GET", "/api/user/client.admin")
    assert status == 200 and user["caps"]["mon"] == "allow *" and user["key"]
    assert dash.as_admin("GET", "/api/user/client.nobody")[0] == 404
    # the mgr's `profile mgr` may write auth entities (16.2.15 grants it auth rwx, as the
    # caps matrix recorded on the reference shows)
    body = {"user_entity": "client.dash1", "capabilities": [{"entity": "mon", "cap": "allow r"}]}
    status, _, user = dash.as_admin("POST", "/api/user", body)
    assert status == 201 and user["caps"] == {"mon": "allow r"}
    assert dash.as_admin("DELETE", "/api/user/client.dash1")[0] == 204
    assert dash.as_admin("POST", "/api/user", {"user_entity": "bogus"})[0] == 400


def test_logs_perf_counters_tasks(dash: Dashboard) -> None:
    status, _, logs = dash.as_admin("GET", "/api/logs/all")
    assert status == 200 and set(logs) == {"clog", "audit_log"}
    assert logs["audit_log"], "the audit log shows the commands run"
    status, _, perf = dash.as_admin("GET", "/api/perf_counters")
    assert status == 200 and "osd.0" in perf
    status, _, one = dash.as_admin("GET", "/api/perf_counters/osd/0")
    assert status == 200 and one["service"] == {"type": "osd", "id": "0"} and one["counters"]
    assert dash.as_admin("GET", "/api/perf_counters/osd/42")[0] == 404
    status, _, tasks = dash.as_admin("GET", "/api/task?name=rbd/*")
    assert status == 200 and tasks == {"executing_tasks": [], "finished_tasks": []}


def test_bad_input_is_refused_and_changes_nothing(dash: Dashboard) -> None:
    status, _, doc = dash.as_admin("GET", "/api/nonesuch")
    assert status == 404 and set(doc) >= {"detail", "code", "component"}
    status, hdrs, doc = dash.as_admin("DELETE", "/api/summary")
    assert status == 405 and "GET" in hdrs.get("allow", "")
    status, _, doc = dash.as_admin("POST", "/api/crush_rule", raw=b"{not json", headers={"Content-Type": "application/json"})  # fmt: skip
    assert status == 400 and doc["detail"] == "Malformed JSON"
    status, _, doc = dash.as_admin("POST", "/api/crush_rule", {"root": "default"})
    assert status == 400 and "name" in doc["detail"]
    big = {"name": "x" * (2 * 1024 * 1024)}
    assert dash.as_admin("POST", "/api/crush_rule", big)[0] == 413
    assert [r["rule_name"] for r in dash.as_admin("GET", "/api/crush_rule")[2]] == [
        "replicated_rule"
    ]
    # a reader may read, not write
    assert dash.request("GET", "/api/crush_rule", token=dash.tokens["reader"])[0] == 200
    status, _, doc = dash.request(
        "POST", "/api/crush_rule", {"name": "r"}, token=dash.tokens["reader"]
    )
    assert status == 403 and doc["detail"] == "You don't have permissions to access that resource"


def test_docs_and_static_ui_are_open(dash: Dashboard) -> None:
    status, _, doc = dash.request("GET", "/docs/api.json", accept=None)
    assert status == 200 and doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["jwt"]["scheme"] == "bearer"
    assert "/api/osd/{svc_id}/mark" in doc["paths"]
    assert doc["paths"]["/api/summary"]["get"]["security"] == [{"jwt": []}]
    assert "security" not in doc["paths"]["/api/auth"]["post"]
    status, hdrs, page = dash.request("GET", "/docs", accept=None)
    assert (
        status == 200 and hdrs["content-type"].startswith("text/html") and "/docs/api.json" in page
    )
    status, hdrs, page = dash.request("GET", "/", accept=None)
    assert status == 200 and hdrs["content-type"].startswith("text/html")
    assert hdrs["cache-control"] == "no-cache"
    assert dash.request("GET", "/../../etc/passwd", accept=None)[0] == 404


def test_after_mgr_restart_users_tokens_and_cephx_writes(dash: Dashboard) -> None:
    """Users, the JWT secret and the certificate live in the KV store: a restarted mgr
    serves the same tokens, and manages cephx users with its `profile mgr` caps."""
    dash.cluster.stop(["mgr.x"])
    dash.cluster.start(["mgr.x"])

    def serving() -> bool:
        try:
            return dash.as_admin("GET", "/api/summary")[0] == 200
        except OSError:
            return False

    wait_until(serving, "the restarted dashboard accepting the old token", WAIT)
    body = {"user_entity": "client.dash", "capabilities": [{"entity": "mon", "cap": "allow r"}]}
    status, _, user = dash.as_admin("POST", "/api/user", body)
    assert status == 201 and user["caps"] == {"mon": "allow r"} and user["key"]
    assert dash.as_admin("POST", "/api/user", body)[0] == 400
    caps_body = {"capabilities": [{"entity": "mon", "cap": "allow rw"}, {"entity": "osd", "cap": "allow *"}]}  # fmt: skip
    status, _, user = dash.as_admin("PUT", "/api/user/client.dash", caps_body)
    assert status == 200 and user["caps"] == {"mon": "allow rw", "osd": "allow *"}
    assert dash.as_admin("DELETE", "/api/user/client.dash")[0] == 204
    assert dash.as_admin("GET", "/api/user/client.dash")[0] == 404


def _plain(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes] | None:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    except OSError:
        return None
    finally:
        conn.close()


def test_plain_http_standby_redirect_and_takeover(cluster_factory: Any) -> None:
    """`ssl` false: plain HTTP on `server_port`. Two mgrs, each on its own (localized)
    port: the standby redirects to the active one; after `mgr fail` the other serves
    the API (same users: the KV store) and `ceph mgr services` names it."""
    cluster = cluster_factory(1)
    cluster.add_mgrs(1)
    ports = {"x": free_port(), "y": free_port()}
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect()
    try:
        settings = [("ssl", "false"), ("server_addr", "127.0.0.1")]
        for name, value in settings:
            assert cmd(r, prefix="config set", who="mgr", name=f"mgr/dashboard/{name}", value=value)[0] == 0  # fmt: skip
        for mgr, port in ports.items():
            assert cmd(r, prefix="config set", who="mgr", name=f"mgr/dashboard/{mgr}/server_port", value=str(port))[0] == 0  # fmt: skip

        def roles() -> bool:
            mm = json.loads(cmd(r, prefix="mgr dump", format="json")[1])
            return mm.get("active_name") == "x" and [s["name"] for s in mm.get("standbys", [])] == ["y"]  # fmt: skip

        wait_until(roles, "mgr.x active, mgr.y standby", WAIT)
        wait_until(lambda: cmd(r, prefix="mgr module enable", module="dashboard")[0] == 0, "enable", WAIT)  # fmt: skip
        wait_until(lambda: mgr_cmd(r, ADMIN[1], prefix="dashboard ac-user-create", username=ADMIN[0], rolename="administrator")[0] == 0, "user", WAIT)  # fmt: skip
        active = f"http://127.0.0.1:{ports['x']}/"
        wait_until(lambda: json.loads(cmd(r, prefix="mgr services", format="json")[1]).get("dashboard") == active, "the URI", WAIT)  # fmt: skip
        got = wait_until(lambda: _plain(ports["x"], "/api/summary", {"Accept": V1}), "plain http", WAIT)  # fmt: skip
        assert got[0] == 401
        redirect = wait_until(lambda: _plain(ports["y"], "/api/summary?x=1"), "the standby", WAIT)
        assert redirect[0] == 303 and redirect[1]["location"] == f"{active}api/summary?x=1"

        assert cmd(r, prefix="mgr fail", who="x")[0] == 0
        now = f"http://127.0.0.1:{ports['y']}/"
        wait_until(lambda: json.loads(cmd(r, prefix="mgr services", format="json")[1]).get("dashboard") == now, "the new URI", WAIT)  # fmt: skip

        def login() -> Any:
            conn = http.client.HTTPConnection("127.0.0.1", ports["y"], timeout=HTTP_TIMEOUT)
            try:
                body = json.dumps({"username": ADMIN[0], "password": ADMIN[1]})
                conn.request("POST", "/api/auth", body=body, headers={"Accept": V1, "Content-Type": "application/json"})  # fmt: skip
                resp = conn.getresponse()
                text = resp.read()
                return resp.status == 201 and json.loads(text)["token"]
            except OSError:
                return None
            finally:
                conn.close()

        token = wait_until(login, "mgr.y serving the API", WAIT)
        got = _plain(ports["y"], "/api/summary", {"Accept": V1, "Authorization": f"Bearer {token}"})
        assert got is not None and got[0] == 200 and json.loads(got[2])["mgr_id"] == "y"
    finally:
        r.shutdown()


def test_access_control_commands(dash: Dashboard) -> None:
    r = dash.rados
    ret, out, _ = mgr_cmd(r, prefix="dashboard ac-user-show")
    assert ret == 0 and {"admin", "reader"} <= set(json.loads(out))
    ret, out, _ = mgr_cmd(r, prefix="dashboard ac-user-show", username="reader")
    user = json.loads(out)
    assert user["roles"] == ["read-only"] and user["password"].startswith("$scrypt$")
    assert mgr_cmd(r, prefix="dashboard ac-user-show", username="ghost")[:3:2] == (-2, "User 'ghost' does not exist")  # fmt: skip
    assert mgr_cmd(r, READER[1], prefix="dashboard ac-user-create", username="reader")[0] == -17
    assert mgr_cmd(r, "Weak", prefix="dashboard ac-user-create", username="weakling")[2] == "Password is too weak."  # fmt: skip
    assert mgr_cmd(r, "Str0ng-Passw0rd!q", prefix="dashboard ac-user-create", username="x1", rolename="nope")[0] == -2  # fmt: skip
    ret, _, err = mgr_cmd(r, prefix="dashboard ac-user-create", username="nofile")
    assert ret == -22 and "-i" in err
    # a new password: the old one and the old tokens stop working
    temp = ("tmpuser", "Temp-Passw0rd!q")
    assert mgr_cmd(r, temp[1], prefix="dashboard ac-user-create", username=temp[0], rolename="read-only")[0] == 0  # fmt: skip
    old = dash.login(temp)
    ret, out, _ = mgr_cmd(r, "Newer-Passw0rd!z", prefix="dashboard ac-user-set-password", username="tmpuser")  # fmt: skip
    assert ret == 0
    assert dash.request("POST", "/api/auth", {"username": "tmpuser", "password": temp[1]})[0] == 400
    assert dash.request("GET", "/api/summary", token=old)[0] == 401
    dash.login(("tmpuser", "Newer-Passw0rd!z"))
    assert mgr_cmd(r, prefix="dashboard ac-user-delete", username="tmpuser")[:2] == (0, "User 'tmpuser' deleted")  # fmt: skip
    assert dash.request("POST", "/api/auth", {"username": "tmpuser", "password": "Newer-Passw0rd!z"})[0] == 400  # fmt: skip
    ret, out, _ = mgr_cmd(r, prefix="dashboard ac-role-show")
    assert {"administrator", "read-only", "block-manager", "pool-manager", "cluster-manager"} <= set(json.loads(out))  # fmt: skip
    ret, out, _ = mgr_cmd(r, prefix="dashboard ac-role-show", rolename="pool-manager")
    assert json.loads(out)["scopes_permissions"]["pool"] == ["read", "create", "update", "delete"]
    assert mgr_cmd(r, prefix="dashboard get-jwt-token-ttl")[1] == "28800"


def test_given_certificate_replaces_the_served_one(dash: Dashboard) -> None:
    from pyceph.mgr.builtin.dashboard.tls import make_self_signed

    r = dash.rados
    assert mgr_cmd(r, "not a certificate", prefix="dashboard set-ssl-certificate")[0] == -22
    assert mgr_cmd(r, "not a key", prefix="dashboard set-ssl-certificate-key")[0] == -22
    cert, key = make_self_signed()
    assert mgr_cmd(r, cert, prefix="dashboard set-ssl-certificate")[:2] == (0, "SSL certificate updated")  # fmt: skip
    assert mgr_cmd(r, key, prefix="dashboard set-ssl-certificate-key")[:2] == (0, "SSL certificate key updated")  # fmt: skip
    new = Dashboard(dash.port, ssl.create_default_context(cadata=cert), r, tokens=dash.tokens)

    def serves_new() -> bool:
        try:
            return new.request("GET", "/docs/api.json")[0] == 200
        except (OSError, ssl.SSLError):
            return False

    wait_until(serves_new, "the dashboard serving the given certificate", WAIT)
    dash.context = new.context
    assert dash.as_admin("GET", "/api/summary")[0] == 200


def test_changed_port_moves_the_server(dash: Dashboard) -> None:
    r = dash.rados
    port = free_port()
    assert cmd(r, prefix="config set", who="mgr", name="mgr/dashboard/ssl_server_port", value=str(port))[0] == 0  # fmt: skip
    moved = Dashboard(port, dash.context, r, tokens=dash.tokens)

    def serving() -> bool:
        try:
            return moved.as_admin("GET", "/api/summary")[0] == 200
        except OSError:
            return False

    wait_until(serving, "the dashboard on its new port", WAIT)
    url = f"https://127.0.0.1:{port}/"
    wait_until(lambda: json.loads(cmd(r, prefix="mgr services", format="json")[1]).get("dashboard") == url, "the new URI", WAIT)  # fmt: skip
    dash.port = port


def test_pyceph_up_enables_the_dashboard(tmp_path: Any, capsys: Any) -> None:
    """`pyceph up` prints the dashboard's URL and an administrator's credentials (the
    password kept 0600 in the cluster's directory); a second `up` keeps them."""
    from pyceph.cli import pyceph_main

    path = str(tmp_path / "c")
    try:
        assert pyceph_main.main(["up", path]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[-1] == os.path.join(path, "ceph.conf")
        (line,) = [x for x in lines if x.startswith("dashboard: ")]
        url, user, password = line.split()[1], line.split()[3], line.split()[5]
        assert url.startswith("https://127.0.0.1:") and user == "admin"
        pw_file = os.path.join(path, "dashboard.password")
        assert os.stat(pw_file).st_mode & 0o777 == 0o600
        with open(pw_file) as f:
            assert f.read().strip() == password
        r = rados.Rados(conffile=os.path.join(path, "ceph.conf"))
        r.connect()
        try:
            # published by the time `up` returns
            assert json.loads(cmd(r, prefix="mgr services", format="json")[1]) == {"dashboard": url}
            cert = cmd(r, prefix="config-key get", key="mgr/dashboard/crt")[1]
            port = int(url.rsplit(":", 1)[1].rstrip("/"))
            dash = Dashboard(port, ssl.create_default_context(cadata=cert), r)
            token = dash.login((user, password))
            assert dash.request("GET", "/api/summary", token=token)[0] == 200
            assert pyceph_main.main(["up", path]) == 0
            again = [x for x in capsys.readouterr().out.splitlines() if x.startswith("dashboard: ")]
            assert again == [line]
            assert dash.request("GET", "/api/summary", token=token)[0] == 200
        finally:
            r.shutdown()
    finally:
        pyceph_main.main(["down", path])
