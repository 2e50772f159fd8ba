"""cephx-style cryptography: key proofs, sealed tickets and session keys.

An entity proves it holds its secret by an HMAC over both sides' nonces; the monitor
then hands it tickets for the OSD and mgr services, sealed with AES-GCM under a rotating
service secret those daemons hold. A daemon can check a ticket without ever knowing a
client's secret. Pure functions; randomness is passed in.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import struct

import msgpack
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pyceph.common.errors import CephError

PROOF_LABEL = b"pyceph-cephx-proof"
SERVER_LABEL = b"pyceph-cephx-server"
CONNECTION_LABEL = b"pyceph-cephx-connection"
NONCE_LEN = 16
GCM_NONCE_LEN = 12
_KEY_ID = struct.Struct("<Q")


def _aes_key(secret: bytes) -> bytes:
    """AES-GCM wants 16/24/32 bytes; derive a 32-byte key from any secret."""
    return hashlib.sha256(b"pyceph-aes" + secret).digest()


def client_proof(secret: bytes, client_nonce: bytes, server_nonce: bytes) -> bytes:
    """What the connecting side sends to prove it knows `secret`."""
    return hmac.digest(secret, PROOF_LABEL + client_nonce + server_nonce, "sha256")


def server_proof(
    secret: bytes, client_nonce: bytes, server_nonce: bytes, binding: bytes = b""
) -> bytes:
    """What the accepting side returns to prove it knows `secret` too; `binding` is
    whatever else both sides must agree on (the negotiated connection mode)."""
    return hmac.digest(secret, SERVER_LABEL + server_nonce + client_nonce + binding, "sha256")


def connection_key(secret: bytes, client_nonce: bytes, server_nonce: bytes) -> bytes:
    """The per-connection secret both sides derive after a successful handshake (what
    secure mode's frame keys come from; upstream's `connection_secret`)."""
    return hmac.digest(secret, CONNECTION_LABEL + client_nonce + server_nonce, "sha256")


def proofs_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def seal(secret: bytes, payload: object, gcm_nonce: bytes) -> bytes:
    """Encrypt and authenticate a msgpack-able payload under `secret`."""
    assert len(gcm_nonce) == GCM_NONCE_LEN
    body = msgpack.packb(payload, use_bin_type=True)
    return gcm_nonce + AESGCM(_aes_key(secret)).encrypt(gcm_nonce, body, None)


def unseal(secret: bytes, blob: bytes) -> object:
    """Inverse of `seal`; EACCES if the blob was not sealed under `secret`."""
    try:
        body = AESGCM(_aes_key(secret)).decrypt(blob[:GCM_NONCE_LEN], blob[GCM_NONCE_LEN:], None)
    except (InvalidTag, ValueError) as e:
        raise CephError(errno.EACCES, "bad authenticator or ticket") from e
    return msgpack.unpackb(body, raw=False, strict_map_key=False)


def seal_ticket(key_id: int, service_secret: bytes, info: dict, gcm_nonce: bytes) -> bytes:
    """A service ticket: the rotating key's id in clear, the rest sealed."""
    return _KEY_ID.pack(key_id) + seal(service_secret, info, gcm_nonce)


def ticket_key_id(ticket: bytes) -> int:
    if len(ticket) < _KEY_ID.size + GCM_NONCE_LEN:
        raise CephError(errno.EACCES, "malformed ticket")
    return _KEY_ID.unpack_from(ticket)[0]


def open_ticket(service_secret: bytes, ticket: bytes) -> dict:
    info = unseal(service_secret, ticket[_KEY_ID.size :])
    if not isinstance(info, dict):
        raise CephError(errno.EACCES, "malformed ticket")
    return info
