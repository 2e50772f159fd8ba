"""What a PG needs from its OSD (`PGService`) and the OSD's named limits (`OSDOptions`).

PGs talk to peers, the monitor and the store only through this interface, so unit tests
can run several OSDs' PGs in one process over a fake transport.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pyceph.common.runtime import Runtime
from pyceph.msg.message import Message
from pyceph.osd.ops import Limits
from pyceph.osd.perf import OSDPerf
from pyceph.osd.reserver import AsyncReserver
from pyceph.store.objectstore import ObjectStore

#: Client ops a PG keeps queued while it peers; beyond this new ops get EAGAIN.
MAX_WAITING_OPS_PER_PG = 4096
#: Replicated ops a replica parks waiting for an earlier one; beyond this it refuses.
MAX_PARKED_REP_OPS = 4096
#: Free bytes an OSD keeps in reserve: writes that would dip into it get ENOSPC.
FULL_RESERVE_BYTES = 1 << 20
#: CEPH_OSD_FLAG_FULL_FORCE: the client may write (delete) even when the pool is full.
FLAG_FULL_FORCE = 0x1000
#: Seconds between retries of a peer message that failed (peer restarting, ...).
PEER_RETRY_DELAY = 0.5
#: How long a peer message may take before it is retried.
PEER_CALL_TIMEOUT = 30.0
#: Objects per page when listing a PG for backfill.
BACKFILL_LIST_PAGE = 1024
#: Largest pgls page a client may ask for.
MAX_PGLS_PAGE = 4096


@dataclass
class OSDOptions:
    """The config options the OSD core reads (defaults = upstream's)."""

    max_pg_log_entries: int = 10000
    min_pg_log_entries: int = 250
    pg_log_dups_tracked: int = 3000
    pg_log_trim_min: int = 100  #: osd_pg_log_trim_min (trim in batches of at least this)
    pg_log_trim_max: int = 10000  #: osd_pg_log_trim_max (at most this many at once)
    max_write_size: int = 90 << 20
    max_object_name_len: int = 2048  #: osd_max_object_name_len (also bounds the locator key)
    max_object_namespace_len: int = 256  #: osd_max_object_namespace_len
    limits: Limits = field(default_factory=Limits)
    client_watch_timeout: float = 30.0  #: osd_client_watch_timeout
    default_notify_timeout: float = 30.0  #: osd_default_notify_timeout
    bench_small_size_max_iops: int = 100  #: osd_bench_small_size_max_iops
    bench_large_size_max_throughput: int = 100 << 20  #: osd_bench_large_size_max_throughput
    bench_max_block_size: int = 64 << 20  #: osd_bench_max_block_size
    bench_duration: int = 30  #: osd_bench_duration
    client_message_size_cap: int = 500 << 20  #: osd_client_message_size_cap
    client_message_cap: int = 256  #: osd_client_message_cap
    recovery_sleep: float = 0.0  #: osd_recovery_sleep (seconds between recovered objects)
    max_backfills: int = 1  #: osd_max_backfills (backfills to or from one OSD at once)
    backfill_retry_interval: float = 30.0  #: osd_backfill_retry_interval (after toofull)

    @classmethod
    def from_config(cls, cfg: Any) -> OSDOptions:
        def g(name: str, default: Any) -> Any:
            try:
                v = cfg.get(name)
            except Exception:
                return default
            return default if v is None else v

        return cls(
            max_pg_log_entries=int(g("osd_max_pg_log_entries", 10000)),
            min_pg_log_entries=int(g("osd_min_pg_log_entries", 250)),
            pg_log_dups_tracked=int(g("osd_pg_log_dups_tracked", 3000)),
            pg_log_trim_min=int(g("osd_pg_log_trim_min", 100)),
            pg_log_trim_max=int(g("osd_pg_log_trim_max", 10000)),
            max_write_size=int(g("osd_max_write_size", 90)) << 20,
            max_object_name_len=int(g("osd_max_object_name_len", 2048)),
            max_object_namespace_len=int(g("osd_max_object_namespace_len", 256)),
            limits=Limits(
                max_object_size=int(g("osd_max_object_size", 128 << 20)),
                max_attr_name_len=int(g("osd_max_attr_name_len", 100)),
                max_attr_size=int(g("osd_max_attr_size", 0)) or (1 << 20),
                max_omap_entries=int(g("osd_max_omap_entries_per_request", 1024)),
                max_omap_bytes=int(g("osd_max_omap_bytes_per_request", 1 << 30)),
            ),
            client_watch_timeout=float(g("osd_client_watch_timeout", 30)),
            default_notify_timeout=float(g("osd_default_notify_timeout", 30)),
            bench_small_size_max_iops=int(g("osd_bench_small_size_max_iops", 100)),
            bench_large_size_max_throughput=int(
                g("osd_bench_large_size_max_throughput", 100 << 20)
            ),
            bench_max_block_size=int(g("osd_bench_max_block_size", 64 << 20)),
            bench_duration=int(g("osd_bench_duration", 30)),
            client_message_size_cap=int(g("osd_client_message_size_cap", 500 << 20)),
            client_message_cap=int(g("osd_client_message_cap", 256)),
            recovery_sleep=float(g("osd_recovery_sleep", 0.0)),
            max_backfills=int(g("osd_max_backfills", 1)),
            backfill_retry_interval=float(g("osd_backfill_retry_interval", 30.0)),
        )


class PGService(Protocol):
    """The OSD as its PGs see it."""

    whoami: int
    store: ObjectStore
    runtime: Runtime
    opts: OSDOptions
    #: osd_max_backfills slots for backfills this OSD drives as primary (upstream
    #: local_reserver) and for those it receives as a target (remote_reserver)
    local_reserver: AsyncReserver
    remote_reserver: AsyncReserver
    #: the OSD's perf counters (a PG times its store commits into them)
    perf: OSDPerf

    @property
    def map_epoch(self) -> int: ...

    async def call_osd(
        self, osd: int, mtype: str, head: dict[str, Any], data: bytes | memoryview = b""
    ) -> Message: ...

    def request_up_thru(self, epoch: int) -> None: ...

    def request_pg_temp(self, pgid: str, osds: list[int]) -> None:
        """Ask the monitor for pg_temp `osds` for `pgid` ([]: remove it)."""

    def is_full(self, pool: int) -> bool: ...

    def backfill_toofull(self) -> bool:
        """Is this OSD at or above the map's backfillfull_ratio (no backfill to it)?"""

    async def wait_for_map(self, epoch: int) -> None: ...

    def merge_quiesced(self) -> None:
        """A PG waiting to be merged has no client op running any more."""
