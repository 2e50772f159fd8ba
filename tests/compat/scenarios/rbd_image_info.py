"""rbd Image open/close and information: open by name, by id, read-only, at a
snapshot, context manager, repr, stat, get_name, id, block_name_prefix,
data_pool_id, old_format, size, overlap, flags, group, stripe unit/count,
timestamps, aio_close, use after close, missing images and bad arguments."""

import re

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    s.alias_int(io.get_pool_id(), "<pool_id>")
    R = rbd.RBD()
    R.create(io, "img", 10 * MiB, order=22)
    R.create(io, "old", 3 * MiB, old_format=True)
    iid = s.image_id(io, "img")
    s.image_id(io, "old")
    img = s.step("open", lambda: s.image(io, "img"), norm=lambda v: type(v).__name__)
    s.step("repr", lambda: re.sub(r"0x[0-9a-f]+", "0x<addr>", repr(img)))
    s.step("stat", lambda: img.stat(), norm=s.mask_ints("parent_pool"))
    s.step("get_name", lambda: img.get_name())
    s.step("id", lambda: img.id())
    s.step("block_name_prefix", lambda: img.block_name_prefix())
    s.step("data_pool_id", lambda: img.data_pool_id(), norm=s.mask_ints())
    s.step("old_format", lambda: img.old_format())
    s.step("size", lambda: img.size())
    s.step("overlap", lambda: img.overlap())
    s.step("flags", lambda: img.flags())
    s.step("group", lambda: img.group())
    s.step("stripe_unit", lambda: img.stripe_unit())
    s.step("stripe_count", lambda: img.stripe_count())
    s.step("features", lambda: img.features())
    s.step("create_timestamp", lambda: img.create_timestamp())
    s.step("access_timestamp", lambda: img.access_timestamp())
    s.step("modify_timestamp", lambda: img.modify_timestamp())
    s.step("timestamp_naive", lambda: img.create_timestamp().tzinfo is None)
    s.step("open_by_id", lambda: s.image(io, image_id=iid).get_name())
    s.step("open_by_id_missing", lambda: s.image(io, image_id="0123456789ab"))
    s.step("open_missing", lambda: s.image(io, "nope"))
    s.step("open_no_name_no_id", lambda: s.image(io))
    s.step("open_name_and_id", lambda: s.image(io, "img", image_id=iid))
    s.step("open_ioctx_wrong_type", lambda: s.image("pool", "img"))
    s.step("open_missing_snapshot", lambda: s.image(io, "img", snapshot="nosnap"))
    ro = s.image(io, "img", read_only=True)
    s.step("read_only_read", lambda: ro.read(0, 4))
    s.step("read_only_write", lambda: ro.write(b"x", 0))
    s.step("read_only_resize", lambda: ro.resize(MiB))
    s.step("read_only_create_snap", lambda: ro.create_snap("s"))
    img.create_snap("snap1")
    img.write(b"after-snap", 0)
    snapimg = s.image(io, "img", snapshot="snap1")
    s.step("snapshot_open_read", lambda: snapimg.read(0, 10))
    s.step("snapshot_open_write", lambda: snapimg.write(b"x", 0))

    def ctx():
        with rbd.Image(io, "img") as i:
            name = i.get_name()
        after = []
        try:
            i.size()
        except Exception as e:
            after.append(type(e).__name__)
        return name, after

    s.step("context_manager", ctx)

    def closed():
        i = rbd.Image(io, "img")
        i.close()
        i.close()
        return i

    c = s.step("close_twice", closed, norm=lambda v: type(v).__name__)
    s.step("after_close_size", lambda: c.size())
    s.step("after_close_read", lambda: c.read(0, 1))
    s.step("after_close_stat", lambda: c.stat())

    def aio_close():
        i = rbd.Image(io, "img")
        calls = []
        comp = i.aio_close(lambda cp: calls.append(cp.get_return_value()))
        comp.wait_for_complete_and_cb()
        return comp.get_return_value(), calls, type(comp).__name__

    s.step("aio_close", aio_close)
    old = s.image(io, "old")
    s.step("old_format_true", lambda: old.old_format())
    s.step("old_stat", lambda: old.stat())
    s.step("old_features", lambda: old.features())
    s.step("old_id", lambda: old.id())
    s.step("old_block_name_prefix", lambda: old.block_name_prefix())
    s.step("old_read", lambda: old.read(0, 4))
    s.step("old_create_timestamp", lambda: old.create_timestamp())
