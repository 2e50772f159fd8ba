"""The iterator classes of upstream's `rbd` binding.

As in `src/pybind/rbd/rbd.pyx`, each one fetches its entries when it is constructed
(so errors surface from the call that returns it) and yields plain dicts or tuples with
upstream's keys: str names, int ids, `datetime` times.  The chunked ones
(`MetadataIterator`, `PoolMetadataIterator`, the mirror image lists) keep upstream's
`get_next_chunk()` and page through the entries `MAX_READ` at a time.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pyceph.common.errors import CephError
from pyceph.rbdlib import group as engine_group
from pyceph.rbdlib import mirror as engine_mirror
from pyceph.rbdlib import pool as engine_pool
from pyceph.rbdlib import trash as engine_trash
from pyceph.rbdlib.image import Image as EngineImage
from rbd import _engine as eng
from rbd._constants import (
    RBD_SNAP_NAMESPACE_TYPE_GROUP,
    RBD_SNAP_NAMESPACE_TYPE_MIRROR,
    RBD_SNAP_NAMESPACE_TYPE_TRASH,
)
from rbd._errors import make_ex
from rbd._util import check_ioctx

#: entries per chunk of the paged iterators (upstream's max_read for metadata lists)
METADATA_MAX_READ = 32
#: entries per chunk of the mirror image lists (upstream's max_read)
MIRROR_MAX_READ = 1024
#: trash entry sources by number (cls_rbd's TrashImageSource)
TRASH_SOURCES = ("USER", "MIRRORING", "MIGRATION", "REMOVING")


def _check_image(image: Any) -> Any:
    from rbd._image import Image

    if not isinstance(image, Image):
        raise TypeError(
            f"Argument 'image' has incorrect type (expected rbd.Image, got {type(image).__name__})"
        )
    image.require_not_closed()
    return image


def _check_group(group: Any) -> Any:
    from rbd._group import Group

    if not isinstance(group, Group):
        raise TypeError(
            f"Argument 'group' has incorrect type (expected rbd.Group, got {type(group).__name__})"
        )
    return group


def utc(ts: Any) -> datetime:
    """A C `time_t` as upstream converts it: `datetime.utcfromtimestamp(seconds)`."""
    if isinstance(ts, datetime):
        return ts
    return datetime.utcfromtimestamp(int(ts))


def trash_source(src: Any) -> str:
    """The trash source as upstream's string ('USER', ...)."""
    if isinstance(src, str):
        return src
    return TRASH_SOURCES[int(src)]


def trash_entry(e: dict[str, Any]) -> dict[str, Any]:
    """An engine trash entry as upstream's dict."""
    return {
        "id": e["id"],
        "name": e["name"],
        "source": trash_source(e["source"]),
        "deletion_time": utc(e["deletion_time"]),
        "deferment_end_time": utc(e["deferment_end_time"]),
    }


def _image_call(image: Any, fn: Callable[..., Any], msg: str, *args: Any) -> Any:
    """Run engine coroutine `fn(<engine Image>, *args)` for an `rbd.Image`."""
    return eng.call(image._ioctx, fn, (image._img, *args), {}, msg)


