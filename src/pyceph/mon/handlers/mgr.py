"""`mgr module ls|enable|disable`, `mgr fail`, `mgr metadata|count-metadata`: which
mgr modules run, and which mgrs there are (upstream MgrMonitor).

The MgrMap holds the enabled `modules` (changed only by these commands), the
`available_modules` the active mgr reported in its beacon (name, can_run,
error_string, module_options) — each standby reports its own — and the
always-on modules per release, which cannot be disabled.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph import CEPH_RELEASE

from . import Ctx, Reply, command

__all__ = ["ALWAYS_ON_MODULES", "always_on", "check_module_option", "module_info"]

#: Upstream's always-on modules by release (MgrMonitor.cc); `mgr dump` shows them.
ALWAYS_ON_MODULES: dict[str, list[str]] = {
    "nautilus": ["balancer", "crash", "devicehealth", "orchestrator_cli", "progress",
                 "rbd_support", "status", "volumes"],
    "octopus": ["balancer", "crash", "devicehealth", "orchestrator", "pg_autoscaler",
                "progress", "rbd_support", "status", "telemetry", "volumes"],
    "pacific": ["balancer", "crash", "devicehealth", "orchestrator", "pg_autoscaler",
                "progress", "rbd_support", "status", "telemetry", "volumes"],
}  # fmt: skip


def always_on() -> set[str]:
    """The always-on modules of this release (MgrMap::get_always_on_modules)."""
    return set(ALWAYS_ON_MODULES.get(CEPH_RELEASE, []))


def module_info(entry: Any) -> dict[str, Any]:
    """One available module as MgrMap ModuleInfo::dump (tolerates a bare name)."""
    if isinstance(entry, str):
        return {"name": entry, "can_run": True, "error_string": "", "module_options": {}}
    return {
        "name": str(entry.get("name", "")),
        "can_run": bool(entry.get("can_run", True)),
        "error_string": str(entry.get("error_string", "")),
        "module_options": dict(entry.get("module_options", {})),
    }


def _available(mm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    infos = (module_info(e) for e in mm.get("available_modules", []))
    return {i["name"]: i for i in infos}


def _all_support(mm: dict[str, Any], module: str) -> bool:
    """The active mgr and every standby can load `module` (MgrMap::all_support_module)."""
    if module not in _available(mm):
        return False
    for sb in mm.get("standbys", []):
        names = {module_info(e)["name"] for e in sb.get("available_modules", [])}
        if module not in names:
            return False
    return True


@command("mgr module ls")
def module_ls(ctx: Ctx) -> Reply:
    mm = ctx.state.mgrmap
    on = always_on()
    enabled = set(mm.get("modules", []))
    data = {
        "always_on_modules": sorted(on),
        "enabled_modules": sorted(enabled - on),
        "disabled_modules": [
            info
            for name, info in sorted(_available(mm).items())
            if name not in enabled and name not in on
        ],
    }
    return Reply(data=data)


@command("mgr module enable")
def module_enable(ctx: Ctx) -> Reply:
    mm = ctx.state.mgrmap
    module = str(ctx.get("module", ""))
    if not module:
        return Reply(ret=-errno.EINVAL)
    if module in always_on():
        return Reply(outs=f"module '{module}' is already enabled (always-on)")
    force = ctx.get("force") in ("--force", True)
    if not force and not _all_support(mm, module):
        return Reply(
            ret=-errno.ENOENT,
            outs=f"all mgr daemons do not support module '{module}', pass --force to force "
            "enablement",
        )
    info = _available(mm).get(module)
    if not force and info is not None and not info["can_run"]:
        return Reply(
            ret=-errno.ENOENT,
            outs=f"module '{module}' reports that it cannot run on the active manager daemon: "
            f"{info['error_string']} (pass --force to force enablement)",
        )
    if module in mm.get("modules", []):
        return Reply(outs=f"module '{module}' is already enabled")
    mm["modules"] = sorted({*mm.get("modules", []), module})
    mm["epoch"] += 1
    return Reply(changed={"mgrmap"})


@command("mgr module disable")
def module_disable(ctx: Ctx) -> Reply:
    mm = ctx.state.mgrmap
    module = str(ctx.get("module", ""))
    if not module:
        return Reply(ret=-errno.EINVAL)
    if module in always_on():
        return Reply(ret=-errno.EINVAL, outs=f"module '{module}' cannot be disabled (always-on)")
    if module not in mm.get("modules", []):
        return Reply(outs=f"module '{module}' is already disabled")
    mm["modules"] = [m for m in mm.get("modules", []) if m != module]
    mm["epoch"] += 1
    return Reply(changed={"mgrmap"})


def check_module_option(mgrmap: dict[str, Any], name: str, value: str) -> None:
    """`config set mgr mgr/<module>/[<who>/]<option> <value>`: check the value against
    the option the active mgr reported for that module (upstream ConfigMonitor with
    MgrMonitor::find_module_option); options nobody declared are stored as given.
    Raises CephError(EINVAL, "error parsing value: ...").
    """
    from pyceph.mgr.modules.options import validate_value

    parts = name.split("/")
    if len(parts) < 3 or parts[0] != "mgr":
        return
    info = _available(mgrmap).get(parts[1])
    schema = info["module_options"].get(parts[-1]) if info is not None else None
    if schema is not None:
        validate_value(schema, value)


@command("mgr fail")
def mgr_fail(ctx: Ctx) -> Reply:
    """Fail the named mgr (name or gid; the active one by default), promoting a standby
    (pyceph.mon.mgrmon.fail); an unknown mgr is not an error, as upstream."""
    who = ctx.get("who")
    changed, outs = ctx.state.mgr_fail(None if who is None else str(who), ctx.now)
    return Reply(outs=outs, changed={"mgrmap"} if changed else set())


@command("mgr metadata")
def mgr_metadata(ctx: Ctx) -> Reply:
    """One mgr's metadata (as its beacon reported it), or every mgr's."""
    from pyceph.mon import mgrmon

    who = ctx.get("who")
    err, data, outs = mgrmon.metadata(ctx.state.mgrmap, None if who is None else str(who))
    if err:
        return Reply(ret=-err, outs=outs)
    return Reply(data=data)


@command("mgr count-metadata")
def mgr_count_metadata(ctx: Ctx) -> Reply:
    from pyceph.mon import mgrmon

    return Reply(data=mgrmon.count_metadata(ctx.state.mgrmap, str(ctx.get("property", ""))))
