"""The cephx lifecycle as pure logic, on a fake clock supplied through the runtime.

Covers the monitor's auth server (rotation of service keys: previous/current/next with
the previous still accepted for one period; tickets with caps and expiry; global_id
reclaim with and without `auth_allow_insecure_global_id_reclaim`, and its health
checks), the services' ticket checks, and the sans-I/O handshake (replayed, forged and
tampered proofs and tickets, re-authentication of an established connection).
"""

from __future__ import annotations

import errno
from typing import Any

import pytest

from pyceph.auth import cephx
from pyceph.auth.service import ServiceAuthServer, refresh_period
from pyceph.common.errors import CephError
from pyceph.common.keyring import decode_secret, generate_secret
from pyceph.common.kvstore import MemKV
from pyceph.common.runtime import Runtime
from pyceph.mon.auth_server import MonAuthServer, global_id_health
from pyceph.msg.handshake import ClientHandshake, Credentials, ServerHandshake, choose_mode
from pyceph.msg.message import Message
from pyceph.sim.rand import SimRand

TTL = 100.0
T0 = 1_000_000.0


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


def _runtime(clock: FakeClock) -> Runtime:
    return Runtime(clock=clock, rand=SimRand(7), net=None, disk=None)  # type: ignore[arg-type]


class World:
    """A monitor auth server, its users and a fake clock."""

    def __init__(self, **opts: Any) -> None:
        self.clock = FakeClock()
        self.rt = _runtime(self.clock)
        self.users: dict[str, tuple[str, dict[str, str]]] = {}
        self.opts = {"auth_service_ticket_ttl": TTL, "auth_mon_ticket_ttl": 3 * TTL, **opts}
        self.kv = MemKV()
        self.mon = MonAuthServer(
            self.rt, self.kv, self.users.get, "fsid", opt=lambda n: self.opts.get(n)
        )

    def add(self, entity: str, caps: dict[str, str] | None = None) -> bytes:
        key = generate_secret(rand=self.rt.rand.randbytes, now=self.clock.now)
        self.users[entity] = (key, caps or {"mon": "allow r", "osd": "allow rw"})
        return decode_secret(key)


def _handshake(
    server: Any,
    creds: Credentials,
    nonces: tuple[bytes, bytes] = (b"c" * 16, b"s" * 16),
    reauth_of=None,
):
    """Run a whole handshake in memory: (client result, server result, messages)."""
    client = ClientHandshake(creds, nonces[0])
    srv = ServerHandshake(server, "mon.a", nonces[1], reauth_of=reauth_of)
    sent = [client.hello()]
    challenge = srv.receive(sent[0])
    if challenge.type == "auth_fail":
        raise CephError(challenge.head["errno"], challenge.head["msg"])
    sent.append(client.receive(challenge))
    done = srv.receive(sent[1])
    if done.type == "auth_fail":
        raise CephError(done.head["errno"], done.head["msg"])
    assert client.receive(done) is None
    return client.result, srv.result, sent


# -- rotation ---------------------------------------------------------------------------
def test_rotating_keys_keep_previous_current_next_and_rotate_each_ttl():
    w = World()
    first = w.mon.rotating_keys("osd")
    assert len(first) == 3
    cur0, _ = w.mon._current_key("osd")
    w.clock.t += TTL
    second = w.mon.rotating_keys("osd")
    cur1, _ = w.mon._current_key("osd")
    assert cur1 == cur0 + 1
    assert cur0 in second  # the previous one is still accepted for one period
    w.clock.t += TTL
    assert cur0 not in w.mon.rotating_keys("osd")  # and gone after it
    assert w.mon._current_key("osd")[0] == cur0 + 2


def test_rotating_keys_persist_across_a_restart():
    w = World()
    keys = w.mon.rotating_keys("mgr")
    again = MonAuthServer(w.rt, w.kv, w.users.get, "fsid", opt=lambda n: w.opts.get(n))
    assert again.rotating_keys("mgr") == keys


