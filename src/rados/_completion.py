"""`Completion`: the handle of one asynchronous operation.

The operation runs on the handle's event-loop thread.  When it finishes, the
result is recorded (waking `wait_for_complete`), and if the completion has
`oncomplete` they are queued to the finisher thread: `oncomplete` then `onsafe`
(librados 16.2 treats "safe" and "complete" as the same event).  As in upstream's
binding, only `oncomplete` registers the librados callback: a completion given
just `onsafe` never calls it.  While callbacks are pending the owning Ioctx keeps the completion
alive, so an `aio_*` call whose result is discarded still fires; the finisher
only holds a weak reference, so after `wait_for_complete_and_cb()` the caller's
variable is the only reference left.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
import traceback
import weakref
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from pyceph.common.errors import CephError

if TYPE_CHECKING:
    import concurrent.futures

    from pyceph.client.loop_thread import LoopThread
    from rados._ioctx import Ioctx

log = logging.getLogger("rados")


class _AioState:
    """Result and progress of one operation, shared with the loop and finisher."""

    __slots__ = ("cond", "complete", "rval", "extra", "cb_pending", "future", "cancelled")

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.complete = False
        self.rval = 0
        self.extra: Any = None
        self.cb_pending = False
        self.future: concurrent.futures.Future[Any] | None = None
        self.cancelled = False


class Completion:
    """The state of one asynchronous operation (returned by every `aio_*` call)."""

    def __init__(
        self,
        ioctx: Ioctx,
        oncomplete: Callable[..., Any] | None,
        onsafe: Callable[..., Any] | None,
    ) -> None:
        self.ioctx = ioctx
        self.oncomplete = oncomplete
        self.onsafe = onsafe
        self._state = _AioState()

    # -- queries ---------------------------------------------------------------
    def is_safe(self) -> bool:
        """Whether the operation is safe (the same as complete in librados 16.2)."""
        return self._state.complete

    def is_complete(self) -> bool:
        """Whether the operation has completed (its callbacks may still be running)."""
        return self._state.complete

    def get_return_value(self) -> int:
        """The operation's result: >= 0 on success, -errno on failure (0 until complete)."""
        return self._state.rval

    # -- waiting -----------------------------------------------------------------
    def _wait(self, with_cb: bool) -> None:
        st = self._state
        with st.cond:
            while not st.complete or (with_cb and st.cb_pending):
                st.cond.wait()

    def wait_for_safe(self) -> None:
        """Block until the operation is safe (not waiting for its callbacks)."""
        self._wait(False)

    def wait_for_complete(self) -> None:
        """Block until the operation is complete (not waiting for its callbacks)."""
        self._wait(False)

    def wait_for_safe_and_cb(self) -> None:
        """Block until the operation is safe and its callbacks have returned."""
        self._wait(True)

    def wait_for_complete_and_cb(self) -> int:
        """Block until the operation is complete and its callbacks have returned."""
        self._wait(True)
        return 0

    def cancel(self) -> int:
        """Try to cancel the operation; it then completes with -ECANCELED (pyceph extra)."""
        st = self._state
        fut = st.future
        if st.complete or fut is None:
            return 0
        st.cancelled = True
        fut.cancel()
        return 0

    # -- callbacks -----------------------------------------------------------------
    def _complete(self) -> None:
        """Run the callbacks (on the finisher thread), then stop being tracked."""
        try:
            self.oncomplete(self)  # type: ignore[misc]  # only scheduled when set
            if self.onsafe:
                self.onsafe(self)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        """Drop the Ioctx's references to this completion."""
        io = self.ioctx
        with io.lock:
            if self.oncomplete:
                try:
                    io.complete_completions.remove(self)
                except ValueError:
                    pass
            if self.onsafe:
                try:
                    io.safe_completions.remove(self)
                except ValueError:
                    pass


def _result_of(state: _AioState, fut: concurrent.futures.Future[Any]) -> tuple[int, Any]:
    import concurrent.futures

    try:
        res = fut.result()
    except concurrent.futures.CancelledError:
        return (-errno.ECANCELED if state.cancelled else -errno.ESHUTDOWN), None
    except CephError as e:
        return -e.errno, None
    except TimeoutError:
        return -errno.ETIMEDOUT, None
    except Exception:  # noqa: BLE001 - a bug in the core must not hang the waiter
        log.exception("asynchronous rados operation failed")
        return -errno.EIO, None
    if isinstance(res, tuple):
        return int(res[0]), res[1]
    return int(res), None


def _on_done(
    state: _AioState,
    wref: weakref.ref[Completion],
    lt: LoopThread,
    fut: concurrent.futures.Future[Any],
) -> None:
    rval, extra = _result_of(state, fut)
    with state.cond:
        state.rval = rval
        state.extra = extra
        state.complete = True
        state.future = None
        pending = state.cb_pending
        state.cond.notify_all()
    if pending:
        lt.finish(partial(_run_callbacks, state, wref))


def _run_callbacks(state: _AioState, wref: weakref.ref[Completion]) -> None:
    comp = wref()
    try:
        if comp is not None:
            try:
                comp._complete()
            except Exception:  # noqa: BLE001 - reported, as upstream's binding does
                _report_callback_error()
    finally:
        del comp
        with state.cond:
            state.cb_pending = False
            state.cond.notify_all()


def _report_callback_error() -> None:
    """A callback raised: report it the way Cython reports an exception it cannot
    propagate ("Exception ignored in: 'rados.__aio_complete_cb'"), through a test
    harness's `sys.unraisablehook` when one is installed."""
    exc_type, exc, tb = sys.exc_info()
    hook = sys.unraisablehook
    if hook is not sys.__unraisablehook__:
        try:
            hook(_Unraisable(exc_type, exc, tb))
            return
        except Exception:  # noqa: BLE001 - fall back to printing it
            pass
    print("Exception ignored in: 'rados.__aio_complete_cb'", file=sys.stderr)
    traceback.print_exception(exc_type, exc, tb, file=sys.stderr)


class _Unraisable:
    """The attributes `sys.unraisablehook` reads."""

    def __init__(self, exc_type: Any, exc_value: Any, exc_traceback: Any) -> None:
        self.exc_type = exc_type
        self.exc_value = exc_value
        self.exc_traceback = exc_traceback
        self.err_msg = "Exception ignored in"
        self.object = "rados.__aio_complete_cb"


def launch(comp: Completion, lt: LoopThread, coro: Coroutine[Any, Any, Any]) -> Completion:
    """Run `coro` for `comp`: its result is an int rval or a tuple (rval, extra)."""
    state = comp._state
    # Upstream's binding hands librados a callback only when `oncomplete` is set
    # (`__get_completion`); `onsafe` is called from it, so on its own it never runs.
    state.cb_pending = bool(comp.oncomplete)
    fut = lt.submit(coro)
    state.future = fut
    fut.add_done_callback(partial(_on_done, state, weakref.ref(comp), lt))
    return comp
