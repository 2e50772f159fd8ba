"""Clones (librbd image::CloneRequest, operation::FlattenRequest, api::Image children).

A clone is a new image whose header links to a parent snapshot (`parent_attach` with the
overlap = the snapshot's size). Clone format 1 needs a protected parent snapshot (EINVAL
otherwise) and lists the child in `rbd_children` of the child's pool (`add_child`);
format 2 records the child on the parent's snapshot (`child_attach`) and works on an
unprotected snapshot. Reads of missing child objects fall through to the parent and the
first write copies the object up (see `io`). Flatten copies every object in the overlap
up and detaches the parent.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from pyceph.client.ioctx import IoCtx, SnapContext
from pyceph.client.op import ObjectOp
from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import _conf, cls_client, io, object_map
from pyceph.rbdlib._util import (
    Progress,
    bounded,
    ignore_enoent,
    ioctx_for_pool,
    management_ops,
    pool_name,
    report,
)
from pyceph.rbdlib.create import create
from pyceph.rbdlib.features import (
    RBD_FEATURE_LAYERING,
    RBD_FEATURES_ALL,
    RBD_FEATURES_IMPLICIT_ENABLE,
    RBD_OPERATION_FEATURE_CLONE_CHILD,
    RBD_OPERATION_FEATURE_CLONE_PARENT,
)
from pyceph.rbdlib.layout import CEPH_NOSNAP, RBD_CHILDREN, RBD_DIRECTORY, RBD_TRASH, header_name

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image


#: Ceph releases in order (clone v2 needs clients of Mimic or later).
RELEASES = ("argonaut", "bobtail", "cuttlefish", "dumpling", "emperor", "firefly", "giant",
            "hammer", "infernalis", "jewel", "kraken", "luminous", "mimic", "nautilus",
            "octopus", "pacific", "quincy")  # fmt: skip


def clone_format_of(ioctx: IoCtx, clone_format: int | str | None) -> int:
    """The clone format to use: the argument, else `rbd_default_clone_format`
    ("auto" is 1 unless the cluster requires Mimic+ clients)."""
    value = clone_format if clone_format is not None else ioctx.client.config.get(
        "rbd_default_clone_format")  # fmt: skip
    if str(value) == "auto":
        req = str(getattr(ioctx.client.osdmap, "require_min_compat_client", "") or "")
        return 2 if req in RELEASES and RELEASES.index(req) >= RELEASES.index("mimic") else 1
    fmt = int(value)
    if fmt not in (1, 2):
        raise CephError(errno.EINVAL, f"invalid clone format {value}")
    return fmt


async def clone(
    p_ioctx: IoCtx,
    p_name: str,
    p_snapname: str,
    c_ioctx: IoCtx,
    c_name: str,
    *,
    features: int | None = None,
    order: int | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
    clone_format: int | str | None = None,
) -> str:
    """Clone snapshot `p_snapname` of `p_name` into `c_name`; the child's id."""
    from pyceph.rbdlib.image import open_image

    if clone_format is None:  # librbd::clone applies the child pool's overrides
        clone_format = (await _conf.pool_overrides(c_ioctx)).get("rbd_default_clone_format")
    # CloneRequest::validate_options, before the parent is opened
    if features is not None and features & ~RBD_FEATURES_ALL:
        raise CephError(errno.ENOSYS, "librbd does not support requested features")
    fmt = clone_format_of(c_ioctx, clone_format)
    if fmt == 1 and p_ioctx.nspace != c_ioctx.nspace:
        raise CephError(errno.EXDEV, "clone v2 required for cross-namespace clones")
    # CloneRequest opens the parent read-only: no header watch (a user with `allow rx`
    # on the parent's pool may clone it)
    parent = await open_image(p_ioctx, p_name, snapshot=p_snapname, read_only=True)
    try:
        pst = parent.state
        snap = pst.snaps[parent.snap_id]
        if not pst.features & RBD_FEATURE_LAYERING:
            raise CephError(errno.ENOSYS, "parent image must support layering")
        if fmt == 1 and snap.protection != T.RBD_PROTECTION_STATUS_PROTECTED:
            raise CephError(errno.EINVAL, "parent snapshot must be protected")
        if features is None:
            features = pst.features & ~RBD_FEATURES_IMPLICIT_ENABLE  # create sets them
        if not features & RBD_FEATURE_LAYERING:  # CloneRequest::validate_child
            raise CephError(errno.ENOSYS, "cloning image must support layering")
        if order is None:
            order = pst.order
        # CloneRequest::create_child: unset order and striping are the parent's (its
        # stripe unit is the object size when unstriped); create then validates them
        if stripe_unit is None:
            stripe_unit = parent.layout.su
        if stripe_count is None:
            stripe_count = parent.layout.sc
        c_id = await create(c_ioctx, c_name, snap.size, order=order, features=features,
                            stripe_unit=stripe_unit, stripe_count=stripe_count,
                            data_pool=data_pool, skip_mirror_enable=True)  # fmt: skip
        pspec = T.ParentImageSpec(p_ioctx.pool_id, p_ioctx.nspace, parent.id, snap.id)
        c_header = header_name(c_id)
        try:
            await cls_client.parent_attach(c_ioctx, c_header, pspec, snap.size)
            if fmt == 1:
                await cls_client.add_child(c_ioctx, RBD_CHILDREN, pspec, c_id)
            else:
                child = T.ChildImageSpec(c_ioctx.pool_id, c_ioctx.nspace, c_id)
                await cls_client.child_attach(p_ioctx, parent.header_oid, snap.id, child)
                await cls_client.op_features_set(c_ioctx, c_header, RBD_OPERATION_FEATURE_CLONE_CHILD,
                                                 RBD_OPERATION_FEATURE_CLONE_CHILD)  # fmt: skip
                await cls_client.op_features_set(
                    p_ioctx, parent.header_oid, RBD_OPERATION_FEATURE_CLONE_PARENT,
                    RBD_OPERATION_FEATURE_CLONE_PARENT)  # fmt: skip
            meta = await ignore_enoent(cls_client.metadata_list(p_ioctx, parent.header_oid))
            if meta:
                await cls_client.metadata_set(c_ioctx, c_header, meta)
        except BaseException:
            from pyceph.rbdlib import pool

            await pool.remove(c_ioctx, c_name)
            raise
        from pyceph.rbdlib.create import enable_mirroring_or_remove
        from pyceph.rbdlib.header import notify_header_update

        await enable_mirroring_or_remove(c_ioctx, c_name, c_id)
        await notify_header_update(p_ioctx, parent.header_oid)
        return c_id
    finally:
        await parent.close()


