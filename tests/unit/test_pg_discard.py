"""`pg._discard` collects what it drops: a gather of replica writes cancelled by an
interval change while one of them fails must not log "exception was never retrieved"
(seen on OSDs during PG merges)."""

from __future__ import annotations

import asyncio
import gc

from pyceph.osd.pg import _discard


def test_discarded_gather_whose_child_fails_is_collected() -> None:
    seen: list[str] = []

    async def child() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ValueError("a replica write ended by the interval change") from None

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _l, c: seen.append(c["message"]))
        g = asyncio.gather(asyncio.ensure_future(child()))
        await asyncio.sleep(0)
        _discard(g)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert g.done()
        del g
        gc.collect()
        await asyncio.sleep(0)

    asyncio.run(main())
    assert seen == []
