"""Object-class framework: registry rules, the method context's cls_cxx_* semantics, staging
and atomicity, the overlay, and the store adapters."""

from __future__ import annotations

import errno
import random

import pytest

from pyceph.cls import (
    MAX_INPUT_LEN,
    MAX_WRITE_REPLY_LEN,
    PROMOTE,
    RD,
    WR,
    CallEnv,
    ClsError,
    MethodContext,
    ObjectOverlay,
    ObjectState,
    StoreReader,
    TransactionWriter,
    call,
    load_classes,
    lookup,
    method_flags,
    write_reply,
)
from pyceph.cls import registry as reg
from pyceph.cls.registry import ClassRegistry
from pyceph.cls.testing import MemObject, make_env
from pyceph.store import MemStore, ObjectKey, Transaction


@pytest.fixture
def env() -> CallEnv:
    return make_env()


@pytest.fixture
def r() -> ClassRegistry:
    return ClassRegistry()


def existing(data: bytes = b"", **xattrs: bytes) -> MemObject:
    return MemObject(present=True, data=bytearray(data), xattrs=dict(xattrs))


# -- registry ---------------------------------------------------------------------------------
def test_classes_load_automatically():
    assert {"hello", "lock", "version", "refcount"} <= set(load_classes())
    assert lookup("hello", "say_hello").flags == RD
    assert method_flags("lock", "lock") == RD | WR | PROMOTE
    assert method_flags("lock", "nope") is None
    assert method_flags("nope", "lock") is None


def test_unknown_class_or_method_is_eopnotsupp(env):
    obj = existing()
    assert call(obj, env, "nosuchclass", "x", b"") == (-errno.EOPNOTSUPP, b"")
    assert call(obj, env, "hello", "nosuchmethod", b"") == (-errno.EOPNOTSUPP, b"")


def test_register_validates_flags_and_duplicates(r):
    with pytest.raises(ValueError):
        r.register("c", "m", 0)
    with pytest.raises(ValueError):
        r.register("c", "m", RD | 0x100)

    def f(ctx, indata):
        return 0

    def g(ctx, indata):
        return 0

    r.register("c", "m", RD)(f)
    r.register("c", "m", RD)(f)  # same function again: fine (module reload)
    with pytest.raises(ValueError):
        r.register("c", "m", RD)(g)


def test_result_forms(r, env):
    r.register("c", "none", RD)(lambda ctx, i: None)
    r.register("c", "bytes", RD)(lambda ctx, i: b"x")
    r.register("c", "int", RD)(lambda ctx, i: 7)
    r.register("c", "pair", RD)(lambda ctx, i: (-errno.EINVAL, b"why"))

    def raises(ctx, i):
        raise ClsError(errno.ENOSPC, "full", out=b"partial")

    r.register("c", "raises", RD)(raises)
    obj = existing()
    assert r.call(obj, env, "c", "none", b"") == (0, b"")
    assert r.call(obj, env, "c", "bytes", b"") == (0, b"x")
    assert r.call(obj, env, "c", "int", b"") == (7, b"")
    assert r.call(obj, env, "c", "pair", b"") == (-errno.EINVAL, b"why")
    assert r.call(obj, env, "c", "raises", b"") == (-errno.ENOSPC, b"partial")


def test_unexpected_exception_is_eio_and_discards(r, env):
    def boom(ctx, i):
        ctx.setxattr("a", b"1")
        raise RuntimeError("bug")

    r.register("c", "boom", WR)(boom)
    obj = existing()
    assert r.call(obj, env, "c", "boom", b"") == (-errno.EIO, b"")
    assert obj.xattrs == {} and obj.log == []


