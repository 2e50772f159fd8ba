"""The asyncio NBD server with an in-process client: concurrency, bounds, failures,
shutdown. Devices are `MemDevice` and small test devices that hold or fail requests."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct

import pytest

from pyceph.common.errors import CephError
from pyceph.nbd import constants as c
from pyceph.nbd.device import BlockDevice
from pyceph.nbd.memdevice import CHUNK, MemDevice
from pyceph.nbd.server import DeviceCatalog, NbdServer

SIZE = 4 << 20
TIMEOUT = 30


class Client:
    """Just enough of an NBD client: NBD_OPT_GO, requests, simple replies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.size = self.flags = -1

    @classmethod
    async def connect(cls, port: int, name: str) -> Client:
        return await cls._negotiate(*await asyncio.open_connection("127.0.0.1", port), name)

    @classmethod
    async def connect_unix(cls, path: str, name: str) -> Client:
        return await cls._negotiate(*await asyncio.open_unix_connection(path), name)

    @classmethod
    async def _negotiate(
        cls, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str
    ) -> Client:
        self = cls(reader, writer)
        await reader.readexactly(18)
        raw = name.encode()
        data = struct.pack(">I", len(raw)) + raw + struct.pack(">H", 0)
        writer.write(struct.pack(">I", c.FLAG_C_FIXED_NEWSTYLE))
        writer.write(struct.pack(">QII", c.IHAVEOPT, c.OPT_GO, len(data)) + data)
        while True:
            _, _, kind, length = struct.unpack(">QIII", await reader.readexactly(20))
            payload = await reader.readexactly(length)
            if kind == c.REP_ACK:
                return self
            assert kind == c.REP_INFO, hex(kind)
            if struct.unpack_from(">H", payload)[0] == c.INFO_EXPORT:
                self.size, self.flags = struct.unpack_from(">QH", payload, 2)

    def send(self, kind: int, offset: int, length: int, cookie: int, data: bytes = b"",
             flags: int = 0) -> None:  # fmt: skip
        self.writer.write(
            struct.pack(">IHHQQI", c.REQUEST_MAGIC, flags, kind, cookie, offset, length) + data
        )

    async def reply(self, length: int = 0) -> tuple[int, int, bytes]:
        magic, error, cookie = struct.unpack(">IIQ", await self.reader.readexactly(16))
        assert magic == c.SIMPLE_REPLY_MAGIC
        data = await self.reader.readexactly(length) if length and not error else b""
        return error, cookie, data

    async def closed(self) -> bool:
        return await self.reader.read(1) == b""


