"""CRUSH mappings, binary maps and crushtool output against vectors from Ceph 16's crushtool."""

from __future__ import annotations

import gzip
import io
import shlex
from pathlib import Path

import pytest

from pyceph.crush.map import CrushMap
from pyceph.crush.text import compile_text, decompile
from pyceph.crush.tool import _run

DATA = Path(__file__).parent / "data" / "crush"
MAPS = ["one", "three", "ten", "hundred", "mixed"]


def _cases() -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in (DATA / "cases.tsv").read_text().splitlines():
        name, map_name, args = line.split("\t")
        rows.append((name, map_name, shlex.split(args)))
    return rows


def _test_args(args: list[str]) -> tuple[int, int, list[tuple[int, float]]]:
    rule = num_rep = 0
    weights: list[tuple[int, float]] = []
    i = 0
    while i < len(args):
        if args[i] == "--rule":
            rule = int(args[i + 1])
            i += 2
        elif args[i] == "--num-rep":
            num_rep = int(args[i + 1])
            i += 2
        elif args[i] == "--weight":
            weights.append((int(args[i + 1]), float(args[i + 2])))
            i += 3
        else:
            raise AssertionError(args[i])
    return rule, num_rep, weights


@pytest.mark.parametrize(("name", "map_name", "args"), _cases(), ids=lambda v: str(v))
def test_do_rule_matches_upstream(name: str, map_name: str, args: list[str]) -> None:
    m = CrushMap.decode((DATA / f"{map_name}.bin").read_bytes())
    rule, num_rep, reweights = _test_args(args)
    weights = [0x10000] * m.max_devices
    for dev, w in reweights:
        weights[dev] = min(max(int(w * 0x10000), 0), 0x10000)
    lines = gzip.decompress((DATA / f"{name}.mappings.gz").read_bytes()).decode().splitlines()
    assert len(lines) == 1024
    for line in lines:
        _, _, r, _, x, result = line.split()
        got = m.do_rule(rule, int(x), num_rep, weights)
        assert int(r) == rule
        assert "[" + ",".join(map(str, got)) + "]" == result, line


@pytest.mark.parametrize("map_name", MAPS)
def test_compile_matches_upstream_binary(map_name: str) -> None:
    m = compile_text((DATA / f"{map_name}.txt").read_text(), f"{map_name}.txt")
    assert m.encode() == (DATA / f"{map_name}.bin").read_bytes()


@pytest.mark.parametrize("map_name", MAPS)
def test_decompile_matches_upstream(map_name: str) -> None:
    data = (DATA / f"{map_name}.bin").read_bytes()
    expected = (DATA / f"{map_name}.decompiled").read_text()
    m = CrushMap.decode(data)
    assert decompile(m) == expected
    assert m.encode() == data
    again = compile_text(expected)
    assert again.encode() == data


def test_tool_output_byte_identical(tmp_path: Path) -> None:
    out = io.StringIO()
    err = io.StringIO()
    args = shlex.split(
        "--test --show-mappings --show-statistics --show-bad-mappings --num-rep 4 --weight 5 0"
    )
    rc = _run("crushtool", ["-i", str(DATA / "ten.bin"), *args], out, err)
    assert rc == 0
    expected = gzip.decompress((DATA / "ten_tool_output.txt.gz").read_bytes()).decode()
    assert out.getvalue() == expected


@pytest.mark.parametrize("case", ["mixed_ec6_out", "hundred_rew"])
def test_tool_show_mappings_matches(case: str) -> None:
    row = next(r for r in _cases() if r[0] == case)
    out = io.StringIO()
    rc = _run(
        "crushtool",
        [
            "-i",
            str(DATA / f"{row[1]}.bin"),
            "--test",
            "--show-mappings",
            "--min-x",
            "0",
            "--max-x",
            "1023",
            *row[2],
        ],
        out,
        io.StringIO(),
    )
    assert rc == 0
    expected = gzip.decompress((DATA / f"{case}.mappings.gz").read_bytes()).decode()
    assert out.getvalue() == expected
