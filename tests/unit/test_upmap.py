"""pg_upmap_items end to end in memory: the monitor's commands (upstream's checks and
messages), the CRUSH mapping honouring the items, the incremental carrying them, and
the upmap optimizer (`calc_pg_upmaps`) the balancer calls through `mgr_module`.
"""

from __future__ import annotations

import errno
from collections import Counter
from typing import Any

from tests.unit.test_osdmap_incremental import FSID, T0, _mon, roundtrip

from pyceph.crush.map import CrushMap
from pyceph.mgr.upmap import calc_pg_upmaps
from pyceph.mon.state import MonState
from pyceph.osdmap.osdmap import OSD_IN, OsdInfo, OSDMap
from pyceph.osdmap.pool import Pool
from pyceph.osdmap.upmap_clean import clean_pg_upmaps

#: osd -> host in the optimizer's map: two OSDs on each of three hosts
HOSTS = {0: "h0", 1: "h0", 2: "h1", 3: "h1", 4: "h2", 5: "h2"}


def _host_map(pg_num: int = 32, size: int = 3) -> OSDMap:
    c = CrushMap.new_default("host")
    for h in sorted(set(HOSTS.values())):
        c.add_bucket(h, "host", "default")
    for o, h in HOSTS.items():
        c.add_osd(o, 1.0, {"host": h, "root": "default"})
    m = OSDMap(FSID, c)
    m.epoch = 1
    m.max_osd = len(HOSTS)
    for i in HOSTS:
        m.osds[i] = OsdInfo(i, up=True, weight=OSD_IN)
    m.pools[1] = Pool(1, "rbd", size=size, pg_num=pg_num, pgp_num=pg_num)
    m.pool_name["rbd"] = 1
    m.pool_max = 1
    return m


def _counts(m: OSDMap, pool: int = 1) -> Counter[int]:
    c: Counter[int] = Counter()
    for ps in range(m.pools[pool].pg_num):
        c.update(m.pg_to_up_acting_osds(pool, ps)[0])
    return c


def _cmd(s: MonState, **cmd: Any) -> Any:
    return s.handle_command(cmd, b"", "client.admin", None, T0 + 10)


def _booted_mon() -> MonState:
    """A monitor whose six OSDs booted on three hosts (HOSTS), with pool rbd (size 3)."""
    s = _mon()
    for i, host in HOSTS.items():
        s.osd_boot(i, f"0000000{i}-0000-0000-0000-000000000000", f"127.0.0.1:68{i}0/{i}",
                   f"127.0.0.1:68{i}1/{i}", f"127.0.0.1:68{i}2/{i}", {"hostname": host},
                   10 << 30, T0 + 1)  # fmt: skip
    s.commit_pending(T0 + 2)
    assert _cmd(s, prefix="osd pool create", pool="rbd", pg_num=8).ret == 0
    s.commit_pending(T0 + 3)
    return s


def _pg_with(s: MonState, pid: int, osd: int) -> tuple[str, list[int]]:
    """The first PG of pool `pid` whose CRUSH mapping holds `osd`, and that mapping."""
    m = s.osdmap
    for ps in range(m.pools[pid].pg_num):
        raw, _ = m.pg_to_raw_upmap(pid, ps)
        if osd in raw:
            return f"{pid}.{ps:x}", raw
    raise AssertionError(f"no PG on osd.{osd}")


def _peer(osd: int) -> int:
    """The other OSD on `osd`'s host: a target that keeps the failure domains apart."""
    return next(o for o in HOSTS if HOSTS[o] == HOSTS[osd] and o != osd)


