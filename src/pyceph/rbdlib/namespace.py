"""RBD namespaces (librbd api::Namespace): names in the pool's `rbd_namespace` object,
each a RADOS namespace with its own `rbd_directory` (state READY when usable).

create: EINVAL for an empty name or from inside a namespace, EEXIST when present;
remove: ENOENT when missing, EBUSY while it holds images or trash entries.
"""

from __future__ import annotations

import errno

from pyceph.client.ioctx import IoCtx
from pyceph.cls import rbd_mirror_types as M
from pyceph.cls import rbd_types as T
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib._util import ignore_enoent
from pyceph.rbdlib.layout import RBD_DIRECTORY, RBD_MIRRORING, RBD_NAMESPACE, RBD_TRASH

#: Names read per namespace_list call.
NAMESPACE_LIST_PAGE = 1024


def _root(ioctx: IoCtx, name: str) -> tuple[IoCtx, IoCtx]:
    if ioctx.nspace:
        raise CephError(errno.EINVAL, "namespaces cannot be nested")
    if not name:
        raise CephError(errno.EINVAL, "namespace name must not be empty")
    return ioctx.copy(nspace=""), ioctx.copy(nspace=name)


async def namespace_create(ioctx: IoCtx, name: str) -> None:
    root, ns = _root(ioctx, name)
    await cls_client.namespace_add(root, RBD_NAMESPACE, name)
    try:
        await cls_client.dir_state_set(ns, RBD_DIRECTORY, T.DIRECTORY_STATE_READY)
    except CephError:
        await ignore_enoent(cls_client.namespace_remove(root, RBD_NAMESPACE, name))
        raise


async def namespace_remove(ioctx: IoCtx, name: str) -> None:
    root, ns = _root(ioctx, name)
    if name not in await namespace_list(root):
        raise CephError(errno.ENOENT, f"namespace {name} does not exist")
    await cls_client.dir_state_set(ns, RBD_DIRECTORY, T.DIRECTORY_STATE_ADD_DISABLED)
    images = await ignore_enoent(cls_client.dir_list(ns, RBD_DIRECTORY, "", 1))
    trash = await ignore_enoent(cls_client.trash_list(ns, RBD_TRASH, "", 1))
    if images or trash:
        await cls_client.dir_state_set(ns, RBD_DIRECTORY, T.DIRECTORY_STATE_READY)
        raise CephError(errno.EBUSY, "namespace contains images")
    # Namespace::remove: mirroring of the namespace off, its rbd_mirroring gone
    try:
        await cls_client.mirror_mode_set(ns, RBD_MIRRORING, M.MIRROR_MODE_DISABLED)
    except CephError as e:
        await cls_client.dir_state_set(ns, RBD_DIRECTORY, T.DIRECTORY_STATE_READY)
        raise CephError(e.errno, "failed to disable mirroring") from e
    await ignore_enoent(ns.remove(RBD_TRASH))
    await ignore_enoent(ns.remove(RBD_MIRRORING))
    await ignore_enoent(ns.remove(RBD_DIRECTORY))
    await cls_client.namespace_remove(root, RBD_NAMESPACE, name)


async def namespace_list(ioctx: IoCtx) -> list[str]:
    root = ioctx.copy(nspace="")
    out: list[str] = []
    start = ""
    while True:
        try:
            page = await cls_client.namespace_list(root, RBD_NAMESPACE, start,
                                                   NAMESPACE_LIST_PAGE)  # fmt: skip
        except CephError as e:
            if e.errno == errno.ENOENT:
                return out
            raise
        out.extend(page)
        if len(page) < NAMESPACE_LIST_PAGE:
            return out
        start = out[-1]


async def namespace_exists(ioctx: IoCtx, name: str) -> bool:
    _root(ioctx, name)
    return name in await namespace_list(ioctx)
