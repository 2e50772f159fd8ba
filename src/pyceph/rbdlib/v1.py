"""RBD format-1 ("old format") images: open, refresh, resize, snapshots and the
``rbd_directory`` tmap entries.

librbd 16.2 no longer creates format-1 images but still opens, reads, writes, resizes,
snapshots and removes them (src/librbd/image/OpenRequest.cc v1 path,
RefreshRequest::send_v1_*, operation/ResizeRequest, internal.cc tmap_set/tmap_rm). A
format-1 image `<name>` is:

* the header object ``<name>.rbd`` holding ``struct rbd_obj_header_ondisk``
  (src/include/rbd_types.h): the "<<< Rados Block Device Image >>>" text, the block name
  (object prefix ``rb.0.<..>``), signature, version, order, size, snap seq/count, then
  the snapshots (``{id, image_size}``, newest first) and their NUL-terminated names —
  snapshots are added/removed/listed by the ``rbd`` class's ``snap_add``/``snap_remove``/
  ``snap_list`` methods (`pyceph.cls.rbd_pool`);
* data objects ``<block name>.<objectno:012x>``;
* an entry in ``rbd_directory``'s tmap (data, not omap), name -> empty value.

A format-1 image has no id, no features, no striping beyond its object size, no data
pool, no parent and no timestamps; advisory locks and image metadata live on its header
as on a format-2 one. librbd 16.2 creates one only when the environment variable
RBD_FORCE_ALLOW_V1 is set (internal.cc create_v1); `create` does the same.
"""

from __future__ import annotations

import errno
import os
import random
import struct
from dataclasses import dataclass

from pyceph.client.ioctx import IoCtx
from pyceph.client.op import ObjectOp
from pyceph.cls import rbd_types as T
from pyceph.common import tmap
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib._util import ignore_enoent
from pyceph.rbdlib.header import ImageState, SnapState
from pyceph.rbdlib.layout import RBD_DIRECTORY, old_header_name

#: RBD_HEADER_TEXT: how a format-1 header starts.
RBD_HEADER_TEXT = b"<<< Rados Block Device Image >>>\n"
#: struct rbd_obj_header_ondisk up to (not including) its snapshot table: text[40],
#: block_name[24], signature[4], version[8], options {order, crypt, comp, unused},
#: image_size, snap_seq, snap_count, reserved, snap_names_len.
HEADER_STRUCT = struct.Struct("<40s24s4s8s4BQQIIQ")
#: offsetof(rbd_obj_header_ondisk, image_size): where ResizeRequest rewrites the size.
IMAGE_SIZE_OFFSET = 40 + 24 + 4 + 8 + 4
_U64 = struct.Struct("<Q")
#: The environment variable that lets librbd 16.2 create format-1 images.
FORCE_ALLOW_V1_ENV = "RBD_FORCE_ALLOW_V1"
#: rbd_obj_header_ondisk's signature and version fields as librbd writes them.
HEADER_SIGNATURE = b"RBD"
HEADER_VERSION = b"001.005"


@dataclass(frozen=True, slots=True)
class OnDiskHeader:
    """The fixed part of a format-1 header."""

    block_name: str
    order: int
    image_size: int
    snap_seq: int
    snap_count: int


def parse_header(raw: bytes) -> OnDiskHeader:
    """Decode `rbd_obj_header_ondisk` (RefreshRequest::handle_v1_read_header): EIO when
    the object is shorter than a header, ENXIO when it does not start with
    RBD_HEADER_TEXT."""
    if len(raw) < HEADER_STRUCT.size:
        raise CephError(errno.EIO, "v1 header too small")
    if not raw.startswith(RBD_HEADER_TEXT):
        raise CephError(errno.ENXIO, "unrecognized v1 header")
    f = HEADER_STRUCT.unpack_from(raw)
    block = f[1].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return OnDiskHeader(
        block_name=block,
        order=int(f[4]),
        image_size=int(f[8]),
        snap_seq=int(f[9]),
        snap_count=int(f[10]),
    )


def creation_allowed() -> bool:
    """Whether format-1 creation is forced on (RBD_FORCE_ALLOW_V1 set, to anything)."""
    return os.environ.get(FORCE_ALLOW_V1_ENV) is not None


def block_name(instance_id: int, rng: random.Random | None = None) -> str:
    """init_rbd_header's block name: `rb.<hi>.<lo>.<random>` in hex, from the creating
    client's global id (high and low 32 bits) and a random u32."""
    extra = (rng or random).randrange(0xFFFFFFFF)
    return f"rb.{instance_id >> 32:x}.{instance_id & 0xFFFFFFFF:x}.{extra:x}"


