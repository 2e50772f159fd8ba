"""The async rbd engine on an embedded cluster: create/open/I/O/resize/remove, snapshots,
clones with copy-up and flatten, bad input with upstream's errnos."""

from __future__ import annotations

import asyncio
import errno
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import rados
from pyceph.client.ioctx import IoCtx
from pyceph.common.errors import CephError
from pyceph.rbdlib import create, open_image, pool
from pyceph.rbdlib.clone import clone
from pyceph.rbdlib.write_around import OP_FLAG_FADVISE_FUA, WriteAround
from rados import _core as rados_core

MiB = 1 << 20
#: PGs of each test pool.
PG_NUM = 8


class Env:
    def __init__(self, r: rados.Rados, pool_name: str) -> None:
        self.r = r
        self.pool_name = pool_name
        self.ioctx = IoCtx(rados_core.core_client(r), r.pool_lookup(pool_name))

    def run(self, coro: Any) -> Any:
        return rados_core.run(self.r, coro)  # the raw CephError, not the rados exception

    def objects(self) -> set[str]:
        async def ls() -> set[str]:
            return {oid async for _, oid, _ in self.ioctx.list_objects()}

        return self.run(ls())


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        yield r


def make_pool(r: rados.Rados, name: str) -> None:
    """A small pool (the module's cluster holds many: keep PGs per OSD low)."""
    cmd = {"prefix": "osd pool create", "pool": name, "pg_num": PG_NUM}
    ret, _, outs = r.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs


@pytest.fixture
def env(cluster: rados.Rados) -> Iterator[Env]:
    name = f"rbd-{uuid.uuid4().hex[:8]}"
    make_pool(cluster, name)
    yield Env(cluster, name)
    for pool_name in cluster.list_pools():
        if pool_name.startswith(name):
            cluster.delete_pool(pool_name)


def _errno(env: Env, coro: Any) -> int:
    with pytest.raises(CephError) as ei:
        env.run(coro)
    return ei.value.errno


def test_create_open_io_remove(env: Env) -> None:
    image_id = env.run(create(env.ioctx, "img", 4 * MiB + 5, order=20, features=1))
    objs = env.objects()
    assert {"rbd_directory", "rbd_id.img", f"rbd_header.{image_id}", "rbd_info"} <= objs
    img = env.run(open_image(env.ioctx, "img"))
    try:
        assert img.id == image_id
        assert env.run(img.size()) == 4 * MiB + 5
        st = env.run(img.stat())
        assert st["obj_size"] == MiB and st["num_objs"] == 5 and st["order"] == 20
        assert st["block_name_prefix"] == f"rbd_data.{image_id}"
        data = bytes(range(256)) * 9000  # 2.3 MB across object boundaries
        off = MiB - 1234
        assert env.run(img.write(data, off)) == len(data)
        assert env.run(img.read(off, len(data))) == data
        assert env.run(img.read(0, 10)) == b"\0" * 10
        # clipped at the end; EINVAL past it
        assert env.run(img.write(b"x" * 10, 4 * MiB)) == 5
        assert env.run(img.read(4 * MiB, 100)) == b"xxxxx"
        assert _errno(env, img.read(4 * MiB + 5, 1)) == errno.EINVAL
        env.run(img.write_zeroes(off, 100))
        assert env.run(img.read(off, 100)) == b"\0" * 100
        env.run(img.resize(MiB + 10))
        assert env.run(img.size()) == MiB + 10
        assert _errno(env, img.resize(MiB, allow_shrink=False)) == errno.EINVAL
        env.run(img.resize(4 * MiB))
        assert env.run(img.read(MiB, 20)) == data[1234 : 1234 + 10] + b"\0" * 10
    finally:
        env.run(img.close())
    assert env.run(pool.list_images(env.ioctx)) == ["img"]
    progress: list[tuple[int, int]] = []
    env.run(pool.remove(env.ioctx, "img", lambda d, t: progress.append((d, t))))
    # TrimRequest: the object just issued, so the last call is (total - 1, total)
    assert progress and progress[-1][0] == progress[-1][1] - 1
    assert env.objects() <= {"rbd_directory", "rbd_info"}
    assert env.run(pool.list_images(env.ioctx)) == []
    assert _errno(env, pool.remove(env.ioctx, "img")) == errno.ENOENT