def test_rd_wr_flags_enforced(r, env):
    def reads(ctx, i):
        return ctx.getxattr("a")

    def writes(ctx, i):
        ctx.setxattr("a", b"2")
        return b"out"

    def stats(ctx, i):
        return str(ctx.stat()[0]).encode()

    r.register("c", "reads_wr", WR)(reads)
    r.register("c", "writes_rd", RD)(writes)
    r.register("c", "stat_wr", WR)(stats)
    obj = existing(b"abc", a=b"1")
    assert r.call(obj, env, "c", "reads_wr", b"") == (-errno.EIO, b"")
    assert r.call(obj, env, "c", "writes_rd", b"") == (-errno.EIO, b"")
    assert obj.xattrs == {"a": b"1"} and obj.log == []
    # stat does not count as a read (upstream: "stat does not require RD")
    assert r.call(obj, env, "c", "stat_wr", b"") == (0, b"3")


def test_input_and_output_bounds(r, env, monkeypatch):
    r.register("c", "echo", RD)(lambda ctx, i: i)

    def big_write(ctx, i):
        ctx.setxattr("a", b"1")
        return b"x" * 33

    r.register("c", "big", WR)(big_write)
    obj = existing()
    assert r.call(obj, env, "c", "echo", b"12345") == (0, b"12345")
    monkeypatch.setattr(reg, "MAX_INPUT_LEN", 4)
    monkeypatch.setattr(reg, "MAX_OUTPUT_LEN", 32)
    assert r.call(obj, env, "c", "echo", b"12345") == (-errno.E2BIG, b"")
    assert r.call(obj, env, "c", "big", b"") == (-errno.EOVERFLOW, b"")
    assert obj.xattrs == {}
    assert MAX_INPUT_LEN >= 32 << 20


def test_write_reply():
    assert write_reply(42, b"data", returnvec=False) == (0, b"")
    assert write_reply(42, b"data", returnvec=True) == (42, b"data")
    big = b"x" * (MAX_WRITE_REPLY_LEN + 1)
    assert write_reply(42, big, returnvec=True) == (-errno.EOVERFLOW, b"")
    assert write_reply(-errno.EINVAL, b"why", returnvec=False) == (-errno.EINVAL, b"why")


# -- atomicity ------------------------------------------------------------------------------------
def test_failed_method_keeps_no_writes(r, env):
    def partial(ctx, i):
        ctx.write_full(b"new")
        ctx.setxattr("x", b"1")
        ctx.map_set_val("k", b"v")
        return -errno.ECANCELED, b"no"

    r.register("c", "partial", WR)(partial)
    obj = existing(b"old")
    assert r.call(obj, env, "c", "partial", b"") == (-errno.ECANCELED, b"no")
    assert obj.data == b"old" and obj.xattrs == {} and obj.omap == {} and obj.log == []


def test_successful_method_commits_in_order(r, env):
    def many(ctx, i):
        ctx.write(0, b"hello")
        ctx.setxattr("x", b"1")
        ctx.map_set_vals({"a": b"1", "b": b"2"})
        ctx.map_remove_key("a")
        ctx.map_write_header(b"H")
        return 1

    r.register("c", "many", WR)(many)
    obj = MemObject()
    assert r.call(obj, env, "c", "many", b"") == (1, b"")
    assert obj.present and obj.data == b"hello" and obj.xattrs == {"x": b"1"}
    assert obj.omap == {"b": b"2"} and obj.header == b"H"
    assert [e[0] for e in obj.log] == [
        "write",
        "setxattr",
        "omap_set",
        "omap_rm",
        "omap_set_header",
    ]


def test_method_reads_its_own_writes(env):
    obj = existing(b"0123456789", a=b"old")
    obj.omap = {"k1": b"v1", "k2": b"v2"}
    ctx = MethodContext(obj, env)
    ctx.write(8, b"AB")
    ctx.write(12, b"Z")
    assert ctx.read(0, 0) == b"01234567AB\0\0Z"
    assert ctx.stat()[0] == 13
    ctx.setxattr("a", b"new")
    ctx.rmxattr("missing")
    assert ctx.getxattr("a") == b"new"
    ctx.map_remove_key("k1")
    ctx.map_set_val("k3", b"v3")
    assert ctx.map_get_vals() == ({"k2": b"v2", "k3": b"v3"}, False)
    assert obj.data == b"0123456789" and obj.omap == {"k1": b"v1", "k2": b"v2"}  # not yet
    ctx.commit()
    assert obj.data == b"01234567AB\0\0Z" and obj.xattrs["a"] == b"new"
    assert obj.omap == {"k2": b"v2", "k3": b"v3"}


