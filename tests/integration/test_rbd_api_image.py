"""More of `rbd.Image` against an embedded cluster: information calls, large I/O,
snapshot removal variants, copies, children iterators and paged metadata — the
behaviour upstream's `TestImage`/`TestClone` check, restated through the public API.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

import rados
import rbd

IMG_SIZE = 8 << 20
IMG_ORDER = 22
#: image features, as upstream's test_rbd.py takes them: RBD_FEATURES=61 runs the suite
#: with exclusive-lock, object-map, fast-diff and deep-flatten (default: layering only)
FEATURES = int(os.environ.get("RBD_FEATURES", rbd.RBD_FEATURE_LAYERING))


@pytest.fixture(scope="module")
def ioctx() -> Iterator[rados.Ioctx]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        c.conf_set("rbd_default_clone_format", "2")
        pool = f"rbd-img-{uuid.uuid4().hex[:8]}"
        c.create_pool(pool)
        with c.open_ioctx(pool) as io:
            yield io
        c.delete_pool(pool)


@pytest.fixture
def name(ioctx: rados.Ioctx) -> str:
    n = f"img-{uuid.uuid4().hex[:8]}"
    rbd.RBD().create(ioctx, n, IMG_SIZE, IMG_ORDER, features=FEATURES)
    return n


def test_information(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        assert im.flags() == 0
        assert im.op_features() == 0
        assert im.data_pool_id() == ioctx.get_pool_id()
        for ts in (im.create_timestamp(), im.access_timestamp(), im.modify_timestamp()):
            assert isinstance(ts, datetime)
        im.invalidate_cache()
        assert im.overlap() == 0  # no parent (the compat recording: 0)
        with pytest.raises(rbd.ImageNotFound):
            im.parent_id()


def test_large_io(ioctx: rados.Ioctx, name: str) -> None:
    data = os.urandom(IMG_SIZE)
    with rbd.Image(ioctx, name) as im:
        assert im.write(data, 0) == IMG_SIZE
        assert im.read(0, IMG_SIZE) == data


def test_remove_snap_variants(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.create_snap("a")
        im.create_snap("b")
        im.protect_snap("a")
        with pytest.raises(rbd.ImageBusy):
            im.remove_snap2("a", 0)
        im.remove_snap2("a", rbd.RBD_SNAP_REMOVE_UNPROTECT)
        b = im.snap_get_id("b")
        im.remove_snap_by_id(b)
        assert list(im.list_snaps()) == []
        with pytest.raises(rbd.ImageNotFound):
            im.snap_get_id("b")
    rbd.RBD().remove(ioctx, name)


def test_metadata_paging(ioctx: rados.Ioctx, name: str) -> None:
    many = 70  # more than two chunks of MetadataIterator
    with rbd.Image(ioctx, name) as im:
        for i in range(many):
            im.metadata_set(f"key{i:03}", f"value{i}")
        got = list(im.metadata_list())
        assert got == [(f"key{i:03}", f"value{i}") for i in range(many)]
    rbd.RBD().remove(ioctx, name)


def test_deep_copy_keeps_snapshots(ioctx: rados.Ioctx, name: str) -> None:
    dest = name + "-deep"
    with rbd.Image(ioctx, name) as im:
        im.write(b"old", 0)
        im.create_snap("s")
        im.write(b"new", 0)
        im.deep_copy(ioctx, dest)
    with rbd.Image(ioctx, dest) as d:
        assert [s["name"] for s in d.list_snaps()] == ["s"]
        assert d.read(0, 3) == b"new"
        d.set_snap("s")
        assert d.read(0, 3) == b"old"
    with rbd.Image(ioctx, dest) as d:
        d.remove_snap("s")
    rbd.RBD().remove(ioctx, dest)


def test_clone_of_unprotected_snapshot_and_descendants(ioctx: rados.Ioctx, name: str) -> None:
    r = rbd.RBD()
    child, grandchild = name + "-c", name + "-g"
    with rbd.Image(ioctx, name) as im:
        im.write(b"base", 0)
        im.create_snap("s")
    # clone v2 does not need a protected snapshot
    r.clone(ioctx, name, "s", ioctx, child, features=FEATURES)
    with rbd.Image(ioctx, child) as c:
        c.create_snap("cs")
    r.clone(ioctx, child, "cs", ioctx, grandchild, features=FEATURES)
    with rbd.Image(ioctx, name) as im:
        im.set_snap("s")
        desc = {d["image"] for d in im.list_descendants()}
        assert desc == {child, grandchild}
        kids = list(im.list_children2())
        assert kids == [
            {
                "pool": ioctx.get_pool_name(),
                "pool_namespace": "",
                "image": child,
                "id": kids[0]["id"],
                "trash": False,
            }
        ]
    with rbd.Image(ioctx, grandchild) as g:
        assert g.read(0, 4) == b"base"
    r.remove(ioctx, grandchild)
    with rbd.Image(ioctx, child) as c:
        c.remove_snap("cs")
    r.remove(ioctx, child)
    with rbd.Image(ioctx, name) as im:
        im.remove_snap("s")
    r.remove(ioctx, name)


def test_sparsify(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.write(b"\0" * 8192 + b"x", 0)
        im.sparsify(4096)
        assert im.read(8192, 1) == b"x"
        with pytest.raises(rbd.InvalidArgument):
            im.sparsify(1000)  # not a power of two of at least 4 KiB


def test_lock_conflicts_and_shared_lockers(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        with pytest.raises(rbd.ImageNotFound):
            im.unlock("")
        im.lock_exclusive("")
        with pytest.raises(rbd.ImageExists):
            im.lock_exclusive("")
        with pytest.raises(rbd.ImageBusy):
            im.lock_exclusive("other")
        with pytest.raises(rbd.ImageBusy):
            im.lock_shared("foo", "")
        im.unlock("")
        for i in range(3):
            im.lock_shared(str(i), "tag")
        lockers = im.list_lockers()
        assert lockers["tag"] == "tag" and lockers["exclusive"] is False
        assert sorted(c for _, c, _ in lockers["lockers"]) == ["0", "1", "2"]
        for i in range(3):
            im.unlock(str(i))
        assert im.list_lockers() == []


def test_snapshot_set_then_deleted(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.write(b"d" * 16, 0)
        im.create_snap("gone")
        im.set_snap("gone")
        im.remove_snap("gone")
        with pytest.raises(rbd.ImageNotFound):
            im.read(0, 16)
        im.set_snap(None)
        assert im.read(0, 16) == b"d" * 16
        with pytest.raises(rbd.ImageNotFound):
            im.snap_get_name(12345)
        with pytest.raises(rbd.ImageNotFound):
            im.snap_get_id("gone")


def test_managed_lock(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    n, plain = f"img-{uuid.uuid4().hex[:8]}", f"img-{uuid.uuid4().hex[:8]}"
    r.create(ioctx, n, IMG_SIZE, features=rbd.RBD_FEATURE_LAYERING | rbd.RBD_FEATURE_EXCLUSIVE_LOCK)
    r.create(ioctx, plain, IMG_SIZE, features=rbd.RBD_FEATURE_LAYERING)
    with rbd.Image(ioctx, n) as im:
        assert im.is_exclusive_lock_owner() is False
        assert list(im.lock_get_owners()) == []
        im.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
        assert im.is_exclusive_lock_owner() is True
        owners = list(im.lock_get_owners())
        assert len(owners) == 1 and owners[0]["mode"] == rbd.RBD_LOCK_MODE_EXCLUSIVE
        assert isinstance(owners[0]["owner"], str)
        with pytest.raises(rbd.OperationNotSupported):
            im.lock_acquire(rbd.RBD_LOCK_MODE_SHARED)
        im.lock_release()
        assert im.is_exclusive_lock_owner() is False
        with pytest.raises(rbd.InvalidArgument):
            im.lock_release()
        with pytest.raises(TypeError):
            im.lock_acquire("exclusive")
    # no exclusive-lock feature: no managed lock
    with rbd.Image(ioctx, plain) as im, pytest.raises(rbd.InvalidArgument):
        im.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
    r.remove(ioctx, n)
    r.remove(ioctx, plain)
