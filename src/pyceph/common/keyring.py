"""Keyrings and cephx secrets in upstream's formats (Ceph 16.2 `KeyRing.cc`, `CryptoKey`).

A keyring is ceph.conf-style text, one section per entity with its base64 key
and `caps <service> = "..."` lines.  A secret is the base64 of upstream's
encoded CryptoKey: u16 type (1 = AES), u32 seconds + u32 nanoseconds of
creation, u16 length (16), then the 16 secret bytes, so keys start with "AQ".
Randomness and time are injectable so the simulator can make keys reproducibly.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pyceph.common.conffile import ConfParseError, parse_conf
from pyceph.common.errors import CephError

__all__ = [
    "CEPH_CRYPTO_AES",
    "CEPH_CRYPTO_NONE",
    "CryptoKey",
    "Keyring",
    "KeyringEntry",
    "KeyringError",
    "SECRET_LEN",
    "decode_key",
    "decode_secret",
    "encode_key",
    "find_keyring",
    "generate_secret",
]

CEPH_CRYPTO_NONE = 0
CEPH_CRYPTO_AES = 1
SECRET_LEN = 16
_HEADER = struct.Struct("<HIIH")  # type, created.sec, created.nsec, secret length
_ENTITY_TYPES = ("auth", "mon", "osd", "mds", "mgr", "client")


class KeyringError(CephError, ValueError):
    """A malformed keyring or key (errno EINVAL)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EINVAL, message)


@dataclass(frozen=True)
class CryptoKey:
    """A decoded cephx key: its type, creation time and raw secret."""

    type: int
    created_sec: int
    created_nsec: int
    secret: bytes


def encode_key(key: CryptoKey) -> str:
    """Base64 text of a CryptoKey, as upstream's `CryptoKey::encode_base64`."""
    raw = _HEADER.pack(key.type, key.created_sec, key.created_nsec, len(key.secret))
    return base64.b64encode(raw + key.secret).decode("ascii")


def decode_key(text: str) -> CryptoKey:
    """Parse a base64 CryptoKey; KeyringError (a ValueError) when malformed."""
    try:
        raw = base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise KeyringError(f"key is not valid base64: '{text}'") from None
    if len(raw) < _HEADER.size:
        raise KeyringError(f"key is too short: '{text}'")
    ktype, sec, nsec, length = _HEADER.unpack_from(raw)
    secret = raw[_HEADER.size :]
    if len(secret) != length:
        raise KeyringError(f"key length {length} does not match its {len(secret)} bytes")
    if ktype == CEPH_CRYPTO_AES and length != SECRET_LEN:
        raise KeyringError(f"AES key must have {SECRET_LEN} bytes, not {length}")
    if ktype not in (CEPH_CRYPTO_AES, CEPH_CRYPTO_NONE):
        raise KeyringError(f"unknown key type {ktype}")
    return CryptoKey(ktype, sec, nsec, secret)


def decode_secret(text: str) -> bytes:
    """The 16 raw secret bytes of a base64 AES key; KeyringError (ValueError) if bad."""
    key = decode_key(text)
    if key.type != CEPH_CRYPTO_AES:
        raise KeyringError("not an AES key")
    return key.secret


def generate_secret(
    rand: Callable[[int], bytes] = os.urandom,
    now: Callable[[], float] = time.time,
) -> str:
    """A new AES cephx key as base64 (40 characters, starting "AQ")."""
    secret = rand(SECRET_LEN)
    if len(secret) != SECRET_LEN:
        raise ValueError(f"random source returned {len(secret)} bytes, wanted {SECRET_LEN}")
    t = now()
    sec = int(t)
    nsec = int(round((t - sec) * 1e9)) % 1_000_000_000
    return encode_key(CryptoKey(CEPH_CRYPTO_AES, sec & 0xFFFFFFFF, nsec, bytes(secret)))


@dataclass
class KeyringEntry:
    """One entity of a keyring: its base64 key and caps per service."""

    key: str
    caps: dict[str, str] = field(default_factory=dict)


