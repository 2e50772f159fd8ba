"""Test helpers (not used by the OSD): an in-memory `ObjectState` and an `osd_exec` that
applies the OSD-level rules around a CALL op, so class tests read like upstream's."""

from __future__ import annotations

import errno
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from pyceph.cls.context import RD, WR, CallEnv, Origin
from pyceph.cls.registry import call, lookup, write_reply


@dataclass
class MemObject:
    """One object held in memory; implements `ObjectState` (reads see its own writes)."""

    present: bool = False
    data: bytearray = field(default_factory=bytearray)
    mtime: float = 0.0
    xattrs: dict[str, bytes] = field(default_factory=dict)
    omap: dict[str, bytes] = field(default_factory=dict)
    header: bytes = b""
    log: list[tuple] = field(default_factory=list)  #: every mutation received, in order

    # ObjectReader
    def exists(self) -> bool:
        return self.present

    def stat(self) -> tuple[int, float]:
        return len(self.data), self.mtime

    def read(self, offset: int, length: int | None) -> bytes:
        end = len(self.data) if length is None else offset + length
        return bytes(self.data[offset:end])

    def getxattr(self, name: str) -> bytes | None:
        return self.xattrs.get(name)

    def getxattrs(self) -> dict[str, bytes]:
        return dict(self.xattrs)

    def omap_get_header(self) -> bytes:
        return self.header

    def omap_get_values(
        self, start_after: str | None, prefix: str | None, max_return: int | None
    ) -> list[tuple[str, bytes]]:
        items = [
            (k, v)
            for k, v in sorted(self.omap.items())
            if (start_after is None or k > start_after) and (not prefix or k.startswith(prefix))
        ]
        return items if max_return is None else items[:max_return]

    def omap_get_values_by_keys(self, keys: Iterable[str]) -> dict[str, bytes]:
        return {k: self.omap[k] for k in keys if k in self.omap}

    # ObjectWriter
    def _touch(self, *entry: object) -> None:
        self.log.append(entry)
        self.present = True

    def create(self) -> None:
        self._touch("create")

    def write(self, offset: int, data: bytes) -> None:
        self._touch("write", offset, data)
        if len(self.data) < offset:
            self.data.extend(bytes(offset - len(self.data)))
        self.data[offset : offset + len(data)] = data

    def write_full(self, data: bytes) -> None:
        self._touch("write_full", data)
        self.data = bytearray(data)

    def truncate(self, size: int) -> None:
        assert self.present, "truncate of a missing object"
        self.log.append(("truncate", size))
        if size < len(self.data):
            del self.data[size:]
        else:
            self.data.extend(bytes(size - len(self.data)))

    def zero(self, offset: int, length: int) -> None:
        assert self.present and offset + length <= len(self.data), "zero out of range"
        self.log.append(("zero", offset, length))
        self.data[offset : offset + length] = bytes(length)

    def remove(self) -> None:
        assert self.present, "remove of a missing object"
        self.log.append(("remove",))
        self.present = False
        self.data = bytearray()
        self.xattrs = {}
        self.omap = {}
        self.header = b""

    def setxattr(self, name: str, value: bytes) -> None:
        self._touch("setxattr", name, value)
        self.xattrs[name] = bytes(value)

    def rmxattr(self, name: str) -> None:
        assert self.present, "rmxattr of a missing object"
        self.log.append(("rmxattr", name))
        self.xattrs.pop(name, None)

    def omap_set(self, kv: Mapping[str, bytes]) -> None:
        self._touch("omap_set", dict(kv))
        self.omap.update(kv)

    def omap_rm(self, keys: list[str]) -> None:
        assert self.present, "omap_rm of a missing object"
        self.log.append(("omap_rm", list(keys)))
        for k in keys:
            self.omap.pop(k, None)

    def omap_rm_range(self, first: str, last: str) -> None:
        assert self.present, "omap_rm_range of a missing object"
        self.log.append(("omap_rm_range", first, last))
        for k in [k for k in self.omap if first <= k < last]:
            del self.omap[k]

    def omap_clear(self) -> None:
        assert self.present, "omap_clear of a missing object"
        self.log.append(("omap_clear",))
        self.omap = {}
        self.header = b""

    def omap_set_header(self, header: bytes) -> None:
        self._touch("omap_set_header", header)
        self.header = bytes(header)


def make_env(
    name: str = "client.4123",
    addr: str = "127.0.0.1:0/3012345",
    now: float = 1_700_000_000.0,
    seed: int = 1,
    **kw: object,
) -> CallEnv:
    """A `CallEnv` for one client at time `now`, with seeded randomness."""
    rng = random.Random(seed)
    return CallEnv(origin=Origin(name, addr), now=now, random_bytes=rng.randbytes, **kw)  # type: ignore[arg-type]


def as_client(env: CallEnv, name: str, addr: str = "") -> CallEnv:
    """The same env for another client."""
    return replace(env, origin=Origin(name, addr or env.origin.addr))


def at(env: CallEnv, now: float) -> CallEnv:
    """The same env at another time."""
    return replace(env, now=now)


def osd_exec(
    obj: MemObject,
    env: CallEnv,
    cls_name: str,
    method: str,
    indata: bytes = b"",
    returnvec: bool = False,
) -> tuple[int, bytes]:
    """A one-op vector [CALL] as the OSD runs it: a read-only method on a missing object is
    -ENOENT before it runs; a successful write that changed the object reports per
    `write_reply`; anything else (reads, errors, no-op writes) returns (ret, out) as is."""
    m = lookup(cls_name, method)
    if m is None:
        return -errno.EOPNOTSUPP, b""
    is_write = bool(m.flags & WR)
    if not is_write and not obj.exists():
        return -errno.ENOENT, b""
    before = len(obj.log)
    ret, out = call(obj, env, cls_name, method, indata)
    if is_write and ret >= 0 and len(obj.log) > before:
        return write_reply(ret, out, returnvec)
    return ret, out  # reads, errors and writes that changed nothing reply like reads


__all__ = ["RD", "WR", "MemObject", "as_client", "at", "make_env", "osd_exec"]
