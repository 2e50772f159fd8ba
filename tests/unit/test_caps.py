"""cephx caps: upstream 16.2.15 grammars (MonCap/OSDCap/MgrCap) and their evaluation.

Good/bad inputs for osd follow upstream's src/test/osd/osdcap.cc (minus the removed
`auid` forms); error texts are what `ceph auth caps|add|get-or-create` print after
"Error EINVAL: ".
"""

from __future__ import annotations

import errno

import pytest

from pyceph.auth.caps import ClassCall, command_arg_map, parse_caps, validate_caps
from pyceph.common.errors import CephError


def _err(service: str, text: str) -> str:
    with pytest.raises(CephError) as ei:
        parse_caps(service, text)
    assert ei.value.errno == errno.EINVAL
    return ei.value.message


# ---------------------------------------------------------------------------
# osd grammar

OSD_GOOD = [
    "allow *",
    "allow all",
    "allow r",
    "allow rwx",
    "allow r pool foo ",
    "allow r pool=foo",
    "allow wx pool taco",
    "allow pool foo r",
    "allow pool taco wx",
    "allow wx pool taco object_prefix obj",
    "allow pool taco object_prefix obj wx",
    "allow rwx pool 'weird name'",
    "allow rwx pool \"weird name with ''s\"",
    "allow rwx pool foo, allow r pool bar",
    "allow rwx pool foo ; allow r pool bar",
    "allow rwx pool foo ;allow r pool bar",
    "allow rwx pool foo; allow r pool bar",
    "allow pool foo.froo.foo rwx, allow pool bar r",
    "allow pool data rw, allow pool rbd rwx, allow pool images class rbd foo",
    "allow class-read",
    "allow class-write",
    "allow class-read class-write",
    "allow r class-read pool foo",
    "allow rw class-read class-write pool foo",
    "allow pool bar rwx; allow pool baz r class-read",
    "allow class foo",
    'allow class clsname "clsthingidon\'tunderstand"',
    "  allow rwx pool foo; allow r pool bar  ",
    "  allow   rwx   pool foo; allow r pool bar  ",
    " allow wx pool taco",
    "\tallow\nwx\tpool \n taco\t",
    "allow r   pool    foo    object_prefix   blah   ;   allow   w",
    "allow class-read object_prefix rbd_children, allow pool libvirt-pool-test rwx",
    "allow class-read object_prefix rbd_children, allow rwx pool=images",
    "allow pool foo namespace nfoo rwx, allow pool bar namespace=nbar r",
    "allow pool foo namespace=nfoo rwx; allow pool bar namespace nbar object_prefix rbd r",
    "allow rwx namespace=nfoo tag cephfs data=cephfs_a",
    "allow rwx namespace foo tag cephfs data =cephfs_a",
    "allow pool foo namespace=nfoo* rwx",
    "allow pool foo namespace=\"\" rwx; allow pool bar namespace='' object_prefix rbd r",
    "profile abc, profile abc pool=bar, profile abc pool=bar namespace=foo",
    "profile rbd",
    "profile rbd pool=images",
    "profile rbd pool images namespace ns1",
    "profile rbd-read-only pool=images",
    "profile=rbd",
    "allow rwx tag application key=value",
    "allow rwx tag application key = value",
    "allow rwx tag application key  =   value",
    "allow all tag application all=all",
    "allow rwx network 127.0.0.1/8",
    "allow rwx network ::1/128",
    "allow rwx network [ff::1]/128",
    "profile foo network 127.0.0.1/8",
    "allow rwx namespace foo tag cephfs data =cephfs_a network 127.0.0.1/8",
    "allow pool foo rwx network 1.2.3.4/24",
]


@pytest.mark.parametrize("text", OSD_GOOD)
def test_osd_parse_good(text):
    assert parse_caps("osd", text).text == text


