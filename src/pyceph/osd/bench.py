"""`ceph tell osd.N bench [COUNT] [SIZE] [OBJECT_SIZE] [OBJECT_NUM]`: the OSD's own store
write benchmark (upstream OSD::run_osd_bench_test, Pacific).

It writes COUNT bytes in SIZE blocks straight into the OSD's object store (no PG, no
replication), every write durable, and reports the rate. Upstream's guards keep it short:
SIZE is capped by `osd_bench_max_block_size`, and COUNT by what `osd_bench_duration`
seconds would move at `osd_bench_small_size_max_iops` (blocks < 1 MiB) or at
`osd_bench_large_size_max_throughput` (larger blocks). The objects live in a collection of
their own, removed afterwards.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.output import byte_u
from pyceph.common.runtime import Clock
from pyceph.osd.service import OSDOptions
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction

#: The store collection the benchmark writes into (never a PG's).
BENCH_CID = "osd_bench"
#: Writes the benchmark keeps queued at once (the store group-commits them).
BENCH_IN_FLIGHT = 16
#: Upstream's defaults: 1 GiB in 4 MiB blocks.
DEFAULT_COUNT = 1 << 30
DEFAULT_BSIZE = 4 << 20
#: Below this block size the IOPS guard applies, at or above it the throughput guard.
LARGE_BLOCK = 1 << 20


def check_bench_args(count: int, bsize: int, opts: OSDOptions) -> None:
    """Upstream's guards; CephError(EINVAL) with its message when the run is too large."""
    duration = opts.bench_duration
    max_block = opts.bench_max_block_size
    if bsize > max_block:
        raise CephError(
            errno.EINVAL,
            f"block 'size' values are capped at {byte_u(max_block)}. If you wish to use a "
            "higher value, please adjust 'osd_bench_max_block_size'",
        )
    if bsize < LARGE_BLOCK:
        iops = opts.bench_small_size_max_iops
        max_count = bsize * duration * iops
        if count > max_count:
            raise CephError(
                errno.EINVAL,
                f"'count' values greater than {max_count} for a block size of {byte_u(bsize)}, "
                f"assuming {iops} IOPS, for {duration} seconds, can cause ill effects on osd.  "
                "Please adjust 'osd_bench_small_size_max_iops' with a higher value if you "
                "wish to use a higher 'count'.",
            )
    else:
        rate = opts.bench_large_size_max_throughput
        max_count = rate * duration
        if count > max_count:
            raise CephError(
                errno.EINVAL,
                f"'count' values greater than {max_count} for a block size of {byte_u(bsize)}, "
                f"assuming {byte_u(rate)}/s, for {duration} seconds, can cause ill effects on "
                "osd.  Please adjust 'osd_bench_large_size_max_throughput' with a higher value "
                "if you wish to use a higher 'count'.",
            )


async def run_bench(
    store: ObjectStore, clock: Clock, count: int, bsize: int, osize: int = 0, onum: int = 0
) -> dict[str, Any]:
    """Write `count` bytes in `bsize` blocks; upstream's result keys."""
    if bsize <= 0 or count < 0:
        raise CephError(errno.EINVAL, "bench: 'count' and 'size' must be positive")
    if osize and bsize > osize:
        bsize = osize
    block = bytes(bsize)  # zeroes, as upstream
    await store.queue_transaction(Transaction().create_collection(BENCH_CID))
    names: set[str] = set()
    gate = asyncio.Semaphore(BENCH_IN_FLIGHT)
    try:

        async def one(i: int) -> None:
            if osize and onum:  # upstream picks these at random; spread them evenly
                name, off = f"disk_bench_{i % onum}", (i // onum * bsize) % osize
            else:
                name, off = f"disk_bench_{i}", 0
            names.add(name)
            async with gate:
                await store.queue_transaction(Transaction().write(BENCH_CID, name, off, block))

        start = clock.monotonic()
        await asyncio.gather(*(one(i) for i in range((count + bsize - 1) // bsize)))
        elapsed = max(clock.monotonic() - start, 1e-9)
    finally:
        t = Transaction()
        for name in sorted(names):
            t.remove(BENCH_CID, name)
        t.remove_collection(BENCH_CID)
        await store.queue_transaction(t)
    rate = count / elapsed
    return {
        "bytes_written": count,
        "blocksize": bsize,
        "elapsed_sec": elapsed,
        "bytes_per_sec": rate,
        "iops": rate / bsize,
    }
