"""ceph::BitVector<2> (upstream common/bit_vector.hpp), the encoding of RBD object maps.

Shared by the ``rbd`` class on the OSD (`pyceph.cls.rbd_objects`) and the client
(`pyceph.rbdlib.cls_client`); CRCs are Ceph's crc32c (seeded, no final inversion).
"""

from __future__ import annotations

import struct

import crc32c as _crc

from pyceph.common.denc import Decoder, DencError, Encoder


def ceph_crc32c(seed: int, data: bytes | memoryview) -> int:
    """ceph_crc32c(seed, data): CRC-32C without the pre/post inversion."""
    return ~_crc.crc32c(data, ~seed & 0xFFFFFFFF) & 0xFFFFFFFF


class BitVector2:
    """ceph::BitVector<2>: 2-bit states, four per byte, element 0 in the high bits.

    Encoding: a bufferlist (u32 length) holding ENCODE_START(1, 1) {u64 size}; the packed
    data; a footer bufferlist holding, when CRCs are enabled, the header's crc32c, the number
    of 4 KiB data blocks and each block's crc32c (all seeded 0).
    """

    BLOCK_SIZE = 4096
    HEADER_LENGTH = 18  #: 4 byte bl length, 6 byte encoding header, 8 byte size

    def __init__(self, size: int = 0, crc_enabled: bool = True) -> None:
        self.size = 0
        self.data = bytearray()
        self.crc_enabled = crc_enabled
        self.resize(size)

    def resize(self, size: int) -> None:
        nbytes = (size + 3) // 4
        if nbytes > len(self.data):
            self.data.extend(bytes(nbytes - len(self.data)))
        else:
            del self.data[nbytes:]
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> int:
        return (self.data[i >> 2] >> ((3 - (i & 3)) * 2)) & 3

    def __setitem__(self, i: int, v: int) -> None:
        shift = (3 - (i & 3)) * 2
        b = self.data[i >> 2]
        self.data[i >> 2] = (b & ~(3 << shift) & 0xFF) | ((v & 3) << shift)

    def fill(self, start: int, state: int) -> None:
        """Set elements [start, size) to `state` (whole bytes at a time)."""
        i = start
        while i < self.size and i % 4:
            self[i] = state
            i += 1
        if i < self.size:
            self.data[i // 4 :] = bytes([(state & 3) * 0x55]) * (len(self.data) - i // 4)
            pad = (4 - self.size % 4) % 4
            if pad:
                self.data[-1] &= (0xFF << (2 * pad)) & 0xFF

    def translate(self, mapping: dict[int, int]) -> bool:
        """Map every element's state through `mapping` (states not in it are kept), a byte
        at a time; the padding bits of the last byte stay zero. True if anything changed."""
        if not self.data:
            return False
        table = bytes(
            sum(mapping.get((b >> sh) & 3, (b >> sh) & 3) << sh for sh in (6, 4, 2, 0))
            for b in range(256)
        )
        new = bytearray(self.data.translate(table))
        pad = (4 - self.size % 4) % 4
        if pad:
            new[-1] &= (0xFF << (2 * pad)) & 0xFF
        changed = new != self.data
        self.data = new
        return changed

    def states(self) -> list[int]:
        return [self[i] for i in range(self.size)]

    def _header_bl(self) -> bytes:
        return struct.pack("<BBIQ", 1, 1, 8, self.size)

    def encode(self, e: Encoder) -> None:
        hdr = self._header_bl()
        e.string(hdr)
        e.raw(bytes(self.data))
        footer = b""
        if self.crc_enabled:
            bs = self.BLOCK_SIZE
            crcs = [ceph_crc32c(0, self.data[i : i + bs]) for i in range(0, len(self.data), bs)]
            footer = struct.pack("<II", ceph_crc32c(0, hdr), len(crcs))
            footer += b"".join(struct.pack("<I", c) for c in crcs)
        e.string(footer)

    def to_bytes(self) -> bytes:
        e = Encoder()
        self.encode(e)
        return bytes(e)

    @classmethod
    def decode(cls, d: Decoder, verify: bool = True) -> BitVector2:
        """Decode; with `verify` a wrong header or block CRC is malformed input."""
        hdr = d.raw_string()
        hd = Decoder(hdr)
        with hd.struct(1):
            size = hd.u64()
        bv = cls(0)
        bv.size = size
        nbytes = (size + 3) // 4
        bv.data = bytearray(d.take(nbytes))
        footer = d.raw_string()
        bv.crc_enabled = len(footer) > 0
        if bv.crc_enabled:
            fd = Decoder(footer)
            if ceph_crc32c(0, hdr) != fd.u32() and verify:
                raise DencError("incorrect header CRC")
            fd.u32()  # the number of block CRCs
            bs = cls.BLOCK_SIZE
            nblocks = (nbytes + bs - 1) // bs
            crcs = [fd.u32() for _ in range((len(footer) - fd.pos) // 4)]
            if len(crcs) != nblocks:
                raise DencError("invalid data block CRCs")
            for i, c in enumerate(crcs if verify else []):
                if ceph_crc32c(0, bv.data[i * bs : (i + 1) * bs]) != c:
                    raise DencError("invalid data block CRC")
        return bv

    @classmethod
    def from_bytes(cls, b: bytes) -> BitVector2:
        return cls.decode(Decoder(b))
