"""Unit tests of the `rados` CLI (pyceph.cli.rados_main / rados_bench) against an in-test fake
of the few `rados` module calls it makes: parsing, formats, messages and exit codes."""

from __future__ import annotations

import asyncio
import errno
import io
import json
import os
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from pyceph.cli import rados_bench, rados_main

SAMPLES = Path(__file__).resolve().parent / "data" / "samples"


# ---------------------------------------------------------------------------
# a small fake of the `rados` module (unit-test double; integration tests use a real cluster)
# ---------------------------------------------------------------------------
class FakeError(Exception):
    def __init__(self, message: str = "", errno_: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_


class FakeNotFound(FakeError):
    pass


class FakeNoData(FakeError):
    pass


class FakeCompletion:
    def __init__(self) -> None:
        self.ret = 0

    def get_return_value(self) -> int:
        return self.ret


class FakeObject:
    def __init__(self, key: str, nspace: str, locator: str) -> None:
        self.key, self.nspace, self.locator_key = key, nspace, locator


class FakeIoctx:
    def __init__(self, pool: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.objs = pool
        self.ns = ""
        self.loc = ""
        self.lock = threading.Lock()

    def set_namespace(self, ns: str) -> None:
        self.ns = ns

    def set_locator_key(self, loc: str) -> None:
        self.loc = loc

    def _get(self, oid: str) -> dict[str, Any]:
        o = self.objs.get((self.ns, oid))
        if o is None:
            raise FakeNotFound("no such object", errno.ENOENT)
        return o

    def _put(self, oid: str) -> dict[str, Any]:
        return self.objs.setdefault(
            (self.ns, oid), {"data": b"", "xattrs": {}, "mtime": 1700000000, "loc": self.loc}
        )

    def write_full(self, oid: str, data: bytes) -> None:
        with self.lock:
            self._put(oid)["data"] = bytes(data)

    def write(self, oid: str, data: bytes, offset: int = 0) -> None:
        o = self._put(oid)
        cur = o["data"].ljust(offset, b"\0")
        o["data"] = cur[:offset] + data + cur[offset + len(data) :]

    def append(self, oid: str, data: bytes) -> None:
        self._put(oid)["data"] += data

    def trunc(self, oid: str, size: int) -> None:
        o = self._put(oid)
        o["data"] = o["data"][:size].ljust(size, b"\0")

    def read(self, oid: str, length: int = 8192, offset: int = 0) -> bytes:
        return self._get(oid)["data"][offset : offset + length]

    def stat(self, oid: str) -> tuple[int, time.struct_time]:
        o = self._get(oid)
        return len(o["data"]), time.localtime(o["mtime"])

    def remove_object(self, oid: str) -> bool:
        with self.lock:
            self._get(oid)
            del self.objs[(self.ns, oid)]
        return True

    def set_xattr(self, oid: str, name: str, value: bytes) -> None:
        self._get(oid)["xattrs"][name] = bytes(value)

    def get_xattr(self, oid: str, name: str) -> bytes:
        x = self._get(oid)["xattrs"]
        if name not in x:
            raise FakeNoData("no data", errno.ENODATA)
        return x[name]

    def get_xattrs(self, oid: str) -> Any:
        return iter(list(self._get(oid)["xattrs"].items()))

    def rm_xattr(self, oid: str, name: str) -> None:
        self._get(oid)["xattrs"].pop(name, None)

    def list_objects(self) -> Any:
        for (ns, key), o in list(self.objs.items()):
            if self.ns == "\x01" or ns == self.ns:
                yield FakeObject(key, ns, o["loc"])

    def get_stats(self) -> dict[str, int]:
        size = sum(len(o["data"]) for o in self.objs.values())
        return {"num_bytes": size, "num_kb": size >> 10, "num_objects": len(self.objs)}

    # aio: complete from another thread, as the real finisher does
    def _later(self, fn: Any, oncomplete: Any, with_data: bool = False) -> FakeCompletion:
        c = FakeCompletion()

        def run() -> None:
            data = None
            try:
                data = fn()
                c.ret = len(data) if with_data else 0
            except FakeError as e:
                c.ret = -(e.errno or errno.EIO)
            if with_data:
                oncomplete(c, data)
            else:
                oncomplete(c)

        threading.Thread(target=run).start()
        return c

    def aio_write_full(self, oid: str, data: bytes, oncomplete: Any = None) -> FakeCompletion:
        return self._later(lambda: self.write_full(oid, data), oncomplete)

    def aio_write(self, oid: str, data: bytes, offset: int = 0, oncomplete: Any = None) -> Any:
        return self._later(lambda: self.write(oid, data, offset), oncomplete)

    def aio_read(self, oid: str, length: int, offset: int, oncomplete: Any = None) -> Any:
        return self._later(lambda: self.read(oid, length, offset), oncomplete, with_data=True)

    def aio_remove(self, oid: str, oncomplete: Any = None) -> FakeCompletion:
        return self._later(lambda: self.remove_object(oid), oncomplete)

    def close(self) -> None:
        pass


class FakeCluster:
    pools: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def connect(self, timeout: int = 0) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def list_pools(self) -> list[str]:
        return list(self.pools)

    def pool_lookup(self, name: str) -> int | None:
        return list(self.pools).index(name) + 1 if name in self.pools else None

    def open_ioctx(self, name: str) -> FakeIoctx:
        if name not in self.pools:
            raise FakeNotFound(f"pool {name} not found", errno.ENOENT)
        return FakeIoctx(self.pools[name])

    def get_cluster_stats(self) -> dict[str, int]:
        return {"kb": 1048576, "kb_used": 11, "kb_avail": 1048564, "num_objects": 0}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    mod = types.SimpleNamespace(
        Rados=FakeCluster,
        Error=FakeError,
        ObjectNotFound=FakeNotFound,
        ObjectExists=FakeError,
        LIBRADOS_ALL_NSPACES="\x01",
    )
    FakeCluster.pools = {"p1": {}, "p0": {}}
    monkeypatch.setattr(rados_main, "rados_module", mod)
    monkeypatch.delenv("CEPH_ARGS", raising=False)
    return mod


def run(args: list[str], stdin: bytes = b"") -> tuple[int, bytes, str]:
    out_b = io.BytesIO()
    out = io.TextIOWrapper(out_b, encoding="utf-8", write_through=True)
    err = io.StringIO()
    inp = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    code = rados_main.main(args, stdout=out, stderr=err, stdin=inp)
    out.flush()
    return code, out_b.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------
def test_parse_args_options_and_words() -> None:
    p = rados_main.parse_args(
        [
            "-p",
            "pool",
            "--run_name=r1",
            "bench",
            "10",
            "write",
            "-t",
            "8",
            "--no-cleanup",
            "-b",
            "4K",
        ]
    )
    assert p.nargs == ["bench", "10", "write"]
    assert p.opts == {
        "pool": "pool",
        "run-name": "r1",
        "concurrent-ios": "8",
        "no-cleanup": "true",
        "block-size": "4K",
    }


def test_parse_args_globals_and_config() -> None:
    p = rados_main.parse_args(
        ["-c", "/x/ceph.conf", "--id", "foo", "-k", "/k", "-m", "1.2.3.4", "--debug-ms", "1", "ls"]
    )
    assert (p.conffile, p.client_id, p.keyring, p.mon_host) == (
        "/x/ceph.conf",
        "foo",
        "/k",
        "1.2.3.4",
    )
    assert p.nargs == ["ls"]


def test_parse_args_format_prescan_and_foreground_flag() -> None:
    assert rados_main.parse_args(["-f", "json", "ls"]).opts["format"] == "json"
    # an invalid -f value: "-f" is global_init's flag, its value becomes a word
    p = rados_main.parse_args(["-f", "plain", "ls"])
    assert p.nargs == ["plain", "ls"] and "format" not in p.opts
    assert rados_main.parse_args(["--format", "plain", "ls"]).opts["format"] == "plain"


def test_parse_args_double_dash_and_unknown_dash_words() -> None:
    p = rados_main.parse_args(["purge", "p", "--yes-i-really-really-mean-it", "--", "-p"])
    assert p.nargs == ["purge", "p", "--yes-i-really-really-mean-it", "-p"]


def test_parse_args_missing_value() -> None:
    with pytest.raises(rados_main.UsageError) as ei:
        rados_main.parse_args(["-p"])
    assert ei.value.message == "Option -p requires an argument."


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4096", 4096),
        ("4K", 4096),
        ("4Ki", 4096),
        ("4KB", 4096),
        ("4M", 4 << 20),
        ("1G", 1 << 30),
        ("15E", 15 << 60),
    ],
)
def test_strict_iecstrtoll_ok(text: str, value: int) -> None:
    assert rados_main.strict_iecstrtoll(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "strict_iecstrtoll: illegal prefix (length > 2)"),
        ("4KiB", "strict_iecstrtoll: illegal prefix (length > 2)"),
        ("4Q", "strict_iecstrtoll: unit prefix not recognized"),
        ("4k", "strict_iecstrtoll: unit prefix not recognized"),
        ("4Bi", 'strict_iecstrtoll: illegal prefix "Bi"'),
        ("", "strict_iecstrtoll: value not specified"),
        ("-1", "strict_iecstrtoll: value should not be negative"),
        ("16E", "strict_iecstrtoll: value seems to be too large"),
        ("1-2", "Expected option value to be integer, got '1-2'"),
    ],
)
def test_strict_iecstrtoll_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as ei:
        rados_main.strict_iecstrtoll(text)
    assert str(ei.value) == message


