"""Remapped backfill decisions alone (pyceph.osd.peering.calc_acting and the primary's
pg_temp requests), driven by scripted peer answers: no I/O."""

from __future__ import annotations

from pyceph.osd.peering import (
    ACTIVE,
    WAIT_ACTING,
    Activate,
    Clean,
    NeedUpThru,
    Peering,
    PGMapView,
    RequestPGTemp,
    calc_acting,
)
from pyceph.osd.pglog import MODIFY, LogEntry, PGLog
from pyceph.osd.types import PGInfo


def view(epoch, up, acting=None, size=3, min_size=2, up_thru=None):
    acting = up if acting is None else acting
    return PGMapView(
        epoch,
        tuple(up),
        up[0],
        tuple(acting),
        acting[0],
        size,
        min_size,
        frozenset({0, 1, 2, 3, 4}),
        dict(up_thru or {}),
    )


def E(v, name):
    return LogEntry(MODIFY, ("", name, ""), (1, v), (0, 0), ("c", 1, v), v)


def trimmed_log():
    """A log whose tail is past 1'1: an empty OSD cannot be caught up from it."""
    return PGLog(tail=(1, 1), entries=[E(2, "b"), E(3, "c")])


def info_of(log, les=1):
    return PGInfo("1.0", last_update=log.head, log_tail=log.tail, last_epoch_started=les)


def test_complete_up_is_wanted_as_is():
    want, bf = calc_acting((0, 1, 2), 0, (0, 1, 2), 3, {0: True, 1: True, 2: True}, {}, 0)
    assert want == (0, 1, 2) and not bf


def test_incomplete_up_member_is_a_backfill_target_and_old_member_stays_acting():
    complete = {0: True, 1: True, 3: False, 2: True}
    lus = {0: (1, 3), 1: (1, 3), 2: (1, 3), 3: (0, 0)}
    want, bf = calc_acting((0, 1, 3), 0, (0, 1, 3), 3, complete, lus, 0)
    assert want == (0, 1, 2) and bf == {3}


def test_incomplete_up_primary_hands_primary_to_the_authoritative_osd():
    complete = {3: False, 0: True, 1: True, 2: True}
    want, bf = calc_acting((3, 0, 1), 3, (3, 0, 1), 3, complete, {}, 1)
    assert want[0] == 1 and set(want) == {0, 1, 2} and bf == {3}


def test_current_acting_is_preferred_over_other_complete_osds():
    complete = {0: True, 3: False, 1: True, 2: True, 4: True}
    lus = {o: (1, 3) for o in complete}
    want, _ = calc_acting((0, 3, 4), 0, (0, 1, 2), 3, complete, lus, 0)
    assert want == (0, 4, 1)


def test_remapped_interval_activates_with_backfill_target_and_requests_removal():
    log = trimmed_log()
    infos = info_of(log)
    p = Peering(0, infos, PGLog(log.tail, list(log.entries)), {})
    # the interval under pg_temp [0, 1, 2]; up is [0, 1, 3]
    p.advance_map(view(6, [0, 1, 3], acting=[0, 1, 2], up_thru={0: 6}))
    p.on_info(1, info_of(log), list(log.entries), {})
    p.on_info(2, info_of(log), list(log.entries), {})
    fx = p.on_info(3, PGInfo("1.0"), [], {})
    assert not [e for e in fx if isinstance(e, RequestPGTemp)]
    act = next(e for e in fx if isinstance(e, Activate))
    plans = {pl.osd: pl for pl in act.replicas}
    assert set(plans) == {1, 2, 3} and plans[3].backfill
    assert p.backfill_targets == {3} and p.acting_backfill_replicas == [1, 2, 3]
    p.activation_applied(act)
    p.peer_missing[3] = {("", "b", ""): (1, 2)}
    for o in (1, 2, 3):
        p.on_activated(o)
    assert p.state == ACTIVE and p.remapped and p.backfill_pending() and not p.is_clean()
    fx = p.on_recovered(3, ("", "b", ""))
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [()]
    assert [e for e in fx if isinstance(e, Clean)]
    # the request is repeated with each map of the same interval until one carries it
    fx = p.advance_map(view(7, [0, 1, 3], acting=[0, 1, 2], up_thru={0: 6}))
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [()]


def test_moved_interval_waits_for_pg_temp_instead_of_activating():
    log = trimmed_log()
    p = Peering(0, info_of(log), PGLog(log.tail, list(log.entries)), {})
    # the interval right after osd.2 went out: up = acting = [0, 1, 3]; osd.2 is in
    # the previous interval, so it is probed too
    p.info.past_intervals = []
    p.advance_map(view(5, [0, 1, 2], up_thru={0: 5}))
    p.on_info(1, info_of(log), list(log.entries), {})
    p.on_info(2, info_of(log), list(log.entries), {})
    fx = p.advance_map(view(6, [0, 1, 3], up_thru={0: 5}))
    p.on_info(1, info_of(log), list(log.entries), {})
    p.on_info(2, info_of(log), list(log.entries), {})
    fx = p.on_info(3, PGInfo("1.0"), [], {})
    assert [e.osds for e in fx if isinstance(e, RequestPGTemp)] == [(0, 1, 2)]
    assert p.state == WAIT_ACTING
    assert not [e for e in fx if isinstance(e, (Activate, NeedUpThru))]


def test_too_few_complete_osds_backfill_while_acting():
    log = trimmed_log()
    p = Peering(0, info_of(log), PGLog(log.tail, list(log.entries)), {})
    p.advance_map(view(6, [0, 3, 4], up_thru={0: 6}))
    p.on_info(3, PGInfo("1.0"), [], {})
    fx = p.on_info(4, PGInfo("1.0"), [], {})
    assert not [e for e in fx if isinstance(e, RequestPGTemp)]
    act = next(e for e in fx if isinstance(e, Activate))
    assert all(pl.backfill for pl in act.replicas) and not p.backfill_targets


def test_monitor_cleans_pg_temps_as_upstream_clean_temps():
    from tests.unit.test_mon_osdmap import build_map

    from pyceph.mon.state import clean_pg_temps

    m = build_map()
    m.osds[5].up = False
    up = m.pg_to_up_acting_osds(1, 0)[0]
    other = [o for o in range(5) if o not in up][:2]
    m.pg_temp = {
        (1, 0): list(up),  # equal to the up set: useless
        (1, 1): other,  # a real remap: kept
        (1, 200): other,  # no such PG
        (7, 0): other,  # no such pool
    }
    m.pg_temp[(1, 2)] = [5]  # every OSD of it down
    clean_pg_temps(m)
    assert m.pg_temp == {(1, 1): other}
