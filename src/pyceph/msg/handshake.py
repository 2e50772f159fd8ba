"""The connection handshake as two sans-I/O state machines.

The connecting side says who it is (`auth_hello`) with either nothing but its name (key
mode: it will prove its secret, monitors only) or a service ticket. The accepting side
answers with a challenge nonce; the connecting side proves its secret or ticket session
key over both nonces; the accepting side checks it and returns `auth_done` with its own
proof (so both ends are authenticated) plus any extras (the monitor's service tickets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.msg.message import Message

EACCES = 13
EPROTO = 71


@dataclass
class Credentials:
    """What the connecting side proves: a secret (key mode) or a ticket + session key."""

    entity: str
    secret: bytes | None = None
    ticket: bytes | None = None
    session_key: bytes | None = None

    def proof_key(self) -> bytes:
        key = self.session_key if self.ticket is not None else self.secret
        if key is None:
            raise CephError(EACCES, f"no credentials for {self.entity}")
        return key


@dataclass
class PeerInfo:
    """Who the other end proved to be."""

    entity: str
    global_id: int = 0
    caps: dict[str, str] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


class AuthServer(Protocol):
    """The accepting daemon's policy: how to check a peer's key or ticket."""

    def secret_for(self, entity: str) -> bytes | None: ...

    def open_ticket(self, ticket: bytes) -> dict[str, Any]: ...

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]: ...


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
        return Message("auth_hello", head)

    def receive(self, msg: Message) -> Message | None:
        """Feed a handshake message; returns the reply to send, if any."""
        if msg.type == "auth_fail":
            raise CephError(int(msg.head.get("errno", EACCES)), str(msg.head.get("msg", "")))
        if msg.type == "auth_challenge" and self._server_nonce is None:
            self._server_nonce = bytes(msg.head["nonce"])
            proof = cephx.client_proof(self.creds.proof_key(), self.nonce, self._server_nonce)
            return Message("auth_proof", {"proof": proof})
        if msg.type == "auth_done" and self._server_nonce is not None:
            want = cephx.server_proof(self.creds.proof_key(), self.nonce, self._server_nonce)
            if not cephx.proofs_equal(want, bytes(msg.head.get("proof", b""))):
                raise CephError(EACCES, "server failed to authenticate")
            self.result = PeerInfo(
                entity=str(msg.head.get("entity", "")),
                global_id=int(msg.head.get("global_id", 0)),
                extras=dict(msg.head.get("extras", {})),
            )
            return None
        raise CephError(EPROTO, f"unexpected {msg.type} during handshake")


class ServerHandshake:
    """The accepting side."""

    def __init__(self, server: AuthServer, my_entity: str, nonce: bytes) -> None:
        self.server = server
        self.my_entity = my_entity
        self.nonce = nonce
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
            hello = self._hello
            entity = str(hello.get("entity", ""))
            client_nonce = bytes(hello.get("nonce", b""))
            caps: dict[str, str] = {}
            global_id = 0
            if "ticket" in hello:
                info = self.server.open_ticket(bytes(hello["ticket"]))
                if info.get("entity") != entity:
                    raise CephError(EACCES, "ticket does not belong to this entity")
                key = bytes(info["session_key"])
                caps = dict(info.get("caps", {}))
                global_id = int(info.get("global_id", 0))
            else:
                secret = self.server.secret_for(entity)
                if secret is None:
                    raise CephError(EACCES, f"no key for {entity}")
                key = secret
            want = cephx.client_proof(key, client_nonce, self.nonce)
            if not cephx.proofs_equal(want, bytes(msg.head.get("proof", b""))):
                raise CephError(EACCES, f"bad proof from {entity}")
            peer = PeerInfo(entity=entity, global_id=global_id, caps=caps)
            extras = self.server.extras_for(peer, key)
            peer.global_id = int(extras.get("global_id", peer.global_id))
            peer.caps = dict(extras.get("caps", peer.caps))
            self.result = peer
            head = {
                "proof": cephx.server_proof(key, client_nonce, self.nonce),
                "entity": self.my_entity,
                "global_id": peer.global_id,
                "extras": extras,
            }
            return Message("auth_done", head)
        raise CephError(EPROTO, f"unexpected {msg.type} during handshake")
