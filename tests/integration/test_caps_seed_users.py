"""The Glance/Cinder users of seed 004 do exactly what Ceph 16.2.15 lets them do.

Users are created with the seed's caps (`client.images`, `client.volumes`) and the
modern form (`mon 'profile rbd' osd 'profile rbd pool=images'`), then drive the real
daemons of the shared cluster through the drop-in `rados` and `rbd` modules. Every
expected outcome was recorded on the reference cluster (refceph, Debian's 16.2.15):
their own pool works (objects, RBD images, self-managed snapshots, clones), another
pool is -EPERM from the OSD, pool commands are -EACCES "access denied" from the
monitor, a mgr command sent to a monitor is checked against the mon caps, pool listings
and `df` are not filtered, and daemon-only monitor messages from a client are dropped.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import rados
import rbd
from rados import _core as rados_core

MiB = 1 << 20


@dataclass
class Site:
    conf: str
    images: str
    volumes: str
    other: str
    keyrings: dict[str, str]


def _mon(handle: rados.Rados, **cmd: object) -> tuple[int, bytes, str]:
    return handle.mon_command(json.dumps(cmd), b"")


@pytest.fixture(scope="module")
def site(cluster_conf: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tag = uuid.uuid4().hex[:6]
    images, volumes, other = f"images-{tag}", f"volumes-{tag}", f"other-{tag}"
    users = {
        f"images-{tag}": [
            "mon", "allow r",
            "osd", f"allow class-read object_prefix rbd_children, allow rwx pool={images}",
        ],
        f"volumes-{tag}": [
            "mon", "allow r",
            "osd", "allow class-read object_prefix rbd_children, "
            f"allow rwx pool={volumes}, allow rx pool={images}",
        ],
        f"prbd-{tag}": ["mon", "profile rbd", "osd", f"profile rbd pool={images}"],
    }  # fmt: skip
    tmp = tmp_path_factory.mktemp("caps")
    keyrings = {}
    with rados.Rados(conffile=cluster_conf) as admin:
        for pool in (images, volumes, other):
            admin.create_pool(pool)
            assert _mon(admin, prefix="osd pool application enable", pool=pool, app="rbd")[0] == 0
        for name, caps in users.items():
            ret, out, outs = _mon(admin, prefix="auth get-or-create", entity=f"client.{name}", caps=caps)  # fmt: skip
            assert ret == 0, outs
            path = os.path.join(tmp, f"{name}.keyring")
            with open(path, "wb") as f:
                f.write(out)
            keyrings[name.split("-")[0]] = path
        with admin.open_ioctx(other) as io:
            io.write_full("secret", b"not yours")
        yield Site(cluster_conf, images, volumes, other, keyrings)
        for pool in (images, volumes, other):
            admin.delete_pool(pool)


def _connect(site: Site, who: str) -> rados.Rados:
    path = site.keyrings[who]
    name = os.path.basename(path)[: -len(".keyring")]
    return rados.Rados(conffile=site.conf, name=f"client.{name}", conf={"keyring": path})


def _denied_everywhere_but_mine(r: rados.Rados, site: Site) -> None:
    with r.open_ioctx(site.other) as io:
        with pytest.raises(rados.PermissionError):
            io.read("secret")
        with pytest.raises(rados.PermissionError):
            io.write_full("mine", b"x")
        # the binding's ObjectIterator ends on any error (-EPERM from the OSD here)
        assert list(io.list_objects()) == []
    ret, _, outs = _mon(r, prefix="osd pool create", pool="not-allowed")
    assert (ret, outs) == (-errno.EACCES, "access denied")
    assert _mon(r, prefix="auth ls")[::2] == (-errno.EACCES, "access denied")
    # listings and df are not filtered (as upstream)
    assert {site.images, site.volumes, site.other} <= set(r.list_pools())
    assert r.get_cluster_stats()["kb"] > 0
    ret, out, _ = _mon(r, prefix="df", format="json")
    assert ret == 0 and site.other in {p["name"] for p in json.loads(out)["pools"]}
    # a mgr command sent to a monitor is checked against the mon caps (module `osd`, r)
    assert _mon(r, prefix="osd pool stats", format="json")[0] == 0


def test_images_user(site: Site) -> None:
    with _connect(site, "images") as r:
        with r.open_ioctx(site.images) as io:
            rbd.RBD().create(io, "glance-img", 4 * MiB)
            with rbd.Image(io, "glance-img") as img:
                img.write(b"image bytes", 0)
                img.create_snap("snap")  # self-managed snapshot: osd caps that write
                img.protect_snap("snap")
                assert img.read(0, 11) == b"image bytes"
            assert "glance-img" in rbd.RBD().list(io)
        # a pool snapshot needs mon `osd` w
        ret, _, outs = _mon(r, prefix="osd pool mksnap", pool=site.images, snap="pool-snap")
        assert (ret, outs) == (-errno.EACCES, "access denied")
        # librados sends it as a pool op, refused with EPERM (as upstream), not EACCES
        with r.open_ioctx(site.images) as io, pytest.raises(rados.PermissionError):
            io.create_snap("pool-snap")
        with r.open_ioctx(site.volumes) as io, pytest.raises(rbd.PermissionError):
            rbd.RBD().create(io, "nope", MiB)
        _denied_everywhere_but_mine(r, site)


def _glance_image(site: Site) -> None:
    """client.images stores an image with a protected snapshot (once per module)."""
    with _connect(site, "images") as r, r.open_ioctx(site.images) as io:
        if "glance-img" in rbd.RBD().list(io):
            return
        rbd.RBD().create(io, "glance-img", 4 * MiB)
        with rbd.Image(io, "glance-img") as img:
            img.write(b"image bytes", 0)
            img.create_snap("snap")
            img.protect_snap("snap")


def test_volumes_user_clones_from_images(site: Site) -> None:
    _glance_image(site)
    with _connect(site, "volumes") as r:
        with r.open_ioctx(site.images) as pio, r.open_ioctx(site.volumes) as vio:
            rbd.RBD().clone(pio, "glance-img", "snap", vio, "volume-1")
            with rbd.Image(vio, "volume-1") as vol:
                assert vol.read(0, 11) == b"image bytes"  # through the parent (images)
                vol.write(b"VOLUME", 0)  # copy-up into volumes
                assert vol.read(0, 11) == b"VOLUMEbytes"
            with rbd.Image(pio, "glance-img", read_only=True) as img:
                assert img.read(0, 11) == b"image bytes"
            # a read-write open watches the header: a write to `images`
            with pytest.raises(rbd.PermissionError):
                rbd.Image(pio, "glance-img")
            with pytest.raises(rados.PermissionError):
                pio.write_full("mine", b"x")
            rbd.RBD().remove(vio, "volume-1")
        _denied_everywhere_but_mine(r, site)


def test_profile_rbd_user(site: Site) -> None:
    with _connect(site, "prbd") as r:
        with r.open_ioctx(site.images) as io:
            rbd.RBD().create(io, "modern", 4 * MiB)
            with rbd.Image(io, "modern") as img:
                img.write(b"modern", 0)
                img.create_snap("s")
                assert img.read(0, 6) == b"modern"
                img.remove_snap("s")
            rbd.RBD().remove(io, "modern")
        with r.open_ioctx(site.volumes) as io, pytest.raises(rbd.PermissionError):
            rbd.RBD().list(io)
        _denied_everywhere_but_mine(r, site)


def test_client_cannot_speak_for_daemons(site: Site) -> None:
    """A client's mgr beacon, pg-temp request and cluster log entry are dropped by the
    monitor (upstream's `is_capable("mgr"|"osd", x)` / `("log", w)` guards)."""
    with _connect(site, "images") as r:
        before = json.loads(_mon(r, prefix="mgr dump", format="json")[1])
        epoch = json.loads(_mon(r, prefix="osd dump", format="json")[1])["epoch"]
        marker = f"forged-{uuid.uuid4().hex}"

        async def forge() -> None:
            monc = rados_core.core_client(r).monc
            beacon = {"name": "evil", "addr": ["127.0.0.1", 1], "available": True}
            monc.send("mgr_beacon", {**beacon, "available_modules": [], "services": {}})
            monc.send("pg_temp", {"pgs": {"1.0": [0]}})
            monc.send("log", {"entries": [{"channel": "cluster", "prio": "info", "msg": marker}]})

        rados_core.run(r, forge())
        # a command after them on the same session is answered after they were handled
        assert _mon(r, prefix="status")[0] == 0
        after = json.loads(_mon(r, prefix="mgr dump", format="json")[1])
        assert after["active_name"] == before["active_name"]
        assert "evil" not in {s["name"] for s in after.get("standbys", [])}
        assert json.loads(_mon(r, prefix="osd dump", format="json")[1])["epoch"] == epoch
    with rados.Rados(conffile=site.conf) as admin:
        ret, out, _ = _mon(admin, prefix="log last", num=200, format="json")
        assert ret == 0 and marker.encode() not in out
