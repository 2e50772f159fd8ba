"""`osd tree|ls|dump|stat|metadata|map|in|out|down|set|unset|blocklist|...` handlers."""

from __future__ import annotations

import errno
import json
import re
from collections.abc import Iterator
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.keyring import decode_secret
from pyceph.osdmap.osdmap import (
    FLAG_FULL,
    FLAG_NOBACKFILL,
    FLAG_NODEEP_SCRUB,
    FLAG_NODOWN,
    FLAG_NOIN,
    FLAG_NOOUT,
    FLAG_NOREBALANCE,
    FLAG_NORECOVER,
    FLAG_NOSCRUB,
    FLAG_NOSNAPTRIM,
    FLAG_NOTIERAGENT,
    FLAG_NOUP,
    FLAG_PAUSERD,
    FLAG_PAUSEWR,
    FLAG_PGLOG_HARDLIMIT,
    OSD_IN,
    OSD_OUT,
    OSDMap,
    f32,
    flag_string,
)
from pyceph.osdmap.pool import CRUSH_ITEM_NONE, utime_str

from .. import format_plain as fp
from . import Ctx, Reply, command

OSD_FLAGS = {
    "full": FLAG_FULL,
    "pause": FLAG_PAUSERD | FLAG_PAUSEWR,
    "noup": FLAG_NOUP,
    "nodown": FLAG_NODOWN,
    "noout": FLAG_NOOUT,
    "noin": FLAG_NOIN,
    "nobackfill": FLAG_NOBACKFILL,
    "norebalance": FLAG_NOREBALANCE,
    "norecover": FLAG_NORECOVER,
    "noscrub": FLAG_NOSCRUB,
    "nodeep-scrub": FLAG_NODEEP_SCRUB,
    "notieragent": FLAG_NOTIERAGENT,
    "nosnaptrim": FLAG_NOSNAPTRIM,
    "pglog_hardlimit": FLAG_PGLOG_HARDLIMIT,
}


def _map_at(ctx: Ctx) -> OSDMap:
    epoch = ctx.get("epoch")
    if epoch is None or epoch == ctx.state.osdmap.epoch:
        return ctx.state.osdmap
    m = ctx.state.get_osdmap(int(epoch))
    if m is None:
        raise CephError(errno.ENOENT, f"there is no map for epoch {epoch}")
    return m


def parse_osd_id(s: str) -> int:
    """Upstream `parse_osd_id`: `N` or `osd.N`; raises EINVAL with upstream's text (the
    integer parser's complaint, then the caller's, as 16.2.15 prints them)."""
    t = s[4:] if s.startswith("osd.") else s
    if not re.fullmatch(r"\d+", t):
        raise CephError(
            errno.EINVAL, f"Expected option value to be integer, got '{s}'invalid osd id{-1}"
        )
    v = int(t)
    if v > 0xFFFF:
        raise CephError(errno.ERANGE, f"osd id {v} is too large")
    return v


@command("osd tree")
def osd_tree(ctx: Ctx) -> Reply:
    m = _map_at(ctx)
    states = set(ctx.get("states", []))
    data = m.tree()
    if states:

        def keep(n: dict[str, Any]) -> bool:
            i = n["id"]
            return (
                ("up" in states and m.is_up(i))
                or ("down" in states and m.exists(i) and not m.is_up(i))
                or ("in" in states and m.is_in(i))
                or ("out" in states and m.exists(i) and not m.is_in(i))
                or ("destroyed" in states and m.exists(i) and m.osds[i].destroyed)
            )

        data["nodes"] = [n for n in data["nodes"] if n["id"] < 0 or keep(n)]
        data["stray"] = [n for n in data["stray"] if keep(n)]
    return Reply(data=data, plain=fp.osd_tree(m))


@command("osd ls")
def osd_ls(ctx: Ctx) -> Reply:
    ids = _map_at(ctx).existing_osds()
    return Reply(data=ids, plain="".join(f"{i}\n" for i in ids))


