"""`status`, `health`, `df`, `fsid`, `version(s)`, `log`, `log last`: cluster-wide views."""

from __future__ import annotations

import errno
from typing import Any

from pyceph.common.errors import CephError
from pyceph.osdmap.pool import utime_str

from .. import format_plain as fp
from ..health import compute_checks, health_json, health_plain, pg_states
from . import Ctx, Reply, command


@command("fsid")
def fsid(ctx: Ctx) -> Reply:
    f = ctx.state.monmap["fsid"]
    return Reply(data={"fsid": f}, plain=f + "\n")


@command("health")
def health(ctx: Ctx) -> Reply:
    detail = ctx.get("detail") == "detail"
    checks = compute_checks(ctx.state, ctx.now)
    return Reply(data=health_json(checks, detail), plain=health_plain(checks, detail))


def _versions(ctx: Ctx) -> dict[str, Any]:
    from pyceph import VERSION_STRING

    s = ctx.state
    nmon = len(s.monmap.get("mons", []))
    nmgr = (1 if s.mgrmap.get("active_name") else 0) + len(s.mgrmap.get("standbys", []))
    nosd = s.osdmap.num_up_osds()
    out: dict[str, Any] = {}
    for kind, n in (("mon", nmon), ("mgr", nmgr), ("osd", nosd), ("mds", 0)):
        out[kind] = {VERSION_STRING: n} if n else {}
    total = nmon + nmgr + nosd
    out["overall"] = {VERSION_STRING: total} if total else {}
    return out


@command("versions")
def versions(ctx: Ctx) -> Reply:
    return Reply(data=_versions(ctx))


@command("version")
def version(ctx: Ctx) -> Reply:
    from pyceph import VERSION_STRING

    return Reply(data={"version": VERSION_STRING}, plain=VERSION_STRING + "\n")


@command("mon versions", "osd versions", "mgr versions")
def daemon_versions(ctx: Ctx) -> Reply:
    kind = ctx.args["prefix"].split()[0]
    return Reply(data=_versions(ctx)[kind])


def pgmap_summary(ctx: Ctx) -> dict[str, Any]:
    """The `pgmap` section of `status` from the mgr digest."""
    s = ctx.state
    d = s.mgr_digest or {}
    states = pg_states(s)
    by: dict[str, int] = {}
    for st in states.values():
        by[st] = by.get(st, 0) + 1
    pstats = d.get("pool_stats", {})
    used = sum(v.get("kb_used", 0) for v in d.get("osd_stats", {}).values()) * 1024
    avail = sum(v.get("kb_avail", 0) for v in d.get("osd_stats", {}).values()) * 1024
    total = sum(v.get("kb", 0) for v in d.get("osd_stats", {}).values()) * 1024
    out: dict[str, Any] = {
        "pgs_by_state": [
            {"state_name": k, "count": v} for k, v in sorted(by.items(), key=lambda kv: -kv[1])
        ],
        "num_pgs": len(states),
        "num_pools": len(s.osdmap.pools),
        "num_objects": sum(v.get("num_objects", 0) for v in pstats.values()),
        "data_bytes": sum(v.get("num_bytes", 0) for v in pstats.values()),
        "bytes_used": used,
        "bytes_avail": avail,
        "bytes_total": total,
    }
    n = len(states)
    unknown = by.get("unknown", 0)
    inactive = sum(c for st, c in by.items() if "active" not in st.split("+") and st != "unknown")
    if unknown and n:
        out["unknown_pgs_ratio"] = unknown / n
    if inactive and n:
        out["inactive_pgs_ratio"] = inactive / n
    pg = d.get("pg_stats", {})
    tot = sum(
        v.get("num_objects", 0) * s.osdmap.pools[int(k.split(".")[0])].size
        for k, v in pg.items()
        if int(k.split(".")[0]) in s.osdmap.pools
    )
    for kind in ("degraded", "misplaced"):
        n = sum(v.get(f"num_objects_{kind}", 0) for v in pg.values())
        if n:
            out[f"{kind}_objects"] = n
            out[f"{kind}_total"] = tot
            out[f"{kind}_ratio"] = n / tot if tot else 0.0
    for k in ("read_bytes_sec", "write_bytes_sec", "read_op_per_sec", "write_op_per_sec"):
        if k in d.get("io_rate", {}):
            out[k] = d["io_rate"][k]
    return out


def status_data(ctx: Ctx) -> dict[str, Any]:
    s = ctx.state
    mm = s.mgrmap
    mons = s.monmap.get("mons", [])
    checks = compute_checks(s, ctx.now)
    return {
        "fsid": s.monmap["fsid"],
        "health": health_json(checks, False),
        "election_epoch": 3,
        "quorum": [m["rank"] for m in mons],
        "quorum_names": [m["name"] for m in mons],
        "quorum_age": int(ctx.now - s.start_time) if s.start_time else 0,
        "monmap": {
            "epoch": s.monmap["epoch"],
            "min_mon_release_name": "pacific",
            "num_mons": len(mons),
        },
        "osdmap": s.osdmap.stat(),
        "pgmap": pgmap_summary(ctx),
        "fsmap": {"epoch": 1, "by_rank": [], "up:standby": 0},
        "mgrmap": {
            "available": bool(mm.get("available")),
            "num_standbys": len(mm.get("standbys", [])),
            "modules": list(mm.get("modules", [])),
            "services": dict(mm.get("services", {})),
        },
        "servicemap": {
            "epoch": s.service_map.get("epoch", 1),
            "modified": utime_str(s.service_map.get("modified", 0.0)),
            "services": dict(s.service_map.get("services", {})),
        },
        # upstream MgrStatMonitor: the events the mgr's modules reported with the digest
        "progress_events": dict((s.mgr_digest or {}).get("progress_events", {})),
    }


