"""`mgr_util`: helpers mgr modules import next to `mgr_module` (upstream 16.2.15).

The formatting helpers (`format_bytes`, `format_dimless`, `colorize`, `bold`,
`to_pretty_timedelta`), URL and address helpers, time-series rates,
`profile_method`, `RTimer`, `lock_timeout_log` and `name_to_config_section`,
with upstream's semantics (src/pybind/mgr/mgr_util.py). CephFS helpers
(`CephfsClient`, `open_filesystem`) need libcephfs, which pyceph does not
provide; importing them works, using them raises `CephfsConnectionException`.
"""

from __future__ import annotations

import datetime
import functools
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from threading import Lock, Timer
from typing import Any, NewType, TypeVar

T = TypeVar("T")
ConfEntity = NewType("ConfEntity", str)

logger = logging.getLogger(__name__)

(BLACK, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, GRAY) = range(8)
RESET_SEQ = "\033[0m"
COLOR_SEQ = "\033[1;%dm"
COLOR_DARK_SEQ = "\033[0;%dm"
BOLD_SEQ = "\033[1m"
UNDERLINE_SEQ = "\033[4m"

#: Suffixes of format_units, one per power of the factor.
_UNITS = [" ", "k", "M", "G", "T", "P", "E"]


class CephfsConnectionException(Exception):
    """A CephFS connection could not be made (errno, message)."""

    def __init__(self, error_code: int, error_message: str) -> None:
        self.errno = error_code
        self.error_str = error_message

    def to_tuple(self) -> tuple[int, str, str]:
        return self.errno, "", self.error_str

    def __str__(self) -> str:
        return f"{self.errno} ({self.error_str})"


class CephfsClient:
    """Upstream's pool of libcephfs connections; pyceph has no CephFS."""

    def __init__(self, mgr: Any) -> None:
        self.mgr = mgr

    def get_fs(self, fs_name: str) -> Any:
        raise CephfsConnectionException(-95, "CephFS is not supported by pyceph")

    def shutdown(self) -> None:
        pass


@contextmanager
def open_filesystem(fsc: CephfsClient, fs_name: str) -> Generator[Any, None, None]:
    """A CephFS handle from `fsc` (always fails here: no CephFS in pyceph)."""
    yield fsc.get_fs(fs_name)


class RTimer(Timer):
    """A `threading.Timer` that repeats every `interval` until cancelled."""

    def run(self) -> None:
        try:
            while not self.finished.is_set():
                self.finished.wait(self.interval)
                if not self.finished.is_set():
                    self.function(*self.args, **self.kwargs)
            self.finished.set()
        except Exception as e:
            logger.error("task exception: %s", e)
            raise


@contextmanager
def lock_timeout_log(lock: Lock, timeout: int = 5) -> Iterator[None]:
    """Hold `lock`, logging a warning every `timeout` seconds spent waiting for it."""
    start = time.time()
    while not lock.acquire(True, timeout):
        logger.warning("Lock acquire took more than %ss (%.1fs so far)", timeout, time.time() - start)  # fmt: skip
    try:
        yield
    finally:
        lock.release()


def colorize(msg: str, color: int, dark: bool = False) -> str:
    """`msg` in an ANSI colour (BLACK..GRAY), bright unless `dark`."""
    return (COLOR_DARK_SEQ if dark else COLOR_SEQ) % (30 + color) + msg + RESET_SEQ


def bold(msg: str) -> str:
    return BOLD_SEQ + msg + RESET_SEQ


