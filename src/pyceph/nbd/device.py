"""The block device an NBD export serves: the interface between protocol and storage.

The NBD server (`pyceph.nbd.server`) knows nothing of RBD: it executes requests on a
`BlockDevice`. `pyceph.nbd.rbd_device` adapts an rbd engine image to it and
`pyceph.nbd.memdevice` keeps the bytes in memory (tests, benchmarks).

Contract: offsets and lengths are bytes and already checked against `size` by the
protocol layer; `read` returns exactly `length` bytes; a failure raises
`pyceph.common.errors.CephError` (its errno becomes the reply's NBD error) and
changes nothing it can avoid changing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class BlockDevice(Protocol):
    """A byte-addressed device with a fixed size at any one moment."""

    @property
    def size(self) -> int:
        """Current size in bytes."""
        ...

    @property
    def read_only(self) -> bool:
        """True when every write is refused (a snapshot, a read-only mapping)."""
        ...

    @property
    def multi_conn(self) -> bool:
        """True when a flush through one connection covers writes made through any
        connection (no per-connection cache): clients may then use several at once."""
        ...

    async def read(self, offset: int, length: int) -> bytes | bytearray | memoryview:
        """`length` bytes from `offset` (unwritten areas read as zeroes)."""
        ...

    async def write(self, offset: int, data: bytes | memoryview, fua: bool = False) -> None:
        """Store `data` at `offset`; durable before returning when `fua` is set."""
        ...

    async def discard(self, offset: int, length: int) -> None:
        """Release a range; it may read back as zeroes or as its old data afterwards."""
        ...

    async def write_zeroes(self, offset: int, length: int, no_hole: bool = False) -> None:
        """Make a range read as zeroes; with `no_hole` keep it allocated (no deallocation)."""
        ...

    async def flush(self) -> None:
        """Make every completed write durable."""
        ...

    async def allocated(self, offset: int, length: int) -> list[tuple[int, int]]:
        """The (offset, length) ranges within `offset`+`length` that may hold data; the
        rest reads as zeroes (NBD's base:allocation; qemu-img skips the holes)."""
        ...

    async def refresh(self) -> None:
        """Pick up outside changes (an image resized by another client) before a new
        client negotiates; a no-op for a device whose size cannot change."""
        ...