def test_mapping_honours_items_and_skips_out_targets() -> None:
    m = _host_map(pg_num=8)
    up = m.pg_to_up_acting_osds(1, 0)[0]
    frm = up[1]
    to = next(o for o in HOSTS if HOSTS[o] == HOSTS[frm] and o != frm)  # same host
    m.pg_upmap_items[(1, 0)] = [(frm, to)]
    assert m.pg_to_up_acting_osds(1, 0)[0] == [to if o == frm else o for o in up]
    m.osds[to].weight = 0  # an out target: CRUSH's choice stands
    assert m.pg_to_up_acting_osds(1, 0)[0] == up
    m.osds[to].weight = OSD_IN
    # a target already in the PG is ignored (upstream _apply_upmap)
    m.pg_upmap_items[(1, 0)] = [(frm, up[0])]
    assert m.pg_to_up_acting_osds(1, 0)[0] == up
    m.pg_upmap_items[(1, 0)] = [(frm, to)]
    d = m.dump()
    assert d["pg_upmap_items"] == [{"pgid": "1.0", "mappings": [{"from": frm, "to": to}]}]
    again = OSDMap.decode(m.encode())
    assert again.pg_upmap_items == m.pg_upmap_items
    assert again.pg_to_up_acting_osds(1, 0)[0] == m.pg_to_up_acting_osds(1, 0)[0]
    # a map without items encodes without the key (maps stored before keep their bytes)
    m.pg_upmap_items.clear()
    assert b"pg_upmap_items" not in m.encode()


def test_incremental_carries_items() -> None:
    old = _host_map(pg_num=8).freeze()
    new = old.copy()
    new.epoch = 2
    new.pg_upmap_items[(1, 3)] = [(0, 1), (2, 3)]
    inc = roundtrip(old, new.freeze())
    assert inc.new_pg_upmap_items == {(1, 3): [[0, 1], [2, 3]]}
    gone = new.copy()
    gone.epoch = 3
    gone.pg_upmap_items.clear()
    assert roundtrip(new, gone.freeze()).old_pg_upmap_items == [(1, 3)]


def test_mon_pg_upmap_items_commands() -> None:
    s = _booted_mon()
    pid = s.osdmap.lookup_pool("rbd")
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.0", id=[0, 1, 2])
    assert (r.ret, r.outs) == (-errno.EINVAL, "you must specify pairs of osd ids to be remapped")
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.0", id=[0, 1, 1, 2, 2, 0, 0, 2])
    assert r.ret == -errno.EINVAL and r.outs == "num of osd pairs (4) > pool size (3)"
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.0", id=[0, 9])
    assert (r.ret, r.outs) == (-errno.ENOENT, "osd.9 does not exist")
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.0", id=[1, 1])
    assert r.ret == -errno.EINVAL
    assert r.outs == "from osd.1 == to osd.1, no valid upmap items(pairs) is specified"
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.99", id=[0, 1])
    assert (r.ret, r.outs) == (-errno.ENOENT, f"pg {pid}.99 does not exist")
    r = _cmd(s, prefix="osd pg-upmap-items", pgid="x", id=[0, 1])
    assert (r.ret, r.outs) == (-errno.EINVAL, "invalid pgid 'x'")
    assert not s.pending_osdmap.pg_upmap_items  # bad input changes nothing
    pgid, _ = _pg_with(s, pid, 0)
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=pgid, id=[0, 1, 0, 1])
    assert r.ret == 0
    assert r.outs == f"osd.0 -> osd.1 already exists, set {pgid} pg_upmap_items mapping to [0->1]"
    s.commit_pending(T0 + 11)
    assert s.osdmap.dump()["pg_upmap_items"] == [{"pgid": pgid, "mappings": [{"from": 0, "to": 1}]}]
    # the items need luminous clients: the compat floor cannot drop below it now
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="jewel")
    assert r.ret == -errno.EPERM
    assert r.outs.startswith("osdmap current utilizes features that require luminous")
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="squid")
    assert (r.ret, r.outs) == (-errno.EINVAL, "version squid is not recognized")
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="luminous")
    assert (r.ret, r.outs) == (0, "set require_min_compat_client to luminous")
    r = _cmd(s, prefix="osd rm-pg-upmap-items", pgid=pgid)
    assert (r.ret, r.outs) == (0, f"clear {pgid} pg_upmap_items mapping")
    s.commit_pending(T0 + 12)
    assert s.osdmap.dump()["pg_upmap_items"] == []
    # a deleted pool takes its items along (upstream _prepare_remove_pool)
    assert _cmd(s, prefix="osd pg-upmap-items", pgid=pgid, id=[0, 1]).ret == 0
    s.commit_pending(T0 + 13)
    assert s.osdmap.pg_upmap_items
    r = _cmd(s, prefix="osd pool delete", pool="rbd", pool2="rbd", yes_i_really_really_mean_it=True)  # fmt: skip
    assert r.ret == 0, r.outs
    s.commit_pending(T0 + 14)
    assert s.osdmap.pg_upmap_items == {}
    assert _cmd(s, prefix="osd pool create", pool="rbd", pg_num=8).ret == 0
    s.commit_pending(T0 + 15)
    pid = s.osdmap.lookup_pool("rbd")
    # below luminous the upmap commands refuse, naming the fix
    assert _cmd(s, prefix="osd set-require-min-compat-client", version="jewel").ret == 0
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.0", id=[0, 1])
    assert r.ret == -errno.EPERM
    assert "Try 'ceph osd set-require-min-compat-client luminous'" in r.outs


