"""The rbd engine's other operations on an embedded cluster: discard/writesame/
compare-and-write, data pools (EC with overwrites), diff_iterate, copy and deep copy,
advisory locks, metadata, watchers, features, sparsify, rename, pool metadata."""

from __future__ import annotations

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
from pyceph.rbdlib.io import CompareMismatch
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

    def objects(self, ioctx: IoCtx | None = None) -> set[str]:
        io = ioctx or self.ioctx

        async def ls() -> set[str]:
            return {oid async for _, oid, _ in io.list_objects()}

        return self.run(ls())

    def err(self, coro: Any) -> int:
        with pytest.raises(CephError) as ei:
            self.run(coro)
        return ei.value.errno


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


def _open(env: Env, name: str, size: int = 4 * MiB, **kw: Any) -> Any:
    kw.setdefault("features", 1)
    kw.setdefault("order", 20)
    env.run(create(env.ioctx, name, size, **kw))
    return env.run(open_image(env.ioctx, name))


def test_discard_writesame_compare(env: Env) -> None:
    img = _open(env, "d")
    try:
        env.run(img.write(b"z" * (3 * MiB), 0))
        # partial discards below the granularity are skipped, as upstream by default
        env.run(img.discard(100, 1000))
        assert env.run(img.read(100, 1000)) == b"z" * 1000
        env.run(img.discard(MiB, MiB))  # a whole object goes away
        assert env.run(img.read(MiB, MiB)) == b"\0" * MiB
        assert img.data_oid(1) not in env.objects()
        env.run(img.write_zeroes(10, 20))
        assert env.run(img.read(0, 40)) == b"z" * 10 + b"\0" * 20 + b"z" * 10
        env.run(img.writesame(2 * MiB, 4096, b"ab"))
        assert env.run(img.read(2 * MiB, 4096)) == b"ab" * 2048
        assert env.err(img.writesame(0, 4095, b"ab")) == errno.EINVAL
        env.run(img.compare_and_write(b"ab" * 4, b"12345678", 2 * MiB))
        assert env.run(img.read(2 * MiB, 10)) == b"12345678ab"
        with pytest.raises(CompareMismatch) as ei:
            env.run(img.compare_and_write(b"12340000", b"xxxxxxxx", 2 * MiB))
        assert ei.value.errno == errno.EILSEQ and ei.value.mismatch_offset == 2 * MiB + 4
        assert env.run(img.read(2 * MiB, 8)) == b"12345678"
        # crossing a 512-byte sector is refused
        assert env.err(img.compare_and_write(b"a" * 8, b"b" * 8, 508)) == errno.EINVAL
    finally:
        env.run(img.close())


def test_data_pool_and_ec(env: Env) -> None:
    r = env.r
    dp = f"{env.pool_name}-data"
    make_pool(r, dp)
    img = _open(env, "dp", data_pool=dp)
    try:
        assert env.run(img.features()) & 128
        env.run(img.write(b"q" * 5000, MiB - 10))
        assert env.run(img.read(MiB - 10, 5000)) == b"q" * 5000
        dio = IoCtx(rados_core.core_client(r), r.pool_lookup(dp))
        assert img.block_name_prefix() == f"rbd_data.{env.ioctx.pool_id}.{img.id}"
        assert {img.data_oid(0), img.data_oid(1)} <= env.objects(dio)
        assert env.run(img.data_pool_id()) == dio.pool_id
    finally:
        env.run(img.close())
    env.run(pool.remove(env.ioctx, "dp"))
    assert env.objects(IoCtx(rados_core.core_client(r), r.pool_lookup(dp))) <= {"rbd_info"}
    # an erasure-coded data pool needs allow_ec_overwrites
    ec = f"{env.pool_name}-ec"
    for cmd in (
        {"prefix": "osd erasure-code-profile set", "name": ec,
         "profile": ["k=2", "m=1", "crush-failure-domain=osd"]},
        {"prefix": "osd pool create", "pool": ec, "pg_num": 8, "pool_type": "erasure",
         "erasure_code_profile": ec},
    ):  # fmt: skip
        ret, _, outs = r.mon_command(json.dumps(cmd), b"")
        assert ret == 0, outs
    env.run(env.ioctx.client.wait_for_latest_osdmap())
    assert env.err(create(env.ioctx, "ecimg", MiB, features=1, data_pool=ec)) == errno.EINVAL
    assert env.run(pool.list_images(env.ioctx)) == []
    cmd = {"prefix": "osd pool set", "pool": ec, "var": "allow_ec_overwrites", "val": "true"}
    ret, _, outs = r.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs
    env.run(env.ioctx.client.wait_for_latest_osdmap())
    img = _open(env, "ecimg", size=3 * MiB, data_pool=ec)
    try:
        data = bytes(range(256)) * 5000
        env.run(img.write(data, 12345))
        assert env.run(img.read(12345, len(data))) == data
    finally:
        env.run(img.close())


