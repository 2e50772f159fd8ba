"""The sans-I/O scrub logic: map comparison, authoritative copy, repair plan, schedule."""

from __future__ import annotations

import calendar

from pyceph.osd.ops import OI_ATTR, ObjectInfo
from pyceph.osd.scrub import (
    ScrubObject,
    ScrubOptions,
    ScrubResult,
    ScrubState,
    compare_maps,
    ec_inconsistent_shards,
    map_from_wire,
    map_to_wire,
    scrub_due,
)
from pyceph.store.types import HEAD

OID = ("", "obj", "", HEAD)


def copy(size: int = 4, digest: int | None = 0x1234, version: int = 7, **kw) -> ScrubObject:
    oi = ObjectInfo(size=size, version=(3, version), user_version=version, mtime=1.0)
    attrs = {OI_ATTR: oi.encode(), "_user": b"v"}
    attrs.update(kw.pop("attrs", {}))
    return ScrubObject(size=size, attrs=attrs, omap_digest=0xFFFFFFFF, data_digest=digest, **kw)


def test_identical_copies_are_consistent():
    maps = {0: {OID: copy()}, 1: {OID: copy()}, 2: {OID: copy()}}
    res = compare_maps(maps, primary=0, pool=1)
    assert res.errors == 0 and res.inconsistents == []


def test_read_error_on_a_replica_picks_primary_and_plans_its_repair():
    maps = {0: {OID: copy()}, 1: {OID: copy(digest=None, read_error=True)}, 2: {OID: copy()}}
    res = compare_maps(maps, primary=0, pool=1)
    (inc,) = res.inconsistents
    j = inc.to_json()
    assert j["object"] == {"name": "obj", "nspace": "", "locator": "", "snap": "head", "version": 7}
    assert j["errors"] == [] and j["union_shard_errors"] == ["read_error"]
    assert [s["osd"] for s in j["shards"]] == [0, 1, 2]
    assert j["shards"][1] == {
        "osd": 1, "primary": False, "errors": ["read_error"], "size": 4,
        "omap_digest": "0xffffffff",
    }  # fmt: skip
    assert j["shards"][0]["data_digest"] == "0x00001234"
    assert j["selected_object_info"]["version"] == "3'7"
    assert res.repair_plan() == [(OID, 0, [1])]
    assert res.errors == 1


def test_bad_primary_copy_loses_to_the_majority_digest():
    maps = {0: {OID: copy(digest=0xBAD)}, 1: {OID: copy()}, 2: {OID: copy()}}
    res = compare_maps(maps, primary=0, pool=1)
    (inc,) = res.inconsistents
    assert inc.auth_osd == 1
    assert inc.to_json()["errors"] == ["data_digest_mismatch"]
    assert res.repair_plan() == [(OID, 1, [0])]


def test_newest_version_is_authoritative_and_attr_differences_are_named():
    maps = {
        0: {OID: copy(version=6, attrs={"_user": b"old"})},
        1: {OID: copy(version=7)},
    }
    res = compare_maps(maps, primary=0, pool=1)
    (inc,) = res.inconsistents
    assert inc.auth_osd == 1
    assert inc.to_json()["errors"] == ["object_info_inconsistency", "attr_value_mismatch"]
    assert res.repair_plan() == [(OID, 1, [0])]


def test_missing_and_extra_copies():
    other = ("", "other", "", HEAD)
    maps = {0: {OID: copy()}, 1: {}, 2: {OID: copy(), other: copy()}}
    res = compare_maps(maps, primary=0, pool=1)
    by_name = {i.oid[1]: i.to_json() for i in res.inconsistents}
    assert by_name["obj"]["union_shard_errors"] == ["missing"]
    assert by_name["obj"]["shards"][1] == {"osd": 1, "primary": False, "errors": ["missing"]}
    assert by_name["other"]["union_shard_errors"] == ["missing"]
    assert sorted(p[2] for p in res.repair_plan()) == [[0, 1], [1]]


