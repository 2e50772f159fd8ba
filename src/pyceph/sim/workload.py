"""A model-checking RADOS workload, as upstream's `ceph_test_rados` (`src/test/osd/
TestRados.cc`, `RadosModel.h`), on the async client core.

`Workload` drives a fixed set of objects in two pools — one taking *pool* snapshots,
one *self-managed* snapshots (a pool cannot mix the two, as upstream) — with a weighted
random op mix: partial and full writes, appends, truncates, deletes, xattrs set and
removed, omap keys set and removed, omap header, reads (data, size, xattrs, omap and
header in one compound op), reads at snapshots, rollbacks, snapshot creation and
removal, and watch/notify. `max_in_flight` workers run at once, each on an object no
other op is using (upstream's `oid_in_use`), so many ops are in flight. Every result and
every read goes through `pyceph.sim.model.Model`; the first divergence raises
`ModelViolation` with the object's op history.

It only needs a connected `pyceph.client.rados_client.RadosClient` and a random stream
(`SimRand` or anything with its methods), so the same workload runs in the simulator
(virtual time, the seed decides everything) and against real daemons.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from pyceph.client.objecter import SNAP_HEAD
from pyceph.client.op import ObjectOp
from pyceph.common.errors import CephError
from pyceph.common.tasks import TaskSet
from pyceph.sim.model import UNKNOWN_ERRNOS, Model, ModelViolation, Mutation, ObjState, State

log = logging.getLogger(__name__)

#: The op mix: relative weights (modelled on TestRados.cc's op kinds: reads and writes
#: dominate, snapshots and deletes are rarer; omap, truncate and notify added).
DEFAULT_WEIGHTS: dict[str, int] = {
    "read": 100,
    "write": 80,
    "write_full": 40,
    "append": 40,
    "truncate": 15,
    "remove": 15,
    "setxattr": 20,
    "rmxattr": 10,
    "omap_set": 20,
    "omap_rm": 10,
    "omap_header": 8,
    "snap_read": 30,
    "rollback": 10,
    "snap_create": 6,
    "snap_remove": 3,
    "notify": 10,
}

#: The two snapshot modes, one pool each.
POOL_SNAPS = "pool"
SELF_SNAPS = "self"


@dataclass
class WorkloadConfig:
    """Bounds of one run (every size and count the workload uses)."""

    objects: int = 16  #: objects per pool
    max_in_flight: int = 8
    max_object_size: int = 24 * 1024  #: writes stay below this offset+length
    max_write: int = 4096
    xattr_names: int = 4
    omap_keys: int = 8
    max_snaps: int = 3  #: live snapshots per pool
    watch_objects: int = 2
    op_timeout: float = 120.0  #: a client op gives up (outcome unknown) after this
    notify_timeout_ms: int = 30_000
    think: float = 0.0  #: each worker pauses up to this long between its ops
    #: A notify that succeeds without our registered watcher is a violation: watchers are
    #: records in the object info (`pyceph.osd.watch`), so a new primary still waits for
    #: them (regressions: sim seeds 14, 25, 37). Off, such notifies are only counted in
    #: `WorkloadStats.notify_missed`.
    check_notify_watchers: bool = True
    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


@dataclass
class WorkloadStats:
    ops: Counter[str] = field(default_factory=Counter)
    unknown: int = 0  #: ops whose outcome was unknown (timed out)
    reads_checked: int = 0
    notify_ok: int = 0
    notify_timeouts: int = 0
    notify_missed: int = 0  #: notifies that skipped our watcher (check off, or it expired)
    watches_lost: int = 0  #: watches the OSD ended (expired): each was registered again
    snaps_created: int = 0
    snaps_removed: int = 0

    def total(self) -> int:
        return sum(self.ops.values())


#: Pause between attempts to register a lost watch again.
REWATCH_RETRY = 1.0
#: How long a notify that skipped our watcher waits to learn whether the watch had
#: expired (the client learns it at its next ping): longer than a ping interval.
WATCH_LOSS_WAIT = 60.0


@dataclass
class _Watch:
    """One watched object and the handle of its current registration."""

    pool_id: int
    oid: str
    handle: Any = None
    lost: int = 0  #: registrations the OSD ended; each was replaced by a new one


class _Pool:
    """One pool's model and snapshot bookkeeping."""

    def __init__(self, mode: str, pool_id: int, names: list[str]) -> None:
        self.mode = mode
        self.pool_id = pool_id
        self.names = names
        clock = asyncio.get_running_loop().time
        self.model = Model(names, pool=f"{mode}-snaps pool {pool_id}", clock=clock)
        self.live_snaps: list[int] = []  #: oldest first; usable for reads/rollback
        self.snap_busy = False
        self.snap_seq = 0  #: self-managed: the snap context's seq
        self.snap_users: Counter[int] = Counter()  #: reads/rollbacks in flight per snap
        self.snap_idle = asyncio.Event()  #: set whenever a snap's last user finishes
        self.next_name = 0

    def snapc(self) -> tuple[int, list[int]] | None:
        if self.mode != SELF_SNAPS:
            return None
        return self.snap_seq, sorted(self.live_snaps, reverse=True)


