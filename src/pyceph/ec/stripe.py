"""Stripe arithmetic and write planning for EC pools (upstream's ``ECUtil::stripe_info_t``).

What: :class:`StripeInfo` converts between logical object offsets and per-shard
(chunk) offsets, and plans writes: append-only pools (no ``allow_ec_overwrites``)
accept only stripe-aligned appends, and overwrite-enabled pools turn a partial
write into a read-modify-write of the head/tail stripes it touches
(``ECTransaction::get_write_plan``).

Why: the OSD's EC backend, recovery and scrub all need the same offset math and the
same rules upstream applies, kept apart from the codec and from the OSD so they can
be tested alone. Everything here is integer arithmetic; no data is touched except by
:func:`merge_write`, which assembles the stripe-aligned buffer a plan says to encode.
"""

from __future__ import annotations

import errno
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pyceph.common.errors import CephError

Extent = tuple[int, int]
"""(offset, length)."""


class StripeInfo:
    """``stripe_info_t``: k data chunks of ``chunk_size`` bytes make one stripe."""

    __slots__ = ("k", "stripe_width", "chunk_size")

    def __init__(self, k: int, stripe_width: int) -> None:
        if k <= 0 or stripe_width <= 0 or stripe_width % k:
            raise ValueError(f"stripe_width {stripe_width} is not a multiple of k={k}")
        self.k = k
        self.stripe_width = stripe_width
        self.chunk_size = stripe_width // k

    def __repr__(self) -> str:
        return f"StripeInfo(k={self.k}, stripe_width={self.stripe_width})"

    # ---------------------------------------------------- upstream accessors
    def logical_offset_is_stripe_aligned(self, logical: int) -> bool:
        return logical % self.stripe_width == 0

    def logical_to_prev_chunk_offset(self, offset: int) -> int:
        return (offset // self.stripe_width) * self.chunk_size

    def logical_to_next_chunk_offset(self, offset: int) -> int:
        return ((offset + self.stripe_width - 1) // self.stripe_width) * self.chunk_size

    def logical_to_prev_stripe_offset(self, offset: int) -> int:
        return offset - offset % self.stripe_width

    def logical_to_next_stripe_offset(self, offset: int) -> int:
        r = offset % self.stripe_width
        return offset - r + self.stripe_width if r else offset

    def aligned_logical_offset_to_chunk_offset(self, offset: int) -> int:
        assert offset % self.stripe_width == 0, offset
        return (offset // self.stripe_width) * self.chunk_size

    def aligned_chunk_offset_to_logical_offset(self, offset: int) -> int:
        assert offset % self.chunk_size == 0, offset
        return (offset // self.chunk_size) * self.stripe_width

    def aligned_offset_len_to_chunk(self, extent: Extent) -> Extent:
        return (
            self.aligned_logical_offset_to_chunk_offset(extent[0]),
            self.aligned_logical_offset_to_chunk_offset(extent[1]),
        )

    def offset_len_to_stripe_bounds(self, extent: Extent) -> Extent:
        """The whole stripes covering ``(off, len)``, as (off, len)."""
        off = self.logical_to_prev_stripe_offset(extent[0])
        length = self.logical_to_next_stripe_offset(extent[0] - off + extent[1])
        return off, length

    # ------------------------------------------------------------ extras
    def chunk_extent(self, offset: int, length: int) -> Extent:
        """Per-shard (offset, length) holding the stripes of logical ``(offset, length)``."""
        off, ln = self.offset_len_to_stripe_bounds((offset, length))
        return self.aligned_offset_len_to_chunk((off, ln))

    def logical_to_shard(self, offset: int) -> tuple[int, int]:
        """Logical byte -> (data chunk index 0..k-1, byte offset inside that shard)."""
        stripe, r = divmod(offset, self.stripe_width)
        chunk, within = divmod(r, self.chunk_size)
        return chunk, stripe * self.chunk_size + within

    def shard_to_logical(self, chunk: int, shard_offset: int) -> int:
        """Inverse of :meth:`logical_to_shard`."""
        stripe, within = divmod(shard_offset, self.chunk_size)
        return stripe * self.stripe_width + chunk * self.chunk_size + within

    def data_chunks_for(self, offset: int, length: int) -> list[int]:
        """Data chunk indices (0..k-1) holding any byte of logical ``(offset, length)``."""
        if length <= 0:
            return []
        start = offset % self.stripe_width
        first, last = start // self.chunk_size, (start + length - 1) // self.chunk_size
        if last - first + 1 >= self.k:
            return list(range(self.k))
        return sorted({i % self.k for i in range(first, last + 1)})

    def object_shard_size(self, logical_size: int) -> int:
        """Bytes each shard stores for an object of ``logical_size`` bytes."""
        return self.logical_to_next_chunk_offset(logical_size)


# ---------------------------------------------------------------- planning
def check_append_only_write(
    sinfo: StripeInfo, offset: int, object_size: int, exists: bool = True
) -> None:
    """Upstream's rule for EC pools without ``allow_ec_overwrites``.

    A write must start on a stripe boundary (``required_alignment`` =
    stripe_width) and be an append: at 0 for a new object, at the current size
    otherwise. Raises EOPNOTSUPP like ``PrimaryLogPG::do_osd_ops``.
    """
    if offset % sinfo.stripe_width:
        raise CephError(errno.EOPNOTSUPP, "write offset not stripe-aligned on an EC pool")
    if not exists:
        if offset:
            raise CephError(errno.EOPNOTSUPP, "EC pool without overwrites: write past end")
    elif offset != object_size:
        raise CephError(errno.EOPNOTSUPP, "EC pool without overwrites: only appends allowed")


def requires_aligned_append(is_erasure: bool, allow_ec_overwrites: bool) -> bool:
    """``pg_pool_t::requires_aligned_append``."""
    return is_erasure and not allow_ec_overwrites


def _union(extents: Iterable[Extent]) -> list[Extent]:
    out: list[Extent] = []
    for off, ln in sorted(e for e in extents if e[1] > 0):
        if out and off <= out[-1][0] + out[-1][1]:
            po, pl = out[-1]
            out[-1] = (po, max(po + pl, off + ln) - po)
        else:
            out.append((off, ln))
    return out


@dataclass
class WritePlan:
    """What a (possibly partial) write to an overwrite-enabled EC object needs.

    ``to_read``: stripe-aligned logical extents of existing data to read first
    (partial head/tail stripes). ``will_write``: stripe-aligned logical extents to
    re-encode and write to every shard. ``projected_size``: the stripe-aligned
    size afterwards; ``logical_size``: the object size afterwards.
    """

    to_read: list[Extent] = field(default_factory=list)
    will_write: list[Extent] = field(default_factory=list)
    projected_size: int = 0
    logical_size: int = 0


def plan_write(
    sinfo: StripeInfo,
    writes: Sequence[Extent],
    object_size: int,
    truncate: int | None = None,
) -> WritePlan:
    """``ECTransaction::get_write_plan`` for an object of ``object_size`` bytes.

    ``writes`` are logical (offset, length); ``truncate`` (applied first) shrinks or
    extends the object. Partial head/tail stripes that hold existing data are read;
    all touched stripes are rewritten.
    """
    sw = sinfo.stripe_width
    orig_size = sinfo.logical_to_next_stripe_offset(object_size)
    projected = orig_size
    logical = object_size
    to_read: list[Extent] = []
    will_write: list[Extent] = []
    if truncate is not None:
        if truncate < projected and truncate % sw:
            prev = sinfo.logical_to_prev_stripe_offset(truncate)
            if prev < orig_size:
                to_read.append((prev, sw))
            will_write.append((prev, sw))
        if truncate < projected:
            projected = sinfo.logical_to_next_stripe_offset(truncate)
        logical = truncate
    read_limit = min(orig_size, projected)  # stripes still holding live old data
    for off, ln in writes:
        if ln <= 0:
            continue
        head_start = sinfo.logical_to_prev_stripe_offset(off)
        head_finish = sinfo.logical_to_next_stripe_offset(off)
        head_start = min(head_start, projected)
        if head_start != head_finish and head_start < read_limit:
            to_read.append((head_start, sw))
        tail_start = sinfo.logical_to_prev_stripe_offset(off + ln)
        tail_finish = sinfo.logical_to_next_stripe_offset(off + ln)
        if (
            tail_start != tail_finish
            and (head_start == head_finish or tail_start != head_start)
            and tail_start < read_limit
        ):
            to_read.append((tail_start, sw))
        if head_start != tail_finish:
            will_write.append((head_start, tail_finish - head_start))
            projected = max(projected, tail_finish)
        logical = max(logical, off + ln)
    return WritePlan(_union(to_read), _union(will_write), projected, logical)


def merge_write(
    sinfo: StripeInfo,
    extent: Extent,
    read_data: Mapping[int, bytes],
    writes: Iterable[tuple[int, bytes]],
    logical_size: int,
    truncate: int | None = None,
) -> bytes:
    """Assemble the stripe-aligned buffer for one ``will_write`` extent.

    ``read_data`` maps a stripe offset (from ``to_read``) to its old logical bytes
    (short reads are zero-filled); old bytes at or past ``truncate`` are dropped;
    ``writes`` are (offset, data) overlaid in order; bytes at or past
    ``logical_size`` are zeroed, as upstream pads stripes.
    """
    start, length = extent
    assert start % sinfo.stripe_width == 0 and length % sinfo.stripe_width == 0
    buf = bytearray(length)
    for off, old in read_data.items():
        lo, hi = max(off, start), min(off + len(old), start + length)
        if lo < hi:
            buf[lo - start : hi - start] = old[lo - off : hi - off]
    if truncate is not None and truncate < start + length:
        z = max(truncate - start, 0)
        buf[z:] = bytes(length - z)
    for off, data in writes:
        lo, hi = max(off, start), min(off + len(data), start + length)
        if lo < hi:
            buf[lo - start : hi - start] = memoryview(data)[lo - off : hi - off]
    if logical_size < start + length:
        z = max(logical_size - start, 0)
        buf[z:] = bytes(length - z)
    return bytes(buf)
