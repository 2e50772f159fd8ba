"""rbd image locks: the exclusive-lock feature (is_exclusive_lock_owner,
lock_acquire/lock_release, lock_get_owners, lock_break between two clients,
automatic hand-over on write), and advisory locks (lock_exclusive, lock_shared,
list_lockers, unlock, break_lock) with their errors (busy, exists, missing,
wrong mode, feature disabled)."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    R.create(io, "img", 4 * MiB, order=22)
    R.create(io, "plain", MiB, features=rbd.RBD_FEATURE_LAYERING)
    r2 = s.new_cluster()
    io2 = r2.open_ioctx(pool)
    s.track(io2)
    # The first exclusive-lock owner gets its lock broken (and its client
    # blocklisted), so it is a client of its own.
    r3 = s.new_cluster()
    io3 = r3.open_ioctx(pool)
    s.track(io3)
    img = s.track(rbd.Image(io3, "img"))
    img2 = s.track(rbd.Image(io2, "img"))
    owner = s.mask(owner=s.prop(lambda v: isinstance(v, str) and "/" in v, "<addr>"))
    client1 = f"client.{s.cluster().get_instance_id()}"
    client2 = f"client.{r2.get_instance_id()}"
    s.alias(client1, "<client1>")
    s.alias(client2, "<client2>")
    s.step("is_owner_initially", lambda: img.is_exclusive_lock_owner())
    s.step("lock_get_owners_none", lambda: list(img.lock_get_owners()))
    s.step("write_acquires_lock", lambda: img.write(b"one", 0))
    s.step("is_owner_after_write", lambda: img.is_exclusive_lock_owner())
    s.step("lock_get_owners", norm=owner, fn=lambda: list(img.lock_get_owners()))
    s.step("lock_get_owners_type", lambda: type(img.lock_get_owners()).__name__)
    s.step("other_writes_handover", lambda: img2.write(b"two", 3))
    s.step(
        "owner_after_handover",
        lambda: (img.is_exclusive_lock_owner(), img2.is_exclusive_lock_owner()),
    )
    s.step("read_both", lambda: (img.read(0, 6), img2.read(0, 6)))
    s.step("lock_release_not_acquired", lambda: img.lock_release())
    s.step("lock_release", lambda: img2.lock_release())
    s.step("lock_acquire", lambda: img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE))
    s.step("is_owner_after_acquire", lambda: img.is_exclusive_lock_owner())
    s.step("lock_acquire_again", lambda: img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE))
    s.step("lock_acquire_shared_mode", lambda: img2.lock_acquire(rbd.RBD_LOCK_MODE_SHARED))
    s.step("other_acquire_busy", lambda: img2.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE))
    s.step("other_write_refused", lambda: img2.write(b"x", 0))
    owners = list(img2.lock_get_owners())
    s.step("owners_seen_by_other", lambda: owners, norm=owner)
    s.step(
        "lock_break_wrong_owner",
        lambda: img2.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, "client.0"),
    )
    s.step(
        "lock_break",
        lambda: img2.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, owners[0]["owner"]),
    )
    s.step("owners_after_break", lambda: list(img2.lock_get_owners()))
    s.step("broken_owner_write", lambda: img.write(b"x", 0))
    s.step("other_acquire_after_break", lambda: img2.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE))
    s.step("other_write_after_break", lambda: img2.write(b"three", 0))
    s.step("read_after_break", lambda: img2.read(0, 6))
    img2.lock_release()

    plain = s.image(io, "plain")
    plain2 = s.track(rbd.Image(io2, "plain"))
    s.step("plain_is_owner", lambda: plain.is_exclusive_lock_owner())
    s.step("plain_lock_acquire", lambda: plain.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE))
    s.step("plain_lock_get_owners", norm=owner, fn=lambda: list(plain.lock_get_owners()))
    s.step("list_lockers_none", lambda: plain.list_lockers())
    s.step("lock_exclusive", lambda: plain.lock_exclusive("cookie1"))
    s.step("list_lockers_exclusive", lambda: plain.list_lockers(), norm=fix_lockers)
    s.step("lock_exclusive_again", lambda: plain.lock_exclusive("cookie1"))
    s.step("lock_exclusive_other_cookie", lambda: plain.lock_exclusive("cookie2"))
    s.step("lock_exclusive_other_client", lambda: plain2.lock_exclusive("cookie1"))
    s.step("lock_shared_while_exclusive", lambda: plain2.lock_shared("c", "tag"))
    s.step("unlock_wrong_cookie", lambda: plain.unlock("nope"))
    s.step("unlock_other_client", lambda: plain2.unlock("cookie1"))
    s.step("unlock", lambda: plain.unlock("cookie1"))
    s.step("unlock_again", lambda: plain.unlock("cookie1"))
    s.step("lock_shared", lambda: plain.lock_shared("c1", "tag"))
    s.step("lock_shared_other", lambda: plain2.lock_shared("c2", "tag"))
    s.step("lock_shared_wrong_tag", lambda: plain2.lock_shared("c3", "other"))
    s.step(
        "list_lockers_shared",
        lambda: (lambda d: {**d, "lockers": sorted(d["lockers"], key=lambda x: x[1])})(
            plain.list_lockers()
        ),
        norm=fix_lockers,
    )
    s.step("lock_exclusive_while_shared", lambda: plain.lock_exclusive("x"))
    s.step("break_lock_missing", lambda: plain.break_lock(client2, "nope"))
    s.step("break_lock", lambda: plain.break_lock(client2, "c2"))
    s.step("list_lockers_after_break", lambda: plain.list_lockers(), norm=fix_lockers)
    s.step("lock_exclusive_cookie_int", lambda: plain.lock_exclusive(5))
    s.step("unlock_shared", lambda: plain.unlock("c1"))
    s.step("list_lockers_end", lambda: plain.list_lockers())


def fix_lockers(v):
    if isinstance(v, dict) and isinstance(v.get("lockers"), list):
        return {**v, "lockers": [[c, k, "<addr>"] for c, k, _ in v["lockers"]]}
    return v
