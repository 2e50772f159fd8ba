"""Giving the C heap's free memory back to the system, in a daemon process.

Daemons raise glibc's mmap threshold (`runtime.tune_malloc`) so multi-MiB message
buffers are reused from the heap instead of being mapped and zeroed fresh each time. The
price is that glibc then keeps what the buffers occupied: freed chunks in the middle of a
heap, and in the per-thread arenas (the store's commit thread allocates LMDB's dirty
pages in its own), are never returned by themselves, so a daemon's RSS stays at the
high-water mark of its busiest second (measured: an OSD held ~240 MiB free heap after
10 s of 4 MiB writes, 12 MiB of it in use).

`HeapTrimmer` is the policy, sans I/O: it is told the heap's free bytes now and then and
says whether to trim (more than `pyceph_heap_free_max` free). `GlibcHeap` is the
mechanism: `mallinfo2()` for the free bytes, `malloc_trim(0)`, which hands every whole
free page of every arena back (`MADV_DONTNEED`) while keeping the heap's layout, so the
next buffer of that size is still served from the heap (it only faults its pages in
again). `keep_heap_trimmed` runs the two every `pyceph_heap_trim_interval` seconds in a
daemon process; upstream's counterpart is tcmalloc's background release
(`tcmalloc_release_rate`) and `ceph tell osd.N heap release`.

Not glibc (musl, macOS): `GlibcHeap.load()` returns None and nothing runs.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

#: mallinfo2's fields, in glibc's order (all size_t).
_MALLINFO2_FIELDS = (
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost",
)


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2_FIELDS]


@dataclass
class HeapTrimmer:
    """When to trim: the heap holds more than `free_max` bytes it does not use.

    glibc still counts a trimmed chunk as free (its pages are gone, the chunk is not), so
    while the heap keeps that many free bytes every check trims again; a trim with
    nothing resident left to release walks the free lists only (~0.1 ms measured)."""

    free_max: int
    trims: int = 0
    releases: int = 0  #: trims that gave pages back

    def should_trim(self, free_bytes: int) -> bool:
        return free_bytes > self.free_max

    def trimmed(self, released: bool) -> None:
        self.trims += 1
        self.releases += released


class GlibcHeap:
    """glibc's malloc statistics and trim, through ctypes."""

    def __init__(self, libc: Any) -> None:
        self._libc = libc
        libc.mallinfo2.restype = _Mallinfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int

    @classmethod
    def load(cls) -> GlibcHeap | None:
        """The process's glibc (None when the C library is not glibc >= 2.33)."""
        name = ctypes.util.find_library("c")
        if not name:
            return None
        try:
            libc = ctypes.CDLL(name)
            if not hasattr(libc, "mallinfo2") or not hasattr(libc, "malloc_trim"):
                return None
            return cls(libc)
        except OSError:
            return None

    def free_bytes(self) -> int:
        """Bytes the heap (every arena) holds free: fordblks, the chunks not in use."""
        return int(self._libc.mallinfo2().fordblks)

    def in_use_bytes(self) -> int:
        """Bytes of heap chunks in use (uordblks) plus directly mapped ones (hblkhd)."""
        mi = self._libc.mallinfo2()
        return int(mi.uordblks) + int(mi.hblkhd)

    def trim(self) -> bool:
        """Return every whole free page of every arena to the system; True if any was."""
        return bool(self._libc.malloc_trim(0))


def trim_once(heap: GlibcHeap, trimmer: HeapTrimmer) -> bool:
    """Trim if `trimmer` says the heap holds too much free memory; True if it did."""
    if not trimmer.should_trim(heap.free_bytes()):
        return False
    trimmer.trimmed(heap.trim())
    return True


async def keep_heap_trimmed(interval: float, free_max: int) -> None:
    """Every `interval` seconds, trim the heap when it holds more than `free_max` free
    bytes. Runs until cancelled; does nothing where the C library is not glibc."""
    heap = GlibcHeap.load()
    if heap is None or interval <= 0:
        return
    trimmer = HeapTrimmer(free_max)
    while True:
        await asyncio.sleep(interval)
        trim_once(heap, trimmer)
