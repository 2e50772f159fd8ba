"""OSDMap incrementals: apply(old, diff(old, new)) rebuilds `new` byte for byte.

Checked over random map edits (hypothesis) and over every kind of change the monitor
makes (its commands and daemon events), through the encoding; plus the bounded decode,
the subscriber's `advance` (gaps, crc mismatches, full maps) and the monitor's history
(pinning, trimming, rebuilding old epochs, planning messages).
"""

from __future__ import annotations

import random
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyceph.crush.map import CrushMap
from pyceph.mon.osdmap_history import OSDMapHistory
from pyceph.mon.state import MonState
from pyceph.osdmap import incremental as I
from pyceph.osdmap.osdmap import OSD_IN, OsdInfo, OSDMap
from pyceph.osdmap.pool import Pool

FSID = "90a5bc37-9d49-4497-bd9f-506c05dafa54"
T0 = 1795322000.0


def base_map() -> OSDMap:
    c = CrushMap.new_default("host")
    for h in range(2):
        c.add_bucket(f"h{h}", "host", "default")
        for o in (2 * h, 2 * h + 1):
            c.add_osd(o, 1.0, {"host": f"h{h}", "root": "default"})
    m = OSDMap(FSID, c)
    m.epoch = 1
    m.max_osd = 4
    for i in range(4):
        m.osds[i] = OsdInfo(i, up=True, weight=OSD_IN, public_addr=f"10.0.0.{i}:6800/{i}")
    m.pools[1] = Pool(1, "rbd", pg_num=8, pgp_num=8)
    m.pool_name["rbd"] = 1
    m.pool_max = 1
    return m.freeze()


def roundtrip(old: OSDMap, new: OSDMap) -> I.Incremental:
    """Check the property both in memory and through the encodings; return the inc."""
    want = new.encode()
    inc = I.diff(old, new)
    mem = I.apply(old, inc)
    assert mem.encode() == want
    assert mem.pool_name == new.pool_name  # not encoded, derived: pools found by name
    wire = I.Incremental.decode(inc.encode())
    assert wire == I.Incremental.decode(wire.encode())
    receiver = OSDMap.decode(old.encode())  # what a subscriber holds: a decoded copy
    got = I.apply(receiver, wire).encode()
    assert got == want
    assert I.map_crc(got) == wire.full_crc
    return inc


