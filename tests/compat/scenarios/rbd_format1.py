"""rbd format 1 images (made by writing the legacy on-disk header `<name>.rbd` and
`<block_name>.<objectno:012x>` data objects with rados, since librbd 16.2 no longer
creates them): open, old_format, stat, size, features, block_name_prefix, id, read
of written and unwritten ranges, write, resize, snapshots, and removal."""

import struct

MiB = 1 << 20

#: The legacy header layout (upstream include/rbd_types.h, rbd_obj_header_ondisk).
HEADER_TEXT = b"<<< Rados Block Device Image >>>\n"
SIGNATURE = b"RBD"
VERSION = b"001.005"
BLOCK_NAME = "rb.0.1234.5678abcd"


def header(size: int, order: int = 22) -> bytes:
    return (
        HEADER_TEXT.ljust(40, b"\0")
        + BLOCK_NAME.encode().ljust(24, b"\0")
        + SIGNATURE.ljust(4, b"\0")
        + VERSION.ljust(8, b"\0")
        + struct.pack("<BBBB", order, 0, 0, 0)
        + struct.pack("<QQIIQ", size, 0, 0, 0, 0)
    )


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    s.step("write_header", lambda: io.write_full("v1img.rbd", header(8 * MiB)))
    s.step("write_data_object_0", lambda: io.write_full(f"{BLOCK_NAME}.{0:012x}", b"format-one"))
    s.step("write_data_object_1", lambda: io.write(f"{BLOCK_NAME}.{1:012x}", b"second", 100))
    img = s.step("open", lambda: s.image(io, "v1img"), norm=lambda v: type(v).__name__)
    if img is None:
        return
    s.step("old_format", lambda: img.old_format())
    s.step("size", lambda: img.size())
    s.step("stat", lambda: img.stat())
    s.step("features", lambda: img.features())
    s.step("op_features", lambda: img.op_features())
    s.step("block_name_prefix", lambda: img.block_name_prefix())
    s.step("id", lambda: img.id())
    s.step("stripe_unit", lambda: img.stripe_unit())
    s.step("read_object_0", lambda: img.read(0, 12))
    s.step("read_object_1", lambda: img.read(4 * MiB + 98, 10))
    s.step("read_unwritten", lambda: img.read(2 * MiB, 4))
    s.step("list_snaps", lambda: list(img.list_snaps()))
    s.step("create_timestamp", lambda: img.create_timestamp())
    s.step("metadata_list", lambda: list(img.metadata_list()))
    s.step("group", lambda: img.group())
    s.step("parent_info", lambda: img.parent_info())
    s.step("list_lockers", lambda: img.list_lockers())
    s.step("write", lambda: img.write(b"W", 1))
    s.step("read_after_write", lambda: img.read(0, 4))
    s.step("update_features", lambda: img.update_features(rbd.RBD_FEATURE_EXCLUSIVE_LOCK, True))
    s.step("metadata_set", lambda: img.metadata_set("k", "v"))
    s.step("list", lambda: R.list(io))
    img.close()
    ro = s.image(io, "v1img", read_only=True)
    s.step("read_only_read", lambda: ro.read(0, 4))
    ro.close()
    s.step("remove", lambda: R.remove(io, "v1img"))
    s.step("objects_after_remove", lambda: sorted(o.key for o in io.list_objects()))
    s.step("open_after_remove", lambda: s.image(io, "v1img"))