OSD_BAD = {
    "allow r poolfoo": "poolfoo",
    "allow r w": "w",
    "ALLOW r": "ALLOW r",
    "allow rwx,": ",",
    "allow rwx x": "x",
    "allow r pool foo r": "r",
    "allow wwx pool taco": "wx pool taco",
    "allow rwx pool 'weird name''": "'",
    'allow rwx object_prefix "beforepool" pool weird': "pool weird",
    "allow xrwx pool foo,, allow r pool bar": "rwx pool foo,, allow r pool bar",
    ";allow rwx pool foo rwx ; allow r pool bar": ";allow rwx pool foo rwx ; allow r pool bar",
    "allow rwx pool foo ;allow r pool bar gibberish": "gibberish",
    "allow rwx namespace": "namespace",
    "allow namespace": "allow namespace",
    "allow namespace=foo": "allow namespace=foo",
    "allow namespace=f*oo": "allow namespace=f*oo",
    "allow wwx pool ''": "wx pool ''",
    "allow rwx tag application key value": "tag application key value",
    "allow xyz": "yz",
    "allow profile rbd": "allow profile rbd",
    "allow rw namespace=*": "namespace=*",
    "allow rwx object_prefix=rbd": "object_prefix=rbd",
    "": "",
    "   ": "",
    " bogus": "bogus",
}


@pytest.mark.parametrize(("text", "rest"), sorted(OSD_BAD.items()))
def test_osd_parse_bad_exact_message(text, rest):
    assert _err("osd", text) == f"osd capability parse failed, stopped at '{rest}' of '{text}'"


# ---------------------------------------------------------------------------
# osd evaluation

CLS = [ClassCall("cls", "", True, True, True)]
CLS_NOT_LISTED = [ClassCall("cls", "", True, True, False)]


def test_osd_allow_all():
    for text in ("allow r", "allow w", "allow x", "allow rwx", "allow rw", "allow * pool=a"):
        assert not parse_caps("osd", text).is_allow_all
    cap = parse_caps("osd", "allow *")
    assert cap.is_allow_all
    # 'allow *' overrides the class allow list
    assert cap.allows_osd_op("foo", "ns", "asdf", {}, True, True, classes=CLS_NOT_LISTED)
    assert parse_caps("osd", "allow all").is_allow_all


def test_osd_pool_matching():
    cap = parse_caps("osd", "allow rwx pool foo, allow r pool bar")
    assert cap.allows_osd_op("foo", "", "", {}, True, True, classes=CLS)
    assert cap.allows_osd_op("foo", "ns", "", {"app": {"k": "v"}}, True, True, classes=CLS)
    assert not cap.allows_osd_op("foo", "", "", {}, True, True, classes=CLS_NOT_LISTED)
    assert cap.allows_osd_op("bar", "ns", "", {}, need_read=True)
    assert not cap.allows_osd_op("bar", "", "", {}, True, True)
    assert not cap.allows_osd_op("baz", "", "", {}, need_read=True)


def test_osd_object_prefix():
    cap = parse_caps("osd", "allow rwx pool bar object_prefix foo")
    for obj in ("foo", "food", "foo_bar"):
        assert cap.allows_osd_op("bar", "", obj, {}, True, True, classes=CLS)
    for obj in ("_foo", " foo ", "fo"):
        assert not cap.allows_osd_op("bar", "", obj, {}, True, True)
    assert not cap.allows_osd_op("baz", "", "foo", {}, True, False)


def test_osd_namespace_exact_glob_and_default():
    cap = parse_caps("osd", "allow rw namespace=nfoo")
    assert cap.allows_osd_op("bar", "nfoo", "o", {}, True, True)
    assert not cap.allows_osd_op("bar", "", "o", {}, True, True)
    assert not cap.allows_osd_op("bar", "nfoobar", "o", {}, True, True)
    glob = parse_caps("osd", "allow rw namespace=nfoo*")
    assert glob.allows_osd_op("bar", "nfoo", "o", {}, True, True)
    assert glob.allows_osd_op("bar", "nfoobar", "o", {}, True, True)
    assert not glob.allows_osd_op("bar", "nfo", "o", {}, True, True)
    default = parse_caps("osd", "allow rw pool=p namespace=''")
    assert default.allows_osd_op("p", "", "o", {}, True, True)
    assert not default.allows_osd_op("p", "x", "o", {}, True, True)
    # no namespace clause: every namespace of the pool
    assert parse_caps("osd", "allow r pool=p").allows_osd_op("p", "any", "o", {}, True)


