"""Command descriptor table, JSON validation (mon side) and CLI word matching."""

from __future__ import annotations

import errno

import pytest

from pyceph.common import cmdargs
from pyceph.common.cmdargs import (
    COMMANDS,
    CommandNotValid,
    argv_to_command,
    command_descriptions,
    make_command,
    match_command,
    parse_signature,
)
from pyceph.common.errors import CephError

MON_VIEW = cmdargs.descs_from_json(command_descriptions("mon"))


def test_every_descriptor_parses_and_roundtrips():
    assert len(COMMANDS) == 348
    for c in COMMANDS:
        assert c.prefix and c.daemon in ("mon", "mgr")
        for a in c.args:
            assert a.type in cmdargs.ARG_TYPES
            assert a.to_json()["name"] == a.name
    prefixes = [c.prefix for c in cmdargs.MON_COMMANDS]
    assert "osd pool create" in prefixes and "pg stat" not in prefixes


def test_parse_signature_details():
    sig = parse_signature(
        "osd pool create name=pool,type=CephPoolname name=pg_num,type=CephInt,range=0,req=false"
    )
    assert sig[:3] == ["osd", "pool", "create"]
    assert sig[3].name == "pool" and sig[3].req
    assert sig[4].range == (0,) and not sig[4].req
    odd = parse_signature("mon enable_stretch_mode name=a,type=CephString, name=b,type=CephString,")
    assert [a.name for a in odd[2:]] == ["a", "b"]
    fasle = parse_signature("x name=pool,type=CephPoolname,req=fasle")[1]
    assert not fasle.req and fasle.to_json()["req"] == "fasle"
    n = parse_signature("x name=ids,type=CephString,n=N")[1]
    assert n.N and str(n) == "ids(<string>)..."


def test_command_descriptions_shape():
    mon = command_descriptions("mon")
    assert list(mon)[0] == "cmd000"
    assert mon["cmd000"] == {
        "sig": ["pg", "stat"],
        "help": "show placement group status.",
        "module": "pg",
        "perm": "r",
        "flags": 8,
    }
    create = next(v for v in mon.values() if v["sig"][:3] == ["osd", "pool", "create"])
    assert create["sig"][3] == {"name": "pool", "type": "CephPoolname"}
    assert create["sig"][4] == {"name": "pg_num", "range": "0", "req": "false", "type": "CephInt"}
    assert create["flags"] == 0 and create["perm"] == "rw" and create["module"] == "osd"
    extra = [
        make_command("hello name=person_name,type=CephString,req=false", "Say hello", perm="r")
    ]
    mon2 = command_descriptions("mon", extra)
    assert mon2["cmd050"]["sig"][0] == "hello" and mon2["cmd050"]["flags"] == 8
    mgr = command_descriptions("mgr", extra)
    assert mgr["cmd000"]["sig"][0] == "hello" and mgr["cmd001"]["sig"] == ["pg", "stat"]
    assert all(v["flags"] == 0 for v in mgr.values())


# ----------------------------------------------------------------------------- match_command
@pytest.mark.parametrize(
    "cmd,args",
    [
        ({"prefix": "osd pool create", "pool": "foo", "pg_num": 8}, {"pg_num": 8}),
        ({"prefix": "osd pool create", "pool": "foo", "format": "json"}, {"format": "json"}),
        ({"prefix": "osd pool create", "pool": "f", "bogus": 1}, {"bogus": 1}),
        ({"prefix": "osd set-full-ratio", "ratio": 1}, {"ratio": 1.0}),
        ({"prefix": "osd find", "id": 3}, {"id": 3}),
        ({"prefix": "osd out", "ids": ["0", "1"]}, {"ids": ["0", "1"]}),
        ({"prefix": "pg map", "pgid": "1.1f"}, {"pgid": "1.1f"}),
        (
            {
                "prefix": "osd pool delete",
                "pool": "a",
                "pool2": "a",
                "yes_i_really_really_mean_it": True,
            },
            {"yes_i_really_really_mean_it": True},
        ),
        (
            {
                "prefix": "osd pool set",
                "pool": "p",
                "var": "size",
                "val": "2",
                "yes_i_really_mean_it": "--yes-i-really-mean-it",
            },
            {"yes_i_really_mean_it": True},
        ),
        (
            {
                "prefix": "osd blocklist",
                "blocklistop": "add",
                "addr": "1.2.3.4:0/123",
                "expire": 3600,
            },
            {"expire": 3600.0},
        ),
        ({"prefix": "osd create", "uuid": "9c1e5a30-1111-2222-3333-444455556666"}, {}),
        (
            {"prefix": "auth get-or-create", "entity": "client.x", "caps": ["mon", "allow r"]},
            {"caps": ["mon", "allow r"]},
        ),
        ({"prefix": "status"}, {}),
        ({"prefix": "pg stat"}, {}),
        ({"prefix": "osd pool application get"}, {}),
    ],
)
def test_match_command_valid(cmd, args):
    desc, out = match_command(cmd)
    assert desc.prefix == cmd["prefix"]
    for k, v in args.items():
        assert out[k] == v and type(out[k]) is type(v)


