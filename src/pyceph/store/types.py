"""Object identity (`ObjectKey`, upstream's ghobject_t) with an order-preserving
bytes encoding, and the store's named limits (`StoreLimits`).

The encoding sorts exactly like upstream's ghobject_t bitwise order (shard, pool,
bit-reversed hash, namespace, effective key, name, snap, generation), so a PG
listing can page with an `ObjectKey` cursor and callers can compare keys with `<`
consistently with `collection_list`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

HEAD = 0xFFFF_FFFF_FFFF_FFFE  # CEPH_NOSNAP
SNAPDIR = 0xFFFF_FFFF_FFFF_FFFF  # CEPH_SNAPDIR
NO_GEN = 0xFFFF_FFFF_FFFF_FFFF  # ghobject_t::NO_GEN
NO_SHARD = -1  # shard_id_t::NO_SHARD

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
#: The fixed-width parts of an encoded key: (shard, pool, reversed hash) and (snap, gen).
_PREFIX = struct.Struct(">BQI")
_SUFFIX = struct.Struct(">QQ")
_REV8 = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def reverse_bits32(v: int) -> int:
    """Upstream's hobject_t::_reverse_bits (the "bitwise key" of a hash)."""
    return int.from_bytes(v.to_bytes(4, "little").translate(_REV8), "big")


def escape_str(s: str) -> bytes:
    """Order-preserving, prefix-free encoding of a string.

    NUL is escaped as 00 FF and the string ends with 00 01, so the byte order of
    encodings equals the order of the UTF-8 strings and encodings can be
    concatenated into composite keys.
    """
    b = s.encode("utf-8", "surrogateescape")
    if b"\x00" in b:
        b = b.replace(b"\x00", b"\x00\xff")
    return b + b"\x00\x01"


_EMPTY_ESC = escape_str("")


