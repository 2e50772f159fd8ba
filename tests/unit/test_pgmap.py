"""PGMap aggregation and the mgr's pg/osd df command outputs."""

from __future__ import annotations

import json
import types
from pathlib import Path

from pyceph.common.output import byte_u, dump_json
from pyceph.mgr.commands import handle_mgr_command
from pyceph.mgr.pgmap import PGMap

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"
GIB_KB = 1024 * 1024


class StubOSDMap:
    """Test double with the attributes PGMap reads from pyceph.osdmap.osdmap.OSDMap."""

    def __init__(self):
        self.epoch = 10
        self.full_ratio = 0.95
        self.pools = {
            1: types.SimpleNamespace(
                pool_name="rbd", size=2, min_size=1, pg_num=4, type=1, crush_rule=0
            ),
            2: types.SimpleNamespace(
                pool_name="one", size=1, min_size=1, pg_num=2, type=1, crush_rule=0
            ),
        }
        self.osds = {
            i: types.SimpleNamespace(up=True, in_=True, weight=1.0, crush_weight=0.00980)
            for i in (0, 1)
        }

    def pg_to_up_acting_osds(self, pool, ps):
        a = [ps % 2, (ps + 1) % 2][: self.pools[pool].size]
        return a, a[0], a, a[0]


def pgs(pool, seeds, primary, objs, nbytes):
    return {
        f"{pool}.{s:x}": {
            "state": "active+clean",
            "reported_epoch": 10,
            "version": [10, 5],
            "num_objects": objs,
            "num_bytes": nbytes,
            "num_rd": 3,
            "num_wr": 7,
            "num_wr_kb": 16,
            "up": [primary, 1 - primary],
            "acting": [primary, 1 - primary],
            "up_primary": primary,
            "acting_primary": primary,
        }
        for s in seeds
    }


def make():
    m = PGMap()
    om = StubOSDMap()
    m.apply_osdmap(om)
    st = {
        "kb": 10 * GIB_KB,
        "kb_used": 362900,
        "kb_avail": 10 * GIB_KB - 362900,
        "kb_used_data": 65804,
        "kb_used_omap": 0,
        "kb_used_meta": 297088,
        "num_pgs": 3,
    }
    m.apply_osd_report(
        0,
        {"osd_stat": st, "pg_stats": {**pgs(1, [0, 2], 0, 2, 1000), **pgs(2, [0], 0, 5, 15000)}},
        100.0,
    )
    m.apply_osd_report(1, {"osd_stat": st, "pg_stats": pgs(1, [1, 3], 1, 1, 500)}, 101.0)
    return m, om


def test_two_reports_aggregate():
    m, om = make()
    sums = m.pool_sums()
    assert sums[1]["num_objects"] == 6 and sums[1]["num_bytes"] == 3000
    assert sums[2]["num_objects"] == 5 and sums[2]["num_wr"] == 7
    s = m.pg_stat()["pg_summary"]
    assert s["num_pgs"] == 6 and s["num_pg_by_state"] == [
        {"name": "active+clean", "num": 5},
        {"name": "unknown", "num": 1},
    ]
    assert s["num_bytes"] == 18000
    assert s["total_bytes"] == 20 * 1024**3
    assert s["total_used_bytes"] == s["total_used_raw_bytes"] == 2 * 362900 * 1024
    assert (
        m.pg_stat_text()
        == "6 pgs: 5 active+clean, 1 unknown; 18 KiB data, 709 MiB used, 19 GiB / 20 GiB avail\n"
    )


def test_unknown_stale_and_removal():
    m, om = make()
    assert m.pg("2.1", 2, 1)["state"] == "unknown"
    assert m.pg("2.1", 2, 1)["up"] == [1]
    m.tick(100.0 + m.stale_timeout + 0.5)
    assert m.pg("1.1", 1, 1)["state"] == "active+clean"
    assert m.pg("1.0", 1, 0)["state"] == "stale+active+clean"
    om.osds[1].up = False
    assert m.pg("1.1", 1, 1)["state"].startswith("stale+")
    del om.pools[2]
    m.apply_osdmap(om)
    assert "2.0" not in m.pg_stats and len(m.pgs()) == 4
    m.remove_osd(1)
    assert list(m.osd_stats) == [0]


def test_pg_stat_sample_format():
    line = (SAMPLES / "ceph-pg-stat.txt").read_text()
    m, _ = make()
    keys = set(m.pg_stat()["pg_summary"])
    sample = json.loads((SAMPLES / "ceph-pg-stat.json").read_text())
    assert keys == set(sample["pg_summary"])
    assert line.startswith(
        "48 pgs: 48 active+clean; 64 MiB data, 1.0 GiB used, 29 GiB / 30 GiB avail"
    )
    assert byte_u(67124065) == "64 MiB" and byte_u(1114828800) == "1.0 GiB"
    assert byte_u(31097425920) == "29 GiB" and byte_u(32212254720) == "30 GiB"
    assert byte_u(9828936704) == "9.2 GiB" and byte_u(0) == "0 B" and byte_u(15000) == "15 KiB"
    assert byte_u(1048537 * 1024) == "1024 MiB"


