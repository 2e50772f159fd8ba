"""pyceph beside the reference Ceph 16.2 on the same machine: one table of ratios (not a test).

Starts a fresh pyceph cluster (`pyceph up`), runs the workloads, stops it; then the same
for refceph (Debian's Ceph, `../shared/tools/refceph/start.sh`), one cluster at a time
(both compete for the same cores and disk), `--runs` times, and prints, per row, each
cluster's median with its min–max and the ratio pyceph/reference:

* `rados bench` 4 MiB and 4 KiB write / seq / rand, 16 ops in flight, on pools of size 3
  and size 1 (rows `rados-4M-write-s3`, ..., `rados-4K-rand-s1`);
* `rbd bench` on a 1 GiB image in a size-3 pool, 16 in flight: 4 MiB sequential write,
  4 KiB random write, 4 KiB random read, 4 MiB sequential read (`rbd-...`);
* `qemu-img bench` 4 KiB write and read, 16 in flight, over pyceph's NBD export of an
  image in that pool (`nbd-4K-write`, `nbd-4K-read`, by `bench/nbd_bench.py`); the
  reference has no NBD server here (rbd-nbd needs the kernel's nbd), so its column holds
  its own `rbd bench` 4 KiB random write and read;
* the single-client `pybench.py` of refceph (`py-sync-write`, `py-sync-read`,
  `py-aio-write`, `py-aio-read`): the same script with pyceph's `rados` on pyceph and
  Debian's python3-rados on refceph;
* each kind of daemon's peak RSS under the 4 MiB write load (`rss-osd`, ...; its anonymous
  and file-backed parts `rss-anon-osd`, `rss-file-osd`, ...) and its CPU
  seconds per GB written in the 4 MiB and 4 KiB writes (`cpu-4M-osd`, ...);
* time from nothing to a ready cluster (`startup`: `pyceph up` vs refceph's start.sh).

Results go to `bench/results/<date>-<commit>.json` (every run's figures) so runs can be
compared over time. `--profile DIR` also records py-spy flame graphs (SVG) of pyceph's
osd.0, mon.a and the `rados bench` client during the 4 KiB and 4 MiB writes (or the rows
`--profile-rows` names, e.g. `rados-4M-seq-s3`).

    python bench/compare.py [--runs 3] [--seconds 20] [--only ROW-PREFIX ...]
        [--cluster pyceph|refceph] [--profile docs/perf] [--profile-rows ROW ...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import flamegraph  # noqa: E402  (a sibling module of this script)
from harness import (  # noqa: E402  (a sibling module of this script, not a package)
    BENCH_DIR,
    CLUSTERS,
    PYBENCH,
    REPO,
    Cluster,
    DaemonMeter,
    DaemonUsage,
    RefCluster,
    Summary,
    daemon_kind,
    parse_pybench,
    parse_rados_bench,
    parse_rbd_bench,
    run,
)

#: Ops in flight for rados bench and rbd bench (upstream's default for both).
IN_FLIGHT = "16"
PG_NUM = 32
POOL_SIZES = (3, 1)
BLOCK_SIZES = {"4M": 4 << 20, "4K": 4096}
RBD_POOL = "rbd_s3"
PY_POOL = "py_s3"
RBD_IMAGE = "bench-img"
RBD_IMAGE_SIZE = "1G"
#: (row suffix, io-type, io-size, io-pattern): refceph bench.py's order, reads after writes.
RBD_WORKLOADS = (
    ("4M-seqwrite", "write", "4M", "seq"),
    ("4K-randwrite", "write", "4K", "rand"),
    ("4K-randread", "read", "4K", "rand"),
    ("4M-seqread", "read", "4M", "seq"),
)
PY_PHASES = ("sync_write", "sync_read", "aio_write", "aio_read")
#: NBD rows and the reference's `rbd bench` row each is set beside.
NBD_ROWS = {"nbd-4K-write": "rbd-4K-randwrite", "nbd-4K-read": "rbd-4K-randread"}
#: qemu-img bench requests per NBD row.
NBD_COUNT = "20000"
#: pybench's object size and aio depth (its own defaults).
PY_SIZE, PY_INFLIGHT = "4096", "64"
DAEMON_KINDS = ("osd", "mon", "mgr")
#: py-spy's sampling rate for --profile (samples/s; low enough not to slow the daemons).
PROFILE_RATE = "100"
#: Rows --profile samples unless --profile-rows names others.
PROFILE_ROWS = ("rados-4K-write-s3", "rados-4M-write-s3")

#: Whether a row's figure is better higher (throughput) or lower (memory, CPU, time).
HIGHER, LOWER = "higher", "lower"


@dataclass
class Row:
    """One line of the table."""

    id: str
    title: str
    unit: str
    better: str


def all_rows() -> list[Row]:
    rows: list[Row] = []
    for size in POOL_SIZES:
        for bs in BLOCK_SIZES:
            for kind in ("write", "seq", "rand"):
                unit = "MB/s" if bs == "4M" else "IOPS"
                rows.append(
                    Row(f"rados-{bs}-{kind}-s{size}", f"rados bench {bs} {kind} size {size}",
                        unit, HIGHER)
                )  # fmt: skip
    for suffix, _t, size, _p in RBD_WORKLOADS:
        unit = "MB/s" if size == "4M" else "IOPS"
        rows.append(Row(f"rbd-{suffix}", f"rbd bench {suffix.replace('-', ' ')}", unit, HIGHER))
    for nbd, ref in NBD_ROWS.items():
        rows.append(Row(nbd, f"qemu-img bench over NBD 4K {nbd.rsplit('-', 1)[1]} (ref: {ref})",
                        "IOPS", HIGHER))  # fmt: skip
    for phase in PY_PHASES:
        rows.append(Row(f"py-{phase.replace('_', '-')}", f"pybench 4K {phase}", "ops/s", HIGHER))
    for kind in DAEMON_KINDS:
        rows.append(Row(f"rss-{kind}", f"peak RSS per {kind}, 4M write", "MiB", LOWER))
    for part in ("anon", "file"):
        for kind in DAEMON_KINDS:
            rows.append(Row(f"rss-{part}-{kind}", f"peak Rss{part.capitalize()} per {kind}, "
                            "4M write", "MiB", LOWER))  # fmt: skip
    for bs in BLOCK_SIZES:
        for kind in (*DAEMON_KINDS, "all"):
            rows.append(Row(f"cpu-{bs}-{kind}", f"{kind} CPU s per GB, {bs} write", "s/GB", LOWER))
    rows.append(Row("startup", "start to ready", "s", LOWER))
    return rows


def selected(rows: list[Row], only: list[str] | None) -> list[Row]:
    """Rows whose id starts with one of `only` (every row without it)."""
    if not only:
        return rows
    return [r for r in rows if any(r.id.startswith(p) for p in only)]


class Workloads:
    """Runs the selected workloads on one started cluster; figures go to `out[row id]`."""

    def __init__(
        self,
        cluster: Cluster,
        want: set[str],
        a: argparse.Namespace,
        log: Callable[[str], None],
        out: dict[str, float],
        raw: dict[str, object],
    ) -> None:
        self.c = cluster
        self.want = want
        self.a = a
        self.log = log
        self.out = out
        self.raw = raw

    def needs(self, prefix: str) -> bool:
        return any(w.startswith(prefix) for w in self.want)

    def run_all(self) -> None:
        c = self.c
        self.out["startup"] = c.start_seconds
        rados_needed = self.needs("rados-") or self.needs("rss-") or self.needs("cpu-")
        for size in POOL_SIZES:
            for bs in BLOCK_SIZES:
                if rados_needed and self._rados_group_needed(bs, size):
                    self.rados_group(bs, size)
        if self.needs("py-"):
            c.make_pool(PY_POOL, 3, PG_NUM, "rados")
            self.pybench(PY_POOL)
        if self.needs("rbd-") or self.needs("nbd-"):
            self.rbd_group()

    def _rados_group_needed(self, bs: str, size: int) -> bool:
        if any(w.startswith("rados-") and w.endswith(f"-s{size}") and f"-{bs}-" in w
               for w in self.want):  # fmt: skip
            return True
        return size == 3 and (self.needs(f"cpu-{bs}") or (bs == "4M" and self.needs("rss-")))

    def _bench(self, row: str, cmd: list[str]) -> tuple[str, dict[str, DaemonUsage]]:
        """Run one benchmark command with the daemons metered (and profiled if asked)."""
        self.log(f"[{self.c.name}] {row}: {' '.join(cmd[-12:])}")
        profile = self._profilers(row)
        if profile is not None:
            cmd = [*profile[1], *cmd]
        try:
            with DaemonMeter(self.c.pids()) as meter:
                text = run(cmd, self.c.env())
        finally:
            if profile is not None:
                for p in profile[0]:
                    p.wait()
                for raw in profile[2]:
                    if os.path.exists(raw):
                        with open(raw) as f:
                            root = flamegraph.build(f.readlines())
                        with open(raw[: -len(".txt")] + ".svg", "w") as f:
                            f.write(flamegraph.render(root, f"pyceph {os.path.basename(raw)}"))
        return text, meter.usage

    def _profilers(
        self, row: str
    ) -> tuple[list[subprocess.Popen[bytes]], list[str], list[str]] | None:
        """py-spy on osd.0 and mon.a, a command prefix that profiles the client, and the raw
        profiles they write, for the write rows of pyceph when --profile is given."""
        d = self.a.profile
        if not d or self.c.name != "pyceph" or row not in self.a.profile_rows:
            return None
        os.makedirs(d, exist_ok=True)
        tag = row.replace("rados-", "").replace("-s3", "")
        pids = self.c.pids()
        procs = []
        outs = []
        for daemon in ("osd.0", "mon.a"):
            if daemon in pids:
                out = os.path.join(d, f"{tag}-{daemon.split('.')[0]}.txt")
                outs.append(out)
                procs.append(subprocess.Popen(
                    ["py-spy", "record", "--pid", str(pids[daemon]), "-d", str(self.a.seconds),
                     "-r", PROFILE_RATE, "--nonblocking", "-f", "raw", "-o", out],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                ))  # fmt: skip
        client = os.path.join(d, f"{tag}-client.txt")
        prefix = ["py-spy", "record", "-r", PROFILE_RATE, "--nonblocking", "-f", "raw",
                  "-o", client, "--"]  # fmt: skip
        return procs, prefix, [*outs, client]

    def _account(self, row: str, usage: dict[str, DaemonUsage], nbytes: float) -> None:
        self.raw[f"{row}:daemons"] = {k: asdict(v) for k, v in usage.items()}
        gb = nbytes / 1e9
        if row.startswith("rados-") and row.endswith("-write-s3"):
            bs = row.split("-")[1]
            per_kind: dict[str, float] = {}
            for name, u in usage.items():
                kind = daemon_kind(name)
                per_kind[kind] = per_kind.get(kind, 0.0) + u.cpu_seconds
            if gb > 0:
                for kind in DAEMON_KINDS:
                    if kind in per_kind:
                        self.out[f"cpu-{bs}-{kind}"] = per_kind[kind] / gb
                self.out[f"cpu-{bs}-all"] = sum(per_kind.values()) / gb
            if bs == "4M":
                for kind in DAEMON_KINDS:
                    mine = [u for n, u in usage.items() if daemon_kind(n) == kind]
                    if mine:
                        self.out[f"rss-{kind}"] = max(u.peak_rss_mib for u in mine)
                        self.out[f"rss-anon-{kind}"] = max(u.peak_rss_anon_mib for u in mine)
                        self.out[f"rss-file-{kind}"] = max(u.peak_rss_file_mib for u in mine)

    def rados_group(self, bs: str, size: int) -> None:
        """write, then seq and rand reads of what it wrote, in a pool of their own that is
        deleted afterwards (faster than `rados cleanup`)."""
        pool, run_name = f"bench_{bs}_s{size}", f"cmp_{bs}_s{size}"
        self.c.make_pool(pool, size, PG_NUM, "rados")
        base = [*self.c.rados_cmd(), "-c", self.c.conf, "-p", pool, "bench", str(self.a.seconds)]
        tail = ["-t", IN_FLIGHT, "--run-name", run_name]
        for kind in ("write", "seq", "rand"):
            row = f"rados-{bs}-{kind}-s{size}"
            if kind != "write" and row not in self.want:
                continue
            extra = ["-b", str(BLOCK_SIZES[bs]), "--no-cleanup"] if kind == "write" else []
            text, usage = self._bench(row, [*base, kind, *tail, *extra])
            res = parse_rados_bench(text)
            self.raw[row] = asdict(res)
            self.out[row] = res.mbps if bs == "4M" else res.iops
            self._account(row, usage, res.ops * BLOCK_SIZES[bs])
        self.c.ceph("osd", "pool", "delete", pool, pool, "--yes-i-really-really-mean-it")

    def rbd_group(self) -> None:
        c = self.c
        c.make_pool(RBD_POOL, 3, PG_NUM, "rbd")
        c.rbd("create", "--size", RBD_IMAGE_SIZE, f"{RBD_POOL}/{RBD_IMAGE}")
        totals = {"4K": self.a.rbd_4k_total, "4M": self.a.rbd_4m_total}
        # a read row needs the write of its size before it (the data it reads)
        want = set(self.want)
        if self.c.name != "pyceph":  # the reference's figures for the NBD rows
            want |= {ref for nbd, ref in NBD_ROWS.items() if nbd in self.want}
        sizes_read = {size for s, t, size, _p in RBD_WORKLOADS if t == "read" and f"rbd-{s}"
                      in want}  # fmt: skip
        for suffix, io_type, io_size, pattern in RBD_WORKLOADS:
            row = f"rbd-{suffix}"
            if row not in want and not (io_type == "write" and io_size in sizes_read):
                continue
            cmd = [*c.rbd_cmd(), "-c", c.conf, "bench", "--io-type", io_type, "--io-size",
                   io_size, "--io-threads", IN_FLIGHT, "--io-total", totals[io_size],
                   "--io-pattern", pattern, f"{RBD_POOL}/{RBD_IMAGE}"]  # fmt: skip
            text, usage = self._bench(row, cmd)
            res = parse_rbd_bench(text)
            self.raw[row] = asdict(res)
            self.out[row] = res.mbps if io_size == "4M" else res.iops
            self.raw[f"{row}:daemons"] = {k: asdict(v) for k, v in usage.items()}
        if self.needs("nbd-"):
            self.nbd_rows()

    def nbd_rows(self) -> None:
        """qemu-img bench over pyceph's NBD export; on the reference, its rbd bench rows."""
        if self.c.name != "pyceph":
            for nbd, ref in NBD_ROWS.items():
                if ref in self.out:
                    self.out[nbd] = self.out[ref]
            return
        py, env = self.c.python_cmd()
        cmd = [*py, str(BENCH_DIR / "nbd_bench.py"), "--conf", self.c.conf, "--pool", RBD_POOL,
               "--count", NBD_COUNT, "--no-memory", "--json"]  # fmt: skip
        self.log(f"[{self.c.name}] nbd: {' '.join(cmd)}")
        figures = json.loads(run(cmd, env).strip().splitlines()[-1])["rbd"]
        self.raw["nbd"] = figures
        self.out["nbd-4K-write"] = float(figures["write"])
        self.out["nbd-4K-read"] = float(figures["read"])

    def pybench(self, pool: str) -> None:
        py, env = self.c.python_cmd()
        cmd = [*py, str(PYBENCH), self.c.conf, pool, str(self.a.py_ops), PY_SIZE, PY_INFLIGHT]
        self.log(f"[{self.c.name}] pybench: {' '.join(cmd)}")
        text = run(cmd, env)
        phases = parse_pybench(text)
        self.raw["pybench"] = phases
        for phase in PY_PHASES:
            if phase in phases:
                self.out[f"py-{phase.replace('_', '-')}"] = float(phases[phase]["ops_per_s"])


