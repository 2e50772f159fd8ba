"""Advisory image locks (librbd internal.cc lock/unlock/list_lockers/break_lock): the
`lock` object class's lock named `rbd_lock` on the image header.

Taking a lock another client holds is EBUSY, taking one twice with the same cookie
EEXIST, unlocking a lock not held ENOENT (the class's errnos). Breaking a lock first
blocklists the holder's address when `rbd_blocklist_on_break_lock` is on, so a client
that lost its lock cannot keep writing.
"""

from __future__ import annotations

import errno
import json
from typing import TYPE_CHECKING, Any

from pyceph.cls import lock as cls_lock
from pyceph.common.errors import CephError
from pyceph.rbdlib.layout import RBD_LOCK_NAME

if TYPE_CHECKING:
    from pyceph.rbdlib.image import Image


async def _call(img: Image, method: str, args: dict[str, Any]) -> bytes:
    return await img.ioctx.execute(img.header_oid, "lock", method,
                                   cls_lock.encode_input(method, args))  # fmt: skip


async def lock(img: Image, exclusive: bool, cookie: str, tag: str) -> None:
    """lock_exclusive (tag "") / lock_shared."""
    img._check_open()
    if img.read_only:
        raise CephError(errno.EROFS, "image is read-only")
    args = {
        "name": RBD_LOCK_NAME,
        "type": cls_lock.LOCK_EXCLUSIVE if exclusive else cls_lock.LOCK_SHARED,
        "cookie": cookie,
        "tag": tag,
        "description": "",
    }
    await _call(img, "lock", args)


async def unlock(img: Image, cookie: str) -> None:
    img._check_open()
    await _call(img, "unlock", {"name": RBD_LOCK_NAME, "cookie": cookie})


async def get_info(img: Image) -> dict[str, Any]:
    """{lockers: [{locker, cookie, addr, ...}], type, tag}; no lockers when unlocked."""
    try:
        out = await _call(img, "get_info", {"name": RBD_LOCK_NAME})
    except CephError as e:
        if e.errno == errno.ENOENT:
            return {"lockers": [], "type": 0, "tag": ""}
        raise
    return cls_lock.decode_output("get_info", out)


async def list_lockers(img: Image) -> Any:
    """[] without lockers, else {tag, exclusive, lockers: [(client, cookie, addr)]}."""
    img._check_open()
    info = await get_info(img)
    if not info["lockers"]:
        return []
    return {
        "tag": info["tag"],
        "exclusive": cls_lock.is_exclusive(info["type"]),
        "lockers": [(lk["locker"], lk["cookie"], lk["addr"]) for lk in info["lockers"]],
    }


async def break_lock(img: Image, client: str, cookie: str) -> None:
    """Break `client`'s lock `cookie` (ENOENT when it holds none), blocklisting it first
    when rbd_blocklist_on_break_lock is on."""
    img._check_open()
    info = await get_info(img)
    holder = next((lk for lk in info["lockers"]
                   if lk["locker"] == client and lk["cookie"] == cookie), None)  # fmt: skip
    if holder is None:
        raise CephError(errno.ENOENT, f"no lock {cookie} held by {client}")
    if img.conf("rbd_blocklist_on_break_lock") and holder["addr"]:
        await blocklist(img, str(holder["addr"]))
    await _call(img, "break_lock", {"name": RBD_LOCK_NAME, "locker": client, "cookie": cookie})


async def blocklist(img: Image, addr: str) -> None:
    """`osd blocklist add <addr> [expire]` with rbd_blocklist_expire_seconds."""
    cmd: dict[str, Any] = {"prefix": "osd blocklist", "blocklistop": "add", "addr": addr}
    expire = int(img.conf("rbd_blocklist_expire_seconds") or 0)
    if expire:
        cmd["expire"] = float(expire)
    ret, _out, outs = await img.ioctx.client.mon_command(json.dumps(cmd))
    if ret < 0:
        raise CephError(-ret, outs)
