"""JSON Web Tokens (RFC 7519), HS256 only, with the standard library (`hmac`).

The dashboard's login answers a token signed with a secret from the module's KV
store; every request carries it (``Authorization: Bearer`` or the ``token``
cookie). The claims are upstream's (`services/auth.py` JwtManager): ``iss``
``ceph-dashboard``, ``jti`` (a random id, what logout blocks), ``exp``, ``iat``,
``username``, and ``issued`` (the time to the microsecond, so a user changed in the
same second as a login voids that token). Plain functions over bytes and numbers: no I/O, no clock of their own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

__all__ = ["ISSUER", "SECRET_BYTES", "TokenError", "decode", "encode", "new_secret"]

#: upstream's issuer claim
ISSUER = "ceph-dashboard"
#: random bytes of a new signing secret
SECRET_BYTES = 32
_HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenError(ValueError):
    """The token is malformed, badly signed or expired (the request gets 401)."""


def new_secret() -> str:
    """A fresh signing secret (URL-safe text, kept in the KV store)."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise TokenError("Invalid token") from e


def _sign(secret: str, signing_input: str) -> str:
    return _b64(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())


def encode(username: str, secret: str, now: float, ttl: int) -> str:
    """A token for `username` valid `ttl` seconds from `now`."""
    claims = {
        "iss": ISSUER,
        "jti": str(uuid.uuid4()),
        "exp": int(now) + int(ttl),
        "iat": int(now),
        "username": username,
        "issued": now,
    }
    head = _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{head}.{body}.{_sign(secret, f'{head}.{body}')}"


def decode(token: str, secret: str, now: float) -> dict[str, Any]:
    """The claims of a valid token; `TokenError` if it is not one (or expired at `now`)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("Invalid token")
    head, body, sig = parts
    if not hmac.compare_digest(sig, _sign(secret, f"{head}.{body}")):
        raise TokenError("Invalid token")
    try:
        header = json.loads(_unb64(head))
        claims = json.loads(_unb64(body))
    except ValueError as e:
        raise TokenError("Invalid token") from e
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("Invalid token")
    if not isinstance(claims, dict) or not isinstance(claims.get("username"), str):
        raise TokenError("Invalid token")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now:
        raise TokenError("Token expired")
    return claims
