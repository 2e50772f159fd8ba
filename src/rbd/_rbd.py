"""`rbd.RBD`: pool-level operations (create, clone, list, remove, rename, trash,
migration, pool metadata and config, groups, namespaces, features; the mirroring
methods live in `_rbd_mirror.py`).

Upstream: `src/pybind/rbd/rbd.pyx`, class `RBD`.  Each method checks its arguments as
the binding converts them, runs one engine coroutine (`pyceph.rbdlib`) on the
`rados` handle's loop thread and maps `CephError` onto upstream's exception with
upstream's message.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from typing import Any

from pyceph.common.errors import CephError
from pyceph.rbdlib import clone as engine_clone
from pyceph.rbdlib import features as engine_features
from pyceph.rbdlib import group as engine_group
from pyceph.rbdlib import migration as engine_migration
from pyceph.rbdlib import namespace as engine_namespace
from pyceph.rbdlib import pool as engine_pool
from pyceph.rbdlib import trash as engine_trash
from pyceph.rbdlib.create import create as create_image
from rbd import _engine as eng
from rbd import _rbd_mirror as _mirror
from rbd._completion import Completion
from rbd._constants import LIBRBD_VERSION
from rbd._engine import pool_call
from rbd._errors import InvalidArgument, group_errno_to_exception, make_ex
from rbd._image import Image
from rbd._iterators import (
    ConfigPoolIterator,
    ImageIterator,
    PoolMetadataIterator,
    TrashIterator,
    trash_entry,
)
from rbd._util import c_double, c_int, c_u64, check_ioctx, cstr, str_of


def _opt_u64(val: Any) -> int | None:
    """An optional `uint64_t` image option (None: not set)."""
    return None if val is None else c_u64(val)


def _key_error_call(
    ioctx: Any, fn: Callable[..., Any], args: tuple[Any, ...], missing: str, msg: str
) -> Any:
    """A pool metadata call whose ENOENT is a KeyError, as upstream."""
    check_ioctx(ioctx)
    cio = eng.core_ioctx(ioctx)
    try:
        return eng.run(ioctx, fn(cio, *args))
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(missing) from None
        raise make_ex(e.errno, msg) from None


class RBD:
    """
    This class wraps librbd CRUD functions.
    """

    def version(self) -> tuple[int, int, int]:
        """The librbd version: (major, minor, extra)."""
        return LIBRBD_VERSION

    def create(
        self,
        ioctx: Any,
        name: Any,
        size: int,
        order: Any = None,
        old_format: bool = False,
        features: Any = None,
        stripe_unit: Any = None,
        stripe_count: Any = None,
        data_pool: Any = None,
    ) -> None:
        """Create an rbd image (ImageExists, InvalidArgument, ArgumentOutOfRange...)."""
        bname = cstr(name, "name")
        bpool = cstr(data_pool, "data_pool", opt=True)
        check_ioctx(ioctx)
        usize = c_u64(size)
        uorder = None if order is None else c_int(order)
        if old_format and (
            features
            or (stripe_unit is not None and stripe_unit != 0)
            or (stripe_count is not None and stripe_count != 0)
            or bpool
        ):
            raise InvalidArgument(
                "format 1 images do not support feature masks, non-default striping, nor data pool"
            )
        if old_format:
            # upstream then calls the legacy rbd_create(), which takes the format from
            # rbd_default_format: a format-2 image unless that option says 1
            old_format = int(eng.conf_get(ioctx, "rbd_default_format") or 2) == 1
        pool_call(
            ioctx,
            create_image,
            (str_of(bname), usize),
            "error creating image",
            order=uorder,
            old_format=bool(old_format),
            features=_opt_u64(features),
            stripe_unit=_opt_u64(stripe_unit),
            stripe_count=_opt_u64(stripe_count),
            data_pool=str_of(bpool),
        )

    def clone(
        self,
        p_ioctx: Any,
        p_name: Any,
        p_snapname: Any,
        c_ioctx: Any,
        c_name: Any,
        features: Any = None,
        order: Any = None,
        stripe_unit: Any = None,
        stripe_count: Any = None,
        data_pool: Any = None,
    ) -> None:
        """Clone a parent rbd snapshot into a COW sparse child."""
        bsnap = cstr(p_snapname, "p_snapname")
        bparent = cstr(p_name, "p_name")
        bchild = cstr(c_name, "c_name")
        bpool = cstr(data_pool, "data_pool", opt=True)
        check_ioctx(p_ioctx)
        check_ioctx(c_ioctx)
        pio = eng.core_ioctx(p_ioctx)
        cio = eng.core_ioctx(c_ioctx)
        eng.call(
            c_ioctx,
            engine_clone.clone,
            (pio, str_of(bparent), str_of(bsnap), cio, str_of(bchild)),
            {
                "features": _opt_u64(features),
                "order": _opt_u64(order),
                "stripe_unit": _opt_u64(stripe_unit),
                "stripe_count": _opt_u64(stripe_count),
                "data_pool": str_of(bpool),
            },
            "error creating clone",
        )

    def list(self, ioctx: Any) -> list[str]:
        """List image names."""
        return list(pool_call(ioctx, engine_pool.list_images, (), "error listing images"))

    def list2(self, ioctx: Any) -> ImageIterator:
        """Iterate over the images in the pool: {'id', 'name'} dicts."""
        return ImageIterator(ioctx)

    def remove(self, ioctx: Any, name: Any, on_progress: Callable[..., Any] | None = None) -> None:
        """Delete an RBD image (ImageNotFound, ImageBusy, ImageHasSnapshots)."""
        bname = cstr(name, "name")
        pool_call(
            ioctx,
            engine_pool.remove,
            (str_of(bname),),
            "error removing image",
            progress=eng.progress_adapter(on_progress),
        )

    def rename(self, ioctx: Any, src: Any, dest: Any) -> None:
        """Rename an RBD image (ImageNotFound, ImageExists)."""
        bsrc = cstr(src, "src")
        bdest = cstr(dest, "dest")
        pool_call(ioctx, engine_pool.rename, (str_of(bsrc), str_of(bdest)), "error renaming image")

    # -- trash ------------------------------------------------------------------------
    def trash_move(self, ioctx: Any, name: Any, delay: int = 0) -> None:
        """Move an RBD image to the trash, removable after `delay` seconds."""
        bname = cstr(name, "name")
        d = c_u64(delay)
        pool_call(ioctx, engine_trash.trash_move, (str_of(bname), d), "error moving image to trash")

    def trash_purge(self, ioctx: Any, expire_ts: Any = None, threshold: float = -1) -> None:
        """Delete the trash images expired before `expire_ts` (a naive local datetime;
        default now), or until the pool usage is below `threshold` (0..1)."""
        expire_epoch_ts = time.mktime(expire_ts.timetuple()) if expire_ts else 0
        check_ioctx(ioctx)
        expire = int(expire_epoch_ts)  # time_t
        th = c_double(threshold)
        pool_call(
            ioctx,
            engine_trash.trash_purge,
            (expire, th),
            "error purging images from trash",
        )

    def trash_remove(
        self,
        ioctx: Any,
        image_id: Any,
        force: bool = False,
        on_progress: Callable[..., Any] | None = None,
    ) -> None:
        """Delete an image from the trash (PermissionError before its deferment end
        unless `force`)."""
        bid = cstr(image_id, "image_id")
        pool_call(
            ioctx,
            engine_trash.trash_remove,
            (str_of(bid),),
            "error deleting image from trash",
            force=bool(c_int(force)),  # upstream converts it to a C int
            progress=eng.progress_adapter(on_progress),
        )

    def trash_get(self, ioctx: Any, image_id: Any) -> dict[str, Any]:
        """Trash entry of an image: id, name, source, deletion_time, deferment_end_time."""
        bid = cstr(image_id, "image_id")
        e = pool_call(
            ioctx, engine_trash.trash_get, (str_of(bid),), "error retrieving image from trash"
        )
        return trash_entry(e)

    def trash_list(self, ioctx: Any) -> TrashIterator:
        """List all entries from trash."""
        return TrashIterator(ioctx)

    def trash_restore(self, ioctx: Any, image_id: Any, name: Any) -> None:
        """Restore an RBD image from trash under `name`."""
        bid = cstr(image_id, "image_id")
        bname = cstr(name, "name")
        pool_call(
            ioctx,
            engine_trash.trash_restore,
            (str_of(bid), str_of(bname)),
            "error restoring image from trash",
        )

    # -- migration --------------------------------------------------------------------
    def migration_prepare(
        self,
        ioctx: Any,
        image_name: Any,
        dest_ioctx: Any,
        dest_image_name: Any,
        features: Any = None,
        order: Any = None,
        stripe_unit: Any = None,
        stripe_count: Any = None,
        data_pool: Any = None,
    ) -> None:
        """Prepare an RBD image migration."""
        bname = cstr(image_name, "image_name")
        bdest = cstr(dest_image_name, "dest_image_name")
        check_ioctx(ioctx)
        check_ioctx(dest_ioctx)
        dio = eng.core_ioctx(dest_ioctx)
        pool_call(
            ioctx,
            engine_migration.migration_prepare,
            (str_of(bname), dio, str_of(bdest)),
            f"error migrating image {bname}",
            features=_opt_u64(features),
            order=_opt_u64(order),
            stripe_unit=_opt_u64(stripe_unit),
            stripe_count=_opt_u64(stripe_count),
            data_pool=str_of(cstr(data_pool, "data_pool", opt=True)),
        )

    def migration_prepare_import(
        self,
        source_spec: Any,
        dest_ioctx: Any,
        dest_image_name: Any,
        features: Any = None,
        order: Any = None,
        stripe_unit: Any = None,
        stripe_count: Any = None,
        data_pool: Any = None,
    ) -> None:
        """Prepare an RBD image migration from a JSON source-spec (e.g. a raw file)."""
        bspec = cstr(source_spec, "source_spec")
        bdest = cstr(dest_image_name, "dest_image_name")
        pool_call(
            dest_ioctx,
            engine_migration.migration_prepare_import,
            (str_of(bspec), str_of(bdest)),
            f"error migrating image {bspec}",
            features=_opt_u64(features),
            order=_opt_u64(order),
            stripe_unit=_opt_u64(stripe_unit),
            stripe_count=_opt_u64(stripe_count),
            data_pool=str_of(cstr(data_pool, "data_pool", opt=True)),
        )

    def _migration(
        self,
        fn: Callable[..., Any],
        ioctx: Any,
        image_name: Any,
        on_progress: Callable[..., Any] | None,
    ) -> None:
        bname = cstr(image_name, "image_name")
        pool_call(
            ioctx,
            fn,
            (str_of(bname),),
            "error aborting migration",  # upstream's text for execute/commit/abort alike
            progress=eng.progress_adapter(on_progress),
        )

    def migration_execute(
        self, ioctx: Any, image_name: Any, on_progress: Callable[..., Any] | None = None
    ) -> None:
        """Execute a prepared RBD image migration."""
        self._migration(engine_migration.migration_execute, ioctx, image_name, on_progress)

    def migration_commit(
        self, ioctx: Any, image_name: Any, on_progress: Callable[..., Any] | None = None
    ) -> None:
        """Commit an executed RBD image migration."""
        self._migration(engine_migration.migration_commit, ioctx, image_name, on_progress)

    def migration_abort(
        self, ioctx: Any, image_name: Any, on_progress: Callable[..., Any] | None = None
    ) -> None:
        """Cancel a previously started but interrupted migration."""
        self._migration(engine_migration.migration_abort, ioctx, image_name, on_progress)

    def migration_status(self, ioctx: Any, image_name: Any) -> dict[str, Any]:
        """Migration status of an image (source/dest pool, namespace, name, id; state)."""
        bname = cstr(image_name, "image_name")
        st = pool_call(
            ioctx,
            engine_migration.migration_status,
            (str_of(bname),),
            "error getting migration status",
        )
        return {
            "source_pool_id": st["source_pool_id"],
            "source_pool_namespace": st["source_pool_namespace"],
            "source_image_name": st["source_image_name"],
            "source_image_id": st["source_image_id"],
            # upstream's binding reports the source pool here as well; kept
            "dest_pool_id": st["source_pool_id"],
            "dest_pool_namespace": st["dest_pool_namespace"],
            "dest_image_name": st["dest_image_name"],
            "dest_image_id": st["dest_image_id"],
            "state": st["state"],
            "state_description": st["state_description"],
        }

    # -- mirroring: `_rbd_mirror.py` -------------------------------------------------
    mirror_site_name_get = _mirror.mirror_site_name_get
    mirror_site_name_set = _mirror.mirror_site_name_set
    mirror_mode_get = _mirror.mirror_mode_get
    mirror_mode_set = _mirror.mirror_mode_set
    mirror_uuid_get = _mirror.mirror_uuid_get
    mirror_peer_bootstrap_create = _mirror.mirror_peer_bootstrap_create
    mirror_peer_bootstrap_import = _mirror.mirror_peer_bootstrap_import
    mirror_peer_add = _mirror.mirror_peer_add
    mirror_peer_remove = _mirror.mirror_peer_remove
    mirror_peer_list = _mirror.mirror_peer_list
    mirror_peer_set_client = _mirror.mirror_peer_set_client
    mirror_peer_set_name = _mirror.mirror_peer_set_name
    mirror_peer_set_cluster = _mirror.mirror_peer_set_cluster
    mirror_peer_get_attributes = _mirror.mirror_peer_get_attributes
    mirror_peer_set_attributes = _mirror.mirror_peer_set_attributes
    mirror_image_status_list = _mirror.mirror_image_status_list
    mirror_image_status_summary = _mirror.mirror_image_status_summary
    mirror_image_instance_id_list = _mirror.mirror_image_instance_id_list
    mirror_image_info_list = _mirror.mirror_image_info_list

    # -- pool metadata and config ---------------------------------------------------------
    def pool_metadata_get(self, ioctx: Any, key: Any) -> str:
        """Get pool metadata for the given key (KeyError when missing)."""
        bkey = cstr(key, "key")
        return _key_error_call(  # type: ignore[no-any-return]
            ioctx,
            engine_pool.pool_metadata_get,
            (str_of(bkey),),
            f"no metadata {bkey}",
            f"error getting metadata {bkey}",
        )

    def pool_metadata_set(self, ioctx: Any, key: Any, value: Any) -> None:
        """Set pool metadata for the given key."""
        bkey = cstr(key, "key")
        bval = cstr(value, "value")
        pool_call(
            ioctx,
            engine_pool.pool_metadata_set,
            (str_of(bkey), str_of(bval)),
            f"error setting metadata {bkey}",
        )

    def pool_metadata_remove(self, ioctx: Any, key: Any) -> None:
        """Remove pool metadata for the given key (KeyError when missing)."""
        bkey = cstr(key, "key")
        _key_error_call(
            ioctx,
            engine_pool.pool_metadata_remove,
            (str_of(bkey),),
            f"no metadata {bkey}",
            f"error removing metadata {bkey}",
        )

    def pool_metadata_list(self, ioctx: Any) -> PoolMetadataIterator:
        """List pool metadata."""
        return PoolMetadataIterator(ioctx)

    def config_list(self, ioctx: Any) -> ConfigPoolIterator:
        """List pool-level config overrides."""
        return ConfigPoolIterator(ioctx)

    def config_get(self, ioctx: Any, key: str) -> str:
        """Get a pool-level configuration override (KeyError when unset)."""
        conf_key = cstr("conf_" + key, "key")
        check_ioctx(ioctx)
        pool = ioctx.get_pool_name()
        return _key_error_call(  # type: ignore[no-any-return]
            ioctx,
            engine_pool.pool_metadata_get,
            (str_of(conf_key),),
            f"no config {key} for pool {pool}",
            f"error getting config {key} for pool {pool}",
        )

    def config_set(self, ioctx: Any, key: str, value: Any) -> None:
        """Set a pool-level configuration override."""
        conf_key = cstr("conf_" + key, "key")
        bval = cstr(value, "value")
        check_ioctx(ioctx)
        pool_call(
            ioctx,
            engine_pool.pool_metadata_set,
            (str_of(conf_key), str_of(bval)),
            lambda: f"error setting config {key} for pool {ioctx.get_pool_name()}",
        )

    def config_remove(self, ioctx: Any, key: str) -> None:
        """Remove a pool-level configuration override (KeyError when unset)."""
        conf_key = cstr("conf_" + key, "key")
        check_ioctx(ioctx)
        pool = ioctx.get_pool_name()
        _key_error_call(
            ioctx,
            engine_pool.pool_metadata_remove,
            (str_of(conf_key),),
            f"no config {key} for pool {pool}",
            f"error removing config {key} for pool {pool}",
        )

    # -- groups -------------------------------------------------------------------------
    def group_create(self, ioctx: Any, name: Any) -> None:
        """Create a group (ObjectExists)."""
        bname = cstr(name, "name")
        pool_call(
            ioctx,
            engine_group.group_create,
            (str_of(bname),),
            f"error creating group {bname}",
            group_errno_to_exception,
        )

    def group_remove(self, ioctx: Any, name: Any) -> None:
        """Delete an RBD group (ObjectNotFound)."""
        bname = cstr(name, "name")
        pool_call(
            ioctx,
            engine_group.group_remove,
            (str_of(bname),),
            "error removing group",
            group_errno_to_exception,
        )

    def group_list(self, ioctx: Any) -> list[str]:
        """List group names."""
        return list(
            pool_call(
                ioctx, engine_group.group_list, (), "error listing groups", group_errno_to_exception
            )
        )

    def group_rename(self, ioctx: Any, src: Any, dest: Any) -> None:
        """Rename an RBD group."""
        bsrc = cstr(src, "src")
        bdest = cstr(dest, "dest")
        # upstream maps this one with the image errno map
        pool_call(
            ioctx, engine_group.group_rename, (str_of(bsrc), str_of(bdest)), "error renaming group"
        )

    # -- namespaces -------------------------------------------------------------------
    def namespace_create(self, ioctx: Any, name: Any) -> None:
        """Create an RBD namespace within a pool."""
        bname = cstr(name, "name")
        pool_call(
            ioctx, engine_namespace.namespace_create, (str_of(bname),), "error creating namespace"
        )

    def namespace_remove(self, ioctx: Any, name: Any) -> None:
        """Remove an RBD namespace from a pool."""
        bname = cstr(name, "name")
        pool_call(
            ioctx, engine_namespace.namespace_remove, (str_of(bname),), "error removing namespace"
        )

    def namespace_exists(self, ioctx: Any, name: Any) -> bool:
        """Whether a namespace exists within a pool."""
        bname = cstr(name, "name")
        return bool(
            pool_call(
                ioctx,
                engine_namespace.namespace_exists,
                (str_of(bname),),
                "error verifying namespace",
            )
        )

    def namespace_list(self, ioctx: Any) -> list[str]:
        """List all namespaces within a pool."""
        return list(
            pool_call(ioctx, engine_namespace.namespace_list, (), "error listing namespaces")
        )

    # -- pool ---------------------------------------------------------------------------
    def pool_init(self, ioctx: Any, force: bool) -> None:
        """Initialize an RBD pool."""
        pool_call(ioctx, engine_pool.pool_init, (), "error initializing pool", force=bool(force))

    def pool_stats_get(self, ioctx: Any) -> dict[str, int]:
        """RBD pool stats: image/trash counts, provisioned bytes, snapshot counts."""
        st = pool_call(ioctx, engine_pool.pool_stats_get, (), "error retrieving pool stats")
        keys = (
            "image_count",
            "image_provisioned_bytes",
            "image_max_provisioned_bytes",
            "image_snap_count",
            "trash_count",
            "trash_provisioned_bytes",
            "trash_max_provisioned_bytes",
            "trash_snap_count",
        )
        return {k: int(st[k]) for k in keys}

    # -- features -----------------------------------------------------------------------
    def features_to_string(self, features: int) -> str:
        """Feature names of a bitmask, sorted, comma separated (InvalidArgument)."""
        f = c_u64(features)
        try:
            return engine_features.features_to_string(f)  # type: ignore[no-any-return]
        except CephError as e:
            raise make_ex(e.errno, "error converting features bitmask to str") from None

    def features_from_string(self, str_features: Any) -> int:
        """Feature bitmask of a list of names ('' gives the default features)."""
        b = cstr(str_features, "str_features")
        try:
            return int(engine_features.features_from_string(str_of(b)))
        except CephError as e:
            raise make_ex(e.errno, "error getting features bitmask from str") from None

    def aio_open_image(
        self,
        oncomplete: Callable[..., Any],
        ioctx: Any,
        name: Any = None,
        snapshot: Any = None,
        read_only: bool = False,
        image_id: Any = None,
    ) -> Completion:
        """Asynchronously open an image: `oncomplete(completion, image)`."""
        image = Image(ioctx, name, snapshot, read_only, image_id, oncomplete)
        comp, image._open_completion = image._open_completion, None
        return comp  # type: ignore[return-value]
