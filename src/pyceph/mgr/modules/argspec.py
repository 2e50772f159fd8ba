"""Python annotations <-> command argument descriptors, for `CLICommand`.

Upstream's `ceph_argparse.CephArgtype.to_argdesc` / `cast_to` (16.2.15): a
handler's annotations become `name=...,type=...` words of the command signature
(the grammar `pyceph.common.cmdargs` parses), and the values of a validated
command dict are cast back to the annotated types before the handler runs.

    str -> CephString, int -> CephInt, float -> CephFloat, bool -> CephBool,
    Enum subclass -> CephChoices,strings=a|b, Optional[T] -> T,req=false,
    List[T] / Sequence[T] -> T,n=N, Tuple[T, ...] -> T,n=<len>
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Sequence
from typing import Any, get_args, get_origin

__all__ = ["annotation_to_argdesc", "cast_to"]

_SIMPLE = {str: "CephString", int: "CephInt", float: "CephFloat", bool: "CephBool"}


def _is_optional(tp: Any) -> tuple[bool, Any]:
    """(True, T) for Optional[T] / T | None."""
    origin = get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = get_args(tp)
        if len(args) == 2 and args[1] is type(None):
            return True, args[0]
    return False, tp


def _is_sequence(origin: Any) -> bool:
    return origin in (list, Sequence, typing.List, typing.Sequence)  # noqa: UP006


def annotation_to_argdesc(tp: Any, name: str, has_default: bool) -> str:
    """The descriptor word for argument `name` annotated `tp`.

    Keys come in upstream's order (`name`, then `req`/`n` as they are decided,
    then `strings`, then `type`), so the words match upstream's COMMANDS.
    """
    return _to_argdesc(tp, {"name": name}, has_default)


def _to_argdesc(tp: Any, attrs: dict[str, str], has_default: bool = False) -> str:
    if has_default:
        attrs["req"] = "false"
    if tp in _SIMPLE:
        return _finish(attrs, _SIMPLE[tp])
    argdesc = getattr(tp, "argdesc", None)  # a CephArgtype-like instance
    if not isinstance(tp, type) and callable(argdesc):
        return str(argdesc(attrs))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        attrs["strings"] = "|".join(str(e.value) for e in tp)
        return _finish(attrs, "CephChoices")
    origin = get_origin(tp)
    if _is_sequence(origin):
        (elem,) = get_args(tp)
        attrs["n"] = "N"
        return _to_argdesc(elem, attrs)
    if origin is tuple:
        elems = get_args(tp)
        if not elems or elems.count(elems[0]) != len(elems):
            raise ValueError(f"all elements in {tp} should be identical")
        attrs["n"] = str(len(elems))
        return _to_argdesc(elems[0], attrs)
    optional, inner = _is_optional(tp)
    if optional:
        return _to_argdesc(inner, attrs, True)
    raise ValueError(f"unknown type '{tp}': '{attrs}'")


def _finish(attrs: dict[str, str], type_name: str) -> str:
    attrs["type"] = type_name
    return ",".join(f"{k}={v}" for k, v in attrs.items())


def cast_to(tp: Any, v: Any) -> Any:
    """Cast one command value to the annotated type, as upstream (bool('false') is True)."""
    if tp in (str, int, float, bool):
        return tp(v)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(v)
    origin = get_origin(tp)
    if _is_sequence(origin):
        (elem,) = get_args(tp)
        return [cast_to(elem, e) for e in v]
    if origin is tuple:
        elem = get_args(tp)[0]
        return tuple(cast_to(elem, e) for e in v)
    optional, inner = _is_optional(tp)
    if optional:
        return cast_to(inner, v)
    if not isinstance(tp, type) and callable(getattr(tp, "argdesc", None)):
        return v  # a CephArgtype instance: the validated value as it came
    raise ValueError(f"unknown type '{tp}': '{v}'")
