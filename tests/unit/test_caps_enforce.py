"""Caps at the entry points (pyceph.auth.enforce), sans-I/O.

The cells follow upstream (MonCap/OSDCap/MgrCap `is_capable`, `OpInfo::set_from_op`,
`enforce_pool_op_caps`); the ones marked "refceph" were run on Ceph 16.2.15. The full
matrices against real daemons, recorded on refceph, are the integration tests
`test_caps_mon_matrix.py` and `test_caps_osd_matrix.py`.
"""

from __future__ import annotations

import errno
import random
import timeit
from typing import Any

import pytest

from pyceph.auth import enforce
from pyceph.auth.caps import ClassCall
from pyceph.common.cmdargs import find_command
from pyceph.mon.state import MonState
from pyceph.mon.tell import handle_tell
from pyceph.osd.osd import _class_rw

# ---------------------------------------------------------------------------
# mon commands

#: a command of each family (the full matrix against real daemons and refceph is
#: tests/integration/test_caps_mon_matrix.py)
MON_CMDS: list[dict[str, Any]] = [
    {"prefix": "osd pool ls"},
    {"prefix": "osd pool create", "pool": "zzz"},
    {"prefix": "config-key get", "key": "foo"},
    {"prefix": "osd blocklist", "blocklistop": "add", "addr": "1.2.3.4:0/123"},
    {"prefix": "status"},
    {"prefix": "auth ls"},
    {"prefix": "config set", "who": "osd", "name": "osd_max_backfills", "value": "2"},
]


def _mon_allowed(mon_caps: str, cmd: dict[str, Any], entity: str = "client.u") -> bool:
    desc = find_command(cmd["prefix"], [])
    assert desc is not None, cmd
    return enforce.mon_command_allowed(
        {"mon": mon_caps}, entity, desc.module, desc.perm, desc.prefix, cmd
    )


def test_mon_profiles_and_command_grants() -> None:
    bl_add = {"prefix": "osd blocklist", "blocklistop": "add", "addr": "1.2.3.4:0/123"}
    bl_rm = {**bl_add, "blocklistop": "rm"}
    assert _mon_allowed("profile rbd", bl_add)
    assert not _mon_allowed("profile rbd", bl_rm)
    assert not _mon_allowed("profile rbd", {**bl_add, "addr": "1.2.3.4"})  # no nonce
    new = {"prefix": "osd new", "uuid": "00000000-0000-0000-0000-000000000001"}
    assert _mon_allowed("profile bootstrap-osd", new)
    assert not _mon_allowed("profile bootstrap-osd", {"prefix": "osd pool create", "pool": "x"})
    key = 'allow command "config-key get" with key=foo'
    assert _mon_allowed(key, {"prefix": "config-key get", "key": "foo"})
    assert not _mon_allowed(key, {"prefix": "config-key get", "key": "bar"})
    assert not _mon_allowed(key, {"prefix": "status"})
    assert _mon_allowed("allow service osd rw", {"prefix": "osd pool create", "pool": "x"})
    assert not _mon_allowed("allow service osd rw", {"prefix": "status"})
    assert _mon_allowed("profile crash", {"prefix": "status"})
    assert not _mon_allowed("profile crash", {"prefix": "osd pool ls"})


def test_mon_allow_all_and_trusted() -> None:
    for cmd in MON_CMDS:
        assert _mon_allowed("allow *", cmd)
        desc = find_command(cmd["prefix"], [])
        assert desc is not None
        assert enforce.mon_command_allowed(None, "", desc.module, desc.perm, desc.prefix, cmd)
    # caps that no longer parse grant nothing
    assert not _mon_allowed("allow bogus", {"prefix": "status"})
    # config-key is reached only by `allow *` or a command grant
    assert not _mon_allowed("allow rwx", {"prefix": "config-key get", "key": "foo"})


def test_mon_profile_daemon_private_config_key() -> None:
    get = {"prefix": "config-key get", "key": "daemon-private/osd.3/x"}
    assert _mon_allowed("allow profile osd", get, entity="osd.3")
    assert not _mon_allowed("allow profile osd", get, entity="osd.4")


