"""rbd bad input at upstream's bounds: image and snapshot names that are empty,
very long, or contain '/' or '@', sizes at 0 and near 2**64, orders at the edges,
stripe settings that do not divide the object size, None and wrong types where a
str, int or Ioctx is expected; each must give upstream's error and change nothing."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    s.step("create_empty_name", lambda: R.create(io, "", MiB))
    s.step("create_name_with_slash", lambda: R.create(io, "a/b", MiB))
    s.step("create_name_with_at", lambda: R.create(io, "a@b", MiB))
    s.step("create_name_unicode", lambda: R.create(io, "imägé", MiB))
    s.step("create_name_long", lambda: R.create(io, "n" * 4000, MiB))
    s.step("create_name_none", lambda: R.create(io, None, MiB))
    s.step("create_size_2_63", lambda: R.create(io, "big", 1 << 63))
    s.step("create_size_2_64", lambda: R.create(io, "huge", 1 << 64))
    s.step("create_size_float", lambda: R.create(io, "flt", 1.5))
    s.step("create_order_12", lambda: R.create(io, "o12", MiB, order=12))
    s.step("create_order_25", lambda: R.create(io, "o25", MiB, order=25))
    s.step("create_order_negative", lambda: R.create(io, "oneg", MiB, order=-1))
    s.step(
        "create_stripe_unit_not_dividing",
        lambda: R.create(io, "su", 4 * MiB, stripe_unit=3 * 65536, stripe_count=2),
    )
    s.step(
        "create_stripe_count_zero",
        lambda: R.create(io, "sc0", 4 * MiB, stripe_unit=65536, stripe_count=0),
    )
    s.step(
        "create_stripe_unit_bigger_than_object",
        lambda: R.create(io, "subig", 4 * MiB, order=20, stripe_unit=2 * MiB, stripe_count=2),
    )
    s.step("create_features_str", lambda: R.create(io, "fs", MiB, features="layering"))
    s.step("list_after_bad_creates", lambda: sorted(R.list(io)))
    for name in sorted(R.list(io)):
        with rbd.Image(io, name, read_only=True) as img:
            s.step(f"size_of_{name[:20]}", lambda img=img: img.size())
    R.create(io, "img", MiB)
    img = s.image(io, "img")
    s.step("snap_empty_name", lambda: img.create_snap(""))
    s.step("snap_name_with_at", lambda: img.create_snap("a@b"))
    s.step("snap_name_with_slash", lambda: img.create_snap("a/b"))
    s.step("snap_name_long", lambda: img.create_snap("s" * 4000))
    s.step("snap_names", lambda: [d["name"][:20] for d in img.list_snaps()])
    s.step("resize_2_64", lambda: img.resize(1 << 64))
    s.step("resize_negative", lambda: img.resize(-1))
    s.step("read_offset_negative", lambda: img.read(-1, 1))
    s.step("write_none", lambda: img.write(None, 0))
    s.step("write_bytearray", lambda: img.write(bytearray(b"ba"), 0))
    s.step("write_memoryview", lambda: img.write(memoryview(b"mv"), 0))
    s.step("read_back", lambda: img.read(0, 2))
    s.step("discard_negative", lambda: img.discard(-1, 1))
    s.step("metadata_set_none_key", lambda: img.metadata_set(None, "v"))
    s.step("metadata_get_int_key", lambda: img.metadata_get(5))
    s.step("set_snap_int", lambda: img.set_snap(5))
    s.step("lock_exclusive_none", lambda: img.lock_exclusive(None))
    s.step("rename_to_empty", lambda: R.rename(io, "img", ""))
    s.step("rename_to_same", lambda: R.rename(io, "img", "img"))
    s.step("remove_empty_name", lambda: R.remove(io, ""))
    s.step("list_at_end", lambda: sorted(n[:20] for n in R.list(io)))