async def flatten(img: Image, progress: Progress | None = None) -> None:
    """Copy every object of the overlap up from the parent, then detach the parent
    (EINVAL without a parent, EROFS read-only)."""
    await img.refresh_if_required()
    if img.read_only or img.snap_id != CEPH_NOSNAP:
        raise CephError(errno.EROFS, "image is read-only")
    spec, overlap = img.state.parent_at(CEPH_NOSNAP)
    if spec is None:
        raise CephError(errno.EINVAL, "image has no parent")
    layout = img.layout
    total = layout.num_objects(min(overlap, img.state.size))

    async def one(objectno: int) -> None:
        # operation::FlattenRequest through AsyncObjectThrottle: progress is the number
        # of the object just issued, so the last call is (total - 1, total)
        report(progress, objectno, total)
        oid = img.data_oid(objectno)
        st = ObjectOp()
        st.stat()
        res = await img.data_ioctx.submit(oid, st)
        if res.r == -errno.ENOENT:
            data = await io.object_parent_data(img, objectno)
            if data:
                await object_map.before_write(img, objectno)
                op = ObjectOp()
                cls_client.copyup_op(op, data)
                ioctx = img.data_ioctx
                if io.deep_copyup(img):  # the snapshots get the data too
                    ioctx = ioctx.copy(snapc=SnapContext())
                await ioctx.operate(oid, op)
        elif res.r < 0:
            raise CephError(-res.r, f"stat of {oid} failed")

    await bounded(range(total), one, management_ops(img.ioctx))
    await cls_client.parent_detach(img.ioctx, img.header_oid)
    if img.state.op_features & RBD_OPERATION_FEATURE_CLONE_CHILD:
        await cls_client.op_features_set(img.ioctx, img.header_oid, 0,
                                         RBD_OPERATION_FEATURE_CLONE_CHILD)  # fmt: skip
    await img.refresh()
    if not any(s.parent is not None for s in img.state.snaps.values()):
        await detach_child(img, spec)
    if total == 0:
        report(progress, 0, 0)
    await img.notify_update()


async def detach_child(img: Image, spec: T.ParentImageSpec) -> None:
    """Drop the clone from its parent's children (v2 and v1 records)."""
    p_ioctx = ioctx_for_pool(img.ioctx, spec.pool_id, spec.pool_namespace)
    child = T.ChildImageSpec(img.ioctx.pool_id, img.ioctx.nspace, img.id)
    await ignore_enoent(cls_client.child_detach(p_ioctx, header_name(spec.image_id),
                                                spec.snap_id, child))  # fmt: skip
    await ignore_enoent(cls_client.remove_child(img.ioctx, RBD_CHILDREN, spec, img.id))
    await _remove_trashed_parent_snap(p_ioctx, spec)
    await _clear_clone_parent(p_ioctx, header_name(spec.image_id))
    from pyceph.rbdlib.header import notify_header_update

    await notify_header_update(p_ioctx, header_name(spec.image_id))


