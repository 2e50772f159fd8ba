"""cls ``lock``: advisory object locks (upstream src/cls/lock/cls_lock.cc, pacific semantics).

A lock named N lives in the object's user xattr ``lock.N``. It has a type (exclusive, shared,
exclusive-ephemeral), a tag every locker must match, and lockers keyed by (client entity name,
cookie), each with an expiration (0 = never), the client address and a description. Expired
lockers are dropped whenever the lock is read, using the op's timestamp (`CallEnv.now`).

Wire encoding: upstream's (src/cls/lock/cls_lock_ops.h, cls_lock_types.h), every struct
framed by ENCODE_START(1, 1) (struct_v u8, compat u8, u32 length), strings as a u32 length
and the bytes, lists and maps as a u32 count and the items, utime_t as u32 sec + u32 nsec,
ClsLockType as a u8 (1 exclusive, 2 shared, 3 exclusive-ephemeral):

* ``lock``          in  cls_lock_lock_op {name, type u8, cookie, tag, description,
                         duration utime_t (0 = forever), flags u8: 1 MAY_RENEW / 2 MUST_RENEW}
* ``unlock``        in  cls_lock_unlock_op {name, cookie}
* ``break_lock``    in  cls_lock_break_op {name, locker entity_name_t, cookie}
* ``get_info``      in  cls_lock_get_info_op {name}
                    out cls_lock_get_info_reply {map<locker_id_t, locker_info_t>, type u8, tag}
* ``list_locks``    in  ignored; out cls_lock_list_locks_reply {list<string>}
* ``assert_locked`` in  cls_lock_assert_op {name, type u8, cookie, tag}
* ``set_cookie``    in  cls_lock_set_cookie_op {name, type u8, cookie, tag, new_cookie}

locker_id_t is {entity_name_t (type u8, num i64), cookie}; locker_info_t is {expiration
utime_t, entity_addr_t (ADDR2 encoding; the client's address as the OSD sees it, type
legacy), description}. The stored xattr value is lock_info_t, encoded as get_info's reply.
`encode_input` / `decode_output` give clients (the rados facade, the rados CLI) the same
encoding from and to plain dicts.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.cls.context import PROMOTE, RD, WR, ClsError, MethodContext
from pyceph.cls.registry import MethodResult, register
from pyceph.common.denc import (
    ZERO_UTIME,
    Decoder,
    DencError,
    Encoder,
    Utime,
    parse_entity_name,
    utime_add,
    utime_float,
    utime_of,
)

log = logging.getLogger("pyceph.cls.lock")

LOCK_PREFIX = "lock."

LOCK_NONE = 0
LOCK_EXCLUSIVE = 1
LOCK_SHARED = 2
LOCK_EXCLUSIVE_EPHEMERAL = 3  #: the lock object is removed at unlock

LOCK_FLAG_MAY_RENEW = 0x1  #: idempotent acquire: re-locking with the same cookie renews
LOCK_FLAG_MUST_RENEW = 0x2  #: the lock must already be held with this cookie

LockerId = tuple[str, str]  # (entity name, cookie)


def is_valid(t: int) -> bool:
    """A lock type a client may ask for."""
    return t in (LOCK_EXCLUSIVE, LOCK_SHARED, LOCK_EXCLUSIVE_EPHEMERAL)


def is_exclusive(t: int) -> bool:
    """Exclusive or exclusive-ephemeral."""
    return t in (LOCK_EXCLUSIVE, LOCK_EXCLUSIVE_EPHEMERAL)


def _name_key(locker: str, cookie: str) -> tuple[int, int, bytes]:
    # upstream's map<locker_id_t, ...> order: entity_name_t (type code, then number), cookie
    typ, num = parse_entity_name(locker)
    return typ, num, cookie.encode()


@dataclass
class LockerInfo:
    """One holder of a lock (upstream locker_info_t)."""

    expiration: Utime = ZERO_UTIME  #: absolute utime_t (sec, nsec); zero = never expires
    addr: str = ""
    description: str = ""


@dataclass
class LockInfo:
    """A lock's state (upstream lock_info_t)."""

    lockers: dict[LockerId, LockerInfo] = field(default_factory=dict)
    lock_type: int = LOCK_NONE
    tag: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain form: {lockers: [{locker, cookie, expiration, addr, description}], type, tag}
        with the lockers in upstream's order."""
        ids = sorted(self.lockers, key=lambda i: _name_key(*i))
        return {
            "lockers": [
                {
                    "locker": n,
                    "cookie": c,
                    "expiration": utime_float(self.lockers[(n, c)].expiration),
                    "addr": self.lockers[(n, c)].addr,
                    "description": self.lockers[(n, c)].description,
                }
                for n, c in ids
            ],
            "type": self.lock_type,
            "tag": self.tag,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LockInfo:
        """Inverse of `to_dict` (raises on malformed input)."""
        info = cls(lock_type=int(d["type"]), tag=str(d["tag"]))
        for e in d["lockers"]:
            info.lockers[(str(e["locker"]), str(e["cookie"]))] = LockerInfo(
                utime_of(float(e["expiration"])), str(e["addr"]), str(e["description"])
            )
        return info

    def encode(self) -> bytes:
        """lock_info_t / cls_lock_get_info_reply (the same layout)."""
        enc = Encoder()
        _enc_lock_info(enc, self)
        return bytes(enc)

    @classmethod
    def decode(cls, data: bytes) -> LockInfo:
        return _dec_lock_info(Decoder(data))


# -- upstream's structs --------------------------------------------------------------------
def _enc_lock_info(enc: Encoder, info: LockInfo) -> None:
    ids = sorted(info.lockers, key=lambda i: _name_key(*i))
    with enc.struct(1, 1):
        enc.u32(len(ids))
        for locker, cookie in ids:
            li = info.lockers[(locker, cookie)]
            with enc.struct(1, 1):  # locker_id_t
                enc.entity_name(locker)
                enc.string(cookie)
            with enc.struct(1, 1):  # locker_info_t
                enc.utime(li.expiration)
                enc.entity_addr(li.addr)
                enc.string(li.description)
        enc.u8(info.lock_type)
        enc.string(info.tag)


def _dec_lock_info(dec: Decoder) -> LockInfo:
    info = LockInfo()
    with dec.struct():
        for _ in range(dec.u32()):
            with dec.struct():
                locker, cookie = dec.entity_name(), dec.string()
            with dec.struct():
                expiration = dec.utime()
                addr = dec.entity_addr()
                description = dec.string()
            info.lockers[(locker, cookie)] = LockerInfo(expiration, addr, description)
        info.lock_type = dec.u8()
        info.tag = dec.string()
    return info


#: The fields of each method's input struct, in encoding order: (name, kind).
_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "lock": (
        ("name", "str"),
        ("type", "u8"),
        ("cookie", "str"),
        ("tag", "str"),
        ("description", "str"),
        ("duration", "utime"),
        ("flags", "u8"),
    ),
    "unlock": (("name", "str"), ("cookie", "str")),
    "break_lock": (("name", "str"), ("locker", "entity"), ("cookie", "str")),
    "get_info": (("name", "str"),),
    "assert_locked": (("name", "str"), ("type", "u8"), ("cookie", "str"), ("tag", "str")),
    "set_cookie": (
        ("name", "str"),
        ("type", "u8"),
        ("cookie", "str"),
        ("tag", "str"),
        ("new_cookie", "str"),
    ),
}
_DEFAULTS = {"str": "", "u8": 0, "utime": 0.0, "entity": "client.0"}


