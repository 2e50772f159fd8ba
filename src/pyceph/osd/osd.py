"""The OSD core: its PGs, its map, and the dispatch of client and peer messages.

No sockets here: peers are reached through a `call_osd` transport and the monitor
through a `MonLink`, so the daemon (TCP), the embedded cluster and unit tests (an
in-process fake transport) run the very same code.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pyceph import cls
from pyceph.auth import enforce
from pyceph.common.errors import CephError
from pyceph.common.perf_query import OpFacts, OsdPerfStats
from pyceph.common.runtime import Runtime
from pyceph.common.tasks import TaskSet
from pyceph.msg.limits import ClientThrottle
from pyceph.msg.message import Message
from pyceph.msg.osd_ops import CEPH_NOSNAP, PG_OPS
from pyceph.osd import merge, pgmeta, split
from pyceph.osd.peering import PGMapView
from pyceph.osd.perf import OSDPerf
from pyceph.osd.pg import PG
from pyceph.osd.pglog import PGLog
from pyceph.osd.reserver import AsyncReserver
from pyceph.osd.scrub import ScrubOptions, scrub_due
from pyceph.osd.service import OSDOptions
from pyceph.osd.types import META_CID, PGInfo, parse_pgid, pgid_str
from pyceph.osd.watch import addr_blocklisted as _blocklisted
from pyceph.osdmap.osdmap import FLAG_NODEEP_SCRUB, FLAG_NOSCRUB, OSDMap
from pyceph.osdmap.pool import FLAG_NODEEP_SCRUB as POOL_NODEEP_SCRUB
from pyceph.osdmap.pool import FLAG_NOSCRUB as POOL_NOSCRUB
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction

log = logging.getLogger(__name__)

#: How long an op or peer message waits for a newer map it refers to.
MAP_WAIT_TIMEOUT = 30.0
#: META_CID key: the OSDMap our PGs were last advanced to (upstream's superblock names
#: its newest stored map); a restarted OSD resumes from it and walks every later epoch
OSDMAP_KEY = b"osdmap"
#: META_CID keys: b"pg_num/<pool>" -> the pg_num our PGs of that pool are split for
PG_NUM_PREFIX = b"pg_num/"
_CID = re.compile(r"^(\d+)\.([0-9a-f]+)(?:s(\d+))?_head$")
_POOL_FULL = (1 << 1) | (1 << 10)  # pg_pool_t FLAG_FULL | FLAG_FULL_QUOTA
_MAP_FULL = 1 << 1  # CEPH_OSDMAP_FULL

PEER_TYPES = frozenset(
    {
        "rep_op",
        "pg_query",
        "pg_activate",
        "pg_push",
        "pg_pull",
        "pg_list",
        "pg_remove",
        "backfill_reserve",
    }
)

CallOsd = Callable[[int, str, dict[str, Any], bytes | memoryview], Awaitable[Message]]


class MonLink(Protocol):
    """What the OSD core asks of the monitor."""

    async def osd_alive(self, want_up_thru: int) -> None: ...

    def pg_ready_to_merge(self, head: dict[str, Any]) -> None:
        """Send MOSDPGReadyToMerge (pyceph.osd.merge.ready_to_merge builds `head`)."""

    def pg_temp(self, pgs: dict[str, list[int]]) -> None:
        """Send MOSDPGTemp: per PG id the acting set wanted ([] removes the pg_temp)."""

    def flush_pg_stats(self) -> int:
        """Report the PG stats to the mgr now (upstream MgrClient::send_pgstats); the
        stat sequence number that report carries."""


def _osd_id(entity: str) -> int | None:
    if entity.startswith("osd."):
        try:
            return int(entity[4:])
        except ValueError:
            return None
    return None


def _class_rw(cls_name: str, method_name: str) -> tuple[bool, bool]:
    """A class method's CLS_METHOD_RD/WR flags as registered (unknown: neither)."""
    flags = cls.method_flags(cls_name, method_name) or 0
    return bool(flags & cls.RD), bool(flags & cls.WR)