# ---------------------------------------------------------------- random edits
def _edit(m: OSDMap, rnd: random.Random, kind: int) -> None:
    osd_ids = sorted(m.osds) or [0]
    i = rnd.choice(osd_ids)
    if kind == 0:
        o = m.osds.get(i)
        if o is not None:
            o.up = not o.up
            o.down_at = m.epoch
            o.down_stamp = T0 + rnd.random()
    elif kind == 1:
        if i in m.osds:
            m.osds[i].weight = rnd.choice([0, OSD_IN, 0x8000])
    elif kind == 2:
        n = max(osd_ids) + 1
        blank = rnd.random() < 0.5  # a slot just like a default one (`osd create`)
        m.osds[n] = OsdInfo(n) if blank else OsdInfo(n, uuid=f"{n:08d}-0000-0000-0000-0000")
        m.max_osd = n + 1
    elif kind == 3:
        m.osds.pop(i, None)
    elif kind == 4 and i in m.osds:
        o = m.osds[i]
        o.public_addr = o.cluster_addr = f"10.1.0.{rnd.randrange(255)}:6800/{rnd.randrange(9)}"
        o.up_from = o.up_thru = m.epoch
        o.metadata = {"hostname": f"h{rnd.randrange(3)}", "arch": "x86_64"}
        o.capacity_bytes = rnd.randrange(1 << 40)
        o.primary_affinity = rnd.choice([0, 0x8000, 0x10000])
        o.destroyed, o.auto_out = rnd.random() < 0.2, rnd.random() < 0.2
        o.old_weight, o.lost_at = rnd.randrange(0x10000), rnd.randrange(3)
    elif kind == 5:
        pid = m.pool_max + 1
        m.pools[pid] = Pool(pid, f"p{pid}", pg_num=rnd.choice([4, 8, 16]), create_time=T0)
        m.pool_name[f"p{pid}"] = pid
        m.pool_max = pid
    elif kind == 6 and m.pools:
        pid = rnd.choice(sorted(m.pools))
        m.pool_name.pop(m.pools.pop(pid).pool_name, None)
    elif kind == 7 and m.pools:
        p = m.pools[rnd.choice(sorted(m.pools))]
        p.size, p.pg_num_target = rnd.choice([1, 2, 3]), rnd.choice([8, 16])
        p.pool_snaps[p.snap_seq + 1] = ("s", T0)
        p.snap_seq += 1
        p.application_metadata.setdefault("rbd", {})["k"] = str(rnd.random())
        p.options["compression_mode"] = "none"
        p.last_change = m.epoch
        if rnd.random() < 0.3:  # `osd pool rename`
            del m.pool_name[p.pool_name]
            p.pool_name = f"renamed{p.pool_id}.{rnd.randrange(9)}"
            m.pool_name[p.pool_name] = p.pool_id
    elif kind == 8 and m.pools:
        pid = rnd.choice(sorted(m.pools))
        key = (pid, rnd.randrange(8))
        if key in m.pg_temp and rnd.random() < 0.5:
            del m.pg_temp[key]
            m.primary_temp.pop(key, None)
        else:
            m.pg_temp[key] = rnd.sample(osd_ids, min(2, len(osd_ids)))
            if rnd.random() < 0.5:
                m.primary_temp[key] = m.pg_temp[key][-1]
    elif kind == 9:
        a = f"10.2.0.{rnd.randrange(4)}:0/{rnd.randrange(3)}"
        if a in m.blocklist:
            del m.blocklist[a]
        else:
            m.blocklist[a] = T0 + rnd.randrange(3600)
    elif kind == 10:
        name = f"ec{rnd.randrange(3)}"
        if name in m.erasure_code_profiles and rnd.random() < 0.5:
            del m.erasure_code_profiles[name]
        else:
            m.erasure_code_profiles[name] = {"k": str(rnd.randrange(2, 5)), "m": "1"}
    elif kind == 11:
        m.flags ^= 1 << rnd.randrange(23)
        m.full_ratio = rnd.choice([0.95, 0.9])
        m.require_min_compat_client = rnd.choice(["luminous", "mimic"])
    elif kind == 12:
        crush = m.crush_for_write()
        cands = [d for d in crush.devices if d in m.osds]
        if cands:
            crush.reweight_item(f"osd.{rnd.choice(cands)}", rnd.choice([0.5, 1.0, 2.0]))
    elif kind == 13:
        m.last_up_change = m.last_in_change = T0 + rnd.random()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.lists(st.lists(st.integers(0, 13), max_size=4), max_size=12))
def test_apply_diff_rebuilds_random_edits(seed: int, steps: list[list[int]]) -> None:
    rnd = random.Random(seed)
    old = base_map()
    for kinds in steps:
        new = old.copy()
        new.epoch = old.epoch + 1
        new.modified = T0 + new.epoch
        for k in kinds:
            _edit(new, rnd, k)
        roundtrip(old, new)
        old = new.freeze()


def test_unchanged_map_gives_a_small_incremental() -> None:
    old = base_map()
    new = old.copy()
    new.epoch += 1
    inc = roundtrip(old, new)
    assert inc.is_empty()
    assert len(inc.encode()) < 80 < len(old.encode())


def test_every_osdinfo_field_is_carried() -> None:
    """A new OsdInfo field must get a place in the incremental (or this fails)."""
    assert set(OsdInfo.__dataclass_fields__) == I.OSD_FIELDS_COVERED


# ---------------------------------------------------------------- the monitor's changes
def _mon() -> MonState:
    opts = {"mon_allow_pool_delete": True}
    s = MonState.create(FSID, "a", "127.0.0.1:3300", T0, opts.get, admin_key="AQBzaW1wbGVrZXk=")
    s.rand_bytes = random.Random(7).randbytes
    s.commit_pending(T0)
    return s


