"""Manager caps matrix: each mgr cap form × built-in and module commands, on real daemons.

Expected cells were recorded on the reference cluster (refceph, Ceph 16.2.15 from
Debian, python3-rados) by this file's `__main__` (see the bottom): a user per mgr cap
form (each with `mon 'allow r'`) sends each command with `rados.mgr_command`. "ok" is
any answer but -EACCES (the command ran, or failed for its own reason: `crash post`
without a report is -EINVAL); "EACCES" is the manager's "access denied", "EACCES-nocaps"
its longer refusal of a key without mgr caps (`DENIED`). The commands
are the manager's own (`pg stat`, `osd df`, `osd pool stats`: DaemonServer's table)
and those of the always-on modules `crash`, `balancer` and `rbd_support`, reading and
writing; none changes what another test sees.

The same commands sent with `rados.mon_command` go to the monitor, which judges them by
the caller's *mon* caps and proxies them to the manager as itself (`VIA_MON`: mgr caps
play no part there). With its manager stopped, the reference's `mgr_command` waits for
one up to `rados_mon_op_timeout` and answers upstream's positive ETIMEDOUT.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import rados

try:
    import pytest
except ImportError:  # the recorder below runs under Debian's python3, without pytest
    pytest = None  # type: ignore[assignment]

OK, EACCES, NOCAPS = "ok", "EACCES", "EACCES-nocaps"
#: The manager's refusal texts: a key with no mgr caps at all is told so.
DENIED = {
    EACCES: "access denied",
    NOCAPS: "access denied: does your client key have mgr caps? See "
    "http://docs.ceph.com/en/latest/mgr/administrator/#client-authentication",
}

#: mgr caps per user (every user also has mon 'allow r'); None: no mgr caps at all
USERS: dict[str, str | None] = {
    "none": None,
    "r": "allow r",
    "rw": "allow rw",
    "star": "allow *",
    "modcrash": "allow module crash rw",
    "modcrashr": "allow module crash r",
    "cmd": 'allow command "osd df", allow command "balancer status"',
    "svcosd": "allow service osd r",
    "pcrash": "profile crash",
    "prbd": "profile rbd",
    "prbdro": "profile rbd-read-only",
}
COMMANDS: list[dict[str, Any]] = [
    {"prefix": "pg stat"},
    {"prefix": "osd df"},
    {"prefix": "osd pool stats"},
    {"prefix": "crash ls"},
    {"prefix": "crash archive-all"},
    {"prefix": "crash post"},
    {"prefix": "balancer status"},
    {"prefix": "balancer mode", "mode": "upmap"},
    {"prefix": "rbd task list"},
]
_O, _A, _N = OK, EACCES, NOCAPS
#: refceph: one row per user, one column per COMMANDS entry
EXPECTED: dict[str, list[str]] = {
    "none":      [_N, _N, _N, _N, _N, _N, _N, _N, _N],
    "r":         [_O, _O, _O, _O, _N, _N, _O, _N, _O],
    "rw":        [_O, _O, _O, _O, _O, _O, _O, _O, _O],
    "star":      [_O, _O, _O, _O, _O, _O, _O, _O, _O],
    "modcrash":  [_N, _N, _N, _O, _O, _O, _N, _N, _N],
    "modcrashr": [_N, _N, _N, _O, _N, _N, _N, _N, _N],
    "cmd":       [_N, _O, _N, _N, _N, _N, _O, _N, _N],
    "svcosd":    [_N, _O, _O, _N, _N, _N, _N, _N, _N],
    "pcrash":    [_N, _N, _N, _N, _N, _O, _N, _N, _N],
    "prbd":      [_N, _N, _N, _N, _N, _N, _N, _N, _O],
    "prbdro":    [_N, _N, _N, _N, _N, _N, _N, _N, _O],
}  # fmt: skip
#: refceph, the same commands with `mon_command` (mon 'allow r' for every user): the
#: monitor's own "access denied" for what needs mon `w`, whatever the mgr caps say
VIA_MON: dict[str, list[str]] = {
    "none":      [_O, _O, _O, _O, _A, _A, _O, _A, _O],
    "rw":        [_O, _O, _O, _O, _A, _A, _O, _A, _O],
}  # fmt: skip
#: refceph with its manager stopped: `mgr_command` under `rados_mon_op_timeout`
STOPPED_MGR_REPLY = (errno.ETIMEDOUT, b"", "")
#: `rados_mon_op_timeout` for the stopped-manager case (seconds)
STOPPED_MGR_TIMEOUT = 2


@dataclass
class Site:
    conf: str
    keyrings: dict[str, str]


def _set_up(admin: rados.Rados, conf: str, tmp: str) -> Site:
    keyrings = {}
    for user, mgr in USERS.items():
        entity = f"client.g{user}"
        caps = ["mon", "allow r"] + (["mgr", mgr] if mgr else [])
        admin.mon_command(json.dumps({"prefix": "auth rm", "entity": entity}), b"")
        cmd = {"prefix": "auth get-or-create", "entity": entity, "caps": caps}
        ret, out, outs = admin.mon_command(json.dumps(cmd), b"")
        assert ret == 0, outs
        keyrings[user] = os.path.join(tmp, f"{entity}.keyring")
        with open(keyrings[user], "wb") as f:
            f.write(out)
    return Site(conf, keyrings)


def _run(site: Site, user: str, via: str = "mgr") -> list[str]:
    path = site.keyrings[user]
    name = os.path.basename(path)[: -len(".keyring")]
    out = []
    with rados.Rados(conffile=site.conf, name=name, conf={"keyring": path}) as r:
        send = r.mgr_command if via == "mgr" else r.mon_command
        for cmd in COMMANDS:
            ret, _, outs = send(json.dumps(cmd), b"", timeout=30)
            if ret != -errno.EACCES:
                # a module that is not there would make every cell "ok"
                assert not _unknown(ret, outs), (cmd, outs)
                out.append(OK)
                continue
            kinds = [k for k, text in DENIED.items() if text == outs]
            assert kinds, (cmd, outs)
            out.append(kinds[0])
    return out


#: How long the manager may take to load Debian's modules and publish their commands.
MODULES_TIMEOUT = 60.0


def _known(admin: rados.Rados, cmd: dict[str, Any]) -> bool:
    if cmd["prefix"] == "crash post":  # it wants a report; `crash ls` stands for it
        cmd = {"prefix": "crash ls"}
    if cmd["prefix"] in ("crash archive-all", "balancer mode"):  # writes: known if reads are
        return True
    ret, _, outs = admin.mgr_command(json.dumps(cmd), b"", timeout=30)
    return not _unknown(ret, outs)


def _unknown(ret: int, outs: str) -> bool:
    return ret == -errno.EINVAL and ("not known" in outs or "handler" in outs)


#: Where Debian's upstream modules live (crash, balancer, rbd_support load from there).
DEBIAN_MGR = "/usr/share/ceph/mgr"


def site(tmp_path_factory: Any) -> Iterator[Site]:
    # a cluster of its own: the session cluster runs the built-in modules only
    from tests.conftest import make_cluster
    from tests.waiting import wait_until

    tmp = tmp_path_factory.mktemp("mgrcaps")
    cluster = make_cluster(str(tmp / "c"), 1, mgr_module_path=DEBIAN_MGR,
                           osd_pool_default_size="1")  # fmt: skip
    try:
        with rados.Rados(conffile=cluster.conf_path) as admin:
            wait_until(lambda: all(_known(admin, c) for c in COMMANDS),
                       "the modules' commands known", MODULES_TIMEOUT)  # fmt: skip
            yield _set_up(admin, cluster.conf_path, str(tmp))
    finally:
        cluster.stop()


def test_mgr_caps_matrix(site: Site, user: str) -> None:
    labels = [" ".join(str(v) for v in c.values()) for c in COMMANDS]
    assert dict(zip(labels, _run(site, user), strict=True)) == dict(
        zip(labels, EXPECTED[user], strict=True)
    ), user


def test_mon_command_of_mgr_commands_checks_mon_caps(site: Site) -> None:
    labels = [" ".join(str(v) for v in c.values()) for c in COMMANDS]
    for user, row in VIA_MON.items():
        assert dict(zip(labels, _run(site, user, "mon"), strict=True)) == dict(
            zip(labels, row, strict=True)
        ), user


def test_mgr_command_waits_for_a_stopped_mgr(cluster_factory: Any) -> None:
    import time

    cluster = cluster_factory(0)
    opts = {"rados_mon_op_timeout": str(STOPPED_MGR_TIMEOUT)}
    with rados.Rados(conffile=cluster.conf_path, conf=opts) as r:
        assert r.mgr_command(json.dumps({"prefix": "pg stat"}), b"")[0] == 0
        cluster.stop(["mgr.x"])  # still the active mgr in the map: its address is dead
        t0 = time.monotonic()
        assert r.mgr_command(json.dumps({"prefix": "pg stat"}), b"") == STOPPED_MGR_REPLY
        assert time.monotonic() - t0 >= STOPPED_MGR_TIMEOUT


if pytest is not None:
    site = pytest.fixture(scope="module")(site)
    test_mgr_caps_matrix = pytest.mark.parametrize("user", sorted(USERS))(test_mgr_caps_matrix)

if __name__ == "__main__":
    # Record EXPECTED from a reference cluster with Debian's python3-rados:
    #   PATH=/usr/bin:$PATH PYTHONPATH= /usr/bin/python3 \
    #       tests/integration/test_caps_mgr_matrix.py /tmp/refceph/ceph.conf
    import sys
    import tempfile

    conf = sys.argv[1]
    with rados.Rados(conffile=conf) as admin, tempfile.TemporaryDirectory() as tmp:
        s = _set_up(admin, conf, tmp)
        print(json.dumps({u: _run(s, u) for u in USERS}))
        print(json.dumps({u: _run(s, u, "mon") for u in VIA_MON}))
