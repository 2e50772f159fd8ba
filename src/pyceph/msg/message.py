"""Messages: a type name, a msgpack head and an optional raw data payload.

Type names map to the u16 codes carried in frames through one fixed table, so adding a
message type means appending to `MESSAGE_TYPES` (never reordering it).

Every type has one typed head definition in `HEAD_SPECS` (upstream: each message's
`decode_payload`, which throws on a head that is not of its shape): the head must be a map,
the fields named there must be present when required and of the listed types when
present; fields not named are kept (a newer peer may send more, as upstream's versioned
encodings allow). `decode_head` unpacks with msgpack's container and string limits set
from the frame's own length and rejects a head that does not match its definition with
`HeadError` (EPROTO): the connection drops the peer, never a KeyError in a handler.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.common.errors import CephError
from pyceph.common.packing import unpack_bounded
from pyceph.msg.osd_ops import validate_ops

#: Handshake frames come first and are handled by the connection itself.
HANDSHAKE_TYPES = ("auth_hello", "auth_challenge", "auth_proof", "auth_done", "auth_fail")

#: Every message type pyceph speaks, in wire-code order. Append only.
MESSAGE_TYPES: tuple[str, ...] = HANDSHAKE_TYPES + (
    "reply",  # generic reply to a call(): head carries rtid and r
    "ping",
    "mon_subscribe",
    "mon_map",  # head: {epoch, map}
    "osd_map",  # head: {epoch}, data: encoded OSDMap
    "mgr_map",
    "config",  # the config database slice for an entity
    "mon_command",
    "mgr_command",
    "osd_command",
    "osd_boot",
    "osd_failure",
    "osd_alive",
    "osd_mark_me_down",
    "pg_temp",
    "get_rotating",
    "mgr_beacon",
    "mgr_digest",
    "mgr_report",  # OSD -> mgr statistics
    "log",
    "osd_op",
    "osd_op_reply",
    "rep_op",
    "rep_op_reply",
    "osd_ping",
    "pg_query",
    "pg_notify",
    "pg_log",
    "pg_push",
    "pg_activate",
    "watch_notify",
    "backoff",
    "get_version",  # {what: "osdmap"} -> reply {r, epoch}
    "pg_pull",  # primary -> peer: an object's whole state (recovery)
    "pg_list",  # primary -> peer: a page of a PG's objects with versions (backfill)
    "pg_remove",  # primary -> stray: delete your copy of the PG
    "pool_op",  # client -> mon: pool/self-managed snap ops -> reply {r, epoch, snapid?}
    "mgr_open",  # client -> mgr: register a service daemon {service, daemon, metadata, status}
    "pg_ready_to_merge",  # OSD -> mon: a shrink's source and target are (not) ready
    "mgr_configure",  # mgr -> OSD: the perf metric queries to count (MMgrConfigure)
    "osd_beacon",  # OSD -> mon: map epoch, primary PGs, their min last_epoch_clean
    "backfill_reserve",  # primary -> backfill target: {op: request|release} (MBackfillReserve)
)

TYPE_CODES: dict[str, int] = {name: i + 1 for i, name in enumerate(MESSAGE_TYPES)}
TYPE_NAMES: dict[int, str] = {code: name for name, code in TYPE_CODES.items()}


@dataclass(slots=True)
class Message:
    """One message as the dispatcher sees it."""

    type: str
    head: dict[str, Any] = field(default_factory=dict)
    data: bytes | memoryview = b""

    def __repr__(self) -> str:
        return f"Message({self.type}, {self.head!r}, data={len(self.data)}B)"


#: Strings may carry raw bytes as surrogate escapes (omap keys are bytes upstream).
_packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")


def pack_head(head: Any) -> bytes:
    return _packer.pack(head)


def unpack_head(raw: bytes | memoryview) -> Any:
    """Unpack a head; containers and strings are bounded by the head's own length and by
    `MAX_HEAD_ITEMS` (msgpack raises ValueError beyond them, before building them)."""
    return unpack_bounded(raw, max_items=MAX_HEAD_ITEMS, surrogates=True)


#: Most items one container of a head may hold (a count above it is refused before the
#: container is built). The largest legitimate containers are omap key lists and PG log
#: pages, bounded far below this by osd_max_omap_entries_per_request and osd_max_pg_log.
MAX_HEAD_ITEMS = 1 << 20


class HeadError(CephError):
    """A message head that does not match its type's definition (EPROTO)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EPROTO, message)


