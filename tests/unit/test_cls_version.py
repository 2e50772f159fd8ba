"""cls version: implicit creation, inc with conditions, check_conds, set, read."""

from __future__ import annotations

import errno

import msgpack
import pytest

from pyceph.cls.testing import MemObject, make_env, osd_exec
from pyceph.cls.version import (
    VER_COND_EQ,
    VER_COND_GE,
    VER_COND_GT,
    VER_COND_LE,
    VER_COND_LT,
    VER_COND_NONE,
    VER_COND_TAG_EQ,
    VER_COND_TAG_NE,
    VERSION_ATTR,
)


def run(obj, method, env=None, **args):
    return osd_exec(obj, env or make_env(), "version", method, msgpack.packb(args))


def read(obj):
    ret, out = run(obj, "read")
    assert ret == 0, ret
    return msgpack.unpackb(out)["objv"]


def cond(ver, tag, c):
    return {"ver": {"ver": ver, "tag": tag}, "cond": c}


def test_read_inc():
    obj = MemObject()
    assert run(obj, "read")[0] == -errno.ENOENT  # read-only on a missing object
    obj.create()
    assert read(obj) == {"ver": 0, "tag": ""}
    assert run(obj, "inc") == (0, b"")
    v = read(obj)
    assert v["ver"] > 0 and len(v["tag"]) == 24  # upstream: 1:<tag> on creation, then +1
    assert v["ver"] == 2
    assert run(obj, "inc") == (0, b"")
    assert read(obj) == {"ver": 3, "tag": v["tag"]}
    assert VERSION_ATTR in obj.xattrs


def test_inc_creates_the_object():
    obj = MemObject()
    assert run(obj, "inc") == (0, b"")
    assert obj.present and read(obj)["ver"] == 2


def test_tag_is_seeded():
    a, b = MemObject(), MemObject()
    run(a, "inc", make_env(seed=5))
    run(b, "inc", make_env(seed=5))
    assert read(a)["tag"] == read(b)["tag"]


def test_set_and_conds():
    obj = MemObject()
    assert run(obj, "set", objv={"ver": 10, "tag": "foo"}) == (0, b"")
    assert read(obj) == {"ver": 10, "tag": "foo"}
    ok = [
        cond(10, "foo", VER_COND_EQ),
        cond(9, "", VER_COND_GT),
        cond(10, "", VER_COND_GE),
        cond(11, "", VER_COND_LT),
        cond(10, "", VER_COND_LE),
        cond(0, "foo", VER_COND_TAG_EQ),
        cond(0, "bar", VER_COND_TAG_NE),
        cond(0, "", VER_COND_NONE),
        cond(0, "", 99),  # unknown conditions are ignored
    ]
    for c in ok:
        assert run(obj, "check_conds", conds=[c])[0] == 0, c
    assert run(obj, "check_conds", conds=ok)[0] == 0
    bad = [
        cond(10, "bar", VER_COND_EQ),
        cond(11, "foo", VER_COND_EQ),
        cond(10, "", VER_COND_GT),
        cond(11, "", VER_COND_GE),
        cond(10, "", VER_COND_LT),
        cond(9, "", VER_COND_LE),
        cond(0, "bar", VER_COND_TAG_EQ),
        cond(0, "foo", VER_COND_TAG_NE),
    ]
    for c in bad:
        assert run(obj, "check_conds", conds=[c])[0] == -errno.ECANCELED, c
        assert run(obj, "inc_conds", conds=[c])[0] == -errno.ECANCELED, c
        assert run(obj, "inc", conds=ok + [c])[0] == -errno.ECANCELED, c
    assert read(obj) == {"ver": 10, "tag": "foo"}  # failed incs changed nothing
    assert run(obj, "inc_conds", conds=[cond(10, "foo", VER_COND_EQ)]) == (0, b"")
    assert read(obj) == {"ver": 11, "tag": "foo"}


def test_check_conds_without_version():
    obj = MemObject()
    obj.create()
    assert run(obj, "check_conds", conds=[cond(0, "", VER_COND_EQ)])[0] == 0
    assert obj.xattrs == {}  # check never creates the version


@pytest.mark.parametrize(
    "method,indata",
    [
        ("set", b""),
        ("set", msgpack.packb({"objv": 3})),
        ("set", msgpack.packb({"objv": {"ver": -1, "tag": ""}})),
        ("inc", b"\xc1"),
        ("inc", msgpack.packb({"conds": 1})),
        ("inc", msgpack.packb({"conds": [1]})),
        ("check_conds", msgpack.packb({"conds": [{"ver": {"ver": "x"}}]})),
    ],
)
def test_bad_input(method, indata):
    obj = MemObject()
    obj.create()
    assert osd_exec(obj, make_env(), "version", method, indata)[0] == -errno.EINVAL


def test_corrupt_attr_is_eio():
    obj = MemObject()
    obj.setxattr(VERSION_ATTR, b"\xc1")
    assert run(obj, "read")[0] == -errno.EIO
    assert run(obj, "inc")[0] == -errno.EIO
