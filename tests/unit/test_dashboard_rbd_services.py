"""The dashboard's RBD services (images, snapshots, clones, trash) on an embedded cluster.

Image keys are checked against a real Ceph 16.2.15 answer
(`data/dashboard-api-block-image-samples_rbd.json`, ``GET /api/block/image``).
"""

from __future__ import annotations

import datetime
import errno
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import rados
import rbd
from pyceph.mgr.builtin.dashboard.services import pool as pool_svc
from pyceph.mgr.builtin.dashboard.services import rbd as svc

SAMPLE = json.loads(
    (Path(__file__).parent / "data" / "dashboard-api-block-image-samples_rbd.json").read_text()
)
MiB = 1 << 20


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


@pytest.fixture
def pool(cluster: rados.Rados) -> Iterator[str]:
    name = f"dr-{uuid.uuid4().hex[:8]}"
    pool_svc.pool_create(cluster, name, 8, application_metadata=["rbd"])
    yield name
    pool_svc.pool_delete(cluster, name)


def test_pure_helpers() -> None:
    assert svc.format_bitmask(45) == ["deep-flatten", "exclusive-lock", "layering", "object-map"]
    assert svc.format_features(["deep-flatten", "exclusive-lock", "layering", "object-map"]) == 45
    assert svc.format_features("deep-flatten,exclusive-lock") == 36
    assert svc.format_features(None) is None
    assert svc.parse_image_spec("p/img") == ("p", None, "img")
    assert svc.parse_image_spec("p/ns/img") == ("p", "ns", "img")
    assert svc.get_image_spec("p", "ns", "img") == "p/ns/img"
    assert svc.get_image_spec("p", None, "img") == "p/img"
    with pytest.raises(ValueError):
        svc.parse_image_spec("img")
    assert svc.order_of(4 * MiB) == 22 and svc.order_of(None) is None
    assert svc.sort_features(["fast-diff", "layering", "exclusive-lock", "object-map"]) == [
        "exclusive-lock",
        "object-map",
        "fast-diff",
        "layering",
    ]
    assert svc.sort_features(["exclusive-lock", "fast-diff"], enable=False) == [
        "fast-diff",
        "exclusive-lock",
    ]


def test_image_life_cycle(cluster: rados.Rados, pool: str) -> None:
    svc.image_create(
        cluster,
        "img",
        pool,
        8 * MiB,
        obj_size=4 * MiB,
        features=["layering", "exclusive-lock", "object-map", "fast-diff", "deep-flatten"],
        configuration={"rbd_qos_iops_limit": 50},
    )
    groups, total = svc.image_list(cluster, pool)
    assert total == 1 and [g["pool_name"] for g in groups] == [pool]
    (img,) = groups[0]["value"]
    sample = SAMPLE[0]["value"][1]
    assert set(img) == set(sample)
    assert set(groups[0]) == set(SAMPLE[0])
    assert (img["size"], img["order"], img["features"], img["parent"]) == (8 * MiB, 22, 61, None)
    assert img["data_pool"] is None and img["timestamp"].endswith("Z")
    assert img["unique_id"] == f"{pool}/{img['id']}"
    assert {"name": "rbd_qos_iops_limit", "value": "50", "source": 2} in img["configuration"]
    spec = f"{pool}/img"
    with cluster.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "img") as image:
        image.write(b"x" * 4096, 0)
    used = svc.image_get(cluster, spec)
    assert (used["disk_usage"], used["total_disk_usage"]) == (4 * MiB, 4 * MiB)
    quick = svc.image_get(cluster, spec, omit_usage=True)
    assert (quick["disk_usage"], quick["total_disk_usage"]) == (None, None)
    svc.image_edit(cluster, spec, size=16 * MiB, features=["layering", "exclusive-lock"])
    got = svc.image_get(cluster, spec)
    assert got["size"] == 16 * MiB
    assert got["features_name"] == ["exclusive-lock", "layering"]
    svc.image_edit(
        cluster, spec, features=["layering", "exclusive-lock", "object-map", "fast-diff"]
    )
    assert svc.image_get(cluster, spec)["features_name"] == [
        "exclusive-lock",
        "fast-diff",
        "layering",
        "object-map",
    ]
    svc.image_edit(cluster, spec, name="renamed")
    with pytest.raises(pool_svc.NoSuchObject, match="Image not found"):
        svc.image_get(cluster, spec)
    assert svc.image_get(cluster, f"{pool}/renamed")["size"] == 16 * MiB
    svc.image_delete(cluster, f"{pool}/renamed")
    assert svc.image_list(cluster, pool) == ([], 0)


def test_snapshots_clone_flatten_copy(cluster: rados.Rados, pool: str) -> None:
    svc.image_create(cluster, "parent", pool, 4 * MiB)
    spec = f"{pool}/parent"
    with cluster.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "parent") as image:
        image.write(b"a" * 4096, 0)
    svc.snap_create(cluster, spec, "s1")
    svc.snap_edit(cluster, spec, "s1", new_snap_name="s2", is_protected=True)
    svc.image_clone(cluster, spec, "s2", pool, "child")
    parent = svc.image_get(cluster, spec)
    (snap,) = parent["snapshots"]
    assert set(snap) == set(SAMPLE[0]["value"][1]["snapshots"][0])
    assert (snap["name"], snap["is_protected"]) == ("s2", True)
    assert snap["children"] == [{"pool_name": pool, "image_name": "child"}]
    child = svc.image_get(cluster, f"{pool}/child")
    assert child["parent"] == {
        "pool_name": pool,
        "pool_namespace": "",
        "image_name": "parent",
        "snap_name": "s2",
    }
    with pytest.raises(rbd.ImageBusy):  # protected with a child: nothing changes
        svc.snap_edit(cluster, spec, "s2", is_protected=False)
    svc.image_flatten(cluster, f"{pool}/child")
    assert svc.image_get(cluster, f"{pool}/child")["parent"] is None
    with cluster.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "parent") as image:
        image.write(b"b" * 4096, 0)
    svc.snap_rollback(cluster, spec, "s2")
    with cluster.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "parent") as image:
        assert image.read(0, 4) == b"aaaa"
    svc.image_copy(cluster, spec, pool, None, "copy", snapshot_name="s2")
    with cluster.open_ioctx(pool) as ioctx, rbd.Image(ioctx, "copy") as image:
        assert image.read(0, 4) == b"aaaa"
    with pytest.raises(rbd.ImageExists):
        svc.image_copy(cluster, spec, pool, None, "copy")
    svc.image_delete(cluster, spec)  # unprotects and removes its snapshot
    for name in ("child", "copy"):
        svc.image_delete(cluster, f"{pool}/{name}")


