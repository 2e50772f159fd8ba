"""`osd pool *` and `osd erasure-code-profile *`: pool lifecycle, snaps, apps, quotas.

Messages and errnos follow upstream OSDMonitor.cc. `osd pool set` has its own module
(`pool_set`).
"""

from __future__ import annotations

import errno
import re
from typing import Any

from pyceph import ec
from pyceph.common.errors import CephError
from pyceph.osdmap import pool as P
from pyceph.osdmap.osdmap import OSDMap

from .. import format_plain as fp
from . import Ctx, Reply, command

MAX_POOL_APPLICATIONS = 4
MAX_POOL_APPLICATION_LENGTH = 128
MAX_POOL_APPLICATION_KEYS = 64

BOOL_FLAGS = {
    "hashpspool": P.FLAG_HASHPSPOOL,
    "nodelete": P.FLAG_NODELETE,
    "nopgchange": P.FLAG_NOPGCHANGE,
    "nosizechange": P.FLAG_NOSIZECHANGE,
    "write_fadvise_dontneed": P.FLAG_WRITE_FADVISE_DONTNEED,
    "noscrub": P.FLAG_NOSCRUB,
    "nodeep-scrub": P.FLAG_NODEEP_SCRUB,
    "bulk": P.FLAG_BULK,
}
INT_OPTIONS = {"scrub_min_interval", "scrub_max_interval", "deep_scrub_interval",
               "recovery_priority", "recovery_op_priority", "scrub_priority",
               "compression_max_blob_size", "compression_min_blob_size", "csum_type",
               "csum_min_block", "csum_max_block", "pg_num_min", "pg_num_max",
               "target_size_bytes", "dedup_cdc_chunk_size"}  # fmt: skip
FLOAT_OPTIONS = {"compression_required_ratio", "pg_autoscale_bias", "target_size_ratio"}
STR_OPTIONS = {"compression_mode", "compression_algorithm", "fingerprint_algorithm",
               "dedup_tier", "dedup_chunk_algorithm"}  # fmt: skip
TIER_VARS = {"hit_set_type", "hit_set_period", "hit_set_count", "hit_set_fpp",
             "target_max_objects", "target_max_bytes", "cache_target_dirty_ratio",
             "cache_target_dirty_high_ratio", "cache_target_full_ratio", "cache_min_flush_age",
             "cache_min_evict_age", "min_read_recency_for_promote",
             "min_write_recency_for_promote", "hit_set_grade_decay_rate",
             "hit_set_search_last_n", "use_gmt_hitset"}  # fmt: skip


def get_pool(m: OSDMap, name: str) -> P.Pool:
    pid = m.lookup_pool(name)
    if pid < 0:
        raise CephError(errno.ENOENT, f"unrecognized pool '{name}'")
    return m.pools[pid]


def default_min_size(ctx_or_state: Any, size: int) -> int:
    s = getattr(ctx_or_state, "state", ctx_or_state)
    v = int(s.opt("osd_pool_default_min_size"))
    if v:
        return min(v, size)
    return size - size // 2


def check_pg_num(s: Any, pool_id: int, pg_num: int, size: int) -> None:
    """Upstream `check_pg_num`: projected PG replicas vs mon_max_pg_per_osd."""
    m = s.pending_osdmap
    per_osd = int(s.opt("mon_max_pg_per_osd"))
    projected = pg_num * size if pool_id < 0 else pg_num * size
    for pid, p in m.pools.items():
        if pid != pool_id:
            projected += p.pg_num_target * p.size
    num = max(m.num_in_osds(), 3)
    if projected > per_osd * num:
        head = f"pool id {pool_id}" if pool_id >= 0 else ""
        raise CephError(
            errno.ERANGE,
            f"{head} pg_num {pg_num} size {size} would mean {projected} total pgs, which "
            f"exceeds max {per_osd * num} (mon_max_pg_per_osd {per_osd} * num_in_osds {num})",
        )


def max_pg_num_message(s: Any) -> str:
    """Upstream's ERANGE text for a pg_num above `mon_max_pool_pg_num`."""
    mx = int(s.opt("mon_max_pool_pg_num"))
    return (
        f"'pg_num' must be greater than 0 and less than or equal to {mx} "
        "(you may adjust 'mon max pool pg num' for higher values)"
    )