def test_service_ticket_from_previous_key_accepted_for_one_period_then_expired():
    w = World()
    secret = w.add("client.a")
    extras = w.mon.extras_for(_peer("client.a"), secret)
    t = extras["tickets"]["osd"]
    svc = _service(w)
    assert svc.open_ticket(bytes(t["ticket"]))["caps"] == {"mon": "allow r", "osd": "allow rw"}
    w.clock.t += TTL * 0.99
    svc.keys = w.mon.rotating_keys("osd")  # the key rotated; the old one is kept
    assert svc.open_ticket(bytes(t["ticket"]))["entity"] == "client.a"
    w.clock.t += TTL * 0.02
    with pytest.raises(CephError) as e:
        svc.open_ticket(bytes(t["ticket"]))
    assert e.value.errno == errno.EACCES and "expired" in e.value.message


def test_refresh_period_as_upstream():
    assert refresh_period(3600) == 30.0
    assert refresh_period(4) == 1.0


# -- tickets ------------------------------------------------------------------------------
class _Monc:
    def __init__(self, w: World) -> None:
        self.runtime = w.rt
        self.ticket_ttl = TTL


def _service(w: World, svc: str = "osd") -> ServiceAuthServer:
    s = ServiceAuthServer(_Monc(w), svc)
    s.keys = w.mon.rotating_keys(svc)
    return s


def _peer(entity: str, **kw: Any):
    from pyceph.msg.handshake import PeerInfo

    return PeerInfo(entity=entity, **kw)


def test_forged_and_tampered_tickets_are_refused():
    w = World()
    secret = w.add("client.a")
    ticket = bytes(w.mon.extras_for(_peer("client.a"), secret)["tickets"]["osd"]["ticket"])
    svc = _service(w)
    tampered = bytearray(ticket)
    tampered[-1] ^= 1
    forged = cephx.seal_ticket(
        cephx.ticket_key_id(ticket),
        b"k" * 16,
        {"entity": "client.a", "caps": {"osd": "allow *"}, "session_key": b"s" * 16,
         "expires": T0 + TTL, "service": "osd"},
        b"n" * 12,
    )  # fmt: skip
    for bad in (bytes(tampered), forged, b"short", ticket[:8] + b"\0" * 40):
        with pytest.raises(CephError) as e:
            svc.open_ticket(bad)
        assert e.value.errno == errno.EACCES
    with pytest.raises(CephError):  # a ticket for the osd service is no good to the mgr
        _service(w, "mgr").open_ticket(ticket)


def test_ticket_carries_caps_and_expiry_and_the_handshake_sets_them():
    w = World()
    secret = w.add("client.a", {"mon": "allow r", "osd": "allow r pool=x"})
    t = w.mon.extras_for(_peer("client.a"), secret)["tickets"]["osd"]
    session = cephx.unseal(secret, bytes(t["session_key_sealed"]))
    creds = Credentials("client.a", ticket=bytes(t["ticket"]), session_key=session)
    _, peer, _ = _handshake(_service(w), creds)
    assert peer.caps == {"mon": "allow r", "osd": "allow r pool=x"}
    assert peer.expires == T0 + TTL


# -- handshake: replay, forgery, re-authentication ---------------------------------------
def test_recorded_handshake_replayed_with_a_new_challenge_is_refused():
    w = World()
    secret = w.add("client.a")
    _, _, sent = _handshake(w.mon, Credentials("client.a", secret=secret))
    srv = ServerHandshake(w.mon, "mon.a", b"t" * 16)  # a new connection: a new challenge
    assert srv.receive(sent[0]).type == "auth_challenge"
    reply = srv.receive(sent[1])
    assert reply.type == "auth_fail" and reply.head["errno"] == errno.EACCES
    assert srv.result is None


def test_wrong_key_and_unknown_entity_are_refused():
    w = World()
    w.add("client.a")
    for creds in (Credentials("client.a", secret=b"x" * 16), Credentials("client.b", secret=b"y")):
        with pytest.raises(CephError) as e:
            _handshake(w.mon, creds)
        assert e.value.errno == errno.EACCES


