"""Cluster health checks with upstream's codes, summaries and details.

Computed on demand from the committed OSDMap, the mgr digest and the MgrMap;
`health_json`/`health_plain` render `ceph health [detail]` like Ceph 16.2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyceph.osdmap.osdmap import FLAG_STRING_ORDER

if TYPE_CHECKING:
    from .state import MonState

WARN = "HEALTH_WARN"
ERR = "HEALTH_ERR"
OK = "HEALTH_OK"

_OSDMAP_WARN_FLAGS = {
    "pauserd", "pausewr", "pauserec", "noup", "nodown", "noin", "noout", "nobackfill",
    "norecover", "noscrub", "nodeep-scrub", "notieragent", "nosnaptrim", "norebalance",
}  # fmt: skip


def _add(checks: dict, code: str, sev: str, msg: str, count: int, detail: list[str]) -> None:
    checks[code] = {
        "severity": sev,
        "summary": {"message": msg, "count": count},
        "detail": [{"message": d} for d in detail],
        "muted": False,
    }


def compute_checks(state: MonState, now: float) -> dict[str, dict[str, Any]]:
    """All failing checks, keyed by code, in upstream's (sorted) order."""
    m = state.osdmap
    checks: dict[str, dict[str, Any]] = {}
    digest = state.mgr_digest or {}

    # MGR_DOWN
    mm = state.mgrmap
    if not mm.get("available") and now - state.monmap.get("created", now) > float(
        state.opt("mon_mgr_mkfs_grace")
    ):
        _add(checks, "MGR_DOWN", WARN, "no active mgr", 1, [])

    # OSD_DOWN / OSD_HOST_DOWN
    down = [i for i in m.existing_osds() if not m.osds[i].up]
    if down:
        detail = []
        for i in down:
            loc = m.crush.get_location(i) if i in m.crush.devices else {}
            loc_s = ",".join(f"{k}={v}" for k, v in sorted(loc.items(), key=_loc_order(m)))
            detail.append(f"osd.{i} ({loc_s}) is down" if loc_s else f"osd.{i} is down")
        _add(checks, "OSD_DOWN", WARN, f"{len(down)} osds down", len(down), detail)
        hosts: dict[str, list[int]] = {}
        for i in m.existing_osds():
            h = m.crush.get_location(i).get("host") if i in m.crush.devices else None
            if h:
                hosts.setdefault(h, []).append(i)
        dh = [(h, o) for h, o in sorted(hosts.items()) if all(not m.osds[i].up for i in o)]
        if dh:
            n = sum(len(o) for _, o in dh)
            _add(checks, "OSD_HOST_DOWN", WARN, f"{len(dh)} host ({n} osds) down", len(dh),
                 [f"host {h} (root=default) ({len(o)} osds) is down" for h, o in dh])  # fmt: skip

    # OSDMAP_FLAGS
    fl = ",".join(n for b, n in FLAG_STRING_ORDER if m.flags & b and n in _OSDMAP_WARN_FLAGS)
    if fl:
        _add(checks, "OSDMAP_FLAGS", WARN, f"{fl} flag(s) set", len(fl), [])

    # OSD_FULL / OSD_BACKFILLFULL / OSD_NEARFULL
    full, bfull, nfull = [], [], []
    for k, st in sorted(digest.get("osd_stats", {}).items(), key=lambda kv: int(kv[0])):
        kb = st.get("kb", 0)
        if not kb or not m.exists(int(k)):
            continue
        r = st.get("kb_used", 0) / kb
        if r >= m.full_ratio:
            full.append(int(k))
        elif r >= m.backfillfull_ratio:
            bfull.append(int(k))
        elif r >= m.nearfull_ratio:
            nfull.append(int(k))
    if full:
        _add(checks, "OSD_FULL", ERR, f"{len(full)} full osd(s)", len(full),
             [f"osd.{i} is full" for i in full])  # fmt: skip
    if bfull:
        _add(checks, "OSD_BACKFILLFULL", WARN, f"{len(bfull)} backfillfull osd(s)", len(bfull),
             [f"osd.{i} is backfill full" for i in bfull])  # fmt: skip
    if nfull:
        _add(checks, "OSD_NEARFULL", WARN, f"{len(nfull)} nearfull osd(s)", len(nfull),
             [f"osd.{i} is near full" for i in nfull])  # fmt: skip

    # TOO_FEW_OSDS
    want = int(state.opt("osd_pool_default_size"))
    if m.num_osds() < want:
        _add(checks, "TOO_FEW_OSDS", WARN,
             f"OSD count {m.num_osds()} < osd_pool_default_size {want}", 1, [])  # fmt: skip

    # POOL_FULL
    from pyceph.osdmap.pool import FLAG_FULL, FLAG_FULL_QUOTA

    pf = [p for _, p in sorted(m.pools.items()) if p.flags & FLAG_FULL]
    if pf:
        det = [
            f"pool '{p.pool_name}' is full ("
            + ("running out of quota" if p.flags & FLAG_FULL_QUOTA else "no space")
            + ")"
            for p in pf
        ]
        _add(checks, "POOL_FULL", WARN, f"{len(pf)} pool(s) full", len(pf), det)

    # PG_AVAILABILITY / PG_DEGRADED
    _pg_checks(state, checks)

    # POOL_APP_NOT_ENABLED
    pstats = digest.get("pool_stats", {})
    noapp = [
        p for _, p in sorted(m.pools.items())
        if not p.application_metadata and pstats.get(str(p.pool_id), {}).get("num_objects", 0) > 0
    ]  # fmt: skip
    if noapp:
        det = [f"application not enabled on pool '{p.pool_name}'" for p in noapp]
        det.append(
            "use 'ceph osd pool application enable <pool-name> <app-name>', where <app-name> "
            "is 'cephfs', 'rbd', 'rgw', or freeform for custom applications."
        )
        _add(checks, "POOL_APP_NOT_ENABLED", WARN,
             f"{len(noapp)} pool(s) do not have an application enabled", len(noapp), det)  # fmt: skip

    # POOL_NO_REDUNDANCY
    if bool(state.opt("mon_warn_on_pool_no_redundancy")):
        nr = [p for _, p in sorted(m.pools.items()) if p.size == 1]
        if nr:
            _add(checks, "POOL_NO_REDUNDANCY", WARN,
                 f"{len(nr)} pool(s) have no replicas configured", len(nr),
                 [f"pool '{p.pool_name}' has no replicas configured" for p in nr])  # fmt: skip

    # AUTH_INSECURE_GLOBAL_ID_RECLAIM[_ALLOWED]: from the monitor's sessions and options
    if state.auth_health is not None:
        checks.update(state.auth_health())

    # what the active mgr's modules report (set_health_checks, MGR_MODULE_ERROR)
    if mm.get("available"):
        for code, c in dict(digest.get("health_checks") or {}).items():
            checks.setdefault(str(code), dict(c))
    return dict(sorted(checks.items()))


