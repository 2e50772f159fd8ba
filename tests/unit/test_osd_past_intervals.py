"""Past intervals survive what an OSD goes through: every map epoch walked in order, a
restart in the middle of an interval, epochs it could not get (issue 9: acknowledged
writes were lost when a restarted OSD forgot a read/write interval and, as primary,
went active on a log that lacked them)."""

from __future__ import annotations

import asyncio

from pyceph.osd import pgmeta
from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.peering import (
    INITIAL,
    PEERED,
    NeedUpThru,
    Peering,
    PGMapView,
    Query,
    starts_interval,
)
from pyceph.osd.pglog import PGLog
from pyceph.osd.types import PastInterval, PGInfo
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction


def view(epoch: int, acting: list[int], up_thru: dict[int, int] | None = None) -> PGMapView:
    return PGMapView(
        epoch, tuple(acting), acting[0], tuple(acting), acting[0], 3, 2,
        frozenset({0, 1, 2, 3}), dict(up_thru or {}),
    )  # fmt: skip


def peer(whoami: int, sis: int = 0) -> Peering:
    return Peering(whoami, PGInfo("1.0", same_interval_since=sis), PGLog(), {})


def test_restarted_pg_peers_again_within_its_interval() -> None:
    """Restored at the stored epoch, the next epoch of the same interval starts peering
    without moving same_interval_since (so up_thru is asked for the real start)."""
    p = peer(0, sis=5)
    p.restore_view(view(7, [0, 1, 2]))
    assert p.state == INITIAL
    fx = p.advance_map(view(8, [0, 1, 2]))
    assert sorted(e.osd for e in fx if isinstance(e, Query)) == [1, 2]
    assert p.info.same_interval_since == 5 and p.info.past_intervals == []
    p.on_info(1, PGInfo("1.0"), [], {})
    fx = p.on_info(2, PGInfo("1.0"), [], {})
    assert [e.epoch for e in fx if isinstance(e, NeedUpThru)] == [5]


def test_restored_view_closes_the_interval_a_later_epoch_ends() -> None:
    p = peer(0, sis=5)
    p.restore_view(view(7, [0, 1], up_thru={0: 6}))
    p.advance_map(view(8, [0, 2]))
    assert p.info.past_intervals == [PastInterval(5, 7, [0, 1], 0, True)]
    assert p.info.same_interval_since == 8


def test_skipped_epochs_start_a_new_interval() -> None:
    """What happened in epochs we never saw is unknown: no interval spans them."""
    assert starts_interval(None, view(3, [0, 1, 2]))
    assert not starts_interval(view(3, [0, 1, 2]), view(4, [0, 1, 2]))
    assert starts_interval(view(3, [0, 1, 2]), view(9, [0, 1, 2]))
    p = peer(0)
    p.advance_map(view(3, [0, 1, 2]))
    p.advance_map(view(9, [0, 1, 2]))
    assert [(i.first, i.last) for i in p.info.past_intervals] == [(3, 3)]
    assert p.info.same_interval_since == 9


def test_interval_record_is_merged_into_the_stored_info() -> None:
    """An op's info write may be older (or newer, with intervals an activation made
    moot) than the interval record: load keeps the newest start and every interval."""
    st = MemStore()
    t = Transaction().create_collection("1.0_head")
    info = PGInfo("1.0", same_interval_since=12)
    info.past_intervals = [PastInterval(8, 11, [0, 1, 2], 0, True)]
    pgmeta.write_intervals(t, "1.0_head", info)
    old = PGInfo("1.0", same_interval_since=8, last_epoch_started=9)
    old.past_intervals = [PastInterval(3, 7, [1, 2], 1, False)]
    pgmeta.write_info(t, "1.0_head", old)
    st.apply_transaction(t)
    got, _log, _missing = pgmeta.load(st, "1.0_head", "1.0")
    assert got.same_interval_since == 12 and got.last_epoch_started == 9
    assert [(p.first, p.last) for p in got.past_intervals] == [(3, 7), (8, 11)]


def test_osd_restart_keeps_the_interval_state_it_walked() -> None:
    """A primary left alone (peered, below min_size) knows the intervals its data was
    written in; after a restart it still does, resumes from its stored map and peers
    again, instead of starting from the newest map with whatever its last write left."""

    async def main() -> None:
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        await c.kill(2)
        await c.wait_active()
        r, _ = await c.op(1, "o", [["write_full", {"dlen": 5}]], b"acked")
        assert r["r"] == 0
        await c.kill(1)
        pg = c.running[0].pgs[(1, 0)]
        assert pg.state == PEERED
        before = (pg.info.same_interval_since, [p.to_wire() for p in pg.info.past_intervals])
        assert any(p.maybe_went_rw and p.acting == [0, 1] for p in pg.info.past_intervals)
        epoch = c.map.epoch
        await c.kill(0, mark_down=False)
        osd = await c.start_osd(0)
        pg = osd.pgs[(1, 0)]
        after = (pg.info.same_interval_since, [p.to_wire() for p in pg.info.past_intervals])
        assert after == before
        assert osd.map_epoch == epoch and pg.peering.view is not None
        assert pg.peering.view.epoch == epoch
        # the next epoch (same interval) peers again: peered, not active below min_size
        c.publish(c.map.next())
        await asyncio.sleep(0)
        assert pg.state == PEERED and pg.info.same_interval_since == before[0]
        await c.stop()

    asyncio.run(main())
