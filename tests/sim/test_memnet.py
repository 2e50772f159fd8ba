"""The in-memory network: transport semantics on the simulator loop and on asyncio's own.

Every test that can runs on both loops: the embedded cluster uses memnet on the real
event loop, the simulator on `SimLoop`.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time

import pytest

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.runtime import Runtime
from pyceph.msg.handshake import Credentials, PeerInfo
from pyceph.msg.messenger import Messenger
from pyceph.sim import loop as simloop
from pyceph.sim.clock import SimClock
from pyceph.sim.disk import SimDisk
from pyceph.sim.faults import FaultPlan, LinkSpec
from pyceph.sim.memnet import MemNetwork, MessageTrace
from pyceph.sim.rand import SimRand

LOOPS = ["sim", "asyncio"]


def run_on(kind: str, coro_fn):
    if kind == "sim":
        return simloop.run(coro_fn())
    return asyncio.run(asyncio.wait_for(coro_fn(), 30))


class Recorder(asyncio.Protocol):
    """A plain Protocol recording every callback."""

    def __init__(self, echo: bool = False) -> None:
        self.echo = echo
        self.transport = None
        self.data = bytearray()
        self.events: list[str] = []
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()
        self.paused = 0
        self.resumed = 0

    def connection_made(self, transport):
        self.transport = transport
        self.events.append("made")

    def data_received(self, data):
        self.events.append("data")
        self.data += data
        if self.echo:
            self.transport.write(data)

    def eof_received(self):
        self.events.append("eof")
        return None

    def pause_writing(self):
        self.paused += 1

    def resume_writing(self):
        self.resumed += 1

    def connection_lost(self, exc):
        self.events.append(f"lost:{type(exc).__name__ if exc else None}")
        if not self.lost.done():
            self.lost.set_result(exc)


class SmallBuffers(asyncio.BufferedProtocol):
    """A BufferedProtocol offering at most `size` bytes per get_buffer call."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.buf = bytearray(size)
        self.got = bytearray()
        self.calls = 0
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport

    def get_buffer(self, sizehint):
        self.calls += 1
        return memoryview(self.buf)

    def buffer_updated(self, nbytes):
        self.got += self.buf[:nbytes]

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(exc)


async def _until(pred, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.001)


@pytest.mark.parametrize("kind", LOOPS)
def test_echo_and_addresses(kind):
    async def main():
        net = MemNetwork()
        a = net.host("a", "10.0.0.1")
        b = net.host("b", "10.0.0.2")
        servers: list[Recorder] = []

        def factory():
            p = Recorder(echo=True)
            servers.append(p)
            return p

        lst = await b.listen("10.0.0.2", 0, factory)
        host, port = lst.addr
        assert host == "10.0.0.2" and port > 0
        t, p = await a.connect(host, port, Recorder)
        assert t.get_extra_info("peername") == ("10.0.0.2", port)
        local = t.get_extra_info("sockname")
        assert local[0] == "10.0.0.1"
        p.transport.write(b"hello ")
        p.transport.writelines([b"wor", memoryview(b"ld")])
        assert p.data == b""  # never delivered synchronously
        await _until(lambda: bytes(p.data) == b"hello world")
        assert servers[0].transport.get_extra_info("peername") == local
        t.close()
        assert t.is_closing()
        await p.lost
        await servers[0].lost
        assert servers[0].events[-2:] == ["eof", "lost:None"]
        assert net.connection_count() == 0
        lst.close()

    run_on(kind, main)


@pytest.mark.parametrize("kind", LOOPS)
def test_large_transfer_split_across_get_buffer_calls(kind):
    payload = os.urandom(1 << 20) + b"end"

    async def main():
        net = MemNetwork()
        srv: list[SmallBuffers] = []
        lst = await net.listen("127.0.0.1", 0, lambda: srv.append(SmallBuffers(4000)) or srv[-1])
        t, _p = await net.connect(*lst.addr, Recorder)
        t.write(payload)
        t.close()
        await _until(lambda: bool(srv))
        await srv[0].lost
        assert bytes(srv[0].got) == payload
        assert srv[0].calls >= len(payload) // 4000

    run_on(kind, main)


