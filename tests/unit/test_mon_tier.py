"""`osd tier *`: map semantics, errnos and messages as a real 16.2.15 mon answers them."""

from __future__ import annotations

import errno
import json
from typing import Any

import pytest

from pyceph.mon.state import MonState

from .test_mon_commands import make_state, run

pytestmark = pytest.mark.tier


@pytest.fixture
def st() -> MonState:
    s = make_state({"mon_allow_pool_delete": True})
    for name in ("foo", "foo-cache", "bar"):
        assert run(s, {"prefix": "osd pool create", "pool": name, "pg_num": 8}).ret == 0
    return s


def pools(s: MonState) -> dict[str, dict[str, Any]]:
    r = run(s, {"prefix": "osd pool ls", "detail": "detail", "format": "json"})
    return {p["pool_name"]: p for p in json.loads(r.outbuf)}


def pid(s: MonState, name: str) -> int:
    return s.osdmap.lookup_pool(name)


def cmd(s: MonState, prefix: str, **kw: Any):
    return run(s, {"prefix": prefix, **kw})


def add(s: MonState, base: str = "foo", tier: str = "foo-cache", **kw: Any):
    return cmd(s, "osd tier add", pool=base, tierpool=tier, **kw)


def test_add_links_both_pools(st: MonState) -> None:
    e0 = st.osdmap.epoch
    r = add(st, force_nonempty="")  # upstream's test_rados sends an empty flag
    assert (r.ret, r.outs) == (0, "pool 'foo-cache' is now (or already was) a tier of 'foo'")
    assert st.osdmap.epoch == e0 + 1
    p = pools(st)
    assert p["foo"]["tiers"] == [pid(st, "foo-cache")] and p["foo"]["tier_of"] == -1
    assert p["foo-cache"]["tier_of"] == pid(st, "foo") and p["foo-cache"]["tiers"] == []
    assert p["foo"]["snap_epoch"] == st.osdmap.epoch
    assert p["foo-cache"]["snap_epoch"] == st.osdmap.epoch  # took the base's snap info
    assert p["foo"]["last_change"] == str(st.osdmap.epoch)
    # idempotent: same message, no new epoch
    r = add(st, force_nonempty="--force-nonempty")
    assert (r.ret, r.outs) == (0, "pool 'foo-cache' is now (or already was) a tier of 'foo'")
    assert st.osdmap.epoch == e0 + 1


@pytest.mark.parametrize(
    ("base", "tier", "err", "msg"),
    [
        ("nope", "foo-cache", errno.ENOENT, "unrecognized pool 'nope'"),
        ("foo", "nope", errno.ENOENT, "unrecognized pool 'nope'"),
        ("foo-cache", "bar", errno.EINVAL,
         "pool 'foo-cache' is already a tier of 'foo', multiple tiers are not yet supported."),
        ("bar", "foo-cache", errno.EINVAL, "tier pool 'foo-cache' is already a tier of 'foo'"),
        ("bar", "foo", errno.EINVAL,
         "pool 'foo' has following tier(s) already:'foo-cache', multiple tiers are not yet "
         "supported."),
    ],
)  # fmt: skip
def test_add_errors(st: MonState, base: str, tier: str, err: int, msg: str) -> None:
    assert add(st).ret == 0
    before = pools(st)
    r = add(st, base, tier)
    assert (r.ret, r.outs) == (-err, msg)
    assert pools(st) == before


def test_add_refuses_nonempty_snapshotted_and_ec(st: MonState) -> None:
    st.set_mgr_digest({"pool_stats": {str(pid(st, "foo-cache")): {"num_objects": 3}}})
    r = add(st)
    assert (r.ret, r.outs) == (
        -errno.ENOTEMPTY,
        "tier pool 'foo-cache' is not empty; --force-nonempty to force",
    )
    assert add(st, force_nonempty="--force-nonempty").ret == 0  # fmt: skip
    assert cmd(st, "osd pool mksnap", pool="bar", snap="s").ret == 0
    r = add(st, "foo", "bar", force_nonempty="--force-nonempty")
    assert (r.ret, r.outs) == (
        -errno.ENOTEMPTY,
        "tier pool 'bar' has snapshot state; it cannot be added as a tier without breaking "
        "the pool",
    )
    assert cmd(st, "osd erasure-code-profile set", name="p21",
               profile=["k=2", "m=1", "crush-failure-domain=osd"]).ret == 0  # fmt: skip
    assert cmd(st, "osd pool create", pool="ecp", pg_num=8, pool_type="erasure",
               erasure_code_profile="p21").ret == 0  # fmt: skip
    r = add(st, "foo", "ecp")
    assert (r.ret, r.outs) == (
        -errno.EOPNOTSUPP, "tier pool 'ecp' is an ec pool, which cannot be a tier")  # fmt: skip


