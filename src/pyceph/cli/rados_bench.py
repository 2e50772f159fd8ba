"""`rados bench` engine: upstream's ObjBencher (src/common/obj_bencher.cc) over the `rados` module.

Keeps N async ops in flight with Completion callbacks, prints the same per-second table,
summaries, metadata object and cleanup messages as Ceph 16.2, so scripts that parse
`rados bench` output work unchanged against pyceph.
"""

from __future__ import annotations

import errno
import functools
import math
import os
import queue
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = [
    "BENCH_LASTRUN_METADATA",
    "BENCH_PREFIX",
    "OP_RAND_READ",
    "OP_SEQ_READ",
    "OP_WRITE",
    "BenchData",
    "BenchError",
    "ObjBencher",
    "cfmt",
    "contents_match",
    "decode_metadata",
    "encode_metadata",
    "format_read_summary",
    "format_write_summary",
    "iso_time",
    "object_contents",
    "object_name",
    "object_prefix",
    "object_prefix_nopid",
    "status_header",
    "status_row",
]

BENCH_LASTRUN_METADATA = "benchmark_last_metadata"
BENCH_PREFIX = "benchmark_data"

OP_WRITE = 1
OP_SEQ_READ = 2
OP_RAND_READ = 3

_DBL_MAX = sys.float_info.max
_INT_MAX = 2**31 - 1
_METADATA = struct.Struct("<QiiQ")  # object_size, num_objects, pid, op_size (as encode())


class BenchError(Exception):
    """A benchmark step failed with a (negative) errno, as ObjBencher's return codes."""

    def __init__(self, ret: int) -> None:
        super().__init__(ret)
        self.ret = ret


def cfmt(v: float) -> str:
    """A double as C++ ``ostream << double`` prints it (``%g``, 6 significant digits)."""
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "nan" if math.copysign(1.0, v) > 0 else "-nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:g}"


def iso_time(t: float | None = None) -> str:
    """`utime_t::localtime` as Pacific prints it: ``2026-11-22T06:01:03.884193+0000``."""
    t = time.time() if t is None else t
    lt = time.localtime(t)
    usec = int(round((t - math.floor(t)) * 1e6)) % 1000000
    return time.strftime("%Y-%m-%dT%H:%M:%S", lt) + f".{usec:06d}" + time.strftime("%z", lt)


@functools.cache
def _hostname() -> str:
    """The host part of object names, looked up once per process: every op names an
    object, and a run's objects must all carry the same host anyway."""
    # gethostname() into char[30] with len 29: at most 29 characters survive
    return socket.gethostname()[:29]


def object_prefix_nopid() -> str:
    """``benchmark_data_<host>``: the default prefix `rados cleanup` searches."""
    return f"{BENCH_PREFIX}_{_hostname()}"


def object_prefix(pid: int | None = None) -> str:
    """``benchmark_data_<host>_<pid>``."""
    return f"{object_prefix_nopid()}_{pid if pid else os.getpid()}"


def object_name(objnum: int, pid: int | None = None) -> str:
    """``benchmark_data_<host>_<pid>_object<N>``."""
    return f"{object_prefix(pid)}_object{objnum}"


_FILL_CACHE: dict[int, bytes] = {}


def _fill(op_size: int) -> bytes:
    """`op_size` bytes of 'z' (the buffer every payload is written over), kept per size."""
    fill = _FILL_CACHE.get(op_size)
    if fill is None:
        fill = b"z" * op_size
        if len(_FILL_CACHE) > 8:
            _FILL_CACHE.clear()
        _FILL_CACHE[op_size] = fill
    return fill


def _op_text(index: int, op_size: int) -> bytes:
    """The NUL-terminated text at the start of op `index`'s payload, cut to `op_size`."""
    return (b"I'm the %16dth op!" % index)[: op_size - 1] + b"\0"


def object_contents(index: int, op_size: int) -> bytes:
    """The payload of op `index`: snprintf("I'm the %16dth op!") over a 'z'-filled buffer."""
    if op_size <= 0:
        return b""
    text = _op_text(index, op_size)
    return text + _fill(op_size)[len(text) :]


