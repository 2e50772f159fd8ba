"""The OSD: placement groups, replication, peering, recovery, heartbeats.

Modules: `types` (versions, ids, PG info), `pglog` (log, dups, divergence math),
`ops` (client op vectors -> one store transaction), `watch` (watchers and notifies), `peering` (sans-I/O peering state
machine), `pgmeta` (PG metadata in collection meta keys), `pg` (one PG's asyncio shell),
`ec_backend` (erasure-coded PGs: shard i on acting[i], in collection `1.2s<i>_head`),
`osd` (the OSD core: PGs, map handling, dispatch), `daemon` (sockets, monitor session,
heartbeats, mgr reports, `pyceph-osd` and `run_osd`), `fakes` (in-process OSD cluster).

OSD <-> OSD protocol (all are `call`s; replies carry `r`, 0 or -errno). Every request
head carries `pgid` ("1.a"), `epoch` (the sender's OSDMap epoch: a receiver with an
older map waits for that epoch first) and `sis` (the sender's same_interval_since).
Requests that must come from the PG's current primary (`pg_activate`, `rep_op`,
`pg_push`) are refused with -ESTALE when the sender is not the primary in the
receiver's map or `sis` predates an interval change the receiver saw.

| message | head (besides pgid, epoch, sis) | data | reply |
|---|---|---|---|
| `pg_query` | | | `{info, entries: [log entry...], missing: [[oid, ver]...]}` (an OSD without the PG answers an empty info) |
| `pg_list` | `{cursor}` (ObjectKey tuple or null) | | `{entries: [[oid, ver]...], cursor}` (backfill) |
| `pg_activate` | `{info, les, backfill, common, tail, entries, missing, deletes}` | | `{r}` once durable |
| `rep_op` | `{entry, prev, trim_to}` | encoded store `Transaction` of the object changes | `{r}` once durable |
| `pg_push` | `{oid, exists, attrs, omap_header, omap}` | object data | `{r}` once durable |
| `pg_pull` | `{oid}` | | same fields as `pg_push` + data (ENOENT if the peer lacks it); EC PGs add `shard` |
| `pg_remove` | | | `{r}`: a stray deletes its copy of a clean PG |
| `osd_ping` | `{stamp}` | | `{r, epoch, stamp}` |

oid = [nspace, name, key]; ver = [epoch, v]; a log entry = [op, oid, version,
prior_version, reqid, user_version, r] with op "modify" | "delete" | "error".
On an erasure-coded PG every `rep_op` carries that OSD's own shard transaction (on its
shard collection) and `pg_push`/`pg_pull` move one shard of the object.
A replica applies `rep_op`s strictly in log order: an entry whose `prev` is not its
log head waits for the earlier one; one it already has is acknowledged again.
To the mgr: `mgr_report {osd_id, report}` (see pyceph.mgr.pgmap), every mgr_stats_period.
"""
