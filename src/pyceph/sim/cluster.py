"""`SimCluster`: a whole cluster (mon, mgr, OSDs, clients) in the deterministic simulator.

The same daemon code that runs as processes over TCP runs here as tasks on one `SimLoop`:
each daemon gets its own `Runtime` - the shared virtual clock, its own host on the
shared `MemNetwork` (with the cluster's `FaultPlan` as link model), its own `SimDisk`
that survives its crashes, and its own random stream forked from the cluster's seed.
Configuration and keys are made the way `LocalCluster` makes them, in memory and from
the seed, so two clusters with the same seed run byte-identical message sequences.

Faults: `crash(name)` kills the daemon's host (connections reset, listener gone), loses
its un-synced disk state and cancels its task; `restart(name)` boots it again on what its
disk kept; `partition(a, b)`/`isolate(name)`/`heal()` cut and restore links. Everything
the cluster starts ends in `close()`.

Use it as `with SimCluster(seed) as c: c.run(scenario(c))`, where `scenario` awaits
`c.start()`, then `c.client()`, `c.wait_until(...)` and the fault methods.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pyceph.common.bootstrap import ADMIN_CAPS, BASE_OPTIONS, MGR_CAPS, MON_CAPS, OSD_CAPS
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring, generate_secret
from pyceph.common.runtime import IdleHost, Runtime
from pyceph.embedded.daemons import (
    cluster_conf_text,
    daemon_config,
    serve_daemon,
)
from pyceph.sim.clock import SimClock
from pyceph.sim.disk import SimDisk
from pyceph.sim.faults import FaultPlan, LinkSpec
from pyceph.sim.loop import DEFAULT_MAX_VIRTUAL_TIME, SimLoop, cancel_all
from pyceph.sim.memnet import MemNetwork, MessageTrace
from pyceph.sim.rand import SimRand

log = logging.getLogger(__name__)

T = TypeVar("T")

MON_IP = "10.0.0.1"
MON_PORT = 6789
MGR_IP = "10.0.0.2"
#: The machine name every simulated daemon reports (one CRUSH host, as on a laptop
#: cluster); the network still gives each daemon its own address.
SIM_HOSTNAME = "simhost"
#: Every OSD listens on its own host at this port (public_addr needs an explicit port).
OSD_PORT = 6800
#: How long (virtual seconds) a stopping or crashing daemon may take to unwind.
STOP_TIMEOUT = 60.0
#: Default bound on `wait_until` (virtual seconds).
WAIT_TIMEOUT = 300.0

__all__ = ["ADMIN_CAPS", "BASE_OPTIONS", "MGR_CAPS", "OSD_CAPS", "SimCluster", "SimDaemon"]


class SimDaemonError(RuntimeError):
    """A simulated daemon ended with an error instead of running."""


@dataclass
class SimDaemon:
    """One daemon slot: its identity, host, disk and current incarnation."""

    name: str
    kind: str
    ip: str
    disk: SimDisk
    boots: int = 0
    state: str = "new"  # new | running | stopped | crashed | failed
    task: asyncio.Task[None] | None = None
    stop_event: asyncio.Event | None = None
    runtime: Runtime | None = None
    obj: Any = None  # the daemon object of the current incarnation (MonDaemon, ...)
    error: BaseException | None = None
    history: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.name.split(".", 1)[1]


class SimCluster:
    """mon.a, mgr.x and `num_osds` OSDs on a simulated network, from one seed."""

    def __init__(
        self,
        seed: int,
        num_osds: int = 3,
        options: Mapping[str, str] | None = None,
        *,
        link: LinkSpec | None = None,
        trace: bool = True,
        with_mgr: bool = True,
        max_virtual_time: float = DEFAULT_MAX_VIRTUAL_TIME,
    ) -> None:
        self.seed = seed
        self.num_osds = num_osds
        self.loop = SimLoop(max_virtual_time)
        self.rand = SimRand(seed)
        self.clock = SimClock(self.loop)
        self.net = MemNetwork()
        self.faults = FaultPlan(self.rand.fork("faults"), link)
        self.faults.attach(self.net)
        self.trace: MessageTrace | None = MessageTrace(self.net) if trace else None
        self._keys_rand = self.rand.fork("keys")
        self.fsid = _uuid(self._keys_rand.randbytes(16))
        self.keyring = Keyring()
        self._add_key("client.admin", ADMIN_CAPS)
        self._add_key("mon.", MON_CAPS)
        self.daemons: dict[str, SimDaemon] = {}
        self._add_daemon("mon.a", "mon", MON_IP)
        if with_mgr:
            self._add_key("mgr.x", MGR_CAPS)
            self._add_daemon("mgr.x", "mgr", MGR_IP)
        for i in range(num_osds):
            self._add_key(f"osd.{i}", OSD_CAPS)
            self._add_daemon(f"osd.{i}", "osd", f"10.0.1.{i + 1}")
        self.options = dict(BASE_OPTIONS)
        self.options.update(options or {})
        # The OSD reads its key from a keyring *file* (pyceph.osd.daemon._secret): the one
        # piece of this cluster that touches the filesystem.
        self._tmp = tempfile.mkdtemp(prefix="pyceph-sim-")
        osd_keys = Keyring({k: v for k, v in self.keyring.entries.items() if k.startswith("osd.")})
        self._osd_keyring = os.path.join(self._tmp, "osd.keyring")
        osd_keys.save(self._osd_keyring)
        self.conf_text = self._conf_text()
        self._clients: list[Any] = []
        self._client_hosts = 0
        self._closed = False

    # -- set-up ---------------------------------------------------------------------
    def _add_key(self, entity: str, caps: Mapping[str, str]) -> None:
        key = generate_secret(rand=self._keys_rand.randbytes, now=self.clock.now)
        self.keyring.add(entity, key, dict(caps))

    def _add_daemon(self, name: str, kind: str, ip: str) -> None:
        disk = SimDisk(self.rand.fork(f"disk:{name}"))
        self.daemons[name] = SimDaemon(name, kind, ip, disk)
        self.net.host(name, ip)

    def _conf_text(self) -> str:
        osds = {n: (d.ip, OSD_PORT) for n, d in self.daemons.items() if d.kind == "osd"}
        return cluster_conf_text(
            self.fsid,
            (MON_IP, MON_PORT),
            self.options,
            osds,
            osd_data="/sim/$name",
            osd_keyring=self._osd_keyring,
        )

    def config(self, entity: str) -> CephConfig:
        """The configuration `entity` runs with (conf text + its key)."""
        return daemon_config(entity, self.conf_text, self.keyring, "<sim>")

    def runtime(self, host: str, label: str) -> Runtime:
        """A fresh Runtime on `host` (its disk if it is a daemon, else a scratch disk)."""
        d = self.daemons.get(host)
        disk = d.disk if d is not None else SimDisk(self.rand.fork(f"disk:{label}"))
        return Runtime(
            clock=self.clock,
            rand=self.rand.fork(f"rand:{label}"),
            net=self.net.host(host),
            disk=disk,
            host=IdleHost(SIM_HOSTNAME),
        )

    # -- running ----------------------------------------------------------------------
    def run(self, aw: Awaitable[T] | Coroutine[Any, Any, T]) -> T:
        """Run `aw` on the simulator's loop until it completes (in virtual time)."""
        return self.loop.run_until_complete(aw)

    def __enter__(self) -> SimCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Close the cluster and the loop (synchronous; for `with`)."""
        try:
            if not self.loop.is_closed():
                if not self._closed:
                    self.run(self.close())
                cancel_all(self.loop)
                self.loop.close()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)

    async def start(self) -> None:
        """Create the monitor's store and start every daemon (mon, mgr, OSDs in order)."""
        for name in self.daemons:
            self.start_daemon(name)
            if name == "mon.a":
                await asyncio.sleep(0.01)

    def start_daemon(self, name: str) -> None:
        d = self.daemons[name]
        if d.task is not None and not d.task.done():
            raise CephError(16, f"{name} is already running")
        d.boots += 1
        d.error = None
        d.runtime = self.runtime(name, f"{name}#{d.boots}")
        d.stop_event = asyncio.Event()
        d.state = "running"
        d.history.append(f"{self.loop.time():.6f} start")
        d.task = self.loop.create_task(self._run_daemon(d, d.stop_event), name=f"sim:{name}")

    async def _run_daemon(self, d: SimDaemon, stop: asyncio.Event) -> None:
        rt = d.runtime
        assert rt is not None
        cfg = self.config(d.name)
        try:
            kv = rt.disk.open_kv("/sim/mon.a/store") if d.kind == "mon" else None
            boot = (self.fsid, (MON_IP, MON_PORT), self.keyring) if d.boots == 1 else None
            await serve_daemon(
                d.kind,
                rt,
                cfg,
                stop,
                kv=kv,
                bootstrap=boot,
                on_daemon=lambda o: _set_obj(d, o),
                host_modules=False,
            )
            if d.state == "running":
                d.state = "stopped"
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if d.state == "running":
                d.state = "failed"
                d.error = e
                log.error("sim: %s failed: %r", d.name, e, exc_info=e)
        finally:
            if d.state in ("stopped", "failed"):
                d.disk.close_handles()

    async def stop(self, name: str, timeout: float = STOP_TIMEOUT) -> None:
        """Stop a daemon cleanly (as SIGTERM would) and wait until it has ended."""
        d = self.daemons[name]
        if d.task is None or d.task.done():
            return
        assert d.stop_event is not None
        d.history.append(f"{self.loop.time():.6f} stop")
        d.stop_event.set()
        done, _ = await asyncio.wait([d.task], timeout=timeout)
        if not done:
            log.warning("sim: %s did not stop within %ss; cancelling", name, timeout)
            d.task.cancel()
            await asyncio.wait([d.task])
        d.state = "stopped"
        d.disk.close_handles()

    async def crash(self, name: str) -> int:
        """kill -9 and power loss: connections reset, un-synced disk state lost.

        Returns how many un-synced store transactions were lost.
        """
        d = self.daemons[name]
        d.history.append(f"{self.loop.time():.6f} crash")
        d.state = "crashed"
        self.net.host(name).kill()
        lost = d.disk.crash()
        if d.task is not None and not d.task.done():
            d.task.cancel()
            done, _ = await asyncio.wait([d.task], timeout=STOP_TIMEOUT)
            if not done:
                raise SimDaemonError(f"{name} did not unwind after being cancelled")
        return lost

    async def restart(self, name: str) -> None:
        """Boot a stopped or crashed daemon again, on what its disk kept."""
        d = self.daemons[name]
        if d.task is not None and not d.task.done():
            await self.stop(name)
        self.net.host(name).revive()
        self.start_daemon(name)

    # -- network faults -----------------------------------------------------------------
    def partition(self, a: str | list[str], b: str | list[str]) -> None:
        """Cut group `a` from group `b` (host names: "osd.0", "mon.a", "client.1", ...)."""
        self.faults.partition(a, b)

    def isolate(self, name: str) -> None:
        """Cut one host from every other."""
        self.faults.isolate(name)

    def heal(self, a: str | None = None, b: str | None = None) -> None:
        self.faults.heal(a, b)

    # -- clients ------------------------------------------------------------------------
    async def client(self, entity: str = "client.admin", timeout: float = 60.0) -> Any:
        """A connected `RadosClient` on its own host ("client.N"); closed by `close()`."""
        from pyceph.client.rados_client import RadosClient

        self._client_hosts += 1
        host = f"client.{self._client_hosts}"
        self.net.host(host, f"10.0.2.{self._client_hosts}")
        rc = RadosClient(self.runtime(host, host), self.config(entity))
        self._clients.append(rc)
        await rc.connect(timeout)
        rc.sim_host = host  # type: ignore[attr-defined]
        return rc

    async def command(self, client: Any, prefix: str, **args: Any) -> Any:
        """A mon command through `client`, its JSON output decoded (CephError on error)."""
        cmd = {"prefix": prefix, "format": "json", **args}
        ret, out, outs = await client.mon_command(json.dumps(cmd))
        if ret < 0:
            raise CephError(-ret, outs)
        return json.loads(out) if out else None

    # -- observation --------------------------------------------------------------------
    @property
    def mon(self) -> Any:
        """The running MonDaemon (its `state.osdmap` is the committed OSDMap)."""
        return self.daemons["mon.a"].obj

    def osdmap(self) -> Any:
        mon = self.mon
        return mon.state.osdmap if mon is not None and mon.state is not None else None

    def osd_states(self) -> dict[int, tuple[bool, bool]]:
        """osd id → (up, in) as the monitor has committed it."""
        m = self.osdmap()
        if m is None:
            return {}
        return {i: (o.up, o.is_in) for i, o in sorted(m.osds.items()) if o.exists}

    async def wait_until(
        self,
        pred: Callable[[], bool],
        timeout: float = WAIT_TIMEOUT,
        interval: float = 0.1,
        what: str = "condition",
    ) -> float:
        """Poll `pred` in virtual time; returns the virtual seconds it took."""
        start = self.loop.time()
        while not pred():
            self.check_daemons()
            if self.loop.time() - start > timeout:
                raise TimeoutError(
                    f"seed {self.seed}: {what} not reached after {timeout}s virtual "
                    f"(t={self.loop.time():.3f}, osds={self.osd_states()})"
                )
            await asyncio.sleep(interval)
        return self.loop.time() - start

    async def wait_osds_up(self, n: int | None = None, timeout: float = WAIT_TIMEOUT) -> float:
        want = self.num_osds if n is None else n

        def ok() -> bool:
            st = self.osd_states()
            return sum(1 for up, inn in st.values() if up and inn) >= want

        return await self.wait_until(ok, timeout, what=f"{want} OSDs up+in")

    def check_daemons(self) -> None:
        """Raise if a daemon that should be running has died with an error."""
        for d in self.daemons.values():
            if d.state == "failed":
                raise SimDaemonError(f"seed {self.seed}: {d.name} failed: {d.error!r}")

    # -- the end ---------------------------------------------------------------------
    async def close(self) -> None:
        """Shut clients and daemons down; nothing the cluster started is left running."""
        if self._closed:
            return
        self._closed = True
        for rc in self._clients:
            try:
                await asyncio.wait_for(rc.shutdown(), STOP_TIMEOUT)
            except (CephError, TimeoutError) as e:
                log.warning("sim: client shutdown: %s", e)
        self._clients.clear()
        order = [n for n, d in self.daemons.items() if d.kind == "osd"]
        order += [n for n, d in self.daemons.items() if d.kind == "mgr"]
        order += [n for n, d in self.daemons.items() if d.kind == "mon"]
        for name in order:
            await self.stop(name)

    def leftover_tasks(self) -> list[asyncio.Task[Any]]:
        """Tasks still pending on the loop other than the caller's."""
        cur = asyncio.current_task(self.loop) if self.loop.is_running() else None
        return [t for t in asyncio.all_tasks(self.loop) if not t.done() and t is not cur]


def _set_obj(d: SimDaemon, obj: Any) -> None:
    d.obj = obj


def _uuid(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
