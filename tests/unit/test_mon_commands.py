"""Monitor commands: upstream output keys (vs real 16.2.15 samples), errnos, no-change on error."""

from __future__ import annotations

import errno
import json
import random
from pathlib import Path
from typing import Any

import pytest

from pyceph.mon.state import MonState

SAMPLES = Path(__file__).parent / "data" / "samples"
FSID = "90a5bc37-9d49-4497-bd9f-506c05dafa54"
T0 = 1795322000.0


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def make_state(opts: dict[str, Any] | None = None, osds: int = 3) -> MonState:
    o = dict(opts or {})
    s = MonState.create(FSID, "a", "127.0.0.1:3300", T0, o.get, admin_key="AQBzaW1wbGVrZXk=")
    s.rand_bytes = random.Random(7).randbytes  # the daemon gives its runtime's
    s.commit_pending(T0)
    for i in range(osds):
        s.osd_boot(i, f"00000000-0000-0000-0000-00000000000{i}", f"127.0.0.1:68{i}0/{i}",
                   f"127.0.0.1:68{i}1/{i}", f"127.0.0.1:68{i}2/{i}", {"hostname": f"h{i}"},
                   10 << 30, T0 + 1)  # fmt: skip
    s.commit_pending(T0 + 1)
    s.mgr_beacon("x", "127.0.0.1:6800/1", True, ["restful"], {}, None, T0 + 2)
    s.commit_pending(T0 + 2)
    return s


def run(s: MonState, cmd: dict[str, Any], inbuf: bytes = b"", now: float = T0 + 10):
    r = s.handle_command(cmd, inbuf, "client.admin", None, now)
    s.commit_pending(now)
    return r


def js(s: MonState, cmd: dict[str, Any]) -> Any:
    r = run(s, {**cmd, "format": "json"})
    assert r.ret == 0, r.outs
    return json.loads(r.outbuf)