def _spread(m: OSDMap) -> float:
    """max |PGs - target| over the OSDs (equal weights: target is the mean)."""
    c = _counts(m)
    mean = sum(c.values()) / len(HOSTS)
    return max(abs(c.get(o, 0) - mean) for o in HOSTS)


def test_optimizer_evens_out_a_skewed_map() -> None:
    m = _host_map(pg_num=32)
    # skew: move every PG's replica from h0's second OSD to its first where possible
    for ps in range(32):
        up = m.pg_to_up_acting_osds(1, ps)[0]
        if 1 in up:
            m.pg_upmap_items[(1, ps)] = [(1, 0)]
    m.freeze()
    before = _spread(m)
    assert before > 5
    res = calc_pg_upmaps(m, [1], max_deviation=1, max_changes=100)
    assert res.num_changed > 0
    after = m.copy()
    for key in res.removed:
        after.pg_upmap_items.pop(key)
    after.pg_upmap_items.update(res.new_items)
    assert _spread(after) <= 1 < before
    # every PG keeps one replica per host (the rule's failure domain)
    for ps in range(32):
        up = after.pg_to_up_acting_osds(1, ps)[0]
        assert len(up) == 3 and len({HOSTS[o] for o in up}) == 3
    # the map it was given is untouched; a budget bounds the PGs changed
    assert all(v == [(1, 0)] for v in m.pg_upmap_items.values())
    assert calc_pg_upmaps(m, [1], 1, 2).num_changed == 2
    # an even map needs nothing; an unknown pool or no budget changes nothing
    assert calc_pg_upmaps(after.freeze(), [1], 1, 100).num_changed == 0
    assert calc_pg_upmaps(m, [7], 1, 100).num_changed == 0
    assert calc_pg_upmaps(m, [1], 1, 0).num_changed == 0


def test_mgr_module_osdmap_wrapper_records_the_plan() -> None:
    """mgr_module.OSDMap.calc_pg_upmaps fills the incremental the balancer executes:
    its dump has upstream's new_pg_upmap_items / old_pg_upmap_items, and
    apply_incremental gives the map the plan leads to."""
    import mgr_module

    m = _host_map(pg_num=32)
    for ps in range(32):
        if 1 in m.pg_to_up_acting_osds(1, ps)[0]:
            m.pg_upmap_items[(1, ps)] = [(1, 0)]
    osdmap = mgr_module.OSDMap(m.freeze())
    inc = osdmap.new_incremental()
    did = osdmap.calc_pg_upmaps(inc, 1, 100, ["rbd"])
    d = inc.dump()
    assert did == len(d["new_pg_upmap_items"]) + len(d["old_pg_upmap_items"]) > 0
    for item in d["new_pg_upmap_items"]:
        assert set(item) == {"pgid", "mappings"} and item["mappings"]
    assert all(isinstance(p, str) and p.startswith("1.") for p in d["old_pg_upmap_items"])
    planned = osdmap.apply_incremental(inc)
    counts: Counter[int] = Counter()
    for up in planned.map_pool_pgs_up(1).values():
        counts.update(up)
    assert max(counts.values()) - min(counts.values()) <= 2
    # a second call on the same incremental starts from the plan so far: nothing left
    assert osdmap.calc_pg_upmaps(inc, 1, 100, ["rbd"]) == 0


