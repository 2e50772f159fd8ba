"""The PG health checks (upstream PGMap::get_health_checks) and the `last_*` stamps the
mgr's PGMap keeps for them: which flags count at once, which only once stuck, summary
order and wording, detail lines."""

from __future__ import annotations

from typing import Any

from tests.unit.test_mon_commands import T0, make_state, run
from tests.unit.test_pgmap import StubOSDMap

from pyceph.mgr.pgmap import PGMap
from pyceph.mon.health import compute_checks, health_plain

#: The default mon_pg_stuck_threshold.
STUCK = 60


def stats(state: str, acting: list[int], **extra: Any) -> dict[str, Any]:
    return {"state": state, "acting": acting, "num_objects": 5, **extra}


def checks_with(pgs: dict[str, dict[str, Any]], now: float) -> dict[str, Any]:
    s = make_state({"mon_allow_pool_delete": True})
    assert run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 2}).ret == 0
    run(s, {"prefix": "osd pool application enable", "pool": "p", "app": "rbd"})
    s.mgr_digest = {"pg_stats": pgs}
    return compute_checks(s, now)


def test_undersized_counts_once_stuck_degraded_at_once() -> None:
    since = T0 + 100
    pgs = {
        p: stats("active+undersized+degraded", [0, 1], num_objects_degraded=5,
                 num_object_copies=15, last_fullsized=since, last_active=since + 50)
        for p in ("1.0", "1.1")
    }  # fmt: skip
    fresh = checks_with(pgs, since + 50)["PG_DEGRADED"]
    assert fresh["summary"]["message"] == (
        "Degraded data redundancy: 10/30 objects degraded (33.333%), 2 pgs degraded"
    )
    assert [d["message"] for d in fresh["detail"]] == [
        "pg 1.0 is active+undersized+degraded, acting [0,1]",
        "pg 1.1 is active+undersized+degraded, acting [0,1]",
    ]
    stuck = checks_with(pgs, since + STUCK + 9)["PG_DEGRADED"]
    assert stuck["summary"]["message"] == (
        "Degraded data redundancy: 10/30 objects degraded (33.333%), 2 pgs degraded, "
        "2 pgs undersized"
    )
    assert stuck["detail"][0]["message"] == (
        "pg 1.0 is stuck undersized for 69s, current state active+undersized+degraded, "
        "last acting [0,1]"
    )
    assert stuck["summary"]["count"] == 2


def test_inactive_only_once_stuck_and_since_forever() -> None:
    pgs = {
        "1.0": stats("undersized+degraded+peered", [0], last_active=T0, last_fullsized=T0),
        "1.1": stats("active+clean", [0, 1, 2], last_active=T0 + 200, last_fullsized=T0 + 200),
    }
    c = checks_with(pgs, T0 + 200)
    assert c["PG_AVAILABILITY"]["summary"]["message"] == (
        "Reduced data availability: 1 pg inactive"
    )
    assert c["PG_AVAILABILITY"]["detail"][0]["message"] == (
        "pg 1.0 is stuck inactive for 3m, current state undersized+degraded+peered, last acting [0]"
    )
    assert c["PG_DEGRADED"]["summary"]["message"] == (
        "Degraded data redundancy: 1 pg degraded, 1 pg undersized"
    )
    pgs["1.0"]["last_active"] = 0
    c = checks_with(pgs, T0 + 200)
    assert c["PG_AVAILABILITY"]["detail"][0]["message"] == (
        "pg 1.0 is stuck inactive since forever, current state undersized+degraded+peered, "
        "last acting [0]"
    )
    pgs["1.0"]["last_active"] = T0 + 190  # not stuck yet: no check
    assert "PG_AVAILABILITY" not in checks_with(pgs, T0 + 200)


def test_inconsistent_pg_and_scrub_errors() -> None:
    pgs = {
        "1.0": stats("active+clean+inconsistent", [2, 0, 1], num_scrub_errors=2),
        "1.1": stats("active+clean+scrubbing+deep+repair", [0, 1, 2]),
    }
    c = checks_with(pgs, T0 + 10)
    assert c["OSD_SCRUB_ERRORS"]["summary"] == {"message": "2 scrub errors", "count": 2}
    assert c["PG_DAMAGED"]["severity"] == "HEALTH_ERR"
    assert c["PG_DAMAGED"]["summary"]["message"] == "Possible data damage: 1 pg inconsistent"
    assert [d["message"] for d in c["PG_DAMAGED"]["detail"]] == [
        "pg 1.0 is active+clean+inconsistent, acting [2,0,1]"
    ]  # a repairing PG is not damage (upstream counts no `repair` flag)
    assert health_plain(c, False) == (
        "HEALTH_ERR 2 scrub errors; Possible data damage: 1 pg inconsistent\n"
    )


def test_pgmap_keeps_the_last_stamps() -> None:
    pm = PGMap()
    pm.apply_osdmap(StubOSDMap())
    report = {"osd_stat": {}, "pg_stats": {"1.0": stats("active+undersized+degraded", [0])}}
    pm.apply_osd_report(0, report, 100.0)
    pm.tick(130.0)
    last = pm.digest()["pg_stats"]["1.0"]
    assert last["last_fullsized"] == 100.0  # undersized since it was first seen
    assert last["last_active"] == last["last_unstale"] == 130.0
    report["pg_stats"]["1.0"]["state"] = "active+clean"
    pm.apply_osd_report(0, report, 140.0)
    assert pm.digest()["pg_stats"]["1.0"]["last_fullsized"] == 140.0
    report["pg_stats"]["1.0"]["state"] = "peered"
    pm.apply_osd_report(0, report, 150.0)
    last = pm.digest()["pg_stats"]["1.0"]
    assert (last["last_active"], last["last_peered"]) == (140.0, 150.0)


def test_object_misplaced_only_when_asked_for() -> None:
    pgs = {"1.0": stats("active+remapped+backfill_wait", [0, 1], num_objects_misplaced=3,
                        num_object_copies=10)}  # fmt: skip
    assert "OBJECT_MISPLACED" not in checks_with(pgs, T0 + 10)  # mon_warn_on_misplaced: off
    s = make_state({"mon_warn_on_misplaced": True})
    assert run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 2}).ret == 0
    s.mgr_digest = {"pg_stats": pgs}
    c = compute_checks(s, T0 + 10)["OBJECT_MISPLACED"]
    assert c["summary"] == {"message": "3/10 objects misplaced (30.000%)", "count": 3}
    assert c["severity"] == "HEALTH_WARN"


def test_pg_stat_counts_degraded_and_misplaced_objects() -> None:
    pm = PGMap()
    pm.apply_osdmap(StubOSDMap())
    pg = stats("active+undersized+degraded+remapped", [0], num_object_copies=10,
               num_objects_degraded=4, num_objects_misplaced=1)  # fmt: skip
    pm.apply_osd_report(0, {"osd_stat": {}, "pg_stats": {"1.0": pg}}, 100.0)
    text = pm.pg_stat_text()
    assert text.endswith("; 4/10 objects degraded (40.000%); 1/10 objects misplaced (10.000%)\n"), (
        text
    )
    summary = pm.pg_stat()["pg_summary"]
    assert (summary["degraded_objects"], summary["misplaced_total"]) == (4, 10)
