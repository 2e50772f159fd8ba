"""cls ``rbd`` through a real OSD (embedded cluster) with the async `cls_client`: upstream's
object layout as ``rados ls`` / ``listomapvals`` see it, errnos as `CephError`, and the
``sparse_read`` op the rbd engine uses."""

from __future__ import annotations

import errno
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import rados
from pyceph.client.ioctx import IoCtx, SnapContext
from pyceph.client.op import ObjectOp
from pyceph.cls.rbd_mirror_types import MirrorImage, MirrorImageSiteStatus
from pyceph.cls.rbd_types import (
    ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ,
    ASSERT_SNAPC_SEQ_LE_SNAPSET_SEQ,
    CEPH_NOSNAP,
    OBJECT_EXISTS,
    OBJECT_NONEXISTENT,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_LAYERING,
    RBD_PROTECTION_STATUS_PROTECTED,
    ChildImageSpec,
    ParentImageSpec,
    TrashImageSpec,
    UserSnapshotNamespace,
)
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client as cls
from rados import _core as rados_core

FEATURES = RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK


class Env:
    """One test's view: the module's pool, in a namespace of its own."""

    def __init__(self, r: rados.Rados, pool_id: int) -> None:
        self.r = r
        self.pool_id = pool_id
        self.ioctx = IoCtx(rados_core.core_client(r), pool_id, nspace=f"t{uuid.uuid4().hex[:8]}")

    def run(self, coro: Any) -> Any:
        return rados_core.run(self.r, coro)  # raises the CephError itself

    def errno_of(self, coro: Any) -> int:
        with pytest.raises(CephError) as ei:
            self.run(coro)
        return ei.value.errno

    def omap(self, oid: str) -> dict[str, bytes]:
        return self.run(self.ioctx.omap_get_vals(oid))[0]

    def objects(self) -> set[str]:
        async def ls() -> set[str]:
            return {oid async for _, oid, _ in self.ioctx.list_objects()}

        return self.run(ls())


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        yield r


@pytest.fixture(scope="module")
def pool_id(cluster: rados.Rados) -> int:
    name = f"clsrbd-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(name)
    return cluster.pool_lookup(name)


@pytest.fixture
def env(cluster: rados.Rados, pool_id: int) -> Env:
    return Env(cluster, pool_id)


def make_image(env: Env, name: str, image_id: str, size: int = 8 << 20) -> str:
    """What librbd's create does with the class: id object, directory, header."""
    io = env.ioctx
    op = ObjectOp()
    op.create(exclusive=True)
    cls.set_id_op(op, image_id)
    env.run(io.operate(f"rbd_id.{name}", op))
    env.run(cls.dir_add_image(io, "rbd_directory", name, image_id))
    header = f"rbd_header.{image_id}"
    env.run(cls.create_image(io, header, size, 22, FEATURES, f"rbd_data.{image_id}", -1))
    return header


def test_image_layout_on_the_osd(env: Env) -> None:
    io = env.ioctx
    header = make_image(env, "img", "10ab2c")
    assert {"rbd_id.img", "rbd_directory", header} <= env.objects()
    # rados get rbd_id.img: the encoded id (u32 length + bytes)
    assert env.run(io.read("rbd_id.img", 100)) == b"\x06\x00\x00\x00" + b"10ab2c"
    assert env.omap("rbd_directory") == {
        "id_10ab2c": b"\x03\x00\x00\x00img",
        "name_img": b"\x06\x00\x00\x0010ab2c",
    }
    omap = env.omap(header)
    assert sorted(omap) == [
        "access_timestamp", "create_timestamp", "features", "modify_timestamp",
        "object_prefix", "order", "size", "snap_seq",
    ]  # fmt: skip
    assert omap["size"] == struct.pack("<Q", 8 << 20) and omap["order"] == b"\x16"
    assert omap["object_prefix"] == b"\x0f\x00\x00\x00rbd_data.10ab2c"
    assert env.run(cls.get_id(io, "rbd_id.img")) == "10ab2c"
    assert env.run(cls.dir_get_id(io, "rbd_directory", "img")) == "10ab2c"
    assert env.run(cls.dir_get_name(io, "rbd_directory", "10ab2c")) == "img"
    assert env.run(cls.dir_list(io, "rbd_directory")) == {"img": "10ab2c"}
    assert env.run(cls.get_size(io, header)) == (8 << 20, 22)
    assert env.run(cls.get_features(io, header, False)) == (FEATURES, FEATURES)
    assert env.run(cls.get_features(io, header, True)) == (FEATURES, RBD_FEATURE_LAYERING)
    assert env.run(cls.get_object_prefix(io, header)) == "rbd_data.10ab2c"
    assert env.run(cls.get_data_pool(io, header)) == -1
    ts = env.run(cls.get_create_timestamp(io, header))
    assert ts[0] > 1_600_000_000 and ts == env.run(cls.get_modify_timestamp(io, header))