def test_server_proof_binds_the_mode():
    w = World()
    secret = w.add("client.a")
    client = ClientHandshake(Credentials("client.a", secret=secret, modes=("secure",)), b"c" * 16)
    srv = ServerHandshake(w.mon, "mon.a", b"s" * 16, modes=("crc", "secure"))
    proof = client.receive(srv.receive(client.hello()))
    done = srv.receive(proof)
    assert done.head["mode"] == "secure"
    done.head["mode"] = "crc"  # a man in the middle downgrading it
    with pytest.raises(CephError) as e:
        client.receive(done)
    assert e.value.errno == errno.EACCES


def test_mode_negotiation():
    assert choose_mode(["secure", "crc"], ("crc", "secure")) == "secure"
    assert choose_mode(["crc", "secure"], ("secure",)) == "secure"
    assert choose_mode(None, ()) == "crc"
    with pytest.raises(CephError) as e:
        choose_mode(["crc"], ("secure",))
    assert e.value.errno == errno.EACCES


def test_reauthentication_keeps_global_id_and_refreshes_caps():
    w = World()
    secret = w.add("client.a")
    _, peer, _ = _handshake(w.mon, Credentials("client.a", secret=secret))
    w.users["client.a"] = (w.users["client.a"][0], {"mon": "allow *"})
    w.clock.t += TTL
    _, again, _ = _handshake(
        w.mon, Credentials("client.a", secret=secret), (b"d" * 16, b"e" * 16), reauth_of=peer
    )
    assert again.global_id == peer.global_id
    assert again.caps == {"mon": "allow *"}
    assert again.expires == w.clock.t + 3 * TTL


def test_reauthentication_as_another_entity_or_after_removal_is_refused():
    w = World()
    secret = w.add("client.a")
    other = w.add("client.b")
    _, peer, _ = _handshake(w.mon, Credentials("client.a", secret=secret))
    with pytest.raises(CephError):
        _handshake(w.mon, Credentials("client.b", secret=other), reauth_of=peer)
    del w.users["client.a"]
    with pytest.raises(CephError) as e:
        _handshake(w.mon, Credentials("client.a", secret=secret), reauth_of=peer)
    assert e.value.errno == errno.EACCES


def test_rekeyed_entity_cannot_renew_with_its_old_key():
    w = World()
    old = w.add("client.a")
    _, peer, _ = _handshake(w.mon, Credentials("client.a", secret=old))
    new = w.add("client.a")
    with pytest.raises(CephError):
        _handshake(w.mon, Credentials("client.a", secret=old), reauth_of=peer)
    _handshake(w.mon, Credentials("client.a", secret=new), reauth_of=peer)


# -- global_id reclaim --------------------------------------------------------------------
def _session(w: World, secret: bytes, **creds: Any):
    c, p, _ = _handshake(w.mon, Credentials("client.a", secret=secret, **creds))
    return c.extras, p


def test_secure_reclaim_with_the_auth_ticket():
    w = World(auth_allow_insecure_global_id_reclaim=False)
    secret = w.add("client.a")
    ex, _ = _session(w, secret)
    gid = ex["global_id"]
    ex2, _ = _session(w, secret, global_id=gid, old_ticket=bytes(ex["auth_ticket"]))
    assert ex2["global_id"] == gid
    assert w.mon.insecure_sessions() == []


@pytest.mark.parametrize("how", ["no ticket", "bad ticket", "another id's ticket"])
def test_insecure_reclaim_refused_when_not_allowed(how: str):
    w = World(auth_allow_insecure_global_id_reclaim=False)
    secret = w.add("client.a")
    ex, _ = _session(w, secret)
    ex_other, _ = _session(w, secret)
    gid = ex["global_id"]
    ticket = {
        "no ticket": None,
        "bad ticket": b"\0" * 8 + b"garbage" * 8,
        "another id's ticket": bytes(ex_other["auth_ticket"]),
    }[how]
    with pytest.raises(CephError) as e:
        _session(w, secret, global_id=gid, old_ticket=ticket)
    assert e.value.errno == errno.EACCES


