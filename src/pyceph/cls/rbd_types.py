"""The types and constants of the ``rbd`` object class, in upstream's binary encoding.

Both sides import this module: the class on the OSD (`pyceph.cls.rbd`) to store and answer,
and the client (`pyceph.rbdlib.cls_client`) to ask. Every struct encodes exactly as upstream's
(src/cls/rbd/cls_rbd.h, cls_rbd_types.h/.cc, include/rbd/features.h, include/rbd_types.h
of Ceph 16.2): ENCODE_START framing (struct_v u8, compat u8, u32 length),
little-endian integers, strings as u32 length + bytes, std::optional as a bool byte and the
value, std::map/std::set as a u32 count and the items in key order.

Pacific OSDs require Nautilus or later, so the on-disk forms are the Nautilus ones: the parent
link (`cls_rbd_parent` v2 with a namespace and an optional overlap) and snapshot records
(`cls_rbd_snap` v8, compat 8, the parent link normalized into the header's ``parent`` key).
Object maps (`pyceph.cls.rbd_bitvector`) and mirroring records and constants
(`pyceph.cls.rbd_mirror_types`) live in their own modules and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

# Re-exported (object maps and mirroring records have modules of their own):
from pyceph.cls.rbd_bitvector import BitVector2, ceph_crc32c  # noqa: F401
from pyceph.cls.rbd_mirror_types import (  # noqa: F401
    LOCAL_MIRROR_UUID,
    MIRROR_IMAGE_MODE_JOURNAL,
    MIRROR_IMAGE_MODE_SNAPSHOT,
    MIRROR_IMAGE_STATE_DISABLED,
    MIRROR_IMAGE_STATE_DISABLING,
    MIRROR_IMAGE_STATE_ENABLED,
    MIRROR_IMAGE_STATUS_STATE_ERROR,
    MIRROR_IMAGE_STATUS_STATE_REPLAYING,
    MIRROR_IMAGE_STATUS_STATE_STARTING_REPLAY,
    MIRROR_IMAGE_STATUS_STATE_STOPPED,
    MIRROR_IMAGE_STATUS_STATE_STOPPING_REPLAY,
    MIRROR_IMAGE_STATUS_STATE_SYNCING,
    MIRROR_IMAGE_STATUS_STATE_UNKNOWN,
    MIRROR_MODE_DISABLED,
    MIRROR_MODE_IMAGE,
    MIRROR_MODE_POOL,
    MIRROR_PEER_DIRECTION_RX,
    MIRROR_PEER_DIRECTION_RX_TX,
    MIRROR_PEER_DIRECTION_TX,
    MirrorImage,
    MirrorImageMap,
    MirrorImageSiteStatus,
    MirrorImageStatus,
    MirrorPeer,
)
from pyceph.common.denc import ZERO_UTIME, Decoder, DencError, Encoder, Utime
from pyceph.msg.osd_ops import CEPH_NOSNAP

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

# -- snapshot ids (include/rados.h) ----------------------------------------------------------
CEPH_SNAPDIR = (1 << 64) - 1
CEPH_MAXSNAP = (1 << 64) - 3  #: largest valid snapshot id
UINT64_MAX = (1 << 64) - 1

# -- image features (include/rbd/features.h) -------------------------------------------------
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

RBD_FEATURES_ALL = (1 << 12) - 1
RBD_FEATURES_INCOMPATIBLE = (
    RBD_FEATURE_LAYERING | RBD_FEATURE_STRIPINGV2 | RBD_FEATURE_DATA_POOL | RBD_FEATURE_NON_PRIMARY
)
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
RBD_FEATURES_MUTABLE = (
    RBD_FEATURE_EXCLUSIVE_LOCK
    | RBD_FEATURE_OBJECT_MAP
    | RBD_FEATURE_FAST_DIFF
    | RBD_FEATURE_JOURNALING
    | RBD_FEATURE_NON_PRIMARY
    | RBD_FEATURE_DIRTY_CACHE
)
RBD_FEATURES_DISABLE_ONLY = RBD_FEATURE_DEEP_FLATTEN
RBD_FEATURES_INTERNAL = RBD_FEATURE_OPERATIONS | RBD_FEATURE_MIGRATING

# -- operation features (op_features key) -----------------------------------------------------
RBD_OPERATION_FEATURE_CLONE_PARENT = 1 << 0
RBD_OPERATION_FEATURE_CLONE_CHILD = 1 << 1
RBD_OPERATION_FEATURE_GROUP = 1 << 2
RBD_OPERATION_FEATURE_SNAP_TRASH = 1 << 3
RBD_OPERATION_FEATURES_ALL = (1 << 4) - 1

# -- snapshot protection (include/rbd_types.h) ------------------------------------------------
RBD_PROTECTION_STATUS_UNPROTECTED = 0
RBD_PROTECTION_STATUS_UNPROTECTING = 1
RBD_PROTECTION_STATUS_PROTECTED = 2
RBD_PROTECTION_STATUS_LAST = 3

# -- image flags ------------------------------------------------------------------------------
RBD_FLAG_OBJECT_MAP_INVALID = 1 << 0
RBD_FLAG_FAST_DIFF_INVALID = 1 << 1

# -- object map states (include/rbd/object_map_types.h) ----------------------------------------
OBJECT_NONEXISTENT = 0
OBJECT_EXISTS = 1
OBJECT_PENDING = 2
OBJECT_EXISTS_CLEAN = 3
#: cls::rbd::MAX_OBJECT_MAP_OBJECT_COUNT: bound on an object map's size.
MAX_OBJECT_MAP_OBJECT_COUNT = 256_000_000

# -- snapshot namespaces ------------------------------------------------------------------------
SNAPSHOT_NAMESPACE_TYPE_USER = 0
SNAPSHOT_NAMESPACE_TYPE_GROUP = 1
SNAPSHOT_NAMESPACE_TYPE_TRASH = 2
SNAPSHOT_NAMESPACE_TYPE_MIRROR = 3
SNAPSHOT_NAMESPACE_TYPE_UNKNOWN = -1  #: pyceph's tag for a type this release does not know

MIRROR_SNAPSHOT_STATE_PRIMARY = 0
MIRROR_SNAPSHOT_STATE_PRIMARY_DEMOTED = 1
MIRROR_SNAPSHOT_STATE_NON_PRIMARY = 2
MIRROR_SNAPSHOT_STATE_NON_PRIMARY_DEMOTED = 3

# -- trash ----------------------------------------------------------------------------------------
TRASH_IMAGE_SOURCE_USER = 0
TRASH_IMAGE_SOURCE_MIRRORING = 1
TRASH_IMAGE_SOURCE_MIGRATION = 2
TRASH_IMAGE_SOURCE_REMOVING = 3
TRASH_IMAGE_SOURCE_USER_PARENT = 4

TRASH_IMAGE_STATE_NORMAL = 0
TRASH_IMAGE_STATE_MOVING = 1
TRASH_IMAGE_STATE_REMOVING = 2
TRASH_IMAGE_STATE_RESTORING = 3

# -- directory, migration, snapc assertions, groups, mirroring ----------------------------------
DIRECTORY_STATE_READY = 0
DIRECTORY_STATE_ADD_DISABLED = 1

MIGRATION_HEADER_TYPE_SRC = 1
MIGRATION_HEADER_TYPE_DST = 2

MIGRATION_STATE_ERROR = 0
MIGRATION_STATE_PREPARING = 1
MIGRATION_STATE_PREPARED = 2
MIGRATION_STATE_EXECUTING = 3
MIGRATION_STATE_EXECUTED = 4
MIGRATION_STATE_ABORTING = 5

ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ = 0
ASSERT_SNAPC_SEQ_LE_SNAPSET_SEQ = 1

GROUP_IMAGE_LINK_STATE_ATTACHED = 0
GROUP_IMAGE_LINK_STATE_INCOMPLETE = 1
GROUP_SNAPSHOT_STATE_INCOMPLETE = 0
GROUP_SNAPSHOT_STATE_COMPLETE = 1


# -- v1 (old format) header ---------------------------------------------------------------------
RBD_HEADER_TEXT = b"<<< Rados Block Device Image >>>\n"
RBD_MIGRATE_HEADER_TEXT = b"<<< Migrating RBD Image      >>>\n"
RBD_HEADER_SIGNATURE = b"RBD"
RBD_HEADER_VERSION = b"001.005"


# -- small encoding helpers ---------------------------------------------------------------------
def enc_i64(e: Encoder, v: int) -> None:
    e.i64(v)


def enc_bool(e: Encoder, v: bool) -> None:
    e.boolean(v)


def dec_bool(d: Decoder) -> bool:
    return d.boolean()


def enc_opt_u64(e: Encoder, v: int | None) -> None:
    """std::optional<uint64_t>: a bool byte, then the value when present."""
    if v is None:
        e.u8(0)
    else:
        e.u8(1)
        e.u64(v)


def dec_opt_u64(d: Decoder) -> int | None:
    return d.u64() if d.u8() else None


def enc_map(
    e: Encoder, m: dict[K, V], ek: Callable[[K], None], ev: Callable[[V], None], key=None
) -> None:
    """std::map: u32 count, then key/value pairs in key order."""
    e.u32(len(m))
    for k in sorted(m, key=key):
        ek(k)
        ev(m[k])


def dec_map(d: Decoder, dk: Callable[[], K], dv: Callable[[], V]) -> dict[K, V]:
    n = d.u32()
    if n > len(d.buf) - d.pos:
        raise DencError("buffer::end_of_buffer")
    out: dict[K, V] = {}
    for _ in range(n):
        k = dk()
        out[k] = dv()
    return out


def enc_str_set(e: Encoder, items: set[str] | list[str]) -> None:
    """std::set<std::string> in byte order."""
    e.seq(sorted(items, key=lambda s: s.encode()), e.string)


def encode_u64_map(e: Encoder, m: dict[int, int]) -> None:
    enc_map(e, m, e.u64, e.u64)


def decode_u64_map(d: Decoder) -> dict[int, int]:
    return dec_map(d, d.u64, d.u64)


def finish(d: Decoder) -> None:
    """Nothing may follow (a malformed-input check for whole buffers we own)."""
    if d.pos != len(d.buf):
        raise DencError("trailing bytes")


def at_end(d: Decoder) -> bool:
    """bufferlist::iterator::end(): optional trailing arguments are absent."""
    return d.pos >= len(d.buf)


def snap_key(snap_id: int) -> str:
    """``snapshot_<id:016x>``: a snapshot record's omap key."""
    return f"snapshot_{snap_id:016x}"


