"""A daemon's or client's endpoint: one listener, a cache of outgoing connections.

Every connection is authenticated before a message reaches the dispatcher. Outgoing
connections are cached per address and made again on demand after they drop; callers
that need delivery across drops (the objecter, the monclient) resend on their own.

The messenger enforces `MsgrLimits` (see `pyceph.msg.limits`): each connection's frame
decoder is bounded (handshake-sized frames only until the peer has authenticated), at
most `max_unauthenticated` accepted peers may be mid-handshake (more are refused at once),
and a sweeper drops peers that have not authenticated within `ready_timeout` or that
stall in the middle of a frame for `stall_timeout`. None of it touches other connections.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.runtime import Listener, Runtime
from pyceph.common.tasks import TaskSet
from pyceph.msg.connection import Connection, Dispatcher
from pyceph.msg.frame import FrameDecoder
from pyceph.msg.handshake import AuthServer, ClientHandshake, Credentials, ServerHandshake
from pyceph.msg.limits import MsgrLimits

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 15.0
ECONNREFUSED = 111
ETIMEDOUT = 110
ESHUTDOWN = 108
NONCE_LEN = 16

Addr = tuple[str, int]
CredentialSource = Callable[[str], Credentials]


@dataclass
class _Watch:
    """What the sweeper knows of one connection."""

    decoder: FrameDecoder
    since: float  #: when accepted, then when its decoder last made progress
    received: int = 0
    accepted: bool = False


class _Refused(asyncio.BufferedProtocol):
    """Answers a connection over the unauthenticated cap: closed at once, nothing read."""

    _sink = bytearray(64)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()  # type: ignore[attr-defined]

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self._sink)

    def buffer_updated(self, nbytes: int) -> None:
        pass


class Messenger:
    """Listens for authenticated peers and opens authenticated connections."""

    def __init__(
        self,
        runtime: Runtime,
        entity: str,
        dispatcher: Dispatcher,
        auth_server: AuthServer | None = None,
        credentials: CredentialSource | None = None,
        on_reset: Callable[[Connection], None] | None = None,
        limits: MsgrLimits | None = None,
        config: Any = None,
    ) -> None:
        self.runtime = runtime
        self.entity = entity
        self._dispatch = dispatcher
        self._auth_server = auth_server
        self._credentials = credentials
        self._on_reset = on_reset
        self._listener: Listener | None = None
        self._out: dict[Addr, Connection] = {}
        self._pending: dict[Addr, asyncio.Future[Connection]] = {}
        self._accepted: set[Connection] = set()
        self.addr: Addr | None = None
        self._stopped = False
        #: `limits`, else those the daemon's `config` sets, else the options' defaults
        self.limits = limits or (
            MsgrLimits.from_config(config) if config is not None else MsgrLimits()
        )
        self._watch: dict[Connection, _Watch] = {}
        #: the sweeper of stalled and unauthenticated peers, once listening
        self._tasks = TaskSet("messenger")
        #: Connections refused (unauthenticated cap) and dropped (timeouts) so far.
        self.refused = 0
        self.dropped = 0

    async def bind(self, host: str, port: int = 0) -> Addr:
        """Start accepting peers; returns the bound address."""
        assert self._auth_server is not None, "a listening messenger needs an AuthServer"
        self._listener = await self.runtime.net.listen(host, port, self._accept_factory)
        self.addr = self._listener.addr
        if not self._tasks:
            self._tasks.spawn(self._sweep_loop(), "sweeper")
        return self.addr

    def _decoder(self, accepted: bool) -> FrameDecoder:
        lim = self.limits
        return FrameDecoder(
            max_data_len=lim.max_data_len,
            max_head_len=lim.max_head_len,
            max_preauth_frame=lim.max_preauth_frame if accepted else None,
        )

    def _track(self, conn: Connection, decoder: FrameDecoder, accepted: bool) -> None:
        decoder.bind_authenticated(lambda: conn.peer is not None)
        self._watch[conn] = _Watch(decoder, self.runtime.clock.monotonic(), accepted=accepted)

    def unauthenticated(self) -> int:
        """Accepted connections whose peer has not authenticated yet."""
        return sum(1 for c in self._accepted if c.peer is None and not c.closed)

    def _accept_factory(self) -> asyncio.BufferedProtocol:
        assert self._auth_server is not None
        if self.unauthenticated() >= self.limits.max_unauthenticated:
            self.refused += 1
            log.warning("%s: refusing a connection: too many unauthenticated", self.entity)
            return _Refused()
        hs = ServerHandshake(self._auth_server, self.entity, self.runtime.rand.randbytes(NONCE_LEN))
        dec = self._decoder(accepted=True)
        conn = Connection(hs, self._dispatch, self._closed, decoder=dec)
        self._track(conn, dec, accepted=True)
        self._accepted.add(conn)
        return conn

    async def _sweep_loop(self) -> None:
        period = self.limits.sweep_period()
        while not self._stopped:
            await self.runtime.clock.sleep(period)
            self.sweep(self.runtime.clock.monotonic())

    def sweep(self, now: float) -> list[Connection]:
        """Drop connections that did not authenticate in time or stalled mid-frame."""
        lim = self.limits
        dropped: list[Connection] = []
        for conn, w in list(self._watch.items()):
            if conn.closed:
                self._watch.pop(conn, None)
                continue
            if w.accepted and conn.peer is None and now - w.since >= lim.ready_timeout:
                why = "not authenticated within ms_connection_ready_timeout"
            elif conn.peer is None:
                continue
            elif not w.decoder.mid_frame or w.decoder.received != w.received:
                w.received, w.since = w.decoder.received, now
                continue
            elif now - w.since >= lim.stall_timeout:
                why = "stalled mid-frame for ms_connection_idle_timeout"
            else:
                continue
            log.warning("%s: dropping %s: %s", self.entity, conn.peer_addr, why)
            self.dropped += 1
            dropped.append(conn)
            conn.close(CephError(errno.ETIMEDOUT, why))
        return dropped

    def _closed(self, conn: Connection) -> None:
        self._accepted.discard(conn)
        self._watch.pop(conn, None)
        for addr, c in list(self._out.items()):
            if c is conn:
                del self._out[addr]
        if self._on_reset is not None and conn.peer is not None and not self._stopped:
            self._on_reset(conn)

    async def connect(
        self, addr: Addr, peer_type: str, timeout: float = HANDSHAKE_TIMEOUT
    ) -> Connection:
        """An authenticated connection to `addr`, reusing a live one."""
        if self._stopped:
            raise CephError(ESHUTDOWN, "messenger shut down")
        addr = (addr[0], int(addr[1]))
        conn = self._out.get(addr)
        if conn is not None and not conn.closed:
            return conn
        pending = self._pending.get(addr)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self._pending[addr] = fut
        try:
            conn = await self._open(addr, peer_type, timeout)
            self._out[addr] = conn
            fut.set_result(conn)
            return conn
        except asyncio.CancelledError:
            # Only the caller that opened the connection is cancelled: the others sharing
            # it see a failed connect (and retry), never a cancellation of their own.
            fut.set_exception(CephError(errno.ECONNABORTED, f"connect to {addr} abandoned"))
            fut.exception()
            raise
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()
            raise
        finally:
            self._pending.pop(addr, None)

    async def _open(self, addr: Addr, peer_type: str, timeout: float) -> Connection:
        assert self._credentials is not None, "this messenger cannot connect out"
        creds = self._credentials(peer_type)
        hs = ClientHandshake(creds, self.runtime.rand.randbytes(NONCE_LEN))
        try:
            _t, proto = await asyncio.wait_for(
                self.runtime.net.connect(addr[0], addr[1], lambda: self._outgoing(hs)),
                timeout,
            )
        except TimeoutError:
            raise CephError(ETIMEDOUT, f"connect to {addr} timed out") from None
        except OSError as e:
            raise CephError(e.errno or ECONNREFUSED, f"connect to {addr}: {e.strerror}") from None
        assert isinstance(proto, Connection)
        try:
            await asyncio.wait_for(asyncio.shield(proto.ready), timeout)
        except TimeoutError:
            proto.close()
            raise CephError(ETIMEDOUT, f"handshake with {addr} timed out") from None
        return proto

    def _outgoing(self, hs: ClientHandshake) -> Connection:
        dec = self._decoder(accepted=False)
        conn = Connection(hs, self._dispatch, self._closed, decoder=dec)
        self._track(conn, dec, accepted=False)
        return conn

    def connections(self) -> list[Connection]:
        return [c for c in list(self._accepted) + list(self._out.values()) if not c.closed]

    async def shutdown(self) -> None:
        """Stop listening and close every connection."""
        self._stopped = True
        await self._tasks.close()
        if self._listener is not None:
            self._listener.close()
        for conn in list(self._accepted) + list(self._out.values()):
            conn.close()
        self._out.clear()
        self._accepted.clear()
        self._watch.clear()
