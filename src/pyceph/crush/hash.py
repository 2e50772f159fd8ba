"""rjenkins1 hashes used by CRUSH and by object-to-PG placement, bit-exact with Ceph.

These sit on the hot path of every op, so they are plain integer arithmetic with
the mixing rounds written out in full.
"""

__all__ = [
    "CRUSH_HASH_RJENKINS1",
    "ceph_stable_mod",
    "ceph_str_hash_rjenkins",
    "crush_hash32",
    "crush_hash32_2",
    "crush_hash32_3",
    "crush_hash32_4",
    "crush_hash32_5",
]

CRUSH_HASH_RJENKINS1 = 0
_SEED = 1315423911


def crush_hash32(a: int) -> int:
    """rjenkins1 hash of one 32-bit value."""
    h = (_SEED ^ a) & 0xFFFFFFFF
    b = a
    x = 231232
    y = 1232
    b = (b - x - h) ^ (h >> 13)
    x = ((x - h - b) ^ (b << 8)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 13)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 12)
    x = ((x - h - b) ^ (b << 16)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 5)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 3)
    x = ((x - h - b) ^ (b << 10)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 13)
    a = ((a - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 13)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 12)
    a = ((a - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 5)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 3)
    a = ((a - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 15)) & 0xFFFFFFFF
    return h


def crush_hash32_2(a: int, b: int) -> int:
    """rjenkins1 hash of two 32-bit values."""
    h = (_SEED ^ a ^ b) & 0xFFFFFFFF
    x = 231232
    y = 1232
    a = (a - b - h) ^ (h >> 13)
    b = ((b - h - a) ^ (a << 8)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 13)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 12)
    b = ((b - h - a) ^ (a << 16)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 5)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 3)
    b = ((b - h - a) ^ (a << 10)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 15)) & 0xFFFFFFFF
    x = (x - a - h) ^ (h >> 13)
    a = ((a - h - x) ^ (x << 8)) & 0xFFFFFFFF
    h = ((h - x - a) ^ (a >> 13)) & 0xFFFFFFFF
    x = (x - a - h) ^ (h >> 12)
    a = ((a - h - x) ^ (x << 16)) & 0xFFFFFFFF
    h = ((h - x - a) ^ (a >> 5)) & 0xFFFFFFFF
    x = (x - a - h) ^ (h >> 3)
    a = ((a - h - x) ^ (x << 10)) & 0xFFFFFFFF
    h = ((h - x - a) ^ (a >> 15)) & 0xFFFFFFFF
    b = (b - y - h) ^ (h >> 13)
    y = ((y - h - b) ^ (b << 8)) & 0xFFFFFFFF
    h = ((h - b - y) ^ (y >> 13)) & 0xFFFFFFFF
    b = (b - y - h) ^ (h >> 12)
    y = ((y - h - b) ^ (b << 16)) & 0xFFFFFFFF
    h = ((h - b - y) ^ (y >> 5)) & 0xFFFFFFFF
    b = (b - y - h) ^ (h >> 3)
    y = ((y - h - b) ^ (b << 10)) & 0xFFFFFFFF
    h = ((h - b - y) ^ (y >> 15)) & 0xFFFFFFFF
    return h


