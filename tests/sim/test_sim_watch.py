"""Watch expiry in the simulator: a client cut off from the OSDs for longer than its
watch's timeout loses the watch — when it can reach the OSD again its error callback
gets -ENOTCONN and the watch is not silently registered again (upstream: the OSD
answers the ping or reconnect with -ENOTCONN), so it must watch anew; a shorter cut
keeps the watch and its notifies."""

from __future__ import annotations

import asyncio
import errno

from tests.sim.test_sim_cluster import _pool, _wait_clean

from pyceph.client.op import ObjectOp
from pyceph.sim.cluster import SimCluster

#: The watch's timeout (seconds); the cuts are well below and well above it.
WATCH_TIMEOUT = 10
#: Bound (virtual seconds) on the client learning that its watch is over.
LEARN_TIMEOUT = 120.0
OSDS = ["osd.0", "osd.1", "osd.2"]


async def _notify(rc, pool: int, oid: str, payload: bytes) -> list:
    op = ObjectOp()
    op.notify(payload, 5000)
    res = await rc.op(pool, oid, op.ops, timeout=120)
    assert res.r in (0, -errno.ETIMEDOUT), res.r
    return [int(a[1]) for a in res.outs[0].fields.get("acks", [])]


def test_a_watch_that_expires_ends_with_enotconn_and_a_new_one_works() -> None:
    with SimCluster(7) as c:

        async def main() -> None:
            await c.start()
            await c.wait_osds_up()
            notifier = await c.client()
            pool = await _pool(c, notifier, pg_num=4)
            await _wait_clean(c, notifier)
            op = ObjectOp()
            op.write_full(b"w")
            assert (await notifier.op(pool, "watched", op.ops)).r == 0

            watcher = await c.client()
            seen: list[bytes] = []
            errors: list[tuple[int, int]] = []

            def on_notify(_nid: int, _gid: int, _cookie: int, data: bytes) -> bytes:
                seen.append(bytes(data))
                return b"ack"

            def on_error(cookie: int, err: int) -> None:
                errors.append((cookie, err))

            h = await watcher.watch(
                pool, "watched", on_notify=on_notify, on_error=on_error, timeout=WATCH_TIMEOUT
            )
            # a cut shorter than the timeout: the watch stays, notifies reach it
            c.partition(watcher.sim_host, OSDS)
            await asyncio.sleep(WATCH_TIMEOUT / 3)
            c.heal(watcher.sim_host)
            assert h.cookie in await _notify(notifier, pool, "watched", b"one")
            assert seen == [b"one"] and errors == []

            # a cut longer than the timeout: the OSD drops the watch; the client learns
            # it at its next ping instead of registering it again
            c.partition(watcher.sim_host, OSDS)
            await asyncio.sleep(WATCH_TIMEOUT * 3)
            assert h.cookie not in await _notify(notifier, pool, "watched", b"two")
            c.heal(watcher.sim_host)
            await asyncio.wait_for(_until(lambda: errors), LEARN_TIMEOUT)
            assert errors == [(h.cookie, -errno.ENOTCONN)]
            assert await watcher.watch_check(h) == -errno.ENOTCONN
            assert h.cookie not in await _notify(notifier, pool, "watched", b"three")
            assert seen == [b"one"]

            # watching anew works
            h2 = await watcher.watch(pool, "watched", on_notify=on_notify, on_error=on_error)
            assert h2.cookie in await _notify(notifier, pool, "watched", b"four")
            assert seen == [b"one", b"four"]

        c.run(main())


async def _until(pred) -> None:
    while not pred():
        await asyncio.sleep(1.0)
