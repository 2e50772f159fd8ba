"""msgpack argument decoding for class methods: malformed input is -EINVAL, as upstream's
decode failures are.

Nothing the input announces is built before it is checked: strings, binaries, arrays and
maps are bounded by the input's own length (a count or length larger than the bytes left
is refused before allocation) and extension types are refused outright.
"""

from __future__ import annotations

import errno
from typing import Any

import msgpack

from pyceph.cls.context import ClsError
from pyceph.common.packing import unpack_bounded


def decode_map(indata: bytes) -> dict[str, Any]:
    """The msgpack map in `indata`; EINVAL when it is not one."""
    try:
        v = unpack_bounded(indata, max_items=len(indata))
    except Exception:  # msgpack raises ValueError, ExtraData, StackError, ...
        raise ClsError(errno.EINVAL, "cannot decode input")
    if not isinstance(v, dict):
        raise ClsError(errno.EINVAL, "input is not a map")
    return v


def encode(obj: Any) -> bytes:
    """msgpack bytes of `obj` (str as str, bytes as bin)."""
    return msgpack.packb(obj, use_bin_type=True)


def get_str(d: dict[str, Any], key: str, default: str = "") -> str:
    """A string field (bytes are taken as UTF-8); EINVAL on another type."""
    v = d.get(key, default)
    if isinstance(v, bytes):
        try:
            return v.decode()
        except UnicodeDecodeError:
            raise ClsError(errno.EINVAL, f"{key}: not UTF-8")
    if not isinstance(v, str):
        raise ClsError(errno.EINVAL, f"{key}: not a string")
    return v


def get_int(d: dict[str, Any], key: str, default: int = 0) -> int:
    """An integer field; EINVAL on another type."""
    v = d.get(key, default)
    if not isinstance(v, int):
        raise ClsError(errno.EINVAL, f"{key}: not an integer")
    return int(v)


def get_float(d: dict[str, Any], key: str, default: float = 0.0) -> float:
    """A number field; EINVAL on another type."""
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ClsError(errno.EINVAL, f"{key}: not a number")
    return float(v)


def get_bool(d: dict[str, Any], key: str, default: bool = False) -> bool:
    """A boolean field (0/1 accepted); EINVAL on another type."""
    v = d.get(key, default)
    if not isinstance(v, bool | int):
        raise ClsError(errno.EINVAL, f"{key}: not a boolean")
    return bool(v)


def get_str_list(d: dict[str, Any], key: str) -> list[str]:
    """A list-of-strings field; EINVAL on another type."""
    v = d.get(key, [])
    if not isinstance(v, list | tuple):
        raise ClsError(errno.EINVAL, f"{key}: not a list")
    return [get_str({"x": x}, "x") for x in v]