def _default_rule(m: OSDMap) -> int:
    for rid in sorted(m.crush.rules):
        if m.crush.rules[rid].type == 1:
            return rid
    return -1


# ------------------------------------------------------------------ create / delete
def create_pool(ctx: Ctx, name: str, args: dict[str, Any]) -> tuple[int, str]:
    """Validate and create; returns (ret, outs). Shared by the command and pool ops."""
    s = ctx.state
    m = s.pending_osdmap
    ptype = args.get("pool_type") or "replicated"
    pid = m.lookup_pool(name)
    if pid >= 0:
        if m.pools[pid].type_name() != ptype:
            raise CephError(errno.EINVAL, f"pool '{name}' cannot change to type {ptype}")
        return 0, f"pool '{name}' already exists"
    if not name:
        raise CephError(errno.EINVAL, "")  # upstream answers a bare -EINVAL
    pg_num = int(args.get("pg_num") or 0) or int(s.opt("osd_pool_default_pg_num"))
    pgp_num = int(args.get("pgp_num") or 0) or int(s.opt("osd_pool_default_pgp_num")) or pg_num
    if pg_num > int(s.opt("mon_max_pool_pg_num")):
        raise CephError(errno.ERANGE, max_pg_num_message(s))
    if pgp_num > pg_num:
        raise CephError(
            errno.ERANGE,
            "'pgp_num' must be greater than 0 and lower or equal than 'pg_num', which in this "
            f"case is {pg_num}",
        )
    rule_name = args.get("rule") or ""
    profile_name = ""
    stripe_width = 0
    new_rule: tuple[str, str] | None = None
    if ptype == "replicated":
        size = int(args.get("size") or 0) or int(s.opt("osd_pool_default_size"))
        min_size = default_min_size(s, size)
        if rule_name:
            rule = m.crush.find_rule(rule_name)
            if rule < 0:
                raise CephError(errno.ENOENT, f"specified rule {rule_name} doesn't exist")
        else:
            want = int(s.opt("osd_pool_default_crush_rule"))
            rule = want if want >= 0 and m.crush.rule_exists(want) else _default_rule(m)
            if rule < 0:
                raise CephError(errno.ENOENT, "no replicated crush rule found")
    else:
        profile_name = args.get("erasure_code_profile") or "default"
        prof = m.erasure_code_profiles.get(profile_name)
        if prof is None:
            raise CephError(errno.ENOENT, f"specified erasure code profile {profile_name} doesn't exist")  # fmt: skip
        k, mm = int(prof.get("k", 2)), int(prof.get("m", 2))
        size = k + mm
        min_size = k + min(1, mm - 1)
        # OSDMonitor::prepare_pool_stripe_width: k * get_chunk_size(stripe_unit * k)
        unit = None if prof.get("stripe_unit") else int(s.opt("osd_pool_erasure_code_stripe_unit"))
        try:
            stripe_width = ec.stripe_width_for(prof, unit)
        except ec.ErasureCodeError:
            stripe_width = k * (unit or 4096)
        if rule_name:
            rule = m.crush.find_rule(rule_name)
            if rule < 0:
                raise CephError(errno.ENOENT, f"specified rule {rule_name} doesn't exist")
        else:
            rule = m.crush.find_rule(name)
            if rule < 0:
                new_rule = (name, prof.get("crush-failure-domain", "host"))
                root = prof.get("crush-root", "default")
                if not m.crush.name_exists(root):
                    raise CephError(errno.ENOENT, f"root item {root} does not exist")
                try:
                    m.crush.type_id(new_rule[1])
                except Exception:
                    raise CephError(errno.EINVAL, f"unknown crush type {new_rule[1]}")
    check_pg_num(s, -1, pg_num, size)
    # ---- mutate
    if new_rule is not None:
        crush = m.crush_for_write()
        rule = crush.add_simple_rule(new_rule[0], prof.get("crush-root", "default"), new_rule[1],
                                     "indep", "erasure")  # fmt: skip
    m.pool_max += 1
    pid = m.pool_max
    flags = 0
    if bool(s.opt("osd_pool_default_flag_hashpspool")):
        flags |= P.FLAG_HASHPSPOOL
    if bool(s.opt("osd_pool_default_flag_nodelete")):
        flags |= P.FLAG_NODELETE
    if bool(s.opt("osd_pool_default_flag_nopgchange")):
        flags |= P.FLAG_NOPGCHANGE
    if bool(s.opt("osd_pool_default_flag_nosizechange")):
        flags |= P.FLAG_NOSIZECHANGE
    if args.get("bulk"):
        flags |= P.FLAG_BULK
    mode = args.get("autoscale_mode") or str(s.opt("osd_pool_default_pg_autoscale_mode"))
    pool = P.Pool(
        pid,
        name,
        type=P.TYPE_REPLICATED if ptype == "replicated" else P.TYPE_ERASURE,
        size=size,
        min_size=min_size,
        crush_rule=rule,
        pg_num=pg_num,
        pgp_num=pgp_num,
        pg_num_target=pg_num,
        pgp_num_target=pgp_num,
        pg_autoscale_mode=P.AUTOSCALE_BY_NAME.get(mode, 2),
        flags=flags,
        create_time=ctx.now,
        last_change=m.epoch,
        erasure_code_profile=profile_name,
        stripe_width=stripe_width,
        expected_num_objects=int(args.get("expected_num_objects") or 0),
    )
    for opt in ("pg_num_min", "pg_num_max", "target_size_bytes", "target_size_ratio"):
        if args.get(opt):
            pool.options[opt] = args[opt]
    m.pools[pid] = pool
    m.pool_name[name] = pid
    return 0, f"pool '{name}' created"


