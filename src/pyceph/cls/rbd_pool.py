"""cls ``rbd``: pool-level objects, migration and the v1 format (upstream cls_rbd.cc, 16.2).

* ``rbd_trash``: ``id_<image id>`` -> `TrashImageSpec`.
* ``rbd_namespace``: ``name_<namespace>`` -> empty value.
* ``rbd_group_directory``: ``name_<group>`` -> id, ``id_<group id>`` -> name;
  ``rbd_group_header.<id>``: ``image_<pool:016x>_<image id>`` -> the link state (u8),
  ``snapshot_<group snap id>`` -> `GroupSnapshot`; an image header's ``rbd_group_ref`` ->
  `GroupSpec`.
* An image header's ``migration`` -> `MigrationSpec` (a v1 header's text becomes the
  "migrating" text instead of setting the MIGRATING feature).
* v1 headers (``<name>.rbd``, struct rbd_obj_header_ondisk): ``snap_list``/``snap_add``/
  ``snap_remove``/``snap_rename`` rewrite the header's snapshot table.
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass, field

from pyceph.cls.context import RD, WR, ClsError, MethodContext
from pyceph.cls.rbd import (
    CLASS,
    RBD_DIR_ID_KEY_PREFIX,
    RBD_DIR_NAME_KEY_PREFIX,
    RBD_MAX_KEYS_READ,
    decode_input,
    enc,
    is_valid_id,
    read_key,
    read_key_or,
    remove_key,
    set_op_features,
    u64_bytes,
    write_key,
)
from pyceph.cls.rbd_types import (
    MIGRATION_HEADER_TYPE_DST,
    MIGRATION_HEADER_TYPE_SRC,
    RBD_FEATURE_MIGRATING,
    RBD_HEADER_TEXT,
    RBD_MIGRATE_HEADER_TEXT,
    RBD_OPERATION_FEATURE_GROUP,
    UINT64_MAX,
    GroupImageSpec,
    GroupImageStatus,
    GroupSnapshot,
    GroupSpec,
    MigrationSpec,
    TrashImageSpec,
    enc_map,
)
from pyceph.cls.registry import MethodResult, register
from pyceph.common.denc import Decoder, DencError

TRASH_IMAGE_KEY_PREFIX = "id_"
NAMESPACE_KEY_PREFIX = "name_"
GROUP_IMAGE_KEY_PREFIX = "image_"
GROUP_SNAP_KEY_PREFIX = "snapshot_"
GROUP_REF_KEY = "rbd_group_ref"

#: sizeof(RBD_HEADER_TEXT) in C: the text and its NUL.
_V1_TEXT_LEN = len(RBD_HEADER_TEXT) + 1


def _page(
    ctx: MethodContext, prefix: str, start_key: str, max_return: int
) -> list[tuple[str, bytes]]:
    """Up to `max_return` (key, value) with `prefix` after `start_key`, in key order."""
    out: list[tuple[str, bytes]] = []
    last = start_key
    while len(out) < max_return:
        n = min(RBD_MAX_KEYS_READ, max_return - len(out))
        vals, more = ctx.map_get_vals(last, prefix, n)
        out.extend(sorted(vals.items()))
        if not vals or not more:
            break
        last = max(vals)
    return out


def _dec(v: bytes, fn, what: str):  # type: ignore[no-untyped-def]
    try:
        return fn(Decoder(v))
    except (DencError, ValueError):
        raise ClsError(errno.EIO, f"could not decode {what}") from None


def _start_max(indata: bytes) -> tuple[str, int]:
    return decode_input(indata, lambda d: (d.string(), d.u64()))


# -- trash -------------------------------------------------------------------------------------------
@register(CLASS, "trash_add", RD | WR)
def trash_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: id, TrashImageSpec. EEXIST when the id is in the trash, EINVAL for a bad id."""
    ctx.create(exclusive=False)
    image_id, spec = decode_input(indata, lambda d: (d.string(), TrashImageSpec.decode(d)))
    if not is_valid_id(image_id):
        return -errno.EINVAL
    key = TRASH_IMAGE_KEY_PREFIX + image_id
    if ctx.map_get_vals_by_keys([key]):
        read_key(ctx, key, TrashImageSpec.decode)  # EIO for a corrupt entry, as upstream
        return -errno.EEXIST
    write_key(ctx, key, spec.encode)
    return None