class ImageIterator:
    """Iterator over RBD images in a pool: yields `{'id', 'name'}` dicts."""

    def __init__(self, ioctx: Any) -> None:
        check_ioctx(ioctx)
        cio = eng.core_ioctx(ioctx)
        self._images = eng.call(
            ioctx,
            engine_pool.list_images2,
            (cio,),
            {},
            "error listing images.",
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for im in self._images:
            yield {"id": im["id"], "name": im["name"]}


class LockOwnerIterator:
    """Iterator over managed lock owners for an image: yields `{'mode', 'owner'}`."""

    def __init__(self, image: Any) -> None:
        _check_image(image)
        self._image = image
        msg = f"error listing lock owners for image {image._name}"
        img = image._img
        try:
            res = eng.run(image._ioctx, img.lock_get_owners())
        except CephError as e:
            if e.errno != errno.ENOENT:  # ENOENT: nobody owns the lock
                raise make_ex(e.errno, msg) from None
            res = None
        if isinstance(res, tuple):  # (mode, [owner])
            mode, owners = res
            res = [{"mode": mode, "owner": o} for o in owners]
        self._owners: list[dict[str, Any]] = list(res or [])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for o in self._owners:
            yield {"mode": int(o["mode"]), "owner": o["owner"]}


class _Chunked:
    """Upstream's paged iterators: entries after `last_read`, `max_read` at a time."""

    max_read = METADATA_MAX_READ

    def _fetch(self) -> list[Any]:
        raise NotImplementedError

    def _key(self, entry: Any) -> str:
        return entry[0]  # type: ignore[no-any-return]

    def _start(self) -> None:
        self._all = self._fetch()
        self._last_read = ""
        self._pos = 0
        self.next_chunk: list[Any] = []
        self.get_next_chunk()

    def get_next_chunk(self) -> None:
        """Load the next `max_read` entries after the last one read."""
        chunk = self._all[self._pos : self._pos + self.max_read]
        self._pos += len(chunk)
        if chunk:
            self._last_read = self._key(chunk[-1])
        self.next_chunk = chunk

    def __iter__(self) -> Iterator[Any]:
        while len(self.next_chunk) > 0:
            yield from self.next_chunk
            if len(self.next_chunk) < self.max_read:
                break
            self.get_next_chunk()


class MetadataIterator(_Chunked):
    """Iterator over metadata list for an image: yields `(key, value)` str tuples."""

    def __init__(self, image: Any) -> None:
        _check_image(image)
        self._image = image
        self._start()

    def _fetch(self) -> list[Any]:
        self._image.require_not_closed()
        pairs = _image_call(
            self._image,
            EngineImage.metadata_list,
            f"error listing metadata for image {self._image._name}",
        )
        return [(k, v) for k, v in pairs]

    def get_next_chunk(self) -> None:
        """Load the next chunk of key/value pairs."""
        self._image.require_not_closed()
        super().get_next_chunk()


class PoolMetadataIterator(_Chunked):
    """Iterator over pool metadata list: yields `(key, value)` str tuples."""

    def __init__(self, ioctx: Any) -> None:
        check_ioctx(ioctx)
        self._ioctx = ioctx
        self._start()

    def _fetch(self) -> list[Any]:
        cio = eng.core_ioctx(self._ioctx)
        pairs = eng.call(
            self._ioctx,
            engine_pool.pool_metadata_list,
            (cio,),
            {},
            "error listing metadata",
        )
        return [(k, v) for k, v in pairs]

    def get_next_chunk(self) -> None:
        """Load the next chunk of key/value pairs."""
        super().get_next_chunk()


class SnapIterator:
    """Iterator over snapshot info for an image: yields `{'id', 'size', 'name',
    'namespace'}` plus `group`/`trash`/`mirror` for snapshots in those namespaces."""

    def __init__(self, image: Any) -> None:
        _check_image(image)
        self._image = image
        self._snaps = _image_call(
            image, EngineImage.list_snaps, f"error listing snapshots for image {image._name}"
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        image = self._image
        for snap in self._snaps:
            s: dict[str, Any] = {
                "id": snap["id"],
                "size": snap["size"],
                "name": snap["name"],
                "namespace": snap.get("namespace", 0),
            }
            ns = s["namespace"]
            extra = {
                RBD_SNAP_NAMESPACE_TYPE_GROUP: ("group", image.snap_get_group_namespace),
                RBD_SNAP_NAMESPACE_TYPE_TRASH: ("trash", image.snap_get_trash_namespace),
                RBD_SNAP_NAMESPACE_TYPE_MIRROR: ("mirror", image.snap_get_mirror_namespace),
            }.get(ns)
            if extra is not None:
                key, getter = extra
                try:
                    s[key] = getter(snap["id"])
                except Exception:  # noqa: BLE001 - upstream yields None on any error
                    s[key] = None
            yield s


class TrashIterator:
    """Iterator over trash entries: yields `{'id', 'name', 'source', 'deletion_time',
    'deferment_end_time'}`."""

    def __init__(self, ioctx: Any) -> None:
        check_ioctx(ioctx)
        cio = eng.core_ioctx(ioctx)
        self._entries = eng.call(
            ioctx,
            engine_trash.trash_list,
            (cio,),
            {},
            "error listing trash entries",
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for e in self._entries:
            yield trash_entry(e)


class ChildIterator:
    """Iterator over child info for the image or its snapshot: yields `{'pool',
    'pool_namespace', 'image', 'id', 'trash'}`."""

    def __init__(self, image: Any, descendants: bool = False) -> None:
        _check_image(image)
        self._image = image
        fn = EngineImage.list_descendants if descendants else EngineImage.list_children2
        self._children = _image_call(image, fn, "error listing children.")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for c in self._children:
            yield {
                "pool": c["pool"],
                "pool_namespace": c["pool_namespace"],
                "image": c["image"],
                "id": c["id"],
                "trash": bool(c["trash"]),
            }


class WatcherIterator:
    """Iterator over watchers of an image: yields `{'addr', 'id', 'cookie'}`."""

    def __init__(self, image: Any) -> None:
        _check_image(image)
        self._image = image
        self._watchers = _image_call(image, EngineImage.watchers_list, "error listing watchers.")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for w in self._watchers:
            yield {"addr": w["addr"], "id": w["id"], "cookie": w["cookie"]}


def _config_entries(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for o in entries:
        yield {"name": o["name"], "value": o["value"], "source": o["source"]}


class ConfigImageIterator:
    """Iterator over image-level overrides for an image: yields `{'name', 'value',
    'source'}`."""

    def __init__(self, image: Any) -> None:
        _check_image(image)
        self._options = _image_call(image, EngineImage.config_list, "error listing config options")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return _config_entries(self._options)


class ConfigPoolIterator:
    """Iterator over pool-level overrides for a pool: yields `{'name', 'value',
    'source'}`."""

    def __init__(self, ioctx: Any) -> None:
        check_ioctx(ioctx)
        cio = eng.core_ioctx(ioctx)
        self._options = eng.call(
            ioctx,
            engine_pool.config_list,
            (cio,),
            {},
            "error listing config options",
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return _config_entries(self._options)


class GroupImageIterator:
    """Iterator over image info for a group: yields `{'name', 'pool', 'state'}`."""

    def __init__(self, group: Any) -> None:
        _check_group(group)
        self._group = group
        self._images = group._call(
            engine_group.group_image_list, (), f"error listing images for group {group._bname}"
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for im in self._images:
            yield {"name": im["name"], "pool": im["pool"], "state": im["state"]}


class GroupSnapIterator:
    """Iterator over snaps specs for a group: yields `{'name', 'state'}`."""

    def __init__(self, group: Any) -> None:
        _check_group(group)
        self._group = group
        self._snaps = group._call(
            engine_group.group_snap_list, (), f"error listing snapshots for group {group._bname}"
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for s in self._snaps:
            yield {"name": s["name"], "state": s["state"]}


def _mirror_list(ioctx: Any, fn: Callable[..., Any], msg: str, *args: Any) -> list[Any]:
    check_ioctx(ioctx)
    cio = eng.core_ioctx(ioctx)
    return eng.call(ioctx, fn, (cio, *args), {}, msg)  # type: ignore[no-any-return]


class MirrorPeerIterator:
    """Iterator over mirror peer info for a pool: yields `{'uuid', 'direction',
    'site_name', 'cluster_name', 'mirror_uuid', 'client_name'}`."""

    def __init__(self, ioctx: Any) -> None:
        self._peers = _mirror_list(ioctx, engine_mirror.mirror_peer_list, "error listing peers")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for p in self._peers:
            yield {
                "uuid": p["uuid"],
                "direction": int(p["direction"]),
                "site_name": p["site_name"],
                "cluster_name": p["site_name"],
                "mirror_uuid": p["mirror_uuid"],
                "client_name": p["client_name"],
            }


def mirror_status(st: dict[str, Any]) -> dict[str, Any]:
    """An engine global mirror status as upstream's dict: the local site's status
    (mirror_uuid '') merged at the top level, the others under `remote_statuses`."""
    local: dict[str, Any] | None = None
    remotes = []
    for s in st.get("site_statuses", []):
        site = {
            "state": s["state"],
            "description": s["description"],
            "last_update": utc(s["last_update"]),
            "up": bool(s["up"]),
        }
        if s.get("mirror_uuid", "") == "":
            local = site
        else:
            site["mirror_uuid"] = s["mirror_uuid"]
            remotes.append(site)
    out: dict[str, Any] = {
        "name": st["name"],
        "id": st["id"],
        "info": dict(st["info"]),
        "remote_statuses": remotes,
    }
    if local:
        out.update(local)
    return out


class MirrorImageStatusIterator(_Chunked):
    """Iterator over mirror image status for a pool (dicts as `mirror_image_get_status`)."""

    max_read = MIRROR_MAX_READ

    def __init__(self, ioctx: Any) -> None:
        self._ioctx = ioctx
        check_ioctx(ioctx)
        self._start()

    def _fetch(self) -> list[Any]:
        rows = _mirror_list(
            self._ioctx,
            engine_mirror.mirror_image_status_list,
            "error listing mirror images status",
        )
        return [mirror_status(r) for r in rows]

    def _key(self, entry: Any) -> str:
        return entry["id"]  # type: ignore[no-any-return]

    def get_next_chunk(self) -> None:
        """Load the next chunk of statuses."""
        super().get_next_chunk()


class MirrorImageInstanceIdIterator(_Chunked):
    """Iterator over mirror image instance id for a pool: yields `(image_id, instance_id)`."""

    max_read = MIRROR_MAX_READ

    def __init__(self, ioctx: Any) -> None:
        self._ioctx = ioctx
        check_ioctx(ioctx)
        self._start()

    def _fetch(self) -> list[Any]:
        rows = _mirror_list(
            self._ioctx,
            engine_mirror.mirror_image_instance_id_list,
            "error listing mirror images instance ids",
        )
        return [(i, inst) for i, inst in rows]

    def get_next_chunk(self) -> None:
        """Load the next chunk of ids."""
        super().get_next_chunk()


class MirrorImageInfoIterator(_Chunked):
    """Iterator over mirror image info for a pool: yields `(image_id, {'mode',
    'global_id', 'state', 'primary'})`."""

    max_read = MIRROR_MAX_READ

    def __init__(self, ioctx: Any, mode_filter: Any) -> None:
        self._ioctx = ioctx
        self._mode_filter = mode_filter
        check_ioctx(ioctx)
        self._start()

    def _fetch(self) -> list[Any]:
        rows = _mirror_list(
            self._ioctx,
            engine_mirror.mirror_image_info_list,
            "error listing mirror image info",
            self._mode_filter,
        )
        return [
            (
                i,
                {
                    "mode": int(info["mode"]),
                    "global_id": info["global_id"],
                    "state": int(info["state"]),
                    "primary": bool(info["primary"]),
                },
            )
            for i, info in rows
        ]

    def get_next_chunk(self) -> None:
        """Load the next chunk of infos."""
        super().get_next_chunk()


__all__ = [
    "ChildIterator",
    "ConfigImageIterator",
    "ConfigPoolIterator",
    "GroupImageIterator",
    "GroupSnapIterator",
    "ImageIterator",
    "LockOwnerIterator",
    "MetadataIterator",
    "MirrorImageInfoIterator",
    "MirrorImageInstanceIdIterator",
    "MirrorImageStatusIterator",
    "MirrorPeerIterator",
    "PoolMetadataIterator",
    "SnapIterator",
    "TrashIterator",
    "mirror_status",
    "trash_entry",
    "utc",
]
