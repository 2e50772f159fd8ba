"""Snapshots across in-process OSD cores: clones replicate, recover, and are trimmed when
the map removes their snaps."""

from __future__ import annotations

import asyncio

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.types import object_key, pg_cid
from pyceph.store.types import HEAD


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def snaps_on(c: InProcCluster, pool: int, name: str) -> dict[int, list[int]]:
    """Per OSD, the snap ids of the store objects of `name` (clones, head, snapdir)."""
    ps = c.locate(pool, name)
    k = object_key(pool, ("", name, ""))
    out = {}
    for i, s in c.stores.items():
        if not s.collection_exists(pg_cid(pool, ps)):
            continue
        keys = s.collection_list(pg_cid(pool, ps), None, 1000)[0]
        got = [x.snap for x in keys if x.name == k.name]
        if got:
            out[i] = got
    return out


async def write(c, name, data, snapc=None):
    h, _ = await c.op(1, name, [["write_full", {"dlen": len(data)}]], data, snapc=snapc)
    return h["r"]


async def read(c, name, snapid=None):
    h, d = await c.op(1, name, [["read", {"offset": 0, "length": 0}]], snapid=snapid)
    return h["r"], d


def primary_stats(c: InProcCluster) -> dict[str, int]:
    tot = {"num_objects": 0, "num_object_clones": 0}
    for osd in c.running.values():
        for st in osd.report()["pg_stats"].values():
            for k in tot:
                tot[k] += st[k]
    return tot


def test_clones_replicate_and_read_at_snap():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=4, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        assert await write(c, "o", b"v1") == 0
        assert await write(c, "o", b"v2", snapc=(2, [2])) == 0
        placed = snaps_on(c, 1, "o")
        assert len(placed) == 3 and all(v == [2, HEAD] for v in placed.values())
        assert await read(c, "o", 2) == (0, b"v1")
        assert await read(c, "o") == (0, b"v2")
        st = primary_stats(c)
        assert st == {"num_objects": 2, "num_object_clones": 1}
        # pgls lists heads only
        ps = c.locate(1, "o")
        h, _ = await c.op(1, "o", [["pgls", {"max": 100}]])
        assert h["ops"][0]["entries"] == [["", "o", ""]], ps
        await c.stop()

    run(main())


def test_trim_when_map_removes_the_snap():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=4, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        await write(c, "a", b"a1")
        await write(c, "a", b"a2", snapc=(2, [2]))
        await write(c, "b", b"b1")
        await c.op(1, "b", [["delete", {}]], snapc=(2, [2]))
        await write(c, "keep", b"k1")
        await write(c, "keep", b"k2", snapc=(3, [3, 2]))  # serves snap 3 too: survives
        assert primary_stats(c)["num_object_clones"] == 3
        m = c.map.next()
        m.pools[1].removed_snaps = [2]
        c.publish(m)
        for _ in range(200):
            if primary_stats(c)["num_object_clones"] == 1:
                break
            await asyncio.sleep(0.02)
        assert primary_stats(c)["num_object_clones"] == 1
        assert all(v == [HEAD] for v in snaps_on(c, 1, "a").values())
        assert snaps_on(c, 1, "b") == {}
        assert all(v == [3, HEAD] for v in snaps_on(c, 1, "keep").values())
        assert await read(c, "keep", 3) == (0, b"k1")
        assert (await read(c, "a", 2))[0] == -2
        await c.stop()

    run(main())


def test_clones_recover_to_a_revived_osd():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        await write(c, "o", b"v1")
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        victim = next(o for o in acting if o != primary)
        await c.kill(victim)
        await c.wait_active()
        await write(c, "o", b"v2", snapc=(4, [4]))
        await c.op(1, "o", [["delete", {}]], snapc=(5, [5, 4]))
        await c.revive(victim)
        await c.wait_clean()
        placed = snaps_on(c, 1, "o")
        assert placed[victim] == placed[primary]
        assert len(placed[victim]) == 3  # clones 4 and 5 and the snapdir
        # the revived OSD can serve as primary with the clones it recovered
        for o in list(c.running):
            if o != victim:
                await c.kill(o)
        m = c.map.next()
        m.pools[1].min_size = 1
        c.publish(m)
        await c.wait_active()
        assert await read(c, "o", 4) == (0, b"v1")
        assert await read(c, "o", 5) == (0, b"v2")
        assert (await read(c, "o"))[0] == -2
        await c.stop()

    run(main())
