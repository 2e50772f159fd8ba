"""Upstream's `rados` exception hierarchy and errno mapping.

The classes shadow Python's builtins on purpose (`rados.OSError` is *not* the
builtin `OSError`): everything derives from `rados.Error`.  `str(e)` is
`[errno N] <PREFIX> (<message>)` when an errno is set.
"""

from __future__ import annotations

import builtins
import errno as _errno
from typing import Any

from rados._constants import MAX_ERRNO


class Error(Exception):
    """Base class of every rados error; carries an optional positive `errno`."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super(Exception, self).__init__(message)
        self.errno = errno

    def __str__(self) -> str:
        msg = super(Exception, self).__str__()
        if self.errno is None:
            return msg
        return f"[errno {self.errno}] {msg}"

    def __reduce__(self) -> Any:
        # Upstream refers to a `message` attribute that does not exist, so
        # pickling a rados exception raises AttributeError.  Kept as is.
        return (self.__class__, (self.message, self.errno))  # type: ignore[attr-defined]


class OSError(Error):  # noqa: A001 - shadows the builtin like upstream
    """`OSError` class, derived from `Error` (not the builtin OSError)."""


class InvalidArgumentError(Error):
    """EINVAL: an argument was rejected."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS invalid argument ({message})", errno)


class InterruptedOrTimeoutError(OSError):
    """EINTR: interrupted or timed out."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS interrupted or timeout ({message})", errno)


class PermissionError(OSError):  # noqa: A001
    """EPERM: operation not permitted."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS permission error ({message})", errno)


class PermissionDeniedError(OSError):
    """EACCES: access denied."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS permission denied ({message})", errno)


class ObjectNotFound(OSError):
    """ENOENT: no such object/pool/entry."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS object not found ({message})", errno)


class NoData(OSError):
    """ENODATA: no such attribute/data."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS no data ({message})", errno)


class ObjectExists(OSError):
    """EEXIST: the object already exists."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS object exists ({message})", errno)


class ObjectBusy(OSError):
    """EBUSY: resource busy."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS object busy ({message})", errno)


class IOError(OSError):  # noqa: A001
    """EIO: input/output error."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS I/O error ({message})", errno)


class NoSpace(OSError):
    """ENOSPC: the cluster is full."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS no space ({message})", errno)


class RadosStateError(Error):
    """A Rados method called in the wrong state."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS rados state ({message})", errno)


class IoctxStateError(Error):
    """An Ioctx used after close()."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS Ioctx state error ({message})", errno)


class ObjectStateError(Error):
    """An Object used after remove()."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS object state error ({message})", errno)


class LogicError(Error):
    """An internal inconsistency."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS logic error ({message})", errno)


class TimedOut(OSError):
    """ETIMEDOUT: operation timed out."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS timed out ({message})", errno)


class InProgress(Error):
    """EINPROGRESS: operation in progress."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS in progress error ({message})", errno)


class IsConnected(Error):
    """EISCONN: already connected."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS is connected error ({message})", errno)


class ConnectionShutdown(OSError):
    """ESHUTDOWN: the client was shut down or blocklisted."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS connection was shutdown ({message})", errno)


class NotConnected(OSError):
    """ENOTCONN: not connected (e.g. broken watch)."""

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(f"RADOS not connected ({message})", errno)


class ExtendMismatch(Error):
    """A compare-extent mismatch; `offset` is the first differing byte."""

    def __init__(self, message: Any, errno: int, offset: int) -> None:
        super().__init__(f"object content does not match ({message})", errno)
        self.offset = offset


for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, Error):
        _cls.__module__ = "rados"
del _cls

errno_to_exception: dict[int, type[Error]] = {
    _errno.EPERM: PermissionError,
    _errno.ENOENT: ObjectNotFound,
    _errno.EIO: IOError,
    _errno.ENOSPC: NoSpace,
    _errno.EEXIST: ObjectExists,
    _errno.EBUSY: ObjectBusy,
    _errno.ENODATA: NoData,
    _errno.EINTR: InterruptedOrTimeoutError,
    _errno.ETIMEDOUT: TimedOut,
    _errno.EACCES: PermissionDeniedError,
    _errno.EINPROGRESS: InProgress,
    _errno.EISCONN: IsConnected,
    _errno.EINVAL: InvalidArgumentError,
    _errno.ENOTCONN: NotConnected,
    _errno.ESHUTDOWN: ConnectionShutdown,
}


def make_ex(ret: int, msg: str) -> Error:
    """The exception for librados return code `ret` (negative or positive errno)."""
    ret = abs(ret)
    cls = errno_to_exception.get(ret)
    if cls is not None:
        return cls(msg, errno=ret)
    if ret > MAX_ERRNO:
        return ExtendMismatch(msg, ret, ret - MAX_ERRNO)
    return OSError(msg, errno=ret)


def from_exception(exc: BaseException, msg: str) -> BaseException:
    """Translate an exception from the async core into the rados class for its errno."""
    from pyceph.common.errors import CephError

    if isinstance(exc, Error):
        return exc
    if isinstance(exc, CephError):
        return make_ex(exc.errno, msg)
    if isinstance(exc, TimeoutError):
        return make_ex(_errno.ETIMEDOUT, msg)
    if isinstance(exc, builtins.OSError) and exc.errno:
        return make_ex(exc.errno, msg)
    return exc