def test_osd_rw_bits_and_class_bits():
    r = parse_caps("osd", "allow r")
    assert r.allows_osd_op("p", "", "o", {}, need_read=True)
    assert not r.allows_osd_op("p", "", "o", {}, need_write=True)
    assert not r.allows_osd_op("p", "", "o", {}, need_read=True, class_read=True)
    rx = parse_caps("osd", "allow rx")
    assert rx.allows_osd_op("p", "", "o", {}, need_read=True, class_read=True, class_write=True)
    cr = parse_caps("osd", "allow r class-read")
    assert cr.allows_osd_op("p", "", "o", {}, need_read=True, class_read=True)
    assert not cr.allows_osd_op("p", "", "o", {}, class_write=True)
    # class calls not on osd_class_default_list need an explicit class grant or 'allow *'
    assert not rx.allows_osd_op("p", "", "o", {}, classes=[ClassCall("c", "m", True, False, False)])
    named = parse_caps("osd", "allow class c m")
    assert named.allows_osd_op("p", "", "o", {}, classes=[ClassCall("c", "m", True, True, False)])
    assert not named.allows_osd_op("p", "", "o", {}, classes=[ClassCall("c", "n", True, False)])
    assert not named.allows_osd_op("p", "", "o", {}, need_read=True)


def test_osd_class_read_object_prefix_rbd_children():
    cap = parse_caps("osd", "allow class-read object_prefix rbd_children, allow rwx pool=images")
    # any pool: class reads of rbd_children only
    assert cap.allows_osd_op("vms", "", "rbd_children", {}, class_read=True)
    assert not cap.allows_osd_op("vms", "", "rbd_children", {}, need_read=True)
    assert not cap.allows_osd_op("vms", "", "rbd_children", {}, class_write=True)
    assert not cap.allows_osd_op("vms", "", "rbd_header.1", {}, class_read=True)
    # the images pool: everything
    assert cap.allows_osd_op("images", "", "rbd_data.1.0", {}, True, True, True, True)


def test_osd_class_grants_accumulate_across_grants():
    cap = parse_caps("osd", "allow class a, allow class b")
    calls = [ClassCall("a", "", True, False, False), ClassCall("b", "", True, False, False)]
    assert cap.allows_osd_op("p", "", "o", {}, classes=calls)


def test_osd_application_tags():
    cap = parse_caps("osd", "allow rw tag cephfs data=cephfs_a")
    apps = {"cephfs": {"data": "cephfs_a"}}
    assert cap.allows_osd_op("p", "", "o", apps, True, True)
    assert not cap.allows_osd_op("p", "", "o", {"cephfs": {"data": "b"}}, True, True)
    assert not cap.allows_osd_op("p", "", "o", {"rbd": {}}, True)
    anykey = parse_caps("osd", "allow r tag cephfs *=cephfs_a")
    assert anykey.allows_osd_op("p", "", "o", {"cephfs": {"metadata": "cephfs_a"}}, True)
    anyval = parse_caps("osd", "allow r tag cephfs data=*")
    assert anyval.allows_osd_op("p", "", "o", {"cephfs": {"data": "x"}}, True)
    assert not anyval.allows_osd_op("p", "", "o", {"cephfs": {"meta": "x"}}, True)
    every = parse_caps("osd", "allow r tag cephfs all=all")
    assert every.allows_osd_op("p", "", "o", {"cephfs": {}}, True)
    assert not every.allows_osd_op("p", "", "o", {}, True)


def test_osd_network():
    cap = parse_caps("osd", "allow rwx network 10.1.0.0/16")
    assert cap.allows_osd_op("p", "", "o", {}, True, True, addr="10.1.2.3")
    assert cap.allows_osd_op("p", "", "o", {}, True, True, addr="v2:10.1.2.3:6800/123")
    assert not cap.allows_osd_op("p", "", "o", {}, True, True, addr="10.2.0.1")
    assert not cap.allows_osd_op("p", "", "o", {}, True, True)  # unknown address
    v6 = parse_caps("osd", "allow r network ::1/128")
    assert v6.allows_osd_op("p", "", "o", {}, True, addr="[::1]:6800")


