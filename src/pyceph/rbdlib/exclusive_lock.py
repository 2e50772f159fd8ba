"""The exclusive-lock feature (librbd ExclusiveLock / ManagedLock / ImageWatcher):
one client at a time writes an image, handing the lock over on request.

The lock is the `lock` class's exclusive lock `rbd_lock` on the header, tag "internal",
cookie "auto <watch id>". Before its first write (or header change) an open takes it;
when another client holds it, the open notifies REQUEST_LOCK on the header and the
owner — once its writes in flight are done — unlocks and notifies RELEASED_LOCK, and the
requester takes it. A holder whose watch is gone is dead: the requester breaks its lock
(blocklisting it first when `rbd_blocklist_on_break_lock`). A lock taken with
`lock_acquire` is kept: requests are answered EROFS, and the requester fails with it.
Notify payloads are upstream's (src/librbd/WatchNotifyTypes.{h,cc}).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import logging
import struct
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pyceph.cls import lock as cls_lock
from pyceph.common.denc import Encoder
from pyceph.common.errors import CephError
from pyceph.rbdlib import locks
from pyceph.rbdlib.layout import RBD_LOCK_NAME

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image

log = logging.getLogger("pyceph.rbdlib.exclusive_lock")

#: ManagedLock's tag and cookie prefix (WATCHER_LOCK_TAG, WATCHER_LOCK_COOKIE_PREFIX).
LOCK_TAG = "internal"
LOCK_COOKIE_PREFIX = "auto"
#: WatchNotifyTypes.h NotifyOp values.
NOTIFY_OP_ACQUIRED_LOCK = 0
NOTIFY_OP_RELEASED_LOCK = 1
NOTIFY_OP_REQUEST_LOCK = 2
#: Milliseconds a lock notify waits for acks.
LOCK_NOTIFY_TIMEOUT_MS = 5000
#: Seconds a requester waits for RELEASED_LOCK before asking again.
REQUEST_RETRY_SECONDS = 0.5
#: RBD_LOCK_MODE_EXCLUSIVE / RBD_LOCK_MODE_SHARED.
LOCK_MODE_EXCLUSIVE = 0
LOCK_MODE_SHARED = 1


def encode_notify(op: int, gid: int = 0, handle: int = 0, force: bool | None = None) -> bytes:
    """NotifyMessage: ENCODE_START(7, 1) {u32 op, payload}; lock payloads carry ClientId
    {gid u64, handle u64} and REQUEST_LOCK a `force` bool."""
    e = Encoder()
    with e.struct(7, 1):
        e.u32(op)
        if op in (NOTIFY_OP_ACQUIRED_LOCK, NOTIFY_OP_RELEASED_LOCK, NOTIFY_OP_REQUEST_LOCK):
            e.u64(gid)
            e.u64(handle)
        if force is not None:
            e.u8(1 if force else 0)
    return bytes(e)


def decode_notify_op(data: bytes) -> int | None:
    """The NotifyOp of a NotifyMessage (None when it is not one)."""
    if len(data) < 10:
        return None
    return int(struct.unpack_from("<I", data, 6)[0])


def encode_response(result: int) -> bytes:
    """ResponseMessage: ENCODE_START(1, 1) {i32 result}."""
    e = Encoder()
    with e.struct(1, 1):
        e.raw(struct.pack("<i", result))
    return bytes(e)


def decode_response(data: bytes) -> int:
    if len(data) >= 10:
        return int(struct.unpack_from("<i", data, 6)[0])
    return 0


#: Whether the running task is inside `held` already (a nested write).
_HOLDING: contextvars.ContextVar[bool] = contextvars.ContextVar("rbd_lock_held", default=False)


class ExclusiveLock:
    """The lock state of one open image."""

    def __init__(self, img: Image) -> None:
        self.img = img
        self.owner = False
        self.manual = False
        self._mutex = asyncio.Lock()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._released = asyncio.Event()
        self._release_task: asyncio.Task[None] | None = None
        #: Set while a release waits for the writes in flight (see `held`).
        self._releasing: asyncio.Event | None = None

    @property
    def cookie(self) -> str:
        watch = self.img._watch
        return f"{LOCK_COOKIE_PREFIX} {getattr(watch, 'cookie', 0)}"

    # -- notifications ----------------------------------------------------------------
    def on_notify(self, op: int) -> bytes | None:
        """Handle a lock notify; the ack payload for a REQUEST_LOCK."""
        if op in (NOTIFY_OP_RELEASED_LOCK, NOTIFY_OP_ACQUIRED_LOCK):
            self._released.set()
            return None
        if op == NOTIFY_OP_REQUEST_LOCK:
            if not self.owner:
                return None
            if self.manual:
                return encode_response(-errno.EROFS)
            if self._release_task is None or self._release_task.done():
                self._release_task = asyncio.get_running_loop().create_task(
                    self._release_on_request()
                )
            return encode_response(0)
        return None

    async def _release_on_request(self) -> None:
        try:
            await self.release()
        except CephError as e:
            log.warning("releasing the lock of %s on request: %s", self.img.header_oid, e)

    # -- acquire / release -----------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Run a write with the lock held; the lock is not released while it runs.
        While a release is under way new writes wait for it and then ask for the lock
        back (as librbd blocks requests), so a busy owner cannot starve a requester;
        a write inside another one (rollback's resize) goes straight on."""
        nested = _HOLDING.get()
        while not nested:
            if self._releasing is not None:
                await self._releasing.wait()
                continue
            await self.acquire()
            if self.owner and self._releasing is None:
                break
        self._in_flight += 1
        self._idle.clear()
        token = _HOLDING.set(True)
        try:
            yield
        finally:
            _HOLDING.reset(token)
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def acquire(self, manual: bool = False) -> None:
        """Take the lock, asking its holder for it (ETIMEDOUT when none answers within
        rbd_request_timed_out_seconds; EROFS when it keeps a manual lock)."""
        if self.owner and not manual:
            return  # also while a release waits for the writes in flight
        async with self._mutex:
            if self.owner:
                self.manual = self.manual or manual
                return
            deadline = asyncio.get_running_loop().time() + float(
                self.img.conf("rbd_request_timed_out_seconds") or 30
            )
            while True:
                if await self._try_lock():
                    await self._on_acquired()
                    self.owner, self.manual = True, manual
                    await self._notify(NOTIFY_OP_ACQUIRED_LOCK)
                    return
                if asyncio.get_running_loop().time() > deadline:
                    raise CephError(errno.ETIMEDOUT, "timed out waiting for the lock owner")
                await self._request()

    async def _on_acquired(self) -> None:
        """What another owner may have changed meanwhile is read again: the object map
        (opened on acquisition, as upstream's AcquireRequest) and the known objects."""
        from pyceph.rbdlib import object_map

        img = self.img
        img.known_objects = set()
        if object_map.enabled(img):
            img.object_map = await object_map.load(img)

    async def _try_lock(self) -> bool:
        args = {"name": RBD_LOCK_NAME, "type": cls_lock.LOCK_EXCLUSIVE, "cookie": self.cookie,
                "tag": LOCK_TAG, "description": ""}  # fmt: skip
        try:
            await locks._call(self.img, "lock", args)
        except CephError as e:
            if e.errno == errno.EEXIST:
                return True  # ours already (same cookie)
            if e.errno != errno.EBUSY:
                raise
            return False
        return True

    async def _request(self) -> None:
        """Ask the holder to release; break the lock of a dead holder."""
        info = await locks.get_info(self.img)
        if not info["lockers"]:
            return
        if info["tag"] != LOCK_TAG or not str(info["lockers"][0]["cookie"]).startswith(
            LOCK_COOKIE_PREFIX + " "
        ):
            # an advisory lock (lock_exclusive/lock_shared) holds rbd_lock: not ours to
            # ask for or break (ManagedLock: "locked by external mechanism")
            raise CephError(errno.EBUSY, "image is locked by an external mechanism")
        holder = info["lockers"][0]
        if not await self._alive(holder):
            if self.img.conf("rbd_blocklist_on_break_lock") and holder["addr"]:
                await locks.blocklist(self.img, str(holder["addr"]))
            args = {"name": RBD_LOCK_NAME, "locker": holder["locker"], "cookie": holder["cookie"]}
            try:
                await locks._call(self.img, "break_lock", args)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
            return
        self._released.clear()
        me = self.img.ioctx.client.instance_id
        handle = int(getattr(self.img._watch, "cookie", 0))
        try:
            reply = await self.img.ioctx.notify(
                self.img.header_oid,
                encode_notify(NOTIFY_OP_REQUEST_LOCK, me, handle, False),
                LOCK_NOTIFY_TIMEOUT_MS,
            )
        except CephError as e:
            if e.errno != errno.ETIMEDOUT:
                raise
            reply = {}
        for _gid, _cookie, data in reply.get("acks", []):
            if data and decode_response(bytes(data)) == -errno.EROFS:
                raise CephError(errno.EROFS, "the lock owner keeps the lock")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._released.wait(), REQUEST_RETRY_SECONDS)

    async def _alive(self, holder: dict[str, Any]) -> bool:
        """Whether the holder still watches the header with the watch its cookie names."""
        parts = str(holder["cookie"]).split()
        if len(parts) != 2 or parts[0] != LOCK_COOKIE_PREFIX:
            return True  # not a managed lock: not ours to judge
        name = str(holder["locker"])
        for w in await self.img.ioctx.list_watchers(self.img.header_oid):
            wname = str(w.get("name", w.get("watcher", "")))
            if wname == name and str(w.get("cookie")) == parts[1]:
                return True
        return False

    async def release(self) -> None:
        """Wait for the writes in flight, unlock and tell the others. The writes
        write-around acknowledged land first (librbd flushes before releasing), so the
        next owner reads them."""
        async with self._mutex:
            if not self.owner:
                return
            await self.img.write_around.drain()
            releasing = self._releasing = asyncio.Event()
            try:
                await self._idle.wait()
                self.owner = self.manual = False
                try:
                    await locks._call(self.img, "unlock", {"name": RBD_LOCK_NAME,
                                                            "cookie": self.cookie})  # fmt: skip
                except CephError as e:
                    if e.errno not in (errno.ENOENT, errno.ESHUTDOWN):
                        raise
            finally:
                self._releasing = None
                releasing.set()
            await self._notify(NOTIFY_OP_RELEASED_LOCK)

    async def _notify(self, op: int) -> None:
        me = self.img.ioctx.client.instance_id
        handle = int(getattr(self.img._watch, "cookie", 0))
        try:
            await self.img.ioctx.notify(self.img.header_oid, encode_notify(op, me, handle),
                                        LOCK_NOTIFY_TIMEOUT_MS)  # fmt: skip
        except CephError as e:
            if e.errno not in (errno.ETIMEDOUT, errno.ENOENT):
                raise

    async def shutdown(self) -> None:
        """At close: stop a pending release and release the lock."""
        task, self._release_task = self._release_task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        await self.release()


