"""Ceph's binary encoding (upstream `include/encoding.h`, `denc.h`), shared by the object
classes, the rbd client and the OSD's TMAP ops: little-endian integers, strings and
buffers as a u32 length and the bytes, containers as a u32 count and the items, and
versioned structs framed by ENCODE_START/ENCODE_FINISH (struct_v u8, compat_v u8, u32 body
length).

Decoding is strict as upstream's is: a short buffer, an unsupported compat version or a
struct body overrunning its length raise `DencError` (a class method answers -EINVAL).
Every length and count is checked against the bytes left before anything is built from
it (a u32 count of items larger than the remaining input fails at once), so input can
never make a decoder allocate more than its own size.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: CEPH_ENTITY_TYPE_*: entity_name_t's type byte.
ENTITY_TYPES = {"mon": 0x01, "mds": 0x02, "osd": 0x04, "client": 0x08, "mgr": 0x10, "auth": 0x20}
ENTITY_NAMES = {v: k for k, v in ENTITY_TYPES.items()}

#: entity_addr_t types.
ADDR_TYPE_NONE = 0
ADDR_TYPE_LEGACY = 1
ADDR_TYPE_MSGR2 = 2
ADDR_TYPE_ANY = 3
_AF_INET = 2
_AF_INET6 = 10
_SOCKADDR_STORAGE = 128  # sizeof(ceph_sockaddr_storage), the pre-ADDR2 encoding
_SOCKADDR_UNION = 28  # sizeof(entity_addr_t::u): a sockaddr_in6


class DencError(ValueError):
    """The buffer does not decode (upstream ceph::buffer::error)."""


class Encoder:
    """Appends encoded values; `bytes(enc)` is the result."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def __bytes__(self) -> bytes:
        return b"".join(self._parts)

    def raw(self, b: bytes) -> None:
        self._parts.append(bytes(b))

    def u8(self, v: int) -> None:
        self.raw(struct.pack("<B", v))

    def u16(self, v: int) -> None:
        self.raw(struct.pack("<H", v))

    def boolean(self, v: bool) -> None:
        """bool: one byte, 0 or 1."""
        self.u8(1 if v else 0)

    def u32(self, v: int) -> None:
        self.raw(struct.pack("<I", v))

    def i64(self, v: int) -> None:
        self.raw(struct.pack("<q", v))

    def u64(self, v: int) -> None:
        self.raw(struct.pack("<Q", v))

    def string(self, s: str | bytes) -> None:
        """std::string / bufferlist: u32 length and the bytes (str as UTF-8)."""
        b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        self.u32(len(b))
        self.raw(b)

    def utime(self, t: float | tuple[int, int]) -> None:
        """utime_t: u32 seconds, u32 nanoseconds."""
        sec, nsec = utime_of(t)
        self.u32(sec & 0xFFFFFFFF)  # utime_t keeps the low 32 bits, as a cast does
        self.u32(nsec & 0xFFFFFFFF)

    def seq(self, items: list[T], each: Callable[[T], None]) -> None:
        """std::list / std::vector / std::set: u32 count and the items."""
        self.u32(len(items))
        for it in items:
            each(it)

    @contextmanager
    def struct(self, version: int, compat: int) -> Iterator[None]:
        """ENCODE_START(version, compat) ... ENCODE_FINISH."""
        outer, self._parts = self._parts, []
        try:
            yield
        finally:
            body = b"".join(self._parts)
            self._parts = outer
        self.raw(struct.pack("<BBI", version, compat, len(body)) + body)

    def entity_name(self, name: str) -> None:
        """entity_name_t from "client.4123": type u8, num i64 (-1 when not a number)."""
        typ, num = parse_entity_name(name)
        self.u8(typ)
        self.i64(num)

    def entity_addr(self, addr: str, addr_type: int = ADDR_TYPE_LEGACY) -> None:
        """entity_addr_t from "ip:port/nonce", in the ADDR2 encoding (marker 1, versioned
        struct: type, nonce, sockaddr length, family u16 and the sockaddr's data)."""
        family, port, ip, nonce = parse_addr(addr)
        if family is None:
            addr_type = ADDR_TYPE_NONE
        self.u8(1)
        with self.struct(1, 1):
            self.u32(addr_type)
            self.u32(nonce)
            if family == _AF_INET:
                self.u32(16)
                self.u16(_AF_INET)
                self.raw(struct.pack(">H", port) + socket.inet_pton(socket.AF_INET, ip))
                self.raw(b"\0" * 8)
            elif family == _AF_INET6:
                self.u32(28)
                self.u16(_AF_INET6)
                self.raw(struct.pack(">HI", port, 0) + socket.inet_pton(socket.AF_INET6, ip))
                self.u32(0)  # scope id
            else:
                self.u32(_SOCKADDR_UNION)
                self.u16(0)
                self.raw(b"\0" * (_SOCKADDR_UNION - 2))