# ---------------------------------------------------------------- whole-set pg_upmap
def test_pg_upmap_replaces_the_whole_set_then_items_apply() -> None:
    m = _host_map(pg_num=8)
    up = m.pg_to_up_acting_osds(1, 0)[0]
    plain = m.encode()
    whole = [_peer(o) for o in up]  # one OSD per host still, all different from CRUSH's
    m.pg_upmap[(1, 0)] = whole
    assert m.pg_to_up_acting_osds(1, 0)[0] == whole
    # pg_upmap first, then the items rewrite its result
    m.pg_upmap_items[(1, 0)] = [(whole[0], up[0])]
    assert m.pg_to_up_acting_osds(1, 0)[0] == [up[0], *whole[1:]]
    # a pg_upmap naming an out OSD is ignored, and so are the PG's items
    m.osds[whole[2]].weight = 0
    assert m.pg_to_raw_upmap(1, 0) == (up, up)
    m.osds[whole[2]].weight = OSD_IN
    d = m.dump()
    assert d["pg_upmap"] == [{"pgid": "1.0", "osds": whole}]
    again = OSDMap.decode(m.encode())
    assert again.pg_upmap == m.pg_upmap
    assert again.pg_to_up_acting_osds(1, 0)[0] == [up[0], *whole[1:]]
    # without upmaps the map keeps its bytes
    m.pg_upmap.clear()
    m.pg_upmap_items.clear()
    assert m.encode() == plain


def test_incremental_carries_pg_upmap() -> None:
    old = _host_map(pg_num=8).freeze()
    new = old.copy()
    new.epoch = 2
    new.pg_upmap[(1, 3)] = [0, 2, 4]
    inc = roundtrip(old, new.freeze())
    assert inc.new_pg_upmap == {(1, 3): [0, 2, 4]} and inc.old_pg_upmap == []
    changed = new.copy()
    changed.epoch = 3
    changed.pg_upmap[(1, 3)] = [1, 2, 4]
    assert roundtrip(new, changed.freeze()).new_pg_upmap == {(1, 3): [1, 2, 4]}
    gone = changed.copy()
    gone.epoch = 4
    gone.pg_upmap.clear()
    inc = roundtrip(changed, gone.freeze())
    assert inc.old_pg_upmap == [(1, 3)] and inc.new_pg_upmap == {}


