"""rbd image metadata, image-level config overrides and watchers: metadata_set/
get/remove/list (MetadataIterator), KeyError for missing keys, conf_ keys seen by
config_list, config_set/get/remove/list (ConfigImageIterator, sources), unknown
and invalid options, watchers_list (WatcherIterator) with one and two openers."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R.create(io, "img", MiB)
    img = s.image(io, "img")
    s.step("metadata_list_empty", lambda: list(img.metadata_list()))
    s.step("metadata_set", lambda: img.metadata_set("k1", "v1"))
    s.step("metadata_set_second", lambda: img.metadata_set("k2", "value two"))
    s.step("metadata_set_overwrite", lambda: img.metadata_set("k1", "v1b"))
    s.step("metadata_get", lambda: img.metadata_get("k1"))
    s.step("metadata_get_missing", lambda: img.metadata_get("nope"))
    s.step("metadata_list", lambda: list(img.metadata_list()))
    s.step("metadata_list_type", lambda: type(img.metadata_list()).__name__)
    s.step("metadata_set_bytes_key", lambda: img.metadata_set(b"k3", "v"))
    s.step("metadata_set_int_value", lambda: img.metadata_set("k4", 5))
    s.step("metadata_remove", lambda: img.metadata_remove("k2"))
    s.step("metadata_remove_missing", lambda: img.metadata_remove("k2"))
    s.step("metadata_list_after_remove", lambda: list(img.metadata_list()))

    def many():
        for i in range(70):
            img.metadata_set(f"m{i:03d}", str(i))
        return len(list(img.metadata_list()))

    s.step("metadata_list_many", many)
    s.step("metadata_set_conf_key", lambda: img.metadata_set("conf_rbd_cache", "false"))
    s.step("metadata_set_conf_bad_value", lambda: img.metadata_set("conf_rbd_cache", "maybe"))
    s.step("metadata_set_conf_unknown", lambda: img.metadata_set("conf_no_such_option", "1"))
    cfg = s.step(
        "config_list",
        lambda: {d["name"]: d for d in img.config_list()},
        norm=lambda d: len(d) > 50,
    )
    s.step("config_list_item_keys", lambda: sorted(next(iter(cfg.values()))) if cfg else None)
    s.step("config_list_rbd_cache", lambda: cfg["rbd_cache"] if cfg else None)
    s.step("config_list_type", lambda: type(img.config_list()).__name__)
    s.step("config_get", lambda: img.config_get("rbd_cache"))
    s.step("config_get_not_overridden", lambda: img.config_get("rbd_qos_iops_limit"))
    s.step("config_set", lambda: img.config_set("rbd_qos_iops_limit", "100"))
    s.step("config_get_after_set", lambda: img.config_get("rbd_qos_iops_limit"))
    s.step(
        "config_list_source",
        lambda: [d for d in img.config_list() if d["name"] == "rbd_qos_iops_limit"],
    )
    s.step("metadata_get_conf_key", lambda: img.metadata_get("conf_rbd_qos_iops_limit"))
    s.step("config_set_unknown", lambda: img.config_set("no_such_option", "1"))
    s.step("config_set_non_rbd_option", lambda: img.config_set("mon_host", "1.2.3.4"))
    s.step("config_set_bad_value", lambda: img.config_set("rbd_qos_iops_limit", "lots"))
    s.step("config_get_unknown", lambda: img.config_get("no_such_option"))
    s.step("config_remove", lambda: img.config_remove("rbd_qos_iops_limit"))
    s.step("config_remove_again", lambda: img.config_remove("rbd_qos_iops_limit"))
    s.step("config_get_after_remove", lambda: img.config_get("rbd_qos_iops_limit"))
    watcher = s.mask(addr="<addr>", id=s.INT_POS, cookie=s.INT_POS)
    s.step("watchers_list", lambda: list(img.watchers_list()), norm=watcher)
    s.step("watchers_list_type", lambda: type(img.watchers_list()).__name__)
    r2 = s.new_cluster()
    io2 = s.track(r2.open_ioctx(pool))
    img2 = s.track(rbd.Image(io2, "img"))
    s.step("watchers_list_two", lambda: len(list(img.watchers_list())))
    s.step(
        "watchers_ids",
        lambda: (
            sorted(w["id"] for w in img.watchers_list())
            == sorted([s.cluster().get_instance_id(), r2.get_instance_id()])
        ),
    )
    img2.close()
    s.step("watchers_list_after_close", lambda: len(list(img.watchers_list())))
    ro = s.image(io, "img", read_only=True)
    s.step("watchers_list_read_only_opener", lambda: len(list(ro.watchers_list())))
    s.step("metadata_set_read_only", lambda: ro.metadata_set("x", "y"))
