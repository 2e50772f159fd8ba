"""`osd tier *`: cache-tier relationships in the OSDMap (upstream OSDMonitor.cc).

Only the map semantics are modelled: `tiers`/`tier_of` links, the overlay
(`read_tier`/`write_tier`), `cache_mode` and the tunables `add-cache` sets, with
upstream's checks, errnos and messages; librados' `get_pool_base_tier` follows
`tier_of` to the base pool. The data path does NOT honour them: clients and OSDs
keep sending I/O to the pool they name (no redirect to an overlay, no promotion,
flushing, eviction or hit sets, no tiering agent).

Like upstream, a tier pool takes its base pool's snapshot state: see
`sync_tier_snaps`, run as each new OSDMap is committed.
"""

from __future__ import annotations

import errno
from typing import Any

from pyceph.common.errors import CephError
from pyceph.osdmap import pool as P
from pyceph.osdmap.osdmap import OSDMap

from . import Ctx, Reply, command

_SNAP_MODE_FLAGS = P.FLAG_POOL_SNAPS | P.FLAG_SELFMANAGED_SNAPS


def _lookup(m: OSDMap, name: str) -> P.Pool:
    pid = m.lookup_pool(name)
    if pid < 0:
        raise CephError(errno.ENOENT, f"unrecognized pool '{name}'")
    return m.pools[pid]


def _name(m: OSDMap, pool_id: int) -> str:
    p = m.pools.get(pool_id)
    return p.pool_name if p is not None else ""


def _num_objects(ctx: Ctx, pool_id: int, key: str = "num_objects") -> int:
    stats = ctx.state.mgr_digest.get("pool_stats", {}).get(str(pool_id), {})
    return int(stats.get(key, 0) or 0)


def _new_pool(m: OSDMap, pool_id: int) -> P.Pool:
    """Upstream `pending_inc.get_new_pool`: a changed copy, last_change = the new epoch."""
    p = m.pools[pool_id].copy()
    p.last_change = m.epoch
    m.pools[pool_id] = p
    return p


def _check_become_tier(m: OSDMap, tp: P.Pool, base: P.Pool) -> str | None:
    """Upstream `_check_become_tier`: raises, or returns a no-op reply, or None (proceed)."""
    if tp.pool_id in base.tiers:
        return f"pool '{tp.pool_name}' is now (or already was) a tier of '{base.pool_name}'"
    if base.is_tier():
        raise CephError(
            errno.EINVAL,
            f"pool '{base.pool_name}' is already a tier of '{_name(m, base.tier_of)}', "
            "multiple tiers are not yet supported.",
        )
    if tp.has_tiers():
        names = "".join(f"'{_name(m, t)}'," for t in sorted(tp.tiers))
        raise CephError(
            errno.EINVAL,
            f"pool '{tp.pool_name}' has following tier(s) already:{names}"
            " multiple tiers are not yet supported.",
        )
    if tp.is_tier():
        raise CephError(
            errno.EINVAL,
            f"tier pool '{tp.pool_name}' is already a tier of '{_name(m, tp.tier_of)}'",
        )
    return None


def _force_nonempty(v: Any) -> bool:
    return v is True or v == "--force-nonempty"


