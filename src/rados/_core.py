"""The bridge from a `rados` handle to its async core, for the other drop-in facades.

librbd takes a librados IoCtx and works on IoCtxImpl underneath; our `rbd` facade takes a
`rados.Ioctx` and works on the async `pyceph.client.ioctx.IoCtx` underneath. This module is
that one named interface: the `rbd` facade (and other facades) call these functions and
never touch a handle's private attributes.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from pyceph.client.ioctx import IoCtx
from pyceph.client.loop_thread import LoopThread

if TYPE_CHECKING:
    from pyceph.client.rados_client import RadosClient
    from rados._handle import Rados
    from rados._ioctx import Ioctx


def core_ioctx(ioctx: Ioctx) -> IoCtx:
    """An async IoCtx with `ioctx`'s pool, namespace, locator key, read snap, snapc and
    flags, as they are now (a copy: later changes to either do not affect the other)."""
    ioctx.require_ioctx_open()
    return ioctx._io.copy()


def core_client(handle: Rados | Ioctx) -> RadosClient:
    """The async cluster session (`RadosClient`) behind a connected handle."""
    rados = getattr(handle, "rados", handle)
    rados.require_state("connected")
    return rados._client


def loop_thread(handle: Rados | Ioctx) -> LoopThread:
    """The loop thread a handle's async core runs on (ESHUTDOWN error once shut down)."""
    rados = getattr(handle, "rados", handle)
    return rados._loop_thread()


def run(handle: Rados | Ioctx, coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` on the handle's loop thread and wait; core errors propagate as raised."""
    return loop_thread(handle).run(coro)
