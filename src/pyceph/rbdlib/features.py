"""RBD image feature bits, their names and the sets upstream groups them into.

Upstream: `src/include/rbd/features.h` (bits and sets), `src/librbd/Features.cc`
(`rbd_features_to_string` / `rbd_features_from_string`: names sorted, numbers or
comma/space separated names accepted). Default features come from the
`rbd_default_features` option, which holds either form.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.common.errors import CephError

RBD_FEATURE_LAYERING = 1 << 0
RBD_FEATURE_STRIPINGV2 = 1 << 1
RBD_FEATURE_EXCLUSIVE_LOCK = 1 << 2
RBD_FEATURE_OBJECT_MAP = 1 << 3
RBD_FEATURE_FAST_DIFF = 1 << 4
RBD_FEATURE_DEEP_FLATTEN = 1 << 5
RBD_FEATURE_JOURNALING = 1 << 6
RBD_FEATURE_DATA_POOL = 1 << 7
RBD_FEATURE_OPERATIONS = 1 << 8
RBD_FEATURE_MIGRATING = 1 << 9
RBD_FEATURE_NON_PRIMARY = 1 << 10
RBD_FEATURE_DIRTY_CACHE = 1 << 11

FEATURE_NAMES: dict[int, str] = {
    RBD_FEATURE_LAYERING: "layering",
    RBD_FEATURE_STRIPINGV2: "striping",
    RBD_FEATURE_EXCLUSIVE_LOCK: "exclusive-lock",
    RBD_FEATURE_OBJECT_MAP: "object-map",
    RBD_FEATURE_FAST_DIFF: "fast-diff",
    RBD_FEATURE_DEEP_FLATTEN: "deep-flatten",
    RBD_FEATURE_JOURNALING: "journaling",
    RBD_FEATURE_DATA_POOL: "data-pool",
    RBD_FEATURE_OPERATIONS: "operations",
    RBD_FEATURE_MIGRATING: "migrating",
    RBD_FEATURE_NON_PRIMARY: "non-primary",
    RBD_FEATURE_DIRTY_CACHE: "dirty-cache",
}
FEATURES_BY_NAME: dict[str, int] = {v: k for k, v in FEATURE_NAMES.items()}

RBD_FEATURES_ALL = 4095
RBD_FEATURES_DEFAULT = (
    RBD_FEATURE_LAYERING
    | RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_DEEP_FLATTEN
)
#: Features a client must understand to open the image at all.
RBD_FEATURES_INCOMPATIBLE = (
    RBD_FEATURE_LAYERING | RBD_FEATURE_STRIPINGV2 | RBD_FEATURE_DATA_POOL | RBD_FEATURE_NON_PRIMARY
)
#: Features a client must understand to write the image.
RBD_FEATURES_RW_INCOMPATIBLE = (
    RBD_FEATURES_INCOMPATIBLE
    | RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_DEEP_FLATTEN
    | RBD_FEATURE_JOURNALING
    | RBD_FEATURE_OPERATIONS
    | RBD_FEATURE_MIGRATING
    | RBD_FEATURE_DIRTY_CACHE
)
#: Features update_features may turn on or off.
RBD_FEATURES_MUTABLE = (
    RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_JOURNALING
    | RBD_FEATURE_NON_PRIMARY
    | RBD_FEATURE_DIRTY_CACHE
)
RBD_FEATURES_MUTABLE_INTERNAL = RBD_FEATURE_NON_PRIMARY | RBD_FEATURE_DIRTY_CACHE
#: Features that can only be turned off.
RBD_FEATURES_DISABLE_ONLY = RBD_FEATURE_DEEP_FLATTEN
RBD_FEATURES_SINGLE_CLIENT = (
    RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_JOURNALING
    | RBD_FEATURE_DIRTY_CACHE
)
#: Features only librbd itself sets (create refuses them: EINVAL).
RBD_FEATURES_INTERNAL = RBD_FEATURE_OPERATIONS | RBD_FEATURE_MIGRATING
RBD_FEATURES_IMPLICIT_ENABLE = (
    RBD_FEATURE_STRIPINGV2
    | RBD_FEATURE_DATA_POOL
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_OPERATIONS
    | RBD_FEATURE_MIGRATING
    | RBD_FEATURE_NON_PRIMARY
    | RBD_FEATURE_DIRTY_CACHE
)

#: Op features (RBD_OPERATION_FEATURE_*), recorded while an operation needs them.
RBD_OPERATION_FEATURE_CLONE_PARENT = 1 << 0
RBD_OPERATION_FEATURE_CLONE_CHILD = 1 << 1
RBD_OPERATION_FEATURE_GROUP = 1 << 2
RBD_OPERATION_FEATURE_SNAP_TRASH = 1 << 3
RBD_OPERATION_FEATURES_ALL = 0xF

#: Image flags (RBD_FLAG_*).
RBD_FLAG_OBJECT_MAP_INVALID = 1 << 0
RBD_FLAG_FAST_DIFF_INVALID = 1 << 1


def features_to_string(features: int) -> str:
    """Names of the bits in `features`, sorted, comma separated; EINVAL on unknown bits."""
    if features & ~RBD_FEATURES_ALL:
        raise CephError(errno.EINVAL, f"unknown features {features:#x}")
    return ",".join(sorted(name for bit, name in FEATURE_NAMES.items() if features & bit))


def features_from_string(text: str) -> int:
    """A feature mask from a number or a list of names (comma or space separated);
    the empty string gives RBD_FEATURES_DEFAULT; EINVAL on an unknown name."""
    text = text.strip()
    if not text:
        return RBD_FEATURES_DEFAULT
    try:
        value = int(text, 0)
    except ValueError:
        value = 0
        for word in text.replace(",", " ").split():
            bit = FEATURES_BY_NAME.get(word)
            if bit is None:
                raise CephError(errno.EINVAL, f"ignoring unknown feature: {word}") from None
            value |= bit
    else:
        if value < 0 or value & ~RBD_FEATURES_ALL:
            raise CephError(errno.EINVAL, f"unknown features {text}")
    return value


def default_features(config: Any) -> int:
    """The `rbd_default_features` option as a mask."""
    return features_from_string(str(config.get("rbd_default_features")))