class GatedDevice(MemDevice):
    """Holds every read until `gate` opens, counting how many wait at once."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.gate = asyncio.Event()
        self.waiting = 0
        self.most_waiting = 0
        self.changed = asyncio.Condition()

    async def read(self, offset: int, length: int) -> bytes:
        async with self.changed:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            self.changed.notify_all()
        await self.gate.wait()
        self.waiting -= 1
        return await super().read(offset, length)


class FailingDevice(MemDevice):
    """Fails reads at offset 0 with EIO-ish errors and writes with ENOSPC."""

    async def read(self, offset: int, length: int) -> bytes:
        if offset == 0:
            raise CephError(errno.ENOENT, "object vanished")
        if offset == CHUNK:
            raise RuntimeError("a bug in the device")
        return await super().read(offset, length)

    async def write(self, offset: int, data: bytes | memoryview, fua: bool = False) -> None:
        raise CephError(errno.EDQUOT, "quota")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT))


def test_memdevice_is_a_block_device():
    assert isinstance(MemDevice(10), BlockDevice)


def test_catalog_default_export():
    disk = MemDevice(SIZE)
    catalog = DeviceCatalog({"disk": disk})
    assert catalog.lookup("").name == "disk"
    assert catalog.device("") is disk
    assert catalog.lookup("other") is None
    two = DeviceCatalog({"a": disk, "b": MemDevice(1)})
    assert two.lookup("") is None
    assert [e.name for e in two.exports()] == ["a", "b"]


def test_requests_run_concurrently_and_are_bounded_per_connection():
    async def main() -> None:
        device = GatedDevice(SIZE)
        async with NbdServer({"d": device}) as server:
            _, port = await server.listen_tcp()
            client = await Client.connect(port, "d")
            n = c.MAX_IN_FLIGHT + 50
            for i in range(n):
                client.send(c.CMD_READ, (i % 64) * 512, 512, i)
            async with device.changed:
                await device.changed.wait_for(lambda: device.waiting == c.MAX_IN_FLIGHT)
            # the server reads no more requests while the bound is reached
            for _ in range(20):
                await asyncio.sleep(0)
            assert device.waiting == c.MAX_IN_FLIGHT
            device.gate.set()
            cookies = set()
            for _ in range(n):
                error, cookie, _ = await client.reply(512)
                assert error == 0
                cookies.add(cookie)
            assert cookies == set(range(n))
            assert device.most_waiting == c.MAX_IN_FLIGHT
            client.send(c.CMD_DISC, 0, 0, 0)
            assert await client.closed()

    run(main())


def test_device_errors_become_nbd_errors_and_the_session_goes_on():
    async def main() -> None:
        async with NbdServer({"d": FailingDevice(SIZE)}) as server:
            _, port = await server.listen_tcp()
            client = await Client.connect(port, "d")
            client.send(c.CMD_READ, 0, 512, 1)
            assert await client.reply(512) == (c.NBD_EIO, 1, b"")
            client.send(c.CMD_WRITE, 0, 512, 2, b"x" * 512)
            assert await client.reply() == (c.NBD_ENOSPC, 2, b"")
            client.send(c.CMD_READ, CHUNK, 512, 3)
            assert await client.reply(512) == (c.NBD_EIO, 3, b"")
            client.send(c.CMD_READ, 512, 512, 4)
            assert await client.reply(512) == (0, 4, bytes(512))

    run(main())


def test_server_close_answers_in_flight_requests_then_flushes():
    async def main() -> None:
        device = GatedDevice(SIZE)
        server = NbdServer({"d": device})
        _, port = await server.listen_tcp()
        client = await Client.connect(port, "d")
        client.send(c.CMD_WRITE, 0, 512, 1, b"w" * 512)
        assert await client.reply() == (0, 1, b"")
        client.send(c.CMD_READ, 0, 512, 2)
        async with device.changed:
            await device.changed.wait_for(lambda: device.waiting == 1)
        closing = asyncio.create_task(server.close())
        await asyncio.sleep(0)
        assert not closing.done()
        assert server.sessions == 1
        device.gate.set()
        assert await client.reply(512) == (0, 2, b"w" * 512)
        assert await client.closed()
        await closing
        assert server.sessions == 0
        assert device.ops["flush"] == 1  # the session wrote: flushed at its end
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)

    run(main())


def test_client_that_vanishes_mid_request_leaves_the_server_serving():
    async def main() -> None:
        device = MemDevice(SIZE)
        async with NbdServer({"d": device}) as server:
            _, port = await server.listen_tcp()
            client = await Client.connect(port, "d")
            client.send(c.CMD_WRITE, 0, 4096, 1, b"x" * 100)  # payload cut short
            client.writer.close()
            await client.writer.wait_closed()
            other = await Client.connect(port, "d")
            other.send(c.CMD_READ, 0, 512, 5)
            assert await other.reply(512) == (0, 5, bytes(512))
            assert device.ops["write"] == 0

    run(main())


def test_large_reads_and_writes_up_to_the_bound():
    async def main() -> None:
        device = MemDevice(2 * c.MAX_REQUEST_SIZE)
        async with NbdServer({"d": device}) as server:
            _, port = await server.listen_tcp()
            client = await Client.connect(port, "d")
            data = bytes(range(256)) * (c.MAX_REQUEST_SIZE // 256)
            client.send(c.CMD_WRITE, 512, len(data), 1, data, flags=c.CMD_FLAG_FUA)
            assert await client.reply() == (0, 1, b"")
            client.send(c.CMD_READ, 512, len(data), 2)
            assert await client.reply(len(data)) == (0, 2, data)
            assert device.ops["write_fua"] == 1

    run(main())


def test_unix_socket_replaces_a_stale_socket_but_not_a_file(tmp_path):
    async def main() -> None:
        path = str(tmp_path / "s")
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)  # left behind by a server that died
        stale.close()
        async with NbdServer({"d": MemDevice(SIZE)}) as server:
            await server.listen_unix(path)
            client = await Client.connect_unix(path, "d")
            client.send(c.CMD_READ, 0, 512, 1)
            assert await client.reply(512) == (0, 1, bytes(512))
        assert not os.path.exists(path)
        # the path is gone after close; a regular file there is refused
        (tmp_path / "f").write_text("x")
        server = NbdServer({"d": MemDevice(SIZE)})
        with pytest.raises(CephError) as ei:
            await server.listen_unix(str(tmp_path / "f"))
        assert ei.value.errno == errno.EEXIST
        await server.close()

    run(main())


def test_clients_over_the_bound_are_turned_away(monkeypatch):
    monkeypatch.setattr(c, "MAX_CONNECTIONS", 2)

    async def main() -> None:
        async with NbdServer({"d": MemDevice(SIZE)}) as server:
            _, port = await server.listen_tcp()
            first = await Client.connect(port, "d")
            await Client.connect(port, "d")
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                greeting = await reader.read(18)
            except ConnectionResetError:
                greeting = b""
            assert greeting == b""  # no greeting: disconnected
            writer.close()
            first.send(c.CMD_DISC, 0, 0, 0)
            assert await first.closed()
            while server.sessions > 1:  # the first session ends on its own
                await asyncio.sleep(0.01)
            assert (await Client.connect(port, "d")) is not None

    run(main())


def test_a_client_that_never_negotiates_is_disconnected(monkeypatch):
    monkeypatch.setattr(c, "NEGOTIATION_TIMEOUT", 0.1)

    async def main() -> None:
        async with NbdServer({"d": MemDevice(SIZE)}) as server:
            _, port = await server.listen_tcp()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert len(await reader.readexactly(18)) == 18
            assert await reader.read(1) == b""  # closed by the server
            writer.close()
            # a client that did negotiate is not affected by the timer
            client = await Client.connect(port, "d")
            await asyncio.sleep(0.2)
            client.send(c.CMD_READ, 0, 512, 1)
            assert await client.reply(512) == (0, 1, bytes(512))

    run(main())


def test_a_new_connection_sees_a_resized_device():
    async def main() -> None:
        device = MemDevice(SIZE)
        async with NbdServer({"d": device}) as server:
            _, port = await server.listen_tcp()
            first = await Client.connect(port, "d")
            assert first.size == SIZE
            device.resize(2 * SIZE)
            second = await Client.connect(port, "d")
            assert second.size == 2 * SIZE
            # the first client keeps the size it negotiated
            first.send(c.CMD_READ, SIZE, 512, 1)
            assert await first.reply() == (c.NBD_EINVAL, 1, b"")
            second.send(c.CMD_READ, SIZE, 512, 2)
            assert await second.reply(512) == (0, 2, bytes(512))
            assert device.ops["refresh"] == 2

    run(main())
