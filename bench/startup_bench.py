"""Where `pyceph up`'s start-up time goes: the whole command, and its phases; not a test.

`--runs N` times `pyceph up DIR` (a fresh DIR each run, then `pyceph down`) as a user
runs it, in a subprocess importing pyceph from `--src` (default: this repository's
src/, so an older tree exported with `git archive` can be measured the same way).
With `--phases`, each run instead drives the same steps through `LocalCluster` and
timestamps them, while a watcher thread polls `ceph status`/`mgr dump` every
`WATCH_PERIOD` seconds for what the cluster shows: monitor answering, OSDs up, mgr
available, modules loaded, first PG, PGs active, ready, dashboard serving. Medians
(min–max) are printed; `--json` keeps the runs. `--bytecode` compiles `--src` first
(what `pip install` does for a wheel, and any import does for an editable tree unless,
as on this machine, PYTHONDONTWRITEBYTECODE=1 is set: then every daemon compiles every
module at every start); `--no-bytecode` removes the compiled files to measure that.

    python bench/startup_bench.py [--runs 3] [--phases] [--bytecode | --no-bytecode]
        [--src DIR] [--json F]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Bound on one `pyceph up` (a run that takes longer has failed).
UP_TIMEOUT = 300
#: How often the phase watcher polls the cluster.
WATCH_PERIOD = 0.05

#: One run through LocalCluster with timestamps (run in a subprocess on `--src`).
PHASES = r"""
import concurrent.futures, json, os, sys, threading, time
TICK = os.sysconf("SC_CLK_TCK")
t0 = time.monotonic()
marks = {}
def mark(what):
    marks.setdefault(what, round(time.monotonic() - t0, 3))
from pyceph.cli import localcluster as lc
mark("cli imports")
c = lc.LocalCluster(sys.argv[1])
stop = threading.Event()
def watch():
    import rados
    r = rados.Rados(conffile=c.conf_path)
    r.connect()
    def cmd(prefix):
        ret, out, _ = r.mon_command(json.dumps({"prefix": prefix, "format": "json"}), b"")
        return json.loads(out) if ret == 0 else {}
    mark("monitor answering")
    while not stop.is_set():
        s = cmd("status")
        om, pg = s.get("osdmap", {}), s.get("pgmap", {})
        if om.get("num_up_osds") == 3:
            mark("3 OSDs up")
        if s.get("mgrmap", {}).get("available"):
            mark("mgr available")
        if "modules loaded" not in marks and cmd("mgr dump").get("available_modules"):
            mark("modules loaded")
        if pg.get("num_pgs"):
            mark("first PG")
            states = pg.get("pgs_by_state", [])
            if all("active" in x["state_name"].split("+") for x in states):
                mark("PGs active (as the monitor shows)")
        time.sleep(%(period)s)
    r.shutdown()
if hasattr(c, "create_and_start"):  # the mon's mkfs overlaps the other daemons' start
    c.create_and_start(num_osds=3)
else:
    c.create(num_osds=3)
    mark("created (keys, conf, mon mkfs)")
    c.start()
mark("daemons started (pid files)")
w = threading.Thread(target=watch)
w.start()
with concurrent.futures.ThreadPoolExecutor(1) as pool:
    dash = pool.submit(lc.setup_dashboard, c, 300)
    c.wait_ready(300)
    mark("ready")
    dash.result()
    mark("dashboard serving")
stop.set()
w.join()
cpu = {}
for d in c.daemons():
    pid = c.pid(d)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu[d.name] = (int(fields[11]) + int(fields[12])) / TICK
import resource
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu["cli (with the watcher) and mon mkfs"] = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
c.stop()
out = dict(sorted(marks.items(), key=lambda kv: kv[1]))
out.update({f"CPU s {k}": round(v, 2) for k, v in cpu.items()})
out["CPU s total"] = round(sum(cpu.values()), 2)
print(json.dumps(out))
""" % {"period": WATCH_PERIOD}


def _env(src: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    return env


def up_once(src: str, workdir: str) -> float:
    """Seconds `pyceph up` takes on a fresh directory (stopped and removed after)."""
    d = os.path.join(workdir, "c")
    cli = [sys.executable, "-m", "pyceph.cli.pyceph_main"]
    t0 = time.monotonic()
    subprocess.run([*cli, "up", d], env=_env(src), check=True, capture_output=True, timeout=UP_TIMEOUT)  # fmt: skip
    took = time.monotonic() - t0
    subprocess.run([*cli, "down", d], env=_env(src), check=True, capture_output=True, timeout=UP_TIMEOUT)  # fmt: skip
    shutil.rmtree(d)
    return took


def phases_once(src: str, workdir: str) -> dict[str, float]:
    """Seconds from the start to each phase, for one fresh cluster."""
    d = os.path.join(workdir, "c")
    out = subprocess.run(
        [sys.executable, "-c", PHASES, d],
        env=_env(src),
        check=True,
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT,
    ).stdout
    shutil.rmtree(d)
    return dict(json.loads(out.strip().splitlines()[-1]))


def _summary(xs: list[float]) -> str:
    return f"{statistics.median(xs):6.2f} ({min(xs):.2f}–{max(xs):.2f})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--phases", action="store_true", help="time each phase")
    ap.add_argument("--bytecode", action="store_true", help="compile --src first")
    ap.add_argument(
        "--no-bytecode", action="store_true", help="remove --src's __pycache__ dirs first"
    )
    ap.add_argument("--src", default=str(REPO / "src"), help="the pyceph tree to measure")
    ap.add_argument("--json", help="write the runs here")
    a = ap.parse_args(argv)
    if a.no_bytecode:
        for cache in Path(a.src).rglob("__pycache__"):
            shutil.rmtree(cache)
    if a.bytecode:
        compileall.compile_dir(a.src, quiet=1)
    runs: list = []
    with tempfile.TemporaryDirectory(prefix="pyceph-startup-") as workdir:
        for i in range(a.runs):
            one = phases_once(a.src, workdir) if a.phases else up_once(a.src, workdir)
            print(f"run {i + 1}: {one if a.phases else f'{one:.2f} s'}", file=sys.stderr)
            runs.append(one)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"pyceph up, {a.runs} runs, load average {load} on {os.cpu_count()} CPUs:")
    if a.phases:
        for name in runs[0]:
            xs = [r[name] for r in runs if name in r]
            print(f"  {_summary(xs)} {'' if name.startswith('CPU') else 's  '}{name}")
    else:
        print(f"  {_summary(runs)} s  start to ready (dashboard printed)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"src": a.src, "bytecode": not a.no_bytecode, "load": load, "runs": runs}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
