"""ObjectStore semantics, run against both backends (MemStore and LmdbStore)."""

from __future__ import annotations

import asyncio
import errno
import random

import pytest

from pyceph.store import HEAD, LmdbStore, MemStore, ObjectKey, StoreError, StoreLimits, Transaction
from pyceph.store.kvcore import SP_DATA, ceph_crc32c
from pyceph.store.types import escape_str, reverse_bits32, unescape_str

C = "1.0_head"
E = 4096  # small extents so multi-extent paths are cheap to exercise


def make_store(kind: str, tmp_path, capacity: int = 1 << 30, **kw):
    if kind == "mem":
        s = MemStore(capacity, extent_size=kw.pop("extent_size", E), **kw)
    else:
        s = LmdbStore(tmp_path / "db", capacity, extent_size=kw.pop("extent_size", E), **kw)
    s.mkfs()
    s.mount()
    return s


@pytest.fixture(params=["mem", "lmdb"])
def kind(request):
    return request.param


@pytest.fixture
def store(kind, tmp_path):
    s = make_store(kind, tmp_path)
    s.apply_transaction(Transaction().create_collection(C))
    yield s
    assert s.fsck() == []
    s.umount()


def apply(store, fn):
    t = Transaction()
    fn(t)
    store.apply_transaction(t)


def err(store, t) -> int:
    with pytest.raises(StoreError) as ei:
        store.apply_transaction(t)
    return ei.value.errno


def corrupt_first_extent(store) -> None:
    if isinstance(store, MemStore):
        sp = store.kv.spaces[SP_DATA]
        k = sp.keys[0]
        v = bytearray(sp.d[k])
        v[10] ^= 0xFF
        sp.d[k] = bytes(v)
    else:
        with store.env.begin(write=True) as txn:
            cur = txn.cursor(db=store.dbs[SP_DATA])
            assert cur.first()
            k, v = cur.key(), bytearray(cur.value())
            v[10] ^= 0xFF
            txn.put(k, bytes(v), db=store.dbs[SP_DATA])


# -- keys -------------------------------------------------------------------------


def test_object_key_encoding_roundtrip_and_order():
    rnd = random.Random(1)
    keys = []
    for i in range(300):
        keys.append(
            ObjectKey(
                rnd.choice(["a", "b", "a\x00b", "é", "", "rbd_data.1"]) + str(i % 7),
                namespace=rnd.choice(["", "ns", "n\x00"]),
                key=rnd.choice(["", "", "loc"]),
                snap=rnd.choice([HEAD, 1, 5]),
                hash=rnd.getrandbits(32),
                shard=rnd.choice([-1, 0, 2]),
            )
        )
    for k in keys:
        assert ObjectKey.decode(k.encode()) == k
    # order = (shard, pool, reversed hash, namespace, locator, name, snap, gen)
    tup = sorted(
        keys,
        key=lambda o: (
            o.shard,
            o.pool,
            reverse_bits32(o.hash),
            o.namespace.encode(),
            o.locator.encode(),
            o.name.encode(),
            o.snap,
            o.generation,
        ),
    )
    assert sorted(keys) == tup
    assert ObjectKey("x", key="x").key == ""  # locator equal to name is normalised
    s = "a\x00\x00b"
    assert unescape_str(escape_str(s) + b"zz", 0) == (s, len(escape_str(s)))
    assert reverse_bits32(1) == 0x80000000


def test_transaction_encode_decode(store):
    t = (
        Transaction()
        .touch(C, ObjectKey("o", hash=7, snap=3))
        .write(C, "o", 5, b"abc")
        .setattrs(C, "o", {"a": b"1"})
        .omap_setkeys(C, "o", {"k": b"v"})
        .clone(C, "o", "p")
        .meta_set(C, b"log.1", b"entry")
    )
    t2 = Transaction.decode(t.encode())
    assert t2.ops == t.ops
    store.apply_transaction(t2)
    assert store.read(C, "p") == b"\0" * 5 + b"abc"


# -- data ----------------------------------------------------------------------------


