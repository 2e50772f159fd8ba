"""Pool snapshots (create/list/lookup/remove/rollback/set_read, Snap objects) and
self-managed snapshots (create/remove/set write context/rollback), get_last_version."""

import re

import rados


def run(s):
    r = s.cluster()
    io = r.open_ioctx(s.make_pool())
    s.step("list_snaps_empty", lambda: list(io.list_snaps()))
    s.step("write_v1", lambda: io.write_full("o", b"version-1"))
    s.step("create_snap", lambda: io.create_snap("s1"))
    s.step("create_snap_again", lambda: io.create_snap("s1"))
    s.step("write_v2", lambda: io.write_full("o", b"version-2"))
    s.step("create_snap2", lambda: io.create_snap("s2"))
    s.step("write_v3", lambda: io.write_full("o", b"v3"))
    snaps = s.step("list_snaps", lambda: list(io.list_snaps()))
    s.step("list_snaps_iterator", lambda: io.list_snaps(), norm=lambda it: None)
    snap = s.step("lookup_snap", lambda: io.lookup_snap("s1"))
    s.step("snap_attrs", lambda: (snap.name, type(snap.snap_id).__name__, snap.ioctx is io))
    s.step("snap_ids_increase", lambda: snaps[0].snap_id < snaps[1].snap_id)
    s.step("snap_get_timestamp", lambda: snap.get_timestamp(), norm=lambda t: type(t).__name__)
    s.step("snap_str", lambda: re.sub(r"0x[0-9a-f]+", "0x<addr>", str(snap)))
    s.step("lookup_snap_missing", lambda: io.lookup_snap("nope"))
    s.step("lookup_snap_bytes", lambda: io.lookup_snap(b"s1"))
    s.step("set_read_s1", lambda: io.set_read(snap.snap_id))
    s.step("read_at_s1", lambda: io.read("o"))
    s.step("write_while_reading_snap", lambda: io.write_full("o", b"nope"))
    s.step("set_read_head", lambda: io.set_read(rados.LIBRADOS_SNAP_HEAD))
    s.step("read_at_head", lambda: io.read("o"))
    s.step("snap_rollback", lambda: io.snap_rollback("o", "s2"))
    s.step("read_after_rollback", lambda: io.read("o"))
    s.step("snap_rollback_missing_snap", lambda: io.snap_rollback("o", "nope"))
    s.step("self_managed_in_pool_snap_pool", lambda: io.create_self_managed_snap())
    s.step("remove_snap", lambda: io.remove_snap("s1"))
    s.step("remove_snap_missing", lambda: io.remove_snap("s1"))
    s.step("list_snaps_after_remove", lambda: [x.name for x in io.list_snaps()])
    s.step("get_last_version", lambda: io.get_last_version(), norm=s.INT_POS)

    io2 = r.open_ioctx(s.make_pool("sm"))
    s.step("sm_write_v1", lambda: io2.write_full("o", b"sm-1"))
    sid = s.step("create_self_managed_snap", lambda: io2.create_self_managed_snap(), norm=s.INT_POS)
    s.step("set_self_managed_snap_write", lambda: io2.set_self_managed_snap_write([sid]))
    s.step("sm_write_v2", lambda: io2.write_full("o", b"sm-2"))
    s.step("sm_read_head", lambda: io2.read("o"))
    s.step("sm_set_read", lambda: io2.set_read(sid))
    s.step("sm_read_snap", lambda: io2.read("o"))
    s.step("sm_set_read_head", lambda: io2.set_read(rados.LIBRADOS_SNAP_HEAD))
    sid2 = s.step(
        "create_self_managed_snap2", lambda: io2.create_self_managed_snap(), norm=lambda v: v > sid
    )
    s.step("set_self_managed_snap_write2", lambda: io2.set_self_managed_snap_write([sid2, sid]))
    s.step("sm_write_v3", lambda: io2.write_full("o", b"sm-3"))
    s.step("rollback_self_managed_snap", lambda: io2.rollback_self_managed_snap("o", sid))
    s.step("sm_read_after_rollback", lambda: io2.read("o"))
    s.step("sm_bad_snap_type", lambda: io2.set_self_managed_snap_write([1.5]))
    s.step("pool_snap_in_sm_pool", lambda: io2.create_snap("x"))
    s.step("remove_self_managed_snap", lambda: io2.remove_self_managed_snap(sid))
    s.step("remove_self_managed_snap2", lambda: io2.remove_self_managed_snap(sid2))
    s.step("list_snaps_sm_pool", lambda: list(io2.list_snaps()))
    s.step("snap_head_constant", lambda: rados.LIBRADOS_SNAP_HEAD)
