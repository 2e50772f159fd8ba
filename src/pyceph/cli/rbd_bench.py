"""`rbd bench`: upstream's rbd_bencher (src/tools/rbd/action/Bench.cc) over `Image.aio_*`.

Keeps `--io-threads` requests in flight with the module's Completion callbacks, moves
each thread's offset as upstream does for ``seq``, ``rand`` and ``full-seq``, and
prints the same lines: the ``bench  type ...`` header, ``SEC OPS OPS/SEC BYTES/SEC``
rows once a second over a five-second rolling window, and the ``elapsed:`` summary
(plus read/write lines for ``readwrite``).
"""

from __future__ import annotations

import errno
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from pyceph.cli.rbd_args import SNAP_NONE, SNAP_PERMITTED, SPEC_NONE, CliError, action, get_names
from pyceph.cli.rbd_context import Ctx, cpp_strerror, errno_of
from pyceph.common.output import byte_u

__all__ = ["BenchPlan", "cxx_double", "next_offsets", "status_row"]

IO_READ, IO_WRITE, IO_RW = "read", "write", "readwrite"
PATTERN_SEQ, PATTERN_RAND, PATTERN_FULL_SEQ = "seq", "rand", "full-seq"
_PATTERN_WORDS = {
    PATTERN_SEQ: "sequential",
    PATTERN_RAND: "random",
    PATTERN_FULL_SEQ: "full sequential",
}
DEFAULT_IO_SIZE = 4096
DEFAULT_IO_THREADS = 16
DEFAULT_IO_TOTAL = 1 << 30
DEFAULT_RW_MIX_READ = 50
#: rolling window of the per-second rows (WINDOW_SIZE)
WINDOW_SIZE = 5
#: io-size must fit a uint32
MAX_IO_SIZE = (1 << 32) - 1
#: LIBRADOS_OP_FLAG_FADVISE_RANDOM / _SEQUENTIAL
FADVISE_RANDOM = 0x4
FADVISE_SEQUENTIAL = 0x8
#: how long a waiter sleeps between checks (rbd_bencher::wait_for's 200 ms)
WAIT_INTERVAL = 0.2


def cxx_double(v: float) -> str:
    """A double as `std::cout << v` prints it (6 significant digits, %g)."""
    return "%g" % v


def status_row(elapsed: int, ops: int, ops_per_sec: float, bytes_per_sec: float) -> str:
    """One ``SEC OPS OPS/SEC BYTES/SEC`` row (setw 5/10/10/10)."""
    return f"{elapsed:>5}{ops:>10}{cxx_double(ops_per_sec):>10}{byte_u(int(bytes_per_sec)):>10}/s"


