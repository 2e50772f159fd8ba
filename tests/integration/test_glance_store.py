"""OpenStack Glance's own RBD store driver, unmodified, against pyceph.

`glance_store` (pinned in the `test` extra) is imported as Glance imports it; its
`_drivers/rbd.py` does `import rados, rbd` and so gets pyceph's drop-in modules. The
site is set up the way an operator sets up Glance on Ceph (upstream's "Block Devices
and OpenStack" guide, seed 004): a pool `images-*`, the seed's cephx user `client.images`
with `mon 'allow r' osd 'allow class-read object_prefix rbd_children, allow rwx
pool=...'` caps whose keyring a `[client.images]` section of Glance's ceph.conf names, and `glance-api.conf`'s `[glance_store]` section
(`stores = rbd`, `default_store = rbd`, `rbd_store_pool`, `rbd_store_user`,
`rbd_store_ceph_conf`, `rbd_store_chunk_size`, `rados_connect_timeout`) parsed by
oslo.config.

The scenario (issue 6, "What it must show"): an image of unknown size (size 0: the
driver's resize-on-write path, then its final trim) is added and served back byte-exact
with the md5 checksum and sha512 multihash the store returned (a second add under the
same id is refused with `Duplicate`); a Cinder-style clone of its protected `snap`
snapshot into a second pool makes `delete` fail with `InUseByStore` and leaves the
image intact; once the clone is flattened and removed the delete succeeds and nothing
of the image is left in the pool. Every assertion here also holds on Ceph 16.2.15 with
Debian's python3-rados/python3-rbd (the scenario was run against refceph that way).

It runs on an embedded cluster (`mon_host = embedded:DIR`; no cephx there, so the
user is only a name) and on the real daemons of the shared cluster (cephx: the
images user authenticates with its own key and its caps are enforced).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import glance_store
import pytest
from glance_store import exceptions as gs_exc
from glance_store._drivers import rbd as glance_rbd_driver
from oslo_config import cfg

import rados
import rbd

MiB = 1 << 20
#: `rbd_store_chunk_size` in MiB: the image's object size (order 20), so a few MiB
#: image spans several `rbd_data` objects and the driver resizes several times.
CHUNK_MIB = 1
#: Not a multiple of the chunk: the driver's last write is short and its final
#: `resize(bytes_written)` shrinks the over-grown image.
IMAGE_BYTES = 5 * MiB + 12345
#: What a Nova/Cinder guest writes into the cloned volume (copy-up of one object).
VOLUME_WRITE_OFFSET = 2 * MiB + 512
VOLUME_WRITE = b"cinder volume data " * 200
#: Seed 004's Glance user, made with the seed's exact command (issue 10: the Glance
#: store test runs as `client.images`):
#:   ceph auth get-or-create client.images mon 'allow r' \
#:       osd 'allow class-read object_prefix rbd_children, allow rwx pool=images'
GLANCE_USER = "images"
GLANCE_CAPS = [
    "mon",
    "allow r",
    "osd",
    "allow class-read object_prefix rbd_children, allow rwx pool={pool}",
]
SNAP = "snap"  # glance_store's DEFAULT_SNAPNAME
#: glance's `rados_connect_timeout` (seconds): it then sets the rados mon/osd op and
#: mount timeouts on every connection, so a stuck cluster fails the test instead of
#: hanging it.
GLANCE_CONNECT_TIMEOUT = 60


@dataclass
class Site:
    """What the operator has set up: an admin handle, pools and Glance's conf files."""

    admin: rados.Rados
    images_pool: str
    volumes_pool: str
    ceph_conf: str  # Glance's ceph.conf (with the [client.images] keyring)
    glance_conf: str  # glance-api.conf


def _mon(admin: rados.Rados, **cmd: object) -> tuple[int, bytes]:
    ret, out, err = admin.mon_command(json.dumps(cmd), b"")
    return ret, out


def _new_site(admin: rados.Rados, tmp: str) -> Site:
    """Names of the pools and paths of the conf files (nothing created yet)."""
    suffix = uuid.uuid4().hex[:8]
    return Site(
        admin=admin,
        images_pool=f"images-{suffix}",
        volumes_pool=f"volumes-{suffix}",
        ceph_conf=os.path.join(tmp, "glance-ceph.conf"),
        glance_conf=os.path.join(tmp, "glance-api.conf"),
    )


