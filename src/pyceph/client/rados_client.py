"""RadosClient: the async core behind a `rados.Rados` handle.

It loads the entity's key, opens the MonClient session, follows the OSDMap and runs
object ops through the Objecter. The drop-in `rados` module drives it from a loop
thread; command-line tools and daemons may use it directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

from pyceph.client.objecter import SNAP_HEAD, Objecter, Op, OpResult
from pyceph.common.config import CephConfig
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring, decode_secret
from pyceph.common.runtime import Runtime
from pyceph.mon.monclient import MonClient

ENOENT = 2
ENXIO_OSD_DOWN = 6  # upstream answers ENXIO for a command to a down OSD
EINVAL = 22
ETIMEDOUT = 110
EACCES = 13


def load_secret(config: CephConfig) -> bytes:
    """The entity's cephx secret from `key`, `keyfile` or the first keyring that has it."""
    name = config.name
    key = str(config.get("key") or "")
    if key:
        return _decode(key)
    keyfile = str(config.get("keyfile") or "")
    if keyfile:
        try:
            with open(keyfile) as f:
                return _decode(f.read().strip())
        except OSError as e:
            raise CephError(ENOENT, f"unable to read keyfile {keyfile}: {e.strerror}") from None
    for path in config.keyring_paths():
        if not os.path.exists(path):
            continue
        try:
            entry = Keyring.load(path).get_key(name)
        except (OSError, ValueError):
            continue
        if entry:
            return _decode(entry)
    raise CephError(ENOENT, f"unable to find a keyring for {name}")


def _decode(b64: str) -> bytes:
    try:
        return decode_secret(b64)
    except ValueError as e:
        raise CephError(EINVAL, f"bad key: {e}") from None


