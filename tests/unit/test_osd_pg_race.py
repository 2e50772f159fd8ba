"""`PG.race` owns what it awaits: however the race ends, the awaitable has ended and its
outcome was collected — no replica write is left loose to report "exception was never
retrieved" (issue: thrashing logged `_GatheringFuture exception was never retrieved`)."""

from __future__ import annotations

import asyncio
import gc
import logging
from types import SimpleNamespace

import pytest

from pyceph.osd.pg import PG, IntervalChanged


class Boom(Exception):
    pass


async def _fails_later(ev: asyncio.Event) -> None:
    await ev.wait()
    raise Boom


def _pg() -> SimpleNamespace:
    return SimpleNamespace(gen=1, _interval_fut=asyncio.get_running_loop().create_future())


def _loose(caplog: pytest.LogCaptureFixture) -> list[str]:
    gc.collect()
    return [r.getMessage() for r in caplog.records if "never retrieved" in r.getMessage()]


def test_cancelled_caller_leaves_no_loose_gather(caplog):
    caplog.set_level(logging.ERROR, logger="asyncio")

    async def main() -> None:
        pg = _pg()
        ev = asyncio.Event()
        reps = [asyncio.ensure_future(_fails_later(ev)) for _ in range(2)]
        caller = asyncio.ensure_future(PG.race(pg, asyncio.gather(*reps), 1))
        await asyncio.sleep(0)
        caller.cancel()
        ev.set()
        with pytest.raises(asyncio.CancelledError):
            await caller
        await asyncio.gather(*reps, return_exceptions=True)

    asyncio.run(main())
    assert not _loose(caplog)


def test_interval_change_reaps_the_awaitable(caplog):
    caplog.set_level(logging.ERROR, logger="asyncio")

    async def main() -> None:
        pg = _pg()
        ev = asyncio.Event()
        reps = [asyncio.ensure_future(_fails_later(ev)) for _ in range(2)]
        racing = asyncio.ensure_future(PG.race(pg, asyncio.gather(*reps), 1))
        await asyncio.sleep(0)
        pg._interval_fut.set_result(None)
        with pytest.raises(IntervalChanged):
            await racing
        assert all(r.done() for r in reps), "the race returned before its awaitable ended"

    asyncio.run(main())
    assert not _loose(caplog)


def test_stale_generation_discards_a_finished_future(caplog):
    caplog.set_level(logging.ERROR, logger="asyncio")

    async def main() -> None:
        pg = _pg()
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(Boom())
        with pytest.raises(IntervalChanged):
            await PG.race(pg, failed, 0)

    asyncio.run(main())
    assert not _loose(caplog)
