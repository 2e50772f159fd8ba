"""What every `rbd` action needs at run time: the connection, pools, images and errors.

Mirrors upstream's utils::init / init_io_ctx / set_namespace / open_image
(src/tools/rbd/Utils.cc) over the public `rados` and `rbd` Python modules, with
their messages (``rbd: error opening pool 'x': (2) No such file or directory``,
``rbd: error opening image foo: ...``). Failures raise `CliError` carrying the
errno, which `rbd_main` turns into the exit status as upstream's
``return std::abs(r)`` does.
"""

from __future__ import annotations

import contextlib
import errno
import os
from typing import IO, Any

from pyceph.cli.rbd_args import (
    MOD_NONE,
    SNAP_NONE,
    SPEC_NONE,
    Args,
    CliError,
    Spec,
    get_names,
)

__all__ = ["Ctx", "cpp_strerror", "errno_of"]

_ERRNO_BY_CLASS = {
    "ImageNotFound": errno.ENOENT,
    "ObjectNotFound": errno.ENOENT,
    "ImageExists": errno.EEXIST,
    "ObjectExists": errno.EEXIST,
    "ImageBusy": errno.EBUSY,
    "ObjectBusy": errno.EBUSY,
    "ImageHasSnapshots": errno.ENOTEMPTY,
    "InvalidArgument": errno.EINVAL,
    "InvalidArgumentError": errno.EINVAL,
    "ReadOnlyImage": errno.EROFS,
    "PermissionError": errno.EPERM,
    "NoSpace": errno.ENOSPC,
    "Timeout": errno.ETIMEDOUT,
    "TimedOut": errno.ETIMEDOUT,
    "OperationNotSupported": errno.EOPNOTSUPP,
    "FunctionNotSupported": errno.ENOSYS,
    "ArgumentOutOfRange": errno.EDOM,
    "OperationCanceled": errno.ECANCELED,
    "DiskQuotaExceeded": errno.EDQUOT,
    "ConnectionShutdown": errno.ESHUTDOWN,
    "IOError": errno.EIO,
}


def errno_of(exc: BaseException) -> int:
    """The positive errno an exception of the rados/rbd modules stands for."""
    e = getattr(exc, "errno", None)
    if isinstance(e, int) and e:
        return abs(e)
    for klass in type(exc).__mro__:
        if klass.__name__ in _ERRNO_BY_CLASS:
            return _ERRNO_BY_CLASS[klass.__name__]
    return errno.EIO


def cpp_strerror(err: int) -> str:
    """``(2) No such file or directory``."""
    n = abs(err)
    return f"({n}) {os.strerror(n)}"


