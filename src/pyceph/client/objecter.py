"""The Objecter: sends object ops to the right OSD and keeps them going across map changes.

For each op it computes the PG and acting primary from its current OSDMap, sends the op
there, and resends — with the same request id, so the OSD's dup index keeps it
exactly-once — when the OSD asks it to retry with a newer map, when the connection
drops, or when a new map moves the PG. It gives up only at the op's timeout.

Watches are *linger ops* (upstream Objecter::LingerOp): registered once, then kept alive —
pinged while all is well, re-sent (``reconnect``) to the current primary when the map moves
the object's PG or the OSD connection drops — until unwatched or until the OSD ends them
(object deleted: the error callback gets -ENOTCONN). OSDs send `watch_notify` messages on
the connection the watch was registered from; `handle_message` routes them to the watch's
callbacks and acks each notify with a `notify_ack` op carrying the callback's reply.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.addr import parse_addr
from pyceph.common.errors import CephError
from pyceph.mon.monclient import MonClient
from pyceph.msg.connection import Connection
from pyceph.msg.message import Message
from pyceph.msg.osd_ops import PG_OPS, READ_OPS, WATCH_OPS

log = logging.getLogger(__name__)

ENOENT = 2
ETIMEDOUT = 110
ESHUTDOWN = 108
ENOTCONN = 107
SNAP_HEAD = 2**64 - 2
#: Pause before resending when the target is unreachable and no new map arrived.
RESEND_BACKOFF = 0.05
#: Upper bound of that pause as it doubles.
RESEND_BACKOFF_MAX = 1.0
#: Entries asked of an OSD per listing request.
LIST_PAGE = 1024
#: How often a watch checks its connection and the map (seconds).
LINGER_CHECK_INTERVAL = 0.5
#: Longest pause between two pings of a watch (objecter_tick_interval).
LINGER_PING_INTERVAL = 5.0
#: How long one ping / reconnect / ack may take before it is tried again.
LINGER_OP_TIMEOUT = 30.0

Op = tuple[str, dict[str, Any], bytes]

#: CEPH_OSD_FLAG_*: write anyway (FULL_FORCE) or fail with ENOSPC (FULL_TRY) on a full pool.
FLAG_FULL_FORCE = 0x1000
FLAG_FULL_TRY = 0x800000
#: pg_pool_t::FLAG_FULL
POOL_FLAG_FULL = 1 << 1
#: Ops that never wait for a full pool: reads, PG ops and watch/notify (they change no data).
NEVER_FILL_OPS = READ_OPS | PG_OPS | WATCH_OPS


@dataclass(slots=True)
class OpOut:
    """One op's result within a compound op."""

    r: int
    fields: dict[str, Any] = field(default_factory=dict)
    data: bytes = b""


@dataclass(slots=True)
class OpResult:
    """A compound op's result: overall r, the object's version, per-op outputs."""

    r: int
    version: int
    outs: list[OpOut]


@dataclass(eq=False)
class LingerOp:
    """A registered watch (the handle `RadosClient.watch` returns)."""

    cookie: int
    pool_id: int
    oid: str
    nspace: str
    key: str
    on_notify: Callable[[int, int, int, bytes], Any]
    on_error: Callable[[int, int], Any] | None
    timeout: float
    conn: Connection | None = None
    epoch: int = 0  #: OSDMap epoch of the last successful registration or ping
    last_ok: float = 0.0  #: monotonic time the OSD last confirmed the watch
    last_ping: float = 0.0
    error: int = 0  #: -errno once the watch is broken
    task: asyncio.Task[Any] | None = None

    @property
    def ping_interval(self) -> float:
        if not self.timeout:
            return LINGER_PING_INTERVAL
        return max(LINGER_CHECK_INTERVAL, min(LINGER_PING_INTERVAL, self.timeout / 3))


