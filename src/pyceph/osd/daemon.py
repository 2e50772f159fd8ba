"""pyceph-osd: the OSD daemon, the asyncio shell around the `OSD` core.

It opens the store, authenticates to the monitors as osd.N, listens for clients and
peers on one messenger (tickets checked with the rotating osd keys), boots, follows
the OSDMap, heartbeats its peers (reporting failures), reports stats to the active
mgr, and on SIGTERM asks to be marked down and stops every task it started.
`run_osd` is the in-process entry the embedded cluster and tests use.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from pyceph.auth.keys import load_secret
from pyceph.common.addr import parse_addr
from pyceph.common.errors import CephError
from pyceph.common.process import load_config, pid_file, run_until_signal, setup_logging
from pyceph.common.runtime import Runtime, install_uvloop, real_runtime
from pyceph.common.tasks import TaskSet
from pyceph.msg.connection import Connection
from pyceph.msg.message import Message
from pyceph.msg.messenger import Messenger
from pyceph.osd.osd import OSD
from pyceph.osd.scrub import ScrubOptions
from pyceph.osd.service import PEER_CALL_TIMEOUT, OSDOptions
from pyceph.osd.types import META_CID
from pyceph.store.errors import StoreError
from pyceph.store.transaction import Transaction
from pyceph.store.types import StoreSettings

log = logging.getLogger("pyceph.osd")

#: How long a clean shutdown waits for the monitor to mark us down.
MARK_DOWN_TIMEOUT = 5.0
#: How long start-up waits for the monitors.
MON_START_TIMEOUT = 60.0
PYCEPH_VERSION = "16.2.15-pyceph"
#: Seconds between passes of the scrub scheduler (upstream: every OSD tick).
SCRUB_SCHED_INTERVAL = 1.0
#: A mgr report due within this many seconds is sent now: a shorter timer fires at once
#: (asyncio's clock resolution) without the clock reaching it, so waiting for it would
#: spin (the simulator's virtual clock never moved: sim seed 8338 with --max-down 2).
REPORT_DUE_SLACK = 1e-3


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _whoami(config: Any) -> int:
    return int(config.entity_id)


def open_store(runtime: Runtime, config: Any, mkfs: bool = False) -> Any:
    """The OSD's object store under osd_data (created with --mkfs)."""
    path = os.path.join(str(config.get("osd_data")), "store")
    capacity = int(config.get("pyceph_osd_capacity"))
    settings = StoreSettings(
        extent_size=int(config.get("pyceph_store_extent_size")),
        max_batch_txns=int(config.get("pyceph_store_group_commit_max_ops")),
    )
    store = runtime.disk.open_store(path, capacity, settings)
    if mkfs:
        store.mkfs()
    try:
        store.mount()
    except StoreError as e:
        if e.errno != errno.ENOENT:
            raise
        # First start without --mkfs (pyceph up): create the store now.
        store.mkfs()
        store.mount()
        mkfs = True
    if mkfs and not store.collection_exists(META_CID):
        t = Transaction().create_collection(META_CID)
        t.meta_set(META_CID, b"whoami", str(_whoami(config)).encode())
        t.meta_set(META_CID, b"uuid", runtime.rand.randbytes(16).hex().encode())
        store.apply_transaction(t)
    return store


