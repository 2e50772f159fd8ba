"""TMAP: the "trivial map" an object's data can hold, and its update commands (sans-I/O).

Before omap, a sorted string -> blob map was kept as an object's whole data:
``bufferlist header, u32 count, count x (string key, bufferlist value)`` (every
string/bufferlist a u32 little-endian length and its bytes). RBD format-1 images are
still listed that way in ``rbd_directory`` (librbd's tmap_set/tmap_rm), so the OSD keeps
upstream's ops: CEPH_OSD_OP_TMAPGET (read the encoding), TMAPPUT (replace it with a
validated one) and TMAPUP (apply a command list: ``u8 op`` then for 'h' a header
bufferlist, else a key string and, for 's'/'c', a value bufferlist). Semantics follow
upstream's PrimaryLogPG::do_tmapup and crimson's tmap_helpers: RM of a missing key is
ENOENT, CREATE of a present key EEXIST, an unknown command or bytes that do not decode
EINVAL; commands apply in order and a failure applies none of them.

Both the OSD (`pyceph.osd.ops`) and the client (`pyceph.rbdlib.v1`) use this module.
"""

from __future__ import annotations

import errno
import struct

#: include/rados.h CEPH_OSD_TMAP_*: the update command codes.
TMAP_HDR = ord("h")
TMAP_SET = ord("s")
TMAP_CREATE = ord("c")
TMAP_RM = ord("r")
TMAP_RMSLOPPY = ord("R")

_U32 = struct.Struct("<I")


class TmapError(Exception):
    """A TMAP operation failed with `errno`."""

    def __init__(self, err: int, message: str) -> None:
        super().__init__(message)
        self.errno = err


class _Reader:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.raw)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.raw):
            raise TmapError(errno.EINVAL, "tmap: truncated")
        b = self.raw[self.pos : self.pos + n]
        self.pos += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def blob(self) -> bytes:
        return self.take(self.u32())

    def string(self) -> str:
        return self.blob().decode("utf-8", "surrogateescape")


def _blob(b: bytes) -> bytes:
    return _U32.pack(len(b)) + b


def _key(k: str) -> bytes:
    return _blob(k.encode("utf-8", "surrogateescape"))


def decode(raw: bytes) -> tuple[bytes, dict[str, bytes]]:
    """(header, keys) of an object's data; empty data is an empty map (EINVAL when it
    does not decode)."""
    if not raw:
        return b"", {}
    r = _Reader(bytes(raw))
    header = r.blob()
    count = r.u32()
    if count > len(raw):  # every entry takes at least 8 bytes: a forged count
        raise TmapError(errno.EINVAL, "tmap: bad key count")
    keys: dict[str, bytes] = {}
    for _ in range(count):
        k = r.string()
        keys[k] = r.blob()
    return header, keys


def encode(header: bytes, keys: dict[str, bytes]) -> bytes:
    """The data encoding of a map, keys in sorted (byte) order as upstream's std::map."""
    parts = [_blob(header), _U32.pack(len(keys))]
    for k in sorted(keys, key=lambda s: s.encode("utf-8", "surrogateescape")):
        parts.append(_key(k))
        parts.append(_blob(keys[k]))
    return b"".join(parts)


def apply_update(current: bytes, commands: bytes) -> bytes:
    """TMAPUP: the object's new data after `commands` (TmapError on failure)."""
    header, keys = decode(current)
    r = _Reader(bytes(commands))
    while not r.at_end():
        op = r.u8()
        if op == TMAP_HDR:
            header = r.blob()
            continue
        key = r.string()
        if op == TMAP_SET:
            keys[key] = r.blob()
        elif op == TMAP_CREATE:
            if key in keys:
                raise TmapError(errno.EEXIST, f"tmap: {key!r} exists")
            keys[key] = r.blob()
        elif op == TMAP_RM:
            if key not in keys:
                raise TmapError(errno.ENOENT, f"tmap: no {key!r}")
            del keys[key]
        elif op == TMAP_RMSLOPPY:
            keys.pop(key, None)
        else:
            raise TmapError(errno.EINVAL, f"tmap: unknown command {op}")
    return encode(header, keys)


def validate_put(data: bytes) -> bytes:
    """TMAPPUT: the data to store, re-encoded from what was given (EINVAL when it does
    not decode)."""
    header, keys = decode(data)
    return encode(header, keys)


def set_command(key: str, value: bytes = b"") -> bytes:
    """A TMAPUP command list that sets `key` (librbd's tmap_set)."""
    return bytes([TMAP_SET]) + _key(key) + _blob(value)


def rm_command(key: str) -> bytes:
    """A TMAPUP command list that removes `key`, ENOENT when absent (librbd's tmap_rm)."""
    return bytes([TMAP_RM]) + _key(key)
