"""The `rbd` command line run as users run it: a separate process, a ceph.conf, pipes.

Two clusters: an embedded one in a directory (``mon_host = embedded:DIR``, opened
by each `rbd` process in turn) and the shared real-daemon cluster of conftest.py.
Checks exit codes, stderr messages and progress lines, json output, and byte-exact
export/import through files and stdin/stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

import rados
import rbd  # noqa: F401 - the drop-in module the CLI drives

#: seconds one `rbd` process may take
CLI_TIMEOUT = 180


def rbd_cli(
    conf: str, *args: str, stdin: bytes = b"", timeout: float = CLI_TIMEOUT
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
    env["CEPH_CONF"] = conf
    return subprocess.run(
        [sys.executable, "-m", "pyceph.cli.rbd_main", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=env,
    )


def ok(conf: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    p = rbd_cli(conf, *args, stdin=stdin)
    assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
    return p


@pytest.fixture(scope="module")
def embedded_conf(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An embedded cluster in a directory with an `rbd` pool; released for the CLI."""
    root = str(tmp_path_factory.mktemp("rbd-embedded") / "c")
    with rados.Rados(conf={"mon_host": f"embedded:{root}"}) as cluster:
        cluster.create_pool("rbd")
    return os.path.join(root, "ceph.conf")


def test_lifecycle_on_embedded_dir(embedded_conf: str) -> None:
    conf = embedded_conf
    ok(conf, "create", "--size", "64", "img1")
    assert ok(conf, "ls").stdout == b"img1\n"
    info = json.loads(ok(conf, "info", "--format", "json", "rbd/img1").stdout)
    assert (info["name"], info["size"], info["objects"]) == ("img1", 64 << 20, 16)
    snap = ok(conf, "snap", "create", "img1@s1")
    assert snap.stderr == b"\rCreating snap: 100% complete...done.\n"
    ok(conf, "snap", "protect", "img1@s1")
    ok(conf, "clone", "img1@s1", "child")
    listing = ok(conf, "ls", "-l").stdout.decode().splitlines()
    assert listing[0].split() == ["NAME", "SIZE", "PARENT", "FMT", "PROT", "LOCK"]
    assert listing[1].split() == ["child", "64", "MiB", "rbd/img1@s1", "2"]
    assert listing[3].split() == ["img1@s1", "64", "MiB", "2", "yes"]
    bad = rbd_cli(conf, "rm", "img1")
    assert bad.returncode == 39
    assert bad.stderr.endswith(
        b"rbd: image has snapshots - these must be deleted with 'rbd snap purge' before the "
        b"image can be removed.\n"
    )
    missing = rbd_cli(conf, "info", "nope")
    assert missing.returncode == 2
    assert missing.stderr == b"rbd: error opening image nope: (2) No such file or directory\n"
    flat = ok(conf, "flatten", "child")
    assert flat.stderr.endswith(b"Image flatten: 100% complete...done.\n")
    removed = ok(conf, "rm", "child")
    assert removed.stderr.endswith(b"\rRemoving image: 100% complete...done.\n")


def test_import_export_pipes_byte_exact(embedded_conf: str, tmp_path: os.PathLike) -> None:
    conf = embedded_conf
    data = os.urandom(5 << 20) + bytes(3 << 20) + os.urandom(12345)
    path = os.path.join(tmp_path, "disk.raw")
    with open(path, "wb") as f:
        f.write(data)
    ok(conf, "import", "--no-progress", path, "fromfile")
    ok(conf, "import", "--no-progress", "-", "fromstdin", stdin=data)
    for name in ("fromfile", "fromstdin"):
        out = ok(conf, "export", "--no-progress", name, "-").stdout
        assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest(), name
    exported = os.path.join(tmp_path, "exported.raw")
    p = ok(conf, "export", "fromfile", exported)
    assert p.stderr.endswith(b"Exporting image: 100% complete...done.\n")
    with open(exported, "rb") as f:
        assert f.read() == data
    ok(conf, "snap", "create", "--no-progress", "fromfile@before")
    v2 = ok(conf, "export", "--export-format", "2", "--no-progress", "fromfile", "-").stdout
    ok(conf, "import", "--export-format", "2", "--no-progress", "-", "copy", stdin=v2)
    again = ok(conf, "export", "--export-format", "2", "--no-progress", "copy", "-").stdout
    assert again == v2
    snaps = json.loads(ok(conf, "snap", "ls", "--format", "json", "copy").stdout)
    assert [s["name"] for s in snaps] == ["before"]


@pytest.fixture(scope="module")
def real_pool(cluster_conf: str) -> Iterator[str]:
    name = "rbdcli-" + uuid.uuid4().hex[:8]
    with rados.Rados(conffile=cluster_conf) as cluster:
        cluster.create_pool(name)
    yield name
    with rados.Rados(conffile=cluster_conf) as cluster:
        cluster.delete_pool(name)


def test_on_real_cluster(cluster_conf: str, real_pool: str) -> None:
    conf = cluster_conf
    ok(conf, "create", "--size", "16M", f"{real_pool}/img")
    ok(conf, "bench", "--io-type", "write", "--io-total", "1M", f"{real_pool}/img")
    data = ok(conf, "export", "--no-progress", f"{real_pool}/img", "-").stdout
    assert len(data) == 16 << 20
    ok(conf, "resize", "--no-progress", "--size", "32M", f"{real_pool}/img")
    info = ok(conf, "info", f"{real_pool}/img").stdout.decode()
    assert "\tsize 32 MiB in 8 objects\n" in info
    ok(conf, "rm", "--no-progress", f"{real_pool}/img")
    assert ok(conf, "ls", real_pool).stdout == b""


def test_device_map_list_unmap(
    cluster_conf: str, real_pool: str, tmp_path: os.PathLike, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = cluster_conf
    monkeypatch.setenv("PYCEPH_NBD_RUN_DIR", str(tmp_path))
    ok(conf, "create", "--size", "4M", f"{real_pool}/dev")
    mapped = ok(conf, "device", "map", f"{real_pool}/dev").stdout.decode().strip()
    try:
        assert mapped.startswith("nbd://127.0.0.1:") and mapped.endswith("/dev")
        listing = ok(conf, "device", "list").stdout.decode().splitlines()
        assert listing[0].split() == ["id", "pool", "namespace", "image", "snap", "device"]
        # the namespace column is empty
        assert listing[1].split()[1:] == [real_pool, "dev", "-", mapped]
        devices = json.loads(ok(conf, "device", "list", "--format", "json").stdout)
        assert [(d["pool"], d["image"], d["snap"], d["device"]) for d in devices] == [
            (real_pool, "dev", "-", mapped)
        ]
    finally:
        ok(conf, "device", "unmap", mapped)
    assert ok(conf, "device", "list").stdout == b""
    r = rbd_cli(conf, "device", "map", "-t", "krbd", f"{real_pool}/dev")
    assert r.returncode == 95