@command("osd dump")
def osd_dump(ctx: Ctx) -> Reply:
    m = _map_at(ctx)
    d = m.dump()
    lines = [
        f"epoch {m.epoch}",
        f"fsid {m.fsid}",
        f"created {utime_str(m.created)}",
        f"modified {utime_str(m.modified)}",
        f"flags {flag_string(m.flags)}",
        f"crush_version {m.crush_version}",
        f"full_ratio {m.full_ratio:.6g}",
        f"backfillfull_ratio {m.backfillfull_ratio:.6g}",
        f"nearfull_ratio {m.nearfull_ratio:.6g}",
        f"require_min_compat_client {m.require_min_compat_client}",
        "min_compat_client jewel",
        f"require_osd_release {m.require_osd_release}",
        "stretch_mode_enabled false",
        "",
    ]
    plain = "\n".join(lines) + "\n" + fp.pool_ls_detail(m)
    plain += f"max_osd {m.max_osd}\n"
    for i in m.existing_osds():
        o = m.osds[i]
        plain += (
            f"osd.{i} {'up  ' if o.up else 'down'} {'in ' if o.is_in else 'out'} weight "
            f"{o.weightf:g} up_from {o.up_from} up_thru {o.up_thru} down_at {o.down_at} "
            f"last_clean_interval [{o.last_clean_begin},{o.last_clean_end}) "
            f"[v2:{o.public_addr or '0.0.0.0:0/0'}] [v2:{o.cluster_addr or '0.0.0.0:0/0'}] "
            f"{','.join(o.state_names())} {o.uuid}\n"
        )
    plain += "\n"
    # upstream OSDMap::print: upmaps before the temp mappings
    for (p, s), osds in sorted(m.pg_upmap.items()):
        plain += f"pg_upmap {p}.{s:x} [{','.join(map(str, osds))}]\n"
    for (p, s), items in sorted(m.pg_upmap_items.items()):
        plain += f"pg_upmap_items {p}.{s:x} [{','.join(f'{a},{b}' for a, b in items)}]\n"
    for (p, s), v in sorted(m.pg_temp.items()):
        plain += f"pg_temp {p}.{s:x} [{','.join(map(str, v))}]\n"
    for (p, s), v in sorted(m.primary_temp.items()):
        plain += f"primary_temp {p}.{s:x} {v}\n"
    for a, t in m.blocklist.items():
        plain += f"blocklist {a} expires {utime_str(t)}\n"
    return Reply(data=d, plain=plain, outs=f"dumped osdmap epoch {m.epoch}" if False else "")


