"""Screenshots of the dashboard's main pages, for the docs (`docs/dashboard/*.png`).

Starts a cluster of its own in a temporary directory (`pyceph.cli.localcluster`,
three OSDs), enables the `dashboard` module as an operator would (TLS with
`ceph dashboard create-self-signed-cert`, an administrator from `ceph dashboard
ac-user-create`), puts data in (an RBD pool with images, a snapshot and a clone,
an image in the trash, a RADOS pool with objects, a cephx user), keeps a client
writing so the charts move, and saves each main page at a laptop size and the
landing page, the open menu and the images page at a phone size, with Debian's
chromium driven by Playwright (`executable_path`: no browser download).

    python scripts/dashboard_screenshots.py [--out docs/dashboard]
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from playwright.sync_api import Page, Playwright, sync_playwright

import rados
import rbd
from pyceph.cli.localcluster import LocalCluster, free_port

T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: the cluster: quick stats so the charts follow the writer; OSDs of a plausible size
CLUSTER_OPTIONS = {
    "mgr_stats_period": "1",
    "mon_tick_interval": "1",
    "osd_pool_default_pg_num": "16",
    "pyceph_osd_capacity": "20G",
    "mgr_module_path": "",
}
ADMIN = ("admin", "Shots-Adm1n-Passw0rd!")
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
#: bound on waiting for the cluster, the module and the UI (s)
WAIT = 60.0
#: chart samples to collect before the landing page is shot (one per UI poll), at
#: the laptop and the phone size
CHART_SAMPLES = 30
PHONE_CHART_SAMPLES = 20
#: the writer's object size, and how many distinct objects it cycles through
WRITE_SIZE = 512 * 1024
WRITE_OBJECTS = 32
#: pages shot at the laptop size: (route, file name)
LAPTOP_PAGES = [
    ("pools", "pools"),
    ("osds", "osds"),
    ("hosts", "hosts"),
    ("monitors", "monitors"),
    ("block", "block-images"),
    ("users", "cephx-users"),
    ("modules", "manager-modules"),
    ("logs", "logs"),
]
MIB = 1024 * 1024


def wait_until(pred: Callable[[], T], what: str, timeout: float = WAIT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.2)


def mon(r: rados.Rados, **c: Any) -> tuple[int, str, str]:
    ret, out, err = r.mon_command(json.dumps(c), b"")
    return ret, out.decode(), err


def mgr(r: rados.Rados, inbuf: str = "", **c: Any) -> tuple[int, str, str]:
    ret, out, err = r.mgr_command(json.dumps(c), inbuf.encode())
    return ret, out.decode(), err


def check(result: tuple[int, str, str], what: str) -> str:
    if result[0] != 0:
        raise RuntimeError(f"{what}: {result[2]}")
    return result[1]


def serving(url: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the module's own self-signed certificate
    try:
        with urllib.request.urlopen(url, timeout=10, context=ctx) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_dashboard(r: rados.Rados) -> str:
    """Enable the module with TLS on a free port and an administrator; its URL."""
    port = free_port()
    for name, value in (("server_addr", "127.0.0.1"), ("ssl_server_port", str(port))):
        check(mon(r, prefix="config set", who="mgr", name=f"mgr/dashboard/{name}", value=value), name)  # fmt: skip
    wait_until(lambda: mon(r, prefix="mgr module enable", module="dashboard")[0] == 0, "enable")
    wait_until(lambda: mgr(r, prefix="dashboard create-self-signed-cert")[0] == 0, "certificate")
    check(
        mgr(
            r,
            ADMIN[1],
            prefix="dashboard ac-user-create",
            username=ADMIN[0],
            rolename="administrator",
        ),  # fmt: skip
        "ac-user-create",
    )
    url = f"https://127.0.0.1:{port}/"
    wait_until(lambda: serving(url), "the dashboard")
    return url


def put_data(r: rados.Rados) -> None:
    """Pools, images, a snapshot, a clone, trash, objects, a cephx user."""
    r.create_pool("rbd")
    check(mon(r, prefix="osd pool application enable", pool="rbd", app="rbd"), "app rbd")
    r.create_pool("backups")
    check(mon(r, prefix="osd pool application enable", pool="backups", app="rbd"), "app rbd")
    r.create_pool("objects")
    check(mon(r, prefix="osd pool application enable", pool="objects", app="rgw"), "app rgw")
    with r.open_ioctx("rbd") as io:
        api = rbd.RBD()
        api.create(io, "vm-disk-1", 10 * 1024 * MIB)
        api.create(io, "vm-disk-2", 20 * 1024 * MIB)
        api.create(io, "scratch", 512 * MIB)
        with rbd.Image(io, "vm-disk-1") as img:
            for i in range(8):
                img.write(os.urandom(4 * MIB), i * 16 * MIB)
            img.create_snap("golden")
            img.protect_snap("golden")
        api.clone(io, "vm-disk-1", "golden", io, "vm-disk-1-clone")
        api.trash_move(io, "scratch", 0)
    with r.open_ioctx("backups") as io:
        rbd.RBD().create(io, "db-backup", 50 * 1024 * MIB)
    with r.open_ioctx("objects") as io:
        for i in range(40):
            io.write_full(f"object-{i:03d}", os.urandom(256 * 1024))
    check(
        mon(
            r,
            prefix="auth get-or-create",
            entity="client.glance",
            caps=["mon", "allow r", "osd", "allow rwx pool=rbd"],
        ),  # fmt: skip
        "auth get-or-create",
    )


@contextmanager
def writer(conf: str, pool: str) -> Iterator[None]:
    """A client writing into `pool` from a thread while the block runs."""
    stop = threading.Event()

    def run() -> None:
        with rados.Rados(conffile=conf) as r, r.open_ioctx(pool) as io:
            data = os.urandom(WRITE_SIZE)
            n = 0
            while not stop.is_set():
                io.write_full(f"load-{n % WRITE_OBJECTS}", data)
                if n % 3 == 0:
                    io.read(f"load-{n % WRITE_OBJECTS}")
                n += 1

    thread = threading.Thread(target=run, name="screenshot-writer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(WAIT)


def login(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard", exact=True).wait_for()


def settle(page: Page) -> None:
    """Until the page shows no 'Loading…' placeholder."""
    page.wait_for_function("() => !document.querySelector('.loading')", timeout=WAIT * 1000)


@contextmanager
def browser(p: Playwright, viewport: dict[str, int]) -> Iterator[Page]:
    """A page of a fresh headless chromium (its own user-data dir) at `viewport`."""
    with tempfile.TemporaryDirectory(prefix="shots-chromium-") as udd:
        ctx = p.chromium.launch_persistent_context(
            udd,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=viewport,
            ignore_https_errors=True,
        )
        ctx.set_default_timeout(WAIT * 1000)
        try:
            yield ctx.pages[0] if ctx.pages else ctx.new_page()
        finally:
            ctx.close()


def wait_samples(page: Page, n: int) -> None:
    """Until the throughput chart holds `n` samples (one per poll of the landing page)."""
    page.wait_for_function(
        f"() => Number(document.querySelector('figure[data-chart=throughput]')"
        f"?.dataset.samples) >= {n}",
        timeout=(n * 2 + WAIT) * 1000,
    )


def shoot(url: str, conf: str, out: str) -> list[str]:
    saved: list[str] = []

    def save(page: Page, name: str, full: bool = True) -> None:
        path = os.path.join(out, f"{name}.png")
        page.screenshot(path=path, full_page=full)
        saved.append(path)

    with sync_playwright() as p, writer(conf, "objects"):
        with browser(p, LAPTOP) as page:
            page.goto(url)
            page.get_by_label("Username").wait_for()
            save(page, "login", full=False)
            login(page, url)
            wait_samples(page, CHART_SAMPLES)
            save(page, "dashboard")
            for route, name in LAPTOP_PAGES:
                page.goto(f"{url}#/{route}")
                settle(page)
                save(page, name)
        # a phone: a browser of its own at that size (a resized one keeps stale metrics)
        with browser(p, PHONE) as page:
            login(page, url)
            wait_samples(page, PHONE_CHART_SAMPLES)
            save(page, "phone-dashboard")
            page.get_by_role("button", name="Menu").click()
            save(page, "phone-menu", full=False)
            page.get_by_role("link", name="Block images").click()
            settle(page)
            save(page, "phone-block-images")
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "docs", "dashboard"))
    args = parser.parse_args(argv)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pyceph-shots-") as tmp:
        cluster = LocalCluster(os.path.join(tmp, "c"))
        cluster.create(num_osds=3, overrides=CLUSTER_OPTIONS)
        try:
            cluster.start()
            cluster.wait_ready()
            with rados.Rados(conffile=cluster.conf_path) as r:
                url = start_dashboard(r)
                put_data(r)
                for path in shoot(url, cluster.conf_path, out):
                    print(path)
        finally:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