def test_parse_c_strtoll() -> None:
    assert rados_main.parse_c_strtoll("12") == 12
    assert rados_main.parse_c_strtoll(" -3") == -3
    assert rados_main.parse_c_strtoll("") == 0
    assert rados_main.parse_c_strtoll("12x") is None
    assert rados_main.parse_c_strtoll("abc") is None


# ---------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------
def test_cpp_strerror() -> None:
    assert rados_main.cpp_strerror(-2) == "(2) No such file or directory"
    assert rados_main.cpp_strerror(61) == "(61) No data available"


def test_format_mtime_matches_sample_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        st = time.localtime(1795322414)
        assert rados_main.format_mtime(st) == "2026-11-22T04:40:14.000000+0000"
        assert rados_main.format_mtime(1795322414) == "2026-11-22T04:40:14.000000+0000"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_option_value_starting_with_dash_ends_in_usage(fake: Any) -> None:
    # upstream checks the last option value, not the word: `-b -1 ls` prints the usage
    code, out, err = run(["-p", "p1", "-b", "-1", "ls"])
    assert code == 1 and err.startswith("usage: rados") and out.decode().startswith("  --conf")


def test_hexdump_matches_listomapvals_sample() -> None:
    sample = (SAMPLES / "rados-listomapvals-obj1.txt").read_text()
    text = "key1\n" + "value (6 bytes) :\n" + rados_main.hexdump(b"value1") + "\n"
    assert text == sample


