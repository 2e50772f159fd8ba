"""LoopThread: blocking runs, futures, the finisher thread, structured stop."""

from __future__ import annotations

import asyncio
import threading

import pytest

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
