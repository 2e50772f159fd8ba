"""MonState: pool ops (MPoolOp), the cluster log (audit lines, subscriptions' view,
`log last`), the service map from the mgr, blocklist addresses, and the mgr's
ServiceMap bookkeeping and `ceph -s` summary."""

from __future__ import annotations

import errno
import json
from typing import Any

from pyceph.mgr.commands import handle_mgr_command
from pyceph.mgr.pgmap import PGMap
from pyceph.mgr.servicemap import ServiceMap
from pyceph.mon.format_plain import service_summary
from pyceph.mon.state import MonState
from pyceph.osd.osd import _blocklisted
from pyceph.osdmap import pool as P

FSID = "90a5bc37-9d49-4497-bd9f-506c05dafa54"
T0 = 1795322000.0


def make_state() -> MonState:
    s = MonState.create(FSID, "a", "127.0.0.1:3300", T0, {}.get, admin_key="AQBzaW1wbGVrZXk=")
    s.commit_pending(T0)
    r = s.handle_command({"prefix": "osd pool create", "pool": "p"}, b"", "client.admin",
                         None, T0)  # fmt: skip
    assert r.ret == 0, r.outs
    s.commit_pending(T0)
    return s


def pool(s: MonState) -> P.Pool:
    return s.osdmap.pools[s.osdmap.lookup_pool("p")]


def op(s: MonState, name: str, snap: str = "", snapid: int = 0) -> tuple[int, int, int]:
    """(r, snapid, epoch after commit)."""
    r, sid = s.pool_op(s.osdmap.lookup_pool("p"), name, snap, snapid, "client.admin", T0 + 5)
    s.commit_pending(T0 + 5)
    return r, sid, s.osdmap.epoch


def test_selfmanaged_snaps_allocate_from_snap_seq() -> None:
    s = make_state()
    e0 = s.osdmap.epoch
    r, a, e1 = op(s, "create_unmanaged_snap")
    assert (r, a) == (0, 2) and e1 == e0 + 1
    r, b, _ = op(s, "create_unmanaged_snap")
    assert (r, b) == (0, 3)
    p = pool(s)
    assert p.has_flag(P.FLAG_SELFMANAGED_SNAPS) and not p.is_pool_snaps_mode()
    assert p.snap_seq == 3 and p.snap_epoch == s.osdmap.epoch
    r, _, e2 = op(s, "delete_unmanaged_snap", snapid=a)
    assert r == 0 and pool(s).removed_snaps == [a] and pool(s).snap_seq == 4
    # removing it again changes nothing and succeeds
    r, _, e3 = op(s, "delete_unmanaged_snap", snapid=a)
    assert r == 0 and e3 == e2
    # beyond snap_seq: ENOENT
    assert op(s, "delete_unmanaged_snap", snapid=99)[0] == -errno.ENOENT
    # mixing: pool snaps refused on a self-managed pool
    assert op(s, "create_snap", "x")[0] == -errno.EINVAL
    assert op(s, "delete_snap", "x")[0] == -errno.EINVAL
    assert pool(s).removed_snaps == [a]
    assert pool(s).dump()["removed_snaps"] == "[2~1]"


def test_pool_snaps_and_mode_exclusion() -> None:
    s = make_state()
    assert op(s, "delete_unmanaged_snap", snapid=1)[0] == -errno.EOPNOTSUPP
    r, _, e1 = op(s, "create_snap", "s1")
    assert r == 0
    p = pool(s)
    assert p.is_pool_snaps_mode() and p.pool_snaps[1][0] == "s1" and p.pool_snaps[1][1] == T0 + 5
    # creating an existing one again: 0, no new epoch
    assert op(s, "create_snap", "s1")[0] == 0 and s.osdmap.epoch == e1
    assert op(s, "create_unmanaged_snap")[0] == -errno.EINVAL
    r, _, _ = op(s, "delete_snap", "s1")
    assert r == 0 and pool(s).pool_snaps == {} and pool(s).snap_seq == 2
    assert op(s, "delete_snap", "s1")[0] == 0
    # the commands share the logic
    r = s.handle_command({"prefix": "osd pool mksnap", "pool": "p", "snap": "s2"}, b"",
                         "client.admin", None, T0)  # fmt: skip
    assert r.ret == 0 and r.outs == "created pool p snap s2"


