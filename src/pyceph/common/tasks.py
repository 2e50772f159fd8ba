"""Task ownership: every background task belongs to a `TaskSet` that cancels and
awaits it on close, so a daemon or PG never leaves anything running behind it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskSet:
    """A bag of tasks with one owner; failures are logged, never lost."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        if self.closed:
            coro.close()
            raise RuntimeError(f"{self.name}: closed")
        t = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(t)
        t.add_done_callback(self._done)
        return t

    def _done(self, t: asyncio.Task[Any]) -> None:
        self._tasks.discard(t)
        if not t.cancelled() and t.exception() is not None:
            log.error("%s: task %s failed", self.name, t.get_name(), exc_info=t.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel every task and wait until all have ended."""
        self.closed = True
        while self._tasks:
            ts = list(self._tasks)
            for t in ts:
                t.cancel()
            await asyncio.gather(*ts, return_exceptions=True)
