"""The image trash of the rbd engine (`pyceph.rbdlib.trash`, upstream librbd
api/Trash.cc) on the embedded cluster: rbd_trash's omap as upstream writes it, the
move/restore/remove/purge state walk and the errnos for bad input."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import errno
import time

from pyceph.cls.rbd_types import (
    SNAPSHOT_NAMESPACE_TYPE_TRASH,
    TRASH_IMAGE_SOURCE_USER,
    TRASH_IMAGE_STATE_MOVING,
    TRASH_IMAGE_STATE_NORMAL,
    TrashImageSpec,
)
from pyceph.common.denc import Decoder
from pyceph.rbdlib import cls_client, pool, trash
from pyceph.rbdlib.image import open_image
from pyceph.rbdlib.layout import RBD_TRASH

from .rbdlib_pool_env import Env, MiB, cluster, env  # noqa: F401 - fixtures

HOUR = 3600


def test_move_list_get_omap_layout(env: Env) -> None:
    image_id = env.create("a")
    before = int(time.time())
    env.run(trash.trash_move(env.ioctx, "a", HOUR))
    assert env.run(pool.list_images(env.ioctx)) == []
    assert "rbd_id.a" not in env.objects()
    assert f"rbd_header.{image_id}" in env.objects()
    omap = env.omap(RBD_TRASH)
    assert list(omap) == [f"id_{image_id}"]
    spec = TrashImageSpec.decode(Decoder(omap[f"id_{image_id}"]))
    assert (spec.source, spec.name, spec.state) == (TRASH_IMAGE_SOURCE_USER, "a",
                                                    TRASH_IMAGE_STATE_NORMAL)  # fmt: skip
    assert spec.deferment_end_time[0] - spec.deletion_time[0] == HOUR
    # upstream's encoding: ENCODE_START(2, 1), then source u8, name, two utimes, state u8
    raw = omap[f"id_{image_id}"]
    assert raw[:2] == bytes([2, 1]) and raw[6] == TRASH_IMAGE_SOURCE_USER
    entry = env.run(trash.trash_get(env.ioctx, image_id))
    assert entry["id"] == image_id and entry["name"] == "a" and entry["source"] == 0
    assert before <= entry["deletion_time"] <= before + 5
    assert entry["deferment_end_time"] == entry["deletion_time"] + HOUR
    assert env.run(trash.trash_list(env.ioctx)) == [entry]
    stats = env.run(trash.trash_stats(env.ioctx))
    assert (stats["trash_count"], stats["trash_provisioned_bytes"]) == (1, 4 * MiB)


def test_bad_input(env: Env) -> None:
    io = env.ioctx
    assert env.run(trash.trash_list(io)) == []
    assert env.err(trash.trash_move(io, "missing")) == errno.ENOENT
    assert env.err(trash.trash_get(io, "0123456789ab")) == errno.ENOENT
    assert env.err(trash.trash_restore(io, "0123456789ab", "x")) == errno.ENOENT
    assert env.err(trash.trash_remove(io, "0123456789ab")) == errno.ENOENT
    assert env.err(trash.trash_purge(io, 0, 2.0)) == errno.EINVAL
    assert env.err(trash.trash_purge(io, 0, -0.5)) == errno.EINVAL
    image_id = env.create("d")
    env.run(trash.trash_move(io, "d", HOUR))
    assert env.err(trash.trash_remove(io, image_id)) == errno.EPERM  # deferred
    assert env.run(trash.trash_get(io, image_id))["name"] == "d"  # unchanged


def test_restore_same_new_and_taken_name(env: Env) -> None:
    io = env.ioctx
    image_id = env.create("a")
    img = env.open("a")
    env.run(img.write(b"keep", 0))
    env.run(img.close())
    env.run(trash.trash_move(io, "a"))
    env.run(trash.trash_restore(io, image_id, ""))  # the old name
    assert env.run(pool.list_images(io)) == ["a"]
    assert env.omap(RBD_TRASH) == {}
    env.run(trash.trash_move(io, "a"))
    env.create("a")  # the name is free again
    assert env.err(trash.trash_restore(io, image_id, "a")) == errno.EEXIST
    # refused, and the entry is NORMAL again
    assert env.run(cls_client.trash_get(io, RBD_TRASH, image_id)).state == TRASH_IMAGE_STATE_NORMAL
    env.run(trash.trash_restore(io, image_id, "b"))
    assert sorted(env.run(pool.list_images(io))) == ["a", "b"]
    img = env.open("b")
    assert env.run(img.read(0, 4)) == b"keep"
    env.run(img.close())


def test_remove_force_progress_and_snapshots(env: Env) -> None:
    io = env.ioctx
    image_id = env.create("a", 3 * MiB)
    img = env.open("a")
    env.run(img.write(b"x" * MiB, 0))
    env.run(img.close())
    env.run(trash.trash_move(io, "a", HOUR))
    seen: list[tuple[int, int]] = []
    env.run(trash.trash_remove(io, image_id, True, lambda o, t: seen.append((o, t))))
    assert seen and seen[-1] == (2, 3)  # TrimRequest: the object just issued, of 3
    assert env.omap(RBD_TRASH) == {}
    assert not any(image_id in o for o in env.objects())
    # an image with snapshots stays in the trash (ENOTEMPTY) with its entry NORMAL
    sid = env.create("s")
    img = env.open("s")
    env.run(img.create_snap("snap"))
    env.run(img.close())
    env.run(trash.trash_move(io, "s"))
    assert env.err(trash.trash_remove(io, sid)) == errno.ENOTEMPTY
    assert env.run(cls_client.trash_get(io, RBD_TRASH, sid)).state == TRASH_IMAGE_STATE_NORMAL
    env.run(trash.trash_restore(io, sid, "s"))


def test_interrupted_move_resumes(env: Env) -> None:
    io = env.ioctx
    image_id = env.create("m")
    # a crashed move: the entry is MOVING, the name still in the directory
    spec = TrashImageSpec(TRASH_IMAGE_SOURCE_USER, "m", (1, 0), (1, 0), TRASH_IMAGE_STATE_MOVING)
    env.run(cls_client.trash_add(io, RBD_TRASH, image_id, spec))
    assert env.err(trash.trash_remove(io, image_id, True)) == errno.EUCLEAN
    env.run(trash.trash_move(io, "m"))
    assert env.run(pool.list_images(io)) == []
    assert env.run(trash.trash_get(io, image_id))["name"] == "m"


def test_purge_by_time(env: Env) -> None:
    io = env.ioctx
    now_id = env.create("now")
    later_id = env.create("later")
    snap_id = env.create("snapped")
    img = env.open("snapped")
    env.run(img.create_snap("s"))
    env.run(img.close())
    env.run(trash.trash_move(io, "now"))
    env.run(trash.trash_move(io, "later", HOUR))
    env.run(trash.trash_move(io, "snapped"))
    # the image with snapshots cannot go: ENOTEMPTY after the others went
    assert env.err(trash.trash_purge(io)) == errno.ENOTEMPTY
    assert sorted(e["id"] for e in env.run(trash.trash_list(io))) == sorted([later_id, snap_id])
    env.run(trash.trash_restore(io, snap_id, "snapped"))
    env.run(trash.trash_purge(io, int(time.time()) + 2 * HOUR))
    assert env.run(trash.trash_list(io)) == []
    assert now_id not in str(env.objects())


def test_purge_threshold_below_usage_keeps_all(env: Env) -> None:
    io = env.ioctx
    env.create("t")
    env.run(trash.trash_move(io, "t", HOUR))
    env.run(trash.trash_purge(io, 0, 1.0))  # usage is never above 100%: nothing to free
    assert [e["name"] for e in env.run(trash.trash_list(io))] == ["t"]


def test_open_trashed_image_by_id_has_its_name(env: Env) -> None:
    iid = env.create("named")
    env.run(trash.trash_move(env.ioctx, "named"))
    img = env.run(open_image(env.ioctx, image_id=iid))
    try:
        assert img.name == "named"  # from the trash entry (OpenRequest)
    finally:
        env.run(img.close())


def test_remove_prunes_trash_snapshots_but_not_one_with_a_clone(env: Env) -> None:
    # PreRemoveRequest: trash-namespace snapshots do not block removal; one a clone
    # still depends on is kept and the removal fails with ECHILD, the image staying
    from pyceph.rbdlib import clone

    env.create("par")
    img = env.open("par")
    env.run(img.create_snap("s"))
    env.run(img.close())
    env.run(clone.clone(env.ioctx, "par", "s", env.ioctx, "kid", clone_format=2))
    img = env.open("par")
    env.run(img.remove_snap("s"))  # has a clone: moved to the trash namespace
    assert [s["namespace"] for s in env.run(img.list_snaps())] == [SNAPSHOT_NAMESPACE_TYPE_TRASH]
    env.run(img.close())
    assert env.err(pool.remove(env.ioctx, "par")) == errno.ECHILD
    assert "par" in env.run(pool.list_images(env.ioctx))
    env.run(pool.remove(env.ioctx, "kid"))  # detaching removes the trashed snapshot
    env.run(pool.remove(env.ioctx, "par"))
    assert env.run(pool.list_images(env.ioctx)) == []
