"""Live migration of the rbd engine (`pyceph.rbdlib.migration`, upstream librbd
api/Migration.cc) on the embedded cluster: the MigrationSpec on both headers as
upstream writes it, the source parked in the trash, the state walk, import from a raw
file, and the errnos for bad input."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import errno
import json
from pathlib import Path

from pyceph.cls.rbd_types import (
    MIGRATION_HEADER_TYPE_DST,
    MIGRATION_HEADER_TYPE_SRC,
    MIGRATION_STATE_EXECUTED,
    MIGRATION_STATE_PREPARED,
    TRASH_IMAGE_SOURCE_MIGRATION,
    MigrationSpec,
)
from pyceph.common.denc import Decoder
from pyceph.rbdlib import migration, pool, trash
from pyceph.rbdlib.features import RBD_FEATURE_MIGRATING, RBD_FEATURE_STRIPINGV2

from .rbdlib_pool_env import Env, MiB, cluster, env, make_pool  # noqa: F401 - fixtures


def _spec(env: Env, image_id: str, ioctx=None) -> MigrationSpec:
    return MigrationSpec.decode(Decoder(env.omap(f"rbd_header.{image_id}", ioctx)["migration"]))


def test_prepare_execute_commit(env: Env) -> None:
    io = env.ioctx
    make_pool(env.r, env.pool_name + "-dst")
    dio = type(io)(io.client, env.r.pool_lookup(env.pool_name + "-dst"))
    src_id = env.create("src", 4 * MiB, order=22)
    img = env.open("src")
    env.run(img.write(b"migrate-me", 0))
    env.run(img.write(b"tail", 3 * MiB))
    env.run(img.create_snap("s1"))
    env.run(img.close())
    env.create("taken", MiB)
    assert env.err(migration.migration_status(io, "src")) == errno.EINVAL
    assert env.err(migration.migration_prepare(io, "nope", dio, "dst")) == errno.ENOENT
    assert env.err(migration.migration_prepare(io, "src", io, "taken")) == errno.EEXIST
    env.run(migration.migration_prepare(io, "src", dio, "dst", order=23))
    # the source is parked in the trash, out of the name space
    assert env.run(pool.list_images(io)) == ["taken"]
    entry = env.run(trash.trash_get(io, src_id))
    assert (entry["name"], entry["source"]) == ("src", TRASH_IMAGE_SOURCE_MIGRATION)
    assert env.run(trash.trash_list(io))[0]["id"] == src_id
    dst_id = env.run(pool.list_images2(dio))[0]["id"]
    src_spec, dst_spec = _spec(env, src_id), _spec(env, dst_id, dio)
    assert (src_spec.header_type, src_spec.pool_id, src_spec.image_name, src_spec.image_id,
            src_spec.state) == (MIGRATION_HEADER_TYPE_SRC, dio.pool_id, "dst", dst_id,
                                MIGRATION_STATE_PREPARED)  # fmt: skip
    assert (dst_spec.header_type, dst_spec.pool_id, dst_spec.image_name, dst_spec.image_id,
            dst_spec.state) == (MIGRATION_HEADER_TYPE_DST, io.pool_id, "src", src_id,
                                MIGRATION_STATE_PREPARED)  # fmt: skip
    assert len(dst_spec.snap_seqs) == 1
    status = env.run(migration.migration_status(io, "src"))
    assert status == env.run(migration.migration_status(dio, "dst"))
    assert status == {
        "source_pool_id": io.pool_id, "source_pool_namespace": "", "source_image_name": "src",
        "source_image_id": src_id, "dest_pool_id": dio.pool_id, "dest_pool_namespace": "",
        "dest_image_name": "dst", "dest_image_id": dst_id, "state": MIGRATION_STATE_PREPARED,
        "state_description": ""}  # fmt: skip
    dst = env.open("dst", dio)
    assert env.run(dst.features()) & RBD_FEATURE_MIGRATING
    assert env.run(dst.read(0, 10)) + env.run(dst.read(3 * MiB, 4)) == b"migrate-metail"
    env.run(dst.write(b"M", 0))
    assert (env.run(dst.stat()))["order"] == 23
    assert env.run(migration.migration_source_spec(dst)) == {
        "type": "native", "pool_id": io.pool_id, "pool_namespace": "", "image_name": "src",
        "image_id": src_id}  # fmt: skip
    env.run(dst.close())
    assert env.err(migration.migration_commit(io, "src")) == errno.EINVAL
    seen: list[tuple[int, int]] = []
    env.run(migration.migration_execute(io, "src", lambda o, t: seen.append((o, t))))
    assert seen
    assert env.run(migration.migration_status(dio, "dst"))["state"] == MIGRATION_STATE_EXECUTED
    assert env.err(migration.migration_execute(io, "src")) == errno.EINVAL
    env.run(migration.migration_commit(io, "src"))
    assert env.err(migration.migration_status(dio, "dst")) == errno.EINVAL
    assert env.run(trash.trash_list(io)) == []
    assert not any(src_id in o for o in env.objects())
    dst = env.open("dst", dio)
    assert env.run(dst.read(0, 10)) == b"Migrate-me"
    assert not env.run(dst.features()) & RBD_FEATURE_MIGRATING
    # the source's 4 MiB stripe unit kept with 8 MiB objects: STRIPINGV2, as upstream
    assert env.run(dst.features()) & RBD_FEATURE_STRIPINGV2
    assert [s["name"] for s in env.run(dst.list_snaps())] == ["s1"]
    env.run(dst.close())


def test_abort(env: Env) -> None:
    io = env.ioctx
    ab_id = env.create("ab", MiB)
    env.run(migration.migration_prepare(io, "ab", io, "ab-new"))
    assert env.run(pool.list_images(io)) == ["ab-new"]
    env.run(migration.migration_abort(io, "ab"))
    assert env.err(migration.migration_status(io, "ab")) == errno.EINVAL
    assert env.run(pool.list_images(io)) == ["ab"]
    assert "migration" not in env.omap(f"rbd_header.{ab_id}")
    img = env.open("ab")
    assert not env.run(img.features()) & RBD_FEATURE_MIGRATING
    env.run(img.close())
    assert env.err(migration.migration_abort(io, "ab")) == errno.EINVAL
    assert env.err(migration.migration_execute(io, "ab")) == errno.EINVAL
    # a watched source is busy and left as it was
    img = env.open("ab")
    assert env.err(migration.migration_prepare(io, "ab", io, "x")) == errno.EBUSY
    env.run(img.close())
    assert env.run(pool.list_images(io)) == ["ab"]


def test_prepare_import_raw_file(env: Env, tmp_path: Path) -> None:
    io = env.ioctx
    raw = tmp_path / "src.raw"
    raw.write_bytes(b"raw-source" + bytes(MiB - 10))
    spec = json.dumps({"type": "raw", "stream": {"type": "file", "file_path": str(raw)}})
    env.run(migration.migration_prepare_import(io, spec, "imported"))
    status = env.run(migration.migration_status(io, "imported"))
    assert (status["source_pool_id"], status["dest_pool_id"], status["source_image_name"],
            status["dest_image_name"], status["state"]) == (-1, -1, "", "imported",
                                                            MIGRATION_STATE_PREPARED)  # fmt: skip
    img = env.open("imported")
    assert env.run(migration.migration_source_spec(img)) == json.loads(spec)
    assert env.run(img.read(0, 10)) == b"raw-source"
    assert env.run(img.size()) == MiB
    env.run(img.close())
    env.run(migration.migration_execute(io, "imported"))
    env.run(migration.migration_commit(io, "imported"))
    assert env.err(migration.migration_status(io, "imported")) == errno.EINVAL
    assert env.err(migration.migration_prepare_import(io, "not json", "x")) == errno.EBADMSG
    missing = json.dumps({"type": "raw", "stream": {"type": "file",
                                                     "file_path": str(raw) + ".nope"}})  # fmt: skip
    assert env.err(migration.migration_prepare_import(io, missing, "x")) == errno.ENOENT
    assert env.err(migration.migration_prepare_import(io, '{"type": "qcow"}', "x")) \
        == errno.EINVAL  # fmt: skip
    assert env.run(pool.list_images(io)) == ["imported"]
