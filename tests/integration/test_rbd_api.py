"""The public `rbd` API against an embedded cluster, as a python3-rbd 16.2 program uses it.

Scenarios follow upstream's `src/test/pybind/test_rbd.py` (assertions restated, not
copied): create/list/open/write/read/snapshots/clones/flatten/remove through `rbd`
only, `Completion` semantics of the aio calls, and bad input (wrong types -> TypeError,
missing image -> ImageNotFound with errno 2, ...).
"""

from __future__ import annotations

import errno
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

import rados
import rbd

IMG_SIZE = 8 << 20
IMG_ORDER = 22
#: image features, as upstream's test_rbd.py takes them: RBD_FEATURES=61 runs the suite
#: with exclusive-lock, object-map, fast-diff and deep-flatten (default: layering only)
FEATURES = int(os.environ.get("RBD_FEATURES", rbd.RBD_FEATURE_LAYERING))


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


@pytest.fixture(scope="module")
def ioctx(cluster: rados.Rados) -> Iterator[rados.Ioctx]:
    pool = f"rbd-api-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(pool)
    io = cluster.open_ioctx(pool)
    yield io
    io.close()
    cluster.delete_pool(pool)


@pytest.fixture
def name(ioctx: rados.Ioctx) -> Iterator[str]:
    """A fresh image of IMG_SIZE, removed afterwards if still there."""
    n = f"img-{uuid.uuid4().hex[:8]}"
    rbd.RBD().create(ioctx, n, IMG_SIZE, IMG_ORDER, features=FEATURES)
    yield n
    try:
        with rbd.Image(ioctx, n) as im:
            for s in list(im.list_snaps()):
                if im.is_protected_snap(s["name"]):
                    im.unprotect_snap(s["name"])
                im.remove_snap(s["name"])
        rbd.RBD().remove(ioctx, n)
    except rbd.ImageNotFound:
        pass


# -- RBD --------------------------------------------------------------------------------