def encode_input(method: str, args: dict[str, Any] | None = None) -> bytes:
    """A lock method's input struct from a dict (missing fields default to 0 / "")."""
    fields = _INPUTS.get(method)
    if fields is None:
        return b""  # list_locks takes no input
    args = args or {}
    enc = Encoder()
    with enc.struct(1, 1):
        for name, kind in fields:
            v = args.get(name, _DEFAULTS[kind])
            if kind == "str":
                enc.string(v)
            elif kind == "u8":
                enc.u8(int(v))
            elif kind == "utime":
                enc.utime(v if isinstance(v, tuple) else float(v))
            else:
                enc.entity_name(str(v))
    return bytes(enc)


def decode_input(method: str, indata: bytes) -> dict[str, Any]:
    """Inverse of `encode_input`; malformed input is -EINVAL, as upstream's decode errors."""
    try:
        dec = Decoder(indata)
        out: dict[str, Any] = {}
        with dec.struct():
            for name, kind in _INPUTS[method]:
                if kind == "str":
                    out[name] = dec.string()
                elif kind == "u8":
                    out[name] = dec.u8()
                elif kind == "utime":
                    out[name] = dec.utime()
                else:
                    out[name] = dec.entity_name()
        return out
    except DencError as e:
        raise ClsError(errno.EINVAL, f"cannot decode {method} input: {e}") from None