@command("osd tier add")
def osd_tier_add(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    base = _lookup(m, ctx.args["pool"])
    tp = _lookup(m, ctx.args["tierpool"])
    done = _check_become_tier(m, tp, base)
    if done is not None:
        return Reply(outs=done)
    force = _force_nonempty(ctx.get("force_nonempty"))
    if _num_objects(ctx, tp.pool_id) and not force:
        raise CephError(
            errno.ENOTEMPTY, f"tier pool '{tp.pool_name}' is not empty; --force-nonempty to force"
        )
    if tp.is_erasure():
        raise CephError(
            errno.EOPNOTSUPP, f"tier pool '{tp.pool_name}' is an ec pool, which cannot be a tier"
        )
    allow_snaps = bool(ctx.state.opt("mon_debug_unsafe_allow_tier_with_nonempty_snaps"))
    if (tp.removed_snaps or tp.pool_snaps) and (not force or not allow_snaps):
        raise CephError(
            errno.ENOTEMPTY,
            f"tier pool '{tp.pool_name}' has snapshot state; it cannot be added as a tier "
            "without breaking the pool",
        )
    nb = _new_pool(m, base.pool_id)
    nt = _new_pool(m, tp.pool_id)
    nb.tiers = sorted(set(nb.tiers) | {tp.pool_id})
    nb.snap_epoch = m.epoch  # the tier takes our snap info (sync_tier_snaps)
    nt.tier_of = base.pool_id
    return Reply(
        outs=f"pool '{tp.pool_name}' is now (or already was) a tier of '{base.pool_name}'",
        changed={"osdmap"},
    )


@command("osd tier remove", "osd tier rm")
def osd_tier_remove(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    base = _lookup(m, ctx.args["pool"])
    tp = _lookup(m, ctx.args["tierpool"])
    done = f"pool '{tp.pool_name}' is now (or already was) not a tier of '{base.pool_name}'"
    if tp.pool_id not in base.tiers:
        return Reply(outs=done)
    if tp.tier_of != base.pool_id:
        raise CephError(
            errno.EINVAL,
            f"tier pool '{tp.pool_name}' is a tier of '{_name(m, tp.tier_of)}': "
            "THIS SHOULD NOT HAVE HAPPENED AT ALL",
        )
    if base.read_tier == tp.pool_id:
        raise CephError(
            errno.EBUSY,
            f"tier pool '{tp.pool_name}' is the overlay for '{base.pool_name}'; "
            "please remove-overlay first",
        )
    nb = _new_pool(m, base.pool_id)
    nt = _new_pool(m, tp.pool_id)
    nb.tiers = [t for t in nb.tiers if t != tp.pool_id]
    nt.clear_tier()
    return Reply(outs=done, changed={"osdmap"})


@command("osd tier set-overlay")
def osd_tier_set_overlay(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    base = _lookup(m, ctx.args["pool"])
    op = _lookup(m, ctx.args["overlaypool"])
    if op.pool_id not in base.tiers:
        raise CephError(
            errno.EINVAL, f"tier pool '{op.pool_name}' is not a tier of '{base.pool_name}'"
        )
    done = f"overlay for '{base.pool_name}' is now (or already was) '{op.pool_name}'"
    if base.read_tier == op.pool_id:
        return Reply(outs=done)
    if base.has_read_tier():
        raise CephError(
            errno.EINVAL,
            f"pool '{base.pool_name}' has overlay '{_name(m, base.read_tier)}'; "
            "please remove-overlay first",
        )
    nb = _new_pool(m, base.pool_id)
    nb.read_tier = nb.write_tier = op.pool_id
    nb.last_force_op_resend = m.epoch
    no = _new_pool(m, op.pool_id)
    no.last_force_op_resend = m.epoch
    if op.cache_mode == P.CACHEMODE_NONE:
        done += " (WARNING: overlay pool cache_mode is still NONE)"
    return Reply(outs=done, changed={"osdmap"})


@command("osd tier remove-overlay", "osd tier rm-overlay")
def osd_tier_remove_overlay(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    base = _lookup(m, ctx.args["pool"])
    done = f"there is now (or already was) no overlay for '{base.pool_name}'"
    if not base.has_read_tier():
        return Reply(outs=done)
    nb = _new_pool(m, base.pool_id)
    for t in {nb.read_tier, nb.write_tier}:
        if t >= 0 and t in m.pools:
            _new_pool(m, t).last_force_op_resend = m.epoch
    nb.read_tier = nb.write_tier = -1
    nb.last_force_op_resend = m.epoch
    return Reply(outs=done, changed={"osdmap"})


# transitions that need a clean (no dirty objects) cache: from -> allowed without check
_DIRTY_FREE = {
    P.CACHEMODE_READFORWARD: {P.CACHEMODE_WRITEBACK, P.CACHEMODE_PROXY, P.CACHEMODE_READPROXY},
    P.CACHEMODE_READPROXY: {P.CACHEMODE_WRITEBACK, P.CACHEMODE_PROXY},
    P.CACHEMODE_PROXY: {P.CACHEMODE_WRITEBACK, P.CACHEMODE_READPROXY},
    P.CACHEMODE_FORWARD: {P.CACHEMODE_WRITEBACK, P.CACHEMODE_PROXY, P.CACHEMODE_READPROXY},
}


@command("osd tier cache-mode")
def osd_tier_cache_mode(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    p = _lookup(m, ctx.args["pool"])
    if not p.is_tier():
        raise CephError(errno.EINVAL, f"pool '{p.pool_name}' is not a tier")
    modestr = str(ctx.args["mode"])
    mode = P.CACHE_MODE_BY_NAME.get(modestr)
    if mode is None:
        raise CephError(errno.EINVAL, f"'{modestr}' is not a valid cache mode")
    if mode in (P.CACHEMODE_FORWARD, P.CACHEMODE_READFORWARD):
        raise CephError(errno.EPERM, f"'{modestr}' is no longer a supported cache mode")
    well_supported = (P.CACHEMODE_WRITEBACK, P.CACHEMODE_NONE, P.CACHEMODE_PROXY,
                      P.CACHEMODE_READPROXY)  # fmt: skip
    if mode not in well_supported and not ctx.get("yes_i_really_mean_it", False):
        raise CephError(
            errno.EPERM,
            f"'{modestr}' is not a well-supported cache mode and may corrupt your data.  "
            "pass --yes-i-really-mean-it to force.",
        )
    name = P.CACHE_MODE_NAMES[mode]
    done = f"set cache-mode for pool '{p.pool_name}' to {name}"
    # committed state is what the transition is checked against (pending is ours too)
    cur = ctx.state.osdmap.pools.get(p.pool_id, p).cache_mode
    if p.cache_mode == mode and cur == mode:
        return Reply(outs=done)
    if cur == P.CACHEMODE_WRITEBACK and mode not in (P.CACHEMODE_PROXY, P.CACHEMODE_READPROXY):
        raise CephError(
            errno.EINVAL,
            f"unable to set cache-mode '{name}' on a 'writeback' pool; "
            "only 'proxy','readproxy' allowed.",
        )
    dirty = _num_objects(ctx, p.pool_id, "num_objects_dirty")
    if cur in _DIRTY_FREE and mode not in _DIRTY_FREE[cur] and dirty > 0:
        raise CephError(
            errno.EBUSY,
            f"unable to set cache-mode '{name}' on pool '{p.pool_name}': dirty objects found",
        )
    np = _new_pool(m, p.pool_id)
    np.cache_mode = mode
    # upstream sets this both when moving to and from none (legacy pools)
    np.flags |= P.FLAG_INCOMPLETE_CLONES
    if mode == P.CACHEMODE_NONE:
        base = m.pools.get(np.tier_of)
        if base is not None and p.pool_id in (base.read_tier, base.write_tier):
            done += " (WARNING: pool is still configured as read or write tier)"
    return Reply(outs=done, changed={"osdmap"})


@command("osd tier add-cache")
def osd_tier_add_cache(ctx: Ctx) -> Reply:
    s = ctx.state
    m = s.pending_osdmap
    base = _lookup(m, ctx.args["pool"])
    tp = _lookup(m, ctx.args["tierpool"])
    done = _check_become_tier(m, tp, base)
    if done is not None:
        return Reply(outs=done)
    size = ctx.args.get("size")
    if not isinstance(size, int) or isinstance(size, bool):
        raise CephError(errno.EINVAL, f"unable to parse 'size' value '{size}'")
    if _num_objects(ctx, tp.pool_id):
        raise CephError(errno.ENOTEMPTY, f"tier pool '{tp.pool_name}' is not empty")
    modestr = str(ctx.state.opt("osd_tier_default_cache_mode"))
    mode = P.CACHE_MODE_BY_NAME.get(modestr)
    if mode is None:
        raise CephError(
            errno.EINVAL, f"osd tier cache default mode '{modestr}' is not a valid cache mode"
        )
    hs_type = str(ctx.state.opt("osd_tier_default_cache_hit_set_type"))
    if hs_type == "bloom":
        fpp = float(ctx.state.opt("osd_pool_default_hit_set_bloom_fpp"))
        hsp: dict[str, Any] = {"type": "bloom", "false_positive_probability": fpp,
                               "target_size": 0, "seed": 0}  # fmt: skip
    elif hs_type in ("explicit_hash", "explicit_object"):
        hsp = {"type": hs_type}
    else:
        raise CephError(
            errno.EINVAL, f"osd tier cache default hit set type '{hs_type}' is not a known type"
        )
    nb = _new_pool(m, base.pool_id)
    nt = _new_pool(m, tp.pool_id)
    nb.tiers = sorted(set(nb.tiers) | {tp.pool_id})
    nb.read_tier = nb.write_tier = tp.pool_id
    nb.snap_epoch = m.epoch
    nb.last_force_op_resend = nt.last_force_op_resend = m.epoch
    nt.tier_of = base.pool_id
    nt.cache_mode = mode
    nt.hit_set_count = int(ctx.state.opt("osd_tier_default_cache_hit_set_count"))
    nt.hit_set_period = int(ctx.state.opt("osd_tier_default_cache_hit_set_period"))
    nt.min_read_recency_for_promote = int(
        ctx.state.opt("osd_tier_default_cache_min_read_recency_for_promote")
    )
    nt.min_write_recency_for_promote = int(
        ctx.state.opt("osd_tier_default_cache_min_write_recency_for_promote")
    )
    nt.hit_set_grade_decay_rate = int(
        ctx.state.opt("osd_tier_default_cache_hit_set_grade_decay_rate")
    )
    nt.hit_set_search_last_n = int(ctx.state.opt("osd_tier_default_cache_hit_set_search_last_n"))
    nt.hit_set_params = hsp
    nt.calc_grade_table()
    nt.target_max_bytes = size
    return Reply(
        outs=f"pool '{tp.pool_name}' is now (or already was) a cache tier of '{base.pool_name}'",
        changed={"osdmap"},
    )


def sync_tier_snaps(m: OSDMap) -> bool:
    """A tier takes its base pool's snapshot state when the base's is newer (upstream
    does this as it encodes each pending OSDMap). Returns whether anything changed."""
    changed = False
    for pid in sorted(m.pools):
        t = m.pools[pid]
        base = m.pools.get(t.tier_of) if t.is_tier() else None
        if base is None or base.snap_epoch <= t.snap_epoch:
            continue
        nt = t.copy()
        nt.snap_seq = base.snap_seq
        nt.snap_epoch = base.snap_epoch
        nt.pool_snaps = dict(base.pool_snaps)
        nt.removed_snaps = list(base.removed_snaps)
        nt.flags = (nt.flags & ~_SNAP_MODE_FLAGS) | (base.flags & _SNAP_MODE_FLAGS)
        nt.last_change = m.epoch
        m.pools[pid] = nt
        changed = True
    return changed
