"""Keyrings and cephx secrets in upstream's formats (checked against ceph-authtool 16.2.15)."""

from __future__ import annotations

import base64
import errno
import os
import random
import stat
import struct

import pytest

from pyceph.common.keyring import (
    CEPH_CRYPTO_AES,
    CryptoKey,
    Keyring,
    KeyringError,
    decode_key,
    decode_secret,
    encode_key,
    find_keyring,
    generate_secret,
)

# As `ceph auth get-or-create` / `ceph-authtool -C --gen-key --cap ...` print it.
UPSTREAM_SAMPLE = (
    "[client.foo]\n"
    "\tkey = AQCqhAJrCvk1GxAASXAO1+q4Lu0wOc9GnPOryQ==\n"
    '\tcaps mon = "allow r"\n'
    '\tcaps osd = "allow rwx pool=images"\n'
)


def test_parse_upstream_sample_and_round_trip():
    ring = Keyring.loads(UPSTREAM_SAMPLE)
    assert ring.get_key("client.foo") == "AQCqhAJrCvk1GxAASXAO1+q4Lu0wOc9GnPOryQ=="
    assert ring.get_caps("client.foo") == {"mon": "allow r", "osd": "allow rwx pool=images"}
    assert ring.dumps() == UPSTREAM_SAMPLE
    assert len(ring.get_secret("client.foo")) == 16
    assert "client.foo" in ring and len(ring) == 1


def test_admin_keyring_several_entities_and_sorted_caps():
    ring = Keyring()
    key = generate_secret()
    ring.add(
        "client.admin",
        key,
        {"osd": "allow *", "mon": "allow *", "mgr": "allow *", "mds": "allow *"},
    )
    ring.add("osd.0", key, {"mon": "allow profile osd"})
    text = ring.dumps()
    assert text.splitlines()[:6] == [
        "[client.admin]",
        f"\tkey = {key}",
        '\tcaps mds = "allow *"',
        '\tcaps mgr = "allow *"',
        '\tcaps mon = "allow *"',
        '\tcaps osd = "allow *"',
    ]
    assert Keyring.loads(text).entries == ring.entries


def test_load_save_file_mode(tmp_path):
    ring = Keyring.loads(UPSTREAM_SAMPLE)
    path = str(tmp_path / "keyring")
    ring.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Keyring.load(path).entries == ring.entries


def test_tolerated_inputs():
    ring = Keyring.loads(
        "[global]\nfoo = bar\n[client.x]\nkey = AQCqhAJrCvk1GxAASXAO1+q4Lu0wOc9GnPOryQ==\nauid = 0\n"
    )
    assert list(ring.entries) == ["client.x"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("[bogus]\nkey = x\n", "bad entity name in keyring: bogus"),
        ("[client.x]\nkey = notbase64!\n", "error setting modifier for [client.x] type=key"),
        ("[client.x]\nfoo = 1\n", "error setting modifier for [client.x] type=foo val=1"),
        ("[client.x]\nkey\n", "cannot parse buffer"),
    ],
)
def test_malformed_keyrings(text, message):
    with pytest.raises(KeyringError, match=message.replace("[", r"\[").replace("]", r"\]")) as ei:
        Keyring.loads(text)
    assert ei.value.errno == errno.EINVAL and isinstance(ei.value, ValueError)


def test_generate_secret_format():
    key = generate_secret(lambda n: bytes(range(n)), lambda: 1700000000.5)
    assert len(key) == 40 and key.startswith("AQ")
    raw = base64.b64decode(key)
    assert len(raw) == 28
    ktype, sec, nsec, length = struct.unpack_from("<HIIH", raw)
    assert (ktype, sec, nsec, length) == (CEPH_CRYPTO_AES, 1700000000, 500000000, 16)
    assert raw[12:] == bytes(range(16))
    assert decode_secret(key) == bytes(range(16))
    assert decode_key(key) == CryptoKey(1, 1700000000, 500000000, bytes(range(16)))


def test_generate_secret_is_reproducible_with_seeded_source():
    def seeded():
        rng = random.Random(42)
        return lambda n: rng.randbytes(n)

    assert generate_secret(seeded(), lambda: 5.0) == generate_secret(seeded(), lambda: 5.0)
    assert generate_secret() != generate_secret()


def test_encode_decode_round_trip():
    k = CryptoKey(CEPH_CRYPTO_AES, 1, 2, b"\xff" * 16)
    assert decode_key(encode_key(k)) == k


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "AQ",
        "not base64!",
        base64.b64encode(struct.pack("<HIIH", 1, 0, 0, 16) + b"x" * 15).decode(),
        base64.b64encode(struct.pack("<HIIH", 1, 0, 0, 8) + b"x" * 8).decode(),
        base64.b64encode(struct.pack("<HIIH", 7, 0, 0, 16) + b"x" * 16).decode(),
    ],
)
def test_decode_secret_rejects(bad):
    with pytest.raises(ValueError):
        decode_secret(bad)


def test_add_validates():
    ring = Keyring()
    with pytest.raises(KeyringError):
        ring.add("client.x", "garbage")
    with pytest.raises(KeyringError):
        ring.add("nobody", generate_secret())
    assert ring.get_key("client.x") is None and ring.get_caps("client.x") == {}
    ring.add("client.x", generate_secret())
    assert ring.remove("client.x") and not ring.remove("client.x")


def test_find_keyring(tmp_path):
    present = tmp_path / "k2"
    present.write_text(UPSTREAM_SAMPLE)
    assert find_keyring(["", str(tmp_path / "k1"), str(present)]) == str(present)
    assert find_keyring([str(tmp_path / "none")]) is None


def test_caps_with_quotes_and_backslashes_round_trip():
    """A `command` grant quotes its prefix and a `regex` grant may hold backslashes: the
    written keyring escapes both and reads back the same caps (it used not to load)."""
    key = generate_secret(rand=random.Random(3).randbytes)
    caps = {
        "mon": 'allow command "auth get" with entity="client.x", allow r',
        "mgr": 'allow command "config set" with name regex "osd_\\d+"',
    }
    ring = Keyring()
    ring.add("client.x", key, caps)
    text = ring.dumps()
    assert (
        '\tcaps mon = "allow command \\"auth get\\" with entity=\\"client.x\\", allow r"\n' in text
    )
    assert Keyring.loads(text).get_caps("client.x") == caps
