"""A cluster of real daemon processes on loopback, kept in one directory.

`pyceph up/down/status` and the integration tests share this: it writes the fsid,
`ceph.conf` and keyrings, creates the monitor's store, starts `pyceph-mon`, `pyceph-mgr`
and `pyceph-osd` processes on free ports (never 3300/6789, so the reference Ceph can run
beside it), stops or kills them, and waits until the cluster is ready.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pyceph.common.bootstrap import ADMIN_CAPS, BASE_OPTIONS, MGR_CAPS, OSD_CAPS
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring, generate_secret
from pyceph.mgr.pgmap import capacity_known

#: How long `up` waits for every OSD to be up/in and every PG active.
READY_TIMEOUT = 120.0
#: How long `down` waits for a daemon to exit after SIGTERM before SIGKILL.
STOP_TIMEOUT = 15.0
RESERVED_PORTS = {3300, 6789}
#: How often a pid file, a daemon's exit or a dashboard step is looked for.
POLL_INTERVAL = 0.05
#: How long `start` waits for the daemons it spawned to write their pid files.
PID_FILE_TIMEOUT = 30.0
#: How often `wait_ready` asks the monitor for the cluster's status.
READY_POLL = 0.1
#: While OSDs are up but PGs not yet shown active, how often `wait_ready` asks them to
#: flush their PG stats to the mgr, and how long one round may take.
FLUSH_INTERVAL = 0.3
FLUSH_TIMEOUT = 5.0
#: The pool the `devicehealth` mgr module makes once enough OSDs are up (upstream's
#: default of its `pool_name` option).
DEVICE_HEALTH_POOL = "device_health_metrics"

#: Names of the cluster's mgrs in the order they are made (the first is `mgr.x`).
MGR_IDS = "xyzwvutsrqponmlkjihgfedcba"


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1, never one the reference Ceph uses."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def _daemon_command(kind: str) -> list[str]:
    script = os.path.join(sysconfig.get_path("scripts"), f"pyceph-{kind}")
    if os.path.exists(script):
        return [script]
    found = shutil.which(f"pyceph-{kind}")
    if found:
        return [found]
    return [sys.executable, "-m", f"pyceph.{kind}.daemon"]


@dataclass(frozen=True)
class Daemon:
    kind: str  # mon | mgr | osd
    id: str

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.id}"


class LocalCluster:
    """The cluster in `path`: its files, its processes."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)

    @property
    def conf_path(self) -> str:
        return os.path.join(self.path, "ceph.conf")

    def exists(self) -> bool:
        return os.path.exists(self.conf_path)

    def daemons(self) -> list[Daemon]:
        out = [Daemon("mon", "a")]
        for entry in sorted(os.listdir(self.path)):
            if entry.startswith("osd.") and entry[4:].isdigit():
                out.append(Daemon("osd", entry[4:]))
            elif entry.startswith("mgr.") and entry[4:] in MGR_IDS:
                out.append(Daemon("mgr", entry[4:]))
        out.sort(
            key=lambda d: (
                ["mon", "mgr", "osd"].index(d.kind),
                int(d.id) if d.id.isdigit() else MGR_IDS.find(d.id),
            )
        )
        return out

    # -- creation ---------------------------------------------------------------
    def create(
        self, num_osds: int = 3, overrides: dict[str, str] | None = None, num_mgrs: int = 1
    ) -> None:
        """Write conf and keyrings and make the monitor's store (`num_mgrs` mgrs: one
        active, the others standby)."""
        self._write_files(num_osds, overrides, num_mgrs)
        self._run_sync(self._mon_mkfs_command())

    def create_and_start(
        self, num_osds: int = 3, overrides: dict[str, str] | None = None, num_mgrs: int = 1
    ) -> list[str]:
        """`create` then `start`, with the mgrs and OSDs spawned while the monitor's
        store is made (they need only their conf and keyrings, and hunt for the monitor
        until it listens): the store's creation overlaps their interpreters' start."""
        self._write_files(num_osds, overrides, num_mgrs)
        mkfs = subprocess.Popen(
            self._mon_mkfs_command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        others = [d for d in self.daemons() if d.kind != "mon"]
        spawned = [(d, self._spawn(d)) for d in others]
        try:
            _, err = mkfs.communicate(timeout=PID_FILE_TIMEOUT)
        except subprocess.TimeoutExpired:
            mkfs.kill()
            _, err = mkfs.communicate()
        if mkfs.returncode != 0:
            for _, proc in spawned:
                proc.kill()
                proc.wait()
            raise CephError(5, f"{' '.join(mkfs.args)} failed: {err.strip()}")
        mon = Daemon("mon", "a")
        return self._await_started([(mon, self._spawn(mon)), *spawned])

    def _mon_mkfs_command(self) -> list[str]:
        return _daemon_command("mon") + [
            "--mkfs", "-i", "a", "-c", self.conf_path, "-k", f"{self.path}/mon.a/keyring"
        ]  # fmt: skip

    def _write_files(self, num_osds: int, overrides: dict[str, str] | None, num_mgrs: int) -> None:
        """The cluster's directories, fsid, keys, keyrings and ceph.conf."""
        if not 1 <= num_mgrs <= len(MGR_IDS):
            raise CephError(22, f"num_mgrs must be 1..{len(MGR_IDS)}")
        if self.exists():
            raise CephError(17, f"{self.path} already holds a cluster")
        if os.path.isdir(self.path) and os.listdir(self.path):
            raise CephError(39, f"{self.path} is not empty")
        os.makedirs(self.path, exist_ok=True)
        for sub in ("log", "run", "mon.a", *(f"mgr.{m}" for m in MGR_IDS[:num_mgrs])):
            os.makedirs(os.path.join(self.path, sub), exist_ok=True)
        fsid = str(uuid.uuid4())
        mon_port = free_port()
        everything = Keyring()
        admin = Keyring()
        key = generate_secret()
        admin.add("client.admin", key, ADMIN_CAPS)
        everything.add("client.admin", key, ADMIN_CAPS)
        everything.add("mon.", generate_secret(), {"mon": "allow *"})
        for m in MGR_IDS[:num_mgrs]:
            mgr = Keyring()
            key = generate_secret()
            mgr.add(f"mgr.{m}", key, MGR_CAPS)
            everything.add(f"mgr.{m}", key, MGR_CAPS)
            mgr.save(os.path.join(self.path, f"mgr.{m}", "keyring"))
        for i in range(num_osds):
            os.makedirs(os.path.join(self.path, f"osd.{i}"), exist_ok=True)
            kr = Keyring()
            key = generate_secret()
            kr.add(f"osd.{i}", key, OSD_CAPS)
            everything.add(f"osd.{i}", key, OSD_CAPS)
            kr.save(os.path.join(self.path, f"osd.{i}", "keyring"))
        admin.save(os.path.join(self.path, "keyring"))
        everything.save(os.path.join(self.path, "mon.a", "keyring"))
        settings = dict(BASE_OPTIONS)
        settings.update(overrides or {})
        lines = [
            "[global]",
            f"fsid = {fsid}",
            f"mon_host = 127.0.0.1:{mon_port}",
            f"keyring = {self.path}/keyring",
            f"log_file = {self.path}/log/$name.log",
            f"pid_file = {self.path}/run/$name.pid",
            *(f"{k} = {v}" for k, v in settings.items()),
            "",
            "[mon]",
            f"mon_data = {self.path}/$name",
            "",
            "[mon.a]",
            f"public_addr = 127.0.0.1:{mon_port}",
            "",
            "[mgr]",
            f"mgr_data = {self.path}/$name",
            f"keyring = {self.path}/$name/keyring",
            "",
            "[osd]",
            f"osd_data = {self.path}/$name",
            f"keyring = {self.path}/$name/keyring",
            "",
        ]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines))

    def add_mgrs(self, count: int) -> list[str]:
        """Make `count` more mgrs in this running cluster (keys registered with the
        monitor by `auth get-or-create`) and start them; they join as standbys."""
        have = [d.id for d in self.daemons() if d.kind == "mgr"]
        new = [m for m in MGR_IDS if m not in have][:count]
        if len(new) < count:
            raise CephError(22, f"at most {len(MGR_IDS)} mgrs")
        for m in new:
            path = os.path.join(self.path, f"mgr.{m}")
            os.makedirs(path, exist_ok=True)
            text = asyncio.run(self._get_or_create_key(f"mgr.{m}", MGR_CAPS))
            with open(os.path.join(path, "keyring"), "w") as f:
                f.write(text)
        return self.start([f"mgr.{m}" for m in new])

    def add_osds(self, count: int = 1) -> list[str]:
        """Add `count` OSDs to this running cluster and start them: each takes the lowest
        id neither in the OSDMap nor already a directory here, gets its cephx key from the
        monitor (`auth get-or-create osd.N` with the OSD profile), and joins the map and
        CRUSH when it boots (its store is made on first start), as `create`'s OSDs do."""
        if count < 1:
            raise CephError(22, "count must be at least 1")
        in_map = set(asyncio.run(self._osd_ids()))
        on_disk = {int(d.id) for d in self.daemons() if d.kind == "osd"}
        names = []
        i = 0
        while len(names) < count:
            if i not in in_map and i not in on_disk:
                path = os.path.join(self.path, f"osd.{i}")
                os.makedirs(path, exist_ok=True)
                text = asyncio.run(self._get_or_create_key(f"osd.{i}", OSD_CAPS))
                with open(os.path.join(path, "keyring"), "w") as f:
                    f.write(text)
                names.append(f"osd.{i}")
            i += 1
        return self.start(names)

    async def _osd_ids(self) -> list[int]:
        """`osd ls` of the running cluster."""
        out = await self._admin_command({"prefix": "osd ls", "format": "json"})
        return [int(i) for i in json.loads(out)]

    async def _admin_command(self, cmd: dict[str, Any]) -> bytes:
        from pyceph.client.rados_client import RadosClient
        from pyceph.common.config import CephConfig
        from pyceph.common.runtime import real_runtime

        cfg = CephConfig(name="client.admin")
        cfg.read_file(self.conf_path)
        client = RadosClient(real_runtime(), cfg)
        await client.connect(READY_TIMEOUT)
        try:
            ret, out, outs = await client.mon_command(json.dumps(cmd))
        finally:
            await client.shutdown()
        if ret != 0:
            raise CephError(-ret, f"{cmd['prefix']}: {outs}")
        return out

    async def _get_or_create_key(self, entity: str, caps: dict[str, str]) -> str:
        flat = [x for kv in sorted(caps.items()) for x in kv]
        cmd = {"prefix": "auth get-or-create", "entity": entity, "caps": flat}
        return (await self._admin_command(cmd)).decode()

    def _run_sync(self, cmd: list[str]) -> None:
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise CephError(5, f"{' '.join(cmd)} failed: {res.stderr.strip()}")

    # -- processes ------------------------------------------------------------
    def pid_path(self, d: Daemon) -> str:
        return os.path.join(self.path, "run", f"{d.name}.pid")

    def pid(self, d: Daemon) -> int | None:
        """The daemon's pid if it is running."""
        try:
            with open(self.pid_path(d)) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(self, names: list[str] | None = None) -> list[str]:
        """Start every daemon (or those named) that is not running; returns those started.

        All are spawned at once, then waited for (their pid files): a daemon's start is
        mostly its interpreter importing pyceph, which runs in parallel; OSDs and mgrs
        that come up before the monitor listens hunt for it (pyceph.monc), as upstream
        daemons do."""
        started = []
        for d in self.daemons():
            if names is not None and d.name not in names:
                continue
            if self.pid(d) is not None:
                continue
            started.append((d, self._spawn(d)))
        return self._await_started(started)

    def _spawn(self, d: Daemon) -> subprocess.Popen:
        """Start `d`'s process (its output to log/NAME.out), not waiting for it."""
        try:
            os.unlink(self.pid_path(d))
        except FileNotFoundError:
            pass
        with open(os.path.join(self.path, "log", f"{d.name}.out"), "ab") as out:
            return subprocess.Popen(
                _daemon_command(d.kind) + ["-i", d.id, "-c", self.conf_path],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )

    def _await_started(self, started: list[tuple[Daemon, subprocess.Popen]]) -> list[str]:
        """Until every spawned daemon has written its pid file; their names."""
        deadline = time.monotonic() + PID_FILE_TIMEOUT
        for d, proc in started:
            self._wait_pid_file(d, proc, deadline)
        return [d.name for d, _ in started]

    def _wait_pid_file(self, d: Daemon, proc: subprocess.Popen, deadline: float) -> None:
        """Until `d` has written its pid file; its output's tail in the error when it
        exits first or `deadline` passes."""
        while time.monotonic() < deadline:
            if self.pid(d) is not None:
                return
            if proc.poll() is not None:
                break
            time.sleep(POLL_INTERVAL)
        log = os.path.join(self.path, "log", f"{d.name}.out")
        tail = ""
        if os.path.exists(log):
            with open(log) as f:
                tail = f.read()[-2000:]
        raise CephError(110, f"{d.name} did not start:\n{tail}")

    def stop(self, names: list[str] | None = None, sig: int = signal.SIGTERM) -> list[str]:
        """Signal daemons and wait for them to exit (SIGKILL after STOP_TIMEOUT).

        OSDs go first, then mgrs, then monitors, each kind waited for before the next:
        a stopping OSD tells the monitor it is going down (upstream's mark-me-down), and
        with the monitor gone first it would wait out its shutdown bound instead."""
        stopped = []
        deadline = time.monotonic() + STOP_TIMEOUT
        for kind in ("osd", "mgr", "mon"):
            victims = []
            for d in reversed(self.daemons()):
                if d.kind != kind or (names is not None and d.name not in names):
                    continue
                pid = self.pid(d)
                if pid is None:
                    continue
                os.kill(pid, sig)
                victims.append((d, pid))
            for d, pid in victims:
                while self.pid(d) is not None and time.monotonic() < deadline:
                    time.sleep(POLL_INTERVAL)
                if self.pid(d) is not None:
                    os.kill(pid, signal.SIGKILL)
                    while self.pid(d) is not None:
                        time.sleep(POLL_INTERVAL)
            stopped += [d.name for d, _ in victims]
        return stopped

    def kill(self, name: str) -> None:
        """kill -9 one daemon and wait until it is gone."""
        self.stop([name], sig=signal.SIGKILL)

    def running(self) -> dict[str, int | None]:
        return {d.name: self.pid(d) for d in self.daemons()}

    # -- readiness ------------------------------------------------------------
    def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict:
        """Until all OSDs are up and in, the mgr is available and all PGs are active."""
        return asyncio.run(self._wait_ready(timeout))

    async def _wait_ready(self, timeout: float) -> dict:
        from pyceph.client.rados_client import RadosClient
        from pyceph.common.config import CephConfig
        from pyceph.common.runtime import real_runtime

        cfg = CephConfig(name="client.admin")
        cfg.read_file(self.conf_path)
        client = RadosClient(real_runtime(), cfg)
        deadline = time.monotonic() + timeout
        await client.connect(timeout)
        want_osds = sum(1 for d in self.daemons() if d.kind == "osd")
        status: dict = {}
        flushed = float("-inf")
        try:
            while time.monotonic() < deadline:
                ret, out, _ = await client.mon_command(
                    json.dumps({"prefix": "status", "format": "json"})
                )
                if ret == 0:
                    status = json.loads(out)
                    stats_in = _is_ready(status, want_osds) and await _capacity_published(
                        client, want_osds
                    )
                    if stats_in and await _mgr_settled(client):
                        return status
                    # only while the monitor lacks PG states or capacity: a flush is
                    # work for the mgr, which may still be loading its modules
                    due = time.monotonic() >= flushed + FLUSH_INTERVAL
                    if not stats_in and due and _osds_ready(status, want_osds):
                        flushed = time.monotonic()
                        await _flush_pg_stats(client, want_osds)
                await asyncio.sleep(READY_POLL)
        finally:
            await client.shutdown()
        raise CephError(110, f"cluster not ready after {timeout:.0f}s: {json.dumps(status)[:2000]}")