def test_remove_then_recreate_within_a_method(env):
    obj = existing(b"data", a=b"1")
    obj.omap = {"k": b"v"}
    ctx = MethodContext(obj, env)
    ctx.remove()
    assert not ctx.exists()
    with pytest.raises(ClsError) as ei:
        ctx.stat()
    assert ei.value.errno == errno.ENOENT
    ctx.create(exclusive=True)
    assert ctx.stat()[0] == 0 and ctx.getxattrs() == {} and ctx.map_get_vals() == ({}, False)
    ctx.commit()
    assert obj.present and obj.data == b"" and obj.xattrs == {} and obj.omap == {}


# -- cls_cxx_* semantics ---------------------------------------------------------------------------
def _err(fn, *a) -> int:
    with pytest.raises(ClsError) as ei:
        fn(*a)
    return ei.value.errno


def test_missing_object_errnos(env):
    ctx = MethodContext(MemObject(), env)
    assert _err(ctx.stat) == errno.ENOENT
    assert _err(ctx.read, 0, 10) == errno.ENOENT
    assert _err(ctx.getxattr, "a") == errno.ENOENT
    assert _err(ctx.getxattrs) == errno.ENOENT
    assert _err(ctx.remove) == errno.ENOENT
    assert _err(ctx.rmxattr, "a") == errno.ENOENT
    assert _err(ctx.map_remove_key, "k") == errno.ENOENT
    assert _err(ctx.map_remove_range, "a", "z") == errno.ENOENT
    assert _err(ctx.map_clear) == errno.ENOENT
    assert _err(ctx.map_get_val, "k") == errno.ENOENT
    # omap reads of a missing object are empty; truncate/zero are no-ops
    assert ctx.map_get_vals() == ({}, False)
    assert ctx.map_get_keys() == ([], False)
    assert ctx.map_read_header() == b""
    ctx.truncate(10)
    ctx.write_zero(0, 10)
    assert ctx.pending == [] and not ctx.exists()


def test_existing_object_errnos_and_limits(env):
    ctx = MethodContext(existing(b"abc"), env)
    assert _err(ctx.create, True) == errno.EEXIST
    ctx.create(False)  # fine, no-op
    assert ctx.pending == []
    assert _err(ctx.getxattr, "nope") == errno.ENODATA
    assert _err(ctx.map_get_val, "nope") == errno.ENOENT
    assert _err(ctx.read, -1, 1) == errno.EINVAL
    assert _err(ctx.write, env.max_object_size, b"x") == errno.EFBIG
    assert _err(ctx.setxattr, "n" * (env.max_attr_name_len + 1), b"") == errno.ENAMETOOLONG
    small = CallEnv(max_attr_size=4)
    assert _err(MethodContext(existing(), small).setxattr, "a", b"12345") == errno.EFBIG


def test_data_ops(env):
    obj = existing(b"abcdefgh")
    ctx = MethodContext(obj, env)
    assert ctx.read(2, 3) == b"cde"
    assert ctx.read(6, 100) == b"gh"
    assert ctx.read(100, 1) == b""
    ctx.write_zero(6, 100)  # clipped: never extends
    assert ctx.read() == b"abcdef\0\0"
    ctx.truncate(4)
    assert ctx.read() == b"abcd"
    ctx.truncate(6)
    assert ctx.read() == b"abcd\0\0"
    ctx.replace(1, b"Z")
    assert ctx.read() == b"\0Z"
    ctx.write_full(b"full")
    assert ctx.read() == b"full" and ctx.stat()[0] == 4
    ctx.commit()
    assert obj.data == b"full"