def test_insecure_reclaim_allowed_is_reported_in_health():
    w = World(auth_allow_insecure_global_id_reclaim=True)
    secret = w.add("client.a")
    ex, _ = _session(w, secret)
    ex2, peer = _session(w, secret, global_id=ex["global_id"])
    assert ex2["global_id"] == ex["global_id"]
    peer.addr = "127.0.0.1:5000"
    checks = w.mon.health_checks(["a"])
    assert checks["AUTH_INSECURE_GLOBAL_ID_RECLAIM"]["summary"] == {
        "message": "client is using insecure global_id reclaim",
        "count": 1,
    }
    assert checks["AUTH_INSECURE_GLOBAL_ID_RECLAIM"]["detail"] == [
        {"message": "client.a at 127.0.0.1:5000 is using insecure global_id reclaim"}
    ]
    assert checks["AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED"]["summary"] == {
        "message": "mon is allowing insecure global_id reclaim",
        "count": 1,
    }
    assert checks["AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED"]["detail"] == [
        {"message": "mon.a has auth_allow_insecure_global_id_reclaim set to true"}
    ]


def test_health_is_quiet_when_reclaim_is_secure_only():
    assert global_id_health(["client.a at x"], False, True, True, ["a"]) == {}
    two = global_id_health(["c.a at x", "c.b at y"], True, True, False, ["a", "b"])
    assert two["AUTH_INSECURE_GLOBAL_ID_RECLAIM"]["summary"]["message"] == (
        "clients are using insecure global_id reclaim"
    )
    assert "AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED" not in two


def test_new_sessions_get_distinct_global_ids():
    w = World()
    secret = w.add("client.a")
    ids = {_session(w, secret)[0]["global_id"] for _ in range(5)}
    assert len(ids) == 5


def test_new_session_must_not_present_a_superfluous_message():
    msg = Message("auth_proof", {"proof": b"x"})
    srv = ServerHandshake(World().mon, "mon.a", b"s" * 16)
    assert srv.receive(msg).type == "auth_fail"  # a proof before any hello


# -- `ceph auth` verbs (AuthMonitor's errors and messages) ---------------------------------
def _mon_state():
    import random

    from pyceph.mon.state import MonState

    s = MonState.create("f" * 8 + "-0000-0000-0000-" + "0" * 12, "a", "127.0.0.1:3300", T0,
                        {}.get, admin_key="AQBzaW1wbGVrZXk=")  # fmt: skip
    s.rand_bytes = random.Random(7).randbytes
    s.commit_pending(T0)
    return s


def _run(s, inbuf: bytes = b"", **cmd: Any):
    r = s.handle_command(cmd, inbuf, "client.admin", None, T0 + 1)
    s.commit_pending(T0 + 1)
    return r


