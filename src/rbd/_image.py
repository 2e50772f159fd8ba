"""`rbd.Image`: an open RBD image, upstream's binding over the async engine's `Image`.

Upstream: `src/pybind/rbd/rbd.pyx`, class `Image`.  The facade only checks arguments
the way the Cython binding converts them (str names via `cstr` -> InvalidArgument,
C integers -> TypeError/OverflowError, `rados.Ioctx` -> TypeError), runs one engine
coroutine per call on the `rados` handle's loop thread, and maps engine errors with
upstream's messages (which show names as the binding holds them: `b'name'`).

State machine: the constructor opens the image (or, given `_oncomplete`, starts an
asynchronous open: `RBD.aio_open_image`); `close()` (also `__exit__`, and garbage
collection) closes it once; every other method then raises
`InvalidArgument('image is closed')`.  Mirroring and encryption methods live in
`_image_mirror.py`.
"""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pyceph.common.errors import CephError
from pyceph.rbdlib import image as engine_image
from pyceph.rbdlib.image import Image as EngineImage
from rbd import _engine as eng
from rbd import _image_mirror as _mirror
from rbd._completion import Completion, launch
from rbd._constants import (
    LIBRADOS_SNAP_HEAD,
)
from rbd._errors import (
    IncompleteWriteError,
    InvalidArgument,
    LogicError,
    make_ex,
)
from rbd._iterators import (
    ChildIterator,
    ConfigImageIterator,
    LockOwnerIterator,
    MetadataIterator,
    SnapIterator,
    WatcherIterator,
    utc,
)
from rbd._util import (
    U64_MAX,
    c_i64,
    c_int,
    c_size,
    c_u8,
    c_u32,
    c_u64,
    check_ioctx,
    cstr,
    requires_not_closed,
    str_of,
)

#: how long garbage collection of a still-open Image waits for its close (seconds)
CLOSE_ON_COLLECT_TIMEOUT = 30.0


