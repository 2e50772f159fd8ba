"""Live image migration: prepare, prepare_import, execute, commit, abort, status and the
target's source spec (librbd ``api/Migration.cc``, Ceph 16.2).

The on-disk protocol is upstream's: both headers carry a `MigrationSpec` under the
``migration`` key (set through cls_rbd, which also sets the MIGRATING feature) — the
source's (``header_type`` SRC) names the destination, the destination's (DST) names the
source, or holds the JSON source spec of an import (pool -1) — and the state walks
PREPARING -> PREPARED -> EXECUTING -> EXECUTED on both. The source leaves the name
space while it migrates: it moves to the trash with source MIGRATION, so it can neither
be opened by name nor listed; abort restores it, commit removes it.

One difference in timing: this engine's image I/O has no migration read-through yet,
so the destination receives its content (snapshots, data, metadata) while it is being
prepared and is fully readable and writable from then on; `execute` then only walks
the states (with progress over the destination's objects). What clients observe —
names, states, errors, data — is upstream's; only where the copy time is spent differs.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
from typing import Any

from pyceph.client.ioctx import IoCtx
from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import _util, cls_client, header
from pyceph.rbdlib._util import Progress, ignore_enoent, ioctx_for_pool, report
from pyceph.rbdlib.layout import RBD_DIRECTORY

#: Bytes read from an import source per step (one 4 MiB object of the default order).
IMPORT_CHUNK = 4 << 20


def _opts(**kw: Any) -> dict[str, Any]:
    """The image-create options given (None: not given)."""
    return {k: v for k, v in kw.items() if v is not None}


async def _notify(ioctx: IoCtx, oid: str) -> None:
    await header.notify_header_update(ioctx, oid)


async def _set_state(ioctx: IoCtx, oid: str, state: int, description: str = "") -> None:
    await cls_client.migration_set_state(ioctx, oid, state, description)
    await _notify(ioctx, oid)


# -- finding a migration -----------------------------------------------------------------------
class _Migration:
    """Both ends of a migration found from either image's name."""

    def __init__(self) -> None:
        self.src_ioctx: IoCtx | None = None
        self.src_name = ""
        self.src_id = ""
        self.src_spec: T.MigrationSpec | None = None
        self.dst_ioctx: IoCtx | None = None
        self.dst_name = ""
        self.dst_id = ""
        self.dst_spec: T.MigrationSpec | None = None

    @property
    def state(self) -> T.MigrationSpec:
        spec = self.src_spec or self.dst_spec
        assert spec is not None
        return spec

    @property
    def is_import(self) -> bool:
        return self.dst_spec is not None and self.dst_spec.pool_id == -1


async def _image_id(ioctx: IoCtx, name: str) -> str:
    """The id of image `name`, or of the migration source named so in the trash."""
    try:
        return await cls_client.dir_get_id(ioctx, RBD_DIRECTORY, name)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    from pyceph.rbdlib.trash import list_trash_specs

    for image_id, spec in (await list_trash_specs(ioctx, False)).items():
        if spec.source == T.TRASH_IMAGE_SOURCE_MIGRATION and spec.name == name:
            return image_id
    raise CephError(errno.ENOENT, f"image {name} does not exist")


async def _find(ioctx: IoCtx, name: str) -> _Migration:
    """Migration::open_source_image: ENOENT for no such image, EINVAL when it is not
    migrating."""
    image_id = await _image_id(ioctx, name)
    spec = await cls_client.migration_get(ioctx, f"rbd_header.{image_id}")
    m = _Migration()
    if spec.header_type == T.MIGRATION_HEADER_TYPE_SRC:
        m.src_ioctx, m.src_name, m.src_id, m.src_spec = ioctx, name, image_id, spec
        m.dst_ioctx = ioctx_for_pool(ioctx, spec.pool_id, spec.pool_namespace)
        m.dst_name, m.dst_id = spec.image_name, spec.image_id
        m.dst_spec = await ignore_enoent(cls_client.migration_get(m.dst_ioctx,
                                                                  f"rbd_header.{m.dst_id}"))  # fmt: skip
    else:
        m.dst_ioctx, m.dst_name, m.dst_id, m.dst_spec = ioctx, name, image_id, spec
        if spec.pool_id != -1:
            m.src_ioctx = ioctx_for_pool(ioctx, spec.pool_id, spec.pool_namespace)
            m.src_name, m.src_id = spec.image_name, spec.image_id
            m.src_spec = await ignore_enoent(cls_client.migration_get(
                m.src_ioctx, f"rbd_header.{m.src_id}"))  # fmt: skip
    return m


