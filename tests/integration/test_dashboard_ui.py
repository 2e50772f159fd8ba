"""The dashboard's web UI in a real browser, against a real cluster.

Debian's chromium (`/usr/bin/chromium`, from `scripts/test-debs.txt`) is driven by
Playwright's sync API through `executable_path` (no browser is downloaded),
headless, with a fresh user-data dir per test. The `dashboard` module is enabled
on its own cluster as an operator would: TLS on (its default) with
`ceph dashboard create-self-signed-cert` (the browser accepts the self-signed
certificate), a free port, an administrator made with `ceph dashboard
ac-user-create`, and the mgr given `mon 'allow *'` so that it may write cephx
users. The tests use the UI as a person does — controls found by role and
accessible name — and check the cluster behind it with `rados`/`rbd`.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright
from tests.conftest import make_cluster
from tests.waiting import wait_until

import rados
import rbd
from pyceph.cli.localcluster import free_port

#: Debian's browser; Playwright never downloads one
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
#: bound on waiting for the cluster and the module (s)
WAIT = 30.0
#: bound on any one UI expectation (ms): API calls include mon round trips
UI_WAIT_MS = 30_000
#: bound on the throughput chart showing the writer's bytes (ms): the mgr's stats
#: period plus the UI's poll, with room for a loaded machine
CHART_WAIT_MS = 60_000
#: a write rate (bytes/s) only the writer reaches, not the UI's own metadata writes
WRITER_MIN_RATE = 512 * 1024
#: the writer's object size and how long joining it may take (s)
WRITE_SIZE = 256 * 1024
JOIN_TIMEOUT = 30.0
MIB = 1024 * 1024
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}
ADMIN = ("admin", "Ui-Adm1n-Passw0rd!")
#: the mgr's caps that let the dashboard write cephx users
MGR_ALL_CAPS = ["mon", "allow *", "osd", "allow *", "mds", "allow *", "mgr", "allow *"]


@dataclass
class Site:
    """The dashboard of a running cluster: its URL and an admin `rados` handle."""

    url: str
    conf: str
    rados: rados.Rados


def _mon(r: rados.Rados, **c: Any) -> tuple[int, str, str]:
    ret, out, err = r.mon_command(json.dumps(c), b"")
    return ret, out.decode(), err


def _mgr(r: rados.Rados, inbuf: str = "", **c: Any) -> tuple[int, str, str]:
    ret, out, err = r.mgr_command(json.dumps(c), inbuf.encode())
    return ret, out.decode(), err


def _serving(url: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the module's own self-signed certificate
    try:
        with urllib.request.urlopen(url, timeout=10, context=ctx) as resp:
            return resp.status == 200 and b"<html" in resp.read()
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with tempfile.TemporaryDirectory(prefix="pyceph-dashui-") as tmp:
        cluster = make_cluster(os.path.join(tmp, "c"))
        r = rados.Rados(conffile=cluster.conf_path)
        try:
            r.connect()
            # as upstream, the mgr manages cephx users only with `mon 'allow *'` (the
            # mon applies caps to new sessions: the mgr restarts with them)
            ret, _, err = _mon(r, prefix="auth caps", entity="mgr.x", caps=MGR_ALL_CAPS)
            assert ret == 0, err
            cluster.stop(["mgr.x"])
            cluster.start(["mgr.x"])
            port = free_port()
            for name, value in (("server_addr", "127.0.0.1"), ("ssl_server_port", str(port))):
                ret, _, err = _mon(
                    r, prefix="config set", who="mgr", name=f"mgr/dashboard/{name}", value=value
                )
                assert ret == 0, err
            wait_until(
                lambda: _mon(r, prefix="mgr module enable", module="dashboard")[0] == 0,
                "the dashboard module enabled",
                WAIT,
            )
            wait_until(
                lambda: _mgr(r, prefix="dashboard create-self-signed-cert")[0] == 0,
                "a self-signed certificate",
                WAIT,
            )
            ret, _, err = _mgr(
                r,
                ADMIN[1],
                prefix="dashboard ac-user-create",
                username=ADMIN[0],
                rolename="administrator",
            )
            assert ret == 0, err
            url = f"https://127.0.0.1:{port}/"
            wait_until(lambda: _serving(url), "the dashboard serving its UI", WAIT)
            yield Site(url, cluster.conf_path, r)
        finally:
            r.shutdown()
            cluster.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Any) -> Iterator[BrowserContext]:
    """Chromium with a fresh user-data dir, trusting the module's self-signed certificate."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=LAPTOP,
        ignore_https_errors=True,
    )
    context.set_default_timeout(UI_WAIT_MS)
    expect.set_options(timeout=UI_WAIT_MS)
    try:
        yield context
    finally:
        context.close()


