"""The workload's model alone: what it accepts, and that it catches lost or stale data."""

from __future__ import annotations

import errno

import pytest

from pyceph.sim.model import Model, ModelViolation, Mutation, ObjState, apply


def _do(m: Model, name: str, mut: Mutation, r: int = 0, snapc=()) -> None:
    m.begin(name, mut, snapc=snapc)
    m.ack(name, r)


def _read(m: Model, name: str, seen, snap: int = 0) -> None:
    m.begin(name, snap=snap)
    m.read_result(name, seen)


def test_apply_follows_the_osd_semantics():
    assert apply(None, Mutation("write", offset=3, data=b"ab")) == (0, ObjState(b"\0\0\0ab"))
    s = ObjState(b"hello")
    assert apply(s, Mutation("write", offset=1, data=b"EL"))[1].data == b"hELlo"
    assert apply(s, Mutation("append", data=b"!"))[1].data == b"hello!"
    assert apply(s, Mutation("truncate", offset=2))[1].data == b"he"
    assert apply(s, Mutation("truncate", offset=7))[1].data == b"hello\0\0"
    assert apply(None, Mutation("truncate", offset=7)) == (0, None)
    assert apply(None, Mutation("remove")) == (-errno.ENOENT, None)
    assert apply(None, Mutation("rmxattr", name="a")) == (-errno.ENOENT, None)
    assert apply(s, Mutation("rmxattr", name="a")) == (0, s)
    x = apply(s, Mutation("setxattr", name="a", data=b"1"))[1]
    assert x.xattrs == (("a", b"1"),)
    o = apply(x, Mutation("omap_set", kv=(("k", b"v"), ("j", b"w"))))[1]
    assert o.omap == (("j", b"w"), ("k", b"v"))
    assert apply(o, Mutation("omap_rm", keys=("k",)))[1].omap == (("j", b"w"),)
    assert apply(o, Mutation("omap_header", data=b"H"))[1].header == b"H"


def test_acknowledged_writes_must_be_read_back():
    m = Model(["a"])
    _do(m, "a", Mutation("write_full", data=b"one"))
    _read(m, "a", ObjState(b"one"))
    _do(m, "a", Mutation("write_full", data=b"two"))
    with pytest.raises(ModelViolation, match="saw size=3 data\\[:16\\]=b'one'"):
        _read(m, "a", ObjState(b"one"))  # a stale read: the acked write is lost


def test_a_lost_object_and_a_resurrected_one_are_caught():
    m = Model(["a", "b"])
    _do(m, "a", Mutation("write_full", data=b"x"))
    with pytest.raises(ModelViolation, match="saw absent"):
        _read(m, "a", None)
    _do(m, "b", Mutation("write_full", data=b"x"))
    _do(m, "b", Mutation("remove"))
    with pytest.raises(ModelViolation):
        _read(m, "b", ObjState(b"x"))


def test_wrong_xattr_omap_and_header_are_caught():
    m = Model(["a"])
    _do(m, "a", Mutation("setxattr", name="n", data=b"1"))
    _do(m, "a", Mutation("omap_set", kv=(("k", b"v"),)))
    _do(m, "a", Mutation("omap_header", data=b"h"))
    good = ObjState.make(b"", {"n": b"1"}, {"k": b"v"}, b"h")
    for bad in (
        ObjState.make(b"", {"n": b"2"}, {"k": b"v"}, b"h"),
        ObjState.make(b"", {"n": b"1"}, {}, b"h"),
        ObjState.make(b"", {"n": b"1"}, {"k": b"v"}, b""),
    ):
        with pytest.raises(ModelViolation):
            _read(m, "a", bad)
    _read(m, "a", good)


def test_a_wrong_result_code_is_caught():
    m = Model(["a"])
    with pytest.raises(ModelViolation, match="expects r in \\[-2\\]"):
        _do(m, "a", Mutation("remove"), r=0)  # deleting a missing object must fail
    m2 = Model(["a"])
    _do(m2, "a", Mutation("write_full", data=b"x"))
    with pytest.raises(ModelViolation, match="expects r in \\[0\\]"):
        _do(m2, "a", Mutation("remove"), r=-errno.ENOENT)


