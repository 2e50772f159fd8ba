"""Daemon process plumbing shared by pyceph-mon, pyceph-mgr and pyceph-osd.

Configuration from conf file, `CEPH_ARGS` and argv; logging to `log_file`; the pid
file; and running a daemon's `serve(stop)` until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator

from pyceph.common.config import CephConfig
from pyceph.common.heap import keep_heap_trimmed
from pyceph.common.tasks import TaskSet


def load_config(entity: str, conf: str | None, extra: list[str]) -> CephConfig:
    """A daemon's configuration; unknown arguments end the process as upstream's do."""
    cfg = CephConfig(name=entity)
    cfg.read_file(conf)
    cfg.parse_env()
    rest = cfg.parse_argv(extra)
    if rest:
        raise SystemExit(f"unrecognized arguments: {' '.join(rest)}")
    for warning in cfg.warnings:
        print(warning, file=sys.stderr)
    return cfg


def setup_logging(cfg: CephConfig) -> None:
    """Log to `log_file` (stderr for '' or '-')."""
    path = str(cfg.get("log_file") or "")
    handler: logging.Handler
    if path and path != "-":
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        handler = logging.FileHandler(path)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


@contextlib.contextmanager
def pid_file(cfg: CephConfig) -> Iterator[None]:
    """Write `pid_file` for the life of the block, remove it after."""
    path = str(cfg.get("pid_file") or "")
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            f.write(f"{os.getpid()}\n")
    try:
        yield
    finally:
        if path:
            with contextlib.suppress(OSError):
                os.unlink(path)


async def run_until_signal(
    serve: Callable[[asyncio.Event], Awaitable[None]], cfg: CephConfig | None = None
) -> None:
    """Run `serve(stop)` until SIGTERM/SIGINT sets `stop`. With the daemon's `cfg`, the
    process also gives its free C heap back every `pyceph_heap_trim_interval` seconds
    beyond `pyceph_heap_free_max` (`pyceph.common.heap`)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = TaskSet("process")
    if cfg is not None:
        interval = float(cfg.get("pyceph_heap_trim_interval"))
        free_max = int(cfg.get("pyceph_heap_free_max"))
        tasks.spawn(keep_heap_trimmed(interval, free_max), "heap-trim")
    try:
        await serve(stop)
    finally:
        await tasks.close()
