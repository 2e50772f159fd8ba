"""The dashboard's pool and erasure-code-profile services against an embedded cluster.

Keys and shapes are checked against a real Ceph 16.2.15 answer
(`data/dashboard-api-pool.json`, from ``GET /api/pool``); bad input is refused with
the monitor's errno and leaves the pool as it was.
"""

from __future__ import annotations

import errno
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import rados
from pyceph.mgr.builtin.dashboard.services import pool as svc

SAMPLE = json.loads((Path(__file__).parent / "data" / "dashboard-api-pool.json").read_text())


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


def _name() -> str:
    return f"dp-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pool(cluster: rados.Rados) -> Iterator[str]:
    name = _name()
    svc.pool_create(cluster, name, 8, "replicated", application_metadata=["rbd"])
    yield name
    if name in cluster.list_pools():
        svc.pool_delete(cluster, name)


def test_serialize_pool_is_pure() -> None:
    raw = {
        "pool": 1,
        "pool_name": "a",
        "type": 3,
        "crush_rule": 1,
        "application_metadata": {"rbd": {}},
    }
    assert svc.serialize_pool(raw, None, {1: "ec"}) == {
        "pool": 1,
        "pool_name": "a",
        "type": "erasure",
        "crush_rule": "ec",
        "application_metadata": ["rbd"],
    }
    assert svc.serialize_pool(raw, ["type", "nope"], {}) == {"type": "erasure", "pool_name": "a"}


def test_list_has_the_reference_keys(cluster: rados.Rados, pool: str) -> None:
    (mine,) = [p for p in svc.pool_list(cluster) if p["pool_name"] == pool]
    assert set(mine) == set(SAMPLE[0])
    assert mine["type"] == "replicated"
    assert mine["crush_rule"] == "replicated_rule"
    assert mine["application_metadata"] == ["rbd"]
    assert mine["pg_num"] == 8


def test_list_attrs_and_stats(cluster: rados.Rados, pool: str) -> None:
    pools = svc.pool_list(cluster, attrs="pool_name,size", stats=True)
    (mine,) = [p for p in pools if p["pool_name"] == pool]
    assert set(mine) == {"pool_name", "size"}
    full = svc.pool_get(cluster, pool, stats=True)
    assert full["stats"]["bytes_used"] == {"latest": 0, "rate": 0.0, "rates": []}
    assert sum(full["pg_status"].values()) == 8
    assert {"name": "rbd_cache", "value": "true", "source": 0} in full["configuration"]


def test_get_unknown_pool(cluster: rados.Rados) -> None:
    with pytest.raises(svc.NoSuchObject, match="No such pool"):
        svc.pool_get(cluster, "no-such-pool")


def test_edit_size_quota_app_rename_configuration(cluster: rados.Rados, pool: str) -> None:
    svc.pool_set(
        cluster,
        pool,
        application_metadata=["rbd", "rgw"],
        configuration={"rbd_qos_iops_limit": 100},
        size=2,
        pg_num=16,
        quota_max_bytes=1 << 20,
        quota_max_objects=10,
    )
    got = svc.pool_get(cluster, pool)
    assert (got["size"], got["pg_num"], got["pg_placement_num"]) == (2, 16, 16)
    assert (got["quota_max_bytes"], got["quota_max_objects"]) == (1 << 20, 10)
    assert sorted(got["application_metadata"]) == ["rbd", "rgw"]
    assert {"name": "rbd_qos_iops_limit", "value": "100", "source": 1} in got["configuration"]
    new = _name()
    svc.pool_set(cluster, pool, application_metadata=["rbd"], pool=new)
    assert new in cluster.list_pools() and pool not in cluster.list_pools()
    assert svc.pool_get(cluster, new)["application_metadata"] == ["rbd"]
    svc.pool_delete(cluster, new)


def test_bad_input_changes_nothing(cluster: rados.Rados, pool: str) -> None:
    before = svc.pool_get(cluster, pool)
    with pytest.raises(svc.SendCommandError) as e:
        svc.pool_set(cluster, pool, size=2, bogus=1)
    assert e.value.errno == -errno.EINVAL
    with pytest.raises(svc.SendCommandError):
        svc.pool_set(cluster, pool, size=2, configuration={"rbd_no_such_option": 1})
    assert svc.pool_get(cluster, pool) == before
    name = _name()
    with pytest.raises(svc.SendCommandError):
        svc.pool_create(cluster, name, 8, bogus=1)
    assert name not in cluster.list_pools()
    with pytest.raises(svc.SendCommandError) as e:
        svc.pool_create(cluster, pool, 8, size=1)  # exists already
    assert e.value.errno == -errno.EEXIST
    assert svc.pool_get(cluster, pool) == before
    with pytest.raises(svc.NoSuchObject):
        svc.pool_delete(cluster, "no-such-pool")


def test_delete(cluster: rados.Rados, pool: str) -> None:
    svc.pool_delete(cluster, pool)
    assert pool not in cluster.list_pools()
    with pytest.raises(svc.NoSuchObject):
        svc.pool_get(cluster, pool)


def test_erasure_code_profiles_and_ec_pool(cluster: rados.Rados) -> None:
    name = _name()
    svc.ec_profile_create(cluster, name, **{"k": 2, "m": 1, "crush-failure-domain": "osd"})
    got = svc.ec_profile_get(cluster, name)
    assert (got["k"], got["m"], got["name"]) == (2, 1, name)
    assert got["crush-failure-domain"] == "osd"
    assert name in [p["name"] for p in svc.ec_profile_list(cluster)]
    pool = _name()
    svc.pool_create(cluster, pool, 8, "erasure", erasure_code_profile=name, flags=["ec_overwrites"])
    created = svc.pool_get(cluster, pool)
    assert (created["type"], created["erasure_code_profile"]) == ("erasure", name)
    assert "ec_overwrites" in created["flags_names"]
    svc.pool_delete(cluster, pool)
    svc.ec_profile_delete(cluster, name)
    with pytest.raises(svc.NoSuchObject):
        svc.ec_profile_get(cluster, name)


def test_info_for_the_create_form(cluster: rados.Rados, pool: str) -> None:
    info = svc.pool_info(cluster)
    assert pool in info["pool_names"]
    assert [r["rule_name"] for r in info["crush_rules_replicated"]] == ["replicated_rule"]
    assert info["osd_count"] == 3
    assert info["compression_modes"] == ["none", "passive", "aggressive", "force"]
    assert info["pg_autoscale_modes"] == ["off", "warn", "on"]
    assert pool in info["used_rules"]["replicated_rule"]
    assert "default" in [p["name"] for p in info["erasure_code_profiles"]]
    assert any(n["type"] == "osd" for n in info["nodes"])


def test_a_pool_that_cannot_answer_has_no_configuration(cluster: rados.Rados) -> None:
    # the default profile (k=2, m=2, one chunk per host) cannot place a PG on this
    # one-host, three-OSD cluster: its PGs never go active, and nothing waits for them
    pool = _name()
    svc.pool_create(cluster, pool, 8, "erasure")
    try:
        assert svc.pool_configuration(cluster, pool) == []
        assert svc.pool_get(cluster, pool)["configuration"] == []
    finally:
        svc.pool_delete(cluster, pool)
