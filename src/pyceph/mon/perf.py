"""The monitor's perf counters (`mon`, `paxos`, `cluster`) and its report to the mgr.

Upstream: `Monitor::register_cluster_logger`/the `mon` logger (src/mon/Monitor.cc),
`Paxos::init_logger` (src/mon/Paxos.cc) and the monitor's `MgrClient`, which
sends `MMgrReport`s to the active mgr like every daemon. pyceph's monitor is a
single-monitor state machine: it wins the one election at start (a quorum of
one), and each commit of its pending state is one Paxos round as a lone leader
runs it (`begin`, `commit`, `refresh`, with the keys and bytes written and the
time the durable write took). Counters of the multi-monitor protocol (collects,
leases, timeouts, peon starts) are declared and stay at zero, as on a one-monitor
upstream cluster.
"""

from __future__ import annotations

import logging
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.perf_counters import (
    PRIO_INTERESTING,
    PRIO_USEFUL,
    UNIT_BYTES,
    PerfCountersCollection,
)

__all__ = ["MonPerf", "MON_REPORT_POLL"]

log = logging.getLogger("pyceph.mon")

#: how often the report loop looks at the mgr map (reports go out each mgr_stats_period)
MON_REPORT_POLL = 1.0

#: paxos averages: name -> description (keys and bytes are u64 averages)
_PAXOS_PHASES = {
    "begin": ("Started and handled begins", "on begin"),
    "commit": ("Commits", "on commit"),
    "collect": ("Peon collects", "on peon collect"),
    "store_state": ("Store a shared state on disk", "in stored state"),
}


