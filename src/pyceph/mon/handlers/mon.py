"""`mon dump`, `mon stat`, `quorum_status`, `mon_status`, `mgr dump|stat|services`."""

from __future__ import annotations

import errno
from typing import Any

from pyceph.common.errors import CephError
from pyceph.osdmap.pool import utime_str

from .. import format_plain as fp
from . import Ctx, Reply, command
from .mgr import ALWAYS_ON_MODULES, module_info

_FEATURES = ["kraken", "luminous", "mimic", "osdmap-prune", "nautilus", "octopus", "pacific",
             "elector-pinging"]  # fmt: skip


def monmap_json(monmap: dict[str, Any]) -> dict[str, Any]:
    mons = []
    for m in monmap["mons"]:
        mons.append(
            {
                "rank": m["rank"],
                "name": m["name"],
                "public_addrs": {"addrvec": [{"type": "v2", "addr": m["addr"], "nonce": 0}]},
                "addr": f"{m['addr']}/0",
                "public_addr": f"{m['addr']}/0",
                "priority": m.get("priority", 0),
                "weight": m.get("weight", 0),
                "crush_location": "{}",
            }
        )
    return {
        "epoch": monmap["epoch"],
        "fsid": monmap["fsid"],
        "modified": utime_str(monmap["modified"], z=True),
        "created": utime_str(monmap["created"], z=True),
        "min_mon_release": 16,
        "min_mon_release_name": "pacific",
        "election_strategy": 1,
        "disallowed_leaders: ": "",
        "stretch_mode": False,
        "tiebreaker_mon": "",
        "removed_ranks: ": "",
        "features": {"persistent": list(_FEATURES), "optional": []},
        "mons": mons,
    }


@command("mon dump")
def mon_dump(ctx: Ctx) -> Reply:
    mm = ctx.state.monmap
    epoch = ctx.get("epoch")
    if epoch is not None and epoch != mm["epoch"]:
        raise CephError(errno.ENOENT, f"there is no map for epoch {epoch}")
    data = monmap_json(mm)
    data["quorum"] = [m["rank"] for m in mm["mons"]]
    return Reply(data=data, plain=fp.mon_dump(mm), outs=f"dumped monmap epoch {mm['epoch']}")


@command("mon stat")
def mon_stat(ctx: Ctx) -> Reply:
    mm = ctx.state.monmap
    names = [m["name"] for m in mm["mons"]]
    data = {
        "epoch": mm["epoch"],
        "min_mon_release_name": "pacific",
        "num_mons": len(names),
        "leader": names[0],
        "quorum": [{"rank": m["rank"], "name": m["name"]} for m in mm["mons"]],
    }
    addrs = ",".join(f"{m['name']}=[v2:{m['addr']}/0]" for m in mm["mons"])
    plain = (
        f"e{mm['epoch']}: {len(names)} mons at {{{addrs}}} removed_ranks: {{}}, election epoch 3, "
        f"leader 0 {names[0]}, quorum {','.join(str(m['rank']) for m in mm['mons'])} "
        f"{','.join(names)}\n"
    )
    return Reply(data=data, plain=plain)


def _quorum(ctx: Ctx) -> dict[str, Any]:
    mm = ctx.state.monmap
    return {
        "election_epoch": 3,
        "quorum": [m["rank"] for m in mm["mons"]],
        "quorum_names": [m["name"] for m in mm["mons"]],
        "quorum_leader_name": mm["mons"][0]["name"],
        "quorum_age": int(ctx.now - ctx.state.start_time) if ctx.state.start_time else 0,
        "features": {"quorum_con": "4540138314316775423", "quorum_mon": list(_FEATURES)},
        "monmap": monmap_json(mm),
    }


@command("quorum_status")
def quorum_status(ctx: Ctx) -> Reply:
    return Reply(data=_quorum(ctx))


@command("mon_status")
def mon_status(ctx: Ctx) -> Reply:
    mm = ctx.state.monmap
    q = _quorum(ctx)
    data = {
        "name": mm["mons"][0]["name"],
        "rank": 0,
        "state": "leader",
        "election_epoch": 3,
        "quorum": q["quorum"],
        "quorum_age": q["quorum_age"],
        "features": {
            "required_con": "2449958747317026820",
            "required_mon": list(_FEATURES),
            "quorum_con": "4540138314316775423",
            "quorum_mon": list(_FEATURES),
        },
        "outside_quorum": [],
        "extra_probe_peers": [],
        "sync_provider": [],
        "monmap": q["monmap"],
        "feature_map": {},
        "stretch_mode": False,
    }
    return Reply(data=data)


def mgrmap_json(ctx: Ctx) -> dict[str, Any]:
    mm = ctx.state.mgrmap
    addr = mm.get("active_addr", "")
    return {
        "epoch": mm["epoch"],
        "active_gid": mm.get("active_gid", 0),
        "active_name": mm.get("active_name", ""),
        "active_addrs": {
            "addrvec": [
                {
                    "type": "v2",
                    "addr": addr.split("/")[0],
                    "nonce": int(addr.split("/")[1]) if "/" in addr else 0,
                }
            ]
        }
        if addr
        else {"addrvec": []},  # fmt: skip
        "active_addr": addr or "(unrecognized address family 0)/0",
        "active_change": utime_str(mm.get("active_change", 0.0)),
        "active_mgr_features": 4540138314316775423 if addr else 0,
        "available": bool(mm.get("available")),
        "standbys": [
            {
                "gid": int(s.get("gid", 0)),
                "name": s["name"],
                "mgr_features": 4540138314316775423,
                "available_modules": [module_info(e) for e in s.get("available_modules", [])],
            }
            for s in mm.get("standbys", [])
        ],  # fmt: skip
        "modules": list(mm.get("modules", [])),
        "available_modules": [module_info(e) for e in mm.get("available_modules", [])],
        "services": dict(mm.get("services", {})),
        "always_on_modules": {k: list(v) for k, v in ALWAYS_ON_MODULES.items()},
        "last_failure_osd_epoch": 0,
        "active_clients": [],
    }


@command("mgr dump")
def mgr_dump(ctx: Ctx) -> Reply:
    epoch = ctx.get("epoch")
    if epoch is not None and epoch != ctx.state.mgrmap["epoch"]:
        raise CephError(errno.ENOENT, f"mgrmap version {epoch} does not exist")
    return Reply(data=mgrmap_json(ctx))


@command("mgr stat")
def mgr_stat(ctx: Ctx) -> Reply:
    mm = ctx.state.mgrmap
    return Reply(
        data={
            "epoch": mm["epoch"],
            "available": bool(mm.get("available")),
            "active_name": mm.get("active_name", ""),
            "num_standby": len(mm.get("standbys", [])),
        }
    )


@command("mgr services")
def mgr_services(ctx: Ctx) -> Reply:
    return Reply(data=dict(ctx.state.mgrmap.get("services", {})))
