"""Debian's `balancer` module (ceph-mgr-modules-core, unmodified) in upmap mode on a
real cluster: it plans with `OSDMap.calc_pg_upmaps`, the monitor applies its
`osd pg-upmap-items`, the OSDs' CRUSH mapping honours them, the PGs move and come
back active+clean, and `ceph balancer eval` scores the cluster better than before.

The imbalance is made by hand with upstream's own commands (every PG given a
replica on osd.0 through `pg-upmap-items`), so it is the same on every run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tests.waiting import wait_until

DEBIAN_MGR = "/usr/share/ceph/mgr"
#: Bound on the mgr loading Debian's modules, on peering, backfill and one balancer round.
WAIT = 120.0
POOL = "balanced"
PG_NUM = 16
OBJECTS = 24


def _ceph(conf: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", conf, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _ok(conf: str, *args: str) -> subprocess.CompletedProcess[str]:
    p = _ceph(conf, *args)
    assert p.returncode == 0, f"{args}: {p.stderr}"
    return p


def _json(conf: str, *args: str) -> Any:
    return json.loads(_ok(conf, *args, "-f", "json").stdout)


def _wait(pred: Callable[[], Any], what: str) -> Any:
    return wait_until(pred, what, WAIT)


def _all_clean(conf: str) -> bool:
    states = _json(conf, "pg", "stat")["pg_summary"]["num_pg_by_state"]
    return [s["name"] for s in states] == ["active+clean"]


def _score(conf: str) -> float:
    out = _ok(conf, "balancer", "eval").stdout
    m = re.match(r"current cluster score ([0-9.e+-]+)", out)
    assert m, out
    return float(m.group(1))


def _pool_pgs(conf: str, pool_id: int) -> dict[str, list[int]]:
    pgs = _json(conf, "pg", "dump", "pgs_brief")["pg_stats"]
    return {p["pgid"]: p["up"] for p in pgs if p["pgid"].startswith(f"{pool_id}.")}


def test_balancer_upmap_evens_out_pgs(cluster_factory: Any) -> None:
    cluster = cluster_factory(4, mgr_module_path=DEBIAN_MGR)
    conf = cluster.conf_path
    _wait(lambda: _ceph(conf, "balancer", "status").returncode == 0, "the balancer module")
    _ok(conf, "balancer", "off")
    for opt, val in (("sleep_interval", "1"), ("upmap_max_deviation", "1")):
        _ok(conf, "config", "set", "mgr", f"mgr/balancer/{opt}", val)
    # upstream requires luminous clients before any pg-upmap
    assert _ok(conf, "osd", "set-require-min-compat-client", "luminous").stderr.strip() == (
        "set require_min_compat_client to luminous"
    )
    _ok(conf, "osd", "pool", "create", POOL, str(PG_NUM))
    _ok(conf, "osd", "pool", "set", POOL, "size", "2")  # two of four OSDs per PG: room to skew
    pool_id = next(p["pool"] for p in _json(conf, "osd", "dump")["pools"] if p["pool_name"] == POOL)
    _wait(lambda: len(_pool_pgs(conf, pool_id)) == PG_NUM and _all_clean(conf), "a clean pool")

    import rados  # noqa: PLC0415 - the client only once the cluster is up

    r = rados.Rados(conffile=conf)
    r.connect()
    try:
        io = r.open_ioctx(POOL)
        for i in range(OBJECTS):
            io.write_full(f"obj{i}", f"payload {i}".encode() * 64)

        # skew: every PG gets a replica on osd.0
        for pgid, up in sorted(_pool_pgs(conf, pool_id).items()):
            if 0 not in up:
                _ok(conf, "osd", "pg-upmap-items", pgid, str(up[-1]), "0")
        _wait(lambda: all(0 in up for up in _pool_pgs(conf, pool_id).values()), "the skew")
        _wait(lambda: _all_clean(conf), "the skewed PGs active+clean")
        items = _json(conf, "osd", "dump")["pg_upmap_items"]
        assert items and all(i["mappings"][0]["to"] == 0 for i in items)
        skewed = _score(conf)

        _ok(conf, "balancer", "mode", "upmap")
        _ok(conf, "balancer", "on")

        def balanced() -> bool:
            on0 = sum(0 in up for up in _pool_pgs(conf, pool_id).values())
            return on0 < PG_NUM and _score(conf) < skewed

        _wait(balanced, "the balancer to move PGs off osd.0")
        _wait(lambda: _all_clean(conf), "the moved PGs active+clean")
        st = _json(conf, "balancer", "status")
        assert st["active"] is True and st["mode"] == "upmap"
        # what the balancer executed is in the map, and the data is all there
        assert _json(conf, "osd", "dump")["pg_upmap_items"] != items
        for i in range(OBJECTS):
            assert io.read(f"obj{i}", 4096) == f"payload {i}".encode() * 64
        io.close()
    finally:
        r.shutdown()
        _ceph(conf, "balancer", "off")
