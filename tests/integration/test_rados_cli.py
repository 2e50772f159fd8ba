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


# ---------------------------------------------------------------------------
# omap, cp, rollback, locks, watch/notify, export/import
# ---------------------------------------------------------------------------
def ok(conf: str, *args: str, stdin: bytes = b"") -> bytes:
    r = rados_cli(conf, *args, stdin=stdin)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def test_omap_verbs_in_a_namespace(cluster_conf: str, pool: str) -> None:
    base = ("-p", pool, "-N", "omapns")
    ok(cluster_conf, *base, "create", "om")
    ok(cluster_conf, *base, "setomapval", "om", "k1", "val1")
    ok(cluster_conf, *base, "setomapval", "om", "k2", stdin=b"from stdin")
    assert ok(cluster_conf, *base, "listomapkeys", "om") == b"k1\nk2\n"
    assert ok(cluster_conf, *base, "getomapval", "om", "k1") == (
        b"value (4 bytes) :\n"
        b"00000000  76 61 6c 31                                       |val1|\n"
        b"00000004\n\n"
    )
    assert b"k2\nvalue (10 bytes) :\n" in ok(cluster_conf, *base, "listomapvals", "om")
    ok(cluster_conf, *base, "rmomapkey", "om", "k1")
    assert ok(cluster_conf, *base, "listomapkeys", "om") == b"k2\n"
    ok(cluster_conf, *base, "clearomap", "om")
    assert ok(cluster_conf, *base, "listomapkeys", "om") == b""
    r = rados_cli(cluster_conf, *base, "getomapval", "om", "k1")
    assert (r.returncode, r.stdout) == (1, b"No such key: " + pool.encode() + b"/om/k1\n")
    # the default namespace does not see it
    r = rados_cli(cluster_conf, "-p", pool, "listomapkeys", "om")
    assert r.returncode == 1 and b"No such file or directory" in r.stderr


def test_cp_across_pools_and_rollback(cluster_conf: str, pool: str) -> None:
    import rados

    ok(cluster_conf, "-p", pool, "put", "cpsrc", "-", stdin=b"copy me")
    ok(cluster_conf, "-p", pool, "setxattr", "cpsrc", "a1", "v1")
    ok(cluster_conf, "-p", pool, "setomapval", "cpsrc", "k", "v")
    r = rados_cli(cluster_conf, "-p", pool, "cp", "cpsrc")
    assert (r.returncode, r.stderr) == (1, b"cannot copy object into itself\n")
    ok(cluster_conf, "-p", pool, "cp", "cpsrc", "cpdst")
    assert ok(cluster_conf, "-p", pool, "get", "cpdst", "-") == b"copy me"
    assert ok(cluster_conf, "-p", pool, "listxattr", "cpdst") == b"a1\n"
    assert ok(cluster_conf, "-p", pool, "listomapkeys", "cpdst") == b"k\n"
    other = "rcli2-" + uuid.uuid4().hex[:8]
    cluster = rados.Rados(conffile=cluster_conf)
    cluster.connect()
    try:
        cluster.create_pool(other)
        ok(cluster_conf, "-p", pool, "cp", "cpsrc", "--target-pool", other, "--target-nspace", "t")
        assert ok(cluster_conf, "-p", other, "-N", "t", "get", "cpsrc", "-") == b"copy me"
        r = rados_cli(cluster_conf, "-p", pool, "cp", "nope", "x")
        assert (
            r.stderr
            == f"error copying {pool}/nope => {pool}/x: (2) No such file or directory\n".encode()
        )
    finally:
        cluster.delete_pool(other)
        cluster.shutdown()
    # pool snapshot rollback
    ok(cluster_conf, "-p", pool, "put", "rb", "-", stdin=b"before")
    ok(cluster_conf, "-p", pool, "mksnap", "rbsnap")
    try:
        ok(cluster_conf, "-p", pool, "put", "rb", "-", stdin=b"after!")
        assert ok(cluster_conf, "-p", pool, "rollback", "rb", "rbsnap") == (
            f"rolled back pool {pool} to snapshot rbsnap\n".encode()
        )
        assert ok(cluster_conf, "-p", pool, "get", "rb", "-") == b"before"
        r = rados_cli(cluster_conf, "-p", pool, "rollback", "rb", "nosnap")
        assert r.returncode == 1 and r.stderr.startswith(b"error rolling back pool")
    finally:
        ok(cluster_conf, "-p", pool, "rmsnap", "rbsnap")


