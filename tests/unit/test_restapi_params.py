"""`pyceph.restapi.params`: query parameters checked against a descriptor and typed."""

from __future__ import annotations

import pytest

from pyceph.common.cmdargs import make_command
from pyceph.restapi.params import BadParams, parse_params

POOL_CREATE = make_command(
    "osd pool create name=pool,type=CephPoolname name=pg_num,type=CephInt,range=0,req=false "
    "name=pool_type,type=CephChoices,strings=replicated|erasure,req=false "
    "name=yes_i_really_mean_it,type=CephBool,req=false"
).args
OSD_OUT = make_command("osd out name=ids,type=CephString,n=N").args
REWEIGHT = make_command("osd reweight name=id,type=CephOsdName name=weight,type=CephFloat,range=0.0|1.0").args  # fmt: skip
LS = make_command("osd pool ls name=detail,type=CephChoices,strings=detail,req=false").args


def test_typed_values() -> None:
    assert parse_params([("pool", "p"), ("pg_num", "8")], POOL_CREATE) == {"pool": "p", "pg_num": 8}
    assert parse_params([("id", "osd.2"), ("weight", "0.5")], REWEIGHT) == {"id": 2, "weight": 0.5}
    assert parse_params([("pool", "p"), ("yes_i_really_mean_it", "true")], POOL_CREATE)["yes_i_really_mean_it"] is True  # fmt: skip


def test_bare_flags() -> None:
    assert parse_params([("pool", "p"), ("yes_i_really_mean_it", "")], POOL_CREATE)["yes_i_really_mean_it"] is True  # fmt: skip
    assert parse_params([("detail", "")], LS) == {"detail": "detail"}
    assert parse_params([], LS) == {}


def test_repeated_arguments() -> None:
    assert parse_params([("ids", "1"), ("ids", "2")], OSD_OUT) == {"ids": ["1", "2"]}
    with pytest.raises(BadParams, match="pool given 2 times"):
        parse_params([("pool", "a"), ("pool", "b")], POOL_CREATE)


@pytest.mark.parametrize(
    ("query", "params", "reason"),
    [
        ([("pg_num", "8")], POOL_CREATE, "missing required parameter pool(<poolname>)"),
        (
            [("pool", "p"), ("pg_num", "x")],
            POOL_CREATE,
            "invalid pg_num: x doesn't represent an int",
        ),
        ([("pool", "p"), ("pg_num", "-1")], POOL_CREATE, "invalid pg_num: -1 not in range [0]"),
        (
            [("pool", "p"), ("pool_type", "ec")],
            POOL_CREATE,
            "invalid pool_type: ec not in replicated|erasure",
        ),  # fmt: skip
        (
            [("pool", "p"), ("yes_i_really_mean_it", "maybe")],
            POOL_CREATE,
            "not one of 'true', 'false'",
        ),  # fmt: skip
        ([("pool", "p"), ("color", "red")], POOL_CREATE, "unused arguments: ['color']"),
        ([("id", "mon.1"), ("weight", "0.5")], REWEIGHT, "invalid id: unknown type mon"),
        ([("id", "1"), ("weight", "2")], REWEIGHT, "invalid weight: 2.0 not in range [0.0, 1.0]"),
    ],
)
def test_bad_input_says_why(query: list[tuple[str, str]], params: list, reason: str) -> None:
    with pytest.raises(BadParams) as e:
        parse_params(query, params)
    assert reason in str(e.value)
