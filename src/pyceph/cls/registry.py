"""The object-class registry and the one entry point the OSD calls (upstream ClassHandler +
the CEPH_OSD_OP_CALL case of PrimaryLogPG::do_osd_ops).

Classes are the public modules of the `pyceph.cls` package; each registers its methods with
the `register` decorator when imported. `load_classes` imports them all on first use, so a
new class (e.g. ``rbd``) is a new module and nothing else.
"""

from __future__ import annotations

import errno
import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from pyceph.cls.context import (
    PROMOTE,
    PUBLIC,
    RD,
    WR,
    CallEnv,
    ClsError,
    MethodContext,
    ObjectState,
)
from pyceph.store.errors import StoreError

log = logging.getLogger("pyceph.cls")

__all__ = [
    "MAX_INPUT_LEN",
    "MAX_OUTPUT_LEN",
    "MAX_WRITE_REPLY_LEN",
    "PROMOTE",
    "PUBLIC",
    "RD",
    "WR",
    "ClassRegistry",
    "Method",
    "call",
    "load_classes",
    "lookup",
    "method_flags",
    "register",
    "write_reply",
]

#: Largest method input accepted (-E2BIG above it): room for an RBD copyup of the largest
#: RBD object (32 MiB, order 25) plus its encoding, and below osd_max_write_size (90 MiB).
MAX_INPUT_LEN = 64 << 20
#: Largest method output returned (-EOVERFLOW above it, writes discarded).
MAX_OUTPUT_LEN = 64 << 20
#: osd_max_write_op_reply_len: largest per-op output a *write* op may return with RETURNVEC.
MAX_WRITE_REPLY_LEN = 64

#: What a method returns: None (0, no data), bytes (0, data), int (ret) or (ret, data).
MethodResult = Union[None, bytes, int, tuple[int, bytes]]  # noqa: UP007
MethodFn = Callable[[MethodContext, bytes], MethodResult]

#: Framework modules of the package, never loaded as classes.
_FRAMEWORK = frozenset({"context", "registry", "testing"})


@dataclass(frozen=True)
class Method:
    """One registered class method."""

    cls: str
    name: str
    flags: int
    fn: MethodFn


class ClassRegistry:
    """Classes by name, each a table of methods (upstream ClassHandler::ClassData)."""

    def __init__(self) -> None:
        self.classes: dict[str, dict[str, Method]] = {}

    def register(
        self, cls_name: str, method_name: str, flags: int
    ) -> Callable[[MethodFn], MethodFn]:
        """Decorator registering `fn` as `cls_name.method_name` with CLS_METHOD_* `flags`."""
        if not flags & (RD | WR):
            raise ValueError(f"{cls_name}.{method_name}: flags must include RD or WR")
        if flags & ~(RD | WR | PUBLIC | PROMOTE):
            raise ValueError(f"{cls_name}.{method_name}: unknown flags {flags:#x}")

        def deco(fn: MethodFn) -> MethodFn:
            table = self.classes.setdefault(cls_name, {})
            old = table.get(method_name)
            if old is not None and old.fn is not fn:
                raise ValueError(f"{cls_name}.{method_name} is already registered")
            table[method_name] = Method(cls_name, method_name, flags, fn)
            return fn

        return deco

    def lookup(self, cls_name: str, method_name: str) -> Method | None:
        """The method, or None when the class or the method is unknown."""
        return self.classes.get(cls_name, {}).get(method_name)

    def call(
        self,
        obj: ObjectState,
        env: CallEnv,
        cls_name: str,
        method_name: str,
        indata: bytes | memoryview,
    ) -> tuple[int, bytes]:
        """Run one method against `obj`; returns (ret, outdata) with upstream's codes.

        Unknown class or method: -EOPNOTSUPP. Input over MAX_INPUT_LEN: -E2BIG. A method that
        reads without RD or writes without WR: -EIO. Output over MAX_OUTPUT_LEN: -EOVERFLOW.
        The method's writes reach `obj` only when ret >= 0; a negative ret leaves `obj`
        untouched and still returns the method's output (upstream returns it on error).
        """
        m = self.lookup(cls_name, method_name)
        if m is None:
            return -errno.EOPNOTSUPP, b""
        if len(indata) > MAX_INPUT_LEN:
            return -errno.E2BIG, b""
        ctx = MethodContext(obj, env, m.flags)
        try:
            ret, out = _normalize(m.fn(ctx, bytes(indata)))
        except ClsError as e:
            ret, out = -e.errno, bytes(e.out)
        except StoreError as e:
            ret, out = -e.errno, b""
        except Exception:
            log.exception("cls %s.%s raised", cls_name, method_name)
            ret, out = -errno.EIO, b""
        if ctx.num_read and not m.flags & RD:
            log.error("cls %s.%s tried to read object but is not marked RD", cls_name, method_name)
            ret, out = -errno.EIO, b""
        if ctx.num_write and not m.flags & WR:
            log.error(
                "cls %s.%s tried to update object but is not marked WR", cls_name, method_name
            )
            ret, out = -errno.EIO, b""
        if len(out) > MAX_OUTPUT_LEN:
            ret, out = -errno.EOVERFLOW, b""
        if ret < 0:
            ctx.discard()
            return ret, out
        try:
            ctx.commit()
        except (ClsError, StoreError) as e:
            return -e.errno, b""
        return ret, out