def _page(browser: BrowserContext) -> tuple[Page, list[str]]:
    """The browser's page and the list its uncaught script errors are collected in."""
    page = browser.pages[0] if browser.pages else browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _login(page: Page, site: Site) -> None:
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Log in to the dashboard")).to_be_visible()
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


class Writer:
    """A `rados` client writing objects into `pool` from a thread until stopped."""

    def __init__(self, conf: str, pool: str) -> None:
        self.conf, self.pool = conf, pool
        self.stop = threading.Event()
        self.written = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="ui-writer", daemon=True)

    def _run(self) -> None:
        try:
            with rados.Rados(conffile=self.conf) as r, r.open_ioctx(self.pool) as io:
                data = os.urandom(WRITE_SIZE)
                while not self.stop.is_set():
                    io.write_full(f"ui-writer-{self.written % 64}", data)
                    self.written += 1
        except BaseException as e:  # reported by the test, after join
            self.error = e

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(JOIN_TIMEOUT)
        assert not self.thread.is_alive(), "the writer did not stop"


def test_operator_walkthrough(site: Site, browser: BrowserContext, tmp_path: Any) -> None:
    """Log in, see health, create a pool, an image and a snapshot, watch the
    throughput chart move while a client writes, mark an OSD out and in, see a
    refused delete explained, delete the pool, log out."""
    page, js_errors = _page(browser)
    _login(page, site)

    # health, with its status from the cluster
    health = page.locator("[data-health]")
    expect(health).to_have_attribute("data-health", re.compile(r"HEALTH_(OK|WARN|ERR)"))
    expect(health).to_have_text(health.get_attribute("data-health") or "?")
    checks = page.get_by_role("list", name="Health checks").or_(
        page.get_by_text("No health checks")
    )
    expect(checks).to_be_visible()
    expect(page.get_by_role("progressbar", name="Raw capacity used")).to_be_visible()
    # a check raised in the cluster shows up without a reload, and goes away
    assert _mon(site.rados, prefix="osd set", key="noout")[0] == 0
    check = page.get_by_role("list", name="Health checks").get_by_role("listitem")
    expect(check.filter(has_text="OSDMAP_FLAGS")).to_contain_text("noout flag(s) set")
    expect(health).to_have_attribute("data-health", "HEALTH_WARN")
    assert _mon(site.rados, prefix="osd unset", key="noout")[0] == 0
    expect(check.filter(has_text="OSDMAP_FLAGS")).to_have_count(0)

    # a pool, created through the UI, exists in the cluster
    _nav(page, "Pools")
    page.get_by_role("button", name="Create pool").click()
    dialog = page.get_by_role("dialog", name="Create pool")
    dialog.get_by_label("Name", exact=True).fill("ui-pool")
    dialog.get_by_label("Placement groups").fill("8")
    dialog.get_by_label("Application").select_option("rbd")
    dialog.get_by_role("button", name="Create pool").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-pool")).to_be_visible()
    assert site.rados.pool_exists("ui-pool")

    # an RBD image and a snapshot of it
    _nav(page, "Block images")
    page.get_by_role("button", name="Create image").click()
    dialog = page.get_by_role("dialog", name="Create image")
    dialog.get_by_label("Name", exact=True).fill("ui-disk")
    dialog.get_by_label("Pool").select_option("ui-pool")
    dialog.get_by_label("Size", exact=True).fill("64")
    dialog.get_by_label("Unit").select_option("MiB")
    dialog.get_by_role("button", name="Create image").click()
    expect(dialog).to_be_hidden()
    row = page.get_by_role("row", name="ui-pool/ui-disk")
    expect(row).to_contain_text("64.0 MiB")
    page.get_by_role("button", name="Create snapshot of ui-pool/ui-disk").click()
    dialog = page.get_by_role("dialog", name="Create snapshot of ui-pool/ui-disk")
    dialog.get_by_label("Snapshot name").fill("s1")
    dialog.get_by_role("button", name="Create snapshot").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-pool/ui-disk@s1")).to_be_visible()
    with site.rados.open_ioctx("ui-pool") as io:
        assert "ui-disk" in rbd.RBD().list(io)
        with rbd.Image(io, "ui-disk", read_only=True) as img:
            assert img.size() == 64 * 1024 * 1024
            assert [s["name"] for s in img.list_snaps()] == ["s1"]

    # the throughput and IOPS charts follow a writer without a reload: new samples
    # come in, and the latest shows the writer's rate (the image's metadata writes
    # above are far below it)
    _nav(page, "Dashboard")
    chart = page.locator("figure[data-chart=throughput]")
    expect(chart).to_have_attribute("data-samples", re.compile(r"[1-9]\d*"))
    before = int(chart.get_attribute("data-samples") or 0)
    with Writer(site.conf, "ui-pool") as writer:
        page.wait_for_function(
            """([min]) => {
              const t = document.querySelector('figure[data-chart=throughput]').dataset;
              const i = document.querySelector('figure[data-chart=iops]').dataset;
              return Number(t.writeLatest) >= min && Number(i.writeLatest) > 0;
            }""",
            arg=[WRITER_MIN_RATE],
            timeout=CHART_WAIT_MS,
        )
    assert writer.error is None, writer.error
    assert writer.written > 0
    assert int(chart.get_attribute("data-samples") or 0) > before
    expect(page.get_by_role("img", name="Client throughput")).to_contain_text("Write")

    # an OSD out and back in; its state shown from the cluster's map
    _nav(page, "OSDs")
    page.get_by_role("button", name="Mark osd.2 out").click()
    expect(page.get_by_role("button", name="Mark osd.2 in")).to_be_visible()
    assert _osd_in(site.rados, 2) is False
    page.get_by_role("button", name="Mark osd.2 in").click()
    expect(page.get_by_role("button", name="Mark osd.2 out")).to_be_visible()
    assert _osd_in(site.rados, 2) is True

    # an API refusal is shown to the user with its detail and changes nothing; once
    # the cause is gone the same delete works
    _nav(page, "Pools")
    _pool_flag(site.rados, "ui-pool", "nodelete", "true")
    page.get_by_role("button", name="Delete pool ui-pool").click()
    dialog = page.get_by_role("dialog", name="Delete pool")
    dialog.get_by_role("button", name="Delete pool").click()
    expect(dialog.get_by_role("alert")).to_contain_text("nodelete")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert site.rados.pool_exists("ui-pool")
    _pool_flag(site.rados, "ui-pool", "nodelete", "false")
    page.get_by_role("button", name="Delete pool ui-pool").click()
    dialog.get_by_role("button", name="Delete pool").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-pool")).to_have_count(0)
    assert not site.rados.pool_exists("ui-pool")

    # log out: back to the login page, and the pages need a new login
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to the dashboard")).to_be_visible()
    page.goto(site.url + "#/pools")
    expect(page.get_by_role("heading", name="Log in to the dashboard")).to_be_visible()
    assert js_errors == []


