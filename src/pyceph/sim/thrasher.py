"""The OSD thrasher: kills, revives, isolates and marks OSDs out and in, from a seed.

Upstream's QA thrasher (`qa/tasks/ceph_manager.py` `OSDThrasher`) is the model: at
random intervals it picks one of the actions the current state allows — kill an OSD,
revive a dead one, mark one out, mark one in (and, in the simulator, cut one from the
network and heal it) — never taking more than `max_down` OSDs away at once (with
size 3 / min_size 2 pools, one: every PG keeps min_size copies, so I/O continues) nor
marking more than `max_out` out. The choice is a plain function of the state and a
random stream (`choose_action`), so a seed gives one sequence of actions.

It runs against a `ThrashBackend`: `SimBackend` drives a `SimCluster` (crash =
kill -9 plus the loss of un-synced disk state; isolate/heal = a network partition),
`ProcessBackend` drives the daemon processes of a `LocalCluster` (kill -9 and restart).
`stop_and_heal` brings every OSD back up and in; `wait_healthy` then waits, within a
named bound, for HEALTH_OK with every PG active+clean.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyceph.common.errors import CephError

log = logging.getLogger(__name__)

#: After the thrasher stops, the cluster must be HEALTH_OK and active+clean within this
#: many seconds (virtual in the simulator).
HEAL_TIMEOUT = 300.0
#: How often `wait_healthy` polls the cluster's status.
HEALTH_POLL = 0.5
#: How long a restarted OSD process may take to come up on a loaded machine (seconds).
REVIVE_TIMEOUT = 120.0


class ThrashBackend(Protocol):
    """What the thrasher needs from a cluster."""

    osd_ids: list[int]
    supports_partitions: bool

    async def kill_osd(self, osd: int) -> None: ...

    async def revive_osd(self, osd: int) -> None: ...

    async def isolate_osd(self, osd: int) -> None: ...

    async def heal_osd(self, osd: int) -> None: ...

    async def command(self, prefix: str, **args: Any) -> Any: ...


@dataclass
class ThrashConfig:
    max_down: int = 1  #: OSDs dead or isolated at once (size - min_size)
    max_out: int = 1  #: OSDs marked out at once
    min_interval: float = 1.0  #: seconds between actions, drawn uniformly
    max_interval: float = 5.0
    partitions: bool = True  #: isolate/heal when the backend supports it
    #: the first action, when allowed (a run that never takes an OSD away proves little)
    first: str | None = "kill"
    #: relative weights of the actions (only the allowed ones are drawn from)
    weights: dict[str, int] = field(
        default_factory=lambda: {
            "kill": 6, "revive": 6, "out": 2, "in": 2, "isolate": 2, "heal": 2,
        }
    )  # fmt: skip


@dataclass
class ThrashState:
    osds: list[int]
    dead: set[int] = field(default_factory=set)
    isolated: set[int] = field(default_factory=set)
    out: set[int] = field(default_factory=set)


def allowed_actions(st: ThrashState, cfg: ThrashConfig, partitions: bool) -> list[tuple[str, int]]:
    """Every (action, osd) the state allows under the config's bounds."""
    away = st.dead | st.isolated
    acts: list[tuple[str, int]] = []
    healthy = [o for o in st.osds if o not in away]
    if len(away) < cfg.max_down:
        acts += [("kill", o) for o in healthy]
        if partitions:
            acts += [("isolate", o) for o in healthy]
    acts += [("revive", o) for o in sorted(st.dead)]
    acts += [("heal", o) for o in sorted(st.isolated)]
    if len(st.out) < cfg.max_out:
        acts += [("out", o) for o in st.osds if o not in st.out]
    acts += [("in", o) for o in sorted(st.out)]
    return acts


def choose_action(
    st: ThrashState, cfg: ThrashConfig, rand: Any, partitions: bool
) -> tuple[str, int]:
    """One allowed action, drawn by weight (sans-I/O: the thrasher's whole policy)."""
    acts = [a for a in allowed_actions(st, cfg, partitions) if cfg.weights.get(a[0], 0) > 0]
    total = sum(cfg.weights[a] for a, _ in acts)
    x = rand.random() * total
    for a, o in acts:
        x -= cfg.weights[a]
        if x < 0:
            return a, o
    return acts[-1]