class MonPerf:
    """The counters of one monitor."""

    def __init__(self) -> None:
        self.coll = PerfCountersCollection()
        m = self.mon = self.coll.create("mon")
        m.add_u64("num_sessions", "Open sessions", "sess", PRIO_USEFUL)
        m.add_u64_counter("session_add", "Created sessions", "sadd", PRIO_INTERESTING)
        m.add_u64_counter("session_rm", "Removed sessions", "srm", PRIO_INTERESTING)
        m.add_u64_counter("session_trim", "Trimmed sessions", "strm", PRIO_USEFUL)
        m.add_u64_counter("num_elections", "Elections participated in", "ecnt", PRIO_USEFUL)
        m.add_u64_counter("election_call", "Elections started", "estt", PRIO_INTERESTING)
        m.add_u64_counter("election_win", "Elections won", "ewon", PRIO_INTERESTING)
        m.add_u64_counter("election_lose", "Elections lost", "elst", PRIO_INTERESTING)
        p = self.paxos = self.coll.create("paxos")
        p.add_u64_counter("start_leader", "Starts in leader role", prio=PRIO_USEFUL)
        p.add_u64_counter("start_peon", "Starts in peon role", prio=PRIO_USEFUL)
        p.add_u64_counter("restart", "Restarts", prio=PRIO_USEFUL)
        p.add_u64_counter("refresh", "Refreshes", prio=PRIO_USEFUL)
        p.add_time_avg("refresh_latency", "Refresh latency", prio=PRIO_USEFUL)
        for phase, (count_desc, where) in _PAXOS_PHASES.items():
            p.add_u64_counter(phase, count_desc, prio=PRIO_USEFUL)
            p.add_u64_avg(f"{phase}_keys", f"Keys in transaction {where}", prio=PRIO_USEFUL)
            p.add_u64_avg(f"{phase}_bytes", f"Data in transaction {where}", prio=PRIO_USEFUL, unit=UNIT_BYTES)  # fmt: skip
        p.add_time_avg("begin_latency", "Latency of begin operation", prio=PRIO_USEFUL)
        p.add_time_avg("commit_latency", "Commit latency", prio=PRIO_USEFUL)
        p.add_time_avg("collect_latency", "Peon collect latency", prio=PRIO_USEFUL)
        p.add_time_avg("store_state_latency", "Storing state latency", prio=PRIO_USEFUL)
        p.add_u64_counter("collect_uncommitted", "Uncommitted values in started and handled collects", prio=PRIO_USEFUL)  # fmt: skip
        p.add_u64_counter("collect_timeout", "Collect timeouts", prio=PRIO_USEFUL)
        p.add_u64_counter("accept_timeout", "Accept timeouts", prio=PRIO_USEFUL)
        p.add_u64_counter("lease_ack_timeout", "Lease acknowledgement timeouts", prio=PRIO_USEFUL)
        p.add_u64_counter("lease_timeout", "Lease timeouts", prio=PRIO_USEFUL)
        p.add_u64_counter("new_pn", "New proposal number queries", prio=PRIO_USEFUL)
        p.add_time_avg("new_pn_latency", "New proposal number getting latency", prio=PRIO_USEFUL)
        p.add_u64_counter("share_state", "Sharings of state", prio=PRIO_USEFUL)
        p.add_u64_avg("share_state_keys", "Keys in shared state", prio=PRIO_USEFUL)
        p.add_u64_avg("share_state_bytes", "Data in shared state", prio=PRIO_USEFUL, unit=UNIT_BYTES)  # fmt: skip
        c = self.cluster = self.coll.create("cluster")
        c.add_u64("num_mon", "Monitors")
        c.add_u64("num_mon_quorum", "Monitors in quorum")
        c.add_u64("num_osd", "OSDs")
        c.add_u64("num_osd_up", "OSDs that are up")
        c.add_u64("num_osd_in", 'OSD in state "in" (they are in cluster)')
        c.add_u64("osd_epoch", "Current epoch of OSD map")
        c.add_u64("num_pool", "Pools")

    # -- events
    def started(self) -> None:
        """The monitor starts: it calls and wins the election of a one-monitor quorum,
        and its Paxos (re)starts as leader."""
        self.mon.inc("num_elections")
        self.mon.inc("election_win")
        self.paxos.inc("restart")
        self.paxos.inc("start_leader")

    def session_add(self) -> None:
        self.mon.inc("session_add")
        self.mon.inc("num_sessions")

    def session_rm(self) -> None:
        self.mon.inc("session_rm")
        self.mon.dec("num_sessions")

    def paxos_round(self, keys: int, nbytes: int, seconds: float) -> None:
        """One committed proposal: begin and commit of `keys` keys / `nbytes` bytes."""
        p = self.paxos
        for phase in ("begin", "commit"):
            p.inc(phase)
            p.avg_inc(f"{phase}_keys", keys)
            p.avg_inc(f"{phase}_bytes", nbytes)
            p.tinc(f"{phase}_latency", seconds)
        p.inc("refresh")
        p.tinc("refresh_latency", 0.0)

    # -- report
    def update_cluster(self, state: Any) -> None:
        """Set the `cluster` gauges from the monitor's maps."""
        c = self.cluster
        mons = len(state.monmap.get("mons", [])) or 1
        c.set("num_mon", mons)
        c.set("num_mon_quorum", mons)
        om = state.osdmap
        c.set("num_osd", len(om.osds))
        c.set("num_osd_up", sum(1 for o in om.osds if om.is_up(o)))
        c.set("num_osd_in", sum(1 for o in om.osds if om.is_in(o)))
        c.set("osd_epoch", om.epoch)
        c.set("num_pool", len(om.pools))

    async def report_loop(self, daemon: Any) -> None:
        """Send `mgr_report` with the counters to the active mgr every mgr_stats_period
        (upstream MgrClient): the mgr keeps them for its modules (`get_perf_schema`...)."""
        from pyceph.common.addr import parse_addr

        clock = daemon.runtime.clock
        last = float("-inf")
        sent_to = ""
        while True:
            await clock.sleep(MON_REPORT_POLL)
            mm = daemon.state.mgrmap
            addr = str(mm.get("active_addr", ""))
            period = float(daemon.config.get("mgr_stats_period"))
            if not addr or not mm.get("available"):
                continue
            if addr == sent_to and clock.monotonic() - last < period:
                continue
            self.update_cluster(daemon.state)
            try:
                conn = await daemon.msgr.connect(parse_addr(addr.split("/")[0]), "mgr")
                perf = self.coll.report()
                # the monitor answers each request as it is dispatched: nothing waits long
                perf["health_metrics"] = [{"type": "SLOW_OPS", "value": 0}]
                conn.send("mgr_report", {"daemon": f"mon.{daemon.name}", "perf": perf})
                sent_to, last = addr, clock.monotonic()
            except CephError as e:
                log.debug("mon.%s: mgr report failed: %s", daemon.name, e)
