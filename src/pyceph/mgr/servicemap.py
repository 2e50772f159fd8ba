"""The service map (upstream `ServiceMap` + the mgr's `DaemonServer` bookkeeping).

Clients that call `service_daemon_register` (rgw, rbd-mirror, iscsi gateways, ...) open
a session with the active mgr (`mgr_open`) and report their status (`mgr_report` with
`service`); the mgr keeps them here, drops those silent for longer than the beacon
grace, and sends the map to the monitor with its digest whenever it changed, which
`ceph -s` shows under `services` and in its `servicemap` section. Sans-I/O: callers
pass the time.

`dump()` is upstream's `ServiceMap::dump`::

    {"epoch": 3, "modified": "<utime>", "services": {"rgw": {"daemons": {
        "summary": "", "gw1": {"start_epoch": 2, "start_stamp": "<utime>", "gid": 4123,
                               "addr": "10.0.0.1:0/1234", "metadata": {...},
                               "task_status": {}}}}}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyceph.osdmap.pool import utime_str

#: Upstream `mgr_service_beacon_grace`: a daemon silent this long leaves the map.
SERVICE_BEACON_GRACE = 60.0
#: Entity types that are not services (`ServiceMap::is_normal_ceph_entity`).
NORMAL_ENTITIES = frozenset({"osd", "mon", "client", "mds", "mgr"})


@dataclass
class ServiceDaemon:
    """One registered daemon (ServiceMap::Daemon + DaemonState's service fields)."""

    gid: int
    addr: str
    start_epoch: int
    start_stamp: float
    metadata: dict[str, str]
    status: dict[str, str] = field(default_factory=dict)
    status_stamp: float = 0.0
    last_beacon: float = 0.0


class ServiceMap:
    """Registered service daemons and the map epoch."""

    def __init__(self) -> None:
        self.epoch = 2  # the monitor starts with an empty epoch 1
        self.modified = 0.0
        self.services: dict[str, dict[str, ServiceDaemon]] = {}
        self.dirty = False

    def seed(self, epoch: int) -> None:
        """Continue after the epoch the monitor already holds (a restarted mgr)."""
        if epoch >= self.epoch:
            self.epoch = epoch + 1

    @staticmethod
    def check_register(service: str, daemon: str) -> int:
        """Upstream's checks on a registration: 0 or -EINVAL."""
        if not service or not daemon or service in NORMAL_ENTITIES:
            return -22
        return 0

    def open(
        self,
        service: str,
        daemon: str,
        gid: int,
        addr: str,
        metadata: dict[str, str],
        status: dict[str, str] | None,
        now: float,
    ) -> bool:
        """MMgrOpen from a service daemon; True if the map changed."""
        if self.check_register(service, daemon):
            return False
        daemons = self.services.setdefault(service, {})
        d = daemons.get(daemon)
        changed = False
        if d is None or d.gid != gid:
            d = ServiceDaemon(gid, addr, self.epoch, now, dict(metadata))
            daemons[daemon] = d
            changed = True
        elif d.metadata != metadata:
            d.metadata = dict(metadata)
            changed = True
        if status is not None:
            d.status = dict(status)
            d.status_stamp = now
        d.last_beacon = now
        self.dirty |= changed
        return changed

    def report(
        self, service: str, daemon: str, gid: int, status: dict[str, str] | None, now: float
    ) -> bool:
        """MMgrReport from a service daemon; False if the daemon is not registered."""
        d = self.services.get(service, {}).get(daemon)
        if d is None or d.gid != gid:
            return False
        d.last_beacon = now
        if status is not None and status != d.status:
            d.status = dict(status)
            d.status_stamp = now
        return True

    def expire(self, now: float, grace: float = SERVICE_BEACON_GRACE) -> bool:
        """Drop daemons whose last beacon is older than `grace`."""
        changed = False
        for svc in list(self.services):
            daemons = self.services[svc]
            for name in [n for n, d in daemons.items() if now - d.last_beacon > grace]:
                del daemons[name]
                changed = True
            if not daemons:
                del self.services[svc]
        self.dirty |= changed
        return changed

    def commit(self, now: float) -> dict[str, Any] | None:
        """A new epoch of the map if it changed since the last one (for the monitor)."""
        if not self.dirty:
            return None
        self.dirty = False
        self.modified = now
        out = self.to_mon()
        self.epoch += 1
        return out

    def to_mon(self) -> dict[str, Any]:
        """The map as the monitor stores it: `modified` as a float, services as dumped."""
        return {"epoch": self.epoch, "modified": self.modified, "services": self._services()}

    def _services(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for svc in sorted(self.services):
            daemons: dict[str, Any] = {"summary": ""}
            for name in sorted(self.services[svc]):
                d = self.services[svc][name]
                daemons[name] = {
                    "start_epoch": d.start_epoch,
                    "start_stamp": utime_str(d.start_stamp),
                    "gid": d.gid,
                    "addr": d.addr,
                    "metadata": dict(sorted(d.metadata.items())),
                    "task_status": {},
                }
            out[svc] = {"daemons": daemons}
        return out

    def dump(self) -> dict[str, Any]:
        """`ceph service dump`."""
        return {
            "epoch": self.epoch,
            "modified": utime_str(self.modified),
            "services": self._services(),
        }

    def status(self) -> dict[str, Any]:
        """`ceph service status`: each daemon's last status report."""
        out: dict[str, Any] = {}
        for svc in sorted(self.services):
            out[svc] = {
                name: {
                    "status_stamp": utime_str(d.status_stamp),
                    "last_beacon": utime_str(d.last_beacon),
                    "status": dict(d.status),
                }
                for name, d in sorted(self.services[svc].items())
            }
        return out
