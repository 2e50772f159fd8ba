"""Unit tests of the `rbd` CLI's sans-I/O parts: arguments, specs, sizes, stream formats,
formatters and progress lines (upstream: src/tools/rbd, the refceph `rbd-*` samples)."""

from __future__ import annotations

import io
import json
import pathlib
import struct

import pytest

from pyceph.cli import rbd_args as ra
from pyceph.cli import rbd_main
from pyceph.cli import rbd_stream as rs
from pyceph.cli.rbd_bench import BenchPlan, cxx_double, next_offsets, status_row
from pyceph.cli.rbd_format import Formatter, ctime_str, get_formatter
from pyceph.cli.rbd_progress import ProgressContext
from pyceph.cli.rbd_render import (
    ImageInfo,
    LsRow,
    ParentSpec,
    SnapRow,
    render_info,
    render_ls_long,
    render_snap_list,
)

SAMPLES = pathlib.Path(__file__).resolve().parent / "data" / "samples"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = rbd_main.run(list(argv), out, err, io.StringIO(), modules=None)
    return code, out.getvalue(), err.getvalue()


# ----------------------------------------------------------------- sizes
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1 << 20),
        ("256", 256 << 20),
        ("1G", 1 << 30),
        ("1T", 1 << 40),
        ("512K", 512 << 10),
        ("4096B", 4096),
        ("2Gi", 2 << 30),
        ("0", 0),
    ],
)
def test_image_size_units(text: str, value: int) -> None:
    assert ra.parse_image_size(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1X", "-1", "1.5G", "1GB", "1Bi", "16E"])
def test_image_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        ra.parse_image_size(text)


def test_object_size_and_order() -> None:
    assert ra.parse_iec("4K") == 4096
    assert ra.parse_iec("32M") == 32 << 20
    args = ra.parse_command_line(["create", "--size", "1", "--object-size", "8M", "x"])
    assert ra.get_image_options(args, True).order == 23
    args = ra.parse_command_line(["create", "--size", "1", "--order", "12", "x"])
    assert ra.get_image_options(args, True).order == 12


@pytest.mark.parametrize("bad", ["11", "26", "x"])
def test_order_bounds(bad: str) -> None:
    with pytest.raises(ra.CliError) as e:
        ra.parse_command_line(["create", "--size", "1", "--order", bad, "x"])
    assert e.value.message == "rbd: the argument for option '--order' is invalid"
    assert e.value.code == 1


# ----------------------------------------------------------------- options
def test_find_action_and_aliases() -> None:
    for words, spec in [
        (["ls"], ("list",)),
        (["snap", "ls", "x"], ("snap", "list")),
        (["snap", "add"], ("snap", "create")),
        (["deep", "cp", "a", "b"], ("deep", "copy")),
        (["rm", "img"], ("remove",)),
        (["mv", "a", "b"], ("rename",)),
        (["snap", "limit", "set", "x"], ("snap", "limit", "set")),
        (["group", "snap", "rollback", "g@s"], ("group", "snap", "rollback")),
        (["device", "map", "x"], ("device", "map")),
    ]:
        found = ra.find_action(words)
        assert found is not None and found[0].spec == spec, words


def test_option_values_and_positionals() -> None:
    args = ra.parse_command_line(
        [
            "--pool=p1",
            "-s",
            "1G",
            "create",
            "img",
            "--image-feature",
            "layering,exclusive-lock",
            "--image-feature",
            "object-map",
            "--stripe-unit",
            "64K",
            "--stripe-count",
            "4",
        ]
    )
    assert args.action is not None and args.action.spec == ("create",)
    assert args.get("pool") == "p1"
    assert args.get("size") == 1 << 30
    assert args.get("image-feature") == 1 | 4 | 8
    assert args.positional == ["img"]
    o = ra.get_image_options(args, True)
    assert (o.stripe_unit, o.stripe_count, o.format) == (64 << 10, 4, 2)


def test_global_and_config_options() -> None:
    args = ra.parse_command_line(
        ["-c", "/x.conf", "--id", "admin", "--rbd_default_features", "3", "ls", "-l", "pool"]
    )
    assert args.globals == {"conf": "/x.conf", "id": "admin"}
    assert args.conf == {"rbd_default_features": "3"}
    assert args.flag("long") and args.positional == ["pool"]


def test_boost_errors() -> None:
    # messages and status as Debian's rbd 16.2.15 prints them
    cases = [
        (("create", "--size", "abc", "img"), "rbd: the argument for option '--size' is invalid"),
        (("info", "--bogus", "img"), "rbd: unrecognised option '--bogus'"),
        (("ls", "--size", "1"), "rbd: unrecognised option '--size'"),
        (("ls", "-x"), "rbd: unrecognised option '-x'"),
        (("create", "-s"), "rbd: the required argument for option '--size' is missing"),
        (("info", "--format"), "rbd: the required argument for option '--format' is missing"),
        (("info", "--format", "yaml", "x"), "rbd: the argument for option '--format' is invalid"),
        (
            ("create", "--image-feature", "nope", "--size", "1", "x"),
            "rbd: the argument for option '--image-feature' is invalid",
        ),
        (
            ("create", "--size", "1", "--size", "2", "x"),
            "rbd: option '--size' cannot be specified more than once",
        ),
        (
            ("bench", "--io-type", "foo", "img"),
            "rbd: the argument for option '--io-type' is invalid",
        ),
        (
            ("import", "--export-format", "3", "a", "b"),
            "rbd: the argument for option '--export-format' is invalid",
        ),
        (("feature", "enable", "img", "foo"), "rbd: the argument for option is invalid"),
    ]
    for argv, message in cases:
        code, out, err = run(*argv)
        assert (code, out, err) == (1, "", message + "\n\n"), argv


def test_unknown_action_and_help() -> None:
    code, out, err = run("frobnicate", "x")
    assert code == 1
    assert err == "error: unknown option 'frobnicate x'\n\n"
    assert out.startswith("usage: rbd <command> ...\n")
    code, out, err = run()
    assert code == 0 and "    snap create (snap add)" in out and err == ""
    code, out, _ = run("help", "snap", "ls")
    assert code == 0 and out.startswith("usage: rbd snap list\n")


def test_errors_before_connecting() -> None:
    # validation happens before any cluster access, with upstream's errno as exit code
    cases = [
        (("create", "img"), 22, "rbd: must specify --size <M/G/T>"),
        (("resize", "img"), 22, "rbd: must specify --size <M/G/T>"),
        (("info",), 22, "rbd: image name was not specified"),
        (("snap", "create", "img"), 22, "rbd: snapshot name was not specified"),
        (
            ("snap", "ls", "img@s"),
            22,
            "rbd: snapshot name specified for a command that doesn't use it",
        ),
        (("create", "--size", "1", "a/b/c/d"), 22, "rbd: invalid spec 'a/b/c/d'"),
        (("export", "img"), 22, "rbd: path was not specified"),
        (("import",), 22, "rbd: path was not specified"),
        (
            ("info", "--pretty-format", "img"),
            22,
            "rbd: --pretty-format only works when --format is json or xml",
        ),
        (
            ("create", "--size", "1", "--image-format", "1", "--image-feature", "layering", "x"),
            22,
            "rbd: image format 1 is deprecated\n"
            "rbd: features not allowed with format 1; use --image-format 2",
        ),
        (
            ("create", "--size", "1", "--stripe-unit", "64K", "x", "--image-format", "1"),
            22,
            "rbd: image format 1 is deprecated\n"
            "rbd: non-default striping not allowed with format 1; use --image-format 2",
        ),
        (("bench", "img"), 22, "rbd: --io-type must be specified."),
        (
            ("bench", "--io-type", "write", "--io-size", "0", "img"),
            22,
            "rbd: --io-size should be greater than zero.",
        ),
        (("feature", "enable", "img"), 22, "rbd: at least one feature name must be specified"),
        (("lock", "add", "img"), 22, "rbd: lock id was not specified"),
        (("lock", "rm", "img", "id"), 22, "rbd: locker was not specified"),
        (("image-meta", "get", "img"), 22, "rbd: metadata key was not specified"),
        (("image-meta", "set", "img", "k"), 22, "rbd: metadata value was not specified"),
        (("config", "image", "get", "img", "foo"), 22, "rbd: not rbd option: foo"),
        (("trash", "rm"), 22, "rbd: image id was not specified"),
        (("trash", "restore"), 22, "rbd: image id was not specified"),
        (("namespace", "create", "pool"), 22, "rbd: namespace name was not specified"),
        (("snap", "limit", "set", "img"), 34, "rbd: must specify --limit <num>"),
        (
            ("snap", "rename", "a@b", "c@d"),
            22,
            "rbd: source and destination image name must be the same",
        ),
        (
            ("snap", "rename", "p/a@b", "q/a@d"),
            22,
            "rbd: source and destination pool must be the same",
        ),
        (
            ("rename", "a", "b", "--dest-pool", "x"),
            22,
            "rbd: mv/rename across pools not supported\nsource pool:  dest pool: x",
        ),
        (("clone", "a@b"), 22, "rbd: destination image name was not specified"),
        (("clone", "a", "c"), 22, "rbd: snapshot name was not specified"),
        (("cp", "a"), 22, "rbd: destination image name was not specified"),
        (
            ("info", "--image-id", "x", "img"),
            22,
            "rbd: trying to access image using both name and id. ",
        ),
        (("du", "--from-snap", "x"), 22, "rbd: image name was not specified"),
        (("group", "create"), 22, "rbd: group name was not specified"),
        (("group", "image", "add", "g"), 22, "rbd: image name was not specified"),
        (
            ("group", "snap", "rename", "g@s"),
            22,
            "rbd: destination snapshot name was not specified",
        ),
        (("migration", "prepare"), 22, "rbd: image name was not specified"),
        (("mirror", "pool", "enable"), 22, "rbd: must specify 'image' or 'pool' mode."),
    ]
    for argv, code, message in cases:
        assert run(*argv) == (code, "", message + "\n"), argv


# ----------------------------------------------------------------- specs
@pytest.mark.parametrize(
    ("spec", "validation", "expected"),
    [
        ("img", ra.SPEC_NONE, (None, None, "img", None)),
        ("p/img", ra.SPEC_NONE, ("p", None, "img", None)),
        ("p/ns/img@snap", ra.SPEC_FULL, ("p", "ns", "img", "snap")),
        ("p/img@s@x", ra.SPEC_NONE, ("p", None, "img", "s@x")),
        # the optional pool group is tried first, as std::regex does
        ("img@a/b", ra.SPEC_NONE, ("img@a", None, "b", None)),
    ],
)
def test_extract_spec(spec: str, validation: int, expected: tuple) -> None:
    assert ra.extract_spec(spec, validation) == expected


@pytest.mark.parametrize(
    ("spec", "validation"),
    [("p/img@s@x", ra.SPEC_FULL), ("a/b/c/d", ra.SPEC_FULL), ("a/b@c/d", ra.SPEC_SNAP), ("", 2)],
)
def test_extract_spec_invalid(spec: str, validation: int) -> None:
    with pytest.raises(ra.CliError) as e:
        ra.extract_spec(spec, validation)
    assert e.value.message == f"rbd: invalid spec '{spec}'"


def test_get_names_options_and_dest() -> None:
    args = ra.parse_command_line(
        ["cp", "--pool", "p", "--snap", "s", "img", "--dest-pool", "q", "copy"]
    )
    src = ra.get_names(args, ra.MOD_SOURCE, ra.SNAP_PERMITTED)
    dst = ra.get_names(args, ra.MOD_DEST, ra.SNAP_NONE, ra.SPEC_FULL)
    assert (src.pool, src.image, src.snap) == ("p", "img", "s")
    assert (dst.pool, dst.image) == ("q", "copy")
    args = ra.parse_command_line(["cp", "img"])
    ra.get_names(args, ra.MOD_SOURCE, ra.SNAP_PERMITTED)
    with pytest.raises(ra.CliError) as e:
        ra.get_names(args, ra.MOD_DEST, ra.SNAP_NONE, ra.SPEC_FULL)
    assert e.value.message == "rbd: destination image name was not specified"
    args = ra.parse_command_line(["snap", "create", "--image", "p/img@s"])
    spec = ra.get_names(args, snap=ra.SNAP_REQUIRED, validation=ra.SPEC_SNAP)
    assert (spec.pool, spec.image, spec.snap) == ("p", "img", "s")


def test_pool_and_namespace_positional() -> None:
    args = ra.parse_command_line(["ls", "pool/ns"])
    assert ra.get_pool_and_namespace(args) == ("pool", "ns")
    args = ra.parse_command_line(["ls"])
    assert ra.get_pool_and_namespace(args) == ("", "")


# ----------------------------------------------------------------- stream formats
def test_diff_v1_exact_bytes() -> None:
    header = rs.encode_diff_header("a", "bc", 4096, 1)
    assert header == (
        b"rbd diff v1\n"
        + b"f"
        + struct.pack("<I", 1)
        + b"a"
        + b"t"
        + struct.pack("<I", 2)
        + b"bc"
        + b"s"
        + struct.pack("<Q", 4096)
    )
    assert rs.encode_extent(512, 3, b"xyz", 1) == b"w" + struct.pack("<QQ", 512, 3) + b"xyz"
    assert rs.encode_extent(0, 8, None, 1) == b"z" + struct.pack("<QQ", 0, 8)
    assert rs.encode_diff_end() == b"e"


def test_diff_v2_exact_bytes() -> None:
    header = rs.encode_diff_header(None, "s1", 8192, 2, protected=True)
    assert header == (
        b"rbd diff v2\n"
        + b"t"
        + struct.pack("<Q", 6)
        + struct.pack("<I", 2)
        + b"s1"
        + b"p"
        + struct.pack("<Q", 8)  # as Debian's rbd writes it
        + b"\x01"
        + b"s"
        + struct.pack("<Q", 8)
        + struct.pack("<Q", 8192)
    )
    assert rs.encode_extent(4, 2, b"hi", 2) == b"w" + struct.pack("<QQQ", 18, 4, 2) + b"hi"
    assert rs.encode_extent(4, 2, None, 2) == b"z" + struct.pack("<QQQ", 16, 4, 2)


def test_image_v2_header_exact_bytes_and_decode() -> None:
    blob = rs.encode_image_header_v2(22, 61, 4 << 20, 1, [("k2", "v2"), ("k1", b"v")])
    tagged = [(b"O", 22), (b"T", 61), (b"U", 4 << 20), (b"C", 1)]
    expected = b"rbd image v2\n" + b"".join(t + struct.pack("<QQ", 8, v) for t, v in tagged)
    for k, v in (("k1", b"v"), ("k2", b"v2")):
        payload = struct.pack("<I", len(k)) + k.encode() + struct.pack("<I", len(v)) + bytes(v)
        expected += b"M" + struct.pack("<Q", len(payload)) + payload
    expected += b"E"
    assert blob == expected
    h = rs.StreamReader(io.BytesIO(blob)).image_header_v2()
    assert (h.order, h.features, h.stripe_unit, h.stripe_count) == (22, 61, 4 << 20, 1)
    assert h.metadata == {"k1": "v", "k2": "v2"}


@pytest.mark.parametrize("fmt", [1, 2])
def test_diff_round_trip(fmt: int) -> None:
    blob = (
        rs.encode_diff_header("from", "to", 1 << 20, fmt, protected=False)
        + rs.encode_extent(0, 4, b"abcd", fmt)
        + rs.encode_extent(4096, 4096, None, fmt)
        + rs.encode_diff_end()
    )
    r = rs.StreamReader(io.BytesIO(blob + b"trailing"))
    r.banner(rs.DIFF_BANNER if fmt == 1 else rs.DIFF_BANNER_V2)
    recs = [(x.kind, x.name, x.length, x.offset, x.data) for x in r.diff_records(fmt)]
    expected = [("from", "from", 0, 0, b""), ("to", "to", 0, 0, b"")]
    if fmt == 2:
        expected.append(("protect", "", 0, 0, b""))
    expected += [
        ("size", "", 1 << 20, 0, b""),
        ("write", "", 4, 0, b"abcd"),
        ("zero", "", 4096, 4096, b""),
    ]
    assert recs == expected
    assert r.pos == len(blob)


def test_stream_errors() -> None:
    with pytest.raises(rs.StreamError) as e:
        rs.StreamReader(io.BytesIO(b"rbd diff v9\n")).banner(rs.DIFF_BANNER)
    assert e.value.message == "rbd: invalid or unexpected diff banner"
    with pytest.raises(rs.StreamError) as e:
        rs.StreamReader(io.BytesIO(b"rbd")).banner(rs.DIFF_BANNER)
    assert e.value.message == "rbd: failed to decode diff banner"
    assert e.value.ret == -33  # EDOM, as safe_read_exact
    # an unknown tag in a v2 diff is skipped using its length
    blob = b"X" + struct.pack("<Q", 3) + b"abc" + b"e"
    recs = list(rs.StreamReader(io.BytesIO(blob)).diff_records(2))
    assert [(x.kind, x.tag) for x in recs] == [("unknown", ord("X"))]


def test_sparse_runs() -> None:
    data = b"\0" * 8 + b"x" * 4 + b"\0" * 4 + b"y"
    assert rs.sparse_runs(data, 4) == [(0, 8, True), (8, 4, False), (12, 4, True), (16, 1, False)]
    assert rs.sparse_runs(data, 0) == [(0, 17, False)]
    assert rs.sparse_runs(b"", 4) == []
    assert rs.is_zero(bytes(10)) and not rs.is_zero(b"\0\1")


# ----------------------------------------------------------------- formatters
def _sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def _info_clone() -> ImageInfo:
    ts = [
        (k, "Sun Nov 22 04:40:09 2026")
        for k in ("create_timestamp", "access_timestamp", "modify_timestamp")
    ]
    return ImageInfo(
        name="clone1",
        id="103d62e5631c",
        size=256 << 20,
        objects=64,
        order=22,
        object_size=4 << 20,
        snapshot_count=0,
        block_name_prefix="rbd_data.103d62e5631c",
        features=61,
        timestamps=ts,
        parent=ParentSpec("samples_rbd", "", "img1", "snap1", "1035709a3460"),
        overlap=256 << 20,
    )


def test_info_matches_samples() -> None:
    info = _info_clone()
    assert render_info(info, None) == _sample("rbd-info-clone1.txt")
    pretty = render_info(info, Formatter("json", True))
    assert json.loads(pretty) == json.loads(_sample("rbd-info-clone1.json"))
    assert pretty.rstrip("\n") == _sample("rbd-info-clone1.json").rstrip("\n")
    compact = render_info(info, Formatter("json", False))
    assert compact.endswith("}\n") and "\n" not in compact[:-1]


def test_info_xml() -> None:
    info = ImageInfo(
        name="a&b",
        id="1",
        size=1,
        objects=1,
        order=22,
        object_size=4 << 20,
        snapshot_count=0,
        block_name_prefix="rbd_data.1",
        features=1,
    )
    xml = render_info(info, Formatter("xml", False))
    assert xml.startswith("<image><name>a&amp;b</name><id>1</id><size>1</size>")
    assert "<features><feature>layering</feature></features><op_features></op_features>" in xml
    assert xml.endswith("</image>\n")
    pretty = render_info(info, Formatter("xml", True))
    assert pretty.startswith("<image>\n <name>a&amp;b</name>\n")
    assert "\n  <feature>layering</feature>\n" in pretty


def test_ls_long_matches_samples() -> None:
    parent = ParentSpec("samples_rbd", "", "img1", "snap1")
    rows = [
        LsRow("clone1", "103d62e5631c", 256 << 20, 2, parent),
        LsRow("img1", "1035709a3460", 256 << 20, 2),
        LsRow(
            "img1", "1035709a3460", 256 << 20, 2, snapshot="snap1", snapshot_id=4, protected=True
        ),
    ]
    assert render_ls_long(rows, None) == _sample("rbd-ls-l.txt")
    pretty = render_ls_long(rows, Formatter("json", True))
    assert pretty.rstrip("\n") == _sample("rbd-ls-l.json").rstrip("\n")
    assert render_ls_long([], None) == ""


def test_snap_ls_matches_samples() -> None:
    rows = [SnapRow(4, "snap1", 256 << 20, True, "Sun Nov 22 04:40:09 2026")]
    assert render_snap_list(rows, None) == _sample("rbd-snap-ls-img1.txt")
    pretty = render_snap_list(rows, Formatter("json", True))
    assert pretty.rstrip("\n") == _sample("rbd-snap-ls-img1.json").rstrip("\n")
    assert render_snap_list([], Formatter("json", False)) == "[]\n"


def test_get_formatter() -> None:
    assert get_formatter(ra.parse_command_line(["info", "x"])) is None
    f = get_formatter(ra.parse_command_line(["info", "--format", "xml", "x"]))
    assert f is not None and f.fmt == "xml" and not f.pretty


def test_ctime() -> None:
    import datetime
    import time

    epoch = 1795322409
    naive_utc = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).replace(tzinfo=None)
    assert ctime_str(naive_utc) == time.ctime(epoch)


