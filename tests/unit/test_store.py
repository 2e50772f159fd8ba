"""ObjectStore semantics, run against both backends (MemStore and LmdbStore)."""

from __future__ import annotations

import asyncio
import errno
import random

import pytest

from pyceph.store import HEAD, LmdbStore, MemStore, ObjectKey, StoreError, StoreLimits, Transaction
from pyceph.store.kvcore import (
    KEY_INLINE_MAX,
    KEY_PREFIX_LEN,
    LONG_KEY_LEN,
    SP_DATA,
    SP_OMAP,
    SP_ONODE,
    ceph_crc32c,
    stored_key,
)
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


# -- long object names and omap keys (stored under prefix + digest) -------------------


def _long_objects() -> list[ObjectKey]:
    """Names on both sides of the inline/digest boundary, many sharing a stored prefix
    (same pool, hash and namespace), plus long locators and namespaces."""
    base = "p" * 440
    objs = []
    for n in range(400, 560, 7):  # encodings straddle KEY_PREFIX_LEN and KEY_INLINE_MAX
        objs.append(ObjectKey("q" * n, hash=7))
    for tail in ("", "a", "b", "a" * 100, "b" * 3000, "\x00", "\x00" * 600, "é" * 700):
        objs.append(ObjectKey(base + tail, hash=7))
        objs.append(ObjectKey(base + tail, hash=7, snap=3))  # a clone of it
        objs.append(ObjectKey(base + tail, hash=7, namespace="n" * 256))
    objs += [
        ObjectKey("n" * 2048, hash=1),
        ObjectKey("n" * 2047, hash=1),
        ObjectKey("o", key="k" * 2048, hash=1),
        ObjectKey("o2", key="k" * 2048, hash=1),
        ObjectKey("x" * 2048, key="k" * 2048, namespace="s" * 256, hash=1),
        ObjectKey("short", hash=7),
        ObjectKey("short", hash=1),
        ObjectKey("zz", hash=9, namespace="n" * 256),
    ]
    objs += [ObjectKey(f"s{i}", hash=i % 10) for i in range(30)]
    assert len(set(objs)) == len(objs)
    assert any(len(escape_str(C) + o.encode()) > KEY_INLINE_MAX for o in objs)
    return objs


def test_long_names_list_and_page_among_short(store):
    objs = _long_objects()
    t = Transaction()
    for i, o in enumerate(objs):
        t.write(C, o, 0, str(i).encode()).setattr(C, o, "a", o.name[:5].encode())
    store.apply_transaction(t)
    want = sorted(objs)
    assert store.collection_list(C, None, 10_000) == (want, None)
    for page in (1, 2, 3, 7, 50):
        got, cur = [], None
        while True:
            part, cur = store.collection_list(C, cur, page)
            got += part
            if cur is None:
                break
        assert got == want, page
    for a, b in ((3, 17), (10, 40), (0, len(want) - 1), (20, 21)):
        assert store.collection_list(C, want[a], 10_000, end=want[b]) == (want[a:b], None)
        page, cur = store.collection_list(C, want[a], 2, end=want[b])
        assert page == want[a : min(a + 2, b)]
        assert cur == (want[a + 2] if b - a > 2 else None)
    assert list(store.iter_objects(C, batch=4)) == want
    for i, o in enumerate(objs):
        assert store.exists(C, o) and store.stat(C, o) == len(str(i))
        assert store.read(C, o) == str(i).encode()
        assert store.getattrs(C, o) == {"a": o.name[:5].encode()}
    assert not store.exists(C, ObjectKey("n" * 2049, hash=1))
    assert not store.exists(C, ObjectKey("p" * 440 + "b" * 2999, hash=7))
    # a cursor that is not itself an object still pages exactly
    gap = ObjectKey("p" * 440 + "a" * 50, hash=7)
    assert store.collection_list(C, gap, 10_000)[0] == [o for o in want if o >= gap]
    t = Transaction()
    for o in objs:
        t.remove(C, o)
    store.apply_transaction(t)
    assert store.collection_list(C, None, 10) == ([], None)
    assert store.statfs()["num_objects"] == 0


def test_short_key_encoding_unchanged(store):
    short, long_ = ObjectKey("s" * 100), ObjectKey("l" * 600)
    apply(
        store,
        lambda t: (
            t.touch(C, short)
            .touch(C, long_)
            .omap_setkeys(C, short, {"k" * 480: b"v1", "m" * 600: b"v2"})
        ),
    )
    with store._read_view() as kv:
        onodes = {bytes(k) for k, _ in kv.iterate(SP_ONODE, b"", None)}
        omap = {bytes(k): bytes(v) for k, v in kv.iterate(SP_OMAP, b"", None)}
    assert escape_str(C) + short.encode() in onodes  # short: the key itself, as before
    full = escape_str(C) + long_.encode()
    assert stored_key(full) in onodes and len(stored_key(full)) == LONG_KEY_LEN
    assert stored_key(full)[:KEY_PREFIX_LEN] == full[:KEY_PREFIX_LEN]
    assert any(len(k) == 8 + 480 and v == b"v1" for k, v in omap.items())
    assert any(len(k) == LONG_KEY_LEN and v.endswith(b"v2") for k, v in omap.items())


