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

from pyceph.common.denc import Decoder, DencError, Encoder

#: include/rados.h CEPH_OSD_TMAP_*: the update command codes.
TMAP_HDR = ord("h")
TMAP_SET = ord("s")
TMAP_CREATE = ord("c")
TMAP_RM = ord("r")
TMAP_RMSLOPPY = ord("R")


class TmapError(Exception):
    """A TMAP operation failed with `errno`."""

    def __init__(self, err: int, message: str) -> None:
        super().__init__(message)
        self.errno = err


def _key(d: Decoder) -> str:
    return d.raw_string().decode("utf-8", "surrogateescape")


def _encode_key(enc: Encoder, key: str) -> None:
    enc.string(key.encode("utf-8", "surrogateescape"))


def decode(raw: bytes) -> tuple[bytes, dict[str, bytes]]:
    """(header, keys) of an object's data; empty data is an empty map (EINVAL when it
    does not decode)."""
    if not raw:
        return b"", {}
    d = Decoder(raw)
    try:
        header = d.raw_string()
        entries = d.seq(lambda: (_key(d), d.raw_string()))
    except DencError as e:
        raise TmapError(errno.EINVAL, f"tmap: {e}") from None
    return header, dict(entries)


def encode(header: bytes, keys: dict[str, bytes]) -> bytes:
    """The data encoding of a map, keys in sorted (byte) order as upstream's std::map."""
    enc = Encoder()
    enc.string(header)
    enc.u32(len(keys))
    for k in sorted(keys, key=lambda s: s.encode("utf-8", "surrogateescape")):
        _encode_key(enc, k)
        enc.string(keys[k])
    return bytes(enc)


def apply_update(current: bytes, commands: bytes) -> bytes:
    """TMAPUP: the object's new data after `commands` (TmapError on failure)."""
    header, keys = decode(current)
    d = Decoder(commands)
    try:
        while d.pos < len(d.buf):
            op = d.u8()
            if op == TMAP_HDR:
                header = d.raw_string()
                continue
            key = _key(d)
            if op == TMAP_SET:
                keys[key] = d.raw_string()
            elif op == TMAP_CREATE:
                if key in keys:
                    raise TmapError(errno.EEXIST, f"tmap: {key!r} exists")
                keys[key] = d.raw_string()
            elif op == TMAP_RM:
                if key not in keys:
                    raise TmapError(errno.ENOENT, f"tmap: no {key!r}")
                del keys[key]
            elif op == TMAP_RMSLOPPY:
                keys.pop(key, None)
            else:
                raise TmapError(errno.EINVAL, f"tmap: unknown command {op}")
    except DencError as e:
        raise TmapError(errno.EINVAL, f"tmap: {e}") from None
    return encode(header, keys)


def validate_put(data: bytes) -> bytes:
    """TMAPPUT: the data to store, re-encoded from what was given (EINVAL when it does
    not decode)."""
    header, keys = decode(data)
    return encode(header, keys)


def set_command(key: str, value: bytes = b"") -> bytes:
    """A TMAPUP command list that sets `key` (librbd's tmap_set)."""
    enc = Encoder()
    enc.u8(TMAP_SET)
    _encode_key(enc, key)
    enc.string(value)
    return bytes(enc)


def rm_command(key: str) -> bytes:
    """A TMAPUP command list that removes `key`, ENOENT when absent (librbd's tmap_rm)."""
    enc = Encoder()
    enc.u8(TMAP_RM)
    _encode_key(enc, key)
    return bytes(enc)
