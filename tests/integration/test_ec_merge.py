"""Erasure-coded PG merges on real daemons: `pg_num` 8 -> 4 on an EC pool (k=2, m=1,
4 OSDs) under a writer. The mgr steps pgp_num down (shards move through pg_temps that
keep positions), then pg_num one PG at a time once source and target are clean on the
same acting set; every OSD folds each shard into the same shard of the target.
Everything acknowledged reads back and lists; HEALTH_OK with every PG active+clean."""

from __future__ import annotations

from tests.integration.test_ec_backfill import create_ec_pool
from tests.integration.test_pg_split import (
    HEAL_TIMEOUT,
    MERGE_OPTIONS,
    SHRINK_TIMEOUT,
    Appender,
    _merge_clean,
    _mon,
    _pool_nums,
    _reported_since_change,
)
from tests.waiting import wait_until

import rados

POOL = "ecmerge"
PROFILE = "ecmerge-profile"


def test_ec_merge_under_a_writer(cluster_factory) -> None:
    cluster = cluster_factory(4, **MERGE_OPTIONS)
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    try:
        create_ec_pool(r, POOL, PROFILE)
        _mon(r, prefix="osd pool application enable", pool=POOL, app="rados")
        wait_until(lambda: _merge_clean(r, 8, POOL), "pool active+clean", HEAL_TIMEOUT)
        with r.open_ioctx(POOL) as ioctx:
            writer = Appender(ioctx)
            writer.start()
            try:
                writer.progress(100)
                _mon(r, prefix="osd pool set", pool=POOL, var="pg_num", val="4")
                assert _pool_nums(r, POOL)[2] == 4  # the target; pg_num follows
                wait_until(lambda: _pool_nums(r, POOL)[0] <= 6, "the first merges", SHRINK_TIMEOUT)
                writer.progress(50)
                wait_until(lambda: _pool_nums(r, POOL)[0] == 4, "pg_num 4", SHRINK_TIMEOUT)
                writer.progress(100)
            finally:
                model = writer.finish()
            wait_until(lambda: _merge_clean(r, 4, POOL), "4 PGs active+clean", HEAL_TIMEOUT)
            assert _pool_nums(r, POOL) == (4, 4, 4, 4)
            for name, data in model.items():
                assert ioctx.read(name, len(data) + 1) == data, name
            assert {o.key for o in ioctx.list_objects()} == set(model)
        wait_until(lambda: _reported_since_change(r, POOL), "stats after the merges", HEAL_TIMEOUT)  # fmt: skip
        pgs = _mon(r, prefix="pg ls-by-pool", poolstr=POOL)["pg_stats"]
        assert sum(p["stat_sum"]["num_objects"] for p in pgs) == len(model)
    finally:
        r.shutdown()