@pytest.mark.parametrize("kind", LOOPS)
def test_flow_control_pauses_and_resumes_the_writer(kind):
    async def main():
        net = MemNetwork(high_water=64 << 10)
        srv: list[Recorder] = []
        lst = await net.listen("127.0.0.1", 0, lambda: srv.append(Recorder()) or srv[-1])
        t, p = await net.connect(*lst.addr, Recorder)
        await _until(lambda: bool(srv))
        srv[0].transport.pause_reading()
        assert t.get_write_buffer_limits() == (16 << 10, 64 << 10)
        for _ in range(10):
            t.write(b"x" * (16 << 10))
        assert p.paused == 1 and p.resumed == 0
        assert t.get_write_buffer_size() == 160 << 10
        await asyncio.sleep(0.01)
        assert srv[0].data == b"" and p.resumed == 0  # the reader is paused: nothing moves
        srv[0].transport.resume_reading()
        await _until(lambda: len(srv[0].data) == 160 << 10)
        assert p.paused == 1 and p.resumed == 1
        assert t.get_write_buffer_size() == 0
        t.close()
        await srv[0].lost

    run_on(kind, main)


@pytest.mark.parametrize("kind", LOOPS)
def test_close_delivers_pending_data_abort_discards_it(kind):
    async def main():
        model = FaultPlan(SimRand(1), LinkSpec(latency=0.01, jitter=0.0))
        net = MemNetwork(model)
        srv: list[Recorder] = []
        lst = await net.listen("127.0.0.1", 0, lambda: srv.append(Recorder()) or srv[-1])
        # close(): everything written first still arrives, then EOF, then both ends lost.
        t, p = await net.connect(*lst.addr, Recorder)
        t.write(b"a" * 1000)
        t.close()
        t.write(b"after close")  # ignored, as asyncio does
        assert (await p.lost) is None
        assert (await srv[0].lost) is None
        assert bytes(srv[0].data) == b"a" * 1000
        assert srv[0].events == ["made", "data", "eof", "lost:None"]
        # abort(): bytes still in flight are lost and the peer sees a reset.
        t2, p2 = await net.connect(*lst.addr, Recorder)
        await _until(lambda: len(srv) == 2)
        t2.write(b"b" * 1000)
        t2.abort()
        assert (await p2.lost) is None
        exc = await srv[1].lost
        assert isinstance(exc, ConnectionResetError)
        assert srv[1].data == b""
        # connection_lost exactly once on each side
        assert p2.events.count("lost:None") == 1
        assert net.connection_count() == 0

    run_on(kind, main)


@pytest.mark.parametrize("kind", LOOPS)
def test_refused_in_use_and_closed_listener(kind):
    async def main():
        net = MemNetwork()
        a = net.host("a", "10.0.0.1")
        with pytest.raises(ConnectionRefusedError):
            await a.connect("127.0.0.1", 7000, Recorder)
        with pytest.raises(OSError) as e:
            await a.connect("10.9.9.9", 7000, Recorder)
        assert e.value.errno == errno.EHOSTUNREACH
        lst = await a.listen("0.0.0.0", 7000, Recorder)
        assert lst.addr == ("10.0.0.1", 7000)
        with pytest.raises(OSError) as e:
            await a.listen("10.0.0.1", 7000, Recorder)
        assert e.value.errno == errno.EADDRINUSE
        with pytest.raises(OSError) as e:
            await a.listen("10.0.0.2", 7001, Recorder)
        assert e.value.errno == errno.EADDRNOTAVAIL
        t, p = await net.host("b", "10.0.0.2").connect("10.0.0.1", 7000, Recorder)
        lst.close()
        with pytest.raises(ConnectionRefusedError):
            await a.connect("10.0.0.1", 7000, Recorder)
        t.write(b"still works")  # existing connections survive the listener
        t.close()
        await p.lost

    run_on(kind, main)


