"""The `rbd` command line end to end, in process, on an embedded in-memory cluster.

Each test runs `rbd_main.run` (the console script's body) with ``-m embedded:``, so
the real `rbd` and `rados` modules and the real cluster code answer; outputs,
messages and exit codes are compared with upstream's.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Iterator

import pytest

import rados
import rbd
from pyceph.cli import rbd_main


class Result:
    def __init__(self, code: int, out: bytes, err: str) -> None:
        self.code = code
        self.raw = out
        self.out = out.decode("utf-8", "replace")
        self.err = err

    def __repr__(self) -> str:
        return f"Result({self.code}, {self.out!r}, {self.err!r})"


@pytest.fixture(scope="module")
def cluster() -> Iterator[rados.Rados]:
    with rados.Rados(conf={"mon_host": "embedded:"}) as c:
        yield c


#: placement groups of each test pool (many small pools stay under mon_max_pg_per_osd)
TEST_PG_NUM = 8


@pytest.fixture
def pool(cluster: rados.Rados, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("CEPH_ARGS", raising=False)
    monkeypatch.setenv("CEPH_CONF", "/nonexistent/ceph.conf")
    name = f"p{uuid.uuid4().hex[:8]}"
    cmd = {"prefix": "osd pool create", "pool": name, "pg_num": TEST_PG_NUM}
    ret, _, outs = cluster.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs
    yield name
    cluster.delete_pool(name)


def rbd_cli(*argv: str, stdin: bytes = b"") -> Result:
    out = io.TextIOWrapper(io.BytesIO(), write_through=True)
    err = io.StringIO()
    inp = io.TextIOWrapper(io.BytesIO(stdin))
    code = rbd_main.run(["-m", "embedded:", *argv], out, err, inp)
    out.flush()
    return Result(code, out.buffer.getvalue(), err.getvalue())


def ok(*argv: str, stdin: bytes = b"") -> Result:
    r = rbd_cli(*argv, stdin=stdin)
    assert r.code == 0, r
    return r


# ----------------------------------------------------------------- image lifecycle
def test_create_ls_info_rm(pool: str) -> None:
    ok("create", "--size", "256", f"{pool}/img1")
    ok(
        "create",
        "-s",
        "1G",
        "--object-size",
        "1M",
        "--image-feature",
        "layering",
        "-p",
        pool,
        "img2",
    )
    assert ok("ls", pool).out == "img1\nimg2\n"
    assert json.loads(ok("ls", "--format", "json", pool).out) == ["img1", "img2"]
    info = ok("info", f"{pool}/img2").out.splitlines()
    assert info[:3] == [
        "rbd image 'img2':",
        "\tsize 1 GiB in 1024 objects",
        "\torder 20 (1 MiB objects)",
    ]
    assert "\tfeatures: layering" in info
    j = json.loads(ok("info", "--format", "json", f"{pool}/img1").out)
    assert list(j)[:9] == [
        "name",
        "id",
        "size",
        "objects",
        "order",
        "object_size",
        "snapshot_count",
        "block_name_prefix",
        "format",
    ]
    assert (j["size"], j["order"], j["format"]) == (256 << 20, 22, 2)
    r = rbd_cli("create", "--size", "1", f"{pool}/img1")
    assert (r.code, r.err) == (17, "rbd: create error: (17) File exists\n")
    r = rbd_cli("rm", "--no-progress", f"{pool}/img2")
    assert (r.code, r.err) == (0, "")
    r = rbd_cli("rm", f"{pool}/img2")
    assert r.code == 2
    assert r.err == (
        "\rRemoving image: 0% complete...failed.\n"
        "rbd: delete error: (2) No such file or directory\n"
    )
    r = rbd_cli("info", f"{pool}/nope")
    assert (r.code, r.err) == (2, "rbd: error opening image nope: (2) No such file or directory\n")
    r = rbd_cli("ls", "nopool")
    assert (r.code, r.err) == (
        2,
        "rbd: error opening pool 'nopool': (2) No such file or directory\n",
    )


def test_rename_resize_copy(pool: str) -> None:
    ok("create", "--size", "4M", f"{pool}/a")
    ok("rename", f"{pool}/a", f"{pool}/b")
    r = rbd_cli("rename", f"{pool}/b", "other/c")
    assert r.code == 22 and r.err.startswith("rbd: mv/rename across pools not supported\n")
    r = rbd_cli("resize", "--size", "2M", f"{pool}/b")
    assert (r.code, r.err) == (
        22,
        "rbd: shrinking an image is only allowed with the --allow-shrink flag\n",
    )
    r = rbd_cli("resize", "--size", "4M", f"{pool}/b")
    assert r.code == 22
    r = ok("resize", "--size", "8M", f"{pool}/b")
    assert r.err == "\rResizing image: 100% complete...done.\n"
    ok("resize", "--size", "6M", "--allow-shrink", "--no-progress", f"{pool}/b")
    with (
        rados.Rados(conf={"mon_host": "embedded:"}) as c,
        c.open_ioctx(pool) as io_,
        rbd.Image(io_, "b") as img,
    ):
        assert img.size() == 6 << 20
        img.write(b"hello", 4096)
    assert ok("cp", f"{pool}/b", f"{pool}/c").err == "\rImage copy: 100% complete...done.\n"
    ok("deep", "cp", "--no-progress", f"{pool}/b", f"{pool}/d")
    for name in ("c", "d"):
        with (
            rados.Rados(conf={"mon_host": "embedded:"}) as c,
            c.open_ioctx(pool) as io_,
            rbd.Image(io_, name) as img,
        ):
            assert img.read(4096, 5) == b"hello"


# ----------------------------------------------------------------- snapshots and clones
def test_snapshots_and_clones(pool: str) -> None:
    ok("create", "--size", "8M", f"{pool}/img")
    assert ok("snap", "create", f"{pool}/img@s1").err == "\rCreating snap: 100% complete...done.\n"
    ok("snap", "create", "--no-progress", f"{pool}/img@s2")
    lines = ok("snap", "ls", f"{pool}/img").out.splitlines()
    assert lines[0] == "SNAPID  NAME  SIZE   PROTECTED  TIMESTAMP               "
    assert [ln.split()[1] for ln in lines[1:]] == ["s1", "s2"]
    snaps = json.loads(ok("snap", "ls", "--format", "json", f"{pool}/img").out)
    assert [s["name"] for s in snaps] == ["s1", "s2"]
    assert list(snaps[0]) == ["id", "name", "size", "protected", "timestamp"]
    ok("snap", "protect", f"{pool}/img@s1")
    r = rbd_cli("snap", "protect", f"{pool}/img@s1")
    assert (r.code, r.err) == (16, "rbd: snap is already protected\n")
    ok("clone", f"{pool}/img@s1", f"{pool}/child")
    assert ok("children", f"{pool}/img@s1").out == f"{pool}/child\n"
    assert json.loads(ok("children", "--format", "json", f"{pool}/img@s1").out) == [
        {"pool": pool, "pool_namespace": "", "image": "child"}
    ]
    info = ok("info", f"{pool}/child").out
    assert f"\tparent: {pool}/img@s1\n\toverlap: 8 MiB\n" in info
    ls = ok("ls", "-l", pool).out.splitlines()
    assert ls[0].split() == ["NAME", "SIZE", "PARENT", "FMT", "PROT", "LOCK"]
    assert ls[1].split() == ["child", "8", "MiB", f"{pool}/img@s1", "2"]
    assert ls[3].split() == ["img@s1", "8", "MiB", "2", "yes"]
    r = rbd_cli("snap", "rm", "--no-progress", f"{pool}/img@s1")
    assert (r.code, r.err) == (16, "rbd: snapshot 's1' is protected from removal.\n")
    assert ok("flatten", f"{pool}/child").err.endswith("Image flatten: 100% complete...done.\n")
    assert ok("children", f"{pool}/img@s1").out == ""
    ok("snap", "unprotect", f"{pool}/img@s1")
    r = rbd_cli("snap", "unprotect", f"{pool}/img@s1")
    assert (r.code, r.err) == (22, "rbd: snap is already unprotected\n")
    ok("snap", "rename", f"{pool}/img@s2", f"{pool}/img@s3")
    ok("snap", "rollback", "--no-progress", f"{pool}/img@s3")
    ok("snap", "limit", "set", "--limit", "5", f"{pool}/img")
    assert "\tsnapshot_limit: 5\n" in ok("info", f"{pool}/img").out
    ok("snap", "limit", "clear", f"{pool}/img")
    r = ok("snap", "purge", f"{pool}/img")
    assert r.err.endswith("Removing all snapshots: 100% complete...done.\n")
    assert ok("snap", "ls", f"{pool}/img").out == ""


# ----------------------------------------------------------------- import/export
def _image_bytes(pool: str, name: str, snap: str | None = None) -> bytes:
    with (
        rados.Rados(conf={"mon_host": "embedded:"}) as c,
        c.open_ioctx(pool) as io_,
        rbd.Image(io_, name, snapshot=snap, read_only=True) as img,
    ):
        return img.read(0, img.size())


def test_import_export_files_and_pipes(pool: str, tmp_path: os.PathLike) -> None:
    data = os.urandom(3 << 20) + bytes(2 << 20) + b"tail"
    src = os.path.join(tmp_path, "src.img")
    with open(src, "wb") as f:
        f.write(data)
    r = ok("import", src, f"{pool}/fromfile")
    assert r.err.endswith("Importing image: 100% complete...done.\n")
    assert _image_bytes(pool, "fromfile") == data
    ok("import", "--no-progress", "-", f"{pool}/fromstdin", stdin=data)
    assert _image_bytes(pool, "fromstdin") == data
    out = os.path.join(tmp_path, "out.img")
    ok("export", "--no-progress", f"{pool}/fromstdin", out)
    with open(out, "rb") as f:
        assert f.read() == data
    r = rbd_cli("export", f"{pool}/fromstdin", out)
    assert r.code == 17 and r.err.endswith("rbd: export error: (17) File exists\n")
    assert ok("export", "--no-progress", f"{pool}/fromfile", "-").raw == data
    # format 2 carries snapshots and metadata
    ok("snap", "create", "--no-progress", f"{pool}/fromfile@s1")
    ok("image-meta", "set", f"{pool}/fromfile", "k", "v")
    stream = ok("export", "--export-format", "2", "--no-progress", f"{pool}/fromfile", "-").raw
    assert stream.startswith(b"rbd image v2\n")
    ok("import", "--export-format", "2", "--no-progress", "-", f"{pool}/copy2", stdin=stream)
    assert _image_bytes(pool, "copy2") == data
    assert _image_bytes(pool, "copy2", "s1") == data
    assert ok("image-meta", "get", f"{pool}/copy2", "k").out == "v\n"
    again = ok("export", "--export-format", "2", "--no-progress", f"{pool}/copy2", "-").raw
    assert again == stream
    r = rbd_cli(
        "import",
        "--export-format",
        "2",
        "--no-progress",
        "-",
        f"{pool}/bad",
        stdin=b"rbd image v9\n",
    )
    assert r.code != 0 and "rbd: import failed:" in r.err
    assert ok("ls", pool).out.split() == ["copy2", "fromfile", "fromstdin"]


def test_export_import_diff(pool: str) -> None:
    ok("create", "--size", "8M", f"{pool}/src")
    with (
        rados.Rados(conf={"mon_host": "embedded:"}) as c,
        c.open_ioctx(pool) as io_,
        rbd.Image(io_, "src") as img,
    ):
        img.write(b"a" * 8192, 0)
        img.create_snap("s1")
        img.write(b"b" * 4096, 1 << 20)
        img.create_snap("s2")
    d1 = ok("export-diff", "--no-progress", f"{pool}/src@s1", "-").raw
    assert d1.startswith(b"rbd diff v1\nt\x02\x00\x00\x00s1s")
    assert d1.endswith(b"e")
    d2 = ok("export-diff", "--no-progress", "--from-snap", "s1", f"{pool}/src@s2", "-").raw
    ok("create", "--size", "1M", f"{pool}/dst")
    ok("import-diff", "--no-progress", "-", f"{pool}/dst", stdin=d1)
    r = rbd_cli("import-diff", "--no-progress", "-", f"{pool}/dst", stdin=d1)
    assert (r.code, r.err) == (
        17,
        "end snapshot 's1' already exists, aborting\nrbd: import-diff failed: (17) File exists\n",
    )
    ok("import-diff", "--no-progress", "-", f"{pool}/dst", stdin=d2)
    assert _image_bytes(pool, "dst") == _image_bytes(pool, "src")
    assert _image_bytes(pool, "dst", "s1") == _image_bytes(pool, "src", "s1")
    diff = ok("diff", "--from-snap", "s1", f"{pool}/src").out
    assert diff.splitlines()[0].split() == ["Offset", "Length", "Type"]
    extents = json.loads(ok("diff", "--format", "json", "--from-snap", "s1", f"{pool}/src@s2").out)
    assert extents and all(set(e) == {"offset", "length", "exists"} for e in extents)
    assert any(e["offset"] <= 1 << 20 < e["offset"] + e["length"] for e in extents)


# ----------------------------------------------------------------- metadata and misc
def test_meta_config_lock_status_du(pool: str) -> None:
    ok("create", "--size", "4M", f"{pool}/img")
    ok("image-meta", "set", f"{pool}/img", "key1", "value1")
    assert ok("image-meta", "list", f"{pool}/img").out == (
        "There is 1 metadatum on this image:\n\nKey   Value \nkey1  value1\n"
    )
    assert json.loads(ok("image-meta", "ls", "--format", "json", f"{pool}/img").out) == {
        "key1": "value1"
    }
    ok("image-meta", "rm", f"{pool}/img", "key1")
    r = rbd_cli("image-meta", "get", f"{pool}/img", "key1")
    assert r.code == 2
    r = rbd_cli("config", "image", "set", f"{pool}/img", "foo", "1")
    assert (r.code, r.err) == (22, "rbd: not rbd option: foo\n")
    ok("config", "image", "set", f"{pool}/img", "rbd_cache", "false")
    assert ok("config", "image", "get", f"{pool}/img", "rbd_cache").out == "false\n"
    ok("lock", "add", f"{pool}/img", "mylock")
    ls = ok("lock", "ls", f"{pool}/img").out.splitlines()
    assert ls[0] == "There is 1 exclusive lock on this image."
    locker = ls[2].split()[0]
    r = rbd_cli("lock", "add", f"{pool}/img", "other")
    assert (r.code, r.err) == (16, "rbd: lock is already held by someone else\n")
    ok("lock", "rm", f"{pool}/img", "mylock", locker)
    assert ok("lock", "ls", f"{pool}/img").out == ""
    assert ok("status", f"{pool}/img").out == "Watchers: none\n"
    du = ok("du", f"{pool}/img").out.splitlines()
    assert du[0].split() == ["NAME", "PROVISIONED", "USED"]
    assert du[1].split() == ["img", "4", "MiB", "0", "B"]
    stats = ok("pool", "stats", pool).out
    assert stats.startswith("Total Images: 1\nTotal Snapshots: 0\nProvisioned Size: 4 MiB\n")


def test_trash(pool: str) -> None:
    ok("create", "--size", "1M", f"{pool}/img")
    ok("trash", "mv", f"{pool}/img")
    assert ok("ls", pool).out == ""
    line = ok("trash", "ls", pool).out
    image_id, name = line.split()
    assert name == "img"
    long_lines = ok("trash", "ls", "--long", pool).out.splitlines()
    assert long_lines[0].split() == ["ID", "NAME", "SOURCE", "DELETED_AT", "STATUS", "PARENT"]
    assert long_lines[1].split()[:3] == [image_id, "img", "USER"]
    ok("trash", "restore", f"{pool}/{image_id}")
    assert ok("ls", pool).out == "img\n"
    ok("trash", "mv", f"{pool}/img")
    r = ok("trash", "rm", f"{pool}/{image_id}")
    assert r.err.endswith("Removing image: 100% complete...done.\n")
    assert ok("trash", "ls", pool).out == ""


def test_namespaces(pool: str) -> None:
    ok("namespace", "create", f"{pool}/ns1")
    assert ok("namespace", "ls", pool).out == "NAME\nns1 \n"
    ok("create", "--size", "1M", f"{pool}/ns1/img")
    assert ok("ls", f"{pool}/ns1").out == "img\n"
    r = rbd_cli("ls", f"{pool}/ns2")
    assert (r.code, r.err) == (2, "rbd: namespace 'ns2' does not exist.\n")


def test_bench(pool: str) -> None:
    ok("create", "--size", "4M", f"{pool}/img")
    r = ok("bench", "--io-type", "write", "--io-total", "256K", "--io-threads", "4", f"{pool}/img")
    lines = r.out.splitlines()
    assert lines[0] == (
        "bench  type write io_size 4096 io_threads 4 bytes 262144 pattern sequential"
    )
    assert lines[1] == "  SEC       OPS   OPS/SEC   BYTES/SEC"
    assert lines[-1].startswith("elapsed: ") and "   ops: 64   ops/sec: " in lines[-1]
    r = ok("bench", "--io-type", "rw", "--io-pattern", "rand", "--io-total", "64K", f"{pool}/img")
    assert r.out.splitlines()[0].startswith("bench  type readwrite read:write=50:50 ")
    assert r.out.splitlines()[-2].startswith("read_ops: ")
    r = rbd_cli("bench", f"{pool}/img")
    assert (r.code, r.err) == (22, "rbd: --io-type must be specified.\n")


# ----------------------------------------------------------------- Debian's rbd streams
# Written by Debian's rbd 16.2.15 against the reference cluster (zlib + base64) for a
# 16 KiB image of 4 KiB objects: object 0 = "A"*4096, metadata owner=pyceph, snapshot
# s1 (protected); then object 2 = "B"*4096 and object 0 zeroed, snapshot s2; then
# object 3 = "C"*4096. `export --export-format 2`, `export-diff @s1`,
# `export-diff --from-snap s1 @s2`.
REF_V2 = (
    "eNrt2k0KwjAQhuGoWERcFLxAj6DdC/7gUtzoAdSm2oVaWrHo6W1oEk2FHqC8D4RJJoHZfyQ7RkFyPZxl8AyH24Go"
    "jHTdmcZM171pCL8qK9Po6LoZ602/XPfiJjOv3KSvk0wv68xOi5I4ztXMnn6urlRT9R6ebnbLlU9TOyO34+dVKXxf"
    "uPR5AQAAAAAAWk/+5gmxmye48UJo4wXxFy+86+mCiRe+uUPgXiwBAAAAAEDrNeQOYcPvhUntVwUAAAAAAGg9+QFb"
    "k4k2"
)
REF_D1 = "eNrtxcENABEARcGfPTopQQs6oBWxElfEtr8J0YS8uUxL2eVaipvejEdS911By6fD7iIAAAAAALje+wNOnha4"
REF_D2 = (
    "eNrtyLEJgDAUBuGflFaO8FaIEwRHkfjA1oQITi8kWLiC3Ncc3Llly4e7tTh5kFRi7VmKkrpbr3nkkn3HCgAAAAAA"
    "fm9/AKZjKG8="
)


def _ref(blob: str) -> bytes:
    import base64
    import zlib

    return zlib.decompress(base64.b64decode(blob))


def test_streams_interchange_with_debian_rbd(pool: str) -> None:
    v2, d1, d2 = _ref(REF_V2), _ref(REF_D1), _ref(REF_D2)
    ok("import", "--export-format", "2", "--no-progress", "-", f"{pool}/small", stdin=v2)
    a, b, c, z = b"A" * 4096, b"B" * 4096, b"C" * 4096, bytes(4096)
    assert _image_bytes(pool, "small", "s1") == a + z + z + z
    assert _image_bytes(pool, "small", "s2") == z + z + b + z
    assert _image_bytes(pool, "small") == z + z + b + c
    assert ok("image-meta", "get", f"{pool}/small", "owner").out == "pyceph\n"
    assert (
        json.loads(ok("snap", "ls", "--format", "json", f"{pool}/small").out)[0]["protected"]
        == "true"
    )
    # and back out, byte for byte what Debian's rbd wrote
    assert ok("export", "--export-format", "2", "--no-progress", f"{pool}/small", "-").raw == v2
    assert ok("export-diff", "--no-progress", f"{pool}/small@s1", "-").raw == d1
    assert (
        ok("export-diff", "--no-progress", "--from-snap", "s1", f"{pool}/small@s2", "-").raw == d2
    )
    # Debian's diffs apply to a fresh image
    ok("create", "--size", "16K", "--object-size", "4K", f"{pool}/replay")
    ok("import-diff", "--no-progress", "-", f"{pool}/replay", stdin=d1)
    ok("import-diff", "--no-progress", "-", f"{pool}/replay", stdin=d2)
    assert _image_bytes(pool, "replay", "s1") == a + z + z + z
    assert _image_bytes(pool, "replay") == z + z + b + z


def test_features_striping_sparsify_watch(pool: str) -> None:
    ok("create", "--size", "1M", "--stripe-unit", "64K", "--stripe-count", "4", f"{pool}/st")
    info = ok("info", f"{pool}/st").out
    assert "\tfeatures: layering, striping, exclusive-lock" in info
    assert info.endswith("\tstripe unit: 64 KiB\n\tstripe count: 4\n")
    j = json.loads(ok("info", "--format", "json", f"{pool}/st").out)
    assert (j["stripe_unit"], j["stripe_count"]) == (64 << 10, 4)
    ok("create", "--size", "1M", "--image-shared", f"{pool}/sh")
    assert "\tfeatures: layering, deep-flatten\n" in ok("info", f"{pool}/sh").out
    ok("feature", "disable", f"{pool}/st", "fast-diff")
    assert "fast-diff" not in ok("info", f"{pool}/st").out
    ok("feature", "enable", f"{pool}/st", "fast-diff")
    assert ", fast-diff, " in ok("info", f"{pool}/st").out
    r = rbd_cli("feature", "disable", f"{pool}/st", "layering")
    assert (r.code, r.err) == (22, "rbd: failed to update image features: (22) Invalid argument\n")
    assert ok("sparsify", f"{pool}/st").err == "\rImage sparsify: 100% complete...done.\n"
    r = ok("create", "--size", "1M", "--thick-provision", f"{pool}/thick")
    assert r.err.endswith("Thick provisioning: 100% complete...done.\n")
    assert ok("du", f"{pool}/thick").out.splitlines()[1].split() == [
        "thick",
        "1",
        "MiB",
        "1",
        "MiB",
    ]
    assert ok("watch", f"{pool}/st", stdin=b"\n").out == "press enter to exit...\n"


def test_groups(pool: str) -> None:
    ok("create", "--size", "1M", f"{pool}/img")
    ok("group", "create", f"{pool}/g1")
    assert ok("group", "ls", pool).out == "g1\n"
    assert json.loads(ok("group", "ls", "--format", "json", pool).out) == ["g1"]
    ok("group", "image", "add", f"{pool}/g1", f"{pool}/img")
    assert ok("group", "image", "ls", f"{pool}/g1").out == f"{pool}/img \n"
    assert json.loads(ok("group", "image", "ls", "--format", "json", f"{pool}/g1").out) == [
        {"image": "img", "pool": pool, "namespace": "", "state": 0}
    ]
    assert f"\tgroup: {pool}/g1\n" in ok("info", f"{pool}/img").out
    ok("group", "snap", "create", f"{pool}/g1@gs")
    assert ok("group", "snap", "ls", f"{pool}/g1").out == "NAME  STATUS\ngs        ok\n"
    assert json.loads(ok("group", "snap", "ls", "--format", "json", f"{pool}/g1").out) == [
        {"snapshot": "gs", "state": "ok"}
    ]
    ok("group", "snap", "rollback", "--no-progress", f"{pool}/g1@gs")
    ok("group", "snap", "rename", f"{pool}/g1@gs", "gt")
    ok("group", "snap", "rm", f"{pool}/g1@gt")
    ok("group", "image", "rm", f"{pool}/g1", f"{pool}/img")
    ok("group", "rename", f"{pool}/g1", f"{pool}/g2")
    ok("group", "rm", f"{pool}/g2")
    assert ok("group", "ls", pool).out == ""


def test_migration(pool: str) -> None:
    ok("create", "--size", "1M", f"{pool}/src")
    with (
        rados.Rados(conf={"mon_host": "embedded:"}) as c,
        c.open_ioctx(pool) as io_,
        rbd.Image(io_, "src") as img,
    ):
        img.write(b"migrate me", 0)
    ok("migration", "prepare", f"{pool}/src", f"{pool}/dst")
    r = ok("migration", "execute", f"{pool}/dst")
    assert r.err.endswith("Image migration: 100% complete...done.\n")
    r = ok("migration", "commit", f"{pool}/dst")
    assert r.err.endswith("Commit image migration: 100% complete...done.\n")
    assert ok("ls", pool).out == "dst\n"
    assert _image_bytes(pool, "dst")[:10] == b"migrate me"


def test_mirroring_metadata(pool: str) -> None:
    ok("create", "--size", "1M", f"{pool}/img")
    ok("mirror", "pool", "enable", pool, "image")
    info = ok("mirror", "pool", "info", pool).out
    assert info.startswith("Mode: image\nSite Name: ")
    assert info.endswith("\n\nPeer Sites: none\n")
    assert json.loads(ok("mirror", "pool", "info", "--format", "json", pool).out)["mode"] == "image"
    assert ok("mirror", "image", "enable", f"{pool}/img", "snapshot").out == "Mirroring enabled\n"
    assert ok("mirror", "image", "demote", f"{pool}/img").out == "Image demoted to non-primary\n"
    assert ok("mirror", "image", "promote", f"{pool}/img").out == "Image promoted to primary\n"
    assert ok("mirror", "image", "disable", f"{pool}/img").out == "Mirroring disabled\n"
    ok("mirror", "pool", "disable", pool)
    assert ok("mirror", "pool", "info", pool).out == "Mode: disabled\n"


def test_du_snapshots_and_merge(pool: str) -> None:
    ok("create", "--size", "8M", f"{pool}/img")
    with (
        rados.Rados(conf={"mon_host": "embedded:"}) as c,
        c.open_ioctx(pool) as io_,
        rbd.Image(io_, "img") as img,
    ):
        img.write(b"x" * 4096, 0)
        img.create_snap("s1")
    rows = json.loads(ok("du", "--format", "json", f"{pool}/img").out)["images"]
    assert [(r["name"], r.get("snapshot")) for r in rows] == [("img", "s1"), ("img", None)]
    assert list(rows[0]) == [
        "name",
        "id",
        "snapshot",
        "snapshot_id",
        "provisioned_size",
        "used_size",
    ]
    assert rows[0]["used_size"] == 4 << 20  # whole objects unless --exact
    merged = json.loads(ok("du", "--merge-snapshots", "--format", "json", f"{pool}/img").out)
    assert [r["used_size"] for r in merged["images"]] == [sum(r["used_size"] for r in rows)]
    table = ok("du", f"{pool}/img").out.splitlines()
    assert [ln.split()[0] for ln in table] == ["NAME", "img@s1", "img", "<TOTAL>"]
    pool_wide = json.loads(ok("du", "--format", "json", "-p", pool).out)
    assert pool_wide["total_provisioned_size"] == 8 << 20


def test_object_map_check_flags_a_wrong_map_and_rebuild_repairs_it(
    cluster: rados.Rados, pool: str
) -> None:
    """`rbd object-map check` (librbd check_object_map): a map that misses an object is
    flagged invalid (`rbd info` shows it); one that claims a removed object is only
    inconsistent; `object-map rebuild` makes the check pass again."""
    order, obj = 22, 4 << 20
    with cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, "img", 4 * obj, order=order,
                         features=rbd.RBD_FEATURE_EXCLUSIVE_LOCK
                         | rbd.RBD_FEATURE_OBJECT_MAP | rbd.RBD_FEATURE_FAST_DIFF)  # fmt: skip
        with rbd.Image(ioctx, "img") as img:
            img.write(b"a" * 4096, 0)
            img.create_snap("s1")
            img.write(b"b" * 4096, obj)  # written after the snapshot: EXISTS, others CLEAN
            prefix = img.block_name_prefix()
        check = rbd_cli("object-map", "check", f"{pool}/img", "--no-progress")
        assert (check.code, check.err) == (0, ""), check
        assert "flags: \n" in rbd_cli("info", f"{pool}/img").out
        # an object behind the map's back: the map misses it -> invalid
        ioctx.write_full(f"{prefix}.{2:016x}", b"c" * 4096)
        assert rbd_cli("object-map", "check", f"{pool}/img", "--no-progress").code == 0
        assert "flags: object map invalid" in rbd_cli("info", f"{pool}/img").out
        assert rbd_cli("object-map", "rebuild", f"{pool}/img", "--no-progress").code == 0
        assert "flags: \n" in rbd_cli("info", f"{pool}/img").out
        # a removed object the map still claims: inconsistent, not invalid
        ioctx.remove_object(f"{prefix}.{2:016x}")
        assert rbd_cli("object-map", "check", f"{pool}/img", "--no-progress").code == 0
        assert "flags: \n" in rbd_cli("info", f"{pool}/img").out
        # the snapshot's map is checked too
        assert rbd_cli("object-map", "check", f"{pool}/img@s1", "--no-progress").code == 0
        assert "flags: \n" in rbd_cli("info", f"{pool}/img@s1").out
    # without the feature: upstream's failure line
    with cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, "plain", obj, features=rbd.RBD_FEATURE_LAYERING)
    r = rbd_cli("object-map", "check", f"{pool}/plain", "--no-progress")
    assert r.code == 22 and r.err.endswith(
        "rbd: checking object map failed: (22) Invalid argument\n"), r  # fmt: skip
