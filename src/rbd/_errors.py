"""Upstream's `rbd` exception hierarchy, its two errno maps and `make_ex`.

As in `src/pybind/rbd/rbd.pyx`: `rbd.Error` derives from `Exception` only, `rbd.OSError`
(not the builtin) adds `.errno` and the `[errno N] ` prefix, and every subclass wraps its
message in a fixed text (`RBD image not found (<msg>)`).  Group operations use a second map
in which ENOENT/EEXIST become ObjectNotFound/ObjectExists instead of the Image* classes.
"""

from __future__ import annotations

import errno as _errno
from typing import Any

from pyceph.common.errors import CephError
from rbd._constants import ECANCELED


class Error(Exception):
    """Base class of every rbd error (a plain Exception: no errno handling)."""


class OSError(Error):  # noqa: A001 - shadows the builtin like upstream
    """`OSError` class, derived from `Error`; carries a positive `errno` (or None)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

    def __str__(self) -> str:
        msg = super().__str__()
        if self.errno is None:
            return msg
        return f"[errno {self.errno}] {msg}"

    def __reduce__(self) -> Any:
        # upstream refers to a `message` attribute that does not exist: pickling an rbd
        # exception raises AttributeError there, and here too
        return (self.__class__, (self.message, self.errno))  # type: ignore[attr-defined]


class PermissionError(OSError):  # noqa: A001
    """RBD permission error (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD permission error (%s)" % (message,), errno)


class ImageNotFound(OSError):
    """RBD image not found (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD image not found (%s)" % (message,), errno)


class ObjectNotFound(OSError):
    """RBD object not found (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD object not found (%s)" % (message,), errno)


class ImageExists(OSError):
    """RBD image already exists (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD image already exists (%s)" % (message,), errno)


class ObjectExists(OSError):
    """RBD object already exists (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD object already exists (%s)" % (message,), errno)


class IOError(OSError):  # noqa: A001
    """RBD I/O error (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD I/O error (%s)" % (message,), errno)


class NoSpace(OSError):
    """RBD insufficient space available (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD insufficient space available (%s)" % (message,), errno)


class IncompleteWriteError(OSError):
    """RBD incomplete write (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD incomplete write (%s)" % (message,), errno)


class InvalidArgument(OSError):
    """RBD invalid argument (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD invalid argument (%s)" % (message,), errno)


class LogicError(OSError):
    """RBD logic error (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD logic error (%s)" % (message,), errno)


class ReadOnlyImage(OSError):
    """RBD read-only image (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD read-only image (%s)" % (message,), errno)


class ImageBusy(OSError):
    """RBD image is busy (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD image is busy (%s)" % (message,), errno)


class ImageHasSnapshots(OSError):
    """RBD image has snapshots (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD image has snapshots (%s)" % (message,), errno)


class FunctionNotSupported(OSError):
    """RBD function not supported (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD function not supported (%s)" % (message,), errno)


class ArgumentOutOfRange(OSError):
    """RBD arguments out of range (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD arguments out of range (%s)" % (message,), errno)


class ConnectionShutdown(OSError):
    """RBD connection was shutdown (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD connection was shutdown (%s)" % (message,), errno)


class Timeout(OSError):
    """RBD operation timeout (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD operation timeout (%s)" % (message,), errno)


class DiskQuotaExceeded(OSError):
    """RBD disk quota exceeded (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD disk quota exceeded (%s)" % (message,), errno)


class OperationNotSupported(OSError):
    """RBD operation not supported (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD operation not supported (%s)" % (message,), errno)


class OperationCanceled(OSError):
    """RBD operation canceled (errno mapped by `make_ex`)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__("RBD operation canceled (%s)" % (message,), errno)


#: errno -> class for every call (`errno_to_exception` in rbd.pyx)
errno_to_exception: dict[int, type[OSError]] = {
    _errno.EPERM: PermissionError,
    _errno.ENOENT: ImageNotFound,
    _errno.EIO: IOError,
    _errno.ENOSPC: NoSpace,
    _errno.EEXIST: ImageExists,
    _errno.EINVAL: InvalidArgument,
    _errno.EROFS: ReadOnlyImage,
    _errno.EBUSY: ImageBusy,
    _errno.ENOTEMPTY: ImageHasSnapshots,
    _errno.ENOSYS: FunctionNotSupported,
    _errno.EDOM: ArgumentOutOfRange,
    _errno.ESHUTDOWN: ConnectionShutdown,
    _errno.ETIMEDOUT: Timeout,
    _errno.EDQUOT: DiskQuotaExceeded,
    _errno.EOPNOTSUPP: OperationNotSupported,
    ECANCELED: OperationCanceled,
}

#: the map group operations use (`group_errno_to_exception` in rbd.pyx)
group_errno_to_exception: dict[int, type[OSError]] = {
    **errno_to_exception,
    _errno.ENOENT: ObjectNotFound,
    _errno.EEXIST: ObjectExists,
}


def make_ex(
    ret: int, msg: str, exception_map: dict[int, type[OSError]] = errno_to_exception
) -> OSError:
    """The exception for librbd return code `ret` (sign ignored), as upstream's make_ex."""
    ret = abs(ret)
    cls = exception_map.get(ret)
    if cls is not None:
        return cls(msg, errno=ret)
    return OSError(msg, errno=ret)


def from_ceph(
    e: CephError, msg: str, exception_map: dict[int, type[OSError]] = errno_to_exception
) -> OSError:
    """Translate an engine error into upstream's exception with upstream's message."""
    return make_ex(e.errno, msg, exception_map)
