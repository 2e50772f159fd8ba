"""Plain-text renderings of monitor views, laid out like Ceph 16.2's (TextTable, units).

Used when a command has no `format` or `format=plain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyceph.osdmap.osdmap import SEMIHIDDEN_FLAGS, OSDMap, flag_string
from pyceph.osdmap.pool import utime_str

from .health import overall

if TYPE_CHECKING:
    from .state import MonState

_BYTE_UNITS = [" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"]


def byte_u(v: int) -> str:
    """Upstream `byte_u_t`: `0 B`, `15 KiB`, `1.0 GiB`, `9.2 GiB`."""
    v = int(v)
    n, index = v, 0
    while n >= 1024 and index < len(_BYTE_UNITS) - 1:
        n //= 1024
        index += 1
    u = _BYTE_UNITS[index]
    mult = 1 << (10 * index)
    if index == 0 or v % mult == 0:
        return f"{n}{u}"
    for prec in (2, 1, 0):
        s = f"{v / mult:.{prec}f}{u}"
        if len(s) <= 7:
            return s
    return s


def si_u(v: int) -> str:
    """Upstream `si_u_t` for counts: `26`, `1.2 k`."""
    units = ["", " k", " M", " G", " T"]
    n, index = int(v), 0
    while n >= 1000 and index < len(units) - 1:
        n //= 1000
        index += 1
    if index == 0:
        return str(v)
    mult = 1000**index
    if v % mult == 0:
        return f"{n}{units[index]}"
    for prec in (2, 1, 0):
        s = f"{v / mult:.{prec}f}{units[index]}"
        if len(s) <= 6:
            return s
    return s


def timespan(sec: float) -> str:
    """Upstream `utimespan_str`: `98s`, `5m`, `3h`, `2d`, `1w`, `4M`, `2y`."""
    s = int(max(sec, 0))
    if s < 120:
        return f"{s}s"
    if s < 120 * 60:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    if s < 21 * 86400:
        return f"{s // 86400}d"
    if s < 60 * 86400:
        return f"{s // (7 * 86400)}w"
    if s < 2 * 365 * 86400:
        return f"{s // (30 * 86400)}M"
    return f"{s // (365 * 86400)}y"


def percentify(pct: float) -> str:
    return "0" if pct < 0.01 else f"{pct:.2f}"


def table(cols: list[tuple[str, str, str]], rows: list[list[Any]]) -> str:
    """Upstream TextTable: cols are (header, header_align, cell_align) with 'l'/'r'."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [len(h) for h, _, _ in cols]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))

    def fmt(vals: list[str], aligns: list[str]) -> str:
        return "  ".join(
            v.ljust(w) if a == "l" else v.rjust(w)
            for v, w, a in zip(vals, widths, aligns, strict=True)
        )

    out = [fmt([h for h, _, _ in cols], [a for _, a, _ in cols])]
    out += [fmt(r, [a for _, _, a in cols]) for r in cells]
    return "\n".join(out) + "\n"


def osd_tree(m: OSDMap) -> str:
    cols = [("ID", "l", "r"), ("CLASS", "l", "r"), ("WEIGHT", "l", "r"), ("TYPE NAME", "l", "l"),
            ("STATUS", "l", "r"), ("REWEIGHT", "l", "r"), ("PRI-AFF", "l", "r")]  # fmt: skip
    rows = []
    for n in m.tree_rows():
        i = n["id"]
        cls_ = n.get("device_class", "")
        ind = "    " * n["_depth"]
        if i < 0:
            rows.append(
                [i, cls_, f"{n['_weight']:.5f}", f"{ind}{n['type']} {n['name']}", "", "", ""]
            )
            continue
        o = m.osds.get(i)
        if o is None or not o.exists:
            rows.append([i, cls_, f"{n['_weight']:.5f}", f"{ind}osd.{i}", "DNE", 0, ""])
            continue
        st = "up" if o.up else ("destroyed" if o.destroyed else "down")
        rows.append([i, cls_, f"{n['_weight']:.5f}", f"{ind}osd.{i}", st,
                     f"{o.weightf:.5f}", f"{o.primary_affinityf:.5f}"])  # fmt: skip
    return table(cols, rows)


def osd_stat(m: OSDMap, now: float, extra: bool = True, prefix: str = "") -> str:
    """Upstream `OSDMap::print_summary` (plain)."""
    out = f"{m.num_osds()} osds: {m.num_up_osds()} up"
    if m.last_up_change:
        out += f" (since {timespan(now - m.last_up_change)})"
    out += f", {m.num_in_osds()} in"
    if m.last_in_change:
        out += f" (since {timespan(now - m.last_in_change)})"
    if extra:
        out += f"; epoch: e{m.epoch}"
    if m.pg_temp:
        out += f"; {len(m.pg_temp)} remapped pgs"
    out += "\n"
    important = m.flags & ~SEMIHIDDEN_FLAGS
    if important:
        out += f"{prefix}flags {flag_string(important)}\n"
    return out