async def get_owners(img: Image) -> list[dict[str, Any]]:
    """lock_get_owners: [{mode, owner (the holder's address)}] of the managed lock."""
    info = await locks.get_info(img)
    if not info["lockers"] or info["tag"] != LOCK_TAG:
        return []
    return [{"mode": LOCK_MODE_EXCLUSIVE, "owner": str(lk["addr"])} for lk in info["lockers"]]


async def break_owner(img: Image, mode: int, owner: str) -> None:
    """lock_break: break the managed lock if `owner` (an address) holds it. As librbd's
    lock_break with managed_lock::GetLockerRequest: ENOENT when nobody holds it, EBUSY
    when another mechanism's lock (another tag) is there or another owner holds it."""
    if mode != LOCK_MODE_EXCLUSIVE:
        raise CephError(errno.EOPNOTSUPP, "only exclusive locks can be broken")
    info = await locks.get_info(img)
    if not info["lockers"]:
        raise CephError(errno.ENOENT, "no lock owner")
    if info["tag"] != LOCK_TAG:
        raise CephError(errno.EBUSY, "image locked by an external mechanism")
    holder = info["lockers"][0]
    if str(holder["addr"]) != owner:
        raise CephError(errno.EBUSY, f"the lock is not held by {owner}")
    if img.conf("rbd_blocklist_on_break_lock") and holder["addr"]:
        await locks.blocklist(img, str(holder["addr"]))
    args = {"name": RBD_LOCK_NAME, "locker": holder["locker"], "cookie": holder["cookie"]}
    await locks._call(img, "break_lock", args)
