"""The connection handshake as two sans-I/O state machines.

The connecting side says who it is (`auth_hello`) with either nothing but its name (key
mode: it will prove its secret, monitors only) or a service ticket. The accepting side
answers with a challenge nonce; the connecting side proves its secret or ticket session
key over both nonces; the accepting side checks it and returns `auth_done` with its own
proof (so both ends are authenticated) plus any extras (the monitor's service tickets).

As upstream's cephx (`src/auth/cephx/CephxServiceHandler.cc`,
`CephxAuthorizeHandler.cc`): every proof covers a fresh server challenge, so a recorded
handshake replayed on another connection fails; a ticket carries its holder's caps and
an expiry, and the peer it authenticates is refused once that expiry passes
(`PeerInfo.expires`). In key mode the connecting side may claim its previous global id
with the monitor's old auth ticket (`global_id`/`old_ticket`: Pacific's secure global_id
reclaim, CVE-2021-20288).

The same machines re-authenticate an established connection: the connecting side sends
a new `auth_hello` (a renewed ticket) and the pair runs again with fresh nonces; the
accepting side updates the connection's `PeerInfo` in place (caps, expiry).
"""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.msg.message import Message


@dataclass
class Credentials:
    """What the connecting side proves: a secret (key mode) or a ticket + session key.

    `expires`/`renew_after` (wall-clock seconds, 0 = never) let a connection notice its
    ticket is due for renewal; `refresh` returns the renewed credentials and `now` reads
    the clock those times are in. In key mode `global_id` and `old_ticket` claim the
    session's previous global id (secure reclaim).
    """

    entity: str
    secret: bytes | None = field(default=None, repr=False)
    ticket: bytes | None = field(default=None, repr=False)
    session_key: bytes | None = field(default=None, repr=False)
    expires: float = 0.0
    renew_after: float = 0.0
    refresh: Callable[[], Credentials] | None = None
    now: Callable[[], float] | None = None
    global_id: int = 0
    old_ticket: bytes | None = None
    modes: tuple[str, ...] = ()

    def proof_key(self) -> bytes:
        key = self.session_key if self.ticket is not None else self.secret
        if key is None:
            raise CephError(errno.EACCES, f"no credentials for {self.entity}")
        return key

    def due(self) -> bool:
        """Whether these credentials should be renewed now."""
        return bool(self.renew_after and self.now is not None and self.now() >= self.renew_after)


@dataclass(eq=False)
class PeerInfo:
    """Who the other end proved to be (and, on the accepting side, until when).

    Compared and hashed by identity: it stands for one authenticated session."""

    entity: str
    global_id: int = 0
    caps: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    #: When the ticket (or monitor session) this peer authenticated with expires; 0 = never.
    expires: float = 0.0
    #: What the connecting side claimed (key mode): a previous global id and its ticket.
    claimed_global_id: int = 0
    old_ticket: bytes | None = field(default=None, repr=False)
    #: Set on a re-authentication of an established connection: who it was until now.
    reauth_of: PeerInfo | None = field(default=None, repr=False)
    #: The peer's address as the accepting side saw it ("" until known).
    addr: str = ""
    #: The connection mode negotiated ("crc" or "secure") and its session key.
    mode: str = "crc"
    session_key: bytes = field(default=b"", repr=False)


class AuthServer(Protocol):
    """The accepting daemon's policy: how to check a peer's key or ticket.

    An implementation may also offer `now() -> float` (the clock `PeerInfo.expires` is
    in) so connections refuse peers whose ticket expired, and `modes_for(entity)` (the
    connection modes it allows that peer, most preferred first; none: `crc` only).
    """

    def secret_for(self, entity: str) -> bytes | None: ...

    def open_ticket(self, ticket: bytes) -> dict[str, Any]: ...

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]: ...


def derive_nonce(base: bytes, counter: int) -> bytes:
    """A fresh nonce for the `counter`-th re-authentication of a connection whose first
    handshake used `base` (unique per connection and round, with no new randomness)."""
    return hashlib.sha256(b"pyceph-reauth" + base + counter.to_bytes(8, "little")).digest()[
        : len(base) or 16
    ]


class ClientHandshake:
    """The connecting side."""

    def __init__(self, creds: Credentials, nonce: bytes) -> None:
        self.creds = creds
        self.nonce = nonce
        self.result: PeerInfo | None = None
        self._server_nonce: bytes | None = None

    def hello(self) -> Message:
        head: dict[str, Any] = {"entity": self.creds.entity, "nonce": self.nonce}
        if self.creds.ticket is not None:
            head["ticket"] = self.creds.ticket
        if self.creds.global_id:
            head["global_id"] = self.creds.global_id
            if self.creds.old_ticket is not None:
                head["old_ticket"] = self.creds.old_ticket
        if self.creds.modes:
            head["modes"] = list(self.creds.modes)
        return Message("auth_hello", head)

    def receive(self, msg: Message) -> Message | None:
        """Feed a handshake message; returns the reply to send, if any."""
        if msg.type == "auth_fail":
            raise CephError(int(msg.head.get("errno", errno.EACCES)), str(msg.head.get("msg", "")))
        if msg.type == "auth_challenge" and self._server_nonce is None:
            self._server_nonce = bytes(msg.head["nonce"])
            proof = cephx.client_proof(self.creds.proof_key(), self.nonce, self._server_nonce)
            return Message("auth_proof", {"proof": proof})
        if msg.type == "auth_done" and self._server_nonce is not None and self.result is None:
            key = self.creds.proof_key()
            mode = str(msg.head.get("mode", "crc"))
            binding = mode_binding(mode, self.creds.modes)
            want = cephx.server_proof(key, self.nonce, self._server_nonce, binding)
            if not cephx.proofs_equal(want, bytes(msg.head.get("proof", b""))):
                raise CephError(errno.EACCES, "server failed to authenticate")
            if self.creds.modes and mode not in self.creds.modes:
                raise CephError(
                    errno.EACCES, f"server chose connection mode {mode} we did not offer"
                )
            self.result = PeerInfo(
                entity=str(msg.head.get("entity", "")),
                global_id=int(msg.head.get("global_id", 0)),
                extras=dict(msg.head.get("extras", {})),
                mode=mode,
                session_key=cephx.connection_key(key, self.nonce, self._server_nonce),
            )
            return None
        raise CephError(errno.EPROTO, f"unexpected {msg.type} during handshake")