def test_rbd_image_lifecycle(site: Site, browser: BrowserContext) -> None:
    """Resize, snapshot, clone, move to trash, restore and delete images in the UI;
    each step checked with `rbd`."""
    r = site.rados
    r.create_pool("ui-rbd")
    assert _mon(r, prefix="osd pool application enable", pool="ui-rbd", app="rbd")[0] == 0
    with r.open_ioctx("ui-rbd") as io:
        rbd.RBD().create(io, "base", 32 * MIB)
    page, js_errors = _page(browser)
    _login(page, site)
    _nav(page, "Block images")

    page.get_by_role("button", name="Resize ui-rbd/base").click()
    dialog = page.get_by_role("dialog", name="Resize ui-rbd/base")
    dialog.get_by_label("Size", exact=True).fill("128")
    dialog.get_by_label("Unit").select_option("MiB")
    dialog.get_by_role("button", name="Resize").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-rbd/base")).to_contain_text("128 MiB")
    assert _image_size(r, "ui-rbd", "base") == 128 * MIB

    page.get_by_role("button", name="Create snapshot of ui-rbd/base").click()
    dialog = page.get_by_role("dialog", name="Create snapshot of ui-rbd/base")
    dialog.get_by_label("Snapshot name").fill("gold")
    dialog.get_by_role("button", name="Create snapshot").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Protect ui-rbd/base@gold").click()
    expect(page.get_by_role("button", name="Unprotect ui-rbd/base@gold")).to_be_visible()
    page.get_by_role("button", name="Clone ui-rbd/base@gold").click()
    dialog = page.get_by_role("dialog", name="Clone ui-rbd/base@gold")
    dialog.get_by_label("New image name").fill("child")
    dialog.get_by_role("button", name="Clone").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-rbd/child")).to_contain_text("ui-rbd/base@gold")
    with r.open_ioctx("ui-rbd") as io, rbd.Image(io, "child", read_only=True) as img:
        assert img.parent_info()[1:] == ("base", "gold")

    # to the trash and back
    page.get_by_role("button", name="Move ui-rbd/child to trash").click()
    dialog = page.get_by_role("dialog", name="Move to trash")
    dialog.get_by_role("button", name="Move to trash").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-rbd/child")).to_have_count(1)  # the trash's row
    expect(page.get_by_role("button", name="Restore ui-rbd/child")).to_be_visible()
    with r.open_ioctx("ui-rbd") as io:
        assert "child" not in rbd.RBD().list(io)
        assert [t["name"] for t in rbd.RBD().trash_list(io)] == ["child"]
    page.get_by_role("button", name="Restore ui-rbd/child").click()
    dialog = page.get_by_role("dialog", name="Restore ui-rbd/child")
    dialog.get_by_role("button", name="Restore").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Delete ui-rbd/child", exact=True)).to_be_visible()
    with r.open_ioctx("ui-rbd") as io:
        assert "child" in rbd.RBD().list(io)
        assert list(rbd.RBD().trash_list(io)) == []

    # delete the clone
    page.get_by_role("button", name="Delete ui-rbd/child", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete image")
    dialog.get_by_role("button", name="Delete image").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="ui-rbd/child")).to_have_count(0)
    with r.open_ioctx("ui-rbd") as io:
        assert sorted(rbd.RBD().list(io)) == ["base"]
    assert js_errors == []


