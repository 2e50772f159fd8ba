"""Ioctx lifecycle and synchronous object I/O: dup/close/state, pool name/id,
write/write_full/writesame/append/read/trunc/cmpext/stat/remove_object,
default read length, argument type checks, get_last_version, rados.Object."""

import rados


def run(s):
    r = s.cluster()
    pool = s.make_pool()
    io = s.step("open_ioctx", lambda: r.open_ioctx(pool), norm=lambda io: io.state)
    s.step("get_pool_name", lambda: io.get_pool_name())
    s.step("get_pool_id", lambda: io.get_pool_id() == r.pool_lookup(pool))
    s.step("alignment_replicated", lambda: io.alignment())
    s.step("require_ioctx_open", lambda: io.require_ioctx_open())
    s.step("get_namespace_default", lambda: io.get_namespace())
    s.step("get_locator_key_default", lambda: io.get_locator_key())
    s.step("set_osdmap_full_try", lambda: io.set_osdmap_full_try())
    s.step("unset_osdmap_full_try", lambda: io.unset_osdmap_full_try())

    s.step("write", lambda: io.write("obj", b"hello world"))
    s.step("read", lambda: io.read("obj"))
    s.step("read_len_off", lambda: io.read("obj", 5, 6))
    s.step("read_past_end", lambda: io.read("obj", 10, 100))
    s.step("read_zero_length", lambda: io.read("obj", 0))
    s.step("write_offset", lambda: io.write("obj", b"WORLD", 6))
    s.step("read_after_write_offset", lambda: io.read("obj"))
    s.step("write_past_end", lambda: io.write("obj", b"!", 14))
    s.step("read_after_write_past_end", lambda: io.read("obj"))
    s.step("write_str_data", lambda: io.write("obj", "text"))
    s.step("write_bytes_key", lambda: io.write(b"obj", b"x"))
    s.step("write_none_key", lambda: io.write(None, b"x"))
    s.step("write_full", lambda: io.write_full("obj", b"short"))
    s.step("read_after_write_full", lambda: io.read("obj"))
    s.step("append", lambda: io.append("obj", b"+more"))
    s.step("read_after_append", lambda: io.read("obj"))
    s.step("stat", lambda: io.stat("obj"), norm=lambda t: (t[0], type(t[1]).__name__))
    s.step("trunc", lambda: io.trunc("obj", 3))
    s.step("read_after_trunc", lambda: io.read("obj"))
    s.step("trunc_extend", lambda: io.trunc("obj", 6))
    s.step("read_after_trunc_extend", lambda: io.read("obj"))
    s.step("trunc_missing", lambda: io.trunc("nope", 3))
    s.step("writesame", lambda: io.writesame("ws", b"ab", 8, 2))
    s.step("read_after_writesame", lambda: io.read("ws"))
    s.step("writesame_bad_len", lambda: io.writesame("ws", b"abc", 8))
    s.step("cmpext_match", lambda: io.cmpext("obj", b"sho", 0))
    s.step("cmpext_mismatch", lambda: io.cmpext("obj", b"sXo", 0))
    s.step("cmpext_mismatch_offset", lambda: io.cmpext("ws", b"abXb", 2))
    s.step("cmpext_past_end", lambda: io.cmpext("obj", b"sho\0\0\0\0\0", 0))
    s.step("cmpext_missing", lambda: io.cmpext("nope", b"x", 0))
    big = bytes(range(256)) * 40
    s.step("write_full_big", lambda: io.write_full("big", big))
    s.step("read_default_length", lambda: io.read("big"))
    s.step("read_big_len", lambda: io.read("big", len(big)) == big)
    s.step("stat_big", lambda: io.stat("big")[0])
    s.step("read_missing", lambda: io.read("nope"))
    s.step("stat_missing", lambda: io.stat("nope"))
    s.step("write_full_empty", lambda: io.write_full("empty", b""))
    s.step("stat_empty", lambda: io.stat("empty")[0])
    s.step("read_empty", lambda: io.read("empty"))
    s.step("get_last_version", lambda: io.get_last_version(), norm=s.INT_POS)
    s.step("remove_object", lambda: io.remove_object("obj"))
    s.step("remove_object_missing", lambda: io.remove_object("obj"))
    s.step("read_after_remove", lambda: io.read("obj"))
    s.step("unicode_key", lambda: (io.write_full("ключ-✓", b"u"), io.read("ключ-✓"))[1])

    # rados.Object, the file-like wrapper
    o = s.step("Object_new", lambda: rados.Object(io, "fileobj"), norm=lambda o: o.key)
    s.step("Object_attrs", lambda: (o.key, o.nspace, o.locator_key, o.offset, o.state))
    s.step("Object_write", lambda: o.write(b"0123456789"))
    s.step("Object_offset_after_write", lambda: o.offset)
    s.step("Object_read_at_end", lambda: o.read())
    s.step("Object_seek", lambda: o.seek(2))
    s.step("Object_read4", lambda: o.read(4))
    s.step("Object_read_rest", lambda: o.read())
    s.step("Object_stat", lambda: o.stat(), norm=lambda t: (t[0], type(t[1]).__name__))
    s.step("Object_set_xattr", lambda: o.set_xattr("a", b"1"))
    s.step("Object_get_xattr", lambda: o.get_xattr("a"))
    s.step("Object_get_xattrs", lambda: list(o.get_xattrs()))
    s.step("Object_rm_xattr", lambda: o.rm_xattr("a"))
    s.step("Object_remove", lambda: o.remove())
    s.step("Object_state_after_remove", lambda: o.state)
    s.step("Object_read_after_remove", lambda: o.read())
    s.step("Object_write_after_remove", lambda: o.write(b"x"))

    # dup / close / context manager
    io2 = s.step("dup", lambda: io.dup(), norm=lambda x: x.get_pool_name())
    s.step("dup_read", lambda: io2.read("ws"))
    s.step("close", lambda: io2.close())
    s.step("state_after_close", lambda: io2.state)
    s.step("read_after_close", lambda: io2.read("ws"))
    s.step("require_ioctx_open_after_close", lambda: io2.require_ioctx_open())
    s.step("close_twice", lambda: io2.close())
    box = {}

    def ctx():
        with r.open_ioctx(pool) as io3:
            box["io"] = io3
            return io3.read("ws")

    s.step("context_manager", ctx)
    s.step("context_manager_after_exit", lambda: box["io"].state)
    s.step("get_pool_name_after_close", lambda: box["io"].get_pool_name())
