"""`Image`: an open RBD image — librbd's ImageCtx with its ImageState and the public
image operations.

Opening looks the id up (`rbd_id.<name>`, or the name in `rbd_directory` for an open by
id), reads the header (`header.load_state`), selects a snapshot, and — unless read-only —
watches `rbd_header.<id>`. A header-update notify from another open marks the state
stale; the next operation refreshes it first, as librbd's ImageState::refresh_if_required.
Every operation that changes the header notifies the other opens in turn.

With the exclusive-lock feature every write and header change runs holding the lock
(`exclusive_lock`), and the object map is kept (`object_map`); a loaded LUKS context
(`encryption`) routes the data path through it. Data I/O is in `io`, snapshots in
`snapshots`, clones in `clone`, copies in `copy`, diffs in `diff`, advisory locks in
`locks`; the methods here are their entry points.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.common.errors import CephError
from pyceph.rbdlib import _conf, _util, cls_client, exclusive_lock, header, io, object_map, v1
from pyceph.rbdlib._util import (
    Progress,
    bounded,
    ioctx_for_pool,
    management_ops,
    pool_name,
    report,
)
from pyceph.rbdlib.features import (
    RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURES_ALL,
)
from pyceph.rbdlib.layout import (
    CEPH_NOSNAP,
    RBD_DIRECTORY,
    RBD_TRASH,
    Layout,
    data_object_name,
    header_name,
    id_obj_name,
    old_header_name,
)
from pyceph.rbdlib.write_around import OP_FLAG_FADVISE_FUA, WriteAround

log = logging.getLogger("pyceph.rbdlib.image")


async def open_image(
    ioctx: IoCtx,
    name: str | None = None,
    *,
    image_id: str | None = None,
    snapshot: str | None = None,
    snap_id: int | None = None,
    read_only: bool = False,
) -> Image:
    """Open an image by name or id, at the head or a snapshot (ENOENT when either is
    missing; EINVAL when neither name nor id is given). An empty name is looked up like
    any other (OpenRequest: its id object `rbd_id.`)."""
    if name is None and not image_id:
        raise CephError(errno.EINVAL, "an image name or id is required")
    if name is not None and not image_id:
        try:
            image_id = await cls_client.get_id(ioctx, id_obj_name(name))
        except CephError as e:
            # OpenRequest: no id object -> a format-1 image if `<name>.rbd` exists
            if e.errno != errno.ENOENT or not await v1.detect(ioctx, name):
                raise
            img = Image(ioctx, name, "", read_only=read_only, old_format=True)
            await img._open(snapshot, snap_id)
            return img
    elif image_id and not name:
        try:
            name = await cls_client.dir_get_name(ioctx, RBD_DIRECTORY, image_id)
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            name = await _trashed_name(ioctx, image_id)
    assert image_id is not None
    # only a user's read-only open skips the header watch (OpenRequest); a snapshot
    # open watches and may move to the head with set_snap(None)
    img = Image(ioctx, name or "", image_id, read_only=read_only)
    await img._open(snapshot, snap_id)
    return img


async def _trashed_name(ioctx: IoCtx, image_id: str) -> str:
    """OpenRequest::send_v2_get_name_from_trash: an image in the trash has no directory
    entry; its name is the trash entry's ("" when neither knows the id)."""
    try:
        return (await cls_client.trash_get(ioctx, RBD_TRASH, image_id)).name
    except CephError as e:
        if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
            raise
        return ""


