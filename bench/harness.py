"""What the side-by-side benchmarks share: the two clusters, output parsers, daemon meters.

`bench/compare.py` (and the older single-purpose scripts) drive a pyceph cluster
(`pyceph up`) and the reference Ceph 16.2 cluster (Debian's packages, started by
`../shared/tools/refceph/start.sh`, found relative to the repository) through the same
small interface: start (timed: start to ready), `ceph`/`rados`/`rbd` commands, the
environment a Python client needs (pyceph's `rados` or Debian's python3-rados), the
daemons' pids, stop. `DaemonMeter` samples each daemon's RSS (with its anonymous and
file-backed parts) and CPU time from /proc while a workload runs. The parsers read the
summaries `rados bench` and `rbd bench` print (upstream's formats, which pyceph's CLIs
reproduce).

Not a test: benchmarks are run by hand (see compare.py).
"""

from __future__ import annotations

import compileall
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
#: refceph's scripts: shared/ sits beside the repository's work tree (a work tree elsewhere,
#: e.g. a git worktree, names it with PYCEPH_REFCEPH_DIR).
REFCEPH_DIR = Path(
    os.environ.get("PYCEPH_REFCEPH_DIR") or REPO.parent / "shared" / "tools" / "refceph"
)
PYBENCH = REFCEPH_DIR / "pybench.py"
#: Debian's ceph/rados/rbd ahead of pyceph's console scripts.
SYS_PATH = "/usr/bin:/usr/sbin:/bin:/sbin"
#: Debian's compiled bindings (python3-rados, python3-rbd) and the interpreter they fit.
DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"
DEBIAN_PYTHON = "/usr/bin/python3"
#: The reference monitor's ports: not the defaults, so a refceph someone else runs on
#: 3300/6789 does not collide with ours.
REF_MON_PORT, REF_MON_V1_PORT = "3311", "6799"
#: Seconds a cluster may take to start (pyceph) / to be created (refceph) / to stop.
PYCEPH_START_TIMEOUT = 300
REFCEPH_START_TIMEOUT = 900
STOP_TIMEOUT = 300
#: Seconds one command (a benchmark run included) may take.
COMMAND_TIMEOUT = 1800
#: Seconds a new pool's PGs may take to become active.
POOL_READY_TIMEOUT = 120
#: How often `DaemonMeter` samples /proc while a workload runs.
METER_PERIOD = 0.2
#: How often pool readiness is polled.
POOL_POLL = 0.5

_TICK = os.sysconf("SC_CLK_TCK")


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = COMMAND_TIMEOUT) -> str:
    """Run `cmd`; its stdout, or RuntimeError with both outputs when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


# -- parsers -------------------------------------------------------------------------------
_RADOS_FIELDS = {
    "mbps": r"Bandwidth \(MB/sec\):\s+([0-9.e+-]+)",
    "iops": r"Average IOPS:?\s+([0-9.]+)",
    "lat": r"Average Latency\(s\):\s+([0-9.e+-]+)",
    "ops": r"Total (?:writes|reads) made:\s+([0-9]+)",
    "seconds": r"Total time run:\s+([0-9.e+-]+)",
}


@dataclass
class BenchResult:
    """One workload's figures: MB/s (10^6 B), IOPS, mean latency (s), ops, seconds."""

    mbps: float
    iops: float
    lat: float | None
    ops: int
    seconds: float


def parse_rados_bench(text: str) -> BenchResult:
    """The summary of one `rados bench` run."""
    vals: dict[str, float] = {}
    for key, pat in _RADOS_FIELDS.items():
        m = re.search(pat, text)
        if not m:
            raise ValueError(f"no {key!r} in rados bench output:\n{text[-2000:]}")
        vals[key] = float(m.group(1))
    return BenchResult(vals["mbps"], vals["iops"], vals["lat"], int(vals["ops"]), vals["seconds"])


_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
_RBD_SUMMARY = re.compile(
    r"elapsed:\s+([0-9.]+)\s+ops:\s+(\d+)\s+ops/sec:\s+([0-9.]+)\s+bytes/sec:\s+([0-9.]+)\s*(\w+)/s"
)


def parse_rbd_bench(text: str) -> BenchResult:
    """The closing `elapsed: .. ops: .. ops/sec: .. bytes/sec: ..` line of `rbd bench`."""
    m = _RBD_SUMMARY.search(text)
    if not m:
        raise ValueError(f"no summary line in rbd bench output:\n{text[-2000:]}")
    bw = float(m.group(4)) * _UNITS.get(m.group(5), 1)
    return BenchResult(bw / 1e6, float(m.group(3)), None, int(m.group(2)), float(m.group(1)))


def parse_pybench(text: str) -> dict[str, dict[str, float]]:
    """pybench.py's JSON line: per phase (sync_write, ...) ops_per_s, MBps, latencies."""
    doc = json.loads(text.strip().splitlines()[-1])
    return {k: v for k, v in doc.items() if isinstance(v, dict)}


