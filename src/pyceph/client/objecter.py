"""The Objecter: sends object ops to the right OSD, in order, and keeps them going.

Upstream `src/osdc/Objecter.cc` is the model. Every op gets a tid when it is submitted and
stays in `ops` (kept in tid order) until answered. For each op the Objecter computes the
PG and acting primary from its current OSDMap and sends it on that OSD's *session*
without waiting for earlier ops: many ops to one object are in flight at once, and since
ops to one object map to one PG and so to one session, they leave in tid order and the
OSD (which takes a PG's ops in arrival order) applies them in submission order.

When something changes — a new map moves a PG, a session's connection drops, an OSD asks
for a retry with a newer map — `_kick` rescans every op in tid order (upstream
`_scan_requests` and `_kick_requests`) and resends the affected ones, with the same
request id so the OSD's dup index keeps them exactly-once. An op that must wait on a
session (a reconnect, a retry back-off) holds back every later op on that session, so
the resends too go out in tid order. An op gives up only at its timeout.

Watches are *linger ops* (upstream Objecter::LingerOp): registered once, then kept alive —
pinged while all is well, re-sent (``reconnect``) to the current primary when the map moves
the object's PG or the OSD connection drops — until unwatched or until the OSD ends them:
the object is deleted, or the watch expired (not pinged within its timeout) so a ping or
reconnect finds no record; the error callback then gets -ENOTCONN and the application
watches again, knowing it may have missed notifies (upstream). OSDs send `watch_notify` messages on
the connection the watch was registered from; `handle_message` routes them to the watch's
callbacks and acks each notify with a `notify_ack` op carrying the callback's reply.

Every task the Objecter starts (sends, reconnects, linger loops, notify callbacks) belongs
to its `TaskSet`; `close()` ends them all.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.addr import parse_addr
from pyceph.common.errors import CephError
from pyceph.common.tasks import TaskSet
from pyceph.monc.monclient import MonClient
from pyceph.msg.connection import Connection
from pyceph.msg.message import Message
from pyceph.msg.osd_ops import CEPH_NOSNAP, PG_OPS, READ_OPS, WATCH_OPS

log = logging.getLogger(__name__)

ENOENT = 2
ETIMEDOUT = 110
ESHUTDOWN = 108
ENOTCONN = 107
EIO = 5
SNAP_HEAD = CEPH_NOSNAP
#: First pause before resending to an OSD that dropped or refused the connection, or
#: asked for a retry under the map the client already has.
RESEND_BACKOFF = 0.05
#: Upper bound of that pause as it doubles.
RESEND_BACKOFF_MAX = 1.0
#: Longest wait for a newer map an OSD asked for before resending anyway.
RETRY_MAP_WAIT = RESEND_BACKOFF_MAX * 5
#: How often ops with no target (no primary, full pool) are re-examined without a new map.
HOMELESS_CHECK_INTERVAL = RESEND_BACKOFF_MAX
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

#: States of an op in flight.
SENT = "sent"  #: on the wire to its target, waiting for the reply
PARKED = "parked"  #: waiting on its session (connecting, or behind a parked op)
RETRY_WAIT = "retry-wait"  #: the OSD asked for a retry: waiting for a map or the back-off
HOMELESS = "homeless"  #: no target now (no primary, or a write to a full pool)


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


class _Session:
    """The client's link to one OSD (upstream Objecter::OSDSession)."""

    __slots__ = ("osd", "addr", "conn", "connecting", "parked", "backoff", "retry_at")

    def __init__(self, osd: int, addr: str) -> None:
        self.osd = osd
        self.addr = addr
        self.conn: Connection | None = None
        self.connecting: asyncio.Task[Any] | None = None
        #: tids of ops waiting on this session; while any wait, new ops queue behind them
        self.parked: set[int] = set()
        self.backoff = RESEND_BACKOFF
        self.retry_at = 0.0

    def live(self) -> bool:
        return self.conn is not None and not self.conn.closed


@dataclass(eq=False, slots=True)
class _InflightOp:
    """One submitted op until its reply (upstream Objecter::Op)."""

    tid: int
    pool_id: int
    oid: str | None
    nspace: str
    key: str
    fixed_ps: int | None
    snapid: int
    snapc: list[Any] | None
    flags: int
    head_ops: list[list[Any]]
    data: bytes | memoryview
    may_fill: bool
    future: asyncio.Future[OpResult]
    state: str = HOMELESS
    attempts: int = 0
    ps: int = -1
    sess: _Session | None = None
    conn: Connection | None = None  #: the connection of the attempt on the wire
    min_epoch: int = 0  #: RETRY_WAIT: resend once the map reaches this epoch ...
    wait_until: float = 0.0  #: ... or at this (monotonic) time
    reply_conn: Connection | None = None  #: where the answer came from (watches)


