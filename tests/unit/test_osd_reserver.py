"""Recovery/backfill reservations alone (pyceph.osd.reserver): slots, priority then FIFO
order, preemption, runtime slot changes; and the priorities (pyceph.osd.recovery_prio)."""

from __future__ import annotations

import asyncio

from pyceph.osd.recovery_prio import backfill_priority, recovery_priority
from pyceph.osd.reserver import AsyncReserver, Reserver


def test_slots_are_granted_in_arrival_order():
    r = Reserver(1)
    assert r.request("a").granted == ["a"] and r.request("a").granted == []
    assert r.holds("a")  # a repeat keeps the slot
    assert r.request("b").granted == [] and r.request("c").granted == []
    assert r.release("a").granted == ["b"]
    assert r.release("c").granted == []  # c gave up its place in the queue
    assert r.release("b").granted == [] and not r.granted


def test_more_slots():
    r = Reserver(2)
    r.request(1), r.request(2), r.request(3)
    assert set(r.granted) == {1, 2}
    assert r.release(2).granted == [3] and set(r.granted) == {1, 3}


def test_higher_priority_first_fifo_within_a_priority():
    r = Reserver(1)
    r.request("holder", 100)
    for key, prio in [("low", 100), ("hi1", 180), ("mid", 140), ("hi2", 180)]:
        assert r.request(key, prio).granted == []
    order = []
    held = "holder"
    while r.queue:
        (held,) = r.release(held).granted
        order.append(held)
    assert order == ["hi1", "hi2", "mid", "low"]


def test_a_higher_priority_waiter_preempts_a_preemptible_holder():
    r = Reserver(1)
    r.request("bf", 110, preemptible=True)
    ch = r.request("rec", 190, preemptible=True)
    assert ch.preempted == ["bf"] and ch.granted == ["rec"]
    # equal priority never preempts; a non-preemptible holder is never preempted
    assert r.request("rec2", 190).preempted == []
    r2 = Reserver(1)
    r2.request("fixed", 100)
    assert r2.request("urgent", 250).preempted == [] and r2.holds("fixed")


def test_slot_count_changes_at_runtime():
    r = Reserver(1)
    for k in "abc":
        r.request(k, 100, preemptible=True)
    assert r.set_max(3).granted == ["b", "c"] and set(r.granted) == {"a", "b", "c"}
    ch = r.set_max(1)  # fewer slots: the latest granted of the lowest priority go
    assert ch.preempted == ["c", "b"] and set(r.granted) == {"a"}
    assert r.set_max(0).preempted == ["a"]
    assert r.request("d").granted == [] and r.set_max(1).granted == ["d"]


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


def test_async_more_slots_grant_waiters_and_preemption_calls_back():
    async def main():
        r = AsyncReserver(1)
        preempted = asyncio.Event()
        await r.reserve("bf", 110, preempted.set)
        waiters = [asyncio.ensure_future(r.reserve(k, 110)) for k in ("x", "y")]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        r.set_max(3)  # osd_max_backfills raised: both waiters run at once
        await asyncio.wait_for(asyncio.gather(*waiters), 1)
        r.set_max(1)  # only "bf" is preemptible: it goes, the others stay
        await asyncio.wait_for(preempted.wait(), 1)
        assert not r.holds("bf") and r.holds("x") and r.holds("y")

    asyncio.run(main())


def test_priorities_as_upstream():
    # base + the pool's default recovery_priority 0 shifted to the middle of 0..20
    assert recovery_priority(min_size=2, avail_no_missing=2) == 190
    assert backfill_priority(size=3, min_size=2, acting=3, degraded=False) == 110
    # degraded / undersized / inactive boosts
    assert backfill_priority(size=3, min_size=2, acting=3, degraded=True) == 150
    assert backfill_priority(size=3, min_size=2, acting=2, degraded=True) == 151
    assert backfill_priority(size=3, min_size=2, acting=1, degraded=True) == 231
    assert recovery_priority(min_size=2, avail_no_missing=1) == 231
    # the pool's priority moves within the band, never past the next base
    assert recovery_priority(2, 2, pool_prio=10) == 200
    assert recovery_priority(2, 2, pool_prio=-50) == 180
    assert backfill_priority(3, 2, 3, False, pool_prio=10) == 120
    assert backfill_priority(3, 2, 2, True, pool_prio=10) == 161
    assert recovery_priority(2, 0, pool_prio=10) == 242
