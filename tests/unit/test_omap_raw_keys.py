"""Omap keys are bytes upstream (rbd_children keys hold encoded pool and snap ids); pyceph
carries bytes that are not UTF-8 as surrogate escapes, end to end through the wire and the
store. Before the fix such a key made the OSD's op fail to encode and the client hang."""

from __future__ import annotations

import uuid

import rados
from pyceph.client.ioctx import IoCtx
from rados import _core as rados_core

#: A key whose bytes are not UTF-8: b"parent" then 200 as a little-endian u64.
RAW_KEY = (b"parent" + (200).to_bytes(8, "little")).decode("utf-8", "surrogateescape")


def test_non_utf8_omap_key_round_trips():
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        pool = f"raw-{uuid.uuid4().hex[:6]}"
        r.create_pool(pool)
        io = IoCtx(rados_core.core_client(r), r.pool_lookup(pool))

        async def run() -> tuple[dict[str, bytes], dict[str, bytes]]:
            await io.omap_set("obj", {RAW_KEY: b"v", "plain": b"w"})
            vals, _more = await io.omap_get_vals("obj")
            by_key = await io.omap_get_vals_by_keys("obj", [RAW_KEY])
            await io.omap_rm_keys("obj", [RAW_KEY])
            return vals, by_key

        vals, by_key = rados_core.run(r, run())
        assert vals == {RAW_KEY: b"v", "plain": b"w"}
        assert by_key == {RAW_KEY: b"v"}
        left, _ = rados_core.run(r, io.omap_get_vals("obj"))
        assert left == {"plain": b"w"}