def crush_hash32_3(a: int, b: int, c: int) -> int:
    """rjenkins1 hash of three 32-bit values (straw2 draws)."""
    h = (_SEED ^ a ^ b ^ c) & 0xFFFFFFFF
    x = 231232
    y = 1232
    a = (a - b - h) ^ (h >> 13)
    b = ((b - h - a) ^ (a << 8)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 13)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 12)
    b = ((b - h - a) ^ (a << 16)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 5)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 3)
    b = ((b - h - a) ^ (a << 10)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 15)) & 0xFFFFFFFF
    c = (c - x - h) ^ (h >> 13)
    x = ((x - h - c) ^ (c << 8)) & 0xFFFFFFFF
    h = ((h - c - x) ^ (x >> 13)) & 0xFFFFFFFF
    c = (c - x - h) ^ (h >> 12)
    x = ((x - h - c) ^ (c << 16)) & 0xFFFFFFFF
    h = ((h - c - x) ^ (x >> 5)) & 0xFFFFFFFF
    c = (c - x - h) ^ (h >> 3)
    x = ((x - h - c) ^ (c << 10)) & 0xFFFFFFFF
    h = ((h - c - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 13)
    a = ((a - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 13)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 12)
    a = ((a - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 5)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 3)
    a = ((a - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 15)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 13)
    x = ((x - h - b) ^ (b << 8)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 13)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 12)
    x = ((x - h - b) ^ (b << 16)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 5)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 3)
    x = ((x - h - b) ^ (b << 10)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - c - h) ^ (h >> 13)
    c = ((c - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - c) ^ (c >> 13)) & 0xFFFFFFFF
    y = (y - c - h) ^ (h >> 12)
    c = ((c - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - c) ^ (c >> 5)) & 0xFFFFFFFF
    y = (y - c - h) ^ (h >> 3)
    c = ((c - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - c) ^ (c >> 15)) & 0xFFFFFFFF
    return h


