"""`EmbeddedCluster`: mon.a, mgr.x and N OSDs as tasks on one event loop in this process.

The daemons are the ones `pyceph up` runs as processes; here each gets its own `Runtime`
(the wall clock, OS randomness, its own host on one in-memory `MemNetwork`, and LMDB
under the cluster's directory or memory stores) and they talk over the in-memory network
instead of TCP. Clients of the cluster get a host of their own on that network.

A cluster kept in a directory (``mon_host = embedded:DIR``) looks like this::

    DIR/embedded.lock   flock'ed (exclusive) while a process runs the cluster
    DIR/ceph.conf       fsid, `mon_host = embedded:DIR` and the cluster's options
    DIR/keyring         every entity's key (client.admin, mon., mgr.x, osd.N)
    DIR/mon.a/store     the monitor's store (LMDB)
    DIR/osd.N/store     each OSD's object store (LMDB)

`ceph.conf` and `keyring` are written once, when the cluster is created; options added to
the [global] section of `ceph.conf` reach the daemons on the next start. A memory-only
cluster (``mon_host = embedded:``) keeps all of this in memory.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import logging
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pyceph.common.bootstrap import BASE_OPTIONS
from pyceph.common.conffile import parse_conf
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring, decode_secret, generate_secret
from pyceph.common.runtime import RealClock, RealDisk, RealRand, Runtime
from pyceph.embedded.daemons import (
    MON_STORE,
    cluster_conf_text,
    daemon_config,
    make_keyring,
    serve_daemon,
)
from pyceph.mgr.pgmap import capacity_known
from pyceph.sim.memnet import MemNetwork
from pyceph.store.errors import StoreError
from pyceph.store.memstore import MemStore
from pyceph.store.types import StoreSettings

log = logging.getLogger(__name__)

#: Where the daemons and clients sit on the cluster's in-memory network.
MON_ADDR = ("10.0.0.1", 6789)
MGR_IP = "10.0.0.2"
OSD_PORT = 6800
CLIENT_IP = "10.0.2.1"

LOCK_FILE = "embedded.lock"
CONF_FILE = "ceph.conf"
KEYRING_FILE = "keyring"
#: The `mon_host` prefix that selects an embedded cluster.
PREFIX = "embedded:"

#: Settings an embedded cluster adds to `BASE_OPTIONS`: one process, no real failures
#: to detect, so daemons report often and tick fast (the values the integration
#: tests use for real clusters).
EMBEDDED_OPTIONS = {
    "mon_tick_interval": "1",
    "mgr_stats_period": "1",
    "osd_heartbeat_interval": "1",
    "osd_heartbeat_grace": "5",
    # the mgr runs only its built-in modules: importing the host's other module folders
    # (Debian's, when installed) costs every process that embeds a cluster a second of CPU
    "mgr_module_path": "",
}
#: Options of ceph.conf's [global] that describe where the cluster is, not how it runs.
_LAYOUT_KEYS = {"fsid", "mon_host", "keyring"}

#: How long start-up may take before it fails (ETIMEDOUT).
START_TIMEOUT = 30.0
#: How long each daemon may take to stop cleanly before it is cancelled.
STOP_TIMEOUT = 10.0
#: How long a client may take to shut down when the cluster stops under it.
CLIENT_STOP_TIMEOUT = 5.0
#: How often start-up checks whether the cluster is ready.
READY_POLL = 0.002


class _MemStore(MemStore):
    """A MemStore that, like a real disk, holds no store until `mkfs`."""

    created = False

    def mkfs(self) -> None:
        super().mkfs()
        self.created = True

    def mount(self) -> None:
        if not self.created:
            raise StoreError(errno.ENOENT, "no store here; run mkfs")
        super().mount()


class MemDisk:
    """Memory stores (the runtime's `Disk`); a path opened again gets the same store."""

    def __init__(self) -> None:
        self._stores: dict[str, Any] = {}
        self._kvs: dict[str, Any] = {}

    def open_store(self, path: str, capacity: int, settings: StoreSettings) -> Any:
        st = self._stores.get(path)
        if st is None:
            st = self._stores[path] = _MemStore(capacity or None, settings.extent_size)
        return st

    def open_kv(self, path: str) -> Any:
        from pyceph.common.kvstore import MemKV

        kv = self._kvs.get(path)
        if kv is None:
            kv = self._kvs[path] = MemKV()
        return kv


@dataclass
class _Daemon:
    name: str
    kind: str
    ip: str
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event | None = None
    obj: Any = None
    error: BaseException | None = None


def parse_target(mon_host: object) -> str | None:
    """None when `mon_host` names no embedded cluster; "" for memory; else the DIR."""
    text = str(mon_host or "").strip()
    if not text.startswith(PREFIX):
        return None
    path = text[len(PREFIX) :].strip()
    return os.path.realpath(os.path.expanduser(path)) if path else ""


class EmbeddedCluster:
    """One embedded cluster; `path` None keeps it in memory."""

    def __init__(self, path: str | None, num_osds: int = 3) -> None:
        self.path = path
        self.num_osds = num_osds
        self.fsid = ""
        self.keyring = Keyring()
        self.options: dict[str, str] = {}
        self.net: MemNetwork | None = None
        self.daemons: dict[str, _Daemon] = {}
        self.startup_seconds = 0.0
        self._disk: Any = RealDisk() if path is not None else MemDisk()
        self._lock_fd: int | None = None
        self._tmp: str | None = None
        self._osd_keyring = ""
        self._clients: set[Any] = set()
        self._client_host: Any = None
        self.running = False

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.path or ''}"

    @property
    def mon(self) -> Any:
        """The running MonDaemon."""
        d = self.daemons.get("mon.a")
        return d.obj if d is not None else None

    # -- files (the caller's thread) ----------------------------------------------------
    def prepare(self) -> None:
        """Lock the directory and load (or create) the cluster's identity and keys."""
        if self.path is None:
            self._create_identity()
            self._tmp = tempfile.mkdtemp(prefix="pyceph-embedded-")
            self._osd_keyring = os.path.join(self._tmp, "osd.keyring")
            osd_keys = {k: v for k, v in self.keyring.entries.items() if k.startswith("osd.")}
            Keyring(osd_keys).save(self._osd_keyring)
            return
        os.makedirs(self.path, exist_ok=True)
        self._lock()
        try:
            conf = os.path.join(self.path, CONF_FILE)
            if os.path.exists(conf):
                self._load(conf)
            else:
                self._create_files(conf)
            for sub in ["mon.a", *(f"osd.{i}" for i in range(self.num_osds))]:
                os.makedirs(os.path.join(self.path, sub), exist_ok=True)
            self._osd_keyring = os.path.join(self.path, KEYRING_FILE)
        except BaseException:
            self._unlock()
            raise

    def _lock(self) -> None:
        assert self.path is not None
        lock_path = os.path.join(self.path, LOCK_FILE)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise CephError(
                errno.EBUSY, f"embedded cluster {self.path} is in use by process {holder}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            os.close(fd)  # releases the flock

    def _create_identity(self) -> None:
        self.fsid = str(uuid.uuid4())
        names = ["client.admin", "mon.", "mgr.x", *(f"osd.{i}" for i in range(self.num_osds))]
        self.keyring = make_keyring(names, generate_secret)
        self.options = {"pyceph_embedded_num_osds": str(self.num_osds)}

    def _create_files(self, conf: str) -> None:
        assert self.path is not None
        foreign = [e for e in os.listdir(self.path) if e != LOCK_FILE]
        if foreign:
            raise CephError(
                errno.ENOTEMPTY, f"{self.path} is not empty and holds no embedded cluster"
            )
        self._create_identity()
        self.keyring.save(os.path.join(self.path, KEYRING_FILE))
        lines = [
            "# A pyceph embedded cluster: open it with mon_host = embedded:<this directory>.",
            "# Options added to [global] reach its daemons when it next starts.",
            "[global]",
            f"fsid = {self.fsid}",
            f"mon_host = {PREFIX}{self.path}",
            *(f"{k} = {v}" for k, v in self.options.items()),
            "",
        ]
        tmp = conf + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, conf)  # the cluster exists once its ceph.conf does

    def _load(self, conf: str) -> None:
        assert self.path is not None
        with open(conf) as f:
            glob = parse_conf(f.read()).get("global", {})
        if not str(glob.get("mon_host", "")).startswith(PREFIX) or not glob.get("fsid"):
            raise CephError(errno.EINVAL, f"{conf} is not the conf of an embedded cluster")
        self.fsid = glob["fsid"]
        self.options = {k: v for k, v in glob.items() if k not in _LAYOUT_KEYS}
        self.keyring = Keyring.load(os.path.join(self.path, KEYRING_FILE))
        osds = sorted(int(e[4:]) for e in self.keyring.entries if e.startswith("osd."))
        self.num_osds = len(osds)

    def _conf_text(self) -> str:
        osds = {f"osd.{i}": (f"10.0.1.{i + 1}", OSD_PORT) for i in range(self.num_osds)}
        data = self.path if self.path is not None else "/embedded"
        return cluster_conf_text(
            self.fsid,
            MON_ADDR,
            {**BASE_OPTIONS, **EMBEDDED_OPTIONS, **self.options},
            osds,
            osd_data=f"{data}/$name",
            osd_keyring=self._osd_keyring,
        )

    # -- running (the loop) -------------------------------------------------------------
    def _runtime(self, host: str, ip: str) -> Runtime:
        assert self.net is not None
        return Runtime(
            clock=RealClock(), rand=RealRand(), net=self.net.host(host, ip), disk=self._disk
        )

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start every daemon and return once all OSDs are up and in and the mgr active."""
        t0 = time.monotonic()
        # in-process daemons and clients: frames are handed over whole (no bytes, no crc)
        self.net = MemNetwork(local_frames=True)
        self._client_host = self.net.host("client", CLIENT_IP)
        conf = self._conf_text()
        self.daemons = {"mon.a": _Daemon("mon.a", "mon", MON_ADDR[0])}
        self.daemons["mgr.x"] = _Daemon("mgr.x", "mgr", MGR_IP)
        for i in range(self.num_osds):
            self.daemons[f"osd.{i}"] = _Daemon(f"osd.{i}", "osd", f"10.0.1.{i + 1}")
        self.running = True
        try:
            mon = self.daemons["mon.a"]
            self._spawn(mon, conf)
            mon_net = self.net.host("mon.a")
            await self._wait(lambda: MON_ADDR[1] in mon_net._listeners, t0 + timeout, "mon")
            for d in self.daemons.values():
                if d.task is None:
                    self._spawn(d, conf)
            await self._wait(self._ready, t0 + timeout, "all OSDs up and the mgr active")
        except BaseException:
            await self.stop()
            raise
        finally:
            if self._tmp is not None:  # every OSD has read its key by now
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None
        self.startup_seconds = time.monotonic() - t0
        log.info("embedded cluster %s started in %.3fs", self.name, self.startup_seconds)

    def _spawn(self, d: _Daemon, conf: str) -> None:
        rt = self._runtime(d.name, d.ip)
        cfg = daemon_config(d.name, conf, self.keyring, f"<{self.name}>")
        d.stop = asyncio.Event()
        d.task = asyncio.get_running_loop().create_task(
            self._run_daemon(d, rt, cfg, d.stop), name=f"embedded:{d.name}"
        )

    async def _run_daemon(
        self, d: _Daemon, rt: Runtime, cfg: CephConfig, stop: asyncio.Event
    ) -> None:
        kv = None
        try:
            if d.kind == "mon":
                data = self.path if self.path is not None else "/embedded"
                kv = rt.disk.open_kv(os.path.join(data, "mon.a", MON_STORE))
            await serve_daemon(
                d.kind,
                rt,
                cfg,
                stop,
                kv=kv,
                bootstrap=(self.fsid, MON_ADDR, self.keyring),
                on_daemon=lambda obj: setattr(d, "obj", obj),
                client_mon_host=self.name,
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:
            d.error = e
            log.error("embedded %s: %s failed: %r", self.name, d.name, e, exc_info=e)
        finally:
            if kv is not None:
                kv.close()

    def _ready(self) -> bool:
        mon = self.mon
        st = mon.state if mon is not None else None
        if st is None:
            return False
        up = sum(1 for o in st.osdmap.osds.values() if o.exists and o.up and o.is_in)
        if up < self.num_osds or not st.mgrmap.get("available"):
            return False
        return capacity_known(st.mgr_digest.get("osd_stats", {}), self.num_osds)

    async def _wait(self, pred: Any, deadline: float, what: str) -> None:
        while not pred():
            for d in self.daemons.values():
                if d.error is not None:
                    raise CephError(
                        getattr(d.error, "errno", None) or errno.EIO,
                        f"embedded cluster {self.name}: {d.name} failed: {d.error}",
                    )
                if d.task is not None and d.task.done():
                    raise CephError(errno.EIO, f"embedded cluster {self.name}: {d.name} ended")
            if time.monotonic() > deadline:
                raise CephError(errno.ETIMEDOUT, f"embedded cluster {self.name}: no {what}")
            await asyncio.sleep(READY_POLL)

    async def stop(self) -> None:
        """Shut clients down, then the OSDs, the mgr and the monitor; all tasks end."""
        if not self.running:
            return
        self.running = False
        clients, self._clients = list(self._clients), set()
        for rc in clients:
            try:
                await asyncio.wait_for(rc.shutdown(), CLIENT_STOP_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - the cluster stops regardless
                log.warning("embedded %s: client shutdown: %r", self.name, e)
        for kind in ("osd", "mgr", "mon"):
            await self._stop_kind(kind)
        if self.net is not None:
            for h in self.net.hosts():
                h.kill()  # any connection still open (a client never shut down) resets

    async def _stop_kind(self, kind: str) -> None:
        ds = [d for d in self.daemons.values() if d.kind == kind and d.task is not None]
        for d in ds:
            assert d.stop is not None
            d.stop.set()
        tasks = [d.task for d in ds if d.task is not None and not d.task.done()]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
        for t in late:
            log.warning("embedded %s: %s did not stop; cancelling", self.name, t.get_name())
            t.cancel()
        if late:
            await asyncio.wait(late)

    def close(self) -> None:
        """After `stop`: release the directory (or the temporary keyring)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._unlock()

    # -- clients --------------------------------------------------------------------------
    def secret_for(self, config: CephConfig) -> bytes | None:
        """The key a client of this cluster authenticates with, or None to look it up in
        the client's own configuration (`key`, `keyfile`, keyrings) as usual.

        client.admin - and any entity in the monitor's auth database - needs no key
        from the user unless one is given explicitly.
        """
        if str(config.get("key") or "") or str(config.get("keyfile") or ""):
            return None
        mon = self.mon
        auth = mon.state.get_auth(config.name) if mon is not None and mon.state else None
        key = auth[0] if auth is not None else self.keyring.get_key(config.name)
        return decode_secret(key) if key else None

    def new_client(self, config: CephConfig) -> Any:
        """A `RadosClient` on this cluster's network (on the loop; not yet connected)."""
        from pyceph.client.rados_client import RadosClient

        if not self.running or self.net is None:
            raise CephError(errno.ESHUTDOWN, f"embedded cluster {self.name} is stopped")
        rt = Runtime(clock=RealClock(), rand=RealRand(), net=self._client_host, disk=MemDisk())
        rc = RadosClient(rt, config)
        rc.mon_host_override = f"{MON_ADDR[0]}:{MON_ADDR[1]}"
        rc.secret_override = self.secret_for(config)
        self._clients.add(rc)
        return rc

    def forget_client(self, rc: Any) -> None:
        self._clients.discard(rc)