def _normalize(r: MethodResult) -> tuple[int, bytes]:
    if r is None:
        return 0, b""
    if isinstance(r, bytes | bytearray | memoryview):
        return 0, bytes(r)
    if isinstance(r, int):
        return r, b""
    ret, out = r
    return int(ret), bytes(out)


#: The OSD's registry: every class module of this package registers here.
REGISTRY = ClassRegistry()
_loaded = False


def register(
    cls_name: str, method_name: str | None = None, flags: int = RD
) -> Callable[[MethodFn], MethodFn]:
    """Decorator: register a method of class `cls_name` (named after the function by default)."""

    def deco(fn: MethodFn) -> MethodFn:
        return REGISTRY.register(cls_name, method_name or fn.__name__, flags)(fn)

    return deco


def load_classes() -> list[str]:
    """Import every class module of `pyceph.cls` (idempotent); returns the class names."""
    global _loaded
    if not _loaded:
        import pyceph.cls as pkg

        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("_") or info.name in _FRAMEWORK:
                continue
            importlib.import_module(f"{pkg.__name__}.{info.name}")
        _loaded = True
    return sorted(REGISTRY.classes)


def lookup(cls_name: str, method_name: str) -> Method | None:
    """The registered method, or None (unknown class or method)."""
    load_classes()
    return REGISTRY.lookup(cls_name, method_name)


def method_flags(cls_name: str, method_name: str) -> int | None:
    """CLS_METHOD_* flags of a method (the OSD's read/write classification), None if unknown."""
    m = lookup(cls_name, method_name)
    return None if m is None else m.flags


def call(
    obj: ObjectState, env: CallEnv, cls_name: str, method_name: str, indata: bytes | memoryview
) -> tuple[int, bytes]:
    """Run `cls_name.method_name` on the OSD's object view: see `ClassRegistry.call`."""
    load_classes()
    return REGISTRY.call(obj, env, cls_name, method_name, indata)


def write_reply(ret: int, out: bytes, returnvec: bool) -> tuple[int, bytes]:
    """What a *successful write* op vector reports for one CALL (upstream execute_ctx).

    Without RETURNVEC the client sees 0 and no data (writes are not logged with their
    results, so a resent op must look the same); with it, the method's ret and data, unless
    the data exceeds MAX_WRITE_REPLY_LEN, which turns the whole op into -EOVERFLOW.
    """
    if ret < 0:
        return ret, out
    if not returnvec:
        return 0, b""
    if len(out) > MAX_WRITE_REPLY_LEN:
        return -errno.EOVERFLOW, b""
    return ret, out