def keys_match(ours: Any, ref: Any, path: str = "") -> None:
    """Same dict keys in the same order, recursively (first element of lists)."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict), path
        if path.endswith(("checks", "services", "application_metadata", "blocklist",
                          "erasure_code_profiles", "stats_by_class", "mon", "mgr", "osd",
                          "overall", "options")):  # fmt: skip
            return  # data-dependent keys
        assert list(ours) == list(ref), f"{path}: {list(ours)} != {list(ref)}"
        for k in ref:
            keys_match(ours[k], ref[k], f"{path}.{k}")
    elif isinstance(ref, list) and ref and ours:
        keys_match(ours[0], ref[0], path + "[0]")


@pytest.fixture
def st() -> MonState:
    s = make_state({"mon_allow_pool_delete": True})
    assert run(s, {"prefix": "osd pool create", "pool": "samples_rbd", "pg_num": 8}).ret == 0
    run(s, {"prefix": "osd pool application enable", "pool": "samples_rbd", "app": "rbd"})
    return s


SAMPLE_CMDS = [
    ("ceph-osd-dump.json", {"prefix": "osd dump"}),
    ("ceph-osd-tree.json", {"prefix": "osd tree"}),
    ("ceph-osd-stat.json", {"prefix": "osd stat"}),
    ("ceph-osd-pool-ls-detail.json", {"prefix": "osd pool ls", "detail": "detail"}),
    ("ceph-mon-dump.json", {"prefix": "mon dump"}),
    ("ceph-quorum-status.json", {"prefix": "quorum_status"}),
    ("ceph-fsid.json", {"prefix": "fsid"}),
    ("ceph-versions.json", {"prefix": "versions"}),
    ("ceph-health-detail.json", {"prefix": "health", "detail": "detail"}),
    ("ceph-osd-crush-rule-dump.json", {"prefix": "osd crush rule dump"}),
    ("ceph-osd-pool-get-samples_rbd-all.json",
     {"prefix": "osd pool get", "pool": "samples_rbd", "var": "all"}),
]  # fmt: skip


@pytest.mark.parametrize("name,cmd", SAMPLE_CMDS, ids=[n for n, _ in SAMPLE_CMDS])
def test_json_keys_match_samples(st: MonState, name: str, cmd: dict[str, Any]) -> None:
    keys_match(js(st, cmd), sample(name))


def test_status_and_df_keys_with_digest(st: MonState) -> None:
    st.set_mgr_digest(
        {
            "pg_stats": {f"1.{i:x}": {"state": "active+clean", "num_objects": 1} for i in range(8)},
            "osd_stats": {
                str(i): {"kb": 10 << 20, "kb_used": 1 << 20, "kb_avail": 9 << 20} for i in range(3)
            },  # fmt: skip
            "pool_stats": {"1": {"num_objects": 8, "num_bytes": 8192, "stored": 8192}},
        }
    )
    keys_match(js(st, {"prefix": "status"}), sample("ceph-status.json"))
    keys_match(js(st, {"prefix": "df"}), sample("ceph-df.json"))
    keys_match(js(st, {"prefix": "df", "detail": "detail"}), sample("ceph-df-detail.json"))
    text = run(st, {"prefix": "status"}).outbuf.decode()
    assert "health: HEALTH_OK" in text and "8 active+clean" in text
    assert "usage:   3 GiB used, 27 GiB / 30 GiB avail" in text
    df = run(st, {"prefix": "df"}).outbuf.decode()
    assert df.startswith("--- RAW STORAGE ---\nCLASS") and "samples_rbd" in df


def test_json_pretty_is_byte_exact_formatter(st: MonState) -> None:
    r = run(st, {"prefix": "fsid", "format": "json-pretty"})
    assert r.outbuf == (SAMPLES / "ceph-fsid.json").read_bytes().strip()
    assert run(st, {"prefix": "fsid", "format": "json"}).outbuf == f'{{"fsid":"{FSID}"}}'.encode()


def test_plain_renderings(st: MonState) -> None:
    tree = run(st, {"prefix": "osd tree"}).outbuf.decode().splitlines()
    assert tree[0] == "ID  CLASS  WEIGHT   TYPE NAME      STATUS  REWEIGHT  PRI-AFF"
    assert tree[-1].endswith("osd.2      up   1.00000  1.00000")
    ls = run(st, {"prefix": "osd pool ls", "detail": "detail"}).outbuf.decode()
    assert ls.startswith("pool 1 'samples_rbd' replicated size 3 min_size 2 crush_rule 0 "
                         "object_hash rjenkins pg_num 8 pgp_num 8 autoscale_mode on last_change")  # fmt: skip
    assert ls.endswith("flags hashpspool stripe_width 0 application rbd\n\n")
    assert (
        run(st, {"prefix": "osd stat"}).outbuf.decode().startswith("3 osds: 3 up (since 9s), 3 in")
    )
    mon = run(st, {"prefix": "mon dump"})
    assert mon.outbuf.decode().splitlines()[-1] == "0: [v2:127.0.0.1:3300/0] mon.a"
    # PGs no mgr has reported yet are not stuck: inactive counts only past
    # mon_pg_stuck_threshold (upstream PGMap::get_health_checks)
    h = run(st, {"prefix": "health"}).outbuf
    assert h == b"HEALTH_OK\n"


def snap(s: MonState) -> dict[str, bytes]:
    d = s.snapshot()
    d.pop("log")
    d["pending"] = s.pending_osdmap.encode()
    return d


ERRORS = [
    ({"prefix": "osd pool create", "pool": "x", "pg_num": 100000}, errno.ERANGE,
     "'pg_num' must be greater than 0 and less than or equal to 65536 (you may adjust "
     "'mon max pool pg num' for higher values)"),
    ({"prefix": "osd pool create", "pool": "x", "pg_num": 8, "pgp_num": 16}, errno.ERANGE,
     "'pgp_num' must be greater than 0 and lower or equal than 'pg_num', which in this case is 8"),
    ({"prefix": "osd pool create", "pool": "x", "pg_num": 1024}, errno.ERANGE,
     " pg_num 1024 size 3 would mean 3096 total pgs, which exceeds max 750 "
     "(mon_max_pg_per_osd 250 * num_in_osds 3)"),
    ({"prefix": "osd pool create", "pool": "samples_rbd", "pool_type": "erasure"}, errno.EINVAL,
     "pool 'samples_rbd' cannot change to type erasure"),
    ({"prefix": "osd pool delete", "pool": "samples_rbd"}, errno.EPERM,
     "WARNING: this will *PERMANENTLY DESTROY* all data stored in pool samples_rbd.  If you are "
     "*ABSOLUTELY CERTAIN* that is what you want, pass the pool name *twice*, followed by "
     "--yes-i-really-really-mean-it."),
    ({"prefix": "osd pool set", "pool": "nope", "var": "size", "val": "2"}, errno.ENOENT,
     "unrecognized pool 'nope'"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "size", "val": "11"}, errno.EINVAL,
     "pool size must be between 1 and 10"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "size", "val": "abc"}, errno.EINVAL,
     "error parsing integer value 'abc': strict_strtoll: expected integer, got: 'abc'"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "size", "val": "1"}, errno.EPERM,
     "configuring pool size as 1 is disabled by default."),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "min_size", "val": "4"},
     errno.EINVAL, "pool min_size must be between 1 and size, which is set to 3"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "pg_num", "val": "0"}, errno.EINVAL,
     "specified pg_num 0 <= 0"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "pg_num_actual", "val": "7"},
     errno.EINVAL, "specified pg_num 7 < pgp_num 8"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "pgp_num_actual", "val": "9"},
     errno.EINVAL, "specified pgp_num 9 > pg_num 8"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "pgp_num", "val": "9"},
     errno.EINVAL, "specified pgp_num 9 > pg_num 8"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "crush_rule", "val": "zz"},
     errno.ENOENT, "crush rule zz does not exist"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "nodelete", "val": "maybe"},
     errno.EINVAL, "expecting value 'true', 'false', '0', or '1'"),
    ({"prefix": "osd pool set", "pool": "samples_rbd", "var": "hashpspool", "val": "false"},
     errno.EPERM, "are you SURE?  this will remap all placement groups in this pool, this "
     "triggers large data movement, pass --yes-i-really-mean-it if you really do."),
    ({"prefix": "osd pool get", "pool": "samples_rbd", "var": "erasure_code_profile"},
     errno.EACCES, "pool 'samples_rbd' is not a erasure pool: variable not applicable"),
    ({"prefix": "osd pool rename", "srcpool": "nope", "destpool": "x"}, errno.ENOENT,
     "unrecognized pool 'nope'"),
    ({"prefix": "osd pool application set", "pool": "samples_rbd", "app": "cephfs", "key": "a",
      "value": "b"}, errno.ENOENT, "application 'cephfs' is not enabled on pool 'samples_rbd'"),
    ({"prefix": "osd pool application enable", "pool": "samples_rbd", "app": "rgw"}, errno.EPERM,
     "Are you SURE? Pool 'samples_rbd' already has an enabled application; pass "
     "--yes-i-really-mean-it to proceed anyway"),
    ({"prefix": "osd erasure-code-profile get", "name": "nope"}, errno.ENOENT,
     "unknown erasure code profile 'nope'"),
    ({"prefix": "osd crush rule dump", "name": "nope"}, errno.ENOENT,
     "unknown crush rule 'nope'"),
    ({"prefix": "mon dump", "epoch": 7}, errno.ENOENT, "there is no map for epoch 7"),
    ({"prefix": "auth get", "entity": "client.nope"}, errno.ENOENT,
     "failed to find client.nope in keyring"),
    ({"prefix": "auth get-or-create", "entity": "client.x", "caps": ["mon"]}, errno.EINVAL,
     "bad capabilities request; odd number of arguments"),
    ({"prefix": "config-key get", "key": "nope"}, errno.ENOENT,
     "error obtaining 'nope': (2) No such file or directory"),
    ({"prefix": "osd down", "ids": ["abc"]}, errno.EINVAL,
     "Expected option value to be integer, got 'abc'invalid osd id-1"),
    ({"prefix": "no such command"}, errno.EINVAL, None),
]  # fmt: skip


@pytest.mark.parametrize("cmd,err,outs", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors_change_nothing(
    st: MonState, cmd: dict[str, Any], err: int, outs: str | None
) -> None:
    before = snap(st)
    r = run(st, cmd)
    assert r.ret == -err, r.outs
    if outs is not None:
        assert r.outs == outs
    assert r.outbuf == b""
    assert snap(st) == before


def test_pool_create_exists_and_delete_protections(st: MonState) -> None:
    r = run(st, {"prefix": "osd pool create", "pool": "samples_rbd"})
    assert (r.ret, r.outs, r.changed) == (0, "pool 'samples_rbd' already exists", set())
    s2 = make_state()
    run(s2, {"prefix": "osd pool create", "pool": "p", "pg_num": 8})
    r = run(s2, {"prefix": "osd pool rm", "pool": "p", "pool2": "p",
                 "yes_i_really_really_mean_it": True})  # fmt: skip
    assert r.ret == -errno.EPERM and r.outs.startswith("pool deletion is disabled; you must first")
    run(st, {"prefix": "osd pool set", "pool": "samples_rbd", "var": "nodelete", "val": "true"})
    rm = {"prefix": "osd pool rm", "pool": "samples_rbd", "pool2": "samples_rbd",
          "yes_i_really_really_mean_it": True}  # fmt: skip
    r = run(st, rm)
    assert (r.ret, r.outs) == (-errno.EPERM, "pool deletion is disabled; you must unset "
                                            "nodelete flag for the pool first")  # fmt: skip
    run(st, {"prefix": "osd pool set", "pool": "samples_rbd", "var": "nodelete", "val": "0"})
    r = run(st, rm)
    assert (r.ret, r.outs) == (0, "pool 'samples_rbd' removed")
    assert st.osdmap.lookup_pool("samples_rbd") == -1
    assert run(st, rm).outs == "pool 'samples_rbd' does not exist"


def test_pool_set_size_min_size_and_size_one(st: MonState) -> None:
    e0 = st.osdmap.epoch
    r = run(st, {"prefix": "osd pool set", "pool": "samples_rbd", "var": "size", "val": "2"})
    assert (r.ret, r.outs) == (0, "set pool 1 size to 2")
    p = st.osdmap.pools[1]
    assert (p.size, p.min_size, p.last_change, st.osdmap.epoch) == (2, 1, e0 + 1, e0 + 1)
    s = make_state({"mon_allow_pool_size_one": True})
    run(s, {"prefix": "osd pool create", "pool": "p", "pg_num": 8})
    cmd = {"prefix": "osd pool set", "pool": "p", "var": "size", "val": "1"}
    assert run(s, cmd).outs.startswith("WARNING: setting pool size 1 could lead to data loss")
    assert run(s, {**cmd, "yes_i_really_mean_it": True}).ret == 0
    assert js(s, {"prefix": "health"})["checks"]["POOL_NO_REDUNDANCY"]["summary"] == {
        "message": "1 pool(s) have no replicas configured", "count": 1}  # fmt: skip


def test_osd_in_out_down_and_flags(st: MonState) -> None:
    r = run(st, {"prefix": "osd out", "ids": ["7"]})
    assert (r.ret, r.outs, r.changed) == (0, "osd.7 does not exist. ", set())
    r = run(st, {"prefix": "osd out", "ids": ["osd.1"]})
    assert (r.ret, r.outs) == (0, "marked out osd.1. ")
    assert not st.osdmap.is_in(1)
    assert run(st, {"prefix": "osd out", "ids": ["1"]}).outs == "osd.1 is already out. "
    assert run(st, {"prefix": "osd in", "ids": ["any"]}).outs == "marked in osd.1. "
    assert st.osdmap.is_in(1)
    r = run(st, {"prefix": "osd down", "ids": ["0", "9"]})
    assert r.outs == "marked down osd.0. osd.9 does not exist. "
    assert not st.osdmap.is_up(0)
    r = run(st, {"prefix": "osd set", "key": "noout"})
    assert (r.ret, r.outs) == (0, "noout is set")
    assert "noout" in st.osdmap.dump()["flags_set"]
    h = js(st, {"prefix": "health"})["checks"]
    assert h["OSDMAP_FLAGS"]["summary"] == {"message": "noout flag(s) set", "count": 5}
    assert h["OSD_DOWN"]["summary"]["message"] == "1 osds down"
    assert run(st, {"prefix": "osd set", "key": "pause"}).outs == "pauserd,pausewr is set"
    assert run(st, {"prefix": "osd unset", "key": "noout"}).outs == "noout is unset"
    assert "noout" not in st.osdmap.dump()["flags_set"]


def test_failure_reports_tick_and_auto_in() -> None:
    s = make_state({"mon_osd_min_down_reporters": 2, "mon_osd_down_out_interval": 600})
    assert not s.osd_failure(0, 1, 25.0, T0 + 20)
    assert s.osd_failure(0, 2, 25.0, T0 + 21)
    s.commit_pending(T0 + 21)
    assert not s.osdmap.is_up(0) and s.osdmap.is_in(0)
    s.tick(T0 + 300)
    assert s.pending_osdmap.is_in(0)
    assert s.tick(T0 + 700)
    s.commit_pending(T0 + 700)
    assert not s.osdmap.is_in(0)
    assert s.osd_boot(0, "00000000-0000-0000-0000-000000000000", "127.0.0.1:7000/9",
                      "127.0.0.1:7001/9", "127.0.0.1:7002/9", {"hostname": "h0"}, 10 << 30,
                      T0 + 800)  # fmt: skip
    s.commit_pending(T0 + 800)
    assert s.osdmap.is_up(0) and s.osdmap.is_in(0)


def test_osd_map_and_pg_map(st: MonState) -> None:
    d = js(st, {"prefix": "osd map", "pool": "samples_rbd", "object": "foo"})
    assert list(d) == ["epoch", "pool", "pool_id", "objname", "raw_pgid", "pgid", "up",
                       "up_primary", "acting", "acting_primary"]  # fmt: skip
    assert d["raw_pgid"] == "1.7fc1f406" and d["pgid"] == "1.6"
    assert js(st, {"prefix": "pg map", "pgid": "1.6"})["up"] == d["up"]


def test_pool_snaps_and_apps(st: MonState) -> None:
    r = run(st, {"prefix": "osd pool mksnap", "pool": "samples_rbd", "snap": "s1"})
    assert r.outs == "created pool samples_rbd snap s1"
    assert run(st, {"prefix": "osd pool mksnap", "pool": "samples_rbd", "snap": "s1"}).outs == (
        "pool samples_rbd snap s1 already exists"
    )
    p = st.osdmap.pools[1]
    assert p.snap_seq == 1 and p.pool_snaps[1][0] == "s1" and "pool_snaps" in p.flags_names()
    assert run(st, {"prefix": "osd pool rmsnap", "pool": "samples_rbd", "snap": "s1"}).outs == (
        "removed pool samples_rbd snap s1"
    )
    assert st.osdmap.pools[1].snap_seq == 2
    r = run(st, {"prefix": "osd pool application set", "pool": "samples_rbd", "app": "rbd",
                 "key": "k", "value": "v"})  # fmt: skip
    assert r.outs == "set application 'rbd' key 'k' to 'v' on pool 'samples_rbd'"
    assert js(st, {"prefix": "osd pool application get", "pool": "samples_rbd"}) == {
        "rbd": {"k": "v"}
    }


def test_auth_keyring_output(st: MonState) -> None:
    r = run(st, {"prefix": "auth get-or-create", "entity": "client.foo",
                 "caps": ["mon", "allow r", "osd", "allow rw pool=x"]})  # fmt: skip
    text = r.outbuf.decode()
    key = st.auth["client.foo"]["key"]
    # Ceph 16.2.15 prints the key alone in plain (caps only in JSON)
    assert text == f"[client.foo]\n\tkey = {key}\n"
    again = run(st, {"prefix": "auth get-or-create", "entity": "client.foo"})
    assert again.outbuf == r.outbuf and again.changed == set()
    bad = run(
        st, {"prefix": "auth get-or-create", "entity": "client.foo", "caps": ["mon", "allow *"]}
    )
    assert (bad.ret, bad.outs) == (
        -errno.EINVAL,
        "key for client.foo exists but cap mon does not match",
    )
    assert js(st, {"prefix": "auth get", "entity": "client.foo"})[0]["caps"]["mon"] == "allow r"
    assert run(st, {"prefix": "auth get-key", "entity": "client.foo"}).outbuf == key.encode()
    assert run(st, {"prefix": "auth rm", "entity": "client.foo"}).ret == 0
    assert st.get_auth("client.foo") is None


def test_config_and_config_key(st: MonState) -> None:
    assert run(st, {"prefix": "config set", "who": "mgr", "name": "mgr/dashboard/ssl",
                    "value": "false"}).ret == 0  # fmt: skip
    keys_match(js(st, {"prefix": "config dump"}), sample("ceph-config-dump.json"))
    assert (
        run(st, {"prefix": "config get", "who": "mgr.x", "key": "mgr/dashboard/ssl"}).outbuf
        == b"false\n"
    )
    assert run(st, {"prefix": "config-key set", "key": "a/b", "val": "v"}).outs == "set a/b"
    run(st, {"prefix": "config-key set", "key": "bin"}, inbuf=b"\x00\xff")
    assert run(st, {"prefix": "config-key get", "key": "bin"}).outbuf == b"\x00\xff"
    assert js(st, {"prefix": "config-key ls"}) == ["a/b", "bin"]
    assert run(st, {"prefix": "config-key exists", "key": "a/b"}).ret == 0
    assert run(st, {"prefix": "config-key rm", "key": "a/b"}).changed >= {"config-key"}


def test_mgr_commands_are_forwarded(st: MonState) -> None:
    r = run(st, {"prefix": "pg dump"})
    assert r.forward_to_mgr and r.ret == 0


def test_new_cluster_enables_mgr_initial_modules() -> None:
    assert make_state().mgrmap["modules"] == ["iostat", "nfs", "restful"]  # upstream's default
    assert make_state({"mgr_initial_modules": "iostat, prometheus"}).mgrmap["modules"] == [
        "iostat",
        "prometheus",
    ]
    assert make_state({"mgr_initial_modules": ""}).mgrmap["modules"] == []


def test_full_osd_sets_pool_full_flag(st: MonState) -> None:
    from pyceph.osdmap.pool import FLAG_FULL

    assert st.set_mgr_digest({"osd_stats": {"0": {"kb": 100, "kb_used": 96, "kb_avail": 4}}})
    st.commit_pending(T0 + 20)
    assert st.osdmap.pools[1].flags & FLAG_FULL
    checks = js(st, {"prefix": "health"})["checks"]
    assert checks["OSD_FULL"]["severity"] == "HEALTH_ERR"
    assert checks["POOL_FULL"]["summary"]["message"] == "1 pool(s) full"


def test_snapshot_restore_roundtrip(st: MonState) -> None:
    run(st, {"prefix": "osd blocklist", "blocklistop": "add", "addr": "1.2.3.4:0/5"})
    run(st, {"prefix": "log", "logtext": ["hello", "world"]})
    data = st.snapshot()
    s2 = MonState.restore(data, {}.get)
    assert s2.snapshot() == data
    assert s2.osdmap.dump() == st.osdmap.dump()
    assert js(s2, {"prefix": "log last", "num": 1})[0]["message"] == "hello world"
    assert js(s2, {"prefix": "osd dump", "epoch": 2})["epoch"] == 2
