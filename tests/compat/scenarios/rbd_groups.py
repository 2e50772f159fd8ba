"""rbd groups: RBD.group_create/list/rename/remove and the Group object
(add_image/remove_image/list_images, create_snap/list_snaps/rename_snap/
remove_snap/rollback_to_snap), Image.group(), group snapshots seen from the
image (group namespace), and the group errno map (ObjectNotFound/ObjectExists
instead of ImageNotFound/ImageExists)."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    s.alias_int(io.get_pool_id(), "<pool_id>")
    R.create(io, "img1", MiB)
    R.create(io, "img2", MiB)
    s.step("group_list_empty", lambda: R.group_list(io))
    s.step("group_create", lambda: R.group_create(io, "g1"))
    s.step("group_create_again", lambda: R.group_create(io, "g1"))
    s.step("group_create_int", lambda: R.group_create(io, 1))
    s.step("group_list", lambda: R.group_list(io))
    s.step("group_rename", lambda: R.group_rename(io, "g1", "grp"))
    s.step("group_rename_missing", lambda: R.group_rename(io, "nope", "x"))
    s.step("group_open_missing", lambda: list(s.track(rbd.Group(io, "nope")).list_images()))
    g = s.track(rbd.Group(io, "grp"))
    s.step("group_type", lambda: type(g).__name__)
    s.step("list_images_empty", lambda: list(g.list_images()))
    s.step("add_image", lambda: g.add_image(io, "img1"))
    s.step("add_image_again", lambda: g.add_image(io, "img1"))
    s.step("add_image_missing", lambda: g.add_image(io, "nope"))
    s.step("add_image_second", lambda: g.add_image(io, "img2"))
    s.step(
        "list_images",
        lambda: sorted(g.list_images(), key=lambda d: d["name"]),
        norm=s.mask_ints("pool"),
    )
    s.step("list_images_type", lambda: type(g.list_images()).__name__)
    img1 = s.image(io, "img1")
    s.step("image_group", lambda: img1.group(), norm=s.mask_ints("pool"))
    img1.write(b"before-snap", 0)
    s.step("create_snap", lambda: g.create_snap("gs1"))
    s.step("create_snap_again", lambda: g.create_snap("gs1"))
    s.step("list_snaps", lambda: list(g.list_snaps()))
    s.step("list_snaps_type", lambda: type(g.list_snaps()).__name__)
    snaps = list(img1.list_snaps())
    s.step(
        "image_sees_group_snap",
        lambda: [(d["namespace"], sorted(d.get("group", {}))) for d in snaps],
    )
    s.step(
        "snap_get_group_namespace",
        lambda: img1.snap_get_group_namespace(snaps[0]["id"]),
        norm=s.mask(group_snap_name="<snap>", pool=s.mask_ints()),
    )
    s.step("image_remove_group_snap", lambda: img1.remove_snap(snaps[0]["name"]))
    s.step("rename_snap", lambda: g.rename_snap("gs1", "gs2"))
    s.step("rename_snap_missing", lambda: g.rename_snap("gs1", "gs3"))
    img1.write(b"after--snap", 0)
    s.step("rollback_to_snap", lambda: g.rollback_to_snap("gs2"))
    s.step("read_after_rollback", lambda: img1.read(0, 11))
    s.step("rollback_missing", lambda: g.rollback_to_snap("nope"))
    s.step("remove_image_in_group", lambda: R.remove(io, "img2"))
    s.step("remove_snap", lambda: g.remove_snap("gs2"))
    s.step("remove_snap_missing", lambda: g.remove_snap("gs2"))
    s.step("remove_image", lambda: g.remove_image(io, "img2"))
    s.step("remove_image_again", lambda: g.remove_image(io, "img2"))
    s.step("list_images_after", lambda: [d["name"] for d in g.list_images()])

    def ctx():
        with rbd.Group(io, "grp") as g2:
            return [d["name"] for d in g2.list_images()]

    s.step("group_context_manager", ctx)
    s.step("group_remove", lambda: R.group_remove(io, "grp"))
    s.step("image_group_after_remove", lambda: img1.group())
    s.step("group_remove_missing", lambda: R.group_remove(io, "grp"))
    s.step("group_list_after", lambda: R.group_list(io))
