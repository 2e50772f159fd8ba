"""One authenticated, framed connection: the asyncio shell around the frame codec.

Receives through `BufferedProtocol` so large data lands in its final buffer, writes with
`writelines` so data segments are never copied, runs the handshake before anything else,
correlates `call()`s with their replies by tid, and fails every pending call when the
connection drops.

Frames queued during one loop iteration are written together at its end: one syscall
and one wake-up of the peer for a burst of replies or requests instead of one each
(upstream's AsyncConnection likewise queues outgoing messages and writes them from its
event center's write handler). A close writes what was queued before it.

The cephx lifecycle lives here too: the accepting side refuses (drops) a peer whose
ticket has expired and runs a re-authentication when the peer sends a new `auth_hello`
on the established connection; the connecting side starts one by itself when its
credentials fall due for renewal (`Credentials.renew_after`), so a live connection never
outlives its ticket and a renewed one never drops.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from pyceph.common.errors import CephError
from pyceph.msg.frame import FrameDecoder, FrameError, encode_frame
from pyceph.msg.handshake import (
    ClientHandshake,
    Credentials,
    PeerInfo,
    ServerHandshake,
    derive_nonce,
)
from pyceph.msg.message import (
    HANDSHAKE_TYPES,
    TYPE_CODES,
    TYPE_NAMES,
    Message,
    decode_head,
    pack_head,
)
from pyceph.msg.secure import SecureChannel, SecureError

log = logging.getLogger(__name__)

ECONNRESET = 104
ETIMEDOUT = 110
ESHUTDOWN = 108

Dispatcher = Callable[["Connection", Message], None]


@runtime_checkable
class LocalFrames(Protocol):
    """A transport whose peer is in this process (`pyceph.sim.memnet.MemTransport` of an
    embedded cluster): it can hand a frame's parts to the peer's `frame_received` in
    stream order, with no framing, crc or copy of the bytes. Secure-mode frames always
    go as bytes (they are sealed)."""

    def frames_local(self) -> bool:
        """Whether whole frames may be handed over now."""
        ...

    def write_frame(self, ftype: int, seq: int, head: bytes, data: bytes | memoryview) -> None:
        """Queue one frame for the peer, in order with any bytes written before it."""
        ...


class Connection(asyncio.BufferedProtocol):
    """A framed message stream with a peer, authenticated before use."""

    def __init__(
        self,
        handshake: ClientHandshake | ServerHandshake,
        dispatcher: Dispatcher,
        on_close: Callable[[Connection], None] | None = None,
        max_data_len: int | None = None,
        decoder: FrameDecoder | None = None,
    ) -> None:
        self._hs: ClientHandshake | ServerHandshake | None = handshake
        # Re-authentication of the established connection (see the module docstring).
        self._base_nonce = handshake.nonce
        self._reauth_round = 0
        self._rehs: ClientHandshake | ServerHandshake | None = None
        self._reauth_done: asyncio.Future[PeerInfo] | None = None
        self._creds: Credentials | None = (
            handshake.creds if isinstance(handshake, ClientHandshake) else None
        )
        self._server_hs: ServerHandshake | None = (
            handshake if isinstance(handshake, ServerHandshake) else None
        )
        self._now = getattr(self._server_hs.server, "now", None) if self._server_hs else None
        self._secure: SecureChannel | None = None
        self._dispatch = dispatcher
        self._on_close = on_close
        self._decoder = decoder or (FrameDecoder(max_data_len) if max_data_len else FrameDecoder())
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        #: frames queued in this loop iteration, written by `_flush_out` at its end
        self._out: list[bytes | memoryview] = []
        self._local: LocalFrames | None = None
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
        # A transport to a peer in this process may take whole frames (`LocalFrames`).
        self._local = transport if isinstance(transport, LocalFrames) else None
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
            self._frame(f.type, f.seq, f.head, f.data)
            if self.closed:
                return

    def frame_received(self, ftype: int, seq: int, head: bytes, data: bytes) -> None:
        """One whole frame from an in-process transport (`MemTransport.write_frame`):
        bounded like a decoded frame, then received exactly like one."""
        try:
            self._decoder.accept_whole(len(head), len(data))
        except FrameError as e:
            log.warning("dropping connection to %s: %s", self.peer_addr, e)
            self.close(e)
            return
        self._frame(ftype, seq, head, data)

    def _frame(self, ftype: int, seq: int, raw_head: bytes, data: bytes | memoryview) -> None:
        """Decode one frame's head (opening it in secure mode) and receive the message."""
        name = TYPE_NAMES.get(ftype)
        if name is None:
            self.close(CephError(71, f"unknown message type {ftype}"))
            return
        if self._secure is not None:
            try:
                raw_head, data = self._secure.open(ftype, seq, data)
            except SecureError as e:
                log.warning("dropping connection to %s: %s", self.peer_addr, e)
                self.close(e)
                return
        try:
            head = decode_head(name, raw_head)
        except Exception:
            self.close(CephError(71, "undecodable message head"))
            return
        if not isinstance(head, dict):
            self.close(CephError(71, "message head is not a map"))
            return
        self._receive(Message(name, head, data))

    def connection_lost(self, exc: Exception | None) -> None:
        self._teardown(CephError(ECONNRESET, "connection reset"))

    def pause_reading(self) -> None:
        """Stop reading from the peer until `resume_reading` (a throttle's back-pressure)."""
        if self._transport is not None and not self.closed:
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.resume_reading()

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
            self._reauth_step(msg)
            return
        peer = self.peer
        if peer is not None and peer.expires and self._now and self._now() > peer.expires:
            log.info("dropping %s: its ticket expired", peer.entity)
            self.close(CephError(errno.EACCES, "ticket expired"))
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
                if self._transport is not None:
                    self._flush_out()  # the auth_fail goes before the close
                    self._transport.close()
            elif hs.result is not None:
                self._hs = None
                self.peer = hs.result
                if self.peer_addr is not None:
                    self.peer.addr = f"{self.peer_addr[0]}:{self.peer_addr[1]}"
                self._start_mode(hs.result, connecting_side=False)
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
            self._start_mode(hs.result, connecting_side=True)
            self.ready.set_result(hs.result)

    def _start_mode(self, peer: PeerInfo, connecting_side: bool) -> None:
        """Every frame after the handshake is encrypted in `secure` mode."""
        if peer.mode == "secure":
            self._secure = SecureChannel.for_connection(peer.session_key, connecting_side)

    @property
    def mode(self) -> str:
        """The negotiated connection mode: "crc" or "secure"."""
        return "secure" if self._secure is not None else "crc"

    # -- re-authentication ------------------------------------------------
    def _reauth_step(self, msg: Message) -> None:
        """A handshake message on an established connection: a re-authentication."""
        if self._server_hs is not None:
            self._server_reauth(msg)
            return
        hs = self._rehs
        if not isinstance(hs, ClientHandshake):
            self.close(CephError(errno.EPROTO, "handshake message after handshake"))
            return
        try:
            reply = hs.receive(msg)
        except CephError as e:
            log.info("re-authentication to %s refused: %s", self.peer_addr, e)
            self._finish_reauth(None, e)
            self.close(e)
            return
        if reply is not None:
            self._send_msg(reply)
        elif hs.result is not None:
            self._creds = hs.creds
            self._finish_reauth(hs.result, None)

    def _server_reauth(self, msg: Message) -> None:
        assert self._server_hs is not None and self.peer is not None
        if msg.type == "auth_hello":
            if self._rehs is not None:
                self.close(CephError(errno.EPROTO, "overlapping re-authentication"))
                return
            self._reauth_round += 1
            srv = self._server_hs
            self._rehs = ServerHandshake(
                srv.server,
                srv.my_entity,
                derive_nonce(self._base_nonce, self._reauth_round),
                srv.modes,
                reauth_of=self.peer,
            )
        hs = self._rehs
        if hs is None:
            self.close(CephError(errno.EPROTO, f"unexpected {msg.type}"))
            return
        reply = hs.receive(msg)
        self._send_msg(reply)
        if reply.type == "auth_fail":
            self.close(CephError(int(reply.head["errno"]), str(reply.head["msg"])))
        elif hs.result is not None:
            self._rehs = None
            new = hs.result
            # Daemons keep references to the peer: update it in place.
            self.peer.caps = new.caps
            self.peer.expires = new.expires
            self.peer.extras = new.extras
            self.peer.global_id = new.global_id

    def reauthenticate(self, creds: Credentials) -> asyncio.Future[PeerInfo]:
        """Prove renewed credentials on this established connection (connecting side).

        The returned future resolves to the new `PeerInfo` (with the monitor's extras)
        or fails; a refused re-authentication drops the connection.
        """
        if self._reauth_done is not None and not self._reauth_done.done():
            return self._reauth_done
        fut: asyncio.Future[PeerInfo] = asyncio.get_running_loop().create_future()
        if self.closed or self._hs is not None or self._server_hs is not None:
            fut.set_exception(CephError(ECONNRESET, "connection not ready"))
            fut.exception()
            return fut
        self._reauth_done = fut
        self._reauth_round += 1
        self._rehs = ClientHandshake(creds, derive_nonce(self._base_nonce, self._reauth_round))
        self._send_msg(self._rehs.hello())
        return fut

    def _finish_reauth(self, result: PeerInfo | None, err: CephError | None) -> None:
        self._rehs = None
        fut, self._reauth_done = self._reauth_done, None
        if fut is None or fut.done():
            return
        if err is not None:
            fut.set_exception(err)
            fut.exception()
        else:
            assert result is not None
            fut.set_result(result)

    def _maybe_renew(self) -> None:
        """Connecting side: start a re-authentication once the ticket is due."""
        creds = self._creds
        if creds is None or creds.refresh is None or self._rehs is not None or not creds.due():
            return
        try:
            fresh = creds.refresh()
        except CephError as e:
            log.debug("no renewed credentials for %s yet: %s", self.peer_addr, e)
            return
        if fresh.ticket == creds.ticket:
            return  # not renewed yet: keep going until it expires
        self._creds = fresh
        self.reauthenticate(fresh)

    # -- sending ----------------------------------------------------------
    def _send_msg(self, msg: Message) -> None:
        self._write(msg.type, msg.head, msg.data)

    def _write(self, mtype: str, head: dict[str, Any], data: bytes | memoryview) -> None:
        if self.closed or self._transport is None:
            raise CephError(ECONNRESET, "connection closed")
        code, seq = TYPE_CODES[mtype], next(self._seq)
        if self._secure is not None:
            try:
                sealed = self._secure.seal(code, seq, pack_head(head), data)
            except SecureError as e:
                self.close(e)
                raise
            bufs = encode_frame(code, seq, b"", sealed, data_crc=False)
        else:
            local = self._local
            if local is not None and local.frames_local():
                # an in-process peer: the frame as its parts, no bytes framed or crc'd
                if self._out:
                    self._flush_out()  # in stream order with the bytes queued before it
                local.write_frame(code, seq, pack_head(head), data)
                return
            bufs = encode_frame(code, seq, pack_head(head), data)
        if not self._out:
            self._loop.call_soon(self._flush_out)
        self._out.extend(bufs)

    def _flush_out(self) -> None:
        """Write the frames queued in this loop iteration, in one `writelines`."""
        out = self._out
        if not out:
            return
        self._out = []
        t = self._transport
        if t is not None and not self.closed and not t.is_closing():
            t.writelines(out)

    def send(self, mtype: str, head: dict[str, Any], data: bytes | memoryview = b"") -> None:
        """Queue a message; raises CephError(ECONNRESET) if the connection is gone."""
        if self._hs is not None:
            raise CephError(ECONNRESET, "connection not ready")
        if self._creds is not None and self._creds.renew_after:
            self._maybe_renew()
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
        """Wait until the transport's write buffer is below its high-water mark (what
        this iteration queued is written first, so it counts)."""
        self._flush_out()
        await self._write_ok.wait()

    # -- closing ------------------------------------------------------------
    def close(self, err: CephError | None = None) -> None:
        if self._transport is not None:
            self._flush_out()  # what was sent before the close still goes
            self._transport.close()
        self._teardown(err or CephError(ESHUTDOWN, "connection closed"))

    def abort(self) -> None:
        """Drop the connection at once (tests and fault injection)."""
        self._out = []
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
        self._finish_reauth(None, err)
        calls, self._calls = self._calls, {}
        for fut in calls.values():
            if not fut.done():
                fut.set_exception(err)
        if self._on_close is not None:
            self._on_close(self)
