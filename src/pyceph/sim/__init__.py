"""The deterministic simulator and the in-memory network.

`memnet` is an in-memory implementation of the runtime's `Network` (used by the embedded
cluster too); `loop`, `clock`, `rand`, `disk` and `faults` supply virtual time, seeded
randomness, crashable disks and network faults; `cluster.SimCluster` runs a whole cluster
on them, reproducibly from one seed.
"""

from __future__ import annotations

import os

#: Seeds the simulator tests run by default; `PYCEPH_SIM_SEEDS=7,8` replays others.
DEFAULT_SEEDS = (1, 2, 3)


def seeds(default: tuple[int, ...] = DEFAULT_SEEDS) -> list[int]:
    """The seeds to run: `$PYCEPH_SIM_SEEDS` (comma or space separated) or `default`."""
    env = os.environ.get("PYCEPH_SIM_SEEDS", "").replace(",", " ").split()
    return [int(s) for s in env] if env else list(default)
