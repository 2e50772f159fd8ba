"""The `rados` command line against a real pyceph cluster: object verbs, formats, bench and
error exit codes, run as a separate process exactly as users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "unit" / "data" / "samples"


def rados_cli(
    conf: str, *args: str, stdin: bytes = b"", timeout: float = 120
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
    return subprocess.run(
        [sys.executable, "-m", "pyceph.cli.rados_main", "-c", conf, *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=env,
    )


@pytest.fixture(scope="module")
def pool(cluster_conf: str) -> Iterator[str]:
    import rados

    name = "rcli-" + uuid.uuid4().hex[:8]
    cluster = rados.Rados(conffile=cluster_conf)
    cluster.connect()
    try:
        cluster.create_pool(name)
        yield name
    finally:
        try:
            cluster.delete_pool(name)
        except rados.Error:
            pass
        cluster.shutdown()


def test_put_get_round_trip_files_and_stdio(cluster_conf: str, pool: str, tmp_path: Path) -> None:
    data = os.urandom(5 * 1024 * 1024 + 123)  # more than one 4 MiB chunk
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    r = rados_cli(cluster_conf, "-p", pool, "put", "big", str(src))
    assert r.returncode == 0, r.stderr
    dst = tmp_path / "out.bin"
    r = rados_cli(cluster_conf, "-p", pool, "get", "big", str(dst))
    assert r.returncode == 0, r.stderr
    assert dst.read_bytes() == data
    r = rados_cli(cluster_conf, "-p", pool, "put", "piped", "-", stdin=b"via stdin\n")
    assert r.returncode == 0, r.stderr
    r = rados_cli(cluster_conf, "-p", pool, "get", "piped", "-")
    assert (r.returncode, r.stdout) == (0, b"via stdin\n")


def test_ls_stat_and_rm(cluster_conf: str, pool: str) -> None:
    for name in ("ls-a", "ls-b"):
        assert (
            rados_cli(
                cluster_conf, "-p", pool, "put", name, "-", stdin=b"0123456789abcde"
            ).returncode
            == 0
        )
    r = rados_cli(cluster_conf, "-p", pool, "ls")
    assert r.returncode == 0
    names = r.stdout.decode().splitlines()
    assert {"ls-a", "ls-b"} <= set(names)
    r = rados_cli(cluster_conf, "-p", pool, "ls", "-f", "json")
    listing = json.loads(r.stdout)
    assert {"namespace": "", "name": "ls-a"} in listing
    r = rados_cli(cluster_conf, "-p", pool, "stat", "ls-a")
    assert r.returncode == 0
    line = r.stdout.decode()
    # "POOL/OBJ mtime 2026-11-22T04:39:51.000000+0000, size 15"
    prefix, _, rest = line.partition(" mtime ")
    assert prefix == f"{pool}/ls-a"
    stamp, _, size = rest.rstrip("\n").partition(", size ")
    assert size == "15"
    assert len(stamp) == len("2026-11-22T04:39:51.000000+0000") and stamp[10] == "T"
    assert stamp[19:26] == ".000000"
    r = rados_cli(cluster_conf, "-p", pool, "rm", "ls-a", "ls-b")
    assert r.returncode == 0, r.stderr
    names = rados_cli(cluster_conf, "-p", pool, "ls").stdout.decode().splitlines()
    assert "ls-a" not in names and "ls-b" not in names


def test_namespaces(cluster_conf: str, pool: str) -> None:
    assert (
        rados_cli(cluster_conf, "-p", pool, "-N", "ns1", "put", "nsobj", "-", stdin=b"x").returncode
        == 0
    )
    r = rados_cli(cluster_conf, "-p", pool, "-N", "ns1", "ls")
    assert r.stdout == b"nsobj\n"
    r = rados_cli(cluster_conf, "-p", pool, "--all", "ls")
    assert "ns1\tnsobj" in r.stdout.decode().splitlines()
    assert rados_cli(cluster_conf, "-p", pool, "-N", "ns1", "rm", "nsobj").returncode == 0


def test_xattrs(cluster_conf: str, pool: str) -> None:
    assert rados_cli(cluster_conf, "-p", pool, "put", "xo", "-", stdin=b"x").returncode == 0
    assert rados_cli(cluster_conf, "-p", pool, "setxattr", "xo", "color", "blue").returncode == 0
    assert (
        rados_cli(cluster_conf, "-p", pool, "setxattr", "xo", "a", stdin=b"from stdin").returncode
        == 0
    )
    r = rados_cli(cluster_conf, "-p", pool, "listxattr", "xo")
    assert r.stdout == b"a\ncolor\n"
    assert rados_cli(cluster_conf, "-p", pool, "getxattr", "xo", "color").stdout == b"blue"
    assert rados_cli(cluster_conf, "-p", pool, "getxattr", "xo", "a").stdout == b"from stdin"
    assert rados_cli(cluster_conf, "-p", pool, "rmxattr", "xo", "a").returncode == 0
    assert rados_cli(cluster_conf, "-p", pool, "listxattr", "xo").stdout == b"color\n"
    r = rados_cli(cluster_conf, "-p", pool, "getxattr", "xo", "nosuch")
    assert r.returncode == 1
    assert r.stderr.decode() == f"error getting xattr {pool}/xo/nosuch: (61) No data available\n"


def test_df_json_keys_match_sample(cluster_conf: str, pool: str) -> None:
    r = rados_cli(cluster_conf, "df", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    sample = json.loads((SAMPLES / "rados-df.json").read_text())
    assert set(doc) == set(sample)
    mine = [p for p in doc["pools"] if p["name"] == pool]
    assert mine and set(mine[0]) == set(sample["pools"][0])
    r = rados_cli(cluster_conf, "df")
    assert r.returncode == 0
    assert r.stdout.decode().startswith("POOL_NAME ")
    assert "\ntotal_objects    " in r.stdout.decode()


def test_lspools(cluster_conf: str, pool: str) -> None:
    r = rados_cli(cluster_conf, "lspools")
    assert r.returncode == 0 and pool in r.stdout.decode().splitlines()


def test_bench_write_seq_cleanup(cluster_conf: str, pool: str) -> None:
    r = rados_cli(
        cluster_conf, "-p", pool, "bench", "3", "write", "-b", "4096", "-t", "8", "--no-cleanup"
    )
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)" in out
    assert "Write size:             4096" in out
    made = int(out.split("Total writes made:")[1].split()[0])
    assert made > 0
    names = rados_cli(cluster_conf, "-p", pool, "ls").stdout.decode().splitlines()
    assert "benchmark_last_metadata" in names
    assert sum(n.startswith("benchmark_data_") for n in names) == made
    r = rados_cli(cluster_conf, "-p", pool, "bench", "3", "seq", "-t", "8")
    assert r.returncode == 0, r.stderr
    assert "Total reads made:" in r.stdout.decode()
    assert "is not correct" not in r.stderr.decode()
    r = rados_cli(cluster_conf, "-p", pool, "cleanup")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == f"Removed {made} objects\n"
    names = rados_cli(cluster_conf, "-p", pool, "ls").stdout.decode().splitlines()
    assert not [n for n in names if n.startswith("benchmark_")]


def test_error_exit_codes(cluster_conf: str, pool: str) -> None:
    r = rados_cli(cluster_conf, "-p", "no-such-pool", "ls")
    assert r.returncode == 1
    assert r.stderr.decode() == "error opening pool no-such-pool: (2) No such file or directory\n"
    r = rados_cli(cluster_conf, "-p", pool, "stat", "no-such-object")
    assert r.returncode == 1
    assert (
        r.stderr.decode()
        == f" error stat-ing {pool}/no-such-object: (2) No such file or directory\n"
    )
    r = rados_cli(cluster_conf, "-p", pool, "get", "no-such-object", "-")
    assert r.returncode == 1
    assert (
        r.stderr.decode() == f"error getting {pool}/no-such-object: (2) No such file or directory\n"
    )
    r = rados_cli(cluster_conf, "-p", pool, "rm", "no-such-object")
    assert r.returncode == 1
    assert (
        r.stderr.decode()
        == f"error removing {pool}>no-such-object: (2) No such file or directory\n"
    )
    r = rados_cli(cluster_conf, "nosuchverb")
    assert r.returncode == 1
    assert r.stderr.decode().startswith("unrecognized command nosuchverb; -h or --help for usage\n")
