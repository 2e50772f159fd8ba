"""cls ``rbd``: RBD image metadata kept on the OSD (upstream src/cls/rbd/cls_rbd.cc, 16.2).

This module holds the helpers every part of the class shares and the methods on image
headers (``rbd_header.<id>``: create, size, features, striping, data pool, timestamps,
flags, op features, metadata), on ``rbd_id.<name>`` objects and on ``rbd_directory``.
Snapshots and clone links are in `pyceph.cls.rbd_snapshots`, object maps and data-object
methods in `pyceph.cls.rbd_objects`, the pool-level objects (trash, namespaces, groups,
migration, the v1 format) in `pyceph.cls.rbd_pool` and mirroring in `pyceph.cls.rbd_mirror`.

Every method decodes its input and encodes its output in upstream's binary encoding (see
`pyceph.cls.rbd_types`) and stores omap keys and values exactly as upstream does, so a
pool's ``rados listomapvals`` looks as on a Ceph cluster. Methods keep upstream's names,
CLS_METHOD_RD/WR flags and errnos; input that does not decode is EINVAL, a stored value
that does not decode EIO.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from typing import TypeVar

from pyceph.cls.context import RD, WR, ClsError, MethodContext
from pyceph.cls.rbd_types import (
    CEPH_NOSNAP,
    DIRECTORY_STATE_ADD_DISABLED,
    DIRECTORY_STATE_READY,
    RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_OPERATIONS,
    RBD_FEATURE_STRIPINGV2,
    RBD_FEATURES_ALL,
    RBD_FEATURES_DISABLE_ONLY,
    RBD_FEATURES_INCOMPATIBLE,
    RBD_FEATURES_INTERNAL,
    RBD_FEATURES_MUTABLE,
    RBD_FEATURES_RW_INCOMPATIBLE,
    RBD_OPERATION_FEATURES_ALL,
    UINT64_MAX,
    ClsRbdParent,
    ClsRbdSnap,
    at_end,
    dec_bool,
    dec_map,
    enc_map,
    snap_key,
)
from pyceph.cls.registry import MethodResult, register
from pyceph.common.denc import Decoder, DencError, Encoder, Utime, utime_of

T = TypeVar("T")

CLASS = "rbd"
#: RBD_MAX_KEYS_READ: omap keys read per page.
RBD_MAX_KEYS_READ = 64
RBD_SNAP_KEY_PREFIX = "snapshot_"
RBD_DIR_ID_KEY_PREFIX = "id_"
RBD_DIR_NAME_KEY_PREFIX = "name_"
RBD_METADATA_KEY_PREFIX = "metadata_"


# -- shared helpers ----------------------------------------------------------------------------
def decode_input(indata: bytes, fn: Callable[[Decoder], T]) -> T:
    """Decode a method's arguments; EINVAL when they do not decode."""
    try:
        return fn(Decoder(indata))
    except (DencError, ValueError) as e:
        raise ClsError(errno.EINVAL, f"cannot decode input: {e}") from None


def enc(build: Callable[[Encoder], object]) -> bytes:
    e = Encoder()
    build(e)
    return bytes(e)


def u64_bytes(v: int) -> bytes:
    return enc(lambda e: e.u64(v))


def read_key(ctx: MethodContext, key: str, fn: Callable[[Decoder], T]) -> T:
    """upstream read_key: ENOENT when missing, EIO when the stored value does not decode."""
    bl = ctx.map_get_val(key)
    try:
        return fn(Decoder(bl))
    except (DencError, ValueError):
        raise ClsError(errno.EIO, f"error decoding {key}") from None


def read_key_or(ctx: MethodContext, key: str, fn: Callable[[Decoder], T], default: T) -> T:
    """read_key with ENOENT answered by `default`."""
    try:
        return read_key(ctx, key, fn)
    except ClsError as e:
        if e.errno == errno.ENOENT:
            return default
        raise


def write_key(ctx: MethodContext, key: str, build: Callable[[Encoder], object]) -> None:
    ctx.map_set_val(key, enc(build))


def remove_key(ctx: MethodContext, key: str) -> None:
    """upstream remove_key: a missing key (or object) is not an error."""
    try:
        ctx.map_remove_key(key)
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise


