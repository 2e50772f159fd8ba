"""`rbd-nbd`: serve an RBD image over NBD — the command line and the server process.

Upstream's syntax (`src/tools/rbd_nbd/rbd-nbd.cc`, `doc/man/8/rbd-nbd.rst`), with the
kernel device replaced by an NBD address::

    rbd-nbd [-c CONF] [--id ID | -n NAME] map [--read-only] [--exclusive]
            [--bind HOST:PORT | --socket PATH] [--foreground] <image-or-snap-spec>
    rbd-nbd unmap <device | image-or-snap-spec | id>
    rbd-nbd list-mapped [--format plain|json|json-pretty] [--pretty-format]

`map` prints the address (`nbd://127.0.0.1:PORT/IMAGE`) once the background server
serves; `rbd device map -t nbd -o socket=PATH ...` passes its `-o` options here as
`--socket=PATH`, as upstream's `rbd` does. With `--foreground` this process is the
server: it connects to the cluster, opens the image, listens, writes its state file
(`pyceph.nbd.mapper`) and serves until SIGTERM/SIGINT, then answers what is in flight,
flushes and closes the image.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from pyceph.common.errors import CephError
from pyceph.common.output import TextTable, dump_json
from pyceph.nbd import mapper
from pyceph.nbd.mapper import MappedDevice
from pyceph.nbd.rbd_device import RbdDevice

log = logging.getLogger("pyceph.nbd.rbd_nbd")

#: librbd's rbd_lock_mode_t value for an exclusive managed lock.
RBD_LOCK_MODE_EXCLUSIVE = 0
#: Where a TCP export listens unless `--bind` says otherwise (a free loopback port).
DEFAULT_BIND = "127.0.0.1:0"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rbd-nbd", description="Serve RBD images over NBD.")
    p.add_argument("command", choices=["map", "unmap", "list-mapped"])
    p.add_argument("spec", nargs="?", help="image or snap spec, or device (unmap)")
    p.add_argument("-c", "--conf", help="ceph.conf to use")
    p.add_argument("-i", "--id", help="client id (without 'client.')")
    p.add_argument("-n", "--name", help="client name (client.ID)")
    p.add_argument("--read-only", action="store_true", help="map read-only")
    p.add_argument("--exclusive", action="store_true", help="forbid writes by other clients")
    p.add_argument("--bind", help="HOST:PORT to listen on (default a free loopback port)")
    p.add_argument("--socket", help="listen on this Unix socket instead of TCP")
    p.add_argument("-f", "--foreground", action="store_true", help="serve in this process")
    p.add_argument("--run-dir", help="directory of state files")
    p.add_argument("--format", choices=["plain", "json", "json-pretty", "xml"], default="plain")
    p.add_argument("--pretty-format", action="store_true")
    p.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)
    return p


def _client_name(args: argparse.Namespace) -> str | None:
    if args.name:
        return str(args.name)
    if args.id:
        return f"client.{args.id}"
    return None


def _parse_bind(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise CephError(errno.EINVAL, f"invalid bind address '{text}' (expected HOST:PORT)")
    return host.strip("[]") or "127.0.0.1", int(port)


def export_name(image: str, snap: str | None) -> str:
    return image + (f"@{snap}" if snap else "")


def device_address(export: str, *, host: str = "", port: int = 0, socket_path: str = "") -> str:
    """The NBD URI a client uses (qemu's and libnbd's syntax)."""
    path = urllib.parse.quote(export, safe="@:")
    if socket_path:
        return f"nbd+unix:///{path}?socket={socket_path}"
    if ":" in host:
        host = f"[{host}]"
    return f"nbd://{host}:{port}/{path}"


async def _pool_id(client: Any, pool: str) -> int:
    pid = int(client.osdmap.lookup_pool(pool))
    if pid < 0:
        await client.wait_for_latest_osdmap()
        pid = int(client.osdmap.lookup_pool(pool))
    if pid < 0:
        raise CephError(errno.ENOENT, f"error opening pool '{pool}': (2) No such file or directory")
    return pid


async def serve(args: argparse.Namespace, ready: Callable[[dict[str, Any]], None]) -> None:
    """The server process: map `args.spec` and serve it until SIGTERM/SIGINT."""
    from pyceph.client.ioctx import IoCtx
    from pyceph.client.rados_client import RadosClient
    from pyceph.common.config import CephConfig
    from pyceph.common.runtime import real_runtime
    from pyceph.embedded import registry
    from pyceph.rbdlib import open_image

    pool, namespace, image, snap = mapper.parse_spec(args.spec)
    run_dir = mapper.runtime_dir(args.run_dir)
    cfg = CephConfig(name=_client_name(args) or "client.admin")
    cfg.read_file(args.conf)
    cfg.parse_env()
    if registry.target_of(cfg) is not None:
        raise CephError(
            errno.EINVAL, "an embedded cluster (mon_host = embedded:) cannot be mapped by rbd-nbd"
        )
    bind = _parse_bind(args.bind or DEFAULT_BIND)
    client = RadosClient(real_runtime(), cfg)
    try:
        await client.connect()
        ioctx = IoCtx(client, await _pool_id(client, pool), nspace=namespace)
        img = await open_image(ioctx, image, snapshot=snap, read_only=args.read_only)
        try:
            if args.exclusive:
                await _acquire_exclusive(img)
            device = await RbdDevice.open(img)
            spec = (pool, namespace, image, snap)
            await _serve_device(device, spec, args.socket, bind, run_dir, ready)
            await img.flush()
        finally:
            await img.close()
    finally:
        with contextlib.suppress(Exception):
            await client.shutdown()


async def _serve_device(
    device: RbdDevice,
    spec: tuple[str, str, str, str | None],
    socket_path: str | None,
    bind: tuple[str, int],
    run_dir: str,
    ready: Callable[[dict[str, Any]], None],
) -> None:
    """Listen, publish the state file, serve until SIGTERM/SIGINT, then stop cleanly:
    requests in flight are answered and what was written is flushed."""
    from pyceph.nbd.server import NbdServer

    pool, namespace, image, snap = spec
    export = export_name(image, snap)
    server = NbdServer({export: device})
    state_file = ""
    try:
        if socket_path:
            path = await server.listen_unix(os.path.abspath(socket_path))
            address = device_address(export, socket_path=path)
        else:
            host, port = await server.listen_tcp(*bind)
            address = device_address(export, host=host, port=port)
        mapped = MappedDevice(os.getpid(), pool, namespace, image, snap, address, device.read_only)
        state_file = mapper.write_state(run_dir, mapped)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        ready({"ok": True, "device": asdict(mapped)})
        await stop.wait()
        log.info("rbd-nbd %s: stopping", address)
    finally:
        await server.close()
        if state_file:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(state_file)


async def _acquire_exclusive(img: Any) -> None:
    """`--exclusive`: take the image's managed lock and keep it (upstream's rbd-nbd calls
    `lock_acquire(RBD_LOCK_MODE_EXCLUSIVE)`); refused while the engine has no managed
    exclusive lock."""
    acquire = getattr(img, "lock_acquire", None)
    if acquire is None:
        raise CephError(errno.EOPNOTSUPP, "--exclusive needs the engine's exclusive lock")
    await acquire(RBD_LOCK_MODE_EXCLUSIVE)


def _serve_foreground(args: argparse.Namespace) -> int:
    """Run the server here; report readiness on `--ready-fd` or stdout."""
    fd = args.ready_fd
    sent = False

    def ready(msg: dict[str, Any]) -> None:
        nonlocal sent
        sent = True
        if fd is None:
            if msg.get("ok"):
                print(msg["device"]["device"], flush=True)
            return
        with os.fdopen(fd, "w") as f:  # closing it tells the parent we are ready
            f.write(json.dumps(msg) + "\n")

    import uvloop

    from pyceph.common.runtime import tune_malloc

    try:
        _parse_bind(args.bind or DEFAULT_BIND)
        # a server process from here on: its log (the run dir's rbd-nbd.log when mapped in
        # the background), daemon malloc settings, uvloop
        logging.basicConfig(
            stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(message)s"
        )
        tune_malloc()
        uvloop.run(serve(args, ready))
    except (CephError, OSError) as e:
        err = e.errno or errno.EIO
        text = e.message if isinstance(e, CephError) and e.message else str(e)
        if not sent:
            ready({"ok": False, "errno": err, "error": text})
        print(f"rbd-nbd: {text}", file=sys.stderr)
        return 1
    return 0


_LIST_COLUMNS = ("id", "pool", "namespace", "image", "snap", "device")


def format_mapped(mapped: list[MappedDevice], fmt: str = "plain", pretty: bool = False) -> str:
    """`rbd device list -t nbd` / `rbd-nbd list-mapped` output: a table (nothing when
    empty), or a JSON / XML list of {id, pool, namespace, image, snap, device}."""
    rows = [m.to_json() for m in mapped]
    if fmt in ("json", "json-pretty"):
        pretty = pretty or fmt == "json-pretty"
        text = dump_json(rows, pretty)
        return text if pretty else text + "\n"
    if fmt == "xml":
        body = "".join(
            "<device>"
            + "".join(f"<{k}>{xml_escape(str(row[k]))}</{k}>" for k in _LIST_COLUMNS)
            + "</device>"
            for row in rows
        )
        return f"<devices>{body}</devices>\n"
    if not rows:
        return ""
    table = TextTable()
    for col in _LIST_COLUMNS:
        table.define_column(col)
    for row in rows:
        table.add_row([row[k] for k in _LIST_COLUMNS])
    return str(table)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list-mapped":
            mapped = mapper.list_mapped(args.run_dir)
            sys.stdout.write(format_mapped(mapped, args.format, args.pretty_format))
            return 0
        if not args.spec:
            what = "image or snap spec" if args.command == "map" else "device or image spec"
            print(f"rbd-nbd: must specify {what}", file=sys.stderr)
            return 1
        if args.command == "unmap":
            mapper.unmap(args.spec, args.run_dir)
            return 0
        if args.foreground:
            return _serve_foreground(args)
        pool, namespace, image, snap = mapper.parse_spec(args.spec)
        mapped = mapper.map_image(
            args.conf,
            pool,
            namespace,
            image,
            snap,
            args.read_only,
            bind=args.bind,
            socket_path=args.socket,
            exclusive=args.exclusive,
            client_name=_client_name(args),
            run_dir=args.run_dir,
        )
        print(mapped.device)
        return 0
    except CephError as e:
        print(f"rbd-nbd: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
