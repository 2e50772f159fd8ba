"""Per-object order with many ops in flight: the Objecter pipelines ops by tid.

Against an embedded cluster (real mon, OSDs and messenger in-process): ops issued to one
object without waiting for each other apply in submission order — through the async
`IoCtx`, through the `rados` facade's aio calls, and across a dropped OSD connection
(the Objecter resends in tid order, the OSD's dup index keeps each exactly once).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import rados
from pyceph.client.ioctx import IoCtx
from pyceph.client.objecter import SENT
from pyceph.client.op import ObjectOp
from rados import _core as rados_core

#: Ops issued to one object per test, none awaited before the next is issued.
N_OPS = 200


@pytest.fixture(scope="module")
def handle() -> Iterator[tuple[rados.Rados, int]]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        pool = f"t-{uuid.uuid4().hex[:8]}"
        r.create_pool(pool)
        try:
            yield r, r.pool_lookup(pool)
        finally:
            r.delete_pool(pool)  # the process's embedded cluster is shared by other tests


def _plan(n: int) -> list[tuple[str, Any]]:
    """A mix of overlapping writes, appends, truncates and a write_full."""
    plan: list[tuple[str, Any]] = []
    for i in range(n):
        data = f"<{i}>".encode()
        if i == n // 2:
            plan.append(("write_full", data * 3))
        elif i % 11 == 0:
            plan.append(("truncate", i % 17))
        elif i % 3 == 0:
            plan.append(("write", (i * 7 % 40, data)))
        else:
            plan.append(("append", data))
    return plan


def _apply(plan: list[tuple[str, Any]]) -> bytes:
    """The object's content after applying `plan` one op at a time."""
    buf = bytearray()
    for kind, arg in plan:
        if kind == "write_full":
            buf = bytearray(arg)
        elif kind == "truncate":
            del buf[arg:]
            buf.extend(bytes(max(arg - len(buf), 0)))
        elif kind == "write":
            off, data = arg
            if len(buf) < off:
                buf.extend(bytes(off - len(buf)))
            buf[off : off + len(data)] = data
        else:
            buf.extend(arg)
    return bytes(buf)


def _op(kind: str, arg: Any) -> ObjectOp:
    op = ObjectOp()
    if kind == "write_full":
        op.write_full(arg)
    elif kind == "truncate":
        op.truncate(arg)
    elif kind == "write":
        op.write(arg[0], arg[1])
    else:
        op.append(arg)
    return op


async def _issue(io: IoCtx, oid: str, plan: list[tuple[str, Any]]) -> list[asyncio.Task[Any]]:
    """Start every op of `plan` (in order) without awaiting any."""
    return [asyncio.ensure_future(io.operate(oid, _op(k, a))) for k, a in plan]


def test_pipelined_ops_apply_in_submission_order(handle):
    r, pool_id = handle
    plan = _plan(N_OPS)

    async def run() -> tuple[bytes, bytes]:
        io = IoCtx(rados_core.core_client(r), pool_id)
        # first batch: no OSD session yet, so the ops queue on it and go out once connected
        await asyncio.gather(*await _issue(io, "first", plan))
        # second batch: the session is up, each op is sent as it is submitted
        await asyncio.gather(*await _issue(io, "second", plan))
        return await io.read("first", 1 << 20), await io.read("second", 1 << 20)

    first, second = rados_core.run(r, run())
    assert first == _apply(plan)
    assert second == _apply(plan)


def test_ops_to_one_object_are_in_flight_together(handle):
    r, pool_id = handle
    objecter = rados_core.core_client(r).objecter

    async def run() -> int:
        io = IoCtx(rados_core.core_client(r), pool_id)
        await io.write_full("inflight", b"")  # the OSD session is open from here on
        tasks = [asyncio.ensure_future(io.append("inflight", b"%d," % i)) for i in range(N_OPS)]
        most = 0
        while not all(t.done() for t in tasks):
            sent = sum(1 for q in objecter.dump_requests() if q["state"] == SENT)
            most = max(most, sent)
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        assert await io.read("inflight", 1 << 20) == b"".join(b"%d," % i for i in range(N_OPS))
        return most

    most = rados_core.run(r, run())
    # the old facade sent one op per object at a time; the Objecter sends all at once
    assert most == N_OPS


def test_resend_after_connection_drop_keeps_order(handle):
    r, pool_id = handle
    objecter = rados_core.core_client(r).objecter
    plan = _plan(N_OPS)

    async def run() -> tuple[bytes, int]:
        io = IoCtx(rados_core.core_client(r), pool_id)
        await io.write_full("dropped", b"")
        tasks = await _issue(io, "dropped", plan)
        while not any(q["state"] == SENT for q in objecter.dump_requests()):
            await asyncio.sleep(0)
        # drop every OSD connection with ops on the wire: they are resent, in tid order
        for sess in list(objecter.sessions.values()):
            if sess.conn is not None:
                sess.conn.abort()
        most_attempts = 0
        while not all(t.done() for t in tasks):
            most_attempts = max([most_attempts] + [q["attempts"] for q in objecter.dump_requests()])
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        return await io.read("dropped", 1 << 20), most_attempts

    content, most_attempts = rados_core.run(r, run())
    assert most_attempts >= 2  # ops were in flight when the connection dropped
    assert content == _apply(plan)


def test_facade_aio_ops_apply_in_order(handle):
    r, pool_id = handle
    plan = _plan(N_OPS)
    with r.open_ioctx2(pool_id) as io:
        comps = []
        for kind, arg in plan:
            if kind == "write_full":
                comps.append(io.aio_write_full("facade", arg))
            elif kind == "write":
                comps.append(io.aio_write("facade", arg[1], arg[0]))
            elif kind == "append":
                comps.append(io.aio_append("facade", arg))
            else:
                io.trunc("facade", arg)  # a synchronous op between the aio ones keeps its place
        for c in comps:
            c.wait_for_complete()
            assert c.get_return_value() == 0
        assert io.read("facade", 1 << 20) == _apply(plan)


def test_resend_after_map_change_keeps_order(handle):
    r, pool_id = handle
    client = rados_core.core_client(r)
    objecter = client.objecter
    plan = _plan(N_OPS)

    async def run() -> tuple[bytes, bool, int]:
        io = IoCtx(client, pool_id)
        await io.write_full("moved", b"")
        m = client.osdmap
        _, ps = m.object_locator_to_pg(pool_id, "moved", "", "")
        primary = m.pg_to_up_acting_osds(pool_id, ps)[3]
        tasks = await _issue(io, "moved", plan)
        while not any(q["state"] == SENT for q in objecter.dump_requests()):
            await asyncio.sleep(0)
        # the primary goes out: a new map moves the PG and the ops follow it, in tid order
        cmd = json.dumps({"prefix": "osd out", "ids": [str(primary)]})
        out = asyncio.ensure_future(client.mon_command(cmd))
        most_attempts = 0
        while not all(t.done() for t in tasks):
            most_attempts = max([most_attempts] + [q["attempts"] for q in objecter.dump_requests()])
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)
        ret, _out, outs = await out
        assert ret == 0, outs
        moved_to = client.osdmap.pg_to_up_acting_osds(pool_id, ps)[3]
        ret, _out, outs = await client.mon_command(cmd.replace("osd out", "osd in"))
        assert ret == 0, outs
        return await io.read("moved", 1 << 20), moved_to != primary, most_attempts

    content, moved, most_attempts = rados_core.run(r, run())
    assert moved and most_attempts >= 2  # the map changed with ops in flight
    assert content == _apply(plan)