def pool_ls_detail(m: OSDMap) -> str:
    out = []
    for pid in sorted(m.pools):
        p = m.pools[pid]
        out.append(p.plain_line() + "\n")
        for sid, (name, stamp) in sorted(p.pool_snaps.items()):
            out.append(f"\tsnap {sid} '{name}' {utime_str(stamp)}\n")
    return "".join(out) + "\n"


def mon_dump(monmap: dict[str, Any]) -> str:
    lines = [
        f"epoch {monmap['epoch']}",
        f"fsid {monmap['fsid']}",
        f"last_changed {utime_str(monmap['modified'])}",
        f"created {utime_str(monmap['created'])}",
        "min_mon_release 16 (pacific)",
        "election_strategy: 1",
    ]
    for mon in monmap["mons"]:
        lines.append(f"{mon['rank']}: [v2:{mon['addr']}/0] mon.{mon['name']}")
    return "\n".join(lines) + "\n"


def df(state: MonState, data: dict[str, Any], detail: bool) -> str:
    cols = [("CLASS", "l", "l"), ("SIZE", "l", "r"), ("AVAIL", "l", "r"), ("USED", "l", "r"),
            ("RAW USED", "l", "r"), ("%RAW USED", "l", "r")]  # fmt: skip
    rows = []
    for cls_, c in data["stats_by_class"].items():
        rows.append([cls_, byte_u(c["total_bytes"]), byte_u(c["total_avail_bytes"]),
                     byte_u(c["total_used_bytes"]), byte_u(c["total_used_raw_bytes"]),
                     percentify(c["total_used_raw_ratio"] * 100)])  # fmt: skip
    s = data["stats"]
    rows.append(["TOTAL", byte_u(s["total_bytes"]), byte_u(s["total_avail_bytes"]),
                 byte_u(s["total_used_bytes"]), byte_u(s["total_used_raw_bytes"]),
                 percentify(s["total_used_raw_ratio"] * 100)])  # fmt: skip
    out = "--- RAW STORAGE ---\n" + table(cols, rows) + " \n--- POOLS ---\n"
    if detail:
        pcols = [("POOL", "l", "l"), ("ID", "l", "r"), ("PGS", "l", "r"), ("STORED", "l", "r"),
                 ("(DATA)", "l", "r"), ("(OMAP)", "l", "r"), ("OBJECTS", "l", "r"),
                 ("USED", "l", "r"), ("(DATA)", "l", "r"), ("(OMAP)", "l", "r"),
                 ("%USED", "l", "r"), ("MAX AVAIL", "l", "r"), ("QUOTA OBJECTS", "l", "r"),
                 ("QUOTA BYTES", "l", "r"), ("DIRTY", "l", "r"), ("USED COMPR", "l", "r"),
                 ("UNDER COMPR", "l", "r")]  # fmt: skip
    else:
        pcols = [("POOL", "l", "l"), ("ID", "l", "r"), ("PGS", "l", "r"), ("STORED", "l", "r"),
                 ("OBJECTS", "l", "r"), ("USED", "l", "r"), ("%USED", "l", "r"),
                 ("MAX AVAIL", "l", "r")]  # fmt: skip
    prow = []
    for p in data["pools"]:
        st = p["stats"]
        pool = state.osdmap.pools[p["id"]]
        if detail:
            qo = si_u(pool.quota_max_objects) if pool.quota_max_objects else "N/A"
            qb = byte_u(pool.quota_max_bytes) if pool.quota_max_bytes else "N/A"
            prow.append([p["name"], p["id"], pool.pg_num, byte_u(st["stored"]),
                         byte_u(st["stored_data"]), byte_u(st["stored_omap"]), si_u(st["objects"]),
                         byte_u(st["bytes_used"]), byte_u(st["data_bytes_used"]),
                         byte_u(st["omap_bytes_used"]), percentify(st["percent_used"] * 100),
                         byte_u(st["max_avail"]), qo, qb, "N/A", "0 B", "0 B"])  # fmt: skip
        else:
            prow.append([p["name"], p["id"], pool.pg_num, byte_u(st["stored"]),
                         si_u(st["objects"]), byte_u(st["bytes_used"]),
                         percentify(st["percent_used"] * 100), byte_u(st["max_avail"])])  # fmt: skip
    return out + table(pcols, prow)