def contents_match(payload: bytes | memoryview | None, index: int, op_size: int) -> bool:
    """Whether `payload` equals `object_contents(index, op_size)`, without building it:
    the read path's verification (upstream seq_read_bench's memcmp). The 'z' tail is
    compared in place (`bytes.endswith` takes any buffer and memcmp's it), so a 4 MiB
    read costs one pass over its bytes and no 4 MiB allocation."""
    if payload is None:
        return op_size <= 0
    view = memoryview(payload).cast("B") if isinstance(payload, memoryview) else payload
    if len(view) != max(op_size, 0):
        return False
    if op_size <= 0:
        return True
    text = _op_text(index, op_size)
    n = len(text)
    return view[:n] == text and _fill(op_size).endswith(view[n:])


def encode_metadata(object_size: int, num_objects: int, pid: int, op_size: int) -> bytes:
    """The ``benchmark_last_metadata`` payload, Ceph-encoded (little endian u64, s32, s32, u64)."""
    return _METADATA.pack(object_size, num_objects, pid, op_size)


def decode_metadata(data: bytes) -> tuple[int, int, int, int]:
    """(object_size, num_objects, pid, op_size) from a metadata object; op_size defaults
    to object_size for the older 16-byte form."""
    if len(data) >= _METADATA.size:
        return _METADATA.unpack_from(data)
    if len(data) >= 16:
        object_size, num_objects, pid = struct.unpack_from("<Qii", data)
        return object_size, num_objects, pid, object_size
    raise BenchError(-errno.EINVAL)


@dataclass
class BenchData:
    """Counters shared between the I/O loop and the status printer (bench_data)."""

    op_size: int = 0
    object_size: int = 0
    started: int = 0
    finished: int = 0
    in_flight: int = 0
    cur_latency: float = 0.0
    min_latency: float = 9999.0
    max_latency: float = 0.0
    avg_latency: float = 0.0
    total_latency: float = 0.0
    latency_diff_sum: float = 0.0
    start_time: float = 0.0
    # per-second interval data (bench_interval_data)
    min_bandwidth: float = _DBL_MAX
    max_bandwidth: float = 0.0
    avg_bandwidth: float = 0.0
    bandwidth_cycles: int = 0
    bandwidth_diff_sum: float = 0.0
    min_iops: int = _INT_MAX
    max_iops: int = 0
    avg_iops: float = 0.0
    iops_cycles: int = 0
    iops_diff_sum: float = 0.0
    history: list[float] = field(default_factory=list)

    def add_latency(self, lat: float, track_stddev: bool = True) -> None:
        self.cur_latency = lat
        self.total_latency += lat
        self.max_latency = max(self.max_latency, lat)
        self.min_latency = min(self.min_latency, lat)
        self.finished += 1
        delta = lat - self.avg_latency
        self.avg_latency = self.total_latency / self.finished
        if track_stddev:
            self.latency_diff_sum += delta * (lat - self.avg_latency)

    def add_bandwidth(self, bw: float) -> None:
        self.max_bandwidth = max(self.max_bandwidth, bw)
        self.min_bandwidth = min(self.min_bandwidth, bw)
        self.bandwidth_cycles += 1
        delta = bw - self.avg_bandwidth
        self.avg_bandwidth += delta / self.bandwidth_cycles
        self.bandwidth_diff_sum += delta * (bw - self.avg_bandwidth)

    def add_iops(self, iops: int) -> None:
        self.max_iops = max(self.max_iops, iops)
        self.min_iops = min(self.min_iops, iops)
        self.iops_cycles += 1
        delta = iops - self.avg_iops
        self.avg_iops += delta / self.iops_cycles
        self.iops_diff_sum += delta * (iops - self.avg_iops)

    def bandwidth_stddev(self) -> float:
        if self.bandwidth_cycles > 1:
            return math.sqrt(self.bandwidth_diff_sum / (self.bandwidth_cycles - 1))
        return 0.0

    def iops_stddev(self) -> float:
        if self.iops_cycles > 1:
            return math.sqrt(self.iops_diff_sum / (self.iops_cycles - 1))
        return 0.0

    def latency_stddev(self) -> float:
        if self.finished > 1:
            return math.sqrt(self.latency_diff_sum / (self.finished - 1))
        return 0.0


