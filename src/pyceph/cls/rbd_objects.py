"""cls ``rbd``: object maps and data objects (upstream src/cls/rbd/cls_rbd.cc, 16.2).

An object map (``rbd_object_map.<id>[.<snap id:016x>]``) is a `BitVector2` stored as the
object's data, with CRCs. Data objects (``rbd_data.<id>.<objectno:016x>``) get copy-up from
the parent (``copyup``, ``sparse_copyup``), the snap-context assertion used by deep copy and
migration (``assert_snapc_seq``) and ``sparsify``.
"""

from __future__ import annotations

import errno

from pyceph.cls.context import RD, WR, ClsError, MethodContext
from pyceph.cls.rbd import CLASS, check_exists, decode_input
from pyceph.cls.rbd_bitvector import BitVector2
from pyceph.cls.rbd_types import (
    ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ,
    ASSERT_SNAPC_SEQ_LE_SNAPSET_SEQ,
    MAX_OBJECT_MAP_OBJECT_COUNT,
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    dec_bool,
    dec_map,
)
from pyceph.cls.registry import MethodResult, register
from pyceph.common.denc import Decoder, DencError


# -- object maps ----------------------------------------------------------------------------------
def _read_map(ctx: MethodContext, verify: bool = True) -> BitVector2:
    """object_map_read: ENOENT when missing or empty, EINVAL when it does not decode."""
    size, _ = ctx.stat()
    if size == 0:
        raise ClsError(errno.ENOENT, "empty object map")
    raw = ctx.read(0, size)
    try:
        return BitVector2.decode(Decoder(raw), verify=verify)
    except (DencError, ValueError) as e:
        raise ClsError(errno.EINVAL, f"failed to decode object map: {e}") from None


def _save(ctx: MethodContext, bv: BitVector2) -> None:
    ctx.write_full(bv.to_bytes())


