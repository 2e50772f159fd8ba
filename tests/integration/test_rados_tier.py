"""Cache-tier relationships through the public `rados` API + `mon_command`, mirroring
upstream test_rados.py `test_get_pool_base_tier` (map semantics only; no I/O redirect)."""

from __future__ import annotations

import errno
import json
import os
import time

import pytest

import rados

pytestmark = pytest.mark.tier


@pytest.fixture
def names(cluster):
    base = f"tier-{os.getpid()}-{time.monotonic_ns() % 1000000}"
    out = (base, base + "-cache")
    yield out
    # best effort, the tier link first
    cluster.mon_command(json.dumps({"prefix": "osd tier remove-overlay", "pool": out[0]}), b"")
    cluster.mon_command(
        json.dumps({"prefix": "osd tier remove", "pool": out[0], "tierpool": out[1]}), b""
    )
    for name in reversed(out):
        if cluster.pool_exists(name):
            cluster.delete_pool(name)


def mon(cluster, **cmd):
    return cluster.mon_command(json.dumps(cmd), b"", timeout=30)


def test_get_pool_base_tier(cluster, names):
    foo, cache = names
    cluster.create_pool(foo)
    try:
        cluster.create_pool(cache)
        try:
            pool_id = cluster.pool_lookup(foo)
            tier_pool_id = cluster.pool_lookup(cache)

            ret, buf, errs = mon(cluster, prefix="osd tier add", pool=foo, tierpool=cache,
                                 force_nonempty="")  # fmt: skip
            assert ret == 0, errs
            try:
                ret, buf, errs = mon(cluster, prefix="osd tier cache-mode", pool=cache,
                                     tierpool=cache, mode="readonly",
                                     yes_i_really_mean_it=True)  # fmt: skip
                assert ret == 0, errs

                assert cluster.wait_for_latest_osdmap() == 0

                assert cluster.get_pool_base_tier(pool_id) == pool_id
                assert cluster.get_pool_base_tier(tier_pool_id) == pool_id
            finally:
                ret, buf, errs = mon(cluster, prefix="osd tier remove", pool=foo, tierpool=cache)
                assert ret == 0, errs
            assert cluster.wait_for_latest_osdmap() == 0
            assert cluster.get_pool_base_tier(tier_pool_id) == tier_pool_id
        finally:
            cluster.delete_pool(cache)
    finally:
        cluster.delete_pool(foo)


def test_base_tier_errors_and_busy_pools(cluster, names):
    foo, cache = names
    with pytest.raises(rados.ObjectNotFound):
        cluster.get_pool_base_tier(987654)
    cluster.create_pool(foo)
    cluster.create_pool(cache)
    ret, _, errs = mon(cluster, prefix="osd tier add", pool=foo, tierpool=cache)
    assert ret == 0, errs
    ret, _, errs = mon(cluster, prefix="osd tier set-overlay", pool=foo, overlaypool=cache)
    assert ret == 0 and errs.endswith("(WARNING: overlay pool cache_mode is still NONE)")
    ret, _, errs = mon(cluster, prefix="osd tier rm", pool=foo, tierpool=cache)
    assert (ret, errs) == (
        -errno.EBUSY, f"tier pool '{cache}' is the overlay for '{foo}'; please remove-overlay first"
    )  # fmt: skip
    # a tier and a pool with tiers cannot be deleted (librados pool op: EBUSY)
    with pytest.raises(rados.Error) as ei:
        cluster.delete_pool(cache)
    assert ei.value.errno == errno.EBUSY
    with pytest.raises(rados.Error):
        cluster.delete_pool(foo)
    cluster.wait_for_latest_osdmap()
    ret, buf, _ = mon(cluster, prefix="osd pool ls", detail="detail", format="json")
    by_name = {p["pool_name"]: p for p in json.loads(buf)}
    cid = cluster.pool_lookup(cache)
    assert by_name[foo]["tiers"] == [cid]
    assert (by_name[foo]["read_tier"], by_name[foo]["write_tier"]) == (cid, cid)
    assert by_name[cache]["tier_of"] == cluster.pool_lookup(foo)
    assert mon(cluster, prefix="osd tier rm-overlay", pool=foo)[0] == 0
    assert mon(cluster, prefix="osd tier rm", pool=foo, tierpool=cache)[0] == 0
