"""Dashboard users, roles and passwords (upstream's `services/access_control.py`).

The database is one JSON document in the module's KV store under ``accessdb_v2``,
in upstream's shape::

    {"users": {name: {"username", "password", "roles", "name", "email",
                      "lastUpdate", "enabled", "pwdExpirationDate",
                      "pwdUpdateRequired"}},
     "roles": {name: {"name", "description", "scopes_permissions"}},
     "version": 2}

System roles (administrator, read-only, block-manager, pool-manager,
cluster-manager, ...) are built in and not stored. Passwords are stored as salted
scrypt hashes (``$scrypt$<n>$<r>$<p>$<salt>$<hash>``, `hashlib.scrypt`; upstream
uses bcrypt, which would be a new dependency) and checked against upstream's
password policy (length, complexity credits, username, keywords, repeated and
sequential characters). `AccessDB` is plain logic over that document; the caller
loads and saves it (`load`/`dump`) under `DB_KEY`.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from .security import Permission, Scope

__all__ = [
    "DB_KEY",
    "SYSTEM_ROLES",
    "AccessDB",
    "AccessError",
    "PasswordPolicyError",
    "Role",
    "User",
    "check_password_policy",
    "generate_password",
    "hash_password",
    "verify_password",
]

#: the KV store key of the access control database (upstream's ACDB_CONFIG_KEY + version)
DB_KEY = "accessdb_v2"
DB_VERSION = 2

#: scrypt cost parameters of new hashes (N, r, p): ~16 MiB and tens of ms per check
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32

#: upstream's password policy defaults (settings.py PWD_POLICY_*)
PWD_MIN_LENGTH = 8
PWD_MIN_COMPLEXITY = 10
PWD_EXCLUSION_LIST = [
    "osd",
    "host",
    "dashboard",
    "pool",
    "block",
    "nfs",
    "ceph",
    "monitors",
    "gateway",
    "logs",
    "crush",
    "maps",
]
#: characters of a generated password and its length
GENERATED_PWD_LENGTH = 20
_GENERATED_ALPHABET = string.ascii_letters + string.digits


class AccessError(Exception):
    """A user/role operation failed; `errno` is the (positive) errno upstream answers."""

    def __init__(self, err: int, message: str) -> None:
        super().__init__(message)
        self.errno = err


class PasswordPolicyError(AccessError):
    """The password breaks the policy (upstream's PasswordPolicyException, EINVAL)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EINVAL, message)


# ------------------------------------------------------------------ passwords
def hash_password(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of `password` in our `$scrypt$` text form."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=HASH_BYTES
    )
    b64 = base64.b64encode
    return f"$scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches the stored hash (constant-time compare)."""
    if not stored:
        return False
    parts = stored.split("$")
    if len(parts) != 7 or parts[1] != "scrypt":
        return False
    try:
        n, r, p = int(parts[2]), int(parts[3]), int(parts[4])
        salt, want = base64.b64decode(parts[5]), base64.b64decode(parts[6])
        got = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def _complexity(password: str) -> int:
    credits = 0
    for ch in password:
        if ch in string.ascii_uppercase:
            credits += 2
        elif ch in string.ascii_lowercase or ch in string.digits:
            credits += 1
        elif ch in string.punctuation:
            credits += 3
        else:
            credits += 5
    return credits


def check_password_policy(
    password: str, username: str | None = None, old_password: str | None = None
) -> None:
    """Raise `PasswordPolicyError` as upstream's PasswordPolicy.check_all."""
    if _complexity(password) < PWD_MIN_COMPLEXITY or len(password) < PWD_MIN_LENGTH:
        raise PasswordPolicyError("Password is too weak.")
    if old_password and password == old_password:
        raise PasswordPolicyError("Password must not be the same as the previous one.")
    if username and re.search(re.escape(username), password, re.IGNORECASE):
        raise PasswordPolicyError("Password must not contain username.")
    for word in PWD_EXCLUSION_LIST:
        m = re.search(re.escape(word), password, re.IGNORECASE)
        if m:
            raise PasswordPolicyError(f'Password must not contain the keyword "{m.group(0)}".')
    for i in range(1, len(password) - 1):
        if password[i - 1] == password[i] == password[i + 1]:
            raise PasswordPolicyError("Password must not contain repetitive characters.")
    for i in range(1, len(password) - 1):
        if ord(password[i - 1]) + 1 == ord(password[i]) == ord(password[i + 1]) - 1:
            raise PasswordPolicyError("Password must not contain sequential characters.")


def generate_password(username: str = "") -> str:
    """A random password that passes the policy (for `pyceph up`'s admin user)."""
    while True:
        pwd = "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(GENERATED_PWD_LENGTH))
        try:
            check_password_policy(pwd, username)
        except PasswordPolicyError:
            continue
        return pwd


# ------------------------------------------------------------------ roles and users
@dataclass
class Role:
    """A named set of permissions per scope."""

    name: str
    description: str | None = None
    scopes_permissions: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "scopes_permissions": self.scopes_permissions,
        }


