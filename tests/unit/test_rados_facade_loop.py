"""LoopThread: blocking runs, futures, the finisher thread, structured stop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from tests.waiting import wait_until

from pyceph.client.loop_thread import LoopThread
from pyceph.common.errors import CephError


async def _value(v):
    await asyncio.sleep(0)
    return v


async def _fail():
    raise CephError(2, "nope")


def test_run_submit_and_errors():
    lt = LoopThread("t1").start()
    try:
        assert lt.run(_value(5)) == 5
        assert lt.submit(_value(6)).result(5) == 6
        with pytest.raises(CephError) as ei:
            lt.run(_fail())
        assert ei.value.errno == 2
        with pytest.raises(CephError) as ei:
            lt.run(asyncio.sleep(10), timeout=0.05)
        assert ei.value.errno == 110
    finally:
        lt.stop()


def test_finisher_runs_in_order_off_loop():
    lt = LoopThread("t2").start()
    seen = []
    done = threading.Event()
    for i in range(50):
        lt.finish(lambda i=i: seen.append((i, threading.current_thread().name)))
    lt.finish(done.set)
    assert done.wait(5)
    lt.stop()
    assert [i for i, _ in seen] == list(range(50))
    assert {n for _, n in seen} == {"t2-finisher"}


def test_stop_cancels_outstanding_and_joins():
    lt = LoopThread("t3").start()
    fut = lt.submit(asyncio.sleep(100))
    lt.stop()
    assert fut.cancelled()
    assert not lt.running
    assert not any(t.name.startswith("t3-") for t in threading.enumerate())
    with pytest.raises(CephError) as ei:
        lt.run(_value(1))
    assert ei.value.errno == 108
    lt.stop()  # idempotent


def test_loop_thread_callbacks_go_in_batches_in_order():
    """Callbacks queued from the loop thread in one iteration reach the finisher as one
    batch, in order, behind what was queued before; several iterations keep their order."""
    lt = LoopThread("t4").start()
    seen: list[tuple[int, str]] = []
    done = threading.Event()

    def record(i: int) -> None:
        seen.append((i, threading.current_thread().name))

    async def queue_from_loop() -> None:
        for i in range(10):
            lt.finish(lambda i=i: record(i))
        await asyncio.sleep(0)  # a new iteration: a second batch
        for i in range(10, 20):
            lt.finish(lambda i=i: record(i))

    try:
        lt.run(queue_from_loop())
        lt.finish(done.set)
        assert done.wait(5)
    finally:
        lt.stop()
    assert [i for i, _ in seen] == list(range(20))
    assert {n for _, n in seen} == {"t4-finisher"}


def test_a_batch_left_by_the_stopping_loop_still_runs():
    """Callbacks the loop thread queued in the iteration in which the loop stopped run
    before stop() returns, none lost (uvloop still runs the batch's flush in that
    iteration, asyncio's own loop does not: stop() flushes what is left)."""
    lt = LoopThread("t5").start()
    seen: list[int] = []
    blocked = threading.Event()
    release = threading.Event()

    def queue_and_stop() -> None:
        for i in range(5):
            lt.finish(lambda i=i: seen.append(i))
        lt.loop.stop()  # the loop ends this iteration: the batch's flush never runs

    lt.finish(lambda: (blocked.set(), release.wait(5)))  # hold the finisher meanwhile
    assert blocked.wait(5)
    loop = lt.loop
    lt.call_soon(queue_and_stop)
    wait_until(loop.is_closed, "the loop thread to end", 5)
    release.set()
    lt.stop()
    assert seen == list(range(5))
    assert not any(t.name.startswith("t5-") for t in threading.enumerate())
