"""Backfill reservations alone (pyceph.osd.reserver): slots, FIFO order, releases."""

from __future__ import annotations

import asyncio

from pyceph.osd.reserver import AsyncReserver, Reserver


def test_slots_are_granted_in_arrival_order():
    r = Reserver(1)
    assert r.request("a") and r.request("a")  # a repeat keeps the slot
    assert not r.request("b") and not r.request("c")
    assert r.release("a") == ["b"]
    assert r.release("c") == []  # c gave up its place in the queue
    assert r.release("b") == [] and not r.granted


def test_more_slots():
    r = Reserver(2)
    assert r.request(1) and r.request(2) and not r.request(3)
    assert r.release(2) == [3] and r.granted == {1, 3}


def test_async_waiter_is_woken_by_a_release():
    async def main():
        r = AsyncReserver(1)
        await r.reserve("a")
        t = asyncio.ensure_future(r.reserve("b"))
        await asyncio.sleep(0)
        assert not t.done() and not r.holds("b")
        r.release("a")
        await asyncio.wait_for(t, 1)
        assert r.holds("b")
        # a waiter whose caller gave up (interval change) leaves the queue
        w = asyncio.ensure_future(r.reserve("c"))
        await asyncio.sleep(0)
        w.cancel()
        r.release("c")
        r.release("b")
        assert not r.r.granted and not r.r.queue

    asyncio.run(main())