# -- the messenger over memnet ----------------------------------------------------------
SECRET = bytes(range(16))


class KeyServer:
    def __init__(self, keys):
        self.keys = keys

    def secret_for(self, entity):
        return self.keys.get(entity)

    def open_ticket(self, ticket):
        return cephx.open_ticket(SECRET, ticket)

    def extras_for(self, peer: PeerInfo, key: bytes):
        return {"hello": peer.entity}


def _runtime(net: MemNetwork, host: str, ip: str, seed: int) -> Runtime:
    loop = asyncio.get_running_loop()
    rand = SimRand(seed)
    return Runtime(clock=SimClock(loop), rand=rand, net=net.host(host, ip), disk=SimDisk(rand))


async def _messenger_pair(net: MemNetwork, client_secret: bytes):
    got = []

    def on_server(conn, msg):
        got.append(msg)
        conn.reply(msg, {"r": 0, "echo": msg.head["n"]}, msg.data)

    server = Messenger(
        _runtime(net, "mon.a", "10.0.0.1", 1), "mon.a", on_server,
        auth_server=KeyServer({"client.admin": SECRET}),
    )  # fmt: skip
    addr = await server.bind("10.0.0.1", 6789)
    client = Messenger(
        _runtime(net, "client.admin", "10.0.0.9", 2), "client.admin", lambda c, m: None,
        credentials=lambda peer: Credentials("client.admin", secret=client_secret),
    )  # fmt: skip
    return server, client, addr, got


@pytest.mark.parametrize("kind", LOOPS)
def test_messenger_call_reply_over_memnet(kind):
    async def main():
        net = MemNetwork()
        trace = MessageTrace(net)
        server, client, addr, got = await _messenger_pair(net, SECRET)
        conn = await client.connect(addr, "mon")
        assert conn.peer.entity == "mon.a"
        assert conn.peer.extras == {"hello": "client.admin"}
        big = os.urandom(3 << 20)
        reply = await conn.call("ping", {"n": 5}, big, timeout=5)
        assert reply.head["echo"] == 5 and bytes(reply.data) == big
        assert got[0].head["n"] == 5
        types = [r[1] for r in trace.records]
        assert types[:5] == ["<connect>", "auth_hello", "auth_challenge", "auth_proof", "auth_done"]
        assert types[-2:] == ["ping", "reply"]
        await client.shutdown()
        await server.shutdown()

    run_on(kind, main)


def test_messenger_wrong_key_is_refused():
    async def main():
        net = MemNetwork()
        server, client, addr, got = await _messenger_pair(net, bytes(16))
        with pytest.raises(CephError) as e:
            await client.connect(addr, "mon")
        assert e.value.errno == 13 and got == []
        await client.shutdown()
        await server.shutdown()

    simloop.run(main())


# -- faults -------------------------------------------------------------------------------
def test_partition_holds_traffic_until_heal_and_connect_times_out():
    async def main():
        loop = asyncio.get_running_loop()
        plan = FaultPlan(SimRand(3), LinkSpec(latency=0.001, jitter=0.001), connect_timeout=30.0,
                         stall_timeout=0)  # fmt: skip
        net = MemNetwork()
        plan.attach(net)
        a, b = net.host("a", "10.0.0.1"), net.host("b", "10.0.0.2")
        srv: list[Recorder] = []
        await b.listen("10.0.0.2", 80, lambda: srv.append(Recorder()) or srv[-1])
        t, p = await a.connect("10.0.0.2", 80, Recorder)
        plan.partition("a", "b")
        t.write(b"held")
        await asyncio.sleep(100)
        assert srv[0].data == b""
        t0 = loop.time()
        with pytest.raises(TimeoutError) as e:
            await a.connect("10.0.0.2", 80, Recorder)
        assert e.value.errno == errno.ETIMEDOUT and loop.time() - t0 == pytest.approx(30.0)
        plan.heal()
        await asyncio.sleep(0.01)
        assert srv[0].data == b"held"
        t.close()
        await p.lost

    wall = time.monotonic()
    simloop.run(main())
    assert time.monotonic() - wall < 1.0  # 130 virtual seconds