def _loc_order(m: Any) -> Any:
    def key(kv: tuple[str, str]) -> int:
        try:
            return -m.crush.type_id(kv[0])
        except Exception:
            return 0

    return key


def pg_states(state: MonState) -> dict[str, str]:
    """pgid -> state for every PG of every pool; PGs the mgr has not reported are unknown."""
    stats = (state.mgr_digest or {}).get("pg_stats", {})
    out: dict[str, str] = {}
    for pid, pool in sorted(state.osdmap.pools.items()):
        for ps in range(pool.pg_num):
            pgid = f"{pid}.{ps:x}"
            out[pgid] = stats.get(pgid, {}).get("state", "unknown")
    return out


def _pg_checks(state: MonState, checks: dict) -> None:
    stats = (state.mgr_digest or {}).get("pg_stats", {})
    states = pg_states(state)
    inactive = [p for p, s in states.items() if "active" not in s.split("+")]
    if inactive:
        parts = [f"{len(inactive)} pgs inactive"]
        down = [p for p in inactive if "down" in states[p].split("+")]
        if down:
            parts.append(f"{len(down)} pgs down")
        det = []
        for p in inactive[:50]:
            acting = stats.get(p, {}).get("acting", [])
            det.append(f"pg {p} is {states[p]}, acting {_list(acting)}")
        _add(checks, "PG_AVAILABILITY", WARN,
             "Reduced data availability: " + ", ".join(parts), len(inactive), det)  # fmt: skip
    degraded_objs = sum(s.get("num_objects_degraded", 0) for s in stats.values())
    total_objs = sum(s.get("num_objects", 0) for s in stats.values())
    size_of = {pid: p.size for pid, p in state.osdmap.pools.items()}
    copies = sum(
        s.get("num_objects", 0) * size_of.get(int(pg.split(".")[0]), 1) for pg, s in stats.items()
    )
    dpgs = [p for p, s in states.items() if "degraded" in s.split("+")]
    upgs = [p for p, s in states.items() if "undersized" in s.split("+")]
    if degraded_objs or dpgs or upgs:
        parts = []
        if degraded_objs:
            pct = 100.0 * degraded_objs / max(copies, total_objs, 1)
            parts.append(f"{degraded_objs}/{max(copies, total_objs)} objects degraded ({pct:.3f}%)")
        if dpgs:
            parts.append(f"{len(dpgs)} pgs degraded")
        if upgs:
            parts.append(f"{len(upgs)} pgs undersized")
        det = [f"pg {p} is {states[p]}" for p in sorted(set(dpgs) | set(upgs))[:50]]
        _add(checks, "PG_DEGRADED", WARN, "Degraded data redundancy: " + ", ".join(parts),
             len(set(dpgs) | set(upgs)), det)  # fmt: skip
    # OBJECT_MISPLACED (upstream PGMap::get_health_checks: a summary, no detail)
    misplaced = sum(int(s.get("num_objects_misplaced", 0)) for s in stats.values())
    if misplaced and copies:
        _add(checks, "OBJECT_MISPLACED", WARN,
             f"{misplaced}/{copies} objects misplaced ({100.0 * misplaced / copies:.3f}%)",
             0, [])  # fmt: skip
    _scrub_checks(stats, states, checks)