class ServerHandshake:
    """The accepting side.

    `modes` is the accepting side's allowed connection modes (empty: `crc` only, the
    mode is not negotiated); `reauth_of` marks a re-authentication of an established
    connection by that peer.
    """

    def __init__(
        self,
        server: AuthServer,
        my_entity: str,
        nonce: bytes,
        modes: tuple[str, ...] = (),
        reauth_of: PeerInfo | None = None,
    ) -> None:
        self.server = server
        self.my_entity = my_entity
        self.nonce = nonce
        self.modes = modes
        self.reauth_of = reauth_of
        self.result: PeerInfo | None = None
        self._hello: dict[str, Any] | None = None

    def receive(self, msg: Message) -> Message:
        """Feed a handshake message; returns the reply to send."""
        try:
            return self._receive(msg)
        except CephError as e:
            return Message("auth_fail", {"errno": e.errno, "msg": e.message})

    def _receive(self, msg: Message) -> Message:
        if msg.type == "auth_hello" and self._hello is None:
            self._hello = msg.head
            return Message("auth_challenge", {"nonce": self.nonce})
        if msg.type == "auth_proof" and self._hello is not None and self.result is None:
            return self._check_proof(self._hello, msg)
        raise CephError(errno.EPROTO, f"unexpected {msg.type} during handshake")

    def _check_proof(self, hello: dict[str, Any], msg: Message) -> Message:
        entity = str(hello.get("entity", ""))
        client_nonce = bytes(hello.get("nonce", b""))
        if self.reauth_of is not None and entity != self.reauth_of.entity:
            raise CephError(errno.EACCES, "re-authentication as another entity")
        caps: dict[str, str] = {}
        global_id = 0
        expires = 0.0
        if "ticket" in hello:
            info = self.server.open_ticket(bytes(hello["ticket"]))
            if info.get("entity") != entity:
                raise CephError(errno.EACCES, "ticket does not belong to this entity")
            key = bytes(info["session_key"])
            caps = dict(info.get("caps", {}))
            global_id = int(info.get("global_id", 0))
            expires = float(info.get("expires", 0) or 0)
        else:
            secret = self.server.secret_for(entity)
            if secret is None:
                raise CephError(errno.EACCES, f"no key for {entity}")
            key = secret
        want = cephx.client_proof(key, client_nonce, self.nonce)
        if not cephx.proofs_equal(want, bytes(msg.head.get("proof", b""))):
            raise CephError(errno.EACCES, f"bad proof from {entity}")
        allowed = self.modes
        if not allowed and hasattr(self.server, "modes_for"):
            allowed = tuple(self.server.modes_for(entity))
        mode = choose_mode(hello.get("modes"), allowed)
        peer = PeerInfo(
            entity=entity,
            global_id=global_id,
            caps=caps,
            expires=expires,
            claimed_global_id=int(hello.get("global_id", 0) or 0),
            old_ticket=bytes(hello["old_ticket"]) if hello.get("old_ticket") else None,
            reauth_of=self.reauth_of,
            mode=mode,
            session_key=cephx.connection_key(key, client_nonce, self.nonce),
        )
        extras = self.server.extras_for(peer, key)
        peer.global_id = int(extras.get("global_id", peer.global_id))
        peer.caps = dict(extras.get("caps", peer.caps))
        peer.expires = float(extras.get("expires", peer.expires) or 0)
        self.result = peer
        head = {
            "proof": cephx.server_proof(
                key, client_nonce, self.nonce, mode_binding(mode, hello.get("modes") or ())
            ),
            "entity": self.my_entity,
            "global_id": peer.global_id,
            "extras": extras,
            "mode": mode,
        }
        return Message("auth_done", head)


def mode_binding(mode: str, offered: Any) -> bytes:
    """What the server's proof covers besides the nonces: the chosen mode and the modes
    the connecting side offered, so a man in the middle cannot downgrade either."""
    return f"{mode}|{','.join(str(m) for m in offered)}".encode()


def choose_mode(offered: Any, allowed: tuple[str, ...]) -> str:
    """The first of the connecting side's modes the accepting side allows (upstream
    msgr2's `get_preferred_mode`); `crc` when neither side lists modes; errno.EACCES when
    nothing is common."""
    if not allowed:
        return "crc"
    if not offered:
        offered = ["crc"]
    for m in offered:
        if m in allowed:
            return str(m)
    raise CephError(
        errno.EACCES,
        f"no connection mode in common: offered {list(offered)}, allowed {list(allowed)}",
    )
