"""update_features (librbd operation::EnableFeaturesRequest / DisableFeaturesRequest).

Only the mutable features change (EINVAL otherwise; deep-flatten can only be turned
off). As Operations::update_features, object-map and fast-diff go together: enabling
either one the image lacks its partner for enables both, disabling object-map while
fast-diff is on disables both; then the request must name at least one feature, none
already enabled (or, to disable, none already disabled) — EINVAL otherwise. object-map
and journaling need exclusive-lock (EINVAL). Turning object-map on creates the object
map and flags it invalid until it is rebuilt, as upstream does.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from pyceph.cls.rbd_types import OBJECT_NONEXISTENT
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib._util import ignore_enoent
from pyceph.rbdlib.features import (
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURES_ALL,
    RBD_FEATURES_DISABLE_ONLY,
    RBD_FEATURES_MUTABLE,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_FLAG_OBJECT_MAP_INVALID,
)
from pyceph.rbdlib.layout import CEPH_NOSNAP, object_map_name

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image


async def update_features(img: Image, features: int, enabled: bool) -> None:
    await img.refresh_if_required()
    if img.read_only or img.snap_id != CEPH_NOSNAP:
        raise CephError(errno.EROFS, "image is read-only")
    if img.old_format():  # Operations::update_features
        raise CephError(errno.EINVAL, "old-format images do not support features")
    if features & ~RBD_FEATURES_ALL:
        raise CephError(errno.EINVAL, "unknown features")
    allowed = RBD_FEATURES_MUTABLE | (0 if enabled else RBD_FEATURES_DISABLE_ONLY)
    if features & ~allowed:
        raise CephError(errno.EINVAL, "cannot update immutable features")
    current = img.state.features
    features = _with_partner(features, current, enabled)
    if not features:
        raise CephError(errno.EINVAL, "update requires at least one feature")
    if enabled and features & current:
        raise CephError(errno.EINVAL, "one or more requested features are already enabled")
    if not enabled and features & ~current:
        raise CephError(errno.EINVAL, "one or more requested features are already disabled")
    if enabled:
        new = current | features
        if new & RBD_FEATURE_OBJECT_MAP and not new & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "cannot enable object-map without exclusive-lock")
        if new & RBD_FEATURE_JOURNALING and not new & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "cannot enable journaling without exclusive-lock")
        if features & RBD_FEATURE_OBJECT_MAP:
            await cls_client.object_map_resize(img.ioctx, object_map_name(img.id),
                                               img.layout.num_objects(img.state.size),
                                               OBJECT_NONEXISTENT)  # fmt: skip
        flags = (RBD_FLAG_OBJECT_MAP_INVALID if features & RBD_FEATURE_OBJECT_MAP else 0) | (
            RBD_FLAG_FAST_DIFF_INVALID if features & RBD_FEATURE_FAST_DIFF else 0
        )
        if flags:
            await cls_client.set_flags(img.ioctx, img.header_oid, CEPH_NOSNAP, flags, flags)
        await cls_client.set_features(img.ioctx, img.header_oid, features, features)
    else:
        dependants = current & (RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_JOURNALING) & ~features
        if features & RBD_FEATURE_EXCLUSIVE_LOCK and dependants:
            raise CephError(errno.EINVAL, "cannot disable exclusive-lock while object-map "
                            "or journaling is enabled")  # fmt: skip
        await cls_client.set_features(img.ioctx, img.header_oid, 0, features)
        if features & RBD_FEATURE_OBJECT_MAP:
            await ignore_enoent(img.ioctx.remove(object_map_name(img.id)))
        flags = (RBD_FLAG_OBJECT_MAP_INVALID if features & RBD_FEATURE_OBJECT_MAP else 0) | (
            RBD_FLAG_FAST_DIFF_INVALID if features & RBD_FEATURE_FAST_DIFF else 0
        )
        if flags:
            await cls_client.set_flags(img.ioctx, img.header_oid, CEPH_NOSNAP, 0, flags)
    await img.notify_update()


def _with_partner(features: int, current: int, enabled: bool) -> int:
    """The requested features with object-map/fast-diff coupled as upstream couples them."""
    set_map = bool(features & RBD_FEATURE_OBJECT_MAP)
    set_diff = bool(features & RBD_FEATURE_FAST_DIFF)
    has_map = bool(current & RBD_FEATURE_OBJECT_MAP)
    has_diff = bool(current & RBD_FEATURE_FAST_DIFF)
    if (enabled and ((set_map and not has_diff) or (set_diff and not has_map))) or (
        not enabled and set_map and has_diff
    ):
        features |= RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF
    return features
