"""`rbd device map|unmap|list` for NBD: background server processes and their state files.

Like upstream's `rbd-nbd` (`src/tools/rbd_nbd/rbd-nbd.cc`), mapping starts a process
that serves one image (or snapshot) and keeps running after the command returns. As
the kernel `nbd` module is not used, the "device" is the NBD address a client connects
to: `nbd://127.0.0.1:PORT/NAME` or `nbd+unix:///NAME?socket=PATH`.

Each server process writes a JSON state file `<runtime dir>/rbd-nbd.<pid>.json` once it
is serving and removes it when it stops; `list_mapped` reads them (dropping those of
processes that died), `unmap` sends SIGTERM — the server answers the requests in
flight, flushes, closes the image — and waits for the process to end.

`map_image` reports readiness through a pipe: the child writes one JSON line (its
state, or the errno and message of its failure) and the caller returns that.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from pyceph.common.errors import CephError

#: How long `map_image` waits for the server process to be serving.
MAP_TIMEOUT = 60.0
#: How long `unmap` waits for the server process to flush and exit.
UNMAP_TIMEOUT = 60.0
#: How often a wait on a process that is not our child checks whether it is gone.
EXIT_POLL_INTERVAL = 0.05
#: Environment variable naming the runtime directory (state and log files).
RUN_DIR_ENV = "PYCEPH_NBD_RUN_DIR"
#: The pool an image spec without one names (upstream's default).
DEFAULT_POOL = "rbd"
STATE_PREFIX = "rbd-nbd."
STATE_SUFFIX = ".json"

#: Server processes this process started, so their exit status can be collected.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class MappedDevice:
    """One mapping: what `rbd device list` shows (`id` is the server's pid)."""

    id: int
    pool: str
    namespace: str
    image: str
    snap: str | None
    device: str
    read_only: bool = False

    def to_json(self) -> dict[str, Any]:
        """upstream's `rbd device list --format json` keys ("-" for no snapshot)."""
        return {
            "id": self.id,
            "pool": self.pool,
            "namespace": self.namespace,
            "image": self.image,
            "snap": self.snap or "-",
            "device": self.device,
        }

    def spec(self) -> str:
        """`pool/[namespace/]image[@snap]`."""
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.pool}/{ns}{self.image}" + (f"@{self.snap}" if self.snap else "")


def runtime_dir(path: str | None = None) -> str:
    """The directory of state files: `path`, `$PYCEPH_NBD_RUN_DIR`, `$XDG_RUNTIME_DIR/
    pyceph-nbd`, or `/tmp/pyceph-nbd-<uid>` (created, private)."""
    if not path:
        path = os.environ.get(RUN_DIR_ENV)
    if not path:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        path = os.path.join(xdg, "pyceph-nbd") if xdg else f"/tmp/pyceph-nbd-{os.getuid()}"
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def state_path(run_dir: str, pid: int) -> str:
    return os.path.join(run_dir, f"{STATE_PREFIX}{pid}{STATE_SUFFIX}")


def write_state(run_dir: str, mapped: MappedDevice) -> str:
    """Write a server's state file atomically; returns its path."""
    path = state_path(run_dir, mapped.id)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(asdict(mapped), f)
    os.replace(tmp, path)
    return path


def _alive(pid: int) -> bool:
    """True while process `pid` runs (our own exited children are reaped here)."""
    proc = _children.get(pid)
    if proc is not None:
        if proc.poll() is None:
            return True
        del _children[pid]
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def list_mapped(run_dir: str | None = None) -> list[MappedDevice]:
    """Every running mapping, oldest first; state files of dead processes are removed."""
    run_dir = runtime_dir(run_dir)
    found: list[MappedDevice] = []
    for name in sorted(os.listdir(run_dir)):
        if not (name.startswith(STATE_PREFIX) and name.endswith(STATE_SUFFIX)):
            continue
        path = os.path.join(run_dir, name)
        try:
            with open(path) as f:
                mapped = MappedDevice(**json.load(f))
        except (OSError, ValueError, TypeError):
            continue
        if not _alive(mapped.id):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            continue
        found.append(mapped)
    return sorted(found, key=lambda m: m.id)


def parse_spec(spec: str) -> tuple[str, str, str, str | None]:
    """`[pool/[namespace/]]image[@snap]` -> (pool, namespace, image, snap)."""
    image, _, snap = spec.partition("@")
    parts = image.split("/")
    if len(parts) == 1:
        pool, namespace, name = DEFAULT_POOL, "", parts[0]
    elif len(parts) == 2:
        pool, namespace, name = parts[0], "", parts[1]
    elif len(parts) == 3:
        pool, namespace, name = parts
    else:
        raise CephError(errno.EINVAL, f"invalid image spec '{spec}'")
    if not name:
        raise CephError(errno.EINVAL, "image name was not specified")
    return pool or DEFAULT_POOL, namespace, name, snap or None


