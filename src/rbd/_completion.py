"""`rbd.Completion`: the handle of one asynchronous image operation.

librbd's `AioCompletion` (`src/librbd/io/AioCompletion.cc`) sets the return value,
calls the callback, and only then marks itself complete and wakes waiters; upstream's
binding (`src/pybind/rbd/rbd.pyx`, class `Completion`) keeps the Python object alive
while a callback is pending ("persist"), drops that reference right before calling it,
and stores any exception the callback raises so that `wait_for_complete_and_cb()`
re-raises it.  Here the operation is a coroutine on the handle's event-loop thread; its
result is delivered on the `rados` handle's finisher thread, where the callback runs
(so user code may block in it without stalling I/O), as librbd runs it on its own
thread.

A coroutine handed to `launch` returns the non-negative return value, or a tuple
`(rval, payload)` (e.g. the bytes read); a `CephError` becomes `-errno`.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from pyceph.common.errors import CephError

if TYPE_CHECKING:
    import concurrent.futures

    from pyceph.client.loop_thread import LoopThread

log = logging.getLogger("rbd")

_PENDING = 0
_CALLBACK = 1
_COMPLETE = 2

#: completions with a callback still to run (upstream's __persist: a reference the
#: operation holds, so a discarded completion still calls back)
_persisted: set[Completion] = set()
_persisted_lock = threading.Lock()


class _State:
    """What the loop, the finisher and waiters share (kept apart from the Completion so
    the finisher never holds the Completion once its callback has returned)."""

    __slots__ = ("cond", "state", "rval", "buf", "exc_info")

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.state = _PENDING
        self.rval = 0
        self.buf: Any = None
        self.exc_info: tuple[Any, Any, Any] | None = None


class Completion:
    """completion object"""

    def __init__(self, image: Any, oncomplete: Callable[..., Any] | None) -> None:
        self._image = image
        self._oncomplete = oncomplete
        self._st = _State()

    def is_complete(self) -> bool:
        """Has an asynchronous operation completed?  (Not until its callback returned.)"""
        return self._st.state == _COMPLETE

    def wait_for_complete_and_cb(self) -> None:
        """Wait for the operation and its callback; re-raise what the callback raised."""
        st = self._st
        with st.cond:
            while st.state != _COMPLETE:
                st.cond.wait()
        exc = st.exc_info
        if exc:
            raise exc[1].with_traceback(exc[2])

    def get_return_value(self) -> int:
        """The return value of the operation (set when it completes): >= 0 or -errno."""
        return self._st.rval

    # -- internals ----------------------------------------------------------------
    @property
    def _buf(self) -> Any:
        """The operation's payload (bytes read, a snap id, ...), None on failure."""
        return self._st.buf

    def _persist(self) -> None:
        if self._oncomplete is not None:
            with _persisted_lock:
                _persisted.add(self)

    def _unpersist(self) -> None:
        with _persisted_lock:
            _persisted.discard(self)

    def _complete(self) -> None:
        """Run the callback (on the finisher), keeping what it raises for the waiter."""
        try:
            self._unpersist()
            if self._oncomplete:
                self._oncomplete(self)
        except BaseException:  # noqa: BLE001 - re-raised by wait_for_complete_and_cb
            self._st.exc_info = sys.exc_info()


def _finish(st: _State, wref: weakref.ref[Completion], rval: int, buf: Any) -> None:
    """On the finisher: record the result, run the callback, then mark complete."""
    with st.cond:
        st.rval = rval
        st.buf = buf
        st.state = _CALLBACK
    comp = wref()
    try:
        if comp is not None:
            comp._complete()
    finally:
        del comp
        with st.cond:
            st.state = _COMPLETE
            st.cond.notify_all()


def _result_of(fut: concurrent.futures.Future[Any]) -> tuple[int, Any]:
    import concurrent.futures

    try:
        res = fut.result()
    except concurrent.futures.CancelledError:
        return -errno.ESHUTDOWN, None
    except CephError as e:
        return -e.errno, None
    except TimeoutError:
        return -errno.ETIMEDOUT, None
    except Exception:  # noqa: BLE001 - a bug in the engine must not hang the waiter
        log.exception("asynchronous rbd operation failed")
        return -errno.EIO, None
    if isinstance(res, tuple):
        return int(res[0]), res[1]
    return int(res or 0), None


def _deliver(
    st: _State,
    wref: weakref.ref[Completion],
    lt: LoopThread,
    fut: concurrent.futures.Future[Any],
) -> None:
    rval, buf = _result_of(fut)
    lt.finish(partial(_finish, st, wref, rval, buf))


def launch(comp: Completion, lt: LoopThread, coro: Coroutine[Any, Any, Any]) -> Completion:
    """Start `coro` for `comp` on `lt`'s loop; the result reaches `comp` on the finisher."""
    comp._persist()
    try:
        fut = lt.submit(coro)
    except BaseException:
        comp._unpersist()
        raise
    fut.add_done_callback(partial(_deliver, comp._st, weakref.ref(comp), lt))
    return comp
