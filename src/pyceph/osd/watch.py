"""Watchers and notifies of one PG's objects (upstream osd/Watch.cc, kept on the primary).

A client *watches* an object with a `watch` op: the watcher's record (client global id,
cookie, timeout, address) is written into the object info on every replica
(`pyceph.osd.ops`), and the primary's registry here remembers the connection the op came
on. A *notify* op sends a `watch_notify` message to every watcher's connection and
completes when each of them acked (a `notify_ack` op carrying its reply payload) or at its
timeout, with the list of those that did not answer. Deleting the object ends its watches
with -ENOTCONN.

A new primary knows the records, not the connections: `restore` loads an object's records
as *disconnected* watchers (upstream PrimaryLogPG::populate_obc_watchers) before a watch
or notify op on it runs. A notify waits for disconnected watchers too — they get it when
they reconnect (the client's ping fails with -ETIMEDOUT, it re-sends `reconnect`), else
the notify times out on them. A watcher that neither reconnects nor pings within its
timeout is `expired`: the PG then removes its record with a write (upstream
handle_watch_timeout) and `unwatch`es it here.

Messages to the client (`watch_notify` head):

* ``{event: "notify", notify_id, cookie, notifier, pool, oid, nspace}`` + payload data;
* ``{event: "disconnect", cookie, err}``: the watch is over (object deleted: -ENOTCONN).
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyceph.common.errors import CephError
from pyceph.osd.types import Oid

log = logging.getLogger(__name__)

#: Most watchers on one object (each costs a message per notify).
MAX_WATCHERS_PER_OBJECT = 1024
#: Most notifies in flight per PG; beyond this a notify fails with EBUSY.
MAX_NOTIFIES_PER_PG = 4096

WatchKey = tuple[int, int]  # (client global id, cookie)


def addr_blocklisted(blocklist: dict[str, float] | None, addr: Any) -> bool:
    """`OSDMap::is_blocklisted`: this `ip:port/nonce`, or its whole IP (`ip:0/0`)."""
    if not blocklist or not addr:
        return False
    a = str(addr).split(":", 1)[1] if str(addr)[:3] in ("v1:", "v2:", "any") else str(addr)
    return a in blocklist or f"{a.rsplit(':', 1)[0]}:0/0" in blocklist


@dataclass(eq=False)
class Watcher:
    """One client's watch on one object."""

    oid: Oid
    gid: int
    cookie: int
    timeout: float
    addr: str
    conn: Any
    last_seen: float
    notifies: set[int] = field(default_factory=set)
    blocklisted: bool = False  #: its client is blocklisted: never reconnects

    @property
    def connected(self) -> bool:
        return self.conn is not None and not getattr(self.conn, "closed", False)


@dataclass(eq=False)
class Notify:
    """One notify in flight: who still has to answer, what the others said."""

    notify_id: int
    oid: Oid
    notifier: int
    payload: bytes
    timeout: float
    pending: set[WatchKey]
    acks: dict[WatchKey, bytes] = field(default_factory=dict)
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def maybe_complete(self) -> None:
        if not self.pending and not self.done.done():
            self.done.set_result(None)

    def result(self) -> tuple[list[list[Any]], list[list[int]]]:
        acks = [[g, c, self.acks[(g, c)]] for g, c in sorted(self.acks)]
        timeouts = [[g, c] for g, c in sorted(self.pending)]
        return acks, timeouts