def encode_header(block: str, size: int, order: int) -> bytes:
    """A new image's `rbd_obj_header_ondisk` (no snapshots)."""
    return HEADER_STRUCT.pack(
        RBD_HEADER_TEXT,
        block.encode(),
        HEADER_SIGNATURE,
        HEADER_VERSION,
        order,
        0,
        0,
        0,
        size,
        0,
        0,
        0,
        0,
    )


async def create(ioctx: IoCtx, name: str, size: int, order: int) -> None:
    """internal.cc create_v1: list `name` in rbd_directory's tmap, then write its
    header (the caller has checked the name is free and the order valid)."""
    await tmap_set(ioctx, name)
    block = block_name(ioctx.client.instance_id)
    await ioctx.write(old_header_name(name), encode_header(block, size, order))


async def rename(ioctx: IoCtx, src: str, dst: str) -> None:
    """operation::RenameRequest on a format-1 image (the caller checked that `dst` is
    free): copy the header object's data to `<dst>.rbd` (EEXIST if it appeared), move
    the tmap entry in one update, then drop the old header."""
    src_oid = old_header_name(src)
    op = ObjectOp()
    i = op.read(0, 0)
    raw = bytes((await ioctx.operate(src_oid, op)).outs[i].data)
    op = ObjectOp()
    op.create(True)
    op.write_full(raw)
    await ioctx.operate(old_header_name(dst), op)
    op = ObjectOp()
    op.tmap_update(tmap.set_command(dst) + tmap.rm_command(src))
    await ioctx.operate(RBD_DIRECTORY, op)
    await ioctx.remove(src_oid)


async def detect(ioctx: IoCtx, name: str) -> bool:
    """OpenRequest::send_v1_detect_header: whether `<name>.rbd` exists."""
    return await ignore_enoent(ioctx.stat(old_header_name(name))) is not None


async def load_state(ioctx: IoCtx, oid: str) -> ImageState:
    """RefreshRequest's v1 path: read the header object and its snapshot list."""
    op = ObjectOp()
    i = op.read(0, 0)
    raw = bytes((await ioctx.operate(oid, op)).outs[i].data)
    hdr = parse_header(raw)
    names, sizes, snapc = await cls_client.old_snapshot_list(ioctx, oid)
    snaps = {
        sid: SnapState(
            id=sid,
            name=name,
            size=size,
            namespace=T.UserSnapshotNamespace(),
            timestamp=0.0,
        )
        for sid, name, size in zip(snapc.snaps, names, sizes, strict=True)
    }
    return ImageState(
        size=hdr.image_size,
        order=hdr.order,
        features=0,
        incompatible=0,
        object_prefix=hdr.block_name,
        data_pool_id=-1,
        stripe_unit=0,
        stripe_count=0,
        flags=0,
        op_features=0,
        snap_seq=snapc.seq,
        snap_ids=list(snapc.snaps),
        snaps=snaps,
    )


async def set_size(ioctx: IoCtx, oid: str, size: int) -> None:
    """ResizeRequest on a format-1 image: rewrite only the header's size field."""
    op = ObjectOp()
    op.stat()  # assert the header still exists (a write would recreate it)
    op.write(IMAGE_SIZE_OFFSET, _U64.pack(size))
    await ioctx.operate(oid, op)


async def directory_names(ioctx: IoCtx) -> list[str]:
    """The format-1 images listed in the pool's `rbd_directory` tmap (api::Image::
    list_images: only in the default namespace; none when the directory is missing)."""
    if ioctx.nspace:
        return []
    try:
        raw = await ioctx.read(RBD_DIRECTORY, 0)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return []
        raise
    try:
        _header, keys = tmap.decode(bytes(raw))
    except tmap.TmapError as e:
        raise CephError(errno.EIO, f"{RBD_DIRECTORY}: {e}") from None
    return sorted(keys)


async def tmap_set(ioctx: IoCtx, name: str) -> None:
    """librbd tmap_set: list `name` in `rbd_directory` as a format-1 image."""
    op = ObjectOp()
    op.tmap_update(tmap.set_command(name))
    await ioctx.operate(RBD_DIRECTORY, op)


async def tmap_rm(ioctx: IoCtx, name: str) -> None:
    """librbd tmap_rm: drop `name` from `rbd_directory` (ENOENT when not listed)."""
    op = ObjectOp()
    op.tmap_update(tmap.rm_command(name))
    await ioctx.operate(RBD_DIRECTORY, op)