def snap_children_key(snap_id: int) -> str:
    """``snap_children_<id:016x>``: a snapshot's clone-v2 children."""
    return f"snap_children_{snap_id:016x}"


# -- snapshot namespaces --------------------------------------------------------------------------
@dataclass(frozen=True)
class UserSnapshotNamespace:
    """cls::rbd::UserSnapshotNamespace (no fields)."""

    type: int = field(default=SNAPSHOT_NAMESPACE_TYPE_USER, init=False)


@dataclass(frozen=True)
class GroupSnapshotNamespace:
    """cls::rbd::GroupSnapshotNamespace: {group_pool i64, group_id, group_snapshot_id}."""

    group_pool: int = 0
    group_id: str = ""
    group_snapshot_id: str = ""
    type: int = field(default=SNAPSHOT_NAMESPACE_TYPE_GROUP, init=False)


@dataclass(frozen=True)
class TrashSnapshotNamespace:
    """cls::rbd::TrashSnapshotNamespace: {original_name, original_snapshot_namespace_type u32}."""

    original_name: str = ""
    original_snapshot_namespace_type: int = SNAPSHOT_NAMESPACE_TYPE_USER
    type: int = field(default=SNAPSHOT_NAMESPACE_TYPE_TRASH, init=False)


@dataclass(frozen=True)
class MirrorSnapshotNamespace:
    """cls::rbd::MirrorSnapshotNamespace: {state u8, complete bool, mirror_peer_uuids set,
    primary_mirror_uuid, primary_snap_id u64, last_copied_object_number u64,
    snap_seqs map<u64,u64>}."""

    state: int = MIRROR_SNAPSHOT_STATE_NON_PRIMARY
    complete: bool = False
    mirror_peer_uuids: frozenset[str] = frozenset()
    primary_mirror_uuid: str = ""
    primary_snap_id: int = CEPH_NOSNAP
    last_copied_object_number: int = 0
    snap_seqs: tuple[tuple[int, int], ...] = ()
    type: int = field(default=SNAPSHOT_NAMESPACE_TYPE_MIRROR, init=False)


