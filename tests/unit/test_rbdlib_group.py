"""RBD groups of the rbd engine (`pyceph.rbdlib.group`, upstream librbd api/Group.cc)
on the embedded cluster: rbd_group_directory, the group header and the image's group
reference as upstream writes them, group snapshots in the group snapshot namespace, and
the errnos for bad input."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import errno

from pyceph.cls.rbd_types import (
    SNAPSHOT_NAMESPACE_TYPE_GROUP,
    GroupSnapshot,
    GroupSpec,
)
from pyceph.common.denc import Decoder
from pyceph.rbdlib import group, pool
from pyceph.rbdlib.layout import RBD_GROUP_DIRECTORY

from .rbdlib_pool_env import Env, cluster, env  # noqa: F401 - fixtures


def test_groups_directory_layout(env: Env) -> None:
    io = env.ioctx
    assert env.run(group.group_list(io)) == []
    env.run(group.group_create(io, "g1"))
    omap = env.omap(RBD_GROUP_DIRECTORY)
    assert set(omap) == {"name_g1", next(k for k in omap if k.startswith("id_"))}
    gid = Decoder(omap["name_g1"]).string()
    assert Decoder(omap[f"id_{gid}"]).string() == "g1"
    assert f"rbd_group_header.{gid}" in env.objects()
    assert env.err(group.group_create(io, "g1")) == errno.EEXIST
    assert env.err(group.group_create(io, "")) == errno.EINVAL
    env.run(group.group_rename(io, "g1", "g2"))
    assert env.run(group.group_list(io)) == ["g2"]
    assert env.err(group.group_rename(io, "g1", "g3")) == errno.ENOENT
    env.run(group.group_remove(io, "g2"))
    env.run(group.group_remove(io, "g2"))  # missing: not an error, as upstream
    assert env.run(group.group_list(io)) == []
    assert not any(o.startswith("rbd_group_header.") for o in env.objects())


def test_members(env: Env) -> None:
    io = env.ioctx
    env.run(group.group_create(io, "grp"))
    gid = Decoder(env.omap(RBD_GROUP_DIRECTORY)["name_grp"]).string()
    iid = env.create("img1")
    env.create("img2")
    env.run(group.group_image_add(io, "grp", io, "img1"))
    env.run(group.group_image_add(io, "grp", io, "img1"))  # again: fine
    env.run(group.group_image_add(io, "grp", io, "img2"))
    assert env.err(group.group_image_add(io, "grp", io, "nope")) == errno.ENOENT
    assert env.err(group.group_image_add(io, "nope", io, "img1")) == errno.ENOENT
    assert env.err(group.group_image_add(io, "grp", io.copy(nspace="ns"), "img1")) \
        == errno.EINVAL  # fmt: skip
    members = env.run(group.group_image_list(io, "grp"))
    assert members == [{"name": "img1", "pool": env.pool_id, "state": 0},
                       {"name": "img2", "pool": env.pool_id, "state": 0}] or \
        sorted(m["name"] for m in members) == ["img1", "img2"]  # fmt: skip
    ghdr = env.omap(f"rbd_group_header.{gid}")
    assert ghdr[f"image_{env.pool_id:016x}_{iid}"] == b"\x00"
    ref = GroupSpec.decode(Decoder(env.omap(f"rbd_header.{iid}")["rbd_group_ref"]))
    assert (ref.group_id, ref.pool_id) == (gid, env.pool_id)
    img = env.open("img1")
    assert env.run(group.image_get_group(img)) == {"pool": env.pool_id, "name": "grp"}
    env.run(img.close())
    # an image in a group cannot join another one, nor be removed
    env.run(group.group_create(io, "other"))
    assert env.err(group.group_image_add(io, "other", io, "img1")) == errno.EEXIST
    assert env.run(group.group_image_list(io, "other")) == []
    assert env.run(group.group_image_list(io, "missing")) == []  # as upstream
    assert env.err(pool.remove(io, "img1")) == errno.EMLINK
    env.run(group.group_image_remove(io, "grp", io, "img2"))
    assert [m["name"] for m in env.run(group.group_image_list(io, "grp"))] == ["img1"]
    env.run(group.group_remove(io, "grp"))
    img = env.open("img1")
    assert env.run(group.image_get_group(img)) == {"pool": -1, "name": ""}
    env.run(img.close())
    assert "rbd_group_ref" not in env.omap(f"rbd_header.{iid}")
    env.run(pool.remove(io, "img1"))


def test_group_snapshots(env: Env) -> None:
    io = env.ioctx
    env.run(group.group_create(io, "grp"))
    gid = Decoder(env.omap(RBD_GROUP_DIRECTORY)["name_grp"]).string()
    env.create("img1")
    env.run(group.group_image_add(io, "grp", io, "img1"))
    img = env.open("img1")
    env.run(img.write(b"before-snap", 0))
    env.run(group.group_snap_create(io, "grp", "gs1", 0))
    assert env.err(group.group_snap_create(io, "grp", "gs1", 0)) == errno.EEXIST
    assert env.err(group.group_snap_create(io, "grp", "x", 1 << 5)) == errno.EINVAL
    assert env.run(group.group_snap_list(io, "grp")) == [{"name": "gs1", "state": 1}]
    recs = [v for k, v in env.omap(f"rbd_group_header.{gid}").items()
            if k.startswith("snapshot_")]  # fmt: skip
    gsnap = GroupSnapshot.decode(Decoder(recs[0]))
    assert gsnap.name == "gs1" and len(gsnap.snaps) == 1
    env.run(img.refresh())
    snaps = env.run(img.list_snaps())
    assert [s["namespace"] for s in snaps] == [SNAPSHOT_NAMESPACE_TYPE_GROUP]
    assert snaps[0]["name"] == group.image_snap_name(env.pool_id, gid, gsnap.id)
    assert snaps[0]["id"] == gsnap.snaps[0].snap_id
    assert env.run(group.snap_get_group_namespace(img, snaps[0]["id"])) == {
        "pool": env.pool_id, "name": "grp", "snap_name": "gs1"}  # fmt: skip
    env.run(group.group_snap_rename(io, "grp", "gs1", "gs2"))
    assert env.err(group.group_snap_rename(io, "grp", "gs1", "gs3")) == errno.ENOENT
    assert env.err(group.group_snap_rename(io, "grp", "gs2", "gs2")) == errno.EEXIST
    env.run(img.write(b"after-snap!", 0))
    env.run(group.group_snap_rollback(io, "grp", "gs2"))
    env.run(img.refresh())
    assert env.run(img.read(0, 11)) == b"before-snap"
    assert env.err(group.group_snap_rollback(io, "grp", "nope")) == errno.ENOENT
    env.run(img.close())
    # upstream refuses with ENOTEMPTY (snapshots are checked before the group link)
    assert env.err(pool.remove(io, "img1")) in (errno.ENOTEMPTY, errno.EMLINK)
    env.run(group.group_snap_remove(io, "grp", "gs2"))
    assert env.err(group.group_snap_remove(io, "grp", "gs2")) == errno.ENOENT
    img = env.open("img1")
    assert env.run(img.list_snaps()) == []
    env.run(img.close())
