"""`SimLoop`: an asyncio event loop on virtual time, for the deterministic simulator.

The loop is asyncio's own `BaseEventLoop` (same scheduling, same Task/Future semantics
as production) with two changes: `time()` is a virtual clock that starts at 0, and when
no callback is ready the loop *jumps* to the next timer instead of sleeping. A 20 s
heartbeat grace therefore passes in microseconds of wall time, and - since nothing else
decides what runs next - a run is a pure function of its inputs and seeds.

There is no selector: all I/O must go through the simulated network (`pyceph.sim.memnet`).
Every entry point to real I/O (sockets, executors, DNS, subprocesses, signals) raises
`RealIOError`, so daemon code that bypasses the runtime fails loudly in simulation. When
nothing is ready and no timer is pending the simulation can never progress again:
`SimulationStalled` is raised instead of blocking forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")

#: The longest single jump of virtual time (asyncio's own cap on a select timeout).
MAX_JUMP = 24 * 3600.0
#: Default bound on a simulation's virtual duration: beyond it the run is stuck.
DEFAULT_MAX_VIRTUAL_TIME = 7 * 24 * 3600.0


class RealIOError(RuntimeError):
    """Code running in the simulator tried to reach the real world."""


class SimulationStalled(RuntimeError):
    """Nothing is ready and no timer is pending: the simulation can never progress."""


class VirtualTimeExceeded(RuntimeError):
    """The run went past its virtual time budget (a livelock or a missing stop)."""


class _VirtualSelector:
    """Stands in for the selector: "waiting" for `timeout` advances virtual time."""

    def __init__(self, loop: SimLoop) -> None:
        self._loop = loop

    def select(self, timeout: float | None) -> list[Any]:
        loop = self._loop
        if timeout is None:
            raise SimulationStalled(
                f"simulation stalled at t={loop.time():.6f}: nothing ready, no timer pending"
            )
        if timeout > 0:
            target = loop._now + timeout
            sched = loop._scheduled
            if sched and sched[0]._when <= target:
                # Land exactly on the next timer (no float drift from now + (when - now)).
                target = max(loop._now, sched[0]._when)
            loop._now = target
            if target > loop.max_virtual_time:
                raise VirtualTimeExceeded(
                    f"virtual time {target:.3f}s exceeds the budget of {loop.max_virtual_time}s"
                )
        return []

    def close(self) -> None:
        pass


class SimLoop(asyncio.BaseEventLoop):
    """asyncio's event loop with a virtual clock and no real I/O."""

    def __init__(self, max_virtual_time: float = DEFAULT_MAX_VIRTUAL_TIME) -> None:
        super().__init__()
        self._now = 0.0
        self.max_virtual_time = max_virtual_time
        self._selector = _VirtualSelector(self)  # type: ignore[assignment]
        #: Callbacks that ran (an iteration count, for statistics and tests).
        self.steps = 0

    # -- time -------------------------------------------------------------------
    def time(self) -> float:
        """Virtual seconds since the loop was created."""
        return self._now

    def advance_to(self, when: float) -> None:
        """Move virtual time forward (never backwards) without running anything."""
        if when > self._now:
            self._now = when

    # -- the hooks BaseEventLoop needs --------------------------------------------
    def _process_events(self, event_list: list[Any]) -> None:
        pass

    def _write_to_self(self) -> None:
        pass  # single-threaded: nothing to wake

    def _run_once(self) -> None:
        self.steps += 1
        super()._run_once()  # type: ignore[misc]

    def pending_timers(self) -> int:
        """Live (not cancelled) timers, for assertions that nothing was left behind."""
        return sum(1 for h in self._scheduled if not h._cancelled)

    def next_timer(self) -> float | None:
        live = [h._when for h in self._scheduled if not h._cancelled]
        return min(live) if live else None

    # -- real I/O is refused ------------------------------------------------------------
    def _refuse(self, what: str) -> NoReturn:
        raise RealIOError(f"{what} is real I/O: not allowed in the simulator")

    def run_in_executor(self, executor: Any, func: Callable[..., T], *args: Any) -> Any:
        self._refuse(f"run_in_executor({getattr(func, '__qualname__', func)!r})")

    async def getaddrinfo(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("getaddrinfo")

    async def getnameinfo(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("getnameinfo")

    async def create_connection(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("create_connection")

    async def create_server(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("create_server")

    async def create_datagram_endpoint(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("create_datagram_endpoint")

    async def create_unix_connection(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("create_unix_connection")

    async def create_unix_server(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse("create_unix_server")

    async def connect_accepted_socket(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("connect_accepted_socket")

    async def subprocess_exec(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("subprocess_exec")

    async def subprocess_shell(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("subprocess_shell")

    async def connect_read_pipe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("connect_read_pipe")

    async def connect_write_pipe(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("connect_write_pipe")

    async def sock_connect(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("sock_connect")

    async def sock_accept(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("sock_accept")

    async def sock_recv(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("sock_recv")

    async def sock_sendall(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._refuse("sock_sendall")

    def add_reader(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("add_reader")

    def add_writer(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("add_writer")

    def add_signal_handler(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._refuse("add_signal_handler")


def run(
    main: Coroutine[Any, Any, T] | Callable[[], Awaitable[T]],
    *,
    loop: SimLoop | None = None,
    max_virtual_time: float = DEFAULT_MAX_VIRTUAL_TIME,
) -> T:
    """`asyncio.run` on a `SimLoop`: run `main` to completion in virtual time.

    Like asyncio.run, every task still running when `main` returns is cancelled and
    awaited before the loop closes; nothing outlives the call.
    """
    own = loop is None
    sim = loop if loop is not None else SimLoop(max_virtual_time)
    try:
        coro = main if asyncio.iscoroutine(main) else main()  # type: ignore[operator]
        return sim.run_until_complete(coro)  # type: ignore[arg-type]
    finally:
        try:
            cancel_all(sim)
            sim.run_until_complete(sim.shutdown_asyncgens())
        finally:
            if own:
                sim.close()


def cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel every task of `loop` and run it until they have all ended."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if not tasks:
        return
    for t in tasks:
        t.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