def test_striping_round_trip(env: Env) -> None:
    env.run(create(env.ioctx, "s", 8 * MiB, order=20, features=1, stripe_unit=65536,
                   stripe_count=3))  # fmt: skip
    img = env.run(open_image(env.ioctx, "s"))
    try:
        assert env.run(img.stripe_unit()) == 65536 and env.run(img.stripe_count()) == 3
        data = bytes((i * 7) & 0xFF for i in range(700_001))
        env.run(img.write(data, 12345))
        assert env.run(img.read(12345, len(data))) == data
        assert env.run(img.read(12345 + 65536, 99)) == data[65536 : 65536 + 99]
    finally:
        env.run(img.close())


def test_bad_create(env: Env) -> None:
    io = env.ioctx
    assert _errno(env, create(io, "a", MiB, order=11)) == errno.EDOM
    assert _errno(env, create(io, "a", MiB, order=26)) == errno.EDOM
    assert _errno(env, create(io, "a", MiB, stripe_unit=4096)) == errno.EINVAL
    assert _errno(env, create(io, "a", MiB, order=20, stripe_unit=3000, stripe_count=2)) \
        == errno.EINVAL  # fmt: skip
    assert _errno(env, create(io, "a", MiB, features=1 << 13)) == errno.ENOSYS
    assert _errno(env, create(io, "a", MiB, features=8 | 1)) == errno.EINVAL
    assert _errno(env, create(io, "a", MiB, data_pool="nope")) == errno.ENOENT
    env.run(create(io, "a", MiB, features=1))
    assert _errno(env, create(io, "a", MiB, features=1)) == errno.EEXIST
    assert _errno(env, open_image(io, "missing")) == errno.ENOENT
    assert env.run(pool.list_images(io)) == ["a"]


def test_snapshots(env: Env) -> None:
    env.run(create(env.ioctx, "i", 2 * MiB, order=20, features=1))
    img = env.run(open_image(env.ioctx, "i"))
    other = env.run(open_image(env.ioctx, "i"))
    try:
        env.run(img.write(b"a" * 5000, MiB - 100))
        env.run(img.create_snap("s1"))
        assert _errno(env, img.create_snap("s1")) == errno.EEXIST
        env.run(img.write(b"b" * 5000, MiB - 100))
        # the other open sees the snapshot after the header-update notify
        assert [s["name"] for s in env.run(other.list_snaps())] == ["s1"]
        env.run(other.set_snap("s1"))
        assert env.run(other.read(MiB - 100, 5000)) == b"a" * 5000
        assert _errno(env, other.write(b"x", 0)) == errno.EROFS
        env.run(other.set_snap(None))
        assert env.run(other.read(MiB - 100, 5000)) == b"b" * 5000
        env.run(img.protect_snap("s1"))
        assert env.run(img.is_protected_snap("s1"))
        assert _errno(env, img.remove_snap("s1")) == errno.EBUSY
        env.run(img.unprotect_snap("s1"))
        assert _errno(env, img.unprotect_snap("s1")) == errno.EINVAL
        env.run(img.rename_snap("s1", "s2"))
        env.run(img.rollback_to_snap("s2"))
        assert env.run(img.read(MiB - 100, 5000)) == b"a" * 5000
        # PreRemoveRequest checks snapshots before watchers
        assert _errno(env, pool.remove(env.ioctx, "i")) == errno.ENOTEMPTY
        env.run(img.resize(3 * MiB))  # the other open sees the new size too
        assert env.run(other.size()) == 3 * MiB
    finally:
        env.run(other.close())
        env.run(img.close())
    assert _errno(env, pool.remove(env.ioctx, "i")) == errno.ENOTEMPTY
    img = env.run(open_image(env.ioctx, "i"))
    env.run(img.remove_snap("s2"))
    env.run(img.close())
    env.run(pool.remove(env.ioctx, "i"))
    assert env.objects() <= {"rbd_directory", "rbd_info"}


