"""pyceph-mgr: the manager daemon (statistics, mgr commands and the module host).

Every mgr beacons; the monitor makes one active (the MgrMap names it) and the
others standbys (pyceph.mon.mgrmon). The active one does everything below; a
standby runs only the enabled modules' MgrStandbyModule classes and waits for the
MgrMap to name it (upstream MgrStandby / Mgr). Named active, it re-reads the module
store and the service map and starts the modules; named standby again (`mgr fail`,
or the monitor thought it dead), it stops them — where upstream respawns the
process, which then comes back as a standby.

It authenticates to the monitor, accepts the OSDs' statistics reports, aggregates them
in a `PGMap`, serves the mgr's commands (`pg stat`, `pg dump`, `osd df`, ...), pushes a
digest to the monitor for `status`/`df`/health, runs the enabled mgr modules
(`pyceph.mgr.modules`) and routes their commands to them, and beacons so the monitor
knows where it listens and which modules it can run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import sys
from typing import Any

from pyceph.auth import enforce
from pyceph.auth.keys import load_secret
from pyceph.auth.service import ServiceAuthServer
from pyceph.common.addr import configured_addr, parse_addr
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.process import load_config, pid_file, run_until_signal, setup_logging
from pyceph.common.runtime import Runtime, install_uvloop, real_runtime
from pyceph.common.tasks import TaskSet
from pyceph.mgr import pg_adjust
from pyceph.mgr.commands import (
    OSD_REMOVAL_PREFIXES,
    SCRUB_PREFIXES,
    handle_mgr_command,
    handle_osd_removal,
    handle_scrub_command,
)
from pyceph.mgr.modules.host import ModuleHost
from pyceph.mgr.pgmap import PGMap
from pyceph.mgr.servicemap import ServiceMap
from pyceph.monc.monclient import MonClient
from pyceph.msg.connection import Connection
from pyceph.msg.message import Message
from pyceph.msg.messenger import Messenger

log = logging.getLogger("pyceph.mgr")

EACCES = 13
ENOENT = 2
EINVAL = 22
#: How long a module's command to an OSD (`send_command`) may take.
OSD_COMMAND_TIMEOUT = 60.0
#: bound on one pg_num/pgp_num step the mgr sends the monitor
MON_COMMAND_TIMEOUT = 30.0


class MgrDaemon:
    """One manager daemon, active or standby as the MgrMap says."""

    def __init__(
        self,
        runtime: Runtime,
        config: CephConfig,
        *,
        client_mon_host: str | None = None,
        host_modules: bool = True,
    ) -> None:
        self.runtime = runtime
        self.config = config
        #: How a librados client reaches this cluster when that differs from the daemon's
        #: own `mon_host` (an embedded cluster's in-memory network: `embedded:NAME`).
        self.client_mon_host = client_mon_host
        #: Whether this mgr runs python modules (not in the simulator: their threads
        #: would make a seeded run unrepeatable).
        self.host_modules = host_modules
        self.name = config.entity_id
        self.pgmap = PGMap()
        self.service_map = ServiceMap()
        #: Set when the digest should go to the monitor before the next tick.
        self._digest_due = asyncio.Event()
        #: Set when the beacon should go out before its period ends (modules loaded).
        self._beacon_due = asyncio.Event()
        self.monc: MonClient | None = None
        self.msgr: Messenger | None = None
        self._dirty = True
        self._smap_pending: dict[str, Any] | None = None
        self._last_pgmap_log = 0.0
        #: osd id -> (the session it was last told the perf queries on, their version)
        self._perf_queries_told: dict[int, tuple[Connection, int]] = {}
        self.addr: tuple[str, int] | None = None
        #: the module host (upstream's PyModuleRegistry/ActivePyModules)
        self.modules = ModuleHost(self)
        #: whether the last MgrMap named this mgr active
        self.active = False
        #: named active and still reloading the module store: modules start after it
        self._activating = False
        self._md: dict[str, str] | None = None
        #: Requests served off the dispatch path (module and scrub commands, activation).
        self._tasks = TaskSet(f"mgr.{self.name}")

    async def serve(self, stop: asyncio.Event) -> None:
        secret = load_secret(self.config)
        self.monc = MonClient(
            self.runtime,
            str(self.config.get("mon_host")),
            self.config.name,
            secret,
            on_osdmap=self._on_osdmap,
            on_mgrmap=self._on_mgrmap,
            on_config=self._on_config,
            config=self.config,
        )
        await self.monc.start()
        auth = ServiceAuthServer(self.monc, "mgr")
        await auth.start()
        self.msgr = Messenger(
            self.runtime,
            self.config.name,
            self._dispatch,
            auth_server=auth,
            credentials=self.monc.credentials_for,
            config=self.config,
        )
        pub = configured_addr(self.config.get("public_addr"))
        addr = await self.msgr.bind(pub[0] if pub else self.monc.local_host(), pub[1] if pub else 0)
        self.addr = addr
        await self.monc.subscribe({"osdmap": 0, "config": 0, "mgrmap": 0})
        await self._seed_service_map()
        log.info("mgr.%s listening on %s", self.name, addr)
        loops = TaskSet(f"mgr.{self.name} loops")
        loops.spawn(self._beacon_loop(addr), "beacon")
        loops.spawn(self._digest_loop(), "digest")
        loops.spawn(self._adjust_pgs_loop(), "adjust_pgs")
        if self.host_modules:
            loops.spawn(self._start_modules(), "modules")
        try:
            await stop.wait()
        finally:
            await loops.close()
            await self.modules.stop()
            await self._tasks.close()
            await auth.stop()
            await self.msgr.shutdown()
            await self.monc.stop()

    async def _seed_service_map(self) -> None:
        """Continue the monitor's service map epochs (after a mgr restart)."""
        assert self.monc is not None
        try:
            r, out, _ = await self.monc.command({"prefix": "status", "format": "json"}, timeout=10)
            if r == 0:
                self.service_map.seed(int(json.loads(out)["servicemap"]["epoch"]))
        except (CephError, ValueError, KeyError, TypeError):
            pass

    async def _start_modules(self) -> None:
        """Load the modules (off the loop), then beacon at once with what we can run."""
        try:
            await self.modules.start()
        except CephError as e:
            log.error("mgr.%s: module host failed to start: %s", self.name, e)
            return
        self._beacon_due.set()

    def _on_mgrmap(self, mgrmap: dict[str, Any]) -> None:
        """Follow the MgrMap: become active or standby, (re)start the right modules."""
        active = mgrmap.get("active_name") == self.name
        if active == self.active:
            if self._activating:
                self.modules.mgrmap = mgrmap  # applied once the store is reloaded
            else:
                self.modules.apply_mgrmap(mgrmap)
            return
        self.active = active
        self._beacon_due.set()  # tell the monitor at once whether we are available
        if active:
            log.info("mgr.%s: now the active mgr", self.name)
            self.modules.mgrmap = mgrmap
            self._spawn(self._activate())
        else:
            log.info("mgr.%s: no longer active, now a standby", self.name)
            self.modules.apply_mgrmap(mgrmap)
            # as a respawned upstream mgr: no statistics kept from the time it was active
            self.pgmap = PGMap()
            if self.monc is not None and self.monc.osdmap is not None:
                self.pgmap.apply_osdmap(self.monc.osdmap)

    async def _activate(self) -> None:
        """Named active: pick up the store and service map the old active left, then
        start the modules (on the newest MgrMap)."""
        self._activating = True
        try:
            await self._seed_service_map()
            if self.modules.loaded.is_set():
                try:
                    await self.modules.reload_kv()
                except CephError as e:
                    log.warning("mgr.%s: reloading the module store failed: %s", self.name, e)
        finally:
            self._activating = False
        self._digest_due.set()
        if self.active:
            self.modules.apply_mgrmap(self.modules.mgrmap)

    def _on_osdmap(self, osdmap: Any) -> None:
        self.pgmap.apply_osdmap(osdmap)
        self._dirty = True
        self.modules.notify_all("osd_map")

    def _on_config(self, values: Any) -> None:
        self.config.apply_mon_config(values)
        self.modules.on_config(dict(values))

    def services_changed(self) -> None:
        """A module published or changed its URI: beacon now, so `ceph mgr services`
        shows it without waiting a tick."""
        self._beacon_due.set()

    def health_changed(self) -> None:
        """A module's health checks changed: tell the monitor with the next digest, now."""
        self._digest_due.set()

    async def _beacon_loop(self, addr: tuple[str, int]) -> None:
        """MMgrBeacon: where we listen, the modules we can run, their commands and URIs."""
        assert self.monc is not None
        while True:
            loaded = self.modules.loaded.is_set()
            self.monc.send(
                "mgr_beacon",
                {
                    "name": self.name,
                    "addr": list(addr),
                    # upstream MgrStandby::send_beacon: available once active and up
                    "available": self.active,
                    "available_modules": self.modules.available_modules() if loaded else None,
                    "services": self.modules.services(),
                    "commands": self.modules.command_descs() if loaded else None,
                    "metadata": self._metadata(addr),
                },
            )
            with contextlib.suppress(TimeoutError):
                # upstream beacons once per `mgr_tick_period`
                period = float(self.config.get("mgr_tick_period"))
                await asyncio.wait_for(self._beacon_due.wait(), period)
            self._beacon_due.clear()

    def _metadata(self, addr: tuple[str, int]) -> dict[str, str]:
        """What `mgr metadata` shows of this mgr (upstream collect_sys_info + addrs)."""
        if self._md is None:
            where = f"{addr[0]}:{addr[1]}/0"
            self._md = {"addr": where, "addrs": f"[v2:{where}]", **self.runtime.host.sys_info()}
        return self._md

    async def _digest_loop(self) -> None:
        assert self.monc is not None
        period = float(self.config.get("mgr_stats_period"))
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._digest_due.wait(), min(period, 1.0))
            self._digest_due.clear()
            if self.monc.osdmap is None or not self.active:
                continue
            now = self.runtime.clock.now()
            self.pgmap.tick(now)
            digest = self.pgmap.digest(self.monc.osdmap)
            digest["health_checks"] = self.modules.health_checks()
            digest["progress_events"] = self.modules.progress_events()
            head: dict[str, Any] = {"digest": digest}
            self.service_map.expire(now)
            smap = self.service_map.commit(now)
            if smap is not None:
                self._smap_pending = smap
            if self._smap_pending is not None:
                # resent with every digest until the monitor's map shows this epoch
                head["service_map"] = self._smap_pending
            self.monc.send("mgr_digest", head)
            self._log_pgmap(now)
            self.modules.notify_all("pg_summary")

    async def _adjust_pgs_loop(self) -> None:
        """Step pools' pg_num/pgp_num toward their targets every `mgr_tick_period` while
        active (upstream DaemonServer::tick -> adjust_pgs; pyceph.mgr.pg_adjust)."""
        assert self.monc is not None
        while True:
            await self.runtime.clock.sleep(float(self.config.get("mgr_tick_period")))
            osdmap = self.monc.osdmap
            if osdmap is None or not self.active:
                continue
            pg_nums, pgp_nums = pg_adjust.adjust_pgs(
                osdmap.pools,
                self._pg_stat,
                pg_adjust.recovery_ratios([d for _pgid, d in self.pgmap.pgs()]),
                float(self.config.get("target_max_misplaced_ratio")),
                {pid: int(s.get("num_objects", 0)) for pid, s in self.pgmap.pool_sums().items()},
            )
            for var, todo in (("pg_num_actual", pg_nums), ("pgp_num_actual", pgp_nums)):
                for pool, val in todo.items():
                    log.info("mgr.%s: pool %s %s -> %s", self.name, pool, var, val)
                    cmd = {"prefix": "osd pool set", "pool": pool, "var": var, "val": str(val)}
                    try:
                        r, _out, outs = await self.monc.command(cmd, timeout=MON_COMMAND_TIMEOUT)
                    except (CephError, TimeoutError) as e:
                        r = -(e.errno if isinstance(e, CephError) else errno.ETIMEDOUT)
                        outs = str(e)
                    if r < 0:
                        log.info("mgr.%s: %s: %s (%s)", self.name, cmd, outs, r)

    def _pg_stat(self, pool: int, ps: int) -> pg_adjust.PGStat | None:
        st = self.pgmap.pg_stats.get(f"{pool}.{ps:x}")
        if st is None:
            return None
        d = self.pgmap.pg(f"{pool}.{ps:x}", pool, ps)  # staleness applied
        return pg_adjust.PGStat(
            str(d["state"]), tuple(d["acting"]), int(d.get("reported_epoch", 0))
        )

    def _log_pgmap(self, now: float) -> None:
        """The `pgmap vN: ...` debug line upstream's mgr logs to the cluster log each tick."""
        assert self.monc is not None
        if now - self._last_pgmap_log < float(self.config.get("mgr_tick_period")):
            return
        self._last_pgmap_log = now
        text = f"pgmap v{self.pgmap.version}: {self.pgmap.pg_stat_text().rstrip()}"
        entry = {"channel": "cluster", "prio": "debug", "msg": text, "stamp": now}
        self.monc.send("log", {"entries": [entry]})

    def _dispatch(self, conn: Connection, msg: Message) -> None:
        if msg.type == "mgr_report" and "perf" in msg.head and conn.peer is not None:
            # perf counters of any daemon (pyceph.mgr.perfstore), beside the report itself
            self.modules.perf.ingest(conn.peer.entity, dict(msg.head["perf"]), self.runtime.clock.now())  # fmt: skip
        if msg.type == "mgr_open":
            self._open(conn, msg)
        elif msg.type == "mgr_report" and "service" in msg.head:
            assert conn.peer is not None
            h = msg.head
            status = h.get("status")
            ok = self.service_map.report(
                str(h.get("service", "")),
                str(h.get("daemon", "")),
                conn.peer.global_id,
                None if status is None else {str(k): str(v) for k, v in dict(status).items()},
                self.runtime.clock.now(),
            )
            if not ok and "tid" in h:
                conn.reply(msg, {"r": -ENOENT})
            elif "tid" in h:
                conn.reply(msg, {"r": 0})
        elif msg.type == "mgr_report":
            peer = conn.peer.entity if conn.peer else ""
            osd_id = int(msg.head.get("osd_id", -1))
            if peer != f"osd.{osd_id}":
                return
            first = osd_id not in self.pgmap.osd_stats
            self.pgmap.apply_osd_report(osd_id, dict(msg.head["report"]), self.runtime.clock.now())
            self._osd_perf_queries(conn, osd_id, msg.head.get("perf_metrics"))
            # a new OSD's capacity, or a report flushed on request (`flush_pg_stats`),
            # reaches the monitor at once, not a tick later
            if first or msg.head.get("flush"):
                self._digest_due.set()
        elif msg.type == "mgr_command":
            self._command(conn, msg)
        elif "tid" in msg.head:
            conn.reply(msg, {"r": -EINVAL})

    def _osd_perf_queries(self, conn: Connection, osd_id: int, counted: Any) -> None:
        """Take what an OSD counted for the modules' perf queries, and tell it the queries
        when they changed since it was last told on this session (upstream MMgrConfigure)."""
        queries = self.modules.osd_perf_queries
        queries.ingest(counted)
        told = self._perf_queries_told.get(osd_id)
        if told is not None and told[0] is conn and told[1] == queries.version:
            return
        if told is None and not queries.wire():
            self._perf_queries_told[osd_id] = (conn, queries.version)  # nothing to count yet
            return
        conn.send("mgr_configure", {"osd_perf_queries": queries.wire()})
        self._perf_queries_told[osd_id] = (conn, queries.version)

    def _open(self, conn: Connection, msg: Message) -> None:
        """MMgrOpen from a service daemon: register it in the service map."""
        assert conn.peer is not None
        h = msg.head
        service, daemon = str(h.get("service", "")), str(h.get("daemon", ""))
        r = ServiceMap.check_register(service, daemon)
        if r == 0:
            status = h.get("status")
            self.service_map.open(
                service,
                daemon,
                conn.peer.global_id,
                str(h.get("addr", "")),
                {str(k): str(v) for k, v in dict(h.get("metadata", {})).items()},
                None if status is None else {str(k): str(v) for k, v in dict(status).items()},
                self.runtime.clock.now(),
            )
        if "tid" in h:
            conn.reply(msg, {"r": r})

    def _command(self, conn: Connection, msg: Message) -> None:
        assert self.monc is not None
        try:
            cmd = json.loads(msg.head.get("cmd", ""))
            if not isinstance(cmd, dict):
                raise ValueError
        except ValueError:
            conn.reply(msg, {"r": -EINVAL, "outs": "command not understood"})
            return
        if msg.head.get("tell"):
            ret, out, outs = _tell(cmd, conn.peer.caps if conn.peer else None)
            conn.reply(msg, {"r": ret, "outs": outs}, out)
            return
        peer = conn.peer
        if self.modules.find_command(str(cmd.get("prefix", ""))) is not None:
            # A monitor proxies its clients' mgr commands (Monitor::handle_command) once
            # their *mon* caps allowed them; the mgr trusts it, as upstream's does.
            caps: dict[str, str] | None = dict(peer.caps or {}) if peer is not None else {}
            if peer is not None and peer.entity.startswith("mon."):
                caps = None
            self._spawn(self._module_command(conn, msg, cmd, caps))
            return
        if peer is not None and not enforce.mgr_builtin_command_allowed(
            peer.caps, peer.entity, cmd, conn.peer_addr
        ):  # DaemonServer::_allowed_command with MgrCommands.h's descriptor
            conn.reply(msg, {"r": -EACCES, "outs": enforce.MGR_ACCESS_DENIED})
            return
        if cmd.get("prefix") in SCRUB_PREFIXES:
            self._spawn(self._scrub_command(conn, msg, cmd))
            return
        if cmd.get("prefix") in OSD_REMOVAL_PREFIXES:
            self._spawn(self._osd_removal_command(conn, msg, cmd))
            return
        try:
            ret, out, outs = handle_mgr_command(
                self.pgmap, self.monc.osdmap, cmd, bytes(msg.data), self.service_map
            )
        except CephError as e:
            ret, out, outs = -e.errno, b"", e.message
        conn.reply(msg, {"r": ret, "outs": outs}, out)

    async def _module_command(
        self, conn: Connection, msg: Message, cmd: dict[str, Any], caps: dict[str, str] | None
    ) -> None:
        ret, out, outs = await self.modules.handle_command(cmd, bytes(msg.data), caps)
        if not conn.closed:
            conn.reply(msg, {"r": ret, "outs": outs}, out)

    async def _scrub_command(self, conn: Connection, msg: Message, cmd: dict[str, Any]) -> None:
        """`pg|osd scrub|deep-scrub|repair`: tell the primary OSD(s), answer at once."""
        assert self.monc is not None
        ret, out, outs = await handle_scrub_command(self.monc.osdmap, cmd, self.send_daemon_command)
        if not conn.closed:
            conn.reply(msg, {"r": ret, "outs": outs}, out)

    async def _osd_removal_command(self, conn: Connection, msg: Message, cmd: dict[str, Any]) -> None:  # fmt: skip
        """`osd destroy|purge`: the safety check here, the `-actual` command at the mon."""
        ret, out, outs = await self._osd_removal(cmd)
        if not conn.closed:
            conn.reply(msg, {"r": ret, "outs": outs}, out)

    async def _osd_removal(self, cmd: dict[str, Any]) -> tuple[int, bytes, str]:
        assert self.monc is not None
        monc = self.monc

        async def mon_command(c: dict[str, Any]) -> tuple[int, bytes, str]:
            try:
                return await monc.command(c, timeout=MON_COMMAND_TIMEOUT)
            except CephError as e:
                return -e.errno, b"", e.message
            except TimeoutError:
                return -errno.ETIMEDOUT, b"", f"{c['prefix']}: no answer from the monitor"

        return await handle_osd_removal(self.pgmap, monc.osdmap, cmd, mon_command)

    async def handle_command_async(self, cmd: dict[str, Any], inbuf: bytes) -> tuple[int, bytes, str]:  # fmt: skip
        """A command to this mgr from one of its modules (`send_command(..., 'mgr', ...)`)."""
        if self.modules.find_command(str(cmd.get("prefix", ""))) is not None:
            return await self.modules.handle_command(cmd, inbuf)
        assert self.monc is not None
        if cmd.get("prefix") in SCRUB_PREFIXES:
            return await handle_scrub_command(self.monc.osdmap, cmd, self.send_daemon_command)
        if cmd.get("prefix") in OSD_REMOVAL_PREFIXES:
            return await self._osd_removal(cmd)
        try:
            return handle_mgr_command(self.pgmap, self.monc.osdmap, cmd, inbuf, self.service_map)
        except CephError as e:
            return -e.errno, b"", e.message

    async def send_daemon_command(
        self, svc_type: str, svc_id: str, cmd: dict[str, Any], inbuf: bytes
    ) -> tuple[int, bytes, str]:
        """A command to an OSD (`send_command(..., 'osd', id, ...)`), over our messenger."""
        assert self.msgr is not None and self.monc is not None
        om = self.monc.osdmap
        if svc_type != "osd" or om is None or not str(svc_id).isdigit() or not om.is_up(int(svc_id)):  # fmt: skip
            return -ENOENT, b"", f"{svc_type}.{svc_id} does not exist or is down"
        addr = om.osds[int(svc_id)].public_addr
        conn = await self.msgr.connect(parse_addr(addr.split("/")[0]), "osd")
        reply = await conn.call("osd_command", {"cmd": json.dumps(cmd)}, inbuf, OSD_COMMAND_TIMEOUT)
        return int(reply.head.get("r", 0)), bytes(reply.data), str(reply.head.get("outs", ""))

    def _spawn(self, coro: Any) -> None:
        if self._tasks.closed:  # shutting down: nothing new starts
            coro.close()
            return
        self._tasks.spawn(coro)


