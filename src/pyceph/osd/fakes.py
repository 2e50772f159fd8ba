"""An in-process cluster of OSD cores over a fake map, a fake monitor and a direct
transport: for unit tests of replication and peering (and a start for the simulator).
Nothing here touches sockets; "killing" an OSD cancels its tasks and keeps its store.
"""

from __future__ import annotations

import asyncio
import copy
import errno
import pickle
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.runtime import real_runtime
from pyceph.crush.hash import ceph_stable_mod
from pyceph.msg.message import TYPE_CODES, Message
from pyceph.osd.osd import OSD
from pyceph.osd.service import OSDOptions
from pyceph.osd.types import object_hash
from pyceph.store.memstore import MemStore


@dataclass
class FakePool:
    pg_num: int = 4
    size: int = 3
    min_size: int = 2
    flags: int = 0
    removed_snaps: list[int] = field(default_factory=list)

    @property
    def pg_num_mask(self) -> int:
        return (1 << max(self.pg_num - 1, 0).bit_length()) - 1


@dataclass
class FakeOsd:
    exists: bool = True
    up: bool = True
    up_thru: int = 0
    up_from: int = 0


@dataclass
class FakeMap:
    """Just what the OSD core reads of an OSDMap; placement rotates the OSD ids by ps."""

    epoch: int = 1
    pools: dict[int, FakePool] = field(default_factory=dict)
    osds: dict[int, FakeOsd] = field(default_factory=dict)
    pg_temp: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    flags: int = 0

    def pg_to_up_acting_osds(self, pool: int, ps: int) -> tuple[list[int], int, list[int], int]:
        p = self.pools[pool]
        ids = sorted(self.osds)
        n = len(ids)
        order = [ids[(ps + i) % n] for i in range(n)]
        up = [o for o in order if self.osds[o].exists and self.osds[o].up][: p.size]
        acting = [o for o in self.pg_temp.get((pool, ps), []) if self.osds[o].up] or up
        return up, (up[0] if up else -1), acting, (acting[0] if acting else -1)

    def next(self) -> FakeMap:
        m = copy.deepcopy(self)
        m.epoch += 1
        return m

    def encode(self) -> bytes:
        """What the OSD stores as its current map (a test map: pickle will do)."""
        return pickle.dumps(self)

    @classmethod
    def decode(cls, data: bytes) -> FakeMap:
        m = pickle.loads(data)
        assert isinstance(m, cls)
        return m


class _Mon:
    def __init__(self, cluster: InProcCluster, osd: int) -> None:
        self.cluster = cluster
        self.osd = osd

    async def osd_alive(self, want_up_thru: int) -> None:
        c = self.cluster
        o = c.map.osds[self.osd]
        if o.up and o.up_thru < want_up_thru:
            m = c.map.next()
            m.osds[self.osd].up_thru = m.epoch
            c.publish(m)

    def pg_ready_to_merge(self, head: dict[str, Any]) -> None:
        if not self.cluster.mon_reachable:
            self.cluster.lost_by_mon.append(("pg_ready_to_merge", dict(head)))
            return
        self.cluster.ready_to_merge.append(dict(head))

    def flush_pg_stats(self) -> int:
        return 0  # no mgr here: nothing to report to

    def pg_temp(self, pgs: dict[str, list[int]]) -> None:
        c = self.cluster
        if not c.mon_reachable:
            c.lost_by_mon.append(("pg_temp", dict(pgs)))
            return
        m = c.map.next()
        for pgid, osds in pgs.items():
            pool, _, ps = pgid.partition(".")
            key = (int(pool), int(ps, 16))
            if osds:
                m.pg_temp[key] = list(osds)
            else:
                m.pg_temp.pop(key, None)
        if m.pg_temp != c.map.pg_temp:
            # as a monitor would: later, not inside the PG that asked
            asyncio.get_running_loop().call_soon(c.publish, m)


