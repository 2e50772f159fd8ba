"""`osd safe-to-destroy`, `osd ok-to-stop`, `osd destroy|purge` in the mgr: upstream
16.2.15's JSON, messages and errnos (recorded against the reference cluster)."""

from __future__ import annotations

import asyncio
import errno
import json
from typing import Any

from pyceph.mgr import osd_safety
from pyceph.mgr.commands import handle_mgr_command, handle_osd_removal
from pyceph.mgr.pgmap import PGMap

from .test_mon_commands import make_state, run

T = 1795322100.0


def pg(state: str, acting: list[int], up: list[int] | None = None) -> dict[str, Any]:
    return {"state": state, "acting": acting, "up": acting if up is None else up}


CLEAN = [("1.0", pg("active+clean", [0, 1])), ("1.1", pg("active+clean", [1, 2])),
         ("1.2", pg("active+clean", [2, 0]))]  # fmt: skip


def test_safe_to_destroy_verdicts() -> None:
    ex = {0: True, 1: True, 2: True, 3: True}
    r = osd_safety.safe_to_destroy([0], ex, CLEAN, {0: 2})
    assert (r.r, r.outs, r.active) == (-errno.EBUSY, "OSD(s) 0 have 2 pgs currently mapped to them. ", [0])  # fmt: skip
    r = osd_safety.safe_to_destroy([7], ex, CLEAN, {})
    assert (r.r, r.outs) == (0, "OSD(s) 7 are safe to destroy without reducing data durability.")
    r = osd_safety.safe_to_destroy([0, 1, 7], ex, CLEAN, {})
    assert r.r == -errno.EBUSY
    assert r.outs == ("OSD(s) 7 are safe to destroy without reducing data durability. "
                      "OSD(s) 0,1 have 4 pgs currently mapped to them. ")  # fmt: skip
    r = osd_safety.safe_to_destroy([3], ex, CLEAN, {3: 0})
    assert r.r == 0  # out of every PG, everything clean
    degraded = [*CLEAN[:2], ("1.2", pg("active+undersized+degraded", [2]))]
    r = osd_safety.safe_to_destroy([3], ex, degraded, {})
    assert r.r == -errno.EAGAIN and r.missing_stats == [3]
    assert r.outs.startswith("OSD(s) 3 have no reported stats, and not all PGs are active+clean")
    r = osd_safety.safe_to_destroy([3], ex, degraded, {3: 4})
    assert r.r == -errno.EBUSY and r.stored_pgs == [3]
    r = osd_safety.safe_to_destroy([0], ex, [("1.0", pg("unknown", []))], {})
    assert (r.r, r.outs) == (-errno.EAGAIN, "1 pgs have unknown state; cannot draw any conclusions")


def test_ok_to_stop_report() -> None:
    r = osd_safety.ok_to_stop([0], CLEAN, {1: 1})
    assert r.r == 0
    assert r.dump() == {"ok_to_stop": True, "osds": [0], "num_ok_pgs": 2, "num_not_ok_pgs": 0,
                        "ok_become_degraded": ["1.0", "1.2"]}  # fmt: skip
    r = osd_safety.ok_to_stop([0, 1], CLEAN, {1: 1})
    assert r.r == -errno.EBUSY
    assert r.outs == "unsafe to stop osd(s) at this time (1 PGs are or would become offline)"
    assert r.dump()["bad_become_inactive"] == ["1.0"]
    assert list(r.dump()) == ["ok_to_stop", "osds", "num_ok_pgs", "num_not_ok_pgs",
                              "bad_become_inactive", "ok_become_degraded"]  # fmt: skip
    mixed = [("1.0", pg("unknown", [])), *CLEAN[1:]]
    r = osd_safety.ok_to_stop([0], mixed, {1: 1})
    assert (r.r, r.outs) == (-errno.EAGAIN, "1 pgs have unknown state; cannot draw any conclusions")
    assert r.dump() == {"ok_to_stop": False, "osds": [0], "num_ok_pgs": 1, "num_not_ok_pgs": 0,
                        "unknown_pgs": ["1.0"], "ok_become_degraded": ["1.2"]}  # fmt: skip
    deg = [("1.0", pg("active+undersized+degraded", [0, 1]))]
    assert osd_safety.ok_to_stop([0], deg, {1: 1}).ok_become_more_degraded == ["1.0"]
    assert osd_safety.ok_to_stop([0], deg, {}).dump()["bad_no_pool_pgs"] == ["1.0"]
    # a PG both inactive and losing its last copy is in both lists, counted once
    peered = [("1.0", pg("undersized+degraded+peered", [0]))]
    r = osd_safety.ok_to_stop([0], peered, {1: 1})
    assert r.bad_already_inactive == r.bad_become_inactive == ["1.0"]
    assert r.dump()["num_not_ok_pgs"] == 1


def test_ok_to_stop_max_grows_the_set_along_crush() -> None:
    # size-2 PGs over 4 OSDs; osd 0 and 1 never share a PG, so both may stop
    pgs = [("1.0", pg("active+clean", [0, 2])), ("1.1", pg("active+clean", [1, 3])),
           ("1.2", pg("active+clean", [2, 1])), ("1.3", pg("active+clean", [3, 0]))]  # fmt: skip

    def peers(osds: list[int]) -> list[list[int]]:
        return [[0, 1, 2, 3]]  # one host holding every OSD

    r = osd_safety.ok_to_stop([0], pgs, {1: 1}, max_osds=3, peers=peers)
    assert r.r == 0 and r.osds == [0, 1]  # 2 and 3 each share a PG with 0 or 1
    r = osd_safety.ok_to_stop([0], pgs, {1: 1}, max_osds=1, peers=peers)
    assert r.osds == [0]


