"""What an object-class method sees (upstream objclass.h: ``cls_method_context_t`` + cls_cxx_*).

Three layers, so a method's effects commit atomically with the rest of its op:

* `ObjectState` (a protocol: `ObjectReader` + `ObjectWriter`) is what the OSD implements for
  the object an op vector targets. Reads return the object *as modified by earlier ops of the
  same vector*; writes become part of the op's one store `Transaction`. The writer gets only
  already-validated primitive mutations (see each method's note).
* `ObjectOverlay` is a ready `ObjectState` over any `ObjectReader`: it buffers mutations, answers
  reads through them, and replays them onto an `ObjectWriter` with `apply_to`. The OSD may use
  one over `StoreReader` (committed state) for a whole op vector and flush it into the
  Transaction with `TransactionWriter`.
* `MethodContext` (the hctx) wraps the OSD's `ObjectState` in a private overlay, gives methods
  upstream's API with upstream's errnos, counts reads/writes for the RD/WR flag check, and only
  replays the method's writes onto the OSD's state on success (`commit`), so a failed method
  leaves nothing behind.

Errors are raised as `ClsError` (positive errno, optional output bytes); the registry turns
them into upstream's negative return codes.
"""

from __future__ import annotations

import base64
import errno
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pyceph.common.errors import CephError
from pyceph.store.errors import StoreError
from pyceph.store.objectstore import ObjectStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

# Method flags (objclass.h CLS_METHOD_*).
RD = 0x1  #: the method may read prior object state
WR = 0x2  #: the method may write the object
PUBLIC = 0x4  #: unused upstream; accepted
PROMOTE = 0x8  #: cache tiering: must run on the base tier (kept for fidelity)


class ClsError(CephError):
    """A method (or a cls_cxx_* call) failed with a positive errno; `out` is returned anyway."""

    def __init__(self, err: int, message: str = "", out: bytes = b"") -> None:
        super().__init__(err, message)
        self.out = out


# -- what the OSD implements ---------------------------------------------------------------
@runtime_checkable
class ObjectReader(Protocol):
    """Read access to one object's current state (data, user xattrs, omap).

    All methods but `exists` are called only while `exists()` is True. User xattr names are
    the client-visible ones (the OSD's "_" store prefix is its own business).
    """

    def exists(self) -> bool: ...

    def stat(self) -> tuple[int, float]:
        """(size in bytes, mtime in seconds)."""
        ...

    def read(self, offset: int, length: int | None) -> bytes:
        """Bytes in [offset, offset+length) clipped to the size; None reads to the end."""
        ...

    def getxattr(self, name: str) -> bytes | None:
        """One user xattr, None when absent."""
        ...

    def getxattrs(self) -> dict[str, bytes]: ...

    def omap_get_header(self) -> bytes: ...

    def omap_get_values(
        self, start_after: str | None, prefix: str | None, max_return: int | None
    ) -> list[tuple[str, bytes]]:
        """Sorted (key, value) pairs with key > start_after and key.startswith(prefix)."""
        ...

    def omap_get_values_by_keys(self, keys: Iterable[str]) -> dict[str, bytes]: ...


@runtime_checkable
class ObjectWriter(Protocol):
    """Primitive mutations of one object, already validated by the caller.

    ``create``/``write``/``write_full``/``setxattr``/``omap_set``/``omap_set_header`` create
    the object when missing; the others are only called on an existing object, and
    ``truncate``/``zero`` only with in-range arguments.
    """

    def create(self) -> None: ...

    def write(self, offset: int, data: bytes) -> None: ...

    def write_full(self, data: bytes) -> None: ...

    def truncate(self, size: int) -> None: ...

    def zero(self, offset: int, length: int) -> None: ...

    def remove(self) -> None:
        """Remove data, xattrs and omap."""
        ...

    def setxattr(self, name: str, value: bytes) -> None: ...

    def rmxattr(self, name: str) -> None: ...

    def omap_set(self, kv: Mapping[str, bytes]) -> None: ...

    def omap_rm(self, keys: list[str]) -> None: ...

    def omap_rm_range(self, first: str, last: str) -> None:
        """Remove keys in [first, last)."""
        ...

    def omap_clear(self) -> None:
        """Remove every omap key and the header."""
        ...

    def omap_set_header(self, header: bytes) -> None: ...


