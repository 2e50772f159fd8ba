"""The manager's PGMap: sans-I/O aggregation of the statistics OSDs report.

Feed it OSD reports and OSDMaps; read `pg stat`, `pg dump`, `osd df`, `osd pool
stats`, the pools part of `ceph df`, and the digest the mgr pushes to the monitor
(used there for `status`, `df` and health). Keys follow upstream's PGMap dumps.

OSD report (sent by every OSD to the mgr, `apply_osd_report(osd_id, report, now)`)::

    {"osd_stat": {"kb", "kb_used", "kb_avail", "kb_used_data", "kb_used_omap",
                  "kb_used_meta", "num_pgs"},            # whole-OSD statfs in KiB
     "pg_stats": {"<pool>.<seed hex>": {                  # only PGs it is primary of
         "state": "active+clean", "reported_epoch": int, "reported_seq": int,
         "version": [epoch, v], "log_size": int,
         "num_objects", "num_bytes", "num_object_clones", "num_object_copies",
         "num_objects_missing_on_primary", "num_objects_degraded",
         "num_objects_misplaced", "num_objects_unfound", "num_rd", "num_rd_kb",
         "num_wr", "num_wr_kb", "num_omap_bytes", "num_omap_keys": int,
         "up": [osd...], "acting": [osd...], "up_primary": int, "acting_primary": int,
         "last_scrub": [e, v], "last_scrub_stamp": float, "last_deep_scrub": [e, v],
         "last_deep_scrub_stamp": float, "num_scrub_errors", "num_shallow_scrub_errors",
         "num_deep_scrub_errors": int, "last_change": float, "stamp": float}}}

The state carries scrub's flags (``+scrubbing[+deep]``, ``+inconsistent``, ``+repair``);
the monitor's health checks `OSD_SCRUB_ERRORS`/`PG_DAMAGED` read them from the digest.

Missing numeric fields count as 0. A PG of an existing pool without a report is
``unknown``; a PG whose reporting primary is down in the OSDMap, or has not
reported for `stale_timeout` seconds (``PG_STALE_TIMEOUT``), is shown ``stale+...``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from pyceph.common.output import TextTable, byte_u

__all__ = ["OSD_STAT_FIELDS", "PG_STALE_TIMEOUT", "PG_STAT_FIELDS", "PGMap", "utime_str"]

#: The per-PG times the stuck health checks compare with `mon_pg_stuck_threshold`.
LAST_KEYS = ("last_active", "last_peered", "last_fullsized", "last_unstale")
PG_STALE_TIMEOUT = 60.0  # seconds without a report from a PG's primary
DEFAULT_FULL_RATIO = 0.95  # mon_osd_full_ratio

PG_STAT_FIELDS = (
    "num_objects",
    "num_bytes",
    "num_object_clones",
    "num_object_copies",
    "num_objects_missing_on_primary",
    "num_objects_degraded",
    "num_objects_misplaced",
    "num_objects_unfound",
    "num_rd",
    "num_rd_kb",
    "num_wr",
    "num_wr_kb",
    "num_omap_bytes",
    "num_omap_keys",
    "num_scrub_errors",
    "num_shallow_scrub_errors",
    "num_deep_scrub_errors",
    "log_size",
)
OSD_STAT_FIELDS = (
    "kb",
    "kb_used",
    "kb_avail",
    "kb_used_data",
    "kb_used_omap",
    "kb_used_meta",
    "num_pgs",
    "commit_latency_ns",  # objectstore_perf_stat_t (the OSD's mean store commit)
    "apply_latency_ns",
)

# upstream object_stat_sum_t keys, in dump order; ours map onto a few of them
_STAT_SUM_KEYS = [
    "num_bytes",
    "num_objects",
    "num_object_clones",
    "num_object_copies",
    "num_objects_missing_on_primary",
    "num_objects_missing",
    "num_objects_degraded",
    "num_objects_misplaced",
    "num_objects_unfound",
    "num_objects_dirty",
    "num_whiteouts",
    "num_read",
    "num_read_kb",
    "num_write",
    "num_write_kb",
    "num_scrub_errors",
    "num_shallow_scrub_errors",
    "num_deep_scrub_errors",
    "num_objects_recovered",
    "num_bytes_recovered",
    "num_keys_recovered",
    "num_objects_omap",
    "num_objects_hit_set_archive",
    "num_bytes_hit_set_archive",
    "num_flush",
    "num_flush_kb",
    "num_evict",
    "num_evict_kb",
    "num_promote",
    "num_flush_mode_high",
    "num_flush_mode_low",
    "num_evict_mode_some",
    "num_evict_mode_full",
    "num_objects_pinned",
    "num_legacy_snapsets",
    "num_large_omap_objects",
    "num_objects_manifest",
    "num_omap_bytes",
    "num_omap_keys",
    "num_objects_repaired",
]
_OURS_TO_UPSTREAM = {
    "num_rd": "num_read",
    "num_rd_kb": "num_read_kb",
    "num_wr": "num_write",
    "num_wr_kb": "num_write_kb",
}


def capacity_known(osd_stats: dict[str, dict[str, Any]], num_osds: int) -> bool:
    """Whether `num_osds` OSDs have reported a capacity (their `kb`) in these stats."""
    return sum(1 for st in osd_stats.values() if int(st.get("kb", 0)) > 0) >= num_osds


def utime_str(t: float) -> str:
    """Ceph's utime_t text: ``2024-01-02T03:04:05.123456+0000`` (UTC)."""
    secs = int(t)
    usec = int(round((t - secs) * 1e6))
    if usec >= 1000000:
        secs, usec = secs + 1, usec - 1000000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{usec:06d}+0000"


