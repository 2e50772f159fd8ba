"""The model-checking workload with the thrasher, on many simulator seeds.

Each seed boots a 4-OSD simulated cluster with two size-3/min_size-2 pools (pool
snapshots in one, self-managed in the other), runs the workload while the thrasher
kills and restarts OSDs, cuts them off the network and marks them out and in, then heals
everything: HEALTH_OK with every PG active+clean within `HEAL_TIMEOUT` (virtual
seconds), and every object, at the head and at every live snapshot, reads back as the
model says. A failure names its seed (`tests/sim/conftest.py` prints the replay line).
A smaller set of seeds runs with two OSDs away at once (PGs go down or inactive; still
nothing acknowledged may be lost).
"""

from __future__ import annotations

import os
import time

import pytest

from pyceph.sim import seeds
from pyceph.sim.rand import SimRand
from pyceph.sim.thrasher import (
    HEAL_TIMEOUT,
    ThrashConfig,
    ThrashState,
    apply_action,
    choose_action,
    run_sim_seed,
)

#: At least this many seeds run in CI (`PYCEPH_SIM_SEEDS` replays chosen ones).
CI_SEEDS = 200
#: Seeds that found a bug, with what it was: they run whatever range CI runs.
REGRESSION_SEEDS = {
    68: "PG queries lost when a shared connect was cancelled: PGs peering for ever",
    14: "a new primary knew no watchers: a notify completed without the object's watcher",
    25: "a new primary knew no watchers: a notify completed without the object's watcher",
    37: "a new primary knew no watchers: a notify completed without the object's watcher",
    30523: "a primary's pg_temp request was lost with its monitor session and no later "
    "map made it ask again: PGs remapped+peering for ever",
}
SEEDS = seeds(count=CI_SEEDS)
if not os.environ.get("PYCEPH_SIM_SEEDS"):
    SEEDS += sorted(set(REGRESSION_SEEDS) - set(SEEDS))
#: Wall-clock bound on one seed: the scenario is short in wall time, long in virtual.
SEED_WALL_LIMIT = 60.0
#: Seeds run with two OSDs away at once (size 3, min_size 2: PGs may go inactive,
#: nothing acknowledged may be lost), at this many ops each (~1.3 s of CPU a seed).
MAX_DOWN_2_CI_SEEDS = 15
MAX_DOWN_2_OPS = 60
#: Seeds that lost acknowledged writes with two OSDs away, with what it was.
MAX_DOWN_2_REGRESSIONS = {
    4026: "a restarted OSD forgot a read/write interval it had walked and, as primary, "
          "went active on a log without its write (past intervals)",
    8338: "an OSD's mgr report loop spun on a timer shorter than the clock resolution: "
          "virtual time stopped before the cluster was healthy",
}  # fmt: skip
MAX_DOWN_2_SEEDS = seeds(count=MAX_DOWN_2_CI_SEEDS)
if not os.environ.get("PYCEPH_SIM_SEEDS"):
    MAX_DOWN_2_SEEDS += sorted(set(MAX_DOWN_2_REGRESSIONS) - set(MAX_DOWN_2_SEEDS))


@pytest.mark.parametrize("seed", SEEDS)
def test_thrashed_cluster_keeps_every_acknowledged_op(seed):
    wall = time.monotonic()
    res = run_sim_seed(seed)
    took = time.monotonic() - wall
    assert res.ops > 0 and res.reads_checked > 0, f"seed {seed}: nothing checked: {res}"
    assert res.actions.get("kill", 0) + res.actions.get("isolate", 0) > 0, (
        f"seed {seed}: no OSD was killed or cut off: {res.actions}"
    )
    assert res.heal_seconds <= HEAL_TIMEOUT
    assert took < SEED_WALL_LIMIT, f"seed {seed}: {took:.1f}s of wall time"


@pytest.mark.parametrize("seed", MAX_DOWN_2_SEEDS)
def test_two_osds_away_loses_no_acknowledged_op(seed):
    """Replay: `python scripts/sim_seeds.py --seeds SEED --ops 60 --max-down 2`."""
    wall = time.monotonic()
    res = run_sim_seed(seed, ops=MAX_DOWN_2_OPS, max_down=2)
    took = time.monotonic() - wall
    assert res.ops > 0 and res.reads_checked > 0, f"seed {seed}: nothing checked: {res}"
    assert res.heal_seconds <= HEAL_TIMEOUT
    assert took < SEED_WALL_LIMIT, f"seed {seed}: {took:.1f}s of wall time"


def test_a_seed_replays_the_same_history():
    a = run_sim_seed(7, ops=80)
    b = run_sim_seed(7, ops=80)
    assert a == b


def test_thrasher_policy_keeps_its_bounds():
    """Over many seeded draws, never more than max_down OSDs away nor max_out out, and
    every kind of action happens."""
    cfg = ThrashConfig(max_down=1, max_out=1)
    st = ThrashState([0, 1, 2, 3])
    rand = SimRand(5)
    seen = set()
    for _ in range(2000):
        action, osd = choose_action(st, cfg, rand, partitions=True)
        apply_action(st, action, osd)
        seen.add(action)
        assert len(st.dead | st.isolated) <= 1 and len(st.out) <= 1, st
    assert seen == {"kill", "revive", "isolate", "heal", "out", "in"}
    no_parts = {choose_action(st, cfg, rand, partitions=False)[0] for _ in range(200)}
    assert "isolate" not in no_parts