def test_mon_network_restriction() -> None:
    caps = {"mon": "allow r network 127.0.0.0/8"}
    desc = find_command("status", [])
    assert desc is not None
    args = (desc.module, desc.perm, "status", {})
    assert enforce.mon_command_allowed(caps, "client.u", *args, "127.0.0.1:0/0")
    assert not enforce.mon_command_allowed(caps, "client.u", *args, "10.0.0.1:0/0")


# ---------------------------------------------------------------------------
# the monitor's handle_command and tell: EACCES, audit, nothing changed


def _state() -> MonState:
    s = MonState.create(
        "90a5bc37-9d49-4497-bd9f-506c05dafa54",
        "a",
        "127.0.0.1:3300",
        1795322000.0,
        {}.get,
        admin_key="AQBzaW1wbGVrZXk=",
    )
    s.rand_bytes = random.Random(7).randbytes
    s.commit_pending(1795322000.0)
    return s


def test_mon_handle_command_denied_changes_nothing() -> None:
    s = _state()
    epoch = s.osdmap.epoch
    ro = {"mon": "allow r", "osd": "allow rwx pool=images"}
    cmd = {"prefix": "osd pool create", "pool": "images"}
    r = s.handle_command(cmd, b"", "client.images", ro, 1795322010.0, "client.4123 127.0.0.1:0/1")
    assert (r.ret, r.outs, r.outbuf) == (-errno.EACCES, "access denied", b"")
    s.commit_pending(1795322010.0)
    assert s.osdmap.epoch == epoch and not s.osdmap.pools
    assert s.log[-1]["message"].endswith(":  access denied")
    # a mgr command is checked against the mon caps before it is proxied
    stats = {"prefix": "pg dump"}
    assert s.handle_command(stats, b"", "client.x", ro, 1795322011.0).forward_to_mgr
    none = {"mon": "profile crash"}
    r = s.handle_command(stats, b"", "client.x", none, 1795322011.0)
    assert (r.ret, r.outs, r.forward_to_mgr) == (-errno.EACCES, "access denied", False)
    # the admin still can
    assert s.handle_command(cmd, b"", "client.admin", {"mon": "allow *"}, 1795322012.0).ret == 0


def test_mon_tell_needs_rwx_for_the_prefix() -> None:
    s = _state()
    for caps, ok in (
        ({"mon": "allow r"}, False),
        ({"mon": "allow rw"}, False),
        ({"mon": "allow rwx"}, True),
        ({"mon": 'allow command "version"'}, True),
        ({"mon": "allow service mon rwx"}, True),
    ):
        r = handle_tell(s, {"prefix": "version"}, b"", "client.u", caps, 0.0)
        assert (r.ret == 0) is ok, caps
        if not ok:
            assert (r.ret, r.outs) == (-errno.EACCES, "insufficient caps")


# ---------------------------------------------------------------------------
# mon messages: pool ops (EPERM) and PaxosService guards


def test_pool_op_caps() -> None:
    images = {"mon": "allow r", "osd": "allow class-read object_prefix rbd_children, allow rwx pool=images"}  # fmt: skip
    prbd = {"mon": "profile rbd", "osd": "profile rbd pool=images"}
    rx = {"mon": "allow r", "osd": "allow rx pool=images"}
    for caps in (images, prbd):
        assert enforce.pool_op_allowed(caps, "client.u", "create_unmanaged_snap", "images")
        assert enforce.pool_op_allowed(caps, "client.u", "delete_unmanaged_snap", "images")
        assert not enforce.pool_op_allowed(caps, "client.u", "create_unmanaged_snap", "other")
        # pool snapshots and pool create/delete need mon `osd` w
        assert not enforce.pool_op_allowed(caps, "client.u", "create_snap", "images")
        assert not enforce.pool_op_allowed(caps, "client.u", "delete_pool", "images")
    assert not enforce.pool_op_allowed(rx, "client.u", "create_unmanaged_snap", "images")
    # a grant without a pool match, `allow *`, or the mon command grant
    assert enforce.pool_op_allowed({"osd": "allow w"}, "c", "create_unmanaged_snap", "x")
    assert enforce.pool_op_allowed({"osd": "allow *"}, "c", "create_unmanaged_snap", None)
    cmd = {"mon": 'allow command "osd pool op unmanaged-snap" with poolname=x'}
    assert enforce.pool_op_allowed(cmd, "c", "create_unmanaged_snap", "x")
    assert not enforce.pool_op_allowed(cmd, "c", "create_unmanaged_snap", "y")
    # tag matches do not count (upstream is_osd_writable)
    tag = {"osd": "allow rw tag rbd *=*"}
    assert not enforce.pool_op_allowed(tag, "c", "create_unmanaged_snap", "x")
    assert enforce.pool_op_allowed({"mon": "allow rw"}, "c", "create_snap", "x")
    assert enforce.pool_op_allowed({"mon": "allow service osd w"}, "c", "delete_pool", "x")
    assert enforce.pool_op_allowed(None, "", "delete_pool", "x")


