"""PG merge alone: source/target arithmetic (brute force against `ceph_stable_mod`), the
OSD's ready-to-merge decision, the monitor's pg_num/pgp_num/pending steps, the mgr's
stepping decision (pyceph.osd.merge, pyceph.mgr.pg_adjust, mon pool handlers)."""

from __future__ import annotations

import errno
import json
import random
from types import SimpleNamespace

import pytest
from tests.unit.test_mon_commands import js, make_state, run

from pyceph.crush.hash import ceph_stable_mod
from pyceph.mgr.pg_adjust import PGStat, RecoveryRatios, adjust_pgs, merge_step, pgp_step
from pyceph.osd import pgmeta
from pyceph.osd.merge import (
    MergePeer,
    caught_up,
    is_merge_source,
    is_merge_target,
    merge_sources,
    merge_target,
    merged_dups,
    parent,
    ready_to_merge,
)
from pyceph.osd.pglog import MODIFY, DupEntry, LogEntry, PGLog
from pyceph.osdmap.pool import Pool, calc_mask
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction


def test_parent_clears_the_top_bit() -> None:
    assert [parent(ps) for ps in (1, 2, 3, 5, 12, 31)] == [0, 0, 1, 1, 4, 15]
    with pytest.raises(ValueError):
        parent(0)


@pytest.mark.parametrize("old", range(2, 70))
def test_merge_target_is_where_ceph_stable_mod_folds(old: int) -> None:
    """Every PG of `old` folds, under every smaller pg_num, into the PG `ceph_stable_mod`
    gives its seed; the targets' sources are exactly the PGs folding into them."""
    for new in range(1, old):
        for ps in range(old):
            want = ceph_stable_mod(ps, new, calc_mask(new))
            assert merge_target(ps, new) == want, (ps, old, new)
            assert is_merge_source(ps, old, new) == (ps >= new)
        for t in range(new):
            folded = [ps for ps in range(new, old) if merge_target(ps, new) == t]
            assert merge_sources(t, old, new) == folded, (t, old, new)
            assert is_merge_target(t, old, new) == bool(folded)


@pytest.mark.parametrize("old,new", [(32, 12), (12, 8), (8, 7), (33, 2), (64, 1)])
def test_every_object_follows_its_pg(old: int, new: int) -> None:
    """An object in PG ps under `old` is, under `new`, in ps's merge target."""
    rng = random.Random(old * 100 + new)
    for _ in range(3000):
        h = rng.getrandbits(32)
        ps = ceph_stable_mod(h, old, calc_mask(old))
        want = ceph_stable_mod(h, new, calc_mask(new))
        assert (merge_target(ps, new) if ps >= new else ps) == want


def _peer(primary=True, clean=True, acting=(0, 1, 2), lu=(5, 9), quiet=True) -> MergePeer:
    return MergePeer(primary, clean, quiet, acting, lu, 4, 3)


def test_ready_to_merge_needs_both_clean_on_one_acting_set() -> None:
    both = {11: _peer(lu=(7, 3)), 3: _peer(lu=(6, 8))}
    head = ready_to_merge(1, 12, 11, both)
    assert head == {
        "pgid": "1.b",
        "source_version": [7, 3],
        "target_version": [6, 8],
        "last_epoch_started": 4,
        "last_epoch_clean": 3,
        "ready": True,
    }
    for bad in (
        {11: _peer(), 3: _peer(clean=False)},
        {11: _peer(clean=False), 3: _peer()},
        {11: _peer(), 3: _peer(acting=(0, 2, 1))},
        {11: _peer(), 3: _peer(primary=False)},
        {11: _peer()},
    ):
        h = ready_to_merge(1, 12, 11, bad)
        assert h is not None and h["ready"] is False, bad
    # ops still running on either: nothing to say until they end (then the versions
    # are final); a PG not clean is "not ready" whether quiet or not
    assert ready_to_merge(1, 12, 11, {11: _peer(quiet=False), 3: _peer()}) is None
    assert ready_to_merge(1, 12, 11, {11: _peer(), 3: _peer(quiet=False)}) is None
    h = ready_to_merge(1, 12, 11, {11: _peer(quiet=False), 3: _peer(clean=False)})
    assert h is not None and h["ready"] is False
    # only the source's primary speaks, and only for a pending single step
    assert ready_to_merge(1, 12, 11, {11: _peer(primary=False), 3: _peer()}) is None
    assert ready_to_merge(1, 12, 12, both) is None
    assert ready_to_merge(1, 12, 10, both) is None
    assert ready_to_merge(1, 12, 11, {3: _peer()}) is None