def test_auth_add_and_import_errors_change_nothing():
    s = _mon_state()
    r = _run(s, prefix="auth get-or-create", entity="client.a", caps=["mon", "allow r"])
    assert r.ret == 0
    key = s.auth["client.a"]["key"]
    other = "AQDQ9V5lAAAAABAAJm2Yc7iG7wNk2B6aV6mqBA=="
    cases = [
        (dict(prefix="auth add", entity="client.a", caps=["mon", "allow *"]), b"",
         -errno.EINVAL, "entity client.a exists but cap mon does not match"),
        (dict(prefix="auth add", entity="client.a"), b"",
         -errno.EINVAL, "entity client.a exists but caps do not match"),
        (dict(prefix="auth add", entity="client.a"),
         f"[client.a]\n\tkey = {other}\n\tcaps mon = \"allow r\"\n".encode(),
         -errno.EEXIST, "entity client.a exists but key does not match"),
        (dict(prefix="auth add", entity="client.b", caps=["mon", "allow r"]),
         f"[client.b]\n\tkey = {other}\n\tcaps mon = \"allow r\"\n".encode(),
         -errno.EINVAL, "caps cannot be specified both in keyring and in command"),
        (dict(prefix="auth import"), b"", -errno.EINVAL, "auth import: no data supplied"),
        (dict(prefix="auth import"), f"[client.c]\n\tkey = {other}\n".encode(),
         -errno.EINVAL, "auth import: no caps supplied"),
        (dict(prefix="auth caps", entity="client.nope", caps=["mon", "allow r"]), b"",
         -errno.ENOENT, "couldn't find entry client.nope"),
        (dict(prefix="auth get-or-create", entity="client.a", caps=["mon", "allow *"]), b"",
         -errno.EINVAL, "key for client.a exists but cap mon does not match"),
        (dict(prefix="auth print-key", entity="client.nope"), b"",
         -errno.ENOENT, "don't have client.nope"),
    ]  # fmt: skip
    for cmd, inbuf, ret, outs in cases:
        r = _run(s, inbuf, **cmd)
        assert (r.ret, r.outs) == (ret, outs), cmd
    assert s.auth["client.a"]["key"] == key and "client.b" not in s.auth
    assert "client.c" not in s.auth


def test_auth_import_rekeys_and_add_matching_is_a_noop():
    s = _mon_state()
    _run(s, prefix="auth get-or-create", entity="client.a", caps=["mon", "allow r"])
    new = "AQDQ9V5lAAAAABAAJm2Yc7iG7wNk2B6aV6mqBA=="
    text = f'[client.a]\n\tkey = {new}\n\tcaps mon = "allow r"\n'.encode()
    r = _run(s, text, prefix="auth import")
    assert (r.ret, r.outs) == (0, "imported keyring")
    assert s.auth["client.a"]["key"] == new
    r = _run(s, text, prefix="auth add", entity="client.a")
    assert r.ret == 0
    r = _run(s, prefix="auth get-or-create-key", entity="client.a")
    assert r.outbuf.decode().strip() == new


def test_auth_export_messages_as_the_reference():
    s = _mon_state()
    _run(s, prefix="auth get-or-create", entity="client.a", caps=["mon", "allow r"])
    key = s.auth["client.a"]["key"]
    r = _run(s, prefix="auth export", entity="client.a")
    assert (r.ret, r.outs) == (0, f"export auth(key={key})")
    assert r.outbuf.decode() == f'[client.a]\n\tkey = {key}\n\tcaps mon = "allow r"\n'
    r = _run(s, prefix="auth export", entity="client.nope")
    assert (r.ret, r.outs) == (-errno.ENOENT, "no key for auth(key=AAAAAAAAAAAAAAAA)")


def test_a_closed_insecure_session_leaves_health():
    w = World(auth_allow_insecure_global_id_reclaim=True)
    secret = w.add("client.a")
    ex, _ = _session(w, secret)
    _, peer = _session(w, secret, global_id=ex["global_id"])
    assert len(w.mon.insecure_sessions()) == 1
    w.mon.session_closed(peer)  # the peer is still referenced: only the close removes it
    assert w.mon.insecure_sessions() == []
    assert "AUTH_INSECURE_GLOBAL_ID_RECLAIM" not in w.mon.health_checks(["a"])


def test_insecure_detail_stops_at_the_max_with_an_ellipsis():
    from pyceph.mon.auth_server import MAX_HEALTH_DETAIL

    many = [f"client.{i} at x" for i in range(MAX_HEALTH_DETAIL)]
    c = global_id_health(many, True, True, True, ["a"])["AUTH_INSECURE_GLOBAL_ID_RECLAIM"]
    assert len(c["detail"]) == MAX_HEALTH_DETAIL + 1 and c["detail"][-1] == {"message": "..."}
    assert c["summary"]["count"] == MAX_HEALTH_DETAIL + 1  # upstream counts the detail lines