@dataclass(frozen=True)
class UnknownSnapshotNamespace:
    """A namespace type this release does not know (its body is skipped)."""

    type: int = field(default=SNAPSHOT_NAMESPACE_TYPE_UNKNOWN, init=False)


SnapshotNamespace = (
    UserSnapshotNamespace
    | GroupSnapshotNamespace
    | TrashSnapshotNamespace
    | MirrorSnapshotNamespace
    | UnknownSnapshotNamespace
)


def encode_snapshot_namespace(e: Encoder, ns: SnapshotNamespace) -> None:
    """cls::rbd::SnapshotNamespace: ENCODE_START(1, 1) { u32 type, the type's fields }."""
    if isinstance(ns, UnknownSnapshotNamespace):
        raise ValueError("cannot encode an unknown snapshot namespace")
    with e.struct(1, 1):
        e.u32(ns.type)
        if isinstance(ns, GroupSnapshotNamespace):
            e.i64(ns.group_pool)
            e.string(ns.group_id)
            e.string(ns.group_snapshot_id)
        elif isinstance(ns, TrashSnapshotNamespace):
            e.string(ns.original_name)
            e.u32(ns.original_snapshot_namespace_type)
        elif isinstance(ns, MirrorSnapshotNamespace):
            e.u8(ns.state)
            enc_bool(e, ns.complete)
            enc_str_set(e, set(ns.mirror_peer_uuids))
            e.string(ns.primary_mirror_uuid)
            e.u64(ns.primary_snap_id)
            e.u64(ns.last_copied_object_number)
            encode_u64_map(e, dict(ns.snap_seqs))


