"""Client-side LUKS encryption of the rbd engine (`pyceph.rbdlib.encryption`, upstream
librbd crypto/luks) on the embedded cluster: the LUKS1/LUKS2 header at the start of the
image (checked by cryptsetup itself when it is installed), the payload's size, data
round trips and ciphertext on the raw image, and the errnos for bad input."""

# ruff: noqa: F811  (pytest fixtures imported from rbdlib_pool_env)
from __future__ import annotations

import errno
import shutil
import subprocess
from pathlib import Path

from pyceph.rbdlib import encryption as E
from pyceph.rbdlib import io

from .rbdlib_pool_env import Env, MiB, cluster, env  # noqa: F401 - fixtures

CRYPTSETUP = shutil.which("cryptsetup") or (
    "/sbin/cryptsetup" if Path("/sbin/cryptsetup").exists() else None)  # fmt: skip


def _export_header(env: Env, img, path: Path, length: int) -> None:
    path.write_bytes(env.run(io.read_extents(img, img.snap_id, 0, length)))


def _cryptsetup_check(path: Path, passphrase: bytes, version: int) -> None:
    assert CRYPTSETUP is not None, "cryptsetup is missing: run scripts/install_test_deps.sh"
    dump = subprocess.run([CRYPTSETUP, "luksDump", str(path)], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    assert f"Version: {version}" in " ".join(dump.split())
    assert "aes-xts-plain64" in dump or "xts-plain64" in dump
    ok = subprocess.run([CRYPTSETUP, "open", "--test-passphrase", "--key-file=-", str(path)],
                        input=passphrase, capture_output=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([CRYPTSETUP, "open", "--test-passphrase", "--key-file=-", str(path)],
                         input=b"wrong", capture_output=True)  # fmt: skip
    assert bad.returncode != 0


def test_luks2_format_load_and_io(env: Env, tmp_path: Path) -> None:
    env.create("luks2", 32 * MiB, order=22)
    img = env.open("luks2")
    env.run(E.encryption_format(img, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"secret-pass"))
    assert E.size(img) == 16 * MiB
    assert env.run(E.write(img, b"plaintext-data", 0)) == 14
    assert env.run(E.read(img, 0, 14)) == b"plaintext-data"
    env.run(E.write(img, b"X", 4097))  # inside a 4 KiB sector: read-modify-write
    assert env.run(E.read(img, 4090, 12)) == bytes(7) + b"X" + bytes(4)
    assert env.run(E.read(img, 0, 14)) == b"plaintext-data"
    env.run(img.close())
    raw = env.open("luks2")
    head = env.run(io.read_extents(raw, raw.snap_id, 0, 8))
    assert head == b"LUKS\xba\xbe\x00\x02"
    assert env.run(io.read_extents(raw, raw.snap_id, 16 * MiB, 14)) != b"plaintext-data"
    assert env.run(io.read_extents(raw, raw.snap_id, 16384, 6)) == b"SKUL\xba\xbe"
    assert env.err(E.encryption_load(raw, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"wrong")) \
        == errno.EPERM  # fmt: skip
    assert env.err(E.encryption_load(raw, E.RBD_ENCRYPTION_FORMAT_LUKS1, b"secret-pass")) \
        == errno.EINVAL  # fmt: skip
    env.run(E.encryption_load(raw, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"secret-pass"))
    assert E.size(raw) == 16 * MiB
    assert env.run(E.read(raw, 0, 14)) == b"plaintext-data"
    assert env.err(E.encryption_load(raw, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"secret-pass")) \
        == errno.EEXIST  # fmt: skip
    env.run(E.discard(raw, 0, 4))
    assert env.run(E.read(raw, 0, 14)) == bytes(4) + b"ntext-data"
    header = tmp_path / "luks2.img"
    _export_header(env, raw, header, 16 * MiB + 4096)
    env.run(raw.close())
    _cryptsetup_check(header, b"secret-pass", 2)


def test_luks1_aes128(env: Env, tmp_path: Path) -> None:
    env.create("luks1", 32 * MiB, order=22)
    img = env.open("luks1")
    env.run(E.encryption_format(img, E.RBD_ENCRYPTION_FORMAT_LUKS1, "p1",
                                E.RBD_ENCRYPTION_ALGORITHM_AES128))  # fmt: skip
    assert E.size(img) == 28 * MiB  # the header rounded up to the 4 MiB object size
    env.run(E.write(img, b"one", 0))
    env.run(img.close())
    img = env.open("luks1")
    assert env.run(io.read_extents(img, img.snap_id, 0, 6)) == b"LUKS\xba\xbe"
    env.run(E.encryption_load(img, E.RBD_ENCRYPTION_FORMAT_LUKS1, b"p1"))
    assert env.run(E.read(img, 0, 3)) == b"one"
    header = tmp_path / "luks1.img"
    _export_header(env, img, header, 4 * MiB)
    env.run(img.close())
    _cryptsetup_check(header, b"p1", 1)


def test_bad_input(env: Env) -> None:
    env.create("plain", 32 * MiB, order=22)
    env.create("tiny", 8 * MiB, order=22)
    img = env.open("plain")
    assert env.err(E.encryption_load(img, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"x")) == errno.EINVAL
    assert env.err(E.encryption_format(img, 7, b"x")) == errno.EINVAL
    assert env.err(E.encryption_format(img, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"x", 9)) \
        == errno.EINVAL  # fmt: skip
    assert env.run(io.read_extents(img, img.snap_id, 0, 6)) == bytes(6)  # unchanged
    env.run(E.encryption_format(img, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"bytes-pass"))
    env.run(E.encryption_format(img, E.RBD_ENCRYPTION_FORMAT_LUKS2, "again"))  # reformat
    assert E.size(img) == 16 * MiB
    env.run(img.close())
    tiny = env.open("tiny")
    assert env.err(E.encryption_format(tiny, E.RBD_ENCRYPTION_FORMAT_LUKS2, b"x")) \
        == errno.ENOSPC  # fmt: skip
    env.run(tiny.close())


def test_af_split_round_trip() -> None:
    key = bytes(range(64))
    material = E.af_split(key, E.LUKS_STRIPES, "sha256")
    assert len(material) == 64 * E.LUKS_STRIPES
    assert E.af_merge(material, 64, E.LUKS_STRIPES, "sha256") == key
