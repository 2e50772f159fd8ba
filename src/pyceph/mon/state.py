"""Everything a monitor owns, as a sans-I/O state machine: maps, auth, config, log.

The daemon shell feeds it commands and daemon events with the current time and
gets back what changed; it then calls `commit_pending()`, persists `snapshot()`
keys, publishes new maps and replies. Nothing here does I/O or reads a clock.

`mgr_digest` (pushed by the active mgr with `set_mgr_digest`) is a plain dict::

    {"stamp": float,
     "pg_stats": {"1.0": {"state": "active+clean", "num_objects": n, "num_bytes": n,
                          "num_objects_degraded": n, "num_objects_misplaced": n,
                          "num_objects_unfound": n, "up": [..], "acting": [..]}},
     "osd_stats": {"0": {"kb": n, "kb_used": n, "kb_avail": n, "kb_used_data": n,
                         "kb_used_omap": n, "kb_used_meta": n, "num_pgs": n}},
     "pool_stats": {"1": {"num_objects": n, "num_bytes": n, "stored": n,
                          "num_rd": n, "num_rd_kb": n, "num_wr": n, "num_wr_kb": n,
                          "num_objects_degraded": n}},
     "io_rate": {"read_bytes_sec": n, "write_bytes_sec": n,
                 "read_op_per_sec": n, "write_op_per_sec": n}}   # optional

All keys are optional; missing PGs count as `unknown`. It feeds `status`, `df` and
the PG_*/OSD_*FULL/POOL_FULL health checks, and the pools' full flags: a pool gets
`pool.FLAG_FULL` (and `FLAG_FULL_QUOTA` for quotas) in the next OSDMap when an OSD
is over `full_ratio` or the pool over quota; OSDs refuse writes to such pools
with ENOSPC (EDQUOT for FLAG_FULL_QUOTA), as upstream.
"""

from __future__ import annotations

import copy
import errno
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.auth import enforce
from pyceph.common.errors import CephError
from pyceph.common.jsonfmt import dumps
from pyceph.common.options import OPTIONS
from pyceph.crush.map import CrushError, CrushMap
from pyceph.osdmap import incremental
from pyceph.osdmap import pool as P
from pyceph.osdmap.osdmap import (
    FLAG_NODOWN,
    FLAG_NOIN,
    FLAG_NOOUT,
    FLAG_NOUP,
    OSD_IN,
    OSD_OUT,
    OsdInfo,
    OSDMap,
    f32,
)

from . import mgrmon
from .handlers import Ctx, Reply, load_all
from .lec import LastEpochClean, trim_to
from .osdmap_history import OSDMapHistory

log = logging.getLogger(__name__)

MON_FEATURES = ["kraken", "luminous", "mimic", "osdmap-prune", "nautilus", "octopus",
                "pacific", "elector-pinging"]  # fmt: skip

#: LogEntry priorities (clog_type) in order, and the names clog() accepts for them.
LOG_LEVELS = {"[DBG]": 0, "[INF]": 1, "[SEC]": 2, "[WRN]": 3, "[ERR]": 4}
_PRIO_NAMES = {"debug": "DBG", "dbg": "DBG", "info": "INF", "inf": "INF", "sec": "SEC",
               "security": "SEC", "warn": "WRN", "warning": "WRN", "wrn": "WRN",
               "error": "ERR", "err": "ERR"}  # fmt: skip

#: gids handed to mgrs whose beacon carries none start above this (in-process callers)
MGR_FIRST_GID = 4100

STATE_KEYS = ("monmap", "osdmap", "auth", "config", "config-key", "mgrmap", "log")


@dataclass
class CommandResult:
    """What `handle_command` returns to the daemon shell."""

    ret: int
    outbuf: bytes
    outs: str
    changed: set[str] = field(default_factory=set)
    forward_to_mgr: bool = False


def _no_entropy(n: int) -> bytes:
    """MonState.rand_bytes until the daemon sets it: making a key then is a bug."""
    raise RuntimeError(f"MonState.rand_bytes({n}) used before the daemon gave its runtime's")