def decode_snapshot_namespace(d: Decoder) -> SnapshotNamespace:
    with d.struct(1):
        t = d.u32()
        if t == SNAPSHOT_NAMESPACE_TYPE_USER:
            return UserSnapshotNamespace()
        if t == SNAPSHOT_NAMESPACE_TYPE_GROUP:
            return GroupSnapshotNamespace(d.i64(), d.string(), d.string())
        if t == SNAPSHOT_NAMESPACE_TYPE_TRASH:
            return TrashSnapshotNamespace(d.string(), d.u32())
        if t == SNAPSHOT_NAMESPACE_TYPE_MIRROR:
            state, complete = d.u8(), dec_bool(d)
            peers = frozenset(d.seq(d.string))
            primary_uuid, primary_snap, last_copied = d.string(), d.u64(), d.u64()
            seqs = tuple(sorted(decode_u64_map(d).items()))
            return MirrorSnapshotNamespace(
                state, complete, peers, primary_uuid, primary_snap, last_copied, seqs
            )
        return UnknownSnapshotNamespace()


# -- parent / child specs ---------------------------------------------------------------------------
@dataclass
class ParentImageSpec:
    """cls::rbd::ParentImageSpec: ENCODE_START(1, 1) {pool_id i64, pool_namespace, image_id,
    snap_id u64}."""

    pool_id: int = -1
    pool_namespace: str = ""
    image_id: str = ""
    snap_id: int = CEPH_NOSNAP

    def exists(self) -> bool:
        return self.pool_id >= 0 and bool(self.image_id) and self.snap_id != CEPH_NOSNAP

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.i64(self.pool_id)
            e.string(self.pool_namespace)
            e.string(self.image_id)
            e.u64(self.snap_id)

    @classmethod
    def decode(cls, d: Decoder) -> ParentImageSpec:
        with d.struct(1):
            return cls(d.i64(), d.string(), d.string(), d.u64())