def _check_calls(ops: list[Any]) -> int:
    """OSD::init_op_flags: a `call` of a class the OSD does not load fails with -EPERM
    (not in osd_class_load_list), of an unknown method with -EOPNOTSUPP, before the object
    is looked up."""
    for op in ops:
        if not op or str(op[0]) != "call" or len(op) < 2 or not isinstance(op[1], dict):
            continue
        cname, mname = str(op[1].get("cls", "")), str(op[1].get("method", ""))
        if cname not in cls.load_classes():
            return -errno.EPERM
        if cls.lookup(cname, mname) is None:
            return -errno.EOPNOTSUPP
    return 0


class OSD:
    """One OSD's PGs and message handling; implements `PGService` for them."""

    def __init__(
        self,
        whoami: int,
        store: ObjectStore,
        runtime: Runtime,
        opts: OSDOptions,
        call_osd: CallOsd,
        mon: MonLink,
        decode_map: Callable[[bytes], Any] = OSDMap.decode,
    ) -> None:
        self.whoami = whoami
        #: reads back the map stored under OSDMAP_KEY (tests run the core on fake maps)
        self._decode_map = decode_map
        self.store = store
        self.runtime = runtime
        self.opts = opts
        self._call_osd = call_osd
        self.mon = mon
        self.osdmap: Any = None
        self.pgs: dict[tuple[int, int], PG] = {}
        self.tasks = TaskSet(f"osd.{whoami}")
        self._map_waiters: list[tuple[int, asyncio.Future[None]]] = []
        #: per pool: the pg_num our PGs are split for (persisted in META_CID), and the
        #: epoch of the last change (clients with older maps may aim at a parent)
        self._pg_nums: dict[int, int] = {}
        self._pg_num_epoch: dict[int, int] = {}
        self._up_thru_wanted = 0
        self.local_reserver = AsyncReserver(opts.max_backfills)
        self.remote_reserver = AsyncReserver(opts.max_backfills)
        #: scrub scheduling options (the daemon sets them from its config)
        self.scrub_opts = ScrubOptions()
        #: perf counters (upstream's `osd` and `objecter` loggers), sent with each report
        self.perf = OSDPerf()
        #: counts for the mgr's OSD perf metric queries (pyceph.common.perf_query)
        self.perf_queries = OsdPerfStats()
        #: osd_client_message_size_cap / osd_client_message_cap (pyceph.msg.limits)
        self.client_throttle = ClientThrottle(opts.client_message_size_cap, opts.client_message_cap)
        cls.load_classes()  # object classes are loaded once, at start (upstream ClassHandler)

    def set_options(self, opts: OSDOptions) -> None:
        """Options re-read after a config change (upstream OSD::handle_conf_change): PGs
        see `opts` from their next step on (osd_recovery_sleep between objects), and the
        reservers take osd_max_backfills at once (more slots grant waiters now)."""
        self.opts = opts
        for r in (self.local_reserver, self.remote_reserver):
            if r.slots != opts.max_backfills:
                r.set_max(opts.max_backfills)

    # -- PGService -------------------------------------------------------------------
    @property
    def map_epoch(self) -> int:
        return self.osdmap.epoch if self.osdmap is not None else 0

    async def call_osd(
        self, osd: int, mtype: str, head: dict[str, Any], data: bytes | memoryview = b""
    ) -> Message:
        return await self._call_osd(osd, mtype, head, data)

    def request_up_thru(self, epoch: int) -> None:
        if epoch <= self._up_thru_wanted:
            return
        self._up_thru_wanted = epoch
        self.tasks.spawn(self._alive(epoch), "osd_alive")

    def request_pg_temp(self, pgid: str, osds: list[int]) -> None:
        """A primary wants another acting set (upstream queue_want_pg_temp). Fire and
        forget: the PG asks again with every map until one carries it."""
        self.mon.pg_temp({pgid: list(osds)})

    async def _alive(self, epoch: int) -> None:
        while self._up_thru_wanted == epoch:
            try:
                await self.mon.osd_alive(epoch)
                return
            except CephError as e:
                log.warning("osd.%s: osd_alive failed: %s", self.whoami, e)
                await self.runtime.clock.sleep(1.0)

    def is_full(self, pool: int) -> bool:
        m = self.osdmap
        if m is None:
            return False
        if getattr(m, "flags", 0) & _MAP_FULL:
            return True
        p = m.pools.get(pool)
        return bool(p is not None and getattr(p, "flags", 0) & _POOL_FULL)

    def backfill_toofull(self) -> bool:
        """upstream OSDService::too_full_for_backfill: our used ratio against the map's
        backfillfull_ratio (a store without a capacity is never full)."""
        ratio = float(getattr(self.osdmap, "backfillfull_ratio", 0.0) or 0.0)
        st = self.store.statfs()
        total = int(st.get("total", 0))
        return bool(ratio and total and int(st.get("used", 0)) / total >= ratio)

    async def wait_for_map(self, epoch: int) -> None:
        if self.map_epoch >= epoch:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._map_waiters.append((epoch, fut))
        try:
            await asyncio.wait_for(fut, MAP_WAIT_TIMEOUT)
        except TimeoutError:
            raise CephError(errno.ETIMEDOUT, f"no osdmap {epoch}") from None

    # -- lifecycle ---------------------------------------------------------------------
    async def load_pgs(self) -> None:
        """Instantiate every PG found in the store (we may be a stray for some)."""
        if self.store.collection_exists(META_CID):
            for k, v in self.store.meta_list(META_CID, PG_NUM_PREFIX):
                self._pg_nums[int(k[len(PG_NUM_PREFIX) :])] = int(v)
        for cid in self.store.list_collections():
            m = _CID.match(cid)
            if m:
                key = (int(m.group(1)), int(m.group(2), 16))
                if key not in self.pgs:
                    shard = int(m.group(3)) if m.group(3) is not None else None
                    self.pgs[key] = PG(self, *key, shard=shard)
        raw = (
            self.store.meta_get(META_CID, OSDMAP_KEY)
            if self.store.collection_exists(META_CID)
            else None
        )
        if raw:
            # our PGs' interval state matches this map: they take up from it
            self.osdmap = self._decode_map(raw)
            for key, pg in self.pgs.items():
                pg.restore_view(PGMapView.from_osdmap(self.osdmap, *key))

    async def stop(self) -> None:
        for fut in [f for _e, f in self._map_waiters]:
            if not fut.done():
                fut.cancel()
        await asyncio.gather(*(pg.close() for pg in self.pgs.values()))
        await self.tasks.close()

    # -- maps -----------------------------------------------------------------------------
    def handle_map(self, m: Any) -> None:
        """The next OSDMap epoch: create PGs we are now mapped to, advance all of them.

        Called for every epoch in order (upstream OSD::handle_osd_map): each PG's past
        intervals are built by comparing consecutive epochs, and an interval that went
        read/write must not be missed. The map and the interval state of each PG that
        started a new interval are stored together, so a restart resumes from them.
        """
        if self.osdmap is not None and m.epoch <= self.osdmap.epoch:
            return
        if self.osdmap is not None and m.epoch != self.osdmap.epoch + 1:
            log.warning(
                "osd.%s: osdmap jumps from %s to %s: past intervals may be incomplete",
                self.whoami, self.osdmap.epoch, m.epoch,
            )  # fmt: skip
        self.osdmap = m
        if not self.store.collection_exists(META_CID):
            self.store.apply_transaction(Transaction().create_collection(META_CID))
        self._split_pgs(m)
        wanted: dict[tuple[int, int], PGMapView] = {}
        for pool_id, pool in m.pools.items():
            for ps in range(int(pool.pg_num)):
                up, _upp, acting, _p = m.pg_to_up_acting_osds(pool_id, ps)
                if self.whoami in up or self.whoami in acting or (pool_id, ps) in self.pgs:
                    wanted[(pool_id, ps)] = PGMapView.from_osdmap(m, pool_id, ps)
        create = [k for k in wanted if k not in self.pgs]
        if create:
            t = Transaction()
            shards = {k: self._ec_shard(m, *k) for k in create}
            for pool_id, ps in create:
                t.append(PG.create_txn(pool_id, ps, m.epoch, shards[(pool_id, ps)]))
            self.store.apply_transaction(t)
            for k in create:
                self.pgs[k] = PG(self, *k, shard=shards[k])
        blocklist = getattr(m, "blocklist", None)
        t = Transaction().meta_set(META_CID, OSDMAP_KEY, m.encode())
        for key, pg in list(self.pgs.items()):
            view = wanted.get(key) or PGMapView.from_osdmap(m, *key)
            changed = pg.advance_map(view)
            if pg.removed:
                self.pgs.pop(key, None)
                continue
            if changed and self.store.collection_exists(pg.cid):
                pgmeta.write_intervals(t, pg.cid, pg.info)
            if blocklist and pg.watch:
                pg.watch.drop_blocklisted(lambda addr: _blocklisted(blocklist, addr))
        self.store.apply_transaction(t)
        keep = []
        for e, fut in self._map_waiters:
            if e <= m.epoch:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((e, fut))
        self._map_waiters = keep
        self._mark_premerge(m)
        self.send_ready_to_merge()

    def _split_pgs(self, m: Any) -> None:
        """Split our PGs of every pool whose pg_num grew since we last looked (upstream
        OSD::split_pgs): the children exist in memory at once, in the store once the
        split transaction commits (queued after everything queued for the parents)."""
        t = Transaction()
        if not self.store.collection_exists(META_CID):
            t.create_collection(META_CID)
        held: list[Callable[[], None]] = []
        for pool_id, pool in m.pools.items():
            new, old = int(pool.pg_num), self._pg_nums.get(pool_id)
            if old == new:
                continue
            # a pool we see for the first time (or after a restart): older clients may aim
            # at PGs the map has since split
            self._pg_num_epoch[pool_id] = m.epoch
            self._pg_nums[pool_id] = new
            t.meta_set(META_CID, PG_NUM_PREFIX + str(pool_id).encode(), str(new).encode())
            if old is None:
                continue
            if new < old:
                self._merge_pgs(m, pool_id, old, new, t, held)
                continue
            for (p, ps), pg in sorted(self.pgs.items()):
                kids = split.split_children(ps, old, new) if p == pool_id else []
                if not kids or pg.removed:
                    continue
                log.info("osd.%s: pg %s splits into %s", self.whoami, pg.pgid,
                         [pgid_str(p, c) for c in kids])  # fmt: skip
                st, children = pg.split_into(kids, new)
                t.append(st)
                held.append(pg.split_pending())
                for child in children:
                    self.pgs[(p, child.ps)] = child
                    held.append(child.split_pending())
        for gone in [p for p in self._pg_nums if p not in m.pools]:
            del self._pg_nums[gone]
            self._pg_num_epoch.pop(gone, None)
            t.meta_rm(META_CID, PG_NUM_PREFIX + str(gone).encode())
        if len(t):
            self.tasks.spawn(self._commit_split(t, held), f"split at epoch {m.epoch}")

    def _merge_pgs(
        self, m: Any, pool_id: int, old: int, new: int, t: Transaction, held: list[Any]
    ) -> None:
        """Fold our PGs of a shrunk pool into their merge targets (upstream OSD::advance_pg
        and PG::merge_from): into `t`, which the caller queues after everything queued for
        them. A target we do not hold starts empty here (and is backfilled)."""
        meta = dict(getattr(m.pools[pool_id], "last_pg_merge_meta", None) or {})
        groups: dict[int, list[PG]] = {}
        for (p, ps), pg in sorted(self.pgs.items()):
            if p == pool_id and merge.is_merge_source(ps, old, new) and not pg.removed:
                groups.setdefault(merge.merge_target(ps, new), []).append(pg)
        for tps, sources in sorted(groups.items()):
            target = self.pgs.get((pool_id, tps))
            if target is None or target.removed:
                shard = sources[0].shard
                t.append(PG.create_txn(pool_id, tps, m.epoch, shard))
                info = PGInfo(pgid_str(pool_id, tps), epoch_created=m.epoch)
                target = PG(self, pool_id, tps, shard, (info, PGLog(), {}))
                self.pgs[(pool_id, tps)] = target
            lu = target.info.last_update
            current = all(
                merge.caught_up(old, new, meta, pool_id, s.ps, s.info.last_update, lu)
                for s in sources
            )
            log.info("osd.%s: pg %s merges %s%s", self.whoami, target.pgid,
                     [s.pgid for s in sources], "" if current else " (behind: to backfill)")  # fmt: skip
            t.append(target.merge_from(sources, new, current))
            held.append(target.split_pending())
            for src in sources:
                src.merged_away()
                self.pgs.pop((pool_id, src.ps), None)
                self.tasks.spawn(src.close(), f"close merged {src.pgid}")

    def _mark_premerge(self, m: Any) -> None:
        """Hold client ops of the PGs a pending shrink merges next (upstream premerge);
        release every other PG."""
        pending: dict[int, tuple[int, int]] = {}
        for pool_id, pool in m.pools.items():
            pg_num = int(pool.pg_num)
            if int(getattr(pool, "pg_num_pending", pg_num)) < pg_num and pg_num >= 2:
                pending[pool_id] = (pg_num - 1, merge.parent(pg_num - 1))
        for (pool_id, ps), pg in self.pgs.items():
            pg.set_premerge(ps in pending.get(pool_id, ()))

    def mon_session_opened(self) -> None:
        """The daemon has a new monitor session: the pg_temps our PGs still want and the
        ready-to-merge steps go again (a message on the old session may have been lost;
        upstream requeue_pg_temp, send_ready_to_merge)."""
        for pg in self.pgs.values():
            pg.resend_pg_temp()
        self.send_ready_to_merge()

    def merge_quiesced(self) -> None:
        self.send_ready_to_merge()

    def send_ready_to_merge(self) -> None:
        """Tell the monitor whether the PGs of a pending shrink are ready to merge, for
        each pool where we are the source's primary (upstream OSDService::
        send_ready_to_merge). Repeats are harmless: the monitor ignores a stale step."""
        m = self.osdmap
        if m is None:
            return
        for pool_id, pool in m.pools.items():
            pg_num = int(pool.pg_num)
            pending = int(getattr(pool, "pg_num_pending", pg_num))
            if pending >= pg_num or pg_num < 2:
                continue
            peers = {}
            for ps in (pg_num - 1, merge.parent(pg_num - 1)):
                pg = self.pgs.get((pool_id, ps))
                if pg is not None and not pg.removed:
                    peers[ps] = pg.merge_peer()
            head = merge.ready_to_merge(pool_id, pg_num, pending, peers)
            if head is not None:
                log.info("osd.%s: pg %s ready to merge: %s", self.whoami, head["pgid"], head["ready"])  # fmt: skip
                self.mon.pg_ready_to_merge(head)

    async def _commit_split(self, t: Transaction, held: list[Callable[[], None]]) -> None:
        try:
            await self.store.queue_transaction(t)
        finally:
            for release in held:
                release()

    def _ec_shard(self, m: Any, pool_id: int, ps: int) -> int | None:
        """Our shard of an erasure-coded PG (position in acting, else in up)."""
        pool = m.pools.get(pool_id)
        if pool is None or int(getattr(pool, "type", 1)) != 3:
            return None
        up, _upp, acting, _p = m.pg_to_up_acting_osds(pool_id, ps)
        for v in (acting, up):
            if self.whoami in v:
                return list(v).index(self.whoami)
        return 0

    def reap_removed(self) -> None:
        for key, pg in list(self.pgs.items()):
            if pg.removed:
                self.pgs.pop(key, None)
                self.tasks.spawn(pg.close(), f"close {pg.pgid}")

    # -- messages -------------------------------------------------------------------------
    async def handle(
        self,
        entity: str,
        mtype: str,
        head: dict[str, Any],
        data: bytes | memoryview,
        caps: dict[str, str] | None = None,
        conn: Any = None,
    ) -> tuple[dict[str, Any], bytes | memoryview] | None:
        """Handle one request; returns the reply (head, data), or None for no reply.

        `conn` is the requester's connection: a client's watches are tied to it."""
        t_recv = self.runtime.clock.monotonic()
        epoch = int(head.get("epoch") or 0)
        if epoch > self.map_epoch:
            try:
                await self.wait_for_map(epoch)
            except CephError:
                return {"r": -errno.EAGAIN, "retry": epoch, "epoch": self.map_epoch}, b""
        if mtype == "osd_op":
            with self.client_throttle.held(len(data), conn):  # back-pressure on clients
                return await self._client_op(head, data, caps, conn, t_recv)
        if mtype == "osd_ping":
            return {"r": 0, "epoch": self.map_epoch, "stamp": head.get("stamp")}, b""
        if mtype in PEER_TYPES:
            sender = _osd_id(entity)
            if sender is None:
                return {"r": -errno.EPERM}, b""
            return await self._peer(sender, mtype, head, data)
        if mtype == "osd_command":
            from pyceph.osd.commands import handle_command

            return await handle_command(self, head, data, caps)
        return {"r": -errno.EOPNOTSUPP}, b""

    async def _client_op(
        self,
        head: dict[str, Any],
        data: bytes | memoryview,
        caps: dict[str, str] | None,
        conn: Any = None,
        t_recv: float = 0.0,
    ) -> tuple[dict[str, Any], bytes | memoryview]:
        from pyceph.osd.ops import is_write, op_is_write

        ops = list(head.get("ops") or [])
        r = _check_calls(ops) or self._op_caps(head, ops, caps, conn)
        if r:
            # upstream do_op: init_op_flags, then op_has_sufficient_caps (-EPERM)
            return {"r": r, "epoch": self.map_epoch, "ops": []}, b""
        if _blocklisted(getattr(self.osdmap, "blocklist", None), head.get("addr")):
            # upstream: -EBLOCKLISTED (== ESHUTDOWN) to a blocklisted client
            return {"r": -errno.ESHUTDOWN, "epoch": self.map_epoch, "ops": []}, b""
        r = self._check_names(head)
        if r:
            # upstream PrimaryLogPG::do_op: checked before the op reaches the PG
            return {"r": r, "epoch": self.map_epoch, "ops": []}, b""
        pool_id, epoch = int(head["pool"]), int(head.get("epoch") or 0)
        pg = self.pgs.get((pool_id, int(head["ps"])))
        if (
            pg is None
            or not pg.is_primary
            or (epoch < self._pg_num_epoch.get(pool_id, 0) and pg.misdirected(head))
        ):
            return {"r": -errno.EAGAIN, "retry": self.map_epoch, "epoch": self.map_epoch}, b""
        writes = is_write(ops)
        reads = any(not op_is_write(str(op[0]), op[1] if len(op) > 1 else None) for op in ops)
        clock = self.runtime.clock
        t_start = clock.monotonic()
        token = self.perf.op_started(t_start)
        try:
            reply = await pg.do_op(head, data, conn)
        except BaseException:
            self.perf.op_aborted(token)
            raise
        out_len = len(reply[1]) if reply is not None else 0
        t_end = clock.monotonic()
        self.perf.op_done(token, reads, writes, len(data), out_len, t_recv or t_start, t_start, t_end)  # fmt: skip
        if self.perf_queries.active:
            self.perf_queries.record(self._op_facts(head, pg.pgid, conn, reads, writes, len(data), out_len, t_end - (t_recv or t_start)))  # fmt: skip
        return reply

    def _op_facts(
        self,
        head: dict[str, Any],
        pgid: str,
        conn: Any,
        reads: bool,
        writes: bool,
        in_bytes: int,
        out_bytes: int,
        latency: float,
    ) -> OpFacts:
        """One finished client op as the perf metric queries key and count it."""
        peer = getattr(conn, "peer", None)
        addr = getattr(conn, "peer_addr", None)
        snapid = head.get("snapid")
        return OpFacts(
            client_id=peer.entity if peer is not None else "",
            client_address=str(head.get("addr") or (f"{addr[0]}:{addr[1]}" if addr else "")),
            pool_id=int(head["pool"]),
            namespace=str(head.get("nspace") or ""),
            osd_id=self.whoami,
            pg_id=pgid,
            object_name=str(head.get("oid") or ""),
            snap_id=None if snapid is None or snapid == CEPH_NOSNAP else int(snapid),
            reads=reads,
            writes=writes,
            in_bytes=in_bytes,
            out_bytes=out_bytes,
            latency=latency,
        )

    def _op_caps(
        self, head: dict[str, Any], ops: list[Any], caps: dict[str, str] | None, conn: Any
    ) -> int:
        """PrimaryLogPG::op_has_sufficient_caps: 0, or -EPERM (see pyceph.auth.enforce)."""
        osdcap = enforce.osd_caps_of(caps, conn)
        if osdcap is True:
            return 0
        pool = self.osdmap.pools.get(int(head.get("pool", -1))) if self.osdmap else None
        if pool is None:
            return 0  # no such pool here: the PG lookup answers (nothing runs)
        nspace = str(head.get("nspace") or "")
        if ops and ops[0][0] in PG_OPS:  # a listing: its namespace, or all of them
            ns = (ops[0][1] or {}).get("nspace") if len(ops[0]) > 1 else None
            nspace = enforce.ALL_NSPACES if ns is None else str(ns)
        ok = enforce.osd_op_allowed(
            osdcap,
            pool.pool_name,
            nspace,
            pool.application_metadata,
            str(head.get("oid") or ""),
            str(head.get("key") or ""),
            enforce.op_needs(ops, _class_rw),
            getattr(conn, "peer_addr", None),
        )
        if not ok:
            log.debug("op on %s/%r denied by osd caps %r", pool.pool_name, head.get("oid"), caps)
        return 0 if ok else -errno.EPERM

    def _check_names(self, head: dict[str, Any]) -> int:
        """-ENAMETOOLONG when the object name, locator key or namespace is over its bound."""
        opts = self.opts
        max_name = getattr(opts, "max_object_name_len", 2048)
        max_ns = getattr(opts, "max_object_namespace_len", 256)
        if len(str(head.get("oid") or "").encode()) > max_name:
            return -errno.ENAMETOOLONG
        if len(str(head.get("key") or "").encode()) > max_name:
            return -errno.ENAMETOOLONG
        if len(str(head.get("nspace") or "").encode()) > max_ns:
            return -errno.ENAMETOOLONG
        return _check_calls(head.get("ops") or [])

    async def _peer(
        self, sender: int, mtype: str, head: dict[str, Any], data: bytes | memoryview
    ) -> tuple[dict[str, Any], bytes | memoryview]:
        pool, ps = parse_pgid(str(head["pgid"]))
        pg = self.pgs.get((pool, ps))
        if pg is None:
            if mtype == "pg_query":
                empty = PGInfo(pgid_str(pool, ps))
                return {"r": 0, "info": empty.to_wire(), "entries": [], "missing": []}, b""
            if mtype == "pg_list" and "scrub" in head:
                return {"r": -errno.ESTALE}, b""
            if mtype in ("pg_list", "pg_remove"):
                return {"r": 0, "entries": [], "cursor": None}, b""
            return {"r": -errno.ESTALE}, b""
        if mtype == "pg_query":
            return await pg.handle_query(head), b""
        if mtype == "rep_op":
            t0 = self.runtime.clock.monotonic()
            rep = await pg.handle_rep_op(head, data, sender)
            self.perf.subop(len(data), self.runtime.clock.monotonic() - t0)
            return rep, b""
        if mtype == "pg_activate":
            return await pg.handle_activate(head, sender), b""
        if mtype == "pg_push":
            self.perf.recovery(len(data))
            return await pg.handle_push(head, data, sender), b""
        if mtype == "pg_pull":
            return await pg.handle_pull(head)
        if mtype == "backfill_reserve":
            return await pg.handle_backfill_reserve(head, sender), b""
        if mtype == "pg_list" and "scrub" in head:
            # a scrub map request (upstream MOSDRepScrub): a listing with scrub details
            return pg.handle_scrub_map(head, sender), b""
        if mtype == "pg_list":
            await pg.in_store()  # a split child lists nothing until its split commits
            return pg.handle_list(head), b""
        if mtype == "pg_remove":
            v = pg.peering.view
            if v is not None and self.whoami not in v.acting and self.whoami not in v.up:
                await pg.remove_self()
                self.reap_removed()
            return {"r": 0}, b""
        return {"r": -errno.EOPNOTSUPP}, b""

    # -- scrub scheduling -------------------------------------------------------------------
    def sched_scrub(self, now: float, loadavg: float, max_scrubs: int = 1) -> list[str]:
        """Start the scrubs that are due (upstream OSD::sched_scrub); returns their PG ids.

        At most `max_scrubs` (osd_max_scrubs) run at once, only on active+clean PGs and,
        unless `osd_scrub_during_recovery`, not while this OSD recovers; the
        `noscrub`/`nodeep-scrub` flags of the map and of the pool hold them back."""
        m = self.osdmap
        if m is None:
            return []
        running = sum(1 for pg in self.pgs.values() if pg.scrub.active is not None)
        if not self.scrub_opts.during_recovery and any(p.recovering for p in self.pgs.values()):
            return []  # osd_scrub_during_recovery: recovery comes first
        flags = int(getattr(m, "flags", 0))
        started: list[str] = []
        for (pool_id, _ps), pg in sorted(self.pgs.items()):
            if running >= max_scrubs:
                break
            if not pg.is_primary or pg.scrub.active is not None or not pg.peering.is_clean():
                continue
            pool = m.pools.get(pool_id)
            pflags = int(getattr(pool, "flags", 0)) if pool is not None else 0
            sc = pg.scrub
            kind = scrub_due(
                self.scrub_opts, now, sc.last_scrub_stamp, sc.last_deep_scrub_stamp, loadavg
            )
            if kind == "deep" and (flags & FLAG_NODEEP_SCRUB or pflags & POOL_NODEEP_SCRUB):
                kind = "shallow"
            if kind is None or flags & FLAG_NOSCRUB or pflags & POOL_NOSCRUB:
                continue
            if pg.request_scrub(kind == "deep", False):
                running += 1
                started.append(pg.pgid)
        return started

    # -- reporting --------------------------------------------------------------------------
    def beacon(self) -> dict[str, Any]:
        """The `osd_beacon` body (upstream MOSDBeacon): our map epoch, the PGs we are
        primary for, and the lowest effective last_epoch_clean among them."""
        mine = [pg for pg in self.pgs.values() if pg.is_primary]
        epoch = self.map_epoch
        return {
            "epoch": epoch,
            "pgs": [pg.pgid for pg in mine],
            "min_last_epoch_clean": min(
                (pg.effective_last_epoch_clean() for pg in mine), default=epoch
            ),
        }

    def report(self) -> dict[str, Any]:
        """The `mgr_report` body (format: pyceph.mgr.pgmap)."""
        st = self.store.statfs()
        total = int(st.get("total", 0))
        used = int(st.get("used", 0))
        avail = int(st.get("available", max(total - used, 0)))
        pg_stats = {pg.pgid: pg.pg_stats() for pg in self.pgs.values() if pg.is_primary}
        primaries = sum(1 for pg in self.pgs.values() if pg.is_primary)
        self.perf.set_pgs(len(self.pgs), primaries, len(self.pgs) - primaries, 0)
        self.perf.set_statfs(total, used, avail)
        return {
            "osd_stat": {
                "kb": total // 1024,
                "kb_used": used // 1024,
                "kb_avail": avail // 1024,
                "kb_used_data": int(st.get("data_stored", 0)) // 1024,
                "kb_used_omap": 0,
                "kb_used_meta": int(st.get("meta_used", 0)) // 1024,
                "num_pgs": len(self.pgs),
                **self.perf.perf_stat(),
            },
            "pg_stats": pg_stats,
        }