def test_base_may_have_several_tiers(st: MonState) -> None:
    assert add(st).ret == 0
    assert add(st, "foo", "bar").ret == 0
    assert pools(st)["foo"]["tiers"] == sorted([pid(st, "foo-cache"), pid(st, "bar")])
    line = next(ln for ln in run(st, {"prefix": "osd pool ls", "detail": "detail"})
                .outbuf.decode().splitlines() if "'foo'" in ln)  # fmt: skip
    assert f" tiers {pid(st, 'foo-cache')},{pid(st, 'bar')} " in line


def test_cache_mode(st: MonState) -> None:
    r = cmd(st, "osd tier cache-mode", pool="foo-cache", mode="readonly")
    assert (r.ret, r.outs) == (-errno.EINVAL, "pool 'foo-cache' is not a tier")
    assert add(st).ret == 0
    r = cmd(st, "osd tier cache-mode", pool="foo", mode="readonly")
    assert (r.ret, r.outs) == (-errno.EINVAL, "pool 'foo' is not a tier")
    r = cmd(st, "osd tier cache-mode", pool="foo-cache", mode="readonly")
    assert (r.ret, r.outs) == (
        -errno.EPERM,
        "'readonly' is not a well-supported cache mode and may corrupt your data.  pass "
        "--yes-i-really-mean-it to force.",
    )
    # upstream's test also passes a stray "tierpool"; the mon ignores it
    r = cmd(st, "osd tier cache-mode", pool="foo-cache", tierpool="foo-cache", mode="readonly",
            yes_i_really_mean_it=True)  # fmt: skip
    assert (r.ret, r.outs) == (0, "set cache-mode for pool 'foo-cache' to readonly")
    p = pools(st)["foo-cache"]
    assert p["cache_mode"] == "readonly"
    assert "incomplete_clones" in p["flags_names"]
    e = st.osdmap.epoch
    r = cmd(st, "osd tier cache-mode", pool="foo-cache", mode="readonly",
            yes_i_really_mean_it=True)  # fmt: skip
    assert (r.ret, st.osdmap.epoch) == (0, e)  # already so: no new map
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="writeback").ret == 0
    for mode in ("none", "readonly"):
        r = cmd(st, "osd tier cache-mode", pool="foo-cache", mode=mode,
                yes_i_really_mean_it=True)  # fmt: skip
        assert (r.ret, r.outs) == (
            -errno.EINVAL,
            f"unable to set cache-mode '{mode}' on a 'writeback' pool; only 'proxy','readproxy' "
            "allowed.",
        )
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="proxy").ret == 0
    assert pools(st)["foo-cache"]["cache_mode"] == "proxy"


def test_cache_mode_dirty_objects_block_leaving_proxy(st: MonState) -> None:
    assert add(st).ret == 0
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="proxy").ret == 0
    st.set_mgr_digest({"pool_stats": {str(pid(st, "foo-cache")): {"num_objects_dirty": 1}}})
    r = cmd(st, "osd tier cache-mode", pool="foo-cache", mode="none")
    assert (r.ret, r.outs) == (
        -errno.EBUSY,
        "unable to set cache-mode 'none' on pool 'foo-cache': dirty objects found",
    )
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="writeback").ret == 0  # fmt: skip