async def _set_state_both(m: _Migration, state: int, description: str = "") -> None:
    if m.src_spec is not None and m.src_ioctx is not None:
        await _set_state(m.src_ioctx, f"rbd_header.{m.src_id}", state, description)
    if m.dst_spec is not None and m.dst_ioctx is not None:
        await _set_state(m.dst_ioctx, f"rbd_header.{m.dst_id}", state, description)


# -- status / source spec ------------------------------------------------------------------------
async def migration_status(ioctx: IoCtx, name: str) -> dict[str, Any]:
    """Migration::status, from the source's or the destination's name: {source_pool_id,
    source_pool_namespace, source_image_name, source_image_id, dest_pool_id,
    dest_pool_namespace, dest_image_name, dest_image_id, state, state_description}."""
    m = await _find(ioctx, name)
    spec = m.state
    imported = m.is_import
    src_pool = m.src_ioctx.pool_id if m.src_ioctx is not None else -1
    dst_pool = -1 if imported or m.dst_ioctx is None else m.dst_ioctx.pool_id
    return {
        "source_pool_id": src_pool,
        "source_pool_namespace": m.src_ioctx.nspace if m.src_ioctx is not None else "",
        "source_image_name": m.src_name,
        "source_image_id": m.src_id,
        "dest_pool_id": dst_pool,
        "dest_pool_namespace": m.dst_ioctx.nspace if m.dst_ioctx is not None else "",
        "dest_image_name": m.dst_name,
        "dest_image_id": m.dst_id,
        "state": spec.state,
        "state_description": spec.state_description,
    }


async def migration_source_spec(image: Any) -> dict[str, Any]:
    """Migration::get_source_spec of an open destination: the import's JSON spec, or a
    native spec {type, pool_id, pool_namespace, image_name, image_id} (EINVAL when the
    image is not a migration destination)."""
    spec = await cls_client.migration_get(image.ioctx, image.header_oid)
    if spec.header_type != T.MIGRATION_HEADER_TYPE_DST:
        raise CephError(errno.EINVAL, "image is not a migration destination")
    if spec.source_spec:
        return dict(json.loads(spec.source_spec))
    return {"type": "native", "pool_id": spec.pool_id, "pool_namespace": spec.pool_namespace,
            "image_name": spec.image_name, "image_id": spec.image_id}  # fmt: skip


# -- prepare ---------------------------------------------------------------------------------------
async def migration_prepare(
    ioctx: IoCtx,
    name: str,
    dest_ioctx: IoCtx,
    dest_name: str,
    *,
    features: int | None = None,
    order: int | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
) -> None:
    """Migration::prepare (image to image): ENOENT for a missing source, EEXIST for a
    taken destination name, EBUSY while other clients watch the source, EINVAL for a
    source already migrating. The source moves to the trash (source MIGRATION), the
    destination is created with its snapshots and content, both headers get their
    MigrationSpec and end PREPARED; a failure undoes every step."""
    from pyceph.rbdlib import trash
    from pyceph.rbdlib.features import RBD_FEATURE_MIGRATING
    from pyceph.rbdlib.image import open_image

    src = await open_image(ioctx, name, read_only=True)
    try:
        if src.state.features & RBD_FEATURE_MIGRATING:
            raise CephError(errno.EINVAL, "image is already migrating")
        same = (dest_ioctx.pool_id, dest_ioctx.nspace, dest_name) == (ioctx.pool_id,
                                                                       ioctx.nspace, name)  # fmt: skip
        if not same and await ignore_enoent(
                cls_client.dir_get_id(dest_ioctx, RBD_DIRECTORY, dest_name)) is not None:  # fmt: skip
            raise CephError(errno.EEXIST, f"image {dest_name} already exists")
        others = await ioctx.list_watchers(src.header_oid)
        if others:
            raise CephError(errno.EBUSY, "image has watchers - not migrating")
        now = _util.now(ioctx)
        await trash.move_by_id(ioctx, T.TRASH_IMAGE_SOURCE_MIGRATION, name, src.id, now, now)
        if stripe_unit is None and stripe_count is None:
            # upstream passes the source's striping on (its unit defaults to the object
            # size), so a new order can make the destination STRIPINGV2
            stripe_unit = src.state.stripe_unit or src.layout.object_size
            stripe_count = src.state.stripe_count or 1
        created = False
        try:
            await src.deep_copy(dest_ioctx, dest_name, None, **_opts(
                features=features, order=order, stripe_unit=stripe_unit,
                stripe_count=stripe_count, data_pool=data_pool))  # fmt: skip
            created = True
            dst = await open_image(dest_ioctx, dest_name, read_only=True)
            try:
                dst_id = dst.id
                snap_seqs = _snap_seqs(src, dst)
            finally:
                await dst.close()
            await cls_client.migration_set(ioctx, src.header_oid, T.MigrationSpec(
                header_type=T.MIGRATION_HEADER_TYPE_SRC, pool_id=dest_ioctx.pool_id,
                pool_namespace=dest_ioctx.nspace, image_name=dest_name, image_id=dst_id,
                state=T.MIGRATION_STATE_PREPARING))  # fmt: skip
            await cls_client.migration_set(dest_ioctx, f"rbd_header.{dst_id}", T.MigrationSpec(
                header_type=T.MIGRATION_HEADER_TYPE_DST, pool_id=ioctx.pool_id,
                pool_namespace=ioctx.nspace, image_name=name, image_id=src.id,
                snap_seqs=snap_seqs, overlap=src.state.size,
                state=T.MIGRATION_STATE_PREPARING))  # fmt: skip
            await _set_state(ioctx, src.header_oid, T.MIGRATION_STATE_PREPARED)
            await _set_state(dest_ioctx, f"rbd_header.{dst_id}", T.MIGRATION_STATE_PREPARED)
        except CephError:
            if created:
                await _remove_image(dest_ioctx, dest_name)
            await ignore_enoent(cls_client.migration_remove(ioctx, src.header_oid))
            await trash.trash_restore(ioctx, src.id, name,
                                      frozenset({T.TRASH_IMAGE_SOURCE_MIGRATION}))  # fmt: skip
            raise
    finally:
        await src.close()


