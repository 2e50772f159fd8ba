"""The byte formats of `rbd export`/`import` and `export-diff`/`import-diff`, sans I/O.

Upstream (src/tools/rbd/Utils.h, action/Export.cc, action/Import.cc):

* raw export (``--export-format 1``): the image bytes;
* diff v1 (``rbd diff v1\\n``): records ``tag`` + payload, little-endian:
  ``f``/``t`` snapshot names (u32 length + bytes), ``s`` image size (u64),
  ``w`` offset, length (u64 each) + data, ``z`` offset, length, ``e`` end;
* diff v2 (``rbd diff v2\\n``): every tag but ``e`` is followed by its payload
  length (u64); adds ``p`` snapshot protection status (u8);
* image v2 (``--export-format 2``): ``rbd image v2\\n``, header records ``O`` order,
  ``T`` features, ``U`` stripe unit, ``C`` stripe count (u64 each), ``M`` metadata
  (key and value as u32-length strings), ``E`` end; then ``rbd image diffs v2\\n``,
  the diff count (u64) and that many v2 diffs (one per snapshot, then HEAD).

Encoders return bytes; `StreamReader` decodes from any object with ``read(n)``.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

__all__ = [
    "DIFF_BANNER",
    "DIFF_BANNER_V2",
    "IMAGE_BANNER_V2",
    "IMAGE_DIFFS_BANNER_V2",
    "DiffRecord",
    "StreamError",
    "StreamReader",
    "encode_diff_end",
    "encode_diff_header",
    "encode_extent",
    "encode_image_diffs_header",
    "encode_image_header_v2",
]

DIFF_BANNER = b"rbd diff v1\n"
DIFF_BANNER_V2 = b"rbd diff v2\n"
IMAGE_BANNER_V2 = b"rbd image v2\n"
IMAGE_DIFFS_BANNER_V2 = b"rbd image diffs v2\n"

TAG_FROM_SNAP = ord("f")
TAG_TO_SNAP = ord("t")
TAG_IMAGE_SIZE = ord("s")
TAG_WRITE = ord("w")
TAG_ZERO = ord("z")
TAG_END = ord("e")
TAG_PROTECTION = ord("p")
TAG_ORDER = ord("O")
TAG_FEATURES = ord("T")
TAG_STRIPE_UNIT = ord("U")
TAG_STRIPE_COUNT = ord("C")
TAG_META = ord("M")
TAG_IMAGE_END = ord("E")

#: the length Export.cc writes for the one-byte protection-status record
PROTECTION_DECLARED_LEN = 8
#: read_string's bound on snapshot names in a diff (Import.cc: 4 KiB)
MAX_SNAP_NAME = 4096
#: bytes read at a time when skipping an unknown tag
SKIP_CHUNK = 4096

_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")


def _u64(v: int) -> bytes:
    return _U64.pack(v)


def _string(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return _U32.pack(len(b)) + b


def _tagged(tag: int, payload: bytes, fmt: int) -> bytes:
    if fmt == 2:
        return bytes([tag]) + _u64(len(payload)) + payload
    return bytes([tag]) + payload


# ----------------------------------------------------------------- encoders
def encode_diff_header(
    from_snap: str | None,
    to_snap: str | None,
    size: int,
    fmt: int = 1,
    protected: bool | None = None,
) -> bytes:
    """Banner and leading records of one diff (do_export_diff_fd)."""
    out = [DIFF_BANNER if fmt == 1 else DIFF_BANNER_V2]
    if from_snap is not None:
        out.append(_tagged(TAG_FROM_SNAP, _string(from_snap), fmt))
    if to_snap is not None:
        out.append(_tagged(TAG_TO_SNAP, _string(to_snap), fmt))
        if fmt == 2:
            # upstream declares 8 bytes but writes the one-byte flag (and reads one byte)
            flag = bytes([1 if protected else 0])
            out.append(bytes([TAG_PROTECTION]) + _u64(PROTECTION_DECLARED_LEN) + flag)
    out.append(_tagged(TAG_IMAGE_SIZE, _u64(size), fmt))
    return b"".join(out)


def encode_extent(offset: int, length: int, data: bytes | None, fmt: int = 1) -> bytes:
    """A ``w`` record with `data`, or a ``z`` record when `data` is None."""
    tag = TAG_WRITE if data is not None else TAG_ZERO
    out = bytes([tag])
    if fmt == 2:
        out += _u64(16 + (length if data is not None else 0))
    out += _u64(offset) + _u64(length)
    return out + (data or b"")


def encode_diff_end() -> bytes:
    return bytes([TAG_END])


def encode_image_header_v2(
    order: int,
    features: int,
    stripe_unit: int,
    stripe_count: int,
    metadata: Iterable[tuple[str, str | bytes]] = (),
) -> bytes:
    """``rbd image v2`` header records up to ``E`` (do_export_v2)."""
    out = [IMAGE_BANNER_V2]
    for tag, value in (
        (TAG_ORDER, order),
        (TAG_FEATURES, features),
        (TAG_STRIPE_UNIT, stripe_unit),
        (TAG_STRIPE_COUNT, stripe_count),
    ):
        out.append(_tagged(tag, _u64(value), 2))
    for key, value in sorted(metadata, key=lambda kv: kv[0]):
        out.append(_tagged(TAG_META, _string(key) + _string(value), 2))
    out.append(bytes([TAG_IMAGE_END]))
    return b"".join(out)


def encode_image_diffs_header(count: int) -> bytes:
    return IMAGE_DIFFS_BANNER_V2 + _u64(count)


# ----------------------------------------------------------------- decoder
class StreamError(Exception):
    """Malformed stream: the upstream message and a negative errno."""

    def __init__(self, message: str, ret: int) -> None:
        super().__init__(message)
        self.message = message
        self.ret = ret


@dataclass
class DiffRecord:
    """One decoded diff record: kind is from, to, protect, size, write, zero, unknown."""

    kind: str
    offset: int = 0
    length: int = 0
    name: str = ""
    flag: bool = False
    data: bytes = b""
    tag: int = 0


@dataclass
class ImageHeader:
    """The ``rbd image v2`` header fields (None when absent)."""

    order: int | None = None
    features: int | None = None
    stripe_unit: int | None = None
    stripe_count: int | None = None
    metadata: dict[str, str] | None = None
    unknown_tags: list[int] | None = None


class StreamReader:
    """Reads the formats above from `src` (``read(n)``); counts bytes consumed."""

    def __init__(self, src: BinaryIO | Any) -> None:
        self.src = src
        self.pos = 0

    def read_exact(self, n: int, what: str) -> bytes:
        chunks = []
        left = n
        while left > 0:
            b = self.src.read(left)
            if not b:
                # safe_read_exact: a short read is -EDOM
                raise StreamError(f"rbd: failed to decode {what}", -errno.EDOM)
            chunks.append(b)
            left -= len(b)
        self.pos += n
        return b"".join(chunks)

    def read_u64(self, what: str) -> int:
        return _U64.unpack(self.read_exact(8, what))[0]

    def read_string(self, limit: int, what: str) -> str:
        n = _U32.unpack(self.read_exact(4, what))[0]
        if n > limit:
            raise StreamError(f"rbd: failed to decode {what}", -errno.EINVAL)
        return self.read_exact(n, what).decode("utf-8", "surrogateescape")

    def banner(self, expected: bytes) -> None:
        """validate_banner."""
        got = self.read_exact(len(expected), "diff banner")
        if got != expected:
            raise StreamError("rbd: invalid or unexpected diff banner", -errno.EINVAL)

    def _tag(self, end: int, fmt: int) -> tuple[int, int]:
        tag = self.read_exact(1, "tag")[0]
        length = 0
        if tag != end and fmt == 2:
            length = self.read_u64("tag length")
        return tag, length

    def skip(self, length: int) -> None:
        while length > 0:
            n = min(length, SKIP_CHUNK)
            self.read_exact(n, "skipped tag data")
            length -= n

    def diff_records(self, fmt: int) -> Iterable[DiffRecord]:
        """The records of one diff after its banner, up to (not including) ``e``."""
        while True:
            tag, length = self._tag(TAG_END, fmt)
            if tag == TAG_END:
                return
            if tag == TAG_FROM_SNAP:
                yield DiffRecord("from", name=self.read_string(MAX_SNAP_NAME, "start snap name"))
            elif tag == TAG_TO_SNAP:
                yield DiffRecord("to", name=self.read_string(MAX_SNAP_NAME, "end snap name"))
            elif tag == TAG_PROTECTION:
                flag = self.read_exact(1, "snap protection status")[0] != 0
                yield DiffRecord("protect", flag=flag)
            elif tag == TAG_IMAGE_SIZE:
                yield DiffRecord("size", length=self.read_u64("image size"))
            elif tag in (TAG_WRITE, TAG_ZERO):
                off = self.read_u64("IO length")
                ln = self.read_u64("IO length")
                if tag == TAG_WRITE:
                    data = self.read_exact(ln, "write data")
                    yield DiffRecord("write", offset=off, length=ln, data=data)
                else:
                    yield DiffRecord("zero", offset=off, length=ln)
            else:
                self.skip(length)
                yield DiffRecord("unknown", tag=tag)

    def image_header_v2(self) -> ImageHeader:
        """do_import_header for format 2 (banner included)."""
        self.banner(IMAGE_BANNER_V2)
        h = ImageHeader(metadata={}, unknown_tags=[])
        while True:
            tag, length = self._tag(TAG_IMAGE_END, 2)
            if tag == TAG_IMAGE_END:
                return h
            if tag == TAG_ORDER:
                h.order = self.read_u64("image option")
            elif tag == TAG_FEATURES:
                h.features = self.read_u64("image option")
            elif tag == TAG_STRIPE_UNIT:
                h.stripe_unit = self.read_u64("image option")
            elif tag == TAG_STRIPE_COUNT:
                h.stripe_count = self.read_u64("image option")
            elif tag == TAG_META:
                key = self.read_string(length, "metadata key")
                value = self.read_string(length, "metadata value")
                assert h.metadata is not None
                h.metadata[key] = value
            else:
                assert h.unknown_tags is not None
                h.unknown_tags.append(tag)
                self.skip(length)

    def diff_count(self) -> int:
        self.banner(IMAGE_DIFFS_BANNER_V2)
        return self.read_u64("diff count")


def sparse_runs(data: bytes, sparse_size: int) -> list[tuple[int, int, bool]]:
    """utils::calc_sparse_extent over a whole buffer: (offset, length, zeroed) runs.

    The buffer is cut into `sparse_size` pieces; neighbouring pieces that are all
    zero (or all not) form one run. `sparse_size` 0 disables sparseness.
    """
    n = len(data)
    if sparse_size <= 0:
        return [(0, n, False)] if n else []
    zeros = bytes(sparse_size)
    runs: list[tuple[int, int, bool]] = []
    pos = 0
    while pos < n:
        start = pos
        end = min(pos + sparse_size, n)
        zeroed = data[pos:end] == zeros[: end - pos]
        pos = end
        while pos < n:
            end = min(pos + sparse_size, n)
            if (data[pos:end] == zeros[: end - pos]) != zeroed:
                break
            pos = end
        runs.append((start, pos - start, zeroed))
    return runs


def is_zero(data: bytes) -> bool:
    """bufferlist::is_zero."""
    return data.count(0) == len(data)
