"""Prometheus text exposition (format 0.0.4) of `prometheus_client` metric families.

The families are `prometheus_client.core.Metric` objects; this renders them as
upstream's exporter does (src/pybind/mgr/prometheus/module.py, `Metric.str_expfmt`):
each family's `# HELP`/`# TYPE` lines under its own name — counters included
(`prometheus_client.generate_latest` would rename a counter's TYPE line to
`<name>_total`, which is not what Ceph's dashboards and alert rules query) — and
`untyped` for families of unknown type. Label values are escaped and numbers
formatted as upstream's (`repr` of the float; `prometheus_client`'s spelling of
infinities and NaN).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.core import Metric
from prometheus_client.utils import floatToGoString

__all__ = ["CONTENT_TYPE", "render"]

#: the content type of the text format
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape_label(v: str) -> str:
    return v.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _escape_help(v: str) -> str:
    return v.replace("\\", r"\\").replace("\n", r"\n")


def _number(v: float) -> str:
    f = float(v)
    return repr(f) if math.isfinite(f) else floatToGoString(f)


def render(families: Iterable[Metric]) -> bytes:
    """The families as a `/metrics` page (labels in the order they were added)."""
    out: list[str] = []
    for m in families:
        mtype = "untyped" if m.type == "unknown" else m.type
        out.append(f"# HELP {m.name} {_escape_help(m.documentation)}\n")
        out.append(f"# TYPE {m.name} {mtype}\n")
        for s in m.samples:
            labels = ",".join(f'{k}="{_escape_label(str(v))}"' for k, v in s.labels.items())
            lab = "{" + labels + "}" if labels else ""
            out.append(f"{s.name}{lab} {_number(s.value)}\n")
    return "".join(out).encode("utf-8")
