"""Creating an image (librbd's image::CreateRequest, format 2).

Validation first, in upstream's order and with its errnos: unknown features ENOSYS,
internal or inconsistent features EINVAL, order outside [12, 25] EDOM, stripe unit and
count given alone or a unit that does not divide the object size EINVAL, a missing data
pool ENOENT. Then: the directory entry (EEXIST for a taken name), the id object, the
header (`rbd.create`), the stripe settings, and the object map; a failure undoes the
steps already taken.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.client.op import ObjectOp
from pyceph.cls.rbd_types import OBJECT_NONEXISTENT
from pyceph.common.errors import CephError
from pyceph.osdmap.pool import FLAG_EC_OVERWRITES, TYPE_ERASURE
from pyceph.rbdlib import cls_client, v1
from pyceph.rbdlib._util import ignore_enoent, ioctx_for_pool, pool_id, pool_name
from pyceph.rbdlib.features import (
    RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_OPERATIONS,
    RBD_FEATURE_STRIPINGV2,
    RBD_FEATURES_ALL,
    default_features,
)
from pyceph.rbdlib.layout import (
    DEFAULT_ORDER,
    MAX_ORDER,
    MIN_ORDER,
    RBD_DIRECTORY,
    RBD_INFO,
    RBD_MAX_BLOCK_NAME_PREFIX_LENGTH,
    Layout,
    data_prefix,
    generate_image_id,
    header_name,
    id_obj_name,
    object_map_name,
)

#: What ValidatePoolRequest leaves in rbd_info once a pool passed its checks.
VALIDATE_POOL_MARK = b"overwrite validated"
#: ObjectMap::is_compatible: an object map holds at most this many objects.
MAX_OBJECT_MAP_OBJECT_COUNT = 256_000_000


def validate_features(features: int) -> None:
    """CreateRequest's validate_features."""
    if features & ~RBD_FEATURES_ALL:
        raise CephError(errno.ENOSYS, "librbd does not support requested features")
    if features & RBD_FEATURE_OPERATIONS:
        raise CephError(errno.EINVAL, "cannot use internally controlled features")
    if features & RBD_FEATURE_FAST_DIFF and not features & RBD_FEATURE_OBJECT_MAP:
        raise CephError(errno.EINVAL, "cannot use fast diff without object map")
    if features & RBD_FEATURE_OBJECT_MAP and not features & RBD_FEATURE_EXCLUSIVE_LOCK:
        raise CephError(errno.EINVAL, "cannot use object map without exclusive lock")
    if features & RBD_FEATURE_JOURNALING and not features & RBD_FEATURE_EXCLUSIVE_LOCK:
        raise CephError(errno.EINVAL, "cannot use journaling without exclusive lock")


def validate_order(order: int) -> None:
    """CreateRequest::validate_order: EDOM outside [12, 25]."""
    if order < MIN_ORDER or order > MAX_ORDER:
        raise CephError(errno.EDOM, "order must be in the range [12, 25]")


def validate_striping(order: int, stripe_unit: int, stripe_count: int) -> None:
    if bool(stripe_unit) != bool(stripe_count):
        raise CephError(errno.EINVAL, "must specify both (or neither) of stripe-unit and "
                        "stripe-count")  # fmt: skip
    if stripe_unit and ((1 << order) % stripe_unit or stripe_unit > (1 << order)):
        raise CephError(errno.EINVAL, "stripe unit is not a factor of the object size")


def validate_name(name: str) -> None:
    """An image name: not empty (EINVAL); no '/' when rbd_validate_names (EINVAL)."""
    if not name:
        raise CephError(errno.EINVAL, "image name must not be empty")


async def create(
    ioctx: IoCtx,
    name: str,
    size: int,
    *,
    order: int | None = None,
    old_format: bool = False,
    features: int | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
    image_id: str | None = None,
    skip_mirror_enable: bool = False,
) -> str:
    """Create image `name` of `size` bytes; its id. EEXIST when the name is taken.

    In a pool in mirror mode POOL a journaling image starts mirrored (CreateRequest's
    mirror enable step); a clone skips it here and enables once its parent is attached
    (CloneRequest::enable_mirror)."""
    config = ioctx.client.config
    validate_name(name)
    if old_format and not v1.creation_allowed():
        raise CephError(errno.EINVAL, "format 1 image creation unsupported")
    if size < 0:
        raise CephError(errno.EINVAL, "negative size")
    if old_format:
        return await _create_v1(ioctx, name, size, order)
    if features is None:
        features = default_features(config)
    # fast-diff is implicitly enabled: it follows object-map, whether asked for or not
    # (librbd 16.2.15 creates and clones FAST_DIFF|LAYERING as LAYERING, no EINVAL)
    if features & RBD_FEATURE_OBJECT_MAP:
        features |= RBD_FEATURE_FAST_DIFF
    else:
        features &= ~RBD_FEATURE_FAST_DIFF
    su = stripe_unit or int(config.get("rbd_default_stripe_unit") or 0)
    sc = stripe_count or int(config.get("rbd_default_stripe_count") or 0)
    order = order or int(config.get("rbd_default_order") or 22)
    if data_pool is None:
        data_pool = str(config.get("rbd_default_data_pool") or "")
    if data_pool and data_pool != pool_name(ioctx, ioctx.pool_id):
        features |= RBD_FEATURE_DATA_POOL
    else:
        data_pool = ""
        features &= ~RBD_FEATURE_DATA_POOL
    if (su and su != (1 << order)) or (sc and sc != 1):
        features |= RBD_FEATURE_STRIPINGV2
    else:
        features &= ~RBD_FEATURE_STRIPINGV2

    validate_features(features)
    validate_order(order)
    validate_striping(order, su, sc)
    layout = Layout(order, su if su and sc else 0, sc if su and sc else 0)
    if features & RBD_FEATURE_OBJECT_MAP and layout.num_objects(size) > MAX_OBJECT_MAP_OBJECT_COUNT:
        raise CephError(errno.EINVAL, "image size not compatible with object map")

    data_pool_id = -1
    data_ioctx = ioctx
    if data_pool:
        data_pool_id = pool_id(ioctx, data_pool)
        data_ioctx = ioctx_for_pool(ioctx, data_pool_id)
    if config.get("rbd_validate_pool"):
        await validate_pool(data_ioctx)

    image_id = image_id or generate_image_id(ioctx.client.instance_id)
    await _create_steps(ioctx, name, image_id, size, order, features, su, sc, data_pool_id, layout)
    if not skip_mirror_enable:
        await enable_mirroring_or_remove(ioctx, name, image_id)
    return image_id


