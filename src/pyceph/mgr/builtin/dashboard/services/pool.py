"""Pools and erasure-code profiles for the dashboard API, as plain synchronous functions.

Every function takes a `rados.Rados` handle (the mgr module's ``self.rados``, or any
client's in a test) and speaks to the monitor with its commands, as upstream's
dashboard does through ``CephService.send_command``. The views run them on the web
server's worker threads (``await server.blocking(...)``); nothing here knows HTTP.

Bad input is refused before anything changes: the variables a create or edit would
set are checked against the monitor's own ``osd pool set`` descriptor first, so an
unknown key gets `EINVAL` with the pool left as it was.

Upstream: src/pybind/mgr/dashboard/controllers/pool.py (Pool, PoolUi.info),
controllers/erasure_code_profile.py, services/ceph_service.py (send_command,
SendCommandError, get_pool_list_with_stats, get_erasure_code_profiles).
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

import rados
import rbd
from pyceph.common.cmdargs import find_command
from pyceph.common.options import find_option

from ..tasks import current_task

__all__ = [
    "COMPRESSION_ALGORITHMS",
    "COMPRESSION_MODES",
    "PG_WAIT_POLL",
    "PG_WAIT_TIMEOUT",
    "NoSuchObject",
    "SendCommandError",
    "ec_profile_create",
    "ec_profile_delete",
    "ec_profile_get",
    "ec_profile_list",
    "pool_configuration",
    "pool_create",
    "pool_delete",
    "pool_get",
    "pool_info",
    "pool_list",
    "pool_set",
    "check_configuration",
    "send_command",
    "serialize_pool",
]

#: seconds a create/edit task waits for the pool's PG count to reach its target
PG_WAIT_TIMEOUT = 60.0
#: seconds between two looks at the pool while it waits
PG_WAIT_POLL = 0.5
#: upstream's `bluestore_compression_algorithm` enum (src/common/options.cc)
COMPRESSION_ALGORITHMS = ("snappy", "zlib", "zstd", "lz4")
#: upstream's `bluestore_compression_mode` enum (src/common/options.cc)
COMPRESSION_MODES = ("none", "passive", "aggressive", "force")
#: upstream's `bluestore_compression_algorithm` default
DEFAULT_COMPRESSION_ALGORITHM = "snappy"
#: PG state words of a PG that went as far as it can without becoming active
STUCK_PG_STATES = frozenset({"incomplete", "peered", "down", "stale"})
#: pool type numbers of the OSDMap (pg_pool_t::TYPE_*) -> the API's names
POOL_TYPE_NAMES = {1: "replicated", 3: "erasure"}
#: prefix of RBD configuration overrides kept in pool/image metadata (librbd)
RBD_CONF_PREFIX = "conf_"
#: body keys of create/edit that are quotas, not `osd pool set` variables
QUOTA_KEYS = {"quota_max_bytes": "max_bytes", "quota_max_objects": "max_objects"}


class SendCommandError(rados.Error):
    """A monitor command failed: its `outs`, prefix, arguments and (negative) return code.

    As upstream's ``services.ceph_service.SendCommandError``: the errno is the
    command's return value, so the API's error ``code`` is its absolute value.
    """

    def __init__(self, err: str, prefix: str, argdict: dict[str, Any], errno: int) -> None:
        self.prefix = prefix
        self.argdict = argdict
        super().__init__(err, errno)


class NoSuchObject(LookupError):
    """A named pool or profile does not exist (the API answers 404)."""


def send_command(cluster: rados.Rados, prefix: str, **kwargs: Any) -> Any:
    """Run monitor command `prefix` with `kwargs` (None values dropped), JSON output.

    Returns the decoded JSON, or the raw output when it is not JSON; raises
    `SendCommandError` when the command fails.
    """
    argdict: dict[str, Any] = {"prefix": prefix, "format": "json"}
    argdict.update({k: v for k, v in kwargs.items() if v is not None})
    ret, outb, outs = cluster.mon_command(json.dumps(argdict), b"")
    if ret != 0:
        raise SendCommandError(outs, prefix, argdict, ret)
    try:
        return json.loads(outb or outs)
    except ValueError:
        return outb.decode() if isinstance(outb, bytes) else outb


def _pool_set_vars() -> frozenset[str]:
    desc = find_command("osd pool set")
    assert desc is not None, "the command table lacks 'osd pool set'"
    arg = desc.arg("var")
    assert arg is not None
    return frozenset(arg.strings)


#: the variables `osd pool set` accepts (the monitor's descriptor)
POOL_SET_VARS = _pool_set_vars()


# ---- reading ------------------------------------------------------------------------


def serialize_pool(
    pool: dict[str, Any], attrs: Iterable[str] | None, rule_names: dict[int, str]
) -> dict[str, Any]:
    """One pool of ``osd dump`` as the API shows it: type and crush rule by name, the
    application names as a list; only `attrs` when given (``pool_name`` always)."""
    keys = list(attrs) if attrs else list(pool)
    out: dict[str, Any] = {}
    for key in keys:
        if key not in pool:
            continue
        value = pool[key]
        if key == "type":
            value = POOL_TYPE_NAMES.get(value, str(value))
        elif key == "crush_rule":
            value = rule_names.get(value, value)
        elif key == "application_metadata":
            value = list(value)
        out[key] = value
    out["pool_name"] = pool["pool_name"]
    return out


def _rule_names(cluster: rados.Rados) -> dict[int, str]:
    return {r["rule_id"]: r["rule_name"] for r in send_command(cluster, "osd crush rule dump")}


#: a getter of named cluster state, as `MgrModule.get` (``df``, ``pg_summary``)
StateGetter = Callable[[str], Any]


def _mon_state(cluster: rados.Rados) -> StateGetter:
    """`MgrModule.get`'s ``df`` and ``pg_summary`` from monitor commands (a client that
    is not a mgr module)."""

    def get(name: str) -> Any:
        if name == "df":
            return send_command(cluster, "df", detail="detail")
        dump = send_command(cluster, "pg dump", dumpcontents=["pgs_brief"])
        by_pool: dict[str, dict[str, int]] = {}
        for pg in dump.get("pg_stats", []) if isinstance(dump, dict) else dump:
            counts = by_pool.setdefault(pg["pgid"].split(".")[0], {})
            counts[pg["state"]] = counts.get(pg["state"], 0) + 1
        return {"by_pool": by_pool}

    return get


def _with_stats(pools: list[dict[str, Any]], state: StateGetter) -> None:
    """Add ``stats`` ({name: {latest, rate, rates}}) and ``pg_status`` to each pool.
    Upstream: CephService.get_pool_list_with_stats."""
    by_id = {p["id"]: p["stats"] for p in (state("df") or {}).get("pools", [])}
    pg_status = (state("pg_summary") or {}).get("by_pool", {})
    for pool in pools:
        stats = by_id.get(pool["pool"], {})
        pool["stats"] = {k: {"latest": v, "rate": 0.0, "rates": []} for k, v in stats.items()}
        pool["pg_status"] = pg_status.get(str(pool["pool"]), {})


def pool_list(
    cluster: rados.Rados,
    attrs: str | None = None,
    stats: bool = False,
    state: StateGetter | None = None,
) -> list[dict[str, Any]]:
    """``GET /api/pool``: every pool; `attrs` a comma-separated key list; `stats` adds
    usage and PG states, read with `state` (the mgr's ``get``; monitor commands when
    None)."""
    pools = send_command(cluster, "osd dump")["pools"]
    if stats:
        _with_stats(pools, state or _mon_state(cluster))
    keys = attrs.split(",") if attrs else None
    rules = _rule_names(cluster)
    return [serialize_pool(p, keys, rules) for p in pools]


def _find_pool(
    cluster: rados.Rados,
    pool_name: str,
    attrs: str | None = None,
    stats: bool = False,
    state: StateGetter | None = None,
) -> dict[str, Any]:
    for pool in pool_list(cluster, attrs, stats, state):
        if pool["pool_name"] == pool_name:
            return pool
    raise NoSuchObject("No such pool")


def pool_configuration(
    cluster: rados.Rados, pool_name: str, state: StateGetter | None = None
) -> list[dict[str, Any]]:
    """``GET /api/pool/{name}/configuration``: the pool's RBD configuration.

    A pool that cannot answer gives [] without being asked, as upstream works around
    (services/rbd.py RbdConfiguration.list, for PGs stuck ``incomplete``): an op there
    would wait for PGs that may never go active, e.g. an erasure-coded pool wider than
    the cluster. That is a pool with no active PG and some PG stuck (`STUCK_PG_STATES`),
    or an erasure-coded one whose PGs are all still ``unknown``; PGs on their way
    (``unknown``, ``peering``, ``creating`` of a replicated pool) are waited for. PG
    states are read with `state` (the mgr's ``get``; monitor commands when None)."""
    pool = _find_pool(cluster, pool_name, "pool,type")
    by_pool = ((state or _mon_state(cluster))("pg_summary") or {}).get("by_pool", {})
    states = [set(name.split("+")) for name in by_pool.get(str(pool["pool"]), {})]
    if not any("active" in s for s in states) and (
        any(s & STUCK_PG_STATES for s in states)
        or (pool["type"] == "erasure" and all(s == {"unknown"} for s in states))
    ):
        return []
    with cluster.open_ioctx(pool_name) as ioctx:
        return list(rbd.RBD().config_list(ioctx))


def pool_get(
    cluster: rados.Rados,
    pool_name: str,
    attrs: str | None = None,
    stats: bool = False,
    state: StateGetter | None = None,
) -> dict[str, Any]:
    """``GET /api/pool/{name}``: one pool with its RBD ``configuration``."""
    pool = _find_pool(cluster, pool_name, attrs, stats, state)
    pool["configuration"] = pool_configuration(cluster, pool_name, state)
    return pool


# ---- writing ------------------------------------------------------------------------


def _check_pool_vars(kwargs: dict[str, Any]) -> None:
    unknown = sorted(
        k for k in kwargs if k not in POOL_SET_VARS and k not in QUOTA_KEYS and k != "pool"
    )
    if unknown:
        raise SendCommandError(
            f"{unknown[0]} not in {'|'.join(sorted(POOL_SET_VARS))}",
            "osd pool set",
            {"var": unknown[0]},
            -errno.EINVAL,
        )


def check_configuration(configuration: dict[str, Any] | None) -> None:
    """EINVAL unless every key names an RBD option (``rbd_*``, ``conf_`` prefix allowed)."""
    for name in configuration or {}:
        plain = name[len(RBD_CONF_PREFIX) :] if name.startswith(RBD_CONF_PREFIX) else name
        if not plain.startswith("rbd_") or find_option(plain) is None:
            raise SendCommandError(
                f"invalid config option: {name}", "config", {"name": name}, -errno.EINVAL
            )


def set_rbd_configuration(
    ioctx: rados.Ioctx, configuration: dict[str, Any] | None, image: rbd.Image | None = None
) -> None:
    """Set (value) or remove (None) RBD overrides on a pool, or on `image` when given.

    Upstream: services/rbd.py RbdConfiguration.set_configuration (``conf_`` metadata)."""
    handle = rbd.RBD()
    for name, value in (configuration or {}).items():
        key = name if name.startswith(RBD_CONF_PREFIX) else RBD_CONF_PREFIX + name
        try:
            if value is None:
                if image is not None:
                    image.metadata_remove(key)
                else:
                    handle.pool_metadata_remove(ioctx, key)
            elif image is not None:
                image.metadata_set(key, str(value))
            else:
                handle.pool_metadata_set(ioctx, key, str(value))
        except KeyError:  # removing an override that is not set
            pass


def _set_app_metadata(cluster: rados.Rados, pool: str, current: set[str], wanted: set[str]) -> None:
    for app in sorted(current - wanted):
        send_command(
            cluster, "osd pool application disable", pool=pool, app=app, yes_i_really_mean_it=True
        )
    for app in sorted(wanted - current):
        send_command(
            cluster, "osd pool application enable", pool=pool, app=app, yes_i_really_mean_it=True
        )


def _compression_removal(options: dict[str, Any], kwargs: dict[str, Any]) -> None:
    """``compression_mode: unset`` also resets the other compression settings set."""
    for key in (
        "compression_min_blob_size",
        "compression_max_blob_size",
        "compression_required_ratio",
    ):
        if options.get(key):
            kwargs[key] = "0"
    if options.get("compression_algorithm"):
        kwargs["compression_algorithm"] = "unset"


def _set_pool_values(
    cluster: rados.Rados,
    pool: str,
    application_metadata: list[str] | None,
    flags: list[str] | None,
    update_existing: bool,
    kwargs: dict[str, Any],
) -> str:
    """Apply a create/edit body to `pool`; returns the pool's name afterwards."""
    current = _find_pool(cluster, pool)
    if update_existing and kwargs.get("compression_mode") == "unset":
        _compression_removal(current.get("options", {}), kwargs)
    if flags and "ec_overwrites" in flags:
        send_command(cluster, "osd pool set", pool=pool, var="allow_ec_overwrites", val="true")
    if application_metadata is not None:
        have = set(current.get("application_metadata", [])) if update_existing else set()
        _set_app_metadata(cluster, pool, have, set(application_metadata))
    for key, field in QUOTA_KEYS.items():
        value = kwargs.pop(key, None)
        if value is not None:
            send_command(cluster, "osd pool set-quota", pool=pool, field=field, val=str(value))
    new_name = kwargs.pop("pool", None)
    for key, value in kwargs.items():
        send_command(cluster, "osd pool set", pool=pool, var=key, val=str(value))
        if key == "pg_num":
            send_command(cluster, "osd pool set", pool=pool, var="pgp_num", val=str(value))
    if new_name and new_name != pool:
        send_command(cluster, "osd pool rename", srcpool=pool, destpool=new_name)
        return str(new_name)
    return pool


def wait_for_pgs(
    cluster: rados.Rados,
    pool_name: str,
    timeout: float = PG_WAIT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait (at most `timeout`) until the pool's PG counts reach their targets, reporting
    progress to the running task. Upstream: Pool._wait_for_pgs."""
    pool = _find_pool(cluster, pool_name)
    initial = int(pool["pg_placement_num"]) + int(pool["pg_num"])
    deadline = time.monotonic() + timeout
    while "pg_num_target" in pool:
        target = int(pool["pg_num_target"]) + int(pool["pg_placement_num_target"])
        now = int(pool["pg_placement_num"]) + int(pool["pg_num"])
        if now == target or time.monotonic() >= deadline:
            return
        span = abs(target - initial) or 1
        task = current_task()
        if task is not None:
            task.set_progress(100 * (span - abs(target - now)) / span)
        sleep(PG_WAIT_POLL)
        pool = _find_pool(cluster, pool_name)


def pool_create(
    cluster: rados.Rados,
    pool: str,
    pg_num: int,
    pool_type: str = "replicated",
    erasure_code_profile: str | None = None,
    flags: list[str] | None = None,
    application_metadata: list[str] | None = None,
    rule_name: str | None = None,
    configuration: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """``POST /api/pool``: create the pool, then apply the rest of the body.

    An existing pool is refused with EEXIST (the monitor answers 0 to a create of an
    existing pool, and upstream's dashboard would then edit that pool with the body)."""
    _check_pool_vars(kwargs)
    check_configuration(configuration)
    if pool in cluster.list_pools():
        raise SendCommandError(
            f"pool '{pool}' already exists", "osd pool create", {"pool": pool}, -errno.EEXIST
        )
    send_command(
        cluster,
        "osd pool create",
        pool=pool,
        pg_num=int(pg_num),
        pgp_num=int(pg_num),
        pool_type=pool_type,
        erasure_code_profile=erasure_code_profile or None,
        rule=rule_name or None,
    )
    _set_pool_values(cluster, pool, application_metadata, flags, False, kwargs)
    if configuration:
        with cluster.open_ioctx(pool) as ioctx:
            set_rbd_configuration(ioctx, configuration)
    wait_for_pgs(cluster, pool)


def pool_set(
    cluster: rados.Rados,
    pool_name: str,
    flags: list[str] | None = None,
    application_metadata: list[str] | None = None,
    configuration: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """``PUT /api/pool/{name}``: size, pg_num, applications, quotas, rename (``pool``)..."""
    _check_pool_vars(kwargs)
    check_configuration(configuration)
    name = _set_pool_values(cluster, pool_name, application_metadata, flags, True, kwargs)
    if configuration:
        with cluster.open_ioctx(name) as ioctx:
            set_rbd_configuration(ioctx, configuration)
    wait_for_pgs(cluster, name)


def pool_delete(cluster: rados.Rados, pool_name: str) -> None:
    """``DELETE /api/pool/{name}``: the monitor refuses (EPERM) unless
    ``mon_allow_pool_delete`` is true, as upstream. A missing pool is `NoSuchObject`
    (the monitor answers 0 to deleting one that does not exist)."""
    if pool_name not in cluster.list_pools():
        raise NoSuchObject("No such pool")
    send_command(
        cluster,
        "osd pool delete",
        pool=pool_name,
        pool2=pool_name,
        yes_i_really_really_mean_it=True,
    )


# ---- the create form and erasure-code profiles -------------------------------------


def _config_value(cluster: rados.Rados, who: str, key: str, fallback: str) -> str:
    try:
        return str(send_command(cluster, "config get", who=who, key=key)).strip()
    except SendCommandError:  # an option this cluster does not know
        return fallback


def _enum(name: str, fallback: tuple[str, ...]) -> list[str]:
    opt = find_option(name)
    values = opt.enum_allowed if opt is not None and opt.enum_allowed else fallback
    return [v for v in values if v]


def ec_profile_list(cluster: rados.Rados) -> list[dict[str, Any]]:
    """``GET /api/erasure_code_profile``: every profile with its name; k and m as numbers."""
    profiles = send_command(cluster, "osd dump").get("erasure_code_profiles", {})
    out = []
    for name, profile in profiles.items():
        item = dict(profile)
        for key in ("k", "m"):
            if item.get(key) is not None:
                item[key] = int(item[key])
        item["name"] = name
        out.append(item)
    return out


def ec_profile_get(cluster: rados.Rados, name: str) -> dict[str, Any]:
    """``GET /api/erasure_code_profile/{name}``."""
    for profile in ec_profile_list(cluster):
        if profile["name"] == name:
            return profile
    raise NoSuchObject("No such erasure code profile")


def ec_profile_create(cluster: rados.Rados, name: str, **kwargs: Any) -> None:
    """``POST /api/erasure_code_profile``: the other body keys are the profile's pairs."""
    profile = [f"{k}={v}" for k, v in kwargs.items()]
    send_command(cluster, "osd erasure-code-profile set", name=name, profile=profile)


def ec_profile_delete(cluster: rados.Rados, name: str) -> None:
    """``DELETE /api/erasure_code_profile/{name}``."""
    send_command(cluster, "osd erasure-code-profile rm", name=name)


def pool_info(cluster: rados.Rados) -> dict[str, Any]:
    """``GET /api/pool/_info``: what the create-pool form needs. Upstream: PoolUi.info."""
    crush = send_command(cluster, "osd crush dump")
    pools = pool_list(cluster)
    used_rules: dict[str, list[str]] = {}
    used_profiles: dict[str, list[str]] = {}
    for p in pools:
        used_rules.setdefault(p["crush_rule"], []).append(p["pool_name"])
        used_profiles.setdefault(p["erasure_code_profile"], []).append(p["pool_name"])
    metadata = send_command(cluster, "osd metadata")
    osd_count = len(send_command(cluster, "osd dump")["osds"])
    return {
        "pool_names": [p["pool_name"] for p in pools],
        "crush_rules_replicated": [r for r in crush["rules"] if r["type"] == 1],
        "crush_rules_erasure": [r for r in crush["rules"] if r["type"] == 3],
        "is_all_bluestore": all(m.get("osd_objectstore") == "bluestore" for m in metadata),
        "osd_count": osd_count,
        "bluestore_compression_algorithm": _config_value(
            cluster, "osd", "bluestore_compression_algorithm", DEFAULT_COMPRESSION_ALGORITHM
        ),
        "compression_algorithms": _enum("bluestore_compression_algorithm", COMPRESSION_ALGORITHMS),
        "compression_modes": _enum("bluestore_compression_mode", COMPRESSION_MODES),
        "pg_autoscale_default_mode": _config_value(
            cluster, "mon", "osd_pool_default_pg_autoscale_mode", "on"
        ),
        "pg_autoscale_modes": _enum("osd_pool_default_pg_autoscale_mode", ("off", "warn", "on")),
        "erasure_code_profiles": ec_profile_list(cluster),
        "used_rules": used_rules,
        "used_profiles": used_profiles,
        "nodes": send_command(cluster, "osd tree").get("nodes", []),
    }