def test_caught_up_checks_the_reported_versions() -> None:
    meta = {"source_pgid": "1.b", "source_version": "7'3", "target_version": "6'8"}
    assert caught_up(12, 11, meta, 1, 11, (7, 3), (6, 8))
    assert caught_up(12, 11, meta, 1, 11, (8, 1), (6, 9))
    assert not caught_up(12, 11, meta, 1, 11, (7, 2), (6, 8))
    assert not caught_up(12, 11, meta, 1, 11, (7, 3), (6, 7))
    assert not caught_up(12, 11, meta, 1, 10, (7, 3), (6, 8))  # another step's meta
    assert not caught_up(12, 10, meta, 1, 11, (7, 3), (6, 8))  # several steps at once
    assert not caught_up(12, 11, {}, 1, 11, (7, 3), (6, 8))


def test_merged_log_keeps_every_request_as_a_dup() -> None:
    """The merged log starts empty: the requests both logs named (entries and dups)
    answer a resend from the merged PG, oldest first."""
    tgt = PGLog((4, 0), [LogEntry(MODIFY, ("", "t", ""), (5, 1), reqid=("c", 1, 1), r=0)],
                [DupEntry(("c", 1, 0), (4, 0), 7, 0)])  # fmt: skip
    src = PGLog((3, 0), [LogEntry(MODIFY, ("", "s", ""), (5, 3), reqid=("c", 2, 9), r=-2),
                         LogEntry(MODIFY, ("", "s", ""), (5, 4))])  # fmt: skip
    dups = merged_dups(
        [list(tgt.dups.values()), list(src.dups.values())], [tgt.entries, src.entries]
    )
    assert [(d.reqid, d.version, d.r) for d in dups] == [
        (("c", 1, 0), (4, 0), 0),
        (("c", 1, 1), (5, 1), 0),
        (("c", 2, 9), (5, 3), -2),
    ]
    merged = PGLog((5, 4), [], dups)
    assert merged.head == (5, 4) and not merged.entries
    assert merged.lookup_reqid(("c", 2, 9)) == ((5, 3), 0, -2)


def test_merged_dups_of_one_version_all_survive_a_restart_and_eviction() -> None:
    """Source and target count versions apart, so their dups may share one: each is
    stored under its own key, reloads, and evicting one leaves the other."""
    cid = "1.0_head"
    same = [DupEntry(("c", 1, 1), (5, 1), 3, 0), DupEntry(("c", 2, 7), (5, 1), 9, -2)]
    st = MemStore()
    t = Transaction().create_collection(cid)
    pgmeta.write_dups(t, cid, [*same, DupEntry(("c", 3, 1), (6, 2), 4, 0)])
    st.apply_transaction(t)
    _info, log, _missing = pgmeta.load(st, cid, "1.0")
    assert log.lookup_reqid(("c", 1, 1)) == ((5, 1), 3, 0)
    assert log.lookup_reqid(("c", 2, 7)) == ((5, 1), 9, -2)
    t = Transaction()
    pgmeta.write_trim(t, cid, (0, 0), [], [same[0]])
    st.apply_transaction(t)
    _info, log, _missing = pgmeta.load(st, cid, "1.0")
    assert log.lookup_reqid(("c", 1, 1)) is None
    assert log.lookup_reqid(("c", 2, 7)) == ((5, 1), 9, -2)
    assert log.lookup_reqid(("c", 3, 1)) == ((6, 2), 4, 0)


# -- the monitor ------------------------------------------------------------------------
def _pool(s, name: str = "p") -> Pool:
    return next(p for p in s.osdmap.pools.values() if p.pool_name == name)


def _set(s, var: str, val: int):
    return run(s, {"prefix": "osd pool set", "pool": "p", "var": var, "val": str(val)})


def test_shrinking_sets_targets_and_the_mgr_steps_change_nothing_else() -> None:
    s = make_state()
    assert run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 8}).ret == 0
    assert _set(s, "pg_num", 4).ret == 0
    p = _pool(s)
    assert (p.pg_num, p.pgp_num, p.pg_num_target, p.pgp_num_target, p.pg_num_pending) == (
        8, 8, 4, 4, 8,
    )  # fmt: skip
    assert js(s, {"prefix": "osd pool get", "pool": "p", "var": "pg_num"})["pg_num"] == 8
    # pg_num_actual below pgp_num, or by more than one, is refused and changes nothing
    r = _set(s, "pg_num_actual", 7)
    assert (r.ret, r.outs) == (-errno.EINVAL, "specified pg_num 7 < pgp_num 8")
    assert _set(s, "pgp_num_actual", 5).ret == 0
    r = _set(s, "pg_num_actual", 6)
    assert (r.ret, r.outs) == (
        -errno.EINVAL,
        "specified pg_num 6 < pg_num (8) - 1; only single pg decrease is currently supported",
    )
    assert _set(s, "pg_num_actual", 7).ret == 0
    p = _pool(s)
    assert (p.pg_num, p.pgp_num, p.pg_num_pending) == (8, 5, 7)
    r = _set(s, "pgp_num_actual", 8)
    assert (r.ret, r.outs) == (-errno.EINVAL, "specified pgp_num 8 > pg_num_pending 7")
    detail = run(s, {"prefix": "osd pool ls", "detail": "detail"}).outbuf.decode()
    assert " pg_num 8 pgp_num 5 pg_num_target 4 pgp_num_target 4 pg_num_pending 7 " in detail
    d = js(s, {"prefix": "osd pool ls", "detail": "detail"})[0]
    assert (d["pg_num"], d["pg_placement_num"], d["pg_num_target"]) == (8, 5, 4)
    assert (d["pg_placement_num_target"], d["pg_num_pending"]) == (4, 7)