def test_errnos_through_the_osd(env: Env) -> None:
    io = env.ioctx
    header = make_image(env, "img", "abc")
    assert env.errno_of(cls.create_image(io, header, 1, 22, 1, "rbd_data.abc")) == errno.EEXIST
    assert env.errno_of(cls.dir_add_image(io, "rbd_directory", "img", "zzz")) == errno.EEXIST
    assert env.errno_of(cls.dir_add_image(io, "rbd_directory", "b", "abc")) == errno.EBADF
    assert env.errno_of(cls.dir_remove_image(io, "rbd_directory", "img", "x")) == errno.ENOENT
    assert env.errno_of(cls.get_size(io, "rbd_header.missing")) == errno.ENOENT
    assert env.errno_of(cls.set_id(io, "rbd_id.img", "other")) == errno.EEXIST
    assert env.errno_of(cls.set_id(io, "rbd_id.none", "abc")) == errno.ENOENT
    assert env.errno_of(cls.set_features(io, header, 1, 1)) == errno.EINVAL
    assert env.errno_of(cls.get_stripe_unit_count(io, header)) == errno.ENOEXEC
    assert env.errno_of(cls.metadata_get(io, header, "nope")) == errno.ENOENT
    # malformed input reaches the class and is EINVAL; nothing changes
    before = env.omap(header)
    assert env.errno_of(io.execute(header, "rbd", "set_size", b"\x01")) == errno.EINVAL
    assert env.errno_of(io.execute(header, "rbd", "no_such_method", b"")) == errno.EOPNOTSUPP
    assert env.omap(header) == before
    # the directory rename is atomic
    env.run(cls.dir_rename_image(io, "rbd_directory", "img", "img2", "abc"))
    assert env.run(cls.dir_list(io, "rbd_directory")) == {"img2": "abc"}


def test_snapshots_and_protection(env: Env) -> None:
    io = env.ioctx
    header = make_image(env, "img", "abc")
    snap_id = env.run(io.selfmanaged_snap_create())
    env.run(cls.snapshot_add(io, header, snap_id, "s1", UserSnapshotNamespace()))
    assert f"snapshot_{snap_id:016x}" in env.omap(header)
    snapc = env.run(cls.get_snapcontext(io, header))
    assert snapc == SnapContext(snap_id, (snap_id,))
    info = env.run(cls.snapshot_get(io, header, snap_id))
    assert (info.id, info.name, info.image_size, info.child_count) == (snap_id, "s1", 8 << 20, 0)
    assert env.errno_of(cls.snapshot_add(io, header, snap_id + 1, "s1")) == errno.EEXIST
    assert env.errno_of(cls.snapshot_add(io, header, snap_id - 1, "s0")) == errno.ESTALE
    env.run(cls.snapshot_set_limit(io, header, 1))
    assert env.run(cls.snapshot_get_limit(io, header)) == 1
    assert env.errno_of(cls.snapshot_add(io, header, snap_id + 1, "s2")) == errno.EDQUOT
    env.run(cls.snapshot_set_limit(io, header, (1 << 64) - 1))
    env.run(cls.set_protection_status(io, header, snap_id, RBD_PROTECTION_STATUS_PROTECTED))
    assert env.run(cls.get_protection_status(io, header, snap_id)) == 2
    assert env.errno_of(cls.snapshot_remove(io, header, snap_id)) == errno.EBUSY
    assert env.errno_of(cls.get_protection_status(io, header, CEPH_NOSNAP)) == errno.EINVAL
    env.run(cls.set_protection_status(io, header, snap_id, 0))
    env.run(cls.snapshot_rename(io, header, snap_id, "renamed"))
    assert env.run(cls.get_snapshot_name(io, header, snap_id)) == "renamed"
    env.run(cls.snapshot_remove(io, header, snap_id))
    assert env.run(cls.get_snapcontext(io, header)) == SnapContext(snap_id, ())