def test_diff_iterate(env: Env) -> None:
    # byte extents without whole_object (ObjectListSnapsRequest, as recorded from Ceph
    # 16.2.15 in tests/compat/expected/rbd_features.json): a new object [0, its size),
    # an object changed since the snapshot the ranges its clone overlap lost; with
    # whole_object the objects' whole extents; objects are reported apart
    img = _open(env, "df")
    try:
        env.run(img.write(b"a" * 10, MiB + 5))
        env.run(img.write(b"a" * 8192, 2 * MiB + 12288))
        env.run(img.create_snap("s"))
        env.run(img.write(b"b" * 10, 3 * MiB))
        seen: list[tuple[int, int, bool]] = []
        env.run(img.diff_iterate(0, 4 * MiB, None, lambda o, n, e: seen.append((o, n, e))))
        assert seen == [(MiB, 15, True), (2 * MiB, 20480, True), (3 * MiB, 10, True)]
        seen.clear()
        env.run(img.diff_iterate(0, 4 * MiB, "s", lambda o, n, e: seen.append((o, n, e))))
        assert seen == [(3 * MiB, 10, True)]
        seen.clear()
        env.run(img.diff_iterate(0, 4 * MiB, None, lambda o, n, e: seen.append((o, n, e)),
                                 whole_object=True))  # fmt: skip
        assert seen == [(MiB, MiB, True), (2 * MiB, MiB, True), (3 * MiB, MiB, True)]
        env.run(img.write(b"c", MiB + 8))  # object 1 changes after the snapshot
        env.run(img.write(b"d" * 100, 2 * MiB + 16000))  # and object 2
        seen.clear()
        env.run(img.diff_iterate(0, 4 * MiB, "s", lambda o, n, e: seen.append((o, n, e))))
        assert seen == [(MiB + 8, 1, True), (2 * MiB + 16000, 100, True), (3 * MiB, 10, True)]
        env.run(img.create_snap("t"))
        env.run(img.write(b"e" * 3, MiB + 12))
        seen.clear()  # across two clones: the union of what each step changed
        env.run(img.diff_iterate(0, 4 * MiB, "s", lambda o, n, e: seen.append((o, n, e))))
        assert seen[:2] == [(MiB + 8, 1, True), (MiB + 12, 3, True)]
        seen.clear()
        env.run(img.diff_iterate(MiB + 10, 4, "s", lambda o, n, e: seen.append((o, n, e))))
        assert seen == [(MiB + 12, 2, True)]  # clipped to the requested range
        env.run(img.set_snap("t"))  # an end snapshot: what changed from s to t only
        seen.clear()
        env.run(img.diff_iterate(0, 4 * MiB, "s", lambda o, n, e: seen.append((o, n, e))))
        assert seen == [(MiB + 8, 1, True), (2 * MiB + 16000, 100, True), (3 * MiB, 10, True)]
    finally:
        env.run(img.close())


