"""Cluster handle, state and configuration (Rados): construction, conf_*, connect,
version, fsid/instance id/addresses, cluster stats, shutdown and state errors."""

import os
import re

import rados

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def run(s):
    R = rados.Rados
    conf = s.conf

    r = s.step("init_no_args", lambda: R(), norm=lambda h: h.state)
    s.step("state_configuring", lambda: r.state)
    s.step("conf_get_unknown", lambda: r.conf_get("no_such_option_xyz"))
    s.step("conf_get_float_default", lambda: r.conf_get("mon_osd_full_ratio"))
    s.step("conf_get_int_default", lambda: r.conf_get("rbd_default_features"))
    s.step("conf_get_bool_default", lambda: r.conf_get("rbd_cache"))
    s.step("conf_get_bytes_arg", lambda: r.conf_get(b"rbd_cache"))
    s.step("conf_set_unknown", lambda: r.conf_set("no_such_option_xyz", "1"))
    s.step("conf_set_bad_value", lambda: r.conf_set("rados_osd_op_timeout", "notanumber"))
    s.step("conf_set_non_str", lambda: r.conf_set("rados_osd_op_timeout", 5))
    s.step("conf_set_ok", lambda: r.conf_set("rados_osd_op_timeout", "30"))
    s.step("conf_get_after_set", lambda: r.conf_get("rados_osd_op_timeout"))
    s.step(
        "conf_parse_argv",
        lambda: r.conf_parse_argv(["prog", "--rados_mon_op_timeout", "7", "foo", "--bar"]),
    )
    s.step("conf_get_after_argv", lambda: r.conf_get("rados_mon_op_timeout"))
    s.step("parsed_args", lambda: r.parsed_args)
    os.environ["COMPAT_CEPH_ARGS"] = "--client_mount_timeout 17"
    s.step("conf_parse_env", lambda: r.conf_parse_env("COMPAT_CEPH_ARGS"))
    s.step("conf_get_after_env", lambda: r.conf_get("client_mount_timeout"))
    v = s.step("version", lambda: r.version(), norm=str)
    s.step("version_fields", lambda: (v.major, v.minor, v.extra))
    s.step("get_fsid_before_connect", lambda: r.get_fsid())
    s.step("open_ioctx_before_connect", lambda: r.open_ioctx("x"))
    s.step("list_pools_before_connect", lambda: r.list_pools())
    s.step("require_state_wrong", lambda: r.require_state("connected"))
    s.step("require_state_ok", lambda: r.require_state("configuring"))
    s.step("require_state_any", lambda: r.require_state("connected", "configuring"))
    s.step("conf_read_file_missing", lambda: r.conf_read_file("/nonexistent/compat/ceph.conf"))
    s.step("conf_read_file", lambda: r.conf_read_file(conf))
    s.step("connect", lambda: r.connect())
    s.step("state_connected", lambda: r.state)
    s.step("connect_again", lambda: r.connect())
    s.step("require_state_connected", lambda: r.require_state("connected"))
    fsid = s.step("get_fsid", lambda: r.get_fsid(), norm=s.prop(UUID.match, "<uuid>"))
    s.alias(fsid or "", "<fsid>")
    s.step("conf_get_fsid", lambda: r.conf_get("fsid"))
    s.step("get_instance_id", lambda: r.get_instance_id(), norm=s.INT_POS)
    s.step(
        "get_addrs",
        lambda: r.get_addrs(),
        norm=lambda a: re.sub(r"\d+\.\d+\.\d+\.\d+:\d+/\d+", "<addr>", a),
    )
    s.step("get_cluster_stats", lambda: r.get_cluster_stats(), norm=s.types_of)
    s.step("conf_set_after_connect", lambda: r.conf_set("rados_osd_op_timeout", "31"))
    s.step("conf_get_after_connect", lambda: r.conf_get("rados_osd_op_timeout"))
    s.step("shutdown", lambda: r.shutdown())
    s.step("state_shutdown", lambda: r.state)
    s.step("conf_get_after_shutdown", lambda: r.conf_get("rbd_cache"))
    s.step("connect_after_shutdown", lambda: r.connect())
    s.step("get_fsid_after_shutdown", lambda: r.get_fsid())
    s.step("shutdown_twice", lambda: r.shutdown())

    s.step("init_both_ids", lambda: R(rados_id="admin", name="client.admin"))
    s.step("init_bad_name", lambda: R(name="invalid"))
    s.step("init_bad_name_type", lambda: R(name="bad.invalid"))
    s.step("init_rados_id", lambda: R(rados_id="admin"), norm=lambda h: h.conf_get("name"))
    s.step("init_name", lambda: R(name="client.admin"), norm=lambda h: h.conf_get("name"))
    s.step("init_default_name", lambda: R(), norm=lambda h: h.conf_get("name"))
    s.step(
        "init_conf_dict",
        lambda: R(conffile=conf, conf={"rados_osd_op_timeout": "12"}),
        norm=lambda h: h.conf_get("rados_osd_op_timeout"),
    )
    s.step(
        "init_conf_defaults",
        lambda: R(conf_defaults={"rados_osd_op_timeout": "13"}),
        norm=lambda h: h.conf_get("rados_osd_op_timeout"),
    )
    s.step("init_conf_bad_option", lambda: R(conf={"no_such_option_xyz": "1"}))
    s.step("init_rados_id_bytes", lambda: R(rados_id=b"admin"))
    s.step("conffile_missing", lambda: R(conffile="/nonexistent/compat/ceph.conf"))
    os.environ["CEPH_CONF"] = conf
    h = s.step("conffile_default_search", lambda: R(conffile=""), norm=lambda h: h.state)
    s.step("conffile_default_search_connect", lambda: h.connect())
    s.step("conffile_default_search_fsid", lambda: h.get_fsid())
    s.step("conffile_default_search_shutdown", lambda: h.shutdown())

    box = {}

    def ctx():
        with R(conffile=conf) as h:
            box["h"] = h
            return h.state

    s.step("context_manager_enter", ctx)
    s.step("context_manager_after_exit", lambda: box["h"].state)
    s.step("connect_timeout_arg", lambda: s.new_cluster().state)
