#!/usr/bin/env python3
"""Run simulator seeds (workload + thrasher) for a while and write a JSON summary.

    python scripts/sim_seeds.py --minutes 60 [--start 1000] [--jobs 2] [--ops 120]
                                [--max-down 2] [--out sim_seeds.json]
    python scripts/sim_seeds.py --seeds 4026,4012 --ops 60 --max-down 2   # replay
    python scripts/sim_seeds.py --ec k2m1 --minutes 60 --jobs 2   # erasure-coded seeds

Each seed is `pyceph.sim.thrasher.run_sim_seed` — a 4-OSD simulated cluster under the
thrasher with the model-checking workload, then heal, HEALTH_OK and a full check — the
scenario `tests/sim/test_sim_thrash.py` runs in CI, on seeds CI does not reach. Worker
processes take seeds start, start+1, ... until the time is up; the summary gives the
seeds run, seeds per hour, the thrasher's actions, and every failure with the command
that replays it.

With ``--ec PROFILE`` (``k2m1``, ``k2m2``) each seed is instead the EC thrasher scenario
of `tests/sim/test_sim_ec_backfill.py` (appenders on an erasure-coded pool of that
profile under kills, partitions and out/in, then heal and check every acknowledged
append); ``--ops`` and ``--max-down`` do not apply to it.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from typing import Any

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(_ROOT, "src"))
sys.path.insert(1, _ROOT)  # --ec runs the scenario of tests/sim/test_sim_ec_backfill.py

from pyceph.sim.thrasher import SIM_OPS as SIM_OPS_DEFAULT  # noqa: E402

#: Longest error text kept per failure in the summary.
MAX_ERROR_CHARS = 4000
#: The EC thrasher profiles `--ec` takes (`THRASH_PROFILES` of the EC sim test).
EC_PROFILES = ("k2m1", "k2m2")
#: Wall-clock bound on one seed (a livelock in virtual time must not stall the run).
SEED_WALL_LIMIT = 300


class SeedWallTimeout(Exception):
    """A seed ran past SEED_WALL_LIMIT seconds of wall time."""


def _on_alarm(_sig: int, _frame: Any) -> None:
    raise SeedWallTimeout(f"seed ran past {SEED_WALL_LIMIT}s of wall time")


def _worker(
    seeds: list[int] | None,
    start: int,
    step: int,
    deadline: float,
    ops: int,
    max_down: int,
    ec: str,
    out: Any,
) -> None:
    """Run `seeds`, or start, start+step, ... until `deadline`; one record each on `out`
    (`ec`: an EC thrasher profile name, or "" for the replicated workload)."""
    logging.disable(logging.CRITICAL)  # the daemons' own warnings would drown the output
    from pyceph.sim.thrasher import run_sim_seed

    todo = iter(seeds) if seeds is not None else None
    seed = start
    while True:
        if todo is not None:
            seed = next(todo, None)
            if seed is None:
                break
        elif time.time() >= deadline:
            break
        t0 = time.monotonic()
        rec: dict[str, Any] = {"seed": seed}
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.alarm(SEED_WALL_LIMIT)
        try:
            if ec:
                counts, healed = _run_ec_seed(seed, ec)
                rec.update(ok=True, actions=counts, virtual=round(healed, 1))
            else:
                res = run_sim_seed(seed, ops=ops, max_down=max_down or 1)
                rec.update(ok=True, ops=res.ops, reads=res.reads_checked, actions=res.actions,
                           virtual=round(res.virtual_seconds, 1))  # fmt: skip
        except BaseException as e:  # a failure is data here: record it and go on
            rec.update(ok=False, error=f"{type(e).__name__}: {e}"[:MAX_ERROR_CHARS],
                       trace=traceback.format_exc()[-MAX_ERROR_CHARS:])  # fmt: skip
        finally:
            signal.alarm(0)
        rec["wall"] = round(time.monotonic() - t0, 2)
        out.put(rec)
        seed += step
    out.put(None)


def _run_ec_seed(seed: int, profile: str) -> tuple[dict[str, int], float]:
    """One seed of the EC thrasher scenario: (thrasher actions, virtual seconds to heal)."""
    from tests.sim.test_sim_ec_backfill import THRASH_PROFILES, thrash_ec_seed

    return thrash_ec_seed(seed, THRASH_PROFILES[profile])


def _print_record(rec: dict[str, Any]) -> None:
    status = "ok" if rec["ok"] else "FAIL " + rec["error"].splitlines()[0][:200]
    print(f"seed {rec['seed']}: {status} ({rec['wall']}s)", flush=True)


class _Echo:
    """The single job's queue: records are printed as they come, then collected."""

    def __init__(self, q: Any) -> None:
        self.q = q

    def put(self, rec: dict[str, Any] | None) -> None:
        if rec is not None:
            _print_record(rec)
        self.q.put(rec)