@register(CLASS, "object_map_load", RD)
def object_map_load(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: the map, encoded without CRCs."""
    bv = _read_map(ctx)
    bv.crc_enabled = False
    return bv.to_bytes()


@register(CLASS, "object_map_save", RD | WR)
def object_map_save(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: a BitVector<2>; stored with CRCs."""
    bv = decode_input(indata, BitVector2.decode)
    bv.crc_enabled = True
    _save(ctx, bv)
    return None


@register(CLASS, "object_map_resize", RD | WR)
def object_map_resize(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: object_count u64, default_state u8. ESTALE when a shrink would drop an object not
    in `default_state`; EINVAL past MAX_OBJECT_MAP_OBJECT_COUNT."""
    count, default_state = decode_input(indata, lambda d: (d.u64(), d.u8()))
    if count > MAX_OBJECT_MAP_OBJECT_COUNT:
        return -errno.EINVAL
    try:
        bv = _read_map(ctx)
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise
        bv = BitVector2(0)
    orig = len(bv)
    if count < orig:
        if any(bv[i] != default_state for i in range(count, orig)):
            return -errno.ESTALE
        bv.resize(count)
    elif count > orig:
        bv.resize(count)
        if default_state:
            bv.fill(orig, default_state)
    _save(ctx, bv)
    return None


@register(CLASS, "object_map_update", RD | WR)
def object_map_update(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start u64, end u64, new_state u8, optional<u8> current_state. Objects in
    [start, end) in `current_state` (EXISTS also matches EXISTS_CLEAN), or all when it is
    absent, become `new_state`; ERANGE outside the map. Only a change is written."""

    def dec(d: Decoder) -> tuple[int, int, int, int | None]:
        start, end, new = d.u64(), d.u64(), d.u8()
        return start, end, new, (d.u8() if d.u8() else None)

    start, end, new_state, cur = decode_input(indata, dec)
    bv = _read_map(ctx, verify=False)  # upstream only logs CRC mismatches here
    if start >= end or end > len(bv):
        return -errno.ERANGE
    updated = False
    for i in range(start, end):
        state = bv[i]
        matches = (
            cur is None or state == cur or (cur == OBJECT_EXISTS and state == OBJECT_EXISTS_CLEAN)
        )
        if matches and state != new_state:
            bv[i] = new_state
            updated = True
    if updated:
        _save(ctx, bv)
    return None


@register(CLASS, "object_map_snap_add", RD | WR)
def object_map_snap_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Every EXISTS object becomes EXISTS_CLEAN (the map of a new snapshot's head)."""
    bv = _read_map(ctx)
    if bv.translate({OBJECT_EXISTS: OBJECT_EXISTS_CLEAN}):
        _save(ctx, bv)
    return None


@register(CLASS, "object_map_snap_remove", RD | WR)
def object_map_snap_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: the removed snapshot's map. EXISTS_CLEAN objects become EXISTS where that map has
    EXISTS (or does not reach)."""
    src = decode_input(indata, BitVector2.decode)
    dst = _read_map(ctx)
    updated = False
    for i in range(len(dst)):
        if dst[i] == OBJECT_EXISTS_CLEAN and (i >= len(src) or src[i] == OBJECT_EXISTS):
            dst[i] = OBJECT_EXISTS
            updated = True
    if updated:
        _save(ctx, dst)
    return None


# -- data objects ---------------------------------------------------------------------------------
@register(CLASS, "copyup", RD | WR)
def copyup(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: the parent's data for this object; written at 0 only when the object is missing."""
    if ctx.exists():
        return None
    ctx.write(0, indata)
    return None


@register(CLASS, "sparse_copyup", RD | WR)
def sparse_copyup(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: map<u64 offset, u64 length>, bufferlist data (the extents' bytes concatenated).
    Nothing when the object exists; an empty map creates an empty object."""
    extents, data = decode_input(indata, lambda d: (dec_map(d, d.u64, d.u64), d.raw_string()))
    if ctx.exists():
        return None
    if not extents:
        ctx.create(exclusive=True)
        return None
    pos = 0
    for off in sorted(extents):
        length = extents[off]
        if pos + length > len(data):
            return -errno.EINVAL
        ctx.write(off, data[pos : pos + length])
        pos += length
    return None


@register(CLASS, "assert_snapc_seq", RD | WR)
def assert_snapc_seq(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snapc_seq u64, state u8. ERANGE unless the object's SnapSet seq compares with
    `snapc_seq` as `state` says (a missing object passes GT and fails LE)."""
    snapc_seq, state = decode_input(indata, lambda d: (d.u64(), d.u8()))
    try:
        snapset_seq: int | None = ctx.get_snapset_seq()
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise
        snapset_seq = None
    newer = snapset_seq is None or snapc_seq > snapset_seq
    if state == ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ:
        return 0 if newer else -errno.ERANGE
    if state == ASSERT_SNAPC_SEQ_LE_SNAPSET_SEQ:
        return -errno.ERANGE if newer else 0
    return -errno.EOPNOTSUPP


@register(CLASS, "sparsify", RD | WR)
def sparsify(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: sparse_size u64, remove_empty bool. Drops zeroed runs of `sparse_size`-aligned
    chunks (the object shrinks to its last data); an all-zero object is removed (or emptied)."""
    sparse_size, remove_empty = decode_input(indata, lambda d: (d.u64(), dec_bool(d)))
    if sparse_size == 0:
        return -errno.EINVAL
    check_exists(ctx)
    data = ctx.read(0, 0)
    length = len(data)
    if data.count(0) == length:
        if remove_empty:
            ctx.remove()
        elif length > 0:
            ctx.replace(0, b"")
        return None
    write_off = write_len = off = 0
    replace = True
    zeros = bytes(min(sparse_size, length))  # a chunk never exceeds the object
    while off < length:
        size = min(sparse_size, length - off)
        is_zero = data[off : off + size] == zeros[:size]
        off += size
        if not is_zero:
            write_len += size
        elif write_len == 0:
            write_off += size
        if (is_zero or off == length) and write_len:
            if write_off == 0 and write_len == length:
                return None  # nothing to do
            chunk = data[write_off : write_off + write_len]
            if replace:
                ctx.replace(write_off, chunk)
                replace = False
            else:
                ctx.write(write_off, chunk)
            write_off, write_len = off, 0
    return None
