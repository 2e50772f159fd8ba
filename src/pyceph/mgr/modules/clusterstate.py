"""`MgrModule.get(name)`: cluster state under upstream's 32 names.

Upstream's `ActivePyModules::get_python` (src/mgr/ActivePyModules.cc) answers from
the maps and the PGMap the mgr holds. pyceph computes the mgr-held names from the
daemon's own `PGMap`, OSDMap and `ServiceMap` (`LOCAL_KEYS`, run on the daemon's
loop so a module thread never sees them half-updated), and asks the monitor for
the names only the monitor holds (`MON_KEYS`, a command each, run from the
module's thread). Shapes are those of the matching `ceph ... -f json` commands.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from pyceph.common.options import OPTIONS
from pyceph.mgr.pg_adjust import recovery_ratios

__all__ = ["LOCAL_KEYS", "MON_KEYS", "ALL_KEYS", "MonKeyCache", "mon_value"]

#: names answered from the monitor: name -> the command (JSON answer) behind it
MON_KEYS: dict[str, dict[str, Any]] = {
    "mon_map": {"prefix": "mon dump", "format": "json"},
    "mgr_map": {"prefix": "mgr dump", "format": "json"},
    "fs_map": {"prefix": "fs dump", "format": "json"},
    "health": {"prefix": "health", "format": "json"},
    "mon_status": {"prefix": "mon_status", "format": "json"},
    "df": {"prefix": "df", "detail": "detail", "format": "json"},
    "osd_metadata": {"prefix": "osd metadata", "format": "json"},
    "modified_config_options": {"prefix": "config dump", "format": "json"},
}

#: an empty FSMap (no CephFS in pyceph): what `fs dump` shows on such a cluster
_EMPTY_FS_MAP = {
    "epoch": 1,
    "default_fscid": -1,
    "compat": {"compat": {}, "ro_compat": {}, "incompat": {}},
    "feature_flags": {"enable_multiple": True, "ever_enabled_multiple": True},
    "standbys": [],
    "filesystems": [],
}


def mon_value(name: str, r: int, out: bytes) -> Any:
    """Turn the monitor's answer for a MON_KEYS name into what `get()` returns."""
    if name == "fs_map" and r != 0:
        return dict(_EMPTY_FS_MAP)
    if r != 0:
        return None
    if name in ("health", "mon_status"):
        return {"json": out.decode()}  # upstream: JSON text the caller decodes again
    obj = json.loads(out or b"null")
    if name == "osd_metadata":
        return {str(d.get("id")): {k: v for k, v in d.items() if k != "id"} for d in obj or []}
    if name == "modified_config_options":
        return {"options": sorted({str(e.get("name")) for e in obj or []})}
    return obj


def _pg_summary(d: Any) -> dict[str, Any]:
    by_osd: dict[str, Counter[str]] = {}
    by_pool: dict[str, Counter[str]] = {}
    total: Counter[str] = Counter()
    for pgid, st in d.pgmap.pgs():
        state = st["state"]
        total[state] += 1
        by_pool.setdefault(pgid.split(".", 1)[0], Counter())[state] += 1
        for osd in st.get("acting", []):
            by_osd.setdefault(str(osd), Counter())[state] += 1
    summ = d.pgmap.pg_dump("summary")["pg_map"]
    return {
        "by_osd": {k: dict(v) for k, v in by_osd.items()},
        "by_pool": {k: dict(v) for k, v in by_pool.items()},
        "all": dict(total),
        "pg_stats_sum": summ["pg_stats_sum"],
    }


def _pgs_by_pool(d: Any) -> dict[str, Counter[str]]:
    by_pool: dict[str, Counter[str]] = {}
    for pgid, st in d.pgmap.pgs():
        by_pool.setdefault(pgid.split(".", 1)[0], Counter())[st["state"]] += 1
    return by_pool


def _pg_status(d: Any) -> dict[str, Any]:
    s = d.pgmap.pg_stat()["pg_summary"]
    om = d.monc.osdmap if d.monc is not None else None
    out: dict[str, Any] = {
        "pgs_by_state": [
            {"state_name": e["name"], "count": e["num"]} for e in s["num_pg_by_state"]
        ],
        # per pool, as upstream's PGMap::print_summary (the balancer counts active+clean)
        "pgs_by_pool_state": [
            {
                "pool_id": int(pool),
                "pg_state_counts": [
                    {"state_name": st, "count": n} for st, n in sorted(counts.items())
                ],
            }
            for pool, counts in sorted(_pgs_by_pool(d).items(), key=lambda kv: int(kv[0]))
        ],
        "num_pgs": s["num_pgs"],
        "num_pools": len(getattr(om, "pools", {}) or {}),
        "num_objects": sum(int(p.get("num_objects", 0)) for p in d.pgmap.pool_sums().values()),
        "data_bytes": s["num_bytes"],
        "bytes_used": s["total_used_bytes"],
        "bytes_avail": s["total_avail_bytes"],
        "bytes_total": s["total_bytes"],
    }
    # upstream dumps each ratio only when it is not zero (the balancer waits on them)
    ratios = recovery_ratios([st for _pgid, st in d.pgmap.pgs()])
    for key, value in (("unknown_pgs_ratio", ratios.unknown), ("inactive_pgs_ratio", ratios.inactive),
                       ("degraded_ratio", ratios.degraded), ("misplaced_ratio", ratios.misplaced)):  # fmt: skip
        if value:
            out[key] = value
    return out


def _osdmap(d: Any) -> Any:
    return d.monc.osdmap if d.monc is not None else None


def _config(d: Any) -> dict[str, str]:
    show = getattr(d.config, "show", None)
    if callable(show):
        return {str(k): str(v) for k, v in show().items()}
    return {}


