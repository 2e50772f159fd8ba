"""The facade's one door to the async engine `pyceph.rbdlib` and the `rados` core.

Every `rbd` call is: check the arguments as upstream's binding does, build one engine
coroutine, run it on the `rados` handle's event-loop thread (`rados._core`), and
turn a `CephError` into upstream's exception with upstream's message (`run_ex`, the
single error-mapping path).

The facade modules import the engine functions they call directly — `pyceph.rbdlib`'s
`create.create`, `clone.clone`, `image.open_image`, the `pool`, `trash`, `namespace`,
`group`, `migration` and `mirror` coroutine functions (the async IoCtx first, the
`RadosClient` for the site name) and the engine `Image`'s methods (as
`EngineImage.<name>`, called with the engine image first) — and hand them to `call`,
`pool_call` or `run_ex`, so a facade call leads to its engine function by "go to
definition".
"""

from __future__ import annotations

import errno
import sys
import traceback
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from pyceph.common.errors import CephError
from rados._core import core_ioctx
from rados._core import loop_thread as _core_loop_thread
from rbd._errors import errno_to_exception, make_ex

__all__ = [
    "call",
    "conf_get",
    "core_client",
    "core_ioctx",
    "loop_thread",
    "pool_call",
    "progress_adapter",
    "run",
    "run_ex",
]

if TYPE_CHECKING:
    from pyceph.client.loop_thread import LoopThread


def loop_thread(handle: Any) -> LoopThread:
    """The loop thread of a `rados` handle; CephError(ESHUTDOWN) once it is shut down."""
    import rados

    try:
        return _core_loop_thread(handle)
    except rados.Error as e:
        raise CephError(getattr(e, "errno", None) or errno.ESHUTDOWN, str(e)) from None


def run(handle: Any, coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` on the handle's loop thread and wait; engine errors propagate."""
    try:
        lt = loop_thread(handle)
    except CephError:
        coro.close()
        raise
    return lt.run(coro)


def _missing(what: str) -> CephError:
    return CephError(errno.ENOSYS, f"{what} is not implemented")


def core_client(rados: Any) -> Any:
    """The async client (`RadosClient`) of a `rados.Rados`, through `rados._core`."""
    from rados import _core

    fn = getattr(_core, "core_client", None)
    if fn is None:
        raise _missing("rados._core.core_client")
    return fn(rados)


def conf_get(handle: Any, name: str) -> Any:
    """A client option of the cluster session behind `handle` (typed value)."""
    return core_client(handle).config.get(name)


def run_ex(
    handle: Any,
    make: Callable[[], Coroutine[Any, Any, Any]],
    msg: str | Callable[[], str],
    exception_map: dict[int, type] = errno_to_exception,
) -> Any:
    """Run the coroutine `make()` builds on `handle`'s loop; CephError -> make_ex(msg)."""
    try:
        return run(handle, make())
    except CephError as e:
        text = msg() if callable(msg) else msg
        raise make_ex(e.errno, text, exception_map) from None


def call(
    handle: Any,
    fn: Callable[..., Coroutine[Any, Any, Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    msg: str | Callable[[], str],
    exception_map: dict[int, type] = errno_to_exception,
) -> Any:
    """Run engine coroutine function `fn(*args, **kwargs)` on `handle`'s loop, mapping
    its errors (`run_ex`)."""
    return run_ex(handle, lambda: fn(*args, **kwargs), msg, exception_map)


def pool_call(
    ioctx: Any,
    fn: Callable[..., Coroutine[Any, Any, Any]],
    args: tuple[Any, ...],
    msg: str | Callable[[], str],
    exception_map: dict[int, type] = errno_to_exception,
    **kwargs: Any,
) -> Any:
    """Run engine `fn(<async IoCtx of ioctx>, *args, **kwargs)` for a `rados.Ioctx`
    (TypeError for anything else, as upstream's convert_ioctx)."""
    from rbd._util import check_ioctx

    check_ioctx(ioctx)
    cio = core_ioctx(ioctx)
    return call(ioctx, fn, (cio, *args), kwargs, msg, exception_map)


def progress_adapter(on_progress: Callable[..., Any] | None) -> Callable[[int, int], Any] | None:
    """Wrap a user progress callback as upstream's `progress_callback` behaves.

    The callback gets `(offset, total)`; a negative int it returns aborts the
    operation with that errno (e.g. -ECANCELED -> OperationCanceled); an exception
    it raises is reported as unraisable and ignored, as Cython does for a C callback.
    A falsy `on_progress` means no callback (upstream's no-op callback).
    """
    if not on_progress:
        return None

    def progress(offset: int, total: int) -> int:
        try:
            ret = on_progress(offset, total)
        except Exception:  # noqa: BLE001 - Cython prints and ignores it
            _report_unraisable("rbd.progress_callback")
            return 0
        if isinstance(ret, int) and ret < 0:
            raise CephError(-ret, "operation aborted by the progress callback")
        return 0

    return progress


class _Unraisable:
    """The attributes `sys.unraisablehook` reads."""

    err_msg = "Exception ignored in"

    def __init__(self, where: str) -> None:
        self.exc_type, self.exc_value, self.exc_traceback = sys.exc_info()
        self.object = where


def _report_unraisable(where: str) -> None:
    """Report the exception being handled as Cython does for a C callback it cannot
    propagate (`Exception ignored in: 'rbd.progress_callback'`)."""
    args = _Unraisable(where)
    hook = sys.unraisablehook
    if hook is not sys.__unraisablehook__:  # e.g. pytest's: it accepts any such object
        try:
            hook(args)  # type: ignore[arg-type]
            return
        except Exception:  # noqa: BLE001, S110 - fall back to printing it
            pass
    print(f"Exception ignored in: '{where}'", file=sys.stderr)
    traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback, file=sys.stderr)
