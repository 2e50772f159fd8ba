"""`qemu-img bench` over NBD: 4 KiB reads and writes, 16 in flight, in IOPS (not a test).

What: Debian's `qemu-img bench` (qemu-utils) drives pyceph's NBD server with 4 KiB
requests at queue depth 16, writes then reads, against

* an in-memory device (`pyceph.nbd.memdevice`) served from this process — the cost of
  the protocol and server alone; and, with `--conf`,
* an RBD image on a running cluster, mapped with `pyceph.nbd.mapper.map_image` (the
  background `rbd-nbd` process `rbd device map` starts) — the whole path.

`qemu-img bench` steps through the image by `--step` bytes per request (wrapping at
the end); the default, a prime number of 4 KiB blocks, scatters consecutive requests
over objects like a random workload. Compare the rbd figures with `rbd bench
--io-size 4K --io-threads 16 --io-pattern rand` on the reference cluster
(`bench/rbd_bench_compare.py`).

Usage::

    python bench/nbd_bench.py [--count 100000] [--uvloop]
        [--conf CEPH_CONF --pool rbd [--image-size 1G]] [--json] [--no-memory]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
import uuid

from pyceph.nbd.memdevice import MemDevice
from pyceph.nbd.server import NbdServer

#: Requests in flight (qemu-img bench -d).
QUEUE_DEPTH = 16
#: Bytes per request.
IO_SIZE = 4096
#: Offset step between requests: 7919 (a prime) blocks of 4 KiB.
DEFAULT_STEP = 7919 * IO_SIZE
MEM_DEVICE_SIZE = 1 << 30


def qemu_img_bench(url: str, count: int, write: bool, step: int) -> float:
    """IOPS of one `qemu-img bench` run against `url`."""
    cmd = ["qemu-img", "bench", "-f", "raw", "-t", "none", "-n", "-c", str(count),
           "-d", str(QUEUE_DEPTH), "-s", str(IO_SIZE), "-S", str(step)]  # fmt: skip
    if write:
        cmd.append("-w")
    t0 = time.perf_counter()
    r = subprocess.run([*cmd, url], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"qemu-img bench failed: {r.stderr.strip()}")
    m = re.search(r"Run completed in ([0-9.]+) seconds", r.stdout)
    return count / (float(m.group(1)) if m else elapsed)


async def _bench_memory(count: int, step: int) -> dict[str, float]:
    async with NbdServer({"mem": MemDevice(MEM_DEVICE_SIZE)}) as server:
        _, port = await server.listen_tcp()
        url = f"nbd://127.0.0.1:{port}/mem"
        # fill the device first: the first touch of each chunk allocates it
        await asyncio.to_thread(qemu_img_bench, url, count, True, step)
        out = {}
        for name, write in (("write", True), ("read", False)):
            out[name] = await asyncio.to_thread(qemu_img_bench, url, count, write, step)
        return out


def bench_memory(count: int, step: int, use_uvloop: bool) -> dict[str, float]:
    if use_uvloop:
        import uvloop

        return uvloop.run(_bench_memory(count, step))
    return asyncio.run(_bench_memory(count, step))


def bench_rbd(conf: str, pool: str, size: int, count: int, step: int) -> dict[str, float]:
    import rados
    import rbd
    from pyceph.nbd import mapper

    name = f"nbd-bench-{uuid.uuid4().hex[:8]}"
    with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, name, size)
        try:
            mapped = mapper.map_image(conf, pool, "", name)
            try:
                return {
                    kind: qemu_img_bench(mapped.device, count, kind == "write", step)
                    for kind in ("write", "read")
                }
            finally:
                mapper.unmap(str(mapped.id))
        finally:
            rbd.RBD().remove(ioctx, name)


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1:].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=100_000, help="requests per run")
    ap.add_argument("--step", type=int, default=DEFAULT_STEP, help="bytes between requests")
    ap.add_argument("--uvloop", action="store_true", help="serve the memory device on uvloop")
    ap.add_argument("--conf", help="ceph.conf of a running cluster: also bench an rbd image")
    ap.add_argument("--pool", default="rbd", help="pool for the rbd image")
    ap.add_argument("--image-size", default="1G", help="size of the rbd image")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--no-memory", action="store_true", help="skip the in-memory device")
    a = ap.parse_args(argv)
    if not shutil.which("qemu-img"):
        print("qemu-img not found: bash scripts/install_test_deps.sh", file=sys.stderr)
        return 1
    results = {} if a.no_memory else {"memory": bench_memory(a.count, a.step, a.uvloop)}
    if a.conf:
        results["rbd"] = bench_rbd(a.conf, a.pool, _size(a.image_size), a.count, a.step)
    if a.json:
        print(json.dumps(results))
        return 0
    print(f"qemu-img bench over NBD, {IO_SIZE // 1024} KiB, {QUEUE_DEPTH} in flight (IOPS)")
    print(f"{'device':10s} {'write':>10s} {'read':>10s}")
    for device, figures in results.items():
        print(f"{device:10s} {figures['write']:10.0f} {figures['read']:10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