class WatchRegistry:
    """The watchers and notifies of one PG (primary only)."""

    def __init__(self, pool: int) -> None:
        self.pool = pool
        self.watchers: dict[Oid, dict[WatchKey, Watcher]] = {}
        self.notifies: dict[int, Notify] = {}
        self._seq = itertools.count(1)

    def __bool__(self) -> bool:
        return bool(self.watchers)

    # -- views ------------------------------------------------------------------------
    def view(self, oid: Oid) -> dict[WatchKey, dict[str, Any]]:
        """The object's watchers as `OpEnv.watchers` wants them."""
        return {
            k: {"addr": w.addr, "timeout_seconds": int(w.timeout), "connected": w.connected}
            for k, w in self.watchers.get(oid, {}).items()
        }

    # -- watch ops ----------------------------------------------------------------------
    def watch(
        self, oid: Oid, gid: int, cookie: int, timeout: float, addr: str, conn: Any, now: float
    ) -> int:
        """Register (or reconnect) a watcher; resends the notifies it missed. 0 or -errno."""
        ws = self.watchers.setdefault(oid, {})
        w = ws.get((gid, cookie))
        if w is None:
            if len(ws) >= MAX_WATCHERS_PER_OBJECT:
                if not ws:
                    self.watchers.pop(oid, None)
                return -errno.ENOSPC
            w = ws[(gid, cookie)] = Watcher(oid, gid, cookie, timeout, addr, conn, now)
        else:
            w.timeout = timeout or w.timeout
            w.addr = addr or w.addr
            if conn is not None:
                w.conn = conn
                w.blocklisted = False  # its client is back: no longer on the blocklist
            w.last_seen = now
        for nid in sorted(w.notifies):
            n = self.notifies.get(nid)
            if n is not None:
                self._send_notify(w, n)
        return 0

    def restore(self, oid: Oid, records: dict[WatchKey, tuple[int, str]], now: float) -> int:
        """Load the object info's watcher records this registry lacks as disconnected
        watchers whose timeout runs from `now` (upstream populate_obc_watchers); returns
        how many were added."""
        ws = self.watchers.get(oid, {})
        new = [(k, r) for k, r in sorted(records.items()) if k not in ws]
        if not new:
            return 0
        ws = self.watchers.setdefault(oid, {})
        for (gid, cookie), (timeout, addr) in new:
            ws[(gid, cookie)] = Watcher(oid, gid, cookie, float(timeout), addr, None, now)
        return len(new)

    def get(self, oid: Oid, gid: int, cookie: int) -> Watcher | None:
        return self.watchers.get(oid, {}).get((gid, cookie))

    def ping(self, oid: Oid, gid: int, cookie: int, now: float) -> None:
        w = self.watchers.get(oid, {}).get((gid, cookie))
        if w is not None:
            w.last_seen = now

    def unwatch(self, oid: Oid, gid: int, cookie: int) -> None:
        """Forget a watcher (unwatched, or its record removed at its timeout)."""
        w = self.watchers.get(oid, {}).get((gid, cookie))
        if w is not None:
            self._remove(w)

    def disconnect_object(self, oid: Oid, err: int = -errno.ENOTCONN) -> None:
        """The object is gone: end every watch on it, telling the clients `err`."""
        for w in list(self.watchers.get(oid, {}).values()):
            self._send(w, {"event": "disconnect", "cookie": w.cookie, "err": err})
            self._remove(w)

    def _remove(self, w: Watcher) -> None:
        ws = self.watchers.get(w.oid)
        if ws is not None and ws.get((w.gid, w.cookie)) is w:
            del ws[(w.gid, w.cookie)]
            if not ws:
                del self.watchers[w.oid]
        self._leave_notifies(w)

    def _leave_notifies(self, w: Watcher) -> None:
        for nid in list(w.notifies):
            n = self.notifies.get(nid)
            if n is not None:
                n.pending.discard((w.gid, w.cookie))  # upstream complete_watcher_remove
                n.maybe_complete()
        w.notifies.clear()

    def expired(self, now: float) -> list[Watcher]:
        """The watchers silent (no ping, or no connection) for longer than their timeout;
        the caller removes their records, then `unwatch`es them."""
        return [
            w for ws in self.watchers.values() for w in ws.values() if now - w.last_seen > w.timeout
        ]

    def drop_blocklisted(self, is_blocklisted: Callable[[str], bool]) -> int:
        """Expire the watchers whose client address is blocklisted (upstream
        PrimaryLogPG::check_blocklisted_watchers): a dead client's watch must not hold up
        every notify on the object until it times out. They leave the notifies in flight
        at once; their records go at the next `expired` pass. Returns how many."""
        dropped = [
            w for ws in self.watchers.values() for w in ws.values()
            if not w.blocklisted and is_blocklisted(w.addr)
        ]  # fmt: skip
        for w in dropped:
            log.info("watch %s cookie %s on %s: client %s blocklisted", w.gid, w.cookie, w.oid,
                     w.addr)  # fmt: skip
            w.blocklisted = True
            w.conn = None
            w.last_seen = float("-inf")
            self._leave_notifies(w)
        return len(dropped)

    def reset(self) -> None:
        """The PG's interval changed: forget everything (clients re-establish watches;
        the notifies' waiters see the interval change and are retried)."""
        self.notifies.clear()
        self.watchers.clear()

    # -- notify ----------------------------------------------------------------------------
    def notify(
        self, oid: Oid, notifier: int, payload: bytes, timeout: float, epoch: int
    ) -> Notify | None:
        """Start a notify to the object's watchers; None when too many are in flight."""
        if len(self.notifies) >= MAX_NOTIFIES_PER_PG:
            return None
        nid = ((epoch & 0xFFFFFFFF) << 32) | (next(self._seq) & 0xFFFFFFFF)
        ws = [w for w in self.watchers.get(oid, {}).values() if not w.blocklisted]
        n = Notify(nid, oid, notifier, payload, timeout, {(w.gid, w.cookie) for w in ws})
        self.notifies[nid] = n
        for w in ws:
            w.notifies.add(nid)
            self._send_notify(w, n)
        n.maybe_complete()
        return n

    def ack(self, notify_id: int, gid: int, cookie: int, payload: bytes, now: float) -> None:
        n = self.notifies.get(notify_id)
        if n is None or (gid, cookie) not in n.pending:
            return
        n.pending.discard((gid, cookie))
        n.acks[(gid, cookie)] = payload
        w = self.watchers.get(n.oid, {}).get((gid, cookie))
        if w is not None:
            w.notifies.discard(notify_id)
            w.last_seen = now
        n.maybe_complete()

    def finish(self, n: Notify) -> None:
        """Forget a completed (or timed-out) notify."""
        self.notifies.pop(n.notify_id, None)
        for g, c in n.pending | set(n.acks):
            w = self.watchers.get(n.oid, {}).get((g, c))
            if w is not None:
                w.notifies.discard(n.notify_id)

    # -- messages ----------------------------------------------------------------------------
    def _send_notify(self, w: Watcher, n: Notify) -> None:
        nspace, name, _key = n.oid
        head = {
            "event": "notify",
            "notify_id": n.notify_id,
            "cookie": w.cookie,
            "notifier": n.notifier,
            "pool": self.pool,
            "oid": name,
            "nspace": nspace,
        }
        self._send(w, head, n.payload)

    def _send(self, w: Watcher, head: dict[str, Any], data: bytes = b"") -> None:
        if not w.connected:
            return  # sent again when the watcher reconnects
        try:
            w.conn.send("watch_notify", head, data)
        except CephError as e:
            log.debug("watch_notify to %s failed: %s", w.gid, e)
            w.conn = None


__all__ = [
    "Notify",
    "addr_blocklisted",
    "WatchRegistry",
    "Watcher",
]
