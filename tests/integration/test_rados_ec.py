"""Erasure-coded pools through the public rados API: profile, pool, alignment, the I/O
upstream allows (and refuses with EOPNOTSUPP), shard placement, degraded reads and
recovery of a shard."""

from __future__ import annotations

import json
import time
import uuid

import pytest

import rados
from pyceph.cli.localcluster import LocalCluster

HEAL_TIMEOUT = 90.0


def _cmd(r: rados.Rados, **cmd) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def _make_ec_pool(r: rados.Rados, tag: str) -> str:
    profile, pool = f"ecp-{tag}", f"ecpool-{tag}"
    ret, _, outs = _cmd(
        r,
        prefix="osd erasure-code-profile set",
        name=profile,
        profile=["k=2", "m=1", "crush-failure-domain=osd"],
    )
    assert ret == 0, outs
    ret, _, outs = _cmd(
        r,
        prefix="osd pool create",
        pool=pool,
        pg_num=8,
        pool_type="erasure",
        erasure_code_profile=profile,
    )
    assert ret == 0, outs
    return pool


def _connect(conf: str) -> rados.Rados:
    r = rados.Rados(conffile=conf)
    r.connect(timeout=30)
    return r


@pytest.fixture
def ec(cluster_conf):
    r = _connect(cluster_conf)
    tag = uuid.uuid4().hex[:8]
    pool = _make_ec_pool(r, tag)
    io = r.open_ioctx(pool)
    try:
        yield r, io, pool
    finally:
        io.close()
        r.delete_pool(pool)
        _cmd(r, prefix="osd erasure-code-profile rm", name=f"ecp-{tag}")
        r.shutdown()


def test_profile_and_pool(ec):
    r, io, pool = ec
    ret, out, _ = _cmd(
        r, prefix="osd erasure-code-profile get", name=f"ecp-{pool[7:]}", format="json"
    )
    assert ret == 0
    prof = json.loads(out)
    assert (prof["k"], prof["m"], prof["plugin"]) == ("2", "1", "jerasure")
    assert prof["crush-failure-domain"] == "osd"
    ret, out, _ = _cmd(r, prefix="osd erasure-code-profile ls", format="json")
    assert f"ecp-{pool[7:]}" in json.loads(out)
    assert io.alignment() == 8192
    ret, out, _ = _cmd(r, prefix="osd pool get", pool=pool, var="min_size", format="json")
    assert json.loads(out)["min_size"] == 2
    ret, out, _ = _cmd(r, prefix="osd crush rule dump", name=pool, format="json")
    assert ret == 0, out
    steps = json.loads(out)["steps"]
    # CrushWrapper::add_simple_rule: failure domain "osd" (type 0) -> "choose indep 0 type osd"
    ops = [s["op"] for s in steps]
    assert ops == ["set_chooseleaf_tries", "set_choose_tries", "take", "choose_indep", "emit"]
    assert (steps[0]["num"], steps[1]["num"]) == (5, 100)


def test_write_full_and_read(ec):
    _r, io, _pool = ec
    for n in (0, 1, 100, 4096, 5000, 8191, 8192, 8193, 70000, 300001):
        data = bytes((i * 7 + n) % 251 for i in range(n))
        io.write_full(f"o{n}", data)
        assert io.read(f"o{n}", n + 10) == data
        assert io.stat(f"o{n}")[0] == n
        if n > 20:
            assert io.read(f"o{n}", 10, n - 15) == data[n - 15 : n - 5]


def test_append_only_rules(ec):
    _r, io, _pool = ec
    io.write_full("a", b"a" * 8192)
    io.append("a", b"b" * 8192)
    io.append("a", b"c" * 10)  # aligned start, unaligned length: fine
    assert io.read("a", 20000) == b"a" * 8192 + b"b" * 8192 + b"c" * 10
    with pytest.raises(rados.OSError) as e:
        io.append("a", b"d")  # the object size is no longer stripe-aligned
    assert e.value.errno == 95
    assert io.stat("a")[0] == 16394
    for bad in (lambda: io.write("a", b"Z" * 8192, 0), lambda: io.write("a", b"Z", 3)):
        with pytest.raises(rados.OSError) as e:
            bad()
        assert e.value.errno == 95
    with pytest.raises(rados.OSError) as e:
        io.trunc("a", 8192)
    assert e.value.errno == 95
    with pytest.raises(rados.OSError) as e, rados.WriteOpCtx() as op:
        io.set_omap(op, ("k",), (b"v",))
        io.operate_write_op(op, "a")
    assert e.value.errno == 95
    io.write("n", b"n" * 8192, 0)  # a write creating the object at 0
    io.writesame("w", b"ab", 8192)
    assert io.read("w", 9000) == b"ab" * 4096
    io.set_xattr("a", "k", b"v")
    assert io.get_xattr("a", "k") == b"v"
    assert dict(io.get_xattrs("a")) == {"k": b"v"}
    assert io.read("a", 4, 8190) == b"aabb"
    io.remove_object("a")
    assert sorted(o.key for o in io.list_objects()) == ["n", "w"]


