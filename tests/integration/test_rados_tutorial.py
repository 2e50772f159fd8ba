"""The librados Python tutorial, end to end against a real cluster, plus bad input."""

from __future__ import annotations

import json
import re
import threading

import pytest
from tests.waiting import wait_until

import rados


def test_tutorial_walkthrough(cluster_conf):
    cluster = rados.Rados(conffile=cluster_conf)
    assert str(cluster.version()) == "3.0.0"
    assert cluster.conf_get("mon host")
    cluster.connect()
    try:
        assert re.fullmatch(r"[0-9a-f-]{36}", cluster.get_fsid())
        stats = cluster.get_cluster_stats()
        assert set(stats) == {"kb", "kb_used", "kb_avail", "num_objects"}
        if stats["kb"] == 0:  # mgr stats lag start-up
            stats = wait_until(
                lambda: (s := cluster.get_cluster_stats())["kb"] > 0 and s, "capacity", 15
            )
        assert stats["kb"] > 0

        before = cluster.list_pools()
        cluster.create_pool("test")
        assert cluster.pool_exists("test")
        assert set(cluster.list_pools()) - set(before) == {"test"}

        ioctx = cluster.open_ioctx("test")
        ioctx.write_full("hw", b"Hello World!")
        assert ioctx.read("hw") == b"Hello World!"
        ioctx.set_xattr("hw", "lang", b"en_US")
        assert ioctx.get_xattr("hw", "lang") == b"en_US"
        ioctx.write_full("hw2", b"second")
        contents = {}
        it = ioctx.list_objects()
        while True:
            try:
                obj = next(it)
            except StopIteration:
                break
            contents[obj.key] = obj.read()
        assert contents == {"hw": b"Hello World!", "hw2": b"second"}
        ioctx.remove_object("hw")
        with pytest.raises(rados.ObjectNotFound):
            ioctx.read("hw")
        ioctx.close()

        cluster.delete_pool("test")
        assert not cluster.pool_exists("test")
    finally:
        cluster.shutdown()
    assert cluster.state == "shutdown"


def test_context_managers_and_rados_id(cluster_conf, pool):
    with rados.Rados(conffile=cluster_conf, rados_id="admin") as r:
        assert r.state == "connected"
        with r.open_ioctx(pool) as io:
            io.write("a", b"1")
            assert io.stat("a")[0] == 1
        assert io.state == "closed"


def test_sync_io(cluster, pool):
    io = cluster.open_ioctx(pool)
    io.write("abc", b"abc")
    io.append("abc", b"def")
    assert io.read("abc") == b"abcdef"
    assert io.read("abc", 2, 4) == b"ef"
    io.trunc("abc", 2)
    assert io.read("abc") == b"ab"
    assert io.stat("abc")[0] == 2
    io.write("z", b"a\0b\0c")
    assert io.read("z") == b"a\0b\0c"
    xattrs = {"a": b"1", "b": b"2", "d": b"a\0b", "e": b"\0"}
    for k, v in xattrs.items():
        io.set_xattr("abc", k, v)
    assert dict(io.get_xattrs("abc")) == xattrs
    io.rm_xattr("abc", "a")
    assert "a" not in dict(io.get_xattrs("abc"))
    assert io.get_last_version() > 0
    io.set_namespace("ns1")
    io.write("n", b"in ns1")
    io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
    names = sorted((o.nspace, o.key) for o in io.list_objects())
    assert names == [("", "abc"), ("", "z"), ("ns1", "n")]
    io.close()


def test_aio(cluster, pool):
    io = cluster.open_ioctx(pool)
    lock = threading.Condition()
    count = [0]

    def cb(_comp):
        with lock:
            count[0] += 1
            lock.notify()

    comp = io.aio_write("foo", b"bar", 0, cb, cb)
    comp2 = io.aio_append("foo", b"baz", cb, cb)
    comp.wait_for_complete()
    comp2.wait_for_complete()
    with lock:
        assert lock.wait_for(lambda: count[0] >= 4, timeout=30)
    assert comp.get_return_value() == 0 and comp2.get_return_value() == 0
    assert io.read("foo") == b"barbaz"

    got = []
    c = io.aio_read("foo", 6, 0, lambda _c, buf: got.append(buf))
    c.wait_for_complete_and_cb()
    assert got == [b"barbaz"]
    c = io.aio_read("nope", 6, 0, lambda _c, buf: got.append(buf))
    c.wait_for_complete_and_cb()
    assert got[-1] is None and c.get_return_value() == -2
    io.close()


def test_bad_input(cluster, cluster_conf, tmp_path):
    with pytest.raises(rados.ObjectNotFound):
        cluster.open_ioctx("no-such-pool")
    with pytest.raises(rados.ObjectNotFound):
        cluster.delete_pool("no-such-pool")
    assert cluster.pool_lookup("no-such-pool") is None
    with pytest.raises(rados.InvalidArgumentError):
        cluster.create_pool("")
    with pytest.raises(TypeError):
        cluster.create_pool(0xF00)
    with pytest.raises(rados.ObjectNotFound):
        rados.Rados(conffile=str(tmp_path / "missing.conf"))
    # pool delete without the confirmation flag is refused by the monitor
    cluster.create_pool("nodelete")
    try:
        ret, _buf, outs = cluster.mon_command(
            json.dumps({"prefix": "osd pool delete", "pool": "nodelete", "pool2": "nodelete"}), b""
        )
        assert ret == -1  # EPERM
        assert cluster.pool_exists("nodelete")
        with pytest.raises(rados.ObjectExists):
            cluster.create_pool("nodelete")
    finally:
        cluster.delete_pool("nodelete")


def test_wrong_key(cluster_conf):
    r = rados.Rados(conffile=cluster_conf, conf={"key": "AQBvN2tm0Q9uFRAAbr3pkTRQmPvEKvJWJSYJuA=="})
    with pytest.raises(rados.PermissionDeniedError):
        r.connect(timeout=10)
    assert r.state == "configuring"


def test_mon_command_returns_errors(cluster):
    ret, buf, outs = cluster.mon_command(json.dumps({"prefix": "mon dump", "format": "json"}), b"")
    assert ret == 0 and isinstance(buf, bytes) and "epoch" in json.loads(buf)
    ret, buf, outs = cluster.mon_command(json.dumps({"prefix": "no such command"}), b"")
    assert ret < 0 and isinstance(outs, str)
    assert cluster.wait_for_latest_osdmap() == 0


def test_instance_id(cluster):
    assert cluster.get_instance_id() > 0