class MonState:
    """The monitor's whole state; see the module docstring for the protocol."""

    def __init__(self, get_option: Callable[[str], Any]) -> None:
        self._get_option = get_option
        #: where new keys' randomness comes from: the daemon gives its runtime's (a seeded
        #: one in the simulator); until then, making a key is a bug, not a silent fallback
        self.rand_bytes: Callable[[int], bytes] = _no_entropy
        self.monmap: dict[str, Any] = {}
        self.osdmap = OSDMap()
        self.pending_osdmap = OSDMap()
        #: committed epochs: an incremental each, full maps pinned at intervals
        self.osdmap_history = OSDMapHistory()
        self.auth: dict[str, dict[str, Any]] = {}
        self.config_db: dict[str, dict[str, str]] = {}
        self.config_key: dict[str, bytes] = {}
        self.mgrmap: dict[str, Any] = _empty_mgrmap()
        self.service_map: dict[str, Any] = {"epoch": 1, "modified": 0.0, "services": {}}
        self.mgr_digest: dict[str, Any] = {}
        self.log: list[dict[str, Any]] = []
        self.log_seq = 0
        self.dirty: set[str] = set()
        # transient (not persisted)
        self.failure_reports: dict[int, dict[int, float]] = {}
        self.start_time = 0.0
        #: last beacon time of each mgr, by gid (MgrMonitor::last_beacon)
        self.mgr_last_beacon: dict[int, float] = {}
        #: OSD beacons: what trimming must keep (pyceph.mon.lec), and when each up OSD
        #: last sent one (OSDMonitor::last_osd_report, for `mon_osd_report_timeout`)
        self.lec = LastEpochClean()
        self.last_osd_report: dict[int, float] = {}
        self.config_show: Callable[[str], dict[str, Any] | None] | None = None
        #: the auth server's health checks (AUTH_INSECURE_GLOBAL_ID_RECLAIM[_ALLOWED]),
        #: set by the daemon that owns the sessions; None in a bare state
        self.auth_health: Callable[[], dict[str, dict[str, Any]]] | None = None

    # ------------------------------------------------------------ options
    def opt(self, name: str) -> Any:
        """An option's value from the daemon's config, else the option table's default
        (a bare state in a test passes a plain dict)."""
        try:
            v = self._get_option(name)
        except (KeyError, LookupError, ValueError):
            v = None
        return OPTIONS[name].default if v is None else v

    # ------------------------------------------------------------ creation
    @classmethod
    def create(
        cls,
        fsid: str,
        mon_name: str,
        mon_addr: str,
        now: float,
        get_option: Callable[[str], Any],
        admin_key: str | None = None,
        mon_key: str | None = None,
    ) -> MonState:
        """A new cluster: monmap e1 with one mon, OSDMap e1 with the default CRUSH map."""
        s = cls(get_option)
        s.start_time = now
        host, _, port = mon_addr.partition("/")[0].rpartition(":")
        s.monmap = {
            "epoch": 1,
            "fsid": fsid,
            "created": now,
            "modified": now,
            "min_mon_release": 16,
            "mons": [{"rank": 0, "name": mon_name, "addr": f"{host}:{port}", "priority": 0,
                      "weight": 0, "crush_location": {}}],
        }  # fmt: skip
        ctype = int(s.opt("osd_crush_chooseleaf_type"))
        crush = CrushMap.new_default("host" if ctype else "osd")
        m = OSDMap(fsid, crush)
        m.epoch = 1
        m.created = m.modified = now
        m.full_ratio = f32(float(s.opt("mon_osd_full_ratio")))
        m.backfillfull_ratio = f32(float(s.opt("mon_osd_backfillfull_ratio")))
        m.nearfull_ratio = f32(float(s.opt("mon_osd_nearfull_ratio")))
        s.osdmap = m.freeze()
        s.osdmap_history.start(1, m.encode())
        s._new_pending()
        s.mgrmap["modules"] = initial_mgr_modules(str(s.opt("mgr_initial_modules") or ""))
        if admin_key:
            s.auth["client.admin"] = {
                "key": admin_key,
                "caps": {"mds": "allow *", "mgr": "allow *", "mon": "allow *", "osd": "allow *"},
            }
        if mon_key:
            s.auth["mon."] = {"key": mon_key, "caps": {"mon": "allow *"}}
        s.dirty = set(STATE_KEYS)
        return s

    def bootstrap_entities(
        self, keys: dict[str, str] | None = None, rand: Callable[[int], bytes] | None = None
    ) -> set[str]:
        """Create `client.bootstrap-{osd,mgr,rbd}` with upstream's profile caps."""
        from pyceph.common.keyring import generate_secret

        changed: set[str] = set()
        for kind in ("osd", "mgr", "rbd", "rbd-mirror", "mds", "rgw"):
            ent = f"client.bootstrap-{kind}"
            if ent in self.auth:
                continue
            key = (keys or {}).get(ent) or (
                generate_secret(rand) if rand is not None else generate_secret()
            )
            self.auth[ent] = {"key": key, "caps": {"mon": f"allow profile bootstrap-{kind}"}}
            changed.add("auth")
        self.dirty |= changed
        return changed

    def _new_pending(self) -> None:
        p = self.osdmap.copy()
        p.epoch = self.osdmap.epoch + 1
        self.pending_osdmap = p

    # ------------------------------------------------------------ commit / persistence
    def mark(self, *keys: str) -> None:
        self.dirty.update(keys)

    def commit_pending(self, now: float | None = None) -> list[str]:
        """Make pending changes current: new OSDMap epoch if it changed. Returns keys."""
        changed = sorted(self.dirty)
        if "osdmap" in self.dirty:
            p = self.pending_osdmap
            from pyceph.mon.handlers.tier import sync_tier_snaps
            from pyceph.osdmap.upmap_clean import clean_pg_upmaps

            sync_tier_snaps(p)  # tiers follow their base pool's snap state
            clean_pg_temps(p)
            clean_pg_upmaps(p)  # OSDMonitor::encode_pending drops invalid upmaps
            if now is not None:
                p.modified = now
            self._commit_osdmap(p)
            self._new_pending()
        self.dirty = set()
        return changed

    def _commit_osdmap(self, p: OSDMap) -> None:
        """Make `p` the committed map and record its incremental (upstream
        OSDMonitor::encode_pending: the incremental and `full_N`, with the full map's
        crc in the incremental). The incremental is checked to rebuild `p` exactly; if
        it ever did not, it carries the whole map instead (`Incremental::fullmap`)."""
        old = self.osdmap
        full = p.encode()
        inc = incremental.diff(old, p, full)
        if incremental.apply(old, inc).encode() != full:
            log.error("osdmap e%s: incremental does not rebuild the map; sending it whole", p.epoch)
            inc.fullmap = full
        self._beacons_follow(old, p)
        self.osdmap = p.freeze()
        h = self.osdmap_history
        floor = self.lec.floor({pid: pool.pg_num for pid, pool in p.pools.items()}, p.epoch)
        h.commit(
            p.epoch,
            inc.encode(),
            full,
            int(self.opt("mon_osdmap_full_prune_interval")),
            trim_to(h.first, p.epoch, floor, int(self.opt("mon_min_osdmap_epochs"))),
        )

    def _beacons_follow(self, old: OSDMap, new: OSDMap) -> None:
        """An OSD marked up or down starts its beacon clock afresh; one marked out no
        longer holds trimming back (OSDMonitor::update_from_paxos)."""
        for i, o in new.osds.items():
            before = old.osds.get(i)
            if before is None or before.up != o.up:
                self.last_osd_report.pop(i, None)
            if o.weight == OSD_OUT and (before is None or before.weight != OSD_OUT):
                self.lec.forget_osd(i)
        for gone in set(old.osds) - set(new.osds):
            self.last_osd_report.pop(gone, None)
            self.lec.forget_osd(gone)

    def osd_beacon(self, osd_id: int, epoch: int, pgs: list[str], min_lec: int, now: float) -> None:
        """MOSDBeacon (OSDMonitor::prepare_beacon): ignored from an OSD the map has down."""
        if not self.osdmap.is_up(osd_id):
            return
        self.last_osd_report[osd_id] = now
        self.lec.beacon(osd_id, epoch, pgs, min_lec)

    def _osd_report_timeouts(self, now: float) -> bool:
        """Mark down up OSDs silent for `mon_osd_report_timeout` (handle_osd_timeouts);
        an OSD not heard from since this monitor started gets the whole timeout."""
        m = self.pending_osdmap
        timeout = float(self.opt("mon_osd_report_timeout"))
        if timeout <= 0 or m.test_flag(FLAG_NODOWN):
            return False
        changed = False
        for i in m.existing_osds():
            if not m.is_up(i) or not self.osdmap.is_up(i):
                continue
            last = self.last_osd_report.setdefault(i, now)
            if now - last > timeout:
                self._mark_down(i, now)
                self.clog(now, "cluster", "INF",
                          f"osd.{i} marked down after no beacon for {now - last:.6f} seconds")  # fmt: skip
                changed = True
        return changed

    def take_store_deletes(self) -> list[str]:
        """State keys to delete from the store with the next write (trimmed epochs)."""
        return self.osdmap_history.take_deletes()

    def snapshot(self, keys: list[str] | set[str] | None = None) -> dict[str, bytes]:
        """Encoded state per key (all keys by default) for the shell's store."""
        full = keys is None
        keys = STATE_KEYS if keys is None else keys
        out: dict[str, bytes] = {}
        for k in keys:
            if k == "osdmap":
                out["osdmap"] = self.osdmap_history.fulls[self.osdmap.epoch]
                out.update(self.osdmap_history.puts(everything=full))
            elif k == "monmap":
                out[k] = _pack(self.monmap)
            elif k == "auth":
                out[k] = _pack(self.auth)
            elif k == "config":
                out[k] = _pack(self.config_db)
            elif k == "config-key":
                out[k] = _pack(self.config_key)
            elif k == "mgrmap":
                out[k] = _pack({"mgrmap": self.mgrmap, "service_map": self.service_map})
            elif k == "log":
                kept = [e for e in self.log if e["priority"] != "[DBG]"]
                out[k] = _pack({"seq": self.log_seq, "log": kept})
        return out

    @classmethod
    def restore(cls, data: dict[str, bytes], get_option: Callable[[str], Any]) -> MonState:
        """Rebuild from `snapshot()` output (with the OSDMap history keys)."""
        s = cls(get_option)
        s.monmap = _unpack(data["monmap"])
        s.osdmap = OSDMap.decode(data["osdmap"]).freeze()
        s.osdmap_history = OSDMapHistory.restore(
            data, data["osdmap"], s.osdmap.epoch, int(s.opt("mon_osd_cache_size"))
        )
        s.auth = _unpack(data.get("auth", _pack({})))
        s.config_db = _unpack(data.get("config", _pack({})))
        s.config_key = _unpack(data.get("config-key", _pack({})))
        mg = _unpack(data.get("mgrmap", _pack({})))
        s.mgrmap = mg.get("mgrmap", _empty_mgrmap())
        s.service_map = mg.get("service_map", s.service_map)
        lg = _unpack(data.get("log", _pack({})))
        s.log = lg.get("log", [])
        s.log_seq = lg.get("seq", 0)
        s._new_pending()
        return s

    def get_osdmap(self, epoch: int) -> OSDMap | None:
        """A committed OSDMap epoch from history (None if trimmed or in the future)."""
        if epoch == self.osdmap.epoch:
            return self.osdmap
        b = self.osdmap_history.full(epoch)
        return OSDMap.decode(b).freeze() if b else None

    # ------------------------------------------------------------ commands
    def handle_command(
        self,
        cmd: dict[str, Any],
        inbuf: bytes,
        entity: str,
        caps: dict[str, str] | None,
        now: float,
        source: str = "",
    ) -> CommandResult:
        """Validate, authorize and run one command; errors change nothing.

        `source` is the caller as the audit log names it (`client.4123 10.0.0.1:0/99`).
        """
        from pyceph.common.cmdargs import command_descriptions, descs_from_json, match_command

        handlers = load_all()
        try:
            extra = descs_from_json(self.mgrmap.get("command_descs") or {}, "mgr")
        except Exception:
            extra = []
        if cmd.get("prefix") == "get_command_descriptions":
            descs = command_descriptions("mon", extra)
            return CommandResult(0, json.dumps(descs).encode(), "")
        # the mgr's pg_num step (upstream DaemonServer::adjust_pgs) sets `pg_num_actual`,
        # which the descriptor's choices lack: upstream's monitor does not check them there
        hidden_var = cmd.get("prefix") == "osd pool set" and cmd.get("var") == "pg_num_actual"
        try:
            desc, args = match_command({**cmd, "var": "pg_num"} if hidden_var else cmd, extra)
            if hidden_var:
                args["var"] = "pg_num_actual"
        except CephError as e:
            outs = e.message
            if not outs and desc.module == "osd":  # the OSDMonitor fills in strerror
                outs = _strerror(e.errno)
            return CommandResult(-e.errno, b"", outs)
        # the caps (and the audit level) follow the descriptor upstream's lookup finds
        module, perm = enforce.mon_command_perm(desc.prefix, desc.module, desc.perm)
        is_rw = "w" in perm or "x" in perm
        who = f"from='{source or entity}' entity='{entity}' cmd={_audit_cmd(cmd)}"
        audit = desc.prefix not in ("config set", "config-key set")
        # Monitor::_allowed_command, for mgr commands too (checked before proxying them)
        addr = source.partition(" ")[2] or None  # `client.4123 10.0.0.1:0/0`
        if not enforce.mon_command_allowed(caps, entity, module, perm, desc.prefix, args, addr):
            if audit:
                self.clog(now, "audit", "INF" if is_rw else "DBG", f"{who}:  access denied")
            return CommandResult(-errno.EACCES, b"", enforce.MON_ACCESS_DENIED)
        if audit:
            self.clog(now, "audit", "INF" if is_rw else "DBG", f"{who}: dispatch")
        if desc.daemon == "mgr" or (desc.flags & 8):
            return CommandResult(0, b"", "", forward_to_mgr=True)
        fmt = args.get("format")
        if fmt is not None and fmt not in ("json", "json-pretty", "xml", "xml-pretty", "plain"):
            fmt = None
        if fmt in ("xml", "xml-pretty"):
            fmt = "json-pretty"
        handler = handlers.get(desc.prefix)
        if handler is None:
            return CommandResult(
                -errno.EOPNOTSUPP, b"", f"command '{desc.prefix}' is not implemented by pyceph"
            )
        ctx = Ctx(self, args, inbuf, entity, now, fmt, source)
        before_dirty = set(self.dirty)
        try:
            reply = handler(ctx)
        except CephError as e:
            outs = e.message
            if not outs and desc.module == "osd":  # the OSDMonitor fills in strerror
                outs = _strerror(e.errno)
            return CommandResult(-e.errno, b"", outs)
        changed = set(reply.changed)
        if "w" in desc.perm and reply.ret >= 0 and changed:
            # upstream quotes the command in the "finished" line (Monitor::C_Command)
            done = f"from='{source or entity}' entity='{entity}' cmd='{_audit_cmd(cmd)}'"
            self.clog(now, "audit", "INF", f"{done}: finished")
            changed.add("log")
        self.dirty |= changed | before_dirty
        return CommandResult(reply.ret, _render(reply, fmt), reply.outs, changed)

    # ------------------------------------------------------------ cluster log
    def clog(
        self,
        now: float,
        channel: str,
        prio: str,
        message: str,
        name: str | None = None,
        rank: str | None = None,
        addr: str | None = None,
    ) -> None:
        """Append a cluster log entry (channel cluster|audit, prio DBG|INF|SEC|WRN|ERR).

        `name`/`rank`/`addr` say who logged it (the monitor itself by default), as
        upstream's LogEntry `name` (client.admin), `rank` (client.4123) and `addrs`.
        """
        self.log_seq += 1
        mon = self.monmap.get("mons", [{}])[0]
        prio = _PRIO_NAMES.get(prio.lower(), prio.upper()[:3])
        if addr is None:
            av = [{"type": "v2", "addr": mon.get("addr", ""), "nonce": 0}]
        else:
            a, _, nonce = addr.partition("/")
            av = [{"type": "v2", "addr": a, "nonce": int(nonce or 0)}] if a else []
        self.log.append(
            {
                "name": name or f"mon.{mon.get('name', '')}",
                "rank": rank or "mon.0",
                "addrs": {"addrvec": av},
                "stamp": now,
                "seq": self.log_seq,
                "channel": channel,
                "priority": f"[{prio}]",
                "message": message,
            }
        )
        limit = int(self.opt("mon_log_max"))
        if len(self.log) > limit:
            del self.log[: len(self.log) - limit]
        if prio != "DBG":  # debug entries (pgmap ticks, read-only audit) stay in memory
            self.dirty.add("log")

    def log_since(self, next_seq: int, level: int) -> list[dict[str, Any]]:
        """Entries with seq >= next_seq at `level` (0 DBG .. 4 ERR) or above, oldest first."""
        out: list[dict[str, Any]] = []
        for e in reversed(self.log):
            if e["seq"] < next_seq:
                break
            if LOG_LEVELS.get(e["priority"], 1) >= level:
                out.append(e)
        out.reverse()
        return out

    # ------------------------------------------------------------ pool ops (MPoolOp)
    def pool_op(
        self, pool_id: int, op: str, name: str, snapid: int, entity: str, now: float
    ) -> tuple[int, int]:
        """One pool op; returns (r, snapid). Changes are pending until `commit_pending()`."""
        from .handlers import pool as H

        ctx = Ctx(self, {}, b"", entity, now, None)
        try:
            changed, new_id = H.pool_op(ctx, pool_id, op, name, snapid)
        except CephError as e:
            return -e.errno, 0
        if changed:
            self.dirty.add("osdmap")
        return 0, new_id

    # ------------------------------------------------------------ service map (from the mgr)
    def set_service_map(self, service_map: dict[str, Any]) -> bool:
        """The mgr's service map; True when it is newer than ours."""
        if int(service_map.get("epoch", 0)) <= int(self.service_map.get("epoch", 0)):
            return False
        self.service_map = service_map
        self.dirty.add("mgrmap")
        return True

    # ------------------------------------------------------------ auth for the shell
    def get_auth(self, entity: str) -> tuple[str, dict[str, str]] | None:
        e = self.auth.get(entity)
        return None if e is None else (e["key"], dict(e["caps"]))

    def auth_add(self, entity: str, key: str, caps: dict[str, str]) -> bool:
        old = self.auth.get(entity)
        new = {"key": key, "caps": dict(caps)}
        if old == new:
            return False
        self.auth[entity] = new
        self.dirty.add("auth")
        return True

    # ------------------------------------------------------------ OSD events
    def allocate_osd_id(self, uuid: str | None, want_id: int | None = None) -> int:
        """`osd create`/`osd new`: the id of uuid, or a new one (lowest free / want_id)."""
        m = self.pending_osdmap
        if uuid:
            for i, o in m.osds.items():
                if o.exists and o.uuid == uuid:
                    return i
        if want_id is not None and want_id >= 0:
            if m.exists(want_id):
                raise CephError(errno.EEXIST, f"osd.{want_id} already exists")
            i = want_id
        else:
            i = 0
            while m.exists(i):
                i += 1
        m.osds[i] = OsdInfo(i, uuid=uuid or "00000000-0000-0000-0000-000000000000")
        m.max_osd = max(m.max_osd, i + 1)
        self.dirty.add("osdmap")
        return i

    # ------------------------------------------------------------ OSD lifecycle
    def osd_is_new(self, osd_id: int) -> bool:
        """Upstream's CEPH_OSD_NEW: created (`osd new`/`osd create`) but never booted;
        pyceph reads it from `up_from` (0 until the first boot) rather than a state bit."""
        o = self.pending_osdmap.osds.get(osd_id)
        return o is not None and o.exists and o.up_from == 0

    def new_osd(self, uuid: str, want_id: int | None) -> int:
        """`osd new` once validated: a fresh id (lowest free, or `want_id`; in, down), or the
        re-creation of destroyed `want_id` (no longer destroyed, out, with the new uuid),
        as upstream prepare_command_osd_new / do_osd_create."""
        m = self.pending_osdmap
        if want_id is not None and m.exists(want_id) and m.osds[want_id].destroyed:
            o = m.osds[want_id]
            o.destroyed = False
            o.uuid = uuid
            o.weight = OSD_OUT
            o.up_from = 0
            self.dirty.add("osdmap")
            return want_id
        i = self.allocate_osd_id(uuid, want_id)
        m.osds[i].weight = OSD_IN  # a fresh slot is in, as 16.2.15's `osd dump` shows
        return i

    def destroy_osd(self, osd_id: int) -> None:
        """Mark a down OSD destroyed (upstream prepare_command_osd_destroy): its uuid is
        zeroed, its cephx key and its config-keys (`dm-crypt/osd/UUID/`,
        `daemon-private/osd.N/`) go; the id and crush position stay for a replacement."""
        m = self.pending_osdmap
        o = m.osds[osd_id]
        if o.destroyed:
            return
        for prefix in (f"dm-crypt/osd/{o.uuid}/", f"daemon-private/osd.{osd_id}/"):
            for k in [k for k in self.config_key if k.startswith(prefix)]:
                del self.config_key[k]
        self.auth.pop(f"osd.{osd_id}", None)
        self.auth.pop(f"client.osd-lockbox.{o.uuid}", None)
        o.destroyed = True
        o.uuid = "00000000-0000-0000-0000-000000000000"
        self.dirty |= {"osdmap", "auth", "config-key"}

    def remove_osd(self, osd_id: int) -> None:
        """`osd rm` of a down OSD (prepare_command_osd_remove): its slot goes from the
        map (metadata with it); its crush item, if any, stays."""
        m = self.pending_osdmap
        m.osds.pop(osd_id, None)
        for key in [k for k, v in m.pg_temp.items() if osd_id in v]:
            del m.pg_temp[key]
        for key in [k for k, v in m.primary_temp.items() if v == osd_id]:
            del m.primary_temp[key]
        self.failure_reports.pop(osd_id, None)
        self.dirty.add("osdmap")

    def purge_osd(self, osd_id: int) -> None:
        """`osd purge-actual` (prepare_command_osd_purge): crush rm, destroy, osd rm."""
        m = self.pending_osdmap
        if osd_id in m.crush.devices:
            m.crush_for_write().remove_osd(osd_id)
        self.destroy_osd(osd_id)
        self.remove_osd(osd_id)

    def osd_boot(
        self,
        osd_id: int,
        uuid: str,
        public_addr: str,
        cluster_addr: str,
        hb_addr: str,
        metadata: dict[str, str],
        capacity_bytes: int,
        now: float,
    ) -> bool:
        """An OSD announces itself: register, mark up (unless noup), place in CRUSH, mark in."""
        m = self.pending_osdmap
        o = m.osds.get(osd_id)
        if o is not None and o.exists and o.uuid != uuid and not o.uuid.startswith("00000000"):
            return False
        if o is None or not o.exists:
            self.allocate_osd_id(uuid, osd_id)
            o = m.osds[osd_id]
        o.uuid = uuid
        o.metadata = dict(metadata)
        o.capacity_bytes = int(capacity_bytes)
        if m.test_flag(FLAG_NOUP):
            self.dirty.add("osdmap")
            return True
        is_new = o.up_from == 0
        if o.up and o.public_addr == public_addr and o.cluster_addr == cluster_addr:
            return False
        o.up = True
        o.destroyed = False
        o.public_addr = public_addr
        o.cluster_addr = cluster_addr
        o.hb_back_addr = hb_addr
        o.hb_front_addr = hb_addr
        o.up_from = m.epoch
        o.up_thru = max(o.up_thru, 0)
        m.last_up_change = now
        self.failure_reports.pop(osd_id, None)
        if bool(self.opt("osd_crush_update_on_start")) and osd_id not in m.crush.devices:
            w = float(self.opt("osd_crush_initial_weight"))
            if w < 0:
                w = max(0.00001, capacity_bytes / float(1 << 40))
            crush = m.crush_for_write()
            loc = {"host": metadata.get("hostname") or "localhost", "root": "default"}
            if int(self.opt("osd_crush_chooseleaf_type")) == 0 and not metadata.get("hostname"):
                loc = {"root": "default"}
            try:
                crush.add_osd(osd_id, w, loc)
            except CrushError as e:  # upstream's OSD logs its failed create-or-move too
                log.error("osd.%d: crush location %s refused: %s", osd_id, loc, e)
        if (
            not o.is_in
            and not m.test_flag(FLAG_NOIN)
            and (
                bool(self.opt("mon_osd_auto_mark_in"))
                or (is_new and bool(self.opt("mon_osd_auto_mark_new_in")))
                or (o.auto_out and bool(self.opt("mon_osd_auto_mark_auto_out_in")))
            )
        ):
            o.weight = o.old_weight or OSD_IN
            o.auto_out = False
            m.last_in_change = now
        self.clog(now, "cluster", "INF", f"osd.{osd_id} {public_addr} boot")
        self.dirty.add("osdmap")
        return True

    def _mark_down(self, osd_id: int, now: float) -> None:
        m = self.pending_osdmap
        o = m.osds[osd_id]
        o.up = False
        o.down_at = m.epoch
        o.down_stamp = now
        m.last_up_change = now
        self.failure_reports.pop(osd_id, None)
        self.dirty.add("osdmap")

    def osd_failure(self, target: int, reporter: int, failed_for: float, now: float) -> bool:
        """A peer reports `target` unreachable; mark it down once enough peers agree."""
        m = self.pending_osdmap
        if not m.is_up(target) or m.test_flag(FLAG_NODOWN) or reporter == target:
            return False
        if not m.is_up(reporter):  # a report from an instance the map has already marked down
            return False
        reps = self.failure_reports.setdefault(target, {})
        reps[reporter] = now
        others = sum(1 for i in m.existing_osds() if i != target and m.is_up(i))
        need = max(1, min(int(self.opt("mon_osd_min_down_reporters")), others))
        if len(reps) < need:
            return False
        self._mark_down(target, now)
        self.clog(
            now, "cluster", "INF",
            f"osd.{target} failed ({len(reps)} reporters from different osd after "
            f"{int(failed_for)} >= grace) ",
        )  # fmt: skip
        return True

    def osd_failure_cancel(self, target: int, reporter: int) -> None:
        self.failure_reports.get(target, {}).pop(reporter, None)

    def osd_mark_down_self(self, osd_id: int, now: float = 0.0) -> bool:
        """Clean shutdown (MOSDMarkMeDown)."""
        if not self.pending_osdmap.is_up(osd_id):
            return False
        self._mark_down(osd_id, now)
        return True

    def osd_alive(self, osd_id: int, want_up_thru: int) -> bool:
        """MOSDAlive: raise up_thru to want_up_thru (for peering)."""
        m = self.pending_osdmap
        o = m.osds.get(osd_id)
        if o is None or not o.up or o.up_thru >= want_up_thru:
            return False
        o.up_thru = min(want_up_thru, m.epoch)
        self.dirty.add("osdmap")
        return True

    def pg_ready_to_merge(self, msg: dict[str, Any]) -> bool:
        """MOSDPGReadyToMerge (upstream OSDMonitor::prepare_pg_ready_to_merge): the merge
        source's primary says whether it and its target are ready. Ready: pg_num drops by
        one, recording what they were ready with; not ready: pg_num_pending goes back to
        pg_num (the mgr tries again later). A report for another step is stale: ignored."""
        pool_s, _, ps_s = str(msg.get("pgid", "")).partition(".")
        try:
            pool_id, ps = int(pool_s), int(ps_s, 16)
        except ValueError:
            return False
        m = self.pending_osdmap
        p = m.pools.get(pool_id)
        if p is None or p.pg_num != ps + 1 or p.pg_num_pending > ps:
            return False
        p = p.copy()
        if msg.get("ready"):
            p.dec_pg_num(f"{pool_id}.{ps:x}", m.epoch, msg)
        else:
            p.pg_num_pending = p.pg_num
        p.last_force_op_resend_prenautilus = m.epoch  # as upstream: older clients resend
        p.last_change = m.epoch
        m.pools[pool_id] = p
        self.dirty.add("osdmap")
        return True

    def request_pg_temp(self, pgid: str, osds: list[int]) -> bool:
        """MOSDPGTemp: set (or clear with []) a PG's temporary acting set."""
        pool_s, _, ps_s = pgid.partition(".")
        key = (int(pool_s), int(ps_s, 16))
        m = self.pending_osdmap
        pool = m.pools.get(key[0])
        if pool is None or key[1] >= pool.pg_num:
            return False
        if any(not (0 <= o < m.max_osd and m.exists(o)) for o in osds if o != P.CRUSH_ITEM_NONE):
            # upstream preprocess_pgtemp: an OSD that does not exist (an erasure-coded
            # PG's pg_temp keeps its holes, CRUSH_ITEM_NONE, on their positions)
            return False
        cur = m.pg_temp.get(key, [])
        if list(osds) == cur:
            return False
        if osds:
            m.pg_temp[key] = list(osds)
        else:
            m.pg_temp.pop(key, None)
            m.primary_temp.pop(key, None)
        self.dirty.add("osdmap")
        return True

    def tick(self, now: float) -> bool:
        """Periodic work: down→out after the interval, blocklist expiry, OSDs silent past
        the report timeout, mgr beacons."""
        m = self.pending_osdmap
        changed = False
        interval = float(self.opt("mon_osd_down_out_interval"))
        if interval > 0 and not m.test_flag(FLAG_NOOUT):
            for i in m.existing_osds():
                o = m.osds[i]
                if not o.up and o.is_in and o.down_stamp and now - o.down_stamp >= interval:
                    o.old_weight = o.weight
                    o.weight = OSD_OUT
                    o.auto_out = True
                    m.last_in_change = now
                    self.clog(now, "cluster", "INF", f"Marking osd.{i} out (has been down for "
                              f"{int(now - o.down_stamp)} seconds)")  # fmt: skip
                    changed = True
        for addr, exp in list(m.blocklist.items()):
            if exp <= now:
                del m.blocklist[addr]
                changed = True
        if changed:
            self.dirty.add("osdmap")
        if self._osd_report_timeouts(now):
            changed = True
        if self._mgr_tick(now):
            changed = True
        return changed

    # ------------------------------------------------------------ mgr
    def _mgr_clog(self, now: float) -> Callable[[str, str], None]:
        return lambda prio, message: self.clog(now, "cluster", prio, message)

    def _mgr_changed(self, before: dict[str, Any]) -> bool:
        if self.mgrmap == before:
            return False
        self.mgrmap["epoch"] = before["epoch"] + 1
        self.dirty.add("mgrmap")
        return True

    def _mgr_tick(self, now: float) -> bool:
        """Drop silent mgrs, promote a standby (pyceph.mon.mgrmon.tick)."""
        before = copy.deepcopy(self.mgrmap)
        grace = float(self.opt("mon_mgr_beacon_grace"))
        mgrmon.tick(self.mgrmap, self.mgr_last_beacon, grace, now, self._mgr_clog(now))
        return self._mgr_changed(before)

    def mgr_fail(self, who: str | None, now: float) -> tuple[bool, str]:
        """`mgr fail [WHO]` (pyceph.mon.mgrmon.fail): (changed, outs)."""
        before = copy.deepcopy(self.mgrmap)
        _, outs = mgrmon.fail(self.mgrmap, self.mgr_last_beacon, who, now, self._mgr_clog(now))
        return self._mgr_changed(before), outs

    def _mgr_gid(self, name: str) -> int:
        """A gid for a beacon that carries none (in-process callers): the known one."""
        mm = self.mgrmap
        if mm.get("active_name") == name and mm.get("active_gid"):
            return int(mm["active_gid"])
        for s in mm["standbys"]:
            if s["name"] == name:
                return int(s.get("gid", 0))
        known = [int(mm.get("active_gid", 0))] + [int(s.get("gid", 0)) for s in mm["standbys"]]
        return max([MGR_FIRST_GID, *known]) + 1

    def mgr_beacon(
        self,
        name: str,
        addr: str,
        available: bool,
        available_modules: list[dict[str, Any]] | None,
        services: dict[str, str],
        command_descs: dict[str, Any] | None,
        now: float,
        gid: int | None = None,
        metadata: dict[str, str] | None = None,
    ) -> bool:
        """A mgr beacon (pyceph.mon.mgrmon.beacon); True when the MgrMap changed.

        `gid` is the global id of the mgr's monitor session; `available_modules` is
        what the mgr can run (MgrMap ModuleInfo dicts; None while it is still loading
        them); the enabled `modules` are the monitor's.
        """
        before = copy.deepcopy(self.mgrmap)
        b = mgrmon.MgrBeacon(
            self._mgr_gid(name) if gid is None else int(gid),
            name,
            addr,
            available,
            available_modules,
            services,
            command_descs,
            metadata,
        )
        mgrmon.beacon(self.mgrmap, self.mgr_last_beacon, b, now, self._mgr_clog(now))
        return self._mgr_changed(before)

    def set_mgr_digest(self, digest: dict[str, Any]) -> bool:
        """Store the mgr's PG/OSD statistics; update pool full flags. True if OSDMap changed."""
        self.mgr_digest = digest
        m = self.pending_osdmap
        osd_stats = digest.get("osd_stats", {})
        worst = 0.0
        for st in osd_stats.values():
            kb = st.get("kb", 0)
            if kb:
                worst = max(worst, st.get("kb_used", 0) / kb)
        pool_stats = digest.get("pool_stats", {})
        changed = False
        for pid, pool in m.pools.items():
            flags = pool.flags & ~(P.FLAG_FULL | P.FLAG_NEARFULL | P.FLAG_BACKFILLFULL
                                   | P.FLAG_FULL_QUOTA)  # fmt: skip
            ps = pool_stats.get(str(pid), {})
            quota = (pool.quota_max_bytes and ps.get("num_bytes", 0) >= pool.quota_max_bytes) or (
                pool.quota_max_objects and ps.get("num_objects", 0) >= pool.quota_max_objects
            )
            if quota:
                flags |= P.FLAG_FULL | P.FLAG_FULL_QUOTA
            if worst >= m.full_ratio:
                flags |= P.FLAG_FULL
            elif worst >= m.backfillfull_ratio:
                flags |= P.FLAG_BACKFILLFULL
            elif worst >= m.nearfull_ratio:
                flags |= P.FLAG_NEARFULL
            if flags != pool.flags:
                pool.flags = flags
                pool.last_change = m.epoch
                changed = True
        if changed:
            self.dirty.add("osdmap")
        return changed


