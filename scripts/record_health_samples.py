#!/usr/bin/env python3
"""Record `ceph health detail`, `ceph -s` and `ceph pg stat` in each failure state.

Issue 9 asks for health texts and JSON compared with the reference cluster brought to the
same state. This script brings a cluster (the reference Ceph 16.2.15 started with
`../shared/tools/refceph/start.sh`, or pyceph with `--pyceph`) through a fixed sequence of
states with ordinary commands and writes, per state, five files into OUT:

    <state>.health-detail.txt   ceph health detail
    <state>.health-detail.json  ceph health detail -f json
    <state>.status.txt          ceph -s
    <state>.status.json         ceph -s -f json
    <state>.pg-stat.txt         ceph pg stat

Each state is recorded once it is stable and the PGs stuck in it are reported as stuck
(upstream counts undersized and inactive PGs only after `mon_pg_stuck_threshold`, 60 s).

States (one cluster, 3 OSDs, pool `hp` size 3 min_size 2 with a few objects; osd.2 is
moved into a crush host of its own, `hostb`, so that stopping it takes a whole host down):

    ok              every PG active+clean
    host_down       osd.2 stopped: OSD_DOWN, OSD_HOST_DOWN, PG_DEGRADED
    pg_inactive     osd.1 stopped too (2 of 3): PG_AVAILABILITY (PGs below min_size)
    osd_down        osd.2 restarted, osd.1 still down: OSD_DOWN, PG_DEGRADED
    scrub_errors    osd.1's copy of an object altered while it was stopped
                    (ceph-objectstore-tool set-bytes on the reference, the LMDB store on
                    pyceph), all up again, `ceph pg deep-scrub`: OSD_SCRUB_ERRORS,
                    PG_DAMAGED (then `ceph pg repair`)
    misplaced       PG logs shortened, pool size 2, many `rados bench` writes,
                    `mon_warn_on_misplaced` on (off by default), `nobackfill` set,
                    `osd out 2`: OBJECT_MISPLACED (pyceph: recorded only if it
                    reports misplaced objects)

Usage (from the repository root; the reference is stopped at the end):

    PATH=/usr/bin:$PATH python3 scripts/record_health_samples.py \\
        --dir /tmp/refceph-health --out tests/unit/data/health
    python scripts/record_health_samples.py --pyceph --dir /tmp/pyc-health --out /tmp/h

`tests/integration/test_health_states.py` brings pyceph to the same states and compares
with what this wrote. Not run in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def refceph_dir() -> str:
    """`../shared/tools/refceph` beside the repository (for a git worktree: beside the main
    checkout, found through git's common directory)."""
    here = os.path.join(REPO, "..", "shared", "tools", "refceph")
    if os.path.isdir(here):
        return here
    common = subprocess.run(
        ["git", "-C", REPO, "rev-parse", "--path-format=absolute", "--git-common-dir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return os.path.join(os.path.dirname(common), "..", "shared", "tools", "refceph")


POOL = "hp"
#: Objects written before the failures (enough that every PG holds some).
NUM_OBJECTS = 40
#: The OSD whose replica of one object is altered for the scrub-error state.
ROT_OSD = 1
#: PG log length for the misplaced state, and the options that set it.
PG_LOG_ENTRIES = 10
PG_LOG_OPTIONS = ("osd_min_pg_log_entries", "osd_max_pg_log_entries", "osd_pg_log_trim_min")
#: Seconds of `rados bench` writes before the misplaced state.
BENCH_SECONDS = 5
#: Bound on each wait for the cluster to reach a state.
STATE_TIMEOUT = 300.0
#: Pause between polls of the cluster.
POLL = 1.0
#: The state must look the same this many polls in a row before it is recorded.
STABLE_POLLS = 3
TRANSIENT = ("peering", "activating", "unknown", "creating", "stale", "scrubbing", "recovering")
#: Mon ports for the reference (away from the default 3300/6789 other clusters may use).
REF_MON_PORT, REF_MON_V1_PORT = "3316", "6716"


class Cluster:
    """The few operations the script needs; one subclass per kind of cluster."""

    conf: str
    ceph_cmd: list[str]

    def ceph(self, *args: str, check: bool = True) -> str:
        p = subprocess.run(
            [*self.ceph_cmd, "-c", self.conf, *args], capture_output=True, text=True, timeout=120
        )
        if check and p.returncode != 0:
            raise RuntimeError(f"ceph {' '.join(args)}: {p.returncode} {p.stderr}")
        return p.stdout

    def cj(self, *args: str) -> Any:
        return json.loads(self.ceph(*args, "-f", "json"))

    def stop_osd(self, i: int) -> None:
        raise NotImplementedError

    def start_osd(self, i: int) -> None:
        raise NotImplementedError

    def rot_replica(self, i: int, pgid: str, obj: str) -> None:
        """Change OSD i's copy of `obj` while OSD i is stopped."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class RefCluster(Cluster):
    def __init__(self, path: str) -> None:
        env = {
            **os.environ,
            "REFCEPH_FRESH": "1",
            "REFCEPH_MON_PORT": REF_MON_PORT,
            "REFCEPH_MON_V1_PORT": REF_MON_V1_PORT,
        }
        out = subprocess.run(
            [os.path.join(refceph_dir(), "start.sh"), path, "3"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        ).stdout
        self.path = path
        self.conf = out.strip().splitlines()[-1]
        self.ceph_cmd = ["ceph"]

    def _pid(self, i: int) -> int:
        with open(os.path.join(self.path, "run", f"osd.{i}.pid")) as f:
            return int(f.read().strip())

    def stop_osd(self, i: int) -> None:
        pid = self._pid(i)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.2)

    def start_osd(self, i: int) -> None:
        subprocess.run(["ceph-osd", "-c", self.conf, "-i", str(i)], check=True, timeout=120)

    def rot_replica(self, i: int, pgid: str, obj: str) -> None:
        tool = [
            "ceph-objectstore-tool",
            "--no-mon-config",
            "--data-path",
            os.path.join(self.path, "osd", str(i)),
        ]
        env = {**os.environ, "CEPH_CONF": self.conf}
        spec = subprocess.run(
            [*tool, "--pgid", pgid, "--op", "list", obj],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout.strip()
        subprocess.run(
            [*tool, "--pgid", pgid, spec, "set-bytes"],
            input=b"rotten bytes\n",
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def close(self) -> None:
        subprocess.run([os.path.join(refceph_dir(), "stop.sh"), self.path, "--wipe"], check=False)


class PycephCluster(Cluster):
    def __init__(self, path: str) -> None:
        sys.path.insert(0, REPO)
        from tests.conftest import FAST_OPTIONS

        from pyceph.cli.localcluster import LocalCluster

        self.lc = LocalCluster(path)
        self.lc.create(num_osds=3, overrides=dict(FAST_OPTIONS))
        self.lc.start()
        self.lc.wait_ready()
        self.conf = self.lc.conf_path
        self.ceph_cmd = [sys.executable, "-m", "pyceph.cli.ceph_main"]

    def stop_osd(self, i: int) -> None:
        self.lc.stop([f"osd.{i}"])

    def start_osd(self, i: int) -> None:
        self.lc.start([f"osd.{i}"])

    def rot_replica(self, i: int, pgid: str, obj: str) -> None:
        from tests.integration.test_scrub_daemons import rot_lmdb

        rot_lmdb(os.path.join(self.lc.path, f"osd.{i}", "store"), payload(obj))

    def close(self) -> None:
        self.lc.stop()


def payload(name: str) -> bytes:
    return (name + "-payload-").encode() * 32


def wait(c: Cluster, pred: Callable[[dict, dict], bool], what: str) -> None:
    """Until `pred(status, health)` holds STABLE_POLLS polls in a row with no PG in flux."""
    deadline = time.monotonic() + STATE_TIMEOUT
    good = 0
    while time.monotonic() < deadline:
        st = c.cj("status")
        h = c.cj("health", "detail")
        states = [s["state_name"] for s in st["pgmap"].get("pgs_by_state", [])]
        settled = not any(t in s for s in states for t in TRANSIENT)
        good = good + 1 if settled and pred(st, h) else 0
        if good >= STABLE_POLLS:
            return
        time.sleep(POLL)
    raise TimeoutError(f"{what}: {c.ceph('health', 'detail')}")


def record(c: Cluster, out: str, state: str) -> None:
    files = {
        "health-detail.txt": ("health", "detail"),
        "health-detail.json": ("health", "detail", "-f", "json"),
        "status.txt": ("-s",),
        "status.json": ("-s", "-f", "json"),
        "pg-stat.txt": ("pg", "stat"),
    }
    for suffix, args in files.items():
        text = c.ceph(*args)
        if suffix.endswith(".json"):
            text = json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
        with open(os.path.join(out, f"{state}.{suffix}"), "w") as f:
            f.write(text)
    print(f"recorded {state}: {c.ceph('health').strip()}", file=sys.stderr)


def codes(h: dict) -> set[str]:
    return set(h.get("checks", {}))


def stuck(h: dict, code: str) -> bool:
    """The check is raised and all its PGs are reported stuck (upstream counts undersized
    and inactive PGs only once stuck for `mon_pg_stuck_threshold`), so the sample does not
    depend on timing."""
    c = h.get("checks", {}).get(code)
    return bool(c) and all(" is stuck " in d["message"] for d in c["detail"])


def osd_down(c: Cluster, i: int) -> None:
    c.stop_osd(i)
    c.ceph("osd", "down", str(i), check=False)


def run(c: Cluster, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    c.ceph("osd", "pool", "create", POOL, "8", "8", "replicated")
    c.ceph("osd", "pool", "set", POOL, "pg_autoscale_mode", "off", check=False)
    c.ceph("osd", "pool", "set", POOL, "min_size", "2")
    c.ceph("osd", "pool", "application", "enable", POOL, "rados")
    weight = next(n["crush_weight"] for n in c.cj("osd", "tree")["nodes"] if n["id"] == 2)
    c.ceph("osd", "crush", "add-bucket", "hostb", "host", "root=default")
    c.ceph("osd", "crush", "set", "osd.2", str(weight), "root=default", "host=hostb")
    for n in range(NUM_OBJECTS):
        put(c, f"obj-{n}", payload(f"obj-{n}"))
    wait(c, lambda st, h: h["status"] == "HEALTH_OK", "ok")
    record(c, out, "ok")
    rot = rot_target(c)

    osd_down(c, 2)
    wait(c, lambda st, h: "OSD_HOST_DOWN" in codes(h) and stuck(h, "PG_DEGRADED"), "host_down")
    record(c, out, "host_down")

    osd_down(c, 1)
    wait(c, lambda st, h: stuck(h, "PG_AVAILABILITY"), "pg_inactive")
    record(c, out, "pg_inactive")

    c.start_osd(2)
    wait(
        c,
        lambda st, h: (
            "OSD_HOST_DOWN" not in codes(h)
            and "PG_AVAILABILITY" not in codes(h)
            and stuck(h, "PG_DEGRADED")
        ),
        "osd_down",
    )
    record(c, out, "osd_down")

    # while osd.1 is stopped: alter its copy of an object it holds as a replica
    obj, pgid = rot
    c.rot_replica(ROT_OSD, pgid, obj)
    c.start_osd(1)
    wait(c, lambda st, h: h["status"] == "HEALTH_OK", "all up again")

    c.ceph("pg", "deep-scrub", pgid)
    wait(c, lambda st, h: {"OSD_SCRUB_ERRORS", "PG_DAMAGED"} <= codes(h), "scrub_errors")
    record(c, out, "scrub_errors")
    c.ceph("pg", "repair", pgid)
    wait(c, lambda st, h: h["status"] == "HEALTH_OK", "repaired")

    # short PG logs and many writes: a remapped PG must backfill (log recovery would not
    # leave misplaced objects), and `nobackfill` keeps it from doing so
    for opt in PG_LOG_OPTIONS:
        c.ceph("config", "set", "osd", opt, str(PG_LOG_ENTRIES))
    c.ceph("osd", "pool", "set", POOL, "size", "2")
    bench(c)
    wait(c, lambda st, h: h["status"] == "HEALTH_OK", "size 2")
    c.ceph("config", "set", "global", "mon_warn_on_misplaced", "true")  # default off
    c.ceph("osd", "set", "nobackfill")
    c.ceph("osd", "out", "2")
    try:
        wait(c, lambda st, h: "OBJECT_MISPLACED" in codes(h), "misplaced")
    except TimeoutError:
        if isinstance(c, RefCluster):
            raise
        print("no misplaced objects reported: no misplaced sample", file=sys.stderr)
        return
    record(c, out, "misplaced")


def rot_target(c: Cluster) -> tuple[str, str]:
    """(object, pgid) of the first object ROT_OSD holds as a replica, not as primary."""
    for n in range(NUM_OBJECTS):
        m = c.cj("osd", "map", POOL, f"obj-{n}")
        if ROT_OSD in m["up"][1:]:
            return f"obj-{n}", m["pgid"]
    raise RuntimeError(f"osd.{ROT_OSD} is a replica of no object")


def bench(c: Cluster) -> None:
    """`rados bench` writes (kept): many more log entries per PG than PG_LOG_ENTRIES."""
    subprocess.run(
        [*rados_cmd(c), "-p", POOL, "bench", str(BENCH_SECONDS), "write", "-b", "4096",
         "-t", "8", "--no-cleanup"],
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip


def rados_cmd(c: Cluster) -> list[str]:
    if isinstance(c, RefCluster):
        return ["rados", "-c", c.conf]
    return [sys.executable, "-m", "pyceph.cli.rados_main", "-c", c.conf]


def put(c: Cluster, name: str, data: bytes) -> None:
    subprocess.run(
        [*rados_cmd(c), "-p", POOL, "put", name, "-"], input=data, check=True, timeout=60
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pyceph", action="store_true", help="record pyceph instead of the reference")
    ap.add_argument("--dir", required=True, help="scratch directory for the cluster")
    ap.add_argument("--out", required=True, help="where the samples go")
    a = ap.parse_args(argv)
    c: Cluster = PycephCluster(a.dir) if a.pyceph else RefCluster(a.dir)
    try:
        run(c, a.out)
    finally:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
