"""The `rbd` command line on a format-1 image, printing what Debian's `rbd` 16.2.15
printed for the same image on the reference cluster (`info`, `ls -l`, `snap ls`,
`rm` refused with snapshots, then done).

The image is laid out with `rados` (librbd 16.2 creates none) in a fresh pool of the
shared session cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

import rados
from pyceph.common import tmap

MiB = 1 << 20
BLOCK = "rb.0.102f.6b8b4567"
#: seconds one `rbd` process may take
CLI_TIMEOUT = 180


def v1_header(size: int, order: int = 22) -> bytes:
    return (
        b"<<< Rados Block Device Image >>>\n".ljust(40, b"\0")
        + BLOCK.encode().ljust(24, b"\0")
        + b"RBD\0"
        + b"001.005\0"
        + bytes([order, 0, 0, 0])
        + (size).to_bytes(8, "little")
        + bytes(24)
    )


def rbd_cli(conf: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CEPH_ARGS", "RBD_FORCE_ALLOW_V1")}
    env["CEPH_CONF"] = conf
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "pyceph.cli.rbd_main", *args],
        capture_output=True,
        timeout=CLI_TIMEOUT,
        env=env,
    )


def ok(conf: str, *args: str) -> str:
    p = rbd_cli(conf, *args)
    assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
    return p.stdout.decode()


@pytest.fixture
def env(cluster_conf: str) -> Iterator[tuple[str, str]]:
    """(conf, pool): a fresh pool of the shared cluster holding format-1 image `v1img`
    (listed in rbd_directory's tmap) and format-2 image `v2img`."""
    pool = f"rbdv1-{uuid.uuid4().hex[:8]}"
    with rados.Rados(conffile=cluster_conf) as cluster:
        cluster.create_pool(pool)
        try:
            with cluster.open_ioctx(pool) as io:
                io.application_enable("rbd")
                io.write_full("v1img.rbd", v1_header(8 * MiB))
                io.write_full("rbd_directory", tmap.encode(b"", {"v1img": b""}))
            ok(cluster_conf, "create", "-s", "1M", f"{pool}/v2img")
            yield cluster_conf, pool
        finally:
            cluster.delete_pool(pool)


def test_info_ls_snap_ls_as_the_reference_prints_them(env: tuple[str, str]) -> None:
    conf, pool = env
    assert ok(conf, "info", f"{pool}/v1img") == (
        "rbd image 'v1img':\n"
        "\tsize 8 MiB in 2 objects\n"
        "\torder 22 (4 MiB objects)\n"
        "\tsnapshot_count: 0\n"
        f"\tblock_name_prefix: {BLOCK}\n"
        "\tformat: 1\n"
    )
    assert json.loads(ok(conf, "info", f"{pool}/v1img", "--format", "json")) == {
        "name": "v1img",
        "id": "",
        "size": 8 * MiB,
        "objects": 2,
        "order": 22,
        "object_size": 4 * MiB,
        "snapshot_count": 0,
        "block_name_prefix": BLOCK,
        "format": 1,
    }
    # format-1 images come first, in librbd's listing order
    assert ok(conf, "ls", pool) == "v1img\nv2img\n"
    listing = json.loads(ok(conf, "ls", "-l", pool, "--format", "json"))
    assert [(e["image"], e["id"], e["format"]) for e in listing][0] == ("v1img", "", 1)
    ok(conf, "snap", "create", f"{pool}/v1img@s1")
    assert ok(conf, "ls", "-l", pool).splitlines()[:3] == [
        "NAME      SIZE   PARENT  FMT  PROT  LOCK",
        "v1img     8 MiB            1            ",
        "v1img@s1  8 MiB            1            ",
    ]
    lines = ok(conf, "snap", "ls", f"{pool}/v1img").splitlines()
    assert lines[0].split() == ["SNAPID", "NAME", "SIZE", "PROTECTED", "TIMESTAMP"]
    assert lines[1].split()[1:] == ["s1", "8", "MiB"]  # no timestamp on format 1
    [snap] = json.loads(ok(conf, "snap", "ls", f"{pool}/v1img", "--format", "json"))
    assert (snap["name"], snap["protected"], snap["timestamp"]) == ("s1", "false", "")
    assert ok(conf, "info", f"{pool}/v1img@s1").endswith("\tformat: 1\n\tprotected: False\n")
    p = rbd_cli(conf, "du", f"{pool}/v1img")
    assert p.returncode == 0, p.stderr
    assert p.stderr == b"warning: fast-diff map is not enabled for v1img. operation may be slow.\n"
    assert p.stdout.decode().splitlines() == [
        "NAME      PROVISIONED  USED",
        "v1img@s1        8 MiB   0 B",
        "v1img           8 MiB   0 B",
        "<TOTAL>         8 MiB   0 B",
    ]


def test_rm_refuses_snapshots_then_removes_everything(env: tuple[str, str]) -> None:
    conf, pool = env
    ok(conf, "snap", "create", f"{pool}/v1img@s1")
    p = rbd_cli(conf, "rm", f"{pool}/v1img")
    assert p.returncode == 39  # ENOTEMPTY
    assert b"image has snapshots - these must be deleted with 'rbd snap purge'" in p.stderr
    ok(conf, "snap", "rm", f"{pool}/v1img@s1")
    ok(conf, "resize", "-s", "16M", f"{pool}/v1img")
    assert "size 16 MiB in 4 objects" in ok(conf, "info", f"{pool}/v1img")
    p = rbd_cli(conf, "rm", f"{pool}/v1img")
    assert p.returncode == 0, p.stderr
    assert b"Removing image: 100% complete...done." in p.stderr
    assert ok(conf, "ls", pool) == "v2img\n"
    assert rbd_cli(conf, "info", f"{pool}/v1img").returncode == 2


def test_create_format_1_needs_rbd_force_allow_v1(env: tuple[str, str]) -> None:
    conf, pool = env
    p = rbd_cli(conf, "create", "--image-format", "1", "-s", "8M", f"{pool}/made")
    assert p.returncode == 22
    assert p.stderr.startswith(
        b"rbd: image format 1 is deprecated\nrbd: create error: (22) Invalid argument"
    )
    p = rbd_cli(conf, "create", "--image-format", "1", "-s", "8M", f"{pool}/made",
                RBD_FORCE_ALLOW_V1="1")  # fmt: skip
    assert p.returncode == 0, p.stderr
    info = json.loads(ok(conf, "info", f"{pool}/made", "--format", "json"))
    assert (info["format"], info["id"], info["size"]) == (1, "", 8 * MiB)
    assert info["block_name_prefix"].startswith("rb.0.")
    assert ok(conf, "ls", pool) == "made\nv1img\nv2img\n"
