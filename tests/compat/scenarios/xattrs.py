"""Extended attributes: set/get/rm, iteration, missing object/attr errors,
binary and empty values, type checks, aio_setxattr/aio_rmxattr."""


def run(s):
    r = s.cluster()
    io = r.open_ioctx(s.make_pool())
    s.step("setup_write", lambda: io.write_full("obj", b"data"))
    s.step("set_xattr", lambda: io.set_xattr("obj", "user.a", b"alpha"))
    s.step("set_xattr_binary", lambda: io.set_xattr("obj", "bin", b"\x00\xff\x01"))
    s.step("set_xattr_empty", lambda: io.set_xattr("obj", "empty", b""))
    s.step("get_xattr", lambda: io.get_xattr("obj", "user.a"))
    s.step("get_xattr_binary", lambda: io.get_xattr("obj", "bin"))
    s.step("get_xattr_empty", lambda: io.get_xattr("obj", "empty"))
    s.step("get_xattr_missing_attr", lambda: io.get_xattr("obj", "nope"))
    s.step("get_xattr_missing_obj", lambda: io.get_xattr("nope", "user.a"))
    s.step("get_xattrs", lambda: sorted(io.get_xattrs("obj")))
    s.step("get_xattrs_type", lambda: io.get_xattrs("obj"), norm=lambda it: it.oid)
    s.step("get_xattrs_missing_obj", lambda: list(io.get_xattrs("nope")))
    s.step("set_xattr_overwrite", lambda: io.set_xattr("obj", "user.a", b"beta"))
    s.step("get_xattr_overwritten", lambda: io.get_xattr("obj", "user.a"))
    s.step("set_xattr_str_value", lambda: io.set_xattr("obj", "x", "str"))
    s.step("set_xattr_bytes_name", lambda: io.set_xattr("obj", b"x", b"v"))
    s.step("set_xattr_creates_object", lambda: io.set_xattr("newobj", "k", b"v"))
    s.step("stat_created_by_xattr", lambda: io.stat("newobj")[0])
    s.step("rm_xattr", lambda: io.rm_xattr("obj", "bin"))
    s.step("rm_xattr_missing_attr", lambda: io.rm_xattr("obj", "bin"))
    s.step("rm_xattr_missing_obj", lambda: io.rm_xattr("nope", "bin"))
    s.step("get_xattrs_after_rm", lambda: sorted(io.get_xattrs("obj")))
    big = b"v" * 3000
    s.step("set_xattr_big", lambda: io.set_xattr("obj", "big", big))
    s.step("get_xattr_big", lambda: io.get_xattr("obj", "big"))

    def aio(fn):
        done = []
        c = fn(lambda comp: done.append(comp.get_return_value()))
        c.wait_for_complete_and_cb()
        return (c.get_return_value(), done)

    s.step("aio_setxattr", lambda: aio(lambda cb: io.aio_setxattr("obj", "aio", b"A", cb)))
    s.step("get_xattr_after_aio", lambda: io.get_xattr("obj", "aio"))
    s.step("aio_rmxattr", lambda: aio(lambda cb: io.aio_rmxattr("obj", "aio", cb)))
    s.step("aio_rmxattr_missing", lambda: aio(lambda cb: io.aio_rmxattr("obj", "aio", cb)))
    s.step("get_xattr_after_aio_rm", lambda: io.get_xattr("obj", "aio"))
    s.step(
        "aio_setxattr_missing_obj_creates",
        lambda: aio(lambda cb: io.aio_setxattr("aioobj", "k", b"v", cb)),
    )
