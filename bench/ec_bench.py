"""Erasure-code throughput: pyceph.ec.Codec encode / decode / reconstruct in GB/s.

What: for a few profiles (k+m, plugin) and object sizes, times ``Codec.encode``,
``Codec.decode`` with all data shards (the common read), a degraded ``decode`` with m
data shards lost, and ``reconstruct`` of one lost shard (recovery). Rates are logical
(object) bytes per second.

Why: DESIGN.md budgets ~3.6 GB/s encode for the isa_l_rs_cauchy backend; this shows
what the Python layering (stripe transposition, header framing, batching) leaves of it.

Usage: ``python bench/ec_bench.py [--seconds 0.5] [--sizes 65536,4194304] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from functools import partial

from pyceph.ec import Codec

PROFILES = [
    {"plugin": "jerasure", "technique": "reed_sol_van", "k": "2", "m": "1"},
    {"plugin": "jerasure", "technique": "reed_sol_van", "k": "4", "m": "2"},
    {"plugin": "jerasure", "technique": "reed_sol_van", "k": "8", "m": "3"},
    {"plugin": "isa", "technique": "reed_sol_van", "k": "4", "m": "2"},
]


def _rate(fn: Callable[[], object], nbytes: int, seconds: float) -> float:
    fn()  # warm caches / header templates
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * nbytes / dt / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    ap.add_argument("--sizes", default="65536,4194304", help="object sizes in bytes")
    ap.add_argument("--json", action="store_true", help="print JSON lines")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not args.json:
        print(
            f"{'profile':34s} {'size':>8s} {'encode':>8s} {'decode':>8s} {'degraded':>9s} {'rebuild':>8s}  GB/s"
        )
    for prof in PROFILES:
        c = Codec(prof)
        for size in sizes:
            data = os.urandom(size)
            shards = c.encode(data)
            full = dict(enumerate(shards))
            degraded = {i: s for i, s in full.items() if i >= c.m}  # lose m data shards
            one_lost = {i: s for i, s in full.items() if i != 0}
            t = args.seconds
            r = {
                "profile": f"{prof['plugin']}/{prof['technique']} {c.k}+{c.m}",
                "backend": c.backend,
                "size": size,
                "encode": _rate(partial(c.encode, data), size, t),
                "decode": _rate(partial(c.decode, full, size), size, t),
                "degraded": _rate(partial(c.decode, degraded, size), size, t),
                "rebuild": _rate(partial(c.reconstruct, one_lost, [0]), size, t),
            }
            if args.json:
                print(json.dumps(r))
            else:
                name = f"{r['profile']} ({c.backend})"
                print(
                    f"{name:34s} {size:8d} {r['encode']:8.2f} {r['decode']:8.2f} "
                    f"{r['degraded']:9.2f} {r['rebuild']:8.2f}"
                )


if __name__ == "__main__":
    main()