def test_mon_service_guards() -> None:
    osd = {"mon": "allow profile osd"}
    mgr = {"mon": "allow profile mgr"}
    client = {"mon": "allow r"}
    assert enforce.mon_service_allowed(osd, "osd.0", "osd", "x")
    assert enforce.mon_service_allowed(osd, "osd.0", "log", "w")
    assert not enforce.mon_service_allowed(osd, "osd.0", "mgr", "x")
    assert enforce.mon_service_allowed(mgr, "mgr.x", "mgr", "x")
    assert enforce.mon_service_allowed(mgr, "mgr.x", "log", "w")
    for service, perm in (("mgr", "x"), ("osd", "x"), ("log", "w")):
        assert not enforce.mon_service_allowed(client, "client.u", service, perm)
    assert enforce.mon_service_allowed(client, "client.u", "pg", "r")


# ---------------------------------------------------------------------------
# osd ops


def _call(cls: str, method: str) -> list[Any]:
    return ["call", {"cls": cls, "method": method}]


def _needs(ops: list[Any], default_classes: frozenset[str] | None = None) -> enforce.OpNeeds:
    """The OSD's classification, with the registered classes' flags."""
    return enforce.op_needs(ops, _class_rw, default_classes)


def test_op_needs_classification() -> None:
    n = _needs
    assert n([["read", {}]]) == enforce.OpNeeds(True, False)
    assert n([["write_full", {}]]) == enforce.OpNeeds(False, True)
    assert n([["stat", {}], ["omap_set", {}]]) == enforce.OpNeeds(True, True)
    assert n([["watch", {"op": "watch"}]]) == enforce.OpNeeds(True, True)
    assert n([["notify", {}]]) == enforce.OpNeeds(True, False)
    assert n([["pgls", {}]]) == enforce.OpNeeds(True, False)
    assert n([["getxattrs", {}], ["omap_get_vals", {}]]).write is False
    # a call is no data read or write: its class entry carries the method's flags
    got = n([_call("rbd", "get_size")])
    assert (got.read, got.write) == (False, False)
    assert got.classes == (ClassCall("rbd", "get_size", read=True, write=False),)
    got = n([_call("lock", "lock")])
    assert got.classes[0].write and got.classes[0].read
    got = n([_call("hello", "say_hello")], default_classes=frozenset({"rbd"}))
    assert got.classes[0].allowed is False
    assert n([["copy_from", {"src_oid": "x"}]]).read


IMAGES = {"osd": "allow class-read object_prefix rbd_children, allow rwx pool=images"}
VOLUMES = {
    "osd": "allow class-read object_prefix rbd_children, allow rwx pool=volumes, "
    "allow rx pool=images"
}
PRBD = {"osd": "profile rbd pool=images"}
PRBD_RO = {"osd": "profile rbd-read-only pool=images"}