def _set_up_site(site: Site, cluster_conf_text: str) -> None:
    """What the operator does: pools, the images user, its keyring, Glance's confs."""
    admin = site.admin
    for pool in (site.images_pool, site.volumes_pool):
        admin.create_pool(pool)
        ret, _ = _mon(admin, prefix="osd pool application enable", pool=pool, app="rbd")
        assert ret == 0
    caps = [c.format(pool=site.images_pool) for c in GLANCE_CAPS]
    entity = f"client.{GLANCE_USER}"
    ret, keyring = _mon(admin, prefix="auth get-or-create", entity=entity, caps=caps)
    assert ret == 0
    keyring_path = os.path.join(os.path.dirname(site.ceph_conf), f"ceph.{entity}.keyring")
    with open(keyring_path, "wb") as f:
        f.write(keyring)
    with open(site.ceph_conf, "w") as f:
        f.write(f"{cluster_conf_text}\n[{entity}]\nkeyring = {keyring_path}\n")
    with open(site.glance_conf, "w") as f:
        f.write(
            "[glance_store]\n"
            "stores = rbd\n"
            "default_store = rbd\n"
            f"rbd_store_pool = {site.images_pool}\n"
            f"rbd_store_user = {GLANCE_USER}\n"
            f"rbd_store_ceph_conf = {site.ceph_conf}\n"
            f"rbd_store_chunk_size = {CHUNK_MIB}\n"
            f"rados_connect_timeout = {GLANCE_CONNECT_TIMEOUT}\n"
        )


def _tear_down_site(site: Site) -> None:
    """Remove whatever of the site exists (the daemons' cluster is shared)."""
    for pool in (site.volumes_pool, site.images_pool):
        if site.admin.pool_exists(pool):
            site.admin.delete_pool(pool)
    _mon(site.admin, prefix="auth del", entity=f"client.{GLANCE_USER}")


@pytest.fixture(params=["embedded", "daemons"])
def site(request, tmp_path) -> Iterator[Site]:
    """An operator's Glance-on-Ceph site on either kind of cluster."""
    if request.param == "embedded":
        cluster_dir = str(tmp_path / "cluster")
        admin = rados.Rados(conf={"mon_host": f"embedded:{cluster_dir}"})
        admin.connect()  # held for the whole test: it keeps the embedded cluster up
        conf_path = os.path.join(cluster_dir, "ceph.conf")
    else:
        conf_path = request.getfixturevalue("cluster_conf")
        admin = rados.Rados(conffile=conf_path)
        admin.connect(timeout=GLANCE_CONNECT_TIMEOUT)
    s = _new_site(admin, str(tmp_path))
    try:
        with open(conf_path) as f:
            _set_up_site(s, f.read())
        yield s
    finally:
        try:
            _tear_down_site(s)
        finally:
            admin.shutdown()


@pytest.fixture
def glance(site: Site) -> Iterator[cfg.ConfigOpts]:
    """glance_store configured from glance-api.conf, as glance-api does at start-up."""
    conf = cfg.CONF
    glance_store.register_opts(conf)
    conf(args=[], default_config_files=[site.glance_conf], project="glance")
    assert glance_store.create_stores(conf) == 1
    glance_store.verify_default_store()
    try:
        yield conf
    finally:
        conf.reset()
        conf.clear()


def _image_data() -> bytes:
    return os.urandom(IMAGE_BYTES)


def _read_back(uri: str) -> bytes:
    chunks, size = glance_store.get_from_backend(uri)
    data = b"".join(chunks)
    assert size == len(data)
    return data


def _rbd_objects_of(ioctx: rados.Ioctx, name: str, image_id: str) -> list[str]:
    return sorted(o.key for o in ioctx.list_objects() if name in o.key or image_id in o.key)


def _directory_keys(ioctx: rados.Ioctx) -> list[str]:
    with rados.ReadOpCtx() as op:
        it, _ret = ioctx.get_omap_vals(op, "", "", 1000)
        ioctx.operate_read_op(op, "rbd_directory")
        return [k for k, _v in it]


