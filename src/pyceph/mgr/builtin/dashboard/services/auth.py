"""Login state of the dashboard: the access database, the JWT secret, logged-out tokens.

One `AuthService` per module instance, shared by the web views and the `ceph
dashboard ac-*` commands (both run in the module's process, so a user created on
the command line can log in at once). It keeps the database in memory and writes
it through to the KV store (`access.DB_KEY`) after each change; the JWT signing
secret (``jwt_secret``) and the list of logged-out tokens
(``jwt_token_block_list``: ``{jti: exp}``) live there too, as upstream's
JwtManager keeps them. Token checks are in memory: a request never waits on the
store to be authenticated.

Upstream: src/pybind/mgr/dashboard/services/auth.py (JwtManager, AuthManager).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import jwt_token
from ..access import DB_KEY, AccessDB, User

__all__ = ["BLOCKLIST_KEY", "DEFAULT_TOKEN_TTL", "SECRET_KEY", "AuthService"]

#: KV store keys (upstream's names)
SECRET_KEY = "jwt_secret"
BLOCKLIST_KEY = "jwt_token_block_list"
#: seconds a token is valid unless `jwt_token_ttl` says otherwise (upstream: 8 hours)
DEFAULT_TOKEN_TTL = 28800


class AuthService:
    """Users, passwords and tokens, persisted through `get_store`/`set_store`.

    The KV store is the truth: the database, the secret and the blocklist are read
    from it (a local dict lookup in the mgr) and re-parsed only when their text
    changed, so a mgr that became active, or a change made through another path,
    is seen at once.
    """

    def __init__(
        self,
        get_store: Callable[[str], str | None],
        set_store: Callable[[str, str | None], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._get = get_store
        self._set = set_store
        self.clock = clock
        self._lock = threading.RLock()
        self._db_text: str | None = None
        self._db = AccessDB.load(None)
        self._blocked_text: str | None = None
        self._blocked: dict[str, int] = {}

    @property
    def db(self) -> AccessDB:
        """The access database as the KV store has it now."""
        with self._lock:
            text = self._get(DB_KEY)
            if text != self._db_text:
                self._db = AccessDB.load(text)
                self._db_text = text
            return self._db

    def save(self) -> None:
        """Write the access database to the KV store (blocking)."""
        with self._lock:
            text = self._db.dump()
            self._set(DB_KEY, text)
            self._db_text = text

    def _secret(self, create: bool = False) -> str:
        """The signing secret; made (and stored) by the first login only, so a mgr whose
        store is not current yet never replaces the one the cluster uses."""
        secret = self._get(SECRET_KEY)
        if not secret and not create:
            raise jwt_token.TokenError("No signing secret yet")
        if not secret:
            with self._lock:
                secret = self._get(SECRET_KEY)
                if not secret:
                    secret = jwt_token.new_secret()
                    self._set(SECRET_KEY, secret)
        return secret

    def _blocklist(self) -> dict[str, int]:
        with self._lock:
            text = self._get(BLOCKLIST_KEY)
            if text != self._blocked_text:
                try:
                    raw = json.loads(text or "{}")
                except ValueError:
                    raw = {}
                self._blocked = (
                    {str(k): int(v) for k, v in raw.items() if isinstance(v, int)}
                    if isinstance(raw, dict)
                    else {}
                )
                self._blocked_text = text
            return self._blocked

    # -- tokens
    def login(self, username: str, password: str, ttl: int) -> tuple[str, User] | None:
        """A token and the user for right credentials, else None (blocking: hashing)."""
        user = self.db.authenticate(username, password)
        if user is None:
            return None
        return jwt_token.encode(username, self._secret(create=True), self.clock(), ttl), user

    def user_of(self, token: str) -> str:
        """The username of a valid, not logged-out token of an existing enabled user;
        `jwt_token.TokenError` otherwise."""
        claims = jwt_token.decode(token, self._secret(), self.clock())
        if str(claims.get("jti")) in self._blocklist():
            raise jwt_token.TokenError("Token is blocked")
        user = self.db.users.get(claims["username"])
        if user is None or not user.enabled:
            raise jwt_token.TokenError("Invalid user")
        issued = claims.get("issued", claims.get("iat", 0))
        if not isinstance(issued, (int, float)) or user.updated > issued:
            # as upstream: a user changed after the token was issued must log in again
            raise jwt_token.TokenError("User changed")
        return user.username

    def logout(self, token: str) -> None:
        """Block `token` until it expires (persisted; blocking)."""
        try:
            claims = jwt_token.decode(token, self._secret(), self.clock())
        except jwt_token.TokenError:
            return
        with self._lock:
            now = self.clock()
            blocked = {j: e for j, e in self._blocklist().items() if e > now}
            blocked[str(claims["jti"])] = int(claims["exp"])
            text = json.dumps(blocked)
            self._set(BLOCKLIST_KEY, text)

    def permissions(self, username: str) -> dict[str, list[str]]:
        return self.db.permissions(username)

    def authorize(self, username: str, scope: str, permission: str) -> bool:
        return self.db.authorize(username, scope, permission)

    def user_info(self, username: str) -> dict[str, Any]:
        user = self.db.user(username)
        return {
            "username": user.username,
            "permissions": self.permissions(username),
            "pwdExpirationDate": user.pwdExpirationDate,
            "pwdUpdateRequired": user.pwdUpdateRequired,
        }
