"""librados object ops end to end through the drop-in `rados` module only (no pyceph
imports): omap, compound write/read ops, cmpext/writesame, object classes, advisory locks
and watch/notify, mirroring upstream's src/test/pybind/test_rados.py."""

from __future__ import annotations

import errno
import itertools
import json
import threading
import time
from datetime import timedelta

import pytest
from tests.waiting import wait_until

import rados
from rados import (
    ObjectBusy,
    ObjectExists,
    ObjectNotFound,
    ReadOpCtx,
    WriteOpCtx,
)


# -- omap ---------------------------------------------------------------------------------
def test_set_omap_and_get_vals(ioctx):
    keys = ("1", "2", "3", "4")
    values = (b"aaa", b"bbb", b"ccc", b"\x04\x04\x04\x04")
    with WriteOpCtx() as write_op:
        ioctx.set_omap(write_op, keys, values)
        write_op.set_flags(rados.LIBRADOS_OPERATION_SKIPRWLOCKS)
        ioctx.operate_write_op(write_op, "hw")
    with ReadOpCtx() as read_op:
        it, ret = ioctx.get_omap_vals(read_op, "", "", 4)
        assert ret == 0
        ioctx.operate_read_op(read_op, "hw")
        next(it)
        assert list(it) == [("2", b"bbb"), ("3", b"ccc"), ("4", b"\x04\x04\x04\x04")]
    with ReadOpCtx() as read_op:
        it, ret = ioctx.get_omap_vals(read_op, "2", "", 4)
        ioctx.operate_read_op(read_op, "hw")
        assert next(it) == ("3", b"ccc")
        assert list(it) == [("4", b"\x04\x04\x04\x04")]
    with ReadOpCtx() as read_op:
        it, ret = ioctx.get_omap_vals(read_op, "", "2", 4)
        read_op.set_flags(rados.LIBRADOS_OPERATION_BALANCE_READS)
        ioctx.operate_read_op(read_op, "hw")
        assert list(it) == [("2", b"bbb")]
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals(read_op, "", "", 2)  # max_return
        ioctx.operate_read_op(read_op, "hw")
        assert [k for k, _v in it] == ["1", "2"]


def test_set_omap_aio(ioctx):
    lock = threading.Condition()
    count = [0]

    def cb(_comp):
        with lock:
            count[0] += 1
            lock.notify()
        return 0

    with WriteOpCtx() as write_op:
        ioctx.set_omap(write_op, ("1", "2"), (b"aaa", "bbb"))
        comp = ioctx.operate_aio_write_op(write_op, "hw", cb, cb)
        comp.wait_for_complete()
        comp.wait_for_safe()
        with lock:
            while count[0] < 2:
                lock.wait(10)
        assert comp.get_return_value() == 0
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals(read_op, "", "", 4)
        comp = ioctx.operate_aio_read_op(read_op, "hw", cb, cb)
        comp.wait_for_complete()
        with lock:
            while count[0] < 4:
                lock.wait(10)
        assert comp.get_return_value() == 0
        assert list(it) == [("1", b"aaa"), ("2", b"bbb")]