def _omap_model_check(store, oid, model: dict[str, bytes], probes: list[str]) -> None:
    keys = sorted(model, key=lambda k: k.encode())
    assert store.omap_get_values(C, oid) == [(k, model[k]) for k in keys]
    assert store.omap_get_keys(C, oid) == keys
    prefixes = [None, "", "k", "k" * 470, "k" * 478, "k" * 479, "k" * 480, "k" * 600, "ka", "z"]
    for sa in [None, *probes]:
        for pre in prefixes:
            for mr in (None, 0, 1, 2, 5):
                want = [
                    k
                    for k in keys
                    if (sa is None or k.encode() > sa.encode()) and (not pre or k.startswith(pre))
                ]
                want = want if mr is None else want[:mr]
                got = store.omap_get_values(C, oid, start_after=sa, prefix=pre, max_return=mr)
                assert got == [(k, model[k]) for k in want], (len(sa or ""), pre and len(pre), mr)
    assert store.omap_get_values_by_keys(C, oid, probes) == {
        k: model[k] for k in probes if k in model
    }


def test_long_omap_keys(store):
    rnd = random.Random(5)
    model: dict[str, bytes] = {}
    for n in range(460, 530, 3):  # full keys straddle KEY_PREFIX_LEN and KEY_INLINE_MAX
        model["k" * n] = str(n).encode()
        model["k" * n + "a"] = b"a"
    for _ in range(40):
        tail = "".join(rnd.choice("ab\x00é") for _ in range(rnd.choice((0, 1, 5, 60, 900))))
        model["k" * rnd.choice((470, 478, 479, 480, 490, 600)) + tail] = tail.encode()[:9]
    model["k" * 70_000] = b"huge"
    model["k" * 69_999 + "b"] = b"huge-b"
    model.update({"a": b"1", "ka": b"2", "z": b"3", "": b"empty"})
    apply(store, lambda t: t.touch(C, "o").omap_setkeys(C, "o", model))
    probes = rnd.sample(sorted(model), 25) + ["k" * 479, "k" * 530, "k" * 70_001, "y", ""]
    _omap_model_check(store, "o", model, probes)
    # overwrite a long key's value; rm some keys (long, short, absent); rm a range
    model["k" * 70_000] = b"HUGE"
    apply(store, lambda t: t.omap_setkeys(C, "o", {"k" * 70_000: b"HUGE"}))
    gone = ["k" * 69_999 + "b", "k" * 520, "a", "k" * 3000]
    apply(store, lambda t: t.omap_rmkeys(C, "o", gone))
    for k in gone:
        model.pop(k, None)
    first, last = "k" * 478, "k" * 490 + "a"
    apply(store, lambda t: t.omap_rmkeyrange(C, "o", first, last))
    for k in list(model):
        if first.encode() <= k.encode() < last.encode():
            del model[k]
    _omap_model_check(store, "o", model, probes)
    assert len(model) > 20 and any(len(k) > 600 for k in model)
    apply(store, lambda t: t.omap_clear(C, "o"))
    assert store.omap_get_values(C, "o") == []