def _io_rate(d: Any) -> dict[str, Any]:
    """PGMap::dump_delta: the client I/O of the last interval, here per one second."""
    delta = dict(d.pgmap.pg_dump("delta")["delta"]["pg_stats_delta"])
    rates = [p.get("client_io_rate", {}) for p in d.pgmap.pool_stats(None)]
    ss = dict(delta["stat_sum"])
    ss["num_read_kb"] = sum(int(r.get("read_bytes_sec", 0)) for r in rates) // 1024
    ss["num_write_kb"] = sum(int(r.get("write_bytes_sec", 0)) for r in rates) // 1024
    ss["num_read"] = sum(int(r.get("read_op_per_sec", 0)) for r in rates)
    ss["num_write"] = sum(int(r.get("write_op_per_sec", 0)) for r in rates)
    delta["stat_sum"] = ss
    delta["stamp_delta"] = "1.000000"
    return {"pg_stats_delta": delta}


def _active_clean(d: Any) -> dict[str, Any]:
    pgs = d.pgmap.pgs()
    sel = [
        {"pgid": p, "state": s["state"], "reported_epoch": s.get("reported_epoch", 0)}
        for p, s in pgs
        if {"active", "clean"} <= set(s["state"].split("+"))
    ]
    return {"pg_stats": sel, "total_num_pgs": len(pgs)}


def _pg_progress(d: Any) -> dict[str, Any]:
    """Upstream PGMap::dump_pg_progress + DaemonServer::dump_pg_ready (the progress module
    follows its recovery events' PGs through these)."""
    pgs = {
        p: {
            "num_bytes_recovered": int(s.get("num_bytes_recovered", 0)),
            "num_bytes": int(s.get("num_bytes", 0)),
            "reported_epoch": int(s.get("reported_epoch", 0)),
            "state": s["state"],
        }
        for p, s in d.pgmap.pgs()
    }
    return {"pgs": pgs, "pg_ready": True}


#: names answered from the mgr's own state; each takes the MgrDaemon
LOCAL_KEYS: dict[str, Callable[[Any], Any]] = {
    "osd_map": lambda d: _osdmap(d).dump(),
    "osd_map_tree": lambda d: _osdmap(d).tree(),
    "osd_map_crush": lambda d: _osdmap(d).crush.dump(),
    "osdmap_crush_map_text": lambda d: (
        _osdmap(d).crush.encode().decode("latin-1") if hasattr(_osdmap(d).crush, "encode") else ""
    ),
    "config": _config,
    "config_options": lambda d: {"options": [o.schema() for o in OPTIONS.values()]},
    "service_map": lambda d: d.service_map.dump(),
    "mds_metadata": lambda d: {},
    "pg_summary": _pg_summary,
    "pg_status": _pg_status,
    "pg_dump": lambda d: d.pgmap.pg_dump("all")["pg_map"],
    "devices": lambda d: {"devices": []},
    "io_rate": _io_rate,
    "pg_stats": lambda d: {"pg_stats": d.pgmap.pg_dump("pgs")["pg_stats"]},
    "pool_stats": lambda d: {"pool_stats": d.pgmap.pg_dump("pools")["pool_stats"]},
    "pg_ready": lambda d: {"pg_ready": True},
    "pg_progress": _pg_progress,
    "osd_stats": lambda d: {
        "osd_stats": d.pgmap.pg_dump("osds")["osd_stats"],
        "osd_stats_sum": d.pgmap.pg_dump("summary")["pg_map"]["osd_stats_sum"],
    },
    "osd_ping_times": lambda d: {"osd_ping_times": []},
    "osd_pool_stats": lambda d: {"pool_stats": d.pgmap.pool_stats(None)},
    "mgr_ips": lambda d: {"ips": [d.addr[0]] if getattr(d, "addr", None) else []},
    "have_local_config_map": lambda d: {"have_local_config_map": True},
    "active_clean_pgs": _active_clean,
}

#: every name `get()` knows, plus the `device <id>` form
ALL_KEYS = frozenset(LOCAL_KEYS) | frozenset(MON_KEYS)


#: Seconds a MON_KEYS answer is reused. Upstream's mgr holds health and mon status from
#: the monitor's digest (every `mon_mgr_digest_period`) and the maps from subscriptions,
#: so modules read them without a round trip; a page polled by many clients costs one.
MON_KEY_TTL = 1.0
#: The MON_KEYS names answered from that cache; the others (the MgrMap, the config
#: database) are read fresh, as a module changing them expects to see its change.
CACHED_MON_KEYS = frozenset({"health", "mon_status", "df", "fs_map", "mon_map", "osd_metadata"})


class MonKeyCache:
    """`get()` of CACHED_MON_KEYS names for every module thread: at most one monitor
    round trip per name in flight, its answer reused for MON_KEY_TTL seconds."""

    def __init__(
        self, fetch: Callable[[str], Any], monotonic: Callable[[], float], ttl: float = MON_KEY_TTL
    ) -> None:
        self._fetch = fetch
        self._monotonic = monotonic
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Any]] = {}
        self._locks = {name: threading.Lock() for name in CACHED_MON_KEYS}

    def get(self, name: str) -> Any:
        if name not in CACHED_MON_KEYS:
            return self._fetch(name)
        with self._locks[name]:  # callers of one name share one fetch
            hit = self._entries.get(name)
            if hit is None or self._monotonic() - hit[0] >= self._ttl:
                value = self._fetch(name)
                if value is None:  # a failed command is not kept
                    return None
                hit = (self._monotonic(), value)
                self._entries[name] = hit
        return copy.deepcopy(hit[1])  # each caller may change its copy, as a fresh answer
