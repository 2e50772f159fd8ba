"""cls ``lock``: advisory object locks (upstream src/cls/lock/cls_lock.cc, pacific semantics).

A lock named N lives in the object's user xattr ``lock.N``. It has a type (exclusive, shared,
exclusive-ephemeral), a tag every locker must match, and lockers keyed by (client entity name,
cookie), each with an expiration (0 = never), the client address and a description. Expired
lockers are dropped whenever the lock is read, using the op's timestamp (`CallEnv.now`).

Wire encoding (msgpack maps; our client's, not upstream's binary structs):

* ``lock``          in  {name, type: 1 exclusive / 2 shared / 3 exclusive-ephemeral, cookie,
                         tag, description, duration (seconds, 0 = forever),
                         flags: 1 MAY_RENEW / 2 MUST_RENEW}
* ``unlock``        in  {name, cookie}
* ``break_lock``    in  {name, locker (entity name, e.g. "client.4123"), cookie}
* ``get_info``      in  {name}
                    out {lockers: [{locker, cookie, expiration, addr, description}], type, tag}
* ``list_locks``    in  ignored; out {locks: [name, ...]}
* ``assert_locked`` in  {name, type, cookie, tag}
* ``set_cookie``    in  {name, type, cookie, tag, new_cookie}

The stored xattr value is the ``get_info`` output map.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field
from typing import Any

import msgpack

from pyceph.cls._codec import decode_map, encode, get_float, get_int, get_str
from pyceph.cls.context import PROMOTE, RD, WR, ClsError, MethodContext
from pyceph.cls.registry import MethodResult, register

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


def _name_key(locker: str, cookie: str) -> tuple[str, int, str, str]:
    # upstream orders lockers by entity_name_t (type, then number), then cookie
    typ, _, num = locker.partition(".")
    return (typ, int(num), "", cookie) if num.isdigit() else (typ, -1, num, cookie)


@dataclass
class LockerInfo:
    """One holder of a lock (upstream locker_info_t)."""

    expiration: float = 0.0  #: absolute, seconds; 0 = never expires
    addr: str = ""
    description: str = ""


@dataclass
class LockInfo:
    """A lock's state (upstream lock_info_t)."""

    lockers: dict[LockerId, LockerInfo] = field(default_factory=dict)
    lock_type: int = LOCK_NONE
    tag: str = ""

    def to_wire(self) -> dict[str, Any]:
        """The map stored in the xattr and returned by get_info."""
        ids = sorted(self.lockers, key=lambda i: _name_key(*i))
        return {
            "lockers": [
                {
                    "locker": n,
                    "cookie": c,
                    "expiration": self.lockers[(n, c)].expiration,
                    "addr": self.lockers[(n, c)].addr,
                    "description": self.lockers[(n, c)].description,
                }
                for n, c in ids
            ],
            "type": self.lock_type,
            "tag": self.tag,
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> LockInfo:
        """Inverse of `to_wire` (raises on malformed input)."""
        info = cls(lock_type=int(d["type"]), tag=str(d["tag"]))
        for e in d["lockers"]:
            info.lockers[(str(e["locker"]), str(e["cookie"]))] = LockerInfo(
                float(e["expiration"]), str(e["addr"]), str(e["description"])
            )
        return info


def read_lock(ctx: MethodContext, name: str) -> LockInfo:
    """The lock's state with expired lockers trimmed; ENOENT when the object is missing."""
    try:
        raw = ctx.getxattr(LOCK_PREFIX + name)
    except ClsError as e:
        if e.errno == errno.ENODATA:
            return LockInfo()
        raise
    try:
        info = LockInfo.from_wire(msgpack.unpackb(raw, raw=False))
    except Exception:
        log.error("error decoding %s%s", LOCK_PREFIX, name)
        raise ClsError(errno.EIO, f"cannot decode {LOCK_PREFIX}{name}")
    now = ctx.now
    for lid in [i for i, li in info.lockers.items() if li.expiration and li.expiration < now]:
        del info.lockers[lid]
    if not info.lockers and info.lock_type == LOCK_EXCLUSIVE_EPHEMERAL:
        try:
            ctx.remove()
        except ClsError as e:
            log.error("error, on read, cleaning lock object: %s", e)
    return info


def write_lock(ctx: MethodContext, name: str, info: LockInfo) -> None:
    """Store the lock's state in its xattr."""
    ctx.setxattr(LOCK_PREFIX + name, encode(info.to_wire()))


def lock_obj(
    ctx: MethodContext,
    name: str,
    lock_type: int,
    duration: float,
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
    expiration = ctx.now + duration if duration else 0.0
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
    d = decode_map(indata)
    return lock_obj(
        ctx,
        get_str(d, "name"),
        get_int(d, "type"),
        get_float(d, "duration"),
        get_str(d, "description"),
        get_int(d, "flags"),
        get_str(d, "cookie"),
        get_str(d, "tag"),
    )


@register("lock", "unlock", RD | WR | PROMOTE)
def unlock_op(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Release the caller's lock with this cookie; ENOENT if it does not hold it."""
    d = decode_map(indata)
    return remove_lock(ctx, get_str(d, "name"), ctx.origin.name, get_str(d, "cookie"))


@register("lock", "break_lock", RD | WR)
def break_lock(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Remove any client's lock given its entity name and cookie; ENOENT if no such locker."""
    d = decode_map(indata)
    return remove_lock(ctx, get_str(d, "name"), get_str(d, "locker"), get_str(d, "cookie"))


@register("lock", "get_info", RD)
def get_info(ctx: MethodContext, indata: bytes) -> MethodResult:
    """The lock's lockers, type and tag (expired lockers left out)."""
    d = decode_map(indata)
    return encode(read_lock(ctx, get_str(d, "name")).to_wire())


@register("lock", "list_locks", RD)
def list_locks(ctx: MethodContext, indata: bytes) -> MethodResult:
    """The names of the locks on the object (from its ``lock.*`` xattrs)."""
    attrs = ctx.getxattrs()
    names = [k[len(LOCK_PREFIX) :] for k in sorted(attrs) if k.startswith(LOCK_PREFIX)]
    return encode({"locks": names})


def _check_held(ctx: MethodContext, d: dict[str, Any]) -> tuple[str, LockInfo, LockerId] | int:
    name, lock_type = get_str(d, "name"), get_int(d, "type")
    if not is_valid(lock_type) or not name:
        return -errno.EINVAL
    info = read_lock(ctx, name)
    if not info.lockers or info.lock_type != lock_type or info.tag != get_str(d, "tag"):
        return -errno.EBUSY
    lid = (ctx.origin.name, get_str(d, "cookie"))
    if lid not in info.lockers:
        return -errno.EBUSY
    return name, info, lid


@register("lock", "assert_locked", RD | PROMOTE)
def assert_locked(ctx: MethodContext, indata: bytes) -> MethodResult:
    """0 when the caller holds the lock with this type, tag and cookie; else EBUSY."""
    r = _check_held(ctx, decode_map(indata))
    return r if isinstance(r, int) else 0


@register("lock", "set_cookie", RD | WR | PROMOTE)
def set_cookie(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Move the caller's lock to a new cookie (EBUSY if not held or the new one is in use)."""
    d = decode_map(indata)
    r = _check_held(ctx, d)
    if isinstance(r, int):
        return r
    name, info, lid = r
    new_id = (lid[0], get_str(d, "new_cookie"))
    if new_id in info.lockers:
        return -errno.EBUSY
    info.lockers[new_id] = info.lockers.pop(lid)
    write_lock(ctx, name, info)
    return 0
