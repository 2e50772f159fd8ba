"""Argument helpers: upstream's exported string helpers and Cython-style type checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain
from typing import Any


def cstr(val: Any, name: str, encoding: str = "utf-8", opt: bool = False) -> bytes | None:
    """Encode a str (bytes pass through); TypeError for anything else (None if `opt`)."""
    if opt and val is None:
        return None
    if isinstance(val, bytes):
        return val
    if isinstance(val, str):
        return val.encode(encoding)
    raise TypeError(f"{name} must be a string")


def cstr_list(list_str: Iterable[Any], name: str, encoding: str = "utf-8") -> list[bytes]:
    """`cstr` applied to every item."""
    return [cstr(s, name, encoding) for s in list_str]  # type: ignore[misc]


def decode_cstr(val: bytes | None, encoding: str = "utf-8") -> str | None:
    """Decode bytes to str; None stays None."""
    if val is None:
        return None
    return val.decode(encoding)


def flatten_dict(d: Mapping[str, str], name: str) -> bytes | None:
    """Keys and values joined as NUL-terminated strings (librados' dict encoding)."""
    items = chain.from_iterable(d.items())
    return cstr("".join(i + "\0" for i in items), name)


# -- Cython-style checks of typed arguments ----------------------------------------


def check_str(val: Any, name: str) -> str:
    """Like a Cython `unicode name` argument followed by cstr(): str only."""
    if val is None:
        raise TypeError(f"{name} must be a string")
    if not isinstance(val, str):
        raise TypeError(
            f"Argument '{name}' has incorrect type (expected str, got {type(val).__name__})"
        )
    return val


def check_opt_str(val: Any, name: str) -> str | None:
    """A `str` argument that may be None."""
    if val is None:
        return None
    return check_str(val, name)


def check_bytes(val: Any, name: str) -> bytes:
    """Like a Cython `bytes name` argument used as `char *`: bytes only."""
    if val is None:
        raise TypeError("expected bytes, NoneType found")
    if not isinstance(val, bytes):
        raise TypeError(
            f"Argument '{name}' has incorrect type (expected bytes, got {type(val).__name__})"
        )
    return val


def check_int(val: Any, name: str) -> int:
    """An integer argument converted to a C integer (bool is an int, as in Cython)."""
    if isinstance(val, int):
        return int(val)
    try:
        return val.__index__()  # type: ignore[no-any-return]
    except AttributeError:
        raise TypeError(f"an integer is required (argument '{name}')") from None


def check_uint(val: Any, name: str) -> int:
    """A non-negative integer argument (size_t/uint64_t in upstream)."""
    v = check_int(val, name)
    if v < 0:
        raise OverflowError(f"can't convert negative value to unsigned int ({name})")
    return v


def check_obj_type(val: Any, cls: type, name: str) -> Any:
    """An argument typed with one of the module's classes (None is rejected)."""
    if not isinstance(val, cls):
        raise TypeError(
            f"Argument '{name}' has incorrect type "
            f"(expected rados.{cls.__name__}, got {type(val).__name__})"
        )
    return val


def check_callable(val: Any, name: str) -> Any:
    """A callback argument: None or callable."""
    if val is not None and not callable(val):
        raise TypeError(f"{name} must be callable or None")
    return val
