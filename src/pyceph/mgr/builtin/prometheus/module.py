"""The `prometheus` mgr module: `/metrics` for Prometheus, as upstream's exporter.

Behaves as upstream's module of 16.2.15 (src/pybind/mgr/prometheus): an HTTP
server on `server_addr`:`server_port` (default port 9283) answers `/` with a
small index and `/metrics` with the cluster's health, maps, PG states, pool and
cluster capacity, and every daemon's perf counters (priority >= PRIO_USEFUL),
under upstream's metric names, labels and types (`collect.py`). As upstream's
MetricCollectionThread, a collector thread of the module renders the page every
`scrape_interval` seconds and scrapes are answered from that cache (so a scrape
never waits for a collection, except the very first); with `cache` off every
scrape collects. A cache older than twice the interval is stale: logged, or
refused with 503 when `stale_cache_strategy` is `fail`. The time each part of a
collection took is exported as `ceph_prometheus_collect_duration_seconds_*`. The server's URL is published in
`ceph mgr services`. On a standby mgr, `StandbyModule` answers `/` with a link
to the active mgr's exporter and `/metrics` empty (or with
`standby_error_status_code` when `standby_behaviour` is `error`).

The server is the standard library's threading HTTP server, run by the module's
own `serve()` thread (one short-lived thread per request): scrapes never run on
the mgr daemon's event loop, and the module needs no web framework. `shutdown()`
stops it within `SERVE_POLL` seconds; a changed address or port is picked up
the same way (the server is rebound).
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mgr_module import CLIReadCommand, HandleCommandResult, MgrModule, MgrStandbyModule, Option
from mgr_util import build_url

from . import collect
from .exposition import CONTENT_TYPE, render

#: upstream's default port (registered for Ceph's exporter with Prometheus)
DEFAULT_PORT = 9283
#: default seconds between two collections
DEFAULT_SCRAPE_INTERVAL = 15.0
#: how often the serve loop looks at `shutdown()` and at address/port changes
SERVE_POLL = 0.5
#: how long the first bind is retried while the address is in use
BIND_RETRY = 10.0
#: a cache older than this many scrape intervals is stale
STALE_FACTOR = 2.0
#: shortest pause between two collections (a slow collection does not spin)
MIN_COLLECT_PAUSE = 0.1
#: how long serve() waits for the collector thread to end
COLLECTOR_JOIN = 5.0
#: addresses that mean "every interface": the URI shows the mgr's own address instead
WILDCARD_ADDRS = ("", "::", "0.0.0.0")

OPTIONS = [
    Option(
        name="server_addr",
        default="::",
        desc="the IPv4 or IPv6 address on which the module listens for HTTP requests",
    ),  # fmt: skip
    Option(
        name="server_port",
        type="int",
        default=DEFAULT_PORT,
        min=1,
        max=65535,
        desc="the port on which the module listens for HTTP requests",
    ),  # fmt: skip
    Option(name="scrape_interval", type="float", default=DEFAULT_SCRAPE_INTERVAL, min=0.0),
    Option(name="cache", type="bool", default=True),
    Option(
        name="stale_cache_strategy", default="log", enum_allowed=["log", "fail", "return"]
    ),  # fmt: skip
    Option(name="rbd_stats_pools", default=""),
    Option(name="rbd_stats_pools_refresh_interval", type="int", default=300),
    Option(name="standby_behaviour", default="default", enum_allowed=["default", "error"]),
    Option(name="standby_error_status_code", type="int", default=500, min=400, max=599),
]


def _uri(addr: str, port: int, own_ip: Callable[[], str]) -> str:
    return build_url(own_ip() if addr in WILDCARD_ADDRS else addr, "http", port, "/")


class _Unavailable(Exception):
    """The page cannot be served now (HTTP 503)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: str, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        super().__init__((addr, port), handler)