def status(state: MonState, data: dict[str, Any], checks: dict, now: float) -> str:
    """`ceph -s` text."""
    lines = ["  cluster:", f"    id:     {data['fsid']}", f"    health: {overall(checks)}"]
    for c in checks.values():
        lines.append(f"            {c['summary']['message']}")
    lines.append(" ")
    lines.append("  services:")
    all_services = data.get("servicemap", {}).get("services") or {}
    width = max([len(k) for k in all_services] + [3])
    sp = " " * (width - 3)
    mons = state.monmap["mons"]
    age = timespan(now - state.start_time) if state.start_time else "0s"
    lines.append(
        f"    mon: {sp}{len(mons)} daemons, quorum {','.join(m['name'] for m in mons)} (age {age})"
    )
    mm = state.mgrmap
    if mm.get("active_name"):
        since = timespan(now - mm.get("active_change", now))
        s = f"    mgr: {sp}{mm['active_name']}(active, since {since})"
        if mm.get("standbys"):
            s += ", standbys: " + ", ".join(x["name"] for x in mm["standbys"])
        lines.append(s)
    else:
        lines.append(f"    mgr: {sp}no daemons active")
    osd = osd_stat(state.osdmap, now, extra=False, prefix=" " * (width + 6))
    lines.append(f"    osd: {sp}" + osd.rstrip("\n"))
    for name in sorted(all_services):
        if name in ("osd", "mon", "client", "mds", "mgr"):
            continue
        daemons = all_services[name].get("daemons", {})
        lines.append(f"    {name}: {' ' * (width - len(name))}{service_summary(daemons)}")
    lines.append(" ")
    lines.append("  data:")
    pg = data["pgmap"]
    lines.append(f"    pools:   {pg['num_pools']} pools, {pg['num_pgs']} pgs")
    lines.append(f"    objects: {si_u(pg['num_objects'])} objects, {byte_u(pg['data_bytes'])}")
    lines.append(
        f"    usage:   {byte_u(pg['bytes_used'])} used, {byte_u(pg['bytes_avail'])} / "
        f"{byte_u(pg['bytes_total'])} avail"
    )
    states = pg["pgs_by_state"]
    pre = "    pgs:     "
    if pg.get("unknown_pgs_ratio"):
        lines.append(f"{pre}{pg['unknown_pgs_ratio'] * 100:.3f}% pgs unknown")
        pre = "             "
    if pg.get("inactive_pgs_ratio"):
        lines.append(f"{pre}{pg['inactive_pgs_ratio'] * 100:.3f}% pgs not active")
        pre = "             "
    if pg.get("degraded_objects"):
        lines.append(
            f"{pre}{pg['degraded_objects']}/{pg['degraded_total']} objects degraded "
            f"({pg['degraded_ratio'] * 100:.3f}%)"
        )
        pre = "             "
    if pg.get("misplaced_objects"):
        lines.append(
            f"{pre}{pg['misplaced_objects']}/{pg['misplaced_total']} objects misplaced "
            f"({pg['misplaced_ratio'] * 100:.3f}%)"
        )
        pre = "             "
    w = max((len(str(s["count"])) for s in states), default=1)
    for s in states:
        lines.append(f"{pre}{str(s['count']).ljust(w)} {s['state_name']}")
        pre = "             "
    lines.append(" ")
    if any(k in pg for k in ("read_bytes_sec", "write_bytes_sec")):
        lines.append("  io:")
        lines.append(
            f"    client:   {byte_u(pg.get('read_bytes_sec', 0))}/s rd, "
            f"{byte_u(pg.get('write_bytes_sec', 0))}/s wr, {pg.get('read_op_per_sec', 0)} op/s rd, "
            f"{pg.get('write_op_per_sec', 0)} op/s wr"
        )
        lines.append(" ")
    events = data.get("progress_events") or {}
    if events:  # upstream prints the header for any event, the lines for add_to_ceph_s ones
        lines.append("  progress:")
        lines.extend(f"    {ev['message']}" for ev in events.values() if ev.get("add_to_ceph_s"))
        lines.append(" ")
    return "\n".join(lines) + "\n"


def service_summary(daemons: dict[str, Any]) -> str:
    """Upstream `ServiceMap::Service::get_summary` over dumped daemons (`ceph -s`)."""
    summary = daemons.get("summary") or ""
    if summary:
        return str(summary)
    ds = {k: v for k, v in daemons.items() if k != "summary" and isinstance(v, dict)}
    if not ds:
        return "no daemons active"
    kind = "daemon"
    groups: dict[str, set[str]] = {}
    for d in ds.values():
        md = d.get("metadata", {})
        kind = md.get("daemon_type", kind)
        for label, key in (("zone", "zone_id"), ("host", "hostname")):
            if key in md:
                groups.setdefault(label, set()).add(md[key])
    n = len(ds)
    out = f"{n} {kind}{'s' if n > 1 else ''} active"
    if groups:
        # upstream always pluralizes here: "(1 hosts, 1 zones)"
        out += " (" + ", ".join(f"{len(groups[k])} {k}s" for k in sorted(groups)) + ")"
    return out
