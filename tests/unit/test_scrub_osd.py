"""Scrub across in-process OSD cores: bit rot, size mismatch and a missing copy are
found; repair rewrites the bad copies; a read never returns bytes that fail a checksum."""

from __future__ import annotations

import asyncio
from typing import Any

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.scrub import ScrubOptions
from pyceph.osd.types import object_key, pg_cid
from pyceph.store.kvcore import SP_DATA
from pyceph.store.transaction import Transaction

POOL = 1


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _write(c: InProcCluster, name: str, data: bytes) -> None:
    h, _ = await c.op(POOL, name, [["write_full", {"dlen": len(data)}]], data)
    assert h["r"] == 0


async def _read(c: InProcCluster, name: str) -> tuple[int, bytes]:
    h, d = await c.op(POOL, name, [["read", {"offset": 0, "length": 0}]])
    return h["r"], bytes(d)


def rot(store: Any, nbytes_expected: int) -> None:
    """Flip one data byte of the (single) object extent in a memory store, leaving its
    stored crc32c as it was: silent corruption the store's checksum must catch."""
    sp = store.kv.spaces[SP_DATA]
    keys = [k for k, v in sp.d.items() if len(v) - 4 == nbytes_expected]
    assert len(keys) == 1, keys
    v = bytearray(sp.d[keys[0]])
    v[4] ^= 0xFF
    sp.d[keys[0]] = bytes(v)


def _acting(c: InProcCluster, name: str) -> tuple[int, list[int], int]:
    ps = c.locate(POOL, name)
    _u, _up, acting, primary = c.map.pg_to_up_acting_osds(POOL, ps)
    return ps, list(acting), primary


async def _scrub(c: InProcCluster, ps: int, primary: int, deep: bool, repair: bool = False):
    pg = c.running[primary].pgs[(POOL, ps)]
    before = pg.scrub.last_scrub_stamp, pg.scrub.result
    assert pg.request_scrub(deep, repair)
    await asyncio.wait_for(pg._scrubber, 10)
    assert (pg.scrub.last_scrub_stamp, pg.scrub.result) != before
    return pg


