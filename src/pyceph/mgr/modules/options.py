"""MODULE_OPTIONS: their schema as the MgrMap shows it, typed values, validation.

Sans-I/O; values are parsed and bounded by the project's one option parser
(`pyceph.common.options.parse_value`, upstream's `Option::parse_value`). Upstream: `PyModule::load_options` (src/mgr/PyModule.cc) turns each
MODULE_OPTIONS entry into a `ModuleOption` (type label, default/min/max as text,
enum_allowed, tags, see_also) that `ceph mgr module ls` dumps;
`PyModuleConfig`/`get_typed_option_value` give modules typed values; the
monitor's ConfigMonitor checks values against the schema with `Option::validate`.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.options import Option, parse_value

__all__ = [
    "OPTION_TYPES",
    "module_option_schema",
    "parse_typed",
    "validate_value",
]

#: Option type labels a module may declare (upstream's OptionTypeLabel).
OPTION_TYPES = ("uint", "int", "str", "float", "bool", "addr", "addrvec", "uuid", "size", "secs")
#: ModuleOption flags upstream reports for every module option (FLAG_RUNTIME).
MODULE_OPTION_FLAGS = 1


def _text(v: Any) -> str:
    """Upstream stringifies Python values with str() (so True -> 'True')."""
    return "" if v is None else str(v)


def module_option_schema(opt: Mapping[str, Any]) -> dict[str, Any]:
    """One option as `available_modules[].module_options[name]` shows it."""
    return {
        "name": str(opt["name"]),
        "type": str(opt.get("type", "str")),
        "level": str(opt.get("level", "advanced")),
        "flags": MODULE_OPTION_FLAGS,
        "default_value": _text(opt.get("default")),
        "min": _text(opt.get("min")),
        "max": _text(opt.get("max")),
        "enum_allowed": sorted(str(x) for x in opt.get("enum_allowed", []) or []),
        "desc": str(opt.get("desc", "") or ""),
        "long_desc": str(opt.get("long_desc", "") or ""),
        "tags": [str(x) for x in opt.get("tags", []) or []],
        "see_also": [str(x) for x in opt.get("see_also", []) or []],
    }


def _as_option(schema: Mapping[str, Any]) -> Option:
    """A module option as an entry of the option table (for upstream's parser)."""
    otype = str(schema.get("type", "str"))
    if otype not in OPTION_TYPES:
        otype = "str"
    probe = Option(str(schema.get("name", "")), otype, None)

    def bound(v: Any) -> Any:
        if v in (None, ""):
            return None
        return parse_value(probe, str(v)) if otype != "str" else v

    enum = tuple(str(x) for x in schema.get("enum_allowed", []) or []) or None
    return Option(
        probe.name, otype, None, min=bound(schema.get("min")), max=bound(schema.get("max")),
        enum_allowed=enum,
    )  # fmt: skip


def parse_typed(otype: str, text: str) -> Any:
    """The module's view of a stored value: int, float, bool or str by `otype`.

    Raises ValueError when the text does not parse as that type.
    """
    return parse_value(_as_option({"name": "", "type": otype}), text)


def validate_value(schema: Mapping[str, Any], text: str) -> None:
    """Upstream `Option::parse_value` for a module option: type, min/max, enum_allowed.

    Raises `CephError(EINVAL, ...)` with the monitor's message ("error parsing value: ...").
    """
    try:
        parse_value(_as_option(schema), text)
    except ValueError as e:
        raise CephError(errno.EINVAL, f"error parsing value: {e}")