def _snap_seqs(src: Any, dst: Any) -> dict[int, int]:
    """Source snapshot id -> destination snapshot id, matched by name in id order."""
    by_name = {s.name: s.id for s in dst.state.snaps.values()}
    return {s.id: by_name[s.name] for s in src.state.snaps.values() if s.name in by_name}


async def migration_prepare_import(
    dest_ioctx: IoCtx,
    source_spec: str,
    dest_name: str,
    *,
    features: int | None = None,
    order: int | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
) -> None:
    """Migration::prepare_import from a JSON source spec ({"type": "raw", "stream":
    {"type": "file", "file_path": ...}}): EBADMSG when the spec is not JSON, EINVAL
    for an unsupported spec, ENOENT for a missing file, EEXIST for a taken name. The
    destination gets the file's size and content and a DST MigrationSpec (pool -1,
    the spec text) in state PREPARED."""
    from pyceph.rbdlib.create import create
    from pyceph.rbdlib.image import open_image

    try:
        spec = json.loads(source_spec)
    except ValueError:
        raise CephError(errno.EBADMSG, "failed to parse source spec") from None
    path = _raw_file_path(spec)
    try:
        size = (await asyncio.to_thread(os.stat, path)).st_size
    except FileNotFoundError:
        raise CephError(errno.ENOENT, f"source file {path} does not exist") from None
    except OSError as e:
        raise CephError(e.errno or errno.EIO, str(e)) from None
    await create(dest_ioctx, dest_name, size, **_opts(
        features=features, order=order, stripe_unit=stripe_unit, stripe_count=stripe_count,
        data_pool=data_pool))  # fmt: skip
    try:
        dst = await open_image(dest_ioctx, dest_name)
        try:
            await _import_file(dst, path, size)
            await cls_client.migration_set(dest_ioctx, dst.header_oid, T.MigrationSpec(
                header_type=T.MIGRATION_HEADER_TYPE_DST, pool_id=-1, overlap=size,
                state=T.MIGRATION_STATE_PREPARED, source_spec=source_spec))  # fmt: skip
            await _notify(dest_ioctx, dst.header_oid)
        finally:
            await dst.close()
    except CephError:
        await _remove_image(dest_ioctx, dest_name)
        raise


def _raw_file_path(spec: Any) -> str:
    """The file of a raw/file source spec (EINVAL for another format or stream)."""
    if not isinstance(spec, dict) or spec.get("type") != "raw":
        raise CephError(errno.EINVAL, "unsupported source spec format")
    stream = spec.get("stream")
    if not isinstance(stream, dict) or stream.get("type") != "file":
        raise CephError(errno.EINVAL, "unsupported source spec stream")
    path = stream.get("file_path")
    if not isinstance(path, str) or not path:
        raise CephError(errno.EINVAL, "missing file_path in source spec")
    return path