def test_deep_scrub_finds_bit_rot_and_repair_fixes_it():
    async def main():
        c = InProcCluster(3, {POOL: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        data = b"precious-" * 50
        await _write(c, "obj", data)
        ps, acting, primary = _acting(c, "obj")
        victim = acting[1]
        rot(c.stores[victim], len(data))
        pg = await _scrub(c, ps, primary, deep=False)
        assert pg.scrub.errors == 0  # a shallow scrub does not read data
        pg = await _scrub(c, ps, primary, deep=True)
        assert pg.scrub.errors == 1
        assert "+inconsistent" in pg.pg_stats()["state"]
        body = pg.scrub.list_inconsistent()
        (inc,) = body["inconsistents"]
        assert inc["object"]["name"] == "obj" and inc["object"]["snap"] == "head"
        assert inc["errors"] == [] and inc["union_shard_errors"] == ["read_error"]
        shards = {s["osd"]: s for s in inc["shards"]}
        assert shards[victim]["errors"] == ["read_error"]
        assert shards[primary]["primary"] is True and shards[primary]["errors"] == []
        assert shards[primary]["size"] == len(data)
        assert "data_digest" in shards[primary] and "data_digest" not in shards[victim]
        pg = await _scrub(c, ps, primary, deep=True, repair=True)
        assert pg.scrub.errors == 0
        assert pg.pg_stats()["state"] == "active+clean"
        cid = pg_cid(POOL, ps)
        assert c.stores[victim].read(cid, object_key(POOL, ("", "obj", ""))) == data
        await c.stop()

    run(main())


def test_bit_rot_on_primary_is_never_read():
    async def main():
        c = InProcCluster(3, {POOL: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        data = b"keep-me-safe" * 40
        await _write(c, "obj", data)
        _ps, _acting_set, primary = _acting(c, "obj")
        rot(c.stores[primary], len(data))
        assert await _read(c, "obj") == (0, data)
        await c.stop()

    run(main())


def test_shallow_scrub_finds_size_mismatch_and_missing_copy():
    async def main():
        c = InProcCluster(3, {POOL: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        await _write(c, "short", b"x" * 100)
        await _write(c, "gone", b"y" * 10)
        ps, acting, primary = _acting(c, "short")
        cid = pg_cid(POOL, ps)
        a, b = acting[1], acting[2]
        c.stores[a].apply_transaction(
            Transaction().truncate(cid, object_key(POOL, ("", "short", "")), 50)
        )
        c.stores[b].apply_transaction(Transaction().remove(cid, object_key(POOL, ("", "gone", ""))))
        pg = await _scrub(c, ps, primary, deep=False)
        incs = {i["object"]["name"]: i for i in pg.scrub.list_inconsistent()["inconsistents"]}
        assert set(incs) == {"short", "gone"}
        assert incs["short"]["errors"] == ["size_mismatch"]
        short = {s["osd"]: s for s in incs["short"]["shards"]}
        assert short[a]["errors"] == ["size_mismatch_info", "obj_size_info_mismatch"]
        assert short[a]["size"] == 50
        assert incs["gone"]["errors"] == []
        assert incs["gone"]["union_shard_errors"] == ["missing"]
        gone = {s["osd"]: s for s in incs["gone"]["shards"]}
        assert gone[b] == {"osd": b, "primary": False, "errors": ["missing"]}
        pg = await _scrub(c, ps, primary, deep=False, repair=True)
        assert pg.scrub.errors == 0
        assert c.stores[b].read(cid, object_key(POOL, ("", "gone", ""))) == b"y" * 10
        await c.stop()

    run(main())


def test_scheduler_starts_due_scrubs_within_max_scrubs_and_auto_repairs():
    async def main():
        c = InProcCluster(3, {POOL: FakePool(pg_num=4, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        data = b"auto-repair-me" * 20
        await _write(c, "obj", data)
        ps, acting, primary = _acting(c, "obj")
        victim = acting[2]
        rot(c.stores[victim], len(data))
        osd = c.running[primary]
        pg = osd.pgs[(POOL, ps)]
        now = c.runtime.clock.now()
        opts = ScrubOptions(min_interval=10, max_interval=100, deep_interval=50)
        opts.auto_repair = True
        osd.scrub_opts = opts
        assert osd.sched_scrub(now, 0.0, max_scrubs=4) == []  # just created: not due
        for p in osd.pgs.values():
            p.scrub.last_scrub_stamp = p.scrub.last_deep_scrub_stamp = now - 60
        assert osd.sched_scrub(now, 0.9, max_scrubs=4) == []  # too loaded, not overdue
        started = osd.sched_scrub(now, 0.0, max_scrubs=1)
        assert len(started) == 1
        assert osd.sched_scrub(now, 0.0, max_scrubs=1) == []  # one at a time
        for p in osd.pgs.values():
            if p._scrubber is not None:
                await asyncio.wait_for(p._scrubber, 10)
        for p in osd.pgs.values():
            p.scrub.last_scrub_stamp = p.scrub.last_deep_scrub_stamp = now - 60
        osd.sched_scrub(now, 0.0, max_scrubs=8)
        for p in osd.pgs.values():
            if p._scrubber is not None:
                await asyncio.wait_for(p._scrubber, 10)
        # deep (interval passed) with auto repair: found and fixed in the same pass
        assert pg.scrub.last_deep_scrub_stamp >= now
        assert pg.scrub.errors == 0 and pg.scrub.result.inconsistents == []
        cid = pg_cid(POOL, ps)
        assert c.stores[victim].read(cid, object_key(POOL, ("", "obj", ""))) == data
        await c.stop()

    run(main())


def test_noscrub_flag_holds_scheduled_scrubs_back():
    async def main():
        c = InProcCluster(3, {POOL: FakePool(pg_num=2, size=3, min_size=2, flags=1 << 8)})
        await c.start()
        await c.wait_clean()
        now = c.runtime.clock.now()
        for osd in c.running.values():
            osd.scrub_opts = ScrubOptions(min_interval=10, max_interval=100)
            for p in osd.pgs.values():
                p.scrub.last_scrub_stamp = p.scrub.last_deep_scrub_stamp = now - 1000
            assert osd.sched_scrub(now, 0.0, max_scrubs=8) == []
        await c.stop()

    run(main())


def test_clones_and_snapdir_scrub_clean_and_a_bad_clone_is_named():
    async def main():
        c = InProcCluster(3, {POOL: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        await _write(c, "o", b"version-one" * 10)
        h, _ = await c.op(POOL, "o", [["write_full", {"dlen": 3}]], b"two", snapc=(2, [2]))
        assert h["r"] == 0
        await _write(c, "gone", b"g" * 7)
        h, _ = await c.op(POOL, "gone", [["write_full", {"dlen": 1}]], b"x", snapc=(3, [3, 2]))
        h, _ = await c.op(POOL, "gone", [["delete", {}]], snapc=(3, [3, 2]))
        assert h["r"] == 0
        ps, acting, primary = _acting(c, "o")
        pg = await _scrub(c, ps, primary, deep=True)
        assert pg.scrub.errors == 0, pg.scrub.list_inconsistent()
        rot(c.stores[acting[1]], len(b"version-one" * 10))  # the clone's bytes
        pg = await _scrub(c, ps, primary, deep=True)
        (inc,) = pg.scrub.list_inconsistent()["inconsistents"]
        assert inc["object"]["name"] == "o" and inc["object"]["snap"] == 2
        await c.stop()

    run(main())
