"""RBD image feature bits, their names and the sets upstream groups them into.

Upstream: `src/include/rbd/features.h` (bits and sets), `src/librbd/Features.cc`
(`rbd_features_to_string` / `rbd_features_from_string`: names sorted, numbers or
comma/space separated names accepted). Default features come from the
`rbd_default_features` option, which holds either form.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.cls.rbd_types import (  # noqa: F401 - include/rbd/features.h, defined once
    RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_DEEP_FLATTEN,
    RBD_FEATURE_DIRTY_CACHE,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURE_LAYERING,
    RBD_FEATURE_MIGRATING,
    RBD_FEATURE_NON_PRIMARY,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_OPERATIONS,
    RBD_FEATURE_STRIPINGV2,
    RBD_FEATURES_ALL,
    RBD_FEATURES_DISABLE_ONLY,
    RBD_FEATURES_INCOMPATIBLE,
    RBD_FEATURES_INTERNAL,
    RBD_FEATURES_MUTABLE,
    RBD_FEATURES_RW_INCOMPATIBLE,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_FLAG_OBJECT_MAP_INVALID,
    RBD_OPERATION_FEATURE_CLONE_CHILD,
    RBD_OPERATION_FEATURE_CLONE_PARENT,
    RBD_OPERATION_FEATURE_GROUP,
    RBD_OPERATION_FEATURE_SNAP_TRASH,
    RBD_OPERATION_FEATURES_ALL,
)
from pyceph.common.errors import CephError

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

RBD_FEATURES_DEFAULT = (
    RBD_FEATURE_LAYERING
    | RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_DEEP_FLATTEN
)
RBD_FEATURES_MUTABLE_INTERNAL = RBD_FEATURE_NON_PRIMARY | RBD_FEATURE_DIRTY_CACHE
RBD_FEATURES_SINGLE_CLIENT = (
    RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_JOURNALING
    | RBD_FEATURE_DIRTY_CACHE
)
RBD_FEATURES_IMPLICIT_ENABLE = (
    RBD_FEATURE_STRIPINGV2
    | RBD_FEATURE_DATA_POOL
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_OPERATIONS
    | RBD_FEATURE_MIGRATING
    | RBD_FEATURE_NON_PRIMARY
    | RBD_FEATURE_DIRTY_CACHE
)


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
