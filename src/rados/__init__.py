"""Drop-in replacement of Ceph 16.2's `rados` Python binding, on pyceph's async client.

Same names, signatures, defaults, return types (bytes payloads, str names),
exceptions and state machine as upstream's librados binding; the I/O runs on a
background event-loop thread per `Rados` handle and asynchronous completions
call back on a finisher thread.
"""

from __future__ import annotations

from rados._completion import Completion
from rados._constants import (
    ADMIN_AUID,
    ANONYMOUS_AUID,
    LIBRADOS_ALL_NSPACES,
    LIBRADOS_CMPXATTR_OP_EQ,
    LIBRADOS_CMPXATTR_OP_GT,
    LIBRADOS_CMPXATTR_OP_GTE,
    LIBRADOS_CMPXATTR_OP_LT,
    LIBRADOS_CMPXATTR_OP_LTE,
    LIBRADOS_CMPXATTR_OP_NE,
    LIBRADOS_CREATE_EXCLUSIVE,
    LIBRADOS_CREATE_IDEMPOTENT,
    LIBRADOS_OP_FLAG_EXCL,
    LIBRADOS_OP_FLAG_FADVISE_DONTNEED,
    LIBRADOS_OP_FLAG_FADVISE_NOCACHE,
    LIBRADOS_OP_FLAG_FADVISE_RANDOM,
    LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL,
    LIBRADOS_OP_FLAG_FADVISE_WILLNEED,
    LIBRADOS_OP_FLAG_FAILOK,
    LIBRADOS_OPERATION_BALANCE_READS,
    LIBRADOS_OPERATION_IGNORE_CACHE,
    LIBRADOS_OPERATION_IGNORE_OVERLAY,
    LIBRADOS_OPERATION_LOCALIZE_READS,
    LIBRADOS_OPERATION_NOFLAG,
    LIBRADOS_OPERATION_ORDER_READS_WRITES,
    LIBRADOS_OPERATION_SKIPRWLOCKS,
    LIBRADOS_SNAP_HEAD,
    MAX_ERRNO,
    MONITOR_LEVELS,
)
from rados._errors import (
    ConnectionShutdown,
    Error,
    ExtendMismatch,
    InProgress,
    InterruptedOrTimeoutError,
    InvalidArgumentError,
    IoctxStateError,
    IOError,
    IsConnected,
    LogicError,
    NoData,
    NoSpace,
    NotConnected,
    ObjectBusy,
    ObjectExists,
    ObjectNotFound,
    ObjectStateError,
    OSError,
    PermissionDeniedError,
    PermissionError,
    RadosStateError,
    TimedOut,
    errno_to_exception,
    make_ex,
)
from rados._handle import MonitorLog, Rados, Version
from rados._ioctx import Ioctx, Watch
from rados._iterators import ObjectIterator, Snap, SnapIterator, XattrIterator
from rados._object import Object, set_object_locator, set_object_namespace
from rados._ops import OmapIterator, OpCtx, ReadOp, ReadOpCtx, WriteOp, WriteOpCtx
from rados._util import cstr, cstr_list, decode_cstr, flatten_dict

__all__ = [
    "ADMIN_AUID",
    "ANONYMOUS_AUID",
    "LIBRADOS_ALL_NSPACES",
    "LIBRADOS_CMPXATTR_OP_EQ",
    "LIBRADOS_CMPXATTR_OP_GT",
    "LIBRADOS_CMPXATTR_OP_GTE",
    "LIBRADOS_CMPXATTR_OP_LT",
    "LIBRADOS_CMPXATTR_OP_LTE",
    "LIBRADOS_CMPXATTR_OP_NE",
    "LIBRADOS_CREATE_EXCLUSIVE",
    "LIBRADOS_CREATE_IDEMPOTENT",
    "LIBRADOS_OPERATION_BALANCE_READS",
    "LIBRADOS_OPERATION_IGNORE_CACHE",
    "LIBRADOS_OPERATION_IGNORE_OVERLAY",
    "LIBRADOS_OPERATION_LOCALIZE_READS",
    "LIBRADOS_OPERATION_NOFLAG",
    "LIBRADOS_OPERATION_ORDER_READS_WRITES",
    "LIBRADOS_OPERATION_SKIPRWLOCKS",
    "LIBRADOS_OP_FLAG_EXCL",
    "LIBRADOS_OP_FLAG_FADVISE_DONTNEED",
    "LIBRADOS_OP_FLAG_FADVISE_NOCACHE",
    "LIBRADOS_OP_FLAG_FADVISE_RANDOM",
    "LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL",
    "LIBRADOS_OP_FLAG_FADVISE_WILLNEED",
    "LIBRADOS_OP_FLAG_FAILOK",
    "LIBRADOS_SNAP_HEAD",
    "MAX_ERRNO",
    "MONITOR_LEVELS",
    "Completion",
    "ConnectionShutdown",
    "Error",
    "ExtendMismatch",
    "IOError",
    "InProgress",
    "InterruptedOrTimeoutError",
    "InvalidArgumentError",
    "Ioctx",
    "IoctxStateError",
    "IsConnected",
    "LogicError",
    "MonitorLog",
    "NoData",
    "NoSpace",
    "NotConnected",
    "OSError",
    "Object",
    "ObjectBusy",
    "ObjectExists",
    "ObjectIterator",
    "ObjectNotFound",
    "ObjectStateError",
    "OmapIterator",
    "OpCtx",
    "PermissionDeniedError",
    "PermissionError",
    "Rados",
    "RadosStateError",
    "ReadOp",
    "ReadOpCtx",
    "Snap",
    "SnapIterator",
    "TimedOut",
    "Version",
    "Watch",
    "WriteOp",
    "WriteOpCtx",
    "XattrIterator",
    "cstr",
    "cstr_list",
    "decode_cstr",
    "errno_to_exception",
    "flatten_dict",
    "make_ex",
    "set_object_locator",
    "set_object_namespace",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        try:
            _obj.__module__ = "rados"
        except (AttributeError, TypeError):
            pass
del _name, _obj