class _Web:
    """The HTTP server one module instance runs from its serve() thread."""

    def __init__(self, mod: Any, pages: Callable[[str], tuple[int, str, bytes]]) -> None:
        self.mod = mod
        self.stop = threading.Event()
        self.server: _Server | None = None
        self.bound: tuple[str, int] | None = None

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                try:
                    code, ctype, body = pages(self.path.split("?", 1)[0])
                except _Unavailable as e:
                    code, ctype, body = 503, "text/plain", str(e).encode()
                except Exception as e:  # a failed collection: 500, the server stays up
                    mod.log.exception("prometheus: %s failed", self.path)
                    code, ctype, body = 500, "text/plain", str(e).encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: Any) -> None:
                mod.log.debug("prometheus http: " + fmt, *args)

        self.handler = Handler

    def _want(self) -> tuple[str, int]:
        # localized (`mgr/prometheus/<mgr id>/server_port`) first: several mgrs on one host
        addr = self.mod.get_localized_module_option("server_addr") or "::"
        return str(addr), int(self.mod.get_localized_module_option("server_port") or DEFAULT_PORT)

    def _bind(self, addr: str, port: int) -> None:
        self._close()
        self.server = _Server(addr, port, self.handler)
        self.server.timeout = SERVE_POLL
        self.bound = (addr, port)
        self.mod.set_uri(_uri(addr, port, self.mod.get_mgr_ip))
        self.mod.log.info("prometheus: serving on %s", _uri(addr, port, self.mod.get_mgr_ip))

    def _close(self) -> None:
        if self.server is not None:
            self.server.server_close()
            self.server = None

    def run(self) -> None:
        """Serve until `stop`; rebind when server_addr/server_port change. The first bind
        is retried for BIND_RETRY seconds (a standby module of this mgr that just
        became active may still hold the port)."""
        first_try = time.monotonic()
        try:
            while not self.stop.is_set():
                want = self._want()
                if want != self.bound:
                    try:
                        self._bind(*want)
                    except OSError as e:
                        if self.bound is None and time.monotonic() - first_try < BIND_RETRY:
                            self.stop.wait(SERVE_POLL)
                            continue
                        if self.server is None and self.bound is None:
                            # as upstream: the module fails, saying why (MGR_MODULE_ERROR)
                            raise OSError(e.errno or errno.EADDRINUSE, f"cannot listen on {want[0]}:{want[1]}: {e.strerror}") from e  # fmt: skip
                        self.mod.log.error("prometheus: cannot rebind to %s:%s: %s", *want, e)
                        self.bound = want
                        continue
                assert self.server is not None
                self.server.handle_request()
        finally:
            self._close()


