"""An open rbd engine image (`pyceph.rbdlib.Image`) as the `BlockDevice` an NBD export serves.

What upstream's `rbd-nbd` does with librbd (`src/tools/rbd_nbd/rbd-nbd.cc`): reads,
writes, discards and flushes go straight to the image; allocation (NBD block status)
comes from the image's diff since creation; a snapshot or a read-only open
is a read-only device. Write-zeroes without NO_HOLE is the image's `write_zeroes`
(which may deallocate, like librbd's zeroing discard); with NO_HOLE the zeroes are
written as data so the range stays allocated (librbd's thick-provision write-zeroes).
FUA is a write followed by a flush of the image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyceph.rbdlib.layout import CEPH_NOSNAP

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image

#: Bytes of explicit zeroes written per request for a NO_HOLE write-zeroes.
ZERO_WRITE_CHUNK = 4 << 20


class RbdDevice:
    """`BlockDevice` over an open `Image`; `open` reads its size."""

    def __init__(self, image: Image, size: int) -> None:
        self.image = image
        self._size = size

    @classmethod
    async def open(cls, image: Image) -> RbdDevice:
        return cls(image, await image.size())

    @property
    def size(self) -> int:
        return self._size

    @property
    def multi_conn(self) -> bool:
        """Every connection shares this one open image; a write is durable once acknowledged."""
        return True

    @property
    def read_only(self) -> bool:
        """A read-only open, or a snapshot (never writable)."""
        return bool(self.image.read_only) or self.image.snap_id != CEPH_NOSNAP

    async def refresh(self) -> None:
        """Re-read the image size (another client may have resized it); new
        connections see the new size (upstream's rbd-nbd resizes the kernel device).
        The header is re-read: a read-only open does not watch it for changes."""
        await self.image.refresh()
        self._size = await self.image.size()

    async def read(self, offset: int, length: int) -> bytes:
        data = await self.image.read(offset, length)
        if len(data) < length:  # clipped by a concurrent shrink: the rest reads as zeroes
            data += bytes(length - len(data))
        return data

    async def write(self, offset: int, data: bytes | memoryview, fua: bool = False) -> None:
        await self.image.write(bytes(data), offset)
        if fua:
            await self.image.flush()

    async def discard(self, offset: int, length: int) -> None:
        await self.image.discard(offset, length)

    async def write_zeroes(self, offset: int, length: int, no_hole: bool = False) -> None:
        if not no_hole:
            await self.image.write_zeroes(offset, length)
            return
        end = offset + length
        zeroes = bytes(min(length, ZERO_WRITE_CHUNK))
        while offset < end:
            n = min(len(zeroes), end - offset)
            await self.image.write(zeroes[:n] if n < len(zeroes) else zeroes, offset)
            offset += n

    async def flush(self) -> None:
        await self.image.flush()

    async def allocated(self, offset: int, length: int) -> list[tuple[int, int]]:
        """Ranges of data objects that exist (the parent's within a clone's overlap),
        from the image's diff since its creation (librbd diff_iterate)."""
        found: list[tuple[int, int]] = []

        def extent(off: int, n: int, exists: bool) -> None:
            if exists:
                found.append((off, n))

        await self.image.diff_iterate(offset, length, None, extent)
        return found

    async def close(self) -> None:
        """Flush and close the image."""
        try:
            await self.image.flush()
        finally:
            await self.image.close()