def test_stalled_partition_resets_the_connection():
    async def main():
        plan = FaultPlan(SimRand(4), stall_timeout=60.0)
        net = MemNetwork()
        plan.attach(net)
        a, b = net.host("a", "10.0.0.1"), net.host("b", "10.0.0.2")
        srv: list[Recorder] = []
        await b.listen("10.0.0.2", 80, lambda: srv.append(Recorder()) or srv[-1])
        t, p = await a.connect("10.0.0.2", 80, Recorder)
        plan.isolate("b")
        t.write(b"x")
        assert isinstance(await p.lost, ConnectionResetError)
        assert isinstance(await srv[0].lost, ConnectionResetError)
        assert asyncio.get_running_loop().time() == pytest.approx(60.0, abs=0.01)

    simloop.run(main())


def test_corruption_is_caught_by_the_frame_crc_and_drops_reset():
    async def main():
        plan = FaultPlan(SimRand(5))
        net = MemNetwork()
        plan.attach(net)
        server, client, addr, got = await _messenger_pair(net, SECRET)
        conn = await client.connect(addr, "mon")
        plan.set_link("client.admin", "mon.a", LinkSpec(corrupt=1.0))
        with pytest.raises(CephError) as e:
            await conn.call("ping", {"n": 1}, b"z" * 10000, timeout=5)
        assert e.value.errno in (104, 108)  # the server dropped the corrupt stream
        assert plan.stats.corruptions == 1 and got == []
        plan.set_link("client.admin", "mon.a", LinkSpec(drop=1.0))
        with pytest.raises(CephError) as e:
            await client.connect(addr, "mon")  # the handshake's first write resets
        assert e.value.errno in (104, 108, 110)
        assert plan.stats.resets >= 1
        await client.shutdown()
        await server.shutdown()

    simloop.run(main())


def test_killed_host_resets_its_connections():
    async def main():
        net = MemNetwork()
        a, b = net.host("a", "10.0.0.1"), net.host("b", "10.0.0.2")
        srv: list[Recorder] = []
        await b.listen("10.0.0.2", 80, lambda: srv.append(Recorder()) or srv[-1])
        t, p = await a.connect("10.0.0.2", 80, Recorder)
        await asyncio.sleep(0)
        b.kill()
        assert isinstance(await p.lost, ConnectionResetError)
        with pytest.raises(ConnectionRefusedError):
            await a.connect("10.0.0.2", 80, Recorder)
        with pytest.raises(OSError) as e:
            await b.connect("10.0.0.1", 80, Recorder)
        assert e.value.errno == errno.ENETDOWN
        b.revive()
        await b.listen("10.0.0.2", 80, Recorder)
        t2, p2 = await a.connect("10.0.0.2", 80, Recorder)
        t2.close()
        await p2.lost

    simloop.run(main())


# -- whole frames between in-process protocols (the embedded cluster's network) -----------
class FrameRecorder(asyncio.Protocol):
    """Records bytes and whole frames in arrival order."""

    def __init__(self) -> None:
        self.transport = None
        self.events: list[tuple] = []
        self.paused = self.resumed = 0
        self.lost: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.events.append(("data", bytes(data)))

    def frame_received(self, ftype, seq, head, data):
        self.events.append(("frame", ftype, seq, head, data))

    def pause_writing(self):
        self.paused += 1

    def resume_writing(self):
        self.resumed += 1

    def connection_lost(self, exc):
        if not self.lost.done():
            self.lost.set_result(exc)


