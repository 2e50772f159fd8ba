"""Store errors: one exception type carrying an upstream errno, so the OSD can map
store failures to client-visible results exactly as upstream does."""

from __future__ import annotations

import errno as _errno
import os


class StoreError(Exception):
    """An ObjectStore failure with a (positive) errno such as ENOENT or ENOSPC."""

    def __init__(self, errno: int, msg: str = "") -> None:
        self.errno = errno
        self.msg = msg or os.strerror(errno)
        super().__init__(errno, self.msg)

    @property
    def name(self) -> str:
        """Symbolic errno name, e.g. ``"ENOENT"``."""
        return _errno.errorcode.get(self.errno, str(self.errno))

    def __str__(self) -> str:
        return f"[{self.name}] {self.msg}"
