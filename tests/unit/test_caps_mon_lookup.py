"""The descriptor a monitor checks a command's caps against (`enforce.mon_command_perm`).

Upstream `Monitor::_get_moncommand` takes the first table entry whose signature begins
with the prefix, so a prefix that is the start of an earlier command's name borrows that
command's module and perm (seen on Ceph 16.2.15: `allow r` may run `osd in`).
"""

from __future__ import annotations

from pyceph.auth import enforce


def test_prefix_of_an_earlier_command_takes_its_perm() -> None:
    assert enforce.mon_command_perm("osd in", "osd", "rw") == ("osd", "r")  # `osd info`
    assert enforce.mon_command_perm("fs compat", "fs", "rw") == ("mds", "r")  # `... show`


def test_own_entry_and_unknown_prefix() -> None:
    assert enforce.mon_command_perm("osd out", "osd", "rw") == ("osd", "rw")
    assert enforce.mon_command_perm("osd blocklist", "osd", "rw") == ("osd", "rw")
    assert enforce.mon_command_perm("auth get", "auth", "rx") == ("auth", "rx")
    # a mgr command (not in the monitor's table) keeps its own descriptor's
    assert enforce.mon_command_perm("pg stat", "pg", "r") == ("pg", "r")


def test_read_only_user_may_mark_an_osd_in_but_not_out() -> None:
    caps = {"mon": "allow r"}
    for prefix, allowed in (("osd in", True), ("osd out", False)):
        module, perm = enforce.mon_command_perm(prefix, "osd", "rw")
        got = enforce.mon_command_allowed(caps, "client.x", module, perm, prefix, {"ids": ["1"]})
        assert got is allowed, prefix
