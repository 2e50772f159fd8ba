"""`osd crush set osd.N WEIGHT LOC...`: moves an OSD to a location (making missing
buckets) with a weight; bad input is refused and changes nothing."""

from __future__ import annotations

import errno

from tests.unit.test_mon_commands import js, make_state, run


def test_crush_set_moves_an_osd_to_its_own_host() -> None:
    s = make_state()
    r = run(s, {"prefix": "osd crush set", "id": "osd.2", "weight": 0.5,
                "args": ["root=default", "host=hostb"]})  # fmt: skip
    assert r.ret == 0, r.outs
    assert r.outs == "set item id 2 name 'osd.2' weight 0.5 at location " \
        "{host=hostb,root=default} to crush map"  # fmt: skip
    nodes = {n["name"]: n for n in js(s, {"prefix": "osd tree"})["nodes"]}
    assert nodes["hostb"]["children"] == [2]
    assert nodes["osd.2"]["crush_weight"] == 0.5
    assert 2 not in nodes["h2"].get("children", [])  # left the host it booted into


def test_crush_set_refuses_bad_input_and_changes_nothing() -> None:
    s = make_state()
    before = js(s, {"prefix": "osd crush dump"})
    r = run(s, {"prefix": "osd crush set", "id": "osd.7", "weight": 1.0, "args": ["root=default"]})
    assert r.ret == -errno.ENOENT
    assert r.outs == "osd.7 does not exist. Create it before updating the crush map"
    r = run(s, {"prefix": "osd crush set", "id": "osd.1", "weight": 1.0,
                "args": ["nosuchtype=x", "root=default"]})  # fmt: skip
    assert r.ret == -errno.EINVAL
    r = run(s, {"prefix": "osd crush set", "id": "osd.1", "weight": 1.0,
                "args": ["host=default"]})  # fmt: skip
    assert r.ret == -errno.EINVAL  # 'default' is a root, not a host
    assert js(s, {"prefix": "osd crush dump"}) == before
