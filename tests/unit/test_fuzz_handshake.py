"""Fuzzing the sans-I/O handshake state machines (issue 10 item 4).

Both sides are fed sequences of handshake messages whose heads pass their definitions
(what a Connection hands them after `decode_head`), from a peer that does not know the
key. The accepting side always answers (a challenge, `auth_done` or `auth_fail`) and never
raises; the connecting side answers or raises CephError; and neither ever ends with an
authenticated peer without a valid proof. A real exchange still completes, and a proof
replayed against a new challenge is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, reject
from hypothesis import strategies as st
from tests.unit.fuzzing import fuzz

from pyceph.auth import cephx
from pyceph.common.errors import CephError
from pyceph.msg.handshake import ClientHandshake, Credentials, PeerInfo, ServerHandshake
from pyceph.msg.message import HANDSHAKE_TYPES, HEAD_SPECS, HeadError, Message, check_head

SECRET = b"s" * 16  #: client.admin's key
SERVICE = b"v" * 16  #: the service's ticket key
NONCE = b"N" * 16


class KeyServer:
    """An AuthServer over one entity's key and one service key (as a daemon's)."""

    def secret_for(self, entity: str) -> bytes | None:
        return SECRET if entity == "client.admin" else None

    def open_ticket(self, ticket: bytes) -> dict[str, Any]:
        return cephx.open_ticket(SERVICE, ticket)

    def extras_for(self, peer: PeerInfo, session_key: bytes) -> dict[str, Any]:
        return {}


_BY_TYPE = {
    int: st.integers(-(2**63), 2**64 - 1),
    float: st.floats(),
    str: st.sampled_from(["client.admin", "osd.0", "mon.a", "crc", "secure", ""])
    | st.text(max_size=12),
    bytes: st.binary(max_size=48),
    bool: st.booleans(),
    dict: st.dictionaries(st.text(max_size=6), st.integers() | st.binary(max_size=8), max_size=3),
    list: st.lists(st.sampled_from(["crc", "secure"]) | st.integers(), max_size=3),
    type(None): st.none(),
    object: st.integers() | st.binary(max_size=8),
}


@st.composite
def conforming(draw: st.DrawFn, mtype: str) -> Message:
    """A message of `mtype` whose head passes its definition."""
    spec = HEAD_SPECS[mtype]
    head: dict[str, Any] = {}
    for name, types in sorted(spec.fields.items()):
        if name in spec.required or draw(st.booleans()):
            head[name] = draw(st.one_of(*[_BY_TYPE[t] for t in types]))
    try:
        return Message(mtype, check_head(mtype, head))
    except HeadError:
        reject()  # refused by the connection before the handshake sees it


handshake_msgs = st.sampled_from(HANDSHAKE_TYPES).flatmap(conforming)
sequences = st.lists(handshake_msgs, min_size=1, max_size=6)


def _server() -> ServerHandshake:
    return ServerHandshake(KeyServer(), "osd.0", NONCE)


@fuzz(400)
@given(sequences)
@example(
    [
        Message("auth_hello", {"entity": "client.admin", "nonce": b""}),
        Message("auth_proof", {"proof": b""}),
    ]
)
@example(
    [
        Message("auth_hello", {"entity": "client.admin", "nonce": b"x", "ticket": b"\0" * 40}),
        Message("auth_proof", {"proof": b"p"}),
    ]
)
def test_the_accepting_side_never_authenticates_a_forger(msgs: list[Message]) -> None:
    hs = _server()
    for m in msgs:
        reply = hs.receive(m)
        assert isinstance(reply, Message)
        assert reply.type in ("auth_challenge", "auth_done", "auth_fail")
        check_head(reply.type, reply.head)
        assert reply.type != "auth_done"
    assert hs.result is None


@fuzz(300)
@given(st.binary(max_size=48), st.binary(max_size=48))
def test_a_known_entity_with_a_forged_proof_is_refused(client_nonce: bytes, proof: bytes) -> None:
    hs = _server()
    assert (
        hs.receive(Message("auth_hello", {"entity": "client.admin", "nonce": client_nonce})).type
        == "auth_challenge"
    )
    reply = hs.receive(Message("auth_proof", {"proof": proof}))
    assert reply.type == "auth_fail" and hs.result is None


@fuzz(400)
@given(sequences)
@example([Message("auth_challenge", {"nonce": b""}), Message("auth_done", {"proof": b""})])
def test_the_connecting_side_never_accepts_a_forged_server(msgs: list[Message]) -> None:
    hs = ClientHandshake(Credentials("client.admin", secret=SECRET), NONCE)
    for m in msgs:
        try:
            reply = hs.receive(m)
        except CephError as e:
            assert e.errno > 0
            break
        assert reply is None or check_head(reply.type, reply.head)
    assert hs.result is None


def test_an_auth_fail_without_a_valid_errno_never_reaches_the_handshake() -> None:
    # found by fuzzing: ClientHandshake built CephError(0), an AssertionError
    for bad in (0, -13, 1 << 40):
        with pytest.raises(HeadError):
            check_head("auth_fail", {"errno": bad})


def _ticket(entity: str, session_key: bytes) -> bytes:
    info = {"entity": entity, "session_key": session_key, "global_id": 4123, "caps": {}}
    return cephx.seal_ticket(1, SERVICE, info, b"g" * 12)


def _exchange(client: ClientHandshake, server: ServerHandshake) -> None:
    msg: Message | None = client.hello()
    while msg is not None:
        reply = server.receive(msg)
        msg = client.receive(reply)


def test_real_exchanges_complete_with_a_key_and_with_a_ticket() -> None:
    for creds in (
        Credentials("client.admin", secret=SECRET),
        Credentials(
            "client.admin", ticket=_ticket("client.admin", b"k" * 16), session_key=b"k" * 16
        ),
    ):
        client, server = ClientHandshake(creds, b"c" * 16), _server()
        _exchange(client, server)
        assert server.result is not None and server.result.entity == "client.admin"
        assert client.result is not None and client.result.entity == "osd.0"


@fuzz(100)
@given(st.binary(min_size=16, max_size=16))
def test_a_replayed_proof_fails_a_new_challenge(new_nonce: bytes) -> None:
    creds = Credentials("client.admin", secret=SECRET)
    client, server = ClientHandshake(creds, b"c" * 16), _server()
    hello = client.hello()
    proof = client.receive(server.receive(hello))
    assert proof is not None
    replay = ServerHandshake(KeyServer(), "osd.0", new_nonce)
    replay.receive(hello)
    reply = replay.receive(proof)
    assert (reply.type == "auth_done") == (new_nonce == NONCE)


@fuzz(200)
@given(st.binary(max_size=80))
def test_a_ticket_for_another_entity_or_forged_is_refused(ticket: bytes) -> None:
    for t in (ticket, _ticket("client.other", b"k" * 16)):
        hs = _server()
        hs.receive(
            Message("auth_hello", {"entity": "client.admin", "nonce": b"c" * 16, "ticket": t})
        )
        proof = cephx.client_proof(b"k" * 16, b"c" * 16, NONCE)
        assert hs.receive(Message("auth_proof", {"proof": proof})).type == "auth_fail"
        assert hs.result is None