def test_copy_and_deep_copy(env: Env) -> None:
    img = _open(env, "src")
    try:
        env.run(img.write(b"1" * 100, 0))
        env.run(img.create_snap("one"))
        env.run(img.protect_snap("one"))
        env.run(img.write(b"2" * 100, 0))
        env.run(img.metadata_set("k", "v"))
        env.run(img.copy(env.ioctx, "plain"))
        env.run(img.deep_copy(env.ioctx, "deep"))
    finally:
        env.run(img.close())
    plain = env.run(open_image(env.ioctx, "plain"))
    deep = env.run(open_image(env.ioctx, "deep"))
    try:
        assert env.run(plain.read(0, 100)) == b"2" * 100
        assert env.run(plain.list_snaps()) == []
        assert env.run(plain.metadata_list()) == [("k", "v")]
        assert [s["name"] for s in env.run(deep.list_snaps())] == ["one"]
        assert env.run(deep.is_protected_snap("one"))
        assert env.run(deep.read(0, 100)) == b"2" * 100
        env.run(deep.set_snap("one"))
        assert env.run(deep.read(0, 100)) == b"1" * 100
    finally:
        env.run(plain.close())
        env.run(deep.close())
    assert sorted(env.run(pool.list_images(env.ioctx))) == ["deep", "plain", "src"]


def test_locks_metadata_watchers(env: Env) -> None:
    img = _open(env, "l")
    try:
        assert env.run(img.list_lockers()) == []
        assert env.err(img.metadata_get("nope")) == errno.ENOENT
        env.run(img.metadata_set("a", "1"))
        assert env.run(img.metadata_get("a")) == "1"
        env.run(img.metadata_remove("a"))
        assert env.err(img.metadata_remove("a")) == errno.ENOENT
        w = env.run(img.watchers_list())
        assert len(w) == 1 and w[0]["id"] == env.ioctx.client.instance_id
        env.run(img.lock_exclusive("c1"))
        assert env.err(img.lock_exclusive("c1")) == errno.EEXIST
        lk = env.run(img.list_lockers())
        assert lk["exclusive"] is True and lk["tag"] == "" and lk["lockers"][0][1] == "c1"
        assert lk["lockers"][0][0] == f"client.{env.ioctx.client.instance_id}"
        env.run(img.unlock("c1"))
        assert env.err(img.unlock("c1")) == errno.ENOENT
        # another client's lock, broken: that client is blocklisted
        with rados.Rados(conf={"mon_host": "embedded:"}) as r2:
            io2 = IoCtx(rados_core.core_client(r2), r2.pool_lookup(env.pool_name))
            img2 = rados_core.run(r2, open_image(io2, "l"))
            rados_core.run(r2, img2.lock_shared("c2", "tag"))
            lk = env.run(img.list_lockers())
            assert lk["exclusive"] is False and lk["tag"] == "tag"
            other = lk["lockers"][0][0]
            assert other == f"client.{rados_core.core_client(r2).instance_id}"
            assert env.err(img.break_lock(other, "nope")) == errno.ENOENT
            env.run(img.break_lock(other, "c2"))
            assert env.run(img.list_lockers()) == []
            with pytest.raises(CephError) as ei:
                rados_core.run(r2, img2.write(b"x", 0))
            assert ei.value.errno == errno.ESHUTDOWN  # EBLOCKLISTED
    finally:
        env.run(img.close())


def test_feature_dependencies(env: Env) -> None:
    """Operations::update_features: object-map and fast-diff go together; a feature
    already in the requested state is EINVAL and changes nothing."""
    img = _open(env, "deps", features=1 | 4 | 8 | 16)
    try:
        assert env.err(img.update_features(0, True)) == errno.EINVAL
        env.run(img.update_features(8, False))  # object-map takes fast-diff along
        assert env.run(img.features()) == 1 | 4
        assert env.err(img.update_features(16, False)) == errno.EINVAL  # already off
        assert env.err(img.update_features(8, False)) == errno.EINVAL
        env.run(img.update_features(16, True))  # fast-diff brings object-map
        assert env.run(img.features()) == 1 | 4 | 8 | 16
        assert env.run(img.flags()) == 3
        assert env.err(img.update_features(16, True)) == errno.EINVAL  # already on
        env.run(img.update_features(16, False))  # fast-diff alone may go
        assert env.run(img.features()) == 1 | 4 | 8
        assert env.run(img.flags()) == 1
    finally:
        env.run(img.close())


