"""The embedded cluster: `mon_host = embedded:[DIR]` runs mon, mgr and OSDs in-process.

Memory clusters are shared by every handle in this (pytest) process; DIR clusters are
exercised in subprocesses where the test is about processes (persistence, EBUSY).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator

import pytest

import rados
from pyceph.embedded import registry

MEMORY = {"mon_host": "embedded:"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    r = rados.Rados(conf=MEMORY)
    r.connect()
    try:
        yield r
    finally:
        r.shutdown()


@pytest.fixture
def ioctx(cluster: rados.Rados) -> Iterator[rados.Ioctx]:
    pool = f"p-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(pool)
    io = cluster.open_ioctx(pool)
    try:
        yield io
    finally:
        io.close()
        cluster.delete_pool(pool)


def test_connect_write_read(cluster: rados.Rados, ioctx: rados.Ioctx) -> None:
    assert cluster.state == "connected"
    assert cluster.conf_get("mon_host") == "embedded:"
    ioctx.write_full("obj", b"hello embedded")
    ioctx.append("obj", b"!")
    assert ioctx.read("obj") == b"hello embedded!"
    size, _mtime = ioctx.stat("obj")
    assert size == 15
    ioctx.set_xattr("obj", "a", b"1")
    assert ioctx.get_xattr("obj", "a") == b"1"
    assert [o.key for o in ioctx.list_objects()] == ["obj"]
    status = cluster.mon_command('{"prefix": "osd stat", "format": "json"}', b"")
    assert status[0] == 0 and b'"num_up_osds": 3' in status[1].replace(b":3", b": 3")


def test_omap(ioctx: rados.Ioctx) -> None:
    with rados.WriteOpCtx() as op:
        ioctx.set_omap(op, ("k1", "k2", "k3"), (b"v1", b"v2", b"v3"))
        ioctx.operate_write_op(op, "omap-obj")
    with rados.ReadOpCtx() as op:
        it, ret = ioctx.get_omap_vals(op, "", "", 10)
        ioctx.operate_read_op(op, "omap-obj")
        assert ret == 0
        assert dict(it) == {"k1": b"v1", "k2": b"v2", "k3": b"v3"}
    with rados.WriteOpCtx() as op:
        ioctx.remove_omap_keys(op, ("k2",))
        ioctx.operate_write_op(op, "omap-obj")
    with rados.ReadOpCtx() as op:
        it, _ = ioctx.get_omap_keys(op, "", 10)
        ioctx.operate_read_op(op, "omap-obj")
        assert [k for k, _ in it] == ["k1", "k3"]


def test_errors_are_upstreams(cluster: rados.Rados, ioctx: rados.Ioctx) -> None:
    with pytest.raises(rados.ObjectNotFound):
        ioctx.read("missing")
    with pytest.raises(rados.ObjectNotFound):
        ioctx.remove_object("missing")
    with pytest.raises(rados.ObjectExists):
        cluster.create_pool(ioctx.get_pool_name())
    with pytest.raises(rados.ObjectNotFound):
        cluster.open_ioctx("no-such-pool")


def test_pool_snapshots(ioctx: rados.Ioctx) -> None:
    ioctx.write_full("s", b"data")
    ioctx.create_snap("snap1")
    ioctx.write_full("s", b"newer")  # copy-on-write: snap1 keeps the old bytes
    ioctx.set_read(ioctx.lookup_snap("snap1").snap_id)
    assert ioctx.read("s") == b"data"
    ioctx.set_read(rados.LIBRADOS_SNAP_HEAD)
    assert ioctx.read("s") == b"newer"
    ioctx.snap_rollback("s", "snap1")
    assert ioctx.read("s") == b"data"
    ioctx.create_snap("snap2")
    with pytest.raises(rados.ObjectExists):
        ioctx.create_snap("snap1")
    assert [s.name for s in ioctx.list_snaps()] == ["snap1", "snap2"]
    assert ioctx.lookup_snap("snap2").snap_id == ioctx.lookup_snap("snap1").snap_id + 1
    ioctx.remove_snap("snap1")
    with pytest.raises(rados.ObjectNotFound):
        ioctx.lookup_snap("snap1")
    assert [s.name for s in ioctx.list_snaps()] == ["snap2"]


def test_watch_notify_between_handles(ioctx: rados.Ioctx) -> None:
    ioctx.write_full("w", b"")
    got: list[bytes] = []
    seen = threading.Event()

    def on_notify(notify_id: int, notifier_id: int, watch_id: int, data: bytes) -> None:
        got.append(bytes(data))
        seen.set()

    with rados.Rados(conf=MEMORY) as other, other.open_ioctx(ioctx.get_pool_name()) as io2:
        watch = io2.watch("w", on_notify)
        try:
            assert ioctx.notify("w", "ping")
            assert seen.wait(10)
        finally:
            watch.close()
    assert got == [b"ping"]


def test_handles_share_one_instance(cluster: rados.Rados, ioctx: rados.Ioctx) -> None:
    ioctx.write_full("shared", b"from handle 1")
    with rados.Rados(conf=MEMORY) as r2:
        assert r2.get_fsid() == cluster.get_fsid()
        assert r2.get_instance_id() != cluster.get_instance_id()
        with r2.open_ioctx(ioctx.get_pool_name()) as io2:
            assert io2.read("shared") == b"from handle 1"
            io2.write_full("back", b"from handle 2")
    assert ioctx.read("back") == b"from handle 2"
    assert list(registry.running()) == [""]


def test_handle_shutdown_leaves_no_tasks(cluster: rados.Rados) -> None:
    lt = registry.loop_thread()

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    before = lt.run(count())
    r = rados.Rados(conf=MEMORY)
    r.connect()
    assert lt.run(count()) > before  # the new client's tasks
    r.shutdown()
    assert lt.run(count()) == before
    with pytest.raises(rados.RadosStateError):
        r.list_pools()


def test_callbacks_run_on_the_handles_finisher(ioctx: rados.Ioctx) -> None:
    done = threading.Event()
    where: list[str] = []

    def cb(completion: rados.Completion) -> None:
        where.append(threading.current_thread().name)
        done.set()

    c = ioctx.aio_write_full("aio", b"x", oncomplete=cb)
    c.wait_for_complete()
    assert done.wait(10)
    assert where[0].endswith("-finisher") and "embedded" not in where[0]


def test_ping_monitor_before_connect() -> None:
    r = rados.Rados(conf=MEMORY)
    assert r.ping_monitor("a")
    r.shutdown()


# -- a cluster in a directory, across processes --------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import sys, rados
    path, mode = sys.argv[1], sys.argv[2]
    r = rados.Rados(conf={"mon_host": "embedded:" + path})
    try:
        r.connect()
    except rados.Error as e:
        print("error", type(e).__name__, getattr(e, "errno", None), e, flush=True)
        sys.exit(2)
    if mode == "write":
        r.create_pool("data")
        with r.open_ioctx("data") as io:
            io.write_full("kept", b"across processes")
            with rados.WriteOpCtx() as op:
                io.set_omap(op, ("k",), (b"v",))
                io.operate_write_op(op, "kept")
    elif mode == "read":
        with r.open_ioctx("data") as io:
            with rados.ReadOpCtx() as op:
                it, _ = io.get_omap_vals(op, "", "", 10)
                io.operate_read_op(op, "kept")
                print("read", io.read("kept").decode(), dict(it), flush=True)
    elif mode == "hold":
        print("holding", flush=True)
        sys.stdin.read()
    print("fsid", r.get_fsid(), flush=True)
    r.shutdown()
    """
)