class Objecter:
    """Object op dispatch with resend on map change, bounded by a timeout."""

    def __init__(self, monc: MonClient, nonce: int) -> None:
        self.monc = monc
        self.nonce = nonce
        #: This client's address `ip:0/nonce`, sent with each op (OSDs refuse blocklisted ones).
        self.addr = ""
        self._tids = itertools.count(1)
        self._map_changed = asyncio.Event()
        self._stopped = False
        self._cookies = itertools.count(1)
        self.lingers: dict[int, LingerOp] = {}
        self._callbacks: set[asyncio.Task[Any]] = set()

    def on_osdmap(self, _osdmap: Any) -> None:
        """MonClient callback: wake every op waiting for a new map."""
        self._map_changed.set()
        self._map_changed = asyncio.Event()

    def stop(self) -> None:
        self._stopped = True
        self._map_changed.set()
        for lop in list(self.lingers.values()):
            if lop.task is not None:
                lop.task.cancel()
        self.lingers.clear()
        for t in list(self._callbacks):
            t.cancel()

    async def _wait_map_change(self, delay: float) -> None:
        try:
            await asyncio.wait_for(self._map_changed.wait(), delay)
        except TimeoutError:
            pass

    async def op(
        self,
        pool_id: int,
        oid: str | None,
        ops: list[Op],
        *,
        nspace: str = "",
        key: str = "",
        ps: int | None = None,
        snapid: int = SNAP_HEAD,
        snapc: tuple[int, list[int]] | None = None,
        flags: int = 0,
        timeout: float = 0,
    ) -> OpResult:
        """Run `ops` on one object (or, with `ps`, on one PG) until answered or timed out."""
        coro = self._run(pool_id, oid, ops, nspace, key, ps, snapid, snapc, flags, None)
        if timeout:
            try:
                return await asyncio.wait_for(coro, timeout)
            except TimeoutError:
                raise CephError(ETIMEDOUT, "op timed out") from None
        return await coro

    async def _run(
        self,
        pool_id: int,
        oid: str | None,
        ops: list[Op],
        nspace: str,
        key: str,
        fixed_ps: int | None,
        snapid: int,
        snapc: tuple[int, list[int]] | None,
        flags: int,
        conn_out: list[Connection] | None = None,
    ) -> OpResult:
        tid = next(self._tids)
        head_ops = []
        payloads = []
        for name, args, payload in ops:
            a = dict(args)
            if payload:
                a["dlen"] = len(payload)
                payloads.append(payload)
            head_ops.append([name, a])
        data: bytes | memoryview = payloads[0] if len(payloads) == 1 else b"".join(payloads)
        reqid = [self.monc.entity, self.nonce, tid]
        is_write = any(name not in NEVER_FILL_OPS for name, _a, _p in ops)
        may_fill = is_write and not flags & (FLAG_FULL_FORCE | FLAG_FULL_TRY)
        backoff = RESEND_BACKOFF
        while True:
            if self._stopped:
                raise CephError(ESHUTDOWN, "client shut down")
            osdmap = self.monc.osdmap
            pool = osdmap.get_pool(pool_id)
            if pool is None:
                raise CephError(ENOENT, f"pool {pool_id} does not exist")
            if may_fill and pool.flags & POOL_FLAG_FULL:
                # As librados: writes to a full pool wait until it is not full (or time out).
                await self._wait_map_change(RESEND_BACKOFF_MAX)
                continue
            if fixed_ps is None:
                assert oid is not None
                _, ps = osdmap.object_locator_to_pg(pool_id, oid, nspace, key)
            else:
                ps = fixed_ps
            _up, _upp, _acting, primary = osdmap.pg_to_up_acting_osds(pool_id, ps)
            if primary < 0:
                await self._wait_map_change(RESEND_BACKOFF_MAX)
                continue
            head = {
                "reqid": reqid,
                "epoch": osdmap.epoch,
                "pool": pool_id,
                "ps": ps,
                "oid": oid,
                "nspace": nspace,
                "key": key,
                "snapid": snapid,
                "snapc": list(snapc) if snapc else None,
                "flags": flags,
                "ops": head_ops,
                "addr": self.addr,
            }
            try:
                conn = await self._connect(primary, osdmap)
                reply = await conn.call("osd_op", head, data)
            except CephError as e:
                if e.errno == ESHUTDOWN and self._stopped:
                    raise
                log.debug("osd_op tid %s to osd.%s failed: %s; resending", tid, primary, e)
                await self._wait_map_change(backoff)
                backoff = min(backoff * 2, RESEND_BACKOFF_MAX)
                continue
            retry = reply.head.get("retry")
            if retry is not None:
                if self.monc.osdmap.epoch < int(retry):
                    await self._wait_for_epoch(int(retry))
                else:
                    await self._wait_map_change(backoff)
                    backoff = min(backoff * 2, RESEND_BACKOFF_MAX)
                continue
            if conn_out is not None:
                conn_out.append(conn)
            return self._result(reply.head, reply.data)

    async def _wait_for_epoch(self, epoch: int) -> None:
        try:
            await self.monc.wait_for_osdmap(epoch, timeout=RESEND_BACKOFF_MAX * 5)
        except CephError:
            pass

    async def _connect(self, osd: int, osdmap: Any) -> Connection:
        info = osdmap.osds[osd]
        addr = parse_addr(info.public_addr)
        return await self.monc.msgr.connect(addr, "osd")

    @staticmethod
    def _result(head: dict[str, Any], data: bytes | memoryview) -> OpResult:
        outs = []
        view = memoryview(data)
        pos = 0
        for o in head.get("ops", []):
            n = int(o.pop("dlen", 0))
            r = int(o.pop("r", 0))
            outs.append(OpOut(r, o, bytes(view[pos : pos + n])))
            pos += n
        return OpResult(int(head.get("r", 0)), int(head.get("version", 0)), outs)

    async def list_objects(
        self, pool_id: int, nspace: str | None, timeout: float = 0
    ) -> AsyncIterator[tuple[str, str, str]]:
        """Every object in the pool, PG by PG, as (nspace, name, locator key)."""
        pool = self.monc.osdmap.get_pool(pool_id)
        if pool is None:
            raise CephError(ENOENT, f"pool {pool_id} does not exist")
        for ps in range(pool.pg_num):
            cursor: Any = None
            while True:
                args = {"cursor": cursor, "max": LIST_PAGE, "nspace": nspace}
                res = await self.op(pool_id, None, [("pgls", args, b"")], ps=ps, timeout=timeout)
                if res.r < 0:
                    raise CephError(-res.r, "pgls failed")
                out = res.outs[0].fields
                for ns, name, key in out.get("entries", []):
                    yield ns, name, key
                cursor = out.get("cursor")
                if cursor is None:
                    break

    # -- watch / notify (linger ops) ---------------------------------------------------
    async def _linger_send(self, lop: LingerOp, wop: str) -> int:
        """One watch op (`watch`, `reconnect`, `ping`, `unwatch`) for `lop`; returns r."""
        args = {"op": wop, "cookie": lop.cookie, "timeout": lop.timeout, "gid": self.gid}
        box: list[Connection] = []
        coro = self._run(
            lop.pool_id,
            lop.oid,
            [("watch", args, b"")],
            lop.nspace,
            lop.key,
            None,
            SNAP_HEAD,
            None,
            0,
            box,
        )
        try:
            res = await asyncio.wait_for(coro, LINGER_OP_TIMEOUT)
        except TimeoutError:
            return -ETIMEDOUT
        now = self._now()
        lop.last_ping = now
        if res.r == 0:
            lop.last_ok = now
            lop.epoch = self.monc.osdmap.epoch
            if box and wop != "ping":
                lop.conn = box[0]
        return res.r

    def _now(self) -> float:
        return float(self.monc.runtime.clock.monotonic())

    @property
    def gid(self) -> int:
        return int(getattr(self.monc, "global_id", 0) or 0)

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
    ) -> LingerOp:
        """Watch an object; raises CephError (e.g. ENOENT) when the OSD refuses."""
        lop = LingerOp(
            next(self._cookies), pool_id, oid, nspace, key, on_notify, on_error, float(timeout)
        )
        self.lingers[lop.cookie] = lop
        try:
            r = await self._linger_send(lop, "watch")
        except BaseException:
            self.lingers.pop(lop.cookie, None)
            raise
        if r < 0:
            self.lingers.pop(lop.cookie, None)
            raise CephError(-r, "watch failed")
        lop.task = asyncio.ensure_future(self._linger_loop(lop))
        return lop

    async def unwatch(self, lop: LingerOp) -> int:
        """End a watch; 0, or -errno from the OSD (-ENOENT once the object is gone)."""
        self._end_linger(lop)
        if lop.error:
            return 0
        args = {"op": "unwatch", "cookie": lop.cookie, "gid": self.gid}
        res = await self.op(
            lop.pool_id, lop.oid, [("watch", args, b"")], nspace=lop.nspace, key=lop.key
        )
        return res.r

    def watch_check(self, lop: LingerOp) -> int:
        """Milliseconds since the OSD last confirmed the watch, or -errno once broken."""
        if lop.error:
            return lop.error
        if lop.cookie not in self.lingers:
            return -ENOTCONN
        return int((self._now() - lop.last_ok) * 1000)

    def _end_linger(self, lop: LingerOp) -> None:
        self.lingers.pop(lop.cookie, None)
        if lop.task is not None and lop.task is not asyncio.current_task():
            lop.task.cancel()

    def _linger_error(self, lop: LingerOp, err: int) -> None:
        if lop.error:
            return
        lop.error = err
        self._end_linger(lop)
        if lop.on_error is not None:
            try:
                lop.on_error(lop.cookie, err)
            except Exception:
                log.exception("watch error callback failed")

    async def _linger_loop(self, lop: LingerOp) -> None:
        """Keep a watch registered on the object's current primary."""
        while lop.cookie in self.lingers and not self._stopped:
            await self._wait_map_change(LINGER_CHECK_INTERVAL)
            if lop.cookie not in self.lingers or self._stopped:
                return
            lost = lop.conn is None or lop.conn.closed
            moved = self.monc.osdmap.epoch != lop.epoch
            due = self._now() - lop.last_ping >= lop.ping_interval
            if not (lost or moved or due):
                continue
            try:
                r = await self._linger_send(lop, "reconnect" if lost else "ping")
                if r in (-ENOTCONN, -ETIMEDOUT) and not lost:
                    r = await self._linger_send(lop, "reconnect")
            except CephError as e:
                if e.errno == ESHUTDOWN and self._stopped:
                    return
                if e.errno == ENOENT:  # the pool is gone
                    self._linger_error(lop, -ENOTCONN)
                    return
                log.debug("watch %s on %s: %s", lop.cookie, lop.oid, e)
                continue
            if r in (-ENOENT, -ENOTCONN):
                self._linger_error(lop, -ENOTCONN)
                return
            if r < 0:
                log.debug("watch %s on %s: r=%s, retrying", lop.cookie, lop.oid, r)

    def handle_message(self, conn: Connection, msg: Message) -> bool:
        """Route an OSD's `watch_notify`; returns False for other messages."""
        if msg.type != "watch_notify":
            return False
        head = msg.head
        lop = self.lingers.get(int(head.get("cookie", 0)))
        if lop is None:
            return True
        event = head.get("event")
        if event == "disconnect":
            self._linger_error(lop, int(head.get("err") or -ENOTCONN))
        elif event == "notify":
            t = asyncio.ensure_future(self._deliver_notify(lop, head, bytes(msg.data)))
            self._callbacks.add(t)
            t.add_done_callback(self._callbacks.discard)
        return True

    async def _deliver_notify(self, lop: LingerOp, head: dict[str, Any], data: bytes) -> None:
        notify_id = int(head.get("notify_id", 0))
        reply: Any = None
        try:
            reply = lop.on_notify(notify_id, int(head.get("notifier", 0)), lop.cookie, data)
            if inspect.isawaitable(reply):
                reply = await reply
        except Exception:
            log.exception("watch callback failed")
            reply = None
        if isinstance(reply, str):
            payload = reply.encode()
        elif isinstance(reply, bytes | bytearray | memoryview):
            payload = bytes(reply)
        else:
            payload = b""
        args = {"notify_id": notify_id, "cookie": lop.cookie, "gid": self.gid}
        try:
            await self.op(
                lop.pool_id,
                lop.oid,
                [("notify_ack", args, payload)],
                nspace=lop.nspace,
                key=lop.key,
                timeout=LINGER_OP_TIMEOUT,
            )
        except CephError as e:
            log.debug("notify_ack %s failed: %s", notify_id, e)