def test_features_rename_pool_metadata(env: Env) -> None:
    img = _open(env, "f", features=1)
    try:
        env.run(img.update_features(4, True))  # exclusive-lock
        assert env.run(img.features()) == 5
        assert env.err(img.update_features(1, False)) == errno.EINVAL  # layering: immutable
        env.run(img.write(b"w", 3 * MiB))
        env.run(img.update_features(8, True))  # object-map (+ fast-diff): invalid until rebuilt
        assert env.run(img.features()) == 1 | 4 | 8 | 16
        assert env.run(img.flags()) == 3
        env.run(img.rebuild_object_map())
        assert env.run(img.flags()) == 0
        assert img.object_map.states() == [0, 0, 0, 1]
        assert env.err(img.update_features(4, False)) == errno.EINVAL
        env.run(img.update_features(8 | 4, False))
        assert env.run(img.features()) == 1
        env.run(img.write(b"x" * 8192 + b"\0" * 65536 + b"y", 0))
        assert env.err(img.sparsify(1000)) == errno.EINVAL
        env.run(img.sparsify(4096))
        assert env.run(img.read(8192, 65537)) == b"\0" * 65536 + b"y"
    finally:
        env.run(img.close())
    env.run(pool.rename(env.ioctx, "f", "g"))
    assert env.run(pool.list_images(env.ioctx)) == ["g"]
    assert env.err(pool.rename(env.ioctx, "f", "h")) == errno.ENOENT
    assert "rbd_id.g" in env.objects() and "rbd_id.f" not in env.objects()
    # a conf_ key must name an rbd option (PoolMetadata::set: EINVAL)
    assert env.err(pool.pool_metadata_set(env.ioctx, "conf_x", "1")) == errno.EINVAL
    env.run(pool.pool_metadata_set(env.ioctx, "conf_rbd_cache", "false"))
    assert env.run(pool.pool_metadata_list(env.ioctx)) == [("conf_rbd_cache", "false")]
    assert env.run(pool.pool_metadata_get(env.ioctx, "conf_rbd_cache")) == "false"
    env.run(pool.pool_metadata_remove(env.ioctx, "conf_rbd_cache"))
    assert env.err(pool.pool_metadata_get(env.ioctx, "conf_rbd_cache")) == errno.ENOENT
    env.run(pool.pool_init(env.ioctx, False))


def test_exclusive_lock_two_clients(env: Env) -> None:
    """The lock moves between two clients on demand; every write lands; a client gone
    with the lock held loses it to the next writer, blocklisted."""
    env.run(create(env.ioctx, "x", 4 * MiB, order=20, features=1 | 4))
    a = env.run(open_image(env.ioctx, "x"))
    r2 = rados.Rados(conf={"mon_host": "embedded:"})
    r2.connect()
    try:
        io2 = IoCtx(rados_core.core_client(r2), r2.pool_lookup(env.pool_name))
        b = rados_core.run(r2, open_image(io2, "x"))
        env.run(a.write(b"a" * 100, 0))
        assert env.run(a.is_exclusive_lock_owner())
        owners = env.run(a.lock_get_owners())
        assert len(owners) == 1 and owners[0]["mode"] == 0
        rados_core.run(r2, b.write(b"b" * 100, 50))  # asks a for the lock
        assert rados_core.run(r2, b.is_exclusive_lock_owner())
        assert not env.run(a.is_exclusive_lock_owner())
        env.run(a.write(b"A" * 10, MiB))  # and back
        assert env.run(a.read(0, 150)) == b"a" * 50 + b"b" * 100
        assert rados_core.run(r2, b.read(MiB, 10)) == b"A" * 10
        # a lock kept with lock_acquire is not handed over
        env.run(a.lock_acquire(0))
        with pytest.raises(CephError) as ei:
            rados_core.run(r2, b.write(b"z", 0))
        assert ei.value.errno == errno.EROFS
        env.run(a.lock_release())
        rados_core.run(r2, b.write(b"z", 0))
        assert env.run(a.read(0, 1)) == b"z"
        # a lock a write took is released like an acquired one; only by its owner
        assert env.err(a.lock_release()) == errno.EINVAL
        rados_core.run(r2, b.lock_release())
        assert not rados_core.run(r2, b.is_exclusive_lock_owner())
        assert env.run(a.lock_get_owners()) == []
        assert env.err(a.lock_break(0, "client.0")) == errno.ENOENT  # nobody holds it
        rados_core.run(r2, b.write(b"z", 1))
        owner = rados_core.run(r2, b.lock_get_owners())[0]["owner"]
    finally:
        r2.shutdown()  # b goes away holding the lock, without releasing it
    assert env.run(a.lock_get_owners()) == [{"mode": 0, "owner": owner}]
    assert env.err(a.lock_break(0, "client.0")) == errno.EBUSY  # held by another owner
    env.run(a.lock_break(0, owner))  # blocklists b's address
    blocklist = json.loads(env.r.mon_command(json.dumps({"prefix": "osd blocklist ls",
                                                         "format": "json"}), b"")[1])  # fmt: skip
    assert any(owner in json.dumps(e) for e in blocklist)
    env.run(a.write(b"after", 2 * MiB))
    assert env.run(a.is_exclusive_lock_owner())
    assert env.run(a.read(2 * MiB, 5)) == b"after"
    env.run(a.close())
    assert env.run(open_image(env.ioctx, "x")).exclusive_lock.owner is False


