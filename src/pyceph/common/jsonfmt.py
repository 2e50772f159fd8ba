"""Upstream's JSONFormatter output: compact `json` or 4-space `json-pretty`, floats as %.17g.

The CLI and tools compare against real Ceph output byte for byte, so we cannot use
`json.dumps` (it prints `1.0` where Ceph prints `1`, and 0.95f differently).
"""

from __future__ import annotations

import json
import math
from typing import Any

_str = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _float(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return "null"
    return "%.17g" % v


def _enc(v: Any, pretty: bool, depth: int, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, float):
        out.append(_float(v))
    elif isinstance(v, str):
        out.append(_str(v))
    elif isinstance(v, bytes):
        out.append(_str(v.decode("utf-8", "replace")))
    elif isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        out.append("{")
        first = True
        for k, x in v.items():
            if not first:
                out.append(",")
            first = False
            if pretty:
                out.append("\n" + "    " * (depth + 1))
            out.append(_str(str(k)))
            out.append(": " if pretty else ":")
            _enc(x, pretty, depth + 1, out)
        if pretty:
            out.append("\n" + "    " * depth)
        out.append("}")
    elif isinstance(v, list | tuple | set | frozenset):
        if not v:
            out.append("[]")
            return
        out.append("[")
        first = True
        for x in v:
            if not first:
                out.append(",")
            first = False
            if pretty:
                out.append("\n" + "    " * (depth + 1))
            _enc(x, pretty, depth + 1, out)
        if pretty:
            out.append("\n" + "    " * depth)
        out.append("]")
    else:
        out.append(_str(str(v)))


def dumps(value: Any, pretty: bool = False) -> str:
    """Render like upstream's JSONFormatter (no trailing newline)."""
    out: list[str] = []
    _enc(value, pretty, 0, out)
    return "".join(out)
