"""cephx caps at the daemons' entry points: one call per check, with upstream's answers.

`pyceph.auth.caps` parses and evaluates the grammars; this module is the thin policy layer
the daemons call, so each call site stays one line:

* mon commands — upstream `Monitor::_allowed_command` (src/mon/Monitor.cc): the command
  descriptor's module is the MonCap *service*, its perm the r/w/x asked for, the cmdmap
  (as `_generate_command_map` stringifies it) the `allow command ... with k=v` arguments.
  Denial: -EACCES "access denied". Mgr commands sent to a monitor are checked here too,
  before they are proxied. The descriptor is the one `Monitor::_get_moncommand` finds:
  the first MonCommands.h entry whose signature *begins* with the prefix
  (`mon_command_perm`).
* mon tell — `Monitor::handle_tell_command`: rwx on service `mon` for the prefix,
  -EACCES "insufficient caps".
* mon messages — `session->is_capable(service, MON_CAP_*)` guards of the PaxosServices
  (pool ops: `OSDMonitor::enforce_pool_op_caps` with `is_unmanaged_snap_op_permitted`;
  pg-temp: osd x; beacons: mgr x; cluster log: log w).
* osd ops — `PrimaryLogPG::op_has_sufficient_caps` + `OSDCap::is_capable`: the whole op
  vector's flags as upstream's `OpInfo::set_from_op` computes them (data read, data write,
  and one class entry per `call` with the method's registered RD/WR flags and whether the
  class is on `osd_class_default_list`); the object is the locator key when set, else the
  object name. Denial: -EPERM. The parsed caps are kept on the connection (`conn.user`)
  so a session parses once.
* mgr commands — `DaemonServer::_allowed_command`: MgrCap with service `py` and the
  module name for module commands, the descriptor's module otherwise; a mon proxying a
  command is trusted (it checked its own caps). Denial: -EACCES and upstream's hint.

`caps` of None everywhere means a trusted in-process or daemon peer: nothing is checked.
Caps that no longer parse grant nothing (upstream refuses such a session outright).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyceph.auth.caps import OSD_CAP_W, Caps, ClassCall, command_arg_map, parse_caps
from pyceph.common import command_table
from pyceph.common.errors import CephError
from pyceph.msg.osd_ops import PG_OPS, READ_OPS, WRITE_OPS

__all__ = [
    "ALL_NSPACES",
    "MGR_ACCESS_DENIED",
    "MON_ACCESS_DENIED",
    "MON_TELL_DENIED",
    "ClassRW",
    "OpNeeds",
    "mgr_builtin_command_allowed",
    "mgr_command_allowed",
    "mgr_tell_allowed",
    "mon_command_allowed",
    "mon_command_perm",
    "mon_service_allowed",
    "mon_tell_allowed",
    "op_needs",
    "osd_admin_allowed",
    "osd_caps_of",
    "osd_op_allowed",
    "pool_op_allowed",
]

#: Monitor::handle_command's reply to a command the caps do not allow (-EACCES).
MON_ACCESS_DENIED = "access denied"
#: Monitor::handle_tell_command's reply (-EACCES).
MON_TELL_DENIED = "insufficient caps"
#: DaemonServer::_handle_command's reply (-EACCES).
MGR_ACCESS_DENIED = (
    "access denied: does your client key have mgr caps? See "
    "http://docs.ceph.com/en/latest/mgr/administrator/#client-authentication"
)
#: The namespace a listing of every namespace names (upstream LIBRADOS_ALL_NSPACES).
ALL_NSPACES = "\x01"
#: Key of the parsed osd caps in a connection's `user` dict (one parse per session).
_CONN_OSDCAP = "pyceph.auth.osdcap"


def _parsed(caps: Mapping[str, str], service: str) -> Caps | None:
    """The `service` caps of a session, None when they do not parse (grant nothing)."""
    try:
        return parse_caps(service, str(caps.get(service, "")))
    except (CephError, ValueError):
        return None


# ---------------------------------------------------------------------------
# mon


def mon_command_perm(prefix: str, module: str, perm: str) -> tuple[str, str]:
    """The (module, perm) a monitor checks a command's caps against.

    Upstream `Monitor::_get_moncommand` (src/mon/Monitor.cc) returns the first entry of
    the monitor's table whose signature string starts with the prefix, a plain string
    comparison: `osd in` is found as `osd info` (osd r: Ceph 16.2.15 lets `allow r` mark
    OSDs in) and `fs compat` as `fs compat show` (mds r). Other prefixes find their own
    entry; a prefix outside the monitor's table keeps its descriptor's (`module`, `perm`).
    """
    for sig, _help, found_module, found_perm, _flags in command_table.MON_COMMANDS:
        if sig.startswith(prefix):
            return found_module, found_perm
    return module, perm


def mon_command_allowed(
    caps: Mapping[str, str] | None,
    entity: str,
    module: str,
    perm: str,
    prefix: str,
    cmdmap: Mapping[str, Any],
    addr: object = None,
) -> bool:
    """Monitor::_allowed_command: MonCap is_capable(module, prefix, args, perm)."""
    if caps is None:
        return True
    mon = _parsed(caps, "mon")
    if mon is None:
        return False
    args = command_arg_map(cmdmap)
    return mon.allows_mon(module, perm, command=prefix, args=args, entity=entity, addr=addr)


def mon_tell_allowed(
    caps: Mapping[str, str] | None,
    entity: str,
    prefix: str,
    cmdmap: Mapping[str, Any],
    addr: object = None,
) -> bool:
    """Monitor::handle_tell_command: rwx on service `mon` for the prefix and its args."""
    return mon_command_allowed(caps, entity, "mon", "rwx", prefix, cmdmap, addr)


def mon_service_allowed(
    caps: Mapping[str, str] | None, entity: str, service: str, perm: str, addr: object = None
) -> bool:
    """MonSession::is_capable(service, mask): a PaxosService's guard of one message type."""
    if caps is None:
        return True
    mon = _parsed(caps, "mon")
    return mon is not None and mon.allows_mon(service, perm, entity=entity, addr=addr)