def status_header() -> str:
    """The per-second table heading (without show-time prefix)."""
    return (
        f"{'sec':>5}{'Cur ops':>8}{'started':>10}{'finished':>10}"
        f"{'avg MB/s':>10}{'cur MB/s':>10}{'last lat(s)':>12}{'avg lat(s)':>12}"
    )


def status_row(
    sec: int,
    in_flight: int,
    started: int,
    finished: int,
    avg_bw: float,
    cur_bw: float | None,
    last_lat: float | None,
    avg_lat: float,
) -> str:
    """One row of the table; `cur_bw`/`last_lat` None print as ``0`` and ``-``."""
    cur = "0" if cur_bw is None else cfmt(cur_bw)
    last = "-" if last_lat is None else cfmt(last_lat)
    return (
        f"{sec:5d} {in_flight:7d} {started:9d} {finished:9d} "
        f"{cfmt(avg_bw):>9} {cur:>9} {last:>11} {cfmt(avg_lat):>11}"
    )


def format_write_summary(d: BenchData, time_passed: float) -> list[str]:
    """The summary lines after a write benchmark."""
    bandwidth = d.finished * d.op_size / time_passed / (1024 * 1024) if time_passed else 0.0
    iops = int(d.finished / time_passed) if time_passed else 0
    return [
        f"Total time run:         {cfmt(time_passed)}",
        f"Total writes made:      {d.finished}",
        f"Write size:             {d.op_size}",
        f"Object size:            {d.object_size}",
        f"Bandwidth (MB/sec):     {cfmt(bandwidth)}",
        f"Stddev Bandwidth:       {cfmt(d.bandwidth_stddev())}",
        f"Max bandwidth (MB/sec): {cfmt(d.max_bandwidth)}",
        f"Min bandwidth (MB/sec): {cfmt(d.min_bandwidth)}",
        f"Average IOPS:           {iops}",
        f"Stddev IOPS:            {cfmt(d.iops_stddev())}",
        f"Max IOPS:               {d.max_iops}",
        f"Min IOPS:               {d.min_iops}",
        f"Average Latency(s):     {cfmt(d.avg_latency)}",
        f"Stddev Latency(s):      {cfmt(d.latency_stddev())}",
        f"Max latency(s):         {cfmt(d.max_latency)}",
        f"Min latency(s):         {cfmt(d.min_latency)}",
    ]


def format_read_summary(d: BenchData, time_passed: float) -> list[str]:
    """The summary lines after a seq or rand benchmark."""
    bandwidth = d.finished * d.op_size / time_passed / (1024 * 1024) if time_passed else 0.0
    iops = int(d.finished / time_passed) if time_passed else 0
    return [
        f"Total time run:       {cfmt(time_passed)}",
        f"Total reads made:     {d.finished}",
        f"Read size:            {d.op_size}",
        f"Object size:          {d.object_size}",
        f"Bandwidth (MB/sec):   {cfmt(bandwidth)}",
        f"Average IOPS:         {iops}",
        f"Stddev IOPS:          {cfmt(d.iops_stddev())}",
        f"Max IOPS:             {d.max_iops}",
        f"Min IOPS:             {d.min_iops}",
        f"Average Latency(s):   {cfmt(d.avg_latency)}",
        f"Max latency(s):       {cfmt(d.max_latency)}",
        f"Min latency(s):       {cfmt(d.min_latency)}",
    ]


def _errno_of(exc: BaseException) -> int:
    e = getattr(exc, "errno", None)
    if isinstance(e, int) and e:
        return -abs(e)
    return -errno.EIO