def test_get_omap_vals_by_keys_keys_and_clear(ioctx):
    with WriteOpCtx() as write_op:
        ioctx.set_omap(write_op, ("1", "2", "3", "4"), (b"aaa", b"bbb", b"ccc", b"\x04"))
        ioctx.operate_write_op(write_op, "hw")
    with ReadOpCtx() as read_op:
        it, ret = ioctx.get_omap_vals_by_keys(read_op, ("3", "4", "nope"))
        assert ret == 0
        ioctx.operate_read_op(read_op, "hw")
        assert list(it) == [("3", b"ccc"), ("4", b"\x04")]
    with ReadOpCtx() as read_op:
        ioctx.get_omap_vals_by_keys(read_op, ("3", "4"))
        with pytest.raises(ObjectNotFound):
            ioctx.operate_read_op(read_op, "no_such")
    with ReadOpCtx() as read_op:
        it, ret = ioctx.get_omap_keys(read_op, "", 2)
        ioctx.operate_read_op(read_op, "hw")
        assert list(it) == [("1", None), ("2", None)]
    with ReadOpCtx() as read_op:
        ioctx.get_omap_keys(read_op, "", 2)
        with pytest.raises(ObjectNotFound):
            ioctx.operate_read_op(read_op, "no_such")
    with WriteOpCtx() as write_op:
        ioctx.remove_omap_keys(write_op, ("1",))
        ioctx.operate_write_op(write_op, "hw")
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_keys(read_op, "", 10)
        ioctx.operate_read_op(read_op, "hw")
        assert [k for k, _ in it] == ["2", "3", "4"]
    with WriteOpCtx() as write_op:
        ioctx.clear_omap(write_op)
        ioctx.operate_write_op(write_op, "hw")
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals_by_keys(read_op, ("1", "2"))
        ioctx.operate_read_op(read_op, "hw")
        assert list(it) == []
    with WriteOpCtx() as write_op:
        ioctx.clear_omap(write_op)
        with pytest.raises(ObjectNotFound):
            ioctx.operate_write_op(write_op, "no_such")


def test_remove_omap_range2(ioctx):
    keys = ("1", "2", "3", "4")
    with WriteOpCtx() as write_op:
        ioctx.set_omap(write_op, keys, (b"a", b"b", b"c", b"d"))
        ioctx.operate_write_op(write_op, "test_obj")
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals_by_keys(read_op, keys)
        ioctx.operate_read_op(read_op, "test_obj")
        assert len(list(it)) == 4
    with WriteOpCtx() as write_op:
        ioctx.remove_omap_range2(write_op, "1", "4")
        ioctx.operate_write_op(write_op, "test_obj")
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals_by_keys(read_op, keys)
        ioctx.operate_read_op(read_op, "test_obj")
        assert list(it) == [("4", b"d")]


def test_omap_cmp(ioctx):
    with WriteOpCtx() as write_op:
        ioctx.set_omap(write_op, ("1",), ("1",))
        ioctx.operate_write_op(write_op, "test_omap_cmp")
    with WriteOpCtx() as write_op:
        write_op.omap_cmp("1", "1", rados.LIBRADOS_CMPXATTR_OP_EQ)
        ioctx.set_omap(write_op, ("1",), ("2",))
        ioctx.operate_write_op(write_op, "test_omap_cmp")
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals_by_keys(read_op, ("1",))
        ioctx.operate_read_op(read_op, "test_omap_cmp")
        assert list(it) == [("1", b"2")]
    with WriteOpCtx() as write_op:
        write_op.omap_cmp("1", "1", rados.LIBRADOS_CMPXATTR_OP_EQ)
        ioctx.set_omap(write_op, ("1",), ("3",))
        with pytest.raises(rados.OSError) as e:
            ioctx.operate_write_op(write_op, "test_omap_cmp")
        assert e.value.errno == 125  # ECANCELED
    with ReadOpCtx() as read_op:
        it, _ = ioctx.get_omap_vals_by_keys(read_op, ("1",))
        ioctx.operate_read_op(read_op, "test_omap_cmp")
        assert list(it) == [("1", b"2")]  # the failed compound op changed nothing


