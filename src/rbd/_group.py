"""`rbd.Group`: an RBD group (images and group snapshots), over the engine's `group`.

Upstream: `src/pybind/rbd/rbd.pyx`, class `Group`.  Group calls map errors with the
group errno map (ENOENT -> ObjectNotFound, EEXIST -> ObjectExists).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyceph.rbdlib import group as engine_group
from rbd import _engine as eng
from rbd._errors import group_errno_to_exception
from rbd._iterators import GroupImageIterator, GroupSnapIterator
from rbd._util import c_u32, check_ioctx, cstr, str_of


class Group:
    """This class represents an RBD group. It is used to interact with
    snapshots and images members.
    """

    def __init__(self, ioctx: Any, name: Any) -> None:
        bname = cstr(name, "name")
        self._bname = bname
        self._ioctx = check_ioctx(ioctx)
        self._name = str_of(bname)

    def __enter__(self) -> Group:
        return self

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> bool:
        return False

    def _call(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        msg: str,
        exception_map: dict[int, type] = group_errno_to_exception,
    ) -> Any:
        cio = eng.core_ioctx(self._ioctx)
        return eng.call(
            self._ioctx,
            fn,
            (cio, self._name, *args),
            {},
            msg,
            exception_map,
        )

    def add_image(self, image_ioctx: Any, image_name: Any) -> None:
        """Add an image to a group."""
        bimage = cstr(image_name, "image_name")
        check_ioctx(image_ioctx)
        cimg = eng.core_ioctx(image_ioctx)
        self._call(
            engine_group.group_image_add, (cimg, str_of(bimage)), "error adding image to group"
        )

    def remove_image(self, image_ioctx: Any, image_name: Any) -> None:
        """Remove an image from a group."""
        bimage = cstr(image_name, "image_name")
        check_ioctx(image_ioctx)
        cimg = eng.core_ioctx(image_ioctx)
        self._call(
            engine_group.group_image_remove,
            (cimg, str_of(bimage)),
            "error removing image from group",
        )

    def list_images(self) -> GroupImageIterator:
        """Iterate over the images of a group."""
        return GroupImageIterator(self)

    def create_snap(self, snap_name: Any, flags: int = 0) -> None:
        """Create a snapshot for the group."""
        bsnap = cstr(snap_name, "snap_name")
        fl = c_u32(flags)
        self._call(
            engine_group.group_snap_create, (str_of(bsnap), fl), "error creating group snapshot"
        )

    def remove_snap(self, snap_name: Any) -> None:
        """Remove a snapshot from the group."""
        bsnap = cstr(snap_name, "snap_name")
        self._call(
            engine_group.group_snap_remove, (str_of(bsnap),), "error removing group snapshot"
        )

    def rename_snap(self, old_snap_name: Any, new_snap_name: Any) -> None:
        """Rename group's snapshot."""
        bold = cstr(old_snap_name, "old_snap_name")
        bnew = cstr(new_snap_name, "new_snap_name")
        self._call(
            engine_group.group_snap_rename,
            (str_of(bold), str_of(bnew)),
            "error renaming group snapshot",
        )

    def list_snaps(self) -> GroupSnapIterator:
        """Iterate over the snapshots of a group."""
        return GroupSnapIterator(self)

    def rollback_to_snap(self, name: Any) -> None:
        """Rollback group to snapshot."""
        bsnap = cstr(name, "name")
        self._call(
            engine_group.group_snap_rollback,
            (str_of(bsnap),),
            "error rolling back group to snapshot",
        )
