"""`rbd perf image iostat`: per-image I/O rates from the mgr's `rbd_support` module.

Upstream: src/tools/rbd/action/Perf.cc — the mgr command `rbd perf image stats` (the
module's OSD perf metric queries, per image), printed every min(10, mgr_stats_period)
seconds as a ``NAME WR RD WR_BYTES RD_BYTES WR_LAT RD_LAT`` table (pool-qualified names
when no pool was given), or once as a JSON/XML ``images`` array; ``rbd: waiting for
initial image stats`` until the module has a first sample.
"""

from __future__ import annotations

import errno
import json
import time
from typing import Any

from pyceph.cli.rbd_args import SORT_BY, CliError, action, get_pool_and_namespace
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import get_formatter
from pyceph.common.output import TextTable, byte_u, si_u

__all__: list[str] = []

#: The stats in upstream's order (`--sort-by`'s values), with their table headings.
STATS = tuple(zip(SORT_BY, ("WR", "RD", "WR_BYTES", "RD_BYTES", "WR_LAT", "RD_LAT"), strict=True))
#: Upstream refreshes no faster than the mgr's stats period, and at least every 10 s.
MAX_DELAY = 10


def image_stats(report: dict[str, Any]) -> list[tuple[str, str, str, list[float]]]:
    """(pool, namespace, image, stats in STATS order) from the module's JSON."""
    order = {name: i for i, name in enumerate(report.get("stat_descriptors") or [])}
    pools = {}
    for idx, spec in (report.get("pool_descriptors") or {}).items():
        pool, _, ns = str(spec).partition("/")
        pools[str(idx)] = (pool, ns)
    out = []
    for entry in report.get("stats") or []:
        for image_spec, data in dict(entry).items():
            idx, _, image = str(image_spec).partition("/")
            if idx not in pools:
                continue
            values = [float(data[order[s]]) if s in order else 0.0 for s, _ in STATS]
            out.append((*pools[idx], image, values))
    return out


def format_stat(name: str, value: float) -> str:
    """Perf.cc format_stat: rates per second, latencies scaled from nanoseconds."""
    if name.endswith("_ops"):
        return f"{si_u(value)}/s"
    if name.endswith("_bytes"):
        return f"{byte_u(value)}/s"
    for scale, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "us")):
        if value >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.2f} ns"


def _query(ctx: Ctx, pool_spec: str, sort_by: str) -> dict[str, Any]:
    cmd = {"prefix": "rbd perf image stats", "pool_spec": pool_spec, "sort_by": sort_by,
           "format": "json"}  # fmt: skip
    try:
        ret, outbuf, outs = ctx.connect().mgr_command(json.dumps(cmd), b"")
    except ctx.errors as e:
        ret, outbuf, outs = -errno_of(e), b"", ""
    if ret == -errno.EOPNOTSUPP:
        raise CliError(
            "rbd: 'rbd_support' mgr module is not enabled.\n\n"
            "Use 'ceph mgr module enable rbd_support' to enable.",
            errno.EOPNOTSUPP,
        )
    if ret < 0:
        raise CliError(
            f"rbd: mgr command failed: {cpp_strerror(-ret)}" + (f": {outs}" if outs else ""), -ret
        )
    try:
        return dict(json.loads(outbuf))
    except ValueError:
        raise CliError("rbd: error parsing perf stats", errno.EINVAL) from None


