"""rbd image CRUD and listing: RBD.version/create (order, features, old format,
striping, data pool)/list/list2/remove/rename/pool_init/pool_stats_get/
features_to_string/features_from_string/aio_open_image, with wrong types, missing
images, existing names and bad orders."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R = rbd.RBD()
    s.step("version", lambda: R.version())
    s.step("list_empty", lambda: R.list(io))
    s.step("list2_empty", lambda: list(R.list2(io)))
    s.step("pool_init", lambda: R.pool_init(io, False))
    s.step("pool_init_force", lambda: R.pool_init(io, True))
    s.step("create", lambda: R.create(io, "img", 8 * MiB))
    s.image_id(io, "img")
    s.step("create_exists", lambda: R.create(io, "img", MiB))
    s.step("create_order_20", lambda: R.create(io, "o20", 4 * MiB, order=20))
    s.step("create_order_too_small", lambda: R.create(io, "o11", MiB, order=11))
    s.step("create_order_too_big", lambda: R.create(io, "o26", MiB, order=26))
    s.step("create_features_layering", lambda: R.create(io, "lay", MiB, features=1))
    s.step("create_features_unknown_bit", lambda: R.create(io, "badf", MiB, features=1 << 20))
    s.step(
        "create_fast_diff_without_object_map",
        lambda: R.create(io, "fd", MiB, features=rbd.RBD_FEATURE_FAST_DIFF | 1),
    )
    s.step(
        "create_object_map_without_exclusive_lock",
        lambda: R.create(io, "om", MiB, features=rbd.RBD_FEATURE_OBJECT_MAP | 1),
    )
    s.step(
        "create_striped",
        lambda: R.create(
            io,
            "striped",
            4 * MiB,
            features=rbd.RBD_FEATURE_STRIPINGV2 | 1,
            stripe_unit=64 * 1024,
            stripe_count=4,
        ),
    )
    s.step(
        "create_bad_stripe_unit",
        lambda: R.create(io, "badsu", 4 * MiB, stripe_unit=3000, stripe_count=2),
    )
    s.step("create_old_format", lambda: R.create(io, "old", 2 * MiB, old_format=True))
    s.step(
        "create_old_format_with_features",
        lambda: R.create(io, "old2", MiB, old_format=True, features=1),
    )
    s.step("create_zero_size", lambda: R.create(io, "zero", 0))
    s.step("create_name_bytes", lambda: R.create(io, b"bytes", MiB))
    s.step("create_name_int", lambda: R.create(io, 5, MiB))
    s.step("create_size_str", lambda: R.create(io, "strsize", "1024"))
    s.step("create_ioctx_wrong_type", lambda: R.create("pool", "x", MiB))
    s.step("create_negative_size", lambda: R.create(io, "neg", -1))
    s.step("create_data_pool_missing", lambda: R.create(io, "dp", MiB, data_pool="nope-pool"))
    dpool = s.rbd_pool("data")
    s.step(
        "create_data_pool",
        lambda: R.create(io, "withdp", MiB, data_pool=dpool),
    )
    s.step("list", lambda: sorted(R.list(io)))
    s.step("list_type", lambda: R.list(io), norm=lambda v: type(v).__name__)
    s.step(
        "list2",
        lambda: sorted(R.list2(io), key=lambda d: d["name"]),
        norm=s.mask(id=lambda v: "<id>" if isinstance(v, str) and v else v),
    )
    s.step("list2_iterator_type", lambda: type(R.list2(io)).__name__)
    s.step("rename", lambda: R.rename(io, "lay", "lay2"))
    s.step("rename_missing", lambda: R.rename(io, "nope", "x"))
    s.step("rename_to_existing", lambda: R.rename(io, "lay2", "img"))
    s.step("rename_old_format", lambda: R.rename(io, "old", "old-renamed"))
    progress = []

    def on_progress(off, tot):
        progress.append((off, tot))
        return 0

    s.step("remove_with_progress", lambda: R.remove(io, "lay2", on_progress=on_progress))
    s.step("remove_progress_calls", lambda: (bool(progress), progress[-1] if progress else None))
    s.step("remove_missing", lambda: R.remove(io, "lay2"))
    r2 = s.new_cluster()
    io2 = s.track(r2.open_ioctx(pool))
    held = s.track(rbd.Image(io2, "zero"))
    s.step("remove_open_elsewhere", lambda: R.remove(io, "zero"))
    s.step("rename_open_elsewhere", lambda: R.rename(io, "zero", "zero2"))
    held.close()
    s.step("rename_back", lambda: R.rename(io, "zero2", "zero"))
    s.step("remove_old_format", lambda: R.remove(io, "old-renamed"))
    s.step("remove_name_bytes", lambda: R.remove(io, b"bytes"))
    s.step("list_after_remove", lambda: sorted(R.list(io)))
    s.step(
        "pool_stats_get",
        lambda: R.pool_stats_get(io),
    )
    s.step("features_to_string_61", lambda: R.features_to_string(61))
    s.step("features_to_string_all", lambda: R.features_to_string(rbd.RBD_FEATURES_ALL))
    s.step("features_to_string_0", lambda: R.features_to_string(0))
    s.step("features_to_string_unknown", lambda: R.features_to_string(1 << 30))
    s.step("features_from_string", lambda: R.features_from_string("layering,exclusive-lock"))
    s.step("features_from_string_empty", lambda: R.features_from_string(""))
    s.step("features_from_string_bad", lambda: R.features_from_string("layering,bogus"))

    def aio_open(**kw):
        got = []

        def cb(comp, image):
            got.append(image)

        c = R.aio_open_image(cb, io, **kw)
        c.wait_for_complete_and_cb()
        img = got[0] if got else None
        if img is not None:
            s.track(img)
        return {
            "ret": c.get_return_value(),
            "image_type": type(img).__name__,
            "name": img.get_name() if img is not None and c.get_return_value() == 0 else None,
        }

    s.step("aio_open_image", lambda: aio_open(name="img"))
    s.step("aio_open_image_missing", lambda: aio_open(name="nope"))
    s.step("aio_open_image_read_only", lambda: aio_open(name="img", read_only=True))
