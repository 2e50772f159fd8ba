"""Query parameters validated against a command descriptor (sans-I/O).

Upstream's handler gave the request's arguments to ceph_argparse's `validate`;
here each parameter is checked with `pyceph.common.cmdargs.ArgDesc.validate_word`
(the same per-type rules as the `ceph` CLI) and converted to its JSON type (an int
for CephInt and CephOsdName, a bool for CephBool, a list for ``n=N``). A flag may
be given bare: ``?yes_i_really_mean_it`` is true, ``?detail`` is the single choice
``detail``. Any problem raises `BadParams` with the reason, before anything is sent.
`tell_target` reads the ``<target>`` of a ``tell`` path as upstream's handler did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyceph.common.cmdargs import ArgDesc, ArgumentError

__all__ = ["BadParams", "parse_params", "tell_target"]

_OSD_NAME = ArgDesc("target", "CephOsdName")
_PGID = ArgDesc("target", "CephPgid")


class BadParams(ValueError):
    """The query does not fit the descriptor; the message says why."""


def _one(d: ArgDesc, raw: str) -> Any:
    if raw == "" and d.type == "CephBool":
        return True
    if raw == "" and d.type == "CephChoices" and len(d.strings) == 1:
        return d.strings[0]
    try:
        return d.validate_word(raw)
    except ArgumentError as e:
        raise BadParams(f"invalid {d.name}: {e}") from None


def parse_params(query: Sequence[tuple[str, str]], params: Sequence[ArgDesc]) -> dict[str, Any]:
    """The JSON arguments of a command from the query's (name, value) pairs."""
    by_name = {d.name: d for d in params}
    given: dict[str, list[str]] = {}
    for name, value in query:
        given.setdefault(name, []).append(value)
    unknown = [n for n in given if n not in by_name]
    if unknown:
        raise BadParams(f"unused arguments: {unknown}")
    out: dict[str, Any] = {}
    for d in params:
        values = given.get(d.name)
        if values is None:
            if d.req and d.type != "CephBool":
                raise BadParams(f"missing required parameter {d.name}({d.type_str()})")
            continue
        if d.N or (d.n is not None and d.n > 1):
            parts = values
            if d.type != "CephString":
                parts = [p for v in values for p in v.split(",")]
            typed = [_one(d, p) for p in parts]
            if d.n is not None and len(typed) != d.n:
                raise BadParams(f"{d.name}: saw {len(typed)} values, expected {d.n}")
            out[d.name] = typed
        elif len(values) > 1:
            raise BadParams(f"{d.name} given {len(values)} times, expected once")
        else:
            out[d.name] = _one(d, values[0])
    return out


def tell_target(word: str) -> tuple[str, int | str]:
    """``("osd", id)`` for an OSD id or name, ``("pg", pgid)`` for a PG id; else
    `BadParams` (upstream: "invalid osdid or pgid")."""
    try:
        osd = _OSD_NAME.validate_word(word)
        if isinstance(osd, int):
            return "osd", osd
    except ArgumentError:
        pass
    try:
        return "pg", str(_PGID.validate_word(word))
    except ArgumentError:
        raise BadParams("invalid osdid or pgid") from None
