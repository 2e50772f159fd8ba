"""The NBD server with real clients: Debian's qemu-img, qemu-io and nbdinfo.

Exports are in-memory devices (`pyceph.nbd.memdevice`) served by `NbdServer` on an
event loop in a thread of the test process; the clients are separate processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator

import pytest

from pyceph.nbd import constants as c
from pyceph.nbd.memdevice import CHUNK, MemDevice
from pyceph.nbd.server import NbdServer

MiB = 1 << 20
SIZE = 16 * MiB
CLIENT_TIMEOUT = 60


class ServerThread:
    """An NbdServer on its own event loop thread."""

    def __init__(self, devices: dict[str, MemDevice]) -> None:
        self.devices = devices
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(self._make())

    async def _make(self) -> NbdServer:
        return NbdServer(self.devices)

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(CLIENT_TIMEOUT)

    def tcp(self) -> int:
        return self.call(self.server.listen_tcp("127.0.0.1", 0))[1]

    def unix(self, path: str) -> str:
        return self.call(self.server.listen_unix(path))

    def close(self) -> None:
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(CLIENT_TIMEOUT)
        self.loop.close()


@pytest.fixture
def served() -> Iterator[tuple[ServerThread, int]]:
    devices = {"disk": MemDevice(SIZE), "snap": MemDevice(SIZE, read_only=True)}
    srv = ServerThread(devices)
    try:
        yield srv, srv.tcp()
    finally:
        srv.close()


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)


def url(port: int, name: str) -> str:
    return f"nbd://127.0.0.1:{port}/{name}"


def test_nbdinfo_shows_size_and_flags(served):
    _, port = served
    r = run("nbdinfo", "--json", url(port, "disk"))
    assert r.returncode == 0, r.stderr
    (export,) = json.loads(r.stdout)["exports"]
    assert export["export-size"] == SIZE
    assert export["is_read_only"] is False
    assert export["can_flush"] and export["can_fua"] and export["can_trim"] and export["can_zero"]
    assert export["block_size_maximum"] == c.MAX_REQUEST_SIZE
    assert export["can_multi_conn"] is True
    r = run("nbdinfo", "--json", url(port, "snap"))
    assert json.loads(r.stdout)["exports"][0]["is_read_only"] is True


def test_nbdinfo_map_shows_data_and_holes(served):
    srv, port = served
    disk = srv.devices["disk"]
    disk.write_sync(CHUNK, b"x" * 100)  # allocates one chunk
    disk.write_sync(4 * CHUNK - 10, b"y" * 20)  # straddles two chunks
    r = run("nbdinfo", "--map", "--json", url(port, "disk"))
    assert r.returncode == 0, r.stderr
    extents = [(e["offset"], e["length"], e["type"]) for e in json.loads(r.stdout)]
    hole = c.STATE_HOLE | c.STATE_ZERO
    assert extents == [
        (0, CHUNK, hole),
        (CHUNK, CHUNK, 0),
        (2 * CHUNK, CHUNK, hole),
        (3 * CHUNK, 2 * CHUNK, 0),
        (5 * CHUNK, SIZE - 5 * CHUNK, hole),
    ]
    r = run("nbdinfo", "--can", "structured-reply", url(port, "disk"))
    assert r.returncode == 0


def test_nbdinfo_lists_exports(served):
    _, port = served
    r = run("nbdinfo", "--list", "--json", f"nbd://127.0.0.1:{port}")
    assert r.returncode == 0, r.stderr
    assert sorted(e["export-name"] for e in json.loads(r.stdout)["exports"]) == ["disk", "snap"]


def test_nbdinfo_unknown_export_fails(served):
    _, port = served
    r = run("nbdinfo", url(port, "nope"))
    assert r.returncode != 0
    assert "nope" in r.stderr


def test_qemu_img_convert_from_and_to_nbd_is_byte_exact(served, tmp_path):
    srv, port = served
    disk = srv.devices["disk"]
    content = os.urandom(SIZE // 2) + bytes(SIZE // 4) + os.urandom(SIZE // 4)
    disk.write_sync(0, content)
    out = tmp_path / "out.raw"
    r = run("qemu-img", "convert", "-f", "raw", "-O", "raw", url(port, "disk"), str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == content

    back = os.urandom(SIZE // 4) + bytes(SIZE // 2) + os.urandom(SIZE // 4)
    src = tmp_path / "in.raw"
    src.write_bytes(back)
    r = run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(src), url(port, "disk"))
    assert r.returncode == 0, r.stderr
    assert disk.read_sync(0, SIZE) == back
    assert disk.ops["flush"] >= 1  # the convert ends with a flush

    # and what qemu-img reads back compares equal to the source
    r = run("qemu-img", "compare", "-f", "raw", "-F", "raw", str(src), url(port, "disk"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_nbdcopy_over_several_connections(served, tmp_path):
    srv, port = served
    content = os.urandom(SIZE)
    src = tmp_path / "in.raw"
    src.write_bytes(content)
    before = srv.server.sessions_total
    r = run("nbdcopy", "--connections=4", "--flush", str(src), url(port, "disk"))
    assert r.returncode == 0, r.stderr
    assert srv.server.sessions_total - before >= 2  # it used several connections at once
    assert srv.devices["disk"].read_sync(0, SIZE) == content
    out = tmp_path / "out.raw"
    r = run("nbdcopy", "--connections=4", url(port, "disk"), str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == content


def test_qemu_io_patterns_at_many_offsets(served):
    srv, port = served
    offsets = [0, 512, 4096, 65536 - 512, MiB + 4096, 3 * MiB + 123 * 512, SIZE - 65536]
    script: list[str] = []
    for i, off in enumerate(offsets):
        pattern = 0xA0 + i
        script += ["-c", f"write -P {pattern:#x} {off} 64k"]
    for i, off in enumerate(offsets[::-1]):
        pattern = 0xA0 + len(offsets) - 1 - i
        # later writes overlap earlier ones: only the last one's first 512 bytes are sure
        script += ["-c", f"read -P {pattern:#x} {off} 512"]
    r = run("qemu-io", "-f", "raw", *script, url(port, "disk"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Pattern verification failed" not in r.stdout

    r = run(
        "qemu-io", "-f", "raw",
        "-c", "write -P 0xab 4k 64k",
        "-c", "read -P 0xab 4k 64k",
        "-c", "read -P 0 12m 4k",
        "-c", "write -P 0xcd 1m 1m",
        "-c", "read -P 0xcd 1m 1m",
        url(port, "disk"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Pattern verification failed" not in r.stdout
    disk = srv.devices["disk"]
    assert disk.read_sync(4096, 65536) == b"\xab" * 65536
    assert disk.read_sync(MiB, MiB) == b"\xcd" * MiB


def test_qemu_io_many_requests_in_flight(served):
    srv, port = served
    # aio_write / aio_read put many requests on the wire at once
    script: list[str] = []
    for i in range(32):
        script += ["-c", f"aio_write -P {i + 1} {i * 65536} 64k"]
    script += ["-c", "aio_flush"]
    for i in range(32):
        script += ["-c", f"aio_read -P {i + 1} {i * 65536} 64k"]
    script += ["-c", "aio_flush"]
    r = run("qemu-io", "-f", "raw", "--cache", "writeback", *script, url(port, "disk"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Pattern verification failed" not in r.stdout
    disk = srv.devices["disk"]
    for i in range(32):
        assert disk.read_sync(i * 65536, 65536) == bytes([i + 1]) * 65536


def test_qemu_img_bench_queue_depth_16(served):
    srv, port = served
    r = run("qemu-img", "bench", "-f", "raw", "-c", "2000", "-d", "16", "-s", "4k", "-w",
            url(port, "disk"))  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert srv.devices["disk"].ops["write"] >= 2000


def test_fua_trim_and_write_zeroes_reach_the_device(served):
    srv, port = served
    disk = srv.devices["disk"]
    disk.write_sync(0, b"\x55" * (256 << 10))
    r = run(
        "qemu-io", "-f", "raw", "--cache", "writeback",
        "-c", "write -f -P 0x11 0 4k",  # FUA
        "-c", "write -z 64k 64k",  # write zeroes, may not unmap: NO_HOLE
        "-c", "write -z -u 128k 64k",  # write zeroes, may unmap
        "-c", "discard 192k 64k",  # trim
        url(port, "disk"),
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert disk.ops["write_fua"] == 1
    assert disk.ops["write_zeroes_no_hole"] == 1
    assert disk.ops["write_zeroes"] == 1
    assert disk.ops["discard"] == 1
    assert disk.read_sync(0, 4096) == b"\x11" * 4096
    assert disk.read_sync(64 << 10, 128 << 10) == bytes(128 << 10)


def test_read_only_export_refuses_writes(served):
    srv, port = served
    r = run("qemu-io", "-f", "raw", "-c", "write -P 0xab 0 4k", url(port, "snap"))
    assert r.returncode != 0
    assert "wrote" not in r.stdout
    r = run("qemu-io", "-f", "raw", "-r", "-c", "read -P 0 0 64k", url(port, "snap"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert srv.devices["snap"].ops["write"] == 0


def test_unix_socket_export(tmp_path):
    srv = ServerThread({"disk": MemDevice(SIZE)})
    try:
        path = srv.unix(str(tmp_path / "nbd.sock"))
        target = f"nbd+unix:///disk?socket={path}"
        r = run("qemu-io", "-f", "raw", "-c", "write -P 0x42 8k 8k", "-c", "read -P 0x42 8k 8k",
                target)  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Pattern verification failed" not in r.stdout
        r = run("nbdinfo", "--json", target)
        assert json.loads(r.stdout)["exports"][0]["export-size"] == SIZE
        assert srv.devices["disk"].read_sync(8192, 8192) == b"\x42" * 8192
    finally:
        srv.close()
    assert not os.path.exists(tmp_path / "nbd.sock")


# --- a minimal client of our own, for what qemu never sends -----------------------------------


class RawClient:
    def __init__(self, port: int, name: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
        greeting = self.recv(18)
        assert struct.unpack(">QQH", greeting)[:2] == (c.NBDMAGIC, c.IHAVEOPT)
        self.sock.sendall(struct.pack(">I", c.FLAG_C_FIXED_NEWSTYLE | c.FLAG_C_NO_ZEROES))
        self.sock.sendall(
            struct.pack(">QII", c.IHAVEOPT, c.OPT_EXPORT_NAME, len(name)) + name.encode()
        )
        self.size, self.flags = struct.unpack(">QH", self.recv(10))

    def recv(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError(f"closed after {len(buf)} of {n} bytes")
            buf += chunk
        return buf

    def send(self, kind: int, offset: int, length: int, cookie: int, data: bytes = b"") -> None:
        self.sock.sendall(
            struct.pack(">IHHQQI", c.REQUEST_MAGIC, 0, kind, cookie, offset, length) + data
        )

    def reply(self, length: int = 0) -> tuple[int, int, bytes]:
        magic, error, cookie = struct.unpack(">IIQ", self.recv(16))
        assert magic == c.SIMPLE_REPLY_MAGIC
        return error, cookie, self.recv(length) if not error else b""


def test_read_only_export_answers_eperm_on_the_wire(served):
    srv, port = served
    client = RawClient(port, "snap")
    assert client.flags & c.FLAG_READ_ONLY
    client.send(c.CMD_WRITE, 0, 512, 1, b"x" * 512)
    assert client.reply() == (c.NBD_EPERM, 1, b"")
    client.send(c.CMD_TRIM, 0, 512, 2)
    assert client.reply() == (c.NBD_EPERM, 2, b"")
    client.send(c.CMD_READ, 0, 512, 3)
    assert client.reply(512) == (0, 3, bytes(512))
    assert srv.devices["snap"].read_sync(0, 512) == bytes(512)


def test_disconnect_answers_in_flight_requests_then_flushes(served):
    srv, port = served
    client = RawClient(port, "disk")
    n = 64
    for i in range(n):
        client.send(c.CMD_WRITE, i * 4096, 4096, i, bytes([i]) * 4096)
    client.send(c.CMD_DISC, 0, 0, 999)
    cookies = {client.reply()[1] for _ in range(n)}
    assert cookies == set(range(n))
    assert client.sock.recv(1) == b""  # then the server closes
    disk = srv.devices["disk"]
    assert disk.read_sync(5 * 4096, 4096) == bytes([5]) * 4096
    # the flush at disconnect has happened by the time the socket closed
    assert disk.ops["flush"] == 1


def test_garbage_closes_the_connection_and_the_server_lives_on(served):
    _, port = served
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
    sock.recv(18)
    sock.sendall(b"\xff" * 64)  # unknown client flags
    try:
        assert sock.recv(100) == b""
    except ConnectionResetError:
        pass  # closed with our bytes unread: a reset
    client = RawClient(port, "disk")
    client.sock.sendall(b"\0" * 28)  # bad request magic
    with pytest.raises((EOFError, ConnectionError)):
        client.recv(1)
    r = run("nbdinfo", url(port, "disk"))
    assert r.returncode == 0, r.stderr


def test_oversized_read_is_refused(served):
    _, port = served
    client = RawClient(port, "disk")
    client.send(c.CMD_READ, 0, c.MAX_REQUEST_SIZE + 512, 5)
    assert client.reply() == (c.NBD_EINVAL, 5, b"")
    client.send(c.CMD_READ, SIZE - 512, 1024, 6)
    assert client.reply() == (c.NBD_EINVAL, 6, b"")
