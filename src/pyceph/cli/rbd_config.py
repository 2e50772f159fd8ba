"""`rbd image-meta ...` and `rbd config image|pool ...`: image metadata and config overrides.

Upstream: src/tools/rbd/action/{ImageMeta,Config}.cc. Config keys must be rbd
options (``rbd: not rbd option: x``, ``rbd: invalid config key: x``); values are
stored as image/pool metadata by the rbd module; list shows ``Name Value Source``.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.cli.rbd_args import (
    SNAP_NONE,
    SPEC_NONE,
    CliError,
    action,
    get_names,
    get_pool_and_namespace,
)
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import get_formatter
from pyceph.common.output import TextTable

__all__ = ["CONFIG_SOURCES"]

#: RBD_CONFIG_SOURCE_* as `config ... list` prints them
CONFIG_SOURCES = {0: "config", 1: "pool", 2: "image"}


def _errno(ctx: Ctx, e: BaseException) -> int:
    return errno.ENOENT if isinstance(e, KeyError) else errno_of(e)


def _errs(ctx: Ctx) -> tuple[type[BaseException], ...]:
    return (*ctx.errors, KeyError)


# ------------------------------------------------------------------ image-meta
def _image(ctx: Ctx, read_only: bool) -> Any:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    return spec


def _meta_key(ctx: Ctx) -> str:
    key = ctx.args.next_positional()
    if not key:
        raise CliError("rbd: metadata key was not specified")
    return key


@action(
    "image-meta list",
    alias="image-meta ls",
    groups=("image", "format"),
    description="Image metadata list keys with values.",
)
def do_meta_list(ctx: Ctx) -> int:
    spec = _image(ctx, True)
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        pairs = [(k, v) for k, v in image.metadata_list()]
    except ctx.errors as e:
        n = errno_of(e)
        raise ctx.fail(
            f"failed to list metadata of image : {cpp_strerror(n)}\n"
            f"rbd: listing metadata failed: {cpp_strerror(n)}",
            n,
        )
    if f is not None:
        f.open_object_section("metadatas")
        for k, v in pairs:
            f.dump_string(k, _text(v))
        f.close_section()
        f.flush(ctx.out)
        return 0
    if pairs:
        one = len(pairs) == 1
        ctx.out.write(
            f"There {'is' if one else 'are'} {len(pairs)} "
            f"{'metadatum' if one else 'metadata'} on this image:\n\n"
        )
        tbl = TextTable()
        tbl.define_column("Key", "left", "left")
        tbl.define_column("Value", "left", "left")
        for k, v in pairs:
            tbl.add_row([k, _text(v)])
        ctx.out.write(str(tbl))
    return 0


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


@action(
    "image-meta get",
    groups=("image",),
    description="Image metadata get the value associated with the key.",
)
def do_meta_get(ctx: Ctx) -> int:
    spec = _image(ctx, True)
    key = _meta_key(ctx)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        value = image.metadata_get(key)
    except _errs(ctx) as e:
        n = _errno(ctx, e)
        raise ctx.fail(
            f"failed to get metadata {key} of image : {cpp_strerror(n)}\n"
            f"rbd: getting metadata failed: {cpp_strerror(n)}",
            n,
        )
    ctx.out.write(_text(value) + "\n")
    return 0


@action("image-meta set", groups=("image",), description="Image metadata set key with value.")
def do_meta_set(ctx: Ctx) -> int:
    spec = _image(ctx, False)
    key = _meta_key(ctx)
    value = ctx.args.next_positional()
    if not value:
        raise CliError("rbd: metadata value was not specified")
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.metadata_set(key, value)
    except ctx.errors as e:
        n = errno_of(e)
        raise ctx.fail(
            f"failed to set metadata {key} of image : {cpp_strerror(n)}\n"
            f"rbd: setting metadata failed: {cpp_strerror(n)}",
            n,
        )
    return 0


@action(
    "image-meta remove",
    alias="image-meta rm",
    groups=("image",),
    description="Image metadata remove the key and value associated.",
)
def do_meta_remove(ctx: Ctx) -> int:
    spec = _image(ctx, False)
    key = _meta_key(ctx)
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.metadata_remove(key)
    except _errs(ctx) as e:
        n = _errno(ctx, e)
        if n == errno.ENOENT:
            msg = f"rbd: no existing metadata key {key} of image : {cpp_strerror(n)}"
        else:
            msg = f"failed to remove metadata {key} of image : {cpp_strerror(n)}"
        raise ctx.fail(f"{msg}\nrbd: removing metadata failed: {cpp_strerror(n)}", n)
    return 0


# ------------------------------------------------------------------ config
def _config_key(ctx: Ctx) -> str:
    key = ctx.args.next_positional()
    if not key:
        raise CliError("rbd: config key was not specified")
    if not key.startswith("rbd_"):
        raise CliError(f"rbd: not rbd option: {key}")
    from pyceph.common.options import find_option

    if find_option(key) is None:
        raise CliError(f"rbd: invalid config key: {key}")
    return key


def _list_config(ctx: Ctx, entries: list[dict[str, Any]]) -> None:
    f = get_formatter(ctx.args)
    if f is not None:
        f.open_array_section("config")
        for e in entries:
            f.open_object_section("option")
            f.dump_string("name", e["name"])
            f.dump_string("value", _text(e["value"]))
            f.dump_string("source", CONFIG_SOURCES.get(e["source"], "unknown"))
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return
    one = len(entries) == 1
    ctx.out.write(f"There {'is' if one else 'are'} {len(entries)} value{'' if one else 's'}:\n")
    tbl = TextTable()
    for head in ("Name", "Value", "Source"):
        tbl.define_column(head, "left", "left")
    for e in entries:
        tbl.add_row([e["name"], _text(e["value"]), CONFIG_SOURCES.get(e["source"], "unknown")])
    ctx.out.write(str(tbl))


@action(
    "config image list",
    alias="config image ls",
    groups=("image", "format"),
    description="List image-level RBD configuration overrides.",
)
def do_config_image_list(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        entries = sorted(image.config_list(), key=lambda e: e["name"])
    except ctx.errors as e:
        raise ctx.failed("failed to list config", e)
    _list_config(ctx, entries)
    return 0


@action(
    "config image get", groups=("image",), description="Get an image-level configuration override."
)
def do_config_image_get(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    key = _config_key(ctx)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        value = image.config_get(key)
    except _errs(ctx) as e:
        n = _errno(ctx, e)
        if n == errno.ENOENT:
            raise ctx.fail(f"rbd: {key} is not set", n)
        raise ctx.fail(f"rbd: failed to get {key}: {cpp_strerror(n)}", n)
    ctx.out.write(_text(value) + "\n")
    return 0


@action(
    "config image set", groups=("image",), description="Set an image-level configuration override."
)
def do_config_image_set(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    key = _config_key(ctx)
    value = ctx.args.next_positional()
    if not value:
        raise CliError("rbd: config value was not specified")
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.config_set(key, value)
    except ctx.errors as e:
        raise ctx.failed(f"failed to set {key}", e)
    return 0


@action(
    "config image remove",
    alias="config image rm",
    groups=("image",),
    description="Remove an image-level configuration override.",
)
def do_config_image_remove(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    key = _config_key(ctx)
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.config_remove(key)
    except _errs(ctx) as e:
        n = _errno(ctx, e)
        raise ctx.fail(f"rbd: failed to remove {key}: {cpp_strerror(n)}", n)
    return 0


def _pool_ioctx(ctx: Ctx) -> Any:
    pool, ns = get_pool_and_namespace(ctx.args)
    return ctx.open_ioctx(pool, ns)


@action(
    "config pool list",
    alias="config pool ls",
    groups=("pool-ns", "format"),
    description="List pool-level RBD configuration overrides.",
)
def do_config_pool_list(ctx: Ctx) -> int:
    get_formatter(ctx.args)
    ioctx = _pool_ioctx(ctx)
    try:
        entries = sorted(ctx.rbd.RBD().config_list(ioctx), key=lambda e: e["name"])
    except ctx.errors as e:
        raise ctx.failed("failed to list config", e)
    _list_config(ctx, entries)
    return 0


@action(
    "config pool get", groups=("pool-ns",), description="Get a pool-level configuration override."
)
def do_config_pool_get(ctx: Ctx) -> int:
    ioctx = _pool_ioctx(ctx)
    key = _config_key(ctx)
    try:
        value = ctx.rbd.RBD().config_get(ioctx, key)
    except _errs(ctx) as e:
        n = _errno(ctx, e)
        if n == errno.ENOENT:
            raise ctx.fail(f"rbd: {key} is not set", n)
        raise ctx.fail(f"rbd: failed to get {key}: {cpp_strerror(n)}", n)
    ctx.out.write(_text(value) + "\n")
    return 0


@action(
    "config pool set", groups=("pool-ns",), description="Set a pool-level configuration override."
)
def do_config_pool_set(ctx: Ctx) -> int:
    ioctx = _pool_ioctx(ctx)
    key = _config_key(ctx)
    value = ctx.args.next_positional()
    if not value:
        raise CliError("rbd: config value was not specified")
    try:
        ctx.rbd.RBD().config_set(ioctx, key, value)
    except ctx.errors as e:
        raise ctx.failed(f"failed to set {key}", e)
    return 0


@action(
    "config pool remove",
    alias="config pool rm",
    groups=("pool-ns",),
    description="Remove a pool-level configuration override.",
)
def do_config_pool_remove(ctx: Ctx) -> int:
    ioctx = _pool_ioctx(ctx)
    key = _config_key(ctx)
    try:
        ctx.rbd.RBD().config_remove(ioctx, key)
    except _errs(ctx) as e:
        n = _errno(ctx, e)
        raise ctx.fail(f"rbd: failed to remove {key}: {cpp_strerror(n)}", n)
    return 0