MON_COMMANDS: list[dict[str, Any]] = [
    {"prefix": "osd pool create", "pool": "rbd", "pg_num": 8},
    {"prefix": "osd pool create", "pool": "data", "pg_num": 4},
    {"prefix": "osd pool set", "pool": "rbd", "var": "size", "val": "2"},
    {"prefix": "osd pool set", "pool": "rbd", "var": "pg_num", "val": "16"},
    {"prefix": "osd pool set", "pool": "rbd", "var": "compression_mode", "val": "none"},
    {"prefix": "osd pool set-quota", "pool": "rbd", "field": "max_objects", "val": "10"},
    {"prefix": "osd pool application enable", "pool": "rbd", "app": "rbd"},
    {"prefix": "osd pool application set", "pool": "rbd", "app": "rbd", "key": "k", "value": "v"},
    {"prefix": "osd pool mksnap", "pool": "data", "snap": "s1"},
    {"prefix": "osd pool rmsnap", "pool": "data", "snap": "s1"},
    {"prefix": "osd pool rename", "srcpool": "data", "destpool": "data2"},
    {"prefix": "osd erasure-code-profile set", "name": "ec21", "profile": ["k=2", "m=1"]},
    {"prefix": "osd pool create", "pool": "ecp", "pg_num": 4, "pool_type": "erasure",
     "erasure_code_profile": "ec21"},
    {"prefix": "osd erasure-code-profile set", "name": "gone", "profile": ["k=3", "m=1"]},
    {"prefix": "osd erasure-code-profile rm", "name": "gone"},
    {"prefix": "osd set", "key": "noout"},
    {"prefix": "osd unset", "key": "noout"},
    {"prefix": "osd set-full-ratio", "ratio": 0.9},
    {"prefix": "osd set-nearfull-ratio", "ratio": 0.8},
    {"prefix": "osd out", "ids": ["1"]},
    {"prefix": "osd in", "ids": ["1"]},
    {"prefix": "osd reweight", "id": 2, "weight": 0.5},
    {"prefix": "osd primary-affinity", "id": 0, "weight": 0.5},
    {"prefix": "osd down", "ids": ["2"]},
    {"prefix": "osd pg-temp", "pgid": "1.0", "id": [0, 1]},
    {"prefix": "osd primary-temp", "pgid": "1.0", "id": 1},
    {"prefix": "osd pg-temp", "pgid": "1.0"},
    {"prefix": "osd blocklist", "blocklistop": "add", "addr": "1.2.3.4:0/5"},
    {"prefix": "osd blocklist", "blocklistop": "rm", "addr": "1.2.3.4:0/5"},
    {"prefix": "osd crush add-bucket", "name": "rack1", "type": "rack"},
    {"prefix": "osd crush reweight", "name": "osd.1", "weight": 2.0},
    {"prefix": "osd crush rule create-replicated", "name": "r2", "root": "default",
     "type": "osd"},
    {"prefix": "osd pool set", "pool": "rbd", "var": "crush_rule", "val": "r2"},
    {"prefix": "osd pool create", "pool": "cache", "pg_num": 4},
    {"prefix": "osd tier add", "pool": "rbd", "tierpool": "cache"},
    {"prefix": "osd tier cache-mode", "pool": "cache", "mode": "readproxy"},
    {"prefix": "osd tier set-overlay", "pool": "rbd", "overlaypool": "cache"},
    {"prefix": "osd tier remove-overlay", "pool": "rbd"},
    {"prefix": "osd create"},
    {"prefix": "osd pool delete", "pool": "ecp", "pool2": "ecp",
     "yes_i_really_really_mean_it": True},
]  # fmt: skip


