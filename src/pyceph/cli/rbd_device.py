"""`rbd device map|unmap|list`: NBD exports of images (action/Device.cc, action/Nbd.cc).

pyceph has no kernel driver: the `nbd` device type (the default here) runs a
background NBD server through `pyceph.nbd.mapper` and prints its address
(``nbd://127.0.0.1:PORT/NAME`` or ``nbd+unix:///NAME?socket=PATH``) where upstream
prints ``/dev/nbdX``. ``-o socket=PATH`` / ``-o bind=HOST:PORT`` choose where it
listens. ``list`` prints rbd-nbd's ``id pool namespace image snap device`` table.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.cli.rbd_args import SNAP_PERMITTED, SPEC_NONE, CliError, action, get_names
from pyceph.cli.rbd_context import Ctx, cpp_strerror
from pyceph.cli.rbd_format import get_formatter
from pyceph.common.errors import CephError
from pyceph.common.output import TextTable

__all__ = ["parse_map_options"]

SUPPORTED_TYPES = ("nbd",)
DEFAULT_TYPE = "nbd"
_COLUMNS = ("id", "pool", "namespace", "image", "snap", "device")


def _device_type(ctx: Ctx) -> str:
    t = ctx.args.get("device-type", DEFAULT_TYPE)
    if t not in SUPPORTED_TYPES:
        raise CliError(f"rbd: device type {t} is not supported", errno.EOPNOTSUPP)
    return t


def parse_map_options(values: list[str]) -> dict[str, str]:
    """``-o a=b,c`` options (comma separated, repeatable) -> dict."""
    out: dict[str, str] = {}
    for v in values:
        for item in v.split(","):
            if item:
                key, _, val = item.partition("=")
                out[key] = val
    return out


def _mapper() -> Any:
    from pyceph.nbd import mapper

    return mapper


@action(
    "device map",
    alias="map",
    groups=("snap",),
    options=("device-type", "read-only", "exclusive", "options", "quiesce"),
    description="Map an image to a block device.",
)
def do_map(ctx: Ctx) -> int:
    _device_type(ctx)
    spec = get_names(ctx.args, snap=SNAP_PERMITTED, validation=SPEC_NONE)
    opts = parse_map_options(ctx.args.get("options", []))
    pool = spec.pool or ctx.default_pool()
    g = ctx.args.globals
    client = g.get("name") or (f"client.{g['id']}" if "id" in g else None)
    try:
        mapped = _mapper().map_image(
            g.get("conf"),
            pool,
            spec.namespace,
            spec.image,
            spec.snap or None,
            ctx.args.flag("read-only") or bool(spec.snap),
            bind=opts.get("bind"),
            socket_path=opts.get("socket"),
            exclusive=ctx.args.flag("exclusive"),
            client_name=client,
        )
    except CephError as e:
        detail = f"{e.message}: " if e.message else ""
        raise CliError(f"rbd-nbd: {detail}{cpp_strerror(e.errno)}", e.errno)
    ctx.out.write(mapped.device + "\n")
    return 0


@action(
    "device unmap",
    alias="unmap",
    groups=("snap",),
    options=("device-type", "options"),
    description="Unmap a rbd device.",
)
def do_unmap(ctx: Ctx) -> int:
    _device_type(ctx)
    target = ctx.args.peek_positional()
    if not target:
        spec = get_names(ctx.args, snap=SNAP_PERMITTED, validation=SPEC_NONE)
        target = (
            f"{spec.pool or ctx.default_pool()}/"
            + (f"{spec.namespace}/" if spec.namespace else "")
            + spec.image
            + (f"@{spec.snap}" if spec.snap else "")
        )
    try:
        _mapper().unmap(target)
    except CephError as e:
        raise CliError(f"rbd-nbd: {e.message or cpp_strerror(e.errno)}", e.errno)
    return 0


@action(
    "device list",
    alias="showmapped",
    groups=("format",),
    options=("device-type",),
    description="List mapped rbd images.",
)
def do_list(ctx: Ctx) -> int:
    _device_type(ctx)
    f = get_formatter(ctx.args)
    mapped = _mapper().list_mapped()
    if f is not None:
        f.open_array_section("devices")
        for m in mapped:
            j = m.to_json()
            f.open_object_section("device")
            for k in _COLUMNS:
                if k == "id":
                    f.dump_int(k, j[k])
                else:
                    f.dump_string(k, j[k])
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return 0
    if mapped:
        tbl = TextTable()
        for col in _COLUMNS:
            tbl.define_column(col, "left", "left")
        for m in mapped:
            j = m.to_json()
            tbl.add_row([j[k] for k in _COLUMNS])
        ctx.out.write(str(tbl))
    return 0
