"""EC pieces of the OSD that need no cluster: append-only op rules, shard collections,
positional acting sets."""

from __future__ import annotations

import errno

from pyceph.osd.ec_backend import split_payload
from pyceph.osd.ops import Limits, OpEnv, execute
from pyceph.osd.peering import PGMapView, is_new_interval
from pyceph.osd.types import pg_cid
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

CID = "1.0s0_head"
K = ObjectKey("obj", pool=1)
SW = 8192


def store():
    s = MemStore()
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(CID))
    return s


def run(s, ops, data=b"", align=SW):
    res = execute(s, CID, K, ops, data, Limits(), (1, 1), 1, 1.0, env=OpEnv(aligned_append=align))
    if res.r == 0 and res.txn.ops:
        s.apply_transaction(res.txn)
    return res


def w(off, n):
    return ["write", {"offset": off, "length": n, "dlen": n}]


def test_append_only_rules():
    s = store()
    assert run(s, [w(4096, 10)], b"x" * 10).r == -errno.EOPNOTSUPP  # new object, not at 0
    assert run(s, [w(0, 10)], b"x" * 10).r == 0
    assert run(s, [["append", {"dlen": 10}]], b"y" * 10).r == -errno.EOPNOTSUPP
    assert run(s, [["write_full", {"dlen": SW}]], b"a" * SW).r == 0
    assert run(s, [["append", {"dlen": 5}]], b"b" * 5).r == 0
    assert s.stat(CID, K) == SW + 5
    assert run(s, [w(0, 1)], b"Z").r == -errno.EOPNOTSUPP
    assert run(s, [["truncate", {"size": 1}]]).r == -errno.EOPNOTSUPP
    assert run(s, [["zero", {"offset": 0, "length": 1}]]).r == -errno.EOPNOTSUPP
    # the same vector is fine where overwrites are allowed
    assert run(s, [w(0, 1)], b"Z", align=0).r == 0
    assert run(s, [["truncate", {"size": 1}]], align=0).r == 0


def test_shard_collections_and_views():
    assert pg_cid(1, 0x2A) == "1.2a_head"
    assert pg_cid(1, 0x2A, 0) == "1.2as0_head"
    a = PGMapView(5, (0, 2), 0, (0, 2), 0, 3, 2, frozenset({0, 2}), shards=(0, -1, 2))
    b = PGMapView(5, (0, 2), 0, (0, 2), 0, 3, 2, frozenset({0, 2}), shards=(0, 2, -1))
    assert is_new_interval(a, b)
    assert a.shard_of(2) == 2 and a.shard_of(1) is None and b.shard_of(2) == 1


def test_split_payload():
    head = {"objs": [{"snap": 4, "dlen": 3}, {"snap": 7, "dlen": 0}, {"snap": 9, "dlen": 2}]}
    assert split_payload(head, b"abcde") == {4: b"abc", 7: b"", 9: b"de"}
