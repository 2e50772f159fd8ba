"""librbd's write-around cache policy (rbdlib/write_around.py) on its own: admission
order, the rbd_cache_max_dirty bound, overlaps, errors reported by the next flush."""

from __future__ import annotations

import asyncio
import errno

import pytest

from pyceph.common.errors import CephError
from pyceph.rbdlib.write_around import WriteAround

KiB = 1024


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


class Gate:
    """An OSD write the test completes (or fails) when it chooses."""

    def __init__(self) -> None:
        self.release: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def op(self) -> None:
        await self.release


async def send(wa: WriteAround, offset: int, length: int, op) -> None:
    """Admit a write and send it (`op` is its OSD write)."""
    slot = await wa.admit(offset, length)
    wa.send(slot, op)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_writes_go_through_until_the_first_user_flush():
    async def main():
        wa = WriteAround(24 * KiB, writethrough_until_flush=True)
        assert not wa.active
        wa.user_flushed()
        assert wa.active and wa.max_dirty == 24 * KiB
        assert WriteAround(24 * KiB, writethrough_until_flush=False).active
        off = WriteAround(0, writethrough_until_flush=False)
        off.user_flushed()
        assert not off.active  # rbd_cache_max_dirty = 0: write-through for good

    run(main())


def test_admitted_writes_are_acknowledged_before_they_complete_within_max_dirty():
    async def main():
        wa = WriteAround(8 * KiB, writethrough_until_flush=False)
        gates = [Gate() for _ in range(3)]
        for i in range(2):
            await send(wa, i * 4 * KiB, 4 * KiB, gates[i].op())
        assert wa.in_flight_bytes == 8 * KiB
        third = asyncio.ensure_future(wa.admit(8 * KiB, 4 * KiB))
        await settle()
        assert not third.done()  # over rbd_cache_max_dirty: waits for room
        gates[0].release.set_result(None)
        slot = await third
        wa.send(slot, gates[2].op())
        assert wa.in_flight_bytes == 8 * KiB
        for g in gates[1:]:
            g.release.set_result(None)
        await wa.drain()
        assert wa.in_flight_bytes == 0 and wa.take_error() == 0
        await wa.close()

    run(main())


def test_a_write_larger_than_max_dirty_goes_when_nothing_is_in_flight():
    async def main():
        wa = WriteAround(4 * KiB, writethrough_until_flush=False)
        gate = Gate()
        await send(wa, 0, 64 * KiB, gate.op())
        assert wa.in_flight_bytes == 64 * KiB
        gate.release.set_result(None)
        await wa.close()

    run(main())


def test_overlapping_writes_wait_and_later_ones_keep_their_order():
    async def main():
        wa = WriteAround(1 << 20, writethrough_until_flush=False)
        first = Gate()
        await send(wa, 0, 8 * KiB, first.op())
        order = []

        async def later(name, offset):
            slot = await wa.admit(offset, 4 * KiB)
            order.append(name)
            wa.send(slot, asyncio.sleep(0))

        overlapping = asyncio.ensure_future(later("overlapping", 4 * KiB))
        disjoint = asyncio.ensure_future(later("disjoint", 64 * KiB))
        await settle()
        assert order == []  # the disjoint write stays behind the blocked one (FIFO)
        first.release.set_result(None)
        await asyncio.gather(overlapping, disjoint)
        assert order == ["overlapping", "disjoint"]
        await wa.close()

    run(main())


def test_reads_wait_for_overlapping_writes_in_flight_only():
    async def main():
        wa = WriteAround(1 << 20, writethrough_until_flush=False)
        gate = Gate()
        await send(wa, 4 * KiB, 4 * KiB, gate.op())
        await asyncio.wait_for(wa.wait_overlapping(0, 4 * KiB), 1)  # adjacent: no wait
        read = asyncio.ensure_future(wa.wait_overlapping(6 * KiB, 4 * KiB))
        await settle()
        assert not read.done()
        gate.release.set_result(None)
        await read
        await wa.close()

    run(main())


def test_a_failed_write_is_reported_once_by_the_next_flush():
    async def main():
        wa = WriteAround(1 << 20, writethrough_until_flush=False)

        async def fails(err):
            raise CephError(err, "write failed")

        for i, err in enumerate((errno.EDQUOT, errno.EIO)):
            await send(wa, i * 4 * KiB, 4 * KiB, fails(err))
        await wa.drain()
        assert wa.take_error() == -errno.EDQUOT  # the first one
        assert wa.take_error() == 0
        await wa.close()

    run(main())


def test_a_cancelled_waiting_write_is_never_sent_and_frees_its_turn():
    async def main():
        wa = WriteAround(4 * KiB, writethrough_until_flush=False)
        gate = Gate()
        await send(wa, 0, 4 * KiB, gate.op())
        waiting = asyncio.ensure_future(wa.admit(4 * KiB, 4 * KiB))
        behind = asyncio.ensure_future(wa.admit(8 * KiB, 4 * KiB))
        await settle()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.release.set_result(None)
        slot = await behind
        assert wa.in_flight_bytes == 4 * KiB  # only the one behind it
        wa.send(slot, asyncio.sleep(0))
        await wa.close()
        assert wa.in_flight_bytes == 0

    run(main())


def test_overlap_queries_match_a_brute_force_check():
    """In-flight ranges are disjoint and kept sorted; a read waits exactly when some
    write in flight overlaps it (checked against every range, for random layouts)."""
    import random

    async def main():
        rng = random.Random(7)
        for _ in range(20):
            wa = WriteAround(1 << 30, writethrough_until_flush=False)
            gate = Gate()
            ranges, pos = [], 0
            for _ in range(rng.randrange(1, 8)):
                pos += rng.randrange(0, 3) * 512
                length = rng.randrange(1, 4) * 512
                ranges.append((pos, pos + length))
                await send(wa, pos, length, gate.op())
                pos += length
            for _ in range(30):
                off, n = rng.randrange(0, pos + 1024), rng.randrange(1, 2048)
                expect = any(o < off + n and off < e for o, e in ranges)
                waiter = asyncio.ensure_future(wa.wait_overlapping(off, n))
                await settle()
                assert waiter.done() is not expect, (ranges, off, n)
                waiter.cancel()
            gate.release.set_result(None)
            await wa.close()

    run(main())