def format_units(n: int, width: int, colored: bool, decimal: bool) -> str:
    """`n` in `width` characters with a unit suffix (powers of 1000 if `decimal`, else 1024)."""
    factor = 1000 if decimal else 1024
    unit = 0
    while len(str(int(n) // (factor**unit))) > width - 1:
        unit += 1
    if unit > 0:
        text = f"{n / float(factor) ** unit:f}"[: width - 1]
        if text[-1] == ".":
            text = " " + text[:-1]
    else:
        text = f"{int(n):{width - 1}d}"
    formatted = text + _UNITS[unit]
    if not colored:
        return formatted
    color = BLACK if n == 0 else YELLOW
    return bold(colorize(formatted[:-1], color, False)) + bold(colorize(formatted[-1], YELLOW, False))  # fmt: skip


def format_dimless(n: int, width: int, colored: bool = False) -> str:
    """A count (objects, ops) in `width` characters, decimal units."""
    return format_units(n, width, colored, decimal=True)


def format_bytes(n: int, width: int, colored: bool = False) -> str:
    """A byte count in `width` characters, binary units."""
    return format_units(n, width, colored, decimal=False)


def merge_dicts(*args: dict[T, Any]) -> dict[T, Any]:
    """One dict with the items of all, later ones winning."""
    ret: dict[T, Any] = {}
    for arg in args:
        ret.update(arg)
    return ret


def get_default_addr() -> str:
    """'::' when this host can bind IPv6, else '0.0.0.0' (cached)."""
    cached = getattr(get_default_addr, "result", None)
    if cached is not None:
        return cached
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        result = "::"
    except OSError:
        result = "0.0.0.0"
    get_default_addr.result = result  # type: ignore[attr-defined]
    return result


def wrap_ipv6(address: str) -> str:
    """`[addr]` for an IPv6 literal, the address unchanged otherwise."""
    if ":" in address and not address.startswith("["):
        return f"[{address}]"
    return address


def build_url(host: str, scheme: str | None = None, port: int | None = None, path: str = "") -> str:  # fmt: skip
    """A URL from its parts; IPv6 hosts bracketed (`build_url('::1', 'http', 80)`)."""
    netloc = wrap_ipv6(host)
    if port:
        netloc += f":{port}"
    pr = urllib.parse.ParseResult(
        scheme=scheme or "", netloc=netloc, path=path, params="", query="", fragment=""
    )
    return pr.geturl()


class ServerConfigException(Exception):
    """A module's HTTP server is misconfigured (address, certificate)."""


def get_most_recent_rate(rates: list[tuple[float, float]] | None) -> float:
    """The newest value of a [(time, rate)] series, 0.0 for none."""
    if not rates:
        return 0.0
    return rates[-1][1]


def _filter_time_series(data: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop points whose time does not move forward."""
    out: list[tuple[float, float]] = []
    for point in data:
        if not out or point[0] > out[-1][0]:
            out.append(point)
    return out


def _derivative(p1: tuple[float, float], p2: tuple[float, float]) -> float:
    dt = p2[0] - p1[0]
    return (p2[1] - p1[1]) / float(dt) if dt else 0.0


def _pairwise(iterable: Iterable[T]) -> Generator[tuple[T | None, T], None, None]:
    it = iter(iterable)
    a = next(it, None)
    for b in it:
        yield a, b
        a = b


def get_time_series_rates(data: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """[(time, counter)] -> [(time, rate per second)] between consecutive points."""
    data = _filter_time_series(data)
    if not data:
        return [(0, 0.0)]
    return [(p2[0], _derivative(p1, p2) if p1 is not None else 0.0) for p1, p2 in _pairwise(data)]


def to_pretty_timedelta(n: datetime.timedelta) -> str:
    """A short age: '42s', '7m', '5h', '3d', '2w', '4M', '2y'."""
    if n < datetime.timedelta(seconds=120):
        return str(n.seconds) + "s"
    if n < datetime.timedelta(seconds=120 * 60):
        return str(n.seconds // 60) + "m"
    if n < datetime.timedelta(hours=48):
        return str(int(n.total_seconds()) // 3600) + "h"
    if n < datetime.timedelta(days=14):
        return str(n.days) + "d"
    if n < datetime.timedelta(days=7 * 12):
        return str(n.days // 7) + "w"
    if n < datetime.timedelta(days=365 * 2):
        return str(n.days // 30) + "M"
    return str(n.days // 365) + "y"


def profile_method(skip_attribute: bool = False) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator logging (at debug) how long each call took; kept on `_execution_duration`."""

    def outer(f: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            t = time.time()
            result = f(*args, **kwargs)
            duration = time.time() - t
            if not skip_attribute:
                wrapper._execution_duration = duration  # type: ignore[attr-defined]
            logger.debug("Method %s ran %.3f seconds", f.__qualname__, duration)
            return result

        return wrapper

    return outer


def name_to_config_section(name: str) -> ConfEntity:
    """The config section of a daemon name: 'rgw.x' -> 'client.rgw.x', 'osd.1' -> 'osd.1'."""
    daemon_type = name.split(".", 1)[0]
    if daemon_type in ("rgw", "rbd-mirror", "nfs", "crash", "iscsi"):
        return ConfEntity("client." + name)
    if daemon_type in ("mon", "osd", "mds", "mgr", "client"):
        return ConfEntity(name)
    return ConfEntity("mon")
