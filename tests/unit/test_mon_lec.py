"""OSD map trimming held back by last_epoch_clean, and OSD beacons (pyceph.mon.lec).

Upstream OSDMonitor::get_trim_to / prepare_beacon / handle_osd_timeouts (16.2): no map a
PG that is not clean, or an OSD that reported an older epoch, may still need is trimmed.
"""

from __future__ import annotations

from pyceph.mon.lec import LastEpochClean, PoolLec, trim_to
from pyceph.mon.state import MonState

FSID = "90a5bc37-9d49-4497-bd9f-506c05dafa54"
T0 = 1795322000.0
KEEP = 10  # mon_min_osdmap_epochs in these tests


def test_pool_floor_is_zero_until_every_pg_reported_and_ignores_stale_reports() -> None:
    lec = PoolLec()
    lec.report(0, 7)
    assert lec.floor(2) == 0  # PG 1 never reported
    lec.report(1, 9)
    assert lec.floor(2) == 7
    lec.report(0, 5)  # older than what PG 0 said already
    assert lec.floor(2) == 7
    lec.report(0, 12)
    assert lec.floor(2) == 9
    assert lec.floor(3) == 0  # a split added PG 2
    assert lec.floor(1) == 12  # a merge took PG 1 away


def test_floor_is_the_lowest_pool_and_osd_epoch() -> None:
    lec = LastEpochClean()
    lec.beacon(0, 40, ["1.0", "1.1", "2.0"], 30)
    assert lec.floor({1: 2, 2: 1}, 50) == 30
    lec.beacon(1, 25, [], 0)  # an OSD that has only epoch 25
    assert lec.floor({1: 2, 2: 1}, 50) == 25
    lec.forget_osd(1)
    assert lec.floor({1: 2, 2: 1}, 50) == 30
    assert lec.floor({1: 2, 2: 1, 3: 4}, 50) == 0  # pool 3 unreported
    assert lec.floor({1: 2}, 50) == 30 and 2 not in lec.pools  # pool 2 deleted
    assert LastEpochClean().floor({}, 50) == 50  # no pools, no OSDs


def test_trim_to_keeps_min_epochs_and_never_passes_the_floor() -> None:
    assert trim_to(first=1, last=100, floor=60, min_epochs=10) == 60
    assert trim_to(first=1, last=100, floor=95, min_epochs=10) == 90
    assert trim_to(first=60, last=100, floor=60, min_epochs=10) == 0  # nothing older
    assert trim_to(first=1, last=100, floor=0, min_epochs=10) == 0  # unreported PG
    assert trim_to(first=1, last=5, floor=5, min_epochs=10) == 0


def _state() -> tuple[MonState, list[str]]:
    opts = {"mon_min_osdmap_epochs": KEEP, "mon_osdmap_full_prune_interval": 5}
    s = MonState.create(FSID, "a", "127.0.0.1:3300", T0, opts.get)
    s.commit_pending(T0)
    s.handle_command({"prefix": "osd pool create", "pool": "p", "pg_num": 4}, b"",
                     "client.admin", None, T0)  # fmt: skip
    for i in range(2):
        s.osd_boot(i, f"0000000{i}-0000-0000-0000-00000000000a", f"127.0.0.1:68{i}0/1",
                   f"127.0.0.1:68{i}1/1", f"127.0.0.1:68{i}2/1", {}, 10 << 30, T0)  # fmt: skip
    s.commit_pending(T0)
    pgs = [f"{pid}.{ps:x}" for pid, pool in s.osdmap.pools.items() for ps in range(pool.pg_num)]
    return s, pgs


def _churn(s: MonState, n: int, now: float) -> None:
    for k in range(n):
        flag = "noout" if k % 2 == 0 else "noin"
        s.handle_command({"prefix": "osd set", "key": flag}, b"", "client.admin", None, now)
        s.commit_pending(now)


def test_an_unclean_pg_holds_trimming_until_it_reports_clean() -> None:
    s, pgs = _state()
    h = s.osdmap_history
    _churn(s, 30, T0)
    assert h.first == 1  # nobody reported: nothing may go
    stuck = s.osdmap.epoch - 20
    s.osd_beacon(0, s.osdmap.epoch, pgs[:2], s.osdmap.epoch, T0)
    s.osd_beacon(1, s.osdmap.epoch, pgs[2:], stuck, T0)  # one PG is not clean since `stuck`
    _churn(s, 30, T0)
    assert 1 < h.first <= stuck and h.full(stuck) is not None
    s.osd_beacon(0, s.osdmap.epoch, pgs[:2], s.osdmap.epoch, T0)
    s.osd_beacon(1, s.osdmap.epoch, pgs[2:], s.osdmap.epoch, T0)  # clean again
    _churn(s, 2, T0)
    assert h.first >= s.osdmap.epoch - KEEP - 5  # back to keeping ~KEEP (from a pin)


def test_a_down_osd_holds_trimming_at_its_epoch_until_it_is_out() -> None:
    s, pgs = _state()
    h = s.osdmap_history
    s.osd_beacon(1, s.osdmap.epoch, [], 0, T0)
    seen = s.osdmap.epoch
    assert s.osd_mark_down_self(1, T0)
    s.commit_pending(T0)
    for _ in range(40):
        s.osd_beacon(0, s.osdmap.epoch, pgs, s.osdmap.epoch, T0)
        _churn(s, 1, T0)
    assert h.first <= seen  # osd.1 will walk every epoch from `seen` when it returns
    s.osd_beacon(1, s.osdmap.epoch, [], 0, T0)  # a down OSD's beacon is ignored
    assert s.lec.osd_epochs[1] == seen
    s.handle_command({"prefix": "osd out", "ids": ["1"]}, b"", "client.admin", None, T0)
    s.commit_pending(T0)
    _churn(s, 1, T0)
    assert 1 not in s.lec.osd_epochs and h.first > seen


def test_an_osd_silent_past_the_report_timeout_is_marked_down() -> None:
    s, pgs = _state()
    timeout = float(s.opt("mon_osd_report_timeout"))
    assert not s.tick(T0)  # the clock starts for both
    s.osd_beacon(0, s.osdmap.epoch, pgs, s.osdmap.epoch, T0 + timeout - 1)
    assert not s.tick(T0 + timeout)
    assert s.tick(T0 + timeout + 1)
    s.commit_pending(T0 + timeout + 1)
    assert s.osdmap.is_up(0) and not s.osdmap.is_up(1)
    assert any("osd.1 marked down after no beacon for 901" in e["message"] for e in s.log)