# -- statistics ---------------------------------------------------------------------------
@dataclass
class Summary:
    """Median and range of a row's runs."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, xs: Iterable[float]) -> Summary | None:
        vals = [float(x) for x in xs if x is not None]
        if not vals:
            return None
        return cls(statistics.median(vals), min(vals), max(vals), len(vals))


# -- daemon meters ------------------------------------------------------------------------
def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


#: /proc/PID/status fields `proc_mem_mib` reads: the resident set and its parts (anonymous
#: memory: heap and buffers; file-backed: mapped libraries and LMDB's read-only map).
MEM_FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")


def proc_mem_mib(pid: int) -> dict[str, float] | None:
    """`MEM_FIELDS` of `pid` in MiB (None when it is gone)."""
    out: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in MEM_FIELDS:
                    out[key] = int(val.split()[0]) / 1024
    except OSError:
        return None
    return out or None


def proc_rss_mib(pid: int) -> float | None:
    """Resident set size of `pid` in MiB (None when it is gone)."""
    mem = proc_mem_mib(pid)
    return None if mem is None else mem.get("VmRSS")


@dataclass
class DaemonUsage:
    """What one daemon used during a workload: CPU seconds, and the peaks of its resident
    set and of that set's anonymous and file-backed parts (each sampled on its own: the
    three peaks need not fall on the same sample)."""

    cpu_seconds: float
    peak_rss_mib: float
    peak_rss_anon_mib: float = 0.0
    peak_rss_file_mib: float = 0.0


#: DaemonUsage's peak fields by /proc/PID/status field.
_PEAK_OF = {"VmRSS": "peak_rss_mib", "RssAnon": "peak_rss_anon_mib", "RssFile": "peak_rss_file_mib"}


class DaemonMeter:
    """Samples the daemons' RSS (whole, anonymous, file-backed) every `METER_PERIOD` s
    while a workload runs; CPU seconds are the difference of /proc counters at start and
    stop. Use as a context manager; the sampling thread is joined on exit."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = dict(pids)
        self.usage: dict[str, DaemonUsage] = {}
        self._cpu0: dict[str, float | None] = {}
        self._peak: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_loop, name="daemon-meter")

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            mem = proc_mem_mib(pid)
            if mem is None:
                continue
            peak = self._peak.setdefault(name, {})
            for key, val in mem.items():
                peak[key] = max(peak.get(key, 0.0), val)

    def _sample_loop(self) -> None:
        while not self._stop.wait(METER_PERIOD):
            self._sample()

    def __enter__(self) -> DaemonMeter:
        self._cpu0 = {n: proc_cpu_seconds(p) for n, p in self.pids.items()}
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        for name, pid in self.pids.items():
            c0, c1 = self._cpu0.get(name), proc_cpu_seconds(pid)
            if c0 is not None and c1 is not None:
                peak = self._peak.get(name, {})
                fields = {attr: peak.get(key, 0.0) for key, attr in _PEAK_OF.items()}
                self.usage[name] = DaemonUsage(c1 - c0, **fields)


def daemon_kind(name: str) -> str:
    """ "osd.2" -> "osd"."""
    return name.split(".", 1)[0]


