"""Bounding what LMDB's read-only map adds to a process's resident set.

LMDB reads through a shared, read-only mmap of its data file: every extent read maps the
file's pages into the process, and they stay mapped (and counted in RSS, as RssFile)
until the process unmaps them. After a sequential read of 1.2 GiB an OSD showed 550 MiB
of such pages; after a pool deletion walked every extent, 1.25 GiB. They are page
cache, shared and reclaimable, but nothing in the store needs them mapped once the bytes
have been copied out (every read copies; see kvcore's `Reader.read`).

`MappedReads` counts the data bytes read through the map since the last release and,
past its bound, drops the whole map's pages from the process with
`madvise(MADV_DONTNEED)`. Commits map pages too, which no byte count sees: LMDB rewrites
its free-page list to new pages at every commit and the next commit reads them back
(after a pool deletion: ~1.7 MiB mapped per MiB of small writes). So after each commit
`check_resident` compares the process's resident file pages (/proc/self/statm, one
small read) with their level after the last release and releases past the same bound. On a shared file mapping that only unmaps: the data stays in
the file and the page cache, the next access maps it again with a minor fault (no I/O,
no copy), and a reader holding a view into the map at that moment still reads the same
bytes. The B-tree pages hot in the map are mapped back on their next use. The map's
place in the address space is read from /proc/self/maps (py-lmdb does not expose it);
where that or `madvise` is missing (not Linux), nothing is released.

Upstream's BlueStore reads with O_DIRECT into its own cache bounded by
`bluestore_cache_size`; here the kernel's page cache is the cache and this is the bound
on how much of it the OSD keeps mapped.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

#: Data bytes read through the map after which its pages are dropped from the process.
MAP_READ_RELEASE_BYTES = 16 << 20
#: madvise(2) advice: drop the pages of the range from this process.
MADV_DONTNEED = 4
#: Where Linux lists a process's mappings, and its memory counters in pages.
PROC_MAPS = "/proc/self/maps"
PROC_STATM = "/proc/self/statm"
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _load_madvise() -> Any | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        fn = libc.madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_MADVISE = _load_madvise()


def file_mappings(path: str, maps_text: str) -> list[tuple[int, int]]:
    """(start, end) of every mapping of the file `path` in a /proc/PID/maps listing."""
    out = []
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5] == path:
            lo, _, hi = parts[0].partition("-")
            out.append((int(lo, 16), int(hi, 16)))
    return out


class MappedReads:
    """Data bytes read through the map of `data_file` since its pages were last dropped."""

    def __init__(self, data_file: str, release_bytes: int = MAP_READ_RELEASE_BYTES) -> None:
        self.data_file = os.path.realpath(data_file)
        self.release_bytes = release_bytes
        self.pending = 0
        self.releases = 0
        #: resident file-backed bytes of the process after the last release (statm)
        self.resident_base = resident_file_bytes() or 0

    def add(self, nbytes: int) -> None:
        self.pending += nbytes

    def due(self) -> bool:
        return self.release_bytes > 0 and self.pending >= self.release_bytes

    def maybe_release(self) -> bool:
        """Drop the map's pages if enough has been read through it; True if it did."""
        if not self.due():
            return False
        self.pending = 0
        return self.release()

    def check_resident(self) -> bool:
        """After a commit: release if the process's resident file pages grew by the
        bound since the last release; True if it did."""
        if self.release_bytes <= 0:
            return False
        now = resident_file_bytes()
        if now is None or now - self.resident_base < self.release_bytes:
            return False
        self.pending = 0
        return self.release()

    def release(self) -> bool:
        """Drop every page of the map from this process now (False: cannot here)."""
        if _MADVISE is None:
            return False
        try:
            with open(PROC_MAPS) as f:
                ranges = file_mappings(self.data_file, f.read())
        except OSError:
            return False
        done = False
        for lo, hi in ranges:
            if _MADVISE(lo, hi - lo, MADV_DONTNEED) == 0:
                done = True
            else:
                log.debug("madvise of %s failed: errno %s", self.data_file, ctypes.get_errno())
        self.releases += done
        self.resident_base = resident_file_bytes() or 0
        return done


def resident_file_bytes() -> int | None:
    """The process's resident file-backed and shared bytes (statm's third field)."""
    try:
        with open(PROC_STATM, "rb") as f:
            return int(f.read().split()[2]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None
