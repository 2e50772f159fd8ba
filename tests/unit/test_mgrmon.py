"""The MgrMap's active/standby logic (pyceph.mon.mgrmon), as upstream's MgrMonitor."""

from __future__ import annotations

from typing import Any

from pyceph.mon import mgrmon
from pyceph.mon.state import _empty_mgrmap

GRACE = 30.0


class Mon:
    """A MgrMap, its beacon times and the cluster log lines."""

    def __init__(self) -> None:
        self.mm: dict[str, Any] = _empty_mgrmap()
        self.last: dict[int, float] = {}
        self.log: list[tuple[str, str]] = []

    def clog(self, prio: str, msg: str) -> None:
        self.log.append((prio, msg))

    def beacon(self, gid: int, name: str, now: float, available: bool = True) -> None:
        md = {"hostname": f"h-{name}", "ceph_release": "pacific"}
        b = mgrmon.MgrBeacon(gid, name, f"127.0.0.1:{gid}/0", available, [], {"m": name}, {}, md)
        mgrmon.beacon(self.mm, self.last, b, now, self.clog)

    def tick(self, now: float) -> None:
        mgrmon.tick(self.mm, self.last, GRACE, now, self.clog)

    def fail(self, who: str | None, now: float) -> tuple[bool, str]:
        return mgrmon.fail(self.mm, self.last, who, now, self.clog)

    @property
    def standbys(self) -> list[tuple[int, str]]:
        return [(s["gid"], s["name"]) for s in self.mm["standbys"]]


def test_first_beacon_active_then_standbys_in_gid_order() -> None:
    m = Mon()
    m.beacon(10, "x", 0)
    m.beacon(30, "z", 0)
    m.beacon(20, "y", 0)
    assert (m.mm["active_gid"], m.mm["active_name"], m.mm["available"]) == (10, "x", True)
    assert m.standbys == [(20, "y"), (30, "z")]
    assert ("INF", "Activating manager daemon x") in m.log
    assert ("DBG", "Standby manager daemon y started") in m.log


def test_silent_active_replaced_by_first_standby() -> None:
    m = Mon()
    m.beacon(10, "x", 0)
    m.beacon(20, "y", 0)
    m.beacon(30, "z", 0)
    m.beacon(20, "y", 25)
    m.beacon(30, "z", 25)
    m.tick(31)
    assert m.mm["active_name"] == "y" and m.mm["active_gid"] == 20
    assert not m.mm["available"] and m.mm["services"] == {}  # until y beacons as active
    assert m.standbys == [(30, "z")]
    assert ("INF", "Manager daemon x is unresponsive, replacing it with standby daemon y") in m.log
    m.beacon(20, "y", 32)
    assert m.mm["available"] and m.mm["services"] == {"m": "y"}
    # the old active comes back: a standby
    m.beacon(10, "x", 33)
    assert m.mm["active_name"] == "y" and m.standbys == [(10, "x"), (30, "z")]


def test_silent_standby_dropped_and_no_standby_left() -> None:
    m = Mon()
    m.beacon(10, "x", 0)
    m.beacon(20, "y", 0)
    m.beacon(10, "x", 20)
    m.tick(31)
    assert m.standbys == [] and m.mm["active_name"] == "x"
    m.tick(51)
    assert m.mm["active_name"] == "" and not m.mm["available"]
    assert ("INF", "Manager daemon x is unresponsive.  No standby daemons available.") in m.log


def test_restarted_active_takes_over_again() -> None:
    m = Mon()
    m.beacon(10, "x", 0)
    m.beacon(20, "y", 0)
    m.beacon(11, "x", 5)  # mgr.x restarted: a new session
    assert m.mm["active_gid"] == 11 and m.standbys == [(20, "y")]
    assert ("INF", "Active manager daemon x restarted") in m.log
    m.beacon(21, "y", 6)  # a restarted standby replaces its old entry
    assert m.standbys == [(21, "y")]


def test_mgr_fail() -> None:
    m = Mon()
    m.beacon(10, "x", 0)
    m.beacon(20, "y", 0)
    m.beacon(30, "z", 0)
    assert m.fail(None, 1) == (True, "")
    assert m.mm["active_name"] == "y" and m.standbys == [(30, "z")]
    assert m.fail("30", 2) == (True, "")
    assert m.standbys == []
    assert m.fail("nosuch", 3) == (False, "Daemon not found 'nosuch', already failed?")
    assert m.fail("99", 3) == (False, "Daemon not found '99', already failed?")
    assert m.fail("y", 4) == (True, "")
    assert m.mm["active_name"] == "" and ("WRN", "Failing active mgr y without standby") in m.log
    assert m.fail(None, 5) == (False, "Currently no active mgr")


def test_metadata_follows_the_map() -> None:
    m = Mon()
    m.beacon(10, "x", 0)
    m.beacon(20, "y", 0)
    assert mgrmon.metadata(m.mm, "y") == (0, {"name": "y", "hostname": "h-y", "ceph_release": "pacific"}, "")  # fmt: skip
    assert [d["name"] for d in mgrmon.metadata(m.mm, None)[1]] == ["x", "y"]
    assert mgrmon.metadata(m.mm, "q") == (2, None, "mgr.q does not exist")
    assert mgrmon.count_metadata(m.mm, "ceph_release") == {"pacific": 2}
    m.fail("y", 1)
    assert mgrmon.metadata(m.mm, "y")[0] == 2
    assert mgrmon.count_metadata(m.mm, "hostname") == {"h-x": 1}
