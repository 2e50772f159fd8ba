"""The one error type that crosses pyceph's layers: an errno and a message.

Daemons and the client core raise `CephError`; the drop-in facades (`rados`, `rbd`)
map its errno onto upstream's exception classes at the edge.
"""

from __future__ import annotations

import errno as _errno


class CephError(Exception):
    """An operation failed with a (positive) errno and a human message."""

    def __init__(self, err: int, message: str = "") -> None:
        assert err > 0, f"errno must be positive, got {err}"
        super().__init__(err, message)
        self.errno = err
        self.message = message

    def __str__(self) -> str:
        return self.message or _errno.errorcode.get(self.errno, str(self.errno))

    @property
    def ret(self) -> int:
        """The negative return code upstream's C API would give."""
        return -self.errno


def errno_name(err: int) -> str:
    """`ENOENT` for 2; the number as text for unknown values."""
    return _errno.errorcode.get(abs(err), str(abs(err)))