def _ev(v: Any) -> str:
    if isinstance(v, list | tuple) and len(v) == 2:
        return f"{int(v[0])}'{int(v[1])}"
    return "0'0"


def _stat_sum(s: dict[str, Any]) -> dict[str, int]:
    out = dict.fromkeys(_STAT_SUM_KEYS, 0)
    for k in PG_STAT_FIELDS:
        if k == "log_size":
            continue
        out[_OURS_TO_UPSTREAM.get(k, k)] = int(s.get(k, 0))
    return out


def _pool_attr(pool: Any, name: str, default: Any = None) -> Any:
    if isinstance(pool, dict):
        return pool.get(name, default)
    return getattr(pool, name, default)


class PGMap:
    """Aggregated PG and OSD statistics (see the module docstring for inputs)."""

    def __init__(
        self, stale_timeout: float = PG_STALE_TIMEOUT, full_ratio: float = DEFAULT_FULL_RATIO
    ) -> None:
        self.stale_timeout = stale_timeout
        self.full_ratio = full_ratio
        self.version = 0
        self.stamp = 0.0
        self.now = 0.0
        self.osdmap: Any = None
        self.osdmap_epoch = 0
        self.osd_stats: dict[int, dict[str, int]] = {}
        self.osd_report_stamp: dict[int, float] = {}
        self.pg_stats: dict[str, dict[str, Any]] = {}
        self.pg_reporter: dict[str, tuple[int, float]] = {}
        self._rate_prev: dict[int, tuple[float, dict[str, int]]] = {}
        self._rate: dict[int, dict[str, float]] = {}
        #: pgid -> {"last_active", "last_peered", "last_fullsized", "last_unstale"}: when
        #: the PG was last seen in that condition (what upstream's stuck checks compare)
        self.pg_last: dict[str, dict[str, float]] = {}

    # ------------------------------------------------------------------ inputs
    def apply_osd_report(self, osd_id: int, report: dict[str, Any], now: float) -> None:
        """Take one OSD's report (its statfs and the PGs it is primary of)."""
        st = report.get("osd_stat", {}) or {}
        self.osd_stats[osd_id] = {k: int(st.get(k, 0)) for k in OSD_STAT_FIELDS}
        self.osd_report_stamp[osd_id] = now
        for pgid, ps in (report.get("pg_stats", {}) or {}).items():
            if not self._pg_exists(pgid):
                continue
            old = self.pg_stats.get(pgid)
            if (
                old is not None
                and self.pg_reporter[pgid][0] != osd_id
                and int(old.get("reported_epoch", 0)) > int(ps.get("reported_epoch", 0))
            ):
                continue  # an older primary's late report
            self.pg_stats[pgid] = dict(ps)
            self.pg_reporter[pgid] = (osd_id, now)
        self.version += 1
        self.stamp = now
        self.tick(now)

    def apply_osdmap(self, osdmap: Any) -> None:
        """Adopt a new OSDMap: forget removed pools/PGs/OSDs."""
        self.osdmap = osdmap
        self.osdmap_epoch = int(getattr(osdmap, "epoch", 0))
        for pgid in list(self.pg_stats):
            if not self._pg_exists(pgid):
                del self.pg_stats[pgid]
                self.pg_reporter.pop(pgid, None)
        osds = getattr(osdmap, "osds", {}) or {}
        for osd in list(self.osd_stats):
            if osd not in osds:
                self.remove_osd(osd)
        for pid in list(self._rate_prev):
            if pid not in self._pools():
                self._rate_prev.pop(pid, None)
                self._rate.pop(pid, None)
        self.version += 1

    def remove_osd(self, osd_id: int) -> None:
        self.osd_stats.pop(osd_id, None)
        self.osd_report_stamp.pop(osd_id, None)

    def tick(self, now: float) -> None:
        """Advance time: staleness and client I/O rates are computed against `now`."""
        self.now = max(self.now, now)
        self._track_last(self.now)
        sums = self.pool_sums()
        for pid, s in sums.items():
            prev = self._rate_prev.get(pid)
            if prev is None:
                self._rate_prev[pid] = (now, s)
                continue
            dt = now - prev[0]
            if dt >= 5.0:
                self._rate[pid] = {
                    k: max(0.0, (s[k] - prev[1][k]) / dt)
                    for k in ("num_rd", "num_rd_kb", "num_wr", "num_wr_kb")
                }
                self._rate_prev[pid] = (now, s)

    def _track_last(self, now: float) -> None:
        """Stamp each PG's `last_*` times (upstream pg_stat_t's last_active, last_peered,
        last_fullsized, last_unstale). A PG seen for the first time counts from now."""
        seen = set()
        for pgid, d in self.pgs():
            seen.add(pgid)
            flags = set(str(d["state"]).split("+"))
            last = self.pg_last.setdefault(pgid, dict.fromkeys(LAST_KEYS, now))
            if "active" in flags:
                last["last_active"] = now
            if "active" in flags or "peered" in flags:
                last["last_peered"] = now
            if "undersized" not in flags:
                last["last_fullsized"] = now
            if "stale" not in flags:
                last["last_unstale"] = now
        for pgid in set(self.pg_last) - seen:
            del self.pg_last[pgid]

    # ------------------------------------------------------------------ osdmap access
    def _pools(self) -> dict[int, Any]:
        return dict(getattr(self.osdmap, "pools", {}) or {}) if self.osdmap is not None else {}

    def _pg_exists(self, pgid: str) -> bool:
        if self.osdmap is None:
            return True
        try:
            pool_s, seed_s = pgid.split(".", 1)
            pool, seed = int(pool_s), int(seed_s, 16)
        except ValueError:
            return False
        p = self._pools().get(pool)
        return p is not None and seed < int(_pool_attr(p, "pg_num", 0))

    def _osd_info(self, osd: int) -> Any:
        return (getattr(self.osdmap, "osds", {}) or {}).get(osd) if self.osdmap else None

    def _osd_up(self, osd: int) -> bool:
        info = self._osd_info(osd)
        return bool(getattr(info, "up", True)) if info is not None else self.osdmap is None

    def _up_acting(self, pool: int, seed: int) -> tuple[list[int], int, list[int], int]:
        try:
            r = self.osdmap.pg_to_up_acting_osds(pool, seed)
        except Exception:
            return [], -1, [], -1
        if isinstance(r, tuple) and len(r) == 4:
            return list(r[0]), int(r[1]), list(r[2]), int(r[3])
        if isinstance(r, tuple) and len(r) == 2:
            up, acting = list(r[0]), list(r[1])
            return up, (up[0] if up else -1), acting, (acting[0] if acting else -1)
        return [], -1, [], -1

    # ------------------------------------------------------------------ PG views
    def _pgids(self) -> list[tuple[str, int, int]]:
        if self.osdmap is None:
            out = []
            for pgid in self.pg_stats:
                p, s = pgid.split(".", 1)
                out.append((pgid, int(p), int(s, 16)))
            return sorted(out, key=lambda x: (x[1], x[2]))
        out = []
        for pid in sorted(self._pools()):
            for seed in range(int(_pool_attr(self._pools()[pid], "pg_num", 0))):
                out.append((f"{pid}.{seed:x}", pid, seed))
        return out

    def pg(self, pgid: str, pool: int, seed: int) -> dict[str, Any]:
        """The effective stats of one PG (``unknown``/``stale`` applied)."""
        ps = self.pg_stats.get(pgid)
        if ps is None:
            up, upp, acting, actp = self._up_acting(pool, seed)
            d: dict[str, Any] = {k: 0 for k in PG_STAT_FIELDS}
            d.update(
                state="unknown",
                up=up,
                acting=acting,
                up_primary=upp,
                acting_primary=actp,
                reported_epoch=0,
                reported_seq=0,
                version=[0, 0],
            )
            return d
        d = {k: 0 for k in PG_STAT_FIELDS}
        d.update(ps)
        for k in ("up", "acting"):
            d[k] = list(d.get(k, []))
        d.setdefault("up_primary", d["up"][0] if d["up"] else -1)
        d.setdefault("acting_primary", d["acting"][0] if d["acting"] else -1)
        reporter, when = self.pg_reporter[pgid]
        stale = (self.osdmap is not None and not self._osd_up(reporter)) or (
            self.now - when > self.stale_timeout
        )
        state = str(d.get("state", "unknown"))
        if stale and not state.startswith("stale"):
            d["state"] = "stale+" + state
        return d

    def pgs(self) -> list[tuple[str, dict[str, Any]]]:
        return [(pgid, self.pg(pgid, p, s)) for pgid, p, s in self._pgids()]

    def pool_sums(self) -> dict[int, dict[str, int]]:
        sums: dict[int, dict[str, int]] = {}
        for pid in self._pools():
            sums[pid] = dict.fromkeys(PG_STAT_FIELDS, 0)
        for pgid, ps in self.pg_stats.items():
            pid = int(pgid.split(".", 1)[0])
            s = sums.setdefault(pid, dict.fromkeys(PG_STAT_FIELDS, 0))
            for k in PG_STAT_FIELDS:
                s[k] += int(ps.get(k, 0))
        return sums

    def osd_sum(self) -> dict[str, int]:
        tot = dict.fromkeys(OSD_STAT_FIELDS, 0)
        for st in self.osd_stats.values():
            for k in OSD_STAT_FIELDS:
                tot[k] += st[k]
        return tot

    def _by_state(self, pgs: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for _, d in pgs:
            counts[d["state"]] = counts.get(d["state"], 0) + 1
        return sorted(counts.items(), key=lambda kv: kv[0])

    # ------------------------------------------------------------------ pg stat
    def pg_stat(self) -> dict[str, Any]:
        pgs = self.pgs()
        o = self.osd_sum()
        used = o["kb_used"] * 1024
        return {
            "pg_ready": True,
            "pg_summary": {
                "num_pg_by_state": [{"name": n, "num": c} for n, c in self._by_state(pgs)],
                "num_pgs": len(pgs),
                "num_bytes": sum(int(d.get("num_bytes", 0)) for _, d in pgs),
                "total_bytes": o["kb"] * 1024,
                "total_avail_bytes": o["kb_avail"] * 1024,
                "total_used_bytes": used,
                "total_used_raw_bytes": used,
                **self.recovery_summary(pgs),
            },
        }

    @staticmethod
    def recovery_summary(pgs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        """Degraded and misplaced object counts over all object copies, only those not zero
        (upstream PGMap::overall_recovery_summary)."""
        copies = sum(int(d.get("num_object_copies", 0)) for _, d in pgs)
        out: dict[str, Any] = {}
        for kind in ("degraded", "misplaced"):
            n = sum(int(d.get(f"num_objects_{kind}", 0)) for _, d in pgs)
            if n and copies:
                out.update({f"{kind}_objects": n, f"{kind}_total": copies,
                            f"{kind}_ratio": n / copies})  # fmt: skip
        return out

    def osd_perf(self) -> dict[str, Any]:
        """`osd perf` as JSON (PGMap::dump_osd_perf_stats): each OSD's store latencies."""
        return {
            "osd_perf_infos": [
                {"id": osd, "perf_stats": self._perf_stat(st)}
                for osd, st in sorted(self.osd_stats.items(), reverse=True)
            ]
        }

    def osd_perf_text(self) -> str:
        """`osd perf` plain (PGMap::print_osd_perf_stats): whole milliseconds."""
        tab = TextTable()
        for heading in ("osd", "commit_latency(ms)", "apply_latency(ms)"):
            tab.define_column(heading, "left", "right")
        for osd, st in sorted(self.osd_stats.items(), reverse=True):
            tab.add_row([osd, st["commit_latency_ns"] // 1_000_000,
                         st["apply_latency_ns"] // 1_000_000])  # fmt: skip
        return str(tab)

    @staticmethod
    def _perf_stat(st: dict[str, int]) -> dict[str, Any]:
        """objectstore_perf_stat_t::dump: whole milliseconds as floats, and nanoseconds."""
        return {
            "commit_latency_ms": float(st["commit_latency_ns"] // 1_000_000),
            "apply_latency_ms": float(st["apply_latency_ns"] // 1_000_000),
            "commit_latency_ns": st["commit_latency_ns"],
            "apply_latency_ns": st["apply_latency_ns"],
        }

    def pg_stat_text(self) -> str:
        s = self.pg_stat()["pg_summary"]
        states = ", ".join(f"{x['num']} {x['name']}" for x in s["num_pg_by_state"])
        return (
            f"{s['num_pgs']} pgs: {states}; {byte_u(s['num_bytes'])} data, "
            f"{byte_u(s['total_used_raw_bytes'])} used, {byte_u(s['total_avail_bytes'])} / "
            f"{byte_u(s['total_bytes'])} avail"
            + "".join(
                f"; {s[k + '_objects']}/{s[k + '_total']} objects {k} "
                f"({s[k + '_ratio'] * 100:.3f}%)"
                for k in ("degraded", "misplaced")
                if k + "_objects" in s
            )
            + "\n"
        )

    # ------------------------------------------------------------------ pg dump
    def pg_brief(self, pgid: str, d: dict[str, Any]) -> dict[str, Any]:
        return {
            "pgid": pgid,
            "state": d["state"],
            "up": d["up"],
            "acting": d["acting"],
            "up_primary": d["up_primary"],
            "acting_primary": d["acting_primary"],
        }

    def pg_full(self, pgid: str, d: dict[str, Any]) -> dict[str, Any]:
        stamp = utime_str(float(d.get("stamp", self.stamp) or 0.0))
        return {
            "pgid": pgid,
            "version": _ev(d.get("version")),
            "reported_seq": int(d.get("reported_seq", 0)),
            "reported_epoch": int(d.get("reported_epoch", 0)),
            "state": d["state"],
            "last_fresh": stamp,
            "last_change": utime_str(float(d.get("last_change", d.get("stamp", 0.0)) or 0.0)),
            "log_size": int(d.get("log_size", 0)),
            "ondisk_log_size": int(d.get("log_size", 0)),
            "last_scrub": _ev(d.get("last_scrub")),
            "last_scrub_stamp": utime_str(float(d.get("last_scrub_stamp", 0.0) or 0.0)),
            "last_deep_scrub": _ev(d.get("last_deep_scrub")),
            "last_deep_scrub_stamp": utime_str(float(d.get("last_deep_scrub_stamp", 0.0) or 0.0)),
            "stat_sum": _stat_sum(d),
            "up": d["up"],
            "acting": d["acting"],
            "up_primary": d["up_primary"],
            "acting_primary": d["acting_primary"],
        }

    def _sum_section(self, s: dict[str, int], n_pgs: int, up: int, acting: int) -> dict[str, Any]:
        return {
            "stat_sum": _stat_sum(s),
            "log_size": s.get("log_size", 0),
            "ondisk_log_size": s.get("log_size", 0),
            "up": up,
            "acting": acting,
            "num_store_stats": 0,
        }

    def _osd_stat_dump(self, osd: int | None, st: dict[str, int], num_osds: int) -> dict[str, Any]:
        d: dict[str, Any] = {} if osd is None else {"osd": osd}
        d.update(
            up_from=0,
            seq=0,
            num_pgs=st["num_pgs"],
            num_osds=num_osds,
            kb=st["kb"],
            kb_used=st["kb_used"],
            kb_used_data=st["kb_used_data"],
            kb_used_omap=st["kb_used_omap"],
            kb_used_meta=st["kb_used_meta"],
            kb_avail=st["kb_avail"],
            statfs={"total": st["kb"] * 1024, "available": st["kb_avail"] * 1024},
            hb_peers=sorted(o for o in self.osd_stats if o != osd) if osd is not None else [],
            snap_trim_queue_len=0,
            num_snap_trimming=0,
            num_shards_repaired=0,
            op_queue_age_hist={"histogram": [], "upper_bound": 1},
            perf_stat=self._perf_stat(st),
            alerts=[],
        )
        return d

    def pg_dump(self, what: str = "all") -> dict[str, Any]:
        """`pg dump <what>` as JSON: all|summary|sum|pgs|pgs_brief|osds|pools|delta."""
        pgs = self.pgs()
        if what == "pgs_brief":
            return {"pg_ready": True, "pg_stats": [self.pg_brief(p, d) for p, d in pgs]}
        if what == "pgs":
            return {"pg_ready": True, "pg_stats": [self.pg_full(p, d) for p, d in pgs]}
        osd_list = [self._osd_stat_dump(o, st, 1) for o, st in sorted(self.osd_stats.items())]
        if what == "osds":
            return {"pg_ready": True, "osd_stats": osd_list}
        pool_list = []
        sums = self.pool_sums()
        for pid in sorted(sums):
            mine = [d for p, d in pgs if int(p.split(".", 1)[0]) == pid]
            sec = self._sum_section(
                sums[pid],
                len(mine),
                sum(len(d["up"]) for d in mine),
                sum(len(d["acting"]) for d in mine),
            )
            pool_list.append({"poolid": pid, "num_pg": len(mine), **sec})
        if what == "pools":
            return {"pg_ready": True, "pool_stats": pool_list}
        total = dict.fromkeys(PG_STAT_FIELDS, 0)
        for s in sums.values():
            for k in PG_STAT_FIELDS:
                total[k] += s[k]
        zero = dict.fromkeys(PG_STAT_FIELDS, 0)
        delta = {**self._sum_section(zero, 0, 0, 0), "stamp_delta": "0.000000"}
        if what == "delta":
            return {"pg_ready": True, "delta": {"pg_stats_delta": delta}}
        pg_map: dict[str, Any] = {
            "version": self.version,
            "stamp": utime_str(self.stamp),
            "last_osdmap_epoch": 0,
            "last_pg_scan": 0,
            "pg_stats_sum": self._sum_section(
                total,
                len(pgs),
                sum(len(d["up"]) for _, d in pgs),
                sum(len(d["acting"]) for _, d in pgs),
            ),
            "osd_stats_sum": self._osd_stat_dump(None, self.osd_sum(), len(self.osd_stats)),
            "pg_stats_delta": delta,
        }
        if what in ("summary", "sum"):
            return {"pg_ready": True, "pg_map": pg_map}
        pg_map["pg_stats"] = [self.pg_full(p, d) for p, d in pgs]
        pg_map["pool_stats"] = pool_list
        pg_map["osd_stats"] = osd_list
        pg_map["pool_statfs"] = []
        return {"pg_ready": True, "pg_map": pg_map}

    def pgs_brief_text(self) -> str:
        t = TextTable()
        for h, a in (("PG_STAT", "left"), ("STATE", "left"), ("UP", "left")):
            t.define_column(h, "left", a)
        t.define_column("UP_PRIMARY", "left", "right")
        t.define_column("ACTING", "left", "left")
        t.define_column("ACTING_PRIMARY", "left", "right")
        for p, d in self.pgs():
            up = "[" + ",".join(map(str, d["up"])) + "]"
            act = "[" + ",".join(map(str, d["acting"])) + "]"
            t.add_row([p, d["state"], up, d["up_primary"], act, d["acting_primary"]])
        return str(t)

    def pg_ls_text(self, pgs: list[tuple[str, dict[str, Any]]]) -> str:
        t = TextTable()
        cols = [
            ("PG", "left"),
            ("OBJECTS", "right"),
            ("DEGRADED", "right"),
            ("MISPLACED", "right"),
            ("UNFOUND", "right"),
            ("BYTES", "right"),
            ("OMAP_BYTES*", "right"),
            ("OMAP_KEYS*", "right"),
            ("LOG", "right"),
            ("STATE", "left"),
            ("VERSION", "right"),
            ("REPORTED", "right"),
            ("UP", "left"),
            ("ACTING", "left"),
        ]
        for h, a in cols:
            t.define_column(h, "left", a)
        for p, d in pgs:
            t.add_row(
                [
                    p,
                    d.get("num_objects", 0),
                    d.get("num_objects_degraded", 0),
                    d.get("num_objects_misplaced", 0),
                    d.get("num_objects_unfound", 0),
                    d.get("num_bytes", 0),
                    d.get("num_omap_bytes", 0),
                    d.get("num_omap_keys", 0),
                    d.get("log_size", 0),
                    d["state"],
                    _ev(d.get("version")),
                    f"{int(d.get('reported_epoch', 0))}:{int(d.get('reported_seq', 0))}",
                    "[" + ",".join(map(str, d["up"])) + f"]p{d['up_primary']}",
                    "[" + ",".join(map(str, d["acting"])) + f"]p{d['acting_primary']}",
                ]
            )
        return str(t) + (
            "\n* NOTE: Omap statistics are gathered during deep scrub and may be inaccurate "
            "soon afterwards depending on utilization. See "
            "http://docs.ceph.com/en/latest/dev/placement-group/#omap-statistics for "
            "further details.\n"
        )

    # ------------------------------------------------------------------ osd df
    def _crush_weight(self, osd: int) -> float:
        info = self._osd_info(osd)
        for attr in ("crush_weight", "weight_crush"):
            v = getattr(info, attr, None)
            if v is not None:
                return float(v)
        crush = getattr(self.osdmap, "crush", None)
        for meth in ("get_item_weightf", "get_item_weight"):
            f = getattr(crush, meth, None)
            if f is not None:
                try:
                    w = float(f(osd))
                    return w / 0x10000 if meth == "get_item_weight" and w > 64 else w
                except Exception:
                    pass
        st = self.osd_stats.get(osd)
        return (st["kb"] / 1024**3) if st else 0.0

    def _device_class(self, osd: int) -> str:
        crush = getattr(self.osdmap, "crush", None)
        f = getattr(crush, "get_item_class", None)
        if f is not None:
            try:
                c = f(osd)
                if c:
                    return str(c)
            except Exception:
                pass
        return str(getattr(self._osd_info(osd), "device_class", "") or "hdd")

    def _reweight(self, osd: int) -> float:
        info = self._osd_info(osd)
        w = getattr(info, "weight", 1.0) if info is not None else 1.0
        if w > 1.0:  # 16.16 fixed point
            w = w / 0x10000
        if info is not None and not getattr(info, "in_", getattr(info, "in", True)):
            return 0.0
        return float(w)

    def _osd_ids(self) -> list[int]:
        ids = set(getattr(self.osdmap, "osds", {}) or {}) if self.osdmap is not None else set()
        return sorted(ids | set(self.osd_stats))

    def osd_df(self, tree: bool = False) -> dict[str, Any]:
        """`osd df [tree]` JSON: nodes, stray, summary."""
        nodes = []
        utils = []
        for osd in self._osd_ids():
            st = self.osd_stats.get(osd, dict.fromkeys(OSD_STAT_FIELDS, 0))
            util = st["kb_used"] * 100.0 / st["kb"] if st["kb"] else 0.0
            if st["kb"]:
                utils.append(util)
            status = "up" if self._osd_up(osd) else "down"
            if getattr(self._osd_info(osd), "destroyed", False):
                status = "destroyed"
            nodes.append(
                {
                    "id": osd,
                    "device_class": self._device_class(osd),
                    "name": f"osd.{osd}",
                    "type": "osd",
                    "type_id": 0,
                    "crush_weight": self._crush_weight(osd),
                    "depth": 2,
                    "pool_weights": {},
                    "reweight": self._reweight(osd),
                    "kb": st["kb"],
                    "kb_used": st["kb_used"],
                    "kb_used_data": st["kb_used_data"],
                    "kb_used_omap": st["kb_used_omap"],
                    "kb_used_meta": st["kb_used_meta"],
                    "kb_avail": st["kb_avail"],
                    "utilization": util,
                    "var": 0.0,
                    "pgs": st["num_pgs"],
                    "status": status,
                }
            )
        o = self.osd_sum()
        avg = o["kb_used"] * 100.0 / o["kb"] if o["kb"] else 0.0
        vars_ = []
        for n in nodes:
            n["var"] = (n["utilization"] / avg) if (avg and n["kb"]) else 0.0
            if n["kb"]:
                vars_.append(n["var"])
        dev = math.sqrt(sum((u - avg) ** 2 for u in utils) / len(utils)) if utils else 0.0
        return {
            "nodes": nodes,
            "stray": [],
            "summary": {
                "total_kb": o["kb"],
                "total_kb_used": o["kb_used"],
                "total_kb_used_data": o["kb_used_data"],
                "total_kb_used_omap": o["kb_used_omap"],
                "total_kb_used_meta": o["kb_used_meta"],
                "total_kb_avail": o["kb_avail"],
                "average_utilization": avg,
                "min_var": min(vars_) if vars_ else 0.0,
                "max_var": max(vars_) if vars_ else 0.0,
                "dev": dev,
            },
        }

    def osd_df_text(self, tree: bool = False) -> str:
        d = self.osd_df(tree)
        t = TextTable()
        for h in ("ID", "CLASS", "WEIGHT", "REWEIGHT", "SIZE", "RAW USE", "DATA", "OMAP", "META"):
            t.define_column(h, "left", "right")
        for h in ("AVAIL", "%USE", "VAR", "PGS", "STATUS"):
            t.define_column(h, "left", "right")
        if tree:
            t.define_column("TYPE NAME", "left", "left")
        for n in d["nodes"]:
            row = [
                n["id"],
                n["device_class"],
                f"{n['crush_weight']:.5f}",
                f"{n['reweight']:.5f}",
                byte_u(n["kb"] * 1024),
                byte_u(n["kb_used"] * 1024),
                byte_u(n["kb_used_data"] * 1024),
                byte_u(n["kb_used_omap"] * 1024),
                byte_u(n["kb_used_meta"] * 1024),
                byte_u(n["kb_avail"] * 1024),
                f"{n['utilization']:.2f}",
                f"{n['var']:.2f}",
                n["pgs"],
                n["status"],
            ]
            if tree:
                row.append(f"    {n['name']}")
            t.add_row(row)
        s = d["summary"]
        total = [
            "",
            "",
            "",
            "TOTAL",
            byte_u(s["total_kb"] * 1024),
            byte_u(s["total_kb_used"] * 1024),
            byte_u(s["total_kb_used_data"] * 1024),
            byte_u(s["total_kb_used_omap"] * 1024),
            byte_u(s["total_kb_used_meta"] * 1024),
            byte_u(s["total_kb_avail"] * 1024),
            f"{s['average_utilization']:.2f}",
            "",
            "",
            "",
        ]
        if tree:
            total.append("")
        t.add_row(total)
        return str(t) + (
            f"MIN/MAX VAR: {s['min_var']:.2f}/{s['max_var']:.2f}  STDDEV: {s['dev']:.6g}\n"
        )

    # ------------------------------------------------------------------ pools
    def pool_stats(self, pool_id: int | None = None) -> list[dict[str, Any]]:
        """`osd pool stats [pool]`: per-pool recovery and client I/O rates."""
        pools = self._pools()
        ids = [pool_id] if pool_id is not None else sorted(pools)
        out = []
        for pid in ids:
            rate = self._rate.get(pid, {})
            cio: dict[str, int] = {}
            if rate.get("num_rd_kb"):
                cio["read_bytes_sec"] = int(rate["num_rd_kb"] * 1024)
            if rate.get("num_wr_kb"):
                cio["write_bytes_sec"] = int(rate["num_wr_kb"] * 1024)
            if rate.get("num_rd"):
                cio["read_op_per_sec"] = int(rate["num_rd"])
            if rate.get("num_wr"):
                cio["write_op_per_sec"] = int(rate["num_wr"])
            name = _pool_attr(pools.get(pid), "pool_name", None) or _pool_attr(
                pools.get(pid), "name", str(pid)
            )
            out.append(
                {
                    "pool_name": name,
                    "pool_id": pid,
                    "recovery": {},
                    "recovery_rate": {},
                    "client_io_rate": cio,
                }
            )
        return out

    def pool_stats_text(self, pool_id: int | None = None) -> str:
        lines = []
        for p in self.pool_stats(pool_id):
            lines.append(f"pool {p['pool_name']} id {p['pool_id']}")
            c = p["client_io_rate"]
            if not c:
                lines.append("  nothing is going on")
            else:
                parts = []
                if "read_bytes_sec" in c:
                    parts.append(f"{byte_u(c['read_bytes_sec'])}/s rd")
                if "write_bytes_sec" in c:
                    parts.append(f"{byte_u(c['write_bytes_sec'])}/s wr")
                if "read_op_per_sec" in c:
                    parts.append(f"{c['read_op_per_sec']} op/s rd")
                if "write_op_per_sec" in c:
                    parts.append(f"{c['write_op_per_sec']} op/s wr")
                lines.append("  client io " + ", ".join(parts))
            lines.append("")
        return "\n".join(lines) + "\n"

    @staticmethod
    def raw_used_rate(pool: Any) -> float:
        """Raw bytes per stored byte: size for replicated pools, (k+m)/k for EC."""
        ptype = _pool_attr(pool, "type", 1)
        if ptype in (3, "erasure"):
            k = _pool_attr(pool, "ec_k", None)
            m = _pool_attr(pool, "ec_m", None)
            if k and m is not None:
                return (k + m) / k
            size = _pool_attr(pool, "size", 1)
            mins = _pool_attr(pool, "min_size", 1)
            kk = max(1, mins - 1) if mins else 1
            return size / kk
        return float(_pool_attr(pool, "size", 1) or 1)

    def rule_avail(self, osdmap: Any, pool: Any) -> int:
        """Bytes that can still be written through the pool's rule before an OSD is full."""
        wm: dict[int, float] = {}
        for osd in self._osd_ids():
            info = (getattr(osdmap, "osds", {}) or {}).get(osd)
            if info is not None and not getattr(info, "in_", getattr(info, "in", True)):
                continue
            w = self._crush_weight(osd) * (self._reweight(osd) or 0.0)
            if w > 0:
                wm[osd] = w
        total = sum(wm.values())
        fratio = float(getattr(osdmap, "full_ratio", 0.0) or self.full_ratio)
        lowest = -1
        for osd, w in wm.items():
            st = self.osd_stats.get(osd)
            if st is None or st["kb"] == 0:
                continue
            unusable = st["kb"] * (1.0 - fratio)
            avail = max(0.0, st["kb_avail"] - unusable) * 1024.0
            proj = int(avail / (w / total))
            if lowest < 0 or proj < lowest:
                lowest = proj
        return max(0, lowest)

    def df_pools(self, osdmap: Any = None, detail: bool = False) -> list[dict[str, Any]]:
        """The ``pools`` list of `ceph df` (``detail`` adds upstream's extra keys)."""
        osdmap = osdmap if osdmap is not None else self.osdmap
        pools = dict(getattr(osdmap, "pools", {}) or {}) if osdmap is not None else {}
        sums = self.pool_sums()
        out = []
        for pid in sorted(pools):
            pool = pools[pid]
            s = sums.get(pid, dict.fromkeys(PG_STAT_FIELDS, 0))
            rate = self.raw_used_rate(pool)
            stored = s["num_bytes"]
            used = int(stored * rate)
            max_avail = int(self.rule_avail(osdmap, pool) / rate) if rate else 0
            avail_raw = max_avail * rate
            pct = used / (used + avail_raw) if (used + avail_raw) > 0 else 0.0
            stats: dict[str, Any] = {"stored": stored}
            if detail:
                stats.update(stored_data=stored, stored_omap=s["num_omap_bytes"])
            stats["objects"] = s["num_objects"]
            stats["kb_used"] = (used + 1023) // 1024
            stats["bytes_used"] = used
            if detail:
                stats.update(data_bytes_used=used, omap_bytes_used=int(s["num_omap_bytes"] * rate))
            stats["percent_used"] = pct
            stats["max_avail"] = max_avail
            if detail:
                stats.update(
                    quota_objects=int(_pool_attr(pool, "quota_max_objects", 0) or 0),
                    quota_bytes=int(_pool_attr(pool, "quota_max_bytes", 0) or 0),
                    dirty=0,
                    rd=s["num_rd"],
                    rd_bytes=s["num_rd_kb"] * 1024,
                    wr=s["num_wr"],
                    wr_bytes=s["num_wr_kb"] * 1024,
                    compress_bytes_used=0,
                    compress_under_bytes=0,
                    stored_raw=int(stored * rate),
                    avail_raw=int(avail_raw),
                )
            name = _pool_attr(pool, "pool_name", None) or _pool_attr(pool, "name", str(pid))
            out.append({"name": name, "id": pid, "stats": stats})
        return out

    # ------------------------------------------------------------------ digest
    def digest(self, osdmap: Any = None) -> dict[str, Any]:
        """What the mgr sends the monitor (``status``, ``df``, health use it)."""
        osdmap = osdmap if osdmap is not None else self.osdmap
        pg_stats = {}
        for pgid, d in self.pgs():
            pg_stats[pgid] = {k: v for k, v in d.items()}
            pg_stats[pgid].update(self.pg_last.get(pgid, dict.fromkeys(LAST_KEYS, self.now)))
        pool_stats = {}
        for pid, s in self.pool_sums().items():
            e = dict(s)
            e["stored"] = s["num_bytes"]
            pool_stats[str(pid)] = e
        return {
            "pg_stats": pg_stats,
            "osd_stats": {str(o): dict(st) for o, st in sorted(self.osd_stats.items())},
            "pool_stats": pool_stats,
            "stamp": self.stamp,
            "pools_df": self.df_pools(osdmap),
        }
