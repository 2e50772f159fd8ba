"""cls ``version``: an object version (number + random tag) with conditional checks
(upstream src/cls/version/cls_version.cc).

The version lives in the user xattr ``ceph.objclass.version``. Wire encoding (msgpack maps):
an obj_version is {ver, tag}; a condition is {ver: obj_version, cond: VER_COND_*}.

* ``set``         in  {objv}
* ``inc``, ``inc_conds`` in {objv, conds: [...]}: -ECANCELED when a condition fails
* ``check_conds`` in  {objv, conds: [...]}: -ECANCELED when a condition fails
* ``read``        in  ignored; out {objv}
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from typing import Any

import msgpack

from pyceph.cls._codec import decode_map, encode, get_int, get_str
from pyceph.cls.context import RD, WR, ClsError, MethodContext
from pyceph.cls.registry import MethodResult, register

log = logging.getLogger("pyceph.cls.version")

VERSION_ATTR = "ceph.objclass.version"
TAG_LEN = 24

VER_COND_NONE = 0
VER_COND_EQ = 1
VER_COND_GT = 2
VER_COND_GE = 3
VER_COND_LT = 4
VER_COND_LE = 5
VER_COND_TAG_EQ = 6
VER_COND_TAG_NE = 7


@dataclass
class ObjVersion:
    """upstream obj_version."""

    ver: int = 0
    tag: str = ""

    def to_wire(self) -> dict[str, Any]:
        """{ver, tag}."""
        return {"ver": self.ver, "tag": self.tag}

    @classmethod
    def from_wire(cls, v: Any) -> ObjVersion:
        """Parse {ver, tag}; EINVAL when malformed."""
        if not isinstance(v, dict):
            raise ClsError(errno.EINVAL, "objv is not a map")
        ver = get_int(v, "ver")
        if ver < 0:
            raise ClsError(errno.EINVAL, "negative version")
        return cls(ver, get_str(v, "tag"))


def _conds(d: dict[str, Any]) -> list[tuple[ObjVersion, int]]:
    raw = d.get("conds", [])
    if not isinstance(raw, list | tuple):
        raise ClsError(errno.EINVAL, "conds is not a list")
    out = []
    for c in raw:
        if not isinstance(c, dict):
            raise ClsError(errno.EINVAL, "cond is not a map")
        out.append((ObjVersion.from_wire(c.get("ver", {})), get_int(c, "cond")))
    return out


def set_version(ctx: MethodContext, objv: ObjVersion) -> None:
    """Store the version xattr."""
    ctx.setxattr(VERSION_ATTR, encode(objv.to_wire()))


def read_version(ctx: MethodContext, implicit_create: bool) -> ObjVersion:
    """The stored version; none yet reads as 0, or (for writers) is created as 1:<random>."""
    try:
        raw = ctx.getxattr(VERSION_ATTR)
    except ClsError as e:
        if e.errno not in (errno.ENOENT, errno.ENODATA):
            raise
        if not implicit_create:
            return ObjVersion()
        objv = ObjVersion(1, ctx.gen_rand_base64(TAG_LEN))
        set_version(ctx, objv)
        return objv
    try:
        return ObjVersion.from_wire(msgpack.unpackb(raw, raw=False))
    except Exception:
        log.error("read_version(): failed to decode version entry")
        raise ClsError(errno.EIO, "cannot decode version")


def check_conds(conds: list[tuple[ObjVersion, int]], objv: ObjVersion) -> bool:
    """True when every condition holds for `objv` (unknown conditions are ignored)."""
    for v, cond in conds:
        if cond == VER_COND_EQ:
            ok = objv.ver == v.ver and objv.tag == v.tag
        elif cond == VER_COND_GT:
            ok = objv.ver > v.ver
        elif cond == VER_COND_GE:
            ok = objv.ver >= v.ver
        elif cond == VER_COND_LT:
            ok = objv.ver < v.ver
        elif cond == VER_COND_LE:
            ok = objv.ver <= v.ver
        elif cond == VER_COND_TAG_EQ:
            ok = objv.tag == v.tag
        elif cond == VER_COND_TAG_NE:
            ok = objv.tag != v.tag
        else:
            ok = True
        if not ok:
            return False
    return True


@register("version", "set", RD | WR)
def version_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Store the given version as is."""
    d = decode_map(indata)
    set_version(ctx, ObjVersion.from_wire(d.get("objv", {})))
    return 0


def version_inc(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Increment the version if the conditions hold (-ECANCELED otherwise)."""
    d = decode_map(indata)
    conds = _conds(d)
    objv = read_version(ctx, True)
    if not check_conds(conds, objv):
        return -errno.ECANCELED
    objv.ver += 1
    set_version(ctx, objv)
    return 0


register("version", "inc", RD | WR)(version_inc)
register("version", "inc_conds", RD | WR)(version_inc)


@register("version", "check_conds", RD)
def version_check(ctx: MethodContext, indata: bytes) -> MethodResult:
    """0 when the conditions hold for the current version, -ECANCELED otherwise."""
    d = decode_map(indata)
    conds = _conds(d)
    objv = read_version(ctx, False)
    if not check_conds(conds, objv):
        return -errno.ECANCELED
    return 0


@register("version", "read", RD)
def version_read(ctx: MethodContext, indata: bytes) -> MethodResult:
    """The current version ({objv}); {ver: 0, tag: ""} when none was set."""
    return encode({"objv": read_version(ctx, False).to_wire()})
