"""``/api/pool`` and ``/api/erasure_code_profile`` of the dashboard module on a real cluster.

Daemons as processes, the module enabled over HTTPS (the set-up of
`test_dashboard_api`); every check is an HTTP request as a client makes it: keys of
the real Ceph 16.2.15 answer (`tests/unit/data/dashboard-api-pool.json`), tasks'
status codes, upstream's error bodies, a read-only user refused with 403, and
pool deletion refused until ``mon_allow_pool_delete`` is true.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import FAST_OPTIONS
from tests.dashboard_client import Dashboard, cmd, serving

from pyceph.cli.localcluster import LocalCluster

SAMPLE = json.loads(
    (Path(__file__).parents[1] / "unit" / "data" / "dashboard-api-pool.json").read_text()
)


def _cluster_with_default_pool_delete(path: str) -> LocalCluster:
    """A cluster whose ceph.conf leaves ``mon_allow_pool_delete`` at upstream's default
    (false), so that ``ceph config set mon`` can change it (a file setting would win)."""
    cluster = LocalCluster(path)
    cluster.create(num_osds=3, overrides=dict(FAST_OPTIONS))
    with open(cluster.conf_path) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith("mon_allow_pool_delete")]
    with open(cluster.conf_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        cluster.start()
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="module")
def dash() -> Iterator[Dashboard]:
    with tempfile.TemporaryDirectory(prefix="pyceph-dashpool-") as tmp:
        cluster = _cluster_with_default_pool_delete(os.path.join(tmp, "c"))
        with serving(cluster) as d:
            yield d


def _name() -> str:
    return f"dp-{uuid.uuid4().hex[:8]}"


def _allow_delete(dash: Dashboard, allow: bool) -> None:
    value = "true" if allow else "false"
    ret, _, err = cmd(
        dash.rados, prefix="config set", who="mon", name="mon_allow_pool_delete", value=value
    )
    assert ret == 0, err


def test_pool_life_cycle(dash: Dashboard) -> None:
    name = _name()
    body = {"pool": name, "pg_num": 8, "pool_type": "replicated", "size": 2}
    body["application_metadata"] = ["rbd"]
    status, _, doc = dash.as_admin("POST", "/api/pool", body)
    assert status == 201, doc
    status, hdrs, pools = dash.as_admin("GET", "/api/pool")
    assert status == 200 and hdrs["content-type"].startswith("application/vnd.ceph.api.v1.0+json")
    (mine,) = [p for p in pools if p["pool_name"] == name]
    assert set(mine) == set(SAMPLE[0])
    assert (mine["size"], mine["type"], mine["application_metadata"]) == (2, "replicated", ["rbd"])

    status, _, got = dash.as_admin("GET", f"/api/pool/{name}?stats=true")
    assert status == 200 and "stats" in got and "configuration" in got, got
    status, _, few = dash.as_admin("GET", "/api/pool?attrs=pool_name,pg_num")
    assert status == 200 and all(set(p) == {"pool_name", "pg_num"} for p in few)

    edit = {
        "size": 3,
        "pg_num": 16,
        "quota_max_objects": 100,
        "configuration": {"rbd_qos_bps_limit": 1000},
    }
    status, _, doc = dash.as_admin("PUT", f"/api/pool/{name}", edit)
    assert status == 200, doc
    got = dash.as_admin("GET", f"/api/pool/{name}")[2]
    assert (got["size"], got["pg_num"], got["quota_max_objects"]) == (3, 16, 100)
    status, _, conf = dash.as_admin("GET", f"/api/pool/{name}/configuration")
    assert {"name": "rbd_qos_bps_limit", "value": "1000", "source": 1} in conf

    renamed = _name()
    assert dash.as_admin("PUT", f"/api/pool/{name}", {"pool": renamed})[0] == 200
    assert dash.as_admin("GET", f"/api/pool/{name}")[0] == 404
    assert dash.as_admin("GET", f"/api/pool/{renamed}")[0] == 200

    # deletion honours mon_allow_pool_delete, as upstream
    status, _, doc = dash.as_admin("DELETE", f"/api/pool/{renamed}")
    assert status == 400 and doc["code"] == "1" and doc["component"] == "pool"
    assert "mon_allow_pool_delete" in doc["detail"]
    assert doc["task"] == {"name": "pool/delete", "metadata": {"pool_name": renamed}}
    _allow_delete(dash, True)
    try:
        assert dash.as_admin("DELETE", f"/api/pool/{renamed}")[0] == 204
    finally:
        _allow_delete(dash, False)
    assert dash.as_admin("GET", f"/api/pool/{renamed}")[0] == 404


def test_bad_input_is_refused_and_changes_nothing(dash: Dashboard) -> None:
    name = _name()
    assert dash.as_admin("POST", "/api/pool", {"pool": name, "pg_num": 8})[0] == 201
    before = dash.as_admin("GET", f"/api/pool/{name}")[2]
    status, _, doc = dash.as_admin("PUT", f"/api/pool/{name}", {"size": 2, "bogus": 1})
    assert status == 400 and doc["code"] == "22"
    status, _, doc = dash.as_admin("POST", "/api/pool", {"pool": name, "pg_num": 8, "size": 1})
    assert status == 400 and doc["code"] == "17"
    status, _, doc = dash.as_admin("POST", "/api/pool", {"pool": _name(), "pg_num": "many"})
    assert status == 400 and doc["code"] == "invalid_input"
    status, _, doc = dash.as_admin("PUT", f"/api/pool/{name}", {"size": {"x": 1}})
    assert status == 400
    assert dash.as_admin("GET", f"/api/pool/{name}")[2] == before
    assert dash.as_admin("GET", "/api/pool/no-such-pool")[0] == 404
    assert dash.as_admin("DELETE", "/api/pool/no-such-pool")[0] == 404


def test_read_only_user_is_refused_writes(dash: Dashboard) -> None:
    reader = dash.tokens["reader"]
    assert dash.request("GET", "/api/pool", token=reader)[0] == 200
    name = _name()
    status, _, doc = dash.request("POST", "/api/pool", {"pool": name, "pg_num": 8}, token=reader)
    assert status == 403
    assert name not in dash.rados.list_pools()
    assert (
        dash.request(
            "POST", "/api/erasure_code_profile", {"name": "x", "k": 2, "m": 1}, token=reader
        )[0]
        == 403
    )


def test_erasure_code_profiles_and_info(dash: Dashboard) -> None:
    profile = _name()
    body = {"name": profile, "k": 2, "m": 1, "crush-failure-domain": "osd"}
    assert dash.as_admin("POST", "/api/erasure_code_profile", body)[0] == 201
    status, _, got = dash.as_admin("GET", f"/api/erasure_code_profile/{profile}")
    assert status == 200 and (got["k"], got["m"], got["crush-failure-domain"]) == (2, 1, "osd")
    assert profile in [p["name"] for p in dash.as_admin("GET", "/api/erasure_code_profile")[2]]
    status, _, info = dash.as_admin("GET", "/api/pool/_info")
    assert status == 200 and profile in [p["name"] for p in info["erasure_code_profiles"]]
    assert info["osd_count"] == 3
    assert dash.as_admin("DELETE", f"/api/erasure_code_profile/{profile}")[0] == 204
    assert dash.as_admin("GET", f"/api/erasure_code_profile/{profile}")[0] == 404
