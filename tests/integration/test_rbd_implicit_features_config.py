"""Two behaviours of librbd 16.2.15 seen on the reference cluster, through the `rbd` API:

* fast-diff is implicitly enabled: it follows object-map, so a create or clone asking
  for FAST_DIFF without OBJECT_MAP succeeds without it (no EINVAL);
* a pool's config listing holds the rbd-mirror daemon's `rbd_mirror_*` options too (109
  options), which a pool may override and an image may not (EINVAL); an image's listing
  leaves them out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import rados
import rbd

MiB = 1 << 20
#: What `rbd config pool list` reports on a 16.2.15 cluster, and an image's listing.
POOL_CONFIG_OPTIONS = 109
IMAGE_CONFIG_OPTIONS = 77


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


@pytest.fixture
def ioctx(cluster: rados.Rados) -> Iterator[rados.Ioctx]:
    pool = f"rbd-cf-{uuid.uuid4().hex[:8]}"
    cluster.create_pool(pool)
    io = cluster.open_ioctx(pool)
    io.application_enable("rbd")
    yield io
    io.close()
    cluster.delete_pool(pool)


def test_fast_diff_without_object_map_is_dropped(ioctx: rados.Ioctx) -> None:
    R = rbd.RBD()
    R.create(ioctx, "fd", MiB, features=rbd.RBD_FEATURE_FAST_DIFF | rbd.RBD_FEATURE_LAYERING)
    with rbd.Image(ioctx, "fd") as img:
        assert img.features() == rbd.RBD_FEATURE_LAYERING
        img.create_snap("s")
        img.protect_snap("s")
    R.clone(ioctx, "fd", "s", ioctx, "kid",
            features=rbd.RBD_FEATURE_FAST_DIFF | rbd.RBD_FEATURE_LAYERING)  # fmt: skip
    with rbd.Image(ioctx, "kid") as kid:
        assert kid.features() == rbd.RBD_FEATURE_LAYERING
    # with object-map it is still added, and object-map still needs exclusive-lock
    om = rbd.RBD_FEATURE_OBJECT_MAP | rbd.RBD_FEATURE_EXCLUSIVE_LOCK | rbd.RBD_FEATURE_LAYERING
    R.create(ioctx, "om", MiB, features=om)
    with rbd.Image(ioctx, "om") as img:
        assert img.features() == om | rbd.RBD_FEATURE_FAST_DIFF
    with pytest.raises(rbd.InvalidArgument):
        R.create(ioctx, "bad", MiB, features=rbd.RBD_FEATURE_OBJECT_MAP | 1)
    assert sorted(R.list(ioctx)) == ["fd", "kid", "om"]


def test_pool_config_lists_and_takes_rbd_mirror_options(ioctx: rados.Ioctx) -> None:
    R = rbd.RBD()
    listed = {i["name"]: i for i in R.config_list(ioctx)}
    assert len(listed) == POOL_CONFIG_OPTIONS
    assert listed["rbd_mirror_journal_poll_age"]["value"] == "5.000000"
    assert listed["rbd_mirror_memory_target"]["value"] == "4294967296"
    assert listed["rbd_mirror_image_policy_type"]["value"] == "simple"
    assert "rbd_mirror_pool_replayers_refresh_interval" not in listed  # excluded upstream
    R.pool_metadata_set(ioctx, "conf_rbd_mirror_concurrent_image_syncs", "7")
    with pytest.raises(rbd.InvalidArgument):
        R.pool_metadata_set(ioctx, "conf_rbd_mirror_pool_replayers_refresh_interval", "7")
    over = [i for i in R.config_list(ioctx) if i["source"] == rbd.RBD_CONFIG_SOURCE_POOL]
    assert over == [{"name": "rbd_mirror_concurrent_image_syncs", "value": "7", "source": 1}]

    R.create(ioctx, "img", MiB)
    with rbd.Image(ioctx, "img") as img:
        names = [i["name"] for i in img.config_list()]
        assert len(names) == IMAGE_CONFIG_OPTIONS
        assert not [n for n in names if n.startswith("rbd_mirror_")]
        assert "rbd_mirroring_replay_delay" in names
        with pytest.raises(rbd.InvalidArgument):
            img.metadata_set("conf_rbd_mirror_journal_poll_age", "7")
        assert list(img.metadata_list()) == []
