"""`/metrics` scrape latency and mgr RSS: pyceph's mgr beside the reference's (not a test).

Starts a pyceph cluster (3 OSDs, daemon processes on loopback), enables the
`prometheus` module on a free port, makes the reference cluster's shape (three
pools with a few objects), then scrapes `/metrics` SCRAPES times with the page
cache on (the module's default) and with `cache=false` (every scrape collects),
and reads the mgr's resident memory. When `/usr/bin/ceph-mgr` exists it does the
same on the reference Ceph 16.2 (`../shared/tools/refceph/start.sh` beside the
repository, port 9283 as that script configures it), stops it, and prints each
figure with the ratio pyceph/reference. One cluster runs at a time; both are
stopped whatever happens.

    python bench/mgr_bench.py [--scrapes 50] [--only pyceph|refceph]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFCEPH = os.path.join(REPO, "..", "shared", "tools", "refceph")
SYS_PATH = "/usr/bin:/usr/sbin:/bin:/sbin"  # Debian's ceph ahead of pyceph's scripts
#: the port refceph's start.sh configures for the reference mgr's exporter
REF_PORT = 9283
#: bound on waiting for the exporter's first page
FIRST_PAGE_WAIT = 120.0
#: pools of the reference sample's shape
POOLS = ("samples_rbd", "samples_rados", "samples_noapp")
OSDS = 3


@dataclass
class Result:
    cached_ms: list[float]
    uncached_ms: list[float]
    rss_kib: int
    page_bytes: int


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _scrape_ms(url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        body = r.read()
    return (time.perf_counter() - t0) * 1000.0, len(body)


def _first_page(url: str) -> int:
    deadline = time.monotonic() + FIRST_PAGE_WAIT
    while True:
        try:
            return _scrape_ms(url)[1]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def measure(ceph: Callable[..., str], url: str, mgr_pid: Callable[[], int], scrapes: int) -> Result:  # fmt: skip
    """Shape the cluster, then time the scrapes (cached, then uncached) and read RSS."""
    for pool in POOLS:
        ceph("osd", "pool", "create", pool)
    ceph("mgr", "module", "enable", "prometheus")
    size = _first_page(url)
    cached = [_scrape_ms(url)[0] for _ in range(scrapes)]
    ceph("config", "set", "mgr", "mgr/prometheus/cache", "false")
    time.sleep(2)  # the option reaches the mgr with its next config push
    uncached = [_scrape_ms(url)[0] for _ in range(scrapes)]
    return Result(cached, uncached, _rss_kib(mgr_pid()), size)


def run_pyceph(scrapes: int, log: Callable[[str], None]) -> Result:
    sys.path.insert(0, os.path.join(REPO, "src"))
    from pyceph.cli.localcluster import LocalCluster, free_port

    with tempfile.TemporaryDirectory(prefix="mgr-bench-") as tmp:
        cluster = LocalCluster(os.path.join(tmp, "c"))
        port = free_port()
        cluster.create(num_osds=OSDS, overrides={"mgr_stats_period": "5"})
        try:
            cluster.start()
            cluster.wait_ready()

            def ceph(*args: str) -> str:
                return _run([sys.executable, "-m", "pyceph.cli.ceph_main", "-c", cluster.conf_path, *args])  # fmt: skip

            ceph("config", "set", "mgr", "mgr/prometheus/server_addr", "127.0.0.1")
            ceph("config", "set", "mgr", "mgr/prometheus/server_port", str(port))

            def pid() -> int:
                mgr = next(d for d in cluster.daemons() if d.kind == "mgr")
                p = cluster.pid(mgr)
                assert p is not None
                return p

            log(f"pyceph: scraping http://127.0.0.1:{port}/metrics")
            return measure(ceph, f"http://127.0.0.1:{port}/metrics", pid, scrapes)
        finally:
            cluster.stop()


def run_refceph(scrapes: int, log: Callable[[str], None]) -> Result:
    env = {**os.environ, "PATH": SYS_PATH + ":" + os.environ.get("PATH", ""), "REFCEPH_FRESH": "1"}
    with tempfile.TemporaryDirectory(prefix="mgr-bench-ref-") as tmp:
        d = os.path.join(tmp, "ref")
        try:
            conf = _run([os.path.join(REFCEPH, "start.sh"), d, str(OSDS)], env=env).strip().splitlines()[-1]  # fmt: skip

            def ceph(*args: str) -> str:
                return _run(["/usr/bin/ceph", "-c", conf, *args], env=env)

            def pid() -> int:
                mgr = json.loads(ceph("mgr", "dump", "-f", "json"))["active_name"]
                with open(os.path.join(d, "run", f"mgr.{mgr}.pid")) as f:
                    return int(f.read().strip())

            log(f"refceph: scraping http://127.0.0.1:{REF_PORT}/metrics")
            return measure(ceph, f"http://127.0.0.1:{REF_PORT}/metrics", pid, scrapes)
        finally:
            subprocess.run([os.path.join(REFCEPH, "stop.sh"), d, "--wipe"], capture_output=True, env=env, timeout=300)  # fmt: skip


def _stats(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def report(py: Result | None, ref: Result | None) -> str:
    rows = []

    def fig(r: Result | None) -> dict[str, float]:
        if r is None:
            return {}
        cm, cp = _stats(r.cached_ms)
        um, up = _stats(r.uncached_ms)
        return {
            "cached median ms": cm,
            "cached p95 ms": cp,
            "uncached median ms": um,
            "uncached p95 ms": up,
            "mgr RSS MiB": r.rss_kib / 1024,
            "page KiB": r.page_bytes / 1024,
        }

    a, b = fig(py), fig(ref)
    rows.append(f"{'':22} {'pyceph':>10} {'refceph':>10} {'ratio':>8}")
    for key in a or b:
        x, y = a.get(key), b.get(key)
        ratio = f"{x / y:8.2f}" if x is not None and y else f"{'-':>8}"
        fx = f"{x:10.2f}" if x is not None else f"{'-':>10}"
        fy = f"{y:10.2f}" if y is not None else f"{'-':>10}"
        rows.append(f"{key:22} {fx} {fy} {ratio}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scrapes", type=int, default=50)
    p.add_argument("--only", choices=["pyceph", "refceph"])

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    args = p.parse_args(argv)
    py = ref = None
    if args.only != "refceph":
        py = run_pyceph(args.scrapes, log)
    if args.only != "pyceph":
        if os.path.exists("/usr/bin/ceph-mgr") and os.path.exists(
            os.path.join(REFCEPH, "start.sh")
        ):
            ref = run_refceph(args.scrapes, log)
        else:
            log("refceph: /usr/bin/ceph-mgr not installed, reference skipped")
    print(report(py, ref))
    return 0


if __name__ == "__main__":
    sys.exit(main())
