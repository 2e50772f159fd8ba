"""The monitor's side of authentication: secrets, global ids, tickets, rotating keys.

Entities prove their secret to the monitor (key mode). The monitor answers with a
global id, the entity's caps and tickets for the `osd` and `mgr` services, each sealed
under a rotating service secret that only the monitor and those daemons hold. Rotating
secrets and the global id counter persist in the monitor's store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.keyring import decode_secret
from pyceph.common.kvstore import LmdbKV, MemKV
from pyceph.common.runtime import Runtime
from pyceph.msg.handshake import PeerInfo

EACCES = 13
SERVICES = ("osd", "mgr")
#: Lifetime of a service ticket and of a rotating secret's turn (upstream's default).
AUTH_SERVICE_TICKET_TTL = 3600.0
#: Global ids are reserved in the store in blocks, so a restart never reuses one.
GLOBAL_ID_BLOCK = 4096
SESSION_KEY_LEN = 16

AuthLookup = Callable[[str], "tuple[str, dict[str, str]] | None"]


class MonAuthServer:
    """Key-mode `AuthServer` for the monitor, minting tickets for the services."""

    def __init__(
        self,
        runtime: Runtime,
        kv: LmdbKV | MemKV,
        lookup: AuthLookup,
        fsid: str,
        ticket_ttl: float = AUTH_SERVICE_TICKET_TTL,
    ) -> None:
        self.runtime = runtime
        self.kv = kv
        self.lookup = lookup
        self.fsid = fsid
        self.ticket_ttl = ticket_ttl
        raw = kv.get(b"auth/global_id_next")
        self._next_gid = int(raw) if raw else 4096
        self._gid_limit = self._next_gid
        raw = kv.get(b"auth/rotating")
        self._rotating: dict[str, list[list[Any]]] = msgpack.unpackb(raw, raw=False) if raw else {}
        self._rotate()

    # -- rotating service keys ---------------------------------------------
    def _rotate(self) -> None:
        """Keep, per service, the previous, current and next secret (as upstream)."""
        now = self.runtime.clock.now()
        changed = False
        for svc in SERVICES:
            keys = [k for k in self._rotating.get(svc, []) if k[2] > now - self.ticket_ttl]
            while len(keys) < 3 or keys[-1][2] < now + 2 * self.ticket_ttl:
                next_id = keys[-1][0] + 1 if keys else 1
                expires = (keys[-1][2] if keys else now) + self.ticket_ttl
                keys.append([next_id, self.runtime.rand.randbytes(16), expires])
                changed = True
            if keys != self._rotating.get(svc):
                changed = True
            self._rotating[svc] = keys
        if changed:
            self.kv.commit({b"auth/rotating": msgpack.packb(self._rotating, use_bin_type=True)})

    def _current_key(self, svc: str) -> tuple[int, bytes]:
        self._rotate()
        now = self.runtime.clock.now()
        for key_id, secret, expires in self._rotating[svc]:
            if expires - self.ticket_ttl <= now < expires:
                return key_id, secret
        key_id, secret, _ = self._rotating[svc][-1]
        return key_id, secret

    def rotating_keys(self, svc: str) -> dict[int, bytes]:
        self._rotate()
        return {k[0]: k[1] for k in self._rotating[svc]}

    # -- AuthServer -----------------------------------------------------------
    def secret_for(self, entity: str) -> bytes | None:
        found = self.lookup(entity)
        if found is None:
            return None
        try:
            return decode_secret(found[0])
        except ValueError:
            return None

    def open_ticket(self, ticket: bytes) -> dict[str, Any]:
        raise CephError(EACCES, "monitors accept key authentication only")

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]:
        found = self.lookup(peer.entity)
        caps = dict(found[1]) if found else {}
        gid = self._allocate_gid()
        return {
            "global_id": gid,
            "caps": caps,
            "fsid": self.fsid,
            "ticket_ttl": self.ticket_ttl,
            "tickets": self.tickets_for(peer.entity, gid, caps, session_key),
        }

    def tickets_for(
        self, entity: str, gid: int, caps: dict[str, str], client_secret: bytes
    ) -> dict[str, Any]:
        """Fresh tickets for every service, session keys sealed for the client."""
        out = {}
        expires = self.runtime.clock.now() + self.ticket_ttl
        for svc in SERVICES:
            key_id, secret = self._current_key(svc)
            session = self.runtime.rand.randbytes(SESSION_KEY_LEN)
            info = {
                "entity": entity,
                "global_id": gid,
                "caps": caps,
                "session_key": session,
                "expires": expires,
                "service": svc,
            }
            out[svc] = {
                "ticket": cephx.seal_ticket(key_id, secret, info, self.runtime.rand.randbytes(12)),
                "session_key_sealed": cephx.seal(
                    client_secret, session, self.runtime.rand.randbytes(12)
                ),
            }
        return out

    def self_ticket(self, entity: str, svc: str) -> tuple[bytes, bytes]:
        """A ticket the monitor mints for itself (to reach the mgr)."""
        key_id, secret = self._current_key(svc)
        session = self.runtime.rand.randbytes(SESSION_KEY_LEN)
        info = {
            "entity": entity,
            "global_id": 0,
            "caps": {"mon": "allow *", "mgr": "allow *", "osd": "allow *"},
            "session_key": session,
            "expires": self.runtime.clock.now() + self.ticket_ttl,
            "service": svc,
        }
        return cephx.seal_ticket(key_id, secret, info, self.runtime.rand.randbytes(12)), session

    def _allocate_gid(self) -> int:
        if self._next_gid >= self._gid_limit:
            self._gid_limit = self._next_gid + GLOBAL_ID_BLOCK
            self.kv.commit({b"auth/global_id_next": str(self._gid_limit).encode()})
        gid = self._next_gid
        self._next_gid += 1
        return gid