@pytest.mark.parametrize("fmt", [1, 2])
def test_clone_copyup_flatten(env: Env, fmt: int) -> None:
    io = env.ioctx
    env.run(create(io, "parent", 3 * MiB, order=20, features=1))
    p = env.run(open_image(io, "parent"))
    pdata = bytes((i * 13) & 0xFF for i in range(3 * MiB))
    env.run(p.write(pdata, 0))
    env.run(p.create_snap("snap"))
    if fmt == 1:
        assert _errno(env, clone(io, "parent", "snap", io, "child", clone_format=1)) == errno.EINVAL
        env.run(p.protect_snap("snap"))
    env.run(clone(io, "parent", "snap", io, "child", clone_format=fmt))
    env.run(p.write(b"P" * 100, 0))  # the parent head moves on; the clone sees the snap
    c = env.run(open_image(io, "child"))
    try:
        spec = env.run(c.parent_spec())
        assert spec["image_name"] == "parent" and spec["snap_name"] == "snap"
        assert env.run(c.overlap()) == 3 * MiB
        assert env.run(c.read(0, 3 * MiB)) == pdata
        kids = env.run(p.list_children2())
        assert [(k["pool"], k["image"]) for k in kids] == [(env.pool_name, "child")]
        if fmt == 1:
            assert _errno(env, p.unprotect_snap("snap")) == errno.EBUSY
        env.run(c.write(b"C" * 10, MiB + 5))  # copy-up of object 1
        expect = bytearray(pdata)
        expect[MiB + 5 : MiB + 15] = b"C" * 10
        assert env.run(c.read(0, 3 * MiB)) == bytes(expect)
        if fmt == 2:
            assert env.run(c.op_features()) == 2  # RBD_OPERATION_FEATURE_CLONE_CHILD
            assert env.run(p.op_features()) == 1  # RBD_OPERATION_FEATURE_CLONE_PARENT
        calls: list[tuple[int, int]] = []
        env.run(c.flatten(lambda cur, total: calls.append((cur, total))))
        assert calls[-1] == (2, 3)  # FlattenRequest: the object just issued, of 3
        assert env.run(c.op_features()) == 0
        env.run(p.refresh())
        assert env.run(p.op_features()) == 0
        assert env.run(c.overlap()) == 0  # flattened: no parent
        assert env.run(c.read(0, 3 * MiB)) == bytes(expect)
        assert env.run(p.list_children2()) == []
    finally:
        env.run(c.close())
    env.run(pool.remove(io, "child"))
    if fmt == 1:
        env.run(p.unprotect_snap("snap"))
    env.run(p.remove_snap("snap"))
    env.run(p.close())
    env.run(pool.remove(io, "parent"))
    assert env.objects() <= {"rbd_directory", "rbd_info", "rbd_children"}


def test_object_map_kept(env: Env) -> None:
    """Default features (object-map on): the map follows writes, discards, snapshots,
    resizes; removal leaves nothing of the image."""
    from pyceph.cls.rbd_types import OBJECT_EXISTS, OBJECT_EXISTS_CLEAN, OBJECT_NONEXISTENT
    from pyceph.rbdlib import cls_client
    from pyceph.rbdlib.layout import object_map_name

    io = env.ioctx
    image_id = env.run(create(io, "om", 4 * MiB, order=20))
    img = env.run(open_image(io, "om"))

    def states(snap: int | None = None) -> list[int]:
        oid = object_map_name(image_id) if snap is None else object_map_name(image_id, snap)
        return env.run(cls_client.object_map_load(io, oid)).states()

    try:
        assert env.run(img.features()) == 61
        assert states() == [OBJECT_NONEXISTENT] * 4
        env.run(img.write(b"x" * 10, MiB - 5))
        assert states() == [OBJECT_EXISTS, OBJECT_EXISTS, 0, 0]
        snap_id = env.run(img.create_snap("s"))
        assert states() == [OBJECT_EXISTS_CLEAN, OBJECT_EXISTS_CLEAN, 0, 0]
        assert states(snap_id) == [OBJECT_EXISTS, OBJECT_EXISTS, 0, 0]
        env.run(img.discard(0, MiB))
        assert states()[0] == OBJECT_NONEXISTENT
        env.run(img.resize(6 * MiB))
        assert len(states()) == 6
        env.run(img.resize(MiB))
        assert len(states()) == 1
        env.run(img.remove_snap("s"))
        assert object_map_name(image_id, snap_id) not in env.objects()
    finally:
        env.run(img.close())
    env.run(pool.remove(io, "om"))
    assert env.objects() <= {"rbd_directory", "rbd_info"}


