"""Bad input to the drop-in `rados` module changes nothing and raises upstream's exception.

Each expectation was checked against upstream's binding (Debian's python3-rados 16.2) on
a reference cluster: wrong types raise TypeError (or OverflowError for a negative size),
an object name over osd_max_object_name_len and an xattr name over
osd_max_attr_name_len give OSError errno 36, a write over osd_max_write_size errno 90, a
class outside the OSD's class list PermissionError (errno 1) and an unknown method OSError
errno 95 (both before the object is looked up), a closed Ioctx IoctxStateError and a
shut-down handle RadosStateError.  Also `Ioctx.get_stats` on a fresh pool and after writes.
"""

from __future__ import annotations

import errno

import pytest
from tests.waiting import wait_until

import rados
from rados import ReadOpCtx, WriteOpCtx

#: Upstream defaults of the named bounds.
OSD_MAX_OBJECT_NAME_LEN = 2048
OSD_MAX_ATTR_NAME_LEN = 100
OSD_MAX_WRITE_SIZE = 90 << 20

FRESH_STATS = {
    "num_objects_unfound": 0,
    "num_objects_missing_on_primary": 0,
    "num_object_clones": 0,
    "num_objects": 0,
    "num_object_copies": 0,
    "num_bytes": 0,
    "num_rd_kb": 0,
    "num_wr_kb": 0,
    "num_kb": 0,
    "num_wr": 0,
    "num_objects_degraded": 0,
    "num_rd": 0,
}


def _snapshot(io: rados.Ioctx) -> dict[str, tuple[bytes, dict[str, bytes]]]:
    """Every object's data and xattrs (what a failed call must leave alone)."""
    out = {}
    for o in io.list_objects():
        out[o.key] = (io.read(o.key, 1 << 20), dict(io.get_xattrs(o.key)))
    return out


def _raises(exc: type[BaseException], fn, *args, errno_: int | None = None, **kw):
    with pytest.raises(exc) as ei:
        fn(*args, **kw)
    if errno_ is not None:
        assert ei.value.errno == errno_, ei.value
    return ei.value


# -- wrong types ----------------------------------------------------------------------------
def test_wrong_types_raise_typeerror_and_change_nothing(ioctx):
    io = ioctx
    io.write_full("keep", b"original")
    io.set_xattr("keep", "a", b"1")
    before = _snapshot(io)
    cases = [
        (TypeError, io.write, 1, b"x"),
        (TypeError, io.write, "keep", "str data"),
        (TypeError, io.write, "keep", b"x", "0"),
        (OverflowError, io.write, "keep", b"x", -1),
        (TypeError, io.write_full, "keep", None),
        (TypeError, io.append, b"keep", b"x"),
        (TypeError, io.read, "keep", "10"),
        (TypeError, io.stat, 5),
        (TypeError, io.trunc, "keep", "1"),
        (TypeError, io.remove_object, 3),
        (TypeError, io.set_xattr, "keep", 1, b"v"),
        (TypeError, io.set_xattr, "keep", "n", "v"),
        (TypeError, io.get_xattr, "keep", b"a"),
        (TypeError, io.rm_xattr, "keep", 1),
        (TypeError, io.get_xattrs, 3),
        (TypeError, io.aio_write, 1, b"x"),
        (TypeError, io.aio_write_full, "keep", "x"),
        (TypeError, io.aio_read, "keep", "a", 0, None),
        (TypeError, io.execute, "keep", 1, "say_hello", b""),
        (TypeError, io.execute, "keep", "hello", "say_hello", "str"),
        (TypeError, io.set_namespace, 3),
        (TypeError, io.set_locator_key, 3),
    ]
    for exc, fn, *args in cases:
        _raises(exc, fn, *args)
    with WriteOpCtx() as op:
        _raises(TypeError, io.set_omap, op, (1,), (b"v",))
        _raises(rados.Error, io.set_omap, op, ("a", "b"), (b"v",))
    assert _snapshot(io) == before
    assert io.get_namespace() == "" and io.get_locator_key() == ""


def test_handle_wrong_types(cluster):
    pools = cluster.list_pools()
    _raises(TypeError, cluster.create_pool, 3)
    _raises(TypeError, cluster.open_ioctx, 3)
    _raises(TypeError, cluster.pool_exists, 3)
    _raises(TypeError, cluster.delete_pool, None)
    assert cluster.list_pools() == pools


# -- oversize names and values ---------------------------------------------------------------
def test_object_name_too_long(ioctx):
    io = ioctx
    name = "n" * (OSD_MAX_OBJECT_NAME_LEN + 1)
    for fn, args in (
        (io.write_full, (name, b"x")),
        (io.write, (name, b"x")),
        (io.append, (name, b"x")),
        (io.read, (name,)),
        (io.stat, (name,)),
        (io.set_xattr, (name, "a", b"v")),
    ):
        e = _raises(rados.OSError, fn, *args, errno_=errno.ENAMETOOLONG)
        assert type(e) is rados.OSError
    comp = io.aio_write_full(name, b"x")
    comp.wait_for_complete()
    assert comp.get_return_value() == -errno.ENAMETOOLONG
    assert list(io.list_objects()) == []