#: MPoolOp ops on self-managed snapshots (upstream POOL_OP_*_UNMANAGED_SNAP).
_UNMANAGED_SNAP_OPS = frozenset({"create_unmanaged_snap", "delete_unmanaged_snap"})


def pool_op_allowed(
    caps: Mapping[str, str] | None,
    entity: str,
    op: str,
    pool_name: str | None,
    addr: object = None,
) -> bool:
    """OSDMonitor::enforce_pool_op_caps.

    Self-managed snapshot ops pass with mon `allow command "osd pool op unmanaged-snap"
    [with poolname=P]` (w), or with osd caps that may write that pool (or any pool: a
    grant without pool match); `tag` matches do not count, as upstream's
    `is_osd_writable`. Every other pool op needs mon `osd` w. Denial is -EPERM.
    """
    if caps is None:
        return True
    mon = _parsed(caps, "mon")
    if op not in _UNMANAGED_SNAP_OPS:
        return mon is not None and mon.allows_mon("osd", "w", entity=entity, addr=addr)
    args = {} if pool_name is None else {"poolname": pool_name}
    if mon is not None and mon.allows_mon(
        "osd", "w", command="osd pool op unmanaged-snap", args=args, entity=entity, addr=addr
    ):
        return True
    osd = _parsed(caps, "osd")
    if osd is None:
        return False
    if osd.is_allow_all:
        return True
    for grant in osd.grants:
        for g in grant.profile_grants if grant.profile else (grant,):
            if _osd_writable(g, pool_name):
                return True
    return False


def _osd_writable(g: Any, pool_name: str | None) -> bool:
    """upstream is_osd_writable(grant, pool)."""
    if not g.allow & OSD_CAP_W:
        return False
    if g.match.is_match_all():
        return True
    return pool_name is not None and bool(g.match.pool) and g.match.pool == pool_name


# ---------------------------------------------------------------------------
# osd

#: Data reads (upstream CEPH_OSD_OP_MODE_RD ops other than CALL): the read ops, the
#: listings and notify/notify-ack (`watch` is a write that also reads).
_READ_OPS = READ_OPS | PG_OPS | frozenset({"notify", "notify_ack"})


@dataclass(frozen=True, slots=True)
class OpNeeds:
    """What an op vector asks of the caps (upstream OpInfo's rmw flags and classes)."""

    read: bool
    write: bool
    classes: tuple[ClassCall, ...] = ()


#: How the OSD tells a class method's (reads, writes) from its registration.
ClassRW = Callable[[str, str], tuple[bool, bool]]


