"""Image and pool config overrides of the rbd engine (`pyceph.rbdlib.config`, upstream
librbd api/Config.cc): ``conf_`` metadata keys in rbd_info and the image header, the
listed sources, and EINVAL for options or values upstream refuses."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import errno

from pyceph.rbdlib import config
from pyceph.rbdlib.layout import RBD_INFO

from .rbdlib_pool_env import Env, cluster, env  # noqa: F401 - fixtures


def _by_name(entries: list[dict]) -> dict[str, tuple[str, int]]:
    return {e["name"]: (e["value"], e["source"]) for e in entries}


def test_pool_and_image_overrides(env: Env) -> None:
    io = env.ioctx
    base = _by_name(env.run(config.config_list_pool(io)))
    assert "rbd_cache" in base
    # a pool lists the rbd-mirror daemon's options too (16.2.15), an image does not
    assert base["rbd_mirror_journal_poll_age"] == ("5.000000", config.RBD_CONFIG_SOURCE_CONFIG)
    assert "rbd_mirror_pool_replayers_refresh_interval" not in base
    names = [e["name"] for e in env.run(config.config_list_pool(io))]
    assert names == sorted(names)
    assert base["rbd_cache"] == ("true", config.RBD_CONFIG_SOURCE_CONFIG)
    env.run(config.pool_config_set(io, "rbd_cache", "false"))
    assert env.omap(RBD_INFO)["metadata_conf_rbd_cache"] == b"false"
    pool_view = _by_name(env.run(config.config_list_pool(io)))
    assert pool_view["rbd_cache"] == ("false", config.RBD_CONFIG_SOURCE_POOL)
    env.create("img")
    img = env.open("img")
    env.run(config.image_config_set(img, "rbd_cache", "true"))
    env.run(img.metadata_set("other", "x"))  # plain metadata is not an override
    image_view = _by_name(env.run(config.config_list_image(img)))
    assert not any(n.startswith("rbd_mirror_") for n in image_view)
    assert image_view["rbd_cache"] == ("true", config.RBD_CONFIG_SOURCE_IMAGE)
    assert env.run(config.image_config_get(img, "rbd_cache")) == "true"
    assert env.omap(img.header_oid)["metadata_conf_rbd_cache"] == b"true"
    env.run(config.image_config_remove(img, "rbd_cache"))
    assert _by_name(env.run(config.config_list_image(img)))["rbd_cache"][1] == 1
    env.run(config.pool_config_remove(io, "rbd_cache"))
    assert env.err(config.pool_config_remove(io, "rbd_cache")) == errno.ENOENT
    assert env.err(config.image_config_remove(img, "rbd_cache")) == errno.ENOENT
    env.run(img.close())


def test_bad_overrides(env: Env) -> None:
    io = env.ioctx
    assert env.err(config.pool_config_set(io, "rbd_nope", "1")) == errno.EINVAL
    assert env.err(config.pool_config_set(io, "osd_pool_default_size", "1")) == errno.EINVAL
    assert env.err(config.pool_config_set(io, "rbd_cache", "maybe")) == errno.EINVAL
    assert env.err(config.pool_config_set(io, "rbd_default_order", "x")) == errno.EINVAL
    assert "metadata_conf_rbd_cache" not in env.omap(RBD_INFO)
    env.create("img")
    img = env.open("img")
    assert env.err(config.image_config_set(img, "rbd_mirror_journal_poll_age", "1")) \
        == errno.EINVAL  # fmt: skip
    assert env.err(config.image_config_get(img, "rbd_cache")) == errno.ENOENT
    env.run(img.close())
    config.validate_metadata("plain_key", "anything")  # not a conf_ key: no check


def test_metadata_set_checks_conf_keys(env: Env) -> None:
    # api::Metadata::set / PoolMetadata::set: a conf_ key must name an rbd option and
    # hold a value it takes (EINVAL, nothing set); other keys are not checked
    from pyceph.rbdlib import pool

    io = env.ioctx
    env.create("meta")
    img = env.open("meta")
    try:
        env.run(img.metadata_set("conf_rbd_cache", "false"))
        assert env.err(img.metadata_set("conf_rbd_cache", "maybe")) == errno.EINVAL
        assert env.err(img.metadata_set("conf_no_such_option", "1")) == errno.EINVAL
        assert env.err(img.metadata_set("conf_mon_host", "1.2.3.4")) == errno.EINVAL
        assert env.err(img.metadata_set("conf_rbd_qos_iops_limit", "lots")) == errno.EINVAL
        assert env.err(img.metadata_set("conf_rbd_qos_iops_burst_seconds", "0")) == errno.EINVAL
        env.run(img.metadata_set("conf_rbd_qos_iops_limit", "100"))
        env.run(img.metadata_set("plain", "anything"))
        assert env.run(img.metadata_list()) == [
            ("conf_rbd_cache", "false"),
            ("conf_rbd_qos_iops_limit", "100"),
            ("plain", "anything"),
        ]
    finally:
        env.run(img.close())
    assert env.err(pool.pool_metadata_set(io, "conf_rbd_cache", "maybe")) == errno.EINVAL
    assert "metadata_conf_rbd_cache" not in env.omap(RBD_INFO)


def test_listing_has_upstreams_options(env: Env) -> None:
    # Pacific's `rbd config image ls`: 77 options, qos and timestamp intervals included,
    # creation defaults only at the pool level
    env.create("lst")
    img = env.open("lst")
    try:
        listed = _by_name(env.run(img.config_list()))
    finally:
        env.run(img.close())
    assert len(listed) == 77
    assert listed["rbd_qos_iops_limit"] == ("0", config.RBD_CONFIG_SOURCE_CONFIG)
    assert listed["rbd_qos_write_bps_burst_seconds"] == ("1", config.RBD_CONFIG_SOURCE_CONFIG)
    assert listed["rbd_discard_granularity_bytes"] == ("65536", config.RBD_CONFIG_SOURCE_CONFIG)
    assert listed["rbd_atime_update_interval"] == ("60", config.RBD_CONFIG_SOURCE_CONFIG)
    assert listed["rbd_journal_commit_age"] == ("5.000000", config.RBD_CONFIG_SOURCE_CONFIG)
    assert "rbd_default_features" not in listed and "rbd_op_threads" not in listed
    pool_listed = _by_name(env.run(config.config_list_pool(env.ioctx)))
    assert "rbd_default_features" in pool_listed and "rbd_op_threads" not in pool_listed


def test_discard_granularity_comes_from_the_option(env: Env) -> None:
    from pyceph.rbdlib.layout import data_object_name

    env.create("gran")
    img = env.open("gran")
    try:
        env.run(img.write(b"x" * 65536, 0))
        env.run(img.discard(0, 8192))  # below the 64 KiB default: nothing discarded
        assert env.run(img.read(0, 8192)) == b"x" * 8192
        env.run(img.metadata_set("conf_rbd_discard_granularity_bytes", "4096"))
        env.run(img.refresh())
        env.run(img.discard(0, 8192))
        assert env.run(img.read(0, 8192)) == bytes(8192)
        assert env.run(img.read(8192, 8)) == b"x" * 8
        assert data_object_name(img.object_prefix, 0) in env.objects()
    finally:
        env.run(img.close())
