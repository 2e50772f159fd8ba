"""`Ioctx`: an I/O context on one pool (namespace, locator key, snapshot context).

A thin synchronous adapter over the async `pyceph.client.ioctx.IoCtx`, which holds the
context (pool, namespace, locator key, snapshot to read, snap context, full-try flag):
each method checks its arguments as upstream's binding does, builds an `ObjectOp`, runs
it through the IoCtx on the handle's event-loop thread, and turns a negative errno into
upstream's exception (`make_ex`). Every operation captures the context as it is when the
method is called (changing the namespace replaces the IoCtx, it never alters one an op
in flight uses). Operations on one object apply in the order they were issued,
synchronous and asynchronous alike: the Objecter sends them in that order (as librados
does over one OSD session) without waiting for each reply.
"""

from __future__ import annotations

import asyncio
import errno
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pyceph.client.ioctx import FLAG_FULL_FORCE, FLAG_FULL_TRY, IoCtx, SnapContext
from pyceph.client.op import ObjectOp
from pyceph.common.errors import CephError
from pyceph.osdmap.pool import FLAG_EC_OVERWRITES, TYPE_ERASURE
from rados._completion import Completion, launch
from rados._constants import (
    LIBRADOS_ALL_NSPACES,
    LIBRADOS_OPERATION_NOFLAG,
)
from rados._errors import Error, IoctxStateError, LogicError, NotConnected, make_ex
from rados._iterators import ObjectIterator, Snap, SnapIterator, XattrIterator
from rados._ops import OmapIterator, ReadOp, WriteOp
from rados._util import (
    check_bytes,
    check_int,
    check_obj_type,
    check_str,
    check_uint,
    cstr_list,
)

if TYPE_CHECKING:
    from rados._handle import Rados

_ERANGE = errno.ERANGE
_ENOENT = errno.ENOENT
_ENOTCONN = errno.ENOTCONN


def _struct_time(mtime: Any) -> time.struct_time:
    if isinstance(mtime, (list, tuple)):
        mtime = mtime[0]
    return time.localtime(int(mtime or 0))


def _pool_snaps(pool: Any) -> dict[int, tuple[str, float]]:
    snaps = getattr(pool, "pool_snaps", None) or {}
    return {int(k): (v[0], float(v[1])) for k, v in snaps.items()}


class Watch:
    """A registered interest in an object's notifications (`Ioctx.watch`)."""

    def __init__(
        self,
        ioctx: Ioctx,
        obj: str,
        callback: Callable[..., Any],
        error_callback: Callable[..., Any] | None,
        timeout: int | None,
    ) -> None:
        self.ioctx = ioctx
        #: the async context the watch was registered through (check/close use it)
        self._io = ioctx._io
        self.oid = obj
        self.callback = callback
        self.error_callback = error_callback
        self.timeout = timeout
        self.id = 0
        self._handle: Any = None
        self._error = 0

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> bool:
        self.close()
        return False

    def _callback(self, notify_id: int, notifier_id: int, watch_id: int, data: bytes) -> Any:
        return self.callback(notify_id, notifier_id, watch_id, data)

    def _error_callback(self, watch_id: int, error: int) -> None:
        self._error = error
        if self.error_callback is not None:
            self.error_callback(watch_id, error)

    def get_id(self) -> int:
        """The watch's cookie."""
        return self.id

    def check(self) -> timedelta:
        """Time since the watch was last confirmed; NotConnected once it is broken."""
        if self._error or self._handle is None:
            raise make_ex(self._error or -errno.ENOTCONN, "Watch check failed")
        ret = self.ioctx.rados._run(self._io.watch_check(self._handle), "Watch check failed")
        if ret < 0:
            raise make_ex(int(ret), "Watch check failed")
        return timedelta(milliseconds=ret)

    def close(self) -> None:
        """Unregister the watch."""
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        self.ioctx.rados._run(self._io.unwatch(handle), "unwatch error")