# -- compound ops, cmpext, writesame ------------------------------------------------------
def test_write_ops(ioctx):
    with WriteOpCtx() as write_op:
        write_op.new(0)
        ioctx.operate_write_op(write_op, "write_ops")
        assert ioctx.read("write_ops") == b""
        write_op.write_full(b"1")
        write_op.append(b"2")
        ioctx.operate_write_op(write_op, "write_ops")
        assert ioctx.read("write_ops") == b"12"
        write_op.write_full(b"12345")
        write_op.write(b"x", 2)
        ioctx.operate_write_op(write_op, "write_ops")
        assert ioctx.read("write_ops") == b"12x45"
        write_op.write_full(b"12345")
        write_op.zero(2, 2)
        ioctx.operate_write_op(write_op, "write_ops")
        assert ioctx.read("write_ops") == b"12\x00\x005"
        write_op.write_full(b"12345")
        write_op.truncate(2)
        ioctx.operate_write_op(write_op, "write_ops")
        assert ioctx.read("write_ops") == b"12"
        write_op.remove()
        ioctx.operate_write_op(write_op, "write_ops")
        with pytest.raises(ObjectNotFound):
            ioctx.read("write_ops")
    with WriteOpCtx() as write_op:
        write_op.write_full(b"1")
        write_op.set_xattr("a", b"b")
        write_op.set_xattr("c", b"d")
        write_op.rm_xattr("a")
        ioctx.operate_write_op(write_op, "write_ops")
        assert dict(ioctx.get_xattrs("write_ops")) == {"c": b"d"}
    with WriteOpCtx() as write_op:
        write_op.writesame(b"rzx", 9)
        ioctx.operate_write_op(write_op, "write_ops")
        assert ioctx.read("write_ops") == b"rzx" * 3
    with WriteOpCtx() as write_op:
        write_op.execute("hello", "record_hello", b"ebs")
        ioctx.operate_write_op(write_op, "object")
    assert ioctx.read("object") == b"Hello, ebs!"
    ioctx.write_full("cmpext", b"12345")
    with WriteOpCtx() as write_op:
        write_op.cmpext(b"12x", 0)
        write_op.write_full(b"never")
        with pytest.raises(rados.ExtendMismatch) as e:
            ioctx.operate_write_op(write_op, "cmpext")
        assert e.value.offset == 2
    assert ioctx.read("cmpext") == b"12345"
    with WriteOpCtx() as write_op:
        write_op.cmpext(b"123", 0)
        write_op.write(b"a", 5)
        ioctx.operate_write_op(write_op, "cmpext")
    assert ioctx.read("cmpext") == b"12345a"
    with ReadOpCtx() as read_op:
        read_op.cmpext(b"23x", 1)
        with pytest.raises(rados.ExtendMismatch) as e:
            ioctx.operate_read_op(read_op, "cmpext")
        assert e.value.offset == 2


def test_cmpext_and_writesame(ioctx):
    ioctx.write("test_object", b"abcdefghi")
    assert ioctx.cmpext("test_object", b"abcdefghi", 0) == 0
    assert ioctx.cmpext("test_object", b"abcdxxxxx", 0) == -rados.MAX_ERRNO - 4
    assert ioctx.cmpext("test_object", b"ghi\0\0", 6) == 0  # compared with zeros past EOF
    ioctx.writesame("ws", b"data", 16)
    assert ioctx.read("ws") == b"data" * 4
    with pytest.raises(rados.InvalidArgumentError):
        ioctx.writesame("ws", b"data", 15)


def test_assert_version(ioctx):
    ioctx.write_full("v", b"1")
    ver = ioctx.get_last_version()
    assert ver > 0
    with WriteOpCtx() as write_op:
        write_op.assert_version(ver)
        write_op.write_full(b"2")
        ioctx.operate_write_op(write_op, "v")
    with WriteOpCtx() as write_op:
        write_op.assert_version(ver)  # the object moved on: ERANGE
        write_op.write_full(b"3")
        with pytest.raises(rados.OSError) as e:
            ioctx.operate_write_op(write_op, "v")
        assert e.value.errno == errno.ERANGE
    with WriteOpCtx() as write_op:
        write_op.assert_version(ver + 100)
        write_op.write_full(b"3")
        with pytest.raises(rados.OSError) as e:
            ioctx.operate_write_op(write_op, "v")
        assert e.value.errno == errno.EOVERFLOW
    assert ioctx.read("v") == b"2"


# -- object classes ------------------------------------------------------------------------
def test_execute_hello(ioctx):
    ioctx.write("foo", b"")
    ret, buf = ioctx.execute("foo", "hello", "say_hello", b"")
    assert buf == b"Hello, world!" and ret == 13
    ret, buf = ioctx.execute("foo", "hello", "say_hello", b"nose")
    assert buf == b"Hello, nose!"
    ioctx.execute("bar", "hello", "record_hello", b"you")
    assert ioctx.read("bar") == b"Hello, you!"
    with pytest.raises(ObjectExists):
        ioctx.execute("bar", "hello", "record_hello", b"again")
    ret, buf = ioctx.execute("bar", "hello", "replay", b"")
    assert buf == b"Hello, you!"
    with pytest.raises(rados.OSError) as e:
        ioctx.execute("bar", "hello", "no_such_method", b"")
    assert e.value.errno == errno.EOPNOTSUPP
    with pytest.raises(ObjectNotFound):
        ioctx.execute("missing", "hello", "say_hello", b"")


