"""RBD images, snapshots and trash for the dashboard API, as plain synchronous functions.

Every function takes a `rados.Rados` handle and works through the drop-in `rbd`
module, as upstream's dashboard works through librbd's bindings; the views run them
on the web server's worker threads, most as tasks (``rbd/create``...). `rbd` and
`rados` exceptions pass through untouched: the controller turns them into the API's
errors (upstream's ``handle_rbd_error``). An image spec is ``pool/[namespace/]image``.

Upstream: src/pybind/mgr/dashboard/services/rbd.py (RbdService, RbdConfiguration,
RbdSnapshotService, format_bitmask, format_features, parse_image_spec),
controllers/rbd.py (Rbd, RbdSnapshot, RbdTrash).
"""

from __future__ import annotations

import datetime
import errno
import math
from collections.abc import Callable
from typing import Any, TypeVar

import rados
import rbd

from .pool import NoSuchObject, check_configuration, send_command, set_rbd_configuration

__all__ = [
    "ALLOW_DISABLE_FEATURES",
    "ALLOW_ENABLE_FEATURES",
    "FEATURE_NAMES",
    "LIST_LIMIT",
    "clone_format_version",
    "default_features",
    "format_bitmask",
    "format_features",
    "get_image_spec",
    "image_clone",
    "image_copy",
    "image_create",
    "image_delete",
    "image_edit",
    "image_flatten",
    "image_get",
    "image_list",
    "image_move_trash",
    "parse_image_spec",
    "snap_create",
    "snap_delete",
    "snap_edit",
    "snap_rollback",
    "trash_list",
    "trash_purge",
    "trash_remove",
    "trash_restore",
]

T = TypeVar("T")

#: feature bit -> the name the API uses (upstream's RBD_FEATURES_NAME_MAPPING)
FEATURE_NAMES: dict[int, str] = {
    rbd.RBD_FEATURE_LAYERING: "layering",
    rbd.RBD_FEATURE_STRIPINGV2: "striping",
    rbd.RBD_FEATURE_EXCLUSIVE_LOCK: "exclusive-lock",
    rbd.RBD_FEATURE_OBJECT_MAP: "object-map",
    rbd.RBD_FEATURE_FAST_DIFF: "fast-diff",
    rbd.RBD_FEATURE_DEEP_FLATTEN: "deep-flatten",
    rbd.RBD_FEATURE_JOURNALING: "journaling",
    rbd.RBD_FEATURE_DATA_POOL: "data-pool",
    rbd.RBD_FEATURE_OPERATIONS: "operations",
}
#: features an existing image may gain (upstream's Rbd.ALLOW_ENABLE_FEATURES)
ALLOW_ENABLE_FEATURES = frozenset({"exclusive-lock", "object-map", "fast-diff", "journaling"})
#: features an existing image may lose (upstream's Rbd.ALLOW_DISABLE_FEATURES)
ALLOW_DISABLE_FEATURES = frozenset(
    {"exclusive-lock", "object-map", "fast-diff", "deep-flatten", "journaling"}
)
#: dependency order of features toggled one by one (upstream's _sort_features)
FEATURE_ORDER = ("exclusive-lock", "journaling", "object-map", "fast-diff")
#: images per page of ``GET /api/block/image`` unless `limit` says (upstream's default)
LIST_LIMIT = 5
#: mirror image modes by number (upstream's MIRROR_IMAGE_MODE)
MIRROR_MODES = {
    rbd.RBD_MIRROR_IMAGE_MODE_JOURNAL: "journal",
    rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT: "snapshot",
}
#: the OSDMap's type number of an erasure-coded pool (pg_pool_t::TYPE_ERASURE)
ERASURE_POOL_TYPE = 3
#: the application a pool must carry to be listed (upstream's get_pool_list('rbd'))
RBD_APPLICATION = "rbd"


# ---- sans-I/O helpers ---------------------------------------------------------------


def format_bitmask(features: int) -> list[str]:
    """The sorted names of the feature bits set in `features` (45 -> deep-flatten,...)."""
    return sorted(name for bit, name in FEATURE_NAMES.items() if features & bit == bit)


