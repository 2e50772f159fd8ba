"""The async rbd engine against real daemons on loopback (the shared cluster): a
default-featured image (exclusive-lock, object-map) written and read across objects
with many ops in flight, a snapshot, a clone copied up and flattened, and removal
leaving only the pool-wide rbd objects."""

from __future__ import annotations

from typing import Any

import rados
from pyceph.client.ioctx import IoCtx
from pyceph.rbdlib import cls_client, create, open_image
from pyceph.rbdlib import pool as rbd_pool
from pyceph.rbdlib.clone import clone
from pyceph.rbdlib.layout import object_map_name
from rados import _core as rados_core

MiB = 1 << 20


def test_image_life_on_daemons(cluster: rados.Rados, pool: str) -> None:
    io = IoCtx(rados_core.core_client(cluster), cluster.pool_lookup(pool))

    def run(coro: Any) -> Any:
        return rados_core.run(cluster, coro)

    async def objects() -> set[str]:
        return {oid async for _, oid, _ in io.list_objects()}

    run(create(io, "vm", 16 * MiB, order=20))
    img = run(open_image(io, "vm"))
    data = bytes((i * 31) & 0xFF for i in range(5 * MiB + 333))
    try:
        assert run(img.write(data, 777)) == len(data)
        assert run(img.read(777, len(data))) == data
        run(img.create_snap("base"))
        run(img.protect_snap("base"))
        run(img.write(b"new" * 1000, 777))
    finally:
        run(img.close())
    run(clone(io, "vm", "base", io, "kid", clone_format=2))
    kid = run(open_image(io, "kid"))
    try:
        assert run(kid.read(777, len(data))) == data
        run(kid.write(b"k" * 4096, 2 * MiB))
        run(kid.flatten())
        expect = bytearray(data)
        expect[2 * MiB - 777 : 2 * MiB - 777 + 4096] = b"k" * 4096
        assert run(kid.read(777, len(data))) == bytes(expect)
    finally:
        run(kid.close())
    run(rbd_pool.remove(io, "kid"))
    img = run(open_image(io, "vm"))
    run(img.unprotect_snap("base"))
    run(img.remove_snap("base"))
    run(img.close())
    run(rbd_pool.remove(io, "vm"))
    assert run(objects()) <= {"rbd_directory", "rbd_info", "rbd_children"}


def test_two_clients_share_the_exclusive_lock(cluster_conf: str, pool: str) -> None:
    """Two clients write one image with exclusive-lock and object-map on: the lock moves
    on demand, every acknowledged write lands, the object map stays true."""
    clients = []
    try:
        for _ in range(2):
            r = rados.Rados(conffile=cluster_conf)
            r.connect()
            clients.append(r)
        ios = [IoCtx(rados_core.core_client(r), r.pool_lookup(pool)) for r in clients]
        a_run, b_run = (
            rados_core.loop_thread(clients[0]).run,
            rados_core.loop_thread(clients[1]).run,
        )
        a_run(create(ios[0], "shared", 8 * MiB, order=20))
        a = a_run(open_image(ios[0], "shared"))
        b = b_run(open_image(ios[1], "shared"))
        model = bytearray(8 * MiB)
        for i in range(12):
            run, img = (a_run, a) if i % 2 == 0 else (b_run, b)
            off = (i * 700_001) % (7 * MiB)
            data = bytes([i + 1]) * 300_000
            assert run(img.write(data, off)) == len(data)
            model[off : off + len(data)] = data
        assert a_run(a.read(0, 8 * MiB)) == bytes(model)
        assert b_run(b.read(0, 8 * MiB)) == bytes(model)
        assert b_run(b.is_exclusive_lock_owner()) is True
        omap_oid = object_map_name(a.id)
        kept = a_run(cls_client.object_map_load(ios[0], omap_oid)).states()
        a_run(a.rebuild_object_map())  # the map kept by both equals the one rebuilt
        assert a_run(cls_client.object_map_load(ios[0], omap_oid)).states() == kept
        a_run(a.close())
        b_run(b.close())
        a_run(rbd_pool.remove(ios[0], "shared"))
    finally:
        for r in clients:
            r.shutdown()