@dataclass
class BenchPlan:
    """The offsets a bench run uses (sans I/O): start positions and their moves."""

    size: int
    io_size: int
    threads: int
    pattern: str
    rng: random.Random

    def seq_chunk(self) -> int:
        return (self.size // self.io_size // self.threads) * self.io_size

    def start(self) -> list[int]:
        out = []
        for i in range(self.threads):
            if self.pattern == PATTERN_RAND:
                out.append(self.rng.randrange(self.size // self.io_size) * self.io_size)
            elif self.pattern == PATTERN_SEQ:
                out.append(self.seq_chunk() * i)
            else:
                out.append(i * self.io_size)
        return out


def next_offsets(plan: BenchPlan, offsets: list[int], done: int) -> None:
    """Move every thread's offset after a round, as upstream's loop does."""
    chunk = plan.seq_chunk()
    for i in range(plan.threads):
        if plan.pattern == PATTERN_RAND:
            offsets[i] = plan.rng.randrange(plan.size // plan.io_size) * plan.io_size
        elif plan.pattern == PATTERN_SEQ:
            if done < chunk * plan.threads:
                offsets[i] += plan.io_size
            else:
                offsets[i] = done + i * plan.io_size
            if offsets[i] + plan.io_size > plan.size:
                offsets[i] = chunk * i
        else:
            offsets[i] += plan.io_size * plan.threads
            if offsets[i] >= plan.size:
                offsets[i] = i * plan.io_size


class _InFlight:
    """Counts requests in flight; the first failure is kept."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.count = 0
        self.error = 0
        self.error_kind = ""

    def done(self, kind: str, ret: int, expected: int) -> None:
        with self.cond:
            bad = ret != 0 if kind == IO_WRITE else ret != expected
            if bad and not self.error:
                self.error = ret if ret < 0 else -errno.EIO
                self.error_kind = kind
            self.count -= 1
            self.cond.notify_all()

    def wait_for(self, limit: int) -> None:
        with self.cond:
            while self.count > limit and not self.error:
                self.cond.wait(WAIT_INTERVAL)


@action(
    "bench",
    groups=("snap",),
    options=("io-type", "io-size", "io-threads", "io-total", "io-pattern", "rw-mix-read"),
    description="Simple benchmark.",
)
def do_bench(ctx: Ctx) -> int:
    args = ctx.args
    if not args.has("io-type"):
        raise CliError("rbd: --io-type must be specified.")
    io_type = args.get("io-type")
    pattern = args.get("io-pattern", PATTERN_SEQ)
    presence = SNAP_PERMITTED if io_type == IO_READ else SNAP_NONE
    spec = get_names(args, snap=presence, validation=SPEC_NONE)
    io_size = args.get("io-size", DEFAULT_IO_SIZE)
    if io_size == 0:
        raise CliError("rbd: --io-size should be greater than zero.")
    threads = args.get("io-threads", DEFAULT_IO_THREADS)
    if threads == 0:
        raise CliError("rbd: --io-threads should be greater than zero.")
    total = args.get("io-total", DEFAULT_IO_TOTAL)
    if io_type == IO_READ:
        read_pct = 100
    elif io_type == IO_WRITE:
        read_pct = 0
    else:
        read_pct = args.get("rw-mix-read", DEFAULT_RW_MIX_READ)
        if read_pct > 100:
            raise CliError("rbd: --rw-mix-read should not be larger than 100.")
    _, image = ctx.open_spec(spec, read_only=False)
    try:
        return _run(ctx, image, io_type, io_size, threads, total, pattern, read_pct)
    except ctx.errors as e:
        raise ctx.fail(f"bench failed: {cpp_strerror(errno_of(e))}", e)


def _run(
    ctx: Ctx,
    image: Any,
    io_type: str,
    io_size: int,
    threads: int,
    total: int,
    pattern: str,
    read_pct: int,
) -> int:
    out = ctx.out
    size = image.size()
    if io_size > size:
        raise CliError(f"rbd: io-size {byte_u(io_size)} larger than image size {byte_u(size)}")
    if io_size > MAX_IO_SIZE:
        raise CliError("rbd: io-size should be less than 4G")
    try:
        image.flush()
    except ctx.errors as e:
        if not (errno_of(e) == errno.EROFS and io_type == IO_READ):
            raise ctx.failed("failed to flush", e)
    rng = random.Random(int(time.time()))
    data = bytes([rng.randrange(256)]) * io_size
    mix = f" read:write={read_pct}:{100 - read_pct}" if io_type == IO_RW else ""
    out.write(
        f"bench  type {io_type}{mix} io_size {io_size} io_threads {threads} bytes {total}"
        f" pattern {_PATTERN_WORDS[pattern]}\n"
    )
    out.flush()
    plan = BenchPlan(size, io_size, threads, pattern, rng)
    offsets = plan.start()
    flags = FADVISE_RANDOM if pattern == PATTERN_RAND else FADVISE_SEQUENTIAL
    state = _InFlight()
    window: deque[tuple[float, int, int]] = deque(maxlen=WINDOW_SIZE)
    out.write("  SEC       OPS   OPS/SEC   BYTES/SEC\n")
    start = time.monotonic()
    last = 0.0
    ios = off = cur_ios = cur_off = 0
    read_ops = write_ops = 0
    while off < total and not state.error:
        i = 0
        while i < threads and off < total:
            reading = rng.randrange(100) < read_pct
            state.wait_for(threads - 1)
            if state.error:
                break
            with state.cond:
                state.count += 1
            kind = IO_READ if reading else IO_WRITE
            cb = _callback(state, kind, io_size)
            if reading:
                image.aio_read(offsets[i], io_size, cb, flags)
                read_ops += 1
            else:
                image.aio_write(data, offsets[i], cb, flags)
                write_ops += 1
            i += 1
            ios += 1
            off += io_size
            cur_ios += 1
            cur_off += io_size
        next_offsets(plan, offsets, off)
        elapsed = time.monotonic() - start
        if last == 0.0:
            last = elapsed
        elif int(elapsed) != int(last):
            window.append((elapsed - last, cur_ios, cur_off))
            cur_ios = cur_off = 0
            tsum = sum(w[0] for w in window)
            out.write(
                status_row(
                    int(elapsed),
                    ios - threads,
                    sum(w[1] for w in window) / tsum,
                    sum(w[2] for w in window) / tsum,
                )
                + "\n"
            )
            out.flush()
            last = elapsed
    state.wait_for(0)
    if state.error:
        out.write(f"{state.error_kind} error: {cpp_strerror(state.error)}\n")
        return abs(state.error)
    if io_type != IO_READ:
        try:
            image.flush()
        except ctx.errors as e:
            ctx.say(f"rbd: failed to flush at the end: {cpp_strerror(errno_of(e))}")
    elapsed = max(time.monotonic() - start, 1e-9)
    out.write(
        f"elapsed: {int(elapsed)}   ops: {ios}   ops/sec: {cxx_double(ios / elapsed)}   "
        f"bytes/sec: {byte_u(int(off / elapsed))}/s\n"
    )
    if io_type == IO_RW:
        out.write(
            f"read_ops: {read_ops}   read_ops/sec: {cxx_double(read_ops / elapsed)}   "
            f"read_bytes/sec: {byte_u(int(read_ops * io_size / elapsed))}/s\n"
        )
        out.write(
            f"write_ops: {write_ops}   write_ops/sec: {cxx_double(write_ops / elapsed)}   "
            f"write_bytes/sec: {byte_u(int(write_ops * io_size / elapsed))}/s\n"
        )
    return 0


def _callback(state: _InFlight, kind: str, io_size: int) -> Any:
    def done(completion: Any, *rest: Any) -> None:
        state.done(kind, completion.get_return_value(), io_size)

    return done
