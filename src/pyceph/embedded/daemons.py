"""What the in-process arrangements share: keys, the daemons' configuration, one daemon.

The embedded cluster (`pyceph.embedded`) and the simulator (`pyceph.sim.cluster`) both
run mon.a, mgr.x and N OSDs as tasks in one process, each with its own `Runtime`. They
make keys and configuration the same way (as `LocalCluster` does on disk) and run each
daemon through `serve_daemon`, so both exercise exactly the daemon code that runs as
separate processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from pyceph.common.bootstrap import ADMIN_CAPS, MGR_CAPS, MON_CAPS, OSD_CAPS
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring
from pyceph.common.runtime import Runtime

#: The monitor's store (a KV) under its data directory.
MON_STORE = "store"
#: The key in the monitor's store that says it was created.
MON_EXISTS_KEY = b"state/exists"


def entity_caps(entity: str) -> dict[str, str]:
    """The capabilities an in-process cluster gives `entity`."""
    if entity == "client.admin":
        return dict(ADMIN_CAPS)
    if entity == "mon.":
        return dict(MON_CAPS)
    if entity.startswith("mgr."):
        return dict(MGR_CAPS)
    if entity.startswith("osd."):
        return dict(OSD_CAPS)
    raise CephError(22, f"no default caps for {entity}")


def make_keyring(entities: list[str], new_key: Callable[[], str]) -> Keyring:
    """A keyring with a fresh key (from `new_key`) and the default caps for each entity."""
    kr = Keyring()
    for entity in entities:
        kr.add(entity, new_key(), entity_caps(entity))
    return kr


def cluster_conf_text(
    fsid: str,
    mon_addr: tuple[str, int],
    options: Mapping[str, str],
    osd_addrs: Mapping[str, tuple[str, int]],
    *,
    osd_data: str,
    osd_keyring: str,
) -> str:
    """ceph.conf text for the daemons: one monitor at `mon_addr`, OSDs at fixed addresses."""
    mon = f"{mon_addr[0]}:{mon_addr[1]}"
    lines = [
        "[global]",
        f"fsid = {fsid}",
        f"mon_host = {mon}",
        *(f"{k} = {v}" for k, v in options.items()),
        "",
        "[mon.a]",
        f"public_addr = {mon}",
        "",
        "[osd]",
        f"osd_data = {osd_data}",
        f"keyring = {osd_keyring}",
        "",
    ]
    for name, (ip, port) in osd_addrs.items():
        lines += [f"[{name}]", f"public_addr = {ip}:{port}", ""]
    return "\n".join(lines)


def daemon_config(entity: str, conf_text: str, keyring: Keyring, source: str) -> CephConfig:
    """The configuration `entity` runs with: the conf text plus its key."""
    cfg = CephConfig(name=entity, hostname=entity.replace(".", "-"), pid=1, environ={})
    cfg.read_text(conf_text, source)
    key = keyring.get_key(entity)
    if key is not None:
        cfg.set("key", key)
    return cfg


async def serve_daemon(
    kind: str,
    runtime: Runtime,
    config: CephConfig,
    stop: asyncio.Event,
    *,
    kv: Any = None,
    bootstrap: tuple[str, tuple[str, int], Keyring] | None = None,
    on_daemon: Callable[[Any], None] | None = None,
    client_mon_host: str | None = None,
    host_modules: bool = True,
) -> None:
    """Run one daemon of `kind` (mon | mgr | osd) on this loop until `stop` is set.

    A monitor needs its store `kv` (the caller opens and closes it); when the store is
    empty it is created from `bootstrap` = (fsid, address, keyring), or, without one,
    start-up fails as `pyceph-mon` does without `--mkfs`. `on_daemon` receives the
    daemon object (MonDaemon, MgrDaemon) as soon as it exists. `client_mon_host` is how a
    librados client reaches the cluster (the mgr's modules make sessions from it);
    `host_modules` False runs the mgr without python modules (the simulator).
    """
    if kind == "mon":
        from pyceph.mon.daemon import MonDaemon

        mon = MonDaemon(runtime, config, kv)
        if on_daemon is not None:
            on_daemon(mon)
        if bootstrap is not None and kv.get(MON_EXISTS_KEY) is None:
            mon.mkfs(*bootstrap)
        else:
            mon.load()
        await mon.serve(stop)
    elif kind == "mgr":
        from pyceph.mgr.daemon import MgrDaemon

        mgr = MgrDaemon(runtime, config, client_mon_host=client_mon_host, host_modules=host_modules)
        if on_daemon is not None:
            on_daemon(mgr)
        await mgr.serve(stop)
    elif kind == "osd":
        from pyceph.osd.daemon import run_osd

        await run_osd(runtime, config, stop, on_daemon)
    else:
        raise CephError(22, f"unknown daemon kind {kind!r}")