def test_glance_add_get_clone_delete(site: Site, glance: cfg.ConfigOpts) -> None:
    assert glance_rbd_driver.rbd is rbd and glance_rbd_driver.rados is rados  # pyceph's
    data = _image_data()
    image_id = str(uuid.uuid4())
    fsid = site.admin.get_fsid()

    # -- add, size unknown (0): resize-on-write, then the final trim -----------------
    uri, written, checksum, multihash, metadata = glance_store.add_to_backend_with_multihash(
        glance, image_id, io.BytesIO(data), 0, "sha512"
    )
    assert uri == f"rbd://{fsid}/{site.images_pool}/{image_id}/{SNAP}"
    assert written == len(data)
    assert checksum == hashlib.md5(data).hexdigest()
    assert multihash == hashlib.sha512(data).hexdigest()
    assert metadata == {}

    # -- served back byte-exact; a second add under the same id is refused ---------
    assert glance_store.get_size_from_backend(uri) == len(data)
    assert _read_back(uri) == data
    with pytest.raises(gs_exc.Duplicate):
        glance_store.add_to_backend_with_multihash(
            glance, image_id, io.BytesIO(b"other"), 0, "sha512"
        )
    assert _read_back(uri) == data

    images = site.admin.open_ioctx(site.images_pool)
    volumes = site.admin.open_ioctx(site.volumes_pool)
    try:
        # upstream's layout: one rbd_data object per written chunk, protected snap
        with rbd.Image(images, image_id, read_only=True) as img:
            rbd_id = img.id()
            prefix = img.block_name_prefix()
            assert img.size() == len(data)
            assert img.stat()["obj_size"] == CHUNK_MIB * MiB
            assert [s["name"] for s in img.list_snaps()] == [SNAP]
            assert img.is_protected_snap(SNAP)
        assert prefix == f"rbd_data.{rbd_id}"
        objs = _rbd_objects_of(images, image_id, rbd_id)
        n_data = math.ceil(len(data) / (CHUNK_MIB * MiB))
        assert [o for o in objs if o.startswith(prefix + ".")] == [
            f"{prefix}.{i:016x}" for i in range(n_data)
        ]
        assert f"rbd_id.{image_id}" in objs and f"rbd_header.{rbd_id}" in objs

        # -- a Cinder volume cloned from the image's protected snapshot --------------
        volume = f"volume-{uuid.uuid4()}"
        features = int(site.admin.conf_get("rbd_default_features"))
        rbd.RBD().clone(images, image_id, SNAP, volumes, volume, features=features)
        with rbd.Image(volumes, volume) as vol:
            assert vol.parent_info() == (site.images_pool, image_id, SNAP)
            vol.write(VOLUME_WRITE, VOLUME_WRITE_OFFSET)

        with pytest.raises(gs_exc.InUseByStore):
            glance_store.delete_from_backend(uri)
        # ... and the image is intact: data, snapshot, protection
        assert _read_back(uri) == data
        with rbd.Image(images, image_id, read_only=True) as img:
            assert [s["name"] for s in img.list_snaps()] == [SNAP]
            assert img.is_protected_snap(SNAP)
            assert list(img.list_children()) == [(site.volumes_pool, volume)]

        # -- the volume is flattened and removed; the delete now succeeds ------------
        with rbd.Image(volumes, volume) as vol:
            vol.flatten()
            expected = bytearray(data)
            end = VOLUME_WRITE_OFFSET + len(VOLUME_WRITE)
            expected[VOLUME_WRITE_OFFSET:end] = VOLUME_WRITE
            assert vol.read(0, len(data)) == bytes(expected)
        rbd.RBD().remove(volumes, volume)

        glance_store.delete_from_backend(uri)
        with pytest.raises(gs_exc.NotFound):
            glance_store.get_size_from_backend(uri)
        assert image_id not in rbd.RBD().list(images)
        assert _rbd_objects_of(images, image_id, rbd_id) == []
        assert not [k for k in _directory_keys(images) if image_id in k or rbd_id in k]
        assert volume not in rbd.RBD().list(volumes)
    finally:
        volumes.close()
        images.close()
