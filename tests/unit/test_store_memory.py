"""What the store holds in memory: the undo log of a transaction refers to committed
values instead of copying them, LMDB's map is dropped from the process past its read
bound, and a failed transaction in a batch still rolls back exactly."""

from __future__ import annotations

import asyncio
import errno
import os
from contextlib import nullcontext

from pyceph.store import LmdbStore, StoreError, Transaction
from pyceph.store.kvcore import Applier, StoreState, UndoKV
from pyceph.store.mapres import PROC_MAPS, MappedReads, file_mappings, resident_file_bytes
from pyceph.store.memstore import MemKV
from pyceph.store.types import DEFAULT_EXTENT_SIZE, ObjectKey, StoreLimits

C = "1.0_head"
MiB = 1 << 20


def open_store(path, **kw) -> LmdbStore:
    s = LmdbStore(path, 1 << 30, **kw)
    s.mkfs()
    s.mount()
    return s


def _apply(kv: UndoKV, state: StoreState, t: Transaction) -> None:
    Applier(kv, state, StoreLimits(), DEFAULT_EXTENT_SIZE, None).apply(t)


def test_removing_committed_data_copies_nothing_into_the_undo_log():
    """Removing a 4 MiB object: the undo log holds markers, not its 64 extents' bytes;
    a rollback still brings every extent back from the committed state."""
    kv, state = MemKV(), StoreState()
    blob = os.urandom(4 * MiB)
    _apply(UndoKV(kv), state, Transaction().create_collection(C).write(C, "o", 0, blob))
    committed = MemKV()
    for sp, space in enumerate(kv.spaces):
        for k, v in space.d.items():
            committed.put(sp, k, v)
    undo = UndoKV(kv, lambda: nullcontext(committed), set())
    saved = state.copy()
    _apply(undo, state, Transaction().remove(C, "o"))
    assert undo.copied_bytes() == 0
    assert len(undo.undo) >= 4 * MiB // DEFAULT_EXTENT_SIZE  # every extent is logged
    undo.rollback()
    state = saved
    reader = Applier(kv, state, StoreLimits(), DEFAULT_EXTENT_SIZE, None)
    assert reader.read(C, ObjectKey("o"), 0, None) == blob


def test_keys_changed_earlier_in_the_batch_are_copied():
    """A key the batch already changed is not the committed value any more: copied."""
    kv = MemKV()
    touched: set = set()
    kv.put(0, b"k", b"committed")
    first = UndoKV(kv, lambda: nullcontext(MemKV()), touched)
    first.put(0, b"k", b"batch")
    second = UndoKV(kv, lambda: nullcontext(MemKV()), touched)
    second.delete(0, b"k")
    assert second.copied_bytes() == len(b"batch")
    second.rollback()
    assert kv.get(0, b"k") == b"batch"


def test_failed_transaction_in_a_batch_rolls_back_over_committed_and_batch_values(tmp_path):
    """One LMDB write batch: t1 writes `a`; t2 removes the committed `b`, rewrites `a`,
    then fails; t3 writes `c`. t2 leaves no trace, t1 and t3 stand, fsck is clean."""
    s = open_store(tmp_path)
    b_data = os.urandom(DEFAULT_EXTENT_SIZE * 3 + 100)
    s.apply_transaction(Transaction().create_collection(C).write(C, "b", 0, b_data))
    a1, a2, c = os.urandom(5000), os.urandom(200_000), os.urandom(70_000)

    async def main():
        return await asyncio.gather(
            s.queue_transaction(Transaction().write(C, "a", 0, a1)),
            s.queue_transaction(
                Transaction()
                .remove(C, "b")
                .write(C, "a", 0, a2)
                .clone(C, "no-such-object", "x")  # ENOENT: the whole transaction fails
            ),
            s.queue_transaction(Transaction().write(C, "c", 0, c)),
            return_exceptions=True,
        )

    r = asyncio.run(main())
    assert r[0] is None and r[2] is None
    assert isinstance(r[1], StoreError) and r[1].errno == errno.ENOENT
    assert s.read(C, "a") == a1
    assert s.read(C, "b") == b_data
    assert s.read(C, "c") == c
    assert s.fsck() == []
    s.umount()


