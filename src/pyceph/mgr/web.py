"""`WebServer`: an aiohttp application served from a mgr module's serve() thread.

The mgr's HTTP modules (`restapi`, `dashboard`) and the standalone `ceph-rest-api`
share this. The application runs on an event loop of its own, owned by the thread
that calls `run()` (a module's serve thread), not on the mgr daemon's loop: module
code never runs on the daemon's loop (`pyceph.mgr.modules.host`), so a slow page or
a flood of clients cannot delay the daemon's beacons, reports or commands.
Handlers call the module's synchronous `mgr_module` API through `blocking()`,
which runs it on a bounded pool of worker threads and leaves the loop serving.

`run()` returns after `stop()` (thread-safe, from `shutdown()`), once the listener
is closed and in-flight requests had `SHUTDOWN_GRACE` seconds to finish.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ssl
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

__all__ = ["WebServer", "BIND_RETRY", "BLOCKING_THREADS"]

T = TypeVar("T")

#: Worker threads that run handlers' blocking mgr API calls (mon commands, rbd).
BLOCKING_THREADS = 8
#: Seconds in-flight requests get to finish once the server stops.
SHUTDOWN_GRACE = 2.0
#: Seconds the first bind is retried while the address is still in use (a restart).
BIND_RETRY = 10.0
#: Pause between two bind attempts.
BIND_RETRY_PAUSE = 0.2


class WebServer:
    """Serves one `web.Application` on `host`:`port` until `stop()`."""

    def __init__(self, name: str, blocking_threads: int = BLOCKING_THREADS) -> None:
        self.name = name
        self._pool = concurrent.futures.ThreadPoolExecutor(
            blocking_threads, thread_name_prefix=f"{name}-http"
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stopping = threading.Event()
        #: set once listening; `port` is then the bound port (useful with port 0)
        self.ready = threading.Event()
        self.port: int | None = None

    async def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call (the module's mgr API) on a worker thread; await its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def run(
        self,
        app: web.Application,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        on_ready: Callable[[int], None] | None = None,
    ) -> None:
        """Serve `app` from the calling thread until `stop()`; raises if it cannot bind.
        `on_ready(port)` runs (on a worker thread) once it listens: a module publishes
        its URL there, with the port the system chose when `port` is 0."""
        if self._stopping.is_set():
            return
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(app, host, port, ssl_context, on_ready))
        finally:
            self._loop = None
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self.ready.clear()

    async def _serve(
        self,
        app: web.Application,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        on_ready: Callable[[int], None] | None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stopping.is_set():
            return
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        try:
            await self._bind(runner, host, port, ssl_context)
            self.port = int(runner.addresses[0][1])
            self.ready.set()
            if on_ready is not None:
                await self.blocking(on_ready, self.port)
            await self._stop.wait()
        finally:
            await runner.cleanup()

    async def _bind(
        self, runner: web.AppRunner, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> web.TCPSite:
        deadline = asyncio.get_running_loop().time() + BIND_RETRY
        while True:
            site = web.TCPSite(runner, host or None, port, ssl_context=ssl_context)
            try:
                await site.start()
                return site
            except OSError:
                if asyncio.get_running_loop().time() >= deadline or self._stopping.is_set():
                    raise
                await asyncio.sleep(BIND_RETRY_PAUSE)

    def stop(self) -> None:
        """Ask `run()` to return; safe from any thread, before, during or after `run()`."""
        self._stopping.set()
        loop, ev = self._loop, self._stop
        if loop is not None and ev is not None:
            loop.call_soon_threadsafe(ev.set)

    def close(self) -> None:
        """Release the worker threads (after `run()` returned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
