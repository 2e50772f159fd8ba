"""The daemons' heap trimming (`pyceph.common.heap`): the policy, and glibc's trim
giving a fragmented heap's free pages back."""

from __future__ import annotations

import asyncio

from pyceph.common.heap import GlibcHeap, HeapTrimmer, keep_heap_trimmed, trim_once

MiB = 1 << 20
#: below glibc's default mmap threshold (128 KiB): served from the heap
CHUNK = 64 * 1024


def test_policy_trims_only_past_the_bound():
    t = HeapTrimmer(free_max=8 * MiB)
    assert not t.should_trim(8 * MiB)
    assert t.should_trim(8 * MiB + 1)


def test_a_fragmented_heap_is_trimmed_and_gives_pages_back():
    heap = GlibcHeap.load()
    assert heap is not None  # the test machines run glibc >= 2.33
    bufs = [bytearray(CHUNK) for _ in range(512)]  # 32 MiB, touched (zero-filled)
    keep = bufs[3::4]  # holes between live chunks: nothing at the top to give back
    del bufs
    assert heap.free_bytes() > 16 * MiB
    trimmer = HeapTrimmer(free_max=8 * MiB)
    assert trim_once(heap, trimmer)
    assert trimmer.trims == 1 and trimmer.releases == 1
    assert not trim_once(heap, HeapTrimmer(free_max=1 << 50))
    del keep


def test_keep_heap_trimmed_runs_until_cancelled_and_zero_interval_is_off():
    async def main():
        assert await keep_heap_trimmed(0, 0) is None  # disabled: returns at once
        task = asyncio.create_task(keep_heap_trimmed(0.01, 0))
        await asyncio.sleep(0.05)
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert task.cancelled()

    asyncio.run(main())
