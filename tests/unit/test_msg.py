"""Frames, handshake and connections over real loopback sockets."""

from __future__ import annotations

import asyncio
import os

import pytest

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.runtime import real_runtime
from pyceph.msg.connection import Connection
from pyceph.msg.frame import FrameDecoder, FrameError, encode_frame
from pyceph.msg.handshake import ClientHandshake, Credentials, PeerInfo
from pyceph.msg.messenger import Messenger

SECRET = os.urandom(16)


def _raw(bufs) -> bytes:
    return b"".join(bytes(b) for b in bufs)


def test_frames_roundtrip_in_any_chunking():
    raw = _raw(encode_frame(7, 1, b"head", b"x" * 300_000)) + _raw(encode_frame(8, 2, b"h"))
    for step in (1, 7, 4096, len(raw)):
        d = FrameDecoder()
        frames = []
        for i in range(0, len(raw), step):
            frames += d.feed(raw[i : i + step])
        assert [(f.type, f.seq, f.head, bytes(f.data)) for f in frames] == [
            (7, 1, b"head", b"x" * 300_000),
            (8, 2, b"h", b""),
        ]


def test_corrupt_data_is_detected():
    raw = bytearray(_raw(encode_frame(7, 1, b"head", b"payload")))
    raw[-6] ^= 0xFF
    with pytest.raises(FrameError) as e:
        FrameDecoder().feed(bytes(raw))
    assert e.value.errno == 74


def test_oversized_frame_is_refused_before_allocation():
    raw = _raw(encode_frame(7, 1, b"head", b"y" * 2048))
    with pytest.raises(FrameError) as e:
        FrameDecoder(max_data_len=1024).feed(raw)
    assert e.value.errno == 90


class KeyServer:
    def __init__(self, keys):
        self.keys = keys

    def secret_for(self, entity):
        return self.keys.get(entity)

    def open_ticket(self, ticket):
        return cephx.open_ticket(SECRET, ticket)

    def extras_for(self, peer: PeerInfo, key: bytes):
        return {"hello": peer.entity}


async def _pair(client_secret):
    rt = real_runtime()
    got = []

    def on_server(conn, msg):
        got.append(msg)
        conn.reply(msg, {"r": 0, "echo": msg.head["n"]}, msg.data)

    server = Messenger(rt, "mon.a", on_server, auth_server=KeyServer({"client.admin": SECRET}))
    addr = await server.bind("127.0.0.1", 0)
    client = Messenger(
        rt,
        "client.admin",
        lambda c, m: None,
        credentials=lambda peer: Credentials("client.admin", secret=client_secret),
    )
    return server, client, addr, got


def test_authenticated_call_roundtrip():
    async def main():
        server, client, addr, got = await _pair(SECRET)
        conn = await client.connect(addr, "mon")
        assert conn.peer.entity == "mon.a"
        assert conn.peer.extras == {"hello": "client.admin"}
        reply = await conn.call("ping", {"n": 5}, b"data" * 1000, timeout=5)
        assert reply.head["echo"] == 5 and bytes(reply.data) == b"data" * 1000
        assert got[0].head["n"] == 5
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())


def test_wrong_key_is_refused_with_eacces():
    async def main():
        server, client, addr, got = await _pair(os.urandom(16))
        with pytest.raises(CephError) as e:
            await client.connect(addr, "mon")
        assert e.value.errno == 13
        assert got == []
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())


def test_ticket_mode_and_dropped_connection_fails_calls():
    async def main():
        rt = real_runtime()
        session = os.urandom(16)
        ticket = cephx.seal_ticket(
            1,
            SECRET,
            {
                "entity": "client.x",
                "session_key": session,
                "caps": {"osd": "allow *"},
                "global_id": 9,
            },
            os.urandom(12),
        )
        seen = []

        def on_server(conn, msg):
            seen.append(conn.peer)
            conn.close()  # drop without replying

        server = Messenger(rt, "osd.0", on_server, auth_server=KeyServer({}))
        addr = await server.bind("127.0.0.1", 0)
        client = Messenger(
            rt,
            "client.x",
            lambda c, m: None,
            credentials=lambda p: Credentials("client.x", ticket=ticket, session_key=session),
        )
        conn = await client.connect(addr, "osd")
        with pytest.raises(CephError) as e:
            await conn.call("ping", {"n": 1}, timeout=5)
        assert e.value.errno in (104, 108)
        assert seen[0].entity == "client.x" and seen[0].global_id == 9
        assert seen[0].caps == {"osd": "allow *"}
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())


class _CountingTransport(asyncio.Transport):
    """Records each `writelines` call (one per syscall on a real socket) and the close."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []
        self.events: list[str] = []
        self.closed = False

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1) if name in ("peername", "sockname") else default

    def writelines(self, bufs) -> None:
        self.calls.append(b"".join(bytes(b) for b in bufs))
        self.events.append("write")

    def close(self) -> None:
        self.closed = True
        self.events.append("close")

    def is_closing(self) -> bool:
        return self.closed


def test_frames_of_one_loop_iteration_go_in_one_write_and_close_writes_them_first():
    async def main():
        creds = Credentials("client.admin", secret=SECRET)
        t = _CountingTransport()
        conn = Connection(ClientHandshake(creds, b"n" * 16), lambda c, m: None)
        conn.connection_made(t)  # queues the hello
        assert t.calls == []  # nothing written inside the iteration
        await asyncio.sleep(0)
        assert len(t.calls) == 1
        d = FrameDecoder()
        assert [f.seq for f in d.feed(t.calls[0])] == [1]

        t2 = _CountingTransport()
        conn2 = Connection(ClientHandshake(creds, b"m" * 16), lambda c, m: None)
        conn2.connection_made(t2)
        conn2.close()  # the queued hello is written before the transport closes
        assert t2.events == ["write", "close"]
        await asyncio.sleep(0)
        assert t2.events == ["write", "close"]  # and not again

    asyncio.run(main())


def test_a_burst_of_calls_round_trips_in_order():
    async def main():
        server, client, addr, got = await _pair(SECRET)
        conn = await client.connect(addr, "mon")
        replies = await asyncio.gather(
            *(conn.call("ping", {"n": i}, b"%d" % i * 100, timeout=5) for i in range(50))
        )
        assert [r.head["echo"] for r in replies] == list(range(50))
        assert [bytes(r.data) for r in replies] == [b"%d" % i * 100 for i in range(50)]
        assert [m.head["n"] for m in got] == list(range(50))
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())
