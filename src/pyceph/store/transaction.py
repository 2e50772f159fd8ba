"""`Transaction`: an ordered list of store mutations applied atomically, with
upstream's operation set (src/os/Transaction.h) plus a per-collection meta key
space so the OSD commits its PG log/info with the object writes they describe.

Transactions encode to msgpack (`encode`/`decode`) so a primary can ship them to
replicas unchanged; `encode_split`/`decode_split` keep the written data out of the
msgpack, so a client's 4 MiB write goes to the replicas as the buffer it arrived in and
is stored from the buffer it is received in (no copy on either side).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Mapping
from enum import IntEnum
from typing import Any

import msgpack

from .types import ObjectKey, OidLike, as_key


class Op(IntEnum):
    """Operation codes (upstream's numbers where an upstream op exists)."""

    NOP = 0
    TOUCH = 9
    WRITE = 10
    ZERO = 11
    TRUNCATE = 12
    REMOVE = 13
    SETATTRS = 15  # setattr is a one-entry setattrs
    RMATTR = 16
    CLONE = 17
    CLONERANGE2 = 30
    MKCOLL = 20
    RMCOLL = 21
    RMATTRS = 28
    OMAP_CLEAR = 31
    OMAP_SETKEYS = 32
    OMAP_RMKEYS = 33
    OMAP_SETHEADER = 34
    SPLIT_COLLECTION2 = 36
    OMAP_RMKEYRANGE = 37
    COLL_MOVE_RENAME = 38
    SETALLOCHINT = 39
    TRY_RENAME = 41
    COLL_SET_BITS = 42
    MERGE_COLLECTION = 43
    # pyceph extensions: per-collection key/values (PG log, PG info, ...)
    META_SET = 100
    META_RM = 101
    META_RMRANGE = 102


# Positions of ObjectKeys in each op tuple (for encode/decode).
_KEY_ARGS: dict[int, tuple[int, ...]] = {
    Op.TOUCH: (2,),
    Op.WRITE: (2,),
    Op.ZERO: (2,),
    Op.TRUNCATE: (2,),
    Op.REMOVE: (2,),
    Op.SETATTRS: (2,),
    Op.RMATTR: (2,),
    Op.RMATTRS: (2,),
    Op.CLONE: (2, 3),
    Op.CLONERANGE2: (2, 3),
    Op.OMAP_CLEAR: (2,),
    Op.OMAP_SETKEYS: (2,),
    Op.OMAP_RMKEYS: (2,),
    Op.OMAP_SETHEADER: (2,),
    Op.OMAP_RMKEYRANGE: (2,),
    Op.COLL_MOVE_RENAME: (2, 4),
    Op.TRY_RENAME: (2, 3),
    Op.SETALLOCHINT: (2,),
}

#: Op by its number (decoding a replicated transaction looks one up per op).
_OPS: dict[int, Op] = {int(o): o for o in Op}

#: Keys recently decoded, reused while they stay (each replica of an op decodes the same
#: keys; an `ObjectKey` is immutable, so sharing one is safe). Oldest dropped past this.
KEY_CACHE_SIZE = 1024
_KEYS: dict[tuple, ObjectKey] = {}


def _key(wire: Any) -> ObjectKey:
    if not isinstance(wire, list | tuple):
        return ObjectKey.from_tuple(wire)  # not a key: from_tuple says why
    # the parts' types too: 1.0 == 1 and True == 1, but only an int makes a key
    t = (*wire, *map(type, wire))
    try:
        k = _KEYS.get(t)
    except TypeError:  # an unhashable part: not a key (from_tuple says why)
        return ObjectKey.from_tuple(wire)
    if k is None:
        k = ObjectKey.from_tuple(wire)
        if len(_KEYS) >= KEY_CACHE_SIZE:
            del _KEYS[next(iter(_KEYS))]
        _KEYS[t] = k
    return k


#: The last buffer `Transaction.decode` decoded and its ops. Where several OSDs share a
#: process (the embedded cluster, the simulator, in-process test clusters) every replica
#: of a write receives the primary's same encoded transaction: all but the first reuse
#: the ops instead of unpacking them again. Ops are immutable tuples (their arguments
#: are never changed once added), so sharing them is safe; each Transaction gets its own
#: list. Only buffers up to `DECODE_MEMO_MAX_BYTES` are kept (a process keeps at most
#: one such buffer alive).
DECODE_MEMO_MAX_BYTES = 64 * 1024
_LAST_DECODED: tuple[bytes, list[tuple[Any, ...]]] | None = None


#: msgpack extension type of a WRITE payload carried beside the ops (`encode_split`).
EXT_PAYLOAD = 1
#: WRITE payloads at least this long travel beside the ops (`encode_split`); shorter
#: ones stay inside them (a separate buffer costs more than copying a few bytes).
SPLIT_MIN_BYTES = 4096
#: A payload reference: (offset, length) in the data buffer.
_PAYLOAD_REF = struct.Struct("<QQ")
#: The last (ops, data) `Transaction.decode_split` decoded and its ops, as
#: `_LAST_DECODED` (data kept only up to `DECODE_MEMO_MAX_BYTES`).
_LAST_SPLIT: tuple[bytes, bytes | memoryview, list[tuple[Any, ...]]] | None = None


def _b(data: bytes | bytearray | memoryview) -> bytes | memoryview:
    if isinstance(data, bytes | memoryview):
        return data
    if isinstance(data, bytearray):
        return bytes(data)
    raise TypeError(f"data must be bytes-like, not {type(data).__name__}")


class Transaction:
    """An ordered list of ops; a store applies all of them or none.

    Each method appends one op and returns ``self`` so calls can be chained.
    Object ids are `ObjectKey`s (a bare ``str`` means ``ObjectKey(name)``).
    """

    __slots__ = ("ops", "data_bytes")

    def __init__(self) -> None:
        self.ops: list[tuple[Any, ...]] = []
        self.data_bytes = 0  # payload bytes carried (for batching/backpressure)

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.ops)

    def __repr__(self) -> str:
        return f"<Transaction ops={len(self.ops)} bytes={self.data_bytes}>"

    def empty(self) -> bool:
        """True when the transaction has no ops."""
        return not self.ops

    def append(self, other: Transaction) -> Transaction:
        """Append all ops of ``other`` (upstream Transaction::append)."""
        self.ops.extend(other.ops)
        self.data_bytes += other.data_bytes
        return self

    def _add(self, *op: Any) -> Transaction:
        self.ops.append(op)
        return self

    # -- collections -------------------------------------------------------
    def create_collection(self, cid: str, bits: int = 0) -> Transaction:
        """Create collection ``cid`` (EEXIST if it exists)."""
        return self._add(Op.MKCOLL, cid, int(bits))

    def remove_collection(self, cid: str) -> Transaction:
        """Remove an empty collection and its meta keys (ENOTEMPTY if it has objects)."""
        return self._add(Op.RMCOLL, cid)

    def collection_set_bits(self, cid: str, bits: int) -> Transaction:
        """Record the PG split bits of a collection."""
        return self._add(Op.COLL_SET_BITS, cid, int(bits))

    def split_collection(self, cid: str, bits: int, rem: int, dest: str) -> Transaction:
        """Move objects with ``hash & ((1 << bits) - 1) == rem`` into existing ``dest``."""
        return self._add(Op.SPLIT_COLLECTION2, cid, int(bits), int(rem), dest)

    def merge_collection(self, cid: str, dest: str, bits: int) -> Transaction:
        """Move every object of ``cid`` into ``dest``, remove ``cid``, set dest bits."""
        return self._add(Op.MERGE_COLLECTION, cid, dest, int(bits))

    # -- object data -------------------------------------------------------
    def touch(self, cid: str, oid: OidLike) -> Transaction:
        """Create the object if it does not exist."""
        return self._add(Op.TOUCH, cid, as_key(oid))

    def write(
        self, cid: str, oid: OidLike, offset: int, data: bytes | bytearray | memoryview
    ) -> Transaction:
        """Write ``data`` at ``offset`` (creates the object, extends its size)."""
        d = _b(data)
        self.data_bytes += len(d)
        return self._add(Op.WRITE, cid, as_key(oid), int(offset), d)

    def zero(self, cid: str, oid: OidLike, offset: int, length: int) -> Transaction:
        """Zero a range (creates the object; extends the size like upstream)."""
        return self._add(Op.ZERO, cid, as_key(oid), int(offset), int(length))

    def truncate(self, cid: str, oid: OidLike, size: int) -> Transaction:
        """Set the object size (shrink drops data, grow adds a hole)."""
        return self._add(Op.TRUNCATE, cid, as_key(oid), int(size))

    def remove(self, cid: str, oid: OidLike) -> Transaction:
        """Remove the object with its data, xattrs and omap."""
        return self._add(Op.REMOVE, cid, as_key(oid))

    def set_alloc_hint(
        self, cid: str, oid: OidLike, expected_object_size: int, expected_write_size: int
    ) -> Transaction:
        """Advisory; accepted and ignored."""
        return self._add(
            Op.SETALLOCHINT, cid, as_key(oid), int(expected_object_size), int(expected_write_size)
        )

    # -- xattrs ------------------------------------------------------------
    def setattr(
        self, cid: str, oid: OidLike, name: str, value: bytes | bytearray | memoryview
    ) -> Transaction:
        """Set one xattr."""
        return self.setattrs(cid, oid, {name: value})

    def setattrs(
        self, cid: str, oid: OidLike, attrs: Mapping[str, bytes | bytearray | memoryview]
    ) -> Transaction:
        """Set several xattrs."""
        a = {str(k): _b(v) for k, v in attrs.items()}
        self.data_bytes += sum(len(v) for v in a.values())
        return self._add(Op.SETATTRS, cid, as_key(oid), a)

    def rmattr(self, cid: str, oid: OidLike, name: str) -> Transaction:
        """Remove one xattr (a missing one is ignored, as upstream's ENODATA)."""
        return self._add(Op.RMATTR, cid, as_key(oid), name)

    def rmattrs(self, cid: str, oid: OidLike) -> Transaction:
        """Remove every xattr of the object."""
        return self._add(Op.RMATTRS, cid, as_key(oid))

    # -- omap --------------------------------------------------------------
    def omap_setkeys(
        self, cid: str, oid: OidLike, kv: Mapping[str, bytes | bytearray | memoryview]
    ) -> Transaction:
        """Set omap keys."""
        d = {str(k): _b(v) for k, v in kv.items()}
        self.data_bytes += sum(len(v) + len(k) for k, v in d.items())
        return self._add(Op.OMAP_SETKEYS, cid, as_key(oid), d)

    def omap_rmkeys(self, cid: str, oid: OidLike, keys: Iterable[str]) -> Transaction:
        """Remove omap keys (missing keys are ignored)."""
        return self._add(Op.OMAP_RMKEYS, cid, as_key(oid), [str(k) for k in keys])

    def omap_rmkeyrange(self, cid: str, oid: OidLike, first: str, last: str) -> Transaction:
        """Remove omap keys in ``[first, last)``."""
        return self._add(Op.OMAP_RMKEYRANGE, cid, as_key(oid), first, last)

    def omap_clear(self, cid: str, oid: OidLike) -> Transaction:
        """Remove every omap key and the omap header."""
        return self._add(Op.OMAP_CLEAR, cid, as_key(oid))

    def omap_setheader(
        self, cid: str, oid: OidLike, header: bytes | bytearray | memoryview
    ) -> Transaction:
        """Set the omap header."""
        h = _b(header)
        self.data_bytes += len(h)
        return self._add(Op.OMAP_SETHEADER, cid, as_key(oid), h)

    # -- clones and moves --------------------------------------------------
    def clone(self, cid: str, src: OidLike, dst: OidLike) -> Transaction:
        """Replace ``dst`` with a copy of ``src`` (data, xattrs, omap); ENOENT if no src."""
        return self._add(Op.CLONE, cid, as_key(src), as_key(dst))

    def clone_range(
        self, cid: str, src: OidLike, dst: OidLike, src_off: int, length: int, dst_off: int
    ) -> Transaction:
        """Copy a data range of ``src`` into ``dst`` (range clipped to src size)."""
        return self._add(
            Op.CLONERANGE2, cid, as_key(src), as_key(dst), int(src_off), int(length), int(dst_off)
        )

    def collection_move_rename(
        self, src_cid: str, src_oid: OidLike, dst_cid: str, dst_oid: OidLike
    ) -> Transaction:
        """Move/rename an object (EEXIST if the destination exists, ENOENT if no src)."""
        return self._add(Op.COLL_MOVE_RENAME, src_cid, as_key(src_oid), dst_cid, as_key(dst_oid))

    def try_rename(self, cid: str, src: OidLike, dst: OidLike) -> Transaction:
        """Rename within a collection if ``src`` exists (replacing ``dst``); else nothing."""
        return self._add(Op.TRY_RENAME, cid, as_key(src), as_key(dst))

    # -- per-collection meta keys (pg log, pg info) -------------------------
    def meta_set(self, cid: str, key: bytes, value: bytes | bytearray | memoryview) -> Transaction:
        """Set a key in the collection's meta key space."""
        v = _b(value)
        self.data_bytes += len(v) + len(key)
        return self._add(Op.META_SET, cid, bytes(key), v)

    def meta_rm(self, cid: str, key: bytes) -> Transaction:
        """Remove a meta key (missing keys are ignored)."""
        return self._add(Op.META_RM, cid, bytes(key))

    def meta_rmrange(self, cid: str, first: bytes, last: bytes) -> Transaction:
        """Remove meta keys in ``[first, last)`` (e.g. trimming a PG log)."""
        return self._add(Op.META_RMRANGE, cid, bytes(first), bytes(last))

    def nop(self) -> Transaction:
        """A no-op."""
        return self._add(Op.NOP)

    # -- wire form -----------------------------------------------------------
    def encode(self) -> bytes:
        """msgpack bytes of the ops (ObjectKeys as tuples)."""
        out = []
        for op in self.ops:
            idx = _KEY_ARGS.get(op[0], ())
            out.append(
                [int(op[0]), *(a.to_tuple() if i in idx else a for i, a in enumerate(op) if i)]
            )
        return msgpack.packb(out, use_bin_type=True, unicode_errors="surrogateescape")

    def encode_split(self) -> tuple[bytes, bytes | memoryview]:
        """(ops, data): the ops as `encode` gives them, except that every WRITE payload
        of `SPLIT_MIN_BYTES` or more is a reference (`EXT_PAYLOAD`) into ``data``, where
        those payloads lie end to end. With one such payload (a client's write) ``data``
        is that payload itself, uncopied; with several they are joined."""
        out = []
        payloads: list[bytes | memoryview] = []
        pos = 0
        for op in self.ops:
            code = op[0]
            idx = _KEY_ARGS.get(code, ())
            args = [a.to_tuple() if i in idx else a for i, a in enumerate(op) if i]
            if code == Op.WRITE and len(op[4]) >= SPLIT_MIN_BYTES:
                n = len(op[4])
                args[3] = msgpack.ExtType(EXT_PAYLOAD, _PAYLOAD_REF.pack(pos, n))
                payloads.append(op[4])
                pos += n
            out.append([int(code), *args])
        ops = msgpack.packb(out, use_bin_type=True, unicode_errors="surrogateescape")
        if not payloads:
            return ops, b""
        return ops, payloads[0] if len(payloads) == 1 else b"".join(payloads)

    @classmethod
    def decode_split(cls, ops: bytes, data: bytes | memoryview) -> Transaction:
        """Inverse of `encode_split`: WRITE payloads are views of ``data`` (it must stay
        unchanged while the transaction lives; a received frame's buffer does)."""
        global _LAST_SPLIT
        t = cls()
        last = _LAST_SPLIT
        if last is not None and last[1] is data and last[0] == ops:
            t.ops = list(last[2])
            t.data_bytes = len(ops) + len(data)
            return t
        view = memoryview(data).cast("B") if len(data) else memoryview(b"")

        def payload(code: int, raw: bytes) -> memoryview:
            if code != EXT_PAYLOAD or len(raw) != _PAYLOAD_REF.size:
                raise ValueError(f"unknown msgpack extension {code}")
            off, n = _PAYLOAD_REF.unpack(raw)
            if off + n > len(view):
                raise ValueError(f"payload [{off}, {off + n}) past the data ({len(view)})")
            return view[off : off + n]

        t._decode_ops(
            msgpack.unpackb(
                ops,
                raw=False,
                strict_map_key=False,
                unicode_errors="surrogateescape",
                ext_hook=payload,
            )
        )
        t.data_bytes = len(ops) + len(data)
        if len(data) <= DECODE_MEMO_MAX_BYTES and len(ops) <= DECODE_MEMO_MAX_BYTES:
            _LAST_SPLIT = (ops, data, list(t.ops))
        return t

    def _decode_ops(self, raw_ops: Any) -> None:
        ops = self.ops
        for raw in raw_ops:
            try:
                code = _OPS[raw[0]]
            except (KeyError, TypeError):
                raise ValueError(f"{raw[0]!r} is not a valid Op") from None
            idx = _KEY_ARGS.get(code)
            if idx is None:
                ops.append((code, *raw[1:]))
            else:
                args = [_key(a) if i in idx else a for i, a in enumerate(raw)]
                args[0] = code
                ops.append(tuple(args))

    @classmethod
    def decode(cls, buf: bytes | memoryview) -> Transaction:
        """Inverse of `encode`."""
        global _LAST_DECODED
        t = cls()
        last = _LAST_DECODED
        if last is not None and type(buf) is bytes and (last[0] is buf or last[0] == buf):
            t.ops = list(last[1])
            t.data_bytes = len(buf)
            return t
        t._decode_ops(
            msgpack.unpackb(buf, raw=False, strict_map_key=False, unicode_errors="surrogateescape")
        )
        t.data_bytes = len(buf)
        if type(buf) is bytes and len(buf) <= DECODE_MEMO_MAX_BYTES:
            _LAST_DECODED = (buf, list(t.ops))
        return t