# ----------------------------------------------------------------- progress
def test_progress_lines() -> None:
    err = io.StringIO()
    pc = ProgressContext("Removing image", False, err)
    for off in (0, 1, 1, 50, 99, 100):
        pc(off, 100)
    pc.finish()
    assert err.getvalue() == (
        "\rRemoving image: 1% complete...\rRemoving image: 50% complete..."
        "\rRemoving image: 99% complete...\rRemoving image: 100% complete..."
        "\rRemoving image: 100% complete...done.\n"
    )
    err = io.StringIO()
    pc = ProgressContext("Image flatten", False, err)
    pc.update_progress(3, 10)
    pc.fail()
    assert err.getvalue().endswith("\rImage flatten: 30% complete...failed.\n")
    err = io.StringIO()
    quiet = ProgressContext("x", True, err)
    quiet(1, 2)
    quiet.finish()
    assert err.getvalue() == ""


# ----------------------------------------------------------------- bench
def test_bench_rows_and_offsets() -> None:
    assert status_row(1, 6896, 6912.34, 27 << 20) == "    1      6896   6912.34    27 MiB/s"
    assert cxx_double(1234567.0) == "1.23457e+06"
    import random

    plan = BenchPlan(size=64 << 10, io_size=4096, threads=4, pattern="seq", rng=random.Random(1))
    offs = plan.start()
    assert offs == [0, 16384, 32768, 49152]
    next_offsets(plan, offs, 4 * 4096)
    assert offs == [4096, 20480, 36864, 53248]
    plan = BenchPlan(
        size=16 << 10, io_size=4096, threads=2, pattern="full-seq", rng=random.Random(1)
    )
    offs = plan.start()
    next_offsets(plan, offs, 8192)
    assert offs == [8192, 12288]
    next_offsets(plan, offs, 16384)
    assert offs == [0, 4096]


def test_help_layout() -> None:
    # Shell::print_help: descriptions at column 38, wrapped before column 80,
    # aliases sharing two leading words abbreviated
    out = run("help")[1].splitlines()
    assert "    trash remove (trash rm)           Remove an image from trash." in out
    assert any(ln.startswith("    config image list (... ls)        ") for ln in out)
    assert all(len(ln) <= 80 for ln in out)
    i = next(k for k, ln in enumerate(out) if ln.startswith("    children "))
    assert out[i + 1].startswith(" " * 38) and out[i + 1].strip()
    assert out[-1] == "See 'rbd help <command>' for help on a specific command."
