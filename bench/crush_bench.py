"""Micro benchmark of a CRUSH mapping (not a test): microseconds per `do_rule`.

Every PG mapping the OSDs, the monitor and the clients compute goes through it (issue 11
names pure-Python CRUSH as a suspect). A 3-host replicated rule, as `pyceph up` makes.

    python bench/crush_bench.py [--osds N] [--mappings N]
"""

from __future__ import annotations

import argparse
import time

from pyceph.crush.map import CrushMap


def per_mapping(osds: int, mappings: int) -> float:
    """Seconds per mapping of `mappings` placement seeds onto `osds` OSDs, one per host."""
    m = CrushMap.new_default()
    for osd in range(osds):
        m.add_osd(osd, 1.0, {"host": f"h{osd}", "root": "default"})
    weights = [0x10000] * osds
    m.do_rule(0, 0, 3, weights)  # warm
    start = time.perf_counter()
    for x in range(mappings):
        m.do_rule(0, x, 3, weights)
    return (time.perf_counter() - start) / mappings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--osds", type=int, default=3)
    ap.add_argument("--mappings", type=int, default=20000)
    args = ap.parse_args()
    print(f"{per_mapping(args.osds, args.mappings) * 1e6:.1f} us per mapping "
          f"({args.osds} OSDs, size 3)")  # fmt: skip


if __name__ == "__main__":
    main()
