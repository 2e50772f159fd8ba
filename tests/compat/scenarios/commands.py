"""Commands and admin: mon_command (incl. target, errors as return values),
mgr_command, osd_command, pg_command, ping_monitor, wait_for_latest_osdmap,
blocklist_add, monitor_log/monitor_log2 and service_daemon_register/update."""

import json


def j(cmd):
    return json.dumps(cmd)


def shape(ret_out_outs, parse=True):
    """(ret, outbuf, outs) -> (ret, outbuf type, parsed outbuf or its keys, outs type)."""
    ret, outbuf, outs = ret_out_outs
    body = None
    if parse and outbuf:
        try:
            body = json.loads(outbuf)
            if isinstance(body, dict):
                body = sorted(body)
            elif isinstance(body, list):
                body = type(body).__name__
        except ValueError:
            body = "<not json>"
    return (ret, type(outbuf).__name__, body, type(outs).__name__)


def run(s):
    r = s.cluster()
    pool = s.make_pool()
    pid = r.pool_lookup(pool)

    s.step(
        "mon_osd_pool_ls",
        lambda: r.mon_command(j({"prefix": "osd pool ls", "format": "json"}), b""),
        norm=lambda t: (t[0], pool in json.loads(t[1]), t[2]),
    )
    s.step(
        "mon_osd_pool_get_size",
        lambda: r.mon_command(
            j({"prefix": "osd pool get", "pool": pool, "var": "size", "format": "json"}), b""
        ),
        norm=lambda t: (t[0], {k: v for k, v in json.loads(t[1]).items() if k != "pool_id"}, t[2]),
    )
    s.step(
        "mon_osd_pool_get_missing",
        lambda: r.mon_command(
            j({"prefix": "osd pool get", "pool": pool + "-x", "var": "size"}), b""
        ),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "mon_dump_bad_epoch",
        lambda: r.mon_command(j({"prefix": "mon dump", "epoch": 999}), b""),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "mon_unknown_command",
        lambda: r.mon_command(j({"prefix": "no such command"}), b""),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "mon_bad_json",
        lambda: r.mon_command("{not json", b""),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "mon_fsid",
        lambda: r.mon_command(j({"prefix": "fsid", "format": "json"}), b""),
        norm=lambda t: (t[0], json.loads(t[1])["fsid"] == r.get_fsid(), t[2]),
    )
    s.step(
        "mon_status_keys",
        lambda: r.mon_command(j({"prefix": "status", "format": "json"}), b""),
        norm=lambda t: (
            t[0],
            sorted(
                set(json.loads(t[1])) & {"fsid", "health", "monmap", "osdmap", "pgmap", "mgrmap"}
            ),
            t[2],
        ),
    )
    s.step(
        "mon_target_name",
        lambda: r.mon_command(j({"prefix": "fsid"}), b"", target="a"),
        norm=lambda t: (t[0], type(t[1]).__name__, t[2]),
    )
    s.step(
        "mon_target_rank",
        lambda: r.mon_command(j({"prefix": "fsid"}), b"", target=0),
        norm=lambda t: (t[0], type(t[1]).__name__, t[2]),
    )
    s.step(
        "mon_target_missing",
        lambda: r.mon_command(j({"prefix": "fsid"}), b"", target="zz"),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step("mon_command_str_inbuf", lambda: r.mon_command(j({"prefix": "fsid"}), "x"))
    s.step("mon_command_bytes_cmd", lambda: r.mon_command(b'{"prefix": "fsid"}', b""))
    s.step(
        "mon_config_set",
        lambda: r.mon_command(
            j(
                {
                    "prefix": "config set",
                    "who": "client.compatxyz",
                    "name": "rados_osd_op_timeout",
                    "value": "33",
                }
            ),
            b"",
        ),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "mon_config_get",
        lambda: r.mon_command(
            j({"prefix": "config get", "who": "client.compatxyz", "key": "rados_osd_op_timeout"}),
            b"",
        ),
        norm=lambda t: (t[0], t[1].strip(), type(t[2]).__name__),
    )
    s.step(
        "mon_config_rm",
        lambda: r.mon_command(
            j({"prefix": "config rm", "who": "client.compatxyz", "name": "rados_osd_op_timeout"}),
            b"",
        ),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )

    s.step(
        "mgr_unknown_command",
        lambda: r.mgr_command(j({"prefix": "no such command"}), b""),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "mgr_osd_pool_stats",
        lambda: r.mgr_command(j({"prefix": "osd pool stats", "format": "json"}), b""),
        norm=lambda t: (t[0], type(t[1]).__name__, type(t[2]).__name__),
    )
    s.step(
        "mgr_target",
        lambda: r.mgr_command(j({"prefix": "osd pool stats", "format": "json"}), b"", target="x"),
        norm=lambda t: (t[0], type(t[1]).__name__, type(t[2]).__name__),
    )

    s.step(
        "osd_version",
        lambda: r.osd_command(0, j({"prefix": "version", "format": "json"}), b""),
        norm=shape,
    )
    s.step(
        "osd_unknown_command",
        lambda: r.osd_command(0, j({"prefix": "no such command"}), b""),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "osd_missing",
        lambda: r.osd_command(99, j({"prefix": "version"}), b"", timeout=5),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )
    s.step(
        "pg_query",
        lambda: r.pg_command(
            f"{pid}.0", j({"prefix": "query", "pgid": f"{pid}.0", "format": "json"}), b""
        ),
        norm=lambda t: (
            t[0],
            type(t[1]).__name__,
            _json_keys(t[1], {"state", "pgid", "up", "acting"}),
            type(t[2]).__name__,
        ),
    )
    s.step(
        "pg_missing",
        lambda: r.pg_command(f"{pid}.999", j({"prefix": "query"}), b"", timeout=5),
        norm=lambda t: (t[0], t[1], type(t[2]).__name__),
    )

    s.step(
        "ping_monitor",
        lambda: r.ping_monitor("a"),
        norm=lambda out: _json_keys(out, {"health", "mon_status"}),
    )
    s.step("ping_monitor_missing", lambda: r.ping_monitor("zz"))
    s.step("wait_for_latest_osdmap", lambda: r.wait_for_latest_osdmap())
    s.step("blocklist_add", lambda: r.blocklist_add("127.0.0.1:0/3141592", 1))
    s.step("blocklist_add_bad_addr", lambda: r.blocklist_add("not an address", 1))

    logs = []
    s.step("monitor_log", lambda: r.monitor_log("info", lambda *a: logs.append(a), "arg"))
    s.step("monitor_log_bad_level", lambda: r.monitor_log("nope", lambda *a: None))
    s.step("monitor_log2", lambda: r.monitor_log2("info", lambda *a: logs.append(a), "arg"))
    s.step("monitor_log_off", lambda: r.monitor_log("info", None))

    r2 = s.new_cluster()
    s.step(
        "service_daemon_register",
        lambda: r2.service_daemon_register("compat", f"d-{s.tag}", {"k": "v"}),
    )
    s.step("service_daemon_update", lambda: r2.service_daemon_update({"status": "ok"}))
    r3 = s.new_cluster()
    s.step("service_daemon_update_unregistered", lambda: r3.service_daemon_update({"a": "b"}))


def _json_keys(text, wanted):
    try:
        return sorted(set(json.loads(text)) & wanted)
    except ValueError:
        return "<not json>"