def format_features(features: list[str] | str | None) -> int | None:
    """A feature-name list (or comma-separated text) as a bitmask; None stays None."""
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",")]
    if not isinstance(features, list):
        return None
    mask = 0
    for bit, name in FEATURE_NAMES.items():
        if name in features:
            mask |= bit
    return mask


def get_image_spec(pool_name: str, namespace: str | None, image: str) -> str:
    """``pool/[namespace/]image``."""
    return f"{pool_name}/{namespace}/{image}" if namespace else f"{pool_name}/{image}"


def parse_image_spec(image_spec: str) -> tuple[str, str | None, str]:
    """``pool/[namespace/]image`` -> (pool, namespace or None, image); ValueError when
    there is no pool part."""
    head, sep, image = image_spec.rpartition("/")
    if not sep or not head or not image:
        raise ValueError(f"invalid image spec {image_spec!r}: expected pool/[namespace/]image")
    pool, sep, namespace = head.rpartition("/")
    if not sep:
        return head, None, image
    return pool, namespace, image


def order_of(obj_size: int | None) -> int | None:
    """The image order for an object size in bytes (None: the default)."""
    if obj_size and obj_size > 0:
        return int(round(math.log(float(obj_size), 2)))
    return None


def sort_features(features: list[str], enable: bool = True) -> list[str]:
    """`features` in the order they can be toggled: dependencies first when enabling,
    last when disabling."""

    def key(name: str) -> int:
        return FEATURE_ORDER.index(name) if name in FEATURE_ORDER else len(FEATURE_ORDER)

    return sorted(features, key=key, reverse=not enable)


def _iso(ts: datetime.datetime) -> str:
    return f"{ts.isoformat()}Z"


# ---- opening pools and images -------------------------------------------------------


def _pool_types(cluster: rados.Rados) -> dict[str, int]:
    return {p["pool_name"]: p["type"] for p in send_command(cluster, "osd dump")["pools"]}


def _require_replicated(cluster: rados.Rados, pool_name: str) -> None:
    """Refuse an erasure-coded pool up front (EOPNOTSUPP): it cannot hold RBD's omap
    metadata, and an op on one whose PGs cannot go active would never answer (the case
    upstream's RbdConfiguration.list works around)."""
    if _pool_types(cluster).get(pool_name) == ERASURE_POOL_TYPE:
        raise rbd.OperationNotSupported(
            f"pool {pool_name} is erasure-coded: RBD images need a replicated pool "
            "(an erasure-coded one can only be a data pool)",
            errno.EOPNOTSUPP,
        )


