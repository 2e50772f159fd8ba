"""One `rados.Rados` handle shared by many threads (drop-in module only).

16 threads mix synchronous and asynchronous object ops for a bounded time: every
completion is accounted for and every byte read back is checked.  Then the handle is
shut down while several threads still have asynchronous ops in flight: `shutdown()`
returns within a bound, every pending completion fires (success or an error), no thread
hangs and the handle leaves no thread behind.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest

import rados
from rados import ReadOpCtx, WriteOpCtx

THREADS = 16
#: How long the mixed workload runs.
RUN_SECONDS = 5.0
#: Bound on anything that should finish "promptly" (completions, joins, shutdown).
BOUND = 60.0

_pool_seq = itertools.count()


class Tally:
    """Completions submitted and fired, with their failures."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.submitted = 0
        self.fired = 0
        self.errors: list[str] = []

    def submit(self) -> None:
        with self.cond:
            self.submitted += 1

    def fire(self, err: str | None = None) -> None:
        with self.cond:
            self.fired += 1
            if err:
                self.errors.append(err)
            self.cond.notify_all()

    def wait_all(self, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.fired >= self.submitted, timeout)


def _handle_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture
def pool(cluster_conf):
    name = f"conc_{next(_pool_seq)}"
    with rados.Rados(conffile=cluster_conf) as admin:
        admin.create_pool(name)
    try:
        yield name
    finally:
        with rados.Rados(conffile=cluster_conf) as admin:
            admin.delete_pool(name)


def _worker(io: rados.Ioctx, n: int, deadline: float, tally: Tally, fails: list[str]) -> None:
    try:
        for i in itertools.count():
            if time.monotonic() >= deadline:
                return
            oid = f"t{n}-o{i % 4}"
            data = f"{n}:{i}:".encode() * (1 + i % 7)
            # synchronous data, stat, xattr and omap
            io.write_full(oid, data)
            assert io.read(oid, len(data) + 10) == data
            size, _mtime = io.stat(oid)
            assert size == len(data)
            io.set_xattr(oid, "x", data[:16])
            assert io.get_xattr(oid, "x") == data[:16]
            with WriteOpCtx() as op:
                io.set_omap(op, (f"k{i}",), (data,))
                io.operate_write_op(op, oid)
            with ReadOpCtx() as op:
                it, _ = io.get_omap_vals_by_keys(op, (f"k{i}",))
                io.operate_read_op(op, oid)
                assert dict(it) == {f"k{i}": data}
            # asynchronous write, then a read of what it wrote (ordered on the object)
            aoid = f"t{n}-a{i % 3}"
            payload = f"aio {n} {i}".encode()

            def on_write(comp: rados.Completion, _p: bytes = payload) -> None:
                rv = comp.get_return_value()
                tally.fire(None if rv == 0 else f"aio_write_full rv={rv}")

            def on_read(comp: rados.Completion, buf: bytes | None, _p: bytes = payload) -> None:
                rv = comp.get_return_value()
                bad = rv != len(_p) or buf != _p
                tally.fire(f"aio_read rv={rv} buf={buf!r} want {_p!r}" if bad else None)

            tally.submit()
            io.aio_write_full(aoid, payload, oncomplete=on_write)
            tally.submit()
            io.aio_read(aoid, 64, 0, on_read)
    except Exception as e:  # noqa: BLE001 - reported to the main thread
        fails.append(f"thread {n}: {type(e).__name__}: {e}")


def test_mixed_sync_and_aio_on_one_handle(cluster_conf, pool):
    before = _handle_threads()
    r = rados.Rados(conffile=cluster_conf)
    r.connect(timeout=30)
    try:
        io = r.open_ioctx(pool)
        tally = Tally()
        fails: list[str] = []
        deadline = time.monotonic() + RUN_SECONDS
        threads = [
            threading.Thread(target=_worker, args=(io, n, deadline, tally, fails), daemon=True)
            for n in range(THREADS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(RUN_SECONDS + BOUND)
        assert not [t for t in threads if t.is_alive()], "a worker thread hung"
        assert not fails, fails[:5]
        assert tally.wait_all(BOUND), f"lost completions: {tally.fired}/{tally.submitted}"
        assert tally.submitted > 0
        assert not tally.errors, tally.errors[:5]
        # every object's final state is readable and consistent
        for n in range(THREADS):
            for j in range(3):
                try:
                    data = io.read(f"t{n}-a{j}")
                except rados.ObjectNotFound:
                    continue
                assert data.startswith(f"aio {n} ".encode())
        io.close()
    finally:
        r.shutdown()
    _assert_no_leftover_threads(before)


def _assert_no_leftover_threads(before: set[threading.Thread]) -> None:
    end = time.monotonic() + 10
    while True:
        extra = [t for t in _handle_threads() - before if not t.daemon or "pyceph" in t.name]
        if not extra or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert not extra, [t.name for t in extra]


def test_shutdown_with_aio_in_flight(cluster_conf, pool):
    before = _handle_threads()
    r = rados.Rados(conffile=cluster_conf)
    r.connect(timeout=30)
    io = r.open_ioctx(pool)
    io.write_full("seed", b"seed")
    comps: list[rados.Completion] = []
    comps_lock = threading.Lock()
    tally = Tally()
    started = threading.Barrier(6 + 1)
    stop = threading.Event()
    fails: list[str] = []

    def on_done(comp: rados.Completion, *_a: object) -> None:
        tally.fire()

    def submitter(n: int) -> None:
        started.wait()
        i = 0
        try:
            while not stop.is_set():
                try:
                    tally.submit()
                    if i % 2:
                        c = io.aio_read("seed", 4, 0, on_done)
                    else:
                        c = io.aio_write_full(f"s{n}-{i % 8}", b"x" * 512, oncomplete=on_done)
                except rados.Error:
                    # the handle is (being) shut down: refused, so nothing will fire
                    tally.fire()
                    return
                with comps_lock:
                    comps.append(c)
                i += 1
        except Exception as e:  # noqa: BLE001 - reported to the main thread
            fails.append(f"submitter {n}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=submitter, args=(n,), daemon=True) for n in range(6)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.5)  # let ops pile up in flight

    done = threading.Event()

    def do_shutdown() -> None:
        r.shutdown()
        done.set()

    sd = threading.Thread(target=do_shutdown, daemon=True)
    t0 = time.monotonic()
    sd.start()
    sd.join(BOUND)
    assert done.is_set(), "shutdown() hung with ops in flight"
    assert time.monotonic() - t0 < BOUND
    stop.set()
    for t in threads:
        t.join(BOUND)
    assert not [t for t in threads if t.is_alive()], "a submitter thread hung"
    assert not fails, fails
    assert r.state == "shutdown"

    # every completion fired: complete with a result, or failed with an error
    assert tally.wait_all(BOUND), f"lost completions: {tally.fired}/{tally.submitted}"
    assert comps, "no op was in flight"
    for c in comps:
        assert c.is_complete()
        waiter = threading.Thread(target=c.wait_for_complete_and_cb, daemon=True)
        waiter.start()
        waiter.join(BOUND)
        assert not waiter.is_alive(), "wait_for_complete_and_cb() hung after shutdown"
    rvals = {c.get_return_value() for c in comps}
    assert all(v >= 0 or v < 0 for v in rvals)

    # the handle refuses further use
    with pytest.raises(rados.RadosStateError):
        r.open_ioctx(pool)
    with pytest.raises(rados.Error):
        io.aio_write("seed", b"y")
    _assert_no_leftover_threads(before)
