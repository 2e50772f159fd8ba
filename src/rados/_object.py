"""`Object`: a file-like view of one RADOS object."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rados._errors import LogicError, ObjectStateError

if TYPE_CHECKING:
    from rados._ioctx import Ioctx
    from rados._iterators import XattrIterator

F = TypeVar("F", bound=Callable[..., Any])


def set_object_locator(func: F) -> F:
    """Run an Object method with the Ioctx's locator key set to the object's."""

    @functools.wraps(func)
    def retfunc(self: Object, *args: Any, **kwargs: Any) -> Any:
        if self.locator_key is None:
            return func(self, *args, **kwargs)
        old_locator = self.ioctx.get_locator_key()
        self.ioctx.set_locator_key(self.locator_key)
        try:
            return func(self, *args, **kwargs)
        finally:
            self.ioctx.set_locator_key(old_locator)

    return retfunc  # type: ignore[return-value]


def set_object_namespace(func: F) -> F:
    """Run an Object method with the Ioctx's namespace set to the object's."""

    @functools.wraps(func)
    def retfunc(self: Object, *args: Any, **kwargs: Any) -> Any:
        if self.nspace is None:
            raise LogicError("Namespace not set properly in context")
        old_nspace = self.ioctx.get_namespace()
        self.ioctx.set_namespace(self.nspace)
        try:
            return func(self, *args, **kwargs)
        finally:
            self.ioctx.set_namespace(old_nspace)

    return retfunc  # type: ignore[return-value]


class Object:
    """Rados object wrapper: read/write at a moving offset, like a file."""

    def __init__(
        self,
        ioctx: Ioctx,
        key: str,
        locator_key: str | None = None,
        nspace: str | None = None,
    ) -> None:
        self.key = key
        self.ioctx = ioctx
        self.offset = 0
        self.state = "exists"
        self.locator_key = locator_key
        self.nspace = "" if nspace is None else nspace

    def __str__(self) -> str:
        ns = "--default--" if self.nspace == "" else self.nspace
        return (
            f"rados.Object(ioctx={self.ioctx},key={self.key},nspace={ns},"
            f"locator={self.locator_key})"
        )

    def require_object_exists(self) -> None:
        """ObjectStateError once the object was removed through this wrapper."""
        if self.state != "exists":
            raise ObjectStateError(f"The object is {self.state}")

    @set_object_locator
    @set_object_namespace
    def read(self, length: int = 1024 * 1024) -> bytes:
        """Read up to `length` bytes at the current offset and advance it."""
        self.require_object_exists()
        ret = self.ioctx.read(self.key, length, self.offset)
        self.offset += len(ret)
        return ret

    @set_object_locator
    @set_object_namespace
    def write(self, string_to_write: bytes) -> int:
        """Write at the current offset and advance it; returns 0."""
        self.require_object_exists()
        ret = self.ioctx.write(self.key, string_to_write, self.offset)
        if ret == 0:
            self.offset += len(string_to_write)
        return ret

    @set_object_locator
    @set_object_namespace
    def remove(self) -> None:
        """Delete the object."""
        self.require_object_exists()
        self.ioctx.remove_object(self.key)
        self.state = "removed"

    @set_object_locator
    @set_object_namespace
    def stat(self) -> tuple[int, time.struct_time]:
        """(size, mtime) of the object."""
        self.require_object_exists()
        return self.ioctx.stat(self.key)

    def seek(self, position: int) -> None:
        """Move the offset to `position`."""
        self.require_object_exists()
        self.offset = position

    @set_object_locator
    @set_object_namespace
    def get_xattr(self, xattr_name: str) -> bytes:
        """Value of an extended attribute."""
        self.require_object_exists()
        return self.ioctx.get_xattr(self.key, xattr_name)

    @set_object_locator
    @set_object_namespace
    def get_xattrs(self) -> XattrIterator:
        """Iterator over the extended attributes."""
        self.require_object_exists()
        return self.ioctx.get_xattrs(self.key)

    @set_object_locator
    @set_object_namespace
    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> bool:
        """Set an extended attribute; returns True."""
        self.require_object_exists()
        return self.ioctx.set_xattr(self.key, xattr_name, xattr_value)

    @set_object_locator
    @set_object_namespace
    def rm_xattr(self, xattr_name: str) -> bool:
        """Remove an extended attribute; returns True."""
        self.require_object_exists()
        return self.ioctx.rm_xattr(self.key, xattr_name)