def test_every_monitor_change_rebuilds_exactly() -> None:
    s = _mon()
    fulls = {s.osdmap.epoch: s.osdmap.encode()}
    now = T0 + 1

    def step(what: str) -> None:
        nonlocal now
        now += 1
        s.commit_pending(now)
        fulls[s.osdmap.epoch] = s.osdmap.encode()
        assert s.osdmap.epoch in fulls, what

    for i in range(4):  # boot: new slots, crush placement, auto-in
        s.osd_boot(i, f"0000000{i}-0000-0000-0000-000000000000", f"127.0.0.1:68{i}0/{i}",
                   f"127.0.0.1:68{i}1/{i}", f"127.0.0.1:68{i}2/{i}", {"hostname": f"h{i % 2}"},
                   10 << 30, now)  # fmt: skip
        step(f"boot {i}")
    for cmd in MON_COMMANDS:
        r = s.handle_command(cmd, b"", "client.admin", None, now)
        assert r.ret == 0, (cmd, r.outs)
        step(cmd["prefix"])
    assert s.osd_failure(3, 0, 25.0, now) is False and s.osd_failure(3, 1, 25.0, now)
    step("failure")
    assert s.osd_alive(0, s.pending_osdmap.epoch)
    step("alive")
    assert s.request_pg_temp("1.3", [0, 1])
    step("pg_temp")
    assert s.osd_mark_down_self(1, now)
    step("mark me down")
    assert s.tick(now + 3600)  # down -> out
    step("tick")
    pid = s.osdmap.lookup_pool("rbd")
    assert s.pool_op(pid, "create_unmanaged_snap", "", 0, "client.admin", now)[0] == 0
    step("unmanaged snap")
    digest = {"osd_stats": {"0": {"kb": 100, "kb_used": 99}}}
    assert s.set_mgr_digest(digest)  # pools get the full flag
    step("digest")
    h = s.osdmap_history
    assert h.first == 1 and h.last == s.osdmap.epoch > 50
    for e in range(min(fulls) + 1, h.last + 1):
        inc = I.Incremental.decode(h.incs[e])
        assert inc.fullmap is None, f"epoch {e} needed the full map"
        prev = OSDMap.decode(fulls[e - 1])
        assert I.apply(prev, inc).encode() == fulls[e], f"epoch {e}"
        assert h.full(e) == fulls[e]
        assert len(h.incs[e]) < len(fulls[e])


def test_monitor_history_trims_and_survives_restore() -> None:
    opts = {"mon_min_osdmap_epochs": 25, "mon_osdmap_full_prune_interval": 10}
    s = MonState.create(FSID, "a", "127.0.0.1:3300", T0, opts.get)
    s.commit_pending(T0)
    s.handle_command({"prefix": "osd pool create", "pool": "p"}, b"", "client.admin", None, T0)
    s.commit_pending(T0)
    s.osd_boot(0, "00000000-0000-0000-0000-00000000000a", "127.0.0.1:6800/1",
               "127.0.0.1:6801/1", "127.0.0.1:6802/1", {}, 10 << 30, T0)  # fmt: skip
    s.commit_pending(T0)
    pgs = [f"{pid}.{ps:x}" for pid, pool in s.osdmap.pools.items() for ps in range(pool.pg_num)]
    deleted: list[str] = []
    for n in range(60):
        # the one OSD says every PG is clean at the epoch it has (its effective lec)
        s.osd_beacon(0, s.osdmap.epoch, pgs, s.osdmap.epoch, T0 + n)
        flag = "noout" if n % 2 == 0 else "noin"
        s.handle_command({"prefix": "osd set", "key": flag}, b"", "client.admin", None, T0 + n)
        s.commit_pending(T0 + n)
        deleted += s.take_store_deletes()
    h = s.osdmap_history
    assert h.last == s.osdmap.epoch == 64
    assert h.first == 30 and set(h.incs) == set(range(30, 65))  # >= 25 kept, from a pin
    assert h.pinned == {30, 40, 50, 60} and set(h.fulls) == {30, 40, 50, 60, 64}
    assert f"osdmap_inc/{29}" in deleted and f"osdmap_full/{20}" in deleted
    assert h.full(29) is None and OSDMap.decode(h.full(45)).epoch == 45
    s2 = MonState.restore(s.snapshot(), opts.get)
    assert s2.snapshot() == s.snapshot()
    h2 = s2.osdmap_history
    assert (h2.first, h2.last, h2.pinned) == (30, 64, h.pinned)
    assert s2.get_osdmap(33).encode() == s.get_osdmap(33).encode()


