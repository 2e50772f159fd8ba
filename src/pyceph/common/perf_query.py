"""OSD perf metric queries: per-client, per-pool, per-object op counters on demand (sans-I/O).

A mgr module asks for counters grouped by a key (`MgrModule.add_osd_perf_query`, as
`rbd_support` does for `rbd perf image iostat|iotop`): a key descriptor — a list of
`{type, regex}` sub-keys over an op's client id, client address, pool id, namespace, OSD
id, PG id, object name or snap id, each regex with at least one capture group — and the
counters to keep per key (ops, bytes and latencies, all or for writes or reads only),
optionally only the `max_count` keys with the largest `order_by` counter.

The mgr (`OsdPerfQueries`) hands the distinct queries to every OSD with its reports
(upstream MMgrConfigure); each OSD (`OsdPerfStats`) counts its client ops per query and
key and sends what it counted with its next report (upstream DynamicPerfStats in
MMgrReport); the mgr adds the reports into every query id asking for that query, and
`get_osd_perf_counters` hands a query id's counters over and starts it afresh (upstream
OSDPerfMetricCollector::get_counters). Semantics follow upstream
`mgr/OSDPerfMetricTypes.{h,cc}`, `mgr/OSDPerfMetricCollector.cc` and
`mgr/ActivePyModules.cc` (`add_osd_perf_query`, `get_osd_perf_counters`).
"""

from __future__ import annotations

import errno
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

#: OSDPerfMetricSubKeyType: what a sub-key's regex is matched against.
SUB_KEY_TYPES = (
    "client_id",
    "client_address",
    "pool_id",
    "namespace",
    "osd_id",
    "pg_id",
    "object_name",
    "snap_id",
)
#: PerformanceCounterType: the counters a query may keep.
COUNTER_TYPES = (
    "ops",
    "write_ops",
    "read_ops",
    "bytes",
    "write_bytes",
    "read_bytes",
    "latency",
    "write_latency",
    "read_latency",
)
_NSEC = 1_000_000_000


@dataclass(frozen=True)
class PerfQuery:
    """One validated query: its sub-keys and counters (the limit is kept per query id)."""

    key_descriptor: tuple[tuple[str, str], ...]
    counters: tuple[str, ...]

    @property
    def wire_key(self) -> str:
        """The query's identity on the wire: equal queries share one OSD-side count."""
        return json.dumps([self.key_descriptor, self.counters])

    def to_wire(self, limits: list[tuple[str, int]] | None) -> dict[str, Any]:
        return {
            "id": self.wire_key,
            "key_descriptor": [list(d) for d in self.key_descriptor],
            "counters": list(self.counters),
            "limits": None if limits is None else [list(lim) for lim in limits],
        }


def parse_query(query: Any) -> tuple[PerfQuery, tuple[str, int] | None]:
    """A module's query dict as upstream's ActivePyModules reads it: the query and its
    limit (order_by, max_count); ValueError says what is wrong."""
    if not isinstance(query, dict):
        raise ValueError("query is not a dict")
    subs = []
    for d in query.get("key_descriptor") or []:
        if not isinstance(d, dict) or d.get("type") not in SUB_KEY_TYPES:
            raise ValueError(f"invalid key_descriptor entry {d!r}")
        regex = d.get("regex")
        if not isinstance(regex, str):
            raise ValueError(f"invalid regex {regex!r}")
        try:
            compiled = re.compile(regex)
        except re.error as e:
            raise ValueError(f"invalid regex {regex!r}: {e}") from None
        if compiled.groups == 0:  # upstream: a sub-key is the regex's capture groups
            raise ValueError(f"regex {regex!r} has no capture group")
        subs.append((str(d["type"]), regex))
    if not subs:
        raise ValueError("empty key_descriptor")
    counters = query.get("performance_counter_descriptors") or []
    if not counters or any(c not in COUNTER_TYPES for c in counters):
        raise ValueError(f"invalid performance_counter_descriptors {counters!r}")
    limit = None
    if query.get("limit") is not None:
        lim = query["limit"]
        order_by, max_count = lim.get("order_by"), lim.get("max_count")
        if order_by not in counters or not isinstance(max_count, int) or max_count < 1:
            raise ValueError(f"invalid limit {lim!r}")
        limit = (str(order_by), int(max_count))
    return PerfQuery(tuple(subs), tuple(str(c) for c in counters)), limit


