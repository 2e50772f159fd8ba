"""The monitor's config database reaches clients when they connect."""

from __future__ import annotations

import json

import rados


def _cmd(r: rados.Rados, **cmd: object) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def _conf_get_after_connect(conf: str, name: str) -> str:
    with rados.Rados(conffile=conf) as r:
        return r.conf_get(name)


def test_config_set_applies_to_new_clients(cluster_conf):
    with rados.Rados(conffile=cluster_conf) as r:
        ret, _, outs = _cmd(
            r, prefix="config set", who="client", name="rados_mon_op_timeout", value="42"
        )
        assert ret == 0, outs
        try:
            assert _conf_get_after_connect(cluster_conf, "rados_mon_op_timeout") == "42"
            ret, out, _ = _cmd(
                r, prefix="config get", who="client.admin", key="rados_mon_op_timeout"
            )
            assert ret == 0 and out.decode().strip() == "42"
        finally:
            assert _cmd(r, prefix="config rm", who="client", name="rados_mon_op_timeout")[0] == 0
        assert _conf_get_after_connect(cluster_conf, "rados_mon_op_timeout") == "0"


def test_config_set_bad_value_changes_nothing(cluster_conf):
    with rados.Rados(conffile=cluster_conf) as r:
        ret, _, outs = _cmd(
            r, prefix="config set", who="client", name="rados_mon_op_timeout", value="soon"
        )
        assert ret == -22
        assert outs.startswith("error parsing value")
        ret, out, _ = _cmd(r, prefix="config dump", format="json")
        assert all(e["name"] != "rados_mon_op_timeout" for e in json.loads(out))
