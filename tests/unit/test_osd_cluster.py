"""Replication, failures and recovery across several in-process OSD cores."""

from __future__ import annotations

import asyncio

import pytest

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.service import OSDOptions
from pyceph.osd.types import object_key, pg_cid
from pyceph.store.errors import StoreError


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def holders(c: InProcCluster, pool: int, name: str) -> dict[int, bytes]:
    ps = c.locate(pool, name)
    out = {}
    for i, s in c.stores.items():
        try:
            out[i] = s.read(pg_cid(pool, ps), object_key(pool, ("", name, "")))
        except StoreError:
            pass
    return out


async def _write(c, name, data, **kw):
    h, _ = await c.op(1, name, [["write_full", {"dlen": len(data)}]], data, **kw)
    return h


async def _append(c, name, data, **kw):
    h, _ = await c.op(1, name, [["append", {"dlen": len(data)}]], data, **kw)
    return h


async def _read(c, name):
    h, d = await c.op(1, name, [["read", {"offset": 0, "length": 0}]])
    return h["r"], d


def test_write_lands_on_exactly_the_acting_set():
    async def main():
        c = InProcCluster(5, {1: FakePool(pg_num=8, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        for i in range(20):
            assert (await _write(c, f"obj{i}", b"x%d" % i))["r"] == 0
        for i in range(20):
            ps = c.locate(1, f"obj{i}")
            _u, _p, acting, _ap = c.map.pg_to_up_acting_osds(1, ps)
            h = holders(c, 1, f"obj{i}")
            assert sorted(h) == sorted(acting)
            assert set(h.values()) == {b"x%d" % i}
        await c.stop()

    run(main())


def test_resend_is_answered_from_the_dup_index():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=2)})
        await c.start()
        await c.wait_clean()
        rq = ("client.x", 7, 1)
        h1 = await _append(c, "a", b"abc", reqid=rq)
        h2 = await _append(c, "a", b"abc", reqid=rq)
        assert h1["r"] == h2["r"] == 0 and h1["version"] == h2["version"]
        assert (await _read(c, "a")) == (0, b"abc")
        await c.stop()

    run(main())


def test_replica_then_primary_killed_with_writes_in_flight():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        replica = [o for o in acting if o != primary][0]
        acked: list[int] = []
        tid = 0

        async def writer(n):
            nonlocal tid
            for _k in range(n):
                tid += 1
                rq = ("client.w", 1, tid)
                # resend the same reqid until acknowledged, like the objecter
                while True:
                    try:
                        h = await _append(c, "log", b"%04d," % tid, reqid=rq, timeout=2)
                    except Exception:
                        continue
                    if h["r"] == 0:
                        acked.append(tid)
                        break

        w = asyncio.ensure_future(writer(40))
        await asyncio.sleep(0.02)
        await c.kill(replica)
        await asyncio.sleep(0.02)
        await c.kill(primary)
        # Only one OSD left: below min_size, writes wait.
        await asyncio.sleep(0.1)
        await c.revive(primary)
        await c.revive(replica)
        await w
        await c.wait_clean()
        r, data = await _read(c, "log")
        assert r == 0
        parts = [int(p) for p in data.decode().strip(",").split(",")]
        assert parts == sorted(parts) and len(parts) == len(set(parts))
        assert set(acked) <= set(parts)
        assert set(holders(c, 1, "log").values()) == {data}
        await c.stop()

    run(main())


def test_divergent_write_on_old_primary_is_rolled_back():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        assert (await _write(c, "o", b"v1"))["r"] == 0
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        others = [o for o in acting if o != primary]
        # The primary can no longer reach its replicas: its write is never acked.
        for o in others:
            c.blocked.add((primary, o))
        stuck = asyncio.ensure_future(_write(c, "o", b"divergent", timeout=30))
        await asyncio.sleep(0.05)
        assert not stuck.done()
        assert holders(c, 1, "o")[primary] == b"divergent"
        await c.kill(primary)
        c.blocked.clear()
        await c.wait_active()
        assert (await _write(c, "o", b"v2"))["r"] == 0
        await c.revive(primary)
        await c.wait_clean()
        stuck.cancel()
        assert (await _read(c, "o")) == (0, b"v2")
        assert set(holders(c, 1, "o").values()) == {b"v2"}
        await c.stop()

    run(main())


