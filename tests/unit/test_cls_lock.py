"""cls lock: exclusive/shared, cookies and tags, renew flags, break, expiry on the op clock,
get_info/list_locks output, ephemeral locks, and the rados facade's msgpack input."""

from __future__ import annotations

import errno

import msgpack
import pytest

from pyceph.cls.lock import (
    LOCK_EXCLUSIVE,
    LOCK_EXCLUSIVE_EPHEMERAL,
    LOCK_FLAG_MAY_RENEW,
    LOCK_FLAG_MUST_RENEW,
    LOCK_SHARED,
)
from pyceph.cls.testing import MemObject, as_client, at, make_env, osd_exec

T0 = 1_700_000_000.0


@pytest.fixture
def env():
    return make_env(name="client.4123", addr="10.0.0.1:0/1", now=T0)


def call(obj, env, method, **args):
    return osd_exec(obj, env, "lock", method, msgpack.packb(args))


def lock(obj, env, name="l", type=LOCK_EXCLUSIVE, cookie="c", tag="", duration=0.0, flags=0,
         description=""):  # fmt: skip
    return call(obj, env, "lock", name=name, type=type, cookie=cookie, tag=tag,
                description=description, duration=duration, flags=flags)[0]  # fmt: skip


def info(obj, env, name="l"):
    ret, out = call(obj, env, "get_info", name=name)
    assert ret == 0, ret
    return msgpack.unpackb(out)


def holders(obj, env, name="l"):
    return [(x["locker"], x["cookie"]) for x in info(obj, env, name)["lockers"]]


def test_facade_input_encoding(env):
    """Exactly what src/rados/_ioctx.py sends for lock_exclusive and unlock."""
    obj = MemObject()
    args = {"name": "l", "type": 1, "cookie": "c", "tag": "", "description": "d",
            "duration": 0.0, "flags": 0}  # fmt: skip
    assert osd_exec(obj, env, "lock", "lock", msgpack.packb(args)) == (0, b"")
    assert obj.present and "lock.l" in obj.xattrs  # stored as user xattr lock.<name>
    unl = msgpack.packb({"name": "l", "cookie": "c"})
    assert osd_exec(obj, env, "lock", "unlock", unl) == (0, b"")
    assert osd_exec(obj, env, "lock", "unlock", unl) == (-errno.ENOENT, b"")


def test_exclusive(env):
    obj, other = MemObject(), as_client(env, "client.5000", "10.0.0.2:0/2")
    assert lock(obj, env) == 0
    assert lock(obj, env) == -errno.EEXIST  # same locker, same cookie
    assert lock(obj, env, cookie="c2") == -errno.EBUSY  # same client, other cookie
    assert lock(obj, other) == -errno.EBUSY
    assert lock(obj, other, type=LOCK_SHARED) == -errno.EBUSY
    assert lock(obj, env, name="other-lock") == 0  # locks are independent
    assert call(obj, other, "unlock", name="l", cookie="c")[0] == -errno.ENOENT  # not its lock
    assert call(obj, env, "unlock", name="l", cookie="c")[0] == 0
    assert lock(obj, other) == 0


def test_shared_and_tags(env):
    obj = MemObject()
    b, c = as_client(env, "client.2"), as_client(env, "client.3")
    assert lock(obj, env, type=LOCK_SHARED, tag="t1") == 0
    assert lock(obj, b, type=LOCK_SHARED, tag="t1") == 0
    assert lock(obj, c, type=LOCK_SHARED, tag="t2") == -errno.EBUSY  # tag must match
    assert lock(obj, c, type=LOCK_EXCLUSIVE, tag="t1") == -errno.EBUSY
    assert lock(obj, b, type=LOCK_SHARED, tag="t1") == -errno.EEXIST
    i = info(obj, env)
    assert i["type"] == LOCK_SHARED and i["tag"] == "t1"
    assert holders(obj, env) == [("client.2", "c"), ("client.4123", "c")]
    for e in (env, b):
        assert call(obj, e, "unlock", name="l", cookie="c")[0] == 0
    # no lockers left: a new tag and type are fine
    assert lock(obj, c, type=LOCK_EXCLUSIVE, tag="t2") == 0
    assert info(obj, env)["tag"] == "t2"


def test_tag_checked_before_renew(env):
    obj = MemObject()
    assert lock(obj, env, type=LOCK_SHARED, tag="t1") == 0
    assert lock(obj, env, type=LOCK_SHARED, tag="t2", flags=LOCK_FLAG_MAY_RENEW) == -errno.EBUSY