class Image:
    """This class represents an RBD image. It is used to perform I/O on
    the image and interact with snapshots.
    """

    def __init__(
        self,
        ioctx: Any,
        name: Any = None,
        snapshot: Any = None,
        read_only: bool = False,
        image_id: Any = None,
        _oncomplete: Callable[..., Any] | None = None,
    ) -> None:
        self._closed = True
        self._img: Any = None
        self._open_completion: Completion | None = None
        bname = cstr(name, "name", opt=True)
        bid = cstr(image_id, "image_id", opt=True)
        bsnap = cstr(snapshot, "snapshot", opt=True)
        if bname is not None and bid is not None:
            raise InvalidArgument("only need to specify image name or image id")
        if bname is None and bid is None:
            raise InvalidArgument("image name or image id was not specified")
        self._name: Any = bname if bname is not None else bid
        self._ioctx = ioctx
        check_ioctx(ioctx)
        cio = eng.core_ioctx(ioctx)
        kwargs = {
            "image_id": str_of(bid),
            "snapshot": str_of(bsnap),
            "read_only": bool(read_only),
        }
        msg = f"error opening image {self._name} at snapshot {bsnap}"

        async def do_open() -> int:
            self._img = await engine_image.open_image(cio, str_of(bname), **kwargs)
            return 0

        if _oncomplete:
            user_cb = _oncomplete

            def oncomplete(comp: Completion) -> Any:
                if comp.get_return_value() == 0:
                    self._closed = False
                    if bname is None:
                        self._name = self.get_name()
                return user_cb(comp, self)

            comp = Completion(self, oncomplete)
            _start(ioctx, comp, do_open(), msg)
            self._open_completion = comp
            return

        eng.run_ex(ioctx, do_open, msg)
        self._closed = False
        if bname is None:
            self._name = self.get_name()

    # -- life cycle --------------------------------------------------------------------
    def __enter__(self) -> Image:
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> bool:
        """Closes the image. See :func:`close`"""
        self.close()
        return False

    def __repr__(self) -> str:
        return f"rbd.Image(ioctx, {self._name!r})"

    def __del__(self) -> None:
        # upstream's __dealloc__ closes an image that is still open, synchronously (so its
        # header watch is gone before the next call).  The collector may run anywhere, even
        # inside LoopThread.submit() or on the loop thread: schedule straight on the loop
        # (no lock of ours) and wait, bounded, unless this is the loop thread itself.
        img = getattr(self, "_img", None)
        if getattr(self, "_closed", True) or img is None:
            return
        self._closed = True
        try:
            lt = eng.loop_thread(self._ioctx)
            fut = asyncio.run_coroutine_threadsafe(img.close(), lt.loop)
            if not lt.in_loop_thread():
                fut.result(CLOSE_ON_COLLECT_TIMEOUT)
        except Exception:  # noqa: BLE001, S110 - the cluster handle is already gone
            pass

    def _get_completion(self, oncomplete: Callable[..., Any] | None) -> Completion:
        """Constructs a completion to use with asynchronous operations"""
        return Completion(self, oncomplete)

    def require_not_closed(self) -> None:
        """Checks if the Image is not closed

        :raises: :class:`InvalidArgument`
        """
        if self._closed:
            raise InvalidArgument("image is closed")

    def close(self) -> None:
        """Release the resources used by this image object.

        After this is called, this object should not be used.
        """
        if not self._closed:
            self._closed = True
            img = self._img
            eng.run_ex(self._ioctx, img.close, f"error while closing image {self._name}")

    @requires_not_closed
    def aio_close(self, oncomplete: Callable[..., Any]) -> Completion:
        """Asynchronously close the image; `oncomplete(completion)` when done."""
        comp = self._get_completion(oncomplete)
        self._closed = True
        return self._launch(comp, self._img.close())

    # -- plumbing ---------------------------------------------------------------------
    def _call(
        self, fn: Callable[..., Any], msg: str | Callable[[], str], *args: Any, **kwargs: Any
    ) -> Any:
        """Run engine coroutine `fn(<engine Image>, *args, **kwargs)` (an `EngineImage`
        method or an engine function taking the image first), mapping its errors."""
        return eng.call(self._ioctx, fn, (self._img, *args), kwargs, msg)

    def _launch(self, comp: Completion, coro: Any) -> Completion:
        return _start(self._ioctx, comp, coro, f"error starting an operation on {self._name}")

    def _aio(
        self, comp: Completion, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Completion:
        """Launch engine coroutine `fn(<engine Image>, *args, **kwargs)` on `comp`."""
        img = self._img

        async def op() -> int:
            await fn(img, *args, **kwargs)
            return 0  # librbd completes writes, discards and flushes with 0

        return self._launch(comp, op())

    # -- information ------------------------------------------------------------------
    @requires_not_closed
    def resize(self, size: int, allow_shrink: bool = True) -> None:
        """Change the size of the image, allow shrink."""
        old_size = self.size()
        if old_size == size:
            return
        if not allow_shrink and old_size > size:
            raise InvalidArgument("error allow_shrink is False but old_size > new_size")
        size = c_u64(size)
        self._call(
            EngineImage.resize,
            f"error resizing image {self._name}",
            size,
            allow_shrink=bool(allow_shrink),
        )

    @requires_not_closed
    def stat(self) -> dict[str, Any]:
        """Get information about the image: size, obj_size, num_objs, order,
        block_name_prefix, parent_pool, parent_name."""
        info = self._call(EngineImage.stat, f"error getting info for image {self._name}")
        parent_name = info.get("parent_name", b"")
        if isinstance(parent_name, str):
            parent_name = parent_name.encode()
        return {
            "size": info["size"],
            "obj_size": info["obj_size"],
            "num_objs": info["num_objs"],
            "order": info["order"],
            "block_name_prefix": info["block_name_prefix"],
            # librbd fills the deprecated parent pool with (uint64_t)-1
            "parent_pool": int(info.get("parent_pool", -1)) & U64_MAX,
            "parent_name": parent_name,
        }

    @requires_not_closed
    def get_name(self) -> str:
        """Get the RBD image name"""
        img = self._img
        name = getattr(img, "name", None)
        if name is None:
            raise make_ex(errno.ENOENT, f"error getting name for image {self._name}")
        return name  # type: ignore[no-any-return]

    @requires_not_closed
    def id(self) -> str:
        """Get the RBD v2 internal image id"""
        img = self._img
        if self.old_format():
            raise make_ex(errno.EINVAL, f"error getting id for image {self._name}")
        return img.id  # type: ignore[no-any-return]

    @requires_not_closed
    def block_name_prefix(self) -> str:
        """Get the RBD block name prefix"""
        return self._img.block_name_prefix()  # type: ignore[no-any-return]

    @requires_not_closed
    def data_pool_id(self) -> int:
        """Get the pool id of the pool where the data of this RBD image is stored."""
        return int(
            self._call(
                EngineImage.data_pool_id, f"error getting data pool id for image {self._name}"
            )
        )

    @requires_not_closed
    def get_parent_image_spec(self) -> dict[str, Any]:
        """Get spec of the cloned image's parent: pool_name, pool_namespace,
        image_name, snap_name (ImageNotFound without a parent)."""
        spec = self._call(EngineImage.parent_spec, self._parent_msg)
        return {
            "pool_name": spec["pool_name"],
            "pool_namespace": spec["pool_namespace"],
            "image_name": spec["image_name"],
            "snap_name": spec["snap_name"],
        }

    def _parent_msg(self) -> str:
        return f"error getting parent info for image {self._name}"

    @requires_not_closed
    def parent_info(self) -> tuple[str, str, str]:
        """Deprecated: (pool name, image name, snapshot name) of the parent."""
        parent = self.get_parent_image_spec()
        return (parent["pool_name"], parent["image_name"], parent["snap_name"])

    @requires_not_closed
    def parent_id(self) -> str:
        """Get image id of a cloned image's parent (if any)"""
        return self._call(EngineImage.parent_id, self._parent_msg)  # type: ignore[no-any-return]

    @requires_not_closed
    def migration_source_spec(self) -> dict[str, Any]:
        """Get migration source spec (if any)"""
        spec = self._call(EngineImage.migration_source_spec, "error retrieving migration source")
        return json.loads(spec) if isinstance(spec, str) else spec  # type: ignore[no-any-return]

    @requires_not_closed
    def old_format(self) -> bool:
        """Find out whether the image uses the old RBD format."""
        return bool(self._img.old_format())

    @requires_not_closed
    def size(self) -> int:
        """Get the size of the image (of the snapshot, when one is set)."""
        return int(self._call(EngineImage.size, f"error getting size for image {self._name}"))

    @requires_not_closed
    def features(self) -> int:
        """Get the features bitmask of the image."""
        return int(
            self._call(EngineImage.features, f"error getting features for image {self._name}")
        )

    @requires_not_closed
    def update_features(self, features: int, enabled: bool) -> None:
        """Enable or disable features that can change on a live image."""
        features = c_u64(features)
        self._call(
            EngineImage.update_features,
            f"error updating features for image {self._name}",
            features,
            bool(enabled),
        )

    @requires_not_closed
    def op_features(self) -> int:
        """Get the op features bitmask of the image."""
        return int(
            self._call(EngineImage.op_features, f"error getting op features for image {self._name}")
        )

    @requires_not_closed
    def overlap(self) -> int:
        """Bytes of the image still backed by its parent (0 without one)."""
        return int(self._call(EngineImage.overlap, f"error getting overlap for image {self._name}"))

    @requires_not_closed
    def flags(self) -> int:
        """Get the flags bitmask of the image."""
        return int(self._call(EngineImage.flags, f"error getting flags for image {self._name}"))

    @requires_not_closed
    def group(self) -> dict[str, Any]:
        """The image's group: {'pool': int, 'name': str}."""
        info = self._call(EngineImage.group, f"error getting group for image {self._name}")
        return {"pool": info["pool"], "name": info["name"]}

    @requires_not_closed
    def is_exclusive_lock_owner(self) -> bool:
        """Whether this handle owns the image's exclusive lock."""
        return bool(
            self._call(
                EngineImage.is_exclusive_lock_owner,
                f"error getting lock status for image {self._name}",
            )
        )

    # -- copies -----------------------------------------------------------------------
    def _create_opts(
        self,
        features: Any,
        order: Any,
        stripe_unit: Any,
        stripe_count: Any,
        data_pool: bytes | None,
    ) -> dict[str, Any]:
        return {
            "features": None if features is None else c_u64(features),
            "order": None if order is None else c_u64(order),
            "stripe_unit": None if stripe_unit is None else c_u64(stripe_unit),
            "stripe_count": None if stripe_count is None else c_u64(stripe_count),
            "data_pool": str_of(data_pool),
        }

    @requires_not_closed
    def copy(
        self,
        dest_ioctx: Any,
        dest_name: Any,
        features: Any = None,
        order: Any = None,
        stripe_unit: Any = None,
        stripe_count: Any = None,
        data_pool: Any = None,
    ) -> None:
        """Copy the image (its current snapshot or head) to another location."""
        bdest = cstr(dest_name, "dest_name")
        bpool = cstr(data_pool, "data_pool", opt=True)
        check_ioctx(dest_ioctx)
        opts = self._create_opts(features, order, stripe_unit, stripe_count, bpool)
        cio = eng.core_ioctx(dest_ioctx)
        self._call(
            EngineImage.copy,
            f"error copying image {self._name} to {bdest}",
            cio,
            str_of(bdest),
            **opts,
        )

    @requires_not_closed
    def deep_copy(
        self,
        dest_ioctx: Any,
        dest_name: Any,
        features: Any = None,
        order: Any = None,
        stripe_unit: Any = None,
        stripe_count: Any = None,
        data_pool: Any = None,
    ) -> None:
        """Deep copy the image (with its snapshots) to another location."""
        bdest = cstr(dest_name, "dest_name")
        bpool = cstr(data_pool, "data_pool", opt=True)
        check_ioctx(dest_ioctx)
        opts = self._create_opts(features, order, stripe_unit, stripe_count, bpool)
        cio = eng.core_ioctx(dest_ioctx)
        self._call(
            EngineImage.deep_copy,
            f"error deep copying image {self._name} to {bdest}",
            cio,
            str_of(bdest),
            **opts,
        )

    # -- snapshots --------------------------------------------------------------------
    @requires_not_closed
    def list_snaps(self) -> SnapIterator:
        """Iterate over the snapshots of an image."""
        return SnapIterator(self)

    @requires_not_closed
    def create_snap(self, name: Any, flags: int = 0) -> None:
        """Create a snapshot of the image."""
        bname = cstr(name, "name")
        flags = c_u32(flags)
        self._call(
            EngineImage.create_snap,
            f"error creating snapshot {bname} from {self._name}",
            str_of(bname),
            flags,
        )

    @requires_not_closed
    def rename_snap(self, srcname: Any, dstname: Any) -> None:
        """Rename a snapshot of the image."""
        bsrc = cstr(srcname, "srcname")
        bdst = cstr(dstname, "dstname")
        self._call(
            EngineImage.rename_snap,
            f"error renaming snapshot of {self._name} from {bsrc} to {bdst}",
            str_of(bsrc),
            str_of(bdst),
        )

    @requires_not_closed
    def remove_snap(self, name: Any) -> None:
        """Delete a snapshot of the image."""
        bname = cstr(name, "name")
        self._call(
            EngineImage.remove_snap,
            f"error removing snapshot {bname} from {self._name}",
            str_of(bname),
        )

    @requires_not_closed
    def remove_snap2(self, name: Any, flags: int) -> None:
        """Delete a snapshot of the image with RBD_SNAP_REMOVE_* flags."""
        self.require_not_closed()
        bname = cstr(name, "name")
        uflags = c_u32(flags)
        self._call(
            EngineImage.remove_snap,
            lambda: f"error removing snapshot {bname} from {self._name} with flags {flags:x}",
            str_of(bname),
            uflags,
        )

    @requires_not_closed
    def remove_snap_by_id(self, snap_id: int) -> None:
        """Delete a snapshot of the image by its id."""
        sid = c_u64(snap_id)
        self._call(
            EngineImage.remove_snap_by_id,
            f"error removing snapshot {snap_id} from {self._name}",
            sid,
        )

    @requires_not_closed
    def rollback_to_snap(self, name: Any) -> None:
        """Revert the image to its contents at a snapshot."""
        bname = cstr(name, "name")
        self._call(
            EngineImage.rollback_to_snap,
            f"error rolling back image {self._name} to snapshot {bname}",
            str_of(bname),
        )

    @requires_not_closed
    def protect_snap(self, name: Any) -> None:
        """Mark a snapshot as protected (it cannot be deleted until unprotected)."""
        bname = cstr(name, "name")
        self._call(
            EngineImage.protect_snap,
            f"error protecting snapshot {self._name}@{bname}",
            str_of(bname),
        )

    @requires_not_closed
    def unprotect_snap(self, name: Any) -> None:
        """Mark a snapshot unprotected."""
        bname = cstr(name, "name")
        self._call(
            EngineImage.unprotect_snap,
            f"error unprotecting snapshot {self._name}@{bname}",
            str_of(bname),
        )

    @requires_not_closed
    def is_protected_snap(self, name: Any) -> bool:
        """Find out whether a snapshot is protected from deletion."""
        bname = cstr(name, "name")
        return bool(
            self._call(
                EngineImage.is_protected_snap,
                f"error checking if snapshot {self._name}@{bname} is protected",
                str_of(bname),
            )
        )

    @requires_not_closed
    def snap_exists(self, name: Any) -> bool:
        """Find out whether a snapshot exists."""
        bname = cstr(name, "name")
        return bool(
            self._call(
                EngineImage.snap_exists,
                f"error getting snapshot exists for {self._name}",
                str_of(bname),
            )
        )

    @requires_not_closed
    def get_snap_limit(self) -> int:
        """Get the snapshot limit for an image."""
        return int(
            self._call(EngineImage.get_snap_limit, f"error getting snapshot limit for {self._name}")
        )

    @requires_not_closed
    def set_snap_limit(self, limit: int) -> int:
        """Set the snapshot limit for an image."""
        lim = c_u64(limit)
        self._call(
            EngineImage.set_snap_limit, f"error setting snapshot limit for {self._name}", lim
        )
        return 0

    @requires_not_closed
    def get_snap_timestamp(self, snap_id: int) -> datetime:
        """Get the snapshot timestamp for an image."""
        sid = c_u64(snap_id)
        ts = self._call(
            EngineImage.get_snap_timestamp,
            lambda: (
                f"error getting snapshot timestamp for image: {self._name}, snap_id: {_d(snap_id)}"
            ),
            sid,
        )
        return utc(ts)

    @requires_not_closed
    def remove_snap_limit(self) -> int:
        """Remove the snapshot limit for an image."""
        self._call(EngineImage.remove_snap_limit, f"error removing snapshot limit for {self._name}")
        return 0

    @requires_not_closed
    def set_snap(self, name: Any) -> None:
        """Set the snapshot to read from (None: the head, writable again)."""
        bname = cstr(name, "name", opt=True)
        self._call(
            EngineImage.set_snap,
            f"error setting image {self._name} to snapshot {bname}",
            str_of(bname),
        )

    @requires_not_closed
    def set_snap_by_id(self, snap_id: Any) -> None:
        """Set the snapshot to read from by id (None or 0: the head)."""
        if not snap_id:
            shown = LIBRADOS_SNAP_HEAD - 2**64  # the enum value upstream formats: -2
            sid = None
        else:
            shown = c_i64(snap_id)
            sid = shown & U64_MAX
        self._call(
            EngineImage.set_snap_by_id,
            f"error setting image {self._name} to snapshot {_d(shown)}",
            sid,
        )

    @requires_not_closed
    def snap_get_name(self, snap_id: int) -> str:
        """Get snapshot name by id."""
        sid = c_i64(snap_id) & U64_MAX
        return self._call(EngineImage.snap_get_name, "error snap_get_name.", sid)  # type: ignore[no-any-return]

    @requires_not_closed
    def snap_get_id(self, snap_name: Any) -> int:
        """Get snapshot id by name."""
        bname = cstr(snap_name, "snap_name")
        return int(self._call(EngineImage.snap_get_id, "error snap_get_id.", str_of(bname)))

    # -- I/O --------------------------------------------------------------------------
    @requires_not_closed
    def read(self, offset: int, length: int, fadvise_flags: int = 0) -> bytes:
        """Read data from the image (InvalidArgument past the end); returns bytes."""
        off = c_u64(offset)
        ln = c_size(length)
        fl = c_int(fadvise_flags)
        return self._call(  # type: ignore[no-any-return]
            EngineImage.read, f"error reading {self._name} {_d(offset)}~{_d(length)}", off, ln, fl
        )

    @requires_not_closed
    def diff_iterate(
        self,
        offset: int,
        length: int,
        from_snapshot: Any,
        iterate_cb: Callable[..., Any],
        include_parent: bool = True,
        whole_object: bool = False,
    ) -> None:
        """Call `iterate_cb(offset, length, exists)` for every changed extent since
        `from_snapshot` (None: all allocated extents); an exception from the callback
        aborts the diff and propagates."""
        bsnap = cstr(from_snapshot, "from_snapshot", opt=True)
        off = c_u64(offset)
        ln = c_u64(length)
        inc = c_u8(include_parent)
        whole = c_u8(whole_object)
        raised: list[BaseException] = []

        def cb(o: int, n: int, exists: bool) -> int:
            if raised:
                raise CephError(errno.ECANCELED, "diff callback failed")
            try:
                ret = iterate_cb(o, n, bool(exists))
            except BaseException as e:  # noqa: BLE001 - re-raised to the caller below
                raised.append(e)
                raise CephError(errno.ECANCELED, "diff callback failed") from None
            if ret is not None and ret < 0:
                raise CephError(-ret, "diff callback failed")
            return 0

        img = self._img
        try:
            eng.run(
                self._ioctx,
                img.diff_iterate(
                    off,
                    ln,
                    str_of(bsnap),
                    cb,
                    include_parent=bool(inc),
                    whole_object=bool(whole),
                ),
            )
        except CephError as e:
            if raised:
                raise raised[0] from None
            raise make_ex(e.errno, f"error generating diff from snapshot {bsnap}") from None

    @requires_not_closed
    def write(self, data: bytes, offset: int, fadvise_flags: int = 0) -> int:
        """Write data to the image (InvalidArgument past the end); returns its length."""
        if not isinstance(data, bytes):
            raise TypeError("data must be a byte string")
        off = c_u64(offset)
        fl = c_int(fadvise_flags)
        length = len(data)
        ret = int(self._call(EngineImage.write, f"error writing to {self._name}", data, off, fl))
        if ret == length:
            return ret
        if ret < length:
            raise IncompleteWriteError(f"Wrote only {ret} out of {length} bytes")
        raise LogicError(
            f"logic error: rbd_write({self._name}) returned {ret}, but {length} was "
            "the maximum number of bytes it could have written."
        )

    @requires_not_closed
    def discard(self, offset: int, length: int) -> None:
        """Trim the range from the image; it reads back as zeroes."""
        off = c_u64(offset)
        ln = c_u64(length)
        self._call(
            EngineImage.discard, f"error discarding region {_d(offset)}~{_d(length)}", off, ln
        )

    @requires_not_closed
    def write_zeroes(self, offset: int, length: int, zero_flags: int = 0) -> None:
        """Zero the range from the image."""
        off = c_u64(offset)
        ln = c_u64(length)
        fl = c_int(zero_flags)
        self._call(
            EngineImage.write_zeroes, f"error zeroing region {_d(offset)}~{_d(length)}", off, ln, fl
        )

    @requires_not_closed
    def flush(self) -> None:
        """Block until all writes are fully flushed if caching is enabled."""
        self._call(EngineImage.flush, "error flushing image")

    @requires_not_closed
    def invalidate_cache(self) -> None:
        """Drop any cached data for the image."""
        self._call(EngineImage.invalidate_cache, "error invalidating cache")

    @requires_not_closed
    def stripe_unit(self) -> int:
        """Return the stripe unit used for the image."""
        return int(
            self._call(EngineImage.stripe_unit, f"error getting stripe unit for image {self._name}")
        )

    @requires_not_closed
    def stripe_count(self) -> int:
        """Return the stripe count used for the image."""
        return int(
            self._call(
                EngineImage.stripe_count, f"error getting stripe count for image {self._name}"
            )
        )

    @requires_not_closed
    def create_timestamp(self) -> datetime:
        """Return the create timestamp for the image (naive UTC)."""
        ts = self._call(
            EngineImage.create_timestamp, f"error getting create timestamp for image: {self._name}"
        )
        return utc(ts)

    @requires_not_closed
    def access_timestamp(self) -> datetime:
        """Return the access timestamp for the image (naive local time, as upstream)."""
        ts = self._call(
            EngineImage.access_timestamp, f"error getting access timestamp for image: {self._name}"
        )
        return datetime.fromtimestamp(int(ts))

    @requires_not_closed
    def modify_timestamp(self) -> datetime:
        """Return the modify timestamp for the image (naive local time, as upstream)."""
        ts = self._call(
            EngineImage.modify_timestamp, f"error getting modify timestamp for image: {self._name}"
        )
        return datetime.fromtimestamp(int(ts))

    @requires_not_closed
    def flatten(self, on_progress: Callable[..., Any] | None = None) -> None:
        """Flatten clone image (copy all blocks from parent to child)"""
        self._call(
            EngineImage.flatten,
            f"error flattening {self._name}",
            progress=eng.progress_adapter(on_progress),
        )

    @requires_not_closed
    def sparsify(self, sparse_size: int) -> None:
        """Reclaim space for zeroed image extents"""
        sz = c_size(sparse_size)
        self._call(EngineImage.sparsify, f"error sparsifying {self._name}", sz)

    @requires_not_closed
    def rebuild_object_map(self) -> None:
        """Rebuild the object map for the image HEAD or currently set snapshot"""
        self._call(EngineImage.rebuild_object_map, f"error rebuilding object map {self._name}")

    @requires_not_closed
    def check_object_map(self, on_progress: Callable[..., Any] | None = None) -> None:
        """Verify the object map of the image HEAD or the current snapshot; a wrong map
        is flagged invalid. pyceph's addition: librbd's C++ `Image::check_object_map`,
        which upstream's Python binding lacks (the `rbd object-map check` command)."""
        self._call(
            EngineImage.check_object_map,
            f"error checking object map {self._name}",
            progress=eng.progress_adapter(on_progress),
        )

    @requires_not_closed
    def list_children(self) -> list[tuple[str, str]]:
        """Children of the current snapshot: [(pool name, image name)], trash excluded."""
        children = self._call(EngineImage.list_children2, "error listing children.")
        return [(c["pool"], c["image"]) for c in children if not c["trash"]]

    @requires_not_closed
    def list_children2(self) -> ChildIterator:
        """Iterate over the children of the image or its snapshot."""
        return ChildIterator(self)

    @requires_not_closed
    def list_descendants(self) -> ChildIterator:
        """Iterate over the descendants of the image."""
        return ChildIterator(self, True)

    # -- locks ------------------------------------------------------------------------
    @requires_not_closed
    def list_lockers(self) -> Any:
        """[] without lockers, else {'tag', 'exclusive', 'lockers': [(client, cookie,
        address)]}."""
        res = self._call(EngineImage.list_lockers, "error listing images")
        if not res:
            return []
        return {
            "tag": res["tag"],
            "exclusive": bool(res["exclusive"]),
            "lockers": [tuple(x) for x in res["lockers"]],
        }

    @requires_not_closed
    def lock_acquire(self, lock_mode: int) -> None:
        """Acquire a managed lock on the image (ImageBusy if it cannot)."""
        mode = c_int(lock_mode)
        self._call(EngineImage.lock_acquire, "error acquiring lock on image", mode)

    @requires_not_closed
    def lock_release(self) -> None:
        """Release a managed lock on the image that was previously acquired."""
        self._call(EngineImage.lock_release, "error releasing lock on image")

    @requires_not_closed
    def lock_get_owners(self) -> LockOwnerIterator:
        """Iterate over the lock owners of an image."""
        return LockOwnerIterator(self)

    @requires_not_closed
    def lock_break(self, lock_mode: int, lock_owner: Any) -> None:
        """Break the image lock held by another client."""
        bowner = cstr(lock_owner, "lock_owner")
        mode = c_int(lock_mode)
        self._call(EngineImage.lock_break, "error breaking lock on image", mode, str_of(bowner))

    @requires_not_closed
    def lock_exclusive(self, cookie: Any) -> None:
        """Take an exclusive advisory lock on the image."""
        bcookie = cstr(cookie, "cookie")
        self._call(
            EngineImage.lock_exclusive, "error acquiring exclusive lock on image", str_of(bcookie)
        )

    @requires_not_closed
    def lock_shared(self, cookie: Any, tag: Any) -> None:
        """Take a shared advisory lock on the image (the tag must match)."""
        bcookie = cstr(cookie, "cookie")
        btag = cstr(tag, "tag")
        self._call(
            EngineImage.lock_shared,
            "error acquiring shared lock on image",
            str_of(bcookie),
            str_of(btag),
        )

    @requires_not_closed
    def unlock(self, cookie: Any) -> None:
        """Release a lock on the image that was locked by this rados client."""
        bcookie = cstr(cookie, "cookie")
        self._call(EngineImage.unlock, "error unlocking image", str_of(bcookie))

    @requires_not_closed
    def break_lock(self, client: Any, cookie: Any) -> None:
        """Release a lock held by another rados client."""
        bclient = cstr(client, "client")
        bcookie = cstr(cookie, "cookie")
        self._call(
            EngineImage.break_lock, "error unlocking image", str_of(bclient), str_of(bcookie)
        )

    # -- mirroring and encryption: `_image_mirror.py` ------------------------------------
    mirror_image_enable = _mirror.mirror_image_enable
    mirror_image_disable = _mirror.mirror_image_disable
    mirror_image_promote = _mirror.mirror_image_promote
    mirror_image_demote = _mirror.mirror_image_demote
    mirror_image_resync = _mirror.mirror_image_resync
    mirror_image_create_snapshot = _mirror.mirror_image_create_snapshot
    aio_mirror_image_create_snapshot = _mirror.aio_mirror_image_create_snapshot
    mirror_image_get_info = _mirror.mirror_image_get_info
    aio_mirror_image_get_info = _mirror.aio_mirror_image_get_info
    mirror_image_get_mode = _mirror.mirror_image_get_mode
    aio_mirror_image_get_mode = _mirror.aio_mirror_image_get_mode
    mirror_image_get_status = _mirror.mirror_image_get_status
    mirror_image_get_instance_id = _mirror.mirror_image_get_instance_id
    encryption_format = _mirror.encryption_format
    encryption_load = _mirror.encryption_load

    # -- asynchronous I/O ---------------------------------------------------------------
    @requires_not_closed
    def aio_read(
        self,
        offset: int,
        length: int,
        oncomplete: Callable[..., Any],
        fadvise_flags: int = 0,
    ) -> Completion:
        """Asynchronously read: `oncomplete(completion, data_or_None)`."""
        off = c_u64(offset)
        ln = c_size(length)
        fl = c_int(fadvise_flags)

        def oncomplete_(comp: Completion) -> Any:
            ok = comp.get_return_value() >= 0
            return oncomplete(comp, comp._buf if ok else None)

        img = self._img

        async def op() -> tuple[int, bytes]:
            data = await img.read(off, ln, fl)
            return len(data), data

        return self._launch(self._get_completion(oncomplete_), op())

    @requires_not_closed
    def aio_write(
        self,
        data: bytes,
        offset: int,
        oncomplete: Callable[..., Any],
        fadvise_flags: int = 0,
    ) -> Completion:
        """Asynchronously write: `oncomplete(completion)`."""
        if not isinstance(data, bytes):
            raise TypeError(f"expected bytes, {type(data).__name__} found")
        off = c_u64(offset)
        fl = c_int(fadvise_flags)
        return self._aio(self._get_completion(oncomplete), EngineImage.write, data, off, fl)

    @requires_not_closed
    def aio_discard(self, offset: int, length: int, oncomplete: Callable[..., Any]) -> Completion:
        """Asynchronously trim a range: `oncomplete(completion)`."""
        off = c_u64(offset)
        ln = c_size(length)
        return self._aio(self._get_completion(oncomplete), EngineImage.discard, off, ln)

    @requires_not_closed
    def aio_write_zeroes(
        self,
        offset: int,
        length: int,
        oncomplete: Callable[..., Any],
        zero_flags: int = 0,
    ) -> Completion:
        """Asynchronously zero a range: `oncomplete(completion)`."""
        off = c_u64(offset)
        ln = c_size(length)
        fl = c_int(zero_flags)
        return self._aio(self._get_completion(oncomplete), EngineImage.write_zeroes, off, ln, fl)

    @requires_not_closed
    def aio_flush(self, oncomplete: Callable[..., Any]) -> Completion:
        """Asynchronously flush: `oncomplete(completion)`."""
        return self._aio(self._get_completion(oncomplete), EngineImage.flush)

    # -- metadata and config ------------------------------------------------------------
    @requires_not_closed
    def metadata_get(self, key: Any) -> str:
        """Get image metadata for the given key (KeyError when missing)."""
        bkey = cstr(key, "key")
        return self._meta(
            EngineImage.metadata_get, bkey, str_of(bkey), what="metadata", verb="getting"
        )

    def _meta(self, fn: Callable[..., Any], shown: Any, *args: Any, what: str, verb: str) -> Any:
        try:
            return eng.run(self._ioctx, fn(self._img, *args))
        except CephError as e:
            if e.errno == errno.ENOENT and verb != "setting":
                raise KeyError(f"no {what} {shown} for image {self._name}") from None
            raise make_ex(e.errno, f"error {verb} {what} {shown} for image {self._name}") from None

    @requires_not_closed
    def metadata_set(self, key: Any, value: Any) -> None:
        """Set image metadata for the given key."""
        bkey = cstr(key, "key")
        bval = cstr(value, "value")
        self._meta(
            EngineImage.metadata_set,
            bkey,
            str_of(bkey),
            str_of(bval),
            what="metadata",
            verb="setting",
        )

    @requires_not_closed
    def metadata_remove(self, key: Any) -> None:
        """Remove image metadata for the given key (KeyError when missing)."""
        bkey = cstr(key, "key")
        self._meta(
            EngineImage.metadata_remove, bkey, str_of(bkey), what="metadata", verb="removing"
        )

    @requires_not_closed
    def metadata_list(self) -> MetadataIterator:
        """List image metadata."""
        return MetadataIterator(self)

    @requires_not_closed
    def watchers_list(self) -> WatcherIterator:
        """List image watchers."""
        return WatcherIterator(self)

    @requires_not_closed
    def config_list(self) -> ConfigImageIterator:
        """List image-level config overrides."""
        return ConfigImageIterator(self)

    @requires_not_closed
    def config_set(self, key: str, value: Any) -> None:
        """Set an image-level configuration override."""
        conf_key = cstr("conf_" + key, "key")
        bval = cstr(value, "value")
        self._meta(
            EngineImage.metadata_set,
            key,
            str_of(conf_key),
            str_of(bval),
            what="config",
            verb="setting",
        )

    @requires_not_closed
    def config_get(self, key: str) -> str:
        """Get an image-level configuration override (KeyError when unset)."""
        conf_key = cstr("conf_" + key, "key")
        return self._meta(
            EngineImage.metadata_get, key, str_of(conf_key), what="config", verb="getting"
        )

    @requires_not_closed
    def config_remove(self, key: str) -> None:
        """Remove an image-level configuration override (KeyError when unset)."""
        conf_key = cstr("conf_" + key, "key")
        self._meta(
            EngineImage.metadata_remove, key, str_of(conf_key), what="config", verb="removing"
        )

    # -- snapshot namespaces --------------------------------------------------------------
    def _snap_ns_msg(self, what: str, snap_id: Any) -> Callable[[], str]:
        return lambda: (
            f"error getting snapshot {what} for image: {self._name}, snap_id: {_d(snap_id)}"
        )

    @requires_not_closed
    def snap_get_namespace_type(self, snap_id: int) -> int:
        """Get the snapshot namespace type (RBD_SNAP_NAMESPACE_TYPE_*)."""
        sid = c_u64(snap_id)
        return int(
            self._call(
                EngineImage.snap_get_namespace_type,
                self._snap_ns_msg("namespace type", snap_id),
                sid,
            )
        )

    @requires_not_closed
    def snap_get_group_namespace(self, snap_id: int) -> dict[str, Any]:
        """The group namespace of a snapshot: pool, name, snap_name."""
        sid = c_u64(snap_id)
        ns = self._call(
            EngineImage.snap_get_group_namespace, self._snap_ns_msg("group namespace", snap_id), sid
        )
        return {"pool": ns["pool"], "name": ns["name"], "snap_name": ns["snap_name"]}

    @requires_not_closed
    def snap_get_trash_namespace(self, snap_id: int) -> dict[str, Any]:
        """The trash namespace of a snapshot: original_name."""
        sid = c_u64(snap_id)
        ns = self._call(
            EngineImage.snap_get_trash_namespace,
            lambda: (
                f"error getting snapshot trash namespace image: {self._name}, snap_id: {_d(snap_id)}"
            ),
            sid,
        )
        return {"original_name": ns["original_name"]}

    @requires_not_closed
    def snap_get_mirror_namespace(self, snap_id: int) -> dict[str, Any]:
        """The mirror namespace of a snapshot."""
        sid = c_u64(snap_id)
        ns = self._call(
            EngineImage.snap_get_mirror_namespace,
            self._snap_ns_msg("mirror namespace", snap_id),
            sid,
        )
        return {
            "state": ns["state"],
            "mirror_peer_uuids": list(ns["mirror_peer_uuids"]),
            "complete": bool(ns["complete"]),
            "primary_mirror_uuid": ns["primary_mirror_uuid"],
            "primary_snap_id": ns["primary_snap_id"],
            "last_copied_object_number": ns["last_copied_object_number"],
        }


def _start(handle: Any, comp: Completion, coro: Any, msg: str) -> Completion:
    """Launch `coro` for `comp`; a handle already shut down is upstream's error."""
    try:
        return launch(comp, eng.loop_thread(handle), coro)
    except CephError as e:
        coro.close()
        raise make_ex(e.errno, msg) from None


def _d(value: Any) -> str:
    """A number as upstream's messages format it (`%d`: floats truncate)."""
    return "%d" % value  # noqa: UP031 - %d is the point


setattr(Image, "__get_completion", Image._get_completion)  # noqa: B010