def test_clone_v2_of_removed_snapshot(env: Env) -> None:
    """Clone v2: an unprotected snapshot with a child moves to the trash namespace when
    removed, and goes when its last child does."""
    io = env.ioctx
    env.run(create(io, "p", MiB, order=20, features=1))
    p = env.run(open_image(io, "p"))
    try:
        env.run(p.write(b"parent", 0))
        sid = env.run(p.create_snap("s"))
        env.run(clone(io, "p", "s", io, "c", clone_format=2))
        env.run(p.remove_snap("s"))
        assert env.run(p.snap_get_namespace_type(sid)) == 2  # trash
        assert env.run(p.snap_get_trash_namespace(sid)) == {"original_name": "s"}
        c = env.run(open_image(io, "c"))
        assert env.run(c.read(0, 6)) == b"parent"
        assert env.run(c.parent_info())[:2] == (env.pool_name, "p")
        env.run(c.close())
        env.run(pool.remove(io, "c"))
        env.run(p.refresh())
        assert env.run(p.list_snaps()) == []
    finally:
        env.run(p.close())
    env.run(pool.remove(io, "p"))


def test_many_writes_in_flight(env: Env) -> None:
    """Writes issued together (as aio callers do) all land; progress is reported per
    object for management operations."""
    import asyncio
    import random

    io = env.ioctx
    env.run(create(io, "q", 8 * MiB, order=20, stripe_unit=65536, stripe_count=4))
    img = env.run(open_image(io, "q"))
    rng = random.Random(3)
    model = bytearray(8 * MiB)
    writes = []
    for i in range(64):
        off = rng.randrange(8 * MiB - 70000)
        data = bytes([i + 1]) * rng.randrange(1, 70000)
        model[off : off + len(data)] = data
        writes.append((off, data))

    async def all_writes() -> None:
        # one after another in submission order per object, all in flight together
        await asyncio.gather(*(img.write(d, o) for o, d in writes))

    try:
        env.run(all_writes())
        assert env.run(img.read(0, 8 * MiB)) == bytes(model)
        # the same against a clone: copy-ups keep the order too
        env.run(img.create_snap("base"))
        env.run(clone(io, "q", "base", io, "qc", clone_format=2))
        kid = env.run(open_image(io, "qc"))
        kid_model = bytearray(model)
        kid_writes = []
        for i in range(48):
            off = rng.randrange(8 * MiB - 70000)
            data = bytes([100 + i]) * rng.randrange(1, 70000)
            kid_model[off : off + len(data)] = data
            kid_writes.append((off, data))

        async def kid_all() -> None:
            await asyncio.gather(*(kid.write(d, o) for o, d in kid_writes))

        env.run(kid_all())
        assert env.run(kid.read(0, 8 * MiB)) == bytes(kid_model)
        env.run(kid.close())
        env.run(pool.remove(io, "qc"))
        env.run(img.remove_snap("base"))
        seen: list[tuple[int, int]] = []
        env.run(img.resize(MiB, progress=lambda d, t: seen.append((d, t))))
        assert seen and seen[-1][0] == seen[-1][1]
        assert env.run(img.read(0, MiB)) == bytes(model[:MiB])
    finally:
        env.run(img.close())


