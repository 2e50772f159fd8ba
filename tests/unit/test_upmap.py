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
    s = _mon()
    for i in range(3):
        s.osd_boot(i, f"0000000{i}-0000-0000-0000-000000000000", f"127.0.0.1:68{i}0/{i}",
                   f"127.0.0.1:68{i}1/{i}", f"127.0.0.1:68{i}2/{i}", {"hostname": "h"},
                   10 << 30, T0 + 1)  # fmt: skip
    s.commit_pending(T0 + 2)
    assert _cmd(s, prefix="osd pool create", pool="rbd", pg_num=8).ret == 0
    s.commit_pending(T0 + 3)
    return s


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
    r = _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.0", id=[0, 1, 0, 1])
    assert r.ret == 0
    assert r.outs == "osd.0 -> osd.1 already exists, set 1.0 pg_upmap_items mapping to [0->1]"
    s.commit_pending(T0 + 11)
    assert s.osdmap.dump()["pg_upmap_items"] == [
        {"pgid": "1.0", "mappings": [{"from": 0, "to": 1}]}
    ]
    # the items need luminous clients: the compat floor cannot drop below it now
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="jewel")
    assert r.ret == -errno.EPERM
    assert r.outs.startswith("osdmap current utilizes features that require luminous")
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="squid")
    assert (r.ret, r.outs) == (-errno.EINVAL, "version squid is not recognized")
    r = _cmd(s, prefix="osd set-require-min-compat-client", version="luminous")
    assert (r.ret, r.outs) == (0, "set require_min_compat_client to luminous")
    r = _cmd(s, prefix="osd rm-pg-upmap-items", pgid=f"{pid}.0")
    assert (r.ret, r.outs) == (0, "clear 1.0 pg_upmap_items mapping")
    s.commit_pending(T0 + 12)
    assert s.osdmap.dump()["pg_upmap_items"] == []
    # a deleted pool takes its items along (upstream _prepare_remove_pool)
    assert _cmd(s, prefix="osd pg-upmap-items", pgid=f"{pid}.1", id=[0, 1]).ret == 0
    s.commit_pending(T0 + 13)
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