def test_plan_incrementals_full_and_bounds() -> None:
    m = base_map()
    h = OSDMapHistory()
    h.start(1, m.encode())
    for _ in range(9):
        new = m.copy()
        new.epoch += 1
        new.osds[0].up_thru = new.epoch
        h.commit(new.epoch, I.diff(m, new).encode(), new.encode(), 10)
        m = new.freeze()
    assert h.plan(11, 4) == []
    msgs = h.plan(2, 4)
    assert [[(e.epoch, e.kind) for e in msg] for msg in msgs] == [
        [(2, "inc"), (3, "inc"), (4, "inc"), (5, "inc")],
        [(6, "inc"), (7, "inc"), (8, "inc"), (9, "inc")],
        [(10, "inc")],
    ]
    assert [(e.epoch, e.kind) for msg in h.plan(0, 4) for e in msg] == [(10, "full")]
    assert [(e.epoch, e.kind) for msg in h.plan(1, 4) for e in msg] == [(10, "full")]  # no inc 1


# ---------------------------------------------------------------- receiving
def _chain(n: int) -> tuple[list[OSDMap], list[bytes]]:
    maps = [base_map()]
    incs: list[bytes] = []
    for k in range(n):
        new = maps[-1].copy()
        new.epoch += 1
        new.osds[k % 4].weight = 0x8000 + k
        incs.append(I.diff(maps[-1], new).encode())
        maps.append(new.freeze())
    return maps, incs


def test_advance_applies_in_order_and_verifies() -> None:
    maps, incs = _chain(4)
    ents = [I.MapEntry(e + 2, I.KIND_INC, b) for e, b in enumerate(incs)]
    res = I.advance(OSDMap.decode(maps[0].encode()), list(reversed(ents)))
    assert res.need_full is None and res.applied == [2, 3, 4, 5]
    assert res.osdmap is not None and res.osdmap.encode() == maps[4].encode()
    # already held: nothing to do
    assert I.advance(res.osdmap, ents).osdmap is None


def test_advance_hands_over_the_map_of_every_epoch() -> None:
    """An OSD walks each epoch (past intervals): advance gives them all, in order."""
    maps, incs = _chain(3)
    ents = [I.MapEntry(e + 2, I.KIND_INC, b) for e, b in enumerate(incs)]
    res = I.advance(maps[0], ents)
    assert [m.epoch for m in res.maps] == [2, 3, 4]
    assert [m.encode() for m in res.maps] == [m.encode() for m in maps[1:]]


def test_plan_sends_every_incremental_even_when_the_full_map_is_smaller() -> None:
    """Upstream send_incremental: a subscriber that holds an epoch gets each later one
    (a full newest map would make an OSD skip the epochs between)."""
    m = base_map()
    h = OSDMapHistory()
    h.start(1, m.encode())
    for k in range(60):
        new = m.copy()
        new.epoch += 1
        new.osds[k % 4].weight = 0x8000 + k
        h.commit(new.epoch, I.diff(m, new).encode(), new.encode(), 1000)
        m = new.freeze()
    assert sum(len(h.incs[e]) for e in range(2, 62)) > len(h.fulls[61])
    got = [(e.epoch, e.kind) for msg in h.plan(2, 100) for e in msg]
    assert got == [(e, I.KIND_INC) for e in range(2, 62)]


