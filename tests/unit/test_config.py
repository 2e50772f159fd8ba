"""CephConfig: precedence, meta expansion, search order, argv/env — as librados 16.2.15 does."""

from __future__ import annotations

import errno

import pytest

from pyceph.common.config import (
    CONF_FILE,
    CephConfig,
    ConfFileNotFoundError,
    ConfParseError,
    InvalidEntityNameError,
)
from pyceph.common.options import OptionValueError, UnknownOptionError


def make(name: str = "client.admin", cluster: str = "ceph", **kw) -> CephConfig:
    kw.setdefault("hostname", "vm")
    kw.setdefault("pid", 6568)
    kw.setdefault("environ", {"HOME": "/home/u"})
    return CephConfig(name, cluster, **kw)


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


# -- identity ------------------------------------------------------------------
def test_identity():
    c = make("osd.3", "prod")
    assert (c.name, c.entity_type, c.entity_id, c.cluster) == ("osd.3", "osd", "3", "prod")
    c.name = "mon.a"
    assert c.entity_type == "mon"


@pytest.mark.parametrize("bad", ["invalid", "bad.invalid", "client.", "client"])
def test_invalid_names(bad):
    with pytest.raises(InvalidEntityNameError) as ei:
        make(bad)
    assert ei.value.errno == errno.EINVAL


# -- get / set ---------------------------------------------------------------------
def test_get_typed_and_str():
    c = make()
    assert c.get("osd_pool_default_size") == 3
    assert c.get("mon_osd_full_ratio") == 0.95
    assert c.get_str("mon_osd_full_ratio") == "0.950000"
    assert c.get("mon allow pool delete") is False
    assert c.get_str("mon allow pool delete") == "false"


def test_unknown_options():
    c = make()
    with pytest.raises(UnknownOptionError) as ei:
        c.get("nonexistent_opt")
    assert isinstance(ei.value, KeyError) and ei.value.errno == errno.ENOENT
    with pytest.raises(KeyError):
        c.get("mon-allow-pool-delete")  # conf_get does not fold dashes
    with pytest.raises(UnknownOptionError, match="Configuration option not found: 'nope'"):
        c.set("nope", "1")


def test_set_validates_and_leaves_value_alone_on_error():
    c = make()
    c.set("osd_pool_default_size", "2")
    with pytest.raises(OptionValueError, match="exceeds maximum 10"):
        c.set("osd_pool_default_size", "11")
    assert c.get("osd_pool_default_size") == 2
    with pytest.raises(TypeError):
        c.set("osd_pool_default_size", 3)  # type: ignore[arg-type]


# -- precedence -------------------------------------------------------------------------
def test_section_precedence(tmp_path):
    path = write(
        tmp_path / "ceph.conf",
        "[global]\nosd pool default size = 2\nosd_pool_default_min_size = 1\nmon host = 1.2.3.4\n"
        "[client]\nosd pool default size = 4\n"
        "[client.admin]\nosd_pool_default_min_size = 2\n"
        "[client.other]\nosd_pool_default_min_size = 3\n",
    )
    c = make()
    c.read_file(path)
    assert c.get("osd_pool_default_size") == 4
    assert c.get("osd_pool_default_min_size") == 2
    assert c.get("mon_host") == "1.2.3.4"
    osd = make("osd.0")
    osd.read_file(path)
    assert osd.get("osd_pool_default_size") == 2


def test_level_order_default_mon_file_env_cmdline_override(tmp_path):
    path = write(tmp_path / "ceph.conf", "[global]\nosd_pool_default_size = 2\n")
    c = make(environ={"CEPH_ARGS": "--osd-pool-default-size 6"})
    c.apply_mon_config({"osd_pool_default_size": "5", "osd_pool_default_min_size": "1"})
    assert c.get("osd_pool_default_size") == 5
    c.read_file(path)
    assert c.get("osd_pool_default_size") == 2  # file beats mon (checked on 16.2.15)
    assert c.get("osd_pool_default_min_size") == 1
    c.parse_env()
    assert c.get("osd_pool_default_size") == 6
    c.parse_argv(["--osd_pool_default_size", "7"])
    assert c.get("osd_pool_default_size") == 7
    c.set("osd_pool_default_size", "9")
    assert c.get("osd_pool_default_size") == 9
    c.read_file(path)  # re-reading the file does not beat the override
    assert c.get("osd_pool_default_size") == 9
    assert c.source("osd_pool_default_size") == "override"
    c.rm("osd_pool_default_size")
    assert c.get("osd_pool_default_size") == 7


