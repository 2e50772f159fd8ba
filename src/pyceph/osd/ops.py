"""Client op vectors executed against the store (upstream PrimaryLogPG::do_osd_ops).

Pure given the store's reads: `execute` returns the outputs, the result code and one
`Transaction` with every mutation (object data, user xattrs prefixed with "_", omap, the
internal object info attr). A failing op fails the vector and mutates nothing (unless the
op carries LIBRADOS_OP_FLAG_FAILOK: then its result is recorded and the vector goes on).

The ops work on one `ObjectOverlay` (pyceph.cls) over the committed object: every op sees
the object as left by the earlier ops of its vector, object-class methods (`call`) get the
same view as their `ObjectState`, and the overlay's mutations become the Transaction.

A watch is part of the object (upstream object_info_t::watchers): `watch` adds the
watcher's record (client global id, cookie, timeout, address) to the object info and
`unwatch` removes it — writes, replicated and logged like any other, so a new primary
still knows them. What a watch op does to the PG's in-memory registry of connections
(`pyceph.osd.watch`) is returned as `OpResult.effects` for the PG to apply once the op
is answered (upstream's ``do_osd_op_effects``):

* ``("watch", {op, cookie, timeout})``: connect/reconnect/ping a watcher; ``unwatch``;
* ``("notify", index, {timeout_ms}, payload)``: notify the object's watchers; the PG fills
  the op's output ``{acks: [[gid, cookie, data]], timeouts: [[gid, cookie]]}`` when done;
* ``("notify_ack", {notify_id, cookie}, payload)``: a watcher's answer;
* ``("disconnect",)``: the object was deleted: its watchers get -ENOTCONN.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph import cls
from pyceph.cls.context import CallEnv, ObjectOverlay, Origin, StoreReader, TransactionWriter
from pyceph.common import tmap
from pyceph.common.packing import SHAPE_ERRORS, CorruptRecord, unpack_record
from pyceph.msg.osd_ops import WRITE_OPS
from pyceph.osd.snaps import (
    SS_ATTR,
    SnapContext,
    SnapSet,
    load_snapset,
    modified_ranges,
    snap_key,
)
from pyceph.osd.types import ZERO, Version, ver
from pyceph.osd.watch import MAX_WATCHERS_PER_OBJECT
from pyceph.store.errors import StoreError
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import HEAD, SNAPDIR, ObjectKey

#: The internal attr holding the object info; user xattrs are stored as "_" + name.
OI_ATTR = "oi"
USER_ATTR_PREFIX = "_"
#: Most items in a container of a stored object info: its watcher list is the largest.
OI_MAX_ITEMS = MAX_WATCHERS_PER_OBJECT
#: Longest string in a stored object info (a watcher's address).
OI_MAX_STR = 256
#: Sub-ops of `watch` that change the object's watcher records (the others only read them).
WATCH_WRITE_OPS = frozenset({"watch", "reconnect", "unwatch"})
#: include/err.h MAX_ERRNO: cmpext reports a mismatch at byte i as -(MAX_ERRNO + i).
MAX_ERRNO = 4095

#: CEPH_OSD_OP_FLAG_EXCL / CEPH_OSD_OP_FLAG_FAILOK (per sub-op flags).
OP_FLAG_EXCL = 0x1
OP_FLAG_FAILOK = 0x2
#: CEPH_OSD_FLAG_RETURNVEC (op-level): a write returns each op's result and output.
FLAG_RETURNVEC = 0x4000000
#: CEPH_OSD_CMPXATTR_OP_* understood by omap_cmp.
CMP_EQ, CMP_GT, CMP_LT = 1, 3, 5

#: Ops a read vector may carry for a missing object without failing it with ENOENT.
_NO_OBJECT_OK = frozenset({"notify_ack", "list_snaps"})


#: One watcher record of an object: (client global id, cookie) -> (timeout seconds, address)
#: (upstream watch_info_t, keyed as object_info_t::watchers).
WatchRecords = dict[tuple[int, int], tuple[int, str]]


@dataclass
class ObjectInfo:
    """Per-object metadata kept in OI_ATTR (upstream object_info_t, abridged)."""

    size: int = 0
    version: Version = ZERO
    user_version: int = 0
    mtime: float = 0.0
    watchers: WatchRecords = field(default_factory=dict)

    def copy(self) -> ObjectInfo:
        return ObjectInfo(self.size, self.version, self.user_version, self.mtime,
                          dict(self.watchers))  # fmt: skip

    def encode(self) -> bytes:
        w: list[Any] = [self.size, list(self.version), self.user_version, self.mtime]
        if self.watchers:
            w.append([[g, c, t, a] for (g, c), (t, a) in sorted(self.watchers.items())])
        return msgpack.packb(w)

    @classmethod
    def decode(cls, b: bytes) -> ObjectInfo:
        """The stored attr; CorruptRecord if it is malformed (a damaged store)."""
        try:
            w = unpack_record(b, "object info", max_items=OI_MAX_ITEMS, max_str=OI_MAX_STR)
            watchers = {
                (int(g), int(c)): (int(t), str(a)) for g, c, t, a in (w[4] if len(w) > 4 else [])
            }
            return cls(int(w[0]), ver(w[1]), int(w[2]), float(w[3]), watchers)
        except SHAPE_ERRORS as e:
            if isinstance(e, CorruptRecord):
                raise
            raise CorruptRecord(f"corrupt object info: {e!r}") from None


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
    max_omap_entries: int = 1024  #: osd_max_omap_entries_per_request
    max_omap_bytes: int = 1 << 30  #: osd_max_omap_bytes_per_request


@dataclass
class OpEnv:
    """Who sent the op vector and what the PG around it knows (all optional)."""

    origin: Origin = field(default_factory=Origin)
    gid: int = 0  #: the client's global id (watchers and notifiers are keyed by it)
    now: float = 0.0
    flags: int = 0  #: op-level CEPH_OSD_FLAG_*
    supports_omap: bool = True  #: False on erasure-coded pools
    #: pg_pool_t::required_alignment() when requires_aligned_append() (an erasure-coded
    #: pool without allow_ec_overwrites): only stripe-aligned appends, no truncate/zero
    aligned_append: int = 0
    current_version: int = 0  #: the PG's last user version (cls_current_version)
    #: the primary's live watchers of the object: (gid, cookie) -> {"connected": bool, ...}
    #: (the records themselves are in the object info)
    watchers: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    watch_timeout: int = 30  #: osd_client_watch_timeout: a watch's timeout when it names none
    random_bytes: Callable[[int], bytes] | None = None
    snapid: int = HEAD  #: the snap a read is at (HEAD: the live object)
    snapc: SnapContext | None = None  #: the snap context a write runs under


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
    snapdir: bool = False  #: the head is gone but its clones remain (on a snapdir)
    #: the version in the head's object info before the op (None: no head), read once
    #: here so the PG's log entry need not read it again
    prior_version: Version | None = None
    effects: list[tuple[Any, ...]] = field(default_factory=list)


def op_is_write(name: str, args: dict[str, Any] | None) -> bool:
    """Whether one sub-op modifies the object (a `call` does iff its method has WR)."""
    if name in WRITE_OPS:
        return True
    if name == "watch":
        return str((args or {}).get("op", "watch")) in WATCH_WRITE_OPS
    if name == "call" and args:
        flags = cls.method_flags(str(args.get("cls", "")), str(args.get("method", "")))
        return bool(flags and flags & cls.WR)
    return False


def is_write(ops: list[Any]) -> bool:
    return any(op_is_write(str(op[0]), op[1] if len(op) > 1 else None) for op in ops)


class _Fail(Exception):
    def __init__(self, err: int, out: bytes | None = None) -> None:
        self.err = err
        self.out = out


class _Exec:
    def __init__(
        self,
        store: ObjectStore,
        cid: str,
        key: ObjectKey,
        data: bytes | memoryview,
        limits: Limits,
        env: OpEnv,
    ) -> None:
        self.store = store
        self.cid = cid
        self.key = key
        self.data = memoryview(data)
        self.pos = 0
        self.limits = limits
        self.env = env
        self.res = OpResult()
        oi = load_oi(store, cid, key)
        self.res.existed = oi is not None
        self.res.prior_version = oi.version if oi else None
        self.old_oi = oi
        self.oi = oi.copy() if oi else ObjectInfo()
        self.oi_dirty = False  #: the object info changed without a data change (watchers)
        base = StoreReader(
            store,
            cid,
            key,
            exists=oi is not None,
            size=oi.size if oi else 0,
            mtime=oi.mtime if oi else 0.0,
            attr_prefix=USER_ATTR_PREFIX,
            # the object info was just read from the object's record: it is in the store
            stored=True if oi is not None else None,
        )
        self.ov = ObjectOverlay(base)
        self.index = 0
        self.op_flags = 0
        self.mtime: float | None = None
        self._ss: tuple[SnapSet | None, bool] | None = None

    @property
    def snapset(self) -> tuple[SnapSet | None, bool]:
        """The committed SnapSet of the object and whether it is on the snapdir."""
        if self._ss is None:
            self._ss = load_snapset(self.store, self.cid, self.key, self.old_oi is not None)
        return self._ss

    # helpers ---------------------------------------------------------------
    def take(self, args: dict[str, Any]) -> bytes:
        n = int(args.get("dlen", 0))
        if n < 0 or self.pos + n > len(self.data):
            raise _Fail(errno.EINVAL)
        b = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return b

    @property
    def exists(self) -> bool:
        return self.ov.exists()

    @property
    def size(self) -> int:
        return self.ov.stat()[0] if self.ov.exists() else 0

    def need_exists(self) -> None:
        if not self.ov.exists():
            raise _Fail(errno.ENOENT)

    def need_omap(self) -> None:
        if not self.env.supports_omap:
            raise _Fail(errno.EOPNOTSUPP)

    def check_extent(self, off: int, length: int) -> None:
        mx = self.limits.max_object_size
        if off < 0 or length < 0:
            raise _Fail(errno.EINVAL)
        if off >= mx or length > mx or off + length > mx:
            raise _Fail(errno.EFBIG)

    def out(self, d: dict[str, Any] | None = None, payload: bytes | None = None) -> None:
        o: dict[str, Any] = {"r": 0, **(d or {})}
        if payload is not None:
            o["dlen"] = len(payload)
            self.res.outdata.append(payload)
        self.res.outs.append(o)

    def omap_has_data(self) -> bool:
        return bool(self.ov.omap_get_values(None, None, 1) or self.ov.omap_get_header())

    # data ops ----------------------------------------------------------------
    def op_create(self, a: dict[str, Any]) -> None:
        if self.exists and (a.get("exclusive") or self.op_flags & OP_FLAG_EXCL):
            raise _Fail(errno.EEXIST)
        self.ov.create()
        self.out()

    def _check_append_only(self, off: int) -> None:
        """PrimaryLogPG::do_osd_ops CEPH_OSD_OP_WRITE on a pool requiring aligned appends."""
        align = self.env.aligned_append
        if not align:
            return
        if off % align or (off if not self.exists else off != self.size):
            raise _Fail(errno.EOPNOTSUPP)

    def _write(self, off: int, b: bytes) -> None:
        self._check_append_only(off)
        self.check_extent(off, len(b))
        if b:
            self.ov.write(off, b)
            return
        self.ov.create()  # upstream: creates the object; a nop on it is still a write
        if off > self.size:
            self.ov.truncate(off)

    def op_write(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        self._write(int(a.get("offset", 0)), b)
        self.out()

    def op_append(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        self._write(self.size, b)
        self.out()

    def op_write_full(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        self.check_extent(0, len(b))
        self.ov.write_full(b)
        self.out()

    def op_writesame(self, a: dict[str, Any]) -> None:
        b = self.take(a)
        off, length = int(a.get("offset", 0)), int(a.get("length", 0))
        if length:
            if not b or length % len(b):
                raise _Fail(errno.EINVAL)
            self.check_extent(off, length)  # EFBIG before the pattern is expanded
            self._write(off, b * (length // len(b)))
        self.out()

    def op_truncate(self, a: dict[str, Any]) -> None:
        size = int(a.get("size", 0))
        if self.env.aligned_append:
            raise _Fail(errno.EOPNOTSUPP)
        if not self.exists:
            self.out()  # upstream: truncate of a missing object is a no-op
            return
        self.check_extent(size, 0)
        self.ov.truncate(size)
        self.out()

    def op_zero(self, a: dict[str, Any]) -> None:
        off, length = int(a.get("offset", 0)), int(a.get("length", 0))
        if self.env.aligned_append:
            raise _Fail(errno.EOPNOTSUPP)
        self.check_extent(off, length)
        size = self.size
        if self.exists and length and off < size:
            if off + length >= size:
                self.ov.truncate(off)  # upstream munges a zero up to the end into a truncate
            else:
                self.ov.zero(off, length)
        self.out()

    def op_delete(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.ov.remove()
        self.res.effects.append(("disconnect",))
        self.out()

    def op_read(self, a: dict[str, Any]) -> None:
        self.need_exists()
        off, length = int(a.get("offset", 0)), int(a.get("length", 0))
        if off < 0 or length < 0:
            raise _Fail(errno.EINVAL)
        size = self.size
        if off >= size:
            self.out(payload=b"")
            return
        end = size if length == 0 else min(size, off + length)
        self.out(payload=self.ov.read(off, end - off))

    def op_sparse_read(self, a: dict[str, Any]) -> None:
        """upstream do_sparse_read: the allocated extents of [offset, offset+length) clipped
        to the size (length 0 reads to the end), and their bytes concatenated."""
        self.need_exists()
        off, length = int(a.get("offset", 0)), int(a.get("length", 0))
        if off < 0 or length < 0:
            raise _Fail(errno.EINVAL)
        size = self.size
        end = size if length == 0 else min(size, off + length)
        if off >= end:
            self.out({"extents": []}, payload=b"")
            return
        data = self.ov.read(off, end - off)
        extents = _allocated_extents(data, off, SPARSE_READ_GRANULARITY)
        self.out(
            {"extents": [[o, n] for o, n in extents]},
            payload=b"".join(data[o - off : o - off + n] for o, n in extents),
        )

    def op_stat(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.out({"size": self.size, "mtime": self.oi.mtime})

    def op_cmpext(self, a: dict[str, Any]) -> None:
        cmp = self.take(a)
        off = int(a.get("offset", 0))
        if off < 0:
            raise _Fail(errno.EINVAL)
        size = self.size
        have = b""
        if self.exists and off < size:
            have = self.ov.read(off, min(len(cmp), size - off))
        for i, c in enumerate(cmp):
            if c != (have[i] if i < len(have) else 0):
                raise _Fail(MAX_ERRNO + i)
        self.out()

    def op_assert_version(self, a: dict[str, Any]) -> None:
        v = int(a.get("ver", 0))
        uv = self.old_oi.user_version if self.old_oi else 0
        if not v:
            raise _Fail(errno.EINVAL)
        if v < uv:
            raise _Fail(errno.ERANGE)
        if v > uv:
            raise _Fail(errno.EOVERFLOW)
        self.out()

    # snapshots -------------------------------------------------------------------
    def op_rollback(self, a: dict[str, Any]) -> None:
        """upstream _rollback_to: make the head what it was at `snapid`."""
        snapid = int(a.get("snapid", HEAD))
        ss = self.snapset[0] or SnapSet()
        target = ss.resolve(snapid, self.res.existed)
        if target is None:
            if self.exists:  # the object did not exist then
                self.ov.remove()
                self.res.effects.append(("disconnect",))
        elif target != HEAD:
            src = StoreReader(
                self.store, self.cid, snap_key(self.key, target), attr_prefix=USER_ATTR_PREFIX
            )
            coi = load_oi(self.store, self.cid, snap_key(self.key, target))
            if coi is None:
                raise _Fail(errno.ENOENT)
            if self.exists:
                self.ov.remove()
            self.ov.create()
            if coi.size:
                self.ov.write_full(src.read(0, coi.size))
            for k, v in src.getxattrs().items():
                self.ov.setxattr(k, v)
            hdr = src.omap_get_header()
            if hdr:
                self.ov.omap_set_header(hdr)
            vals = src.omap_get_values(None, None, None)
            if vals:
                self.ov.omap_set(dict(vals))
            self.mtime = coi.mtime
        self.out()

    def op_list_snaps(self, a: dict[str, Any]) -> None:
        """The object's clones (upstream CEPH_OSD_OP_LIST_SNAPS): cloneid, snaps, size,
        overlap ([[offset, length]] of the clone identical to the next newer state); the
        head last with cloneid HEAD."""
        if self.snapset[0] is None and not self.res.existed:
            raise _Fail(errno.ENOENT)
        ss = self.snapset[0] or SnapSet()
        clones: list[dict[str, Any]] = [
            {
                "cloneid": c,
                "snaps": sorted(ss.clone_snaps.get(c, [])),
                "size": ss.clone_size.get(c, 0),
                "overlap": [[o, n] for o, n in ss.clone_overlap.get(c, [])],
            }
            for c in ss.clones
        ]
        if self.res.existed:
            clones.append({"cloneid": HEAD, "snaps": [], "size": self.size, "overlap": []})
        self.out({"seq": ss.seq, "clones": clones})

    # xattrs ----------------------------------------------------------------------
    def op_setxattr(self, a: dict[str, Any]) -> None:
        name = str(a.get("name", ""))
        b = self.take(a)
        if self.limits.max_attr_size and len(b) > self.limits.max_attr_size:
            raise _Fail(errno.EFBIG)
        if len(name) > self.limits.max_attr_name_len:
            raise _Fail(errno.ENAMETOOLONG)
        self.ov.setxattr(name, b)
        self.out()

    def op_rmxattr(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.ov.rmxattr(str(a.get("name", "")))
        self.out()

    def op_getxattr(self, a: dict[str, Any]) -> None:
        self.need_exists()
        v = self.ov.getxattr(str(a.get("name", "")))
        if v is None:
            raise _Fail(errno.ENODATA)
        self.out(payload=bytes(v))

    def op_getxattrs(self, a: dict[str, Any]) -> None:
        self.need_exists()
        self.out({"attrs": {k: bytes(v) for k, v in self.ov.getxattrs().items()}})

    # omap ----------------------------------------------------------------------------
    def _omap_page(self, start_after: str, prefix: str, max_return: int) -> tuple[list, bool]:
        n = min(max(max_return, 0), self.limits.max_omap_entries)
        if not self.exists:
            return [], False
        items = self.ov.omap_get_values(start_after or None, prefix or None, n + 1)
        more = len(items) > n
        items = items[:n]
        total = 0
        for i, (k, v) in enumerate(items):
            total += len(k) + len(v)
            if total > self.limits.max_omap_bytes and i:
                return items[:i], True
        return items, more

    def op_omap_get_vals(self, a: dict[str, Any]) -> None:
        items, more = self._omap_page(
            str(a.get("start_after") or ""),
            str(a.get("filter_prefix") or ""),
            int(a.get("max_return", 0)),
        )
        self.out({"vals": [[k, bytes(v)] for k, v in items], "more": more})

    def op_omap_get_keys(self, a: dict[str, Any]) -> None:
        items, more = self._omap_page(
            str(a.get("start_after") or ""), "", int(a.get("max_return", 0))
        )
        self.out({"keys": [k for k, _v in items], "more": more})

    def op_omap_get_vals_by_keys(self, a: dict[str, Any]) -> None:
        keys = [str(k) for k in a.get("keys") or []]
        got = self.ov.omap_get_values_by_keys(keys) if self.exists else {}
        self.out({"vals": [[k, bytes(v)] for k, v in sorted(got.items())]})

    def op_omap_get_header(self, a: dict[str, Any]) -> None:
        self.out(payload=bytes(self.ov.omap_get_header()) if self.exists else b"")

    def op_omap_cmp(self, a: dict[str, Any]) -> None:
        self.need_exists()
        key = str(a.get("key", ""))
        want = bytes(a.get("val") or b"")
        cmp_op = int(a.get("op", CMP_EQ))
        have = bytes(self.ov.omap_get_values_by_keys([key]).get(key, b""))
        if cmp_op == CMP_EQ:
            ok = have == want
        elif cmp_op == CMP_LT:
            ok = have < want
        elif cmp_op == CMP_GT:
            ok = have > want
        else:
            raise _Fail(errno.EINVAL)
        if not ok:
            raise _Fail(errno.ECANCELED)
        self.out()

    def op_omap_set(self, a: dict[str, Any]) -> None:
        self.need_omap()
        kv = a.get("kv") or {}
        if not isinstance(kv, dict):
            raise _Fail(errno.EINVAL)
        self.ov.omap_set({str(k): bytes(v) for k, v in kv.items()})
        self.out()

    def op_omap_set_header(self, a: dict[str, Any]) -> None:
        self.need_omap()
        self.ov.omap_set_header(self.take(a))
        self.out()

    def op_omap_rm_keys(self, a: dict[str, Any]) -> None:
        self.need_omap()
        self.need_exists()
        self.ov.omap_rm([str(k) for k in a.get("keys") or []])
        self.out()

    def op_omap_clear(self, a: dict[str, Any]) -> None:
        self.need_omap()
        self.need_exists()
        if self.omap_has_data():
            self.ov.omap_clear()
        self.out()

    def op_omap_rm_range(self, a: dict[str, Any]) -> None:
        self.need_omap()
        self.need_exists()
        self.ov.omap_rm_range(str(a.get("key_begin", "")), str(a.get("key_end", "")))
        self.out()

    # object classes ----------------------------------------------------------------
    def op_call(self, a: dict[str, Any]) -> None:
        indata = self.take(a)
        cname, mname = str(a.get("cls", "")), str(a.get("method", ""))
        m = cls.lookup(cname, mname)
        if m is None:
            # upstream: a class outside osd_class_load_list is -EPERM, a method -EOPNOTSUPP
            raise _Fail(errno.EOPNOTSUPP if cname in cls.load_classes() else errno.EPERM)
        env = self.env
        call_env = CallEnv(
            origin=env.origin,
            now=env.now,
            current_version=env.current_version,
            subop_num=self.index,
            max_object_size=self.limits.max_object_size,
            max_attr_name_len=self.limits.max_attr_name_len,
            max_attr_size=self.limits.max_attr_size,
            max_omap_entries=self.limits.max_omap_entries,
            snapset_seq=self._snapset_seq,
            watchers=self._watchers,
            **({"random_bytes": env.random_bytes} if env.random_bytes is not None else {}),
        )
        before = len(self.ov.mutations)
        ret, out = cls.call(self.ov, call_env, cname, mname, indata)
        if ret < 0:
            raise _Fail(-ret, out)
        if m.flags & cls.WR and len(self.ov.mutations) > before:
            ret, out = cls.write_reply(ret, out, bool(env.flags & FLAG_RETURNVEC))
            if ret < 0:
                raise _Fail(-ret)
        self.out({"r": ret}, payload=out)

    def _watchers(self) -> list[tuple[str, str]]:
        """cls_cxx_list_watchers' answer: (client.<gid>, address) of each watcher record."""
        return [
            (f"client.{gid}", addr) for (gid, _c), (_t, addr) in sorted(self.oi.watchers.items())
        ]

    def _snapset_seq(self) -> int:
        """cls_get_snapset_seq's value: the committed SnapSet's seq (0 without one)."""
        ss = self.snapset[0]
        return ss.seq if ss is not None else 0

    # watch / notify ----------------------------------------------------------------
    def op_watch(self, a: dict[str, Any]) -> None:
        """Upstream do_osd_ops CEPH_OSD_OP_WATCH: the record is in the object info, the
        connection state in the primary's registry (`env.watchers`)."""
        self.need_exists()
        wop = str(a.get("op", "watch"))
        cookie = int(a.get("cookie", 0))
        key = (self.env.gid, cookie)
        rec = self.oi.watchers.get(key)
        if wop == "ping":
            if rec is None:
                raise _Fail(errno.ENOTCONN)
            if not self.env.watchers.get(key, {}).get("connected", False):
                raise _Fail(errno.ETIMEDOUT)  # the client must reconnect
        elif wop in ("watch", "reconnect"):
            if wop == "reconnect" and rec is None:
                # the watch expired (or was removed): the client must learn it may have
                # missed notifies, so it is not registered again (upstream -ENOTCONN)
                raise _Fail(errno.ENOTCONN)
            timeout = int(float(a.get("timeout") or 0)) or self.env.watch_timeout
            if rec is None:
                if len(self.oi.watchers) >= MAX_WATCHERS_PER_OBJECT:
                    raise _Fail(errno.ENOSPC)
                self.oi.watchers[key] = (timeout, self.env.origin.addr)
                self.oi_dirty = True
            a = {**a, "timeout": rec[0] if rec is not None else timeout}
        elif wop == "unwatch":
            if rec is not None:
                del self.oi.watchers[key]
                self.oi_dirty = True
        else:
            raise _Fail(errno.EINVAL)
        self.res.effects.append(("watch", {**a, "op": wop, "cookie": cookie}))
        self.out()

    def op_notify(self, a: dict[str, Any]) -> None:
        self.need_exists()
        payload = self.take(a)
        self.res.effects.append(("notify", self.index, dict(a), payload))
        self.out()

    def op_notify_ack(self, a: dict[str, Any]) -> None:
        payload = self.take(a)
        self.res.effects.append(("notify_ack", dict(a), payload))
        self.out()

    def op_list_watchers(self, a: dict[str, Any]) -> None:
        """Upstream CEPH_OSD_OP_LIST_WATCHERS: the object info's records."""
        self.need_exists()
        ws = [
            {"name": f"client.{gid}", "watcher_id": gid, "cookie": cookie, "addr": addr,
             "timeout_seconds": t}
            for (gid, cookie), (t, addr) in sorted(self.oi.watchers.items())
        ]  # fmt: skip
        self.out({"watchers": ws})

    # tmap (upstream do_tmapup / TMAPPUT / TMAPGET; codec in pyceph.common.tmap) --------
    def _tmap_data(self) -> bytes:
        return self.ov.read(0, self.size) if self.exists and self.size else b""

    def op_tmapget(self, a: dict[str, Any]) -> None:
        """The object's whole data (its tmap encoding)."""
        self.need_exists()
        self.out(payload=self._tmap_data())

    def op_tmapput(self, a: dict[str, Any]) -> None:
        """Replace the data with a tmap encoding (EINVAL when it does not decode)."""
        b = self.take(a)
        if not self.env.supports_omap:
            raise _Fail(errno.EOPNOTSUPP)
        try:
            new = tmap.validate_put(b)
        except tmap.TmapError as e:
            raise _Fail(e.errno) from None
        self.check_extent(0, len(new))
        self.ov.write_full(new)
        self.out()

    def op_tmapup(self, a: dict[str, Any]) -> None:
        """Apply tmap update commands to the data (an empty list is a no-op)."""
        b = self.take(a)
        if not self.env.supports_omap:
            raise _Fail(errno.EOPNOTSUPP)
        if not b:
            self.out()
            return
        try:
            new = tmap.apply_update(self._tmap_data(), b)
        except tmap.TmapError as e:
            raise _Fail(e.errno) from None
        self.check_extent(0, len(new))
        self.ov.write_full(new)
        self.out()


