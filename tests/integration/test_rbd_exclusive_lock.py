"""Exclusive-lock between clients of one image, on real daemons.

Issue 6, "What it must show": two clients (a separate writer process and this one, or
two `rados.Rados` sessions) write one image with exclusive-lock on. The lock moves
between them on demand — a write by the non-owner asks the owner through a
REQUEST_LOCK notify on the header, the owner releases (librbd ImageWatcher /
ManagedLock) — every acknowledged write lands and no block is torn (each client writes
its own pattern per block; afterwards each block holds the last acknowledged write of
one of them, whole). `lock_get_owners` names the holder. A client killed -9 with the
lock held loses it to `lock_break`, or to the next writer once its watch has timed
out, and is blocklisted as `rbd_blocklist_on_break_lock` says (`osd blocklist ls`
lists it); a blocklisted client that is still alive gets ESHUTDOWN on its next write.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import struct
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from tests.waiting import wait_until

import rados
import rbd
from pyceph.cli.localcluster import LocalCluster

#: librbd's NotifyOp values (src/librbd/WatchNotifyTypes.h).
NOTIFY_OP_ACQUIRED_LOCK = 0
NOTIFY_OP_RELEASED_LOCK = 1
NOTIFY_OP_REQUEST_LOCK = 2
#: Bound on any awaited condition.
WAIT_TIMEOUT = 45.0
#: The OSDs' watch timeout in the cluster of the dead-holder test (seconds), so a killed
#: client's watch lapses within the test's time.
WATCH_TIMEOUT = "4"
#: Image geometry and the written unit.
ORDER = 22
IMAGE_SIZE = 4 << ORDER
BLOCK = 16 * 1024
#: Blocks both clients write, and how many writes each makes. They lie around the
#: boundary of objects 0 and 1, one of them across it, where a write is two object ops.
BLOCKS = 12
BASE = (1 << ORDER) - BLOCKS // 2 * BLOCK - BLOCK // 2
WRITES_PER_CLIENT = 30
#: The most writes the writer process makes when it is not stopped before.
WRITER_BOUND = 100_000
FEATURES = rbd.RBD_FEATURE_EXCLUSIVE_LOCK | rbd.RBD_FEATURE_OBJECT_MAP | rbd.RBD_FEATURE_FAST_DIFF

#: A client in its own process: writes up to `count` blocks with its tag (one line per
#: acknowledged write: "<offset> <gen>") until the file `stop` exists, then says whether
#: it holds the lock ("holding True|False") and waits for its stdin to close.
WRITER = r"""
import os, random, sys
import rados, rbd
conf, pool, name, tag, count, blocks, block, base, stop = sys.argv[1:10]
tag, count, blocks, block, base = int(tag), int(count), int(blocks), int(block), int(base)
r = rados.Rados(conffile=conf)
r.connect(timeout=30)
io = r.open_ioctx(pool)
img = rbd.Image(io, name)
rng = random.Random(tag)
print("addr", r.get_addrs(), flush=True)
gen = 0
while gen < count and not os.path.exists(stop):
    gen += 1
    off = base + rng.randrange(blocks) * block
    unit = b"<%08x:%08x>" % (tag, gen)
    img.write((unit * (block // len(unit) + 1))[:block], off)
    print(off, gen, flush=True)
print("holding", img.is_exclusive_lock_owner(), flush=True)
sys.stdin.read()
img.close()
io.close()
r.shutdown()
"""


def wait_for(cond: Callable[[], bool], what: str, timeout: float = WAIT_TIMEOUT) -> None:
    wait_until(cond, what, timeout)


def pattern(tag: int, gen: int) -> bytes:
    unit = b"<%08x:%08x>" % (tag, gen)
    return (unit * (BLOCK // len(unit) + 1))[:BLOCK]


def connect(conf: str) -> rados.Rados:
    r = rados.Rados(conffile=conf)
    r.connect(timeout=30)
    return r


def blocklisted(r: rados.Rados) -> str:
    """`ceph osd blocklist ls` (its entries, as text)."""
    ret, out, outs = r.mon_command(
        json.dumps({"prefix": "osd blocklist ls", "format": "json"}), b""
    )
    assert ret == 0, outs
    return out.decode() + outs


def op_of(data: bytes) -> int | None:
    """The NotifyOp of a librbd header notification (WatchNotifyTypes.h NotifyMessage:
    ENCODE_START(7, 1) header of 6 bytes, then the u32 op)."""
    return struct.unpack_from("<I", data, 6)[0] if len(data) >= 10 else None


def nonce(addr: str) -> str:
    """The client-unique part of an address ("ip:port/nonce", maybe in a vector)."""
    return addr.strip("[]").split("/")[-1]


def owners(img: rbd.Image) -> list[str]:
    return [o["owner"] for o in img.lock_get_owners()]


class WriterProcess:
    """The WRITER script in its own process; its acknowledged writes are read from stdout."""

    def __init__(
        self, conf: str, pool: str, name: str, tag: int, count: int, stop: str = ""
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CEPH_ARGS"}
        args = [sys.executable, "-c", WRITER, conf, pool, name, str(tag), str(count),
                str(BLOCKS), str(BLOCK), str(BASE), stop or os.devnull + ".none"]  # fmt: skip
        self.tag = tag
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(raw.decode().strip())

    def field(self, key: str) -> str | None:
        for ln in self.lines:
            if ln.startswith(key + " "):
                return ln.split(" ", 1)[1]
        return None

    def wait_field(self, key: str) -> str:
        def seen() -> bool:
            assert self.proc.poll() is None or self.field(key) is not None, self.stderr()
            return self.field(key) is not None

        wait_for(seen, f"writer {self.tag}: {key}")
        return str(self.field(key))

    def acked(self) -> list[tuple[int, bytes]]:
        out = []
        for ln in self.lines:
            parts = ln.split()
            if len(parts) == 2 and parts[0].isdigit():
                out.append((int(parts[0]), pattern(self.tag, int(parts[1]))))
        return out

    def stderr(self) -> str:
        if self.proc.poll() is None:
            return "(running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode()[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(WAIT_TIMEOUT)


@pytest.fixture
def image(cluster: rados.Rados, ioctx: rados.Ioctx) -> Iterator[str]:
    name = f"el-{uuid.uuid4().hex[:8]}"
    rbd.RBD().create(ioctx, name, IMAGE_SIZE, order=ORDER, old_format=False, features=FEATURES)
    yield name


def check_blocks(ioctx: rados.Ioctx, name: str, acked: dict[int, list[list[bytes]]]) -> None:
    """Each written block holds, whole, the last acknowledged write of one client."""
    with rbd.Image(ioctx, name, read_only=True) as img:
        for off, per_client in sorted(acked.items()):
            got = img.read(off, BLOCK)
            lasts = [writes[-1] for writes in per_client if writes]
            assert got in lasts, (
                f"block {off:#x}: {got[:24]!r} is none of {[w[:24] for w in lasts]}"
            )


# ------------------------------------------------------------------------ tests
def test_lock_moves_on_demand_and_nothing_is_torn(
    cluster_conf: str, ioctx: rados.Ioctx, pool: str, image: str, tmp_path
) -> None:
    """A writer process and this process write the same blocks at once."""
    stop = tmp_path / "stop"
    other = WriterProcess(cluster_conf, pool, image, tag=2, count=WRITER_BOUND, stop=str(stop))
    mine: list[tuple[int, bytes]] = []
    try:
        other.wait_field("addr")
        wait_for(lambda: len(other.acked()) > 0, "the writer's first write")
        rng = random.Random(1)
        with rbd.Image(ioctx, image) as img:
            theirs_before = len(other.acked())
            for gen in range(1, WRITES_PER_CLIENT + 1):
                off = BASE + rng.randrange(BLOCKS) * BLOCK
                data = pattern(1, gen)
                img.write(data, off)
                mine.append((off, data))
            theirs_during = len(other.acked()) - theirs_before
            stop.touch()
            holding = other.wait_field("holding")
        theirs = other.acked()
        # the writer went on writing while this client wrote: the lock went back and
        # forth between them, at each of those writes
        assert theirs_during > 0, other.stderr()
        acked: dict[int, list[list[bytes]]] = {}
        for who, writes in enumerate((mine, theirs)):
            for off, data in writes:
                acked.setdefault(off, [[], []])[who].append(data)
        assert holding in ("True", "False"), other.stderr()
        check_blocks(ioctx, image, acked)
    finally:
        other.close()


def test_lock_ping_pong_between_sessions(cluster_conf: str, ioctx: rados.Ioctx, image: str) -> None:
    """Two `rados.Rados` sessions: each write by the non-owner takes the lock over."""
    r2 = connect(cluster_conf)
    io2 = r2.open_ioctx(ioctx.name)
    # a third watcher on the header sees the lock's notifications go by
    seen: list[int | None] = []
    with rbd.Image(ioctx, image, read_only=True) as img:
        header = f"rbd_header.{img.id()}"
    observer = ioctx.watch(header, lambda _nid, _who, _wid, data: seen.append(op_of(data)))
    try:
        with rbd.Image(ioctx, image) as a, rbd.Image(io2, image) as b:
            assert owners(a) == []
            model: dict[int, bytes] = {}
            sessions = ((1, a, b, ioctx.rados), (2, b, a, r2))
            for rnd in range(4):
                for tag, img, peer, handle in sessions:
                    off = (rnd % BLOCKS) * BLOCK
                    model[off] = pattern(tag, rnd)
                    img.write(model[off], off)
                    assert img.is_exclusive_lock_owner()
                    wait_for(lambda p=peer: not p.is_exclusive_lock_owner(), "the handover")
                    (holder,) = owners(a)
                    assert owners(b) == [holder]
                    assert nonce(holder) == nonce(handle.get_addrs()), (holder, tag)
            addr_b = owners(a)[0]
            # handed over on request, never broken: neither session is blocklisted
            listed = blocklisted(ioctx.rados)
            for addr in (addr_b, ioctx.rados.get_addrs(), r2.get_addrs()):
                assert nonce(addr) not in listed
            # b holds it now; a's read does not need it, a's write takes it back
            assert a.read(0, BLOCK) == model[0]
            assert b.is_exclusive_lock_owner()
            a.write(pattern(1, 99), 0)
            model[0] = pattern(1, 99)
            assert owners(b) != [addr_b] and a.is_exclusive_lock_owner()
        # each of the 8 takeovers was asked for, released and announced on the header
        handovers = 2 * 4
        for op in (NOTIFY_OP_REQUEST_LOCK, NOTIFY_OP_RELEASED_LOCK, NOTIFY_OP_ACQUIRED_LOCK):
            wait_for(lambda o=op: seen.count(o) >= handovers, f"notify op {op}")
        for off, data in model.items():
            with rbd.Image(ioctx, image, read_only=True) as img:
                assert img.read(off, BLOCK) == data
    finally:
        observer.close()
        io2.close()
        r2.shutdown()


@pytest.mark.parametrize("blocklist", [True, False])
def test_break_lock_blocklists_the_holder(
    cluster_conf: str, ioctx: rados.Ioctx, image: str, blocklist: bool
) -> None:
    """A live holder whose lock is broken is blocklisted and its next write fails —
    unless the image's `rbd_blocklist_on_break_lock` override says false."""
    if not blocklist:
        with rbd.Image(ioctx, image) as img:
            img.metadata_set("conf_rbd_blocklist_on_break_lock", "false")
    r2 = connect(cluster_conf)
    io2 = r2.open_ioctx(ioctx.name)
    b = None
    try:
        with rbd.Image(ioctx, image) as a:
            b = rbd.Image(io2, image)
            b.write(pattern(2, 1), 0)
            assert b.is_exclusive_lock_owner()
            (holder,) = owners(a)
            assert nonce(holder) in r2.get_addrs(), (holder, r2.get_addrs())
            a.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, holder)
            assert owners(a) == []
            listed = nonce(holder) in blocklisted(ioctx.rados)
            assert listed == blocklist, (holder, blocklisted(ioctx.rados))
            a.write(pattern(1, 1), BLOCK)  # the lock is free for the taking
            assert a.is_exclusive_lock_owner()
            if blocklist:
                with pytest.raises(rbd.Error) as ei:  # the broken client is fenced
                    b.write(pattern(2, 2), 2 * BLOCK)
                assert isinstance(ei.value, rbd.ConnectionShutdown) or ei.value.errno == 108
                assert a.read(2 * BLOCK, BLOCK) == bytes(BLOCK)
            assert a.read(0, BLOCK) == pattern(2, 1)
            assert a.read(BLOCK, BLOCK) == pattern(1, 1)
    finally:
        if b is not None:
            with contextlib.suppress(rbd.Error):
                b.close()
        io2.close()
        r2.shutdown()


def test_killed_holder_loses_lock_and_is_blocklisted(cluster_factory) -> None:
    """kill -9 of a writer process holding the lock: `lock_break` takes it (blocklisting
    the dead client) in one image; in another, the next writer takes it by itself once
    the dead client's watch has lapsed."""
    cluster: LocalCluster = cluster_factory(osd_client_watch_timeout=WATCH_TIMEOUT)
    r = connect(cluster.conf_path)
    try:
        r.create_pool("rbd")
        ioctx = r.open_ioctx("rbd")
        for name in ("broken", "lapsed"):
            rbd.RBD().create(ioctx, name, IMAGE_SIZE, order=ORDER, old_format=False,
                             features=FEATURES)  # fmt: skip
        for name in ("broken", "lapsed"):
            proc = WriterProcess(cluster.conf_path, "rbd", name, tag=7, count=3)
            try:
                addr = proc.wait_field("addr")
                assert proc.wait_field("holding") == "True"
                acked = proc.acked()
                with rbd.Image(ioctx, name) as img:
                    (holder,) = owners(img)
                    assert nonce(holder) in addr, (holder, addr)
                    proc.close()  # kill -9 with the lock held
                    if name == "broken":
                        img.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, holder)
                        assert owners(img) == []
                    img.write(pattern(8, 1), (BLOCKS + 1) * BLOCK)
                    assert img.is_exclusive_lock_owner()
                    assert owners(img) != [holder]
                    assert nonce(holder) in blocklisted(r), holder
                    last: dict[int, bytes] = {}
                    for off, data in acked:
                        last[off] = data
                    for off, data in last.items():
                        assert img.read(off, BLOCK) == data
            finally:
                proc.close()
        ioctx.close()
    finally:
        r.shutdown()
