"""Incremental OSDMaps in a whole simulated cluster (issue 9 item 4).

- map traffic while epochs pile up (pool changes, OSDs marked down and rebooting) is
  measured on the simulated wire and bounded per epoch against the full map's size;
- a subscriber that falls behind gets incrementals, `osd_map_message_max` at a time,
  and one that falls further behind than the monitor keeps gets a full map;
- an incremental that does not rebuild the committed map (a corrupted store entry) is
  caught by its crc, the subscriber fetches a full map and the cluster keeps working;
- the monitor trims no epoch an OSD that is away may still need (its PGs are not clean
  and it reported no later epoch: pyceph.mon.lec), so on return it walks every one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import msgpack
import pytest

from pyceph.msg.frame import FrameDecoder, FrameError
from pyceph.msg.message import TYPE_CODES
from pyceph.osdmap import incremental as I
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()
OSD_MAP = TYPE_CODES["osd_map"]
#: Epochs the traffic test makes (pool sets, plus OSDs marked down that boot again).
EPOCHS = 200
#: An incremental delivery may cost at most this fraction of a full map, on average.
MAX_INC_FRACTION = 0.1
#: The tests read map frames off the wire: monitor sessions in clear (crc) mode.
CLEAR_MON = {f"ms_mon_{k}_mode": "crc" for k in ("cluster", "service", "client")}


@dataclass
class MapTap:
    """A network tap summing `osd_map` frames: bytes and maps by kind, per receiver."""

    bytes: int = 0
    frames: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    by_dst: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _decoders: dict[tuple[int, str], FrameDecoder | None] = field(default_factory=dict)

    def __call__(self, event, t, src, dst, cid, data) -> None:
        if event != "data":
            return
        key = (cid, src)
        if key not in self._decoders:
            self._decoders[key] = FrameDecoder()
        dec = self._decoders[key]
        if dec is None:
            return
        try:
            frames = dec.feed(data)
        except FrameError:
            self._decoders[key] = None
            return
        for f in frames:
            if f.type != OSD_MAP:
                continue
            self.frames += 1
            self.bytes += len(f.head) + len(f.data)
            head = msgpack.unpackb(f.head, raw=False, strict_map_key=False)
            for epoch, kind, _n in head["maps"]:
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
                self.by_dst.setdefault(dst, []).append((epoch, kind))

    def reset(self) -> None:
        self.bytes = self.frames = 0
        self.kinds.clear()
        self.by_dst.clear()


async def _pool(c: SimCluster, rc, name: str = "p", pg_num: int = 8) -> int:
    await c.command(rc, "osd pool create", pool=name, pg_num=pg_num)
    await rc.wait_for_latest_osdmap()
    return rc.osdmap.lookup_pool(name)


async def _caught_up(c: SimCluster, rc, what: str) -> None:
    await c.wait_until(
        lambda: rc.osdmap is not None and rc.osdmap.epoch == c.osdmap().epoch, what=what
    )
    assert rc.osdmap.encode() == c.osdmap().encode(), f"seed {c.seed}: {what}: maps differ"


async def _settle(c: SimCluster, quiet: float = 5.0) -> None:
    """Until no new epoch has been committed for `quiet` virtual seconds (peering done)."""
    seen = [c.osdmap().epoch, c.loop.time()]

    def quiet_enough() -> bool:
        e = c.osdmap().epoch
        if e != seen[0]:
            seen[:] = [e, c.loop.time()]
        return c.loop.time() - seen[1] >= quiet

    await c.wait_until(quiet_enough, what="no new epochs")


async def _settled_with_pool(c: SimCluster) -> tuple[object, int]:
    """Start the cluster, make pool "p" and wait until peering is done: (admin, pool)."""
    await c.start()
    await c.wait_osds_up()
    admin = await c.client()
    pool = await _pool(c, admin)
    await _settle(c)
    return admin, pool


async def _beacons_caught_up(c: SimCluster) -> None:
    """Until every up OSD's beacon reported the current epoch (trimming may follow it)."""
    lec = c.mon.state.lec

    def caught_up() -> bool:
        m = c.osdmap()
        up = [i for i in m.existing_osds() if m.is_up(i)]
        return all(lec.osd_epochs.get(i, 0) >= m.epoch for i in up)

    await c.wait_until(caught_up, what="beacons of the current epoch")


