"""The dashboard's login machinery without a cluster: JWTs, password hashes and
policy, roles and permissions, the access database's KV document, and the
`AuthService` over a plain dict as its KV store."""

from __future__ import annotations

import json

import pytest

from pyceph.mgr.builtin.dashboard import access, jwt_token
from pyceph.mgr.builtin.dashboard.access import AccessDB, AccessError, PasswordPolicyError
from pyceph.mgr.builtin.dashboard.framework import Scope
from pyceph.mgr.builtin.dashboard.services.auth import BLOCKLIST_KEY, SECRET_KEY, AuthService

NOW = 1_800_000_000.0
GOOD = "Str0ng-Passw0rd!q"


# ------------------------------------------------------------------ JWT
def test_jwt_round_trip_and_claims() -> None:
    secret = jwt_token.new_secret()
    token = jwt_token.encode("alice", secret, NOW, 60)
    claims = jwt_token.decode(token, secret, NOW + 59)
    assert claims["username"] == "alice" and claims["iss"] == "ceph-dashboard"
    assert claims["iat"] == int(NOW) and claims["exp"] == int(NOW) + 60 and claims["jti"]
    header = json.loads(jwt_token._unb64(token.split(".")[0]))
    assert header == {"alg": "HS256", "typ": "JWT"}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "x",
        lambda t: t.rsplit(".", 1)[0] + ".AAAA",
        lambda t: "a.b",
        lambda t: "",
        lambda t: "!!!.!!!.!!!",
    ],
)
def test_jwt_rejects_tampered_tokens(mangle) -> None:  # type: ignore[no-untyped-def]
    secret = jwt_token.new_secret()
    with pytest.raises(jwt_token.TokenError):
        jwt_token.decode(mangle(jwt_token.encode("bob", secret, NOW, 60)), secret, NOW)


def test_jwt_expiry_and_wrong_secret() -> None:
    secret = jwt_token.new_secret()
    token = jwt_token.encode("bob", secret, NOW, 60)
    with pytest.raises(jwt_token.TokenError, match="expired"):
        jwt_token.decode(token, secret, NOW + 60)
    with pytest.raises(jwt_token.TokenError):
        jwt_token.decode(token, jwt_token.new_secret(), NOW)


# ------------------------------------------------------------------ passwords
def test_password_hash_is_salted_and_verifies() -> None:
    h1, h2 = access.hash_password(GOOD), access.hash_password(GOOD)
    assert h1 != h2 and h1.startswith("$scrypt$")
    assert access.verify_password(GOOD, h1) and not access.verify_password(GOOD + "x", h1)
    assert not access.verify_password(GOOD, None) and not access.verify_password(GOOD, "$2b$x")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1A", "Password is too weak."),
        ("abcdefgh", "Password is too weak."),
        ("Xalice-Passw0rd!", "Password must not contain username."),
        ("My-Ceph-Passw0rd!", 'Password must not contain the keyword "Ceph".'),
        ("Paaassw0rd!-Xy", "Password must not contain repetitive characters."),
        ("Pass-w0rd!-abcX", "Password must not contain sequential characters."),
    ],
)
def test_password_policy(password: str, message: str) -> None:
    with pytest.raises(PasswordPolicyError) as e:
        access.check_password_policy(password, "alice")
    assert str(e.value) == message and e.value.errno == 22


def test_generated_passwords_pass_the_policy() -> None:
    for _ in range(20):
        access.check_password_policy(access.generate_password("admin"), "admin")


# ------------------------------------------------------------------ roles, users, document
def test_system_roles_and_permissions() -> None:
    assert set(access.SYSTEM_ROLES) >= {
        "administrator", "read-only", "block-manager", "pool-manager", "cluster-manager",
    }  # fmt: skip
    admin = access.SYSTEM_ROLES["administrator"].scopes_permissions
    assert set(admin) == set(Scope.all_scopes())
    ro = access.SYSTEM_ROLES["read-only"].scopes_permissions
    assert Scope.DASHBOARD_SETTINGS not in ro and ro[Scope.POOL] == ["read"]
    block = access.SYSTEM_ROLES["block-manager"].scopes_permissions
    assert block[Scope.RBD_IMAGE] == ["read", "create", "update", "delete"]
    assert block[Scope.POOL] == ["read"] and Scope.OSD not in block