class Module(MgrModule):
    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._web = _Web(self, self._page)
        self._lock = threading.Lock()
        self._cache: tuple[float, bytes] | None = None
        #: health checks seen so far: reported as 0 once they clear
        self._health_seen: set[tuple[str, str]] = set()
        #: method -> [total seconds, count] (ceph_prometheus_collect_duration_seconds_*)
        self._durations: dict[str, list[float]] = {}

    # -- HTTP
    def _page(self, path: str) -> tuple[int, str, bytes]:
        if path == "/":
            html = "<!DOCTYPE html><html><head><title>Ceph Exporter</title></head><body><h1>Ceph Exporter</h1><p><a href='/metrics'>Metrics</a></p></body></html>"  # fmt: skip
            return 200, "text/html", html.encode()
        if path == "/metrics":
            return 200, CONTENT_TYPE, self.metrics_page()
        return 404, "text/plain", b"Not Found"

    def metrics_page(self) -> bytes:
        """The `/metrics` page: the collector's cache, or collected now when the cache is
        off (or nothing was collected yet)."""
        cached = self._cache
        if not self.get_module_option("cache") or cached is None:
            return self._refresh()
        interval = float(self.get_module_option("scrape_interval") or 0.0)
        age = time.monotonic() - cached[0]
        if age > STALE_FACTOR * interval:
            if self.get_module_option("stale_cache_strategy") == "fail":
                raise _Unavailable(f"Gathering data took {age:.2f}s, more than scrape_interval allows")  # fmt: skip
            self.log.warning("prometheus: serving a page collected %.1fs ago", age)
        return cached[1]

    def _refresh(self) -> bytes:
        """Collect and render a page, and keep it as the cache."""
        with self._lock:
            body = render(self.collect())
            self._cache = (time.monotonic(), body)
            return body

    def _collect_loop(self) -> None:
        """Upstream's MetricCollectionThread: refresh the cache every scrape_interval."""
        stop = self._web.stop
        while not stop.is_set():
            interval = float(self.get_module_option("scrape_interval") or 0.0)
            took = 0.0
            if self.get_module_option("cache") and self.have_mon_connection():
                t0 = time.monotonic()
                try:
                    self._refresh()
                except Exception:
                    self.log.exception("prometheus: collection failed")
                took = time.monotonic() - t0
                if took > interval:
                    self.log.warning("prometheus: collecting took %.2fs, more than scrape_interval (%.1fs)", took, interval)  # fmt: skip
            stop.wait(max(interval - took, MIN_COLLECT_PAUSE))

    # -- collection
    def _timed(self, method: str, fn: Callable[[], None]) -> None:
        t0 = time.perf_counter()
        try:
            fn()
        finally:
            d = self._durations.setdefault(method, [0.0, 0])
            d[0] += time.perf_counter() - t0
            d[1] += 1

    def _hosts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for server in self.list_servers():
            for svc in server.get("services", []):
                out[f"{svc['type']}.{svc['id']}"] = str(server.get("hostname", ""))
        return out

    def collect(self) -> collect.Families:
        """Every metric family, as one scrape shows them."""
        f = collect.Families()
        version = self.version
        hosts = self._hosts()
        pg_summary = self.get("pg_summary")

        def metadata() -> None:
            crush = self.get("osd_map_crush") or {}
            classes = {int(d["id"]): str(d.get("class", "")) for d in crush.get("devices", [])}
            collect.add_osds(f, self.get("osd_map"), self.get("osd_metadata"), classes, version, self.get("service_map"))  # fmt: skip

        def num_objects() -> None:
            collect.add_num_objects(f, pg_summary, self.get("pool_stats"))

        self._timed("get_health", lambda: collect.add_health(f, self.get("health"), self._health_seen))  # fmt: skip
        self._timed("get_pool_stats", lambda: collect.add_pool_stats(f, self.get("osd_pool_stats")))
        self._timed("get_df", lambda: collect.add_df(f, self.get("df")))
        self._timed("get_fs", lambda: None)  # no CephFS in pyceph: the FS/MDS families stay empty
        self._timed("get_quorum_status", lambda: collect.add_quorum(f, self.get("mon_status"), hosts, version))  # fmt: skip
        self._timed("get_mgr_status", lambda: collect.add_mgr(f, self.get("mgr_map"), self.release_name, hosts, version))  # fmt: skip
        self._timed("get_pg_status", lambda: collect.add_pgs(f, pg_summary))
        self._timed("get_osd_stats", lambda: collect.add_osd_stats(f, self.get("osd_stats")))
        self._timed("get_metadata_and_osd_status", metadata)
        self._timed("get_num_objects", num_objects)
        self._timed(
            "get_rbd_stats", lambda: None
        )  # per-image stats: rbd_stats_pools is not served yet
        collect.add_daemon_health(f, self.get_daemon_health_metrics())
        collect.add_collect_durations(f, [(m, t, int(c)) for m, (t, c) in self._durations.items()])  # fmt: skip
        collect.add_perf_counters(f, self.get_all_perf_counters())
        return f

    # -- commands
    @CLIReadCommand("prometheus file_sd_config")
    def file_sd_config(self) -> HandleCommandResult:
        """
        Return file_sd compatible prometheus config for mgr cluster
        """
        import json

        port = int(self.get_module_option("server_port") or DEFAULT_PORT)
        targets = [f"{self.get_mgr_ip()}:{port}"]
        return HandleCommandResult(stdout=json.dumps([{"targets": targets, "labels": {}}]))

    # -- lifecycle
    def serve(self) -> None:
        collector = threading.Thread(target=self._collect_loop, name="prometheus-collector", daemon=True)  # fmt: skip
        collector.start()
        try:
            self._web.run()
        finally:
            self._web.stop.set()
            collector.join(COLLECTOR_JOIN)

    def shutdown(self) -> None:
        self._web.stop.set()


class StandbyModule(MgrStandbyModule):
    """On a standby mgr: `/` points at the active mgr's exporter; `/metrics` is empty
    (HTTP 200), or `standby_error_status_code` with `standby_behaviour=error`."""

    MODULE_OPTIONS = OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._web = _Web(self, self._page)

    def set_uri(self, uri: str) -> None:
        pass  # only the active mgr's exporter is published in `ceph mgr services`

    def _page(self, path: str) -> tuple[int, str, bytes]:
        error = self.get_module_option("standby_behaviour") == "error"
        code = int(self.get_module_option("standby_error_status_code") or 500)
        if path == "/":
            if error:
                return code, "text/plain", b"Keep on looking"
            active = self.get_active_uri()
            link = f"<a href='{active}metrics'>{active}metrics</a>" if active else "No active mgr"
            return 200, "text/html", f"<!DOCTYPE html><html><head><title>Ceph Exporter</title></head><body><h1>Ceph Exporter</h1><p>This is a standby mgr; the active exporter is at {link}</p></body></html>".encode()  # fmt: skip
        if path == "/metrics":
            return (code, "text/plain", b"") if error else (200, CONTENT_TYPE, b"")
        return 404, "text/plain", b"Not Found"

    def serve(self) -> None:
        self._web.run()

    def shutdown(self) -> None:
        self._web.stop.set()