@dataclass(frozen=True, order=True)
class ChildImageSpec:
    """cls::rbd::ChildImageSpec: ENCODE_START(2, 1) {pool_id i64, image_id, pool_namespace
    (v2)}; ordered as upstream's operator< (pool, namespace, image id)."""

    pool_id: int = -1
    pool_namespace: str = ""
    image_id: str = ""

    def encode(self, e: Encoder) -> None:
        with e.struct(2, 1):
            e.i64(self.pool_id)
            e.string(self.image_id)
            e.string(self.pool_namespace)

    @classmethod
    def decode(cls, d: Decoder) -> ChildImageSpec:
        with d.struct(1) as v:
            pool_id, image_id = d.i64(), d.string()
            ns = d.string() if v >= 2 else ""
        return cls(pool_id, ns, image_id)

    def sort_key(self) -> tuple[int, bytes, bytes]:
        return self.pool_id, self.pool_namespace.encode(), self.image_id.encode()


def encode_child_specs(e: Encoder, specs: set[ChildImageSpec] | list[ChildImageSpec]) -> None:
    """cls::rbd::ChildImageSpecs (std::set<ChildImageSpec>)."""
    items = sorted(set(specs), key=ChildImageSpec.sort_key)
    e.u32(len(items))
    for s in items:
        s.encode(e)


def decode_child_specs(d: Decoder) -> list[ChildImageSpec]:
    return d.seq(lambda: ChildImageSpec.decode(d))


@dataclass
class ClsRbdParent:
    """cls_rbd_parent, the header's ``parent`` key: ENCODE_START(2, 2) {pool_id i64,
    pool_namespace, image_id, snap_id u64, head_overlap optional<u64>} (v1 decodes too)."""

    pool_id: int = -1
    pool_namespace: str = ""
    image_id: str = ""
    snap_id: int = CEPH_NOSNAP
    head_overlap: int | None = None

    def exists(self) -> bool:
        return self.pool_id >= 0 and bool(self.image_id) and self.snap_id != CEPH_NOSNAP

    def spec_equal(self, o: ClsRbdParent) -> bool:
        return (self.pool_id, self.pool_namespace, self.image_id, self.snap_id) == (
            o.pool_id,
            o.pool_namespace,
            o.image_id,
            o.snap_id,
        )

    def encode(self, e: Encoder) -> None:
        with e.struct(2, 2):
            e.i64(self.pool_id)
            e.string(self.pool_namespace)
            e.string(self.image_id)
            e.u64(self.snap_id)
            enc_opt_u64(e, self.head_overlap)

    @classmethod
    def decode(cls, d: Decoder) -> ClsRbdParent:
        with d.struct(2) as v:
            p = cls(d.i64())
            if v >= 2:
                p.pool_namespace = d.string()
            p.image_id = d.string()
            p.snap_id = d.u64()
            p.head_overlap = dec_opt_u64(d) if v >= 2 else d.u64()
        return p


@dataclass
class ClsRbdSnap:
    """cls_rbd_snap, a ``snapshot_<id>`` record: ENCODE_START(8, 8) {id, name, image_size,
    protection_status u8, flags u64, snapshot_namespace, timestamp utime, child_count u32,
    parent_overlap optional<u64>}. Older records (compat < 8) carry features and a full
    parent link, kept in `parent` when decoded."""

    id: int = CEPH_NOSNAP
    name: str = ""
    image_size: int = 0
    protection_status: int = RBD_PROTECTION_STATUS_UNPROTECTED
    parent: ClsRbdParent = field(default_factory=ClsRbdParent)
    flags: int = 0
    timestamp: Utime = ZERO_UTIME
    snapshot_namespace: SnapshotNamespace = field(default_factory=UserSnapshotNamespace)
    child_count: int = 0
    parent_overlap: int | None = None

    def encode(self, e: Encoder) -> None:
        with e.struct(8, 8):
            e.u64(self.id)
            e.string(self.name)
            e.u64(self.image_size)
            e.u8(self.protection_status)
            e.u64(self.flags)
            encode_snapshot_namespace(e, self.snapshot_namespace)
            e.utime(self.timestamp)
            e.u32(self.child_count)
            enc_opt_u64(e, self.parent_overlap)

    @classmethod
    def decode(cls, d: Decoder) -> ClsRbdSnap:
        s = cls()
        compat = d.buf[d.pos + 1] if d.pos + 1 < len(d.buf) else 0
        with d.struct(8) as v:
            s.id, s.name, s.image_size = d.u64(), d.string(), d.u64()
            if compat < 8:
                d.u64()  # unused features
                if v >= 2:
                    s.parent = ClsRbdParent.decode(d)
            if v >= 3:
                s.protection_status = d.u8()
            if v >= 4:
                s.flags = d.u64()
            if v >= 5:
                s.snapshot_namespace = decode_snapshot_namespace(d)
            if v >= 6:
                s.timestamp = d.utime()
            if v >= 7:
                s.child_count = d.u32()
            if v >= 8:
                s.parent_overlap = dec_opt_u64(d)
        return s


