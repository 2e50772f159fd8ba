"""`LmdbStore`: the durable ObjectStore on LMDB, with group commit.

Layout: one LMDB named sub-database per kvcore key space (sys, collections,
onodes, data, xattrs, omap, omap_header, meta). Separate B-trees keep each
space's pages dense (listing onodes never walks data pages; 64 KiB extents
live in overflow pages of their own tree) and map 1:1 onto kvcore's spaces, so
this module is only a KV adapter plus the commit pipeline. LMDB keys are at most
511 bytes: object names and omap keys longer than that are stored under an
order-preserving prefix plus a digest (kvcore's "Long keys" format note); keys
that fit are stored verbatim, as in every store written before, so
``FORMAT_VERSION`` is unchanged.

Durability and batching: the env is opened with ``sync=True, metasync=True``
so a commit returns only after fdatasync. `queue_transaction` enqueues; one
committer task takes every transaction queued so far (up to a bound), applies
each inside one LMDB write transaction (a failing one is rolled back alone
through kvcore's undo log; LMDB nested transactions cost O(batch) each), commits
the batch with a single sync in a dedicated worker thread, then resolves all
the callers. The queue is bounded (``max_queue_txns``/``max_queue_bytes``);
callers beyond it wait their turn in FIFO order.

Memory: the write transaction hands out views, not copies (``buffers=True``), and a
failed transaction's undo log refers to the committed state instead of copying it
(`kvcore.UndoKV`), so removing or overwriting stored data neither copies nor reads its
bytes; pages read through LMDB's map are dropped from the process once
``map_read_release`` bytes of extents have gone through it, or once commits have mapped
that much (`mapres`). A batch carries at most ``max_batch_bytes`` of payload: without
``writemap`` LMDB keeps the batch's dirty pages in malloc'd memory until it commits.

Capacity: kvcore charges every extent rounded to 4 KiB plus every metadata
record's bytes; a transaction that would push that past ``capacity_bytes``
fails with ENOSPC before commit. The LMDB map is sized with headroom above the
capacity; should it fill anyway, MapFullError fails only the offending
transaction(s) with ENOSPC (the batch is retried one transaction at a time).
"""

from __future__ import annotations

import asyncio
import collections
import errno
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import lmdb
import msgpack

from .errors import StoreError
from .kvcore import (
    SP_DATA,
    SP_SYS,
    SPACE_NAMES,
    Applier,
    StoreState,
    UndoKV,
)
from .mapres import MAP_READ_RELEASE_BYTES, MappedReads
from .objectstore import KVObjectStore
from .transaction import Transaction
from .types import DEFAULT_EXTENT_SIZE, DEFAULT_GROUP_COMMIT_MAX_TXNS, StoreLimits

FORMAT_VERSION = 1
MAX_QUEUE_TXNS = 1024  # transactions queued or committing before callers wait
MAX_QUEUE_BYTES = 256 << 20  # payload bytes queued or committing before callers wait
MAX_BATCH_BYTES = 16 << 20  # payload bytes per LMDB write transaction (its dirty pages)
MAP_OVERHEAD = 64 << 20  # LMDB map headroom for B-tree pages and copy-on-write


def default_map_size(capacity_bytes: int) -> int:
    """LMDB map size for a capacity: capacity + 50% + fixed overhead."""
    return capacity_bytes + capacity_bytes // 2 + MAP_OVERHEAD


class _LmdbKV:
    """kvcore.KV over one LMDB transaction; with `reads`, the data extents it returns are
    counted there (a read view: their bytes are about to be read through the map)."""

    __slots__ = ("txn", "dbs", "reads")

    def __init__(self, txn: lmdb.Transaction, dbs: list, reads: MappedReads | None = None) -> None:
        self.txn = txn
        self.dbs = dbs
        self.reads = reads

    def get(self, space: int, key: bytes) -> bytes | memoryview | None:
        v = self.txn.get(key, db=self.dbs[space])
        if space == SP_DATA and v is not None and self.reads is not None:
            self.reads.pending += len(v)
        return v

    def iterate(
        self, space: int, start: bytes, end: bytes | None
    ) -> Iterator[tuple[bytes, bytes | memoryview]]:
        cur = self.txn.cursor(db=self.dbs[space])
        if not cur.set_range(start):
            return
        reads = self.reads if space == SP_DATA else None
        for k, v in cur.iternext():
            k = bytes(k)
            if end is not None and k >= end:
                return
            if reads is not None:
                reads.pending += len(v)
            yield k, v

    def put(self, space: int, key: bytes, value: bytes | memoryview) -> None:
        self.txn.put(key, value, db=self.dbs[space])

    def delete(self, space: int, key: bytes) -> None:
        self.txn.delete(key, db=self.dbs[space])


