"""Client op semantics and errnos on a MemStore (upstream do_osd_ops)."""

from __future__ import annotations

import errno

from pyceph.osd.ops import Limits, execute
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

CID = "1.0_head"
K = ObjectKey("obj", pool=1)


def store():
    s = MemStore()
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(CID))
    return s


def run(s, ops, data=b"", limits=None, v=(1, 1)):
    res = execute(s, CID, K, ops, data, limits or Limits(), v, v[1], 1.0)
    if res.r == 0 and res.txn.ops:
        s.apply_transaction(res.txn)
    return res


def test_reads_of_a_missing_object_are_enoent():
    s = store()
    for op in (
        ["read", {"offset": 0, "length": 0}],
        ["stat", {}],
        ["getxattrs", {}],
        ["getxattr", {"name": "a"}],
        ["delete", {}],
        ["rmxattr", {"name": "a"}],
    ):
        assert run(s, [op]).r == -errno.ENOENT


def test_write_read_append_truncate_zero():
    s = store()
    assert run(s, [["write", {"offset": 2, "dlen": 3}]], b"abc").r == 0
    r = run(s, [["read", {"offset": 0, "length": 0}], ["stat", {}]])
    assert r.outdata == [b"\0\0abc"] and r.outs[1]["size"] == 5
    run(s, [["append", {"dlen": 2}]], b"de")
    assert run(s, [["read", {"offset": 0, "length": 100}]]).outdata == [b"\0\0abcde"]
    assert run(s, [["read", {"offset": 50, "length": 10}]]).outdata == [b""]  # beyond EOF
    run(s, [["zero", {"offset": 3, "length": 2}]])
    r = run(s, [["read", {"offset": 0, "length": 0}], ["stat", {}]])
    assert r.outdata == [b"\0\0a\0\0de"] and r.outs[1]["size"] == 7  # zero never extends
    run(s, [["zero", {"offset": 5, "length": 100}]])  # reaches the end: upstream truncates
    r = run(s, [["read", {"offset": 0, "length": 0}], ["stat", {}]])
    assert r.outdata == [b"\0\0a\0\0"] and r.outs[1]["size"] == 5
    run(s, [["zero", {"offset": 9, "length": 3}]])  # past the end: a no-op
    assert run(s, [["stat", {}]]).outs[0]["size"] == 5
    run(s, [["truncate", {"size": 2}]])
    assert run(s, [["stat", {}]]).outs[0]["size"] == 2
    run(s, [["write_full", {"dlen": 1}]], b"z")
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"z"]


def test_truncate_of_missing_object_is_a_noop():
    s = store()
    r = run(s, [["truncate", {"size": 10}]])
    assert r.r == 0 and not r.modified and not r.exists


def test_create_exclusive_and_efbig():
    s = store()
    assert run(s, [["create", {"exclusive": True}]]).r == 0
    assert run(s, [["create", {"exclusive": True}]]).r == -errno.EEXIST
    assert run(s, [["create", {}]]).r == 0
    lim = Limits(max_object_size=10)
    assert run(s, [["write", {"offset": 8, "dlen": 3}]], b"abc", lim).r == -errno.EFBIG
    assert run(s, [["truncate", {"size": 11}]], limits=lim).r == -errno.EFBIG


def test_xattrs_are_namespaced_and_enodata():
    s = store()
    run(s, [["setxattr", {"name": "k", "dlen": 1}]], b"v")
    assert run(s, [["getxattr", {"name": "k"}]]).outdata == [b"v"]
    assert run(s, [["getxattr", {"name": "x"}]]).r == -errno.ENODATA
    assert run(s, [["getxattrs", {}]]).outs[0]["attrs"] == {"k": b"v"}  # no internal attrs
    assert run(s, [["rmxattr", {"name": "missing"}]]).r == 0
    assert run(s, [["setxattr", {"name": "n" * 101, "dlen": 0}]]).r == -errno.ENAMETOOLONG


def test_a_failing_op_makes_the_vector_change_nothing():
    s = store()
    run(s, [["write_full", {"dlen": 3}]], b"old")
    r = run(s, [["write_full", {"dlen": 3}], ["create", {"exclusive": True}]], b"new")
    assert r.r == -errno.EEXIST and not r.txn.ops
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"old"]
    assert run(s, [["frobnicate", {}]]).r == -errno.EOPNOTSUPP


def test_object_info_carries_version():
    s = store()
    run(s, [["write_full", {"dlen": 1}]], b"x", v=(3, 7))
    r = run(s, [["stat", {}]])
    assert r.oi.version == (3, 7) and r.oi.user_version == 7