async def _io_works(c: SimCluster, rc, pool: int, tag: str) -> None:
    r = await rc.op(pool, f"obj-{tag}", [("write_full", {}, tag.encode() * 10)])
    assert r.r == 0, f"seed {c.seed}: write after {tag}: {r.r}"
    r = await rc.op(pool, f"obj-{tag}", [("read", {"offset": 0, "length": 0}, b"")])
    assert r.r == 0 and bytes(r.outs[0].data) == tag.encode() * 10


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_map_traffic_stays_small_as_epochs_pile_up(seed: int) -> None:
    with SimCluster(seed, options=CLEAR_MON) as c:
        tap = MapTap()
        c.net.taps.append(tap)
        figures: dict[str, float] = {}

        async def main() -> None:
            await c.start()
            await c.wait_osds_up()
            rc = await c.client()
            pool = await _pool(c, rc)
            await _caught_up(c, rc, "start")
            tap.reset()
            first = c.osdmap().epoch
            full_sizes: list[int] = []
            n = 0
            while c.osdmap().epoch - first < EPOCHS:
                n += 1
                if n % 25 == 0:  # an OSD marked down: it boots again (down, boot, alive)
                    osd = n // 25 % 3
                    await c.command(rc, "osd down", ids=[str(osd)])
                    await c.wait_osds_up()
                else:
                    await c.command(rc, "osd pool set", pool="p", var="min_size",
                                    val=str(1 + n % 2))  # fmt: skip
                full_sizes.append(len(c.osdmap().encode()))
            await _caught_up(c, rc, "after the changes")
            await _io_works(c, rc, pool, "traffic")
            epochs = c.osdmap().epoch - first
            deliveries = sum(tap.kinds.values())
            full = sum(full_sizes) / len(full_sizes)
            figures.update(epochs=epochs, deliveries=deliveries, bytes=tap.bytes,
                           frames=tap.frames, full=full)  # fmt: skip

        c.run(main())
        per_delivery = figures["bytes"] / figures["deliveries"]
        before = figures["deliveries"] * figures["full"]  # a full map each, as before
        print(
            f"\nmap traffic over {figures['epochs']:.0f} epochs: {figures['deliveries']:.0f} "
            f"map deliveries in {figures['frames']:.0f} messages, {figures['bytes']:.0f} bytes "
            f"({per_delivery:.0f} per delivery); full map {figures['full']:.0f} bytes; "
            f"full maps would have been {before:.0f} bytes ({before / figures['bytes']:.1f}x)"
        )
        assert tap.kinds.get(I.KIND_FULL, 0) == 0, tap.kinds  # nobody fell behind
        # every subscriber (3 OSDs, the mgr, the client) got every epoch
        assert figures["deliveries"] >= 5 * figures["epochs"]
        assert per_delivery < MAX_INC_FRACTION * figures["full"], figures


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_lagging_subscriber_gets_incrementals_then_full_map(seed: int) -> None:
    opts = {"mon_min_osdmap_epochs": "20", "mon_osdmap_full_prune_interval": "5",
            "osd_map_message_max": "4", "osd_beacon_report_interval": "5",
            **CLEAR_MON}  # fmt: skip
    with SimCluster(seed, options=opts) as c:
        tap = MapTap()
        c.net.taps.append(tap)

        async def churn(rc, n: int) -> None:
            """`n` epochs that start no new PG interval (so no peering adds epochs)."""
            for k in range(n):
                await c.command(rc, "osd pool set-quota", pool="p", field="max_bytes",
                                val=str((10 << 30) + k))  # fmt: skip

        async def main() -> None:
            admin, pool = await _settled_with_pool(c)
            lag = await c.client()
            host = lag.sim_host
            # behind by 10 epochs (kept): incrementals, 4 per message
            await lag.monc.unsubscribe("osdmap")
            held = lag.osdmap.epoch
            await churn(admin, 10)
            tap.reset()
            await lag.monc.subscribe({"osdmap": held + 1})
            await _caught_up(c, lag, "lagging by 10")
            got = tap.by_dst[host]
            assert got == [(e, I.KIND_INC) for e in range(held + 1, held + 11)], got
            assert len([d for d in tap.by_dst if d == host]) == 1
            # behind by 40 epochs: the monitor kept only 20 or so, so a full map
            await lag.monc.unsubscribe("osdmap")
            held = lag.osdmap.epoch
            await churn(admin, 40)
            await _beacons_caught_up(c)  # every PG clean at the newest epoch: trim
            await churn(admin, 1)
            assert c.mon.state.osdmap_history.first > held + 1
            tap.reset()
            await lag.monc.subscribe({"osdmap": held + 1})
            await _caught_up(c, lag, "lagging by 40")
            assert tap.by_dst[host] == [(c.osdmap().epoch, I.KIND_FULL)]
            await _io_works(c, lag, pool, "lagged")

        c.run(main())


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_corrupted_incremental_is_caught_by_crc(seed: int) -> None:
    with SimCluster(seed, options=CLEAR_MON) as c:
        tap = MapTap()
        c.net.taps.append(tap)

        async def main() -> None:
            admin, pool = await _settled_with_pool(c)
            lag = await c.client()
            await lag.monc.unsubscribe("osdmap")
            held = lag.osdmap.epoch
            for k in range(3):
                await c.command(admin, "osd pool set-quota", pool="p", field="max_objects",
                                val=str(1000 + k))  # fmt: skip
            # the monitor's stored incremental for held+2 goes bad: it still decodes and
            # applies, but no longer rebuilds the committed map
            hist = c.mon.state.osdmap_history
            bad = I.Incremental.decode(hist.incs[held + 2])
            bad.pool_changes.setdefault(pool, {})["min_size"] = 7
            hist.incs[held + 2] = bad.encode()
            tap.reset()
            await lag.monc.subscribe({"osdmap": held + 1})
            await _caught_up(c, lag, "after a bad incremental")
            assert lag.monc.full_map_requests == 1
            kinds = [k for _e, k in tap.by_dst[lag.sim_host]]
            assert kinds == [I.KIND_INC] * 3 + [I.KIND_FULL], kinds
            assert lag.osdmap.pools[pool].min_size != 7
            # later epochs arrive as incrementals again, and the cluster works
            tap.reset()
            await c.command(admin, "osd pool set-quota", pool="p", field="max_objects", val="0")
            await _caught_up(c, lag, "the next epoch")
            assert [k for _e, k in tap.by_dst[lag.sim_host]] == [I.KIND_INC]
            await _io_works(c, lag, pool, "after-crc")
            await asyncio.sleep(1)

        c.run(main())


