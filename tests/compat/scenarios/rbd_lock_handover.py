"""rbd exclusive-lock hand-over between two clients writing one image: alternating
sync writes move the lock each time and every write lands; concurrent aio writes
from both clients all complete and all land; the owner is always exactly one of
them; a read-only opener never takes the lock; closing the owner releases it."""

MiB = 1 << 20
ROUNDS = 8
BLOCK = 4096


def run(s):
    rbd = s.rbd
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    rbd.RBD().create(io, "img", 4 * MiB, order=22)
    r2 = s.new_cluster()
    io2 = s.track(r2.open_ioctx(pool))
    a = s.image(io, "img")
    b = s.track(rbd.Image(io2, "img"))
    ro = s.image(io, "img", read_only=True)

    def alternate():
        owners = []
        for i in range(ROUNDS):
            w = a if i % 2 == 0 else b
            w.write(bytes([48 + i]) * BLOCK, i * BLOCK)
            owners.append((a.is_exclusive_lock_owner(), b.is_exclusive_lock_owner()))
        return owners

    s.step("alternating_writes_owners", alternate)
    s.step(
        "alternating_writes_landed",
        lambda: (
            a.read(0, ROUNDS * BLOCK) == b"".join(bytes([48 + i]) * BLOCK for i in range(ROUNDS))
        ),
    )
    s.step("read_only_opener_not_owner", lambda: ro.is_exclusive_lock_owner())
    s.step("read_only_opener_sees_data", lambda: ro.read(0, 2) + ro.read(7 * BLOCK, 2))

    def concurrent():
        comps = []
        for i in range(16):
            w = a if i % 2 == 0 else b
            comps.append(w.aio_write(bytes([65 + i]) * BLOCK, MiB + i * BLOCK, None))
        for c in comps:
            c.wait_for_complete_and_cb()
        rets = sorted({c.get_return_value() for c in comps})
        data = a.read(MiB, 16 * BLOCK)
        return rets, data == b"".join(bytes([65 + i]) * BLOCK for i in range(16))

    s.step("concurrent_aio_writes", concurrent)
    s.step(
        "exactly_one_owner",
        lambda: sorted([a.is_exclusive_lock_owner(), b.is_exclusive_lock_owner()]),
    )
    s.step("owners_listed", lambda: len(list(a.lock_get_owners())))

    def close_owner():
        owner, other = (a, b) if a.is_exclusive_lock_owner() else (b, a)
        owner.close()
        return other.is_exclusive_lock_owner(), len(list(other.lock_get_owners()))

    s.step("close_owner_releases", close_owner)
