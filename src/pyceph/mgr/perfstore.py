"""The daemons' perf counters as the mgr holds them, for `get_perf_schema` & co.

Upstream: `DaemonPerfCounters` and `PerfCounterInstance` (src/mgr/DaemonState.h,
DaemonState.cc) and `ActivePyModules::get_perf_schema_python`,
`get_counter_python`, `get_latest_counter_python` (src/mgr/ActivePyModules.cc of
16.2.15). Each daemon's report carries its counters' declarations and values
(`pyceph.common.perf_counters.PerfCountersCollection.report`); the mgr keeps the
last `PERF_HISTORY` data points of each counter, stamped with the time the report
arrived: `(t, v)`, or `(t, sum, count)` for averages.

Reports arrive on the daemon's event loop, module threads read: a lock guards the
index (every critical section is a dict update or copy, never I/O).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from pyceph.common.perf_counters import PERFCOUNTER_LONGRUNAVG

__all__ = ["PERF_HISTORY", "PerfStore"]

#: data points kept per counter (upstream PerfCounterInstance's circular buffer)
PERF_HISTORY = 20


class _DaemonPerf:
    """One daemon's declared counters and their recent values."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self.points: dict[str, deque[tuple[Any, ...]]] = {}
        #: the daemon's last DaemonHealthMetric list ({type, value} each)
        self.health: list[dict[str, Any]] = []


class PerfStore:
    """Perf counters of every daemon that reported, by `<type>.<id>`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._daemons: dict[str, _DaemonPerf] = {}

    def ingest(self, daemon: str, perf: dict[str, Any], now: float) -> None:
        """Apply one report's `perf` part (`types` may be absent once declared; the
        daemon's `health_metrics` may come with it)."""
        types = perf.get("types")
        values = perf.get("values") or {}
        health = perf.get("health_metrics")
        with self._lock:
            d = self._daemons.setdefault(daemon, _DaemonPerf())
            if isinstance(health, list):
                d.health = [{"type": str(m["type"]), "value": int(m["value"])} for m in health]
            if isinstance(types, dict):
                d.types = {str(p): dict(t) for p, t in types.items()}
            for path, v in dict(values).items():
                t = d.types.get(path)
                if t is None:
                    continue  # a value for a counter never declared: ignored, as upstream
                q = d.points.setdefault(path, deque(maxlen=PERF_HISTORY))
                if int(t["type"]) & PERFCOUNTER_LONGRUNAVG:
                    s, c = v
                    q.append((now, int(s), int(c)))
                else:
                    q.append((now, int(v)))

    def forget(self, daemon: str) -> None:
        with self._lock:
            self._daemons.pop(daemon, None)

    def health_metrics(self) -> dict[str, list[dict[str, Any]]]:
        """`get_daemon_health_metrics()`: {daemon: [{type, value}, ...]} of those that sent any."""
        with self._lock:
            return {k: [dict(m) for m in d.health] for k, d in sorted(self._daemons.items()) if d.health}  # fmt: skip

    def daemons(self) -> list[str]:
        with self._lock:
            return sorted(self._daemons)

    def _select(self, svc_type: str, svc_id: str) -> list[tuple[str, _DaemonPerf]]:
        if not svc_type:
            return sorted(self._daemons.items())
        if not svc_id:
            pre = svc_type + "."
            return sorted((k, v) for k, v in self._daemons.items() if k.startswith(pre))
        key = f"{svc_type}.{svc_id}"
        d = self._daemons.get(key)
        return [(key, d)] if d is not None else []

    def schema(self, svc_type: str, svc_id: str) -> dict[str, Any]:
        """`{"<type>.<id>": {path: {description, [nick], type, priority, units}}}`;
        an empty `svc_type` selects every daemon, an empty `svc_id` every one of the type."""
        out: dict[str, Any] = {}
        with self._lock:
            for key, d in self._select(svc_type, svc_id):
                entry: dict[str, Any] = {}
                for path, t in d.types.items():
                    one: dict[str, Any] = {"description": str(t.get("description", ""))}
                    if t.get("nick"):
                        one["nick"] = str(t["nick"])
                    one["type"] = int(t["type"])
                    one["priority"] = int(t.get("priority", 0))
                    one["units"] = int(t.get("units", 0))
                    entry[path] = one
                out[key] = entry
        return out

    def counter(self, svc_type: str, svc_id: str, path: str) -> dict[str, list[tuple[Any, ...]]]:
        """`{path: [(t, v), ...]}` (oldest first), `[]` if unknown."""
        with self._lock:
            d = self._daemons.get(f"{svc_type}.{svc_id}")
            pts = list(d.points.get(path, ())) if d is not None else []
        return {path: pts}

    def latest(self, svc_type: str, svc_id: str, path: str) -> dict[str, tuple[Any, ...]]:
        """`{path: (t, v)}` or `(t, sum, count)` for an average; `()` if unknown."""
        with self._lock:
            d = self._daemons.get(f"{svc_type}.{svc_id}")
            q = d.points.get(path) if d is not None else None
            last = q[-1] if q else ()
        return {path: last}