def test_pool_op_unknown_pool_and_op() -> None:
    s = make_state()
    assert s.pool_op(42, "create_snap", "x", 0, "client.admin", T0)[0] == -errno.ENOENT
    assert s.pool_op(1, "bogus", "", 0, "client.admin", T0)[0] == -errno.EINVAL
    assert "osdmap" not in s.dirty


def test_audit_log_dispatch_and_finished() -> None:
    s = make_state()
    seq = s.log_seq
    s.handle_command({"prefix": "osd pool ls"}, b"", "client.admin", None, T0 + 1,
                     "client.4123 10.0.0.1:0/0")  # fmt: skip
    new = s.log_since(seq + 1, 0)
    assert len(new) == 1
    e = new[0]
    assert e["channel"] == "audit" and e["priority"] == "[DBG]"
    assert e["message"].startswith("from='client.4123 10.0.0.1:0/0' entity='client.admin' cmd=[")
    assert e["message"].endswith(": dispatch")
    # debug entries are not what an info subscriber gets, nor persisted
    assert s.log_since(seq + 1, 1) == []
    assert "log" not in s.commit_pending(T0 + 1)
    seq = s.log_seq
    s.handle_command({"prefix": "osd pool set", "pool": "p", "var": "size", "val": "2"}, b"",
                     "client.admin", None, T0 + 2, "client.4123 10.0.0.1:0/0")  # fmt: skip
    msgs = [(e["priority"], e["message"][-10:]) for e in s.log_since(seq + 1, 1)]
    assert msgs == [("[INF]", ": dispatch"), ("[INF]", ": finished")]


def test_log_command_and_log_last() -> None:
    s = make_state()
    r = s.handle_command({"prefix": "log", "logtext": ["hello", "world"]}, b"", "client.admin",
                         None, T0 + 3, "client.4123 10.0.0.1:0/7")  # fmt: skip
    assert r.ret == 0
    last = s.handle_command({"prefix": "log last", "num": 1, "format": "json"}, b"",
                            "client.admin", None, T0 + 4)  # fmt: skip
    (e,) = json.loads(last.outbuf)
    assert e["message"] == "hello world" and e["name"] == "client.admin"
    assert e["rank"] == "client.4123" and e["channel"] == "cluster"
    assert e["addrs"]["addrvec"][0] == {"type": "v2", "addr": "10.0.0.1:0", "nonce": 7}
    plain = s.handle_command({"prefix": "log last", "num": 1}, b"", "client.admin", None, T0)
    assert plain.outbuf.decode().rstrip().endswith(": cluster [INF] hello world")
    # persisted (non-debug) and restored
    snap = s.snapshot()
    s2 = MonState.restore(snap, {}.get)
    assert any(x["message"] == "hello world" for x in s2.log) and s2.log_seq >= e["seq"]
    assert s2.log[-1]["message"].endswith("\"]}]': finished")


def test_service_map_from_mgr_and_status() -> None:
    s = make_state()
    sm = ServiceMap()
    assert sm.open("rgw", "gw1", 4123, "10.0.0.1:0/5", {"hostname": "h1", "zone_id": "z"},
                   None, T0)  # fmt: skip
    m = sm.commit(T0)
    assert m is not None and sm.commit(T0) is None
    assert s.set_service_map(m) and not s.set_service_map(m)
    st = s.handle_command({"prefix": "status", "format": "json"}, b"", "client.admin", None, T0)
    d = json.loads(st.outbuf)["servicemap"]["services"]["rgw"]["daemons"]
    assert d["summary"] == "" and d["gw1"]["gid"] == 4123 and d["gw1"]["addr"] == "10.0.0.1:0/5"
    plain = s.handle_command({"prefix": "status"}, b"", "client.admin", None, T0).outbuf.decode()
    assert "    rgw: 1 daemon active (1 hosts, 1 zones)\n" in plain
    assert "    mon: 1 daemons" in plain


