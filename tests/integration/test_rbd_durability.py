"""RBD durability: an OSD killed -9 and restarted while an image is written or flattened.

Issue 6, "What it must show": during `rbd bench --io-type write` (the CLI, a separate
process), during many `rbd` module `aio_write`s in flight and during a flatten of a
clone (`Image.flatten`, and `rbd flatten` as a separate process), an OSD holding the
data (its primary; for the aio writes a replica first) is killed -9 and restarted.
Afterwards every acknowledged write reads back (the test keeps a model of what each
acknowledged write put where), the object map agrees with the data objects that exist
(what upstream's `rbd object-map check` verifies, src/librbd/object_map/*: the map
object decoded here, its INVALID flags unset), and `diff_iterate` / `rbd diff` list
exactly the data present: every byte outside their extents reads as zero and every
written block lies inside one.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator

import pytest
from tests.waiting import wait_until

import rados
import rbd
from pyceph.cli.localcluster import LocalCluster
from pyceph.cls.rbd_bitvector import BitVector2
from pyceph.cls.rbd_types import OBJECT_EXISTS, OBJECT_EXISTS_CLEAN, OBJECT_NONEXISTENT

#: Bound on the cluster's healing after a restart and on any awaited condition.
HEAL_TIMEOUT = 45.0
#: Pause between polls of a condition.
POLL = 0.05
#: Seconds one `rbd` process may take.
CLI_TIMEOUT = 60.0
#: Image geometry: 4 MiB objects (order 22), 16 objects.
ORDER = 22
OBJECT_SIZE = 1 << ORDER
IMAGE_SIZE = 16 * OBJECT_SIZE
#: The unit the writers write: each block gets a whole, distinguishable pattern.
BLOCK = 64 * 1024
#: The clone flattened: 64 objects of 1 MiB, so the flatten is still copying at the kill.
FLATTEN_ORDER = 20
FLATTEN_OBJECTS = 64
#: Writes kept in flight by the aio writer.
IN_FLIGHT = 16
#: Acknowledged writes wanted between the steps of a kill/restart cycle.
STEP_WRITES = 24
POOL = "rbd"
FEATURES = (
    rbd.RBD_FEATURE_LAYERING
    | rbd.RBD_FEATURE_EXCLUSIVE_LOCK
    | rbd.RBD_FEATURE_OBJECT_MAP
    | rbd.RBD_FEATURE_FAST_DIFF
    | rbd.RBD_FEATURE_DEEP_FLATTEN
)


# ------------------------------------------------------------------------ helpers
def wait_for(cond: Callable[[], bool], what: str, timeout: float = HEAL_TIMEOUT) -> None:
    """Until `cond()` holds (bounded)."""
    wait_until(cond, what, timeout)


def mon_json(r: rados.Rados, **cmd: object) -> dict:
    ret, out, outs = r.mon_command(json.dumps({**cmd, "format": "json"}), b"")
    assert ret == 0, outs
    return json.loads(out)


def wait_clean(r: rados.Rados) -> None:
    """Until every OSD is up and every PG active+clean (bounded)."""

    def clean() -> bool:
        st = mon_json(r, prefix="status")
        pgs, om = st["pgmap"], st["osdmap"]
        states = {s["state_name"]: s["count"] for s in pgs["pgs_by_state"]}
        return om["num_up_osds"] == om["num_osds"] and states.get("active+clean") == pgs["num_pgs"]

    wait_for(clean, "active+clean")


def primary_of(r: rados.Rados, obj: str) -> int:
    return int(mon_json(r, prefix="osd map", pool=POOL, object=obj)["acting_primary"])


def replica_of(r: rados.Rados, obj: str) -> int:
    m = mon_json(r, prefix="osd map", pool=POOL, object=obj)
    return int(next(o for o in m["acting"] if o != m["acting_primary"]))


def pattern(tag: int, gen: int, length: int = BLOCK) -> bytes:
    """A block's content: its (tag, generation) repeated, so a torn block shows."""
    unit = b"<%08x:%08x>" % (tag, gen)
    return (unit * (length // len(unit) + 1))[:length]


def rbd_cli(conf: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pyceph.cli.rbd_main", "--conf", conf, *args],
        capture_output=True,
        timeout=CLI_TIMEOUT,
        env={k: v for k, v in os.environ.items() if k != "CEPH_ARGS"},
    )


@pytest.fixture
def setup(own_cluster: LocalCluster) -> Iterator[tuple[LocalCluster, rados.Rados, rados.Ioctx]]:
    r = rados.Rados(conffile=own_cluster.conf_path)
    r.connect(timeout=30)
    try:
        r.create_pool(POOL)
        ioctx = r.open_ioctx(POOL)
        rbd.RBD().pool_init(ioctx, True)
        try:
            yield own_cluster, r, ioctx
        finally:
            ioctx.close()
    finally:
        r.shutdown()


# ------------------------------------------------------------------------ checks
def extents_of(img: rbd.Image, whole_object: bool = False) -> list[tuple[int, int, bool]]:
    out: list[tuple[int, int, bool]] = []
    img.diff_iterate(0, img.size(), None, lambda o, n, e: out.append((o, n, e)),
                     whole_object=whole_object)  # fmt: skip
    return out


def check_image(
    ioctx: rados.Ioctx, name: str, model: dict[int, bytes], conf: str | None = None
) -> None:
    """Every acknowledged block reads back; the object map and diff agree with the data."""
    with rbd.Image(ioctx, name, read_only=True) as img:
        size = img.size()
        obj_size = img.stat()["obj_size"]
        data = bytearray()
        for off in range(0, size, obj_size):
            data += img.read(off, min(obj_size, size - off))
        for off, want in sorted(model.items()):
            got = bytes(data[off : off + len(want)])
            assert got == want, f"block at {off:#x}: acknowledged write lost or torn"
        written = sorted(model)
        for whole in (False, True):
            exts = [(o, n) for o, n, e in extents_of(img, whole) if e]
            covered = bytearray(size)
            for o, n in exts:
                covered[o : o + n] = b"\1" * n
            for off in written:
                assert all(covered[off : off + BLOCK]), f"{off:#x} missing from diff"
            for off in range(0, size, BLOCK):
                if not covered[off] and any(data[off : off + BLOCK]):
                    raise AssertionError(f"data at {off:#x} is not in the diff")
        assert not img.flags() & (rbd.RBD_FLAG_OBJECT_MAP_INVALID | rbd.RBD_FLAG_FAST_DIFF_INVALID)
        prefix = img.block_name_prefix()
        image_id = img.id()
        nobjs = (size + obj_size - 1) // obj_size
    check_object_map(ioctx, image_id, prefix, nobjs)
    if conf is not None:
        p = rbd_cli(conf, "diff", "--format", "json", f"{POOL}/{name}")
        assert p.returncode == 0, p.stderr
        listed = json.loads(p.stdout)
        covered = bytearray(size)
        for ext in listed:
            assert ext["exists"] == "true", ext
            covered[ext["offset"] : ext["offset"] + ext["length"]] = b"\1" * ext["length"]
        for off in written:
            assert all(covered[off : off + BLOCK]), f"`rbd diff` misses {off:#x}"
        for off in range(0, size, BLOCK):
            assert covered[off] or not any(data[off : off + BLOCK]), f"{off:#x} not listed"


def check_object_map(ioctx: rados.Ioctx, image_id: str, prefix: str, nobjs: int) -> None:
    """Each data object that exists is EXISTS (or EXISTS_CLEAN) in the head map; each
    one that does not is NONEXISTENT (upstream's object-map check, ObjectMap states)."""
    raw = ioctx.read(f"rbd_object_map.{image_id}", length=1 << 20)
    omap = BitVector2.from_bytes(raw)
    assert len(omap) == nobjs
    present = set()
    for i in range(nobjs):
        try:
            ioctx.stat(f"{prefix}.{i:016x}")
            present.add(i)
        except rados.ObjectNotFound:
            pass
    for i in range(nobjs):
        if i in present:
            assert omap[i] in (OBJECT_EXISTS, OBJECT_EXISTS_CLEAN), (
                f"object {i} exists, map {omap[i]}"
            )
        else:
            assert omap[i] == OBJECT_NONEXISTENT, f"object {i} absent, map says {omap[i]}"


# ------------------------------------------------------------------------ writers
class AioWriter(threading.Thread):
    """Keeps IN_FLIGHT `aio_write`s going to distinct blocks; records each acknowledged one."""

    def __init__(self, img: rbd.Image, blocks: list[int], tag: int) -> None:
        super().__init__(daemon=True)
        self.img, self.blocks, self.tag = img, blocks, tag
        self.model: dict[int, bytes] = {}
        self.acked = 0
        self.error: str | None = None
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.busy: set[int] = set()
        self.rng = random.Random(tag)

    def run(self) -> None:
        gen = 0
        with self.cond:
            while not self.stop.is_set() and self.error is None:
                free = [b for b in self.blocks if b not in self.busy]
                if len(self.busy) >= IN_FLIGHT or not free:
                    self.cond.wait(POLL)
                    continue
                off = self.rng.choice(free)
                gen += 1
                data = pattern(self.tag, gen)
                self.busy.add(off)
                self.img.aio_write(data, off, self._done(off, data))
            while self.busy:
                self.cond.wait(POLL)

    def _done(self, off: int, data: bytes) -> Callable[[rbd.Completion], None]:
        def cb(c: rbd.Completion) -> None:
            with self.cond:
                ret = c.get_return_value()
                if ret < 0:
                    self.error = f"write at {off:#x} failed: {ret}"
                else:
                    self.model[off] = data
                    self.acked += 1
                self.busy.discard(off)
                self.cond.notify_all()

        return cb

    def progress(self, writes: int) -> None:
        """Until `writes` more writes are acknowledged (bounded)."""
        target = self.acked + writes
        wait_for(lambda: self.acked >= target or self.error is not None, "write progress")
        assert self.error is None, self.error

    def finish(self) -> dict[int, bytes]:
        self.stop.set()
        self.join(HEAL_TIMEOUT)
        assert not self.is_alive(), "a write never completed"
        assert self.error is None, self.error
        return self.model


# ------------------------------------------------------------------------ tests
def test_aio_writes_survive_osd_kill(setup) -> None:
    cluster, r, ioctx = setup
    rbd.RBD().create(ioctx, "img", IMAGE_SIZE, order=ORDER, old_format=False, features=FEATURES)
    with rbd.Image(ioctx, "img") as img:
        prefix = img.block_name_prefix()
        # writes over the first half of the image; the rest stays unwritten
        blocks = list(range(0, IMAGE_SIZE // 2, BLOCK))
        writer = AioWriter(img, blocks, tag=1)
        writer.start()
        obj0 = f"{prefix}.{0:016x}"
        try:
            writer.progress(STEP_WRITES)
            # a replica of the first data object dies, then its primary
            for victim in (replica_of(r, obj0), primary_of(r, obj0)):
                cluster.kill(f"osd.{victim}")
                writer.progress(STEP_WRITES)
                cluster.start([f"osd.{victim}"])
                writer.progress(STEP_WRITES)
        finally:
            model = writer.finish()
        img.flush()
    wait_clean(r)
    assert len(model) > STEP_WRITES
    check_image(ioctx, "img", model, cluster.conf_path)


def test_rbd_bench_survives_osd_kill(setup) -> None:
    cluster, r, ioctx = setup
    size = 4 * OBJECT_SIZE
    rbd.RBD().create(ioctx, "bench", size, order=ORDER, old_format=False, features=FEATURES)
    with rbd.Image(ioctx, "bench") as img:
        prefix = img.block_name_prefix()
    victim = primary_of(r, f"{prefix}.{0:016x}")
    args = [sys.executable, "-m", "pyceph.cli.rbd_main", "--conf", cluster.conf_path,
            "bench", "--io-type", "write", "--io-size", str(BLOCK), "--io-threads", "16",
            "--io-total", str(size * 6), "--io-pattern", "seq", f"{POOL}/bench"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
    lines: list[bytes] = []
    with tempfile.TemporaryFile() as errors:  # not a pipe: nothing can block the bench
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errors, env=env)
        try:
            reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
            reader.start()
            # the header and a first second of writes, then the kill
            wait_for(lambda: any(ln.startswith(b"    1") for ln in lines), "bench to run")
            cluster.kill(f"osd.{victim}")
            assert proc.poll() is None, "bench ended before the kill: give it more to write"
            wait_for(lambda: len(lines) >= 5 or proc.poll() is not None, "bench to go on")
            cluster.start([f"osd.{victim}"])
            rc = proc.wait(CLI_TIMEOUT)
            reader.join(HEAL_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        errors.seek(0)
        # bench stops at its first failed write: exit 0 means every write was acknowledged
        assert rc == 0, (b"".join(lines)[-2000:], errors.read()[-2000:])
    assert any(ln.startswith(b"elapsed:") for ln in lines), lines
    wait_clean(r)
    # seq over 6x the image size wrote every block of it with bench's one-byte pattern
    with rbd.Image(ioctx, "bench", read_only=True) as img:
        first = img.read(0, 1)
    model = {off: first * BLOCK for off in range(0, size, BLOCK)}
    check_image(ioctx, "bench", model, cluster.conf_path)


def make_clone(ioctx: rados.Ioctx) -> dict[int, bytes]:
    """A protected snapshot of "parent" with a block in every object, cloned to "child"
    that has writes of its own; the model of the child's data."""
    rbd_ = rbd.RBD()
    osize = 1 << FLATTEN_ORDER
    size = FLATTEN_OBJECTS * osize
    rbd_.create(ioctx, "parent", size, order=FLATTEN_ORDER, old_format=False, features=FEATURES)
    model: dict[int, bytes] = {}
    with rbd.Image(ioctx, "parent") as img:
        # a block in every object, so the flatten copies up all of them
        for objno in range(FLATTEN_OBJECTS):
            off = objno * osize + (objno % 4) * BLOCK
            model[off] = pattern(2, objno)
            img.write(model[off], off)
        img.create_snap("s")
        img.protect_snap("s")
    rbd_.clone(ioctx, "parent", "s", ioctx, "child", features=FEATURES, order=FLATTEN_ORDER)
    with rbd.Image(ioctx, "child") as child:
        for objno in (1, 5, 9):  # child writes of its own, over parent data and beside it
            for off in (objno * osize, objno * osize + (objno % 4) * BLOCK):
                model[off] = pattern(3, off // BLOCK)
                child.write(model[off], off)
    return model


def check_flattened(r: rados.Rados, ioctx: rados.Ioctx, model: dict[int, bytes], conf: str) -> None:
    wait_clean(r)
    with rbd.Image(ioctx, "child", read_only=True) as child, pytest.raises(rbd.ImageNotFound):
        child.parent_info()
    # the parent may go now: the child holds all of its data itself
    with rbd.Image(ioctx, "parent") as img:
        img.unprotect_snap("s")
        img.remove_snap("s")
    rbd.RBD().remove(ioctx, "parent")
    check_image(ioctx, "child", model, conf)


def test_flatten_survives_osd_kill(setup) -> None:
    """`Image.flatten` with the primary of the clone's first object killed meanwhile."""
    cluster, r, ioctx = setup
    model = make_clone(ioctx)
    with rbd.Image(ioctx, "child") as child:
        victim = primary_of(r, f"{child.block_name_prefix()}.{0:016x}")
        progress: list[tuple[int, int]] = []
        result: list[BaseException | None] = []

        def flatten() -> None:
            try:
                child.flatten(on_progress=lambda done, total: progress.append((done, total)) or 0)
                result.append(None)
            except BaseException as e:  # surfaced below
                result.append(e)

        t = threading.Thread(target=flatten, daemon=True)
        t.start()
        wait_for(lambda: bool(progress) or bool(result), "flatten to start")
        cluster.kill(f"osd.{victim}")
        assert not result, "the flatten ended before the kill: make the clone bigger"
        wait_for(lambda: len(progress) >= 4 or bool(result), "flatten to go on")
        cluster.start([f"osd.{victim}"])
        t.join(HEAL_TIMEOUT)
        assert not t.is_alive(), "flatten never completed"
        assert result == [None], result
    check_flattened(r, ioctx, model, cluster.conf_path)


def test_rbd_flatten_cli_survives_osd_kill(setup) -> None:
    """`rbd flatten` (a separate process) with the primary of the clone's first object
    killed once its progress shows on stderr."""
    cluster, r, ioctx = setup
    model = make_clone(ioctx)
    with rbd.Image(ioctx, "child", read_only=True) as child:
        victim = primary_of(r, f"{child.block_name_prefix()}.{0:016x}")
    args = [sys.executable, "-m", "pyceph.cli.rbd_main", "--conf", cluster.conf_path,
            "flatten", f"{POOL}/child"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
    err = bytearray()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        stream = proc.stderr
        assert stream is not None
        reader = threading.Thread(
            target=lambda: [err.extend(c) for c in iter(lambda: stream.read1(4096), b"")],
            daemon=True,
        )
        reader.start()
        wait_for(lambda: b"% complete" in err or proc.poll() is not None, "flatten progress")
        cluster.kill(f"osd.{victim}")
        assert proc.poll() is None, "the flatten ended before the kill: make the clone bigger"
        shown = err.count(b"% complete")
        wait_for(lambda: err.count(b"% complete") > shown + 2 or proc.poll() is not None,
                 "flatten to go on")  # fmt: skip
        cluster.start([f"osd.{victim}"])
        rc = proc.wait(CLI_TIMEOUT)
        reader.join(HEAL_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, bytes(err[-2000:])
    assert err.endswith(b"100% complete...done.\n"), bytes(err[-200:])
    check_flattened(r, ioctx, model, cluster.conf_path)