def test_overlay_lifecycle(st: MonState) -> None:
    r = cmd(st, "osd tier set-overlay", pool="foo", overlaypool="foo-cache")
    assert (r.ret, r.outs) == (-errno.EINVAL, "tier pool 'foo-cache' is not a tier of 'foo'")
    r = cmd(st, "osd tier remove-overlay", pool="foo")
    assert (r.ret, r.outs) == (0, "there is now (or already was) no overlay for 'foo'")
    assert add(st).ret == 0
    assert add(st, "foo", "bar").ret == 0
    r = cmd(st, "osd tier set-overlay", pool="foo", overlaypool="foo-cache")
    assert (r.ret, r.outs) == (0, "overlay for 'foo' is now (or already was) 'foo-cache' "
                                  "(WARNING: overlay pool cache_mode is still NONE)")  # fmt: skip
    e = st.osdmap.epoch
    p = pools(st)
    cid = pid(st, "foo-cache")
    assert (p["foo"]["read_tier"], p["foo"]["write_tier"]) == (cid, cid)
    assert p["foo"]["last_force_op_resend"] == p["foo-cache"]["last_force_op_resend"] == str(e)
    r = cmd(st, "osd tier set-overlay", pool="foo", overlaypool="foo-cache")
    assert (r.ret, r.outs, st.osdmap.epoch) == (
        0, "overlay for 'foo' is now (or already was) 'foo-cache'", e)  # fmt: skip
    r = cmd(st, "osd tier set-overlay", pool="foo", overlaypool="bar")
    assert (r.ret, r.outs) == (
        -errno.EINVAL,
        "pool 'foo' has overlay 'foo-cache'; please remove-overlay first",
    )
    r = cmd(st, "osd tier rm", pool="foo", tierpool="foo-cache")
    assert (r.ret, r.outs) == (
        -errno.EBUSY,
        "tier pool 'foo-cache' is the overlay for 'foo'; please remove-overlay first",
    )
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="writeback").ret == 0
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="proxy").ret == 0
    r = cmd(st, "osd tier cache-mode", pool="foo-cache", mode="none")
    assert (r.ret, r.outs) == (0, "set cache-mode for pool 'foo-cache' to none (WARNING: pool is "
                                  "still configured as read or write tier)")  # fmt: skip
    r = cmd(st, "osd tier rm-overlay", pool="foo")
    assert (r.ret, r.outs) == (0, "there is now (or already was) no overlay for 'foo'")
    p = pools(st)["foo"]
    assert (p["read_tier"], p["write_tier"]) == (-1, -1)
    r = cmd(st, "osd tier remove", pool="foo", tierpool="foo-cache")
    assert (r.ret, r.outs) == (0, "pool 'foo-cache' is now (or already was) not a tier of 'foo'")


def test_remove(st: MonState) -> None:
    r = cmd(st, "osd tier remove", pool="foo", tierpool="bar")
    assert (r.ret, r.outs) == (0, "pool 'bar' is now (or already was) not a tier of 'foo'")
    r = cmd(st, "osd tier rm", pool="foo", tierpool="nope")
    assert (r.ret, r.outs) == (-errno.ENOENT, "unrecognized pool 'nope'")
    assert add(st).ret == 0
    assert cmd(st, "osd tier cache-mode", pool="foo-cache", mode="writeback").ret == 0
    e = st.osdmap.epoch
    r = cmd(st, "osd tier rm", pool="foo", tierpool="foo-cache")
    assert (r.ret, r.outs) == (0, "pool 'foo-cache' is now (or already was) not a tier of 'foo'")
    assert st.osdmap.epoch == e + 1
    p = pools(st)
    assert p["foo"]["tiers"] == [] and p["foo-cache"]["tier_of"] == -1
    c = p["foo-cache"]
    assert c["cache_mode"] == "none"
    # upstream's clear_tier_tunables zeroes the micro ratios too
    assert c["cache_target_dirty_ratio_micro"] == c["cache_target_full_ratio_micro"] == 0
    r = cmd(st, "osd tier rm", pool="foo", tierpool="foo-cache")
    assert (r.ret, st.osdmap.epoch) == (0, e + 1)


def test_pool_delete_and_snaps_respect_tiers(st: MonState) -> None:
    assert add(st).ret == 0
    d = {"yes_i_really_really_mean_it": True}
    r = cmd(st, "osd pool delete", pool="foo-cache", pool2="foo-cache", **d)
    assert (r.ret, r.outs) == (-errno.EBUSY, "pool 'foo-cache' is a tier of 'foo'")
    assert add(st, "foo", "bar").ret == 0
    r = cmd(st, "osd pool delete", pool="foo", pool2="foo", **d)
    assert (r.ret, r.outs) == (-errno.EBUSY, "pool 'foo' has tiers foo-cache bar")
    r = cmd(st, "osd pool mksnap", pool="foo-cache", snap="s1")
    assert (r.ret, r.outs) == (-errno.EINVAL, "pool foo-cache is a cache tier")
    assert cmd(st, "osd pool mksnap", pool="foo", snap="s1").ret == 0
    p = pools(st)
    # tiers follow the base's snap state in the same map
    for name in ("foo-cache", "bar"):
        assert p[name]["pool_snaps"] == p["foo"]["pool_snaps"]
        assert p[name]["snap_seq"] == p["foo"]["snap_seq"] == 1
        assert p[name]["snap_mode"] == "pool"
        assert p[name]["last_change"] == str(st.osdmap.epoch)
    for t in ("foo-cache", "bar"):
        assert cmd(st, "osd tier rm", pool="foo", tierpool=t).ret == 0
    assert cmd(st, "osd pool delete", pool="foo-cache", pool2="foo-cache", **d).ret == 0
    assert cmd(st, "osd pool delete", pool="foo", pool2="foo", **d).ret == 0