def test_omap_paging_and_cap(env):
    obj = existing()
    obj.omap = {f"k{i:03d}": b"%d" % i for i in range(20)}
    obj.omap["other"] = b"o"
    ctx = MethodContext(obj, CallEnv(max_omap_entries=8))
    vals, more = ctx.map_get_vals("", "k", 5)
    assert list(vals) == [f"k{i:03d}" for i in range(5)] and more
    vals, more = ctx.map_get_vals("k014", "k", 100)
    assert list(vals) == [f"k{i:03d}" for i in range(15, 20)] and not more
    vals, more = ctx.map_get_vals("", "", 100)  # capped at max_omap_entries
    assert len(vals) == 8 and more
    keys, more = ctx.map_get_keys("k017", 10)
    assert keys == ["k018", "k019", "other"] and not more
    assert ctx.map_get_vals_by_keys(["k001", "zzz"]) == {"k001": b"1"}
    ctx.map_remove_range("k000", "k018")
    assert ctx.map_get_keys()[0] == ["k018", "k019", "other"]
    ctx.map_set_val("k005", b"back")
    assert ctx.map_get_keys()[0] == ["k005", "k018", "k019", "other"]
    assert ctx.map_get_val("k005") == b"back"
    assert _err(ctx.map_get_val, "k004") == errno.ENOENT
    ctx.map_clear()
    assert ctx.map_get_vals() == ({}, False) and ctx.map_read_header() == b""
    ctx.map_write_header(b"hdr")
    ctx.commit()
    assert obj.omap == {} and obj.header == b"hdr"


def test_env_accessors():
    env = make_env(name="client.9", addr="1.2.3.4:0/7", now=123.5, seed=3)
    env = CallEnv(**{**env.__dict__, "current_version": 17, "subop_num": 2})
    ctx = MethodContext(MemObject(), env, flags=RD)
    assert ctx.origin.name == "client.9" and str(ctx.origin) == "client.9 1.2.3.4:0/7"
    assert ctx.now == 123.5 and ctx.current_version == 17 and ctx.subop_num == 2
    assert ctx.flags == RD
    tag = ctx.gen_rand_base64(24)
    assert len(tag) == 24
    ctx2 = MethodContext(MemObject(), make_env(seed=3))
    assert ctx2.gen_rand_base64(24) == tag  # deterministic given the seed


# -- overlay equivalence ----------------------------------------------------------------------------
def _snapshot(o: ObjectState) -> tuple:
    if not o.exists():
        return (False,)
    size = o.stat()[0]
    return (
        True,
        o.read(0, None),
        size,
        o.getxattrs(),
        o.omap_get_values(None, None, None),
        o.omap_get_header(),
    )


def test_overlay_matches_direct_application():
    """Random mutation sequences: the overlay's reads equal a direct application's, and
    replaying its log onto the base gives the same object."""
    rng = random.Random(7)
    for _ in range(300):
        base = existing(bytes(rng.randrange(256) for _ in range(rng.randrange(12))))
        base.present = rng.random() < 0.8
        if not base.present:
            base.data = bytearray()
        else:
            base.xattrs = {"a": b"1", "b": b"2"}
            base.omap = {"k1": b"1", "k3": b"3", "k5": b"5"}
            base.header = b"h"
        direct = MemObject(
            base.present, bytearray(base.data), 0.0, dict(base.xattrs), dict(base.omap), base.header
        )
        ov = ObjectOverlay(base)
        for _ in range(rng.randrange(1, 8)):
            op = rng.choice(
                ["write", "write_full", "truncate", "zero", "remove", "create", "setxattr",
                 "rmxattr", "omap_set", "omap_rm", "omap_rm_range", "omap_clear", "header"]
            )  # fmt: skip
            exists = direct.exists()
            size = direct.stat()[0]
            if op == "write":
                args = (rng.randrange(16), bytes([rng.randrange(256)]) * rng.randrange(1, 5))
            elif op == "write_full":
                args = (b"F" * rng.randrange(6),)
            elif op == "truncate" and exists:
                args = (rng.randrange(16),)
            elif op == "zero" and exists and size:
                off = rng.randrange(size)
                args = (off, rng.randrange(1, size - off + 1))
            elif (op in ("remove", "omap_clear") and exists) or op == "create":
                args = ()
            elif op == "setxattr":
                args = (rng.choice("abc"), b"v%d" % rng.randrange(9))
            elif op == "rmxattr" and exists:
                args = (rng.choice("abc"),)
            elif op == "omap_set":
                args = ({f"k{rng.randrange(7)}": b"n"},)
            elif op == "omap_rm" and exists:
                args = ([f"k{rng.randrange(7)}"],)
            elif op == "omap_rm_range" and exists:
                a, b = sorted((rng.randrange(7), rng.randrange(7)))
                args = (f"k{a}", f"k{b}")
            elif op == "header":
                op, args = "omap_set_header", (b"H",)
            else:
                continue
            getattr(direct, op)(*args)
            getattr(ov, op)(*args)
            assert _snapshot(ov) == _snapshot(direct), (op, args)
            assert ov.omap_get_values("k2", "k", 2) == direct.omap_get_values("k2", "k", 2)
            assert ov.omap_get_values_by_keys(["k1", "k4"]) == direct.omap_get_values_by_keys(
                ["k1", "k4"]
            )
        ov.apply_to(base)
        assert _snapshot(base) == _snapshot(direct)


