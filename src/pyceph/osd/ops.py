"""Client op vectors executed against the store (upstream PrimaryLogPG::do_osd_ops).

Pure given the store's reads: `execute` returns the outputs, the result code and one
`Transaction` with every mutation (object data, user xattrs prefixed with "_", the
internal object info attr). A failing op fails the vector and mutates nothing.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.osd.types import ZERO, Version, ver
from pyceph.store.errors import StoreError
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

#: The internal attr holding the object info; user xattrs are stored as "_" + name.
OI_ATTR = "oi"
USER_ATTR_PREFIX = "_"

WRITE_OPS = frozenset(
    {"create", "write", "write_full", "append", "truncate", "zero", "delete", "setxattr", "rmxattr"}
)
READ_OPS = frozenset({"read", "stat", "getxattr", "getxattrs"})
PG_OPS = frozenset({"pgls"})


@dataclass
class ObjectInfo:
    """Per-object metadata kept in OI_ATTR (upstream object_info_t, abridged)."""

    size: int = 0
    version: Version = ZERO
    user_version: int = 0
    mtime: float = 0.0

    def encode(self) -> bytes:
        return msgpack.packb([self.size, list(self.version), self.user_version, self.mtime])

    @classmethod
    def decode(cls, b: bytes) -> ObjectInfo:
        w = msgpack.unpackb(b)
        return cls(int(w[0]), ver(w[1]), int(w[2]), float(w[3]))


def load_oi(store: ObjectStore, cid: str, key: ObjectKey) -> ObjectInfo | None:
    """The object's info, or None when it does not exist."""
    try:
        return ObjectInfo.decode(store.getattr(cid, key, OI_ATTR))
    except StoreError as e:
        if e.errno in (errno.ENOENT, errno.ENODATA):
            return None
        raise


@dataclass
class Limits:
    """The op-level bounds (osd_max_object_size, osd_max_attr_name_len, ...)."""

    max_object_size: int = 128 << 20
    max_attr_name_len: int = 100
    max_attr_size: int = 1 << 20


@dataclass
class OpResult:
    """The outcome of one op vector."""

    r: int = 0
    outs: list[dict[str, Any]] = field(default_factory=list)
    outdata: list[bytes] = field(default_factory=list)
    txn: Transaction = field(default_factory=Transaction)
    existed: bool = False
    exists: bool = False
    modified: bool = False
    oi: ObjectInfo | None = None


def is_write(ops: list[Any]) -> bool:
    return any(op[0] in WRITE_OPS for op in ops)


class _Fail(Exception):
    def __init__(self, err: int) -> None:
        self.err = err


