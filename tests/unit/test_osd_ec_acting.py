"""Erasure-coded remapped backfill decisions alone (upstream calc_ec_acting and
find_best_info for pools that need rollback), driven by scripted peer answers: no I/O.
Positions are shard ids; -1 is a hole (CRUSH_ITEM_NONE)."""

from __future__ import annotations

from tests.unit.test_osd_backfill_acting import info_of, trimmed_log

from pyceph.crush.mapper import CRUSH_ITEM_NONE
from pyceph.osd.peering import (
    ACTIVE,
    WAIT_ACTING,
    Activate,
    Peering,
    PGMapView,
    RequestPGTemp,
    calc_ec_acting,
    choose_ec_authoritative,
)
from pyceph.osd.pglog import PGLog
from pyceph.osd.types import PGInfo


def test_complete_up_is_wanted_as_is():
    want, bf = calc_ec_acting((0, 1, 2), (0, 1, 2), 3, {0: True, 1: True, 2: True},
                              {0: 0, 1: 1, 2: 2})  # fmt: skip
    assert want == (0, 1, 2) and not bf


def test_acting_osd_keeps_serving_its_position_while_up_osd_backfills_it():
    # osd.2 out: up puts osd.3 on position 2; osd.2 still holds shard 2, complete
    complete = {0: True, 1: True, 2: True, 3: False}
    want, bf = calc_ec_acting((0, 1, 3), (0, 1, 3), 3, complete, {0: 0, 1: 1, 2: 2, 3: 2})
    assert want == (0, 1, 2) and bf == {3}


def test_a_complete_holder_of_the_shard_is_found_among_strays():
    complete = {0: True, 1: True, 3: False, 4: True}
    want, bf = calc_ec_acting((0, 1, 3), (0, 1, -1), 3, complete, {0: 0, 1: 1, 3: 2, 4: 2})
    assert want == (0, 1, 4) and bf == {3}


def test_a_position_nobody_holds_stays_a_hole():
    complete = {0: True, 1: True, 3: False}
    want, bf = calc_ec_acting((0, 1, 3), (0, 1, 3), 3, complete, {0: 0, 1: 1, 3: 2})
    assert want == (0, 1, -1) and bf == {3}


def test_a_shard_counts_only_on_its_own_position():
    # osd.1 holds shard 1 but up now puts it on position 2: it serves position 1 (its
    # shard) and becomes position 2's target only once shard 1 is complete elsewhere
    complete = {0: True, 1: True, 2: True, 3: False}
    shard_of = {0: 0, 1: 1, 2: 2, 3: 1}
    want, bf = calc_ec_acting((0, 3, 1), (0, 3, 1), 3, complete, shard_of)
    assert want == (0, 1, 2) and bf == {3}


def info(lu, les=5, tail=(1, 1)):
    return PGInfo("1.0", last_update=lu, log_tail=tail, last_epoch_started=les)


def test_ec_auth_rolls_back_what_fewer_than_k_shards_applied():
    infos = {0: info((5, 9)), 1: info((5, 8)), 2: info((5, 8))}
    assert choose_ec_authoritative(infos, 0, 2, {0: 0, 1: 1, 2: 2}) in (1, 2)


def test_ec_auth_rolls_forward_what_k_shards_applied():
    infos = {0: info((5, 9)), 1: info((5, 9)), 2: info((5, 8))}
    assert choose_ec_authoritative(infos, 2, 2, {0: 0, 1: 1, 2: 2}) in (0, 1)


def test_ec_auth_counts_distinct_shards_and_the_newest_les_only():
    # osd.3 holds the same shard as osd.0: two OSDs, one shard
    infos = {0: info((5, 9)), 3: info((5, 9)), 1: info((5, 8)), 2: info((4, 20), les=4)}
    assert choose_ec_authoritative(infos, 0, 2, {0: 0, 3: 0, 1: 1, 2: 2}) == 1


def view(epoch, up, acting, up_thru=None, size=3, min_size=2):
    members = tuple(o for o in acting if o >= 0)
    return PGMapView(
        epoch,
        tuple(o for o in up if o >= 0),
        next(o for o in up if o >= 0),
        members,
        members[0],
        size,
        min_size,
        frozenset({0, 1, 2, 3, 4}),
        dict(up_thru or {}),
        shards=tuple(acting),
        up_shards=tuple(up),
        ec_k=2,
    )


