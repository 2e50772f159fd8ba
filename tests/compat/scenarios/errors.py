"""Errors and exceptions: the class hierarchy (not the builtins), errno mapping as seen
through real failures, str(e) format, explicit construction, ExtendMismatch offset,
state errors without errno, pickling, module constants."""

import builtins
import pickle

import rados

EXCEPTIONS = [
    "ConnectionShutdown",
    "Error",
    "ExtendMismatch",
    "IOError",
    "InProgress",
    "InterruptedOrTimeoutError",
    "InvalidArgumentError",
    "IoctxStateError",
    "IsConnected",
    "LogicError",
    "NoData",
    "NoSpace",
    "NotConnected",
    "OSError",
    "ObjectBusy",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStateError",
    "PermissionDeniedError",
    "PermissionError",
    "RadosStateError",
    "TimedOut",
]

CONSTANTS = [
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
]


def run(s):
    for name in EXCEPTIONS:
        s.step(f"class_{name}", lambda name=name: _describe(getattr(rados, name)))
    for name in CONSTANTS:
        s.step(f"const_{name}", lambda name=name: getattr(rados, name))
    s.step(
        "other_public_names",
        lambda: sorted(
            n
            for n in (
                "Rados",
                "Ioctx",
                "Object",
                "Completion",
                "Watch",
                "WriteOp",
                "ReadOp",
                "WriteOpCtx",
                "ReadOpCtx",
                "OpCtx",
                "Snap",
                "Version",
                "ObjectIterator",
                "XattrIterator",
                "OmapIterator",
                "SnapIterator",
                "MonitorLog",
            )
            if not hasattr(rados, n)
        ),
    )

    r = s.cluster()
    io = r.open_ioctx(s.make_pool())

    def caught(fn):
        try:
            fn()
        except rados.Error as e:
            return {
                "cls": type(e).__name__,
                "errno": e.errno,
                "str": str(e),
                "args0": e.args[0] if e.args else None,
                "is_builtin_oserror": isinstance(e, builtins.OSError),
            }
        return None

    s.step("read_missing_str", lambda: caught(lambda: io.read("missing-obj")))
    s.step("stat_missing_str", lambda: caught(lambda: io.stat("missing-obj")))
    s.step("remove_missing_str", lambda: caught(lambda: io.remove_object("missing-obj")))
    s.step(
        "get_xattr_nodata_str",
        lambda: (io.write_full("o", b""), caught(lambda: io.get_xattr("o", "nope")))[1],
    )
    s.step("conf_set_str", lambda: caught(lambda: r.conf_set("no_such_option_xyz", "1")))
    s.step("exclusive_create_str", lambda: caught(lambda: _excl(io)))
    s.step("omap_cmp_ecanceled", lambda: caught(lambda: _cmp_fail(io)))
    s.step("cmpext_op_mismatch", lambda: caught(lambda: _cmpext_fail(io)))
    s.step("cmpext_op_mismatch_offset", lambda: _extend_offset(io))
    s.step("ioctx_state_error", lambda: caught(lambda: _closed(r, io)))
    s.step("rados_state_error", lambda: caught(lambda: rados.Rados().get_fsid()))

    s.step("construct_ObjectNotFound", lambda: _info(rados.ObjectNotFound("some message", errno=2)))
    s.step("construct_ObjectNotFound_no_errno", lambda: _info(rados.ObjectNotFound("m")))
    s.step("construct_OSError_errno", lambda: _info(rados.OSError("m", errno=125)))
    s.step("construct_Error", lambda: _info(rados.Error("plain")))
    s.step(
        "construct_ExtendMismatch",
        lambda: (lambda e: (_info(e), e.offset))(rados.ExtendMismatch("m", 4097, 2)),
    )
    s.step("construct_RadosStateError", lambda: _info(rados.RadosStateError("m")))
    s.step("pickle_exception", lambda: pickle.dumps(rados.ObjectNotFound("m", errno=2)))
    s.step("catch_as_builtin_oserror", lambda: _catch_builtin(io))


def _describe(cls):
    return {
        "bases": [b.__name__ for b in cls.__bases__],
        "mro": [c.__name__ for c in cls.__mro__],
        "rados_error": issubclass(cls, rados.Error),
        "builtin_oserror": issubclass(cls, builtins.OSError),
    }


def _info(e):
    return {"errno": e.errno, "str": str(e), "args": list(e.args)}


def _excl(io):
    io.write_full("x", b"")
    with rados.WriteOpCtx() as op:
        op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
        io.operate_write_op(op, "x")


def _cmp_fail(io):
    with rados.WriteOpCtx() as op:
        io.set_omap(op, ("k",), (b"1",))
        io.operate_write_op(op, "x")
    with rados.WriteOpCtx() as op:
        op.omap_cmp("k", "2")
        io.operate_write_op(op, "x")


def _cmpext_fail(io):
    io.write_full("c", b"abcdef")
    with rados.WriteOpCtx() as op:
        op.cmpext(b"abX", 0)
        io.operate_write_op(op, "c")


def _extend_offset(io):
    io.write_full("c", b"abcdef")
    try:
        with rados.WriteOpCtx() as op:
            op.cmpext(b"abcdXf", 0)
            io.operate_write_op(op, "c")
    except rados.ExtendMismatch as e:
        return (e.errno, e.offset)
    return None


def _closed(r, io):
    io2 = r.open_ioctx(io.get_pool_name())
    io2.close()
    io2.read("o")


def _catch_builtin(io):
    try:
        io.read("missing-obj")
    except builtins.OSError:
        return "builtin OSError"
    except rados.OSError:
        return "rados.OSError"
