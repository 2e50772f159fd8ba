"""The Objecter maps each PG to its primary once per OSDMap (not once per op).

The cache must never outlive its map: when a new epoch moves a PG's primary, the next
op goes to the new primary. An embedded cluster in a directory of its own (not the
process-wide memory cluster other tests share), so marking an OSD out disturbs no one.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.waiting import wait_until

import rados
from rados._core import core_client

#: Seconds for the new map to reach the client and the PG to re-peer.
MAP_TIMEOUT = 30.0


def test_ops_follow_the_primary_of_each_new_map(tmp_path: Path) -> None:
    pool = f"t-{uuid.uuid4().hex[:8]}"
    with rados.Rados(conf={"mon_host": f"embedded:{tmp_path / 'c'}"}) as r:
        r.create_pool(pool)
        with r.open_ioctx(pool) as io:
            io.write_full("obj", b"one")
            client = core_client(r)
            pool_id = r.pool_lookup(pool)
            _, ps = client.osdmap.object_locator_to_pg(pool_id, "obj")
            first = client.osdmap.pg_to_up_acting_osds(pool_id, ps)[3]
            assert client.objecter._primaries[(pool_id, ps)] == first

            cmd = {"prefix": "osd out", "ids": [str(first)]}
            ret, _out, err = r.mon_command(json.dumps(cmd), b"")
            assert ret == 0, err

            def moved() -> bool:
                return client.osdmap.pg_to_up_acting_osds(pool_id, ps)[3] not in (first, -1)

            wait_until(moved, "a new primary for the object's PG", MAP_TIMEOUT)
            io.write_full("obj", b"two")
            assert io.read("obj") == b"two"
            second = client.osdmap.pg_to_up_acting_osds(pool_id, ps)[3]
            assert client.objecter._primaries_map is client.osdmap
            assert client.objecter._primaries[(pool_id, ps)] == second != first