@register(CLASS, "trash_remove", RD | WR)
def trash_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    image_id = decode_input(indata, lambda d: d.string())
    key = TRASH_IMAGE_KEY_PREFIX + image_id
    ctx.map_get_val(key)
    ctx.map_remove_key(key)
    return None


@register(CLASS, "trash_list", RD)
def trash_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after id, max_return. Out: map<id, TrashImageSpec>."""
    start, max_return = _start_max(indata)
    items = _page(ctx, TRASH_IMAGE_KEY_PREFIX, TRASH_IMAGE_KEY_PREFIX + start, max_return)
    data = {k[len(TRASH_IMAGE_KEY_PREFIX) :]: _dec(v, TrashImageSpec.decode, k) for k, v in items}
    return enc(lambda e: enc_map(e, data, e.string, lambda s: s.encode(e), key=str.encode))


@register(CLASS, "trash_get", RD)
def trash_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: the stored TrashImageSpec as is."""
    image_id = decode_input(indata, lambda d: d.string())
    return ctx.map_get_val(TRASH_IMAGE_KEY_PREFIX + image_id)


@register(CLASS, "trash_state_set", RD | WR)
def trash_state_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: id, state u8, expect_state u8. ESTALE when the entry is in neither state."""
    image_id, state, expect = decode_input(indata, lambda d: (d.string(), d.u8(), d.u8()))
    key = TRASH_IMAGE_KEY_PREFIX + image_id
    spec = read_key(ctx, key, TrashImageSpec.decode)
    if spec.state == expect:
        spec.state = state
        write_key(ctx, key, spec.encode)
        return None
    if spec.state == state:
        return None
    return -errno.ESTALE


# -- namespaces ----------------------------------------------------------------------------------
@register(CLASS, "namespace_add", RD | WR)
def namespace_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    name = decode_input(indata, lambda d: d.string())
    key = NAMESPACE_KEY_PREFIX + name
    if ctx.map_get_vals_by_keys([key]):
        return -errno.EEXIST
    ctx.map_set_val(key, b"")
    return None


@register(CLASS, "namespace_remove", RD | WR)
def namespace_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    name = decode_input(indata, lambda d: d.string())
    key = NAMESPACE_KEY_PREFIX + name
    ctx.map_get_val(key)
    ctx.map_remove_key(key)
    return None


@register(CLASS, "namespace_list", RD)
def namespace_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: list<string> of namespace names."""
    start, max_return = _start_max(indata)
    items = _page(ctx, NAMESPACE_KEY_PREFIX, NAMESPACE_KEY_PREFIX + start, max_return)
    names = [k[len(NAMESPACE_KEY_PREFIX) :] for k, _ in items]
    return enc(lambda e: e.seq(names, e.string))


# -- migration -----------------------------------------------------------------------------------
def _v1_text(ctx: MethodContext) -> bytes:
    text = ctx.read(0, _V1_TEXT_LEN)
    if len(text) != _V1_TEXT_LEN:
        raise ClsError(errno.ENXIO, "unrecognized v1 header format")
    return text