def test_df_pools_keys_and_formulas():
    m, om = make()
    pools = m.df_pools(om)
    assert [p["name"] for p in pools] == ["rbd", "one"]
    st = pools[0]["stats"]
    sample = json.loads((SAMPLES / "ceph-df.json").read_text())
    assert list(st) == list(sample["pools"][0]["stats"])
    assert list(pools[0]) == list(sample["pools"][0])
    detail = json.loads((SAMPLES / "ceph-df-detail.json").read_text())
    assert list(m.df_pools(om, detail=True)[0]["stats"]) == list(detail["pools"][0]["stats"])
    assert st["stored"] == 3000 and st["objects"] == 6 and st["bytes_used"] == 6000
    kb, avail = 10 * GIB_KB, 10 * GIB_KB - 362900
    per_osd = int((avail - kb * 0.05) * 1024.0 / 0.5)
    assert st["max_avail"] == per_osd // 2
    assert pools[1]["stats"]["max_avail"] == per_osd
    assert abs(st["percent_used"] - 6000 / (6000 + st["max_avail"] * 2)) < 1e-12


def test_osd_df_table_shape():
    m, om = make()
    d = m.osd_df()
    sample = json.loads((SAMPLES / "ceph-osd-df.json").read_text())
    assert list(d["nodes"][0]) == list(sample["nodes"][0])
    assert list(d["summary"]) == list(sample["summary"])
    text = m.osd_df_text().splitlines()
    assert (
        text[0]
        == "ID  CLASS  WEIGHT   REWEIGHT  SIZE    RAW USE  DATA     OMAP  META     AVAIL    %USE  VAR   PGS  STATUS"
    )
    assert (
        text[1]
        == " 0    hdd  0.00980   1.00000  10 GiB  354 MiB   64 MiB   0 B  290 MiB  9.7 GiB  3.46  1.00    3      up"
    )
    assert text[3].startswith(
        "                       TOTAL  20 GiB  709 MiB  129 MiB   0 B  580 MiB   19 GiB  3.46"
    )
    assert text[4] == "MIN/MAX VAR: 1.00/1.00  STDDEV: 0"


def test_pg_dump_variants_and_digest():
    m, om = make()
    brief = m.pg_dump("pgs_brief")
    assert brief["pg_stats"][0] == {
        "pgid": "1.0",
        "state": "active+clean",
        "up": [0, 1],
        "acting": [0, 1],
        "up_primary": 0,
        "acting_primary": 0,
    }
    full = m.pg_dump("all")["pg_map"]
    assert {
        "version",
        "stamp",
        "pg_stats_sum",
        "osd_stats_sum",
        "pg_stats",
        "pool_stats",
        "osd_stats",
    } <= set(full)
    assert full["pg_stats_sum"]["stat_sum"]["num_objects"] == 11
    assert m.pg_dump("osds")["osd_stats"][1]["osd"] == 1
    assert m.pg_dump("pools")["pool_stats"][0]["num_pg"] == 4
    dg = m.digest(om)
    assert dg["pg_stats"]["1.0"]["num_objects"] == 2 and dg["pg_stats"]["2.1"]["state"] == "unknown"
    assert dg["osd_stats"]["0"]["kb"] == 10 * GIB_KB
    assert dg["pool_stats"]["1"]["stored"] == 3000 and dg["stamp"] == 101.0
    assert dg["pools_df"] == m.df_pools(om)


