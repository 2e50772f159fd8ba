"""rbd module constants and exceptions: the value and type of every public
constant, the exception classes (bases, relation to the builtins and to
rbd.Error/rbd.OSError, construction with and without errno, str, errno
attribute), the two errno maps seen through real calls (image vs group
operations), and version()."""

CONSTANTS = [
    "ECANCELED",
    "MIRROR_IMAGE_STATUS_STATE_ERROR",
    "MIRROR_IMAGE_STATUS_STATE_REPLAYING",
    "MIRROR_IMAGE_STATUS_STATE_STARTING_REPLAY",
    "MIRROR_IMAGE_STATUS_STATE_STOPPED",
    "MIRROR_IMAGE_STATUS_STATE_STOPPING_REPLAY",
    "MIRROR_IMAGE_STATUS_STATE_SYNCING",
    "MIRROR_IMAGE_STATUS_STATE_UNKNOWN",
    "RBD_CONFIG_SOURCE_CONFIG",
    "RBD_CONFIG_SOURCE_IMAGE",
    "RBD_CONFIG_SOURCE_POOL",
    "RBD_ENCRYPTION_ALGORITHM_AES128",
    "RBD_ENCRYPTION_ALGORITHM_AES256",
    "RBD_ENCRYPTION_FORMAT_LUKS1",
    "RBD_ENCRYPTION_FORMAT_LUKS2",
    "RBD_FEATURES_ALL",
    "RBD_FEATURES_INCOMPATIBLE",
    "RBD_FEATURES_MUTABLE",
    "RBD_FEATURES_RW_INCOMPATIBLE",
    "RBD_FEATURES_SINGLE_CLIENT",
    "RBD_FEATURE_DATA_POOL",
    "RBD_FEATURE_DEEP_FLATTEN",
    "RBD_FEATURE_EXCLUSIVE_LOCK",
    "RBD_FEATURE_FAST_DIFF",
    "RBD_FEATURE_JOURNALING",
    "RBD_FEATURE_LAYERING",
    "RBD_FEATURE_MIGRATING",
    "RBD_FEATURE_NON_PRIMARY",
    "RBD_FEATURE_OBJECT_MAP",
    "RBD_FEATURE_OPERATIONS",
    "RBD_FEATURE_STRIPINGV2",
    "RBD_FLAG_FAST_DIFF_INVALID",
    "RBD_FLAG_OBJECT_MAP_INVALID",
    "RBD_GROUP_IMAGE_STATE_ATTACHED",
    "RBD_GROUP_IMAGE_STATE_INCOMPLETE",
    "RBD_GROUP_SNAP_STATE_COMPLETE",
    "RBD_GROUP_SNAP_STATE_INCOMPLETE",
    "RBD_IMAGE_MIGRATION_STATE_ABORTING",
    "RBD_IMAGE_MIGRATION_STATE_ERROR",
    "RBD_IMAGE_MIGRATION_STATE_EXECUTED",
    "RBD_IMAGE_MIGRATION_STATE_EXECUTING",
    "RBD_IMAGE_MIGRATION_STATE_PREPARED",
    "RBD_IMAGE_MIGRATION_STATE_PREPARING",
    "RBD_IMAGE_MIGRATION_STATE_UNKNOWN",
    "RBD_IMAGE_OPTION_DATA_POOL",
    "RBD_IMAGE_OPTION_FEATURES",
    "RBD_IMAGE_OPTION_FORMAT",
    "RBD_IMAGE_OPTION_ORDER",
    "RBD_IMAGE_OPTION_STRIPE_COUNT",
    "RBD_IMAGE_OPTION_STRIPE_UNIT",
    "RBD_LOCK_MODE_EXCLUSIVE",
    "RBD_LOCK_MODE_SHARED",
    "RBD_MIRROR_IMAGE_DISABLED",
    "RBD_MIRROR_IMAGE_DISABLING",
    "RBD_MIRROR_IMAGE_ENABLED",
    "RBD_MIRROR_IMAGE_MODE_JOURNAL",
    "RBD_MIRROR_IMAGE_MODE_SNAPSHOT",
    "RBD_MIRROR_MODE_DISABLED",
    "RBD_MIRROR_MODE_IMAGE",
    "RBD_MIRROR_MODE_POOL",
    "RBD_MIRROR_PEER_ATTRIBUTE_NAME_KEY",
    "RBD_MIRROR_PEER_ATTRIBUTE_NAME_MON_HOST",
    "RBD_MIRROR_PEER_DIRECTION_RX",
    "RBD_MIRROR_PEER_DIRECTION_RX_TX",
    "RBD_MIRROR_PEER_DIRECTION_TX",
    "RBD_OPERATION_FEATURE_CLONE_CHILD",
    "RBD_OPERATION_FEATURE_CLONE_PARENT",
    "RBD_OPERATION_FEATURE_GROUP",
    "RBD_OPERATION_FEATURE_SNAP_TRASH",
    "RBD_POOL_STAT_OPTION_IMAGES",
    "RBD_POOL_STAT_OPTION_IMAGE_MAX_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_IMAGE_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_IMAGE_SNAPSHOTS",
    "RBD_POOL_STAT_OPTION_TRASH_IMAGES",
    "RBD_POOL_STAT_OPTION_TRASH_MAX_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_TRASH_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_TRASH_SNAPSHOTS",
    "RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR",
    "RBD_SNAP_CREATE_SKIP_QUIESCE",
    "RBD_SNAP_MIRROR_STATE_NON_PRIMARY",
    "RBD_SNAP_MIRROR_STATE_NON_PRIMARY_DEMOTED",
    "RBD_SNAP_MIRROR_STATE_PRIMARY",
    "RBD_SNAP_MIRROR_STATE_PRIMARY_DEMOTED",
    "RBD_SNAP_NAMESPACE_TYPE_GROUP",
    "RBD_SNAP_NAMESPACE_TYPE_MIRROR",
    "RBD_SNAP_NAMESPACE_TYPE_TRASH",
    "RBD_SNAP_NAMESPACE_TYPE_USER",
    "RBD_SNAP_REMOVE_FLATTEN",
    "RBD_SNAP_REMOVE_FORCE",
    "RBD_SNAP_REMOVE_UNPROTECT",
    "RBD_WRITE_ZEROES_FLAG_THICK_PROVISION",
]

