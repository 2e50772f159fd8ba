"""Running the REST API's commands over a `rados.Rados` handle.

Both hosts of the API (`ceph-rest-api`, the `restapi` mgr module) connect as a
named cephx user and send each command as the `ceph` CLI does (ceph.in's
`send_command`): commands the monitor flags MGR (``target`` ``mon-mgr``) with
`mgr_command`, ``tell`` commands (``target`` ``["osd", id]`` or ``["pg", pgid]``)
with `osd_command` / `pg_command`, the others with `mon_command`. The user's caps decide what runs.
`runner()` wraps that blocking call for the aiohttp application.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pyceph.restapi.app import Runner

__all__ = ["runner", "send_command"]


def send_command(cluster: Any, cmd: dict[str, Any], inbuf: bytes) -> tuple[int, bytes, str]:
    """Send one JSON command through `cluster` (a connected `rados.Rados`)."""
    target = cmd.get("target")
    kind = target[0] if isinstance(target, list | tuple) and target else None
    if kind in ("osd", "pg"):
        assert isinstance(target, list | tuple)
        body = json.dumps({k: v for k, v in cmd.items() if k != "target"})
        if kind == "osd":
            return cluster.osd_command(int(target[1]), body, inbuf)
        return cluster.pg_command(str(target[1]), body, inbuf)
    text = json.dumps(cmd)
    if kind in ("mon-mgr", "mgr"):
        return cluster.mgr_command(text, inbuf)
    return cluster.mon_command(text, inbuf)


def runner(blocking: Callable[..., Awaitable[Any]], cluster: Callable[[], Any]) -> Runner:
    """The app's Runner: `send_command` on a worker thread (`WebServer.blocking`);
    `cluster()` gives the connected handle (it may connect on first use)."""

    async def run(cmd: dict[str, Any], inbuf: bytes) -> tuple[int, bytes, str]:
        return await blocking(lambda: send_command(cluster(), cmd, inbuf))

    return run
