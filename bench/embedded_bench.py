"""Benchmark of the embedded cluster (`mon_host = embedded:[DIR]`); not a test.

Start-up: how long `Rados.connect()` takes to start mon, mgr and the OSDs in-process and
connect (each measured in a fresh subprocess, imports timed separately), for a memory
cluster, a new directory and an existing one. Throughput: 4 KiB writes and reads through
`rados.Rados`, one at a time (synchronous calls) and with `--inflight` aio ops in flight,
and one at a time through the async core on the cluster's loop (`core`: what an op costs
without the hop from the caller's thread to the loop thread). Under each ops/s row:
the process's CPU µs per op (every thread: the daemons run in this process), which
depends less on other load than ops/s does. `--objects N` cycles over N objects so the
cluster's object count (and its per-second stats work) does not grow during the run.
A warm-up of `--warmup` writes runs first (the mgr loads its modules in the first second
after start-up).

    python bench/embedded_bench.py [--dir DIR] [--ops N] [--inflight N] [--warmup N]
        [--objects N] [--memory-only] [--no-startup]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

STARTUP = r"""
import json, sys, time
t0 = time.perf_counter()
import rados
from pyceph.embedded import registry
import pyceph.mgr.daemon, pyceph.mon.daemon, pyceph.osd.daemon  # noqa: F401
t1 = time.perf_counter()
r = rados.Rados(conf={"mon_host": sys.argv[1]})
r.connect()
t2 = time.perf_counter()
inst = next(iter(registry.running().values()))
r.shutdown()
print(json.dumps({"imports": t1 - t0, "connect": t2 - t1, "cluster": inst.startup_seconds}))
"""


def startup(mon_host: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", STARTUP, mon_host], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


#: How many distinct objects each measurement cycles through (`--objects`; 0: one per op).
OBJECTS = [0]

#: CPU microseconds per op of each measurement (process time: every thread of this
#: process, so the embedded daemons' work too), filled in as measurements run.
CPU_US: dict[str, float] = {}


class _Measure:
    """Times one measurement: wall-clock ops/s, and process CPU µs/op into `CPU_US`."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n = name, n

    def __enter__(self) -> _Measure:
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.rate = self.n / (time.perf_counter() - self.t0)
        CPU_US[self.name] = (time.process_time() - self.c0) * 1e6 / self.n


def sync_ops(io: object, n: int, data: bytes) -> tuple[float, float]:
    with _Measure("sync_write", n) as w:
        for i in range(n):
            io.write_full(f"s{i % OBJECTS[0]}", data)  # type: ignore[attr-defined]
    with _Measure("sync_read", n) as r:
        for i in range(n):
            io.read(f"s{i % OBJECTS[0]}", len(data))  # type: ignore[attr-defined]
    return w.rate, r.rate


def aio_ops(io: object, n: int, data: bytes, inflight: int) -> tuple[float, float]:
    def run(name: str, start: callable) -> float:  # type: ignore[valid-type]
        sem = threading.Semaphore(inflight)
        done = threading.Event()
        left = [n]
        lock = threading.Lock()

        def fin(*_args: object) -> None:
            sem.release()
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    done.set()

        with _Measure(name, n) as m:
            for i in range(n):
                sem.acquire()
                start(i, fin)
            done.wait()
        return m.rate

    w = run(
        "aio_write", lambda i, fin: io.aio_write_full(f"a{i % OBJECTS[0]}", data, oncomplete=fin)
    )  # type: ignore[attr-defined]
    r = run(
        "aio_read", lambda i, fin: io.aio_read(f"a{i % OBJECTS[0]}", len(data), 0, oncomplete=fin)
    )  # type: ignore[attr-defined]
    return w, r


def core_ops(io: object, n: int, data: bytes) -> tuple[float, float]:
    """Writes/s and reads/s of sequential ops on the loop, through the async IoCtx."""
    from rados._core import core_ioctx, run

    aio = core_ioctx(io)  # type: ignore[arg-type]

    async def ops() -> tuple[float, float]:
        with _Measure("core_write", n) as w:
            for i in range(n):
                await aio.write_full(f"c{i % OBJECTS[0]}", data)
        with _Measure("core_read", n) as r:
            for i in range(n):
                await aio.read(f"c{i % OBJECTS[0]}", len(data))
        return w.rate, r.rate

    return run(io, ops())  # type: ignore[arg-type]


def throughput(mon_host: str, n: int, inflight: int, warmup: int) -> dict[str, float]:
    OBJECTS[0] = OBJECTS[0] or n
    import rados

    data = os.urandom(4096)
    with rados.Rados(conf={"mon_host": mon_host}) as r:
        r.create_pool("bench")
        with r.open_ioctx("bench") as io:
            for i in range(warmup):
                io.write_full(f"w{i}", data)
            sw, sr = sync_ops(io, n, data)
            aw, ar = aio_ops(io, n, data, inflight)
            cw, cr = core_ops(io, n, data)
    return {
        "sync_write": sw,
        "sync_read": sr,
        "aio_write": aw,
        "aio_read": ar,
        "core_write": cw,
        "core_read": cr,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", help="where to put the directory clusters (default: a temp dir)")
    p.add_argument("--ops", type=int, default=2000, help="ops per measurement")
    p.add_argument("--inflight", type=int, default=16, help="aio ops in flight")
    p.add_argument("--warmup", type=int, default=500, help="writes before measuring")
    p.add_argument(
        "--objects",
        type=int,
        default=0,
        help="cycle each measurement over this many objects (default: a new one per op)",
    )
    p.add_argument("--memory-only", action="store_true", help="skip the DIR (LMDB) cluster")
    p.add_argument("--no-startup", action="store_true", help="skip the start-up timings")
    args = p.parse_args()
    OBJECTS[0] = args.objects
    base = tempfile.mkdtemp(prefix="pyceph-ebench-", dir=args.dir)
    try:
        d = os.path.join(base, "c")
        if not args.no_startup:
            rows = [
                ("memory (embedded:)", startup("embedded:")),
                ("new DIR", startup(f"embedded:{d}")),
                ("existing DIR", startup(f"embedded:{d}")),
            ]
            print("start-up (s)          imports  cluster  connect (cluster + client)")
            for name, s in rows:
                print(f"  {name:<20} {s['imports']:7.3f}  {s['cluster']:7.3f}  {s['connect']:7.3f}")
        print(f"4 KiB ops/s ({args.ops} ops; aio with {args.inflight} in flight)")
        print("                       write     read  aio write  aio read  core write  core read")
        hosts = [("memory", "embedded:")]
        if not args.memory_only:
            hosts.append(("DIR (LMDB)", f"embedded:{d}"))
        for name, host in hosts:
            t = throughput(host, args.ops, args.inflight, args.warmup)
            print(
                f"  {name:<18} {t['sync_write']:8.0f} {t['sync_read']:8.0f}"
                f" {t['aio_write']:10.0f} {t['aio_read']:9.0f}"
                f" {t['core_write']:11.0f} {t['core_read']:10.0f}"
            )
            c = CPU_US
            print(
                f"  {'  CPU µs/op':<18} {c['sync_write']:8.0f} {c['sync_read']:8.0f}"
                f" {c['aio_write']:10.0f} {c['aio_read']:9.0f}"
                f" {c['core_write']:11.0f} {c['core_read']:10.0f}"
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
