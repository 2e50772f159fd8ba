"""rbd pool metadata and pool-level config overrides: pool_metadata_set/get/
remove/list (PoolMetadataIterator), KeyError for missing keys, config_set/get/
remove/list on a pool (ConfigPoolIterator, sources), how a pool override reaches
an image's config_list, and bad keys and values."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    s.step("pool_metadata_list_empty", lambda: list(R.pool_metadata_list(io)))
    s.step("pool_metadata_set", lambda: R.pool_metadata_set(io, "k1", "v1"))
    s.step("pool_metadata_set_second", lambda: R.pool_metadata_set(io, "k2", "v2"))
    s.step("pool_metadata_get", lambda: R.pool_metadata_get(io, "k1"))
    s.step("pool_metadata_get_missing", lambda: R.pool_metadata_get(io, "nope"))
    s.step("pool_metadata_list", lambda: list(R.pool_metadata_list(io)))
    s.step("pool_metadata_list_type", lambda: type(R.pool_metadata_list(io)).__name__)
    s.step("pool_metadata_set_int", lambda: R.pool_metadata_set(io, "k3", 3))
    s.step("pool_metadata_remove", lambda: R.pool_metadata_remove(io, "k2"))
    s.step("pool_metadata_remove_missing", lambda: R.pool_metadata_remove(io, "k2"))
    s.step("pool_metadata_list_after", lambda: list(R.pool_metadata_list(io)))
    cfg = s.step(
        "config_list",
        lambda: {d["name"]: d for d in R.config_list(io)},
        norm=lambda d: len(d) > 50,
    )
    s.step("config_list_item", lambda: cfg["rbd_cache"] if cfg else None)
    s.step("config_list_type", lambda: type(R.config_list(io)).__name__)
    s.step("config_get_not_set", lambda: R.config_get(io, "rbd_cache"))
    s.step("config_set", lambda: R.config_set(io, "rbd_cache", "false"))
    s.step("config_get", lambda: R.config_get(io, "rbd_cache"))
    s.step(
        "config_list_source",
        lambda: [d for d in R.config_list(io) if d["name"] == "rbd_cache"],
    )
    s.step("pool_metadata_shows_conf", lambda: R.pool_metadata_get(io, "conf_rbd_cache"))
    s.step("config_set_unknown", lambda: R.config_set(io, "no_such_option", "1"))
    s.step("config_set_bad_value", lambda: R.config_set(io, "rbd_cache", "maybe"))
    s.step("config_get_unknown", lambda: R.config_get(io, "no_such_option"))
    R.create(io, "img", MiB)
    img = s.image(io, "img")
    s.step(
        "image_sees_pool_override",
        lambda: [d for d in img.config_list() if d["name"] == "rbd_cache"],
    )
    img.config_set("rbd_cache", "true")
    s.step(
        "image_override_wins",
        lambda: [d for d in img.config_list() if d["name"] == "rbd_cache"],
    )
    s.step("config_remove", lambda: R.config_remove(io, "rbd_cache"))
    s.step("config_remove_again", lambda: R.config_remove(io, "rbd_cache"))
    s.step("config_get_after_remove", lambda: R.config_get(io, "rbd_cache"))
    s.step("pool_metadata_key_bytes", lambda: R.pool_metadata_get(io, b"k1"))
