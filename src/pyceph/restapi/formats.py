"""Output formats of the REST API v0.1 and how a request picks one (sans-I/O).

As upstream's `make_response` (src/pybind/ceph_rest_api.py): a `.json`/`.xml`
suffix on the path wins over the `Accept` header, which wins over plain text.
Plain text is the command's own output (with the status line after it on an
error); JSON wraps it in the envelope ``{"status": "OK", "output": ...}`` (the
status is the command's status string, or ``OK``); XML wraps it in
``<response><output>...</output><status>...</status></response>``.

pyceph's monitor renders JSON for ``format=xml``, so XML is asked of the cluster
as JSON and converted here, element names as Ceph's XMLFormatter writes them for
objects (array items, whose names JSON loses, are ``<item>``). A command whose
output is not JSON even when asked for it is carried as a string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

__all__ = [
    "CONTENT_TYPES",
    "SUFFIXES",
    "Reply",
    "cluster_format",
    "command_reply",
    "error_reply",
    "from_accept",
    "split_suffix",
    "to_xml",
]

#: formats a path suffix may name (upstream passed `.<fmt>` to the monitor as is)
SUFFIXES = ("json", "json-pretty", "xml", "xml-pretty")
#: Accept media types upstream recognized, in its order of preference
ACCEPTED = (("application/json", "json"), ("application/xml", "xml"))
CONTENT_TYPES = {"json": "application/json", "xml": "application/xml", None: "text/plain"}
#: indent of the -pretty variants (Ceph's JSONFormatter uses four spaces)
PRETTY_INDENT = 4
_XML_NAME_BAD = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status code, content type and body."""

    status: int
    content_type: str
    body: bytes


def split_suffix(rel: str) -> tuple[str, str | None]:
    """(path without a known format suffix, that format or None)."""
    head, dot, ext = rel.rpartition(".")
    if dot and ext in SUFFIXES and "/" not in ext:
        return head, ext
    return rel, None


def from_accept(accept: str | None) -> str | None:
    """The format an `Accept` header asks for: json, xml, or None (plain)."""
    if not accept:
        return None
    types = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
    for media, fmt in ACCEPTED:
        if media in types:
            return fmt
    return None


def cluster_format(fmt: str | None) -> str:
    """The `format` argument sent with the command for the reply format `fmt`."""
    if fmt is None:
        return "plain"
    return "json-pretty" if fmt.endswith("-pretty") else "json"


def _base(fmt: str | None) -> str | None:
    return None if fmt is None else fmt.split("-", 1)[0]


def _xml_name(key: str) -> str:
    name = _XML_NAME_BAD.sub("_", key) or "_"
    return "_" + name if not (name[0].isalpha() or name[0] == "_") else name


def to_xml(value: Any, name: str) -> str:
    """`value` (parsed JSON) as an XML element named `name`."""
    tag = _xml_name(name)
    if isinstance(value, dict):
        inner = "".join(to_xml(v, str(k)) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(to_xml(v, "item") for v in value)
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    elif value is None:
        inner = ""
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"


def _parsed(outbuf: bytes) -> Any:
    if not outbuf.strip():
        return []
    text = outbuf.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _render(fmt: str | None, status: int, outbuf: bytes, statusmsg: str) -> Reply:
    base = _base(fmt)
    pretty = fmt is not None and fmt.endswith("-pretty")
    if base == "json":
        envelope = {"status": statusmsg, "output": _parsed(outbuf)}
        body = json.dumps(envelope, indent=PRETTY_INDENT if pretty else None)
        return Reply(status, CONTENT_TYPES["json"], body.encode())
    if base == "xml":
        out = _parsed(outbuf)
        inner = "".join(to_xml(v, str(k)) for k, v in out.items()) if isinstance(out, dict) else to_xml(out, "item") if out != [] else ""  # fmt: skip
        body = f"<response><output>{inner}</output><status>{escape(statusmsg)}</status></response>"
        return Reply(status, CONTENT_TYPES["xml"], body.encode())
    if not 200 <= status < 300:
        outbuf = outbuf + b"\n" + statusmsg.encode() + b"\n"
    return Reply(status, CONTENT_TYPES[None], outbuf)


def command_reply(fmt: str | None, ret: int, outbuf: bytes, outs: str) -> Reply:
    """The answer to a command that ran: 200, or upstream's 400 ``Error: <outs> (<ret>)``."""
    if ret:
        return _render(fmt, 400, b"", f"Error: {outs} ({ret})")
    return _render(fmt, 200, outbuf, outs or "OK")


def error_reply(fmt: str | None, status: int, message: str) -> Reply:
    """An answer for a request refused before any command ran (400, 404, 405, 503)."""
    return _render(fmt, status, b"", message)
