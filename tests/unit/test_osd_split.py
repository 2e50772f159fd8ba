"""PG split arithmetic alone: children, split bits, and the log/missing partition."""

from __future__ import annotations

import random

import pytest

from pyceph.crush.hash import ceph_stable_mod
from pyceph.osd.pglog import MODIFY, LogEntry, PGLog
from pyceph.osd.split import partition, pg_of, split_bits, split_children
from pyceph.osd.types import object_hash
from pyceph.osdmap.pool import calc_mask
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey


def test_children_as_upstream_is_split() -> None:
    assert split_children(0, 8, 16) == [8]
    assert split_children(3, 8, 12) == [11]
    assert split_children(4, 8, 12) == []
    assert split_children(4, 8, 32) == [12, 20, 28]
    assert split_children(0, 1, 4) == [1, 2, 3]
    assert split_children(2, 8, 8) == [] and split_children(9, 8, 16) == []


@pytest.mark.parametrize("old,new", [(1, 2), (3, 5), (8, 12), (12, 32), (7, 64), (33, 40)])
def test_every_object_moves_to_the_pg_it_folds_into(old: int, new: int) -> None:
    """The store's split rule (hash bits == child) sends each object of a parent exactly
    to the PG `ceph_stable_mod` gives it under the new pg_num, and nowhere else."""
    rng = random.Random(old * 1000 + new)
    for _ in range(2000):
        h = rng.getrandbits(32)
        parent = ceph_stable_mod(h, old, calc_mask(old))
        now = ceph_stable_mod(h, new, calc_mask(new))
        kids = split_children(parent, old, new)
        moved = [c for c in kids if h & ((1 << split_bits(c, new)) - 1) == c]
        assert moved == ([now] if now != parent else []), (h, parent, now, kids)


def test_store_split_collection_follows_the_bits() -> None:
    store = MemStore()
    t = Transaction().create_collection("1.0_head")
    names = [f"o{i}" for i in range(200)]
    for n in names:
        t.touch("1.0_head", ObjectKey(n, hash=pg_hash(n)))
    store.apply_transaction(t)
    t = Transaction()
    for c in split_children(0, 1, 4):
        t.create_collection(f"1.{c:x}_head")
        t.split_collection("1.0_head", split_bits(c, 4), c, f"1.{c:x}_head")
    store.apply_transaction(t)
    for ps in range(4):
        keys, _ = store.collection_list(f"1.{ps:x}_head", None, 1000)
        assert keys and all(pg_of(("", k.name, ""), 4) == ps for k in keys)
    assert sum(len(store.collection_list(f"1.{p:x}_head", None, 1000)[0]) for p in range(4)) == 200


def pg_hash(name: str) -> int:
    return object_hash(("", name, ""))


def test_partition_keeps_order_and_the_dups_stay() -> None:
    oids = [("", f"o{i}", "") for i in range(40)]
    entries = [LogEntry(MODIFY, o, (3, i + 1), reqid=("c", 1, i)) for i, o in enumerate(oids)]
    log = PGLog((2, 0), entries)
    log.trim((3, 5), 100)  # 5 entries become dups
    owner = {o: pg_of(o, 4) for o in oids}
    moved = log.split_out(lambda e: owner[e.oid] != 0)
    by_pg, miss = partition(moved, {oids[-1]: (3, 40)}, lambda o: owner[o])
    assert all(owner[e.oid] == 0 for e in log.entries)
    for ps, es in by_pg.items():
        assert [e.version for e in es] == sorted(e.version for e in es)
        assert all(owner[e.oid] == ps for e in es)
    assert sum(map(len, by_pg.values())) + len(log) == 35
    assert miss == {owner[oids[-1]]: {oids[-1]: (3, 40)}}
    assert len(log.dups) == 5
    moved_reqid = moved[0].reqid
    assert moved_reqid is not None and log.lookup_reqid(moved_reqid) is None