def test_users_in_upstream_shape_and_errors() -> None:
    db = AccessDB()
    user = db.create_user("alice", GOOD, ["pool-manager", "read-only"], NOW, email="a@x")
    d = user.to_dict()
    assert list(d) == [
        "username", "password", "roles", "name", "email", "lastUpdate", "enabled",
        "pwdExpirationDate", "pwdUpdateRequired",
    ]  # fmt: skip
    assert d["roles"] == ["pool-manager", "read-only"] and d["lastUpdate"] == int(NOW)
    assert db.permissions("alice")[Scope.POOL] == ["create", "delete", "read", "update"]
    assert db.authorize("alice", Scope.OSD, "read") and not db.authorize(
        "alice", Scope.OSD, "update"
    )
    with pytest.raises(AccessError, match="User 'alice' already exists") as e:
        db.create_user("alice", GOOD, [], NOW)
    assert e.value.errno == 17
    with pytest.raises(AccessError, match="Role 'nope' does not exist"):
        db.create_user("bob", GOOD, ["nope"], NOW)
    assert "bob" not in db.users
    with pytest.raises(PasswordPolicyError):
        db.create_user("bob", "weak", [], NOW)
    db.create_user("bob", "weak", [], NOW, force_password=True)
    assert db.authenticate("bob", "weak") is not None
    assert db.authenticate("bob", "wrong") is None and db.authenticate("nobody", "x") is None
    # the KV document round-trips
    again = AccessDB.load(db.dump())
    assert again.users["alice"].to_dict() == db.users["alice"].to_dict()
    assert json.loads(db.dump())["version"] == 2
    db.delete_user("bob")
    with pytest.raises(AccessError, match="User 'bob' does not exist"):
        db.delete_user("bob")


# ------------------------------------------------------------------ the service
class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_auth_service_tokens_logout_and_persistence() -> None:
    store: dict[str, str | None] = {}
    clock = Clock()
    svc = AuthService(store.get, store.__setitem__, clock)
    assert SECRET_KEY not in store  # made by the first login
    svc.db.create_user("alice", GOOD, ["read-only"], clock.now)
    svc.save()
    assert svc.login("alice", "bad", 60) is None
    result = svc.login("alice", GOOD, 60)
    assert result is not None
    token, _ = result
    assert store[SECRET_KEY] and svc.user_of(token) == "alice"
    # a second service over the same store (a restarted mgr) accepts the token
    svc2 = AuthService(store.get, store.__setitem__, clock)
    assert svc2.user_of(token) == "alice"
    svc2.logout(token)
    assert store[BLOCKLIST_KEY] and json.loads(store[BLOCKLIST_KEY] or "{}")
    with pytest.raises(jwt_token.TokenError):
        svc2.user_of(token)
    with pytest.raises(jwt_token.TokenError):
        AuthService(store.get, store.__setitem__, clock).user_of(token)
    # expiry
    token2, _ = svc.login("alice", GOOD, 60) or ("", None)
    clock.now += 61
    with pytest.raises(jwt_token.TokenError):
        svc.user_of(token2)


def test_changed_or_disabled_user_invalidates_tokens() -> None:
    store: dict[str, str | None] = {}
    clock = Clock()
    svc = AuthService(store.get, store.__setitem__, clock)
    svc.db.create_user("alice", GOOD, ["read-only"], clock.now)
    token, _ = svc.login("alice", GOOD, 600) or ("", None)
    clock.now += 5
    svc.db.set_roles("alice", ["administrator"], clock.now)
    with pytest.raises(jwt_token.TokenError):
        svc.user_of(token)
    token, _ = svc.login("alice", GOOD, 600) or ("", None)
    svc.db.users["alice"].enabled = False
    with pytest.raises(jwt_token.TokenError):
        svc.user_of(token)
    assert svc.login("alice", GOOD, 600) is None