_ALL = Permission.all_permissions()
_R = [Permission.READ]
SYSTEM_ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("administrator", "Administrator", {s: list(_ALL) for s in Scope.all_scopes()}),
        Role(
            "read-only",
            "Read-Only",
            {s: list(_R) for s in Scope.all_scopes() if s != Scope.DASHBOARD_SETTINGS},
        ),
        Role(
            "block-manager",
            "Block Manager",
            {
                Scope.RBD_IMAGE: list(_ALL),
                Scope.POOL: list(_R),
                Scope.ISCSI: list(_ALL),
                Scope.RBD_MIRRORING: list(_ALL),
                Scope.GRAFANA: list(_R),
            },
        ),
        Role(
            "rgw-manager",
            "RGW Manager",
            {Scope.RGW: list(_ALL), Scope.CONFIG_OPT: list(_R), Scope.GRAFANA: list(_R)},
        ),
        Role(
            "cluster-manager",
            "Cluster Manager",
            {
                **{
                    s: list(_ALL)
                    for s in (
                        Scope.HOSTS,
                        Scope.OSD,
                        Scope.MONITOR,
                        Scope.MANAGER,
                        Scope.CONFIG_OPT,
                        Scope.LOG,
                    )
                },
                Scope.GRAFANA: list(_R),
            },
        ),
        Role(
            "pool-manager",
            "Pool Manager",
            {Scope.POOL: list(_ALL), Scope.CONFIG_OPT: list(_R), Scope.GRAFANA: list(_R)},
        ),
        Role(
            "cephfs-manager",
            "CephFS Manager",
            {Scope.CEPHFS: list(_ALL), Scope.CONFIG_OPT: list(_R), Scope.GRAFANA: list(_R)},
        ),
        Role(
            "ganesha-manager",
            "NFS Ganesha Manager",
            {
                Scope.NFS_GANESHA: list(_ALL),
                Scope.CEPHFS: list(_ALL),
                Scope.RGW: list(_ALL),
                Scope.CONFIG_OPT: list(_R),
                Scope.GRAFANA: list(_R),
            },
        ),
    )
}


@dataclass
class User:
    """A dashboard user (upstream's User.to_dict keys)."""

    username: str
    password: str | None
    roles: list[str] = field(default_factory=list)
    name: str | None = None
    email: str | None = None
    lastUpdate: int = 0  # noqa: N815 - upstream's key
    enabled: bool = True
    pwdExpirationDate: int | None = None  # noqa: N815
    pwdUpdateRequired: bool = False  # noqa: N815
    #: when the user last changed, to the microsecond (tokens issued before are void);
    #: kept in the stored document only (`lastUpdate` is upstream's whole seconds)
    updated: float = 0.0

    def touch(self, now: float) -> None:
        self.lastUpdate = int(now)
        self.updated = now

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "roles": sorted(self.roles),
            "name": self.name,
            "email": self.email,
            "lastUpdate": self.lastUpdate,
            "enabled": self.enabled,
            "pwdExpirationDate": self.pwdExpirationDate,
            "pwdUpdateRequired": self.pwdUpdateRequired,
        }