def test_renew_flags(env):
    obj = MemObject()
    assert lock(obj, env, flags=LOCK_FLAG_MUST_RENEW) == -errno.ENOENT
    assert lock(obj, env, duration=10) == 0
    assert lock(obj, at(env, T0 + 5), duration=10, flags=LOCK_FLAG_MAY_RENEW) == 0
    assert info(obj, env)["lockers"][0]["expiration"] == T0 + 15
    assert lock(obj, at(env, T0 + 6), duration=10, flags=LOCK_FLAG_MUST_RENEW) == 0
    assert info(obj, env)["lockers"][0]["expiration"] == T0 + 16
    both = LOCK_FLAG_MAY_RENEW | LOCK_FLAG_MUST_RENEW
    assert lock(obj, env, flags=both) == -errno.EINVAL
    # MAY_RENEW with nothing held just takes the lock
    assert lock(MemObject(), env, flags=LOCK_FLAG_MAY_RENEW) == 0


def test_expiry_uses_op_clock(env):
    obj = MemObject()
    other = as_client(env, "client.5000")
    assert lock(obj, env, duration=30) == 0
    assert lock(obj, at(other, T0 + 29), duration=30) == -errno.EBUSY
    assert lock(obj, at(other, T0 + 30), duration=30) == -errno.EBUSY  # expires strictly after
    assert holders(obj, at(env, T0 + 31)) == []  # read trims expired lockers
    assert lock(obj, at(other, T0 + 31), duration=30) == 0
    assert holders(obj, at(env, T0 + 31)) == [("client.5000", "c")]
    # the expired owner cannot unlock any more
    assert call(obj, at(env, T0 + 31), "unlock", name="l", cookie="c")[0] == -errno.ENOENT
    # zero duration never expires
    obj2 = MemObject()
    assert lock(obj2, env) == 0
    assert lock(obj2, at(other, T0 + 10**9)) == -errno.EBUSY


def test_break_lock(env):
    obj = MemObject()
    admin = as_client(env, "client.admin")
    assert lock(obj, env, description="held") == 0
    assert call(obj, admin, "break_lock", name="l", locker="client.4124", cookie="c")[0] == (
        -errno.ENOENT
    )
    assert call(obj, admin, "break_lock", name="l", locker="client.4123", cookie="x")[0] == (
        -errno.ENOENT
    )
    assert call(obj, admin, "break_lock", name="l", locker="client.4123", cookie="c")[0] == 0
    assert holders(obj, env) == []
    assert call(MemObject(), admin, "break_lock", name="l", locker="client.1", cookie="c")[0] == (
        -errno.ENOENT
    )


def test_get_info_and_list_locks(env):
    obj = MemObject()
    assert call(obj, env, "get_info", name="l")[0] == -errno.ENOENT  # no object
    assert call(obj, env, "list_locks")[0] == -errno.ENOENT
    obj.write_full(b"x")
    assert info(obj, env) == {"lockers": [], "type": 0, "tag": ""}
    assert lock(obj, env, name="b", type=LOCK_SHARED, tag="T", duration=60, description="d1") == 0
    assert lock(obj, as_client(env, "client.10", "10.0.0.9:0/5"), name="b", type=LOCK_SHARED,
                tag="T", cookie="k") == 0  # fmt: skip
    assert lock(obj, as_client(env, "client.9"), name="b", type=LOCK_SHARED, tag="T") == 0
    assert lock(obj, env, name="a") == 0
    obj.setxattr("unrelated", b"v")
    assert info(obj, env, "b") == {
        "lockers": [
            {"locker": "client.9", "cookie": "c", "expiration": 0.0,
             "addr": "10.0.0.1:0/1", "description": ""},
            {"locker": "client.10", "cookie": "k", "expiration": 0.0,
             "addr": "10.0.0.9:0/5", "description": ""},
            {"locker": "client.4123", "cookie": "c", "expiration": T0 + 60,
             "addr": "10.0.0.1:0/1", "description": "d1"},
        ],
        "type": LOCK_SHARED,
        "tag": "T",
    }  # fmt: skip
    ret, out = call(obj, env, "list_locks")
    assert ret == 0 and msgpack.unpackb(out) == {"locks": ["a", "b"]}


