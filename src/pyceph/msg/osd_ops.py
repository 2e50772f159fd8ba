"""The object op names of `osd_op` (docs/protocol.md), by what they do to an object.

The client and the OSD classify op vectors with these same tables: the OSD to order,
log and replicate writes; the objecter to hold writes while a pool is full.

`validate_ops` is the op vector's typed definition, checked when an `osd_op` head is
decoded (upstream MOSDOp::decode_payload and OSDOp's decode: a malformed vector fails the
message, never an op handler): each op is `[name, args]`, `args` a map whose known fields
have their types (lengths and offsets u64, names text, omap keys text and values bytes),
and the vector and its containers are bounded. What an op *means* (an unknown name, an
offset past the object's end) stays the OSD's to answer with upstream's errno.
"""

from __future__ import annotations

from typing import Any

#: CEPH_NOSNAP: the snapid of an object's head (upstream include/rados.h).
CEPH_NOSNAP = 2**64 - 2

WRITE_OPS = frozenset(
    {
        "create",
        "write",
        "write_full",
        "writesame",
        "append",
        "truncate",
        "zero",
        "delete",
        "setxattr",
        "rmxattr",
        "omap_set",
        "omap_set_header",
        "omap_rm_keys",
        "omap_clear",
        "omap_rm_range",
        "rollback",
        "tmapup",
        "tmapput",
    }
)
READ_OPS = frozenset(
    {
        "read",
        "sparse_read",
        "stat",
        "getxattr",
        "getxattrs",
        "cmpext",
        "assert_version",
        "omap_get_vals",
        "omap_get_keys",
        "omap_get_vals_by_keys",
        "omap_get_header",
        "omap_cmp",
        "list_watchers",
        "list_snaps",
        "tmapget",
    }
)
#: Ops on the object's watchers: answered by the primary, never logged (no data change).
WATCH_OPS = frozenset({"watch", "notify", "notify_ack"})
PG_OPS = frozenset({"pgls"})


#: Most ops in one vector (upstream MOSDOp carries a vector of OSDOp with a u32 count; the
#: OSD's op tracker and reply sizes assume a small number, librados builds a few dozen).
MAX_OPS_PER_REQUEST = 1024
#: Largest u64 a length or offset field may hold.
U64_MAX = (1 << 64) - 1

_INT = (int,)
_NUM = (int, float)
_TEXT = (str, bytes)
_BYTES = (bytes,)
_NONE = (type(None),)
_U64_FIELDS = frozenset({"offset", "length", "size", "dlen", "ver", "snapid", "max_return"})
#: Known argument fields and their types (absent fields take the handler's default).
ARG_TYPES: dict[str, tuple[type, ...]] = {
    **{name: _INT for name in _U64_FIELDS},
    "flags": _INT + _NONE,
    "mtime": _NUM + _NONE,
    "exclusive": _INT + _NONE,
    "name": _TEXT,
    "cls": _TEXT,
    "method": _TEXT,
    "key": _TEXT,
    "key_begin": _TEXT,
    "key_end": _TEXT,
    "start_after": _TEXT + _NONE,
    "filter_prefix": _TEXT + _NONE,
    "val": _BYTES + _NONE,
    "keys": (list,) + _NONE,
    "kv": (dict,) + _NONE,
    "op": _INT + (str,),
    "cookie": _INT + _NONE,
    "gid": _INT + _NONE,
    "notify_id": _INT + _NONE,
    "timeout": _NUM + _NONE,
    "timeout_ms": _NUM + _NONE,
    "max": _INT + _NONE,
    "nspace": (str,) + _NONE,
    "cursor": (list,) + _NONE,
}


def validate_ops(ops: Any) -> None:
    """Check an `osd_op` vector's shape; ValueError naming the first malformed part."""
    if not isinstance(ops, list):
        raise ValueError("ops is not a list")
    if len(ops) > MAX_OPS_PER_REQUEST:
        raise ValueError(f"{len(ops)} ops in one request")
    for i, op in enumerate(ops):
        if not isinstance(op, list) or not op or not isinstance(op[0], str):
            raise ValueError(f"op {i} is not [name, args]")
        args = op[1] if len(op) > 1 else None
        if args is None:
            continue
        if not isinstance(args, dict):
            raise ValueError(f"op {i} ({op[0]}): args is not a map")
        _check_args(i, op[0], args)


def _check_args(i: int, name: str, args: dict[Any, Any]) -> None:
    for field, types in ARG_TYPES.items():
        if field not in args:
            continue
        v = args[field]
        if not isinstance(v, types):
            raise ValueError(f"op {i} ({name}): {field} is a {type(v).__name__}")
        if field in _U64_FIELDS and not 0 <= v <= U64_MAX:
            raise ValueError(f"op {i} ({name}): {field} {v} is not a u64")
    keys = args.get("keys")
    if keys and not all(isinstance(k, str | bytes) for k in keys):
        raise ValueError(f"op {i} ({name}): keys are not text")
    kv = args.get("kv")
    if kv and not all(isinstance(k, str | bytes) and isinstance(v, bytes) for k, v in kv.items()):
        raise ValueError(f"op {i} ({name}): kv is not text -> bytes")