def test_size_mismatch_against_object_info():
    maps = {0: {OID: copy()}, 1: {OID: ScrubObject(2, copy().attrs, None, None)}}
    (inc,) = compare_maps(maps, primary=0, pool=1).inconsistents
    j = inc.to_json()
    assert j["errors"] == ["size_mismatch"]
    assert j["shards"][1]["errors"] == ["size_mismatch_info", "obj_size_info_mismatch"]


def test_no_valid_copy_means_nothing_to_repair_from():
    bare = ScrubObject(4, {}, None, None)
    res = compare_maps({0: {OID: bare}, 1: {OID: bare}}, primary=0, pool=1)
    (inc,) = res.inconsistents
    assert inc.auth_osd is None and res.repair_plan() == []
    assert inc.to_json()["union_shard_errors"] == ["info_missing"]


def test_wire_round_trip():
    m = {OID: copy(), ("ns", "o2", "loc", 5): copy(read_error=True)}
    assert map_from_wire(map_to_wire(m)) == m


def test_schedule_follows_intervals_load_and_hours():
    o = ScrubOptions(min_interval=100, max_interval=1000, deep_interval=500)
    noon = float(calendar.timegm((2026, 12, 7, 12, 0, 0)))  # a Monday
    assert scrub_due(o, noon, noon - 50, noon - 50, 0.0) is None
    assert scrub_due(o, noon, noon - 150, noon - 150, 0.0) == "shallow"
    assert scrub_due(o, noon, noon - 150, noon - 600, 0.0) == "deep"
    assert scrub_due(o, noon, noon - 150, noon - 150, 0.9) is None  # too loaded
    assert scrub_due(o, noon, noon - 1500, noon - 150, 0.9) == "shallow"  # overdue
    night = ScrubOptions(min_interval=100, max_interval=1000, begin_hour=22, end_hour=6)
    assert scrub_due(night, noon, noon - 150, noon - 150, 0.0) is None
    midnight = noon + 12 * 3600
    assert scrub_due(night, midnight, midnight - 150, midnight, 0.0) == "shallow"
    weekend = ScrubOptions(min_interval=100, max_interval=1000, begin_week_day=6, end_week_day=0)
    assert scrub_due(weekend, noon, noon - 150, noon - 150, 0.0) is None
    saturday = noon - 2 * 86400
    assert scrub_due(weekend, saturday, saturday - 150, saturday, 0.0) == "shallow"


def test_state_flags_and_stamps():
    st = ScrubState()
    st.active, st.repair = "deep", True
    assert st.state_suffix() == "+scrubbing+deep+repair"
    res = ScrubResult()
    res.errors = 2
    st.finish(res, True, (5, 9), 100.0, 42)
    st.active = None
    assert st.state_suffix() == "+inconsistent"
    assert st.stats()["num_scrub_errors"] == 2 and st.stats()["last_deep_scrub"] == [5, 9]
    assert st.list_inconsistent() == {"epoch": 42, "inconsistents": []}
    st.finish(ScrubResult(), True, (5, 10), 200.0, 43)
    assert st.state_suffix() == "" and st.errors == 0


def _codec(k: int, m: int):
    from pyceph.ec.codec import Codec

    return Codec(
        {"k": str(k), "m": str(m), "plugin": "jerasure", "technique": "reed_sol_van"},
        stripe_unit=64,
    )


def test_ec_check_names_the_lying_shard_when_parity_allows():
    c = _codec(2, 2)
    data = bytes(range(128))
    good = dict(enumerate(c.encode(data)))
    assert ec_inconsistent_shards(c, good, len(data)) == set()
    for victim in good:
        shards = dict(good)
        shards[victim] = bytes(len(good[victim]))
        assert ec_inconsistent_shards(c, shards, len(data)) == {victim}


def test_ec_check_with_one_parity_shard_only_detects():
    c = _codec(2, 1)
    data = bytes(range(128))
    shards = dict(enumerate(c.encode(data)))
    shards[1] = bytes(len(shards[1]))
    assert ec_inconsistent_shards(c, shards, len(data)) == {0, 1, 2}