def test_moved_ec_interval_asks_for_a_pg_temp_keeping_positions():
    log = trimmed_log()
    p = Peering(0, info_of(log), PGLog(log.tail, list(log.entries)), {}, shard=0)
    p.advance_map(view(5, (0, 1, 2), (0, 1, 2), up_thru={0: 5}))
    # osd.2 out: up = acting = [0, 1, 3]; osd.3 is empty, osd.2 still holds shard 2
    p.advance_map(view(6, (0, 1, 3), (0, 1, 3), up_thru={0: 5}))
    p.on_info(1, info_of(log), list(log.entries), {}, shard=1)
    p.on_info(2, info_of(log), list(log.entries), {}, shard=2)
    fx = p.on_info(3, PGInfo("1.0"), [], {}, shard=2)
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [(0, 1, 2)]
    assert p.state == WAIT_ACTING


def test_no_complete_holder_gives_a_pg_temp_with_a_hole():
    log = trimmed_log()
    p = Peering(0, info_of(log), PGLog(log.tail, list(log.entries)), {}, shard=0)
    p.advance_map(view(6, (0, 1, 3), (0, 1, 3), up_thru={0: 6}))
    p.on_info(1, info_of(log), list(log.entries), {}, shard=1)
    fx = p.on_info(3, PGInfo("1.0"), [], {}, shard=2)
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [(0, 1, CRUSH_ITEM_NONE)]


def test_remapped_ec_interval_backfills_the_target_then_removes_the_pg_temp():
    log = trimmed_log()
    p = Peering(0, info_of(log), PGLog(log.tail, list(log.entries)), {}, shard=0)
    # under pg_temp [0, 1, 2]; up is [0, 1, 3]: osd.3 receives shard 2
    p.advance_map(view(7, (0, 1, 3), (0, 1, 2), up_thru={0: 7}))
    p.on_info(1, info_of(log), list(log.entries), {}, shard=1)
    p.on_info(2, info_of(log), list(log.entries), {}, shard=2)
    fx = p.on_info(3, PGInfo("1.0"), [], {}, shard=1)  # it held shard 1 of this PG once
    assert not [e for e in fx if isinstance(e, RequestPGTemp)]
    act = next(e for e in fx if isinstance(e, Activate))
    plans = {pl.osd: pl for pl in act.replicas}
    assert p.backfill_targets == {3} and p.backfill_shard(3) == 2
    assert plans[3].backfill and plans[3].shard == 2  # it drops shard 1 for shard 2
    assert plans[1].shard == 1 and plans[2].shard == 2 and act.own.shard == 0
    p.activation_applied(act)
    p.peer_missing[3] = {("", "b", ""): (1, 2)}
    for o in (1, 2, 3):
        p.on_activated(o)
    assert p.state == ACTIVE and p.remapped and p.backfill_pending()
    fx = p.on_recovered(3, ("", "b", ""))
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [()]


def test_a_target_holding_a_shard_an_acting_member_still_lacks_waits_until_recovered():
    """osd.3 is up on position 2 but holds shard 1, which osd.1 (acting on position 1)
    lacks an object of: backfilling osd.3 with shard 2 would drop the copy of shard 1
    that recovery may need (seed 40010, k=2 m=1: the object became unfound). It serves
    shard 1 as a stray; once osd.1 has recovered, a new interval makes it the target."""
    log = trimmed_log()
    behind = PGLog(log.tail, log.entries[:-1])
    p = Peering(0, info_of(log), PGLog(log.tail, list(log.entries)), {}, shard=0)
    p.advance_map(view(7, (0, 1, 3), (0, 1, 2), up_thru={0: 7}))
    p.on_info(1, info_of(behind), list(behind.entries), {}, shard=1)
    p.on_info(2, info_of(log), list(log.entries), {}, shard=2)
    fx = p.on_info(3, info_of(log), list(log.entries), {}, shard=1)
    assert not [e for e in fx if isinstance(e, RequestPGTemp)]
    act = next(e for e in fx if isinstance(e, Activate))
    assert p.deferred_targets == {3} and not p.backfill_targets
    assert {pl.osd for pl in act.replicas} == {1, 2} and 3 in p.strays
    lacking = log.entries[-1].oid
    assert p.stray_shards(lacking) == {3: 1}  # recovery may read shard 1 there
    p.activation_applied(act)
    for o in (1, 2):
        p.on_activated(o)
    assert p.state == ACTIVE and p.peer_missing[1] == {lacking: log.entries[-1].version}
    fx = p.on_recovered(1, lacking)
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [()]
