"""Erasure-coded pools: alignment(), full writes, appends, partial overwrites and omap
rejected without ec overwrites, xattrs, reads and stats (k=2, m=1, osd failure domain)."""

import json


def run(s):
    r = s.cluster()
    profile = f"compat-ec-{s.tag}"
    s.alias(profile, "<profile>")
    s.step(
        "profile_set",
        lambda: r.mon_command(
            json.dumps(
                {
                    "prefix": "osd erasure-code-profile set",
                    "name": profile,
                    "profile": ["k=2", "m=1", "crush-failure-domain=osd"],
                }
            ),
            b"",
        )[0],
    )
    pool = s.step("create_ec_pool", lambda: s.make_pool("ec", ec_profile=profile))
    io = r.open_ioctx(pool)
    rep = r.open_ioctx(s.make_pool("rep"))
    s.step("alignment_ec", lambda: io.alignment())
    s.step("alignment_replicated", lambda: rep.alignment())
    s.step("write_full_unaligned", lambda: io.write_full("o", b"x" * 5000))
    s.step("read_unaligned", lambda: io.read("o", 10000) == b"x" * 5000)
    s.step("stat_unaligned", lambda: io.stat("o")[0])
    s.step("append_unaligned", lambda: io.append("o", b"y" * 100))
    s.step("stat_after_append", lambda: io.stat("o")[0])
    s.step("write_full_aligned", lambda: io.write_full("a", b"a" * 8192))
    s.step("append_aligned", lambda: io.append("a", b"b" * 8192))
    s.step("append_unaligned_after_aligned", lambda: io.append("a", b"c" * 10))
    s.step("read_aligned", lambda: io.read("a", 20000))
    s.step("stat_aligned", lambda: io.stat("a")[0])
    s.step("write_offset_overwrite", lambda: io.write("a", b"Z" * 8192, 0))
    s.step("write_offset_unaligned", lambda: io.write("a", b"Z", 3))
    s.step("write_offset_new_object", lambda: io.write("n", b"n" * 8192, 0))
    s.step("trunc", lambda: io.trunc("a", 8192))
    s.step("omap_set", lambda: _set_omap(io))
    s.step("set_xattr", lambda: io.set_xattr("a", "k", b"v"))
    s.step("get_xattr", lambda: io.get_xattr("a", "k"))
    s.step("writesame", lambda: io.writesame("w", b"ab", 8192))
    s.step("read_partial", lambda: io.read("a", 4, 8190))
    s.step("remove_object", lambda: io.remove_object("o"))
    s.step("list_objects", lambda: sorted(o.key for o in io.list_objects()))
    s.step("delete_ec_pool", lambda: r.delete_pool(pool))
    s.forget_pool(pool)
    s.step(
        "profile_rm",
        lambda: r.mon_command(
            json.dumps({"prefix": "osd erasure-code-profile rm", "name": profile}), b""
        )[0],
    )


def _set_omap(io):
    import rados

    with rados.WriteOpCtx() as op:
        io.set_omap(op, ("k",), (b"v",))
        io.operate_write_op(op, "a")
