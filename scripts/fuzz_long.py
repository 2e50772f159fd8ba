#!/usr/bin/env python3
"""Run the decoder fuzz properties with a large budget, off CI (issue 10 item 4).

The properties are the CI ones (tests/unit/test_fuzz_*.py); this runs them in rounds
under the `pyceph-fuzz-long` hypothesis profile (`PYCEPH_FUZZ_PROFILE`), each round with
`--examples` examples per property and a fresh random seed, until `--minutes` are spent,
and reports what each round found. A failing round's output is kept in `--out` with the
seed that reproduces it (`pytest --hypothesis-seed=SEED`); every crash found should be
fixed in its decoder and pinned with `@example(...)` in the property.

    python scripts/fuzz_long.py --minutes 10
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    "tests/unit/test_fuzz_frame.py",
    "tests/unit/test_fuzz_heads.py",
    "tests/unit/test_fuzz_cls.py",
    "tests/unit/test_fuzz_handshake.py",
]
PROFILE = "pyceph-fuzz-long"
#: A round shorter than this is not started (it could not finish a property).
MIN_ROUND_SECONDS = 30
SUMMARY = re.compile(r"(\d+) (passed|failed)")


def run_round(seed: int, examples: int, budget: float, out_dir: Path) -> tuple[str, str]:
    """One pytest run of every property; ("passed"|"failed"|"cut", summary line)."""
    env = dict(os.environ)
    env.update(
        PYCEPH_FUZZ_PROFILE=PROFILE,
        PYCEPH_FUZZ_EXAMPLES=str(examples),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]),
    )
    cmd = [sys.executable, "-m", "pytest", *FILES, "-q", "-p", "no:cacheprovider", "-n", "0"]
    cmd += [f"--hypothesis-seed={seed}", "-o", f"timeout={int(budget) + 60}"]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=budget
        )
    except subprocess.TimeoutExpired:
        return "cut", "stopped at the time limit"
    lines = [ln for ln in proc.stdout.splitlines() if SUMMARY.search(ln)]
    summary = lines[-1].strip("= ") if lines else proc.stdout[-200:]
    if proc.returncode == 0:
        return "passed", summary
    path = out_dir / f"fuzz-failure-seed-{seed}.txt"
    path.write_text(proc.stdout + proc.stderr)
    return "failed", f"{summary} (output in {path})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="total time to spend")
    ap.add_argument("--examples", type=int, default=1000, help="examples per property a round")
    ap.add_argument("--out", default="/tmp", help="where failing rounds' output is kept")
    args = ap.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + args.minutes * 60
    results: list[tuple[int, str, str, float]] = []
    rng = random.SystemRandom()
    while (left := deadline - time.monotonic()) >= MIN_ROUND_SECONDS:
        seed = rng.randrange(1 << 32)
        t0 = time.monotonic()
        status, summary = run_round(seed, args.examples, left, out_dir)
        took = time.monotonic() - t0
        results.append((seed, status, summary, took))
        print(f"round {len(results)} seed {seed}: {status} in {took:.0f}s: {summary}", flush=True)
    done = [r for r in results if r[1] != "cut"]
    failed = [r for r in results if r[1] == "failed"]
    print(
        f"fuzz_long: {len(done)} complete rounds of {args.examples} examples per property "
        f"({len(FILES)} files), {len(failed)} failing"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