@command("osd stat")
def osd_stat(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    return Reply(data=m.stat(), plain=fp.osd_stat(m, ctx.now))


@command("osd getmaxosd")
def osd_getmaxosd(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    return Reply(
        data={"epoch": m.epoch, "max_osd": m.max_osd},
        plain=f"max_osd = {m.max_osd} in epoch {m.epoch}\n",
    )


def _metadata(m: OSDMap, i: int) -> dict[str, Any]:
    return {"id": i, **dict(sorted(m.osds[i].metadata.items()))}


@command("osd metadata")
def osd_metadata(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    osd = ctx.get("id")
    if osd is None:
        return Reply(data=[_metadata(m, i) for i in m.existing_osds()])
    if not m.exists(osd):
        raise CephError(errno.ENOENT, f"osd.{osd} does not exist")
    if not m.osds[osd].metadata:
        raise CephError(errno.ENOENT, "")
    return Reply(data=_metadata(m, osd))


@command("osd find")
def osd_find(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    osd = ctx.get("id")
    if not m.exists(osd):
        raise CephError(errno.ENOENT, f"osd.{osd} does not exist")
    o = m.osds[osd]
    loc = m.crush.get_location(osd) if osd in m.crush.devices else {}
    return Reply(
        data={
            "osd": osd,
            "addrs": {
                "addrvec": [{"type": "v2", "addr": o.public_addr.split("/")[0], "nonce": 0}]
                if o.public_addr
                else []
            },  # fmt: skip
            "osd_fsid": o.uuid,
            "host": o.metadata.get("hostname", ""),
            "crush_location": loc,
        }
    )


def _apply(ctx: Ctx, which: str, osd: int, verbose: bool, msgs: list[str]) -> bool:
    s = ctx.state
    m = s.pending_osdmap
    o = m.osds[osd]
    if which == "down":
        if not o.up:
            if verbose:
                msgs.append(f"osd.{osd} is already down. ")
            return False
        o.up = False
        o.down_at = m.epoch
        o.down_stamp = ctx.now
        m.last_up_change = ctx.now
        msgs.append(f"marked down osd.{osd}. ")
        return True
    if which == "out":
        if not o.is_in:
            if verbose:
                msgs.append(f"osd.{osd} is already out. ")
            return False
        o.old_weight = o.weight
        o.weight = OSD_OUT
        o.auto_out = False
        m.last_in_change = ctx.now
        msgs.append(f"marked out osd.{osd}. ")
        s.clog(ctx.now, "cluster", "INF", f"Client {ctx.entity} marked osd.{osd} out"
               + (", while it was still marked up" if o.up else ""))  # fmt: skip
        return True
    if o.is_in:
        if verbose:
            msgs.append(f"osd.{osd} is already in. ")
        return False
    o.weight = o.old_weight or OSD_IN
    o.auto_out = False
    m.last_in_change = ctx.now
    msgs.append(f"marked in osd.{osd}. ")
    return True


#: The words that, first among an `osd in/out/down/rm` id list, name every OSD.
EVERY_OSD = ("any", "all", "*")


def _named_osds(
    m: Any, ids: list[str], every: list[int], msgs: list[str], errs: list[int]
) -> Iterator[tuple[int, bool]]:
    """The OSDs an id list names, in order, each with whether it was named explicitly: a
    leading `any|all|*` stands for `every`; an id that does not parse is noted in `msgs`
    with its errno in `errs`, one that does not exist is noted and skipped (upstream)."""
    for j, w in enumerate(ids):
        if j == 0 and w in EVERY_OSD:
            for osd in every:
                yield osd, False
            return
        try:
            osd = parse_osd_id(w)
        except CephError as e:
            msgs.append(e.message)
            errs.append(-e.errno)
            continue
        if not m.exists(osd):
            msgs.append(f"osd.{osd} does not exist. ")
            continue
        yield osd, True


@command("osd in", "osd out", "osd down")
def osd_in_out_down(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    which = ctx.args["prefix"].split()[1]
    every = [i for i in m.existing_osds() if which != "in" or not m.is_in(i)]
    msgs: list[str] = []
    errs: list[int] = []
    any_change = False
    for osd, explicit in _named_osds(m, ctx.get("ids", []), every, msgs, errs):
        any_change |= _apply(ctx, which, osd, explicit, msgs)
    err = errs[-1] if errs else 0
    return Reply(outs="".join(msgs), ret=err, changed={"osdmap"} if any_change else set())


@command("osd set", "osd unset")
def osd_set_unset(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    key = ctx.args["key"]
    setting = ctx.args["prefix"] == "osd set"
    if key == "pglog_hardlimit" and not setting:
        raise CephError(errno.EINVAL, "unrecognized flag 'pglog_hardlimit'")
    flag = OSD_FLAGS[key]
    if setting:
        m.flags |= flag
        return Reply(outs=f"{flag_string(flag)} is set", changed={"osdmap"})
    m.flags &= ~flag
    return Reply(outs=f"{flag_string(flag)} is unset", changed={"osdmap"})


@command("osd set-full-ratio", "osd set-backfillfull-ratio", "osd set-nearfull-ratio")
def osd_set_ratio(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    r = float(ctx.args["ratio"])
    which = ctx.args["prefix"].split()[1]
    if which == "set-full-ratio":
        m.full_ratio = f32(r)
    elif which == "set-backfillfull-ratio":
        m.backfillfull_ratio = f32(r)
    else:
        m.nearfull_ratio = f32(r)
    return Reply(changed={"osdmap"})


@command("osd reweight")
def osd_reweight(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    osd, w = ctx.args["id"], float(ctx.args["weight"])
    if not m.exists(osd):
        raise CephError(errno.ENOENT, f"osd.{osd} does not exist")
    if w < 0 or w > 1:
        raise CephError(errno.EINVAL, "weight must be in the range [0..1]")
    m.osds[osd].weight = int(w * 0x10000)
    m.last_in_change = ctx.now
    return Reply(outs=f"reweighted osd.{osd} to {w:g} ({int(w * 0x10000):x})", changed={"osdmap"})


@command("osd primary-affinity")
def osd_primary_affinity(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    osd, w = ctx.args["id"], float(ctx.args["weight"])
    if w < 0 or w > 1:
        raise CephError(errno.ERANGE, "primary affinity must be in range [0..1]")
    if not m.exists(osd):
        raise CephError(errno.ENOENT, f"osd.{osd} does not exist")
    m.osds[osd].primary_affinity = int(w * 0x10000)
    return Reply(
        outs=f"set osd.{osd} primary-affinity to {w:g} ({int(w * 0x10000):x})",
        changed={"osdmap"},
    )


@command("osd create")
def osd_create(ctx: Ctx) -> Reply:
    s = ctx.state
    uuid = ctx.get("uuid")
    want = ctx.get("id")
    if want is not None and uuid is None:
        raise CephError(errno.EINVAL, "requires the OSD's UUID to be specified.")
    if uuid:
        for i, o in s.pending_osdmap.osds.items():
            if o.exists and o.uuid == uuid:
                if want is not None and want != i:
                    raise CephError(
                        errno.EINVAL, f"uuid {uuid} already in use for different id {i}"
                    )
                return Reply(data={"osdid": i}, plain=f"{i}\n")
    i = s.allocate_osd_id(uuid, want)
    return Reply(data={"osdid": i}, plain=f"{i}\n", changed={"osdmap"})


@command("osd map")
def osd_map(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    name, obj = ctx.args["pool"], ctx.args["object"]
    nspace = ctx.get("nspace", "")
    pid = m.lookup_pool(name)
    if pid < 0:
        raise CephError(errno.ENOENT, f"pool {name} does not exist")
    pool = m.pools[pid]
    raw = pool.hash_key(obj, nspace)
    ps = pool.raw_pg_to_pg(raw)
    up, upp, acting, actp = m.pg_to_up_acting_osds(pid, ps)
    data = {
        "epoch": m.epoch,
        "pool": name,
        "pool_id": pid,
        "objname": obj,
        "raw_pgid": f"{pid}.{raw:x}",
        "pgid": f"{pid}.{ps:x}",
        "up": up,
        "up_primary": upp,
        "acting": acting,
        "acting_primary": actp,
    }
    if nspace:
        data["nspace"] = nspace
    full = f"{nspace}/{obj}" if nspace else obj
    plain = (
        f"osdmap e{m.epoch} pool '{name}' ({pid}) object '{full}' -> pg {pid}.{raw:x} "
        f"({pid}.{ps:x}) -> up ({_vec(up)}, p{upp}) acting ({_vec(acting)}, p{actp})\n"
    )
    return Reply(data=data, plain=plain)


def _vec(v: list[int]) -> str:
    return "[" + ",".join("NONE" if x == CRUSH_ITEM_NONE else str(x) for x in v) + "]"


def _parse_pgid(m: OSDMap, pgid: str) -> tuple[int, int]:
    pool_s, _, ps_s = pgid.partition(".")
    try:
        pid, ps = int(pool_s), int(ps_s, 16)
    except ValueError:
        raise CephError(errno.EINVAL, f"invalid pgid '{pgid}'")
    pool = m.pools.get(pid)
    if pool is None:
        raise CephError(errno.ENOENT, f"pg '{pgid}' does not exist")
    if ps >= pool.pg_num:
        raise CephError(errno.ENOENT, f"pg '{pgid}' does not exist")
    return pid, ps


@command("pg map")
def pg_map(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    pid, ps = _parse_pgid(m, ctx.args["pgid"])
    up, upp, acting, actp = m.pg_to_up_acting_osds(pid, ps)
    pgid = f"{pid}.{ps:x}"
    data = {"epoch": m.epoch, "raw_pgid": pgid, "pgid": pgid, "up": up, "acting": acting}
    plain = f"osdmap e{m.epoch} pg {pgid} ({pgid}) -> up {_vec(up)} acting {_vec(acting)}\n"
    return Reply(data=data, plain=plain)


@command("osd pg-temp")
def osd_pg_temp(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    pid, ps = _parse_pgid(m, ctx.args["pgid"])
    ids = list(ctx.get("id", []))
    for o in ids:
        if not m.exists(o):
            raise CephError(errno.ENOENT, f"osd.{o} does not exist")
    pgid = f"{pid}.{ps:x}"
    if ids:
        m.pg_temp[(pid, ps)] = ids
    else:
        m.pg_temp.pop((pid, ps), None)
    return Reply(outs=f"set {pgid} pg_temp mapping to [{','.join(map(str, ids))}]",
                 changed={"osdmap"})  # fmt: skip


@command("osd primary-temp")
def osd_primary_temp(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    pid, ps = _parse_pgid(m, ctx.args["pgid"])
    osd = ctx.args["id"]
    if osd != -1 and not m.exists(osd):
        raise CephError(errno.ENOENT, f"osd.{osd} does not exist")
    if osd == -1:
        m.primary_temp.pop((pid, ps), None)
    else:
        m.primary_temp[(pid, ps)] = osd
    return Reply(outs=f"set {pid}.{ps:x} primary_temp mapping to {osd}", changed={"osdmap"})


# ---------------------------------------------------------------- upmap
#: Ceph releases in order (upstream ceph_release_t), for require_min_compat_client.
RELEASES = ("argonaut", "bobtail", "cuttlefish", "dumpling", "emperor", "firefly", "giant",
            "hammer", "infernalis", "jewel", "kraken", "luminous", "mimic", "nautilus",
            "octopus", "pacific")  # fmt: skip
#: The oldest client release that understands pg_upmap (CEPH_FEATUREMASK_OSDMAP_PG_UPMAP).
UPMAP_MIN_RELEASE = "luminous"


def _release_no(name: str) -> int:
    return RELEASES.index(name) if name in RELEASES else -1


@command("osd set-require-min-compat-client")
def osd_set_require_min_compat_client(ctx: Ctx) -> Reply:
    """OSDMonitor: the oldest client release allowed to connect; not below what the map
    uses (pg_upmap_items need luminous). pyceph's clients all speak pacific, so the
    connected-clients check upstream makes without --yes-i-really-mean-it never fails."""
    m = ctx.state.pending_osdmap
    v = str(ctx.args["version"])
    if v not in RELEASES:
        raise CephError(errno.EINVAL, f"version {v} is not recognized")
    needed = UPMAP_MIN_RELEASE if m.pg_upmap or m.pg_upmap_items else "jewel"
    if _release_no(v) < _release_no(needed):
        raise CephError(
            errno.EPERM,
            f"osdmap current utilizes features that require {needed}; cannot set "
            f"require_min_compat_client below that to {v}",
        )
    m.require_min_compat_client = v
    return Reply(outs=f"set require_min_compat_client to {v}", changed={"osdmap"})


def _upmap_pg(ctx: Ctx) -> tuple[OSDMap, tuple[int, int], str]:
    """The checks every pg-upmap command makes first (OSDMonitor::prepare_command)."""
    m = ctx.state.pending_osdmap
    have = m.require_min_compat_client
    if _release_no(have) < _release_no(UPMAP_MIN_RELEASE):
        raise CephError(
            errno.EPERM,
            f"min_compat_client {have} < luminous, which is required for pg-upmap. Try "
            "'ceph osd set-require-min-compat-client luminous' before using the new interface",
        )
    pgid = str(ctx.args["pgid"])
    pool_s, _, ps_s = pgid.partition(".")
    try:
        pid, ps = int(pool_s), int(ps_s, 16)
    except ValueError:
        raise CephError(errno.EINVAL, f"invalid pgid '{pgid}'")
    pool = ctx.state.osdmap.pools.get(pid)
    if pool is None or ps >= pool.pg_num:
        raise CephError(errno.ENOENT, f"pg {pid}.{ps:x} does not exist")
    if pid not in m.pools:  # upstream answers once the removal is committed
        raise CephError(errno.ENOENT, f"pool of {pid}.{ps:x} is pending removal")
    return m, (pid, ps), f"{pid}.{ps:x}"


@command("osd pg-upmap")
def osd_pg_upmap(ctx: Ctx) -> Reply:
    """Replace one PG's whole CRUSH mapping (OSDMonitor "osd pg-upmap"): between the
    pool's min_size and size OSDs, each existing (or CRUSH_ITEM_NONE); repeats are
    dropped with a note, as upstream."""
    m, key, pgid = _upmap_pg(ctx)
    ids = [int(i) for i in ctx.get("id", [])]
    pool = m.pools[key[0]]
    if len(ids) < pool.min_size:
        raise CephError(errno.EINVAL, f"num of osds ({len(ids)}) < pool min size ({pool.min_size})")
    if len(ids) > pool.size:
        raise CephError(errno.EINVAL, f"num of osds ({len(ids)}) > pool size ({pool.size})")
    notes = ""
    osds: list[int] = []
    for o in ids:
        if o != CRUSH_ITEM_NONE and not m.exists(o):
            raise CephError(errno.ENOENT, f"{notes}osd.{o} does not exist")
        if o in osds:
            notes += f"osd.{o} already exists, "
            continue
        osds.append(o)
    if not osds:
        raise CephError(errno.EINVAL, f"{notes}no valid upmap items(pairs) is specified")
    m.pg_upmap[key] = osds
    shown = ",".join(map(str, osds))
    return Reply(outs=f"{notes}set {pgid} pg_upmap mapping to [{shown}]", changed={"osdmap"})


@command("osd rm-pg-upmap")
def osd_rm_pg_upmap(ctx: Ctx) -> Reply:
    m, key, pgid = _upmap_pg(ctx)
    m.pg_upmap.pop(key, None)
    return Reply(outs=f"clear {pgid} pg_upmap mapping", changed={"osdmap"})


@command("osd pg-upmap-items")
def osd_pg_upmap_items(ctx: Ctx) -> Reply:
    """Replace OSDs in one PG's CRUSH mapping, as (from, to) pairs (upstream's messages)."""
    m, key, pgid = _upmap_pg(ctx)
    ids = [int(i) for i in ctx.get("id", [])]
    if len(ids) % 2:
        raise CephError(errno.EINVAL, "you must specify pairs of osd ids to be remapped")
    size = m.pools[key[0]].size
    if len(ids) // 2 > size:
        raise CephError(errno.EINVAL, f"num of osd pairs ({len(ids) // 2}) > pool size ({size})")
    notes = ""
    items: list[tuple[int, int]] = []
    for a, b in zip(ids[::2], ids[1::2], strict=True):
        if a == b:
            notes += f"from osd.{a} == to osd.{b}, "
            continue
        if not m.exists(a):
            raise CephError(errno.ENOENT, f"{notes}osd.{a} does not exist")
        if b != CRUSH_ITEM_NONE and not m.exists(b):
            raise CephError(errno.ENOENT, f"{notes}osd.{b} does not exist")
        if (a, b) in items:
            notes += f"osd.{a} -> osd.{b} already exists, "
            continue
        items.append((a, b))
    if not items:
        raise CephError(errno.EINVAL, f"{notes}no valid upmap items(pairs) is specified")
    m.pg_upmap_items[key] = items
    shown = ",".join(f"{a}->{b}" for a, b in items)
    return Reply(outs=f"{notes}set {pgid} pg_upmap_items mapping to [{shown}]",
                 changed={"osdmap"})  # fmt: skip


@command("osd rm-pg-upmap-items")
def osd_rm_pg_upmap_items(ctx: Ctx) -> Reply:
    m, key, pgid = _upmap_pg(ctx)
    m.pg_upmap_items.pop(key, None)
    return Reply(outs=f"clear {pgid} pg_upmap_items mapping", changed={"osdmap"})


# ---------------------------------------------------------------- blocklist
def _norm_addr(a: str) -> str:
    for t in ("v1:", "v2:", "any:"):  # blocklist entries are TYPE_ANY as upstream's
        if a.startswith(t):
            a = a[len(t) :]
    if "/" not in a:
        a += "/0"
    host = a.split("/")[0]
    if ":" not in host:
        a = f"{host}:0/{a.split('/')[1]}"
    return a


@command("osd blocklist", "osd blacklist")
def osd_blocklist(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    op = ctx.args.get("blocklistop") or ctx.args.get("blacklistop")
    addr = _norm_addr(ctx.args["addr"])
    word = "blacklisting" if ctx.args["prefix"] == "osd blacklist" else "blocklisting"
    if op == "add":
        exp = ctx.get("expire")
        if exp is None or exp == 0:
            exp = float(ctx.state.opt("mon_osd_blocklist_default_expire"))
        until = ctx.now + float(exp)
        m.blocklist[addr] = until
        return Reply(outs=f"{word} {addr} until {utime_str(until)} ({float(exp):g} sec)",
                     changed={"osdmap"})  # fmt: skip
    if addr in m.blocklist:
        del m.blocklist[addr]
        return Reply(outs=f"un-{word} {addr}", changed={"osdmap"})
    return Reply(outs=f"{addr} isn't blocklisted")


@command("osd blocklist ls", "osd blacklist ls")
def osd_blocklist_ls(ctx: Ctx) -> Reply:
    bl = ctx.state.osdmap.blocklist
    data = [{"addr": a, "until": utime_str(t)} for a, t in bl.items()]
    plain = "".join(f"{a} {utime_str(t)}\n" for a, t in bl.items())
    return Reply(data=data, plain=plain, outs=f"listed {len(bl)} entries")


@command("osd blocklist clear", "osd blacklist clear")
def osd_blocklist_clear(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    had = bool(m.blocklist)
    m.blocklist.clear()
    return Reply(outs=" removed all blocklist entries", changed={"osdmap"} if had else set())


# ---------------------------------------------------------------- OSD lifecycle
# upstream OSDMonitor.cc ("osd rm", "osd destroy-actual|purge-actual|purge-new", "osd new")
# and OSDMonitor's prepare_command_osd_{new,destroy,purge,remove}. The mgr's `osd
# destroy|purge` check safe-to-destroy first and then send the `-actual` command.

#: what upstream's monitor says when destroy/purge lacks --yes-i-really-mean-it
NOT_SURE_DESTROY = (
    "Are you SURE?  Did you verify with 'ceph osd safe-to-destroy'?  This will mean real, "
    "permanent data loss, as well as deletion of cephx and lockbox keys. Pass "
    "--yes-i-really-mean-it if you really do."
)


@command("osd rm")
def osd_rm(ctx: Ctx) -> Reply:
    """Remove down OSDs from the map (their crush items stay, as upstream); an up one is
    refused with EBUSY, one that does not exist is noted; `any|all|*` means every OSD."""
    s = ctx.state
    m = s.pending_osdmap
    msgs: list[str] = []
    errs: list[int] = []
    removed: list[int] = []
    for osd, _ in _named_osds(m, ctx.get("ids", []), m.existing_osds(), msgs, errs):
        if osd in removed:
            continue
        if m.is_up(osd):
            msgs.append(", " if removed else "")
            msgs.append(f"osd.{osd} is still up; must be down before removal. ")
            errs.append(-errno.EBUSY)
            continue
        msgs.append(f", osd.{osd}" if removed else f"removed osd.{osd}")
        removed.append(osd)
    err = errs[-1] if errs else 0
    for osd in removed:
        s.remove_osd(osd)
    if removed:  # upstream replies success once anything was removed
        return Reply(outs="".join(msgs), changed={"osdmap"})
    return Reply(outs="".join(msgs), ret=err)


@command("osd destroy-actual", "osd purge-actual", "osd purge-new")
def osd_destroy_purge(ctx: Ctx) -> Reply:
    """Destroy (keep the id, mark it destroyed, drop its cephx key and config-keys) or
    purge (destroy, crush rm, osd rm) one down OSD; `purge-new` only an OSD never booted."""
    s = ctx.state
    m = s.pending_osdmap
    prefix = ctx.args["prefix"]
    osd = int(ctx.args["id"])
    if not ctx.get("yes_i_really_mean_it", False):
        raise CephError(errno.EPERM, NOT_SURE_DESTROY)
    if not s.osdmap.exists(osd) or not m.exists(osd):
        return Reply(outs=f"osd.{osd} does not exist")  # idempotent
    if s.osdmap.is_up(osd) or m.is_up(osd):
        raise CephError(errno.EBUSY, f"osd.{osd} is not `down`.")
    is_destroy = prefix == "osd destroy-actual"
    if is_destroy and m.osds[osd].destroyed:
        return Reply(outs=f"destroyed osd.{osd}")
    if prefix == "osd purge-new" and not s.osd_is_new(osd):
        raise CephError(errno.EPERM, f"osd.{osd} is not new")
    if is_destroy:
        s.destroy_osd(osd)
        return Reply(outs=f"destroyed osd.{osd}", changed={"osdmap", "auth", "config-key"})
    s.purge_osd(osd)
    return Reply(outs=f"purged osd.{osd}", changed={"osdmap", "auth", "config-key"})


def _osd_new_secret(inbuf: bytes) -> str | None:
    """`osd new -i FILE`: the JSON parameters; only `cephx_secret` is used (pyceph has no
    dm-crypt lockbox: `cephx_lockbox_secret`/`dmcrypt_key` are refused)."""
    if not inbuf.strip():
        return None
    try:
        params = json.loads(inbuf)
    except ValueError as e:
        raise CephError(errno.EINVAL, f"failed to parse json: {e}") from None
    if not isinstance(params, dict):
        raise CephError(errno.EINVAL, "json params must be an object")
    if "cephx_lockbox_secret" in params or "dmcrypt_key" in params:
        raise CephError(errno.EOPNOTSUPP, "pyceph has no dm-crypt lockbox")
    if params and "cephx_secret" not in params:
        raise CephError(errno.EINVAL, "requires a cephx secret.")
    secret = params.get("cephx_secret")
    return None if secret is None else str(secret)


@command("osd new")
def osd_new(ctx: Ctx) -> Reply:
    """Create an OSD for a uuid (upstream prepare_command_osd_new): idempotent for a
    uuid already known, an explicit `id` must be free or destroyed (then reused)."""
    s = ctx.state
    m = s.pending_osdmap
    uuid = str(ctx.args["uuid"]).lower()
    want = ctx.get("id")
    if want is not None and int(want) < 0:
        raise CephError(errno.EINVAL, "invalid OSD id; must be greater or equal than zero.")
    secret = _osd_new_secret(ctx.inbuf)
    known = next((i for i in m.existing_osds() if m.osds[i].uuid == uuid), None)

    def reply(i: int, changed: set[str]) -> Reply:
        return Reply(data={"osdid": i}, plain=f"{i}", changed=changed)

    if known is not None:
        if want is not None and int(want) != known:
            raise CephError(errno.EEXIST, f"uuid {uuid} already in use for different id {known}")
        have = s.get_auth(f"osd.{known}")
        if secret is not None and (have is None or have[0] != secret):
            raise CephError(errno.EEXIST, f"osd.{known} exists but secrets do not match")
        return reply(known, set())
    recreate = want is not None and m.exists(int(want)) and m.osds[int(want)].destroyed
    if want is not None and m.exists(int(want)) and not recreate:
        raise CephError(
            errno.EINVAL, f"id {int(want)} already in use and does not match uuid {uuid}"
        )
    if secret is not None:
        try:
            decode_secret(secret)
        except ValueError as e:
            raise CephError(errno.EINVAL, f"invalid cephx_secret: {e}") from None
    i = s.new_osd(uuid, None if want is None else int(want))
    changed = {"osdmap"}
    if secret is not None:
        s.auth_add(f"osd.{i}", secret, dict(OSD_NEW_CAPS))
        changed.add("auth")
    return reply(i, changed)


#: the caps `osd new` gives the OSD's cephx entity (upstream AuthMonitor::validate_osd_new)
OSD_NEW_CAPS = {"mgr": "allow profile osd", "mon": "allow profile osd", "osd": "allow *"}