@pytest.mark.parametrize(
    "cmd,msg",
    [
        ({"prefix": "foo bar"}, "command not known"),
        ({"prefix": ""}, "command prefix must not be empty"),
        ({"nope": 1}, "command prefix not found"),
        ({"prefix": "osd pool create"}, "bad or missing field 'pool'"),
        (
            {"prefix": "osd pool create", "pool": "t", "pg_num": "8"},
            "bad or missing field 'pg_num'",
        ),
        (
            {"prefix": "osd pool create", "pool": "t", "pg_num": 1.5},
            "bad or missing field 'pg_num'",
        ),
        (
            {"prefix": "osd pool create", "pool": "t", "pg_num": True},
            "bad or missing field 'pg_num'",
        ),
        ({"prefix": "osd pool create", "pool": 5}, "bad or missing field 'pool'"),
        ({"prefix": "osd pool create", "pool": "t", "pg_num": -1}, "-1 not in range [0]"),
        (
            {"prefix": "osd pool create", "pool": "t", "pool_type": "weird"},
            "weird not in replicated|erasure",
        ),
        ({"prefix": "osd tree", "states": "up"}, "bad or missing field 'states'"),
        (
            {"prefix": "osd tree", "states": ["up", "bogus"]},
            "bogus not in up|down|in|out|destroyed",
        ),
        ({"prefix": "osd set-full-ratio", "ratio": 2.0}, "2.0 not in range [0.0, 1.0]"),
        ({"prefix": "osd set-full-ratio", "ratio": "x"}, "bad or missing field 'ratio'"),
        ({"prefix": "osd find", "id": "osd.0"}, "bad or missing field 'id'"),
        ({"prefix": "pg map", "pgid": "1"}, "invalid pgid '1'"),
        ({"prefix": "pg map", "pgid": "x.1"}, "invalid pgid 'x.1'"),
        (
            {"prefix": "osd blocklist", "blocklistop": "add", "addr": "notanaddr"},
            "unable to parse address notanaddr",
        ),
        ({"prefix": "osd create", "uuid": "nope"}, "invalid uuid value 'nope'"),
        (
            {"prefix": "osd crush add-bucket", "name": "a b", "type": "host"},
            "invalid chars   in a b",
        ),
        ({"prefix": "mon dump", "epoch": 1.5}, "bad or missing field 'epoch'"),
        (
            {"prefix": "osd pool delete", "pool": "a", "yes_i_really_really_mean_it": "yes"},
            "bad or missing field 'yes_i_really_really_mean_it'",
        ),
    ],
)
def test_match_command_invalid(cmd, msg):
    with pytest.raises(CephError) as ei:
        match_command(cmd)
    assert ei.value.errno == errno.EINVAL
    assert ei.value.message == msg


def test_match_command_lenient_values_and_extra():
    _, out = match_command(
        {"prefix": "osd pool create", "pool": "t", "pg_num": -1}, check_values=False
    )
    assert out["pg_num"] == -1
    hello = make_command("hello name=person_name,type=CephString,req=false", "Say hello")
    desc, out = match_command({"prefix": "hello", "person_name": "x"}, [hello])
    assert desc is hello and out["person_name"] == "x"
    # mgr commands are known to the mon too
    assert match_command({"prefix": "pg dump", "dumpcontents": ["pgs"]})[0].daemon == "mgr"


