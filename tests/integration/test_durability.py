"""No acknowledged write is lost and none is applied twice, across kill -9 of any daemon."""

from __future__ import annotations

import json
import threading
import time

import rados
from pyceph.cli.localcluster import LocalCluster

#: Bound on how long the cluster may take to heal after a restart.
HEAL_TIMEOUT = 90.0
#: Pause between polls of a condition.
POLL = 0.1


def _connect(cluster: LocalCluster) -> rados.Rados:
    r = rados.Rados(conffile=cluster.conf_path)
    r.connect(timeout=30)
    return r


def _osd_map(r: rados.Rados, pool: str, obj: str) -> dict:
    cmd = {"prefix": "osd map", "pool": pool, "object": obj, "format": "json"}
    ret, out, outs = r.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs
    return json.loads(out)


def _wait_clean(r: rados.Rados, timeout: float = HEAL_TIMEOUT) -> None:
    """Until every PG is active+clean (bounded)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ret, out, _ = r.mon_command(json.dumps({"prefix": "status", "format": "json"}), b"")
        if ret == 0:
            st = json.loads(out)
            last = st["pgmap"]
            om = st["osdmap"]
            states = {s["state_name"]: s["count"] for s in last["pgs_by_state"]}
            if (
                om["num_up_osds"] == om["num_osds"]
                and states.get("active+clean") == last["num_pgs"]
            ):
                return
        time.sleep(POLL)
    raise AssertionError(f"cluster not clean after {timeout}s: {last}")


def _progress(writer: Writer, records: int, timeout: float = HEAL_TIMEOUT) -> None:
    """Until the writer has had `records` more appends acknowledged (bounded)."""
    target = writer.count() + records
    deadline = time.monotonic() + timeout
    while writer.count() < target:
        assert writer.error is None, writer.error
        assert time.monotonic() < deadline, "writes made no progress"
        time.sleep(POLL)


class Writer(threading.Thread):
    """Appends numbered records to a few objects until stopped; remembers what was acked."""

    def __init__(self, ioctx: rados.Ioctx, names: list[str]) -> None:
        super().__init__(daemon=True)
        self.ioctx = ioctx
        self.names = names
        self.acked: dict[str, list[bytes]] = {n: [] for n in names}
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def count(self) -> int:
        return sum(len(v) for v in self.acked.values())

    def run(self) -> None:
        i = 0
        try:
            while not self.stop.is_set():
                name = self.names[i % len(self.names)]
                rec = b"<%08d>" % i
                self.ioctx.append(name, rec)
                self.acked[name].append(rec)
                i += 1
        except BaseException as e:  # surfaced by the test
            self.error = e


def _check(ioctx: rados.Ioctx, writer: Writer, fulls: dict[str, bytes]) -> None:
    for name, recs in writer.acked.items():
        data = ioctx.read(name, length=1 << 24)
        assert data == b"".join(recs), f"{name}: appends lost or doubled"
    for name, body in fulls.items():
        assert ioctx.read(name, length=1 << 24) == body


def test_kill_osds_mon_and_mgr_loses_nothing(own_cluster: LocalCluster):
    r = _connect(own_cluster)
    try:
        r.create_pool("durable")
        ioctx = r.open_ioctx("durable")
        fulls = {f"full-{i}": bytes([i]) * (4096 * (i + 1)) for i in range(20)}
        for name, body in fulls.items():
            ioctx.write_full(name, body)
        names = [f"log-{i}" for i in range(4)]
        m = _osd_map(r, "durable", names[0])
        primary = m["acting_primary"]
        replica = next(o for o in m["acting"] if o != primary)

        writer = Writer(ioctx, names)
        writer.start()
        _progress(writer, 20)
        own_cluster.kill(f"osd.{replica}")  # a replica dies with writes in flight
        _progress(writer, 20)
        own_cluster.start([f"osd.{replica}"])
        _progress(writer, 20)
        own_cluster.kill(f"osd.{primary}")  # then the primary
        _progress(writer, 20)
        own_cluster.start([f"osd.{primary}"])
        _progress(writer, 20)
        writer.stop.set()
        writer.join(HEAL_TIMEOUT)
        assert not writer.is_alive(), "a write never completed"
        assert writer.error is None, writer.error
        assert sum(len(v) for v in writer.acked.values()) > 10
        _wait_clean(r)
        _check(ioctx, writer, fulls)

        for daemon in ("mon.a", "mgr.x"):
            own_cluster.kill(daemon)
            own_cluster.start([daemon])
            _wait_clean(r)
            _check(ioctx, writer, fulls)
        ioctx.close()
    finally:
        r.shutdown()


def test_objects_live_on_exactly_the_acting_set(own_cluster: LocalCluster):
    """With size 3, each object is stored on the three OSDs CRUSH names (checked in their stores)."""
    from pyceph.store.lmdbstore import LmdbStore

    r = _connect(own_cluster)
    try:
        r.create_pool("placed")
        ioctx = r.open_ioctx("placed")
        names = [f"obj-{i}" for i in range(12)]
        for n in names:
            ioctx.write_full(n, n.encode() * 100)
        where = {n: sorted(_osd_map(r, "placed", n)["acting"]) for n in names}
        own_cluster.kill("osd.0")  # reads still succeed with one OSD down
        for n in names:
            assert ioctx.read(n, length=10000) == n.encode() * 100
        ioctx.close()
    finally:
        r.shutdown()
    own_cluster.stop()
    for osd in range(3):
        store = LmdbStore(f"{own_cluster.path}/osd.{osd}/store", 1 << 30)
        store.mount()
        try:
            held = set()
            for cid in store.list_collections():
                if not cid.endswith("_head"):
                    continue
                for key in store.iter_objects(cid):
                    if key.name in where:
                        held.add(key.name)
        finally:
            store.umount()
        expected = {n for n, osds in where.items() if osd in osds}
        assert held == expected, f"osd.{osd} holds {sorted(held)}, CRUSH says {sorted(expected)}"