@pytest.mark.parametrize("seed", SEEDS[:1])
def test_an_osd_away_holds_map_trimming_and_walks_every_epoch_back(seed: int) -> None:
    opts = {"mon_min_osdmap_epochs": "20", "mon_osdmap_full_prune_interval": "5",
            "osd_beacon_report_interval": "5", **CLEAR_MON}  # fmt: skip
    with SimCluster(seed, options=opts) as c:
        tap = MapTap()
        c.net.taps.append(tap)

        async def main() -> None:
            admin, pool = await _settled_with_pool(c)
            await _io_works(c, admin, pool, "before")
            await c.crash("osd.2")
            await c.command(admin, "osd down", ids=["2"])
            await _settle(c)
            away = c.mon.state.lec.osd_epochs[2]
            for k in range(60):  # three times what the monitor keeps at least
                await c.command(admin, "osd pool set-quota", pool="p", field="max_bytes",
                                val=str((10 << 30) + k))  # fmt: skip
            await _beacons_caught_up(c)
            hist = c.mon.state.osdmap_history
            assert hist.first <= away < c.osdmap().epoch - 60, (hist.first, away)
            tap.reset()
            await c.restart("osd.2")
            await c.wait_osds_up()
            await _settle(c)
            got = tap.by_dst["osd.2"]
            assert {k for _e, k in got} == {I.KIND_INC}, got  # no gap: not one full map
            assert min(e for e, _k in got) <= away + 1
            await _io_works(c, admin, pool, "after")
            # everything clean again: the beacons let the monitor trim back to ~20 epochs
            await _beacons_caught_up(c)
            await c.command(admin, "osd pool set-quota", pool="p", field="max_bytes", val="0")
            assert hist.first > away

        c.run(main())
