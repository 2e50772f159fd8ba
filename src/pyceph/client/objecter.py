"""The Objecter: sends object ops to the right OSD and keeps them going across map changes.

For each op it computes the PG and acting primary from its current OSDMap, sends the op
there, and resends — with the same request id, so the OSD's dup index keeps it
exactly-once — when the OSD asks it to retry with a newer map, when the connection
drops, or when a new map moves the PG. It gives up only at the op's timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.addr import parse_addr
from pyceph.common.errors import CephError
from pyceph.mon.monclient import MonClient
from pyceph.msg.connection import Connection

log = logging.getLogger(__name__)

ENOENT = 2
ETIMEDOUT = 110
ESHUTDOWN = 108
SNAP_HEAD = 2**64 - 2
#: Pause before resending when the target is unreachable and no new map arrived.
RESEND_BACKOFF = 0.05
#: Upper bound of that pause as it doubles.
RESEND_BACKOFF_MAX = 1.0
#: Entries asked of an OSD per listing request.
LIST_PAGE = 1024

Op = tuple[str, dict[str, Any], bytes]

#: CEPH_OSD_FLAG_*: write anyway (FULL_FORCE) or fail with ENOSPC (FULL_TRY) on a full pool.
FLAG_FULL_FORCE = 0x1000
FLAG_FULL_TRY = 0x800000
#: pg_pool_t::FLAG_FULL
POOL_FLAG_FULL = 1 << 1
#: Ops that only read; any other op makes the whole op a write.
READ_OPS = frozenset(
    {
        "read",
        "stat",
        "getxattr",
        "getxattrs",
        "pgls",
        "cmpext",
        "assert_version",
        "omap_get_vals",
        "omap_get_keys",
        "omap_get_vals_by_keys",
        "omap_get_header",
        "omap_cmp",
        "list_watchers",
        "list_snaps",
    }
)


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


class Objecter:
    """Object op dispatch with resend on map change, bounded by a timeout."""

    def __init__(self, monc: MonClient, nonce: int) -> None:
        self.monc = monc
        self.nonce = nonce
        self._tids = itertools.count(1)
        self._map_changed = asyncio.Event()
        self._stopped = False

    def on_osdmap(self, _osdmap: Any) -> None:
        """MonClient callback: wake every op waiting for a new map."""
        self._map_changed.set()
        self._map_changed = asyncio.Event()

    def stop(self) -> None:
        self._stopped = True
        self._map_changed.set()

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
        coro = self._run(pool_id, oid, ops, nspace, key, ps, snapid, snapc, flags)
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
        is_write = any(name not in READ_OPS for name, _a, _p in ops)
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