def test_hexdump_repeated_rows_star() -> None:
    dump = rados_main.hexdump(b"a" * 40)
    assert dump.splitlines() == [
        "00000000  61 61 61 61 61 61 61 61  61 61 61 61 61 61 61 61  |aaaaaaaaaaaaaaaa|",
        "*",
        "00000020  61 61 61 61 61 61 61 61                           |aaaaaaaa|",
        "00000028",
    ]


def _sample_df() -> tuple[list[tuple[str, int, dict[str, int]]], dict[str, int]]:
    doc = json.loads((SAMPLES / "rados-df.json").read_text())
    pools = []
    for p in doc["pools"]:
        pools.append(
            (
                p["name"],
                p["id"],
                {
                    "num_bytes": p["size_bytes"],
                    "num_kb": p["size_kb"],
                    "num_objects": p["num_objects"],
                    "num_object_clones": p["num_object_clones"],
                    "num_object_copies": p["num_object_copies"],
                    "num_objects_missing_on_primary": p["num_objects_missing_on_primary"],
                    "num_objects_unfound": p["num_objects_unfound"],
                    "num_objects_degraded": p["num_objects_degraded"],
                    "num_rd": p["read_ops"],
                    "num_rd_kb": p["read_bytes"] // 1024,
                    "num_wr": p["write_ops"],
                    "num_wr_kb": p["write_bytes"] // 1024,
                },
            )
        )
    cluster = {
        "num_objects": doc["total_objects"],
        "kb_used": doc["total_used"],
        "kb_avail": doc["total_avail"],
        "kb": doc["total_space"],
    }
    return pools, cluster


def test_df_plain_matches_sample() -> None:
    pools, cluster = _sample_df()
    text = rados_main.format_df_plain([(n, s) for n, _i, s in pools], cluster)
    assert text == (SAMPLES / "rados-df.txt").read_text()


def test_df_json_matches_sample() -> None:
    pools, cluster = _sample_df()
    doc = rados_main.df_json(pools, cluster)
    assert doc == json.loads((SAMPLES / "rados-df.json").read_text())


def test_bench_table_formats() -> None:
    assert rados_bench.status_header() == (
        "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)"
    )
    assert rados_bench.status_row(0, 0, 0, 0, 0.0, None, None, 0.0) == (
        "    0       0         0         0         0         0           -           0"
    )
    assert rados_bench.status_row(
        2, 8, 10072, 10064, 19.6522, 19.0586, 0.000891357, 0.00158806
    ) == ("    2       8     10072     10064   19.6522   19.0586 0.000891357  0.00158806")


def test_bench_write_summary_format() -> None:
    d = rados_bench.BenchData(op_size=4096, object_size=4096)
    for lat in (0.001, 0.002, 0.003):
        d.add_latency(lat)
    d.add_bandwidth(20.0)
    d.add_bandwidth(22.0)
    d.add_iops(5120)
    d.add_iops(5632)
    lines = rados_bench.format_write_summary(d, 3.0)
    assert lines[0] == "Total time run:         3"
    assert lines[1] == "Total writes made:      3"
    assert lines[4] == "Bandwidth (MB/sec):     0.00390625"
    assert lines[5] == "Stddev Bandwidth:       1.41421"
    assert lines[6] == "Max bandwidth (MB/sec): 22"
    assert lines[8] == "Average IOPS:           1"
    assert lines[10:12] == ["Max IOPS:               5632", "Min IOPS:               5120"]
    assert lines[12] == "Average Latency(s):     0.002"
    assert lines[13] == "Stddev Latency(s):      0.001"
    assert [ln.split(":")[0] for ln in rados_bench.format_read_summary(d, 1.0)] == [
        "Total time run",
        "Total reads made",
        "Read size",
        "Object size",
        "Bandwidth (MB/sec)",
        "Average IOPS",
        "Stddev IOPS",
        "Max IOPS",
        "Min IOPS",
        "Average Latency(s)",
        "Max latency(s)",
        "Min latency(s)",
    ]


def test_bench_names_contents_metadata() -> None:
    assert rados_bench.object_name(7, 42).endswith("_42_object7")
    assert rados_bench.object_name(7, 42).startswith("benchmark_data_")
    c = rados_bench.object_contents(3, 40)
    assert c == b"I'm the                3th op!\0" + b"z" * 9 and len(c) == 40
    assert rados_bench.object_contents(1, 4) == b"I'm\0"
    meta = rados_bench.encode_metadata(4096, 10, 1234, 4096)
    assert len(meta) == 24
    assert rados_bench.decode_metadata(meta) == (4096, 10, 1234, 4096)
    assert rados_bench.cfmt(1.7976931348623157e308) == "1.79769e+308"


