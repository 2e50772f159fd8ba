"""The erasure codec an EC pool's OSDs use: stripes in, k+m shards out, and back.

What: :class:`Codec` splits a logical buffer into stripes of ``stripe_width =
k * chunk_size`` bytes, chunk ``i`` of every stripe going to data shard ``i`` (upstream's
``ECUtil::encode`` layout: a shard is its chunks of stripe 0, 1, 2, ... back to back),
computes the m coding shards, and decodes / rebuilds from any k shards. Shard ids
follow upstream's ``chunk_index`` (the profile's ``mapping``).

Why: the OSD's EC backend needs exactly these four operations (encode a write,
decode a read, reconstruct shards during recovery, and ``minimum_to_decode`` to pick
which shards to fetch) with upstream's shard layout, independent of the OSD itself.

How: parity comes from pyeclib (liberasurecode + ISA-L, see :mod:`pyceph.ec.profile`).
pyeclib frames every fragment with an 80-byte liberasurecode header; shards here are
raw chunk bytes as upstream stores them, so headers are stripped after encoding and
rebuilt (from a per-codec template, patched sizes and CRC) before decoding. Reed-
Solomon works position by position, so many stripes are coded in one pyeclib call by
laying their chunks out shard-contiguously; calls are batched to ~64 KiB of data,
the size at which ISA-L runs fastest here. Chunks move as memoryview slices joined
once; no per-byte Python work.
"""

from __future__ import annotations

import errno
import struct
import warnings
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from pyceph.ec.profile import ErasureCodeError, Profile, parse_profile
from pyceph.ec.stripe import StripeInfo

Buffer = bytes | bytearray | memoryview

HEADER_SIZE = 80
"""sizeof(fragment_header_t) in liberasurecode."""
_META_SIZE = 59  # sizeof(fragment_metadata_t), packed
_OFF_SIZE, _OFF_ORIG, _OFF_CRC = 4, 12, 67
DEFAULT_BATCH_BYTES = 64 * 1024


