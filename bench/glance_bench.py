"""Glance add/get of one large image through an RBD store (not a test).

Times what glance-api does with an image upload and download on a Ceph RBD backend,
using whichever `rados`/`rbd` modules the interpreter imports (pyceph's, or Debian's
python3-rados/python3-rbd when their folder is put first on PYTHONPATH), so one script
measures both clusters with the same client code:

* `--mode glance`: OpenStack's own `glance_store` (its `_drivers/rbd.py`, unmodified),
  configured from a glance-api.conf `[glance_store]` section; `add` of SIZE bytes of
  unknown size (0: the driver's resize-on-write path, then its trim, snapshot and
  protect), `get` streamed in chunk-size pieces and checked against the add's checksum,
  then `delete`.
* `--mode rbd`: the same `rbd` calls glance_store makes, written out (create, write in
  chunk-size pieces growing the image by doubling steps, trim, snap create/protect; read
  in chunk-size pieces; unprotect, remove snap, remove) for an interpreter that has no
  glance_store.

    python bench/glance_bench.py CEPH_CONF POOL [--size 100M] [--chunk-mib 8]
        [--reps 3] [--mode glance|rbd] [--user admin]

Prints one JSON line: the modules' origin, and per phase the median seconds and MB/s
over the repetitions. The pool must exist.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import statistics
import sys
import tempfile
import time
import uuid

import rados
import rbd

MiB = 1 << 20
#: glance_store's growth cap for resize-on-write (its `_resize_on_write`): 8 GiB.
MAX_RESIZE_STEP = 8 << 30
SNAP = "snap"  # glance_store's DEFAULT_SNAPNAME
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    """`100M` -> bytes (K/M/G are binary, as `rbd bench --io-total` reads them)."""
    unit = text[-1].upper() if text[-1].isalpha() else ""
    return int(text[: -1 if unit else None]) * _UNITS[unit]


class GlancePath:
    """add/get/delete through glance_store, configured as glance-api configures it."""

    def __init__(self, conf_path: str, pool: str, user: str, chunk_mib: int, tmp: str) -> None:
        import glance_store
        from oslo_config import cfg

        self.gs = glance_store
        api_conf = os.path.join(tmp, "glance-api.conf")
        with open(api_conf, "w") as f:
            f.write(
                "[glance_store]\nstores = rbd\ndefault_store = rbd\n"
                f"rbd_store_pool = {pool}\nrbd_store_user = {user}\n"
                f"rbd_store_ceph_conf = {conf_path}\nrbd_store_chunk_size = {chunk_mib}\n"
            )
        self.conf = cfg.CONF
        glance_store.register_opts(self.conf)
        self.conf(args=[], default_config_files=[api_conf], project="glance")
        if glance_store.create_stores(self.conf) != 1:
            raise RuntimeError("glance_store could not configure its rbd store")
        glance_store.verify_default_store()
        self.chunk = chunk_mib * MiB

    def add(self, name: str, data: bytes) -> str:
        uri, size, checksum, _mh, _md = self.gs.add_to_backend_with_multihash(
            self.conf, name, io.BytesIO(data), 0, "sha256"
        )
        if size != len(data):
            raise RuntimeError(f"glance stored {size} bytes of {len(data)}")
        self.checksum = checksum
        return uri

    def get(self, uri: str) -> int:
        chunks, size = self.gs.get_from_backend(uri)
        md5 = hashlib.md5()
        got = 0
        for c in chunks:
            md5.update(c)
            got += len(c)
        if got != size or md5.hexdigest() != self.checksum:
            raise RuntimeError("glance served other bytes than it stored")
        return got

    def delete(self, uri: str) -> None:
        self.gs.delete_from_backend(uri)


class RbdPath:
    """The `rbd` calls of glance_store's add/get/delete, for interpreters without it."""

    def __init__(self, conf_path: str, pool: str, user: str, chunk_mib: int, tmp: str) -> None:
        self.conf_path, self.pool, self.user = conf_path, pool, user
        self.chunk = chunk_mib * MiB

    def _ioctx(self) -> tuple[rados.Rados, rados.Ioctx]:
        # glance_store connects afresh for every call; so do we
        client = rados.Rados(conffile=self.conf_path, rados_id=self.user)
        client.connect()
        return client, client.open_ioctx(self.pool)

    def add(self, name: str, data: bytes) -> str:
        client, ioctx = self._ioctx()
        try:
            features = int(client.conf_get("rbd_default_features") or rbd.RBD_FEATURE_LAYERING)
            order = int(math.log2(self.chunk))
            rbd.RBD().create(ioctx, name, 0, order, old_format=False, features=features)
            self.md5 = hashlib.md5(data).hexdigest()
            with rbd.Image(ioctx, name) as image:
                size, step, off = 0, self.chunk, 0
                for off in range(0, len(data), self.chunk):
                    piece = data[off : off + self.chunk]
                    if size < off + len(piece):
                        step = min(step * 2, MAX_RESIZE_STEP)
                        size += step
                        image.resize(size)
                    image.write(piece, off)
                image.resize(len(data))
                image.create_snap(SNAP)
                image.protect_snap(SNAP)
        finally:
            ioctx.close()
            client.shutdown()
        return name

    def get(self, name: str) -> int:
        client, ioctx = self._ioctx()
        try:
            md5 = hashlib.md5()
            with rbd.Image(ioctx, name, snapshot=SNAP, read_only=True) as image:
                size = image.size()
                for off in range(0, size, self.chunk):
                    md5.update(image.read(off, min(self.chunk, size - off)))
            if md5.hexdigest() != self.md5:
                raise RuntimeError("rbd served other bytes than were written")
            return size
        finally:
            ioctx.close()
            client.shutdown()

    def delete(self, name: str) -> None:
        client, ioctx = self._ioctx()
        try:
            with rbd.Image(ioctx, name) as image:
                image.unprotect_snap(SNAP)
                image.remove_snap(SNAP)
            rbd.RBD().remove(ioctx, name)
        finally:
            ioctx.close()
            client.shutdown()