def _scrub_checks(stats: dict[str, Any], states: dict[str, str], checks: dict) -> None:
    """OSD_SCRUB_ERRORS and PG_DAMAGED (upstream PGMap::get_health_checks)."""
    errors = sum(int(s.get("num_scrub_errors", 0)) for s in stats.values())
    if errors:
        _add(checks, "OSD_SCRUB_ERRORS", ERR, f"{errors} scrub errors", errors, [])
    damaged: dict[str, list[str]] = {}
    for p, st in states.items():
        flags = st.split("+")
        for flag in ("inconsistent", "recovery_unfound", "backfill_unfound", "repair"):
            if flag in flags:
                damaged.setdefault(flag, []).append(p)
    if damaged:
        parts = [f"{len(v)} pg{'s' if len(v) != 1 else ''} {k}" for k, v in damaged.items()]
        pgs = sorted({p for v in damaged.values() for p in v}, key=_pg_order)
        det = [
            f"pg {p} is {states[p]}, acting {_list(stats.get(p, {}).get('acting', []))}"
            for p in pgs[:50]
        ]
        _add(checks, "PG_DAMAGED", ERR, "Possible data damage: " + ", ".join(parts),
             len(pgs), det)  # fmt: skip


def _pg_order(pgid: str) -> tuple[int, int]:
    pool, _, ps = pgid.partition(".")
    return int(pool), int(ps, 16)


def _list(v: list[int]) -> str:
    return "[" + ",".join(str(x) for x in v) + "]"


def overall(checks: dict[str, dict[str, Any]]) -> str:
    if any(c["severity"] == ERR for c in checks.values()):
        return ERR
    return WARN if checks else OK


def health_json(checks: dict[str, dict[str, Any]], detail: bool) -> dict[str, Any]:
    """`ceph health [detail] -f json` (also the `health` section of `status`)."""
    out = {}
    for code, c in checks.items():
        d = {"severity": c["severity"], "summary": dict(c["summary"])}
        if detail:
            d["detail"] = list(c["detail"])
        d["muted"] = c["muted"]
        out[code] = d
    return {"status": overall(checks), "checks": out, "mutes": []}


def health_plain(checks: dict[str, dict[str, Any]], detail: bool) -> str:
    """`ceph health [detail]` text."""
    status = overall(checks)
    if not checks:
        return status + "\n"
    head = status + " " + "; ".join(c["summary"]["message"] for c in checks.values())
    if not detail:
        return head + "\n"
    lines = [head]
    for code, c in checks.items():
        tag = "[ERR]" if c["severity"] == ERR else "[WRN]"
        lines.append(f"{tag} {code}: {c['summary']['message']}")
        lines.extend("    " + d["message"] for d in c["detail"])
    return "\n".join(lines) + "\n"