def test_trash_restore_remove_purge(cluster: rados.Rados, pool: str) -> None:
    for name in ("t1", "t2", "t3"):
        svc.image_create(cluster, name, pool, MiB)
    svc.image_move_trash(cluster, f"{pool}/t1")
    svc.image_move_trash(cluster, f"{pool}/t2")
    svc.image_move_trash(cluster, f"{pool}/t3", delay=3600)
    (listed,) = svc.trash_list(cluster, pool)
    assert (listed["status"], listed["pool_name"]) == (0, pool)
    by_name = {e["name"]: e for e in listed["value"]}
    assert sorted(by_name) == ["t1", "t2", "t3"]
    assert by_name["t1"]["deletion_time"].endswith("Z")
    svc.trash_restore(cluster, f"{pool}/{by_name['t1']['id']}", "back")
    assert svc.image_get(cluster, f"{pool}/back")["name"] == "back"
    with pytest.raises(rbd.PermissionError):  # deferred: only with force
        svc.trash_remove(cluster, f"{pool}/{by_name['t3']['id']}")
    later = datetime.datetime.utcnow() + datetime.timedelta(seconds=1)
    svc.trash_purge(cluster, pool, now=lambda: later)
    assert [e["name"] for e in svc.trash_list(cluster, pool)[0]["value"]] == ["t3"]
    svc.trash_remove(cluster, f"{pool}/{by_name['t3']['id']}", force=True)
    assert svc.trash_list(cluster, pool)[0]["value"] == []
    svc.image_delete(cluster, f"{pool}/back")


def test_list_pages_and_defaults(cluster: rados.Rados, pool: str) -> None:
    for name in ("b", "a", "c"):
        svc.image_create(cluster, name, pool, MiB)
    groups, total = svc.image_list(cluster, pool, offset=1, limit=1)
    assert total == 3 and [i["name"] for i in groups[0]["value"]] == ["b"]
    groups, _ = svc.image_list(cluster, pool, limit=-1, sort="-name")
    assert [i["name"] for i in groups[0]["value"]] == ["c", "b", "a"]
    groups, total = svc.image_list(cluster, None, limit=-1, search="a")
    assert pool in [g["pool_name"] for g in groups]
    with pytest.raises(ValueError):
        svc.image_list(cluster, pool, limit=-2)
    assert svc.default_features(cluster) == [
        "deep-flatten",
        "exclusive-lock",
        "fast-diff",
        "layering",
        "object-map",
    ]
    assert svc.clone_format_version(cluster) in (1, 2)
    for name in ("a", "b", "c"):
        svc.image_delete(cluster, f"{pool}/{name}")


def test_erasure_coded_pool_is_refused(cluster: rados.Rados, pool: str) -> None:
    name = f"de-{uuid.uuid4().hex[:8]}"
    pool_svc.pool_create(cluster, name, 8, "erasure", application_metadata=["rbd"])
    try:
        with pytest.raises(rbd.OperationNotSupported) as e:
            svc.image_create(cluster, "img", name, MiB)
        assert e.value.errno == errno.EOPNOTSUPP
        assert svc.image_list(cluster, name) == ([], 0)
        assert svc.trash_list(cluster, name) == [{"status": 0, "value": [], "pool_name": name}]
        assert name not in svc.rbd_pools(cluster) and pool in svc.rbd_pools(cluster)
    finally:
        pool_svc.pool_delete(cluster, name)


def test_bad_input_changes_nothing(cluster: rados.Rados, pool: str) -> None:
    with pytest.raises(pool_svc.SendCommandError):
        svc.image_create(cluster, "x", pool, MiB, configuration={"rbd_no_such": 1})
    assert svc.image_list(cluster, pool) == ([], 0)
    svc.image_create(cluster, "a", pool, MiB)
    svc.image_create(cluster, "b", pool, MiB)
    with pytest.raises(rbd.ImageExists):
        svc.image_edit(cluster, f"{pool}/a", name="b", size=2 * MiB)
    assert svc.image_get(cluster, f"{pool}/a")["size"] == MiB
    svc.snap_create(cluster, f"{pool}/a", "s")
    svc.snap_edit(cluster, f"{pool}/a", "s", is_protected=True)
    svc.snap_create(cluster, f"{pool}/a", "t")
    svc.image_clone(cluster, f"{pool}/a", "s", pool, "c")
    with pytest.raises(rbd.ImageBusy):  # a parent of a clone
        svc.image_delete(cluster, f"{pool}/a")
    assert [s["name"] for s in svc.image_get(cluster, f"{pool}/a")["snapshots"]] == ["s", "t"]
    with pytest.raises(rbd.ImageBusy):
        svc.snap_delete(cluster, f"{pool}/a", "s")
    for name in ("c", "a", "b"):
        svc.image_delete(cluster, f"{pool}/{name}")
