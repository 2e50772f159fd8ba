"""`config-key set|put|get|ls|rm|del|exists|dump`: the monitor's opaque key/value store."""

from __future__ import annotations

import errno

from pyceph.common.errors import CephError

from . import Ctx, Reply, command


@command("config-key set", "config-key put")
def ck_set(ctx: Ctx) -> Reply:
    key = ctx.args["key"]
    val = ctx.get("val")
    data = val.encode() if val is not None else bytes(ctx.inbuf)
    ctx.state.config_key[key] = data
    return Reply(outs=f"set {key}", changed={"config-key"})


@command("config-key get")
def ck_get(ctx: Ctx) -> Reply:
    key = ctx.args["key"]
    v = ctx.state.config_key.get(key)
    if v is None:
        raise CephError(errno.ENOENT, f"error obtaining '{key}': (2) No such file or directory")
    return Reply(outbuf=bytes(v), outs=f"obtained '{key}'")


@command("config-key exists")
def ck_exists(ctx: Ctx) -> Reply:
    key = ctx.args["key"]
    if key not in ctx.state.config_key:
        raise CephError(errno.ENOENT, f"key '{key}' doesn't exist")
    return Reply(outs=f"key '{key}' exists")


@command("config-key rm", "config-key del")
def ck_rm(ctx: Ctx) -> Reply:
    key = ctx.args["key"]
    if key not in ctx.state.config_key:
        return Reply(outs=f"no such key '{key}'")
    del ctx.state.config_key[key]
    return Reply(outs="key deleted", changed={"config-key"})


@command("config-key ls", "config-key list")
def ck_ls(ctx: Ctx) -> Reply:
    return Reply(data=sorted(ctx.state.config_key))


@command("config-key dump")
def ck_dump(ctx: Ctx) -> Reply:
    prefix = ctx.get("key", "")
    data = {
        k: v.decode("utf-8", "replace")
        for k, v in sorted(ctx.state.config_key.items())
        if k.startswith(prefix)
    }
    return Reply(data=data)
