"""`pyceph.nbd.mapper` without a cluster: specs, state files, lookups, a server process
that fails to start, and the `rbd-nbd` command line's own errors."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

from pyceph.common.errors import CephError
from pyceph.nbd import mapper
from pyceph.nbd.mapper import MappedDevice
from pyceph.nbd.rbd_nbd import device_address, main


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("img", ("rbd", "", "img", None)),
        ("p/img", ("p", "", "img", None)),
        ("p/ns/img@s", ("p", "ns", "img", "s")),
        ("/img@", ("rbd", "", "img", None)),
    ],
)
def test_parse_spec(spec, parsed):
    assert mapper.parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["a/b/c/d", "p/", "@snap"])
def test_parse_spec_rejects(spec):
    with pytest.raises(CephError) as ei:
        mapper.parse_spec(spec)
    assert ei.value.errno == errno.EINVAL


def test_device_address():
    assert device_address("img", host="127.0.0.1", port=10809) == "nbd://127.0.0.1:10809/img"
    assert device_address("img@s", socket_path="/r/s.sock") == "nbd+unix:///img@s?socket=/r/s.sock"
    assert device_address("a b", host="::1", port=1) == "nbd://[::1]:1/a%20b"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_state_files_list_and_find(tmp_path):
    run_dir = str(tmp_path)
    live = MappedDevice(os.getpid(), "p", "ns", "img", "s", "nbd://127.0.0.1:1/img@s", True)
    dead = MappedDevice(_dead_pid(), "p", "", "other", None, "nbd://127.0.0.1:2/other")
    mapper.write_state(run_dir, live)
    stale = mapper.write_state(run_dir, dead)
    (tmp_path / "unrelated.txt").write_text("x")
    assert mapper.list_mapped(run_dir) == [live]
    assert not os.path.exists(stale)  # a dead server's state is dropped
    assert mapper.find_mapped(live.device, run_dir) == live
    assert mapper.find_mapped(str(live.id), run_dir) == live
    assert mapper.find_mapped("p/ns/img@s", run_dir) == live
    for spec in ("p/ns/img", "p/img@s", "nbd://127.0.0.1:2/other"):
        with pytest.raises(CephError) as ei:
            mapper.find_mapped(spec, run_dir)
        assert ei.value.errno == errno.ENOENT
    assert live.to_json() == {"id": live.id, "pool": "p", "namespace": "ns", "image": "img",
                              "snap": "s", "device": live.device}  # fmt: skip
    assert dead.to_json()["snap"] == "-"
    assert live.spec() == "p/ns/img@s"


def test_runtime_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(mapper.RUN_DIR_ENV, str(tmp_path / "r"))
    assert mapper.runtime_dir() == str(tmp_path / "r")
    assert os.path.isdir(tmp_path / "r")


def test_map_reports_the_server_processes_error(tmp_path):
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\nmon_host = embedded:\n")
    with pytest.raises(CephError) as ei:
        mapper.map_image(str(conf), "rbd", "", "img", run_dir=str(tmp_path / "run"))
    assert ei.value.errno == errno.EINVAL
    assert "embedded" in ei.value.message
    assert mapper.list_mapped(str(tmp_path / "run")) == []


def test_command_line_errors(tmp_path, capsys):
    run_dir = str(tmp_path)
    assert main(["unmap", "pool/img", "--run-dir", run_dir]) == 1
    assert "rbd-nbd: pool/img is not mapped" in capsys.readouterr().err
    assert main(["map", "--run-dir", run_dir]) == 1
    assert "must specify" in capsys.readouterr().err
    assert main(["list-mapped", "--run-dir", run_dir]) == 0
    assert capsys.readouterr().out == ""
    assert main(["list-mapped", "--format", "json", "--run-dir", run_dir]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["map", "p/img", "--bind", "nonsense", "--foreground", "--run-dir", run_dir]) == 1
    assert "invalid bind address" in capsys.readouterr().err


def test_format_mapped():
    from pyceph.nbd.rbd_nbd import format_mapped

    m = MappedDevice(42, "p", "", "a&b", None, "nbd://127.0.0.1:5/a%26b")
    assert format_mapped([]) == ""
    lines = format_mapped([m]).splitlines()
    assert lines[0].split() == ["id", "pool", "namespace", "image", "snap", "device"]
    assert lines[1].split() == ["42", "p", "a&b", "-", "nbd://127.0.0.1:5/a%26b"]
    assert json.loads(format_mapped([m], "json")) == [m.to_json()]
    assert format_mapped([m], "json", pretty=True).startswith("[\n")
    assert format_mapped([m], "xml") == (
        "<devices><device><id>42</id><pool>p</pool><namespace></namespace>"
        "<image>a&amp;b</image><snap>-</snap><device>nbd://127.0.0.1:5/a%26b</device>"
        "</device></devices>\n"
    )
