"""Object classes: methods run on the OSD inside an op's transaction (`Ioctx.execute`).

The OSD calls `call(obj, env, cls, method, indata) -> (ret, outdata)` with an `ObjectState`
for the target object and a `CallEnv`; see `pyceph.cls.context` and `pyceph.cls.registry`.
"""

from pyceph.cls.context import (
    PROMOTE,
    PUBLIC,
    RD,
    WR,
    CallEnv,
    ClsError,
    MethodContext,
    ObjectOverlay,
    ObjectReader,
    ObjectState,
    ObjectWriter,
    Origin,
    StoreReader,
    TransactionWriter,
)
from pyceph.cls.registry import (
    MAX_INPUT_LEN,
    MAX_OUTPUT_LEN,
    MAX_WRITE_REPLY_LEN,
    Method,
    call,
    load_classes,
    lookup,
    method_flags,
    register,
    write_reply,
)

__all__ = [
    "MAX_INPUT_LEN",
    "MAX_OUTPUT_LEN",
    "MAX_WRITE_REPLY_LEN",
    "PROMOTE",
    "PUBLIC",
    "RD",
    "WR",
    "CallEnv",
    "ClsError",
    "Method",
    "MethodContext",
    "ObjectOverlay",
    "ObjectReader",
    "ObjectState",
    "ObjectWriter",
    "Origin",
    "StoreReader",
    "TransactionWriter",
    "call",
    "load_classes",
    "lookup",
    "method_flags",
    "register",
    "write_reply",
]
