"""The monitor's side of authentication: secrets, global ids, tickets, rotating keys.

Entities prove their secret to the monitor (key mode). The monitor answers with a
global id, the entity's caps, an auth ticket (what a reconnecting client shows to keep
its global id) and tickets for the `osd` and `mgr` services, each sealed under a
rotating service secret that only the monitor and those daemons hold. Rotating secrets
and the global id counter persist in the monitor's store.

Upstream: `src/auth/cephx/CephxKeyServer.cc` (rotation: previous/current/next secret
per service, each serving one `auth_service_ticket_ttl`, the auth service's one
`auth_mon_ticket_ttl`), `CephxServiceHandler.cc` (`verify_old_ticket`: global_id
reclaim, `auth_allow_insecure_global_id_reclaim`), `src/mon/HealthMonitor.cc`
(`AUTH_INSECURE_GLOBAL_ID_RECLAIM[_ALLOWED]`).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

import msgpack

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.common.keyring import decode_secret
from pyceph.common.kvstore import LmdbKV, MemKV
from pyceph.common.runtime import Runtime
from pyceph.msg.handshake import Credentials, PeerInfo
from pyceph.msg.secure import parse_modes

log = logging.getLogger(__name__)

#: Services the monitor mints tickets for; "auth" is its own (the auth ticket's key).
SERVICES = ("osd", "mgr")
AUTH_SERVICE = "auth"
#: Upstream's defaults of auth_service_ticket_ttl / auth_mon_ticket_ttl.
AUTH_SERVICE_TICKET_TTL = 3600.0
AUTH_MON_TICKET_TTL = 259200.0
#: Secrets kept per service: previous, current, next (upstream KEY_ROTATE_NUM).
KEY_ROTATE_NUM = 3
#: The monitor renews its own tickets at this fraction of their life (as clients do).
SELF_RENEW_FRACTION = 0.75
#: Global ids are reserved in the store in blocks, so a restart never reuses one.
GLOBAL_ID_BLOCK = 4096
SESSION_KEY_LEN = 16
SECRET_LEN = 16
GCM_NONCE_LEN = 12
#: Most sessions named in AUTH_INSECURE_GLOBAL_ID_RECLAIM's detail (upstream's
#: mon_health_max_detail).
MAX_HEALTH_DETAIL = 50

#: global_id_status_t as upstream names the outcomes of a session's start.
NEW_OK = "new_ok"
RECLAIM_OK = "reclaim_ok"
RECLAIM_INSECURE = "reclaim_insecure"

AuthLookup = Callable[[str], "tuple[str, dict[str, str]] | None"]
OptGetter = Callable[[str], Any]


def _key_digest(secret: bytes) -> bytes:
    """What a session remembers of the key it proved (to notice a re-key)."""
    return hashlib.sha256(b"pyceph-key-id" + secret).digest()[:16]


class MonAuthServer:
    """Key-mode `AuthServer` for the monitor, minting tickets for the services."""

    def __init__(
        self,
        runtime: Runtime,
        kv: LmdbKV | MemKV,
        lookup: AuthLookup,
        fsid: str,
        ticket_ttl: float | None = None,
        opt: OptGetter | None = None,
    ) -> None:
        self.runtime = runtime
        self.kv = kv
        self.lookup = lookup
        self.fsid = fsid
        self._ttl_override = ticket_ttl
        self._opt = opt
        raw = kv.get(b"auth/global_id_next")
        self._next_gid = int(raw) if raw else 4096
        self._gid_limit = self._next_gid
        raw = kv.get(b"auth/rotating")
        self._rotating: dict[str, list[list[Any]]] = msgpack.unpackb(raw, raw=False) if raw else {}
        #: Sessions that reclaimed their global id without proof (for health).
        self._insecure: weakref.WeakSet[PeerInfo] = weakref.WeakSet()
        self._rotate()

    # -- options ----------------------------------------------------------------
    def _get(self, name: str, default: Any) -> Any:
        if self._opt is None:
            return default
        try:
            v = self._opt(name)
        except Exception:  # an option table without it (tests): upstream's default
            return default
        return default if v is None else v

    @property
    def ticket_ttl(self) -> float:
        """auth_service_ticket_ttl: a service ticket's life and a service key's turn."""
        if self._ttl_override is not None:
            return float(self._ttl_override)
        return float(self._get("auth_service_ticket_ttl", AUTH_SERVICE_TICKET_TTL))

    @property
    def mon_ticket_ttl(self) -> float:
        """auth_mon_ticket_ttl: a monitor session's (auth ticket's) life."""
        return float(self._get("auth_mon_ticket_ttl", AUTH_MON_TICKET_TTL))

    def allow_insecure_reclaim(self) -> bool:
        return bool(self._get("auth_allow_insecure_global_id_reclaim", True))

    def _svc_ttl(self, svc: str) -> float:
        return self.mon_ticket_ttl if svc == AUTH_SERVICE else self.ticket_ttl

    def now(self) -> float:
        """The clock tickets' expiries are in (connections compare with it)."""
        return self.runtime.clock.now()

    # -- rotating service keys ---------------------------------------------
    def _rotate(self) -> None:
        """Keep, per service, the previous, current and next secret (as upstream); a
        secret retired from `current` stays one more period, so tickets sealed with it
        at the end of its turn stay valid until they expire."""
        now = self.now()
        changed = False
        for svc in (*SERVICES, AUTH_SERVICE):
            ttl = self._svc_ttl(svc)
            old = self._rotating.get(svc, [])
            keys = [k for k in old if k[2] > now - ttl]
            while len(keys) < KEY_ROTATE_NUM or keys[-1][2] < now + 2 * ttl:
                next_id = keys[-1][0] + 1 if keys else (old[-1][0] + 1 if old else 1)
                expires = max(keys[-1][2] if keys else now, now) + ttl
                keys.append([next_id, self.runtime.rand.randbytes(SECRET_LEN), expires])
            if keys != old:
                changed = True
            self._rotating[svc] = keys
        if changed:
            self.kv.commit({b"auth/rotating": msgpack.packb(self._rotating, use_bin_type=True)})

    def _current_key(self, svc: str) -> tuple[int, bytes]:
        self._rotate()
        now = self.now()
        ttl = self._svc_ttl(svc)
        for key_id, secret, expires in self._rotating[svc]:
            if expires - ttl <= now < expires:
                return key_id, secret
        key_id, secret, _ = self._rotating[svc][-1]
        return key_id, secret

    def rotating_keys(self, svc: str) -> dict[int, bytes]:
        """Every live secret of `svc` by id (what its daemons check tickets with)."""
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
        raise CephError(errno.EACCES, "monitors accept key authentication only")

    def modes_for(self, entity: str) -> tuple[str, ...]:
        """ms_mon_service_mode for clients, ms_mon_cluster_mode for daemons."""
        if self._opt is None:
            return ()
        client = entity.startswith("client.")
        name = "ms_mon_service_mode" if client else "ms_mon_cluster_mode"
        return parse_modes(str(self._get(name, "crc")))

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]:
        """Start (or renew) a monitor session: its global id, caps, expiry and tickets."""
        found = self.lookup(peer.entity)
        if found is None:
            raise CephError(errno.EACCES, f"no key for {peer.entity}")
        caps = dict(found[1])
        gid = self._session_global_id(peer)
        now = self.now()
        return {
            "global_id": gid,
            "caps": caps,
            "fsid": self.fsid,
            "ticket_ttl": self.ticket_ttl,
            "mon_ticket_ttl": self.mon_ticket_ttl,
            "expires": now + self.mon_ticket_ttl,
            "auth_ticket": self._auth_ticket(peer.entity, gid, now + self.mon_ticket_ttl),
            "tickets": self.tickets_for(peer.entity, gid, caps, session_key),
        }

    def _session_global_id(self, peer: PeerInfo) -> int:
        """upstream verify_old_ticket: a new id, or the claimed one with proof, or (when
        allowed) without; EACCES otherwise."""
        if peer.reauth_of is not None:  # the same authenticated connection
            peer.global_id = peer.reauth_of.global_id
            if peer.reauth_of in self._insecure:
                self._insecure.add(peer)
            return peer.global_id
        claimed = peer.claimed_global_id
        if not claimed:
            return self._allocate_gid()
        why = self._check_old_ticket(peer, claimed)
        if why is None:
            return claimed
        if self.allow_insecure_reclaim():
            log.info(
                "allowing insecure reclaim of global_id %d by %s (%s)", claimed, peer.entity, why
            )
            self._insecure.add(peer)
            return claimed
        raise CephError(errno.EACCES, f"attempt to reclaim global_id {claimed} {why}")

    def _check_old_ticket(self, peer: PeerInfo, claimed: int) -> str | None:
        """None when `peer.old_ticket` proves `claimed`; else why not."""
        if not peer.old_ticket:
            return "without presenting ticket"
        try:
            key = self.rotating_keys(AUTH_SERVICE).get(cephx.ticket_key_id(peer.old_ticket))
            if key is None:
                return "using bad ticket"
            info = cephx.open_ticket(key, peer.old_ticket)
        except CephError:
            return "using bad ticket"
        if info.get("entity") != peer.entity or int(info.get("global_id", 0)) != claimed:
            return "using mismatching ticket"
        return None

    def _auth_ticket(self, entity: str, gid: int, expires: float) -> bytes:
        key_id, secret = self._current_key(AUTH_SERVICE)
        info = {"entity": entity, "global_id": gid, "expires": expires, "service": AUTH_SERVICE}
        return cephx.seal_ticket(key_id, secret, info, self.runtime.rand.randbytes(GCM_NONCE_LEN))

    def tickets_for(
        self, entity: str, gid: int, caps: dict[str, str], client_secret: bytes
    ) -> dict[str, Any]:
        """Fresh tickets for every service, session keys sealed for the client."""
        out = {}
        expires = self.now() + self.ticket_ttl
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
                "ticket": cephx.seal_ticket(
                    key_id, secret, info, self.runtime.rand.randbytes(GCM_NONCE_LEN)
                ),
                "session_key_sealed": cephx.seal(
                    client_secret, session, self.runtime.rand.randbytes(GCM_NONCE_LEN)
                ),
                "expires": expires,
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
            "expires": self.now() + self.ticket_ttl,
            "service": svc,
        }
        ticket = cephx.seal_ticket(key_id, secret, info, self.runtime.rand.randbytes(GCM_NONCE_LEN))
        return ticket, session

    def self_credentials(self, entity: str, svc: str) -> Credentials:
        """What the monitor shows a service it connects to (the mgr): a ticket of its own
        minting, renewed as any client's, in the modes of `ms_cluster_mode`."""
        ticket, session = self.self_ticket(entity, svc)
        now = self.now()
        modes = parse_modes(str(self._get("ms_cluster_mode", ""))) if self._opt else ()
        return Credentials(
            entity,
            ticket=ticket,
            session_key=session,
            expires=now + self.ticket_ttl,
            renew_after=now + self.ticket_ttl * SELF_RENEW_FRACTION,
            refresh=lambda: self.self_credentials(entity, svc),
            now=self.now,
            modes=modes,
        )

    def _allocate_gid(self) -> int:
        if self._next_gid >= self._gid_limit:
            self._gid_limit = self._next_gid + GLOBAL_ID_BLOCK
            self.kv.commit({b"auth/global_id_next": str(self._gid_limit).encode()})
        gid = self._next_gid
        self._next_gid += 1
        return gid

    def session_closed(self, peer: PeerInfo) -> None:
        """A monitor session ended: it no longer counts for AUTH_INSECURE_GLOBAL_ID_RECLAIM
        (upstream walks the live session map)."""
        self._insecure.discard(peer)

    # -- health ---------------------------------------------------------------
    def insecure_sessions(self) -> list[str]:
        """`entity at addr` of every live session that reclaimed its id without proof."""
        return sorted(f"{p.entity} at {p.addr or '-'}" for p in list(self._insecure))

    def health_checks(self, mon_names: list[str]) -> dict[str, dict[str, Any]]:
        """This monitor's AUTH_INSECURE_GLOBAL_ID_RECLAIM[_ALLOWED] checks."""
        return global_id_health(
            self.insecure_sessions(),
            self.allow_insecure_reclaim(),
            bool(self._get("mon_warn_on_insecure_global_id_reclaim", True)),
            bool(self._get("mon_warn_on_insecure_global_id_reclaim_allowed", True)),
            mon_names,
        )