def test_osd_profile_rbd():
    cap = parse_caps("osd", "profile rbd pool=images")
    assert not cap.is_allow_all
    assert cap.allows_osd_op("images", "ns", "rbd_data.x", {}, True, True, True, True)
    # any pool: read rbd_info, class-read rbd_children / rbd_mirroring
    assert cap.allows_osd_op("vms", "", "rbd_info", {}, need_read=True)
    assert cap.allows_osd_op("vms", "", "rbd_children", {}, class_read=True)
    assert cap.allows_osd_op("vms", "", "rbd_mirroring", {}, class_read=True)
    assert not cap.allows_osd_op("vms", "", "rbd_children", {}, need_read=True)
    assert not cap.allows_osd_op("vms", "", "rbd_data.x", {}, need_read=True)
    everywhere = parse_caps("osd", "profile rbd")
    assert everywhere.allows_osd_op("any", "ns", "obj", {}, True, True, True, True)


def test_osd_profile_rbd_namespace():
    cap = parse_caps("osd", "profile rbd pool=p namespace=ns1")
    assert cap.allows_osd_op("p", "ns1", "rbd_header.1", {}, True, True)
    assert not cap.allows_osd_op("p", "ns2", "rbd_header.1", {}, True, True)
    # pool-level metadata lives in the default namespace
    call = [ClassCall("rbd", "metadata_list", True, False, True)]
    assert cap.allows_osd_op("p", "", "rbd_info", {}, classes=call)
    assert not cap.allows_osd_op("p", "", "rbd_info", {}, need_write=True)


def test_osd_profile_rbd_read_only():
    cap = parse_caps("osd", "profile rbd-read-only pool=images")
    assert cap.allows_osd_op("images", "", "rbd_data.1", {}, need_read=True, class_read=True)
    assert not cap.allows_osd_op("images", "", "rbd_data.1", {}, need_write=True)
    assert not cap.allows_osd_op("images", "", "rbd_data.1", {}, class_write=True)
    attach = [ClassCall("rbd", "child_attach", True, True, True)]
    assert cap.allows_osd_op("images", "", "rbd_header.abc", {}, classes=attach)
    assert not cap.allows_osd_op("images", "", "rbd_id.abc", {}, classes=attach)
    assert not cap.allows_osd_op("other", "", "rbd_header.abc", {}, classes=attach)


def test_osd_profile_read_only_read_write_and_unknown():
    ro = parse_caps("osd", "profile read-only pool=p")
    assert ro.allows_osd_op("p", "", "o", {}, need_read=True)
    assert not ro.allows_osd_op("p", "", "o", {}, need_write=True)
    rw = parse_caps("osd", "profile read-write")
    assert rw.allows_osd_op("q", "", "o", {}, True, True)
    assert not rw.allows_osd_op("q", "", "o", {}, class_read=True)
    # unknown profiles parse (as upstream) but grant nothing
    assert not parse_caps("osd", "profile osd").allows_osd_op("p", "", "o", {}, True)


# ---------------------------------------------------------------------------
# mon grammar

MON_GOOD = [
    "allow *",
    "allow all",
    "allow r",
    "allow rwx",
    "allow wx",
    "allow service foo x",
    "allow service=foo x",
    'allow service "foo bar" rw',
    "allow service osd rw, allow service mon r",
    "allow command foo",
    'allow command "osd blocklist" with blocklistop=add',
    "allow command abc with arg=foo",
    "allow command abc with arg=foo arg2=bar",
    'allow command abc with arg="foo bar" arg2="bar baz"',
    "allow command abc with arg prefix foo",
    'allow command abc with arg regex "^foo$"',
    "allow command=foo",
    "profile osd",
    "allow profile osd",
    "profile=rbd",
    "allow profile bootstrap-osd, allow r",
    "allow profile rbd-mirror",
    "profile simple-rados-client-with-blocklist",
    "profile not-a-real-profile",
    "allow r; allow w",
    "allow r ,allow w",
    "  allow r  ,  allow w  ",
    "allow rwx network 10.0.0.0/8",
    "allow service foo r network ::1/128",
    "profile osd network 127.0.0.1/8",
    "allow command foo network 1.2.3.4/24",
    "allow r fsname=cephfs_a",
    "allow rw fsname=a, allow r",
]