def test_mon_config_replaces_layer_and_ignores_no_mon_update():
    c = make()
    ignored = c.apply_mon_config({"rbd_cache": "false", "mon_host": "9.9.9.9", "bogus": "1"})
    assert c.get("rbd_cache") is False
    assert ignored == {"mon_host": "9.9.9.9"}
    assert c.get("mon_host") == ""
    c.apply_mon_config({})
    assert c.get("rbd_cache") is True
    assert c.apply_mon_config({"osd_pool_default_size": "99"}) == {"osd_pool_default_size": "99"}


def test_bad_value_in_file_is_a_warning(tmp_path):
    c = make()
    c.read_file(
        write(tmp_path / "c.conf", "[global]\nosd_pool_default_size = 11\nfoo_unknown = 1\n")
    )
    assert c.get("osd_pool_default_size") == 3
    assert c.warnings == [
        "parse error setting 'osd_pool_default_size' to '11' (Value '11' exceeds maximum 10)"
    ]
    assert c.lookup_conf("foo unknown") == "1"


def test_show_and_diff(tmp_path):
    c = make()
    c.read_file(write(tmp_path / "ceph.conf", "[global]\nosd_pool_default_size = 2\n"))
    c.set("osd_pool_default_size", "4")
    shown = c.show()
    assert shown["osd_pool_default_size"] == "4"
    assert shown["mon_osd_full_ratio"] == "0.950000"
    assert c.diff() == {
        "osd_pool_default_size": {"default": "3", "file": "2", "override": "4", "final": "4"}
    }


def test_set_default_like_librados():
    c = make()
    c.set_default("log_to_stderr", "false")
    assert c.get("log_to_stderr") is False
    assert "log_to_stderr" not in c.diff()


def test_daemon_defaults():
    assert make("osd.0").get("log_file") == ""
    osd = make("osd.0", is_daemon=True)
    assert osd.get("log_file") == "/var/log/ceph/ceph-osd.0.log"
    assert osd.get("admin_socket") == "/var/run/ceph/ceph-osd.0.asok"
    assert osd.get("daemonize") is True


# -- meta expansion ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expanded",
    [
        (
            "/tmp/$cluster-$name-$type-$id-$host-$pid.log",
            "/tmp/ceph-client.admin-client-admin-vm-6568.log",
        ),
        ("${cluster}x", "cephx"),
        ("$cluster$", "ceph$"),
        ("$$cluster", "$ceph"),
        ("${cluster", "$"),
        ("x$-y", "x$-y"),
        ("${nonexist}z", "${nonexist}z"),
        ("$nonexist", "$nonexist"),
        ("$home/x", "/home/u/x"),
        ("ab$home", "/home/u"),  # upstream quirk: $home replaces what came before
        ("$data_dir", "$data_dir"),  # clients have no data dir
        ("$run_dir$run_dir", "/var/run/ceph/var/run/ceph"),
        ("$log_file.x", "$log_file"),  # self reference: the loop is cut
        ("a$log_file", "$log_file"),
    ],
)
def test_meta_expansion(value, expanded):
    c = make()
    c.set("log_file", value)
    assert c.get("log_file") == expanded


def test_meta_expansion_loops_and_chains():
    c = make()
    c.set("run_dir", "/r/$cluster")
    c.set("admin_socket", "$run_dir/$name.asok")
    assert c.get("admin_socket") == "/r/ceph/client.admin.asok"
    c.set("log_file", "A$admin_socket")
    c.set("admin_socket", "B$log_file")
    assert (c.get("log_file"), c.get("admin_socket")) == ("A$log_file", "B$admin_socket")


