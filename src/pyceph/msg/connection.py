"""One authenticated, framed connection: the asyncio shell around the frame codec.

Receives through `BufferedProtocol` so large data lands in its final buffer, writes with
`writelines` so data segments are never copied, runs the handshake before anything else,
correlates `call()`s with their replies by tid, and fails every pending call when the
connection drops.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import Any

from pyceph.common.errors import CephError
from pyceph.msg.frame import FrameDecoder, FrameError, encode_frame
from pyceph.msg.handshake import ClientHandshake, PeerInfo, ServerHandshake
from pyceph.msg.message import (
    HANDSHAKE_TYPES,
    TYPE_CODES,
    TYPE_NAMES,
    Message,
    pack_head,
    unpack_head,
)

log = logging.getLogger(__name__)

ECONNRESET = 104
ETIMEDOUT = 110
ESHUTDOWN = 108

Dispatcher = Callable[["Connection", Message], None]


class Connection(asyncio.BufferedProtocol):
    """A framed message stream with a peer, authenticated before use."""

    def __init__(
        self,
        handshake: ClientHandshake | ServerHandshake,
        dispatcher: Dispatcher,
        on_close: Callable[[Connection], None] | None = None,
        max_data_len: int | None = None,
    ) -> None:
        self._hs: ClientHandshake | ServerHandshake | None = handshake
        self._dispatch = dispatcher
        self._on_close = on_close
        self._decoder = FrameDecoder(max_data_len) if max_data_len else FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._seq = itertools.count(1)
        self._tids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[Message]] = {}
        self._write_ok = asyncio.Event()
        self._write_ok.set()
        self.ready: asyncio.Future[PeerInfo] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.peer: PeerInfo | None = None
        self.peer_addr: tuple[str, int] | None = None
        self.local_addr: tuple[str, int] | None = None
        self.user: dict[str, Any] = {}  # per-connection state owned by the dispatcher

    # -- asyncio protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        if peer:
            self.peer_addr = (peer[0], peer[1])
        local = transport.get_extra_info("sockname")
        if local:
            self.local_addr = (local[0], local[1])
        if isinstance(self._hs, ClientHandshake):
            self._send_msg(self._hs.hello())

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._decoder.get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        try:
            frames = self._decoder.buffer_updated(nbytes)
        except FrameError as e:
            log.warning("dropping connection to %s: %s", self.peer_addr, e)
            self.close(e)
            return
        for f in frames:
            name = TYPE_NAMES.get(f.type)
            if name is None:
                self.close(CephError(71, f"unknown message type {f.type}"))
                return
            try:
                head = unpack_head(f.head)
            except Exception:
                self.close(CephError(71, "undecodable message head"))
                return
            if not isinstance(head, dict):
                self.close(CephError(71, "message head is not a map"))
                return
            self._receive(Message(name, head, f.data))
            if self.closed:
                return

    def connection_lost(self, exc: Exception | None) -> None:
        self._teardown(CephError(ECONNRESET, "connection reset"))

    def pause_writing(self) -> None:
        self._write_ok.clear()

    def resume_writing(self) -> None:
        self._write_ok.set()

    # -- receiving ----------------------------------------------------------
    def _receive(self, msg: Message) -> None:
        if self._hs is not None:
            self._handshake_step(msg)
            return
        if msg.type in HANDSHAKE_TYPES:
            self.close(CephError(71, "handshake message after handshake"))
            return
        rtid = msg.head.get("rtid")
        if rtid is not None:
            fut = self._calls.pop(rtid, None)
            if fut is not None and not fut.done():
                fut.set_result(msg)
            return
        try:
            self._dispatch(self, msg)
        except Exception:
            log.exception("dispatch of %s failed", msg.type)

    def _handshake_step(self, msg: Message) -> None:
        hs = self._hs
        assert hs is not None
        if msg.type not in HANDSHAKE_TYPES:
            self.close(CephError(71, f"{msg.type} before handshake"))
            return
        if isinstance(hs, ServerHandshake):
            reply = hs.receive(msg)
            self._send_msg(reply)
            if reply.type == "auth_fail":
                self._fail_ready(CephError(int(reply.head["errno"]), reply.head["msg"]))
                self._transport and self._transport.close()
            elif hs.result is not None:
                self._hs = None
                self.peer = hs.result
                self.ready.set_result(hs.result)
            return
        try:
            reply = hs.receive(msg)
        except CephError as e:
            self.close(e)
            return
        if reply is not None:
            self._send_msg(reply)
        elif hs.result is not None:
            self._hs = None
            self.peer = hs.result
            self.ready.set_result(hs.result)

    # -- sending ----------------------------------------------------------
    def _send_msg(self, msg: Message) -> None:
        self._write(msg.type, msg.head, msg.data)

    def _write(self, mtype: str, head: dict[str, Any], data: bytes | memoryview) -> None:
        if self.closed or self._transport is None:
            raise CephError(ECONNRESET, "connection closed")
        bufs = encode_frame(TYPE_CODES[mtype], next(self._seq), pack_head(head), data)
        self._transport.writelines(bufs)

    def send(self, mtype: str, head: dict[str, Any], data: bytes | memoryview = b"") -> None:
        """Queue a message; raises CephError(ECONNRESET) if the connection is gone."""
        if self._hs is not None:
            raise CephError(ECONNRESET, "connection not ready")
        self._write(mtype, head, data)

    def reply(self, req: Message, head: dict[str, Any], data: bytes | memoryview = b"") -> None:
        """Answer a `call()`: the reply carries the request's tid as rtid."""
        head["rtid"] = req.head["tid"]
        if not self.closed:
            self.send("reply", head, data)

    async def call(
        self,
        mtype: str,
        head: dict[str, Any],
        data: bytes | memoryview = b"",
        timeout: float | None = None,
    ) -> Message:
        """Send a request and wait for its reply (or the connection's end, or timeout)."""
        tid = next(self._tids)
        head["tid"] = tid
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._calls[tid] = fut
        try:
            self.send(mtype, head, data)
            if timeout:
                return await asyncio.wait_for(fut, timeout)
            return await fut
        except TimeoutError:
            raise CephError(ETIMEDOUT, f"{mtype} timed out") from None
        finally:
            self._calls.pop(tid, None)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        await self._write_ok.wait()

    # -- closing ------------------------------------------------------------
    def close(self, err: CephError | None = None) -> None:
        if self._transport is not None:
            self._transport.close()
        self._teardown(err or CephError(ESHUTDOWN, "connection closed"))

    def abort(self) -> None:
        """Drop the connection at once (tests and fault injection)."""
        if self._transport is not None:
            self._transport.abort()
        self._teardown(CephError(ECONNRESET, "connection aborted"))

    def _fail_ready(self, err: CephError) -> None:
        if not self.ready.done():
            self.ready.set_exception(err)
            self.ready.exception()  # mark retrieved: nobody may be waiting

    def _teardown(self, err: CephError) -> None:
        if self.closed:
            return
        self.closed = True
        self._write_ok.set()
        self._fail_ready(err)
        calls, self._calls = self._calls, {}
        for fut in calls.values():
            if not fut.done():
                fut.set_exception(err)
        if self._on_close is not None:
            self._on_close(self)
