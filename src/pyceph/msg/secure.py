"""Secure mode's frame cipher, sans I/O: seal and open frame payloads with AES-GCM.

As upstream msgr2's `secure` mode (`doc/rados/configuration/msgr2.rst`,
`src/msg/async/crypto_onwire.cc`): once both ends have authenticated, every frame's
head and data travel encrypted and authenticated with AES-GCM, one key per direction.
The keys come from the connection secret the handshake derived from the session key
(`cephx.connection_key`) through HKDF-SHA256, so they never leave either end and
differ per connection. The 96-bit nonce is a 4-byte per-direction salt and a 64-bit
per-direction frame counter: never reused, and a receiver that opens frame N with
nonce N rejects any frame replayed, dropped or reordered (its tag does not verify).
A direction is closed before its counter could wrap (`MAX_FRAMES_PER_KEY`). The frame's
type and sequence number are authenticated as associated data.
"""

from __future__ import annotations

import errno
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pyceph.common.errors import CephError

KEY_LEN = 32
SALT_LEN = 4
TAG_LEN = 16
HKDF_INFO = b"pyceph-msgr-secure-v1"
#: Frames one key may seal before the connection must be dropped (far below 2**64: the
#: GCM invocation bound NIST SP 800-38D gives for one key).
MAX_FRAMES_PER_KEY = 1 << 32
_AAD = struct.Struct("<HQ")  # frame type, frame sequence
_HLEN = struct.Struct("<I")
_CTR = struct.Struct(">Q")


class SecureError(CephError):
    """A frame failed to open (tampered, replayed, reordered) or a key is spent: the
    connection must be dropped."""


class _Direction:
    """One direction's key, salt and frame counter."""

    __slots__ = ("aead", "salt", "count")

    def __init__(self, key: bytes, salt: bytes) -> None:
        self.aead = AESGCM(key)
        self.salt = salt
        self.count = 0

    def next_nonce(self) -> bytes:
        if self.count >= MAX_FRAMES_PER_KEY:
            raise SecureError(errno.ECONNRESET, "secure mode key exhausted: reconnect")
        nonce = self.salt + _CTR.pack(self.count)
        self.count += 1
        return nonce


class SecureChannel:
    """Both directions of one secure connection."""

    def __init__(self, tx_key: bytes, tx_salt: bytes, rx_key: bytes, rx_salt: bytes) -> None:
        self._tx = _Direction(tx_key, tx_salt)
        self._rx = _Direction(rx_key, rx_salt)

    @classmethod
    def for_connection(cls, connection_key: bytes, connecting_side: bool) -> SecureChannel:
        """The channel for one end of a connection, from its handshake's secret."""
        okm = HKDF(
            algorithm=hashes.SHA256(),
            length=2 * (KEY_LEN + SALT_LEN),
            salt=None,
            info=HKDF_INFO,
        ).derive(connection_key)
        c2s_key, okm = okm[:KEY_LEN], okm[KEY_LEN:]
        s2c_key, okm = okm[:KEY_LEN], okm[KEY_LEN:]
        c2s_salt, s2c_salt = okm[:SALT_LEN], okm[SALT_LEN:]
        if connecting_side:
            return cls(c2s_key, c2s_salt, s2c_key, s2c_salt)
        return cls(s2c_key, s2c_salt, c2s_key, c2s_salt)

    @property
    def sent(self) -> int:
        """Frames sealed so far (the next send counter)."""
        return self._tx.count

    def seal(self, ftype: int, seq: int, head: bytes, data: bytes | memoryview = b"") -> bytes:
        """The encrypted payload of one frame carrying `head` and `data`."""
        nonce = self._tx.next_nonce()
        plain = b"".join((_HLEN.pack(len(head)), head, data))
        return self._tx.aead.encrypt(nonce, plain, _AAD.pack(ftype, seq))

    def open(self, ftype: int, seq: int, blob: bytes | memoryview) -> tuple[bytes, memoryview]:
        """(head, data) of the next received frame; SecureError if it is not the next
        frame the peer sealed, unaltered."""
        nonce = self._rx.next_nonce()
        try:
            # the frame buffer as is: AESGCM reads any buffer (a copy here cost more
            # than the decryption of a 4 MiB frame)
            plain = self._rx.aead.decrypt(nonce, blob, _AAD.pack(ftype, seq))
        except InvalidTag:
            raise SecureError(errno.EBADMSG, "secure frame failed authentication") from None
        if len(plain) < _HLEN.size:
            raise SecureError(errno.EBADMSG, "secure frame too short")
        (hlen,) = _HLEN.unpack_from(plain)
        if hlen > len(plain) - _HLEN.size:
            raise SecureError(errno.EBADMSG, "secure frame head length out of bounds")
        view = memoryview(plain)
        return bytes(view[_HLEN.size : _HLEN.size + hlen]), view[_HLEN.size + hlen :]


def parse_modes(text: str) -> tuple[str, ...]:
    """An `ms_*_mode` option's value ("crc secure") as a preference list; EINVAL on an
    unknown mode."""
    modes = tuple(m for m in text.replace(",", " ").split() if m)
    for m in modes:
        if m not in ("crc", "secure"):
            raise CephError(errno.EINVAL, f"unknown connection mode {m!r}")
    return modes