def _tell(cmd: dict[str, Any], caps: dict[str, str] | None) -> tuple[int, bytes, str]:
    """A command sent to this mgr by name (upstream MgrClient::start_tell_command).

    Upstream's DaemonServer answers a tell only for `allow *` mgr caps (-EACCES) and
    passes it to the daemon's admin socket, which does not know the module commands:
    an unknown prefix is -EINVAL "unknown command prefix X".
    """
    from pyceph import CEPH_RELEASE, CEPH_VERSION
    from pyceph.auth.caps import parse_caps

    if caps is not None:
        try:
            allowed = bool(parse_caps("mgr", caps.get("mgr", "")).is_allow_all)
        except (CephError, ValueError):
            allowed = False
        if not allowed:
            return -EACCES, b"", "access denied"
    prefix = str(cmd.get("prefix", ""))
    if prefix == "version":
        out = {"version": CEPH_VERSION, "release": CEPH_RELEASE, "release_type": "stable"}
        if str(cmd.get("format") or "json-pretty") == "json":
            return 0, json.dumps(out, separators=(",", ":")).encode(), ""
        return 0, (json.dumps(out, indent=4) + "\n").encode(), ""
    return -EINVAL, b"", f"unknown command prefix {prefix}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pyceph-mgr")
    p.add_argument("-i", "--id", required=True)
    p.add_argument("-c", "--conf")
    args, extra = p.parse_known_args(argv)
    cfg = load_config(f"mgr.{args.id}", args.conf, extra)
    setup_logging(cfg)
    install_uvloop()
    os.makedirs(str(cfg.get("mgr_data")), exist_ok=True)
    daemon = MgrDaemon(real_runtime(), cfg)
    try:
        with pid_file(cfg):
            asyncio.run(run_until_signal(daemon.serve, cfg))
    except CephError as e:
        print(f"pyceph-mgr: {e}", file=sys.stderr)
        return e.errno
    return 0


if __name__ == "__main__":
    sys.exit(main())
