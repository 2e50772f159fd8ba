"""Messages: a type name, a msgpack head and an optional raw data payload.

Type names map to the u16 codes carried in frames through one fixed table, so adding a
message type means appending to `MESSAGE_TYPES` (never reordering it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

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


def unpack_head(raw: bytes) -> Any:
    return msgpack.unpackb(raw, raw=False, strict_map_key=False, unicode_errors="surrogateescape")
