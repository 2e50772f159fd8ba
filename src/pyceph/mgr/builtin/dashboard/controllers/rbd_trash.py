"""``/api/block/image/trash``: list the RBD trash, purge expired entries, restore or
remove one entry (``pool%2F[namespace%2F]image_id``), as upstream's tasks
(``rbd/trash/purge``, ``rbd/trash/restore``, ``rbd/trash/remove``).

Upstream: src/pybind/mgr/dashboard/controllers/rbd.py (RbdTrash).
"""

from __future__ import annotations

from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r202, r204
from pydantic import BaseModel, ConfigDict

from ..framework import ApiView, Permission, Route, Scope
from ..services import rbd as svc
from .pool import TaskRef
from .rbd import rbd_guarded

__all__ = ["ROUTES"]


class PoolTrash(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: int
    value: list[dict[str, Any]]
    pool_name: str


class Restore(BaseModel):
    new_image_name: str


_list = rbd_guarded(svc.trash_list)
_purge = rbd_guarded(svc.trash_purge)
_restore = rbd_guarded(svc.trash_restore)
_remove = rbd_guarded(svc.trash_remove)


class Trash(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdTrash"

    async def get(self, pool_name: str | None = None) -> r200[list[PoolTrash]]:
        """List the trash of every RBD pool, or of `pool_name`.

        Tags: RbdTrash
        """
        return self.json(await self.blocking(_list, self.mgr, pool_name or None))


class TrashPurge(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdTrash"
    PERMISSIONS = {"POST": Permission.DELETE}

    async def post(self, pool_name: str | None = None) -> r201[Any] | r202[TaskRef]:
        """Remove every trash entry whose deferment ended (task ``rbd/trash/purge``).

        Tags: RbdTrash
        """
        meta = {"pool_name": pool_name}
        return await self.task("rbd/trash/purge", meta, _purge, self.mgr, pool_name or None)


class TrashRestore(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdTrash"

    async def post(self, image_id_spec: str, /, body: Restore) -> r201[Any] | r202[TaskRef]:
        """Restore a trash entry as `new_image_name` (task ``rbd/trash/restore``).

        Tags: RbdTrash
        """
        meta = {"image_id_spec": image_id_spec, "new_image_name": body.new_image_name}
        return await self.task(
            "rbd/trash/restore", meta, _restore, self.mgr, image_id_spec, body.new_image_name
        )


class TrashItem(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "RbdTrash"

    async def delete(self, image_id_spec: str, /, force: bool = False) -> r204 | r202[TaskRef]:
        """Remove a trash entry; before its deferment ends only with `force` (task
        ``rbd/trash/remove``).

        Tags: RbdTrash
        """
        meta = {"image_id_spec": image_id_spec}
        return await self.task("rbd/trash/remove", meta, _remove, self.mgr, image_id_spec, force)


ROUTES: list[Route] = [
    ("/api/block/image/trash", Trash),
    ("/api/block/image/trash/purge", TrashPurge),
    ("/api/block/image/trash/{image_id_spec}/restore", TrashRestore),
    ("/api/block/image/trash/{image_id_spec}", TrashItem),
]
