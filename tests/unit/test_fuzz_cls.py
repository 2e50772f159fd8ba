"""Fuzzing the object-class argument decoders (issue 10 item 4): every registered method
of the `rbd`, `lock`, `version` and `refcount` classes, called with fuzzed input against
in-memory objects in several states. A method either succeeds or raises a CephError with
an errno (upstream: the method returns -EINVAL when `decode` throws); never any other
exception; and a method that fails leaves the object exactly as it was."""

from __future__ import annotations

import copy
import struct

import msgpack
from hypothesis import example, given
from hypothesis import strategies as st
from tests.unit.fuzzing import fuzz

from pyceph.cls.context import MethodContext
from pyceph.cls.registry import REGISTRY, call, load_classes
from pyceph.cls.testing import MemObject, make_env
from pyceph.common.errors import CephError
from pyceph.store.errors import StoreError

CLASSES = ("rbd", "lock", "version", "refcount")
load_classes()
METHODS = sorted((c, m) for c in CLASSES for m in REGISTRY.classes[c])
ENV = make_env(now=1_700_000_000.5)


def _create_image() -> bytes:
    # cls_client::create_image: size u64, order u8, features u64, object_prefix, pool i64
    prefix = b"rbd_data.1234abcd"
    return (
        struct.pack("<QBQ", 10 << 20, 22, 1 | 4)  # layering | exclusive-lock
        + struct.pack("<I", len(prefix))
        + prefix
        + struct.pack("<q", -1)
    )


def _state(kind: str) -> MemObject:
    obj = MemObject()
    if kind == "empty":
        obj.create()
    elif kind == "image":
        ret, _ = call(obj, ENV, "rbd", "create", _create_image())
        assert ret == 0
    elif kind == "cluttered":
        obj.write_full(b"\xff" * 64)
        obj.setxattr("lock.rbd_lock", b"\x01\x01\x00")
        obj.setxattr("ceph.objclass.version", b"\x07")
        obj.omap_set({"snapshot_\x00": b"\x01", "features": b"\x00\x01", "size": b"x"})
        obj.omap_set_header(b"\x02\x02")
    return obj


STATES = ("missing", "empty", "image", "cluttered")
u64 = st.integers(0, 2**64 - 1).map(lambda v: struct.pack("<Q", v))
u32 = st.integers(0, 2**32 - 1).map(lambda v: struct.pack("<I", v))
u8 = st.integers(0, 255).map(lambda v: bytes([v]))
strings = st.binary(max_size=24).map(lambda b: struct.pack("<I", len(b)) + b)
#: Sequences of denc primitives: most inputs get past the first field or two.
denc = st.lists(st.one_of(u64, u32, u8, strings), max_size=8).map(b"".join)
#: msgpack maps (the refcount class and pyceph's msgpack-argued methods).
mp_values = st.one_of(
    st.none(), st.integers(-(2**63), 2**64 - 1), st.text(max_size=8), st.binary(max_size=8)
)
mp_values = st.one_of(mp_values, st.lists(mp_values, max_size=3), st.booleans())
msgpack_maps = st.dictionaries(
    st.sampled_from(["tag", "refs", "implicit_ref", "ver", "conds", "name", "cookie"])
    | st.text(max_size=6),
    mp_values,
    max_size=4,
).map(lambda d: msgpack.packb(d, use_bin_type=True))
inputs = st.one_of(st.binary(max_size=128), denc, msgpack_maps)


def _snapshot(obj: MemObject) -> tuple:
    return (obj.present, bytes(obj.data), dict(obj.xattrs), dict(obj.omap), obj.header)


@fuzz(600)
@given(st.sampled_from(METHODS), st.sampled_from(STATES), inputs)
@example(("rbd", "get_size"), "image", b"\xff\xff")
@example(("refcount", "put"), "empty", msgpack.packb({"tag": 5}))
@example(("lock", "lock"), "cluttered", b"\x01\x01\xff\xff\xff\xff")
@example(("rbd", "set_size"), "image", struct.pack("<Q", 2**64 - 1))
@example(("rbd", "sparsify"), "cluttered", struct.pack("<QB", 1 << 56, 0))  # was MemoryError
@example(("rbd", "get_snapcontext"), "cluttered", b"")  # a bad snapshot key: was ValueError
def test_methods_fail_with_an_errno_and_change_nothing(method, state, indata) -> None:
    cls_name, name = method
    m = REGISTRY.lookup(cls_name, name)
    assert m is not None
    obj = _state(state)
    before = _snapshot(obj)
    # the method itself: only CephError (ClsError) or StoreError may come out of it
    try:
        m.fn(MethodContext(copy.deepcopy(obj), ENV, m.flags), indata)
    except (CephError, StoreError) as e:
        assert e.errno > 0
    # through the registry as the OSD calls it: an error leaves the object untouched
    ret, _out = call(obj, ENV, cls_name, name, indata)
    assert isinstance(ret, int)
    if ret < 0:
        assert _snapshot(obj) == before


def test_every_class_under_test_is_loaded() -> None:
    assert {c for c, _m in METHODS} == set(CLASSES)
    assert len(METHODS) > 50