@pytest.mark.parametrize("text", MON_GOOD)
def test_mon_parse_good(text):
    assert parse_caps("mon", text).text == text


MON_BAD = {
    "allow xyz": "yz",
    "allow wr": "r",
    "allow r w": "w",
    "allow rwx,": ",",
    "allow r, allow xyz": "yz",
    "allow r, allow bogus": ", allow bogus",
    "allow r pool=foo": "pool=foo",
    "ALLOW r": "ALLOW r",
    "allow profile": "allow profile",
    "allow service foo": "allow service foo",
    "allow command bar x": "x",
    "allow command bar with k1=v1 x": "x",
    "allow command abc with arg": "with arg",
    "allow command abc with arg regex ^foo$": "with arg regex ^foo$",
    "allow bogus": "allow bogus",
    "  ": "  ",
}


@pytest.mark.parametrize(("text", "rest"), sorted(MON_BAD.items()))
def test_mon_parse_bad_exact_message(text, rest):
    assert _err("mon", text) == f"mon capability parse failed, stopped at '{rest}' of '{text}'"


def test_mon_parse_empty_message():
    assert _err("mon", "") == "mon capability parse failed, stopped at end of ''"


# ---------------------------------------------------------------------------
# mon evaluation


def test_mon_allow_all_and_blanket():
    star = parse_caps("mon", "allow *")
    assert star.is_allow_all
    assert star.allows_mon_command("config-key get", {"key": "x"})
    assert not parse_caps("mon", "allow rwx").is_allow_all
    rwx = parse_caps("mon", "allow rwx")
    assert rwx.allows_mon_command("osd pool create", {"pool": "a"})
    assert rwx.allows_mon_command("auth get-or-create", {"entity": "client.x"})
    # blanket grants never reach config-key
    assert not rwx.allows_mon_command("config-key get", {"key": "x"})
    assert not rwx.allows_mon("config-key", "r")


def test_mon_read_only():
    cap = parse_caps("mon", "allow r")
    assert cap.allows_mon_command("status", {})
    assert cap.allows_mon_command("osd dump", {})
    assert not cap.allows_mon_command("osd pool create", {"pool": "a"})
    assert not cap.allows_mon_command("auth get", {"entity": "client.admin"})  # needs rx
    assert parse_caps("mon", "allow rx").allows_mon_command("auth get", {"entity": "x"})


def test_mon_service_grants():
    cap = parse_caps("mon", "allow service osd rw, allow service mon r")
    assert cap.allows_mon_command("osd pool create", {"pool": "a"})
    assert cap.allows_mon_command("mon dump", {})
    assert not cap.allows_mon_command("mon add", {"name": "b", "addr": "1.2.3.4"})
    assert not cap.allows_mon_command("auth ls", {})
    # grants accumulate: r from one grant, w from another
    split = parse_caps("mon", "allow service osd r, allow service osd w")
    assert split.allows_mon("osd", "rw")


def test_mon_command_grants_with_constraints():
    cap = parse_caps(
        "mon",
        'allow command "osd blocklist" with blocklistop=add addr regex "^[^/]+/[0-9]+$"',
    )
    ok = {"blocklistop": "add", "addr": "1.2.3.4:0/123"}
    assert cap.allows_mon_command("osd blocklist", ok)
    assert not cap.allows_mon_command("osd blocklist", {**ok, "blocklistop": "rm"})
    assert not cap.allows_mon_command("osd blocklist", {"blocklistop": "add"})  # missing arg
    assert not cap.allows_mon_command("osd blocklist", {**ok, "addr": "1.2.3.4:0/x"})
    assert not cap.allows_mon_command("osd blocklist ls", {})
    pfx = parse_caps("mon", 'allow command "config-key get" with key prefix foo/')
    assert pfx.allows_mon_command("config-key get", {"key": "foo/bar"})
    assert not pfx.allows_mon_command("config-key get", {"key": "bar/foo"})
    # a command grant carries every permission for that command
    assert parse_caps("mon", 'allow command "osd pool create"').allows_mon_command(
        "osd pool create", {"pool": "x", "pg_num": 8}
    )


