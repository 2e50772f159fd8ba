"""Object listing, namespaces and locator keys: list_objects yields rados.Object,
set_namespace/LIBRADOS_ALL_NSPACES, set_locator_key, same name in two namespaces."""

import rados


def keyset(it):
    return sorted((o.nspace, o.key, o.locator_key) for o in it)


def run(s):
    r = s.cluster()
    io = r.open_ioctx(s.make_pool())
    s.step("list_empty_pool", lambda: list(io.list_objects()))
    s.step("list_objects_type", lambda: io.list_objects(), norm=lambda it: None)
    s.step("all_nspaces_constant", lambda: rados.LIBRADOS_ALL_NSPACES)
    for k in ("a", "b", "c"):
        s.step(f"write_{k}", lambda k=k: io.write_full(k, k.encode()))
    s.step("list_default_ns", lambda: sorted(io.list_objects(), key=lambda o: o.key))
    s.step("set_namespace", lambda: io.set_namespace("ns1"))
    s.step("get_namespace", lambda: io.get_namespace())
    s.step("read_other_ns", lambda: io.read("a"))
    s.step("write_ns1_a", lambda: io.write_full("a", b"ns1-a"))
    s.step("write_ns1_d", lambda: io.write_full("d", b"ns1-d"))
    s.step("read_ns1_a", lambda: io.read("a"))
    s.step("list_ns1", lambda: keyset(io.list_objects()))
    s.step("set_namespace_bytes", lambda: io.set_namespace(b"ns2"))
    s.step("set_namespace_none", lambda: io.set_namespace(None))
    s.step("get_namespace_after_none", lambda: io.get_namespace())
    s.step("set_namespace_all", lambda: io.set_namespace(rados.LIBRADOS_ALL_NSPACES))
    s.step("get_namespace_all", lambda: io.get_namespace())
    s.step("list_all_ns", lambda: keyset(io.list_objects()))
    s.step(
        "list_all_ns_objects", lambda: sorted(io.list_objects(), key=lambda o: (o.nspace, o.key))
    )
    s.step("read_in_all_ns", lambda: io.read("a"))
    s.step("write_in_all_ns", lambda: io.write_full("z", b"z"))
    s.step("set_namespace_empty", lambda: io.set_namespace(""))
    s.step("read_default_a", lambda: io.read("a"))

    s.step("set_locator_key", lambda: io.set_locator_key("loc"))
    s.step("get_locator_key", lambda: io.get_locator_key())
    s.step("write_with_locator", lambda: io.write_full("l1", b"with-locator"))
    s.step("read_with_locator", lambda: io.read("l1"))
    s.step("set_locator_key_empty", lambda: io.set_locator_key(""))
    s.step("read_without_locator", lambda: io.read("l1"))
    s.step("list_with_locator", lambda: keyset(io.list_objects()))
    s.step("set_locator_key_bytes", lambda: io.set_locator_key(b"x"))
    s.step("Object_with_locator", lambda: rados.Object(io, "l1", locator_key="loc").read())
    s.step("Object_with_nspace", lambda: rados.Object(io, "d", nspace="ns1").read())
    s.step(
        "Object_str",
        lambda: str(rados.Object(io, "d", locator_key="lk", nspace="ns1")),
        norm=lambda t: t.split("key=", 1)[-1],
    )

    it = io.list_objects()
    s.step("iterator_next", lambda: next(it), norm=lambda o: type(o).__name__)
    s.step("iterator_iter_self", lambda: iter(it) is it)
    s.step(
        "many_objects",
        lambda: (
            [io.write_full(f"m{i:03d}", b"") for i in range(120)]
            and len([o for o in io.list_objects() if o.key.startswith("m")])
        ),
    )
