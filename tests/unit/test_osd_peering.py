"""The peering state machine alone, driven by scripted inputs (no I/O)."""

from __future__ import annotations

from pyceph.osd.peering import (
    ACTIVE,
    DOWN,
    PEERED,
    REPLICA,
    STRAY,
    WAIT_UP_THRU,
    Activate,
    Clean,
    NeedUpThru,
    Peering,
    PGMapView,
    Query,
    RequestPGTemp,
    close_interval,
)
from pyceph.osd.pglog import MODIFY, LogEntry, PGLog
from pyceph.osd.types import PastInterval, PGInfo


def view(epoch, acting, up=None, size=3, min_size=2, up_thru=None, up_osds=None):
    up = acting if up is None else up
    return PGMapView(
        epoch,
        tuple(up),
        up[0] if up else -1,
        tuple(acting),
        acting[0] if acting else -1,
        size,
        min_size,
        frozenset(up_osds if up_osds is not None else {0, 1, 2, 3}),
        dict(up_thru or {}),
    )


def E(e, v, name, prior=(0, 0)):
    return LogEntry(MODIFY, ("", name, ""), (e, v), prior, ("c", 1, v), v)


def peer(whoami, entries=(), les=0):
    log = PGLog(entries=list(entries))
    info = PGInfo("1.0", last_update=log.head, last_epoch_started=les)
    return Peering(whoami, info, log, {})


def kinds(fx, t):
    return [e for e in fx if isinstance(e, t)]


def test_fresh_pg_probes_waits_for_up_thru_then_activates():
    p = peer(0)
    fx = p.advance_map(view(5, [0, 1, 2]))
    assert sorted(q.osd for q in kinds(fx, Query)) == [1, 2]
    assert p.state == "peering"
    p.on_info(1, PGInfo("1.0"), [], {})
    fx = p.on_info(2, PGInfo("1.0"), [], {})
    assert kinds(fx, NeedUpThru)[0].epoch == 5 and p.state == WAIT_UP_THRU
    fx = p.advance_map(view(6, [0, 1, 2], up_thru={0: 6}))
    act = kinds(fx, Activate)[0]
    assert sorted(pl.osd for pl in act.replicas) == [1, 2]
    p.activation_applied(act)
    p.on_activated(1)
    fx = p.on_activated(2)
    assert p.state == ACTIVE and kinds(fx, Clean)


def test_replica_and_stray_roles():
    r = peer(1)
    r.advance_map(view(5, [0, 1, 2]))
    assert r.state == REPLICA
    s = peer(3)
    s.advance_map(view(5, [0, 1, 2]))
    assert s.state == STRAY


def test_newer_replica_log_is_authoritative_and_primary_recovers():
    p = peer(0, [E(1, 1, "a")], les=1)
    p.advance_map(view(5, [0, 1, 2], up_thru={0: 5}))
    newer = [E(1, 1, "a"), E(2, 2, "b"), E(2, 3, "a", prior=(1, 1))]
    p.on_info(1, PGInfo("1.0", last_update=(2, 3), last_epoch_started=2), newer, {})
    fx = p.on_info(2, PGInfo("1.0", last_update=(1, 1), last_epoch_started=1), [E(1, 1, "a")], {})
    act = kinds(fx, Activate)[0]
    assert act.auth == 1
    assert act.own.missing == {("", "a", ""): (2, 3), ("", "b", ""): (2, 2)}
    p.activation_applied(act)
    assert p.missing_loc(("", "a", "")) == [1]
    plan2 = [pl for pl in act.replicas if pl.osd == 2][0]
    assert set(plan2.missing) == {("", "a", ""), ("", "b", "")}


def test_old_primary_divergent_write_loses_to_newer_interval():
    # osd.0 wrote 3'5 locally but never got it acked; osd.1/2 went active at epoch 4.
    common = [E(1, 1, "a"), E(3, 4, "b")]
    p = peer(1, common, les=4)
    p.advance_map(view(6, [1, 0, 2], up_thru={1: 6}))
    p.on_info(
        0,
        PGInfo("1.0", last_update=(3, 5), last_epoch_started=3),
        common + [E(3, 5, "a", prior=(1, 1))],
        {},
    )
    fx = p.on_info(2, PGInfo("1.0", last_update=(3, 4), last_epoch_started=4), common, {})
    act = kinds(fx, Activate)[0]
    assert act.auth in (1, 2)
    plan0 = [pl for pl in act.replicas if pl.osd == 0][0]
    assert plan0.common == (3, 4)
    assert plan0.missing == {("", "a", ""): (1, 1)}  # rolled back to its 1'1 state