def test_add_cache(st: MonState) -> None:
    r = cmd(st, "osd tier add-cache", pool="foo", tierpool="bar", size=1000)
    assert (r.ret, r.outs) == (0, "pool 'bar' is now (or already was) a cache tier of 'foo'")
    p = pools(st)
    bid = pid(st, "bar")
    assert (p["foo"]["tiers"], p["foo"]["read_tier"], p["foo"]["write_tier"]) == ([bid], bid, bid)
    b = p["bar"]
    assert (b["tier_of"], b["cache_mode"], b["target_max_bytes"]) == (pid(st, "foo"),
                                                                      "writeback", 1000)  # fmt: skip
    assert b["hit_set_params"] == {"type": "bloom", "false_positive_probability": 0.05,
                                   "target_size": 0, "seed": 0}  # fmt: skip
    assert (b["hit_set_period"], b["hit_set_count"], b["hit_set_grade_decay_rate"],
            b["hit_set_search_last_n"]) == (1200, 4, 20, 1)  # fmt: skip
    assert b["grade_table"] == [800000, 640000, 512000, 409600]
    line = next(ln for ln in run(st, {"prefix": "osd pool ls", "detail": "detail"})
                .outbuf.decode().splitlines() if "'bar'" in ln)  # fmt: skip
    assert (
        f" tier_of {pid(st, 'foo')} cache_mode writeback target_bytes 1000 hit_set "
        "bloom{false_positive_probability: 0.05, target_size: 0, seed: 0} 1200s x4 decay_rate 20 "
        "search_last_n 1 min_read_recency_for_promote 1 min_write_recency_for_promote 1 "
        "stripe_width 0"
    ) in line
    r = run(st, {"prefix": "osd pool get", "pool": "bar", "var": "hit_set_type", "format": "json"})
    assert json.loads(r.outbuf) == {"pool": "bar", "pool_id": bid, "hit_set_type": "bloom"}
    r = run(st, {"prefix": "osd pool get", "pool": "foo", "var": "hit_set_type"})
    assert (r.ret, r.outs) == (
        -errno.EACCES, "pool 'foo' is not a tier pool: variable not applicable")  # fmt: skip
    r = run(st, {"prefix": "osd pool get", "pool": "bar", "var": "all"})
    names = [ln.split(":")[0] for ln in r.outbuf.decode().splitlines()]
    assert names[names.index("nodeep-scrub") + 1:names.index("pg_autoscale_mode")] == [
        "hit_set_type", "hit_set_period", "hit_set_count", "hit_set_fpp", "use_gmt_hitset",
        "target_max_objects", "target_max_bytes", "cache_target_dirty_ratio",
        "cache_target_dirty_high_ratio", "cache_target_full_ratio", "cache_min_flush_age",
        "cache_min_evict_age", "min_read_recency_for_promote", "min_write_recency_for_promote",
        "fast_read", "hit_set_grade_decay_rate", "hit_set_search_last_n"]  # fmt: skip
    # an existing tier relationship answers like add
    r = add(st, "foo", "bar")
    assert (r.ret, r.outs) == (0, "pool 'bar' is now (or already was) a tier of 'foo'")


def test_tier_fields_survive_encode(st: MonState) -> None:
    from pyceph.osdmap.osdmap import OSDMap

    assert add(st).ret == 0
    m = OSDMap.decode(st.osdmap.encode())
    assert m.pools[pid(st, "foo-cache")].tier_of == pid(st, "foo")
    assert m.pools[pid(st, "foo")].tiers == [pid(st, "foo-cache")]
