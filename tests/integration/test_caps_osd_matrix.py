"""OSD caps matrix: each cap form × each kind of op, against the real daemons.

The expected cells were recorded on the reference cluster (refceph, Ceph 16.2.15 from
Debian, python3-rados): a user per cap form (`mon 'allow r'` plus the osd caps below)
ran each op on an object of pool `images` and of pool `other`. "ok" is any outcome but
EPERM (`version.inc` with no input is -EINVAL from the class once the caps let it run);
"EPERM" is the OSD's refusal (`rados.PermissionError`).

The ops: data, xattr and omap reads and writes, object removal, class methods by their
flags (`version.read`/`inc`, `rbd.get_all_features`/`set_size`, `lock`), watch and
notify, self-managed and pool snapshots (the latter a monitor pool op, EPERM for a
`mon 'allow r'` user), and I/O in namespaces `n1`/`m1`. The cap forms: r, w, rw, rwx, *,
x, class-read, class-write, `class <name> [read]`, `object_prefix`, `namespace=` glob,
`tag <app> <key>=<value>` (pool `images` is tagged `rbd owner=glance`, `other`
`owner=cinder`), `profile rbd [pool=]`, `profile rbd-read-only`.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import rados

try:
    import pytest
except ImportError:  # the recorder below runs under Debian's python3, without pytest
    pytest = None  # type: ignore[assignment]

OK, EPERM = "ok", "EPERM"

TRIALS: dict[str, Callable[[rados.Ioctx], Any]] = {
    "read": lambda io: io.read("x"),
    "write": lambda io: io.write_full("x", b"data"),
    "stat": lambda io: io.stat("x"),
    "xattr set": lambda io: io.set_xattr("x", "a", b"1"),
    "omap set": lambda io: _omap_set(io),
    "version.read": lambda io: io.execute("x", "version", "read", b""),
    "version.inc": lambda io: io.execute("x", "version", "inc", b""),
    "read rbd_info": lambda io: io.read("rbd_info"),
    "read rbd_data": lambda io: io.read("rbd_data.1.0"),
    "write px": lambda io: io.write_full("px", b"d"),
    "write qx": lambda io: io.write_full("qx", b"d"),
    "omap get": lambda io: _omap_get(io),
    "xattr get": lambda io: io.get_xattr("x", "a"),
    "lock exclusive": lambda io: io.lock_exclusive("x", "l", "c"),
    "rbd.get_all_features": lambda io: io.execute("x", "rbd", "get_all_features", b""),
    "rbd.set_size": lambda io: io.execute("x", "rbd", "set_size", b""),
    "watch": lambda io: _watch(io),
    "notify": lambda io: io.notify("x", "hi", timeout_ms=NOTIFY_TIMEOUT_MS),
    "selfmanaged snap": lambda io: _self_managed_snap(io),
    "pool snap": lambda io: _pool_snap(io),
    "write ns n1": lambda io: _in_namespace(io, "n1", lambda: io.write_full("x", b"d")),
    "read ns m1": lambda io: _in_namespace(io, "m1", lambda: io.read("x")),
    "remove y": lambda io: _write_then_remove(io),
}
#: A notify with no watchers returns at once; the bound is for a watcher that never acks.
NOTIFY_TIMEOUT_MS = 3000
#: osd caps per user; `{images}` is this run's pool
USERS = {
    "rw": "allow rw",
    "rwclsr": "allow rw class-read",
    "x": "allow x",
    "clsver": "allow class version",
    "clsverread": "allow class version read",
    "prbd": "profile rbd pool={images}",
    "prbdro": "profile rbd-read-only pool={images}",
    "prefix": "allow rwx pool={images} object_prefix p",
    "r": "allow r",
    "w": "allow w",
    "rwx": "allow rwx",
    "star": "allow *",
    "clswrite": "allow r class-write",
    "ns": "allow rw pool={images} namespace=n*",
    "tag": "allow rw tag rbd owner=glance",
}
_O, _P = OK, EPERM
#: refceph: user -> pool -> outcome per TRIALS entry (in order)
EXPECTED = {
    "rw": {"images": [_O, _O, _O, _O, _O, _P, _P, _O, _O, _O, _O, _O, _O, _P, _P, _P, _O, _O, _O, _P, _O, _O, _O],
         "other": [_O, _O, _O, _O, _O, _P, _P, _O, _O, _O, _O, _O, _O, _P, _P, _P, _O, _O, _O, _P, _O, _O, _O]},
    "rwclsr": {"images": [_O, _O, _O, _O, _O, _O, _P, _O, _O, _O, _O, _O, _O, _P, _O, _P, _O, _O, _O, _P, _O, _O, _O],
             "other": [_O, _O, _O, _O, _O, _O, _P, _O, _O, _O, _O, _O, _O, _P, _O, _P, _O, _O, _O, _P, _O, _O, _O]},
    "x": {"images": [_P, _P, _P, _P, _P, _O, _O, _P, _P, _P, _P, _P, _P, _O, _O, _O, _P, _P, _P, _P, _P, _P, _P],
        "other": [_P, _P, _P, _P, _P, _O, _O, _P, _P, _P, _P, _P, _P, _O, _O, _O, _P, _P, _P, _P, _P, _P, _P]},
    "clsver": {"images": [_P, _P, _P, _P, _P, _O, _O, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P],
             "other": [_P, _P, _P, _P, _P, _O, _O, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
    "clsverread": {"images": [_P, _P, _P, _P, _P, _O, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P],
                 "other": [_P, _P, _P, _P, _P, _O, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
    "prbd": {"images": [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _P, _O, _O, _O],
           "other": [_P, _P, _P, _P, _P, _P, _P, _O, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
    "prbdro": {"images": [_O, _P, _O, _P, _P, _O, _P, _O, _O, _P, _P, _O, _O, _P, _O, _P, _P, _O, _P, _P, _P, _O, _P],
             "other": [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
    "prefix": {"images": [_P, _P, _P, _P, _P, _P, _P, _P, _P, _O, _P, _P, _P, _P, _P, _P, _P, _P, _O, _P, _P, _P, _P],
             "other": [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
    "r": {"images": [_O, _P, _O, _P, _P, _P, _P, _O, _O, _P, _P, _O, _O, _P, _P, _P, _P, _O, _P, _P, _P, _O, _P],
        "other": [_O, _P, _O, _P, _P, _P, _P, _O, _O, _P, _P, _O, _O, _P, _P, _P, _P, _O, _P, _P, _P, _O, _P]},
    "w": {"images": [_P, _O, _P, _O, _O, _P, _P, _P, _P, _O, _O, _P, _P, _P, _P, _P, _P, _P, _O, _P, _O, _P, _O],
        "other": [_P, _O, _P, _O, _O, _P, _P, _P, _P, _O, _O, _P, _P, _P, _P, _P, _P, _P, _O, _P, _O, _P, _O]},
    "rwx": {"images": [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _P, _O, _O, _O],
          "other": [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _P, _O, _O, _O]},
    "star": {"images": [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _P, _O, _O, _O],
           "other": [_O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _O, _P, _O, _O, _O]},
    "clswrite": {"images": [_O, _P, _O, _P, _P, _P, _P, _O, _O, _P, _P, _O, _O, _P, _P, _P, _P, _O, _P, _P, _P, _O, _P],
               "other": [_O, _P, _O, _P, _P, _P, _P, _O, _O, _P, _P, _O, _O, _P, _P, _P, _P, _O, _P, _P, _P, _O, _P]},
    "ns": {"images": [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _O, _P, _O, _P, _P],
         "other": [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
    "tag": {"images": [_O, _O, _O, _O, _O, _P, _P, _O, _O, _O, _O, _O, _O, _P, _P, _P, _O, _O, _P, _P, _O, _O, _O],
          "other": [_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P]},
}  # fmt: skip


def _omap_set(io: rados.Ioctx) -> None:
    with rados.WriteOpCtx() as op:
        io.set_omap(op, ("k",), (b"v",))
        io.operate_write_op(op, "x")


def _omap_get(io: rados.Ioctx) -> None:
    with rados.ReadOpCtx() as op:
        it, _ = io.get_omap_vals(op, "", "", 10)
        io.operate_read_op(op, "x")
        list(it)


def _watch(io: rados.Ioctx) -> None:
    w = io.watch("x", lambda *a: None)
    w.close()


def _self_managed_snap(io: rados.Ioctx) -> None:
    io.remove_self_managed_snap(io.create_self_managed_snap())


def _pool_snap(io: rados.Ioctx) -> None:
    name = "s" + uuid.uuid4().hex[:6]
    io.create_snap(name)
    io.remove_snap(name)


def _in_namespace(io: rados.Ioctx, ns: str, fn: Callable[[], Any]) -> None:
    io.set_namespace(ns)
    try:
        fn()
    finally:
        io.set_namespace("")


def _write_then_remove(io: rados.Ioctx) -> None:
    io.write_full("y", b"d")
    io.remove_object("y")


@dataclass
class Site:
    conf: str
    pools: dict[str, str]
    keyrings: dict[str, str]


def _set_up(admin: rados.Rados, conf: str, tag: str, tmp: str) -> Site:
    pools = {"images": f"images-{tag}", "other": f"other-{tag}"}
    keyrings = {}
    for pool in pools.values():
        admin.create_pool(pool)
        with admin.open_ioctx(pool) as io:
            for obj in ("x", "px", "qx", "rbd_info", "rbd_data.1.0"):
                io.write_full(obj, b"data")
            io.set_xattr("x", "a", b"1")
            for ns in ("n1", "m1"):
                _in_namespace(io, ns, lambda io=io: io.write_full("x", b"data"))
    # `tag rbd owner=glance` grants on pools whose application metadata says so: images
    for pool, value in ((pools["images"], "glance"), (pools["other"], "cinder")):
        for cmd in (
            {"prefix": "osd pool application enable", "pool": pool, "app": "rbd"},
            {"prefix": "osd pool application set", "pool": pool, "app": "rbd",
             "key": "owner", "value": value},
        ):  # fmt: skip
            ret, _, outs = admin.mon_command(json.dumps(cmd), b"")
            assert ret == 0, outs
    for user, osd in USERS.items():
        entity = f"client.o{user}-{tag}"
        caps = ["mon", "allow r", "osd", osd.format(images=pools["images"])]
        cmd = {"prefix": "auth get-or-create", "entity": entity, "caps": caps}
        ret, out, outs = admin.mon_command(json.dumps(cmd), b"")
        assert ret == 0, outs
        path = os.path.join(tmp, f"{entity}.keyring")
        with open(path, "wb") as f:
            f.write(out)
        keyrings[user] = path
    return Site(conf, pools, keyrings)


def site(cluster_conf: str, tmp_path_factory: Any) -> Iterator[Site]:
    tmp = str(tmp_path_factory.mktemp("osdcaps"))
    with rados.Rados(conffile=cluster_conf) as admin:
        s = _set_up(admin, cluster_conf, uuid.uuid4().hex[:6], tmp)
        yield s
        for pool in s.pools.values():
            admin.delete_pool(pool)


def _outcome(fn: Callable[[rados.Ioctx], Any], io: rados.Ioctx) -> str:
    try:
        fn(io)
    except rados.PermissionError:
        return EPERM
    except rados.Error as e:
        assert getattr(e, "errno", None) != errno.EPERM
    return OK


def _run(site: Site, user: str) -> dict[str, list[str]]:
    """The outcome of every trial on both pools, as `user`."""
    path = site.keyrings[user]
    name = os.path.basename(path)[: -len(".keyring")]
    out = {}
    with rados.Rados(conffile=site.conf, name=name, conf={"keyring": path}) as r:
        for which, pool in site.pools.items():
            with r.open_ioctx(pool) as io:
                out[which] = [_outcome(fn, io) for fn in TRIALS.values()]
    return out


def test_osd_caps_matrix(site: Site, user: str) -> None:
    got = _run(site, user)
    for which in site.pools:
        assert dict(zip(TRIALS, got[which], strict=True)) == dict(
            zip(TRIALS, EXPECTED[user][which], strict=True)
        ), f"{user} on {which}"


if pytest is not None:
    site = pytest.fixture(scope="module")(site)
    test_osd_caps_matrix = pytest.mark.parametrize("user", sorted(USERS))(test_osd_caps_matrix)

if __name__ == "__main__":
    # Record EXPECTED from a reference cluster with Debian's python3-rados:
    #   PATH=/usr/bin:$PATH PYTHONPATH= /usr/bin/python3 \
    #       tests/integration/test_caps_osd_matrix.py /tmp/refceph/ceph.conf
    import sys
    import tempfile

    conf = sys.argv[1]
    with rados.Rados(conffile=conf) as admin, tempfile.TemporaryDirectory() as tmp:
        s = _set_up(admin, conf, "ref", tmp)
        try:
            print(json.dumps({u: _run(s, u) for u in USERS}, indent=1))
        finally:
            for pool in s.pools.values():
                admin.delete_pool(pool)