def test_pg_is_down_while_a_written_interval_has_no_survivor():
    p = peer(3, les=1)
    # An interval [2,4] with acting [1,2] that went read/write; both now down.
    p.info.past_intervals = [PastInterval(2, 4, [1, 2], 1, True)]
    fx = p.advance_map(view(5, [3, 0], size=2, min_size=1, up_osds={0, 3}))
    assert [q.osd for q in kinds(fx, Query)] == [0]
    p.on_info(0, PGInfo("1.0"), [], {})
    assert p.state == DOWN
    # osd.1 comes back up (same acting set): it is probed and peering completes.
    fx = p.advance_map(view(6, [3, 0], size=2, min_size=1, up_osds={0, 1, 3}, up_thru={3: 6}))
    assert [q.osd for q in kinds(fx, Query)] == [1]
    fx = p.on_info(1, PGInfo("1.0", last_update=(3, 1), last_epoch_started=2), [E(3, 1, "x")], {})
    act = kinds(fx, Activate)[0]
    assert act.auth == 1 and act.own.missing == {("", "x", ""): (3, 1)}


def test_below_min_size_does_not_activate():
    p = peer(0)
    p.advance_map(view(5, [0], up_thru={0: 5}))
    assert p.state == PEERED


def test_interval_that_never_got_up_thru_did_not_go_rw():
    pi = close_interval(5, view(7, [0, 1], up_thru={0: 4}))
    assert not pi.maybe_went_rw
    pi = close_interval(5, view(7, [0, 1], up_thru={0: 5}))
    assert pi.maybe_went_rw
    pi = close_interval(5, view(7, [0], min_size=2, up_thru={0: 9}))
    assert not pi.maybe_went_rw


def test_returning_osd_behind_trimmed_log_is_planned_for_backfill():
    log = PGLog(entries=[E(2, v, f"o{v}") for v in range(1, 21)])
    log.trim((2, 15), 100)
    p = Peering(
        0, PGInfo("1.0", last_update=log.head, log_tail=log.tail, last_epoch_started=2), log, {}
    )
    behind = PGInfo("1.0", last_update=(1, 3), last_epoch_started=1)
    p.advance_map(view(5, [0, 1, 2], up_thru={0: 5}))
    p.on_info(1, p.info.copy(), list(log.entries), {})
    fx = p.on_info(2, behind, [E(1, 3, "old")], {})
    # upstream choose_acting: the complete OSDs serve (pg_temp) while osd.2 backfills
    assert [e.osds for e in kinds(fx, RequestPGTemp)] == [(0, 1)] and not kinds(fx, Activate)
    p.advance_map(view(6, [0, 1], up=[0, 1, 2], up_thru={0: 6}))
    p.on_info(1, p.info.copy(), list(log.entries), {})
    fx = p.on_info(2, behind, [E(1, 3, "old")], {})
    act = kinds(fx, Activate)[0]
    plan2 = [pl for pl in act.replicas if pl.osd == 2][0]
    assert plan2.backfill and len(plan2.entries) == 5 and p.backfill_targets == {2}


def test_primary_holding_an_object_the_auth_lacks_is_not_missing_it():
    """osd.1 wrote 2'2 locally and died before osd.0 got it (osd.0 learnt the entry at
    activation, missing the object); osd.0 then went active with a newer
    last_epoch_started. When osd.1 returns as primary the auth is osd.0, but osd.1 still
    holds 2'2: it is the only copy, so marking it missing on osd.1 too left the object
    unfound for good (a hang seen in test_rbd_durability)."""
    entries = [E(1, 1, "a"), E(2, 2, "a", prior=(1, 1))]
    p = peer(1, entries, les=2)
    p.advance_map(view(9, [1, 0, 2], up_thru={1: 9}))
    lacks_a = {("", "a", ""): (2, 2)}
    p.on_info(0, PGInfo("1.0", last_update=(2, 2), last_epoch_started=7), entries, lacks_a)
    fx = p.on_info(2, PGInfo("1.0", last_update=(2, 2), last_epoch_started=2), entries, lacks_a)
    act = kinds(fx, Activate)[0]
    assert act.auth == 0
    assert act.own.missing == {}
    p.activation_applied(act)
    assert {pl.osd: pl.missing for pl in act.replicas} == {0: lacks_a, 2: lacks_a}
    assert not p.missing and p.is_degraded(("", "a", ""))  # recovered from our own copy