def test_an_unknown_outcome_may_or_may_not_have_applied_until_a_read_decides():
    m = Model(["a"])
    _do(m, "a", Mutation("write_full", data=b"old"))
    _do(m, "a", Mutation("append", data=b"+"), r=-errno.ETIMEDOUT)
    assert len(m.possible("a")) == 2
    _read(m, "a", ObjState(b"old+"))
    assert m.possible("a") == {ObjState(b"old+")}
    with pytest.raises(ModelViolation):
        _read(m, "a", ObjState(b"old"))  # once seen applied, it cannot un-apply


def test_unknown_then_full_overwrite_is_certain_again():
    m = Model(["a"])
    _do(m, "a", Mutation("write_full", data=b"old"), r=-errno.ETIMEDOUT)
    _do(m, "a", Mutation("write_full", data=b"new"))
    assert m.possible("a") == {ObjState(b"new")}


def test_an_acknowledged_result_code_narrows_an_unknown_outcome():
    m = Model(["a"])
    _do(m, "a", Mutation("write_full", data=b"x"), r=-errno.ETIMEDOUT)
    _do(m, "a", Mutation("remove"), r=-errno.ENOENT)  # so the write never applied
    assert m.possible("a") == {None}


def test_pool_snapshot_allows_ops_in_flight_either_way():
    m = Model(["a", "b"])
    _do(m, "a", Mutation("write_full", data=b"1"))
    m.begin("a", Mutation("write_full", data=b"2"))
    w = m.pool_snap_begin()
    m.ack("a", 0)
    _do(m, "b", Mutation("write_full", data=b"b"))  # acked inside the window: either
    m.pool_snap_end(w, 5)
    _do(m, "a", Mutation("write_full", data=b"3"))  # after the snap: never in it
    assert m.possible("a", 5) == {ObjState(b"1"), ObjState(b"2")}
    assert m.possible("b", 5) == {None, ObjState(b"b")}
    _read(m, "a", ObjState(b"2"), snap=5)
    with pytest.raises(ModelViolation):
        _read(m, "a", ObjState(b"3"), snap=5)


def test_selfmanaged_snap_freezes_at_the_first_write_that_carries_it():
    m = Model(["a", "b"])
    _do(m, "a", Mutation("write_full", data=b"before"))
    m.selfmanaged_snap(3)
    _do(m, "a", Mutation("write_full", data=b"after"), snapc=[3])
    _read(m, "a", ObjState(b"before"), snap=3)
    _read(m, "b", None, snap=3)  # untouched since: the snap is the head (absent)
    _do(m, "b", Mutation("write_full", data=b"new"), snapc=[3])
    with pytest.raises(ModelViolation):
        _read(m, "b", ObjState(b"new"), snap=3)


def test_rollback_restores_the_snapshot_or_deletes():
    m = Model(["a", "b"])
    _do(m, "a", Mutation("write_full", data=b"v1"))
    m.selfmanaged_snap(4)
    _do(m, "a", Mutation("write_full", data=b"v2"), snapc=[4])
    _do(m, "b", Mutation("write_full", data=b"born"), snapc=[4])
    _do(m, "a", Mutation("rollback", snap=4), snapc=[4])
    _do(m, "b", Mutation("rollback", snap=4), snapc=[4])
    _read(m, "a", ObjState(b"v1"))
    _read(m, "b", None)
    with pytest.raises(ModelViolation):
        _read(m, "a", ObjState(b"v2"))


def test_one_op_per_object_in_flight():
    m = Model(["a"])
    m.begin("a", Mutation("append", data=b"x"))
    assert m.in_use("a")
    with pytest.raises(RuntimeError):
        m.begin("a")
    m.ack("a", 0)
    assert not m.in_use("a")


def test_violation_report_carries_the_history():
    m = Model(["obj"], pool="p")
    _do(m, "obj", Mutation("write", offset=4, data=b"abcd"))
    with pytest.raises(ModelViolation) as ei:
        _read(m, "obj", ObjState(b"\0\0\0\0abcX"))
    text = str(ei.value)
    assert "p/obj" in text and "write off=4 len=4 submitted" in text and "-> r=0" in text