def test_aio_execute(ioctx):
    count = [0]
    retval = [None]
    lock = threading.Condition()

    def cb(_comp, buf):
        with lock:
            if retval[0] is None:
                retval[0] = buf
            count[0] += 1
            lock.notify()

    ioctx.write("foo", b"")
    comp = ioctx.aio_execute("foo", "hello", "say_hello", b"", 32, cb, cb)
    comp.wait_for_complete()
    with lock:
        while count[0] < 2:
            lock.wait(10)
    assert comp.get_return_value() == 13
    assert retval[0] == b"Hello, world!"


def test_lock(ioctx):
    ioctx.lock_exclusive("foo", "lock", "locker", "desc_lock", 10000, 0)
    with pytest.raises(ObjectExists):
        ioctx.lock_exclusive("foo", "lock", "locker", "desc_lock", 10000, 0)
    ioctx.unlock("foo", "lock", "locker")
    with pytest.raises(ObjectNotFound):
        ioctx.unlock("foo", "lock", "locker")
    ioctx.lock_shared("foo", "lock", "locker1", "tag", "desc_lock", 10000, 0)
    ioctx.lock_shared("foo", "lock", "locker2", "tag", "desc_lock", 10000, 0)
    with pytest.raises(ObjectBusy):
        ioctx.lock_exclusive("foo", "lock", "locker3", "desc_lock", 10000, 0)
    ioctx.unlock("foo", "lock", "locker1")
    ioctx.unlock("foo", "lock", "locker2")
    with pytest.raises(ObjectNotFound):
        ioctx.unlock("foo", "lock", "locker1")
    with pytest.raises(ObjectNotFound):
        ioctx.unlock("foo", "lock", "locker2")


def test_lock_between_clients(cluster_conf, ioctx, pool):
    other = rados.Rados(conffile=cluster_conf)
    other.connect(timeout=30)
    try:
        with other.open_ioctx(pool) as io2:
            ioctx.lock_exclusive("shared", "lock", "cookie")
            with pytest.raises(ObjectBusy):
                io2.lock_exclusive("shared", "lock", "cookie")
            ioctx.unlock("shared", "lock", "cookie")
            io2.lock_exclusive("shared", "lock", "cookie")
            io2.unlock("shared", "lock", "cookie")
    finally:
        other.shutdown()


# -- watch / notify (upstream TestWatchNotify) ----------------------------------------------
OID = "test_watch_notify"


class Recorder:
    def __init__(self, rados_handle):
        self.lock = threading.Condition()
        self.notify_cnt: dict[int, int] = {}
        self.notify_data: dict[int, bytes] = {}
        self.notify_error: dict[int, int] = {}
        self.ack_cnt: dict[int, int] = {}
        self.ack_data: dict[int, bytes] = {}
        self.instance_id = rados_handle.get_instance_id()

    def callback(self, notify_id, notifier_id, watch_id, data):
        with self.lock:
            if watch_id not in self.notify_cnt:
                self.notify_cnt[watch_id] = 1
            elif self.notify_data[watch_id] != data:
                self.notify_cnt[watch_id] += 1
            self.notify_data[watch_id] = data

    def callback_reply(self, notify_id, notifier_id, watch_id, data):
        with self.lock:
            return data

    def error_callback(self, watch_id, error):
        with self.lock:
            self.notify_error[watch_id] = error
            self.lock.notify_all()

    def notify_callback(self, _comp, r, ack_list, timeout_list):
        assert r == 0
        with self.lock:
            for notifier_id, _cookie, data in ack_list:
                self.ack_cnt[notifier_id] = self.ack_cnt.get(notifier_id, 0) + 1
                self.ack_data[notifier_id] = data

    def wait_error(self, watch_id):
        deadline = time.monotonic() + 10
        with self.lock:
            while watch_id not in self.notify_error and time.monotonic() < deadline:
                self.lock.wait(0.5)
            return self.notify_error.get(watch_id)