def test_long_named_clone_rename_remove(store):
    apply(store, lambda t: t.create_collection("1.1_head"))
    a = ObjectKey("a" * 2048, hash=3)
    b = ObjectKey("a" * 2047 + "b", hash=3)
    c = ObjectKey("c" * 2048, key="k" * 2048, namespace="n" * 256, hash=2)
    omap = {"x" * 5000: b"1", "x" * 4999 + "y": b"2", "w": b"3", "x" * 479: b"4"}
    apply(
        store,
        lambda t: (
            t.write(C, a, 0, b"A" * (E + 5))
            .setattr(C, a, "at", b"1")
            .omap_setkeys(C, a, omap)
            .omap_setheader(C, a, b"H")
        ),
    )
    apply(store, lambda t: t.clone(C, a, b))
    for o in (a, b):
        assert store.read(C, o) == b"A" * (E + 5) and store.getattr(C, o, "at") == b"1"
        assert store.omap_get_values(C, o) == sorted(omap.items())
        assert store.omap_get_header(C, o) == b"H"
    apply(store, lambda t: t.omap_rmkeys(C, a, ["x" * 5000]))  # the clone is independent
    assert store.omap_get_values_by_keys(C, b, ["x" * 5000]) == {"x" * 5000: b"1"}
    apply(store, lambda t: t.clone_range(C, a, c, 1, 10, 0))
    assert store.read(C, c) == b"A" * 10
    # rename long -> long across collections, long -> short, short -> long
    apply(store, lambda t: t.collection_move_rename(C, b, "1.1_head", c))
    assert not store.exists(C, b) and store.exists(C, c)
    assert store.omap_get_values("1.1_head", c) == sorted(omap.items())
    assert err(store, Transaction().collection_move_rename("1.1_head", c, C, c)) == errno.EEXIST
    apply(store, lambda t: t.collection_move_rename("1.1_head", c, "1.1_head", "short"))
    apply(store, lambda t: t.try_rename("1.1_head", "short", b))
    assert store.collection_list("1.1_head", None, 10)[0] == [b]
    assert store.getattr("1.1_head", b, "at") == b"1"
    apply(store, lambda t: t.try_rename(C, a, c))  # replaces the existing long-named c
    assert store.collection_list(C, None, 10)[0] == [c]
    assert store.read(C, c) == b"A" * (E + 5)
    # split / merge move long-named onodes
    apply(store, lambda t: t.split_collection(C, 1, 0, "1.1_head"))
    assert store.collection_list("1.1_head", None, 10)[0] == sorted([b, c])
    apply(store, lambda t: t.merge_collection("1.1_head", C, 0))
    assert store.collection_list(C, None, 10)[0] == sorted([b, c])
    assert store.omap_get_values(C, b) == sorted(omap.items())
    apply(store, lambda t: t.remove(C, b).remove(C, c))
    assert store.collection_list(C, None, 10) == ([], None)
    with store._read_view() as kv:
        assert list(kv.iterate(SP_ONODE, b"", None)) == []
        assert list(kv.iterate(SP_OMAP, b"", None)) == []


def test_long_key_digest_collision_is_eio(tmp_path):
    s = make_store("mem", tmp_path)
    s.apply_transaction(Transaction().create_collection(C))
    o = ObjectKey("l" * 900)
    full = escape_str(C) + o.encode()
    other = full[:-20] + b"X" * 20  # same stored prefix, different full key
    s.kv.put(SP_ONODE, stored_key(full), bytes(16) + other)  # pretend its digest collides
    assert not s.exists(C, o)
    assert err(s, Transaction().touch(C, o)) == errno.EIO


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
    assert err(s, Transaction().touch(C, "n" * (16 << 10))) == errno.ENAMETOOLONG
    s.apply_transaction(Transaction().touch(C, "n" * 8000))  # upstream's 2048 fits with room
    lim2 = StoreLimits(max_omap_key_len=1000)
    s2 = make_store(kind, tmp_path / "s2", limits=lim2)
    s2.apply_transaction(Transaction().create_collection(C).touch(C, "o"))
    s2.apply_transaction(Transaction().omap_setkeys(C, "o", {"k" * 1000: b""}))
    assert err(s2, Transaction().omap_setkeys(C, "o", {"k" * 1001: b""})) == errno.ENAMETOOLONG
    assert s2.fsck() == []
    s2.umount()
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


def test_truncate_drops_whole_extents_unread_and_verifies_a_kept_head(kind, tmp_path):
    s = make_store(kind, tmp_path)
    data = b"z" * (2 * E + 5)
    s.apply_transaction(Transaction().create_collection(C).write(C, "o", 0, data))
    corrupt_first_extent(s)
    # cutting into the corrupt extent must read it: refused rather than keep garbage
    assert err(s, Transaction().truncate(C, "o", 3)) == errno.EIO
    # what write_full does: truncate to 0, then write; the corrupt extent goes unread
    s.apply_transaction(Transaction().truncate(C, "o", 0).write(C, "o", 0, b"new"))
    assert s.read(C, "o") == b"new" and s.fsck() == []
    s.apply_transaction(Transaction().write(C, "p", 0, data).truncate(C, "p", E + 1))
    assert s.read(C, "p") == data[: E + 1] and s.fsck() == []
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


def test_multi_extent_reads_across_holes_and_a_short_tail(store):
    """Reads spanning stored extents, holes between them and a short last extent (the
    multi-extent path joins the stored views with zero runs) equal the model's bytes at
    every extent boundary and one byte either side."""
    a, b = bytes(range(256)) * 16, bytes(reversed(range(256))) * 16  # E bytes each
    apply(
        store, lambda t: t.write(C, "o", 0, a).write(C, "o", 3 * E, b).write(C, "o", 5 * E, b"tail")
    )
    model = a + bytes(2 * E) + b + bytes(E) + b"tail"
    cuts = sorted({max(0, k * E + d) for k in range(7) for d in (-1, 0, 1)})
    for off in cuts:
        for end in cuts:
            if end > off:
                assert store.read(C, "o", off, end - off) == model[off:end], (off, end)
    assert store.read(C, "o") == model
    assert type(store.read(C, "o", 1, 3 * E)) is bytes