# -- store adapters ---------------------------------------------------------------------------------
def test_store_reader_and_transaction_writer(env, r):
    """The OSD-side recipe: overlay over the committed store object, method via the registry,
    flush into a Transaction, apply, read back."""
    store = MemStore(1 << 26)
    store.mkfs()
    store.mount()
    cid, key = "1.0_head", ObjectKey("obj")
    t = Transaction().create_collection(cid)
    t.write(cid, key, 0, b"abcdef").setattr(cid, key, "_a", b"1").setattr(cid, key, "oi", b"x")
    t.omap_setkeys(cid, key, {"k1": b"v1", "k2": b"v2"}).omap_setheader(cid, key, b"H")
    store.apply_transaction(t)

    def method(ctx, i):
        assert ctx.read(0, 3) == b"abc"
        assert ctx.getxattrs() == {"a": b"1"}  # internal attrs hidden
        assert ctx.map_get_vals() == ({"k1": b"v1", "k2": b"v2"}, False)
        assert ctx.map_read_header() == b"H"
        ctx.write(3, b"XYZW")
        ctx.setxattr("b", b"2")
        ctx.map_remove_key("k1")
        assert ctx.read() == b"abcXYZW"
        return 0

    r.register("c", "m", RD | WR)(method)
    view = ObjectOverlay(StoreReader(store, cid, key, exists=True, mtime=5.0))
    assert view.stat() == (6, 5.0)
    assert r.call(view, env, "c", "m", b"") == (0, b"")
    txn = Transaction()
    view.apply_to(TransactionWriter(txn, cid, key))
    store.apply_transaction(txn)
    assert store.read(cid, key) == b"abcXYZW"
    assert store.getattr(cid, key, "_b") == b"2"
    assert store.omap_get_values(cid, key) == [("k2", b"v2")]

    missing = StoreReader(store, cid, ObjectKey("nope"))
    assert not missing.exists()
    assert StoreReader(store, cid, key).getxattr("zz") is None
    # created by an earlier op of the vector, not in the store yet: reads as empty
    fresh = StoreReader(store, cid, ObjectKey("new"), exists=True, size=0)
    assert fresh.exists() and fresh.stat() == (0, 0.0) and fresh.read(0, None) == b""
    assert fresh.getxattrs() == {} and fresh.getxattr("a") is None
    assert fresh.omap_get_values(None, None, None) == [] and fresh.omap_get_header() == b""
    r.register("c", "attrs", RD)(lambda ctx, i: repr(ctx.getxattrs()).encode())
    assert r.call(ObjectOverlay(fresh), env, "c", "attrs", b"") == (0, b"{}")
