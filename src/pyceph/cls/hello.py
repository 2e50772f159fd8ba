"""cls ``hello``: upstream's example class (src/cls/hello/cls_hello.cc), same methods, flags
and return codes; inputs and outputs are raw bytes as upstream."""

from __future__ import annotations

import errno

from pyceph.cls.context import PROMOTE, RD, WR, ClsError, MethodContext
from pyceph.cls.registry import MethodResult, register

#: Longest input say_hello / record_hello accept (-EINVAL above).
MAX_NAME_LEN = 100
#: How much of the object replay / turn_it_to_11 read.
REPLAY_LEN = 1100


def _greeting(indata: bytes) -> bytes:
    return b"Hello, " + (indata or b"world") + b"!"


@register("hello", flags=RD)
def say_hello(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Return "Hello, <input or world>!" without touching the object."""
    if len(indata) > MAX_NAME_LEN:
        return -errno.EINVAL
    return _greeting(indata)


@register("hello", flags=WR | PROMOTE)
def record_hello(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Write the greeting into a new object and note who said it (EEXIST if it exists)."""
    if len(indata) > MAX_NAME_LEN:
        return -errno.EINVAL
    try:
        ctx.stat()
        return -errno.EEXIST
    except ClsError:
        pass
    ctx.write_full(_greeting(indata))
    ctx.setxattr("said_by", str(ctx.origin).encode())
    return 0


def write_return_data(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Set xattr foo=bar and return 42 with data (seen only with RETURNVEC); -EINVAL with
    an explanation, and no write, when given input."""
    ctx.setxattr("foo", b"bar")
    if indata:
        return -errno.EINVAL, b"too much input data!"
    return 42, b"you might see this"


register("hello", "write_return_data", WR)(write_return_data)
# the pre-octopus name of the same method
register("hello", "writes_dont_return_data", WR)(write_return_data)


@register("hello", flags=WR)
def write_too_much_return_data(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Return more than osd_max_write_op_reply_len (an RETURNVEC write gets -EOVERFLOW)."""
    ctx.setxattr("foo", b"bar")
    return 42, b"you should not see this because it is toooooo long" * 10


@register("hello", flags=RD)
def replay(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Return the recorded greeting (the first 1100 bytes of the object)."""
    return ctx.read(0, REPLAY_LEN)


@register("hello", flags=RD | WR | PROMOTE)
def turn_it_to_11(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Upper-case the object's content (read-modify-write) and note who did it."""
    if indata:
        return -errno.EINVAL
    previous = ctx.read(0, REPLAY_LEN)
    ctx.write_full(previous.upper())
    ctx.setxattr("amplified_by", str(ctx.origin).encode())
    return 0


@register("hello", flags=WR)
def bad_reader(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Counter-example: registered WR but reads (the OSD answers -EIO)."""
    data = ctx.read(0, 100)
    return len(data), data


@register("hello", flags=RD)
def bad_writer(ctx: MethodContext, indata: bytes) -> MethodResult:
    """Counter-example: registered RD but writes (the OSD answers -EIO)."""
    ctx.write_full(indata)
    return 0
