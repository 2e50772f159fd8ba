"""Micro benchmark of the OSD object store (not a test).

Durable 4 KiB puts per second with many transactions in flight (group commit),
4 MiB object writes in MB/s, and reads, for LmdbStore (and MemStore for scale).

    python bench/store_bench.py [--dir DIR] [--seconds-ish N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time

from pyceph.store import LmdbStore, MemStore, ObjectStore, Transaction

C = "1.0_head"


async def puts_4k(store: ObjectStore, n: int, inflight: int, osd_like: bool) -> float:
    data = os.urandom(4096)
    sem = asyncio.Semaphore(inflight)

    async def one(i: int) -> None:
        async with sem:
            t = Transaction().write(C, f"small{i}", 0, data)
            if osd_like:  # object info xattr + pg log entry, as the OSD commits them
                t.setattr(C, f"small{i}", "_", b"o" * 200)
                t.meta_set(C, b"log.%016d" % i, b"e" * 150)
            await store.queue_transaction(t)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0)


async def writes_4m(store: ObjectStore, n: int, inflight: int) -> float:
    data = os.urandom(4 << 20)
    sem = asyncio.Semaphore(inflight)

    async def one(i: int) -> None:
        async with sem:
            await store.queue_transaction(Transaction().write(C, f"big{i}", 0, data))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n * 4 / (time.perf_counter() - t0)


def reads_4m(store: ObjectStore, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        store.read(C, f"big{i}")
    return n * 4 / (time.perf_counter() - t0)


def run(store: ObjectStore, label: str, n_small: int, n_big: int) -> None:
    store.mkfs()
    store.mount()
    store.apply_transaction(Transaction().create_collection(C))
    commits0 = store.perf["commits"]
    r1 = asyncio.run(puts_4k(store, n_small, 256, False))
    c1 = store.perf["commits"] - commits0
    r2 = asyncio.run(puts_4k(store, n_small, 256, True))
    r3 = asyncio.run(puts_4k(store, 2000, 1, False))
    r4 = asyncio.run(writes_4m(store, n_big, 4))  # new objects (the file grows)
    r5 = asyncio.run(writes_4m(store, n_big, 4))  # overwrites of the same objects
    r6 = reads_4m(store, n_big)
    print(f"{label}:")
    print(
        f"  4 KiB puts, 256 in flight      : {r1:10.0f} txn/s  ({n_small / max(c1, 1):.0f} txns/sync)"
    )
    print(f"  4 KiB put+xattr+pglog, 256 fl. : {r2:10.0f} txn/s")
    print(f"  4 KiB puts, 1 in flight        : {r3:10.0f} txn/s")
    print(f"  4 MiB writes, new objects      : {r4:10.0f} MB/s")
    print(f"  4 MiB overwrites              : {r5:10.0f} MB/s")
    print(f"  4 MiB reads (crc verified)     : {r6:10.0f} MB/s")
    print(f"  statfs: {store.statfs()}")
    store.umount()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", help="directory for the LMDB store (default: a temp dir)")
    ap.add_argument("--small", type=int, default=20000, help="number of 4 KiB puts")
    ap.add_argument("--big", type=int, default=64, help="number of 4 MiB writes")
    args = ap.parse_args()
    d = args.dir or tempfile.mkdtemp(prefix="store_bench.")
    try:
        run(
            LmdbStore(os.path.join(d, "lmdb"), 8 << 30),
            "LmdbStore (durable, fsync per batch)",
            args.small,
            args.big,
        )
        run(MemStore(), "MemStore", args.small, args.big)
    finally:
        if not args.dir:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
