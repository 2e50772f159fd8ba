"""Commands sent to one OSD: `osd_command` (`ceph tell osd.N ...`) and `pg_command`.

Upstream 16.2 (`OSD::handle_command`) answers a client's MCommand only when its osd
caps allow everything (else -EACCES), then queues it as an admin-socket "tell"
command: an unknown prefix is -EINVAL "unknown command prefix X". The PG commands
(`OSD::asok_command`) need a parsable `pgid` (-EINVAL "no pgid specified" /
"couldn't parse pgid 'X'") naming a PG this OSD has (-ENOENT "i don't have pgid X")
and is primary for (-EAGAIN).

Only the commands that make sense for pyceph's OSD are implemented: `version`,
`flush_pg_stats` (report to the mgr now; upstream's test helpers call it before waiting
for clean PGs, as `pyceph up` does), `bench`
(pyceph.osd.bench), the PG `query`, `scrub`/`deep_scrub`/`repair` (what the mgr sends
the primary for `ceph pg scrub|deep-scrub|repair`) and `list_inconsistent_obj|snapset`
(what `rados list-inconsistent-*` reads; upstream uses the SCRUBLS PG op). Output is JSON, pretty-printed unless `format` asks for compact json
(the admin socket's default is json-pretty).
"""

from __future__ import annotations

import errno
import json
from typing import TYPE_CHECKING, Any

from pyceph import CEPH_RELEASE, CEPH_VERSION
from pyceph.auth import enforce
from pyceph.common.errors import CephError
from pyceph.osd.scrub import ScrubState
from pyceph.osd.types import ver_str
from pyceph.osdmap.pool import utime_str

if TYPE_CHECKING:
    from pyceph.osd.osd import OSD
    from pyceph.osd.pg import PG

#: Upstream's PG commands routed to PG::do_command (OSD::asok_command).
PG_PREFIXES = frozenset(
    {
        "pg",
        "query",
        "mark_unfound_lost",
        "list_unfound",
        "scrub",
        "deep_scrub",
        "repair",
        "list_inconsistent_obj",
        "list_inconsistent_snapset",
        "log",
    }
)

Reply = tuple[dict[str, Any], bytes]


def _reply(r: int, outs: str = "", out: bytes = b"") -> Reply:
    return {"r": r, "outs": outs}, out


def _format(cmd: dict[str, Any], value: Any) -> bytes:
    fmt = str(cmd.get("format") or "json-pretty")
    if fmt == "json":
        return json.dumps(value, separators=(",", ":"), default=str).encode()
    return (json.dumps(value, indent=4, default=str) + "\n").encode()


def _parse_pgid(text: str) -> tuple[int, int] | None:
    """upstream pg_t::parse: `POOL.PS` with PS in hex."""
    pool_s, dot, ps_s = text.partition(".")
    if not dot or not pool_s.isdigit():
        return None
    try:
        return int(pool_s), int(ps_s, 16)
    except ValueError:
        return None


async def handle_command(
    osd: OSD, head: dict[str, Any], data: bytes | memoryview, caps: dict[str, str] | None
) -> Reply:
    """One `osd_command` message: reply head {"r", "outs"} and the output buffer."""
    if not enforce.osd_admin_allowed(caps):
        return _reply(-errno.EACCES, "access denied")
    text = head.get("cmd", "")
    try:
        cmd = json.loads(text)
        if not isinstance(cmd, dict):
            raise ValueError("not an object")
    except (TypeError, ValueError):
        return _reply(-errno.EINVAL, f"invalid command json: {text}")
    prefix = str(cmd.get("prefix", ""))
    if prefix == "get_command_descriptions":
        from pyceph.common.cmdargs import command_descriptions

        return _reply(0, "", json.dumps(command_descriptions("osd")).encode())
    if prefix == "version":
        out = {"version": CEPH_VERSION, "release": CEPH_RELEASE, "release_type": "stable"}
        return _reply(0, "", _format(cmd, out))
    if prefix == "flush_pg_stats":
        # upstream: MgrClient::send_pgstats, then the stat seq that report carries
        return _reply(0, "", f"{osd.mon.flush_pg_stats()}\n".encode())
    if prefix in PG_PREFIXES:
        return _pg_command(osd, prefix, cmd)
    if prefix == "bench":
        return await _bench(osd, cmd)
    return _reply(-errno.EINVAL, f"unknown command prefix {prefix}")


async def _bench(osd: OSD, cmd: dict[str, Any]) -> Reply:
    from pyceph.osd.bench import DEFAULT_BSIZE, DEFAULT_COUNT, check_bench_args, run_bench

    try:
        count = int(cmd.get("count", DEFAULT_COUNT))
        bsize = int(cmd.get("size", DEFAULT_BSIZE))
        osize = int(cmd.get("object_size", 0))
        onum = int(cmd.get("object_num", 0))
    except (TypeError, ValueError):
        return _reply(-errno.EINVAL, "bench: 'count', 'size', 'object_size' and 'object_num' "
                      "are integers")  # fmt: skip
    try:
        check_bench_args(count, bsize, osd.opts)
        out = await run_bench(osd.store, osd.runtime.clock, count, bsize, osize, onum)
    except CephError as e:
        return _reply(-e.errno, e.message)
    return _reply(0, "", _format(cmd, out))


