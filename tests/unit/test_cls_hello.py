"""cls hello: upstream's test_cls_hello.cc sequences, through the OSD-level rules."""

from __future__ import annotations

import errno

from pyceph.cls.testing import MemObject, make_env, osd_exec


def test_say_hello():
    env, obj = make_env(), MemObject()
    # a read-only method on a missing object never runs
    assert osd_exec(obj, env, "hello", "say_hello") == (-errno.ENOENT, b"")
    obj.write_full(b"")
    assert osd_exec(obj, env, "hello", "say_hello") == (0, b"Hello, world!")
    assert osd_exec(obj, env, "hello", "say_hello", b"Tester") == (0, b"Hello, Tester!")
    assert osd_exec(obj, env, "hello", "say_hello", b"\1" * 4096)[0] == -errno.EINVAL
    assert osd_exec(obj, env, "hello", "say_hello", b"x" * 100)[0] == 0
    assert osd_exec(obj, env, "hello", "say_hello", b"x" * 101)[0] == -errno.EINVAL


def test_record_hello_and_replay():
    env = make_env(name="client.4123", addr="127.0.0.1:0/99")
    a, b = MemObject(), MemObject()
    assert osd_exec(a, env, "hello", "record_hello") == (0, b"")
    assert osd_exec(a, env, "hello", "record_hello") == (-errno.EEXIST, b"")
    assert osd_exec(b, env, "hello", "record_hello", b"Tester") == (0, b"")
    assert osd_exec(b, env, "hello", "record_hello", b"Tester") == (-errno.EEXIST, b"")
    assert osd_exec(a, env, "hello", "replay") == (0, b"Hello, world!")
    assert osd_exec(b, env, "hello", "replay") == (0, b"Hello, Tester!")
    assert a.xattrs["said_by"] == b"client.4123 127.0.0.1:0/99"
    c = MemObject()
    assert osd_exec(c, env, "hello", "record_hello", b"x" * 101)[0] == -errno.EINVAL
    assert not c.present


def test_write_return_data():
    env = make_env()
    obj, obj2, foo = MemObject(), MemObject(), MemObject()
    # without RETURNVEC a successful write returns 0 and no data
    assert osd_exec(obj, env, "hello", "write_return_data") == (0, b"")
    assert obj.xattrs == {"foo": b"bar"}
    # an error returns data, and the setxattr before it is not applied
    assert osd_exec(obj2, env, "hello", "write_return_data", b"\1" * 4096) == (
        -errno.EINVAL,
        b"too much input data!",
    )
    assert not obj2.present and obj2.xattrs == {}
    # with RETURNVEC the value and data get through
    assert osd_exec(foo, env, "hello", "write_return_data", returnvec=True) == (
        42,
        b"you might see this",
    )
    # the legacy name is the same method
    assert osd_exec(MemObject(), env, "hello", "writes_dont_return_data") == (0, b"")
    # too much reply data for a write
    big = MemObject()
    r = osd_exec(big, env, "hello", "write_too_much_return_data", returnvec=True)
    assert r == (-errno.EOVERFLOW, b"")
    assert osd_exec(big, env, "hello", "write_too_much_return_data") == (0, b"")


def test_loud():
    env, obj = make_env(), MemObject()
    assert osd_exec(obj, env, "hello", "record_hello") == (0, b"")
    assert osd_exec(obj, env, "hello", "replay") == (0, b"Hello, world!")
    assert osd_exec(obj, env, "hello", "turn_it_to_11") == (0, b"")
    assert osd_exec(obj, env, "hello", "replay") == (0, b"HELLO, WORLD!")
    assert obj.xattrs["amplified_by"] == str(env.origin).encode()
    assert osd_exec(obj, env, "hello", "turn_it_to_11", b"x") == (-errno.EINVAL, b"")
    # turn_it_to_11 is a writer: on a missing object it runs and reads -> ENOENT
    assert osd_exec(MemObject(), env, "hello", "turn_it_to_11") == (-errno.ENOENT, b"")


def test_replay_reads_at_most_1100_bytes():
    env, obj = make_env(), MemObject()
    obj.write_full(b"a" * 2000)
    ret, out = osd_exec(obj, env, "hello", "replay")
    assert ret == 0 and out == b"a" * 1100


def test_bad_methods():
    env, obj = make_env(), MemObject()
    obj.write_full(b"")
    assert osd_exec(obj, env, "hello", "bad_reader") == (-errno.EIO, b"")
    assert osd_exec(obj, env, "hello", "bad_writer", b"data") == (-errno.EIO, b"")
    assert obj.data == b""