def test_namespaces(env: Env) -> None:
    from pyceph.rbdlib import namespace

    io = env.ioctx
    env.run(namespace.namespace_create(io, "ns1"))
    assert env.err(namespace.namespace_create(io, "ns1")) == errno.EEXIST
    assert env.run(namespace.namespace_list(io)) == ["ns1"]
    assert env.run(namespace.namespace_exists(io, "ns1"))
    nio = io.copy(nspace="ns1")
    env.run(create(nio, "inns", MiB, order=20, features=1))
    assert env.run(pool.list_images(nio)) == ["inns"]
    assert env.run(pool.list_images(io)) == []
    assert env.err(namespace.namespace_remove(io, "ns1")) == errno.EBUSY
    env.run(pool.remove(nio, "inns"))
    env.run(namespace.namespace_remove(io, "ns1"))
    assert env.run(namespace.namespace_list(io)) == []
    assert env.err(namespace.namespace_remove(io, "ns1")) == errno.ENOENT
    assert env.err(create(io.copy(nspace="nope"), "x", MiB, features=1)) == errno.ENOENT


def test_config_overrides(env: Env) -> None:
    """conf_ metadata overrides options per pool and per image, as upstream's Config."""
    io = env.ioctx
    listing = {c["name"]: c for c in env.run(pool.config_list(io))}
    assert listing["rbd_skip_partial_discard"] == {
        "name": "rbd_skip_partial_discard", "value": "true", "source": 0}  # fmt: skip
    env.run(pool.pool_metadata_set(io, "conf_rbd_cache", "false"))
    listing = {c["name"]: c for c in env.run(pool.config_list(io))}
    assert listing["rbd_cache"]["value"] == "false" and listing["rbd_cache"]["source"] == 1
    img = _open(env, "cfg")
    try:
        env.run(img.write(b"z" * 8192, 0))
        env.run(img.metadata_set("conf_rbd_skip_partial_discard", "false"))
        env.run(img.discard(100, 1000))  # no longer skipped: zeroed
        assert env.run(img.read(0, 1200)) == b"z" * 100 + b"\0" * 1000 + b"z" * 100
        listing = {c["name"]: c for c in env.run(img.config_list())}
        assert listing["rbd_skip_partial_discard"]["source"] == 2
        assert listing["rbd_cache"]["source"] == 1
    finally:
        env.run(img.close())