def test_overwrites_when_allowed(ec):
    r, io, pool = ec
    ret, _, outs = _cmd(r, prefix="osd pool set", pool=pool, var="allow_ec_overwrites", val="true")
    assert ret == 0, outs
    deadline = time.monotonic() + 30
    base = bytearray(b"x" * 20000)
    io.write_full("o", bytes(base))
    while True:  # the OSDs learn of the flag with the next map
        try:
            io.write("o", b"Z" * 5, 3)
            break
        except rados.OSError as e:
            assert e.errno == 95 and time.monotonic() < deadline
            time.sleep(0.2)
    base[3:8] = b"Z" * 5
    io.write("o", b"Y" * 9000, 8000)
    base[8000:17000] = b"Y" * 9000
    io.append("o", b"tail")
    base += b"tail"
    assert io.read("o", 30000) == bytes(base)
    io.trunc("o", 10001)
    assert io.read("o", 30000) == bytes(base[:10001])
    io.trunc("o", 12000)
    assert io.read("o", 30000) == bytes(base[:10001]) + bytes(1999)
    with rados.WriteOpCtx() as op:
        op.zero(100, 50)
        io.operate_write_op(op, "o")
    assert io.read("o", 200) == bytes(base[:100]) + bytes(50) + bytes(base[150:200])


def test_shards_degraded_reads_and_recovery(own_cluster: LocalCluster):
    from pyceph.store.lmdbstore import LmdbStore

    r = _connect(own_cluster.conf_path)
    names = [f"obj-{i}" for i in range(10)]
    data = {n: (n.encode() * 2000)[: 3000 + 1000 * i] for i, n in enumerate(names)}
    try:
        pool = _make_ec_pool(r, "own")
        io = r.open_ioctx(pool)
        for n in names:
            io.write_full(n, data[n])
        own_cluster.kill("osd.2")
        for n in names:  # decode from the k shards left
            assert io.read(n, 100000) == data[n]
        later = {n: data[n][::-1] for n in names[:4]}
        for n, d in later.items():  # osd.2 misses these
            io.write_full(n, d)
        data.update(later)
        own_cluster.start(["osd.2"])
        _wait_clean(r)
        own_cluster.kill("osd.0")
        own_cluster.kill("osd.1")
        own_cluster.start(["osd.0"])
        # osd.0 and the recovered osd.2 alone must serve every object
        for n in names:
            assert io.read(n, 100000) == data[n]
        own_cluster.start(["osd.1"])
        _wait_clean(r)
        io.close()
    finally:
        r.shutdown()
    own_cluster.stop()
    pool_id = None
    for osd in range(3):
        store = LmdbStore(f"{own_cluster.path}/osd.{osd}/store", 1 << 30)
        store.mount()
        try:
            held: dict[str, list[str]] = {}
            for cid in store.list_collections():
                if "s" not in cid.split("_")[0]:
                    continue
                pool_id = pool_id or cid.split(".")[0]
                for key in store.iter_objects(cid):
                    if key.name in data and key.snap == 0xFFFFFFFFFFFFFFFE:
                        held.setdefault(key.name, []).append(cid)
        finally:
            store.umount()
        assert sorted(held) == sorted(names), f"osd.{osd} holds {sorted(held)}"
        for n, cids in held.items():
            assert len(cids) == 1, f"osd.{osd} holds {n} in {cids}"


def _wait_clean(r: rados.Rados, timeout: float = HEAL_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ret, out, _ = _cmd(r, prefix="status", format="json")
        if ret == 0:
            st = json.loads(out)
            last = st["pgmap"]
            om = st["osdmap"]
            states = {s["state_name"]: s["count"] for s in last["pgs_by_state"]}
            if (
                om["num_up_osds"] == om["num_osds"]
                and states.get("active+clean") == last["num_pgs"]
            ):
                return
        time.sleep(0.1)
    raise AssertionError(f"cluster not clean after {timeout}s: {last}")
