"""Compound operations: `WriteOp`/`ReadOp` builders and the `OmapIterator`.

A builder checks its arguments as upstream's binding does and collects the sub-ops in an
async-core `ObjectOp`; `Ioctx.operate_*` runs it on the OSD as one atomic op.  Read ops
that produce output (omap getters) register a sink that the result is delivered into
after the op ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pyceph.client.op import ObjectOp
from rados._constants import LIBRADOS_CMPXATTR_OP_EQ, LIBRADOS_OPERATION_NOFLAG
from rados._util import check_bytes, check_int, check_str, check_uint

if TYPE_CHECKING:
    from rados._ioctx import Ioctx

#: Receives (op result, output fields, output data) after the compound op ran.
Sink = Callable[[int, dict[str, Any], bytes], None]


class _OpBuilder:
    """Shared state of WriteOp and ReadOp."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._op = ObjectOp()
        self._sinks: list[tuple[int, Sink]] = []

    @property
    def object_op(self) -> ObjectOp:
        """The async-core op being built (`Ioctx`'s omap helpers add to it)."""
        return self._op

    def _add_sink(self, sink: Sink) -> None:
        """Deliver the output of the most recently added sub-op to `sink`."""
        self._sinks.append((len(self._op) - 1, sink))

    def _take(self) -> tuple[ObjectOp, list[tuple[int, Sink]]]:
        """Hand the collected sub-ops to an operate call (the builder is left empty)."""
        op, sinks = self._op, self._sinks
        self._op, self._sinks = ObjectOp(), []
        return op, sinks

    def create(self) -> Any:
        """Start a fresh operation; returns self."""
        self._op = ObjectOp()
        self._sinks = []
        return self

    def release(self) -> None:
        """Discard the collected sub-ops."""
        self._op = ObjectOp()
        self._sinks = []

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG) -> None:
        """Set LIBRADOS_OP_FLAG_* flags on the most recently added sub-op."""
        flags = check_int(flags, "flags")
        if len(self._op):
            self._op.set_flags(flags)

    def cmpext(self, cmp_buf: bytes, offset: int = 0) -> None:
        """Assert that the object's bytes at `offset` equal `cmp_buf`."""
        check_bytes(cmp_buf, "cmp_buf")
        self._op.cmpext(check_uint(offset, "offset"), cmp_buf)


class WriteOp(_OpBuilder):
    """A compound write: all its sub-ops apply atomically, or none."""

    def new(self, exclusive: int | None = None) -> None:
        """Create the object (fail with EEXIST if `exclusive` and it exists)."""
        ex = 0 if exclusive is None else check_int(exclusive, "exclusive")
        self._op.create(bool(ex))

    def remove(self) -> None:
        """Delete the object."""
        self._op.remove()

    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> None:
        """Set an extended attribute."""
        check_str(xattr_name, "xattr_name")
        check_bytes(xattr_value, "xattr_value")
        self._op.setxattr(xattr_name, xattr_value)

    def rm_xattr(self, xattr_name: str) -> None:
        """Remove an extended attribute."""
        check_str(xattr_name, "xattr_name")
        self._op.rmxattr(xattr_name)

    def append(self, to_write: bytes) -> None:
        """Append data."""
        check_bytes(to_write, "to_write")
        self._op.append(to_write)

    def write_full(self, to_write: bytes) -> None:
        """Replace the object's data."""
        check_bytes(to_write, "to_write")
        self._op.write_full(to_write)

    def write(self, to_write: bytes, offset: int = 0) -> None:
        """Write data at `offset`."""
        check_bytes(to_write, "to_write")
        self._op.write(check_uint(offset, "offset"), to_write)

    def assert_version(self, version: int) -> None:
        """Fail the op (ERANGE/EOVERFLOW) unless the object is at `version`."""
        self._op.assert_version(check_uint(version, "version"))

    def zero(self, offset: int, length: int) -> None:
        """Zero a byte range."""
        offset = check_uint(offset, "offset")
        self._op.zero(offset, check_uint(length, "length"))

    def truncate(self, offset: int) -> None:
        """Truncate (or extend with zeros) to `offset` bytes."""
        self._op.truncate(check_uint(offset, "offset"))

    def execute(self, cls: str, method: str, data: bytes) -> None:
        """Call an object-class method inside the op."""
        check_str(cls, "cls")
        check_str(method, "method")
        check_bytes(data, "data")
        self._op.call(cls, method, data)

    def writesame(self, to_write: bytes, write_len: int, offset: int = 0) -> None:
        """Write `to_write` repeatedly over `write_len` bytes from `offset`."""
        check_bytes(to_write, "to_write")
        offset = check_uint(offset, "offset")
        self._op.writesame(offset, check_uint(write_len, "write_len"), to_write)

    def omap_cmp(self, key: str, val: str, cmp_op: int = LIBRADOS_CMPXATTR_OP_EQ) -> None:
        """Assert a comparison against an omap value (ECANCELED when it does not hold)."""
        check_str(key, "key")
        check_str(val, "val")
        self._op.omap_cmp(key, val.encode(), check_int(cmp_op, "cmp_op"))


class ReadOp(_OpBuilder):
    """A compound read."""


class OpCtx:
    """Context-manager behaviour of WriteOpCtx/ReadOpCtx: create on entry, release on exit."""

    def __enter__(self) -> Any:
        return self.create()  # type: ignore[attr-defined]

    def __exit__(self, type: Any, msg: Any, traceback: Any) -> None:
        self.release()  # type: ignore[attr-defined]


class WriteOpCtx(WriteOp, OpCtx):
    """write operation context manager"""


class ReadOpCtx(ReadOp, OpCtx):
    """read operation context manager"""


class OmapIterator:
    """Iterates the (key, value) pairs an omap read returned, once the op has run."""

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        self._items: list[tuple[str, bytes | None]] = []
        self._pos = 0

    def _fill(self, items: list[tuple[str, bytes | None]]) -> None:
        self._items = items
        self._pos = 0

    def __iter__(self) -> Iterator[tuple[str, bytes | None]]:
        return self

    def __next__(self) -> tuple[str, bytes | None]:
        """The next (key, value) pair; value is None for get_omap_keys."""
        if self._pos >= len(self._items):
            raise StopIteration()
        item = self._items[self._pos]
        self._pos += 1
        return item
