"""`pyceph.restapi.routes`: the v0.1 URL tree from Ceph 16.2.15's command table, as
upstream's generate_url_and_params and METHOD_DICT lay it out (no cluster)."""

from __future__ import annotations

import pytest

from pyceph.common.cmdargs import FLAG_MGR, FLAG_OBSOLETE, command_descriptions, make_command
from pyceph.restapi.routes import (
    DEFAULT_BASE_URL,
    RouteTable,
    methods_for,
    normalize_base_url,
    split_signature,
)


@pytest.fixture(scope="module")
def table() -> RouteTable:
    # what the monitor answers to get_command_descriptions: mgr commands, then its own
    return RouteTable.from_descriptions(command_descriptions("mon"))


def test_words_are_the_path_and_the_rest_query_parameters(table: RouteTable) -> None:
    ep = table.get("osd/pool/create")
    assert ep is not None and ep.methods == ("PUT", "DELETE")
    (v,) = ep.variants
    assert v.desc.prefix == "osd pool create"
    assert [d.name for d in v.params][:3] == ["pool", "pg_num", "pgp_num"]
    assert table.get("health") is not None and table.get("health").methods == ("GET",)
    assert table.get("osd/tree") is not None and table.get("df") is not None


def test_mgr_commands_are_routed_too(table: RouteTable) -> None:
    ep = table.get("pg/dump")  # MgrCommands.h: flagged MGR by the monitor's answer
    assert ep is not None and ep.variants[0].desc.flags & FLAG_MGR
    assert table.get("osd/perf") is not None


def test_required_single_choice_before_params_is_a_path_part() -> None:
    desc = make_command("osd pool application enable name=pool,type=CephPoolname name=app,type=CephString")  # fmt: skip
    assert split_signature(desc)[0] == ["osd", "pool", "application", "enable"]
    fixed = make_command("config-key dump name=key,type=CephChoices,strings=all name=x,type=CephString")  # fmt: skip
    words, pinned, params = split_signature(fixed)
    assert words == ["config-key", "dump", "all"] and pinned == [("key", "all")]
    assert [d.name for d in params] == ["x"]
    # after a parameter, or optional, or a --flag, it stays a parameter
    late = make_command("a b name=x,type=CephString name=c,type=CephChoices,strings=only")
    assert split_signature(late)[0] == ["a", "b"]
    optional = make_command("a b name=c,type=CephChoices,strings=only,req=false")
    assert split_signature(optional)[0] == ["a", "b"]


def test_method_rule_is_upstreams() -> None:
    assert methods_for("r") == ("GET",)
    assert methods_for("rx") == ("GET",)  # auth list, auth get: reads
    for perm in ("w", "rw", "rwx", "x"):
        assert methods_for(perm) == ("PUT", "DELETE")


def test_shared_path_keeps_every_variant_and_unites_methods() -> None:
    t = RouteTable([make_command("thing show", perm="r"), make_command("thing name=x,type=CephChoices,strings=show", perm="rw")])  # fmt: skip
    ep = t.get("thing/show")
    assert ep is not None and len(ep.variants) == 2
    assert ep.methods == ("GET", "PUT", "DELETE")
    assert [v.desc.prefix for v in ep.for_method("PUT")] == ["thing"]


def test_obsolete_commands_are_left_out() -> None:
    t = RouteTable([make_command("old cmd", flags=FLAG_OBSOLETE), make_command("new cmd")])
    assert t.get("old/cmd") is None and t.get("new/cmd") is not None


def test_base_url_and_relative_paths() -> None:
    assert normalize_base_url("") == DEFAULT_BASE_URL == "/api/v0.1"
    assert normalize_base_url("ceph/") == "/ceph"
    t = RouteTable([], "/ceph/")
    assert t.relative("/ceph") == "" and t.relative("/ceph/") == ""
    assert t.relative("/ceph/osd/tree/") == "osd/tree"
    assert t.relative("/cephx/osd") is None and t.relative("/") is None


def test_help(table: RouteTable) -> None:
    page = table.help_html("")
    assert page.count("<tr>") == len(table.commands) > 300
    assert "osd/pool/create?pool=pool(&lt;poolname&gt;)" in page
    under = table.help_html("osd/pool")
    assert "osd/pool/create" in under and "<td>health" not in under
    assert table.matching("osd/poo") == []  # whole words only
    v = table.get("osd/pool/create").variants[0]
    assert table.help_line(v).startswith("osd pool create pool=pool(<poolname>)&pg_num=")
    assert table.help_line(v).endswith(": create pool")
