"""Iterators over objects, extended attributes and snapshots, and `Snap`."""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rados._errors import make_ex
from rados._util import check_str

if TYPE_CHECKING:
    from rados._ioctx import Ioctx
    from rados._object import Object

#: Objects fetched from the event loop per round trip.
_LIST_BATCH = 512


async def _take(agen: AsyncIterator[Any], n: int) -> tuple[list[Any], bool]:
    items: list[Any] = []
    try:
        while len(items) < n:
            items.append(await agen.__anext__())
    except StopAsyncIteration:
        return items, True
    return items, False


class ObjectIterator:
    """rados.Ioctx Object iterator: yields `rados.Object` for each object listed."""

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        self._rados = ioctx.rados
        self._agen: Any = ioctx._list_objects()
        self._buf: list[Any] = []
        self._pos = 0
        self._done = False

    def __iter__(self) -> Iterator[Object]:
        return self

    def __next__(self) -> Object:
        """The next object; StopIteration at the end (or when listing fails)."""
        from rados._object import Object

        if self._pos >= len(self._buf):
            if self._done:
                raise StopIteration()
            try:
                self._buf, self._done = self._rados._run(
                    _take(self._agen, _LIST_BATCH), "error listing objects"
                )
            except Exception:
                self._done = True
                self._buf = []
                raise StopIteration() from None
            self._pos = 0
            if not self._buf:
                self._done = True
                raise StopIteration()
        nspace, name, key = self._buf[self._pos]
        self._pos += 1
        return Object(self.ioctx, name, key or None, nspace)

    def __del__(self) -> None:
        agen = getattr(self, "_agen", None)
        if agen is None or getattr(self, "_done", True):
            return
        try:
            lt = self._rados._lt
            if lt is not None and lt.running:
                lt.submit(agen.aclose())
        except Exception:  # noqa: BLE001 - best effort in a finalizer
            pass


class XattrIterator:
    """Extended attribute iterator: yields (name: str, value: bytes)."""

    def __init__(self, ioctx: Ioctx, oid: str) -> None:
        check_str(oid, "oid")
        self.ioctx = ioctx
        # Upstream stores cstr(oid): the UTF-8 bytes, not the str it was given.
        self.oid = oid.encode("utf-8")
        self._items = ioctx._getxattrs(oid)
        self._pos = 0

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        return self

    def __next__(self) -> tuple[str, bytes]:
        """The next (name, value) pair."""
        if self._pos >= len(self._items):
            raise StopIteration()
        item = self._items[self._pos]
        self._pos += 1
        return item


class Snap:
    """A pool snapshot: `name`, `snap_id`."""

    def __init__(self, ioctx: Ioctx, name: str, snap_id: int) -> None:
        self.ioctx = ioctx
        self.name = name
        self.snap_id = snap_id

    def __str__(self) -> str:
        return f"rados.Snap(ioctx={self.ioctx},name={self.name},snap_id={self.snap_id})"

    def get_timestamp(self) -> datetime:
        """When the snapshot was taken."""
        snaps = self.ioctx._snaps()
        if self.snap_id not in snaps:
            raise make_ex(-errno.ENOENT, "rados_ioctx_snap_get_stamp error")
        return datetime.fromtimestamp(int(snaps[self.snap_id][1]))


class SnapIterator:
    """Snapshot iterator: yields `Snap` in snapshot id order."""

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        self._snaps = sorted(ioctx._snaps().items())
        self._pos = 0

    def __iter__(self) -> Iterator[Snap]:
        return self

    def __next__(self) -> Snap:
        """The next snapshot."""
        if self._pos >= len(self._snaps):
            raise StopIteration
        sid, (name, _stamp) = self._snaps[self._pos]
        self._pos += 1
        return Snap(self.ioctx, name, sid)