def test_phone_menu(site: Site, browser: BrowserContext) -> None:
    """At a phone's width the navigation is a menu button that opens and closes."""
    page, js_errors = _page(browser)
    page.set_viewport_size(PHONE)
    _login(page, site)
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="OSDs")).to_be_visible()
    nav.get_by_role("link", name="OSDs").click()
    expect(page.get_by_role("heading", name="OSDs", exact=True)).to_be_visible()
    expect(nav).to_be_hidden()
    expect(page.get_by_role("row", name="osd.0")).to_be_visible()
    # the page fits the screen: nothing wider than the viewport but the tables' scrollers
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    assert js_errors == []


def test_cephx_users_modules_and_log(site: Site, browser: BrowserContext) -> None:
    """A cephx user created, its caps edited and deleted; a mgr module enabled and
    disabled; the cluster log listed — each checked against the cluster."""
    page, js_errors = _page(browser)
    _login(page, site)

    _nav(page, "Cephx users")
    expect(page.get_by_role("row", name="client.admin")).to_be_visible()
    page.get_by_role("button", name="Create user").click()
    dialog = page.get_by_role("dialog", name="Create user")
    dialog.get_by_label("Entity").fill("client.ui-app")
    dialog.get_by_label("mon caps").fill("allow r")
    dialog.get_by_label("osd caps").fill("allow rw pool=ui")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="client.ui-app")).to_contain_text("allow rw pool=ui")
    assert _caps(site.rados, "client.ui-app") == {"mon": "allow r", "osd": "allow rw pool=ui"}
    page.get_by_role("button", name="Edit caps of client.ui-app").click()
    dialog = page.get_by_role("dialog", name="Edit caps of client.ui-app")
    dialog.get_by_label("osd caps").fill("allow r pool=ui")
    dialog.get_by_role("button", name="Save caps").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row", name="client.ui-app")).to_contain_text("allow r pool=ui")
    assert _caps(site.rados, "client.ui-app") == {"mon": "allow r", "osd": "allow r pool=ui"}
    # a refused entity name: the API's reason shown, nothing created
    page.get_by_role("button", name="Create user").click()
    dialog = page.get_by_role("dialog", name="Create user")
    dialog.get_by_label("Entity").fill("client.ui-app")
    dialog.get_by_role("button", name="Create user").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")
    dialog.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Delete user client.ui-app").click()
    page.get_by_role("dialog", name="Delete user").get_by_role("button", name="Delete user").click()
    expect(page.get_by_role("row", name="client.ui-app")).to_have_count(0)
    assert _caps(site.rados, "client.ui-app") is None

    _nav(page, "Manager modules")
    # iostat is one of a new cluster's mgr_initial_modules
    page.get_by_role("button", name="Disable module iostat").click()
    expect(page.get_by_role("button", name="Enable module iostat")).to_be_visible()
    assert "iostat" not in _enabled_modules(site.rados)
    page.get_by_role("button", name="Enable module iostat").click()
    expect(page.get_by_role("button", name="Disable module iostat")).to_be_visible()
    assert "iostat" in _enabled_modules(site.rados)

    _nav(page, "Logs")
    expect(page.get_by_role("tab", name="Cluster log")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel").get_by_role("row").nth(1)).to_be_visible()
    page.get_by_role("tab", name="Audit log").click()
    expect(page.get_by_role("tab", name="Audit log")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel")).to_contain_text("auth")
    assert js_errors == []


def _caps(r: rados.Rados, entity: str) -> dict[str, str] | None:
    ret, out, _ = _mon(r, prefix="auth get", entity=entity, format="json")
    return json.loads(out)[0]["caps"] if ret == 0 else None


def _enabled_modules(r: rados.Rados) -> list[str]:
    return list(json.loads(_mon(r, prefix="mgr module ls", format="json")[1])["enabled_modules"])


def test_refused_token_returns_to_login(site: Site, browser: BrowserContext) -> None:
    """A token the API no longer accepts (401) sends the user to the login page with a
    notice; a wrong password is refused with the API's detail."""
    page, js_errors = _page(browser)
    _login(page, site)
    page.evaluate("() => sessionStorage.setItem('pyceph.dashboard.token', 'not.a.token')")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="OSDs").click()
    expect(page.get_by_role("heading", name="Log in to the dashboard")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="session has ended")).to_be_visible()
    page.get_by_label("Username").fill(ADMIN[0])
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("form", name="Log in").get_by_role("alert")).to_have_text(
        "Invalid credentials"
    )
    assert js_errors == []


