"""`osd safe-to-destroy` and `osd ok-to-stop`: may these OSDs go? (sans-I/O)

Both read the mgr's PG statistics and the OSDMap, as upstream's DaemonServer does
(`src/mgr/DaemonServer.cc`, Pacific): `safe_to_destroy` asks whether the OSDs still
hold data anyone needs (mapped in a PG's up or acting set, or reporting stored PGs while
not every PG is active+clean); `ok_to_stop` asks whether stopping them would leave a PG
below its pool's `min_size` (``_check_offlines_pgs``). Each returns upstream's
``(r, outbuf-object, outs)`` pieces; `pyceph.mgr.commands` renders them.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OkToStop",
    "SafeToDestroy",
    "check_offline_pgs",
    "ids_text",
    "ok_to_stop",
    "parse_osd_id_list",
    "safe_to_destroy",
]


def parse_osd_id_list(words: Iterable[str], existing: Iterable[int]) -> list[int]:
    """upstream OSDMap::parse_osd_id_list: `N`/`osd.N` each, or `any|all|*` for every
    existing OSD; a bad word raises ValueError with upstream's text."""
    out: set[int] = set()
    for w in words:
        if w in ("any", "all", "*"):
            out |= set(existing)
            continue
        t = w[4:] if w.startswith("osd.") else w
        if not t.isdigit():
            raise ValueError(f"Expected option value to be integer, got '{w}'invalid osd id '{w}'")
        out.add(int(t))
    return sorted(out)


def ids_text(osds: Iterable[int]) -> str:
    """A set of OSD ids as upstream prints a `std::set<int>`: `0,1,2`."""
    return ",".join(str(i) for i in sorted(osds))


def _is(state: str, *words: str) -> bool:
    parts = set(state.split("+"))
    return all(w in parts for w in words)


@dataclass
class SafeToDestroy:
    """The outcome of `osd safe-to-destroy` (upstream's `osd_status` sections)."""

    r: int = 0
    outs: str = ""
    safe_to_destroy: list[int] = field(default_factory=list)
    active: list[int] = field(default_factory=list)
    missing_stats: list[int] = field(default_factory=list)
    stored_pgs: list[int] = field(default_factory=list)

    def dump(self) -> dict[str, list[int]]:
        return {
            "safe_to_destroy": self.safe_to_destroy,
            "active": self.active,
            "missing_stats": self.missing_stats,
            "stored_pgs": self.stored_pgs,
        }


def safe_to_destroy(
    osds: Iterable[int],
    exists: Mapping[int, bool],
    pgs: Iterable[tuple[str, Mapping[str, Any]]],
    osd_num_pgs: Mapping[int, int],
) -> SafeToDestroy:
    """`osds` to check; `exists[i]`: osd.i is in the OSDMap; `pgs`: (pgid, stats with
    `state`, `up`, `acting`) of every PG; `osd_num_pgs`: the PG count each OSD last
    reported (absent: no stats). EAGAIN when any PG is unknown; EBUSY when an OSD is
    mapped or may still store needed data; EAGAIN when it has no stats to tell."""
    want = sorted(set(osds))
    res = SafeToDestroy()
    pg_list = list(pgs)
    unknown = sum(1 for _, d in pg_list if str(d.get("state", "unknown")) == "unknown")
    if unknown:
        res.r = -errno.EAGAIN
        res.outs = f"{unknown} pgs have unknown state; cannot draw any conclusions"
        return res
    mapped: dict[int, int] = {}
    for _, d in pg_list:
        for o in set(d.get("acting", [])) | set(d.get("up", [])):
            mapped[o] = mapped.get(o, 0) + 1
    all_clean = all(_is(str(d.get("state", "")), "active", "clean") for _, d in pg_list)
    affected = 0
    for osd in want:
        if not exists.get(osd, False):
            res.safe_to_destroy.append(osd)  # clearly safe
        elif mapped.get(osd, 0) > 0:
            res.active.append(osd)
            affected += mapped[osd]
        elif not all_clean and osd not in osd_num_pgs:
            res.missing_stats.append(osd)
        elif not all_clean and osd_num_pgs[osd] > 0:
            res.stored_pgs.append(osd)
        else:
            res.safe_to_destroy.append(osd)
    if not (res.active or res.missing_stats or res.stored_pgs):
        res.outs = f"OSD(s) {ids_text(want)} are safe to destroy without reducing data durability."
        return res
    out = ""
    if res.safe_to_destroy:
        out += (f"OSD(s) {ids_text(res.safe_to_destroy)} are safe to destroy without "
                "reducing data durability. ")  # fmt: skip
    if res.active:
        out += f"OSD(s) {ids_text(res.active)} have {affected} pgs currently mapped to them. "
    if res.missing_stats:
        out += (f"OSD(s) {ids_text(res.missing_stats)} have no reported stats, and not all "
                "PGs are active+clean; we cannot draw any conclusions. ")  # fmt: skip
    if res.stored_pgs:
        out += (f"OSD(s) {ids_text(res.stored_pgs)} last reported they still store some PG "
                "data, and not all PGs are active+clean; we cannot be sure they aren't still "
                "needed.")  # fmt: skip
    res.outs = out
    res.r = -errno.EBUSY if (res.active or res.stored_pgs) else -errno.EAGAIN
    return res