def test_write_read_sparse_and_eof(store):
    apply(store, lambda t: t.write(C, "o", 10_000, b"hello"))
    assert store.exists(C, "o")
    assert store.stat(C, "o") == 10_005
    assert store.read(C, "o", 0, 10) == bytes(10)  # hole reads zeros
    assert store.read(C, "o", 9_998, 100) == b"\0\0hello"  # short read at EOF
    assert store.read(C, "o", 10_005) == b""
    assert store.read(C, "o", 50_000, 10) == b""
    assert len(store.read(C, "o")) == 10_005
    apply(store, lambda t: t.write(C, "o", 0, b"A" * 2 * E))  # spans extents, keeps size
    assert store.stat(C, "o") == 10_005
    d = store.read(C, "o")
    assert d[: 2 * E] == b"A" * 2 * E and d[2 * E : -5] == bytes(10_000 - 2 * E)
    assert d[-5:] == b"hello"
    apply(store, lambda t: t.write(C, "o", E - 2, b"XYZW"))  # straddles an extent boundary
    assert store.read(C, "o", E - 3, 6) == b"AXYZWA"
    apply(store, lambda t: t.write(C, "o", 20_000, b""))  # empty write: no size change
    assert store.stat(C, "o") == 10_005


def test_overwrite_rewrites_one_extent(kind, tmp_path):
    s = make_store(kind, tmp_path, extent_size=64 * 1024)
    s.apply_transaction(Transaction().create_collection(C).write(C, "o", 0, b"x" * (4 << 20)))
    used = s.statfs()["data_stored"]
    calls = []
    from pyceph.store import kvcore

    orig = kvcore.Applier._put_ext
    kvcore.Applier._put_ext = lambda self, nid, idx, d: (calls.append(idx), orig(self, nid, idx, d))
    try:
        s.apply_transaction(Transaction().write(C, "o", 130 * 1024, b"y" * 4096))
    finally:
        kvcore.Applier._put_ext = orig
    assert calls == [2]
    assert s.statfs()["data_stored"] == used
    assert s.read(C, "o", 130 * 1024 - 1, 4098) == b"x" + b"y" * 4096 + b"x"
    s.umount()


def test_truncate_and_zero(store):
    data = bytes(range(256)) * 64  # 16 KiB = 4 extents
    apply(store, lambda t: t.write(C, "o", 0, data))
    apply(store, lambda t: t.truncate(C, "o", 5000))
    assert store.stat(C, "o") == 5000
    assert store.read(C, "o") == data[:5000]
    apply(store, lambda t: t.truncate(C, "o", 9000))  # grow: hole, old bytes gone
    assert store.read(C, "o") == data[:5000] + bytes(4000)
    apply(store, lambda t: t.zero(C, "o", 100, 200))
    assert store.read(C, "o", 0, 5000) == data[:100] + bytes(200) + data[300:5000]
    apply(store, lambda t: t.zero(C, "o", 8000, 4000))  # zero extends the size
    assert store.stat(C, "o") == 12000
    apply(store, lambda t: t.zero(C, "o", 0, 12000))
    assert store.read(C, "o") == bytes(12000)
    assert store.statfs()["data_stored"] == 0  # fully zeroed extents are freed
    apply(store, lambda t: t.truncate(C, "o", 0))
    assert store.read(C, "o") == b""
    apply(store, lambda t: t.zero(C, "z", 10, 0))  # zero creates, like upstream
    assert store.stat(C, "z") == 0


def test_touch_remove_and_tolerated_enoent(store):
    apply(
        store,
        lambda t: t.touch(C, "o").setattr(C, "o", "a", b"1").omap_setkeys(C, "o", {"k": b"v"}),
    )
    assert store.stat(C, "o") == 0
    apply(store, lambda t: t.remove(C, "o"))
    assert not store.exists(C, "o")
    for fn in (store.stat, store.read, store.getattrs, store.omap_get_values):
        with pytest.raises(StoreError) as ei:
            fn(C, "o")
        assert ei.value.errno == errno.ENOENT
    # upstream tolerates ENOENT on these ops: skipped, the transaction commits
    apply(
        store,
        lambda t: (
            t.remove(C, "gone")
            .truncate(C, "gone", 5)
            .setattr(C, "gone", "a", b"1")
            .rmattr(C, "gone", "a")
            .omap_setkeys(C, "gone", {"a": b""})
            .omap_clear(C, "gone")
            .touch(C, "made")
        ),
    )
    assert not store.exists(C, "gone") and store.exists(C, "made")
    assert store.statfs()["num_objects"] == 1


def test_xattrs(store):
    apply(
        store, lambda t: t.touch(C, "o").setattrs(C, "o", {"_": b"oi", "snapset": b"ss", "u": b""})
    )
    assert store.getattr(C, "o", "_") == b"oi"
    assert store.getattrs(C, "o") == {"_": b"oi", "snapset": b"ss", "u": b""}
    apply(store, lambda t: t.rmattr(C, "o", "snapset").rmattr(C, "o", "missing"))
    with pytest.raises(StoreError) as ei:
        store.getattr(C, "o", "snapset")
    assert ei.value.errno == errno.ENODATA
    apply(store, lambda t: t.rmattrs(C, "o"))
    assert store.getattrs(C, "o") == {}