def test_clone_links(env: Env) -> None:
    io = env.ioctx
    parent_hdr = make_image(env, "parent", "p1")
    child_hdr = make_image(env, "child", "c1", size=4 << 20)
    env.run(cls.snapshot_add(io, parent_hdr, 5, "base"))
    spec = ParentImageSpec(env.pool_id, "", "p1", 5)
    env.run(cls.parent_attach(io, child_hdr, spec, 8 << 20))
    assert env.run(cls.parent_get(io, child_hdr)) == spec
    assert env.run(cls.parent_overlap_get(io, child_hdr, CEPH_NOSNAP)) == 4 << 20
    assert env.run(cls.get_parent(io, child_hdr)) == (spec, 4 << 20)
    assert env.errno_of(cls.parent_attach(io, child_hdr, spec, 1)) == errno.EEXIST
    child = ChildImageSpec(env.pool_id, "", "c1")
    env.run(cls.child_attach(io, parent_hdr, 5, child))
    assert env.run(cls.children_list(io, parent_hdr, 5)) == [child]
    assert env.run(cls.op_features_get(io, parent_hdr)) == 1  # clone-parent
    assert env.errno_of(cls.child_attach(io, parent_hdr, 5, child)) == errno.EEXIST
    env.run(cls.add_child(io, "rbd_children", spec, "c1"))
    assert env.run(cls.get_children(io, "rbd_children", spec)) == {"c1"}
    env.run(cls.remove_child(io, "rbd_children", spec, "c1"))
    assert env.errno_of(cls.get_children(io, "rbd_children", spec)) == errno.ENOENT
    env.run(cls.child_detach(io, parent_hdr, 5, child))
    assert env.errno_of(cls.children_list(io, parent_hdr, 5)) == errno.ENOENT
    env.run(cls.parent_detach(io, child_hdr))
    assert env.run(cls.parent_get(io, child_hdr)).pool_id == -1
    assert env.errno_of(cls.parent_detach(io, child_hdr)) == errno.ENOENT


def test_metadata_flags_and_trash(env: Env) -> None:
    io = env.ioctx
    header = make_image(env, "img", "abc")
    env.run(cls.metadata_set(io, header, {"conf_rbd_cache": "false", "k": b"v"}))
    assert env.omap(header)["metadata_k"] == b"v"
    assert env.run(cls.metadata_get(io, header, "conf_rbd_cache")) == "false"
    assert env.run(cls.metadata_list(io, header, "", 0)) == {
        "conf_rbd_cache": b"false",
        "k": b"v",
    }
    env.run(cls.metadata_remove(io, header, "k"))
    assert env.run(cls.metadata_list(io, header)) == {"conf_rbd_cache": b"false"}
    env.run(cls.set_flags(io, header, CEPH_NOSNAP, 1, 1))
    assert env.run(cls.get_flags(io, header)) == 1
    spec = TrashImageSpec(name="img", deletion_time=(100, 0), deferment_end_time=(200, 0))
    env.run(cls.trash_add(io, "rbd_trash", "abc", spec))
    assert env.run(cls.trash_get(io, "rbd_trash", "abc")) == spec
    assert env.run(cls.trash_list(io, "rbd_trash")) == {"abc": spec}
    assert env.errno_of(cls.trash_add(io, "rbd_trash", "abc", spec)) == errno.EEXIST
    env.run(cls.trash_remove(io, "rbd_trash", "abc"))
    assert env.run(cls.trash_list(io, "rbd_trash")) == {}
    env.run(cls.namespace_add(io, "rbd_namespace", "ns1"))
    assert env.run(cls.namespace_list(io, "rbd_namespace")) == ["ns1"]
    assert env.errno_of(cls.namespace_add(io, "rbd_namespace", "ns1")) == errno.EEXIST


def test_object_map_and_copyup(env: Env) -> None:
    io = env.ioctx
    oid = "rbd_object_map.abc"
    env.run(cls.object_map_resize(io, oid, 10, OBJECT_NONEXISTENT))
    env.run(cls.object_map_update(io, oid, 2, 4, OBJECT_EXISTS, None))
    bv = env.run(cls.object_map_load(io, oid))
    assert bv.states() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0]
    assert env.errno_of(cls.object_map_update(io, oid, 9, 11, OBJECT_EXISTS)) == errno.ERANGE
    env.run(cls.object_map_snap_add(io, oid))
    assert env.run(cls.object_map_load(io, oid)).states()[2] == 3
    # copyup writes only into a missing object
    env.run(cls.copyup(io, "rbd_data.abc.0000000000000000", b"parent"))
    env.run(cls.copyup(io, "rbd_data.abc.0000000000000000", b"other!"))
    assert env.run(io.read("rbd_data.abc.0000000000000000", 100)) == b"parent"
    env.run(cls.sparse_copyup(io, "rbd_data.abc.0000000000000001", {0: 2, 8192: 3}, b"abxyz"))
    obj = "rbd_data.abc.0000000000000001"
    assert env.run(io.read(obj, 9000)) == b"ab" + bytes(8190) + b"xyz"


