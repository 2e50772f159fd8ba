"""Bounded msgpack decoding: the one way untrusted bytes (wire heads, object-class
arguments, stored incrementals, stored PG metadata and object attributes) become Python
values.

Every string, blob and container is bounded by the input's own length (and containers by
`max_items`) and ext types are refused, so a forged length cannot make the decoder
allocate more than it was given; msgpack raises ValueError before building anything
larger.
"""

from __future__ import annotations

from typing import Any

import msgpack


def unpack_bounded(
    raw: bytes | memoryview,
    *,
    max_items: int,
    max_str: int | None = None,
    surrogates: bool = False,
) -> Any:
    """Decode `raw`; containers hold at most `max_items`, strings `max_str` bytes.
    `surrogates` keeps undecodable string bytes as surrogate escapes (omap keys).
    Anything malformed is a ValueError (msgpack's own errors are ValueErrors too)."""
    n = len(raw)
    try:
        return _unpackb(raw, n, max_items, max_str, surrogates)
    except TypeError as e:  # a map keyed by a map or a list: unhashable, still malformed
        raise ValueError(f"malformed msgpack: {e}") from None


def _unpackb(
    raw: bytes | memoryview, n: int, max_items: int, max_str: int | None, surrogates: bool
) -> Any:
    return msgpack.unpackb(
        raw,
        raw=False,
        strict_map_key=False,
        unicode_errors="surrogateescape" if surrogates else "strict",
        max_str_len=n if max_str is None else min(n, max_str),
        max_bin_len=n,
        max_array_len=min(n, max_items),
        max_map_len=min(n, max_items),
        max_ext_len=0,
    )


class CorruptRecord(ValueError):
    """A stored record that does not decode (or decodes to the wrong shape)."""


#: What a stored record's decoding may fail with before it is reported as corrupt: the
#: unpacker's own errors and the shape checks of the code that reads its fields.
SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def unpack_record(
    raw: bytes | memoryview, what: str, *, max_items: int, max_str: int | None = None
) -> Any:
    """`unpack_bounded` for a record read back from a store: CorruptRecord naming `what`
    on anything malformed, before more than the record's own size is allocated."""
    try:
        return unpack_bounded(raw, max_items=max_items, max_str=max_str)
    except (ValueError, msgpack.UnpackException) as e:
        raise CorruptRecord(f"corrupt {what}: {e}") from None
