"""`ModuleHost`: runs the enabled mgr modules inside `pyceph-mgr`.

Upstream: `PyModuleRegistry`, `ActivePyModules`, `ActivePyModule` and
`DaemonServer::_handle_command` (src/mgr/). Each running module has

- a serve thread: constructs the module (`__init__(name, host, handle)`), then
  runs `serve()` until it returns; an exception fails the module, reported as
  `MGR_MODULE_ERROR` in the health the mgr sends the monitor, and the daemon
  goes on;
- a finisher thread delivering `notify()`/`config_notify()` in order (only the
  types in the module's NOTIFY_TYPES), so a slow module never blocks the host;
- command calls in the mgr's executor threads, answered as upstream's
  `(retval, stdout, stderr)`; an exception is -EINVAL with the traceback.

On a standby mgr the host runs, for each enabled module that has one, its
`MgrStandbyModule` class instead (upstream `StandbyPyModules`): serve() and
shutdown() only, no notify or commands, with read-only hooks (options, store,
the active mgr's URI). A mgr that changes role stops one kind and starts the other.

Module code never runs on the event loop. Hooks called from module threads read
caches or run a short function on the loop (`_on_loop`), or wait, with a bound,
for a coroutine (`_await`). `shutdown()` is called on disable and at daemon stop;
serve threads get `MODULE_SHUTDOWN_WAIT` seconds to return.

Modules come from `mgr_module_path` first, then pyceph's built-ins (registry.discover):
a folder's module shadows a built-in of the same name, as upstream runs whatever the
path holds (Debian's `prometheus` from /usr/share/ceph/mgr replaces ours there).

Module options live in the config database (`mgr/<module>/[<mgr id>/]<option>`,
pushed to the mgr with its config); the KV store in config-key under
`mgr/<module>/<key>`, read from a local cache and written through to the monitor
before `set_store` returns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import json
import logging
import queue
import threading
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from pyceph.common.cmdargs import CommandDesc, match_command
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.perf_query import OsdPerfQueries
from pyceph.common.runtime import TcpNetwork
from pyceph.common.tasks import TaskSet
from pyceph.mgr.modules import clusterstate
from pyceph.mgr.modules.options import parse_typed
from pyceph.mgr.modules.registry import ModuleInfo, discover, load_module
from pyceph.mgr.perfstore import PerfStore

__all__ = ["ModuleHandle", "ModuleHost", "HOSTED_ALWAYS_ON"]

log = logging.getLogger("pyceph.mgr.modules")

#: DaemonServer's answer to a caller whose mgr caps do not allow the command.
ACCESS_DENIED = (
    "access denied: does your client key have mgr caps? See "
    "http://docs.ceph.com/en/latest/mgr/administrator/#client-authentication"
)
#: Seconds a module's serve() gets to return after shutdown() (upstream waits on join).
MODULE_SHUTDOWN_WAIT = 5.0
#: Bound on one hook's wait for the daemon (a mon command, a store write...).
HOOK_TIMEOUT = 60.0
#: Threads running module commands (and the initial load) concurrently.
MODULE_COMMAND_THREADS = 4
#: Notifications queued per module; further ones are dropped (and logged).
NOTIFY_QUEUE_MAX = 1000
#: KV store prefix in config-key and option prefix in the config database.
KV_PREFIX = "mgr/"
#: Upstream's always-on modules that pyceph ships built in and runs as such (the
#: MgrMap lists upstream's table). Other always-on modules run when a folder of
#: `mgr_module_path` (Debian's /usr/share/ceph/mgr) has them and they can run; one
#: that cannot load here (a Python package pyceph lacks) is then not reported as a
#: health error, as it would be on a mgr that was asked to run it.
HOSTED_ALWAYS_ON: frozenset[str] = frozenset()
#: Python level names in a module's formatted log records -> the mgr log's severities.
_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
#: Ceph release names by major version (upstream ceph_release_name()).
RELEASE_NAMES = {
    1: "argonaut", 2: "bobtail", 3: "cuttlefish", 4: "dumpling", 5: "emperor",
    6: "firefly", 7: "giant", 8: "hammer", 9: "infernalis", 10: "jewel", 11: "kraken",
    12: "luminous", 13: "mimic", 14: "nautilus", 15: "octopus", 16: "pacific",
    17: "quincy",
}  # fmt: skip
_CLOG_PRIO = {0: "debug", 1: "info", 2: "sec", 3: "warn", 4: "error"}


def _mgr_caps_allow(
    caps: dict[str, str], module: str, prefix: str, cmd: dict[str, Any], perm: str
) -> bool:
    """DaemonServer::_allowed_command for a module command: MgrCap with service `py`."""
    from pyceph.auth.enforce import mgr_command_allowed

    return mgr_command_allowed(caps, "", "py", module, prefix, cmd, perm)


def _check(severity: str, summary: dict[str, Any], detail: list[str]) -> dict[str, Any]:
    """One health check as the monitor's health JSON carries it."""
    return {
        "severity": severity,
        "summary": summary,
        "detail": [{"message": d} for d in detail],
        "muted": False,
    }