@command("status")
def status(ctx: Ctx) -> Reply:
    data = status_data(ctx)
    if ctx.is_json:
        return Reply(data=data)
    checks = compute_checks(ctx.state, ctx.now)
    return Reply(plain=fp.status(ctx.state, data, checks, ctx.now))


def df_data(ctx: Ctx, detail: bool) -> dict[str, Any]:
    s = ctx.state
    d = s.mgr_digest or {}
    osd_stats = {int(k): v for k, v in d.get("osd_stats", {}).items()}
    total = sum(v.get("kb", 0) for v in osd_stats.values()) * 1024
    used = sum(v.get("kb_used", 0) for v in osd_stats.values()) * 1024
    avail = sum(v.get("kb_avail", 0) for v in osd_stats.values()) * 1024
    ratio = used / total if total else 0.0
    stats = {
        "total_bytes": total,
        "total_avail_bytes": avail,
        "total_used_bytes": used,
        "total_used_raw_bytes": used,
        "total_used_raw_ratio": ratio,
        "num_osds": len(osd_stats),
        "num_per_pool_osds": len(osd_stats),
        "num_per_pool_omap_osds": len(osd_stats),
    }
    by_class: dict[str, dict[str, Any]] = {}
    for i, v in osd_stats.items():
        cls_ = s.osdmap.crush.get_item_class(i) if i in s.osdmap.crush.devices else None
        c = by_class.setdefault(cls_ or "hdd", {"t": 0, "a": 0, "u": 0})
        c["t"] += v.get("kb", 0) * 1024
        c["a"] += v.get("kb_avail", 0) * 1024
        c["u"] += v.get("kb_used", 0) * 1024
    stats_by_class = {
        k: {
            "total_bytes": c["t"],
            "total_avail_bytes": c["a"],
            "total_used_bytes": c["u"],
            "total_used_raw_bytes": c["u"],
            "total_used_raw_ratio": c["u"] / c["t"] if c["t"] else 0.0,
        }
        for k, c in sorted(by_class.items())
    }
    pools = []
    m = s.osdmap
    full = float(m.full_ratio)
    for pid, p in sorted(m.pools.items()):
        ps = d.get("pool_stats", {}).get(str(pid), {})
        stored = ps.get("stored", ps.get("num_bytes", 0))
        raw_used = stored * (p.size if not p.is_erasure() else 1)
        # max_avail: usable raw space of the OSDs the rule can use / replication
        raw_avail = sum(
            max(0, v.get("kb", 0) * full - v.get("kb_used", 0)) * 1024
            for i, v in osd_stats.items()
            if m.is_in(i)
        )
        copies = p.size if not p.is_erasure() else 1
        max_avail = int(raw_avail / copies) if copies else 0
        pct = raw_used / (raw_used + raw_avail) if (raw_used + raw_avail) else 0.0
        st: dict[str, Any] = {"stored": stored}
        if detail:
            st.update({"stored_data": stored, "stored_omap": 0})
        st["objects"] = ps.get("num_objects", 0)
        st["kb_used"] = (raw_used + 1023) // 1024
        st["bytes_used"] = raw_used
        if detail:
            st.update({"data_bytes_used": raw_used, "omap_bytes_used": 0})
        st["percent_used"] = pct
        st["max_avail"] = max_avail
        if detail:
            st.update(
                {
                    "quota_objects": p.quota_max_objects,
                    "quota_bytes": p.quota_max_bytes,
                    "dirty": 0,
                    "rd": ps.get("num_rd", 0),
                    "rd_bytes": ps.get("num_rd_kb", 0) * 1024,
                    "wr": ps.get("num_wr", 0),
                    "wr_bytes": ps.get("num_wr_kb", 0) * 1024,
                    "compress_bytes_used": 0,
                    "compress_under_bytes": 0,
                    "stored_raw": raw_used,
                    "avail_raw": int(raw_avail),
                }
            )
        pools.append({"name": p.pool_name, "id": pid, "stats": st})
    return {"stats": stats, "stats_by_class": stats_by_class, "pools": pools}


@command("df")
def df(ctx: Ctx) -> Reply:
    detail = ctx.get("detail") == "detail"
    data = df_data(ctx, detail)
    return Reply(data=data, plain=fp.df(ctx.state, data, detail))


@command("log")
def log(ctx: Ctx) -> Reply:
    text = " ".join(ctx.get("logtext", []))
    rank, _, addr = ctx.source.partition(" ")
    ctx.state.clog(ctx.now, "cluster", "INF", text, name=ctx.entity, rank=rank or None,
                   addr=addr or None)  # fmt: skip
    return Reply(changed={"log"})


_LEVELS = {"debug": 0, "info": 1, "sec": 2, "warn": 3, "error": 4}
_PRIO = {"[DBG]": 0, "[INF]": 1, "[SEC]": 2, "[WRN]": 3, "[ERR]": 4}


@command("log last")
def log_last(ctx: Ctx) -> Reply:
    num = int(ctx.get("num", 10))
    level = _LEVELS[ctx.get("level", "info")]
    channel = ctx.get("channel", "cluster")
    if num <= 0:
        raise CephError(errno.EINVAL, "num must be > 0")
    ents = [
        e
        for e in ctx.state.log
        if (channel == "*" or e["channel"] == channel) and _PRIO.get(e["priority"], 1) >= level
    ][-num:]
    data = [{**e, "stamp": utime_str(e["stamp"])} for e in ents]
    plain = "".join(
        f"{utime_str(e['stamp'])} {e['name']} ({e['rank']}) {e['seq']} : {e['channel']} "
        f"{e['priority']} {e['message']}\n"
        for e in ents
    )
    return Reply(data=data, plain=plain)