def test_open_modes(env: Env) -> None:
    """A snapshot open watches the header and may go back to the head; a read-only open
    does not watch and cannot write; unknown snapshots and ids are ENOENT."""
    io = env.ioctx
    image_id = env.run(create(io, "m", MiB, order=20, features=1))
    img = env.run(open_image(io, "m"))
    env.run(img.create_snap("s"))
    at_snap = env.run(open_image(io, "m", snapshot="s"))
    ro = env.run(open_image(io, image_id=image_id, read_only=True))
    try:
        assert ro.name == "m"
        assert len(env.run(img.watchers_list())) == 2  # img and at_snap
        assert _errno(env, at_snap.write(b"x", 0)) == errno.EROFS
        env.run(at_snap.set_snap(None))
        env.run(at_snap.write(b"x", 0))
        assert _errno(env, ro.write(b"y", 0)) == errno.EROFS
        assert _errno(env, ro.resize(10)) == errno.EROFS
        assert env.run(ro.read(0, 1)) == b"x"
        assert _errno(env, open_image(io, "m", snapshot="nope")) == errno.ENOENT
        assert _errno(env, open_image(io, image_id="feedbeef")) == errno.ENOENT
        assert _errno(env, open_image(io)) == errno.EINVAL
        env.run(img.close())
        assert _errno(env, img.read(0, 1)) == errno.EINVAL  # closed
    finally:
        env.run(at_snap.close())
        env.run(ro.close())
        env.run(img.close())


def test_deep_copy_of_clone_keeps_parent(env: Env) -> None:
    io = env.ioctx
    env.run(create(io, "dp", 2 * MiB, order=20, features=1))
    p = env.run(open_image(io, "dp"))
    env.run(p.write(b"P" * MiB, 0))
    env.run(p.create_snap("s"))
    env.run(clone(io, "dp", "s", io, "dc", clone_format=2))
    c = env.run(open_image(io, "dc"))
    env.run(c.write(b"C" * 10, 100))
    env.run(c.deep_copy(io, "dcc"))
    env.run(c.close())
    d = env.run(open_image(io, "dcc"))
    try:
        assert env.run(d.parent_info())[1:] == ("dp", "s")
        assert env.run(d.read(0, 200)) == b"P" * 100 + b"C" * 10 + b"P" * 90
        names = sorted(k["image"] for k in env.run(p.list_children2()))
        assert names == ["dc", "dcc"]
        # only the child's own object was copied; the rest reads through to the parent
        assert [o for o in env.objects() if o.startswith(f"rbd_data.{d.id}")] == [d.data_oid(0)]
    finally:
        env.run(d.close())
        env.run(p.close())


def test_bad_input_changes_nothing(env: Env) -> None:
    io = env.ioctx
    assert _errno(env, create(io, "huge", 2**63, order=22)) == errno.EINVAL  # object map
    assert env.run(pool.list_images(io)) == []
    env.run(create(io, "b", MiB, order=20, features=1))
    img = env.run(open_image(io, "b"))
    try:
        assert _errno(env, img.remove_snap("nope")) == errno.ENOENT
        assert _errno(env, img.set_snap("nope")) == errno.ENOENT
        assert _errno(env, img.rename_snap("nope", "x")) == errno.ENOENT
        assert _errno(env, img.flatten()) == errno.EINVAL
        assert env.run(img.overlap()) == 0  # no parent (ImageCtx::get_parent_overlap)
        env.run(img.create_snap("s"))
        env.run(img.create_snap("t"))
        assert _errno(env, img.rename_snap("s", "t")) == errno.EEXIST
        env.run(img.protect_snap("s"))
        assert _errno(env, img.protect_snap("s")) == errno.EBUSY
        assert _errno(env, clone(io, "b", "nope", io, "k")) == errno.ENOENT
        assert _errno(env, clone(io, "missing", "s", io, "k")) == errno.ENOENT
        assert _errno(env, clone(io, "b", "s", io, "b", clone_format=1)) == errno.EEXIST
        no_layering = clone(io, "b", "s", io, "k", features=4, clone_format=1)
        assert _errno(env, no_layering) == errno.ENOSYS  # CloneRequest::validate_child
        bad_order = clone(io, "b", "s", io, "k", features=1, order=19)  # parent's stripe unit
        assert _errno(env, bad_order) == errno.EINVAL
        assert env.run(img.list_children2()) == []
        assert env.run(pool.list_images(io)) == ["b"]
        env.run(img.set_snap("s"))
        assert _errno(env, img.resize(10)) == errno.EROFS
        assert _errno(env, img.create_snap("u")) == errno.EROFS
        env.run(img.set_snap(None))
        assert _errno(env, pool.rename(io, "b", "b")) == errno.EEXIST
        assert [s["name"] for s in env.run(img.list_snaps())] == ["s", "t"]
        assert env.run(img.size()) == MiB
    finally:
        env.run(img.close())


