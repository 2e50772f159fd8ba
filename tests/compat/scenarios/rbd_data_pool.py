"""rbd images with a separate data pool: a replicated data pool, an erasure-coded
one refused without allow_ec_overwrites and accepted with it, data_pool_id, the
data-pool feature, where header and data objects land, I/O, clone and removal
cleaning both pools."""

import json

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    r = s.cluster()
    pool = s.rbd_pool()
    dpool = s.rbd_pool("data")
    io = s.ioctx(pool)
    dio = s.ioctx(dpool)
    s.alias_int(io.get_pool_id(), "<pool_id>")
    s.alias_int(dio.get_pool_id(), "<pool_id-data>")
    s.step("create_with_data_pool", lambda: R.create(io, "img", 8 * MiB, data_pool=dpool))
    iid = s.image_id(io, "img")
    img = s.image(io, "img")
    s.step("data_pool_id", lambda: img.data_pool_id(), norm=s.mask_ints())
    s.step("features", lambda: img.features())
    s.step("features_string", lambda: R.features_to_string(img.features()))
    s.step("write", lambda: img.write(b"data-pool" * 100, 4 * MiB - 100))
    s.step("read", lambda: img.read(4 * MiB - 100, 900))
    s.step(
        "data_objects_in_data_pool",
        lambda: sorted(
            prefix_pool(o.key, io.get_pool_id())
            for o in dio.list_objects()
            if o.key.startswith("rbd_data.")
        ),
    )
    s.step(
        "no_data_objects_in_metadata_pool",
        lambda: sorted(o.key for o in io.list_objects() if o.key.startswith("rbd_data.")),
    )
    s.step(
        "header_in_metadata_pool",
        lambda: any(o.key == "rbd_header." + iid for o in io.list_objects()),
    )
    s.step(
        "disable_data_pool_feature", lambda: img.update_features(rbd.RBD_FEATURE_DATA_POOL, False)
    )
    img.create_snap("s")
    img.protect_snap("s")
    s.step("clone_keeps_parent_data_pool", lambda: R.clone(io, "img", "s", io, "child"))
    child = s.image(io, "child")
    s.step("child_data_pool_id", lambda: child.data_pool_id(), norm=s.mask_ints())
    s.step("child_features", lambda: child.features())
    s.step("create_data_pool_same_as_pool", lambda: R.create(io, "same", MiB, data_pool=pool))
    same = s.image(io, "same")
    s.step("same_pool_features", lambda: same.features())
    s.step("same_pool_data_pool_id", lambda: same.data_pool_id(), norm=s.mask_ints())

    profile = f"compat-rbd-ec-{s.tag}"
    s.alias(profile, "<profile>")
    r.mon_command(
        json.dumps(
            {
                "prefix": "osd erasure-code-profile set",
                "name": profile,
                "profile": ["k=2", "m=1", "crush-failure-domain=osd"],
            }
        ),
        b"",
    )
    ec = s.make_pool("ec", ec_profile=profile)
    s.alias_int(r.pool_lookup(ec), "<pool_id-ec>")
    s.step("create_ec_without_overwrites", lambda: R.create(io, "ecimg", 8 * MiB, data_pool=ec))
    s.step(
        "allow_ec_overwrites",
        lambda: r.mon_command(
            json.dumps(
                {"prefix": "osd pool set", "pool": ec, "var": "allow_ec_overwrites", "val": "true"}
            ),
            b"",
        )[0],
    )
    s.step("create_ec_data_pool", lambda: R.create(io, "ecimg", 8 * MiB, data_pool=ec))
    ecimg = s.image(io, "ecimg")
    s.step("ec_data_pool_id", lambda: ecimg.data_pool_id(), norm=s.mask_ints())
    s.step("ec_write_unaligned", lambda: ecimg.write(b"ec-bytes" * 1000, 12345))
    s.step("ec_read", lambda: ecimg.read(12345, 8000))
    s.step("ec_discard", lambda: ecimg.discard(0, 4 * MiB))
    s.step("ec_read_after_discard", lambda: ecimg.read(12345, 8))
    ecimg.close()
    img.close()
    child.close()
    s.step("remove_ec_image", lambda: R.remove(io, "ecimg"))
    s.step("remove_clone", lambda: R.remove(io, "child"))
    s.step(
        "data_objects_after_clone_removed",
        lambda: len([o for o in dio.list_objects() if o.key.startswith("rbd_data.")]),
    )


def prefix_pool(name, pool_id):
    """Data objects in a data pool are named after the image's (metadata) pool id, in
    decimal (librbd/image/CreateRequest.cc create_image)."""
    return name.replace(f"rbd_data.{pool_id}.", "rbd_data.<pool_id>.", 1)
