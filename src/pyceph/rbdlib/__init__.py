"""The async RBD engine: block images as RADOS objects — what librbd is to librados.

Images use upstream's format-2 layout (see `layout`) with their metadata kept by the
`rbd` object class (`cls_client`), on the async `pyceph.client.ioctx.IoCtx`, used on the
event loop directly. Format-1 images (`v1`: header `<name>.rbd`, `rb.0.*` data objects,
`rbd_directory` tmap entries) open, read, write, resize, snapshot, rename and remove as
in librbd 16.2, and are created only when RBD_FORCE_ALLOW_V1 is set. The synchronous drop-in `rbd` module (`src/rbd/`) is a thin
adapter over this package. Every failure raises
`pyceph.common.errors.CephError(errno, message)` with upstream's errno; the facade maps
the errno onto `rbd`'s exception classes. A progress callback is a plain callable
`progress(offset: int, total: int) -> Any` called on the event loop.

Public API (names are stable; "async" means a coroutine function)
-----------------------------------------------------------------

`layout` (sans-I/O)
    RBD_DIRECTORY, RBD_CHILDREN, RBD_TRASH, RBD_INFO, RBD_NAMESPACE, RBD_MIRRORING,
    RBD_LOCK_NAME, CEPH_NOSNAP, MIN_ORDER, MAX_ORDER;
    id_obj_name(name), header_name(id), data_prefix(id, pool_id=None),
    data_object_name(prefix, objectno), object_map_name(id, snap_id=CEPH_NOSNAP),
    generate_image_id(instance_id) -> str;
    Layout(order, stripe_unit=0, stripe_count=0): .object_size, .su, .sc,
    .num_objects(size), .file_to_extents(off, len) -> [ObjectExtent(objectno, offset,
    length, buffer_extents)], .object_to_file(objectno, off, len) -> [(off, len)].

`features` (sans-I/O)
    RBD_FEATURE_* bits, RBD_FEATURES_ALL/DEFAULT/INCOMPATIBLE/RW_INCOMPATIBLE/MUTABLE/
    DISABLE_ONLY/SINGLE_CLIENT/INTERNAL, RBD_OPERATION_FEATURE_*, RBD_FLAG_*;
    features_to_string(mask) -> str, features_from_string(text) -> int (EINVAL on an
    unknown name), default_features(config) -> int.

`create`
    async create(ioctx, name, size, *, order=None, old_format=False, features=None,
                 stripe_unit=None, stripe_count=None, data_pool=None,
                 image_id=None, skip_mirror_enable=False) -> str (image id); in a pool
                 in mirror mode POOL a journaling image starts mirrored
    validate_name(name); validate_order(order).

`image`
    async open_image(ioctx, name=None, *, image_id=None, snapshot=None, snap_id=None,
                     read_only=False) -> Image
    class Image — attributes (cached by the last refresh, no I/O): ioctx, data_ioctx,
      name, id, header_oid, object_prefix, snap_id (CEPH_NOSNAP at head), snap_name,
      read_only, closed, layout.
      async close()
      async refresh()                      re-read the header now
      async stat() -> {size, obj_size, num_objs, order, block_name_prefix,
                       parent_pool, parent_name}
      async size() / features() / op_features() / flags() / overlap() /
            stripe_unit() / stripe_count() / data_pool_id() / create_timestamp() /
            access_timestamp() / modify_timestamp() (datetime-free floats, seconds)
      old_format() -> bool (sync); a format-1 image has id "" and header_oid
            `<name>.rbd`
      async read(offset, length, fadvise_flags=0) -> bytes
      async write(data, offset, fadvise_flags=0) -> int (bytes written)
      async discard(offset, length) -> int
      async write_zeroes(offset, length, zero_flags=0) -> int
      async writesame(offset, length, data, fadvise_flags=0) -> int
      async compare_and_write(cmp_data, data, offset, fadvise_flags=0) -> int;
            a mismatch raises CephError(EILSEQ) with `.mismatch_offset` (image offset)
      async flush(); async invalidate_cache()
            writes follow rbd_cache_policy's default, write-around (`write_around`):
            after the first flush a write returns once sent, with at most
            rbd_cache_max_dirty bytes in flight; reads, snapshots, resizes, lock
            releases and close wait for them; flush reports their first failure
      async resize(size, allow_shrink=True, progress=None)
      snapshots (see `snapshots`): async list_snaps() -> [{id, size, name, protected,
            timestamp, namespace}]; create_snap(name, flags=0) -> snap id; remove_snap(name,
            flags=0, progress=None); remove_snap_by_id(snap_id); rename_snap(src, dst);
            protect_snap(name); unprotect_snap(name); is_protected_snap(name) -> bool;
            snap_exists(name) -> bool; get_snap_limit() -> int; set_snap_limit(n);
            remove_snap_limit(); get_snap_timestamp(snap_id) -> float;
            set_snap(name | None); set_snap_by_id(snap_id | None);
            snap_get_name(snap_id) -> str; snap_get_id(name) -> int;
            snap_get_namespace_type(snap_id) -> int;
            snap_get_trash_namespace(snap_id) -> {original_name};
            rollback_to_snap(name, progress=None)
      clones (see `clone`): async parent_info() -> (pool, image, snap);
            parent_spec() -> {pool_id, pool_name, pool_namespace, image_name,
            image_id, snap_name, snap_id, snap_namespace_type} (ENOENT without a
            parent); parent_id() -> str;
            flatten(progress=None); list_children() -> [(pool, image)];
            list_children2() / list_descendants() -> [{pool, pool_namespace,
            image, id, trash}]
      async copy(dest_ioctx, dest_name, **create_opts, progress=None);
            deep_copy(dest_ioctx, dest_name, **create_opts, progress=None);
            sparsify(sparse_size)
      async diff_iterate(offset, length, from_snapshot, cb, include_parent=True,
            whole_object=False); cb(offset, length, exists: bool) — byte extents from
            the OSD's clone overlaps (`diff`), one object's extents per call
      async metadata_get(key) -> str (ENOENT); metadata_set(key, value) (a `conf_`
            key must name an rbd option with a valid value: EINVAL);
            metadata_remove(key) (ENOENT); metadata_list() -> [(key, value)]
      async watchers_list() -> [{addr, id, cookie}]
      async group() -> {pool (id, -1 when none), name}; snap_get_group_namespace(snap_id);
            snap_get_mirror_namespace(snap_id); migration_source_spec();
            mirror_image_enable(mode=None) / _disable(force) / _promote(force) /
            _demote() / _resync() / _create_snapshot(flags) -> snap id / _get_info() /
            _get_mode() / _get_status() / _get_instance_id(): entry points of the
            `group`, `mirror` and `migration` modules
      async encryption_format(format, passphrase, cipher_alg=None);
            encryption_load(format, passphrase): LUKS (`encryption`); once loaded,
            size/stat/read/write/discard/write_zeroes/writesame/compare_and_write go
            through it
      async update_features(features, enabled); rebuild_object_map(progress=None)
      async config_list() -> [{name, value, source}] (image-level overrides, `config`)
      conf(name) -> the option as the image sees it (image, pool, client) (sync)
      advisory locks (see `locks`): lock_exclusive(cookie); lock_shared(cookie, tag);
            unlock(cookie); break_lock(client, cookie); list_lockers() -> [] or
            {tag, exclusive, lockers: [(client, cookie, addr)]}
      exclusive lock (see `exclusive_lock`; taken automatically before writes when the
            feature is on, handed over on request): lock_acquire(lock_mode);
            lock_release(); is_exclusive_lock_owner() -> bool;
            lock_get_owners() -> [{mode, owner (address)}]; lock_break(lock_mode, owner)

`pool`
    async list_images(ioctx) -> [name]; list_images2(ioctx) -> [{id, name}] (format-1
          images first, id "")
    async remove(ioctx, name, progress=None) (ENOENT; then, in upstream's order,
          ENOTEMPTY with user snapshots, EBUSY while other clients watch it, EMLINK in
          a group; mirroring is disabled and trash/mirror snapshots pruned first)
    async rename(ioctx, src, dst)
    async pool_init(ioctx, force=False)
    async pool_metadata_get(ioctx, key) / pool_metadata_set(ioctx, key, value) /
          pool_metadata_remove(ioctx, key) / pool_metadata_list(ioctx) -> [(k, v)]
    async pool_stats_get(ioctx) -> {image_count, image_provisioned_bytes, ...}
    async config_list(ioctx) -> [{name, value, source}] (pool-level overrides)

`namespace`
    async namespace_create(ioctx, name) (EEXIST, EINVAL); namespace_remove(ioctx, name)
          (ENOENT, EBUSY while it holds images; disables the namespace's mirroring and
          removes its rbd_mirroring); namespace_list(ioctx) -> [name];
          namespace_exists(ioctx, name) -> bool

`trash`, `config` (pool/image `conf_` overrides), `group`, `mirror`, `migration` and
`encryption` are written alongside by the admin engineer on top of this engine (see
their docstrings).

`clone`
    async clone(p_ioctx, p_name, p_snapname, c_ioctx, c_name, *, features=None,
                order=None, stripe_unit=None, stripe_count=None, data_pool=None,
                clone_format=None) -> str (child id)

Module-level helpers behind the Image methods live in `snapshots`, `clone`, `copy`,
`diff`, `locks`, `exclusive_lock`, `object_map` (kept on writes, discards, resizes and
snapshots), `featureops`, `io` (the striped, pipelined data path; `io.CompareMismatch`)
and `header` (reading the header object into `ImageState`). Bounds:
`rbd_concurrent_management_ops` (objects in flight for management ops: remove, flatten, rollback, copy, resize) and
`_util.IO_OBJECTS_IN_FLIGHT` (per-object ops one image I/O request keeps in flight).
"""

from __future__ import annotations

from pyceph.rbdlib.create import create
from pyceph.rbdlib.image import Image, open_image

__all__ = ["Image", "create", "open_image"]