def replay_command(seed: int, ops: int, max_down: int, ec: str = "") -> str:
    """The command that runs `seed` again as this run did."""
    if ec:
        return (
            f"PYCEPH_SIM_SEEDS={seed} python -m pytest tests/sim/test_sim_ec_backfill.py "
            f"-k 'thrasher and {ec}' -p no:cacheprovider -n 0"
        )
    if not max_down and ops == SIM_OPS_DEFAULT:
        return (
            f"PYCEPH_SIM_SEEDS={seed} python -m pytest tests/sim/test_sim_thrash.py "
            "-p no:cacheprovider -n 0"
        )
    extra = f" --max-down {max_down}" if max_down else ""
    return f"python scripts/sim_seeds.py --seeds {seed} --ops {ops}{extra}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=0.0)
    ap.add_argument("--start", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--ops", type=int, default=0, help="ops per seed (default: the CI's)")
    ap.add_argument(
        "--max-down",
        type=int,
        default=0,
        help="OSDs away (dead or cut off) and out at once (default: the CI's, 1; "
        "2 = size-1 with min_size 2: PGs may go inactive, nothing may be lost)",
    )
    ap.add_argument("--seeds", default="", help="run exactly these seeds (comma separated)")
    ap.add_argument(
        "--ec",
        choices=EC_PROFILES,
        default="",
        help="run the erasure-coded thrasher scenario with this profile instead",
    )
    ap.add_argument("--out", default="sim_seeds.json")
    args = ap.parse_args(argv)
    explicit = [int(x) for x in args.seeds.split(",") if x.strip()] if args.seeds else None
    if not explicit and args.minutes <= 0:
        ap.error("give --minutes N or --seeds S1,S2,...")
    ops = args.ops or SIM_OPS_DEFAULT
    began = time.time()
    deadline = began + args.minutes * 60
    ctx = mp.get_context("spawn")
    q: Any = ctx.Queue()
    parts = [
        (explicit[i :: args.jobs] if explicit else None, args.start + i, args.jobs, deadline,
         ops, args.max_down, args.ec, q)
        for i in range(args.jobs)
    ]  # fmt: skip
    procs = []
    if args.jobs == 1:
        # one job runs here, not in a child: what `--seeds` replays runs exactly as a
        # single-job run ran it
        import queue

        q = queue.SimpleQueue()
        _worker(*parts[0][:-1], _Echo(q))
    else:
        procs = [ctx.Process(target=_worker, args=part) for part in parts]
        for p in procs:
            p.start()
    records: list[dict[str, Any]] = []
    running = max(1, len(procs))
    while running:
        rec = q.get()
        if rec is None:
            running -= 1
            continue
        records.append(rec)
        if procs:  # the single job printed its own as they came
            _print_record(rec)
    for p in procs:
        p.join()
    elapsed = time.time() - began
    failures = [
        {"seed": r["seed"], "error": r["error"], "trace": r["trace"],
         "replay": replay_command(r["seed"], ops, args.max_down, args.ec)}
        for r in records if not r["ok"]
    ]  # fmt: skip
    actions: dict[str, int] = {}
    for r in records:
        for k, v in r.get("actions", {}).items():
            actions[k] = actions.get(k, 0) + v
    summary = {
        "minutes": round(elapsed / 60, 2),
        "jobs": args.jobs,
        "ops_per_seed": ops,
        "seeds_run": len(records),
        "seeds_per_hour": round(len(records) * 3600 / elapsed, 1) if elapsed else 0,
        "first_seed": explicit[0] if explicit else args.start,
        "max_down": args.max_down or 1,
        "ec_profile": args.ec or None,
        "ops": sum(r.get("ops", 0) for r in records),
        "reads_checked": sum(r.get("reads", 0) for r in records),
        "thrasher_actions": actions,
        "failures": failures,
    }
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"}, indent=2))
    print(f"{len(failures)} failure(s); summary in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