class Codec:
    """Encode/decode whole stripes for one erasure-code profile.

    ``profile`` is a profile map (as stored by ``osd erasure-code-profile set``) or a
    parsed :class:`Profile`; ``stripe_unit`` overrides the profile's / the default
    4096 (``osd_pool_erasure_code_stripe_unit``). Shard lists and dicts are indexed by
    shard id (``0 .. k+m-1``, after ``mapping``).
    """

    def __init__(
        self,
        profile: Mapping[str, str] | Profile,
        stripe_unit: int | None = None,
        *,
        batch_bytes: int = DEFAULT_BATCH_BYTES,
    ) -> None:
        self.profile: Profile = (
            profile if isinstance(profile, Profile) else parse_profile(profile, force=True)
        )
        p = self.profile
        self.k: int = p.k
        self.m: int = p.m
        self.backend: str = p.backend
        self.stripe_width: int = p.stripe_width(stripe_unit)
        self.chunk_size: int = self.stripe_width // self.k
        """Bytes each shard holds per stripe (upstream's chunk size for stripe_unit)."""
        self.stripe_info = StripeInfo(self.k, self.stripe_width)
        self._batch_stripes = max(1, batch_bytes // self.stripe_width)
        n = self.k + self.m
        self._shard_of = [p.chunk_index(i) for i in range(n)]  # backend idx -> shard
        self._idx_of = [0] * n  # shard -> backend idx
        for i, s in enumerate(self._shard_of):
            self._idx_of[s] = i
        if sorted(self._shard_of) != list(range(n)):
            raise ErasureCodeError(errno.EINVAL, f"mapping {self._shard_of} is not a permutation")
        from pyeclib.ec_iface import ECDriver

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jerasure_* FutureWarning
            self._drv: Any = ECDriver(ec_type=self.backend, k=self.k, m=self.m)
        frags = self._drv.encode(bytes(self.k * self.chunk_size))
        self._hdr_tpl = [bytearray(f[:HEADER_SIZE]) for f in frags]
        self._hdr_cache: dict[int, list[bytes]] = {}

    def __repr__(self) -> str:
        return (
            f"Codec(k={self.k}, m={self.m}, plugin={self.profile.plugin}, "
            f"technique={self.profile.technique}, backend={self.backend}, "
            f"stripe_width={self.stripe_width})"
        )

    # ------------------------------------------------------------- helpers
    @property
    def chunk_count(self) -> int:
        return self.k + self.m

    def get_chunk_size(self, object_size: int) -> int:
        """Upstream's ``get_chunk_size``: per-shard size coding ``object_size`` bytes."""
        return self.profile.get_chunk_size(object_size)

    def padded_length(self, length: int) -> int:
        """``length`` rounded up to whole stripes."""
        return self.stripe_info.logical_to_next_stripe_offset(length)

    def shard_length(self, length: int) -> int:
        """Bytes each shard holds for a ``length``-byte logical object."""
        return self.stripe_info.logical_to_next_chunk_offset(length)

    def _headers(self, frag_len: int) -> list[bytes]:
        """liberasurecode fragment headers for ``frag_len``-byte payloads, by idx."""
        hdrs = self._hdr_cache.get(frag_len)
        if hdrs is None:
            hdrs = []
            for tpl in self._hdr_tpl:
                h = bytearray(tpl)
                struct.pack_into("<I", h, _OFF_SIZE, frag_len)
                struct.pack_into("<Q", h, _OFF_ORIG, frag_len * self.k)
                struct.pack_into("<I", h, _OFF_CRC, zlib.crc32(h[:_META_SIZE]))
                hdrs.append(bytes(h))
            if len(self._hdr_cache) > 64:
                self._hdr_cache.clear()
            self._hdr_cache[frag_len] = hdrs
        return hdrs

    def _batches(self, nstripes: int) -> Iterable[tuple[int, int]]:
        b = self._batch_stripes
        for s0 in range(0, nstripes, b):
            yield s0, min(nstripes, s0 + b)

    def _check_shards(self, shards: Mapping[int, Buffer]) -> int:
        n = self.k + self.m
        length = -1
        for s, buf in shards.items():
            if not 0 <= s < n:
                raise ErasureCodeError(errno.EINVAL, f"shard id {s} out of range 0..{n - 1}")
            if length < 0:
                length = len(buf)
            elif len(buf) != length:
                raise ErasureCodeError(
                    errno.EINVAL, f"shard {s} is {len(buf)} bytes, expected {length}"
                )
        if length < 0:
            length = 0
        if length % self.chunk_size:
            raise ErasureCodeError(
                errno.EINVAL,
                f"shard length {length} is not a multiple of the chunk size {self.chunk_size}",
            )
        return length

    # -------------------------------------------------------------- encode
    def encode(self, data: Buffer) -> list[bytes]:
        """Encode ``data`` (zero-padded to whole stripes) into k+m shards.

        Returns a list indexed by shard id; every shard is
        ``ceil(len(data) / stripe_width) * chunk_size`` bytes.
        """
        k, cs, w = self.k, self.chunk_size, self.stripe_width
        mv = memoryview(data).cast("B")
        n = len(mv)
        nstripes = -(-n // w)
        full = n // w
        tail: bytes | None = None
        if full != nstripes:  # zero-pad the last stripe
            tail = mv[full * w :].tobytes() + bytes(nstripes * w - n)
        parts: list[list[Any]] = [[] for _ in range(k + self.m)]
        for s0, s1 in self._batches(nstripes):
            if s1 - s0 == 1:
                if s0 == full:
                    buf = tail
                elif nstripes == 1 and type(data) is bytes:
                    buf = data
                else:
                    buf = mv[s0 * w : (s0 + 1) * w].tobytes()
            else:
                views: list[Any] = [
                    tail if s == full else mv[s * w : (s + 1) * w] for s in range(s0, s1)
                ]
                buf = b"".join([v[i * cs : (i + 1) * cs] for i in range(k) for v in views])
            frags = self._drv.encode(buf)
            for i, f in enumerate(frags):
                parts[i].append(memoryview(f)[HEADER_SIZE:])
        out: list[bytes] = [b""] * (k + self.m)
        for i, ps in enumerate(parts):
            out[self._shard_of[i]] = ps[0].tobytes() if len(ps) == 1 else b"".join(ps)
        return out

    def encode_dict(self, data: Buffer, want: Iterable[int] | None = None) -> dict[int, bytes]:
        """``encode`` as upstream's ``map<int, bufferlist>``, limited to ``want``."""
        shards = self.encode(data)
        ids = range(len(shards)) if want is None else want
        return {s: shards[s] for s in ids}

    # -------------------------------------------------------------- decode
    def min_to_decode(self, want: Iterable[int], available: Iterable[int]) -> set[int]:
        """Upstream's ``_minimum_to_decode``: shards to read to get ``want``.

        ``want`` itself if all available, else the first k available shards;
        EIO if fewer than k are available.
        """
        want_s, avail = set(want), sorted(set(available))
        if want_s <= set(avail):
            return want_s
        if len(avail) < self.k:
            raise ErasureCodeError(
                errno.EIO,
                f"need {self.k} shards to decode, only {len(avail)} available: {avail}",
            )
        return set(avail[: self.k])

    def _data_rows(
        self, shards: Mapping[int, Buffer], r0: int, r1: int
    ) -> list[memoryview] | bytes:
        """Data chunks for chunk rows [r0, r1): list of k views or one decoded blob.

        The blob holds data chunk i of the rows at ``[i*L, (i+1)*L)``, L = (r1-r0)*cs.
        """
        cs = self.chunk_size
        a, b = r0 * cs, r1 * cs
        data_shards = [self._shard_of[i] for i in range(self.k)]
        if all(s in shards for s in data_shards):
            return [memoryview(shards[s])[a:b] for s in data_shards]
        have = sorted(self._idx_of[s] for s in shards)
        if len(have) < self.k:
            raise ErasureCodeError(
                errno.EIO,
                f"cannot decode: {len(have)} shards available, at least {self.k} needed",
            )
        hdrs = self._headers(b - a)
        frags = [hdrs[i] + memoryview(shards[self._shard_of[i]])[a:b] for i in have[: self.k]]
        try:
            return self._drv.decode(frags)  # type: ignore[no-any-return]
        except Exception as e:
            raise ErasureCodeError(errno.EIO, f"decode failed: {e}") from e

    def decode(self, shards: Mapping[int, Buffer], length: int | None = None) -> bytes:
        """Logical bytes ``[0, length)`` from any k shards (dict shard id -> bytes).

        Shards hold whole chunks (``ECUtil::decode``); ``length`` defaults to
        everything the shards cover. EIO with fewer than k shards.
        """
        slen = self._check_shards(shards)
        k, cs = self.k, self.chunk_size
        cover = slen // cs * self.stripe_width
        if length is None:
            length = cover
        if length > cover:
            raise ErasureCodeError(
                errno.EINVAL, f"length {length} exceeds the {cover} bytes the shards hold"
            )
        nstripes = -(-length // self.stripe_width)
        pieces: list[Any] = []
        for r0, r1 in self._batches(nstripes):
            rows = self._data_rows(shards, r0, r1)
            if isinstance(rows, list):
                for r in range(r1 - r0):
                    pieces.extend(v[r * cs : (r + 1) * cs] for v in rows)
            else:
                blob, span = memoryview(rows), (r1 - r0) * cs
                for r in range(r1 - r0):
                    o = r * cs
                    pieces.extend(blob[i * span + o : i * span + o + cs] for i in range(k))
        out = b"".join(pieces)
        return out if len(out) == length else out[:length]

    def reconstruct(self, shards: Mapping[int, Buffer], want: Iterable[int]) -> dict[int, bytes]:
        """Rebuild shards ``want`` (data or coding) from any k of ``shards``.

        Wanted shards that are present are returned as given (as bytes); EIO if a
        missing one cannot be rebuilt (fewer than k shards).
        """
        want_l = sorted(set(want))
        slen = self._check_shards(shards)
        n = self.k + self.m
        for s in want_l:
            if not 0 <= s < n:
                raise ErasureCodeError(errno.EINVAL, f"shard id {s} out of range 0..{n - 1}")
        out: dict[int, bytes] = {s: bytes(shards[s]) for s in want_l if s in shards}
        missing = [s for s in want_l if s not in shards]
        if not missing:
            return out
        if len(shards) < self.k:
            raise ErasureCodeError(
                errno.EIO,
                f"cannot reconstruct shards {missing}: {len(shards)} available, "
                f"at least {self.k} needed",
            )
        k, cs = self.k, self.chunk_size
        miss_idx = [self._idx_of[s] for s in missing]
        need_parity = any(i >= k for i in miss_idx)
        parts: dict[int, list[Any]] = {i: [] for i in miss_idx}
        for r0, r1 in self._batches(slen // cs):
            rows = self._data_rows(shards, r0, r1)
            span = (r1 - r0) * cs
            if isinstance(rows, list):
                data_blob: bytes | None = None
                views = rows
            else:
                data_blob = rows
                blob = memoryview(rows)
                views = [blob[i * span : (i + 1) * span] for i in range(k)]
            for i in miss_idx:
                if i < k:
                    parts[i].append(views[i])
            if need_parity:
                frags = self._drv.encode(data_blob if data_blob is not None else b"".join(views))
                for i in miss_idx:
                    if i >= k:
                        parts[i].append(memoryview(frags[i])[HEADER_SIZE:])
        for i, ps in parts.items():
            out[self._shard_of[i]] = b"".join(ps)
        return out