class ModuleHandle:
    """One running module: its instance, threads and state.

    `standby` marks a module's MgrStandbyModule class running on a standby mgr.
    """

    def __init__(self, info: ModuleInfo, standby: bool = False) -> None:
        self.info = info
        self.name = info.name
        self.standby = standby
        self.instance: Any = None
        self.ready = threading.Event()
        self.failed: str | None = None
        self.uri = ""
        self.serve_thread: threading.Thread | None = None
        self.notify_q: queue.Queue[tuple[str, str] | None] = queue.Queue(NOTIFY_QUEUE_MAX)
        self.finisher: threading.Thread | None = None
        self.health: dict[str, Any] = {}


class ModuleHost:
    """The module host of one mgr daemon (see the module docstring)."""

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.mgr_id = str(daemon.name)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.modules: dict[str, ModuleInfo] = {}
        self.running: dict[str, ModuleHandle] = {}
        self.kv: dict[str, str] = {}
        self.config_values: dict[str, str] = {}
        self.mgrmap: dict[str, Any] = {}
        self.progress: dict[str, dict[str, Any]] = {}
        #: the daemons' reported perf counters (get_perf_schema, get_counter, ...)
        self.perf = PerfStore()
        #: the modules' OSD perf metric queries and what the OSDs counted for them
        self.osd_perf_queries = OsdPerfQueries()
        self.loaded = asyncio.Event()
        self._tasks = TaskSet("mgr module host")
        self._lock = threading.Lock()
        #: MON_KEYS answers shared by module threads (clusterstate.MonKeyCache)
        self._mon_keys = clusterstate.MonKeyCache(
            self._fetch_mon_key, daemon.runtime.clock.monotonic
        )
        #: threads that load modules and run their commands (never the event loop)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            MODULE_COMMAND_THREADS, thread_name_prefix="mgr-modules"
        )

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Discover and load modules (in a worker thread), then load the KV store."""
        self.loop = asyncio.get_running_loop()
        path = str(self.daemon.config.get("mgr_module_path") or "")
        disabled = set(str(self.daemon.config.get("mgr_disabled_modules") or "").split())
        infos = await asyncio.wrap_future(self._pool.submit(self._load_all, path, disabled))
        self.modules = {m.name: m for m in infos}
        await self._load_kv()
        self.loaded.set()
        if self.mgrmap:
            self.apply_mgrmap(self.mgrmap)

    @staticmethod
    def _load_all(path: str, disabled: set[str]) -> list[ModuleInfo]:
        infos = discover(path, disabled)
        for info in infos:
            load_module(info)
        return infos

    async def _load_kv(self) -> None:
        monc = self.daemon.monc
        r, out, _ = await monc.command({"prefix": "config-key dump", "key": KV_PREFIX}, timeout=HOOK_TIMEOUT)  # fmt: skip
        if r == 0 and out:
            self.kv = {str(k): str(v) for k, v in json.loads(out).items()}

    async def stop(self) -> None:
        """Shut every running module down, waiting at most MODULE_SHUTDOWN_WAIT for them."""
        done = [self._stop_module(n) for n in list(self.running)]
        waits = [asyncio.wrap_future(f) for f in done if f is not None]
        if waits:
            await asyncio.wait(waits, timeout=MODULE_SHUTDOWN_WAIT)
        await self._tasks.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ MgrMap
    def enabled_modules(self, mgrmap: dict[str, Any]) -> set[str]:
        """The modules that should run: enabled ones plus the always-on ones that are
        built in (HOSTED_ALWAYS_ON) or found, loaded and able to run."""
        return set(mgrmap.get("modules", [])) | self._always_on_here(mgrmap, runnable=True)

    def _always_on_here(self, mgrmap: dict[str, Any], runnable: bool) -> set[str]:
        """Always-on modules this mgr hosts: built in, plus (`runnable`) found ones
        that loaded and can run."""
        from pyceph import CEPH_RELEASE
        from pyceph.mon.handlers.mgr import always_on

        table = mgrmap.get("always_on_modules", {}).get(CEPH_RELEASE)
        always = set(table) if table is not None else always_on()
        hosted = always & HOSTED_ALWAYS_ON
        if runnable:
            hosted |= {n for n in always if (m := self.modules.get(n)) is not None and m.can_run}
        return hosted

    def apply_mgrmap(self, mgrmap: dict[str, Any]) -> None:
        """Start newly enabled modules and stop disabled ones (on the loop).

        The active mgr runs the enabled modules' MgrModule classes; a standby runs
        the MgrStandbyModule classes of those that have one (upstream
        StandbyPyModules). A mgr changing role stops one kind and starts the other.
        """
        self.mgrmap = mgrmap
        if not self.loaded.is_set():
            return
        standby = mgrmap.get("active_name") != self.mgr_id
        want = set()
        for n in self.enabled_modules(mgrmap):
            info = self.modules.get(n)
            if info is None or not info.can_run:
                continue
            if (info.standby_cls if standby else info.cls) is not None:
                want.add(n)
        for n, h in sorted(self.running.items()):
            if n not in want or h.standby != standby:
                self._stop_module(n)
        for n in sorted(want - set(self.running)):
            self._start_module(self.modules[n], standby)

    async def reload_kv(self) -> None:
        """Re-read the KV store from the monitor (a standby becoming active: the old
        active may have written since this mgr started)."""
        await self._load_kv()

    def available_modules(self) -> list[dict[str, Any]]:
        return [m.available_json() for m in self.modules.values()]

    def command_descs(self) -> dict[str, Any]:
        """Every module's commands, as the beacon carries them to the monitor."""
        out: dict[str, Any] = {}
        i = 0
        for m in self.modules.values():
            if not m.can_run:
                continue
            for c in m.commands:
                out[f"cmd{i:03d}"] = c.to_json()
                i += 1
        return out

    def services(self) -> dict[str, str]:
        return {n: h.uri for n, h in self.running.items() if h.uri and not h.standby}

    # ------------------------------------------------------------------ threads
    def _start_module(self, info: ModuleInfo, standby: bool = False) -> None:
        h = ModuleHandle(info, standby)
        self.running[info.name] = h
        h.serve_thread = threading.Thread(target=self._serve, args=(h,), name=f"mgr-{info.name}-serve", daemon=True)  # fmt: skip
        h.finisher = threading.Thread(target=self._finisher, args=(h,), name=f"mgr-{info.name}-finisher", daemon=True)  # fmt: skip
        h.serve_thread.start()
        h.finisher.start()
        log.info("mgr module %s starting%s", info.name, " (standby)" if standby else "")

    def _stop_module(self, name: str) -> concurrent.futures.Future[None] | None:
        """Call the module's shutdown() in a thread of its own; the future ends with it."""
        h = self.running.pop(name, None)
        if h is None:
            return None
        try:
            h.notify_q.put_nowait(None)
        except queue.Full:
            pass
        done: concurrent.futures.Future[None] = concurrent.futures.Future()

        def run() -> None:
            try:
                self._shutdown_one(h)
            finally:
                done.set_result(None)

        threading.Thread(target=run, name=f"mgr-{name}-shutdown", daemon=True).start()
        return done

    def _shutdown_one(self, h: ModuleHandle) -> None:
        h.ready.wait(MODULE_SHUTDOWN_WAIT)
        if h.instance is not None:
            try:
                h.instance.shutdown()
            except Exception:
                log.exception("mgr module %s: shutdown() raised", h.name)
        if h.serve_thread is not None:
            h.serve_thread.join(MODULE_SHUTDOWN_WAIT)
            if h.serve_thread.is_alive():
                log.warning("mgr module %s: serve() did not return within %.0fs", h.name, MODULE_SHUTDOWN_WAIT)  # fmt: skip
        log.info("mgr module %s stopped", h.name)

    def _serve(self, h: ModuleHandle) -> None:
        try:
            if h.standby:
                h.instance = h.info.standby_cls(h.name, (self, h))
            else:
                h.instance = h.info.cls(h.name, self, h)
        except Exception as e:
            self._fail(h, e, "__init__")
            return
        finally:
            h.ready.set()
        # no config_notify() here: upstream (ActivePyModules::start_one) constructs the
        # module and starts serve(); config_notify() follows option changes only.
        # Debian's prometheus restarts its engine in config_notify(), racing serve().
        try:
            h.instance.serve()
        except Exception as e:
            self._fail(h, e, "serve")

    def _fail(self, h: ModuleHandle, e: BaseException, where: str) -> None:
        log.error("mgr module %s failed in %s:\n%s", h.name, where, "".join(traceback.format_exception(e)))  # fmt: skip
        h.failed = str(e) or type(e).__name__
        self._to_loop(self.daemon.health_changed)

    def _to_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule `fn(*args)` on the daemon's loop from any thread (dropped once it is closed)."""
        try:
            assert self.loop is not None
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            log.debug("mgr module host: loop closed, dropping %s", fn)

    def _finisher(self, h: ModuleHandle) -> None:
        h.ready.wait()
        while True:
            item = h.notify_q.get()
            if item is None or h.instance is None:
                return
            kind, ident = item
            try:
                if kind == "__config__":
                    if not h.standby:  # standby modules read options when they need them
                        h.instance._config_notify()
                else:
                    from mgr_module import NotifyType

                    h.instance.notify(NotifyType(kind), ident)
            except Exception:
                # upstream logs the traceback (and files a crash report); the module stays up
                log.error("mgr module %s: %s notify raised:\n%s", h.name, kind, traceback.format_exc())  # fmt: skip

    def notify_all(self, kind: str, ident: str = "") -> None:
        """Queue `notify(kind, ident)` to every running module subscribed to it."""
        for h in list(self.running.values()):
            if kind in h.info.notify_types and h.failed is None and not h.standby:
                self._post(h, (kind, ident))

    def _post(self, h: ModuleHandle, item: tuple[str, str]) -> None:
        try:
            h.notify_q.put_nowait(item)
        except queue.Full:
            log.warning("mgr module %s: notify queue full, dropping %s", h.name, item[0])

    def _post_config_notify(self, h: ModuleHandle) -> None:
        self._post(h, ("__config__", ""))

    def on_config(self, values: dict[str, str]) -> None:
        """The mgr's config from the monitor: keep the `mgr/...` module options."""
        mine = {k: str(v) for k, v in values.items() if k.startswith(KV_PREFIX)}
        if mine != self.config_values:
            self.config_values = mine
            for h in list(self.running.values()):
                self._post_config_notify(h)

    # ------------------------------------------------------------------ commands
    def find_command(self, prefix: str) -> tuple[str, CommandDesc] | None:
        for m in self.modules.values():
            for c in m.commands:
                if c.prefix == prefix:
                    return m.name, c
        return None

    async def handle_command(
        self, cmd: dict[str, Any], inbuf: bytes, caps: dict[str, str] | None = None
    ) -> tuple[int, bytes, str]:
        """Run a module command (upstream DaemonServer + ActivePyModule::handle_command).

        `caps` are the caller's (None: trusted, e.g. another module); its mgr caps
        must allow service `py`, the module and the command with the command's perm.
        """
        prefix = str(cmd.get("prefix", ""))
        found = self.find_command(prefix)
        if found is None:
            return -errno.EINVAL, b"", f"No handler found for '{prefix}'"
        name, desc = found
        if caps is not None and not _mgr_caps_allow(caps, name, prefix, cmd, desc.perm):
            return -errno.EACCES, b"", ACCESS_DENIED
        h = self.running.get(name)
        if h is None or h.standby:
            return (
                -errno.EOPNOTSUPP,
                b"",
                f"Module '{name}' is not enabled/loaded (required by command '{prefix}'): "
                f"use `ceph mgr module enable {name}` to enable it",
            )
        if h.failed is not None:
            return -errno.EIO, b"", f"Module '{name}' has experienced an error and cannot handle commands: {h.failed}"  # fmt: skip
        try:
            _, args = match_command(cmd, [desc])
        except CephError as e:
            return -e.errno, b"", e.message
        if "format" in cmd and "format" not in args:
            # the CLI's output format travels in the cmdmap to every module command,
            # declared or not (upstream DaemonServer passes the whole cmdmap)
            args = {**args, "format": cmd["format"]}
        return await asyncio.wrap_future(self._pool.submit(self._call_handler, h, args, inbuf))

    def _call_handler(self, h: ModuleHandle, cmd: dict[str, Any], inbuf: bytes) -> tuple[int, bytes, str]:  # fmt: skip
        h.ready.wait(HOOK_TIMEOUT)
        if h.instance is None:
            return -errno.EIO, b"", f"Module '{h.name}' has experienced an error and cannot handle commands: {h.failed}"  # fmt: skip
        try:
            r = h.instance._handle_command(inbuf.decode("utf-8", "replace"), cmd)
            ret, out, err = r
        except Exception:
            tb = traceback.format_exc()
            log.error("mgr module %s: handle_command raised:\n%s", h.name, tb)
            return -errno.EINVAL, b"", tb
        out_b = out.encode() if isinstance(out, str) else bytes(out or b"")
        return int(ret), out_b, str(err or "")

    # ------------------------------------------------------------------ loop bridges
    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the daemon's loop and wait for its result (from a module thread)."""
        assert self.loop is not None
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as e:
                fut.set_exception(e)

        self.loop.call_soon_threadsafe(run)
        return fut.result(HOOK_TIMEOUT)

    def _await(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(HOOK_TIMEOUT)

    def _mon_command(self, cmd: dict[str, Any], inbuf: bytes = b"") -> tuple[int, bytes, str]:
        try:
            return self._await(self.daemon.monc.command(cmd, inbuf, timeout=HOOK_TIMEOUT))
        except CephError as e:
            return -e.errno, b"", e.message
        except concurrent.futures.TimeoutError:
            return -errno.ETIMEDOUT, b"", "timed out"

    # ------------------------------------------------------------------ hooks: state
    def get(self, name: str) -> Any:
        if name in clusterstate.LOCAL_KEYS:
            d = self.daemon
            if name.startswith("osd_map") and (d.monc is None or d.monc.osdmap is None):
                return None
            return self._on_loop(lambda: clusterstate.LOCAL_KEYS[name](d))
        if name in clusterstate.MON_KEYS:
            return self._mon_keys.get(name)
        if name.startswith("device "):
            return {"device": {}}
        log.error("mgr module get(): unknown data name %r", name)
        return None

    def _fetch_mon_key(self, name: str) -> Any:
        r, out, _ = self._mon_command(dict(clusterstate.MON_KEYS[name]))
        return clusterstate.mon_value(name, r, out)

    def get_osdmap(self) -> Any:
        import mgr_module

        m = self._on_loop(lambda: self.daemon.monc.osdmap)
        return mgr_module.OSDMap(m)

    def _servers(self) -> dict[str, list[dict[str, str]]]:
        meta = self.get("osd_metadata") or {}
        hosts: dict[str, list[dict[str, str]]] = {}
        for osd, md in meta.items():
            hosts.setdefault(str(md.get("hostname", "")), []).append({"type": "osd", "id": str(osd)})  # fmt: skip
        mm = self.get("mgr_map") or {}
        me = self.daemon.runtime.host.hostname()
        if mm.get("active_name"):
            hosts.setdefault(me, []).append({"type": "mgr", "id": str(mm["active_name"])})
        mons = (self.get("mon_map") or {}).get("mons", [])
        for m in mons:
            hosts.setdefault(me, []).append({"type": "mon", "id": str(m.get("name"))})
        return hosts

    def get_server(self, hostname: str | None) -> Any:
        from pyceph import VERSION_STRING

        servers = self._servers()

        def one(host: str) -> dict[str, Any]:
            return {"hostname": host, "services": servers[host], "ceph_version": VERSION_STRING}

        if hostname is None:
            return [one(h) for h in sorted(servers)]
        return one(hostname) if hostname in servers else {}

    def get_metadata(self, svc_type: str, svc_id: str) -> dict[str, str] | None:
        if svc_type == "osd":
            return (self.get("osd_metadata") or {}).get(str(svc_id))
        if svc_type == "mgr" and svc_id == self.mgr_id:
            return {**self.daemon.runtime.host.sys_info(), "id": self.mgr_id}
        if svc_type == "mon":
            # every pyceph daemon runs on this host: upstream's collect_sys_info of it
            mons = (self.get("mon_map") or {}).get("mons", [])
            mon = next((m for m in mons if m.get("name") == svc_id), None)
            if mon is None:
                return None
            return {**self.daemon.runtime.host.sys_info(), "addrs": str(mon.get("public_addrs", mon.get("addr", "")))}  # fmt: skip
        d = self.daemon.service_map.dump().get("services", {}).get(svc_type, {})
        dm = d.get("daemons", {}).get(svc_id)
        return dict(dm.get("metadata", {})) if isinstance(dm, dict) else None

    def get_daemon_status(self, svc_type: str, svc_id: str) -> dict[str, str]:
        st = self._on_loop(lambda: self.daemon.service_map.status())
        return dict(st.get(svc_type, {}).get(svc_id, {}) or {}) if isinstance(st, dict) else {}

    def have_mon_connection(self) -> bool:
        monc = self.daemon.monc
        if monc is None:
            return False
        return monc.is_connected

    def get_perf_schema(self, svc_type: str, svc_name: str) -> dict[str, Any]:
        return self.perf.schema(svc_type, svc_name)

    def get_counter(self, svc_type: str, svc_name: str, path: str) -> dict[str, Any]:
        return self.perf.counter(svc_type, svc_name, path)

    def get_latest_counter(self, svc_type: str, svc_name: str, path: str) -> dict[str, Any]:
        return self.perf.latest(svc_type, svc_name, path)

    def get_daemon_health_metrics(self) -> dict[str, list[dict[str, Any]]]:
        return self.perf.health_metrics()

    # ------------------------------------------------------------------ hooks: config
    def version_string(self) -> str:
        from pyceph import VERSION_STRING

        return VERSION_STRING

    def release_name(self) -> str:
        from pyceph import CEPH_RELEASE

        return CEPH_RELEASE

    def lookup_release_name(self, major: int) -> str:
        return RELEASE_NAMES.get(int(major), "unknown")

    def context(self) -> object:
        """The configuration a module's `rados` session is made from: the mgr's own, or,
        for a cluster on an in-memory network, one that reaches it as its clients do (a
        session made from the mgr's own would dial the in-memory address on the real
        network)."""
        cfg = self.daemon.config
        if self.daemon.client_mon_host is None:
            if not isinstance(self.daemon.runtime.net, TcpNetwork):
                # the daemon's addresses exist only on its in-memory network
                raise CephError(errno.EOPNOTSUPP, "no librados session off the real network")
            return cfg
        ctx = CephConfig(name=cfg.name, environ={})
        ctx.set("mon_host", self.daemon.client_mon_host)
        return ctx

    def conf_path(self) -> str:
        return str(getattr(self.daemon.config, "conf_path", "") or self.daemon.config.get("conf") or "")  # fmt: skip

    def get_ceph_option(self, key: str) -> Any:
        try:
            return self.daemon.config.get(key)
        except (KeyError, CephError):
            return None

    def get_foreign_option(self, entity: str, key: str) -> Any:
        r, out, _ = self._mon_command({"prefix": "config get", "who": entity, "key": key, "format": "json"})  # fmt: skip
        return json.loads(out) if r == 0 and out else None

    def _option_schema(self, module: str, key: str) -> dict[str, Any] | None:
        info = self.modules.get(module)
        return info.options.get(key) if info is not None else None

    def get_module_option(self, module: str, key: str, prefix: str = "") -> Any:
        """Typed value of `mgr/<module>/[<prefix>/]<key>`, None when unset."""
        text = None
        if prefix:
            text = self.config_values.get(f"{KV_PREFIX}{module}/{prefix}/{key}")
        if text is None:
            text = self.config_values.get(f"{KV_PREFIX}{module}/{key}")
        if text is None:
            return None
        schema = self._option_schema(module, key) or {}
        try:
            return parse_typed(str(schema.get("type", "str")), text)
        except ValueError:
            log.error("mgr module %s: option %s has unparsable value %r", module, key, text)
            return None

    def set_module_option(self, module: str, key: str, val: str | None) -> None:
        """Persist through `config set|rm mgr/<module>/<key>` (upstream PyModuleConfig).

        As upstream, nothing is raised to the module: a value the monitor refuses
        (type, bounds, enum_allowed) is logged, and here it also changes nothing.
        """
        name = f"{KV_PREFIX}{module}/{key}"
        if val is None:
            cmd = {"prefix": "config rm", "who": "mgr", "name": name}
        else:
            cmd = {"prefix": "config set", "who": "mgr", "name": name, "value": val}
        r, _, outs = self._mon_command(cmd)
        if r != 0:
            log.error("`config set mgr %s %s` failed: %s", name, val, outs)
            return
        with self._lock:
            if val is None:
                self.config_values.pop(name, None)
            else:
                self.config_values[name] = val

    # ------------------------------------------------------------------ hooks: KV store
    def get_store(self, module: str, key: str) -> str | None:
        return self.kv.get(f"{KV_PREFIX}{module}/{key}")

    def get_store_prefix(self, module: str, prefix: str) -> dict[str, str]:
        base = f"{KV_PREFIX}{module}/"
        full = base + prefix
        return {k[len(base) :]: v for k, v in list(self.kv.items()) if k.startswith(full)}

    def set_store(self, module: str, key: str, val: str | None) -> None:
        """Write through to config-key; the cache changes once the monitor has it."""
        full = f"{KV_PREFIX}{module}/{key}"
        if val is None:
            r, _, outs = self._mon_command({"prefix": "config-key del", "key": full})
        else:
            r, _, outs = self._mon_command({"prefix": "config-key set", "key": full, "val": val})
        if r != 0:
            raise RuntimeError(f"failed to persist mgr store key {full}: {outs}")
        with self._lock:
            if val is None:
                self.kv.pop(full, None)
            else:
                self.kv[full] = val

    # ------------------------------------------------------------------ hooks: actions
    def send_command(
        self,
        h: ModuleHandle,
        result: Any,
        svc_type: str,
        svc_id: str,
        command: str,
        tag: str,
        inbuf: Any,  # fmt: skip
    ) -> None:
        """Send a command; complete `result` (and notify 'command' with `tag`) when done."""
        data = inbuf.encode() if isinstance(inbuf, str) else bytes(inbuf or b"")

        async def run() -> None:
            try:
                cmd = json.loads(command)
                if svc_type == "mon":
                    r, out, outs = await self.daemon.monc.command(cmd, data, timeout=HOOK_TIMEOUT)
                elif svc_type == "mgr":
                    r, out, outs = await self.daemon.handle_command_async(cmd, data)
                else:
                    r, out, outs = await self.daemon.send_daemon_command(svc_type, svc_id, cmd, data)  # fmt: skip
            except CephError as e:
                r, out, outs = -e.errno, b"", e.message
            except (ValueError, TypeError) as e:
                r, out, outs = -errno.EINVAL, b"", str(e)
            result.complete(r, out.decode("utf-8", "replace"), outs)
            if tag:
                self._post(h, ("command", tag))

        self._to_loop(self._spawn, run())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._tasks.closed:  # stopped: nothing new starts
            coro.close()
            return
        self._tasks.spawn(coro)

    def set_health_checks(self, module: str, checks: Any) -> None:
        h = self.running.get(module)
        if h is not None:
            h.health = {str(k): dict(v) for k, v in dict(checks).items()}
            self._to_loop(self.daemon.health_changed)

    def health_checks(self) -> dict[str, Any]:
        """Checks the modules set, plus upstream's MGR_MODULE_ERROR (enabled modules that
        failed to load or run) and MGR_MODULE_DEPENDENCY (enabled, but can_run() said no)
        with PyModuleRegistry::get_health_checks' texts."""
        out: dict[str, Any] = {}
        failed: dict[str, str] = {}
        dependency: dict[str, str] = {}
        enabled = set()
        if self.loaded.is_set() and self.mgrmap.get("active_name") == self.mgr_id:
            # modules asked for: a found always-on module that cannot run is not
            enabled = set(self.mgrmap.get("modules", [])) | self._always_on_here(self.mgrmap, False)  # fmt: skip
        for name in sorted(enabled):
            info = self.modules.get(name)
            if info is None:
                continue
            if info.load_error:
                failed[name] = info.error_string
            elif not info.can_run:
                dependency[name] = info.error_string
        for h in list(self.running.values()):
            if h.failed is not None:
                failed[h.name] = h.failed
                continue
            for code, c in h.health.items():
                detail = [str(x) for x in c.get("detail", [])]
                sev = "HEALTH_ERR" if c.get("severity") == "error" else "HEALTH_WARN"
                summary = {"message": str(c.get("summary", "")), "count": int(c.get("count", len(detail)))}  # fmt: skip
                out[code] = _check(sev, summary, detail)
        if failed:
            (n1, e1), *_ = sorted(failed.items())
            msg = f"Module '{n1}' has failed: {e1}" if len(failed) == 1 else f"{len(failed)} mgr modules have failed"  # fmt: skip
            detail = [f"Module '{n}' has failed: {e}" for n, e in sorted(failed.items())]
            out["MGR_MODULE_ERROR"] = _check("HEALTH_ERR", {"message": msg, "count": len(failed)}, detail)  # fmt: skip
        if dependency:
            (n1, e1), *_ = sorted(dependency.items())
            msg = f"Module '{n1}' has failed dependency: {e1}" if len(dependency) == 1 else f"{len(dependency)} mgr modules have failed dependencies"  # fmt: skip
            detail = [f"Module '{n}' has failed dependency: {e}" for n, e in sorted(dependency.items())]  # fmt: skip
            out["MGR_MODULE_DEPENDENCY"] = _check("HEALTH_WARN", {"message": msg, "count": len(dependency)}, detail)  # fmt: skip
        return out

    def module_log(self, module: str, message: str) -> None:
        """A module's log record, `[<module> <LEVEL> <logger>] text`, into the mgr's log
        at the record's own severity."""
        parts = message.split(" ", 2)
        level = _LEVELS.get(parts[1].strip(), logging.INFO) if len(parts) > 1 else logging.INFO
        logging.getLogger(f"pyceph.mgr.module.{module}").log(level, "%s", message)

    def cluster_log(self, channel: str, priority: int, message: str) -> None:
        prio = _CLOG_PRIO.get(int(priority), "info")
        entry = {"channel": channel, "prio": prio, "msg": message, "stamp": self.daemon.runtime.clock.now()}  # fmt: skip
        self._to_loop(self.daemon.monc.send, "log", {"entries": [entry]})

    def set_uri(self, module: str, uri: str) -> None:
        h = self.running.get(module)
        if h is not None and not h.standby and h.uri != uri:
            h.uri = uri
            self._to_loop(self.daemon.services_changed)

    def get_active_uri(self, module: str) -> str:
        return str(self.mgrmap.get("services", {}).get(module, ""))

    def update_progress_event(self, evid: str, desc: str, progress: float, add_to_ceph_s: bool) -> None:  # fmt: skip
        self.progress[evid] = {"message": desc, "progress": float(progress), "add_to_ceph_s": bool(add_to_ceph_s)}  # fmt: skip

    def progress_events(self) -> dict[str, dict[str, Any]]:
        """The modules' progress events as upstream's ProgressEvent dumps (a copy: module
        threads keep updating them)."""
        return dict(self.progress)

    def complete_progress_event(self, evid: str) -> None:
        self.progress.pop(evid, None)

    def clear_all_progress_events(self) -> None:
        self.progress.clear()

    def set_device_wear_level(self, devid: str, wear_level: float) -> None:
        pass  # device health arrives with the devicehealth module

    def dispatch_remote(self, module_name: str, method_name: str, args: tuple, kwargs: dict) -> Any:  # fmt: skip
        """`remote()`: ImportError for a module that is not running, NameError for a method."""
        h = self.running.get(module_name)
        if h is None or h.instance is None or h.failed is not None or h.standby:
            raise ImportError("Module not found")
        method = getattr(h.instance, method_name, None)
        if method is None or not callable(method):
            raise NameError("Method not found")
        return method(*args, **kwargs)