class AccessDB:
    """Users and custom roles; thread-safe; `dump()` is what the KV store keeps."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.roles: dict[str, Role] = {}
        self.lock = threading.RLock()

    # -- persistence
    @classmethod
    def load(cls, text: str | None) -> AccessDB:
        db = cls()
        if not text:
            return db
        doc = json.loads(text)
        for name, r in (doc.get("roles") or {}).items():
            db.roles[name] = Role(
                name, r.get("description"), dict(r.get("scopes_permissions") or {})
            )
        fields = set(User.__dataclass_fields__)
        for name, u in (doc.get("users") or {}).items():
            db.users[name] = User(**{k: v for k, v in u.items() if k in fields})
        return db

    def dump(self) -> str:
        with self.lock:
            return json.dumps(
                {
                    "users": {
                        n: {**u.to_dict(), "updated": u.updated} for n, u in self.users.items()
                    },
                    "roles": {n: r.to_dict() for n, r in self.roles.items()},
                    "version": DB_VERSION,
                }
            )

    # -- roles
    def role(self, name: str) -> Role:
        role = SYSTEM_ROLES.get(name) or self.roles.get(name)
        if role is None:
            raise AccessError(errno.ENOENT, f"Role '{name}' does not exist")
        return role

    def all_roles(self) -> list[Role]:
        return list(SYSTEM_ROLES.values()) + list(self.roles.values())

    # -- users
    def user(self, username: str) -> User:
        user = self.users.get(username)
        if user is None:
            raise AccessError(errno.ENOENT, f"User '{username}' does not exist")
        return user

    def create_user(
        self,
        username: str,
        password: str,
        roles: list[str],
        now: float,
        name: str | None = None,
        email: str | None = None,
        enabled: bool = True,
        force_password: bool = False,
        pwd_update_required: bool = False,
    ) -> User:
        """A new user; EEXIST if taken, ENOENT for an unknown role, EINVAL for a weak
        password (unless `force_password`)."""
        with self.lock:
            if username in self.users:
                raise AccessError(errno.EEXIST, f"User '{username}' already exists")
            for r in roles:
                self.role(r)
            if not force_password:
                check_password_policy(password, username)
            user = User(
                username,
                hash_password(password),
                sorted(set(roles)),
                name,
                email,
                int(now),
                enabled,
                None,
                pwd_update_required,
                now,
            )
            self.users[username] = user
            return user

    def delete_user(self, username: str) -> None:
        with self.lock:
            self.user(username)
            del self.users[username]

    def set_password(
        self, username: str, password: str, now: float, force_password: bool = False
    ) -> User:
        with self.lock:
            user = self.user(username)
            if not force_password:
                check_password_policy(password, username)
            user.password = hash_password(password)
            user.touch(now)
            user.pwdUpdateRequired = False
            return user

    def set_roles(self, username: str, roles: list[str], now: float) -> User:
        with self.lock:
            user = self.user(username)
            for r in roles:
                self.role(r)
            user.roles = sorted(set(roles))
            user.touch(now)
            return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the credentials are right and the user is enabled."""
        user = self.users.get(username)
        if user is None or not user.enabled or not verify_password(password, user.password):
            return None
        return user

    def permissions(self, username: str) -> dict[str, list[str]]:
        """Upstream's permissions_dict: scope -> permissions, over all the user's roles."""
        user = self.users.get(username)
        out: dict[str, set[str]] = {}
        for rname in user.roles if user else []:
            role = SYSTEM_ROLES.get(rname) or self.roles.get(rname)
            for scope, perms in (role.scopes_permissions if role else {}).items():
                out.setdefault(scope, set()).update(perms)
        return {s: sorted(p) for s, p in out.items()}

    def authorize(self, username: str, scope: str, permission: str) -> bool:
        return permission in self.permissions(username).get(scope, [])