def _image_size(r: rados.Rados, pool: str, name: str) -> int:
    with r.open_ioctx(pool) as io, rbd.Image(io, name, read_only=True) as img:
        return int(img.size())


def _pool_flag(r: rados.Rados, pool: str, var: str, val: str) -> None:
    ret, _, err = _mon(r, prefix="osd pool set", pool=pool, var=var, val=val)
    assert ret == 0, err


def _osd_in(r: rados.Rados, osd: int) -> bool:
    dump = json.loads(_mon(r, prefix="osd dump", format="json")[1])
    return bool(next(o for o in dump["osds"] if o["osd"] == osd)["in"])


#: the UI's pure functions (formatting, chart scale, the API's shapes): expression -> value
PURE_CASES = {
    "fmt.bytes(0)": "0 B",
    "fmt.bytes(1536)": "1.50 KiB",
    "fmt.bytes(64 * 2 ** 20)": "64.0 MiB",
    "fmt.bytes(3 * 2 ** 40)": "3.00 TiB",
    "fmt.rate(2048)": "2.00 KiB/s",
    "fmt.percent(0.035)": "3.5 %",
    "fmt.parseStamp('2026-12-07T07:44:17.026+0000')": 1796629457026,
    "fmt.parseStamp('2026-12-07T07:44:17.026Z')": 1796629457026,
    "fmt.parseStamp(1796629457)": 1796629457000,
    "[{seq: 1, stamp: '2026-12-07T07:00:00+0000'}, {seq: 2, stamp: '2026-12-07T08:00:00+0000'},"
    " {seq: 3, stamp: '2026-12-07T08:00:00+0000'}].sort(logs.newestFirst).map((e) => e.seq)": [
        3,
        2,
        1,
    ],
    "chart.niceCeil(0)": 1,
    "chart.niceCeil(3)": 5,
    "chart.niceCeil(120)": 200,
    "chart.niceCeil(1000)": 1000,
    "api.errorDetail({detail: 'pool exists'}, 'x')": "pool exists",
    "api.errorDetail({detail: [{msg: 'a'}, {msg: 'b'}]}, 'x')": "a; b",
    "api.errorDetail(null, '404 Not Found')": "404 Not Found",
    "api.imageSpec('rbd', 'disk')": "rbd%2Fdisk",
    "api.imageSpec('rbd', 'disk', 'ns')": "rbd%2Fns%2Fdisk",
    "pools.latest({latest: 5, rate: 1})": 5,
    "pools.latest(7)": 7,
    "pools.latest(undefined)": 0,
    "rbd.flattenPools([{pool_name: 'p', value: [{name: 'a'}]}, {pool_name: 'q', name: 'b'}])": [
        {"pool_name": "p", "name": "a"},
        {"pool_name": "q", "name": "b"},
    ],
    "dash.healthChecks({checks: {OSD_DOWN: {severity: 'HEALTH_WARN'}}})": [
        {"type": "OSD_DOWN", "severity": "HEALTH_WARN"}
    ],
    "dash.healthChecks({checks: [{type: 'X'}]})": [{"type": "X"}],
    "users.capabilities({mon: ' allow r ', osd: '', mgr: 'allow *'})": [
        {"entity": "mon", "cap": "allow r"},
        {"entity": "mgr", "cap": "allow *"},
    ],
}


def test_ui_pure_functions(site: Site, browser: BrowserContext) -> None:
    """The modules' pure functions, imported as the UI serves them and run in the browser."""
    page, js_errors = _page(browser)
    page.goto(site.url)
    cases = list(PURE_CASES)
    got = page.evaluate(
        """async (cases) => {
          const names = ['fmt', 'chart', 'api', 'pools', 'rbd', 'dash', 'logs', 'users'];
          const mods = await Promise.all([
            import('/js/format.js'), import('/js/chart.js'), import('/js/api.js'),
            import('/js/pages/pools.js'), import('/js/pages/rbd.js'),
            import('/js/pages/dashboard.js'), import('/js/pages/logs.js'),
            import('/js/pages/users.js')]);
          return cases.map((c) => new Function(...names, `return (${c});`)(...mods));
        }""",
        cases,
    )
    assert dict(zip(cases, got, strict=True)) == PURE_CASES
    assert js_errors == []
