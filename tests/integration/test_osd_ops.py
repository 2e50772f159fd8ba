"""OSD op semantics over real sockets: a real monitor, mgr and three OSD processes."""

from __future__ import annotations

import json

import pytest

import rados
from pyceph.cli.localcluster import LocalCluster


@pytest.fixture(scope="module")
def ioctx(shared_cluster: LocalCluster):
    r = rados.Rados(conffile=shared_cluster.conf_path)
    r.connect(timeout=30)
    cmd = {"prefix": "osd pool create", "pool": "osd_ops", "pg_num": 8}
    ret, _out, outs = r.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs
    io = r.open_ioctx("osd_ops")
    try:
        yield io
    finally:
        io.close()
        r.shutdown()


def test_errnos_match_upstream(ioctx):
    with pytest.raises(rados.ObjectNotFound):
        ioctx.stat("nope")
    with pytest.raises(rados.ObjectNotFound):
        ioctx.read("nope")
    ioctx.write_full("x", b"hello")
    assert ioctx.read("x", 10, 100) == b""  # beyond EOF: zero bytes
    with pytest.raises(rados.NoData):
        ioctx.get_xattr("x", "missing")
    op = ioctx.create_write_op()
    op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
    with pytest.raises(rados.ObjectExists):
        ioctx.operate_write_op(op, "x")
    ioctx.release_write_op(op)


def test_write_append_xattrs_and_listing(ioctx):
    ioctx.write_full("a", b"12")
    ioctx.append("a", b"34")
    ioctx.write("a", b"Z", 1)
    assert ioctx.read("a") == b"1Z34"
    assert ioctx.stat("a")[0] == 4
    ioctx.set_xattr("a", "k", b"v")
    assert dict(ioctx.get_xattrs("a")) == {"k": b"v"}
    names = {f"list-{i}" for i in range(30)}
    for n in names:
        ioctx.write_full(n, b"d")
    listed = {o.key for o in ioctx.list_objects()}
    assert names <= listed
    ioctx.remove_object("a")
    with pytest.raises(rados.ObjectNotFound):
        ioctx.stat("a")
