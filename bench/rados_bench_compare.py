"""`rados bench` on a pyceph cluster and on the reference Ceph 16.2 cluster (not a test).

Runs the same workloads (4 MiB and 4 KiB writes, then sequential reads, 16 ops in
flight) on a fresh `pyceph up` cluster and on refceph (Debian's real Ceph, started
with shared/tools/refceph/start.sh), one cluster at a time, parses both tools' output
and prints each figure with the ratio pyceph/reference.

    python bench/rados_bench_compare.py [--seconds 20] [--osds 3] [--only pyceph|refceph]

`bench/compare.py` supersedes it (every row, medians of several runs, JSON results); this
script stays for the benchmarks built on its classes (`secure_bench.py`) and takes its
paths, parser and command runner from `bench/harness.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402  (a sibling module of this script, not a package)

#: The reference cluster's scripts, in shared/ beside the repository.
REFCEPH = str(harness.REFCEPH_DIR)
SYS_PATH = harness.SYS_PATH  # Debian's ceph/rados ahead of pyceph's scripts

#: (label, rados bench arguments after the pool, cleanup afterwards)
WORKLOADS: list[tuple[str, list[str], bool]] = [
    ("4M write", ["write", "-t", "16", "--no-cleanup"], False),
    ("4M seq", ["seq", "-t", "16"], True),
    ("4K write", ["write", "-t", "16", "-b", "4096", "--no-cleanup"], False),
    ("4K seq", ["seq", "-t", "16"], True),
]


@dataclass
class Result:
    mbps: float
    iops: float
    lat: float
    ops: int


def parse_bench(text: str) -> Result:
    """The summary figures of one `rados bench` output (`harness.parse_rados_bench`)."""
    r = harness.parse_rados_bench(text)
    return Result(r.mbps, r.iops, r.lat or 0.0, r.ops)


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> str:
    return harness.run(cmd, env, timeout)


class Cluster:
    """How to start, drive and stop one kind of cluster."""

    name = ""

    def __init__(self, workdir: str, osds: int) -> None:
        self.dir = os.path.join(workdir, self.name)
        self.osds = osds
        self.conf = ""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def ceph(self, *args: str) -> str:
        raise NotImplementedError

    def rados(self, *args: str) -> str:
        raise NotImplementedError


class PycephCluster(Cluster):
    name = "pyceph"

    def start(self) -> None:
        out = _run(["pyceph", "up", self.dir], timeout=300)
        self.conf = out.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(["pyceph", "down", self.dir], capture_output=True, timeout=120)

    def ceph(self, *args: str) -> str:
        return _run([sys.executable, "-m", "pyceph.cli.ceph_main", "-c", self.conf, *args])

    def rados(self, *args: str) -> str:
        return _run([sys.executable, "-m", "pyceph.cli.rados_main", "-c", self.conf, *args])


class RefCluster(Cluster):
    name = "refceph"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": SYS_PATH + ":" + os.environ.get("PATH", ""),
            "REFCEPH_FRESH": "1",
        }

    def start(self) -> None:
        out = _run([f"{REFCEPH}/start.sh", self.dir, str(self.osds)], env=self._env(), timeout=600)
        self.conf = out.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(
            [f"{REFCEPH}/stop.sh", self.dir, "--wipe"],
            capture_output=True,
            env=self._env(),
            timeout=300,
        )

    def ceph(self, *args: str) -> str:
        return _run(["/usr/bin/ceph", "-c", self.conf, *args], env=self._env())

    def rados(self, *args: str) -> str:
        return _run(["/usr/bin/rados", "-c", self.conf, *args], env=self._env())


def measure(cluster: Cluster, seconds: int, log: Callable[[str], None]) -> dict[str, Result]:
    """Start `cluster`, run the workloads, stop it; results by workload label."""
    results: dict[str, Result] = {}
    log(f"[{cluster.name}] starting ({cluster.dir})")
    cluster.start()
    try:
        pool = "bench"
        cluster.ceph("osd", "pool", "create", pool, "32")
        time.sleep(2)
        for label, args, cleanup in WORKLOADS:
            log(f"[{cluster.name}] rados bench {seconds} {' '.join(args)}")
            out = cluster.rados("-p", pool, "bench", str(seconds), *args)
            results[label] = parse_bench(out)
            log(f"[{cluster.name}]   {label}: {results[label]}")
            if cleanup:
                cluster.rados("-p", pool, "cleanup")
    finally:
        log(f"[{cluster.name}] stopping")
        cluster.stop()
    return results


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def report(py: dict[str, Result], ref: dict[str, Result]) -> str:
    """A markdown table of both clusters' figures with the ratios pyceph/reference."""
    rows = [
        "| bench | pyceph MB/s | ref MB/s | ratio | pyceph IOPS | ref IOPS | ratio"
        " | pyceph lat ms | ref lat ms | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, _args, _c in WORKLOADS:
        p, r = py.get(label), ref.get(label)
        if p is None or r is None:
            continue
        rows.append(
            f"| rados {label} | {p.mbps:.2f} | {r.mbps:.2f} | {_ratio(p.mbps, r.mbps)}"
            f" | {p.iops:.0f} | {r.iops:.0f} | {_ratio(p.iops, r.iops)}"
            f" | {p.lat * 1000:.2f} | {r.lat * 1000:.2f} | {_ratio(p.lat, r.lat)} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--osds", type=int, default=3)
    ap.add_argument("--only", choices=["pyceph", "refceph"])
    ap.add_argument("--workdir", help="where the clusters live (default: a temp dir)")
    ap.add_argument("--json", help="also write the raw figures to this file")
    a = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    workdir = a.workdir or tempfile.mkdtemp(prefix="rados-bench-cmp-")
    results: dict[str, dict[str, Result]] = {}
    try:
        # one cluster at a time: both compete for the same cores and disk
        kinds: list[type[Cluster]] = [PycephCluster, RefCluster]
        for kind in kinds:
            if a.only and kind.name != a.only:
                continue
            results[kind.name] = measure(kind(workdir, a.osds), a.seconds, log)
    finally:
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {k: {w: vars(r) for w, r in v.items()} for k, v in results.items()}, f, indent=2
            )
    if "pyceph" in results and "refceph" in results:
        print(report(results["pyceph"], results["refceph"]))
    else:
        for name, res in results.items():
            for label, r in res.items():
                print(f"{name} {label}: {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
