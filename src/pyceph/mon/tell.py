"""Commands sent to one named monitor (`rados_mon_command_target`, `ceph tell mon.X`).

Upstream 16.2 sends these as MCommand straight to the chosen monitor, whose
`Monitor::handle_tell_command` checks mon rwx for the prefix ("insufficient caps",
-EACCES) and hands the command to its admin socket. So a targeted command reaches the
daemon's local commands (`version`, `mon_status`, `quorum_status`, ...), not the
cluster command table: `fsid` or `status` there is -EINVAL "unknown command prefix X".
"""

from __future__ import annotations

import json
from errno import EACCES, EINVAL
from typing import Any

from pyceph import CEPH_RELEASE, CEPH_VERSION
from pyceph.auth import enforce
from pyceph.mon.state import CommandResult, MonState

#: Admin-socket commands of the monitor answered from the cluster command table.
DELEGATED = frozenset({"mon_status", "quorum_status"})


def _pretty(value: Any) -> bytes:
    return (json.dumps(value, indent=4) + "\n").encode()


def handle_tell(
    state: MonState,
    cmd: dict[str, Any],
    inbuf: bytes,
    entity: str,
    caps: dict[str, str] | None,
    now: float,
    source: str = "",
) -> CommandResult:
    """One targeted (tell) command; never changes the cluster state."""
    if "prefix" not in cmd:
        return CommandResult(-EINVAL, b"", "no prefix")
    prefix = str(cmd["prefix"])
    addr = source.partition(" ")[2] or None
    if not enforce.mon_tell_allowed(caps, entity, prefix, cmd, addr):
        return CommandResult(-EACCES, b"", enforce.MON_TELL_DENIED)
    if prefix == "get_command_descriptions":
        from pyceph.common.cmdargs import command_descriptions

        return CommandResult(0, json.dumps(command_descriptions("mon-tell")).encode(), "")
    if prefix == "version":
        fmt = str(cmd.get("format") or "json-pretty")
        out = {"version": CEPH_VERSION, "release": CEPH_RELEASE, "release_type": "stable"}
        if fmt == "json":
            return CommandResult(0, json.dumps(out, separators=(",", ":")).encode(), "")
        return CommandResult(0, _pretty(out), "")
    if prefix in DELEGATED:
        res = state.handle_command(
            {"format": "json-pretty", **cmd}, inbuf, entity, caps, now, source
        )
        return CommandResult(res.ret, res.outbuf, res.outs)
    return CommandResult(-EINVAL, b"", f"unknown command prefix {prefix}")


__all__ = ["handle_tell"]
