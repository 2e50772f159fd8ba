"""Option table and value parsing, against values observed on librados 16.2.15."""

from __future__ import annotations

import errno
import math

import pytest

from pyceph.common.config import CephConfig
from pyceph.common.options import (
    LEVELS,
    OPTION_TYPES,
    OPTIONS,
    OptionValueError,
    find_option,
    format_value,
    normalize_key,
    normalize_name,
    parse_iec_size,
    parse_timespan,
    parse_value,
)

# conf_get() of a fresh librados 16.2.15 handle (clustername "ceph").
UPSTREAM_CONF_GET = {
    "fsid": "00000000-0000-0000-0000-000000000000",
    "mon_host": "",
    "mon_dns_srv_name": "ceph-mon",
    "public_addr": "-",
    "keyring": "/etc/ceph/ceph.client.admin.keyring,/etc/ceph/ceph.keyring,"
    "/etc/ceph/keyring,/etc/ceph/keyring.bin,",
    "auth_cluster_required": "cephx",
    "auth_client_required": "cephx, none",
    "log_file": "",
    "admin_socket": "",
    "run_dir": "/var/run/ceph",
    "mon_data": "/var/lib/ceph/mon/ceph-admin",
    "osd_data": "/var/lib/ceph/osd/ceph-admin",
    "mgr_data": "/var/lib/ceph/mgr/ceph-admin",
    "mon_allow_pool_delete": "false",
    "osd_pool_default_size": "3",
    "osd_pool_default_min_size": "0",
    "osd_pool_default_pg_num": "32",
    "osd_pool_default_pg_autoscale_mode": "on",
    "osd_pool_default_crush_rule": "-1",
    "osd_pool_default_erasure_code_profile": "plugin=jerasure technique=reed_sol_van k=2 m=2",
    "osd_heartbeat_grace": "20",
    "mon_osd_down_out_interval": "600",
    "mon_osd_full_ratio": "0.950000",
    "mon_osd_nearfull_ratio": "0.850000",
    "mon_osd_backfillfull_ratio": "0.900000",
    "mon_max_pg_per_osd": "250",
    "osd_max_object_size": "134217728",
    "osd_max_object_name_len": "2048",
    "osd_max_write_size": "90",
    "osd_min_pg_log_entries": "250",
    "osd_max_pg_log_entries": "10000",
    "osd_memory_target": "4294967296",
    "rados_osd_op_timeout": "0",
    "client_mount_timeout": "300",
    "mon_client_hunt_interval": "3.000000",
    "ms_type": "async+posix",
    "ms_bind_port_min": "6800",
    "ms_crc_data": "true",
    "ms_max_backoff": "15.000000",
    "osd_scrub_min_interval": "86400.000000",
    "mon_tick_interval": "5",
    "paxos_propose_interval": "1.000000",
    "mgr_tick_period": "2",
    "mgr_stats_period": "5",
    "mgr_initial_modules": "restful iostat nfs",
    "rbd_default_features": "61",
    "rbd_default_order": "22",
    "rbd_cache": "true",
    "debug_ms": "0/0",
    "debug_osd": "1/5",
    "debug_monc": "0/10",
}


def test_table_is_well_formed():
    assert len(OPTIONS) >= 300
    for name, opt in OPTIONS.items():
        assert name == opt.name
        assert opt.type in OPTION_TYPES, name
        assert opt.level in LEVELS, name
        assert opt.description, name
        if opt.type in ("str",):
            assert isinstance(opt.default, str)
        # defaults pass their own validation (upstream asserts this at start-up);
        # an empty address vector is a default nobody can type
        if opt.type != "addrvec":
            parse_value(opt, format_value(opt, opt.default))


def test_pyceph_options_are_prefixed_and_sane():
    own = [o for o in OPTIONS.values() if o.name.startswith("pyceph_")]
    assert {o.name for o in own} >= {"pyceph_osd_capacity", "pyceph_max_message_size"}
    assert OPTIONS["pyceph_osd_capacity"].default == 10 << 30