def test_fast_diff_matches_object_scan(env: Env) -> None:
    """With fast-diff the object maps answer whole-object diffs; the answer is the one
    looking at every object gives."""
    from pyceph.rbdlib import diff

    img = _open(env, "fd", 8 * MiB, features=61)
    try:
        env.run(img.write(b"a" * 10, MiB + 5))
        env.run(img.write(b"a" * 10, 5 * MiB))
        env.run(img.create_snap("s1"))
        env.run(img.write(b"b" * 10, 3 * MiB))
        env.run(img.discard(5 * MiB, MiB))
        env.run(img.create_snap("s2"))
        env.run(img.write(b"c" * 10, 7 * MiB))
        for frm in (None, "s1", "s2"):
            fast: list[tuple[int, int, bool]] = []

            def cb(o: int, n: int, e: bool, out: list[tuple[int, int, bool]] = fast) -> None:
                out.append((o, n, e))

            env.run(img.diff_iterate(0, 8 * MiB, frm, cb, whole_object=True))
            from_id = None if frm is None else env.run(img.snap_get_id(frm))
            assert env.run(diff.fast_diff(img, img.snap_id, from_id)) is not None
            found = env.run(diff.collect(img, img.snap_id, 0, 8 * MiB, from_id, True, True))
            slow = sorted((o, n, e) for o, n, e, _obj in found)
            assert fast == slow, frm
        assert fast == [(7 * MiB, MiB, True)]
    finally:
        env.run(img.close())


def test_lock_handover_keeps_object_map_true(env: Env) -> None:
    """Objects another owner wrote are read back after the lock comes back (the object
    map is read again on acquisition, not trusted from before)."""
    env.run(create(env.ioctx, "om2", 4 * MiB, order=20))  # default features: object map
    a = env.run(open_image(env.ioctx, "om2"))
    with rados.Rados(conf={"mon_host": "embedded:"}) as r2:
        io2 = IoCtx(rados_core.core_client(r2), r2.pool_lookup(env.pool_name))
        b = rados_core.run(r2, open_image(io2, "om2"))
        env.run(a.write(b"a", 0))  # a owns the lock; objects 1..3 missing in its map
        rados_core.run(r2, b.write(b"b" * 10, 2 * MiB))  # b takes the lock, creates object 2
        env.run(a.write(b"a", 1))  # a takes it back
        assert env.run(a.read(2 * MiB, 10)) == b"b" * 10
        rados_core.run(r2, b.close())
    env.run(a.close())


def test_image_io_through_loaded_encryption(env: Env) -> None:
    """With LUKS loaded, Image I/O goes through it: sizes shrink by the header, data
    round-trips, the raw objects hold ciphertext, a second open needs the passphrase."""
    img = _open(env, "enc", 8 * MiB, features=61)
    try:
        env.run(img.encryption_format(0, "secret"))  # LUKS1
        size = env.run(img.size())
        assert 0 < size < 8 * MiB
        data = b"plain text " * 1000
        assert env.run(img.write(data, 1234)) == len(data)
        assert env.run(img.read(1234, len(data))) == data
        env.run(img.write_zeroes(1234, 11))
        assert env.run(img.read(1234, 22)) == b"\0" * 11 + data[11:22]
        raw = env.run(open_image(env.ioctx, "enc", read_only=True))
        assert data[11:] not in env.run(raw.read(0, 8 * MiB))
        assert env.err(raw.encryption_load(0, "wrong")) == errno.EPERM
        env.run(raw.encryption_load(0, "secret"))
        assert env.run(raw.read(1234 + 11, len(data) - 11)) == data[11:]
        env.run(raw.close())
    finally:
        env.run(img.close())


def test_advisory_lock_blocks_managed_lock(env: Env) -> None:
    """An advisory lock on rbd_lock keeps exclusive-lock writers out (EBUSY), quickly."""
    img = _open(env, "adv", features=1 | 4)
    try:
        env.run(img.lock_exclusive("mine"))
        assert env.err(img.write(b"x", 0)) == errno.EBUSY
        env.run(img.unlock("mine"))
        env.run(img.write(b"x", 0))
        assert env.run(img.is_exclusive_lock_owner())
        assert env.err(img.lock_exclusive("mine")) == errno.EBUSY  # the managed lock
    finally:
        env.run(img.close())
