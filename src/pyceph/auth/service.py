"""Ticket checking for service daemons (OSDs, the mgr) with rotating keys.

The monitor seals every service ticket under one of the service's rotating secrets;
the daemon fetches those secrets through its own authenticated MonClient session and
refreshes them well before they rotate out.
"""

from __future__ import annotations

import logging
from typing import Any

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.tasks import TaskSet
from pyceph.msg.handshake import PeerInfo

log = logging.getLogger(__name__)

EACCES = 13
#: How often a service refreshes its rotating keys (well under their lifetime).
ROTATING_REFRESH = 60.0


class ServiceAuthServer:
    """An `AuthServer` that accepts only tickets sealed with this service's keys."""

    def __init__(self, monc: Any, service: str) -> None:
        self.monc = monc
        self.service = service
        self.keys: dict[int, bytes] = {}
        self._tasks = TaskSet(f"{service} rotating keys")

    async def start(self) -> None:
        self.keys = await self.monc.rotating_keys(self.service)
        self._tasks.spawn(self._refresh_loop(), "rotating keys")

    async def stop(self) -> None:
        await self._tasks.close()

    async def _refresh_loop(self) -> None:
        while True:
            await self.monc.runtime.clock.sleep(ROTATING_REFRESH)
            try:
                self.keys = await self.monc.rotating_keys(self.service)
            except CephError as e:
                log.warning("rotating key refresh failed: %s", e)

    def secret_for(self, entity: str) -> bytes | None:
        return None  # services never learn entities' secrets

    def open_ticket(self, ticket: bytes) -> dict[str, Any]:
        key = self.keys.get(cephx.ticket_key_id(ticket))
        if key is None:
            raise CephError(EACCES, "ticket sealed with an unknown service key")
        info = cephx.open_ticket(key, ticket)
        if info.get("service") != self.service:
            raise CephError(EACCES, "ticket is for another service")
        if float(info.get("expires", 0)) < self.monc.runtime.clock.now():
            raise CephError(EACCES, "ticket expired")
        return info

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]:
        return {}
