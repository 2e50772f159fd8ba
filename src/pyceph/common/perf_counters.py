"""Perf counters: typed, named statistics a daemon keeps and reports to the mgr.

Upstream: `src/common/perf_counters.{h,cc}` (`PerfCounters`,
`PerfCountersBuilder`, `PerfCountersCollection`). A daemon owns a collection of
loggers (`osd`, `mon`, `paxos`, ...), each a fixed set of counters declared once:

- u64 gauges (`add_u64`): a value set or moved up and down (`numpg`);
- u64 counters (`add_u64_counter`): only ever increase (`op`, `op_in_bytes`);
- averages (`add_time_avg`, `add_u64_avg`): a sum and a count (`avgcount`),
  time sums kept in nanoseconds as upstream does.

`schema()` is the admin socket's `perf schema` (fields `type`, `metric_type`,
`value_type`, `description`, `nick`, `priority`, `units`), `dump()` its
`perf dump`; `report_types()`/`report_values()` are what a daemon sends the mgr
in its report (upstream `MMgrReport`'s declared types and packed values), keyed
by the full path `<logger>.<counter>`.

This module is sans-I/O and single-threaded (a daemon's event loop updates it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "PERFCOUNTER_TIME",
    "PERFCOUNTER_U64",
    "PERFCOUNTER_LONGRUNAVG",
    "PERFCOUNTER_COUNTER",
    "PRIO_CRITICAL",
    "PRIO_INTERESTING",
    "PRIO_USEFUL",
    "PRIO_UNINTERESTING",
    "PRIO_DEBUGONLY",
    "UNIT_BYTES",
    "UNIT_NONE",
    "CounterType",
    "PerfCounters",
    "PerfCountersCollection",
]

#: value kinds and counter kinds (upstream `perfcounter_type_d`), OR-ed in `type`
PERFCOUNTER_TIME = 0x1
PERFCOUNTER_U64 = 0x2
PERFCOUNTER_LONGRUNAVG = 0x4
PERFCOUNTER_COUNTER = 0x8
#: priorities (upstream PerfCountersBuilder::PRIO_*); the mgr exports >= PRIO_USEFUL
PRIO_CRITICAL = 10
PRIO_INTERESTING = 8
PRIO_USEFUL = 5
PRIO_UNINTERESTING = 2
PRIO_DEBUGONLY = 0
#: units (upstream `unit_t`)
UNIT_BYTES = 0
UNIT_NONE = 1
#: nanoseconds per second: time values are kept and reported in ns
NSEC_PER_SEC = 1_000_000_000


@dataclass(frozen=True)
class CounterType:
    """One counter's declaration."""

    name: str
    type: int
    description: str = ""
    nick: str = ""
    priority: int = PRIO_DEBUGONLY
    unit: int = UNIT_NONE

    @property
    def metric_type(self) -> str:
        return "counter" if self.type & (PERFCOUNTER_COUNTER | PERFCOUNTER_LONGRUNAVG) else "gauge"

    @property
    def value_type(self) -> str:
        real = bool(self.type & PERFCOUNTER_TIME)
        if self.type & PERFCOUNTER_LONGRUNAVG:
            return "real-integer-pair" if real else "integer-integer-pair"
        return "real" if real else "integer"

    def schema(self) -> dict[str, Any]:
        """One entry of `perf schema`."""
        return {
            "type": self.type,
            "metric_type": self.metric_type,
            "value_type": self.value_type,
            "description": self.description,
            "nick": self.nick,
            "priority": self.priority,
            "units": "bytes" if self.unit == UNIT_BYTES else "none",
        }

    def report_type(self) -> dict[str, Any]:
        """What the mgr is told about the counter (upstream PerfCounterType)."""
        return {
            "type": self.type,
            "description": self.description,
            "nick": self.nick,
            "priority": self.priority,
            "units": self.unit,
        }


