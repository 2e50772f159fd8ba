"""rbd image-level mirroring (no rbd-mirror daemon): mirror_image_enable in
journal and snapshot mode, get_info/get_mode (sync and aio), get_status,
get_instance_id, create_snapshot (sync and aio) and the mirror snapshot
namespace, demote/promote (force), resync, disable (force), and the errors when
the pool is not in image mode or the image lacks journaling."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    is_uuid = s.prop(lambda v: isinstance(v, str) and len(v) == 36 and v.count("-") == 4, "<uuid>")

    def uuid_like(v):
        return v if v == "" else is_uuid(v)

    info_norm = s.mask(global_id=uuid_like)
    R.create(io, "jimg", MiB, features=61 | rbd.RBD_FEATURE_JOURNALING)
    R.create(io, "simg", MiB)
    R.create(io, "plain", MiB)
    s.image_id(io, "jimg")
    s.image_id(io, "simg")
    s.image_id(io, "plain")
    j = s.image(io, "jimg")
    sn = s.image(io, "simg")
    plain = s.image(io, "plain")
    s.step("get_info_pool_disabled", lambda: j.mirror_image_get_info(), norm=info_norm)
    s.step("get_mode_pool_disabled", lambda: j.mirror_image_get_mode())
    s.step("enable_pool_disabled", lambda: j.mirror_image_enable())
    R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_IMAGE)
    s.alias(R.mirror_peer_add(io, "remote-site", "client.remote"), "<peer_uuid>")
    s.step("enable_journal_without_feature", lambda: plain.mirror_image_enable())
    s.step("features_after_journal_enable", lambda: plain.features())
    s.step("enable_journal", lambda: j.mirror_image_enable())
    s.step("enable_journal_again", lambda: j.mirror_image_enable())
    s.step("get_info_journal", lambda: j.mirror_image_get_info(), norm=info_norm)
    s.step("get_mode_journal", lambda: j.mirror_image_get_mode())
    s.step(
        "get_status_journal",
        lambda: j.mirror_image_get_status(),
        norm=s.mask(global_id=uuid_like, last_update="<datetime>"),
    )
    s.step("get_instance_id_no_daemon", lambda: j.mirror_image_get_instance_id())
    s.step("create_snapshot_journal_mode", lambda: j.mirror_image_create_snapshot())
    s.step("enable_snapshot", lambda: sn.mirror_image_enable(rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT))
    s.step("get_info_snapshot", lambda: sn.mirror_image_get_info(), norm=info_norm)
    s.step("get_mode_snapshot", lambda: sn.mirror_image_get_mode())
    snaps = s.step(
        "snapshots_after_enable",
        lambda: list(sn.list_snaps()),
        norm=lambda v: [(d["namespace"], sorted(d)) for d in v],
    )
    snap_id = s.step("create_snapshot", lambda: sn.mirror_image_create_snapshot(), norm=s.INT_POS)
    s.step("snap_ids_grow", lambda: snap_id > max(d["id"] for d in snaps) if snaps else None)
    s.step(
        "snap_get_mirror_namespace",
        lambda: sn.snap_get_mirror_namespace(snap_id),
        norm=s.mask(primary_snap_id=lambda v: v),
    )
    s.step("snap_get_namespace_type_mirror", lambda: sn.snap_get_namespace_type(snap_id))

    def aio(start, *args):
        got = []
        c = start(*args, lambda comp, *rest: got.append((comp.get_return_value(), rest)))
        c.wait_for_complete_and_cb()
        return c.get_return_value(), got

    s.step(
        "aio_get_info",
        lambda: aio(sn.aio_mirror_image_get_info),
        norm=lambda v: [v[0], [[r, [info_norm(x) for x in rest]] for r, rest in v[1]]],
    )
    s.step("aio_get_mode", lambda: aio(sn.aio_mirror_image_get_mode))
    s.step(
        "aio_create_snapshot",
        lambda: aio(sn.aio_mirror_image_create_snapshot, 0),
        norm=lambda v: [v[0], [[r, ["<snap_id>" for _ in rest]] for r, rest in v[1]]],
    )
    s.step("demote", lambda: sn.mirror_image_demote())
    s.step("get_info_demoted", lambda: sn.mirror_image_get_info(), norm=info_norm)
    s.step("write_demoted", lambda: sn.write(b"x", 0))
    s.step("demote_again", lambda: sn.mirror_image_demote())
    s.step("resync_primary", lambda: j.mirror_image_resync())
    s.step("promote", lambda: sn.mirror_image_promote(False))
    s.step("promote_again", lambda: sn.mirror_image_promote(False))
    s.step("promote_force", lambda: sn.mirror_image_promote(True))
    s.step("get_info_promoted", lambda: sn.mirror_image_get_info(), norm=info_norm)
    s.step("disable", lambda: sn.mirror_image_disable(False))
    s.step("get_info_disabled", lambda: sn.mirror_image_get_info(), norm=info_norm)
    s.step("disable_again", lambda: sn.mirror_image_disable(False))
    s.step("disable_force", lambda: j.mirror_image_disable(True))
    s.step("get_mode_after_disable", lambda: j.mirror_image_get_mode())
