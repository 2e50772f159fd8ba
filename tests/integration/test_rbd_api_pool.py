"""Pool-level `rbd` API against an embedded cluster: trash, namespaces, groups, pool
config listing, migration and mirroring metadata — upstream's `TestTrash`, `TestGroups`,
namespace and mirroring tests restated through the public API.  Each group runs once
the engine provides it (skipped by name before that).
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

import rados
import rbd

IMG_SIZE = 8 << 20
#: image features, as upstream's test_rbd.py takes them: RBD_FEATURES=61 runs the suite
#: with exclusive-lock, object-map, fast-diff and deep-flatten (default: layering only)
FEATURES = int(os.environ.get("RBD_FEATURES", rbd.RBD_FEATURE_LAYERING))


def _engine_has(module: str, attr: str | None = None) -> bool:
    if importlib.util.find_spec(f"pyceph.rbdlib.{module}") is None:
        return False
    if attr is None:
        return True
    mod = importlib.import_module(f"pyceph.rbdlib.{module}")
    obj: object = mod
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


@pytest.fixture
def ioctx(cluster: rados.Rados) -> Iterator[rados.Ioctx]:
    pool = f"rbd-pool-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(pool)
    with cluster.open_ioctx(pool) as io:
        rbd.RBD().pool_init(io, True)
        yield io
    cluster.delete_pool(pool)  # the in-process cluster has a bound on PGs per OSD


def _image(ioctx: rados.Ioctx) -> tuple[str, str]:
    n = f"img-{uuid.uuid4().hex[:8]}"
    rbd.RBD().create(ioctx, n, IMG_SIZE, features=FEATURES)
    with rbd.Image(ioctx, n) as im:
        return n, im.id()


# -- trash --------------------------------------------------------------------------------


def test_trash_move_get_list_restore(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    name, image_id = _image(ioctx)
    r.trash_move(ioctx, name, 1000)
    assert name not in r.list(ioctx)
    info = r.trash_get(ioctx, image_id)
    assert info["id"] == image_id and info["name"] == name and info["source"] == "USER"
    assert isinstance(info["deletion_time"], datetime)
    assert info["deferment_end_time"] > info["deletion_time"]
    assert [e["id"] for e in r.trash_list(ioctx)] == [image_id]
    with pytest.raises(rbd.PermissionError):
        r.trash_remove(ioctx, image_id)  # deferment not over
    r.trash_restore(ioctx, image_id, name)
    assert name in r.list(ioctx) and list(r.trash_list(ioctx)) == []
    with pytest.raises(rbd.ImageNotFound):
        r.trash_get(ioctx, image_id)
    r.trash_move(ioctx, name, 1000)
    r.trash_remove(ioctx, image_id, True)
    assert list(r.trash_list(ioctx)) == []


def test_trash_purge(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    name, image_id = _image(ioctx)
    r.trash_move(ioctx, name, 0)
    r.trash_purge(ioctx, datetime.now() + timedelta(seconds=1))
    assert list(r.trash_list(ioctx)) == []


# -- namespaces ------------------------------------------------------------------------------


def test_namespaces(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    assert r.namespace_list(ioctx) == []
    assert r.namespace_exists(ioctx, "ns1") is False
    r.namespace_create(ioctx, "ns1")
    with pytest.raises(rbd.ImageExists):
        r.namespace_create(ioctx, "ns1")
    assert r.namespace_list(ioctx) == ["ns1"] and r.namespace_exists(ioctx, "ns1")
    ioctx.set_namespace("ns1")
    try:
        name, _ = _image(ioctx)
        assert r.list(ioctx) == [name]
    finally:
        ioctx.set_namespace("")
    assert name not in r.list(ioctx)
    with pytest.raises(rbd.ImageBusy):
        r.namespace_remove(ioctx, "ns1")
    ioctx.set_namespace("ns1")
    try:
        r.remove(ioctx, name)
    finally:
        ioctx.set_namespace("")
    r.namespace_remove(ioctx, "ns1")
    with pytest.raises(rbd.ImageNotFound):
        r.namespace_remove(ioctx, "ns1")


# -- groups ------------------------------------------------------------------------------------


def test_groups(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    r.group_create(ioctx, "g1")
    with pytest.raises(rbd.ObjectExists):
        r.group_create(ioctx, "g1")
    assert r.group_list(ioctx) == ["g1"]
    r.group_rename(ioctx, "g1", "g2")
    assert r.group_list(ioctx) == ["g2"]
    name, _ = _image(ioctx)
    with rbd.Group(ioctx, "g2") as g:
        g.add_image(ioctx, name)
        assert list(g.list_images()) == [
            {
                "name": name,
                "pool": ioctx.get_pool_id(),
                "state": rbd.RBD_GROUP_IMAGE_STATE_ATTACHED,
            }
        ]
        with rbd.Image(ioctx, name) as im:
            assert im.group() == {"pool": ioctx.get_pool_id(), "name": "g2"}
            assert im.op_features() & rbd.RBD_OPERATION_FEATURE_GROUP
        g.create_snap("gs")
        assert list(g.list_snaps()) == [{"name": "gs", "state": rbd.RBD_GROUP_SNAP_STATE_COMPLETE}]
        with rbd.Image(ioctx, name) as im:
            snaps = list(im.list_snaps())
            assert snaps[0]["namespace"] == rbd.RBD_SNAP_NAMESPACE_TYPE_GROUP
            assert snaps[0]["group"]["name"] == "g2"
        g.rename_snap("gs", "gs2")
        g.rollback_to_snap("gs2")
        g.remove_snap("gs2")
        with pytest.raises(rbd.ObjectNotFound):
            g.remove_snap("gs2")
        g.remove_image(ioctx, name)
        assert list(g.list_images()) == []
    r.group_remove(ioctx, "g2")
    r.group_remove(ioctx, "g2")  # a missing group is not an error (librbd Group::remove)
    assert r.group_list(ioctx) == []
    with pytest.raises(rbd.ObjectNotFound) as ei:
        rbd.Group(ioctx, "g2").create_snap("s")
    assert ei.value.errno == errno.ENOENT
    r.remove(ioctx, name)


# -- config listings ---------------------------------------------------------------------------


def test_pool_config_list(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    assert all(o["source"] == rbd.RBD_CONFIG_SOURCE_CONFIG for o in r.config_list(ioctx))
    r.pool_metadata_set(ioctx, "conf_rbd_cache", "true")
    sources = {o["name"]: o["source"] for o in r.config_list(ioctx)}
    assert sources["rbd_cache"] == rbd.RBD_CONFIG_SOURCE_POOL
    r.pool_metadata_remove(ioctx, "conf_rbd_cache")


def test_image_config_list(ioctx: rados.Ioctx) -> None:
    name, _ = _image(ioctx)
    with rbd.Image(ioctx, name) as im:
        im.metadata_set("conf_rbd_cache", "false")
        sources = {o["name"]: (o["value"], o["source"]) for o in im.config_list()}
        assert sources["rbd_cache"] == ("false", rbd.RBD_CONFIG_SOURCE_IMAGE)


# -- migration -------------------------------------------------------------------------------


def test_migration(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    name, _ = _image(ioctx)
    with rbd.Image(ioctx, name) as im:
        im.write(b"migrate", 0)
    r.migration_prepare(ioctx, name, ioctx, name, features=FEATURES, order=23)
    st = r.migration_status(ioctx, name)
    assert st["source_image_name"] == name and st["dest_image_name"] == name
    assert st["state"] == rbd.RBD_IMAGE_MIGRATION_STATE_PREPARED
    seen: list[int] = []
    r.migration_execute(ioctx, name, on_progress=lambda cur, total: seen.append(cur) or 0)
    r.migration_commit(ioctx, name)
    with rbd.Image(ioctx, name) as im:
        assert im.read(0, 7) == b"migrate" and im.stat()["order"] == 23
    r.remove(ioctx, name)


# -- mirroring metadata ------------------------------------------------------------------------


def test_mirroring_pool_metadata(cluster: rados.Rados, ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    assert r.mirror_mode_get(ioctx) == rbd.RBD_MIRROR_MODE_DISABLED
    r.mirror_mode_set(ioctx, rbd.RBD_MIRROR_MODE_IMAGE)
    assert r.mirror_mode_get(ioctx) == rbd.RBD_MIRROR_MODE_IMAGE
    assert r.mirror_site_name_get(cluster) == cluster.get_fsid()
    r.mirror_site_name_set(cluster, "site-a")
    assert r.mirror_site_name_get(cluster) == "site-a"
    r.mirror_site_name_set(cluster, "")
    uuid_ = r.mirror_peer_add(ioctx, "site-b", "client.b")
    peers = list(r.mirror_peer_list(ioctx))
    assert [p["uuid"] for p in peers] == [uuid_]
    assert peers[0]["site_name"] == "site-b" and peers[0]["client_name"] == "client.b"
    r.mirror_peer_set_attributes(
        ioctx,
        uuid_,
        {
            rbd.RBD_MIRROR_PEER_ATTRIBUTE_NAME_MON_HOST: "1.2.3.4",
            rbd.RBD_MIRROR_PEER_ATTRIBUTE_NAME_KEY: "secret",
        },
    )
    assert r.mirror_peer_get_attributes(ioctx, uuid_) == {"mon_host": "1.2.3.4", "key": "secret"}
    r.mirror_peer_remove(ioctx, uuid_)
    assert list(r.mirror_peer_list(ioctx)) == []
    token = r.mirror_peer_bootstrap_create(ioctx)
    import base64

    decoded = json.loads(base64.b64decode(token))
    assert {"fsid", "client_id", "key", "mon_host"} <= set(decoded)
    with pytest.raises(rbd.InvalidArgument):
        r.mirror_peer_bootstrap_import(ioctx, rbd.RBD_MIRROR_PEER_DIRECTION_RX, token)
    r.mirror_mode_set(ioctx, rbd.RBD_MIRROR_MODE_DISABLED)


def test_image_snapshot_mirroring(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    r.mirror_mode_set(ioctx, rbd.RBD_MIRROR_MODE_IMAGE)
    peer = r.mirror_peer_add(ioctx, "site-b", "client.b")  # snapshots link to TX peers
    name, image_id = _image(ioctx)
    with rbd.Image(ioctx, name) as im:
        with pytest.raises(rbd.InvalidArgument):  # not mirrored yet
            im.mirror_image_create_snapshot()
        im.mirror_image_enable(rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT)
        info = im.mirror_image_get_info()
        assert info["state"] == rbd.RBD_MIRROR_IMAGE_ENABLED and info["primary"] is True
        assert isinstance(info["global_id"], str) and info["global_id"]
        assert im.mirror_image_get_mode() == rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT
        snap_id = im.mirror_image_create_snapshot()
        assert isinstance(snap_id, int)
        ns = im.snap_get_mirror_namespace(snap_id)
        assert ns["state"] == rbd.RBD_SNAP_MIRROR_STATE_PRIMARY
        assert ns["mirror_peer_uuids"] == [peer]
        snaps = [s for s in im.list_snaps() if s["id"] == snap_id]
        assert snaps[0]["namespace"] == rbd.RBD_SNAP_NAMESPACE_TYPE_MIRROR
        assert snaps[0]["mirror"]["state"] == rbd.RBD_SNAP_MIRROR_STATE_PRIMARY
        got: list[object] = []
        im.aio_mirror_image_get_info(lambda c, i: got.append(i)).wait_for_complete_and_cb()
        im.aio_mirror_image_get_mode(lambda c, m: got.append(m)).wait_for_complete_and_cb()
        assert got == [info, rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT]
        status = im.mirror_image_get_status()
        assert status["name"] == name and status["id"] == image_id
        assert status["info"]["global_id"] == info["global_id"]
        assert isinstance(status["remote_statuses"], list)
        assert [i for i, _ in r.mirror_image_info_list(ioctx)] == [image_id]
        im.mirror_image_disable(False)
        assert im.mirror_image_get_info()["state"] == rbd.RBD_MIRROR_IMAGE_DISABLED
    r.mirror_peer_remove(ioctx, peer)
    r.mirror_mode_set(ioctx, rbd.RBD_MIRROR_MODE_DISABLED)


def test_migration_import_from_raw_file(ioctx: rados.Ioctx, tmp_path: object) -> None:
    import pathlib

    r = rbd.RBD()
    path = pathlib.Path(str(tmp_path)) / "disk.raw"
    data = bytes(range(256)) * 4096  # 1 MiB
    path.write_bytes(data)
    spec = json.dumps({"type": "raw", "stream": {"type": "file", "file_path": str(path)}})
    r.migration_prepare_import(spec, ioctx, "imported", features=FEATURES)
    with rbd.Image(ioctx, "imported") as im:
        src = im.migration_source_spec()
        assert isinstance(src, dict) and src["type"] == "raw"
    r.migration_execute(ioctx, "imported")
    r.migration_commit(ioctx, "imported")
    with rbd.Image(ioctx, "imported") as im:
        assert im.size() == len(data) and im.read(0, len(data)) == data
    r.remove(ioctx, "imported")


def test_luks_encryption(ioctx: rados.Ioctx) -> None:
    name = f"img-{uuid.uuid4().hex[:8]}"
    rbd.RBD().create(ioctx, name, 64 << 20, features=FEATURES)  # room for a LUKS2 header
    with rbd.Image(ioctx, name) as im:
        im.encryption_format(rbd.RBD_ENCRYPTION_FORMAT_LUKS2, "secret")
        im.write(b"plain text", 0)
        assert im.read(0, 10) == b"plain text"
    with rbd.Image(ioctx, name) as im:
        assert im.read(0, 10) != b"plain text"  # ciphertext without the key
        with pytest.raises(rbd.PermissionError):
            im.encryption_load(rbd.RBD_ENCRYPTION_FORMAT_LUKS2, "wrong")
        im.encryption_load(rbd.RBD_ENCRYPTION_FORMAT_LUKS2, "secret")
        assert im.read(0, 10) == b"plain text"
        with pytest.raises(rbd.OperationNotSupported, match="Unsupported encryption format"):
            im.encryption_load(7, "secret")
    rbd.RBD().remove(ioctx, name)