@command("osd pool create")
def osd_pool_create(ctx: Ctx) -> Reply:
    before = ctx.state.pending_osdmap.pool_max
    ret, outs = create_pool(ctx, ctx.args["pool"], ctx.args)
    changed = {"osdmap"} if ctx.state.pending_osdmap.pool_max != before else set()
    return Reply(ret=ret, outs=outs, changed=changed)


def remove_pool(ctx: Ctx, pool: P.Pool, no_fake: bool) -> None:
    s = ctx.state
    pools = s.pending_osdmap.pools
    if pool.is_tier():
        base = pools[pool.tier_of].pool_name if pool.tier_of in pools else ""
        raise CephError(errno.EBUSY, f"pool '{pool.pool_name}' is a tier of '{base}'")
    if pool.tiers:
        names = "".join(f" {pools[t].pool_name}" for t in sorted(pool.tiers) if t in pools)
        raise CephError(errno.EBUSY, f"pool '{pool.pool_name}' has tiers{names}")
    if not bool(s.opt("mon_allow_pool_delete")):
        raise CephError(
            errno.EPERM,
            "pool deletion is disabled; you must first set the mon_allow_pool_delete config "
            "option to true before you can destroy a pool",
        )
    if pool.has_flag(P.FLAG_NODELETE):
        raise CephError(
            errno.EPERM,
            "pool deletion is disabled; you must unset nodelete flag for the pool first",
        )
    m = s.pending_osdmap
    del m.pools[pool.pool_id]
    del m.pool_name[pool.pool_name]
    for d in (
        m.pg_temp,
        m.primary_temp,
        m.pg_upmap,
        m.pg_upmap_items,
    ):  # upstream _prepare_remove_pool
        for k in [k for k in d if k[0] == pool.pool_id]:
            del d[k]


