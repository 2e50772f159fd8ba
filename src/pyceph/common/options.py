"""Ceph's option table and value parsing, as Ceph 16.2 (Pacific) defines them.

`OPTIONS` holds the upstream names, types, defaults, bounds and flags of every
option pyceph reads (values checked against Debian's ceph 16.2.15), plus pyceph's
own bounds under a `pyceph_` prefix.  `parse_value`/`format_value` reproduce
upstream's parsers and printers so `conf_set`/`conf_get` accept and return what
librados does.
"""

from __future__ import annotations

import errno
import ipaddress
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyceph.common.errors import CephError

__all__ = [
    "OPTIONS",
    "Option",
    "OptionValueError",
    "UnknownOptionError",
    "find_option",
    "format_value",
    "normalize_key",
    "normalize_name",
    "parse_addr",
    "parse_addrvec",
    "parse_bool",
    "parse_float",
    "parse_iec_size",
    "parse_si_int",
    "parse_timespan",
    "parse_uuid",
    "parse_value",
]

OPTION_TYPES = (
    "str",
    "int",
    "uint",
    "float",
    "bool",
    "size",
    "secs",
    "millisecs",
    "addr",
    "addrvec",
    "uuid",
)
LEVELS = ("basic", "advanced", "dev")
FLAGS = ("runtime", "no_mon_update", "startup", "cluster_create", "create")


class OptionValueError(CephError, ValueError):
    """A value an option does not accept (errno EINVAL, or ERANGE for debug levels)."""

    def __init__(self, message: str, err: int = errno.EINVAL) -> None:
        super().__init__(err, message)


class UnknownOptionError(CephError, KeyError):
    """No option by that name (errno ENOENT)."""

    def __init__(self, name: str) -> None:
        super().__init__(errno.ENOENT, f"Configuration option not found: '{name}'")
        self.name = name


