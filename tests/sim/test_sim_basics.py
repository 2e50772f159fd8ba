"""The simulator's parts: virtual time, seeded randomness, crashable disks."""

from __future__ import annotations

import asyncio
import errno
import time

import pytest

from pyceph.sim import loop as simloop
from pyceph.sim.clock import SIM_EPOCH, SimClock
from pyceph.sim.disk import SimDisk
from pyceph.sim.loop import RealIOError, SimLoop, SimulationStalled
from pyceph.sim.rand import SimRand
from pyceph.store.errors import StoreError
from pyceph.store.transaction import Transaction
from pyceph.store.types import StoreSettings


def test_virtual_time_jumps_and_orders_timers():
    order = []

    async def sleeper(name: str, secs: float) -> None:
        await asyncio.sleep(secs)
        order.append((name, asyncio.get_running_loop().time()))

    async def main():
        await asyncio.gather(sleeper("day", 86400), sleeper("grace", 20), sleeper("now", 0))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 3600)
        return asyncio.get_running_loop().time()

    wall = time.monotonic()
    end = simloop.run(main())
    assert time.monotonic() - wall < 0.5
    assert order == [("now", 0.0), ("grace", 20.0), ("day", 86400.0)]
    assert end == 86400.0 + 3600.0


def test_clock_reads_virtual_time():
    loop = SimLoop()
    clock = SimClock(loop)

    async def main():
        t0 = clock.monotonic()
        await clock.sleep(12.5)
        return clock.monotonic() - t0, clock.now()

    try:
        assert loop.run_until_complete(main()) == (12.5, SIM_EPOCH + 12.5)
    finally:
        loop.close()


def test_stall_and_real_io_are_reported():
    async def stuck():
        await asyncio.get_running_loop().create_future()

    with pytest.raises(SimulationStalled):
        simloop.run(stuck())

    async def sockets():
        await asyncio.open_connection("127.0.0.1", 9)

    with pytest.raises(RealIOError):
        simloop.run(sockets())

    async def executor():
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0)

    with pytest.raises(RealIOError):
        simloop.run(executor())


def test_run_cancels_what_main_left_behind():
    ended = []

    async def forever():
        try:
            await asyncio.sleep(1e9)
        finally:
            ended.append(asyncio.get_running_loop().time())

    async def main():
        asyncio.ensure_future(forever())
        await asyncio.sleep(5)

    simloop.run(main())
    assert ended == [5.0]


def test_rand_streams_are_reproducible_and_independent():
    a, b = SimRand(42), SimRand(42)
    assert a.randbytes(32) == b.randbytes(32)
    assert [a.random() for _ in range(5)] == [b.random() for _ in range(5)]
    assert SimRand(42).fork("osd.0").randbytes(8) == SimRand(42).fork("osd.0").randbytes(8)
    assert SimRand(42).fork("osd.0").randbytes(8) != SimRand(42).fork("osd.1").randbytes(8)
    assert SimRand(42).randbytes(8) != SimRand(43).randbytes(8)
    # A fork depends only on the parent's seed, not on how much the parent has drawn.
    p = SimRand(7)
    p.randbytes(100)
    assert p.fork("x").random() == SimRand(7).fork("x").random()


def _write(name: str, data: bytes) -> Transaction:
    return Transaction().write("c", name, 0, data)


def test_disk_crash_keeps_exactly_the_resolved_transactions():
    disk = SimDisk(SimRand(1))

    async def main():
        store = disk.open_store("/sim/osd.0/store", 1 << 30, StoreSettings())
        with pytest.raises(StoreError) as e:
            store.mount()
        assert e.value.errno == errno.ENOENT
        store.mkfs()
        store.mount()
        store.apply_transaction(Transaction().create_collection("c"))
        await store.queue_transaction(_write("a", b"acked"))
        inflight = [asyncio.ensure_future(store.queue_transaction(_write(n, b"x"))) for n in "bcd"]
        await asyncio.sleep(0)
        # Applied (readable) but not yet durable.
        assert store.read("c", "b") == b"x" and disk.unsynced() == 3
        assert disk.crash() == 3
        await asyncio.gather(*inflight, return_exceptions=True)
        with pytest.raises(StoreError) as e:
            await store.queue_transaction(_write("e", b"late"))
        assert e.value.errno == errno.EIO  # the dead daemon's handle is fenced
        again = disk.open_store("/sim/osd.0/store", 1 << 30, StoreSettings())
        again.mount()
        assert again.read("c", "a") == b"acked"
        assert not again.exists("c", "b") and not again.exists("c", "e")
        assert again.fsck() == []
        # Resolved means durable: a crash right after keeps it.
        await again.queue_transaction(_write("f", b"synced"))
        assert disk.crash() == 0
        third = disk.open_store("/sim/osd.0/store", 1 << 30, StoreSettings())
        third.mount()
        assert third.read("c", "f") == b"synced"

    simloop.run(main())


def test_disk_kv_survives_crash_and_fences_old_handle():
    disk = SimDisk(SimRand(1))
    kv = disk.open_kv("/sim/mon.a/store")
    kv.commit({b"k": b"v"})
    disk.crash()
    with pytest.raises(OSError):
        kv.commit({b"k": b"w"})
    assert disk.open_kv("/sim/mon.a/store").get(b"k") == b"v"
