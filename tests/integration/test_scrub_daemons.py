"""Scrub on real daemon processes: bit rot written straight into a stopped replica's LMDB
store is never served to the client, is found by a deep scrub the PG's primary is told
to run, and `repair` rewrites it; health returns to OK."""

from __future__ import annotations

import json
import os
from typing import Any

import lmdb
from tests.waiting import wait_until

import rados
from pyceph.cli import rados_main
from pyceph.cli.localcluster import LocalCluster
from pyceph.store.kvcore import SP_DATA, SPACE_NAMES

#: Bound on each wait for the cluster to reflect a change.
WAIT = 60.0


def wait_for(pred: Any, what: str, timeout: float = WAIT) -> Any:
    return wait_until(pred, what, timeout)


def rot_lmdb(store_dir: str, payload: bytes) -> None:
    """Flip one byte of the extent holding `payload`, leaving its crc32c as it was."""
    env = lmdb.open(store_dir, subdir=True, max_dbs=len(SPACE_NAMES) + 1, lock=True)
    try:
        db = env.open_db(SPACE_NAMES[SP_DATA])
        with env.begin(write=True, db=db) as txn:
            hits = [bytes(k) for k, v in txn.cursor() if bytes(v[4:]) == payload]
            assert len(hits) == 1, hits
            v = bytearray(txn.get(hits[0]))
            v[4] ^= 0x80
            txn.put(hits[0], bytes(v))
    finally:
        env.close()


def mon(r: rados.Rados, **cmd: Any) -> Any:
    ret, out, outs = r.mon_command(json.dumps({**cmd, "format": "json"}), b"")
    assert ret == 0, outs
    return json.loads(out) if out else None


def pg_state(r: rados.Rados, pgid: str) -> str:
    ret, out, _ = r.mgr_command(json.dumps({"prefix": "pg ls", "format": "json"}), b"")
    return next(p["state"] for p in json.loads(out)["pg_stats"] if p["pgid"] == pgid)


def tell_pg(r: rados.Rados, pgid: str, prefix: str) -> None:
    """`ceph tell PGID deep_scrub|repair`: straight to the PG's primary OSD."""
    ret, _, outs = r.pg_command(pgid, json.dumps({"prefix": prefix, "pgid": pgid}), b"")
    assert ret == 0, outs


def test_bit_rot_in_a_stopped_osds_store(own_cluster: LocalCluster) -> None:
    r = rados.Rados(conffile=own_cluster.conf_path)
    r.connect(timeout=30)
    try:
        r.create_pool("scrubd")
        mon(r, prefix="osd pool application enable", pool="scrubd", app="rados")
        io = r.open_ioctx("scrubd")
        data = b"durable-bytes-" * 64
        io.write_full("obj", data)
        m = mon(r, prefix="osd map", pool="scrubd", object="obj")
        pgid, acting, primary = m["pgid"], m["acting"], m["acting_primary"]
        replica = next(o for o in acting if o != primary)
        own_cluster.stop([f"osd.{replica}"])
        rot_lmdb(os.path.join(own_cluster.path, f"osd.{replica}", "store"), data)
        own_cluster.start([f"osd.{replica}"])
        wait_for(lambda: pg_state(r, pgid) == "active+clean", "pg clean after restart")

        tell_pg(r, pgid, "deep_scrub")
        wait_for(lambda: "inconsistent" in pg_state(r, pgid), "pg inconsistent")
        assert io.read("obj", len(data)) == data
        h = wait_for(
            lambda: (lambda h: "PG_DAMAGED" in h["checks"] and h)(
                mon(r, prefix="health", detail="detail")
            ),
            "PG_DAMAGED",
        )
        assert h["checks"]["OSD_SCRUB_ERRORS"]["summary"]["message"] == "1 scrub errors"
        assert r.get_inconsistent_pgs(r.pool_lookup("scrubd")) == [pgid]
        out = _rados(own_cluster, "list-inconsistent-obj", pgid)
        (inc,) = json.loads(out)["inconsistents"]
        assert {s["osd"]: s["errors"] for s in inc["shards"]}[replica] == ["read_error"]

        tell_pg(r, pgid, "repair")
        wait_for(lambda: pg_state(r, pgid) == "active+clean", "pg clean after repair")
        wait_for(lambda: mon(r, prefix="health")["status"] == "HEALTH_OK", "HEALTH_OK")
        io.close()
    finally:
        r.shutdown()


def _rados(cluster: LocalCluster, *args: str) -> str:
    import io as _io

    out, err = _io.StringIO(), _io.StringIO()
    code = rados_main.main(["-c", cluster.conf_path, *args], out, err)
    assert code == 0, err.getvalue()
    return out.getvalue()
