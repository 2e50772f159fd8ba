"""OSDMap placement vs Debian osdmaptool vectors, encoding and copy semantics."""

from __future__ import annotations

import re
from pathlib import Path

from pyceph.crush.hash import ceph_stable_mod, ceph_str_hash_rjenkins
from pyceph.crush.map import CrushMap
from pyceph.osdmap.osdmap import CRUSH_ITEM_NONE, OSD_IN, OsdInfo, OSDMap
from pyceph.osdmap.pool import TYPE_ERASURE, Pool, calc_mask

DATA = Path(__file__).parent / "data" / "osdmap"


def build_map() -> OSDMap:
    """The map of scripts/gen_osdmap_vectors.sh: 3 hosts x 2 OSDs, pool 1 pg 96/pgp 48."""
    c = CrushMap.new_default("host")
    layout = (
        ("h0", [(0, 1.0), (1, 0.5)]),
        ("h1", [(2, 1.0), (3, 2.0)]),
        ("h2", [(4, 1.0), (5, 1.0)]),
    )
    for host, osds in layout:
        c.add_bucket(host, "host", "default")
        for o, w in osds:
            c.add_osd(o, w, {"host": host, "root": "default"})
    m = OSDMap("00000000-0000-0000-0000-000000000000", c)
    m.epoch = 1
    m.max_osd = 6
    for i in range(6):
        m.osds[i] = OsdInfo(i, up=True, weight=OSD_IN)
    m.pools[1] = Pool(1, "rbd", pg_num=96, pgp_num=48, pg_num_target=96, pgp_num_target=48)
    m.pool_name["rbd"] = 1
    m.pool_max = 1
    return m


def _vectors(name: str) -> list[tuple[int, list[int], int]]:
    out = []
    for line in (DATA / name).read_text().splitlines():
        pg, up, prim = line.split("\t")
        osds = [int(x) for x in up.strip("[]").split(",") if x]
        out.append((int(pg.split(".")[1], 16), osds, int(prim)))
    return out


def test_pg_mapping_matches_osdmaptool_all_in() -> None:
    m = build_map().freeze()
    vecs = _vectors("pgs_all_in.txt")
    assert len(vecs) == 96
    for ps, osds, prim in vecs:
        up, upp, acting, actp = m.pg_to_up_acting_osds(1, ps)
        assert (up, upp) == (osds, prim), ps
        assert (acting, actp) == (osds, prim)


def test_pg_mapping_matches_osdmaptool_with_osd_out() -> None:
    m = build_map()
    m.osds[3].weight = 0
    for ps, osds, prim in _vectors("pgs_osd3_out.txt"):
        assert m.pg_to_up_acting_osds(1, ps)[:2] == (osds, prim), ps


def test_object_mapping_matches_osdmaptool() -> None:
    m = build_map().freeze()
    rx = re.compile(r" object '(.*)' -> 1\.([0-9a-f]+) -> \[(.*)\]")
    lines = (DATA / "objects.txt").read_text().splitlines()
    assert len(lines) == 15
    for line in lines:
        mm = rx.match(line)
        assert mm, line
        name, ps, osds = mm.group(1), int(mm.group(2), 16), [int(x) for x in mm.group(3).split(",")]
        assert m.object_locator_to_pg(1, name) == (1, ps), name
        assert m.pg_to_up_acting_osds(1, ps)[0] == osds


def test_locator_key_and_namespace_hashing() -> None:
    m = build_map()
    pool = m.pools[1]
    raw = ceph_str_hash_rjenkins(b"ns\x1fobj")
    assert m.object_locator_to_raw_pg(1, "obj", "ns") == (1, raw)
    assert m.object_locator_to_pg(1, "obj", "ns") == (1, ceph_stable_mod(raw, 96, 127))
    # the locator key replaces the name
    assert m.object_locator_to_pg(1, "whatever", "", "foo") == m.object_locator_to_pg(1, "foo")
    assert pool.pg_num_mask == 127 and pool.pgp_num_mask == 63
    assert calc_mask(1) == 0 and calc_mask(8) == 7 and calc_mask(9) == 15


def test_down_osd_and_pg_temp() -> None:
    m = build_map()
    up, upp, _, _ = m.pg_to_up_acting_osds(1, 0)
    m.osds[up[0]].up = False
    up2, upp2, acting2, actp2 = m.pg_to_up_acting_osds(1, 0)
    assert up2 == up[1:] and upp2 == up[1]
    m.pg_temp[(1, 0)] = [5, 4]
    m.primary_temp[(1, 0)] = 4
    _, _, acting3, actp3 = m.pg_to_up_acting_osds(1, 0)
    assert acting3 == [5, 4] and actp3 == 4


def test_erasure_pool_keeps_holes() -> None:
    m = build_map()
    c = m.crush
    rid = c.add_simple_rule("ec", "default", "osd", "indep", "erasure")
    m.pools[2] = Pool(2, "ec", type=TYPE_ERASURE, size=4, min_size=3, crush_rule=rid,
                      pg_num=8, pgp_num=8, pg_num_target=8, pgp_num_target=8)  # fmt: skip
    up, upp, _, _ = m.pg_to_up_acting_osds(2, 3)
    assert len(up) == 4 and len(set(up)) == 4
    m.osds[up[1]].up = False
    up2, upp2, _, _ = m.pg_to_up_acting_osds(2, 3)
    assert up2[1] == CRUSH_ITEM_NONE and up2[0] == up[0] and up2[2:] == up[2:]


def test_primary_affinity_zero_moves_primary() -> None:
    m = build_map()
    up, upp, _, _ = m.pg_to_up_acting_osds(1, 1)
    m.osds[upp].primary_affinity = 0
    up2, upp2, _, _ = m.pg_to_up_acting_osds(1, 1)
    assert upp2 != upp and upp2 == up2[0] and sorted(up2) == sorted(up)


def test_encode_decode_roundtrip_and_copy() -> None:
    m = build_map()
    m.blocklist["1.2.3.4:0/1"] = 5000.0
    m.pg_temp[(1, 2)] = [1, 2]
    b = m.encode()
    m2 = OSDMap.decode(b)
    assert m2.dump() == m.dump()
    assert m2.encode() == b
    for ps in range(96):
        assert m2.pg_to_up_acting_osds(1, ps) == m.pg_to_up_acting_osds(1, ps)
    m.freeze()
    p = m.copy()
    p.pools[1].size = 2
    p.osds[0].up = False
    p.crush_for_write().reweight_item("osd.0", 3.0)
    assert m.pools[1].size == 3 and m.osds[0].up
    assert m.crush.dump() != p.crush.dump()
    assert p.crush_version == m.crush_version + 1
