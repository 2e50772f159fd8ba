"""The runtime interfaces through which all daemon code reaches the world.

Daemons read time, draw randomness, open connections and touch disks only through a
`Runtime`. Production uses `real_runtime()` (asyncio/uvloop, the wall clock, os.urandom);
the simulator supplies virtual time, a simulated network and memory disks instead.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pyceph.store.types import StoreSettings


class Clock(Protocol):
    """Wall and monotonic time, and sleeping."""

    def now(self) -> float: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class Rand(Protocol):
    """Randomness: bytes for keys and nonces, numbers for jitter and ids."""

    def randbytes(self, n: int) -> bytes: ...

    def random(self) -> float: ...

    def randrange(self, stop: int) -> int: ...


class Listener(Protocol):
    """A bound server endpoint."""

    @property
    def addr(self) -> tuple[str, int]: ...

    def close(self) -> None: ...


ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class Network(Protocol):
    """Stream connections: what a messenger needs of the network."""

    async def listen(self, host: str, port: int, factory: ProtocolFactory) -> Listener: ...

    async def connect(
        self, host: str, port: int, factory: ProtocolFactory
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]: ...


class Disk(Protocol):
    """Durable storage: opens the transactional stores daemons keep their state in."""

    def open_store(self, path: str, capacity: int, settings: StoreSettings) -> Any: ...

    def open_kv(self, path: str) -> Any: ...


class Host(Protocol):
    """Facts about the machine a daemon runs on."""

    def loadavg(self) -> float:
        """The 1-minute load average per CPU (what upstream compares with load limits)."""
        ...

    def hostname(self) -> str:
        """The machine's name, as daemons report it (`osd metadata`, `ceph osd tree`)."""
        ...

    def sys_info(self) -> dict[str, str]:
        """Upstream's `collect_sys_info` keys (arch, kernel, os, memory, host name, version)."""
        ...


class RealHost:
    """This machine."""

    def loadavg(self) -> float:
        try:
            return os.getloadavg()[0] / max(os.cpu_count() or 1, 1)
        except OSError:  # no load average on this OS
            return 0.0

    def hostname(self) -> str:
        return socket.gethostname()

    def sys_info(self) -> dict[str, str]:
        from pyceph.common.sysinfo import collect_sys_info

        return collect_sys_info()


@dataclass
class IdleHost:
    """A machine with nothing else to do (the simulator's): no outside load, and facts
    that depend only on its name, so a seeded run reports the same metadata anywhere."""

    name: str = "localhost"

    def loadavg(self) -> float:
        return 0.0

    def hostname(self) -> str:
        return self.name

    def sys_info(self) -> dict[str, str]:
        from pyceph.common.sysinfo import fixed_sys_info

        return fixed_sys_info(self.name)


class RealClock:
    """The machine's clocks."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RealRand:
    """Cryptographic bytes from the OS; a private PRNG for jitter."""

    def __init__(self) -> None:
        self._prng = random.Random(os.urandom(16))

    def randbytes(self, n: int) -> bytes:
        return os.urandom(n)

    def random(self) -> float:
        return self._prng.random()

    def randrange(self, stop: int) -> int:
        return self._prng.randrange(stop)


class _TcpListener:
    def __init__(self, server: asyncio.base_events.Server) -> None:
        self._server = server
        sock = server.sockets[0]
        host, port = sock.getsockname()[:2]
        self._addr = (host, port)

    @property
    def addr(self) -> tuple[str, int]:
        return self._addr

    def close(self) -> None:
        self._server.close()


class TcpNetwork:
    """TCP on the running event loop (uvloop in daemons)."""

    async def listen(self, host: str, port: int, factory: ProtocolFactory) -> Listener:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, host, port, reuse_address=True, backlog=512)
        return _TcpListener(server)

    async def connect(
        self, host: str, port: int, factory: ProtocolFactory
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        loop = asyncio.get_running_loop()
        return await loop.create_connection(factory, host, port)


class RealDisk:
    """LMDB-backed stores on the local filesystem."""

    def open_store(self, path: str, capacity: int, settings: StoreSettings) -> Any:
        from pyceph.store.lmdbstore import LmdbStore

        return LmdbStore(
            path,
            capacity,
            extent_size=settings.extent_size,
            max_batch_txns=settings.max_batch_txns,
        )

    def open_kv(self, path: str) -> Any:
        from pyceph.common.kvstore import LmdbKV

        return LmdbKV(path)


@dataclass
class Runtime:
    """Everything a daemon may use to touch the outside world."""

    clock: Clock
    rand: Rand
    net: Network
    disk: Disk
    host: Host = field(default_factory=RealHost)


def real_runtime() -> Runtime:
    """The production runtime: wall clock, OS randomness, TCP, LMDB."""
    return Runtime(clock=RealClock(), rand=RealRand(), net=TcpNetwork(), disk=RealDisk())


#: glibc mallopt parameters and the value daemons give them: buffers up to this size are
#: reused from the heap instead of being mapped fresh (and zeroed) each time.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
DAEMON_MMAP_THRESHOLD = 64 << 20


def tune_malloc() -> None:
    """Keep large message buffers in the heap (glibc serves >=128 KiB with fresh pages)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(M_MMAP_THRESHOLD, DAEMON_MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, 2 * DAEMON_MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


def install_uvloop() -> None:
    """Daemon process setup: uvloop as the event loop (a hard dependency), malloc tuning."""
    import uvloop

    tune_malloc()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


Callback = Callable[..., Awaitable[Any]]
