"""rbd asynchronous image I/O and the rbd Completion: aio_write/aio_read/
aio_discard/aio_write_zeroes/aio_flush, callback arguments and thread, return
values and errors through get_return_value, is_complete, wait_for_complete_and_cb,
discarded completions still firing, wrong argument types."""

import threading

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    rbd.RBD().create(io, "img", 4 * MiB, order=22)
    img = s.image(io, "img")
    main = threading.get_ident()

    def go(start):
        calls = []

        def cb(comp, *args):
            calls.append(
                {
                    "args": list(args),
                    "completion_type": type(comp).__name__,
                    "other_thread": threading.get_ident() != main,
                    "ret_in_cb": comp.get_return_value(),
                }
            )

        c = start(cb)
        c.wait_for_complete_and_cb()
        return {
            "type": type(c).__name__,
            "ret": c.get_return_value(),
            "complete": c.is_complete(),
            "calls": calls,
        }

    s.step("aio_write", lambda: go(lambda cb: img.aio_write(b"hello", 0, cb)))
    s.step("aio_write_offset", lambda: go(lambda cb: img.aio_write(b"!", 5, cb)))
    s.step("read_after_aio_write", lambda: img.read(0, 6))
    s.step("aio_read", lambda: go(lambda cb: img.aio_read(0, 6, cb)))
    s.step("aio_read_fadvise", lambda: go(lambda cb: img.aio_read(1, 3, cb, 32)))
    s.step("aio_read_past_end", lambda: go(lambda cb: img.aio_read(4 * MiB, 4, cb)))
    s.step("aio_read_straddling_end", lambda: go(lambda cb: img.aio_read(4 * MiB - 2, 4, cb)))
    s.step("aio_write_past_end", lambda: go(lambda cb: img.aio_write(b"x", 4 * MiB, cb)))
    s.step("aio_write_fadvise", lambda: go(lambda cb: img.aio_write(b"FA", 10, cb, 32)))
    s.step("aio_discard", lambda: go(lambda cb: img.aio_discard(0, 4 * MiB, cb)))
    s.step("read_after_aio_discard", lambda: img.read(0, 6))
    s.step("aio_write_zeroes", lambda: go(lambda cb: img.aio_write_zeroes(0, 4096, cb)))
    s.step("aio_write_zeroes_past_end", lambda: go(lambda cb: img.aio_write_zeroes(4 * MiB, 1, cb)))
    s.step("aio_flush", lambda: go(lambda cb: img.aio_flush(cb)))
    s.step("aio_write_str", lambda: img.aio_write("str", 0, lambda c: None))
    s.step("aio_read_no_callback", lambda: img.aio_read(0, 1, None))

    def discarded():
        for i in range(16):
            img.aio_write(bytes([65 + i]) * 512, i * 512, lambda c: None)
        img.flush()
        return img.read(0, 16 * 512) == b"".join(bytes([65 + i]) * 512 for i in range(16))

    s.step("discarded_completions_fire", discarded)

    def many_in_flight():
        done = threading.Event()
        got = []
        n = 32

        def cb(c):
            got.append(c.get_return_value())
            if len(got) == n:
                done.set()

        comps = [img.aio_write(b"%04d" % i, MiB + i * 4, cb) for i in range(n)]
        done.wait(20)
        for c in comps:
            c.wait_for_complete_and_cb()
        return len(got), sorted(set(got)), img.read(MiB, 8)

    s.step("many_in_flight", many_in_flight)

    def callback_raises():
        def cb(c):
            raise RuntimeError("boom")

        c = img.aio_write(b"r", 0, cb)
        c.wait_for_complete_and_cb()
        return c.get_return_value()

    s.step("callback_raises", callback_raises)

    def on_closed():
        i = rbd.Image(io, "img")
        i.close()
        return i.aio_write(b"x", 0, lambda c: None)

    s.step("aio_on_closed_image", on_closed)