class Workload:
    """Weighted random ops on two pools, every answer checked against the model."""

    def __init__(
        self,
        client: Any,
        pools: dict[str, int],
        rand: Any,
        config: WorkloadConfig | None = None,
        *,
        describe_replicas: Callable[[int, str], str] | None = None,
    ) -> None:
        """`pools` maps POOL_SNAPS and SELF_SNAPS to pool ids (either may be missing);
        `describe_replicas(pool_id, oid)`, when given, adds each replica's copy of an
        object to a violation report."""
        self.client = client
        self.rand = rand
        self.cfg = config or WorkloadConfig()
        self.pools = {
            mode: _Pool(mode, pid, [f"obj-{i}" for i in range(self.cfg.objects)])
            for mode, pid in pools.items()
        }
        self.stats = WorkloadStats()
        self.describe_replicas = describe_replicas
        kinds = [k for k, w in self.cfg.weights.items() if w > 0]
        self._kinds = kinds
        self._cum: list[int] = []
        total = 0
        for k in kinds:
            total += self.cfg.weights[k]
            self._cum.append(total)
        self._watches: list[_Watch] = []
        self._tasks = TaskSet("workload")
        self._notified: set[bytes] = set()
        self._notify_seq = 0
        self._remaining = 0
        self._stop: asyncio.Event | None = None

    # -- random choices ------------------------------------------------------------------
    def _pick_kind(self) -> str:
        x = self.rand.randrange(self._cum[-1])
        for k, c in zip(self._kinds, self._cum, strict=True):
            if x < c:
                return k
        return self._kinds[-1]

    def _bytes(self, n: int) -> bytes:
        return self.rand.randbytes(n)

    # -- set-up and tear-down -----------------------------------------------------------
    async def setup(self) -> None:
        """Create the watched objects and register a watch on each."""
        p = self.pools.get(POOL_SNAPS) or next(iter(self.pools.values()))
        for i in range(self.cfg.watch_objects):
            oid = f"watch-{i}"
            create = ObjectOp()
            create.write_full(b"w")
            r = await self._op(p.pool_id, oid, create)
            if r.r < 0:
                raise CephError(-r.r, f"creating {oid}")

            w = _Watch(p.pool_id, oid)
            await self._register(w)
            self._watches.append(w)

    def _on_notify(self, _nid: int, _gid: int, _cookie: int, data: bytes) -> bytes:
        self._notified.add(bytes(data))
        return b"ack"

    async def _register(self, w: _Watch) -> None:
        """Watch `w.oid`; when the OSD ends the watch (it expired while the client could
        not ping it), register it again, as an application must (upstream librbd's
        rewatch): the notifies in between may have skipped it."""

        def on_error(cookie: int, err: int) -> None:
            if w.handle is None or cookie != w.handle.cookie or self._tasks.closed:
                return
            w.lost += 1
            self.stats.watches_lost += 1
            log.info("workload: watch on %s lost (%d), watching again", w.oid, err)
            self._tasks.spawn(self._rewatch(w), f"rewatch {w.oid}")

        w.handle = await self.client.watch(
            w.pool_id, w.oid, on_notify=self._on_notify, on_error=on_error
        )

    async def _rewatch(self, w: _Watch) -> None:
        while True:
            try:
                await self._register(w)
                return
            except CephError as e:
                log.info("workload: watching %s again: %s", w.oid, e)
                await asyncio.sleep(REWATCH_RETRY)

    async def _watch_was_lost(self, w: _Watch, lost_before: int) -> bool:
        """After a notify that skipped our watcher: True once the watch proves to have
        been lost (its error arrived), False once a ping confirmed it after the notify
        (so its record was there all along), bounded by WATCH_LOSS_WAIT."""
        loop = asyncio.get_running_loop()
        done = loop.time()
        while loop.time() - done < WATCH_LOSS_WAIT:
            if w.lost != lost_before:
                return True
            since_ok = await self.client.watch_check(w.handle)
            if since_ok < 0:
                return True
            if since_ok / 1000 < loop.time() - done:
                return False
            await asyncio.sleep(REWATCH_RETRY)
        return False

    async def close(self) -> None:
        await self._tasks.close()
        for w in self._watches:
            try:
                await self.client.unwatch(w.handle)
            except CephError as e:
                log.info("workload: unwatch: %s", e)
        self._watches.clear()

    # -- running --------------------------------------------------------------------------
    async def run(self, ops: int, stop: asyncio.Event | None = None) -> WorkloadStats:
        """Run `ops` ops (or until `stop` is set) with `max_in_flight` workers."""
        self._remaining = ops
        self._stop = stop
        workers = [asyncio.ensure_future(self._worker()) for _ in range(self.cfg.max_in_flight)]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        finally:
            for t in workers:
                t.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return self.stats

    async def _worker(self) -> None:
        while self._remaining > 0 and not (self._stop is not None and self._stop.is_set()):
            self._remaining -= 1
            kind = self._pick_kind()
            p = self.pools[self.rand.choice(sorted(self.pools))]
            await self._one(p, kind)
            self.stats.ops[kind] += 1
            if self.cfg.think:
                await asyncio.sleep(self.rand.uniform(0, self.cfg.think))

    def _free_object(self, p: _Pool) -> str | None:
        free = [n for n in p.names if not p.model.in_use(n)]
        return self.rand.choice(free) if free else None

    async def _one(self, p: _Pool, kind: str) -> None:
        if kind == "snap_create":
            await self._snap_create(p)
            return
        if kind == "snap_remove":
            await self._snap_remove(p)
            return
        if kind == "notify":
            await self._notify()
            return
        name = self._free_object(p)
        if name is None:
            return
        if kind == "read":
            await self._read(p, name)
            return
        if kind == "snap_read":
            if p.live_snaps:
                snap = p.live_snaps[self.rand.randrange(len(p.live_snaps))]
                async with self._using(p, snap):
                    await self._read(p, name, str(snap))
            return
        m = self._mutation(p, kind)
        if m is None:
            return
        if m.kind == "rollback":
            async with self._using(p, m.snap):
                r = await self._mutate(p, name, m)
        else:
            r = await self._mutate(p, name, m)
        if -r in UNKNOWN_ERRNOS and not p.model.in_use(name):
            await self._read(p, name)  # settle what it did while nobody else touches it

    def _mutation(self, p: _Pool, kind: str) -> Mutation | None:
        c = self.cfg
        if kind == "write":
            off = self.rand.randrange(c.max_object_size - c.max_write)
            return Mutation(
                "write", offset=off, data=self._bytes(1 + self.rand.randrange(c.max_write))
            )
        if kind == "write_full":
            return Mutation("write_full", data=self._bytes(self.rand.randrange(2 * c.max_write)))
        if kind == "append":
            return Mutation("append", data=self._bytes(1 + self.rand.randrange(c.max_write)))
        if kind == "truncate":
            return Mutation("truncate", offset=self.rand.randrange(c.max_object_size))
        if kind == "remove":
            return Mutation("remove")
        if kind == "setxattr":
            name = f"attr{self.rand.randrange(c.xattr_names)}"
            return Mutation("setxattr", name=name, data=self._bytes(1 + self.rand.randrange(64)))
        if kind == "rmxattr":
            return Mutation("rmxattr", name=f"attr{self.rand.randrange(c.xattr_names)}")
        if kind == "omap_set":
            n = 1 + self.rand.randrange(3)
            kv = {f"key{self.rand.randrange(c.omap_keys)}": self._bytes(self.rand.randrange(48))
                  for _ in range(n)}  # fmt: skip
            return Mutation("omap_set", kv=tuple(sorted(kv.items())))
        if kind == "omap_rm":
            keys = {f"key{self.rand.randrange(c.omap_keys)}" for _ in range(2)}
            return Mutation("omap_rm", keys=tuple(sorted(keys)))
        if kind == "omap_header":
            return Mutation("omap_header", data=self._bytes(self.rand.randrange(32)))
        if kind == "rollback":
            if not p.live_snaps:
                return None
            return Mutation("rollback", snap=p.live_snaps[self.rand.randrange(len(p.live_snaps))])
        raise ValueError(kind)

    # -- one op -----------------------------------------------------------------------
    async def _op(
        self,
        pool_id: int,
        oid: str,
        op: ObjectOp,
        *,
        snapid: int = SNAP_HEAD,
        snapc: tuple[int, list[int]] | None = None,
    ) -> Any:
        """Submit `op` through the client core (resent across map changes) with the
        workload's timeout: CephError(ETIMEDOUT) when it gives up."""
        return await self.client.op(
            pool_id, oid, op.ops, snapid=snapid, snapc=snapc, timeout=self.cfg.op_timeout
        )

    async def _mutate(self, p: _Pool, name: str, m: Mutation) -> int:
        op = ObjectOp()
        k = m.kind
        if k == "write":
            op.write(m.offset, m.data)
        elif k == "write_full":
            op.write_full(m.data)
        elif k == "append":
            op.append(m.data)
        elif k == "truncate":
            op.truncate(m.offset)
        elif k == "remove":
            op.remove()
        elif k == "setxattr":
            op.setxattr(m.name, m.data)
        elif k == "rmxattr":
            op.rmxattr(m.name)
        elif k == "omap_set":
            op.omap_set(dict(m.kv))
        elif k == "omap_rm":
            op.omap_rm_keys(list(m.keys))
        elif k == "omap_header":
            op.omap_set_header(m.data)
        elif k == "rollback":
            op.rollback(m.snap)
        snapc = p.snapc()
        p.model.begin(name, m, snapc=snapc[1] if snapc else ())
        try:
            r = (await self._op(p.pool_id, name, op, snapc=snapc)).r
        except CephError as e:
            r = -e.errno
        except BaseException:
            p.model.ack(name, -errno.ESHUTDOWN)  # cancelled: outcome unknown
            raise
        if -r in UNKNOWN_ERRNOS:
            self.stats.unknown += 1
        self._check(p, name, lambda: p.model.ack(name, r))
        return r

    async def _read(self, p: _Pool, name: str, snap: str = "") -> None:
        snapid = int(snap) if snap else 0
        op = ObjectOp()
        i_read = op.read(0, 0)
        i_attrs = op.getxattrs()
        i_omap = op.omap_get_vals()
        i_hdr = op.omap_get_header()
        p.model.begin(name, snap=snapid)
        observed: State | int
        try:
            res = await self._op(p.pool_id, name, op, snapid=snapid or SNAP_HEAD)
            if res.r == -errno.ENOENT:
                observed = None
            elif res.r < 0:
                observed = res.r
            else:
                f_attrs = res.outs[i_attrs].fields.get("attrs", {})
                f_omap = res.outs[i_omap].fields.get("vals", [])
                observed = ObjState.make(
                    bytes(res.outs[i_read].data),
                    {k: bytes(v) for k, v in f_attrs.items()},
                    {k: bytes(v) for k, v in f_omap},
                    bytes(res.outs[i_hdr].data),
                )
        except CephError as e:
            observed = -e.errno
        except BaseException:
            p.model.read_result(name, -errno.ESHUTDOWN)
            raise
        if isinstance(observed, int) and -observed in UNKNOWN_ERRNOS:
            self.stats.unknown += 1
        else:
            self.stats.reads_checked += 1
        self._check(p, name, lambda: p.model.read_result(name, observed))

    def _check(self, p: _Pool, name: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except ModelViolation as e:
            if self.describe_replicas is not None:
                raise ModelViolation(
                    f"{e}\nreplicas:\n{self.describe_replicas(p.pool_id, name)}"
                ) from None
            raise

    # -- snapshots --------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _using(self, p: _Pool, snap: int) -> AsyncIterator[None]:
        p.snap_users[snap] += 1
        try:
            yield
        finally:
            p.snap_users[snap] -= 1
            if not p.snap_users[snap]:
                del p.snap_users[snap]
                p.snap_idle.set()

    async def _snap_create(self, p: _Pool) -> None:
        if p.snap_busy or len(p.live_snaps) >= self.cfg.max_snaps:
            return
        p.snap_busy = True
        try:
            if p.mode == POOL_SNAPS:
                p.next_name += 1
                sname = f"snap-{p.next_name}"
                w = p.model.pool_snap_begin()
                snapid: int | None = None
                try:
                    await self.client.pool_snap_create(p.pool_id, sname)
                    snapid = self.client.pool_snap_lookup(p.pool_id, sname)
                except CephError as e:
                    if e.errno not in UNKNOWN_ERRNOS:
                        raise
                    return  # it may exist: never read, never removed, harmless
                finally:
                    p.model.pool_snap_end(w, snapid)
            else:
                try:
                    snapid = await self.client.selfmanaged_snap_create(p.pool_id)
                except CephError as e:
                    if e.errno not in UNKNOWN_ERRNOS:
                        raise
                    return
                p.model.selfmanaged_snap(snapid)
                p.snap_seq = max(p.snap_seq, snapid)
            p.live_snaps.append(snapid)
            self.stats.snaps_created += 1
        finally:
            p.snap_busy = False

    async def _snap_remove(self, p: _Pool) -> None:
        if p.snap_busy or not p.live_snaps:
            return
        p.snap_busy = True
        try:
            snapid = p.live_snaps.pop(0)  # no new reader or rollback picks it
            while p.snap_users[snapid]:
                p.snap_idle.clear()
                await p.snap_idle.wait()
            p.model.snap_removed(snapid)
            try:
                if p.mode == POOL_SNAPS:
                    snaps = self.client.osdmap.get_pool(p.pool_id).pool_snaps
                    name = next(n for s, (n, _t) in snaps.items() if s == snapid)
                    await self.client.pool_snap_remove(p.pool_id, name)
                else:
                    await self.client.selfmanaged_snap_remove(p.pool_id, snapid)
            except CephError as e:
                if e.errno not in UNKNOWN_ERRNOS:
                    raise
                return  # forgotten by the model either way
            self.stats.snaps_removed += 1
        finally:
            p.snap_busy = False

    # -- watch / notify -----------------------------------------------------------------
    async def _notify(self) -> None:
        if not self._watches:
            return
        w = self._watches[self.rand.randrange(len(self._watches))]
        pool_id, oid, h, lost_before = w.pool_id, w.oid, w.handle, w.lost
        self._notify_seq += 1
        payload = f"notify-{self._notify_seq}".encode()
        op = ObjectOp()
        op.notify(payload, self.cfg.notify_timeout_ms)
        try:
            res = await self._op(pool_id, oid, op)
            r = res.r
        except CephError as e:
            r = -e.errno
        if -r in UNKNOWN_ERRNOS:
            self.stats.notify_timeouts += 1
            return
        if r < 0:
            raise ModelViolation(f"notify on {oid} failed with r={r}")
        acks = res.outs[0].fields.get("acks", [])
        cookies = {int(a[1]) for a in acks}
        if h.cookie not in cookies and (
            not self.cfg.check_notify_watchers or await self._watch_was_lost(w, lost_before)
        ):
            self.stats.notify_missed += 1
            return
        if h.cookie not in cookies:
            timeouts = res.outs[0].fields.get("timeouts", [])
            raise ModelViolation(
                f"notify {payload!r} on {oid} succeeded without our watcher "
                f"(cookie {h.cookie}): acks={acks} timeouts={timeouts}"
            )
        if payload not in self._notified:
            raise ModelViolation(f"notify {payload!r} acked but the watcher never saw it")
        self.stats.notify_ok += 1

    # -- the final check ----------------------------------------------------------------
    async def verify_all(self) -> int:
        """Read every object at the head and at every live snapshot; the reads checked.
        The cluster is healthy by now: a read that times out is a violation too."""
        n = 0
        unknown = self.stats.unknown
        for p in self.pools.values():
            for name in p.names:
                await self._read(p, name)
                n += 1
                for s in list(p.live_snaps):
                    await self._read(p, name, str(s))
                    n += 1
                if self.stats.unknown != unknown:
                    raise ModelViolation(
                        f"final check: a read of {name} in pool {p.pool_id} timed out:\n"
                        + "\n".join(p.model.history(name))
                    )
        return n