def test_omap(store):
    kv = {f"k{i:03d}": str(i).encode() for i in range(50)}
    kv["a"] = b"first"
    kv["z\x00end"] = b"nul"
    apply(store, lambda t: t.touch(C, "o").omap_setkeys(C, "o", kv).omap_setheader(C, "o", b"H"))
    assert store.omap_get_header(C, "o") == b"H"
    allv = store.omap_get_values(C, "o")
    assert allv == sorted(kv.items())
    assert store.omap_get_values(C, "o", max_return=3) == sorted(kv.items())[:3]
    assert [k for k, _ in store.omap_get_values(C, "o", start_after="k047")] == [
        "k048",
        "k049",
        "z\x00end",
    ]
    assert [k for k, _ in store.omap_get_values(C, "o", prefix="k00")] == [
        f"k00{i}" for i in range(10)
    ]
    assert [
        k for k, _ in store.omap_get_values(C, "o", start_after="k005", prefix="k00", max_return=2)
    ] == [
        "k006",
        "k007",
    ]
    assert store.omap_get_values(C, "o", start_after="a", prefix="k04", max_return=1) == [
        ("k040", b"40")
    ]
    assert store.omap_get_keys(C, "o", start_after="k048") == ["k049", "z\x00end"]
    assert store.omap_get_values_by_keys(C, "o", ["a", "nope", "k001"]) == {
        "a": b"first",
        "k001": b"1",
    }
    apply(
        store,
        lambda t: t.omap_rmkeys(C, "o", ["a", "nope"]).omap_rmkeyrange(C, "o", "k010", "k040"),
    )
    keys = store.omap_get_keys(C, "o")
    assert keys == [f"k{i:03d}" for i in range(10)] + [f"k{i:03d}" for i in range(40, 50)] + [
        "z\x00end"
    ]
    apply(store, lambda t: t.omap_clear(C, "o"))
    assert store.omap_get_values(C, "o") == [] and store.omap_get_header(C, "o") == b""


def test_clone_and_clone_range(store):
    data = bytes(random.Random(2).getrandbits(8) for _ in range(3 * E + 100))
    apply(
        store,
        lambda t: (
            t.write(C, "src", 0, data)
            .setattrs(C, "src", {"a": b"1"})
            .omap_setkeys(C, "src", {"k": b"v"})
            .omap_setheader(C, "src", b"h")
            .write(C, "dst", 0, b"old" * 10000)
            .setattrs(C, "dst", {"old": b"x"})
        ),
    )
    apply(store, lambda t: t.clone(C, "src", "dst"))
    assert store.read(C, "dst") == data
    assert store.getattrs(C, "dst") == {"a": b"1"}
    assert (
        store.omap_get_values(C, "dst") == [("k", b"v")] and store.omap_get_header(C, "dst") == b"h"
    )
    apply(store, lambda t: t.write(C, "src", 0, b"changed"))  # clone is independent
    assert store.read(C, "dst", 0, 7) == data[:7]
    # clone_range: creates dst, copies a range, clips at the source size
    apply(store, lambda t: t.clone_range(C, "dst", "cr", E - 10, 20, 5))
    assert store.read(C, "cr") == bytes(5) + data[E - 10 : E + 10]
    apply(store, lambda t: t.clone_range(C, "dst", "cr", len(data) - 10, 1000, 100))
    assert store.stat(C, "cr") == 110 and store.read(C, "cr", 100) == data[-10:]
    assert err(store, Transaction().clone(C, "nosrc", "x")) == errno.ENOENT
    assert err(store, Transaction().clone_range(C, "nosrc", "x", 0, 1, 0)) == errno.ENOENT
    assert not store.exists(C, "x")