def test_advance_gap_and_crc_mismatch_ask_for_a_full_map() -> None:
    maps, incs = _chain(3)
    res = I.advance(maps[0], [I.MapEntry(3, I.KIND_INC, incs[1])])
    assert (res.osdmap, res.need_full) == (None, 3) and "gap" in res.reason
    bad = I.Incremental.decode(incs[1])
    bad.new_weight[1] = 0x1234  # not what the monitor committed: crc says so
    ents = [I.MapEntry(2, I.KIND_INC, incs[0]), I.MapEntry(3, I.KIND_INC, bad.encode()),
            I.MapEntry(4, I.KIND_INC, incs[2])]  # fmt: skip
    res = I.advance(maps[0], ents)
    assert res.applied == [2] and res.need_full == 3 and "crc" in res.reason
    assert res.osdmap is not None and res.osdmap.encode() == maps[1].encode()
    # the full map then puts it right, and later incrementals apply on top of it
    res = I.advance(res.osdmap, [I.MapEntry(3, I.KIND_FULL, maps[2].encode()), ents[2]])
    assert res.need_full is None and res.osdmap.encode() == maps[3].encode()
    # a new subscriber starts from a full map
    assert I.advance(None, [I.MapEntry(3, I.KIND_FULL, maps[2].encode())]).applied == [3]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",
        msgpack.packb([1, 2]),
        msgpack.packb({"v": 99, "e": 2, "fsid": FSID, "crc": 0}),
        msgpack.packb({"v": 1, "e": "2", "fsid": FSID, "crc": 0}),
        msgpack.packb({"v": 1, "e": 2, "fsid": FSID, "crc": 0, "bogus": 1}),
        msgpack.packb({"v": 1, "e": 2, "fsid": FSID, "crc": 0, "new_weight": {"x": 1}}),
        msgpack.packb({"v": 1, "e": 2, "fsid": FSID, "crc": 0, "new_pg_temp": [[1, 2]]}),
        msgpack.packb({"v": 1, "e": 2, "fsid": FSID, "crc": 0, "scalars": {"epoch": 9}}),
        msgpack.packb({"v": 1, "e": 2, "fsid": FSID, "crc": 0, "crush": "text"}),
        b"\x00" * (I.MAX_MAP_BYTES + 1),
    ],
)
def test_decode_rejects_malformed(data: bytes) -> None:
    with pytest.raises(I.IncrementalError):
        I.Incremental.decode(data)


def test_apply_rejects_wrong_epoch_or_cluster_and_bad_crush() -> None:
    maps, incs = _chain(2)
    inc = I.Incremental.decode(incs[1])
    with pytest.raises(I.IncrementalError):
        I.apply(maps[0], inc)
    inc = I.Incremental.decode(incs[0])
    inc.fsid = "other"
    with pytest.raises(I.IncrementalError):
        I.apply(maps[0], inc)
    inc = I.Incremental.decode(incs[0])
    inc.crush = b"not a crush map"
    res = I.advance(maps[0], [I.MapEntry(2, I.KIND_INC, inc.encode())])
    assert res.need_full == 2 and res.osdmap is None


def test_restore_of_a_store_with_full_maps_per_epoch_drops_them() -> None:
    """Stores written before incrementals hold `osdmap/<epoch>` full maps: restoring one
    starts the history at the current epoch and deletes the old keys on the next write."""
    s = _mon()
    s.handle_command({"prefix": "osd set", "key": "noout"}, b"", "client.admin", None, T0)
    s.commit_pending(T0)
    data = {k: v for k, v in s.snapshot().items() if not k.startswith("osdmap_")}
    data.update({f"osdmap/{e}": s.get_osdmap(e).encode() for e in (1, 2, 3)})
    s2 = MonState.restore(data, {}.get)
    assert sorted(s2.take_store_deletes()) == ["osdmap/1", "osdmap/2", "osdmap/3"]
    h = s2.osdmap_history
    assert (h.first, h.last) == (3, 3) and h.plan(2, 40)[0][0].kind == I.KIND_FULL
    s2.handle_command({"prefix": "osd unset", "key": "noout"}, b"", "client.admin", None, T0)
    s2.commit_pending(T0)
    (msg,) = h.plan(4, 40)
    assert [(e.epoch, e.kind) for e in msg] == [(4, I.KIND_INC)]
    assert "osdmap_full/3" in s2.snapshot() and "osdmap_inc/4" in s2.snapshot()


def test_an_incremental_may_carry_the_whole_map() -> None:
    """Upstream's `Incremental::fullmap`: the monitor's fallback should a delta ever not
    rebuild the committed map."""
    maps, _incs = _chain(1)
    inc = I.Incremental(2, FSID, I.map_crc(maps[1].encode()), fullmap=maps[1].encode())
    wire = I.Incremental.decode(inc.encode())
    res = I.advance(maps[0], [I.MapEntry(2, I.KIND_INC, wire.encode())])
    assert res.need_full is None and res.osdmap.encode() == maps[1].encode()
    inc.fullmap = maps[0].encode()  # a whole map of the wrong epoch is refused
    with pytest.raises(I.IncrementalError):
        I.apply(maps[0], inc)
