"""Argument helpers of the `rbd` facade: upstream's exported string helpers, the
`requires_not_closed` decorator, and the checks Cython applies when an argument is
converted to a C type (`rados.Ioctx`, `uint64_t`, `uint32_t`, `int`, `bint`).

Upstream (`src/pybind/rbd/rbd.pyx`): unlike `rados.cstr`, `rbd.cstr` raises
`rbd.InvalidArgument` (without an errno) for a value that is neither str nor bytes; a
non-`rados.Ioctx` handed to `convert_ioctx` is a TypeError ("Cannot convert str to
rados.Ioctx"); C integer conversions follow Cython 0.29 (what python3-rbd 16.2.15 is
built with): ints and objects with `__int__` (floats truncate) are accepted, anything
else is "an integer is required", out-of-range values an OverflowError with Cython's
texts.  `decode_cstr` is `rados._util`'s, reused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from rados._util import decode_cstr
from rbd._errors import InvalidArgument

__all__ = [
    "c_double",
    "c_i64",
    "c_int",
    "c_size",
    "c_u32",
    "c_u64",
    "c_u8",
    "check_ioctx",
    "check_rados",
    "cstr",
    "decode_cstr",
    "requires_not_closed",
    "str_of",
]

F = TypeVar("F", bound=Callable[..., Any])

#: the largest uint64_t (what librbd reports as "no parent pool", "no snap limit")
U64_MAX = 2**64 - 1


def cstr(val: Any, name: str, encoding: str = "utf-8", opt: bool = False) -> bytes | None:
    """Create a byte string from a Python string (bytes pass through; None if `opt`).

    Anything else raises `rbd.InvalidArgument('<name> must be a string')`.
    """
    if opt and val is None:
        return None
    if isinstance(val, bytes):
        return val
    if isinstance(val, str):
        return val.encode(encoding)
    raise InvalidArgument(f"{name} must be a string")


def str_of(val: bytes | None) -> str | None:
    """The str the engine takes for a name `cstr` produced (None stays None)."""
    if val is None:
        return None
    return val.decode("utf-8", "surrogateescape")


def requires_not_closed(f: F) -> F:
    """Decorator: call `self.require_not_closed()` first (like upstream, no functools.wraps,
    so the wrapped method's signature reads `(self, *args, **kwargs)`)."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.require_not_closed()
        return f(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def check_ioctx(ioctx: Any) -> Any:
    """`convert_ioctx(rados.Ioctx ioctx)`: anything but a `rados.Ioctx` is a TypeError."""
    import rados

    if not isinstance(ioctx, rados.Ioctx):
        raise TypeError(f"Cannot convert {type(ioctx).__name__} to rados.Ioctx")
    return ioctx


def check_rados(handle: Any) -> Any:
    """`convert_rados(rados.Rados rados)`: anything but a `rados.Rados` is a TypeError."""
    import rados

    if not isinstance(handle, rados.Rados):
        raise TypeError(f"Cannot convert {type(handle).__name__} to rados.Rados")
    return handle


# -- C integer conversions, with Cython 0.29's rules and messages --------------------------


def _as_int(val: Any) -> int:
    """An int, or what `__int__` makes of a number (floats truncate, as in Cython 0.29);
    str, bytes, None and `__index__`-only objects are a TypeError."""
    if isinstance(val, int):
        return int(val)
    to_int = getattr(type(val), "__int__", None)
    if to_int is None:
        raise TypeError("an integer is required")
    return int(to_int(val))


def _unsigned(val: Any, bits: int, ctype: str, too_large: str) -> int:
    v = _as_int(val)
    if v < 0:
        raise OverflowError(f"can't convert negative value to {ctype}")
    if v >> bits:
        raise OverflowError(too_large)
    return v


def c_u64(val: Any) -> int:
    """A `uint64_t` argument."""
    return _unsigned(val, 64, "uint64_t", "Python int too large to convert to C unsigned long")


def c_size(val: Any) -> int:
    """A `size_t` argument."""
    return _unsigned(val, 64, "size_t", "Python int too large to convert to C unsigned long")


def c_u32(val: Any) -> int:
    """A `uint32_t` argument."""
    return _unsigned(val, 32, "uint32_t", "value too large to convert to uint32_t")


def c_u8(val: Any) -> int:
    """A `uint8_t` argument (librbd's boolean flags such as include_parent)."""
    return _unsigned(val, 8, "uint8_t", "value too large to convert to uint8_t")


def c_i64(val: Any) -> int:
    """An `int64_t` argument."""
    v = _as_int(val)
    if not -(2**63) <= v < 2**63:
        raise OverflowError("Python int too large to convert to C long")
    return v


def c_int(val: Any) -> int:
    """A C `int` argument (also enums such as rbd_lock_mode_t)."""
    v = c_i64(val)
    if not -(2**31) <= v < 2**31:
        raise OverflowError("value too large to convert to int")
    return v


def c_double(val: Any) -> float:
    """A C `float`/`double` argument."""
    return float(val)