def _set_migration(ctx: MethodContext, spec: MigrationSpec, init: bool) -> None:
    """image::set_migration."""
    if init:
        if ctx.map_get_vals_by_keys(["migration"]):
            raise ClsError(errno.EEXIST, "migration already set")
        features = read_key_or(ctx, "features", lambda d: d.u64(), None)
        if features is None:  # a v1 image
            text = _v1_text(ctx)
            if text != RBD_HEADER_TEXT + b"\0":
                if text == RBD_MIGRATE_HEADER_TEXT + b"\0":
                    raise ClsError(errno.EEXIST, "migration already set")
                raise ClsError(errno.ENXIO, "unrecognized v1 header format")
            if spec.header_type != MIGRATION_HEADER_TYPE_SRC:
                raise ClsError(errno.EINVAL, "a v1 image can only be a migration source")
            ctx.write(0, RBD_MIGRATE_HEADER_TEXT + b"\0")
        elif features & RBD_FEATURE_MIGRATING:
            if spec.header_type != MIGRATION_HEADER_TYPE_DST:
                raise ClsError(errno.EEXIST, "migrating feature already set")
        else:
            ctx.map_set_val("features", u64_bytes(features | RBD_FEATURE_MIGRATING))
    write_key(ctx, "migration", spec.encode)


def _read_migration(ctx: MethodContext) -> MigrationSpec:
    """image::read_migration: EINVAL when the image is not migrating."""
    features = read_key_or(ctx, "features", lambda d: d.u64(), None)
    if features is None:
        text = _v1_text(ctx)
        if text != RBD_MIGRATE_HEADER_TEXT + b"\0":
            if text == RBD_HEADER_TEXT + b"\0":
                raise ClsError(errno.EINVAL, "migration feature not set")
            raise ClsError(errno.ENXIO, "unrecognized v1 header format")
    elif not features & RBD_FEATURE_MIGRATING:
        raise ClsError(errno.EINVAL, "migration feature not set")
    return read_key(ctx, "migration", MigrationSpec.decode)


@register(CLASS, "migration_set", RD | WR)
def migration_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    _set_migration(ctx, decode_input(indata, MigrationSpec.decode), True)
    return None


@register(CLASS, "migration_set_state", RD | WR)
def migration_set_state(ctx: MethodContext, indata: bytes) -> MethodResult:
    state, description = decode_input(indata, lambda d: (d.u8(), d.string()))
    spec = _read_migration(ctx)
    spec.state, spec.state_description = state, description
    _set_migration(ctx, spec, False)
    return None


@register(CLASS, "migration_get", RD)
def migration_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    return enc(_read_migration(ctx).encode)


@register(CLASS, "migration_remove", RD | WR)
def migration_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    remove_key(ctx, "migration")
    features = read_key_or(ctx, "features", lambda d: d.u64(), None)
    if features is None:
        text = _v1_text(ctx)
        if text != RBD_MIGRATE_HEADER_TEXT + b"\0":
            if text == RBD_HEADER_TEXT + b"\0":
                return -errno.EINVAL
            return -errno.ENXIO
        ctx.write(0, RBD_HEADER_TEXT + b"\0")
    elif features & RBD_FEATURE_MIGRATING:
        ctx.map_set_val("features", u64_bytes(features & ~RBD_FEATURE_MIGRATING))
    return None