class ObjBencher:
    """Runs write/seq/rand benchmarks and cleanups on one `rados.Ioctx`.

    `out` receives the table and summaries, `err` the error lines; `clock` and `rng`
    are injectable for tests.
    """

    def __init__(
        self,
        ioctx: Any,
        out: TextIO | None = None,
        err: TextIO | None = None,
        show_time: bool = False,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        all_nspaces: str = "\x01",
    ) -> None:
        self.ioctx = ioctx
        self.out_stream = out if out is not None else sys.stdout
        self.err_stream = err if err is not None else sys.stderr
        self.show_time = show_time
        self.clock = clock
        self.rng = rng or random.Random()
        self.all_nspaces = all_nspaces
        self.data = BenchData()
        self.lock = threading.Lock()
        self._done = threading.Event()
        self.interval = 1.0

    # ------------------------------------------------------------------ output
    def out(self, line: str) -> None:
        prefix = iso_time() + " " if self.show_time else ""
        self.out_stream.write(prefix + line + "\n")
        self.out_stream.flush()

    def err(self, line: str) -> None:
        self.err_stream.write(line + "\n")
        self.err_stream.flush()

    # ------------------------------------------------------------ status thread
    def _status_printer(self) -> None:
        d = self.data
        i = 0
        previous = 0
        cycles = 0
        iops = 0
        while not self._done.is_set():
            with self.lock:
                now = self.clock()
                if i % 20 == 0:
                    if i > 0:
                        self.out_stream.write(
                            f"{iso_time()} min lat: {cfmt(d.min_latency)}"
                            f" max lat: {cfmt(d.max_latency)} avg lat: {cfmt(d.avg_latency)}\n"
                        )
                    self.out(status_header())
                if cycles:
                    bandwidth = (d.finished - previous) * d.op_size / (1024 * 1024) / cycles
                    iops = int((d.finished - previous) / cycles)
                else:
                    bandwidth = -1.0
                    iops = -1
                if bandwidth > -1:
                    d.add_bandwidth(bandwidth)
                if iops > -1:
                    d.add_iops(iops)
                elapsed = now - d.start_time
                avg_bw = d.op_size * d.finished / elapsed / (1024 * 1024) if elapsed > 0 else 0.0
                if previous != d.finished:
                    previous = d.finished
                    cycles = 0
                    row = status_row(
                        i,
                        d.in_flight,
                        d.started,
                        d.finished,
                        avg_bw,
                        bandwidth,
                        d.cur_latency,
                        d.avg_latency,
                    )
                else:
                    row = status_row(
                        i, d.in_flight, d.started, d.finished, avg_bw, None, None, d.avg_latency
                    )
                self.out(row)
                i += 1
                cycles += 1
            self._done.wait(self.interval)
        with self.lock:
            if iops < 0:
                runtime = self.clock() - d.start_time
                v = int(d.finished / runtime) if runtime > 0 else 0
                d.min_iops = d.max_iops = v

    def _start_printer(self) -> threading.Thread:
        self._done.clear()
        t = threading.Thread(target=self._status_printer, name="bench_stat", daemon=True)
        t.start()
        return t

    def _stop_printer(self, t: threading.Thread) -> None:
        self._done.set()
        t.join()

    # --------------------------------------------------------------- metadata
    def fetch_metadata(self, run_name_meta: str) -> tuple[int, int, int, int]:
        """(op_size, object_size, num_objects, pid) of the last write run."""
        try:
            raw = self.ioctx.read(run_name_meta, 2 * 4 + 2 * 8, 0)
        except Exception as e:  # rados.Error
            raise BenchError(_errno_of(e)) from e
        if not raw:
            raise BenchError(-errno.ENOENT)
        object_size, num_objects, pid, op_size = decode_metadata(bytes(raw))
        return op_size, object_size, num_objects, pid

    # ---------------------------------------------------------------- top level
    def aio_bench(
        self,
        operation: int,
        seconds: int,
        concurrent: int,
        op_size: int,
        object_size: int,
        max_objects: int = 0,
        cleanup: bool = True,
        run_name: str = "",
        reuse_bench: bool = False,
        no_verify: bool = False,
    ) -> int:
        """Run one benchmark; 0 or a negative errno (as ObjBencher::aio_bench)."""
        if concurrent <= 0:
            return -errno.EINVAL
        run_name_meta = run_name or BENCH_LASTRUN_METADATA
        prev_pid = 0
        num_objects = 0
        if operation != OP_WRITE or reuse_bench:
            try:
                op_size, object_size, num_objects, prev_pid = self.fetch_metadata(run_name_meta)
            except BenchError as e:
                if e.ret == -errno.ENOENT:
                    if reuse_bench:
                        self.err("Must write data before using reuse_bench for a write benchmark!")
                    else:
                        self.err("Must write data before running a read benchmark!")
                return e.ret
        self.data = BenchData(op_size=op_size, object_size=object_size)
        try:
            if operation == OP_WRITE:
                self.write_bench(seconds, concurrent, run_name_meta, max_objects, prev_pid)
            elif operation == OP_SEQ_READ:
                self.read_bench(seconds, num_objects, concurrent, prev_pid, no_verify, False)
            elif operation == OP_RAND_READ:
                self.read_bench(seconds, num_objects, concurrent, prev_pid, no_verify, True)
            if operation == OP_WRITE and cleanup:
                try:
                    op_size, object_size, num_objects, prev_pid = self.fetch_metadata(run_name_meta)
                except BenchError as e:
                    if e.ret == -errno.ENOENT:
                        self.err("Should never happen: bench metadata missing for current run!")
                    raise
                t0 = self.clock()
                self.out("Cleaning up (deleting benchmark objects)")
                self.clean_up_objects(num_objects, prev_pid, concurrent)
                self.out(f"Clean up completed and total clean up time :{cfmt(self.clock() - t0)}")
                self._sync_remove(run_name_meta)
        except BenchError as e:
            return e.ret
        return 0

    # ---------------------------------------------------------------- helpers
    def _sync_remove(self, oid: str) -> None:
        try:
            self.ioctx.remove_object(oid)
        except Exception as e:
            raise BenchError(_errno_of(e)) from e

    def _run_pipeline(
        self,
        concurrent: int,
        next_op: Callable[[int], tuple[Callable[[Callable[..., None]], Any], Any] | None],
        on_done: Callable[[int, Any, int, Any, float], None],
        keep_going: Callable[[], bool],
    ) -> None:
        """Keep up to `concurrent` ops in flight.

        `next_op(slot)` returns (submit, tag) or None when no more ops; `submit(cb)`
        issues the aio call with oncomplete `cb`. `on_done(slot, tag, ret, payload, latency)`
        runs in this thread for every completion, in completion order.
        """
        done_q: queue.SimpleQueue[tuple[int, Any, Any, float]] = queue.SimpleQueue()
        start_times = [0.0] * concurrent
        tags: list[Any] = [None] * concurrent
        outstanding = 0
        clock = self.clock

        def make_cb(slot: int) -> Callable[..., None]:
            def cb(completion: Any, payload: Any = None) -> None:
                done_q.put((slot, completion, payload, clock()))

            return cb

        def issue(slot: int) -> bool:
            nonlocal outstanding
            op = next_op(slot)
            if op is None:
                return False
            submit, tag = op
            tags[slot] = tag
            start_times[slot] = clock()
            try:
                submit(make_cb(slot))
            except Exception as e:
                raise BenchError(_errno_of(e)) from e
            outstanding += 1
            with self.lock:
                self.data.started += 1
                self.data.in_flight += 1
            return True

        for slot in range(concurrent):
            if not keep_going() or not issue(slot):
                break
        error: BenchError | None = None
        while outstanding:
            slot, completion, payload, t_done = done_q.get()
            outstanding -= 1
            try:
                ret = completion.get_return_value()
            except Exception:
                ret = -errno.EIO
            try:
                on_done(slot, tags[slot], ret, payload, t_done - start_times[slot])
            except BenchError as e:
                error = error or e
            if error is None and keep_going():
                issue(slot)
        if error is not None:
            raise error

    # ------------------------------------------------------------------- write
    def write_bench(
        self, seconds: int, concurrent: int, run_name_meta: str, max_objects: int, prev_pid: int
    ) -> None:
        d = self.data
        self.out(
            f"Maintaining {concurrent} concurrent writes of {d.op_size} bytes to objects of"
            f" size {d.object_size} for up to {seconds} seconds or {max_objects} objects"
        )
        pid = prev_pid or os.getpid()
        self.out(f"Object prefix: {object_prefix(pid)}")
        writes_per_object = d.object_size // d.op_size if d.op_size else 1
        writes_per_object = max(1, writes_per_object)
        max_ops = 0
        if max_objects and d.op_size:
            max_ops = (d.object_size * max_objects + d.op_size - 1) // d.op_size

        with self.lock:
            d.start_time = self.clock()
        stop_time = d.start_time + seconds
        printer = self._start_printer()
        ioctx = self.ioctx

        def keep_going() -> bool:
            if d.started < concurrent:  # the initial batch is always issued
                return not (max_ops and d.started >= max_ops)
            if max_ops and d.started >= max_ops:
                return False
            return bool(seconds) and self.clock() < stop_time

        def next_op(slot: int) -> tuple[Callable[[Callable[..., None]], Any], Any]:
            index = d.started
            name = object_name(index // writes_per_object, pid)
            payload = object_contents(index, d.op_size)
            offset = d.op_size * (index % writes_per_object)
            if writes_per_object == 1:

                def submit(cb: Callable[..., None]) -> Any:
                    return ioctx.aio_write_full(name, payload, oncomplete=cb)
            else:

                def submit(cb: Callable[..., None]) -> Any:
                    return ioctx.aio_write(name, payload, offset, oncomplete=cb)

            return submit, name

        def on_done(slot: int, tag: Any, ret: int, payload: Any, latency: float) -> None:
            if ret != 0 and ret < 0:
                raise BenchError(ret)
            with self.lock:
                d.add_latency(latency)
                d.in_flight -= 1

        try:
            self._run_pipeline(concurrent, next_op, on_done, keep_going)
        finally:
            time_passed = self.clock() - d.start_time
            self._stop_printer(printer)
        lines = format_write_summary(d, time_passed)
        self.out(lines[0])
        for line in lines[1:]:
            self._plain(line)
        num_objects = (d.finished + writes_per_object - 1) // writes_per_object
        meta = encode_metadata(d.object_size, num_objects, pid, d.op_size)
        try:
            ioctx.write_full(run_name_meta, meta)
        except Exception:
            pass  # upstream ignores the result of this sync_write

    def _plain(self, line: str) -> None:
        self.out_stream.write(line + "\n")
        self.out_stream.flush()

    # -------------------------------------------------------------------- read
    def read_bench(
        self,
        seconds: int,
        num_objects: int,
        concurrent: int,
        pid: int,
        no_verify: bool,
        rand: bool,
    ) -> None:
        d = self.data
        reads_per_object = max(1, d.object_size // d.op_size) if d.op_size else 1
        errors = 0
        with self.lock:
            d.start_time = self.clock()
        finish_time = d.start_time + seconds
        printer = self._start_printer()
        ioctx = self.ioctx
        op_size = d.op_size

        initial = min(concurrent, num_objects)

        def keep_going() -> bool:
            if d.started < initial:  # the first batch reads objects 0..concurrent-1
                return True
            if not seconds or self.clock() >= finish_time or num_objects <= 0:
                return False
            return rand or num_objects > d.started

        def next_op(slot: int) -> tuple[Callable[[Callable[..., None]], Any], Any]:
            use_random = rand and d.started >= initial
            index = self.rng.randrange(num_objects) if use_random else d.started
            name = object_name(index // reads_per_object, pid)
            offset = op_size * (index % reads_per_object)

            def submit(cb: Callable[..., None]) -> Any:
                return ioctx.aio_read(name, op_size, offset, oncomplete=cb)

            return submit, (index, name)

        def on_done(slot: int, tag: Any, ret: int, payload: Any, latency: float) -> None:
            nonlocal errors
            if ret < 0:
                self.err(f"read got {ret}")
                raise BenchError(ret)
            with self.lock:
                d.add_latency(latency, track_stddev=False)
                d.in_flight -= 1
            if not no_verify:
                index, name = tag
                if not contents_match(payload, index, op_size):
                    self.err(f"{name} is not correct!")
                    errors += 1

        try:
            self._run_pipeline(concurrent, next_op, on_done, keep_going)
        finally:
            time_passed = self.clock() - d.start_time
            self._stop_printer(printer)
        lines = format_read_summary(d, time_passed)
        self.out(lines[0])
        for line in lines[1:]:
            self._plain(line)
        if errors:
            raise BenchError(-errno.EIO)

    # ------------------------------------------------------------------ cleanup
    def clean_up_objects(self, num_objects: int, prev_pid: int, concurrent: int) -> None:
        """Remove objects 0..num_objects-1 of run `prev_pid` (ENOENT ignored)."""
        if concurrent <= 0:
            raise BenchError(-errno.EINVAL)
        with self.lock:
            self.data.started = self.data.finished = self.data.in_flight = 0
        if num_objects == 0:
            return
        names = (object_name(i, prev_pid) for i in range(num_objects))
        removed = self._remove_many(names, min(concurrent, num_objects))
        self._plain(f"Removed {removed} object{'s' if removed != 1 else ''}")

    def _remove_many(
        self, items: Iterable[str | tuple[str, str]], concurrent: int, with_ns: bool = False
    ) -> int:
        it = iter(items)
        ioctx = self.ioctx
        count = 0
        exhausted = False

        def keep_going() -> bool:
            return not exhausted

        def next_op(slot: int) -> tuple[Callable[[Callable[..., None]], Any], Any] | None:
            nonlocal exhausted
            try:
                item = next(it)
            except StopIteration:
                exhausted = True
                return None
            if with_ns:
                ns, name = item  # type: ignore[misc]
                ioctx.set_namespace(ns)
            else:
                name = item

            def submit(cb: Callable[..., None]) -> Any:
                return ioctx.aio_remove(name, oncomplete=cb)

            return submit, name

        def on_done(slot: int, tag: Any, ret: int, payload: Any, latency: float) -> None:
            nonlocal count
            if ret != 0 and ret != -errno.ENOENT:
                self.err(f"remove got {ret}")
                raise BenchError(ret)
            count += 1
            with self.lock:
                self.data.finished += 1
                self.data.in_flight -= 1

        self._run_pipeline(max(1, concurrent), next_op, on_done, keep_going)
        return count

    def _list(self) -> list[tuple[str, str]]:
        return [(o.nspace or "", o.key) for o in self.ioctx.list_objects()]

    def clean_up_slow(self, prefix: str, concurrent: int) -> None:
        """Remove every object whose name starts with `prefix` (linear search)."""
        if concurrent <= 0:
            raise BenchError(-errno.EINVAL)
        self._plain("Warning: using slow linear search")
        objs = [(ns, name) for ns, name in self._list() if name.startswith(prefix)]
        try:
            removed = self._remove_many(objs, concurrent, with_ns=True)
        except BenchError as e:
            raise BenchError(-errno.EIO) from e
        self._plain(f"Removed {removed} object{'s' if removed != 1 else ''}")

    def clean_up(self, prefix: str, concurrent: int, run_name: str) -> int:
        """`rados cleanup`: 0 or a negative errno (as ObjBencher::clean_up)."""
        run_name_meta = run_name or BENCH_LASTRUN_METADATA
        prefix = prefix or object_prefix_nopid()
        if not prefix.startswith(BENCH_PREFIX):
            self.err(f'Specified --prefix invalid, it must begin with "{BENCH_PREFIX}"')
            return -errno.EINVAL
        meta_ns: set[str] = set()
        all_ns: set[str] = set()
        try:
            for ns, name in self._list():
                if name == run_name_meta:
                    meta_ns.add(ns)
                if name.startswith(prefix):
                    all_ns.add(ns)
            for ns in sorted(all_ns):
                self.ioctx.set_namespace(ns)
                if ns not in meta_ns:
                    try:
                        self.clean_up_slow(prefix, concurrent)
                    except BenchError as e:
                        self.err(f"clean_up_slow error r= {e.ret}")
                        return e.ret
                    continue
                _op, _obj, num_objects, prev_pid = self.fetch_metadata(run_name_meta)
                self.clean_up_objects(num_objects, prev_pid, concurrent)
                self._sync_remove(run_name_meta)
        except BenchError as e:
            return e.ret
        return 0

    def purge(self, concurrent: int) -> int:
        """Remove every object of the pool in every namespace (`rados purge`)."""
        try:
            self.ioctx.set_namespace(self.all_nspaces)
            self.clean_up_slow("", concurrent)
        except BenchError as e:
            return e.ret
        return 0
