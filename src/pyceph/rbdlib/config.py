"""Pool- and image-level configuration overrides (librbd api::Config, api::PoolMetadata):
the option `rbd_x` overridden by the metadata key `conf_rbd_x` in the pool's `rbd_info`
or the image header. Listings report every librbd option (mirroring daemon options
excluded) with its effective value and its source (RBD_CONFIG_SOURCE_CONFIG 0, _POOL 1,
_IMAGE 2); setting an unknown or non-rbd option, a mirroring option on an image, or a
value the option does not accept is EINVAL, and nothing changes.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from pyceph.client.ioctx import IoCtx
from pyceph.common.errors import CephError
from pyceph.rbdlib import cls_client
from pyceph.rbdlib._conf import CONF_PREFIX, overrides_of, pool_overrides, rbd_option_names, typed
from pyceph.rbdlib.layout import RBD_INFO

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image

RBD_CONFIG_SOURCE_CONFIG = 0
RBD_CONFIG_SOURCE_POOL = 1
RBD_CONFIG_SOURCE_IMAGE = 2
#: Options of the rbd-mirror daemon: not librbd options, never overridden or listed.
MIRROR_PREFIX = "rbd_mirror_"
#: rbd options api::Config never lists nor lets be overridden (EXCLUDE_OPTIONS)
EXCLUDED_OPTIONS = frozenset(
    {
        "rbd_auto_exclusive_lock_until_manual_request",
        "rbd_default_format",
        "rbd_default_pool",
        "rbd_discard_on_zeroed_write_same",
        "rbd_op_thread_timeout",
        "rbd_op_threads",
        "rbd_tracing",
        "rbd_validate_names",
        "rbd_validate_pool",
        "rbd_mirror_pool_replayers_refresh_interval",
        "rbd_config_pool_override_update_timestamp",
    }
)
#: ... and those only a pool lists (EXCLUDE_IMAGE_OPTIONS: creation defaults)
EXCLUDED_IMAGE_OPTIONS = frozenset(
    {
        "rbd_default_clone_format",
        "rbd_default_data_pool",
        "rbd_default_features",
        "rbd_default_format",
        "rbd_default_order",
        "rbd_default_stripe_count",
        "rbd_default_stripe_unit",
        "rbd_journal_order",
        "rbd_journal_pool",
        "rbd_journal_splay_width",
    }
)


def listed_names(image: bool = True) -> list[str]:
    """The options an image's (or, with image=False, a pool's) config_list reports: a
    pool's includes the rbd-mirror daemon's options, an image's does not."""
    return [
        n
        for n in rbd_option_names()
        if n not in EXCLUDED_OPTIONS
        and not (image and (n.startswith(MIRROR_PREFIX) or n in EXCLUDED_IMAGE_OPTIONS))
    ]


def validate_metadata(key: str, value: str, image: bool = False) -> None:
    """api::Config::is_option_name + value check for a `conf_` metadata key (other keys
    are plain metadata, not checked): EINVAL for an option librbd does not take as an
    override (on an image: no rbd-mirror daemon option) or a value the option rejects."""
    if not key.startswith(CONF_PREFIX):
        return
    name = key[len(CONF_PREFIX) :]
    if name not in listed_names(image=False) or (image and name.startswith(MIRROR_PREFIX)):
        raise CephError(errno.EINVAL, f"{name} is not an rbd option")
    try:
        typed(name, value)
    except (CephError, ValueError) as e:
        raise CephError(errno.EINVAL, f"invalid value {value!r} for {name}") from e


def _list(
    ioctx: IoCtx, pool_ov: dict[str, str], image_ov: dict[str, str] | None
) -> list[dict[str, Any]]:
    config = ioctx.client.config
    out = []
    image_ov_ = image_ov or {}
    for name in listed_names(image=image_ov is not None):
        if name in image_ov_:
            value, source = image_ov_[name], RBD_CONFIG_SOURCE_IMAGE
        elif name in pool_ov:
            value, source = pool_ov[name], RBD_CONFIG_SOURCE_POOL
        else:
            value, source = config.get_str(name), RBD_CONFIG_SOURCE_CONFIG
        out.append({"name": name, "value": value, "source": source})
    return out


async def config_list_pool(ioctx: IoCtx) -> list[dict[str, Any]]:
    """[{name, value, source}] of every librbd option at the pool level."""
    return _list(ioctx, await pool_overrides(ioctx), None)


async def config_list_image(img: Image) -> list[dict[str, Any]]:
    """[{name, value, source}] with the pool's and the image's overrides."""
    image_ov = overrides_of(await img.metadata_list())
    return _list(img.ioctx, await pool_overrides(img.ioctx), image_ov)


async def pool_config_set(ioctx: IoCtx, name: str, value: str) -> None:
    validate_metadata(CONF_PREFIX + name, value)
    await cls_client.metadata_set(ioctx, RBD_INFO, {CONF_PREFIX + name: value})


async def pool_config_get(ioctx: IoCtx, name: str) -> str:
    return await cls_client.metadata_get(ioctx, RBD_INFO, CONF_PREFIX + name)


async def pool_config_remove(ioctx: IoCtx, name: str) -> None:
    """ENOENT when not overridden."""
    from pyceph.rbdlib import pool

    await pool.pool_metadata_remove(ioctx, CONF_PREFIX + name)


async def image_config_set(img: Image, name: str, value: str) -> None:
    validate_metadata(CONF_PREFIX + name, value, image=True)
    await img.metadata_set(CONF_PREFIX + name, value)


async def image_config_get(img: Image, name: str) -> str:
    """ENOENT when not overridden on the image."""
    return await img.metadata_get(CONF_PREFIX + name)


async def image_config_remove(img: Image, name: str) -> None:
    await img.metadata_remove(CONF_PREFIX + name)