def test_data_dir_for_daemons():
    osd = make("osd.7", is_daemon=True)
    osd.set("log_file", "$data_dir/log")
    assert osd.get("log_file") == "/var/lib/ceph/osd/ceph-7/log"


def test_keyring_paths():
    assert make().keyring_paths() == [
        "/etc/ceph/ceph.client.admin.keyring",
        "/etc/ceph/ceph.keyring",
        "/etc/ceph/keyring",
        "/etc/ceph/keyring.bin",
    ]
    c = make("client.x", "prod")
    c.set("keyring", "/a/$cluster.$name.keyring, /b")
    assert c.keyring_paths() == ["/a/prod.client.x.keyring", "/b"]


# -- files and search order -------------------------------------------------------------
def test_explicit_missing_file():
    with pytest.raises(ConfFileNotFoundError) as ei:
        make().read_file("/nonexistent/ceph.conf")
    assert ei.value.errno == errno.ENOENT
    assert isinstance(ei.value, FileNotFoundError)


def test_comma_list_takes_first_existing(tmp_path):
    good = write(tmp_path / "b.conf", "[global]\nmon_host = 2.2.2.2\n")
    c = make()
    assert c.read_file(f"/nonexistent/a.conf, {good}") == good
    assert c.get("mon_host") == "2.2.2.2"


def test_parse_error_propagates(tmp_path):
    with pytest.raises(ConfParseError, match="line 2"):
        make().read_file(write(tmp_path / "bad.conf", "[global]\njunk\n"))


def test_dev_null_is_empty():
    c = make()
    c.read_file("/dev/null")
    assert c.conf_file == {}


def _isolate(monkeypatch, tmp_path):
    home = tmp_path / "home"
    cwd = tmp_path / "cwd"
    (home / ".ceph").mkdir(parents=True)
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("CEPH_CONF", raising=False)
    return home, cwd


def test_search_order(monkeypatch, tmp_path):
    home, cwd = _isolate(monkeypatch, tmp_path)
    env = {"HOME": str(home)}
    c = CephConfig(cluster="t1", environ=env, hostname="vm")
    assert c.conf_search_list() == ["/etc/ceph/t1.conf", f"{home}/.ceph/t1.conf", "t1.conf"]
    with pytest.raises(ConfFileNotFoundError):
        c.read_file()
    write(cwd / "t1.conf", "[global]\nmon_host = cwd\n")
    assert c.read_file() == "t1.conf"
    assert c.get("mon_host") == "cwd"
    write(home / ".ceph" / "t1.conf", "[global]\nmon_host = home\n")
    assert c.read_file() == f"{home}/.ceph/t1.conf"
    assert c.get("mon_host") == "home"
    env["CEPH_CONF"] = write(tmp_path / "env.conf", "[global]\nmon_host = env\n")
    assert c.read_file() == env["CEPH_CONF"]
    assert c.get("mon_host") == "env"
    env["CEPH_CONF"] = str(tmp_path / "missing.conf")
    with pytest.raises(ConfFileNotFoundError):
        c.read_file()