def test_move_rename(store):
    apply(store, lambda t: t.create_collection("2.0_head"))
    apply(
        store,
        lambda t: (
            t.write(C, "a", 0, b"data").setattr(C, "a", "x", b"1").omap_setkeys(C, "a", {"k": b"v"})
        ),
    )
    apply(store, lambda t: t.collection_move_rename(C, "a", "2.0_head", "b"))
    assert not store.exists(C, "a")
    assert store.read("2.0_head", "b") == b"data" and store.getattr("2.0_head", "b", "x") == b"1"
    assert store.omap_get_values("2.0_head", "b") == [("k", b"v")]
    apply(store, lambda t: t.touch(C, "c"))
    assert err(store, Transaction().collection_move_rename("2.0_head", "b", C, "c")) == errno.EEXIST
    assert err(store, Transaction().collection_move_rename(C, "zz", C, "c2")) == errno.ENOENT
    apply(store, lambda t: t.try_rename(C, "missing", "d").try_rename(C, "c", "d"))
    assert store.exists(C, "d") and not store.exists(C, "c")


def test_collections_listing_and_paging(store):
    assert store.list_collections() == [C]
    assert store.collection_exists(C) and not store.collection_exists("9.9_head")
    assert err(store, Transaction().create_collection(C)) == errno.EEXIST
    rnd = random.Random(3)
    objs = [
        ObjectKey(f"obj{i}", hash=rnd.getrandbits(32), namespace=rnd.choice(["", "ns"]))
        for i in range(103)
    ]
    objs.append(
        ObjectKey("obj0", hash=objs[0].hash, namespace=objs[0].namespace, snap=4)
    )  # a clone
    t = Transaction()
    for o in objs:
        t.touch(C, o)
    store.apply_transaction(t)
    got, cur = [], None
    while True:
        page, cur = store.collection_list(C, cur, 10)
        assert len(page) <= 10
        got += page
        if cur is None:
            break
    assert got == sorted(objs)
    assert list(store.iter_objects(C, batch=7)) == sorted(objs)
    mid = sorted(objs)[50]
    assert store.collection_list(C, mid, 1000, end=sorted(objs)[60])[0] == sorted(objs)[50:60]
    assert err(store, Transaction().remove_collection(C)) == errno.ENOTEMPTY
    t = Transaction()
    for o in objs:
        t.remove(C, o)
    t.remove_collection(C).remove_collection("never-existed")
    store.apply_transaction(t)
    assert store.list_collections() == []
    with pytest.raises(StoreError) as ei:
        store.collection_list(C)
    assert ei.value.errno == errno.ENOENT
    assert err(store, Transaction().touch(C, "o")) == errno.ENOENT


def test_split_and_merge(store):
    apply(store, lambda t: t.create_collection("1.1_head"))
    t = Transaction()
    objs = [ObjectKey(f"o{i}", hash=i) for i in range(8)]
    for o in objs:
        t.write(C, o, 0, o.name.encode())
    store.apply_transaction(t)
    apply(store, lambda t: t.split_collection(C, 1, 1, "1.1_head"))
    assert sorted(store.iter_objects("1.1_head")) == sorted(o for o in objs if o.hash & 1)
    assert store.collection_bits(C) == 1 and store.collection_bits("1.1_head") == 1
    assert store.read("1.1_head", objs[3]) == b"o3"
    apply(store, lambda t: t.merge_collection("1.1_head", C, 0))
    assert not store.collection_exists("1.1_head")
    assert sorted(store.iter_objects(C)) == sorted(objs)


def test_meta_keys(store):
    apply(
        store,
        lambda t: (
            t.meta_set(C, b"info", b"I")
            .meta_set(C, b"log.0001", b"a")
            .meta_set(C, b"log.0002", b"b")
        ),
    )
    assert store.meta_get(C, b"info") == b"I" and store.meta_get(C, b"nope") is None
    assert store.meta_list(C, b"log.") == [(b"log.0001", b"a"), (b"log.0002", b"b")]
    assert store.meta_list(C, b"log.", start_after=b"log.0001") == [(b"log.0002", b"b")]
    assert store.meta_list(C, max_return=1) == [(b"info", b"I")]
    apply(store, lambda t: t.meta_rmrange(C, b"log.", b"log.0002").meta_rm(C, b"info"))
    assert store.meta_list(C) == [(b"log.0002", b"b")]
    assert err(store, Transaction().meta_set("nocoll", b"k", b"v")) == errno.ENOENT


