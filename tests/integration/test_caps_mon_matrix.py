"""Monitor caps matrix: each mon cap form × a command of each family, on real daemons.

Expected cells were recorded on the reference cluster (refceph, Ceph 16.2.15 from
Debian, python3-rados) by this file's `__main__` (see the bottom): a user per mon cap
form sends each command with `rados.mon_command`. "ok" is any answer but -EACCES (the
command ran, or failed for its own reason: `osd pool set size 1` is -EPERM without
`mon_allow_pool_size_one`); "EACCES" is the monitor's "access denied". Some commands
change the cluster (a pool, a blocklist entry, an OSD id, a config option, a crush
bucket, a pool snapshot, a flag set and unset), so the test runs on a cluster of its own;
the ones that create something (an erasure-code profile, a crush rule, a config-key, an
entity) remove it later in the same row, so every user's row starts from the same state.
Families: osd (pool create/rm/set/get/rename/mksnap/ls/application/quota, blocklist, new,
dump, map, metadata, find, out/in/down/reweight, erasure-code-profile, crush tree/bucket/
rule, tier, set/unset), pg (the mgr's, proxied), config-key, config, auth, mon, mgr (the
monitor's), log, status, health, df, versions, quorum, fs.

Two cells look odd and are upstream's: `allow r` may run `osd in` (the monitor looks a
command up by signature prefix and finds `osd info` first, see
`enforce.mon_command_perm`), and `profile mgr` has auth rwx in 16.2.15.
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

OK, EACCES = "ok", "EACCES"

USERS = {
    "ro": "allow r",
    "rw": "allow rw",
    "prbd": "profile rbd",
    "pcrash": "profile crash",
    "bosd": "profile bootstrap-osd",
    "cmd": 'allow command "osd pool ls", allow command "config-key get" with key=foo',
    "svcosd": "allow service osd rw",
    "srados": "profile simple-rados-client",
    "pmgr": "allow profile mgr",
    "x": "allow x",
    "rwx": "allow rwx",
    "star": "allow *",
    "svcmon": "allow service mon r, allow service config rw",
}
COMMANDS: list[dict[str, Any]] = [
    {"prefix": "osd pool ls"},
    {"prefix": "osd pool create", "pool": "zzz"},
    {"prefix": "config-key get", "key": "foo"},
    {"prefix": "config-key get", "key": "bar"},
    {"prefix": "osd blocklist", "blocklistop": "add", "addr": "1.2.3.4:0/123"},
    {"prefix": "osd blocklist", "blocklistop": "rm", "addr": "1.2.3.4:0/123"},
    {"prefix": "osd new", "uuid": "00000000-0000-0000-0000-000000000001"},
    {"prefix": "status"},
    {"prefix": "auth ls"},
    {"prefix": "osd dump"},
    {"prefix": "mon dump"},
    {"prefix": "config set", "who": "osd", "name": "osd_max_backfills", "value": "2"},
    {"prefix": "osd pool set", "pool": "images", "var": "size", "val": "1"},
    {"prefix": "log", "logtext": ["hello"]},
    {"prefix": "osd pool rm", "pool": "zzz", "pool2": "zzz", "yes_i_really_really_mean_it": True},
    {"prefix": "osd crush tree"},
    {"prefix": "osd crush add-bucket", "name": "zb", "type": "host"},
    {"prefix": "osd set", "key": "noscrub"},
    {"prefix": "osd unset", "key": "noscrub"},
    {"prefix": "osd pool mksnap", "pool": "images", "snap": "s1"},
    {"prefix": "mon stat"},
    {"prefix": "mgr dump"},
    {"prefix": "auth get", "entity": "client.admin"},
    {"prefix": "config get", "who": "osd.0", "key": "osd_max_backfills"},
    {"prefix": "config dump"},
    {"prefix": "fs ls"},
    {"prefix": "health"},
    # erasure-code profiles: set, read back, list, remove (each row leaves none behind)
    {"prefix": "osd erasure-code-profile set", "name": "capsec", "profile": ["k=2", "m=1"]},
    {"prefix": "osd erasure-code-profile get", "name": "capsec"},
    {"prefix": "osd erasure-code-profile ls"},
    {"prefix": "osd erasure-code-profile rm", "name": "capsec"},
    # pool applications, variables, quotas, renames (idempotent on `images`; the rename's
    # source does not exist, so it changes nothing after the caps check)
    {
        "prefix": "osd pool application enable",
        "pool": "images",
        "app": "rbd",
        "yes_i_really_mean_it": True,
    },
    {"prefix": "osd pool application get", "pool": "images"},
    {
        "prefix": "osd pool application set",
        "pool": "images",
        "app": "rbd",
        "key": "k",
        "value": "v",
    },
    {"prefix": "osd pool get", "pool": "images", "var": "size"},
    {"prefix": "osd pool rename", "srcpool": "nosuch", "destpool": "nosuch2"},
    {"prefix": "osd pool set-quota", "pool": "images", "field": "max_objects", "val": "0"},
    {"prefix": "osd pool get-quota", "pool": "images"},
    # OSD state changes on an id that does not exist: checked, then ENOENT or a no-op
    {"prefix": "osd out", "ids": ["99"]},
    {"prefix": "osd in", "ids": ["99"]},
    {"prefix": "osd down", "ids": ["99"]},
    {"prefix": "osd reweight", "id": 99, "weight": 1.0},
    # crush rules: create, list, dump, remove
    {
        "prefix": "osd crush rule create-replicated",
        "name": "capsr",
        "root": "default",
        "type": "host",
    },
    {"prefix": "osd crush rule ls"},
    {"prefix": "osd crush rule dump", "name": "capsr"},
    {"prefix": "osd crush rule rm", "name": "capsr"},
    # OSD lookups, cache tiers, the mgr's pg stats (proxied by the monitor)
    {"prefix": "osd map", "pool": "images", "object": "o"},
    {"prefix": "osd metadata", "id": 0},
    {"prefix": "osd find", "id": 0},
    {"prefix": "osd tier rm-overlay", "pool": "images"},
    {"prefix": "pg stat"},
    # config and config-key, the rest of each family
    {"prefix": "config rm", "who": "osd", "name": "osd_max_backfills"},
    {"prefix": "config-key set", "key": "baz", "val": "v"},
    {"prefix": "config-key exists", "key": "baz"},
    {"prefix": "config-key ls"},
    {"prefix": "config-key dump"},
    {"prefix": "config-key rm", "key": "baz"},
    # auth: add, change caps, get-or-create, delete one entity per row
    {"prefix": "auth add", "entity": "client.capsz", "caps": ["mon", "allow r"]},
    {"prefix": "auth caps", "entity": "client.capsz", "caps": ["mon", "allow r"]},
    {"prefix": "auth get-or-create", "entity": "client.capsz", "caps": ["mon", "allow r"]},
    {"prefix": "auth del", "entity": "client.capsz"},
    # mon and cluster status
    {"prefix": "quorum_status"},
    {"prefix": "versions"},
    {"prefix": "df"},
    {"prefix": "log last", "num": 1},
    # the monitor's mgr commands
    {"prefix": "mgr module ls"},
    {"prefix": "mgr module enable", "module": "balancer"},
    {"prefix": "mgr services"},
]
_O, _A = OK, EACCES
#: refceph: one row per user, one column per COMMANDS entry
EXPECTED = {
    "ro":     [_O, _A, _A, _A, _A, _A, _A, _O, _A, _O, _O, _A, _A, _A, _A, _O, _A, _A, _A, _A, _O, _O, _A, _O, _O, _O, _O, _A, _O, _O, _A, _A, _O, _A, _O, _A, _A, _O, _A, _O, _A, _A, _A, _O, _O, _A, _O, _O, _O, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _O, _A, _O],
    "rw":     [_O, _O, _A, _A, _O, _O, _O, _O, _A, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _A, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _O, _O, _O],
    "prbd":   [_O, _A, _A, _A, _O, _A, _A, _O, _A, _O, _O, _A, _A, _A, _A, _O, _A, _A, _A, _A, _O, _A, _A, _A, _O, _A, _O, _A, _O, _O, _A, _A, _O, _A, _O, _A, _A, _O, _A, _O, _A, _A, _A, _O, _O, _A, _O, _O, _O, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _A, _A, _A],
    "pcrash": [_A, _A, _A, _A, _A, _A, _A, _O, _A, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _A, _A, _A, _O, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _A, _A, _A],
    "bosd":   [_O, _A, _A, _A, _A, _A, _O, _O, _A, _O, _O, _A, _A, _A, _A, _O, _A, _A, _A, _A, _O, _A, _A, _A, _O, _A, _O, _A, _O, _O, _A, _A, _O, _A, _O, _A, _A, _O, _A, _O, _A, _A, _A, _O, _O, _A, _O, _O, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _A, _A, _A],
    "cmd":    [_O, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A],
    "svcosd": [_O, _O, _A, _A, _O, _O, _O, _A, _A, _O, _A, _A, _O, _A, _O, _O, _O, _O, _O, _O, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A],
    "srados": [_O, _A, _A, _A, _A, _A, _A, _O, _A, _O, _O, _A, _A, _A, _A, _O, _A, _A, _A, _A, _O, _A, _A, _A, _O, _A, _O, _A, _O, _O, _A, _A, _O, _A, _O, _A, _A, _O, _A, _O, _A, _A, _A, _O, _O, _A, _O, _O, _O, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _A, _A, _A],
    "pmgr":   [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _A, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O],
    "x":      [_A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A],
    "rwx":    [_O, _O, _A, _A, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _A, _A, _A, _A, _A, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O],
    "star":   [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O],
    "svcmon": [_A, _A, _A, _A, _A, _A, _A, _O, _A, _A, _O, _O, _A, _A, _A, _A, _A, _A, _A, _A, _O, _A, _A, _O, _O, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _A, _A, _A, _A, _A, _A, _A, _A, _A, _O, _O, _O, _O, _A, _A, _A],
}  # fmt: skip


@dataclass
class Site:
    conf: str
    keyrings: dict[str, str]


def _set_up(admin: rados.Rados, conf: str, tmp: str) -> Site:
    admin.create_pool("images")
    for key in ("foo", "bar"):
        cmd = {"prefix": "config-key set", "key": key, "val": "v"}
        assert admin.mon_command(json.dumps(cmd), b"")[0] == 0
    keyrings = {}
    for user, mon in USERS.items():
        entity = f"client.m{user}"
        cmd = {"prefix": "auth get-or-create", "entity": entity, "caps": ["mon", mon]}
        ret, out, outs = admin.mon_command(json.dumps(cmd), b"")
        assert ret == 0, outs
        # the key only: a `caps mon = "allow command "x""` line (quotes in quotes, as
        # Ceph writes it) does not load in pyceph's keyring parser (reported)
        key = next(ln for ln in out.decode().splitlines() if ln.strip().startswith("key"))
        keyrings[user] = os.path.join(tmp, f"{entity}.keyring")
        with open(keyrings[user], "w") as f:
            f.write(f"[{entity}]\n{key}\n")
    return Site(conf, keyrings)


def _run(site: Site, user: str) -> list[str]:
    path = site.keyrings[user]
    name = os.path.basename(path)[: -len(".keyring")]
    out = []
    with rados.Rados(conffile=site.conf, name=name, conf={"keyring": path}) as r:
        for cmd in COMMANDS:
            ret, _, outs = r.mon_command(json.dumps(cmd), b"", timeout=30)
            if ret == -errno.EACCES:
                assert outs == "access denied", (cmd, outs)
            out.append(EACCES if ret == -errno.EACCES else OK)
    return out


def site(cluster_factory: Any, tmp_path: Any) -> Iterator[Site]:
    cluster = cluster_factory(1)
    with rados.Rados(conffile=cluster.conf_path) as admin:
        yield _set_up(admin, cluster.conf_path, str(tmp_path))


def test_mon_caps_matrix(site: Site) -> None:
    labels = [" ".join(str(v) for v in c.values()) for c in COMMANDS]
    got = {user: _run(site, user) for user in USERS}
    # every differing cell at once: (user, command) -> (pyceph, reference)
    wrong = {
        (user, label): (cell, want)
        for user, row in got.items()
        for label, cell, want in zip(labels, row, EXPECTED[user], strict=True)
        if cell != want
    }
    assert not wrong, "\n".join(
        f"{u}: {c}: {g} (reference: {w})" for (u, c), (g, w) in wrong.items()
    )


if pytest is not None:
    site = pytest.fixture(site)

if __name__ == "__main__":
    # Record EXPECTED on a fresh reference cluster with Debian's python3-rados:
    #   PATH=/usr/bin:$PATH PYTHONPATH= /usr/bin/python3 \
    #       tests/integration/test_caps_mon_matrix.py /tmp/refceph/ceph.conf
    import sys
    import tempfile

    conf = sys.argv[1]
    with rados.Rados(conffile=conf) as admin, tempfile.TemporaryDirectory() as tmp:
        s = _set_up(admin, conf, tmp)
        print(json.dumps({u: _run(s, u) for u in USERS}))