@runtime_checkable
class ObjectState(ObjectReader, ObjectWriter, Protocol):
    """Reads that reflect this object's own earlier writes (the OSD's per-op object view)."""


#: The `ObjectWriter` mutation names, in the form `ObjectOverlay.mutations` records them.
WRITER_METHODS = frozenset(
    {
        "create",
        "write",
        "write_full",
        "truncate",
        "zero",
        "remove",
        "setxattr",
        "rmxattr",
        "omap_set",
        "omap_rm",
        "omap_rm_range",
        "omap_clear",
        "omap_set_header",
    }
)


# -- a buffering ObjectState -----------------------------------------------------------------
class ObjectOverlay:
    """An `ObjectState` that buffers mutations over a base `ObjectReader`.

    Reads merge the buffered mutations over the base; `mutations` lists them in order, and
    `apply_to` replays them onto a writer. Data is materialized only when read after a data
    write (so `write` into a large object does not read it).
    """

    def __init__(self, base: ObjectReader) -> None:
        self.base = base
        self.mutations: list[tuple[str, tuple[Any, ...]]] = []
        self._base_stat: tuple[int, float] | None = None
        self._base_exists: bool | None = None
        self._hidden = False  # base contents invisible (removed within this overlay)
        self._exists: bool | None = None
        self._size: int | None = None
        self._data: bytearray | None = None
        self._pending: list[tuple[str, tuple[Any, ...]]] = []  # data ops not yet materialized
        self._attrs: dict[str, bytes | None] = {}
        self._omap: dict[str, bytes | None] = {}
        self._omap_hidden = False
        self._omap_ranges: list[tuple[str, str]] = []
        self._header: bytes | None = None

    # -- bookkeeping ---------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when any mutation is buffered."""
        return bool(self.mutations)

    def apply_to(self, writer: ObjectWriter) -> None:
        """Replay the buffered mutations, in order, onto `writer`."""
        for name, args in self.mutations:
            getattr(writer, name)(*args)

    def _base_visible(self) -> bool:
        if self._hidden:
            return False
        if self._base_exists is None:
            self._base_exists = bool(self.base.exists())
        return self._base_exists

    def _bstat(self) -> tuple[int, float]:
        if not self._base_visible():
            return (0, 0.0)
        if self._base_stat is None:
            s = self.base.stat()
            self._base_stat = (int(s[0]), float(s[1]))
        return self._base_stat

    def _cur_size(self) -> int:
        if self._size is None:
            self._size = self._bstat()[0]
        return self._size

    def _record(self, name: str, *args: Any) -> None:
        self.mutations.append((name, args))

    def _data_op(self, name: str, args: tuple[Any, ...]) -> None:
        if self._data is not None:
            _apply_data(self._data, name, args)
        else:
            self._pending.append((name, args))

    def _materialize(self) -> bytearray:
        if self._data is None:
            base = self.base.read(0, None) if self._base_visible() else b""
            buf = bytearray(base)
            for name, args in self._pending:
                _apply_data(buf, name, args)
            self._pending.clear()
            self._data = buf
        return self._data

    def _omap_base_visible(self) -> bool:
        return not self._omap_hidden and self._base_visible()

    def _in_removed_range(self, key: str) -> bool:
        return any(first <= key < last for first, last in self._omap_ranges)

    # -- ObjectReader ------------------------------------------------------------------------
    def exists(self) -> bool:
        return self._exists if self._exists is not None else self._base_visible()

    def stat(self) -> tuple[int, float]:
        return (self._cur_size(), self._bstat()[1])

    def read(self, offset: int, length: int | None) -> bytes:
        if self._data is None and not self._pending:
            return self.base.read(offset, length) if self._base_visible() else b""
        buf = self._materialize()
        end = len(buf) if length is None else min(len(buf), offset + length)
        return bytes(buf[offset:end]) if offset < end else b""

    def getxattr(self, name: str) -> bytes | None:
        if name in self._attrs:
            return self._attrs[name]
        return self.base.getxattr(name) if self._base_visible() else None

    def getxattrs(self) -> dict[str, bytes]:
        out = dict(self.base.getxattrs()) if self._base_visible() else {}
        for k, v in self._attrs.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    def omap_get_header(self) -> bytes:
        if self._header is not None:
            return self._header
        return self.base.omap_get_header() if self._omap_base_visible() else b""

    def omap_get_values(
        self, start_after: str | None, prefix: str | None, max_return: int | None
    ) -> list[tuple[str, bytes]]:
        if not self._omap and not self._omap_ranges:
            if not self._omap_base_visible():
                return []
            return list(self.base.omap_get_values(start_after, prefix, max_return))
        merged: dict[str, bytes] = {}
        if self._omap_base_visible():
            for k, v in self.base.omap_get_values(start_after, prefix, None):
                if not self._in_removed_range(k):
                    merged[k] = v
        for k, v in self._omap.items():
            if start_after is not None and k <= start_after:
                continue
            if prefix and not k.startswith(prefix):
                continue
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        items = sorted(merged.items())
        return items if max_return is None else items[:max_return]

    def omap_get_values_by_keys(self, keys: Iterable[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        ask: list[str] = []
        for k in keys:
            if k in self._omap:
                v = self._omap[k]
                if v is not None:
                    out[k] = v
            elif self._omap_base_visible() and not self._in_removed_range(k):
                ask.append(k)
        if ask:
            out.update(self.base.omap_get_values_by_keys(ask))
        return out

    # -- ObjectWriter ------------------------------------------------------------------------
    def create(self) -> None:
        self._record("create")
        if not self.exists():
            self._size = self._cur_size()
            self._exists = True

    def write(self, offset: int, data: bytes) -> None:
        data = bytes(data)
        self._record("write", offset, data)
        size = self._cur_size()
        self._size = max(size, offset + len(data))
        self._exists = True
        self._data_op("write", (offset, data))

    def write_full(self, data: bytes) -> None:
        data = bytes(data)
        self._record("write_full", data)
        self._size = len(data)
        self._exists = True
        self._data = bytearray(data)
        self._pending.clear()

    def truncate(self, size: int) -> None:
        self._record("truncate", size)
        self._cur_size()
        self._size = size
        self._data_op("truncate", (size,))

    def zero(self, offset: int, length: int) -> None:
        self._record("zero", offset, length)
        self._data_op("zero", (offset, length))

    def remove(self) -> None:
        self._record("remove")
        self._hidden = True
        self._exists = False
        self._size = 0
        self._data = bytearray()
        self._pending.clear()
        self._attrs = {}
        self._omap = {}
        self._omap_hidden = True
        self._omap_ranges = []
        self._header = None

    def setxattr(self, name: str, value: bytes) -> None:
        value = bytes(value)
        self._record("setxattr", name, value)
        self._cur_size()
        self._exists = True
        self._attrs[name] = value

    def rmxattr(self, name: str) -> None:
        self._record("rmxattr", name)
        self._attrs[name] = None

    def omap_set(self, kv: Mapping[str, bytes]) -> None:
        d = {str(k): bytes(v) for k, v in kv.items()}
        self._record("omap_set", d)
        self._cur_size()
        self._exists = True
        self._omap.update(d)

    def omap_rm(self, keys: list[str]) -> None:
        ks = [str(k) for k in keys]
        self._record("omap_rm", ks)
        for k in ks:
            self._omap[k] = None

    def omap_rm_range(self, first: str, last: str) -> None:
        self._record("omap_rm_range", first, last)
        for k in self._omap:
            if first <= k < last:
                self._omap[k] = None
        self._omap_ranges.append((first, last))

    def omap_clear(self) -> None:
        self._record("omap_clear")
        self._omap = {}
        self._omap_hidden = True
        self._omap_ranges = []
        self._header = None

    def omap_set_header(self, header: bytes) -> None:
        header = bytes(header)
        self._record("omap_set_header", header)
        self._cur_size()
        self._exists = True
        self._header = header


def _apply_data(buf: bytearray, name: str, args: tuple[Any, ...]) -> None:
    if name == "write":
        off, data = args
        if len(buf) < off:
            buf.extend(bytes(off - len(buf)))
        buf[off : off + len(data)] = data
    elif name == "truncate":
        (size,) = args
        if size < len(buf):
            del buf[size:]
        else:
            buf.extend(bytes(size - len(buf)))
    elif name == "zero":
        off, length = args
        end = min(len(buf), off + length)
        if off < end:
            buf[off:end] = bytes(end - off)


# -- adapters over the store (for the OSD) ------------------------------------------------------
class StoreReader:
    """`ObjectReader` over an object's committed state in an `ObjectStore`.

    `exists`/`size`/`mtime` may be given by the caller (the OSD knows them from its object
    info); user xattrs are stored under `attr_prefix`. An object said to exist but not yet in
    the store (created by an earlier op of the same vector) reads as empty. `stored=True`
    says the caller has just read the object from the store (the OSD, its object info), so
    no read asks the store again whether it is there.
    """

    def __init__(
        self,
        store: ObjectStore,
        cid: str,
        key: ObjectKey,
        *,
        exists: bool | None = None,
        size: int | None = None,
        mtime: float = 0.0,
        attr_prefix: str = "_",
        stored: bool | None = None,
    ) -> None:
        self.store, self.cid, self.key = store, cid, key
        self._exists, self._size, self._mtime = exists, size, mtime
        self.prefix = attr_prefix
        self._stored: bool | None = stored

    def _in_store(self) -> bool:
        if self._stored is None:
            self._stored = self.store.exists(self.cid, self.key)
        return self._stored

    def exists(self) -> bool:
        if self._exists is None:
            self._exists = self._in_store()
        return self._exists

    def stat(self) -> tuple[int, float]:
        if self._size is not None:
            return (self._size, self._mtime)
        return (self.store.stat(self.cid, self.key) if self._in_store() else 0, self._mtime)

    def read(self, offset: int, length: int | None) -> bytes:
        if not self._in_store():
            return b""
        return self.store.read(self.cid, self.key, offset, length)

    def getxattr(self, name: str) -> bytes | None:
        if not self._in_store():
            return None
        try:
            return bytes(self.store.getattr(self.cid, self.key, self.prefix + name))
        except StoreError as e:
            if e.errno in (errno.ENODATA, errno.ENOENT):
                return None
            raise

    def getxattrs(self) -> dict[str, bytes]:
        if not self._in_store():
            return {}
        p = self.prefix
        return {
            k[len(p) :]: bytes(v)
            for k, v in self.store.getattrs(self.cid, self.key).items()
            if k.startswith(p)
        }

    def omap_get_header(self) -> bytes:
        if not self._in_store():
            return b""
        return bytes(self.store.omap_get_header(self.cid, self.key))

    def omap_get_values(
        self, start_after: str | None, prefix: str | None, max_return: int | None
    ) -> list[tuple[str, bytes]]:
        if not self._in_store():
            return []
        return list(
            self.store.omap_get_values(self.cid, self.key, start_after, prefix or None, max_return)
        )

    def omap_get_values_by_keys(self, keys: Iterable[str]) -> dict[str, bytes]:
        if not self._in_store():
            return {}
        return dict(self.store.omap_get_values_by_keys(self.cid, self.key, list(keys)))


class TransactionWriter:
    """`ObjectWriter` that appends each mutation to a store `Transaction`.

    It does not maintain the OSD's object info (size, version): the OSD updates that from its
    view after the op.
    """

    def __init__(self, txn: Transaction, cid: str, key: ObjectKey, attr_prefix: str = "_") -> None:
        self.t, self.cid, self.key, self.prefix = txn, cid, key, attr_prefix

    def create(self) -> None:
        self.t.touch(self.cid, self.key)

    def write(self, offset: int, data: bytes) -> None:
        if data:
            self.t.write(self.cid, self.key, offset, data)
        else:
            self.t.touch(self.cid, self.key)

    def write_full(self, data: bytes) -> None:
        self.t.touch(self.cid, self.key)
        self.t.truncate(self.cid, self.key, 0)
        if data:
            self.t.write(self.cid, self.key, 0, data)

    def truncate(self, size: int) -> None:
        self.t.truncate(self.cid, self.key, size)

    def zero(self, offset: int, length: int) -> None:
        self.t.zero(self.cid, self.key, offset, length)

    def remove(self) -> None:
        self.t.remove(self.cid, self.key)

    def setxattr(self, name: str, value: bytes) -> None:
        self.t.setattr(self.cid, self.key, self.prefix + name, value)

    def rmxattr(self, name: str) -> None:
        self.t.rmattr(self.cid, self.key, self.prefix + name)

    def omap_set(self, kv: Mapping[str, bytes]) -> None:
        self.t.omap_setkeys(self.cid, self.key, kv)

    def omap_rm(self, keys: list[str]) -> None:
        self.t.omap_rmkeys(self.cid, self.key, keys)

    def omap_rm_range(self, first: str, last: str) -> None:
        self.t.omap_rmkeyrange(self.cid, self.key, first, last)

    def omap_clear(self) -> None:
        self.t.omap_clear(self.cid, self.key)

    def omap_set_header(self, header: bytes) -> None:
        self.t.omap_setheader(self.cid, self.key, header)


# -- the call environment ---------------------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    """The client that sent the op (upstream entity_inst_t: entity name + address)."""

    name: str = "client.0"  #: entity name, e.g. "client.4123"; lockers are keyed by it
    addr: str = ""  #: the client's address, e.g. "127.0.0.1:0/3012345"

    def __str__(self) -> str:
        return f"{self.name} {self.addr}"


@dataclass(frozen=True)
class CallEnv:
    """Everything a method may know besides the object: who asks, when, and the OSD's bounds.

    `now` is the op's timestamp (lock expiry uses it; classes never read the wall clock);
    `random_bytes` is the entropy source (the simulator passes a seeded one).
    """

    origin: Origin = Origin()
    now: float = 0.0
    current_version: int = 0  #: cls_current_version: the PG's last user version
    subop_num: int = 0  #: cls_current_subop_num: index of the CALL op in its vector
    client_features: int = 0
    max_object_size: int = 128 << 20
    max_attr_name_len: int = 100
    max_attr_size: int = 0  #: 0 means no limit (osd_max_attr_size)
    max_omap_entries: int = 1024  #: osd_max_omap_entries_per_request
    random_bytes: Callable[[int], bytes] = os.urandom
    #: The object's committed SnapSet seq (cls_get_snapset_seq), asked lazily: a store read
    #: only for the methods that want it. 0 for an object never written under a snap context.
    snapset_seq: Callable[[], int] = lambda: 0
    #: The object's watchers as (entity name, address) (cls_cxx_list_watchers), asked lazily.
    watchers: Callable[[], list[tuple[str, str]]] = lambda: []


def _fail(err: int, msg: str = "") -> ClsError:
    return ClsError(err, msg or errno.errorcode.get(err, str(err)))


class MethodContext:
    """The hctx: upstream's cls_cxx_* calls over the OSD's object view, with staged writes.

    Reads see the object as left by earlier ops of the vector plus this method's own writes.
    Writes stay private until `commit` (the registry calls it when the method succeeded).
    Every call counts towards `num_read`/`num_write` as upstream's do_osd_ops does (stat does
    not count as a read), so the registry can fail methods that break their RD/WR flags.
    """

    def __init__(self, obj: ObjectState, env: CallEnv | None = None, flags: int = RD | WR) -> None:
        self.env = env or CallEnv()
        self.flags = flags
        self.num_read = 0
        self.num_write = 0
        self._target = obj
        self._view = ObjectOverlay(obj)

    # -- environment -------------------------------------------------------------------------
    @property
    def origin(self) -> Origin:
        """cls_get_request_origin."""
        return self.env.origin

    @property
    def now(self) -> float:
        """The op's timestamp in seconds (never the wall clock)."""
        return self.env.now

    @property
    def current_version(self) -> int:
        """cls_current_version."""
        return self.env.current_version

    @property
    def subop_num(self) -> int:
        """cls_current_subop_num."""
        return self.env.subop_num

    def random_bytes(self, n: int) -> bytes:
        """cls_gen_random_bytes."""
        return bytes(self.env.random_bytes(n))

    def gen_rand_base64(self, n: int) -> str:
        """cls_gen_rand_base64: `n` random base64 characters."""
        raw = self.random_bytes((n * 3 + 3) // 4 + 1)
        return base64.b64encode(raw).decode()[:n]

    def get_snapset_seq(self) -> int:
        """cls_get_snapset_seq: the object's SnapSet seq; ENOENT when the object does not
        exist (as the op has left it so far)."""
        if not self._view.exists():
            raise _fail(errno.ENOENT)
        return int(self.env.snapset_seq())

    def list_watchers(self) -> list[tuple[str, str]]:
        """cls_cxx_list_watchers: (entity name, address) of each watcher of the object."""
        self.num_read += 1
        return list(self.env.watchers())

    # -- staging ------------------------------------------------------------------------------
    @property
    def pending(self) -> list[tuple[str, tuple[Any, ...]]]:
        """The method's staged mutations, in order."""
        return self._view.mutations

    def commit(self) -> None:
        """Replay the staged writes onto the OSD's object state (the method succeeded)."""
        view, self._view = self._view, ObjectOverlay(self._target)
        view.apply_to(self._target)

    def discard(self) -> None:
        """Drop the staged writes (the method failed)."""
        self._view = ObjectOverlay(self._target)

    # -- object ---------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the object exists now (no upstream counterpart; not counted as a read)."""
        return self._view.exists()

    def _need(self) -> None:
        if not self._view.exists():
            raise _fail(errno.ENOENT)

    def _check_extent(self, offset: int, length: int) -> None:
        mx = self.env.max_object_size
        if offset < 0 or length < 0:
            raise _fail(errno.EINVAL)
        if offset + length > mx:
            raise _fail(errno.EFBIG)

    def create(self, exclusive: bool = False) -> None:
        """cls_cxx_create: EEXIST when `exclusive` and the object exists."""
        self.num_write += 1
        if self._view.exists():
            if exclusive:
                raise _fail(errno.EEXIST)
            return
        self._view.create()

    def remove(self) -> None:
        """cls_cxx_remove: ENOENT when the object does not exist."""
        self.num_write += 1
        self._need()
        self._view.remove()

    def stat(self) -> tuple[int, float]:
        """cls_cxx_stat: (size, mtime); ENOENT when missing. Not a read for the RD check."""
        self._need()
        return self._view.stat()

    def read(self, offset: int = 0, length: int = 0) -> bytes:
        """cls_cxx_read: up to `length` bytes at `offset` (0 reads to the end); ENOENT."""
        self.num_read += 1
        if offset < 0 or length < 0:
            raise _fail(errno.EINVAL)
        self._need()
        return self._view.read(offset, length or None)

    def write(self, offset: int, data: bytes) -> None:
        """cls_cxx_write: creates the object; EFBIG past osd_max_object_size."""
        self.num_write += 1
        self._check_extent(offset, len(data))
        self._view.write(offset, bytes(data))

    def write_full(self, data: bytes) -> None:
        """cls_cxx_write_full: replace the whole content (creates the object)."""
        self.num_write += 1
        self._check_extent(0, len(data))
        self._view.write_full(bytes(data))

    def replace(self, offset: int, data: bytes) -> None:
        """cls_cxx_replace: truncate to 0, then write `data` at `offset`."""
        self.num_write += 1
        self._check_extent(offset, len(data))
        if self._view.exists():
            self._view.truncate(0)
        self._view.write(offset, bytes(data))

    def truncate(self, size: int) -> None:
        """cls_cxx_truncate: a no-op on a missing object, like upstream's TRUNCATE."""
        self.num_write += 1
        self._check_extent(size, 0)
        if self._view.exists():
            self._view.truncate(size)

    def write_zero(self, offset: int, length: int) -> None:
        """cls_cxx_write_zero: zero a range, clipped to the size (never extends)."""
        self.num_write += 1
        self._check_extent(offset, length)
        if not self._view.exists():
            return
        size = self._view.stat()[0]
        end = min(size, offset + length)
        if offset < end:
            self._view.zero(offset, end - offset)

    # -- xattrs ---------------------------------------------------------------------------------
    def getxattr(self, name: str) -> bytes:
        """cls_cxx_getxattr: ENOENT without the object, ENODATA without the attr."""
        self.num_read += 1
        self._need()
        v = self._view.getxattr(name)
        if v is None:
            raise _fail(errno.ENODATA)
        return v

    def getxattrs(self) -> dict[str, bytes]:
        """cls_cxx_getxattrs: every user xattr; ENOENT without the object."""
        self.num_read += 1
        self._need()
        return self._view.getxattrs()

    def setxattr(self, name: str, value: bytes) -> None:
        """cls_cxx_setxattr: creates the object; ENAMETOOLONG / EFBIG past the OSD limits."""
        self.num_write += 1
        if len(name) > self.env.max_attr_name_len:
            raise _fail(errno.ENAMETOOLONG)
        if self.env.max_attr_size and len(value) > self.env.max_attr_size:
            raise _fail(errno.EFBIG)
        self._view.setxattr(name, bytes(value))

    def rmxattr(self, name: str) -> None:
        """Remove a user xattr; ENOENT without the object."""
        self.num_write += 1
        self._need()
        self._view.rmxattr(name)

    # -- omap -------------------------------------------------------------------------------------
    def _omap(self, start_after: str, prefix: str, max_to_get: int) -> tuple[list, bool]:
        self.num_read += 1
        if max_to_get < 0:
            raise _fail(errno.EINVAL)
        if not self._view.exists():
            return [], False
        n = min(max_to_get, self.env.max_omap_entries)
        items = self._view.omap_get_values(start_after or None, prefix or None, n + 1)
        return items[:n], len(items) > n

    def map_get_vals(
        self, start_after: str = "", filter_prefix: str = "", max_to_get: int = 1 << 62
    ) -> tuple[dict[str, bytes], bool]:
        """cls_cxx_map_get_vals: (values, more); at most osd_max_omap_entries_per_request."""
        items, more = self._omap(start_after, filter_prefix, max_to_get)
        return dict(items), more

    def map_get_keys(
        self, start_after: str = "", max_to_get: int = 1 << 62
    ) -> tuple[list[str], bool]:
        """cls_cxx_map_get_keys: (sorted keys, more)."""
        items, more = self._omap(start_after, "", max_to_get)
        return [k for k, _ in items], more

    def map_get_all_vals(self) -> tuple[dict[str, bytes], bool]:
        """cls_cxx_map_get_all_vals: (values, more) from the first key."""
        return self.map_get_vals()

    def map_get_vals_by_keys(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The values of those `keys` that exist."""
        self.num_read += 1
        if not self._view.exists():
            return {}
        return self._view.omap_get_values_by_keys(list(keys))

    def map_get_val(self, key: str) -> bytes:
        """cls_cxx_map_get_val: ENOENT when the key (or the object) is missing."""
        v = self.map_get_vals_by_keys([key]).get(key)
        if v is None:
            raise _fail(errno.ENOENT)
        return v

    def map_read_header(self) -> bytes:
        """cls_cxx_map_read_header: empty when there is none."""
        self.num_read += 1
        if not self._view.exists():
            return b""
        return self._view.omap_get_header()

    def map_set_val(self, key: str, value: bytes) -> None:
        """cls_cxx_map_set_val (creates the object)."""
        self.map_set_vals({key: value})

    def map_set_vals(self, kv: Mapping[str, bytes]) -> None:
        """cls_cxx_map_set_vals (creates the object)."""
        self.num_write += 1
        self._view.omap_set({str(k): bytes(v) for k, v in kv.items()})

    def map_write_header(self, header: bytes) -> None:
        """cls_cxx_map_write_header (creates the object)."""
        self.num_write += 1
        self._view.omap_set_header(bytes(header))

    def map_remove_key(self, key: str) -> None:
        """cls_cxx_map_remove_key: ENOENT without the object; a missing key is fine."""
        self.map_remove_keys([key])

    def map_remove_keys(self, keys: Iterable[str]) -> None:
        """Remove several omap keys; ENOENT without the object."""
        self.num_write += 1
        self._need()
        self._view.omap_rm([str(k) for k in keys])

    def map_remove_range(self, key_begin: str, key_end: str) -> None:
        """cls_cxx_map_remove_range: keys in [key_begin, key_end); ENOENT without the object."""
        self.num_write += 1
        self._need()
        self._view.omap_rm_range(key_begin, key_end)

    def map_clear(self) -> None:
        """cls_cxx_map_clear: every key and the header; ENOENT without the object."""
        self.num_write += 1
        self._need()
        self._view.omap_clear()