def decode_output(method: str, outdata: bytes) -> dict[str, Any]:
    """A lock method's output as a dict: get_info {lockers, type, tag}, list_locks
    {locks}; other methods return nothing ({})."""
    if method == "get_info":
        return _dec_lock_info(Decoder(outdata)).to_dict()
    if method == "list_locks":
        dec = Decoder(outdata)
        with dec.struct():
            locks = dec.seq(dec.string)
        return {"locks": locks}
    return {}


def encode_list_locks_reply(names: list[str]) -> bytes:
    """cls_lock_list_locks_reply."""
    enc = Encoder()
    with enc.struct(1, 1):
        enc.seq(names, enc.string)
    return bytes(enc)


# -- the lock state in its xattr -------------------------------------------------------------
def _decode_stored(raw: bytes) -> LockInfo:
    try:
        return LockInfo.decode(raw)
    except (DencError, KeyError, TypeError, ValueError):
        pass
    # pyceph before the switch to upstream's encoding stored a msgpack map
    d = msgpack.unpackb(raw, raw=False)
    if not isinstance(d, dict):
        raise ValueError("not a lock_info_t")
    return LockInfo.from_dict(d)


def read_lock(ctx: MethodContext, name: str) -> LockInfo:
    """The lock's state with expired lockers trimmed; ENOENT when the object is missing."""
    try:
        raw = ctx.getxattr(LOCK_PREFIX + name)
    except ClsError as e:
        if e.errno == errno.ENODATA:
            return LockInfo()
        raise
    try:
        info = _decode_stored(raw)
    except Exception:
        log.error("error decoding %s%s", LOCK_PREFIX, name)
        raise ClsError(errno.EIO, f"cannot decode {LOCK_PREFIX}{name}")
    now = utime_of(ctx.now)
    expired = [
        i for i, li in info.lockers.items() if li.expiration != ZERO_UTIME and li.expiration < now
    ]
    for lid in expired:
        del info.lockers[lid]
    if not info.lockers and info.lock_type == LOCK_EXCLUSIVE_EPHEMERAL:
        try:
            ctx.remove()
        except ClsError as e:
            log.error("error, on read, cleaning lock object: %s", e)
    return info


def write_lock(ctx: MethodContext, name: str, info: LockInfo) -> None:
    """Store the lock's state in its xattr (upstream's lock_info_t encoding)."""
    ctx.setxattr(LOCK_PREFIX + name, info.encode())


def lock_obj(
    ctx: MethodContext,
    name: str,
    lock_type: int,
    duration: Utime | float,
    description: str,
    flags: int,
    cookie: str,
    tag: str,
) -> int:
    """Add the caller as a locker (upstream lock_obj); 0 or a negative errno."""
    exclusive = is_exclusive(lock_type)
    fail_if_exists = not flags & LOCK_FLAG_MAY_RENEW
    fail_if_does_not_exist = bool(flags & LOCK_FLAG_MUST_RENEW)
    if not is_valid(lock_type) or not name:
        return -errno.EINVAL
    if not fail_if_exists and fail_if_does_not_exist:
        return -errno.EINVAL  # MAY_RENEW and MUST_RENEW together
    try:
        info = read_lock(ctx, name)
    except ClsError as e:
        if e.errno != errno.ENOENT:
            raise
        info = LockInfo()
    lid = (ctx.origin.name, cookie)
    # checked before the renew logic, which might drop the caller's entry
    if info.lockers and tag != info.tag:
        return -errno.EBUSY
    existing_type = info.lock_type
    if lid in info.lockers:
        if fail_if_exists and not fail_if_does_not_exist:
            return -errno.EEXIST
        del info.lockers[lid]
    elif fail_if_does_not_exist:
        return -errno.ENOENT
    if info.lockers:
        if exclusive:
            return -errno.EBUSY
        if existing_type != lock_type:
            return -errno.EBUSY
    info.lock_type = lock_type
    info.tag = tag
    dur = utime_of(duration)
    expiration = utime_add(utime_of(ctx.now), dur) if dur != ZERO_UTIME else ZERO_UTIME
    info.lockers[lid] = LockerInfo(expiration, ctx.origin.addr, description)
    write_lock(ctx, name, info)
    return 0


