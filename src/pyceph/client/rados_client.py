"""RadosClient: the async core behind a `rados.Rados` handle.

It loads the entity's key, opens the MonClient session, follows the OSDMap and runs
object ops through the Objecter. The drop-in `rados` module drives it from a loop
thread; command-line tools and daemons may use it directly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from pyceph.auth.keys import load_secret
from pyceph.client.objecter import SNAP_HEAD, Objecter, Op, OpResult
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.runtime import Runtime
from pyceph.common.tasks import TaskSet
from pyceph.monc.monclient import MonClient

ENOENT = 2
ENXIO_OSD_DOWN = 6  # upstream answers ENXIO for a command to a down OSD
EINVAL = 22
ETIMEDOUT = 110
EACCES = 13
EEXIST = 17
ENOTCONN = 107
#: librados `monitor_log` levels -> the monitor's cluster log subscriptions.
LOG_WATCH = {"debug": "log-debug", "info": "log-info", "warn": "log-warn",
             "warning": "log-warn", "err": "log-error", "error": "log-error",
             "sec": "log-sec"}  # fmt: skip
#: How long `service_daemon_register` waits for an active mgr before returning anyway.
MGR_WAIT = 10.0
#: Seconds between looks at the MgrMap while a mgr command waits for an active mgr
#: (or for a new one after the session with the last one failed).
MGR_COMMAND_RETRY = 0.1


class RadosClient:
    """One cluster session: monitors, OSDMap, object ops."""

    def __init__(self, runtime: Runtime, config: CephConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.entity = config.name
        self.monc: MonClient | None = None
        self.objecter: Objecter | None = None
        self.nonce = 0
        self._log_sub: str | None = None
        self._log_cb: Callable[[dict[str, Any]], None] | None = None
        self._service: dict[str, Any] | None = None
        self._service_status: dict[str, str] | None = None
        #: owner of this client's background tasks (the service-daemon report loop)
        self._tasks = TaskSet("rados client")
        self._mgr_conn: Any = None
        #: set by an embedded cluster (pyceph.embedded): where its monitor is on its
        #: in-memory network, and the key to use instead of the configured one
        self.mon_host_override: str | None = None
        self.secret_override: bytes | None = None

    @property
    def fsid(self) -> str:
        assert self.monc is not None
        return self.monc.fsid

    @property
    def instance_id(self) -> int:
        assert self.monc is not None
        return self.monc.global_id

    @property
    def osdmap(self) -> Any:
        assert self.monc is not None
        return self.monc.osdmap

    async def connect(self, timeout: float = 0) -> None:
        """Authenticate and fetch the first OSDMap (ETIMEDOUT past `timeout`)."""
        secret = self.secret_override or load_secret(self.config)
        if not timeout:
            timeout = float(self.config.get("client_mount_timeout"))
        nonce = int.from_bytes(self.runtime.rand.randbytes(4), "little")
        self.nonce = nonce
        self.objecter = None
        self.monc = MonClient(
            self.runtime,
            self.mon_host_override or str(self.config.get("mon_host")),
            self.entity,
            secret,
            on_osdmap=self._on_osdmap,
            on_config=self.config.apply_mon_config,
            config=self.config,
        )
        self.objecter = Objecter(self.monc, nonce)
        self.monc.handlers["watch_notify"] = self.objecter.handle_message
        try:
            await self.monc.start(timeout)
            self.objecter.addr = self.addr
            self.monc.handlers["log"] = self._handle_log
            await self.monc.subscribe({"osdmap": 0, "config": 0})
            await self.monc.wait_for_osdmap(1, timeout)
        except BaseException:
            await self.monc.stop()
            raise

    def _on_osdmap(self, osdmap: Any) -> None:
        if self.objecter is not None:
            self.objecter.on_osdmap(osdmap)

    async def shutdown(self) -> None:
        if self.objecter is not None:
            await self.objecter.close()
        await self._tasks.close()
        if self.monc is not None:
            await self.monc.stop()

    # -- commands -------------------------------------------------------------
    def _op_timeout(self, timeout: float) -> float:
        return timeout or float(self.config.get("rados_mon_op_timeout") or 0)

    async def mon_command(
        self, cmd: str, inbuf: bytes = b"", timeout: float = 0, target: str | int | None = None
    ) -> tuple[int, bytes, str]:
        """A monitor command; with `target` (a mon name or rank), a tell to that mon."""
        assert self.monc is not None
        try:
            if target is not None and target != "":
                return await self._mon_tell(cmd, inbuf, timeout, target)
            return await self.monc.command(cmd, inbuf, self._op_timeout(timeout) or None)
        except CephError as e:
            return -e.errno, b"", e.message

    async def _mon_tell(
        self, cmd: str, inbuf: bytes, timeout: float, target: str | int
    ) -> tuple[int, bytes, str]:
        """Upstream MonClient::start_mon_command(name): a digit string is a rank; an
        unknown name is -ENOENT "mon dne", a rank past the map "mon rank dne"."""
        from pyceph.common.addr import parse_addr

        assert self.monc is not None
        rank: int | None = None
        name = str(target)
        if isinstance(target, int) or name.isdigit():
            rank = int(target)
        ret, out, outs = await self.monc.command(
            json.dumps({"prefix": "mon dump", "format": "json"}), b"",
            self._op_timeout(timeout) or None,
        )  # fmt: skip
        if ret < 0:
            return ret, b"", outs
        mons = json.loads(out or b"{}").get("mons", [])
        if rank is not None:
            found = [m for m in mons if int(m.get("rank", -1)) == rank]
            if not found:
                return -ENOENT, b"", "mon rank dne"
        else:
            found = [m for m in mons if m.get("name") == name]
            if not found:
                return -ENOENT, b"", "mon dne"
        addr = parse_addr(str(found[0].get("addr", "")).split("/")[0])
        conn = await self.monc.msgr.connect(addr, "mon")
        reply = await conn.call(
            "mon_command", {"cmd": cmd, "tell": True}, inbuf, self._op_timeout(timeout) or None
        )
        return int(reply.head.get("r", 0)), bytes(reply.data), str(reply.head.get("outs", ""))

    async def mgr_command(
        self, cmd: str, inbuf: bytes = b"", timeout: float = 0, target: str | None = None
    ) -> tuple[int, bytes, str]:
        """A command to the active mgr (upstream MgrClient::start_command): sent to it
        directly, which judges it by this client's *mgr* caps (DaemonServer).

        Without an active mgr it waits for one, as upstream's MgrClient does, bounded by
        `timeout` or else rados_mon_op_timeout (then upstream's positive ETIMEDOUT:
        ``(110, b"", "")``); unbounded when neither is set. With `target`, a tell to that
        mgr (upstream MgrClient::start_tell_command): sent once `target` is the active
        mgr, waiting for that the same way."""
        try:
            if not target:
                return await self._mgr_command(cmd, inbuf, timeout)
            return await self._mgr_tell(cmd, inbuf, timeout, target)
        except CephError as e:
            return -e.errno, b"", e.message

    async def _mgr_command(self, cmd: str, inbuf: bytes, timeout: float) -> tuple[int, bytes, str]:
        from pyceph.common.addr import parse_addr

        assert self.monc is not None
        if not self.monc.subscribed("mgrmap"):
            await self.monc.subscribe({"mgrmap": 0})
        op_timeout = self._op_timeout(timeout)
        clock = self.runtime.clock
        deadline = clock.monotonic() + op_timeout if op_timeout else None
        while True:
            mm = self.monc.mgrmap
            addr = str(mm.get("active_addr") or "")
            if addr and mm.get("available"):
                left = None if deadline is None else max(deadline - clock.monotonic(), 0.001)
                try:
                    conn = await self.monc.msgr.connect(parse_addr(addr.split("/")[0]), "mgr")
                    reply = await conn.call("mgr_command", {"cmd": cmd}, inbuf, left)
                except (CephError, OSError):
                    pass  # that mgr is gone: resend to the next one, as MgrClient does
                else:
                    r = int(reply.head.get("r", 0))
                    return r, bytes(reply.data), str(reply.head.get("outs", ""))
            if deadline is not None and clock.monotonic() >= deadline:
                # upstream returns C_SaferCond::wait_for's *positive* ETIMEDOUT here
                # (the reference's mgr_command answers (110, b"", "") with its mgr stopped)
                return ETIMEDOUT, b"", ""
            await clock.sleep(MGR_COMMAND_RETRY)

    async def _mgr_tell(
        self, cmd: str, inbuf: bytes, timeout: float, target: str
    ) -> tuple[int, bytes, str]:
        from pyceph.common.addr import parse_addr

        assert self.monc is not None
        op_timeout = self._op_timeout(timeout)
        clock = self.runtime.clock
        deadline = clock.monotonic() + op_timeout if op_timeout else None
        while True:
            left = None if deadline is None else max(deadline - clock.monotonic(), 0.001)
            ret, out, outs = await self.monc.command(
                json.dumps({"prefix": "mgr dump", "format": "json"}), b"", left
            )
            if ret < 0:
                return ret, b"", outs
            mgrmap = json.loads(out or b"{}")
            addr = str(mgrmap.get("active_addr", ""))
            if mgrmap.get("available") and mgrmap.get("active_name") == target and addr:
                break
            if deadline is not None and clock.monotonic() >= deadline:
                return -ETIMEDOUT, b"", ""
            await clock.sleep(1.0)
        conn = await self.monc.msgr.connect(parse_addr(addr.split("/")[0]), "mgr")
        left = None if deadline is None else max(deadline - clock.monotonic(), 0.001)
        reply = await conn.call("mgr_command", {"cmd": cmd, "tell": True}, inbuf, left)
        return int(reply.head.get("r", 0)), bytes(reply.data), str(reply.head.get("outs", ""))

    async def osd_command(
        self, osd: int, cmd: str, inbuf: bytes = b"", timeout: float = 0
    ) -> tuple[int, bytes, str]:
        assert self.monc is not None and self.objecter is not None
        info = self.osdmap.osds.get(osd)
        if info is None or not info.exists:
            return -ENOENT, b"", f"osd.{osd} does not exist"
        if not info.up:
            return -ENXIO_OSD_DOWN, b"", f"osd.{osd} is down"
        from pyceph.common.addr import parse_addr

        try:
            conn = await self.monc.msgr.connect(parse_addr(info.public_addr), "osd")
            reply = await conn.call("osd_command", {"cmd": cmd}, inbuf, timeout or None)
        except CephError as e:
            return -e.errno, b"", e.message
        return int(reply.head.get("r", 0)), bytes(reply.data), str(reply.head.get("outs", ""))

    async def wait_for_latest_osdmap(self, timeout: float = 0) -> None:
        assert self.monc is not None
        reply = await self.monc.call("get_version", {"what": "osdmap"}, timeout=timeout or None)
        await self.monc.wait_for_osdmap(int(reply.head.get("epoch", 0)), timeout or None)

    # -- objects --------------------------------------------------------------
    async def op(
        self,
        pool_id: int,
        oid: str,
        ops: list[Op],
        *,
        nspace: str = "",
        key: str = "",
        snapid: int = SNAP_HEAD,
        snapc: tuple[int, list[int]] | None = None,
        flags: int = 0,
        timeout: float = 0,
    ) -> OpResult:
        assert self.objecter is not None
        timeout = timeout or float(self.config.get("rados_osd_op_timeout") or 0)
        return await self.objecter.op(
            pool_id,
            oid,
            ops,
            nspace=nspace,
            key=key,
            snapid=snapid,
            snapc=snapc,
            flags=flags,
            timeout=timeout,
        )

    async def list_objects(
        self, pool_id: int, nspace: str | None = ""
    ) -> AsyncIterator[tuple[str, str, str]]:
        assert self.objecter is not None
        timeout = float(self.config.get("rados_osd_op_timeout") or 0)
        async for entry in self.objecter.list_objects(pool_id, nspace, timeout):
            yield entry

    # -- watch / notify ---------------------------------------------------------
    async def watch(
        self,
        pool_id: int,
        oid: str,
        *,
        nspace: str = "",
        key: str = "",
        on_notify: Callable[[int, int, int, bytes], Any],
        on_error: Callable[[int, int], Any] | None = None,
        timeout: float = 0,
    ) -> Any:
        """Watch `oid`; returns the handle (its `cookie` is the watch id).

        `on_notify(notify_id, notifier_gid, cookie, data)` runs on the loop; its result (or
        the result of the awaitable it returns) is the ack payload. `on_error(cookie, err)`
        gets -ENOTCONN when the watch ends (object deleted, or the watch expired)."""
        assert self.objecter is not None
        return await self.objecter.watch(
            pool_id,
            oid,
            nspace=nspace,
            key=key,
            on_notify=on_notify,
            on_error=on_error,
            timeout=timeout,
        )

    async def unwatch(self, handle: Any) -> int:
        """End a watch (a watch on a deleted object ends quietly)."""
        assert self.objecter is not None
        r = await self.objecter.unwatch(handle)
        if r < 0 and r != -ENOENT:
            raise CephError(-r, "unwatch failed")
        return 0

    async def watch_check(self, handle: Any) -> int:
        """Milliseconds since the watch was last confirmed, or -ENOTCONN once broken."""
        assert self.objecter is not None
        return self.objecter.watch_check(handle)

    # -- statistics -----------------------------------------------------------
    async def _df(self) -> dict[str, Any]:
        ret, out, outs = await self.mon_command(json.dumps({"prefix": "df", "format": "json"}))
        if ret < 0:
            raise CephError(-ret, outs)
        return json.loads(out)

    async def get_cluster_stats(self) -> dict[str, int]:
        """{kb, kb_used, kb_avail, num_objects} as librados reports them."""
        df = await self._df()
        st = df["stats"]
        return {
            "kb": st["total_bytes"] // 1024,
            "kb_used": st["total_used_raw_bytes"] // 1024,
            "kb_avail": st["total_avail_bytes"] // 1024,
            "num_objects": sum(p["stats"].get("objects", 0) for p in df.get("pools", [])),
        }

    async def pool_stats(self, pool_id: int) -> dict[str, int]:
        """Upstream's 12 per-pool keys, from the mgr's PG statistics."""
        ret, out, outs = await self.mon_command(
            json.dumps({"prefix": "pg dump", "dumpcontents": ["pools"], "format": "json"})
        )
        stats: dict[str, Any] = {}
        if ret == 0:
            doc = json.loads(out)
            rows = doc.get("pool_stats", doc) if isinstance(doc, dict) else doc
            for row in rows:
                if int(row.get("poolid", -1)) == pool_id:
                    stats = row.get("stat_sum", {})
        nb = int(stats.get("num_bytes", 0))
        return {
            "num_bytes": nb,
            "num_kb": nb // 1024,
            "num_objects": int(stats.get("num_objects", 0)),
            "num_object_clones": int(stats.get("num_object_clones", 0)),
            "num_object_copies": int(stats.get("num_object_copies", 0)),
            "num_objects_missing_on_primary": int(stats.get("num_objects_missing_on_primary", 0)),
            "num_objects_unfound": int(stats.get("num_objects_unfound", 0)),
            "num_objects_degraded": int(stats.get("num_objects_degraded", 0)),
            "num_rd": int(stats.get("num_read", stats.get("num_rd", 0))),
            "num_rd_kb": int(stats.get("num_read_kb", stats.get("num_rd_kb", 0))),
            "num_wr": int(stats.get("num_write", stats.get("num_wr", 0))),
            "num_wr_kb": int(stats.get("num_write_kb", stats.get("num_wr_kb", 0))),
        }

    # -- addresses, monitors --------------------------------------------------
    @property
    def addr(self) -> str:
        """This client's address `ip:0/nonce` (what the OSDs and the blocklist see)."""
        assert self.monc is not None
        return f"{self.monc.local_host()}:0/{self.nonce}"

    def get_addrs(self) -> str:
        """The messenger's address vector as upstream prints it.

        A client's single address is TYPE_ANY, which entity_addr_t prints with no
        type prefix: the bare `ip:0/nonce`.
        """
        return str(self.addr)

    async def ping_monitor(self, mon_id: str, timeout: float = 0) -> str:
        """Monitor `mon_id`'s pong: JSON with `health` and `mon_status` (ENOENT if unknown)."""
        from pyceph.common.addr import parse_addr

        assert self.monc is not None
        ret, out, outs = await self.mon_command(json.dumps({"prefix": "mon dump",
                                                            "format": "json"}))  # fmt: skip
        if ret < 0:
            raise CephError(-ret, outs)
        for m in json.loads(out or b"{}").get("mons", []):
            if m.get("name") == mon_id:
                addr = parse_addr(str(m.get("addr", "")).split("/")[0])
                break
        else:
            raise CephError(ENOENT, f"mon.{mon_id} does not exist")
        conn = await self.monc.msgr.connect(addr, "mon")
        reply = await conn.call("ping", {"status": True}, b"", self._op_timeout(timeout) or None)
        if int(reply.head.get("r", 0)) < 0:
            raise CephError(-int(reply.head["r"]), "ping failed")
        return bytes(reply.data).decode()

    # -- pool and self-managed snapshots (MPoolOp) -------------------------------
    async def pool_op(
        self, pool_id: int, op: str, name: str = "", snapid: int = 0, timeout: float = 0
    ) -> int:
        """Send one pool op; wait for the OSDMap epoch that holds it. Returns the snap id."""
        assert self.monc is not None
        timeout = self._op_timeout(timeout)
        head = {"pool": pool_id, "op": op, "name": name, "snapid": snapid}
        reply = await self.monc.call("pool_op", head, timeout=timeout or None)
        r = int(reply.head.get("r", 0))
        if r < 0:
            raise CephError(-r, f"pool op {op} failed")
        await self.monc.wait_for_osdmap(int(reply.head.get("epoch", 0)), timeout or None)
        return int(reply.head.get("snapid", 0))

    async def selfmanaged_snap_create(self, pool_id: int) -> int:
        """A new self-managed snap id (POOL_OP_CREATE_UNMANAGED_SNAP)."""
        return await self.pool_op(pool_id, "create_unmanaged_snap")

    async def selfmanaged_snap_remove(self, pool_id: int, snapid: int) -> None:
        """Release a self-managed snap id (POOL_OP_DELETE_UNMANAGED_SNAP)."""
        await self.pool_op(pool_id, "delete_unmanaged_snap", snapid=snapid)

    def pool_get_base_tier(self, pool_id: int) -> int:
        """Upstream `RadosClient::pool_get_base_tier`: `tier_of` if a tier, else the pool."""
        pool = self.osdmap.get_pool(pool_id)
        if pool is None:
            raise CephError(ENOENT, f"pool {pool_id} does not exist")
        return pool_id if pool.tier_of < 0 else int(pool.tier_of)

    def _pool_snaps(self, pool_id: int) -> dict[int, tuple[str, float]]:
        pool = self.osdmap.get_pool(pool_id)
        if pool is None:
            raise CephError(ENOENT, f"pool {pool_id} does not exist")
        return dict(pool.pool_snaps)

    async def pool_snap_create(self, pool_id: int, name: str) -> None:
        """A pool snapshot (EEXIST if the name is taken, as librados checks its map)."""
        if any(n == name for n, _ in self._pool_snaps(pool_id).values()):
            raise CephError(EEXIST, f"snap {name} exists")
        await self.pool_op(pool_id, "create_snap", name)

    async def pool_snap_remove(self, pool_id: int, name: str) -> None:
        if not any(n == name for n, _ in self._pool_snaps(pool_id).values()):
            raise CephError(ENOENT, f"snap {name} does not exist")
        await self.pool_op(pool_id, "delete_snap", name)

    def pool_snap_list(self, pool_id: int) -> list[int]:
        return sorted(self._pool_snaps(pool_id))

    def pool_snap_lookup(self, pool_id: int, name: str) -> int:
        for sid, (n, _stamp) in self._pool_snaps(pool_id).items():
            if n == name:
                return sid
        raise CephError(ENOENT, f"snap {name} does not exist")

    def pool_snap_get_stamp(self, pool_id: int, snapid: int) -> float:
        snaps = self._pool_snaps(pool_id)
        if snapid not in snaps:
            raise CephError(ENOENT, f"snap {snapid} does not exist")
        return float(snaps[snapid][1])

    # -- cluster log -------------------------------------------------------------
    async def monitor_log(self, level: str, cb: Callable[[dict[str, Any]], None] | None) -> None:
        """Deliver cluster log entries at `level` or above to `cb` (None stops)."""
        assert self.monc is not None
        watch = LOG_WATCH.get(level)
        if watch is None:
            raise CephError(EINVAL, f"invalid monitor level {level}")
        if self._log_sub is not None:
            await self.monc.unsubscribe(self._log_sub)
            self._log_sub = None
        self._log_cb = cb
        if cb is None:
            return
        self._log_sub = watch
        await self.monc.subscribe({watch: 0})

    def _handle_log(self, conn: Any, msg: Any) -> None:
        """MLog from the monitor: each entry to the callback as librados' handle_log."""
        from pyceph.osdmap.pool import utime_str

        cb = self._log_cb
        what = msg.head.get("level")
        if cb is None or (what is not None and what != self._log_sub):
            return
        last = 0
        for e in msg.head.get("entries", []):
            stamp = float(e.get("stamp", 0.0))
            av = (e.get("addrs") or {}).get("addrvec") or []
            addrs = ",".join(f"{a['type']}:{a['addr']}/{a['nonce']}" for a in av)
            addrs = f"[{addrs}]" if len(av) > 1 else addrs
            prio, name, text = str(e.get("priority", "")), str(e.get("name", "")), e["message"]
            last = max(last, int(e.get("seq", 0)))
            cb(
                {
                    "stamp": stamp,
                    "who": f"{e.get('rank', '')} {addrs}",
                    "name": name,
                    "seq": int(e.get("seq", 0)),
                    "prio": prio,
                    "msg": str(text),
                    "channel": str(e.get("channel", "cluster")),
                    "line": f"{utime_str(stamp)} {name} {prio} {text}",
                }
            )
        if last and self.monc is not None and self._log_sub:
            self.monc.sub_got(self._log_sub, last + 1)

    # -- service daemons ---------------------------------------------------------
    async def service_daemon_register(
        self, service: str, daemon: str, metadata: dict[str, str]
    ) -> None:
        """Register this client as `service`.`daemon` in the mgr's service map."""
        assert self.monc is not None
        if self._service is not None:
            raise CephError(EEXIST, "already registered as a service daemon")
        if service in ("osd", "mds", "client", "mon", "mgr") or not service or not daemon:
            raise CephError(EINVAL, f"invalid service {service!r} daemon {daemon!r}")
        md = self.runtime.host.sys_info()
        md.update({str(k): str(v) for k, v in metadata.items()})
        self._service = {"service": service, "daemon": daemon, "metadata": md,
                         "status": self._service_status}  # fmt: skip
        await self.monc.subscribe({"mgrmap": 0})
        try:
            await asyncio.wait_for(self._mgr_open(), MGR_WAIT)
        except (TimeoutError, CephError):
            pass  # the report loop keeps trying, as MgrClient does
        self._tasks.spawn(self._service_loop(), "service daemon reports")

    async def service_daemon_update(self, status: dict[str, str]) -> None:
        """The status this service daemon reports to the mgr (kept until registered)."""
        self._service_status = {str(k): str(v) for k, v in status.items()}
        if self._service is None:
            return  # as MgrClient: stored, sent once registered
        self._service["status"] = self._service_status
        conn = self._mgr_conn
        if conn is not None and not conn.closed:
            self._send_report(conn)

    async def _mgr_open(self) -> Any:
        """The session with the active mgr, opened (MMgrOpen) when new."""
        from pyceph.common.addr import parse_addr

        assert self.monc is not None and self._service is not None
        while True:
            mm = self.monc.mgrmap
            addr = str(mm.get("active_addr") or "")
            if addr and mm.get("available"):
                break
            await self.runtime.clock.sleep(0.1)
        conn = await self.monc.msgr.connect(parse_addr(addr.split("/")[0]), "mgr")
        if conn is not self._mgr_conn or conn.closed:
            head = dict(self._service)
            head["addr"] = self.addr
            reply = await conn.call("mgr_open", head, b"", 30)
            r = int(reply.head.get("r", 0))
            if r < 0:
                raise CephError(-r, "mgr refused the service registration")
            self._mgr_conn = conn
        return conn

    def _send_report(self, conn: Any) -> None:
        assert self._service is not None
        head = {k: self._service[k] for k in ("service", "daemon", "status")}
        try:
            conn.send("mgr_report", head)
        except CephError:
            self._mgr_conn = None

    async def _service_loop(self) -> None:
        """Report to the mgr every `mgr_stats_period`; reopen on a new mgr or session."""
        while True:
            period = float(self.config.get("mgr_stats_period") or 5)
            await self.runtime.clock.sleep(max(period, 0.5))
            try:
                conn = await asyncio.wait_for(self._mgr_open(), MGR_WAIT)
            except (TimeoutError, CephError):
                continue
            self._send_report(conn)
