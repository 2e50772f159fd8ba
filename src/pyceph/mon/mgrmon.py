"""Which mgr is active: the MgrMap's beacon, failover and `mgr fail` logic (sans I/O).

Upstream: MgrMonitor::prepare_beacon, ::tick, ::drop_active, ::drop_standby,
::promote_standby and the `mgr fail` branch of ::prepare_command (src/mon/
MgrMonitor.cc, Pacific). Every mgr is known by its gid (the global id of its
monitor session) and its name:

- the first beacon while nobody is active makes that mgr active; a beacon from
  another mgr adds it to `standbys` (kept in gid order, as upstream's std::map);
- a mgr that restarts (same name, new gid) replaces its old entry; an active one
  is dropped first, and its new instance takes over at once, as upstream;
- `tick` drops standbys silent for longer than `mon_mgr_beacon_grace`, then a
  silent active, promoting the first standby (not yet `available`: the new active
  says so in its next beacon); with nobody active it promotes a standby;
- `mgr fail [WHO]` (name or gid; default the active) drops that mgr and promotes
  a standby when the active is gone.

Each mgr's metadata (what `mgr metadata` shows) is kept in the MgrMap dict under
`metadata` (by name) while the mgr is in the map (upstream keeps it beside the map).

The functions change the MgrMap dict in place and return whether they changed it;
cluster log lines go to `clog(prio, message)`.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

__all__ = ["MgrBeacon", "beacon", "count_metadata", "fail", "metadata", "names", "tick"]

#: Upstream's `Daemon not found` answer to `mgr fail` of an unknown mgr (r = 0).
NOT_FOUND = "Daemon not found '{}', already failed?"

ENOENT = errno.ENOENT

ClogFn = Callable[[str, str], None]


class MgrBeacon:
    """What one MMgrBeacon says (the fields the MgrMap keeps)."""

    def __init__(
        self,
        gid: int,
        name: str,
        addr: str,
        available: bool,
        available_modules: list[dict[str, Any]] | None,
        services: dict[str, str],
        command_descs: dict[str, Any] | None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        self.metadata = metadata or {}
        self.gid = gid
        self.name = name
        self.addr = addr
        self.available = available
        self.available_modules = available_modules
        self.services = services
        self.command_descs = command_descs


def _standby_index(mm: dict[str, Any], *, gid: int | None = None, name: str | None = None) -> int:
    for i, s in enumerate(mm["standbys"]):
        if (gid is not None and int(s.get("gid", 0)) == gid) or (name is not None and s["name"] == name):  # fmt: skip
            return i
    return -1


def drop_standby(mm: dict[str, Any], last_beacon: dict[int, float], gid: int) -> None:
    """Forget a standby (MgrMonitor::drop_standby)."""
    gone = [s["name"] for s in mm["standbys"] if int(s.get("gid", 0)) == gid]
    mm["standbys"] = [s for s in mm["standbys"] if int(s.get("gid", 0)) != gid]
    last_beacon.pop(gid, None)
    for name in gone:
        mm.get("metadata", {}).pop(name, None)


def drop_active(mm: dict[str, Any], last_beacon: dict[int, float], now: float) -> None:
    """No mgr is active any more (MgrMonitor::drop_active); its services go with it."""
    last_beacon.pop(int(mm.get("active_gid", 0)), None)
    mm.get("metadata", {}).pop(mm.get("active_name", ""), None)
    mm["active_gid"] = 0
    mm["active_name"] = ""
    mm["active_addr"] = ""
    mm["active_change"] = now
    mm["available"] = False
    mm["services"] = {}


def promote_standby(mm: dict[str, Any], now: float) -> bool:
    """Make the first standby (lowest gid) active (MgrMonitor::promote_standby)."""
    if mm.get("active_gid") or not mm["standbys"]:
        return False
    nxt = mm["standbys"].pop(0)
    mm["active_gid"] = int(nxt.get("gid", 0))
    mm["active_name"] = nxt["name"]
    # its address is known once it beacons as the active; until then not available
    mm["active_addr"] = ""
    mm["available"] = False
    mm["active_change"] = now
    if nxt.get("available_modules") is not None:
        mm["available_modules"] = list(nxt["available_modules"])
    return True


def beacon(
    mm: dict[str, Any], last_beacon: dict[int, float], b: MgrBeacon, now: float, clog: ClogFn
) -> None:
    """Apply one beacon (MgrMonitor::prepare_beacon)."""
    last_beacon[b.gid] = now
    _update_metadata(mm, b)
    if mm.get("active_name") == b.name and int(mm.get("active_gid", 0)) != b.gid:
        clog("INF", f"Active manager daemon {b.name} restarted")
        drop_active(mm, last_beacon, now)
        last_beacon[b.gid] = now
        _update_metadata(mm, b)
    i = _standby_index(mm, name=b.name)
    if i >= 0 and int(mm["standbys"][i].get("gid", 0)) != b.gid:
        drop_standby(mm, last_beacon, int(mm["standbys"][i].get("gid", 0)))
        last_beacon[b.gid] = now
        _update_metadata(mm, b)
    if int(mm.get("active_gid", 0)) == b.gid:
        mm["active_addr"] = b.addr
        mm["available"] = bool(b.available)
        mm["services"] = dict(b.services)
        if b.available_modules is not None:
            mm["available_modules"] = list(b.available_modules)
        if b.command_descs is not None:
            mm["command_descs"] = b.command_descs
        return
    if not mm.get("active_gid"):
        i = _standby_index(mm, gid=b.gid)
        if i >= 0:
            mm["standbys"].pop(i)
        mm["active_gid"] = b.gid
        mm["active_name"] = b.name
        mm["active_addr"] = b.addr
        mm["active_change"] = now
        mm["available"] = bool(b.available)
        mm["services"] = dict(b.services)
        if b.available_modules is not None:
            mm["available_modules"] = list(b.available_modules)
        if b.command_descs is not None:
            mm["command_descs"] = b.command_descs
        clog("INF", f"Activating manager daemon {b.name}")
        return
    i = _standby_index(mm, gid=b.gid)
    if i < 0:
        sb: dict[str, Any] = {"gid": b.gid, "name": b.name, "addr": b.addr}
        mm["standbys"].append(sb)
        mm["standbys"].sort(key=lambda s: int(s.get("gid", 0)))
        clog("DBG", f"Standby manager daemon {b.name} started")
    else:
        sb = mm["standbys"][i]
    if b.available_modules is not None:
        sb["available_modules"] = list(b.available_modules)


def _update_metadata(mm: dict[str, Any], b: MgrBeacon) -> None:
    if b.metadata:
        mm.setdefault("metadata", {})[b.name] = dict(b.metadata)


def names(mm: dict[str, Any]) -> list[str]:
    """Every mgr in the map, active first (MgrMap::get_all_names)."""
    active = [mm["active_name"]] if mm.get("active_name") else []
    return sorted(set(active + [s["name"] for s in mm["standbys"]]))


def metadata(mm: dict[str, Any], who: str | None) -> tuple[int, Any, str]:
    """`mgr metadata [WHO]`: (errno, data, outs) as MgrMonitor::preprocess_command."""
    md = mm.get("metadata", {})
    if who:
        if who not in names(mm):
            return ENOENT, None, f"mgr.{who} does not exist"
        if who not in md:
            return ENOENT, None, ""
        return 0, {"name": who, **md[who]}, ""
    return 0, [{"name": n, **md.get(n, {})} for n in names(mm)], ""


def count_metadata(mm: dict[str, Any], field: str) -> dict[str, int]:
    """`mgr count-metadata FIELD`: how many mgrs have each value of it."""
    out: dict[str, int] = {}
    for n in names(mm):
        v = mm.get("metadata", {}).get(n, {}).get(field)
        if v is not None:
            out[str(v)] = out.get(str(v), 0) + 1
    return out


def tick(
    mm: dict[str, Any], last_beacon: dict[int, float], grace: float, now: float, clog: ClogFn
) -> None:
    """Drop silent mgrs and promote a standby (MgrMonitor::tick)."""
    cutoff = now - grace
    for s in list(mm["standbys"]):
        gid = int(s.get("gid", 0))
        last_beacon.setdefault(gid, now)  # none since this monitor started: count from now
        if last_beacon[gid] < cutoff:
            drop_standby(mm, last_beacon, gid)
    active_gid = int(mm.get("active_gid", 0))
    if active_gid:
        last_beacon.setdefault(active_gid, now)
    if active_gid and last_beacon[active_gid] < cutoff:
        old = mm["active_name"]
        drop_active(mm, last_beacon, now)
        if promote_standby(mm, now):
            clog("INF", f"Manager daemon {old} is unresponsive, replacing it with standby daemon {mm['active_name']}")  # fmt: skip
        else:
            clog("INF", f"Manager daemon {old} is unresponsive.  No standby daemons available.")  # fmt: skip
    elif not active_gid and promote_standby(mm, now):
        clog("INF", f"Activating manager daemon {mm['active_name']}")


def fail(
    mm: dict[str, Any], last_beacon: dict[int, float], who: str | None, now: float, clog: ClogFn
) -> tuple[bool, str]:
    """`mgr fail [WHO]`: (changed, outs). WHO is a name or a gid; default the active."""
    if not who:
        if not mm.get("active_gid"):
            return False, "Currently no active mgr"
        who = str(mm["active_name"])
    changed = False
    if who.lstrip("-").isdigit():
        gid = int(who)
        if int(mm.get("active_gid", 0)) == gid and gid:
            drop_active(mm, last_beacon, now)
            changed = True
        elif _standby_index(mm, gid=gid) >= 0:
            drop_standby(mm, last_beacon, gid)
            changed = True
        else:
            return False, NOT_FOUND.format(gid)
    elif mm.get("active_name") == who:
        if not mm["standbys"]:
            clog("WRN", f"Failing active mgr {who} without standby")
        drop_active(mm, last_beacon, now)
        changed = True
    else:
        i = _standby_index(mm, name=who)
        if i < 0:
            return False, NOT_FOUND.format(who)
        drop_standby(mm, last_beacon, int(mm["standbys"][i].get("gid", 0)))
        changed = True
    if changed and not mm.get("active_gid"):
        promote_standby(mm, now)
    return changed, ""
