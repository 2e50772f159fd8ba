"""Upstream's `test_aio_read` scenario (src/test/pybind/test_rados.py) through the drop-in
`rados` module: with `noup` set and the object's acting set marked down, an `aio_read`
does not complete; once `noup` is unset the OSDs come back and it completes, including the
error case of a missing object.  Uses a cluster of its own: it changes cluster flags."""

from __future__ import annotations

import json
import sys
import threading
import time

import rados

PAYLOAD = b"bar\000frob"
#: How long each read is checked to stay incomplete (upstream: 3 s).
HOLD_SECONDS = 3
#: Bound on the OSDs coming back and the read completing.
BOUND = 60.0


def _cmd(r: rados.Rados, **cmd) -> tuple[int, bytes]:
    ret, out, _errs = r.mon_command(json.dumps(cmd), b"", timeout=30)
    return ret, out


def _take_down_acting_set(r: rados.Rados, pool: str, oid: str) -> list[int]:
    ret, out = _cmd(r, prefix="osd map", pool=pool, object=oid, format="json")
    assert ret == 0
    acting = json.loads(out.decode())["acting"]
    assert _cmd(r, prefix="osd set", key="noup")[0] == 0
    assert _cmd(r, prefix="osd down", ids=[str(i) for i in acting])[0] == 0
    assert r.wait_for_latest_osdmap() == 0
    return acting


def _let_osds_back_up(r: rados.Rados) -> None:
    assert _cmd(r, prefix="osd unset", key="noup")[0] == 0


def _wait(comp: rados.Completion, with_cb: bool) -> None:
    fn = comp.wait_for_complete_and_cb if with_cb else comp.wait_for_complete
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    t.join(BOUND)
    assert not t.is_alive(), "the read never completed after noup was unset"


def test_aio_read_waits_for_acting_set(own_cluster):
    r = rados.Rados(conffile=own_cluster.conf_path)
    r.connect(timeout=30)
    try:
        r.create_pool("test_pool")
        io = r.open_ioctx("test_pool")
        retval: list[object] = [None]
        lock = threading.Condition()

        def cb(_comp: rados.Completion, buf: bytes | None) -> None:
            with lock:
                retval[0] = buf
                lock.notify()

        io.write("foo", PAYLOAD)

        # 1: wait_for_complete(), then the callback
        _take_down_acting_set(r, "test_pool", "foo")
        comp = io.aio_read("foo", len(PAYLOAD), 0, cb)
        assert comp.is_complete() is False
        time.sleep(HOLD_SECONDS)
        assert comp.is_complete() is False
        with lock:
            assert retval[0] is None
        _let_osds_back_up(r)
        _wait(comp, with_cb=False)
        with lock:
            assert lock.wait_for(lambda: retval[0] is not None, BOUND)
        assert retval[0] == PAYLOAD
        assert sys.getrefcount(comp) == 2

        # 2: wait_for_complete_and_cb(): the callback has run when it returns
        retval[0] = None
        _take_down_acting_set(r, "test_pool", "foo")
        comp = io.aio_read("foo", len(PAYLOAD), 0, cb)
        assert comp.is_complete() is False
        time.sleep(HOLD_SECONDS)
        assert comp.is_complete() is False
        with lock:
            assert retval[0] is None
        _let_osds_back_up(r)
        _wait(comp, with_cb=True)
        assert retval[0] == PAYLOAD
        assert sys.getrefcount(comp) == 2

        # 3: a missing object: the callback gets None and the read fails, once back up
        retval[0] = 1
        _take_down_acting_set(r, "test_pool", "bar")
        comp = io.aio_read("bar", len(PAYLOAD), 0, cb)
        assert comp.is_complete() is False
        time.sleep(HOLD_SECONDS)
        assert comp.is_complete() is False
        with lock:
            assert retval[0] == 1
        _let_osds_back_up(r)
        _wait(comp, with_cb=True)
        assert retval[0] is None
        assert comp.get_return_value() < 0
        assert sys.getrefcount(comp) == 2

        # synchronous I/O works again
        assert io.read("foo") == PAYLOAD
        io.close()
    finally:
        try:
            _let_osds_back_up(r)
        finally:
            r.shutdown()