def _strerror(err: int) -> str:
    """What upstream's monitor says for an error it gives no message of its own."""
    return f"({err}) {os.strerror(err)}"


def initial_mgr_modules(setting: str) -> list[str]:
    """The modules a new cluster's MgrMap enables (upstream MgrMonitor::create_initial
    reads `mgr_initial_modules`, names separated by spaces or commas)."""
    return sorted(set(setting.replace(",", " ").split()))


def _empty_mgrmap() -> dict[str, Any]:
    return {
        "epoch": 1,
        "active_gid": 0,
        "active_name": "",
        "active_addr": "",
        "active_change": 0.0,
        "available": False,
        "standbys": [],
        "modules": [],
        "available_modules": [],
        "services": {},
        "command_descs": {},
    }


def _pack(obj: Any) -> bytes:
    return msgpack.packb({"v": 1, "d": obj}, use_bin_type=True)


def _unpack(b: bytes) -> Any:
    return msgpack.unpackb(b, raw=False, strict_map_key=False)["d"]


def _audit_cmd(cmd: dict[str, Any]) -> str:
    return "[" + dumps({k: v for k, v in cmd.items() if k != "format"}) + "]"


def _render(reply: Reply, fmt: str | None) -> bytes:
    if reply.outbuf is not None:
        return reply.outbuf
    if fmt in ("json", "json-pretty") and reply.data is not None:
        return dumps(reply.data, fmt == "json-pretty").encode()
    if reply.plain is not None:
        return reply.plain.encode()
    if reply.data is not None:
        return dumps(reply.data, True).encode()
    return b""


def clean_pg_temps(m: OSDMap) -> None:
    """upstream OSDMap::clean_temps, on each new map: drop the pg_temps of PGs that no
    longer exist, those whose OSDs are all down, and those equal to the up set."""
    for key in list(m.pg_temp):
        pool = m.pools.get(key[0])
        temp = m.pg_temp[key]
        if pool is None or key[1] >= pool.pg_num or not any(m.is_up(o) for o in temp):
            del m.pg_temp[key]
            continue
        up = m.pg_to_up_acting_osds(key[0], key[1])[0]
        if list(up) == list(temp):
            del m.pg_temp[key]