def find_mapped(spec: str, run_dir: str | None = None) -> MappedDevice:
    """The mapping a device address, an id (pid) or an image/snap spec names (ENOENT)."""
    mapped = list_mapped(run_dir)
    for m in mapped:
        if spec in (m.device, str(m.id)):
            return m
    if "://" not in spec:
        pool, namespace, image, snap = parse_spec(spec)
        for m in mapped:
            if (m.pool, m.namespace, m.image, m.snap) == (pool, namespace, image, snap):
                return m
    raise CephError(errno.ENOENT, f"{spec} is not mapped")


def _server_command() -> list[str]:
    return [sys.executable, "-m", "pyceph.nbd.rbd_nbd"]


def map_image(
    conf: str | None,
    pool: str,
    namespace: str,
    image: str,
    snap: str | None = None,
    read_only: bool = False,
    *,
    bind: str | None = None,
    socket_path: str | None = None,
    exclusive: bool = False,
    client_name: str | None = None,
    run_dir: str | None = None,
    timeout: float = MAP_TIMEOUT,
) -> MappedDevice:
    """Start a background server for `pool/namespace/image[@snap]` and return its mapping
    once it serves. `bind` is `HOST:PORT` (default `127.0.0.1:0`, a free port) unless
    `socket_path` asks for a Unix socket. Failures raise `CephError` with the server's
    errno and message (ENOENT for a missing pool/image/snapshot, ...)."""
    run_dir = runtime_dir(run_dir)
    spec = f"{pool}/{namespace + '/' if namespace else ''}{image}" + (f"@{snap}" if snap else "")
    args = [*_server_command(), "map", spec, "--foreground"]
    if conf:
        args += ["--conf", conf]
    if client_name:
        args += ["--name", client_name]
    if read_only:
        args.append("--read-only")
    if exclusive:
        args.append("--exclusive")
    if socket_path:
        args += ["--socket", socket_path]
    elif bind:
        args += ["--bind", bind]
    args += ["--run-dir", run_dir]
    read_fd, write_fd = os.pipe()
    try:
        args += ["--ready-fd", str(write_fd)]
        with open(os.path.join(run_dir, "rbd-nbd.log"), "ab") as log:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        os.close(write_fd)
    _children[proc.pid] = proc
    try:
        line = _read_ready(read_fd, timeout)
    finally:
        os.close(read_fd)
    if not line:
        _stop(proc.pid, timeout)
        if line is None:
            raise CephError(errno.ETIMEDOUT, f"rbd-nbd did not start serving in {timeout:g}s")
        raise CephError(
            errno.EIO,
            f"rbd-nbd failed to start (exit status {proc.returncode}); see {run_dir}/rbd-nbd.log",
        )
    reply = json.loads(line)
    if not reply.get("ok"):
        _stop(proc.pid, timeout)
        raise CephError(int(reply.get("errno") or errno.EIO), str(reply.get("error", "")))
    return MappedDevice(**reply["device"])


def _read_ready(fd: int, timeout: float) -> bytes | None:
    """The child's one line; b"" when it exits first, None when the timeout passes."""
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b""
        buf += chunk
    return buf.split(b"\n", 1)[0]


def _wait_exit(pid: int, timeout: float) -> bool:
    """Wait for `pid` to end; False on timeout."""
    proc = _children.get(pid)
    if proc is not None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        _children.pop(pid, None)
        return True
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:
        pidfd = -1
    deadline = time.monotonic() + timeout
    try:
        while _alive(pid):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if pidfd >= 0:
                select.select([pidfd], [], [], min(left, EXIT_POLL_INTERVAL * 20))
            else:
                time.sleep(min(left, EXIT_POLL_INTERVAL))
        return True
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def _stop(pid: int, timeout: float) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    return _wait_exit(pid, timeout)


def unmap(spec: str, run_dir: str | None = None, timeout: float = UNMAP_TIMEOUT) -> MappedDevice:
    """Stop the server of a mapping (by device address, id or image spec): it answers
    the requests in flight, flushes the image and exits. ENOENT when not mapped,
    ETIMEDOUT when it does not exit in time."""
    run_dir = runtime_dir(run_dir)
    mapped = find_mapped(spec, run_dir)
    if not _stop(mapped.id, timeout):
        raise CephError(errno.ETIMEDOUT, f"rbd-nbd {mapped.id} did not exit in {timeout:g}s")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(state_path(run_dir, mapped.id))
    return mapped
