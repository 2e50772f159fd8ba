"""Adding and removing OSDs on a running cluster heals to active+clean (issue 9 item 2).

A loaded 3-OSD cluster with a size-2 pool gets a fourth OSD from `pyceph osd add`: CRUSH
maps PGs onto it, backfill fills it, every PG ends active+clean with the data readable. Then an original OSD is stopped, marked out and
purged (`ceph osd purge N --yes-i-really-mean-it` through the mgr): it leaves `osd tree`,
`osd dump` and `auth ls`, every PG is active+clean again and the data is intact. On the
way, the mgr's `osd ok-to-stop`/`safe-to-destroy` and the monitor's refusals are checked
against upstream's answers."""

from __future__ import annotations

import errno
import json
import shutil

from tests.integration.test_backfill import _all_clean
from tests.integration.test_pg_split import _mon
from tests.waiting import wait_until

import rados
from pyceph.cli import pyceph_main

POOL = "life"
OBJECTS = 80
#: Bound on the cluster's healing after a change, and on any awaited condition.
HEAL_TIMEOUT = 120.0
#: The original OSD retired at the end.
VICTIM = 1
OPTIONS = {
    "osd_min_pg_log_entries": "4",  # joining OSDs need a backfill, as in a loaded cluster
    "osd_max_pg_log_entries": "8",
    "osd_pg_log_trim_min": "1",
}


def _data(i: int) -> bytes:
    return b"%05d-" % i * 300


def _mgr(r: rados.Rados, **cmd: object) -> tuple[int, bytes, str]:
    return r.mgr_command(json.dumps(cmd), b"")


def _read_all(io: rados.Ioctx) -> None:
    for i in range(OBJECTS):
        assert io.read(f"obj-{i}", 1 << 20) == _data(i), i


def _pgs(r: rados.Rados) -> list[dict]:
    d = _mon(r, prefix="pg dump", dumpcontents=["pgs"])
    return d.get("pg_map", d).get("pg_stats", []) if isinstance(d, dict) else d


def test_add_then_purge_an_osd_heals(cluster_factory, capsys) -> None:
    cluster = cluster_factory(3, **OPTIONS)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        _mon(r, prefix="osd pool create", pool=POOL, pg_num=16)
        _mon(r, prefix="osd pool set", pool=POOL, var="size", val="2")
        wait_until(lambda: _all_clean(r), "pool active+clean", HEAL_TIMEOUT)
        io = r.open_ioctx(POOL)
        for i in range(OBJECTS):
            io.write_full(f"obj-{i}", _data(i))
        for i in range(OBJECTS // 2):  # trim the PG logs past the first writes
            io.write_full(f"obj-{i}", _data(i))

        # ---- add osd.3: PGs backfill onto it and all end active+clean
        assert pyceph_main.main(["osd", "add", cluster.path, "--timeout", str(HEAL_TIMEOUT)]) == 0
        assert capsys.readouterr().out.splitlines() == ["started osd.3", "cluster ready"]
        tree = _mon(r, prefix="osd tree")
        assert [n["id"] for n in tree["nodes"] if n["id"] >= 0] == [0, 1, 2, 3]

        def on_new_osd() -> bool:
            pgs = _pgs(r)
            return _all_clean(r) and any(3 in p["acting"] for p in pgs)

        wait_until(on_new_osd, "PGs active+clean with some on osd.3", HEAL_TIMEOUT)
        held = [p for p in _pgs(r) if 3 in p["acting"]]
        assert sum(int(p["stat_sum"]["num_objects"]) for p in held) > 0
        _read_all(io)

        # ---- the mgr's verdicts on a live OSD, the monitor's refusals
        ret, out, outs = _mgr(r, prefix="osd ok-to-stop", ids=[str(VICTIM)])
        assert ret == 0 and json.loads(out)["ok_to_stop"] is True, (out, outs)
        ret, out, outs = _mgr(r, prefix="osd safe-to-destroy", ids=[str(VICTIM)])
        assert ret == -errno.EBUSY and "pgs currently mapped to them" in outs
        ret, _, outs = _mgr(r, prefix="osd purge", id=VICTIM, force=True)
        assert (ret, outs) == (-errno.EBUSY, f"osd.{VICTIM} is not `down`.")
        ret, _, outs = r.mon_command(json.dumps({"prefix": "osd rm", "ids": [str(VICTIM)]}), b"")
        assert (ret, outs) == (-errno.EBUSY, f"osd.{VICTIM} is still up; must be down before removal. ")  # fmt: skip

        # ---- stop it, mark it out: its PGs heal elsewhere; then purge it
        cluster.stop([f"osd.{VICTIM}"])
        wait_until(lambda: not _mon(r, prefix="osd dump")["osds"][VICTIM]["up"],
                   f"osd.{VICTIM} down", HEAL_TIMEOUT)  # fmt: skip
        _mon(r, prefix="osd out", ids=[str(VICTIM)])

        def drained() -> bool:
            return _all_clean(r) and all(VICTIM not in p["acting"] for p in _pgs(r))

        wait_until(drained, f"PGs active+clean without osd.{VICTIM}", HEAL_TIMEOUT)
        wait_until(
            lambda: _mgr(r, prefix="osd safe-to-destroy", ids=[str(VICTIM)])[0] == 0,
            f"osd.{VICTIM} safe to destroy",
            HEAL_TIMEOUT,
        )
        ret, _, outs = _mgr(r, prefix="osd purge", id=VICTIM, yes_i_really_mean_it=True)
        assert (ret, outs) == (0, f"purged osd.{VICTIM}")
        shutil.rmtree(f"{cluster.path}/osd.{VICTIM}")  # the retired OSD's directory
        tree = _mon(r, prefix="osd tree")
        assert [n["id"] for n in tree["nodes"] if n["id"] >= 0] == [0, 2, 3]
        assert [o["osd"] for o in _mon(r, prefix="osd dump")["osds"]] == [0, 2, 3]
        auth = [e["entity"] for e in _mon(r, prefix="auth ls")["auth_dump"]]
        assert f"osd.{VICTIM}" not in auth and "osd.3" in auth
        wait_until(lambda: _all_clean(r), "all PGs active+clean after the purge", HEAL_TIMEOUT)
        _read_all(io)
        io.close()
    finally:
        r.shutdown()
