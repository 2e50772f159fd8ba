"""rbd clones, parent and copies: RBD.clone (v1 from a protected snapshot, v2 from
an unprotected one, into another pool, features/order), parent_info,
get_parent_image_spec, parent_id, overlap, copy-on-read of the parent's data,
copy-up on write, list_children/list_children2/list_descendants, flatten with
progress, copy and deep_copy, migration_source_spec of a plain image, and the
errors (missing parent snapshot, unprotected snapshot with clone v1, unprotect or
remove of a parent with children)."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    cpool = s.rbd_pool("child")
    io = s.ioctx(pool)
    cio = s.ioctx(cpool)
    s.alias_int(io.get_pool_id(), "<pool_id>")
    s.alias_int(cio.get_pool_id(), "<pool_id-child>")
    R.create(io, "parent", 8 * MiB, order=22)
    s.image_id(io, "parent")
    parent = s.image(io, "parent")
    parent.write(b"P" * 4096, 0)
    parent.write(b"Q" * 4096, 5 * MiB)
    parent.create_snap("snap")
    s.step("clone_unprotected_v1", lambda: R.clone(io, "parent", "snap", cio, "c0"))
    s.step("protect", lambda: parent.protect_snap("snap"))
    s.step("clone", lambda: R.clone(io, "parent", "snap", cio, "child"))
    s.image_id(cio, "child")
    s.step("clone_exists", lambda: R.clone(io, "parent", "snap", cio, "child"))
    s.step("clone_missing_snap", lambda: R.clone(io, "parent", "nosnap", cio, "c1"))
    s.step("clone_missing_parent", lambda: R.clone(io, "noparent", "snap", cio, "c1"))
    s.step(
        "clone_features_order",
        lambda: R.clone(io, "parent", "snap", cio, "c1", features=1, order=20),
    )
    s.step("clone_order", lambda: R.clone(io, "parent", "snap", cio, "c2", order=23))
    s.image_id(cio, "c2")
    s.step(
        "clone_without_layering",
        lambda: R.clone(io, "parent", "snap", cio, "c3", features=rbd.RBD_FEATURE_EXCLUSIVE_LOCK),
    )
    s.step("clone_pool_wrong_type", lambda: R.clone(io, "parent", "snap", "pool", "c4"))
    child = s.image(cio, "child")
    s.step("parent_info", lambda: child.parent_info())
    s.step("get_parent_image_spec", lambda: child.get_parent_image_spec())
    s.step("parent_id", lambda: child.parent_id())
    s.step("overlap", lambda: child.overlap())
    s.step("child_features", lambda: child.features())
    s.step("child_stat", lambda: child.stat(), norm=s.mask_ints("parent_pool"))
    s.step("parent_info_of_parent", lambda: parent.parent_info())
    s.step("get_parent_image_spec_of_parent", lambda: parent.get_parent_image_spec())
    s.step("parent_id_of_parent", lambda: parent.parent_id())
    c2 = s.image(cio, "c2")
    s.step("c2_stat", lambda: c2.stat(), norm=s.mask_ints("parent_pool"))
    s.step("c2_overlap", lambda: c2.overlap())
    s.step("c2_shrink", lambda: c2.resize(2 * MiB))
    s.step("c2_overlap_after_shrink", lambda: c2.overlap())
    s.step("c2_grow", lambda: c2.resize(8 * MiB))
    s.step("c2_overlap_after_grow", lambda: c2.overlap())
    s.step("c2_read_beyond_overlap", lambda: c2.read(5 * MiB, 4))
    s.step("c2_read_within_overlap", lambda: c2.read(0, 4))
    s.step("read_from_parent", lambda: child.read(0, 4) + child.read(5 * MiB, 4))
    s.step("write_child", lambda: child.write(b"child", 2))
    s.step("read_after_copyup", lambda: child.read(0, 10))
    s.step("parent_unchanged", lambda: parent.read(0, 10))

    def diff(include_parent):
        out = []
        child.diff_iterate(
            0, child.size(), None, lambda *e: out.append(e), include_parent=include_parent
        )
        return out

    s.step("diff_iterate_include_parent", lambda: diff(True))
    s.step("diff_iterate_exclude_parent", lambda: diff(False))
    parent.set_snap("snap")
    s.step("list_children", lambda: sorted(parent.list_children()))
    s.step("list_children2", lambda: sorted(parent.list_children2(), key=lambda d: d["image"]))
    s.step("list_descendants", lambda: sorted(parent.list_descendants(), key=lambda d: d["image"]))
    parent.set_snap(None)
    s.step("list_children_at_head", lambda: sorted(parent.list_children()))
    s.step(
        "list_children2_at_head", lambda: sorted(parent.list_children2(), key=lambda d: d["image"])
    )
    s.step("unprotect_with_children", lambda: parent.unprotect_snap("snap"))
    s.step("remove_parent_with_children", lambda: R.remove(io, "parent"))
    progress = []

    def on_progress(off, total):
        progress.append((off, total))
        return 0

    s.step("flatten", lambda: child.flatten(on_progress=on_progress))
    s.step("flatten_progress", lambda: (len(progress) > 0, progress[-1] if progress else None))
    s.step("parent_info_after_flatten", lambda: child.parent_info())
    s.step("get_parent_image_spec_after_flatten", lambda: child.get_parent_image_spec())
    s.step("overlap_after_flatten", lambda: child.overlap())
    s.step("read_after_flatten", lambda: child.read(0, 10) + child.read(5 * MiB, 4))
    s.step("flatten_not_a_clone", lambda: child.flatten())
    parent.set_snap("snap")
    s.step("list_children_after_flatten", lambda: sorted(parent.list_children()))
    parent.set_snap(None)
    s.step("copy", lambda: parent.copy(cio, "copied"))
    s.step("copy_exists", lambda: parent.copy(cio, "copied"))
    copied = s.image(cio, "copied")
    s.step("copy_content", lambda: copied.read(0, 4) + copied.read(5 * MiB, 4))
    s.step("copy_has_no_snaps", lambda: list(copied.list_snaps()))
    s.step("copy_with_features", lambda: parent.copy(cio, "copied1", features=1, order=21))
    s.step("copy_with_order", lambda: parent.copy(cio, "copied2", order=23))
    s.image_id(cio, "copied2")
    s.step("copy2_stat", lambda: s.image(cio, "copied2").stat(), norm=s.mask_ints("parent_pool"))
    s.step("deep_copy", lambda: parent.deep_copy(cio, "deep"))
    deep = s.image(cio, "deep")
    s.step("deep_copy_snaps", lambda: [d["name"] for d in deep.list_snaps()])
    s.step("deep_copy_content", lambda: deep.read(0, 4) + deep.read(5 * MiB, 4))
    s.step("deep_copy_exists", lambda: parent.deep_copy(cio, "deep"))
    s.step("migration_source_spec_plain", lambda: parent.migration_source_spec())
    R.config_set(cio, "rbd_default_clone_format", "2")
    parent.create_snap("unprot")
    s.step("clone_v2_unprotected", lambda: R.clone(io, "parent", "unprot", cio, "v2"))
    s.step("op_features_parent", lambda: parent.op_features())
    v2 = s.image(cio, "v2")
    s.step("op_features_clone_v2", lambda: v2.op_features())
    s.step("v2_parent_spec", lambda: v2.get_parent_image_spec())
    s.step("remove_v2_parent_snap", lambda: parent.remove_snap("unprot"))
    s.step(
        "parent_snaps_after_trash",
        lambda: list(parent.list_snaps()),
        norm=lambda snaps: [
            {**d, "id": "<id>", "name": d["name"] if d["namespace"] == 0 else "<uuid>"}
            for d in snaps
        ],
    )
    trash_ids = [d["id"] for d in parent.list_snaps() if d["namespace"] == 2]
    s.step(
        "snap_get_trash_namespace",
        lambda: parent.snap_get_trash_namespace(trash_ids[0]),
    )
    s.step("snap_get_namespace_type_trash", lambda: parent.snap_get_namespace_type(trash_ids[0]))
    v2.close()
    s.step("remove_clone_v2", lambda: R.remove(cio, "v2"))
    s.step("trash_snap_gone", lambda: [d["namespace"] for d in parent.list_snaps()])
