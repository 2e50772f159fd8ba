"""Unit tests for the CRUSH hashes, crush_ln, map builders, JSON views and bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pyceph.crush.hash import (
    ceph_stable_mod,
    ceph_str_hash_rjenkins,
    crush_hash32,
    crush_hash32_2,
    crush_hash32_3,
    crush_hash32_4,
    crush_hash32_5,
)
from pyceph.crush.ln import crush_ln
from pyceph.crush.map import CRUSH_ITEM_NONE, CrushError, CrushMap
from pyceph.crush.text import CompileError, compile_text, decompile
from pyceph.crush.tool import _run

DATA = Path(__file__).parent / "data" / "crush"


def test_crush_hashes_regression() -> None:
    # straw2 (hash32_3), list buckets (hash32_4) and reweights (hash32_2) are also
    # covered bit-exactly by the upstream mapping vectors
    assert crush_hash32(0) == 398764043
    assert crush_hash32(1) == 3574081617
    assert crush_hash32_2(1, 2) == 3079532188
    assert crush_hash32_3(1, 2, 3) == 1935332395
    assert crush_hash32_4(1, 2, 3, 4) == 1768759062
    assert crush_hash32_5(1, 2, 3, 4, 5) == 1262657953
    assert crush_hash32_3(123456, -5, 7) == crush_hash32_3(123456, 0xFFFFFFFB, 7)


def test_str_hash_matches_osdmaptool() -> None:
    # low 16 bits checked against `osdmaptool --test-map-object` with 65536 PGs
    assert ceph_str_hash_rjenkins(b"foo") & 0xFFFF == 0xF406
    assert ceph_str_hash_rjenkins(b"bar") & 0xFFFF == 0x384B
    assert ceph_str_hash_rjenkins(b"hello world object name") & 0xFFFF == 0x330C
    assert ceph_str_hash_rjenkins(b"abcdefghijkl") & 0xFFFF == 0x3EA5
    assert ceph_str_hash_rjenkins(b"foo") == 0x7FC1F406
    assert 0 <= ceph_str_hash_rjenkins(b"") <= 0xFFFFFFFF


def test_stable_mod() -> None:
    assert ceph_stable_mod(5, 8, 7) == 5
    assert ceph_stable_mod(13, 12, 15) == 13 & 7
    assert ceph_stable_mod(11, 12, 15) == 11
    # growing pg_num only splits: every value maps to itself or its parent
    for x in range(256):
        assert ceph_stable_mod(x, 12, 15) in (x & 15, x & 7)


def test_crush_ln() -> None:
    assert crush_ln(0) == 0
    assert crush_ln(1) == 1 << 44
    assert crush_ln(0x7FFF) == 15 << 44
    assert crush_ln(0xFFFF) == 0xFFFFF0000000
    values = [crush_ln(u) for u in range(0, 0x10000, 97)]
    assert values == sorted(values)


def _cluster() -> CrushMap:
    m = CrushMap.new_default()
    for osd, host in ((0, "a"), (1, "b"), (2, "c"), (3, "a")):
        m.add_osd(osd, 1.0 if osd != 3 else 0.5, {"host": host, "root": "default"})
    return m


def test_builders_and_weights() -> None:
    m = _cluster()
    root = m.get_item_id("default")
    assert root == -1
    assert m.get_bucket_weight(root) == 0x38000
    a = m.get_item_id("a")
    assert m.get_bucket_children(a) == [0, 3]
    assert m.get_bucket_weight(a) == 0x18000
    assert m.get_parent(3) == a
    assert m.get_location(3) == {"host": "a", "root": "default"}
    assert m.get_item_name(3) == "osd.3"
    m.reweight_item("osd.3", 2.0)
    assert m.get_bucket_weight(a) == 0x30000
    assert m.get_bucket_weight(root) == 0x50000
    m.remove_osd(3)
    assert m.get_bucket_children(a) == [0]
    assert m.get_bucket_weight(root) == 0x30000
    assert m.find_rule("replicated_rule") == 0
    assert m.find_rule("nope") == -1
    assert m.rule_exists(0) and m.rule_exists("replicated_rule")
    with pytest.raises(KeyError):
        m.get_item_id("nope")
    with pytest.raises(CrushError):
        m.add_osd(0, 1.0, {"host": "a"})
    with pytest.raises(CrushError):
        m.add_osd(9, 1.0, {"shelf": "x"})


@pytest.mark.parametrize("host", ["osd.4", "osd.0", "default"])
def test_add_osd_refuses_a_location_that_is_not_a_bucket_and_changes_nothing(host) -> None:
    """A host named like a device (its own or another's) or like a bucket of another type
    is refused before anything changes (a half-added device once hung the simulator)."""
    m = _cluster()
    before = m.encode()
    with pytest.raises(CrushError, match="is not a bucket of type host"):
        m.add_osd(4, 1.0, {"host": host, "root": "default"})
    assert m.encode() == before and 4 not in m.devices


def test_do_rule_on_built_map() -> None:
    m = _cluster()
    seen = set()
    for x in range(200):
        out = m.do_rule(0, x, 3)
        assert len(out) == 3 and len(set(out)) == 3
        # one OSD per host
        assert len({m.get_parent(o) for o in out}) == 3
        seen.update(out)
    assert seen == {0, 1, 2, 3}
    # marking osd.1 out leaves host b without an OSD
    out = m.do_rule(0, 7, 3, [0x10000, 0, 0x10000, 0x10000])
    assert 1 not in out and len(out) == 2
    ec = m.add_simple_rule("ec", "default", "host", mode="indep", rule_type="erasure")
    res = m.do_rule(ec, 1, 4, [0x10000, 0x10000, 0x10000, 0x10000])
    assert len(res) == 4 and res.count(CRUSH_ITEM_NONE) == 1
    assert m.do_rule(42, 1, 3) == []


def test_simple_rule_dumps() -> None:
    m = CrushMap.new_default(chooseleaf_type="osd")
    d = m.rule_dump(0)
    assert d == {
        "rule_id": 0,
        "rule_name": "replicated_rule",
        "ruleset": 0,
        "type": 1,
        "min_size": 1,
        "max_size": 10,
        "steps": [
            {"op": "take", "item": -1, "item_name": "default"},
            {"op": "choose_firstn", "num": 0, "type": "osd"},
            {"op": "emit"},
        ],
    }
    ec = m.add_simple_rule("ecr", "default", "host", "indep", "erasure")
    steps = [s["op"] for s in m.rule_dump(ec)["steps"]]
    assert steps == ["set_chooseleaf_tries", "set_choose_tries", "take", "chooseleaf_indep", "emit"]
    dump = m.dump()
    assert list(dump) == ["devices", "types", "buckets", "rules", "tunables", "choose_args"]
    t = dump["tunables"]
    assert t["profile"] == "jewel" and t["optimal_tunables"] == 1
    assert t["minimum_required_version"] == "jewel" and t["has_v4_buckets"] == 1
    assert t["has_v2_rules"] == 1


def test_tree_nodes_like_osd_tree() -> None:
    m = CrushMap.new_default()
    for osd in (2, 0, 1):
        m.add_osd(osd, 642 / 65536, {"host": "vm", "root": "default"})
        m.set_item_class(osd, "hdd")
    nodes = m.tree_nodes()
    assert [n["id"] for n in nodes] == [-1, -2, 0, 1, 2]
    assert nodes[1]["children"] == [2, 1, 0]
    assert nodes[2] == {
        "id": 0,
        "device_class": "hdd",
        "name": "osd.0",
        "type": "osd",
        "type_id": 0,
        "crush_weight": 0.009796142578125,
        "depth": 2,
    }


def test_encode_decode_roundtrip() -> None:
    m = _cluster()
    m.add_simple_rule("ec", "default", "host", "indep", "erasure")
    data = m.encode()
    m2 = CrushMap.decode(data)
    assert m2.encode() == data
    assert decompile(m2) == decompile(m)
    for x in range(50):
        assert m2.do_rule(1, x, 4) == m.do_rule(1, x, 4)
    with pytest.raises(CrushError):
        CrushMap.decode(b"junk")
    with pytest.raises(CrushError):
        CrushMap.decode(data[:40])


def test_compile_errors() -> None:
    text = (DATA / "three.txt").read_text()
    bad = text.replace("step emit", "step emit\n\tstep bogus", 1)
    with pytest.raises(CompileError) as e:
        compile_text(bad, "x.txt")
    assert str(e.value).startswith("x.txt:")
    assert "error: parse error at" in str(e.value)
    with pytest.raises(CompileError, match="item 'osd.7' in bucket 'node0' is not defined"):
        compile_text(text.replace("item osd.0", "item osd.7"))
    with pytest.raises(CompileError, match="bucket type 'hots' is not defined"):
        compile_text(text.replace("host node1", "hots node1"))
    with pytest.raises(CompileError, match="in rule 'replicated_rule' type 'rak' not defined"):
        compile_text(text.replace("type host\n", "type rak\n"))


def test_parse_error_location_like_upstream() -> None:
    # upstream reports the end of the last statement it could parse
    src = "device 0 osd.0\ntype 0 osd\nrule r {\n\tid 0\n\ttype replicated\n\tstep emit\n}\n"
    with pytest.raises(CompileError) as e:
        compile_text(src, "m.txt")
    assert str(e.value) == "m.txt:2 error: parse error at ''"


def test_tool_errors(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert _run("crushtool", [], out, err) == 1
    assert err.getvalue() == "crushtool: -h or --help for usage\n"
    err = io.StringIO()
    assert _run("crushtool", ["--bogus"], out, err) == 1
    assert err.getvalue() == "no action specified; -h for help\n"
    err = io.StringIO()
    missing = str(tmp_path / "nope.bin")
    assert _run("crushtool", ["-i", missing, "--test", "--show-mappings"], out, err) == 1
    assert f"error reading '{missing}'" in err.getvalue()
    err = io.StringIO()
    assert _run("crushtool", ["-c", missing], out, err) == 254
    assert err.getvalue() == f"input file {missing} not found\n"
    err = io.StringIO()
    assert _run("crushtool", ["--build", "--num_osds", "3", "host", "foo", "1"], out, err) == 1
    assert err.getvalue() == "unknown bucket type 'foo'\n\n"


def test_tool_build_compile_roundtrip(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    binf = tmp_path / "b.bin"
    args = ["--build", "--num_osds", "10", "host", "straw2", "2", "root", "straw2", "0"]
    assert _run("crushtool", [*args, "-o", str(binf)], out, err) == 0
    txt = tmp_path / "b.txt"
    assert _run("crushtool", ["-d", str(binf), "-o", str(txt)], out, err) == 0
    assert "step chooseleaf firstn 0 type host" in txt.read_text()
    out = io.StringIO()
    assert (
        _run(
            "crushtool",
            ["-c", str(txt), "--test", "--show-mappings", "--x", "0", "--num-rep", "3"],
            out,
            err,
        )
        == 0
    )
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(
        "successfully built or modified map.  Use '-o <file>' to write it out."
    )
    # matches upstream: crushtool --build ... then --test -x 0 gives [8,6,2]
    assert lines[1] == "CRUSH rule 0 x 0 [8,6,2]"
    out = io.StringIO()
    assert (
        _run(
            "crushtool",
            ["-i", str(binf), "--reweight-item", "osd.0", "2.5", "-o", str(binf)],
            out,
            err,
        )
        == 0
    )
    assert out.getvalue() == "crushtool reweighting item osd.0 to 2.5\n"
    assert CrushMap.decode(binf.read_bytes()).get_bucket_weight(-1) == 0x38000
