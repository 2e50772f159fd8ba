"""cls refcount: get/put/set/read, implicit wildcard refs, retired tags, removal on last put."""

from __future__ import annotations

import errno

import msgpack

from pyceph.cls.refcount import REFCOUNT_ATTR
from pyceph.cls.testing import MemObject, make_env, osd_exec


def run(obj, method, **args):
    return osd_exec(obj, make_env(), "refcount", method, msgpack.packb(args))


def refs(obj, implicit_ref=False):
    ret, out = run(obj, "read", implicit_ref=implicit_ref)
    assert ret == 0, ret
    return msgpack.unpackb(out)["refs"]


def test_missing_object():
    obj = MemObject()
    assert run(obj, "get", tag="a")[0] == -errno.ENOENT
    assert run(obj, "put", tag="a")[0] == -errno.ENOENT
    assert run(obj, "read")[0] == -errno.ENOENT
    assert not obj.present


def test_get_put_removes_on_last():
    obj = MemObject()
    obj.write_full(b"data")
    assert refs(obj) == []
    assert run(obj, "get", tag="a") == (0, b"")
    assert run(obj, "get", tag="b") == (0, b"")
    assert run(obj, "get", tag="b") == (0, b"")  # idempotent
    assert refs(obj) == ["a", "b"]
    assert run(obj, "put", tag="zzz") == (0, b"")  # unknown tag: no-op
    assert run(obj, "put", tag="a") == (0, b"")
    assert refs(obj) == ["b"]
    assert run(obj, "put", tag="b") == (0, b"")
    assert not obj.present  # the last put removed the object


def test_put_without_refs_is_einval():
    obj = MemObject()
    obj.write_full(b"data")
    assert run(obj, "put", tag="a")[0] == -errno.EINVAL
    assert obj.present


def test_implicit_ref():
    obj = MemObject()
    obj.write_full(b"data")
    assert refs(obj, implicit_ref=True) == [""]
    assert run(obj, "get", tag="a", implicit_ref=True) == (0, b"")
    assert refs(obj) == ["", "a"]
    # putting an unknown tag with implicit_ref drops the wildcard instead
    assert run(obj, "put", tag="x", implicit_ref=True) == (0, b"")
    assert refs(obj) == ["a"]
    # and the same tag again is retired: no second drop
    assert run(obj, "put", tag="x", implicit_ref=True) == (0, b"")
    assert refs(obj) == ["a"] and obj.present
    # a fresh object with the implicit ref goes away on the first put
    obj2 = MemObject()
    obj2.write_full(b"d")
    assert run(obj2, "put", tag="t", implicit_ref=True) == (0, b"")
    assert not obj2.present


def test_retired_tag_is_not_put_twice():
    obj = MemObject()
    obj.write_full(b"data")
    for t in ("a", "b", "c"):
        assert run(obj, "get", tag=t)[0] == 0
    assert run(obj, "put", tag="a")[0] == 0
    assert run(obj, "get", tag="a")[0] == 0  # re-added, but "a" stays retired
    assert run(obj, "put", tag="a")[0] == 0
    assert refs(obj) == ["a", "b", "c"]


def test_set():
    obj = MemObject()
    obj.write_full(b"data")
    assert run(obj, "set", refs=["x", "y", "x"]) == (0, b"")
    assert refs(obj) == ["x", "y"]
    assert run(obj, "set", refs=[]) == (0, b"")
    assert not obj.present
    assert run(obj, "set", refs=[])[0] == -errno.ENOENT  # remove of a missing object


def test_bad_input_and_corrupt_attr():
    obj = MemObject()
    obj.write_full(b"data")
    assert osd_exec(obj, make_env(), "refcount", "get", b"")[0] == -errno.EINVAL
    assert osd_exec(obj, make_env(), "refcount", "read", b"")[0] == -errno.EINVAL
    assert run(obj, "set", refs="notalist")[0] == -errno.EINVAL
    assert run(obj, "set", refs=[1])[0] == -errno.EINVAL
    obj.setxattr(REFCOUNT_ATTR, b"\xc1")
    assert run(obj, "get", tag="a")[0] == -errno.EIO
