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
    _pg_checks(state, checks, now)

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


#: How each PG state flag counts in health, in upstream's PG_STATE bit order (the order
#: of the summary's parts; a PG's detail line is made by the last flag that counts it):
#: (flag, check code, the `last_*` stamp it must be stuck past or None, inverted).
#: Upstream PGMap::get_health_checks `state_to_response`.
_PG_RESPONSES: tuple[tuple[str, str, str | None, bool], ...] = (
    ("active", "PG_AVAILABILITY", "last_active", True),
    ("down", "PG_AVAILABILITY", None, False),
    ("recovery_unfound", "PG_DAMAGED", None, False),
    ("backfill_unfound", "PG_DAMAGED", None, False),
    ("degraded", "PG_DEGRADED", None, False),
    ("inconsistent", "PG_DAMAGED", None, False),
    ("peering", "PG_AVAILABILITY", "last_peered", False),
    ("incomplete", "PG_AVAILABILITY", None, False),
    ("stale", "PG_AVAILABILITY", "last_unstale", False),
    ("backfill_toofull", "PG_DEGRADED_FULL", None, False),
    ("undersized", "PG_DEGRADED", "last_fullsized", False),
    ("recovery_toofull", "PG_DEGRADED_FULL", None, False),
    ("snaptrim_error", "PG_DAMAGED", None, False),
)
_PG_CHECKS = {
    "PG_AVAILABILITY": (WARN, "Reduced data availability: "),
    "PG_DEGRADED": (WARN, "Degraded data redundancy: "),
    "PG_DEGRADED_FULL": (ERR, "Degraded data redundancy (low space): "),
    "PG_DAMAGED": (ERR, "Possible data damage: "),
}


def _pg_checks(state: MonState, checks: dict, now: float) -> None:
    """PG_AVAILABILITY, PG_DEGRADED, PG_DEGRADED_FULL, PG_DAMAGED from the PGs' states:
    every flag of `_PG_RESPONSES` a PG has (or, inverted, lacks) counts it, the delayed ones
    only once stuck for `mon_pg_stuck_threshold`; then OBJECT_MISPLACED (only with
    `mon_warn_on_misplaced`, off by default as upstream) and OSD_SCRUB_ERRORS."""
    from .format_plain import timespan  # format_plain imports this module

    stats = (state.mgr_digest or {}).get("pg_stats", {})
    states = pg_states(state)
    cutoff = now - float(state.opt("mon_pg_stuck_threshold"))
    max_detail = int(state.opt("mon_health_max_detail"))
    counts: dict[str, dict[str, int]] = {}
    pgs: dict[str, set[str]] = {}
    lines: dict[str, dict[str, str]] = {}
    for pgid in sorted(states, key=_pg_order):
        flags = set(states[pgid].split("+"))
        st = stats.get(pgid, {})
        acting = _list(st.get("acting", []))
        for flag, code, stamp, inverted in _PG_RESPONSES:
            if (flag in flags) == inverted:
                continue
            since = None
            if stamp is not None:
                since = float(st.get(stamp, now))  # an unreported PG counts from now
                if since >= cutoff:
                    continue
            counts.setdefault(code, {})
            counts[code][flag] = counts[code].get(flag, 0) + 1
            pgs.setdefault(code, set()).add(pgid)
            msgs = lines.setdefault(code, {})
            if len(msgs) > max_detail:
                continue
            if since is not None:
                name = "inactive" if flag == "active" else flag
                dur = "since forever" if since <= 0 else f"for {timespan(now - since)}"
                msgs[pgid] = (
                    f"pg {pgid} is stuck {name} {dur}, current state {states[pgid]}, "
                    f"last acting {acting}"
                )
            else:
                msgs[pgid] = f"pg {pgid} is {states[pgid]}, acting {acting}"
                unfound = int(st.get("num_objects_unfound", 0))
                if unfound:
                    msgs[pgid] += f", {unfound} unfound"
    for code in sorted(counts):
        sev, summary = _PG_CHECKS[code]
        if code == "PG_DEGRADED":
            degraded = sum(int(s.get("num_objects_degraded", 0)) for s in stats.values())
            copies = _object_copies(state, stats)
            if degraded and copies > 0:
                summary += (
                    f"{degraded}/{copies} objects degraded ({100.0 * degraded / copies:.3f}%), "
                )
        summary += ", ".join(
            f"{n} {'pgs' if n > 1 else 'pg'} {'inactive' if f == 'active' else f}"
            for f, n in counts[code].items()
        )
        det = [lines[code][p] for p in sorted(lines[code], key=_pg_order)]
        _add(checks, code, sev, summary, len(pgs[code]), det)
    misplaced = sum(int(s.get("num_objects_misplaced", 0)) for s in stats.values())
    copies = _object_copies(state, stats)
    if misplaced and copies > 0 and bool(state.opt("mon_warn_on_misplaced")):
        _add(checks, "OBJECT_MISPLACED", WARN,
             f"{misplaced}/{copies} objects misplaced ({100.0 * misplaced / copies:.3f}%)",
             misplaced, [])  # fmt: skip
    errors = sum(int(s.get("num_scrub_errors", 0)) for s in stats.values())
    if errors:
        _add(checks, "OSD_SCRUB_ERRORS", ERR, f"{errors} scrub errors", errors, [])


def _object_copies(state: MonState, stats: dict[str, Any]) -> int:
    """The cluster's object copies: what the OSDs report, else objects x pool size."""
    copies = sum(int(s.get("num_object_copies", 0)) for s in stats.values())
    if copies:
        return copies
    size_of = {pid: p.size for pid, p in state.osdmap.pools.items()}
    return sum(
        int(s.get("num_objects", 0)) * size_of.get(int(pg.split(".")[0]), 1)
        for pg, s in stats.items()
    )


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
