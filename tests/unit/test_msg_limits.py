"""The messenger's per-connection and per-daemon limits (pyceph.msg.limits) over real
loopback sockets: peers that never authenticate are dropped after the ready timeout, an
authenticated peer stalling mid-frame after the stall timeout, connections over the
unauthenticated cap are refused at once, frames over the pre-auth bound are refused from
their preamble; none of it disturbs an authenticated connection. And the client
throttle's counting, pausing and resuming."""

from __future__ import annotations

import asyncio
import os

from pyceph.common.runtime import real_runtime
from pyceph.msg.frame import PREAMBLE, PREAMBLE_CRC, crc32c
from pyceph.msg.handshake import Credentials, PeerInfo
from pyceph.msg.limits import ClientThrottle, MsgrLimits
from pyceph.msg.messenger import Messenger

SECRET = os.urandom(16)
#: Short limits so every timeout acts within a fraction of a second.
LIMITS = MsgrLimits(
    max_preauth_frame=4096, ready_timeout=0.3, stall_timeout=0.3, max_unauthenticated=4
)
#: Bound on any wait here (far above the limits above).
WAIT = 5.0


class KeyServer:
    def secret_for(self, entity: str) -> bytes | None:
        return SECRET if entity == "client.admin" else None

    def open_ticket(self, ticket: bytes) -> dict:
        raise AssertionError("no tickets here")

    def extras_for(self, peer: PeerInfo, key: bytes) -> dict:
        return {}


def _preamble(hlen: int, dlen: int) -> bytes:
    pre = PREAMBLE.pack(0xCE9F, 0, 1, 0, 1, hlen, dlen)
    return pre + PREAMBLE_CRC.pack(crc32c(pre))


async def _closed_by_peer(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), WAIT) == b""
    except ConnectionResetError:
        return True


async def _server_and_client() -> tuple[Messenger, Messenger, tuple[str, int]]:
    rt = real_runtime()

    def echo(conn, msg):  # type: ignore[no-untyped-def]
        conn.reply(msg, {"r": 0})

    server = Messenger(rt, "osd.0", echo, auth_server=KeyServer(), limits=LIMITS)
    addr = await server.bind("127.0.0.1", 0)
    client = Messenger(
        rt,
        "client.admin",
        lambda c, m: None,
        credentials=lambda p: Credentials("client.admin", secret=SECRET),
    )
    return server, client, addr


def test_unauthenticated_stalled_and_oversized_peers_are_dropped() -> None:
    async def main() -> None:
        server, client, addr = await _server_and_client()
        good = await client.connect(addr, "osd")
        t0 = asyncio.get_running_loop().time()
        idle_r, idle_w = await asyncio.open_connection(*addr)  # says nothing
        half_r, half_w = await asyncio.open_connection(*addr)
        half_w.write(_preamble(10, 10)[:20])  # stalls inside the preamble
        big_r, big_w = await asyncio.open_connection(*addr)
        big_w.write(_preamble(16, 1 << 20))  # more than a handshake frame, pre-auth
        assert await _closed_by_peer(big_r)
        assert asyncio.get_running_loop().time() - t0 < LIMITS.ready_timeout
        assert await _closed_by_peer(idle_r)
        assert await _closed_by_peer(half_r)
        assert asyncio.get_running_loop().time() - t0 >= LIMITS.ready_timeout
        # the authenticated connection was never touched
        assert (await good.call("ping", {}, timeout=WAIT)).head["r"] == 0
        assert server.dropped >= 2
        for w in (idle_w, half_w, big_w):
            w.close()
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())


def test_an_authenticated_peer_stalling_mid_frame_is_dropped() -> None:
    async def main() -> None:
        server, client, addr = await _server_and_client()
        conn = await client.connect(addr, "osd")
        other = Messenger(
            real_runtime(),
            "client.admin",
            lambda c, m: None,
            credentials=lambda p: Credentials("client.admin", secret=SECRET),
        )
        bystander = await other.connect(addr, "osd")
        # half a frame on the authenticated connection, then nothing
        conn._transport.write(_preamble(8, 100))  # type: ignore[union-attr]
        await asyncio.wait_for(conn.ready, WAIT)
        for _ in range(int(WAIT / 0.05)):
            if conn.closed:
                break
            await asyncio.sleep(0.05)
        assert conn.closed
        assert (await bystander.call("ping", {}, timeout=WAIT)).head["r"] == 0
        await other.shutdown()
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())


def test_connections_over_the_unauthenticated_cap_are_refused_at_once() -> None:
    async def main() -> None:
        server, client, addr = await _server_and_client()
        held = [await asyncio.open_connection(*addr) for _ in range(LIMITS.max_unauthenticated)]
        extra_r, extra_w = await asyncio.open_connection(*addr)
        assert await _closed_by_peer(extra_r)
        assert server.refused >= 1
        assert server.unauthenticated() == LIMITS.max_unauthenticated
        # once the idle ones are dropped, a real client gets in again
        for r, _w in held:
            assert await _closed_by_peer(r)
        conn = await client.connect(addr, "osd")
        assert (await conn.call("ping", {}, timeout=WAIT)).head["r"] == 0
        for _r, w in [*held, (extra_r, extra_w)]:
            w.close()
        await client.shutdown()
        await server.shutdown()

    asyncio.run(main())


class _Reader:
    def __init__(self) -> None:
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def test_client_throttle_pauses_readers_beyond_the_caps_and_resumes_them_in_order() -> None:
    t = ClientThrottle(max_bytes=100, max_messages=3)
    a, b = _Reader(), _Reader()
    with t.held(60, a):
        assert not a.paused
        with t.held(60, b):  # 120 bytes in flight: b stops reading
            assert b.paused and t.paused == 1
        assert not b.paused and t.bytes == 60
    assert (t.bytes, t.messages, t.paused) == (0, 0, 0)
    readers = [_Reader() for _ in range(4)]
    for r in readers:
        t.take(1, r)
    assert [r for r in readers if t.over()] and t.paused == 2  # the 3rd and 4th
    assert t.put(1) == []  # still at the message cap
    t.forget(readers[3])  # its connection closed: never resumed
    assert t.put(1) == [readers[2]] and t.paused == 0


def test_limits_come_from_the_options() -> None:
    class Cfg(dict):
        def get(self, name):  # type: ignore[override]
            return {"ms_connection_ready_timeout": 7, "pyceph_ms_max_unauthenticated": 9}.get(
                name, MsgrLimits.__dataclass_fields__[_FIELD[name]].default
            )

    lim = MsgrLimits.from_config(Cfg())
    assert lim.ready_timeout == 7.0 and lim.max_unauthenticated == 9
    assert lim.max_data_len == 256 << 20 and lim.stall_timeout == 900.0
    assert ClientThrottle.from_config(None).max_bytes == 500 << 20


_FIELD = {
    "pyceph_ms_max_head_len": "max_head_len",
    "pyceph_max_message_size": "max_data_len",
    "pyceph_ms_max_preauth_frame": "max_preauth_frame",
    "ms_connection_ready_timeout": "ready_timeout",
    "ms_connection_idle_timeout": "stall_timeout",
    "pyceph_ms_max_unauthenticated": "max_unauthenticated",
}
