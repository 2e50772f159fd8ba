"""`config set|get|rm|dump|log`: the central configuration database (who -> option -> value)."""

from __future__ import annotations

import errno
from typing import Any

from pyceph.common.errors import CephError
from pyceph.common.options import OPTIONS, parse_value

from . import Ctx, Reply, command

SECTIONS = ("global", "mon", "mgr", "osd", "mds", "client")


def _check_who(who: str) -> None:
    base = who.split("/")[0]
    t = base.split(".")[0]
    if t not in SECTIONS and not base.startswith("client"):
        raise CephError(errno.EINVAL, f"unrecognized config target '{who}'")


def _normalize(name: str) -> str:
    return name.replace(" ", "_") if not name.startswith("mgr/") else name


def _level(opt: Any) -> str:
    lvl = getattr(opt, "level", None)
    return str(lvl) if lvl else "unknown"


@command("config set")
def config_set(ctx: Ctx) -> Reply:
    who, name, value = ctx.args["who"], _normalize(ctx.args["name"]), str(ctx.args["value"])
    _check_who(who)
    opt = OPTIONS.get(name)
    if opt is None and not name.startswith("mgr/") and not ctx.get("force", False):
        raise CephError(errno.EINVAL, f"unrecognized config option '{name}'")
    if opt is not None:
        try:
            parse_value(opt, value)
        except ValueError as e:
            raise CephError(errno.EINVAL, f"error parsing value: {e}") from None
    elif name.startswith("mgr/"):
        from .mgr import check_module_option

        check_module_option(ctx.state.mgrmap, name, value)
    sect = ctx.state.config_db.setdefault(who, {})
    if sect.get(name) == value:
        return Reply()
    sect[name] = value
    return Reply(changed={"config"})


@command("config rm")
def config_rm(ctx: Ctx) -> Reply:
    who, name = ctx.args["who"], _normalize(ctx.args["name"])
    sect = ctx.state.config_db.get(who, {})
    if name not in sect:
        return Reply()
    del sect[name]
    if not sect:
        del ctx.state.config_db[who]
    return Reply(changed={"config"})


def effective(ctx: Ctx, who: str) -> dict[str, str]:
    """Values that apply to `who` (global < type < type.id), as the mon would send."""
    db = ctx.state.config_db
    out: dict[str, str] = {}
    t = who.split(".")[0]
    for sect in ("global", t, who):
        out.update(db.get(sect, {}))
    return dict(sorted(out.items()))


@command("config get")
def config_get(ctx: Ctx) -> Reply:
    who = ctx.args["who"]
    key = ctx.get("key")
    _check_who(who)
    vals = effective(ctx, who)
    if key is None:
        data = {k: {"value": v, "section": _section_of(ctx, who, k)} for k, v in vals.items()}
        plain = "".join(f"{k:<40} {v}\n" for k, v in vals.items())
        return Reply(data=data, plain=plain)
    key = _normalize(key)
    if key in vals:
        return Reply(data=vals[key], plain=vals[key] + "\n")
    opt = OPTIONS.get(key)
    if opt is None:
        raise CephError(errno.ENOENT, f"unrecognized key '{key}'")
    d = getattr(opt, "default", "")
    dv = ("true" if d else "false") if isinstance(d, bool) else str(d)
    return Reply(data=d, plain=dv + "\n")


def _section_of(ctx: Ctx, who: str, key: str) -> str:
    db = ctx.state.config_db
    for sect in (who, who.split(".")[0], "global"):
        if key in db.get(sect, {}):
            return sect
    return "global"


@command("config dump")
def config_dump(ctx: Ctx) -> Reply:
    rows = []
    order = {s: i for i, s in enumerate(SECTIONS)}
    for who in sorted(ctx.state.config_db, key=lambda w: (order.get(w.split(".")[0], 9), w)):
        for name, value in sorted(ctx.state.config_db[who].items()):
            opt = OPTIONS.get(name)
            rows.append(
                {
                    "section": who,
                    "name": name,
                    "value": value,
                    "level": _level(opt) if opt is not None else "unknown",
                    "can_update_at_runtime": bool(getattr(opt, "runtime", False)),
                    "mask": "",
                }
            )
    plain = "WHO     MASK  LEVEL     OPTION  VALUE  RO\n" + "".join(
        f"{r['section']:<7} {'':<5} {r['level']:<9} {r['name']}  {r['value']}  "
        f"{'' if r['can_update_at_runtime'] else '*'}\n"
        for r in rows
    )
    return Reply(data=rows, plain=plain)
