"""`IoCtx`: the async I/O context on one pool — what librados' IoCtxImpl is.

It holds the semantics every data-path user shares: the pool, namespace, locator key,
the snapshot to read from and the snapshot context writes carry, and the errno of a
failed op raised as `CephError`. The drop-in `rados.Ioctx` adapts it to upstream's
synchronous API; the rbd engine and the NBD server use it on the event loop directly.

Ops on one object apply in the order they were submitted, as librados orders them over
its OSD session, with many in flight at once: `submit`/`operate` hand the op to the
Objecter (which gives it its tid) before their coroutine first yields, so coroutines that
start in order — awaited one after another, or tasks created one after another — apply
in that order without waiting for each other's replies.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyceph.client.objecter import FLAG_FULL_FORCE, FLAG_FULL_TRY, SNAP_HEAD, OpResult
from pyceph.client.op import ObjectOp
from pyceph.common.errors import CephError

if TYPE_CHECKING:
    from pyceph.client.rados_client import RadosClient

__all__ = ["FLAG_FULL_FORCE", "FLAG_FULL_TRY", "IoCtx", "SnapContext", "gather_ordered"]


@dataclass(frozen=True, slots=True)
class SnapContext:
    """The snapshot context a write carries: the newest snap id and every live snap, newest
    first (upstream SnapContext)."""

    seq: int = 0
    snaps: tuple[int, ...] = ()

    def is_valid(self) -> bool:
        """Upstream SnapContext::is_valid: snaps strictly descending, none above seq."""
        if self.snaps and self.snaps[0] > self.seq:
            return False
        return all(a > b for a, b in zip(self.snaps, self.snaps[1:], strict=False))


class IoCtx:
    """Object I/O on one pool; cheap to copy with another namespace or snapshot."""

    def __init__(
        self,
        client: RadosClient,
        pool_id: int,
        *,
        nspace: str = "",
        locator_key: str = "",
        snap_read: int = SNAP_HEAD,
        snapc: SnapContext | None = None,
        extra_flags: int = 0,
    ) -> None:
        self.client = client
        self.pool_id = pool_id
        self.nspace = nspace
        self.locator_key = locator_key
        self.snap_read = snap_read
        self.snapc = snapc
        self.extra_flags = extra_flags
        #: The object version the last successful op on this context saw.
        self.last_version = 0

    def copy(self, **changes: Any) -> IoCtx:
        """This context with some of nspace/locator_key/snap_read/snapc/extra_flags changed."""
        kw: dict[str, Any] = {
            "nspace": self.nspace,
            "locator_key": self.locator_key,
            "snap_read": self.snap_read,
            "snapc": self.snapc,
            "extra_flags": self.extra_flags,
        }
        kw.update(changes)
        return IoCtx(self.client, self.pool_id, **kw)

    @property
    def pool(self) -> Any:
        """The pool as the client's current OSDMap has it (ENOENT once deleted)."""
        pool = self.client.osdmap.get_pool(self.pool_id)
        if pool is None:
            raise CephError(errno.ENOENT, f"pool {self.pool_id} does not exist")
        return pool

    async def pool_stats(self) -> dict[str, int]:
        """The pool's usage statistics (upstream's 12 keys of rados_pool_stat_t)."""
        return dict(await self.client.pool_stats(self.pool_id))

    # -- the one way an op goes out ---------------------------------------------------
    async def submit(self, oid: str, op: ObjectOp, flags: int = 0) -> OpResult:
        """Run `op` on `oid`; the result whatever its r (callers that handle errors)."""
        snapc = self.snapc
        res = await self.client.op(
            self.pool_id,
            oid,
            op.ops,
            nspace=self.nspace,
            key=self.locator_key,
            snapid=self.snap_read,
            snapc=(snapc.seq, list(snapc.snaps)) if snapc is not None else None,
            flags=flags | self.extra_flags,
        )
        if res.r >= 0 and res.version:
            self.last_version = res.version
        return res

    async def operate(self, oid: str, op: ObjectOp, flags: int = 0) -> OpResult:
        """Run `op` on `oid`; raise CephError(errno) when it fails."""
        res = await self.submit(oid, op, flags)
        if res.r < 0:
            raise CephError(-res.r, f"{op.ops[0][0] if op.ops else 'op'} on {oid}")
        return res

    async def _one(self, oid: str, build: Callable[[ObjectOp], int], flags: int = 0) -> Any:
        op = ObjectOp()
        build(op)
        return (await self.operate(oid, op, flags)).outs[0]

    # -- data -------------------------------------------------------------------------
    async def read(self, oid: str, length: int, offset: int = 0) -> bytes:
        return (await self._one(oid, lambda o: o.read(offset, length))).data

    async def write(self, oid: str, data: bytes, offset: int = 0) -> None:
        await self._one(oid, lambda o: o.write(offset, data))

    async def write_full(self, oid: str, data: bytes) -> None:
        await self._one(oid, lambda o: o.write_full(data))

    async def append(self, oid: str, data: bytes) -> None:
        await self._one(oid, lambda o: o.append(data))

    async def truncate(self, oid: str, size: int) -> None:
        await self._one(oid, lambda o: o.truncate(size))

    async def zero(self, oid: str, offset: int, length: int) -> None:
        await self._one(oid, lambda o: o.zero(offset, length))

    async def create(self, oid: str, exclusive: bool = False) -> None:
        await self._one(oid, lambda o: o.create(exclusive))

    async def remove(self, oid: str) -> None:
        await self._one(oid, lambda o: o.remove())

    async def stat(self, oid: str) -> tuple[int, float]:
        """(size, mtime seconds)."""
        f = (await self._one(oid, lambda o: o.stat())).fields
        mtime = f.get("mtime", 0)
        if isinstance(mtime, list | tuple):
            mtime = mtime[0] + mtime[1] / 1e9 if len(mtime) > 1 else mtime[0]
        return int(f.get("size", 0)), float(mtime or 0)

    # -- attributes and omap ----------------------------------------------------------
    async def getxattr(self, oid: str, name: str) -> bytes:
        return (await self._one(oid, lambda o: o.getxattr(name))).data

    async def setxattr(self, oid: str, name: str, value: bytes) -> None:
        await self._one(oid, lambda o: o.setxattr(name, value))

    async def rmxattr(self, oid: str, name: str) -> None:
        await self._one(oid, lambda o: o.rmxattr(name))

    async def omap_get_vals(self, oid: str, start_after: str = "", filter_prefix: str = "",
                            max_return: int = 2**31 - 1) -> tuple[dict[str, bytes], bool]:  # fmt: skip
        """({key: value} in key order, more)."""
        f = (await self._one(oid, lambda o: o.omap_get_vals(start_after, filter_prefix,
                                                            max_return))).fields  # fmt: skip
        return {k: bytes(v) for k, v in f.get("vals", [])}, bool(f.get("more"))

    async def omap_get_vals_by_keys(self, oid: str, keys: list[str]) -> dict[str, bytes]:
        f = (await self._one(oid, lambda o: o.omap_get_vals_by_keys(keys))).fields
        vals = f.get("vals", {})
        pairs = vals.items() if isinstance(vals, dict) else vals
        return {k: bytes(v) for k, v in pairs}

    async def omap_set(self, oid: str, kv: dict[str, bytes]) -> None:
        await self._one(oid, lambda o: o.omap_set(kv))

    async def omap_rm_keys(self, oid: str, keys: list[str]) -> None:
        await self._one(oid, lambda o: o.omap_rm_keys(keys))

    # -- object classes ------------------------------------------------------------------
    async def execute(self, oid: str, cls: str, method: str, data: bytes = b"") -> bytes:
        """Run `cls.method` on the OSD; its output, or CephError with its errno."""
        return (await self._one(oid, lambda o: o.call(cls, method, data))).data

    # -- snapshots -------------------------------------------------------------------
    async def rollback(self, oid: str, snapid: int) -> None:
        await self._one(oid, lambda o: o.rollback(snapid))

    async def list_snaps(self, oid: str) -> dict[str, Any]:
        """{seq, clones: [{cloneid, snaps, size, overlap}]} with the head last."""
        return dict((await self.copy(snap_read=SNAP_HEAD)._one(oid, lambda o: o.list_snaps()))
                    .fields)  # fmt: skip

    async def pool_snap_create(self, name: str) -> None:
        """A pool snapshot (POOL_OP_CREATE_SNAP)."""
        await self.client.pool_snap_create(self.pool_id, name)

    async def pool_snap_remove(self, name: str) -> None:
        """Remove a pool snapshot (POOL_OP_DELETE_SNAP)."""
        await self.client.pool_snap_remove(self.pool_id, name)

    async def selfmanaged_snap_create(self) -> int:
        return await self.client.selfmanaged_snap_create(self.pool_id)

    async def selfmanaged_snap_remove(self, snapid: int) -> None:
        await self.client.selfmanaged_snap_remove(self.pool_id, snapid)

    # -- watch / notify -----------------------------------------------------------------
    async def watch(
        self,
        oid: str,
        on_notify: Callable[[int, int, int, bytes], Any],
        on_error: Callable[[int, int], Any] | None = None,
        timeout: float = 0,
    ) -> Any:
        """Register a watch; the handle's `cookie` is its id (see RadosClient.watch)."""
        return await self.client.watch(
            self.pool_id, oid, nspace=self.nspace, key=self.locator_key,
            on_notify=on_notify, on_error=on_error, timeout=timeout,
        )  # fmt: skip

    async def unwatch(self, handle: Any) -> None:
        await self.client.unwatch(handle)

    async def watch_check(self, handle: Any) -> int:
        """Milliseconds since the OSD last confirmed the watch, or -errno once it broke."""
        return int(await self.client.watch_check(handle))

    async def notify(self, oid: str, data: bytes = b"", timeout_ms: int = 5000) -> dict[str, Any]:
        """Notify every watcher; {acks: [[gid, cookie, data]], timeouts: [[gid, cookie]]}.

        Raises CephError(ETIMEDOUT) when a watcher did not answer in time."""
        return dict((await self._one(oid, lambda o: o.notify(data, timeout_ms))).fields)

    async def list_watchers(self, oid: str) -> list[dict[str, Any]]:
        return list((await self._one(oid, lambda o: o.list_watchers())).fields.get("watchers", []))

    # -- listing ------------------------------------------------------------------------
    async def list_objects(self, all_nspaces: bool = False) -> AsyncIterator[tuple[str, str, str]]:
        """(nspace, oid, locator key) of every object in the namespace (or every one)."""
        async for entry in self.client.list_objects(self.pool_id, None if all_nspaces
                                                    else self.nspace):  # fmt: skip
            yield entry


async def gather_ordered(*aws: Any) -> list[Any]:
    """Await every awaitable; the first failure is raised after all have finished."""
    results = await asyncio.gather(*aws, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return list(results)
