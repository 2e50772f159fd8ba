"""rbd client-side encryption: encryption_format LUKS1/LUKS2 (AES-128/256),
encryption_load with the right and a wrong passphrase and format, the size seen
through the encryption layer, data round trip (and ciphertext on the raw image),
and the errors (format twice, load on an unformatted image, bad format values,
str passphrase)."""

MiB = 1 << 20


def run(s):
    rbd = s.rbd
    R = rbd.RBD()
    pool = s.rbd_pool()
    io = s.ioctx(pool)
    for name in ("luks1", "luks2", "plain"):
        R.create(io, name, 32 * MiB)
    L1, L2 = rbd.RBD_ENCRYPTION_FORMAT_LUKS1, rbd.RBD_ENCRYPTION_FORMAT_LUKS2
    img = s.image(io, "luks2")
    s.step("size_before", lambda: img.size())
    s.step("format_luks2", lambda: img.encryption_format(L2, "secret-pass"))
    s.step("size_after_format", lambda: img.size())
    s.step("write_encrypted", lambda: img.write(b"plaintext-data", 0))
    s.step("read_encrypted", lambda: img.read(0, 14))
    img.close()
    raw = s.image(io, "luks2")
    s.step("raw_header_magic", lambda: raw.read(0, 6))
    s.step("raw_size", lambda: raw.size())
    s.step("load_wrong_passphrase", lambda: raw.encryption_load(L2, "wrong"))
    s.step("load_wrong_format", lambda: raw.encryption_load(L1, "secret-pass"))
    raw.close()
    img = s.image(io, "luks2")
    s.step("load_luks2", lambda: img.encryption_load(L2, "secret-pass"))
    s.step("size_loaded", lambda: img.size())
    s.step("read_loaded", lambda: img.read(0, 14))
    s.step("load_twice", lambda: img.encryption_load(L2, "secret-pass"))
    img.close()
    raw = s.image(io, "luks2")
    s.step(
        "ciphertext_differs",
        lambda: raw.read(img_offset(raw), 14) != b"plaintext-data",
    )
    one = s.image(io, "luks1")
    s.step(
        "format_luks1_aes128",
        lambda: one.encryption_format(L1, "p1", rbd.RBD_ENCRYPTION_ALGORITHM_AES128),
    )
    s.step("luks1_size", lambda: one.size())
    s.step("luks1_write", lambda: one.write(b"one", 0))
    one.close()
    one = s.image(io, "luks1")
    s.step("luks1_raw_magic", lambda: one.read(0, 6))
    s.step("load_luks1", lambda: one.encryption_load(L1, "p1"))
    s.step("luks1_read", lambda: one.read(0, 3))
    plain = s.image(io, "plain")
    s.step("load_unformatted", lambda: plain.encryption_load(L2, "x"))
    s.step("format_bad_format", lambda: plain.encryption_format(7, "x"))
    s.step("format_bad_cipher", lambda: plain.encryption_format(L2, "x", 9))
    s.step("format_passphrase_bytes", lambda: plain.encryption_format(L2, b"bytes-pass"))
    s.step("plain_size_after", lambda: plain.size())
    s.step("format_twice", lambda: plain.encryption_format(L2, "again"))
    s.step("plain_size_after_second_format", lambda: plain.size())


def img_offset(raw):
    """Where the LUKS2 payload starts on the raw image (the default 16 MiB header)."""
    return 16 * MiB
