"""The manager's built-in command handlers (MgrCommands.h): pg stat/dump/ls, osd df,
osd pool stats, osd perf, osd safe-to-destroy/ok-to-stop, osd destroy/purge. Each
returns upstream's ``(ret, outbuf, outs)`` triple.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable
from typing import Any

from pyceph.common.cmdargs import match_command
from pyceph.common.errors import CephError
from pyceph.common.output import dump_json
from pyceph.mgr import osd_safety
from pyceph.mgr.pgmap import PGMap

__all__ = [
    "OSD_REMOVAL_PREFIXES",
    "SCRUB_PREFIXES",
    "handle_mgr_command",
    "handle_osd_removal",
    "handle_scrub_command",
]

Result = tuple[int, bytes, str]


def _fmt(cmd: dict[str, Any]) -> str:
    f = cmd.get("format") or "plain"
    return f if f in ("json", "json-pretty") else "plain"


def _pg_ready_quirk(obj: dict[str, Any], fmt: str) -> bytes:
    # upstream's mgr flushes a nested formatter before closing the outer object
    text = dump_json(obj, fmt == "json-pretty")
    if fmt == "json-pretty":
        return (text[: -len("}\n")] + "\n}\n").encode()
    return (text[:-1] + "\n}").encode()


def _osdmap(provider: Any) -> Any:
    return provider() if callable(provider) else provider


def _pool_by_name(osdmap: Any, name: str) -> int | None:
    for pid, p in (getattr(osdmap, "pools", {}) or {}).items():
        if getattr(p, "pool_name", getattr(p, "name", None)) == name:
            return int(pid)
    return None


def _state_match(state: str, wanted: list[str]) -> bool:
    parts = set(state.split("+"))
    return any(w in parts for w in wanted)


def _pg_stat(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    fmt = _fmt(cmd)
    if fmt == "plain":
        return 0, pgmap.pg_stat_text().encode(), ""
    return 0, _pg_ready_quirk(pgmap.pg_stat(), fmt), ""


def _pg_dump(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    what = list(cmd.get("dumpcontents") or ["all"])
    fmt = _fmt(cmd)
    outs = "dumped " + " ".join(what)
    w = what[0]
    if w not in ("all", "summary", "sum", "pgs", "pgs_brief", "osds", "pools", "delta"):
        return 0, b"", outs
    if fmt == "plain":
        if w == "pgs_brief":
            return 0, pgmap.pgs_brief_text().encode(), outs
        if w == "all":
            head = (
                f"version {pgmap.version}\nstamp {pgmap.pg_dump('summary')['pg_map']['stamp']}\n"
                "last_osdmap_epoch 0\nlast_pg_scan 0\n"
            )
            return 0, (head + pgmap.pg_ls_text(pgmap.pgs())).encode(), outs
        return 0, pgmap.pg_ls_text(pgmap.pgs()).encode(), outs
    return 0, dump_json(pgmap.pg_dump(w), fmt == "json-pretty").encode(), outs


def _pg_ls(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    prefix = cmd["prefix"]
    pool: int | None = cmd.get("pool")
    if prefix == "pg ls-by-pool":
        pool = _pool_by_name(osdmap, cmd["poolstr"])
        if pool is None:
            return -errno.ENOENT, b"", f"pool {cmd['poolstr']} does not exist"
    states = list(cmd.get("states") or [])
    osd = cmd.get("osd")
    sel = []
    for pgid, d in pgmap.pgs():
        if pool is not None and int(pgid.split(".", 1)[0]) != pool:
            continue
        if states and not _state_match(d["state"], states):
            continue
        if prefix == "pg ls-by-osd" and osd not in d["up"] and osd not in d["acting"]:
            continue
        if prefix == "pg ls-by-primary" and d["acting_primary"] != osd:
            continue
        sel.append((pgid, d))
    fmt = _fmt(cmd)
    if fmt == "plain":
        return 0, pgmap.pg_ls_text(sel).encode(), ""
    obj = {"pg_ready": True, "pg_stats": [pgmap.pg_full(p, d) for p, d in sel]}
    return 0, dump_json(obj, fmt == "json-pretty").encode(), ""


def _osd_df(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    tree = cmd.get("output_method") == "tree"
    fmt = _fmt(cmd)
    if fmt == "plain":
        return 0, pgmap.osd_df_text(tree).encode(), ""
    text = dump_json(pgmap.osd_df(tree), fmt == "json-pretty")
    return 0, (text if fmt == "json-pretty" else text + "\n").encode(), ""


def _osd_pool_stats(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    name = cmd.get("pool_name")
    pid = None
    if name is not None:
        pid = _pool_by_name(osdmap, name)
        if pid is None:
            return -errno.ENOENT, b"", f"unrecognized pool '{name}'"
    fmt = _fmt(cmd)
    if fmt == "plain":
        return 0, pgmap.pool_stats_text(pid).encode(), ""
    return 0, dump_json(pgmap.pool_stats(pid), fmt == "json-pretty").encode(), ""


def _osd_perf(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    fmt = _fmt(cmd)
    if fmt == "plain":
        return 0, pgmap.osd_perf_text().encode(), ""
    return 0, dump_json(pgmap.osd_perf(), fmt == "json-pretty").encode(), ""


def _existing(osdmap: Any) -> list[int]:
    return list(osdmap.existing_osds()) if osdmap is not None else []


def _osd_ids(osdmap: Any, cmd: dict[str, Any]) -> list[int] | Result:
    """The OSDs a safety command names (`ids`: ids, names, any|all|*), or its EINVAL."""
    try:
        osds = osd_safety.parse_osd_id_list(cmd.get("ids") or [], _existing(osdmap))
    except ValueError as e:
        return -errno.EINVAL, b"", str(e)
    if not osds:
        return -errno.EINVAL, b"", "must specify one or more OSDs"
    return osds


def _safe_to_destroy(pgmap: PGMap, osdmap: Any, osds: list[int]) -> osd_safety.SafeToDestroy:
    exists = {i: osdmap is not None and osdmap.exists(i) for i in osds}
    num_pgs = {o: int(st.get("num_pgs", 0)) for o, st in pgmap.osd_stats.items()}
    return osd_safety.safe_to_destroy(osds, exists, pgmap.pgs(), num_pgs)


def _osd_safe_to_destroy(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    """`osd safe-to-destroy IDS` (DaemonServer): with a format, the JSON sections and
    r=0 whatever the answer; plain: the verdict as outs and its errno."""
    osds = _osd_ids(osdmap, cmd)
    if isinstance(osds, tuple):
        return osds
    res = _safe_to_destroy(pgmap, osdmap, osds)
    fmt = cmd.get("format")
    if res.r == -errno.EAGAIN and not (res.active or res.missing_stats or res.stored_pgs):
        return res.r, b"", res.outs  # unknown PGs: the answer whatever the format
    if fmt in ("json", "json-pretty"):
        if res.r == 0:
            res.safe_to_destroy = osds
        return 0, dump_json(res.dump(), fmt == "json-pretty").encode(), ""
    return res.r, b"", res.outs


def _crush_peers(osdmap: Any) -> Any:
    """For `ok-to-stop --max`: the up OSDs beneath each CRUSH ancestor of a set's first
    OSD, nearest ancestor first (CrushWrapper get_immediate_parent_id/get_all_children)."""
    crush = getattr(osdmap, "crush", None)
    if crush is None:
        return None
    parent_of = {item: bid for bid, b in crush.buckets.items() for item in b.items}

    def leaves(bid: int) -> list[int]:
        out: list[int] = []
        for item in crush.buckets[bid].items:
            out += [item] if item >= 0 else leaves(item)
        return out

    def peers(osds: list[int]) -> list[list[int]]:
        levels = []
        cur = osds[0]
        while cur in parent_of:
            cur = parent_of[cur]
            levels.append(sorted(o for o in leaves(cur) if osdmap.is_up(o)))
        return levels

    return peers


def _osd_ok_to_stop(pgmap: PGMap, osdmap: Any, cmd: dict[str, Any]) -> Result:
    """`osd ok-to-stop IDS [--max N]` (DaemonServer, Pacific): the report as JSON (compact
    unless json-pretty) whatever the verdict; EAGAIN/EBUSY with upstream's text when not
    ok. `--max` grows an ok set along CRUSH from its first OSD."""
    osds = _osd_ids(osdmap, cmd)
    if isinstance(osds, tuple):
        return osds
    pools = getattr(osdmap, "pools", {}) or {}
    min_size = {int(pid): int(p.min_size) for pid, p in pools.items()}
    max_osds = int(cmd.get("max") or 0)
    res = osd_safety.ok_to_stop(osds, pgmap.pgs(), min_size, max_osds, _crush_peers(osdmap))
    pretty = cmd.get("format") == "json-pretty"  # upstream ends the report with a newline
    return res.r, (dump_json(res.dump(), pretty) + "\n").encode(), res.outs


_HANDLERS: dict[str, Callable[[PGMap, Any, dict[str, Any]], Result]] = {
    "osd safe-to-destroy": _osd_safe_to_destroy,
    "osd ok-to-stop": _osd_ok_to_stop,
    "pg stat": _pg_stat,
    "pg dump": _pg_dump,
    "pg ls": _pg_ls,
    "pg ls-by-pool": _pg_ls,
    "pg ls-by-osd": _pg_ls,
    "pg ls-by-primary": _pg_ls,
    "osd df": _osd_df,
    "osd pool stats": _osd_pool_stats,
    "osd perf": _osd_perf,
}


def _service(services: Any, cmd: dict[str, Any]) -> Result:
    """`service dump` / `service status` (DaemonServer): JSON whatever the format."""
    fmt = _fmt(cmd)
    obj = services.dump() if cmd["prefix"] == "service dump" else services.status()
    return 0, dump_json(obj, fmt != "json").encode(), ""


def handle_mgr_command(
    pgmap: PGMap,
    osdmap_provider: Any,
    cmd: dict[str, Any],
    inbuf: bytes = b"",
    services: Any = None,
) -> Result:
    """Run one built-in mgr command; unknown ones get upstream's ``No handler found``.

    `services` is the mgr's `ServiceMap` (for `service dump|status`).
    """
    prefix = cmd.get("prefix")
    if prefix in ("service dump", "service status") and services is not None:
        return _service(services, cmd)
    handler = _HANDLERS.get(prefix) if isinstance(prefix, str) else None
    if handler is None:
        return -errno.EINVAL, b"", f"No handler found for '{prefix}'"
    try:
        _, args = match_command(cmd, check_values=False)
    except CephError as e:
        return -e.errno, b"", e.message
    return handler(pgmap, _osdmap(osdmap_provider), args)


#: The scrub commands the mgr forwards to OSDs (upstream DaemonServer::_handle_command).
SCRUB_PREFIXES = frozenset(
    {"pg scrub", "pg deep-scrub", "pg repair", "osd scrub", "osd deep-scrub", "osd repair"}
)
#: The OSD command each scrub operation becomes (upstream MOSDScrub2's deep/repair flags).
_OSD_SCRUB_OP = {"scrub": "scrub", "deep-scrub": "deep_scrub", "repair": "repair"}

SendDaemonCommand = Callable[[str, str, dict[str, Any], bytes], Awaitable[Result]]


def _pg_primary(osdmap: Any, pool: int, ps: int) -> int:
    try:
        _up, _upp, _acting, primary = osdmap.pg_to_up_acting_osds(pool, ps)
    except (KeyError, AttributeError):
        return -1
    return int(primary)


async def handle_scrub_command(
    osdmap_provider: Any, cmd: dict[str, Any], send: SendDaemonCommand
) -> Result:
    """`pg scrub|deep-scrub|repair PGID` and `osd scrub|deep-scrub|repair WHO`: tell the
    primary OSD(s) to start the scrub and answer at once with upstream's texts.

    `send(type, id, cmd, inbuf)` is the mgr's daemon command path (an `osd_command` to
    that OSD)."""
    osdmap = _osdmap(osdmap_provider)
    prefix = str(cmd.get("prefix", ""))
    op = prefix.split(" ", 1)[1]
    osd_op = _OSD_SCRUB_OP[op]
    if prefix.startswith("pg "):
        text = str(cmd.get("pgid", ""))
        pool_s, dot, ps_s = text.partition(".")
        try:
            pool, ps = int(pool_s), int(ps_s, 16)
            if not dot or pool < 0 or ps < 0:
                raise ValueError
        except ValueError:
            return -errno.EINVAL, b"", f"invalid pgid '{text}'"
        pgid = f"{pool}.{ps:x}"
        p = (getattr(osdmap, "pools", {}) or {}).get(pool)
        if p is None or ps >= int(getattr(p, "pg_num", 0)):
            return -errno.ENOENT, b"", f"pg {pgid} does not exist"
        primary = _pg_primary(osdmap, pool, ps)
        if primary < 0:
            return -errno.EAGAIN, b"", f"pg {pgid} has no primary osd"
        r, _out, _outs = await send("osd", str(primary), {"prefix": osd_op, "pgid": pgid}, b"")
        if r == -errno.ENOENT and "does not exist or is down" in _outs:
            return -errno.EAGAIN, b"", f"pg {pgid} primary osd.{primary} is not currently connected"  # fmt: skip
        return 0, b"", f"instructing pg {pgid} on osd.{primary} to {op}"
    who = str(cmd.get("who", ""))
    up = [o for o in sorted(getattr(osdmap, "osds", {}) or {}) if osdmap.is_up(o)]
    if who in ("*", "all", "any"):
        osds = up
    else:
        ident = who[4:] if who.startswith("osd.") else who
        if not ident.isdigit():
            return -errno.EINVAL, b"", f"invalid osd '{who}'"
        osds = [int(ident)]
    sent: list[int] = []
    failed: list[int] = []
    for osd in osds:
        if osd not in up:
            failed.append(osd)
            continue
        for pid, pool in sorted((getattr(osdmap, "pools", {}) or {}).items()):
            for ps in range(int(getattr(pool, "pg_num", 0))):
                if _pg_primary(osdmap, int(pid), ps) == osd:
                    pgid = f"{int(pid)}.{ps:x}"
                    await send("osd", str(osd), {"prefix": osd_op, "pgid": pgid}, b"")
        sent.append(osd)
    if osds and len(failed) == len(osds):
        return (
            -errno.EAGAIN,
            b"",
            (f"failed to instruct osd(s) {_ids(osds)} to {op} (not connected)"),
        )
    outs = f"instructed osd(s) {_ids(sent)} to {op}"
    if failed:
        outs += f"; osd(s) {_ids(failed)} were not connected"
    return 0, b"", outs


def _ids(osds: list[int]) -> str:
    return ",".join(str(o) for o in osds)


#: `osd destroy|purge`: checked here, then done by the monitor's `-actual` command.
OSD_REMOVAL_PREFIXES = frozenset({"osd destroy", "osd purge"})
#: what the mgr adds when an unsafe destroy/purge lacks --force (DaemonServer)
FORCE_HINT = (
    "\nYou can proceed by passing --force, but be warned that this will likely mean "
    "real, permanent data loss."
)

MonCommand = Callable[[dict[str, Any]], Awaitable[Result]]


async def handle_osd_removal(
    pgmap: PGMap, osdmap_provider: Any, cmd: dict[str, Any], mon_command: MonCommand
) -> Result:
    """`osd destroy|purge ID [--force] [--yes-i-really-mean-it]` (DaemonServer): refuse
    an OSD that is not safe to destroy unless forced (--yes-i-really-mean-it counts, for
    backward compatibility), then send `osd destroy-actual|purge-actual` through the
    mgr's monitor session and answer with the monitor's reply."""
    osdmap = _osdmap(osdmap_provider)
    raw = cmd.get("id")
    if raw is None:
        return -errno.EINVAL, b"", "must specify OSD id"
    try:
        (osd,) = osd_safety.parse_osd_id_list([str(raw)], [])
    except ValueError as e:
        return -errno.EINVAL, b"", str(e)
    res = _safe_to_destroy(pgmap, osdmap, [osd])
    if res.r and not (cmd.get("force") or cmd.get("yes_i_really_mean_it")):
        return res.r, b"", res.outs + FORCE_HINT
    actual = {"prefix": f"{cmd['prefix']}-actual", "id": osd, "yes_i_really_mean_it": True}
    r, _out, outs = await mon_command(actual)
    return r, b"", outs