def test_mon_profile_osd_and_daemon_private_keys():
    cap = parse_caps("mon", "allow profile osd")
    e = "osd.3"
    assert cap.allows_mon_command("osd boot", {}, "rwx", module="osd", entity=e)
    assert cap.allows_mon("pg", "rw", entity=e)
    assert cap.allows_mon("mon", "r", entity=e)
    assert not cap.allows_mon("mon", "w", entity=e)
    assert cap.allows_mon("log", "w", entity=e)
    assert not cap.allows_mon("auth", "r", entity=e)
    key = {"key": "daemon-private/osd.3/lockbox"}
    assert cap.allows_mon_command("config-key get", key, entity=e)
    assert not cap.allows_mon_command("config-key get", key, entity="osd.4")
    assert cap.allows_mon_command(
        "config set", {"who": "osd.3", "name": "osd_mclock_max_capacity_iops_ssd"}, entity=e
    )
    assert not cap.allows_mon_command("config set", {"who": "osd.3", "name": "debug_osd"}, entity=e)


def test_mon_profile_mgr_mds_mon():
    mgr = parse_caps("mon", "profile mgr")
    assert mgr.allows_mon("mgr", "rwx")
    assert mgr.allows_mon("config-key", "rw")
    # Ceph 16.2.15 lets `profile mgr` add, re-cap and delete entities (auth rwx; recorded
    # in tests/integration/test_caps_mon_matrix.py)
    assert mgr.allows_mon("auth", "rwx")
    assert not mgr.allows_mon("config-key", "x")
    mds = parse_caps("mon", "allow profile mds")
    assert mds.allows_mon("mds", "rwx")
    assert mds.allows_mon_command("osd blocklist", {"blocklistop": "rm", "addr": "x"})
    assert mds.allows_mon_command("osd pool rmsnap", {})
    assert not mds.allows_mon("osd", "w")
    mon = parse_caps("mon", "profile mon")
    assert mon.allows_mon("mon", "rwx") and mon.allows_mon("log", "rwx")
    assert not mon.allows_mon("osd", "r")


def test_mon_profile_rbd_blocklist():
    cap = parse_caps("mon", "profile rbd")
    assert cap.allows_mon_command("osd dump", {})
    assert cap.allows_mon("pg", "r")
    assert not cap.allows_mon_command("osd pool create", {"pool": "a"})
    assert cap.allows_mon_command("osd blocklist", {"blocklistop": "add", "addr": "1.2.3.4:0/42"})
    assert cap.allows_mon_command("osd blacklist", {"blacklistop": "add", "addr": "1.2.3.4:0/42"})
    assert not cap.allows_mon_command(
        "osd blocklist", {"blocklistop": "rm", "addr": "1.2.3.4:0/42"}
    )
    assert not cap.allows_mon_command("osd blocklist", {"blocklistop": "add", "addr": "1.2.3.4"})
    assert not cap.allows_mon_command("config-key get", {"key": "rbd/mirror/x"})
    mirror = parse_caps("mon", "profile rbd-mirror")
    assert mirror.allows_mon_command("config-key get", {"key": "rbd/mirror/peer/x"})
    assert not mirror.allows_mon_command("config-key set", {"key": "rbd/mirror/peer/x", "val": "v"})


