"""The dashboard's cluster views as plain functions over mgr data (no cluster):
client I/O, PG info, scrub status, health checks, counter rates, the OSD and host
lists, mgr module option conversion, config values — checked against upstream's
rules and the reference's sample keys."""

from __future__ import annotations

import json
import os
from typing import Any

from pyceph.common.options import find_option
from pyceph.mgr.builtin.dashboard.controllers.cluster_configuration import with_values
from pyceph.mgr.builtin.dashboard.controllers.mgr_modules import convert_options, module_list
from pyceph.mgr.builtin.dashboard.services import cluster

DATA = os.path.join(os.path.dirname(__file__), "data", "dashboard")


def sample(name: str) -> Any:
    with open(os.path.join(DATA, f"dashboard-api-{name}.json")) as f:
        return json.load(f)


def test_client_perf_sums_pools() -> None:
    pools = [
        {"client_io_rate": {"read_bytes_sec": 10, "write_op_per_sec": 2}, "recovery_rate": {}},
        {"client_io_rate": {"read_bytes_sec": 5}, "recovery_rate": {"recovering_bytes_per_sec": 7}},
        {"client_io_rate": {}, "recovery_rate": {}},
    ]
    perf = cluster.client_perf(pools)
    assert set(perf) == set(sample("health-minimal")["client_perf"])
    assert perf["read_bytes_sec"] == 15 and perf["write_op_per_sec"] == 2
    assert perf["recovering_bytes_per_sec"] == 7 and perf["write_bytes_sec"] == 0


def test_pg_info_and_scrub_status() -> None:
    summary = {
        "all": {"active+clean": 40, "active+clean+scrubbing": 8},
        "by_osd": {"0": {"active+clean": 30}, "1": {"active+clean": 18}},
        "pg_stats_sum": {"stat_sum": {"num_objects": 31, "num_object_copies": 83}},
    }
    info = cluster.pg_info(summary)
    assert set(info) == set(sample("health-minimal")["pg_info"])
    assert info["pgs_per_osd"] == 24.0 and info["object_stats"]["num_objects"] == 31
    assert info["object_stats"]["num_objects_unfound"] == 0
    assert cluster.scrub_status([], summary) == "Active"
    assert cluster.scrub_status(["noscrub", "nodeep-scrub"], summary) == "Disabled"
    assert cluster.scrub_status(["noscrub"], {"all": {"active+clean": 1}}) == "Inactive"
    assert cluster.pg_info({})["pgs_per_osd"] == 0.0


def test_health_checks_become_a_sorted_list() -> None:
    health = {"status": "HEALTH_WARN", "checks": {
        "OSDMAP_FLAGS": {"severity": "HEALTH_WARN", "summary": {"message": "noout flag(s) set"}},
        "MON_DOWN": {"severity": "HEALTH_ERR", "summary": {"message": "1/3 mons down"}},
    }}  # fmt: skip
    report = cluster.health_report({"json": json.dumps(health)})
    assert [c["type"] for c in report["checks"]] == ["MON_DOWN", "OSDMAP_FLAGS"]
    assert report["mutes"] == [] and report["status"] == "HEALTH_WARN"


def test_rates_from_counter_series() -> None:
    assert cluster.time_series_rates([(10, 100), (12, 140), (13, 150)]) == [
        (12.0, 20.0),
        (13.0, 10.0),
    ]
    # long-running averages carry (time, sum, count)
    assert cluster.time_series_rates([(1, 5, 1), (3, 9, 2)]) == [(3.0, 2.0)]
    assert cluster.most_recent_rate([]) == 0.0 and cluster.time_series_rates([(1, 1)]) == []


def test_osd_list_has_the_reference_keys() -> None:
    ref = sample("osd")[0]
    osd_map = {"osds": [{k: v for k, v in ref.items() if k not in ("id", "osd_stats", "tree", "host", "stats", "stats_history", "operational_status")}]}  # fmt: skip
    tree = {"nodes": [ref["tree"], ref["host"]]}
    counters = {0: {"osd.op_w": [(1, 0), (2, 10)], "osd.numpg": 36}}
    out = cluster.osd_list(osd_map, {"osd_stats": [ref["osd_stats"]]}, tree, counters)
    assert set(out[0]) == set(ref)
    assert out[0]["stats"]["op_w"] == 10.0 and out[0]["stats"]["numpg"] == 36
    assert out[0]["host"]["name"] == "vm" and out[0]["operational_status"] == "unmanaged"


def test_host_list_has_the_reference_keys() -> None:
    ref = sample("host")[0]
    servers = [{"hostname": "vm", "services": [{"type": "osd", "id": 0}], "ceph_version": "v"}]
    out = cluster.host_list(servers)
    assert set(out[0]) == set(ref) and out[0]["services"] == [{"type": "osd", "id": "0"}]


def test_module_options_are_typed_as_upstream() -> None:
    raw = {
        "interval": {"name": "interval", "type": "secs", "default_value": "60", "min": "", "max": ""},
        "flag": {"name": "flag", "type": "bool", "default_value": "True", "min": "", "max": ""},
        "empty": {"name": "empty", "type": "bool", "default_value": "", "min": "", "max": ""},
        "text": {"name": "text", "type": "str", "default_value": "None", "min": "", "max": ""},
        "ratio": {"name": "ratio", "type": "float", "default_value": "0.5", "min": "0", "max": "None"},
    }  # fmt: skip
    out = convert_options(raw)
    assert out["interval"]["default_value"] == 60 and out["flag"]["default_value"] is True
    assert out["empty"]["default_value"] is False and out["text"]["default_value"] == ""
    assert out["ratio"]["default_value"] == 0.5 and out["ratio"]["max"] is None
    assert raw["interval"]["default_value"] == "60"  # the input is left alone
    ref = sample("mgr-module")
    mgr_map = {
        "modules": ["iostat"],
        "always_on_modules": {"pacific": ["balancer"]},
        "available_modules": [
            {"name": "iostat", "module_options": {}},
            {"name": "balancer", "module_options": {}},
            {"name": "selftest", "module_options": {}},
        ],  # fmt: skip
    }
    mods = module_list(mgr_map, "pacific")
    assert [m["name"] for m in mods] == ["iostat", "balancer"]
    assert set(mods[0]) == set(ref[0]) and mods[1]["always_on"] and mods[1]["enabled"]


def test_config_values_and_option_schema() -> None:
    opt = find_option("osd_pool_default_size")
    assert opt is not None
    schema = opt.schema()
    ref = sample("cluster_conf-osd_pool_default_size")
    assert set(ref) <= set(schema)
    assert (schema["default"], schema["min"], schema["max"]) == (
        ref["default"],
        ref["min"],
        ref["max"],
    )
    out = with_values([schema], [{"name": "osd_pool_default_size", "section": "global", "value": "2"}], "f")  # fmt: skip
    assert out[0]["value"] == [{"section": "global", "value": "2"}] and out[0]["source"] == "mon"