class Image:
    """One open image. Attributes are the state of the last refresh (no I/O)."""

    def __init__(
        self, ioctx: IoCtx, name: str, image_id: str, *, read_only: bool, old_format: bool = False
    ) -> None:
        self.ioctx = ioctx.copy(snap_read=CEPH_NOSNAP, snapc=None)
        self.name = name
        self.id = image_id
        #: A format-1 image (`v1`): header `<name>.rbd`, no id, no features.
        self.is_old_format = old_format
        self.header_oid = old_header_name(name) if old_format else header_name(image_id)
        self.read_only = read_only
        self.snap_id = CEPH_NOSNAP
        self.snap_name: str | None = None
        #: False once the selected snapshot was removed (ImageCtx::snap_exists): I/O at
        #: it fails with ENOENT until another snapshot (or the head) is selected.
        self.selected_snap_exists = True
        self.closed = False
        self.state: header.ImageState
        self.data_ioctx: IoCtx = self.ioctx
        self._watch: Any = None
        self._stale = False
        self._rewatch_task: asyncio.Task[None] | None = None
        self._conf_overrides: dict[str, str] = {}
        self._refresh_lock = asyncio.Lock()
        #: Submission order of writes per object (see io.WriteOrder).
        self.write_order = io.WriteOrder()
        #: One future per write-type operation under way, resolved when it ends: `flush`
        #: waits for those issued before it (librbd's flush barrier in ImageDispatcher).
        self._writes_in_flight: set[asyncio.Future[None]] = set()
        #: Objects known to exist (no copy-up guard needed for a write to them).
        self.known_objects: set[int] = set()
        self._parents: dict[int, Image] = {}
        #: The head's object map while this open maintains it (see `object_map`).
        self.object_map: Any = None
        self.exclusive_lock = exclusive_lock.ExclusiveLock(self)
        #: A loaded LUKS context (see `encryption`): the image's I/O goes through it.
        self.encryption: Any = None
        self._crypt_lock = asyncio.Lock()
        #: librbd's default cache policy (set up at open; off until then)
        self.write_around = WriteAround(0, writethrough_until_flush=False)

    # -- lifetime -----------------------------------------------------------------
    async def _open(self, snapshot: str | None, snap_id: int | None) -> None:
        await self._load()
        if self.state.incompatible & ~RBD_FEATURES_ALL:
            raise CephError(errno.ENOSYS, "image uses unsupported features")
        if snapshot is not None:
            snap = self.state.snap_by_name(snapshot)
            self._select_snap(snap.id)
        elif snap_id is not None:
            self._select_snap(snap_id)
        if not self.read_only:
            self._watch = await self.ioctx.watch(self.header_oid, self._on_notify, self._on_error)
            if self.conf("rbd_cache") and self.conf("rbd_cache_policy") == "writearound":
                self.write_around = WriteAround(
                    int(self.conf("rbd_cache_max_dirty")),
                    writethrough_until_flush=bool(self.conf("rbd_cache_writethrough_until_flush")),
                )

    def _on_notify(self, notify_id: int, notifier: int, cookie: int, data: bytes) -> bytes:
        op = exclusive_lock.decode_notify_op(bytes(data))
        if op in (
            exclusive_lock.NOTIFY_OP_ACQUIRED_LOCK,
            exclusive_lock.NOTIFY_OP_RELEASED_LOCK,
            exclusive_lock.NOTIFY_OP_REQUEST_LOCK,
        ):
            return self.exclusive_lock.on_notify(op) or b""
        self._stale = True
        return b""

    def _on_error(self, cookie: int, err: int) -> None:
        """The watch broke (a lost session, the object gone): refresh before the next
        operation, consider the exclusive lock lost (its cookie names the old watch) and
        watch again, as librbd's ImageWatcher re-registers."""
        self._stale = True
        self.exclusive_lock.owner = False
        if not self.closed and (self._rewatch_task is None or self._rewatch_task.done()):
            self._rewatch_task = asyncio.get_running_loop().create_task(self._rewatch())

    async def _rewatch(self) -> None:
        old, self._watch = self._watch, None
        if old is not None:
            try:
                await self.ioctx.unwatch(old)
            except CephError as e:
                log.debug("unwatch of a broken watch on %s: %s", self.header_oid, e)
        try:
            self._watch = await self.ioctx.watch(self.header_oid, self._on_notify, self._on_error)
        except CephError as e:
            log.warning("cannot watch %s again: %s", self.header_oid, e)

    async def close(self) -> None:
        """Stop watching the header and close parents (idempotent)."""
        if self.closed:
            return
        await self.write_around.close()  # every acknowledged write lands before close
        self.closed = True
        if self._rewatch_task is not None:
            await asyncio.gather(self._rewatch_task, return_exceptions=True)
        for parent in self._parents.values():
            await parent.close()
        self._parents.clear()
        try:
            await self.exclusive_lock.shutdown()
        except CephError as e:
            log.debug("releasing the lock of %s at close: %s", self.header_oid, e)
        if self._watch is not None:
            watch, self._watch = self._watch, None
            try:
                await self.ioctx.unwatch(watch)
            except CephError as e:
                log.debug("unwatch of %s: %s", self.header_oid, e)

    async def _load(self) -> None:
        # a notify that comes while we read marks the state stale again
        self._stale = False
        try:
            await self._read_header()
        except BaseException:
            self._stale = True
            raise

    async def _read_header(self) -> None:
        if self.is_old_format:
            self.state = await v1.load_state(self.ioctx, self.header_oid)
        else:
            self.state = await header.load_state(self.ioctx, self.header_oid, self.read_only)
        st = self.state
        if st.features & RBD_FEATURE_DATA_POOL and st.data_pool_id >= 0:
            base = ioctx_for_pool(self.ioctx, st.data_pool_id)
        else:
            base = self.ioctx
        self.data_ioctx = base.copy(snapc=st.snapc, snap_read=CEPH_NOSNAP)
        self.selected_snap_exists = self.snap_id == CEPH_NOSNAP or self.snap_id in st.snaps
        self.known_objects = set()
        self.object_map = await object_map.load(self) if object_map.enabled(self) else None
        overrides = await _conf.pool_overrides(self.ioctx)
        overrides.update(_conf.overrides_of(await self.metadata_list()))
        self._conf_overrides = overrides

    async def refresh(self) -> None:
        """Re-read the header now."""
        self._check_open()
        await self._load()

    async def refresh_if_required(self) -> None:
        """Refresh when another open told us the header changed."""
        await self._ready()

    def _check_open(self) -> None:
        if self.closed:
            raise CephError(errno.EINVAL, "image is closed")

    async def _ready(self, settle: bool = True) -> None:
        """Before an operation: the image is open and its header fresh. `settle` (every
        operation but data I/O and the getters) also waits for the write-around writes
        in flight: snapshots, resizes and the rest see every acknowledged write."""
        self._check_open()
        if settle:
            await self.write_around.drain()
        if self._stale:
            async with self._refresh_lock:  # one refresh for every operation waiting
                if self._stale:
                    await self._load()

    def _select_snap(self, snap_id: int | None) -> None:
        if snap_id is None or snap_id == CEPH_NOSNAP:
            self.snap_id, self.snap_name, self.selected_snap_exists = CEPH_NOSNAP, None, True
            return
        snap = self.state.snaps.get(snap_id)
        if snap is None:
            raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
        self.snap_id, self.snap_name, self.selected_snap_exists = snap.id, snap.name, True

    async def notify_update(self) -> None:
        """Refresh ourselves and tell every other open that the header changed."""
        await header.notify_header_update(self.ioctx, self.header_oid)
        await self._load()

    @contextlib.asynccontextmanager
    async def write_access(self) -> AsyncIterator[None]:
        """Around every write and header change: with the exclusive-lock feature, hold
        the lock (taking it on first use) while the operation runs."""
        if self.state.features & RBD_FEATURE_EXCLUSIVE_LOCK and self._watch is not None:
            async with self.exclusive_lock.held():
                yield
        else:
            yield

    def conf(self, name: str) -> Any:
        """An option as this image sees it: image override, pool override, client value."""
        text = self._conf_overrides.get(name)
        if text is not None:
            try:
                return _conf.typed(name, text)
            except CephError:
                log.warning("ignoring bad override %s=%r of %s", name, text, self.header_oid)
        return self.ioctx.client.config.get(name)

    async def config_list(self) -> list[dict[str, Any]]:
        """Image-level config overrides: [{name, value, source}]."""
        self._check_open()
        from pyceph.rbdlib import config

        return await config.config_list_image(self)

    async def touch(self, modified: bool) -> None:
        """Record the access (after a read) or modify (after a write) time in the header
        at most once per rbd_atime_update_interval / rbd_mtime_update_interval seconds
        (0: never), as librbd does."""
        if self.read_only or self.snap_id != CEPH_NOSNAP:
            return
        now = _util.now(self.ioctx)
        st = self.state
        if modified:
            interval = int(self.conf("rbd_mtime_update_interval"))
            if interval and now - st.modify_timestamp >= interval:
                st.modify_timestamp = now
                await cls_client.set_modify_timestamp(self.ioctx, self.header_oid)
        elif (interval := int(self.conf("rbd_atime_update_interval"))) and (
            now - st.access_timestamp >= interval
        ):
            st.access_timestamp = now
            await cls_client.set_access_timestamp(self.ioctx, self.header_oid)

    @property
    def layout(self) -> Layout:
        return self.state.layout

    @property
    def object_prefix(self) -> str:
        return self.state.object_prefix

    def data_oid(self, objectno: int) -> str:
        return data_object_name(self.state.object_prefix, objectno, self.is_old_format)

    async def parent_image(self, snap_id: int) -> Image:
        """The parent image (read-only at the parent snapshot) of the head or a snapshot."""
        spec, _ = self.state.parent_at(snap_id)
        if spec is None:
            raise CephError(errno.ENOENT, "image has no parent")
        key = spec.snap_id
        img = self._parents.get(key)
        if img is None or img.id != spec.image_id:
            pctx = ioctx_for_pool(self.ioctx, spec.pool_id, spec.pool_namespace)
            img = await open_image(pctx, image_id=spec.image_id, snap_id=spec.snap_id,
                                   read_only=True)  # fmt: skip
            self._parents[key] = img
        return img

    # -- information ----------------------------------------------------------------
    def old_format(self) -> bool:
        return self.is_old_format

    async def size(self) -> int:
        await self._ready(settle=False)
        if self.encryption is not None:
            from pyceph.rbdlib import encryption

            return encryption.size(self)
        return self.state.size_at(self.snap_id)

    async def features(self) -> int:
        await self._ready(settle=False)
        return self.state.features

    async def op_features(self) -> int:
        await self._ready(settle=False)
        return self.state.op_features

    async def flags(self) -> int:
        await self._ready(settle=False)
        if self.snap_id == CEPH_NOSNAP:
            return self.state.flags
        snap = self.state.snaps.get(self.snap_id)
        if snap is None:
            raise CephError(errno.ENOENT, "the selected snapshot was removed")
        return snap.flags

    async def overlap(self) -> int:
        """The parent overlap of the head or the selected snapshot: 0 without a parent
        (ImageCtx::get_parent_overlap; ENOENT only for a snapshot that is gone)."""
        await self._ready(settle=False)
        if self.snap_id != CEPH_NOSNAP and self.snap_id not in self.state.snaps:
            raise CephError(errno.ENOENT, "snapshot not found")
        spec, overlap = self.state.parent_at(self.snap_id)
        return overlap if spec is not None else 0

    async def stripe_unit(self) -> int:
        await self._ready(settle=False)
        return self.layout.su

    async def stripe_count(self) -> int:
        await self._ready(settle=False)
        return self.layout.sc

    async def data_pool_id(self) -> int:
        await self._ready(settle=False)
        return self.data_ioctx.pool_id

    async def create_timestamp(self) -> float:
        await self._ready(settle=False)
        return self.state.create_timestamp

    async def access_timestamp(self) -> float:
        await self._ready(settle=False)
        return self.state.access_timestamp

    async def modify_timestamp(self) -> float:
        await self._ready(settle=False)
        return self.state.modify_timestamp

    def block_name_prefix(self) -> str:
        return self.state.object_prefix

    async def stat(self) -> dict[str, Any]:
        """librbd's image_info_t: size, obj_size, num_objs, order, block_name_prefix,
        parent_pool (-1) and parent_name ("") as upstream fills them (deprecated)."""
        size = await self.size()
        layout = self.layout
        return {
            "size": size,
            "obj_size": layout.object_size,
            "num_objs": layout.num_objects(size),
            "order": layout.order,
            "block_name_prefix": self.state.object_prefix,
            "parent_pool": -1,
            "parent_name": "",
        }

    # -- data I/O ---------------------------------------------------------------------
    async def read(self, offset: int, length: int, fadvise_flags: int = 0) -> bytes:
        await self._ready(settle=False)
        await self.write_around.wait_overlapping(offset, length)
        if self.encryption is not None:
            from pyceph.rbdlib import encryption

            return await encryption.read(self, offset, length)
        data = await io.read(self, offset, length, fadvise_flags)
        await self.touch(modified=False)
        return data

    async def _encrypted_write(self, fn: str, *args: Any) -> int:
        """A write through the loaded LUKS context: one at a time (partial sectors are
        read, merged and rewritten), under the exclusive lock."""
        from pyceph.rbdlib import encryption

        await self._ready(settle=False)
        if self.read_only or self.snap_id != CEPH_NOSNAP:
            raise CephError(errno.EROFS, "image is read-only")
        async with self._crypt_lock, self.write_access():
            ret = int(await getattr(encryption, fn)(self, *args))
            await self.touch(modified=True)
            return ret

    async def _write(self, data: bytes, offset: int, fadvise_flags: int = 0) -> int:
        if self.encryption is not None:
            return await self._encrypted_write("write", data, offset)
        with self.write_order.request(self, offset, len(data)):
            await self._ready(settle=False)
            async with self.write_access():
                ret = await io.write(self, data, offset, fadvise_flags)
                await self.touch(modified=True)
                return ret

    async def _discard(self, offset: int, length: int) -> int:
        if self.encryption is not None:
            return await self._encrypted_write("discard", offset, length)
        with self.write_order.request(self, offset, length):
            await self._ready(settle=False)
            async with self.write_access():
                ret = await io.discard(self, offset, length)
                await self.touch(modified=True)
                return ret

    async def _write_zeroes(self, offset: int, length: int, zero_flags: int = 0) -> int:
        if self.encryption is not None:
            return await self._encrypted_write("discard", offset, length)
        with self.write_order.request(self, offset, length):
            await self._ready(settle=False)
            async with self.write_access():
                ret = await io.discard(self, offset, length, zero=True)
                await self.touch(modified=True)
                return ret

    async def _writesame(
        self, offset: int, length: int, data: bytes, fadvise_flags: int = 0
    ) -> int:
        if self.encryption is not None:
            if not data or length % len(data):
                raise CephError(errno.EINVAL, "data length must divide the writesame length")
            return await self._encrypted_write("write", data * (length // len(data)), offset)
        with self.write_order.request(self, offset, length):
            await self._ready(settle=False)
            async with self.write_access():
                ret = await io.writesame(self, offset, length, data, fadvise_flags)
                await self.touch(modified=True)
                return ret

    async def _compare_and_write(
        self, cmp_data: bytes, data: bytes, offset: int, fadvise_flags: int = 0
    ) -> int:
        if self.encryption is not None:
            return await self._encrypted_compare_and_write(cmp_data, data, offset)
        with self.write_order.request(self, offset, len(data)):
            await self._ready(settle=False)
            async with self.write_access():
                ret = await io.compare_and_write(self, cmp_data, data, offset, fadvise_flags)
                await self.touch(modified=True)
                return ret

    async def _encrypted_compare_and_write(self, cmp_data: bytes, data: bytes, offset: int) -> int:
        from pyceph.rbdlib import encryption

        if len(cmp_data) != len(data):
            raise CephError(errno.EINVAL, "compare and write buffers differ in length")
        await self._ready(settle=False)
        async with self._crypt_lock, self.write_access():
            have = await encryption.read(self, offset, len(cmp_data))
            for i, (a, b) in enumerate(zip(cmp_data, have.ljust(len(cmp_data), b"\0"),
                                           strict=True)):  # fmt: skip
                if a != b:
                    raise io.CompareMismatch(offset + i)
            return int(await encryption.write(self, data, offset))

    async def encryption_format(self, format: int, passphrase: bytes | str,
                                cipher_alg: int | None = None) -> None:  # fmt: skip
        """Format the image with LUKS (AES-256 by default) and load it (see `encryption`)."""
        from pyceph.rbdlib import encryption

        self._check_open()
        if cipher_alg is None:
            cipher_alg = encryption.RBD_ENCRYPTION_ALGORITHM_AES256
        await encryption.encryption_format(self, format, passphrase, cipher_alg)

    async def encryption_load(self, format: int, passphrase: bytes | str) -> None:
        """Load the image's LUKS header with a passphrase (see `encryption`)."""
        from pyceph.rbdlib import encryption

        self._check_open()
        await encryption.encryption_load(self, format, passphrase)

    @contextlib.contextmanager
    def _write_in_flight(self) -> Any:
        """Register a write-type operation until it ends (see `flush`). Entered before
        the operation's first await, so it is registered in submission order."""
        done = self._begin_write()
        try:
            yield
        finally:
            self._end_write(done)

    def _begin_write(self) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writes_in_flight.add(done)
        return done

    def _end_write(self, done: asyncio.Future[None]) -> None:
        self._writes_in_flight.discard(done)
        if not done.done():
            done.set_result(None)

    async def write(self, data: bytes, offset: int, fadvise_flags: int = 0) -> int:
        payload = data if type(data) is bytes else bytes(data)  # acked before it is sent
        return await self._write_request(
            offset, len(payload), fadvise_flags, lambda: self._write(payload, offset, fadvise_flags)
        )

    async def discard(self, offset: int, length: int) -> int:
        return await self._write_request(offset, length, 0, lambda: self._discard(offset, length))

    async def write_zeroes(self, offset: int, length: int, zero_flags: int = 0) -> int:
        return await self._write_request(
            offset, length, 0, lambda: self._write_zeroes(offset, length, zero_flags)
        )

    async def writesame(self, offset: int, length: int, data: bytes, fadvise_flags: int = 0) -> int:
        if self.write_around.active and (not data or length % len(data)):
            raise CephError(errno.EINVAL, "data length must divide the writesame length")
        return await self._write_request(
            offset, length, fadvise_flags,
            lambda: self._writesame(offset, length, bytes(data), fadvise_flags),
        )  # fmt: skip

    async def compare_and_write(
        self, cmp_data: bytes, data: bytes, offset: int, fadvise_flags: int = 0
    ) -> int:
        with self._write_in_flight():
            await self.write_around.wait_overlapping(offset, len(cmp_data))
            return await self._compare_and_write(cmp_data, data, offset, fadvise_flags)

    async def _write_request(
        self,
        offset: int,
        length: int,
        fadvise_flags: int,
        through: Callable[[], Coroutine[Any, Any, int]],
    ) -> int:
        """One write-type request: through the OSDs (`through()`), or, with write-around
        on, acknowledged once admitted and sent in the background (see write_around).
        Registered for `flush` before its first await, in submission order."""
        around = self.write_around
        if not around.active or self.encryption is not None or fadvise_flags & OP_FLAG_FADVISE_FUA:
            with self._write_in_flight():
                await around.wait_overlapping(offset, length)  # a FUA write after them
                return await through()
        done = self._begin_write()
        try:
            await self._ready(settle=False)
            io.require_writable(self)
            length = io.clip_io(self, offset, length)
            if length == 0:
                self._end_write(done)
                return 0
            slot = await around.admit(offset, length)
        except BaseException:
            self._end_write(done)
            raise
        around.send(slot, self._then_end_write(done, through()))
        return length

    async def _then_end_write(self, done: asyncio.Future[None], op: Awaitable[int]) -> None:
        try:
            await op
        finally:
            self._end_write(done)

    async def flush(self) -> None:
        """Complete once every write-type operation issued before this call has ended
        (librbd: a flush is acknowledged after all prior writes), failing with the
        first error a write-around write met since the last flush. The user's first
        flush turns write-around on (rbd_cache_writethrough_until_flush)."""
        self._check_open()
        self.write_around.user_flushed()
        pending = list(self._writes_in_flight)
        if pending:
            await asyncio.wait(pending)
        r = self.write_around.take_error()
        if r < 0:
            raise CephError(-r, "a write sent before this flush failed")

    async def invalidate_cache(self) -> None:
        """There is no client cache to drop."""
        self._check_open()

    # -- resize ----------------------------------------------------------------------
    async def resize(self, size: int, allow_shrink: bool = True,
                     progress: Progress | None = None) -> None:  # fmt: skip
        """Grow or shrink the image (ResizeRequest): a shrink first removes the objects
        past the new end and truncates the boundary objects (TrimRequest), then records
        the size; EINVAL for a shrink when `allow_shrink` is false; EROFS at a snapshot."""
        await self._ready()
        if self.read_only or self.snap_id != CEPH_NOSNAP:
            raise CephError(errno.EROFS, "image is read-only")
        if size < 0:
            raise CephError(errno.EINVAL, "negative size")
        old = self.state.size
        if size < old and not allow_shrink:
            raise CephError(errno.EINVAL, "shrinking is not allowed")
        async with self.write_access():
            if size < old:
                await self._trim(size, old, progress)
            await object_map.resize(self, size)
            if self.is_old_format:
                await v1.set_size(self.ioctx, self.header_oid, size)
            else:
                await cls_client.set_size(self.ioctx, self.header_oid, size)
            if size >= old:
                report(progress, 1, 1)
            await self.notify_update()

    async def _trim(self, new_size: int, old_size: int, progress: Progress | None) -> None:
        layout = self.layout
        first = layout.num_objects(new_size)
        last = layout.num_objects(old_size)
        total = last - first
        done = 0

        async def remove(objectno: int) -> None:
            nonlocal done
            try:
                await self.data_ioctx.remove(self.data_oid(objectno))
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
            done += 1
            report(progress, done, total)

        await bounded(range(last - 1, first - 1, -1), remove, management_ops(self.ioctx))
        # the objects of the last object set that hold bytes on both sides of new_size
        boundary = min(old_size, -(-new_size // layout.period) * layout.period)
        if boundary > new_size:
            exts = layout.file_to_extents(new_size, boundary - new_size)

            async def cut(ext: Any) -> None:
                oid = self.data_oid(ext.objectno)
                if ext.offset == 0:
                    try:
                        await self.data_ioctx.remove(oid)
                    except CephError as e:
                        if e.errno != errno.ENOENT:
                            raise
                    await object_map.after_remove(self, ext.objectno)
                else:
                    try:
                        await self.data_ioctx.truncate(oid, ext.offset)
                    except CephError as e:
                        if e.errno != errno.ENOENT:
                            raise

            await bounded(exts, cut, management_ops(self.ioctx))
        if total == 0:
            report(progress, 1, 1)

    # -- metadata ---------------------------------------------------------------------
    async def metadata_get(self, key: str) -> str:
        self._check_open()
        return await cls_client.metadata_get(self.ioctx, self.header_oid, key)

    async def metadata_set(self, key: str, value: str) -> None:
        """Set a metadata key; a `conf_` key must name an rbd option and hold a value
        it accepts (api::Metadata::set: EINVAL otherwise, nothing set)."""
        from pyceph.rbdlib.config import validate_metadata

        self._check_open()
        if self.read_only:
            raise CephError(errno.EROFS, "image is read-only")
        validate_metadata(key, value, image=True)
        await cls_client.metadata_set(self.ioctx, self.header_oid, {key: value})
        await header.notify_header_update(self.ioctx, self.header_oid)

    async def metadata_remove(self, key: str) -> None:
        self._check_open()
        if self.read_only:
            raise CephError(errno.EROFS, "image is read-only")
        await cls_client.metadata_get(self.ioctx, self.header_oid, key)  # ENOENT if absent
        await cls_client.metadata_remove(self.ioctx, self.header_oid, key)
        await header.notify_header_update(self.ioctx, self.header_oid)

    async def metadata_list(self) -> list[tuple[str, str]]:
        self._check_open()
        out: list[tuple[str, str]] = []
        start = ""
        while True:
            page = await cls_client.metadata_list(self.ioctx, self.header_oid, start, 0)
            for k, v in page.items():
                out.append((k, v.decode("utf-8", "surrogateescape")))
            if len(page) < 64:
                return out
            start = out[-1][0]

    # -- watchers ---------------------------------------------------------------------
    async def watchers_list(self) -> list[dict[str, Any]]:
        """Watchers of the header: {addr, id (client global id), cookie}."""
        self._check_open()
        out = []
        for w in await self.ioctx.list_watchers(self.header_oid):
            name = str(w.get("name", w.get("watcher", "")))
            gid = int(name.split(".", 1)[1]) if "." in name else int(w.get("id", 0) or 0)
            out.append({"addr": str(w.get("addr", "")), "id": gid,
                        "cookie": int(w.get("cookie", 0))})  # fmt: skip
        return out

    # -- parent information ------------------------------------------------------------
    async def parent_spec(self) -> dict[str, Any]:
        """get_parent_image_spec: pool/namespace/image names and ids and the snapshot."""
        await self._ready()
        spec, _ = self.state.parent_at(self.snap_id)
        if spec is None:
            raise CephError(errno.ENOENT, "image has no parent")
        pctx = ioctx_for_pool(self.ioctx, spec.pool_id, spec.pool_namespace)
        try:
            pname = await cls_client.dir_get_name(pctx, RBD_DIRECTORY, spec.image_id)
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            pname = ""
        parent = await self.parent_image(self.snap_id)
        snap = parent.state.snaps.get(spec.snap_id)
        return {
            "pool_id": spec.pool_id,
            "pool_name": pool_name(self.ioctx, spec.pool_id),
            "pool_namespace": spec.pool_namespace,
            "image_name": pname or parent.name,
            "image_id": spec.image_id,
            "snap_name": snap.name if snap else "",
            "snap_id": spec.snap_id,
            "snap_namespace_type": getattr(snap.namespace, "type", 0) if snap else 0,
        }

    async def parent_info(self) -> tuple[str, str, str]:
        spec = await self.parent_spec()
        return spec["pool_name"], spec["image_name"], spec["snap_name"]

    async def parent_id(self) -> str:
        return str((await self.parent_spec())["image_id"])

    # -- snapshots, clones, copies, diffs, locks: see their modules ----------------------
    async def list_snaps(self) -> list[dict[str, Any]]:
        from pyceph.rbdlib import snapshots

        return await snapshots.list_snaps(self)

    async def create_snap(self, name: str, flags: int = 0) -> int:
        """Take snapshot `name`; its id."""
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            return await snapshots.create(self, name, flags)

    async def remove_snap(
        self, name: str, flags: int = 0, progress: Progress | None = None
    ) -> None:
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            await snapshots.remove(self, name, flags, progress)

    async def remove_snap_by_id(self, snap_id: int) -> None:
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            await snapshots.remove_by_id(self, snap_id)

    async def rename_snap(self, src: str, dst: str) -> None:
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            await snapshots.rename(self, src, dst)

    async def protect_snap(self, name: str) -> None:
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            await snapshots.protect(self, name)

    async def unprotect_snap(self, name: str) -> None:
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            await snapshots.unprotect(self, name)

    async def is_protected_snap(self, name: str) -> bool:
        await self._ready()
        from pyceph.cls.rbd_types import RBD_PROTECTION_STATUS_PROTECTED

        return self.state.snap_by_name(name).protection == RBD_PROTECTION_STATUS_PROTECTED

    async def snap_exists(self, name: str) -> bool:
        await self._ready()
        try:
            self.state.snap_by_name(name)
        except CephError:
            return False
        return True

    async def get_snap_limit(self) -> int:
        self._check_open()
        return await cls_client.snapshot_get_limit(self.ioctx, self.header_oid)

    async def set_snap_limit(self, limit: int) -> None:
        from pyceph.rbdlib import snapshots

        await snapshots.set_limit(self, limit)

    async def remove_snap_limit(self) -> None:
        from pyceph.rbdlib import snapshots

        await snapshots.set_limit(self, snapshots.SNAP_LIMIT_MAX)

    async def get_snap_timestamp(self, snap_id: int) -> float:
        await self._ready()
        snap = self.state.snaps.get(snap_id)
        if snap is None:
            raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
        return snap.timestamp

    async def set_snap(self, name: str | None) -> None:
        """Read from snapshot `name` (None: the head); ENOENT for an unknown name."""
        await self._ready()
        if name is None:
            self._select_snap(None)
        else:
            self._select_snap(self.state.snap_by_name(name).id)

    async def set_snap_by_id(self, snap_id: int | None) -> None:
        await self._ready()
        self._select_snap(snap_id)

    async def snap_get_name(self, snap_id: int) -> str:
        await self._ready()
        snap = self.state.snaps.get(snap_id)
        if snap is None:
            raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
        return snap.name

    async def snap_get_id(self, name: str) -> int:
        await self._ready()
        return self.state.snap_by_name(name).id

    async def snap_get_namespace_type(self, snap_id: int) -> int:
        await self._ready()
        snap = self.state.snaps.get(snap_id)
        if snap is None:
            raise CephError(errno.ENOENT, f"snapshot {snap_id} does not exist")
        return int(getattr(snap.namespace, "type", 0))

    async def snap_get_trash_namespace(self, snap_id: int) -> dict[str, Any]:
        await self._ready()
        snap = self.state.snaps.get(snap_id)
        if snap is None or getattr(snap.namespace, "type", 0) != 2:
            raise CephError(errno.EINVAL if snap else errno.ENOENT, "not a trash snapshot")
        return {"original_name": snap.namespace.original_name}

    async def rollback_to_snap(self, name: str, progress: Progress | None = None) -> None:
        from pyceph.rbdlib import snapshots

        await self._ready()
        async with self.write_access():
            await snapshots.rollback(self, name, progress)

    async def flatten(self, progress: Progress | None = None) -> None:
        from pyceph.rbdlib import clone

        await self._ready()
        async with self.write_access():
            await clone.flatten(self, progress)

    async def list_children(self) -> list[tuple[str, str]]:
        from pyceph.rbdlib import clone

        return [(c["pool"], c["image"]) for c in await clone.list_children(self)]

    async def list_children2(self) -> list[dict[str, Any]]:
        from pyceph.rbdlib import clone

        return await clone.list_children(self)

    async def list_descendants(self) -> list[dict[str, Any]]:
        from pyceph.rbdlib import clone

        return await clone.list_descendants(self)

    async def copy(self, dest_ioctx: IoCtx, dest_name: str, progress: Progress | None = None,
                   **opts: Any) -> None:  # fmt: skip
        from pyceph.rbdlib import copy

        await copy.copy(self, dest_ioctx, dest_name, progress=progress, **opts)

    async def deep_copy(self, dest_ioctx: IoCtx, dest_name: str,
                        progress: Progress | None = None, **opts: Any) -> None:  # fmt: skip
        from pyceph.rbdlib import copy

        await copy.deep_copy(self, dest_ioctx, dest_name, progress=progress, **opts)

    async def sparsify(self, sparse_size: int) -> None:
        from pyceph.rbdlib import copy

        await self._ready()
        async with self.write_access():
            await copy.sparsify(self, sparse_size)

    async def diff_iterate(self, offset: int, length: int, from_snapshot: str | None,
                           cb: Any, include_parent: bool = True,
                           whole_object: bool = False) -> None:  # fmt: skip
        from pyceph.rbdlib import diff

        await diff.diff_iterate(self, offset, length, from_snapshot, cb, include_parent,
                                whole_object)  # fmt: skip

    async def lock_exclusive(self, cookie: str) -> None:
        from pyceph.rbdlib import locks

        await locks.lock(self, True, cookie, "")

    async def lock_shared(self, cookie: str, tag: str) -> None:
        from pyceph.rbdlib import locks

        await locks.lock(self, False, cookie, tag)

    async def unlock(self, cookie: str) -> None:
        from pyceph.rbdlib import locks

        await locks.unlock(self, cookie)

    async def break_lock(self, client: str, cookie: str) -> None:
        from pyceph.rbdlib import locks

        await locks.break_lock(self, client, cookie)

    async def list_lockers(self) -> Any:
        from pyceph.rbdlib import locks

        return await locks.list_lockers(self)

    async def rebuild_object_map(self, progress: Progress | None = None) -> None:
        """Rebuild the object map of the head or the open snapshot."""
        await self._ready()
        if self.read_only and self.snap_id == CEPH_NOSNAP:
            raise CephError(errno.EROFS, "image is read-only")
        async with self.write_access():
            await object_map.rebuild(self, progress)
        await self.notify_update()

    async def check_object_map(
        self, progress: Progress | None = None
    ) -> list[tuple[int, int, int]]:
        """Verify the object map of the head or the open snapshot (flagged invalid if wrong)."""
        await self._ready()
        async with self.write_access():
            wrong = await object_map.check(self, progress)
        if wrong:
            await self.notify_update()
        return wrong

    # -- groups, mirroring, migration: the modules of the admin engineer ------------------
    async def group(self) -> dict[str, Any]:
        """{pool (id, -1 for none), name}: the group the image is in."""
        from pyceph.rbdlib import group

        await self._ready()
        return await group.image_get_group(self)

    async def snap_get_group_namespace(self, snap_id: int) -> dict[str, Any]:
        from pyceph.rbdlib import group

        await self._ready()
        return await group.snap_get_group_namespace(self, snap_id)

    async def snap_get_mirror_namespace(self, snap_id: int) -> dict[str, Any]:
        from pyceph.rbdlib import mirror

        await self._ready()
        return await mirror.snap_get_mirror_namespace(self, snap_id)

    async def migration_source_spec(self) -> dict[str, Any]:
        from pyceph.rbdlib import migration

        await self._ready()
        return await migration.migration_source_spec(self)

    async def _mirror(self, fn: str, *args: Any) -> Any:
        from pyceph.rbdlib import mirror

        await self._ready()
        return await getattr(mirror, fn)(self, *args)

    async def mirror_image_enable(self, mode: int | None = None) -> None:
        if mode is None:
            await self._mirror("mirror_image_enable")
        else:
            await self._mirror("mirror_image_enable", mode)

    async def mirror_image_disable(self, force: bool = False) -> None:
        await self._mirror("mirror_image_disable", force)

    async def mirror_image_promote(self, force: bool = False) -> None:
        await self._mirror("mirror_image_promote", force)

    async def mirror_image_demote(self) -> None:
        await self._mirror("mirror_image_demote")

    async def mirror_image_resync(self) -> None:
        await self._mirror("mirror_image_resync")

    async def mirror_image_create_snapshot(self, flags: int = 0) -> int:
        return int(await self._mirror("mirror_image_create_snapshot", flags))

    async def mirror_image_get_info(self) -> dict[str, Any]:
        return dict(await self._mirror("mirror_image_get_info"))

    async def mirror_image_get_mode(self) -> int:
        return int(await self._mirror("mirror_image_get_mode"))

    async def mirror_image_get_status(self) -> dict[str, Any]:
        return dict(await self._mirror("mirror_image_get_status"))

    async def mirror_image_get_instance_id(self) -> str:
        return str(await self._mirror("mirror_image_get_instance_id"))

    # -- the managed (exclusive) lock ------------------------------------------------------
    async def lock_acquire(self, lock_mode: int) -> None:
        """Take the exclusive lock and keep it (EINVAL without the feature, EOPNOTSUPP
        for a shared mode, EROFS read-only)."""
        await self._ready()
        if not self.state.features & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "exclusive-lock feature is not enabled")
        if lock_mode != exclusive_lock.LOCK_MODE_EXCLUSIVE:
            raise CephError(errno.EOPNOTSUPP, "only exclusive locks are supported")
        if self._watch is None:
            raise CephError(errno.EROFS, "image is read-only")
        await self.exclusive_lock.acquire(manual=True)

    async def lock_release(self) -> None:
        """Release the exclusive lock this open holds, taken with lock_acquire or by a
        write (librbd lock_release: EINVAL unless the lock owner)."""
        self._check_open()
        if not self.exclusive_lock.owner:
            raise CephError(errno.EINVAL, "not exclusive lock owner")
        await self.exclusive_lock.release()

    async def is_exclusive_lock_owner(self) -> bool:
        self._check_open()
        return self.exclusive_lock.owner

    async def lock_get_owners(self) -> list[dict[str, Any]]:
        """[{mode, owner}] of the exclusive lock (EINVAL without the feature)."""
        await self._ready()
        if not self.state.features & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "exclusive-lock feature is not enabled")
        return await exclusive_lock.get_owners(self)

    async def lock_break(self, lock_mode: int, lock_owner: str) -> None:
        await self._ready()
        if not self.state.features & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "exclusive-lock feature is not enabled")
        await exclusive_lock.break_owner(self, lock_mode, lock_owner)

    async def update_features(self, features: int, enabled: bool) -> None:
        from pyceph.rbdlib import featureops

        await self._ready()
        async with self.write_access():
            await featureops.update_features(self, features, enabled)