def test_mon_profile_simple_clients_and_others():
    src = parse_caps("mon", "profile simple-rados-client")
    assert src.allows_mon("osd", "r") and src.allows_mon("pg", "r") and src.allows_mon("mon", "r")
    assert not src.allows_mon("mds", "r")
    assert not src.allows_mon_command("osd blocklist", {"blocklistop": "add", "addr": "a/1"})
    srcb = parse_caps("mon", "profile simple-rados-client-with-blocklist")
    assert srcb.allows_mon_command("osd blocklist", {"blocklistop": "add", "addr": "a:0/1"})
    fsc = parse_caps("mon", "profile fs-client")
    assert fsc.allows_mon("mds", "r") and not fsc.allows_mon("mds", "w")
    assert parse_caps("mon", "profile crash").allows_mon("mon", "r")
    assert not parse_caps("mon", "profile crash").allows_mon("osd", "r")
    rd = parse_caps("mon", "profile role-definer")
    assert rd.allows_mon_command("auth get-or-create", {"entity": "client.x"})
    assert not rd.allows_mon("osd", "r")
    ro = parse_caps("mon", "profile read-only")
    assert ro.allows_mon("osd", "r") and not ro.allows_mon("osd", "w")
    assert not ro.allows_mon("config-key", "r")
    rw = parse_caps("mon", "profile read-write")
    assert rw.allows_mon("osd", "rw") and not rw.allows_mon("auth", "rx")
    assert not parse_caps("mon", "profile nonsense").allows_mon("mon", "r")


def test_mon_bootstrap_profiles():
    osd = parse_caps("mon", "allow profile bootstrap-osd")
    assert osd.allows_mon_command("osd new", {"uuid": "u"})
    assert osd.allows_mon_command("mon getmap", {})
    assert not osd.allows_mon_command("osd pool create", {"pool": "x"})
    mds = parse_caps("mon", "allow profile bootstrap-mds")
    good = {
        "prefix": "auth get-or-create",
        "entity": "mds.a",
        "caps": ["mon", "allow profile mds", "osd", "allow rwx", "mds", "allow"],
    }
    assert mds.allows_mon_command("auth get-or-create", good)
    assert not mds.allows_mon_command("auth get-or-create", {**good, "entity": "client.a"})
    bad_caps = {**good, "caps": ["mon", "allow *", "osd", "allow rwx", "mds", "allow"]}
    assert not mds.allows_mon_command("auth get-or-create", bad_caps)
    rbd = parse_caps("mon", "profile bootstrap-rbd")
    req = {"entity": "client.x", "caps": ["mon", "profile rbd", "osd", "profile rbd pool=a"]}
    assert rbd.allows_mon_command("auth get-or-create", req)
    req_bad = {"entity": "client.x", "caps": ["mon", "profile rbd", "osd", "allow *"]}
    assert not rbd.allows_mon_command("auth get-or-create", req_bad)


def test_mon_network_restriction():
    cap = parse_caps("mon", "allow rwx network 10.0.0.0/8, allow r")
    assert cap.allows_mon("osd", "rw", addr="v2:10.1.2.3:3300/0")
    assert not cap.allows_mon("osd", "w", addr="192.168.0.1:6789")
    assert cap.allows_mon("osd", "r", addr="192.168.0.1:6789")
    # like upstream, is_allow_all ignores the network clause
    assert parse_caps("mon", "allow * network 10.0.0.0/8").is_allow_all
    assert not parse_caps("mon", "allow * network 10.0.0.0/8").allows_mon(
        "osd", "r", addr="1.1.1.1"
    )


def test_mon_fs_name():
    cap = parse_caps("mon", "allow r fsname=a")
    assert not cap.is_allow_all
    assert cap.allows_mon("mds", "r")
    assert cap.fs_name_capable("a", "r")
    assert not cap.fs_name_capable("b", "r")
    assert cap.allowed_fs_names() == ["a"]
    assert parse_caps("mon", "allow r").allowed_fs_names() == []


def test_command_arg_map():
    assert command_arg_map(
        {"prefix": "x", "caps": ["mon", "allow r"], "n": 3, "force": True, "v": ["a", "b"]}
    ) == {"caps_mon": "allow r", "n": "3", "force": "true", "v": "a,b"}


# ---------------------------------------------------------------------------
# mgr


MGR_GOOD = [
    "allow *",
    "allow r",
    "allow rwx",
    "allow service foo x",
    "allow command bar",
    "allow service foo r, allow command bar",
    "allow command bar with k1=v1",
    "allow command bar with k1=v1 k2=v2",
    "allow module bar with k1=v1 k2=v2 x",
    "allow module rbd_support rw",
    "allow module=rbd_support with pool=p r",
    "profile rbd pool=rbd",
    "profile rbd pool=rbd namespace=ns",
    "allow profile rbd-read-only",
    "profile crash",
    "profile osd",
    "allow profile mds",
    "profile rgw",
    "profile read-only",
    "allow r network 10.0.0.0/8",
]