async def _flush_pg_stats(client: Any, num_osds: int) -> None:
    """`ceph tell osd.N flush_pg_stats` to every OSD at once (as upstream's test helpers
    do before waiting for clean PGs): their PG states and capacity reach the mgr, and
    from it the monitor, now rather than at the next `mgr_stats_period`. Errors (an OSD
    the client's map does not show up yet) are left to the next round."""
    cmd = json.dumps({"prefix": "flush_pg_stats"})
    await asyncio.gather(
        *(client.osd_command(i, cmd, timeout=FLUSH_TIMEOUT) for i in range(num_osds)),
        return_exceptions=True,
    )


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, reaped or not, counts as gone)."""
    try:
        wpid, _ = os.waitpid(pid, os.WNOHANG)
        if wpid == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def _capacity_published(client: Any, want_osds: int) -> bool:
    """Whether the monitor's `df` counts every OSD's capacity (the mgr has published it),
    so `get_cluster_stats` and `ceph df` are right from the first call."""
    ret, out, _ = await client.mon_command(json.dumps({"prefix": "df", "format": "json"}))
    if ret != 0:
        return False
    ret, osd_df, _ = await client.mon_command(json.dumps({"prefix": "osd df", "format": "json"}))
    if ret != 0:
        return False
    nodes = json.loads(osd_df).get("nodes", [])
    stats = {str(n.get("id")): n for n in nodes}
    if not capacity_known(stats, want_osds):
        return False
    total = sum(int(n.get("kb", 0)) for n in nodes) * 1024
    return int(json.loads(out).get("stats", {}).get("total_bytes", 0)) == total


async def _mgr_settled(client: Any) -> bool:
    """Whether the active mgr has loaded its modules and, when `devicehealth` runs, that
    module has made its pool: it does so as soon as enough OSDs are up, so a cluster
    called ready without it would show a new, unknown PG a moment later."""
    ret, out, _ = await client.mon_command(json.dumps({"prefix": "mgr dump", "format": "json"}))
    if ret != 0 or not json.loads(out).get("available_modules"):
        return False
    ret, conf, _ = await client.mon_command(json.dumps({"prefix": "config dump", "format": "json"}))
    if ret != 0:
        return False
    want = device_pool_expected(json.loads(out), json.loads(conf or b"[]"))
    if want is None:
        return True
    ret, out, _ = await client.mon_command(json.dumps({"prefix": "osd pool ls", "format": "json"}))
    return ret == 0 and want in json.loads(out or b"[]")


def device_pool_expected(mgr_dump: dict, config_dump: list[dict]) -> str | None:
    """From `mgr dump` and `config dump`: the pool `devicehealth` makes (upstream's
    default name DEVICE_HEALTH_POOL, or its `pool_name` option) when that module runs
    (always on in this release, or enabled, and able to run) with `enable_monitoring`
    on; else None."""
    from pyceph import CEPH_RELEASE

    name = "devicehealth"
    runs = name in (mgr_dump.get("always_on_modules") or {}).get(CEPH_RELEASE, [])
    runs = runs or name in (mgr_dump.get("modules") or [])
    able = any(m.get("name") == name and m.get("can_run") for m in mgr_dump.get("available_modules") or [])  # fmt: skip
    if not (runs and able):
        return None
    opts = {
        e.get("name"): str(e.get("value"))
        for e in config_dump
        if e.get("section") in ("global", "mgr")
    }
    if opts.get(f"mgr/{name}/enable_monitoring", "true").lower() in ("false", "0", "no"):
        return None
    return opts.get(f"mgr/{name}/pool_name", DEVICE_HEALTH_POOL)


def _osds_ready(status: dict, want_osds: int) -> bool:
    """Whether `want_osds` OSDs exist and all are up and in."""
    om = status.get("osdmap", {})
    return om.get("num_osds") == om.get("num_up_osds") == om.get("num_in_osds") == want_osds


def _is_ready(status: dict, want_osds: int) -> bool:
    if not _osds_ready(status, want_osds):
        return False
    if not status.get("mgrmap", {}).get("available"):
        return False
    pgmap = status.get("pgmap", {})
    states = pgmap.get("pgs_by_state", [])
    total = pgmap.get("num_pgs", 0)
    active = sum(s["count"] for s in states if "active" in s["state_name"].split("+"))
    return active == total


# -- the dashboard (`pyceph up`) -------------------------------------------------
#: the dashboard's login of a `pyceph up` cluster, and the file (0600) with its password
DASHBOARD_USER = "admin"
DASHBOARD_PASSWORD_FILE = "dashboard.password"
#: upstream's HTTPS port of the dashboard, used when it is free
DASHBOARD_PORT = 8443
#: how long `up` waits for the dashboard module to answer and serve
DASHBOARD_TIMEOUT = 30.0


@dataclass(frozen=True)
class DashboardAccess:
    url: str
    user: str
    password: str
    password_file: str


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def setup_dashboard(
    cluster: LocalCluster,
    timeout: float = DASHBOARD_TIMEOUT,
    cancel: threading.Event | None = None,
) -> DashboardAccess:
    """Enable the dashboard on 127.0.0.1 with TLS (a self-signed certificate), with an
    administrator `admin` whose generated password is kept 0600 in the cluster's
    directory; idempotent (a started cluster keeps its port, certificate and
    password). Returns when the dashboard accepts connections; ECANCELED once `cancel`
    is set (the cluster did not come up)."""
    import rados
    from pyceph.mgr.builtin.dashboard.access import generate_password

    stop = cancel or threading.Event()
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect()
    deadline = time.monotonic() + timeout

    def mon(**cmd: Any) -> tuple[int, str, str]:
        ret, out, err = r.mon_command(json.dumps(cmd), b"")
        return ret, out.decode(), err

    def mgr(inbuf: str = "", **cmd: Any) -> tuple[int, str, str]:
        ret, out, err = r.mgr_command(json.dumps(cmd), inbuf.encode())
        return ret, out.decode(), err

    def until(pred: Any, what: str) -> Any:
        while True:
            v = pred()
            if v:
                return v
            if time.monotonic() > deadline:
                raise CephError(110, f"dashboard: timed out waiting for {what}")
            if stop.wait(POLL_INTERVAL):
                raise CephError(errno.ECANCELED, f"dashboard: canceled waiting for {what}")

    try:
        dump = json.loads(mon(prefix="config dump", format="json")[1] or "[]")
        ports = [e.get("value") for e in dump if e.get("name") == "mgr/dashboard/ssl_server_port"]
        if ports and str(ports[0]).isdigit():
            port = int(ports[0])
        else:
            port = DASHBOARD_PORT if _port_free(DASHBOARD_PORT) else free_port()
            for name, value in (("server_addr", "127.0.0.1"), ("ssl_server_port", str(port))):
                mon(prefix="config set", who="mgr", name=f"mgr/dashboard/{name}", value=value)
        until(lambda: mon(prefix="mgr module enable", module="dashboard")[0] == 0, "module enable")
        until(lambda: mgr(prefix="dashboard ac-user-show")[0] == 0, "the dashboard module")
        if mon(prefix="config-key exists", key="mgr/dashboard/crt")[0] != 0:
            ret, _, err = mgr(prefix="dashboard create-self-signed-cert")
            if ret != 0:
                raise CephError(-ret or 5, f"dashboard: {err}")
        path = os.path.join(cluster.path, DASHBOARD_PASSWORD_FILE)
        users = json.loads(mgr(prefix="dashboard ac-user-show")[1] or "[]")
        if os.path.exists(path) and DASHBOARD_USER in users:
            with open(path) as f:
                password = f.read().strip()
        else:
            password = generate_password(DASHBOARD_USER)
            if DASHBOARD_USER in users:
                ret, _, err = mgr(password, prefix="dashboard ac-user-set-password", username=DASHBOARD_USER)  # fmt: skip
            else:
                ret, _, err = mgr(password, prefix="dashboard ac-user-create", username=DASHBOARD_USER, rolename="administrator")  # fmt: skip
            if ret != 0:
                raise CephError(-ret or 5, f"dashboard: {err}")
            tmp = path + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(password + "\n")
            os.replace(tmp, path)

        def serving() -> bool:
            with socket.socket() as s:
                s.settimeout(1.0)
                return s.connect_ex(("127.0.0.1", port)) == 0

        until(serving, f"the dashboard on port {port}")
        url = f"https://127.0.0.1:{port}/"

        def published() -> bool:
            ret, out, _ = mon(prefix="mgr services", format="json")
            return ret == 0 and json.loads(out or "{}").get("dashboard") == url

        until(published, "the dashboard in `ceph mgr services`")
        return DashboardAccess(url, DASHBOARD_USER, password, path)
    finally:
        r.shutdown()
