"""`SimClock`: the runtime `Clock` over a `SimLoop`'s virtual time.

`now()` is a fixed epoch plus virtual time, so wall-clock stamps (map epochs' stamps,
tickets' expiry, health messages) are identical in every run with the same seed;
`monotonic()` is the loop's virtual time itself and `sleep()` is `asyncio.sleep`, which
on a SimLoop returns as soon as nothing else is ready.
"""

from __future__ import annotations

import asyncio

#: What `now()` reads at virtual time 0 (2023-11-14T22:13:20Z): fixed for reproducibility.
SIM_EPOCH = 1_700_000_000.0


class SimClock:
    """Virtual wall and monotonic time; implements `pyceph.common.runtime.Clock`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, epoch: float = SIM_EPOCH) -> None:
        self.loop = loop
        self.epoch = epoch

    def now(self) -> float:
        return self.epoch + self.loop.time()

    def monotonic(self) -> float:
        return self.loop.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