class Decoder:
    """Reads encoded values from `buf`."""

    def __init__(self, buf: bytes | memoryview) -> None:
        self.buf = bytes(buf)
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise DencError("buffer::end_of_buffer")
        b = self.buf[self.pos : self.pos + n]
        self.pos += n
        return b

    def _unpack(self, fmt: str) -> int:
        return int(struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0])

    def u8(self) -> int:
        return self._unpack("<B")

    def u16(self) -> int:
        return self._unpack("<H")

    def boolean(self) -> bool:
        """bool: any non-zero byte is true, as upstream's decode."""
        return self.u8() != 0

    def u32(self) -> int:
        return self._unpack("<I")

    def i64(self) -> int:
        return self._unpack("<q")

    def u64(self) -> int:
        return self._unpack("<Q")

    def raw_string(self) -> bytes:
        return self.take(self.u32())

    def string(self) -> str:
        """A std::string as str (bytes that are not UTF-8 fail as malformed input)."""
        try:
            return self.raw_string().decode("utf-8")
        except UnicodeDecodeError as e:
            raise DencError(f"not UTF-8: {e}") from None

    def utime(self) -> tuple[int, int]:
        return self.u32(), self.u32()

    def seq(self, each: Callable[[], T]) -> list[T]:
        n = self.u32()
        if n > len(self.buf) - self.pos:  # every item takes at least one byte
            raise DencError("buffer::end_of_buffer")
        return [each() for _ in range(n)]

    @contextmanager
    def struct(self, compat_supported: int = 1) -> Iterator[int]:
        """DECODE_START(v, bl) ... DECODE_FINISH: yields struct_v; a newer compat version
        than `compat_supported` is malformed input; unread trailing bytes of a newer
        struct version are skipped."""
        version, compat, length = self.u8(), self.u8(), self.u32()
        if compat > compat_supported:
            raise DencError(f"struct compat version {compat} > {compat_supported}")
        end = self.pos + length
        if end > len(self.buf):
            raise DencError("buffer::end_of_buffer")
        yield version
        if self.pos > end:
            raise DencError("buffer::malformed_input: struct overran its length")
        self.pos = end

    def entity_name(self) -> str:
        typ, num = self.u8(), self.i64()
        return f"{ENTITY_NAMES.get(typ, 'unknown')}.{num}"

    def entity_addr(self) -> str:
        """entity_addr_t as its legacy string "ip:port/nonce" (either encoding)."""
        marker = self.u8()
        if marker == 0:  # pre-ADDR2: u32 0, nonce, ceph_sockaddr_storage (family big-endian)
            self.take(3)
            nonce = self.u32()
            ss = self.take(_SOCKADDR_STORAGE)
            family = struct.unpack(">H", ss[:2])[0]
            return _addr_str(family, ss[2:], nonce)
        if marker != 1:
            raise DencError(f"bad entity_addr_t marker {marker}")
        with self.struct(1):
            self.u32()  # type
            nonce = self.u32()
            elen = self.u32()
            family, data = 0, b""
            if elen:
                if elen < 2:
                    raise DencError("bad sockaddr length")
                family = self.u16()
                data = self.take(elen - 2)
        return _addr_str(family, data, nonce)


Utime = tuple[int, int]  #: utime_t: (sec, nsec)
ZERO_UTIME: Utime = (0, 0)


def utime_add(a: Utime, b: Utime) -> Utime:
    """utime_t += : nanoseconds carried, seconds kept to 32 bits."""
    sec, nsec = a[0] + b[0], a[1] + b[1]
    sec, nsec = sec + nsec // 1_000_000_000, nsec % 1_000_000_000
    return sec & 0xFFFFFFFF, nsec


def utime_of(t: float | tuple[int, int]) -> tuple[int, int]:
    """(sec, nsec) of a float timestamp or an already split one."""
    if isinstance(t, tuple):
        return int(t[0]), int(t[1])
    sec = int(t)
    nsec = int(round((t - sec) * 1e9))
    if nsec >= 1_000_000_000:
        sec, nsec = sec + 1, nsec - 1_000_000_000
    return sec, nsec


def utime_float(t: tuple[int, int]) -> float:
    return t[0] + t[1] / 1e9


def parse_entity_name(name: str) -> tuple[int, int]:
    """("client.4123") -> (0x08, 4123); an unknown type is 0, a non-numeric id -1."""
    typ, _, num = name.partition(".")
    try:
        n = int(num)
    except ValueError:
        n = -1
    return ENTITY_TYPES.get(typ, 0), n


def parse_addr(addr: str) -> tuple[int | None, int, str, int]:
    """("127.0.0.1:0/123") -> (AF_INET, 0, "127.0.0.1", 123); family None if unparsable."""
    text = addr
    for prefix in ("v1:", "v2:", "any:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    hostport, _, nonce_s = text.partition("/")
    try:
        nonce = int(nonce_s) if nonce_s else 0
        if hostport.startswith("["):
            host, _, port_s = hostport[1:].partition("]:")
            socket.inet_pton(socket.AF_INET6, host)
            return _AF_INET6, int(port_s or 0), host, nonce
        host, _, port_s = hostport.rpartition(":")
        socket.inet_pton(socket.AF_INET, host)
        return _AF_INET, int(port_s or 0), host, nonce
    except (ValueError, OSError):
        return None, 0, "", 0


def _addr_str(family: int, data: bytes, nonce: int) -> str:
    """entity_addr_t::get_legacy_str(): "ip:port/nonce" ("[ip6]:port/nonce")."""
    try:
        if family == _AF_INET and len(data) >= 6:
            port = struct.unpack(">H", data[:2])[0]
            return f"{socket.inet_ntop(socket.AF_INET, data[2:6])}:{port}/{nonce}"
        if family == _AF_INET6 and len(data) >= 22:
            port = struct.unpack(">H", data[:2])[0]
            return f"[{socket.inet_ntop(socket.AF_INET6, data[6:22])}]:{port}/{nonce}"
    except (ValueError, OSError):
        pass
    return ""  # no address (pyceph's in-process origins may have none)


__all__ = [
    "ADDR_TYPE_ANY",
    "ADDR_TYPE_LEGACY",
    "ADDR_TYPE_MSGR2",
    "ADDR_TYPE_NONE",
    "Decoder",
    "DencError",
    "Encoder",
    "parse_addr",
    "parse_entity_name",
    "Utime",
    "ZERO_UTIME",
    "utime_add",
    "utime_float",
    "utime_of",
]