def test_odd_snapshot_names_and_failed_rename(env: Env) -> None:
    """librbd takes any snapshot name ("" and "a/b"; name checks are the rbd tool's), and
    a rename to "" fails in the directory after writing the new id object, which stays
    (operation::RenameRequest): removing "" then finds the image and its snapshots."""
    io = env.ioctx
    env.run(create(io, "img", MiB, order=20, features=1))
    img = env.run(open_image(io, "img"))
    try:
        for name in ("", "a@b", "a/b"):
            env.run(img.create_snap(name))
        assert [s["name"] for s in env.run(img.list_snaps())] == ["", "a@b", "a/b"]
    finally:
        env.run(img.close())
    assert _errno(env, pool.rename(io, "img", "")) == errno.EINVAL
    assert env.run(pool.list_images(io)) == ["img"]
    assert _errno(env, pool.remove(io, "")) == errno.ENOTEMPTY
    assert _errno(env, pool.remove(io, "missing")) == errno.ENOENT
    assert env.run(pool.list_images(io)) == ["img"]


def test_snap_limit_and_timestamps(env: Env) -> None:
    import time

    io = env.ioctx
    env.run(create(io, "lim", MiB, order=20, features=1))
    img = env.run(open_image(io, "lim"))
    try:
        assert env.run(img.get_snap_limit()) == 2**64 - 1
        env.run(img.set_snap_limit(1))
        assert env.run(img.get_snap_limit()) == 1
        before = time.time()
        sid = env.run(img.create_snap("one"))
        assert _errno(env, img.create_snap("two")) == errno.EDQUOT
        env.run(img.remove_snap_limit())
        env.run(img.create_snap("two"))
        ts = env.run(img.get_snap_timestamp(sid))
        assert before - 2 <= ts <= time.time() + 2
        assert env.run(img.create_timestamp()) <= ts
        env.run(img.protect_snap("one"))
        env.run(img.remove_snap("one", flags=1))  # RBD_SNAP_REMOVE_UNPROTECT
        assert [s["name"] for s in env.run(img.list_snaps())] == ["two"]
        assert env.run(img.snap_get_name(env.run(img.snap_get_id("two")))) == "two"
        assert env.run(img.snap_get_namespace_type(env.run(img.snap_get_id("two")))) == 0
    finally:
        env.run(img.close())


def test_remove_snap_flatten_flag(env: Env) -> None:
    io = env.ioctx
    env.run(create(io, "fp", MiB, order=20, features=1))
    p = env.run(open_image(io, "fp"))
    try:
        env.run(p.write(b"parent", 0))
        env.run(p.create_snap("s"))
        env.run(p.protect_snap("s"))
        env.run(clone(io, "fp", "s", io, "fk", clone_format=1))
        assert _errno(env, p.remove_snap("s", flags=1)) == errno.EBUSY  # children
        env.run(p.remove_snap("s", flags=3))  # RBD_SNAP_REMOVE_FORCE: flatten, unprotect
        assert env.run(p.list_snaps()) == []
        k = env.run(open_image(io, "fk"))
        assert env.run(k.read(0, 6)) == b"parent"
        assert env.run(k.overlap()) == 0
        env.run(k.close())
    finally:
        env.run(p.close())


