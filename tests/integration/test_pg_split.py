"""PG split on real daemons (issue 9 item 3): `ceph osd pool set P pg_num N` under a writer
loses nothing and the pool serves throughout; an OSD that was down when the pool split
splits its own copies when it returns (its store remembers the pg_num it split for)."""

from __future__ import annotations

import json
import threading
import time

from tests.waiting import wait_until

import rados

POOL = "split"
#: Objects the writer cycles through: enough to land in every PG of the grown pool.
OBJECTS = 64
#: Bound on the cluster's healing after a change, and on any awaited condition.
HEAL_TIMEOUT = 90.0


def _mon(r: rados.Rados, **cmd: object) -> dict:
    ret, out, outs = r.mon_command(json.dumps({**cmd, "format": "json"}), b"")
    assert ret == 0, outs
    return json.loads(out) if out else {}


def _clean(r: rados.Rados, pg_num: int) -> bool:
    """Every OSD up, every PG active+clean, and the pool has `pg_num` of them."""
    st = _mon(r, prefix="status")
    pgs, om = st["pgmap"], st["osdmap"]
    states = {s["state_name"]: s["count"] for s in pgs["pgs_by_state"]}
    mine = _mon(r, prefix="pg ls-by-pool", poolstr=POOL)["pg_stats"]
    return (
        om["num_up_osds"] == om["num_osds"]
        and states.get("active+clean") == pgs["num_pgs"]
        and len(mine) == pg_num
    )


def _reported_since_change(r: rados.Rados, pool: str) -> bool:
    """Every PG of `pool` has reported from the map of the pool's last change. PG stats
    reach the mgr every `mgr_stats_period`, so until then the PG a split or merge changed
    can still show its last report from before it (as upstream's do)."""
    detail = next(p for p in _mon(r, prefix="osd pool ls", detail="detail") if p["pool_name"] == pool)  # fmt: skip
    since = int(detail["last_change"])
    pgs = _mon(r, prefix="pg ls-by-pool", poolstr=pool)["pg_stats"]
    return all(int(p["reported_epoch"]) >= since and p["state"] == "active+clean" for p in pgs)


class Appender(threading.Thread):
    """Appends a counter record to object (n % OBJECTS); keeps what was acknowledged."""

    def __init__(self, ioctx: rados.Ioctx) -> None:
        super().__init__(daemon=True)
        self.ioctx = ioctx
        self.model: dict[str, bytes] = {}
        self.acked = 0
        self.error: BaseException | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        try:
            while not self.halt.is_set():
                name, rec = f"obj-{n % OBJECTS}", b"%08d;" % n
                self.ioctx.append(name, rec)
                self.model[name] = self.model.get(name, b"") + rec
                self.acked += 1
                n += 1
        except BaseException as e:  # the test reports it
            self.error = e

    def progress(self, records: int) -> None:
        target = self.acked + records
        wait_until(lambda: self.acked >= target or self.error is not None, "appends", HEAL_TIMEOUT)
        assert self.error is None, self.error

    def finish(self) -> dict[str, bytes]:
        self.halt.set()
        self.join(HEAL_TIMEOUT)
        assert self.error is None, self.error
        return self.model


def test_split_under_a_writer_and_an_osd_that_missed_it(cluster_factory) -> None:
    cluster = cluster_factory(3)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        _mon(r, prefix="osd pool create", pool=POOL, pg_num=8)
        wait_until(lambda: _clean(r, 8), "pool active+clean", HEAL_TIMEOUT)
        with r.open_ioctx(POOL) as ioctx:
            writer = Appender(ioctx)
            writer.start()
            try:
                writer.progress(100)
                _mon(r, prefix="osd pool set", pool=POOL, var="pg_num", val="12")
                writer.progress(100)
                cluster.kill("osd.2")  # it misses the next split ...
                writer.progress(50)
                _mon(r, prefix="osd pool set", pool=POOL, var="pg_num", val="32")
                writer.progress(100)
                cluster.start(["osd.2"])  # ... and makes it when it returns
                writer.progress(100)
            finally:
                model = writer.finish()
            wait_until(lambda: _clean(r, 32), "32 PGs active+clean", HEAL_TIMEOUT)
            assert _mon(r, prefix="osd pool get", pool=POOL, var="pg_num")["pg_num"] == 32
            for name, data in model.items():
                assert ioctx.read(name, len(data) + 1) == data, name
            assert {o.key for o in ioctx.list_objects()} == set(model)
        # every object is counted in the PG it folds into
        wait_until(lambda: _reported_since_change(r, POOL), "stats after the split", HEAL_TIMEOUT)
        pgs = _mon(r, prefix="pg ls-by-pool", poolstr=POOL)["pg_stats"]
        assert sum(p["stat_sum"]["num_objects"] for p in pgs) == len(model)
        # a later kill of a split OSD still heals (the children persisted)
        cluster.kill("osd.0")
        cluster.start(["osd.0"])
        deadline = time.monotonic() + HEAL_TIMEOUT
        wait_until(lambda: _clean(r, 32), "clean after a restart", deadline - time.monotonic())
    finally:
        r.shutdown()