def test_watch_notify(cluster, ioctx, pool):
    ioctx.write(OID, b"test watch notify")
    rec = Recorder(cluster)
    with ioctx.watch(OID, rec.callback, rec.error_callback) as watch1:
        watch_id1 = watch1.get_id()
        assert watch_id1 > 0
        with cluster.open_ioctx(pool) as io:
            watch2 = io.watch(OID, rec.callback, rec.error_callback)
        watch_id2 = watch2.get_id()
        assert watch_id2 > 0 and watch_id2 != watch_id1

        assert ioctx.notify(OID, "test")
        with rec.lock:
            assert rec.notify_cnt == {watch_id1: 1, watch_id2: 1}
            assert rec.notify_data[watch_id1] == b"test"
            assert rec.notify_data[watch_id2] == b"test"
        assert watch1.check() >= timedelta()
        assert watch2.check() >= timedelta()

        assert ioctx.notify(OID, "best")
        with rec.lock:
            assert rec.notify_cnt[watch_id1] == 2 and rec.notify_cnt[watch_id2] == 2
            assert rec.notify_data[watch_id1] == b"best"

        watch2.close()
        assert ioctx.notify(OID, "rest")
        with rec.lock:
            assert rec.notify_cnt[watch_id1] == 3 and rec.notify_cnt[watch_id2] == 2
            assert rec.notify_data[watch_id1] == b"rest"
            assert rec.notify_data[watch_id2] == b"best"
        assert watch1.check() >= timedelta()

        ioctx.remove_object(OID)
        assert rec.wait_error(watch_id1) == -errno.ENOTCONN
        with pytest.raises(rados.NotConnected):
            watch1.check()
        with pytest.raises(ObjectNotFound):
            ioctx.notify(OID, "test")


def test_aio_notify(cluster, ioctx, pool):
    ioctx.write(OID, b"test watch notify")
    rec = Recorder(cluster)
    with ioctx.watch(OID, rec.callback_reply, rec.error_callback) as watch1:
        watch_id1 = watch1.get_id()
        with cluster.open_ioctx(pool) as io:
            watch2 = io.watch(OID, rec.callback_reply, rec.error_callback)
        comp = ioctx.aio_notify(OID, rec.notify_callback, msg="test")
        comp.wait_for_complete_and_cb()
        with rec.lock:
            assert rec.ack_cnt[rec.instance_id] == 2
            assert rec.ack_data[rec.instance_id] == b"test"
        assert watch1.check() >= timedelta()
        assert watch2.check() >= timedelta()

        comp = ioctx.aio_notify(OID, rec.notify_callback, msg="best")
        comp.wait_for_complete_and_cb()
        with rec.lock:
            assert rec.ack_cnt[rec.instance_id] == 4
            assert rec.ack_data[rec.instance_id] == b"best"

        watch2.close()
        comp = ioctx.aio_notify(OID, rec.notify_callback, msg="rest")
        comp.wait_for_complete_and_cb()
        with rec.lock:
            assert rec.ack_cnt[rec.instance_id] == 5
            assert rec.ack_data[rec.instance_id] == b"rest"

        ioctx.remove_object(OID)
        assert rec.wait_error(watch_id1) == -errno.ENOTCONN
        with pytest.raises(rados.NotConnected):
            watch1.check()

        results = []

        def notify_err(_comp, r, acks, timeouts):
            results.append((r, acks, timeouts))

        comp = ioctx.aio_notify(OID, notify_err, msg="test")
        comp.wait_for_complete_and_cb()
        assert results == [(-errno.ENOENT, None, None)]