# -- groups ----------------------------------------------------------------------------------------
@register(CLASS, "group_dir_list", RD)
def group_dir_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: map<group name, group id>."""
    start, max_return = _start_max(indata)
    items = _page(ctx, RBD_DIR_NAME_KEY_PREFIX, RBD_DIR_NAME_KEY_PREFIX + start, max_return)
    groups = {k[len(RBD_DIR_NAME_KEY_PREFIX) :]: _dec(v, lambda d: d.string(), k) for k, v in items}
    return enc(lambda e: enc_map(e, groups, e.string, e.string, key=str.encode))


def _group_dir_add(ctx: MethodContext, name: str, group_id: str, unique_id: bool) -> None:
    if not name or not is_valid_id(group_id):
        raise ClsError(errno.EINVAL, "invalid group name or id")
    name_key, id_key = RBD_DIR_NAME_KEY_PREFIX + name, RBD_DIR_ID_KEY_PREFIX + group_id
    got = ctx.map_get_vals_by_keys([name_key, id_key])
    if name_key in got:
        raise ClsError(errno.EEXIST, "group name exists")
    if id_key in got and unique_id:
        raise ClsError(errno.EBADF, "group id exists")
    ctx.map_set_vals(
        {name_key: enc(lambda e: e.string(group_id)), id_key: enc(lambda e: e.string(name))}
    )


def _group_dir_remove(ctx: MethodContext, name: str, group_id: str) -> None:
    name_key, id_key = RBD_DIR_NAME_KEY_PREFIX + name, RBD_DIR_ID_KEY_PREFIX + group_id
    stored_id = read_key(ctx, name_key, lambda d: d.string())
    stored_name = read_key(ctx, id_key, lambda d: d.string())
    if stored_id != group_id or stored_name != name:
        raise ClsError(errno.ESTALE, "group name and id do not match")
    ctx.map_remove_keys([name_key, id_key])


@register(CLASS, "group_dir_add", RD | WR)
def group_dir_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    ctx.create(exclusive=False)
    name, group_id = decode_input(indata, lambda d: (d.string(), d.string()))
    _group_dir_add(ctx, name, group_id, True)
    return None


@register(CLASS, "group_dir_remove", RD | WR)
def group_dir_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    name, group_id = decode_input(indata, lambda d: (d.string(), d.string()))
    _group_dir_remove(ctx, name, group_id)
    return None


@register(CLASS, "group_dir_rename", RD | WR)
def group_dir_rename(ctx: MethodContext, indata: bytes) -> MethodResult:
    src, dest, group_id = decode_input(indata, lambda d: (d.string(), d.string(), d.string()))
    _group_dir_remove(ctx, src, group_id)
    _group_dir_add(ctx, dest, group_id, False)
    return None


@register(CLASS, "group_image_set", RD | WR)
def group_image_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: GroupImageStatus; its link state (u8) is stored under the image's key."""
    st = decode_input(indata, GroupImageStatus.decode)
    key = st.spec.image_key()
    if not key:
        return -errno.EINVAL
    write_key(ctx, key, lambda e: e.u8(st.state))
    return None


@register(CLASS, "group_image_remove", RD | WR)
def group_image_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    spec = decode_input(indata, GroupImageSpec.decode)
    ctx.map_remove_key(spec.image_key())
    return None


@register(CLASS, "group_image_list", RD)
def group_image_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after GroupImageSpec, max_return. Out: vector<GroupImageStatus>."""
    start, max_return = decode_input(indata, lambda d: (GroupImageSpec.decode(d), d.u64()))
    start_key = start.image_key() or GROUP_IMAGE_KEY_PREFIX
    items = _page(ctx, GROUP_IMAGE_KEY_PREFIX, start_key, max_return)
    sts: list[GroupImageStatus] = []
    for k, v in items:
        try:
            spec = GroupImageSpec.from_key(k)
        except (DencError, ValueError):
            return -errno.EIO
        sts.append(GroupImageStatus(spec, _dec(v, lambda d: d.u8(), k)))
    return enc(lambda e: (e.u32(len(sts)), [s.encode(e) for s in sts]))


@register(CLASS, "image_group_add", RD | WR)
def image_group_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: GroupSpec. EEXIST when the image is in another group."""
    spec = decode_input(indata, GroupSpec.decode)
    old = read_key_or(ctx, GROUP_REF_KEY, GroupSpec.decode, None)
    if old is not None:
        if (old.group_id, old.pool_id) != (spec.group_id, spec.pool_id):
            return -errno.EEXIST
        return None
    set_op_features(ctx, RBD_OPERATION_FEATURE_GROUP, RBD_OPERATION_FEATURE_GROUP)
    write_key(ctx, GROUP_REF_KEY, spec.encode)
    return None


