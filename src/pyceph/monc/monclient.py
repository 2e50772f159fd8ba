"""MonClient: every daemon's and client's session with the monitors.

It hunts for a reachable monitor from `mon_host`, authenticates with the entity's
secret, keeps the service tickets it receives (and renews them), holds subscriptions
(osdmap, mgrmap, config) and re-establishes all of it when the session drops.
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

log = logging.getLogger(__name__)

ETIMEDOUT = 110
ENOTCONN = 107
ESHUTDOWN = 108
EACCES = 13
#: How long to wait for one monitor before trying the next.
MON_HUNT_INTERVAL = 3.0
#: Pause between rounds of hunting when no monitor answers.
MON_RETRY_DELAY = 0.2

MapCallback = Callable[[Any], None]


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
    ) -> None:
        self.runtime = runtime
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
        self._tickets: dict[str, dict[str, bytes]] = {}
        self._subs: dict[str, int] = {}
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
        self.mgrmap: dict[str, Any] = {}
        self.ticket_ttl = 3600.0
        #: Extra message handlers by type (e.g. "log" for cluster log subscribers).
        self.handlers: dict[str, Callable[[Connection, Message], None]] = {}

    # -- credentials --------------------------------------------------------
    def credentials_for(self, peer_type: str) -> Credentials:
        """Key mode towards monitors, ticket mode towards OSDs and the mgr."""
        if peer_type == "mon":
            return Credentials(self.entity, secret=self._secret)
        t = self._tickets.get(peer_type)
        if t is None:
            raise CephError(EACCES, f"no ticket for service {peer_type}")
        return Credentials(self.entity, ticket=t["ticket"], session_key=t["session_key"])

    def _take_tickets(self, tickets: dict[str, Any]) -> None:
        for svc, t in tickets.items():
            key = cephx.unseal(self._secret, bytes(t["session_key_sealed"]))
            assert isinstance(key, bytes)
            self._tickets[svc] = {"ticket": bytes(t["ticket"]), "session_key": key}

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
                        raise
                    last_err = e
                    continue
                self._session_opened(conn)
                return
            await self.runtime.clock.sleep(MON_RETRY_DELAY)
        raise last_err or CephError(ESHUTDOWN, "monclient stopped")

    def _session_opened(self, conn: Connection) -> None:
        assert conn.peer is not None
        extras = conn.peer.extras
        self.global_id = int(extras.get("global_id", 0))
        self.caps = dict(extras.get("caps", {}))
        self.fsid = str(extras.get("fsid", ""))
        self.ticket_ttl = float(extras.get("ticket_ttl", self.ticket_ttl))
        self._take_tickets(extras.get("tickets", {}))
        self._conn = conn
        if self._subs:
            conn.send("mon_subscribe", {"what": dict(self._subs)})

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

    async def _renew_loop(self) -> None:
        while not self._stopped:
            await self.runtime.clock.sleep(max(self.ticket_ttl / 4, 1.0))
            try:
                reply = await self.call("get_rotating", {"tickets": True}, timeout=30)
                self._take_tickets(reply.head.get("tickets", {}))
            except CephError as e:
                log.info("monclient: ticket renewal failed: %s", e)

    async def _session(self) -> Connection:
        while self._conn is None or self._conn.closed:
            if self._stopped:
                raise CephError(ESHUTDOWN, "monclient stopped")
            if self._reconnect is None or self._reconnect.done():
                self._reconnect = self._tasks.spawn(self._hunt_quietly(), "monclient hunt")
            await asyncio.shield(self._reconnect)
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
                    if e.errno == ETIMEDOUT or self._stopped:
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
        from pyceph.osdmap.osdmap import OSDMap

        epoch = int(msg.head["epoch"])
        if self.osdmap is not None and epoch <= self.osdmap.epoch:
            return
        self.osdmap = OSDMap.decode(bytes(msg.data))
        self._subs["osdmap"] = epoch + 1
        if self._on_osdmap is not None:
            self._on_osdmap(self.osdmap)
        keep = []
        for want, fut in self._map_waiters:
            if want <= epoch:
                if not fut.done():
                    fut.set_result(None)
            else:
                keep.append((want, fut))
        self._map_waiters = keep
