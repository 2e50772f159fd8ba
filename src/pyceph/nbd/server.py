"""The asyncio NBD server: sockets around the sans-I/O `ServerConnection`.

`NbdServer` serves named `BlockDevice`s on loopback TCP ports and/or Unix sockets.
Each client gets a `_Session` that feeds received bytes to its `ServerConnection`,
runs every `Command` as a task of the session's task group (so many requests are in
flight at once, answered in completion order), and writes the replies. It stops
reading while the connection's in-flight bounds are reached or the client is not
taking its replies. When a session ends — the client's NBD_CMD_DISC, a dropped
connection or the server closing — every request in flight completes, then the
device is flushed if anything was written, then the socket closes.

Reference: the NBD protocol description (`doc/proto.md` of NetworkBlockDevice/nbd);
upstream's `rbd-nbd` (`src/tools/rbd_nbd/rbd-nbd.cc`) plays the same role for the kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import stat
from collections.abc import Mapping, Sequence

from pyceph.common.errors import CephError
from pyceph.nbd import constants as c
from pyceph.nbd.device import BlockDevice
from pyceph.nbd.protocol import (
    NEED_DATA,
    PAUSED,
    Command,
    Disconnect,
    Export,
    ServerConnection,
    Transmission,
)

log = logging.getLogger("pyceph.nbd")

#: Received bytes waiting to be parsed above which the session stops reading the socket
#: (one largest write request and some more).
READ_BUFFER_HIGH = c.MAX_REQUEST_SIZE + (1 << 20)
#: Reply bytes buffered in the transport above which the session reads no new requests
#: until the client takes them.
WRITE_BUFFER_HIGH = 8 << 20
#: How long closing waits for a client to take its last replies.
CLOSE_TIMEOUT = 10.0


class DeviceCatalog:
    """Named devices as NBD exports; "" names the default export."""

    def __init__(
        self,
        devices: Mapping[str, BlockDevice],
        descriptions: Mapping[str, str] | None = None,
        default: str | None = None,
    ) -> None:
        self.devices = dict(devices)
        self.descriptions = dict(descriptions or {})
        if default is None and len(self.devices) == 1:
            default = next(iter(self.devices))
        self.default = default

    def device(self, name: str) -> BlockDevice:
        if name == "" and self.default is not None and "" not in self.devices:
            name = self.default
        return self.devices[name]

    def lookup(self, name: str) -> Export | None:
        if name == "" and "" not in self.devices:
            if self.default is None:
                return None
            name = self.default
        device = self.devices.get(name)
        if device is None:
            return None
        return Export(
            name=name,
            size=device.size,
            read_only=device.read_only,
            description=self.descriptions.get(name, ""),
            multi_conn=device.multi_conn,
        )

    def exports(self) -> Sequence[Export]:
        return [e for e in (self.lookup(n) for n in self.devices) if e is not None]

    async def refresh(self) -> None:
        """Let every device pick up outside changes (sizes) before a client negotiates."""
        for name, device in self.devices.items():
            try:
                await device.refresh()
            except Exception as e:  # keep serving with what is known
                log.warning("nbd: refreshing export %r failed: %s", name, e)


class NbdServer:
    """Serves block devices over NBD until `close`."""

    def __init__(
        self,
        devices: Mapping[str, BlockDevice],
        *,
        descriptions: Mapping[str, str] | None = None,
        default: str | None = None,
    ) -> None:
        self.catalog = DeviceCatalog(devices, descriptions, default)
        self._listeners: list[asyncio.AbstractServer] = []
        self._unix_paths: list[str] = []
        #: each connected client's session task, owned here; close() waits for them
        self._sessions: dict[_Session, asyncio.Task[None]] = {}
        self._closing = False
        #: sessions served so far (statistics, tests)
        self.sessions_total = 0

    async def __aenter__(self) -> NbdServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def listen_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on `host:port` (0: a free port); returns the bound address."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Session(self), host, port)
        self._listeners.append(server)
        addr = server.sockets[0].getsockname()
        return addr[0], addr[1]

    async def listen_unix(self, path: str) -> str:
        """Listen on a Unix socket at `path` (a stale socket there is replaced)."""
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISSOCK(os.stat(path).st_mode):
                raise CephError(errno.EEXIST, f"{path} exists and is not a socket")
            os.unlink(path)
        loop = asyncio.get_running_loop()
        server = await loop.create_unix_server(lambda: _Session(self), path)
        self._listeners.append(server)
        self._unix_paths.append(path)
        return path

    @property
    def sessions(self) -> int:
        """Clients connected now."""
        return len(self._sessions)

    def _started(self, session: _Session) -> None:
        if self._closing or len(self._sessions) >= c.MAX_CONNECTIONS:
            if not self._closing:
                log.warning("nbd %s: refused, %d clients connected", session.peer,
                            len(self._sessions))  # fmt: skip
            session.transport.abort()
            return
        task = asyncio.get_running_loop().create_task(session.run())
        self._sessions[session] = task
        self.sessions_total += 1
        task.add_done_callback(lambda _t: self._sessions.pop(session, None))

    async def close(self) -> None:
        """Stop accepting; let every session answer what is in flight, flush, close."""
        self._closing = True
        for server in self._listeners:
            server.close()
        for session in list(self._sessions):
            session.stop()
        if self._sessions:
            await asyncio.gather(*self._sessions.values(), return_exceptions=True)
        for server in self._listeners:
            await server.wait_closed()
        self._listeners.clear()
        for path in self._unix_paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self._unix_paths.clear()


class _Session(asyncio.Protocol):
    """One client connection: the socket callbacks feed `conn`; `run` acts on its events."""

    def __init__(self, server: NbdServer) -> None:
        self.server = server
        self.conn = ServerConnection(server.catalog)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.device: BlockDevice | None = None
        self.peer: object = "?"
        self._stopping = False
        self._expired = False
        self._lost = False
        self._reading = True
        self._writable = True
        #: set whenever `run` may have something new to do
        self._wake = asyncio.Event()
        self._send_scheduled = False
        #: a write, trim or zeroing ran on this connection (flushed when it ends)
        self._wrote = False

    # --- socket callbacks ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport
        self.peer = transport.get_extra_info("peername") or "unix"
        transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        self.server._started(self)

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        if self.conn.buffered > READ_BUFFER_HIGH:
            self._pause_reading()
        self._wake.set()

    def eof_received(self) -> bool:
        self.conn.receive_data(b"")
        self._wake.set()
        return True  # keep the transport: replies in flight are still sent

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self.conn.receive_data(b"")
        self._writable = True
        self._wake.set()

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        self._wake.set()

    def stop(self) -> None:
        """Server shutdown: read no more requests (those in flight still complete)."""
        self._stopping = True
        self._wake.set()

    # --- the session --------------------------------------------------------------------------

    def _pause_reading(self) -> None:
        if self._reading and not self._lost:
            self._reading = False
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if not self._reading and not self._lost:
            self._reading = True
            self.transport.resume_reading()

    def _send(self) -> None:
        self._send_scheduled = False
        out = self.conn.data_to_send()
        if out and not self._lost and not self.transport.is_closing():
            self.transport.writelines(out)

    def _send_soon(self) -> None:
        """Send at the end of this loop iteration: replies finishing together share one
        system call."""
        if not self._send_scheduled:
            self._send_scheduled = True
            asyncio.get_running_loop().call_soon(self._send)

    async def _idle(self) -> None:
        self._send()
        self._wake.clear()
        await self._wake.wait()

    def _negotiation_expired(self) -> None:
        if self.device is None:
            self._expired = True
            self._wake.set()

    async def run(self) -> None:
        timer = asyncio.get_running_loop().call_later(
            c.NEGOTIATION_TIMEOUT, self._negotiation_expired
        )
        try:
            await self.server.catalog.refresh()
            async with asyncio.TaskGroup() as tasks:
                end = await self._event_loop(tasks)
                log.debug("nbd %s: %s", self.peer, end.reason)
                if not end.clean:
                    self.transport.abort()
            await self._flush_device()
        finally:
            timer.cancel()
            self._send()
            if not self.transport.is_closing():
                self.transport.close()

    async def _event_loop(self, tasks: asyncio.TaskGroup) -> Disconnect:
        conn = self.conn
        while True:
            if self._stopping:
                self._send()
                return conn.shutdown()
            if self._expired:
                return conn.abort(f"no export chosen in {c.NEGOTIATION_TIMEOUT:g}s")
            if not self._writable:
                # the client is not taking its replies: no new requests until it does
                self._pause_reading()
                await self._idle()
                continue
            event = conn.next_event()
            if event is NEED_DATA:
                self._resume_reading()
                await self._idle()
            elif event is PAUSED:
                self._pause_reading()
                await self._idle()
            elif isinstance(event, Command):
                tasks.create_task(self._execute(event))
            elif isinstance(event, Transmission):
                self.device = self.server.catalog.device(event.export.name)
                log.debug("nbd %s: export %r", self.peer, event.export.name)
            elif isinstance(event, Disconnect):
                self._send()
                return event

    async def _execute(self, cmd: Command) -> None:
        device = self.device
        assert device is not None
        data: bytes | bytearray | memoryview = b""
        error = 0
        try:
            kind = cmd.kind
            if kind == c.CMD_READ:
                data = await device.read(cmd.offset, cmd.length)
            elif kind == c.CMD_WRITE:
                self._wrote = True
                await device.write(cmd.offset, cmd.data, cmd.fua)
            elif kind == c.CMD_FLUSH:
                await device.flush()
            elif kind == c.CMD_TRIM:
                self._wrote = True
                await device.discard(cmd.offset, cmd.length)
                if cmd.fua:
                    await device.flush()
            elif kind == c.CMD_WRITE_ZEROES:
                self._wrote = True
                await device.write_zeroes(cmd.offset, cmd.length, cmd.no_hole)
                if cmd.fua:
                    await device.flush()
            elif kind == c.CMD_BLOCK_STATUS:
                span = min(cmd.length, c.MAX_BLOCK_STATUS_LENGTH)
                allocated = await device.allocated(cmd.offset, span)
                self.conn.reply_block_status(cmd, span, allocated)
                self._send_soon()
                self._wake.set()
                return
        except CephError as e:
            error = c.nbd_error(e.errno)
            log.warning("nbd %s: %s %d+%d failed: %s", self.peer, cmd.name, cmd.offset,
                        cmd.length, e)  # fmt: skip
        except Exception:  # a device bug must not take the connection down with it
            error = c.NBD_EIO
            log.exception("nbd %s: %s %d+%d failed", self.peer, cmd.name, cmd.offset, cmd.length)
        self.conn.reply(cmd, error, data)
        self._send_soon()
        self._wake.set()

    async def _flush_device(self) -> None:
        """The clean end of a session: whatever it wrote is made durable."""
        if self.device is None or not self._wrote:
            return
        try:
            await self.device.flush()
        except Exception:
            log.exception("nbd %s: flush at disconnect failed", self.peer)
