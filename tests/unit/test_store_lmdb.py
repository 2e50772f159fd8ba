"""LmdbStore specifics: persistence, kill -9 durability, group commit,
backpressure, LMDB map-full handling."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pyceph.store import LmdbStore, StoreError, Transaction

C = "1.0_head"


def open_store(path, capacity=1 << 30, **kw) -> LmdbStore:
    s = LmdbStore(path, capacity, **kw)
    s.mkfs()
    s.mount()
    return s


def test_reopen_persists(tmp_path):
    s = open_store(tmp_path, extent_size=8192)
    s.apply_transaction(
        Transaction()
        .create_collection(C)
        .write(C, "o", 100, b"x" * 50_000)
        .setattr(C, "o", "a", b"1")
    )
    st = s.statfs()
    s.umount()
    s2 = LmdbStore(tmp_path, 1 << 30)  # extent size comes from the superblock
    s2.mount()
    assert s2.extent_size == 8192
    assert s2.read(C, "o") == bytes(100) + b"x" * 50_000
    assert s2.getattr(C, "o", "a") == b"1"
    assert s2.statfs() == st and s2.fsck() == []
    s2.umount()
    with pytest.raises(StoreError) as ei:
        LmdbStore(tmp_path / "empty", 1 << 20).mount()
    assert ei.value.errno == errno.ENOENT


def test_reopen_long_names_and_omap_keys(tmp_path):
    """Digest-keyed records (names and omap keys past LMDB's 511-byte keys) persist."""
    names = ["n" * 2048, "n" * 2047 + "m", "short"]
    omap = {"k" * 70_000: b"huge", "k" * 600: b"mid", "k": b"small"}
    s = open_store(tmp_path)
    t = Transaction().create_collection(C)
    for i, n in enumerate(names):
        t.write(C, n, 0, str(i).encode())
    t.omap_setkeys(C, names[0], omap)
    s.apply_transaction(t)
    st = s.statfs()
    s.umount()
    s2 = open_store(tmp_path)
    assert [o.name for o in s2.collection_list(C, None, 10)[0]] == sorted(names)
    assert [s2.read(C, n) for n in names] == [b"0", b"1", b"2"]
    assert s2.omap_get_values(C, names[0]) == sorted(omap.items())
    assert s2.omap_get_values(C, names[0], start_after="k" * 600) == [("k" * 70_000, b"huge")]
    assert s2.statfs() == st and s2.fsck() == []
    s2.umount()


def test_group_commit_batches(tmp_path):
    s = open_store(tmp_path)
    s.apply_transaction(Transaction().create_collection(C))
    base = s.perf["commits"]

    async def main():
        await asyncio.gather(
            *(
                s.queue_transaction(Transaction().write(C, f"o{i}", 0, os.urandom(4096)))
                for i in range(200)
            )
        )
        # a second wave arriving while the first commits
        t0 = [s.queue_transaction(Transaction().touch(C, f"p{i}")) for i in range(200)]
        await asyncio.gather(*t0)

    asyncio.run(main())
    syncs = s.perf["commits"] - base
    assert s.perf["txns"] == 401
    assert syncs <= 10, syncs  # 400 transactions, a handful of fsyncs
    assert s.statfs()["num_objects"] == 400
    s.umount()


def test_backpressure_bounds_queue(tmp_path):
    s = open_store(tmp_path, max_queue_txns=8, max_batch_txns=4)
    s.apply_transaction(Transaction().create_collection(C))
    peak = 0

    async def main():
        nonlocal peak

        async def watch():
            nonlocal peak
            while True:
                peak = max(peak, s._inflight_txns)
                await asyncio.sleep(0)

        w = asyncio.create_task(watch())
        await asyncio.gather(
            *(s.queue_transaction(Transaction().write(C, "o", 0, b"%05d" % i)) for i in range(100))
        )
        w.cancel()
        await s.flush()

    asyncio.run(main())
    assert 0 < peak <= 8
    assert s.read(C, "o") == b"00099"  # order preserved through the wait line
    assert s.perf["commits"] >= 100 // 4
    s.umount()


def test_map_full_is_enospc(tmp_path):
    # capacity says there is room, but the LMDB map is tiny: MapFullError -> ENOSPC
    s = open_store(tmp_path, capacity=1 << 30, map_size=2 << 20)
    s.apply_transaction(Transaction().create_collection(C))
    ok = []
    with pytest.raises(StoreError) as ei:
        for i in range(20):
            s.apply_transaction(
                Transaction()
                .write(C, f"o{i}", 0, bytes([i]) * 300_000)
                .meta_set(C, b"k%d" % i, b"v")
            )
            ok.append(i)
    assert ei.value.errno == errno.ENOSPC
    assert ok and not s.exists(C, f"o{len(ok)}")
    assert s.fsck() == []

    async def batch():
        # a batch where some transactions fit and the big one does not
        return await asyncio.gather(
            s.queue_transaction(Transaction().meta_set(C, b"small1", b"1")),
            s.queue_transaction(Transaction().write(C, "huge", 0, b"h" * (4 << 20))),
            s.queue_transaction(Transaction().meta_set(C, b"small2", b"2")),
            return_exceptions=True,
        )

    r = asyncio.run(batch())
    assert (
        r[0] is None
        and r[2] is None
        and isinstance(r[1], StoreError)
        and r[1].errno == errno.ENOSPC
    )
    assert s.meta_get(C, b"small2") == b"2" and not s.exists(C, "huge")
    for i in ok:
        assert s.read(C, f"o{i}") == bytes([i]) * 300_000
    s.apply_transaction(Transaction().remove(C, "o0").remove(C, "o1"))
    s.apply_transaction(Transaction().write(C, "after", 0, b"a" * 300_000))
    assert s.read(C, "after") == b"a" * 300_000 and s.fsck() == []
    s.umount()


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pyceph.store import LmdbStore, Transaction
    s = LmdbStore(sys.argv[1], 1 << 30)
    s.mkfs(); s.mount()
    s.apply_transaction(Transaction().create_collection("c"))
    print("ready", flush=True)

    def payload(i):
        return (b"%08d" % i) * 512 * (1 + i % 3)

    async def one(i):
        t = Transaction().write("c", "o%d" % i, 0, payload(i)).meta_set("c", b"log%08d" % i, b"e%d" % i)
        t.write("c", "counter", 0, b"%08d" % i)
        await s.queue_transaction(t)
        sys.stdout.write("ack %d\\n" % i)
        sys.stdout.flush()

    async def main():
        i = 0
        inflight = set()
        while True:
            while len(inflight) < 32:
                inflight.add(asyncio.ensure_future(one(i)))
                i += 1
            done, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)

    asyncio.run(main())
    """
)


def test_kill9_durability(tmp_path):
    path = str(tmp_path / "db")
    p = subprocess.Popen(
        [sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE, text=True, bufsize=1
    )
    acked = []
    try:
        assert p.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            acked.append(int(line.split()[1]))
        os.kill(p.pid, signal.SIGKILL)  # mid-stream: writes are still in flight
    finally:
        p.kill()
        p.wait()
    assert len(acked) > 100
    s = LmdbStore(path, 1 << 30)
    s.mount()
    for i in acked:
        assert s.read("c", f"o{i}") == (b"%08d" % i) * 512 * (1 + i % 3)
        assert s.meta_get("c", b"log%08d" % i) == b"e%d" % i
    assert int(s.read("c", "counter")) >= max(acked) - 64
    assert s.fsck() == []
    s.umount()


def test_osd_opens_its_store_with_the_extent_size_and_group_commit_options(tmp_path):
    """pyceph_store_extent_size applies when the store is created (later values do not
    change a store's layout); pyceph_store_group_commit_max_ops bounds every batch."""
    from pyceph.common.config import CephConfig
    from pyceph.common.runtime import real_runtime
    from pyceph.osd.daemon import open_store as open_osd_store

    cfg = CephConfig("osd.0", "ceph", hostname="vm", pid=1, environ={})
    cfg.set("osd_data", str(tmp_path))
    cfg.set("pyceph_store_extent_size", "16384")
    cfg.set("pyceph_store_group_commit_max_ops", "7")
    store = open_osd_store(real_runtime(), cfg, mkfs=True)
    try:
        assert (store.extent_size, store.max_batch_txns) == (16384, 7)
    finally:
        store.umount()
    cfg.set("pyceph_store_extent_size", "65536")
    store = open_osd_store(real_runtime(), cfg)
    try:
        assert store.extent_size == 16384
    finally:
        store.umount()


def test_statfs_counts_the_pages_of_every_commit_at_once(tmp_path):
    """`used` is LMDB's pages in use as of the last commit (kept by the committer, not
    counted per statfs): a write's pages show as soon as it is durable, and a removal's
    pages come back."""
    s = open_store(tmp_path)

    async def main():
        await s.queue_transaction(Transaction().create_collection(C))
        before = s.statfs()
        assert before["used"] == s.pages_in_use() * 4096
        await s.queue_transaction(Transaction().write(C, "big", 0, os.urandom(8 << 20)))
        grown = s.statfs()
        assert grown["used"] == s.pages_in_use() * 4096 >= before["used"] + (8 << 20)
        assert grown["available"] == grown["total"] - grown["used"]
        await s.queue_transaction(Transaction().remove(C, "big"))
        assert s.statfs()["used"] == s.pages_in_use() * 4096 < grown["used"]

    try:
        asyncio.run(main())
    finally:
        s.umount()