class _MapFull(Exception):
    pass


class LmdbStore(KVObjectStore):
    """Durable ObjectStore in an LMDB environment directory ``path``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        capacity_bytes: int,
        extent_size: int = DEFAULT_EXTENT_SIZE,
        limits: StoreLimits | None = None,
        *,
        map_size: int | None = None,
        max_queue_txns: int = MAX_QUEUE_TXNS,
        max_queue_bytes: int = MAX_QUEUE_BYTES,
        max_batch_txns: int = DEFAULT_GROUP_COMMIT_MAX_TXNS,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        map_read_release: int = MAP_READ_RELEASE_BYTES,
    ) -> None:
        super().__init__(int(capacity_bytes), extent_size, limits)
        self.path = os.fspath(path)
        self.map_size = map_size or default_map_size(int(capacity_bytes))
        self.max_queue_txns = max_queue_txns
        self.max_queue_bytes = max_queue_bytes
        self.max_batch_txns = max_batch_txns
        self.max_batch_bytes = max_batch_bytes
        #: data read through LMDB's map since its pages were last dropped (`mapres`)
        self.mapped_reads = MappedReads(os.path.join(self.path, "data.mdb"), map_read_release)
        self.env: lmdb.Environment | None = None
        self.dbs: list = []
        self._wlock = threading.Lock()
        self._wstate = StoreState()  # writer's view (committer thread)
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._queue: collections.deque = collections.deque()  # (txn, fut) admitted
        self._waiting: collections.deque = collections.deque()  # (txn, fut) over the bound
        self._inflight_txns = 0
        self._inflight_bytes = 0
        #: pages_in_use() after the last commit (statfs runs per write: the OSD's full
        #: check; the count opens a read view and stats every sub-database)
        self._pages_used = 0

    # -- lifecycle -----------------------------------------------------------------
    def _open(self) -> None:
        if self.env is not None:
            return
        os.makedirs(self.path, exist_ok=True)
        self.env = lmdb.open(
            self.path,
            map_size=self.map_size,
            subdir=True,
            max_dbs=len(SPACE_NAMES) + 1,
            sync=True,
            metasync=True,
            writemap=False,
            lock=True,
            readahead=False,
            max_readers=256,
        )
        self.dbs = [self.env.open_db(name) for name in SPACE_NAMES]

    def mkfs(self) -> None:
        self._open()
        assert self.env is not None
        with self.env.begin(write=True) as txn:
            if txn.get(b"super", db=self.dbs[SP_SYS]) is None:
                sb = {"format": FORMAT_VERSION, "extent_size": self.extent_size}
                txn.put(b"super", msgpack.packb(sb), db=self.dbs[SP_SYS])
                txn.put(b"stats", StoreState().encode(), db=self.dbs[SP_SYS])

    def mount(self) -> None:
        self._open()
        assert self.env is not None
        with self.env.begin() as txn:
            raw = txn.get(b"super", db=self.dbs[SP_SYS])
            if raw is None:
                raise StoreError(errno.ENOENT, f"no store at {self.path}; run mkfs")
            sb = msgpack.unpackb(raw)
            if sb["format"] != FORMAT_VERSION:
                raise StoreError(errno.EINVAL, f"unsupported store format {sb['format']}")
            self.extent_size = sb["extent_size"]
            self.state = StoreState.decode(txn.get(b"stats", db=self.dbs[SP_SYS]))
        self._wstate = self.state.copy()
        self._pages_used = self.pages_in_use()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="lmdbstore-commit")

    def umount(self) -> None:
        """Close the store. Await `flush` first if transactions may be queued."""
        if self._queue or self._waiting:
            raise StoreError(errno.EBUSY, "transactions still queued; await flush() first")
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        if self.env is not None:
            self.env.close()
            self.env = None

    async def flush(self) -> None:
        """Wait until every transaction queued so far has committed."""
        if self._queue or self._waiting or self._inflight_txns:
            await self.queue_transaction(Transaction())  # ordered after all of them

    def statfs(self) -> dict[str, int]:
        """As the base, but `used` is what the database really occupies: the pages its
        B-trees (data, metadata, LMDB's own bookkeeping) hold, never less than the
        accounted bytes. ENOSPC admission still counts the accounted bytes."""
        st = super().statfs()
        if self.env is None:
            return st
        used = max(st["used"], self._pages_used * self.env.stat()["psize"])
        st["used"] = used
        st["available"] = max(0, st["total"] - used)
        return st

    def pages_in_use(self) -> int:
        """Branch, leaf and overflow pages of every sub-database and of the main tree."""
        assert self.env is not None
        with self.env.begin() as txn:
            stats = [txn.stat(db) for db in self.dbs] + [self.env.stat()]
        return sum(s["branch_pages"] + s["leaf_pages"] + s["overflow_pages"] for s in stats)

    @contextmanager
    def _read_view(self) -> Iterator[_LmdbKV]:
        if self.env is None:
            raise StoreError(errno.ESHUTDOWN, "store not mounted")
        try:
            with self.env.begin(buffers=True) as txn:
                yield _LmdbKV(txn, self.dbs, self.mapped_reads)
        finally:
            self.mapped_reads.maybe_release()

    # -- commit path (worker thread) ------------------------------------------------
    def _commit_batch(self, txns: list[Transaction]) -> list[BaseException | None]:
        with self._wlock:
            try:
                return self._commit_together(txns)
            except _MapFull:
                return [self._commit_alone(t) for t in txns]
            finally:
                # partial overwrites read old extents (counted as read); committing maps
                # B-tree and free-list pages no count sees (measured: check_resident)
                self.mapped_reads.add(sum(t.data_bytes for t in txns))
                if not self.mapped_reads.maybe_release():
                    self.mapped_reads.check_resident()

    @contextmanager
    def _committed_view(self) -> Iterator[_LmdbKV]:
        """The last committed state, in the committer thread while its write transaction
        is open (py-lmdb opens every environment MDB_NOTLS: a thread may hold both)."""
        assert self.env is not None
        with self.env.begin(buffers=True) as txn:
            yield _LmdbKV(txn, self.dbs)

    def _apply_one(
        self, wtxn: lmdb.Transaction, txn: Transaction, touched: set[tuple[int, bytes]]
    ) -> BaseException | None:
        saved = self._wstate.copy()
        kv = UndoKV(_LmdbKV(wtxn, self.dbs, self.mapped_reads), self._committed_view, touched)
        try:
            Applier(kv, self._wstate, self.limits, self.extent_size, self.capacity).apply(txn)
        except lmdb.Error:
            raise  # the LMDB transaction is unusable: the caller aborts the batch
        except Exception as e:
            kv.rollback()
            self._wstate = saved
            return e
        finally:
            # LMDB reads the first page of every overflow value it frees: a batch
            # removing a pool's objects maps 4 KiB of every extent; drop them as it goes
            self.mapped_reads.maybe_release()
        return None

    def _commit_together(self, txns: list[Transaction]) -> list[BaseException | None]:
        assert self.env is not None
        start = self._wstate.copy()
        # buffers: values read while applying are views of the map (or of LMDB's dirty
        # pages), never copies: kvcore keeps only what it copies itself
        wtxn = self.env.begin(write=True, buffers=True)
        touched: set[tuple[int, bytes]] = set()  # keys this batch changed (UndoKV)
        try:
            results = [self._apply_one(wtxn, t, touched) for t in txns]
            if any(r is None for r in results):
                wtxn.put(b"stats", self._wstate.encode(), db=self.dbs[SP_SYS])
                wtxn.commit()  # one fdatasync for the whole batch
                self.perf["commits"] += 1
                self._pages_used = self.pages_in_use()
            else:
                wtxn.abort()
        except BaseException as e:
            wtxn.abort()
            self._wstate = start
            if isinstance(e, lmdb.MapFullError):
                raise _MapFull() from None
            if isinstance(e, lmdb.Error):
                raise StoreError(errno.EIO, f"lmdb: {e}") from e
            raise
        self.state = self._wstate.copy()
        self._count(results)
        return results

    def _commit_alone(self, txn: Transaction) -> BaseException | None:
        for attempt in range(2):
            try:
                return self._commit_together([txn])[0]
            except _MapFull:
                if attempt == 0:
                    self._advance_txnid()
            except StoreError as e:
                return e
        self.perf["txns"] += 1
        self.perf["txn_errors"] += 1
        return StoreError(errno.ENOSPC, "store full (LMDB map full)")

    def _advance_txnid(self) -> None:
        """Commit a trivial write: LMDB reuses pages freed by the previous
        transaction only once a later one has committed."""
        assert self.env is not None
        try:
            with self.env.begin(write=True) as t:
                t.put(b"stats", self._wstate.encode(), db=self.dbs[SP_SYS])
        except lmdb.MapFullError:
            pass

    def _count(self, results: list[BaseException | None]) -> None:
        self.perf["txns"] += len(results)
        self.perf["txn_errors"] += sum(r is not None for r in results)

    # -- public mutation -------------------------------------------------------------
    def apply_transaction(self, txn: Transaction) -> None:
        if self.env is None:
            raise StoreError(errno.ESHUTDOWN, "store not mounted")
        r = self._commit_batch([txn])[0]
        if r is not None:
            raise r

    async def queue_transaction(self, txn: Transaction) -> None:
        if self.env is None or self._executor is None:
            raise StoreError(errno.ESHUTDOWN, "store not mounted")
        loop = asyncio.get_running_loop()
        self._ensure_committer(loop)
        fut: asyncio.Future = loop.create_future()
        if not self._waiting and self._fits(txn):
            self._admit(txn, fut)
        else:
            self._waiting.append((txn, fut))  # backpressure: wait for room, in order
        await asyncio.shield(fut)

    def _fits(self, txn: Transaction) -> bool:
        if self._inflight_txns == 0:
            return True  # always admit one, however large
        return (
            self._inflight_txns < self.max_queue_txns
            and self._inflight_bytes + txn.data_bytes <= self.max_queue_bytes
        )

    def _admit(self, txn: Transaction, fut: asyncio.Future) -> None:
        self._inflight_txns += 1
        self._inflight_bytes += txn.data_bytes
        self._queue.append((txn, fut))
        assert self._wake is not None
        self._wake.set()

    def _ensure_committer(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._committer(), name="lmdbstore-committer")

    async def _committer(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._queue.popleft()]
            nbytes = batch[0][0].data_bytes
            while (
                self._queue
                and len(batch) < self.max_batch_txns
                and nbytes + self._queue[0][0].data_bytes <= self.max_batch_bytes
            ):
                batch.append(self._queue.popleft())
                nbytes += batch[-1][0].data_bytes
            try:
                results = await loop.run_in_executor(
                    self._executor, self._commit_batch, [t for t, _ in batch]
                )
            except BaseException as e:  # lmdb failure: every txn of the batch failed
                err = e if isinstance(e, StoreError) else StoreError(errno.EIO, str(e))
                results = [err] * len(batch)
                if isinstance(e, asyncio.CancelledError):
                    raise
            finally:
                self._inflight_txns -= len(batch)
                self._inflight_bytes -= nbytes
            for (_, fut), r in zip(batch, results, strict=True):
                if not fut.done():
                    if r is None:
                        fut.set_result(None)
                    else:
                        fut.set_exception(r)
            while self._waiting and self._fits(self._waiting[0][0]):
                self._admit(*self._waiting.popleft())