def _pg_command(osd: OSD, prefix: str, cmd: dict[str, Any]) -> Reply:
    if "pgid" not in cmd:
        return _reply(-errno.EINVAL, "no pgid specified")
    pgid_s = str(cmd["pgid"])
    parsed = _parse_pgid(pgid_s)
    if parsed is None:
        return _reply(-errno.EINVAL, f"couldn't parse pgid '{pgid_s}'")
    pool, ps = parsed
    pgid = f"{pool}.{ps:x}"
    pg = osd.pgs.get(parsed)
    if pg is None or pg.removed:
        return _reply(-errno.ENOENT, f"i don't have pgid {pgid}")
    if not pg.is_primary:
        return _reply(-errno.EAGAIN, f"not primary for pgid {pgid}")
    if prefix == "query" or (prefix == "pg" and cmd.get("cmd") == "query"):
        return _reply(0, "", _format(cmd, pg_query(osd, pg)))
    if prefix in ("scrub", "deep_scrub", "repair"):
        # upstream OSD::handle_scrub2 / asok "scrub": queue it and answer at once
        pg.request_scrub(prefix != "scrub", prefix == "repair")
        return _reply(0, "", b"")
    if prefix in ("list_inconsistent_obj", "list_inconsistent_snapset"):
        return _list_inconsistent(pg, prefix, cmd)
    return _reply(-errno.EINVAL, f"unknown command prefix {prefix}")


def _list_inconsistent(pg: PG, prefix: str, cmd: dict[str, Any]) -> Reply:
    """The primary's last scrub findings (upstream CEPH_OSD_OP_SCRUBLS): -ENOENT when
    the PG has not been scrubbed since this OSD became its primary."""
    body = pg.scrub.list_inconsistent()
    if body is None:
        return _reply(-errno.ENOENT, f"No scrub information available for pg {pg.pgid}")
    if prefix == "list_inconsistent_snapset":
        # upstream inconsistent_snapset_t (rados.cc): the object id and its errors; pyceph
        # reports the heads whose snapsets differ between copies as "snapset_error"
        snapset_errors = {"snapset_inconsistency"}
        body = {
            "epoch": body["epoch"],
            "inconsistents": [
                {
                    **{k: v for k, v in i["object"].items() if k != "version"},
                    "errors": ["snapset_error"],
                }
                for i in body["inconsistents"]
                if snapset_errors & set(i["errors"])
            ],
        }
    return _reply(0, "", _format(cmd, body))


def pg_query(osd: OSD, pg: PG) -> dict[str, Any]:
    """The top level of upstream's `pg query` (PG::do_command "query") for `pg`."""
    stats = pg.pg_stats()
    info = pg.info
    v = pg.peering.view
    up = list(v.up) if v else []
    acting = list(v.acting) if v else []
    sc = getattr(pg, "scrub", None) or ScrubState()  # a PG stand-in may have none
    scrub_history = {
        "last_scrub": ver_str(sc.last_scrub),
        "last_deep_scrub": ver_str(sc.last_deep_scrub),
        "last_scrub_stamp": utime_str(sc.last_scrub_stamp),
        "last_deep_scrub_stamp": utime_str(sc.last_deep_scrub_stamp),
        "last_clean_scrub_stamp": utime_str(sc.last_clean_scrub_stamp),
    }
    history = {
        "epoch_created": info.epoch_created,
        "epoch_pool_created": info.epoch_created,
        "last_epoch_started": info.last_epoch_started,
        "last_interval_started": info.same_interval_since,
        "last_epoch_clean": info.last_epoch_clean,
        "last_interval_clean": info.same_interval_since,
        "last_epoch_split": 0,
        "last_epoch_marked_full": 0,
        "same_up_since": info.same_interval_since,
        "same_interval_since": info.same_interval_since,
        "same_primary_since": info.same_interval_since,
        **scrub_history,
    }
    st = {k: val for k, val in stats.items() if k != "stamp"}
    st.update((k, v) for k, v in scrub_history.items() if k in st)
    st["version"] = ver_str(info.last_update)
    active = str(stats.get("state", pg.state)).startswith("active")
    return {
        "snap_trimq": "[]",
        "snap_trimq_len": 0,
        "state": stats.get("state", pg.state),
        "epoch": osd.map_epoch,
        "up": up,
        "acting": acting,
        "acting_recovery_backfill": sorted(str(o) for o in set(up) | set(acting) if o >= 0),
        "info": {
            "pgid": pg.pgid,
            "last_update": ver_str(info.last_update),
            "last_complete": ver_str(info.last_complete),
            "log_tail": ver_str(info.log_tail),
            "last_user_version": info.last_user_version,
            "last_backfill": "MAX",
            "purged_snaps": [],
            "history": history,
            "stats": st,
            "empty": int(tuple(info.last_update or (0, 0)) == (0, 0)),
            "dne": 0,
            "incomplete": 0,
            "last_epoch_started": info.last_epoch_started,
        },
        "peer_info": [],
        "recovery_state": [
            {"name": "Started/Primary/Active" if active else "Started/Primary/Peering"},
            {"name": "Started"},
        ],
        "scrubber": {
            "epoch_start": str(sc.epoch),
            "active": sc.active is not None,
        },
        "agent_state": {},
    }


__all__ = ["handle_command", "pg_query", "PG_PREFIXES"]
