"""TMAP: the codec (pyceph.common.tmap) and the OSD's TMAPUP/TMAPPUT/TMAPGET ops on a
MemStore (upstream PrimaryLogPG::do_tmapup; librbd's tmap_set/tmap_rm on rbd_directory)."""

from __future__ import annotations

import errno
import struct

import pytest

from pyceph.common import tmap
from pyceph.osd.ops import Limits, OpEnv, execute
from pyceph.store.memstore import MemStore
from pyceph.store.types import ObjectKey

CID = "1.0_head"
K = ObjectKey("rbd_directory", pool=1)


def _store() -> MemStore:
    return MemStore.with_collections(CID)


def _run(s: MemStore, ops, data=b"", env: OpEnv | None = None):
    res = execute(s, CID, K, ops, data, Limits(), (1, 1), 1, 1.0, env=env)
    if res.r == 0 and res.txn.ops:
        s.apply_transaction(res.txn)
    return res


def _up(s: MemStore, commands: bytes, env: OpEnv | None = None):
    return _run(s, [["tmapup", {"dlen": len(commands)}]], commands, env)


def _get(s: MemStore) -> tuple[bytes, dict[str, bytes]]:
    res = _run(s, [["tmapget", {}]])
    assert res.r == 0
    return tmap.decode(res.outdata[0])


def test_encoding_is_upstreams_bufferlist_and_map_layout():
    raw = tmap.encode(b"H", {"b": b"2", "a": b"1"})
    # header bufferlist, u32 count, then sorted (string key, bufferlist value) pairs
    assert raw == (
        struct.pack("<I", 1) + b"H" + struct.pack("<I", 2)
        + struct.pack("<I", 1) + b"a" + struct.pack("<I", 1) + b"1"
        + struct.pack("<I", 1) + b"b" + struct.pack("<I", 1) + b"2"
    )  # fmt: skip
    assert tmap.decode(raw) == (b"H", {"a": b"1", "b": b"2"})
    assert tmap.decode(b"") == (b"", {})


def test_update_commands_apply_in_order_and_fail_whole():
    cur = tmap.encode(b"", {"x": b""})
    new = tmap.apply_update(cur, tmap.set_command("y", b"v") + tmap.rm_command("x"))
    assert tmap.decode(new) == (b"", {"y": b"v"})
    with pytest.raises(tmap.TmapError) as ei:
        tmap.apply_update(cur, tmap.rm_command("nope"))
    assert ei.value.errno == errno.ENOENT
    create_x = bytes([tmap.TMAP_CREATE]) + struct.pack("<I", 1) + b"x" + struct.pack("<I", 0)
    with pytest.raises(tmap.TmapError) as ei:
        tmap.apply_update(cur, create_x)
    assert ei.value.errno == errno.EEXIST
    sloppy = bytes([tmap.TMAP_RMSLOPPY]) + struct.pack("<I", 4) + b"nope"
    assert tmap.decode(tmap.apply_update(cur, sloppy)) == (b"", {"x": b""})
    with pytest.raises(tmap.TmapError) as ei:
        tmap.apply_update(cur, b"z" + struct.pack("<I", 1) + b"x")
    assert ei.value.errno == errno.EINVAL


def test_forged_lengths_are_einval_not_allocations():
    for raw in (struct.pack("<I", 1 << 30), struct.pack("<II", 0, 1 << 31), b"\x01"):
        with pytest.raises(tmap.TmapError) as ei:
            tmap.decode(raw)
        assert ei.value.errno == errno.EINVAL


def test_osd_tmapup_creates_updates_and_reports_missing_keys():
    s = _store()
    # librbd tmap_rm of an image the (missing) directory does not list
    assert _up(s, tmap.rm_command("v1img")).r == -errno.ENOENT
    assert _run(s, [["stat", {}]]).r == -errno.ENOENT  # nothing was created
    assert _up(s, tmap.set_command("v1img")).r == 0
    assert _up(s, tmap.set_command("other")).r == 0
    assert _get(s) == (b"", {"other": b"", "v1img": b""})
    assert _up(s, tmap.rm_command("v1img")).r == 0
    assert _get(s) == (b"", {"other": b""})
    # a failing command leaves the object as it was
    assert _up(s, tmap.set_command("z") + tmap.rm_command("gone")).r == -errno.ENOENT
    assert _get(s) == (b"", {"other": b""})
    # the directory's omap (format-2 entries) is untouched by tmap updates
    assert _run(s, [["omap_set", {"kv": {"name_a": b"\x01\0\0\0i"}}]]).r == 0
    assert _up(s, tmap.set_command("b")).r == 0
    assert _run(s, [["omap_get_keys", {}]]).r == 0
    assert _get(s)[1] == {"b": b"", "other": b""}


def test_osd_tmapput_validates_and_tmapget_needs_the_object():
    s = _store()
    assert _run(s, [["tmapget", {}]]).r == -errno.ENOENT
    good = tmap.encode(b"hdr", {"k": b"v"})
    assert _run(s, [["tmapput", {"dlen": len(good)}]], good).r == 0
    assert _get(s) == (b"hdr", {"k": b"v"})
    bad = b"\xff\xff\xff\x7f"
    assert _run(s, [["tmapput", {"dlen": len(bad)}]], bad).r == -errno.EINVAL
    assert _get(s) == (b"hdr", {"k": b"v"})


def test_tmap_ops_are_refused_on_pools_without_omap():
    s = _store()
    env = OpEnv(now=1.0, supports_omap=False)  # an erasure-coded pool
    assert _up(s, tmap.set_command("a"), env).r == -errno.EOPNOTSUPP
