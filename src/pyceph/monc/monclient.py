"""MonClient: every daemon's and client's session with the monitors.

It hunts for a reachable monitor from `mon_host`, authenticates with the entity's
secret, keeps the service tickets it receives (and renews them), holds subscriptions
(osdmap, mgrmap, config) and re-establishes all of it when the session drops.

Renewal follows upstream's cephx client (`CephXTicketHandler::verify_service_ticket_reply`:
`renew_after = expires - validity / 4`): at three quarters of a ticket's life the client
re-authenticates its monitor session in place (a fresh proof of its secret: fresh caps,
fresh tickets, and a deleted or re-keyed entity is refused) and then every connection to
a service it holds; connections of other messengers renew by themselves when they next
send (`Credentials.refresh`). A reconnecting session reclaims its global id with the
monitor's auth ticket (Pacific's secure global_id reclaim).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from pyceph.auth import cephx
from pyceph.common.addr import parse_mon_host
from pyceph.common.errors import CephError
from pyceph.common.runtime import Runtime
from pyceph.common.tasks import TaskSet
from pyceph.msg.connection import Connection
from pyceph.msg.handshake import Credentials
from pyceph.msg.message import Message
from pyceph.msg.messenger import Messenger
from pyceph.msg.secure import parse_modes

log = logging.getLogger(__name__)

ETIMEDOUT = 110
ENOTCONN = 107
ESHUTDOWN = 108
EACCES = 13
#: How long to wait for one monitor before trying the next.
MON_HUNT_INTERVAL = 3.0
#: Pause between rounds of hunting when no monitor answers.
MON_RETRY_DELAY = 0.2
#: A ticket is renewed once this fraction of its life is left (upstream: validity / 4).
RENEW_FRACTION = 0.25
#: Never renew more often than this, whatever the ttl.
MIN_RENEW_INTERVAL = 0.25
#: Pause before hunting again after the monitors refused our key.
AUTH_RETRY_DELAY = 1.0
#: How long one renewal (the in-place re-authentication) may take.
RENEW_TIMEOUT = 30.0

MapCallback = Callable[[Any], None]


def _log_refusal(fut: asyncio.Future[Any]) -> None:
    """Done callback of a service connection's re-authentication: note a refusal."""
    if not fut.cancelled() and fut.exception() is not None:
        log.info("monclient: a service connection refused renewed tickets: %s", fut.exception())


