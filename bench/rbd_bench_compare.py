"""`rbd bench` and a Glance add/get on pyceph and on the reference Ceph 16.2 (not a test).

Runs the same workloads on a fresh `pyceph up` cluster and on refceph (Debian's real
Ceph, started with `../shared/tools/refceph/start.sh` relative to the repository root),
one cluster at a time, each with 3 OSDs and pools of size 3:

* `rbd bench` with 16 I/Os in flight on a 1 GiB image: 4 MiB sequential write, 4 KiB
  random write, 4 KiB random read, 4 MiB sequential read (the order of refceph's own
  `bench.py`, so reads find written data) — pyceph's `rbd` CLI on pyceph, Debian's
  `/usr/bin/rbd` on the reference;
* `bench/glance_bench.py`: glance_store's add (size unknown) and get of a 100 MiB
  image — pyceph's `rados`/`rbd` modules on pyceph, Debian's python3-rados/-rbd (put
  first on PYTHONPATH from a folder of symlinks, as refceph's README says) on the
  reference; same interpreter and glance_store on both.

Prints one markdown table with both clusters' figures and the ratio pyceph/reference
(higher is better for MB/s and IOPS).

    python bench/rbd_bench_compare.py [--osds 3] [--only pyceph|refceph]
        [--io-total-4k 64M] [--io-total-4m 1G] [--glance-size 100M] [--glance-mode glance|rbd]

`bench/compare.py` runs the `rbd bench` rows with the others (medians, JSON results);
this script remains for the Glance add/get figures.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402  (a sibling module of this script, not a package)
from rados_bench_compare import (  # noqa: E402  (a sibling script, not a package)
    SYS_PATH,
    Cluster,
    PycephCluster,
    RefCluster,
    _ratio,
    _run,
)

#: refceph's scripts, Debian's bindings and the reference monitor's ports: harness's.
REFCEPH_DIR = harness.REFCEPH_DIR
DEBIAN_DIST_PACKAGES = harness.DEBIAN_DIST_PACKAGES
REF_MON_PORT, REF_MON_V1_PORT = harness.REF_MON_PORT, harness.REF_MON_V1_PORT
IMAGE = "bench-img"
IMAGE_SIZE = "1G"
POOL, GLANCE_POOL = "rbd", "images"
PG_NUM = "32"
IO_THREADS = "16"
#: Seconds one `rbd bench` run may take before the comparison gives up on it.
BENCH_TIMEOUT = 1800
#: Seconds to wait for a new pool's PGs to become active.
POOL_READY_TIMEOUT = 120

#: (label, io-type, io-size, io-pattern, which --io-total)
WORKLOADS: list[tuple[str, str, str, str, str]] = [
    ("rbd 4M seq write", "write", "4M", "seq", "4m"),
    ("rbd 4K rand write", "write", "4K", "rand", "4k"),
    ("rbd 4K rand read", "read", "4K", "rand", "4k"),
    ("rbd 4M seq read", "read", "4M", "seq", "4m"),
]
#: glance_bench phases reported (their figures are MB/s and seconds per image)
GLANCE_PHASES = ("add", "get")


@dataclass
class Figure:
    """One measurement: throughput in MB/s (10^6) and operations per second (rbd bench)
    or seconds per image (glance)."""

    mbps: float
    iops: float | None = None
    seconds: float | None = None


def parse_rbd_bench(text: str) -> Figure:
    """The closing `elapsed: .. ops: .. ops/sec: ..` line of `rbd bench` (harness's parser)."""
    r = harness.parse_rbd_bench(text)
    return Figure(mbps=r.mbps, iops=r.iops)


def _wait_pool_active(cluster: Cluster, deadline_s: float = POOL_READY_TIMEOUT) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        s = json.loads(cluster.ceph("-s", "-f", "json"))
        states = s.get("pgmap", {}).get("pgs_by_state", [])
        if states and all(st["state_name"].startswith("active") for st in states):
            return
        time.sleep(1)
    raise RuntimeError(f"[{cluster.name}] PGs not active after {deadline_s}s")


class PycephRbdCluster(PycephCluster):
    """`pyceph up`, pyceph's `rbd` CLI and pyceph's Python modules."""

    def rbd_cmd(self) -> list[str]:
        script = os.path.join(sysconfig.get_path("scripts"), "rbd")
        if os.path.exists(script) and os.path.realpath(script) != "/usr/bin/rbd":
            return [script]
        return [sys.executable, "-m", "pyceph.cli.rbd_main"]

    def rbd(self, *args: str, timeout: float = BENCH_TIMEOUT) -> str:
        return _run([*self.rbd_cmd(), "-c", self.conf, *args], timeout=timeout)

    def python_env(self, workdir: str) -> dict[str, str]:
        return dict(os.environ)


class RefRbdCluster(RefCluster):
    """refceph on its own ports, Debian's `rbd` CLI and Debian's Python bindings."""

    def _env(self) -> dict[str, str]:
        return {
            **super()._env(),
            "REFCEPH_MON_PORT": REF_MON_PORT,
            "REFCEPH_MON_V1_PORT": REF_MON_V1_PORT,
        }

    def start(self) -> None:
        out = _run([str(REFCEPH_DIR / "start.sh"), self.dir, str(self.osds)], self._env(), 900)
        self.conf = out.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(
            [str(REFCEPH_DIR / "stop.sh"), self.dir, "--wipe"],
            capture_output=True,
            env=self._env(),
            timeout=300,
        )

    def rbd(self, *args: str, timeout: float = BENCH_TIMEOUT) -> str:
        return _run(["/usr/bin/rbd", "-c", self.conf, *args], env=self._env(), timeout=timeout)

    def python_env(self, workdir: str) -> dict[str, str]:
        """PYTHONPATH led by a folder holding only Debian's rados/rbd extension modules."""
        shims = os.path.join(workdir, "debian-bindings")
        os.makedirs(shims, exist_ok=True)
        for mod in ("rados", "rbd"):
            for so in glob.glob(os.path.join(DEBIAN_DIST_PACKAGES, f"{mod}.cpython-311-*.so")):
                link = os.path.join(shims, os.path.basename(so))
                if not os.path.lexists(link):
                    os.symlink(so, link)
        env = self._env()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [shims, env.get("PYTHONPATH")]))
        return env