@pytest.mark.parametrize("text", MGR_GOOD)
def test_mgr_parse_good(text):
    assert parse_caps("mgr", text).text == text


def test_mgr_parse_bad_messages():
    assert _err("mgr", "allow xyz") == "mgr capability parse failed, stopped at 'yz' of 'allow xyz'"
    assert _err("mgr", "allow module foo") == (
        "mgr capability parse failed, stopped at 'allow module foo' of 'allow module foo'"
    )
    assert _err("mgr", "") == "mgr capability parse failed, stopped at end of ''"
    assert _err("mgr", "profile foo") == (
        "mgr capability parse failed during profile evaluation: unrecognized profile 'foo'"
    )
    assert _err("mgr", "profile rbd pool=a image=b") == (
        "mgr capability parse failed during profile evaluation: "
        "profile 'rbd' does not recognize key 'image'"
    )


def test_mgr_evaluation():
    assert parse_caps("mgr", "allow *").is_allow_all
    r = parse_caps("mgr", "allow r")
    assert r.allows_mgr(command="osd perf counters get", perm="r")
    assert not r.allows_mgr(command="osd pool autoscale-status", perm="rw")
    mod = parse_caps("mgr", "allow module rbd_support with pool=p rw")
    assert mod.allows_mgr(module="rbd_support", args={"pool": "p"}, perm="rw")
    assert not mod.allows_mgr(module="rbd_support", args={"pool": "q"}, perm="r")
    # module args are not checked when a specific command is validated
    assert mod.allows_mgr(module="rbd_support", command="rbd task add flatten", perm="r")
    assert not mod.allows_mgr(module="balancer", perm="r")
    crash = parse_caps("mgr", "profile crash")
    assert crash.allows_mgr(command="crash post", perm="rw")
    assert not crash.allows_mgr(command="crash ls", perm="r")
    assert not parse_caps("mgr", "profile osd").allows_mgr(service="osd", perm="r")
    svc = parse_caps("mgr", "allow service status r")
    assert svc.allows_mgr(service="status", perm="r")
    assert not svc.allows_mgr(service="status", perm="w")


def test_mgr_profile_rbd():
    cap = parse_caps("mgr", "profile rbd pool=images")
    assert cap.allows_mgr(module="rbd_support", args={"pool": "images"}, perm="rw")
    assert not cap.allows_mgr(module="rbd_support", args={"pool": "vms"}, perm="r")
    assert not cap.allows_mgr(module="rbd_support", perm="r")  # pool constraint requires it
    ro = parse_caps("mgr", "profile rbd-read-only")
    assert ro.allows_mgr(module="rbd_support", perm="r")
    assert not ro.allows_mgr(module="rbd_support", perm="w")


# ---------------------------------------------------------------------------
# validate_caps / AuthMonitor


def test_validate_caps_accepts_all_known_services():
    validate_caps(
        {
            "mon": "allow profile osd",
            "mgr": "allow profile osd",
            "osd": "allow *",
            "mds": "allow",
        }
    )
    validate_caps({"mds": "allow rw fsname=a path=/volumes"})
    validate_caps({})


def test_validate_caps_errors():
    with pytest.raises(CephError) as ei:
        validate_caps({"mon": "allow r", "foo": "allow r"})
    assert ei.value.errno == errno.EINVAL
    assert ei.value.message == "unknown cap type 'foo'"
    with pytest.raises(CephError) as ei:
        validate_caps({"mon": "allow r", "osd": "allow xyz"})
    assert ei.value.message == "osd capability parse failed, stopped at 'yz' of 'allow xyz'"
    with pytest.raises(CephError) as ei:
        validate_caps({"mds": "allow q"})
    assert ei.value.message == "mds capability parse failed, stopped at 'allow q' of 'allow q'"


def test_wrong_service_question_is_an_error():
    with pytest.raises(ValueError):
        parse_caps("osd", "allow *").allows_mon("osd", "r")
