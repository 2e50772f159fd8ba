"""Recovery options changed at runtime in the simulator: `config set osd
osd_max_backfills` / `osd_recovery_sleep` reach every running OSD through its monitor
session and apply without a restart (upstream OSD::handle_conf_change): both reservers
take the new slot count, recovery sees the new sleep."""

from __future__ import annotations

from pyceph.sim.cluster import SimCluster

#: Bound (virtual seconds) on the OSDs seeing a config change.
CONFIG_TIMEOUT = 60.0
SEED = 7


def _osds(c: SimCluster) -> list:
    out = []
    for d in c.daemons.values():
        if d.kind == "osd" and d.obj is not None and d.obj.osd is not None:
            out.append(d.obj.osd)
    return out


def test_max_backfills_and_recovery_sleep_change_at_runtime():
    with SimCluster(SEED, num_osds=2) as c:

        async def main():
            await c.start()
            await c.wait_osds_up()
            rc = await c.client()
            assert all(o.local_reserver.slots == 1 for o in _osds(c))
            await c.command(rc, "config set", who="osd", name="osd_max_backfills", value="3")
            await c.command(rc, "config set", who="osd", name="osd_recovery_sleep", value="0.5")

            def applied() -> bool:
                osds = _osds(c)
                return len(osds) == 2 and all(
                    o.local_reserver.slots == 3
                    and o.remote_reserver.slots == 3
                    and o.opts.recovery_sleep == 0.5
                    for o in osds
                )

            await c.wait_until(applied, CONFIG_TIMEOUT, what="osd options applied")
            # back to the default when the value goes
            await c.command(rc, "config rm", who="osd", name="osd_max_backfills")
            await c.wait_until(
                lambda: all(o.local_reserver.slots == 1 for o in _osds(c)),
                CONFIG_TIMEOUT,
                what="osd_max_backfills default again",
            )

        c.run(main())