def crush_hash32_4(a: int, b: int, c: int, d: int) -> int:
    """rjenkins1 hash of four 32-bit values."""
    h = (_SEED ^ a ^ b ^ c ^ d) & 0xFFFFFFFF
    x = 231232
    y = 1232
    a = (a - b - h) ^ (h >> 13)
    b = ((b - h - a) ^ (a << 8)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 13)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 12)
    b = ((b - h - a) ^ (a << 16)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 5)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 3)
    b = ((b - h - a) ^ (a << 10)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 15)) & 0xFFFFFFFF
    c = (c - d - h) ^ (h >> 13)
    d = ((d - h - c) ^ (c << 8)) & 0xFFFFFFFF
    h = ((h - c - d) ^ (d >> 13)) & 0xFFFFFFFF
    c = (c - d - h) ^ (h >> 12)
    d = ((d - h - c) ^ (c << 16)) & 0xFFFFFFFF
    h = ((h - c - d) ^ (d >> 5)) & 0xFFFFFFFF
    c = (c - d - h) ^ (h >> 3)
    d = ((d - h - c) ^ (c << 10)) & 0xFFFFFFFF
    h = ((h - c - d) ^ (d >> 15)) & 0xFFFFFFFF
    a = (a - x - h) ^ (h >> 13)
    x = ((x - h - a) ^ (a << 8)) & 0xFFFFFFFF
    h = ((h - a - x) ^ (x >> 13)) & 0xFFFFFFFF
    a = (a - x - h) ^ (h >> 12)
    x = ((x - h - a) ^ (a << 16)) & 0xFFFFFFFF
    h = ((h - a - x) ^ (x >> 5)) & 0xFFFFFFFF
    a = (a - x - h) ^ (h >> 3)
    x = ((x - h - a) ^ (a << 10)) & 0xFFFFFFFF
    h = ((h - a - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - b - h) ^ (h >> 13)
    b = ((b - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - b) ^ (b >> 13)) & 0xFFFFFFFF
    y = (y - b - h) ^ (h >> 12)
    b = ((b - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - b) ^ (b >> 5)) & 0xFFFFFFFF
    y = (y - b - h) ^ (h >> 3)
    b = ((b - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - b) ^ (b >> 15)) & 0xFFFFFFFF
    c = (c - x - h) ^ (h >> 13)
    x = ((x - h - c) ^ (c << 8)) & 0xFFFFFFFF
    h = ((h - c - x) ^ (x >> 13)) & 0xFFFFFFFF
    c = (c - x - h) ^ (h >> 12)
    x = ((x - h - c) ^ (c << 16)) & 0xFFFFFFFF
    h = ((h - c - x) ^ (x >> 5)) & 0xFFFFFFFF
    c = (c - x - h) ^ (h >> 3)
    x = ((x - h - c) ^ (c << 10)) & 0xFFFFFFFF
    h = ((h - c - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - d - h) ^ (h >> 13)
    d = ((d - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - d) ^ (d >> 13)) & 0xFFFFFFFF
    y = (y - d - h) ^ (h >> 12)
    d = ((d - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - d) ^ (d >> 5)) & 0xFFFFFFFF
    y = (y - d - h) ^ (h >> 3)
    d = ((d - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - d) ^ (d >> 15)) & 0xFFFFFFFF
    return h


def crush_hash32_5(a: int, b: int, c: int, d: int, e: int) -> int:
    """rjenkins1 hash of five 32-bit values."""
    h = (_SEED ^ a ^ b ^ c ^ d ^ e) & 0xFFFFFFFF
    x = 231232
    y = 1232
    a = (a - b - h) ^ (h >> 13)
    b = ((b - h - a) ^ (a << 8)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 13)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 12)
    b = ((b - h - a) ^ (a << 16)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 5)) & 0xFFFFFFFF
    a = (a - b - h) ^ (h >> 3)
    b = ((b - h - a) ^ (a << 10)) & 0xFFFFFFFF
    h = ((h - a - b) ^ (b >> 15)) & 0xFFFFFFFF
    c = (c - d - h) ^ (h >> 13)
    d = ((d - h - c) ^ (c << 8)) & 0xFFFFFFFF
    h = ((h - c - d) ^ (d >> 13)) & 0xFFFFFFFF
    c = (c - d - h) ^ (h >> 12)
    d = ((d - h - c) ^ (c << 16)) & 0xFFFFFFFF
    h = ((h - c - d) ^ (d >> 5)) & 0xFFFFFFFF
    c = (c - d - h) ^ (h >> 3)
    d = ((d - h - c) ^ (c << 10)) & 0xFFFFFFFF
    h = ((h - c - d) ^ (d >> 15)) & 0xFFFFFFFF
    e = (e - x - h) ^ (h >> 13)
    x = ((x - h - e) ^ (e << 8)) & 0xFFFFFFFF
    h = ((h - e - x) ^ (x >> 13)) & 0xFFFFFFFF
    e = (e - x - h) ^ (h >> 12)
    x = ((x - h - e) ^ (e << 16)) & 0xFFFFFFFF
    h = ((h - e - x) ^ (x >> 5)) & 0xFFFFFFFF
    e = (e - x - h) ^ (h >> 3)
    x = ((x - h - e) ^ (e << 10)) & 0xFFFFFFFF
    h = ((h - e - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 13)
    a = ((a - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 13)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 12)
    a = ((a - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 5)) & 0xFFFFFFFF
    y = (y - a - h) ^ (h >> 3)
    a = ((a - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - a) ^ (a >> 15)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 13)
    x = ((x - h - b) ^ (b << 8)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 13)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 12)
    x = ((x - h - b) ^ (b << 16)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 5)) & 0xFFFFFFFF
    b = (b - x - h) ^ (h >> 3)
    x = ((x - h - b) ^ (b << 10)) & 0xFFFFFFFF
    h = ((h - b - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - c - h) ^ (h >> 13)
    c = ((c - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - c) ^ (c >> 13)) & 0xFFFFFFFF
    y = (y - c - h) ^ (h >> 12)
    c = ((c - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - c) ^ (c >> 5)) & 0xFFFFFFFF
    y = (y - c - h) ^ (h >> 3)
    c = ((c - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - c) ^ (c >> 15)) & 0xFFFFFFFF
    d = (d - x - h) ^ (h >> 13)
    x = ((x - h - d) ^ (d << 8)) & 0xFFFFFFFF
    h = ((h - d - x) ^ (x >> 13)) & 0xFFFFFFFF
    d = (d - x - h) ^ (h >> 12)
    x = ((x - h - d) ^ (d << 16)) & 0xFFFFFFFF
    h = ((h - d - x) ^ (x >> 5)) & 0xFFFFFFFF
    d = (d - x - h) ^ (h >> 3)
    x = ((x - h - d) ^ (d << 10)) & 0xFFFFFFFF
    h = ((h - d - x) ^ (x >> 15)) & 0xFFFFFFFF
    y = (y - e - h) ^ (h >> 13)
    e = ((e - h - y) ^ (y << 8)) & 0xFFFFFFFF
    h = ((h - y - e) ^ (e >> 13)) & 0xFFFFFFFF
    y = (y - e - h) ^ (h >> 12)
    e = ((e - h - y) ^ (y << 16)) & 0xFFFFFFFF
    h = ((h - y - e) ^ (e >> 5)) & 0xFFFFFFFF
    y = (y - e - h) ^ (h >> 3)
    e = ((e - h - y) ^ (y << 10)) & 0xFFFFFFFF
    h = ((h - y - e) ^ (e >> 15)) & 0xFFFFFFFF
    return h


def ceph_str_hash_rjenkins(data: bytes) -> int:
    """Bob Jenkins' lookup2 hash of a byte string, as Ceph hashes object names."""
    length = len(data)
    a = b = 0x9E3779B9
    c = 0
    pos = 0
    while length - pos >= 12:
        a = (a + int.from_bytes(data[pos : pos + 4], "little")) & 0xFFFFFFFF
        b = (b + int.from_bytes(data[pos + 4 : pos + 8], "little")) & 0xFFFFFFFF
        c = (c + int.from_bytes(data[pos + 8 : pos + 12], "little")) & 0xFFFFFFFF
        a = ((a - b - c) & 0xFFFFFFFF) ^ (c >> 13)
        b = ((b - c - a) & 0xFFFFFFFF) ^ ((a << 8) & 0xFFFFFFFF)
        c = ((c - a - b) & 0xFFFFFFFF) ^ (b >> 13)
        a = ((a - b - c) & 0xFFFFFFFF) ^ (c >> 12)
        b = ((b - c - a) & 0xFFFFFFFF) ^ ((a << 16) & 0xFFFFFFFF)
        c = ((c - a - b) & 0xFFFFFFFF) ^ (b >> 5)
        a = ((a - b - c) & 0xFFFFFFFF) ^ (c >> 3)
        b = ((b - c - a) & 0xFFFFFFFF) ^ ((a << 10) & 0xFFFFFFFF)
        c = ((c - a - b) & 0xFFFFFFFF) ^ (b >> 15)
        pos += 12
    tail = data[pos:]
    # The low byte of c is reserved for the length, so c's tail bytes start one byte up.
    a = (a + int.from_bytes(tail[0:4], "little")) & 0xFFFFFFFF
    b = (b + int.from_bytes(tail[4:8], "little")) & 0xFFFFFFFF
    c = (c + length + (int.from_bytes(tail[8:11], "little") << 8)) & 0xFFFFFFFF
    a = ((a - b - c) & 0xFFFFFFFF) ^ (c >> 13)
    b = ((b - c - a) & 0xFFFFFFFF) ^ ((a << 8) & 0xFFFFFFFF)
    c = ((c - a - b) & 0xFFFFFFFF) ^ (b >> 13)
    a = ((a - b - c) & 0xFFFFFFFF) ^ (c >> 12)
    b = ((b - c - a) & 0xFFFFFFFF) ^ ((a << 16) & 0xFFFFFFFF)
    c = ((c - a - b) & 0xFFFFFFFF) ^ (b >> 5)
    a = ((a - b - c) & 0xFFFFFFFF) ^ (c >> 3)
    b = ((b - c - a) & 0xFFFFFFFF) ^ ((a << 10) & 0xFFFFFFFF)
    c = ((c - a - b) & 0xFFFFFFFF) ^ (b >> 15)
    return c


def ceph_stable_mod(x: int, b: int, bmask: int) -> int:
    """Map x into [0, b) so that growing b only splits buckets (bmask = next pow2 - 1)."""
    if (x & bmask) < b:
        return x & bmask
    return x & (bmask >> 1)