def op_needs(
    ops: Iterable[Any], class_rw: ClassRW, default_classes: frozenset[str] | None = None
) -> OpNeeds:
    """OpInfo::set_from_op for our op vector: [[name, args], ...].

    A `call` adds one class entry with the method's registered RD/WR flags, as
    `class_rw(class, method)` reports them (nothing else: upstream's CALL is excluded
    from the data-read mode); `watch` is a write that also reads; ops naming a source
    object (`src_oid`) read. `default_classes` is `osd_class_default_list` (None: every
    class is on it).
    """
    read = write = False
    classes: list[ClassCall] = []
    for op in ops:
        name = str(op[0]) if op else ""
        args = op[1] if len(op) > 1 and isinstance(op[1], dict) else None
        if name == "call" and args is not None:
            cname, mname = str(args.get("cls", "")), str(args.get("method", ""))
            may_read, may_write = class_rw(cname, mname)
            classes.append(
                ClassCall(
                    class_name=cname,
                    method_name=mname,
                    read=may_read,
                    write=may_write,
                    allowed=default_classes is None or cname in default_classes,
                )
            )
            continue
        if name in WRITE_OPS:
            write = True
        elif name == "watch":
            read = write = True
        elif name in _READ_OPS:
            read = True
        if args is not None and args.get("src_oid"):
            read = True
    return OpNeeds(read, write, tuple(classes))


def osd_caps_of(caps: Mapping[str, str] | None, conn: Any = None) -> Caps | bool:
    """The session's parsed osd caps: True for a trusted peer (caps None), False when they
    do not parse. Cached in `conn.user` so the hot path parses once per session."""
    if caps is None:
        return True
    text = str(caps.get("osd", ""))
    store = getattr(conn, "user", None)
    if isinstance(store, dict):
        hit = store.get(_CONN_OSDCAP)
        if hit is not None and hit[0] is text:
            return hit[1]
    parsed = _parsed(caps, "osd")
    result: Caps | bool = False if parsed is None else parsed
    if isinstance(store, dict):
        store[_CONN_OSDCAP] = (text, result)
    return result


def osd_op_allowed(
    osdcap: Caps | bool | None,
    pool_name: str,
    nspace: str,
    app_metadata: Mapping[str, Mapping[str, str]] | None,
    oid: str,
    locator: str,
    needs: OpNeeds,
    addr: object = None,
) -> bool:
    """PrimaryLogPG::op_has_sufficient_caps: OSDCap::is_capable for the whole op vector."""
    if osdcap is True:
        return True
    if not isinstance(osdcap, Caps):
        return False
    return osdcap.allows_osd_op(
        pool_name,
        nspace,
        locator or oid,
        app_metadata or {},
        needs.read,
        needs.write,
        classes=needs.classes,
        addr=addr,
    )


def osd_admin_allowed(caps: Mapping[str, str] | None) -> bool:
    """OSD::handle_command / tell: only `allow *` osd caps (upstream is_allow_all)."""
    if caps is None:
        return True
    osd = _parsed(caps, "osd")
    return osd is not None and osd.is_allow_all


# ---------------------------------------------------------------------------
# mgr


def mgr_command_allowed(
    caps: Mapping[str, str] | None,
    entity: str,
    service: str,
    module: str,
    prefix: str,
    cmdmap: Mapping[str, Any],
    perm: str,
    addr: object = None,
) -> bool:
    """DaemonServer::_allowed_command: MgrCap is_capable(service, module, prefix, args,
    perm). Module commands: service `py` and the module's name; the mgr's own commands:
    the descriptor's module and no module name. A monitor is trusted."""
    if caps is None or entity.startswith("mon."):
        return True
    mgr = _parsed(caps, "mgr")
    if mgr is None:
        return False
    args = command_arg_map(cmdmap)
    return mgr.allows_mgr(service, module, prefix, args, perm, addr=addr)


def mgr_builtin_command_allowed(
    caps: Mapping[str, str] | None, entity: str, cmd: Mapping[str, Any], addr: object = None
) -> bool:
    """DaemonServer::_allowed_command for the mgr's own commands (MgrCommands.h): the
    descriptor's module is the MgrCap service. Prefixes not in that table (a monitor's
    command) are left to the handler, which answers "No handler found" as upstream."""
    from pyceph.common.cmdargs import MGR_COMMANDS

    prefix = cmd.get("prefix")
    desc = next((c for c in MGR_COMMANDS if c.prefix == prefix), None)
    if desc is None:
        return True
    return mgr_command_allowed(caps, entity, desc.module, "", desc.prefix, cmd, desc.perm, addr)


def mgr_tell_allowed(caps: Mapping[str, str] | None) -> bool:
    """DaemonServer: a command addressed to the mgr daemon needs `allow *` mgr caps."""
    if caps is None:
        return True
    mgr = _parsed(caps, "mgr")
    return mgr is not None and mgr.is_allow_all
