"""Configuration overrides as an open image applies them (librbd ImageCtx::apply_metadata):
an option `rbd_x` may be overridden by the metadata key `conf_rbd_x` of the pool
(`rbd_info`) and, above it, of the image header. `Image.conf` reads through these.
"""

from __future__ import annotations

from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.common.options import OPTIONS, find_option, parse_value

#: The metadata key prefix of a configuration override.
CONF_PREFIX = "conf_"


#: The services whose `rbd_*` options librbd's config schema holds (the rbd-mirror
#: daemon's options are in the client's schema too: a pool may override them).
RBD_SERVICES = frozenset({"rbd", "rbd-mirror"})


def rbd_option_names() -> list[str]:
    """Every `rbd_*` option of the option table (librbd's and rbd-mirror's), sorted."""
    return sorted(
        n for n, o in OPTIONS.items() if n.startswith("rbd_") and RBD_SERVICES & set(o.services)
    )


def overrides_of(metadata: list[tuple[str, str]]) -> dict[str, str]:
    """{option: text} of the `conf_` keys of a metadata listing (rbd options only)."""
    names = set(rbd_option_names())
    out = {}
    for key, value in metadata:
        if key.startswith(CONF_PREFIX) and key[len(CONF_PREFIX) :] in names:
            out[key[len(CONF_PREFIX) :]] = value
    return out


def typed(name: str, text: str) -> Any:
    """An override's text as the option's type (CephError EINVAL when it does not parse)."""
    opt = find_option(name)
    return parse_value(opt, text) if opt is not None else text


async def pool_overrides(ioctx: IoCtx) -> dict[str, str]:
    """The pool's overrides."""
    from pyceph.rbdlib import pool

    return overrides_of(await pool.pool_metadata_list(ioctx))
