"""The store's per-transaction shortcuts change nothing a transaction does.

`Applier` remembers onodes and collections within one transaction and skips a
write_full's truncate when the write covers the whole object. The reference here is the
same ops applied one transaction each (no shortcut can span transactions): the stores'
records, accounting, reads and errors must be identical.
"""

from __future__ import annotations

import errno
import random

import pytest

from pyceph.store import LmdbStore, MemStore, ObjectKey, StoreError, Transaction
from pyceph.store.kvcore import SPACE_NAMES

C = "1.0_head"
E = 4096  # small extents: multi-extent objects stay cheap
NAMES = [ObjectKey(n, hash=h, pool=1) for n, h in (("a", 1), ("b", 2), ("c", 3))]


def _mem() -> MemStore:
    s = MemStore(1 << 30, extent_size=E)
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(C))
    return s


def _records(s: MemStore) -> list[dict[bytes, bytes]]:
    return [dict(s.kv.spaces[i].d) for i in range(len(SPACE_NAMES))]


def _write_full(t: Transaction, k: ObjectKey, data: bytes) -> Transaction:
    """What the OSD's transaction writer emits for a write_full."""
    return t.truncate(C, k, 0).write(C, k, 0, data)


@pytest.mark.parametrize("old", [0, 100, E, E + 1, 3 * E, 5 * E - 7, None])
@pytest.mark.parametrize("new", [1, E, 3 * E, 3 * E + 5])
def test_write_full_in_one_transaction_equals_truncate_then_write(old, new):
    rnd = random.Random((old or 0) * 131 + new)
    k = NAMES[0]
    one, two = _mem(), _mem()
    for s in (one, two):
        if old is not None:
            s.apply_transaction(Transaction().write(C, k, 0, rnd.randbytes(old) if old else b""))
            s.apply_transaction(Transaction().touch(C, k))
    data = rnd.randbytes(new)
    one.apply_transaction(_write_full(Transaction().touch(C, k), k, data))
    two.apply_transaction(Transaction().touch(C, k).truncate(C, k, 0))
    two.apply_transaction(Transaction().write(C, k, 0, data))
    assert _records(one) == _records(two)
    assert one.state == two.state
    assert one.read(C, k, 0, None) == data
    assert one.fsck() == []


@pytest.mark.parametrize("kind", ["mem", "lmdb"])
def test_write_full_shrinking_and_growing_on_both_backends(kind, tmp_path):
    s = (
        MemStore(1 << 30, extent_size=E)
        if kind == "mem"
        else LmdbStore(tmp_path / "db", 1 << 30, extent_size=E)
    )
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(C))
    k = NAMES[1]
    for size in (3 * E + 1, E, 5 * E, 5 * E, 10, 0, 2 * E):
        data = bytes([size % 251]) * size
        s.apply_transaction(_write_full(Transaction(), k, data))
        assert s.stat(C, k) == size
        assert s.read(C, k, 0, None) == data
    assert s.fsck() == []
    s.umount()


def test_write_full_into_a_missing_collection_fails_as_before():
    s = _mem()
    with pytest.raises(StoreError) as ei:
        s.apply_transaction(Transaction().truncate("9.9_head", ObjectKey("x"), 0))
    assert ei.value.errno == errno.ENOENT
    t = Transaction().truncate("9.9_head", ObjectKey("x"), 0).write("9.9_head", "x", 0, b"d")
    with pytest.raises(StoreError) as ei:
        s.apply_transaction(t)
    assert ei.value.errno == errno.ENOENT


def _random_ops(rnd: random.Random, n: int) -> list[Transaction]:
    """Single-op transactions that cannot fail, over three objects of one collection."""
    out = []
    for _ in range(n):
        k = rnd.choice(NAMES)
        other = rnd.choice(NAMES)
        t = Transaction()
        op = rnd.randrange(11)
        if op == 0:
            t.touch(C, k)
        elif op == 1:
            t.write(C, k, rnd.randrange(3 * E), rnd.randbytes(rnd.randrange(1, 2 * E)))
        elif op == 2:
            t.truncate(C, k, rnd.choice([0, rnd.randrange(4 * E)]))
        elif op == 3:
            t.zero(C, k, rnd.randrange(3 * E), rnd.randrange(E))
        elif op == 4:
            t.remove(C, k)
        elif op == 5:
            t.touch(C, k).setattrs(C, k, {"x": rnd.randbytes(5)})
        elif op == 6:
            t.touch(C, k).clone(C, k, other)
        elif op == 7:
            t.try_rename(C, k, other)
        elif op == 8:
            t.touch(C, k).omap_setkeys(C, k, {"k": rnd.randbytes(3)})
        elif op == 9:
            t.meta_set(C, b"m" + bytes([rnd.randrange(3)]), rnd.randbytes(4))
        else:
            data = rnd.randbytes(rnd.randrange(1, 3 * E))
            t.truncate(C, k, 0).write(C, k, 0, data)
        out.append(t)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_one_transaction_equals_one_per_op(seed):
    """Onodes remembered across the ops of one transaction (created, resized, renamed,
    cloned over, removed) give exactly what applying the ops one by one gives."""
    rnd = random.Random(seed)
    ts = _random_ops(rnd, 40)
    one, each = _mem(), _mem()
    big = Transaction()
    for t in ts:
        big.append(t)
        each.apply_transaction(t)
    one.apply_transaction(big)
    assert _records(one) == _records(each)
    assert one.state == each.state
    assert one.fsck() == []


def test_collection_removed_inside_a_transaction_is_forgotten():
    s = _mem()
    t = (
        Transaction()
        .create_collection("2.0_head")
        .meta_set("2.0_head", b"k", b"v")
        .remove_collection("2.0_head")
        .meta_set("2.0_head", b"k", b"v")
    )
    with pytest.raises(StoreError) as ei:
        s.apply_transaction(t)
    assert ei.value.errno == errno.ENOENT
    assert "2.0_head" not in s.list_collections()
    assert s.fsck() == []


def test_decoding_the_same_buffer_again_gives_an_independent_equal_transaction():
    """Replicas in one process decode the primary's same bytes: the second decode reuses
    the first's ops, but each Transaction is its own (a replica appends its log entry)."""
    k = NAMES[0]
    wire = _write_full(Transaction().touch(C, k), k, b"x" * 100).encode()
    a = Transaction.decode(wire)
    b = Transaction.decode(bytes(bytearray(wire)))  # equal bytes, another object
    assert a.ops == b.ops and a.ops is not b.ops
    assert a.data_bytes == b.data_bytes == len(wire)
    a.meta_set(C, b"log", b"1")
    assert len(b.ops) == len(a.ops) - 1
    other = Transaction().remove(C, k).encode()
    assert Transaction.decode(other).ops == [(13, C, k)]
    assert Transaction.decode(wire).ops == b.ops
    big = Transaction().write(C, k, 0, b"y" * (1 << 17)).encode()
    assert Transaction.decode(big).ops[0][4] == b"y" * (1 << 17)
    assert Transaction.decode(memoryview(wire)).ops == b.ops