@dataclass
class OkToStop:
    """The outcome of `osd ok-to-stop` (upstream's `offline_pg_report`); a PG may be in
    several `bad_*` lists and counts once in `not_ok`."""

    osds: list[int]
    r: int = 0
    outs: str = ""
    ok: list[str] = field(default_factory=list)
    not_ok: list[str] = field(default_factory=list)
    ok_become_degraded: list[str] = field(default_factory=list)
    ok_become_more_degraded: list[str] = field(default_factory=list)
    bad_no_pool: list[str] = field(default_factory=list)
    bad_already_inactive: list[str] = field(default_factory=list)
    bad_become_inactive: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def ok_to_stop(self) -> bool:
        return not (
            self.bad_no_pool or self.bad_already_inactive or self.bad_become_inactive
            or self.unknown
        )  # fmt: skip

    def dump(self) -> dict[str, Any]:
        """upstream offline_pg_report::dump: empty lists are left out."""
        d: dict[str, Any] = {
            "ok_to_stop": self.ok_to_stop,
            "osds": self.osds,
            "num_ok_pgs": len(self.ok),
            "num_not_ok_pgs": len(self.not_ok),
        }
        for key, v in (
            ("unknown_pgs", self.unknown),
            ("bad_no_pool_pgs", self.bad_no_pool),
            ("bad_already_inactive", self.bad_already_inactive),
            ("bad_become_inactive", self.bad_become_inactive),
            ("ok_become_degraded", self.ok_become_degraded),
            ("ok_become_more_degraded", self.ok_become_more_degraded),
        ):
            if v:
                d[key] = v
        return d


def _pg_key(pgid: str) -> tuple[int, int]:
    p, _, s = pgid.partition(".")
    return int(p), int(s, 16)


def check_offline_pgs(
    osds: Iterable[int],
    pgs: Iterable[tuple[str, Mapping[str, Any]]],
    pool_min_size: Mapping[int, int],
) -> OkToStop:
    """upstream DaemonServer::_check_offlines_pgs: what stopping `osds` does to each PG
    whose acting set holds one (`pgs`: pgid and stats with `state`, `acting`;
    `pool_min_size` of each existing pool). Unknown PGs are listed whatever they map to."""
    want = sorted(set(osds))
    res = OkToStop(osds=want)
    stop = set(want)
    for pgid, d in sorted(pgs, key=lambda kv: _pg_key(kv[0])):
        state = str(d.get("state", "unknown"))
        if state == "unknown":
            res.unknown.append(pgid)
            continue
        acting = [o for o in d.get("acting", []) if o >= 0]
        if not stop & set(acting):
            continue
        left = len({o for o in acting if o not in stop})
        min_size = pool_min_size.get(_pg_key(pgid)[0])
        bad = False
        if min_size is None:  # the pool is being created or deleted
            res.bad_no_pool.append(pgid)
            bad = True
        if not _is(state, "active"):
            res.bad_already_inactive.append(pgid)
            bad = True
        if min_size is not None and left < min_size:
            res.bad_become_inactive.append(pgid)
            bad = True
        if bad:
            res.not_ok.append(pgid)
            continue
        res.ok.append(pgid)
        if _is(state, "degraded"):
            res.ok_become_more_degraded.append(pgid)
        else:
            res.ok_become_degraded.append(pgid)
    return res


def ok_to_stop(
    osds: Iterable[int],
    pgs: Iterable[tuple[str, Mapping[str, Any]]],
    pool_min_size: Mapping[int, int],
    max_osds: int = 0,
    peers: Callable[[list[int]], list[list[int]]] | None = None,
) -> OkToStop:
    """`osd ok-to-stop IDS [--max N]`: the report for `osds`, or, when it is ok and `max_osds`
    exceeds them, for the largest set grown from them (upstream _maximize_ok_to_stop_set):
    `peers(osds)` gives, one CRUSH level up at a time from the first OSD, the up OSDs
    beneath each ancestor. EAGAIN when a PG is unknown, EBUSY when one would go offline."""
    pg_list = list(pgs)
    res = check_offline_pgs(osds, pg_list, pool_min_size)
    if res.ok_to_stop and peers is not None and len(res.osds) < max_osds:
        have = list(res.osds)
        for level in peers(have):
            failed = 0
            for o in level:
                if o in have:
                    continue
                trial = check_offline_pgs([*have, o], pg_list, pool_min_size)
                if not trial.ok_to_stop:
                    failed += 1
                    continue
                have.append(o)
                res = trial
                if len(have) >= max_osds:
                    break
            if failed or len(have) >= max_osds:
                break
    if res.unknown:
        res.r = -errno.EAGAIN
        res.outs = f"{len(res.unknown)} pgs have unknown state; cannot draw any conclusions"
    elif not res.ok_to_stop:
        res.r = -errno.EBUSY
        res.outs = (f"unsafe to stop osd(s) at this time ({len(res.not_ok)} PGs are or would "
                    "become offline)")  # fmt: skip
    return res