def test_search_uses_process_environment(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    path = write(tmp_path / "x.conf", "[global]\nmon_host = 7.7.7.7\n")
    monkeypatch.setenv("CEPH_CONF", path)
    c = CephConfig()
    assert c.read_file() == path
    assert c.get("mon_host") == "7.7.7.7"


def test_cluster_name_from_file_when_unset(tmp_path):
    c = make(cluster="")
    c.read_file(write(tmp_path / "t1.conf", "[global]\n"))
    assert c.cluster == "t1"
    assert c.get("mon_data") == "/var/lib/ceph/mon/t1-admin"
    c2 = make(cluster="")
    c2.read_file(write(tmp_path / "weird", "[global]\n"))
    assert c2.cluster == "ceph"


def test_daemon_searches_data_dir_first(tmp_path):
    osd = make("osd.1", is_daemon=True)
    assert osd.conf_search_list()[0] == "/var/lib/ceph/osd/ceph-1/config"


# -- argv / env ---------------------------------------------------------------------------
def test_parse_argv_like_conf_parse_argv():
    c = make()
    rest = c.parse_argv(
        [
            "prog",
            "--osd_pool_default_size",
            "7",
            "foo",
            "--bar",
            "-m",
            "5.5.5.5",
            "--no-rbd-cache",
            "--log-file=/y",
            "--",
            "--osd_pool_default_size",
            "8",
        ],
        early=False,
    )
    assert rest == ["prog", "foo", "--bar", "--", "--osd_pool_default_size", "8"]
    assert c.get("osd_pool_default_size") == 7
    assert c.get("mon_host") == "5.5.5.5"
    assert c.get("rbd_cache") is False
    assert c.get("log_file") == "/y"


@pytest.mark.parametrize(
    "args, rest, key, value",
    [
        (["--rbd_cache", "foo"], ["foo"], "rbd_cache", True),
        (["--rbd_cache", "0"], [], "rbd_cache", False),
        (["--rbd_cache=1"], [], "rbd_cache", True),
        (["--no_rbd_cache"], [], "rbd_cache", False),
        (["--osd-pool_default-size", "4"], [], "osd_pool_default_size", 4),
        (["-k", "/kr"], [], "keyring", "/kr"),
        (["--keyring=/kr2"], [], "keyring", "/kr2"),
        (["--debug-ms", "5"], [], "debug_ms", "5/5"),
        (["--bind", "1.2.3.4"], [], "public_addr", "v2:1.2.3.4:0/0"),
        (["--client_mount_timeout", "5m"], [], "client_mount_timeout", 300),
        (["--unknown-opt", "val"], ["--unknown-opt", "val"], "rbd_cache", True),
        (["-d"], [], "log_to_stderr", True),
        (["-i", "foo"], ["-i", "foo"], "rbd_cache", True),
    ],
)
def test_parse_argv_cases(args, rest, key, value):
    c = make()
    assert c.parse_argv(args, early=False) == rest
    assert c.get(key) == value


def test_default_flag_sets_default_level():
    c = make()
    c.parse_argv(["--default-osd-pool-default-size", "4"], early=False)
    assert c.get("osd_pool_default_size") == 4
    assert c.source("osd_pool_default_size") == "default"


@pytest.mark.parametrize(
    "args",
    [["--osd_pool_default_size"], ["--osd_pool_default_size", "abc"], ["--rbd_cache=yes"], ["-m"]],
)
def test_parse_argv_errors(args):
    with pytest.raises(OptionValueError) as ei:
        make().parse_argv(args, early=False)
    assert ei.value.errno == errno.EINVAL


def test_parse_argv_early_identity(tmp_path):
    path = write(tmp_path / "c.conf", "[osd.3]\nmon_host = 3.3.3.3\n")
    c = make()
    rest = c.parse_argv(["--cluster", "prod", "-i", "x", "--name", "osd.3", "-c", path, "foo"])
    assert rest == ["foo"]
    assert (c.name, c.cluster) == ("osd.3", "prod")
    assert c.get("mon_host") == "3.3.3.3"


def test_keyfile(tmp_path):
    key = tmp_path / "k"
    key.write_text("AQBxyz==")
    c = make()
    c.parse_argv(["-K", str(key), "--keyfile", "/nonexistent"], early=False)
    assert c.get("key") == "AQBxyz=="


def test_parse_env():
    c = make(
        environ={
            "CEPH_ARGS": "--osd-pool-default-size 6 --mon_host=9.9.9.9 foo --log-file '/x y'",
            "CEPH_KEYRING": "/kr",
        }
    )
    assert c.parse_env() == ["foo"]
    assert c.get("osd_pool_default_size") == 6
    assert c.get("log_file") == "/x y"
    assert c.get("keyring") == "/kr"
    assert c.source("mon_host") == "env"
    assert make(environ={}).parse_env("OTHER") == []


def test_observers_see_changes(tmp_path):
    c = make()
    seen = []
    c.observers.append(seen.append)
    c.set("rbd_cache", "false")
    assert seen == [{"rbd_cache"}]


def test_file_level_constant():
    c = make()
    c.set("rbd_cache", "false", level=CONF_FILE)
    assert c.source("rbd_cache") == "file"