def test_lock_verbs(cluster_conf: str, pool: str) -> None:
    base = ("-p", pool, "lock")
    assert (
        ok(cluster_conf, *base, "get", "lk", "L1", "--lock-cookie", "c1", "--lock-tag", "t") == b""
    )
    r = rados_cli(cluster_conf, *base, "get", "lk", "L1", "--lock-cookie", "c2")
    assert (r.returncode, r.stderr) == (
        1,
        b"ERROR: failed locking: (16) Device or resource busy\n"
        b"error 16: (16) Device or resource busy\n",
    )
    ok(cluster_conf, *base, "get", "lk", "L2", "--lock-type", "shared", "--lock-duration", "100")
    assert (
        ok(cluster_conf, *base, "list", "lk")
        == b'{"objname":"lk","locks":[{"name":"L1"},{"name":"L2"}]}'
    )
    info = json.loads(ok(cluster_conf, *base, "info", "lk", "L1"))
    assert (info["type"], info["tag"], len(info["lockers"])) == ("exclusive", "t", 1)
    locker = info["lockers"][0]
    assert locker["cookie"] == "c1" and locker["expiration"] == "0.000000"
    assert locker["name"].startswith("client.") and locker["addr"]
    shared = json.loads(ok(cluster_conf, *base, "info", "lk", "L2", "-f", "json-pretty"))
    assert shared["type"] == "shared" and shared["lockers"][0]["expiration"] != "0.000000"
    ok(cluster_conf, *base, "break", "lk", "L1", locker["name"], "--lock-cookie", "c1")
    assert json.loads(ok(cluster_conf, *base, "info", "lk", "L1"))["lockers"] == []
    r = rados_cli(cluster_conf, *base, "break", "lk", "L1", "client.1", "--lock-cookie", "c1")
    assert r.returncode == 1 and b"ERROR: failed breaking lock: (2)" in r.stderr


def test_watch_notify_listwatchers(cluster_conf: str, pool: str) -> None:
    ok(cluster_conf, "-p", pool, "create", "wobj")
    env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pyceph.cli.rados_main",
            "-c",
            cluster_conf,
            "-p",
            pool,
            "watch",
            "wobj",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline() == b"press enter to exit...\n"
        listing = ok(cluster_conf, "-p", pool, "listwatchers", "wobj").decode()
        assert listing.startswith("watcher=") and " client." in listing and " cookie=" in listing
        out = ok(cluster_conf, "-p", pool, "notify", "wobj", "hello").decode()
        assert out.startswith("reply client.") and out.count("\n") == 3
        assert "|....hello|" in out
    finally:
        out_w, err_w = watcher.communicate(b"\n", timeout=60)
    assert watcher.returncode == 0, err_w
    assert b"NOTIFY cookie " in out_w and b"|....hello|" in out_w
    r = rados_cli(cluster_conf, "-p", pool, "listwatchers", "nope")
    assert (
        r.stderr == f"error listing watchers {pool}/nope: (2) No such file or directory\n".encode()
    )


def test_export_import_round_trip(cluster_conf: str, pool: str, tmp_path: Path) -> None:
    import rados

    src = "rexp-" + uuid.uuid4().hex[:8]
    dst = "rimp-" + uuid.uuid4().hex[:8]
    cluster = rados.Rados(conffile=cluster_conf)
    cluster.connect()
    try:
        cluster.create_pool(src)
        cluster.create_pool(dst)
        ok(cluster_conf, "-p", src, "put", "o1", "-", stdin=b"hello world")
        ok(cluster_conf, "-p", src, "setxattr", "o1", "a1", "v1")
        ok(cluster_conf, "-p", src, "setomapval", "o1", "k1", "val1")
        ok(cluster_conf, "-p", src, "-N", "ns1", "put", "o2", "-", stdin=b"x")
        ok(cluster_conf, "-p", src, "--object-locator", "loc", "put", "o3", "-", stdin=b"y")
        dump = tmp_path / "pool.dump"
        ok(cluster_conf, "-p", src, "export", str(dump))
        assert dump.read_bytes()[:16] == bytes.fromhex("ceffceff02000000120000000a000000")
        out = ok(cluster_conf, "-p", dst, "import", str(dump)).decode().splitlines()
        assert out[0] == "Importing pool"
        assert sorted(out[1:]) == [
            "Write #-9223372036854775808:00000000:::o1:head#",
            "Write #-9223372036854775808:00000000::loc:o3:head#",
            "Write #-9223372036854775808:00000000:ns1::o2:head#",
        ]
        assert ok(cluster_conf, "-p", dst, "get", "o1", "-") == b"hello world"
        assert ok(cluster_conf, "-p", dst, "getxattr", "o1", "a1") == b"v1"
        assert ok(cluster_conf, "-p", dst, "listomapkeys", "o1") == b"k1\n"
        assert ok(cluster_conf, "-p", dst, "-N", "ns1", "get", "o2", "-") == b"x"
        assert ok(cluster_conf, "-p", dst, "--object-locator", "loc", "get", "o3", "-") == b"y"
        out = ok(cluster_conf, "-p", dst, "import", "--no-overwrite", "-", stdin=dump.read_bytes())
        assert out.count(b"Skipping existing") == 3
        # a second export of the imported pool is the same stream, object for object
        again = tmp_path / "again.dump"
        ok(cluster_conf, "-p", dst, "export", str(again))
        assert len(again.read_bytes()) == len(dump.read_bytes())
    finally:
        cluster.delete_pool(src)
        cluster.delete_pool(dst)
        cluster.shutdown()