@dataclass
class SnapshotInfo:
    """cls::rbd::SnapshotInfo (snapshot_get's answer): ENCODE_START(1, 1) {id,
    snapshot_namespace, name, image_size, timestamp, child_count u32}."""

    id: int = CEPH_NOSNAP
    snapshot_namespace: SnapshotNamespace = field(default_factory=UserSnapshotNamespace)
    name: str = ""
    image_size: int = 0
    timestamp: Utime = ZERO_UTIME
    child_count: int = 0

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.u64(self.id)
            encode_snapshot_namespace(e, self.snapshot_namespace)
            e.string(self.name)
            e.u64(self.image_size)
            e.utime(self.timestamp)
            e.u32(self.child_count)

    @classmethod
    def decode(cls, d: Decoder) -> SnapshotInfo:
        with d.struct(1):
            return cls(
                d.u64(), decode_snapshot_namespace(d), d.string(), d.u64(), d.utime(), d.u32()
            )


# -- trash, migration --------------------------------------------------------------------------------
@dataclass
class TrashImageSpec:
    """cls::rbd::TrashImageSpec: ENCODE_START(2, 1) {source u8, name, deletion_time utime,
    deferment_end_time utime, state u8 (v2)}."""

    source: int = TRASH_IMAGE_SOURCE_USER
    name: str = ""
    deletion_time: Utime = ZERO_UTIME
    deferment_end_time: Utime = ZERO_UTIME
    state: int = TRASH_IMAGE_STATE_NORMAL

    def encode(self, e: Encoder) -> None:
        with e.struct(2, 1):
            e.u8(self.source)
            e.string(self.name)
            e.utime(self.deletion_time)
            e.utime(self.deferment_end_time)
            e.u8(self.state)

    @classmethod
    def decode(cls, d: Decoder) -> TrashImageSpec:
        with d.struct(1) as v:
            t = cls(d.u8(), d.string(), d.utime(), d.utime())
            if v >= 2:
                t.state = d.u8()
        return t


@dataclass
class MigrationSpec:
    """cls::rbd::MigrationSpec: ENCODE_START(3, 1) {header_type u8, pool_id i64,
    pool_namespace, image_name, image_id, snap_seqs map<u64,u64>, overlap u64, flatten bool,
    mirroring bool, state u8, state_description, mirror_image_mode u8 (v2), source_spec (v3)}."""

    header_type: int = MIGRATION_HEADER_TYPE_SRC
    pool_id: int = -1
    pool_namespace: str = ""
    image_name: str = ""
    image_id: str = ""
    snap_seqs: dict[int, int] = field(default_factory=dict)
    overlap: int = 0
    flatten: bool = False
    mirroring: bool = False
    mirror_image_mode: int = MIRROR_IMAGE_MODE_JOURNAL
    state: int = MIGRATION_STATE_ERROR
    state_description: str = ""
    source_spec: str = ""

    def encode(self, e: Encoder) -> None:
        with e.struct(3, 1):
            e.u8(self.header_type)
            e.i64(self.pool_id)
            e.string(self.pool_namespace)
            e.string(self.image_name)
            e.string(self.image_id)
            encode_u64_map(e, self.snap_seqs)
            e.u64(self.overlap)
            enc_bool(e, self.flatten)
            enc_bool(e, self.mirroring)
            e.u8(self.state)
            e.string(self.state_description)
            e.u8(self.mirror_image_mode)
            e.string(self.source_spec)

    @classmethod
    def decode(cls, d: Decoder) -> MigrationSpec:
        with d.struct(1) as v:
            m = cls(d.u8(), d.i64(), d.string(), d.string(), d.string())
            m.snap_seqs = decode_u64_map(d)
            m.overlap, m.flatten, m.mirroring = d.u64(), dec_bool(d), dec_bool(d)
            m.state, m.state_description = d.u8(), d.string()
            if v >= 2:
                m.mirror_image_mode = d.u8()
            if v >= 3:
                m.source_spec = d.string()
        return m


