"""pyceph-mon: the monitor daemon, the asyncio shell around `MonState`.

It authenticates every peer, runs commands and events through the state machine,
persists each change in one fsync'd store transaction *before* it replies or publishes,
pushes new maps to subscribers, and forwards mgr commands to the active mgr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any

from pyceph.auth import enforce
from pyceph.common.addr import configured_addr, parse_addr, parse_mon_host
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring
from pyceph.common.kvstore import LmdbKV, MemKV
from pyceph.common.process import load_config, pid_file, run_until_signal, setup_logging
from pyceph.common.runtime import Runtime, install_uvloop, real_runtime
from pyceph.common.tasks import TaskSet
from pyceph.mon.auth_server import MonAuthServer
from pyceph.mon.perf import MonPerf
from pyceph.mon.state import MonState
from pyceph.msg.connection import Connection
from pyceph.msg.handshake import Credentials
from pyceph.msg.message import Message
from pyceph.msg.messenger import Messenger

log = logging.getLogger("pyceph.mon")

EINVAL = 22
ENOENT = 2
EACCES = 13
EPERM = 1
ETIMEDOUT = 110
STATE_PREFIX = b"state/"
#: How long a forwarded mgr command may wait for the mgr's answer.
MGR_COMMAND_TIMEOUT = 60.0
#: Cluster log subscriptions (upstream LogMonitor `log-<level>`) and their minimum level.
LOG_SUBS = {"log-debug": 0, "log-info": 1, "log-sec": 2, "log-warn": 3, "log-error": 4}


class MonDaemon:
    """One monitor: its store, its state machine, its sessions."""

    def __init__(self, runtime: Runtime, config: CephConfig, kv: LmdbKV | MemKV) -> None:
        self.runtime = runtime
        self.config = config
        self.name = config.entity_id
        self.kv = kv
        self.state: MonState | None = None
        self.auth: MonAuthServer | None = None
        self.msgr: Messenger | None = None
        #: the tick loop, the perf reporter and commands forwarded to the mgr
        self.tasks = TaskSet(f"mon.{self.name}")
        self._config_version = 1
        #: perf counters (`mon`, `paxos`, `cluster`), reported to the active mgr
        self.perf = MonPerf()

    # -- creation and recovery -----------------------------------------------
    def mkfs(self, fsid: str, addr: tuple[str, int], keyring: Keyring) -> None:
        """Create the initial maps and auth database in an empty store."""
        if self.kv.get(STATE_PREFIX + b"exists"):
            raise CephError(17, f"mon.{self.name} store already exists")
        state = MonState.create(
            fsid, self.name, f"{addr[0]}:{addr[1]}", self.runtime.clock.now(), self.config.get
        )
        for entity, entry in keyring.entries.items():
            state.auth_add(entity, entry.key, dict(entry.caps))
        self.state = state
        self._persist(initial=True)

    def load(self) -> None:
        if not self.kv.get(STATE_PREFIX + b"exists"):
            raise CephError(ENOENT, f"mon.{self.name} has no store; run with --mkfs first")
        snap = {
            k[len(STATE_PREFIX) :].decode(): v
            for k, v in self.kv.items(STATE_PREFIX)
            if k != STATE_PREFIX + b"exists"
        }
        self.state = MonState.restore(snap, self.config.get)
        self._apply_own_config()

    def _apply_own_config(self) -> None:
        """The monitor takes its own section of the config database as every daemon does
        (`ceph config set mon mon_allow_pool_delete true` reaches the monitor itself)."""
        self.config.apply_mon_config(self._config_for(f"mon.{self.name}"))

    def _persist(self, keys: list[str] | None = None, initial: bool = False) -> int:
        """Write the given state keys (all when None) atomically and durably; the bytes
        written."""
        assert self.state is not None
        snap = self.state.snapshot(keys)
        puts = {STATE_PREFIX + k.encode(): v for k, v in snap.items()}
        deletes = tuple(STATE_PREFIX + k.encode() for k in self.state.take_store_deletes())
        if initial:
            puts[STATE_PREFIX + b"exists"] = b"1"
        if puts or deletes:
            self.kv.commit(puts, deletes)
        return sum(len(v) for v in puts.values())

    # -- serving ------------------------------------------------------------
    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; every task started here ends before this returns."""
        assert self.state is not None
        st = self.state
        st.start_time = self.runtime.clock.now()  # quorum (of one) forms as we start
        st.rand_bytes = self.runtime.rand.randbytes
        self.auth = MonAuthServer(
            self.runtime, self.kv, st.get_auth, st.monmap["fsid"], opt=self.config.get
        )
        st.auth_health = lambda: self.auth.health_checks([self.name])
        self.msgr = Messenger(
            self.runtime,
            f"mon.{self.name}",
            self._dispatch,
            auth_server=self.auth,
            credentials=self._credentials,
            on_reset=self._on_reset,
            config=self.config,
        )
        host, port = self._my_addr()
        await self.msgr.bind(host, port)
        log.info("mon.%s listening on %s:%s", self.name, host, port)
        self.tasks.spawn(self._tick_loop(), "tick")
        self.perf.started()
        self.tasks.spawn(self.perf.report_loop(self), "perf reports")
        try:
            await stop.wait()
        finally:
            await self.tasks.close()
            await self.msgr.shutdown()

    def _my_addr(self) -> tuple[str, int]:
        pub = configured_addr(self.config.get("public_addr"))
        if pub is not None and pub[1]:
            return pub
        return parse_mon_host(str(self.config.get("mon_host")))[0]

    def _credentials(self, peer_type: str) -> Credentials:
        assert self.auth is not None
        return self.auth.self_credentials(f"mon.{self.name}", peer_type)

    async def _tick_loop(self) -> None:
        interval = float(self.config.get("mon_tick_interval"))
        while True:
            await self.runtime.clock.sleep(min(interval, 1.0))
            assert self.state is not None
            if self.state.tick(self.runtime.clock.now()):
                self._commit_and_publish()

    def _commit_and_publish(self) -> None:
        assert self.state is not None and self.msgr is not None
        keys = self.state.commit_pending(self.runtime.clock.now())
        t0 = self.runtime.clock.monotonic()
        nbytes = self._persist(keys)
        self.perf.paxos_round(len(keys), nbytes, self.runtime.clock.monotonic() - t0)
        if "config" in keys:
            self._config_version += 1
            self._apply_own_config()
        self._publish()

    def _publish(self) -> None:
        """Push maps newer than what each subscriber has."""
        assert self.state is not None and self.msgr is not None
        osdmap = self.state.osdmap
        built: dict[int, list[tuple[dict[str, Any], bytes]]] = {}
        for conn in self.msgr.connections():
            subs = conn.user.get("subs")
            if not subs:
                continue
            # config first: a client is configured before its first map arrives
            if "config" in subs and subs["config"] < self._config_version and conn.peer:
                self._send(conn, "config", {"config": self._config_for(conn.peer.entity)})
                subs["config"] = self._config_version
            want = subs.get("osdmap")
            if want is not None and want <= osdmap.epoch:
                if want not in built:
                    built[want] = self._osdmap_messages(int(want))
                for head, data in built[want]:
                    self._send(conn, "osd_map", head, data)
                subs["osdmap"] = osdmap.epoch + 1
            mgr_epoch = self.state.mgrmap.get("epoch", 0)
            if "mgrmap" in subs and subs["mgrmap"] <= mgr_epoch:
                self._send(conn, "mgr_map", {"map": self.state.mgrmap})
                subs["mgrmap"] = mgr_epoch + 1
        self._publish_log()

    def _osdmap_messages(self, want: int) -> list[tuple[dict[str, Any], bytes]]:
        """`osd_map` messages for a subscriber wanting epochs from `want` on (upstream
        MOSDMap): the head lists each map's epoch, kind (full or inc) and length, in
        the order their bytes follow in the data."""
        assert self.state is not None
        hist = self.state.osdmap_history
        out = []
        for entries in hist.plan(want, int(self.config.get("osd_map_message_max"))):
            head = {
                "epoch": entries[-1].epoch,
                "maps": [[e.epoch, e.kind, len(e.data)] for e in entries],
                "oldest": hist.first,
                "newest": hist.last,
            }
            out.append((head, b"".join(bytes(e.data) for e in entries)))
        return out

    def _publish_log(self) -> None:
        """Push new cluster log entries to `log-<level>` subscribers (upstream MLog)."""
        assert self.state is not None and self.msgr is not None
        last = self.state.log_seq
        for conn in self.msgr.connections():
            subs = conn.user.get("subs")
            if not subs:
                continue
            for what, nxt in list(subs.items()):
                level = LOG_SUBS.get(what)
                if level is None or nxt > last:
                    continue
                entries = self.state.log_since(nxt, level)
                subs[what] = last + 1
                if entries:
                    self._send(conn, "log", {"entries": entries, "level": what})

    def _config_for(self, entity: str) -> dict[str, str]:
        """The config database as it applies to `entity`: global < type < type.id."""
        assert self.state is not None
        etype = entity.split(".", 1)[0]
        out: dict[str, str] = {}
        for who in ("global", etype, entity):
            out.update(self.state.config_db.get(who, {}))
        return out

    @staticmethod
    def _send(conn: Connection, mtype: str, head: dict[str, Any], data: bytes = b"") -> None:
        try:
            conn.send(mtype, head, data)
        except CephError:
            pass

    def _on_reset(self, conn: Connection) -> None:
        if conn.user.pop("perf_session", False):
            self.perf.session_rm()
        if conn.peer is not None and self.auth is not None:
            self.auth.session_closed(conn.peer)

    # -- dispatch -----------------------------------------------------------
    def _dispatch(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None and conn.peer is not None
        if not conn.user.get("perf_session"):
            conn.user["perf_session"] = True
            self.perf.session_add()
        handler = getattr(self, "_h_" + msg.type, None)
        if handler is None:
            log.debug("mon: ignoring %s from %s", msg.type, conn.peer.entity)
            if "tid" in msg.head:
                conn.reply(msg, {"r": -EINVAL})
            return
        handler(conn, msg)

    def _h_mon_subscribe(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        subs = conn.user.setdefault("subs", {})
        for what in msg.head.get("unsub", []) or []:
            subs.pop(what, None)
        for what, start in dict(msg.head.get("what", {})).items():
            subs[what] = int(start)
            if what in LOG_SUBS and not subs[what]:
                subs[what] = self.state.log_seq + 1  # the first time: only new entries
        self._publish()

    @staticmethod
    def _capable(conn: Connection, service: str, perm: str) -> bool:
        """MonSession::is_capable(service, perm): a PaxosService's guard of a message."""
        assert conn.peer is not None
        return enforce.mon_service_allowed(conn.peer.caps, conn.peer.entity, service, perm, conn.peer_addr)  # fmt: skip

    def _h_get_rotating(self, conn: Connection, msg: Message) -> None:
        assert self.auth is not None and conn.peer is not None
        entity = conn.peer.entity
        secret = self.auth.secret_for(entity)
        if secret is None:
            conn.reply(msg, {"r": -EACCES})
            return
        if msg.head.get("tickets"):
            caps = dict(conn.peer.caps)
            tickets = self.auth.tickets_for(entity, conn.peer.global_id, caps, secret)
            conn.reply(msg, {"r": 0, "tickets": tickets})
            return
        service = str(msg.head.get("service", ""))
        etype = entity.split(".", 1)[0]
        if service not in ("osd", "mgr") or etype != service:
            conn.reply(msg, {"r": -EACCES})
            return
        keys = self.auth.rotating_keys(service)
        sealed = self._seal(secret, keys)
        conn.reply(msg, {"r": 0, "keys_sealed": sealed})

    def _seal(self, secret: bytes, payload: object) -> bytes:
        from pyceph.auth import cephx

        return cephx.seal(secret, payload, self.runtime.rand.randbytes(12))

    def _h_mon_command(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None and conn.peer is not None
        try:
            cmd = json.loads(msg.head.get("cmd", ""))
            if isinstance(cmd, list):  # upstream clients may send a one-element list
                cmd = json.loads(cmd[0]) if cmd and isinstance(cmd[0], str) else cmd[0]
            if not isinstance(cmd, dict):
                raise ValueError("not an object")
        except (ValueError, IndexError, TypeError):
            conn.reply(msg, {"r": -EINVAL, "outs": "command not understood"})
            return
        if msg.head.get("tell"):  # sent to this monitor by name or rank
            from pyceph.mon.tell import handle_tell

            res = handle_tell(
                self.state,
                cmd,
                bytes(msg.data),
                conn.peer.entity,
                conn.peer.caps,
                self.runtime.clock.now(),
                self._source(conn),
            )
            conn.reply(msg, {"r": res.ret, "outs": res.outs}, res.outbuf)
            return
        res = self.state.handle_command(
            cmd,
            bytes(msg.data),
            conn.peer.entity,
            conn.peer.caps,
            self.runtime.clock.now(),
            self._source(conn),
        )
        if res.forward_to_mgr:
            self._publish_log()  # its audit "dispatch" entry (checked before proxying)
            if not self.tasks.closed:  # shutting down: the client retries elsewhere
                self.tasks.spawn(self._forward_to_mgr(conn, msg, cmd), "mgr command")
            return
        if res.changed:
            self._commit_and_publish()
        else:
            self._publish_log()
        conn.reply(msg, {"r": res.ret, "outs": res.outs}, res.outbuf)

    @staticmethod
    def _source(conn: Connection) -> str:
        """The peer as the audit log names it: `client.4123 10.0.0.1:0/0`."""
        assert conn.peer is not None
        etype = conn.peer.entity.split(".", 1)[0]
        host = conn.peer_addr[0] if conn.peer_addr else ""
        return f"{etype}.{conn.peer.global_id} {host}:0/0"

    def _h_pool_op(self, conn: Connection, msg: Message) -> None:
        """MPoolOp: pool and snapshot ops; the reply names the epoch that holds the change."""
        assert self.state is not None and conn.peer is not None
        h = msg.head
        op = str(h.get("op", ""))
        pool = self.state.osdmap.pools.get(int(h.get("pool", -1)))
        pool_name = pool.pool_name if pool is not None else None
        if not enforce.pool_op_allowed(conn.peer.caps, conn.peer.entity, op, pool_name, conn.peer_addr):  # fmt: skip
            conn.reply(msg, {"r": -EPERM, "epoch": self.state.osdmap.epoch})
            return
        r, snapid = self.state.pool_op(
            int(h.get("pool", -1)),
            op,
            str(h.get("name", "")),
            int(h.get("snapid", 0)),
            conn.peer.entity,
            self.runtime.clock.now(),
        )
        if r == 0 and "osdmap" in self.state.dirty:
            self._commit_and_publish()
        conn.reply(msg, {"r": r, "epoch": self.state.osdmap.epoch, "snapid": snapid})

    async def _forward_to_mgr(self, conn: Connection, msg: Message, cmd: dict[str, Any]) -> None:
        assert self.state is not None and self.msgr is not None
        addr = str(self.state.mgrmap.get("active_addr", ""))
        if not addr or not self.state.mgrmap.get("available"):
            conn.reply(msg, {"r": -ETIMEDOUT, "outs": "no active mgr"}, b"")
            return
        try:
            mgr = await self.msgr.connect(parse_addr(addr.split("/")[0]), "mgr")
            # the caller's mon caps allowed it; the mgr trusts the monitor (upstream
            # proxies with the monitor's own MgrClient)
            head = {"cmd": json.dumps(cmd)}
            reply = await mgr.call("mgr_command", head, bytes(msg.data), MGR_COMMAND_TIMEOUT)
            head = {"r": int(reply.head.get("r", 0)), "outs": str(reply.head.get("outs", ""))}
            conn.reply(msg, head, bytes(reply.data))
        except CephError as e:
            if not conn.closed:
                conn.reply(msg, {"r": -e.errno, "outs": e.message})

    def _h_osd_boot(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None and conn.peer is not None
        h = msg.head
        osd_id = int(h["osd_id"])
        if conn.peer.entity != f"osd.{osd_id}":
            conn.reply(msg, {"r": -EACCES})
            return
        addr = f"{h['addr'][0]}:{h['addr'][1]}/{int(h.get('nonce', 0))}"
        now = self.runtime.clock.now()
        old = self.state.pending_osdmap.osds.get(osd_id)
        if old is not None and old.up and old.public_addr != addr:
            # A new instance while the map still has the old one up: mark the old one down
            # in an epoch of its own, so every PG it served starts a new interval.
            self.state.osd_mark_down_self(osd_id, now)
            self._commit_and_publish()
        self.state.osd_boot(
            osd_id,
            str(h.get("uuid", "")),
            addr,
            addr,
            addr,
            dict(h.get("metadata", {})),
            int(h.get("capacity", 0)),
            self.runtime.clock.now(),
        )
        self._commit_and_publish()
        conn.reply(msg, {"r": 0, "epoch": self.state.osdmap.epoch})

    @staticmethod
    def _osd_id(conn: Connection) -> int | None:
        """The OSD id of an authenticated `osd.N` peer, else None."""
        entity = conn.peer.entity if conn.peer else ""
        kind, _, ident = entity.partition(".")
        return int(ident) if kind == "osd" and ident.isdigit() else None

    def _h_osd_failure(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None and conn.peer is not None
        reporter = self._osd_id(conn)
        if reporter is None:
            return
        changed = self.state.osd_failure(
            int(msg.head["target"]),
            reporter,
            float(msg.head.get("failed_for", 0)),
            self.runtime.clock.now(),
        )
        if changed:
            self._commit_and_publish()

    def _h_osd_alive(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        osd_id = self._osd_id(conn)
        if osd_id is None:
            conn.reply(msg, {"r": -EACCES})
            return
        if self.state.osd_alive(osd_id, int(msg.head["want_up_thru"])):
            self._commit_and_publish()
        conn.reply(msg, {"r": 0, "epoch": self.state.osdmap.epoch})

    def _h_osd_mark_me_down(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        osd_id = self._osd_id(conn)
        if osd_id is not None and self.state.osd_mark_down_self(osd_id, self.runtime.clock.now()):
            self._commit_and_publish()
        if "tid" in msg.head:
            conn.reply(msg, {"r": 0})

    def _h_pg_temp(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        if self._osd_id(conn) is None or not self._capable(conn, "osd", "x"):
            return  # upstream preprocess_pgtemp: dropped
        changed = False
        for pgid, osds in dict(msg.head.get("pgs", {})).items():
            changed |= self.state.request_pg_temp(pgid, list(osds))
        if changed:
            self._commit_and_publish()

    def _h_osd_beacon(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        osd_id = self._osd_id(conn)
        if osd_id is None or not self._capable(conn, "osd", "x"):
            return  # upstream preprocess_beacon: dropped
        h = msg.head
        pgs = [str(p) for p in h["pgs"]]
        self.state.osd_beacon(
            osd_id, int(h["epoch"]), pgs, int(h["min_last_epoch_clean"]), self.runtime.clock.now()
        )

    def _h_pg_ready_to_merge(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        if self._osd_id(conn) is None or not self._capable(conn, "osd", "x"):
            return  # upstream preprocess_pg_ready_to_merge: dropped
        if self.state.pg_ready_to_merge(dict(msg.head)):
            self._commit_and_publish()

    def _h_mgr_beacon(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None and conn.peer is not None
        if not self._capable(conn, "mgr", "x"):
            return  # upstream MgrMonitor::preprocess_beacon: dropped
        h = msg.head
        if self.state.mgr_beacon(
            str(h["name"]),
            f"{h['addr'][0]}:{h['addr'][1]}/0",
            bool(h.get("available")),
            None if h.get("available_modules") is None else list(h["available_modules"]),
            dict(h.get("services", {})),
            h.get("commands"),
            self.runtime.clock.now(),
            gid=conn.peer.global_id or None,
            metadata={str(k): str(v) for k, v in dict(h.get("metadata") or {}).items()},
        ):
            self._commit_and_publish()

    def _h_mgr_digest(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None and conn.peer is not None
        if not self._capable(conn, "mgr", "x"):
            return  # upstream MgrStatMonitor::preprocess_report: dropped
        if self.state.mgrmap.get("active_gid") != conn.peer.global_id:
            return  # only the active mgr's statistics count (a failed one may still send)
        changed = self.state.set_mgr_digest(dict(msg.head.get("digest", {})))
        smap = msg.head.get("service_map")
        if smap is not None and self.state.mgrmap.get("active_name") == conn.peer.entity[4:]:
            changed |= self.state.set_service_map(dict(smap))
        if changed:
            self._commit_and_publish()

    def _h_log(self, conn: Connection, msg: Message) -> None:
        """MLog from a daemon or client: entries for the cluster log."""
        assert self.state is not None and conn.peer is not None
        if not self._capable(conn, "log", "w"):
            return  # upstream LogMonitor::preprocess_log: dropped
        src = self._source(conn)
        rank, _, addr = src.partition(" ")
        for e in msg.head.get("entries", []):
            self.state.clog(
                float(e.get("stamp", self.runtime.clock.now())),
                str(e.get("channel", "cluster")),
                str(e.get("prio", "info")),
                str(e.get("msg", "")),
                name=conn.peer.entity,
                rank=rank,
                addr=addr,
            )
        self._publish_log()

    def _h_get_version(self, conn: Connection, msg: Message) -> None:
        assert self.state is not None
        conn.reply(msg, {"r": 0, "epoch": self.state.osdmap.epoch})

    def _h_ping(self, conn: Connection, msg: Message) -> None:
        """MPing; with `status` the reply data is upstream's pong: {health, mon_status}."""
        assert self.state is not None and conn.peer is not None
        if "tid" not in msg.head:
            return
        if not msg.head.get("status"):
            conn.reply(msg, {"r": 0})
            return
        now = self.runtime.clock.now()
        pong: dict[str, Any] = {}
        for key in ("health", "mon_status"):
            res = self.state.handle_command(
                {"prefix": key, "format": "json"}, b"", f"mon.{self.name}", None, now
            )
            pong[key] = json.loads(res.outbuf or b"{}")
        conn.reply(msg, {"r": 0}, json.dumps(pong).encode())


# -- process entry ----------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pyceph-mon")
    p.add_argument("-i", "--id", required=True)
    p.add_argument("-c", "--conf")
    p.add_argument("--mkfs", action="store_true")
    p.add_argument("-k", "--keyring", help="keyring to import at --mkfs")
    args, extra = p.parse_known_args(argv)
    cfg = load_config(f"mon.{args.id}", args.conf, extra)
    setup_logging(cfg)
    install_uvloop()
    runtime = real_runtime()
    kv = LmdbKV(os.path.join(str(cfg.get("mon_data")), "store"))
    daemon = MonDaemon(runtime, cfg, kv)
    try:
        if args.mkfs:
            keyring = Keyring.load(args.keyring or cfg.keyring_paths()[0])
            fsid = str(cfg.get("fsid"))
            if not fsid:
                print("pyceph-mon: --mkfs needs fsid in the configuration", file=sys.stderr)
                return EINVAL
            daemon.mkfs(fsid, daemon._my_addr(), keyring)
            print(f"pyceph-mon: created monfs at {cfg.get('mon_data')} for mon.{args.id}")
            return 0
        daemon.load()
    except CephError as e:
        print(f"pyceph-mon: {e}", file=sys.stderr)
        return e.errno
    with pid_file(cfg):
        asyncio.run(run_until_signal(daemon.serve, cfg))
    kv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