def test_ready_to_merge_lowers_pg_num_and_not_ready_backs_off() -> None:
    s = make_state()
    run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 8})
    pid = _pool(s).pool_id
    _set(s, "pg_num", 6)
    _set(s, "pgp_num_actual", 7)
    _set(s, "pg_num_actual", 7)
    src = f"{pid}.7"
    # not ready: pg_num_pending returns to pg_num
    assert s.pg_ready_to_merge({"pgid": src, "ready": False})
    s.commit_pending(0)
    assert (_pool(s).pg_num, _pool(s).pg_num_pending) == (8, 8)
    # a report for a step not pending is ignored
    assert not s.pg_ready_to_merge({"pgid": src, "ready": True})
    _set(s, "pg_num_actual", 7)
    pending_epoch = _pool(s).last_change
    assert not s.pg_ready_to_merge({"pgid": f"{pid}.6", "ready": True})
    assert s.pg_ready_to_merge(
        {"pgid": src, "ready": True, "source_version": [9, 4], "target_version": [9, 7],
         "last_epoch_started": 8, "last_epoch_clean": 8}
    )  # fmt: skip
    s.commit_pending(0)
    p = _pool(s)
    assert (p.pg_num, p.pg_num_pending, p.pgp_num) == (7, 7, 7)
    # as the reference: "lfor 0/<ready epoch>/<pg_num_actual epoch>"
    detail = run(s, {"prefix": "osd pool ls", "detail": "detail"}).outbuf.decode()
    assert f" last_change {p.last_change} lfor 0/{p.last_change}/{pending_epoch} " in detail
    d = js(s, {"prefix": "osd pool ls", "detail": "detail"})[0]
    assert d["last_force_op_resend_prenautilus"] == str(p.last_change)
    assert d["last_force_op_resend_preluminous"] == str(pending_epoch)
    meta = d["last_pg_merge_meta"]
    assert meta["source_pgid"] == src and meta["source_version"] == "9'4"
    assert meta["target_version"] == "9'7" and meta["last_epoch_started"] == 8
    assert not s.pg_ready_to_merge({"pgid": src, "ready": True})  # a repeat: stale


def test_pgp_num_sets_its_target_for_the_mgr_to_follow() -> None:
    """As the reference: `pgp_num 3` leaves pgp_num alone and shows pgp_num_target 3;
    `pgp_num_actual` (the mgr's step) moves pgp_num itself."""
    s = make_state()
    run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 8})
    assert _set(s, "pgp_num", 3).ret == 0
    p = _pool(s)
    assert (p.pgp_num, p.pgp_num_target) == (8, 3)
    detail = run(s, {"prefix": "osd pool ls", "detail": "detail"}).outbuf.decode()
    assert " pg_num 8 pgp_num 8 pgp_num_target 3 autoscale_mode on " in detail
    assert _set(s, "pgp_num_actual", 2).ret == 0  # the reference takes it; the mgr fixes it
    assert (_pool(s).pgp_num, _pool(s).pgp_num_target) == (2, 3)


def test_growing_still_splits_at_once() -> None:
    s = make_state()
    run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 8})
    assert _set(s, "pg_num", 12).ret == 0
    p = _pool(s)
    assert (p.pg_num, p.pgp_num, p.pg_num_target, p.pgp_num_target, p.pg_num_pending) == (
        12, 12, 12, 12, 12,
    )  # fmt: skip


def test_erasure_coded_pools_shrink_as_replicated_ones() -> None:
    """Lowering an erasure-coded pool's pg_num sets its target, which the mgr walks down
    a step at a time (pgp_num first, then pg_num_actual), as for a replicated pool."""
    s = make_state()
    run(s, {"prefix": "osd erasure-code-profile set", "name": "ec21",
            "profile": ["k=2", "m=1", "crush-failure-domain=osd"]})  # fmt: skip
    r = run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 8, "pool_type": "erasure",
                "erasure_code_profile": "ec21"})  # fmt: skip
    assert r.ret == 0, r.outs
    assert _set(s, "pg_num", 4).ret == 0
    p = _pool(s)
    assert (p.pg_num, p.pg_num_target, p.pgp_num_target) == (8, 4, 4)
    assert _set(s, "pgp_num_actual", 7).ret == 0
    assert _set(s, "pg_num_actual", 7).ret == 0 and _pool(s).pg_num_pending == 7


