"""The object op names of `osd_op` (docs/protocol.md), by what they do to an object.

The client and the OSD classify op vectors with these same tables: the OSD to order,
log and replicate writes; the objecter to hold writes while a pool is full.
"""

from __future__ import annotations

WRITE_OPS = frozenset(
    {
        "create",
        "write",
        "write_full",
        "writesame",
        "append",
        "truncate",
        "zero",
        "delete",
        "setxattr",
        "rmxattr",
        "omap_set",
        "omap_set_header",
        "omap_rm_keys",
        "omap_clear",
        "omap_rm_range",
        "rollback",
    }
)
READ_OPS = frozenset(
    {
        "read",
        "sparse_read",
        "stat",
        "getxattr",
        "getxattrs",
        "cmpext",
        "assert_version",
        "omap_get_vals",
        "omap_get_keys",
        "omap_get_vals_by_keys",
        "omap_get_header",
        "omap_cmp",
        "list_watchers",
        "list_snaps",
    }
)
#: Ops on the object's watchers: answered by the primary, never logged (no data change).
WATCH_OPS = frozenset({"watch", "notify", "notify_ack"})
PG_OPS = frozenset({"pgls"})