def _check(msg: str, count: int, detail: list[str]) -> dict[str, Any]:
    return {
        "severity": "HEALTH_WARN",
        "summary": {"message": msg, "count": count},
        "detail": [{"message": d} for d in detail],
        "muted": False,
    }


def global_id_health(
    insecure: list[str],
    allowed: bool,
    warn_insecure: bool,
    warn_allowed: bool,
    mon_names: list[str],
) -> dict[str, dict[str, Any]]:
    """Upstream HealthMonitor's two global_id checks, from the sessions that reclaimed
    insecurely and the monitors' `auth_allow_insecure_global_id_reclaim`."""
    checks: dict[str, dict[str, Any]] = {}
    if warn_insecure and allowed and insecure:
        detail = [f"{s} is using insecure global_id reclaim" for s in insecure]
        if len(detail) >= MAX_HEALTH_DETAIL:  # upstream stops at the max-th line and adds "..."
            detail = detail[:MAX_HEALTH_DETAIL] + ["..."]
        n = len(insecure)
        msg = f"client{'s' if n > 1 else ''} {'are' if n > 1 else 'is'} using insecure global_id reclaim"
        checks["AUTH_INSECURE_GLOBAL_ID_RECLAIM"] = _check(msg, len(detail), detail)
    if warn_allowed and allowed and mon_names:
        n = len(mon_names)
        msg = f"mon{'s' if n > 1 else ''} {'are' if n > 1 else 'is'} allowing insecure global_id reclaim"
        detail = [
            f"mon.{m} has auth_allow_insecure_global_id_reclaim set to true" for m in mon_names
        ]
        checks["AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED"] = _check(msg, n, detail)
    return checks