@pytest.mark.parametrize("name, text", sorted(UPSTREAM_CONF_GET.items()))
def test_defaults_print_like_conf_get(name, text):
    conf = CephConfig(hostname="vm")
    assert conf.get_str(name) == text


def test_names():
    assert normalize_key("  mon   host ") == "mon_host"
    assert normalize_key("mon-host") == "mon-host"
    assert normalize_name("mon-host") == "mon_host"
    assert normalize_name("mon host") == "mon_host"
    assert find_option("mon host") is OPTIONS["mon_host"]
    assert find_option("mon-host") is None


@pytest.mark.parametrize(
    "name, text, value",
    [
        ("osd_pool_default_size", "010", 10),
        ("osd_pool_default_size", "+5", 5),
        ("mon_max_pg_per_osd", "1K", 1000),
        ("osd_pool_default_crush_rule", "-5", -5),
        ("osd_max_object_size", "10G", 10 << 30),
        ("osd_max_object_size", "10Gi", 10 << 30),
        ("osd_max_object_size", "1K", 1024),
        ("osd_max_object_size", "1KB", 1024),
        ("osd_max_object_size", "1KX", 1024),
        ("osd_max_object_size", "1K5", 1024),
        ("osd_max_object_size", "1B", 1),
        ("osd_max_object_size", "4096", 4096),
        ("osd_max_object_size", "1E", 1 << 60),
        ("mon_allow_pool_delete", "TRUE", True),
        ("mon_allow_pool_delete", "1", True),
        ("mon_allow_pool_delete", "2", True),
        ("mon_allow_pool_delete", "00", False),
        ("mon_allow_pool_delete", " 1", True),
        ("mon_osd_full_ratio", "1e-1", 0.1),
        ("mon_osd_full_ratio", " .5", 0.5),
        ("mon_osd_full_ratio", "5.", 5.0),
        ("client_mount_timeout", "5m", 300),
        ("client_mount_timeout", "1 h 30m", 5400),
        ("client_mount_timeout", "2w", 1209600),
        ("client_mount_timeout", "1mo", 2592000),
        ("client_mount_timeout", "1y", 31536000),
        ("fsid", "{11111111-2222-3333-4444-555555555555}", "11111111-2222-3333-4444-555555555555"),
        ("fsid", "11111111222233334444555555555555", "11111111-2222-3333-4444-555555555555"),
        ("public_addr", "1.2.3.4", "v2:1.2.3.4:0/0"),
        ("public_addr", "v1:1.2.3.4:6789", "v1:1.2.3.4:6789/0"),
        ("public_addr", "[::1]:6789", "v2:[::1]:6789/0"),
        ("public_addr", "::1", "v2:[::1]:0/0"),
        ("public_addr", "1.2.3.4:6789/123", "v2:1.2.3.4:6789/123"),
        ("public_addr", "any:1.2.3.4:5", "1.2.3.4:5/0"),
        ("public_addr", "-", "-"),
        (
            "public_addrv",
            "[v2:1.2.3.4:3300,v1:1.2.3.4:6789]",
            "[v2:1.2.3.4:3300/0,v1:1.2.3.4:6789/0]",
        ),
        ("public_addrv", "1.2.3.4", "v2:1.2.3.4:0/0"),
        ("debug_ms", "5", "5/5"),
        ("debug_ms", "1/", "1/1"),
        ("debug_ms", "5abc", "5/5"),
        ("debug_ms", "3/4", "3/4"),
        ("rbd_default_features", "layering, striping", "3"),
        ("rbd_default_features", "", "61"),
        ("rbd_default_features", " 3 ", "3"),
        ("rbd_default_features", "dirty-cache", "2048"),
        ("osd_pool_default_pg_autoscale_mode", "warn", "warn"),
    ],
)
def test_parse_accepts_like_upstream(name, text, value):
    assert parse_value(OPTIONS[name], text) == value


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("osd_pool_default_size", "11", "Value '11' exceeds maximum 10"),
        ("osd_pool_default_size", "-1", "strict_sistrtoll: value should not be negative"),
        ("osd_pool_default_size", "abc", "strict_si_cast: unit prefix not recognized"),
        ("osd_pool_default_size", " 5 ", None),
        ("osd_pool_default_size", "0x10", None),
        ("osd_pool_default_size", "5.5", None),
        ("osd_pool_default_size", "", "strict_sistrtoll: value not specified"),
        ("mon_max_pg_per_osd", "00", "Value '0' is below minimum 1"),
        ("mon_max_pg_per_osd", "99999999999999999999", None),
        ("osd_memory_target", "100", "Value '100' is below minimum 939524096"),
        ("osd_max_write_size", "3", "Value '3' is below minimum 4"),
        ("mon_allow_pool_delete", "yes", "Expected option value to be integer, got 'yes'"),
        ("mon_allow_pool_delete", "on", None),
        ("mon_allow_pool_delete", " true", None),
        ("osd_max_object_size", "10GiB", "strict_iecstrtoll: illegal prefix (length > 2)"),
        ("osd_max_object_size", "1k", "strict_iecstrtoll: unit prefix not recognized"),
        ("osd_max_object_size", "1Bi", 'strict_iecstrtoll: illegal prefix "Bi"'),
        ("osd_max_object_size", "1.5G", None),
        ("osd_max_object_size", "-5", None),
        ("osd_max_object_size", "1 M", None),
        ("mon_osd_full_ratio", "abc", "strict_strtod: expected double, got: 'abc'"),
        ("mon_osd_full_ratio", "0.5 ", None),
        ("mon_osd_full_ratio", "1,5", None),
        ("mon_warn_pg_not_scrubbed_ratio", "-1", "Value '-1.000000' is below minimum 0.000000"),
        ("osd_heartbeat_grace", "1m", None),
        ("client_mount_timeout", "1.5", None),
        ("client_mount_timeout", "-5", "expected digit"),
        ("client_mount_timeout", "5 x", "unrecogized unit 'x'"),
        ("fsid", "abc", None),
        ("fsid", "11111111-2222-3333-4444-55555555555", None),
        ("public_addr", "junk", None),
        ("public_addr", "", None),
        ("public_addr", "1.2.3.4:99999", None),
        ("public_addrv", "", None),
        (
            "osd_pool_default_pg_autoscale_mode",
            "Warn",
            "'Warn' is not one of the permitted values: off, warn, on",
        ),
        ("debug_ms", "abc", "value must take the form N or N/M, where N and M are integers"),
        ("debug_ms", "/1", None),
        ("rbd_default_features", "bogus", "ignoring unknown feature bogus"),
        ("rbd_default_features", "256", None),
        ("rbd_default_features", "4095", None),
        ("rbd_default_features", "0x3", None),
    ],
)
def test_parse_rejects_like_upstream(name, text, message):
    with pytest.raises(OptionValueError) as ei:
        parse_value(OPTIONS[name], text)
    assert ei.value.errno == errno.EINVAL
    assert isinstance(ei.value, ValueError)
    if message is not None:
        assert str(ei.value) == message


@pytest.mark.parametrize("text", ["100", "5/100", "-1"])
def test_debug_levels_out_of_range_are_erange(text):
    with pytest.raises(OptionValueError, match=r"range \[0, 99\]") as ei:
        parse_value(OPTIONS["debug_osd"], text)
    assert ei.value.errno == errno.ERANGE


def test_float_special_values_and_format():
    opt = OPTIONS["mon_osd_full_ratio"]
    assert math.isnan(parse_value(opt, "nan"))
    assert format_value(opt, parse_value(opt, "inf")) == "inf"
    assert format_value(opt, parse_value(opt, "-inf")) == "-inf"
    assert format_value(opt, 2.0) == "2.000000"


def test_helpers():
    assert parse_iec_size("+5") == 5
    assert parse_timespan("90s") == 90
    assert parse_timespan("") == 0
    with pytest.raises(OptionValueError):
        parse_iec_size("")
