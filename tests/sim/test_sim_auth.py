"""cephx ticket renewal over hours of virtual time, in the deterministic simulator.

A client and the daemons keep working across many ticket lifetimes
(`auth_service_ticket_ttl` = 120 s, over two virtual hours): tickets renew at three
quarters of their life and are presented again on live connections, so the client's
connection to each OSD is never dropped and no op fails. A user removed while
connected loses its OSD access within one ticket period.
"""

from __future__ import annotations

import asyncio

import pytest

from pyceph.common.errors import CephError
from pyceph.sim import seeds
from pyceph.sim.cluster import SimCluster

SEEDS = seeds()[:1]
TTL = 120.0
HOURS = 2


async def _pool(c: SimCluster, rc, name: str = "p") -> int:
    await c.command(rc, "osd pool create", pool=name, pg_num=8)
    await rc.wait_for_latest_osdmap()
    return rc.osdmap.lookup_pool(name)


@pytest.mark.parametrize("seed", SEEDS)
def test_ops_never_fail_across_hours_of_ticket_renewals(seed: int) -> None:
    opts = {"auth_service_ticket_ttl": str(TTL), "auth_mon_ticket_ttl": str(4 * TTL)}
    with SimCluster(seed, num_osds=2, options=opts) as c:

        async def main() -> tuple[int, int]:
            await c.start()
            await c.wait_osds_up()
            rc = await c.client()
            pool = await _pool(c, rc)
            r = await rc.op(pool, "o", [("write_full", {}, b"0")])
            assert r.r == 0
            conns = {id(x) for x in rc.monc.msgr.connections()}
            first_expiry = min(t["expires"] for t in rc.monc._tickets.values())
            for i in range(int(HOURS * 3600 / TTL) * 2):
                await asyncio.sleep(TTL / 2)
                r = await rc.op(pool, "o", [("write_full", {}, b"%d" % i)])
                assert r.r == 0, f"seed {seed}: write {i} failed: {r.r}"
                st = await c.command(rc, "osd pool ls")
                assert "p" in st
            renewals = int(
                (min(t["expires"] for t in rc.monc._tickets.values()) - first_expiry) // 1
            )
            still = {id(x) for x in rc.monc.msgr.connections()}
            return renewals, len(conns & still)

        renewed_by, kept = c.run(main())
        assert renewed_by >= HOURS * 3600 - 2 * TTL, f"seed {seed}: tickets not renewed"
        assert kept >= 2, f"seed {seed}: live connections were dropped instead of renewed"


@pytest.mark.parametrize("seed", SEEDS)
def test_removed_user_loses_osd_access_within_a_ticket_period(seed: int) -> None:
    opts = {"auth_service_ticket_ttl": str(TTL), "rados_osd_op_timeout": "10"}
    with SimCluster(seed, num_osds=2, options=opts) as c:

        async def main() -> float:
            await c.start()
            await c.wait_osds_up()
            admin = await c.client()
            pool = await _pool(c, admin)
            await c.command(
                admin,
                "auth get-or-create",
                entity="client.u",
                caps=["mon", "allow r", "osd", "allow rw"],
            )
            out = await c.command(admin, "auth get", entity="client.u")
            c.keyring.add("client.u", out[0]["key"], {})
            user = await c.client("client.u")
            assert (await user.op(pool, "a", [("write_full", {}, b"1")])).r == 0
            await c.command(admin, "auth rm", entity="client.u")
            t0 = c.clock.now()
            while True:
                try:
                    r = await user.op(pool, "a", [("write_full", {}, b"2")])
                    if r.r < 0:
                        break
                except CephError:
                    break
                await asyncio.sleep(1.0)
                assert c.clock.now() - t0 < 3 * TTL, "the removed user kept its access"
            return c.clock.now() - t0

        lost_after = c.run(main())
        assert lost_after <= TTL + 15, f"seed {seed}: access lasted {lost_after:.0f}s"


#: A short ticket life for the stalled-service test: tickets expire well before the
#: simulated network resets a stalled connection (`pyceph.sim.faults.STALL_TIMEOUT`).
SHORT_TTL = 20.0
#: How long one write to the healthy OSD may take before it counts as hung.
WRITE_BOUND = 10.0


def _object_on(rc, pool: int, osd: int) -> str:
    m = rc.osdmap
    for i in range(1000):
        _, ps = m.object_locator_to_pg(pool, f"o{i}")
        if m.pg_to_up_acting_osds(pool, ps)[3] == osd:
            return f"o{i}"
    raise AssertionError(f"no object maps to osd.{osd}")


@pytest.mark.parametrize("seed", SEEDS)
def test_a_stalled_osd_does_not_stop_ticket_renewal(seed: int) -> None:
    """The hang reported around renewal: a service connection that neither answers nor
    resets (osd.1 cut off from the client) kept the client's renewal waiting for its
    re-authentication, so no ticket was renewed again, the healthy osd.0 dropped the
    client's connection as expired and every later op hung. Renewal must go on."""
    opts = {
        "auth_service_ticket_ttl": str(SHORT_TTL),
        "auth_mon_ticket_ttl": str(4 * SHORT_TTL),
        "osd_pool_default_size": "1",
    }
    with SimCluster(seed, num_osds=2, options=opts) as c:

        async def main() -> None:
            await c.start()
            await c.wait_osds_up()
            rc = await c.client()
            pool = await _pool(c, rc)
            healthy, stalled = _object_on(rc, pool, 0), _object_on(rc, pool, 1)
            for oid in (healthy, stalled):  # the client holds a connection to each OSD
                assert (await rc.op(pool, oid, [("write_full", {}, b"x")])).r == 0
            c.partition(rc.sim_host, "osd.1")
            for i in range(int(6 * SHORT_TTL / 2)):
                await asyncio.sleep(2.0)
                op = rc.op(pool, healthy, [("write_full", {}, b"%d" % i)])
                try:
                    r = await asyncio.wait_for(op, WRITE_BOUND)
                except TimeoutError:
                    raise AssertionError(f"seed {seed}: write {i} to osd.0 hung") from None
                assert r.r == 0, f"seed {seed}: write {i} to osd.0 failed: {r.r}"

        c.run(main())