async def _create_v1(ioctx: IoCtx, name: str, size: int, order: int | None) -> str:
    """librbd::create's forced format-1 path: EEXIST when an image of either format has
    the name, EDOM for a bad order; the image has no id ("")."""
    if await v1.detect(ioctx, name) or await exists_v2(ioctx, name):
        raise CephError(errno.EEXIST, f"rbd image {name} already exists")
    order = order or int(ioctx.client.config.get("rbd_default_order") or DEFAULT_ORDER)
    validate_order(order)
    await v1.create(ioctx, name, size, order)
    return ""


async def exists_v2(ioctx: IoCtx, name: str) -> bool:
    """Whether a format-2 image is called `name` (its id object exists)."""
    return await ignore_enoent(ioctx.stat(id_obj_name(name))) is not None


async def enable_mirroring_or_remove(ioctx: IoCtx, name: str, image_id: str) -> None:
    """mirror.enable_if_pool_mode for a new image; on failure the image is removed again
    (CreateRequest's remove-on-error path) and the error raised."""
    from pyceph.rbdlib import mirror, pool

    try:
        await mirror.enable_if_pool_mode(ioctx, image_id)
    except BaseException:
        await pool.remove(ioctx, name)
        raise


async def validate_pool(ioctx: IoCtx) -> None:
    """ValidatePoolRequest: a pool must take self-managed snapshots (not pool snapshots,
    EINVAL) and overwrites (an EC pool without allow_ec_overwrites: EINVAL); the first
    check leaves its mark in rbd_info — of the pool's default namespace, whatever the
    namespace of the image (ValidatePoolRequest works on a namespace-less ioctx)."""
    pool = ioctx.pool
    ioctx = ioctx.copy(nspace="") if ioctx.nspace else ioctx
    if pool.type == TYPE_ERASURE and not pool.flags & FLAG_EC_OVERWRITES:
        raise CephError(errno.EINVAL, "pool missing required overwrite support")
    try:
        if await ioctx.read(RBD_INFO, len(VALIDATE_POOL_MARK) + 1) == VALIDATE_POOL_MARK:
            return
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    try:
        snap_id = await ioctx.selfmanaged_snap_create()
    except CephError as e:
        raise CephError(errno.EINVAL, "pool not configured for self-managed RBD snapshot "
                        "support") from e  # fmt: skip
    try:
        await ioctx.selfmanaged_snap_remove(snap_id)
    except CephError:
        pass
    try:
        await ioctx.write_full(RBD_INFO, VALIDATE_POOL_MARK)
    except CephError as e:
        if e.errno == errno.EOPNOTSUPP:
            raise CephError(errno.EINVAL, "pool missing required overwrite support") from e
        raise


async def _create_steps(
    ioctx: IoCtx,
    name: str,
    image_id: str,
    size: int,
    order: int,
    features: int,
    su: int,
    sc: int,
    data_pool_id: int,
    layout: Layout,
) -> None:
    undo: list[Any] = []
    try:
        op = ObjectOp()
        if ioctx.nspace:
            cls_client.dir_state_assert_op(op)
        cls_client.dir_add_image_op(op, name, image_id)
        await ioctx.operate(RBD_DIRECTORY, op)
        undo.append(lambda: cls_client.dir_remove_image(ioctx, RBD_DIRECTORY, name, image_id))

        op = ObjectOp()
        op.create(True)
        cls_client.set_id_op(op, image_id)
        await ioctx.operate(id_obj_name(name), op)
        undo.append(lambda: ioctx.remove(id_obj_name(name)))

        prefix = data_prefix(image_id, ioctx.pool_id if data_pool_id >= 0 else None)
        if len(prefix) > RBD_MAX_BLOCK_NAME_PREFIX_LENGTH:
            raise CephError(errno.EINVAL, f"object prefix '{prefix}' too large")
        op = ObjectOp()
        op.create(True)
        cls_client.create_image_op(op, size, order, features, prefix, data_pool_id)
        try:
            await ioctx.operate(header_name(image_id), op)
        except CephError as e:
            if e.errno == errno.EEXIST:
                raise CephError(errno.EBADF, "image id already in use") from None
            raise
        undo.append(lambda: ioctx.remove(header_name(image_id)))

        if (su or sc) and not (sc == 1 and su == (1 << order)):
            await cls_client.set_stripe_unit_count(ioctx, header_name(image_id), su, sc)
        if features & RBD_FEATURE_OBJECT_MAP:
            op = ObjectOp()
            cls_client.object_map_resize_op(op, layout.num_objects(size), OBJECT_NONEXISTENT)
            await ioctx.operate(object_map_name(image_id), op)
    except BaseException:
        for step in reversed(undo):
            try:
                await step()
            except CephError:
                pass
        raise
