"""`ceph-rest-api`: the REST API v0.1 as a standalone command (seed 004).

Upstream's `ceph-rest-api` script (src/ceph-rest-api with src/pybind/ceph_rest_api.py,
Dumpling to Luminous): ``ceph-rest-api [-h] [-c CONF] [--cluster CLUSTER]
[-n NAME] [-i ID]``. It connects with the `rados` module as that cephx user
(upstream's default `client.restapi`), reads `restapi_base_url` (empty: `/api/v0.1`),
`restapi_public_addr` (`127.0.0.1:5000`) and `restapi_log_level` (empty: warning;
requests are logged at info, commands at debug, on stderr) from its configuration ([NAME],
[client], [global], `CEPH_ARGS`), and serves `pyceph.restapi`'s application with
`pyceph.mgr.web.WebServer` until SIGINT or SIGTERM, then closes the listener and
the cluster handle and exits 0.
"""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType

import rados
from pyceph.common.addr import parse_addr
from pyceph.common.errors import CephError
from pyceph.mgr.web import WebServer
from pyceph.restapi import DEFAULT_ADDR, DEFAULT_CLIENT_NAME, make_app
from pyceph.restapi.client import runner
from pyceph.restapi.routes import normalize_base_url

__all__ = ["main", "parse_args"]

#: seconds the cluster connection may take before the command gives up
CONNECT_TIMEOUT = 30
#: port of a `restapi_public_addr` that names none (upstream's default port)
DEFAULT_PORT = int(DEFAULT_ADDR.rsplit(":", 1)[1])
#: `restapi_log_level` values (upstream's LOGLEVELS); empty means warning
LOG_LEVELS = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}
DEFAULT_LOG_LEVEL = "warning"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Upstream's flags, with its help texts."""
    p = argparse.ArgumentParser(prog="ceph-rest-api", description="Ceph REST API webapp")
    p.add_argument("-c", "--conf", help="Ceph configuration file")
    p.add_argument("--cluster", help="Ceph cluster name")
    p.add_argument("-n", "--name", help="Ceph client name")
    p.add_argument("-i", "--id", help="Ceph client id")
    return p.parse_args(argv)


def client_name(args: argparse.Namespace) -> str:
    """-n wins over -i; upstream's default is client.restapi."""
    if args.name:
        return str(args.name)
    if args.id:
        return "client." + str(args.id)
    return DEFAULT_CLIENT_NAME


def _announcer(host: str) -> Callable[[int], None]:
    """What the server prints once it listens (as upstream's werkzeug did)."""
    shown = f"[{host}]" if ":" in host else host

    def announce(port: int) -> None:
        print(f" * Running on http://{shown}:{port}/", flush=True)

    return announce


def main(argv: Sequence[str] | None = None) -> int:
    """Run ceph-rest-api; the exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        cluster = rados.Rados(
            name=client_name(args), clustername=args.cluster or None, conffile=args.conf or ""
        )
        cluster.conf_parse_env()
        cluster.connect(timeout=CONNECT_TIMEOUT)
    except (rados.Error, CephError) as e:
        print(f"ceph-rest-api: cannot connect to the cluster: {e}", file=sys.stderr)
        return 1
    server = WebServer("ceph-rest-api")
    try:
        level = (cluster.conf_get("restapi_log_level") or DEFAULT_LOG_LEVEL).lower()
        if level not in LOG_LEVELS:
            raise CephError(errno.EINVAL, f"restapi_log_level {level!r} is not one of {', '.join(LOG_LEVELS)}")  # fmt: skip
        logging.basicConfig(
            level=LOG_LEVELS[level], format="%(asctime)s %(name)s %(levelname)s: %(message)s"
        )
        base_url = normalize_base_url(cluster.conf_get("restapi_base_url"))
        addr = cluster.conf_get("restapi_public_addr") or DEFAULT_ADDR
        host, port = parse_addr(addr, DEFAULT_PORT)
        app = make_app(runner(server.blocking, lambda: cluster), base_url)

        def on_signal(signum: int, frame: FrameType | None) -> None:
            server.stop()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        server.run(app, host, port, on_ready=_announcer(host))
    except (OSError, CephError) as e:
        print(f"ceph-rest-api: {e}", file=sys.stderr)
        return 1
    finally:
        server.close()
        cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
