"""Output helpers shared by daemons and CLIs: Ceph's JSON formatter and unit printing.

Ceph's JSONFormatter prints floats with 17 significant digits (``%.17g``), compact
JSON without spaces and pretty JSON with 4-space indents and a final newline;
`byte_u`/`si_u` print sizes and counts as Ceph's ``byte_u_t``/``si_u_t`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyceph.common.jsonfmt import dumps

__all__ = [
    "TextTable",
    "byte_u",
    "dump_json",
    "format_output",
    "si_u",
]


def dump_json(obj: Any, pretty: bool = False) -> str:
    """JSON text as Ceph's JSONFormatter writes it (pretty ends with a newline)."""
    text = dumps(obj, pretty)
    return text + "\n" if pretty else text


def format_output(obj: Any, fmt: str | None) -> bytes | None:
    """`obj` as JSON bytes for ``json``/``json-pretty``; None for plain (caller formats)."""
    if fmt in ("json", "json-pretty"):
        return dump_json(obj, fmt == "json-pretty").encode()
    return None


_BYTE_UNITS = (" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB")
_SI_UNITS = ("", "k", "M", "G", "T", "P", "E")


def _scaled(v: int, base: int, units: Sequence[str]) -> str:
    n = v
    index = 0
    while n >= base and index < len(units) - 1:
        n //= base
        index += 1
    if index == 0 or v % (base**index) == 0:
        return f"{n}{units[index]}"
    text = ""
    for precision in (2, 1, 0):
        text = f"{v / base**index:.{precision}f}{units[index]}"
        if len(text) < 8 if base == 1024 else len(text) < 5:
            break
    return text


def byte_u(v: int | float) -> str:
    """Bytes as Ceph prints them: ``0 B``, ``64 MiB``, ``1.0 GiB``, ``9.2 GiB``."""
    return _scaled(max(0, int(v)), 1024, _BYTE_UNITS)


def si_u(v: int | float) -> str:
    """Counts as Ceph's si_u_t: ``26``, ``1.2 k``-style (``1.2k``)."""
    return _scaled(max(0, int(v)), 1000, _SI_UNITS)


class TextTable:
    """Ceph's TextTable: columns separated by two spaces, per-column alignment."""

    def __init__(self) -> None:
        self.cols: list[tuple[str, str, str]] = []  # heading, header align, value align
        self.rows: list[list[str]] = []

    def define_column(self, heading: str, hd_align: str = "left", col_align: str = "left") -> None:
        self.cols.append((heading, hd_align, col_align))

    def add_row(self, cells: Sequence[Any]) -> None:
        self.rows.append([str(c) for c in cells])

    def __str__(self) -> str:
        widths = [len(h) for h, _, _ in self.cols]
        for r in self.rows:
            for i, c in enumerate(r):
                widths[i] = max(widths[i], len(c))

        def pad(s: str, w: int, align: str) -> str:
            if align == "right":
                return s.rjust(w)
            if align == "center":
                return s.center(w)
            return s.ljust(w)

        lines = ["  ".join(pad(h, widths[i], ha) for i, (h, ha, _) in enumerate(self.cols))]
        for r in self.rows:
            lines.append("  ".join(pad(c, widths[i], self.cols[i][2]) for i, c in enumerate(r)))
        return "\n".join(lines) + "\n"
