"""The client-op path's PG log entries: what the primary and its replicas record."""

from __future__ import annotations

import asyncio

from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.pglog import DELETE, ERROR, MODIFY
from pyceph.osd.types import ZERO


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_log_entries_carry_each_objects_prior_version_on_every_replica():
    """An entry's prior_version is the version the object's head had before the op (the
    primary reads it with the op's object info; ZERO when there was no head: a new or a
    deleted object), and each replica logs the same entry."""

    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        steps = [
            ([["write_full", {"dlen": 3}]], b"abc"),
            ([["append", {"dlen": 2}]], b"de"),
            ([["read", {"offset": 0, "length": 0}]], b""),
            ([["setxattr", {"name": "a", "value_len": 1}]], b"x"),
            ([["delete", {}]], b""),
            ([["delete", {}]], b""),  # ENOENT: an error entry
            ([["write_full", {"dlen": 1}]], b"z"),
        ]
        for ops, data in steps:
            await c.op(1, "o", ops, data)
        logs = {i: osd.pgs[(1, 0)].log.entries for i, osd in c.running.items()}
        mine = [e for e in logs[0] if e.oid == ("", "o", "")]
        assert [e.op for e in mine] == [MODIFY, MODIFY, MODIFY, DELETE, ERROR, MODIFY]
        before = ZERO
        for e in mine:
            if e.op == ERROR:
                assert e.prior_version == ZERO  # no head to have a version
                continue
            assert e.prior_version == before
            before = e.version if e.op != DELETE else ZERO
        assert logs[1] == logs[0] and logs[2] == logs[0]
        await c.stop()

    run(main())