@command("osd pool delete", "osd pool rm")
def osd_pool_delete(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name = ctx.args["pool"]
    name2 = ctx.get("pool2", "")
    pid = m.lookup_pool(name)
    if pid < 0:
        return Reply(outs=f"pool '{name}' does not exist")
    force_no_fake = bool(ctx.get("yes_i_really_really_mean_it", False))
    force = bool(ctx.get("yes_i_really_really_mean_it_not_faking", False))
    if name2 != name or (not force and not force_no_fake):
        raise CephError(
            errno.EPERM,
            f"WARNING: this will *PERMANENTLY DESTROY* all data stored in pool {name}.  If you "
            "are *ABSOLUTELY CERTAIN* that is what you want, pass the pool name *twice*, "
            "followed by --yes-i-really-really-mean-it.",
        )
    remove_pool(ctx, m.pools[pid], force_no_fake)
    return Reply(outs=f"pool '{name}' removed", changed={"osdmap"})


@command("osd pool rename")
def osd_pool_rename(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    src, dst = ctx.args["srcpool"], ctx.args["destpool"]
    ps, pd = m.lookup_pool(src), m.lookup_pool(dst)
    if ps < 0:
        if pd >= 0:
            return Reply(
                outs=f"pool '{src}' does not exist; pool '{dst}' does -- assuming successful rename"
            )
        raise CephError(errno.ENOENT, f"unrecognized pool '{src}'")
    if pd >= 0:
        raise CephError(errno.EEXIST, f"pool '{dst}' already exists")
    pool = m.pools[ps]
    del m.pool_name[src]
    pool.pool_name = dst
    pool.last_change = m.epoch
    m.pool_name[dst] = ps
    return Reply(outs=f"pool '{src}' renamed to '{dst}'", changed={"osdmap"})


@command("osd pool ls", "osd lspools")
def osd_pool_ls(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    if ctx.args["prefix"] == "osd lspools":
        data = [{"poolnum": p, "poolname": m.pools[p].pool_name} for p in sorted(m.pools)]
        return Reply(data=data, plain="".join(f"{d['poolnum']} {d['poolname']}\n" for d in data))
    if ctx.get("detail") == "detail":
        return Reply(data=[m.pools[p].dump("pool_id") for p in sorted(m.pools)],
                     plain=fp.pool_ls_detail(m))  # fmt: skip
    names = [m.pools[p].pool_name for p in sorted(m.pools)]
    return Reply(data=names, plain="".join(n + "\n" for n in names))


# ------------------------------------------------------------------ get / set
def _pool_get_value(m: OSDMap, p: P.Pool, var: str) -> Any:
    if var in TIER_VARS and p.is_tier():
        return _tier_var(p, var)
    if var == "size":
        return p.size
    if var == "min_size":
        return p.min_size
    if var == "pg_num":
        return p.pg_num
    if var == "pgp_num":
        return p.pgp_num
    if var == "crush_rule":
        return (
            m.crush.rules[p.crush_rule].name if p.crush_rule in m.crush.rules else str(p.crush_rule)
        )
    if var in BOOL_FLAGS:
        return p.has_flag(BOOL_FLAGS[var])
    if var == "use_gmt_hitset":
        return True
    if var == "fast_read":
        return int(p.fast_read)
    if var == "pg_autoscale_mode":
        return p.autoscale_mode_name()
    if var == "erasure_code_profile":
        return p.erasure_code_profile
    if var == "allow_ec_overwrites":
        return p.has_flag(P.FLAG_EC_OVERWRITES)
    return p.options.get(var)


def _tier_var(p: P.Pool, var: str) -> Any:
    """A cache-tier variable of a tier pool (upstream `osd pool get`)."""
    if var == "hit_set_type":
        return p.hit_set_params.get("type", "none")
    if var == "hit_set_fpp":
        return p.hit_set_params.get("false_positive_probability", 0.0)
    if var.startswith("cache_target_") and var.endswith("_ratio"):
        return getattr(p, var + "_micro") / 1000000.0
    if var == "use_gmt_hitset":
        return 1
    return getattr(p, var)


#: `osd pool get all` on a tier pool: the tier variables sit after nodeep-scrub
_TIER_ALL = ["hit_set_type", "hit_set_period", "hit_set_count", "hit_set_fpp", "use_gmt_hitset",
             "target_max_objects", "target_max_bytes", "cache_target_dirty_ratio",
             "cache_target_dirty_high_ratio", "cache_target_full_ratio", "cache_min_flush_age",
             "cache_min_evict_age", "min_read_recency_for_promote",
             "min_write_recency_for_promote", "fast_read", "hit_set_grade_decay_rate",
             "hit_set_search_last_n"]  # fmt: skip


_ALL_ORDER = ["size", "min_size", "pg_num", "pgp_num", "crush_rule", "hashpspool", "nodelete",
              "nopgchange", "nosizechange", "write_fadvise_dontneed", "noscrub", "nodeep-scrub",
              "use_gmt_hitset", "erasure_code_profile", "fast_read", "allow_ec_overwrites",
              "pg_autoscale_mode", "bulk"]  # fmt: skip


@command("osd pool get")
def osd_pool_get(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    p = get_pool(m, ctx.args["pool"])
    var = ctx.args["var"]
    ec_only = {"erasure_code_profile", "allow_ec_overwrites"}
    if var == "all":
        names = [v for v in _ALL_ORDER if p.is_erasure() or v not in ec_only]
        if p.is_tier():
            tier = [v for v in _TIER_ALL
                    if v != "hit_set_fpp" or p.hit_set_params.get("type") == "bloom"]  # fmt: skip
            rest = [v for v in names if v not in ("use_gmt_hitset", "fast_read")]
            at = rest.index("nodeep-scrub") + 1
            names = rest[:at] + tier + rest[at:]
        names += [k for k in sorted(p.options) if k not in names]
    else:
        if var in ec_only and not p.is_erasure():
            raise CephError(
                errno.EACCES,
                f"pool '{p.pool_name}' is not a erasure pool: variable not applicable",
            )
        if var in TIER_VARS - {"use_gmt_hitset"} and not p.is_tier():
            raise CephError(
                errno.EACCES, f"pool '{p.pool_name}' is not a tier pool: variable not applicable"
            )
        if var in INT_OPTIONS | FLOAT_OPTIONS | STR_OPTIONS and var not in p.options:
            raise CephError(errno.ENOENT, f"option '{var}' is not set on pool '{p.pool_name}'")
        names = [var]
    data: dict[str, Any] = {"pool": p.pool_name, "pool_id": p.pool_id}
    lines = []
    for v in names:
        val = _pool_get_value(m, p, v)
        data[v] = val
        shown = ("true" if val else "false") if isinstance(val, bool) else val
        lines.append(f"{v}: {shown}\n")
    return Reply(data=data, plain="".join(lines))


def _iec(val: str) -> int | None:
    mm = re.fullmatch(r"(\d+)\s*([KMGTPE]?)(i?B?)", val.strip())
    if not mm:
        return None
    mult = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}[mm.group(2)]
    return int(mm.group(1)) * (1024**mult)


@command("osd pool set-quota")
def osd_pool_set_quota(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    p = get_pool(m, ctx.args["pool"])
    field, val = ctx.args["field"], ctx.args["val"]
    v = _iec(val)
    if v is None:
        raise CephError(errno.EINVAL, f"error parsing value '{val}'")
    if field == "max_objects":
        p.quota_max_objects = v
    else:
        p.quota_max_bytes = v
    p.last_change = m.epoch
    return Reply(outs=f"set-quota {field} = {v} for pool {p.pool_name}", changed={"osdmap"})


@command("osd pool get-quota")
def osd_pool_get_quota(ctx: Ctx) -> Reply:
    p = get_pool(ctx.state.osdmap, ctx.args["pool"])
    data = {"pool_name": p.pool_name, "pool_id": p.pool_id,
            "quota_max_objects": p.quota_max_objects, "quota_max_bytes": p.quota_max_bytes}  # fmt: skip
    mo = f"{fp.si_u(p.quota_max_objects)} objects" if p.quota_max_objects else "N/A"
    mb = fp.byte_u(p.quota_max_bytes) if p.quota_max_bytes else "N/A"
    plain = f"quotas for pool '{p.pool_name}':\n  max objects: {mo}\n  max bytes  : {mb}\n"
    return Reply(data=data, plain=plain)


# ------------------------------------------------------------------ snaps
def pool_snap_create(ctx: Ctx, p: P.Pool, snap: str) -> tuple[int, str]:
    m = ctx.state.pending_osdmap
    if p.is_tier():
        raise CephError(errno.EINVAL, f"pool {p.pool_name} is a cache tier")
    if p.has_flag(P.FLAG_SELFMANAGED_SNAPS):
        raise CephError(errno.EINVAL, f"pool {p.pool_name} is in unmanaged snaps mode")
    if any(n == snap for n, _ in p.pool_snaps.values()):
        return 0, f"pool {p.pool_name} snap {snap} already exists"
    p.snap_seq += 1
    p.pool_snaps[p.snap_seq] = (snap, ctx.now)
    p.flags |= P.FLAG_POOL_SNAPS
    p.snap_epoch = p.last_change = m.epoch
    return 1, f"created pool {p.pool_name} snap {snap}"


def pool_snap_remove(ctx: Ctx, p: P.Pool, snap: str) -> tuple[int, str]:
    m = ctx.state.pending_osdmap
    if p.has_flag(P.FLAG_SELFMANAGED_SNAPS):
        raise CephError(errno.EINVAL, f"pool {p.pool_name} is in unmanaged snaps mode")
    sid = next((i for i, (n, _) in p.pool_snaps.items() if n == snap), None)
    if sid is None:
        return 0, f"pool {p.pool_name} snap {snap} does not exist"
    del p.pool_snaps[sid]
    p.removed_snaps.append(sid)
    p.snap_seq += 1
    p.snap_epoch = p.last_change = m.epoch
    return 1, f"removed pool {p.pool_name} snap {snap}"


def selfmanaged_snap_create(ctx: Ctx, p: P.Pool) -> int:
    """`pg_pool_t::add_unmanaged_snap`: a new snap id from snap_seq (the first one is 2)."""
    if p.is_pool_snaps_mode():
        raise CephError(errno.EINVAL, f"pool {p.pool_name} is in pool snaps mode")
    if p.snap_seq == 0:
        p.snap_seq = 1
    p.flags |= P.FLAG_SELFMANAGED_SNAPS
    p.snap_seq += 1
    p.snap_epoch = p.last_change = ctx.state.pending_osdmap.epoch
    return p.snap_seq


def selfmanaged_snap_remove(ctx: Ctx, p: P.Pool, snapid: int) -> bool:
    """`POOL_OP_DELETE_UNMANAGED_SNAP`: record `snapid` removed; False if it already was."""
    if not p.has_flag(P.FLAG_SELFMANAGED_SNAPS):
        raise CephError(errno.EOPNOTSUPP, f"pool {p.pool_name} is not in unmanaged snaps mode")
    if p.is_pool_snaps_mode():
        raise CephError(errno.EINVAL, f"pool {p.pool_name} is in pool snaps mode")
    if snapid in p.removed_snaps:
        return False
    if snapid > p.snap_seq:
        raise CephError(errno.ENOENT, f"snap {snapid} does not exist in pool {p.pool_name}")
    p.snap_seq += 1
    p.removed_snaps.append(snapid)
    p.snap_epoch = p.last_change = ctx.state.pending_osdmap.epoch
    return True


#: MPoolOp operations (upstream POOL_OP_*), by the name the `pool_op` message carries.
POOL_OPS = ("create", "delete", "create_snap", "delete_snap", "create_unmanaged_snap",
            "delete_unmanaged_snap")  # fmt: skip


def pool_op(ctx: Ctx, pool_id: int, op: str, name: str = "", snapid: int = 0) -> tuple[bool, int]:
    """One MPoolOp as upstream's `prepare_pool_op`: returns (changed, new snap id or 0).

    Raises CephError with upstream's errno; nothing changes then. Pool and snap
    creation/removal that is already done answers 0 (the client checks EEXIST/ENOENT
    against its map first, as librados does).
    """
    if op not in POOL_OPS:
        raise CephError(errno.EINVAL, f"unknown pool op '{op}'")
    m = ctx.state.pending_osdmap
    if op == "create":
        before = m.pool_max
        create_pool(ctx, name, {"pool_type": "replicated"})
        return m.pool_max != before, 0
    if op == "delete":
        pid = m.lookup_pool(name) if name else pool_id
        if pid < 0 or pid not in m.pools:
            return False, 0
        remove_pool(ctx, m.pools[pid], True)
        return True, 0
    p0 = m.pools.get(pool_id)
    if p0 is None:
        raise CephError(errno.ENOENT, f"pool {pool_id} does not exist")
    p = p0.copy()
    new_id = 0
    if op == "create_snap":
        changed = pool_snap_create(ctx, p, name)[0] > 0
    elif op == "delete_snap":
        changed = pool_snap_remove(ctx, p, name)[0] > 0
    elif op == "create_unmanaged_snap":
        new_id = selfmanaged_snap_create(ctx, p)
        changed = True
    else:
        changed = selfmanaged_snap_remove(ctx, p, int(snapid))
    if changed:
        m.pools[pool_id] = p
    return changed, new_id


@command("osd pool mksnap", "osd pool rmsnap")
def osd_pool_snap(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    p = get_pool(m, ctx.args["pool"])
    fn = pool_snap_create if ctx.args["prefix"] == "osd pool mksnap" else pool_snap_remove
    changed, outs = fn(ctx, p, ctx.args["snap"])
    return Reply(outs=outs, changed={"osdmap"} if changed else set())


# ------------------------------------------------------------------ applications
@command("osd pool application enable")
def app_enable(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    p = get_pool(m, ctx.args["pool"])
    app = ctx.args["app"]
    if app in p.application_metadata:
        return Reply(outs=f"application '{app}' already enabled on pool '{p.pool_name}'")
    if p.application_metadata and not ctx.get("yes_i_really_mean_it", False):
        raise CephError(errno.EPERM, f"Are you SURE? Pool '{p.pool_name}' already has an enabled "
                        "application; pass --yes-i-really-mean-it to proceed anyway")  # fmt: skip
    if len(app) > MAX_POOL_APPLICATION_LENGTH:
        raise CephError(errno.EINVAL, f"application name '{app}' too long; max length "
                        f"{MAX_POOL_APPLICATION_LENGTH}")  # fmt: skip
    if len(p.application_metadata) >= MAX_POOL_APPLICATIONS:
        raise CephError(errno.EINVAL, f"too many enabled applications on pool '{p.pool_name}'; "
                        f"max {MAX_POOL_APPLICATIONS}")  # fmt: skip
    p.application_metadata[app] = {}
    p.last_change = m.epoch
    return Reply(outs=f"enabled application '{app}' on pool '{p.pool_name}'", changed={"osdmap"})


@command("osd pool application disable")
def app_disable(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    p = get_pool(m, ctx.args["pool"])
    app = ctx.args["app"]
    if not ctx.get("yes_i_really_mean_it", False):
        raise CephError(errno.EPERM, "Are you SURE? Disabling an application within a pool "
                        "might result in loss of application functionality; pass "
                        "--yes-i-really-mean-it to proceed anyway")  # fmt: skip
    if app not in p.application_metadata:
        return Reply(outs=f"application '{app}' is not enabled on pool '{p.pool_name}'")
    del p.application_metadata[app]
    p.last_change = m.epoch
    return Reply(outs=f"disable application '{app}' on pool '{p.pool_name}'", changed={"osdmap"})


@command("osd pool application set", "osd pool application rm")
def app_set_rm(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    p = get_pool(m, ctx.args["pool"])
    app, key = ctx.args["app"], ctx.args["key"]
    if app not in p.application_metadata:
        raise CephError(errno.ENOENT, f"application '{app}' is not enabled on pool '{p.pool_name}'")
    md = p.application_metadata[app]
    if ctx.args["prefix"].endswith("set"):
        value = ctx.args["value"]
        if len(key) > MAX_POOL_APPLICATION_LENGTH:
            raise CephError(errno.EINVAL, f"key '{key}' too long; max length "
                            f"{MAX_POOL_APPLICATION_LENGTH}")  # fmt: skip
        if len(value) > MAX_POOL_APPLICATION_LENGTH:
            raise CephError(errno.EINVAL, f"value '{value}' too long; max length "
                            f"{MAX_POOL_APPLICATION_LENGTH}")  # fmt: skip
        if key not in md and len(md) >= MAX_POOL_APPLICATION_KEYS:
            raise CephError(errno.EINVAL, f"too many keys set for application '{app}' on pool "
                            f"'{p.pool_name}'; max {MAX_POOL_APPLICATION_KEYS}")  # fmt: skip
        md[key] = value
        p.last_change = m.epoch
        return Reply(outs=f"set application '{app}' key '{key}' to '{value}' on pool "
                     f"'{p.pool_name}'", changed={"osdmap"})  # fmt: skip
    if key not in md:
        return Reply(outs=f"application '{app}' on pool '{p.pool_name}' does not have key '{key}'")
    del md[key]
    p.last_change = m.epoch
    return Reply(outs=f"removed application '{app}' key '{key}' on pool '{p.pool_name}'",
                 changed={"osdmap"})  # fmt: skip


@command("osd pool application get")
def app_get(ctx: Ctx) -> Reply:
    m = ctx.state.osdmap
    name = ctx.get("pool")
    if name is None:
        data: Any = {m.pools[i].pool_name: m.pools[i].application_metadata for i in sorted(m.pools)}
        return Reply(data=data)
    p = get_pool(m, name)
    app, key = ctx.get("app"), ctx.get("key")
    if app is None:
        return Reply(data=p.application_metadata)
    if app not in p.application_metadata:
        raise CephError(errno.ENOENT, f"pool '{p.pool_name}' does not have application '{app}'")
    md = p.application_metadata[app]
    if key is None:
        return Reply(data=md)
    if key not in md:
        raise CephError(errno.ENOENT,
                        f"application '{app}' on pool '{p.pool_name}' does not have key '{key}'")  # fmt: skip
    return Reply(data=md[key], plain=md[key] + "\n")


# ------------------------------------------------------------------ EC profiles
def normalize_profile(kv: dict[str, str], force: bool = False) -> dict[str, str]:
    """``OSDMonitor::normalize_profile``: the plugin's checks, defaults filled in."""
    return ec.normalize_profile(kv, force=force)


@command("osd erasure-code-profile set")
def ecp_set(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name = ctx.args["name"]
    items = [tok for item in ctx.get("profile", []) for tok in str(item).split()]
    kv = ec.parse_profile_args(
        items, ctx.state.opt("osd_pool_default_erasure_code_profile") or ec.DEFAULT_PROFILE
    )
    prof = normalize_profile(kv, bool(ctx.get("force", False)))
    old = m.erasure_code_profiles.get(name)
    if old is not None:
        if old == prof:
            return Reply()
        if not ctx.get("force", False):

            def s(d: dict[str, str]) -> str:
                return "{" + ",".join(f"{k}={v}" for k, v in d.items()) + "}"

            raise CephError(errno.EPERM, f"will not override erasure code profile {name} because "
                            f"the existing profile {s(old)} is different from the proposed "
                            f"profile {s(prof)}")  # fmt: skip
    m.erasure_code_profiles[name] = prof
    return Reply(changed={"osdmap"})


@command("osd erasure-code-profile get")
def ecp_get(ctx: Ctx) -> Reply:
    name = ctx.args["name"]
    prof = ctx.state.osdmap.erasure_code_profiles.get(name)
    if prof is None:
        raise CephError(errno.ENOENT, f"unknown erasure code profile '{name}'")
    return Reply(data=dict(prof), plain="".join(f"{k}={v}\n" for k, v in prof.items()))


@command("osd erasure-code-profile ls")
def ecp_ls(ctx: Ctx) -> Reply:
    names = sorted(ctx.state.osdmap.erasure_code_profiles)
    return Reply(data=names, plain="".join(n + "\n" for n in names))


@command("osd erasure-code-profile rm")
def ecp_rm(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    name = ctx.args["name"]
    if name not in m.erasure_code_profiles:
        return Reply(outs=f"erasure-code-profile {name} does not exist")
    for p in m.pools.values():
        if p.erasure_code_profile == name:
            raise CephError(errno.EBUSY, f"{name}: pool {p.pool_name} uses profile {name}")
    del m.erasure_code_profiles[name]
    return Reply(changed={"osdmap"})
