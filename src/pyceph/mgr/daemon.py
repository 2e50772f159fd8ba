"""pyceph-mgr: the manager daemon (statistics and mgr commands; modules come later).

It authenticates to the monitor, accepts the OSDs' statistics reports, aggregates them
in a `PGMap`, serves the mgr's commands (`pg stat`, `pg dump`, `osd df`, ...), pushes a
digest to the monitor for `status`/`df`/health, and beacons so the monitor knows where
it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
from typing import Any

from pyceph.auth.keys import load_secret
from pyceph.auth.service import ServiceAuthServer
from pyceph.common.addr import configured_addr
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.process import load_config, pid_file, run_until_signal, setup_logging
from pyceph.common.runtime import Runtime, install_uvloop, real_runtime
from pyceph.mgr.commands import handle_mgr_command
from pyceph.mgr.pgmap import PGMap
from pyceph.mgr.servicemap import ServiceMap
from pyceph.mon.monclient import MonClient
from pyceph.msg.connection import Connection
from pyceph.msg.message import Message
from pyceph.msg.messenger import Messenger

log = logging.getLogger("pyceph.mgr")

EACCES = 13
ENOENT = 2
EINVAL = 22
#: How often the mgr logs its `pgmap vN: ...` debug line (upstream: every mgr tick).
PGMAP_LOG_PERIOD = 2.0
#: Beacon period; the monitor's view of the mgr is refreshed this often.
MGR_BEACON_PERIOD = 2.0


class MgrDaemon:
    """The active manager."""

    def __init__(self, runtime: Runtime, config: CephConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.name = config.entity_id
        self.pgmap = PGMap()
        self.service_map = ServiceMap()
        self.monc: MonClient | None = None
        self.msgr: Messenger | None = None
        self._dirty = True
        self._smap_pending: dict[str, Any] | None = None
        self._last_pgmap_log = 0.0

    async def serve(self, stop: asyncio.Event) -> None:
        secret = load_secret(self.config)
        self.monc = MonClient(
            self.runtime,
            str(self.config.get("mon_host")),
            self.config.name,
            secret,
            on_osdmap=self._on_osdmap,
            on_config=self.config.apply_mon_config,
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
        )
        pub = configured_addr(self.config.get("public_addr"))
        addr = await self.msgr.bind(pub[0] if pub else self.monc.local_host(), pub[1] if pub else 0)
        await self.monc.subscribe({"osdmap": 0, "config": 0})
        await self._seed_service_map()
        log.info("mgr.%s listening on %s", self.name, addr)
        tasks = [
            asyncio.ensure_future(self._beacon_loop(addr)),
            asyncio.ensure_future(self._digest_loop()),
        ]
        try:
            await stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
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

    def _on_osdmap(self, osdmap: Any) -> None:
        self.pgmap.apply_osdmap(osdmap)
        self._dirty = True

    async def _beacon_loop(self, addr: tuple[str, int]) -> None:
        assert self.monc is not None
        commands: dict[str, object] = {}  # module commands (modules come later)
        while True:
            self.monc.send(
                "mgr_beacon",
                {
                    "name": self.name,
                    "addr": list(addr),
                    "available": True,
                    "modules": [],
                    "services": {},
                    "commands": commands,
                    "metadata": {"hostname": socket.gethostname()},
                },
            )
            await self.runtime.clock.sleep(MGR_BEACON_PERIOD)

    async def _digest_loop(self) -> None:
        assert self.monc is not None
        period = float(self.config.get("mgr_stats_period"))
        while True:
            await self.runtime.clock.sleep(min(period, 1.0))
            if self.monc.osdmap is None:
                continue
            now = self.runtime.clock.now()
            self.pgmap.tick(now)
            head: dict[str, Any] = {"digest": self.pgmap.digest(self.monc.osdmap)}
            self.service_map.expire(now)
            smap = self.service_map.commit(now)
            if smap is not None:
                self._smap_pending = smap
            if self._smap_pending is not None:
                # resent with every digest until the monitor's map shows this epoch
                head["service_map"] = self._smap_pending
            self.monc.send("mgr_digest", head)
            self._log_pgmap(now)

    def _log_pgmap(self, now: float) -> None:
        """The `pgmap vN: ...` debug line upstream's mgr logs to the cluster log each tick."""
        assert self.monc is not None
        if now - self._last_pgmap_log < PGMAP_LOG_PERIOD:
            return
        self._last_pgmap_log = now
        text = f"pgmap v{self.pgmap.version}: {self.pgmap.pg_stat_text().rstrip()}"
        entry = {"channel": "cluster", "prio": "debug", "msg": text, "stamp": now}
        self.monc.send("log", {"entries": [entry]})

    def _dispatch(self, conn: Connection, msg: Message) -> None:
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
            self.pgmap.apply_osd_report(osd_id, dict(msg.head["report"]), self.runtime.clock.now())
        elif msg.type == "mgr_command":
            self._command(conn, msg)
        elif "tid" in msg.head:
            conn.reply(msg, {"r": -EINVAL})

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
        try:
            ret, out, outs = handle_mgr_command(
                self.pgmap, self.monc.osdmap, cmd, bytes(msg.data), self.service_map
            )
        except CephError as e:
            ret, out, outs = -e.errno, b"", e.message
        conn.reply(msg, {"r": ret, "outs": outs}, out)


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
            asyncio.run(run_until_signal(daemon.serve))
    except CephError as e:
        print(f"pyceph-mgr: {e}", file=sys.stderr)
        return e.errno
    return 0


if __name__ == "__main__":
    sys.exit(main())
