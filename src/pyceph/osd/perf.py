"""An OSD's perf counters under upstream's names (`osd`, `objecter` loggers).

Upstream: `build_osd_logger` (src/osd/osd_perf_counters.cc) and
`PrimaryLogPG::log_op_stats` (src/osd/PrimaryLogPG.cc): a client op is counted
when its reply is ready, by kind (read, write, read-modify-write), with the bytes
it carried in and out and three latencies:

- `op_latency`: from the message's arrival to the reply (queue time included);
- `op_process_latency`: from the op reaching its PG to the reply;
- `op_prepare_latency`: the same span here (pyceph's PG commits before replying,
  so there is no separate "wait for finished" phase to leave out).

Gauges (`numpg*`, `stat_bytes*`) are set when the OSD builds its mgr report,
which also carries the daemon health metrics upstream's OSD reports
(`SLOW_OPS`: client ops in flight for longer than `osd_op_complaint_time`;
`PENDING_CREATING_PGS`: its primary PGs still being created).
The `objecter` logger is declared as upstream's OSD has it; pyceph's OSD issues
no RADOS ops of its own, so those counters stay at zero.
"""

from __future__ import annotations

from typing import Any

from pyceph.common.perf_counters import (
    PRIO_CRITICAL,
    PRIO_INTERESTING,
    PRIO_USEFUL,
    UNIT_BYTES,
    PerfCountersCollection,
)

__all__ = ["OSDPerf"]

#: the three client-op kinds and the counter name prefix of each
_KINDS = {"r": "op_r", "w": "op_w", "rw": "op_rw"}
_LATENCY_TEXT = {
    "op": ("client operations", "client operations"),
    "op_r": ("read operation", "read operations"),
    "op_w": ("write operation", "write operations"),
    "op_rw": ("read-modify-write operation", "read-modify-write operations"),
}


