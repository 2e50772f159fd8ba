"""Erasure-coded PGs (upstream ECBackend, simplified): shards on the acting set.

Placement: shard i of an EC PG lives on acting[i] (a hole, CRUSH_ITEM_NONE, is a
missing shard); each OSD keeps its shard in the collection named after it
(``1.2s0_head``, `pyceph.osd.types.pg_cid`). Every shard carries the full object
metadata (object info with the logical size and version, user xattrs, snapset) and
the same PG log, so peering, backfill listing and the log machinery of the replicated
PG are reused unchanged; only object *data* differs per shard (`pyceph.ec.Codec`'s
layout: chunk i of every stripe on shard i, parity on shards k..k+m-1).

Ops: the primary rebuilds the object's logical state in a scratch in-memory store
(data decoded from any k shards: its own plus `pg_pull`s of its peers' shards, or
only sizes and metadata when the op vector never looks at the old bytes), runs the
ordinary op executor (`pyceph.osd.ops.execute`) on it, and turns the resulting
logical transaction into one store transaction per shard (`shard_txns`): metadata
ops are copied to every shard, and every object whose data changed is re-encoded
from the first stripe it touched to its end (upstream's read-modify-write of the
partial stripes; on pools without ``allow_ec_overwrites`` only whole-stripe appends
and full writes get this far, see `OpEnv.aligned_append`). Each OSD gets its own
transaction in the usual `rep_op`.

Recovery: a shard missing on an OSD is rebuilt from any k other shards
(`Codec.reconstruct`) and written locally or pushed (`pg_push`) to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyceph.ec import Codec, ErasureCodeError
from pyceph.osd import pgmeta
from pyceph.osd.ops import OI_ATTR, ObjectInfo
from pyceph.osd.service import PEER_RETRY_DELAY
from pyceph.osd.snaps import object_keys
from pyceph.osd.types import Oid, Version, object_key, pg_cid
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Op, Transaction
from pyceph.store.types import HEAD, SNAPDIR, ObjectKey

if TYPE_CHECKING:
    from pyceph.osd.pg import PG

log = logging.getLogger(__name__)

POOL_TYPE_ERASURE = 3
FLAG_EC_OVERWRITES = 1 << 2

#: ops that never look at the object's old data
_META_OPS = frozenset(
    {
        "write_full",
        "create",
        "delete",
        "setxattr",
        "rmxattr",
        "stat",
        "getxattr",
        "getxattrs",
        "assert_version",
        "watch",
        "notify",
        "notify_ack",
        "list_watchers",
        "list_snaps",
        "omap_get_vals",
        "omap_get_keys",
        "omap_get_vals_by_keys",
        "omap_get_header",
        "omap_cmp",
        "omap_set",
        "omap_set_header",
        "omap_rm_keys",
        "omap_clear",
        "omap_rm_range",
    }
)
#: ops that only write past the old data when appends must be stripe-aligned
_APPEND_OPS = frozenset({"write", "append", "writesame"})
_DATA_OPS = (Op.WRITE, Op.ZERO, Op.TRUNCATE)
#: Seconds the OSDs outside the PG's peering get to answer for an unfound object.
UNFOUND_PROBE_TIMEOUT = 5.0


def is_erasure(pool: Any) -> bool:
    return pool is not None and int(getattr(pool, "type", 1)) == POOL_TYPE_ERASURE


def split_payload(head: Mapping[str, Any], data: bytes | memoryview) -> dict[int, bytes]:
    """An `object_payload` (head, data) -> {snap: that store object's bytes}."""
    mv = memoryview(data)
    out: dict[int, bytes] = {}
    pos = 0
    for o in head.get("objs") or []:
        n = int(o.get("dlen", 0))
        out[int(o["snap"])] = bytes(mv[pos : pos + n])
        pos += n
    return out


def payload_version(head: Mapping[str, Any]) -> Version | None:
    """The version of an `object_payload`'s object: its head's object info, else its
    snapdir's (only clones left); None when it does not exist."""
    by_snap = {int(o["snap"]): o for o in head.get("objs") or []}
    for snap in (HEAD, SNAPDIR):
        raw = (by_snap.get(snap) or {}).get("attrs", {}).get(OI_ATTR)
        if raw:
            return ObjectInfo.decode(bytes(raw)).version
    return None


class ECBackend:
    """The erasure-coding side of one PG (its `PG` keeps log, peering and locks)."""

    def __init__(self, pg: PG, profile: Mapping[str, str], stripe_width: int) -> None:
        self.pg = pg
        k = int(profile.get("k", 2))
        unit = stripe_width // k if stripe_width and stripe_width % k == 0 else None
        self.codec = Codec(profile, stripe_unit=unit)
        self.sinfo = self.codec.stripe_info
        self.overwrites = False

    @classmethod
    def for_pool(cls, pg: PG, osdmap: Any, pool: Any) -> ECBackend:
        profile = osdmap.erasure_code_profiles.get(pool.erasure_code_profile) or {}
        be = cls(pg, profile, int(pool.stripe_width or 0))
        be.update(pool)
        return be

    def update(self, pool: Any) -> None:
        self.overwrites = bool(int(getattr(pool, "flags", 0)) & FLAG_EC_OVERWRITES)

    @property
    def aligned_append(self) -> int:
        """pg_pool_t::required_alignment() if requires_aligned_append(), else 0."""
        return 0 if self.overwrites else self.codec.stripe_width

    # -- placement -------------------------------------------------------------------
    def placement(self) -> dict[int, int]:
        """osd -> the shard it holds, for the live members of the acting set and the
        backfill targets (each at its up position: it receives that shard's writes
        while the acting OSD at that position still serves it)."""
        pe = self.pg.peering
        v = pe.view
        if v is None:
            return {}
        out = {o: i for i, o in enumerate(v.shards) if o >= 0}
        for o in pe.backfill_targets:
            shard = pe.backfill_shard(o)
            if shard is not None and o not in out:
                out[o] = shard
        return out

    def shard_cid(self, shard: int) -> str:
        return pg_cid(self.pg.pool, self.pg.ps, shard)

    def need_data(self, ops: list[Any]) -> bool:
        """Does the op vector need the object's old bytes (decoded from k shards)?"""
        for op in ops:
            name = str(op[0])
            if name in _META_OPS:
                continue
            if name in _APPEND_OPS and not self.overwrites:
                continue
            return True
        return False

    # -- gathering shards --------------------------------------------------------------
    async def gather(
        self, oid: Oid, gen: int, exclude: frozenset[int] = frozenset()
    ) -> dict[int, tuple[dict[str, Any], dict[int, bytes]]]:
        """At least k shards of `oid` (shard -> (payload head, {snap: bytes})), when
        that many current ones answer; fewer if not."""
        pg = self.pg
        me = pg.svc.whoami
        k = self.codec.k
        out: dict[int, tuple[dict[str, Any], dict[int, bytes]]] = {}
        place = self.placement()
        if me not in exclude and oid not in pg.peering.missing and me in place:
            head, data = pg.object_payload(oid)
            out[place[me]] = (head, split_payload(head, data))
        if len(out) >= k:
            return out
        # the version every shard must be at: the one we miss, else ours
        want = pg.peering.missing.get(oid) or pg.object_version(oid)
        tasks: dict[asyncio.Future[Any], tuple[int, int]] = {}
        # acting OSDs first (they serve the shard), then targets, then strays that still
        # hold a shard of the object at the authoritative version
        targets = pg.peering.backfill_targets
        sources = sorted(place.items(), key=lambda x: (x[0] in targets, x[1]))
        strays = pg.peering.stray_shards(oid)
        sources += sorted(((o, s) for o, s in strays.items() if o not in place), key=lambda x: x[1])
        for osd, shard in sources:
            if osd == me or osd in exclude:
                continue
            if oid in pg.peering.peer_missing.get(osd, {}):
                continue
            fut = asyncio.ensure_future(
                pg.peer_call(osd, "pg_pull", pg.peer_head(oid=list(oid)), gen)
            )
            tasks[fut] = (osd, shard)
        await self._collect(oid, tasks, out, want)
        if len(out) < k and want is not None:
            # unfound among the OSDs peering heard from: any other up OSD may still
            # hold a shard at the wanted version (upstream discover_all_missing asks
            # the OSDs that might have it); each gets a bounded time to answer, and only
            # a shard at exactly that version counts
            asked = {osd for osd, _ in sources} | set(exclude) | {me}
            osdmap = getattr(pg.svc, "osdmap", None)
            others = sorted(
                o for o in getattr(osdmap, "osds", {}) if o not in asked and osdmap.is_up(o)
            )
            for osd in others:
                fut = asyncio.ensure_future(
                    pg.peer_call(osd, "pg_pull", pg.peer_head(oid=list(oid)), gen)
                )
                tasks[fut] = (osd, -1)
            await self._collect(oid, tasks, out, want, UNFOUND_PROBE_TIMEOUT, exact=True)
        return out

    async def _collect(
        self,
        oid: Oid,
        tasks: dict[asyncio.Future[Any], tuple[int, int]],
        out: dict[int, tuple[dict[str, Any], dict[int, bytes]]],
        want: Version | None,
        timeout: float | None = None,
        exact: bool = False,
    ) -> None:
        """Add the `pg_pull` answers of `tasks` (future -> (osd, the shard it serves))
        to `out` until k shards are in, every task answered, or `timeout` passed; the
        rest are cancelled. `exact`: only answers holding the object at `want`."""
        pg = self.pg
        k = self.codec.k
        deadline = None if timeout is None else pg.svc.runtime.clock.monotonic() + timeout
        try:
            while tasks and len(out) < k:
                left = None if deadline is None else deadline - pg.svc.runtime.clock.monotonic()
                if left is not None and left <= 0:
                    return
                done, _ = await asyncio.wait(
                    set(tasks), timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                for t in done:
                    _osd, shard = tasks.pop(t)
                    r = t.result()  # IntervalChanged propagates
                    if r.head.get("r", 0) != 0:
                        continue
                    s = r.head.get("shard")
                    s = shard if s is None else int(s)
                    got = payload_version(r.head)
                    if exact and got != want:
                        continue
                    if want is not None and got is not None and got != want:
                        # a shard of another version (equal padded lengths would
                        # decode into garbage): never mix it in
                        log.warning("pg %s: %s: osd.%s has shard %s at %s, not %s",
                                    pg.pgid, oid, _osd, s, got, want)  # fmt: skip
                        continue
                    if s >= 0 and s not in out:
                        out[s] = (dict(r.head), split_payload(r.head, r.data))
        finally:
            for t in tasks:
                t.cancel()
            tasks.clear()

    async def materialize(self, oid: Oid, gen: int, need_data: bool) -> MemStore:
        """A scratch store whose collection `pg.cid` holds the logical object (head,
        snapdir, clones) with our shard's metadata; data decoded when `need_data`, else
        zeros of the right size."""
        from pyceph.osd.pg import IntervalChanged

        pg = self.pg
        store = pg.svc.store
        cid = pg.cid
        scratch = MemStore()
        scratch.mkfs()
        scratch.mount()
        t = Transaction().create_collection(cid)
        keys = (
            object_keys(store, cid, object_key(pg.pool, oid))
            if store.collection_exists(cid)
            else []
        )
        sizes: dict[ObjectKey, int] = {}
        for key in keys:
            attrs = {n: bytes(v) for n, v in store.getattrs(cid, key).items()}
            t.touch(cid, key)
            if attrs:
                t.setattrs(cid, key, attrs)
            size = 0
            if key.snap != SNAPDIR and OI_ATTR in attrs:
                size = ObjectInfo.decode(attrs[OI_ATTR]).size
            sizes[key] = size
        if need_data and any(sizes.values()):
            shards = await self.gather(oid, gen)
            if len(shards) < self.codec.k:
                log.warning("pg %s: %s: only shards %s readable", pg.pgid, oid, sorted(shards))
                await pg.race(pg.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                raise IntervalChanged
            for key, size in sizes.items():
                if not size:
                    continue
                avail = {s: d[key.snap] for s, (_h, d) in shards.items() if key.snap in d}
                want = self.sinfo.object_shard_size(size)
                avail = {s: b for s, b in avail.items() if len(b) == want}
                try:
                    data = self.codec.decode(avail, size)
                except ErasureCodeError as e:
                    log.warning("pg %s: %s: decode failed: %s", pg.pgid, oid, e)
                    await pg.race(pg.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                    raise IntervalChanged from None
                t.write(cid, key, 0, data)
        else:
            for key, size in sizes.items():
                if size:
                    t.truncate(cid, key, size)
        scratch.apply_transaction(t)
        return scratch

    # -- writes ------------------------------------------------------------------------
    def shard_txns(self, scratch: MemStore, txn: Transaction) -> dict[int, Transaction]:
        """One store transaction per acting OSD for the logical transaction `txn` (on
        `pg.cid`), which has already been applied to `scratch`."""
        cid = self.pg.cid
        sw, cs = self.codec.stripe_width, self.codec.chunk_size
        meta: list[tuple[Any, ...]] = []
        dirty: dict[ObjectKey, int] = {}
        for op in txn.ops:
            code = op[0]
            if code in _DATA_OPS:
                key = op[2]
                if key not in dirty:
                    meta.append((Op.TOUCH, cid, key))
                    dirty[key] = int(op[3])
                else:
                    dirty[key] = min(dirty[key], int(op[3]))
            elif code == Op.CLONERANGE2:
                dst = op[3]
                meta.append((Op.TOUCH, cid, dst))
                dirty[dst] = 0
            else:
                if code == Op.REMOVE:
                    dirty.pop(op[2], None)
                meta.append(op)
        encoded: list[tuple[ObjectKey, int, list[bytes]]] = []
        for key, off in dirty.items():
            if not scratch.exists(cid, key):
                continue
            size = scratch.stat(cid, key)
            start = self.sinfo.logical_to_prev_stripe_offset(min(off, size))
            logical = scratch.read(cid, key, start, size - start) if size > start else b""
            encoded.append((key, start // sw * cs, self.codec.encode(logical)))
        out: dict[int, Transaction] = {}
        for osd, shard in self.placement().items():
            scid = self.shard_cid(shard)
            t = Transaction()
            for op in meta:
                t.ops.append((op[0], scid, *op[2:]))
            for key, coff, shards in encoded:
                t.truncate(scid, key, coff)
                if shards[shard]:
                    t.write(scid, key, coff, shards[shard])
            out[osd] = t
        return out

    def retarget(self, txn: Transaction) -> dict[int, Transaction]:
        """A metadata-only transaction on `pg.cid` (log-only, snap trimming) for every
        acting OSD's shard collection."""
        out: dict[int, Transaction] = {}
        cid = self.pg.cid
        for osd, shard in self.placement().items():
            scid = self.shard_cid(shard)
            t = Transaction()
            for op in txn.ops:
                t.ops.append((op[0], scid, *op[2:]) if len(op) > 1 and op[1] == cid else op)
            t.data_bytes = txn.data_bytes
            out[osd] = t
        return out

    # -- recovery ----------------------------------------------------------------------
    async def recover_one(self, osd: int, oid: Oid, gen: int) -> None:
        """Rebuild `oid`'s shard on `osd` (maybe us) from k others; caller holds the
        object lock."""
        from pyceph.osd.pg import IntervalChanged

        pg = self.pg
        if gen != pg.gen:
            raise IntervalChanged
        me = pg.svc.whoami
        if osd == me:
            if oid not in pg.peering.missing:
                return
        elif oid not in pg.peering.peer_missing.get(osd, {}):
            return
        target = self.placement().get(osd)
        if target is None:
            if osd != me:
                pg.run_effects(pg.peering.on_recovered(osd, oid))
            return
        shards = await self.gather(oid, gen, exclude=frozenset({osd}))
        gone = [h for h, _d in shards.values() if not h.get("exists")]
        if gone:
            head: dict[str, Any] = {"oid": list(oid), "r": 0, "exists": False, "objs": []}
            data = b""
        else:
            if len(shards) < self.codec.k:
                log.warning("pg %s: %s unfound (shards %s)", pg.pgid, oid, sorted(shards))
                await pg.race(pg.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                return
            h0 = next(iter(shards.values()))[0]
            objs: list[dict[str, Any]] = []
            datas: list[bytes] = []
            try:
                for o in h0.get("objs") or []:
                    snap = int(o["snap"])
                    avail = {s: d[snap] for s, (_h, d) in shards.items() if snap in d}
                    lens = [len(b) for b in avail.values()]
                    common = max(set(lens), key=lens.count) if lens else 0
                    avail = {s: b for s, b in avail.items() if len(b) == common}
                    rebuilt = self.codec.reconstruct(avail, [target])[target] if common else b""
                    objs.append({**o, "dlen": len(rebuilt)})
                    datas.append(rebuilt)
            except ErasureCodeError as e:
                log.warning("pg %s: %s: cannot rebuild shard %s: %s", pg.pgid, oid, target, e)
                await pg.race(pg.svc.runtime.clock.sleep(PEER_RETRY_DELAY), gen)
                return
            head = {"oid": list(oid), "r": 0, "exists": True, "objs": objs}
            data = b"".join(datas)
        if osd == me:
            t = pg.object_txn(oid, head, data)
            pgmeta.write_missing(t, pg.cid, oid, None)
            if gen != pg.gen:
                raise IntervalChanged
            pg.peering.missing.pop(oid, None)
            await pg.commit(t)
            pg.run_effects(pg.peering.on_recovered(me, oid))
            return
        r = await pg.peer_call(osd, "pg_push", pg.peer_head(**head), gen, data)
        if r.head.get("r", 0) == 0 and gen == pg.gen:
            pg.run_effects(pg.peering.on_recovered(osd, oid))