def unescape_str(buf: bytes | memoryview, pos: int) -> tuple[str, int]:
    """Decode one `escape_str` value at ``pos``; return it and the next position."""
    b = bytes(buf)
    out = bytearray()
    while True:
        i = b.index(b"\x00", pos)
        out += b[pos:i]
        if b[i + 1] == 0x01:
            return out.decode("utf-8", "surrogateescape"), i + 2
        out.append(0)
        pos = i + 2


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """An object within a collection: upstream's ghobject_t.

    ``key`` is the locator (empty when it equals ``name``), ``hash`` the 32-bit
    placement hash (rjenkins of the locator), ``snap`` HEAD/SNAPDIR/a snap id.
    """

    name: str
    namespace: str = ""
    key: str = ""
    snap: int = HEAD
    hash: int = 0
    pool: int = -1
    generation: int = NO_GEN
    shard: int = NO_SHARD
    _enc: bytes = field(default=b"", init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # On every op's path (several keys per write and replica): one pack per fixed
        # part, the common empty namespace and locator without escaping them again.
        name, key, ns = self.name, self.key, self.namespace
        if key == name and key:
            object.__setattr__(self, "key", "")
            key = ""
        h, snap, gen, shard, pool = self.hash, self.snap, self.generation, self.shard, self.pool
        if not (0 <= h <= 0xFFFFFFFF):
            raise ValueError(f"hash out of range: {h}")
        if not (0 <= snap <= 0xFFFFFFFFFFFFFFFF):
            raise ValueError(f"snap out of range: {snap}")
        if not (0 <= gen <= 0xFFFFFFFFFFFFFFFF):
            raise ValueError(f"generation out of range: {gen}")
        if not (-128 <= shard <= 127):
            raise ValueError(f"shard out of range: {shard}")
        if not (-(2**63) <= pool < 2**63):
            raise ValueError(f"pool out of range: {pool}")
        en = escape_str(name)
        object.__setattr__(
            self,
            "_enc",
            _PREFIX.pack(shard + 128, pool + 2**63, reverse_bits32(h))
            + (escape_str(ns) if ns else _EMPTY_ESC)
            + (escape_str(key) if key else en)
            + en
            + _SUFFIX.pack(snap, gen),
        )

    @property
    def locator(self) -> str:
        """The effective locator key (``key`` or else ``name``)."""
        return self.key or self.name

    def encode(self) -> bytes:
        """Order-preserving, prefix-free bytes encoding (the listing order)."""
        return self._enc

    @classmethod
    def decode(cls, buf: bytes | memoryview, pos: int = 0) -> ObjectKey:
        """Inverse of `encode` (reads from ``pos``)."""
        b = bytes(buf)
        shard = b[pos] - 128
        pool = _U64.unpack_from(b, pos + 1)[0] - 2**63
        h = reverse_bits32(_U32.unpack_from(b, pos + 9)[0])
        ns, p = unescape_str(b, pos + 13)
        loc, p = unescape_str(b, p)
        name, p = unescape_str(b, p)
        snap, gen = struct.unpack_from(">QQ", b, p)
        return cls(name, ns, "" if loc == name else loc, snap, h, pool, gen, shard)

    def to_tuple(self) -> tuple:
        """Plain tuple form (for msgpack)."""
        return (
            self.name,
            self.namespace,
            self.key,
            self.snap,
            self.hash,
            self.pool,
            self.generation,
            self.shard,
        )

    @classmethod
    def from_tuple(cls, t: tuple | list) -> ObjectKey:
        """Inverse of `to_tuple`."""
        return cls(*t)

    def __lt__(self, other: ObjectKey) -> bool:
        return self._enc < other._enc

    def __le__(self, other: ObjectKey) -> bool:
        return self._enc <= other._enc

    def __gt__(self, other: ObjectKey) -> bool:
        return self._enc > other._enc

    def __ge__(self, other: ObjectKey) -> bool:
        return self._enc >= other._enc


OidLike = ObjectKey | str


def as_key(oid: OidLike) -> ObjectKey:
    """Accept a bare name as shorthand for ``ObjectKey(name)``."""
    if isinstance(oid, ObjectKey):
        return oid
    if isinstance(oid, str):
        return ObjectKey(oid)
    raise TypeError(f"object id must be ObjectKey or str, not {type(oid).__name__}")


#: Bytes of object data per stored extent (pyceph_store_extent_size; fixed at mkfs).
DEFAULT_EXTENT_SIZE = 64 * 1024
#: Transactions one durable commit takes at most (pyceph_store_group_commit_max_ops).
DEFAULT_GROUP_COMMIT_MAX_TXNS = 256


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """How an OSD's store is opened, from its options (the runtime's Disk takes them)."""

    extent_size: int = DEFAULT_EXTENT_SIZE
    max_batch_txns: int = DEFAULT_GROUP_COMMIT_MAX_TXNS


@dataclass(frozen=True)
class StoreLimits:
    """Named bounds; exceeding one fails the transaction with the given errno."""

    max_object_size: int = 128 << 20  # osd_max_object_size -> EFBIG
    max_attr_size: int = 1 << 20  # xattr value bytes -> EFBIG
    #: stored xattr names (the OSD's "_" + user name; osd_max_attr_name_len bounds the user
    #: part in the OSD) -> ENAMETOOLONG; well under LMDB's 511-byte keys
    max_attr_name_len: int = 400
    max_omap_entries_per_op: int = 131072  # osd_max_omap_entries_per_request -> E2BIG
    #: omap key bytes -> ENAMETOOLONG (upstream has no bound of its own; keys over
    #: LMDB's 511 bytes are stored digest-keyed, see kvcore "Long keys")
    max_omap_key_len: int = 16 << 20
    max_omap_value_size: int = 64 << 20  # -> EFBIG
    #: encoded ObjectKey bytes -> ENAMETOOLONG; room for upstream's bounds (2048-byte
    #: name and locator, 256-byte namespace, osd_max_object_name_len) even fully escaped
    max_object_key_len: int = 16 << 10
    max_cid_len: int = 64  # collection id -> ENAMETOOLONG
    max_meta_key_len: int = 400  # per-collection meta key -> ENAMETOOLONG
    max_meta_value_size: int = 64 << 20  # -> EFBIG
    max_ops_per_txn: int = 1 << 20  # ops in one Transaction -> E2BIG
