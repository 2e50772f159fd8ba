"""One placement group on one OSD: the asyncio shell around `Peering`, the PG log and
`ops.execute`.

As primary it orders client ops (per object, in arrival order), gives each write a
version epoch'v, commits object changes and the log entry in one store transaction,
replicates the transaction to every acting replica (`rep_op`) and answers the client
only when all of them have committed. While peering, ops wait; after activation it
recovers missing objects (pull to itself, push to replicas) before they are touched.
As replica it applies replicated transactions strictly in version order.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any

from pyceph.cls.context import Origin
from pyceph.common.errors import CephError
from pyceph.common.tasks import TaskSet
from pyceph.msg.message import Message
from pyceph.msg.osd_ops import PG_OPS
from pyceph.osd import ec_rollback, merge, pgmeta, split
from pyceph.osd.ec_backend import ECBackend, is_erasure, split_payload
from pyceph.osd.ec_rollback import is_stash
from pyceph.osd.ops import (
    OI_ATTR,
    ObjectInfo,
    OpEnv,
    OpResult,
    execute,
    is_write,
    load_oi,
)
from pyceph.osd.peering import (
    ACTIVE,
    DELETED,
    INITIAL,
    PEERED,
    WAIT_ACTING,
    Activate,
    ActivatePlan,
    Clean,
    NeedUpThru,
    Peering,
    PGMapView,
    Query,
    RequestPGTemp,
    StateChange,
    starts_interval,
)
from pyceph.osd.pglog import DELETE, ERROR, MODIFY, LogEntry, PGLog
from pyceph.osd.recovery_prio import backfill_priority, recovery_priority
from pyceph.osd.scrub import (
    ScrubOptions,
    ScrubResult,
    ScrubState,
    build_scrub_map,
    compare_maps,
    ec_inconsistent_shards,
    map_from_wire,
)
from pyceph.osd.service import (
    BACKFILL_LIST_PAGE,
    FLAG_FULL_FORCE,
    FULL_RESERVE_BYTES,
    MAX_PARKED_REP_OPS,
    MAX_PGLS_PAGE,
    MAX_WAITING_OPS_PER_PG,
    PEER_RETRY_DELAY,
    PGService,
)
from pyceph.osd.snaps import object_keys, snap_context, snap_key, trim_txn
from pyceph.osd.types import (
    ZERO,
    Oid,
    PGInfo,
    Version,
    key_oid,
    object_key,
    oid_of,
    pg_cid,
    pgid_str,
    ver,
)
from pyceph.osd.watch import Notify, WatchRegistry, addr_blocklisted
from pyceph.store.errors import StoreError
from pyceph.store.transaction import Transaction
from pyceph.store.types import HEAD, SNAPDIR, ObjectKey

log = logging.getLogger(__name__)


def _is_listed(k: ObjectKey) -> bool:
    """Does a backfill or peer listing carry this store object: a head or snapdir
    record, not a clone and not an EC shard's rollback data?"""
    return (k.snap == HEAD or k.snap == SNAPDIR) and not is_stash(k)


ESTALE = errno.ESTALE
EAGAIN = errno.EAGAIN
#: Seconds between passes dropping watchers that went silent.
WATCH_REAP_INTERVAL = 1.0
#: Ops that need the object's watchers known to this primary before they run.
_WATCH_STATE_OPS = frozenset({"watch", "notify"})
_POOL_TYPE_ERASURE = 3
#: upstream's backfill reservation states, as pg_state_string names them
BACKFILL_WAIT = "backfill_wait"
BACKFILLING = "backfilling"
BACKFILL_TOOFULL = "backfill_toofull"
#: upstream's log recovery reservation states
RECOVERY_WAIT = "recovery_wait"
RECOVERING = "recovering"
#: what a PG's reservations are for (the `kind` of a reservation request)
RESERVE_RECOVERY = "recovery"
RESERVE_BACKFILL = "backfill"

Reply = tuple[dict[str, Any], bytes]


class IntervalChanged(Exception):
    """The PG's interval changed under an operation; it must start over."""