def check_exists(ctx: MethodContext) -> None:
    """The header object must exist (ENOENT)."""
    ctx.stat()


def is_valid_id(image_id: str) -> bool:
    """A non-empty, alphanumeric (ASCII) id."""
    return bool(image_id) and image_id.isascii() and image_id.isalnum()


def now_utime(ctx: MethodContext) -> Utime:
    """ceph_clock_now() as the op's timestamp."""
    return utime_of(ctx.now)


def read_features(ctx: MethodContext) -> int:
    return read_key(ctx, "features", lambda d: d.u64())


def require_feature(ctx: MethodContext, need: int) -> None:
    """image::require_feature: ENOEXEC when a feature (or the features key) is missing."""
    try:
        features = read_features(ctx)
    except ClsError as e:
        if e.errno == errno.ENOENT:  # an old-style image with no features
            raise ClsError(errno.ENOEXEC, "image has no features") from None
        raise
    if features & need != need:
        raise ClsError(errno.ENOEXEC, f"missing feature {need:#x}")


def has_feature(ctx: MethodContext, need: int) -> bool:
    try:
        require_feature(ctx, need)
    except ClsError as e:
        if e.errno == errno.ENOEXEC:
            return False
        raise
    return True


def set_op_features(ctx: MethodContext, op_features: int, mask: int) -> None:
    """image::set_op_features: update ``op_features`` and the OPERATIONS feature bit."""
    orig_features = read_features(ctx)
    orig_op = read_key_or(ctx, "op_features", lambda d: d.u64(), 0)
    op_features = (orig_op & ~mask) | (op_features & mask)
    if op_features == orig_op:
        return
    features = orig_features
    if op_features == 0:
        features &= ~RBD_FEATURE_OPERATIONS
        remove_key(ctx, "op_features")
    else:
        features |= RBD_FEATURE_OPERATIONS
        ctx.map_set_val("op_features", u64_bytes(op_features))
    if features != orig_features:
        ctx.map_set_val("features", u64_bytes(features))


def read_parent(ctx: MethodContext) -> ClsRbdParent | None:
    """The header's ``parent`` key, None when absent."""
    return read_key_or(ctx, "parent", ClsRbdParent.decode, None)


def write_parent(ctx: MethodContext, parent: ClsRbdParent) -> None:
    write_key(ctx, "parent", parent.encode)


def iter_snapshots(ctx: MethodContext) -> Iterator[ClsRbdSnap]:
    """image::snapshot::iterate: every snapshot record in key (id) order."""
    last = RBD_SNAP_KEY_PREFIX
    more = True
    while more:
        vals, more = ctx.map_get_vals(last, RBD_SNAP_KEY_PREFIX, RBD_MAX_KEYS_READ)
        for k, v in sorted(vals.items()):
            try:
                yield ClsRbdSnap.decode(Decoder(v))
            except (DencError, ValueError):
                raise ClsError(errno.EIO, f"error decoding snapshot metadata for {k}") from None
        if not vals:
            break
        last = max(vals)


def read_snap(ctx: MethodContext, snap_id: int) -> ClsRbdSnap:
    return read_key(ctx, snap_key(snap_id), ClsRbdSnap.decode)


def write_snap(ctx: MethodContext, snap: ClsRbdSnap) -> None:
    """image::snapshot::write: a record with a full parent link is normalized first (the
    link goes to the header's ``parent`` key, the record keeps only its overlap)."""
    if snap.parent.exists():
        on_disk = read_parent(ctx)
        if on_disk is None or not on_disk.exists():
            p = ClsRbdParent(
                snap.parent.pool_id,
                snap.parent.pool_namespace,
                snap.parent.image_id,
                snap.parent.snap_id,
                None,
            )
            write_parent(ctx, p)
        snap.parent_overlap = snap.parent.head_overlap
        snap.parent = ClsRbdParent()
    write_key(ctx, snap_key(snap.id), snap.encode)


