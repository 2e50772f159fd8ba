"""Secure mode's frame cipher (`pyceph.msg.secure`) and secure connections on loopback.

Pure: tampered, replayed, reordered and dropped frames fail to open; nonces are never
reused within a direction and the two directions use different keys; a direction is
closed before its counter could wrap. On sockets: a connection negotiated `secure`
carries no plaintext, and a flipped byte on the wire drops it.
"""

from __future__ import annotations

import asyncio
import errno
import os

import pytest

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.runtime import real_runtime
from pyceph.msg import secure
from pyceph.msg.handshake import Credentials, PeerInfo
from pyceph.msg.messenger import Messenger
from pyceph.msg.secure import SecureChannel, SecureError, parse_modes

KEY = os.urandom(32)


def _pair() -> tuple[SecureChannel, SecureChannel]:
    return SecureChannel.for_connection(KEY, True), SecureChannel.for_connection(KEY, False)


def test_roundtrip_both_directions():
    c, s = _pair()
    for i in range(5):
        head, data = s.open(7, i, c.seal(7, i, b"head%d" % i, b"data" * i))
        assert head == b"head%d" % i and bytes(data) == b"data" * i
        head, data = c.open(8, i, s.seal(8, i, b"back", b""))
        assert head == b"back" and bytes(data) == b""


def test_ciphertext_hides_the_payload():
    c, _ = _pair()
    blob = c.seal(7, 1, b"secret-head", b"secret-data" * 10)
    assert b"secret" not in blob


@pytest.mark.parametrize("where", [0, 5, -1])
def test_tampered_frame_fails(where: int):
    c, s = _pair()
    blob = bytearray(c.seal(7, 1, b"h", b"payload"))
    blob[where] ^= 0x01
    with pytest.raises(SecureError) as e:
        s.open(7, 1, bytes(blob))
    assert e.value.errno == errno.EBADMSG


def test_altered_type_or_sequence_fails():
    c, s = _pair()
    blob = c.seal(7, 1, b"h", b"d")
    with pytest.raises(SecureError):
        s.open(8, 1, blob)
    c, s = _pair()
    blob = c.seal(7, 1, b"h", b"d")
    with pytest.raises(SecureError):
        s.open(7, 2, blob)


def test_replayed_frame_fails():
    c, s = _pair()
    blob = c.seal(7, 1, b"h", b"d")
    s.open(7, 1, blob)
    with pytest.raises(SecureError):
        s.open(7, 1, blob)


def test_reordered_or_dropped_frames_fail():
    c, s = _pair()
    first, second = c.seal(7, 1, b"a"), c.seal(7, 2, b"b")
    with pytest.raises(SecureError):
        s.open(7, 2, second)  # the receiver expects frame 0 of this direction
    c, s = _pair()
    c.seal(7, 1, b"lost")
    with pytest.raises(SecureError):
        s.open(7, 2, c.seal(7, 2, b"after a gap"))
    del first


def test_frames_from_the_other_direction_fail():
    c, s = _pair()
    blob = c.seal(7, 1, b"h")
    with pytest.raises(SecureError):
        c.open(7, 1, blob)  # reflected back at its sender


def test_nonces_are_unique_and_per_direction():
    c, s = _pair()
    seen = set()
    for _ in range(1000):
        nonce = c._tx.next_nonce()
        assert nonce not in seen
        seen.add(nonce)
    assert s._tx.next_nonce() not in seen or s._tx.salt != c._tx.salt


def test_other_connection_keys_cannot_open():
    c = SecureChannel.for_connection(KEY, True)
    s = SecureChannel.for_connection(os.urandom(32), False)
    with pytest.raises(SecureError):
        s.open(7, 1, c.seal(7, 1, b"h"))


def test_a_direction_stops_before_its_counter_wraps(monkeypatch):
    monkeypatch.setattr(secure, "MAX_FRAMES_PER_KEY", 3)
    c, _ = _pair()
    for i in range(3):
        c.seal(7, i, b"h")
    with pytest.raises(SecureError) as e:
        c.seal(7, 4, b"h")
    assert e.value.errno == errno.ECONNRESET