class InProcCluster:
    """OSD cores wired together in one event loop."""

    def __init__(self, n: int, pools: dict[int, FakePool], opts: OSDOptions | None = None):
        self.map = FakeMap(1, dict(pools), {i: FakeOsd(up_from=1) for i in range(n)})
        #: the MOSDPGReadyToMerge heads the OSDs sent
        self.ready_to_merge: list[dict[str, Any]] = []
        #: False while the OSDs' monitor sessions are broken: what they send is lost
        #: (`lost_by_mon` keeps it) until `reconnect_mon`
        self.mon_reachable = True
        self.lost_by_mon: list[tuple[str, dict[str, Any]]] = []
        self.stores = {i: MemStore() for i in range(n)}
        for s in self.stores.values():
            s.mkfs()
            s.mount()
        self.opts = opts or OSDOptions()
        self.running: dict[int, OSD] = {}
        self.runtime = real_runtime()
        self.blocked: set[tuple[int, int]] = set()  # (src, dst) pairs whose calls fail
        self.client_nonce = 1
        self.tid = 0

    def _transport(self, src: int) -> Any:
        async def call(dst: int, mtype: str, head: dict[str, Any], data: Any) -> Message:
            assert mtype in TYPE_CODES, f"{mtype} is not a registered message type"
            if src not in self.running:
                raise CephError(errno.ESHUTDOWN, "caller is dead")
            target = self.running.get(dst)
            if target is None or (src, dst) in self.blocked:
                raise CephError(errno.ECONNREFUSED, f"osd.{dst} unreachable")
            reply = await target.handle(f"osd.{src}", mtype, dict(head), bytes(data))
            if src not in self.running or self.running.get(dst) is not target:
                raise CephError(errno.ECONNRESET, "connection reset")
            assert reply is not None
            return Message("reply", reply[0], bytes(reply[1]))

        return call

    async def start_osd(self, i: int) -> OSD:
        osd = OSD(
            i, self.stores[i], self.runtime, self.opts, self._transport(i), _Mon(self, i),
            decode_map=FakeMap.decode,
        )  # fmt: skip
        await osd.load_pgs()
        self.running[i] = osd
        osd.handle_map(self.map)
        return osd

    async def start(self) -> None:
        for i in sorted(self.map.osds):
            await self.start_osd(i)

    def publish(self, m: FakeMap) -> None:
        self.map = m
        for osd in list(self.running.values()):
            osd.handle_map(m)

    def reconnect_mon(self) -> None:
        """The OSDs' monitor sessions are back: each OSD is told, as its daemon is when
        its MonClient opens a new session."""
        self.mon_reachable = True
        for osd in list(self.running.values()):
            osd.mon_session_opened()

    async def kill(self, i: int, mark_down: bool = True) -> None:
        """kill -9: the OSD's tasks stop where they are; its store keeps what committed."""
        osd = self.running.pop(i)
        await osd.stop()
        if mark_down:
            m = self.map.next()
            m.osds[i].up = False
            self.publish(m)

    async def revive(self, i: int) -> OSD:
        m = self.map.next()
        m.osds[i].up = True
        m.osds[i].up_from = m.epoch
        self.map = m
        osd = await self.start_osd(i)
        self.publish(m)
        return osd

    async def stop(self) -> None:
        for i in list(self.running):
            osd = self.running.pop(i)
            await osd.stop()

    # -- a minimal client ----------------------------------------------------------------
    def locate(self, pool: int, name: str, nspace: str = "") -> int:
        p = self.map.pools[pool]
        return ceph_stable_mod(object_hash((nspace, name, "")), p.pg_num, p.pg_num_mask)

    async def op(
        self,
        pool: int,
        name: str,
        ops: list[Any],
        data: bytes = b"",
        reqid: tuple[str, int, int] | None = None,
        nspace: str = "",
        timeout: float = 10.0,
        snapid: int | None = None,
        snapc: tuple[int, list[int]] | None = None,
    ) -> tuple[dict[str, Any], bytes]:
        """Send an op to the primary, following retries like the objecter."""
        import asyncio

        if reqid is None:
            self.tid += 1
            reqid = ("client.test", self.client_nonce, self.tid)
        ps = self.locate(pool, name, nspace)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            _up, _upp, _acting, primary = self.map.pg_to_up_acting_osds(pool, ps)
            osd = self.running.get(primary)
            if osd is not None:
                head = {
                    "tid": self.tid,
                    "reqid": list(reqid),
                    "epoch": self.map.epoch,
                    "pool": pool,
                    "ps": ps,
                    "oid": name,
                    "nspace": nspace,
                    "key": "",
                    "ops": ops,
                }
                if snapid is not None:
                    head["snapid"] = snapid
                if snapc is not None:
                    head["snapc"] = [snapc[0], list(snapc[1])]
                try:
                    reply = await asyncio.wait_for(
                        osd.handle("client.test", "osd_op", head, data, None),
                        max(0.05, deadline - asyncio.get_running_loop().time()),
                    )
                except TimeoutError:
                    raise CephError(errno.ETIMEDOUT, "op timed out") from None
                assert reply is not None
                if "retry" not in reply[0]:
                    return reply[0], bytes(reply[1])
            if asyncio.get_running_loop().time() > deadline:
                raise CephError(errno.ETIMEDOUT, "op timed out")
            await asyncio.sleep(0.01)

    async def wait_clean(self, timeout: float = 10.0) -> None:
        """Until every PG's primary reports active+clean."""
        import asyncio

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            bad = []
            for pool_id, pool in self.map.pools.items():
                for ps in range(pool.pg_num):
                    _u, _up, _a, primary = self.map.pg_to_up_acting_osds(pool_id, ps)
                    osd = self.running.get(primary)
                    pg = osd.pgs.get((pool_id, ps)) if osd else None
                    if pg is None or not pg.peering.is_clean():
                        bad.append((pool_id, ps, pg.state if pg else None))
            if not bad:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"PGs not clean: {bad}")
            await asyncio.sleep(0.01)

    async def wait_active(self, timeout: float = 10.0) -> None:
        import asyncio

        from pyceph.osd.peering import ACTIVE

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            bad = []
            for pool_id, pool in self.map.pools.items():
                for ps in range(pool.pg_num):
                    _u, _up, _a, primary = self.map.pg_to_up_acting_osds(pool_id, ps)
                    osd = self.running.get(primary)
                    pg = osd.pgs.get((pool_id, ps)) if osd else None
                    if pg is None or pg.state != ACTIVE:
                        bad.append((pool_id, ps, pg.state if pg else None))
            if not bad:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"PGs not active: {bad}")
            await asyncio.sleep(0.01)