# ----------------------------------------------------------------------------- argv_to_command
@pytest.mark.parametrize(
    "words,expected",
    [
        ("osd pool create foo 8", {"prefix": "osd pool create", "pool": "foo", "pg_num": 8}),
        (
            "osd pool delete a a --yes-i-really-really-mean-it",
            {
                "prefix": "osd pool delete",
                "pool": "a",
                "pool2": "a",
                "yes_i_really_really_mean_it": True,
            },
        ),
        ("osd tree", {"prefix": "osd tree"}),
        ("status", {"prefix": "status"}),
        ("df detail", {"prefix": "df", "detail": "detail"}),
        (
            "osd pool set p size 2",
            {"prefix": "osd pool set", "pool": "p", "var": "size", "val": "2"},
        ),
        (
            "config set global mon_allow_pool_delete true",
            {
                "prefix": "config set",
                "who": "global",
                "name": "mon_allow_pool_delete",
                "value": "true",
            },
        ),
        ("osd tree up,down", {"prefix": "osd tree", "states": ["up", "down"]}),
        (
            "osd pool create foo --pg-num 16 --autoscale-mode=warn",
            {"prefix": "osd pool create", "pool": "foo", "pg_num": 16, "autoscale_mode": "warn"},
        ),
        ("osd find osd.3", {"prefix": "osd find", "id": 3}),
        ("pg stat", {"prefix": "pg stat", "target": ["mon-mgr", ""]}),
        (
            "pg dump pgs osds",
            {"prefix": "pg dump", "dumpcontents": ["pgs", "osds"], "target": ["mon-mgr", ""]},
        ),
        ("osd reweight 1 0.5", {"prefix": "osd reweight", "id": 1, "weight": 0.5}),
        (
            "osd erasure-code-profile set p1 k=2 m=1",
            {"prefix": "osd erasure-code-profile set", "name": "p1", "profile": ["k=2", "m=1"]},
        ),
    ],
)
def test_argv_to_command(words, expected):
    assert argv_to_command(words.split(), MON_VIEW) == expected


def test_argv_auth_caps_list():
    words = ["auth", "get-or-create", "client.x", "mon", "allow r", "osd", "allow rw pool=x"]
    assert argv_to_command(words, MON_VIEW) == {
        "prefix": "auth get-or-create",
        "entity": "client.x",
        "caps": ["mon", "allow r", "osd", "allow rw pool=x"],
    }


def _details(words):
    with pytest.raises(CommandNotValid) as ei:
        argv_to_command(words.split(), MON_VIEW)
    assert ei.value.errno == errno.EINVAL == 22
    return ei.value.details


def test_argv_missing_required():
    d = _details("osd pool create")
    assert d[0] == "Invalid command: missing required parameter pool(<poolname>)"
    assert d[1].startswith(
        "osd pool create <pool> [<pg_num:int>] [<pgp_num:int>] [replicated|erasure]"
    )
    assert d[1].endswith(
        "[--bulk] [<target_size_bytes:int>] [<target_size_ratio:float>] :  create pool"
    )


def test_argv_unknown_command():
    d = _details("foo bar")
    assert d[0] == "no valid command found; 10 closest matches:"
    assert d[1:4] == [
        "pg stat",
        "pg getmap",
        "pg dump [all|summary|sum|delta|pools|osds|pgs|pgs_brief...]",
    ]
    assert len(d) == 11


def test_argv_unused_and_unexpected():
    d = _details("osd tree extra junk")
    assert d == [
        "extra not valid:  extra not in up|down|in|out|destroyed",
        "Invalid command: unused arguments: ['extra', 'junk']",
        "osd tree [<epoch:int>] [up|down|in|out|destroyed...] :  print OSD tree",
    ]
    d = _details("osd pool create zz 8 --bogus")
    assert d[0] == "Invalid command: Unexpected argument '--bogus'"
    d = _details("osd set-full-ratio 2")
    assert d[0] == "Invalid command: 2.0 not in range [0.0, 1.0]"
    d = _details("osd pool set p size")
    assert d[0] == "Invalid command: missing required parameter val(<string>)"