def test_mon_pg_upmap_commands() -> None:
    s = _booted_mon()
    pid = s.osdmap.lookup_pool("rbd")
    pgid, raw = _pg_with(s, pid, 0)
    whole = [_peer(o) for o in raw]
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=[whole[0]])
    assert (r.ret, r.outs) == (-errno.EINVAL, "num of osds (1) < pool min size (2)")
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=[0, 1, 2, 3])
    assert (r.ret, r.outs) == (-errno.EINVAL, "num of osds (4) > pool size (3)")
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=[0, 9])
    assert (r.ret, r.outs) == (-errno.ENOENT, "osd.9 does not exist")
    r = _cmd(s, prefix="osd pg-upmap", pgid=f"{pid}.99", id=[0, 2])
    assert (r.ret, r.outs) == (-errno.ENOENT, f"pg {pid}.99 does not exist")
    assert not s.pending_osdmap.pg_upmap  # bad input changes nothing
    # repeats are dropped with a note (sizes are checked before that, as upstream)
    w0, w1 = whole[:2]
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=[w0, w0, w1])
    assert r.ret == 0
    assert r.outs == f"osd.{w0} already exists, set {pgid} pg_upmap mapping to [{w0},{w1}]"
    s.commit_pending(T0 + 10)
    assert s.osdmap.pg_upmap == {}  # shorter than the pool's size: the cleanup drops it
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=whole)
    shown = ",".join(map(str, whole))
    assert (r.ret, r.outs) == (0, f"set {pgid} pg_upmap mapping to [{shown}]")
    s.commit_pending(T0 + 11)
    assert s.osdmap.dump()["pg_upmap"] == [{"pgid": pgid, "osds": whole}]
    ps = int(pgid.split(".")[1], 16)
    assert s.osdmap.pg_to_up_acting_osds(pid, ps)[0] == whole
    plain = _cmd(s, prefix="osd dump").outbuf.decode()
    assert f"\npg_upmap {pgid} [{shown}]\n" in plain
    # upstream OSDMap::print lists upmaps before the temp mappings
    assert _cmd(s, prefix="osd pg-temp", pgid=pgid, id=raw[:2]).ret == 0
    s.commit_pending(T0 + 11)
    plain = _cmd(s, prefix="osd dump").outbuf.decode()
    assert plain.index("\npg_upmap ") < plain.index("\npg_temp ")
    # a pg_upmap needs luminous clients too
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="jewel")
    assert r.ret == -errno.EPERM
    r = _cmd(s, prefix="osd rm-pg-upmap", pgid=pgid)
    assert (r.ret, r.outs) == (0, f"clear {pgid} pg_upmap mapping")
    s.commit_pending(T0 + 12)
    assert s.osdmap.pg_upmap == {}
    assert _cmd(s, prefix="osd set-require-min-compat-client", version="jewel").ret == 0
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=whole)
    assert r.ret == -errno.EPERM and "required for pg-upmap" in r.outs


# ---------------------------------------------------------------- per-epoch cleanup
def test_cleanup_drops_upmaps_of_an_out_osd() -> None:
    s = _booted_mon()
    pid = s.osdmap.lookup_pool("rbd")
    pgid, raw = _pg_with(s, pid, 0)
    assert _cmd(s, prefix="osd pg-upmap-items", pgid=pgid, id=[0, 1]).ret == 0
    other, raw2 = _pg_with(s, pid, 2)
    assert _cmd(s, prefix="osd pg-upmap-items", pgid=other, id=[2, 3]).ret == 0
    s.commit_pending(T0 + 11)
    assert len(s.osdmap.pg_upmap_items) == 2
    # the target of the first PG's item goes out: that item goes, the other stays
    assert _cmd(s, prefix="osd out", ids=["1"]).ret == 0
    s.commit_pending(T0 + 12)
    key = (pid, int(other.split(".")[1], 16))
    assert s.osdmap.pg_upmap_items == {key: [(2, 3)]}
    # the source of the other goes out: CRUSH no longer picks it, the item is a no-op
    assert _cmd(s, prefix="osd out", ids=["2"]).ret == 0
    s.commit_pending(T0 + 13)
    assert s.osdmap.pg_upmap_items == {}


def test_cleanup_drops_failure_domain_violations_and_redundant_upmaps() -> None:
    s = _booted_mon()
    pid = s.osdmap.lookup_pool("rbd")
    pgid, raw = _pg_with(s, pid, 0)
    # move the replica on 0 onto the host another replica already uses
    crowded = _peer(raw[1]) if raw[0] == 0 else _peer(raw[0])
    assert _cmd(s, prefix="osd pg-upmap-items", pgid=pgid, id=[0, crowded]).ret == 0
    s.commit_pending(T0 + 11)
    assert s.osdmap.pg_upmap_items == {}
    # a pg_upmap equal to CRUSH's choice is redundant and goes; a useful one stays
    assert _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=raw).ret == 0
    s.commit_pending(T0 + 12)
    assert s.osdmap.pg_upmap == {}
    whole = [_peer(o) for o in raw]
    assert _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=whole).ret == 0
    s.commit_pending(T0 + 13)
    assert list(s.osdmap.pg_upmap.values()) == [whole]


