"""CPU per 4 KiB write through the embedded cluster's async core, writes only; not a test.

The OSD client-op path's cost (primary `do_op`, replicas' `handle_rep_op`, the memory
store) is most of a write's CPU in the embedded cluster; this measures just that
workload, so a profile of it (`py-spy record -f raw -- python bench/oppath_bench.py`)
is not diluted by reads or start-up. Prints the process's CPU µs per write (every
thread: the daemons run in this process) of each of `--rounds` rounds, and their median.

    python bench/oppath_bench.py [--ops N] [--objects N] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=2000, help="writes per round")
    p.add_argument("--objects", type=int, default=500, help="objects the writes cycle over")
    p.add_argument("--rounds", type=int, default=3, help="measured rounds")
    args = p.parse_args()
    import rados
    from rados._core import core_ioctx, run

    data = os.urandom(4096)
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        r.create_pool("bench")
        with r.open_ioctx("bench") as io:
            aio = core_ioctx(io)

            async def writes(n: int) -> float:
                c0 = time.process_time()
                for i in range(n):
                    await aio.write_full(f"o{i % args.objects}", data)
                return (time.process_time() - c0) * 1e6 / n

            run(io, writes(args.objects))  # warm-up: every object exists
            rounds = [run(io, writes(args.ops)) for _ in range(args.rounds)]
    print(
        "CPU µs/write:",
        " ".join(f"{x:.0f}" for x in rounds),
        f"median {statistics.median(rounds):.0f}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
