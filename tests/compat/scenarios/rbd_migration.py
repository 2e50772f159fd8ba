"""rbd live migration: migration_prepare (same pool, other pool, new features and
order), migration_status through prepared/executed, migration_execute and
migration_commit with progress, migration_abort, I/O on the migrating target,
migration_prepare_import from a raw file source spec, migration_source_spec, and
the errors (missing source, not migrating, target exists, bad source spec)."""

import json
import os
import tempfile

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    dpool = s.rbd_pool("dst")
    io = s.ioctx(pool)
    dio = s.ioctx(dpool)
    s.alias_int(io.get_pool_id(), "<pool_id>")
    s.alias_int(dio.get_pool_id(), "<pool_id-dst>")
    R.create(io, "src", 4 * MiB, order=22)
    s.image_id(io, "src")
    with rbd.Image(io, "src") as img:
        img.write(b"migrate-me", 0)
        img.write(b"tail", 3 * MiB)
    R.create(io, "taken", MiB)
    status = s.mask(
        source_image_id=lambda v: v,
        dest_image_id=s.prop(lambda v: isinstance(v, str) and len(v) > 0, "<id>"),
        source_pool_id=s.mask_ints(),
        dest_pool_id=s.mask_ints(),
    )
    s.step("status_not_migrating", lambda: R.migration_status(io, "src"))
    s.step("prepare_missing_source", lambda: R.migration_prepare(io, "nope", dio, "dst"))
    s.step("prepare_target_exists", lambda: R.migration_prepare(io, "src", io, "taken"))
    s.step("prepare", lambda: R.migration_prepare(io, "src", dio, "dst", order=23))
    s.step("status_prepared", lambda: R.migration_status(io, "src"), norm=status)
    s.step("status_by_target", lambda: R.migration_status(dio, "dst"), norm=status)
    s.step("list_source_pool", lambda: sorted(R.list(io)))
    s.step("list_dest_pool", lambda: R.list(dio))
    s.step("open_source_during_migration", lambda: s.image(io, "src"))
    dst = s.image(dio, "dst")
    s.step("target_features_migrating", lambda: bool(dst.features() & rbd.RBD_FEATURE_MIGRATING))
    s.step("target_read", lambda: dst.read(0, 10) + dst.read(3 * MiB, 4))
    s.step("target_write", lambda: dst.write(b"M", 0))
    s.step("target_stat_order", lambda: dst.stat()["order"])
    s.step(
        "target_migration_source_spec",
        lambda: dst.migration_source_spec(),
        norm=s.mask_ints("pool_id"),
    )
    dst.close()
    s.step("commit_before_execute", lambda: R.migration_commit(io, "src"))
    progress = []

    def on_progress(off, total):
        progress.append((off, total))
        return 0

    s.step("execute", lambda: R.migration_execute(io, "src", on_progress=on_progress))
    s.step("execute_progress", lambda: len(progress) > 0)
    s.step("status_executed", lambda: R.migration_status(dio, "dst"), norm=status)
    s.step("execute_again", lambda: R.migration_execute(io, "src"))
    s.step("commit", lambda: R.migration_commit(io, "src", on_progress=on_progress))
    s.step("status_after_commit", lambda: R.migration_status(dio, "dst"))
    s.step("list_after_commit", lambda: (sorted(R.list(io)), R.list(dio)))
    with rbd.Image(dio, "dst", read_only=True) as d:
        s.step("data_after_commit", lambda: d.read(0, 10) + d.read(3 * MiB, 4))
        s.step("features_after_commit", lambda: d.features())
    R.create(io, "ab", MiB)
    s.step("prepare_for_abort", lambda: R.migration_prepare(io, "ab", io, "ab-new"))
    s.step("abort", lambda: R.migration_abort(io, "ab"))
    s.step("status_after_abort", lambda: R.migration_status(io, "ab"))
    s.step("list_after_abort", lambda: sorted(R.list(io)))
    s.step("abort_not_migrating", lambda: R.migration_abort(io, "ab"))
    s.step("execute_not_migrating", lambda: R.migration_execute(io, "ab"))

    fd, path = tempfile.mkstemp(prefix="rbd-compat-", suffix=".raw")
    with os.fdopen(fd, "wb") as f:
        f.write(b"raw-source" + bytes(MiB - 10))
    s.alias(path, "<raw-file>")
    spec = json.dumps({"type": "raw", "stream": {"type": "file", "file_path": path}})
    s.step("prepare_import", lambda: R.migration_prepare_import(spec, io, "imported"))
    s.step("status_import", lambda: R.migration_status(io, "imported"), norm=status)
    imp = s.image(io, "imported")
    s.step("import_source_spec", lambda: imp.migration_source_spec())
    s.step("import_read", lambda: imp.read(0, 10))
    s.step("import_size", lambda: imp.size())
    imp.close()
    s.step("import_execute", lambda: R.migration_execute(io, "imported"))
    s.step("import_commit", lambda: R.migration_commit(io, "imported"))
    s.step("import_status_after", lambda: R.migration_status(io, "imported"))
    s.step("prepare_import_bad_spec", lambda: R.migration_prepare_import("not json", io, "x"))
    s.step(
        "prepare_import_missing_file",
        lambda: R.migration_prepare_import(
            json.dumps({"type": "raw", "stream": {"type": "file", "file_path": path + ".nope"}}),
            io,
            "y",
        ),
    )
    os.unlink(path)
