"""Fuzzing message heads and op argument decoders (issue 10 item 4).

A received head is either accepted as a map of its type's shape or refused with
HeadError (EPROTO, the connection drops the peer); an `osd_op` vector that passes
`validate_ops` runs through the OSD's op executor without any exception but the
executor's own errno results; and a Connection fed a malformed head closes with EPROTO
instead of raising."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import msgpack
from hypothesis import example, given
from hypothesis import strategies as st
from tests.unit.fuzzing import fuzz

from pyceph.common.errors import CephError
from pyceph.msg.connection import Connection
from pyceph.msg.frame import encode_frame
from pyceph.msg.handshake import ClientHandshake, Credentials
from pyceph.msg.message import (
    HEAD_SPECS,
    MESSAGE_TYPES,
    TYPE_CODES,
    HeadError,
    check_head,
    decode_head,
    pack_head,
)
from pyceph.msg.osd_ops import ARG_TYPES, MAX_OPS_PER_REQUEST, validate_ops
from pyceph.osd.ops import _HANDLERS as OP_HANDLERS
from pyceph.osd.ops import Limits, execute
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

CID = "1.0_head"
KEY = ObjectKey("obj", pool=1)

#: msgpack-shaped values: what a peer can put in a head.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.binary(max_size=20)
)
values = st.recursive(
    scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)
#: Field names a head may use: those of the definitions, plus arbitrary ones.
field_names = st.sampled_from(sorted({f for s in HEAD_SPECS.values() for f in s.fields})) | st.text(
    max_size=8
)
heads = st.dictionaries(field_names, values, max_size=8)
mtypes = st.sampled_from(MESSAGE_TYPES)

#: Heads the real senders build (pinned: they must always decode unchanged).
REAL_HEADS: list[tuple[str, dict[str, Any]]] = [
    ("auth_hello", {"entity": "client.admin", "nonce": b"n" * 16, "modes": ["crc"]}),
    ("auth_challenge", {"nonce": b"s" * 16}),
    ("auth_proof", {"proof": b"p" * 32}),
    ("auth_done", {"proof": b"q" * 32, "entity": "mon.a", "global_id": 4123, "extras": {}}),
    ("auth_fail", {"errno": 13, "msg": "bad proof"}),
    ("reply", {"rtid": 7, "r": 0, "outs": ""}),
    ("mon_command", {"cmd": '{"prefix": "status"}', "tid": 3}),
    ("mon_subscribe", {"what": {"osdmap": 0}, "unsub": None}),
    ("osd_failure", {"target": 1, "failed_for": 3.5}),
    (
        "osd_op",
        {
            "reqid": ["client.4123", 99, 1],
            "epoch": 12,
            "pool": 1,
            "ps": 3,
            "oid": "obj",
            "nspace": "",
            "key": None,
            "snapid": None,
            "snapc": None,
            "flags": 0,
            "ops": [["write", {"offset": 0, "dlen": 3}], ["omap_set", {"kv": {"k": b"v"}}]],
            "addr": "127.0.0.1:0/99",
            "tid": 5,
        },
    ),
    ("pg_query", {"pgid": "1.a", "epoch": 3, "tid": 1}),
    ("pool_op", {"pool": 1, "op": "create_snap", "name": "s", "snapid": 0}),
]


def test_every_message_type_has_one_head_definition() -> None:
    assert set(HEAD_SPECS) == set(MESSAGE_TYPES)


def test_real_heads_decode_unchanged() -> None:
    for mtype, head in REAL_HEADS:
        assert decode_head(mtype, pack_head(head)) == head


@fuzz(400)
@given(mtypes, st.binary(max_size=512))
@example("osd_op", b"\xdd\xff\xff\xff\xff")  # an array claiming 4G items in 5 bytes
@example("auth_hello", b"\xc7\x01\x05x")  # an ext type
@example("reply", b"\x91" * 5000)  # deep nesting
def test_random_bytes_are_a_head_or_eproto(mtype: str, raw: bytes) -> None:
    try:
        head = decode_head(mtype, raw)
    except HeadError as e:
        assert e.errno == errno.EPROTO
        return
    assert isinstance(head, dict)


@fuzz(120)
@given(mtypes, heads)
@example("auth_hello", {"entity": "client.admin", "nonce": 10**9})  # bytes(int) allocates
@example("osd_failure", {"target": "1"})
@example("osd_op", {"pool": 1, "ps": 0, "oid": "o", "ops": [["omap_cmp", {"val": 2**40}]]})
@example("osd_op", {"pool": 1, "ps": 0, "oid": "o", "ops": [["omap_set", {"kv": {"k": 7}}]]})
@example("pg_query", {"pgid": "x"})
def test_heads_of_the_wrong_shape_are_refused(mtype: str, head: dict[str, Any]) -> None:
    try:
        got = decode_head(mtype, pack_head(head))
    except HeadError as e:
        assert e.errno == errno.EPROTO
        return
    spec = HEAD_SPECS[mtype]
    assert spec.required <= set(got)
    for name, types in spec.fields.items():
        assert name not in got or isinstance(got[name], types)


@fuzz(200)
@given(st.sampled_from(REAL_HEADS), st.data())
def test_one_field_of_a_real_head_replaced(real, data) -> None:
    mtype, head = real
    head = dict(head)
    name = data.draw(st.sampled_from(sorted(head)))
    head[name] = data.draw(values)
    try:
        check_head(mtype, msgpack.unpackb(pack_head(head), raw=False, strict_map_key=False))
    except HeadError:
        pass


# -- op vectors ---------------------------------------------------------------------------
op_names = st.sampled_from(sorted(OP_HANDLERS)) | st.text(max_size=8)
#: Integers mostly small (so executing them is cheap) and sometimes at the u64 edges.
op_ints = st.integers(0, 4096) | st.sampled_from([2**31 - 1, 2**63, 2**64 - 1, -1])
arg_values = st.one_of(op_ints, values)
op_args = st.dictionaries(
    st.sampled_from(sorted(ARG_TYPES)) | st.text(max_size=6), arg_values, max_size=5
)
op_vectors = st.lists(
    st.lists(st.one_of(op_names, values), min_size=0, max_size=3), max_size=4
) | st.lists(st.tuples(op_names, op_args).map(list), max_size=6)


def _store() -> MemStore:
    return MemStore.with_collections(CID)


@fuzz(300)
@given(op_vectors, st.binary(max_size=64))
@example([["writesame", {"offset": 0, "length": 2**63, "dlen": 1}]], b"x")
@example([["truncate", {"size": 2**64 - 1}]], b"")
@example([["omap_get_vals", {"max_return": 2**64 - 1}]], b"")
@example([["read", {"offset": 2**64 - 1, "length": 2**64 - 1}]], b"")
def test_accepted_op_vectors_run_without_exceptions(ops: Any, data: bytes) -> None:
    # what a peer sends goes through msgpack first, as on the wire
    ops = msgpack.unpackb(msgpack.packb(ops, use_bin_type=True), raw=False, strict_map_key=False)
    try:
        validate_ops(ops)
    except ValueError:
        return
    store = _store()
    store.apply_transaction(Transaction().touch(CID, KEY))
    res = execute(store, CID, KEY, ops, data, Limits(), (1, 1), 1, 1.0)
    assert isinstance(res.r, int)
    assert res.r < 0 or all(isinstance(o, dict) for o in res.outs)


def test_op_vector_bounds() -> None:
    validate_ops([["stat", {}]] * MAX_OPS_PER_REQUEST)
    for bad in (
        [["stat", {}]] * (MAX_OPS_PER_REQUEST + 1),
        {"stat": {}},
        [[]],
        [[1, {}]],
        [["read", []]],
        [["read", {"offset": -1}]],
        [["read", {"length": 2**64}]],
        [["omap_get_vals_by_keys", {"keys": [1]}]],
    ):
        try:
            validate_ops(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")


# -- a connection fed malformed heads --------------------------------------------------
class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False
        self.sent: list[bytes] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name in ("peername", "sockname") else default

    def writelines(self, bufs: Any) -> None:
        self.sent.extend(bytes(b) for b in bufs)

    def write(self, data: Any) -> None:
        self.sent.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


@fuzz(100)
@given(st.sampled_from(["auth_challenge", "auth_done", "auth_fail", "reply", "osd_op"]), heads)
@example("auth_challenge", {"nonce": 2**40})
def test_a_connection_drops_a_malformed_head_with_eproto(mtype: str, head: dict[str, Any]) -> None:
    async def run() -> tuple[bool, Any]:
        creds = Credentials("client.admin", secret=b"k" * 16)
        conn = Connection(ClientHandshake(creds, b"n" * 16), lambda c, m: None)
        conn.connection_made(_Transport())
        raw = b"".join(bytes(b) for b in encode_frame(TYPE_CODES[mtype], 1, pack_head(head)))
        buf = conn.get_buffer(len(raw))
        buf[: len(raw)] = raw
        conn.buffer_updated(len(raw))
        exc = conn.ready.exception() if conn.ready.done() else None
        return conn.closed, exc

    closed, exc = asyncio.run(run())
    try:
        decode_head(mtype, pack_head(head))
    except HeadError:
        assert closed and isinstance(exc, CephError) and exc.errno == errno.EPROTO