@dataclass(frozen=True)
class Option:
    """One entry of the option table (upstream's `Option`)."""

    name: str
    type: str
    default: Any
    description: str = ""
    min: Any = None
    max: Any = None
    enum_allowed: tuple[str, ...] | None = None
    level: str = "advanced"
    services: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    daemon_default: Any = None

    def has_flag(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def can_update_at_runtime(self) -> bool:
        """Upstream: runtime-flagged options, or options without a startup/create flag."""
        return "runtime" in self.flags or not (
            {"startup", "create", "cluster_create"} & set(self.flags)
        )

    def default_for(self, is_daemon: bool) -> Any:
        if is_daemon and self.daemon_default is not None:
            return self.daemon_default
        return self.default

    def schema(self) -> dict[str, Any]:
        """The option as upstream's mgr `get('config_options')` lists it (the keys of
        `ceph config help -f json`)."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "level": self.level,
            "desc": self.description,
            "long_desc": "",
            "default": self.default if self.default is not None else "",
            "daemon_default": self.daemon_default if self.daemon_default is not None else "",
            "tags": [],
            "services": list(self.services),
            "see_also": [],
        }
        if self.enum_allowed:
            out["enum_values"] = list(self.enum_allowed)
        if self.min is not None or self.max is not None:
            out["min"] = self.min if self.min is not None else ""
            out["max"] = self.max if self.max is not None else ""
        out["can_update_at_runtime"] = self.can_update_at_runtime
        out["flags"] = list(self.flags)
        return out


def _o(
    name: str,
    type: str,
    default: Any,
    description: str,
    *,
    min: Any = None,
    max: Any = None,
    enum_allowed: tuple[str, ...] | None = None,
    level: str = "advanced",
    services: tuple[str, ...] = (),
    flags: tuple[str, ...] = (),
    daemon_default: Any = None,
) -> Option:
    return Option(
        name,
        type,
        default,
        description,
        min,
        max,
        enum_allowed,
        level,
        services,
        flags,
        daemon_default,
    )


# --------------------------------------------------------------------------
# Upstream options (names, types, defaults, bounds, levels, services and flags
# as `config help` reports them on ceph 16.2.15; descriptions are ours).
# --------------------------------------------------------------------------
_UPSTREAM: tuple[Option, ...] = (
    _o(
        "host",
        "str",
        "",
        "short host name of this node; empty means use the system's",
        level="basic",
        services=("common",),
        flags=("no_mon_update",),
    ),
    _o(
        "fsid",
        "uuid",
        "00000000-0000-0000-0000-000000000000",
        "UUID identifying the cluster",
        level="basic",
        services=("common",),
        flags=("no_mon_update", "startup"),
    ),
    _o(
        "public_addr",
        "addr",
        "-",
        "address daemons bind to on the public (client-facing) network",
        level="basic",
        services=("mon", "mds", "osd", "mgr"),
        flags=("startup",),
    ),
    _o(
        "public_addrv",
        "addrvec",
        "",
        "address vector for the public network (v2 and v1 endpoints)",
        level="basic",
        services=("mon", "mds", "osd", "mgr"),
        flags=("startup",),
    ),
    _o(
        "public_bind_addr",
        "addr",
        "-",
        "monitor bind address when it differs from the advertised one",
        services=("mon",),
        flags=("startup",),
    ),
    _o(
        "cluster_addr",
        "addr",
        "-",
        "OSD address on the back-end (replication) network",
        level="basic",
        services=("osd",),
        flags=("startup",),
    ),
    _o(
        "public_network",
        "str",
        "",
        "CIDR list used to pick the public address",
        services=("mon", "mds", "osd", "mgr"),
        flags=("startup",),
    ),
    _o(
        "cluster_network",
        "str",
        "",
        "CIDR list used to pick the replication address",
        services=("osd",),
        flags=("startup",),
    ),
    _o(
        "public_network_interface",
        "str",
        "",
        "restrict public address selection to these interfaces",
        services=("mon", "mds", "osd", "mgr"),
        flags=("startup",),
    ),
    _o(
        "cluster_network_interface",
        "str",
        "",
        "restrict cluster address selection to these interfaces",
        services=("mon", "mds", "osd", "mgr"),
        flags=("startup",),
    ),
    _o(
        "monmap",
        "str",
        "",
        "path of a monmap file to bootstrap from",
        services=("mon",),
        flags=("no_mon_update", "create"),
    ),
    _o(
        "mon_host",
        "str",
        "",
        "monitor addresses (or DNS names) used to contact the cluster",
        level="basic",
        services=("common",),
        flags=("no_mon_update", "startup"),
    ),
    _o(
        "mon_dns_srv_name",
        "str",
        "ceph-mon",
        "SRV record name used to discover monitors through DNS",
        services=("common",),
        flags=("startup",),
    ),
    _o(
        "mon_initial_members",
        "str",
        "",
        "monitor ids that must form the first quorum",
        services=("mon",),
        flags=("no_mon_update", "cluster_create"),
    ),
    _o(
        "keyring",
        "str",
        "/etc/ceph/$cluster.$name.keyring,/etc/ceph/$cluster.keyring,/etc/ceph/keyring,/etc/ceph/keyring.bin,",
        "comma-separated keyring files searched for this entity's secret",
        flags=("no_mon_update", "startup"),
    ),
    _o(
        "key",
        "str",
        "",
        "the secret itself, base64 encoded (discouraged: visible in ps)",
        flags=("no_mon_update", "startup"),
    ),
    _o(
        "keyfile",
        "str",
        "",
        "file holding only the base64 secret",
        flags=("no_mon_update", "startup"),
    ),
    _o(
        "auth_cluster_required",
        "str",
        "cephx",
        "authentication methods daemons require of each other",
    ),
    _o(
        "auth_service_required",
        "str",
        "cephx",
        "authentication methods services require of clients",
    ),
    _o(
        "auth_client_required",
        "str",
        "cephx, none",
        "authentication methods a client accepts from the cluster",
    ),
    _o("auth_supported", "str", "", "legacy single setting for all three auth_*_required options"),
    _o("cephx_require_signatures", "bool", False, "demand signed messages on every connection"),
    _o("cephx_cluster_require_signatures", "bool", False, "demand signed messages between daemons"),
    _o("cephx_service_require_signatures", "bool", False, "demand signed messages from clients"),
    _o("cephx_sign_messages", "bool", True, "sign messages when the peer supports it"),
    _o(
        "auth_mon_ticket_ttl",
        "float",
        259200.0,
        "lifetime in seconds of a monitor-issued auth ticket",
    ),
    _o("auth_service_ticket_ttl", "float", 3600.0, "lifetime in seconds of a service ticket"),
    _o(
        "auth_allow_insecure_global_id_reclaim",
        "bool",
        True,
        "let old clients reclaim a global_id without proof",
    ),
    _o(
        "log_file",
        "str",
        "",
        "where this process writes its log; empty disables file logging",
        level="basic",
        daemon_default="/var/log/ceph/$cluster-$name.log",
    ),
    _o(
        "log_to_stderr",
        "bool",
        True,
        "copy log lines to standard error",
        level="basic",
        daemon_default=False,
    ),
    _o(
        "err_to_stderr",
        "bool",
        False,
        "copy error-level log lines to standard error",
        level="basic",
        daemon_default=True,
    ),
    _o("log_to_syslog", "bool", False, "send log lines to syslog", level="basic"),
    _o("log_to_file", "bool", True, "write log lines to log_file", level="basic"),
    _o(
        "log_max_recent",
        "int",
        500,
        "recent log entries kept in memory for crash dumps",
        min=1,
        daemon_default=10000,
    ),
    _o("log_stderr_prefix", "str", "", "text put in front of every line sent to stderr"),
    _o(
        "admin_socket",
        "str",
        "",
        "path of the admin (asok) command socket",
        services=("common",),
        flags=("startup",),
        daemon_default="$run_dir/$cluster-$name.asok",
    ),
    _o(
        "admin_socket_mode",
        "str",
        "",
        "file mode of the admin socket",
        services=("common",),
        flags=("startup",),
    ),
    _o(
        "run_dir",
        "str",
        "/var/run/ceph",
        "directory for sockets and pid files",
        services=("common",),
        flags=("startup",),
    ),
    _o(
        "pid_file",
        "str",
        "",
        "where a daemon writes its process id",
        services=("mon", "mgr", "osd", "mds"),
        flags=("startup",),
    ),
    _o(
        "daemonize",
        "bool",
        False,
        "detach from the terminal after start-up",
        services=("mon", "mgr", "osd", "mds"),
        flags=("no_mon_update", "startup"),
        daemon_default=True,
    ),
    _o(
        "chdir",
        "str",
        "",
        "working directory a daemon switches to",
        services=("mon", "mgr", "osd", "mds"),
        flags=("no_mon_update", "startup"),
    ),
    _o("restapi_log_level", "str", "", "log level for the REST API"),
    # empty: ceph-rest-api serves under its default, /api/v0.1 (ceph_rest_api.py)
    _o("restapi_base_url", "str", "", "base URL of the REST API (empty: /api/v0.1)"),
    _o(
        "mon_data",
        "str",
        "/var/lib/ceph/mon/$cluster-$id",
        "monitor data directory",
        services=("mon",),
        flags=("no_mon_update",),
    ),
    _o(
        "osd_data",
        "str",
        "/var/lib/ceph/osd/$cluster-$id",
        "OSD data directory",
        flags=("no_mon_update",),
    ),
    _o(
        "mgr_data",
        "str",
        "/var/lib/ceph/mgr/$cluster-$id",
        "manager data directory",
        services=("mgr",),
        flags=("no_mon_update",),
    ),
    _o(
        "erasure_code_dir",
        "str",
        "/usr/lib/x86_64-linux-gnu/ceph/erasure-code",
        "directory holding erasure-code plugins",
        services=("mon", "osd"),
        flags=("startup",),
    ),
    _o(
        "osd_class_dir",
        "str",
        "/usr/lib/x86_64-linux-gnu/rados-classes",
        "directory holding object class plugins",
    ),
    _o(
        "plugin_dir",
        "str",
        "/usr/lib/x86_64-linux-gnu/ceph",
        "base directory for loadable plugins",
        services=("mon", "osd"),
        flags=("startup",),
    ),
    _o("mon_allow_pool_delete", "bool", False, "permit pool deletion", services=("mon",)),
    _o(
        "mon_allow_pool_size_one",
        "bool",
        False,
        "permit replicated pools with a single copy",
        services=("mon",),
    ),
    _o(
        "osd_pool_default_size",
        "uint",
        3,
        "replica count of new replicated pools",
        min=0,
        max=10,
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "osd_pool_default_min_size",
        "uint",
        0,
        "copies needed for I/O on new pools; 0 means size - size/2",
        min=0,
        max=255,
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "osd_pool_default_pg_num",
        "uint",
        32,
        "placement groups in a new pool",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "osd_pool_default_pgp_num",
        "uint",
        0,
        "placement groups for placement in a new pool; 0 means pg_num",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "osd_pool_default_pg_autoscale_mode",
        "str",
        "on",
        "autoscaler mode of new pools",
        enum_allowed=("off", "warn", "on"),
        flags=("runtime",),
    ),
    _o(
        "osd_pool_default_crush_rule",
        "int",
        -1,
        "CRUSH rule for new replicated pools; -1 picks the first",
        services=("mon",),
    ),
    _o(
        "osd_pool_default_flag_hashpspool",
        "bool",
        True,
        "give new pools the HASHPSPOOL flag",
        services=("mon",),
    ),
    _o(
        "osd_pool_default_type",
        "str",
        "replicated",
        "type of pools created without an explicit type",
        enum_allowed=("replicated", "erasure"),
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "osd_pool_default_erasure_code_profile",
        "str",
        "plugin=jerasure technique=reed_sol_van k=2 m=2",
        "the 'default' erasure-code profile",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "osd_erasure_code_plugins",
        "str",
        "jerasure lrc isa",
        "erasure-code plugins loaded at start-up",
        services=("mon", "osd"),
        flags=("startup",),
    ),
    _o(
        "osd_pool_default_flag_nodelete",
        "bool",
        False,
        "give new pools the NODELETE flag",
        services=("mon",),
    ),
    _o(
        "osd_pool_default_flag_nopgchange",
        "bool",
        False,
        "give new pools the NOPGCHANGE flag",
        services=("mon",),
    ),
    _o(
        "osd_pool_default_flag_nosizechange",
        "bool",
        False,
        "give new pools the NOSIZECHANGE flag",
        services=("mon",),
    ),
    _o(
        "osd_pool_erasure_code_stripe_unit",
        "size",
        4096,
        "default erasure-code chunk size in bytes",
        services=("mon",),
    ),
    _o(
        "osd_pool_default_ec_fast_read",
        "bool",
        False,
        "enable fast_read on new erasure-coded pools",
        services=("mon",),
    ),
    _o(
        "osd_crush_chooseleaf_type",
        "int",
        1,
        "bucket type the default CRUSH rule separates replicas across",
        level="dev",
        flags=("cluster_create",),
    ),
    _o(
        "osd_crush_update_on_start",
        "bool",
        True,
        "OSDs update their CRUSH location when they start",
    ),
    _o(
        "osd_crush_initial_weight",
        "float",
        -1.0,
        "CRUSH weight of a new OSD; negative means its size in TiB",
    ),
    _o(
        "osd_class_load_list",
        "str",
        "cephfs hello journal lock log numops otp rbd refcount rgw rgw_gc timeindex user version cas cmpomap queue 2pc_queue fifo",
        "object classes an OSD may load",
    ),
    _o(
        "osd_class_default_list",
        "str",
        "cephfs hello journal lock log numops otp rbd refcount rgw rgw_gc timeindex user version cas cmpomap queue 2pc_queue fifo",
        "object classes usable without explicit caps",
    ),
    _o(
        "osd_heartbeat_interval",
        "int",
        6,
        "seconds between heartbeats to peer OSDs",
        min=1,
        max=60,
        level="dev",
    ),
    _o(
        "osd_heartbeat_grace",
        "int",
        20,
        "seconds without a heartbeat before a peer is reported down",
    ),
    _o("osd_heartbeat_min_peers", "int", 10, "minimum number of heartbeat peers per OSD"),
    _o("osd_mon_report_interval", "int", 5, "seconds between OSD reports to the monitor"),
    _o("osd_beacon_report_interval", "int", 300, "seconds between OSD beacons to the monitor"),
    _o(
        "mon_osd_down_out_interval",
        "int",
        600,
        "seconds a down OSD waits before being marked out",
        services=("mon",),
    ),
    _o(
        "mon_osd_min_down_reporters",
        "uint",
        2,
        "distinct reporters needed to mark an OSD down",
        services=("mon",),
    ),
    _o(
        "mon_osd_reporter_subtree_level",
        "str",
        "host",
        "CRUSH level at which failure reporters are counted",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "mon_osd_full_ratio",
        "float",
        0.95,
        "used-space ratio at which an OSD is full",
        flags=("no_mon_update", "cluster_create"),
    ),
    _o(
        "mon_osd_nearfull_ratio",
        "float",
        0.85,
        "used-space ratio at which an OSD is nearly full",
        flags=("no_mon_update", "cluster_create"),
    ),
    _o(
        "mon_osd_backfillfull_ratio",
        "float",
        0.9,
        "used-space ratio above which backfill to an OSD stops",
        flags=("no_mon_update", "cluster_create"),
    ),
    _o(
        "mon_max_pg_per_osd",
        "uint",
        250,
        "PG replicas per OSD above which pool changes are refused",
        min=1,
        services=("mgr",),
    ),
    _o(
        "mon_pg_warn_min_per_osd",
        "uint",
        0,
        "warn when OSDs hold fewer PGs than this on average",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_misplaced",
        "bool",
        False,
        "issue a health warning if there are misplaced objects",
        services=("mon", "mgr"),
    ),
    _o(
        "mon_warn_on_pool_no_redundancy",
        "bool",
        True,
        "warn about pools with a single copy",
        services=("mon",),
    ),
    _o("mon_osd_auto_mark_in", "bool", False, "mark any booting OSD in", services=("mon",)),
    _o(
        "mon_osd_auto_mark_new_in",
        "bool",
        True,
        "mark newly created OSDs in when they boot",
        services=("mon",),
    ),
    _o(
        "mon_osd_auto_mark_auto_out_in",
        "bool",
        True,
        "mark OSDs that were automatically out back in on boot",
        services=("mon",),
    ),
    _o(
        "mon_osd_adjust_heartbeat_grace",
        "bool",
        True,
        "stretch the grace period for laggy OSDs",
        services=("mon",),
    ),
    _o(
        "mon_osd_laggy_halflife",
        "int",
        3600,
        "half-life in seconds of the laggy estimate",
        services=("mon",),
    ),
    _o(
        "mon_osd_report_timeout",
        "int",
        900,
        "seconds without a report before an OSD is marked down",
        services=("mon",),
    ),
    _o(
        "mon_osd_down_out_subtree_limit",
        "str",
        "rack",
        "smallest CRUSH subtree that is not automatically marked out",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "mon_osd_min_in_ratio",
        "float",
        0.75,
        "do not mark OSDs out below this fraction in",
        services=("mon",),
    ),
    _o(
        "mon_osd_min_up_ratio",
        "float",
        0.3,
        "do not mark OSDs down below this fraction up",
        services=("mon",),
    ),
    _o("osd_max_object_size", "size", 134217728, "largest object an OSD accepts, in bytes"),
    _o("osd_max_object_name_len", "uint", 2048, "longest object name accepted"),
    _o("osd_max_object_namespace_len", "uint", 256, "longest namespace accepted"),
    _o("osd_max_attr_name_len", "uint", 100, "longest xattr name accepted"),
    _o("osd_max_attr_size", "uint", 0, "largest xattr value accepted; 0 means no limit"),
    _o("osd_max_omap_entries_per_request", "uint", 1024, "most omap keys returned by one request"),
    _o(
        "osd_max_omap_bytes_per_request",
        "size",
        1073741824,
        "most omap bytes returned by one request",
    ),
    _o("osd_max_write_size", "size", 90, "largest single write accepted, in MiB", min=4),
    _o(
        "target_max_misplaced_ratio",
        "float",
        0.05,
        "largest fraction of objects the balancer and autoscaler may leave misplaced",
    ),
    _o("device_failure_prediction_mode", "str", "none", "how device failures are predicted"),
    _o("mds_max_snaps_per_dir", "uint", 100, "most snapshots one CephFS directory may have"),
    _o("osd_bench_small_size_max_iops", "uint", 100, "IOPS `osd bench` assumes for blocks < 1 MiB"),
    _o(
        "osd_bench_large_size_max_throughput",
        "size",
        100 << 20,
        "bytes/s `osd bench` assumes for blocks of 1 MiB or more",
    ),
    _o("osd_bench_max_block_size", "size", 64 << 20, "largest block `osd bench` accepts"),
    _o("osd_bench_duration", "uint", 30, "seconds `osd bench` may take, capping its count"),
    _o(
        "osd_client_message_size_cap",
        "size",
        524288000,
        "bytes of client messages an OSD holds in memory",
    ),
    _o("osd_client_message_cap", "uint", 256, "client messages an OSD holds in memory"),
    _o(
        "osd_min_pg_log_entries",
        "uint",
        250,
        "PG log entries always kept when trimming",
        level="dev",
        services=("osd",),
    ),
    _o(
        "osd_max_pg_log_entries",
        "uint",
        10000,
        "PG log entries kept at most when trimming",
        level="dev",
        services=("osd",),
    ),
    _o(
        "osd_pg_log_dups_tracked",
        "uint",
        3000,
        "completed request ids remembered for duplicate detection",
        level="dev",
        services=("osd",),
    ),
    _o(
        "osd_pg_log_trim_min",
        "uint",
        100,
        "smallest batch of PG log entries trimmed at once",
        level="dev",
        services=("osd",),
    ),
    _o(
        "osd_pg_log_trim_max",
        "uint",
        10000,
        "largest batch of PG log entries trimmed at once",
        level="dev",
        services=("osd",),
    ),
    _o(
        "osd_target_pg_log_entries_per_osd",
        "uint",
        300000,
        "PG log entries an OSD aims to keep in total",
        level="dev",
    ),
    _o("osd_op_thread_timeout", "int", 15, "seconds before a stuck op worker is reported"),
    _o(
        "osd_op_thread_suicide_timeout",
        "int",
        150,
        "seconds before a stuck op worker aborts the OSD",
    ),
    _o(
        "osd_objectstore",
        "str",
        "bluestore",
        "back end that stores OSD data",
        enum_allowed=("bluestore", "filestore", "memstore", "kstore"),
        flags=("create",),
    ),
    _o(
        "osd_memory_target",
        "size",
        4294967296,
        "memory an OSD tries to stay within, in bytes",
        min=939524096,
        level="basic",
        flags=("runtime",),
    ),
    _o(
        "osd_op_num_shards", "int", 0, "op queue shards; 0 picks by device type", flags=("startup",)
    ),
    _o(
        "osd_op_num_threads_per_shard",
        "int",
        0,
        "worker threads per op shard; 0 picks by device type",
        flags=("startup",),
    ),
    _o(
        "osd_op_queue",
        "str",
        "wpq",
        "op scheduler",
        enum_allowed=("wpq", "mclock_scheduler", "debug_random"),
    ),
    _o("osd_client_op_priority", "uint", 63, "priority of client ops"),
    _o("osd_recovery_op_priority", "uint", 3, "priority of recovery ops"),
    _o("osd_op_complaint_time", "float", 30.0, "seconds after which an op counts as slow"),
    _o(
        "osd_snap_trim_sleep",
        "float",
        0.0,
        "seconds to sleep between snapshot trim steps",
        flags=("runtime",),
    ),
    _o("osd_pool_default_cache_target_full_ratio", "float", 0.8, "default cache-tier full ratio"),
    _o("osd_journal_size", "size", 5120, "journal size in MiB (filestore)", flags=("create",)),
    _o(
        "osd_max_markdown_count",
        "int",
        5,
        "markdowns within the period after which an OSD stays down",
    ),
    _o("osd_max_markdown_period", "int", 600, "window in seconds for counting markdowns"),
    _o("osd_map_cache_size", "int", 50, "OSDMap epochs kept in memory"),
    _o("osd_map_message_max", "int", 40, "most OSDMap epochs sent in one message"),
    _o("osd_copyfrom_max_chunk", "size", 8388608, "largest chunk copied by a copy-from op"),
    _o(
        "osd_default_notify_timeout",
        "uint",
        30,
        "seconds a watch/notify waits for acknowledgements",
    ),
    _o(
        "osd_client_watch_timeout",
        "int",
        30,
        "seconds a watch that is not pinged lives on (the client is then gone)",
        services=("osd",),
    ),
    _o(
        "osd_object_clean_region_max_num_intervals",
        "int",
        10,
        "dirty intervals tracked per object for recovery",
        level="dev",
        services=("osd",),
    ),
    _o(
        "osd_pg_epoch_persisted_max_stale",
        "uint",
        40,
        "epochs a PG may lag before its info is persisted",
    ),
    _o("osd_max_pgls", "uint", 1024, "most objects returned by one listing request"),
    _o(
        "osd_max_pg_per_osd_hard_ratio",
        "float",
        3.0,
        "multiple of mon_max_pg_per_osd at which PG creation stops",
        min=1.0,
    ),
    _o(
        "osd_mon_heartbeat_interval",
        "int",
        30,
        "seconds between OSD pings to the monitor when peerless",
    ),
    _o("osd_heartbeat_use_min_delay_socket", "bool", False, "mark heartbeat sockets low-delay"),
    _o(
        "rados_osd_op_timeout",
        "secs",
        0,
        "seconds before a librados OSD op times out; 0 waits forever",
        min=0,
        flags=("runtime",),
    ),
    _o(
        "rados_mon_op_timeout",
        "secs",
        0,
        "seconds before a librados monitor op times out; 0 waits forever",
        min=0,
        flags=("runtime",),
    ),
    _o(
        "client_mount_timeout",
        "secs",
        300,
        "seconds a client waits for the cluster when connecting",
        services=("mds_client",),
    ),
    _o(
        "mon_client_hunt_interval",
        "float",
        3.0,
        "seconds between attempts to reach another monitor",
    ),
    _o("mon_client_ping_interval", "float", 10.0, "seconds between client pings to its monitor"),
    _o("mon_client_ping_timeout", "float", 30.0, "seconds without a ping reply before hunting"),
    _o("mon_client_hunt_parallel", "uint", 3, "monitors tried at once while hunting"),
    _o(
        "mon_client_max_log_entries_per_message",
        "int",
        1000,
        "cluster log entries sent per message",
    ),
    _o("objecter_inflight_ops", "uint", 1024, "client ops in flight before new ones block"),
    _o(
        "objecter_inflight_op_bytes",
        "size",
        104857600,
        "client op bytes in flight before new ones block",
    ),
    _o(
        "objecter_tick_interval",
        "float",
        5.0,
        "seconds between client op housekeeping passes",
        level="dev",
    ),
    _o("objecter_timeout", "float", 10.0, "seconds before a client op to an OSD is re-checked"),
    _o("ms_bind_port_min", "int", 6800, "lowest port daemons bind"),
    _o("ms_bind_port_max", "int", 7300, "highest port daemons bind"),
    _o("ms_bind_ipv4", "bool", True, "bind IPv4 addresses"),
    _o("ms_bind_ipv6", "bool", False, "bind IPv6 addresses"),
    _o("ms_bind_msgr1", "bool", True, "bind the legacy v1 protocol"),
    _o("ms_bind_msgr2", "bool", True, "bind the v2 protocol"),
    _o("ms_type", "str", "async+posix", "messenger implementation", flags=("startup",)),
    _o("ms_crc_data", "bool", True, "checksum message payloads", level="dev"),
    _o("ms_crc_header", "bool", True, "checksum message headers", level="dev"),
    _o("ms_max_backoff", "float", 15.0, "longest delay in seconds between reconnect attempts"),
    _o("ms_initial_backoff", "float", 0.2, "first delay in seconds between reconnect attempts"),
    _o(
        "ms_dispatch_throttle_bytes",
        "size",
        104857600,
        "bytes of messages queued for dispatch before throttling",
    ),
    _o("ms_tcp_nodelay", "bool", True, "disable Nagle's algorithm"),
    _o("ms_tcp_rcvbuf", "size", 0, "socket receive buffer size; 0 keeps the system default"),
    _o("ms_connection_ready_timeout", "uint", 10, "seconds a connection may take to become ready"),
    _o("ms_connection_idle_timeout", "uint", 900, "seconds before an idle connection is closed"),
    _o(
        "ms_cluster_mode",
        "str",
        "crc secure",
        "connection modes between daemons, most preferred first",
        level="basic",
        flags=("startup",),
    ),
    _o(
        "ms_service_mode",
        "str",
        "crc secure",
        "connection modes services accept from clients",
        level="basic",
        flags=("startup",),
    ),
    _o(
        "ms_client_mode",
        "str",
        "crc secure",
        "connection modes clients ask for",
        level="basic",
        flags=("startup",),
    ),
    _o(
        "ms_mon_cluster_mode",
        "str",
        "secure crc",
        "connection modes between monitors",
        level="basic",
        flags=("startup",),
    ),
    _o(
        "ms_mon_service_mode",
        "str",
        "secure crc",
        "connection modes monitors accept",
        level="basic",
        flags=("startup",),
    ),
    _o(
        "ms_mon_client_mode",
        "str",
        "secure crc",
        "connection modes used to talk to monitors",
        level="basic",
        flags=("startup",),
    ),
    _o(
        "mon_tick_interval",
        "int",
        5,
        "seconds between monitor housekeeping ticks",
        services=("mon",),
    ),
    _o(
        "paxos_propose_interval",
        "float",
        1.0,
        "seconds updates are batched before a proposal",
        services=("mon",),
    ),
    _o("mon_lease", "float", 5.0, "seconds a monitor lease lasts", services=("mon",)),
    _o("mon_election_timeout", "float", 5.0, "seconds an election may take", services=("mon",)),
    _o("mon_max_pool_pg_num", "uint", 65536, "most placement groups a pool may have"),
    _o(
        "mon_data_avail_warn",
        "int",
        30,
        "free-space percentage of the mon store that raises a warning",
        services=("mon",),
    ),
    _o(
        "mon_data_avail_crit",
        "int",
        5,
        "free-space percentage of the mon store that is critical",
        services=("mon",),
    ),
    _o(
        "mon_data_size_warn",
        "size",
        16106127360,
        "mon store size that raises a warning",
        services=("mon",),
    ),
    _o(
        "mon_clock_drift_allowed",
        "float",
        0.05,
        "seconds of clock skew between monitors tolerated",
        services=("mon",),
    ),
    _o(
        "mon_warn_on_insecure_global_id_reclaim",
        "bool",
        True,
        "warn while insecure clients are connected",
        services=("mon",),
    ),
    _o(
        "mon_warn_on_insecure_global_id_reclaim_allowed",
        "bool",
        True,
        "warn while insecure reclaim is allowed",
        services=("mon",),
    ),
    _o("mon_max_osd", "int", 10000, "most OSDs the cluster may have", services=("mon",)),
    _o("mon_target_pg_per_osd", "uint", 100, "PG replicas per OSD the autoscaler aims for", min=1),
    _o(
        "mon_pg_stuck_threshold",
        "int",
        60,
        "seconds before a PG counts as stuck",
        services=("mon", "mgr"),
    ),
    _o(
        "mon_health_max_detail",
        "uint",
        50,
        "max detail lines per health check (upstream PGMap's PG checks make one more)",
        services=("mon", "mgr"),
    ),
    _o(
        "mon_health_to_clog",
        "bool",
        True,
        "log health changes to the cluster log",
        services=("mon",),
    ),
    _o(
        "mon_cluster_log_file",
        "str",
        "default=/var/log/ceph/$cluster.$channel.log cluster=/var/log/ceph/$cluster.log",
        "cluster log file per channel",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "mon_max_log_entries_per_event",
        "int",
        4096,
        "cluster log entries stored per update",
        services=("mon",),
    ),
    _o(
        "mon_osd_prime_pg_temp",
        "bool",
        True,
        "pre-compute pg_temp when the OSDMap changes",
        level="dev",
        services=("mon",),
    ),
    _o(
        "mon_pool_quota_warn_threshold",
        "int",
        0,
        "pool quota percentage that raises a warning; 0 disables",
        services=("mgr",),
    ),
    _o(
        "mon_pool_quota_crit_threshold",
        "int",
        0,
        "pool quota percentage that is critical; 0 disables",
        services=("mgr",),
    ),
    _o(
        "mon_osd_initial_require_min_compat_client",
        "str",
        "luminous",
        "oldest client release a new cluster admits",
        flags=("no_mon_update", "cluster_create"),
    ),
    _o(
        "mon_memory_target",
        "size",
        2147483648,
        "memory a monitor tries to stay within",
        level="basic",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "mon_stat_smooth_intervals",
        "uint",
        6,
        "stat samples averaged for rates",
        min=1,
        services=("mgr",),
    ),
    _o(
        "mon_pg_check_down_all_threshold",
        "float",
        0.5,
        "fraction of down OSDs above which all PGs are re-checked",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_osd_down_out_interval_zero",
        "bool",
        True,
        "warn when down OSDs are never marked out",
        services=("mgr",),
    ),
    _o(
        "mon_warn_pg_not_scrubbed_ratio",
        "float",
        0.5,
        "overdue-scrub fraction that raises a warning",
        min=0.0,
    ),
    _o(
        "mon_warn_pg_not_deep_scrubbed_ratio",
        "float",
        0.75,
        "overdue deep-scrub fraction that raises a warning",
        min=0.0,
    ),
    _o(
        "mon_mgr_beacon_grace",
        "secs",
        30,
        "seconds without a beacon before a manager is failed",
        services=("mon",),
    ),
    _o(
        "mon_mgr_mkfs_grace",
        "int",
        120,
        "seconds a new cluster may have no active manager before MGR_DOWN",
        services=("mon",),
    ),
    _o("mon_log_max", "uint", 10000, "recent cluster log messages kept", services=("mon",)),
    _o("mon_osd_cache_size", "int", 500, "OSDMaps cached by a monitor", services=("mon",)),
    _o(
        "mon_min_osdmap_epochs",
        "int",
        500,
        "OSDMap epochs a monitor keeps at least (older ones are trimmed)",
        services=("mon",),
    ),
    _o(
        "mon_osdmap_full_prune_interval",
        "uint",
        10,
        "every how many epochs a monitor keeps a full OSDMap (incrementals between)",
        services=("mon",),
    ),
    _o(
        "mon_config_key_max_entry_size",
        "size",
        65536,
        "largest config-key value accepted",
        services=("mon",),
    ),
    _o("mgr_tick_period", "secs", 2, "seconds between manager ticks", services=("mgr",)),
    _o(
        "mgr_connect_retry_interval",
        "float",
        1.0,
        "seconds before a daemon retries a failed report to the manager",
        services=("common",),
    ),
    _o(
        "mgr_stats_period",
        "int",
        5,
        "seconds between daemon stat reports to the manager",
        level="basic",
        services=("mgr",),
    ),
    _o(
        "mgr_module_path",
        "str",
        "/usr/share/ceph/mgr",
        "directory searched for manager modules",
        services=("mgr",),
    ),
    _o(
        "mgr_initial_modules",
        "str",
        "restful iostat nfs",
        "modules enabled in a new cluster",
        level="basic",
        services=("mon",),
        flags=("no_mon_update", "cluster_create"),
    ),
    _o(
        "mgr_disabled_modules",
        "str",
        "diskprediction_local",
        "modules never loaded",
        services=("mgr",),
        flags=("startup",),
    ),
    _o("mgr_standby_modules", "bool", True, "run modules in standby mode on standby managers"),
    _o(
        "mgr_client_bytes",
        "size",
        134217728,
        "bytes of client messages the manager holds in memory",
        level="dev",
        services=("mgr",),
    ),
    _o(
        "mgr_client_messages",
        "uint",
        512,
        "client messages the manager holds in memory",
        level="dev",
        services=("mgr",),
    ),
    _o(
        "mgr_stats_threshold",
        "int",
        5,
        "lowest priority of perf counters sent to the manager",
        min=0,
        max=11,
    ),
    _o(
        "mgr_debug_aggressive_pg_num_changes",
        "bool",
        False,
        "let pg_num change faster (testing)",
        level="dev",
        services=("mgr",),
    ),
    _o(
        "osd_scrub_min_interval",
        "float",
        86400.0,
        "seconds between scrubs of a PG when load allows",
    ),
    _o(
        "osd_scrub_max_interval",
        "float",
        604800.0,
        "seconds after which a PG is scrubbed regardless of load",
    ),
    _o(
        "osd_scrub_auto_repair",
        "bool",
        False,
        "repair inconsistencies found by scrub automatically",
    ),
    _o("osd_scrub_auto_repair_num_errors", "uint", 5, "most errors auto-repair will fix"),
    _o("osd_deep_scrub_interval", "float", 604800.0, "seconds between deep scrubs of a PG"),
    _o("osd_scrub_begin_hour", "int", 0, "hour of day scrubbing may start", min=0, max=23),
    _o("osd_scrub_end_hour", "int", 0, "hour of day scrubbing must stop", min=0, max=23),
    _o("osd_scrub_begin_week_day", "int", 0, "day of week scrubbing may start", min=0, max=6),
    _o("osd_scrub_end_week_day", "int", 0, "day of week scrubbing must stop", min=0, max=6),
    _o("osd_scrub_load_threshold", "float", 0.5, "load average above which scrubs are not started"),
    _o(
        "osd_scrub_sleep", "float", 0.0, "seconds to sleep between scrub chunks", flags=("runtime",)
    ),
    _o("osd_scrub_chunk_min", "int", 5, "fewest objects scrubbed in one chunk"),
    _o("osd_scrub_chunk_max", "int", 25, "most objects scrubbed in one chunk"),
    _o("osd_max_scrubs", "int", 1, "concurrent scrubs per OSD"),
    _o("osd_deep_scrub_stride", "size", 524288, "read size used by deep scrub"),
    _o("osd_scrub_during_recovery", "bool", False, "allow scrubs while recovery is running"),
    _o(
        "osd_scrub_interval_randomize_ratio", "float", 0.5, "random spread added to scrub intervals"
    ),
    _o(
        "osd_recovery_max_active",
        "uint",
        0,
        "recovery ops in flight per OSD; 0 uses the hdd/ssd value",
        flags=("runtime",),
    ),
    _o(
        "osd_recovery_max_active_hdd",
        "uint",
        3,
        "recovery ops in flight per rotational OSD",
        flags=("runtime",),
    ),
    _o(
        "osd_recovery_max_active_ssd",
        "uint",
        10,
        "recovery ops in flight per solid-state OSD",
        flags=("runtime",),
    ),
    _o(
        "osd_max_backfills",
        "uint",
        1,
        "concurrent backfills to or from one OSD",
        flags=("runtime",),
    ),
    _o(
        "osd_recovery_sleep",
        "float",
        0.0,
        "seconds to sleep between recovery ops",
        flags=("runtime",),
    ),
    _o("osd_recovery_max_chunk", "size", 8388608, "largest chunk pushed by recovery"),
    _o("osd_recovery_max_single_start", "uint", 1, "recovery ops started at once per PG"),
    _o("osd_backfill_scan_min", "int", 64, "fewest objects examined per backfill scan"),
    _o("osd_backfill_scan_max", "int", 512, "most objects examined per backfill scan"),
    _o("osd_min_recovery_priority", "int", 0, "lowest priority of recovery that runs"),
    _o(
        "osd_backfill_retry_interval", "float", 30.0, "seconds before a refused backfill is retried"
    ),
    _o("osd_recovery_delay_start", "float", 0.0, "seconds recovery waits after peering"),
    _o(
        "osd_async_recovery_min_cost",
        "uint",
        100,
        "log divergence above which recovery is asynchronous",
        flags=("runtime",),
    ),
    _o(
        "osd_pg_max_concurrent_snap_trims",
        "uint",
        2,
        "snapshots trimmed concurrently per PG",
        min=1,
    ),
    _o("osd_agent_max_ops", "int", 4, "cache-tiering agent ops in flight"),
    _o(
        "rbd_default_features",
        "str",
        "layering,exclusive-lock,object-map,fast-diff,deep-flatten",
        "features of new RBD images (names or bitmask)",
        services=("rbd",),
        flags=("runtime",),
    ),
    _o("rbd_default_order", "uint", 22, "log2 of the object size of new images", services=("rbd",)),
    _o("rbd_default_format", "uint", 2, "image format of new images", services=("rbd",)),
    _o("rbd_default_pool", "str", "rbd", "pool used when none is named", services=("rbd",)),
    _o("rbd_default_data_pool", "str", "", "separate data pool for new images", services=("rbd",)),
    _o(
        "rbd_default_stripe_count",
        "uint",
        0,
        "stripe count of new images; 0 means 1",
        services=("rbd",),
    ),
    _o(
        "rbd_default_stripe_unit",
        "size",
        0,
        "stripe unit of new images; 0 means the object size",
        services=("rbd",),
    ),
    _o("rbd_cache", "bool", True, "enable the client write-back cache", services=("rbd",)),
    _o("rbd_cache_size", "size", 33554432, "client cache size in bytes", services=("rbd",)),
    _o(
        "rbd_cache_max_dirty",
        "size",
        25165824,
        "dirty bytes at which writes block",
        services=("rbd",),
    ),
    _o(
        "rbd_cache_target_dirty",
        "size",
        16777216,
        "dirty bytes at which flushing starts",
        services=("rbd",),
    ),
    _o(
        "rbd_cache_max_dirty_age",
        "float",
        1.0,
        "seconds dirty data may stay in the cache",
        services=("rbd",),
    ),
    _o(
        "rbd_cache_writethrough_until_flush",
        "bool",
        True,
        "write through until the first flush is seen",
        services=("rbd",),
    ),
    _o(
        "rbd_cache_policy",
        "str",
        "writearound",
        "client cache policy",
        enum_allowed=("writethrough", "writeback", "writearound"),
        services=("rbd",),
    ),
    _o("rbd_op_threads", "uint", 1, "threads for image operations", services=("rbd",)),
    _o(
        "rbd_skip_partial_discard",
        "bool",
        True,
        "ignore discards that do not cover a whole object",
        services=("rbd",),
    ),
    _o(
        "rbd_default_clone_format",
        "str",
        "auto",
        "clone format of new clones",
        enum_allowed=("1", "2", "auto"),
        services=("rbd",),
        flags=("runtime",),
    ),
    _o(
        "rbd_move_to_trash_on_remove",
        "bool",
        False,
        "move removed images to the trash",
        level="basic",
        services=("rbd",),
    ),
    _o(
        "rbd_move_parent_to_trash_on_remove",
        "bool",
        False,
        "move removed parent images to the trash",
        level="basic",
        services=("rbd",),
    ),
    _o(
        "rbd_auto_exclusive_lock_until_manual_request",
        "bool",
        True,
        "take the exclusive lock automatically",
        services=("rbd",),
    ),
    _o(
        "rbd_validate_pool",
        "bool",
        True,
        "check that a pool is empty or holds RBD data",
        services=("rbd",),
    ),
    _o(
        "rbd_validate_names",
        "bool",
        True,
        "reject image and snapshot names with a slash",
        services=("rbd",),
    ),
    _o(
        "rbd_readahead_max_bytes",
        "size",
        524288,
        "largest read-ahead; 0 disables",
        services=("rbd",),
    ),
    _o(
        "rbd_concurrent_management_ops",
        "uint",
        10,
        "concurrent ops during image management",
        min=1,
        services=("rbd",),
    ),
    _o(
        "rbd_blocklist_on_break_lock",
        "bool",
        True,
        "blocklist the owner when breaking a lock",
        services=("rbd",),
    ),
    _o(
        "rbd_blocklist_expire_seconds",
        "uint",
        0,
        "seconds such a blocklist entry lasts; 0 uses the cluster default",
        services=("rbd",),
    ),
    _o(
        "rbd_request_timed_out_seconds",
        "uint",
        30,
        "seconds before a peer request times out",
        services=("rbd",),
    ),
    _o(
        "rbd_mirroring_resync_after_disconnect",
        "bool",
        False,
        "resync a mirrored image after disconnect",
        services=("rbd",),
    ),
    _o("rbd_tracing", "bool", False, "enable tracing", services=("rbd",)),
    _o(
        "rbd_read_from_replica_policy",
        "str",
        "default",
        "which replica serves image reads",
        enum_allowed=("default", "balance", "localize"),
        level="basic",
        services=("rbd",),
        flags=("runtime",),
    ),
    _o(
        "rbd_io_scheduler",
        "str",
        "simple",
        "I/O scheduler",
        enum_allowed=("none", "simple"),
        services=("rbd",),
    ),
    _o("rbd_enable_alloc_hint", "bool", True, "send allocation hints", services=("rbd",)),
    _o(
        "rbd_clone_copy_on_read",
        "bool",
        False,
        "copy parent data into a clone on read",
        services=("rbd",),
    ),
    _o(
        "rbd_balance_snap_reads",
        "bool",
        False,
        "spread snapshot reads over replicas",
        services=("rbd",),
    ),
    _o(
        "rbd_localize_snap_reads",
        "bool",
        False,
        "send snapshot reads to the nearest replica",
        services=("rbd",),
    ),
    _o(
        "rbd_balance_parent_reads",
        "bool",
        False,
        "spread parent reads over replicas",
        services=("rbd",),
    ),
    _o(
        "rbd_localize_parent_reads",
        "bool",
        False,
        "send parent reads to the nearest replica",
        services=("rbd",),
    ),
    _o(
        "rbd_sparse_read_threshold_bytes",
        "size",
        65536,
        "reads at least this large use sparse read",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_order",
        "uint",
        24,
        "log2 of the journal object size",
        min=12,
        max=26,
        services=("rbd",),
    ),
    _o("rbd_journal_splay_width", "uint", 4, "number of active journal objects", services=("rbd",)),
    _o("rbd_journal_pool", "str", "", "pool for journal objects", services=("rbd",)),
    # the rest of librbd's options as Pacific's `rbd config image ls` lists them
    # (src/common/options.cc get_rbd_options: names, types, defaults, bounds)
    _o(
        "rbd_atime_update_interval",
        "uint",
        60,
        "seconds between image access time updates",
        services=("rbd",),
    ),
    _o(
        "rbd_mtime_update_interval",
        "uint",
        60,
        "seconds between image modify time updates",
        services=("rbd",),
    ),
    _o(
        "rbd_blkin_trace_all",
        "bool",
        False,
        "create a blkin trace for all RBD requests",
        services=("rbd",),
    ),
    _o(
        "rbd_cache_block_writes_upfront",
        "bool",
        False,
        "whether to block writes to the cache before the aio_write call completes",
        services=("rbd",),
    ),
    _o(
        "rbd_cache_max_dirty_object",
        "uint",
        0,
        "dirty limit for objects (0: computed from rbd_cache_size)",
        services=("rbd",),
    ),
    _o(
        "rbd_compression_hint",
        "str",
        "none",
        "compression hint to send to the OSDs during writes",
        enum_allowed=("none", "compressible", "incompressible"),
        services=("rbd",),
    ),
    _o("rbd_default_map_options", "str", "", "default krbd map options", services=("rbd",)),
    _o(
        "rbd_default_snapshot_quiesce_mode",
        "str",
        "required",
        "default snapshot quiesce mode",
        enum_allowed=("required", "ignore-error", "skip"),
        services=("rbd",),
    ),
    _o(
        "rbd_disable_zero_copy_writes",
        "bool",
        True,
        "disable the use of zero-copy writes "
        "to ensure unstable writes from clients cannot cause a CRC mismatch",
        services=("rbd",),
    ),
    _o(
        "rbd_discard_granularity_bytes",
        "uint",
        65536,
        "minimum aligned size of discard operations",
        min=4096,
        max=33554432,
        services=("rbd",),
    ),
    _o(
        "rbd_invalidate_object_map_on_timeout",
        "bool",
        True,
        "true if object map should be invalidated when load or update timeout",
        services=("rbd",),
    ),
    _o(
        "rbd_io_scheduler_simple_max_delay",
        "uint",
        0,
        "maximum io delay (in milliseconds) "
        "for simple io scheduler (if set to 0 dalay is calculated based on latency stats)",
        services=("rbd",),
    ),
    _o("rbd_journal_commit_age", "float", 5.0, "commit time interval, seconds", services=("rbd",)),
    _o(
        "rbd_journal_max_concurrent_object_sets",
        "int",
        0,
        "maximum number of object sets "
        "a journal client can be behind before it is automatically unregistered",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_max_payload_bytes",
        "size",
        16384,
        "maximum journal payload size before splitting",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_object_flush_age",
        "float",
        0.0,
        "maximum age (in seconds) for pending commits",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_object_flush_bytes",
        "size",
        1048576,
        "maximum number of pending bytes per journal object",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_object_flush_interval",
        "uint",
        0,
        "maximum number of pending commits per journal object",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_object_max_in_flight_appends",
        "uint",
        0,
        "maximum number of in-flight appends per journal object",
        services=("rbd",),
    ),
    _o(
        "rbd_journal_object_writethrough_until_flush",
        "bool",
        True,
        "when enabled, the "
        "rbd_journal_object_flush* configuration options are ignored until the first flush",
        services=("rbd",),
    ),
    _o(
        "rbd_mirror_journal_commit_age",
        "float",
        5.0,
        "seconds between journal commit position updates",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_journal_poll_age",
        "float",
        5.0,
        "longest wait in seconds between two journal polls",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_sync_point_update_age",
        "float",
        30.0,
        "seconds between updates of an image sync's progress point",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_concurrent_image_syncs",
        "uint",
        5,
        "image syncs run at once",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_pool_replayers_refresh_interval",
        "uint",
        30,
        "seconds between peer refreshes of the rbd-mirror daemon",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_concurrent_image_deletions",
        "uint",
        1,
        "image deletions run at once",
        min=1,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_delete_retry_interval",
        "float",
        30.0,
        "seconds before a failed deletion is tried again",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_image_state_check_interval",
        "uint",
        30,
        "seconds between pool watcher scans feeding the replayers",
        min=1,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_leader_heartbeat_interval",
        "uint",
        5,
        "seconds between two heartbeats of the mirror leader",
        min=1,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_leader_max_missed_heartbeats",
        "uint",
        2,
        "missed leader heartbeats before another instance tries the lock",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_leader_max_acquire_attempts_before_break",
        "uint",
        3,
        "failed lock attempts after missed heartbeats before the lock is broken",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_image_policy_type",
        "str",
        "simple",
        "how images are mapped onto mirror daemon instances",
        enum_allowed=("none", "simple"),
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_image_policy_migration_throttle",
        "uint",
        300,
        "seconds before an image may move to another instance again",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_image_policy_update_throttle_interval",
        "float",
        1.0,
        "seconds that image updates for peers are batched over",
        min=1.0,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_image_policy_rebalance_timeout",
        "float",
        0.0,
        "idle seconds before images are rebalanced across instances",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_perf_stats_prio",
        "int",
        5,
        "priority of the daemon's replication perf counters",
        min=0,
        max=11,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_image_perf_stats_prio",
        "int",
        5,
        "priority of the daemon's per-image replication perf counters",
        min=0,
        max=11,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_autotune",
        "bool",
        True,
        "tune the cache ratios automatically within their minimums",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_target",
        "size",
        4 << 30,
        "bytes the daemon aims to keep mapped when autotuning",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_base",
        "size",
        768 << 20,
        "bytes the daemon is assumed to need at least when autotuning",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_expected_fragmentation",
        "float",
        0.15,
        "fraction of memory assumed lost to fragmentation when autotuning",
        min=0.0,
        max=1.0,
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_cache_min",
        "size",
        128 << 20,
        "least bytes given to caches when autotuning",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_cache_resize_interval",
        "float",
        5.0,
        "seconds between cache resizes when autotuning",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirror_memory_cache_autotune_interval",
        "float",
        30.0,
        "seconds between cache rebalances when autotuning",
        services=("rbd-mirror",),
    ),
    _o(
        "rbd_mirroring_delete_delay",
        "uint",
        0,
        "time-delay in seconds for rbd-mirror delete propagation",
        services=("rbd",),
    ),
    _o(
        "rbd_mirroring_max_mirroring_snapshots",
        "uint",
        5,
        "mirroring snapshots limit",
        min=3,
        services=("rbd",),
    ),
    _o(
        "rbd_mirroring_replay_delay",
        "int",
        0,
        "time-delay in seconds for rbd-mirror asynchronous replication",
        services=("rbd",),
    ),
    _o(
        "rbd_move_to_trash_on_remove_expire_seconds",
        "uint",
        0,
        "default number of seconds to protect deleted images in the trash",
        services=("rbd",),
    ),
    _o(
        "rbd_non_blocking_aio",
        "bool",
        True,
        "process AIO ops from a dispatch thread to prevent blocking",
        services=("rbd",),
    ),
    _o(
        "rbd_parent_cache_enabled",
        "bool",
        False,
        "whether to enable rbd shared ro cache",
        services=("rbd",),
    ),
    _o(
        "rbd_persistent_cache_mode",
        "str",
        "disabled",
        "enable persistent write back cache for this volume",
        enum_allowed=("disabled", "rwl", "ssd"),
        services=("rbd",),
    ),
    _o(
        "rbd_persistent_cache_path",
        "str",
        "/tmp",
        "location of the persistent write back "
        "cache in a DAX-enabled filesystem on persistent memory",
        services=("rbd",),
    ),
    _o(
        "rbd_persistent_cache_size",
        "uint",
        1073741824,
        "size of the persistent write back cache for this volume",
        min=1073741824,
        services=("rbd",),
    ),
    _o(
        "rbd_plugins",
        "str",
        "",
        "comma-delimited list of librbd plugins to enable",
        services=("rbd",),
    ),
    *(
        opt
        for kind, what in (("iops", "IO operations"), ("bps", "bytes"))
        for rw in ("", "read_", "write_")
        for opt in (
            _o(
                f"rbd_qos_{rw}{kind}_limit",
                "uint",
                0,
                f"the desired limit of {rw or ''}{what} per second",
                services=("rbd",),
            ),
            _o(
                f"rbd_qos_{rw}{kind}_burst",
                "uint",
                0,
                f"the desired burst limit of {rw or ''}{what}",
                services=("rbd",),
            ),
            _o(
                f"rbd_qos_{rw}{kind}_burst_seconds",
                "uint",
                1,
                "the desired burst duration in seconds",
                min=1,
                services=("rbd",),
            ),
        )
    ),
    _o(
        "rbd_qos_schedule_tick_min",
        "uint",
        50,
        "minimum schedule tick (in milliseconds) for QoS",
        min=1,
        services=("rbd",),
    ),
    _o(
        "rbd_quiesce_notification_attempts",
        "uint",
        10,
        "the number of quiesce notification attempts",
        min=1,
        services=("rbd",),
    ),
    _o(
        "rbd_readahead_disable_after_bytes",
        "size",
        52428800,
        "how many bytes are read in total before readahead is disabled",
        services=("rbd",),
    ),
    _o(
        "rbd_readahead_trigger_requests",
        "uint",
        10,
        "number of sequential requests necessary to trigger readahead",
        services=("rbd",),
    ),
    _o(
        "clog_to_monitors",
        "str",
        "default=true",
        "send cluster log entries to the monitors",
        flags=("runtime",),
    ),
    _o("clog_to_syslog", "str", "false", "send cluster log entries to syslog", flags=("runtime",)),
    _o(
        "mon_cluster_log_to_syslog",
        "str",
        "default=false",
        "monitors copy the cluster log to syslog",
        services=("mon",),
        flags=("runtime",),
    ),
    _o("perf", "bool", True, "keep performance counters"),
    _o(
        "enable_experimental_unrecoverable_data_corrupting_features",
        "str",
        "",
        "experimental features to enable",
        flags=("runtime",),
    ),
    _o(
        "osd_fast_fail_on_connection_refused",
        "bool",
        True,
        "report a peer down at once when it refuses connections",
    ),
    _o("throttler_perf_counter", "bool", True, "keep throttle performance counters"),
    _o(
        "mon_osd_blocklist_default_expire",
        "float",
        3600.0,
        "seconds a blocklist entry lasts by default",
        services=("mon",),
    ),
    _o(
        "mon_mds_blocklist_interval",
        "float",
        86400.0,
        "seconds a failed MDS stays blocklisted",
        min=3600.0,
        level="dev",
        services=("mon",),
        flags=("runtime",),
    ),
    _o(
        "mon_osd_snap_trim_queue_warn_on",
        "int",
        32768,
        "snap trim queue length that raises a warning",
        services=("mon",),
    ),
    _o(
        "mon_osd_warn_num_repaired",
        "uint",
        10,
        "repaired reads per OSD that raise a warning",
        services=("mon",),
    ),
    _o(
        "mon_osd_warn_op_age",
        "float",
        32.0,
        "seconds after which slow ops raise a warning",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_pool_pg_num_not_power_of_two",
        "bool",
        True,
        "warn about pools whose pg_num is not a power of two",
        level="dev",
        services=("mon",),
    ),
    _o(
        "mon_warn_on_too_few_osds",
        "bool",
        True,
        "warn when there are fewer OSDs than the pool size",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_crush_straw_calc_version_zero",
        "bool",
        True,
        "warn about the old straw calculation",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_legacy_crush_tunables",
        "bool",
        True,
        "warn about legacy CRUSH tunables",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_msgr2_not_enabled",
        "bool",
        True,
        "warn when monitors lack v2 addresses",
        services=("mon",),
    ),
    _o(
        "mon_warn_on_slow_ping_time",
        "float",
        0.0,
        "heartbeat ping time in ms that raises a warning; 0 uses the ratio",
        services=("mgr",),
    ),
    _o(
        "mon_warn_on_slow_ping_ratio",
        "float",
        0.05,
        "fraction of the grace period that counts as a slow ping",
        services=("mgr",),
    ),
    _o("osd_crush_update_weight_set", "bool", True, "update weight sets with CRUSH weights"),
    _o(
        "osd_check_max_object_name_len_on_startup",
        "bool",
        True,
        "check the backend supports the longest names",
        level="dev",
    ),
    _o(
        "osd_pool_default_read_lease_ratio",
        "float",
        0.8,
        "read lease as a fraction of the heartbeat grace",
        level="dev",
        flags=("runtime",),
    ),
    _o("osd_max_trimming_pgs", "uint", 2, "PGs trimming snapshots at once per OSD"),
    _o(
        "osd_pool_default_hit_set_bloom_fpp",
        "float",
        0.05,
        "false-positive rate of hit-set bloom filters",
        services=("mon",),
    ),
    _o(
        "osd_tier_default_cache_mode",
        "str",
        "writeback",
        "cache mode of new cache tiers",
        enum_allowed=(
            "none",
            "writeback",
            "forward",
            "readonly",
            "readforward",
            "readproxy",
            "proxy",
        ),
        flags=("runtime",),
    ),
    _o(
        "osd_tier_default_cache_hit_set_type",
        "str",
        "bloom",
        "hit set type of new cache tiers",
        enum_allowed=("bloom", "explicit_hash", "explicit_object"),
        flags=("runtime",),
    ),
    _o("osd_tier_default_cache_hit_set_count", "uint", 4, "hit sets kept by new cache tiers"),
    _o("osd_tier_default_cache_hit_set_period", "uint", 1200, "seconds per hit set"),
    _o(
        "osd_tier_default_cache_min_read_recency_for_promote",
        "uint",
        1,
        "hit sets a read must be in to promote",
    ),
    _o(
        "osd_tier_default_cache_min_write_recency_for_promote",
        "uint",
        1,
        "hit sets a write must be in to promote",
    ),
    _o(
        "osd_tier_default_cache_hit_set_grade_decay_rate",
        "uint",
        20,
        "temperature decay between hit sets, percent",
    ),
    _o(
        "osd_tier_default_cache_hit_set_search_last_n",
        "uint",
        1,
        "hit sets searched for an object's temperature",
    ),
    _o(
        "mon_debug_unsafe_allow_tier_with_nonempty_snaps",
        "bool",
        False,
        "allow a tier over a pool with snapshots (unsafe)",
        level="dev",
        services=("mon",),
    ),
    _o(
        "mon_fake_pool_delete",
        "bool",
        False,
        "rename instead of deleting pools (testing)",
        services=("mon",),
    ),
)

# Logging subsystems: upstream defines one `debug_<subsys>` option per
# subsystem, type str, value "N/M" (log level / in-memory gather level).
_DEBUG_DEFAULTS = (
    "asok=1/5 auth=1/5 bdev=1/3 bluefs=1/5 bluestore=1/5 buffer=0/1 cephfs_mirror=0/5 "
    "cephsqlite=0/5 civetweb=1/10 client=0/5 compressor=1/5 context=0/1 crush=1/1 "
    "crypto=1/5 dpdk=1/5 eventtrace=1/5 filer=0/1 filestore=1/3 finisher=1/1 fuse=1/5 "
    "heartbeatmap=1/5 immutable_obj_cache=0/5 javaclient=1/5 journal=1/3 journaler=0/5 "
    "kstore=1/5 leveldb=4/5 lockdep=0/1 mds=1/5 mds_balancer=1/5 mds_locker=1/5 "
    "mds_log=1/5 mds_log_expire=1/5 mds_migrator=1/5 memdb=4/5 mgr=2/5 mgrc=1/5 mon=1/5 "
    "monc=0/10 ms=0/0 none=0/5 objclass=0/5 objectcacher=0/5 objecter=0/1 optracker=0/5 "
    "osd=1/5 paxos=1/5 perfcounter=1/5 prioritycache=1/5 rados=0/5 rbd=0/5 rbd_mirror=0/5 "
    "rbd_pwl=0/5 rbd_replay=0/5 refs=0/0 reserver=1/1 rgw=1/5 rgw_sync=1/5 rocksdb=4/5 "
    "striper=0/1 test=0/5 throttle=1/1 timer=0/1 tp=0/5"
)
_DEBUG: tuple[Option, ...] = tuple(
    _o(
        f"debug_{sub}",
        "str",
        value,
        f"log level/gather level for the {sub} subsystem ('N' or 'N/M', 0-99)",
        flags=("runtime",),
    )
    for sub, value in (item.split("=") for item in _DEBUG_DEFAULTS.split())
)

# --------------------------------------------------------------------------
# pyceph's own options: bounds and knobs upstream does not have.
# --------------------------------------------------------------------------
_GiB = 1 << 30
_MiB = 1 << 20
_PYCEPH: tuple[Option, ...] = (
    _o(
        "pyceph_osd_capacity",
        "size",
        10 * _GiB,
        "capacity an OSD reports and sizes its LMDB map with",
        min=64 * _MiB,
        services=("osd",),
        flags=("startup",),
    ),
    _o(
        "pyceph_max_message_size",
        "size",
        256 * _MiB,
        "largest message (all segments) a connection accepts; larger is a protocol error",
        min=_MiB,
        flags=("startup",),
    ),
    _o(
        "pyceph_conn_send_queue_bytes",
        "size",
        256 * _MiB,
        "bytes queued for sending on one connection before senders wait",
        min=_MiB,
    ),
    _o(
        "pyceph_store_extent_size",
        "size",
        64 * 1024,
        "size of the fixed data extents objects are stored in",
        min=4096,
        max=4 * _MiB,
        services=("osd",),
        flags=("create",),
    ),
    _o(
        "pyceph_store_group_commit_max_ops",
        "uint",
        256,
        "most transactions committed by one store write batch",
        min=1,
        services=("osd",),
    ),
    _o(
        "pyceph_heap_free_max",
        "size",
        8 * _MiB,
        "free C heap a daemon keeps before it returns the rest to the system (malloc_trim)",
        min=0,
    ),
    _o(
        "pyceph_heap_trim_interval",
        "float",
        1.0,
        "seconds between a daemon's checks of its free C heap (0: never trim)",
        min=0.0,
    ),
    _o(
        "pyceph_embedded_num_osds",
        "uint",
        3,
        "OSDs started by an embedded (mon_host = embedded:...) cluster",
        min=1,
        max=64,
    ),
    _o(
        "pyceph_ms_max_head_len",
        "size",
        16 * _MiB,
        "largest message head (msgpack) a connection accepts; larger is a protocol error",
        min=64 * 1024,
        flags=("startup",),
    ),
    _o(
        "pyceph_ms_max_preauth_frame",
        "size",
        64 * 1024,
        "largest frame a peer may send before it has authenticated",
        min=4096,
        flags=("startup",),
    ),
    _o(
        "pyceph_ms_max_unauthenticated",
        "uint",
        1024,
        "accepted connections a daemon holds that have not authenticated yet",
        min=1,
    ),
    # gone from Pacific with ceph-rest-api (Luminous's was "0.0.0.0:5000"); pyceph keeps
    # it for its ceph-rest-api, on loopback by default
    _o("restapi_public_addr", "str", "127.0.0.1:5000", "address:port ceph-rest-api listens on"),
)

OPTIONS: dict[str, Option] = {o.name: o for o in (*_UPSTREAM, *_DEBUG, *_PYCEPH)}


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------
def normalize_key(name: str) -> str:
    """Upstream's `ConfFile::normalize_key_name`: trim, and turn whitespace runs into `_`.

    This is what ceph.conf keys and `conf_get`/`conf_set` names go through; dashes
    are kept ("mon-host" is not "mon_host" there).
    """
    return re.sub(r"\s+", "_", name.strip())


def normalize_name(name: str) -> str:
    """Loose form: spaces and dashes both become underscores ("mon-host" -> "mon_host").

    Upstream applies dash folding only to command-line flags (`--mon-host`).
    """
    return normalize_key(name).replace("-", "_")


def find_option(name: str) -> Option | None:
    """The option named `name` (after `normalize_key`), or None."""
    return OPTIONS.get(normalize_key(name))


# --------------------------------------------------------------------------
# Scalar parsers (upstream's strict_si_cast, strict_iec_cast, strict_strtod,
# strict_strtob, parse_timespan, entity_addr_t::parse, uuid_d::parse)
# --------------------------------------------------------------------------
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_C_INT_RE = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def _strict_strtoll(text: str) -> int:
    m = _C_INT_RE.fullmatch(text)
    if not m:
        raise OptionValueError(f"Expected option value to be integer, got '{text}'")
    value = int(m.group(1))
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OptionValueError(f"The option value '{text}' seems to be invalid")
    return value


def parse_si_int(text: str, unsigned: bool = False) -> int:
    """Integer with an optional SI suffix K/M/G/T/P/E (powers of 1000), as `strict_si_cast`."""
    if not text:
        raise OptionValueError("strict_sistrtoll: value not specified")
    digits = text
    exp = 0
    if any(c not in "0123456789+-" for c in text):
        unit = text[-1]
        exp = {"K": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}.get(unit, 0)
        if exp == 0 and unit != "B":
            raise OptionValueError("strict_si_cast: unit prefix not recognized")
        if exp:
            digits = text[:-1]
    value = _strict_strtoll(digits)
    if value < 0 and unsigned:
        raise OptionValueError("strict_sistrtoll: value should not be negative")
    coef = 10**exp
    lo, hi = (0, _UINT64_MAX) if unsigned else (_INT64_MIN, _INT64_MAX)
    if not (lo // coef if lo >= 0 else -(-lo // coef)) <= value <= hi // coef:
        raise OptionValueError("strict_sistrtoll: value out of range")
    return value * coef


def parse_iec_size(text: str) -> int:
    """Byte count with an optional binary suffix, as `strict_iec_cast<uint64_t>`.

    "4096", "1K"/"1Ki"/"1KB" (1024), "10G", "1E"; the suffix is at most two
    characters and starts with K, M, G, T, P, E or B; "Bi" is refused.
    """
    if not text:
        raise OptionValueError("strict_iecstrtoll: value not specified")
    digits = text
    shift = 0
    pos = next((i for i, c in enumerate(text) if c not in "0123456789-+"), None)
    if pos is not None:
        digits, unit = text[:pos], text[pos:]
        if unit.endswith("i") and unit.startswith("B"):
            raise OptionValueError('strict_iecstrtoll: illegal prefix "Bi"')
        if len(unit) > 2:
            raise OptionValueError("strict_iecstrtoll: illegal prefix (length > 2)")
        shifts = {"K": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60, "B": 0}
        if unit[0] not in shifts:
            raise OptionValueError("strict_iecstrtoll: unit prefix not recognized")
        shift = shifts[unit[0]]
    value = _strict_strtoll(digits)
    if value < 0:
        raise OptionValueError("strict_iecstrtoll: value should not be negative")
    if value > _UINT64_MAX >> shift:
        raise OptionValueError("strict_iecstrtoll: the integer value exceeds the max value")
    return value << shift


_FLOAT_RE = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:"
    r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?"
    r")",
    re.IGNORECASE,
)


def parse_float(text: str) -> float:
    """A C `strtod` number that uses the whole string (leading blanks allowed)."""
    m = _FLOAT_RE.fullmatch(text)
    if not m:
        if _FLOAT_RE.match(text):
            raise OptionValueError(f"strict_strtod: garbage at end of string. got: '{text}'")
        raise OptionValueError(f"strict_strtod: expected double, got: '{text}'")
    body = text.strip()
    sign = -1.0 if body.startswith("-") else 1.0
    core = body.lstrip("+-").lower()
    if core.startswith("nan"):
        return math.nan
    if core.startswith("inf"):
        return sign * math.inf
    if core.startswith("0x"):
        value = float.fromhex(body if "p" in core else body + "p0")
    else:
        value = float(body)
    if math.isinf(value):
        raise OptionValueError(
            f"strict_strtod: floating point overflow or underflow parsing '{text}'"
        )
    return value


def parse_bool(text: str) -> bool:
    """ "true"/"false" in any case, or an integer (non-zero is true), as `strict_strtob`."""
    low = text.lower()
    if low == "false":
        return False
    if low == "true":
        return True
    m = _C_INT_RE.fullmatch(text)
    if not m:
        raise OptionValueError(f"Expected option value to be integer, got '{text}'")
    return int(m.group(1)) != 0


_TIME_UNITS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 7 * 86400),
    **dict.fromkeys(("mo", "month", "months"), 30 * 86400),
    **dict.fromkeys(("y", "yr", "year", "years"), 365 * 86400),
}


def parse_timespan(text: str) -> int:
    """Seconds from "30", "5m", "1h 30m", "2d", "1w", "1mo", "1y" (upstream `parse_timespan`)."""
    total = 0
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        while i < n and text[i] in "0123456789":
            i += 1
        if start == i:
            raise OptionValueError("expected digit")
        value = int(text[start:i])
        if value > _UINT64_MAX:
            raise OptionValueError("value out of range")
        while i < n and text[i].isspace():
            i += 1
        ustart = i
        while i < n and text[i].isascii() and text[i].isalpha():
            i += 1
        if ustart != i:
            unit = text[ustart:i]
            if unit not in _TIME_UNITS:
                raise OptionValueError(f"unrecogized unit '{unit}'")
            value *= _TIME_UNITS[unit]
        elif i < n:
            raise OptionValueError(f"unexpected trailing '{text[i:]}'")
        total += value
    return total


def _parse_millisecs(text: str) -> int:
    m = re.match(r"[ \t\n\v\f\r]*([+-]?)([0-9]+)", text)
    if not m:
        raise OptionValueError("stoull")
    value = int(m.group(2))
    if value > _UINT64_MAX:
        raise OptionValueError("stoull")
    return (-value) % (1 << 64) if m.group(1) == "-" else value


_UUID_RE = re.compile(
    r"\{?([0-9a-fA-F]{8})(-?)([0-9a-fA-F]{4})\2([0-9a-fA-F]{4})\2([0-9a-fA-F]{4})\2"
    r"([0-9a-fA-F]{12})\}?"
)


def parse_uuid(text: str) -> str:
    """Canonical lower-case dashed form of a UUID (braces and dashes optional)."""
    m = _UUID_RE.fullmatch(text)
    if not m or (text.startswith("{") != text.endswith("}")):
        raise OptionValueError(f"failed to parse uuid '{text}'")
    g = m.groups()
    return "-".join((g[0], g[2], g[3], g[4], g[5])).lower()


_ADDR_TYPES = {"v1": "v1", "v2": "v2", "any": "any"}


def _parse_one_addr(text: str, pos: int) -> tuple[str, int]:
    """Parse one entity_addr_t at text[pos:]; return (formatted, end position)."""
    kind = "v2"
    for prefix in ("v1:", "v2:", "any:"):
        if text.startswith(prefix, pos):
            kind = _ADDR_TYPES[prefix[:-1]]
            pos += len(prefix)
            break
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    if text.startswith("[", pos):
        close = text.find("]", pos)
        if close < 0:
            raise OptionValueError(f"failed to parse address '{text}'")
        try:
            ip = ipaddress.IPv6Address(text[pos + 1 : close])
        except ValueError:
            raise OptionValueError(f"failed to parse address '{text}'")
        pos = close + 1
    else:
        m = re.compile(r"[0-9.]+").match(text, pos)
        ip = None  # type: ignore[assignment]
        if m:
            try:
                ip = ipaddress.IPv4Address(m.group(0))
                pos = m.end()
            except ValueError:
                ip = None  # type: ignore[assignment]
        if ip is None:
            m6 = re.compile(r"[0-9A-Fa-f:.]+").match(text, pos)
            try:
                ip = ipaddress.IPv6Address(m6.group(0) if m6 else "")
            except ValueError:
                raise OptionValueError(f"failed to parse address '{text}'")
            pos = m6.end()  # type: ignore[union-attr]
    port = 0
    if text.startswith(":", pos):
        m = re.compile(r"[0-9]+").match(text, pos + 1)
        if not m or int(m.group(0)) > 65535:
            raise OptionValueError(f"failed to parse address '{text}'")
        port = int(m.group(0))
        pos = m.end()
    nonce = 0
    if text.startswith("/", pos):
        m = re.compile(r"[0-9]+").match(text, pos + 1)
        if not m or int(m.group(0)) > 0xFFFFFFFF:
            raise OptionValueError(f"failed to parse address '{text}'")
        nonce = int(m.group(0))
        pos = m.end()
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    prefix = "" if kind == "any" else f"{kind}:"
    return f"{prefix}{host}:{port}/{nonce}", pos


def parse_addr(text: str) -> str:
    """An entity address, printed as upstream does: "v2:1.2.3.4:6789/0"; "-" is blank."""
    if text == "-":
        return "-"
    formatted, end = _parse_one_addr(text, 0)
    if end != len(text):
        raise OptionValueError(f"failed to parse address '{text}'")
    return formatted


def parse_addrvec(text: str) -> str:
    """An address vector: "[v2:a:3300,v1:a:6789]" or one address."""
    if text.startswith("[") and text.endswith("]") and not text.startswith("[", 1):
        inner = text[1:-1]
        if not inner or inner.startswith("v") or inner.startswith("a") or "," in inner:
            parts = [parse_addr(p) for p in inner.split(",")] if inner else []
            if not parts:
                raise OptionValueError(f"failed to parse address vector '{text}'")
            return parts[0] if len(parts) == 1 else "[" + ",".join(parts) + "]"
    if not text:
        raise OptionValueError("failed to parse address vector ''")
    return parse_addr(text)


# --------------------------------------------------------------------------
# Validators of individual string options (upstream's set_validator hooks).
# A validator may rewrite the text; it raises OptionValueError on bad input.
# --------------------------------------------------------------------------
_DEBUG_RE = re.compile(r"\s*([+-]?\d+)(?:/\s*([+-]?\d+))?")


def _validate_debug(text: str) -> str:
    m = _DEBUG_RE.match(text)
    if not m:
        raise OptionValueError("value must take the form N or N/M, where N and M are integers")
    log, gather = int(m.group(1)), m.group(2)
    if not 0 <= log <= 99 or (gather is not None and not 0 <= int(gather) <= 99):
        raise OptionValueError("value must be in range [0, 99]", errno.ERANGE)
    if gather is None:
        return f"{log}/{log}"
    return text


RBD_FEATURES = {
    "layering": 1,
    "striping": 2,
    "exclusive-lock": 4,
    "object-map": 8,
    "fast-diff": 16,
    "deep-flatten": 32,
    "journaling": 64,
    "data-pool": 128,
    "operations": 256,
    "migrating": 512,
    "non-primary": 1024,
    "dirty-cache": 2048,
}
_RBD_FEATURES_DEFAULT = 61
_RBD_FEATURES_SETTABLE_BITS = 0xFF


def _validate_rbd_features(text: str) -> str:
    value = text.strip()
    if not value:
        return str(_RBD_FEATURES_DEFAULT)
    if value.isdigit():
        features = int(value)
        if features & ~_RBD_FEATURES_SETTABLE_BITS:
            raise OptionValueError(
                f"ignoring feature mask 0x{features & ~_RBD_FEATURES_SETTABLE_BITS:x}"
            )
        return str(features)
    features = 0
    unknown = []
    for part in value.split(","):
        name = part.strip()
        if name in RBD_FEATURES:
            features += RBD_FEATURES[name]
        else:
            unknown.append(f"ignoring unknown feature {name}")
    if unknown:
        raise OptionValueError(", ".join(unknown))
    return str(features)


_VALIDATORS: dict[str, Callable[[str], str]] = {
    "rbd_default_features": _validate_rbd_features,
    **{o.name: _validate_debug for o in _DEBUG},
}


# --------------------------------------------------------------------------
# parse_value / format_value
# --------------------------------------------------------------------------
def format_value(option: Option, value: Any) -> str:
    """Text of a typed value as `conf_get` returns it ("3", "true", "0.950000")."""
    if value is None:
        return ""
    if option.type == "bool":
        return "true" if value else "false"
    if option.type == "float":
        return _format_float(float(value))
    return str(value)


def _format_float(value: float) -> str:
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:f}"


def _check_bounds(option: Option, value: Any) -> None:
    if option.min is not None and value < option.min:
        raise OptionValueError(
            f"Value '{format_value(option, value)}' is below minimum "
            f"{format_value(option, option.min)}"
        )
    if option.max is not None and value > option.max:
        raise OptionValueError(
            f"Value '{format_value(option, value)}' exceeds maximum "
            f"{format_value(option, option.max)}"
        )
    if option.enum_allowed and option.type == "str" and value not in option.enum_allowed:
        raise OptionValueError(
            f"'{value}' is not one of the permitted values: {', '.join(option.enum_allowed)}"
        )


def parse_value(option: Option, text: str) -> Any:
    """Parse `text` for `option` exactly as upstream's `Option::parse_value`.

    Returns the typed value (int for int/uint/size/secs/millisecs, float, bool,
    str for str/uuid/addr/addrvec in canonical form).  Raises OptionValueError
    (a ValueError; errno EINVAL, ERANGE for out-of-range debug levels) with
    upstream's message, e.g. "Value '11' exceeds maximum 10".
    """
    if not isinstance(text, str):
        raise TypeError(f"option value must be a string, not {type(text).__name__}")
    validator = _VALIDATORS.get(option.name)
    if validator is not None:
        text = validator(text)
    t = option.type
    value: Any
    if t == "int":
        value = parse_si_int(text)
    elif t == "uint":
        value = parse_si_int(text, unsigned=True)
    elif t == "str":
        value = text
    elif t == "float":
        value = parse_float(text)
    elif t == "bool":
        value = parse_bool(text)
    elif t == "addr":
        value = parse_addr(text)
    elif t == "addrvec":
        value = parse_addrvec(text)
    elif t == "uuid":
        value = parse_uuid(text)
    elif t == "size":
        value = parse_iec_size(text)
    elif t == "secs":
        value = parse_timespan(text)
    elif t == "millisecs":
        value = _parse_millisecs(text)
    else:  # pragma: no cover - table is checked by tests
        raise AssertionError(f"unknown option type {t!r}")
    _check_bounds(option, value)
    return value
