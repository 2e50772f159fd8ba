"""`ObjectStore.collection_stats`: what every PG reports each stats period.

The key-value stores count from their onode records in one pass; the generic path
(listing plus a stat per object, which any ObjectStore gets) is the reference both must
agree with: heads and clones counted, snapdirs not, long names (stored under a digest)
and other collections kept apart.
"""

from __future__ import annotations

import random

import pytest

from pyceph.store import HEAD, LmdbStore, MemStore, ObjectKey, Transaction
from pyceph.store.objectstore import ObjectStore
from pyceph.store.types import SNAPDIR

C, OTHER = "1.0_head", "1.1_head"


def _make(kind: str, tmp_path):
    s = MemStore(1 << 30) if kind == "mem" else LmdbStore(tmp_path / "db", 1 << 30)
    s.mkfs()
    s.mount()
    return s


@pytest.mark.parametrize("kind", ["mem", "lmdb"])
def test_collection_stats_match_a_listing_with_a_stat_per_object(kind, tmp_path):
    store = _make(kind, tmp_path)
    rng = random.Random(7)
    t = Transaction().create_collection(C).create_collection(OTHER)
    expect = [0, 0, 0]
    for i in range(200):
        name = f"obj{i}" if i % 17 else "x" * 700 + str(i)  # some keys longer than 510 bytes
        snap = rng.choice([HEAD, HEAD, 4, 9, SNAPDIR])
        size = rng.randrange(0, 9000)
        oid = ObjectKey(name, snap=snap, hash=rng.randrange(2**32), pool=1)
        t.write(C, oid, 0, b"d" * size) if size else t.touch(C, oid)
        t.write(OTHER, ObjectKey(name, hash=1, pool=1), 0, b"o" * 100)  # not counted
        if snap != SNAPDIR:
            expect[0] += 1
            expect[1] += size
            expect[2] += snap != HEAD
    store.apply_transaction(t)
    fast = store.collection_stats(C)
    generic = ObjectStore.collection_stats(store, C)
    assert (fast.objects, fast.bytes, fast.clones) == tuple(expect)
    assert fast == generic
    store.apply_transaction(Transaction().create_collection("2.0_head"))
    empty = store.collection_stats("2.0_head")
    assert (empty.objects, empty.bytes, empty.clones) == (0, 0, 0)
    store.umount()


def test_decoded_keys_are_shared_only_when_the_wire_form_is_identical():
    """Replicas decode the same keys: `Transaction.decode` reuses recent ones, which must
    never turn a malformed key (a float where an int goes) into a valid one."""
    import msgpack

    key = ["o", "", "", HEAD, 5, 2, 2**64 - 1, -1]
    good = msgpack.packb([[10, C, key, 0, b"x"]])
    a, b = Transaction.decode(good), Transaction.decode(good)
    assert a.ops == b.ops and a.ops[0][2] == ObjectKey("o", hash=5, pool=2)
    bad = msgpack.packb([[10, C, [*key[:4], 5.0, *key[5:]], 0, b"x"]])
    with pytest.raises((TypeError, ValueError, AttributeError)):
        Transaction.decode(bad)
    for i in range(3000):  # far more keys than are kept: still each one its own
        k = Transaction.decode(msgpack.packb([[10, C, [f"n{i}", *key[1:]], 0, b""]])).ops[0][2]
        assert k.name == f"n{i}"