OSD_CASES: list[tuple[dict[str, str], str, str, list[Any], bool]] = [
    # (caps, pool, object, ops, allowed)
    (IMAGES, "images", "rbd_data.1.0", [["write", {}]], True),
    (IMAGES, "images", "rbd_header.1", [_call("rbd", "set_size")], True),
    (IMAGES, "other", "x", [["read", {}]], False),  # refceph: EPERM
    (IMAGES, "other", "x", [["write_full", {}]], False),  # refceph: EPERM
    (IMAGES, "other", "", [["pgls", {"nspace": ""}]], False),  # refceph: EPERM
    (IMAGES, "volumes", "rbd_children", [_call("rbd", "get_children")], True),
    (IMAGES, "volumes", "rbd_children", [_call("rbd", "add_child")], False),
    (IMAGES, "volumes", "rbd_children", [["read", {}]], False),
    (VOLUMES, "images", "rbd_header.1", [["read", {}]], True),
    (VOLUMES, "images", "rbd_header.1", [_call("rbd", "child_attach")], True),
    (VOLUMES, "images", "wobj", [["watch", {"op": "watch"}]], False),  # refceph: EPERM
    (VOLUMES, "images", "x", [["write_full", {}]], False),
    (VOLUMES, "volumes", "x", [["watch", {"op": "watch"}]], True),
    (PRBD, "images", "x", [["write", {}], _call("lock", "lock")], True),
    (PRBD, "other", "rbd_info", [["read", {}]], True),
    (PRBD, "other", "rbd_children", [_call("rbd", "get_children")], True),
    (PRBD, "other", "rbd_data.1.0", [["read", {}]], False),
    (PRBD_RO, "images", "rbd_data.1.0", [["read", {}]], True),
    (PRBD_RO, "images", "rbd_data.1.0", [["write", {}]], False),
    (PRBD_RO, "images", "rbd_header.1", [_call("rbd", "child_attach")], True),
    (PRBD_RO, "images", "rbd_header.1", [_call("rbd", "set_size")], False),
    ({"osd": "allow r"}, "any", "x", [["read", {}], ["write", {}]], False),
    ({"osd": "allow rw"}, "any", "x", [_call("version", "read")], False),
    ({"osd": "allow rw class-read"}, "any", "x", [_call("version", "read")], True),
    ({"osd": "allow rw class-read"}, "any", "x", [_call("version", "inc")], False),
    ({"osd": "allow x"}, "any", "x", [_call("version", "inc")], True),
    ({"osd": "allow class version"}, "any", "x", [_call("version", "inc")], True),
    ({"osd": "allow class version read"}, "any", "x", [_call("version", "inc")], False),
    ({"osd": "allow *"}, "any", "x", [["write", {}], _call("lock", "lock")], True),
    ({"osd": "allow rwx pool=a object_prefix p"}, "a", "px", [["write", {}]], True),
    ({"osd": "allow rwx pool=a object_prefix p"}, "a", "qx", [["write", {}]], False),
    ({"osd": "allow rwx pool=images"}, "images", "x", [["read", {}]], True),
    ({"osd": ""}, "images", "x", [["read", {}]], False),
    ({"osd": "not a cap"}, "images", "x", [["read", {}]], False),
    ({}, "images", "x", [["stat", {}]], False),
]


@pytest.mark.parametrize(("caps", "pool", "obj", "ops", "allowed"), OSD_CASES)
def test_osd_op_caps(
    caps: dict[str, str], pool: str, obj: str, ops: list[Any], allowed: bool
) -> None:
    osdcap = enforce.osd_caps_of(caps)
    needs = _needs(ops)
    assert enforce.osd_op_allowed(osdcap, pool, "", {}, obj, "", needs) is allowed


def test_osd_namespace_tag_locator() -> None:
    ns = enforce.osd_caps_of({"osd": "allow rw pool=p namespace=team*"})
    rd = enforce.OpNeeds(True, False)
    assert enforce.osd_op_allowed(ns, "p", "team-a", {}, "o", "", rd)
    assert not enforce.osd_op_allowed(ns, "p", "other", {}, "o", "", rd)
    assert not enforce.osd_op_allowed(ns, "p", enforce.ALL_NSPACES, {}, "", "", rd)
    anyns = enforce.osd_caps_of({"osd": "allow r pool=p"})
    assert enforce.osd_op_allowed(anyns, "p", enforce.ALL_NSPACES, {}, "", "", rd)
    tag = enforce.osd_caps_of({"osd": "allow rw tag cephfs data=fs1"})
    assert enforce.osd_op_allowed(tag, "x", "", {"cephfs": {"data": "fs1"}}, "o", "", rd)
    assert not enforce.osd_op_allowed(tag, "x", "", {"cephfs": {"data": "fs2"}}, "o", "", rd)
    assert not enforce.osd_op_allowed(tag, "x", "", {}, "o", "", rd)
    # the locator key, when set, is the object the caps see (upstream get_key())
    pre = enforce.osd_caps_of({"osd": "allow r object_prefix rbd_info"})
    assert enforce.osd_op_allowed(pre, "p", "", {}, "other", "rbd_info", rd)
    assert not enforce.osd_op_allowed(pre, "p", "", {}, "rbd_info", "other", rd)


