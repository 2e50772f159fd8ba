"""Bounded msgpack decoding: the one way untrusted bytes (wire heads, object-class
arguments, stored incrementals) become Python values.

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
    `surrogates` keeps undecodable string bytes as surrogate escapes (omap keys)."""
    n = len(raw)
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