def test_atomicity(store):
    apply(store, lambda t: t.write(C, "keep", 0, b"original").meta_set(C, b"m", b"1"))
    before = store.statfs()
    bad = [
        (Transaction().clone(C, "missing", "x"), errno.ENOENT),
        (Transaction().touch("nocoll", "x"), errno.ENOENT),
        (Transaction().create_collection(C), errno.EEXIST),
        (Transaction().write(C, "x", (128 << 20) - 1, b"ab"), errno.EFBIG),
        (Transaction().setattr(C, "keep", "n" * 401, b""), errno.ENAMETOOLONG),
        (
            Transaction()
            .touch(C, "big")
            .omap_setkeys(C, "big", {str(i): b"" for i in range(131073)}),
            errno.E2BIG,
        ),
    ]
    for t, code in bad:
        full = (
            Transaction()
            .write(C, "keep", 0, b"CHANGED!")
            .write(C, "new", 0, b"x" * 3 * E)
            .setattr(C, "keep", "a", b"1")
            .omap_setkeys(C, "keep", {"k": b"v"})
            .meta_set(C, b"m", b"2")
            .create_collection("newcoll")
            .append(t)
        )
        assert err(store, full) == code
        assert store.read(C, "keep") == b"original"
        assert not store.exists(C, "new")
        assert store.getattrs(C, "keep") == {} and store.omap_get_values(C, "keep") == []
        assert store.meta_get(C, b"m") == b"1"
        assert store.list_collections() == [C]
        assert store.statfs() == before
        assert store.fsck() == []
    # the store still works
    apply(store, lambda t: t.write(C, "keep", 0, b"CHANGED!"))
    assert store.read(C, "keep") == b"CHANGED!"


def test_limits(kind, tmp_path):
    lim = StoreLimits(max_object_size=10 * E, max_attr_size=10, max_omap_entries_per_op=2)
    s = make_store(kind, tmp_path, limits=lim)
    s.apply_transaction(Transaction().create_collection(C).touch(C, "o"))
    assert err(s, Transaction().write(C, "o", 10 * E - 1, b"xx")) == errno.EFBIG
    assert err(s, Transaction().truncate(C, "o", 10 * E + 1)) == errno.EFBIG
    assert err(s, Transaction().zero(C, "o", 10 * E, 1)) == errno.EFBIG
    assert err(s, Transaction().setattr(C, "o", "a", b"x" * 11)) == errno.EFBIG
    assert err(s, Transaction().omap_setkeys(C, "o", {"a": b"", "b": b"", "c": b""})) == errno.E2BIG
    assert err(s, Transaction().touch(C, "n" * 500)) == errno.ENAMETOOLONG
    assert err(s, Transaction().create_collection("c" * 65)) == errno.ENAMETOOLONG
    s.apply_transaction(Transaction().write(C, "o", 10 * E - 1, b"x"))
    assert s.stat(C, "o") == 10 * E
    s.umount()


def test_crc_detection(kind, tmp_path):
    s = make_store(kind, tmp_path)
    data = b"z" * (2 * E + 5)
    s.apply_transaction(Transaction().create_collection(C).write(C, "o", 0, data))
    assert s.deep_verify(C, "o")
    d0 = s.object_digest(C, "o")
    assert d0 == ceph_crc32c(0xFFFFFFFF, data)
    corrupt_first_extent(s)
    with pytest.raises(StoreError) as ei:
        s.read(C, "o", 0, 10)
    assert ei.value.errno == errno.EIO
    with pytest.raises(StoreError) as ei:
        s.read(C, "o")
    assert ei.value.errno == errno.EIO
    assert s.read(C, "o", E, 10) == b"z" * 10  # other extents still read
    assert s.deep_verify(C, "o") is False
    assert any("crc32c mismatch" in e for e in s.fsck())
    # a partial overwrite of the corrupt extent fails rather than spreading garbage
    assert err(s, Transaction().write(C, "o", 3, b"a")) == errno.EIO
    # a full overwrite repairs it (how recovery rewrites a bad object)
    s.apply_transaction(Transaction().write(C, "o", 0, data))
    assert s.deep_verify(C, "o") and s.fsck() == []
    s.umount()


def test_digest_with_holes(store):
    apply(store, lambda t: t.write(C, "o", 3 * E + 7, b"tail").truncate(C, "o", 5 * E))
    assert store.object_digest(C, "o") == ceph_crc32c(0xFFFFFFFF, store.read(C, "o"))
    assert store.object_digest(C, "o", seed=0) == ceph_crc32c(0, store.read(C, "o"))


