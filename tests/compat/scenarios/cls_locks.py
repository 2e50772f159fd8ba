"""Object classes and advisory locks: execute/aio_execute (cls_hello, output length,
unknown class/method), lock_exclusive/lock_shared/unlock (cls_lock) and the lock
class's own methods through execute."""


def run(s):
    r = s.cluster()
    io = r.open_ioctx(s.make_pool())
    s.step("setup_write", lambda: io.write_full("obj", b"x"))
    s.step("execute_say_hello", lambda: io.execute("obj", "hello", "say_hello", b"compat"))
    s.step("execute_say_hello_empty", lambda: io.execute("obj", "hello", "say_hello", b""))
    s.step(
        "execute_say_hello_short_length",
        lambda: io.execute("obj", "hello", "say_hello", b"compat", 4),
    )
    s.step("execute_say_hello_missing_obj", lambda: io.execute("nope", "hello", "say_hello", b"x"))
    s.step("execute_record_hello", lambda: io.execute("rec", "hello", "record_hello", b"me"))
    s.step("read_after_record_hello", lambda: io.read("rec"))
    s.step("execute_record_hello_again", lambda: io.execute("rec", "hello", "record_hello", b"me"))
    s.step("execute_replay", lambda: io.execute("rec", "hello", "replay", b""))
    s.step("execute_bad_reader", lambda: io.execute("obj", "hello", "bad_reader", b""))
    s.step("execute_bad_writer", lambda: io.execute("obj", "hello", "bad_writer", b""))
    s.step("execute_unknown_class", lambda: io.execute("obj", "no_such_cls", "m", b""))
    s.step("execute_unknown_method", lambda: io.execute("obj", "hello", "no_such_m", b""))
    s.step("execute_str_data", lambda: io.execute("obj", "hello", "say_hello", "str"))

    def aio_exec(oid, method, data):
        got = []
        c = io.aio_execute(oid, "hello", method, data, oncomplete=lambda comp, out: got.append(out))
        c.wait_for_complete_and_cb()
        return (c.get_return_value(), got)

    s.step("aio_execute", lambda: aio_exec("obj", "say_hello", b"aio"))
    s.step("aio_execute_missing_obj", lambda: aio_exec("nope", "say_hello", b"aio"))
    s.step("aio_execute_unknown_method", lambda: aio_exec("obj", "no_such_m", b""))

    s.step("lock_exclusive", lambda: io.lock_exclusive("obj", "lk", "c1", desc="d"))
    s.step("lock_exclusive_same_cookie", lambda: io.lock_exclusive("obj", "lk", "c1"))
    s.step("lock_exclusive_other_cookie", lambda: io.lock_exclusive("obj", "lk", "c2"))
    s.step("lock_shared_while_exclusive", lambda: io.lock_shared("obj", "lk", "c3", "t"))
    s.step("list_locks", lambda: io.execute("obj", "lock", "list_locks", b""))
    s.step("unlock", lambda: io.unlock("obj", "lk", "c1"))
    s.step("unlock_again", lambda: io.unlock("obj", "lk", "c1"))
    s.step("unlock_missing_obj", lambda: io.unlock("nope", "lk", "c1"))
    s.step("lock_shared", lambda: io.lock_shared("obj", "sh", "c1", "tag"))
    s.step("lock_shared_second", lambda: io.lock_shared("obj", "sh", "c2", "tag"))
    s.step("lock_shared_other_tag", lambda: io.lock_shared("obj", "sh", "c3", "other"))
    s.step("lock_exclusive_while_shared", lambda: io.lock_exclusive("obj", "sh", "c4"))
    s.step("unlock_shared", lambda: (io.unlock("obj", "sh", "c1"), io.unlock("obj", "sh", "c2")))
    s.step("lock_creates_object", lambda: io.lock_exclusive("lockobj", "lk", "c1"))
    s.step("stat_lock_created", lambda: io.stat("lockobj")[0])
    s.step("lock_duration", lambda: io.lock_exclusive("obj", "dur", "c1", duration=1))
    s.step("lock_bad_flags", lambda: io.lock_exclusive("obj", "fl", "c1", flags=99))
    s.step("lock_bytes_name", lambda: io.lock_exclusive("obj", b"x", "c1"))
    s.step("list_locks_after", lambda: io.execute("obj", "lock", "list_locks", b""))
    s.step("list_locks_no_locks", lambda: io.execute("rec", "lock", "list_locks", b""))
