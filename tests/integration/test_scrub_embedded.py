"""Scrub end to end on an embedded cluster (mon, mgr, OSDs in this process): bit rot in one
replica's store is found by `pg deep-scrub`, shown by `health detail`, `pg ls
inconsistent`, `rados list-inconsistent-pg|obj` and `Rados.get_inconsistent_pgs`, fixed
by `pg repair`; clients read the good bytes throughout."""

from __future__ import annotations

import io
import json
import struct
import uuid
from typing import Any

import pytest
from tests.waiting import wait_until

import rados
from pyceph.cli import rados_main
from pyceph.store.kvcore import SP_DATA, crc32c

#: Bound on every wait for the cluster to reflect a change (reports every second).
WAIT = 20.0


def wait_for(pred: Any, what: str, timeout: float = WAIT) -> Any:
    return wait_until(pred, what, timeout)


def mon(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def mgr(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    return r.mgr_command(json.dumps(cmd), b"")


def scrub_cmd(r: rados.Rados, prefix: str, pgid: str) -> tuple[int, bytes, str]:
    """`ceph pg deep-scrub|repair PGID` through the mgr."""
    return mgr(r, prefix=prefix, pgid=pgid)


def pg_row(r: rados.Rados, pgid: str) -> dict[str, Any]:
    ret, out, _ = mgr(r, prefix="pg dump", dumpcontents=["pgs"], format="json")
    assert ret == 0
    doc = json.loads(out)
    rows = doc["pg_stats"] if "pg_stats" in doc else doc["pg_map"]["pg_stats"]
    return next(p for p in rows if p["pgid"] == pgid)


def health(r: rados.Rados) -> dict[str, Any]:
    ret, out, _ = mon(r, prefix="health", detail="detail", format="json")
    assert ret == 0
    return json.loads(out)


def rot(store: Any, payload: bytes) -> None:
    """Flip a byte of the stored extent holding `payload`, keeping its old crc32c."""
    sp = store.kv.spaces[SP_DATA]
    keys = [k for k, v in sp.d.items() if bytes(v[4:]) == payload]
    assert len(keys) == 1
    v = bytearray(sp.d[keys[0]])
    v[4] ^= 0x5A
    sp.d[keys[0]] = bytes(v)


def osd_store(r: rados.Rados, osd: int) -> Any:
    stores = r._embedded._disk._stores
    (path,) = [p for p in stores if f"/osd.{osd}/" in p]
    return stores[path]


def rados_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = rados_main.main(["-c", "/dev/null", "-m", "embedded:", *args], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def cluster():
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        yield r


def test_bit_rot_found_reported_and_repaired(cluster: rados.Rados) -> None:
    r = cluster
    pool = f"scrub-{uuid.uuid4().hex[:6]}"
    r.create_pool(pool)
    assert mon(r, prefix="osd pool application enable", pool=pool, app="rados")[0] == 0
    before = set(health(r)["checks"])
    ioctx = r.open_ioctx(pool)
    data = b"bit-rot-target-" + uuid.uuid4().hex.encode() * 8
    ioctx.write_full("victim", data)
    ret, out, _ = mon(r, prefix="osd map", pool=pool, object="victim", format="json")
    m = json.loads(out)
    pgid, acting, primary = m["pgid"], m["acting"], m["acting_primary"]
    replica = next(o for o in acting if o != primary)
    rot(osd_store(r, replica), data)

    ret, _, outs = scrub_cmd(r, "pg deep-scrub", pgid)
    assert ret == 0 and outs == f"instructing pg {pgid} on osd.{primary} to deep-scrub"
    wait_for(lambda: "inconsistent" in pg_row(r, pgid)["state"], "pg inconsistent")
    assert ioctx.read("victim") == data  # the client reads the good copy

    h = wait_for(lambda: (lambda h: "PG_DAMAGED" in h["checks"] and h)(health(r)), "health")
    assert h["status"] == "HEALTH_ERR"
    assert h["checks"]["OSD_SCRUB_ERRORS"]["summary"]["message"] == "1 scrub errors"
    dmg = h["checks"]["PG_DAMAGED"]
    assert dmg["summary"]["message"] == "Possible data damage: 1 pg inconsistent"
    row = pg_row(r, pgid)
    detail = f"pg {pgid} is {row['state']}, acting [{','.join(map(str, acting))}]"
    assert {"message": detail} in dmg["detail"]
    ret, text, _ = mon(r, prefix="health", detail="detail")
    assert "[ERR] PG_DAMAGED: Possible data damage: 1 pg inconsistent" in text.decode()

    ret, out, _ = mgr(r, prefix="pg ls", states=["inconsistent"], format="json")
    assert pgid in [p["pgid"] for p in json.loads(out)["pg_stats"]]
    assert r.get_inconsistent_pgs(r.pool_lookup(pool)) == [pgid]
    code, out, _ = rados_cli("list-inconsistent-pg", pool)
    assert (code, out) == (0, json.dumps([pgid], separators=(",", ":")) + "\n")
    code, out, err = rados_cli("list-inconsistent-obj", pgid, "--format=json-pretty")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["epoch", "inconsistents"]
    (inc,) = doc["inconsistents"]
    assert inc["object"] == {
        "name": "victim", "nspace": "", "locator": "", "snap": "head", "version": 1
    }  # fmt: skip
    assert inc["errors"] == [] and inc["union_shard_errors"] == ["read_error"]
    assert inc["selected_object_info"]["size"] == len(data)
    shards = {s["osd"]: s for s in inc["shards"]}
    assert sorted(shards) == sorted(acting)
    assert shards[replica]["errors"] == ["read_error"]
    assert shards[primary]["primary"] is True and shards[primary]["errors"] == []
    assert shards[primary]["data_digest"].startswith("0x")

    ret, _, outs = scrub_cmd(r, "pg repair", pgid)
    assert ret == 0 and outs == f"instructing pg {pgid} on osd.{primary} to repair"
    wait_for(lambda: pg_row(r, pgid)["state"] == "active+clean", "pg clean after repair")
    wait_for(lambda: set(health(r)["checks"]) <= before, "scrub health checks cleared")
    assert r.get_inconsistent_pgs(r.pool_lookup(pool)) == []
    ioctx.close()
    r.delete_pool(pool)


def _ec_pool(r: rados.Rados) -> str:
    tag = uuid.uuid4().hex[:6]
    ret, _, outs = mon(
        r,
        prefix="osd erasure-code-profile set",
        name=f"scrub-ecp-{tag}",
        profile=["k=2", "m=1", "crush-failure-domain=osd"],
    )
    assert ret == 0, outs
    pool = f"scrub-ec-{tag}"
    ret, _, outs = mon(
        r,
        prefix="osd pool create",
        pool=pool,
        pg_num=1,
        pool_type="erasure",
        erasure_code_profile=f"scrub-ecp-{tag}",
    )
    assert ret == 0, outs
    assert mon(r, prefix="osd pool application enable", pool=pool, app="rados")[0] == 0
    return pool


def _shard_extent(store: Any, fill: int) -> bytes:
    """The key of the one stored extent whose bytes are all `fill`."""
    sp = store.kv.spaces[SP_DATA]
    (key,) = [k for k, v in sp.d.items() if len(v) > 4 and bytes(v[4:]) == bytes([fill]) * (len(v) - 4)]  # fmt: skip
    return key


def test_ec_shard_rot_and_silent_shard_damage_found_and_repaired(cluster: rados.Rados) -> None:
    r = cluster
    pool = _ec_pool(r)
    ioctx = r.open_ioctx(pool)
    ret, out, _ = mon(r, prefix="osd dump", format="json")
    width = next(p for p in json.loads(out)["pools"] if p["pool_name"] == pool)["stripe_width"]
    chunk = width // 2
    data = b"A" * chunk + b"B" * chunk  # one stripe: shard 0 all A, shard 1 all B
    ioctx.write_full("ecobj", data)
    ret, out, _ = mon(r, prefix="osd map", pool=pool, object="ecobj", format="json")
    m = json.loads(out)
    pgid, acting = m["pgid"], m["acting"]
    holder = acting[1]  # shard 1 (the Bs), not the primary
    store = osd_store(r, holder)
    key = _shard_extent(store, ord("B"))
    good = store.kv.spaces[SP_DATA].d[key]
    assert good[4:] == b"B" * chunk

    # 1) bit rot: the stored crc32c no longer matches
    v = bytearray(good)
    v[5] ^= 0x01
    store.kv.spaces[SP_DATA].d[key] = bytes(v)
    assert ioctx.read("ecobj", len(data)) == data
    assert scrub_cmd(r, "pg deep-scrub", pgid)[0] == 0
    wait_for(lambda: "inconsistent" in pg_row(r, pgid)["state"], "ec pg inconsistent")
    code, out, _ = rados_cli("list-inconsistent-obj", pgid, "--format=json")
    (inc,) = json.loads(out)["inconsistents"]
    shards = {s["osd"]: s for s in inc["shards"]}
    assert shards[holder]["shard"] == 1 and shards[holder]["errors"] == ["read_error"]
    assert scrub_cmd(r, "pg repair", pgid)[0] == 0
    wait_for(lambda: pg_row(r, pgid)["state"] == "active+clean", "ec pg clean")
    key = _shard_extent(store, ord("B"))  # rewritten whole (a new extent key)

    # 2) silent damage: other bytes under a matching crc32c. Only decoding tells, and with
    # one parity shard it cannot tell which shard lies: reported, nothing to repair from
    bad = b"C" * chunk
    store.kv.spaces[SP_DATA].d[key] = struct.pack("<I", crc32c(bad)) + bad
    assert scrub_cmd(r, "pg deep-scrub", pgid)[0] == 0
    wait_for(lambda: "inconsistent" in pg_row(r, pgid)["state"], "ec pg inconsistent again")
    code, out, _ = rados_cli("list-inconsistent-obj", pgid)
    (inc,) = json.loads(out)["inconsistents"]
    assert inc["union_shard_errors"] == ["ec_hash_error"]
    assert "selected_object_info" not in inc  # no shard can be trusted
    store.kv.spaces[SP_DATA].d[key] = good
    assert scrub_cmd(r, "pg deep-scrub", pgid)[0] == 0
    wait_for(lambda: pg_row(r, pgid)["state"] == "active+clean", "ec pg clean again")
    assert ioctx.read("ecobj", len(data)) == data

    # 3) the primary's own shard rots: a read rebuilds it from the others first
    pstore = osd_store(r, m["acting_primary"])
    pkey = _shard_extent(pstore, ord("A"))
    v = bytearray(pstore.kv.spaces[SP_DATA].d[pkey])
    v[4] ^= 0x01
    pstore.kv.spaces[SP_DATA].d[pkey] = bytes(v)
    assert ioctx.read("ecobj", len(data)) == data
    assert _shard_extent(pstore, ord("A"))  # rebuilt whole
    ioctx.close()
    r.delete_pool(pool)


def _handler(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    """A scrub command through the mgr, as `ceph` sends it."""
    return mgr(r, **cmd)


def test_scrub_commands_answer_as_upstream(cluster: rados.Rados) -> None:
    r = cluster
    assert _handler(r, prefix="pg scrub", pgid="1.zz") == (-22, b"", "invalid pgid '1.zz'")
    assert _handler(r, prefix="pg scrub", pgid="999.0") == (-2, b"", "pg 999.0 does not exist")
    assert _handler(r, prefix="osd scrub", who="x") == (-22, b"", "invalid osd 'x'")
    assert _handler(r, prefix="osd deep-scrub", who="osd.1") == (
        0, b"", "instructed osd(s) 1 to deep-scrub"
    )  # fmt: skip
    assert _handler(r, prefix="osd repair", who="all") == (
        0, b"", "instructed osd(s) 0,1,2 to repair"
    )  # fmt: skip
    assert _handler(r, prefix="osd scrub", who="7") == (
        -11, b"", "failed to instruct osd(s) 7 to scrub (not connected)"
    )  # fmt: skip