# -- clusters -----------------------------------------------------------------------------
class Cluster:
    """How to start, drive and stop one kind of cluster in `dir`."""

    name = ""

    def __init__(self, workdir: str, osds: int = 3) -> None:
        self.workdir = workdir
        self.osds = osds
        self.conf = ""
        self.start_seconds = 0.0

    @property
    def dir(self) -> str:
        return os.path.join(self.workdir, self.name)

    def env(self) -> dict[str, str]:
        """The environment of every command run against this cluster."""
        return dict(os.environ)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def ceph(self, *args: str) -> str:
        raise NotImplementedError

    def rados_cmd(self) -> list[str]:
        raise NotImplementedError

    def rbd_cmd(self) -> list[str]:
        raise NotImplementedError

    def python_cmd(self) -> tuple[list[str], dict[str, str]]:
        """The interpreter (and environment) whose `import rados` is this cluster's client."""
        raise NotImplementedError

    def rados(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        return run([*self.rados_cmd(), "-c", self.conf, *args], self.env(), timeout)

    def rbd(self, *args: str, timeout: float = COMMAND_TIMEOUT) -> str:
        return run([*self.rbd_cmd(), "-c", self.conf, *args], self.env(), timeout)

    def pids(self) -> dict[str, int]:
        """Running daemons by name, from DIR/run/NAME.pid (both clusters keep them there)."""
        out: dict[str, int] = {}
        for path in sorted(glob.glob(os.path.join(self.dir, "run", "*.pid"))):
            try:
                with open(path) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue
            if os.path.exists(f"/proc/{pid}"):
                out[os.path.basename(path)[: -len(".pid")]] = pid
        return out

    def wait_pool_active(self, timeout: float = POOL_READY_TIMEOUT) -> None:
        """Until every PG of the cluster is active (new pools included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = json.loads(self.ceph("-s", "-f", "json"))
            states = s.get("pgmap", {}).get("pgs_by_state", [])
            if states and all(
                st["state_name"].startswith("active") and "peering" not in st["state_name"]
                for st in states
            ):
                return
            time.sleep(POOL_POLL)
        raise RuntimeError(f"[{self.name}] PGs not active after {timeout}s")

    def make_pool(self, pool: str, size: int, pg_num: int, app: str) -> None:
        """A replicated pool of `size` with `pg_num` PGs (no autoscaling), for `app`."""
        pg = str(pg_num)
        if size == 1:  # upstream refuses size 1 unless this is set (refceph's conf sets it)
            self.ceph("config", "set", "global", "mon_allow_pool_size_one", "true")
        self.ceph("osd", "pool", "create", pool, pg, pg, "replicated", "--autoscale-mode=off")
        self.ceph("osd", "pool", "set", pool, "size", str(size), "--yes-i-really-mean-it")
        self.ceph("osd", "pool", "set", pool, "min_size", str(max(1, size - size // 2)))
        self.ceph("osd", "pool", "application", "enable", pool, app)
        if app == "rbd":
            self.rbd("pool", "init", pool)
        self.wait_pool_active()


def _src_env() -> dict[str, str]:
    """os.environ with the repository's src/ first on PYTHONPATH (pyceph from this tree)."""
    env = dict(os.environ)
    src = str(REPO / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


class PycephCluster(Cluster):
    """`pyceph up` in DIR; pyceph's CLIs and `rados` module from this repository."""

    name = "pyceph"

    def env(self) -> dict[str, str]:
        return _src_env()

    def _py(self, module: str) -> list[str]:
        return [sys.executable, "-m", module]

    def start(self) -> None:
        # The tree's bytecode first, untimed, as `pip install` compiles an installed
        # package: this machine sets PYTHONDONTWRITEBYTECODE=1, so an editable tree would
        # otherwise be compiled by every daemon at every start (docs/perf/startup.md).
        compileall.compile_dir(str(REPO / "src"), quiet=1)
        t0 = time.monotonic()
        out = run(
            [*self._py("pyceph.cli.pyceph_main"), "up", self.dir], self.env(), PYCEPH_START_TIMEOUT
        )
        self.start_seconds = time.monotonic() - t0
        self.conf = out.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(
            [*self._py("pyceph.cli.pyceph_main"), "down", self.dir],
            capture_output=True,
            env=self.env(),
            timeout=STOP_TIMEOUT,
        )

    def ceph(self, *args: str) -> str:
        return run([*self._py("pyceph.cli.ceph_main"), "-c", self.conf, *args], self.env())

    def rados_cmd(self) -> list[str]:
        return self._py("pyceph.cli.rados_main")

    def rbd_cmd(self) -> list[str]:
        return self._py("pyceph.cli.rbd_main")

    def python_cmd(self) -> tuple[list[str], dict[str, str]]:
        return [sys.executable], self.env()


class RefCluster(Cluster):
    """refceph (Debian's Ceph 16.2) in DIR on its own monitor ports; Debian's CLIs and
    python3-rados."""

    name = "refceph"

    def env(self) -> dict[str, str]:
        # no PYTHONPATH: Debian's ceph CLI must import Debian's rados, not this tree's
        base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return {
            **base,
            "PATH": SYS_PATH + ":" + os.environ.get("PATH", ""),
            "REFCEPH_FRESH": "1",
            "REFCEPH_MON_PORT": REF_MON_PORT,
            "REFCEPH_MON_V1_PORT": REF_MON_V1_PORT,
        }

    @staticmethod
    def installed() -> bool:
        return shutil.which("ceph-mon", path=SYS_PATH) is not None

    def start(self) -> None:
        t0 = time.monotonic()
        out = run(
            [str(REFCEPH_DIR / "start.sh"), self.dir, str(self.osds)],
            self.env(),
            REFCEPH_START_TIMEOUT,
        )
        self.start_seconds = time.monotonic() - t0
        self.conf = out.strip().splitlines()[-1]

    def stop(self) -> None:
        subprocess.run(
            [str(REFCEPH_DIR / "stop.sh"), self.dir, "--wipe"],
            capture_output=True,
            env=self.env(),
            timeout=STOP_TIMEOUT,
        )

    def ceph(self, *args: str) -> str:
        return run(["/usr/bin/ceph", "-c", self.conf, *args], self.env())

    def rados_cmd(self) -> list[str]:
        return ["/usr/bin/rados"]

    def rbd_cmd(self) -> list[str]:
        return ["/usr/bin/rbd"]

    def python_cmd(self) -> tuple[list[str], dict[str, str]]:
        env = self.env()
        env["PYTHONPATH"] = DEBIAN_DIST_PACKAGES
        return [DEBIAN_PYTHON], env


CLUSTERS: dict[str, Callable[[str, int], Cluster]] = {
    "pyceph": lambda workdir, osds: PycephCluster(workdir, osds),
    "refceph": lambda workdir, osds: RefCluster(workdir, osds),
}
