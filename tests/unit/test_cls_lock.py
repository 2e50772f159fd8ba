"""cls lock: exclusive/shared, cookies and tags, renew flags, break, expiry on the op clock,
get_info/list_locks output, ephemeral locks, and upstream's binary encoding of the inputs,
the outputs and the stored lock state (cls_lock_ops.h / cls_lock_types.h)."""

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
    LockInfo,
    decode_output,
    encode_input,
)
from pyceph.cls.testing import MemObject, as_client, at, make_env, osd_exec

T0 = 1_700_000_000.0


@pytest.fixture
def env():
    return make_env(name="client.4123", addr="10.0.0.1:0/1", now=T0)


def call(obj, env, method, **args):
    return osd_exec(obj, env, "lock", method, encode_input(method, args))


def lock(obj, env, name="l", type=LOCK_EXCLUSIVE, cookie="c", tag="", duration=0.0, flags=0,
         description=""):  # fmt: skip
    return call(obj, env, "lock", name=name, type=type, cookie=cookie, tag=tag,
                description=description, duration=duration, flags=flags)[0]  # fmt: skip


def info(obj, env, name="l"):
    ret, out = call(obj, env, "get_info", name=name)
    assert ret == 0, ret
    return decode_output("get_info", out)


def holders(obj, env, name="l"):
    return [(x["locker"], x["cookie"]) for x in info(obj, env, name)["lockers"]]


#: Recorded from Ceph 16.2.15: get_info of an exclusive lock held by client.4852 with cookie
#: "c1", description "hello" and an expiration, from 127.0.0.1:0/1941910857.
UPSTREAM_GET_INFO = bytes.fromhex(
    "0101580000000100000001010f00000008f412000000000000020000006331010134000000fe94026b3063"
    "36140101011c000000010000004935bf7310000000020000007f00000100000000000000000500000068656c"
    "6c6f0100000000"
)


def test_input_encoding_is_upstreams(env):
    """What librados' cls_lock client (and src/rados/_ioctx.py) sends: ENCODE_START(1, 1)
    structs, u32-length strings, a u8 type and flags and a utime_t duration."""
    obj = MemObject()
    data = encode_input(
        "lock",
        {"name": "l", "type": 1, "cookie": "c", "tag": "", "description": "d",
         "duration": 5, "flags": 0},
    )  # fmt: skip
    assert data == bytes.fromhex(
        "0101" "1d000000" "01000000" "6c" "01" "01000000" "63" "00000000" "01000000" "64"
        "05000000" "00000000" "00"
    )  # fmt: skip
    assert osd_exec(obj, env, "lock", "lock", data) == (0, b"")
    assert obj.present and "lock.l" in obj.xattrs  # stored as user xattr lock.<name>
    unl = encode_input("unlock", {"name": "l", "cookie": "c"})
    assert unl == bytes.fromhex("01010a000000010000006c0100000063")
    assert osd_exec(obj, env, "lock", "unlock", unl) == (0, b"")
    assert osd_exec(obj, env, "lock", "unlock", unl) == (-errno.ENOENT, b"")
    assert encode_input("break_lock", {"name": "l", "locker": "client.4123", "cookie": "c"}) == (
        bytes.fromhex("010113000000010000006c081b100000000000000100000063")
    )


def test_upstream_lock_info_roundtrip(env):
    info = LockInfo.decode(UPSTREAM_GET_INFO)
    assert info.encode() == UPSTREAM_GET_INFO
    assert decode_output("get_info", UPSTREAM_GET_INFO) == {
        "lockers": [
            {"locker": "client.4852", "cookie": "c1", "expiration": 1795331326.339108656,
             "addr": "127.0.0.1:0/1941910857", "description": "hello"},
        ],
        "type": LOCK_EXCLUSIVE,
        "tag": "",
    }  # fmt: skip
    # the stored state is the same struct: an upstream OSD's xattr is read as is
    obj = MemObject()
    obj.write_full(b"x")
    obj.setxattr("lock.L", UPSTREAM_GET_INFO)
    ret, out = call(obj, at(env, 1795331000.0), "get_info", name="L")
    assert (ret, out) == (0, UPSTREAM_GET_INFO)
    assert holders(obj, at(env, 1795331400.0), "L") == []  # expired by then


def test_lock_state_is_stored_in_upstreams_encoding(env):
    obj = MemObject()
    assert lock(obj, env, description="d", duration=10) == 0
    stored = obj.xattrs["lock.l"]
    assert LockInfo.decode(stored).to_dict()["lockers"] == [
        {"locker": "client.4123", "cookie": "c", "expiration": T0 + 10,
         "addr": "10.0.0.1:0/1", "description": "d"},
    ]  # fmt: skip
    assert call(obj, env, "get_info", name="l") == (0, stored)


def test_legacy_msgpack_lock_state_is_read(env):
    """pyceph before upstream's encoding stored a msgpack map; it still reads."""
    obj = MemObject()
    obj.write_full(b"")
    legacy = {"lockers": [{"locker": "client.7", "cookie": "c", "expiration": 0.0,
                           "addr": "10.0.0.7:0/7", "description": ""}],
              "type": LOCK_EXCLUSIVE, "tag": ""}  # fmt: skip
    obj.setxattr("lock.l", msgpack.packb(legacy))
    assert holders(obj, env) == [("client.7", "c")]
    assert lock(obj, env) == -errno.EBUSY
    assert call(obj, as_client(env, "client.7"), "unlock", name="l", cookie="c")[0] == 0
    assert LockInfo.decode(obj.xattrs["lock.l"]).lockers == {}


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
    assert (ret, out) == (0, bytes.fromhex("01010e0000000200000001000000610100000062"))
    assert decode_output("list_locks", out) == {"locks": ["a", "b"]}
    # recorded from Ceph 16.2.15: an object without locks
    bare = MemObject()
    bare.write_full(b"x")
    assert call(bare, env, "list_locks") == (0, b"\x01\x01\x04\x00\x00\x00\x00\x00\x00\x00")


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


def _struct(body: bytes, v: int = 1, compat: int = 1) -> bytes:
    return bytes([v, compat]) + len(body).to_bytes(4, "little") + body


def _s(text: bytes) -> bytes:
    return len(text).to_bytes(4, "little") + text


@pytest.mark.parametrize(
    "method,indata",
    [
        ("lock", b""),
        ("lock", b"\x01\x01\x00\x00\x00\x00"),  # an empty struct: fields missing
        ("lock", msgpack.packb({"name": "l", "type": 1})),  # pyceph's old msgpack input
        ("lock", _struct(_s(b"l") + b"\x01", compat=2)),  # a compat version we cannot read
        ("lock", _struct(_s(b"l") + b"\x01")[:-1]),  # shorter than its length
        ("lock", encode_input("lock", {"name": "l", "type": 0})),
        ("lock", encode_input("lock", {"name": "l", "type": 4})),
        ("lock", encode_input("lock", {"name": "", "type": 1})),
        ("lock", _struct(_s(b"\xff") + b"\x01" + _s(b"") * 3 + b"\0" * 9)),  # not UTF-8
        ("unlock", b"junk"),
        ("break_lock", b""),
        ("get_info", _struct(b"\xff\xff\xff\x7f")),  # a string longer than the buffer
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
