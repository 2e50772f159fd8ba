"""Client-side LUKS encryption of an image (librbd ``crypto/luks/`` — FormatRequest,
LoadRequest, Header — and ``crypto/BlockCrypto``, Ceph 16.2).

`encryption_format` writes a LUKS1 or LUKS2 header at the start of the image, as
libcryptsetup lays it out (so ``cryptsetup luksDump`` of an exported image reads it and
``cryptsetup open`` maps its data): a random volume key, protected by a passphrase
keyslot (PBKDF2 key derivation, the anti-forensic splitter with 4000 stripes,
aes-xts-plain64 key material), the payload at the header's data offset — the LUKS
header size rounded up to the image's object size (upstream's data alignment). Image data
is encrypted with aes-xts-plain64 in sectors of 512 bytes (LUKS1) or 4096 bytes
(LUKS2, as librbd formats), each sector's IV its 512-byte sector number from the start
of the payload (dm-crypt's plain64).

`encryption_load` opens the header with a passphrase and attaches the decrypted volume
key to the open `Image` as ``img.encryption`` (a `LuksContext`); `read`, `write`,
`discard` and `size` here are the I/O of such an image (offsets shifted past the header,
data encrypted per sector, partial sectors read-modify-written), on top of the engine's
raw `io` functions. Errors as upstream's: EINVAL for an unknown format or cipher, a
header of another format or none; EPERM for a wrong passphrase; EEXIST when encryption
is already loaded; ENOSPC for an image too small for the header.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import struct
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pyceph.common.errors import CephError
from pyceph.rbdlib.layout import CEPH_NOSNAP

RBD_ENCRYPTION_FORMAT_LUKS1 = 0
RBD_ENCRYPTION_FORMAT_LUKS2 = 1
RBD_ENCRYPTION_ALGORITHM_AES128 = 0
RBD_ENCRYPTION_ALGORITHM_AES256 = 1
#: AES-XTS key bytes (two AES keys) per cipher algorithm.
XTS_KEY_BYTES = {RBD_ENCRYPTION_ALGORITHM_AES128: 32, RBD_ENCRYPTION_ALGORITHM_AES256: 64}
#: Encryption sector size per format (librbd FormatRequest).
FORMAT_SECTOR_SIZE = {RBD_ENCRYPTION_FORMAT_LUKS1: 512, RBD_ENCRYPTION_FORMAT_LUKS2: 4096}
#: dm-crypt's IV unit (plain64 counts 512-byte sectors).
IV_SECTOR = 512
LUKS_MAGIC = b"LUKS\xba\xbe"
LUKS2_MAGIC_2ND = b"SKUL\xba\xbe"
LUKS_CIPHER = "aes"
LUKS_CIPHER_MODE = "xts-plain64"
LUKS_HASH = "sha256"
#: Anti-forensic stripes per keyslot (LUKS_STRIPES).
LUKS_STRIPES = 4000
LUKS_NUMKEYS = 8
LUKS1_KEY_ENABLED = 0x00AC71F3
LUKS1_KEY_DISABLED = 0x0000DEAD
#: Keyslot areas are aligned to this many bytes (LUKS_ALIGN_KEYSLOTS).
KEYSLOT_ALIGN = 4096
LUKS1_MKD_DIGEST_SIZE = 20
LUKS_SALT_SIZE = 32
#: PBKDF2 iterations of a passphrase keyslot and of the volume-key digest (cryptsetup
#: benchmarks them; these are fixed, above its minimum of 1000).
KEYSLOT_PBKDF2_ITERATIONS = 100_000
DIGEST_PBKDF2_ITERATIONS = 10_000
#: LUKS2 metadata area (binary header + JSON) per copy, and the keyslots area size:
#: cryptsetup's defaults, giving its 16 MiB data offset.
LUKS2_HDR_SIZE = 16 << 10
LUKS2_BINARY_SIZE = 4096
LUKS2_KEYSLOTS_SIZE = (16 << 20) - 2 * LUKS2_HDR_SIZE
LUKS1_PHDR = struct.Struct(">6sH32s32s32sII20s32sI40s")
LUKS1_KEYSLOT = struct.Struct(">II32sII")
LUKS2_BINARY = struct.Struct(">6sHQQ48s32s64s40s48sQ184s64s")


def _cstr(b: bytes) -> str:
    return b.split(b"\0", 1)[0].decode("ascii", "replace")


def _round_up(n: int, align: int) -> int:
    return -(-n // align) * align


# -- sans-I/O crypto pieces ----------------------------------------------------------------
def xts(key: bytes, first_iv: int, data: bytes, sector_size: int, encrypt: bool) -> bytes:
    """aes-xts-plain64 over whole `sector_size` sectors; the first sector's IV is
    `first_iv` and each next one adds sector_size / 512 (dm-crypt's 512-byte units)."""
    out = bytearray(len(data))
    step = max(1, sector_size // IV_SECTOR)
    for i in range(0, len(data), sector_size):
        iv = first_iv + (i // sector_size) * step
        ctx = Cipher(algorithms.AES(key), modes.XTS(iv.to_bytes(16, "little")))
        c = ctx.encryptor() if encrypt else ctx.decryptor()
        out[i : i + sector_size] = c.update(data[i : i + sector_size]) + c.finalize()
    return bytes(out)


def _diffuse(block: bytes, hash_name: str) -> bytes:
    """The AF splitter's diffusion: each digest-sized piece hashed with its index."""
    dsize = hashlib.new(hash_name).digest_size
    out = bytearray()
    for i in range(0, len(block), dsize):
        h = hashlib.new(hash_name)
        h.update((i // dsize).to_bytes(4, "big"))
        h.update(block[i : i + dsize])
        out += h.digest()[: len(block[i : i + dsize])]
    return bytes(out)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def af_split(key: bytes, stripes: int, hash_name: str) -> bytes:
    """LUKS's anti-forensic split of `key` into `stripes` blocks."""
    buf = bytes(len(key))
    out = bytearray()
    for _ in range(stripes - 1):
        r = os.urandom(len(key))
        out += r
        buf = _diffuse(_xor(buf, r), hash_name)
    out += _xor(buf, key)
    return bytes(out)


def af_merge(material: bytes, key_len: int, stripes: int, hash_name: str) -> bytes:
    """The inverse of `af_split`."""
    buf = bytes(key_len)
    for i in range(stripes - 1):
        buf = _diffuse(_xor(buf, material[i * key_len : (i + 1) * key_len]), hash_name)
    return _xor(buf, material[(stripes - 1) * key_len : stripes * key_len])


def _pbkdf2(hash_name: str, secret: bytes, salt: bytes, iterations: int, n: int) -> bytes:
    try:
        return hashlib.pbkdf2_hmac(hash_name, secret, salt, iterations, n)
    except ValueError:
        raise CephError(errno.EINVAL, f"unsupported hash {hash_name}") from None


def _argon2id(secret: bytes, salt: bytes, kdf: dict[str, Any], n: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    return Argon2id(salt=salt, length=n, iterations=int(kdf["time"]), lanes=int(kdf["cpus"]),
                    memory_cost=int(kdf["memory"])).derive(secret)  # fmt: skip


@dataclass
class LuksContext:
    """An unlocked LUKS volume: what the I/O path needs."""

    format: int
    key: bytes
    data_offset: int
    sector_size: int

    def crypt(self, offset: int, data: bytes, encrypt: bool) -> bytes:
        """En/decrypt whole sectors of payload starting at payload offset `offset`.
        Decrypting, an all-zero sector is a hole (never written, or discarded) and
        reads as zeros, as librbd's crypto layer returns holes."""
        if encrypt:
            return xts(self.key, offset // IV_SECTOR, data, self.sector_size, True)
        ss = self.sector_size
        out = bytearray(len(data))
        for i in range(0, len(data), ss):
            sector = data[i : i + ss]
            if sector.count(0) != len(sector):
                out[i : i + ss] = xts(self.key, (offset + i) // IV_SECTOR, sector, ss, False)
        return bytes(out)


# -- LUKS1 ------------------------------------------------------------------------------------
def build_luks1(key: bytes, passphrase: bytes, alignment: int) -> tuple[bytes, int]:
    """A LUKS1 header with keyslot 0 for `passphrase`: (header bytes, data offset)."""
    kb = len(key)
    area_sectors = _round_up(kb * LUKS_STRIPES, KEYSLOT_ALIGN) // 512
    first = KEYSLOT_ALIGN // 512
    payload = _round_up(first + LUKS_NUMKEYS * area_sectors, max(1, alignment // 512))
    mk_salt = os.urandom(LUKS_SALT_SIZE)
    digest = _pbkdf2(LUKS_HASH, key, mk_salt, DIGEST_PBKDF2_ITERATIONS, LUKS1_MKD_DIGEST_SIZE)
    phdr = LUKS1_PHDR.pack(LUKS_MAGIC, 1, LUKS_CIPHER.encode(), LUKS_CIPHER_MODE.encode(),
                           LUKS_HASH.encode(), payload, kb, digest, mk_salt,
                           DIGEST_PBKDF2_ITERATIONS, str(uuidlib.uuid4()).encode())  # fmt: skip
    slot_salt = os.urandom(LUKS_SALT_SIZE)
    slots = b""
    for i in range(LUKS_NUMKEYS):
        off = first + i * area_sectors
        if i == 0:
            slots += LUKS1_KEYSLOT.pack(LUKS1_KEY_ENABLED, KEYSLOT_PBKDF2_ITERATIONS, slot_salt,
                                        off, LUKS_STRIPES)  # fmt: skip
        else:
            slots += LUKS1_KEYSLOT.pack(LUKS1_KEY_DISABLED, 0, bytes(LUKS_SALT_SIZE), off,
                                        LUKS_STRIPES)  # fmt: skip
    header = bytearray(first * 512 + area_sectors * 512)
    header[: len(phdr) + len(slots)] = phdr + slots
    derived = _pbkdf2(LUKS_HASH, passphrase, slot_salt, KEYSLOT_PBKDF2_ITERATIONS, kb)
    material = af_split(key, LUKS_STRIPES, LUKS_HASH)
    material += bytes(area_sectors * 512 - len(material))
    header[first * 512 :] = xts(derived, 0, material, 512, True)
    return bytes(header), payload * 512


def parse_luks1_keyslots(
    phdr: bytes,
) -> tuple[dict[str, Any], list[tuple[int, int, bytes, int, int]]]:
    """The LUKS1 header fields and its keyslots (EINVAL when it is not LUKS1)."""
    if len(phdr) < LUKS1_PHDR.size + LUKS_NUMKEYS * LUKS1_KEYSLOT.size:
        raise CephError(errno.EINVAL, "short LUKS1 header")
    (magic, version, cipher, mode, hash_spec, payload, kb, digest, mk_salt, mk_iter,
     _uuid) = LUKS1_PHDR.unpack_from(phdr)  # fmt: skip
    if magic != LUKS_MAGIC or version != 1:
        raise CephError(errno.EINVAL, "not a LUKS1 header")
    fields = {"cipher": _cstr(cipher), "mode": _cstr(mode), "hash": _cstr(hash_spec),
              "payload": payload * 512, "key_bytes": kb, "digest": digest,
              "mk_salt": mk_salt, "mk_iter": mk_iter}  # fmt: skip
    slots = [LUKS1_KEYSLOT.unpack_from(phdr, LUKS1_PHDR.size + i * LUKS1_KEYSLOT.size)
             for i in range(LUKS_NUMKEYS)]  # fmt: skip
    return fields, slots


# -- LUKS2 ------------------------------------------------------------------------------------
def _luks2_binary(magic: bytes, hdr_offset: int, salt: bytes, uuid: str, area: bytes) -> bytes:
    """One LUKS2 header copy (binary part + JSON area) with its sha256 checksum."""
    fields = [magic, 2, LUKS2_HDR_SIZE, 1, b"", b"sha256", salt, uuid.encode(), b"",
              hdr_offset, b"", b""]  # fmt: skip
    blob = bytearray(LUKS2_BINARY.pack(*fields).ljust(LUKS2_BINARY_SIZE, b"\0") + area)
    csum = hashlib.sha256(bytes(blob)).digest()
    blob[448 : 448 + len(csum)] = csum
    return bytes(blob)


def build_luks2(key: bytes, passphrase: bytes, alignment: int) -> tuple[bytes, int]:
    """A LUKS2 header (both copies, keyslot 0 for `passphrase`): (bytes, data offset)."""
    kb = len(key)
    data_offset = _round_up(2 * LUKS2_HDR_SIZE + LUKS2_KEYSLOTS_SIZE, max(1, alignment))
    area_offset = 2 * LUKS2_HDR_SIZE
    area_size = _round_up(kb * LUKS_STRIPES, KEYSLOT_ALIGN)
    slot_salt, digest_salt = os.urandom(LUKS_SALT_SIZE), os.urandom(LUKS_SALT_SIZE)
    digest = _pbkdf2(LUKS_HASH, key, digest_salt, DIGEST_PBKDF2_ITERATIONS, 32)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    meta = {
        "keyslots": {"0": {
            "type": "luks2", "key_size": kb,
            "af": {"type": "luks1", "stripes": LUKS_STRIPES, "hash": LUKS_HASH},
            "area": {"type": "raw", "offset": str(area_offset), "size": str(area_size),
                     "encryption": f"{LUKS_CIPHER}-{LUKS_CIPHER_MODE}", "key_size": kb},
            "kdf": {"type": "pbkdf2", "hash": LUKS_HASH,
                    "iterations": KEYSLOT_PBKDF2_ITERATIONS, "salt": b64(slot_salt)},
        }},
        "tokens": {},
        "segments": {"0": {
            "type": "crypt", "offset": str(data_offset), "size": "dynamic", "iv_tweak": "0",
            "encryption": f"{LUKS_CIPHER}-{LUKS_CIPHER_MODE}",
            "sector_size": FORMAT_SECTOR_SIZE[RBD_ENCRYPTION_FORMAT_LUKS2],
        }},
        "digests": {"0": {
            "type": "pbkdf2", "keyslots": ["0"], "segments": ["0"], "hash": LUKS_HASH,
            "iterations": DIGEST_PBKDF2_ITERATIONS, "salt": b64(digest_salt),
            "digest": b64(digest),
        }},
        "config": {"json_size": str(LUKS2_HDR_SIZE - LUKS2_BINARY_SIZE),
                   "keyslots_size": str(data_offset - area_offset)},
    }  # fmt: skip
    text = json.dumps(meta, separators=(",", ":")).encode()
    area = text.ljust(LUKS2_HDR_SIZE - LUKS2_BINARY_SIZE, b"\0")
    uuid = str(uuidlib.uuid4())
    primary = _luks2_binary(LUKS_MAGIC, 0, os.urandom(64), uuid, area)
    secondary = _luks2_binary(LUKS2_MAGIC_2ND, LUKS2_HDR_SIZE, os.urandom(64), uuid, area)
    derived = _pbkdf2(LUKS_HASH, passphrase, slot_salt, KEYSLOT_PBKDF2_ITERATIONS, kb)
    material = af_split(key, LUKS_STRIPES, LUKS_HASH)
    material += bytes(area_size - len(material))
    return primary + secondary + xts(derived, 0, material, 512, True), data_offset


def parse_luks2(hdr: bytes) -> dict[str, Any]:
    """The JSON metadata of a LUKS2 primary header (EINVAL when it is not LUKS2 or its
    checksum does not match)."""
    if len(hdr) < LUKS2_BINARY_SIZE:
        raise CephError(errno.EINVAL, "short LUKS2 header")
    f = LUKS2_BINARY.unpack_from(hdr)
    magic, version, hdr_size = f[0], f[1], f[2]
    if magic != LUKS_MAGIC or version != 2:
        raise CephError(errno.EINVAL, "not a LUKS2 header")
    if hdr_size > len(hdr) or hdr_size <= LUKS2_BINARY_SIZE:
        raise CephError(errno.EINVAL, "bad LUKS2 header size")
    blob = bytearray(hdr[:hdr_size])
    stored = bytes(blob[448 : 448 + 32])
    blob[448 : 448 + 64] = bytes(64)
    if hashlib.sha256(bytes(blob)).digest() != stored:
        raise CephError(errno.EINVAL, "LUKS2 header checksum mismatch")
    try:
        return dict(json.loads(bytes(blob[LUKS2_BINARY_SIZE:]).split(b"\0", 1)[0]))
    except ValueError:
        raise CephError(errno.EINVAL, "bad LUKS2 JSON metadata") from None


# -- unlocking -----------------------------------------------------------------------------------
def _check_cipher(spec: str) -> None:
    if spec != f"{LUKS_CIPHER}-{LUKS_CIPHER_MODE}":
        raise CephError(errno.ENOTSUP, f"unsupported cipher {spec}")


def unlock_luks1(hdr: bytes, passphrase: bytes) -> LuksContext:
    """The volume key from a LUKS1 header (EPERM when no keyslot takes `passphrase`)."""
    fields, slots = parse_luks1_keyslots(hdr)
    _check_cipher(f"{fields['cipher']}-{fields['mode']}")
    kb, hash_name = fields["key_bytes"], fields["hash"]
    for active, iters, salt, km_offset, stripes in slots:
        if active != LUKS1_KEY_ENABLED:
            continue
        size = _round_up(kb * stripes, 512)
        area = hdr[km_offset * 512 : km_offset * 512 + size]
        if len(area) < size:
            raise CephError(errno.EINVAL, "short LUKS1 keyslot area")
        derived = _pbkdf2(hash_name, passphrase, salt, iters, kb)
        key = af_merge(xts(derived, 0, area, 512, False), kb, stripes, hash_name)
        if _pbkdf2(hash_name, key, fields["mk_salt"], fields["mk_iter"],
                   LUKS1_MKD_DIGEST_SIZE) == fields["digest"]:  # fmt: skip
            return LuksContext(RBD_ENCRYPTION_FORMAT_LUKS1, key, fields["payload"], 512)
    raise CephError(errno.EPERM, "no key slot matches the passphrase")


def unlock_luks2(hdr: bytes, passphrase: bytes) -> LuksContext:
    """The volume key from a LUKS2 header (EPERM when no keyslot takes `passphrase`)."""
    meta = parse_luks2(hdr)
    try:
        seg = meta["segments"]["0"]
        _check_cipher(seg["encryption"])
        data_offset, sector_size = int(seg["offset"]), int(seg["sector_size"])
        digests = list(meta["digests"].values())
        for sid, slot in sorted(meta["keyslots"].items()):
            area, kdf, af = slot["area"], slot["kdf"], slot["af"]
            _check_cipher(area["encryption"])
            kb = int(slot["key_size"])
            size = _round_up(kb * int(af["stripes"]), 512)
            off = int(area["offset"])
            raw = hdr[off : off + size]
            if len(raw) < size:
                raise CephError(errno.EINVAL, "short LUKS2 keyslot area")
            salt = base64.b64decode(kdf["salt"])
            akb = int(area["key_size"])
            if kdf["type"] == "pbkdf2":
                derived = _pbkdf2(kdf["hash"], passphrase, salt, int(kdf["iterations"]), akb)
            elif kdf["type"] == "argon2id":
                derived = _argon2id(passphrase, salt, kdf, akb)
            else:
                continue
            key = af_merge(xts(derived, 0, raw, 512, False), kb, int(af["stripes"]), af["hash"])
            for d in digests:
                if sid in d["keyslots"] and _pbkdf2(
                        d["hash"], key, base64.b64decode(d["salt"]), int(d["iterations"]),
                        len(base64.b64decode(d["digest"]))) == base64.b64decode(d["digest"]):  # fmt: skip
                    return LuksContext(RBD_ENCRYPTION_FORMAT_LUKS2, key, data_offset,
                                       sector_size)  # fmt: skip
    except (KeyError, TypeError, ValueError) as e:
        raise CephError(errno.EINVAL, f"bad LUKS2 metadata: {e}") from None
    raise CephError(errno.EPERM, "no key slot matches the passphrase")


# -- on an image -------------------------------------------------------------------------------------
def _passphrase(p: bytes | str) -> bytes:
    return p.encode() if isinstance(p, str) else bytes(p)


def _raw_size(img: Any) -> int:
    return int(img.state.size_at(img.snap_id))


async def _raw_read(img: Any, offset: int, length: int) -> bytes:
    from pyceph.rbdlib import io

    size = _raw_size(img)
    length = max(0, min(length, size - offset))
    if length == 0:
        return b""
    return await io.read_extents(img, img.snap_id, offset, length)


async def encryption_format(
    img: Any, format: int, passphrase: bytes | str,
    cipher_alg: int = RBD_ENCRYPTION_ALGORITHM_AES256,
) -> None:  # fmt: skip
    """luks::FormatRequest: a new LUKS header (and volume key) at the start of the image,
    then loaded on this open (a loaded encryption is dropped first). EINVAL for an unknown
    format or cipher, ENOSPC when the image cannot hold the header, EROFS read-only."""
    from pyceph.rbdlib import io

    if format not in FORMAT_SECTOR_SIZE:
        raise CephError(errno.EINVAL, f"unsupported disk encryption type: {format}")
    if cipher_alg not in XTS_KEY_BYTES:
        raise CephError(errno.EINVAL, f"unsupported cipher algorithm: {cipher_alg}")
    await img.refresh_if_required()
    if img.read_only or img.snap_id != CEPH_NOSNAP:
        raise CephError(errno.EROFS, "image is read-only")
    key = os.urandom(XTS_KEY_BYTES[cipher_alg])
    build = build_luks1 if format == RBD_ENCRYPTION_FORMAT_LUKS1 else build_luks2
    header, data_offset = build(key, _passphrase(passphrase), img.layout.object_size)
    if data_offset >= _raw_size(img):
        raise CephError(errno.ENOSPC, f"image is too small. format requires more than "
                        f"{data_offset} bytes")  # fmt: skip
    img.encryption = None
    async with img.write_access():
        await io.write(img, header, 0)
    img.encryption = LuksContext(format, key, data_offset, FORMAT_SECTOR_SIZE[format])


async def encryption_load(img: Any, format: int, passphrase: bytes | str) -> None:
    """luks::LoadRequest: unlock the image's LUKS header; EEXIST when encryption is
    loaded already, EINVAL for another format (or none), EPERM for a wrong passphrase."""
    if getattr(img, "encryption", None) is not None:
        raise CephError(errno.EEXIST, "encryption already loaded")
    if format not in FORMAT_SECTOR_SIZE:
        raise CephError(errno.EINVAL, f"unsupported disk encryption type: {format}")
    await img.refresh_if_required()
    first = await _raw_read(img, 0, LUKS2_BINARY_SIZE)
    if first[:6] != LUKS_MAGIC or len(first) < 8:
        raise CephError(errno.EINVAL, "image is not LUKS formatted")
    version = int.from_bytes(first[6:8], "big")
    wanted = 1 if format == RBD_ENCRYPTION_FORMAT_LUKS1 else 2
    if version != wanted:
        raise CephError(errno.EINVAL, f"image is LUKS{version}, not LUKS{wanted}")
    if version == 1:
        fields, _ = parse_luks1_keyslots(first)
        hdr = await _raw_read(img, 0, fields["payload"])
        ctx = unlock_luks1(hdr, _passphrase(passphrase))
    else:
        meta = parse_luks2(await _raw_read(img, 0, int.from_bytes(first[8:16], "big")))
        end = int(meta["segments"]["0"]["offset"])
        ctx = unlock_luks2(await _raw_read(img, 0, end), _passphrase(passphrase))
    img.encryption = ctx


def _ctx(img: Any) -> LuksContext:
    ctx = getattr(img, "encryption", None)
    if ctx is None:
        raise CephError(errno.EINVAL, "no encryption loaded")
    return ctx


def size(img: Any) -> int:
    """The size the encrypted image shows: the raw size less the header."""
    return max(0, _raw_size(img) - _ctx(img).data_offset)


def _clip(img: Any, offset: int, length: int) -> int:
    if offset < 0 or length < 0:
        raise CephError(errno.EINVAL, "negative offset or length")
    end = size(img)
    if length and offset >= end:
        raise CephError(errno.EINVAL, f"offset {offset} past the image end {end}")
    return min(length, end - offset)


async def read(img: Any, offset: int, length: int) -> bytes:
    """Decrypted payload bytes [offset, offset+length) (clipped at the end)."""
    ctx = _ctx(img)
    length = _clip(img, offset, length)
    if length == 0:
        return b""
    ss = ctx.sector_size
    start, end = offset // ss * ss, _round_up(offset + length, ss)
    raw = await _raw_read(img, ctx.data_offset + start, end - start)
    raw = raw.ljust(end - start, b"\0")
    plain = ctx.crypt(start, raw, False)
    return plain[offset - start : offset - start + length]


async def write(img: Any, data: bytes, offset: int) -> int:
    """Encrypt and write `data` at payload `offset` (partial sectors are read, merged and
    rewritten); the bytes written."""
    from pyceph.rbdlib import io

    ctx = _ctx(img)
    length = _clip(img, offset, len(data))
    if length == 0:
        return 0
    ss = ctx.sector_size
    start, end = offset // ss * ss, _round_up(offset + length, ss)
    buf = bytearray(end - start)
    if start != offset:
        buf[:ss] = await read(img, start, ss)
    if end != offset + length and end - ss >= start:
        tail = await read(img, end - ss, ss)
        buf[end - ss - start :] = tail.ljust(ss, b"\0")
    buf[offset - start : offset - start + length] = data[:length]
    await io.write(img, ctx.crypt(start, bytes(buf), True), ctx.data_offset + start)
    return length


async def discard(img: Any, offset: int, length: int) -> int:
    """Zero payload bytes (as encrypted zeros, so they read back as zeros)."""
    length = _clip(img, offset, length)
    if length:
        await write(img, bytes(length), offset)
    return length