class MonClient:
    """An authenticated, self-healing session with the monitor cluster."""

    def __init__(
        self,
        runtime: Runtime,
        mon_host: str,
        entity: str,
        secret: bytes,
        on_osdmap: MapCallback | None = None,
        on_mgrmap: MapCallback | None = None,
        on_config: MapCallback | None = None,
        on_message: Callable[[Connection, Message], None] | None = None,
        messenger: Messenger | None = None,
        config: Any = None,
        every_osdmap_epoch: bool = False,
    ) -> None:
        self.runtime = runtime
        #: call `on_osdmap` with the map of every epoch a message brings, in order (an OSD
        #: walks each epoch, upstream OSD::handle_osd_map); otherwise with the newest only
        self._every_osdmap_epoch = every_osdmap_epoch
        #: The owner's CephConfig: the connection modes (`ms_*_mode`) come from it.
        self.config = config
        self.mon_addrs = parse_mon_host(mon_host)
        self.entity = entity
        self._secret = secret
        self._on_osdmap = on_osdmap
        self._on_mgrmap = on_mgrmap
        self._on_config = on_config
        self._on_message = on_message
        self.msgr = messenger or Messenger(
            runtime,
            entity,
            self._dispatch,
            credentials=self.credentials_for,
            on_reset=self._reset,
        )
        self._own_msgr = messenger is None
        self._conn: Connection | None = None
        self._tickets: dict[str, dict[str, Any]] = {}
        self._auth_ticket: bytes | None = None
        #: Local clock time at which the tickets are due for renewal (0: none held).
        self._renew_after = 0.0
        #: Set when the monitors refused our key (deleted or re-keyed entity).
        self._auth_error: CephError | None = None
        self._subs: dict[str, int] = {}
        #: called whenever a monitor session opens (`on_session`)
        self._session_listeners: list[Callable[[], None]] = []
        self._map_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._reconnect: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        #: Owner of the reconnect and ticket-renewal tasks; `stop` ends them all.
        self._tasks = TaskSet("monclient")
        self._stopped = False
        self.global_id = 0
        self.caps: dict[str, str] = {}
        self.fsid = ""
        self.osdmap: Any = None
        #: a full OSDMap has been asked for after a gap or a crc mismatch
        self._full_map_wanted = False
        #: how many times that happened (tests and perf read it)
        self.full_map_requests = 0
        self.mgrmap: dict[str, Any] = {}
        self.ticket_ttl = 3600.0
        #: Extra message handlers by type (e.g. "log" for cluster log subscribers).
        self.handlers: dict[str, Callable[[Connection, Message], None]] = {}

    # -- credentials --------------------------------------------------------
    def credentials_for(self, peer_type: str) -> Credentials:
        """Key mode towards monitors, ticket mode towards OSDs and the mgr."""
        if peer_type == "mon":
            return Credentials(
                self.entity,
                secret=self._secret,
                global_id=self.global_id,
                old_ticket=self._auth_ticket,
                modes=self.modes_for(peer_type),
            )
        t = self._tickets.get(peer_type)
        if t is None:
            raise CephError(EACCES, f"no ticket for service {peer_type}")
        return Credentials(
            self.entity,
            ticket=t["ticket"],
            session_key=t["session_key"],
            expires=t["expires"],
            renew_after=t["renew_after"],
            refresh=lambda: self.credentials_for(peer_type),
            now=self.runtime.clock.now,
            modes=self.modes_for(peer_type),
        )

    def modes_for(self, peer_type: str) -> tuple[str, ...]:
        """The connection modes to ask `peer_type` for, most preferred first (upstream:
        ms_mon_client_mode / ms_client_mode for clients, ms_mon_cluster_mode /
        ms_cluster_mode for daemons); none without a config (`crc`)."""
        if self.config is None:
            return ()
        daemon = self.entity.split(".", 1)[0] != "client"
        if peer_type == "mon":
            name = "ms_mon_cluster_mode" if daemon else "ms_mon_client_mode"
        else:
            name = "ms_cluster_mode" if daemon else "ms_client_mode"
        return parse_modes(str(self.config.get(name)))

    def _take_tickets(self, tickets: dict[str, Any]) -> None:
        now = self.runtime.clock.now()
        ttl = self.ticket_ttl
        renew_after = now + max(ttl * (1 - RENEW_FRACTION), MIN_RENEW_INTERVAL)
        for svc, t in tickets.items():
            key = cephx.unseal(self._secret, bytes(t["session_key_sealed"]))
            assert isinstance(key, bytes)
            self._tickets[svc] = {
                "ticket": bytes(t["ticket"]),
                "session_key": key,
                "expires": now + ttl,
                "renew_after": renew_after,
            }
        if tickets:
            self._renew_after = renew_after

    def _apply_extras(self, extras: dict[str, Any]) -> None:
        """What the monitor hands out with a session: ids, caps, ttls, tickets."""
        self.global_id = int(extras.get("global_id", self.global_id))
        self.caps = dict(extras.get("caps", {}))
        self.fsid = str(extras.get("fsid", self.fsid))
        self.ticket_ttl = float(extras.get("ticket_ttl", self.ticket_ttl))
        if extras.get("auth_ticket"):
            self._auth_ticket = bytes(extras["auth_ticket"])
        self._take_tickets(extras.get("tickets", {}))

    # -- session ------------------------------------------------------------
    async def start(self, timeout: float = 0) -> None:
        """Authenticate to a monitor; ETIMEDOUT after `timeout` seconds (0 = forever)."""
        try:
            if timeout:
                await asyncio.wait_for(self._hunt(), timeout)
            else:
                await self._hunt()
        except TimeoutError:
            raise CephError(ETIMEDOUT, "error connecting to the cluster") from None
        self._renewer = self._tasks.spawn(self._renew_loop(), "monclient renew")

    async def _hunt(self) -> None:
        last_err: CephError | None = None
        while not self._stopped:
            for addr in self.mon_addrs:
                try:
                    conn = await self.msgr.connect(addr, "mon", timeout=MON_HUNT_INTERVAL)
                except CephError as e:
                    if e.errno == EACCES:
                        self._auth_error = e
                        raise
                    last_err = e
                    continue
                self._session_opened(conn)
                return
            await self.runtime.clock.sleep(MON_RETRY_DELAY)
        raise last_err or CephError(ESHUTDOWN, "monclient stopped")

    def _session_opened(self, conn: Connection) -> None:
        assert conn.peer is not None
        self._auth_error = None
        self._apply_extras(conn.peer.extras)
        self._conn = conn
        if self._subs:
            conn.send("mon_subscribe", {"what": dict(self._subs)})
        for listener in self._session_listeners:
            listener()

    def on_session(self, listener: Callable[[], None]) -> None:
        """Call `listener` each time a monitor session opens: what was sent on the old
        session with `send` may be lost, and a daemon sends it again (upstream
        OSD::ms_handle_connect). It must not raise."""
        self._session_listeners.append(listener)

    def _reset(self, conn: Connection) -> None:
        if conn is self._conn:
            self._conn = None
            if not self._stopped and (self._reconnect is None or self._reconnect.done()):
                self._reconnect = self._tasks.spawn(self._hunt_quietly(), "monclient hunt")

    async def _hunt_quietly(self) -> None:
        try:
            await self._hunt()
        except CephError as e:
            log.warning("monclient: reconnect failed: %s", e)
            if e.errno == EACCES:
                # refused (removed or re-keyed): callers wait this long before retrying
                await self.runtime.clock.sleep(AUTH_RETRY_DELAY)

    async def _renew_loop(self) -> None:
        while not self._stopped:
            if not self._renew_after:  # no tickets held: nothing to renew yet
                await self.runtime.clock.sleep(self.ticket_ttl * (1 - RENEW_FRACTION))
                continue
            wait = self._renew_after - self.runtime.clock.now()
            await self.runtime.clock.sleep(max(wait, MIN_RENEW_INTERVAL))
            if self.runtime.clock.now() < self._renew_after:
                continue  # a new session brought fresh tickets meanwhile
            try:
                await self.renew_tickets()
            except CephError as e:
                log.info("monclient: ticket renewal failed: %s", e)
                # retry soon; the tickets expire if the monitors keep refusing
                self._renew_after = self.runtime.clock.now() + MIN_RENEW_INTERVAL * 4

    async def renew_tickets(self) -> None:
        """Re-authenticate the monitor session in place and take its fresh tickets, then
        present them on every connection to a service this client's messenger holds."""
        conn = await self._session()
        fut = conn.reauthenticate(self.credentials_for("mon"))
        try:
            peer = await asyncio.wait_for(asyncio.shield(fut), RENEW_TIMEOUT)
        except TimeoutError:
            raise CephError(ETIMEDOUT, "ticket renewal timed out") from None
        self._apply_extras(peer.extras)
        # Present them without waiting for the services' answers: a service that stalls
        # (stopped, partitioned: its connection neither answers nor resets) must not hold
        # up the next renewal, or every other service's ticket expires meanwhile and the
        # client hangs on healthy OSDs too. Each re-authentication ends by itself (done,
        # refused: the connection drops; or with the connection).
        for c in self.msgr.connections():
            svc = c.peer.entity.split(".", 1)[0] if c.peer is not None else ""
            if c is not conn and svc in self._tickets:
                c.reauthenticate(self.credentials_for(svc)).add_done_callback(_log_refusal)

    async def _session(self) -> Connection:
        while self._conn is None or self._conn.closed:
            if self._stopped:
                raise CephError(ESHUTDOWN, "monclient stopped")
            if self._reconnect is None or self._reconnect.done():
                self._reconnect = self._tasks.spawn(self._hunt_quietly(), "monclient hunt")
            await asyncio.shield(self._reconnect)
            if self._auth_error is not None and (self._conn is None or self._conn.closed):
                raise self._auth_error
        return self._conn

    @property
    def is_connected(self) -> bool:
        """Whether a session with a monitor is open now."""
        return self._conn is not None and not self._conn.closed

    def local_host(self) -> str:
        """Our address as the monitor sees it: what a daemon should bind and advertise."""
        conn = self._conn
        if conn is not None and conn.local_addr is not None:
            return conn.local_addr[0]
        return self.mon_addrs[0][0]

    async def stop(self) -> None:
        """End the session and every task this client owns."""
        self._stopped = True
        await self._tasks.close()
        for _e, fut in self._map_waiters:
            if not fut.done():
                fut.set_exception(CephError(ESHUTDOWN, "monclient stopped"))
        self._map_waiters.clear()
        if self._own_msgr:
            await self.msgr.shutdown()

    # -- requests -------------------------------------------------------------
    async def call(
        self, mtype: str, head: dict[str, Any], data: bytes = b"", timeout: float | None = None
    ) -> Message:
        """A request to the monitor, resent on a new session until answered or timed out."""

        async def attempt() -> Message:
            while True:
                conn = await self._session()
                try:
                    return await conn.call(mtype, dict(head), data)
                except CephError as e:
                    if e.errno in (ETIMEDOUT, EACCES) or self._stopped:
                        raise
                    # The session dropped: hunt again and resend.

        try:
            if timeout:
                return await asyncio.wait_for(attempt(), timeout)
            return await attempt()
        except TimeoutError:
            raise CephError(ETIMEDOUT, f"{mtype} timed out") from None

    def send(self, mtype: str, head: dict[str, Any], data: bytes = b"") -> None:
        """Fire-and-forget to the current monitor; dropped if there is no session."""
        conn = self._conn
        if conn is not None and not conn.closed:
            try:
                conn.send(mtype, head, data)
            except CephError:
                pass

    async def command(
        self, cmd: dict[str, Any] | str, inbuf: bytes = b"", timeout: float | None = None
    ) -> tuple[int, bytes, str]:
        """A monitor command: (ret, outbuf, outs), ret = 0 or -errno."""
        text = cmd if isinstance(cmd, str) else json.dumps(cmd)
        reply = await self.call("mon_command", {"cmd": text}, inbuf, timeout)
        return int(reply.head.get("r", 0)), bytes(reply.data), str(reply.head.get("outs", ""))

    async def rotating_keys(self, service: str) -> dict[int, bytes]:
        """The rotating secrets of `service` (OSDs and the mgr check tickets with them)."""
        reply = await self.call("get_rotating", {"service": service})
        if reply.head.get("r", 0) < 0:
            raise CephError(-int(reply.head["r"]), "get_rotating refused")
        keys = cephx.unseal(self._secret, bytes(reply.head["keys_sealed"]))
        assert isinstance(keys, dict)
        return {int(k): bytes(v) for k, v in keys.items()}

    # -- subscriptions --------------------------------------------------------
    async def subscribe(self, what: dict[str, int]) -> None:
        """Ask for maps: {"osdmap": next_epoch, "mgrmap": 0, ...}."""
        self._subs.update(what)
        conn = await self._session()
        conn.send("mon_subscribe", {"what": what})

    def subscribed(self, what: str) -> bool:
        """Whether this session subscribes to `what` (upstream `sub_want` was called)."""
        return what in self._subs

    async def unsubscribe(self, what: str) -> None:
        """Stop a subscription (upstream `sub_unwant` + `renew_subs`)."""
        self._subs.pop(what, None)
        conn = await self._session()
        conn.send("mon_subscribe", {"what": {}, "unsub": [what]})

    def sub_got(self, what: str, next_start: int) -> None:
        """Record what a subscription has received, so a new session resumes after it."""
        if what in self._subs:
            self._subs[what] = next_start

    async def wait_for_osdmap(self, epoch: int, timeout: float | None = None) -> None:
        """Until an OSDMap of at least `epoch` has arrived."""
        if self.osdmap is not None and self.osdmap.epoch >= epoch:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._map_waiters.append((epoch, fut))
        if "osdmap" not in self._subs:
            await self.subscribe({"osdmap": 0})
        try:
            await asyncio.wait_for(fut, timeout) if timeout else await fut
        except TimeoutError:
            raise CephError(ETIMEDOUT, "timed out waiting for osdmap") from None

    def _dispatch(self, conn: Connection, msg: Message) -> None:
        if msg.type == "osd_map":
            self._got_osdmap(msg)
        elif msg.type == "mgr_map":
            self.mgrmap = dict(msg.head.get("map", {}))
            if self._on_mgrmap is not None:
                self._on_mgrmap(self.mgrmap)
        elif msg.type == "config":
            if self._on_config is not None:
                self._on_config(msg.head.get("config", {}))
        elif msg.type in self.handlers:
            self.handlers[msg.type](conn, msg)
        elif self._on_message is not None:
            self._on_message(conn, msg)

    def _got_osdmap(self, msg: Message) -> None:
        """MOSDMap: full maps and incrementals in epoch order (`pyceph.osdmap.incremental`).

        Each incremental's result is checked against the crc it carries; on a gap or a
        mismatch we ask for a full map (resubscribe from 0) and ignore the incrementals
        that arrive until it does, as upstream's Objecter/OSD request a full map.
        """
        from pyceph.osdmap.incremental import KIND_FULL, advance

        entries = _map_entries(msg)
        if entries is None:
            log.warning("monclient: malformed osd_map message from %s", msg.head)
            self._want_full_map()
            return
        if not any(e.kind == KIND_FULL for e in entries):
            if self._full_map_wanted:
                return  # a full map is on its way; these incrementals were sent before
        else:
            self._full_map_wanted = False  # the answer (even if we hold its epoch already)
        res = advance(self.osdmap, entries)
        if res.osdmap is not None:
            self.osdmap = res.osdmap
            epoch = self.osdmap.epoch
            self._subs["osdmap"] = epoch + 1
            if self._on_osdmap is not None:
                for m in res.maps if self._every_osdmap_epoch else [self.osdmap]:
                    self._on_osdmap(m)
            keep = []
            for want, fut in self._map_waiters:
                if want <= epoch:
                    if not fut.done():
                        fut.set_result(None)
                else:
                    keep.append((want, fut))
            self._map_waiters = keep
        if res.need_full is not None:
            log.info("monclient: %s; requesting a full osdmap", res.reason)
            self.full_map_requests += 1
            self._want_full_map()

    def _want_full_map(self) -> None:
        """Ask the monitor for its newest full map (subscribe from 0); the incrementals
        that arrive until it does are ignored, so it is asked once."""
        self._full_map_wanted = True
        self._subs["osdmap"] = 0
        self.send("mon_subscribe", {"what": {"osdmap": 0}})


def _map_entries(msg: Message) -> list[Any] | None:
    """The maps of an `osd_map` message (head `maps`: [epoch, kind, length]...)."""
    from pyceph.osdmap.incremental import MapEntry

    data = memoryview(bytes(msg.data))
    out = []
    off = 0
    try:
        for epoch, kind, length in msg.head["maps"]:
            if not isinstance(length, int) or length < 0 or off + length > len(data):
                return None
            out.append(MapEntry(int(epoch), str(kind), data[off : off + length]))
            off += length
    except (KeyError, TypeError, ValueError):
        return None
    return out if off == len(data) else None