def test_parse_osd_id_list() -> None:
    assert osd_safety.parse_osd_id_list(["osd.2", "0", "2"], [0, 1, 2]) == [0, 2]
    assert osd_safety.parse_osd_id_list(["all"], [0, 1]) == [0, 1]
    try:
        osd_safety.parse_osd_id_list(["foo"], [])
    except ValueError as e:
        assert str(e) == "Expected option value to be integer, got 'foo'invalid osd id 'foo'"
    else:
        raise AssertionError("foo parsed")


def _cluster() -> tuple[Any, PGMap]:
    s = make_state()
    assert run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 4}).ret == 0
    assert run(s, {"prefix": "osd pool set", "pool": "p", "var": "size", "val": "2"}).ret == 0
    m = s.osdmap
    pm = PGMap()
    pm.apply_osdmap(m)
    reports: dict[int, dict[str, Any]] = {i: {} for i in m.existing_osds()}
    for ps in range(4):
        up, upp, acting, actp = m.pg_to_up_acting_osds(1, ps)
        reports[actp][f"1.{ps:x}"] = {"state": "active+clean", "reported_epoch": m.epoch,
                                      "up": up, "acting": acting}  # fmt: skip
    for i, pgs in reports.items():
        pm.apply_osd_report(i, {"osd_stat": {"num_pgs": len(pgs)}, "pg_stats": pgs}, T)
    return s, pm


def test_mgr_commands_render_upstream_formats() -> None:
    s, pm = _cluster()
    m = s.osdmap
    held = [i for i in m.existing_osds() if any(i in d["acting"] for _, d in pm.pgs())]
    osd = held[0]
    r, out, outs = handle_mgr_command(pm, m, {"prefix": "osd safe-to-destroy", "ids": [str(osd)]})
    assert r == -errno.EBUSY and outs.startswith(f"OSD(s) {osd} have ")
    r, out, outs = handle_mgr_command(
        pm, m, {"prefix": "osd safe-to-destroy", "ids": [str(osd)], "format": "json"}
    )
    assert (r, outs) == (0, "")
    assert json.loads(out) == {"safe_to_destroy": [], "active": [osd], "missing_stats": [],
                               "stored_pgs": []}  # fmt: skip
    r, out, outs = handle_mgr_command(pm, m, {"prefix": "osd safe-to-destroy", "ids": ["7"]})
    assert (r, outs) == (0, "OSD(s) 7 are safe to destroy without reducing data durability.")
    r, out, outs = handle_mgr_command(pm, m, {"prefix": "osd ok-to-stop", "ids": [str(osd)]})
    assert r == 0 and json.loads(out)["ok_to_stop"] is True
    assert out.endswith(b"}\n") and out.count(b"\n") == 1  # compact, newline-ended
    r, out, outs = handle_mgr_command(pm, m, {"prefix": "osd ok-to-stop", "ids": ["all"]})
    assert r == -errno.EBUSY and json.loads(out)["num_not_ok_pgs"] == 4
    r, out, outs = handle_mgr_command(
        pm, m, {"prefix": "osd ok-to-stop", "ids": [str(osd)], "max": 3}
    )
    grown = json.loads(out)["osds"]
    assert r == 0 and osd in grown and 1 <= len(grown) <= 3
    for _, d in pm.pgs():  # every PG keeps a copy (min_size 1) outside the grown set
        assert set(d["acting"]) - set(grown), (grown, d["acting"])
    r, out, outs = handle_mgr_command(pm, m, {"prefix": "osd ok-to-stop", "ids": ["x"]})
    assert r == -errno.EINVAL


def test_destroy_and_purge_check_safety_unless_forced() -> None:
    s, pm = _cluster()
    m = s.osdmap
    held = [i for i in m.existing_osds() if any(i in d["acting"] for _, d in pm.pgs())][0]
    sent: list[dict[str, Any]] = []

    async def mon(c: dict[str, Any]) -> tuple[int, bytes, str]:
        sent.append(c)
        res = s.handle_command(c, b"", "mgr.x", None, T)
        s.commit_pending(T)
        return res.ret, res.outbuf, res.outs

    def go(cmd: dict[str, Any]) -> tuple[int, bytes, str]:
        return asyncio.run(handle_osd_removal(pm, s.osdmap, cmd, mon))

    r, _, outs = go({"prefix": "osd purge", "id": held})
    assert r == -errno.EBUSY and not sent
    assert outs.endswith("\nYou can proceed by passing --force, but be warned that this will "
                         "likely mean real, permanent data loss.")  # fmt: skip
    r, _, outs = go({"prefix": "osd destroy", "id": held, "force": True})
    assert (r, outs) == (-errno.EBUSY, f"osd.{held} is not `down`.")
    assert sent[-1] == {"prefix": "osd destroy-actual", "id": held, "yes_i_really_mean_it": True}
    r, _, outs = go({"prefix": "osd purge", "id": 9})  # no such OSD: safe, the mon says so
    assert (r, outs) == (0, "osd.9 does not exist")
    s.osd_mark_down_self(held, T)
    s.commit_pending(T)
    r, _, outs = go({"prefix": "osd purge", "id": held, "yes_i_really_mean_it": True})
    assert (r, outs) == (0, f"purged osd.{held}")
    assert not s.osdmap.exists(held)