def test_old_pools_read_back_with_pending_equal_to_pg_num() -> None:
    d = Pool(1, "p", pg_num=16, pgp_num=16).to_plain()
    del d["pg_num_pending"], d["last_pg_merge_meta"]
    assert Pool.from_plain(d).pg_num_pending == 16
    assert json.dumps(Pool.from_plain(d).dump())  # dumps as before


# -- the mgr ------------------------------------------------------------------------------
def _mpool(pg_num=12, pgp=12, target=8, pgp_target=None, pending=None, last_change=5):
    return SimpleNamespace(
        pool_name="p",
        pg_num=pg_num,
        pgp_num=pgp,
        pg_num_target=target,
        pgp_num_target=target if pgp_target is None else pgp_target,
        pg_num_pending=pg_num if pending is None else pending,
        last_change=last_change,
    )


def _stats(states: dict[int, tuple[str, tuple[int, ...]]], epoch: int = 5):
    def get(_pool: int, ps: int) -> PGStat | None:
        st = states.get(ps, ("active+clean", (0, 1, 2)))
        return PGStat(st[0], st[1], epoch)

    return get


CLEAN = RecoveryRatios()


def test_pgp_num_steps_down_first_then_one_merge_at_a_time() -> None:
    p = _mpool()
    assert merge_step(1, p, _stats({})) is None  # pgp_num == pg_num blocks the merge
    assert pgp_step(p, CLEAN, 0.05) == 11  # estmax: max(12 * 0.025, 1) = 1
    p.pgp_num = 11
    assert merge_step(1, p, _stats({})) == 11
    assert adjust_pgs({1: p}, _stats({}), CLEAN, 0.05) == ({"p": 11}, {})
    # the merge waits for both PGs active+clean, on one acting set, reported since the
    # pool's last change; and for no merge to be pending already
    assert merge_step(1, p, _stats({11: ("active+recovering", (0, 1, 2))})) is None
    assert merge_step(1, p, _stats({3: ("peering", (0, 1, 2))})) is None
    assert merge_step(1, p, _stats({3: ("active+clean", (1, 0, 2))})) is None
    assert merge_step(1, p, _stats({}, epoch=4)) is None
    assert merge_step(1, p, _stats({3: ("active+clean+scrubbing", (0, 1, 2))})) == 11
    p.pg_num_pending = 11
    assert merge_step(1, p, _stats({})) is None


def test_pgp_num_waits_for_recovery_and_a_settled_pool() -> None:
    p = _mpool(pg_num=32, pgp=32, target=12)
    for busy in (RecoveryRatios(degraded=0.01), RecoveryRatios(inactive=0.1),
                 RecoveryRatios(unknown=0.1), RecoveryRatios(misplaced=0.06)):  # fmt: skip
        assert pgp_step(p, busy, 0.05) is None
    assert adjust_pgs({1: p}, _stats({}, epoch=4), CLEAN, 0.05) == ({}, {})
    assert adjust_pgs({1: p}, _stats({}), CLEAN, 0.05) == ({}, {"p": 31})
    # a bigger pool moves more at once, but never beyond the target
    big = _mpool(pg_num=512, pgp=512, target=256)
    assert pgp_step(big, CLEAN, 0.05) == 512 - 12
    near = _mpool(pg_num=512, pgp=260, target=256, pgp_target=200)
    assert pgp_step(near, CLEAN, 0.05) == 248
    assert pgp_step(_mpool(pg_num=512, pgp=250, target=256, pgp_target=248), CLEAN, 0.05) == 248
    assert pgp_step(_mpool(pg_num=8, pgp=8, target=8), CLEAN, 0.05) is None


def test_pgp_num_grows_at_once_in_an_empty_pool() -> None:
    p = _mpool(pg_num=16, pgp=8, target=16)
    assert pgp_step(p, CLEAN, 0.05, num_objects=16) == 16  # <= 1 object per target PG
    assert pgp_step(p, CLEAN, 0.05, num_objects=17) == 9
    assert pgp_step(_mpool(pg_num=16, pgp=16, target=32), CLEAN, 0.05) is None  # waits pg_num


def test_pgp_num_does_not_outpace_the_merges() -> None:
    p = _mpool(pg_num=100, pgp=93, target=10)
    # pgp_num tracks pg_num down: at most max(8, 100 * 0.05) ahead of pg_num
    assert pgp_step(p, CLEAN, 0.05) == 92
    p.pgp_num = 92
    assert pgp_step(p, CLEAN, 0.05) is None
