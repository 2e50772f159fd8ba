"""Copies of an image (librbd api::Image::copy / deep_copy, operation::SparsifyRequest).

`copy` creates the destination with the source's layout and features unless told
otherwise and writes every non-zero chunk of the source (its open snapshot or head),
an object-set at a time with the management-ops bound; image metadata goes along.
`deep_copy` also recreates the snapshots: each snapshot's content in turn, oldest
first, then the head. `sparsify` asks the `rbd.sparsify` class method to punch the
zeroed runs of every object out.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from pyceph.client.ioctx import IoCtx
from pyceph.cls.rbd_types import RBD_PROTECTION_STATUS_PROTECTED
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client, io
from pyceph.rbdlib._util import Progress, bounded, ignore_enoent, management_ops, report
from pyceph.rbdlib.create import create
from pyceph.rbdlib.features import RBD_FEATURES_IMPLICIT_ENABLE
from pyceph.rbdlib.layout import CEPH_NOSNAP

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image

#: The smallest sparse size sparsify accepts (api::Image::sparsify).
MIN_SPARSE_SIZE = 4096


async def _create_like(src: Image, dest_ioctx: IoCtx, dest_name: str, size: int,
                       opts: dict[str, Any]) -> None:  # fmt: skip
    st = src.state
    features = opts.get("features")
    if features is None:
        features = st.features & ~RBD_FEATURES_IMPLICIT_ENABLE  # create sets them again
    # librbd::copy / api::Image::deep_copy: each unset option is the source's (its
    # ImageCtx stripe unit is the object size when unstriped), then create validates
    # them against the new order (EINVAL for a stripe unit above the object size)
    su, sc = opts.get("stripe_unit"), opts.get("stripe_count")
    if su is None:
        su = src.layout.su
    if sc is None:
        sc = src.layout.sc
    await create(dest_ioctx, dest_name, size, order=opts.get("order") or st.order,
                 features=features, stripe_unit=su, stripe_count=sc,
                 data_pool=opts.get("data_pool"))  # fmt: skip


async def _copy_content(src: Image, snap_id: int, dst: Image, size: int,
                        progress: Progress | None, sparse_dst: bool) -> None:  # fmt: skip
    """Make dst's head hold src's content at snap_id, chunk by chunk."""
    chunk = src.layout.period
    offsets = list(range(0, size, chunk))
    done = 0

    async def one(off: int) -> None:
        nonlocal done
        n = min(chunk, size - off)
        data = await io.read_extents(src, snap_id, off, n)
        zero = data.count(0) == len(data)
        if sparse_dst:
            if not zero:
                await dst.write(data, off)
        elif await io.read_extents(dst, CEPH_NOSNAP, off, n) != data:
            if zero:
                await dst.write_zeroes(off, n)
            else:
                await dst.write(data, off)
        done += 1
        report(progress, done * chunk if done < len(offsets) else size, size)

    await bounded(offsets, one, management_ops(src.ioctx))
    if not offsets:
        report(progress, 0, 0)


async def copy(src: Image, dest_ioctx: IoCtx, dest_name: str,
               progress: Progress | None = None, **opts: Any) -> None:  # fmt: skip
    """Copy the open image (at its snapshot) to a new image `dest_name`."""
    from pyceph.rbdlib.image import open_image

    await src.refresh_if_required()
    size = src.state.size_at(src.snap_id)
    await _create_like(src, dest_ioctx, dest_name, size, opts)
    dst = await open_image(dest_ioctx, dest_name)
    try:
        meta = await ignore_enoent(cls_client.metadata_list(src.ioctx, src.header_oid))
        if meta:
            await cls_client.metadata_set(dst.ioctx, dst.header_oid, meta)
        await _copy_content(src, src.snap_id, dst, size, progress, sparse_dst=True)
    finally:
        await dst.close()


async def deep_copy(src: Image, dest_ioctx: IoCtx, dest_name: str,
                    progress: Progress | None = None, **opts: Any) -> None:  # fmt: skip
    """Copy the image with its snapshots (names, sizes, contents)."""
    from pyceph.rbdlib.image import open_image

    await src.refresh_if_required()
    snaps = [src.state.snaps[s] for s in sorted(src.state.snaps)]
    end = src.snap_id
    stages = [s for s in snaps if end == CEPH_NOSNAP or s.id <= end]
    first_size = stages[0].size if stages else src.state.size_at(end)
    await _create_like(src, dest_ioctx, dest_name, first_size, opts)
    dst = await open_image(dest_ioctx, dest_name)
    try:
        meta = await ignore_enoent(cls_client.metadata_list(src.ioctx, src.header_oid))
        if meta:
            await cls_client.metadata_set(dst.ioctx, dst.header_oid, meta)
        first = stages[0].id if stages else end
        await _link_parent(src, first, dst)
        for snap in stages:
            if dst.state.size != snap.size:
                await dst.resize(snap.size)
            await _copy_content(src, snap.id, dst, snap.size, None, sparse_dst=False)
            await dst.create_snap(snap.name)
            if snap.protection == RBD_PROTECTION_STATUS_PROTECTED:  # SnapshotCopyRequest
                await dst.protect_snap(snap.name)
        if end == CEPH_NOSNAP:
            size = src.state.size
            if dst.state.size != size:
                await dst.resize(size)
            await _copy_content(src, CEPH_NOSNAP, dst, size, progress, sparse_dst=False)
        else:
            report(progress, 1, 1)
    finally:
        await dst.close()


async def _link_parent(src: Image, snap_id: int, dst: Image) -> None:
    """A deep copy of a clone is a clone of the same parent snapshot (deep_copy's
    SetHeadRequest): the link and overlap, and the child recorded as the source's is
    (format 1 in rbd_children for a protected parent snapshot, else format 2)."""
    from pyceph.cls import rbd_types as T
    from pyceph.rbdlib.clone import clone_format_of
    from pyceph.rbdlib.layout import RBD_CHILDREN, header_name

    spec, overlap = src.state.parent_at(snap_id)
    if spec is None or not overlap:
        return
    await cls_client.parent_attach(dst.ioctx, dst.header_oid, spec, overlap)
    parent = await src.parent_image(snap_id)
    snap = parent.state.snaps.get(spec.snap_id)
    protected = snap is not None and snap.protection == T.RBD_PROTECTION_STATUS_PROTECTED
    if protected and clone_format_of(dst.ioctx, None) == 1:
        await cls_client.add_child(dst.ioctx, RBD_CHILDREN, spec, dst.id)
    else:
        child = T.ChildImageSpec(dst.ioctx.pool_id, dst.ioctx.nspace, dst.id)
        await cls_client.child_attach(parent.ioctx, header_name(spec.image_id), spec.snap_id,
                                      child)  # fmt: skip
    await dst.refresh()


async def sparsify(img: Image, sparse_size: int) -> None:
    """Punch zeroed runs of at least `sparse_size` bytes out of every object (EINVAL
    unless a power of two between 4 KiB and the object size)."""
    await img.refresh_if_required()
    if img.read_only or img.snap_id != CEPH_NOSNAP:
        raise CephError(errno.EROFS, "image is read-only")
    object_size = img.layout.object_size
    if (
        sparse_size < MIN_SPARSE_SIZE
        or sparse_size > object_size
        or sparse_size & (sparse_size - 1)
    ):
        raise CephError(errno.EINVAL, "sparse size must be a power of two in [4096, object size]")

    async def one(objectno: int) -> None:
        remove_empty = not io.needs_copyup(img, objectno)
        await ignore_enoent(cls_client.sparsify(img.data_ioctx, img.data_oid(objectno),
                                                sparse_size, remove_empty))  # fmt: skip

    await bounded(range(img.layout.num_objects(img.state.size)), one, management_ops(img.ioctx))