def remove_lock(ctx: MethodContext, name: str, locker: str, cookie: str) -> int:
    """Drop one locker (upstream remove_lock); ENOENT if it does not hold the lock."""
    info = read_lock(ctx, name)
    lid = (locker, cookie)
    if lid not in info.lockers:
        return -errno.ENOENT
    del info.lockers[lid]
    if info.lock_type == LOCK_EXCLUSIVE_EPHEMERAL:
        ctx.remove()
    else:
        write_lock(ctx, name, info)
    return 0


@register("lock", "lock", RD | WR | PROMOTE)
def lock_op(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Take a lock for the calling client: EBUSY when held incompatibly, EEXIST when this
    cookie already holds it (unless MAY_RENEW), ENOENT with MUST_RENEW and no such locker."""
    d = decode_input("lock", indata)
    return lock_obj(
        ctx,
        d["name"],
        d["type"],
        d["duration"],
        d["description"],
        d["flags"],
        d["cookie"],
        d["tag"],
    )


@register("lock", "unlock", RD | WR | PROMOTE)
def unlock_op(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Release the caller's lock with this cookie; ENOENT if it does not hold it."""
    d = decode_input("unlock", indata)
    return remove_lock(ctx, d["name"], ctx.origin.name, d["cookie"])


@register("lock", "break_lock", RD | WR)
def break_lock(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Remove any client's lock given its entity name and cookie; ENOENT if no such locker."""
    d = decode_input("break_lock", indata)
    return remove_lock(ctx, d["name"], d["locker"], d["cookie"])


@register("lock", "get_info", RD)
def get_info(ctx: MethodContext, indata: bytes) -> MethodResult:
    """The lock's lockers, type and tag (expired lockers left out)."""
    d = decode_input("get_info", indata)
    return read_lock(ctx, d["name"]).encode()


@register("lock", "list_locks", RD)
def list_locks(ctx: MethodContext, indata: bytes) -> MethodResult:
    """The names of the locks on the object (from its ``lock.*`` xattrs, in key order)."""
    attrs = ctx.getxattrs()
    keys = sorted(attrs, key=lambda k: k.encode())
    return encode_list_locks_reply(
        [k[len(LOCK_PREFIX) :] for k in keys if k.startswith(LOCK_PREFIX)]
    )


def _check_held(ctx: MethodContext, d: dict[str, Any]) -> tuple[str, LockInfo, LockerId] | int:
    name, lock_type = d["name"], d["type"]
    if not is_valid(lock_type) or not name:
        return -errno.EINVAL
    info = read_lock(ctx, name)
    if not info.lockers or info.lock_type != lock_type or info.tag != d["tag"]:
        return -errno.EBUSY
    lid = (ctx.origin.name, d["cookie"])
    if lid not in info.lockers:
        return -errno.EBUSY
    return name, info, lid


@register("lock", "assert_locked", RD | PROMOTE)
def assert_locked(ctx: MethodContext, indata: bytes) -> MethodResult:
    """0 when the caller holds the lock with this type, tag and cookie; else EBUSY."""
    r = _check_held(ctx, decode_input("assert_locked", indata))
    return r if isinstance(r, int) else 0


@register("lock", "set_cookie", RD | WR | PROMOTE)
def set_cookie(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Move the caller's lock to a new cookie (EBUSY if not held or the new one is in use)."""
    d = decode_input("set_cookie", indata)
    r = _check_held(ctx, d)
    if isinstance(r, int):
        return r
    name, info, lid = r
    new_id = (lid[0], d["new_cookie"])
    if new_id in info.lockers:
        return -errno.EBUSY
    info.lockers[new_id] = info.lockers.pop(lid)
    write_lock(ctx, name, info)
    return 0
