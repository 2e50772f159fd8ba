"""`rbd namespace create|ls|rm`: RBD namespaces of a pool (action/Namespace.cc)."""

from __future__ import annotations

from pyceph.cli.rbd_args import CliError, action, get_pool_and_namespace
from pyceph.cli.rbd_context import Ctx
from pyceph.cli.rbd_format import get_formatter
from pyceph.common.output import TextTable

__all__: list[str] = []


def _pool_ns(ctx: Ctx) -> tuple[str, str]:
    pool, ns = get_pool_and_namespace(ctx.args)
    if not ns:
        raise CliError("rbd: namespace name was not specified")
    return pool, ns


@action("namespace create", groups=("pool-ns",), description="Create an RBD image namespace.")
def do_namespace_create(ctx: Ctx) -> int:
    pool, ns = _pool_ns(ctx)
    ioctx = ctx.open_ioctx(pool)
    try:
        ctx.rbd.RBD().namespace_create(ioctx, ns)
    except ctx.errors as e:
        raise ctx.failed("failed to created namespace", e)
    return 0


@action(
    "namespace remove",
    alias="namespace rm",
    groups=("pool-ns",),
    description="Remove an RBD image namespace.",
)
def do_namespace_remove(ctx: Ctx) -> int:
    pool, ns = _pool_ns(ctx)
    ioctx = ctx.open_ioctx(pool)
    try:
        ctx.rbd.RBD().namespace_remove(ioctx, ns)
    except ctx.errors as e:
        raise ctx.failed("failed to remove namespace", e)
    return 0


@action(
    "namespace list",
    alias="namespace ls",
    groups=("pool", "format"),
    description="List RBD image namespaces.",
)
def do_namespace_list(ctx: Ctx) -> int:
    pool, _ = get_pool_and_namespace(ctx.args)
    f = get_formatter(ctx.args)
    ioctx = ctx.open_ioctx(pool)
    try:
        names = sorted(ctx.rbd.RBD().namespace_list(ioctx))
    except ctx.errors as e:
        raise ctx.failed("failed to list namespaces", e)
    if f is not None:
        f.open_array_section("namespaces")
        for n in names:
            f.open_object_section("namespace")
            f.dump_string("name", n)
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
    elif names:
        tbl = TextTable()
        tbl.define_column("NAME", "left", "left")
        for n in names:
            tbl.add_row([n])
        ctx.out.write(str(tbl))
    return 0
