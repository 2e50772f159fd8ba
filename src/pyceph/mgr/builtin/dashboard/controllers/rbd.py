"""``/api/block/image``: list, create, show, edit, delete, copy, flatten and trash RBD images.

An image is named by its URL-encoded spec, ``pool%2F[namespace%2F]image``. Writes run
as upstream's RbdTask tasks (``rbd/create``, ``rbd/delete``, ``rbd/edit``,
``rbd/copy``, ``rbd/flatten``, ``rbd/trash/move``): 201/200/204 when done within the
task wait, else 202. Errors are upstream's: an `rbd`/`rados` exception answers 400 with
its errno as ``code`` and component ``rbd`` (``ImageExists`` -> ``"17"``); an image that
does not exist answers 404 to a GET. Snapshots: `rbd_snapshot`; trash: `rbd_trash`.

Upstream: src/pybind/mgr/dashboard/controllers/rbd.py (Rbd, RbdTask),
services/exception.py (handle_rbd_error).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp_pydantic.oas.typing import r200, r201, r202, r204
from pydantic import BaseModel, ConfigDict, Field

from ..framework import ApiView, Permission, Route, Scope
from ..services import rbd as svc
from .pool import TaskRef, guarded, settable

__all__ = ["ROUTES", "RBD_COMPONENT", "ImageLayout"]

#: the component of every RBD error (upstream's handle_rbd_error)
RBD_COMPONENT = "rbd"
#: configuration overrides: option -> value (None removes the override)
Configuration = dict[str, str | int | float | bool | None]


class ImageLayout(BaseModel):
    """How a new image is laid out (create, copy, clone)."""

    obj_size: int | None = Field(default=None, gt=0)
    features: list[str] | None = None
    stripe_unit: int | None = Field(default=None, gt=0)
    stripe_count: int | None = Field(default=None, gt=0)
    data_pool: str | None = None
    configuration: Configuration | None = None


class ImageCreate(ImageLayout):
    name: str
    pool_name: str
    size: int = Field(ge=0)
    namespace: str | None = None


class ImageEdit(BaseModel):
    name: str | None = None
    size: int | None = Field(default=None, ge=0)
    features: list[str] | None = None
    configuration: Configuration | None = None


class ImageCopy(ImageLayout):
    dest_pool_name: str
    dest_namespace: str | None = None
    dest_image_name: str
    snapshot_name: str | None = None


class MoveTrash(BaseModel):
    #: seconds before the image may be removed from the trash
    delay: int = Field(default=0, ge=0)


class PoolImages(BaseModel):
    model_config = ConfigDict(extra="allow")
    value: list[dict[str, Any]]
    pool_name: str


class Image(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    pool_name: str
    size: int


def rbd_guarded(fn: Any) -> Any:
    return guarded(RBD_COMPONENT, fn)


_list = rbd_guarded(svc.image_list)
_get = rbd_guarded(svc.image_get)
_create = rbd_guarded(svc.image_create)
_delete = rbd_guarded(svc.image_delete)
_edit = rbd_guarded(svc.image_edit)
_copy = rbd_guarded(svc.image_copy)
_flatten = rbd_guarded(svc.image_flatten)
_move_trash = rbd_guarded(svc.image_move_trash)
_default_features = rbd_guarded(svc.default_features)
_clone_format = rbd_guarded(svc.clone_format_version)


class Images(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"
    VERSIONS = {"GET": "2.0"}  # as upstream 16.2.15: the paged image list is API 2.0

    async def get(
        self,
        pool_name: str | None = None,
        offset: int = 0,
        limit: int = svc.LIST_LIMIT,
        search: str = "",
        sort: str = "",
    ) -> r200[list[PoolImages]]:
        """Display RBD images, per pool; a page of `limit` (-1: all) from `offset`, the
        number matched in ``X-Total-Count``.

        Tags: Rbd
        """
        groups, total = await self.blocking(
            _list, self.mgr, pool_name or None, offset, limit, search, sort
        )
        resp = self.json(groups)
        resp.headers["X-Total-Count"] = str(total)
        return resp

    async def post(self, body: ImageCreate) -> r201[Any] | r202[TaskRef]:
        """Create an RBD image (task ``rbd/create``).

        Tags: Rbd
        """
        meta = {"pool_name": body.pool_name, "namespace": body.namespace, "image_name": body.name}
        return await self.task("rbd/create", meta, partial(_create, self.mgr, **settable(body)))


class ImageItem(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"

    async def get(self, image_spec: str, /, omit_usage: bool = False) -> r200[Image]:
        """Display one RBD image; `omit_usage` leaves out its disk usage.

        Tags: Rbd
        """
        return self.json(await self.blocking(_get, self.mgr, image_spec, omit_usage))

    async def put(self, image_spec: str, /, body: ImageEdit) -> r200[Any] | r202[TaskRef]:
        """Edit an RBD image: rename, resize, features, configuration (task ``rbd/edit``).

        Tags: Rbd
        """
        meta = {"image_spec": image_spec, "name": body.name}
        return await self.task(
            "rbd/edit", meta, partial(_edit, self.mgr, image_spec, **settable(body))
        )

    async def delete(self, image_spec: str, /) -> r204 | r202[TaskRef]:
        """Delete an RBD image and its snapshots (task ``rbd/delete``).

        Tags: Rbd
        """
        meta = {"image_spec": image_spec}
        return await self.task("rbd/delete", meta, _delete, self.mgr, image_spec)


class ImageCopyView(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"

    async def post(self, image_spec: str, /, body: ImageCopy) -> r201[Any] | r202[TaskRef]:
        """Copy an RBD image, or one of its snapshots, to a new image (task ``rbd/copy``).

        Tags: Rbd
        """
        meta = {
            "src_image_spec": image_spec,
            "dest_pool_name": body.dest_pool_name,
            "dest_namespace": body.dest_namespace,
            "dest_image_name": body.dest_image_name,
        }
        fields = settable(body)
        fields.setdefault("dest_namespace", None)
        return await self.task("rbd/copy", meta, partial(_copy, self.mgr, image_spec, **fields))


class ImageFlatten(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"
    PERMISSIONS = {"POST": Permission.UPDATE}

    async def post(self, image_spec: str, /) -> r201[Any] | r202[TaskRef]:
        """Flatten a clone: copy its parent's data in, drop the parent (task ``rbd/flatten``).

        Tags: Rbd
        """
        meta = {"image_spec": image_spec}
        return await self.task("rbd/flatten", meta, _flatten, self.mgr, image_spec)


class ImageMoveTrash(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"

    async def post(self, image_spec: str, /, body: MoveTrash) -> r201[Any] | r202[TaskRef]:
        """Move an image to the trash; removable after `delay` seconds (task
        ``rbd/trash/move``).

        Tags: Rbd
        """
        meta = {"image_spec": image_spec}
        return await self.task(
            "rbd/trash/move", meta, _move_trash, self.mgr, image_spec, body.delay
        )


class DefaultFeatures(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"

    async def get(self) -> r200[list[str]]:
        """The features of a new image (``rbd_default_features``).

        Tags: Rbd
        """
        return self.json(await self.blocking(_default_features, self.mgr))


class CloneFormatVersion(ApiView):
    SCOPE = Scope.RBD_IMAGE
    TAG = "Rbd"

    async def get(self) -> r200[int]:
        """The RBD clone format version (1 or 2).

        Tags: Rbd
        """
        return self.json(await self.blocking(_clone_format, self.mgr))


ROUTES: list[Route] = [
    ("/api/block/image", Images),
    ("/api/block/image/default_features", DefaultFeatures),
    ("/api/block/image/clone_format_version", CloneFormatVersion),
    ("/api/block/image/{image_spec}", ImageItem),
    ("/api/block/image/{image_spec}/copy", ImageCopyView),
    ("/api/block/image/{image_spec}/flatten", ImageFlatten),
    ("/api/block/image/{image_spec}/move_trash", ImageMoveTrash),
]
