"""Ticket checking for service daemons (OSDs, the mgr) with rotating keys.

The monitor seals every service ticket under one of the service's rotating secrets;
the daemon fetches those secrets through its own authenticated MonClient session and
refreshes them well before they rotate out: every min(30 s, auth_service_ticket_ttl/4)
as upstream's `MonClient::_check_auth_rotating`, and at once when a peer shows a ticket
sealed with a key it has not seen yet. A ticket that has expired is refused, and the
connection it opened is dropped once it expires unless the peer renewed it in time
(`now()` is the clock connections compare `PeerInfo.expires` with).
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.tasks import TaskSet
from pyceph.msg.handshake import PeerInfo
from pyceph.msg.secure import parse_modes

log = logging.getLogger(__name__)

#: Upper bound on the rotating-key refresh period (upstream: min(30, ttl / 4)).
ROTATING_REFRESH_MAX = 30.0
#: Never refresh more often than this, whatever the ttl.
ROTATING_REFRESH_MIN = 0.25


def refresh_period(ticket_ttl: float) -> float:
    """How often a service fetches its rotating keys for a given ticket ttl."""
    return max(ROTATING_REFRESH_MIN, min(ROTATING_REFRESH_MAX, ticket_ttl / 4.0))


class ServiceAuthServer:
    """An `AuthServer` that accepts only tickets sealed with this service's keys."""

    def __init__(self, monc: Any, service: str) -> None:
        self.monc = monc
        self.service = service
        self.keys: dict[int, bytes] = {}
        self._tasks = TaskSet(f"{service} rotating keys")
        self._wanted = False

    async def start(self) -> None:
        self.keys = await self.monc.rotating_keys(self.service)
        self._tasks.spawn(self._refresh_loop(), "rotating keys")

    async def stop(self) -> None:
        await self._tasks.close()

    def now(self) -> float:
        return float(self.monc.runtime.clock.now())

    async def _refresh_loop(self) -> None:
        while True:
            await self.monc.runtime.clock.sleep(refresh_period(float(self.monc.ticket_ttl)))
            await self.refresh()

    async def refresh(self) -> None:
        """Fetch the current rotating keys (logged, not raised, on failure)."""
        try:
            self.keys = await self.monc.rotating_keys(self.service)
        except CephError as e:
            log.warning("rotating key refresh failed: %s", e)
        finally:
            self._wanted = False

    def secret_for(self, entity: str) -> bytes | None:
        return None  # services never learn entities' secrets

    def open_ticket(self, ticket: bytes) -> dict[str, Any]:
        key_id = cephx.ticket_key_id(ticket)
        key = self.keys.get(key_id)
        if key is None:
            if self.keys and key_id > max(self.keys) and not self._wanted:
                self._wanted = True  # a newer key than ours: fetch it now
                self._tasks.spawn(self.refresh(), "rotating keys now")
            raise CephError(errno.EACCES, "ticket sealed with an unknown service key")
        info = cephx.open_ticket(key, ticket)
        if info.get("service") != self.service:
            raise CephError(errno.EACCES, "ticket is for another service")
        if float(info.get("expires", 0)) < self.now():
            raise CephError(errno.EACCES, "ticket expired")
        return info

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]:
        return {}

    def modes_for(self, entity: str) -> tuple[str, ...]:
        """ms_service_mode for clients, ms_cluster_mode for daemons (upstream)."""
        config = getattr(self.monc, "config", None)
        if config is None:
            return ()
        name = "ms_service_mode" if entity.startswith("client.") else "ms_cluster_mode"
        return parse_modes(str(config.get(name)))