def measure(
    cluster: PycephRbdCluster | RefRbdCluster,
    a: argparse.Namespace,
    workdir: str,
    log: Callable[[str], None],
) -> tuple[dict[str, Figure], str]:
    """Start `cluster`, run every workload, stop it; figures by label and where the
    glance run's `rbd` module came from."""
    results: dict[str, Figure] = {}
    totals = {"4k": a.io_total_4k, "4m": a.io_total_4m}
    log(f"[{cluster.name}] starting ({cluster.dir})")
    cluster.start()
    try:
        for pool in (POOL, GLANCE_POOL):
            cluster.ceph("osd", "pool", "create", pool, PG_NUM)
            cluster.ceph("osd", "pool", "application", "enable", pool, "rbd")
        _wait_pool_active(cluster)
        cluster.rbd("create", "--size", IMAGE_SIZE, f"{POOL}/{IMAGE}")
        for label, io_type, io_size, pattern, total in WORKLOADS:
            args = ["bench", "--io-type", io_type, "--io-size", io_size]
            args += ["--io-threads", IO_THREADS, "--io-total", totals[total]]
            args += ["--io-pattern", pattern, f"{POOL}/{IMAGE}"]
            log(f"[{cluster.name}] rbd {' '.join(args)}")
            results[label] = parse_rbd_bench(cluster.rbd(*args))
            log(f"[{cluster.name}]   {label}: {results[label]}")
        cmd = [sys.executable, str(BENCH_DIR / "glance_bench.py"), cluster.conf, GLANCE_POOL]
        cmd += ["--size", a.glance_size, "--mode", a.glance_mode, "--reps", str(a.glance_reps)]
        log(f"[{cluster.name}] {' '.join(cmd[1:])}")
        g = json.loads(_run(cmd, env=cluster.python_env(workdir), timeout=BENCH_TIMEOUT))
        log(f"[{cluster.name}]   glance: {g}")
        for phase in GLANCE_PHASES:
            label = f"glance {phase} {a.glance_size} ({a.glance_mode} path)"
            results[label] = Figure(mbps=g[phase]["MBps"], seconds=g[phase]["seconds"])
    finally:
        log(f"[{cluster.name}] stopping")
        cluster.stop()
    return results, str(g["rbd"])


def _cell(p: float | None, r: float | None, fmt: str) -> tuple[str, str, str]:
    if p is None or r is None:
        return "-", "-", "-"
    return format(p, fmt), format(r, fmt), _ratio(p, r)


def report(py: dict[str, Figure], ref: dict[str, Figure]) -> str:
    """A markdown table of both clusters' figures with the ratios pyceph/reference
    (for seconds, reference/pyceph: above 1 means pyceph is faster everywhere)."""
    rows = [
        "| bench | pyceph MB/s | ref MB/s | ratio | pyceph IOPS | ref IOPS | ratio"
        " | pyceph s | ref s | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, p in py.items():
        r = ref.get(label)
        if r is None:
            continue
        mb = _cell(p.mbps, r.mbps, ".2f")
        io = _cell(p.iops, r.iops, ".1f")
        secs = _cell(p.seconds, r.seconds, ".2f")
        if p.seconds and r.seconds:
            secs = (secs[0], secs[1], _ratio(r.seconds, p.seconds))
        rows.append(f"| {label} | {' | '.join((*mb, *io, *secs))} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osds", type=int, default=3)
    ap.add_argument("--only", choices=["pyceph", "refceph"])
    ap.add_argument("--io-total-4k", default="64M", help="--io-total of the 4 KiB runs")
    ap.add_argument("--io-total-4m", default="1G", help="--io-total of the 4 MiB runs")
    ap.add_argument("--glance-size", default="100M")
    ap.add_argument("--glance-reps", type=int, default=3)
    ap.add_argument("--glance-mode", choices=["glance", "rbd"], default="glance")
    ap.add_argument("--workdir", help="where the clusters live (default: a temp dir)")
    ap.add_argument("--json", help="also write the raw figures to this file")
    a = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if not shutil.which("ceph-mon", path=SYS_PATH) and a.only != "pyceph":
        log("the reference cluster is not installed (no ceph-mon): see refceph's README")
        return 2
    workdir = a.workdir or tempfile.mkdtemp(prefix="rbd-bench-cmp-")
    results: dict[str, dict[str, Figure]] = {}
    modules: dict[str, str] = {}
    try:
        # one cluster at a time: both compete for the same two cores and disk
        kinds: list[type[PycephRbdCluster] | type[RefRbdCluster]] = [
            PycephRbdCluster,
            RefRbdCluster,
        ]
        for kind in kinds:
            if a.only and kind.name != a.only:
                continue
            results[kind.name], modules[kind.name] = measure(kind(workdir, a.osds), a, workdir, log)
    finally:
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    log(f"rbd module used by glance_bench: {modules}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({k: {w: vars(r) for w, r in v.items()} for k, v in results.items()}, f)
    if "pyceph" in results and "refceph" in results:
        print(report(results["pyceph"], results["refceph"]))
    else:
        for name, res in results.items():
            for label, r in res.items():
                print(f"{name} {label}: {r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
