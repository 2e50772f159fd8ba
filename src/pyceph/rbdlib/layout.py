"""Where an RBD image lives in RADOS: object names and the striping map (sans-I/O).

Upstream's format-2 layout (`src/include/rbd_types.h`, `src/librbd/Utils.cc`,
`src/librbd/ObjectMap.cc`): a pool holds `rbd_directory` (name <-> id), one
`rbd_id.<name>` per image (its id), `rbd_header.<id>` (metadata kept by the `rbd`
object class), `rbd_data.<id>.<objectno:016x>` (data) and
`rbd_object_map.<id>[.<snapid:016x>]`; `rbd_children` / `rbd_trash` / `rbd_info` /
`rbd_namespace` / `rbd_mirroring` / `rbd_group_*` are pool-wide objects.

`Layout.file_to_extents` is upstream's `Striper::file_to_extents`: an image byte range
maps, stripe unit by stripe unit, onto object extents, each with the pieces of the
caller's buffer it covers; `Layout.num_objects` is `Striper::get_num_objects`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pyceph.msg.osd_ops import CEPH_NOSNAP

RBD_DIRECTORY = "rbd_directory"
RBD_CHILDREN = "rbd_children"
RBD_TRASH = "rbd_trash"
RBD_INFO = "rbd_info"
RBD_NAMESPACE = "rbd_namespace"
RBD_MIRRORING = "rbd_mirroring"
RBD_TASK = "rbd_task"
RBD_GROUP_DIRECTORY = "rbd_group_directory"
RBD_GROUP_HEADER_PREFIX = "rbd_group_header."
RBD_GROUP_ID_PREFIX = "rbd_group_id."
RBD_HEADER_PREFIX = "rbd_header."
RBD_DATA_PREFIX = "rbd_data."
RBD_ID_PREFIX = "rbd_id."
RBD_OBJECT_MAP_PREFIX = "rbd_object_map."
#: Format-1 images: `<name>.rbd` holds the header, data objects are `rb.<hi>.<lo>.<n:012x>`.
RBD_SUFFIX = ".rbd"
#: The advisory/managed lock name on the header object (RBD_LOCK_NAME).
RBD_LOCK_NAME = "rbd_lock"

#: RBD_MAX_BLOCK_NAME_SIZE (24) less "rbd_data." and its NUL: the longest image id.
RBD_MAX_IMAGE_ID_LENGTH = 14
#: The longest object prefix a header may record (CreateRequest refuses longer: EINVAL).
RBD_MAX_BLOCK_NAME_PREFIX_LENGTH = 43
#: Orders (log2 of the object size) an image may have (CreateRequest::validate_order).
MIN_ORDER = 12
MAX_ORDER = 25
DEFAULT_ORDER = 22


def id_obj_name(name: str) -> str:
    """`rbd_id.<name>` (util::id_obj_name)."""
    return RBD_ID_PREFIX + name


def header_name(image_id: str) -> str:
    """`rbd_header.<id>` (util::header_name)."""
    return RBD_HEADER_PREFIX + image_id


def old_header_name(name: str) -> str:
    """`<name>.rbd`: the header of a format-1 image."""
    return name + RBD_SUFFIX


def data_prefix(image_id: str, pool_id: int | None = None) -> str:
    """The object prefix a new image records: `rbd_data.<id>`, or
    `rbd_data.<pool>.<id>` when its data lives in another pool (CreateRequest)."""
    if pool_id is not None:
        return f"{RBD_DATA_PREFIX}{pool_id}.{image_id}"
    return RBD_DATA_PREFIX + image_id


def data_object_name(prefix: str, objectno: int, old_format: bool = False) -> str:
    """`<prefix>.<objectno:016x>` (format 2) or `.<objectno:012x>` (format 1)."""
    return f"{prefix}.{objectno:012x}" if old_format else f"{prefix}.{objectno:016x}"


def object_map_name(image_id: str, snap_id: int = CEPH_NOSNAP) -> str:
    """`rbd_object_map.<id>` for the head, `.<snapid:016x>` appended for a snapshot."""
    name = RBD_OBJECT_MAP_PREFIX + image_id
    return name if snap_id == CEPH_NOSNAP else f"{name}.{snap_id:016x}"


def generate_image_id(instance_id: int, rng: random.Random | None = None) -> str:
    """util::generate_image_id: hex of the client's global id then hex of a random u32,
    keeping the last RBD_MAX_IMAGE_ID_LENGTH characters."""
    extra = (rng or random).randrange(0xFFFFFFFF)
    image_id = f"{instance_id:x}{extra:x}"
    return image_id[-RBD_MAX_IMAGE_ID_LENGTH:]


@dataclass(slots=True)
class ObjectExtent:
    """A byte range of one object and where its bytes sit in the caller's buffer."""

    objectno: int
    offset: int
    length: int
    #: [(buffer offset, length)] in object order; they sum to `length`.
    buffer_extents: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Layout:
    """An image's file layout: object size 2**order, stripe unit and count."""

    order: int
    stripe_unit: int = 0
    stripe_count: int = 0

    @property
    def object_size(self) -> int:
        return 1 << self.order

    @property
    def su(self) -> int:
        return self.stripe_unit or self.object_size

    @property
    def sc(self) -> int:
        return self.stripe_count or 1

    @property
    def period(self) -> int:
        """Bytes of one object set: stripe_count objects."""
        return self.sc * self.object_size

    def num_objects(self, size: int) -> int:
        """Striper::get_num_objects: objects an image of `size` bytes may touch."""
        su, sc, period = self.su, self.sc, self.period
        num_periods = (size + period - 1) // period
        remainder = size % period
        remainder_objs = 0
        if 0 < remainder < sc * su:
            remainder_objs = sc - (remainder + su - 1) // su
        return num_periods * sc - remainder_objs

    def file_to_extents(self, offset: int, length: int) -> list[ObjectExtent]:
        """Striper::file_to_extents: per-object extents of [offset, offset+length), in
        the order objects are first touched. Within one contiguous image range an
        object's pieces are consecutive in the object, so each object gets one extent."""
        su, sc = self.su, self.sc
        stripes_per_object = self.object_size // su
        by_obj: dict[int, ObjectExtent] = {}
        cur, left = offset, length
        while left > 0:
            blockno = cur // su
            stripeno, stripepos = divmod(blockno, sc)
            objectsetno = stripeno // stripes_per_object
            objectno = objectsetno * sc + stripepos
            block_off = cur % su
            x_off = (stripeno % stripes_per_object) * su + block_off
            x_len = min(left, su - block_off)
            ext = by_obj.get(objectno)
            if ext is None:
                by_obj[objectno] = ObjectExtent(objectno, x_off, x_len, [(cur - offset, x_len)])
            else:
                # a later stripe of an object already touched: always the next bytes of it
                ext.length += x_len
                last_off, last_len = ext.buffer_extents[-1]
                if last_off + last_len == cur - offset:
                    ext.buffer_extents[-1] = (last_off, last_len + x_len)
                else:
                    ext.buffer_extents.append((cur - offset, x_len))
            cur += x_len
            left -= x_len
        return list(by_obj.values())

    def object_to_file(self, objectno: int, offset: int, length: int) -> list[tuple[int, int]]:
        """Striper::extent_to_file: image extents [(offset, length)] of an object range."""
        su, sc = self.su, self.sc
        stripes_per_object = self.object_size // su
        out: list[tuple[int, int]] = []
        objectsetno, stripepos = divmod(objectno, sc)
        off, left = offset, length
        while left > 0:
            stripe_in_obj, block_off = divmod(off, su)
            stripeno = objectsetno * stripes_per_object + stripe_in_obj
            blockno = stripeno * sc + stripepos
            n = min(left, su - block_off)
            file_off = blockno * su + block_off
            if out and out[-1][0] + out[-1][1] == file_off:
                out[-1] = (out[-1][0], out[-1][1] + n)
            else:
                out.append((file_off, n))
            off += n
            left -= n
        return out

    def object_file_bounds(self, objectno: int) -> int:
        """The image offset just past the last byte object `objectno` maps."""
        ext = self.object_to_file(objectno, 0, self.object_size)
        return ext[-1][0] + ext[-1][1]
