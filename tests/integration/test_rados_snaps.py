"""Object snapshots through the public `rados` API only, as upstream test_rados.py uses
them: pool snaps (create, overwrite, read at the snap, rollback, timestamps, removal) and
self-managed snaps (write context, rollback, removal freeing the clones)."""

from __future__ import annotations

import time

import pytest
from tests.waiting import wait_until

import rados
from rados import LIBRADOS_SNAP_HEAD

STATS_WAIT = 30.0


def wait_clones(io, want: int, timeout: float = STATS_WAIT) -> dict:
    """The pool's stats once they count `want` clones (bounded)."""

    def stats() -> dict | None:
        st = io.get_stats()
        return st if st["num_object_clones"] == want else None

    return wait_until(stats, f"{want} clones in the pool stats", timeout)


# ------------------------------------------------------------------ pool snaps
def test_snap_read(ioctx):
    ioctx.write("insnap", b"contents1")
    ioctx.create_snap("snap1")
    ioctx.remove_object("insnap")
    snap = ioctx.lookup_snap("snap1")
    ioctx.set_read(snap.snap_id)
    assert ioctx.read("insnap") == b"contents1"
    ioctx.set_read(LIBRADOS_SNAP_HEAD)
    with pytest.raises(rados.ObjectNotFound):
        ioctx.read("insnap")
    ioctx.write("inhead", b"contents2")
    assert ioctx.read("inhead") == b"contents2"
    ioctx.remove_snap("snap1")
    ioctx.remove_object("inhead")


def test_overwrite_then_read_old_and_new(ioctx):
    ioctx.write_full("obj", b"old bytes")
    ioctx.set_xattr("obj", "a", b"1")
    ioctx.create_snap("s")
    ioctx.write_full("obj", b"new")
    ioctx.set_xattr("obj", "a", b"2")
    ioctx.write("later", b"born after the snap")
    sid = ioctx.lookup_snap("s").snap_id
    ioctx.set_read(sid)
    assert ioctx.read("obj") == b"old bytes"
    assert ioctx.stat("obj")[0] == len(b"old bytes")
    assert ioctx.get_xattr("obj", "a") == b"1"
    with pytest.raises(rados.ObjectNotFound):
        ioctx.read("later")  # did not exist at the snap
    ioctx.set_read(LIBRADOS_SNAP_HEAD)
    assert ioctx.read("obj") == b"new"
    assert ioctx.get_xattr("obj", "a") == b"2"
    assert ioctx.read("later") == b"born after the snap"
    # listing shows heads only, never clones
    assert sorted(o.key for o in ioctx.list_objects()) == ["later", "obj"]
    assert wait_clones(ioctx, 1)["num_object_clones"] == 1


def test_snap_rollback(ioctx):
    ioctx.write("insnap", b"contents1")
    ioctx.create_snap("snap1")
    ioctx.remove_object("insnap")
    ioctx.snap_rollback("insnap", "snap1")
    assert ioctx.read("insnap") == b"contents1"
    ioctx.write_full("insnap", b"changed")
    ioctx.snap_rollback("insnap", "snap1")
    assert ioctx.read("insnap") == b"contents1"
    ioctx.remove_snap("snap1")
    ioctx.remove_object("insnap")


def test_snap_timestamp_list_remove(ioctx):
    before = time.time()
    ioctx.create_snap("foo")
    snap = ioctx.lookup_snap("foo")
    assert snap.name == "foo"
    ts = snap.get_timestamp()
    assert before - 2 <= ts.timestamp() <= time.time() + 2
    assert [s.name for s in ioctx.list_snaps()] == ["foo"]
    ioctx.remove_snap("foo")
    assert list(ioctx.list_snaps()) == []
    with pytest.raises(rados.ObjectNotFound):
        ioctx.lookup_snap("foo")


def test_remove_pool_snap_frees_its_clones(ioctx):
    ioctx.write_full("o", b"v1")
    ioctx.create_snap("s1")
    ioctx.write_full("o", b"v2")
    ioctx.write_full("gone", b"g")
    ioctx.create_snap("s2")
    ioctx.remove_object("gone")
    assert wait_clones(ioctx, 2)["num_object_clones"] == 2
    ioctx.remove_snap("s1")
    assert wait_clones(ioctx, 1)["num_object_clones"] == 1
    ioctx.remove_snap("s2")
    assert wait_clones(ioctx, 0)["num_object_clones"] == 0
    assert ioctx.read("o") == b"v2"
    with pytest.raises(rados.ObjectNotFound):
        ioctx.read("gone")


# ------------------------------------------------------------------ self-managed snaps
def test_self_managed_snaps(ioctx):
    # mirrors upstream TestIoCtxSelfManagedSnaps.test
    ioctx.set_self_managed_snap_write([])
    ioctx.write("abc", b"abc")
    snap_id_1 = ioctx.create_self_managed_snap()
    ioctx.set_self_managed_snap_write([snap_id_1])
    ioctx.write("abc", b"def")
    snap_id_2 = ioctx.create_self_managed_snap()
    ioctx.set_self_managed_snap_write([snap_id_1, snap_id_2])
    ioctx.write("abc", b"ghi")
    ioctx.rollback_self_managed_snap("abc", snap_id_1)
    assert ioctx.read("abc") == b"abc"
    ioctx.rollback_self_managed_snap("abc", snap_id_2)
    assert ioctx.read("abc") == b"def"
    ioctx.set_read(snap_id_1)
    assert ioctx.read("abc") == b"abc"
    ioctx.set_read(LIBRADOS_SNAP_HEAD)
    assert wait_clones(ioctx, 2)["num_object_clones"] == 2
    ioctx.remove_self_managed_snap(snap_id_1)
    ioctx.remove_self_managed_snap(snap_id_2)
    assert wait_clones(ioctx, 0)["num_object_clones"] == 0
    assert ioctx.read("abc") == b"def"


def test_write_while_reading_a_snap_is_refused(ioctx):
    ioctx.write_full("w", b"x")
    ioctx.create_snap("s")
    ioctx.set_read(ioctx.lookup_snap("s").snap_id)
    with pytest.raises(rados.Error):
        ioctx.write_full("w", b"y")
    ioctx.set_read(LIBRADOS_SNAP_HEAD)
    assert ioctx.read("w") == b"x"


# ------------------------------------------------------------------ durability
def test_clone_survives_osd_restarts(own_cluster):
    r = rados.Rados(conffile=own_cluster.conf_path)
    r.connect()
    try:
        r.create_pool("snapdur")
        io = r.open_ioctx("snapdur")
        io.write_full("obj", b"before")
        io.create_snap("s")
        io.write_full("obj", b"after")
        sid = io.lookup_snap("s").snap_id
        for i in range(3):
            own_cluster.kill(f"osd.{i}")
            own_cluster.start([f"osd.{i}"])
            own_cluster.wait_ready()
        for i in range(3):
            own_cluster.kill(f"osd.{i}")
        own_cluster.start([f"osd.{i}" for i in range(3)])
        own_cluster.wait_ready()
        io.set_read(sid)
        assert io.read("obj") == b"before"
        io.set_read(LIBRADOS_SNAP_HEAD)
        assert io.read("obj") == b"after"
        io.close()
    finally:
        r.shutdown()
