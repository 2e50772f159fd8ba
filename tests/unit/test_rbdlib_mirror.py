"""Mirroring metadata of the rbd engine (`pyceph.rbdlib.mirror`, upstream librbd
api/Mirror.cc) on the embedded cluster, without an rbd-mirror daemon: rbd_mirroring's
omap as upstream writes it, site name and peer attributes in config-key, bootstrap
tokens, image enable/disable/promote/demote, mirror snapshots and the status views."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import base64
import errno
import json

from pyceph.cls import rbd_mirror_types as M
from pyceph.cls.rbd_types import SNAPSHOT_NAMESPACE_TYPE_MIRROR
from pyceph.common.denc import Decoder
from pyceph.rbdlib import mirror
from pyceph.rbdlib.features import RBD_FEATURE_JOURNALING
from pyceph.rbdlib.layout import RBD_MIRRORING

from .rbdlib_pool_env import Env, cluster, env  # noqa: F401 - fixtures

#: layering, exclusive-lock, object-map, fast-diff, deep-flatten
FEATURES = 61


def test_site_name(env: Env) -> None:
    client = env.ioctx.client
    assert env.run(mirror.mirror_site_name_get(client)) == str(client.fsid)
    env.run(mirror.mirror_site_name_set(client, " site-a "))
    assert env.run(mirror.mirror_site_name_get(client)) == "site-a"
    env.run(mirror.mirror_site_name_set(client, ""))
    assert env.run(mirror.mirror_site_name_get(client)) == str(client.fsid)


def test_pool_mode_uuid_and_peers(env: Env) -> None:
    io = env.ioctx
    assert env.run(mirror.mirror_mode_get(io)) == M.MIRROR_MODE_DISABLED
    assert env.err(mirror.mirror_uuid_get(io)) == errno.ENOENT
    assert env.run(mirror.mirror_peer_list(io)) == []
    assert env.err(mirror.mirror_peer_add(io, "remote", "client.remote")) == errno.EINVAL
    assert env.err(mirror.mirror_mode_set(io, 7)) == errno.EINVAL
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_IMAGE))
    assert env.run(mirror.mirror_mode_get(io)) == M.MIRROR_MODE_IMAGE
    mirror_uuid = env.run(mirror.mirror_uuid_get(io))
    assert len(mirror_uuid) == 36
    omap = env.omap(RBD_MIRRORING)
    assert omap["mirror_uuid"] == mirror_uuid.encode()
    assert omap["mirror_mode"] == (M.MIRROR_MODE_IMAGE).to_bytes(4, "little")
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_POOL))
    assert env.run(mirror.mirror_mode_get(io)) == M.MIRROR_MODE_POOL
    assert env.run(mirror.mirror_uuid_get(io)) == mirror_uuid  # kept
    peer = env.run(mirror.mirror_peer_add(io, "remote-site", "client.remote"))
    assert env.err(mirror.mirror_peer_add(io, "remote-site", "client.other")) == errno.EEXIST
    assert env.err(mirror.mirror_peer_add(io, "x", "client.x", M.MIRROR_PEER_DIRECTION_TX)) \
        == errno.EINVAL  # fmt: skip
    assert f"mirror_peer_{peer}" in env.omap(RBD_MIRRORING)
    peers = env.run(mirror.mirror_peer_list(io))
    assert [(p["uuid"], p["site_name"], p["client_name"], p["direction"]) for p in peers] == [
        (peer, "remote-site", "client.remote", M.MIRROR_PEER_DIRECTION_RX_TX)]  # fmt: skip
    env.run(mirror.mirror_peer_set_client(io, peer, "client.changed"))
    env.run(mirror.mirror_peer_set_name(io, peer, "other-cluster"))
    p = env.run(mirror.mirror_peer_list(io))[0]
    assert (p["client_name"], p["site_name"]) == ("client.changed", "other-cluster")
    assert env.err(mirror.mirror_peer_set_client(io, "no-such-uuid", "c")) == errno.ENOENT
    assert env.err(mirror.mirror_peer_get_attributes(io, peer)) == errno.ENOENT
    attrs = {"mon_host": "10.0.0.1", "key": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}
    env.run(mirror.mirror_peer_set_attributes(io, peer, attrs))
    assert env.run(mirror.mirror_peer_get_attributes(io, peer)) == attrs
    assert env.err(mirror.mirror_peer_set_attributes(io, "nope", attrs)) == errno.ENOENT
    # disabling with peers registered is busy
    assert env.err(mirror.mirror_mode_set(io, M.MIRROR_MODE_DISABLED)) == errno.EBUSY
    env.run(mirror.mirror_peer_remove(io, peer))
    env.run(mirror.mirror_peer_remove(io, peer))  # again: fine
    assert env.err(mirror.mirror_peer_get_attributes(io, peer)) == errno.ENOENT
    assert env.run(mirror.mirror_peer_list(io)) == []
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_DISABLED))
    assert env.run(mirror.mirror_mode_get(io)) == M.MIRROR_MODE_DISABLED


def test_bootstrap_tokens(env: Env) -> None:
    io = env.ioctx
    token = env.run(mirror.mirror_peer_bootstrap_create(io))
    fields = json.loads(base64.b64decode(token))
    assert set(fields) == {"fsid", "client_id", "key", "mon_host"}
    assert fields["fsid"] == str(io.client.fsid)
    assert fields["client_id"] == "rbd-mirror-peer"
    rx_tx = M.MIRROR_PEER_DIRECTION_RX_TX
    assert env.err(mirror.mirror_peer_bootstrap_import(io, rx_tx, token)) == errno.EINVAL
    assert env.err(mirror.mirror_peer_bootstrap_import(io, rx_tx, "garbage")) == errno.EINVAL
    tx = M.MIRROR_PEER_DIRECTION_TX
    assert env.err(mirror.mirror_peer_bootstrap_import(io, tx, token)) == errno.EINVAL


def test_journal_mode_image(env: Env) -> None:
    io = env.ioctx
    env.create("jimg", features=FEATURES)
    img = env.open("jimg")
    assert env.run(mirror.mirror_image_get_info(img)) == {
        "global_id": "", "state": M.MIRROR_IMAGE_STATE_DISABLED, "primary": False}  # fmt: skip
    assert env.run(mirror.mirror_image_get_mode(img)) == M.MIRROR_IMAGE_MODE_JOURNAL
    assert env.err(mirror.mirror_image_enable(img)) == errno.EINVAL  # pool disabled
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_IMAGE))
    env.run(mirror.mirror_image_enable(img, M.MIRROR_IMAGE_MODE_JOURNAL))
    assert env.run(img.features()) == FEATURES | RBD_FEATURE_JOURNALING
    env.run(mirror.mirror_image_enable(img, M.MIRROR_IMAGE_MODE_JOURNAL))  # again: fine
    assert env.err(mirror.mirror_image_enable(img, M.MIRROR_IMAGE_MODE_SNAPSHOT)) \
        == errno.EINVAL  # fmt: skip
    info = env.run(mirror.mirror_image_get_info(img))
    assert info["state"] == M.MIRROR_IMAGE_STATE_ENABLED and info["primary"]
    omap = env.omap(RBD_MIRRORING)
    rec = M.MirrorImage.decode(Decoder(omap[f"image_{img.id}"]))
    assert (rec.mode, rec.global_image_id, rec.state) == (
        M.MIRROR_IMAGE_MODE_JOURNAL, info["global_id"], M.MIRROR_IMAGE_STATE_ENABLED)  # fmt: skip
    assert Decoder(omap[f"global_{info['global_id']}"]).string() == img.id
    status = env.run(mirror.mirror_image_get_status(img))
    assert status["name"] == "jimg" and status["info"] == info
    assert status["site_statuses"] == [{"mirror_uuid": "", "state": 0, "description":
                                        "status not found", "last_update": 0, "up": False}]  # fmt: skip
    assert env.err(mirror.mirror_image_get_instance_id(img)) == errno.ENOENT
    assert env.err(mirror.mirror_image_create_snapshot(img)) == errno.EINVAL
    assert env.err(mirror.mirror_image_resync(img)) == errno.EINVAL  # primary
    listed = env.run(mirror.mirror_image_status_list(io))
    assert [(s["name"], s["info"]) for s in listed] == [
        ("jimg", {"global_id": info["global_id"], "state": 1})]  # fmt: skip
    assert env.run(mirror.mirror_image_status_summary(io)) == [(0, 1)]
    assert env.run(mirror.mirror_image_instance_id_list(io)) == []
    assert env.run(mirror.mirror_image_info_list(io)) == [
        (img.id, {"mode": 0, **info})]  # fmt: skip
    assert env.run(mirror.mirror_image_info_list(io, M.MIRROR_IMAGE_MODE_SNAPSHOT)) == []
    assert env.err(mirror.mirror_mode_set(io, M.MIRROR_MODE_DISABLED)) == errno.EINVAL
    env.run(mirror.mirror_image_disable(img))
    env.run(mirror.mirror_image_disable(img))  # again: fine
    assert f"image_{img.id}" not in env.omap(RBD_MIRRORING)
    assert not env.run(img.features()) & RBD_FEATURE_JOURNALING
    env.run(img.close())


def test_snapshot_mode_image(env: Env) -> None:
    io = env.ioctx
    env.create("simg", features=FEATURES)
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_IMAGE))
    peer = env.run(mirror.mirror_peer_add(io, "remote-site", "client.remote"))
    img = env.open("simg")
    env.run(mirror.mirror_image_enable(img, M.MIRROR_IMAGE_MODE_SNAPSHOT))
    assert env.run(mirror.mirror_image_get_mode(img)) == M.MIRROR_IMAGE_MODE_SNAPSHOT
    snaps = env.run(img.list_snaps())
    assert [s["namespace"] for s in snaps] == [SNAPSHOT_NAMESPACE_TYPE_MIRROR]
    info = env.run(mirror.mirror_image_get_info(img))
    assert info["primary"] and snaps[0]["name"].startswith(f".mirror.primary.{info['global_id']}.")
    sid = env.run(mirror.mirror_image_create_snapshot(img))
    assert sid > snaps[0]["id"]
    assert env.run(mirror.snap_get_mirror_namespace(img, sid)) == {
        "state": 0, "mirror_peer_uuids": [peer], "complete": True, "primary_mirror_uuid": "",
        "primary_snap_id": (1 << 64) - 2, "last_copied_object_number": 0}  # fmt: skip
    assert env.err(mirror.snap_get_mirror_namespace(img, 12345)) == errno.ENOENT
    assert env.err(mirror.mirror_image_create_snapshot(img, 1 << 7)) == errno.EINVAL
    # the per-peer limit keeps the newest snapshots only
    limit = img.conf("rbd_mirroring_max_mirroring_snapshots")
    assert limit == 5  # upstream's default
    for _ in range(limit + 2):
        env.run(mirror.mirror_image_create_snapshot(img))
    assert len(env.run(img.list_snaps())) == limit
    assert not mirror.non_primary(img)
    env.run(mirror.mirror_image_demote(img))
    assert env.run(mirror.mirror_image_get_info(img))["primary"] is False
    assert mirror.non_primary(img)
    assert env.err(mirror.mirror_image_demote(img)) == errno.EINVAL
    assert env.err(mirror.mirror_image_create_snapshot(img)) == errno.EINVAL
    env.run(mirror.mirror_image_resync(img))
    key = ".rbd_mirror." + env.run(mirror.mirror_uuid_get(io))
    assert env.run(img.metadata_get(key)) == '{"resync_requested":true}'
    env.run(mirror.mirror_image_promote(img))
    assert env.run(mirror.mirror_image_get_info(img))["primary"] is True
    assert env.err(mirror.mirror_image_promote(img)) == errno.EINVAL
    assert env.err(mirror.mirror_image_promote(img, True)) == errno.EINVAL
    env.run(mirror.mirror_image_disable(img))
    assert env.run(img.list_snaps()) == []
    assert env.run(mirror.mirror_image_get_info(img))["state"] == M.MIRROR_IMAGE_STATE_DISABLED
    env.run(img.close())


def test_trash_disables_and_restore_reenables(env: Env) -> None:
    from pyceph.rbdlib import trash

    io = env.ioctx
    iid = env.create("t", features=FEATURES | RBD_FEATURE_JOURNALING)
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_POOL))
    assert f"image_{iid}" in env.omap(RBD_MIRRORING)  # pool mode enabled it
    env.run(trash.trash_move(io, "t"))
    assert f"image_{iid}" not in env.omap(RBD_MIRRORING)
    env.run(trash.trash_restore(io, iid, "t"))
    assert f"image_{iid}" in env.omap(RBD_MIRRORING)


def test_create_and_clone_in_pool_mode_start_mirrored(env: Env) -> None:
    from pyceph.rbdlib import clone

    io = env.ioctx
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_POOL))
    jid = env.create("pj", features=FEATURES | RBD_FEATURE_JOURNALING)
    plain = env.create("pplain", features=FEATURES)
    omap = env.omap(RBD_MIRRORING)
    assert f"image_{jid}" in omap and f"image_{plain}" not in omap  # journaling only
    img = env.open("pj")
    env.run(img.create_snap("s"))
    env.run(img.protect_snap("s"))
    env.run(img.close())
    cid = env.run(clone.clone(io, "pj", "s", io, "pjc",
                              features=FEATURES | RBD_FEATURE_JOURNALING))  # fmt: skip
    assert f"image_{cid}" in env.omap(RBD_MIRRORING)


def test_non_primary_refuses_writes_and_removal_disables(env: Env) -> None:
    from pyceph.rbdlib import pool

    io = env.ioctx
    iid = env.create("np", features=FEATURES)
    env.run(mirror.mirror_mode_set(io, M.MIRROR_MODE_IMAGE))
    img = env.open("np")
    env.run(mirror.mirror_image_enable(img, M.MIRROR_IMAGE_MODE_SNAPSHOT))
    env.run(img.write(b"x" * 10, 0))
    env.run(mirror.mirror_image_demote(img))
    assert env.err(img.write(b"y", 0)) == errno.EROFS
    assert env.err(img.discard(0, 10)) == errno.EROFS
    assert env.run(img.read(0, 10)) == b"x" * 10  # unchanged
    env.run(img.close())
    # a non-primary image is not removed (DisableRequest without force: EINVAL)
    assert env.err(pool.remove(io, "np")) == errno.EINVAL
    assert "np" in env.run(pool.list_images(io))
    img = env.open("np")
    env.run(mirror.mirror_image_promote(img))
    env.run(img.close())
    # removing the primary mirrored image takes its mirror snapshots and record with it
    env.run(pool.remove(io, "np"))
    assert f"image_{iid}" not in env.omap(RBD_MIRRORING)
    assert "np" not in env.run(pool.list_images(io))


def test_namespace_remove_drops_its_mirroring(env: Env) -> None:
    from pyceph.rbdlib import namespace, pool

    env.run(namespace.namespace_create(env.ioctx, "mns"))
    ns = env.ioctx.copy(nspace="mns")
    env.run(mirror.mirror_mode_set(env.ioctx, M.MIRROR_MODE_IMAGE))
    env.run(mirror.mirror_mode_set(ns, M.MIRROR_MODE_IMAGE))
    env.create("i", ioctx=ns)
    assert RBD_MIRRORING in env.objects(ns)
    assert "rbd_info" not in env.objects(ns)  # the pool check marks the default namespace
    assert env.err(namespace.namespace_remove(env.ioctx, "mns")) == errno.EBUSY
    assert env.run(mirror.mirror_mode_get(ns)) == M.MIRROR_MODE_IMAGE  # unchanged
    env.run(pool.remove(ns, "i"))
    env.run(namespace.namespace_remove(env.ioctx, "mns"))
    assert env.objects(ns) == set()
    assert env.run(mirror.mirror_mode_get(env.ioctx)) == M.MIRROR_MODE_IMAGE