def _run(path: str, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, path, mode], capture_output=True, text=True, timeout=120
    )


def test_dir_persists_across_processes(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "cluster")
    w = _run(path, "write")
    assert w.returncode == 0, w.stderr
    r = _run(path, "read")
    assert r.returncode == 0, r.stderr
    assert "read across processes {'k': b'v'}" in r.stdout
    fsid = [line for line in w.stdout.splitlines() if line.startswith("fsid")]
    assert fsid and fsid[0] in r.stdout
    assert sorted(os.listdir(path)) == [
        "ceph.conf", "embedded.lock", "keyring", "mon.a", "osd.0", "osd.1", "osd.2"
    ]  # fmt: skip
    with open(os.path.join(path, "ceph.conf")) as f:
        assert f"mon_host = embedded:{os.path.realpath(path)}" in f.read()


def test_dir_in_use_by_another_process_is_ebusy(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "cluster")
    holder = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, path, "hold"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "holding"
        busy = _run(path, "read")
        assert busy.returncode == 2, busy.stderr
        assert busy.stdout.startswith("error ObjectBusy 16 "), busy.stdout
        assert f"in use by process {holder.pid}" in busy.stdout
        # in this process too: rados.Error family, errno EBUSY
        r = rados.Rados(conf={"mon_host": f"embedded:{path}"})
        with pytest.raises(rados.Error) as ei:
            r.connect()
        assert ei.value.errno == 16
        holder.stdin.close()
        assert holder.wait(60) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    w = _run(path, "write")  # free again once the holder has gone
    assert w.returncode == 0, w.stdout + w.stderr


def test_dir_shared_in_process_and_released_by_last_handle(
    tmp_path: os.PathLike[str],
) -> None:
    path = os.path.realpath(os.path.join(tmp_path, "cluster"))
    conf = {"mon_host": f"embedded:{path}"}
    with rados.Rados(conf=conf) as r1, rados.Rados(conf=conf) as r2:
        assert r1.get_fsid() == r2.get_fsid()
        assert path in registry.running()
        r1.create_pool("data")
        with r1.open_ioctx("data") as io:
            io.write_full("kept", b"across processes")
            with rados.WriteOpCtx() as op:
                io.set_omap(op, ("k",), (b"v",))
                io.operate_write_op(op, "kept")
        busy = _run(path, "read")
        assert busy.returncode == 2 and "ObjectBusy" in busy.stdout
    assert path not in registry.running()
    r = _run(path, "read")  # the last handle released the directory
    assert r.returncode == 0, r.stdout + r.stderr
    assert "read across processes" in r.stdout


def test_dir_holding_something_else_is_refused(tmp_path: os.PathLike[str]) -> None:
    with open(os.path.join(tmp_path, "unrelated.txt"), "w") as f:
        f.write("mine")
    r = rados.Rados(conf={"mon_host": f"embedded:{tmp_path}"})
    with pytest.raises(rados.Error) as ei:
        r.connect()
    assert ei.value.errno == 39  # ENOTEMPTY
    assert sorted(os.listdir(tmp_path)) == ["embedded.lock", "unrelated.txt"]
