"""rbd image features and the object map: features, update_features (enable and
disable each mutable feature, dependencies between exclusive-lock, object-map,
fast-diff and journaling, immutable features), op_features, flags,
rebuild_object_map (head and snapshot), and how diff_iterate and the object map
agree after writes, discards and a resize."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R.create(io, "img", 16 * MiB, order=22)
    img = s.image(io, "img")
    s.step("features_default", lambda: img.features())
    s.step("features_string", lambda: R.features_to_string(img.features()))
    s.step("op_features", lambda: img.op_features())
    s.step("flags", lambda: img.flags())
    F = rbd
    s.step(
        "disable_exclusive_lock_with_object_map",
        lambda: img.update_features(F.RBD_FEATURE_EXCLUSIVE_LOCK, False),
    )
    s.step(
        "disable_object_map_with_fast_diff",
        lambda: img.update_features(F.RBD_FEATURE_OBJECT_MAP, False),
    )
    s.step("disable_fast_diff", lambda: img.update_features(F.RBD_FEATURE_FAST_DIFF, False))
    s.step("features_after_fast_diff_off", lambda: img.features())
    s.step("disable_object_map", lambda: img.update_features(F.RBD_FEATURE_OBJECT_MAP, False))
    s.step(
        "disable_exclusive_lock", lambda: img.update_features(F.RBD_FEATURE_EXCLUSIVE_LOCK, False)
    )
    s.step("features_after_disable", lambda: img.features())
    s.step("disable_layering_immutable", lambda: img.update_features(F.RBD_FEATURE_LAYERING, False))
    s.step("disable_deep_flatten", lambda: img.update_features(F.RBD_FEATURE_DEEP_FLATTEN, False))
    s.step("enable_deep_flatten", lambda: img.update_features(F.RBD_FEATURE_DEEP_FLATTEN, True))
    s.step("enable_striping_immutable", lambda: img.update_features(F.RBD_FEATURE_STRIPINGV2, True))
    s.step(
        "enable_object_map_without_lock",
        lambda: img.update_features(F.RBD_FEATURE_OBJECT_MAP, True),
    )
    s.step(
        "enable_journaling_without_lock",
        lambda: img.update_features(F.RBD_FEATURE_JOURNALING, True),
    )
    s.step("enable_unknown_bit", lambda: img.update_features(1 << 20, True))
    s.step("enable_already_enabled", lambda: img.update_features(F.RBD_FEATURE_LAYERING, True))
    s.step("update_features_str", lambda: img.update_features("layering", True))
    img.write(b"A" * 4096, 0)
    img.write(b"B" * 4096, 9 * MiB)
    s.step("enable_exclusive_lock", lambda: img.update_features(F.RBD_FEATURE_EXCLUSIVE_LOCK, True))
    s.step("enable_object_map", lambda: img.update_features(F.RBD_FEATURE_OBJECT_MAP, True))
    s.step("flags_after_enable_object_map", lambda: img.flags())
    s.step("enable_fast_diff", lambda: img.update_features(F.RBD_FEATURE_FAST_DIFF, True))
    s.step("flags_after_enable_fast_diff", lambda: img.flags())
    s.step("features_after_enable", lambda: img.features())
    s.step("rebuild_object_map", lambda: img.rebuild_object_map())
    s.step("flags_after_rebuild", lambda: img.flags())

    def diff(from_snap=None, whole=True):
        out = []
        img.diff_iterate(
            0, img.size(), from_snap, lambda o, ln, e: out.append((o, ln, e)), whole_object=whole
        )
        return out

    s.step("diff_whole_object", lambda: diff())
    s.step("diff_exact", lambda: diff(whole=False))
    img.create_snap("s1")
    img.write(b"C" * 10, 13 * MiB)
    img.discard(8 * MiB, 4 * MiB)
    s.step("diff_from_snap_whole", lambda: diff("s1"))
    s.step("diff_from_snap_exact", lambda: diff("s1", whole=False))
    s.step("resize_shrink", lambda: img.resize(6 * MiB))
    s.step("diff_after_shrink", lambda: diff())
    s.step("rebuild_object_map_again", lambda: img.rebuild_object_map())
    s.step("flags_final", lambda: img.flags())
    img.set_snap("s1")
    s.step("rebuild_object_map_snapshot", lambda: img.rebuild_object_map())
    img.set_snap(None)
    R.create(io, "plain", MiB, features=F.RBD_FEATURE_LAYERING)
    plain = s.image(io, "plain")
    s.step("rebuild_without_object_map", lambda: plain.rebuild_object_map())
    s.step("plain_features", lambda: plain.features())
    s.step("plain_flags", lambda: plain.flags())
    s.step(
        "enable_lock_and_map_together",
        lambda: plain.update_features(
            F.RBD_FEATURE_EXCLUSIVE_LOCK | F.RBD_FEATURE_OBJECT_MAP, True
        ),
    )
    s.step("plain_features_after", lambda: plain.features())
    s.step("enable_journaling", lambda: plain.update_features(F.RBD_FEATURE_JOURNALING, True))
    s.step("features_with_journaling", lambda: plain.features())
    s.step("disable_journaling", lambda: plain.update_features(F.RBD_FEATURE_JOURNALING, False))
