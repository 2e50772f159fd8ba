"""`rbd device map|unmap|list` for NBD on a real cluster: background `rbd-nbd` server
processes (`pyceph.nbd.mapper`), used by qemu-io / nbdinfo, unmapped cleanly."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import rados
from pyceph.client.ioctx import IoCtx
from pyceph.common.errors import CephError
from pyceph.nbd import mapper
from pyceph.rbdlib import create, open_image
from rados import _core as rados_core

MiB = 1 << 20
SIZE = 8 * MiB
CLIENT_TIMEOUT = 120


class Pool:
    def __init__(self, conf: str, name: str) -> None:
        self.conf = conf
        self.name = name
        self.r = rados.Rados(conffile=conf)
        self.r.connect()
        self.r.create_pool(name)
        self.ioctx = IoCtx(rados_core.core_client(self.r), self.r.pool_lookup(name))

    def run(self, coro: Any) -> Any:
        return rados_core.run(self.r, coro)

    def create(self, image: str, size: int = SIZE) -> None:
        self.run(create(self.ioctx, image, size, order=20))

    def read(self, image: str, offset: int, length: int, snap: str | None = None) -> bytes:
        async def read() -> bytes:
            img = await open_image(self.ioctx, image, snapshot=snap, read_only=True)
            try:
                return await img.read(offset, length)
            finally:
                await img.close()

        return self.run(read())

    def write(self, image: str, offset: int, data: bytes) -> None:
        async def write() -> None:
            img = await open_image(self.ioctx, image)
            try:
                await img.write(data, offset)
            finally:
                await img.close()

        self.run(write())

    def snap(self, image: str, snap: str) -> None:
        async def snap_create() -> None:
            img = await open_image(self.ioctx, image)
            try:
                await img.create_snap(snap)
            finally:
                await img.close()

        self.run(snap_create())


@pytest.fixture
def pool(cluster_conf: str) -> Iterator[Pool]:
    p = Pool(cluster_conf, f"nbd-{uuid.uuid4().hex[:8]}")
    try:
        yield p
    finally:
        p.r.delete_pool(p.name)
        p.r.shutdown()


@pytest.fixture
def run_dir(tmp_path) -> Iterator[str]:
    d = str(tmp_path / "run")
    try:
        yield d
    finally:
        for m in mapper.list_mapped(d):
            mapper.unmap(str(m.id), d)


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)


def rbd_nbd(*args: str) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "pyceph.nbd.rbd_nbd", *args)


def test_map_write_unmap_and_the_data_is_in_the_image(pool: Pool, run_dir: str) -> None:
    pool.create("img")
    m = mapper.map_image(pool.conf, pool.name, "", "img", run_dir=run_dir)
    assert m.device.startswith("nbd://127.0.0.1:") and m.device.endswith("/img")
    assert (m.pool, m.namespace, m.image, m.snap, m.read_only) == (
        pool.name,
        "",
        "img",
        None,
        False,
    )
    assert mapper.list_mapped(run_dir) == [m]

    r = run("nbdinfo", "--json", m.device)
    assert json.loads(r.stdout)["exports"][0]["export-size"] == SIZE
    r = run(
        "qemu-io", "-f", "raw", "--cache", "writeback",
        "-c", "write -P 0x5a 0 1m", "-c", "write -P 0x6b 3m 64k", "-c", "read -P 0x5a 0 1m",
        m.device,
    )  # fmt: skip
    assert r.returncode == 0 and "Pattern verification failed" not in r.stdout, r.stdout + r.stderr

    r = rbd_nbd("list-mapped", "--format", "json", "--run-dir", run_dir)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [
        {"id": m.id, "pool": pool.name, "namespace": "", "image": "img", "snap": "-",
         "device": m.device}
    ]  # fmt: skip
    r = rbd_nbd("list-mapped", "--run-dir", run_dir)
    assert r.stdout.split("\n")[0].split() == ["id", "pool", "namespace", "image", "snap", "device"]

    assert mapper.unmap(f"{pool.name}/img", run_dir) == m
    assert mapper.list_mapped(run_dir) == []
    assert not os.path.exists(mapper.state_path(run_dir, m.id))
    with pytest.raises(ProcessLookupError):
        os.kill(m.id, 0)
    assert pool.read("img", 0, MiB) == b"\x5a" * MiB
    assert pool.read("img", 3 * MiB, 65536) == b"\x6b" * 65536


def test_snapshot_maps_read_only_and_refuses_writes(pool: Pool, run_dir: str) -> None:
    pool.create("img")
    pool.write("img", 0, b"\x11" * 65536)
    pool.snap("img", "s1")
    pool.write("img", 0, b"\x22" * 65536)
    m = mapper.map_image(pool.conf, pool.name, "", "img", "s1", run_dir=run_dir)
    assert m.read_only and m.snap == "s1" and m.device.endswith("/img@s1")
    r = run("nbdinfo", "--json", m.device)
    assert json.loads(r.stdout)["exports"][0]["is_read_only"] is True
    r = run("qemu-io", "-f", "raw", "-r", "-c", "read -P 0x11 0 64k", m.device)
    assert r.returncode == 0 and "Pattern verification failed" not in r.stdout, r.stdout + r.stderr
    r = run("qemu-io", "-f", "raw", "-c", "write -P 0x33 0 4k", m.device)
    assert r.returncode != 0
    mapper.unmap(m.device, run_dir)
    assert pool.read("img", 0, 4096, snap="s1") == b"\x11" * 4096
    assert pool.read("img", 0, 4096) == b"\x22" * 4096


def test_read_only_map_of_the_head(pool: Pool, run_dir: str) -> None:
    pool.create("img")
    m = mapper.map_image(pool.conf, pool.name, "", "img", read_only=True, run_dir=run_dir)
    assert m.read_only
    r = run("nbdinfo", "--json", m.device)
    assert json.loads(r.stdout)["exports"][0]["is_read_only"] is True


def test_unix_socket_map_with_the_command_line(pool: Pool, run_dir: str, tmp_path) -> None:
    pool.create("img")
    sock = str(tmp_path / "img.sock")
    r = rbd_nbd("--conf", pool.conf, "map", f"{pool.name}/img", "--socket", sock,
                "--run-dir", run_dir)  # fmt: skip
    assert r.returncode == 0, r.stderr
    device = r.stdout.strip()
    assert device == f"nbd+unix:///img?socket={sock}"
    r = run("qemu-io", "-f", "raw", "-c", "write -P 0x77 4k 4k", "-c", "read -P 0x77 4k 4k", device)
    assert r.returncode == 0 and "Pattern verification failed" not in r.stdout, r.stdout + r.stderr
    r = rbd_nbd("unmap", device, "--run-dir", run_dir)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(sock)
    assert pool.read("img", 4096, 4096) == b"\x77" * 4096


def test_map_errors(pool: Pool, run_dir: str) -> None:
    with pytest.raises(CephError) as ei:
        mapper.map_image(pool.conf, pool.name, "", "missing", run_dir=run_dir)
    assert ei.value.errno == errno.ENOENT
    with pytest.raises(CephError) as ei:
        mapper.map_image(pool.conf, "no-such-pool", "", "img", run_dir=run_dir)
    assert ei.value.errno == errno.ENOENT
    pool.create("img")
    with pytest.raises(CephError) as ei:
        mapper.map_image(pool.conf, pool.name, "", "img", "nosnap", run_dir=run_dir)
    assert ei.value.errno == errno.ENOENT
    assert mapper.list_mapped(run_dir) == []
    with pytest.raises(CephError) as ei:
        mapper.unmap(f"{pool.name}/img", run_dir)
    assert ei.value.errno == errno.ENOENT
    r = rbd_nbd("unmap", "nbd://127.0.0.1:1/x", "--run-dir", run_dir)
    assert r.returncode == 1 and "is not mapped" in r.stderr