def run(args: argparse.Namespace) -> dict[str, object]:
    """Time `reps` rounds of add, get and delete; medians in seconds and MB/s."""
    size = parse_size(args.size)
    data = os.urandom(size)
    kind = GlancePath if args.mode == "glance" else RbdPath
    times: dict[str, list[float]] = {"add": [], "get": [], "delete": []}
    with tempfile.TemporaryDirectory(prefix="glance-bench-") as tmp:
        path = kind(args.conf, args.pool, args.user, args.chunk_mib, tmp)
        for _ in range(args.reps):
            t0 = time.perf_counter()
            loc = path.add(str(uuid.uuid4()), data)
            t1 = time.perf_counter()
            path.get(loc)
            t2 = time.perf_counter()
            path.delete(loc)
            t3 = time.perf_counter()
            for phase, secs in (("add", t1 - t0), ("get", t2 - t1), ("delete", t3 - t2)):
                times[phase].append(secs)
    out: dict[str, object] = {
        "mode": args.mode,
        "rados": getattr(rados, "__file__", None),
        "rbd": getattr(rbd, "__file__", None),
        "bytes": size,
        "reps": args.reps,
    }
    for phase, ts in times.items():
        med = statistics.median(ts)
        out[phase] = {"seconds": round(med, 3), "MBps": round(size / med / 1e6, 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("conf", help="ceph.conf of the cluster")
    ap.add_argument("pool", help="an existing pool for the images")
    ap.add_argument("--size", default="100M")
    ap.add_argument("--chunk-mib", type=int, default=8, help="rbd_store_chunk_size")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--mode", choices=["glance", "rbd"], default="glance")
    ap.add_argument("--user", default="admin", help="rbd_store_user")
    print(json.dumps(run(ap.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