# -- header: create, features, size ------------------------------------------------------------
@register(CLASS, "create", RD | WR)
def create(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: size u64, order u8, features u64, object_prefix, [data_pool_id i64]."""

    def dec(d: Decoder) -> tuple[int, int, int, str, int]:
        size, order, features, prefix = d.u64(), d.u8(), d.u64(), d.string()
        return size, order, features, prefix, (d.i64() if not at_end(d) else -1)

    size, order, features, prefix, data_pool_id = decode_input(indata, dec)
    if features & ~RBD_FEATURES_ALL:
        return -errno.ENOSYS
    if not prefix:
        return -errno.EINVAL
    try:
        ctx.map_get_val("object_prefix")
        return -errno.EEXIST
    except ClsError as e:
        if e.errno != errno.ENOENT:
            return -errno.EEXIST
    ts = enc(lambda e: e.utime(now_utime(ctx)))
    vals = {
        "size": u64_bytes(size),
        "order": enc(lambda e: e.u8(order)),
        "features": u64_bytes(features),
        "object_prefix": enc(lambda e: e.string(prefix)),
        "snap_seq": u64_bytes(0),
        "create_timestamp": ts,
        "access_timestamp": ts,
        "modify_timestamp": ts,
    }
    if features & RBD_FEATURE_OPERATIONS:
        return -errno.EINVAL
    if features & RBD_FEATURE_DATA_POOL:
        if data_pool_id == -1:
            return -errno.EINVAL
        vals["data_pool_id"] = enc(lambda e: e.i64(data_pool_id))
    elif data_pool_id != -1:
        return -errno.EINVAL
    ctx.map_set_vals(vals)
    return None


@register(CLASS, "get_features", RD)
def get_features(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id u64 (ignored), [read_only bool]. Out: features u64, incompatible u64."""

    def dec(d: Decoder) -> bool:
        d.u64()
        return dec_bool(d) if not at_end(d) else False

    read_only = decode_input(indata, dec)
    features = read_features(ctx)
    mask = RBD_FEATURES_INCOMPATIBLE if read_only else RBD_FEATURES_RW_INCOMPATIBLE
    return enc(lambda e: (e.u64(features), e.u64(features & mask)))


@register(CLASS, "set_features", RD | WR)
def set_features(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: features u64, mask u64."""
    features, mask = decode_input(indata, lambda d: (d.u64(), d.u64()))
    orig = read_key_or(ctx, "features", lambda d: d.u64(), 0)
    if mask & RBD_FEATURES_INTERNAL:
        return -errno.EINVAL
    mask &= RBD_FEATURES_ALL
    enabled = features & mask
    if enabled & RBD_FEATURES_MUTABLE != enabled:
        return -errno.EINVAL
    disabled = ~features & mask
    if disabled & (RBD_FEATURES_MUTABLE | RBD_FEATURES_DISABLE_ONLY) != disabled:
        return -errno.EINVAL
    ctx.map_set_val("features", u64_bytes((orig & ~mask) | (features & mask)))
    return None


@register(CLASS, "get_size", RD)
def get_size(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id u64. Out: order u8, size u64 (of the head or the snapshot)."""
    snap_id = decode_input(indata, lambda d: d.u64())
    order = read_key(ctx, "order", lambda d: d.u8())
    if snap_id == CEPH_NOSNAP:
        size = read_key(ctx, "size", lambda d: d.u64())
    else:
        size = read_snap(ctx, snap_id).image_size
    return enc(lambda e: (e.u8(order), e.u64(size)))


@register(CLASS, "set_size", RD | WR)
def set_size(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: size u64. A shrink below the parent overlap shrinks the overlap."""
    size = decode_input(indata, lambda d: d.u64())
    orig = read_key(ctx, "size", lambda d: d.u64())
    ctx.map_set_val("size", u64_bytes(size))
    if size < orig:
        parent = read_parent(ctx)
        if parent is not None and parent.exists() and (parent.head_overlap or 0) > size:
            parent.head_overlap = size
            write_parent(ctx, parent)
    return None


@register(CLASS, "get_object_prefix", RD)
def get_object_prefix(ctx: MethodContext, indata: bytes) -> MethodResult:
    prefix = read_key(ctx, "object_prefix", lambda d: d.string())
    return enc(lambda e: e.string(prefix))


@register(CLASS, "get_data_pool", RD)
def get_data_pool(ctx: MethodContext, indata: bytes) -> MethodResult:
    pool = read_key_or(ctx, "data_pool_id", lambda d: d.i64(), -1)
    return enc(lambda e: e.i64(pool))


@register(CLASS, "get_all_features", RD)
def get_all_features(ctx: MethodContext, indata: bytes) -> MethodResult:
    return u64_bytes(RBD_FEATURES_ALL)


# -- striping ---------------------------------------------------------------------------------------
@register(CLASS, "get_stripe_unit_count", RD)
def get_stripe_unit_count(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: stripe_unit u64 (default the object size), stripe_count u64 (default 1)."""
    check_exists(ctx)
    require_feature(ctx, RBD_FEATURE_STRIPINGV2)
    try:
        unit = read_key(ctx, "stripe_unit", lambda d: d.u64())
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise
        try:
            unit = 1 << read_key(ctx, "order", lambda d: d.u8())
        except ClsError:
            return -errno.EIO
    count = read_key_or(ctx, "stripe_count", lambda d: d.u64(), 1)
    return enc(lambda e: (e.u64(unit), e.u64(count)))


@register(CLASS, "set_stripe_unit_count", RD | WR)
def set_stripe_unit_count(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: stripe_unit u64, stripe_count u64; the unit must divide the object size."""
    unit, count = decode_input(indata, lambda d: (d.u64(), d.u64()))
    if not unit or not count:
        return -errno.EINVAL
    check_exists(ctx)
    require_feature(ctx, RBD_FEATURE_STRIPINGV2)
    obj = 1 << read_key(ctx, "order", lambda d: d.u8())
    if obj % unit or unit > obj:
        return -errno.EINVAL
    ctx.map_set_vals({"stripe_unit": u64_bytes(unit), "stripe_count": u64_bytes(count)})
    return None


# -- timestamps -------------------------------------------------------------------------------------
def _get_timestamp(ctx: MethodContext, key: str) -> bytes:
    ts = read_key_or(ctx, key, lambda d: d.utime(), (0, 0))
    return enc(lambda e: e.utime(ts))


@register(CLASS, "get_create_timestamp", RD)
def get_create_timestamp(ctx: MethodContext, indata: bytes) -> MethodResult:
    return _get_timestamp(ctx, "create_timestamp")


@register(CLASS, "get_access_timestamp", RD)
def get_access_timestamp(ctx: MethodContext, indata: bytes) -> MethodResult:
    return _get_timestamp(ctx, "access_timestamp")


@register(CLASS, "get_modify_timestamp", RD)
def get_modify_timestamp(ctx: MethodContext, indata: bytes) -> MethodResult:
    return _get_timestamp(ctx, "modify_timestamp")


@register(CLASS, "set_access_timestamp", RD | WR)
def set_access_timestamp(ctx: MethodContext, indata: bytes) -> MethodResult:
    check_exists(ctx)
    write_key(ctx, "access_timestamp", lambda e: e.utime(now_utime(ctx)))
    return None


@register(CLASS, "set_modify_timestamp", RD | WR)
def set_modify_timestamp(ctx: MethodContext, indata: bytes) -> MethodResult:
    check_exists(ctx)
    write_key(ctx, "modify_timestamp", lambda e: e.utime(now_utime(ctx)))
    return None


# -- flags and op features -------------------------------------------------------------------------
@register(CLASS, "get_flags", RD)
def get_flags(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: snap_id u64. Out: flags u64 of the head or the snapshot."""
    snap_id = decode_input(indata, lambda d: d.u64())
    if snap_id == CEPH_NOSNAP:
        flags = read_key_or(ctx, "flags", lambda d: d.u64(), 0)
    else:
        flags = read_snap(ctx, snap_id).flags
    return u64_bytes(flags)


@register(CLASS, "set_flags", RD | WR)
def set_flags(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: flags u64, mask u64, [snap_id u64]."""

    def dec(d: Decoder) -> tuple[int, int, int]:
        flags, mask = d.u64(), d.u64()
        return flags, mask, (d.u64() if not at_end(d) else CEPH_NOSNAP)

    flags, mask, snap_id = decode_input(indata, dec)
    if snap_id == CEPH_NOSNAP:
        orig = read_key_or(ctx, "flags", lambda d: d.u64(), 0)
        ctx.map_set_val("flags", u64_bytes((orig & ~mask) | (flags & mask)))
    else:
        snap = read_snap(ctx, snap_id)
        snap.flags = (snap.flags & ~mask) | (flags & mask)
        write_snap(ctx, snap)
    return None


@register(CLASS, "op_features_get", RD)
def op_features_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    return u64_bytes(read_key_or(ctx, "op_features", lambda d: d.u64(), 0))


@register(CLASS, "op_features_set", RD | WR)
def op_features_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: op_features u64, mask u64 (EINVAL for unknown bits)."""
    op_features, mask = decode_input(indata, lambda d: (d.u64(), d.u64()))
    if mask & ~RBD_OPERATION_FEATURES_ALL:
        return -errno.EINVAL
    set_op_features(ctx, op_features, mask)
    return None


# -- metadata -------------------------------------------------------------------------------------
@register(CLASS, "metadata_list", RD)
def metadata_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after, max_return u64 (0: 64). Out: map<string, bufferlist>."""
    start, max_return = decode_input(indata, lambda d: (d.string(), d.u64()))
    if max_return == 0:
        max_return = RBD_MAX_KEYS_READ
    data: dict[str, bytes] = {}
    last = RBD_METADATA_KEY_PREFIX + start
    more = True
    while more and len(data) < max_return:
        n = min(RBD_MAX_KEYS_READ, max_return - len(data))
        raw, more = ctx.map_get_vals(last, RBD_METADATA_KEY_PREFIX, n)
        for k, v in raw.items():
            data[k[len(RBD_METADATA_KEY_PREFIX) :]] = v
        if not raw:
            break
        last = max(raw)
    return enc(lambda e: enc_map(e, data, e.string, e.string, key=str.encode))


@register(CLASS, "metadata_set", RD | WR)
def metadata_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: map<string, bufferlist>; stored under ``metadata_<key>``."""
    data = decode_input(indata, lambda d: dec_map(d, d.string, d.raw_string))
    ctx.map_set_vals({RBD_METADATA_KEY_PREFIX + k: v for k, v in data.items()})
    return None


@register(CLASS, "metadata_remove", RD | WR)
def metadata_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    key = decode_input(indata, lambda d: d.string())
    ctx.map_remove_key(RBD_METADATA_KEY_PREFIX + key)
    return None


@register(CLASS, "metadata_get", RD)
def metadata_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    key = decode_input(indata, lambda d: d.string())
    value = ctx.map_get_val(RBD_METADATA_KEY_PREFIX + key)
    return enc(lambda e: e.string(value))


# -- rbd_id.<name> ------------------------------------------------------------------------------
@register(CLASS, "get_id", RD)
def get_id(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: the id stored as an encoded string in the object's data."""
    size, _ = ctx.stat()
    if size == 0:
        return -errno.ENOENT
    raw = ctx.read(0, size)
    try:
        image_id = Decoder(raw).string()
    except DencError:
        return -errno.EIO
    return enc(lambda e: e.string(image_id))


@register(CLASS, "set_id", RD | WR)
def set_id(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: id. The object must exist and be empty (EEXIST otherwise)."""
    check_exists(ctx)
    image_id = decode_input(indata, lambda d: d.string())
    if not is_valid_id(image_id):
        return -errno.EINVAL
    size, _ = ctx.stat()
    if size != 0:
        return -errno.EEXIST
    ctx.write(0, enc(lambda e: e.string(image_id)))
    return None


# -- rbd_directory ----------------------------------------------------------------------------------
def _dir_add(ctx: MethodContext, name: str, image_id: str, check_for_unique_id: bool) -> None:
    if not name or not is_valid_id(image_id):
        raise ClsError(errno.EINVAL, f"invalid name {name!r} or id {image_id!r}")
    name_key, id_key = RBD_DIR_NAME_KEY_PREFIX + name, RBD_DIR_ID_KEY_PREFIX + image_id
    got = ctx.map_get_vals_by_keys([name_key, id_key])
    if name_key in got:
        raise ClsError(errno.EEXIST, "name already exists")
    if id_key in got and check_for_unique_id:
        raise ClsError(errno.EBADF, "id already exists")
    ctx.map_set_vals(
        {name_key: enc(lambda e: e.string(image_id)), id_key: enc(lambda e: e.string(name))}
    )


def _dir_remove(ctx: MethodContext, name: str, image_id: str) -> None:
    name_key, id_key = RBD_DIR_NAME_KEY_PREFIX + name, RBD_DIR_ID_KEY_PREFIX + image_id
    stored_id = read_key(ctx, name_key, lambda d: d.string())
    stored_name = read_key(ctx, id_key, lambda d: d.string())
    if stored_name != name or stored_id != image_id:
        raise ClsError(errno.ESTALE, "name and id do not match")
    ctx.map_remove_keys([name_key, id_key])


@register(CLASS, "dir_add_image", RD | WR)
def dir_add_image(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: name, id. EEXIST for a used name, EBADF for a used id."""
    ctx.create(exclusive=False)
    name, image_id = decode_input(indata, lambda d: (d.string(), d.string()))
    _dir_add(ctx, name, image_id, True)
    return None


@register(CLASS, "dir_remove_image", RD | WR)
def dir_remove_image(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: name, id. ENOENT when not listed, ESTALE when they do not match."""
    name, image_id = decode_input(indata, lambda d: (d.string(), d.string()))
    _dir_remove(ctx, name, image_id)
    return None


@register(CLASS, "dir_rename_image", RD | WR)
def dir_rename_image(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: src, dest, id: both indexes updated atomically."""
    src, dest, image_id = decode_input(indata, lambda d: (d.string(), d.string(), d.string()))
    _dir_remove(ctx, src, image_id)
    _dir_add(ctx, dest, image_id, False)
    return None


@register(CLASS, "dir_get_id", RD)
def dir_get_id(ctx: MethodContext, indata: bytes) -> MethodResult:
    name = decode_input(indata, lambda d: d.string())
    image_id = read_key(ctx, RBD_DIR_NAME_KEY_PREFIX + name, lambda d: d.string())
    return enc(lambda e: e.string(image_id))


@register(CLASS, "dir_get_name", RD)
def dir_get_name(ctx: MethodContext, indata: bytes) -> MethodResult:
    image_id = decode_input(indata, lambda d: d.string())
    name = read_key(ctx, RBD_DIR_ID_KEY_PREFIX + image_id, lambda d: d.string())
    return enc(lambda e: e.string(name))


@register(CLASS, "dir_list", RD)
def dir_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after (a name), max_return u64. Out: map<name, id>."""
    start, max_return = decode_input(indata, lambda d: (d.string(), d.u64()))
    images: dict[str, str] = {}
    last = RBD_DIR_NAME_KEY_PREFIX + start
    more = True
    while more and len(images) < max_return:
        vals, more = ctx.map_get_vals(last, RBD_DIR_NAME_KEY_PREFIX, RBD_MAX_KEYS_READ)
        for k in sorted(vals):
            try:
                image_id = Decoder(vals[k]).string()
            except DencError:
                return -errno.EIO
            images[k[len(RBD_DIR_NAME_KEY_PREFIX) :]] = image_id
            if len(images) >= max_return:
                break
        if not vals:
            break
        last = RBD_DIR_NAME_KEY_PREFIX + max(images, key=str.encode)
    return enc(lambda e: enc_map(e, images, e.string, e.string, key=str.encode))


@register(CLASS, "dir_state_assert", RD)
def dir_state_assert(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: state u8. ENOENT when the directory's state differs (or it has none)."""
    state = decode_input(indata, lambda d: d.u8())
    on_disk = read_key(ctx, "state", lambda d: d.u8())
    return 0 if on_disk == state else -errno.ENOENT


@register(CLASS, "dir_state_set", RD | WR)
def dir_state_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: state u8. ADD_DISABLED needs an existing, empty directory (EBUSY)."""
    state = decode_input(indata, lambda d: d.u8())
    exists = ctx.exists()
    if state == DIRECTORY_STATE_ADD_DISABLED:
        if not exists:
            return -errno.ENOENT
        vals, _ = ctx.map_get_vals(RBD_DIR_NAME_KEY_PREFIX, RBD_DIR_NAME_KEY_PREFIX, 1)
        if vals:
            return -errno.EBUSY
    elif state != DIRECTORY_STATE_READY:
        return -errno.EINVAL
    write_key(ctx, "state", lambda e: e.u8(state))
    return None


__all__ = ["CLASS", "RBD_MAX_KEYS_READ", "UINT64_MAX"]