class PerfCounters:
    """One logger: a named, fixed set of counters (upstream PerfCounters)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.types: dict[str, CounterType] = {}
        self._u64: dict[str, int] = {}
        #: averages: [sum, count] (sum in ns for time averages)
        self._avg: dict[str, list[int]] = {}

    # -- declaration (upstream PerfCountersBuilder)
    def _add(self, name: str, kind: int, desc: str, nick: str, prio: int, unit: int) -> None:
        if name in self.types:
            raise ValueError(f"perf counter {self.name}.{name} declared twice")
        self.types[name] = CounterType(name, kind, desc, nick, prio, unit)
        if kind & PERFCOUNTER_LONGRUNAVG:
            self._avg[name] = [0, 0]
        else:
            self._u64[name] = 0

    def add_u64(self, name: str, desc: str, nick: str = "", prio: int = PRIO_DEBUGONLY, unit: int = UNIT_NONE) -> None:  # fmt: skip
        """A gauge."""
        self._add(name, PERFCOUNTER_U64, desc, nick, prio, unit)

    def add_u64_counter(self, name: str, desc: str, nick: str = "", prio: int = PRIO_DEBUGONLY, unit: int = UNIT_NONE) -> None:  # fmt: skip
        """A monotonically increasing count."""
        self._add(name, PERFCOUNTER_U64 | PERFCOUNTER_COUNTER, desc, nick, prio, unit)

    def add_u64_avg(self, name: str, desc: str, nick: str = "", prio: int = PRIO_DEBUGONLY, unit: int = UNIT_NONE) -> None:  # fmt: skip
        """An average of integer samples (sum and count)."""
        self._add(name, PERFCOUNTER_U64 | PERFCOUNTER_LONGRUNAVG, desc, nick, prio, unit)

    def add_time_avg(self, name: str, desc: str, nick: str = "", prio: int = PRIO_DEBUGONLY) -> None:  # fmt: skip
        """An average of durations (sum in ns and count)."""
        self._add(name, PERFCOUNTER_TIME | PERFCOUNTER_LONGRUNAVG, desc, nick, prio, UNIT_NONE)

    # -- updates
    def inc(self, name: str, amount: int = 1) -> None:
        self._u64[name] += int(amount)

    def dec(self, name: str, amount: int = 1) -> None:
        self._u64[name] = max(0, self._u64[name] - int(amount))

    def set(self, name: str, value: int) -> None:
        self._u64[name] = max(0, int(value))

    def tinc(self, name: str, seconds: float) -> None:
        """Add one duration sample to a time average."""
        a = self._avg[name]
        a[0] += int(seconds * NSEC_PER_SEC)
        a[1] += 1

    def avg_inc(self, name: str, value: int) -> None:
        """Add one sample to an integer average."""
        a = self._avg[name]
        a[0] += int(value)
        a[1] += 1

    def get(self, name: str) -> int | tuple[int, int]:
        """A gauge's or counter's value, or an average's (sum, count)."""
        if name in self._avg:
            s, c = self._avg[name]
            return s, c
        return self._u64[name]

    # -- views
    def dump(self) -> dict[str, Any]:
        """`perf dump` of this logger (averages as avgcount/sum/avgtime)."""
        out: dict[str, Any] = {}
        for name, t in self.types.items():
            if name not in self._avg:
                out[name] = self._u64[name]
                continue
            s, c = self._avg[name]
            if t.type & PERFCOUNTER_TIME:
                secs = s / NSEC_PER_SEC
                out[name] = {"avgcount": c, "sum": secs, "avgtime": secs / c if c else 0.0}
            else:
                out[name] = {"avgcount": c, "sum": s}
        return out

    def schema(self) -> dict[str, Any]:
        return {name: t.schema() for name, t in self.types.items()}


class PerfCountersCollection:
    """A daemon's loggers (upstream PerfCountersCollection)."""

    def __init__(self) -> None:
        self.loggers: dict[str, PerfCounters] = {}

    def create(self, name: str) -> PerfCounters:
        """A new, registered logger named `name`."""
        if name in self.loggers:
            raise ValueError(f"perf counters {name} already registered")
        pc = PerfCounters(name)
        self.loggers[name] = pc
        return pc

    def dump(self) -> dict[str, Any]:
        return {n: pc.dump() for n, pc in self.loggers.items()}

    def schema(self) -> dict[str, Any]:
        return {n: pc.schema() for n, pc in self.loggers.items()}

    def report_types(self) -> dict[str, dict[str, Any]]:
        """Every counter's declaration by path `<logger>.<counter>`."""
        return {
            f"{n}.{name}": t.report_type()
            for n, pc in self.loggers.items()
            for name, t in pc.types.items()
        }

    def report_values(self) -> dict[str, int | list[int]]:
        """Every counter's value by path; an average is `[sum, count]`."""
        out: dict[str, int | list[int]] = {}
        for n, pc in self.loggers.items():
            for name in pc.types:
                v = pc.get(name)
                out[f"{n}.{name}"] = list(v) if isinstance(v, tuple) else v
        return out

    def report(self) -> dict[str, Any]:
        """The `perf` part of a daemon's mgr report."""
        return {"types": self.report_types(), "values": self.report_values()}
