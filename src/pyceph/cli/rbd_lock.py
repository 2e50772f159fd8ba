"""`rbd lock ls|add|rm`: advisory image locks (src/tools/rbd/action/Lock.cc).

``lock ls`` prints ``There is 1 exclusive lock on this image.`` and a
``Locker ID Address`` table (or `locks` json/xml); ``lock add <spec> <id>
[--shared <tag>]`` and ``lock rm <spec> <id> <locker>`` take and break locks.
"""

from __future__ import annotations

import errno

from pyceph.cli.rbd_args import SNAP_NONE, SPEC_NONE, CliError, action, get_names
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.cli.rbd_format import get_formatter
from pyceph.common.output import TextTable

__all__: list[str] = []


@action(
    "lock list",
    alias="lock ls",
    groups=("image", "format"),
    description="Show locks held on an image.",
)
def do_lock_list(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    f = get_formatter(ctx.args)
    _, image = ctx.open_spec(spec, read_only=True)
    try:
        info = image.list_lockers()
    except ctx.errors as e:
        raise ctx.failed("listing locks failed", e)
    lockers = info.get("lockers", []) if isinstance(info, dict) else []
    exclusive = bool(info.get("exclusive", False)) if isinstance(info, dict) else False
    if f is not None:
        f.open_array_section("locks")
        for client, cookie, addr in lockers:
            f.open_object_section("lock")
            f.dump_string("id", cookie)
            f.dump_string("locker", client)
            f.dump_string("address", addr)
            f.close_section()
        f.close_section()
        f.flush(ctx.out)
        return 0
    if not lockers:
        return 0
    n = len(lockers)
    kind = "exclusive" if exclusive else "shared"
    ctx.out.write(
        f"There {'are' if n > 1 else 'is'} {n} {kind} lock{'s' if n > 1 else ''} on this image.\n"
    )
    if not exclusive:
        ctx.out.write(f"Lock tag: {info.get('tag', '')}\n")
    tbl = TextTable()
    for head in ("Locker", "ID", "Address"):
        tbl.define_column(head, "left", "left")
    for client, cookie, addr in lockers:
        tbl.add_row([client, cookie, addr])
    ctx.out.write(str(tbl))
    return 0


def _lock_id(ctx: Ctx) -> str:
    lock_id = ctx.args.next_positional()
    if not lock_id:
        raise CliError("rbd: lock id was not specified")
    return lock_id


@action("lock add", groups=("image",), options=("shared",), description="Create an advisory lock.")
def do_lock_add(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    lock_id = _lock_id(ctx)
    tag = ctx.args.get("shared")
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        if tag is not None:
            image.lock_shared(lock_id, tag)
        else:
            image.lock_exclusive(lock_id)
    except ctx.errors as e:
        n = errno_of(e)
        if n in (errno.EBUSY, errno.EEXIST):
            if tag is not None:
                msg = "rbd: lock is already held by someone else with a different tag"
            else:
                msg = "rbd: lock is already held by someone else"
        else:
            msg = f"rbd: taking lock failed: {cpp_strerror(n)}"
        raise ctx.fail(msg, n)
    return 0


@action(
    "lock remove", alias="lock rm", groups=("image",), description="Release a lock on an image."
)
def do_lock_remove(ctx: Ctx) -> int:
    spec = get_names(ctx.args, snap=SNAP_NONE, validation=SPEC_NONE)
    lock_id = _lock_id(ctx)
    locker = ctx.args.next_positional()
    if not locker:
        raise CliError("rbd: locker was not specified")
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        image.break_lock(locker, lock_id)
    except ctx.errors as e:
        raise ctx.failed("releasing lock failed", e)
    return 0