def test_osd_daemon_peers_and_admin_commands() -> None:
    assert enforce.osd_caps_of(None) is True
    assert enforce.osd_op_allowed(True, "p", "", {}, "o", "", enforce.OpNeeds(True, True))
    assert enforce.osd_admin_allowed(None)
    assert enforce.osd_admin_allowed({"osd": "allow *"})
    assert not enforce.osd_admin_allowed({"osd": "allow rwx"})
    assert not enforce.osd_admin_allowed({"osd": "garbage"})


class _Conn:
    def __init__(self) -> None:
        self.user: dict[str, Any] = {}


def test_osd_caps_parsed_once_per_session() -> None:
    conn = _Conn()
    caps = {"osd": "allow rwx pool=images"}
    first = enforce.osd_caps_of(caps, conn)
    assert enforce.osd_caps_of(caps, conn) is first
    assert len(conn.user) == 1
    bad = {"osd": "allow nonsense"}
    assert enforce.osd_caps_of(bad, conn) is False  # new caps text: parsed again
    assert enforce.osd_caps_of(caps, conn) is not False


def test_osd_check_is_cheap() -> None:
    """The per-op check is on the OSD's hot path: well under a millisecond per op."""
    conn = _Conn()
    caps = {"osd": "allow class-read object_prefix rbd_children, allow rwx pool=images"}
    ops = [["write", {"off": 0}], ["setxattr", {"name": "x"}]]

    def check() -> bool:
        osdcap = enforce.osd_caps_of(caps, conn)
        return enforce.osd_op_allowed(osdcap, "images", "", {}, "rbd_data.1.0", "", _needs(ops))

    assert check()
    n = 2000
    per_op = min(timeit.repeat(check, number=n, repeat=3)) / n
    assert per_op < 1e-3, per_op


# ---------------------------------------------------------------------------
# mgr


def test_mgr_command_caps() -> None:
    def ok(mgr_caps: str, service: str, module: str, prefix: str, perm: str, **args: Any) -> bool:
        cmd = {"prefix": prefix, **args}
        return enforce.mgr_command_allowed(
            {"mgr": mgr_caps}, "client.u", service, module, prefix, cmd, perm
        )

    assert ok("allow r", "py", "crash", "crash ls", "r")
    assert not ok("allow r", "py", "crash", "crash archive-all", "w")
    assert ok("allow module crash rw", "py", "crash", "crash archive-all", "w")
    assert not ok("allow module crash rw", "py", "hello", "hello greet", "r")
    assert ok("profile crash", "py", "crash", "crash post", "rw")
    assert not ok("profile crash", "py", "crash", "crash ls", "r")
    assert ok("profile rbd pool=images", "py", "rbd_support", "rbd task list", "r")
    assert not ok("profile rbd-read-only", "py", "rbd_support", "rbd task add flatten", "rw")
    assert ok('allow command "osd pool stats"', "osd", "", "osd pool stats", "r")
    assert ok("allow service osd r", "osd", "", "osd pool stats", "r")
    assert not ok("", "osd", "", "osd pool stats", "r")
    # a monitor proxying a command has checked the caller's mon caps (DaemonServer)
    assert enforce.mgr_command_allowed({}, "mon.a", "osd", "", "pg dump", {}, "r")
    assert enforce.mgr_builtin_command_allowed({"mgr": "allow r"}, "client.u", {"prefix": "pg dump"})  # fmt: skip
    assert not enforce.mgr_builtin_command_allowed({}, "client.u", {"prefix": "pg dump"})
    assert enforce.mgr_tell_allowed({"mgr": "allow *"})
    assert not enforce.mgr_tell_allowed({"mgr": "allow rwx"})
