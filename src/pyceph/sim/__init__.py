"""The deterministic simulator and the in-memory network.

`memnet` is an in-memory implementation of the runtime's `Network` (used by the embedded
cluster too); `loop`, `clock`, `rand`, `disk` and `faults` supply virtual time, seeded
randomness, crashable disks and network faults; `cluster.SimCluster` runs a whole cluster
on them, reproducibly from one seed. `model` (what acknowledged ops must leave behind),
`workload` (a `ceph_test_rados`-style op mix checked against it) and `thrasher` (kills,
restarts, partitions, out/in) make the model checker that runs in the simulator and
against real daemons.
"""

from __future__ import annotations

import os

#: Seeds the simulator tests run by default; `PYCEPH_SIM_SEEDS=7,8` replays others.
DEFAULT_SEEDS = (1, 2, 3)


def seeds(default: tuple[int, ...] = DEFAULT_SEEDS, *, count: int = 0) -> list[int]:
    """The seeds to run: `$PYCEPH_SIM_SEEDS` (comma or space separated), else seeds
    1..`count` when `count` is given, else `default`."""
    env = os.environ.get("PYCEPH_SIM_SEEDS", "").replace(",", " ").split()
    if env:
        return [int(s) for s in env]
    return list(range(1, count + 1)) if count else list(default)
