"""`pyceph up|down|status [DIR]`, `pyceph osd add [DIR]`: a local cluster of real daemons
in one directory."""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import threading

from pyceph.cli.localcluster import (
    DASHBOARD_TIMEOUT,
    READY_TIMEOUT,
    LocalCluster,
    setup_dashboard,
)
from pyceph.common.errors import CephError

DEFAULT_DIR = "./cluster"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pyceph", description="Run a local pyceph cluster.")
    sub = p.add_subparsers(dest="verb", required=True)
    up = sub.add_parser("up", help="create (if needed) and start a local cluster")
    up.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    up.add_argument("--osds", type=int, default=3, help="OSDs of a new cluster (default 3)")
    up.add_argument(
        "--mgrs", type=int, default=1, help="mgrs: one active, the others standby (default 1)"
    )
    up.add_argument("--timeout", type=float, default=READY_TIMEOUT)
    down = sub.add_parser("down", help="stop every daemon of the cluster (data kept)")
    down.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    st = sub.add_parser("status", help="which daemons run")
    st.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    osd = sub.add_parser("osd", help="OSDs of a running cluster")
    osd_sub = osd.add_subparsers(dest="osd_verb", required=True)
    add = osd_sub.add_parser(
        "add", help="add OSDs to the running cluster (each gets the lowest free id)"
    )
    add.add_argument("dir", nargs="?", default=DEFAULT_DIR)
    add.add_argument("--count", type=int, default=1, help="how many OSDs (default 1)")
    add.add_argument("--timeout", type=float, default=READY_TIMEOUT)
    args = p.parse_args(argv)
    cluster = LocalCluster(args.dir)
    try:
        if args.verb == "up":
            return _up(cluster, args)
        if not cluster.exists():
            print(f"pyceph: no cluster in {cluster.path}", file=sys.stderr)
            return 2
        if args.verb == "osd":  # the only osd verb: add
            for name in cluster.add_osds(args.count):
                print(f"started {name}")
            cluster.wait_ready(args.timeout)
            print("cluster ready")
            return 0
        if args.verb == "down":
            for name in cluster.stop():
                print(f"stopped {name}")
            return 0
        running = cluster.running()
        for name, pid in running.items():
            print(f"{name:8} {f'running (pid {pid})' if pid else 'stopped'}")
        return 0 if all(running.values()) else 3
    except CephError as e:
        print(f"pyceph: {e}", file=sys.stderr)
        return 1


def _up(cluster: LocalCluster, args: argparse.Namespace) -> int:
    """`pyceph up`: create (if needed) and start the cluster; set up the dashboard while
    the cluster comes up (it needs the mon and the mgr, not the OSDs), then print the
    readiness, the dashboard's access and, last, the conf path."""
    if cluster.exists():
        cluster.start()
    else:
        cluster.create_and_start(num_osds=args.osds, num_mgrs=args.mgrs)
    have = sum(1 for d in cluster.daemons() if d.kind == "mgr")
    if args.mgrs > have:
        cluster.add_mgrs(args.mgrs - have)
    cancel = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dashboard") as pool:
        dash = pool.submit(setup_dashboard, cluster, DASHBOARD_TIMEOUT + args.timeout, cancel)
        try:
            cluster.wait_ready(args.timeout)
        except BaseException:
            cancel.set()
            raise
        print(f"cluster ready; export CEPH_CONF={cluster.conf_path}", flush=True)
        try:
            access = dash.result()
            print(
                f"dashboard: {access.url} user {access.user} password {access.password}"
                f" (kept in {access.password_file})"
            )
        except CephError as e:  # the cluster is up; say why the dashboard is not
            print(f"pyceph: dashboard not available: {e}", file=sys.stderr)
    print(cluster.conf_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