_HANDLERS: dict[str, Callable[[_Exec, dict[str, Any]], None]] = {
    name[3:]: fn for name, fn in vars(_Exec).items() if name.startswith("op_")
}


#: Granularity of the allocation map sparse_read reports: BlueStore's min_alloc_size in 16.2
#: (4 KiB), so a small write shows as the 4 KiB block(s) it touched, as on a Ceph cluster.
SPARSE_READ_GRANULARITY = 4096


def _allocated_extents(data: bytes, base: int, unit: int) -> list[tuple[int, int]]:
    """The allocated ranges of `data` (the object's bytes from `base`), as (offset, length)
    ascending: the store's data extents (holes read as zeros and are never stored, a zeroed
    extent is trimmed), found as the runs of `unit`-aligned blocks holding a non-zero byte,
    each clipped to the read."""
    out: list[tuple[int, int]] = []
    end = base + len(data)
    blk = base - base % unit
    mv = memoryview(data)
    zeros = bytes(unit)
    while blk < end:
        lo, hi = max(blk, base), min(blk + unit, end)
        if mv[lo - base : hi - base] != zeros[: hi - lo]:
            if out and out[-1][0] + out[-1][1] == lo:
                out[-1] = (out[-1][0], hi - out[-1][0])
            else:
                out.append((lo, hi - lo))
        blk += unit
    return out


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
    env: OpEnv | None = None,
) -> OpResult:
    """Run an op vector; on success of a write, stamp the object info with `version`."""
    env = env or OpEnv(now=mtime)
    parsed = [(str(op[0]), dict(op[1] if len(op) > 1 and op[1] else {})) for op in ops]
    if env.snapid != HEAD:
        # a read at a snapshot (upstream find_object_context): run on the covering clone
        if any(op_is_write(n, a) for n, a in parsed):
            return _failed(OpResult(), errno.EROFS, None)
        ss, _on_snapdir = load_snapset(store, cid, key)
        target = (ss or SnapSet()).resolve(env.snapid, load_oi(store, cid, key) is not None)
        if target is None:
            return _failed(OpResult(), errno.ENOENT, None)
        if target != HEAD:
            key = snap_key(key, target)
    ex = _Exec(store, cid, key, data, limits, env)
    res = ex.res
    if (
        not res.existed
        and parsed
        and not any(op_is_write(n, a) for n, a in parsed)
        and not all(n in _NO_OBJECT_OK for n, _a in parsed)
    ):
        # upstream find_object_context: a vector that cannot create the object needs it
        return _failed(res, errno.ENOENT, None)
    for i, (name, args) in enumerate(parsed):
        ex.index = i
        ex.op_flags = int(args.get("flags") or 0)
        if args.get("mtime"):
            ex.mtime = float(args["mtime"])
        fn = _HANDLERS.get(name)
        try:
            if fn is None:
                raise _Fail(errno.EOPNOTSUPP)
            fn(ex, args)
        except _Fail as f:
            if ex.op_flags & OP_FLAG_FAILOK:
                o: dict[str, Any] = {"r": -f.err}
                res.outs.append(o)
                continue
            return _failed(res, f.err, f.out)
        except StoreError as e:
            return _failed(res, e.errno, None)
    res.modified = ex.ov.dirty or ex.oi_dirty
    res.exists = ex.ov.exists()
    if res.modified:
        if not env.flags & FLAG_RETURNVEC:
            # a write's reply carries no per-op output (a resent write must look the same)
            res.outdata = []
            res.outs = [{"r": 0} for _o in res.outs]
        err = _check_store_limits(store, ex.ov)
        if err:
            return _failed(res, err, None)
        ss, on_snapdir = ex.snapset
        new_ss = ss.copy() if ss is not None else SnapSet()
        if res.existed:  # copy-on-write (upstream make_writeable)
            old_size = ex.old_oi.size if ex.old_oi else 0
            clone = new_ss.make_clone(env.snapc, old_size)
            new_ss.note_modified(modified_ranges(ex.ov.mutations, old_size))
            if clone is not None:
                ckey = snap_key(key, clone)
                res.txn.clone(cid, key, ckey)
                if ss is not None and not on_snapdir:
                    res.txn.rmattr(cid, ckey, SS_ATTR)
        elif env.snapc is not None:
            new_ss.seq = max(new_ss.seq, env.snapc[0])
        ex.ov.apply_to(_TxnWriter(res.txn, cid, key, USER_ATTR_PREFIX))
        # the snapdir's key only where one is written or removed (a new ObjectKey each
        # time: most writes have no snapdir)
        if res.exists:
            oi = ex.oi if ex.old_oi is not None and not _recreated(ex.ov) else ObjectInfo()
            oi.size = ex.size
            oi.version = version
            oi.user_version = user_version
            if ex.ov.dirty:  # a watcher record alone leaves the object's mtime
                oi.mtime = ex.mtime if ex.mtime is not None else mtime
            res.txn.setattr(cid, key, OI_ATTR, oi.encode())
            res.oi = oi
            if on_snapdir:
                res.txn.remove(cid, snap_key(key, SNAPDIR))
            if not new_ss.trivial:
                res.txn.setattr(cid, key, SS_ATTR, new_ss.encode())
        elif new_ss.clones:
            # the head is gone but clones remain: the SnapSet moves to the snapdir
            snapdir = snap_key(key, SNAPDIR)
            res.txn.touch(cid, snapdir)
            sd_oi = ObjectInfo(0, version, user_version, mtime)
            res.txn.setattr(cid, snapdir, OI_ATTR, sd_oi.encode())
            res.txn.setattr(cid, snapdir, SS_ATTR, new_ss.encode())
            res.snapdir = True
        elif on_snapdir:
            res.txn.remove(cid, snap_key(key, SNAPDIR))
    elif res.exists:
        res.oi = ex.old_oi
    return res


