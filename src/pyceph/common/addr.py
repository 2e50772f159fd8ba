"""Parsing of monitor and entity addresses as upstream writes them.

`mon_host` accepts `host:port`, bare hosts (default port), comma/space lists and
addrvecs such as `[v2:127.0.0.1:3300/0,v1:127.0.0.1:6789/0]`.
"""

from __future__ import annotations

import re

from pyceph.common.errors import CephError

DEFAULT_MON_PORT = 3300
EINVAL = 22

_ENTRY = re.compile(r"^(?:v[12]:)?(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+)(?::(\d+))?(?:/\d+)?$")


def parse_addr(text: str, default_port: int = DEFAULT_MON_PORT) -> tuple[str, int]:
    """One `[v2:]host[:port][/nonce]` → (host, port)."""
    m = _ENTRY.match(text.strip())
    if not m:
        raise CephError(EINVAL, f"unable to parse address {text!r}")
    host = m.group(1).strip("[]")
    port = int(m.group(2)) if m.group(2) else default_port
    if not 0 <= port < 65536:
        raise CephError(EINVAL, f"bad port in address {text!r}")
    return host, port


def parse_mon_host(text: str) -> list[tuple[str, int]]:
    """Every monitor address named in a `mon_host` value (first of each addrvec)."""
    out: list[tuple[str, int]] = []
    for vec in re.findall(r"\[[^\]]*\]|[^,;\s]+", text):
        first = vec.strip("[]").split(",")[0] if vec.startswith("[v") else vec
        addr = parse_addr(first)
        if addr not in out:
            out.append(addr)
    if not out:
        raise CephError(EINVAL, "no monitors specified to connect to.")
    return out


def format_addr(addr: tuple[str, int], nonce: int = 0) -> str:
    """Upstream's `v2:host:port/nonce` spelling."""
    return f"v2:{addr[0]}:{addr[1]}/{nonce}"


def configured_addr(value: object) -> tuple[str, int] | None:
    """`public_addr`-style option value → (host, port), or None when unset ('-')."""
    text = str(value or "").strip()
    if not text or text == "-":
        return None
    return parse_addr(text, default_port=0)