def measure(
    name: str, want: set[str], a: argparse.Namespace, workdir: str, log: Callable[[str], None]
) -> tuple[dict[str, float], dict[str, object]]:
    """One run on a fresh cluster of kind `name`: figures by row, and the raw results."""
    cluster = CLUSTERS[name](workdir, a.osds)
    out: dict[str, float] = {}
    raw: dict[str, object] = {}
    log(f"[{name}] starting in {cluster.dir}")
    try:
        cluster.start()
        log(f"[{name}] ready in {cluster.start_seconds:.1f}s")
        Workloads(cluster, want, a, log, out, raw).run_all()
    finally:
        log(f"[{name}] stopping")
        cluster.stop()
        shutil.rmtree(cluster.dir, ignore_errors=True)
    return out, raw


def _fmt(s: Summary | None) -> str:
    if s is None:
        return "-"
    digits = 2 if abs(s.median) < 100 else 0
    if s.n == 1:
        return f"{s.median:.{digits}f}"
    return f"{s.median:.{digits}f} ({s.low:.{digits}f}–{s.high:.{digits}f})"


def table(rows: list[Row], figures: dict[str, dict[str, list[float]]]) -> str:
    """Markdown: per row each cluster's median (min–max) and the ratio pyceph/refceph."""
    lines = [
        "| row | unit | better | pyceph | refceph | pyceph/ref |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        py = Summary.of(figures.get("pyceph", {}).get(r.id, []))
        ref = Summary.of(figures.get("refceph", {}).get(r.id, []))
        if py is None and ref is None:
            continue
        ratio = f"{py.median / ref.median:.2f}×" if py and ref and ref.median else "-"
        lines.append(f"| {r.title} | {r.unit} | {r.better} | {_fmt(py)} | {_fmt(ref)} | {ratio} |")
    return "\n".join(lines)


def _commit() -> str:
    try:
        sha = run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]).strip()
        dirty = run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    except (RuntimeError, OSError):
        return "unknown"
    return sha + ("-dirty" if dirty.strip() else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per cluster (medians)")
    ap.add_argument("--seconds", type=int, default=20, help="seconds per rados bench run")
    ap.add_argument("--only", nargs="+", metavar="ROW", help="rows whose id starts so")
    ap.add_argument("--cluster", choices=sorted(CLUSTERS), help="measure one cluster only")
    ap.add_argument("--osds", type=int, default=3)
    ap.add_argument("--py-ops", type=int, default=2000, help="pybench ops per phase")
    ap.add_argument("--rbd-4k-total", default="16M", help="rbd bench --io-total, 4 KiB rows")
    ap.add_argument("--rbd-4m-total", default="512M", help="rbd bench --io-total, 4 MiB rows")
    ap.add_argument("--workdir", help="where the clusters live (default: a temp dir)")
    ap.add_argument("--profile", metavar="DIR", help="py-spy profiles of --profile-rows here")
    ap.add_argument(
        "--profile-rows",
        nargs="+",
        metavar="ROW",
        default=list(PROFILE_ROWS),
        help="rows --profile samples (default: the size-3 rados bench writes)",
    )
    ap.add_argument("--json", help="results file (default bench/results/<date>-<commit>.json)")
    ap.add_argument("--list", action="store_true", help="list the row ids and exit")
    a = ap.parse_args(argv)

    rows = all_rows()
    if a.list:
        print("\n".join(f"{r.id:24} {r.title}" for r in rows))
        return 0
    rows = selected(rows, a.only)
    if not rows:
        ap.error(f"no row matches {a.only}; see --list")
    want = {r.id for r in rows}

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    # SIGTERM (timeout, kill) unwinds like ^C: every cluster started is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    names = [a.cluster] if a.cluster else list(CLUSTERS)
    if "refceph" in names and not RefCluster.installed():
        log("the reference cluster is not installed (no ceph-mon): see refceph's README")
        return 2
    workdir = a.workdir or tempfile.mkdtemp(prefix="pyceph-compare-")
    figures: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    raws: dict[str, list[dict[str, object]]] = {n: [] for n in names}
    try:
        for i in range(a.runs):
            for name in names:  # one cluster at a time, fresh each run
                log(f"== run {i + 1}/{a.runs}: {name}")
                out, raw = measure(name, want, a, workdir, log)
                raws[name].append(raw)
                for row, v in out.items():
                    if row in want:
                        figures[name].setdefault(row, []).append(v)
    finally:
        if not a.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    text = table(rows, figures)
    print(text)
    now = datetime.datetime.now(datetime.UTC)
    path = a.json or str(BENCH_DIR / "results" / f"{now:%Y%m%d-%H%M%S}-{_commit()}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    doc = {
        "date": now.isoformat(timespec="seconds"),
        "commit": _commit(),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "node": platform.node()},
        "args": {k: v for k, v in vars(a).items() if k not in ("list",)},
        "rows": {r.id: {"title": r.title, "unit": r.unit, "better": r.better,
                        **{n: figures[n].get(r.id, []) for n in names}} for r in rows},
        "raw": raws,
        "table": text,
    }  # fmt: skip
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    log(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