def test_namespace_and_locator_too_long(ioctx):
    io = ioctx
    io.set_locator_key("k" * (OSD_MAX_OBJECT_NAME_LEN + 1))
    _raises(rados.OSError, io.write_full, "o", b"x", errno_=errno.ENAMETOOLONG)
    io.set_locator_key("")
    io.set_namespace("s" * 257)  # osd_max_object_namespace_len = 256
    _raises(rados.OSError, io.write_full, "o", b"x", errno_=errno.ENAMETOOLONG)
    io.set_namespace("")
    io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
    assert list(io.list_objects()) == []


def test_object_name_and_locator_at_the_bound(ioctx):
    """Upstream accepts names and locator keys of osd_max_object_name_len bytes."""
    io = ioctx
    name = "n" * OSD_MAX_OBJECT_NAME_LEN
    io.write_full("short", b"s")
    io.write_full(name, b"at the bound")
    io.write(name, b"AT", 0)
    io.append(name, b"!")
    assert io.read(name) == b"AT the bound!"
    assert io.stat(name)[0] == 13
    io.set_xattr(name, "a", b"1")
    assert io.get_xattr(name, "a") == b"1" and dict(io.get_xattrs(name)) == {"a": b"1"}
    comp = io.aio_write_full(name, b"aio")
    comp.wait_for_complete()
    assert comp.get_return_value() == 0 and io.read(name) == b"aio"
    assert sorted(o.key for o in io.list_objects()) == sorted([name, "short"])
    io.set_locator_key("k" * OSD_MAX_OBJECT_NAME_LEN)
    io.write_full("located", b"L")
    assert io.read("located") == b"L"
    io.set_locator_key("")
    located = [o for o in io.list_objects() if o.key == "located"]
    assert [o.locator_key for o in located] == ["k" * OSD_MAX_OBJECT_NAME_LEN]
    e = _raises(rados.OSError, io.write_full, name + "x", b"x", errno_=errno.ENAMETOOLONG)
    assert type(e) is rados.OSError and e.errno == 36
    io.remove_object(name)
    _raises(rados.ObjectNotFound, io.stat, name)
    assert sorted(o.key for o in io.list_objects()) == ["located", "short"]


def test_namespace_at_the_bound(ioctx):
    io = ioctx
    ns = "s" * 256  # osd_max_object_namespace_len
    io.set_namespace(ns)
    io.write_full("o", b"in ns")
    io.set_xattr("o", "a", b"1")
    assert io.read("o") == b"in ns" and io.stat("o")[0] == 5
    assert [o.key for o in io.list_objects()] == ["o"]
    io.set_namespace("")
    _raises(rados.ObjectNotFound, io.read, "o")
    io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
    assert [(o.nspace, o.key) for o in io.list_objects()] == [(ns, "o")]


def test_long_omap_key(ioctx):
    """Upstream has no omap key length bound of its own: a 70,000-byte key works."""
    io = ioctx
    big = "k" * 70_000
    keys = (big, "k" * 600, "a", "z")
    with WriteOpCtx() as op:
        io.set_omap(op, keys, (b"big", b"mid", b"A", b"Z"))
        io.operate_write_op(op, "omap")
    want = sorted(zip(keys, (b"big", b"mid", b"A", b"Z"), strict=True))

    def read(fn, *args):
        with ReadOpCtx() as op:
            it, ret = fn(op, *args)
            io.operate_read_op(op, "omap")
            assert ret == 0
            return list(it)

    assert read(io.get_omap_vals, "", "", 100) == want
    assert read(io.get_omap_vals, "k" * 600, "", 100) == [(big, b"big"), ("z", b"Z")]
    assert read(io.get_omap_vals, "", "k" * 1000, 100) == [(big, b"big")]
    assert read(io.get_omap_vals, "a", "k", 1) == [("k" * 600, b"mid")]
    assert [k for k, _ in read(io.get_omap_keys, "", 100)] == [k for k, _ in want]
    assert dict(read(io.get_omap_vals_by_keys, (big, "nope"))) == {big: b"big"}
    with WriteOpCtx() as op:
        io.remove_omap_keys(op, (big,))
        io.operate_write_op(op, "omap")
    assert read(io.get_omap_vals, "", "", 100) == [w for w in want if w[0] != big]


def test_xattr_name_bound(ioctx):
    io = ioctx
    io.write_full("o", b"data")
    io.set_xattr("o", "n" * OSD_MAX_ATTR_NAME_LEN, b"at the bound")
    _raises(
        rados.OSError,
        io.set_xattr,
        "o",
        "m" * (OSD_MAX_ATTR_NAME_LEN + 1),
        b"v",
        errno_=errno.ENAMETOOLONG,
    )
    assert dict(io.get_xattrs("o")) == {"n" * OSD_MAX_ATTR_NAME_LEN: b"at the bound"}
    # osd_max_attr_size defaults to 0 (no bound): a 64 KiB + 1 value is accepted
    io.set_xattr("o", "big", b"v" * 65537)
    assert io.get_xattr("o", "big") == b"v" * 65537
    assert io.read("o") == b"data"