def test_assert_locked(env):
    obj = MemObject()
    obj.write_full(b"")

    def assert_locked(e=env, **kw):
        args = {"name": "l", "type": LOCK_EXCLUSIVE, "cookie": "c", "tag": "t", **kw}
        return call(obj, e, "assert_locked", **args)[0]

    assert assert_locked() == -errno.EBUSY  # not locked
    assert lock(obj, env, tag="t") == 0
    assert assert_locked() == 0
    assert assert_locked(cookie="x") == -errno.EBUSY
    assert assert_locked(tag="u") == -errno.EBUSY
    assert assert_locked(type=LOCK_SHARED) == -errno.EBUSY
    assert assert_locked(e=as_client(env, "client.1")) == -errno.EBUSY
    assert assert_locked(type=0) == -errno.EINVAL
    assert assert_locked(name="") == -errno.EINVAL


def test_set_cookie(env):
    obj = MemObject()
    args = {"name": "l", "type": LOCK_SHARED, "cookie": "c", "tag": "t"}
    assert call(obj, env, "set_cookie", **args, new_cookie="n")[0] == -errno.ENOENT  # no obj
    assert lock(obj, env, type=LOCK_SHARED, tag="t") == 0
    assert lock(obj, env, type=LOCK_SHARED, tag="t", cookie="busy") == 0
    assert call(obj, env, "set_cookie", **args, new_cookie="busy")[0] == -errno.EBUSY
    assert call(obj, env, "set_cookie", **{**args, "cookie": "zz"}, new_cookie="n")[0] == (
        -errno.EBUSY
    )
    assert call(obj, env, "set_cookie", **args, new_cookie="n")[0] == 0
    assert holders(obj, env) == [("client.4123", "busy"), ("client.4123", "n")]


def test_ephemeral(env):
    obj = MemObject()
    assert lock(obj, env, type=LOCK_EXCLUSIVE_EPHEMERAL, duration=10) == 0
    assert obj.present
    assert lock(obj, as_client(env, "client.2"), type=LOCK_EXCLUSIVE_EPHEMERAL) == -errno.EBUSY
    assert call(obj, env, "unlock", name="l", cookie="c")[0] == 0
    assert not obj.present  # the lock object goes away with the lock
    # an expired ephemeral lock is cleaned up when the next locker reads it
    assert lock(obj, env, type=LOCK_EXCLUSIVE_EPHEMERAL, duration=10) == 0
    obj.setxattr("other", b"x")
    assert lock(obj, at(as_client(env, "client.2"), T0 + 11), type=LOCK_EXCLUSIVE_EPHEMERAL) == 0
    assert obj.present and "other" not in obj.xattrs
    assert holders(obj, at(env, T0 + 11)) == [("client.2", "c")]


@pytest.mark.parametrize(
    "method,indata",
    [
        ("lock", b""),
        ("lock", b"\x01\x01\x00\x00\x00\x00"),  # upstream's binary encoding is not accepted
        ("lock", msgpack.packb([1, 2])),
        ("lock", msgpack.packb({"name": 5, "type": 1})),
        ("lock", msgpack.packb({"name": "l", "type": 0})),
        ("lock", msgpack.packb({"name": "l", "type": 4})),
        ("lock", msgpack.packb({"name": "", "type": 1})),
        ("lock", msgpack.packb({"name": "l", "type": 1, "duration": "x"})),
        ("unlock", b"junk"),
        ("break_lock", b""),
    ],
)
def test_bad_input_is_einval(env, method, indata):
    obj = MemObject()
    obj.write_full(b"")
    assert osd_exec(obj, env, "lock", method, indata)[0] == -errno.EINVAL
    assert obj.xattrs == {}


def test_corrupt_lock_xattr_is_eio(env):
    obj = MemObject()
    obj.setxattr("lock.l", b"\xc1garbage")
    assert lock(obj, env) == -errno.EIO
    assert call(obj, env, "get_info", name="l")[0] == -errno.EIO
    assert obj.xattrs == {"lock.l": b"\xc1garbage"}


def test_failed_lock_changes_nothing(env):
    obj = MemObject()
    assert lock(obj, env, duration=10) == 0
    before = dict(obj.xattrs), len(obj.log)
    # expiry trimming happens in memory only: a failing op writes nothing back
    assert lock(obj, at(as_client(env, "client.2"), T0 + 5)) == -errno.EBUSY
    assert (dict(obj.xattrs), len(obj.log)) == before