def test_mgr_commands():
    m, om = make()
    ret, out, outs = handle_mgr_command(m, om, {"prefix": "pg stat", "format": "json"}, b"")
    assert ret == 0 and out.endswith(b"}\n}") and json.loads(out)["pg_ready"] is True
    ret, out, _ = handle_mgr_command(m, lambda: om, {"prefix": "pg stat", "format": "json-pretty"})
    assert out.startswith(b'{\n    "pg_ready": true,') and out.endswith(b"    }\n\n}\n")
    ret, out, outs = handle_mgr_command(
        m, om, {"prefix": "pg dump", "dumpcontents": ["pgs_brief"], "format": "json"}
    )
    assert outs == "dumped pgs_brief" and len(json.loads(out)["pg_stats"]) == 6
    ret, out, _ = handle_mgr_command(
        m, om, {"prefix": "pg ls", "pool": 1, "states": ["active"], "format": "json"}
    )
    assert [p["pgid"] for p in json.loads(out)["pg_stats"]] == ["1.0", "1.1", "1.2", "1.3"]
    ret, out, _ = handle_mgr_command(m, om, {"prefix": "pg ls-by-pool", "poolstr": "one"})
    assert ret == 0 and out.startswith(b"PG ")
    ret, out, outs = handle_mgr_command(m, om, {"prefix": "osd pool stats", "pool_name": "nope"})
    assert (ret, outs) == (-2, "unrecognized pool 'nope'")
    ret, out, _ = handle_mgr_command(m, om, {"prefix": "osd pool stats"})
    assert (
        out == b"pool rbd id 1\n  nothing is going on\n\npool one id 2\n  nothing is going on\n\n"
    )
    ret, out, _ = handle_mgr_command(m, om, {"prefix": "osd df", "format": "json"})
    assert out.endswith(b"}\n") and len(json.loads(out)["nodes"]) == 2
    ret, out, outs = handle_mgr_command(m, om, {"prefix": "pg ls", "pool": "x"})
    assert (ret, outs) == (-22, "bad or missing field 'pool'")
    assert handle_mgr_command(m, om, {"prefix": "foo"}) == (-22, b"", "No handler found for 'foo'")


def test_json_formatter_floats():
    assert (
        dump_json({"a": 0.034608840942382812, "b": 1.0, "c": [], "d": {}})
        == '{"a":0.034608840942382812,"b":1,"c":[],"d":{}}'
    )
    assert dump_json({"x": [1]}, pretty=True) == '{\n    "x": [\n        1\n    ]\n}\n'


def test_misplaced_and_degraded_in_pg_stat():
    """upstream pool_stat_t::dump_recovery_info: the recovery counts appear (JSON and
    the one-line summary) only while not zero, against the object copies."""
    m, _ = make()
    moving = pgs(1, [1], 1, 10, 500)
    moving["1.1"].update(
        state="active+remapped+backfilling", num_object_copies=20, num_objects_misplaced=5
    )
    m.apply_osd_report(1, {"pg_stats": moving}, 102.0)
    s = m.pg_stat()["pg_summary"]
    assert (s["misplaced_objects"], s["misplaced_total"], s["misplaced_ratio"]) == (5, 20, 0.25)
    assert "degraded_objects" not in s
    assert m.pg_stat_text().rstrip().endswith("; 5/20 objects misplaced (25.000%)")


def test_osd_perf_shows_each_osds_store_commit_latency():
    """`osd perf` and pg dump's perf_stat carry the latency each OSD reported
    (PGMap::dump/print_osd_perf_stats; whole milliseconds, OSDs high to low)."""
    m, om = make()
    st = {"kb": GIB_KB, "kb_avail": GIB_KB, "num_pgs": 1}
    m.apply_osd_report(0, {"osd_stat": {**st, "commit_latency_ns": 2_700_000,
                                        "apply_latency_ns": 2_700_000}}, 102.0)  # fmt: skip
    m.apply_osd_report(1, {"osd_stat": {**st, "commit_latency_ns": 12_000_000,
                                        "apply_latency_ns": 12_000_000}}, 102.0)  # fmt: skip
    ret, out, _ = handle_mgr_command(m, om, {"prefix": "osd perf", "format": "json"})
    assert ret == 0 and json.loads(out) == {
        "osd_perf_infos": [
            {"id": 1, "perf_stats": {"commit_latency_ms": 12.0, "apply_latency_ms": 12.0,
                                     "commit_latency_ns": 12_000_000,
                                     "apply_latency_ns": 12_000_000}},
            {"id": 0, "perf_stats": {"commit_latency_ms": 2.0, "apply_latency_ms": 2.0,
                                     "commit_latency_ns": 2_700_000,
                                     "apply_latency_ns": 2_700_000}},
        ]
    }  # fmt: skip
    ret, out, _ = handle_mgr_command(m, om, {"prefix": "osd perf"})
    assert out.decode().splitlines() == [
        "osd  commit_latency(ms)  apply_latency(ms)",
        "  1                  12                 12",
        "  0                   2                  2",
    ]
    osds = {o["osd"]: o for o in m.pg_dump("osds")["osd_stats"]}
    assert osds[1]["perf_stat"]["commit_latency_ms"] == 12.0


def test_osd_perf_stat_is_the_mean_commit_since_the_last_report():
    from pyceph.osd.perf import OSDPerf

    p = OSDPerf()
    assert p.perf_stat() == {"commit_latency_ns": 0, "apply_latency_ns": 0}
    p.store_commit(0.002)
    p.store_commit(0.004)
    assert p.perf_stat()["commit_latency_ns"] == 3_000_000
    assert p.perf_stat()["commit_latency_ns"] == 3_000_000  # nothing since: the last figure
    p.store_commit(0.010)
    assert p.perf_stat() == {"commit_latency_ns": 10_000_000, "apply_latency_ns": 10_000_000}