def rbd_call(
    cluster: rados.Rados,
    pool_name: str,
    namespace: str | None,
    fn: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """`fn(ioctx, *args)` with an ioctx on the pool and namespace."""
    _require_replicated(cluster, pool_name)
    with cluster.open_ioctx(pool_name) as ioctx:
        ioctx.set_namespace(namespace or "")
        return fn(ioctx, *args, **kwargs)


def rbd_image_call(
    cluster: rados.Rados,
    pool_name: str,
    namespace: str | None,
    image_name: str,
    fn: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """`fn(ioctx, image, *args)` with the image open."""

    def opened(ioctx: rados.Ioctx) -> T:
        with rbd.Image(ioctx, image_name) as image:
            return fn(ioctx, image, *args, **kwargs)

    return rbd_call(cluster, pool_name, namespace, opened)


def _image_call(cluster: rados.Rados, image_spec: str, fn: Callable[..., T], *args: Any) -> T:
    pool, namespace, image = parse_image_spec(image_spec)
    return rbd_image_call(cluster, pool, namespace, image, fn, *args)


# ---- reading ------------------------------------------------------------------------


def _disk_usage(
    image: rbd.Image, snaps: list[tuple[int, int, str | None]]
) -> dict[str | None, int]:
    """Bytes provisioned by each snapshot (and the head, None) over the one before."""
    usage: dict[str | None, int] = {}
    previous: str | None = None
    for _, size, name in snaps:
        image.set_snap(name)
        used = [0]

        def count(offset: int, length: int, exists: bool, used: list[int] = used) -> None:
            if exists:
                used[0] += length

        image.diff_iterate(0, size, previous, count, whole_object=True)
        usage[name] = used[0]
        previous = name
    image.set_snap(None)
    return usage


def _snapshots(image: rbd.Image, mirror_mode: int) -> list[dict[str, Any]]:
    out = []
    snapshot_mode = mirror_mode == rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT
    for snap in image.list_snaps():
        snap["mirror_mode"] = MIRROR_MODES.get(mirror_mode, "unknown")
        snap["timestamp"] = _iso(image.get_snap_timestamp(snap["id"]))
        snap["is_protected"] = None if snapshot_mode else image.is_protected_snap(snap["name"])
        snap["used_bytes"] = None
        snap["children"] = []
        if not snapshot_mode:
            image.set_snap(snap["name"])
            for pool_name, image_name in image.list_children():
                snap["children"].append({"pool_name": pool_name, "image_name": image_name})
            image.set_snap(None)
        out.append(snap)
    return out


def image_stat(
    ioctx: rados.Ioctx,
    cluster: rados.Rados,
    pool_name: str,
    namespace: str,
    image_name: str,
    omit_usage: bool = False,
) -> dict[str, Any]:
    """One image as the API shows it (the keys of the reference sample); `omit_usage`
    skips the disk usage (null), which reads every object's state."""
    with rbd.Image(ioctx, image_name) as img:
        stat = img.stat()
        del stat["parent_pool"], stat["parent_name"]  # deprecated keys, as upstream
        mirror_mode = img.mirror_image_get_mode()
        stat["mirror_mode"] = MIRROR_MODES.get(mirror_mode, "unknown")
        stat["name"] = image_name
        if img.old_format():
            stat["unique_id"] = get_image_spec(pool_name, namespace, stat["block_name_prefix"])
            stat["id"] = stat["unique_id"]
            stat["image_format"] = 1
        else:
            stat["unique_id"] = get_image_spec(pool_name, namespace, img.id())
            stat["id"] = img.id()
            stat["image_format"] = 2
        stat["pool_name"] = pool_name
        stat["namespace"] = namespace
        features = img.features()
        stat["features"] = features
        stat["features_name"] = format_bitmask(features)
        stat["timestamp"] = _iso(img.create_timestamp())
        stat["stripe_count"] = img.stripe_count()
        stat["stripe_unit"] = img.stripe_unit()
        data_pool = cluster.pool_reverse_lookup(img.data_pool_id())
        stat["data_pool"] = None if data_pool == pool_name else data_pool
        try:
            stat["parent"] = img.get_parent_image_spec()
        except rbd.ImageNotFound:
            stat["parent"] = None
        stat["snapshots"] = _snapshots(img, mirror_mode)
        if (
            not omit_usage
            and "fast-diff" in stat["features_name"]
            and not img.flags() & rbd.RBD_FLAG_FAST_DIFF_INVALID
            and mirror_mode != rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT
        ):
            snaps: list[tuple[int, int, str | None]] = sorted(
                (s["id"], s["size"], s["name"]) for s in stat["snapshots"]
            )
            snaps.append((snaps[-1][0] + 1 if snaps else 0, stat["size"], None))
            usage = _disk_usage(img, snaps)
            stat["total_disk_usage"] = sum(usage.values())
            stat["disk_usage"] = usage.pop(None)
            for snap in stat["snapshots"]:
                snap["disk_usage"] = usage.get(snap["name"])
        else:
            stat["total_disk_usage"] = None
            stat["disk_usage"] = None
        stat["configuration"] = list(img.config_list())
        return stat


def rbd_pools(cluster: rados.Rados) -> list[str]:
    """The replicated pools whose application is rbd."""
    pools = send_command(cluster, "osd dump")["pools"]
    return [
        p["pool_name"]
        for p in pools
        if RBD_APPLICATION in p.get("application_metadata", {}) and p["type"] != ERASURE_POOL_TYPE
    ]


def _image_refs(cluster: rados.Rados, pool_names: list[str]) -> list[dict[str, Any]]:
    refs = []
    handle = rbd.RBD()
    types = _pool_types(cluster)
    for pool in pool_names:
        if types.get(pool) == ERASURE_POOL_TYPE:  # holds no RBD image (only their data)
            continue
        with cluster.open_ioctx(pool) as ioctx:
            for namespace in [*handle.namespace_list(ioctx), ""]:
                ioctx.set_namespace(namespace)
                for ref in handle.list2(ioctx):
                    refs.append({**ref, "namespace": namespace, "pool_name": pool})
    return refs


def _removing_stat(
    ioctx: rados.Ioctx, pool_name: str, namespace: str, image_id: str
) -> dict[str, Any]:
    """An image whose removal was interrupted: its trash entry (source REMOVING)."""
    entry = rbd.RBD().trash_get(ioctx, image_id)
    if entry["source"] != "REMOVING":
        raise rbd.ImageNotFound(f"No image {image_id} in status `REMOVING` found.")
    entry.update(
        unique_id=get_image_spec(pool_name, namespace, image_id),
        pool_name=pool_name,
        namespace=namespace,
        deletion_time=_iso(entry["deletion_time"]),
        deferment_end_time=_iso(entry["deferment_end_time"]),
    )
    return entry


def image_list(
    cluster: rados.Rados,
    pool_name: str | None = None,
    offset: int = 0,
    limit: int = LIST_LIMIT,
    search: str = "",
    sort: str = "",
) -> tuple[list[dict[str, Any]], int]:
    """``GET /api/block/image``: one page of images (`limit` -1: all), grouped per pool
    as ``[{"value": [...], "pool_name": ...}]``, and the number of images matched."""
    if limit < -1 or offset < 0:
        raise ValueError(f"Wrong limit value {limit}" if limit < -1 else f"Wrong offset {offset}")
    pools = [pool_name] if pool_name else rbd_pools(cluster)
    refs = [
        r
        for r in _image_refs(cluster, pools)
        if search in r["name"] or search in r["pool_name"] or search in r["namespace"]
    ]
    descending = sort[:1] == "-"
    sort_by = sort[1:] if sort[1:] in ("name", "pool_name", "namespace") else "name"
    refs.sort(key=lambda r: r[sort_by], reverse=descending)
    page = refs[offset:] if limit == -1 else refs[offset : offset + limit]
    groups: dict[str, dict[str, Any]] = {}
    for ref in page:
        with cluster.open_ioctx(ref["pool_name"]) as ioctx:
            ioctx.set_namespace(ref["namespace"])
            try:
                stat = image_stat(ioctx, cluster, ref["pool_name"], ref["namespace"], ref["name"])
            except rbd.ImageNotFound:
                try:
                    stat = _removing_stat(ioctx, ref["pool_name"], ref["namespace"], ref["id"])
                except rbd.ImageNotFound:
                    continue
        group = groups.setdefault(ref["pool_name"], {"value": [], "pool_name": ref["pool_name"]})
        group["value"].append(stat)
    return list(groups.values()), len(refs)


def image_get(cluster: rados.Rados, image_spec: str, omit_usage: bool = False) -> dict[str, Any]:
    """``GET /api/block/image/{spec}``; `NoSuchObject` when there is no such image."""
    pool, namespace, image = parse_image_spec(image_spec)
    try:
        return rbd_call(
            cluster, pool, namespace, image_stat, cluster, pool, namespace or "", image, omit_usage
        )
    except rbd.ImageNotFound:
        raise NoSuchObject("Image not found") from None


def default_features(cluster: rados.Rados) -> list[str]:
    """``GET /api/block/image/default_features``: `rbd_default_features` as names."""
    value = str(send_command(cluster, "config get", who="client", key="rbd_default_features"))
    value = value.strip()
    mask = int(value) if value.isdigit() else rbd.RBD().features_from_string(value)
    return format_bitmask(mask)


def clone_format_version(cluster: rados.Rados) -> int:
    """``GET /api/block/image/clone_format_version``: 1 or 2; ``auto`` is 2 when clients
    must be at least mimic, as upstream."""
    value = str(send_command(cluster, "config get", who="client", key="rbd_default_clone_format"))
    if value.strip() != "auto":
        return int(value.strip())
    osd_map = send_command(cluster, "osd dump")
    newest = max(osd_map.get("min_compat_client", ""), osd_map.get("require_min_compat_client", ""))
    return 1 if newest < "mimic" else 2


# ---- images -------------------------------------------------------------------------


def image_create(
    cluster: rados.Rados,
    name: str,
    pool_name: str,
    size: int,
    namespace: str | None = None,
    obj_size: int | None = None,
    features: list[str] | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> None:
    """``POST /api/block/image``."""
    check_configuration(configuration)

    def create(ioctx: rados.Ioctx) -> None:
        rbd.RBD().create(
            ioctx,
            name,
            int(size),
            order=order_of(obj_size),
            old_format=False,
            features=format_features(features),
            stripe_unit=stripe_unit,
            stripe_count=stripe_count,
            data_pool=data_pool,
        )
        if configuration:
            with rbd.Image(ioctx, name) as image:
                set_rbd_configuration(ioctx, configuration, image)

    rbd_call(cluster, pool_name, namespace, create)


def image_delete(cluster: rados.Rados, image_spec: str) -> None:
    """``DELETE /api/block/image/{spec}``: its snapshots (unprotected first), then it."""
    pool, namespace, name = parse_image_spec(image_spec)

    def remove_snaps(ioctx: rados.Ioctx, image: rbd.Image) -> None:
        snaps = list(image.list_snaps())
        for snap in snaps:  # a clone's parent stays whole: refused before any change
            if image.is_protected_snap(snap["name"]):
                image.set_snap(snap["name"])
                children = list(image.list_children())
                image.set_snap(None)
                if children:
                    raise rbd.ImageBusy(
                        f"snapshot {snap['name']} of {name} has clones: flatten or remove them",
                        errno.EBUSY,
                    )
        for snap in snaps:
            if image.is_protected_snap(snap["name"]):
                image.unprotect_snap(snap["name"])
            image.remove_snap(snap["name"])

    rbd_image_call(cluster, pool, namespace, name, remove_snaps)
    rbd_call(cluster, pool, namespace, rbd.RBD().remove, name)


def _toggle_features(image: rbd.Image, wanted: list[str]) -> None:
    current = format_bitmask(image.features())
    for feature in sort_features(current, enable=False):
        if (
            feature not in wanted
            and feature in ALLOW_DISABLE_FEATURES
            and feature in format_bitmask(image.features())
        ):
            image.update_features(format_features([feature]), False)
    for feature in sort_features(list(wanted)):
        if (
            feature not in current
            and feature in ALLOW_ENABLE_FEATURES
            and feature not in format_bitmask(image.features())
        ):
            image.update_features(format_features([feature]), True)


def image_edit(
    cluster: rados.Rados,
    image_spec: str,
    name: str | None = None,
    size: int | None = None,
    features: list[str] | None = None,
    configuration: dict[str, Any] | None = None,
) -> None:
    """``PUT /api/block/image/{spec}``: rename, resize, toggle features, configuration."""
    pool, namespace, image_name = parse_image_spec(image_spec)
    check_configuration(configuration)
    if name and name != image_name:
        taken = rbd_call(cluster, pool, namespace, rbd.RBD().list)
        if name in taken:  # refused before the other changes, as a failed rename would be
            raise rbd.ImageExists(f"image {name} already exists", errno.EEXIST)

    def edit(ioctx: rados.Ioctx, image: rbd.Image) -> None:
        if size and size != image.size():
            image.resize(size)
        if features is not None:
            _toggle_features(image, features)
        if configuration:
            set_rbd_configuration(ioctx, configuration, image)

    rbd_image_call(cluster, pool, namespace, image_name, edit)
    if name and name != image_name:
        rbd_call(cluster, pool, namespace, rbd.RBD().rename, image_name, name)


def image_copy(
    cluster: rados.Rados,
    image_spec: str,
    dest_pool_name: str,
    dest_namespace: str | None,
    dest_image_name: str,
    snapshot_name: str | None = None,
    obj_size: int | None = None,
    features: list[str] | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> None:
    """``POST /api/block/image/{spec}/copy``: the image (or one snapshot) to a new image."""
    check_configuration(configuration)

    def copy(src_ioctx: rados.Ioctx, src: rbd.Image) -> None:
        def to(dest_ioctx: rados.Ioctx) -> None:
            if snapshot_name:
                src.set_snap(snapshot_name)
            src.copy(
                dest_ioctx,
                dest_image_name,
                format_features(features),
                order_of(obj_size),
                stripe_unit,
                stripe_count,
                data_pool,
            )
            if configuration:
                with rbd.Image(dest_ioctx, dest_image_name) as image:
                    set_rbd_configuration(dest_ioctx, configuration, image)

        rbd_call(cluster, dest_pool_name, dest_namespace, to)

    _image_call(cluster, image_spec, copy)


def image_flatten(cluster: rados.Rados, image_spec: str) -> None:
    """``POST /api/block/image/{spec}/flatten``: copy the parent's data into a clone."""
    _image_call(cluster, image_spec, lambda ioctx, image: image.flatten())


def image_move_trash(cluster: rados.Rados, image_spec: str, delay: int = 0) -> None:
    """``POST /api/block/image/{spec}/move_trash``: deferred deletion after `delay` s."""
    pool, namespace, name = parse_image_spec(image_spec)
    rbd_call(cluster, pool, namespace, rbd.RBD().trash_move, name, int(delay))


# ---- snapshots ----------------------------------------------------------------------


def snap_create(
    cluster: rados.Rados, image_spec: str, snapshot_name: str, mirror_image_snapshot: bool = False
) -> None:
    """``POST /api/block/image/{spec}/snap``: a snapshot; with `mirror_image_snapshot` on
    an image mirrored in snapshot mode, a mirror snapshot instead (as upstream)."""

    def create(ioctx: rados.Ioctx, image: rbd.Image) -> None:
        mirrored = (
            mirror_image_snapshot
            and image.mirror_image_get_info()["state"] == rbd.RBD_MIRROR_IMAGE_ENABLED
            and image.mirror_image_get_mode() == rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT
        )
        if mirrored:
            image.mirror_image_create_snapshot()
        else:
            image.create_snap(snapshot_name)

    _image_call(cluster, image_spec, create)


def snap_delete(cluster: rados.Rados, image_spec: str, snapshot_name: str) -> None:
    """``DELETE /api/block/image/{spec}/snap/{name}`` (a protected one is refused)."""
    _image_call(cluster, image_spec, lambda ioctx, image: image.remove_snap(snapshot_name))


def snap_edit(
    cluster: rados.Rados,
    image_spec: str,
    snapshot_name: str,
    new_snap_name: str | None = None,
    is_protected: bool | None = None,
) -> None:
    """``PUT /api/block/image/{spec}/snap/{name}``: rename and/or (un)protect."""

    def edit(ioctx: rados.Ioctx, image: rbd.Image) -> None:
        name = snapshot_name
        if new_snap_name and new_snap_name != name:
            image.rename_snap(name, new_snap_name)
            name = new_snap_name
        if is_protected is not None and is_protected != image.is_protected_snap(name):
            if is_protected:
                image.protect_snap(name)
            else:
                image.unprotect_snap(name)

    _image_call(cluster, image_spec, edit)


def snap_rollback(cluster: rados.Rados, image_spec: str, snapshot_name: str) -> None:
    """``POST /api/block/image/{spec}/snap/{name}/rollback``."""
    _image_call(cluster, image_spec, lambda ioctx, image: image.rollback_to_snap(snapshot_name))


def image_clone(
    cluster: rados.Rados,
    image_spec: str,
    snapshot_name: str,
    child_pool_name: str,
    child_image_name: str,
    child_namespace: str | None = None,
    obj_size: int | None = None,
    features: list[str] | None = None,
    stripe_unit: int | None = None,
    stripe_count: int | None = None,
    data_pool: str | None = None,
    configuration: dict[str, Any] | None = None,
) -> None:
    """``POST /api/block/image/{spec}/snap/{name}/clone``: a child of the snapshot."""
    check_configuration(configuration)
    pool, namespace, name = parse_image_spec(image_spec)

    def parent(p_ioctx: rados.Ioctx) -> None:
        def child(c_ioctx: rados.Ioctx) -> None:
            rbd.RBD().clone(
                p_ioctx,
                name,
                snapshot_name,
                c_ioctx,
                child_image_name,
                format_features(features),
                order_of(obj_size),
                stripe_unit,
                stripe_count,
                data_pool,
            )
            if configuration:
                with rbd.Image(c_ioctx, child_image_name) as image:
                    set_rbd_configuration(c_ioctx, configuration, image)

        rbd_call(cluster, child_pool_name, child_namespace, child)

    rbd_call(cluster, pool, namespace, parent)


# ---- trash --------------------------------------------------------------------------


def _trash_pool(cluster: rados.Rados, pool_name: str) -> list[dict[str, Any]]:
    handle = rbd.RBD()
    out: list[dict[str, Any]] = []
    if _pool_types(cluster).get(pool_name) == ERASURE_POOL_TYPE:  # no RBD trash there
        return out
    with cluster.open_ioctx(pool_name) as ioctx:
        for namespace in [*handle.namespace_list(ioctx), ""]:
            ioctx.set_namespace(namespace)
            for entry in handle.trash_list(ioctx):
                entry["pool_name"] = pool_name
                entry["namespace"] = namespace
                entry["deletion_time"] = _iso(entry["deletion_time"])
                entry["deferment_end_time"] = _iso(entry["deferment_end_time"])
                out.append(entry)
    return out


def trash_list(cluster: rados.Rados, pool_name: str | None = None) -> list[dict[str, Any]]:
    """``GET /api/block/image/trash``: ``[{"status", "value", "pool_name"}]`` per pool
    (status 0: upstream's ViewCache VALUE_OK)."""
    pools = [pool_name] if pool_name else rbd_pools(cluster)
    return [{"status": 0, "value": _trash_pool(cluster, p), "pool_name": p} for p in pools]


def trash_purge(
    cluster: rados.Rados,
    pool_name: str | None = None,
    now: Callable[[], datetime.datetime] = datetime.datetime.utcnow,
) -> None:
    """``POST /api/block/image/trash/purge``: remove every entry whose deferment ended."""
    stamp = _iso(now())
    for pool in trash_list(cluster, pool_name):
        for entry in pool["value"]:
            if entry["deferment_end_time"] < stamp:
                rbd_call(
                    cluster,
                    pool["pool_name"],
                    entry["namespace"],
                    rbd.RBD().trash_remove,
                    entry["id"],
                    False,
                )


def trash_restore(cluster: rados.Rados, image_id_spec: str, new_image_name: str) -> None:
    """``POST /api/block/image/trash/{pool/[ns/]id}/restore`` under `new_image_name`."""
    pool, namespace, image_id = parse_image_spec(image_id_spec)
    rbd_call(cluster, pool, namespace, rbd.RBD().trash_restore, image_id, new_image_name)


def trash_remove(cluster: rados.Rados, image_id_spec: str, force: bool = False) -> None:
    """``DELETE /api/block/image/trash/{pool/[ns/]id}``: before its deferment ends only
    with `force`."""
    pool, namespace, image_id = parse_image_spec(image_id_spec)
    rbd_call(cluster, pool, namespace, rbd.RBD().trash_remove, image_id, bool(force))
