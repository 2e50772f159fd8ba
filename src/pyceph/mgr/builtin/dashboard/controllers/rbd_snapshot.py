"""``/api/block/image/{image_spec}/snap``: create, rename/protect, delete, roll back and
clone RBD snapshots, each as upstream's task (``rbd/snap/create``, ``rbd/snap/edit``,
``rbd/snap/delete``, ``rbd/snap/rollback``, ``rbd/clone``).

Upstream: src/pybind/mgr/dashboard/controllers/rbd.py (RbdSnapshot).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r202, r204
from pydantic import BaseModel

from ..framework import ApiView, Permission, Route, Scope
from ..services import rbd as svc
from .pool import TaskRef, settable
from .rbd import ImageLayout, rbd_guarded

__all__ = ["ROUTES"]


class SnapCreate(BaseModel):
    snapshot_name: str
    #: on an image mirrored in snapshot mode: take a mirror snapshot
    mirrorImageSnapshot: bool = False  # noqa: N815 - upstream's key


class SnapEdit(BaseModel):
    new_snap_name: str | None = None
    is_protected: bool | None = None


class CloneBody(ImageLayout):
    child_pool_name: str
    child_image_name: str
    child_namespace: str | None = None


_create = rbd_guarded(svc.snap_create)
_edit = rbd_guarded(svc.snap_edit)
_delete = rbd_guarded(svc.snap_delete)
_rollback = rbd_guarded(svc.snap_rollback)
_clone = rbd_guarded(svc.image_clone)


class Snapshots(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdSnapshot"

    async def post(self, image_spec: str, /, body: SnapCreate) -> r201[Any] | r202[TaskRef]:
        """Create a snapshot of an image (task ``rbd/snap/create``).

        Tags: RbdSnapshot
        """
        meta = {
            "image_spec": image_spec,
            "snapshot_name": body.snapshot_name,
            "mirrorImageSnapshot": body.mirrorImageSnapshot,
        }
        return await self.task(
            "rbd/snap/create",
            meta,
            _create,
            self.mgr,
            image_spec,
            body.snapshot_name,
            body.mirrorImageSnapshot,
        )


class SnapshotItem(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdSnapshot"

    async def put(
        self, image_spec: str, snapshot_name: str, /, body: SnapEdit
    ) -> r200[Any] | r202[TaskRef]:
        """Rename a snapshot and/or (un)protect it (task ``rbd/snap/edit``).

        Tags: RbdSnapshot
        """
        meta = {"image_spec": image_spec, "snapshot_name": snapshot_name}
        return await self.task(
            "rbd/snap/edit",
            meta,
            partial(_edit, self.mgr, image_spec, snapshot_name, **settable(body)),
        )

    async def delete(self, image_spec: str, snapshot_name: str, /) -> r204 | r202[TaskRef]:
        """Delete a snapshot (refused while protected; task ``rbd/snap/delete``).

        Tags: RbdSnapshot
        """
        meta = {"image_spec": image_spec, "snapshot_name": snapshot_name}
        return await self.task(
            "rbd/snap/delete", meta, _delete, self.mgr, image_spec, snapshot_name
        )


class SnapshotRollback(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdSnapshot"
    PERMISSIONS = {"POST": Permission.UPDATE}

    async def post(self, image_spec: str, snapshot_name: str, /) -> r201[Any] | r202[TaskRef]:
        """Roll the image back to the snapshot (task ``rbd/snap/rollback``).

        Tags: RbdSnapshot
        """
        meta = {"image_spec": image_spec, "snapshot_name": snapshot_name}
        return await self.task(
            "rbd/snap/rollback", meta, _rollback, self.mgr, image_spec, snapshot_name
        )


class SnapshotClone(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdSnapshot"

    async def post(
        self, image_spec: str, snapshot_name: str, /, body: CloneBody
    ) -> r201[Any] | r202[TaskRef]:
        """Clone a (protected, or any with clone format 2) snapshot into a new image (task
        ``rbd/clone``).

        Tags: RbdSnapshot
        """
        meta = {
            "parent_image_spec": image_spec,
            "child_pool_name": body.child_pool_name,
            "child_namespace": body.child_namespace,
            "child_image_name": body.child_image_name,
        }
        return await self.task(
            "rbd/clone",
            meta,
            partial(_clone, self.mgr, image_spec, snapshot_name, **settable(body)),
        )


ROUTES: list[Route] = [
    ("/api/block/image/{image_spec}/snap", Snapshots),
    ("/api/block/image/{image_spec}/snap/{snapshot_name}", SnapshotItem),
    ("/api/block/image/{image_spec}/snap/{snapshot_name}/rollback", SnapshotRollback),
    ("/api/block/image/{image_spec}/snap/{snapshot_name}/clone", SnapshotClone),
]