def test_enospc(kind, tmp_path):
    s = make_store(kind, tmp_path, capacity=1 << 20, extent_size=64 * 1024)
    s.apply_transaction(Transaction().create_collection(C))
    st = s.statfs()
    assert st["total"] == 1 << 20 and st["available"] == st["total"] - st["used"]
    written = []
    code = None
    for i in range(100):
        try:
            s.apply_transaction(Transaction().write(C, f"o{i}", 0, bytes([i]) * 100_000))
            written.append(i)
        except StoreError as e:
            code = e.errno
            break
    assert code == errno.ENOSPC and 5 <= len(written) < 11
    assert s.statfs()["used"] <= 1 << 20
    assert not s.exists(C, f"o{len(written)}")
    for i in written:
        assert s.read(C, f"o{i}") == bytes([i]) * 100_000
    # deletes are always allowed and free space
    t = Transaction()
    for i in written[:3]:
        t.remove(C, f"o{i}")
    s.apply_transaction(t)
    s.apply_transaction(Transaction().write(C, "again", 0, b"x" * 200_000))
    assert s.read(C, "again") == b"x" * 200_000
    assert s.fsck() == []
    s.umount()


def test_queue_transaction_and_failures_in_batch(kind, tmp_path):
    s = make_store(kind, tmp_path)
    s.apply_transaction(Transaction().create_collection(C))

    async def main():
        good = [
            s.queue_transaction(Transaction().write(C, f"o{i}", 0, b"%d" % i)) for i in range(50)
        ]
        bad = [
            s.queue_transaction(Transaction().write(C, "bad", 0, b"x").clone(C, "nosuch", "y"))
            for _ in range(5)
        ]
        res = await asyncio.gather(*good, *bad, return_exceptions=True)
        assert res[:50] == [None] * 50
        assert all(isinstance(r, StoreError) and r.errno == errno.ENOENT for r in res[50:])

    asyncio.run(main())
    assert all(s.read(C, f"o{i}") == b"%d" % i for i in range(50))
    assert not s.exists(C, "bad")
    assert s.fsck() == []
    s.umount()


def test_ordering_same_object(kind, tmp_path):
    s = make_store(kind, tmp_path)
    s.apply_transaction(Transaction().create_collection(C))

    async def main():
        await asyncio.gather(
            *(s.queue_transaction(Transaction().write(C, "o", 0, b"%04d" % i)) for i in range(300))
        )

    asyncio.run(main())
    assert s.read(C, "o") == b"0299"
    s.umount()


def test_random_ops_match_model(kind, tmp_path):
    """Random data ops against a bytearray model, with tiny extents."""
    s = make_store(kind, tmp_path, extent_size=512)
    s.apply_transaction(Transaction().create_collection(C))
    rnd = random.Random(42)
    model: dict[str, bytearray] = {}
    names = ["a", "b", "c"]
    for _ in range(300):
        t = Transaction()
        n = rnd.choice(names)
        op = rnd.choice(["write", "write", "zero", "truncate", "clone_range", "clone", "remove"])
        off, ln = rnd.randrange(0, 3000), rnd.randrange(0, 1500)
        m = model.get(n)
        if op == "write":
            d = bytes(rnd.getrandbits(8) for _ in range(ln))
            t.write(C, n, off, d)
            m = model.setdefault(n, bytearray())
            if len(m) < off + ln and ln:
                m.extend(bytes(off + ln - len(m)))
            m[off : off + ln] = d
        elif op == "zero":
            t.zero(C, n, off, ln)
            m = model.setdefault(n, bytearray())
            if len(m) < off + ln and ln:
                m.extend(bytes(off + ln - len(m)))
            m[off : off + ln] = bytes(ln)
        elif op == "truncate":
            t.truncate(C, n, off)
            if m is not None:
                del m[off:]
                m.extend(bytes(off - len(m)))
        elif op == "remove":
            t.remove(C, n)
            model.pop(n, None)
        else:
            src = rnd.choice(names)
            if src not in model or src == n:
                continue
            if op == "clone":
                t.clone(C, src, n)
                model[n] = bytearray(model[src])
            else:
                so = rnd.randrange(0, 3000)
                t.clone_range(C, src, n, so, ln, off)
                piece = model[src][so : so + ln]
                m = model.setdefault(n, bytearray())
                if piece:
                    if len(m) < off + len(piece):
                        m.extend(bytes(off + len(piece) - len(m)))
                    m[off : off + len(piece)] = piece
        s.apply_transaction(t)
        for name in names:
            if name in model:
                assert s.read(C, name) == bytes(model[name]), (op, name)
                ro, rl = rnd.randrange(0, 4000), rnd.randrange(0, 2000)
                assert s.read(C, name, ro, rl) == bytes(model[name][ro : ro + rl])
            else:
                assert not s.exists(C, name)
    assert s.fsck() == []
    s.umount()