class _Exec:
    def __init__(
        self,
        store: ObjectStore,
        cid: str,
        key: ObjectKey,
        data: bytes | memoryview,
        limits: Limits,
    ) -> None:
        self.store = store
        self.cid = cid
        self.key = key
        self.data = memoryview(data)
        self.pos = 0
        self.limits = limits
        self.res = OpResult()
        oi = load_oi(store, cid, key)
        self.res.existed = self.res.exists = oi is not None
        self.oi = oi or ObjectInfo()
        self.t = self.res.txn

    # helpers ---------------------------------------------------------------
    def take(self, args: dict[str, Any]) -> bytes:
        n = int(args.get("dlen", 0))
        if n < 0 or self.pos + n > len(self.data):
            raise _Fail(errno.EINVAL)
        b = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return b

    def need_exists(self) -> None:
        if not self.res.exists:
            raise _Fail(errno.ENOENT)

    def check_extent(self, off: int, length: int) -> None:
        mx = self.limits.max_object_size
        if off < 0 or length < 0:
            raise _Fail(errno.EINVAL)
        if off >= mx or length > mx or off + length > mx:
            raise _Fail(errno.EFBIG)

    def create(self) -> None:
        if not self.res.exists:
            self.t.touch(self.cid, self.key)
            self.res.exists = True
            self.oi = ObjectInfo()
        self.res.modified = True

    def out(self, d: dict[str, Any] | None = None, payload: bytes | None = None) -> None:
        o: dict[str, Any] = {"r": 0, **(d or {})}
        if payload is not None:
            o["dlen"] = len(payload)
            self.res.outdata.append(payload)
        self.res.outs.append(o)

    # ops ---------------------------------------------------------------------
    def op_create(self, a: dict[str, Any]) -> None:
        if self.res.exists and a.get("exclusive"):
            raise _Fail(errno.EEXIST)
        self.create()
        self.out()

    def _write(self, off: int, b: bytes) -> None:
        self.check_extent(off, len(b))
        self.create()
        if b:
            self.t.write(self.cid, self.key, off, b)
            self.oi.size = max(self.oi.size, off + len(b))
        elif off > self.oi.size:
            self.t.truncate(self.cid, self.key, off)
            self.oi.size = off

    def op_write(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        self._write(int(a.get("offset", 0)), b)
        self.out()

    def op_append(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        self._write(self.oi.size if self.res.exists else 0, b)
        self.out()

    def op_write_full(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        self.check_extent(0, len(b))
        if self.res.exists and self.oi.size:
            self.t.truncate(self.cid, self.key, 0)
        self.create()
        if b:
            self.t.write(self.cid, self.key, 0, b)
        self.oi.size = len(b)
        self.out()

    def op_truncate(self, a: dict[str, Any]) -> None:
        size = int(a.get("size", 0))
        if not self.res.exists:
            self.out()  # upstream: truncate of a missing object is a no-op
            return
        self.check_extent(size, 0)
        self.t.truncate(self.cid, self.key, size)
        self.oi.size = size
        self.res.modified = True
        self.out()

    def op_zero(self, a: dict[str, Any]) -> None:
        off, length = int(a.get("offset", 0)), int(a.get("length", 0))
        self.check_extent(off, length)
        if self.res.exists and length and off < self.oi.size:
            end = min(off + length, self.oi.size)
            self.t.zero(self.cid, self.key, off, end - off)
            self.res.modified = True
        self.out()

    def op_delete(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.t.remove(self.cid, self.key)
        self.res.exists = False
        self.res.modified = True
        self.oi = ObjectInfo()
        self.out()

    def op_setxattr(self, a: dict[str, Any]) -> None:
        name = str(a.get("name", ""))
        b = self.take(a)
        if len(name) > self.limits.max_attr_name_len:
            raise _Fail(errno.ENAMETOOLONG)
        if self.limits.max_attr_size and len(b) > self.limits.max_attr_size:
            raise _Fail(errno.EFBIG)
        self.create()
        self.t.setattr(self.cid, self.key, USER_ATTR_PREFIX + name, b)
        self.out()

    def op_rmxattr(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.t.rmattr(self.cid, self.key, USER_ATTR_PREFIX + str(a.get("name", "")))
        self.res.modified = True
        self.out()

    def op_read(self, a: dict[str, Any]) -> None:
        self.need_exists()
        off, length = int(a.get("offset", 0)), int(a.get("length", 0))
        if off < 0 or length < 0:
            raise _Fail(errno.EINVAL)
        size = self.oi.size
        if off >= size or not self.res.existed:
            self.out(payload=b"")
            return
        end = size if length == 0 else min(size, off + length)
        self.out(payload=self.store.read(self.cid, self.key, off, end - off))

    def op_stat(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.out({"size": self.oi.size, "mtime": self.oi.mtime})

    def op_getxattr(self, a: dict[str, Any]) -> None:
        self.need_exists()
        try:
            v = self.store.getattr(self.cid, self.key, USER_ATTR_PREFIX + str(a.get("name", "")))
        except StoreError as e:
            raise _Fail(e.errno)
        self.out(payload=bytes(v))

    def op_getxattrs(self, a: dict[str, Any]) -> None:
        self.need_exists()
        attrs = {}
        if self.res.existed:
            for k, v in self.store.getattrs(self.cid, self.key).items():
                if k.startswith(USER_ATTR_PREFIX):
                    attrs[k[len(USER_ATTR_PREFIX) :]] = bytes(v)
        self.out({"attrs": attrs})


_HANDLERS: dict[str, Callable[[_Exec, dict[str, Any]], None]] = {
    name[3:]: fn for name, fn in vars(_Exec).items() if name.startswith("op_")
}


def execute(
    store: ObjectStore,
    cid: str,
    key: ObjectKey,
    ops: list[Any],
    data: bytes | memoryview,
    limits: Limits,
    version: Version = ZERO,
    user_version: int = 0,
    mtime: float = 0.0,
) -> OpResult:
    """Run an op vector; on success of a write, stamp the object info with `version`."""
    ex = _Exec(store, cid, key, data, limits)
    res = ex.res
    for op in ops:
        name, args = str(op[0]), dict(op[1] if len(op) > 1 and op[1] else {})
        fn = _HANDLERS.get(name)
        try:
            if fn is None:
                raise _Fail(errno.EOPNOTSUPP)
            fn(ex, args)
        except _Fail as f:
            res.r = -f.err
            res.outs.append({"r": -f.err})
            res.txn = Transaction()
            res.modified = False
            res.exists = res.existed
            res.oi = None
            return res
        except StoreError as e:
            res.r = -e.errno
            res.outs.append({"r": -e.errno})
            res.txn = Transaction()
            res.modified = False
            res.exists = res.existed
            return res
    if res.modified and res.exists:
        ex.oi.version = version
        ex.oi.user_version = user_version
        ex.oi.mtime = mtime
        res.txn.setattr(cid, key, OI_ATTR, ex.oi.encode())
    if res.exists:
        res.oi = ex.oi
    return res