class Ctx:
    """One command's run: arguments, streams, and the lazily opened cluster."""

    def __init__(
        self, args: Args, out: IO[str], err: IO[str], inp: Any, modules: tuple[Any, Any] | None
    ) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.inp = inp
        self._modules = modules
        self.cluster: Any = None
        self.stack = contextlib.ExitStack()

    # modules ------------------------------------------------------------------
    @property
    def rados(self) -> Any:
        if self._modules is None:
            import rados
            import rbd

            self._modules = (rados, rbd)
        return self._modules[0]

    @property
    def rbd(self) -> Any:
        _ = self.rados
        assert self._modules is not None
        return self._modules[1]

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        """The exception bases to catch from the modules."""
        return (self.rados.Error, self.rbd.Error)

    def say(self, text: str) -> None:
        self.err.write(text + "\n")

    def fail(self, message: str | None, exc_or_errno: BaseException | int) -> CliError:
        """A CliError with `message` and the exception's errno as exit code."""
        e = exc_or_errno if isinstance(exc_or_errno, int) else errno_of(exc_or_errno)
        return CliError(message, abs(e))

    def failed(self, what: str, exc: BaseException) -> CliError:
        """Upstream's `rbd: WHAT: (N) strerror` for an error of a librbd call."""
        return self.fail(f"rbd: {what}: {cpp_strerror(errno_of(exc))}", exc)

    # connection -------------------------------------------------------------
    def connect(self) -> Any:
        """utils::init_rados."""
        if self.cluster is not None:
            return self.cluster
        g = self.args.globals
        kwargs: dict[str, Any] = {"conffile": g.get("conf", "")}
        if "name" in g:
            kwargs["name"] = g["name"]
        elif "id" in g:
            kwargs["rados_id"] = g["id"]
        if "cluster" in g:
            kwargs["clustername"] = g["cluster"]
        conf = dict(self.args.conf)
        for key in ("keyring", "keyfile", "mon_host"):
            if key in g:
                conf[key] = g[key]
        conf.setdefault("rbd_cache_writethrough_until_flush", "false")
        if conf:
            kwargs["conf"] = conf
        try:
            cluster = self.rados.Rados(**kwargs)
        except self.rados.Error as e:
            if "conf" in g or errno_of(e) != errno.ENOENT:
                raise self.fail("rbd: couldn't initialize rados!", e)
            # no ceph.conf on the search list: go on with defaults and the command line,
            # as global_init does ("did not load config file, using default settings")
            kwargs["conffile"] = None
            try:
                cluster = self.rados.Rados(**kwargs)
            except self.rados.Error as e2:
                raise self.fail("rbd: couldn't initialize rados!", e2)
        try:
            cluster.connect()
        except self.rados.Error as e:
            raise self.fail("rbd: couldn't connect to the cluster!", e)
        self.cluster = cluster
        self.stack.callback(cluster.shutdown)
        return cluster

    def conf_get(self, key: str, default: str = "") -> str:
        try:
            value = self.connect().conf_get(key)
        except self.errors:
            return default
        return default if value is None else str(value)

    def default_pool(self) -> str:
        return self.conf_get("rbd_default_pool", "rbd")

    def open_ioctx(self, pool: str, namespace: str = "") -> Any:
        """utils::init_io_ctx + set_namespace."""
        cluster = self.connect()
        if not pool:
            pool = self.default_pool()
        try:
            ioctx = cluster.open_ioctx(pool)
        except self.rados.Error as e:
            n = errno_of(e)
            if n == errno.ENOENT and pool == self.default_pool():
                raise self.fail(
                    f"rbd: error opening default pool '{pool}'\n"
                    "Ensure that the default pool has been created or specify an alternate "
                    "pool name.",
                    n,
                )
            raise self.fail(f"rbd: error opening pool '{pool}': {cpp_strerror(n)}", n)
        self.stack.callback(ioctx.close)
        if namespace:
            try:
                exists = self.rbd.RBD().namespace_exists(ioctx, namespace)
            except self.errors as e:
                raise self.failed("error asserting namespace", e)
            if not exists:
                raise self.fail(f"rbd: namespace '{namespace}' does not exist.", errno.ENOENT)
            ioctx.set_namespace(namespace)
        return ioctx

    def open_image(
        self,
        ioctx: Any,
        name: str = "",
        read_only: bool = False,
        image_id: str = "",
        snap: str = "",
    ) -> Any:
        """utils::open_image / open_image_by_id, then snap_set."""
        try:
            if image_id:
                image = self.rbd.Image(ioctx, image_id=image_id, read_only=read_only)
            else:
                image = self.rbd.Image(ioctx, name, read_only=read_only)
        except self.errors as e:
            n = errno_of(e)
            if image_id:
                msg = f"rbd: error opening image with id {image_id}: {cpp_strerror(n)}"
            else:
                msg = f"rbd: error opening image {name}: {cpp_strerror(n)}"
            raise self.fail(msg, n)
        self.stack.callback(_close_quietly, image)
        if snap:
            try:
                image.set_snap(snap)
            except self.errors as e:
                n = errno_of(e)
                raise self.fail(f"error setting snapshot context: {cpp_strerror(n)}", n)
        return image

    def image_spec(
        self,
        snap: int = SNAP_NONE,
        validation: int = SPEC_NONE,
        mod: int = MOD_NONE,
        by_id: bool = False,
    ) -> Spec:
        """The image spec of the command; with `by_id`, ``--image-id`` may stand for it."""
        if by_id and self.args.has("image-id"):
            if self.args.peek_positional() and not self.args.has("image"):
                raise CliError("rbd: trying to access image using both name and id. ")
            spec = Spec(
                pool=self.args.get("pool", ""),
                namespace=self.args.get("namespace", ""),
                snap=self.args.get("snap", ""),
            )
            return spec
        return get_names(self.args, mod, snap, validation)

    def open_spec(self, spec: Spec, read_only: bool, snap: bool = True) -> tuple[Any, Any]:
        """init_and_open_image for `spec` (or ``--image-id``): (ioctx, image)."""
        ioctx = self.open_ioctx(spec.pool, spec.namespace)
        image = self.open_image(
            ioctx,
            spec.image,
            read_only,
            image_id=self.args.get("image-id", "") if not spec.image else "",
            snap=spec.snap if snap else "",
        )
        return ioctx, image

    def bin_out(self) -> Any:
        """The binary stream behind stdout."""
        return getattr(self.out, "buffer", self.out)

    def bin_in(self) -> Any:
        """The binary stream behind stdin."""
        return getattr(self.inp, "buffer", self.inp)

    def close(self) -> None:
        self.stack.close()


def _close_quietly(image: Any) -> None:
    with contextlib.suppress(Exception):
        image.close()