def _uuid(store: Any) -> str:
    raw = store.meta_get(META_CID, b"uuid") if store.collection_exists(META_CID) else None
    h = (raw or b"0" * 32).decode()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class OSDDaemon:
    """Sockets, monitor session, heartbeats and reports around one `OSD` core."""

    def __init__(self, runtime: Runtime, config: Any, store: Any) -> None:
        self.runtime = runtime
        self.config = config
        self.store = store
        self.whoami = _whoami(config)
        #: booted once (so a map showing this OSD down means it was marked down)
        self._booted = False
        self._rebooting = False
        self.entity = f"osd.{self.whoami}"
        self.tasks = TaskSet(self.entity)
        #: set by the MonClient on every mgr map (the report loop goes to a new mgr at
        #: once) and by `flush_pg_stats` (it reports now)
        self._report_now = asyncio.Event()
        #: `flush_pg_stats` asked for a report now; reports sent since boot (stat seq)
        self._flush_due = False
        self._reports_sent = 0
        self.monc: Any = None
        self.auth: Any = None
        self.msgr: Messenger | None = None
        self.osd: OSD | None = None
        self.addr: tuple[str, int] | None = None
        #: this instance's address nonce: tells the monitor a restart from a duplicate boot
        self.nonce = runtime.rand.randrange(1 << 32)
        #: per peer: when the oldest ping still unanswered was sent
        self._unacked: dict[int, float] = {}
        self._peer_up_from: dict[int, int] = {}
        self._reported: set[int] = set()

    # -- transport for the core --------------------------------------------------------
    async def _call_osd(
        self, osd: int, mtype: str, head: dict[str, Any], data: bytes | memoryview
    ) -> Message:
        assert self.msgr is not None and self.osd is not None
        m = self.osd.osdmap
        info = m.osds.get(osd) if m is not None else None
        if info is None or not info.up or not info.public_addr:
            raise CephError(errno.EHOSTDOWN, f"osd.{osd} is down")
        conn = await self.msgr.connect(parse_addr(info.public_addr), "osd")
        return await conn.call(mtype, head, data, timeout=PEER_CALL_TIMEOUT)

    async def osd_alive(self, want_up_thru: int) -> None:
        r = await self.monc.call("osd_alive", {"want_up_thru": want_up_thru}, timeout=30)
        if r.head.get("r", 0) == -errno.EACCES:
            await self._boot()  # a new mon session: say who we are again
            r = await self.monc.call("osd_alive", {"want_up_thru": want_up_thru}, timeout=30)
        if r.head.get("r", 0) < 0:
            raise CephError(-int(r.head["r"]), "osd_alive refused")

    def _mon_session_opened(self) -> None:
        """A new monitor session: resend what the old one may have lost (upstream
        OSD::ms_handle_connect: pg_temp wanted, ready-to-merge, failure reports)."""
        self._reported.clear()  # the heartbeat loop reports the still-silent peers again
        if self.osd is not None:
            self.osd.mon_session_opened()

    def pg_ready_to_merge(self, head: dict[str, Any]) -> None:
        self.monc.send("pg_ready_to_merge", head)

    def pg_temp(self, pgs: dict[str, list[int]]) -> None:
        self.monc.send("pg_temp", {"pgs": pgs})

    def flush_pg_stats(self) -> int:
        """`ceph tell osd.N flush_pg_stats`: wake the report loop to send now; the
        stat seq of that report, as upstream's (up_from << 32) + reports counted."""
        self._flush_due = True
        self._report_now.set()
        return self._stat_seq(self._reports_sent + 1)

    def _stat_seq(self, n: int) -> int:
        m = self.osd.osdmap if self.osd is not None else None
        info = m.osds.get(self.whoami) if m is not None else None
        return ((int(info.up_from) if info is not None else 0) << 32) + n

    # -- dispatch ------------------------------------------------------------------------
    def _dispatch(self, conn: Connection, msg: Message) -> None:
        if msg.type == "mgr_configure" and self.osd is not None:
            if conn.peer is not None and conn.peer.entity.startswith("mgr."):
                self.osd.perf_queries.set_queries(msg.head["osd_perf_queries"])
            return
        if "tid" not in msg.head or self.osd is None or self.tasks.closed:
            return
        self.tasks.spawn(self._serve(conn, msg), msg.type)

    async def _serve(self, conn: Connection, msg: Message) -> None:
        assert self.osd is not None and conn.peer is not None
        entity = conn.peer.entity
        caps = None if entity.startswith("osd.") or entity.startswith("mon.") else conn.peer.caps
        try:
            reply = await self.osd.handle(entity, msg.type, msg.head, msg.data, caps, conn)
        except CephError as e:
            reply = ({"r": -e.errno, "epoch": self.osd.map_epoch}, b"")
        except StoreError as e:
            # the store refused (name too long, ...): the requester gets the errno rather
            # than waiting for a reply that never comes
            log.warning("osd.%d: %s failed in the store: %s", self.whoami, msg.type, e)
            reply = ({"r": -e.errno, "epoch": self.osd.map_epoch}, b"")
        except Exception:
            # a bug, not the request's fault: say so in the log, and answer EIO rather than
            # leave the requester waiting forever for a reply
            log.exception("osd.%d: %s from %s failed", self.whoami, msg.type, entity)
            reply = ({"r": -errno.EIO, "epoch": self.osd.map_epoch}, b"")
        if reply is not None and not conn.closed:
            try:
                conn.reply(msg, reply[0], reply[1])
            except CephError:
                pass

    def _on_osdmap(self, m: Any) -> None:
        """Every epoch in order; the checks on our own state only on the newest one of a
        message (upstream _committed_osd_maps), since an older one may show us down."""
        if self.osd is not None:
            self.osd.handle_map(m)
            newest = self.monc.osdmap if self.monc is not None else m
            if newest is None or m.epoch >= newest.epoch:
                self.osd.reap_removed()
                self._maybe_reboot(m)

    def _maybe_reboot(self, m: Any) -> None:
        """Upstream OSD::_committed_osd_maps: marked down while running ("wrongly marked
        me down", `osd down`), boot again (OSD::_preboot waits while the map has `noup`;
        every new map re-checks)."""
        from pyceph.osdmap.osdmap import FLAG_NOUP

        if not self._booted or self._rebooting or self.addr is None or self.tasks.closed:
            return
        me = m.osds.get(self.whoami) if hasattr(m, "osds") else None
        if me is None or not me.exists or me.up or m.test_flag(FLAG_NOUP):
            return
        self._rebooting = True

        async def reboot() -> None:
            try:
                log.warning("%s: marked down in epoch %s, booting again", self.entity, m.epoch)
                await self._boot()
            except (CephError, TimeoutError) as e:
                log.warning("%s: boot after being marked down failed: %s", self.entity, e)
            finally:
                self._rebooting = False

        self.tasks.spawn(reboot(), "reboot")

    # -- boot ------------------------------------------------------------------------------
    async def _boot(self) -> int:
        assert self.addr is not None
        meta = {
            "hostname": self.runtime.host.hostname(),
            "osd_objectstore": "lmdb",
            "ceph_version": f"ceph version {PYCEPH_VERSION} pacific (stable)",
            "ceph_release": "pacific",
            "pyceph_version": "0.1.0",
            "front_addr": f"{self.addr[0]}:{self.addr[1]}",
        }
        st = self.store.statfs()
        r = await self.monc.call(
            "osd_boot",
            {
                "osd_id": self.whoami,
                "uuid": _uuid(self.store),
                "addr": list(self.addr),
                "nonce": self.nonce,
                "metadata": meta,
                "capacity": int(st.get("total", 0)),
            },
            timeout=30,
        )
        if r.head.get("r", 0) < 0:
            raise CephError(-int(r.head["r"]), "osd_boot refused")
        return int(r.head.get("epoch", 0))

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; everything started here has ended on return."""
        from pyceph.auth.service import ServiceAuthServer
        from pyceph.monc.monclient import MonClient

        cfg = self.config
        secret = load_secret(cfg)
        self.monc = MonClient(
            self.runtime,
            str(cfg.get("mon_host")),
            self.entity,
            secret,
            on_osdmap=self._on_osdmap,
            on_mgrmap=lambda _m: self._report_now.set(),
            # the monitor's config database for us (upstream MConfig): `config set osd`
            on_config=cfg.apply_mon_config,
            config=cfg,
            every_osdmap_epoch=True,
        )
        self.osd = OSD(
            self.whoami,
            self.store,
            self.runtime,
            OSDOptions.from_config(cfg),
            self._call_osd,
            self,
        )
        loop = asyncio.get_running_loop()

        def options_changed(changed: set[str]) -> None:
            # upstream OSD::handle_conf_change: runtime options apply without a restart
            if any(n.startswith("osd_") for n in changed):
                if _running_loop() is loop:
                    self._apply_options()
                else:
                    loop.call_soon_threadsafe(self._apply_options)

        cfg.observers.append(options_changed)
        try:
            await self.monc.start(MON_START_TIMEOUT)
            self.auth = ServiceAuthServer(self.monc, "osd")
            await self.auth.start()
            self.msgr = Messenger(
                self.runtime,
                self.entity,
                self._dispatch,
                auth_server=self.auth,
                credentials=self.monc.credentials_for,
                config=cfg,
            )
            host = "127.0.0.1"
            pub = str(cfg.get("public_addr") or "").strip()
            if pub and pub != "-":
                host, port = parse_addr(str(pub), 0)
            else:
                port = 0
            if port in (6789, 3300):
                port = 0
            self.addr = await self.msgr.bind(host, port)
            await self.osd.load_pgs()
            # resume from the map our PGs were last advanced to, so they walk every epoch
            # since (upstream: the superblock's newest map); a new OSD takes the newest
            stored = self.osd.osdmap
            if stored is not None and self.monc.osdmap is None:
                self.monc.osdmap = stored
            epoch = await self._boot()
            await self.monc.subscribe(
                {
                    "osdmap": stored.epoch + 1 if stored is not None else 0,
                    "mgrmap": 0,
                    "config": 0,
                }
            )
            await self.monc.wait_for_osdmap(epoch, MON_START_TIMEOUT)
            log.info("%s up at %s:%s (epoch %s)", self.entity, *self.addr, epoch)
            self._booted = True
            self.monc.on_session(self._mon_session_opened)
            self.tasks.spawn(self._heartbeat_loop(), "heartbeats")
            self.tasks.spawn(self._report_loop(), "mgr reports")
            self.tasks.spawn(self._scrub_loop(), "scrub scheduler")
            self.tasks.spawn(self._beacon_loop(), "mon beacons")
            await stop.wait()
            self._booted = False  # going down on purpose: no boot again
            try:
                await asyncio.wait_for(self.monc.call("osd_mark_me_down", {}), MARK_DOWN_TIMEOUT)
            except (CephError, TimeoutError) as e:
                log.warning("%s: mark-me-down failed: %s", self.entity, e)
        finally:
            cfg.observers.remove(options_changed)
            await self.tasks.close()
            await self.osd.stop()
            if self.msgr is not None:
                await self.msgr.shutdown()
            if self.auth is not None:
                await self.auth.stop()
            await self.monc.stop()

    # -- beacons ---------------------------------------------------------------------------
    async def _beacon_loop(self) -> None:
        """A beacon to the monitor at once, then every `osd_beacon_report_interval`
        (upstream OSD::send_beacon): it keeps us up past `mon_osd_report_timeout` and tells
        the monitor which old maps our PGs may still need (pyceph.mon.lec)."""
        while True:
            if self.osd is not None:
                self.monc.send("osd_beacon", self.osd.beacon())
            await self.runtime.clock.sleep(float(self.config.get("osd_beacon_report_interval")))

    def _apply_options(self) -> None:
        if self.osd is not None:
            self.osd.set_options(OSDOptions.from_config(self.config))

    # -- scrub scheduling ------------------------------------------------------------------
    async def _scrub_loop(self) -> None:
        """Start due scrubs every tick (upstream OSD::tick -> sched_scrub), with the
        options re-read each time (they can change at runtime)."""
        clock = self.runtime.clock
        while True:
            await clock.sleep(SCRUB_SCHED_INTERVAL)
            if self.osd is None:
                continue
            self.osd.scrub_opts = ScrubOptions.from_config(self.config)
            max_scrubs = int(self.config.get("osd_max_scrubs") or 1)
            self.osd.sched_scrub(clock.now(), self.runtime.host.loadavg(), max_scrubs)

    # -- heartbeats ------------------------------------------------------------------------
    async def _heartbeat_loop(self) -> None:
        """Ping every up peer each interval; report a peer to the monitor once a ping
        of ours has gone unanswered for longer than the grace (upstream OSD::heartbeat)."""
        interval = max(float(self.config.get("osd_heartbeat_interval")), 0.05)
        grace = max(float(self.config.get("osd_heartbeat_grace")), 0.1)
        tick = min(interval, grace / 4, 1.0)
        next_ping = 0.0
        while True:
            await self.runtime.clock.sleep(tick)
            m = self.osd.osdmap if self.osd else None
            if m is None:
                continue
            now = self.runtime.clock.monotonic()
            peers = {i for i, o in m.osds.items() if i != self.whoami and o.exists and o.up}
            for i in list(self._unacked):
                if i not in peers or self._peer_up_from.get(i) != m.osds[i].up_from:
                    self._unacked.pop(i, None)
                    self._reported.discard(i)
            for i in peers:
                self._peer_up_from[i] = m.osds[i].up_from
            if now >= next_ping:
                next_ping = now + interval
                for i in peers:
                    self._unacked.setdefault(i, now)
                    self.tasks.spawn(self._ping(i, m.osds[i].up_from, grace), f"ping osd.{i}")
            for i, since in list(self._unacked.items()):
                silent = now - since
                if silent > grace and i not in self._reported:
                    log.warning("%s: no heartbeat from osd.%s for %.1fs", self.entity, i, silent)
                    self._reported.add(i)
                    self.monc.send("osd_failure", {"target": i, "failed_for": silent})

    async def _ping(self, osd: int, up_from: int, timeout: float) -> None:
        try:
            head = {
                "stamp": self.runtime.clock.now(),
                "epoch": self.osd.map_epoch if self.osd else 0,
            }
            await asyncio.wait_for(self._call_osd(osd, "osd_ping", head, b""), timeout)
        except (CephError, TimeoutError):
            return
        if self._peer_up_from.get(osd) == up_from:
            self._unacked.pop(osd, None)
            self._reported.discard(osd)

    # -- mgr reports -----------------------------------------------------------------------
    def _mgr_addr(self) -> tuple[str, int] | None:
        mm = getattr(self.monc, "mgrmap", None) or {}
        if not mm.get("available", True):
            return None
        a = mm.get("active_addr")
        if not a:
            return None
        if isinstance(a, list | tuple) and len(a) == 2:
            return str(a[0]), int(a[1])
        try:
            return parse_addr(str(a).split("/")[0], 0)
        except CephError:
            return None

    def _perf_report(self, report: dict[str, Any]) -> dict[str, Any]:
        """Perf counters and daemon health metrics for the mgr (pyceph.osd.perf)."""
        assert self.osd is not None
        creating = sum(1 for st in report["pg_stats"].values() if "creating" in str(st.get("state", "")))  # fmt: skip
        complaint = float(self.config.get("osd_op_complaint_time"))
        hm = self.osd.perf.health_metrics(self.runtime.clock.monotonic(), complaint, creating)
        return self.osd.perf.report(hm)

    async def _report_loop(self) -> None:
        """Report to the active mgr every `mgr_stats_period`, and at once to a mgr not yet
        reported to (upstream MgrClient reports as soon as its session opens), so capacity
        is known as soon as the cluster is."""
        clock = self.runtime.clock
        reported_to: Any = None
        last = float("-inf")
        while True:
            self._report_now.clear()
            period = float(self.config.get("mgr_stats_period"))
            addr = self._mgr_addr()
            wait = period  # no active mgr: until the map names one (or a period passes)
            if addr is not None and self.msgr is not None and self.osd is not None:
                wait = last + period - clock.monotonic()
                if addr != reported_to or wait <= REPORT_DUE_SLACK or self._flush_due:
                    flush, self._flush_due = self._flush_due, False
                    try:
                        conn = await self.msgr.connect(addr, "mgr")
                        self.osd.send_ready_to_merge()  # again, should a PG have become clean
                        report = self.osd.report()  # sets the gauges the perf part carries
                        head = {"osd_id": self.whoami, "report": report, "perf": self._perf_report(report)}  # fmt: skip
                        if self.osd.perf_queries.active:
                            head["perf_metrics"] = self.osd.perf_queries.take_report()
                        if flush:  # the mgr passes a flushed report on to the monitor at once
                            head["flush"] = True
                        conn.send("mgr_report", head)
                        self._reports_sent += 1
                        reported_to, last, wait = addr, clock.monotonic(), period
                    except CephError as e:
                        log.debug("%s: mgr report failed: %s", self.entity, e)
                        self._flush_due = self._flush_due or flush  # flushed by the retry
                        wait = float(self.config.get("mgr_connect_retry_interval"))
            # until the next report is due, or at once on a new mgr map or a flush
            try:
                await asyncio.wait_for(self._report_now.wait(), wait)
            except TimeoutError:
                pass


async def run_osd(
    runtime: Runtime,
    config: Any,
    stop: asyncio.Event,
    on_daemon: Callable[[OSDDaemon], None] | None = None,
) -> None:
    """Run one OSD in this event loop until `stop` is set (embedded clusters, tests);
    `on_daemon` receives the OSDDaemon first."""
    store = open_store(runtime, config, mkfs=False)
    try:
        osd = OSDDaemon(runtime, config, store)
        if on_daemon is not None:
            on_daemon(osd)
        await osd.serve(stop)
    finally:
        store.umount()


def main(argv: list[str] | None = None) -> int:
    """`pyceph-osd -i ID [-c CONF] [--mkfs]`."""
    p = argparse.ArgumentParser(prog="pyceph-osd")
    p.add_argument("-i", "--id", required=True)
    p.add_argument("-c", "--conf")
    p.add_argument("--mkfs", action="store_true")
    args, extra = p.parse_known_args(argv)
    cfg = load_config(f"osd.{args.id}", args.conf, extra)
    setup_logging(cfg)
    runtime = real_runtime()
    if args.mkfs:
        os.makedirs(str(cfg.get("osd_data")), exist_ok=True)
        store = open_store(runtime, cfg, mkfs=True)
        store.umount()
        print(f"pyceph-osd: created object store {cfg.get('osd_data')} for osd.{args.id}")
        return 0
    install_uvloop()
    try:
        with pid_file(cfg):
            asyncio.run(run_until_signal(lambda stop: run_osd(runtime, cfg, stop), cfg))
    except (CephError, StoreError) as e:
        print(f"pyceph-osd: {e}", file=sys.stderr)
        return e.errno
    return 0


if __name__ == "__main__":
    sys.exit(main())