@register(CLASS, "image_group_remove", RD | WR)
def image_group_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: GroupSpec. EBUSY when the image is in another group."""
    spec = decode_input(indata, GroupSpec.decode)
    ref = read_key(ctx, GROUP_REF_KEY, GroupSpec.decode)
    if (ref.group_id, ref.pool_id) != (spec.group_id, spec.pool_id):
        return -errno.EBUSY
    ctx.map_remove_key(GROUP_REF_KEY)
    set_op_features(ctx, 0, RBD_OPERATION_FEATURE_GROUP)
    return None


@register(CLASS, "image_group_get", RD)
def image_group_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: the image's GroupSpec (pool -1 when in no group)."""
    spec = read_key_or(ctx, GROUP_REF_KEY, GroupSpec.decode, GroupSpec())
    return enc(spec.encode)


def _group_snaps(ctx: MethodContext) -> list[GroupSnapshot]:
    items = _page(ctx, GROUP_SNAP_KEY_PREFIX, GROUP_SNAP_KEY_PREFIX, UINT64_MAX)
    return [_dec(v, GroupSnapshot.decode, k) for k, v in items]


@register(CLASS, "group_snap_set", RD | WR)
def group_snap_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: GroupSnapshot. EINVAL for an empty name or id, EEXIST for a used name or a new
    (incomplete) snapshot over an existing one."""
    snap = decode_input(indata, GroupSnapshot.decode)
    if not snap.name or not snap.id:
        return -errno.EINVAL
    if any(s.name == snap.name and s.id != snap.id for s in _group_snaps(ctx)):
        return -errno.EEXIST
    key = GROUP_SNAP_KEY_PREFIX + snap.id
    if snap.state == 0 and ctx.map_get_vals_by_keys([key]):  # GROUP_SNAPSHOT_STATE_INCOMPLETE
        return -errno.EEXIST
    write_key(ctx, key, snap.encode)
    return None


@register(CLASS, "group_snap_remove", RD | WR)
def group_snap_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    snap_id = decode_input(indata, lambda d: d.string())
    ctx.map_remove_key(GROUP_SNAP_KEY_PREFIX + snap_id)
    return None


@register(CLASS, "group_snap_get_by_id", RD)
def group_snap_get_by_id(ctx: MethodContext, indata: bytes) -> MethodResult:
    snap_id = decode_input(indata, lambda d: d.string())
    snap = read_key(ctx, GROUP_SNAP_KEY_PREFIX + snap_id, GroupSnapshot.decode)
    return enc(snap.encode)


@register(CLASS, "group_snap_list", RD)
def group_snap_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: start_after GroupSnapshot, max_return. Out: vector<GroupSnapshot> by id."""
    start, max_return = decode_input(indata, lambda d: (GroupSnapshot.decode(d), d.u64()))
    items = _page(ctx, GROUP_SNAP_KEY_PREFIX, GROUP_SNAP_KEY_PREFIX + start.id, max_return)
    snaps = [_dec(v, GroupSnapshot.decode, k) for k, v in items]
    return enc(lambda e: (e.u32(len(snaps)), [s.encode(e) for s in snaps]))


# -- the v1 format ---------------------------------------------------------------------------------
_V1_FIXED = struct.Struct("<40s24s4s8s4BQQIIQ")  #: rbd_obj_header_ondisk without snaps
_V1_SNAP = struct.Struct("<QQ")  #: rbd_obj_snap_ondisk {id, image_size}


@dataclass
class _V1Header:
    """A parsed v1 header; `snaps` are (id, size, name), newest first."""

    fixed: list[object]
    snaps: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def image_size(self) -> int:
        return int(self.fixed[8])  # type: ignore[call-overload]

    @property
    def snap_seq(self) -> int:
        return int(self.fixed[9])  # type: ignore[call-overload]

    def encode(self, snap_seq: int | None = None) -> bytes:
        f = list(self.fixed)
        if snap_seq is not None:
            f[9] = snap_seq
        names = b"".join(n.encode("utf-8", "surrogateescape") + b"\0" for _, _, n in self.snaps)
        f[10], f[12] = len(self.snaps), len(names)
        body = _V1_FIXED.pack(*f)
        body += b"".join(_V1_SNAP.pack(i, s) for i, s, _ in self.snaps)
        return body + names


