"""cls ``refcount``: tag-based reference counting; the last put removes the object
(upstream src/cls/refcount/cls_refcount.cc, with the retired-tags set that makes a repeated
put of the same tag a no-op).

State lives in the user xattr ``refcount`` as msgpack {refs: [tag...], retired: [tag...]}.
``implicit_ref`` treats an object without that xattr as holding one wildcard ("") ref.
Wire encoding (msgpack maps):

* ``get``  in {tag, implicit_ref}
* ``put``  in {tag, implicit_ref}: removes the object when no ref is left
* ``set``  in {refs: [tag...]}: replaces the refs; an empty list removes the object
* ``read`` in {implicit_ref}; out {refs: [tag...]}
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass, field

import msgpack

from pyceph.cls._codec import decode_map, encode, get_bool, get_str, get_str_list
from pyceph.cls.context import RD, WR, ClsError, MethodContext
from pyceph.cls.registry import MethodResult, register

log = logging.getLogger("pyceph.cls.refcount")

REFCOUNT_ATTR = "refcount"
WILDCARD_TAG = ""


@dataclass
class ObjRefcount:
    """upstream obj_refcount: live refs and tags already put."""

    refs: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)


def read_refcount(ctx: MethodContext, implicit_ref: bool) -> ObjRefcount:
    """The stored refs; ENOENT when the object is missing."""
    try:
        raw = ctx.getxattr(REFCOUNT_ATTR)
    except ClsError as e:
        if e.errno != errno.ENODATA:
            raise
        return ObjRefcount({WILDCARD_TAG} if implicit_ref else set())
    try:
        d = msgpack.unpackb(raw, raw=False)
        return ObjRefcount({str(t) for t in d["refs"]}, {str(t) for t in d.get("retired", [])})
    except Exception:
        log.error("read_refcount(): failed to decode refcount entry")
        raise ClsError(errno.EIO, "cannot decode refcount")


def set_refcount(ctx: MethodContext, objr: ObjRefcount) -> None:
    """Store the refs xattr."""
    ctx.setxattr(
        REFCOUNT_ATTR, encode({"refs": sorted(objr.refs), "retired": sorted(objr.retired)})
    )


@register("refcount", "get", RD | WR)
def refcount_get(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Add a reference `tag` (ENOENT when the object is missing)."""
    d = decode_map(indata)
    objr = read_refcount(ctx, get_bool(d, "implicit_ref"))
    objr.refs.add(get_str(d, "tag"))
    set_refcount(ctx, objr)
    return 0


@register("refcount", "put", RD | WR)
def refcount_put(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Drop reference `tag` (or the wildcard with implicit_ref); the last one removes the
    object. Putting an unknown or already retired tag is a no-op; no refs at all is EINVAL."""
    d = decode_map(indata)
    tag, implicit = get_str(d, "tag"), get_bool(d, "implicit_ref")
    objr = read_refcount(ctx, implicit)
    if not objr.refs:
        log.error("refcount put called without any references")
        return -errno.EINVAL
    if tag in objr.refs:
        found = tag
    elif implicit and WILDCARD_TAG in objr.refs:
        found = WILDCARD_TAG
    else:
        return 0
    if tag in objr.retired:
        return 0
    objr.retired.add(tag)
    objr.refs.discard(found)
    if not objr.refs:
        ctx.remove()
        return 0
    set_refcount(ctx, objr)
    return 0


@register("refcount", "set", RD | WR)
def refcount_set(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Replace the refs with `refs`; an empty list removes the object."""
    refs = get_str_list(decode_map(indata), "refs")
    if not refs:
        ctx.remove()
        return 0
    set_refcount(ctx, ObjRefcount(set(refs)))
    return 0


@register("refcount", "read", RD)
def refcount_read(ctx: MethodContext, indata: bytes) -> MethodResult:
    """The current refs, sorted ({refs})."""
    d = decode_map(indata)
    objr = read_refcount(ctx, get_bool(d, "implicit_ref"))
    return encode({"refs": sorted(objr.refs)})
