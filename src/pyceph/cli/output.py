"""Output helpers shared by daemons and CLIs: Ceph's JSON formatter and unit printing.

Ceph's JSONFormatter prints floats with 17 significant digits (``%.17g``), compact
JSON without spaces and pretty JSON with 4-space indents and a final newline;
`byte_u`/`si_u` print sizes and counts as Ceph's ``byte_u_t``/``si_u_t`` do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "TextTable",
    "byte_u",
    "dump_json",
    "format_output",
    "si_u",
]


def _num(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return json.dumps(str(v))
    return format(v, ".17g")


def _enc(obj: Any, pretty: bool, level: int, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, float):
        out.append(_num(obj))
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, bytes):
        out.append(json.dumps(obj.decode("utf-8", "replace")))
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        ind = "\n" + "    " * (level + 1) if pretty else ""
        out.append("{")
        for i, (k, v) in enumerate(obj.items()):
            if i:
                out.append(",")
            out.append(ind)
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(": " if pretty else ":")
            _enc(v, pretty, level + 1, out)
        out.append("\n" + "    " * level + "}" if pretty else "}")
    elif isinstance(obj, list | tuple | set | frozenset):
        if not obj:
            out.append("[]")
            return
        ind = "\n" + "    " * (level + 1) if pretty else ""
        out.append("[")
        for i, v in enumerate(obj):
            if i:
                out.append(",")
            out.append(ind)
            _enc(v, pretty, level + 1, out)
        out.append("\n" + "    " * level + "]" if pretty else "]")
    else:
        out.append(json.dumps(str(obj)))


def dump_json(obj: Any, pretty: bool = False) -> str:
    """JSON text as Ceph's JSONFormatter writes it (pretty ends with a newline)."""
    out: list[str] = []
    _enc(obj, pretty, 0, out)
    text = "".join(out)
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
