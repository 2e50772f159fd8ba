"""`rados bench` in `secure` against `crc` connection mode, on pyceph and on the
reference Ceph 16.2 cluster (a benchmark, not a test).

For each mode (every `ms_*_mode` option set to it, daemons and clients alike), a fresh
cluster of each kind runs 4 KiB and 4 MiB writes then sequential reads (16 in flight);
the script prints each figure, the secure/crc ratio per cluster, and pyceph/reference
per mode, and writes everything as JSON. Run it briefly: the machine is shared.

    python bench/secure_bench.py [--seconds 3] [--osds 2] [--only pyceph|refceph]
        [--json bench/results/secure_bench.json]

The reference cluster comes from shared/tools/refceph/ beside the repository
(`start.sh`); its modes are written into its ceph.conf and its daemons restarted.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rados_bench_compare  # noqa: E402  (a script beside this one)
from rados_bench_compare import (  # noqa: E402
    Cluster,
    RefCluster,
    Result,
    _run,
    parse_bench,
)

MODES = ("crc", "secure")
MODE_OPTIONS = (
    "ms_cluster_mode",
    "ms_service_mode",
    "ms_client_mode",
    "ms_mon_cluster_mode",
    "ms_mon_service_mode",
    "ms_mon_client_mode",
)
#: (label, rados bench arguments after the pool, cleanup afterwards)
WORKLOADS: list[tuple[str, list[str], bool]] = [
    ("4K write", ["write", "-t", "16", "-b", "4096", "--no-cleanup"], False),
    ("4K seq", ["seq", "-t", "16"], True),
    ("4M write", ["write", "-t", "16", "--no-cleanup"], False),
    ("4M seq", ["seq", "-t", "16"], True),
]
#: Pause after creating the pool, so its PGs are active before the first op.
POOL_SETTLE = 2.0


class PycephModeCluster(Cluster):
    """A pyceph cluster (LocalCluster, as `pyceph up` makes) with its modes set."""

    name = "pyceph"

    def __init__(self, workdir: str, osds: int, mode: str) -> None:
        super().__init__(workdir, osds)
        self.dir = os.path.join(workdir, f"pyceph-{mode}")
        self.mode = mode
        self._lc = None

    def start(self) -> None:
        from pyceph.cli.localcluster import LocalCluster

        lc = LocalCluster(self.dir)
        lc.create(num_osds=self.osds, overrides={o: self.mode for o in MODE_OPTIONS})
        lc.start()
        lc.wait_ready()
        self._lc = lc
        self.conf = lc.conf_path

    def stop(self) -> None:
        if self._lc is not None:
            self._lc.stop()

    def ceph(self, *args: str) -> str:
        return _run([sys.executable, "-m", "pyceph.cli.ceph_main", "-c", self.conf, *args])

    def rados(self, *args: str) -> str:
        return _run([sys.executable, "-m", "pyceph.cli.rados_main", "-c", self.conf, *args])


#: Monitor ports of the reference cluster the bench makes (override with --ref-mon-port):
#: off the defaults, so an engineer's own reference cluster on 3300/6789 is left alone.
REF_MON_PORT = 3320
#: The msgr1 port beside it (the start script takes both).
REF_MON_V1_PORT = 6788


class RefModeCluster(RefCluster):
    """The reference cluster, restarted with its modes written into [global]."""

    mon_port = REF_MON_PORT
    mon_v1_port = REF_MON_V1_PORT

    def __init__(self, workdir: str, osds: int, mode: str) -> None:
        super().__init__(workdir, osds)
        self.dir = os.path.join(workdir, f"refceph-{mode}")
        self.mode = mode

    def _env(self) -> dict[str, str]:
        # Debian's ceph/rados are python: pyceph's rados on PYTHONPATH would shadow theirs
        env = {k: v for k, v in super()._env().items() if k != "PYTHONPATH"}
        env["REFCEPH_MON_PORT"] = str(self.mon_port)
        env["REFCEPH_MON_V1_PORT"] = str(self.mon_v1_port)
        return env

    def start(self) -> None:
        super().start()
        with open(self.conf) as f:
            text = f.read()
        lines = "".join(f"{o.replace('_', ' ')} = {self.mode}\n" for o in MODE_OPTIONS)
        text = text.replace("[global]\n", "[global]\n" + lines, 1)
        with open(self.conf, "w") as f:
            f.write(text)
        env = {k: v for k, v in self._env().items() if k != "REFCEPH_FRESH"}
        ref = rados_bench_compare.REFCEPH
        _run([f"{ref}/stop.sh", self.dir], env=env, timeout=300)
        out = _run([f"{ref}/start.sh", self.dir, str(self.osds)], env=env, timeout=600)
        self.conf = out.strip().splitlines()[-1]


def measure(cluster: Cluster, seconds: int, log: Callable[[str], None]) -> dict[str, Result]:
    """Start `cluster`, run the workloads, stop it; results by workload label."""
    results: dict[str, Result] = {}
    log(f"[{cluster.dir}] starting")
    cluster.start()
    try:
        cluster.ceph("osd", "pool", "create", "bench", "16")
        time.sleep(POOL_SETTLE)
        for label, args, cleanup in WORKLOADS:
            out = cluster.rados("-p", "bench", "bench", str(seconds), *args)
            results[label] = parse_bench(out)
            log(f"[{cluster.dir}]   {label}: {results[label]}")
            if cleanup:
                cluster.rados("-p", "bench", "cleanup")
    finally:
        log(f"[{cluster.dir}] stopping")
        cluster.stop()
    return results


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def report(results: dict[str, dict[str, dict[str, Result]]]) -> str:
    """A markdown table: MB/s and IOPS per cluster and mode, secure/crc and pyceph/ref."""
    rows = [
        "| bench | cluster | crc MB/s | secure MB/s | secure/crc | crc IOPS | secure IOPS |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, _a, _c in WORKLOADS:
        for kind, by_mode in results.items():
            c, s = by_mode.get("crc", {}).get(label), by_mode.get("secure", {}).get(label)
            if c is None or s is None:
                continue
            rows.append(
                f"| rados {label} | {kind} | {c.mbps:.2f} | {s.mbps:.2f} | "
                f"{_ratio(s.mbps, c.mbps)} | {c.iops:.0f} | {s.iops:.0f} |"
            )
    if "pyceph" in results and "refceph" in results:
        rows += ["", "| bench | mode | pyceph/ref MB/s |", "|---|---|---|"]
        for label, _a, _c in WORKLOADS:
            for mode in MODES:
                p = results["pyceph"].get(mode, {}).get(label)
                r = results["refceph"].get(mode, {}).get(label)
                if p and r:
                    rows.append(f"| rados {label} | {mode} | {_ratio(p.mbps, r.mbps)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--osds", type=int, default=2)
    ap.add_argument("--only", choices=["pyceph", "refceph"])
    ap.add_argument("--workdir", help="where the clusters live (default: a temp dir)")
    ap.add_argument("--json", default="bench/results/secure_bench.json")
    ap.add_argument(
        "--refceph",
        default=rados_bench_compare.REFCEPH,
        help="refceph's scripts (default: shared/tools/refceph beside the repository; "
        "from a git worktree pass the main checkout's)",
    )
    ap.add_argument("--ref-mon-port", type=int, default=REF_MON_PORT)
    ap.add_argument("--ref-mon-v1-port", type=int, default=REF_MON_V1_PORT)
    a = ap.parse_args(argv)
    RefModeCluster.mon_port, RefModeCluster.mon_v1_port = a.ref_mon_port, a.ref_mon_v1_port
    rados_bench_compare.REFCEPH = a.refceph

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    workdir = a.workdir or tempfile.mkdtemp(prefix="secure-bench-")
    results: dict[str, dict[str, dict[str, Result]]] = {}
    kinds: list[tuple[str, type]] = [("pyceph", PycephModeCluster), ("refceph", RefModeCluster)]
    try:
        # one cluster at a time: they compete for the same cores and disk
        for name, kind in kinds:
            if a.only and name != a.only:
                continue
            for mode in MODES:
                try:
                    res = measure(kind(workdir, a.osds, mode), a.seconds, log)
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    log(f"[{name} {mode}] failed: {e}")
                    continue
                results.setdefault(name, {})[mode] = res
    finally:
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(
            {k: {m: {w: vars(r) for w, r in v.items()} for m, v in by.items()}
             for k, by in results.items()},
            f, indent=2,
        )  # fmt: skip
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
