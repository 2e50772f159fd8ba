"""The OSDMap every party shares: monitors build it, OSDs, the mgr and clients place by it.

`osdmap` holds the map itself (OSDs, pools, flags, temp mappings, blocklist, CRUSH) and
its bit-exact object -> PG -> OSDs placement (upstream `src/osd/OSDMap.cc`); `pool` holds
a pool's description (upstream `pg_pool_t` in `src/osd/osd_types.h`). It sits below the
daemons: the monitor server package, the OSD, the mgr and the client all import it.
"""