def test_service_map_reports_expiry_and_commands() -> None:
    sm = ServiceMap()
    assert ServiceMap.check_register("osd", "x") == -errno.EINVAL
    assert ServiceMap.check_register("rgw", "") == -errno.EINVAL
    assert not sm.open("client", "x", 1, "", {}, None, T0)
    sm.open("rbd-mirror", "a", 10, "", {}, {"x": "1"}, T0)
    assert sm.report("rbd-mirror", "a", 10, {"x": "2"}, T0 + 5)
    assert not sm.report("rbd-mirror", "a", 11, None, T0 + 5)  # another session
    assert not sm.report("rbd-mirror", "b", 10, None, T0 + 5)
    ret, out, _ = handle_mgr_command(PGMap(), None, {"prefix": "service status"}, b"", sm)
    st: Any = json.loads(out)
    assert ret == 0 and st["rbd-mirror"]["a"]["status"] == {"x": "2"}
    ret, out, _ = handle_mgr_command(PGMap(), None, {"prefix": "service dump",
                                                     "format": "json"}, b"", sm)  # fmt: skip
    assert ret == 0 and "a" in json.loads(out)["services"]["rbd-mirror"]["daemons"]
    assert not sm.expire(T0 + 30)
    assert sm.expire(T0 + 100) and sm.services == {}
    sm.seed(7)
    assert sm.commit(T0)["epoch"] == 8


def test_service_summary_shapes() -> None:
    assert service_summary({"summary": ""}) == "no daemons active"
    assert service_summary({"summary": "custom"}) == "custom"
    two = {"a": {"metadata": {"daemon_type": "gateway", "hostname": "h1"}},
           "b": {"metadata": {"hostname": "h2"}}}  # fmt: skip
    assert service_summary(two) == "2 gateways active (2 hosts)"


def test_blocklist_match_and_normalized_add() -> None:
    bl = {"10.0.0.1:0/5": T0 + 60, "10.0.0.2:0/0": T0 + 60}
    assert _blocklisted(bl, "10.0.0.1:0/5") and _blocklisted(bl, "v2:10.0.0.1:0/5")
    assert not _blocklisted(bl, "10.0.0.1:0/6")
    assert _blocklisted(bl, "10.0.0.2:0/1234")  # the whole IP
    assert not _blocklisted(bl, "") and not _blocklisted(None, "10.0.0.1:0/5")
    s = make_state()
    r = s.handle_command({"prefix": "osd blocklist", "blocklistop": "add",
                          "addr": "10.0.0.9:0/42", "expire": 10.0}, b"", "client.admin",
                         None, T0)  # fmt: skip
    assert r.ret == 0, r.outs
    s.commit_pending(T0)
    assert "10.0.0.9:0/42" in s.osdmap.blocklist


def test_every_pool_set_variable_has_a_setter_or_is_a_tier_variable() -> None:
    from pyceph.common.cmdargs import find_command
    from pyceph.mon.handlers.pool import TIER_VARS
    from pyceph.mon.handlers.pool_set import SETTERS

    desc = find_command("osd pool set")
    assert desc is not None
    arg = desc.arg("var")
    assert arg is not None
    accepted = set(arg.strings)
    # no setter for a variable nobody can send (the mgr's pg_num steps skip the table)
    assert set(SETTERS) - accepted == {"pg_num_actual"}
    assert accepted - set(SETTERS) <= TIER_VARS
    s = make_state()
    r = s.handle_command({"prefix": "osd pool set", "pool": "p", "var": "hit_set_count",
                          "val": "4"}, b"", "client.admin", None, T0)  # fmt: skip
    assert (r.ret, r.outs) == (-errno.EACCES, "pool 'p' is not a tier pool: variable not applicable")  # fmt: skip
