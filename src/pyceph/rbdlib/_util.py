"""Small shared helpers of the rbd engine: bounded fan-out of per-object work, progress
reporting, pool names and ids, and IoCtxs on other pools of the same client.

Per-object work (reads, writes, removes, copy-ups) is issued together with a bound on how
many are in flight, as librbd's AsyncObjectThrottle does with
`rbd_concurrent_management_ops` for management operations.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pyceph.client.ioctx import IoCtx
from pyceph.common.errors import CephError

T = TypeVar("T")
U = TypeVar("U")

#: Per-object ops one image I/O request keeps in flight (bounded fan-out of a large read
#: or write; upstream sends every object request of an I/O at once).
IO_OBJECTS_IN_FLIGHT = 64

Progress = Callable[[int, int], Any]


async def bounded(items: Iterable[T], fn: Callable[[T], Awaitable[U]], limit: int) -> list[U]:
    """fn(item) for every item, at most `limit` running at once; results in item order.
    Every started call finishes before the first failure is raised."""
    items = list(items)
    if not items:
        return []
    if len(items) == 1:
        return [await fn(items[0])]
    sem = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> U:
        async with sem:
            return await fn(item)

    results = await asyncio.gather(*(one(i) for i in items), return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def now(ioctx: IoCtx) -> float:
    """Wall-clock seconds through the client's runtime (timestamps in headers, trash)."""
    return float(ioctx.client.runtime.clock.now())


def management_ops(ioctx: IoCtx) -> int:
    """The `rbd_concurrent_management_ops` option."""
    return int(ioctx.client.config.get("rbd_concurrent_management_ops") or 10)


def report(progress: Progress | None, done: int, total: int) -> None:
    """Call a progress callback (offset, total) if there is one."""
    if progress is not None:
        progress(done, total)


def pool_name(ioctx: IoCtx, pool_id: int) -> str:
    """The name of pool `pool_id` (ENOENT when it is gone)."""
    pool = ioctx.client.osdmap.get_pool(pool_id)
    if pool is None:
        raise CephError(errno.ENOENT, f"pool {pool_id} does not exist")
    return str(pool.pool_name)


def pool_id(ioctx: IoCtx, name: str) -> int:
    """The id of pool `name` (ENOENT when there is none)."""
    pid = ioctx.client.osdmap.lookup_pool(name)
    if pid < 0:
        raise CephError(errno.ENOENT, f"pool {name} does not exist")
    return int(pid)


def ioctx_for_pool(ioctx: IoCtx, pid: int, nspace: str | None = None) -> IoCtx:
    """An IoCtx on another pool of the same client (namespace kept unless given)."""
    return IoCtx(ioctx.client, pid, nspace=ioctx.nspace if nspace is None else nspace)


async def ignore_enoent(aw: Awaitable[T]) -> T | None:
    """Await; ENOENT gives None."""
    try:
        return await aw
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return None
