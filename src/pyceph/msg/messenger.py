"""A daemon's or client's endpoint: one listener, a cache of outgoing connections.

Every connection is authenticated before a message reaches the dispatcher. Outgoing
connections are cached per address and made again on demand after they drop; callers
that need delivery across drops (the objecter, the monclient) resend on their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pyceph.common.errors import CephError
from pyceph.common.runtime import Listener, Runtime
from pyceph.msg.connection import Connection, Dispatcher
from pyceph.msg.handshake import AuthServer, ClientHandshake, Credentials, ServerHandshake

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 15.0
ECONNREFUSED = 111
ETIMEDOUT = 110
ESHUTDOWN = 108
NONCE_LEN = 16

Addr = tuple[str, int]
CredentialSource = Callable[[str], Credentials]


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

    async def bind(self, host: str, port: int = 0) -> Addr:
        """Start accepting peers; returns the bound address."""
        assert self._auth_server is not None, "a listening messenger needs an AuthServer"
        self._listener = await self.runtime.net.listen(host, port, self._accept_factory)
        self.addr = self._listener.addr
        return self.addr

    def _accept_factory(self) -> Connection:
        assert self._auth_server is not None
        hs = ServerHandshake(self._auth_server, self.entity, self.runtime.rand.randbytes(NONCE_LEN))
        conn = Connection(hs, self._dispatch, self._closed)
        self._accepted.add(conn)
        return conn

    def _closed(self, conn: Connection) -> None:
        self._accepted.discard(conn)
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
                self.runtime.net.connect(
                    addr[0], addr[1], lambda: Connection(hs, self._dispatch, self._closed)
                ),
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

    def connections(self) -> list[Connection]:
        return [c for c in list(self._accepted) + list(self._out.values()) if not c.closed]

    async def shutdown(self) -> None:
        """Stop listening and close every connection."""
        self._stopped = True
        if self._listener is not None:
            self._listener.close()
        for conn in list(self._accepted) + list(self._out.values()):
            conn.close()
        self._out.clear()
        self._accepted.clear()