class OsdPerfQueries:
    """The mgr's registry of queries and the counters the OSDs reported for them.

    Modules call it from their threads and the daemon feeds it reports from its loop, so
    every method takes the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_id = 0
        #: query -> {query id: its limit (None: unlimited)}
        self._queries: dict[PerfQuery, dict[int, tuple[str, int] | None]] = {}
        #: query id -> key -> [[sum, count] per counter]
        self._counters: dict[int, dict[tuple[tuple[str, ...], ...], list[list[int]]]] = {}
        #: bumped whenever what the OSDs must count changes
        self.version = 0

    def add(self, query: Any) -> int | None:
        """A new query id, or None when the query is invalid (upstream returns None)."""
        try:
            q, limit = parse_query(query)
        except ValueError:
            return None
        with self._lock:
            self._next_id += 1
            qid = self._next_id
            self._queries.setdefault(q, {})[qid] = limit
            self._counters[qid] = {}
            self.version += 1
            return qid

    def remove(self, qid: int) -> int:
        """0, or -ENOENT for an unknown id."""
        with self._lock:
            for q, ids in self._queries.items():
                if qid in ids:
                    del ids[qid]
                    if not ids:
                        del self._queries[q]
                    self._counters.pop(qid, None)
                    self.version += 1
                    return 0
        return -errno.ENOENT

    def wire(self) -> list[dict[str, Any]]:
        """The distinct queries for the OSDs; a query is limited only when every id asking
        for it is (then the OSD keeps the top keys of each limit)."""
        with self._lock:
            out = []
            for q, ids in self._queries.items():
                limits = [lim for lim in ids.values() if lim is not None]
                out.append(q.to_wire(sorted(set(limits)) if len(limits) == len(ids) else None))
            return out

    def ingest(self, reports: Any) -> None:
        """Add one OSD's report (`OsdPerfStats.take_report`) into every id of its query."""
        if not isinstance(reports, list):
            return
        with self._lock:
            by_key = {q.wire_key: (q, ids) for q, ids in self._queries.items()}
            for rep in reports:
                if not isinstance(rep, dict) or rep.get("id") not in by_key:
                    continue  # a query removed since the OSD was told
                q, ids = by_key[rep["id"]]
                for key, values in rep.get("counters") or []:
                    k = tuple(tuple(str(p) for p in sub) for sub in key)
                    for qid in ids:
                        acc = self._counters[qid].setdefault(k, [[0, 0] for _ in q.counters])
                        for slot, (s, c) in zip(acc, values, strict=False):
                            slot[0] += int(s)
                            slot[1] += int(c)

    def take_counters(self, qid: int) -> dict[str, Any] | None:
        """What was counted for `qid` since the last call, as upstream's
        get_osd_perf_counters ({"counters": [{"k": sub-keys, "c": [[sum, count]...]}]});
        None for an unknown id."""
        with self._lock:
            counted = self._counters.get(qid)
            if counted is None:
                return None
            self._counters[qid] = {}
        return {"counters": [{"k": [list(s) for s in k], "c": c} for k, c in counted.items()]}


@dataclass
class OpFacts:
    """What an OSD knows of one finished client op, for the queries' keys and counters."""

    client_id: str
    client_address: str
    pool_id: int
    namespace: str
    osd_id: int
    pg_id: str
    object_name: str
    snap_id: int | None
    reads: bool
    writes: bool
    in_bytes: int
    out_bytes: int
    latency: float

    def field(self, kind: str) -> str:
        if kind == "snap_id":
            return "head" if self.snap_id is None else f"{self.snap_id:x}"
        return str(getattr(self, kind))


class OsdPerfStats:
    """An OSD's counts for the mgr's queries between two reports (upstream
    DynamicPerfStats)."""

    def __init__(self) -> None:
        self._queries: list[tuple[str, list[tuple[str, re.Pattern[str]]], list[str], Any]] = []
        self._counts: dict[str, dict[tuple[tuple[str, ...], ...], list[list[int]]]] = {}

    @property
    def active(self) -> bool:
        return bool(self._queries)

    def set_queries(self, wire: Any) -> None:
        """The queries the mgr sent; counts of queries no longer asked for are dropped."""
        queries = []
        for w in wire if isinstance(wire, list) else []:
            try:
                q, _ = parse_query({
                    "key_descriptor": [{"type": t, "regex": r} for t, r in w["key_descriptor"]],
                    "performance_counter_descriptors": w["counters"],
                })  # fmt: skip
            except (ValueError, KeyError, TypeError):
                continue
            subs = [(t, re.compile(r)) for t, r in q.key_descriptor]
            queries.append((q.wire_key, subs, list(q.counters), w.get("limits")))
        self._queries = queries
        self._counts = {k: v for k, v in self._counts.items() if k in {q[0] for q in queries}}

    def record(self, op: OpFacts) -> None:
        """Count one op into every query whose sub-keys all match it."""
        for wire_key, subs, counters, _limits in self._queries:
            key = []
            for kind, rx in subs:
                m = rx.search(op.field(kind))
                if m is None:
                    break
                key.append(tuple("" if g is None else g for g in m.groups()))
            else:
                acc = self._counts.setdefault(wire_key, {}).setdefault(
                    tuple(key), [[0, 0] for _ in counters]
                )
                for slot, counter in zip(acc, counters, strict=True):
                    _update(slot, counter, op)

    def take_report(self) -> list[dict[str, Any]]:
        """What was counted since the last report, the top keys of each limit only."""
        out = []
        for wire_key, _subs, counters, limits in self._queries:
            counted = self._counts.pop(wire_key, {})
            keys = list(counted)
            if limits:
                keep: set[tuple[tuple[str, ...], ...]] = set()
                for order_by, max_count in limits:
                    i = counters.index(order_by)
                    keep.update(sorted(keys, key=lambda k, i=i: -counted[k][i][0])[:max_count])
                keys = [k for k in keys if k in keep]
            out.append({"id": wire_key, "counters": [[list(k), counted[k]] for k in keys]})
        return out


def _update(slot: list[int], counter: str, op: OpFacts) -> None:
    """Upstream PerformanceCounterDescriptor::update_counter (latencies in nanoseconds)."""
    if counter.startswith("write_") and not op.writes:
        return
    if counter.startswith("read_") and not op.reads:
        return
    if counter.endswith("ops"):
        slot[0] += 1
    elif counter.endswith("bytes"):
        slot[0] += {"bytes": op.in_bytes + op.out_bytes, "write_bytes": op.in_bytes}.get(
            counter, op.out_bytes
        )
    else:
        slot[0] += int(op.latency * _NSEC)
        slot[1] += 1