def test_sparse_read_and_assert_snapc_seq(env: Env) -> None:
    io = env.ioctx
    oid = "rbd_data.abc.0000000000000002"
    env.run(io.write(oid, b"a" * 100, 0))
    env.run(io.write(oid, b"b" * 5000, 20000))
    op = ObjectOp()
    i = op.sparse_read(0, 0)
    res = env.run(io.operate(oid, op))
    # the allocated 4 KiB blocks touched by the writes, clipped to the object's data
    assert res.outs[i].fields["extents"] == [[0, 4096], [16384, 8616]]
    data = res.outs[i].data
    assert data[:100] == b"a" * 100 and data[100:4096] == bytes(3996)
    assert data[4096 + 3616 :] == b"b" * 5000
    op = ObjectOp()
    i = op.sparse_read(50, 20100)
    res = env.run(io.operate(oid, op))
    assert res.outs[i].fields["extents"] == [[50, 4046], [16384, 3766]]
    # assert_snapc_seq against the object's SnapSet seq
    env.run(cls.assert_snapc_seq(io, oid, 1, ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ))
    snap = env.run(io.selfmanaged_snap_create())
    env.run(io.copy(snapc=SnapContext(snap, (snap,))).write(oid, b"c", 0))
    assert env.errno_of(cls.assert_snapc_seq(io, oid, snap, ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ)) == (
        errno.ERANGE
    )
    env.run(cls.assert_snapc_seq(io, oid, snap, ASSERT_SNAPC_SEQ_LE_SNAPSET_SEQ))
    env.run(cls.assert_snapc_seq(io, oid, snap + 1, ASSERT_SNAPC_SEQ_GT_SNAPSET_SEQ))
    with pytest.raises(CephError) as ei:
        op = ObjectOp()
        op.sparse_read(0, 10)
        env.run(io.operate("rbd_data.missing", op))
    assert ei.value.errno == errno.ENOENT


def _payload(build: Any) -> bytes:
    op = ObjectOp()
    build(op)
    name, args, data = op.ops[-1]
    assert name == "call" and args["cls"] == "rbd"
    return bytes(data)


def test_client_encodings_match_upstream() -> None:
    # cls_client::create_image: size u64, order u8, features u64, object_prefix, pool i64
    assert _payload(lambda op: cls.create_image_op(op, 1 << 30, 22, 1, "rbd_data.a", -1)) == (
        struct.pack("<QBQ", 1 << 30, 22, 1) + b"\x0a\x00\x00\x00rbd_data.a" + b"\xff" * 8
    )
    # snapshot_add: name, id, SnapshotNamespace (ENCODE_START(1,1){u32 0} for user)
    assert _payload(lambda op: cls.snapshot_add_op(op, 7, "s")) == (
        b"\x01\x00\x00\x00s" + struct.pack("<Q", 7) + b"\x01\x01\x04\x00\x00\x00" + bytes(4)
    )
    # set_flags: flags, mask, snap id
    assert _payload(lambda op: cls.set_flags_op(op, CEPH_NOSNAP, 1, 3)) == struct.pack(
        "<QQQ", 1, 3, CEPH_NOSNAP
    )
    # object_map_update: start, end, new state u8, boost::optional<u8> current state
    assert _payload(lambda op: cls.object_map_update_op(op, 1, 2, 1, 3)) == (
        struct.pack("<QQB", 1, 2, 1) + b"\x01\x03"
    )
    assert _payload(lambda op: cls.object_map_update_op(op, 1, 2, 1)) == (
        struct.pack("<QQB", 1, 2, 1) + b"\x00"
    )
    # sparse_copyup: map<u64,u64> in key order, bufferlist data
    assert _payload(lambda op: cls.sparse_copyup_op(op, {8: 1, 0: 2}, b"abc")) == (
        struct.pack("<IQQQQ", 2, 0, 2, 8, 1) + b"\x03\x00\x00\x00abc"
    )
    # assert_snapc_seq: snapc seq u64, state u8
    assert _payload(lambda op: cls.assert_snapc_seq_op(op, 9, ASSERT_SNAPC_SEQ_LE_SNAPSET_SEQ)) == (
        struct.pack("<QB", 9, 1)
    )
    # parent_attach: ParentImageSpec, overlap u64, reattach bool
    spec = ParentImageSpec(3, "", "pi", 4)
    body = struct.pack("<q", 3) + bytes(4) + b"\x02\x00\x00\x00pi" + struct.pack("<Q", 4)
    assert _payload(lambda op: cls.parent_attach_op(op, spec, 100, False)) == (
        b"\x01\x01" + struct.pack("<I", len(body)) + body + struct.pack("<Q", 100) + b"\x00"
    )
    # metadata_set: map<string, bufferlist>
    assert _payload(lambda op: cls.metadata_set_op(op, {"b": b"2", "a": "1"})) == (
        b"\x02\x00\x00\x00" + b"\x01\x00\x00\x00a\x01\x00\x00\x001"
        + b"\x01\x00\x00\x00b\x01\x00\x00\x002"
    )  # fmt: skip


