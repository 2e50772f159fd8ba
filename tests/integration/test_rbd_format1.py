"""Format-1 ("old format") images through the public `rbd` API against an embedded cluster.

librbd 16.2 cannot create them, so each test lays one out with `rados` as a pre-Pacific
librbd did: the header `<name>.rbd` (struct rbd_obj_header_ondisk), data objects
`<block name>.<objectno:012x>` and, when listed, an entry in `rbd_directory`'s tmap.
Then open/read/write/resize/snapshots/remove behave as librbd 16.2 on such an image
(src/librbd/image/OpenRequest.cc v1 path, RefreshRequest v1, RemoveRequest v1).
"""

from __future__ import annotations

import errno
import struct
import uuid
from collections.abc import Iterator

import pytest

import rados
import rbd
from pyceph.common import tmap

MiB = 1 << 20
ORDER = 22
OBJ = 1 << ORDER
HEADER_TEXT = b"<<< Rados Block Device Image >>>\n"
#: offsetof(rbd_obj_header_ondisk, image_size)
SIZE_OFFSET = 80


def v1_header(block_name: str, size: int, order: int = ORDER) -> bytes:
    return (
        HEADER_TEXT.ljust(40, b"\0")
        + block_name.encode().ljust(24, b"\0")
        + b"RBD\0"
        + b"001.005\0"
        + struct.pack("<BBBB", order, 0, 0, 0)
        + struct.pack("<QQIIQ", size, 0, 0, 0, 0)
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


@pytest.fixture
def ioctx(cluster: rados.Rados) -> Iterator[rados.Ioctx]:
    pool = f"rbd-v1-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(pool)
    io = cluster.open_ioctx(pool)
    io.application_enable("rbd")
    yield io
    io.close()
    cluster.delete_pool(pool)


def make_v1(io: rados.Ioctx, name: str, size: int, *, listed: bool) -> str:
    """Lay out a format-1 image; its block name prefix."""
    block = f"rb.0.{uuid.uuid4().hex[:4]}.{uuid.uuid4().hex[:8]}"
    io.write_full(f"{name}.rbd", v1_header(block, size))
    if listed:  # what librbd's tmap_set left in rbd_directory's data
        try:
            cur = io.read("rbd_directory", 1 << 20)
        except rados.ObjectNotFound:
            cur = b""
        _hdr, keys = tmap.decode(cur)
        keys[name] = b""
        io.write_full("rbd_directory", tmap.encode(b"", keys))
    return block


def objects(io: rados.Ioctx) -> list[str]:
    return sorted(o.key for o in io.list_objects())


def test_open_reports_old_format_metadata(ioctx: rados.Ioctx) -> None:
    block = make_v1(ioctx, "v1", 8 * MiB, listed=True)
    ioctx.write_full(f"{block}.{0:012x}", b"format-one")
    with rbd.Image(ioctx, "v1") as img:
        assert img.old_format() is True
        assert img.size() == 8 * MiB
        assert img.features() == 0 and img.op_features() == 0 and img.flags() == 0
        assert img.block_name_prefix() == block
        assert img.stripe_unit() == OBJ and img.stripe_count() == 1
        st = img.stat()
        assert (st["order"], st["num_objs"], st["obj_size"]) == (ORDER, 2, OBJ)
        assert st["block_name_prefix"] == block
        with pytest.raises(rbd.InvalidArgument):
            img.id()
        with pytest.raises(rbd.ImageNotFound):
            img.parent_info()
        with pytest.raises(rbd.InvalidArgument):
            img.update_features(rbd.RBD_FEATURE_EXCLUSIVE_LOCK, True)
        assert img.features() == 0
        assert img.list_lockers() == []
        assert img.read(0, 12) == b"format-one\0\0"
    # v1 images are listed first, with no id
    rbd.RBD().create(ioctx, "v2", MiB)
    assert rbd.RBD().list(ioctx) == ["v1", "v2"]
    assert [(e["name"], e["id"]) for e in rbd.RBD().list2(ioctx)][0] == ("v1", "")


def test_write_read_discard_use_012x_data_objects(ioctx: rados.Ioctx) -> None:
    block = make_v1(ioctx, "img", 8 * MiB, listed=True)
    with rbd.Image(ioctx, "img") as img:
        assert img.write(b"abc", OBJ - 1) == 3  # spans objects 0 and 1
        assert img.read(OBJ - 2, 5) == b"\0abc\0"
        assert f"{block}.{0:012x}" in objects(ioctx)
        assert ioctx.read(f"{block}.{1:012x}", 2) == b"bc"
        img.discard(OBJ, OBJ)
        assert img.read(OBJ, 2) == b"\0\0"
    with rbd.Image(ioctx, "img", read_only=True) as ro:
        assert ro.read(OBJ - 1, 1) == b"a"


def test_resize_rewrites_the_header_size(ioctx: rados.Ioctx) -> None:
    block = make_v1(ioctx, "rs", 8 * MiB, listed=True)
    with rbd.Image(ioctx, "rs") as img:
        img.write(b"x", 6 * MiB)
        img.resize(16 * MiB)
        assert img.size() == 16 * MiB
        raw = ioctx.read("rs.rbd", 200)
        assert struct.unpack_from("<Q", raw, SIZE_OFFSET)[0] == 16 * MiB
        assert raw.startswith(HEADER_TEXT)
        img.resize(4 * MiB)  # the object past the new end goes
        assert f"{block}.{1:012x}" not in objects(ioctx)
    with rbd.Image(ioctx, "rs") as again:
        assert again.size() == 4 * MiB


def test_snapshots_live_in_the_v1_header(ioctx: rados.Ioctx) -> None:
    make_v1(ioctx, "sn", 8 * MiB, listed=True)
    with rbd.Image(ioctx, "sn") as img:
        assert list(img.list_snaps()) == []
        img.write(b"old", 0)
        img.create_snap("s1")
        img.write(b"new", 0)
        snaps = list(img.list_snaps())
        assert [(s["name"], s["size"]) for s in snaps] == [("s1", 8 * MiB)]
        # the header holds the snapshot table (snap_count at offset 96)
        assert struct.unpack_from("<I", ioctx.read("sn.rbd", 200), 96)[0] == 1
        with rbd.Image(ioctx, "sn", snapshot="s1", read_only=True) as at:
            assert at.read(0, 3) == b"old"
        assert img.read(0, 3) == b"new"
        img.rename_snap("s1", "s2")
        assert [s["name"] for s in img.list_snaps()] == ["s2"]
        with pytest.raises(rbd.ImageHasSnapshots):
            rbd.RBD().remove(ioctx, "sn")
        img.remove_snap("s2")
        assert list(img.list_snaps()) == []
    rbd.RBD().remove(ioctx, "sn")


def test_remove_takes_objects_and_the_directory_entry(ioctx: rados.Ioctx) -> None:
    block = make_v1(ioctx, "gone", 8 * MiB, listed=True)
    make_v1(ioctx, "keep", MiB, listed=True)
    with rbd.Image(ioctx, "gone") as img:
        img.write(b"data", OBJ)
    rbd.RBD().remove(ioctx, "gone")
    assert not [o for o in objects(ioctx) if o.startswith(block) or o == "gone.rbd"]
    assert rbd.RBD().list(ioctx) == ["keep"]
    with pytest.raises(rbd.ImageNotFound):
        rbd.Image(ioctx, "gone")


def test_remove_of_an_unlisted_image_deletes_it_and_reports_enoent(ioctx: rados.Ioctx) -> None:
    """As librbd 16.2: the objects go, then tmap_rm finds no directory entry."""
    block = make_v1(ioctx, "stray", 8 * MiB, listed=False)
    ioctx.write_full(f"{block}.{0:012x}", b"x")
    assert rbd.RBD().list(ioctx) == []
    with pytest.raises(rbd.ImageNotFound):
        rbd.RBD().remove(ioctx, "stray")
    assert objects(ioctx) == []


def test_a_bad_header_is_not_an_image(ioctx: rados.Ioctx) -> None:
    """As the reference: a short header is EIO, one without the header text ENXIO."""
    ioctx.write_full("short.rbd", b"not a header")
    with pytest.raises(rbd.IOError) as ei:
        rbd.Image(ioctx, "short")
    assert ei.value.errno == errno.EIO
    ioctx.write_full("zeros.rbd", bytes(200))
    with pytest.raises(rbd.OSError) as ei:
        rbd.Image(ioctx, "zeros")
    assert ei.value.errno == errno.ENXIO


def test_create_only_when_forced(ioctx: rados.Ioctx, monkeypatch: pytest.MonkeyPatch) -> None:
    """librbd 16.2 creates a format-1 image only with RBD_FORCE_ALLOW_V1 set (and the
    legacy create takes the format from rbd_default_format)."""
    R = rbd.RBD()
    with pytest.raises(rbd.InvalidArgument):
        rbd.RBD().create(ioctx, "forced", 8 * MiB, old_format=True, features=1)
    ioctx.rados.conf_set("rbd_default_format", "1")
    try:
        with pytest.raises(rbd.InvalidArgument):
            R.create(ioctx, "forced", 8 * MiB, old_format=True)
        monkeypatch.setenv("RBD_FORCE_ALLOW_V1", "1")
        R.create(ioctx, "forced", 8 * MiB, old_format=True)
        with pytest.raises(rbd.ImageExists):
            R.create(ioctx, "forced", MiB, old_format=True)
    finally:
        ioctx.rados.conf_set("rbd_default_format", "2")
    assert R.list(ioctx) == ["forced"]
    raw = ioctx.read("forced.rbd", 200)
    assert raw.startswith(HEADER_TEXT) and len(raw) == 112
    with rbd.Image(ioctx, "forced") as img:
        assert img.old_format() and img.size() == 8 * MiB
        assert img.block_name_prefix().startswith("rb.0.")
        assert img.stat()["order"] == ORDER
        img.write(b"v1", 0)
    R.remove(ioctx, "forced")
    assert objects(ioctx) == ["rbd_directory"]


def test_rename_moves_the_header_and_the_directory_entry(ioctx: rados.Ioctx) -> None:
    block = make_v1(ioctx, "old", 8 * MiB, listed=True)
    make_v1(ioctx, "other", MiB, listed=True)
    with rbd.Image(ioctx, "old") as img:
        img.write(b"kept", 0)
    with pytest.raises(rbd.ImageExists):
        rbd.RBD().rename(ioctx, "old", "other")
    rbd.RBD().rename(ioctx, "old", "new")
    assert rbd.RBD().list(ioctx) == ["new", "other"]
    assert "old.rbd" not in objects(ioctx)
    with rbd.Image(ioctx, "new") as img:
        assert img.read(0, 4) == b"kept" and img.block_name_prefix() == block
    with pytest.raises(rbd.ImageNotFound):
        rbd.Image(ioctx, "old")


def test_rollback_copy_and_what_format_1_cannot_do(ioctx: rados.Ioctx) -> None:
    make_v1(ioctx, "src", 8 * MiB, listed=True)
    with rbd.Image(ioctx, "src") as img:
        img.write(b"one", 0)
        img.create_snap("s")
        img.write(b"two", 0)
        img.resize(12 * MiB)
        img.rollback_to_snap("s")  # data and size as at the snapshot
        assert (img.read(0, 3), img.size()) == (b"one", 8 * MiB)
        img.copy(ioctx, "copied")  # a format-2 image with the source's features (none)
        with pytest.raises(rbd.FunctionNotSupported):
            img.protect_snap("s")  # no layering
    with rbd.Image(ioctx, "copied") as cp:
        assert (cp.old_format(), cp.features(), cp.read(0, 3)) == (False, 0, b"one")
    with pytest.raises(rbd.FunctionNotSupported):
        rbd.RBD().clone(ioctx, "src", "s", ioctx, "kid")
    with pytest.raises(rbd.OperationNotSupported):
        rbd.RBD().trash_move(ioctx, "src")