MERGE_POOL = "merge"
#: mgr ticks (its pg_num steps) and down->out faster than the defaults, so a shrink and
#: an OSD's absence settle within HEAL_TIMEOUT.
MERGE_OPTIONS = {"mgr_tick_period": "1", "mon_osd_down_out_interval": "5"}
#: Bound on one shrink to reach its target (one merge at a time, each after re-peering).
SHRINK_TIMEOUT = 240.0


def _pool_nums(r: rados.Rados, pool: str = MERGE_POOL) -> tuple[int, int, int, int]:
    d = next(p for p in _mon(r, prefix="osd pool ls", detail="detail") if p["pool_name"] == pool)  # fmt: skip
    return d["pg_num"], d["pg_placement_num"], d["pg_num_target"], d["pg_num_pending"]


def _merge_clean(r: rados.Rados, pg_num: int, pool: str = MERGE_POOL) -> bool:
    """Every OSD up and in, every PG active+clean, HEALTH_OK, and `pool` has `pg_num` PGs."""
    st = _mon(r, prefix="status")
    pgs, om = st["pgmap"], st["osdmap"]
    states = {s["state_name"]: s["count"] for s in pgs["pgs_by_state"]}
    mine = _mon(r, prefix="pg ls-by-pool", poolstr=pool)["pg_stats"]
    return (
        om["num_up_osds"] == om["num_osds"] == om["num_in_osds"]
        and states.get("active+clean") == pgs["num_pgs"]
        and len(mine) == pg_num
        and st["health"]["status"] == "HEALTH_OK"
    )


def test_merge_under_a_writer_and_an_osd_that_missed_it(cluster_factory) -> None:
    """`pg_num` 8 -> 4 (the mgr steps pgp_num, then pg_num one PG at a time) under a
    writer; an OSD is down (and out) across some of the merges and folds its own stale
    copies when it returns. Everything acknowledged reads back; HEALTH_OK, all clean."""
    cluster = cluster_factory(3, **MERGE_OPTIONS)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        _mon(r, prefix="osd pool create", pool=MERGE_POOL, pg_num=8)
        _mon(r, prefix="osd pool set", pool=MERGE_POOL, var="size", val="2")
        _mon(r, prefix="osd pool application enable", pool=MERGE_POOL, app="rados")
        wait_until(lambda: _merge_clean(r, 8), "pool active+clean", HEAL_TIMEOUT)
        with r.open_ioctx(MERGE_POOL) as ioctx:
            writer = Appender(ioctx)
            writer.start()
            try:
                writer.progress(100)
                _mon(r, prefix="osd pool set", pool=MERGE_POOL, var="pg_num", val="4")
                assert _pool_nums(r)[2] == 4  # the target; pg_num follows
                wait_until(lambda: _pool_nums(r)[0] <= 7, "the first merge", SHRINK_TIMEOUT)
                writer.progress(50)
                cluster.kill("osd.2")  # it misses merges (marked out, its PGs remap) ...
                wait_until(lambda: _pool_nums(r)[0] <= 5, "merges without osd.2", SHRINK_TIMEOUT)
                writer.progress(50)
                cluster.start(["osd.2"])  # ... and folds its stale copies when it returns
                wait_until(lambda: _pool_nums(r)[0] == 4, "pg_num 4", SHRINK_TIMEOUT)
                writer.progress(100)
            finally:
                model = writer.finish()
            wait_until(lambda: _merge_clean(r, 4), "4 PGs active+clean", HEAL_TIMEOUT)
            assert _pool_nums(r) == (4, 4, 4, 4)
            assert _mon(r, prefix="osd pool get", pool=MERGE_POOL, var="pg_num")["pg_num"] == 4
            for name, data in model.items():
                assert ioctx.read(name, len(data) + 1) == data, name
            assert {o.key for o in ioctx.list_objects()} == set(model)
        wait_until(lambda: _reported_since_change(r, MERGE_POOL), "stats after the merges", HEAL_TIMEOUT)  # fmt: skip
        pgs = _mon(r, prefix="pg ls-by-pool", poolstr=MERGE_POOL)["pg_stats"]
        assert sum(p["stat_sum"]["num_objects"] for p in pgs) == len(model)
    finally:
        r.shutdown()
