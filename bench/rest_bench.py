"""Requests/s of the REST APIs under many concurrent clients, and the servers' RSS (not a test).

Starts a pyceph cluster (3 OSDs, daemon processes on loopback), then loads, one
after the other, with CLIENTS concurrent aiohttp clients for SECONDS each:

- `GET /api/v0.1/status` of the `ceph-rest-api` command (a process of its own,
  as client.admin, the seed's way of running it);
- `GET /api/v0.1/status` of the `restapi` mgr module (its own session as
  client.admin);
- `GET /api/health/minimal` of the `dashboard` mgr module (plain HTTP, a token
  from `/api/auth` for a user made with `ceph dashboard ac-user-create`), when
  that module is there; a target that cannot be set up is reported and skipped.

For each it prints requests/s, median and p95 latency, errors, and the peak
resident memory of the serving process (the mgr, or the ceph-rest-api process)
sampled every RSS_PERIOD seconds during the load, beside its RSS when idle.
`--json FILE` also writes the figures.

    python bench/rest_bench.py [--clients 64] [--seconds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OSDS = 3
#: bound on a server coming up (module enable, first answer)
READY_WAIT = 60.0
#: seconds between two RSS samples during a load
RSS_PERIOD = 0.5
#: per-request timeout of the load's clients
REQUEST_TIMEOUT = 30.0
#: the dashboard's versioned media type (upstream's)
DASHBOARD_ACCEPT = "application/vnd.ceph.api.v1.0+json"
DASHBOARD_USER = ("loadtest", "Rest-Api-9x!q")


@dataclass
class Result:
    target: str
    url: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    idle_rss_mib: float = 0.0
    peak_rss_mib: float = 0.0
    skipped: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        d = asdict(self)
        del d["latencies_ms"]
        lat = sorted(self.latencies_ms)
        d["rps"] = round(self.rps, 1)
        d["median_ms"] = round(statistics.median(lat), 2) if lat else None
        d["p95_ms"] = round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 2) if lat else None
        return d


def _rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _wait(pred: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + READY_WAIT
    while True:
        try:
            v = pred()
        except OSError:
            v = None
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


async def _load(url: str, headers: dict[str, str], clients: int, seconds: float, pid: int, res: Result) -> None:  # fmt: skip
    """CLIENTS tasks each sending requests back to back until the deadline."""
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    stop = asyncio.Event()

    async def sample_rss() -> None:
        while not stop.is_set():
            res.peak_rss_mib = max(res.peak_rss_mib, _rss_mib(pid))
            try:
                await asyncio.wait_for(stop.wait(), RSS_PERIOD)
            except TimeoutError:
                pass

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        deadline = t0 + seconds

        async def client() -> None:
            while loop.time() < deadline:
                s = loop.time()
                try:
                    async with session.get(url, headers=headers) as r:
                        await r.read()
                        ok = r.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    res.requests += 1
                    res.latencies_ms.append((loop.time() - s) * 1000)
                else:
                    res.errors += 1

        sampler = asyncio.create_task(sample_rss())
        await asyncio.gather(*(client() for _ in range(clients)))
        res.seconds = loop.time() - t0
        stop.set()
        await sampler


def measure(target: str, url: str, pid: int, clients: int, seconds: float, headers: dict[str, str] | None = None) -> Result:  # fmt: skip
    res = Result(target, url, idle_rss_mib=_rss_mib(pid))
    asyncio.run(_load(url, headers or {}, clients, seconds, pid, res))
    return res


class Bench:
    """The cluster and the servers under test; `close()` stops them all."""

    def __init__(self, tmp: str, log: Callable[[str], None]) -> None:
        sys.path.insert(0, os.path.join(REPO, "src"))
        from pyceph.cli.localcluster import LocalCluster

        self.log = log
        self.tmp = tmp
        self.cluster = LocalCluster(os.path.join(tmp, "c"))
        self.cluster.create(num_osds=OSDS, overrides={"mgr_stats_period": "5"})
        self.rest_api: subprocess.Popen[bytes] | None = None
        #: why the last try of a setup step failed (reported when a target is skipped)
        self.last_error = ""
        self.cluster.start()
        self.cluster.wait_ready()

    def ceph(self, *args: str, inbuf: str | None = None) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", self.cluster.conf_path, *args],
            input=inbuf,
            capture_output=True,
            text=True,
            timeout=READY_WAIT,
        )
        if r.returncode != 0:
            raise RuntimeError(f"ceph {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def mgr_pid(self) -> int:
        mgr = next(d for d in self.cluster.daemons() if d.kind == "mgr")
        pid = self.cluster.pid(mgr)
        assert pid is not None
        return pid

    def start_rest_api(self, port: int) -> tuple[str, int]:
        env = {**os.environ, "CEPH_ARGS": f"--restapi_public_addr 127.0.0.1:{port}"}
        self.rest_api = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pyceph.cli.rest_api_main",
                "-c",
                self.cluster.conf_path,
                "-n",
                "client.admin",
            ],  # fmt: skip
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/api/v0.1/status"
        _wait(lambda: _status(url) == 200, "ceph-rest-api")
        return url, self.rest_api.pid

    def start_restapi_module(self, port: int) -> str:
        key = self.ceph("auth", "get-key", "client.admin").strip()
        for opt, val in (("server_addr", "127.0.0.1"), ("server_port", str(port)), ("client_name", "client.admin"), ("client_key", key)):  # fmt: skip
            self.ceph("config", "set", "mgr", f"mgr/restapi/{opt}", val)
        self.ceph("mgr", "module", "enable", "restapi")
        url = f"http://127.0.0.1:{port}/api/v0.1/status"
        _wait(lambda: _status(url) == 200, "the restapi module")
        return url

    def start_dashboard(self, port: int) -> tuple[str, dict[str, str]]:
        for opt, val in (("server_addr", "127.0.0.1"), ("server_port", str(port)), ("ssl", "false")):  # fmt: skip
            self.ceph("config", "set", "mgr", f"mgr/dashboard/{opt}", val)
        self.ceph("mgr", "module", "enable", "dashboard")
        user, password = DASHBOARD_USER
        pwfile = os.path.join(self.tmp, "dashboard-password")
        with open(pwfile, "w") as f:
            f.write(password)
        _wait(lambda: self._try(lambda: self.ceph("dashboard", "ac-user-create", user, "-i", pwfile, "administrator")), "dashboard ac-user-create")  # fmt: skip
        base = f"http://127.0.0.1:{port}"

        def login() -> str | None:
            body = json.dumps({"username": user, "password": password}).encode()
            request = urllib.request.Request(f"{base}/api/auth", data=body, method="POST", headers={"Content-Type": "application/json", "Accept": DASHBOARD_ACCEPT})  # fmt: skip
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as r:
                return str(json.loads(r.read())["token"])

        token = _wait(lambda: self._try(login), "a dashboard token")
        headers = {"Authorization": f"Bearer {token}", "Accept": DASHBOARD_ACCEPT}
        url = f"{base}/api/health/minimal"
        _wait(lambda: _status(url, headers) == 200, "/api/health/minimal")
        return url, headers

    def _try(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn() or True
        except (RuntimeError, OSError, ValueError, KeyError) as e:
            self.last_error = str(e)
            return None

    def close(self) -> None:
        if self.rest_api is not None and self.rest_api.poll() is None:
            self.rest_api.send_signal(signal.SIGTERM)
            try:
                self.rest_api.wait(READY_WAIT)
            except subprocess.TimeoutExpired:
                self.rest_api.kill()
                self.rest_api.wait()
        self.cluster.stop()


def run(clients: int, seconds: float, log: Callable[[str], None]) -> list[Result]:
    from pyceph.cli.localcluster import free_port

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="rest-bench-") as tmp:
        bench = Bench(tmp, log)
        try:
            url, pid = bench.start_rest_api(free_port())
            log(f"ceph-rest-api: {clients} clients on {url}")
            results.append(measure("ceph-rest-api status", url, pid, clients, seconds))
            url = bench.start_restapi_module(free_port())
            log(f"restapi module: {clients} clients on {url}")
            results.append(measure("mgr restapi status", url, bench.mgr_pid(), clients, seconds))
            try:
                url, headers = bench.start_dashboard(free_port())
            except Exception as e:  # another engineer's module, still being built
                reason = f"{e}: {bench.last_error}" if bench.last_error else str(e)
                log(f"dashboard: skipped ({reason})")
                results.append(Result("dashboard health/minimal", "", skipped=reason))
            else:
                log(f"dashboard: {clients} clients on {url}")
                results.append(measure("dashboard health/minimal", url, bench.mgr_pid(), clients, seconds, headers))  # fmt: skip
        finally:
            bench.close()
    return results


def report(results: list[Result]) -> str:
    rows = [f"{'target':28} {'req/s':>8} {'median ms':>10} {'p95 ms':>8} {'errors':>7} {'RSS idle MiB':>13} {'RSS peak MiB':>13}"]  # fmt: skip
    for r in results:
        if r.skipped:
            rows.append(f"{r.target:28} skipped: {r.skipped}")
            continue
        s = r.summary()
        rows.append(f"{r.target:28} {s['rps']:8.1f} {s['median_ms'] or 0:10.2f} {s['p95_ms'] or 0:8.2f} {r.errors:7d} {r.idle_rss_mib:13.1f} {r.peak_rss_mib:13.1f}")  # fmt: skip
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    results = run(args.clients, args.seconds, log)
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"clients": args.clients, "seconds": args.seconds, "results": [r.summary() for r in results]}, f, indent=2)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