# -- groups ---------------------------------------------------------------------------------------------
@dataclass
class GroupSpec:
    """cls::rbd::GroupSpec: ENCODE_START(1, 1) {pool_id i64, group_id}."""

    group_id: str = ""
    pool_id: int = -1

    def is_valid(self) -> bool:
        return bool(self.group_id) and self.pool_id != -1

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.i64(self.pool_id)
            e.string(self.group_id)

    @classmethod
    def decode(cls, d: Decoder) -> GroupSpec:
        with d.struct(1):
            pool_id = d.i64()
            return cls(d.string(), pool_id)


@dataclass(frozen=True)
class GroupImageSpec:
    """cls::rbd::GroupImageSpec: ENCODE_START(1, 1) {image_id, pool_id i64}."""

    image_id: str = ""
    pool_id: int = -1

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.string(self.image_id)
            e.i64(self.pool_id)

    @classmethod
    def decode(cls, d: Decoder) -> GroupImageSpec:
        with d.struct(1):
            return cls(d.string(), d.i64())

    def image_key(self) -> str:
        """``image_<pool:016x>_<image_id>`` (empty for pool -1)."""
        if self.pool_id == -1:
            return ""
        return f"image_{self.pool_id & UINT64_MAX:016x}_{self.image_id}"

    @classmethod
    def from_key(cls, key: str) -> GroupImageSpec:
        body = key[len("image_") :]
        pool_hex, sep, image_id = body.partition("_")
        if not sep:
            raise DencError("bad group image key")
        return cls(image_id, int(pool_hex, 16))


@dataclass
class GroupImageStatus:
    """cls::rbd::GroupImageStatus: ENCODE_START(1, 1) {spec, state u8}."""

    spec: GroupImageSpec = field(default_factory=GroupImageSpec)
    state: int = GROUP_IMAGE_LINK_STATE_INCOMPLETE

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            self.spec.encode(e)
            e.u8(self.state)

    @classmethod
    def decode(cls, d: Decoder) -> GroupImageStatus:
        with d.struct(1):
            return cls(GroupImageSpec.decode(d), d.u8())


@dataclass(frozen=True)
class ImageSnapshotSpec:
    """cls::rbd::ImageSnapshotSpec: ENCODE_START(1, 1) {pool i64, image_id, snap_id u64}."""

    pool: int = -1
    image_id: str = ""
    snap_id: int = CEPH_NOSNAP

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.i64(self.pool)
            e.string(self.image_id)
            e.u64(self.snap_id)

    @classmethod
    def decode(cls, d: Decoder) -> ImageSnapshotSpec:
        with d.struct(1):
            return cls(d.i64(), d.string(), d.u64())


@dataclass
class GroupSnapshot:
    """cls::rbd::GroupSnapshot: ENCODE_START(1, 1) {id, name, state u8, snaps vector}."""

    id: str = ""
    name: str = ""
    state: int = GROUP_SNAPSHOT_STATE_INCOMPLETE
    snaps: list[ImageSnapshotSpec] = field(default_factory=list)

    def encode(self, e: Encoder) -> None:
        with e.struct(1, 1):
            e.string(self.id)
            e.string(self.name)
            e.u8(self.state)
            e.u32(len(self.snaps))
            for s in self.snaps:
                s.encode(e)

    @classmethod
    def decode(cls, d: Decoder) -> GroupSnapshot:
        with d.struct(1):
            return cls(d.string(), d.string(), d.u8(), d.seq(lambda: ImageSnapshotSpec.decode(d)))


def decode_all(b: bytes, fn: Callable[[Decoder], T]) -> T:
    """Decode one value that must fill `b`."""
    d = Decoder(b)
    v = fn(d)
    finish(d)
    return v
