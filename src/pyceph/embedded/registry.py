"""The process's embedded clusters, and the one event-loop thread they all run on.

`acquire(target)` returns the running `EmbeddedCluster` for a target ("" = memory, else
a directory's real path), starting it on first use; every handle naming the same target
shares it. `release()` gives a reference back: a directory's cluster stops (releasing
the directory to other processes) when its last handle lets go; the memory cluster runs
until the interpreter exits (stopping it would discard its data) or `shutdown()`.

Everything runs on one loop thread owned here (started on first use, stopped at exit
after every cluster has stopped, each daemon task ended or cancelled).
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

from pyceph.client.loop_thread import LoopThread
from pyceph.common.errors import CephError
from pyceph.embedded.instance import EmbeddedCluster, parse_target

log = logging.getLogger(__name__)

#: The memory-only target (`mon_host = embedded:`).
MEMORY = ""

_lock = threading.RLock()
_loop: LoopThread | None = None
_instances: dict[str, EmbeddedCluster] = {}
_refs: dict[str, int] = {}
_atexit_registered = False


def target_of(config: Any) -> str | None:
    """The embedded target a configuration names (None when it names none)."""
    try:
        return parse_target(config.get("mon_host"))
    except (KeyError, CephError):
        return None


def loop_thread() -> LoopThread:
    """The shared loop thread (started when first needed)."""
    global _loop, _atexit_registered
    with _lock:
        if _loop is None or not _loop.running:
            _loop = LoopThread("pyceph-embedded").start()
        if not _atexit_registered:
            atexit.register(shutdown)
            _atexit_registered = True
        return _loop


def acquire(target: str, config: Any = None) -> EmbeddedCluster:
    """The running cluster for `target`, started if need be (one more reference)."""
    with _lock:
        inst = _instances.get(target)
        if inst is None or not inst.running:
            num = int(config.get("pyceph_embedded_num_osds")) if config is not None else 3
            inst = EmbeddedCluster(target or None, num)
            inst.prepare()  # EBUSY when another process has the directory
            lt = loop_thread()
            try:
                lt.run(inst.start())
            except BaseException:
                inst.close()
                raise
            _instances[target] = inst
            _refs[target] = 0
        _refs[target] += 1
        return inst


def release(inst: EmbeddedCluster) -> None:
    """Give back a reference; a directory's cluster stops with its last one."""
    target = inst.path or MEMORY
    lt = _loop
    if lt is not None and lt.in_loop_thread():
        # a handle collected on the loop thread: the lock may be held by a thread that
        # waits for this loop (acquire), so let another thread take it
        threading.Thread(target=release, args=(inst,), name="pyceph-embedded-release").start()
        return
    with _lock:
        if _instances.get(target) is not inst:
            return
        _refs[target] -= 1
        if _refs[target] > 0 or inst.path is None:
            return
        del _instances[target], _refs[target]
        _stop(inst)


def _stop(inst: EmbeddedCluster) -> None:
    lt = _loop
    try:
        if lt is not None and lt.running:
            lt.run(inst.stop())
    except Exception:  # noqa: BLE001 - stopping is best effort; the lock goes regardless
        log.exception("stopping embedded cluster %s failed", inst.name)
    inst.close()


def running() -> dict[str, EmbeddedCluster]:
    """The clusters running in this process, by target."""
    with _lock:
        return dict(_instances)


def shutdown() -> None:
    """Stop every embedded cluster and the loop thread (at interpreter exit)."""
    global _loop
    with _lock:
        insts = list(_instances.values())
        _instances.clear()
        _refs.clear()
        for inst in insts:
            _stop(inst)
        lt, _loop = _loop, None
    if lt is not None:
        lt.stop()
