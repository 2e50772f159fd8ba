"""rbd's layout as RADOS objects (what `rados ls`/`listomapvals` show): the objects
of an rbd pool after pool_init, create, snapshot, clone, trash, group, namespace
and mirroring, the omap keys of rbd_directory, rbd_header.<id>, rbd_children,
rbd_trash and rbd_group_directory, and a few values with a fixed encoding."""

import re
import struct

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    ids = {}

    def label(name):
        """An object name or omap key with image ids and snapshot ids shown as labels
        (sorted after labelling, so the order does not follow random ids)."""
        for iid, lab in ids.items():
            name = name.replace(iid, f"<id:{lab}>")
        return re.sub(r"^(rbd_object_map\..*)\.[0-9a-f]{16}$", r"\1.<snap_id>", name)

    def objects():
        return sorted(label(o.key) for o in io.list_objects())

    def omap(oid):
        with s.rados.ReadOpCtx() as op:
            it, _ = io.get_omap_vals(op, "", "", 1000)
            io.operate_read_op(op, oid)
            return {k: scrub(v) for k, v in it}

    def scrub(v):
        """Ids shown as labels; a string's u32 length, when it holds an id, as `<len>`
        (ids are hex of a random u32 without padding, so their length varies)."""
        if v is None:
            return v
        has_id = any(iid.encode() in v for iid in ids)
        if has_id and len(v) >= 4 and struct.unpack_from("<I", v)[0] == len(v) - 4:
            v = b"<len>" + v[4:]
        for iid, label in ids.items():
            v = v.replace(iid.encode(), f"<id:{label}>".encode())
        return v

    def keys(oid):
        return sorted(label(k) for k in omap(oid))

    s.step("objects_empty", objects)
    R.pool_init(io, False)
    s.step("objects_after_pool_init", objects)
    R.create(io, "img", 8 * MiB, order=22)
    ids[s.image_id(io, "img")] = "img"
    s.step("objects_after_create", objects)
    s.step("rbd_directory_omap", lambda: omap("rbd_directory"))
    s.step("rbd_id_object", lambda: scrub(io.read("rbd_id.img")))
    header = "rbd_header." + next(iter(ids))
    s.step("header_omap_keys", lambda: keys(header))
    s.step("header_size", lambda: struct.unpack("<Q", omap(header)["size"])[0])
    s.step("header_order", lambda: omap(header)["order"])
    s.step("header_features", lambda: struct.unpack("<Q", omap(header)["features"])[0])
    s.step("header_object_prefix", lambda: omap(header)["object_prefix"])
    with rbd.Image(io, "img") as img:
        img.write(b"x", 0)
        img.write(b"y", 5 * MiB)
        img.create_snap("s")
        img.protect_snap("s")
    s.step("objects_after_write_and_snap", objects)
    s.step(
        "header_keys_after_snap", lambda: [k for k in keys(header) if not k.startswith("snapshot_")]
    )
    s.step(
        "header_snapshot_keys", lambda: len([k for k in keys(header) if k.startswith("snapshot_")])
    )
    R.clone(io, "img", "s", io, "child")
    ids[s.image_id(io, "child")] = "child"
    s.step("objects_after_clone", objects)
    R.create(io, "trashme", MiB)
    ids[s.image_id(io, "trashme")] = "trashme"
    R.trash_move(io, "trashme")
    s.step("objects_after_trash", objects)
    s.step("rbd_trash_omap_keys", lambda: keys("rbd_trash"))
    s.step("rbd_directory_after_trash", lambda: keys("rbd_directory"))
    R.group_create(io, "grp")
    s.step("objects_after_group", lambda: sorted(gid(o) for o in objects() if "group" in o))
    s.step("rbd_group_directory_keys", lambda: sorted(gid(k) for k in keys("rbd_group_directory")))
    R.namespace_create(io, "ns")
    s.step("objects_after_namespace", lambda: [o for o in objects() if "namespace" in o])
    s.step("rbd_namespace_keys", lambda: keys("rbd_namespace"))
    R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_IMAGE)
    s.step("objects_after_mirroring", lambda: [o for o in objects() if "mirror" in o])
    s.step("rbd_mirroring_keys", lambda: keys("rbd_mirroring"))
    R.pool_metadata_set(io, "k", "v")
    s.step("rbd_info_omap", lambda: omap("rbd_info"))


def gid(name):
    """A group's id (not exposed by the API) shown as <gid>."""
    return re.sub(r"^(rbd_group_header\.|id_)[0-9a-f]+$", r"\1<gid>", name)