@pytest.mark.parametrize("features", [1, 1 | 32])  # layering; layering + deep-flatten
def test_clone_snapshots_across_flatten(env: Env, features: int) -> None:
    """A clone's snapshot reads the parent's data before and after the clone's own
    writes; with deep-flatten it keeps reading it after a flatten, which then detaches
    the clone from the parent completely."""
    io = env.ioctx
    env.run(create(io, "sp", 2 * MiB, order=20, features=1))
    p = env.run(open_image(io, "sp"))
    env.run(p.write(b"P" * (2 * MiB), 0))
    env.run(p.create_snap("s"))
    env.run(clone(io, "sp", "s", io, "sc", clone_format=2, features=features))
    c = env.run(open_image(io, "sc"))
    try:
        env.run(c.create_snap("cs"))
        env.run(c.write(b"C" * 10, 5))  # copy-up of object 0 after the snapshot
        env.run(c.flatten())
        assert env.run(c.read(0, 20)) == b"P" * 5 + b"C" * 10 + b"P" * 5
        env.run(c.set_snap("cs"))
        assert env.run(c.read(0, 20)) == b"P" * 20
        assert env.run(c.read(MiB, 20)) == b"P" * 20
        env.run(c.set_snap(None))
        kids = env.run(p.list_children2())
        assert (kids == []) == bool(features & 32)
    finally:
        env.run(c.close())
        env.run(p.close())


def test_write_around_acknowledges_at_once_and_reads_snapshots_and_close_see_it(
    env: Env,
) -> None:
    """librbd's default cache (rbd_cache_policy = writearound): writes go through until
    the first flush, then are acknowledged while still in flight; a read, a snapshot
    and close wait for them, and a flush leaves them on the OSDs."""
    env.run(create(env.ioctx, "wa", 2 * MiB, order=20, features=1))
    img = env.run(open_image(env.ioctx, "wa"))
    prefix = img.state.object_prefix

    def raw(objectno: int, off: int, n: int) -> bytes:
        return env.run(env.ioctx.read(f"{prefix}.{objectno:016x}", n, off))

    try:
        env.run(img.write(b"t" * 4096, 0))  # before any flush: through the OSDs
        assert img.write_around.in_flight_bytes == 0 and raw(0, 0, 4096) == b"t" * 4096
        env.run(img.flush())
        assert img.write_around.active

        async def write_then(after: Any) -> tuple[int, Any]:
            await img.write(b"a" * 4096, 8192)
            acked_in_flight = img.write_around.in_flight_bytes
            return acked_in_flight, await after

        in_flight, data = env.run(write_then(img.read(8192, 4096)))
        assert in_flight == 4096 and data == b"a" * 4096
        in_flight, _ = env.run(write_then(img.create_snap("s")))
        assert in_flight == 4096
        env.run(img.set_snap("s"))
        assert env.run(img.read(8192, 4096)) == b"a" * 4096
        env.run(img.set_snap(None))

        async def writes_then_flush() -> None:
            await asyncio.gather(*(img.write(bytes([i]) * 4096, i * MiB // 4) for i in range(8)))
            await img.flush()

        env.run(writes_then_flush())
        assert img.write_around.in_flight_bytes == 0
        assert [raw(i * MiB // 4 // MiB, i * MiB // 4 % MiB, 1) for i in range(8)] == [
            bytes([i]) for i in range(8)
        ]
        env.run(write_then(asyncio.sleep(0)))
    finally:
        env.run(img.close())
    assert raw(0, 8192, 4096) == b"a" * 4096  # close waited for the last write


def test_write_around_off_without_the_cache_or_with_fua(env: Env) -> None:
    env.run(create(env.ioctx, "wt", MiB, order=20, features=1))
    img = env.run(open_image(env.ioctx, "wt"))
    try:
        env.run(img.flush())
        env.run(img.write(b"f" * 512, 0, OP_FLAG_FADVISE_FUA))  # force unit access
        assert img.write_around.in_flight_bytes == 0
        img.write_around = WriteAround(0, writethrough_until_flush=False)  # rbd_cache off
        env.run(img.flush())
        env.run(img.write(b"w" * 512, 0))
        assert img.write_around.in_flight_bytes == 0
    finally:
        env.run(img.close())
