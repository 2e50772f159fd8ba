"""RBD images over NBD: the rbd engine's `Image` behind `RbdDevice`, served by `NbdServer`
on the client's event loop (an embedded cluster), used by qemu-img / qemu-io / nbdinfo."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import rados
from pyceph.client.ioctx import IoCtx
from pyceph.nbd.rbd_device import RbdDevice
from pyceph.nbd.server import NbdServer
from pyceph.rbdlib import create, open_image
from rados import _core as rados_core

MiB = 1 << 20
SIZE = 8 * MiB
CLIENT_TIMEOUT = 120


class Served:
    """An image served over NBD from the embedded cluster's loop."""

    def __init__(self, r: rados.Rados, pool: str) -> None:
        self.r = r
        self.ioctx = IoCtx(rados_core.core_client(r), r.pool_lookup(pool))
        self.servers: list[NbdServer] = []
        self.images: list[Any] = []

    def run(self, coro: Any) -> Any:
        return rados_core.run(self.r, coro)

    def serve(self, name: str, snap: str | None = None, read_only: bool = False) -> str:
        async def start() -> tuple[NbdServer, int, Any]:
            img = await open_image(self.ioctx, name, snapshot=snap, read_only=read_only)
            device = await RbdDevice.open(img)
            server = NbdServer({name: device})
            _, port = await server.listen_tcp()
            return server, port, device

        server, port, device = self.run(start())
        self.servers.append(server)
        self.images.append(device)
        return f"nbd://127.0.0.1:{port}/{name}"

    def close(self) -> None:
        for server in self.servers:
            self.run(server.close())
        for device in self.images:
            self.run(device.close())

    def read(self, name: str, offset: int, length: int) -> bytes:
        async def read() -> bytes:
            img = await open_image(self.ioctx, name, read_only=True)
            try:
                return await img.read(offset, length)
            finally:
                await img.close()

        return self.run(read())


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        yield r


@pytest.fixture
def served(cluster: rados.Rados) -> Iterator[Served]:
    pool = f"nbd-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(pool)
    s = Served(cluster, pool)
    try:
        yield s
    finally:
        s.close()
        cluster.delete_pool(pool)


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)


def test_qemu_img_convert_to_and_from_an_rbd_image(served: Served, tmp_path) -> None:
    served.run(create(served.ioctx, "img", SIZE, order=20))
    url = served.serve("img")
    r = run("nbdinfo", "--json", url)
    assert json.loads(r.stdout)["exports"][0]["export-size"] == SIZE

    content = os.urandom(SIZE // 2) + bytes(SIZE // 4) + os.urandom(SIZE // 4)
    src = tmp_path / "in.raw"
    src.write_bytes(content)
    r = run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(src), url)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out.raw"
    r = run("qemu-img", "convert", "-f", "raw", "-O", "raw", url, str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == content
    # what the NBD client wrote is what the image holds, read by another open
    assert served.read("img", 0, SIZE) == content


def test_qemu_io_patterns_on_an_rbd_image(served: Served) -> None:
    served.run(create(served.ioctx, "img", SIZE, order=20))
    url = served.serve("img")
    script: list[str] = []
    offsets = [0, 4096, MiB - 2048, 3 * MiB + 512, SIZE - 65536]
    for i, off in enumerate(offsets):
        script += ["-c", f"write -P {0x10 + i:#x} {off} 64k"]
    script += ["-c", "write -z 5m 128k", "-c", "discard 6m 1m", "-c", "flush"]
    for i, off in enumerate(offsets):
        size = "64k" if i + 1 == len(offsets) or offsets[i + 1] >= off + 65536 else "2k"
        script += ["-c", f"read -P {0x10 + i:#x} {off} {size}"]
    script += ["-c", "read -P 0 5m 128k"]
    r = run("qemu-io", "-f", "raw", *script, url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Pattern verification failed" not in r.stdout
    assert served.read("img", 4096 + 2048, 4096) == b"\x11" * 4096


def test_snapshot_is_served_read_only(served: Served) -> None:
    served.run(create(served.ioctx, "img", SIZE, order=20))

    async def prepare() -> None:
        img = await open_image(served.ioctx, "img")
        try:
            await img.write(b"\xaa" * 65536, 0)
            await img.create_snap("s1")
            await img.write(b"\xbb" * 65536, 0)
        finally:
            await img.close()

    served.run(prepare())
    url = served.serve("img", snap="s1")
    r = run("nbdinfo", "--json", url)
    assert json.loads(r.stdout)["exports"][0]["is_read_only"] is True
    r = run("qemu-io", "-f", "raw", "-r", "-c", "read -P 0xaa 0 64k", url)
    assert r.returncode == 0 and "Pattern verification failed" not in r.stdout, r.stdout + r.stderr
    r = run("qemu-io", "-f", "raw", "-c", "write -P 0xcc 0 4k", url)
    assert r.returncode != 0
    assert served.read("img", 0, 4096) == b"\xbb" * 4096


def test_resize_by_another_client_is_seen_by_new_connections(served: Served) -> None:
    served.run(create(served.ioctx, "img", SIZE, order=20))
    url = served.serve("img")

    async def resize() -> None:
        img = await open_image(served.ioctx, "img")
        try:
            await img.resize(2 * SIZE)
        finally:
            await img.close()

    served.run(resize())
    r = run("nbdinfo", "--json", url)
    assert json.loads(r.stdout)["exports"][0]["export-size"] == 2 * SIZE
    r = run("qemu-io", "-f", "raw", "-c", f"write -P 0x3c {SIZE} 64k", url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert served.read("img", SIZE, 65536) == b"\x3c" * 65536


def test_block_status_follows_the_image_objects(served: Served, tmp_path) -> None:
    served.run(create(served.ioctx, "img", SIZE, order=20))  # 1 MiB objects

    async def write() -> None:
        img = await open_image(served.ioctx, "img")
        try:
            await img.write(b"d" * 4096, MiB + 4096)
            await img.write(b"e" * 4096, 5 * MiB)
        finally:
            await img.close()

    served.run(write())
    url = served.serve("img")
    r = run("nbdinfo", "--map", "--json", url)
    assert r.returncode == 0, r.stderr
    data = [(e["offset"], e["length"]) for e in json.loads(r.stdout) if e["type"] == 0]
    # the objects that exist, each up to its RADOS object's end (librbd's diff of a head
    # object with no snapshots: [0, object size))
    assert data == [(MiB, 8192), (5 * MiB, 4096)]
    out = tmp_path / "out.raw"
    r = run("qemu-img", "convert", "-f", "raw", "-O", "raw", url, str(out))
    assert r.returncode == 0, r.stderr
    content = out.read_bytes()
    assert content == served.read("img", 0, SIZE)
    assert content[MiB + 4096 : MiB + 8192] == b"d" * 4096
