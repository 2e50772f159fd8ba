"""`ObjectOp`: the typed builder of one compound object op (upstream ObjectOperation).

Each method appends one sub-op in the wire form of docs/protocol.md and returns its index,
so the caller reads that sub-op's output from the `OpResult` after `IoCtx.operate`. All
sub-ops of one `ObjectOp` apply atomically on the OSD (writes) or see one state (reads).
"""

from __future__ import annotations

from typing import Any

from pyceph.client.objecter import Op

#: CEPH_OSD_OP_FLAG_FAILOK: this sub-op may fail without failing the compound op.
OP_FLAG_FAILOK = 0x2
#: librados' CEPH_OSD_CMPXATTR_OP_* comparison codes used by `omap_cmp`.
CMP_EQ, CMP_NE, CMP_GT, CMP_GTE, CMP_LT, CMP_LTE = 1, 2, 3, 4, 5, 6


class ObjectOp:
    """A compound op under construction; `ops` is what the Objecter sends."""

    __slots__ = ("ops",)

    def __init__(self) -> None:
        self.ops: list[Op] = []

    def __len__(self) -> int:
        return len(self.ops)

    def _add(self, name: str, args: dict[str, Any] | None = None, data: bytes = b"") -> int:
        self.ops.append((name, args or {}, data))
        return len(self.ops) - 1

    def set_flags(self, flags: int) -> None:
        """Sub-op flags (FAILOK, fadvise hints) on the most recent sub-op."""
        assert self.ops, "set_flags needs a sub-op to apply to"
        self.ops[-1][1]["flags"] = flags

    def set_mtime(self, mtime: float) -> None:
        """The modification time the write records (seconds; 0 keeps the OSD's clock), as
        librados' `operate(..., mtime)`; applies to the sub-ops added so far."""
        if mtime:
            for _name, args, _data in self.ops:
                args["mtime"] = mtime

    # -- object lifetime ----------------------------------------------------------
    def create(self, exclusive: bool = False) -> int:
        return self._add("create", {"exclusive": exclusive})

    def remove(self) -> int:
        return self._add("delete")

    # -- data ---------------------------------------------------------------------
    def read(self, offset: int, length: int) -> int:
        return self._add("read", {"offset": offset, "length": length})

    def sparse_read(self, offset: int, length: int) -> int:
        """Out field `extents` ([[offset, length]] of allocated data, ascending); the data
        segment is those extents' bytes concatenated."""
        return self._add("sparse_read", {"offset": offset, "length": length})

    def write(self, offset: int, data: bytes) -> int:
        return self._add("write", {"offset": offset}, data)

    def write_full(self, data: bytes) -> int:
        return self._add("write_full", {}, data)

    def writesame(self, offset: int, length: int, data: bytes) -> int:
        return self._add("writesame", {"offset": offset, "length": length}, data)

    def append(self, data: bytes) -> int:
        return self._add("append", {}, data)

    def truncate(self, size: int) -> int:
        return self._add("truncate", {"size": size})

    def zero(self, offset: int, length: int) -> int:
        return self._add("zero", {"offset": offset, "length": length})

    def cmpext(self, offset: int, data: bytes) -> int:
        """Fails the op with -(MAX_ERRNO + i) at the first differing byte i."""
        return self._add("cmpext", {"offset": offset}, data)

    def stat(self) -> int:
        """Out fields: `size`, `mtime`."""
        return self._add("stat")

    def assert_version(self, ver: int) -> int:
        return self._add("assert_version", {"ver": ver})

    # -- attributes -----------------------------------------------------------------
    def getxattr(self, name: str) -> int:
        return self._add("getxattr", {"name": name})

    def getxattrs(self) -> int:
        """Out field `attrs`: {name: bytes}."""
        return self._add("getxattrs")

    def setxattr(self, name: str, value: bytes) -> int:
        return self._add("setxattr", {"name": name}, value)

    def rmxattr(self, name: str) -> int:
        return self._add("rmxattr", {"name": name})

    # -- omap -------------------------------------------------------------------------
    def omap_get_vals(self, start_after: str = "", filter_prefix: str = "",
                      max_return: int = 2**31 - 1) -> int:  # fmt: skip
        """Out fields `vals` ([[key, bytes]]) and `more`."""
        args = {"start_after": start_after, "filter_prefix": filter_prefix,
                "max_return": max_return}  # fmt: skip
        return self._add("omap_get_vals", args)

    def omap_get_keys(self, start_after: str = "", max_return: int = 2**31 - 1) -> int:
        return self._add("omap_get_keys", {"start_after": start_after, "max_return": max_return})

    def omap_get_vals_by_keys(self, keys: list[str]) -> int:
        return self._add("omap_get_vals_by_keys", {"keys": list(keys)})

    def omap_get_header(self) -> int:
        return self._add("omap_get_header")

    def omap_set(self, kv: dict[str, bytes]) -> int:
        return self._add("omap_set", {"kv": dict(kv)})

    def omap_set_header(self, data: bytes) -> int:
        return self._add("omap_set_header", {}, data)

    def omap_rm_keys(self, keys: list[str]) -> int:
        return self._add("omap_rm_keys", {"keys": list(keys)})

    def omap_clear(self) -> int:
        return self._add("omap_clear")

    def omap_rm_range(self, key_begin: str, key_end: str) -> int:
        return self._add("omap_rm_range", {"key_begin": key_begin, "key_end": key_end})

    def omap_cmp(self, key: str, val: bytes, op: int = CMP_EQ) -> int:
        return self._add("omap_cmp", {"key": key, "val": val, "op": op})

    # -- object classes, snapshots, watchers --------------------------------------------
    def call(self, cls: str, method: str, data: bytes = b"") -> int:
        """Run object-class method `cls.method`; its output is the sub-op's data."""
        return self._add("call", {"cls": cls, "method": method}, data)

    def rollback(self, snapid: int) -> int:
        return self._add("rollback", {"snapid": snapid})

    def list_snaps(self) -> int:
        """Out fields `seq` and `clones` ([{cloneid, snaps, size, overlap?}], head last)."""
        return self._add("list_snaps")

    def list_watchers(self) -> int:
        return self._add("list_watchers")

    def notify(self, data: bytes, timeout_ms: int) -> int:
        return self._add("notify", {"timeout_ms": timeout_ms}, data)

    # -- tmap (format-1 rbd_directory; pyceph.common.tmap) -------------------------------
    def tmap_get(self) -> int:
        """The object's data, a tmap encoding (CEPH_OSD_OP_TMAPGET)."""
        return self._add("tmapget")

    def tmap_put(self, data: bytes) -> int:
        """Replace the data with the tmap encoding `data` (CEPH_OSD_OP_TMAPPUT)."""
        return self._add("tmapput", {}, data)

    def tmap_update(self, commands: bytes) -> int:
        """Apply tmap update commands (CEPH_OSD_OP_TMAPUP; librados tmap_update)."""
        return self._add("tmapup", {}, commands)