def _check_entity(name: str) -> None:
    type_, dot, id_ = name.partition(".")
    if name == "mon.":  # the monitors' shared key has an empty id
        return
    if not dot or type_ not in _ENTITY_TYPES or not id_:
        raise KeyringError(f"bad entity name in keyring: {name}")


class Keyring:
    """Entities → (key, caps), loaded from and written to upstream's plaintext format."""

    def __init__(self, entries: Mapping[str, KeyringEntry] | None = None) -> None:
        self.entries: dict[str, KeyringEntry] = dict(entries or {})

    @classmethod
    def loads(cls, text: str | bytes) -> Keyring:
        """Parse keyring text; KeyringError on bad syntax, entity names, keys or fields."""
        try:
            sections = parse_conf(text)
        except ConfParseError as e:
            raise KeyringError(f"cannot parse buffer: {e}") from None
        ring = cls()
        for name, values in sections.items():
            if name == "global":
                continue
            _check_entity(name)
            key = ""
            caps: dict[str, str] = {}
            for k, val in values.items():
                if not k:
                    continue
                field_name = k.replace("_", " ")
                if field_name == "key":
                    try:
                        decode_key(val)
                    except KeyringError:
                        raise KeyringError(
                            f"error setting modifier for [{name}] type={field_name} val={val}"
                        ) from None
                    key = val
                elif field_name.startswith("caps ") and len(field_name) > 5:
                    caps[field_name[5:]] = val
                elif field_name == "auid":
                    continue
                else:
                    raise KeyringError(
                        f"error setting modifier for [{name}] type={field_name} val={val}"
                    )
            existing = ring.entries.get(name)
            if existing is not None and not key:
                key = existing.key
            ring.entries[name] = KeyringEntry(key, caps)
        return ring

    @classmethod
    def load(cls, path: str) -> Keyring:
        """Read a keyring file (OSError passes through)."""
        with open(path, "rb") as f:
            return cls.loads(f.read())

    def dumps(self) -> str:
        """Upstream's plaintext: `[name]`, tab-indented key, caps sorted by service."""
        out = []
        for name, entry in self.entries.items():
            out.append(f"[{name}]\n")
            out.append(f"\tkey = {entry.key}\n")
            for svc in sorted(entry.caps):
                out.append(caps_line(svc, entry.caps[svc]))
        return "".join(out)

    def save(self, path: str) -> None:
        """Write the keyring with mode 0600 (it holds secrets)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.dumps())

    def add(self, entity: str, key: str, caps: Mapping[str, str] | None = None) -> None:
        """Add or replace an entity; the key must be a valid base64 CryptoKey."""
        _check_entity(entity)
        decode_key(key)
        self.entries[entity] = KeyringEntry(key, dict(caps or {}))

    def remove(self, entity: str) -> bool:
        return self.entries.pop(entity, None) is not None

    def get_key(self, entity: str) -> str | None:
        entry = self.entries.get(entity)
        return entry.key if entry is not None and entry.key else None

    def get_secret(self, entity: str) -> bytes | None:
        key = self.get_key(entity)
        return decode_secret(key) if key else None

    def get_caps(self, entity: str) -> dict[str, str]:
        entry = self.entries.get(entity)
        return dict(entry.caps) if entry is not None else {}

    def __contains__(self, entity: object) -> bool:
        return entity in self.entries

    def __len__(self) -> int:
        return len(self.entries)


def caps_line(service: str, caps: str) -> str:
    """One `caps` line of a plaintext keyring. The reader (upstream's ConfFile grammar)
    takes a backslash as an escape, so quotes and backslashes inside the caps are
    escaped: `allow command "auth get"` reads back unchanged."""
    escaped = caps.replace("\\", "\\\\").replace('"', '\\"')
    return f'\tcaps {service} = "{escaped}"\n'


def find_keyring(paths: Iterable[str]) -> str | None:
    """The first of `paths` that can be opened for reading, or None."""
    for path in paths:
        if not path:
            continue
        try:
            with open(path, "rb"):
                return path
        except OSError:
            continue
    return None
