"""rbd synchronous image I/O: write/read (fadvise flags, past the end, wrong types),
discard, write_zeroes, flush, invalidate_cache, sparsify, resize (grow, shrink,
allow_shrink=False), diff_iterate (with and without whole_object, from a snapshot),
compare reads after each change."""

import rados

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R = rbd.RBD()
    R.create(io, "img", 8 * MiB, order=22)
    img = s.image(io, "img")
    s.step("write", lambda: img.write(b"hello world", 0))
    s.step("read", lambda: img.read(0, 11))
    s.step("read_partial", lambda: img.read(6, 5))
    s.step("read_zero_length", lambda: img.read(0, 0))
    s.step("read_unwritten", lambda: img.read(4 * MiB, 8))
    s.step("write_fadvise", lambda: img.write(b"abc", 100, rados.LIBRADOS_OP_FLAG_FADVISE_DONTNEED))
    s.step("read_fadvise", lambda: img.read(100, 3, rados.LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL))
    s.step("write_across_objects", lambda: img.write(b"X" * 8192, 4 * MiB - 4096))
    s.step("read_across_objects", lambda: img.read(4 * MiB - 4100, 8200))
    s.step("write_past_end", lambda: img.write(b"x", 8 * MiB))
    s.step("write_straddling_end", lambda: img.write(b"xyz", 8 * MiB - 1))
    s.step("read_past_end", lambda: img.read(8 * MiB, 10))
    s.step("read_straddling_end", lambda: img.read(8 * MiB - 2, 10))
    s.step("write_str", lambda: img.write("text", 0))
    s.step("write_offset_str", lambda: img.write(b"x", "0"))
    s.step("read_negative_length", lambda: img.read(0, -1))
    s.step("write_large", lambda: img.write(bytes(range(256)) * 4096, MiB))
    s.step("read_large", lambda: img.read(MiB, 256 * 4096))
    s.step("discard", lambda: img.discard(MiB, 4096))
    s.step("read_after_discard", lambda: img.read(MiB, 8))
    s.step("discard_past_end", lambda: img.discard(8 * MiB, 10))
    s.step("write_zeroes", lambda: img.write_zeroes(MiB + 8192, 4096))
    s.step("read_after_write_zeroes", lambda: img.read(MiB + 8190, 6))
    s.step(
        "write_zeroes_thick_flag",
        lambda: img.write_zeroes(0, 4, rbd.RBD_WRITE_ZEROES_FLAG_THICK_PROVISION),
    )
    s.step("flush", lambda: img.flush())
    s.step("invalidate_cache", lambda: img.invalidate_cache())
    s.step("sparsify", lambda: img.sparsify(4096))
    s.step("sparsify_bad_size", lambda: img.sparsify(100))
    s.step("read_after_sparsify", lambda: img.read(0, 4))

    def diff(from_snap=None, whole=False, offset=0, length=8 * MiB):
        out = []
        img.diff_iterate(
            offset, length, from_snap, lambda o, ln, e: out.append((o, ln, e)), whole_object=whole
        )
        return out

    s.step("diff_iterate", lambda: diff())
    s.step("diff_iterate_whole_object", lambda: diff(whole=True))
    img.create_snap("s1")
    img.write(b"Z" * 512, 2 * MiB)
    img.discard(0, 4096)
    s.step("diff_iterate_from_snap", lambda: diff("s1"))
    s.step("diff_iterate_from_snap_whole", lambda: diff("s1", True))
    s.step("diff_iterate_range", lambda: diff("s1", offset=2 * MiB, length=256))
    s.step("diff_iterate_missing_snap", lambda: diff("nosnap"))

    def cb_raises():
        def cb(o, ln, e):
            raise ValueError("stop")

        return img.diff_iterate(0, 8 * MiB, None, cb)

    s.step("diff_iterate_callback_raises", cb_raises)
    s.step("resize_grow", lambda: img.resize(12 * MiB))
    s.step("size_after_grow", lambda: img.size())
    s.step("read_grown_area", lambda: img.read(10 * MiB, 4))
    s.step("resize_shrink_disallowed", lambda: img.resize(4 * MiB, allow_shrink=False))
    s.step("resize_shrink", lambda: img.resize(4 * MiB + 3))
    s.step("size_after_shrink", lambda: img.size())
    s.step("read_after_shrink", lambda: img.read(4 * MiB - 2, 10))
    s.step("resize_str", lambda: img.resize("1"))
    s.step("resize_grow_again", lambda: img.resize(8 * MiB))
    s.step("read_regrown_area", lambda: img.read(4 * MiB, 8))
    s.step(
        "stat_after_io", lambda: {k: v for k, v in img.stat().items() if k in ("size", "num_objs")}
    )