class Objecter:
    """Object op dispatch: pipelined, ordered per object, resent on map change."""

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
        #: ops submitted and not yet answered, in tid order
        self.ops: dict[int, _InflightOp] = {}
        self.sessions: dict[int, _Session] = {}
        self._tasks = TaskSet("objecter")
        self._kick_at = math.inf
        self._kick_task: asyncio.Task[Any] | None = None
        #: acting primary by (pool, pg) under `_primaries_map` (the client never edits a
        #: map it received; a new epoch is a new OSDMap object, which empties the cache)
        self._primaries: dict[tuple[int, int], int] = {}
        self._primaries_map: Any = None

    def on_osdmap(self, _osdmap: Any) -> None:
        """MonClient callback: rescan the ops under the new map, wake every map waiter."""
        self._map_changed.set()
        self._map_changed = asyncio.Event()
        self._kick()

    def stop(self) -> None:
        """Fail every op with ESHUTDOWN and end every watch (see `close`)."""
        self._stopped = True
        self._map_changed.set()
        for lop in list(self.lingers.values()):
            if lop.task is not None:
                lop.task.cancel()
        self.lingers.clear()
        ops, self.ops = self.ops, {}
        for o in ops.values():
            if not o.future.done():
                o.future.set_exception(CephError(ESHUTDOWN, "client shut down"))
                o.future.exception()  # nobody may be waiting any more
        for sess in self.sessions.values():
            sess.parked.clear()

    async def close(self) -> None:
        """`stop`, then cancel and await every task the Objecter owns."""
        self.stop()
        await self._tasks.close()

    async def _wait_map_change(self, delay: float) -> None:
        try:
            await asyncio.wait_for(self._map_changed.wait(), delay)
        except TimeoutError:
            pass

    # -- submitting -----------------------------------------------------------------------
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
        """Run `ops` on one object (or, with `ps`, on one PG) until answered or timed out.

        The op is sent (or queued in order) before this coroutine first yields: ops on one
        object apply in the order their `op()` coroutines started."""
        o = self.submit(pool_id, oid, ops, nspace=nspace, key=key, ps=ps, snapid=snapid,
                        snapc=snapc, flags=flags)  # fmt: skip
        return await self.wait(o, timeout)

    def submit(
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
    ) -> _InflightOp:
        """Give `ops` a tid and send them (or queue them behind earlier ops); `wait` for
        the answer. Synchronous, so the submission order is the call order."""
        if self._stopped:
            raise CephError(ESHUTDOWN, "client shut down")
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
        is_write = any(name not in NEVER_FILL_OPS for name, _a, _p in ops)
        o = _InflightOp(
            tid, pool_id, oid, nspace, key, ps, snapid, list(snapc) if snapc else None, flags,
            head_ops, data, is_write and not flags & (FLAG_FULL_FORCE | FLAG_FULL_TRY),
            asyncio.get_running_loop().create_future(),
        )  # fmt: skip
        self.ops[tid] = o
        self._dispatch(o, None)
        return o

    async def wait(self, o: _InflightOp, timeout: float = 0) -> OpResult:
        """The answer of a submitted op; CephError(ETIMEDOUT) past `timeout` (then, or when
        the waiter is cancelled, the op is abandoned)."""
        try:
            if timeout:
                try:
                    async with asyncio.timeout(timeout):
                        return await o.future
                except TimeoutError:
                    raise CephError(ETIMEDOUT, "op timed out") from None
            return await o.future
        finally:
            if not o.future.done() or o.future.cancelled():
                self._forget(o)

    def dump_requests(self) -> list[dict[str, Any]]:
        """The ops in flight, in tid order (upstream `objecter_requests`)."""
        return [
            {"tid": o.tid, "pool": o.pool_id, "pg": f"{o.pool_id}.{o.ps:x}", "object": o.oid,
             "osd": o.sess.osd if o.sess is not None else -1, "state": o.state,
             "attempts": o.attempts, "ops": [n for n, _a in o.head_ops]}
            for o in self.ops.values()
        ]  # fmt: skip

    # -- targeting and sending -------------------------------------------------------------
    def _target(self, o: _InflightOp, m: Any) -> tuple[int, int] | int | None:
        """(primary, ps) under map `m`; None when there is none now; -errno to give up."""
        if m is None:
            return None
        pool = m.get_pool(o.pool_id)
        if pool is None:
            return -ENOENT
        if o.may_fill and pool.flags & POOL_FLAG_FULL:
            return None  # as librados: writes to a full pool wait until it is not full
        if o.fixed_ps is None:
            assert o.oid is not None
            _, ps = m.object_locator_to_pg(o.pool_id, o.oid, o.nspace, o.key)
        else:
            ps = o.fixed_ps
        if m is not self._primaries_map:
            self._primaries = {}
            self._primaries_map = m
        primary = self._primaries.get((o.pool_id, ps))
        if primary is None:  # CRUSH once per PG and map, not once per op
            primary = self._primaries[(o.pool_id, ps)] = m.pg_to_up_acting_osds(o.pool_id, ps)[3]
        if primary < 0:
            return None
        return primary, ps

    def _session(self, osd: int, m: Any) -> _Session:
        addr = str(m.osds[osd].public_addr)
        sess = self.sessions.get(osd)
        if sess is None or sess.addr != addr:
            sess = self.sessions[osd] = _Session(osd, addr)
        return sess

    def _unpark(self, o: _InflightOp) -> None:
        if o.sess is not None:
            o.sess.parked.discard(o.tid)

    def _dispatch(self, o: _InflightOp, blocked: set[_Session] | None) -> None:
        """Send `o` to its current target, or park it there behind earlier ops.

        `blocked` (during a rescan) holds the sessions an earlier op is parked on."""
        m = self.monc.osdmap
        t = self._target(o, m)
        self._unpark(o)
        if isinstance(t, int):
            self._fail(o, CephError(-t, f"pool {o.pool_id} does not exist"))
            return
        if t is None:
            o.state, o.sess, o.conn = HOMELESS, None, None
            self._schedule_kick(self._now() + HOMELESS_CHECK_INTERVAL)
            return
        osd, o.ps = t
        sess = self._session(osd, m)
        if sess.live() and not sess.parked and (blocked is None or sess not in blocked):
            self._send(o, sess, m.epoch)
            return
        o.state, o.sess, o.conn = PARKED, sess, None
        sess.parked.add(o.tid)
        if blocked is not None:
            blocked.add(sess)
        self._ensure_connecting(sess)

    def _send(self, o: _InflightOp, sess: _Session, epoch: int) -> None:
        assert sess.conn is not None
        o.state, o.sess, o.conn = SENT, sess, sess.conn
        o.attempts += 1
        head = {
            "reqid": [self.monc.entity, self.nonce, o.tid],
            "epoch": epoch,
            "pool": o.pool_id,
            "ps": o.ps,
            "oid": o.oid,
            "nspace": o.nspace,
            "key": o.key,
            "snapid": o.snapid,
            "snapc": o.snapc,
            "flags": o.flags,
            "ops": o.head_ops,
            "addr": self.addr,
        }
        # Tasks start in creation order, so the sends leave in the order of these calls.
        self._tasks.spawn(self._call(o, o.attempts, sess, sess.conn, head), "osd_op")

    async def _call(
        self, o: _InflightOp, attempt: int, sess: _Session, conn: Connection, head: dict[str, Any]
    ) -> None:
        """One attempt of `o` on `conn`; its reply finishes, parks or re-targets the op."""
        try:
            reply = await conn.call("osd_op", head, o.data)
        except CephError as e:
            if o.attempts != attempt or o.future.done() or self._stopped:
                return
            log.debug("osd_op tid %s to osd.%s failed: %s; resending", o.tid, sess.osd, e)
            if sess.conn is conn:
                sess.conn = None
                self._backoff(sess)
            self._park(o, sess)
            self._schedule_kick(self._now())
            return
        except Exception as e:  # the op cannot be encoded: its caller gets the error
            if o.attempts == attempt:
                self._fail(o, e)
            return
        if o.attempts != attempt or o.future.done():
            return
        retry = reply.head.get("retry")
        if retry is None:
            sess.backoff = RESEND_BACKOFF
            o.reply_conn = conn
            try:
                res = self._result(reply.head, reply.data)
            except Exception as e:  # a malformed reply fails the op, never hangs it
                self._fail(o, CephError(EIO, f"bad osd_op reply: {e!r}"))
                return
            self._finish(o, res)
            return
        # The OSD is not (yet) the primary under its map: wait for that map, or if ours is
        # already as new, back off a little (the PG is being created or activated).
        now = self._now()
        epoch = self.monc.osdmap.epoch
        if epoch < int(retry):
            o.min_epoch, o.wait_until = int(retry), now + RETRY_MAP_WAIT
        else:
            o.min_epoch, o.wait_until = epoch + 1, now + self._backoff(sess)
        self._park(o, sess)
        o.state = RETRY_WAIT
        self._schedule_kick(o.wait_until)

    def _park(self, o: _InflightOp, sess: _Session) -> None:
        o.state, o.sess, o.conn = PARKED, sess, None
        sess.parked.add(o.tid)

    def _backoff(self, sess: _Session) -> float:
        """The session's current back-off (doubled for next time); sets its retry time."""
        delay = sess.backoff
        sess.backoff = min(delay * 2, RESEND_BACKOFF_MAX)
        sess.retry_at = self._now() + delay
        return delay

    def _ensure_connecting(self, sess: _Session) -> None:
        if sess.live() or sess.connecting is not None or self._stopped:
            return
        if self._now() < sess.retry_at:
            self._schedule_kick(sess.retry_at)
            return
        sess.connecting = self._tasks.spawn(self._open(sess), f"connect osd.{sess.osd}")

    async def _open(self, sess: _Session) -> None:
        try:
            conn = await self.monc.msgr.connect(parse_addr(sess.addr), "osd")
        except Exception as e:
            if self._stopped:
                return
            log.debug("connecting to osd.%s at %s failed: %s", sess.osd, sess.addr, e)
            self._schedule_kick(self._now() + self._backoff(sess))
            return
        finally:
            sess.connecting = None
        sess.conn = conn
        if self.sessions.get(sess.osd) is sess:
            self._kick()

    def _finish(self, o: _InflightOp, res: OpResult) -> None:
        self._forget(o)
        if not o.future.done():
            o.future.set_result(res)

    def _fail(self, o: _InflightOp, err: CephError) -> None:
        self._forget(o)
        if not o.future.done():
            o.future.set_exception(err)

    def _forget(self, o: _InflightOp) -> None:
        if self.ops.get(o.tid) is o:
            del self.ops[o.tid]
        self._unpark(o)

    # -- rescanning ------------------------------------------------------------------------
    def _schedule_kick(self, at: float) -> None:
        """Rescan at monotonic time `at` (the earliest of the times asked for)."""
        if self._stopped or at >= self._kick_at:
            return
        if self._kick_task is not None:
            self._kick_task.cancel()
        self._kick_at = at
        self._kick_task = self._tasks.spawn(self._kick_later(at), "objecter kick")

    async def _kick_later(self, at: float) -> None:
        delay = at - self._now()
        if delay > 0:
            await self.monc.runtime.clock.sleep(delay)
        self._kick_task = None
        self._kick()

    def _kick(self) -> None:
        """Rescan every op in tid order: resend what lost its connection or moved, send
        what waited and may go now (upstream Objecter::_scan_requests + _kick_requests)."""
        if self._stopped:
            return
        if self._kick_task is not None and self._kick_task is not asyncio.current_task():
            self._kick_task.cancel()
        self._kick_task = None
        self._kick_at = math.inf
        m = self.monc.osdmap
        epoch = m.epoch if m is not None else 0
        now = self._now()
        for sess in self.sessions.values():
            sess.parked.clear()
        blocked: set[_Session] = set()
        for o in list(self.ops.values()):
            if o.future.done():
                continue
            t = self._target(o, m)
            sess = self._session(t[0], m) if isinstance(t, tuple) else None
            same = sess is not None and sess is o.sess and t is not None and t[1] == o.ps
            if o.state == SENT and same and o.conn is not None and not o.conn.closed:
                continue  # on the wire where it belongs
            if o.state == RETRY_WAIT and same and epoch < o.min_epoch and now < o.wait_until:
                assert sess is not None
                sess.parked.add(o.tid)
                blocked.add(sess)
                self._schedule_kick(o.wait_until)
                continue
            self._dispatch(o, blocked)

    def _now(self) -> float:
        return float(self.monc.runtime.clock.monotonic())

    @staticmethod
    def _result(head: dict[str, Any], data: bytes | memoryview) -> OpResult:
        outs = []
        ops = head.get("ops", [])
        # one op owning a whole immutable segment takes it as it is (a full slice of
        # bytes is the object itself); otherwise each op's part is copied out
        whole = len(ops) == 1 and type(data) is bytes
        view = memoryview(data)
        pos = 0
        for o in ops:
            n = int(o.pop("dlen", 0))
            r = int(o.pop("r", 0))
            outs.append(OpOut(r, o, data[:n] if whole else bytes(view[pos : pos + n])))
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
        o = self.submit(lop.pool_id, lop.oid, [("watch", args, b"")], nspace=lop.nspace,
                        key=lop.key)  # fmt: skip
        try:
            res = await self.wait(o, LINGER_OP_TIMEOUT)
        except CephError as e:
            if e.errno != ETIMEDOUT:
                raise
            return -ETIMEDOUT
        now = self._now()
        lop.last_ping = now
        if res.r == 0:
            lop.last_ok = now
            lop.epoch = self.monc.osdmap.epoch
            if o.reply_conn is not None and wop != "ping":
                lop.conn = o.reply_conn
        return res.r

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
        lop.task = self._tasks.spawn(self._linger_loop(lop), f"watch {lop.cookie}")
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
                if r == -ETIMEDOUT and not lost:  # a new primary: it has our record only
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
        elif event == "notify" and not self._stopped:
            self._tasks.spawn(self._deliver_notify(lop, head, bytes(msg.data)), "notify")
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