class RadosClient:
    """One cluster session: monitors, OSDMap, object ops."""

    def __init__(self, runtime: Runtime, config: CephConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.entity = config.name
        self.monc: MonClient | None = None
        self.objecter: Objecter | None = None

    @property
    def fsid(self) -> str:
        assert self.monc is not None
        return self.monc.fsid

    @property
    def instance_id(self) -> int:
        assert self.monc is not None
        return self.monc.global_id

    @property
    def osdmap(self) -> Any:
        assert self.monc is not None
        return self.monc.osdmap

    async def connect(self, timeout: float = 0) -> None:
        """Authenticate and fetch the first OSDMap (ETIMEDOUT past `timeout`)."""
        secret = load_secret(self.config)
        if not timeout:
            timeout = float(self.config.get("client_mount_timeout"))
        nonce = int.from_bytes(self.runtime.rand.randbytes(4), "little")
        self.objecter = None
        self.monc = MonClient(
            self.runtime,
            str(self.config.get("mon_host")),
            self.entity,
            secret,
            on_osdmap=self._on_osdmap,
            on_config=self.config.apply_mon_config,
        )
        self.objecter = Objecter(self.monc, nonce)
        try:
            await self.monc.start(timeout)
            await self.monc.subscribe({"osdmap": 0, "config": 0})
            await self.monc.wait_for_osdmap(1, timeout)
        except BaseException:
            await self.monc.stop()
            raise

    def _on_osdmap(self, osdmap: Any) -> None:
        if self.objecter is not None:
            self.objecter.on_osdmap(osdmap)

    async def shutdown(self) -> None:
        if self.objecter is not None:
            self.objecter.stop()
        if self.monc is not None:
            await self.monc.stop()

    # -- commands -------------------------------------------------------------
    def _op_timeout(self, timeout: float) -> float:
        return timeout or float(self.config.get("rados_mon_op_timeout") or 0)

    async def mon_command(
        self, cmd: str, inbuf: bytes = b"", timeout: float = 0, target: str | int | None = None
    ) -> tuple[int, bytes, str]:
        assert self.monc is not None
        try:
            return await self.monc.command(cmd, inbuf, self._op_timeout(timeout) or None)
        except CephError as e:
            return -e.errno, b"", e.message

    async def mgr_command(
        self, cmd: str, inbuf: bytes = b"", timeout: float = 0, target: str | None = None
    ) -> tuple[int, bytes, str]:
        """Mgr commands go through the monitor, which forwards them to the active mgr."""
        return await self.mon_command(cmd, inbuf, timeout)

    async def osd_command(
        self, osd: int, cmd: str, inbuf: bytes = b"", timeout: float = 0
    ) -> tuple[int, bytes, str]:
        assert self.monc is not None and self.objecter is not None
        info = self.osdmap.osds.get(osd)
        if info is None or not info.exists:
            return -ENOENT, b"", f"osd.{osd} does not exist"
        if not info.up:
            return -ENXIO_OSD_DOWN, b"", f"osd.{osd} is down"
        from pyceph.common.addr import parse_addr

        try:
            conn = await self.monc.msgr.connect(parse_addr(info.public_addr), "osd")
            reply = await conn.call("osd_command", {"cmd": cmd}, inbuf, timeout or None)
        except CephError as e:
            return -e.errno, b"", e.message
        return int(reply.head.get("r", 0)), bytes(reply.data), str(reply.head.get("outs", ""))

    async def wait_for_latest_osdmap(self, timeout: float = 0) -> None:
        assert self.monc is not None
        reply = await self.monc.call("get_version", {"what": "osdmap"}, timeout=timeout or None)
        await self.monc.wait_for_osdmap(int(reply.head.get("epoch", 0)), timeout or None)

    # -- objects --------------------------------------------------------------
    async def op(
        self,
        pool_id: int,
        oid: str,
        ops: list[Op],
        *,
        nspace: str = "",
        key: str = "",
        snapid: int = SNAP_HEAD,
        snapc: tuple[int, list[int]] | None = None,
        flags: int = 0,
        timeout: float = 0,
    ) -> OpResult:
        assert self.objecter is not None
        timeout = timeout or float(self.config.get("rados_osd_op_timeout") or 0)
        return await self.objecter.op(
            pool_id,
            oid,
            ops,
            nspace=nspace,
            key=key,
            snapid=snapid,
            snapc=snapc,
            flags=flags,
            timeout=timeout,
        )

    async def list_objects(
        self, pool_id: int, nspace: str | None = ""
    ) -> AsyncIterator[tuple[str, str, str]]:
        assert self.objecter is not None
        timeout = float(self.config.get("rados_osd_op_timeout") or 0)
        async for entry in self.objecter.list_objects(pool_id, nspace, timeout):
            yield entry

    # -- statistics -----------------------------------------------------------
    async def _df(self) -> dict[str, Any]:
        ret, out, outs = await self.mon_command(json.dumps({"prefix": "df", "format": "json"}))
        if ret < 0:
            raise CephError(-ret, outs)
        return json.loads(out)

    async def get_cluster_stats(self) -> dict[str, int]:
        """{kb, kb_used, kb_avail, num_objects} as librados reports them."""
        df = await self._df()
        st = df["stats"]
        return {
            "kb": st["total_bytes"] // 1024,
            "kb_used": st["total_used_raw_bytes"] // 1024,
            "kb_avail": st["total_avail_bytes"] // 1024,
            "num_objects": sum(p["stats"].get("objects", 0) for p in df.get("pools", [])),
        }

    async def pool_stats(self, pool_id: int) -> dict[str, int]:
        """Upstream's 12 per-pool keys, from the mgr's PG statistics."""
        ret, out, outs = await self.mon_command(
            json.dumps({"prefix": "pg dump", "dumpcontents": ["pools"], "format": "json"})
        )
        stats: dict[str, Any] = {}
        if ret == 0:
            doc = json.loads(out)
            rows = doc.get("pool_stats", doc) if isinstance(doc, dict) else doc
            for row in rows:
                if int(row.get("poolid", -1)) == pool_id:
                    stats = row.get("stat_sum", {})
        nb = int(stats.get("num_bytes", 0))
        return {
            "num_bytes": nb,
            "num_kb": nb // 1024,
            "num_objects": int(stats.get("num_objects", 0)),
            "num_object_clones": int(stats.get("num_object_clones", 0)),
            "num_object_copies": int(stats.get("num_object_copies", 0)),
            "num_objects_missing_on_primary": int(stats.get("num_objects_missing_on_primary", 0)),
            "num_objects_unfound": int(stats.get("num_objects_unfound", 0)),
            "num_objects_degraded": int(stats.get("num_objects_degraded", 0)),
            "num_rd": int(stats.get("num_read", stats.get("num_rd", 0))),
            "num_rd_kb": int(stats.get("num_read_kb", stats.get("num_rd_kb", 0))),
            "num_wr": int(stats.get("num_write", stats.get("num_wr", 0))),
            "num_wr_kb": int(stats.get("num_write_kb", stats.get("num_wr_kb", 0))),
        }