#: Field types, as msgpack decodes them (str for text, bytes for bin).
INT: tuple[type, ...] = (int,)
NUM: tuple[type, ...] = (int, float)
STR: tuple[type, ...] = (str,)
BYTES: tuple[type, ...] = (bytes,)
TEXT: tuple[type, ...] = (str, bytes)
BOOL: tuple[type, ...] = (bool, int)
MAP: tuple[type, ...] = (dict,)
LIST: tuple[type, ...] = (list,)
NONE: tuple[type, ...] = (type(None),)
ANY: tuple[type, ...] = (object,)


@dataclass(frozen=True)
class HeadSpec:
    """One message type's head: field -> allowed types, the required fields, and an
    optional deeper check of the whole head (raises HeadError)."""

    fields: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    check: Callable[[dict[str, Any]], None] | None = None


#: Fields any message may carry: the call()/reply() correlation ids.
_COMMON: dict[str, tuple[type, ...]] = {"tid": INT, "rtid": INT}


def _spec(
    required: Mapping[str, tuple[type, ...]] | None = None,
    optional: Mapping[str, tuple[type, ...]] | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> HeadSpec:
    req = dict(required or {})
    return HeadSpec({**_COMMON, **req, **(optional or {})}, frozenset(req), check)


def _check_osd_op(head: dict[str, Any]) -> None:
    try:
        validate_ops(head.get("ops") or [])
    except ValueError as e:
        raise HeadError(f"osd_op: {e}") from None


def _check_pgid(head: dict[str, Any]) -> None:
    pgid = head.get("pgid")
    if pgid is not None:
        pool, dot, ps = str(pgid).partition(".")
        try:
            int(pool), int(ps, 16)
        except ValueError:
            raise HeadError(f"bad pgid {pgid!r}") from None
        if not dot:
            raise HeadError(f"bad pgid {pgid!r}")


#: Largest errno a peer may report (Linux's MAX_ERRNO).
MAX_ERRNO = 4095


def _check_errno(head: dict[str, Any]) -> None:
    if not 0 < head["errno"] <= MAX_ERRNO:
        raise HeadError(f"auth_fail: errno {head['errno']} out of range")


#: The head definition of every message type (docs/protocol.md gives their meaning).
def _check_pgid_list(head: dict[str, Any]) -> None:
    for pgid in head["pgs"]:
        if not isinstance(pgid, str):
            raise HeadError(f"bad pgid {pgid!r}")
        _check_pgid({"pgid": pgid})


_PG_PEER = {"pgid": STR, "epoch": INT, "sis": INT, "les": INT}
HEAD_SPECS: dict[str, HeadSpec] = {
    "auth_hello": _spec(
        {"entity": STR, "nonce": BYTES},
        {"ticket": BYTES, "global_id": INT, "old_ticket": BYTES + NONE, "modes": LIST},
    ),
    "auth_challenge": _spec({"nonce": BYTES}),
    "auth_proof": _spec({"proof": BYTES}),
    "auth_done": _spec(
        {"proof": BYTES}, {"entity": STR, "global_id": INT, "extras": MAP, "mode": STR}
    ),
    "auth_fail": _spec({"errno": INT}, {"msg": TEXT}, _check_errno),
    "reply": _spec({"rtid": INT}, {"r": INT, "outs": TEXT, "epoch": INT}),
    "ping": _spec(None, {"status": BOOL}),
    "mon_subscribe": _spec(None, {"what": MAP, "unsub": LIST + NONE}),
    "mon_map": _spec(None, {"epoch": INT, "map": MAP}),
    "osd_map": _spec(None, {"epoch": INT}),
    "mgr_map": _spec(None, {"epoch": INT, "map": MAP}),
    "config": _spec(None, {"config": MAP}),
    "mon_command": _spec(None, {"cmd": TEXT + LIST, "tell": BOOL}),
    "mgr_command": _spec(None, {"cmd": TEXT + LIST, "tell": BOOL}),
    "osd_command": _spec(None, {"cmd": TEXT + LIST}),
    "osd_boot": _spec(None, {"osd_id": INT}),
    "osd_failure": _spec({"target": INT}, {"failed_for": NUM}),
    "osd_alive": _spec({"want_up_thru": INT}),
    "osd_mark_me_down": _spec(),
    "pg_temp": _spec(None, {"pgs": MAP}),
    "get_rotating": _spec(None, {"tickets": BOOL, "service": STR}),
    "mgr_beacon": _spec(),
    "mgr_digest": _spec(None, {"digest": MAP, "service_map": MAP + NONE}),
    "mgr_report": _spec(
        None, {"daemon": STR, "perf": MAP, "osd_id": INT, "report": MAP, "perf_metrics": LIST}
    ),
    "log": _spec(None, {"entries": LIST}),
    "osd_op": _spec(
        {"pool": INT, "ps": INT, "oid": TEXT + NONE},  # a PG op (pgls) has no object
        {
            "reqid": LIST + NONE,
            "epoch": INT + NONE,
            "nspace": TEXT + NONE,
            "key": TEXT + NONE,
            "snapid": INT + NONE,
            "snapc": LIST + MAP + NONE,
            "flags": INT + NONE,
            "ops": LIST + NONE,
            "addr": STR + NONE,
        },
        _check_osd_op,
    ),
    "osd_op_reply": _spec(),
    "rep_op": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "rep_op_reply": _spec(),
    "osd_ping": _spec(None, {"epoch": INT, "stamp": ANY}),
    "pg_query": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "pg_notify": _spec(None, _PG_PEER, _check_pgid),
    "pg_log": _spec(None, _PG_PEER, _check_pgid),
    "pg_push": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "pg_activate": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "watch_notify": _spec(),
    "backoff": _spec(),
    "get_version": _spec(None, {"what": STR}),
    "pg_pull": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "pg_list": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "pg_remove": _spec({"pgid": STR}, _PG_PEER, _check_pgid),
    "pool_op": _spec(None, {"op": STR, "pool": INT + STR}),
    "mgr_open": _spec(),
    "pg_ready_to_merge": _spec(
        {"pgid": STR, "ready": BOOL},
        {
            "source_version": LIST,
            "target_version": LIST,
            "last_epoch_started": INT,
            "last_epoch_clean": INT,
        },
        _check_pgid,
    ),
    "mgr_configure": _spec({"osd_perf_queries": LIST}),
    "osd_beacon": _spec(
        {"epoch": INT, "pgs": LIST, "min_last_epoch_clean": INT}, None, _check_pgid_list
    ),
    "backfill_reserve": _spec({"pgid": STR, "op": STR}, _PG_PEER, _check_pgid),
}


def check_head(mtype: str, head: Any) -> dict[str, Any]:
    """`head` if it matches `mtype`'s definition; HeadError (EPROTO) otherwise."""
    if not isinstance(head, dict):
        raise HeadError(f"{mtype}: head is not a map")
    spec = HEAD_SPECS.get(mtype)
    if spec is None:
        raise HeadError(f"unknown message type {mtype!r}")
    for name in spec.required:
        if name not in head:
            raise HeadError(f"{mtype}: missing {name}")
    for name, types in spec.fields.items():
        if name in head and not isinstance(head[name], types):
            raise HeadError(f"{mtype}: {name} is a {type(head[name]).__name__}")
    if spec.check is not None:
        spec.check(head)
    return head


def decode_head(mtype: str, raw: bytes | memoryview) -> dict[str, Any]:
    """Unpack and check a received head: HeadError (EPROTO) for anything malformed."""
    try:
        head = unpack_head(raw)
    except Exception as e:  # msgpack raises ValueError, ExtraData, StackError, ...
        raise HeadError(f"{mtype}: undecodable head ({type(e).__name__})") from None
    return check_head(mtype, head)