class PG:
    """A PG instance: state, log, peering and op handling."""

    def __init__(
        self,
        svc: PGService,
        pool: int,
        ps: int,
        shard: int | None = None,
        state: tuple[PGInfo, PGLog, dict[Oid, Version]] | None = None,
    ) -> None:
        """A PG from its collection in the store, or (a split's child) from `state`."""
        self.svc = svc
        self.pool = pool
        self.ps = ps
        self.pgid = pgid_str(pool, ps)
        #: erasure-coded pools: the shard this OSD holds (its collection is named after it)
        self.shard = shard
        self.cid = pg_cid(pool, ps, shard)
        self.ec: ECBackend | None = None
        self.tasks = TaskSet(f"pg {self.pgid}")
        info, plog, missing = state or pgmeta.load(svc.store, self.cid, self.pgid)
        self.info: PGInfo = info
        self.log: PGLog = plog
        self.peering = Peering(svc.whoami, info, plog, missing, shard)
        self.gen = 0  # interval generation
        self._interval_fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wake = asyncio.Event()
        self._waiting = 0
        #: a pending shrink merges us (upstream PG_STATE_PREMERGE): client ops wait, and
        #: once those running are done our log stays put until the merge
        self.premerge = False
        self._ops_running = 0
        self._locks: dict[Oid, list[Any]] = {}
        self._local_inflight = 0
        self._local_idle = asyncio.Event()
        self._local_idle.set()
        self._split_done = asyncio.Event()
        self._split_done.set()
        self._log_changed = asyncio.Event()
        self._parked = 0
        self._activated_gen = -1
        self._activated_ev = asyncio.Event()
        self._recovery: asyncio.Task[Any] | None = None
        #: primary: where the backfill of our targets stands (BACKFILL_WAIT, BACKFILLING,
        #: BACKFILL_TOOFULL; upstream's reservation states)
        self.backfill_state = BACKFILL_WAIT
        #: primary: where log recovery stands (RECOVERY_WAIT, RECOVERING)
        self.recovery_state = RECOVERY_WAIT
        #: primary: what our local reservation and `_remote_held` slots are for (None: none)
        self._held: str | None = None
        self._remote_held: list[int] = []
        #: the local reserver took our slot back for a higher-priority PG
        self._preempted = False
        self._recovering: dict[tuple[int, Oid], asyncio.Future[None]] = {}
        self.removed = False
        self.interval_floor = 0
        self.watch = WatchRegistry(pool)
        self._reaper: asyncio.Task[Any] | None = None
        #: removed snaps this PG has trimmed since it started (upstream purged_snaps)
        self._trimmed: frozenset[int] = frozenset()
        self._trimmer: asyncio.Task[Any] | None = None
        self.stats: dict[str, int] = {"num_rd": 0, "num_rd_kb": 0, "num_wr": 0, "num_wr_kb": 0}
        #: scrub state (primary): what runs now, what the last scrubs found and when
        born = svc.runtime.clock.now()  # upstream stamps a new PG as just scrubbed
        self.scrub = ScrubState(last_scrub_stamp=born, last_deep_scrub_stamp=born)
        self._scrubber: asyncio.Task[Any] | None = None
        #: erasure-coded PGs: entries up to here hold no rollback data (in memory)
        self._rolled_to: Version = ZERO
        #: erasure-coded primary: what every shard committed (upstream roll_forward_to)
        self._committed = ec_rollback.CommitTracker(self.log.head)

    # -- lifecycle ------------------------------------------------------------------
    @staticmethod
    def create_txn(pool: int, ps: int, epoch: int, shard: int | None = None) -> Transaction:
        """The transaction creating an empty PG collection with its info."""
        cid = pg_cid(pool, ps, shard)
        t = Transaction().create_collection(cid)
        pgmeta.write_info(t, cid, PGInfo(pgid_str(pool, ps), epoch_created=epoch))
        return t

    async def close(self) -> None:
        self._bump_interval()
        await self.tasks.close()

    @property
    def state(self) -> str:
        return self.peering.state

    @property
    def recovering(self) -> bool:
        """Is this PG's recovery task running?"""
        return self._recovery is not None and not self._recovery.done()

    @property
    def is_primary(self) -> bool:
        return self.peering.is_primary

    # -- map changes ---------------------------------------------------------------------
    def advance_map(self, view: PGMapView) -> bool:
        """The next map epoch; True when it starts a new interval (the OSD then stores
        our interval state with the map)."""
        if view.shards or self.shard is not None:
            self._ec_advance(view)
        old = self.peering.view
        new = starts_interval(old, view)
        if new or self.peering.state == INITIAL:
            # Messages from an interval older than one we saw start are stale.
            if new:
                self.interval_floor = view.epoch if old is not None else 0
            self._bump_interval()
        self.run_effects(self.peering.advance_map(view))
        self._maybe_trim()
        return new

    def restore_view(self, view: PGMapView) -> None:
        """After a restart: the map our stored interval state was last advanced to."""
        self.peering.restore_view(view)

    def _ec_advance(self, view: PGMapView) -> None:
        """Erasure-coded pool: keep the codec current. Our shard stays what it is when
        our position changes (the primary may want us serving it: a pg_temp keeps
        positions); an activation for another shard switches it (`_reshard_txn`)."""
        osdmap = getattr(self.svc, "osdmap", None)
        pool = osdmap.pools.get(self.pool) if osdmap is not None else None
        if not is_erasure(pool):
            return
        if self.ec is None:
            self.ec = ECBackend.for_pool(self, osdmap, pool)
        else:
            self.ec.update(pool)

    def _reshard_txn(self, shard: int) -> Transaction:
        """Activation gave us another shard than the one we hold: drop ours (its
        objects, log and info) and start the new one's collection, which the
        activation's backfill plan fills. Memory follows at once; the caller commits."""
        log.info("pg %s: shard %s -> %s", self.pgid, self.shard, shard)
        store = self.svc.store
        t = Transaction()
        if store.collection_exists(self.cid):
            start: ObjectKey | None = None
            while True:
                keys, nxt = store.collection_list(self.cid, start, BACKFILL_LIST_PAGE)
                for k in keys:
                    t.remove(self.cid, k)
                if nxt is None:
                    break
                start = nxt
            t.remove_collection(self.cid)
        t.append(PG.create_txn(self.pool, self.ps, self.info.epoch_created, shard))
        self.shard = shard
        self.cid = pg_cid(self.pool, self.ps, shard)
        self.peering.shard = shard
        return t

    def _bump_interval(self) -> None:
        self.gen += 1
        if not self._interval_fut.done():
            self._interval_fut.set_result(None)
        self._interval_fut = asyncio.get_running_loop().create_future()
        self._activated_ev.clear()
        self.watch.reset()
        if self._recovery is not None:
            self._recovery.cancel()
            self._recovery = None
        # a new interval ends every reservation of ours, here and on the peers
        self.svc.local_reserver.release(self.pgid)
        self.svc.remote_reserver.release(self.pgid)
        self.backfill_state = BACKFILL_WAIT
        self.recovery_state = RECOVERY_WAIT
        self._held = None
        self._remote_held = []
        self._preempted = False
        if self._trimmer is not None:
            self._trimmer.cancel()
            self._trimmer = None
        self._kick()

    def _kick(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()

    def resend_pg_temp(self) -> None:
        """Ask the monitor again for the pg_temp this PG's primary waits on, if any."""
        want = self.peering.want_pg_temp
        if want is not None and self.peering.is_primary and not self.removed:
            self.svc.request_pg_temp(self.pgid, list(want))

    def run_effects(self, fx: list[Any]) -> None:
        for e in fx:
            if isinstance(e, Query):
                self.tasks.spawn(self._query(e.osd, self.gen), f"{self.pgid} query {e.osd}")
            elif isinstance(e, NeedUpThru):
                self.svc.request_up_thru(e.epoch)
            elif isinstance(e, RequestPGTemp):
                log.info("pg %s: want pg_temp %s", self.pgid, list(e.osds))
                self.svc.request_pg_temp(self.pgid, list(e.osds))
            elif isinstance(e, Activate):
                self.tasks.spawn(self._activate(e, self.gen), f"{self.pgid} activate")
            elif isinstance(e, StateChange):
                log.info("pg %s: %s (epoch %s)", self.pgid, e.state, self.svc.map_epoch)
                if e.state == ACTIVE:
                    self._start_recovery()
                    self._maybe_trim()
                elif e.state == DELETED:
                    self.tasks.spawn(self.remove_self(), f"{self.pgid} remove")
                self._kick()
            elif isinstance(e, Clean):
                t = Transaction()
                pgmeta.write_info(t, self.cid, self.info)
                self.tasks.spawn(self.commit(t), f"{self.pgid} clean")
                for osd in e.strays:
                    self.tasks.spawn(self._remove_stray(osd, self.gen), f"{self.pgid} rm {osd}")

    async def commit(self, t: Transaction) -> None:
        release = self.hold_commit()
        clock = self.svc.runtime.clock
        t0 = clock.monotonic()
        try:
            await self.svc.store.queue_transaction(t)
        finally:
            release()
        self.svc.perf.store_commit(clock.monotonic() - t0)

    def hold_commit(self) -> Callable[[], None]:
        """Count a commit of ours as in flight until the returned function is called (also
        for one the OSD queues for us: a split). Readers of our store state wait for it."""
        self._local_inflight += 1
        self._local_idle.clear()

        def release() -> None:
            self._local_inflight -= 1
            if not self._local_inflight:
                self._local_idle.set()
            self._log_changed.set()

        return release

    def split_pending(self) -> Callable[[], None]:
        """The OSD queued a split touching us: until the returned function is called our
        collection is not what our log says (`in_store` waits), and the split counts as
        a commit of ours in flight."""
        release = self.hold_commit()
        self._split_done.clear()

        def done() -> None:
            self._split_done.set()
            release()

        return done

    async def in_store(self) -> None:
        """Until no split touching us is pending (listings read the store)."""
        await self._split_done.wait()

    def split_into(self, children: list[int], pg_num: int) -> tuple[Transaction, list[PG]]:
        """Upstream PG::split_into: hand `children` (new PGs of our grown pool) the objects,
        log entries and missing entries that now fold into them. Returns the transaction
        doing it in the store (the caller queues it after everything already queued for
        us) and the children, which start from our view so that the map making them closes
        our current interval into their past intervals (their prior set holds our OSDs)."""
        # one hash per object, though split_out and partition both ask
        owner = functools.cache(functools.partial(split.pg_of, pg_num=pg_num))
        mine = set(children)
        moved = self.log.split_out(lambda e: owner(e.oid) in mine)
        by_pg, miss = split.partition(moved, dict(self.peering.missing), owner)
        t = Transaction()
        for e in moved:
            pgmeta.remove_entry(t, self.cid, e.version)
        dups = list(self.log.dups.values())
        kids = []
        for c in children:
            cid = pg_cid(self.pool, c, self.shard)
            t.create_collection(cid)
            t.split_collection(self.cid, split.split_bits(c, pg_num), c, cid)
            clog = PGLog(self.log.tail, by_pg.get(c, []), dups)
            cmiss = miss.get(c, {})
            info = self.info.copy()
            info.pgid = pgid_str(self.pool, c)
            info.last_update = clog.head
            info.last_complete = clog.head if not cmiss else min(info.last_complete, clog.head)
            info.stats = {}
            pgmeta.write_info(t, cid, info)
            for e in clog.entries:
                pgmeta.write_entry(t, cid, e)
            pgmeta.write_dups(t, cid, dups)
            for oid, v in cmiss.items():
                pgmeta.write_missing(t, cid, oid, v)
                self.peering.missing.pop(oid, None)
                pgmeta.write_missing(t, self.cid, oid, None)
            kid = PG(self.svc, self.pool, c, self.shard, (info, clog, dict(cmiss)))
            kid.peering.view = self.peering.view
            kids.append(kid)
        self.info.last_update = self.log.head
        if not self.peering.missing:
            self.info.last_complete = self.log.head
        pgmeta.write_info(t, self.cid, self.info)
        return t, kids

    def merge_from(self, sources: list[PG], pg_num: int, current: bool) -> Transaction:
        """Upstream PG::merge_from: fold `sources` (PGs our shrunk pool no longer has) into
        us. Their objects join our collection; the merged log starts empty at the newer
        head, keeping every request as a dup (pyceph.osd.merge). `current`: this OSD's
        copies held all the primary reported ready with; otherwise (or with anything
        missing) we are marked behind, at version 0, so peering backfills us. Returns the
        transaction (the caller queues it after everything queued for us and them)."""
        t = Transaction()
        bits = split.split_bits(self.ps, pg_num)
        for src in sources:
            if src.shard == self.shard:
                t.merge_collection(src.cid, self.cid, bits)
            else:  # another shard of an erasure-coded PG: useless here
                current = False
                _drop_collection(self.svc.store, t, src.cid)
        everyone = [self, *sources]
        complete = current and not any(pg.peering.missing for pg in everyone)
        head = max(pg.info.last_update for pg in everyone) if complete else ZERO
        dups = merge.merged_dups(
            [list(pg.log.dups.values()) for pg in everyone], [pg.log.entries for pg in everyone]
        )
        pgmeta.remove_all_entries(t, self.cid)
        pgmeta.clear_missing(t, self.cid)
        pgmeta.write_dups(t, self.cid, dups)
        self.log.reset(head, [])
        self.log.dups.clear()
        for d in dups:
            self.log.dups[d.reqid] = d
        self.peering.missing.clear()
        info = self.info
        info.last_update = info.last_complete = info.log_tail = head
        info.last_user_version = max(pg.info.last_user_version for pg in everyone)
        info.last_epoch_started = max(pg.info.last_epoch_started for pg in everyone)
        info.last_epoch_clean = max(pg.info.last_epoch_clean for pg in everyone)
        info.stats = {}
        pgmeta.write_info(t, self.cid, info)
        return t

    def set_premerge(self, on: bool) -> None:
        """A pending shrink merges us (or no longer does): hold client ops meanwhile."""
        if on != self.premerge:
            self.premerge = on
            if not on:
                self._kick()

    def merge_peer(self) -> merge.MergePeer:
        """What the ready-to-merge decision needs of us (pyceph.osd.merge)."""
        v = self.peering.view
        clean = self.state == ACTIVE and self._activated_gen == self.gen and self.peering.is_clean()
        return merge.MergePeer(
            self.is_primary,
            clean,
            self.premerge and not self._ops_running and not self._local_inflight,
            # an erasure-coded PG compares positions (shard ids): the merged shards align
            (v.shards or v.acting) if v is not None else (),
            self.info.last_update,
            self.info.last_epoch_started,
            self.info.last_epoch_clean,
        )

    def merged_away(self) -> None:
        """The OSD folded us into our merge target: we are gone. Ops waiting on us, or
        running, answer "retry" (the client resends to the target with a newer map)."""
        self.removed = True
        self.peering.state = DELETED
        self._bump_interval()
        self._kick()

    async def race(self, aw: Any, gen: int) -> Any:
        """Await `aw` unless the interval changes first (then IntervalChanged).

        `aw` is this call's to finish: whatever way the call ends (result, interval change,
        the caller cancelled), `aw` has ended and its outcome has been collected."""
        if gen != self.gen:
            _discard(aw)
            raise IntervalChanged
        fut = asyncio.ensure_future(aw)
        ifut = self._interval_fut
        try:
            done, _ = await asyncio.wait({fut, ifut}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await _reap([fut])
            raise
        if fut in done:
            return fut.result()
        await _reap([fut])
        raise IntervalChanged

    async def peer_call(
        self, osd: int, mtype: str, head: dict[str, Any], gen: int, data: bytes | memoryview = b""
    ) -> Message:
        """Call a peer, retrying while the interval lasts; ESTALE-style refusals return."""
        while True:
            if gen != self.gen:
                raise IntervalChanged
            try:
                return await self.race(self.svc.call_osd(osd, mtype, dict(head), data), gen)
            except CephError as e:
                log.debug("pg %s: %s to osd.%s failed: %s", self.pgid, mtype, osd, e)
            await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)

    def peer_head(self, **kw: Any) -> dict[str, Any]:
        return {
            "pgid": self.pgid,
            "epoch": self.svc.map_epoch,
            "sis": self.info.same_interval_since,
            **kw,
        }

    # -- peering I/O (primary) ----------------------------------------------------------
    async def _query(self, osd: int, gen: int) -> None:
        try:
            while True:
                reply = await self.peer_call(osd, "pg_query", self.peer_head(), gen)
                if reply.head.get("r", 0) == 0:
                    break
                await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
            h = reply.head
            info = PGInfo.from_wire(h["info"])
            entries = [LogEntry.from_wire(w) for w in h.get("entries", [])]
            missing = {oid_of(o): ver(v) for o, v in h.get("missing", [])}
            if gen == self.gen:
                shard = h.get("shard")
                shard = None if shard is None else int(shard)
                self.run_effects(self.peering.on_info(osd, info, entries, missing, shard))
        except IntervalChanged:
            return

    async def _list_objects(self, osd: int, gen: int) -> dict[Oid, Version]:
        """Every head object of this PG on `osd` with its version (backfill)."""
        if osd == self.svc.whoami:
            return self.local_listing()
        out: dict[Oid, Version] = {}
        cursor = None
        while True:
            r = await self.peer_call(osd, "pg_list", self.peer_head(cursor=cursor), gen)
            for o, v in r.head.get("entries", []):
                out[oid_of(o)] = ver(v)
            cursor = r.head.get("cursor")
            if cursor is None:
                return out

    def local_listing(self) -> dict[Oid, Version]:
        out: dict[Oid, Version] = {}
        store = self.svc.store
        if not store.collection_exists(self.cid):
            return out
        start: ObjectKey | None = None
        while True:
            keys, nxt = store.collection_list(self.cid, start, BACKFILL_LIST_PAGE)
            for k in keys:
                if not _is_listed(k):
                    continue
                oi = load_oi(store, self.cid, k)
                v = oi.version if oi else ZERO
                o = key_oid(k)
                out[o] = max(out.get(o, ZERO), v)
            if nxt is None:
                return out
            start = nxt

    async def _activate(self, act: Activate, gen: int) -> None:
        try:
            await self.race(self.in_store(), gen)  # backfill listings read the store
            backfills = [p for p in [act.own, *act.replicas] if p.backfill]
            if backfills:
                ref = await self._list_objects(act.auth, gen)
                auth_missing = (
                    dict(self.peering.replies[act.auth].missing)
                    if (act.auth in self.peering.replies)
                    else dict(self.peering.missing)
                )
                for p in backfills:
                    resharded = p.shard is not None and p.shard != self.peering.held_shard(p.osd)
                    have = {} if resharded else await self._list_objects(p.osd, gen)
                    p.missing = {o: v for o, v in ref.items() if have.get(o) != v}
                    p.missing.update(auth_missing)
                    p.deletes = set(have) - set(ref)
                    if p.osd != self.svc.whoami:
                        self.peering.peer_missing[p.osd] = dict(p.missing)
                        d = self.peering.peer_diffs.get(p.osd)
                        if d is not None:
                            d.backfill = False
                            d.missing = dict(p.missing)
            # Our own part, durably, before anyone else hears of the new log.
            await self._local_idle.wait()
            if gen != self.gen:
                return
            t = Transaction()
            if act.own.shard is not None and act.own.shard != self.shard:
                t.append(self._reshard_txn(act.own.shard))
            t.append(self.apply_plan(act.own, act.tail, act.epoch, self.info.same_interval_since))
            self.peering.activation_applied(act)
            await self.commit(t)
            self._activated_gen = gen
            self._activated_ev.set()
            self._kick()  # ops that arrived while the activation committed may run now
            wire_info = self.info.to_wire()

            async def one(p: ActivatePlan) -> None:
                head = self.peer_head(
                    info=wire_info,
                    les=act.epoch,
                    backfill=p.backfill,
                    common=list(p.common),
                    tail=list(act.tail),
                    entries=[e.to_wire() for e in p.entries],
                    missing=[[list(o), list(v)] for o, v in p.missing.items()],
                    deletes=[list(o) for o in p.deletes],
                    shard=p.shard,
                    rollback=[list(v) for v in p.rollback],
                )
                while True:
                    r = await self.peer_call(p.osd, "pg_activate", head, gen)
                    if r.head.get("r", 0) == 0:
                        break
                    await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                if gen == self.gen:
                    self.run_effects(self.peering.on_activated(p.osd))

            await asyncio.gather(*(one(p) for p in act.replicas))
        except IntervalChanged:
            return

    def apply_plan(self, p: ActivatePlan, tail: Version, les: int, sis: int) -> Transaction:
        """Rewind/extend our log to the authoritative one, delete what must go, record
        what we miss; update memory now and return the transaction making it durable."""
        t = Transaction()
        cid = self.cid
        if p.backfill:
            for e in self.log.entries:
                if e.rollback is not None:
                    t.append(ec_rollback.forget(e.rollback, cid))
            self.log.reset(tail, [e.without_rollback() for e in p.entries])
            pgmeta.remove_all_entries(t, cid)
            for e in self.log.entries:
                pgmeta.write_entry(t, cid, e)
        else:
            if self.log.head > p.common:
                # divergent entries, newest first: undone in place when the plan says so
                # (upstream _merge_object_divergent_entries), else their stash dropped
                undo = set(p.rollback)
                for e in reversed(self.log.entries_after(p.common)):
                    if e.rollback is None:
                        continue
                    if e.version in undo:
                        log.info("pg %s: rolling back %s of %s", self.pgid, e.version, e.oid)
                        t.append(ec_rollback.undo(e.rollback, cid))
                    else:
                        t.append(ec_rollback.forget(e.rollback, cid))
                self.log.rewind_to(p.common)
                pgmeta.remove_entries(t, cid, p.common)
            for e in p.entries:
                if e.version > self.log.head:
                    e = e.without_rollback()
                    self.log.append(e)
                    pgmeta.write_entry(t, cid, e)
        # every member now holds the log up to its head: nothing in it is undone again
        self._rolled_to = self.log.tail
        self._roll_forward(t, self.log.head)
        self._committed.reset(self.log.head)
        store = self.svc.store
        for oid in p.deletes:
            for k in object_keys(store, cid, object_key(self.pool, oid)):
                t.remove(cid, k)
        pgmeta.clear_missing(t, cid)
        for oid, v in p.missing.items():
            pgmeta.write_missing(t, cid, oid, v)
        self.peering.missing = dict(p.missing)
        self.info.last_update = self.log.head
        self.info.log_tail = self.log.tail
        self.info.last_complete = self.log.head if not p.missing else self.info.last_complete
        self.info.last_epoch_started = les
        self.info.same_interval_since = sis
        self.info.last_user_version = max(
            [self.info.last_user_version] + [e.user_version for e in self.log.entries]
        )
        pgmeta.write_info(t, cid, self.info)
        return t

    async def _remove_stray(self, osd: int, gen: int) -> None:
        try:
            await self.peer_call(osd, "pg_remove", self.peer_head(), gen)
        except IntervalChanged:
            pass

    async def remove_self(self) -> None:
        """Delete this PG's collection (pool deleted, or told we are a stale stray)."""
        await self._local_idle.wait()
        store = self.svc.store
        if not store.collection_exists(self.cid):
            self.removed = True
            return
        while True:
            keys, _nxt = store.collection_list(self.cid, None, BACKFILL_LIST_PAGE)
            if not keys:
                break
            t = Transaction()
            for k in keys:
                t.remove(self.cid, k)
            await self.svc.store.queue_transaction(t)
        await self.svc.store.queue_transaction(Transaction().remove_collection(self.cid))
        self.removed = True

    # -- snap trimming (primary) -----------------------------------------------------------
    def _removed_snaps(self) -> frozenset[int]:
        osdmap = getattr(self.svc, "osdmap", None)
        pool = osdmap.pools.get(self.pool) if osdmap is not None else None
        return frozenset(int(s) for s in (getattr(pool, "removed_snaps", None) or ()))

    def _maybe_trim(self) -> None:
        """Start the snap trimmer when the pool removed snaps we have not trimmed yet."""
        if not self.is_primary or self.state != ACTIVE or self.tasks.closed:
            return
        if not (self._removed_snaps() - self._trimmed):
            return
        if self._trimmer is None or self._trimmer.done():
            self._trimmer = self.tasks.spawn(self._snap_trim(self.gen), f"{self.pgid} snaptrim")

    async def _snap_trim(self, gen: int) -> None:
        """upstream SnapTrimmer: delete the clones only removed snaps needed, one object at a
        time through the PG log (replicas do the same); ends when caught up with the map."""
        try:
            while True:
                await self.race(self._activated_ev.wait(), gen)
                removed = self._removed_snaps()
                if not (removed - self._trimmed):
                    return
                done = True
                for oid in await self._objects_with_clones():
                    async with self._object_lock(oid):
                        done = await self._trim_one(oid, removed, gen) and done
                if done:
                    self._trimmed = removed
                else:
                    await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
        except IntervalChanged:
            return

    async def _objects_with_clones(self) -> list[Oid]:
        store = self.svc.store
        out: dict[Oid, None] = dict.fromkeys(self.peering.missing)
        start: ObjectKey | None = None
        while store.collection_exists(self.cid):
            keys, nxt = store.collection_list(self.cid, start, BACKFILL_LIST_PAGE)
            for k in keys:
                if k.snap != HEAD and not is_stash(k):
                    out[key_oid(k)] = None
            if nxt is None:
                break
            start = nxt
            await asyncio.sleep(0)
        return list(out)

    async def _trim_one(self, oid: Oid, removed: frozenset[int], gen: int) -> bool:
        """Trim one object (caller holds its lock); False if it could not be done now."""
        if gen != self.gen:
            raise IntervalChanged
        me = self.svc.whoami
        if oid in self.peering.missing:
            await self._recover_one(me, oid, gen)
            if oid in self.peering.missing:
                return False
        await self._recover_on_peers(oid, gen)
        old_v = self.object_version(oid)
        prev = self.log.head
        version: Version = (self.svc.map_epoch, prev[1] + 1)

        def stamp(b: bytes) -> bytes:
            oi = ObjectInfo.decode(b)
            oi.version = version
            return oi.encode()

        r = trim_txn(
            self.svc.store, self.cid, object_key(self.pool, oid), set(removed), OI_ATTR, stamp
        )
        if r is None:
            return True
        txn, gone = r
        uv = self.info.last_user_version
        entry = LogEntry(DELETE if gone else MODIFY, oid, version, old_v or ZERO, None, uv, 0)
        await self._submit(entry, txn, prev, gen)
        return True

    # -- recovery (primary) ---------------------------------------------------------------
    def _start_recovery(self) -> None:
        if self.is_primary and (self._recovery is None or self._recovery.done()):
            self._recovery = self.tasks.spawn(self._recover_all(self.gen), f"{self.pgid} recovery")

    async def _recover_all(self, gen: int) -> None:
        """Recover the acting set from the logs' missing sets once reserved (upstream
        WaitLocal/RemoteRecoveryReserved, Recovering), then backfill the targets once
        reserved again at backfill priority (WaitLocal/RemoteBackfillReserved,
        Backfilling). A preempted reservation stops between objects and queues again."""
        me = self.svc.whoami
        try:
            while gen == self.gen:
                pe = self.peering
                targets = pe.backfill_targets
                rec = [(me, o) for o in list(pe.missing)]
                bf: list[tuple[int, Oid]] = []
                for osd, m in sorted(pe.peer_missing.items()):
                    (bf if osd in targets else rec).extend((osd, o) for o in list(m))
                kind = RESERVE_RECOVERY if rec else RESERVE_BACKFILL if bf else None
                if kind is None:
                    await self._release_reservations(gen)
                    return
                if self._held != kind:
                    await self._release_reservations(gen)
                    if not await self._reserve(kind, gen):
                        continue  # refused (toofull): waited, start over
                for osd, oid in rec or bf:
                    if self._preempted:
                        break
                    async with self._object_lock(oid):
                        await self._recover_one(osd, oid, gen)
                    pause = self.svc.opts.recovery_sleep  # runtime changes apply at once
                    if pause > 0:  # osd_recovery_sleep: recovery yields to client I/O
                        await self.race(self.svc.runtime.clock.sleep(pause), gen)
                if self._preempted:
                    log.info("pg %s: %s reservation preempted", self.pgid, kind)
                    await self._release_reservations(gen)
        except IntervalChanged:
            return

    def reservation_priority(self, kind: str) -> int:
        """This PG's priority for a `kind` reservation (upstream get_recovery_priority /
        get_backfill_priority, with the pool's recovery_priority option)."""
        pe = self.peering
        v = pe.view
        osdmap = getattr(self.svc, "osdmap", None)
        pool = osdmap.pools.get(self.pool) if osdmap is not None else None
        pool_prio = int(getattr(pool, "options", {}).get("recovery_priority", 0) or 0)
        size = v.size if v is not None else 1
        min_size = v.min_size if v is not None else 1
        acting = list(v.acting) if v is not None else []
        if kind == RESERVE_RECOVERY:
            complete = sum(
                1
                for o in acting
                if not (pe.missing if o == self.svc.whoami else pe.peer_missing.get(o))
            )
            return recovery_priority(min_size, complete, pool_prio)
        degraded = bool(pe.missing) or any(
            pe.peer_missing.get(o) for o in acting if o != self.svc.whoami
        )
        return backfill_priority(size, min_size, len(acting), degraded, pool_prio)

    def _on_preempt(self, gen: int) -> None:
        if gen == self.gen:
            self._preempted = True

    async def _reserve(self, kind: str, gen: int) -> bool:
        """Our local slot, then each peer's remote slot (in OSD order, so two primaries
        never wait on each other): every other acting (and backfill) OSD for log
        recovery, the targets for backfill. False when a backfill target is too full:
        we then release, wait osd_backfill_retry_interval and the caller starts over."""
        recovery = kind == RESERVE_RECOVERY
        if recovery:
            self.recovery_state = RECOVERY_WAIT
        else:
            self.backfill_state = BACKFILL_WAIT
        prio = self.reservation_priority(kind)
        self._preempted = False
        self._held = kind
        await self.race(
            self.svc.local_reserver.reserve(self.pgid, prio, lambda: self._on_preempt(gen)), gen
        )
        pe = self.peering
        peers = pe.acting_backfill_replicas if recovery else pe.backfill_targets
        for t in sorted(set(peers)):
            while True:
                head = self.peer_head(op="request", kind=kind, prio=prio)
                r = await self.peer_call(t, "backfill_reserve", head, gen)
                rc = r.head.get("r", 0)
                if rc == 0:
                    self._remote_held.append(t)
                    break
                if rc == -errno.ENOSPC:
                    log.info("pg %s: osd.%s too full for backfill", self.pgid, t)
                    await self._release_reservations(gen)
                    self.backfill_state = BACKFILL_TOOFULL
                    await self.race(
                        self.svc.runtime.clock.sleep(self.svc.opts.backfill_retry_interval), gen
                    )
                    self.backfill_state = BACKFILL_WAIT
                    return False
                await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
        if recovery:
            self.recovery_state = RECOVERING
        else:
            self.backfill_state = BACKFILLING
        return True

    async def _release_reservations(self, gen: int) -> None:
        """Give back our local slot and the peers' remote ones (each release answered
        before a later request of ours can reach that peer)."""
        self.svc.local_reserver.release(self.pgid)
        self.recovery_state = RECOVERY_WAIT
        self.backfill_state = BACKFILL_WAIT
        self._held = None
        self._preempted = False
        held, self._remote_held = self._remote_held, []
        for t in held:
            await self.peer_call(t, "backfill_reserve", self.peer_head(op="release"), gen)

    async def handle_backfill_reserve(self, head: dict[str, Any], sender: int) -> dict[str, Any]:
        """A replica or backfill target: grant our remote slot (once one is free, by the
        primary's priority), refuse a backfill when too full, or release the primary's
        remote reservation (upstream MRecoveryReserve / MBackfillReserve). The primary:
        a replica took its slot back for a higher priority (REVOKE)."""
        if head.get("op") == "revoke":
            if self.is_primary and int(head.get("sis", -1)) == self.info.same_interval_since:
                log.info("pg %s: osd.%s revoked its reservation", self.pgid, sender)
                self._preempted = True
            return {"r": 0}
        if self.stale(head, sender):
            return {"r": -ESTALE}
        if head.get("op") == "release":
            self.svc.remote_reserver.release(self.pgid)
            return {"r": 0}
        backfill = head.get("kind", RESERVE_BACKFILL) == RESERVE_BACKFILL
        if backfill and self.svc.backfill_toofull():
            return {"r": -errno.ENOSPC}
        prio = int(head.get("prio", 0))
        gen = self.gen

        def preempted() -> None:
            if gen == self.gen:
                self.tasks.spawn(self._revoke(sender, gen), f"{self.pgid} revoke")

        try:
            await self.race(self.svc.remote_reserver.reserve(self.pgid, prio, preempted), gen)
        except IntervalChanged:
            return {"r": -ESTALE}
        return {"r": 0}

    async def _revoke(self, primary: int, gen: int) -> None:
        """Tell the primary our remote slot went to a higher-priority PG."""
        try:
            await self.peer_call(primary, "backfill_reserve", self.peer_head(op="revoke"), gen)
        except IntervalChanged:
            pass  # the primary's own interval change ended its reservation

    async def _recover_on_peers(self, oid: Oid, gen: int) -> None:
        """Recover `oid` on every peer that misses it, before a write touches it (upstream
        wait_for_degraded_object). The peers' missing sets change while one recovers (a
        peer completes, a new interval clears them): each is looked up afresh."""
        for osd in list(self.peering.peer_missing):
            if gen != self.gen:
                raise IntervalChanged
            if oid in self.peering.peer_missing.get(osd, ()):
                await self._recover_one(osd, oid, gen)

    async def _recover_one(self, osd: int, oid: Oid, gen: int) -> None:
        """Bring `oid` on `osd` (maybe us) to our state; caller holds the object lock."""
        if gen != self.gen:
            raise IntervalChanged
        if self.ec is not None:
            await self.ec.recover_one(osd, oid, gen)
            return
        me = self.svc.whoami
        if osd == me:
            if oid not in self.peering.missing:
                return
            sources = self.peering.missing_loc(oid)
            if not sources:
                log.warning("pg %s: %s unfound", self.pgid, oid)
                await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                return
            r = await self.peer_call(sources[0], "pg_pull", self.peer_head(oid=list(oid)), gen)
            if r.head.get("r", 0) != 0:
                await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                return
            t = self.object_txn(oid, r.head, r.data)
            pgmeta.write_missing(t, self.cid, oid, None)
            if gen != self.gen:
                raise IntervalChanged
            self.peering.missing.pop(oid, None)
            await self.commit(t)
            self.run_effects(self.peering.on_recovered(me, oid))
            return
        if oid not in self.peering.peer_missing.get(osd, {}):
            return
        if oid in self.peering.missing:
            await self._recover_one(me, oid, gen)
            if oid in self.peering.missing:
                return
        head, data = self.object_payload(oid)
        r = await self.peer_call(osd, "pg_push", self.peer_head(**head), gen, data)
        if r.head.get("r", 0) == 0 and gen == self.gen:
            self.run_effects(self.peering.on_recovered(osd, oid))

    def object_payload(self, oid: Oid) -> tuple[dict[str, Any], bytes]:
        """The whole state of a local object (head, snapdir and clones), for a push or a
        pull reply."""
        store = self.svc.store
        keys = object_keys(store, self.cid, object_key(self.pool, oid))
        head: dict[str, Any] = {"oid": list(oid), "r": 0, "exists": bool(keys)}
        objs: list[dict[str, Any]] = []
        datas: list[bytes] = []
        for k in keys:
            d = store.read(self.cid, k)
            datas.append(d)
            objs.append(
                {
                    "snap": k.snap,
                    "dlen": len(d),
                    "attrs": {n: bytes(v) for n, v in store.getattrs(self.cid, k).items()},
                    "omap_header": bytes(store.omap_get_header(self.cid, k)),
                    "omap": [[n, bytes(v)] for n, v in store.omap_get_values(self.cid, k)],
                }
            )
        head["objs"] = objs
        return head, b"".join(datas)

    def object_txn(self, oid: Oid, head: dict[str, Any], data: bytes | memoryview) -> Transaction:
        """A transaction making the local object equal to a pushed/pulled state."""
        t = Transaction()
        hk = object_key(self.pool, oid)
        for k in object_keys(self.svc.store, self.cid, hk):
            t.remove(self.cid, k)
        if not head.get("exists"):
            return t
        mv = memoryview(data)
        pos = 0
        for o in head.get("objs") or []:
            k = snap_key(hk, int(o["snap"]))
            n = int(o.get("dlen", 0))
            t.touch(self.cid, k)
            if n:
                t.write(self.cid, k, 0, bytes(mv[pos : pos + n]))
            pos += n
            attrs = dict(o.get("attrs", {}))
            if attrs:
                t.setattrs(self.cid, k, attrs)
            if o.get("omap_header"):
                t.omap_setheader(self.cid, k, o["omap_header"])
            if o.get("omap"):
                t.omap_setkeys(self.cid, k, {n: v for n, v in o["omap"]})
        return t

    # -- scrub (primary) --------------------------------------------------------------------
    def request_scrub(self, deep: bool, repair: bool) -> bool:
        """Start a scrub (upstream PG::scrub_requested); False when not primary+active.

        A request while one runs is queued (upstream must_scrub/must_deep_scrub)."""
        if not self.is_primary or self.state != ACTIVE or self.tasks.closed:
            return False
        sc = self.scrub
        if self._scrubber is not None and not self._scrubber.done():
            q = sc.queued or (False, False)
            sc.queued = (q[0] or deep or repair, q[1] or repair)
            return True
        sc.queued = None
        sc.active = "deep" if deep or repair else "shallow"  # counts against osd_max_scrubs now
        self._scrubber = self.tasks.spawn(
            self._run_scrub(deep or repair, repair, self.gen), f"{self.pgid} scrub"
        )
        return True

    async def _run_scrub(self, deep: bool, repair: bool, gen: int) -> None:
        sc = self.scrub
        try:
            while True:
                sc.active, sc.repair = ("deep" if deep else "shallow"), repair
                await self._scrub(deep, repair, gen)
                if sc.queued is None:
                    return
                deep, repair = sc.queued
                sc.queued = None
        except IntervalChanged:
            sc.queued = None  # upstream: a new interval aborts the scrub
        finally:
            sc.active, sc.repair = None, False

    async def _scrub(self, deep: bool, repair: bool, gen: int) -> None:
        """upstream chunky scrub: per chunk of objects, with those objects' writes held,
        gather every acting OSD's scrub map, compare, and repair when asked."""
        sc = self.scrub
        await self.race(self._activated_ev.wait(), gen)
        while not self.peering.is_clean():  # upstream scrubs only active+clean PGs
            await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
        v = self.peering.view
        if v is None:
            return
        acting = [o for o in v.acting if o >= 0]
        shards = {o: i for i, o in enumerate(v.shards) if o >= 0} if self.ec else None
        opts: ScrubOptions = getattr(self.svc, "scrub_opts", None) or ScrubOptions()
        oids: set[Oid] = set()
        for osd in acting:
            oids |= set(await self._list_objects(osd, gen))
        order = sorted(oids)
        result = ScrubResult()
        step = max(1, opts.chunk_max)
        for i in range(0, len(order), step):
            chunk = order[i : i + step]
            res = await self._scrub_chunk(chunk, acting, shards, deep, gen)
            auto = (
                opts.auto_repair
                and deep
                and res.errors
                and res.errors <= opts.auto_repair_num_errors
            )
            if res.errors and (repair or auto):
                await self._repair_chunk(res, gen)
                res = await self._scrub_chunk(chunk, acting, shards, deep, gen)
            result.merge(res)
        now = self.svc.runtime.clock.now()
        sc.finish(result, deep, self.info.last_update, now, self.svc.map_epoch)

    async def _scrub_chunk(
        self,
        chunk: list[Oid],
        acting: list[int],
        shards: dict[int, int] | None,
        deep: bool,
        gen: int,
    ) -> ScrubResult:
        me = self.svc.whoami
        async with contextlib.AsyncExitStack() as stack:
            for oid in chunk:
                await stack.enter_async_context(self._object_lock(oid))
            if gen != self.gen:
                raise IntervalChanged
            maps = {}
            for osd in acting:
                if osd == me:
                    maps[osd] = build_scrub_map(self.svc.store, self.cid, self.pool, chunk, deep)
                    continue
                head = self.peer_head(scrub={"oids": [list(o) for o in chunk], "deep": deep})
                r = await self.peer_call(osd, "pg_list", head, gen)
                if r.head.get("r", 0) != 0:
                    raise IntervalChanged  # the replica left the interval: start over
                maps[osd] = map_from_wire(r.head.get("map") or [])
            if deep and self.ec is not None and shards is not None:
                for oid in chunk:
                    await self._ec_check(oid, maps, shards, gen)
        return compare_maps(maps, me, self.pool, shards)

    async def _ec_check(
        self, oid: Oid, maps: dict[int, Any], shards: dict[int, int], gen: int
    ) -> None:
        """Deep scrub of an EC object: read every shard and flag the ones that do not
        agree with what the others decode to (`ScrubObject.ec_hash_error`)."""
        assert self.ec is not None
        me = self.svc.whoami
        datas: dict[int, dict[int, bytes]] = {}  # osd -> {snap: bytes}
        for osd in shards:
            if osd == me:
                try:
                    head, data = self.object_payload(oid)
                except StoreError:
                    continue  # our read error is already in the map
            else:
                r = await self.peer_call(osd, "pg_pull", self.peer_head(oid=list(oid)), gen)
                if r.head.get("r", 0) != 0:
                    continue
                head, data = dict(r.head), bytes(r.data)
            datas[osd] = split_payload(head, data)
        for key, obj in list(maps.get(me, {}).items()):
            if (key[0], key[1], key[2]) != oid or key[3] == SNAPDIR:
                continue
            oi = _oi_of(obj.attrs)
            if oi is None or not oi.size:
                continue
            have = {shards[o]: d[key[3]] for o, d in datas.items() if key[3] in d}
            for bad in ec_inconsistent_shards(self.ec.codec, have, oi.size):
                osd = next(o for o, sh in shards.items() if sh == bad)
                if key in maps.get(osd, {}):
                    maps[osd][key].ec_hash_error = True

    async def _repair_chunk(self, res: ScrubResult, gen: int) -> None:
        """Copy each bad object's authoritative version over the bad copies, through the
        recovery push path (upstream repair_object + recovery)."""
        done: set[tuple[Oid, int]] = set()
        for obj, auth, bad in res.repair_plan():
            oid: Oid = (obj[0], obj[1], obj[2])
            targets = [o for o in bad if (oid, o) not in done]
            if not targets:
                continue
            done |= {(oid, o) for o in targets}
            async with self._object_lock(oid):
                await self._repair_object(oid, auth, targets, gen)

    async def _repair_object(self, oid: Oid, auth: int, targets: list[int], gen: int) -> None:
        me = self.svc.whoami
        if self.ec is not None:
            # rebuild the bad shards from the good ones, as recovery does a missing one
            v = self.object_version(oid) or ZERO
            for osd in targets:
                if osd == me:
                    self.peering.missing[oid] = v
                else:
                    self.peering.peer_missing.setdefault(osd, {})[oid] = v
                await self.ec.recover_one(osd, oid, gen)
            return
        if auth == me:
            head, data = self.object_payload(oid)
        else:
            r = await self.peer_call(auth, "pg_pull", self.peer_head(oid=list(oid)), gen)
            if r.head.get("r", 0) != 0:
                return
            head, data = dict(r.head), bytes(r.data)
        for osd in targets:
            if osd == me:
                await self.commit(self.object_txn(oid, head, data))
            else:
                await self.peer_call(osd, "pg_push", self.peer_head(**head), gen, data)

    async def _repair_local(self, oid: Oid, gen: int) -> bool:
        """Our copy of `oid` failed a checksum: pull it from the first replica whose copy
        reads back whole and rewrite ours (caller holds the object lock)."""
        v = self.peering.view
        for osd in [o for o in (v.acting if v else []) if o >= 0 and o != self.svc.whoami]:
            r = await self.peer_call(osd, "pg_pull", self.peer_head(oid=list(oid)), gen)
            if r.head.get("r", 0) == 0:
                log.warning("pg %s: %s failed its checksum here; recovered from osd.%s",
                            self.pgid, oid, osd)  # fmt: skip
                await self.commit(self.object_txn(oid, dict(r.head), bytes(r.data)))
                return True
        return False

    def handle_scrub_map(self, head: dict[str, Any], sender: int) -> dict[str, Any]:
        """A replica's scrub map of the objects the primary names (upstream MOSDRepScrub;
        carried by `pg_list` with a ``scrub`` field: {"oids": [...], "deep": bool})."""
        if self.stale(head, sender):
            return {"r": -ESTALE}
        req = dict(head.get("scrub") or {})
        oids = [oid_of(o) for o in req.get("oids") or []]
        m = build_scrub_map(self.svc.store, self.cid, self.pool, oids, bool(req.get("deep")))
        return {"r": 0, "map": [[list(k), o.to_wire()] for k, o in sorted(m.items())]}

    # -- object ordering -----------------------------------------------------------------
    @asynccontextmanager
    async def _object_lock(self, oid: Oid) -> Any:
        ent = self._locks.get(oid)
        if ent is None:
            ent = self._locks[oid] = [asyncio.Lock(), 0]
        ent[1] += 1
        try:
            async with ent[0]:
                yield
        finally:
            ent[1] -= 1
            if not ent[1]:
                self._locks.pop(oid, None)

    # -- client ops ------------------------------------------------------------------------
    def _retry(self) -> tuple[dict[str, Any], bytes]:
        return {"r": -EAGAIN, "retry": self.svc.map_epoch, "epoch": self.svc.map_epoch}, b""

    async def do_op(
        self, head: dict[str, Any], data: bytes | memoryview, conn: Any = None
    ) -> tuple[dict[str, Any], bytes]:
        """Run a client op to completion; returns the reply head and data.

        `conn` is the client's connection (watches are tied to it; None in unit tests)."""
        waited = False
        while True:
            if not self.is_primary or self.state == DELETED:
                return self._retry()
            if waited and self.misdirected(head):
                return self._retry()  # a split moved the object while the op waited
            waited = True
            if self.state != ACTIVE or self._activated_gen != self.gen or self.premerge:
                if self._waiting >= MAX_WAITING_OPS_PER_PG:
                    return {"r": -EAGAIN, "epoch": self.svc.map_epoch}, b""
                self._waiting += 1
                try:
                    await self._wake.wait()
                finally:
                    self._waiting -= 1
                continue
            try:
                self._ops_running += 1
                try:
                    return await self._do_op_active(head, data, self.gen, conn)
                finally:
                    self._ops_running -= 1
                    if self.premerge and not self._ops_running:
                        self.svc.merge_quiesced()
            except IntervalChanged:
                continue

    def misdirected(self, head: dict[str, Any]) -> bool:
        """Does the op's object fold into another PG under our map? (Upstream drops a
        misdirected op; we answer "retry" so the client resends with a newer map.)"""
        v = self.peering.view
        name = head.get("oid")
        ops = head.get("ops") or []
        if v is None or not v.pg_num or name is None or (ops and ops[0][0] in PG_OPS):
            return False
        oid = (str(head.get("nspace") or ""), str(name), str(head.get("key") or ""))
        return split.pg_of(oid, v.pg_num) != self.ps

    async def _do_op_active(
        self, head: dict[str, Any], data: bytes | memoryview, gen: int, conn: Any = None
    ) -> tuple[dict[str, Any], bytes]:
        ops = list(head.get("ops", []))
        if ops and ops[0][0] in PG_OPS:
            return self._pgls(dict(ops[0][1] or {}))
        oid: Oid = (str(head.get("nspace") or ""), str(head["oid"]), str(head.get("key") or ""))
        write = is_write(ops)
        async with self._object_lock(oid):
            if gen != self.gen:
                raise IntervalChanged
            if oid in self.peering.missing:
                await self._recover_one(self.svc.whoami, oid, gen)
                if oid in self.peering.missing:
                    raise IntervalChanged  # unfound for now: wait and retry
            env = self._op_env(head, conn, oid)
            if env.snapid == HEAD and any(o[0] in _WATCH_STATE_OPS for o in ops):
                self._restore_watchers(oid)
                env.watchers = self.watch.view(oid)
            if write:
                await self._recover_on_peers(oid, gen)
            if write:
                reply, res = await self._do_write(head, ops, data, oid, gen, env)
            elif self.ec is not None:
                need = self.ec.need_data(ops)
                try:
                    scratch = await self.ec.materialize(oid, gen, need)
                except StoreError as e:
                    if e.errno != errno.EIO:
                        raise
                    # our shard fails its checksum: rebuild it from the others first
                    await self._repair_object(oid, -1, [self.svc.whoami], gen)
                    scratch = await self.ec.materialize(oid, gen, need)
                reply, res = self._do_read(ops, data, oid, env, scratch)
            else:
                reply, res = self._do_read(ops, data, oid, env)
                # a checksum failed: never return those bytes; recover our copy from a good
                # replica and read again (upstream rep_repair_primary_object)
                if res.r == -errno.EIO and await self._repair_local(oid, gen):
                    env = self._op_env(head, conn, oid)
                    reply, res = self._do_read(ops, data, oid, env)
            notifies = self._apply_effects(oid, res, env, conn) if res is not None else []
        # Notifies wait for the watchers' acks outside the object lock: a watcher's callback
        # may well operate on the object (and its ack is an op on it).
        for idx, n, timeout in notifies:
            await self._finish_notify(reply[0], idx, n, timeout, gen)
        return reply

    def _reply(
        self, r: int, outs: list[dict[str, Any]], uv: int, outdata: list[bytes]
    ) -> tuple[dict[str, Any], bytes]:
        return {"r": r, "epoch": self.svc.map_epoch, "version": uv, "ops": outs}, b"".join(outdata)

    # -- watch / notify ----------------------------------------------------------------------
    def _op_env(self, head: dict[str, Any], conn: Any, oid: Oid) -> OpEnv:
        """Who sent the op and what it may see of the PG (cls origin, watchers, ...)."""
        rq = head.get("reqid") or ["client.?", 0, 0]
        peer = getattr(conn, "peer", None)
        gid = int(getattr(peer, "global_id", 0) or 0)
        if not gid:  # no authenticated connection (in-process tests): trust the op
            for o in head.get("ops") or []:
                a = o[1] if len(o) > 1 and o[1] else {}
                if a.get("gid"):
                    gid = int(a["gid"])
                    break
        name = f"client.{gid}" if gid else str(rq[0])
        peer_addr = getattr(conn, "peer_addr", None)
        host = peer_addr[0] if peer_addr else "0.0.0.0"
        osdmap = getattr(self.svc, "osdmap", None)
        pool = osdmap.pools.get(self.pool) if osdmap is not None else None
        return OpEnv(
            origin=Origin(name, f"{host}:0/{int(rq[1])}"),
            gid=gid,
            now=self.svc.runtime.clock.now(),
            flags=int(head.get("flags") or 0),
            supports_omap=getattr(pool, "type", 1) != _POOL_TYPE_ERASURE,
            aligned_append=self.ec.aligned_append if self.ec is not None else 0,
            current_version=self.info.last_user_version,
            watchers=self.watch.view(oid),
            watch_timeout=int(self.svc.opts.client_watch_timeout),
            snapid=int(head["snapid"]) if head.get("snapid") is not None else HEAD,
            snapc=snap_context(pool, head.get("snapc")),
            random_bytes=self.svc.runtime.rand.randbytes,
        )

    def _apply_effects(
        self, oid: Oid, res: OpResult, env: OpEnv, conn: Any
    ) -> list[tuple[int, Notify, float]]:
        """Apply a successful op's watch effects (upstream do_osd_op_effects); returns the
        notifies it started, to be awaited outside the object lock."""
        if res.r < 0 or not res.effects:
            return []
        now = self.svc.runtime.clock.now()
        notifies: list[tuple[int, Notify, float]] = []
        for eff in res.effects:
            kind = eff[0]
            if kind == "disconnect":
                self.watch.disconnect_object(oid)
            elif kind == "watch":
                a = eff[1]
                wop, cookie = str(a["op"]), int(a["cookie"])
                if wop in ("watch", "reconnect"):
                    timeout = float(a.get("timeout") or 0) or self.svc.opts.client_watch_timeout
                    self.watch.watch(oid, env.gid, cookie, timeout, env.origin.addr, conn, now)
                    self._start_reaper()
                elif wop == "ping":
                    self.watch.ping(oid, env.gid, cookie, now)
                elif wop == "unwatch":
                    self.watch.unwatch(oid, env.gid, cookie)
            elif kind == "notify":
                idx, a, payload = eff[1], eff[2], eff[3]
                secs = int(a.get("timeout_ms") or 0) // 1000
                timeout = float(secs) or self.svc.opts.default_notify_timeout
                n = self.watch.notify(oid, env.gid, payload, timeout, self.svc.map_epoch)
                if n is not None:
                    notifies.append((idx, n, timeout))
            elif kind == "notify_ack":
                a, payload = eff[1], eff[2]
                nid, cookie = int(a.get("notify_id") or 0), int(a.get("cookie") or 0)
                self.watch.ack(nid, env.gid, cookie, payload, now)
        return notifies

    async def _finish_notify(
        self, head: dict[str, Any], idx: int, n: Notify, timeout: float, gen: int
    ) -> None:
        """Wait for the watchers' acks (or the timeout) and put the result in the reply."""
        try:
            await self.race(asyncio.wait_for(asyncio.shield(n.done), timeout), gen)
        except TimeoutError:
            pass
        finally:
            self.watch.finish(n)
        acks, timeouts = n.result()
        outs = head.get("ops") or []
        if idx < len(outs):
            outs[idx]["acks"] = acks
            outs[idx]["timeouts"] = timeouts
            if timeouts:
                outs[idx]["r"] = -errno.ETIMEDOUT
        if timeouts:
            head["r"] = -errno.ETIMEDOUT

    def _restore_watchers(self, oid: Oid) -> None:
        """A watch or notify op is about to run on `oid`: load the watcher records of its
        object info this primary does not know yet as disconnected watchers (upstream
        populate_obc_watchers, on the first use of the object's context); the caller
        holds the object lock."""
        oi = load_oi(self.svc.store, self.cid, object_key(self.pool, oid))
        if oi is None or not oi.watchers:
            return
        if self.watch.restore(oid, oi.watchers, self.svc.runtime.clock.now()):
            # upstream check_blocklisted_obc_watchers: a dead client's record goes at once
            blocklist = getattr(getattr(self.svc, "osdmap", None), "blocklist", None)
            if blocklist:
                self.watch.drop_blocklisted(lambda addr: addr_blocklisted(blocklist, addr))
            self._start_reaper()

    def _start_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = self.tasks.spawn(self._reap_watchers(), f"{self.pgid} wr")

    async def _reap_watchers(self) -> None:
        """Remove the watchers that timed out, records and all (upstream Watch timeout)."""
        clock = self.svc.runtime.clock
        while self.watch:
            await clock.sleep(WATCH_REAP_INTERVAL)
            gen = self.gen
            for w in self.watch.expired(clock.now()):
                try:
                    await self._watch_timeout(w.oid, w.gid, w.cookie, gen)
                except IntervalChanged:
                    break  # the registry was reset with the interval

    async def _watch_timeout(self, oid: Oid, gid: int, cookie: int, gen: int) -> None:
        """Remove a silent watcher's record from the object info with a logged, replicated
        write, then forget it (upstream PrimaryLogPG::handle_watch_timeout)."""
        clock = self.svc.runtime.clock
        async with self._object_lock(oid):
            if gen != self.gen or self._activated_gen != gen or self.state != ACTIVE:
                raise IntervalChanged
            w = self.watch.get(oid, gid, cookie)
            if w is None or clock.now() - w.last_seen <= w.timeout:
                return  # reconnected or pinged while we waited for the lock
            log.info("pg %s: watch %s cookie %s on %s timed out", self.pgid, gid, cookie, oid)
            if oid in self.peering.missing:
                await self._recover_one(self.svc.whoami, oid, gen)
                if oid in self.peering.missing:
                    return  # unfound for now: the next pass tries again
            await self._recover_on_peers(oid, gen)
            k = object_key(self.pool, oid)
            oi = load_oi(self.svc.store, self.cid, k)
            if oi is not None and oi.watchers.pop((gid, cookie), None) is not None:
                old_v = self.object_version(oid)
                prev = self.log.head
                oi.version = (self.svc.map_epoch, prev[1] + 1)
                t = Transaction().setattr(self.cid, k, OI_ATTR, oi.encode())
                uv = self.info.last_user_version
                entry = LogEntry(MODIFY, oid, oi.version, old_v or ZERO, None, uv, 0)
                await self._submit(entry, t, prev, gen)
            self.watch.unwatch(oid, gid, cookie)

    def _do_read(
        self,
        ops: list[Any],
        data: bytes | memoryview,
        oid: Oid,
        env: OpEnv | None = None,
        store: Any = None,
    ) -> tuple[Reply, OpResult]:
        k = object_key(self.pool, oid)
        res = execute(
            store or self.svc.store,
            self.cid,
            k,
            ops,
            data,
            self.svc.opts.limits,
            env=env or OpEnv(),
        )
        self.stats["num_rd"] += 1
        self.stats["num_rd_kb"] += (sum(len(b) for b in res.outdata) + 1023) // 1024
        uv = res.oi.user_version if res.oi else 0
        return self._reply(res.r, res.outs, uv, res.outdata), res

    async def _do_write(
        self,
        head: dict[str, Any],
        ops: list[Any],
        data: bytes | memoryview,
        oid: Oid,
        gen: int,
        env: OpEnv | None = None,
    ) -> tuple[Reply, OpResult | None]:
        rq = head.get("reqid")
        reqid = (str(rq[0]), int(rq[1]), int(rq[2])) if rq else None
        if reqid is not None:
            dup = self.log.lookup_reqid(reqid)
            if dup is not None:
                await self._wait_durable(dup[0], gen)
                return self._reply(dup[2], [], dup[1], []), None
        if len(data) > self.svc.opts.max_write_size:
            return self._reply(-errno.EMSGSIZE, [], 0, []), None
        # deletes free space; watcher records are metadata a full pool still takes
        frees = int(head.get("flags") or 0) & FLAG_FULL_FORCE or all(
            o[0] in ("delete", "watch") for o in ops
        )
        if not frees and (self.svc.is_full(self.pool) or self._store_full(len(data))):
            return self._reply(-errno.ENOSPC, [], 0, []), None
        store: Any = self.svc.store
        if self.ec is not None:
            # the logical object, decoded from k shards if the ops need its data
            store = await self.ec.materialize(oid, gen, self.ec.need_data(ops))
        k = object_key(self.pool, oid)
        prev = self.log.head
        version: Version = (self.svc.map_epoch, prev[1] + 1)
        uv = self.info.last_user_version + 1
        res = execute(
            store,
            self.cid,
            k,
            ops,
            data,
            self.svc.opts.limits,
            version,
            uv,
            self.svc.runtime.clock.now(),
            env=env,
        )
        if res.r == -errno.ENOSPC:
            return self._reply(res.r, res.outs, 0, []), None
        if res.r >= 0 and not res.modified:
            # nothing to write (a watch already registered, guards that held): answered as
            # a read is, with the object's version and no log entry (upstream execute_ctx
            # on an empty transaction)
            uv_now = res.oi.user_version if res.oi else 0
            return self._reply(res.r, res.outs, uv_now, res.outdata), res
        # the head's version as execute read it (same store, no await since); an EC
        # object is read from its shards, and without a head the snapdir may have one
        old_v = res.prior_version
        if old_v is None or self.ec is not None:
            old_v = self.object_version(oid, k)
        if res.r < 0:
            op = ERROR
        elif res.existed and not res.exists and not res.snapdir:
            op = DELETE
        else:
            op = MODIFY
        entry = LogEntry(op, oid, version, old_v or ZERO, reqid, uv, res.r)
        obj_txn = res.txn if op != ERROR else Transaction()
        per_osd: dict[int, Transaction] | None = None
        if self.ec is not None and op != ERROR:
            store.apply_transaction(obj_txn)
            per_osd = self.ec.shard_txns(store, obj_txn)
        self.stats["num_wr"] += 1
        self.stats["num_wr_kb"] += (len(data) + 1023) // 1024
        await self._submit(entry, obj_txn, prev, gen, per_osd)
        return self._reply(res.r, res.outs, uv, res.outdata), res

    async def _submit(
        self,
        entry: LogEntry,
        obj_txn: Transaction,
        prev: Version,
        gen: int,
        per_osd: dict[int, Transaction] | None = None,
    ) -> None:
        """Commit `obj_txn` with its log entry locally and on every acting replica.

        `entry` must follow `prev`, the log head read with no await since. `per_osd`
        (erasure-coded pools) gives each acting OSD its own shard transaction; without
        it an EC PG sends `obj_txn` (metadata only) to every shard's collection."""
        me = self.svc.whoami
        if self.ec is not None and per_osd is None:
            per_osd = self.ec.retarget(obj_txn)
        # a replicated write's data goes on as the buffer it came in (encode_split)
        txn_ops, wire = obj_txn.encode_split() if per_osd is None else (None, b"")
        wire_entry = entry.to_wire()  # each shard records its own rollback data
        mine = obj_txn if per_osd is None else per_osd.get(me, obj_txn)
        t = Transaction()
        rf = self._committed.to
        if self.ec is not None:
            t.append(self._stash(mine, entry))
            self._roll_forward(t, rf)
        t.append(mine)
        trim_to = self._append_entry(t, entry)
        rep_head = self.peer_head(
            entry=wire_entry, prev=list(prev), trim_to=list(trim_to) if trim_to else None
        )
        if self.ec is not None:
            rep_head["rf"] = list(rf)
            self._committed.submitted(entry.version)
        if txn_ops is not None:
            rep_head["txn"] = txn_ops
        local = self.tasks.spawn(self.commit(t), f"{self.pgid} commit {entry.version}")
        reps = [
            asyncio.ensure_future(
                self._rep_op(
                    osd,
                    rep_head,
                    wire if per_osd is None else per_osd.get(osd, Transaction()).encode(),
                    gen,
                )
            )
            for osd in self.peering.acting_backfill_replicas
        ]
        try:
            try:
                await asyncio.shield(local)  # the store commit finishes even if we are cancelled
            except StoreError as e:
                log.error(
                    "pg %s: local commit of %s failed: %s; re-peering", self.pgid, entry.version, e
                )
                self._reload_and_repeer()
                raise IntervalChanged from None
            await self.race(asyncio.gather(*reps), gen)
            self._committed.committed(entry.version)
        finally:
            await _reap(reps)  # replica writes abandoned by an interval change end here

    def _stash(self, txn: Transaction, entry: LogEntry) -> Transaction:
        """Erasure-coded PGs: the rollback data of our shard's `txn` for `entry` (set on
        it), as the transaction to run just before `txn` in the same commit."""
        stash, entry.rollback = ec_rollback.plan(txn, self.cid, entry.version[1], self._old)
        return stash

    def _old(self, key: ObjectKey, attrs: bool) -> ec_rollback.OldState:
        store = self.svc.store
        if not store.exists(self.cid, key):
            return False, 0, {}
        got = {n: bytes(v) for n, v in store.getattrs(self.cid, key).items()} if attrs else {}
        return True, store.stat(self.cid, key), got

    def _roll_forward(self, t: Transaction, to: Version) -> None:
        """Erasure-coded PGs: every shard committed the entries up to `to`, so none is
        ever undone: drop their rollback data (upstream PGLog::roll_forward_to)."""
        if to <= self._rolled_to:
            return
        for e in self.log.entries_after(self._rolled_to):
            if e.version > to:
                break
            if e.rollback is not None:
                t.append(ec_rollback.forget(e.rollback, self.cid))
                e.rollback = None
                pgmeta.write_entry(t, self.cid, e)
        self._rolled_to = to

    def _append_entry(self, t: Transaction, entry: LogEntry) -> Version | None:
        """Add a log entry (and a trim if due) to memory and to `t`; returns trim_to."""
        self.log.append(entry)
        self.info.last_update = entry.version
        self.info.last_user_version = max(self.info.last_user_version, entry.user_version)
        if not self.peering.missing:
            self.info.last_complete = entry.version
        pgmeta.write_entry(t, self.cid, entry)
        opts = self.svc.opts
        target = opts.min_pg_log_entries if self.peering.is_clean() else opts.max_pg_log_entries
        # an erasure-coded PG keeps every entry that some shard may still undo
        limit = min(entry.version, self._committed.to) if self.ec is not None else entry.version
        trim_to = (
            self.log.calc_trim_to(limit, target, opts.pg_log_trim_min, opts.pg_log_trim_max)
            if len(self.log) > target
            else None
        )
        if trim_to is not None:
            self._trim(t, trim_to)
        self.info.log_tail = self.log.tail
        pgmeta.write_info(t, self.cid, self.info)
        return trim_to

    def _trim(self, t: Transaction, to: Version) -> None:
        if self.shard is not None:
            self._roll_forward(t, to)  # a trimmed entry is never undone
        trimmed, evicted = self.log.trim(to, self.svc.opts.pg_log_dups_tracked)
        if trimmed:
            pgmeta.write_trim(t, self.cid, to, trimmed, evicted)

    async def _wait_durable(self, v: Version, gen: int) -> None:
        """A dup may still be in flight: wait until no local commit is pending."""
        while self._local_inflight:
            await self.race(self._local_idle.wait(), gen)

    async def _rep_op(self, osd: int, head: dict[str, Any], wire: bytes, gen: int) -> None:
        while True:
            r = await self.peer_call(osd, "rep_op", head, gen, wire)
            rc = r.head.get("r", 0)
            if rc == 0:
                return
            if rc == -ESTALE:
                # The replica moved to a newer interval: we will hear of it in a map.
                await self.race(asyncio.get_running_loop().create_future(), gen)
            await self.race(self.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)

    def _store_full(self, nbytes: int) -> bool:
        try:
            st = self.svc.store.statfs()
        except Exception:
            return False
        if not st.get("total"):
            return False  # unlimited (a MemStore without capacity)
        avail = int(st.get("available", 0))
        return avail < nbytes + FULL_RESERVE_BYTES

    def _reload_and_repeer(self) -> None:
        info, plog, missing = pgmeta.load(self.svc.store, self.cid, self.pgid)
        view = self.peering.view
        self.info, self.log = info, plog
        self.peering = Peering(self.svc.whoami, info, plog, missing, self.shard)
        self._bump_interval()
        if view is not None:
            self.peering.restore_view(view)  # same interval: peer again within it
            self.run_effects(self.peering.advance_map(view))

    def _pgls(self, args: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        store = self.svc.store
        mx = max(1, min(int(args.get("max") or 1024), MAX_PGLS_PAGE))
        nspace = args.get("nspace")
        all_ns = nspace is None or nspace == "\x01"
        cur = args.get("cursor")
        start = ObjectKey.from_tuple(cur) if cur else None
        entries: list[list[str]] = []
        nxt: ObjectKey | None = None
        pos = start
        while len(entries) < mx:
            keys, nxt = store.collection_list(self.cid, pos, mx - len(entries) + 1)
            for k in keys:
                if len(entries) >= mx:
                    nxt = k
                    break
                if k.snap != HEAD or is_stash(k) or (not all_ns and k.namespace != nspace):
                    continue
                entries.append([k.namespace, k.name, k.key])
            else:
                if nxt is None:
                    break
                pos = nxt
                continue
            break
        out = {"r": 0, "entries": entries, "cursor": list(nxt.to_tuple()) if nxt else None}
        return {"r": 0, "epoch": self.svc.map_epoch, "version": 0, "ops": [out]}, b""

    # -- replica side ----------------------------------------------------------------------
    def stale(self, head: dict[str, Any], sender: int) -> bool:
        """Is a message from `sender` (claiming to be our primary) from an old interval?"""
        v = self.peering.view
        if v is None or v.primary != sender or v.primary == self.svc.whoami:
            return True
        return int(head.get("sis", 0)) < self.interval_floor

    async def handle_query(self, head: dict[str, Any]) -> dict[str, Any]:
        await self._local_idle.wait()
        return {
            "r": 0,
            "info": self.info.to_wire(),
            "entries": [e.to_wire() for e in self.log.entries],
            "missing": [[list(o), list(v)] for o, v in self.peering.missing.items()],
            "shard": self.shard,
        }

    def handle_list(self, head: dict[str, Any]) -> dict[str, Any]:
        store = self.svc.store
        cur = head.get("cursor")
        start = ObjectKey.from_tuple(cur) if cur else None
        if not store.collection_exists(self.cid):
            return {"r": 0, "entries": [], "cursor": None}
        keys, nxt = store.collection_list(self.cid, start, BACKFILL_LIST_PAGE)
        out = []
        for k in keys:
            if not _is_listed(k):
                continue
            oi = load_oi(store, self.cid, k)
            out.append([[k.namespace, k.name, k.key], list(oi.version if oi else ZERO)])
        return {"r": 0, "entries": out, "cursor": list(nxt.to_tuple()) if nxt else None}

    async def handle_activate(self, head: dict[str, Any], sender: int) -> dict[str, Any]:
        if self.stale(head, sender):
            return {"r": -ESTALE}
        await self._local_idle.wait()
        if self.stale(head, sender):
            return {"r": -ESTALE}
        gen = self.gen
        if self._activated_gen == gen:
            return {"r": 0}
        p = ActivatePlan(
            self.svc.whoami,
            bool(head.get("backfill")),
            ver(head.get("common")),
            [LogEntry.from_wire(w) for w in head.get("entries", [])],
            {oid_of(o): ver(v) for o, v in head.get("missing", [])},
            {oid_of(o) for o in head.get("deletes", [])},
            rollback=[ver(v) for v in head.get("rollback") or []],
        )
        t = Transaction()
        shard = head.get("shard")
        if shard is not None and int(shard) != self.shard:
            t.append(self._reshard_txn(int(shard)))
        t.append(self.apply_plan(p, ver(head.get("tail")), int(head["les"]), int(head["sis"])))
        self.info.past_intervals = []
        pgmeta.write_info(t, self.cid, self.info)
        await self.commit(t)
        if gen == self.gen:
            self._activated_gen = gen
            self._activated_ev.set()
            self._kick()
        return {"r": 0}

    async def handle_rep_op(
        self, head: dict[str, Any], data: bytes | memoryview, sender: int
    ) -> dict[str, Any]:
        if self.stale(head, sender):
            return {"r": -ESTALE}
        gen = self.gen
        if self._activated_gen != gen:
            try:
                await self.race(self._activated_ev.wait(), gen)
            except IntervalChanged:
                return {"r": -ESTALE}
        entry = LogEntry.from_wire(head["entry"])
        prev = ver(head.get("prev"))
        parked = False
        try:
            while self.log.head < prev:
                if not parked:
                    if self._parked >= MAX_PARKED_REP_OPS:
                        return {"r": -EAGAIN}
                    self._parked += 1
                    parked = True
                ev = self._log_changed
                ev.clear()
                try:
                    await self.race(ev.wait(), gen)
                except IntervalChanged:
                    return {"r": -ESTALE}
        finally:
            if parked:
                self._parked -= 1
        if self.log.head >= entry.version:
            await self._local_idle.wait()  # a resend: ack once it is durable
            return {"r": 0}
        if self.log.head != prev:
            return {"r": -ESTALE}
        txn_ops = head.get("txn")
        if txn_ops is not None:  # ops in the head, written data in `data` (encode_split)
            t = Transaction.decode_split(txn_ops, data)
        else:
            t = Transaction.decode(data) if len(data) else Transaction()
        if self.shard is not None:
            t = self._stash(t, entry).append(t)
            rf = head.get("rf")
            if rf:
                self._roll_forward(t, ver(rf))
        self.log.append(entry)
        self.info.last_update = entry.version
        self.info.last_user_version = max(self.info.last_user_version, entry.user_version)
        if not self.peering.missing:
            self.info.last_complete = entry.version
        pgmeta.write_entry(t, self.cid, entry)
        if (entry.op == DELETE or entry.op == MODIFY) and entry.oid in self.peering.missing:
            # The primary recovered the object to us before writing: nothing missing.
            self.peering.missing.pop(entry.oid, None)
            pgmeta.write_missing(t, self.cid, entry.oid, None)
        trim_to = head.get("trim_to")
        if trim_to:
            self._trim(t, ver(trim_to))
        self.info.log_tail = self.log.tail
        pgmeta.write_info(t, self.cid, self.info)
        self._log_changed.set()
        try:
            await self.commit(t)
        except StoreError as e:
            log.error("pg %s: replica commit of %s failed: %s", self.pgid, entry.version, e)
            self._reload_and_repeer()
            return {"r": -e.errno}
        return {"r": 0}

    async def handle_push(
        self, head: dict[str, Any], data: bytes | memoryview, sender: int
    ) -> dict[str, Any]:
        if self.stale(head, sender):
            return {"r": -ESTALE}
        oid = oid_of(head["oid"])
        async with self._object_lock(oid):
            t = self.object_txn(oid, head, data)
            pgmeta.write_missing(t, self.cid, oid, None)
            self.peering.missing.pop(oid, None)
            await self.commit(t)
        return {"r": 0}

    async def handle_pull(self, head: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        oid = oid_of(head["oid"])
        if oid in self.peering.missing:
            return {"r": -errno.ENOENT}, b""
        await self._local_idle.wait()
        try:
            h, d = self.object_payload(oid)
        except StoreError as e:  # our copy fails its checksum: the puller tries another
            return {"r": -e.errno}, b""
        if self.shard is not None:
            h["shard"] = self.shard
        return h, d

    def object_version(self, oid: Oid, key: ObjectKey | None = None) -> Version | None:
        """The version of the object's head (or of its snapdir when only clones remain);
        `key`: the head's store key if the caller has it."""
        k = key if key is not None else object_key(self.pool, oid)
        oi = load_oi(self.svc.store, self.cid, k) or load_oi(
            self.svc.store, self.cid, snap_key(k, SNAPDIR)
        )
        return oi.version if oi else None

    # -- stats ------------------------------------------------------------------------------
    def effective_last_epoch_clean(self) -> int:
        """pg_stat_t::get_effective_last_epoch_clean: the current epoch while clean (so
        maps made while nothing changes can be trimmed), else the last clean epoch."""
        if self.state == ACTIVE and self.peering.is_clean():
            return self.svc.map_epoch
        return self.info.last_epoch_clean

    def _state_flags(self, recovering: int, peered: bool = False) -> str:
        """An active (or, below min_size, peered) PG's state string, flags in upstream
        pg_state_string's order: a peered PG short of copies is undersized+degraded+peered."""
        pe = self.peering
        v = pe.view
        if not peered and pe.is_clean():
            return "active+clean+remapped" if pe.remapped else "active+clean"
        flags = [] if peered else ["active"]
        undersized = v is not None and len(v.acting) < v.size
        if recovering and not peered:
            held = self.recovery_state == RECOVERING and self.recovering
            flags.append(RECOVERING if held else RECOVERY_WAIT)
        if undersized:
            flags.append("undersized")
        if recovering or undersized:
            flags.append("degraded")
        if pe.remapped:
            flags.append("remapped")
        if pe.backfill_pending() and not peered:
            flags.append(self.backfill_state if self.recovering else BACKFILL_WAIT)
        if peered:
            flags.append("peered")
        return "+".join(flags)

    def _serves_elsewhere(self, target: int) -> bool:
        """Does an acting OSD serve what backfill target `target` receives (so its
        objects are misplaced, not degraded)? Always for a replicated PG."""
        v = self.peering.view
        if v is None or not v.shards:
            return True
        shard = self.peering.backfill_shard(target)
        return shard is not None and shard < len(v.shards) and v.shards[shard] >= 0

    def pg_stats(self) -> dict[str, Any]:
        store = self.svc.store
        n = nbytes = clones = 0
        if store.collection_exists(self.cid):
            # every PG each stats period: one pass over the store's records, not a
            # listing plus a stat per object (upstream counts clones among the objects)
            cs = store.collection_stats(self.cid)
            n, nbytes, clones = cs.objects, cs.bytes, cs.clones
        v = self.peering.view
        pe = self.peering
        missing_primary = len(pe.missing)
        targets = pe.backfill_targets
        degraded = missing_primary + sum(
            len(m) for o, m in pe.peer_missing.items() if o not in targets
        )
        # an erasure-coded target whose position in acting is a hole rebuilds a shard
        # nobody serves: degraded (counted with the undersized acting set), not misplaced
        misplaced = sum(
            len(pe.peer_missing.get(o, ())) for o in targets if self._serves_elsewhere(o)
        )
        state = self.state
        if self.premerge and state == ACTIVE and pe.is_clean():
            state = "clean+premerge+peered"  # upstream: no client I/O until the merge
        elif state == ACTIVE:
            state = self._state_flags(degraded)
        elif state == PEERED:
            state = self._state_flags(degraded, peered=True)
        elif state == WAIT_ACTING:
            state = "remapped+peering"
        if state.startswith("active"):
            state += self.scrub.state_suffix()
        return {
            **self.scrub.stats(),
            "state": state,
            "reported_epoch": self.svc.map_epoch,
            "version": list(self.info.last_update),  # pgmap format: [epoch, v]
            "log_size": len(self.log),
            "num_objects": n,
            "num_bytes": nbytes,
            "num_object_clones": clones,
            "num_object_copies": n * (v.size if v else 1),
            "num_objects_missing_on_primary": missing_primary,
            # upstream counts every copy an undersized acting set lacks as degraded too
            "num_objects_degraded": degraded + n * max(0, v.size - len(v.acting) if v else 0),
            "num_objects_misplaced": misplaced,
            "num_objects_unfound": 0,
            "num_omap_bytes": 0,
            "num_omap_keys": 0,
            **self.stats,
            "up": list(v.up) if v else [],
            "acting": list(v.acting) if v else [],
            "up_primary": v.up_primary if v else -1,
            "acting_primary": v.primary if v else -1,
            "stamp": self.svc.runtime.clock.now(),
        }


__all__ = ["PG", "IntervalChanged", "OI_ATTR"]


def _drop_collection(store: Any, t: Transaction, cid: str) -> None:
    """Add to `t` the removal of collection `cid` with every object in it."""
    if not store.collection_exists(cid):
        return
    start: ObjectKey | None = None
    while True:
        keys, nxt = store.collection_list(cid, start, BACKFILL_LIST_PAGE)
        for k in keys:
            t.remove(cid, k)
        if nxt is None:
            break
        start = nxt
    t.remove_collection(cid)


def _oi_of(attrs: dict[str, bytes]) -> ObjectInfo | None:
    raw = attrs.get(OI_ATTR)
    try:
        return ObjectInfo.decode(raw) if raw is not None else None
    except Exception:  # noqa: BLE001 - a corrupt info is scrub's finding, not an error here
        return None


def _discard(aw: Any) -> None:
    """Drop an awaitable that will not be awaited: close a coroutine, cancel a future, and
    collect an outcome already set so nothing reports it as never retrieved."""
    if asyncio.iscoroutine(aw):
        aw.close()
    elif isinstance(aw, asyncio.Future):
        if aw.done():
            _collect(aw)
        else:
            # a gather cancelled while a child fails still ends with that child's error
            aw.add_done_callback(_collect)
            aw.cancel()


def _collect(fut: asyncio.Future[Any]) -> None:
    """Mark a finished future's outcome as retrieved."""
    if not fut.cancelled():
        fut.exception()


async def _reap(futs: list[asyncio.Future[Any]]) -> None:
    """Cancel the futures still running and wait until every one has ended, collecting
    their outcomes (the caller has already taken what it needed from them)."""
    for f in futs:
        f.cancel()
    if futs:
        await asyncio.gather(*futs, return_exceptions=True)