EXCEPTIONS = [
    "ArgumentOutOfRange",
    "ConnectionShutdown",
    "DiskQuotaExceeded",
    "Error",
    "FunctionNotSupported",
    "IOError",
    "ImageBusy",
    "ImageExists",
    "ImageHasSnapshots",
    "ImageNotFound",
    "IncompleteWriteError",
    "InvalidArgument",
    "LogicError",
    "NoSpace",
    "OSError",
    "ObjectExists",
    "ObjectNotFound",
    "OperationCanceled",
    "OperationNotSupported",
    "PermissionError",
    "ReadOnlyImage",
    "Timeout",
]

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    for name in CONSTANTS:
        s.step("const_" + name, lambda name=name: getattr(rbd, name))
    s.step("version", lambda: rbd.RBD().version())
    for name in EXCEPTIONS:
        s.step("exc_class_" + name, lambda name=name: describe(rbd, getattr(rbd, name)))
    for name in EXCEPTIONS:
        if name in ("Error",):
            continue
        s.step("exc_str_" + name, lambda name=name: instance(getattr(rbd, name)))
        s.step("exc_errno_" + name, lambda name=name: instance(getattr(rbd, name), errno=22))
    s.step("error_plain", lambda: (str(rbd.Error("m")), getattr(rbd.Error("m"), "errno", "-")))
    s.step("oserror_kw", lambda: instance(rbd.OSError, errno=125))
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R = rbd.RBD()
    R.create(io, "img", MiB)
    R.group_create(io, "g")

    def exc_of(fn):
        try:
            fn()
        except Exception as e:
            return type(e).__name__, getattr(e, "errno", None), isinstance(e, rbd.Error)
        return None

    s.step("enoent_image", lambda: exc_of(lambda: rbd.Image(io, "nope")))
    s.step(
        "enoent_group",
        lambda: exc_of(lambda: R.group_remove(io, "nope") or R.group_rename(io, "nope", "x")),
    )
    s.step("eexist_image", lambda: exc_of(lambda: R.create(io, "img", MiB)))
    s.step("eexist_group", lambda: exc_of(lambda: R.group_create(io, "g")))
    s.step(
        "group_add_missing_image", lambda: exc_of(lambda: rbd.Group(io, "g").add_image(io, "nope"))
    )
    s.step("not_builtin_oserror", lambda: exc_of(lambda: R.remove(io, "nope"))[0])

    def catch_builtin():
        try:
            R.remove(io, "nope")
        except OSError:
            return "builtin OSError"
        except rbd.OSError:
            return "rbd.OSError"

    s.step("caught_as", catch_builtin)


def describe(rbd, cls):
    import builtins

    return {
        "bases": [b.__name__ for b in cls.__bases__],
        "is_rbd_error": issubclass(cls, rbd.Error),
        "is_rbd_oserror": issubclass(cls, rbd.OSError),
        "is_builtin_oserror": issubclass(cls, builtins.OSError),
        "module": cls.__module__,
    }


def instance(cls, **kw):
    e = cls("MSG", **kw) if kw else cls("MSG")
    return str(e), getattr(e, "errno", "-"), e.args