class OSDPerf:
    """The counters of one OSD and the points where they move."""

    def __init__(self) -> None:
        self.coll = PerfCountersCollection()
        o = self.osd = self.coll.create("osd")
        o.add_u64("op_wip", "Replication operations currently being processed (primary)", prio=PRIO_USEFUL)  # fmt: skip
        o.add_u64_counter("op", "Client operations", "ops", PRIO_CRITICAL)
        o.add_u64_counter("op_in_bytes", "Client operations total write size", "wr", PRIO_INTERESTING, UNIT_BYTES)  # fmt: skip
        o.add_u64_counter("op_out_bytes", "Client operations total read size", "rd", PRIO_INTERESTING, UNIT_BYTES)  # fmt: skip
        self._latencies(o, "op", "l")
        o.add_u64_counter("op_r", "Client read operations", prio=PRIO_USEFUL)
        o.add_u64_counter("op_r_out_bytes", "Client data read", prio=PRIO_USEFUL, unit=UNIT_BYTES)
        self._latencies(o, "op_r")
        o.add_u64_counter("op_w", "Client write operations", prio=PRIO_USEFUL)
        o.add_u64_counter("op_w_in_bytes", "Client data written", prio=PRIO_USEFUL, unit=UNIT_BYTES)
        self._latencies(o, "op_w")
        o.add_u64_counter("op_rw", "Client read-modify-write operations", prio=PRIO_USEFUL)
        o.add_u64_counter("op_rw_in_bytes", "Client read-modify-write operations write in", prio=PRIO_USEFUL, unit=UNIT_BYTES)  # fmt: skip
        o.add_u64_counter("op_rw_out_bytes", "Client read-modify-write operations read out ", prio=PRIO_USEFUL, unit=UNIT_BYTES)  # fmt: skip
        self._latencies(o, "op_rw")
        o.add_u64_counter("subop", "Suboperations")
        o.add_u64_counter("subop_in_bytes", "Suboperations total size", unit=UNIT_BYTES)
        o.add_time_avg("subop_latency", "Suboperations latency")
        o.add_u64_counter("recovery_ops", "Started recovery operations", "rop", PRIO_INTERESTING)
        o.add_u64_counter("recovery_bytes", "recovery bytes", "rbt", PRIO_INTERESTING, UNIT_BYTES)  # fmt: skip
        self._commit_sum = 0.0
        self._commit_n = 0
        self._commit_ns = 0
        o.add_u64("numpg", "Placement groups", "pgs", PRIO_USEFUL)
        o.add_u64("numpg_primary", "Placement groups for which this osd is primary")
        o.add_u64("numpg_replica", "Placement groups for which this osd is replica")
        o.add_u64("numpg_stray", "Placement groups ready to be deleted from this osd")
        o.add_u64("numpg_removing", "Placement groups queued for local deletion", "pgsr", PRIO_USEFUL)  # fmt: skip
        o.add_u64("stat_bytes", "OSD size", "size", PRIO_USEFUL, UNIT_BYTES)
        o.add_u64("stat_bytes_used", "Used space", "used", PRIO_USEFUL, UNIT_BYTES)
        o.add_u64("stat_bytes_avail", "Available space", "avail", unit=UNIT_BYTES)
        ob = self.objecter = self.coll.create("objecter")
        ob.add_u64("op_active", "Operations active", "actv", PRIO_CRITICAL)
        ob.add_u64_counter("op_r", "Read operations", "rd", PRIO_CRITICAL)
        ob.add_u64_counter("op_w", "Write operations", "wr", PRIO_CRITICAL)
        ob.add_u64_counter("op_rmw", "Read-modify-write operations", "rdwr", PRIO_INTERESTING)
        #: start time of each client op in flight, by token
        self._inflight: dict[int, float] = {}
        self._next_token = 0

    @staticmethod
    def _latencies(o: Any, prefix: str, nick: str = "") -> None:
        one, many = _LATENCY_TEXT[prefix]
        prio = PRIO_INTERESTING if prefix == "op" else PRIO_USEFUL
        o.add_time_avg(f"{prefix}_latency", f"Latency of {one} (including queue time)", nick, prio)  # fmt: skip
        o.add_time_avg(f"{prefix}_process_latency", f"Latency of {one} (excluding queue time)", prio=prio)  # fmt: skip
        o.add_time_avg(f"{prefix}_prepare_latency", f"Latency of {many} (excluding queue time and wait for finished)", prio=prio)  # fmt: skip

    # -- client ops
    def op_started(self, now: float) -> int:
        """A client op reaches its PG; the token ends it (`op_done`/`op_aborted`)."""
        self.osd.inc("op_wip")
        self._next_token += 1
        self._inflight[self._next_token] = now
        return self._next_token

    def op_aborted(self, token: int) -> None:
        self._inflight.pop(token, None)
        self.osd.dec("op_wip")

    def op_done(
        self,
        token: int,
        reads: bool,
        writes: bool,
        in_bytes: int,
        out_bytes: int,
        t_recv: float,
        t_start: float,
        t_end: float,
    ) -> None:
        """One client op answered (upstream log_op_stats)."""
        o = self.osd
        self._inflight.pop(token, None)
        o.dec("op_wip")
        o.inc("op")
        o.inc("op_in_bytes", in_bytes)
        o.inc("op_out_bytes", out_bytes)
        lat, proc = t_end - t_recv, t_end - t_start
        for prefix in ("op", _kind(reads, writes)):
            o.tinc(f"{prefix}_latency", lat)
            o.tinc(f"{prefix}_process_latency", proc)
            o.tinc(f"{prefix}_prepare_latency", proc)
        kind = _kind(reads, writes)
        o.inc(kind)
        if kind == "op_r":
            o.inc("op_r_out_bytes", out_bytes)
        elif kind == "op_w":
            o.inc("op_w_in_bytes", in_bytes)
        else:
            o.inc("op_rw_in_bytes", in_bytes)
            o.inc("op_rw_out_bytes", out_bytes)

    # -- replication and recovery
    def subop(self, in_bytes: int, seconds: float) -> None:
        self.osd.inc("subop")
        self.osd.inc("subop_in_bytes", in_bytes)
        self.osd.tinc("subop_latency", seconds)

    def recovery(self, nbytes: int) -> None:
        self.osd.inc("recovery_ops")
        self.osd.inc("recovery_bytes", nbytes)

    # -- the object store
    def store_commit(self, seconds: float) -> None:
        """One transaction queued and durable in `seconds` (BlueStore's commit_lat)."""
        self._commit_sum += seconds
        self._commit_n += 1

    def perf_stat(self) -> dict[str, int]:
        """objectstore_perf_stat_t: the mean commit latency since the last call (the last
        figure again if nothing committed since); apply equals commit, as BlueStore's."""
        if self._commit_n:
            self._commit_ns = int(self._commit_sum / self._commit_n * 1e9)
            self._commit_sum, self._commit_n = 0.0, 0
        return {"commit_latency_ns": self._commit_ns, "apply_latency_ns": self._commit_ns}

    # -- report time
    def set_pgs(self, total: int, primary: int, replica: int, stray: int) -> None:
        o = self.osd
        o.set("numpg", total)
        o.set("numpg_primary", primary)
        o.set("numpg_replica", replica)
        o.set("numpg_stray", stray)

    def set_statfs(self, total: int, used: int, avail: int) -> None:
        o = self.osd
        o.set("stat_bytes", total)
        o.set("stat_bytes_used", used)
        o.set("stat_bytes_avail", avail)

    def health_metrics(self, now: float, complaint_time: float, creating_pgs: int) -> list[dict[str, Any]]:  # fmt: skip
        """Upstream's DaemonHealthMetric list of an OSD."""
        slow = sum(1 for t in self._inflight.values() if now - t > complaint_time)
        return [
            {"type": "SLOW_OPS", "value": slow},
            {"type": "PENDING_CREATING_PGS", "value": int(creating_pgs)},
        ]

    def report(self, health_metrics: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The `perf` part of the mgr report (counters, and health metrics if given)."""
        out = self.coll.report()
        if health_metrics is not None:
            out["health_metrics"] = health_metrics
        return out


def _kind(reads: bool, writes: bool) -> str:
    if writes and reads:
        return _KINDS["rw"]
    return _KINDS["w"] if writes else _KINDS["r"]
