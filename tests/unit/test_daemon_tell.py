"""Commands sent to one daemon (upstream's "tell" path): a monitor by name or rank, the OSD's
`osd_command` / `pg_command`, and a mgr by name. Each answers only its admin-socket
commands; outcomes as recorded from Ceph 16.2.15."""

from __future__ import annotations

import asyncio
import errno
import json
import types

from pyceph.mgr.daemon import _tell as mgr_tell
from pyceph.mon.tell import handle_tell
from pyceph.osd.commands import handle_command

from .test_mon_commands import make_state

VERSION = {"version": "16.2.15", "release": "pacific", "release_type": "stable"}


def test_mon_tell_answers_only_local_commands():
    s = make_state()
    r = handle_tell(s, {"prefix": "fsid"}, b"", "client.admin", None, 0.0)
    assert (r.ret, r.outbuf, r.outs) == (-errno.EINVAL, b"", "unknown command prefix fsid")
    r = handle_tell(s, {"prefix": "status", "format": "json"}, b"", "client.admin", None, 0.0)
    assert (r.ret, r.outs) == (-errno.EINVAL, "unknown command prefix status")
    r = handle_tell(s, {"prefix": "version"}, b"", "client.admin", None, 0.0)
    assert r.ret == 0 and r.outbuf == (json.dumps(VERSION, indent=4) + "\n").encode()
    r = handle_tell(s, {"prefix": "mon_status"}, b"", "client.admin", None, 0.0)
    assert r.ret == 0 and json.loads(r.outbuf)["name"] == "a"
    r = handle_tell(s, {}, b"", "client.admin", None, 0.0)
    assert (r.ret, r.outs) == (-errno.EINVAL, "no prefix")
    ro = {"mon": "allow r"}
    r = handle_tell(s, {"prefix": "version"}, b"", "client.ro", ro, 0.0)
    assert (r.ret, r.outs) == (-errno.EACCES, "insufficient caps")


def test_mgr_tell_answers_only_local_commands():
    assert mgr_tell({"prefix": "osd pool stats", "format": "json"}, None) == (
        -errno.EINVAL,
        b"",
        "unknown command prefix osd pool stats",
    )
    ret, out, _ = mgr_tell({"prefix": "version"}, {"mgr": "allow *"})
    assert ret == 0 and json.loads(out) == VERSION
    assert mgr_tell({"prefix": "version"}, {"mgr": "allow r"})[0] == -errno.EACCES


class _PG:
    def __init__(self, primary: bool = True) -> None:
        self.pgid = "1.0"
        self.removed = False
        self.is_primary = primary
        self.state = "active"
        self.info = types.SimpleNamespace(
            last_update=(5, 3), last_complete=(5, 3), log_tail=(0, 0), last_user_version=3,
            last_epoch_started=5, last_epoch_clean=5, same_interval_since=4, epoch_created=2,
        )  # fmt: skip
        self.peering = types.SimpleNamespace(view=types.SimpleNamespace(up=[0, 1], acting=[0, 1]))

    def pg_stats(self) -> dict:
        return {"state": "active+clean", "num_objects": 1, "stamp": 1.0}


def _osd(**pgs: _PG) -> types.SimpleNamespace:
    table = {(1, int(k[1:], 16)): v for k, v in pgs.items()}
    return types.SimpleNamespace(pgs=table, map_epoch=9)


def _cmd(osd, cmd, caps=None):
    head, out = asyncio.run(handle_command(osd, {"cmd": json.dumps(cmd)}, b"", caps))
    return head["r"], out, head["outs"]


def test_osd_command_version_and_unknown():
    osd = _osd()
    ret, out, outs = _cmd(osd, {"prefix": "version", "format": "json"})
    assert (ret, json.loads(out), outs) == (0, VERSION, "")
    assert _cmd(osd, {"prefix": "no such command"}) == (
        -errno.EINVAL,
        b"",
        "unknown command prefix no such command",
    )
    assert _cmd(osd, {"prefix": "version"}, {"osd": "allow rw"})[0] == -errno.EACCES
    assert _cmd(osd, {"prefix": "version"}, {"osd": "allow *"})[0] == 0


def test_pg_commands():
    osd = _osd(p0=_PG(), p1=_PG(primary=False))
    assert _cmd(osd, {"prefix": "query"}) == (-errno.EINVAL, b"", "no pgid specified")
    assert _cmd(osd, {"prefix": "query", "pgid": "zz"}) == (
        -errno.EINVAL,
        b"",
        "couldn't parse pgid 'zz'",
    )
    assert _cmd(osd, {"prefix": "query", "pgid": "1.999"}) == (
        -errno.ENOENT,
        b"",
        "i don't have pgid 1.999",
    )
    assert _cmd(osd, {"prefix": "query", "pgid": "1.1"})[0] == -errno.EAGAIN
    assert _cmd(osd, {"prefix": "nope", "pgid": "1.0"})[2] == "unknown command prefix nope"
    ret, out, _ = _cmd(osd, {"prefix": "query", "pgid": "1.0", "format": "json"})
    q = json.loads(out)
    assert ret == 0 and "pgid" not in q
    assert {"state", "epoch", "up", "acting", "info", "recovery_state"} <= set(q)
    assert (q["state"], q["up"], q["epoch"]) == ("active+clean", [0, 1], 9)
    assert (q["info"]["pgid"], q["info"]["last_update"]) == ("1.0", "5'3")
