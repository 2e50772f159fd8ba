"""rbd iterator classes and the Completion: for each listing call, the returned
type, whether it is its own iterator, what iter() gives, that iterating twice
gives the same items, the keys and value types of the yielded dicts; and the
Completion's type, methods and callback argument."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R.create(io, "img", MiB)
    R.create(io, "other", MiB)
    img = s.image(io, "img")
    img.create_snap("s")
    img.protect_snap("s")
    R.clone(io, "img", "s", io, "child")
    img.metadata_set("k", "v")
    R.pool_metadata_set(io, "pk", "pv")
    R.config_set(io, "rbd_cache", "false")
    img.config_set("rbd_cache", "true")
    R.trash_move(io, "other", 3600)
    R.group_create(io, "g")
    g = s.track(rbd.Group(io, "g"))
    g.add_image(io, "img")
    g.create_snap("gs")
    R.mirror_mode_set(io, rbd.RBD_MIRROR_MODE_IMAGE)
    R.mirror_peer_add(io, "site-b", "client.b")
    img.set_snap("s")
    child = s.image(io, "child")
    child.write(b"lock", 0)
    R.create(io, "mirrored", MiB)
    with rbd.Image(io, "mirrored") as m:
        m.mirror_image_enable(rbd.RBD_MIRROR_IMAGE_MODE_SNAPSHOT)
    makers = {
        "ImageIterator": lambda: R.list2(io),
        "SnapIterator": lambda: img.list_snaps(),
        "ChildIterator": lambda: img.list_children2(),
        "ChildIterator_descendants": lambda: img.list_descendants(),
        "TrashIterator": lambda: R.trash_list(io),
        "MetadataIterator": lambda: img.metadata_list(),
        "PoolMetadataIterator": lambda: R.pool_metadata_list(io),
        "ConfigImageIterator": lambda: img.config_list(),
        "ConfigPoolIterator": lambda: R.config_list(io),
        "WatcherIterator": lambda: img.watchers_list(),
        "LockOwnerIterator": lambda: child.lock_get_owners(),
        "GroupImageIterator": lambda: g.list_images(),
        "GroupSnapIterator": lambda: g.list_snaps(),
        "MirrorPeerIterator": lambda: R.mirror_peer_list(io),
        "MirrorImageStatusIterator": lambda: R.mirror_image_status_list(io),
        "MirrorImageInstanceIdIterator": lambda: R.mirror_image_instance_id_list(io),
        "MirrorImageInfoIterator": lambda: R.mirror_image_info_list(io),
    }
    for label, make in makers.items():
        s.step("iter_" + label, lambda make=make: describe(make()))
    s.step("iterator_exported", lambda: [hasattr(rbd, n) for n in sorted(makers) if "_" not in n])

    def completion():
        box = {}
        c = img.aio_read(0, 4, lambda comp, data: box.setdefault("cb", comp))
        c.wait_for_complete_and_cb()
        return {
            "type": type(c).__name__,
            "module": type(c).__module__,
            "is_rbd_Completion": isinstance(c, rbd.Completion),
            "methods": sorted(
                m
                for m in ("is_complete", "wait_for_complete_and_cb", "get_return_value")
                if callable(getattr(c, m, None))
            ),
            "cb_got_same": box.get("cb") is c,
            "ret": c.get_return_value(),
        }

    s.step("completion", completion)
    s.step("completion_direct", lambda: rbd.Completion(img, lambda c: None))


def describe(it):
    first = list(it)
    second = list(it)
    kinds = sorted(
        {
            (type(x).__name__, tuple(sorted((k, type(v).__name__) for k, v in x.items())))
            if isinstance(x, dict)
            else (type(x).__name__, ())
            for x in first
        }
    )
    return {
        "type": type(it).__name__,
        "own_iterator": iter(it) is it,
        "iter_type": type(iter(it)).__name__,
        "has_next": hasattr(it, "__next__"),
        "count": len(first),
        "same_twice": len(first) == len(second),
        "items": kinds,
    }