def test_returning_osd_behind_trimmed_log_is_backfilled():
    async def main():
        opts = OSDOptions(max_pg_log_entries=10, min_pg_log_entries=5, pg_log_trim_min=1)
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)}, opts)
        await c.start()
        await c.wait_clean()
        for i in range(5):
            await _write(c, f"old{i}", b"old")
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        victim = [o for o in acting if o != primary][0]
        await c.kill(victim)
        await c.wait_active()
        for i in range(40):
            await _write(c, f"new{i}", b"new%d" % i)
        await c.op(1, "old0", [["delete", {}]])
        await c.revive(victim)
        await c.wait_clean()
        for i in range(40):
            assert holders(c, 1, f"new{i}") == {o: b"new%d" % i for o in range(3)}
        assert holders(c, 1, "old0") == {}
        assert sorted(holders(c, 1, "old1")) == [0, 1, 2]
        await c.stop()

    run(main())


def test_pg_log_is_trimmed_in_batches_of_trim_min():
    """osd_pg_log_trim_min: a clean PG's log grows to min + trim_min entries, then loses
    a whole batch at once, on the primary and its replicas alike."""

    async def main():
        opts = OSDOptions(min_pg_log_entries=5, pg_log_trim_min=4)
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)}, opts)
        await c.start()
        await c.wait_clean()
        lengths = []
        for i in range(30):
            await _write(c, f"o{i}", b"x")
            logs = {o: c.running[o].pgs[(1, 0)].log for o in c.running}
            assert len({(lg.tail, lg.head) for lg in logs.values()}) == 1  # replicas agree
            lengths.append(len(logs[0]))
        assert max(lengths) == 5 + 4 - 1 and min(lengths[10:]) == 5
        drops = [a - b for a, b in zip(lengths, lengths[1:], strict=False) if b < a]
        assert drops and all(d == 4 - 1 for d in drops)  # a batch of 4 out, 1 entry in
        await c.stop()

    run(main())


def test_below_min_size_ops_wait_then_complete():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        others = [o for o in acting if o != primary]
        await c.kill(others[0])
        await c.kill(others[1])
        t = asyncio.ensure_future(_write(c, "w", b"late", timeout=20))
        await asyncio.sleep(0.1)
        assert not t.done()
        await c.revive(others[0])
        h = await t
        assert h["r"] == 0
        assert (await _read(c, "w")) == (0, b"late")
        await c.stop()

    run(main())


def test_pgls_pages_through_a_pg():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1)})
        await c.start()
        await c.wait_clean()
        names = {f"n{i}" for i in range(25)}
        for n in names:
            await _write(c, n, b"d")
        await c.op(1, "ns-obj", [["create", {}]], nspace="other")
        seen = []
        cursor = None
        while True:
            _u, _p, _a, primary = c.map.pg_to_up_acting_osds(1, 0)
            head = {
                "epoch": c.map.epoch,
                "pool": 1,
                "ps": 0,
                "oid": None,
                "ops": [["pgls", {"cursor": cursor, "max": 7, "nspace": ""}]],
                "reqid": ["client.t", 1, 999],
            }
            h, _ = await c.running[primary].handle("client.t", "osd_op", head, b"")
            out = h["ops"][0]
            assert len(out["entries"]) <= 7
            seen += [e[1] for e in out["entries"]]
            cursor = out["cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(names)
        await c.stop()

    run(main())


@pytest.mark.parametrize("flag", ["pool", "map"])
def test_full_flag_refuses_writes_with_enospc(flag):
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1)})
        await c.start()
        await c.wait_clean()
        await _write(c, "a", b"1")
        m = c.map.next()
        if flag == "pool":
            m.pools[1].flags |= 1 << 1
        else:
            m.flags |= 1 << 1
        c.publish(m)
        assert (await _write(c, "a", b"2"))["r"] == -28
        assert (await _read(c, "a")) == (0, b"1")
        await c.stop()

    run(main())