def test_parse_modes():
    assert parse_modes("crc secure") == ("crc", "secure")
    assert parse_modes("secure") == ("secure",)
    with pytest.raises(CephError) as e:
        parse_modes("crc plain")
    assert e.value.errno == errno.EINVAL


# -- on sockets ---------------------------------------------------------------------------
SECRET = os.urandom(16)


class ModeServer:
    def __init__(self, modes: tuple[str, ...]) -> None:
        self.modes = modes

    def secret_for(self, entity):
        return SECRET

    def open_ticket(self, ticket):
        raise CephError(errno.EACCES, "no tickets here")

    def extras_for(self, peer: PeerInfo, key: bytes):
        return {}

    def modes_for(self, entity):
        return self.modes


async def _connect(server_modes, client_modes, on_server=None):
    rt = real_runtime()
    srv = Messenger(
        rt,
        "mon.a",
        on_server or (lambda conn, m: conn.reply(m, {"r": 0}, m.data)),
        auth_server=ModeServer(server_modes),
    )
    addr = await srv.bind("127.0.0.1", 0)
    cli = Messenger(
        rt,
        "client.x",
        lambda c, m: None,
        credentials=lambda p: Credentials("client.x", secret=SECRET, modes=client_modes),
    )
    return srv, cli, addr


@pytest.mark.parametrize(
    "server_modes,client_modes,want",
    [
        (("crc", "secure"), ("secure", "crc"), "secure"),
        (("crc", "secure"), ("crc", "secure"), "crc"),
        (("secure",), ("crc", "secure"), "secure"),
        (("crc",), ("crc", "secure"), "crc"),
        ((), (), "crc"),
    ],
)
def test_negotiation_and_io(server_modes, client_modes, want):
    async def main():
        srv, cli, addr = await _connect(server_modes, client_modes)
        conn = await cli.connect(addr, "mon")
        assert conn.mode == want and conn.peer.mode == want
        r = await conn.call("ping", {}, b"z" * 200_000, timeout=5)
        assert bytes(r.data) == b"z" * 200_000
        await cli.shutdown()
        await srv.shutdown()

    asyncio.run(main())


def test_no_common_mode_is_refused():
    async def main():
        srv, cli, addr = await _connect(("secure",), ("crc",))
        with pytest.raises(CephError) as e:
            await cli.connect(addr, "mon")
        assert e.value.errno == errno.EACCES
        await cli.shutdown()
        await srv.shutdown()

    asyncio.run(main())


def test_secure_wire_carries_no_plaintext_and_a_flipped_byte_drops_it():
    async def main():
        wire = bytearray()
        flip = {"on": False}
        got = []
        srv, cli, addr = await _connect(("secure",), ("secure",), lambda c, m: got.append(m))

        async def pipe(r, w, rec):
            while data := await r.read(65536):
                if rec:
                    wire.extend(data)
                    if flip["on"]:
                        data = bytearray(data)
                        data[-10] ^= 1
                        data = bytes(data)
                w.write(data)
                await w.drain()
            w.close()

        async def handle(cr, cw):
            sr, sw = await asyncio.open_connection(*addr)
            await asyncio.gather(pipe(cr, sw, True), pipe(sr, cw, False), return_exceptions=True)

        proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = proxy.sockets[0].getsockname()[1]
        conn = await cli.connect(("127.0.0.1", port), "mon")
        assert conn.mode == "secure"
        conn.send("ping", {"status": True}, b"TOPSECRET" * 100)
        await asyncio.wait_for(_until(lambda: got), 5)
        assert bytes(got[0].data) == b"TOPSECRET" * 100
        assert b"TOPSECRET" not in wire
        flip["on"] = True
        conn.send("ping", {"status": True}, b"x" * 100)
        await asyncio.wait_for(_until(lambda: conn.closed), 5)
        assert len(got) == 1  # the tampered frame was never dispatched
        proxy.close()
        await cli.shutdown()
        await srv.shutdown()

    asyncio.run(main())


async def _until(pred) -> None:
    while not pred():
        await asyncio.sleep(0.01)


def test_connection_key_is_per_handshake():
    a = cephx.connection_key(SECRET, b"c" * 16, b"s" * 16)
    b = cephx.connection_key(SECRET, b"c" * 16, b"t" * 16)
    assert a != b and len(a) == 32