@pytest.mark.parametrize("kind", LOOPS)
def test_messengers_hand_whole_frames_over_unless_watched(kind):
    async def main():
        net = MemNetwork(local_frames=True)
        server, client, addr, got = await _messenger_pair(net, SECRET)
        conn = await client.connect(addr, "mon")
        big = os.urandom(3 << 20)
        reply = await conn.call("ping", {"n": 5}, big, timeout=5)
        assert reply.head["echo"] == 5 and bytes(reply.data) == big
        buf = bytearray(b"a" * 4096)
        pending = conn.call("ping", {"n": 6}, memoryview(buf), timeout=5)
        task = asyncio.ensure_future(pending)
        await asyncio.sleep(0)
        buf[:] = b"b" * 4096  # the sender reuses its buffer: the frame already has its bytes
        assert bytes((await task).data) == b"a" * 4096
        whole = net.frames_whole
        assert whole >= 4  # two requests and two replies at least
        trace = MessageTrace(net)  # something watches the bytes: frames go as bytes again
        reply = await conn.call("ping", {"n": 7}, b"x", timeout=5)
        assert reply.head["echo"] == 7 and net.frames_whole == whole
        assert [r[1] for r in trace.records] == ["ping", "reply"]
        await client.shutdown()
        await server.shutdown()

    run_on(kind, main)


@pytest.mark.parametrize("kind", LOOPS)
def test_whole_frames_keep_stream_order_and_flow_control(kind):
    async def main():
        net = MemNetwork(high_water=64 << 10, local_frames=True)
        srv: list[FrameRecorder] = []
        lst = await net.listen("127.0.0.1", 0, lambda: srv.append(FrameRecorder()) or srv[-1])
        t, p = await net.connect(*lst.addr, FrameRecorder)
        await _until(lambda: bool(srv))
        assert t.frames_local()
        srv[0].transport.pause_reading()
        t.write(b"first")
        for i in range(5):
            t.write_frame(7, i, b"h", b"d" * (16 << 10))
        t.write(b"last")
        assert p.paused == 1  # 5 x 16 KiB frames > 64 KiB in flight
        await asyncio.sleep(0.01)
        assert srv[0].events == []  # the reader is paused: nothing moves
        srv[0].transport.resume_reading()
        await _until(lambda: len(srv[0].events) == 7)
        ev = srv[0].events
        assert ev[0] == ("data", b"first") and ev[-1] == ("data", b"last")
        assert [e[2] for e in ev[1:6]] == [0, 1, 2, 3, 4]
        assert p.resumed == 1 and t.get_write_buffer_size() == 0
        t.close()
        await srv[0].lost

    run_on(kind, main)


def test_whole_frames_in_flight_are_lost_when_the_host_dies():
    async def main():
        net = MemNetwork(local_frames=True)
        a, b = net.host("a", "10.0.0.1"), net.host("b", "10.0.0.2")
        srv: list[FrameRecorder] = []
        await b.listen("10.0.0.2", 80, lambda: srv.append(FrameRecorder()) or srv[-1])
        t, p = await a.connect("10.0.0.2", 80, FrameRecorder)
        await _until(lambda: bool(srv))
        srv[0].transport.pause_reading()
        t.write_frame(7, 1, b"h", b"lost")
        b.kill()
        assert isinstance(await p.lost, ConnectionResetError)
        await srv[0].lost
        assert srv[0].events == [] and net.frames_whole == 0

    simloop.run(main())


def test_no_whole_frames_on_a_network_with_faults():
    async def main():
        net = MemNetwork(FaultPlan(SimRand(1)), local_frames=True)
        srv: list[FrameRecorder] = []
        lst = await net.listen("127.0.0.1", 0, lambda: srv.append(FrameRecorder()) or srv[-1])
        t, _ = await net.connect(*lst.addr, FrameRecorder)
        await _until(lambda: bool(srv))
        assert not t.frames_local()  # the simulator fuzzes bytes: frames stay bytes
        t.close()

    simloop.run(main())