def test_notify_between_clients_and_timeouts(cluster_conf, cluster, ioctx, pool):
    ioctx.write_full("wn2", b"x")
    other = rados.Rados(conffile=cluster_conf)
    other.connect(timeout=30)
    seen = []
    try:
        with other.open_ioctx(pool) as io2:

            def cb(notify_id, notifier_id, watch_id, data):
                seen.append((notifier_id, data))
                return b"pong:" + data

            w = io2.watch("wn2", cb)
            got = []

            def done(_comp, r, acks, timeouts):
                got.append((r, acks, timeouts))

            comp = ioctx.aio_notify("wn2", done, msg="ping")
            comp.wait_for_complete_and_cb()
            assert seen == [(cluster.get_instance_id(), b"ping")]
            r, acks, timeouts = got[0]
            assert r == 0 and timeouts == []
            assert acks == [(other.get_instance_id(), w.get_id(), b"pong:ping")]

            # a watcher that never answers in time: the notify reports it as timed out
            answer = threading.Event()

            def slow(notify_id, notifier_id, watch_id, data):
                answer.wait(10)  # held until the notify has timed out

            w_slow = io2.watch("wn2", slow)
            t0 = time.monotonic()
            with pytest.raises(rados.TimedOut):
                ioctx.notify("wn2", "hurry", timeout_ms=1000)
            answer.set()
            assert time.monotonic() - t0 < 10
            w_slow.close()
            w.close()
    finally:
        other.shutdown()


def test_watch_callback_may_use_the_object(ioctx):
    """A callback doing I/O on the notified object (as librbd's do) does not stall the notify."""
    ioctx.write_full("reentrant", b"state")
    seen = []

    def cb(notify_id, notifier_id, watch_id, data):
        seen.append(ioctx.read("reentrant"))
        ioctx.set_xattr("reentrant", "seen", data)
        return b"ok"

    w = ioctx.watch("reentrant", cb)
    try:
        t0 = time.monotonic()
        assert ioctx.notify("reentrant", "go", timeout_ms=5000)
        assert time.monotonic() - t0 < 3
        assert seen == [b"state"]
        assert ioctx.get_xattr("reentrant", "seen") == b"go"
    finally:
        w.close()


def test_watch_missing_object_and_empty_notify(ioctx):
    with pytest.raises(ObjectNotFound):
        ioctx.watch("no_such_object", lambda *a: None)
    ioctx.write_full("lonely", b"")
    assert ioctx.notify("lonely", "nobody listens")


def test_watch_survives_primary_change(cluster, ioctx, pool):
    """The watch is re-established on the new primary after the PG moves (linger op)."""
    ioctx.write_full("moving", b"x")
    rec = Recorder(cluster)

    def acting_primary() -> int:
        cmd = {"prefix": "osd map", "pool": pool, "object": "moving", "format": "json"}
        ret, out, outs = cluster.mon_command(json.dumps(cmd), b"")
        assert ret == 0, outs
        m = json.loads(out)
        return int(m.get("acting_primary", m["acting"][0]))

    w = ioctx.watch("moving", rec.callback, rec.error_callback)
    try:
        assert ioctx.notify("moving", "before")
        primary = acting_primary()
        # primary affinity 0 hands the primary role to another acting OSD
        cmd = {"prefix": "osd primary-affinity", "id": primary, "weight": 0.0}
        ret, _out, outs = cluster.mon_command(json.dumps(cmd), b"")
        assert ret == 0, outs
        try:
            wait_until(lambda: acting_primary() != primary, "the primary to move", 30)
            sent = itertools.count()

            def notify_reaches_watch() -> bool:
                msg = f"after-{next(sent)}"
                assert ioctx.notify("moving", msg, timeout_ms=5000)
                with rec.lock:
                    return rec.notify_data.get(w.get_id()) == msg.encode()

            wait_until(notify_reaches_watch, "the watch to be re-established", 30)
            assert w.check() >= timedelta()
            with rec.lock:
                assert w.get_id() not in rec.notify_error
        finally:
            cmd = {"prefix": "osd primary-affinity", "id": primary, "weight": 1.0}
            cluster.mon_command(json.dumps(cmd), b"")
    finally:
        w.close()