def _read_v1(ctx: MethodContext) -> _V1Header:
    """snap_read_header: EINVAL when the object is shorter than a v1 header."""
    size, _ = ctx.stat()
    raw = ctx.read(0, size) if size else b""
    if len(raw) < _V1_FIXED.size:
        raise ClsError(errno.EINVAL, "not a v1 header")
    fixed = list(_V1_FIXED.unpack_from(raw))
    count, names_len = int(fixed[10]), int(fixed[12])
    off = _V1_FIXED.size
    table = raw[off : off + count * _V1_SNAP.size]
    names_raw = raw[off + count * _V1_SNAP.size : off + count * _V1_SNAP.size + names_len]
    if len(table) < count * _V1_SNAP.size:
        raise ClsError(errno.EIO, "truncated v1 snapshot table")
    names = names_raw.split(b"\0")
    if len(names) < count:
        raise ClsError(errno.EIO, "truncated v1 snapshot names")
    hdr = _V1Header(fixed)
    for i in range(count):
        sid, ssize = _V1_SNAP.unpack_from(table, i * _V1_SNAP.size)
        hdr.snaps.append((sid, ssize, names[i].decode("utf-8", "surrogateescape")))
    return hdr


@register(CLASS, "snap_list", RD)
def old_snapshots_list(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Out: snap_seq u64, snap_count u32, then per snapshot id u64, image_size u64, name."""
    hdr = _read_v1(ctx)

    def b(e) -> None:  # type: ignore[no-untyped-def]
        e.u64(hdr.snap_seq)
        e.u32(len(hdr.snaps))
        for sid, ssize, name in hdr.snaps:
            e.u64(sid)
            e.u64(ssize)
            e.string(name)

    return enc(b)


@register(CLASS, "snap_add", RD | WR)
def old_snapshot_add(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: name, snap_id. ESTALE below snap_seq, EDQUOT at the limit, EEXIST for a used name."""
    hdr = _read_v1(ctx)
    name, snap_id = decode_input(indata, lambda d: (d.string(), d.u64()))
    if hdr.snap_seq > snap_id:
        return -errno.ESTALE
    limit = read_key_or(ctx, "snap_limit", lambda d: d.u64(), UINT64_MAX)
    if len(hdr.snaps) >= limit:
        return -errno.EDQUOT
    if any(n == name for _, _, n in hdr.snaps):
        return -errno.EEXIST
    hdr.snaps.insert(0, (snap_id, hdr.image_size, name))
    ctx.write_full(hdr.encode(snap_seq=snap_id))
    return None


@register(CLASS, "snap_remove", RD | WR)
def old_snapshot_remove(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: name. ENOENT when there is no such snapshot."""
    hdr = _read_v1(ctx)
    name = decode_input(indata, lambda d: d.string())
    for i, (_, _, n) in enumerate(hdr.snaps):
        if n == name:
            del hdr.snaps[i]
            ctx.write_full(hdr.encode())
            return None
    return -errno.ENOENT


@register(CLASS, "snap_rename", RD | WR)
def old_snapshot_rename(ctx: MethodContext, indata: bytes) -> MethodResult:
    """In: src_snap_id, dst name. EEXIST for a used name, ENOENT for an unknown id."""
    hdr = _read_v1(ctx)
    src_id, dst = decode_input(indata, lambda d: (d.u64(), d.string()))
    if any(n == dst for _, _, n in hdr.snaps):
        return -errno.EEXIST
    for i, (sid, ssize, _) in enumerate(hdr.snaps):
        if sid == src_id:
            hdr.snaps[i] = (sid, ssize, dst)
            ctx.write_full(hdr.encode())
            return None
    return -errno.ENOENT