def apply_action(st: ThrashState, action: str, osd: int) -> None:
    {"kill": st.dead.add, "revive": st.dead.discard, "isolate": st.isolated.add,
     "heal": st.isolated.discard, "out": st.out.add, "in": st.out.discard}[action](osd)  # fmt: skip


class Thrasher:
    """Runs `choose_action` against a backend until stopped; then heals everything."""

    def __init__(
        self, backend: ThrashBackend, rand: Any, config: ThrashConfig | None = None
    ) -> None:
        self.backend = backend
        self.rand = rand
        self.cfg = config or ThrashConfig()
        self.state = ThrashState(list(backend.osd_ids))
        self.counts: Counter[str] = Counter()
        self.log: list[str] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._clock: Callable[[], float] = asyncio.get_running_loop().time

    def start(self) -> None:
        """Start thrashing in a task this object owns (`stop` ends and joins it)."""
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        parts = self.cfg.partitions and self.backend.supports_partitions
        while not self._stop.is_set():
            delay = self.rand.uniform(self.cfg.min_interval, self.cfg.max_interval)
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
                return
            except TimeoutError:
                pass
            action, osd = choose_action(self.state, self.cfg, self.rand, parts)
            if not self.counts and self.cfg.first:
                firsts = [a for a in allowed_actions(self.state, self.cfg, parts)
                          if a[0] == self.cfg.first]  # fmt: skip
                if firsts:
                    action, osd = firsts[self.rand.randrange(len(firsts))]
            await self._do(action, osd)

    async def _do(self, action: str, osd: int) -> None:
        self.log.append(f"{self._clock():.3f} {action} osd.{osd}")
        log.info("thrasher: %s osd.%d", action, osd)
        b = self.backend
        if action == "kill":
            await b.kill_osd(osd)
        elif action == "revive":
            await b.revive_osd(osd)
        elif action == "isolate":
            await b.isolate_osd(osd)
        elif action == "heal":
            await b.heal_osd(osd)
        elif action == "out":
            await b.command("osd out", ids=[str(osd)])
        elif action == "in":
            await b.command("osd in", ids=[str(osd)])
        apply_action(self.state, action, osd)
        self.counts[action] += 1

    async def stop(self) -> None:
        """End the thrashing task (after the action in progress)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def stop_and_heal(self) -> None:
        """Stop, then bring every OSD back: heal, revive, mark in."""
        await self.stop()
        for o in sorted(self.state.isolated):
            await self._do("heal", o)
        for o in sorted(self.state.dead):
            await self._do("revive", o)
        for o in sorted(self.state.out):
            await self._do("in", o)

    async def wait_healthy(self, timeout: float = HEAL_TIMEOUT) -> float:
        """Wait until HEALTH_OK, every OSD up and in and every PG active+clean; returns
        the seconds it took. Raises TimeoutError with the last status otherwise."""
        start = self._clock()
        last: dict[str, Any] = {}
        while self._clock() - start < timeout:
            try:
                st = await self.backend.command("status")
            except CephError as e:
                last = {"error": str(e)}
            else:
                last = st
                if status_is_healthy(st, len(self.backend.osd_ids)):
                    return self._clock() - start
            await asyncio.sleep(HEALTH_POLL)
        raise TimeoutError(
            f"not HEALTH_OK + active+clean {timeout}s after thrashing stopped; "
            f"thrasher log tail {self.log[-8:]}; status: {json.dumps(last)[:3000]}"
        )


def status_is_healthy(st: dict[str, Any], num_osds: int) -> bool:
    """`ceph status` JSON says HEALTH_OK, all OSDs up and in, all PGs active+clean."""
    if st.get("health", {}).get("status") != "HEALTH_OK":
        return False
    om = st.get("osdmap", {})
    if om.get("num_up_osds") != num_osds or om.get("num_in_osds") != num_osds:
        return False
    pg = st.get("pgmap", {})
    states = {s["state_name"]: s["count"] for s in pg.get("pgs_by_state", [])}
    return bool(pg.get("num_pgs")) and states.get("active+clean") == pg["num_pgs"]


async def mon_command(client: Any, prefix: str, **args: Any) -> Any:
    """A monitor command through a RadosClient; its JSON output (CephError on error)."""
    ret, out, outs = await client.mon_command(
        json.dumps({"prefix": prefix, "format": "json", **args})
    )
    if ret < 0:
        raise CephError(-ret, outs)
    return json.loads(out) if out else None


class SimBackend:
    """Thrash a `SimCluster`: crash/restart daemons, isolate/heal their hosts."""

    supports_partitions = True

    def __init__(self, cluster: Any, client: Any) -> None:
        self.cluster = cluster
        self.client = client
        self.osd_ids = [int(n.split(".")[1]) for n, d in cluster.daemons.items() if d.kind == "osd"]

    async def kill_osd(self, osd: int) -> None:
        await self.cluster.crash(f"osd.{osd}")

    async def revive_osd(self, osd: int) -> None:
        await self.cluster.restart(f"osd.{osd}")

    async def isolate_osd(self, osd: int) -> None:
        self.cluster.isolate(f"osd.{osd}")

    async def heal_osd(self, osd: int) -> None:
        self.cluster.heal(f"osd.{osd}")

    async def command(self, prefix: str, **args: Any) -> Any:
        return await mon_command(self.client, prefix, **args)


class ProcessBackend:
    """Thrash the OSD processes of a `LocalCluster` (kill -9, start again)."""

    supports_partitions = False

    def __init__(self, cluster: Any, client: Any) -> None:
        self.cluster = cluster
        self.client = client
        self.osd_ids = [int(d.id) for d in cluster.daemons() if d.kind == "osd"]

    async def kill_osd(self, osd: int) -> None:
        await asyncio.to_thread(self.cluster.kill, f"osd.{osd}")

    async def revive_osd(self, osd: int) -> None:
        name = f"osd.{osd}"
        try:
            await asyncio.to_thread(self.cluster.start, [name])
        except CephError as e:
            # on a loaded machine the process may take longer than LocalCluster's wait to
            # write its pid file: give it REVIVE_TIMEOUT (never start a second one)
            if e.errno != errno.ETIMEDOUT:
                raise
            loop = asyncio.get_running_loop()
            deadline = loop.time() + REVIVE_TIMEOUT
            while self.cluster.running().get(name) is None:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(HEALTH_POLL)

    async def isolate_osd(self, osd: int) -> None:
        raise NotImplementedError("real processes are not partitioned")

    async def heal_osd(self, osd: int) -> None:
        raise NotImplementedError("real processes are not partitioned")

    async def command(self, prefix: str, **args: Any) -> Any:
        return await mon_command(self.client, prefix, **args)


# -- the simulator scenario: workload + thrasher on one seed -----------------------------
@dataclass
class SeedResult:
    """What one simulated seed did (for tests and `scripts/sim_seeds.py`)."""

    seed: int
    ops: int
    reads_checked: int
    unknown: int
    actions: dict[str, int]
    heal_seconds: float
    virtual_seconds: float


#: Pools of the scenario: size 3, min_size 2, this many PGs each.
SIM_PG_NUM = 8
#: OSDs of a simulated thrash cluster (one may be dead and another out at a time).
SIM_OSDS = 4
#: Ops per seed, and each worker's pause between them (virtual seconds): ~20 virtual
#: seconds of workload under the thrasher for under a second of CPU.
SIM_OPS = 120
SIM_THINK = 2.0
#: The thrasher's pause between actions (virtual seconds, drawn uniformly).
SIM_THRASH_INTERVAL = (0.5, 4.0)
#: Probability that a message write resets its connection (a lost TCP segment): the
#: messenger's reconnect and the clients' and OSDs' resend paths run in every seed.
SIM_LINK_DROP = 0.001
#: Failure detection as the integration tests' clusters have it: a dead OSD is marked
#: down within seconds, so peering happens while the workload runs.
SIM_OPTIONS = {"osd_heartbeat_interval": "1", "osd_heartbeat_grace": "3"}


async def setup_pools(command: Callable[..., Any], client: Any, names: list[str]) -> dict[str, int]:
    """Create replicated pools (size 3, min_size 2, an application) and return their ids."""
    for name in names:
        await command("osd pool create", pool=name, pg_num=SIM_PG_NUM)
        await command("osd pool set", pool=name, var="min_size", val="2")
        await command("osd pool application enable", pool=name, app="rados")
    await client.wait_for_latest_osdmap()
    return {name: client.osdmap.lookup_pool(name) for name in names}


def run_sim_seed(
    seed: int,
    ops: int = SIM_OPS,
    *,
    thrash: ThrashConfig | None = None,
    workload: Any = None,
    options: dict[str, str] | None = None,
    link_drop: float = SIM_LINK_DROP,
    max_down: int = 1,
) -> SeedResult:
    """One seed: a 4-OSD simulated cluster, the model-checking workload with the thrasher
    (kills, restarts, partitions, out/in), then heal, HEALTH_OK + active+clean within
    HEAL_TIMEOUT and a full check of every object. Raises on any violation."""
    from pyceph.sim.cluster import SimCluster
    from pyceph.sim.workload import POOL_SNAPS, SELF_SNAPS, Workload, WorkloadConfig

    cfg = workload or WorkloadConfig(think=SIM_THINK, op_timeout=90.0)
    tcfg = thrash or ThrashConfig(
        min_interval=SIM_THRASH_INTERVAL[0],
        max_interval=SIM_THRASH_INTERVAL[1],
        max_down=max_down,
        max_out=max_down,
    )
    opts = dict(SIM_OPTIONS if options is None else options)
    with SimCluster(seed, num_osds=SIM_OSDS, options=opts) as c:
        c.faults.set_default(drop=link_drop)

        async def main() -> SeedResult:
            await c.start()
            await c.wait_osds_up()
            rc = await c.client()

            async def command(prefix: str, **args: Any) -> Any:
                return await mon_command(rc, prefix, **args)

            ids = await setup_pools(command, rc, [POOL_SNAPS, SELF_SNAPS])
            backend = SimBackend(c, rc)
            th = Thrasher(backend, c.rand.fork("thrasher"), tcfg)
            await th.wait_healthy()
            wl = Workload(
                rc, ids, c.rand.fork("workload"), cfg, describe_replicas=sim_replica_describer(c)
            )
            await wl.setup()
            t0 = c.loop.time()
            th.start()
            try:
                st = await wl.run(ops)
            finally:
                await th.stop_and_heal()
            healed = await th.wait_healthy()
            await wl.verify_all()
            await wl.close()
            return SeedResult(seed, st.total(), st.reads_checked, st.unknown,
                              dict(th.counts), healed, c.loop.time() - t0)  # fmt: skip

        return c.run(main())


def sim_replica_describer(cluster: Any) -> Callable[[int, str], str]:
    """For a violation report: each simulated OSD's copy of an object, read straight from
    its disk (every collection of the pool that holds the name, clones included)."""

    def describe(pool_id: int, oid: str) -> str:
        lines = []
        for name, d in sorted(cluster.daemons.items()):
            if d.kind != "osd":
                continue
            for path, platter in sorted(d.disk._stores.items()):
                store = platter.handle
                if store is None:
                    continue
                try:
                    lines += _describe_copies(name, d.state, store, pool_id, oid)
                except Exception as e:  # a report must not hide the violation
                    lines.append(f"  {name} {path}: unreadable: {e!r}")
        return "\n".join(lines) or "  (no copy on any OSD)"

    return describe


def _describe_copies(osd: str, state: str, store: Any, pool_id: int, oid: str) -> list[str]:
    out = []
    for cid in store.list_collections():
        if not cid.startswith(f"{pool_id}."):
            continue
        start = None
        while True:
            keys, start = store.collection_list(cid, start)
            for k in keys:
                if k.name != oid:
                    continue
                data = store.read(cid, k)
                attrs = sorted(a for a in store.getattrs(cid, k) if a.startswith("_"))
                omap = [key for key, _v in store.omap_get_values(cid, k)]
                out.append(
                    f"  {osd} ({state}) {cid} snap={k.snap:#x}: size={len(data)} "
                    f"data[:16]={data[:16]!r} xattrs={attrs} omap={omap}"
                )
            if start is None:
                break
    return out