class Ioctx:
    """rados.Ioctx object: object I/O within one pool."""

    def __init__(self, rados: Rados, name: str) -> None:
        self.rados = rados
        self.name = name
        self.state = "open"
        self.lock = threading.Lock()
        self.safe_completions: list[Completion] = []
        self.complete_completions: list[Completion] = []
        #: the async context; replaced (never changed in place) when a setting changes
        self._io = IoCtx(rados._client, -1)
        self._last_version = 0
        self._inflight_writes: set[Any] = set()
        self._inflight_lock = threading.Lock()

    @classmethod
    def _open(cls, rados: Rados, name: str, pool_id: int) -> Ioctx:
        io = cls(rados, name)
        io._io = IoCtx(rados._client, pool_id)
        return io

    def __enter__(self) -> Ioctx:
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> bool:
        self.close()
        return False

    # -- the context, held by the async IoCtx -------------------------------------------
    @property
    def nspace(self) -> str:
        """The namespace of subsequent operations (upstream's public attribute)."""
        return self._io.nspace

    @nspace.setter
    def nspace(self, value: str) -> None:
        self._io = self._io.copy(nspace=value)

    @property
    def locator_key(self) -> str:
        """The locator key of subsequent operations (upstream's public attribute)."""
        return self._io.locator_key

    @locator_key.setter
    def locator_key(self, value: str) -> None:
        self._io = self._io.copy(locator_key=value)

    @property
    def _pool_id(self) -> int:
        return self._io.pool_id

    # -- plumbing --------------------------------------------------------------
    def _op_coro(self, oid: str, op: ObjectOp, flags: int = 0) -> Any:
        """The coroutine running `op` on `oid` in the context as it is now."""
        # every object op (sync, aio, op contexts) comes through here: upstream's aio_* and
        # operate_* skip the check and crash on a closed Ioctx; pyceph raises instead
        self.require_ioctx_open()
        io = self._io

        async def run() -> Any:
            res = await io.submit(oid, op, flags)
            if res.r >= 0:
                self._last_version = io.last_version
            return res

        return run()

    def _sync(self, oid: str, op: ObjectOp, msg: str, flags: int = 0) -> Any:
        res = self.rados._run(self._op_coro(oid, op, flags), msg)
        if res.r < 0:
            raise make_ex(res.r, msg)
        return res

    def __track_completion(self, completion_obj: Completion) -> None:
        if completion_obj.oncomplete:
            with self.lock:
                self.complete_completions.append(completion_obj)
        if completion_obj.onsafe:
            with self.lock:
                self.safe_completions.append(completion_obj)

    def __get_completion(
        self,
        oncomplete: Callable[[Completion], None] | None,
        onsafe: Callable[[Completion], None] | None,
    ) -> Completion:
        """Make a completion for an asynchronous operation."""
        return Completion(self, oncomplete, onsafe)

    def _aio(
        self,
        oid: str,
        op: ObjectOp,
        oncomplete: Callable[..., Any] | None,
        onsafe: Callable[..., Any] | None,
        convert: Callable[[Any], Any] | None = None,
        write: bool = False,
        flags: int = 0,
    ) -> Completion:
        comp = self.__get_completion(oncomplete, onsafe)
        coro = self._op_coro(oid, op, flags)

        async def run() -> Any:
            res = await coro
            if res.r < 0:
                return res.r
            return convert(res) if convert is not None else res.r

        self.__track_completion(comp)
        try:
            lt = self.rados._loop_thread()
            launch(comp, lt, run())
        except BaseException as e:
            coro.close()
            comp._cleanup()
            if isinstance(e, CephError):  # the handle shut down under us
                raise make_ex(-e.errno, f"{self.name}: {e.message}") from None
            raise
        if write:
            fut = comp._state.future
            if fut is not None:
                with self._inflight_lock:
                    self._inflight_writes.add(fut)
                fut.add_done_callback(self._write_done)
        return comp

    def _write_done(self, fut: Any) -> None:
        with self._inflight_lock:
            self._inflight_writes.discard(fut)

    # -- lifecycle, context ----------------------------------------------------------
    def dup(self) -> Ioctx:
        """A new Ioctx on the same pool with the same namespace and locator key."""
        self.require_ioctx_open()
        io = Ioctx(self.rados, self.name)
        io._io = IoCtx(self._io.client, self._pool_id, nspace=self.nspace,
                       locator_key=self.locator_key)  # fmt: skip
        return io

    def require_ioctx_open(self) -> None:
        """Raise IoctxStateError unless the Ioctx is open."""
        if self.state != "open":
            raise IoctxStateError(f"The pool is {self.state}")

    def set_locator_key(self, loc_key: str) -> None:
        """Place subsequent objects by `loc_key` instead of their names ("" to clear)."""
        check_str(loc_key, "loc_key")
        self.require_ioctx_open()
        self.locator_key = loc_key

    def get_locator_key(self) -> str:
        """The current locator key."""
        return self.locator_key

    def set_read(self, snap_id: int) -> None:
        """Read from snapshot `snap_id` (LIBRADOS_SNAP_HEAD for the head)."""
        snap_id = check_uint(snap_id, "snap_id")
        self.require_ioctx_open()
        self._io = self._io.copy(snap_read=snap_id)

    def set_namespace(self, nspace: str) -> None:
        """Use namespace `nspace` for subsequent operations ("" is the default one)."""
        if nspace is None:
            nspace = ""
        check_str(nspace, "nspace")
        self.require_ioctx_open()
        self.nspace = nspace

    def get_namespace(self) -> str:
        """The current namespace."""
        return self.nspace

    def close(self) -> None:
        """Close the Ioctx; later use raises IoctxStateError."""
        if self.state == "open":
            self.state = "closed"

    def get_pool_id(self) -> int:
        """The pool's id."""
        self.require_ioctx_open()
        return self._pool_id

    def get_pool_name(self) -> str:
        """The pool's name."""
        if self.state != "open":
            # Upstream's get_pool_name() does not check the Ioctx state; librados on a
            # destroyed ioctx answers -ENOTCONN, which the binding raises as NotConnected.
            raise make_ex(-_ENOTCONN, "get pool name error")
        pool = self._pool(msg="get pool name error")
        return str(pool.pool_name)

    def _pool(self, msg: str) -> Any:
        osdmap = self.rados._osdmap()  # ConnectionShutdown once the handle is shut down
        pool = osdmap.get_pool(self._pool_id)
        if pool is None:
            raise make_ex(-_ENOENT, msg)
        return pool

    def set_osdmap_full_try(self) -> None:
        """Let writes proceed when the cluster is full."""
        self._io = self._io.copy(extra_flags=self._io.extra_flags | FLAG_FULL_TRY)

    def unset_osdmap_full_try(self) -> None:
        """Undo set_osdmap_full_try()."""
        self._io = self._io.copy(extra_flags=self._io.extra_flags & ~FLAG_FULL_TRY)

    def alignment(self) -> int | None:
        """Bytes writes must be aligned to (EC pools without overwrites), else None."""
        pool = self._pool(msg="error checking alignment")
        if int(pool.type) == TYPE_ERASURE and not (int(pool.flags) & FLAG_EC_OVERWRITES):
            return int(pool.stripe_width)
        return None

    def get_last_version(self) -> int:
        """Version of the last object read or written through this Ioctx."""
        self.require_ioctx_open()
        return self._last_version

    def get_stats(self) -> dict[str, int]:
        """Pool usage statistics (upstream's 12 keys)."""
        self.require_ioctx_open()
        msg = f"Ioctx.get_stats({self.name}): get_stats failed"
        return dict(self.rados._run(self._io.pool_stats(), msg))

    # -- synchronous object I/O ----------------------------------------------------
    def write(self, key: str, data: bytes, offset: int = 0) -> int:
        """Write `data` at `offset`; returns 0."""
        check_str(key, "key")
        check_bytes(data, "data")
        offset = check_uint(offset, "offset")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.write(offset, data)),
            f"Ioctx.write({self.name}): failed to write {key}",
        )
        return 0

    def write_full(self, key: str, data: bytes) -> int:
        """Replace the object's data with `data`; returns 0."""
        check_str(key, "key")
        check_bytes(data, "data")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.write_full(data)),
            f"Ioctx.write_full({self.name}): failed to write {key}",
        )
        return 0

    def writesame(self, key: str, data: bytes, write_len: int, offset: int = 0) -> None:
        """Write `data` repeatedly over `write_len` bytes starting at `offset`."""
        check_str(key, "key")
        check_bytes(data, "data")
        write_len = check_uint(write_len, "write_len")
        offset = check_uint(offset, "offset")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.writesame(offset, write_len, data)),
            f"Ioctx.writesame({self.name}): failed to write {key}",
        )

    def append(self, key: str, data: bytes) -> int:
        """Append `data`; returns 0."""
        check_str(key, "key")
        check_bytes(data, "data")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.append(data)),
            f"Ioctx.append({self.name}): failed to append {key}",
        )
        return 0

    def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        """Read at most `length` bytes from `offset` (bytes)."""
        check_str(key, "key")
        length = check_uint(length, "length")
        offset = check_uint(offset, "offset")
        self.require_ioctx_open()
        msg = f"Ioctx.read({self.name}): failed to read {key}"
        res = self._sync(key, _build(lambda o: o.read(offset, length)), msg)
        data = res.outs[0].data if res.outs else b""
        if len(data) > length:
            if length == 0:
                raise make_ex(-_ERANGE, msg)
            data = data[:length]
        return bytes(data)

    def execute(
        self, key: str, cls: str, method: str, data: bytes, length: int = 8192
    ) -> tuple[int, bytes]:
        """Run object-class method `cls.method` on `key`; returns (ret, output)."""
        check_str(key, "key")
        check_str(cls, "cls")
        check_str(method, "method")
        check_bytes(data, "data")
        length = check_uint(length, "length")
        self.require_ioctx_open()
        msg = f"Ioctx.read({self.name}): failed to read {key}"
        res = self._sync(key, _build(lambda o: o.call(cls, method, data)), msg)
        return _exec_result(res, length, msg)

    def remove_object(self, key: str) -> bool:
        """Delete the object; returns True."""
        check_str(key, "key")
        self.require_ioctx_open()
        # librados removes with FULL_FORCE, so space can be freed on a full cluster
        self._sync(key, _build(lambda o: o.remove()), f"Failed to remove '{key}'", FLAG_FULL_FORCE)
        return True

    def trunc(self, key: str, size: int) -> int:
        """Resize the object to `size` bytes; returns 0."""
        check_str(key, "key")
        size = check_uint(size, "size")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.truncate(size)),
            f"Ioctx.trunc({self.name}): failed to truncate {key}",
        )
        return 0

    def cmpext(self, key: str, cmp_buf: bytes, offset: int = 0) -> int:
        """Compare `cmp_buf` with the object at `offset`: 0, or -MAX_ERRNO - mismatch offset."""
        check_str(key, "key")
        check_bytes(cmp_buf, "cmp_buf")
        offset = check_uint(offset, "offset")
        self.require_ioctx_open()
        msg = f"Ioctx.cmpext({self.name}): failed to compare {key}"
        res = self.rados._run(self._op_coro(key, _build(lambda o: o.cmpext(offset, cmp_buf))), msg)
        if res.r < -4095:
            return int(res.r)
        if res.r < 0:
            # Faithful to upstream's binding: it checks the result with
            # `assert ret < -MAX_ERRNO or ret == 0, msg`, so any ordinary error (a
            # missing object's -ENOENT included) surfaces as AssertionError, not as a
            # rados.Error. Callers written against upstream catch AssertionError here.
            raise AssertionError(msg)
        return int(res.r)

    def stat(self, key: str) -> tuple[int, time.struct_time]:
        """(size, mtime as time.struct_time) of the object."""
        check_str(key, "key")
        self.require_ioctx_open()
        res = self._sync(key, _build(lambda o: o.stat()), f"Failed to stat {key!r}")
        f = res.outs[0].fields
        return int(f.get("size", 0)), _struct_time(f.get("mtime"))

    # -- xattrs -----------------------------------------------------------------------
    def get_xattr(self, key: str, xattr_name: str) -> bytes:
        """The value of one extended attribute (bytes)."""
        check_str(key, "key")
        check_str(xattr_name, "xattr_name")
        self.require_ioctx_open()
        res = self._sync(
            key, _build(lambda o: o.getxattr(xattr_name)), f"Failed to get xattr {xattr_name!r}"
        )
        return bytes(res.outs[0].data)

    def get_xattrs(self, oid: str) -> XattrIterator:
        """An iterator over the object's (name, value) extended attributes."""
        check_str(oid, "oid")
        self.require_ioctx_open()
        return XattrIterator(self, oid)

    def _getxattrs(self, oid: str) -> list[tuple[str, bytes]]:
        res = self._sync(
            oid, _build(lambda o: o.getxattrs()), f"Failed to get rados xattrs for object {oid!r}"
        )
        attrs = res.outs[0].fields.get("attrs", {}) or {}
        return sorted((str(k), bytes(v)) for k, v in attrs.items())

    def set_xattr(self, key: str, xattr_name: str, xattr_value: bytes) -> bool:
        """Set an extended attribute; returns True."""
        check_str(key, "key")
        check_str(xattr_name, "xattr_name")
        check_bytes(xattr_value, "xattr_value")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.setxattr(xattr_name, xattr_value)),
            f"Failed to set xattr {xattr_name!r}",
        )
        return True

    def rm_xattr(self, key: str, xattr_name: str) -> bool:
        """Remove an extended attribute; returns True."""
        check_str(key, "key")
        check_str(xattr_name, "xattr_name")
        self.require_ioctx_open()
        self._sync(
            key,
            _build(lambda o: o.rmxattr(xattr_name)),
            f"Failed to delete key {key!r} xattr {xattr_name!r}",
        )
        return True

    # -- asynchronous I/O -----------------------------------------------------------------
    def aio_stat(
        self,
        object_name: str,
        oncomplete: Callable[[Completion, int | None, time.struct_time | None], None],
    ) -> Completion:
        """Stat asynchronously; oncomplete(completion, size, mtime) (None, None on error)."""
        check_str(object_name, "object_name")

        def oncomplete_(comp: Completion) -> Any:
            if oncomplete is None:
                return None
            if comp.get_return_value() >= 0:
                size, mtime = comp._state.extra
                return oncomplete(comp, size, _struct_time(mtime))
            return oncomplete(comp, None, None)

        def convert(res: Any) -> Any:
            f = res.outs[0].fields
            return res.r, (int(f.get("size", 0)), f.get("mtime"))

        return self._aio(object_name, _build(lambda o: o.stat()), oncomplete_, None, convert)

    def aio_write(
        self,
        object_name: str,
        to_write: bytes,
        offset: int = 0,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Write asynchronously at `offset`."""
        check_str(object_name, "object_name")
        check_bytes(to_write, "to_write")
        offset = check_uint(offset, "offset")
        return self._aio(
            object_name, _build(lambda o: o.write(offset, to_write)), oncomplete, onsafe, write=True
        )

    def aio_write_full(
        self,
        object_name: str,
        to_write: bytes,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Replace the object's data asynchronously."""
        check_str(object_name, "object_name")
        check_bytes(to_write, "to_write")
        return self._aio(
            object_name, _build(lambda o: o.write_full(to_write)), oncomplete, onsafe, write=True
        )

    def aio_writesame(
        self,
        object_name: str,
        to_write: bytes,
        write_len: int,
        offset: int = 0,
        oncomplete: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Write the same buffer repeatedly, asynchronously."""
        check_str(object_name, "object_name")
        check_bytes(to_write, "to_write")
        offset = check_uint(offset, "offset")
        write_len = check_uint(write_len, "write_len")
        op = _build(lambda o: o.writesame(offset, write_len, to_write))
        return self._aio(object_name, op, oncomplete, None, write=True)

    def aio_append(
        self,
        object_name: str,
        to_append: bytes,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Append asynchronously."""
        check_str(object_name, "object_name")
        check_bytes(to_append, "to_append")
        return self._aio(
            object_name, _build(lambda o: o.append(to_append)), oncomplete, onsafe, write=True
        )

    def aio_flush(self) -> None:
        """Block until every asynchronous write issued so far has completed."""
        import concurrent.futures

        with self._inflight_lock:
            pending = list(self._inflight_writes)
        if pending:
            concurrent.futures.wait(pending)

    def aio_cmpext(
        self,
        object_name: str,
        cmp_buf: bytes,
        offset: int = 0,
        oncomplete: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Compare asynchronously; the return value is 0 or -MAX_ERRNO - mismatch offset."""
        check_str(object_name, "object_name")
        check_bytes(cmp_buf, "cmp_buf")
        offset = check_uint(offset, "offset")
        return self._aio(object_name, _build(lambda o: o.cmpext(offset, cmp_buf)), oncomplete, None)

    def aio_rmxattr(
        self,
        object_name: str,
        xattr_name: str,
        oncomplete: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Remove an extended attribute asynchronously."""
        check_str(object_name, "object_name")
        check_str(xattr_name, "xattr_name")
        return self._aio(
            object_name, _build(lambda o: o.rmxattr(xattr_name)), oncomplete, None, write=True
        )

    def aio_read(
        self,
        object_name: str,
        length: int,
        offset: int,
        oncomplete: Callable[[Completion, bytes | None], None] | None = None,
    ) -> Completion:
        """Read asynchronously; oncomplete(completion, data) (data None on error)."""
        check_str(object_name, "object_name")
        length = check_uint(length, "length")
        offset = check_uint(offset, "offset")

        def oncomplete_(comp: Completion) -> Any:
            if oncomplete is None:
                return None
            rv = comp.get_return_value()
            return oncomplete(comp, comp._state.extra if rv >= 0 else None)

        def convert(res: Any) -> Any:
            data = bytes(res.outs[0].data[:length]) if res.outs else b""
            return len(data), data

        return self._aio(
            object_name,
            _build(lambda o: o.read(offset, length)),
            oncomplete_,
            None,
            convert,
        )

    def aio_execute(
        self,
        object_name: str,
        cls: str,
        method: str,
        data: bytes,
        length: int = 8192,
        oncomplete: Callable[[Completion, bytes | None], None] | None = None,
        onsafe: Callable[[Completion, bytes | None], None] | None = None,
    ) -> Completion:
        """Run an object-class method asynchronously; callbacks get (completion, output)."""
        check_str(object_name, "object_name")
        check_str(cls, "cls")
        check_str(method, "method")
        check_bytes(data, "data")
        length = check_uint(length, "length")

        def wrap(cb: Callable[..., Any] | None) -> Callable[[Completion], Any] | None:
            if cb is None:
                return None

            def cb_(comp: Completion) -> Any:
                rv = comp.get_return_value()
                return cb(comp, comp._state.extra if rv >= 0 else None)

            return cb_

        def convert(res: Any) -> Any:
            try:
                ret, out = _exec_result(res, length, "")
            except Error as e:
                return -int(e.errno or errno.EIO), None
            return ret, out

        return self._aio(
            object_name,
            _build(lambda o: o.call(cls, method, data)),
            wrap(oncomplete),
            wrap(onsafe),
            convert,
        )

    def aio_setxattr(
        self,
        object_name: str,
        xattr_name: str,
        xattr_value: bytes,
        oncomplete: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Set an extended attribute asynchronously."""
        check_str(object_name, "object_name")
        check_str(xattr_name, "xattr_name")
        check_bytes(xattr_value, "xattr_value")
        return self._aio(
            object_name,
            _build(lambda o: o.setxattr(xattr_name, xattr_value)),
            oncomplete,
            None,
            write=True,
        )

    def aio_remove(
        self,
        object_name: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Delete the object asynchronously."""
        check_str(object_name, "object_name")
        return self._aio(
            object_name,
            _build(lambda o: o.remove()),
            oncomplete,
            onsafe,
            write=True,
            flags=FLAG_FULL_FORCE,
        )

    # -- listing -------------------------------------------------------------------------
    def list_objects(self) -> ObjectIterator:
        """An iterator of `Object`s in the current namespace (all with LIBRADOS_ALL_NSPACES)."""
        self.require_ioctx_open()
        return ObjectIterator(self)

    def _list_objects(self) -> AsyncIterator[tuple[str, str, str]]:
        """(nspace, name, locator key) of the objects `list_objects` yields, from the loop."""
        return self._io.list_objects(all_nspaces=self.nspace == LIBRADOS_ALL_NSPACES)

    # -- watch / notify -----------------------------------------------------------------------
    def notify(self, obj: str, msg: str = "", timeout_ms: int = 5000) -> bool:
        """Notify the object's watchers and wait for their acks; returns True."""
        check_str(obj, "obj")
        check_str(msg, "msg")
        timeout_ms = check_uint(timeout_ms, "timeout_ms")
        self.require_ioctx_open()
        self._sync(
            obj,
            _build(lambda o: o.notify(msg.encode(), timeout_ms)),
            f"Failed to notify {obj!r}",
        )
        return True

    def aio_notify(
        self,
        obj: str,
        oncomplete: Callable[[Completion, int, list[Any] | None, list[Any] | None], None],
        msg: str = "",
        timeout_ms: int = 5000,
    ) -> Completion:
        """Notify asynchronously; oncomplete(completion, r, acks, timeouts)."""
        check_str(obj, "obj")
        check_str(msg, "msg")
        timeout_ms = check_uint(timeout_ms, "timeout_ms")

        def oncomplete_(comp: Completion) -> Any:
            if oncomplete is None:
                return None
            rv = comp.get_return_value()
            acks, timeouts = comp._state.extra if rv >= 0 and comp._state.extra else (None, None)
            return oncomplete(comp, rv, acks, timeouts)

        def convert(res: Any) -> Any:
            f = res.outs[0].fields if res.outs else {}
            # rados.pyx gives '' (a str) for an empty ack payload, the bytes otherwise
            acks = [(int(a[0]), int(a[1]), bytes(a[2]) or "") for a in f.get("acks", [])]
            timeouts = [(int(t[0]), int(t[1])) for t in f.get("timeouts", [])]
            return res.r, (acks, timeouts)

        return self._aio(
            obj,
            _build(lambda o: o.notify(msg.encode(), timeout_ms)),
            oncomplete_,
            None,
            convert,
        )

    def watch(
        self,
        obj: str,
        callback: Callable[[int, str, int, bytes], None],
        error_callback: Callable[[int], None] | None = None,
        timeout: int | None = None,
    ) -> Watch:
        """Register `callback` for notifications on `obj`; returns a Watch."""
        check_str(obj, "obj")
        self.require_ioctx_open()
        w = Watch(self, obj, callback, error_callback, timeout)
        lt = self.rados._loop_thread()

        def on_notify(notify_id: int, notifier_id: int, cookie: int, data: bytes) -> Any:
            # Called on the loop thread: run the user's callback on the finisher thread (it
            # may block, or use this handle) and ack with its return value once it is done.
            loop = asyncio.get_running_loop()
            fut: asyncio.Future[Any] = loop.create_future()

            def settle(value: Any) -> None:
                if not fut.done():
                    fut.set_result(value)

            def run() -> None:
                value = None
                try:
                    # librados hands the callback bl.c_str(), which is NULL for an empty
                    # payload, and upstream's binding passes NULL on as None.
                    value = w._callback(notify_id, notifier_id, cookie, data or None)
                finally:
                    try:
                        loop.call_soon_threadsafe(settle, value)
                    except RuntimeError:
                        pass  # the handle is shutting down

            lt.finish(run)
            return fut

        def on_error(cookie: int, err: int) -> None:
            lt.finish(lambda: w._error_callback(cookie, err))

        handle = self.rados._run(w._io.watch(obj, on_notify, on_error, timeout or 0), "watch error")
        w._handle = handle
        w.id = int(getattr(handle, "cookie", 0) or 0)
        return w

    # -- pool snapshots ---------------------------------------------------------------------
    def list_snaps(self) -> SnapIterator:
        """An iterator of the pool's snapshots (`Snap`)."""
        self.require_ioctx_open()
        return SnapIterator(self)

    def _snaps(self) -> dict[int, tuple[str, float]]:
        return _pool_snaps(self._pool(msg=f"error calling rados_snap_list for ioctx '{self.name}'"))

    def _pool_command(self, cmd: dict[str, Any], msg: str) -> None:
        ret, _out, _outs = self.rados._command(cmd, msg)
        if ret < 0:
            raise make_ex(ret, msg)
        self.rados._wait_latest(msg)

    def create_snap(self, snap_name: str) -> None:
        """Create a pool snapshot."""
        check_str(snap_name, "snap_name")
        self.require_ioctx_open()
        msg = f"Failed to create snap {snap_name}"
        self._pool(msg)
        self.rados._run(self._io.pool_snap_create(snap_name), msg)

    def remove_snap(self, snap_name: str) -> None:
        """Remove a pool snapshot."""
        check_str(snap_name, "snap_name")
        self.require_ioctx_open()
        msg = f"Failed to remove snap {snap_name}"
        self._pool(msg)
        self.rados._run(self._io.pool_snap_remove(snap_name), msg)

    def lookup_snap(self, snap_name: str) -> Snap:
        """The pool snapshot called `snap_name`."""
        check_str(snap_name, "snap_name")
        self.require_ioctx_open()
        msg = f"Failed to lookup snap {snap_name}"
        for sid, (name, _stamp) in self._snaps().items():
            if name == snap_name:
                return Snap(self, snap_name, sid)
        raise make_ex(-_ENOENT, msg)

    def snap_rollback(self, oid: str, snap_name: str) -> None:
        """Roll `oid` back to its state in pool snapshot `snap_name`."""
        check_str(oid, "oid")
        check_str(snap_name, "snap_name")
        self.require_ioctx_open()
        msg = f"Failed to rollback {oid}"
        for sid, (name, _stamp) in self._snaps().items():
            if name == snap_name:
                self._sync(oid, _build(lambda o, snapid=sid: o.rollback(snapid)), msg)
                return
        raise make_ex(-_ENOENT, msg)

    def create_self_managed_snap(self) -> int:
        """Allocate a self-managed snapshot id."""
        self.require_ioctx_open()
        msg = "Failed to create self-managed snapshot"
        return int(self.rados._run(self._io.selfmanaged_snap_create(), msg))

    def remove_self_managed_snap(self, snap_id: int) -> None:
        """Release a self-managed snapshot id."""
        snap_id = check_uint(snap_id, "snap_id")
        self.require_ioctx_open()
        msg = "Failed to remove self-managed snapshot"
        self.rados._run(self._io.selfmanaged_snap_remove(snap_id), msg)

    def set_self_managed_snap_write(self, snaps: Sequence[int | str]) -> None:
        """Use the snapshot context made of `snaps` for subsequent writes."""
        self.require_ioctx_open()
        sorted_snaps = tuple(sorted((int(x) for x in snaps), reverse=True)) if snaps else ()
        seq = sorted_snaps[0] if sorted_snaps else 0
        self._io = self._io.copy(snapc=SnapContext(seq, sorted_snaps))

    def rollback_self_managed_snap(self, oid: str, snap_id: int) -> None:
        """Roll `oid` back to self-managed snapshot `snap_id`."""
        check_str(oid, "oid")
        snap_id = check_uint(snap_id, "snap_id")
        self.require_ioctx_open()
        self._sync(oid, _build(lambda o: o.rollback(snap_id)), f"Failed to rollback {oid}")

    # -- compound operations ---------------------------------------------------------------
    def create_write_op(self) -> WriteOp:
        """A new WriteOp (release it with release_write_op)."""
        return WriteOp().create()

    def create_read_op(self) -> ReadOp:
        """A new ReadOp (release it with release_read_op)."""
        return ReadOp().create()

    def release_write_op(self, write_op: WriteOp) -> None:
        """Release a WriteOp."""
        write_op.release()

    def release_read_op(self, read_op: ReadOp) -> None:
        """Release a ReadOp."""
        check_obj_type(read_op, ReadOp, "read_op")
        read_op.release()

    def set_omap(
        self, write_op: WriteOp, keys: Sequence[str], values: Sequence[bytes | str]
    ) -> None:
        """Add an omap set of `keys` to `values` to the write op."""
        check_obj_type(write_op, WriteOp, "write_op")
        if len(keys) != len(values):
            raise Error("Rados(): keys and values must have the same number of items")
        k = [b.decode() for b in cstr_list(keys, "keys")]
        v = cstr_list(values, "values")
        write_op.object_op.omap_set(dict(zip(k, v, strict=True)))

    def operate_write_op(
        self,
        write_op: WriteOp,
        oid: str,
        mtime: int = 0,
        flags: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> None:
        """Run the write op on `oid`."""
        check_obj_type(write_op, WriteOp, "write_op")
        check_str(oid, "oid")
        op, _sinks = write_op._take()
        op.set_mtime(mtime)
        msg = f"Failed to operate write op for oid {oid}"
        res = self.rados._run(self._op_coro(oid, op, check_int(flags, "flags")), msg)
        if res.r != 0:
            raise make_ex(res.r, msg)

    def operate_aio_write_op(
        self,
        write_op: WriteOp,
        oid: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
        mtime: int = 0,
        flags: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> Completion:
        """Run the write op on `oid` asynchronously."""
        check_obj_type(write_op, WriteOp, "write_op")
        check_str(oid, "oid")
        op, _sinks = write_op._take()
        op.set_mtime(mtime)
        return self._aio(oid, op, oncomplete, onsafe, write=True, flags=check_int(flags, "flags"))

    def operate_read_op(
        self, read_op: ReadOp, oid: str, flag: int = LIBRADOS_OPERATION_NOFLAG
    ) -> None:
        """Run the read op on `oid`, filling the iterators it returned."""
        check_obj_type(read_op, ReadOp, "read_op")
        check_str(oid, "oid")
        op, sinks = read_op._take()
        msg = f"Failed to operate read op for oid {oid}"
        res = self.rados._run(self._op_coro(oid, op, check_int(flag, "flag")), msg)
        if res.r != 0:
            raise make_ex(res.r, msg)
        _deliver(res, sinks)

    def operate_aio_read_op(
        self,
        read_op: ReadOp,
        oid: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
        flag: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> Completion:
        """Run the read op on `oid` asynchronously."""
        check_obj_type(read_op, ReadOp, "read_op")
        check_str(oid, "oid")
        op, sinks = read_op._take()

        def convert(res: Any) -> Any:
            _deliver(res, sinks)
            return res.r

        return self._aio(oid, op, oncomplete, onsafe, convert, flags=check_int(flag, "flag"))

    def get_omap_vals(
        self, read_op: ReadOp, start_after: str, filter_prefix: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        """Add an omap read to the op; the iterator is filled when the op runs."""
        check_obj_type(read_op, ReadOp, "read_op")
        check_str(start_after, "start_after")
        check_str(filter_prefix, "filter_prefix")
        it = OmapIterator(self)
        max_return = check_uint(max_return, "max_return")
        read_op.object_op.omap_get_vals(start_after, filter_prefix, max_return)
        read_op._add_sink(_omap_sink(it, "vals"))
        return it, 0

    def get_omap_keys(
        self, read_op: ReadOp, start_after: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        """Add an omap key listing to the op; yields (key, None)."""
        check_obj_type(read_op, ReadOp, "read_op")
        check_str(start_after, "start_after")
        it = OmapIterator(self)
        read_op.object_op.omap_get_keys(start_after, check_uint(max_return, "max_return"))
        read_op._add_sink(_omap_sink(it, "keys"))
        return it, 0

    def get_omap_vals_by_keys(
        self, read_op: ReadOp, keys: Sequence[str]
    ) -> tuple[OmapIterator, int]:
        """Add a read of the given omap keys to the op."""
        check_obj_type(read_op, ReadOp, "read_op")
        k = [b.decode() for b in cstr_list(keys, "keys")]
        it = OmapIterator(self)
        read_op.object_op.omap_get_vals_by_keys(k)
        read_op._add_sink(_omap_sink(it, "vals"))
        return it, 0

    def remove_omap_keys(self, write_op: WriteOp, keys: Sequence[str]) -> None:
        """Add removal of omap `keys` to the write op."""
        check_obj_type(write_op, WriteOp, "write_op")
        k = [b.decode() for b in cstr_list(keys, "keys")]
        write_op.object_op.omap_rm_keys(k)

    def clear_omap(self, write_op: WriteOp) -> None:
        """Add removal of every omap key to the write op."""
        check_obj_type(write_op, WriteOp, "write_op")
        write_op.object_op.omap_clear()

    def remove_omap_range2(self, write_op: WriteOp, key_begin: str, key_end: str) -> None:
        """Add removal of omap keys in [key_begin, key_end) to the write op."""
        check_obj_type(write_op, WriteOp, "write_op")
        check_str(key_begin, "key_begin")
        check_str(key_end, "key_end")
        write_op.object_op.omap_rm_range(key_begin, key_end)

    # -- advisory locks (cls lock) ------------------------------------------------------------
    def _lock_call(self, key: str, method: str, args: dict[str, Any], msg: str) -> None:
        # upstream's cls_lock_ops.h encoding, as librados' rados::cls::lock client sends it
        from pyceph.cls.lock import encode_input

        if not 0 <= int(args.get("flags", 0)) <= 0xFF:  # the binding's uint8_t flags
            raise OverflowError("value too large to convert to uint8_t")
        data = encode_input(method, args)
        self._sync(key, _build(lambda o: o.call("lock", method, data)), msg)

    def lock_exclusive(
        self,
        key: str,
        name: str,
        cookie: str,
        desc: str = "",
        duration: int | None = None,
        flags: int = 0,
    ) -> None:
        """Take an exclusive advisory lock on `key`."""
        for v, n in ((key, "key"), (name, "name"), (cookie, "cookie"), (desc, "desc")):
            check_str(v, n)
        self.require_ioctx_open()
        self._lock_call(
            key,
            "lock",
            {
                "name": name,
                "type": 1,
                "cookie": cookie,
                "tag": "",
                "description": desc,
                "duration": float(duration or 0),
                "flags": check_uint(flags, "flags"),
            },
            f"Ioctx.rados_lock_exclusive({self.name}): failed to set lock {name} on {key}",
        )

    def lock_shared(
        self,
        key: str,
        name: str,
        cookie: str,
        tag: str,
        desc: str = "",
        duration: int | None = None,
        flags: int = 0,
    ) -> None:
        """Take a shared advisory lock on `key`."""
        for v, n in (
            (key, "key"),
            (name, "name"),
            (cookie, "cookie"),
            (tag, "tag"),
            (desc, "desc"),
        ):
            check_str(v, n)
        self.require_ioctx_open()
        self._lock_call(
            key,
            "lock",
            {
                "name": name,
                "type": 2,
                "cookie": cookie,
                "tag": tag,
                "description": desc,
                "duration": float(duration or 0),
                "flags": check_uint(flags, "flags"),
            },
            f"Ioctx.rados_lock_shared({self.name}): failed to set lock {name} on {key}",
        )

    def unlock(self, key: str, name: str, cookie: str) -> None:
        """Release an advisory lock held with `cookie`."""
        for v, n in ((key, "key"), (name, "name"), (cookie, "cookie")):
            check_str(v, n)
        self.require_ioctx_open()
        self._lock_call(
            key,
            "unlock",
            {"name": name, "cookie": cookie},
            f"Ioctx.rados_lock_exclusive({self.name}): failed to set lock {name} on {key}",
        )

    # -- pool application metadata ------------------------------------------------------------
    def _apps(self, msg: str) -> dict[str, dict[str, str]]:
        pool = self._pool(msg)
        return {k: dict(v) for k, v in (pool.application_metadata or {}).items()}

    def application_enable(self, app_name: str, force: bool = False) -> None:
        """Enable application `app_name` on the pool."""
        check_str(app_name, "app_name")
        msg = "error enabling application"
        cmd: dict[str, Any] = {
            "prefix": "osd pool application enable",
            "pool": self._pool(msg).pool_name,
            "app": app_name,
        }
        if force:
            cmd["yes_i_really_mean_it"] = True
        self._pool_command(cmd, msg)

    def application_list(self) -> list[str]:
        """Names of the applications enabled on the pool."""
        return sorted(self._apps("error listing applications"))

    def application_metadata_get(self, app_name: str, key: str) -> str:
        """One application metadata value."""
        check_str(app_name, "app_name")
        check_str(key, "key")
        msg = "error getting application metadata"
        apps = self._apps(msg)
        if app_name not in apps or key not in apps[app_name]:
            # Upstream's binding turns -ENOENT into KeyError (its message shows the
            # application name as the C string it passed, i.e. a bytes repr).
            raise KeyError(f"no metadata {key} for application {app_name.encode('utf-8')!r}")
        return apps[app_name][key]

    def application_metadata_set(self, app_name: str, key: str, value: str) -> None:
        """Set one application metadata value."""
        check_str(app_name, "app_name")
        check_str(key, "key")
        check_str(value, "value")
        msg = "error setting application metadata"
        self._pool_command(
            {
                "prefix": "osd pool application set",
                "pool": self._pool(msg).pool_name,
                "app": app_name,
                "key": key,
                "value": value,
            },
            msg,
        )

    def application_metadata_remove(self, app_name: str, key: str) -> None:
        """Remove one application metadata key."""
        check_str(app_name, "app_name")
        check_str(key, "key")
        msg = "error removing application metadata"
        self._pool_command(
            {
                "prefix": "osd pool application rm",
                "pool": self._pool(msg).pool_name,
                "app": app_name,
                "key": key,
            },
            msg,
        )

    def application_metadata_list(self, app_name: str) -> list[tuple[str, str]]:
        """The (key, value) metadata pairs of one application."""
        check_str(app_name, "app_name")
        msg = "error listing application metadata"
        apps = self._apps(msg)
        if app_name not in apps:
            raise make_ex(-_ENOENT, msg)
        return sorted(apps[app_name].items())


# -- helpers --------------------------------------------------------------------------------


def _exec_result(res: Any, length: int, msg: str) -> tuple[int, bytes]:
    out = bytes(res.outs[0].data) if res.outs else b""
    if out:
        if len(out) > length:
            raise make_ex(-_ERANGE, msg)
        return len(out), out
    rv = res.outs[0].r if res.outs else res.r
    return max(int(rv), 0), b""


def _build(fill: Callable[[ObjectOp], object]) -> ObjectOp:
    """A new `ObjectOp` with what `fill` adds to it."""
    op = ObjectOp()
    fill(op)
    return op


def _deliver(res: Any, sinks: list[tuple[int, Any]]) -> None:
    for idx, sink in sinks:
        if idx < len(res.outs):
            o = res.outs[idx]
            sink(o.r, o.fields, o.data)


def _omap_sink(it: OmapIterator, kind: str) -> Any:
    def sink(r: int, fields: dict[str, Any], _data: bytes) -> None:
        if r < 0:
            return
        if kind == "keys":
            it._fill([(str(k), None) for k in fields.get("keys", [])])
        else:
            vals = fields.get("vals", [])
            if isinstance(vals, dict):
                vals = sorted(vals.items())
            it._fill([(str(k), bytes(v)) for k, v in vals])

    return sink


__all__ = ["Ioctx", "Watch", "LogicError", "NotConnected"]
