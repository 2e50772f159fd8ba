"""Shared fixture of the rbd engine's pool-feature tests (trash, namespaces, config,
groups, mirroring, migration, encryption): one embedded cluster per test module and a
fresh pool per test, with helpers to run engine coroutines and read raw omap."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import rados
from pyceph.client.ioctx import IoCtx
from pyceph.common.errors import CephError
from pyceph.rbdlib.create import create
from pyceph.rbdlib.image import Image, open_image
from rados import _core as rados_core

MiB = 1 << 20
#: PGs of each test pool (the module's cluster holds many pools: keep PGs per OSD low).
PG_NUM = 8


class Env:
    """A pool on the embedded cluster and an async IoCtx on it."""

    def __init__(self, r: rados.Rados, pool_name: str) -> None:
        self.r = r
        self.pool_name = pool_name
        self.pool_id = r.pool_lookup(pool_name)
        self.ioctx = IoCtx(rados_core.core_client(r), self.pool_id)

    def run(self, coro: Any) -> Any:
        return rados_core.run(self.r, coro)

    def err(self, coro: Any) -> int:
        """The errno `coro` fails with (the test fails when it succeeds)."""
        try:
            rados_core.run(self.r, coro)
        except CephError as e:
            return e.errno
        raise AssertionError("expected a CephError")

    def create(self, name: str, size: int = 4 * MiB, ioctx: IoCtx | None = None,
               **kw: Any) -> str:  # fmt: skip
        kw.setdefault("features", 1)
        kw.setdefault("order", 20)
        return str(self.run(create(ioctx or self.ioctx, name, size, **kw)))

    def open(self, name: str, ioctx: IoCtx | None = None, **kw: Any) -> Image:
        return self.run(open_image(ioctx or self.ioctx, name, **kw))

    def omap(self, oid: str, ioctx: IoCtx | None = None) -> dict[str, bytes]:
        """Every omap key/value of `oid` ({} when the object is missing)."""
        io = ioctx or self.ioctx

        async def get() -> dict[str, bytes]:
            try:
                return (await io.omap_get_vals(oid))[0]
            except CephError:
                return {}

        return dict(self.run(get()))

    def objects(self, ioctx: IoCtx | None = None) -> set[str]:
        io = ioctx or self.ioctx

        async def ls() -> set[str]:
            return {oid async for _, oid, _ in io.list_objects()}

        return set(self.run(ls()))


def make_pool(r: rados.Rados, name: str) -> None:
    cmd = {"prefix": "osd pool create", "pool": name, "pg_num": PG_NUM}
    ret, _, outs = r.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        yield r


@pytest.fixture
def env(cluster: rados.Rados) -> Iterator[Env]:
    name = f"rbd-{uuid.uuid4().hex[:8]}"
    make_pool(cluster, name)
    yield Env(cluster, name)
    for pool_name in cluster.list_pools():
        if pool_name.startswith(name):
            cluster.delete_pool(pool_name)
