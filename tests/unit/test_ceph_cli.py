"""The `ceph` CLI flow against an in-test fake of the `rados` module (unit test)."""

from __future__ import annotations

import json
import types

import pytest

from pyceph.cli import ceph_main
from pyceph.common.cmdargs import command_descriptions


class FakeError(Exception):
    pass


class FakeRados:
    """Test double of rados.Rados: records commands, answers from a table."""

    instances: list[FakeRados] = []
    replies: dict[str, tuple[int, bytes, str]] = {}
    connect_error: Exception | None = None

    def __init__(self, **kw):
        self.kw = kw
        self.sent: list[tuple[str, dict]] = []
        FakeRados.instances.append(self)
        if kw.get("conffile") == "/nonexistent":
            raise FakeError("RADOS object not found (error calling conf_read_file)")

    def conf_parse_argv(self, args):
        return list(args)

    def connect(self, timeout=0):
        if FakeRados.connect_error:
            raise FakeRados.connect_error

    def shutdown(self):
        pass

    def _reply(self, kind, cmd):
        d = json.loads(cmd)
        self.sent.append((kind, d))
        if d["prefix"] == "get_command_descriptions":
            return 0, json.dumps(command_descriptions("mon")).encode(), ""
        return FakeRados.replies.get(d["prefix"], (0, b"", ""))

    def mon_command(self, cmd, inbuf, timeout=0, target=None):
        return self._reply("mon", cmd)

    def mgr_command(self, cmd, inbuf, timeout=0, target=None):
        return self._reply("mgr", cmd)


@pytest.fixture
def fake(monkeypatch):
    FakeRados.instances = []
    FakeRados.replies = {}
    FakeRados.connect_error = None
    mod = types.SimpleNamespace(Rados=FakeRados, Error=FakeError)
    monkeypatch.setattr(ceph_main, "rados_module", mod)
    monkeypatch.delenv("CEPH_ARGS", raising=False)
    return FakeRados


def test_version(capsys):
    assert ceph_main.main(["--version"]) == 0
    assert capsys.readouterr().out == "ceph version 16.2.15 (pyceph 0.1.0) pacific (stable)\n"
    assert ceph_main.main(["-v"]) == 0


def test_status_and_routing(fake, capsys):
    fake.replies["status"] = (0, b"  cluster:\n", "")
    assert ceph_main.main(["-c", "/x/ceph.conf", "--id", "foo", "-s"]) == 0
    r = fake.instances[-1]
    assert r.kw["conffile"] == "/x/ceph.conf" and r.kw["name"] == "client.foo"
    assert r.sent[-1] == ("mon", {"prefix": "status"})
    out = capsys.readouterr()
    assert out.out == "  cluster:\n" and out.err == ""


def test_mgr_command_goes_to_mgr_with_format(fake, capsys):
    fake.replies["pg stat"] = (0, b'{"pg_ready":true}', "")
    assert ceph_main.main(["-n", "client.x", "-f", "json", "pg", "stat"]) == 0
    r = fake.instances[-1]
    assert r.kw["name"] == "client.x"
    kind, cmd = r.sent[-1]
    assert kind == "mgr"
    assert cmd == {"prefix": "pg stat", "target": ["mon-mgr", ""], "format": "json"}
    assert capsys.readouterr().out == '\n{"pg_ready":true}'


def test_outs_to_stderr_and_args(fake, capsys):
    fake.replies["osd pool create"] = (0, b"", "pool 'foo' created")
    assert ceph_main.main(["-m", "1.2.3.4", "-k", "/k", "osd", "pool", "create", "foo", "8"]) == 0
    r = fake.instances[-1]
    assert r.kw["conf"] == {"keyring": "/k", "mon_host": "1.2.3.4"}
    assert r.sent[-1][1] == {"prefix": "osd pool create", "pool": "foo", "pg_num": 8}
    out = capsys.readouterr()
    assert out.out == "" and out.err == "pool 'foo' created\n"


def test_error_enoent(fake, capsys):
    fake.replies["osd pool get"] = (-2, b"", "unrecognized pool 'nonexist'")
    assert ceph_main.main(["osd", "pool", "get", "nonexist", "size"]) == 2
    assert capsys.readouterr().err == "Error ENOENT: unrecognized pool 'nonexist'\n"


def test_invalid_command_exit_22(fake, capsys):
    assert ceph_main.main(["foo", "bar"]) == 22
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "no valid command found; 10 closest matches:"
    assert err[-1] == "Error EINVAL: invalid command"
    assert ceph_main.main(["osd", "pool", "create"]) == 22
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "Invalid command: missing required parameter pool(<poolname>)"
    assert err[-1] == "Error EINVAL: invalid command"


def test_missing_conf_and_timeout(fake, capsys):
    assert ceph_main.main(["-c", "/nonexistent", "-s"]) == 1
    assert capsys.readouterr().err == (
        "Error initializing cluster client: "
        "FakeError('RADOS object not found (error calling conf_read_file)')\n"
    )
    fake.connect_error = FakeError("[errno 110] RADOS timed out (error connecting to the cluster)")
    assert ceph_main.main(["--connect-timeout", "1", "-s"]) == 1
    assert capsys.readouterr().err == (
        "[errno 110] RADOS timed out (error connecting to the cluster)\n"
    )
