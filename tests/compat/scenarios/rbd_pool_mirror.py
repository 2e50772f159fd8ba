"""rbd pool-level mirroring metadata (no rbd-mirror daemon): site name, mirror
mode get/set (disabled/image/pool), mirror uuid, peers (add/list/remove/set
client, name, cluster, attributes), bootstrap tokens (create/import), image
status list and summary, instance id list, image info list, and bad input."""

import base64
import json

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    r = s.cluster()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    fsid = r.get_fsid()
    s.alias(fsid, "<fsid>")
    uuid_like = s.prop(
        lambda v: isinstance(v, str) and len(v) == 36 and v.count("-") == 4, "<uuid>"
    )
    s.step("site_name_default", lambda: R.mirror_site_name_get(r))
    s.step("mirror_mode_default", lambda: R.mirror_mode_get(io))
    s.step("mirror_uuid_disabled", lambda: R.mirror_uuid_get(io))
    s.step("peer_list_disabled", lambda: list(R.mirror_peer_list(io)))
    s.step("peer_add_disabled", lambda: R.mirror_peer_add(io, "remote", "client.remote"))
    s.step("mirror_mode_set_bad", lambda: R.mirror_mode_set(io, 7))
    s.step("mirror_mode_set_image", lambda: R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_IMAGE))
    s.step("mirror_mode_get_image", lambda: R.mirror_mode_get(io))
    s.step("mirror_uuid_get", lambda: R.mirror_uuid_get(io), norm=uuid_like)
    s.step("mirror_mode_set_pool", lambda: R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_POOL))
    s.step("mirror_mode_get_pool", lambda: R.mirror_mode_get(io))
    peer = s.step(
        "peer_add", lambda: R.mirror_peer_add(io, "remote-site", "client.remote"), norm=uuid_like
    )
    s.step("peer_add_same_site", lambda: R.mirror_peer_add(io, "remote-site", "client.other"))
    s.step("peer_add_own_site", lambda: R.mirror_peer_add(io, fsid, "client.x"), norm=uuid_like)
    peer_norm = s.mask(uuid=uuid_like, mirror_uuid=lambda v: v)
    s.step("peer_list", lambda: peers(R, io), norm=peer_norm)
    s.step("peer_list_type", lambda: type(R.mirror_peer_list(io)).__name__)
    s.step("peer_set_client", lambda: R.mirror_peer_set_client(io, peer, "client.changed"))
    s.step("peer_set_name", lambda: R.mirror_peer_set_name(io, peer, "renamed-site"))
    s.step("peer_set_cluster", lambda: R.mirror_peer_set_cluster(io, peer, "other-cluster"))
    s.step("peer_list_after_set", lambda: peers(R, io), norm=peer_norm)
    s.step("peer_get_attributes_empty", lambda: R.mirror_peer_get_attributes(io, peer))
    s.step(
        "peer_set_attributes",
        lambda: R.mirror_peer_set_attributes(
            io, peer, {"mon_host": "10.0.0.1", "key": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}
        ),
    )
    s.step("peer_get_attributes", lambda: R.mirror_peer_get_attributes(io, peer))
    s.step("peer_set_client_missing", lambda: R.mirror_peer_set_client(io, "no-such-uuid", "c"))
    s.step("peer_remove", lambda: R.mirror_peer_remove(io, peer))
    s.step("peer_remove_again", lambda: R.mirror_peer_remove(io, peer))
    s.step("peer_list_after_remove", lambda: peers(R, io), norm=peer_norm)
    s.step("site_name_set", lambda: R.mirror_site_name_set(r, "site-a"))
    s.step("site_name_get", lambda: R.mirror_site_name_get(r))
    s.step("site_name_reset", lambda: R.mirror_site_name_set(r, ""))
    s.step("site_name_after_reset", lambda: R.mirror_site_name_get(r))

    def token():
        t = R.mirror_peer_bootstrap_create(io)
        d = json.loads(base64.b64decode(t))
        return {k: type(v).__name__ for k, v in d.items()}, d.get("fsid") == fsid

    s.step("bootstrap_create", token)
    s.step(
        "bootstrap_import_own_token",
        lambda: R.mirror_peer_bootstrap_import(
            io, rbd.RBD_MIRROR_PEER_DIRECTION_RX_TX, R.mirror_peer_bootstrap_create(io)
        ),
    )
    s.step(
        "bootstrap_import_garbage",
        lambda: R.mirror_peer_bootstrap_import(io, rbd.RBD_MIRROR_PEER_DIRECTION_RX, "garbage"),
    )
    R.create(io, "img", MiB, features=61 | rbd.RBD_FEATURE_JOURNALING)
    s.image_id(io, "img")
    s.step("status_summary", lambda: R.mirror_image_status_summary(io))
    s.step(
        "status_list",
        lambda: list(R.mirror_image_status_list(io)),
        norm=s.mask(global_id=uuid_like, last_update="<datetime>", remote_statuses=lambda v: v),
    )
    s.step("status_list_type", lambda: type(R.mirror_image_status_list(io)).__name__)
    s.step("instance_id_list", lambda: list(R.mirror_image_instance_id_list(io)))
    s.step(
        "info_list",
        lambda: list(R.mirror_image_info_list(io)),
        norm=lambda v: [(i, s.mask(global_id=uuid_like)(d)) for i, d in v],
    )
    s.step(
        "info_list_snapshot_filter",
        lambda: list(R.mirror_image_info_list(io, rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT)),
    )
    s.step(
        "mirror_mode_disable_with_images",
        lambda: R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_DISABLED),
    )
    s.step("mirror_mode_set_image_again", lambda: R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_IMAGE))
    s.step("mirror_mode_after", lambda: R.mirror_mode_get(io))


def peers(R, io):
    """The pool's peers in a stable order (the listing follows the random uuids)."""
    return sorted(R.mirror_peer_list(io), key=lambda d: (d["client_name"], d["site_name"]))