def test_corrupt_stored_values_are_eio_and_bad_replies_ebadmsg(env: Env) -> None:
    # the client's *_finish: an answer that does not decode is EBADMSG
    with pytest.raises(CephError) as ei:
        cls._decode(b"\x05\x00", lambda d: d.string(), "get_object_prefix")
    assert ei.value.errno == errno.EBADMSG
    io = env.ioctx
    env.run(io.write_full("rbd_id.bad", b"\x01"))  # not an encoded string
    assert env.errno_of(cls.get_id(io, "rbd_id.bad")) == errno.EIO  # the class says EIO
    env.run(io.omap_set("rbd_header.x", {"object_prefix": b"\xff\xff\xff\xff"}))
    assert env.errno_of(cls.get_object_prefix(io, "rbd_header.x")) == errno.EIO


def test_batched_header_reads_in_one_op(env: Env) -> None:
    io = env.ioctx
    header = make_image(env, "img", "abc")
    env.run(cls.metadata_set(io, header, {"a": b"1"}))
    op = ObjectOp()
    i_size = cls.get_size_start(op)
    i_feat = cls.get_features_start(op, True)
    i_prefix = cls.get_object_prefix_start(op)
    i_snapc = cls.get_snapcontext_start(op)
    i_parent = cls.parent_get_start(op)
    i_meta = cls.metadata_list_start(op)
    res = env.run(io.operate(header, op))
    assert cls.get_size_finish(res.outs[i_size].data) == (8 << 20, 22)
    assert cls.get_features_finish(res.outs[i_feat].data) == (FEATURES, RBD_FEATURE_LAYERING)
    assert cls.get_object_prefix_finish(res.outs[i_prefix].data) == "rbd_data.abc"
    assert cls.get_snapcontext_finish(res.outs[i_snapc].data) == SnapContext(0, ())
    assert cls.parent_get_finish(res.outs[i_parent].data).pool_id == -1
    assert cls.metadata_list_finish(res.outs[i_meta].data) == {"a": b"1"}


def test_mirror_status_is_up_while_its_client_watches(env: Env) -> None:
    io = env.ioctx
    oid = "rbd_mirroring"
    env.run(cls.mirror_uuid_set(io, oid, "local-uuid"))
    env.run(cls.mirror_mode_set(io, oid, 2))
    env.run(cls.mirror_image_set(io, oid, "img1", MirrorImage(1, "gid1", 1)))
    handle = env.run(io.watch(oid, lambda *a: None))
    try:
        env.run(cls.mirror_image_status_set(io, oid, "gid1", MirrorImageSiteStatus(state=4)))
        st = env.run(cls.mirror_image_status_get(io, oid, "gid1"))
        assert [(s.mirror_uuid, s.state, s.up) for s in st.mirror_image_site_statuses] == [
            ("", 4, True)
        ]
        assert env.run(cls.mirror_image_status_get_summary(io, oid)) == {4: 1}
        me = env.run(cls.mirror_image_instance_get(io, oid, "gid1"))
        assert me == f"client.{io.client.instance_id}"
        env.run(cls.mirror_image_status_remove_down(io, oid))
        assert env.run(cls.mirror_image_status_list(io, oid))[1]["img1"] == st
    finally:
        env.run(io.unwatch(handle))
    st = env.run(cls.mirror_image_status_get(io, oid, "gid1"))
    assert not st.mirror_image_site_statuses[0].up
    assert env.errno_of(cls.mirror_image_instance_get(io, oid, "gid1")) == errno.ESTALE
    env.run(cls.mirror_image_status_remove_down(io, oid))
    assert env.errno_of(cls.mirror_image_status_get(io, oid, "gid1")) == errno.ENOENT
