"""Pools (Rados): exists/lookup/create/delete/list, base tier, inconsistent PGs,
open_ioctx/open_ioctx2, pool stats (Ioctx.get_stats)."""

import rados

MISSING_ID = 987654


def run(s):
    r = s.cluster()
    name = s.pool_name()
    other = s.pool_name("rule")
    bad = s.pool_name("bad")

    s.step("pool_exists_before", lambda: r.pool_exists(name))
    s.step("pool_lookup_missing", lambda: r.pool_lookup(name))
    s.step("create_pool", lambda: r.create_pool(name))
    s.adopt_pool(name)
    s.step("create_pool_again", lambda: r.create_pool(name))
    s.step("pool_exists_after", lambda: r.pool_exists(name))
    s.step("pool_exists_bytes", lambda: r.pool_exists(name.encode()))
    pid = s.step("pool_lookup", lambda: r.pool_lookup(name), norm=s.INT_POS)
    s.step("pool_reverse_lookup", lambda: r.pool_reverse_lookup(pid))
    s.step("pool_reverse_lookup_missing", lambda: r.pool_reverse_lookup(MISSING_ID))
    s.step("list_pools", lambda: r.list_pools(), norm=lambda pools: name in pools)
    s.step("get_pool_base_tier", lambda: r.get_pool_base_tier(pid) == pid)
    s.step("get_pool_base_tier_missing", lambda: r.get_pool_base_tier(MISSING_ID))
    s.step("get_inconsistent_pgs", lambda: r.get_inconsistent_pgs(pid))
    io = s.step("open_ioctx", lambda: r.open_ioctx(name), norm=lambda io: io.get_pool_name())
    s.step("open_ioctx2", lambda: r.open_ioctx2(pid), norm=lambda io: io.get_pool_name())
    s.step("open_ioctx_missing", lambda: r.open_ioctx(name + "-missing"))
    s.step("open_ioctx2_missing", lambda: r.open_ioctx2(MISSING_ID))
    s.step("open_ioctx_bytes", lambda: r.open_ioctx(name.encode()))
    s.step("get_stats_fresh", lambda: io.get_stats())
    s.step(
        "get_stats_after_write",
        lambda: (io.write_full("o", b"x" * 10), io.get_stats())[1],
        norm=s.types_of,
    )

    s.step("create_pool_crush_rule", lambda: r.create_pool(other, crush_rule=0))
    s.adopt_pool(other)
    s.step("create_pool_bad_crush_rule", lambda: r.create_pool(bad, crush_rule=77))
    s.step("create_pool_bad_crush_rule_exists", lambda: r.pool_exists(bad))
    s.step("create_pool_auid", lambda: r.create_pool(bad, auid=5))
    s.step("create_pool_auid_exists", lambda: r.pool_exists(bad))
    s.step("create_pool_bytes_name", lambda: r.create_pool(b"compat-bytes"))
    s.step("create_pool_bad_rule_type", lambda: r.create_pool(bad + "x", crush_rule="0"))
    s.step("delete_pool", lambda: r.delete_pool(other))
    s.forget_pool(other)
    s.step("delete_pool_missing", lambda: r.delete_pool(other))
    s.step("pool_exists_after_delete", lambda: r.pool_exists(other))
    s.step("pool_lookup_after_delete", lambda: r.pool_lookup(other))
    s.step("constants_auid", lambda: (rados.ADMIN_AUID, rados.ANONYMOUS_AUID))
