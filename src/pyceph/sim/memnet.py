"""`MemNetwork`: stream connections in memory, implementing the runtime's `Network`.

The embedded cluster (every daemon in one process, on the real event loop) and the
simulator (on `SimLoop`, with faults) both use it in place of TCP. A connection is two
`MemTransport`s joined by two one-way pipes; bytes written on one side reach the other
side's protocol - `get_buffer`/`buffer_updated` for an `asyncio.BufferedProtocol`,
`data_received` otherwise - always from an event-loop callback, never re-entrantly from
inside `write()`. Each pipe keeps the stream's order, its delivery times come from the
`LinkModel` (latency, partitions, drops and corruption: see `pyceph.sim.faults`), and the
bytes a sender has in flight are bounded by a named high-water mark, with
`pause_writing`/`resume_writing` exactly as asyncio's socket transports do.

Whole frames: a network made with ``local_frames=True`` (the embedded cluster's; never
the simulator's, which fuzzes and corrupts bytes) lets a protocol that has
`frame_received` be handed a frame's parts (type, seq, head bytes, data) with no framing,
crc or copy (`MemTransport.write_frame`): the frame is one segment of the same pipe, so
it keeps the stream's order with the bytes around it, counts against the same high-water
mark and is lost the same way when the connection resets or its host dies. Only while
nothing watches or mangles the bytes (no link model, no taps).

Hosts: every endpoint belongs to a named host with an IP (`MemNetwork.host(name, ip)`
gives that host's `Network` view; the network itself is a view of a default host on
127.0.0.1). Faults are expressed between host names; a host can be killed (a crashed
process: its connections reset, its listeners gone) and revived.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from pyceph.common.runtime import ProtocolFactory

log = logging.getLogger(__name__)

#: Bytes a sender may have written but not yet delivered before `pause_writing`.
MEMNET_HIGH_WATER = 256 << 10
#: `resume_writing` once the undelivered bytes fall to this (asyncio's high/4 rule).
MEMNET_LOW_WATER = MEMNET_HIGH_WATER // 4
#: The most bytes handed to a protocol in one `buffer_updated`/`data_received` call
#: (what one recv() of a socket would return).
MEMNET_READ_CHUNK = 256 << 10
#: Ephemeral ports handed out for `connect` and for `listen(port=0)`.
EPHEMERAL_PORT_FIRST = 32768
EPHEMERAL_PORT_LAST = 60999

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD = frozenset({"", "0.0.0.0", "::"})

Addr = tuple[str, int]

_DATA, _FIN, _RST, _FRAME = 0, 1, 2, 3
#: What a whole frame counts as in flight besides its head and data: the preamble and
#: epilogue it would have had as bytes (`pyceph.msg.frame`), so flow control is the same.
FRAME_OVERHEAD = 32


class LinkModel(Protocol):
    """What the network asks about a link (src host name → dst host name)."""

    #: How long a connect waits across a partition before ETIMEDOUT (SYN retries).
    connect_timeout: float
    #: How long data may sit blocked by a partition before the connection resets
    #: (TCP's retransmission timeout); 0 = hold it until the partition heals.
    stall_timeout: float

    def delay(self, src: str, dst: str) -> float:
        """One-way latency for the next segment."""
        ...

    def blocked(self, src: str, dst: str) -> bool:
        """Whether the link is partitioned now."""
        ...

    def mangle(self, src: str, dst: str, data: bytes) -> bytes | None:
        """The bytes to send (possibly corrupted), or None to reset the connection."""
        ...


#: A tap sees every event: (event, virtual time, src, dst, connection id, bytes).
#: Events: "connect", "data", "fin", "rst", "reset", "corrupt".
Tap = Callable[[str, float, str, str, int, bytes], None]


class _Seg:
    __slots__ = ("at", "kind", "data", "off", "frame")

    def __init__(self, at: float, kind: int, data: bytes = b"") -> None:
        self.at = at
        self.kind = kind
        self.data = data
        self.off = 0
        self.frame: tuple[int, int, bytes, bytes] | None = None  # kind _FRAME


class _Pipe:
    """One direction of a connection: segments queued for delivery, in order."""

    def __init__(self, net: MemNetwork, src: MemTransport, key: tuple[int, int]) -> None:
        self.net = net
        self.src = src
        self.dst: MemTransport = src  # set when the peer exists
        self.key = key
        self.q: deque[_Seg] = deque()
        self.size = 0  # undelivered data bytes
        self.last_at = 0.0
        self.handle: asyncio.Handle | None = None
        self.stall: asyncio.TimerHandle | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.src.loop

    def push(self, kind: int, data: bytes, delay: float) -> None:
        at = max(self.loop.time() + delay, self.last_at)
        self.last_at = at
        self.q.append(_Seg(at, kind, data))
        if kind == _DATA:
            self.size += len(data)
        self.schedule()

    def push_frame(self, frame: tuple[int, int, bytes, bytes]) -> None:
        """A whole frame, due now (only without a link model: no delay)."""
        at = max(self.loop.time(), self.last_at)
        self.last_at = at
        seg = _Seg(at, _FRAME)
        seg.frame = frame
        seg.off = FRAME_OVERHEAD + len(frame[2]) + len(frame[3])  # its in-flight size
        self.q.append(seg)
        self.size += seg.off
        self.schedule()

    def clear(self) -> None:
        self.q.clear()
        self.size = 0
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        self._unstall()
        self.net._parked.pop(self.key, None)

    def schedule(self) -> None:
        if self.handle is not None or not self.q or self.key in self.net._parked:
            return
        at = self.q[0].at
        loop = self.loop
        if at <= loop.time():
            self.handle = loop.call_soon(self.pump)
        else:
            self.handle = loop.call_at(at, self.pump)

    def _unstall(self) -> None:
        if self.stall is not None:
            self.stall.cancel()
            self.stall = None

    def pump(self) -> None:
        """Deliver every segment that is due, in order."""
        self.handle = None
        net = self.net
        src, dst = self.src, self.dst
        model = net.model
        if model is not None and model.blocked(src.host.name, dst.host.name):
            net._parked[self.key] = self
            if model.stall_timeout > 0 and self.stall is None:
                self.stall = self.loop.call_later(model.stall_timeout, self._stalled)
            return
        self._unstall()
        now = self.loop.time()
        q = self.q
        stalled = False  # the receiver cannot take data now; it reschedules us later
        while q and q[0].at <= now:
            seg = q[0]
            if seg.kind == _DATA:
                if dst._closing:  # the receiver is gone: the bytes are lost
                    q.popleft()
                    self.size -= len(seg.data) - seg.off
                    continue
                if not dst._reading or dst._protocol is None:
                    stalled = True
                    break
                if not self._deliver(seg):
                    stalled = True
                    break
                q.popleft()
            elif seg.kind == _FRAME:
                if not dst._closing and (not dst._reading or dst._protocol is None):
                    stalled = True
                    break
                q.popleft()
                self.size -= seg.off
                if not dst._closing:
                    self._deliver_frame(seg)
            elif seg.kind == _FIN:
                q.popleft()
                net._emit("fin", src, dst, b"")
                dst._eof()
            else:
                q.popleft()
                dst._reset_by_peer()
        src._maybe_resume()
        if not stalled:
            self.schedule()

    def _deliver(self, seg: _Seg) -> bool:
        """Hand `seg` to the receiving protocol; False if it stopped reading midway."""
        dst = self.dst
        data = seg.data
        view = memoryview(data)
        chunk = self.net.read_chunk
        proto = dst._protocol
        try:
            while seg.off < len(data):
                if dst._closing:  # closed while receiving: the rest is lost
                    self.size -= len(data) - seg.off
                    seg.off = len(data)
                    return True
                if not dst._reading:
                    return False
                left = len(data) - seg.off
                if isinstance(proto, asyncio.BufferedProtocol):
                    buf = memoryview(proto.get_buffer(left))
                    n = min(len(buf), left, chunk)
                    if n <= 0:
                        raise RuntimeError("get_buffer() returned an empty buffer")
                    buf[:n] = view[seg.off : seg.off + n]
                    seg.off += n
                    self.size -= n
                    if self.net.taps:
                        self.net._emit("data", self.src, dst, bytes(view[seg.off - n : seg.off]))
                    proto.buffer_updated(n)
                else:
                    n = min(left, chunk)
                    piece = bytes(view[seg.off : seg.off + n])
                    seg.off += n
                    self.size -= n
                    self.net._emit("data", self.src, dst, piece)
                    proto.data_received(piece)  # type: ignore[attr-defined]
        except Exception as e:  # a protocol bug: what asyncio's transports do
            log.exception("memnet: protocol of %s failed on received data", dst.host.name)
            self.size -= len(data) - seg.off
            seg.off = len(data)
            dst._fatal(e)
        return True

    def _deliver_frame(self, seg: _Seg) -> None:
        dst = self.dst
        self.net.frames_whole += 1
        try:
            dst._protocol.frame_received(*seg.frame)  # type: ignore[union-attr]
        except Exception as e:  # a protocol bug: as for bytes
            log.exception("memnet: protocol of %s failed on a received frame", dst.host.name)
            dst._fatal(e)

    def _stalled(self) -> None:
        self.stall = None
        if self.key in self.net._parked:
            self.net.reset(self.src.conn_id, "stalled behind a partition")

    def unpark(self) -> None:
        if self.net._parked.pop(self.key, None) is not None:
            self.schedule()


class MemTransport(asyncio.Transport):
    """One end of an in-memory stream connection (the asyncio Transport interface)."""

    def __init__(
        self,
        net: MemNetwork,
        host: HostNet,
        conn_id: int,
        side: int,
        local: Addr,
        peer: Addr,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__({"sockname": local, "peername": peer, "socket": None})
        self.net = net
        self.host = host
        self.conn_id = conn_id
        self.loop = loop
        self.local = local
        self.peer_addr = peer
        self._protocol: asyncio.BaseProtocol | None = None
        self.peer: MemTransport = self
        self.out = _Pipe(net, self, (conn_id, side))
        self._closing = False
        self._lost = False
        self._reading = True
        self._paused = False
        self._high = net.high_water
        self._low = net.low_water

    # -- asyncio.BaseTransport ------------------------------------------------------
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Graceful: bytes already written are still delivered, then the peer sees EOF."""
        if self._closing:
            return
        self._closing = True
        self._reading = False
        self.out.push(_FIN, b"", self._delay())
        self.loop.call_soon(self._connection_lost, None)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:  # type: ignore[override]
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:  # type: ignore[override]
        assert self._protocol is not None
        return self._protocol

    # -- reading ------------------------------------------------------------------
    def is_reading(self) -> bool:
        return self._reading and not self._closing

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        if self._closing or self._reading:
            return
        self._reading = True
        self.peer.out.schedule()

    # -- writing ------------------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:  # type: ignore[override]
        if self._closing or not data:
            return
        self.net._send(self, bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        """All buffers as one segment (one frame stays one write, as with sendmsg)."""
        if self._closing:
            return
        data = b"".join(bytes(b) if not isinstance(b, bytes) else b for b in list_of_data)
        if data:
            self.net._send(self, data)

    def frames_local(self) -> bool:
        """Whether `write_frame` may be used now (see the module docstring)."""
        net = self.net
        return (
            net.local_frames
            and net.model is None
            and not net.taps
            and hasattr(self.peer._protocol, "frame_received")
        )

    def write_frame(self, ftype: int, seq: int, head: bytes, data: bytes | memoryview) -> None:
        """Queue one whole frame for the peer's protocol (`frame_received`)."""
        if self._closing:
            return
        if not isinstance(data, bytes):
            data = bytes(data)  # the caller may reuse its buffer once this returns
        self.out.push_frame((ftype, seq, head, data))
        self._maybe_pause()

    def write_eof(self) -> None:
        raise NotImplementedError("memnet transports do not half-close")

    def can_write_eof(self) -> bool:
        return False

    def abort(self) -> None:
        """Drop the connection now: unsent bytes are discarded, the peer sees a reset."""
        if self._lost:
            return
        self._closing = True
        self._reading = False
        self.out.clear()
        if not self.peer._closing:
            self.out.push(_RST, b"", self._delay())
        self.loop.call_soon(self._connection_lost, None)

    # -- flow control -------------------------------------------------------------
    def get_write_buffer_size(self) -> int:
        return self.out.size

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is None:
            high = self.net.high_water if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._maybe_pause()
        self._maybe_resume()

    def _maybe_pause(self) -> None:
        if not self._paused and self.out.size > self._high and not self._closing:
            self._paused = True
            try:
                self._protocol.pause_writing()  # type: ignore[union-attr]
            except Exception:
                log.exception("memnet: pause_writing failed")

    def _maybe_resume(self) -> None:
        if self._paused and self.out.size <= self._low:
            self._paused = False
            try:
                self._protocol.resume_writing()  # type: ignore[union-attr]
            except Exception:
                log.exception("memnet: resume_writing failed")

    # -- events from the peer -----------------------------------------------------
    def _delay(self) -> float:
        m = self.net.model
        return m.delay(self.host.name, self.peer.host.name) if m is not None else 0.0

    def _eof(self) -> None:
        if self._closing:
            return
        keep_open = False
        proto = self._protocol
        try:
            keep_open = bool(proto.eof_received()) if proto is not None else False  # type: ignore[attr-defined]
        except Exception as e:
            log.exception("memnet: eof_received failed")
            self._fatal(e)
            return
        if not keep_open:
            self.close()

    def _reset_by_peer(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._reading = False
        self.out.clear()
        self.loop.call_soon(self._connection_lost, ConnectionResetError(errno.ECONNRESET, "reset"))

    def _fatal(self, exc: Exception) -> None:
        self.abort()

    def _kill(self, exc: Exception | None) -> None:
        """Both ends at once (faults, crashed hosts): no segment reaches anyone."""
        self._closing = True
        self._reading = False
        self.out.clear()
        self.loop.call_soon(self._connection_lost, exc)

    def _connection_lost(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self.net._lost(self)
        if self._protocol is None:
            return
        try:
            self._protocol.connection_lost(exc)
        except Exception:
            log.exception("memnet: connection_lost failed")

    def __repr__(self) -> str:
        state = "closing" if self._closing else "open"
        return f"<MemTransport #{self.conn_id} {self.local}->{self.peer_addr} {state}>"


class _MemListener:
    """A bound endpoint (the runtime's `Listener`)."""

    def __init__(self, host: HostNet, bind_ip: str, port: int, factory: ProtocolFactory):
        self.host = host
        self.bind_ip = bind_ip
        self.port = port
        self.factory = factory
        self.closed = False

    @property
    def addr(self) -> Addr:
        ip = self.host.ip if self.bind_ip in WILDCARD else self.bind_ip
        return (ip, self.port)

    def accepts(self, ip: str) -> bool:
        if self.bind_ip in WILDCARD:
            return True
        if self.bind_ip in LOOPBACK:
            return ip in LOOPBACK
        return ip == self.bind_ip

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.host._listeners.get(self.port) is self:
                del self.host._listeners[self.port]


class HostNet:
    """One host's view of the network: what a daemon's `Runtime.net` is."""

    def __init__(self, net: MemNetwork, name: str, ip: str) -> None:
        self.net = net
        self.name = name
        self.ip = ip
        self.alive = True
        self._listeners: dict[int, _MemListener] = {}
        self._ports = itertools.count(EPHEMERAL_PORT_FIRST)

    def __repr__(self) -> str:
        return f"<HostNet {self.name} {self.ip}{'' if self.alive else ' dead'}>"

    def _check_alive(self) -> None:
        if not self.alive:
            raise OSError(errno.ENETDOWN, f"host {self.name} is down")

    def _free_port(self) -> int:
        for _ in range(EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST + 1):
            p = next(self._ports)
            if p > EPHEMERAL_PORT_LAST:
                self._ports = itertools.count(EPHEMERAL_PORT_FIRST)
                p = next(self._ports)
            if p not in self._listeners:
                return p
        raise OSError(errno.EADDRINUSE, "no free ephemeral port")

    async def listen(self, host: str, port: int, factory: ProtocolFactory) -> _MemListener:
        self._check_alive()
        if host not in WILDCARD and host not in LOOPBACK and host != self.ip:
            raise OSError(errno.EADDRNOTAVAIL, f"{host} is not an address of {self.name}")
        port = int(port) or self._free_port()
        if port in self._listeners:
            raise OSError(errno.EADDRINUSE, f"address already in use: {host}:{port}")
        lst = _MemListener(self, "127.0.0.1" if host == "localhost" else host, port, factory)
        self._listeners[port] = lst
        return lst

    async def connect(
        self, host: str, port: int, factory: ProtocolFactory
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        self._check_alive()
        net = self.net
        loop = asyncio.get_running_loop()
        loopback = host in LOOPBACK
        dst = self if loopback else net._by_ip.get(host)
        port = int(port)
        model = net.model
        if dst is None:
            raise OSError(errno.EHOSTUNREACH, f"no route to host {host}")
        if model is not None:
            deadline = loop.time() + model.connect_timeout
            while model.blocked(self.name, dst.name) or model.blocked(dst.name, self.name):
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError(errno.ETIMEDOUT, f"connect to {host}:{port} timed out")
                await net._wait_change(left)
                self._check_alive()
            rtt = model.delay(self.name, dst.name) + model.delay(dst.name, self.name)
            if rtt > 0:
                await asyncio.sleep(rtt)
            self._check_alive()
        lst = dst._listeners.get(port) if dst.alive else None
        if lst is None or lst.closed or not lst.accepts(host):
            raise ConnectionRefusedError(errno.ECONNREFUSED, f"connection refused: {host}:{port}")
        local_ip = "127.0.0.1" if loopback else self.ip
        local = (local_ip, self._free_port())
        cid = next(net._conn_ids)
        ct = MemTransport(net, self, cid, 0, local, (host, port), loop)
        st = MemTransport(net, dst, cid, 1, (host, port), local, loop)
        ct.peer, st.peer = st, ct
        ct.out.dst, st.out.dst = st, ct
        net._conns[cid] = [ct, st]
        net._emit("connect", ct, st, b"")
        loop.call_soon(net._accept, st, lst)
        proto = factory()
        ct._protocol = proto
        proto.connection_made(ct)
        return ct, proto

    def kill(self) -> None:
        """A crashed host: listeners vanish, every connection resets at both ends."""
        self.alive = False
        for lst in list(self._listeners.values()):
            lst.close()
        for cid in sorted(self.net._conns):
            ends = self.net._conns.get(cid)
            if ends and (ends[0].host is self or ends[1].host is self):
                self.net.reset(cid, f"{self.name} crashed")

    def revive(self) -> None:
        self.alive = True
        self._ports = itertools.count(EPHEMERAL_PORT_FIRST + 1000 * self.net._revivals(self))

    def connections(self) -> list[MemTransport]:
        return [
            t
            for cid in sorted(self.net._conns)
            for t in self.net._conns[cid]
            if t.host is self and not t._lost
        ]


class MemNetwork:
    """The in-memory network; also the `Network` of its default host (127.0.0.1)."""

    def __init__(
        self,
        model: LinkModel | None = None,
        *,
        high_water: int = MEMNET_HIGH_WATER,
        low_water: int | None = None,
        read_chunk: int = MEMNET_READ_CHUNK,
        default_host: str = "localhost",
        default_ip: str = "127.0.0.1",
        local_frames: bool = False,
    ) -> None:
        self.model = model
        #: Whole frames between in-process protocols (see the module docstring).
        self.local_frames = local_frames
        #: Frames handed over whole so far (`write_frame`).
        self.frames_whole = 0
        self.high_water = high_water
        self.low_water = high_water // 4 if low_water is None else low_water
        self.read_chunk = read_chunk
        self._hosts: dict[str, HostNet] = {}
        self._by_ip: dict[str, HostNet] = {}
        self._conns: dict[int, list[MemTransport]] = {}
        self._conn_ids = itertools.count(1)
        self._parked: dict[tuple[int, int], _Pipe] = {}
        self._change_waiters: list[asyncio.Future[None]] = []
        self._revive_count: dict[str, int] = {}
        self.taps: list[Tap] = []
        self.default = self.host(default_host, default_ip)

    # -- hosts ----------------------------------------------------------------------
    def host(self, name: str, ip: str | None = None) -> HostNet:
        """The host `name` (created on first use, with `ip` or the default address)."""
        h = self._hosts.get(name)
        if h is not None:
            if ip is not None and ip != h.ip:
                raise ValueError(f"host {name} already has address {h.ip}")
            return h
        ip = ip or "127.0.0.1"
        if ip in self._by_ip and ip not in LOOPBACK:
            raise ValueError(f"address {ip} already belongs to {self._by_ip[ip].name}")
        h = HostNet(self, name, ip)
        self._hosts[name] = h
        self._by_ip.setdefault(ip, h)
        return h

    def hosts(self) -> list[HostNet]:
        return list(self._hosts.values())

    def _revivals(self, h: HostNet) -> int:
        n = self._revive_count.get(h.name, 0) + 1
        self._revive_count[h.name] = n
        return n

    # -- the Network interface (default host) ----------------------------------------
    async def listen(self, host: str, port: int, factory: ProtocolFactory) -> _MemListener:
        return await self.default.listen(host, port, factory)

    async def connect(
        self, host: str, port: int, factory: ProtocolFactory
    ) -> tuple[asyncio.BaseTransport, asyncio.BaseProtocol]:
        return await self.default.connect(host, port, factory)

    # -- internals ------------------------------------------------------------------
    def _emit(self, event: str, src: MemTransport, dst: MemTransport, data: bytes) -> None:
        if self.taps:
            t = src.loop.time()
            for tap in self.taps:
                tap(event, t, src.host.name, dst.host.name, src.conn_id, data)

    def _send(self, tr: MemTransport, data: bytes) -> None:
        model = self.model
        delay = 0.0
        if model is not None:
            src, dst = tr.host.name, tr.peer.host.name
            mangled = model.mangle(src, dst, data)
            if mangled is None:
                self.reset(tr.conn_id, f"dropped on {src}->{dst}")
                return
            if mangled is not data and mangled != data:
                self._emit("corrupt", tr, tr.peer, mangled)
            data = mangled
            delay = model.delay(src, dst)
        tr.out.push(_DATA, data, delay)
        tr._maybe_pause()

    def _accept(self, st: MemTransport, lst: _MemListener) -> None:
        if st._closing:
            return
        try:
            proto = lst.factory()
            st._protocol = proto
            proto.connection_made(st)
        except Exception as e:
            log.exception("memnet: accepting a connection on %s failed", lst.addr)
            st._fatal(e)
            return
        st.peer.out.schedule()

    def _lost(self, tr: MemTransport) -> None:
        ends = self._conns.get(tr.conn_id)
        if ends is not None and all(t._lost for t in ends):
            del self._conns[tr.conn_id]
            for t in ends:
                t.out.clear()

    async def _wait_change(self, timeout: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            if fut in self._change_waiters:
                self._change_waiters.remove(fut)

    # -- fault entry points -------------------------------------------------------------
    def reset(self, conn_id: int, reason: str = "reset") -> None:
        """Reset one connection: both ends see ECONNRESET, bytes in flight are lost."""
        ends = self._conns.get(conn_id)
        if not ends:
            return
        a, b = ends
        if a._lost and b._lost:
            return
        log.debug("memnet: connection #%s %s<->%s reset: %s", conn_id, a.host.name, b.host.name,
                  reason)  # fmt: skip
        self._emit("reset", a, b, reason.encode())
        for t in ends:
            if not t._lost:
                t._kill(ConnectionResetError(errno.ECONNRESET, reason))

    def reset_between(self, a: str, b: str) -> int:
        """Reset every connection between hosts `a` and `b`; returns how many."""
        n = 0
        for cid in sorted(self._conns):
            x, y = self._conns[cid]
            if {x.host.name, y.host.name} == {a, b} or (a == b == x.host.name == y.host.name):
                self.reset(cid, f"reset between {a} and {b}")
                n += 1
        return n

    def links_changed(self) -> None:
        """The link model changed (a partition healed): move blocked traffic again."""
        for key in sorted(self._parked):
            pipe = self._parked.get(key)
            if pipe is not None:
                pipe.unpark()
        waiters, self._change_waiters = self._change_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def connection_count(self) -> int:
        return len(self._conns)


class MessageTrace:
    """A tap decoding frames into (virtual time, message type, src, dst) records.

    The simulator's determinism tests compare these traces between runs. Connection
    events (connect, reset) are recorded too, with their type in place of a message type.
    """

    def __init__(self, net: MemNetwork, raw_events: bool = True) -> None:
        from pyceph.msg.frame import FrameDecoder

        self._decoder_cls = FrameDecoder
        self._decoders: dict[tuple[int, str], Any] = {}
        self.records: list[tuple[float, str, str, str]] = []
        self.raw_events = raw_events
        net.taps.append(self)

    def __call__(self, event: str, t: float, src: str, dst: str, cid: int, data: bytes) -> None:
        from pyceph.msg.frame import FrameError
        from pyceph.msg.message import TYPE_NAMES

        if event != "data":
            if self.raw_events and event in ("connect", "reset", "corrupt"):
                self.records.append((round(t, 9), f"<{event}>", src, dst))
            return
        key = (cid, src)
        dec = self._decoders.get(key)
        if dec is None:
            dec = self._decoders[key] = self._decoder_cls()
        if dec is False:
            return
        try:
            for f in dec.feed(data):
                self.records.append((round(t, 9), TYPE_NAMES.get(f.type, str(f.type)), src, dst))
        except FrameError:
            self._decoders[key] = False
            self.records.append((round(t, 9), "<bad-frame>", src, dst))
