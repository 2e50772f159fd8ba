"""`mgr_module` / `mgr_util` and the module host's sans-I/O parts, without a cluster:
command descriptors from annotations, option schema and validation, module
discovery and loading, upstream's formatting helpers.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import textwrap
from enum import Enum
from typing import Optional

import pytest

import mgr_util
from mgr_module import (
    CLICommand,
    CLIReadCommand,
    CLIWriteCommand,
    HandleCommandResult,
    MgrModule,
    NotifyType,
    Option,
)
from pyceph.common.cmdargs import make_command, match_command
from pyceph.common.errors import CephError
from pyceph.mgr.modules.options import module_option_schema, parse_typed, validate_value
from pyceph.mgr.modules.registry import ModuleInfo, discover, load_module

SAMPLES = os.path.join(os.path.dirname(__file__), "data", "samples")


class Color(Enum):
    red = "red"
    blue = "blue"


class _Cmds:
    @CLIReadCommand("unit greet")
    def greet(self, name: str, times: Optional[int] = None, loud: bool = False) -> tuple[int, str, str]:  # noqa: UP045  # fmt: skip
        """Say hello
        to someone"""
        return 0, f"{name}x{times}{'!' if loud else ''}", ""

    @CLIWriteCommand("unit paint")
    def paint(self, color: Color, targets: list[str]) -> HandleCommandResult:
        return HandleCommandResult(stdout=f"{color.value}:{','.join(targets)}")

    @CLICommand("unit load")
    def load(self, inbuf: str) -> tuple[int, str, str]:
        return 0, inbuf.upper(), ""


def test_cli_command_descriptors() -> None:
    cmds = {c["cmd"].split(" name=")[0]: c for c in CLICommand.dump_cmd_list()}
    g = cmds["unit greet"]
    assert g == {
        "cmd": "unit greet name=name,type=CephString "
        "name=times,req=false,type=CephInt "
        "name=loud,req=false,type=CephBool",
        "desc": "Say hello to someone",
        "perm": "r",
        "poll": False,
    }
    p = cmds["unit paint"]
    assert p["cmd"] == (
        "unit paint name=color,strings=red|blue,type=CephChoices name=targets,n=N,type=CephString"
    )
    assert p["perm"] == "w"
    assert cmds["unit load "]["cmd"] == "unit load " and cmds["unit load "]["perm"] == "rw"
    # every descriptor parses with the project's grammar
    for c in cmds.values():
        make_command(c["cmd"])


def test_cli_command_call_casts_values() -> None:
    m = _Cmds()
    greet = CLICommand.COMMANDS["unit greet"]
    assert greet.call(m, {"prefix": "unit greet", "name": "bo", "times": 2}) == (0, "box2", "")
    assert greet.call(m, {"prefix": "unit greet", "name": "bo", "loud": True})[1] == "boxNone!"
    paint = CLICommand.COMMANDS["unit paint"]
    r = paint.call(m, {"prefix": "unit paint", "color": "blue", "targets": ["a", "b"]})
    assert r == HandleCommandResult(0, "blue:a,b", "")
    load = CLICommand.COMMANDS["unit load"]
    assert load.call(m, {"prefix": "unit load"}, "abc") == (0, "ABC", "")


def test_bad_values_are_refused_by_the_grammar() -> None:
    desc = make_command(CLICommand.COMMANDS["unit paint"].dump_cmd()["cmd"])  # type: ignore[arg-type]
    with pytest.raises(CephError) as ei:
        match_command({"prefix": "unit paint", "color": "green", "targets": ["a"]}, [desc])
    assert ei.value.errno == errno.EINVAL


def test_option_keeps_given_keywords() -> None:
    o = Option(name="x", default=3, type="int", min=1)
    assert o == {"name": "x", "default": 3, "type": "int", "min": 1, "runtime": False}


class _Opts(MgrModule):
    MODULE_OPTIONS = [
        Option(name="typed", type="int", default=5),
        {"name": "untyped", "default": 8},
    ]


def test_register_options_and_defaults() -> None:
    _Opts._register_options("opts")
    _Opts._register_options("opts")  # idempotent
    names = [o["name"] for o in _Opts.MODULE_OPTIONS]
    assert names == ["typed", "untyped", "log_level", "log_to_file", "log_to_cluster", "log_to_cluster_level"]  # fmt: skip
    from mgr_module import _option_defaults

    d = _option_defaults(_Opts)
    assert d["typed"] == 5 and d["untyped"] == "8" and d["log_to_file"] is False


def test_module_option_schema_matches_reference() -> None:
    path = os.path.join(SAMPLES, "ceph-mgr-module-ls.json")
    with open(path) as f:
        ref = json.load(f)
    alerts = next(m for m in ref["disabled_modules"] if m["name"] == "alerts")
    from mgr_module import _builtin_log_options

    ours = {o["name"]: module_option_schema(o) for o in _builtin_log_options()}
    for name in ("log_level", "log_to_file", "log_to_cluster", "log_to_cluster_level"):
        assert ours[name] == alerts["module_options"][name]
    port = module_option_schema(Option(name="smtp_port", type="int", default=465, desc="SMTP port"))  # fmt: skip
    assert port == alerts["module_options"]["smtp_port"]


def test_parse_and_validate_values() -> None:
    assert parse_typed("int", "12") == 12
    assert parse_typed("bool", "true") is True and parse_typed("bool", "0") is False
    assert parse_typed("float", "1.5") == 1.5
    assert parse_typed("str", "x") == "x"
    with pytest.raises(ValueError):
        parse_typed("int", "abc")
    schema = module_option_schema(Option(name="n", type="int", min=1, max=5))
    validate_value(schema, "3")
    with pytest.raises(CephError, match="exceeds maximum 5"):
        validate_value(schema, "6")
    with pytest.raises(CephError, match="below minimum 1"):
        validate_value(schema, "0")
    enum_schema = module_option_schema(Option(name="m", enum_allowed=["a", "b"]))
    with pytest.raises(CephError, match="not one of the permitted values"):
        validate_value(enum_schema, "c")


def test_notify_type_names() -> None:
    assert [t.value for t in NotifyType] == [
        "mon_map", "pg_summary", "health", "clog", "osd_map", "fs_map", "command"
    ]  # fmt: skip
    assert NotifyType("osd_map") is NotifyType.osd_map


MOD = textwrap.dedent(
    """
    from mgr_module import CLIReadCommand, MgrModule, NotifyType

    class Thing(MgrModule):
        NOTIFY_TYPES = [NotifyType.health]
        COMMANDS = [{"cmd": "thing old name=x,type=CephInt", "desc": "old style", "perm": "r"}]

        @CLIReadCommand("thing new")
        def new(self):
            return 0, "", ""
    """
)


def test_discover_and_load(tmp_path) -> None:
    for name, body in (("thing", MOD), ("broken", "import no_such_dependency_xyz\n")):
        d = tmp_path / name
        d.mkdir()
        (d / "module.py").write_text(body)
        (d / "__init__.py").write_text("from .module import *\n")
    (tmp_path / "notamodule").mkdir()
    infos = {i.name: i for i in discover(str(tmp_path), {"iostat_disabled"})}
    assert {"thing", "broken", "iostat"} <= set(infos) and "notamodule" not in infos
    thing = infos["thing"]
    load_module(thing)
    assert thing.can_run and thing.error_string == ""
    assert sorted(c.prefix for c in thing.commands) == ["thing new", "thing old"]
    assert thing.notify_types == frozenset({"health"})
    assert "log_level" in thing.options
    broken = infos["broken"]
    load_module(broken)
    assert (broken.can_run, broken.error_string) == (False, "No module named 'no_such_dependency_xyz'")  # fmt: skip
    js = thing.available_json()
    assert set(js) == {"name", "can_run", "error_string", "module_options"}


def test_module_path_shadows_builtins(tmp_path) -> None:
    """The configured folder is searched first (upstream runs what mgr_module_path
    holds): its `prometheus` replaces the built-in; the built-ins it lacks remain."""
    d = tmp_path / "prometheus"
    d.mkdir()
    (d / "module.py").write_text(MOD)
    (d / "__init__.py").write_text("from .module import *\n")
    infos = {i.name: i for i in discover(str(tmp_path), set())}
    assert infos["prometheus"].import_name == "prometheus"
    assert infos["iostat"].import_name == "pyceph.mgr.builtin.iostat"
    builtin_only = {i.name: i for i in discover("", set())}
    assert builtin_only["prometheus"].import_name == "pyceph.mgr.builtin.prometheus"


def test_builtin_iostat_loads() -> None:
    info = ModuleInfo("iostat", "pyceph.mgr.builtin.iostat")
    load_module(info)
    assert info.can_run
    (cmd,) = info.commands
    assert cmd.prefix == "iostat" and cmd.perm == "r"


def test_mgr_util_formatting() -> None:
    assert mgr_util.format_bytes(1024, 5) == "1024 "
    assert mgr_util.format_bytes(1048576, 6) == " 1024k"
    assert mgr_util.format_bytes(3 * 1024 * 1024, 6) == " 3072k"
    assert mgr_util.format_dimless(1500, 4) == "1.5k"
    assert mgr_util.format_dimless(0, 5) == "   0 "
    assert mgr_util.bold("x") == "\033[1mx\033[0m"
    assert mgr_util.colorize("x", mgr_util.RED) == "\033[1;31mx\033[0m"
    assert mgr_util.build_url("::1", "http", 80, "/a") == "http://[::1]:80/a"
    assert mgr_util.build_url("host", "https") == "https://host"
    assert mgr_util.merge_dicts({"a": 1}, {"a": 2, "b": 3}) == {"a": 2, "b": 3}
    td = datetime.timedelta
    assert [mgr_util.to_pretty_timedelta(x) for x in (td(seconds=5), td(minutes=5), td(hours=5), td(days=5), td(days=30), td(days=100), td(days=800))] == ["5s", "5m", "5h", "5d", "4w", "3M", "2y"]  # fmt: skip
    assert mgr_util.get_time_series_rates([(1.0, 10.0), (2.0, 30.0), (4.0, 30.0)]) == [(2.0, 20.0), (4.0, 0.0)]  # fmt: skip
    assert mgr_util.get_most_recent_rate([]) == 0.0
    assert mgr_util.name_to_config_section("rgw.a") == "client.rgw.a"
    assert mgr_util.name_to_config_section("osd.1") == "osd.1"


def test_pretty_helpers() -> None:
    assert MgrModule.to_pretty_iec(5) == "5 "
    assert MgrModule.to_pretty_iec(20 << 20) == "20 Mi"
    assert MgrModule.get_pretty_row(["a", "b"], 10) == "|  a |  b |"
    head = MgrModule.get_pretty_header(MgrModule, ["a", "b"], 10)  # type: ignore[arg-type]
    assert head == "+----+----+\n|  a |  b |\n+----+----+\n"


#: What upstream's mgr_util (Debian's ceph-mgr 16.2.15) prints for a set of inputs,
#: recorded by scripts/record_mgr_util_oracle.py: ours must print the same.
MGR_UTIL_ORACLE = os.path.join(os.path.dirname(__file__), "data", "mgr_util_format.json")


def test_mgr_util_matches_upstream() -> None:
    with open(MGR_UTIL_ORACLE) as f:
        cases = json.load(f)["cases"]
    assert cases
    for fn, n, w, c, theirs in cases:
        assert getattr(mgr_util, fn)(n, w, c) == theirs, (fn, n, w, c)


def test_config_options_lists_the_option_table() -> None:
    """`mgr.get('config_options')` answers every option's schema, as upstream's mgr."""
    from pyceph.common.options import OPTIONS
    from pyceph.mgr.modules.clusterstate import LOCAL_KEYS

    got = {o["name"]: o for o in LOCAL_KEYS["config_options"](None)["options"]}
    assert set(got) == set(OPTIONS)
    size = got["osd_pool_default_size"]
    assert (size["type"], size["default"], size["level"]) == ("uint", 3, "advanced")
    assert (size["min"], size["max"], size["services"]) == (0, 10, ["mon"])
    assert size["can_update_at_runtime"] is True and size["flags"] == ["runtime"]
    json.dumps(got)  # as the mgr hands it over: plain JSON values only