def test_contents_match_equals_comparing_with_object_contents() -> None:
    """The read bench's in-place check agrees with building the payload and comparing,
    for bytes and memoryviews, short texts, every single-byte change and wrong lengths."""
    match = rados_bench.contents_match
    for size in (0, 1, 4, 19, 26, 27, 40, 4096):
        for index in (0, 3, 123456):
            want = rados_bench.object_contents(index, size)
            assert match(want, index, size)
            assert match(memoryview(bytearray(want)), index, size)
            assert not match(want + b"z", index, size)
            if size:
                assert not match(want[:-1], index, size)
                assert not match(None, index, size)
            for pos in {0, size // 2, size - 1} if size else ():
                bad = bytearray(want)
                bad[pos] ^= 1
                assert not match(bytes(bad), index, size)
                assert not match(memoryview(bad), index, size)
        if size >= 27:
            assert not match(rados_bench.object_contents(1, size), 2, size)
    assert match(None, 0, 0) and match(b"", 0, 0)


# ---------------------------------------------------------------------------
# main(): usage, errors and exit codes
# ---------------------------------------------------------------------------
def test_no_args_and_help(fake: Any) -> None:
    assert run([]) == (1, b"", "rados: -h or --help for usage\n")
    code, out, err = run(["-h"])
    assert code == 0 and out.decode().startswith("usage: rados [options] [commands]\n")
    assert out.decode().endswith("  --version         show version and quit\n\n")


def test_no_action(fake: Any) -> None:
    assert run(["-p", "p1"]) == (1, b"", "rados: you must give an action. Try --help\n")


def test_unknown_verb(fake: Any) -> None:
    code, out, err = run(["foo"])
    assert code == 1
    assert (
        err == "unrecognized command foo; -h or --help for usage\nerror 22: (22) Invalid argument\n"
    )


def test_usage_on_missing_args(fake: Any) -> None:
    code, out, err = run(["stat", "x"])  # no pool
    assert code == 1 and err.startswith("usage: rados") and err.endswith("GENERIC OPTIONS:\n")
    assert out.decode().startswith("  --conf/-c FILE")


def test_bad_number_exit_234(fake: Any) -> None:
    code, _out, err = run(["-p", "p1", "-t", "abc", "bench", "1", "write"])
    assert code == 234
    assert (
        err == "Invalid value for concurrent-ios: strict_iecstrtoll: illegal prefix (length > 2)\n"
    )


def test_unrecognized_format(fake: Any) -> None:
    assert run(["--format", "plain", "ls"])[0] == 234


def test_missing_conf_file(fake: Any) -> None:
    code, _o, err = run(["-c", "/nonexistent/ceph.conf", "lspools"])
    assert code == 1
    assert (
        err == "global_init: unable to open config file from search list /nonexistent/ceph.conf\n"
    )


def test_missing_pool(fake: Any) -> None:
    code, _o, err = run(["-p", "nopool", "ls"])
    assert (code, err) == (1, "error opening pool nopool: (2) No such file or directory\n")


def test_ls_needs_pool(fake: Any) -> None:
    assert run(["ls"]) == (1, b"", "either pool name or pg id needs to be specified\n")


# ---------------------------------------------------------------------------
# main(): object verbs on the fake
# ---------------------------------------------------------------------------
def test_put_get_stat_ls_rm(fake: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    src.write_bytes(b"hello world\n")
    assert run(["-p", "p1", "put", "obj1", str(src)])[0] == 0
    assert run(["-p", "p1", "put", "obj2", "-"], stdin=b"from stdin")[0] == 0
    assert run(["-p", "p1", "get", "obj2", "-"])[1] == b"from stdin"
    dst = tmp_path / "out.bin"
    assert run(["-p", "p1", "get", "obj1", str(dst)])[0] == 0
    assert dst.read_bytes() == b"hello world\n"
    code, out, _ = run(["-p", "p1", "stat", "obj1"])
    assert code == 0
    assert out.decode().startswith("p1/obj1 mtime ") and out.decode().endswith(", size 12\n")
    assert sorted(run(["-p", "p1", "ls"])[1].decode().splitlines()) == ["obj1", "obj2"]
    listing = json.loads(run(["-p", "p1", "ls", "-f", "json"])[1])
    assert sorted(o["name"] for o in listing) == ["obj1", "obj2"]
    assert all(o["namespace"] == "" for o in listing)
    assert run(["-p", "p1", "rm", "obj1", "obj2"])[0] == 0
    assert run(["-p", "p1", "ls"])[1] == b""


def test_put_chunks_with_block_size(fake: Any, tmp_path: Path) -> None:
    src = tmp_path / "in.bin"
    data = os.urandom(10000)
    src.write_bytes(data)
    assert run(["-p", "p1", "-b", "4096", "put", "o", str(src)])[0] == 0
    assert run(["-p", "p1", "-b", "4096", "get", "o", "-"])[1] == data


def test_namespaces_and_all(fake: Any) -> None:
    run(["-p", "p1", "put", "a", "-"], stdin=b"1")
    run(["-p", "p1", "-N", "ns1", "put", "b", "-"], stdin=b"2")
    assert run(["-p", "p1", "-N", "ns1", "ls"])[1] == b"b\n"
    assert sorted(run(["-p", "p1", "--all", "ls"])[1].decode().splitlines()) == ["\ta", "ns1\tb"]
    code, _o, err = run(["-p", "p1", "-N", "ns1", "rm", "nosuch"])
    assert (code, err) == (1, "error removing p1>ns1/nosuch: (2) No such file or directory\n")


def test_object_errors(fake: Any) -> None:
    code, _o, err = run(["-p", "p1", "stat", "nosuch"])
    assert (code, err) == (1, " error stat-ing p1/nosuch: (2) No such file or directory\n")
    code, _o, err = run(["-p", "p1", "get", "nosuch", "-"])
    assert (code, err) == (1, "error getting p1/nosuch: (2) No such file or directory\n")
    code, _o, err = run(["-p", "p1", "put", "o", "/nonexistent/file"])
    # upstream prints the error but exits 0 here
    assert (code, err) == (
        0,
        "error reading input file /nonexistent/file: (2) No such file or directory\n",
    )


def test_xattrs(fake: Any) -> None:
    run(["-p", "p1", "put", "o", "-"], stdin=b"x")
    assert run(["-p", "p1", "setxattr", "o", "b", "v2"])[0] == 0
    assert run(["-p", "p1", "setxattr", "o", "a"], stdin=b"from-stdin")[0] == 0
    assert run(["-p", "p1", "listxattr", "o"])[1] == b"a\nb\n"
    assert run(["-p", "p1", "getxattr", "o", "a"])[1] == b"from-stdin"
    code, _o, err = run(["-p", "p1", "getxattr", "o", "zz"])
    assert (code, err) == (1, "error getting xattr p1/o/zz: (61) No data available\n")
    assert run(["-p", "p1", "rmxattr", "o", "a"])[0] == 0
    assert run(["-p", "p1", "listxattr", "o"])[1] == b"b\n"


def test_truncate_append(fake: Any, tmp_path: Path) -> None:
    run(["-p", "p1", "put", "o", "-"], stdin=b"0123456789")
    assert run(["-p", "p1", "truncate", "o", "4"])[0] == 0
    src = tmp_path / "a"
    src.write_bytes(b"AB")
    assert run(["-p", "p1", "append", "o", str(src)])[0] == 0
    assert run(["-p", "p1", "get", "o", "-"])[1] == b"0123AB"
    assert run(["-p", "p1", "truncate", "o", "x"]) == (1, b"", "Invalid value for size: 'x'\n")


def test_df_json_keys(fake: Any) -> None:
    doc = json.loads(run(["df", "-f", "json"])[1])
    sample = json.loads((SAMPLES / "rados-df.json").read_text())
    assert set(doc) == set(sample)
    assert set(doc["pools"][0]) == set(sample["pools"][0])
    assert [p["name"] for p in doc["pools"]] == ["p0", "p1"]


def test_purge_requires_confirmation(fake: Any) -> None:
    code, _o, err = run(["purge", "p1"])
    assert code == 1 and err.startswith("WARNING:\n  This will PERMANENTLY DESTROY")
    run(["-p", "p1", "put", "o", "-"], stdin=b"x")
    code, out, _ = run(["purge", "p1", "--yes-i-really-really-mean-it"])
    assert code == 0
    assert out.decode().endswith("Removed 1 object\nsuccessfully purged pool p1\n")
    assert FakeCluster.pools["p1"] == {}


def test_bench_write_seq_rand_cleanup(fake: Any) -> None:
    code, out, err = run(
        ["-p", "p1", "bench", "1", "write", "-b", "4096", "-t", "4", "--no-cleanup"]
    )
    text = out.decode()
    assert code == 0, err
    assert "Maintaining 4 concurrent writes of 4096 bytes to objects of size 4096" in text
    assert "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)" in text
    assert "Total writes made:" in text and "Min latency(s):" in text
    names = {k for _ns, k in FakeCluster.pools["p1"]}
    assert "benchmark_last_metadata" in names
    assert any(n.startswith("benchmark_data_") for n in names)
    code, out, err = run(["-p", "p1", "bench", "1", "seq", "-t", "4"])
    assert code == 0, err
    assert "Total reads made:" in out.decode() and "is not correct" not in err
    code, out, err = run(["-p", "p1", "bench", "1", "rand", "-t", "4"])
    assert code == 0, err
    code, out, err = run(["-p", "p1", "cleanup"])
    assert code == 0 and out.decode().startswith("Removed ")
    assert FakeCluster.pools["p1"] == {}


def test_bench_write_default_cleanup(fake: Any) -> None:
    code, out, _err = run(["-p", "p1", "bench", "1", "write", "-b", "4K", "-t", "2"])
    text = out.decode()
    assert code == 0
    assert "Cleaning up (deleting benchmark objects)\nRemoved " in text
    assert "Clean up completed and total clean up time :" in text
    assert FakeCluster.pools["p1"] == {}


def test_bench_read_without_write(fake: Any) -> None:
    code, out, err = run(["-p", "p1", "bench", "1", "seq"])
    assert code == 1
    assert out == b"hints = 1\n"
    assert err == (
        "Must write data before running a read benchmark!\n"
        "error during benchmark: (2) No such file or directory\n"
        "error 2: (2) No such file or directory\n"
    )


def test_bench_argument_errors(fake: Any) -> None:
    assert run(["-p", "p1", "bench", "x", "write"]) == (1, b"", "Invalid value for seconds: 'x'\n")
    code, _o, err = run(["-p", "p1", "-b", "4K", "bench", "1", "seq"])
    assert (code, err) == (1, "-b|--block_size option can be used only with 'write' bench test\n")
    assert run(["-p", "p1", "bench", "1", "foo"])[0] == 1


def test_cleanup_bad_prefix(fake: Any) -> None:
    run(["-p", "p1", "put", "benchmark_data_x", "-"], stdin=b"x")
    code, _o, err = run(["-p", "p1", "cleanup", "--prefix", "foo"])
    assert code == 1
    assert err.startswith('Specified --prefix invalid, it must begin with "benchmark_data"\n')


# ---------------------------------------------------------------------------
# cp, rollback, locks, watch/notify, listwatchers, export/import
# ---------------------------------------------------------------------------
class FakeOut:
    def __init__(self, fields: dict[str, Any] | None = None, data: bytes = b"") -> None:
        self.r, self.fields, self.data = 0, fields or {}, data


class FakeRes:
    def __init__(self, r: int, outs: list[FakeOut]) -> None:
        self.r, self.outs = r, outs


class FakeRunner:
    """Stands in for the facade's `Rados._run`: the fake `_op_coro` already ran the ops."""

    @staticmethod
    def _run(res: Any, msg: str) -> Any:
        return res


class FakeCore:
    """Stands in for `rados._core`, the bridge the CLI sends ops the binding lacks through:
    the fake ioctx's `_op_coro` answers them."""

    class _Io:
        def __init__(self, ioctx: Any) -> None:
            self.ioctx = ioctx

        async def submit(self, oid: str, op: Any) -> Any:
            return self.ioctx._op_coro(oid, op.ops)

    @classmethod
    def core_ioctx(cls, ioctx: Any) -> Any:
        return cls._Io(ioctx)

    @staticmethod
    def run(_ioctx: Any, coro: Any) -> Any:
        return asyncio.run(coro)


class FakeOp:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.result: list[tuple[str, bytes]] = []

    def __enter__(self) -> FakeOp:
        return self

    def __exit__(self, *a: Any) -> None:
        pass

    def new(self, flag: int) -> None:
        self.calls.append(("new", flag))

    def write_full(self, data: bytes) -> None:
        self.calls.append(("write_full", data))

    def set_xattr(self, k: str, v: bytes) -> None:
        self.calls.append(("setxattr", (k, v)))


class OmapIoctx(FakeIoctx):
    """FakeIoctx plus omap, write/read ops, cls lock, snapshots, watchers and notify."""

    rados = FakeRunner()
    watchers: dict[str, list[tuple[int, int, str]]] = {}
    locks: dict[str, dict[str, Any]] = {}

    def _put(self, oid: str) -> dict[str, Any]:
        o = super()._put(oid)
        o.setdefault("omap", {})
        o.setdefault("hdr", b"")
        return o

    def get_omap_vals(self, op: FakeOp, start: str, prefix: str, n: int) -> tuple[Any, int]:
        op.calls.append(("omap_get", (start, n)))
        return op.result, 0

    def set_omap(self, op: FakeOp, keys: Any, vals: Any) -> None:
        op.calls.append(("omap_set", dict(zip(keys, vals, strict=True))))

    def operate_read_op(self, op: FakeOp, oid: str) -> None:
        o = self._get(oid)
        for name, arg in op.calls:
            if name == "omap_get":
                start, n = arg
                op.result[:] = [(k, v) for k, v in sorted(o.get("omap", {}).items()) if k > start][
                    :n
                ]

    def operate_write_op(self, op: FakeOp, oid: str) -> None:
        if ("new", 1) in op.calls and (self.ns, oid) in self.objs:
            raise FakeError("exists", errno.EEXIST)
        o = self._put(oid)
        o["loc"] = self.loc
        for name, arg in op.calls:
            if name == "write_full":
                o["data"] = arg
            elif name == "setxattr":
                o["xattrs"][arg[0]] = arg[1]
            elif name == "omap_set":
                o["omap"].update(arg)

    def _op_coro(self, oid: str, ops: list[Any]) -> FakeRes:
        name, args, data = ops[0]
        if name == "notify":
            if (self.ns, oid) not in self.objs:
                return FakeRes(-errno.ENOENT, [])
            acks = [[gid, cookie, data] for gid, cookie, _a in self.watchers.get(oid, [])]
            return FakeRes(0, [FakeOut({"acks": acks, "timeouts": [[9, 7]]})])
        if (self.ns, oid) not in self.objs and name != "omap_set_header":
            return FakeRes(-errno.ENOENT, [])
        if name == "list_watchers":
            ws = [
                {"watcher_id": g, "cookie": c, "addr": a} for g, c, a in self.watchers.get(oid, [])
            ]
            return FakeRes(0, [FakeOut({"watchers": ws})])
        if name == "omap_get_header":
            return FakeRes(0, [FakeOut(data=self._get(oid).get("hdr", b""))])
        if name == "omap_set_header":
            self._put(oid)["hdr"] = data
            return FakeRes(0, [FakeOut()])
        raise AssertionError(name)

    def snap_rollback(self, oid: str, snap: str) -> None:
        if snap != "s1":
            raise FakeNotFound("no snap", errno.ENOENT)
        self._get(oid)["data"] = b"old"

    def execute(self, oid: str, cls: str, method: str, data: bytes, length: int) -> Any:
        from pyceph.cls.lock import LockInfo, decode_input, encode_list_locks_reply

        # the lock class's upstream encoding (cls_lock_ops.h)
        args = decode_input(method, data) if method != "list_locks" else {}
        locks = self.locks.setdefault(oid, {})
        if method == "list_locks":
            self._get(oid)
            return 0, encode_list_locks_reply(list(locks))
        if method == "get_info":
            self._get(oid)
            cur = locks.get(args["name"], {"lockers": [], "type": 0, "tag": ""})
            return 0, LockInfo.from_dict(cur).encode()
        if method == "lock":
            self._put(oid)
            cur = locks.get(args["name"])
            if cur and cur["type"] == 1:
                raise FakeError("busy", errno.EBUSY)
            locks[args["name"]] = {
                "type": args["type"],
                "tag": args["tag"],
                "lockers": [
                    {
                        "locker": "client.42",
                        "cookie": args["cookie"],
                        "expiration": 0.0,
                        "addr": "127.0.0.1:0/1",
                        "description": args["description"],
                    }
                ],
            }
            return 0, b""
        if method == "break_lock":
            cur = locks.get(args["name"])
            if not cur or cur["lockers"][0]["locker"] != args["locker"]:
                raise FakeNotFound("no locker", errno.ENOENT)
            del locks[args["name"]]
            return 0, b""
        raise AssertionError(method)

    def watch(self, oid: str, cb: Any, err_cb: Any = None) -> Any:
        self._get(oid)
        cb(77, 4100, 5, b"\x02\x00\x00\x00hi")
        return types.SimpleNamespace(close=lambda: None)


@pytest.fixture
def vfake(fake: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(rados_main, "rados_core", FakeCore)
    monkeypatch.setattr(FakeCluster, "open_ioctx", lambda self, n: _open_omap(n))
    fake.ReadOpCtx = FakeOp
    fake.WriteOpCtx = FakeOp
    fake.LIBRADOS_CREATE_EXCLUSIVE = 1
    OmapIoctx.watchers = {}
    OmapIoctx.locks = {}
    return fake


def _open_omap(name: str) -> OmapIoctx:
    if name not in FakeCluster.pools:
        raise FakeNotFound(f"pool {name} not found", errno.ENOENT)
    return OmapIoctx(FakeCluster.pools[name])


def _seed(pool: str = "p1") -> None:
    io_ = _open_omap(pool)
    io_.write_full("o1", b"hello world")
    io_.set_xattr("o1", "a1", b"v1")
    io_._put("o1")["omap"] = {"k1": b"val1", "k2": b"val2"}
    io_._put("o1")["hdr"] = b"HDR"
    io_.set_namespace("ns1")
    io_.write_full("o2", b"x")


def test_cp_within_and_across_pools(vfake: Any) -> None:
    _seed()
    assert run(["-p", "p1", "cp", "o1"]) == (1, b"", "cannot copy object into itself\n")
    assert run(["-p", "p1", "cp", "o1", "o1c"])[0] == 0
    assert run(["-p", "p1", "cp", "o1", "--target-pool", "p0", "--target-nspace", "tn"])[0] == 0
    for pool, ns, oid in (("p1", "", "o1c"), ("p0", "tn", "o1")):
        o = FakeCluster.pools[pool][(ns, oid)]
        assert (o["data"], o["xattrs"], o["omap"], o["hdr"]) == (
            b"hello world",
            {"a1": b"v1"},
            {"k1": b"val1", "k2": b"val2"},
            b"HDR",
        )
    assert run(["-p", "p1", "cp", "nope", "x"]) == (
        1,
        b"",
        "error copying p1/nope => p1/x: (2) No such file or directory\n",
    )
    code, _o, err = run(["-p", "p1", "cp", "o1", "x", "--target-pool", "zz"])
    assert (code, err) == (1, "error opening target pool zz: (2) No such file or directory\n")


def test_rollback(vfake: Any) -> None:
    _seed()
    assert run(["-p", "p1", "rollback", "o1", "s1"]) == (
        0,
        b"rolled back pool p1 to snapshot s1\n",
        "",
    )
    assert FakeCluster.pools["p1"][("", "o1")]["data"] == b"old"
    code, _o, err = run(["-p", "p1", "rollback", "o1", "zz"])
    assert (code, err) == (
        1,
        "error rolling back pool p1 to snapshot o1(2) No such file or directory\n",
    )


def test_lock_verbs(vfake: Any) -> None:
    _seed()
    assert run(["-p", "p1", "lock", "list", "o1"]) == (0, b'{"objname":"o1","locks":[]}', "")
    args = ["--lock-cookie", "c1", "--lock-tag", "t", "--lock-description", "d"]
    assert run(["-p", "p1", "lock", "get", "o1", "L1", *args]) == (0, b"", "")
    assert run(["-p", "p1", "lock", "get", "o1", "L1"]) == (
        1,
        b"",
        "ERROR: failed locking: (16) Device or resource busy\n"
        "error 16: (16) Device or resource busy\n",
    )
    code, out, _e = run(["-p", "p1", "lock", "info", "o1", "L1"])
    assert json.loads(out) == {
        "name": "L1",
        "type": "exclusive",
        "tag": "t",
        "lockers": [
            {
                "name": "client.42",
                "cookie": "c1",
                "description": "d",
                "expiration": "0.000000",
                "addr": "127.0.0.1:0/1",
            }
        ],
    }
    code, out, _e = run(["-p", "p1", "lock", "list", "o1", "-f", "json-pretty"])
    assert out.endswith(b"}\n") and json.loads(out)["locks"] == [{"name": "L1"}]
    assert run(["-p", "p1", "lock", "break", "o1", "L1", "bogus"])[2] == (
        "ERROR: failed to parse locker name (bogus)\nerror 22: (22) Invalid argument\n"
    )
    assert (
        run(["-p", "p1", "lock", "break", "o1", "L1", "client.42", "--lock-cookie", "c1"])[0] == 0
    )
    assert run(["-p", "p1", "lock", "get", "o1", "L", "--lock-type", "x"])[2] == (
        "unknown lock type was specified, aborting\nerror 22: (22) Invalid argument\n"
    )
    assert run(["-p", "p1", "lock", "list", "nope"])[2] == (
        "ERROR: rados_list_locks(): (2) No such file or directory\n"
        "error 2: (2) No such file or directory\n"
    )
    assert run(["-p", "p1", "lock", "frob", "o1", "L1", "x"])[0] == 1
    assert run(["-p", "p1", "lock", "get", "o1", "L", "--lock-duration", "abc"])[2].startswith(
        "Invalid value for lock-duration: strict_iecstrtoll: illegal prefix (length > 2)\n"
    )


def test_format_utime() -> None:
    assert rados_main.format_utime(0) == "0.000000"
    assert rados_main.format_utime(12.5) == "12.500000"
    assert rados_main.format_utime(1700000000.25).endswith(".250000" + time.strftime("%z"))


def test_watch_notify_listwatchers(vfake: Any) -> None:
    _seed()
    OmapIoctx.watchers = {"o1": [(4100, 5, "127.0.0.1:0/99")]}
    assert run(["-p", "p1", "listwatchers", "o1"]) == (
        0,
        b"watcher=127.0.0.1:0/99 client.4100 cookie=5\n",
        "",
    )
    assert run(["-p", "p1", "listwatchers", "nope"]) == (
        1,
        b"",
        "error listing watchers p1/nope: (2) No such file or directory\n",
    )
    code, out, err = run(["-p", "p1", "notify", "o1", "hello"])
    assert (code, err) == (0, "")
    assert out == (
        b"reply client.4100 cookie 5 : 9 bytes\n"
        b"00000000  05 00 00 00 68 65 6c 6c  6f                       |....hello|\n"
        b"00000009\n"
        b"timeout client.9 cookie 7\n"
    )
    assert run(["-p", "p1", "notify", "nope", "x"])[2] == (
        "error calling notify: (2) No such file or directory\n"
        "error 2: (2) No such file or directory\n"
    )
    code, out, _e = run(["-p", "p1", "watch", "o1"], stdin=b"\n")
    assert code == 0
    assert out.decode().startswith("NOTIFY cookie 5 notify_id 77 from 4100\n00000000  02 00")
    assert out.endswith(b"press enter to exit...\n")
    assert run(["-p", "p1", "watch", "nope"])[2] == (
        "error calling watch: (2) No such file or directory\n"
        "error 2: (2) No such file or directory\n"
    )


def test_export_format_bytes() -> None:
    m = rados_main
    assert m.encode_super() == bytes.fromhex("ceffceff02000000120000000a000000")
    assert m.encode_section(m.TYPE_POOL_BEGIN) == bytes.fromhex(
        "01010c000000ceff0a0a0000000000000000"
    )
    begin = m.encode_object_begin("o3", "", "loc")
    assert len(begin) == 6 + 0x11D
    ob = m.decode_object_begin(begin)
    assert (ob.oid, ob.key, ob.nspace, str(ob)) == (
        "o3",
        "loc",
        "",
        "#-9223372036854775808:00000000::loc:o3:head#",
    )
    odd = m.DumpObject("a:b/c%d\x01", nspace="n", hash=1)
    assert str(odd) == "#-9223372036854775808:80000000:n::a%3ab%2fc%25d%01:head#"


def test_export_import_round_trip(vfake: Any, tmp_path: Path) -> None:
    _seed()
    dump = tmp_path / "pool.dump"
    assert run(["-p", "p1", "export", str(dump)]) == (0, b"", "")
    blob = dump.read_bytes()
    assert blob.startswith(bytes.fromhex("ceffceff02000000")) and b"_a1" in blob
    code, out, err = run(["-p", "p0", "import", str(dump)])
    assert (code, err) == (0, "")
    assert out == (
        b"Importing pool\n"
        b"Write #-9223372036854775808:00000000:::o1:head#\n"
        b"Write #-9223372036854775808:00000000:ns1::o2:head#\n"
    )
    o = FakeCluster.pools["p0"][("", "o1")]
    assert (o["data"], o["xattrs"], o["omap"], o["hdr"]) == (
        b"hello world",
        {"a1": b"v1"},
        {"k1": b"val1", "k2": b"val2"},
        b"HDR",
    )
    assert (
        run(["-p", "p0", "import", "--no-overwrite", str(dump)])[1].count(b"Skipping existing") == 2
    )
    assert run(["-p", "p0", "import", "--dry-run", str(dump)])[1].count(b"***Overwrite***") == 2
    assert run(["-p", "p0", "import", "--bogus", str(dump)]) == (
        1,
        b"",
        "Invalid argument '--bogus'\n",
    )
    short = tmp_path / "short"
    short.write_bytes(blob[:700])
    code, _o, err = run(["-p", "p0", "import", str(short)])
    assert code == 1 and err.endswith("error from import: (14) Bad address\n")
    bad = tmp_path / "bad"
    bad.write_bytes(b"x" * 16)
    assert run(["-p", "p0", "import", str(bad)])[2] == (
        "Invalid magic number: 0x78787878 vs. 0xffceffce\nerror from import: (14) Bad address\n"
    )
    assert run(["-p", "p0", "import", str(tmp_path / "none")])[2] == (
        f"Error opening '{tmp_path / 'none'}': (1) Operation not permitted\n"
    )
    assert run(["-p", "p1", "export", "a", "b"])[0] == 1