class _TxnWriter(TransactionWriter):
    """The store ignores attr/omap updates of a missing object: create it first."""

    def setxattr(self, name: str, value: bytes) -> None:
        self.t.touch(self.cid, self.key)
        super().setxattr(name, value)

    def omap_set(self, kv: Any) -> None:
        self.t.touch(self.cid, self.key)
        super().omap_set(kv)

    def omap_set_header(self, header: bytes) -> None:
        self.t.touch(self.cid, self.key)
        super().omap_set_header(header)


def _check_store_limits(store: ObjectStore, ov: ObjectOverlay) -> int:
    """The errno the store would fail the transaction with (0: none), checked up front so a
    bad request fails alone instead of failing the PG's commit."""
    lim = getattr(store, "limits", None)
    if lim is None:
        return 0
    for name, args in ov.mutations:
        if name == "setxattr":
            if len((USER_ATTR_PREFIX + args[0]).encode()) > lim.max_attr_name_len:
                return errno.ENAMETOOLONG
            if len(args[1]) > lim.max_attr_size:
                return errno.EFBIG
        elif name == "omap_set":
            kv = args[0]
            if len(kv) > lim.max_omap_entries_per_op:
                return errno.E2BIG
            for k, v in kv.items():
                if len(k.encode("utf-8", "surrogateescape")) > lim.max_omap_key_len:
                    return errno.ENAMETOOLONG
                if len(v) > lim.max_omap_value_size:
                    return errno.EFBIG
        elif name == "omap_set_header":
            if len(args[0]) > lim.max_omap_value_size:
                return errno.EFBIG
        elif name == "omap_rm" and len(args[0]) > lim.max_omap_entries_per_op:
            return errno.E2BIG
    return 0


def _recreated(ov: ObjectOverlay) -> bool:
    return any(name == "remove" for name, _a in ov.mutations)


def _failed(res: OpResult, err: int, out: bytes | None) -> OpResult:
    res.r = -err
    o: dict[str, Any] = {"r": -err}
    if out:
        o["dlen"] = len(out)
        res.outdata.append(out)
    res.outs.append(o)
    res.txn = Transaction()
    res.modified = False
    res.exists = res.existed
    res.oi = None
    res.effects = []
    return res