async def _clear_clone_parent(p_ioctx: IoCtx, p_header: str) -> None:
    """The parent's CLONE_PARENT op feature goes with its last clone-v2 child."""
    try:
        snapc = await cls_client.get_snapcontext(p_ioctx, p_header)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    for sid in snapc.snaps:
        if await ignore_enoent(cls_client.children_list(p_ioctx, p_header, sid)):
            return
    await ignore_enoent(cls_client.op_features_set(p_ioctx, p_header, 0,
                                                   RBD_OPERATION_FEATURE_CLONE_PARENT))  # fmt: skip


async def _remove_trashed_parent_snap(p_ioctx: IoCtx, spec: T.ParentImageSpec) -> None:
    """A parent snapshot removed while clones used it waits in the trash namespace; the
    last child gone, it goes for good (DetachChildRequest)."""
    p_header = header_name(spec.image_id)
    try:
        info = await cls_client.snapshot_get(p_ioctx, p_header, spec.snap_id)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    if getattr(info.snapshot_namespace, "type", 0) != T.SNAPSHOT_NAMESPACE_TYPE_TRASH:
        return
    if await ignore_enoent(cls_client.children_list(p_ioctx, p_header, spec.snap_id)):
        return
    from pyceph.rbdlib import snapshots
    from pyceph.rbdlib.image import open_image

    parent = await open_image(p_ioctx, image_id=spec.image_id)
    try:
        await snapshots.remove_by_id(parent, spec.snap_id)
    finally:
        await parent.close()


def _replicated_pools(ioctx: IoCtx) -> list[int]:
    pools = ioctx.client.osdmap.pools
    return sorted(pid for pid, p in pools.items() if p.type != 3)


async def snap_children(img: Image, snap_id: int, names: bool = True) -> list[dict[str, Any]]:
    """Children of one snapshot of `img`: clone v2 records and v1 rbd_children entries
    in every pool, as {pool, pool_id, pool_namespace, image, id, trash}. Without `names`
    only {pool_id, pool_namespace, id} of every entry (SnapshotUnprotectRequest: no read
    of the children's pools, which a `profile rbd pool=X` user may not read)."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[int, str, str]] = set()
    v2 = await ignore_enoent(cls_client.children_list(img.ioctx, img.header_oid, snap_id)) or []
    for c in v2:
        seen.add((c.pool_id, c.pool_namespace, c.image_id))
    pspec = T.ParentImageSpec(img.ioctx.pool_id, img.ioctx.nspace, img.id, snap_id)
    # v1 children share the parent's namespace (clone v1 refuses to cross one): each
    # pool's rbd_children of that namespace (Image::list_descendants)
    ns = img.ioctx.nspace
    for pid in _replicated_pools(img.ioctx):
        pctx = ioctx_for_pool(img.ioctx, pid, ns)
        ids = await ignore_enoent(cls_client.get_children(pctx, RBD_CHILDREN, pspec)) or set()
        for cid in ids:
            seen.add((pid, ns, cid))
    if not names:
        return [{"pool_id": pid, "pool_namespace": ns, "id": cid} for pid, ns, cid in sorted(seen)]
    for pid, ns, cid in sorted(seen):
        cctx = ioctx_for_pool(img.ioctx, pid, ns)
        name, trash = await _child_name(cctx, cid)
        if name is None:
            continue
        out.append({"pool": pool_name(img.ioctx, pid), "pool_id": pid, "pool_namespace": ns,
                    "image": name, "id": cid, "trash": trash})  # fmt: skip
    return out


async def _child_name(ioctx: IoCtx, image_id: str) -> tuple[str | None, bool]:
    try:
        return await cls_client.dir_get_name(ioctx, RBD_DIRECTORY, image_id), False
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    spec = await ignore_enoent(cls_client.trash_get(ioctx, RBD_TRASH, image_id))
    if spec is not None:
        return spec.name, True
    return None, False


async def list_children(img: Image) -> list[dict[str, Any]]:
    """Children of the open snapshot (of every snapshot at the head), sorted by pool
    and name: [{pool, pool_namespace, image, id, trash}]."""
    await img.refresh_if_required()
    snaps = [img.snap_id] if img.snap_id != CEPH_NOSNAP else sorted(img.state.snaps)
    out: list[dict[str, Any]] = []
    for sid in snaps:
        out.extend(await snap_children(img, sid))
    out.sort(key=lambda c: (c["pool"], c["pool_namespace"], c["image"]))
    for c in out:
        c.pop("pool_id", None)
    return out


async def list_descendants(img: Image) -> list[dict[str, Any]]:
    """Children, their children and so on."""
    from pyceph.rbdlib.image import open_image

    out = []
    for child in await list_children(img):
        out.append(child)
        pid = img.ioctx.client.osdmap.lookup_pool(child["pool"])
        cctx = ioctx_for_pool(img.ioctx, pid, child["pool_namespace"])
        try:
            cimg = await open_image(cctx, image_id=child["id"], read_only=True)
        except CephError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        try:
            if cimg.state.snaps:
                out.extend(await list_descendants(cimg))
        finally:
            await cimg.close()
    return out
