"""`rbd --format json|xml [--pretty-format]`: upstream's Formatter interface for the rbd CLI.

Actions fill a `Formatter` the way src/tools/rbd fills ceph::Formatter
(`open_object_section`, `open_array_section`, `dump_*`, `close_section`), so the
section and item names needed by XML are kept; JSON is rendered by pyceph's one
JSON formatter (`pyceph.common.jsonfmt`), XML as Ceph's XMLFormatter writes it
(one space of indent per level when pretty; names with spaces underscored).
`get_formatter` applies utils::get_formatter's rules. Also the small printers the
actions share: sizes as `prettybyte_t` and timestamps as C `ctime()`.
"""

from __future__ import annotations

import calendar
import datetime
import time
from typing import IO, Any

from pyceph.cli.rbd_args import Args, CliError
from pyceph.common.jsonfmt import dumps as json_dumps
from pyceph.common.output import byte_u

__all__ = ["Formatter", "ctime_str", "get_formatter", "prettybyte", "xml_escape"]

_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;"}


def xml_escape(text: str) -> str:
    """xml_stream_escaper."""
    return "".join(_XML_ESCAPES.get(c, c) for c in text)


class _Node:
    __slots__ = ("children", "kind", "name", "value")

    def __init__(self, name: str, kind: str, value: Any = None) -> None:
        self.name = name
        self.kind = kind  # "object", "array" or "value"
        self.value = value
        self.children: list[_Node] = []


class Formatter:
    """A ceph::Formatter for `json` or `xml`; `flush(out)` writes the document."""

    def __init__(self, fmt: str, pretty: bool) -> None:
        self.fmt = fmt
        self.pretty = pretty
        self._root = _Node("", "array")
        self._stack = [self._root]

    # sections ---------------------------------------------------------------
    def open_object_section(self, name: str) -> None:
        node = _Node(name, "object")
        self._stack[-1].children.append(node)
        self._stack.append(node)

    def open_array_section(self, name: str) -> None:
        node = _Node(name, "array")
        self._stack[-1].children.append(node)
        self._stack.append(node)

    def close_section(self) -> None:
        assert len(self._stack) > 1, "close_section without open section"
        self._stack.pop()

    # values -------------------------------------------------------------------
    def dump_string(self, name: str, value: str) -> None:
        self._stack[-1].children.append(_Node(name, "value", str(value)))

    def dump_int(self, name: str, value: int) -> None:
        self._stack[-1].children.append(_Node(name, "value", int(value)))

    dump_unsigned = dump_int

    def dump_bool(self, name: str, value: bool) -> None:
        self._stack[-1].children.append(_Node(name, "value", bool(value)))

    def dump_float(self, name: str, value: float) -> None:
        self._stack[-1].children.append(_Node(name, "value", float(value)))

    # output -----------------------------------------------------------------
    def render(self) -> str:
        """The document text, including upstream's trailing newline(s)."""
        if self.fmt == "json":
            parts = [json_dumps(_to_py(n), self.pretty) for n in self._root.children]
            text = "".join(parts)
            return text + "\n" if text or not self.pretty else text
        out: list[str] = []
        for n in self._root.children:
            self._xml(n, 0, out)
        text = "".join(out)
        return text + "\n" if text else text

    def flush(self, out: IO[str]) -> None:
        out.write(self.render())
        self._root = _Node("", "array")
        self._stack = [self._root]

    def _xml(self, node: _Node, depth: int, out: list[str]) -> None:
        name = node.name.replace(" ", "_")
        pad = " " * depth if self.pretty else ""
        nl = "\n" if self.pretty else ""
        if node.kind == "value":
            v = node.value
            if isinstance(v, bool):
                text = "true" if v else "false"
            elif isinstance(v, float):
                text = "%g" % v
            else:
                text = xml_escape(str(v))
            out.append(f"{pad}<{name}>{text}</{name}>{nl}")
            return
        out.append(f"{pad}<{name}>{nl}")
        for c in node.children:
            self._xml(c, depth + 1, out)
        out.append(f"{pad}</{name}>{nl}")


def _to_py(node: _Node) -> Any:
    if node.kind == "value":
        return node.value
    if node.kind == "array":
        return [_to_py(c) for c in node.children]
    return {c.name: _to_py(c) for c in node.children}


def get_formatter(args: Args) -> Formatter | None:
    """utils::get_formatter: None for plain; --pretty-format needs json or xml."""
    pretty = args.flag("pretty-format")
    fmt = args.get("format")
    if fmt in ("json", "xml"):
        return Formatter(fmt, pretty)
    if pretty:
        raise CliError("rbd: --pretty-format only works when --format is json or xml")
    return None


def prettybyte(n: int) -> str:
    """`prettybyte_t` / byte_u_t: ``256 MiB``, ``4 KiB``, ``1.5 GiB``."""
    return byte_u(n)


def _epoch(ts: Any) -> float:
    if isinstance(ts, datetime.datetime):
        if ts.tzinfo is None:
            # the rbd module gives naive UTC datetimes (datetime.utcfromtimestamp)
            return calendar.timegm(ts.timetuple()) + ts.microsecond / 1e6
        return ts.timestamp()
    return float(ts)


def ctime_str(ts: Any) -> str:
    """C ``ctime()`` without its newline, in local time: ``Sun Nov 22 04:40:09 2026``."""
    return time.ctime(int(_epoch(ts)))


def epoch_of(ts: Any) -> int:
    """Seconds since the epoch of a module timestamp (datetime or number)."""
    return int(_epoch(ts))
