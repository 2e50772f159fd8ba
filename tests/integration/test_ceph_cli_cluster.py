"""The `ceph` command line against a real cluster: upstream's JSON keys, upstream's errors."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.waiting import wait_until

import rados

SAMPLES = Path(__file__).resolve().parents[1] / "unit" / "data" / "samples"


def ceph(conf: str, *args: str, keyring: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", conf, *args]
    if keyring:
        cmd[5:5] = ["-k", keyring]
    env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def shape(doc: Any) -> Any:
    """The key structure of a JSON document (values dropped, lists by their first item)."""
    if isinstance(doc, dict):
        return {k: shape(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [shape(doc[0])] if doc else []
    return None


#: Objects whose keys are data (names of services, checks, ...), not schema.
DATA_MAPS = (
    ".mgrmap.services",
    ".health.checks",
    ".servicemap.services",
    ".progress_events",
    ".application_metadata",
    ".blocklist",
)
#: `ceph versions`: its top-level objects are keyed by version strings.
VERSION_MAPS = {".mon", ".mgr", ".osd", ".overall"}


def assert_same_keys(ours: Any, sample: Any, path: str = "") -> None:
    """Every key upstream prints is there, at the same place (lists: item shapes)."""
    if path.endswith(DATA_MAPS) or path in VERSION_MAPS:
        assert isinstance(ours, dict), f"{path}: not an object"
        return
    if isinstance(sample, dict):
        assert isinstance(ours, dict), f"{path}: not an object"
        missing = set(sample) - set(ours)
        assert not missing, f"{path}: missing keys {sorted(missing)}"
        for k in sample:
            assert_same_keys(ours[k], sample[k], f"{path}.{k}")
    elif isinstance(sample, list) and sample and ours:
        assert isinstance(ours, list), f"{path}: not a list"
        assert_same_keys(ours[0], sample[0], f"{path}[0]")


@pytest.fixture(scope="module")
def pool(cluster_conf: str) -> str:
    res = ceph(cluster_conf, "osd", "pool", "create", "cli_keys", "8")
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip() == "pool 'cli_keys' created"
    return "cli_keys"


@pytest.mark.parametrize(
    "args,sample",
    [
        (["-s"], "ceph-status.json"),
        (["df"], "ceph-df.json"),
        (["osd", "tree"], "ceph-osd-tree.json"),
        (["osd", "pool", "ls", "detail"], "ceph-osd-pool-ls-detail.json"),
        (["osd", "dump"], "ceph-osd-dump.json"),
        (["mon", "dump"], "ceph-mon-dump.json"),
        (["osd", "stat"], "ceph-osd-stat.json"),
        (["versions"], "ceph-versions.json"),
        (["fsid"], "ceph-fsid.json"),
    ],
)
def test_json_outputs_carry_upstream_keys(cluster_conf, pool, args, sample):
    res = ceph(cluster_conf, *args, "-f", "json")
    assert res.returncode == 0, res.stderr
    ours = json.loads(res.stdout)
    theirs = json.loads((SAMPLES / sample).read_text())
    assert_same_keys(ours, theirs)


def test_status_reports_the_cluster_we_started(cluster_conf, pool):
    st = json.loads(ceph(cluster_conf, "-s", "-f", "json").stdout)
    assert st["osdmap"]["num_osds"] == st["osdmap"]["num_up_osds"] == 3
    assert st["mgrmap"]["available"] is True
    assert st["pgmap"]["num_pools"] >= 1


def test_malformed_command_is_einval_and_changes_nothing(cluster_conf, pool):
    before = ceph(cluster_conf, "osd", "dump", "-f", "json").stdout
    res = ceph(cluster_conf, "osd", "pool", "frobnicate", "cli_keys")
    assert res.returncode == 22
    assert "no valid command found" in res.stderr or "Invalid command" in res.stderr
    after = ceph(cluster_conf, "osd", "dump", "-f", "json").stdout
    assert json.loads(before)["epoch"] == json.loads(after)["epoch"]


def test_pool_delete_needs_confirmation(cluster_conf, pool):
    res = ceph(cluster_conf, "osd", "pool", "delete", pool)
    assert res.returncode == 1  # EPERM
    assert res.stderr.startswith("Error EPERM:")
    res = ceph(cluster_conf, "osd", "pool", "delete", pool, pool)
    assert res.returncode == 1
    assert "--yes-i-really-really-mean-it" in res.stderr
    pools = ceph(cluster_conf, "osd", "pool", "ls").stdout.split()
    assert pool in pools


def test_unknown_pool_is_enoent(cluster_conf):
    res = ceph(cluster_conf, "osd", "pool", "get", "no_such_pool", "size")
    assert res.returncode == 2
    assert res.stderr.strip() == "Error ENOENT: unrecognized pool 'no_such_pool'"


def test_bad_pool_name_is_rejected(cluster_conf):
    res = ceph(cluster_conf, "osd", "pool", "create", "")
    assert res.returncode == 22
    assert res.stderr.strip() == "Error EINVAL: (22) Invalid argument"


def test_missing_conf(tmp_path):
    res = ceph(str(tmp_path / "nope.conf"), "-s")
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "Error initializing cluster client: "
        "ObjectNotFound('RADOS object not found (error calling conf_read_file)')"
    )


def test_wrong_key_is_permission_denied(cluster_conf, tmp_path):
    from pyceph.common.keyring import Keyring, generate_secret

    kr = Keyring()
    kr.add("client.admin", generate_secret())
    path = tmp_path / "wrong.keyring"
    kr.save(str(path))
    res = ceph(cluster_conf, "-s", keyring=str(path))
    assert res.returncode != 0
    assert "permission denied" in res.stderr.lower() or "errno 13" in res.stderr


def test_tell_osd_bench_answers_as_upstream(cluster_conf):
    r = ceph(cluster_conf, "tell", "osd.0", "bench", str(8 << 20), str(1 << 20), "-f", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == ["bytes_written", "blocksize", "elapsed_sec", "bytes_per_sec", "iops"]
    assert out["bytes_written"] == 8 << 20 and out["blocksize"] == 1 << 20
    assert out["bytes_per_sec"] > 0 and out["iops"] == pytest.approx(
        out["bytes_per_sec"] / (1 << 20)
    )


@pytest.mark.parametrize(
    "args, errno_name, text",
    [
        (["osd.0", "bench", "1", str((64 << 20) + 1)], "EINVAL", "osd_bench_max_block_size"),
        (["osd.0", "bench", str(12288001), "4096"], "EINVAL", "osd_bench_small_size_max_iops"),
        (["osd.0", "bench", str(3145728001)], "EINVAL", "osd_bench_large_size_max_throughput"),
        (["osd.0", "bench", "x"], "EINVAL", "invalid command"),
        (["osd.99", "version"], "ENOENT", "problem getting command descriptions from osd.99"),
        (["foo", "version"], "EINVAL", "target foo doesn't exist"),
    ],
)
def test_tell_bad_input_gets_upstream_errors(cluster_conf, args, errno_name, text):
    r = ceph(cluster_conf, "tell", *args)
    assert r.returncode == getattr(__import__("errno"), errno_name), r.stderr
    assert f"Error {errno_name}" in r.stderr and text in r.stderr


def test_tell_mon_and_osd_version(cluster_conf):
    for target in ("mon.a", "osd.1"):
        r = ceph(cluster_conf, "tell", target, "version", "-f", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["release"] == "pacific"


def test_pg_query_goes_to_the_primary(cluster_conf, pool):
    """`ceph pg <pgid> query` and `ceph tell <pgid> query` (upstream ceph.in routes both
    to the PG's primary OSD) answer with the PG's state; an unknown PG is ENOENT."""
    pool_id = json.loads(ceph(cluster_conf, "osd", "pool", "ls", "detail", "-f", "json").stdout)
    pgid = f"{next(p['pool_id'] for p in pool_id if p['pool_name'] == pool)}.0"
    acting = json.loads(ceph(cluster_conf, "pg", "map", pgid, "-f", "json").stdout)["acting"]
    for args in (["pg", pgid, "query"], ["tell", pgid, "query"]):
        r = ceph(cluster_conf, *args, "-f", "json")
        assert r.returncode == 0, r.stderr
        q = json.loads(r.stdout)
        assert q["info"]["pgid"] == pgid and q["acting"] == acting, q
    r = ceph(cluster_conf, "pg", f"{pgid.split('.')[0]}.999", "query")
    assert r.returncode == errno.ENOENT, r.stderr


def test_osd_perf_reports_each_osds_store_commit_latency(cluster_conf, pool):
    """`ceph osd perf`: the OSDs time their store commits (upstream objectstore_perf_stat_t)
    and after writes some OSD reports a latency above zero."""

    with rados.Rados(conffile=cluster_conf) as r, r.open_ioctx(pool) as io:
        for i in range(20):
            io.write_full(f"perf-{i}", b"x" * 4096)

        def infos() -> list[dict[str, Any]]:
            res = ceph(cluster_conf, "osd", "perf", "-f", "json")
            assert res.returncode == 0, res.stderr
            return json.loads(res.stdout)["osd_perf_infos"]

        wait_until(lambda: any(i["perf_stats"]["commit_latency_ns"] > 0 for i in infos()),
                   "a commit latency reported", 30)  # fmt: skip
    got = infos()
    assert sorted(i["id"] for i in got) == [0, 1, 2]
    res = ceph(cluster_conf, "osd", "perf")
    assert res.stdout.splitlines()[0].split() == ["osd", "commit_latency(ms)", "apply_latency(ms)"]