def test_cleanup_drops_upmaps_of_deleted_pools_and_purged_osds() -> None:
    s = _booted_mon()
    pid = s.osdmap.lookup_pool("rbd")
    pgid, raw = _pg_with(s, pid, 0)
    whole = [_peer(o) for o in raw]
    assert _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=whole).ret == 0
    s.commit_pending(T0 + 11)
    assert s.osdmap.pg_upmap
    r = _cmd(s, prefix="osd pool delete", pool="rbd", pool2="rbd", yes_i_really_really_mean_it=True)  # fmt: skip
    assert r.ret == 0, r.outs
    r = _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=whole)
    assert (r.ret, r.outs) == (-errno.ENOENT, f"pool of {pgid} is pending removal")
    s.commit_pending(T0 + 12)
    assert s.osdmap.pg_upmap == {}
    # an OSD taken out of CRUSH takes its pg_upmap along (upstream: not in the rule's tree)
    assert _cmd(s, prefix="osd pool create", pool="rbd2", pg_num=8).ret == 0
    s.commit_pending(T0 + 13)
    pid = s.osdmap.lookup_pool("rbd2")
    pgid, raw = _pg_with(s, pid, 0)
    whole = [_peer(o) for o in raw]
    assert _cmd(s, prefix="osd pg-upmap", pgid=pgid, id=whole).ret == 0
    s.commit_pending(T0 + 14)
    assert _cmd(s, prefix="osd down", ids=[str(whole[0])]).ret == 0
    s.commit_pending(T0 + 15)
    assert s.osdmap.pg_upmap  # down but in: the mapping stays
    r = _cmd(s, prefix="osd crush rm", name=f"osd.{whole[0]}")
    assert r.ret == 0, r.outs
    s.commit_pending(T0 + 16)
    assert s.osdmap.pg_upmap == {}


def test_cleanup_pure_function_on_a_pending_map() -> None:
    """clean_pg_upmaps edits only the map it is given: an OSD that no longer exists takes
    its pg_upmap and item targets along; a PG past pg_num goes; valid entries stay."""
    m = _host_map(pg_num=8)
    up = m.pg_to_up_acting_osds(1, 0)[0]
    up1 = m.pg_to_up_acting_osds(1, 1)[0]
    up2 = m.pg_to_up_acting_osds(1, 2)[0]
    m.pg_upmap[(1, 0)] = [_peer(o) for o in up]
    m.pg_upmap_items[(1, 1)] = [(up1[0], _peer(up1[0])), (up1[1], _peer(up1[1]))]
    m.pg_upmap_items[(1, 2)] = [(up2[0], _peer(up2[0]))]
    m.pg_upmap_items[(1, 9)] = [(0, 1)]  # past pg_num
    assert clean_pg_upmaps(m) == [(1, 9)]
    assert clean_pg_upmaps(m) == []  # a clean map stays as it is
    before_whole, before_items = dict(m.pg_upmap), dict(m.pg_upmap_items)
    gone = _peer(up1[1])
    m.osds[gone].exists = False
    touched = clean_pg_upmaps(m)
    assert (1, 1) in touched and m.pg_upmap_items[(1, 1)] == [(up1[0], _peer(up1[0]))]
    # no entry names the OSD any more; the entries that never named it are untouched
    assert all(gone not in v for v in m.pg_upmap.values())
    assert all(gone not in p for v in m.pg_upmap_items.values() for p in v)
    for k, v in before_whole.items():
        assert (gone in v) == (k not in m.pg_upmap)
    for k, items in before_items.items():
        if all(gone not in p for p in items):
            assert m.pg_upmap_items[k] == items
