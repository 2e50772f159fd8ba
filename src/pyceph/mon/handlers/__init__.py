"""Monitor command handlers, one module per command family, registered by prefix.

A handler takes a `Ctx` (state, validated args, inbuf, caller, time, format) and
returns a `Reply`, or raises `CephError`; it must validate everything before it
mutates state so that a failed command changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyceph.mon.state import MonState


@dataclass
class Ctx:
    """One command invocation as a handler sees it."""

    state: MonState
    args: dict[str, Any]
    inbuf: bytes
    entity: str
    now: float
    fmt: str | None  # "json" | "json-pretty" | "plain" | None (default: plain)
    source: str = ""  # the caller as the audit log names it: "client.4123 10.0.0.1:0/99"

    def get(self, name: str, default: Any = None) -> Any:
        v = self.args.get(name)
        return default if v is None else v

    @property
    def is_json(self) -> bool:
        return self.fmt is not None and self.fmt != "plain"


@dataclass
class Reply:
    """A handler's answer: structured `data` (rendered per format) or raw `outbuf`."""

    data: Any = None
    plain: str | None = None
    outbuf: bytes | None = None
    outs: str = ""
    ret: int = 0
    changed: set[str] = field(default_factory=set)


Handler = Callable[[Ctx], Reply]
HANDLERS: dict[str, Handler] = {}


def command(*prefixes: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more command prefixes."""

    def deco(fn: Handler) -> Handler:
        for p in prefixes:
            HANDLERS[p] = fn
        return fn

    return deco


def load_all() -> dict[str, Handler]:
    """Import every handler module (registration happens at import)."""
    from . import (  # noqa: F401
        auth,
        config,
        config_key,
        crush,
        mgr,
        mon,
        osd,
        pool,
        pool_set,
        status,
        tier,
    )

    return HANDLERS