@action(
    "perf image iostat",
    groups=("pool-ns", "format"),
    options=("iterations", "sort-by"),
    description="Display image IO statistics.",
)
def do_iostat(ctx: Ctx) -> int:
    pool, ns = get_pool_and_namespace(ctx.args, validate_pool=False)
    iterations = int(ctx.args.get("iterations", 0) or 0)
    sort_by = ctx.args.get("sort-by") or "write_ops"
    f = get_formatter(ctx.args)
    if iterations > 1 and f is not None:
        raise CliError("rbd: specifing iterations is not valid with formatted output", errno.EINVAL)
    if ns and not pool:
        pool = ctx.default_pool()
    pool_spec = f"{pool}/{ns}" if ns else pool
    delay = min(MAX_DELAY, int(ctx.conf_get("mgr_stats_period", "5") or 5))
    count, noticed = 0, False
    while iterations == 0 or count < iterations:
        stats = image_stats(_query(ctx, pool_spec, sort_by))
        if count == 0 and not stats:
            if not noticed:
                ctx.err.write("rbd: waiting for initial image stats\n\n")
                ctx.err.flush()
                noticed = True
        else:
            count += 1
            if f is not None:
                f.open_array_section("images")
                for p, n, image, values in stats:
                    f.open_object_section("image")
                    f.dump_string("pool", p)
                    f.dump_string("pool_namespace", n)
                    f.dump_string("image", image)
                    for (name, _), v in zip(STATS, values, strict=True):
                        f.dump_float(name, v)
                    f.close_section()
                f.close_section()
                f.flush(ctx.out)
                return 0
            table = TextTable()
            table.define_column("NAME")
            for _, heading in STATS:
                table.define_column(f"{heading} ", "right", "right")
            for p, n, image, values in stats:
                name = image if pool_spec else "/".join(x for x in (p, n, image) if x)
                cells = [f"{format_stat(s, v)} " for (s, _), v in zip(STATS, values, strict=True)]
                table.add_row([name, *cells])
            ctx.out.write(f"{table}\n")
            ctx.out.flush()
            if iterations and count >= iterations:
                break
        time.sleep(delay)
    return 0


# ------------------------------------------------------------------ iotop
#: Perf.cc MainWindow: the width of a stat column, and the columns' titles.
COLUMN_WIDTH = 12
TOP_TITLES = ("WRITES OPS", "READS OPS", "WRITE BYTES", "READ BYTES", "WRITE LAT", "READ LAT")
WAITING = "Waiting for initial stats"


def top_header(sort_by: str) -> str:
    """The reverse-video header line: the sorted column marked with '>'."""
    cells = []
    for (name, _), title in zip(STATS, TOP_TITLES, strict=True):
        mark = ">" if name == sort_by else " "
        cells.append(f"{mark}{title}".rjust(COLUMN_WIDTH) + " ")
    return "".join(cells) + "IMAGE"


def top_row(pool_spec: str, stat: tuple[str, str, str, list[float]]) -> str:
    pool, ns, image, values = stat
    cells = "".join(
        format_stat(name, v)[:COLUMN_WIDTH].rjust(COLUMN_WIDTH) + " "
        for (name, _), v in zip(STATS, values, strict=True)
    )
    prefix = "" if pool_spec else ("/".join(x for x in (pool, ns) if x) + "/")
    return cells + prefix + image


def next_sort(sort_by: str, step: int) -> str:
    """'<' and '>' move the sort column, stopping at either end."""
    names = [s for s, _ in STATS]
    i = min(max(names.index(sort_by) + step, 0), len(names) - 1)
    return names[i]


@action("perf image iotop", groups=("pool-ns",), description="Display a top-like IO monitor.")
def do_iotop(ctx: Ctx) -> int:
    import curses
    import select

    pool, ns = get_pool_and_namespace(ctx.args, validate_pool=False)
    if ns and not pool:
        pool = ctx.default_pool()
    pool_spec = f"{pool}/{ns}" if ns else pool
    delay = min(MAX_DELAY, int(ctx.conf_get("mgr_stats_period", "5") or 5))
    ctx.connect()

    def run(screen: Any) -> None:
        curses.curs_set(0)
        screen.nodelay(True)
        screen.keypad(True)
        sort_by = "write_ops"
        while True:
            stats = image_stats(_query(ctx, pool_spec, sort_by))
            height, width = screen.getmaxyx()
            screen.erase()
            screen.addnstr(0, 0, top_header(sort_by).ljust(width), width - 1, curses.A_REVERSE)
            for row, stat in enumerate(stats[: height - 1], start=1):
                screen.addnstr(row, 0, top_row(pool_spec, stat), width - 1)
            if not stats:
                y, x = max(height // 2, 1), max((width - len(WAITING)) // 2, 0)
                screen.addnstr(y, x, WAITING, width - x - 1)
            screen.refresh()
            select.select([ctx.inp] if ctx.inp is not None else [], [], [], delay)
            key = screen.getch()
            if key in (ord("q"), ord("Q")):
                return
            if key in (ord("<"), curses.KEY_LEFT):
                sort_by = next_sort(sort_by, -1)
            elif key in (ord(">"), curses.KEY_RIGHT):
                sort_by = next_sort(sort_by, 1)

    curses.wrapper(run)
    return 0
