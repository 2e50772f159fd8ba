"""A `BlockDevice` whose bytes live in memory: for tests and benchmarks of the NBD server.

Sparse: data is kept in `CHUNK`-byte pieces created on first write, so a large device
costs only what is written. Discard drops whole chunks and zeroes the partial ends;
`write_zeroes` without `no_hole` behaves the same, with `no_hole` it stores zeroes.
It counts the operations it executed, so tests can see what a client really did.
"""

from __future__ import annotations

import errno
from collections import Counter

from pyceph.common.errors import CephError

#: Bytes per allocation unit.
CHUNK = 64 << 10


class MemDevice:
    """An in-memory block device of `size` bytes."""

    def __init__(self, size: int, read_only: bool = False) -> None:
        if size < 0:
            raise CephError(errno.EINVAL, f"negative device size {size}")
        self._size = size
        self._read_only = read_only
        self._chunks: dict[int, bytearray] = {}
        #: operations executed, by name ("read", "write", "flush", ...)
        self.ops: Counter[str] = Counter()

    @property
    def size(self) -> int:
        return self._size

    @property
    def multi_conn(self) -> bool:
        """One store shared by every connection."""
        return True

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def allocated_bytes(self) -> int:
        """Bytes held in memory (whole chunks)."""
        return len(self._chunks) * CHUNK

    def _check(self, offset: int, length: int, write: bool) -> None:
        if write and self._read_only:
            raise CephError(errno.EROFS, "read-only device")
        if offset < 0 or length < 0 or offset + length > self._size:
            raise CephError(errno.EINVAL, f"range {offset}+{length} is outside {self._size}")

    def read_sync(self, offset: int, length: int) -> bytes:
        """The bytes of a range, without the event loop (tests)."""
        self._check(offset, length, write=False)
        out = bytearray(length)
        pos = offset
        end = offset + length
        while pos < end:
            index, start = divmod(pos, CHUNK)
            n = min(CHUNK - start, end - pos)
            chunk = self._chunks.get(index)
            if chunk is not None:
                out[pos - offset : pos - offset + n] = chunk[start : start + n]
            pos += n
        return bytes(out)

    def write_sync(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Store bytes, without the event loop (tests)."""
        self._check(offset, len(data), write=True)
        view = memoryview(data)
        pos = offset
        end = offset + len(data)
        while pos < end:
            index, start = divmod(pos, CHUNK)
            n = min(CHUNK - start, end - pos)
            chunk = self._chunks.get(index)
            if chunk is None:
                chunk = self._chunks[index] = bytearray(CHUNK)
            chunk[start : start + n] = view[pos - offset : pos - offset + n]
            pos += n

    def _zero(self, offset: int, length: int, deallocate: bool) -> None:
        pos = offset
        end = offset + length
        while pos < end:
            index, start = divmod(pos, CHUNK)
            n = min(CHUNK - start, end - pos)
            if deallocate and n == CHUNK:
                self._chunks.pop(index, None)
            else:
                chunk = self._chunks.get(index)
                if chunk is None and not deallocate:
                    chunk = self._chunks[index] = bytearray(CHUNK)
                if chunk is not None:
                    chunk[start : start + n] = bytes(n)
            pos += n

    async def read(self, offset: int, length: int) -> bytes:
        self.ops["read"] += 1
        return self.read_sync(offset, length)

    async def write(self, offset: int, data: bytes | memoryview, fua: bool = False) -> None:
        self.ops["write_fua" if fua else "write"] += 1
        self.write_sync(offset, data)

    async def discard(self, offset: int, length: int) -> None:
        self.ops["discard"] += 1
        self._check(offset, length, write=True)
        self._zero(offset, length, deallocate=True)

    async def write_zeroes(self, offset: int, length: int, no_hole: bool = False) -> None:
        self.ops["write_zeroes_no_hole" if no_hole else "write_zeroes"] += 1
        self._check(offset, length, write=True)
        self._zero(offset, length, deallocate=not no_hole)

    async def flush(self) -> None:
        self.ops["flush"] += 1

    async def allocated(self, offset: int, length: int) -> list[tuple[int, int]]:
        self.ops["allocated"] += 1
        self._check(offset, length, write=False)
        out: list[tuple[int, int]] = []
        end = offset + length
        for index in range(offset // CHUNK, (end + CHUNK - 1) // CHUNK):
            if index not in self._chunks:
                continue
            start, stop = max(offset, index * CHUNK), min(end, (index + 1) * CHUNK)
            if out and out[-1][0] + out[-1][1] == start:
                out[-1] = (out[-1][0], stop - out[-1][0])
            else:
                out.append((start, stop - start))
        return out

    async def refresh(self) -> None:
        self.ops["refresh"] += 1

    def resize(self, size: int) -> None:
        """Change the size (shrinking drops the data beyond it)."""
        if size < 0:
            raise CephError(errno.EINVAL, f"negative device size {size}")
        if size < self._size:
            self._zero(size, self._size - size, deallocate=True)
        self._size = size