async def _import_file(dst: Any, path: str, size: int) -> None:
    """Copy the file into the image, skipping all-zero chunks (sparse import)."""

    def read_at(offset: int) -> bytes:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(min(IMPORT_CHUNK, size - offset))

    for offset in range(0, size, IMPORT_CHUNK):
        data = await asyncio.to_thread(read_at, offset)
        if data.count(0) != len(data):
            await dst.write(data, offset)


# -- execute / commit / abort ----------------------------------------------------------------------------
async def migration_execute(ioctx: IoCtx, name: str, progress: Progress | None = None) -> None:
    """Migration::execute: EINVAL unless the migration is PREPARED; EXECUTING, then the
    destination's objects (already copied here, see the module docstring) with
    progress, then EXECUTED."""
    from pyceph.rbdlib.image import open_image

    m = await _find(ioctx, name)
    if m.state.state != T.MIGRATION_STATE_PREPARED:
        raise CephError(errno.EINVAL, "current migration state is not 'prepared'")
    await _set_state_both(m, T.MIGRATION_STATE_EXECUTING)
    assert m.dst_ioctx is not None
    dst = await open_image(m.dst_ioctx, image_id=m.dst_id, read_only=True)
    try:
        total = dst.layout.num_objects(dst.state.size)
    finally:
        await dst.close()
    for objectno in range(total):
        report(progress, objectno + 1, total)
    if total == 0:
        report(progress, 0, 0)
    await _set_state_both(m, T.MIGRATION_STATE_EXECUTED)


async def migration_commit(ioctx: IoCtx, name: str, progress: Progress | None = None) -> None:
    """Migration::commit: EINVAL unless EXECUTED; the destination stops migrating and
    the source (with its snapshots) is removed from the trash."""
    from pyceph.rbdlib import trash

    m = await _find(ioctx, name)
    if m.state.state != T.MIGRATION_STATE_EXECUTED:
        raise CephError(errno.EINVAL, "current migration state is not 'executed'")
    assert m.dst_ioctx is not None
    await cls_client.migration_remove(m.dst_ioctx, f"rbd_header.{m.dst_id}")
    await _notify(m.dst_ioctx, f"rbd_header.{m.dst_id}")
    if m.src_ioctx is not None and m.src_id:
        await _remove_snapshots(m.src_ioctx, m.src_id)
        await ignore_enoent(trash.trash_remove(m.src_ioctx, m.src_id, True, progress))
    else:
        report(progress, 1, 1)


async def migration_abort(ioctx: IoCtx, name: str, progress: Progress | None = None) -> None:
    """Migration::abort: the destination is removed and the source restored under its
    name, no longer migrating (EINVAL when nothing migrates)."""
    from pyceph.rbdlib import trash

    m = await _find(ioctx, name)
    assert m.dst_ioctx is not None
    if m.dst_name:
        await _remove_image(m.dst_ioctx, m.dst_name, progress)
    if m.src_ioctx is not None and m.src_id:
        try:
            await trash.trash_restore(m.src_ioctx, m.src_id, m.src_name,
                                      frozenset({T.TRASH_IMAGE_SOURCE_MIGRATION}))  # fmt: skip
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        await ignore_enoent(cls_client.migration_remove(m.src_ioctx, f"rbd_header.{m.src_id}"))
        await _notify(m.src_ioctx, f"rbd_header.{m.src_id}")


async def _remove_snapshots(ioctx: IoCtx, image_id: str) -> None:
    """Every snapshot of an image goes (unprotected first), as before a removal."""
    from pyceph.rbdlib.image import open_image

    img = await open_image(ioctx, image_id=image_id)
    try:
        for snap_id in sorted(img.state.snaps):
            snap = img.state.snaps[snap_id]
            if snap.protection != T.RBD_PROTECTION_STATUS_UNPROTECTED:
                await cls_client.set_protection_status(img.ioctx, img.header_oid, snap_id,
                                                       T.RBD_PROTECTION_STATUS_UNPROTECTED)  # fmt: skip
                await img.refresh()
            await img.remove_snap_by_id(snap_id)
    finally:
        await img.close()


async def _remove_image(ioctx: IoCtx, name: str, progress: Progress | None = None) -> None:
    """Remove a destination image with its snapshots and migration header."""
    from pyceph.rbdlib import pool

    try:
        image_id = await cls_client.dir_get_id(ioctx, RBD_DIRECTORY, name)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    await ignore_enoent(cls_client.migration_remove(ioctx, f"rbd_header.{image_id}"))
    await _remove_snapshots(ioctx, image_id)
    await pool.remove(ioctx, name, progress)