def test_map_pages_are_dropped_past_the_read_bound(tmp_path):
    """Reading more than `map_read_release` bytes of extents drops the map's pages: the
    bytes read since the last release never exceed the bound after a read returns."""
    bound = 2 * MiB
    s = open_store(tmp_path, map_read_release=bound)
    blob = os.urandom(MiB)
    t = Transaction().create_collection(C)
    for i in range(8):
        t.write(C, f"o{i}", 0, blob)
    s.apply_transaction(t)
    releases = s.mapped_reads.releases
    for i in range(8):
        assert s.read(C, f"o{i}") == blob
        assert s.mapped_reads.pending < bound
    assert s.mapped_reads.releases >= releases + 3
    assert s.read(C, "o0") == blob  # the pages come back on the next access
    s.umount()


def test_release_finds_the_data_file_mapping(tmp_path):
    s = open_store(tmp_path)
    with open(PROC_MAPS) as f:
        ranges = file_mappings(os.path.realpath(tmp_path / "data.mdb"), f.read())
    assert len(ranges) == 1 and ranges[0][1] > ranges[0][0]
    assert s.mapped_reads.release()
    s.umount()


def test_file_mappings_parses_proc_maps():
    text = (
        "7f00-7f10 r--s 00000000 fe:00 12 /x/data.mdb\n"
        "7f20-7f30 rw-s 00000000 fe:00 13 /x/lock.mdb\n"
        "7f40-7f50 r-xp 00000000 fe:00 14 /x/data.mdb (deleted)\n"
        "7f60-7f70 rw-p 00000000 00:00 0 \n"
    )
    assert file_mappings("/x/data.mdb", text) == [(0x7F00, 0x7F10)]


def test_zero_bound_never_releases(tmp_path):
    m = MappedReads(str(tmp_path / "data.mdb"), 0)
    m.add(1 << 40)
    assert not m.maybe_release() and m.releases == 0


def test_encode_split_sends_a_single_write_payload_uncopied():
    """A replicated write's data is the client's own buffer on the wire, and the replica's
    ops refer to the received buffer: no copy of the payload on either side."""
    payload = memoryview(bytearray(os.urandom(4 * MiB)))
    t = (
        Transaction()
        .write(C, ObjectKey("o", hash=7), 0, payload)
        .setattrs(C, "o", {"_": b"oi"})
        .write(C, "small", 0, b"tiny")  # short payloads stay in the ops
        .meta_set(C, b"log.1", b"entry")
    )
    ops, data = t.encode_split()
    assert data is payload
    assert len(ops) < 1024
    received = bytearray(data)  # what a frame buffer holds after the socket read
    t2 = Transaction.decode_split(ops, received)
    assert [op[:4] for op in t2.ops] == [op[:4] for op in t.ops]
    w = t2.ops[0][4]
    assert isinstance(w, memoryview) and w.obj is received and w == payload
    assert t2.ops[2][4] == b"tiny"


def test_encode_split_joins_several_payloads_and_applies_the_same(tmp_path):
    a, b = os.urandom(10_000), os.urandom(70_000)
    t = Transaction().create_collection(C).write(C, "a", 0, a).write(C, "b", 5, b)
    ops, data = t.encode_split()
    assert bytes(data) == a + b
    s = open_store(tmp_path)
    s.apply_transaction(Transaction.decode_split(ops, data))
    assert s.read(C, "a") == a and s.read(C, "b") == bytes(5) + b
    s.umount()


def test_decode_split_refuses_references_past_the_data():
    ops, data = Transaction().write(C, "o", 0, os.urandom(8192)).encode_split()
    try:
        Transaction.decode_split(ops, bytes(len(data) - 1))
    except ValueError as e:
        assert "past the data" in str(e)
    else:
        raise AssertionError("a short data buffer was accepted")


def test_commits_after_a_large_removal_keep_the_mapped_pages_bounded(tmp_path):
    """After a removal frees many pages LMDB rewrites (and re-reads) its free-page list
    at every commit; the store keeps what that maps within its bound."""
    bound = MiB
    s = open_store(tmp_path, map_read_release=bound)
    blob = os.urandom(MiB)
    t = Transaction().create_collection(C)
    for i in range(32):
        t.write(C, f"big{i}", 0, blob)
    s.apply_transaction(t)
    t = Transaction()
    for i in range(32):
        t.remove(C, f"big{i}")
    s.apply_transaction(t)
    small = os.urandom(4096)

    async def main():
        for r in range(20):
            await asyncio.gather(
                *(
                    s.queue_transaction(Transaction().write(C, f"s{r}.{i}", 0, small))
                    for i in range(32)
                )  # fmt: skip
            )
            grown = resident_file_bytes() - s.mapped_reads.resident_base
            assert grown < bound + MiB, grown  # one commit's pages past the bound at most

    asyncio.run(main())
    assert s.fsck() == []
    s.umount()
