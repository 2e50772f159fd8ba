"""`osd rm`, `osd destroy-actual|purge-actual|purge-new`, `osd new` on a MonState:
upstream 16.2.15's messages and errnos (recorded against the reference cluster), and a
refused command changes nothing."""

from __future__ import annotations

import errno
import json
from typing import Any

from pyceph.common.keyring import generate_secret
from pyceph.mon.state import MonState

from .test_mon_commands import make_state, run

UUID = "11111111-2222-3333-4444-555555555555"


def snap(s: MonState) -> tuple[Any, ...]:
    return (s.osdmap.epoch, dict(s.auth), dict(s.config_key), s.osdmap.encode())


def down(s: MonState, *ids: int) -> None:
    for i in ids:
        s.osd_mark_down_self(i, 5.0)
    s.commit_pending()


def test_osd_rm_refuses_up_osds_and_notes_missing_ones() -> None:
    s = make_state()
    before = snap(s)
    r = run(s, {"prefix": "osd rm", "ids": ["0"]})
    assert (r.ret, r.outs) == (-errno.EBUSY, "osd.0 is still up; must be down before removal. ")
    r = run(s, {"prefix": "osd rm", "ids": ["0", "1"]})
    assert r.ret == -errno.EBUSY
    assert r.outs == ("osd.0 is still up; must be down before removal. "
                      "osd.1 is still up; must be down before removal. ")  # fmt: skip
    r = run(s, {"prefix": "osd rm", "ids": ["foo"]})
    assert r.ret == -errno.EINVAL
    assert r.outs == "Expected option value to be integer, got 'foo'invalid osd id-1"
    r = run(s, {"prefix": "osd rm", "ids": ["9"]})
    assert (r.ret, r.outs) == (0, "osd.9 does not exist. ")
    assert snap(s) == before
    down(s, 2)
    r = run(s, {"prefix": "osd rm", "ids": ["2"]})
    assert (r.ret, r.outs) == (0, "removed osd.2")
    assert not s.osdmap.exists(2)
    assert 2 in s.osdmap.crush.devices  # osd rm leaves the crush item, as upstream


def test_destroy_needs_sure_and_down_and_keeps_the_id() -> None:
    s = make_state()
    s.auth_add("osd.1", generate_secret(), {"mon": "allow profile osd"})
    uuid = s.osdmap.osds[1].uuid
    s.config_key[f"dm-crypt/osd/{uuid}/luks"] = b"k"
    s.config_key["daemon-private/osd.1/x"] = b"y"
    s.config_key["other"] = b"z"
    s.commit_pending()
    before = snap(s)
    r = run(s, {"prefix": "osd destroy-actual", "id": 1})
    assert r.ret == -errno.EPERM and r.outs.startswith("Are you SURE?  Did you verify")
    r = run(s, {"prefix": "osd destroy-actual", "id": 1, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (-errno.EBUSY, "osd.1 is not `down`.")
    assert snap(s) == before
    down(s, 1)
    r = run(s, {"prefix": "osd destroy-actual", "id": 1, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (0, "destroyed osd.1")
    o = s.osdmap.osds[1]
    assert o.exists and o.destroyed and o.uuid.startswith("00000000")
    assert "osd.1" not in s.auth
    assert list(s.config_key) == ["other"]
    r = run(s, {"prefix": "osd destroy-actual", "id": 1, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (0, "destroyed osd.1")
    r = run(s, {"prefix": "osd destroy-actual", "id": 9, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (0, "osd.9 does not exist")
    # the destroyed id is reused by `osd new UUID ID`, out until it boots
    r = run(s, {"prefix": "osd new", "uuid": UUID, "id": 1})
    assert (r.ret, r.outbuf) == (0, b"1")
    o = s.osdmap.osds[1]
    assert not o.destroyed and o.uuid == UUID and not o.is_in


def test_purge_removes_crush_auth_and_slot() -> None:
    s = make_state()
    s.auth_add("osd.2", generate_secret(), {"mon": "allow profile osd"})
    s.commit_pending()
    down(s, 2)
    r = run(s, {"prefix": "osd purge-new", "id": 2, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (-errno.EPERM, "osd.2 is not new")
    r = run(s, {"prefix": "osd purge-actual", "id": 2, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (0, "purged osd.2")
    assert not s.osdmap.exists(2) and 2 not in s.osdmap.crush.devices
    assert "osd.2" not in s.auth
    assert [n["id"] for n in s.osdmap.tree()["nodes"] if n["id"] >= 0] == [0, 1]
    r = run(s, {"prefix": "osd purge-actual", "id": 2, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (0, "osd.2 does not exist")


def test_osd_new_is_idempotent_and_checks_ids() -> None:
    s = make_state()
    r = run(s, {"prefix": "osd new", "uuid": UUID})
    assert (r.ret, r.outbuf) == (0, b"3")
    o = s.osdmap.osds[3]
    assert (o.uuid, o.up, o.is_in, s.osdmap.max_osd) == (UUID, False, True, 4)
    e = s.osdmap.epoch
    r = run(s, {"prefix": "osd new", "uuid": UUID})
    assert (r.ret, r.outbuf, s.osdmap.epoch) == (0, b"3", e)
    r = run(s, {"prefix": "osd new", "uuid": UUID, "id": 5})
    assert (r.ret, r.outs) == (-errno.EEXIST, f"uuid {UUID} already in use for different id 3")
    other = "22222222-2222-3333-4444-555555555555"
    r = run(s, {"prefix": "osd new", "uuid": other, "id": 0})
    assert (r.ret, r.outs) == (
        -errno.EINVAL,
        f"id 0 already in use and does not match uuid {other}",
    )
    r = run(s, {"prefix": "osd new", "uuid": other, "format": "json"})
    assert json.loads(r.outbuf) == {"osdid": 4}
    # a new OSD never booted: purge-new takes it
    r = run(s, {"prefix": "osd purge-new", "id": 3, "yes_i_really_mean_it": True})
    assert (r.ret, r.outs) == (0, "purged osd.3")
    # with a cephx secret: the entity is made with the osd profile
    key = generate_secret()
    third = "33333333-2222-3333-4444-555555555555"
    r = run(s, {"prefix": "osd new", "uuid": third}, json.dumps({"cephx_secret": key}).encode())
    assert (r.ret, r.outbuf) == (0, b"3")
    assert s.get_auth("osd.3") == (key, {"mgr": "allow profile osd", "mon": "allow profile osd",
                                         "osd": "allow *"})  # fmt: skip
    before = snap(s)
    r = run(
        s,
        {"prefix": "osd new", "uuid": third},
        json.dumps({"cephx_secret": generate_secret()}).encode(),
    )
    assert (r.ret, r.outs) == (-errno.EEXIST, "osd.3 exists but secrets do not match")
    assert snap(s) == before
