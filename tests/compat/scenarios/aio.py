"""Asynchronous I/O and Completion: aio_write/write_full/append/writesame/read/
stat/cmpext/remove/flush, callback signatures, oncomplete+onsafe both fire,
errors via get_return_value, callbacks on another thread, discarded completions."""

import sys
import threading


def run(s):
    r = s.cluster()
    io = r.open_ioctx(s.make_pool())
    main = threading.get_ident()

    def go(start, nargs=1):
        """Start an aio call with oncomplete (and onsafe if nargs says so), wait, report."""
        calls = []

        def cb(*args):
            calls.append(("cb", [a for a in args[1:]], threading.get_ident() != main))

        c = start(cb)
        c.wait_for_complete_and_cb()
        return {
            "ret": c.get_return_value(),
            "complete": c.is_complete(),
            "safe": c.is_safe(),
            "calls": calls,
        }

    s.step("aio_write", lambda: go(lambda cb: io.aio_write("o", b"hello", 0, cb)))
    s.step("aio_write_onsafe", lambda: go(lambda cb: io.aio_write("o", b"HE", 0, cb, cb)))
    s.step("aio_write_offset", lambda: go(lambda cb: io.aio_write("o", b"!", 5, oncomplete=cb)))
    s.step("read_after_aio_write", lambda: io.read("o"))
    s.step("aio_write_full", lambda: go(lambda cb: io.aio_write_full("f", b"full", cb)))
    s.step(
        "aio_write_full_onsafe",
        lambda: go(lambda cb: io.aio_write_full("f", b"full2", oncomplete=cb, onsafe=cb)),
    )
    s.step("aio_append", lambda: go(lambda cb: io.aio_append("f", b"+app", cb, cb)))
    s.step("read_after_aio_append", lambda: io.read("f"))
    s.step("aio_writesame", lambda: go(lambda cb: io.aio_writesame("w", b"xy", 6, 0, cb)))
    s.step("read_after_aio_writesame", lambda: io.read("w"))
    s.step("aio_read", lambda: go(lambda cb: io.aio_read("f", 100, 0, cb)))
    s.step("aio_read_partial", lambda: go(lambda cb: io.aio_read("f", 3, 2, cb)))
    s.step("aio_read_missing", lambda: go(lambda cb: io.aio_read("nope", 10, 0, cb)))
    s.step(
        "aio_stat",
        lambda: go(lambda cb: io.aio_stat("f", cb)),
        norm=lambda d: {
            **d,
            "calls": [(n, [a[0], type(a[1]).__name__], t) for n, a, t in d["calls"]],
        },
    )
    s.step("aio_stat_missing", lambda: go(lambda cb: io.aio_stat("nope", cb)))
    s.step("aio_cmpext_match", lambda: go(lambda cb: io.aio_cmpext("f", b"full2", 0, cb)))
    s.step("aio_cmpext_mismatch", lambda: go(lambda cb: io.aio_cmpext("f", b"fuXl2", 0, cb)))
    s.step("aio_remove", lambda: go(lambda cb: io.aio_remove("w", cb, cb)))
    s.step("aio_remove_missing", lambda: go(lambda cb: io.aio_remove("w", cb)))
    s.step("aio_write_str_data", lambda: io.aio_write("o", "str"))

    def no_callbacks():
        c = io.aio_write("nocb", b"abc")
        c.wait_for_complete()
        c.wait_for_safe()
        return (type(c).__name__, c.get_return_value(), c.is_complete(), c.is_safe())

    s.step("aio_write_no_callbacks", no_callbacks)

    def discarded():
        for i in range(20):
            io.aio_write_full(f"d{i}", b"discarded")
        io.aio_flush()
        return [io.read(f"d{i}") for i in range(20)] == [b"discarded"] * 20

    s.step("discarded_completions_fire", discarded)
    s.step("aio_flush", lambda: io.aio_flush())

    def refcount():
        c = io.aio_write("rc", b"x", 0, lambda comp: None)
        c.wait_for_complete_and_cb()
        return sys.getrefcount(c)

    s.step("refcount_after_wait", refcount)

    def attrs():
        def cb(comp):
            return None

        c = io.aio_write("attrs", b"x", 0, cb)
        c.wait_for_complete_and_cb()
        return (c.ioctx is io, c.oncomplete is cb, c.onsafe)

    s.step("completion_attrs", attrs)

    def many():
        done = []
        lock = threading.Lock()

        def cb(comp):
            with lock:
                done.append(comp.get_return_value())

        cs = [io.aio_write_full(f"many{i}", b"%d" % i, cb) for i in range(50)]
        for c in cs:
            c.wait_for_complete_and_cb()
        return (len(done), sorted(set(done)), [io.read(f"many{i}") for i in (0, 49)])

    s.step("many_in_flight", many)

    def wait_safe_and_cb():
        calls = []
        c = io.aio_write("safe", b"s", 0, None, lambda comp: calls.append("safe"))
        c.wait_for_safe_and_cb()
        return calls

    s.step("wait_for_safe_and_cb", wait_safe_and_cb)
