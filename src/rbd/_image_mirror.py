"""`rbd.Image`'s mirroring and client-side encryption methods, kept apart from the
core of `_image.py`; the class binds them by name (`Image.mirror_image_enable = ...`).

Upstream: `src/pybind/rbd/rbd.pyx`, class `Image` (mirror_image_*, aio_mirror_image_*,
encryption_format/encryption_load).  As everywhere in the facade, these only convert
arguments, call the engine `Image` method of the same name and map its errors.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyceph.rbdlib.image import Image as EngineImage
from rbd._constants import (
    RBD_ENCRYPTION_ALGORITHM_AES256,
    RBD_ENCRYPTION_FORMAT_LUKS1,
    RBD_ENCRYPTION_FORMAT_LUKS2,
    RBD_MIRROR_IMAGE_MODE_JOURNAL,
)
from rbd._errors import make_ex
from rbd._iterators import mirror_status
from rbd._util import c_int, c_u32, cstr, decode_cstr, requires_not_closed

if TYPE_CHECKING:
    from rbd._completion import Completion
    from rbd._image import Image


# -- mirroring --------------------------------------------------------------------
@requires_not_closed
def mirror_image_enable(self: Image, mode: int = RBD_MIRROR_IMAGE_MODE_JOURNAL) -> None:
    """Enable mirroring for the image."""
    m = c_int(mode)
    self._call(
        EngineImage.mirror_image_enable, f"error enabling mirroring for image {self._name}", m
    )


@requires_not_closed
def mirror_image_disable(self: Image, force: bool) -> None:
    """Disable mirroring for the image."""
    self._call(
        EngineImage.mirror_image_disable,
        f"error disabling mirroring for image {self._name}",
        bool(force),
    )


@requires_not_closed
def mirror_image_promote(self: Image, force: bool) -> None:
    """Promote the image to primary for mirroring."""
    self._call(
        EngineImage.mirror_image_promote,
        f"error promoting image {self._name} to primary",
        bool(force),
    )


@requires_not_closed
def mirror_image_demote(self: Image) -> None:
    """Demote the image to secondary for mirroring."""
    self._call(EngineImage.mirror_image_demote, f"error demoting image {self._name} to secondary")


@requires_not_closed
def mirror_image_resync(self: Image) -> None:
    """Flag the image to resync."""
    self._call(EngineImage.mirror_image_resync, f"error to resync image {self._name}")


@requires_not_closed
def mirror_image_create_snapshot(self: Image, flags: int = 0) -> int:
    """Create mirror snapshot; returns its id."""
    fl = c_u32(flags)
    return int(
        self._call(
            EngineImage.mirror_image_create_snapshot,
            f"error creating mirror snapshot for image {self._name}",
            fl,
        )
    )


@requires_not_closed
def aio_mirror_image_create_snapshot(
    self: Image, flags: int, oncomplete: Callable[..., Any]
) -> Completion:
    """Asynchronously create a mirror snapshot: `oncomplete(completion, snap_id)`."""
    fl = c_u32(flags)

    def oncomplete_(comp: Completion) -> Any:
        snap_id = comp._buf if comp.get_return_value() >= 0 else None
        return oncomplete(comp, snap_id)

    return _aio_value(self, oncomplete_, EngineImage.mirror_image_create_snapshot, fl)


def _aio_value(
    self: Image, cb: Callable[..., Any], fn: Callable[..., Any], *args: Any
) -> Completion:
    """Launch engine coroutine `fn(<engine Image>, *args)`; the completion's payload is
    its result (rval 0)."""
    img = self._img

    async def op() -> tuple[int, Any]:
        return 0, await fn(img, *args)

    return self._launch(self._get_completion(cb), op())


@requires_not_closed
def mirror_image_get_info(self: Image) -> dict[str, Any]:
    """Get mirror info for the image: global_id, state, primary."""
    info = self._call(
        EngineImage.mirror_image_get_info, f"error getting mirror info for image {self._name}"
    )
    return _mirror_info(info)


@requires_not_closed
def aio_mirror_image_get_info(self: Image, oncomplete: Callable[..., Any]) -> Completion:
    """Asynchronously get mirror info: `oncomplete(completion, info_or_None)`."""

    def oncomplete_(comp: Completion) -> Any:
        info = _mirror_info(comp._buf) if comp.get_return_value() == 0 else None
        return oncomplete(comp, info)

    return _aio_value(self, oncomplete_, EngineImage.mirror_image_get_info)


@requires_not_closed
def mirror_image_get_mode(self: Image) -> int:
    """Get mirror mode for the image."""
    return int(
        self._call(
            EngineImage.mirror_image_get_mode, f"error getting mirror mode for image {self._name}"
        )
    )


@requires_not_closed
def aio_mirror_image_get_mode(self: Image, oncomplete: Callable[..., Any]) -> Completion:
    """Asynchronously get mirror mode: `oncomplete(completion, mode_or_None)`."""

    def oncomplete_(comp: Completion) -> Any:
        mode = int(comp._buf) if comp.get_return_value() >= 0 else None
        return oncomplete(comp, mode)

    return _aio_value(self, oncomplete_, EngineImage.mirror_image_get_mode)


@requires_not_closed
def mirror_image_get_status(self: Image) -> dict[str, Any]:
    """Get mirror status for the image (local status merged, remote_statuses)."""
    st = self._call(
        EngineImage.mirror_image_get_status, f"error getting mirror status for image {self._name}"
    )
    st = dict(st)
    st.setdefault("id", self.id())
    return mirror_status(st)


@requires_not_closed
def mirror_image_get_instance_id(self: Image) -> str:
    """Get mirror instance id for the image."""
    return self._call(  # type: ignore[no-any-return]
        EngineImage.mirror_image_get_instance_id,
        f"error getting mirror instance id for image {self._name}",
    )


# -- encryption -------------------------------------------------------------------
@requires_not_closed
def encryption_format(
    self: Image, format: int, passphrase: Any, cipher_alg: int = RBD_ENCRYPTION_ALGORITHM_AES256
) -> None:
    """Format the image with LUKS1/LUKS2 client-side encryption."""
    bpass = cstr(passphrase, "passphrase")
    fmt = c_int(format)
    alg = c_int(cipher_alg)
    name = _luks_name(fmt)
    self._call(
        EngineImage.encryption_format,
        f"error formatting image {self._name} with format {name}",
        fmt,
        bpass,
        alg,
    )


@requires_not_closed
def encryption_load(self: Image, format: int, passphrase: Any) -> None:
    """Load LUKS1/LUKS2 client-side encryption with a passphrase."""
    bpass = cstr(passphrase, "passphrase")
    fmt = c_int(format)
    name = _luks_name(fmt)
    self._call(
        EngineImage.encryption_load,
        f"error loading encryption on image {self._name} with format {name}",
        fmt,
        bpass,
    )


def _luks_name(fmt: int) -> str:
    if fmt == RBD_ENCRYPTION_FORMAT_LUKS1:
        return "luks1"
    if fmt == RBD_ENCRYPTION_FORMAT_LUKS2:
        return "luks2"
    raise make_ex(errno.EOPNOTSUPP, "Unsupported encryption format")


def _mirror_info(info: dict[str, Any]) -> dict[str, Any]:
    return {
        "global_id": decode_cstr(info["global_id"])
        if isinstance(info["global_id"], bytes)
        else info["global_id"],
        "state": int(info["state"]),
        "primary": bool(info["primary"]),
    }


# upstream's private method, visible under its unmangled name as in the Cython class