def test_create_list_open_remove(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    n = f"img-{uuid.uuid4().hex[:8]}"
    r.create(ioctx, n, IMG_SIZE, IMG_ORDER, features=FEATURES)
    assert n in r.list(ioctx)
    with rbd.Image(ioctx, n) as im:
        image_id = im.id()
        assert isinstance(image_id, str)
        assert im.get_name() == n
        assert im.size() == IMG_SIZE
        assert im.features() == FEATURES
        assert im.old_format() is False
        st = im.stat()
        assert st["size"] == IMG_SIZE and st["order"] == IMG_ORDER
        assert st["obj_size"] == 1 << IMG_ORDER and st["num_objs"] == 2
        assert st["block_name_prefix"] == f"rbd_data.{image_id}" == im.block_name_prefix()
        assert im.stripe_unit() == 1 << IMG_ORDER and im.stripe_count() == 1
        assert isinstance(im.create_timestamp(), datetime)
    assert {"id": image_id, "name": n} in list(r.list2(ioctx))
    with rbd.Image(ioctx, image_id=image_id) as im:
        assert im.get_name() == n
        assert repr(im) == f"rbd.Image(ioctx, {n!r})"
    r.remove(ioctx, n)
    assert n not in r.list(ioctx)
    with pytest.raises(rbd.ImageNotFound) as ei:
        r.remove(ioctx, n)
    assert ei.value.errno == errno.ENOENT
    assert str(ei.value) == "[errno 2] RBD image not found (error removing image)"


def test_create_bad_input(ioctx: rados.Ioctx, name: str) -> None:
    r = rbd.RBD()
    with pytest.raises(rbd.ImageExists) as ei:
        r.create(ioctx, name, IMG_SIZE, features=FEATURES)
    assert ei.value.errno == errno.EEXIST
    with pytest.raises(TypeError):
        r.create(ioctx, "x", "big")
    with pytest.raises(rbd.InvalidArgument, match="name must be a string"):
        r.create(ioctx, 42, IMG_SIZE)
    with pytest.raises(TypeError, match="rados.Ioctx"):
        r.create("pool", "x", IMG_SIZE)
    for order in (11, 65):
        with pytest.raises(rbd.ArgumentOutOfRange):
            r.create(ioctx, f"bad-{order}", IMG_SIZE, order, features=FEATURES)
    assert not [n for n in r.list(ioctx) if n.startswith("bad-")]


def test_open_missing(ioctx: rados.Ioctx, name: str) -> None:
    with pytest.raises(rbd.ImageNotFound) as ei:
        rbd.Image(ioctx, "no-such-image")
    assert ei.value.errno == errno.ENOENT
    assert str(ei.value) == (
        "[errno 2] RBD image not found (error opening image b'no-such-image' at snapshot None)"
    )
    with pytest.raises(rbd.ImageNotFound):
        rbd.Image(ioctx, name, "no-such-snap")
    with pytest.raises(rbd.ImageNotFound):
        rbd.Image(ioctx, "no-such-image", read_only=True)


def test_rename(ioctx: rados.Ioctx, name: str) -> None:
    r = rbd.RBD()
    other = name + "-renamed"
    r.rename(ioctx, name, other)
    assert other in r.list(ioctx) and name not in r.list(ioctx)
    with pytest.raises(rbd.ImageNotFound):
        r.rename(ioctx, name, "x")
    r.rename(ioctx, other, name)
    assert name in r.list(ioctx)


def test_remove_progress_and_cancel(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    n = f"img-{uuid.uuid4().hex[:8]}"
    r.create(ioctx, n, IMG_SIZE, features=FEATURES)
    with pytest.raises(rbd.OperationCanceled):
        r.remove(ioctx, n, on_progress=lambda cur, total: -rbd.ECANCELED)
    seen: list[tuple[int, int]] = []
    r.remove(ioctx, n, on_progress=lambda cur, total: seen.append((cur, total)) or 0)
    assert seen and n not in r.list(ioctx)


def test_remove_with_snapshots(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.create_snap("s")
    with pytest.raises(rbd.ImageHasSnapshots) as ei:
        rbd.RBD().remove(ioctx, name)
    assert ei.value.errno == errno.ENOTEMPTY
    assert name in rbd.RBD().list(ioctx)


def test_pool_metadata(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    with pytest.raises(KeyError):
        r.pool_metadata_get(ioctx, "key1")
    r.pool_metadata_set(ioctx, "key1", "value1")
    r.pool_metadata_set(ioctx, "key2", "value2")
    assert r.pool_metadata_get(ioctx, "key1") == "value1"
    assert list(r.pool_metadata_list(ioctx)) == [("key1", "value1"), ("key2", "value2")]
    r.pool_metadata_remove(ioctx, "key1")
    r.pool_metadata_remove(ioctx, "key2")
    with pytest.raises(KeyError):
        r.pool_metadata_remove(ioctx, "key2")
    many = 65  # more than one chunk of the paged iterator
    for i in range(many):
        r.pool_metadata_set(ioctx, f"k{i:03}", "X" * 1025)
    assert len(list(r.pool_metadata_list(ioctx))) == many
    for i in range(many):
        r.pool_metadata_remove(ioctx, f"k{i:03}")
    assert list(r.pool_metadata_list(ioctx)) == []


def test_pool_config_overrides(ioctx: rados.Ioctx) -> None:
    r = rbd.RBD()
    r.config_set(ioctx, "rbd_request_timed_out_seconds", "100")
    assert r.config_get(ioctx, "rbd_request_timed_out_seconds") == "100"
    r.config_remove(ioctx, "rbd_request_timed_out_seconds")
    with pytest.raises(KeyError):
        r.config_get(ioctx, "rbd_request_timed_out_seconds")


def test_pool_stats(ioctx: rados.Ioctx, name: str) -> None:
    st = rbd.RBD().pool_stats_get(ioctx)
    assert st["image_count"] >= 1
    assert set(st) == {
        "image_count",
        "image_provisioned_bytes",
        "image_max_provisioned_bytes",
        "image_snap_count",
        "trash_count",
        "trash_provisioned_bytes",
        "trash_max_provisioned_bytes",
        "trash_snap_count",
    }


# -- Image: I/O and state ------------------------------------------------------------------


def test_write_read_discard(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        assert im.read(0, 20) == b"\0" * 20
        data = bytes(range(256)) * 16
        assert im.write(data, (1 << 22) - 100) == len(data)  # across an object boundary
        got = im.read((1 << 22) - 100, len(data))
        assert type(got) is bytes and got == data
        assert im.read(0, 10, rados.LIBRADOS_OP_FLAG_FADVISE_DONTNEED) == b"\0" * 10
        im.discard(1 << IMG_ORDER, 1 << IMG_ORDER)  # a whole object
        assert im.read(1 << IMG_ORDER, 100) == b"\0" * 100
        im.write_zeroes(1 << 22, 50)
        assert im.read(1 << 22, 50) == b"\0" * 50
        im.flush()
        with pytest.raises(TypeError, match="data must be a byte string"):
            im.write("text", 0)
        with pytest.raises(rbd.InvalidArgument):
            im.read(IMG_SIZE, 20)
        with pytest.raises(TypeError):
            im.read("0", 10)


def test_resize(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.write(b"x" * 10, IMG_SIZE - 10)
        im.resize(IMG_SIZE * 2)
        assert im.size() == IMG_SIZE * 2
        with pytest.raises(rbd.InvalidArgument):
            im.resize(IMG_SIZE, allow_shrink=False)
        assert im.size() == IMG_SIZE * 2
        im.resize(IMG_SIZE - 5)
        assert im.size() == IMG_SIZE - 5
        assert im.read(IMG_SIZE - 10, 5) == b"x" * 5


def test_closed_image(ioctx: rados.Ioctx, name: str) -> None:
    im = rbd.Image(ioctx, name)
    im.close()
    im.close()  # closing twice is fine
    for call in (im.size, im.stat, lambda: im.read(0, 1), lambda: im.write(b"a", 0)):
        with pytest.raises(rbd.InvalidArgument, match="image is closed"):
            call()
    with pytest.raises(rbd.InvalidArgument):
        im.list_snaps()


def test_read_only(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.write(b"data", 0)
        im.create_snap("snap")
    with rbd.Image(ioctx, name, read_only=True) as im:
        assert im.read(0, 4) == b"data"
        with pytest.raises(rbd.ReadOnlyImage):
            im.write(b"x", 0)
        with pytest.raises(rbd.ReadOnlyImage):
            im.create_snap("other")
        with pytest.raises(rbd.ReadOnlyImage):
            im.remove_snap("snap")


def test_snapshots(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        assert list(im.list_snaps()) == []
        im.write(b"A" * 256, 0)
        im.create_snap("s1")
        assert im.snap_exists("s1") and not im.snap_exists("nope")
        snaps = list(im.list_snaps())
        assert [s["name"] for s in snaps] == ["s1"]
        s1 = snaps[0]
        assert s1["size"] == IMG_SIZE and s1["namespace"] == rbd.RBD_SNAP_NAMESPACE_TYPE_USER
        assert im.snap_get_id("s1") == s1["id"] and im.snap_get_name(s1["id"]) == "s1"
        assert isinstance(im.get_snap_timestamp(s1["id"]), datetime)
        with pytest.raises(rbd.ImageExists):
            im.create_snap("s1")
        im.write(b"B" * 256, 0)
        im.set_snap("s1")
        assert im.read(0, 256) == b"A" * 256
        with pytest.raises(rbd.ReadOnlyImage):
            im.write(b"C", 0)
        im.set_snap(None)
        assert im.read(0, 256) == b"B" * 256
        im.set_snap_by_id(s1["id"])
        assert im.read(0, 1) == b"A"
        im.set_snap_by_id(None)
        im.rollback_to_snap("s1")
        assert im.read(0, 256) == b"A" * 256
        im.protect_snap("s1")
        assert im.is_protected_snap("s1")
        with pytest.raises(rbd.ImageBusy):
            im.remove_snap("s1")
        im.unprotect_snap("s1")
        im.rename_snap("s1", "s2")
        assert [s["name"] for s in im.list_snaps()] == ["s2"]
        im.remove_snap("s2")
        with pytest.raises(rbd.ImageNotFound):
            im.remove_snap("s2")
        assert list(im.list_snaps()) == []


def test_snap_limit(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.set_snap_limit(1)
        assert im.get_snap_limit() == 1
        im.create_snap("a")
        with pytest.raises(rbd.DiskQuotaExceeded):
            im.create_snap("b")
        im.remove_snap_limit()
        assert im.get_snap_limit() == 2**64 - 1
        im.create_snap("b")


def test_image_metadata(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        with pytest.raises(KeyError):
            im.metadata_get("k")
        im.metadata_set("k", "v")
        assert im.metadata_get("k") == "v"
        assert list(im.metadata_list()) == [("k", "v")]
        im.metadata_remove("k")
        with pytest.raises(KeyError):
            im.metadata_remove("k")
        im.config_set("rbd_cache", "false")
        assert im.config_get("rbd_cache") == "false"
        im.config_remove("rbd_cache")
        with pytest.raises(KeyError):
            im.config_get("rbd_cache")


def test_advisory_locks(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        assert im.list_lockers() == []
        im.lock_exclusive("cookie")
        with pytest.raises(rbd.ImageExists):
            im.lock_exclusive("cookie")
        lockers = im.list_lockers()
        assert lockers["exclusive"] is True and lockers["tag"] == ""
        assert [c for _, c, _ in lockers["lockers"]] == ["cookie"]
        im.unlock("cookie")
        with pytest.raises(rbd.ImageNotFound):
            im.unlock("cookie")


def test_watchers(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        watchers = list(im.watchers_list())
        assert len(watchers) == 1
        assert set(watchers[0]) == {"addr", "id", "cookie"}


def test_diff_iterate(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        im.write(b"a" * 512, 0)
        im.create_snap("d1")
        im.write(b"b" * 512, 1 << 22)
        extents: list[tuple[int, int, bool]] = []
        im.diff_iterate(0, IMG_SIZE, "d1", lambda o, n, e: extents.append((o, n, e)))
        assert extents and all(o >= 1 << 22 for o, _, _ in extents)
        everything: list[tuple[int, int, bool]] = []
        im.diff_iterate(0, IMG_SIZE, None, lambda o, n, e: everything.append((o, n, e)))
        assert any(o == 0 for o, _, _ in everything)

        def boom(o: int, n: int, e: bool) -> None:
            raise ValueError("stop")

        with pytest.raises(ValueError, match="stop"):
            im.diff_iterate(0, IMG_SIZE, None, boom)


def test_copy(ioctx: rados.Ioctx, name: str) -> None:
    dest = name + "-copy"
    with rbd.Image(ioctx, name) as im:
        im.write(b"copy me", 100)
        im.copy(ioctx, dest)
        with pytest.raises(rbd.ImageExists):
            im.copy(ioctx, dest)
    with rbd.Image(ioctx, dest) as c:
        assert c.read(100, 7) == b"copy me" and c.size() == IMG_SIZE
    rbd.RBD().remove(ioctx, dest)


# -- aio and Completion --------------------------------------------------------------------


def test_aio_read_write_discard_flush(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        got: list[Any] = []
        threads: list[threading.Thread] = []

        def on_read(comp: rbd.Completion, buf: bytes | None) -> None:
            threads.append(threading.current_thread())
            got.append(buf)

        comp = im.aio_read(0, 20, on_read)
        comp.wait_for_complete_and_cb()
        assert got == [b"\0" * 20] and comp.get_return_value() == 20
        assert comp.is_complete()
        assert threads[0] is not threading.current_thread()
        assert sys.getrefcount(comp) == 2

        comp = im.aio_read(IMG_SIZE, 20, on_read)
        comp.wait_for_complete_and_cb()
        assert got[-1] is None and comp.get_return_value() < 0
        assert sys.getrefcount(comp) == 2

        rvals: list[int] = []

        def on_done(comp: rbd.Completion) -> None:
            rvals.append(comp.get_return_value())

        comp = im.aio_write(b"w" * 256, 256, on_done)
        comp.wait_for_complete_and_cb()
        assert rvals == [0] and comp.get_return_value() == 0
        assert sys.getrefcount(comp) == 2
        assert im.read(256, 256) == b"w" * 256
        im.write(b"o" * 256, 1 << IMG_ORDER)
        im.aio_discard(1 << IMG_ORDER, 1 << IMG_ORDER, on_done).wait_for_complete_and_cb()
        assert im.read(1 << IMG_ORDER, 256) == b"\0" * 256
        im.aio_write_zeroes(0, 10, on_done).wait_for_complete_and_cb()
        im.aio_flush(on_done).wait_for_complete_and_cb()
        assert rvals == [0, 0, 0, 0]


#: aio writes issued before one flush (enough to span several objects and OSD round trips)
FLUSH_WRITES = 16


@pytest.mark.parametrize("aio", [False, True], ids=["flush", "aio_flush"])
def test_flush_waits_for_earlier_aio_writes(ioctx: rados.Ioctx, name: str, aio: bool) -> None:
    """librbd completes a flush only after every write issued before it: no completion
    is waited for here, only the flush."""
    step = IMG_SIZE // FLUSH_WRITES
    with rbd.Image(ioctx, name) as im:
        comps = [im.aio_write(bytes([i + 1]) * 4096, i * step, None) for i in range(FLUSH_WRITES)]
        if aio:
            flushed: list[bool] = []

            def on_flush(comp: rbd.Completion) -> None:
                flushed.append(all(c.is_complete() for c in comps))

            im.aio_flush(on_flush).wait_for_complete_and_cb()
            assert flushed == [True]
        else:
            im.flush()
        for i in range(FLUSH_WRITES):
            assert im.read(i * step, 4096) == bytes([i + 1]) * 4096


def test_aio_discarded_completion_still_calls_back(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:
        done = threading.Event()
        im.aio_write(b"z" * 10, 0, lambda comp: done.set())  # result dropped at once
        assert done.wait(30)
        assert im.read(0, 10) == b"z" * 10


def test_aio_callback_exception_reraised(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name) as im:

        def bad(comp: rbd.Completion) -> None:
            raise RuntimeError("from callback")

        comp = im.aio_flush(bad)
        with pytest.raises(RuntimeError, match="from callback"):
            comp.wait_for_complete_and_cb()


def test_aio_open_and_close(ioctx: rados.Ioctx, name: str) -> None:
    opened: list[Any] = []
    comp = rbd.RBD().aio_open_image(lambda c, image: opened.append(image), ioctx, name)
    comp.wait_for_complete_and_cb()
    assert comp.get_return_value() == 0
    im = opened[0]
    assert isinstance(im, rbd.Image) and im.size() == IMG_SIZE
    closed: list[int] = []
    im.aio_close(lambda c: closed.append(c.get_return_value())).wait_for_complete_and_cb()
    assert closed == [0]
    with pytest.raises(rbd.InvalidArgument):
        im.size()

    missing: list[Any] = []
    comp = rbd.RBD().aio_open_image(lambda c, image: missing.append(image), ioctx, "nope")
    comp.wait_for_complete_and_cb()
    assert comp.get_return_value() == -errno.ENOENT
    with pytest.raises(rbd.InvalidArgument):
        missing[0].size()


# -- clones ----------------------------------------------------------------------------------


def test_clone_flatten(ioctx: rados.Ioctx, name: str) -> None:
    r = rbd.RBD()
    child = name + "-child"
    with rbd.Image(ioctx, name) as parent:
        parent.write(b"P" * 4096, 0)
        parent.create_snap("base")
        parent.protect_snap("base")
    r.clone(ioctx, name, "base", ioctx, child, features=FEATURES)
    with pytest.raises(rbd.ImageExists):
        r.clone(ioctx, name, "base", ioctx, child, features=FEATURES)
    with rbd.Image(ioctx, child) as c:
        assert c.parent_info() == (ioctx.get_pool_name(), name, "base")
        with rbd.Image(ioctx, name) as parent:
            assert c.parent_id() == parent.id()
        spec = c.get_parent_image_spec()
        assert spec == {
            "pool_name": ioctx.get_pool_name(),
            "pool_namespace": "",
            "image_name": name,
            "snap_name": "base",
        }
        assert c.overlap() == IMG_SIZE
        assert c.read(0, 4096) == b"P" * 4096
        c.write(b"C" * 10, 0)
        assert c.read(0, 20) == b"C" * 10 + b"P" * 10
    with rbd.Image(ioctx, name) as parent:
        parent.set_snap("base")
        assert parent.list_children() == [(ioctx.get_pool_name(), child)]
        kids = list(parent.list_children2())
        assert [k["image"] for k in kids] == [child] and kids[0]["trash"] is False
        parent.set_snap(None)
        with pytest.raises(rbd.ImageBusy):
            parent.unprotect_snap("base")
    progress: list[tuple[int, int]] = []
    with rbd.Image(ioctx, child) as c:
        c.flatten(on_progress=lambda cur, total: progress.append((cur, total)) or 0)
        with pytest.raises(rbd.ImageNotFound):
            c.parent_info()
        assert c.read(0, 20) == b"C" * 10 + b"P" * 10
    assert progress
    r.remove(ioctx, child)


def test_dropped_image_is_closed(ioctx: rados.Ioctx, name: str) -> None:
    rbd.Image(ioctx, name)  # dropped at once: closed as upstream's __dealloc__ does
    with rbd.Image(ioctx, name) as im:
        assert len(list(im.watchers_list())) == 1


def test_remove_open_image_is_busy(ioctx: rados.Ioctx, name: str) -> None:
    with rbd.Image(ioctx, name):
        with pytest.raises(rbd.ImageBusy) as ei:
            rbd.RBD().remove(ioctx, name)
        assert ei.value.errno == errno.EBUSY
    rbd.RBD().remove(ioctx, name)


def test_old_format_follows_rbd_default_format(cluster: rados.Rados, ioctx: rados.Ioctx) -> None:
    # upstream hands old_format=True to the legacy rbd_create(), which takes the format
    # from rbd_default_format: with the default (2) that is a format-2 image
    r = rbd.RBD()
    n = f"img-{uuid.uuid4().hex[:8]}"
    r.create(ioctx, n, IMG_SIZE, old_format=True)
    with rbd.Image(ioctx, n) as im:
        assert im.old_format() is False and im.size() == IMG_SIZE
    r.remove(ioctx, n)
    with pytest.raises(rbd.InvalidArgument, match="format 1 images do not support"):
        r.create(ioctx, n, IMG_SIZE, old_format=True, features=1)


def test_many_aio_in_flight(ioctx: rados.Ioctx, name: str) -> None:
    n = 64
    with rbd.Image(ioctx, name) as im:
        done: list[int] = []
        lock = threading.Lock()

        def cb(comp: rbd.Completion) -> None:
            with lock:
                done.append(comp.get_return_value())

        comps = [im.aio_write(bytes([i]) * 512, i * 65536, cb) for i in range(n)]
        for c in comps:
            c.wait_for_complete_and_cb()
        assert done == [0] * n
        reads: dict[int, bytes] = {}

        def on_read(comp: rbd.Completion, buf: bytes | None, i: int) -> None:
            reads[i] = buf  # type: ignore[assignment]

        comps = [im.aio_read(i * 65536, 512, lambda c, b, i=i: on_read(c, b, i)) for i in range(n)]
        for c in comps:
            c.wait_for_complete_and_cb()
        assert all(reads[i] == bytes([i]) * 512 for i in range(n))


def test_use_after_cluster_shutdown(ioctx: rados.Ioctx) -> None:
    # the image keeps the dead handle's header watch until it times out: it is left
    # in the (in-memory) pool rather than removed
    name = f"img-{uuid.uuid4().hex[:8]}"
    rbd.RBD().create(ioctx, name, IMG_SIZE, features=FEATURES)
    other = rados.Rados(conf={"mon_host": "embedded:"})
    other.connect()
    io = other.open_ioctx(ioctx.get_pool_name())
    im = rbd.Image(io, name)
    other.shutdown()
    with pytest.raises(rbd.ConnectionShutdown) as ei:
        im.read(0, 10)
    assert ei.value.errno == errno.ESHUTDOWN
    with pytest.raises(rbd.ConnectionShutdown):
        im.aio_flush(lambda comp: None)
    with pytest.raises(rbd.ConnectionShutdown):
        im.close()
    with pytest.raises(rbd.InvalidArgument):
        im.size()


def test_remove_checks_in_upstream_order(ioctx: rados.Ioctx, name: str) -> None:
    # PreRemoveRequest: snapshots (ENOTEMPTY) before watchers (EBUSY) before group (EMLINK)
    r = rbd.RBD()
    group = f"grp-{uuid.uuid4().hex[:8]}"
    r.group_create(ioctx, group)
    try:
        rbd.Group(ioctx, group).add_image(ioctx, name)
        with rbd.Image(ioctx, name) as im:
            im.create_snap("s")
            with pytest.raises(rbd.ImageHasSnapshots) as ei:
                r.remove(ioctx, name)
            assert ei.value.errno == errno.ENOTEMPTY
            im.remove_snap("s")
            with pytest.raises(rbd.ImageBusy) as eb:
                r.remove(ioctx, name)
            assert eb.value.errno == errno.EBUSY
        with pytest.raises(rbd.OSError) as eg:
            r.remove(ioctx, name)
        assert eg.value.errno == errno.EMLINK
        assert name in r.list(ioctx)  # nothing changed by the refusals
        rbd.Group(ioctx, group).remove_image(ioctx, name)
    finally:
        r.group_remove(ioctx, group)
    r.remove(ioctx, name)
    assert name not in r.list(ioctx)