def test_write_over_osd_max_write_size(ioctx):
    io = ioctx
    io.write_full("o", b"small")
    big = b"x" * (OSD_MAX_WRITE_SIZE + 1)
    _raises(rados.OSError, io.write_full, "o", big, errno_=errno.EMSGSIZE)
    _raises(rados.OSError, io.write_full, "absent", big, errno_=errno.EMSGSIZE)
    assert io.read("o") == b"small"
    _raises(rados.ObjectNotFound, io.stat, "absent")


# -- unknown class / method ---------------------------------------------------------------
def test_unknown_class_and_method(ioctx):
    io = ioctx
    io.write_full("o", b"data")
    for oid in ("o", "absent"):
        e = _raises(rados.PermissionError, io.execute, oid, "nosuchcls", "m", b"")
        assert e.errno == errno.EPERM
        e = _raises(rados.OSError, io.execute, oid, "hello", "nosuchmethod", b"")
        assert type(e) is rados.OSError and e.errno == errno.EOPNOTSUPP
    comp = io.aio_execute("o", "nosuchcls", "m", b"")
    comp.wait_for_complete()
    assert comp.get_return_value() == -errno.EPERM
    with WriteOpCtx() as op:
        op.execute("hello", "nosuchmethod", b"")
        _raises(rados.OSError, io.operate_write_op, op, "absent", errno_=errno.EOPNOTSUPP)
    assert io.read("o") == b"data"
    assert [o.key for o in io.list_objects()] == ["o"]


# -- closed Ioctx, shut-down handle ---------------------------------------------------------
def test_closed_ioctx(cluster, ioctx):
    io = cluster.open_ioctx(ioctx.get_pool_name())
    io.write_full("o", b"data")
    io.close()
    for fn, args in (
        (io.write, ("o", b"x")),
        (io.write_full, ("n", b"x")),
        (io.read, ("o",)),
        (io.stat, ("o",)),
        (io.remove_object, ("o",)),
        (io.get_stats, ()),
        (io.set_namespace, ("x",)),
        (io.set_locator_key, ("x",)),
        (io.list_objects, ()),
        (io.set_xattr, ("o", "a", b"v")),
        (io.aio_write, ("o", b"x")),
        (io.aio_read, ("o", 4, 0, None)),
    ):
        _raises(rados.IoctxStateError, fn, *args)
    with WriteOpCtx() as op:
        op.write_full(b"zz")
        _raises(rados.IoctxStateError, io.operate_write_op, op, "o")
    with ReadOpCtx() as op:
        _raises(rados.IoctxStateError, io.operate_read_op, op, "o")
    io.close()  # closing again is fine
    _raises(TypeError, io.write, 1, b"x")  # types are checked first, as upstream
    assert ioctx.read("o") == b"data"
    assert [o.key for o in ioctx.list_objects()] == ["o"]


def test_shut_down_handle(cluster_conf, ioctx):
    r = rados.Rados(conffile=cluster_conf)
    r.connect(timeout=30)
    pool = ioctx.get_pool_name()
    io = r.open_ioctx(pool)
    r.shutdown()
    assert r.state == "shutdown"
    for fn, args in (
        (r.open_ioctx, (pool,)),
        (r.open_ioctx2, (1,)),
        (r.pool_exists, (pool,)),
        (r.list_pools, ()),
        (r.create_pool, ("never",)),
        (r.delete_pool, (pool,)),
        (r.mon_command, ("{}", b"")),
        (r.get_fsid, ()),
        (r.get_instance_id, ()),
        (r.wait_for_latest_osdmap, ()),
        (r.connect, ()),
        (r.conf_get, ("fsid",)),
    ):
        _raises(rados.RadosStateError, fn, *args)
    _raises(TypeError, r.create_pool, 3)
    r.shutdown()  # again: a no-op
    # upstream crashes on an Ioctx of a shut-down handle; pyceph raises instead
    _raises(rados.Error, io.write_full, "o", b"x")
    _raises(rados.Error, io.aio_write_full, "o", b"x")
    assert list(ioctx.list_objects()) == []
    assert ioctx.get_stats()["num_objects"] == 0


# -- pool statistics -------------------------------------------------------------------------
def test_get_stats_fresh_pool_is_upstreams_zero_dict(ioctx):
    assert ioctx.get_stats() == FRESH_STATS


def test_get_stats_after_writes(ioctx):
    io = ioctx
    for i in range(3):
        io.write_full(f"o{i}", b"x" * 1000)
    io.read("o0")

    def stats() -> dict | None:
        s = io.get_stats()
        return s if s["num_objects"] == 3 and s["num_bytes"] == 3000 and s["num_wr"] >= 3 else None

    s = wait_until(stats, "the three writes in the pool stats", 30)
    assert set(s) == set(FRESH_STATS)
    assert s["num_kb"] >= 2
    assert s["num_object_copies"] >= 3
    assert s["num_objects_unfound"] == 0 and s["num_object_clones"] == 0
