"""rbd trash: trash_move (with and without deferment), trash_list (TrashIterator
dicts), trash_get, trash_restore (same and new name, name taken), trash_remove
(deferred -> busy, force), trash_purge (by time and threshold), and the errors for
missing ids, open images and images with snapshots."""

import datetime

MiB = 1 << 20

TIMES = ("deletion_time", "deferment_end_time")


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    for name in ("a", "b", "c", "d", "snapped"):
        R.create(io, name, MiB)
        s.image_id(io, name)
    ids = {}
    for name in ("a", "b", "c", "d", "snapped"):
        with rbd.Image(io, name, read_only=True) as img:
            ids[name] = img.id()
    norm = s.mask(deletion_time=type_name, deferment_end_time=type_name)
    s.step("trash_list_empty", lambda: list(R.trash_list(io)))
    s.step("trash_move", lambda: R.trash_move(io, "a"))
    s.step("trash_move_missing", lambda: R.trash_move(io, "nope"))
    s.step("trash_move_delay", lambda: R.trash_move(io, "b", delay=3600))
    s.step("trash_move_name_int", lambda: R.trash_move(io, 5))
    s.step("list_after_move", lambda: sorted(R.list(io)))
    s.step("trash_list", lambda: sorted(R.trash_list(io), key=lambda d: d["name"]), norm=norm)
    s.step("trash_list_type", lambda: type(R.trash_list(io)).__name__)
    s.step("trash_get", lambda: R.trash_get(io, ids["a"]), norm=norm)
    s.step(
        "trash_get_deferment",
        lambda: (lambda d: d["deferment_end_time"] - d["deletion_time"])(R.trash_get(io, ids["b"])),
        norm=lambda td: td.total_seconds() if isinstance(td, datetime.timedelta) else td,
    )
    s.step("trash_get_missing", lambda: R.trash_get(io, "0123456789ab"))
    s.step("open_trashed_by_id", lambda: s.image(io, image_id=ids["a"]).get_name())
    s.step("trash_remove_deferred", lambda: R.trash_remove(io, ids["b"]))
    s.step("trash_restore", lambda: R.trash_restore(io, ids["a"], "a"))
    s.step("trash_restore_missing", lambda: R.trash_restore(io, "0123456789ab", "x"))
    s.step("list_after_restore", lambda: sorted(R.list(io)))
    R.trash_move(io, "c")
    R.create(io, "c-new", MiB)
    s.step("trash_restore_name_taken", lambda: R.trash_restore(io, ids["c"], "c-new"))
    s.step("trash_restore_new_name", lambda: R.trash_restore(io, ids["c"], "c-renamed"))
    s.step("list_after_restore_renamed", lambda: sorted(R.list(io)))
    progress = []

    def on_progress(off, total):
        progress.append((off, total))
        return 0

    s.step(
        "trash_remove_force",
        lambda: R.trash_remove(io, ids["b"], force=True, on_progress=on_progress),
    )
    s.step("trash_remove_progress", lambda: len(progress) > 0)
    s.step("trash_remove_missing", lambda: R.trash_remove(io, ids["b"]))
    opened = s.image(io, "d")
    s.step("trash_move_open_image", lambda: R.trash_move(io, "d"))
    opened.close()
    with rbd.Image(io, "snapped") as img:
        img.create_snap("s")
    s.step("trash_move_with_snaps", lambda: R.trash_move(io, "snapped"))
    s.step("trash_remove_with_snaps", lambda: R.trash_remove(io, ids["snapped"]))
    s.step("trash_list_after", lambda: sorted(d["name"] for d in R.trash_list(io)))
    s.step("trash_restore_with_snaps", lambda: R.trash_restore(io, ids["snapped"], "snapped"))
    R.trash_move(io, "c-renamed", delay=3600)
    s.step("trash_purge_now", lambda: R.trash_purge(io))
    s.step("trash_list_after_purge", lambda: sorted(d["name"] for d in R.trash_list(io)))
    future = datetime.datetime.now() + datetime.timedelta(days=2)
    s.step("trash_purge_expire_ts", lambda: R.trash_purge(io, expire_ts=future))
    s.step("trash_list_after_purge_ts", lambda: sorted(d["name"] for d in R.trash_list(io)))
    s.step("trash_purge_threshold", lambda: R.trash_purge(io, threshold=0.5))
    s.step("trash_purge_bad_threshold", lambda: R.trash_purge(io, threshold=2))
    s.step("trash_purge_bad_expire_ts", lambda: R.trash_purge(io, expire_ts="tomorrow"))


def type_name(v):
    return type(v).__name__
