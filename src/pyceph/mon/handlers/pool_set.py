"""`osd pool set POOL VAR VAL`: one setter per variable, found in a table.

Checks, errnos and messages follow upstream OSDMonitor::prepare_command_pool_set. A
setter changes a copy of the pool; the command commits it only when something changed.
Growing pg_num takes effect at once (the OSDs split their PGs; pg_num, pgp_num and their
targets move together where pgp_num followed pg_num — upstream's mgr steps pgp_num
gradually). Shrinking it sets pg_num_target (and pgp_num_target): the mgr steps pgp_num
down, then pg_num_pending (`pg_num_actual`), and the monitor lowers pg_num when the OSDs
report the merging PGs ready (`prepare_ready_to_merge`).
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyceph.common.errors import CephError
from pyceph.osdmap import pool as P

from . import Ctx, Reply, command
from .pool import (
    BOOL_FLAGS,
    FLOAT_OPTIONS,
    INT_OPTIONS,
    STR_OPTIONS,
    check_pg_num,
    default_min_size,
    get_pool,
    max_pg_num_message,
)

#: Largest replicated pool size upstream accepts.
MAX_POOL_SIZE = 10


@dataclass
class Setting:
    """One `osd pool set` request: the pool copy it changes and the value as typed."""

    ctx: Ctx
    pool: P.Pool
    var: str
    val: str

    def integer(self) -> int:
        """The value as upstream's strict_strtoll reads it, else EINVAL."""
        try:
            return int(self.val, 10)
        except ValueError:
            why = "garbage at end of string" if re.match(r"^[+-]?\d+", self.val) else None
            detail = f"{why}. got: '{self.val}'" if why else f"expected integer, got: '{self.val}'"
            raise CephError(
                errno.EINVAL,
                f"error parsing integer value '{self.val}': strict_strtoll: {detail}",
            ) from None

    def boolean(self) -> bool:
        """'true'/'1' or 'false'/'0', else EINVAL."""
        if self.val == "true" or self._int_or_none() == 1:
            return True
        if self.val == "false" or self._int_or_none() == 0:
            return False
        raise CephError(errno.EINVAL, "expecting value 'true', 'false', '0', or '1'")

    def _int_or_none(self) -> int | None:
        try:
            return int(self.val, 10)
        except ValueError:
            return None


def _no_size_change(p: P.Pool) -> None:
    if p.has_flag(P.FLAG_NOSIZECHANGE):
        raise CephError(errno.EPERM, "pool size change is disabled; you must unset "
                        "nosizechange flag for the pool first")  # fmt: skip


def _no_pg_change(p: P.Pool, what: str) -> None:
    if p.has_flag(P.FLAG_NOPGCHANGE):
        raise CephError(errno.EPERM, f"pool {what} change is disabled; you must unset "
                        "nopgchange flag for the pool first")  # fmt: skip


def _set_size(s: Setting) -> None:
    p, state = s.pool, s.ctx.state
    _no_size_change(p)
    if p.is_erasure():
        raise CephError(errno.EOPNOTSUPP, "can not change the size of an erasure-coded pool")
    v = s.integer()
    if v <= 0 or v > MAX_POOL_SIZE:
        raise CephError(errno.EINVAL, f"pool size must be between 1 and {MAX_POOL_SIZE}")
    if v == 1:
        if not bool(state.opt("mon_allow_pool_size_one")):
            raise CephError(errno.EPERM, "configuring pool size as 1 is disabled by default.")
        if not s.ctx.get("yes_i_really_mean_it", False):
            raise CephError(
                errno.EPERM,
                "WARNING: setting pool size 1 could lead to data loss without recovery. If "
                "you are *ABSOLUTELY CERTAIN* that is what you want, pass the flag "
                "--yes-i-really-mean-it.",
            )
    check_pg_num(state, p.pool_id, p.pg_num, v)
    p.size = v
    p.min_size = default_min_size(state, v)


def _set_min_size(s: Setting) -> None:
    p = s.pool
    _no_size_change(p)
    v = s.integer()
    lowest = 1
    if p.is_erasure():
        profiles = s.ctx.state.pending_osdmap.erasure_code_profiles
        lowest = int(profiles.get(p.erasure_code_profile, {}).get("k", 1))
    if v < lowest or v > p.size:
        raise CephError(errno.EINVAL, f"pool min_size must be between {lowest} and size, "
                        f"which is set to {p.size}")  # fmt: skip
    p.min_size = v


def _grow_pg_num(p: P.Pool, n: int, epoch: int) -> None:
    """pg_num grows (upstream's pg_num_actual increase): older clients resend their ops."""
    if p.pg_num != p.pg_num_pending:
        p.last_force_op_resend_prenautilus = epoch
    p.set_pg_num(n)
    p.last_force_op_resend_preluminous = epoch


def _check_pg_num_range(state: Any, n: int) -> None:
    if n <= 0:
        raise CephError(errno.EINVAL, f"specified pg_num {n} <= 0")
    if n > int(state.opt("mon_max_pool_pg_num")):
        raise CephError(errno.ERANGE, max_pg_num_message(state))


def _set_pg_num(s: Setting) -> None:
    p, state = s.pool, s.ctx.state
    _no_pg_change(p, "pg_num")
    v = s.integer()
    _check_pg_num_range(state, v)
    if v == p.pg_num_target:
        return
    if v > p.pg_num_target:
        check_pg_num(state, p.pool_id, v, p.size)
    # pgp_num tracks pg_num if it did (upstream: left to the user if set apart)
    follow = p.pgp_num_target == p.pg_num_target
    p.pg_num_target = v
    if follow:
        p.pgp_num_target = v
    if v > p.pg_num:
        # growing takes effect at once (upstream's mgr steps it: a pyceph departure)
        if follow:
            p.pgp_num = v
        _grow_pg_num(p, v, state.pending_osdmap.epoch)
    # shrinking: the mgr steps pgp_num, then pg_num (pg_num_actual), one merge at a time
    # (pyceph.mgr.pg_adjust)


def _set_pg_num_actual(s: Setting) -> None:
    """The mgr's step: growing splits at once, shrinking only lowers pg_num_pending by
    one; the monitor lowers pg_num itself when the merging PGs' primary reports them
    ready."""
    p, state = s.pool, s.ctx.state
    n = s.integer()
    _no_pg_change(p, "pg_num")
    _check_pg_num_range(state, n)
    if n == p.pg_num:
        return
    epoch = state.pending_osdmap.epoch
    if n > p.pg_num:
        _grow_pg_num(p, n, epoch)
        return
    if n < p.pgp_num:
        raise CephError(errno.EINVAL, f"specified pg_num {n} < pgp_num {p.pgp_num}")
    if n < p.pg_num - 1:
        raise CephError(errno.EINVAL, f"specified pg_num {n} < pg_num ({p.pg_num}) - 1; only "
                        "single pg decrease is currently supported")  # fmt: skip
    p.pg_num_pending = n
    # older clients do not know a pg_num_pending change starts an interval (upstream)
    p.last_force_op_resend_prenautilus = epoch
    p.last_force_op_resend_preluminous = epoch


def _new_pgp_num(s: Setting) -> int:
    """The checks `pgp_num` and `pgp_num_actual` share."""
    _no_pg_change(s.pool, "pgp_num")
    v = s.integer()
    if v <= 0:
        raise CephError(errno.EINVAL, f"specified pgp_num must > 0, but you set to {v}")
    return v


def _set_pgp_num(s: Setting) -> None:
    p = s.pool
    v = _new_pgp_num(s)
    if v > p.pg_num_target:
        raise CephError(errno.EINVAL, f"specified pgp_num {v} > pg_num {p.pg_num_target}")
    p.pgp_num_target = v  # the mgr steps pgp_num toward it (pyceph.mgr.pg_adjust)


def _set_pgp_num_actual(s: Setting) -> None:
    p = s.pool
    v = _new_pgp_num(s)
    if v > p.pg_num:
        raise CephError(errno.EINVAL, f"specified pgp_num {v} > pg_num {p.pg_num}")
    if v > p.pg_num_pending:
        raise CephError(errno.EINVAL, f"specified pgp_num {v} > pg_num_pending {p.pg_num_pending}")
    p.pgp_num = v


def _set_crush_rule(s: Setting) -> None:
    crush = s.ctx.state.pending_osdmap.crush
    rid = crush.find_rule(s.val)
    if rid < 0:
        raise CephError(errno.ENOENT, f"crush rule {s.val} does not exist")
    rule = crush.rules[rid]
    if rule.type != s.pool.type:
        raise CephError(errno.EINVAL, f"rule {rid} type {rule.type} does not match pool")
    s.pool.crush_rule = rid


def _set_flag(s: Setting) -> None:
    if s.var == "hashpspool" and not s.ctx.get("yes_i_really_mean_it", False):
        raise CephError(
            errno.EPERM,
            "are you SURE?  this will remap all placement groups in this pool, this "
            "triggers large data movement, pass --yes-i-really-mean-it if you really do.",
        )
    if s.boolean():
        s.pool.flags |= BOOL_FLAGS[s.var]
    else:
        s.pool.flags &= ~BOOL_FLAGS[s.var]


def _set_pg_autoscale_mode(s: Setting) -> None:
    if s.val not in P.AUTOSCALE_BY_NAME:
        raise CephError(errno.EINVAL, f"specified invalid mode {s.val}")
    s.pool.pg_autoscale_mode = P.AUTOSCALE_BY_NAME[s.val]


def _set_allow_ec_overwrites(s: Setting) -> None:
    if not s.pool.is_erasure():
        raise CephError(errno.EINVAL, "ec overwrites can only be enabled for an erasure coded pool")  # fmt: skip
    if not s.boolean():
        raise CephError(errno.EINVAL, "ec overwrites cannot be disabled once enabled")
    s.pool.flags |= P.FLAG_EC_OVERWRITES


def _set_fast_read(s: Setting) -> None:
    if not s.pool.is_erasure():
        raise CephError(errno.EINVAL, "fast read is not supported in replication pool")
    s.pool.fast_read = s.boolean()


def _set_int_option(s: Setting) -> None:
    v = s.integer()
    if v == 0:
        s.pool.options.pop(s.var, None)
    else:
        s.pool.options[s.var] = v


def _set_float_option(s: Setting) -> None:
    try:
        f = float(s.val)
    except ValueError:
        raise CephError(errno.EINVAL, f"error parsing floating point value '{s.val}'") from None
    if f < 0:
        raise CephError(errno.EINVAL, f"{s.var} must be >= 0")
    if f == 0 and s.var != "pg_autoscale_bias":
        s.pool.options.pop(s.var, None)
    else:
        s.pool.options[s.var] = f


def _set_str_option(s: Setting) -> None:
    if not s.val or s.val == "unset":
        s.pool.options.pop(s.var, None)
    else:
        s.pool.options[s.var] = s.val


#: The setter of each variable `osd pool set` changes.
SETTERS: dict[str, Callable[[Setting], None]] = {
    "size": _set_size,
    "min_size": _set_min_size,
    "pg_num": _set_pg_num,
    "pg_num_actual": _set_pg_num_actual,
    "pgp_num": _set_pgp_num,
    "pgp_num_actual": _set_pgp_num_actual,
    "crush_rule": _set_crush_rule,
    "pg_autoscale_mode": _set_pg_autoscale_mode,
    "allow_ec_overwrites": _set_allow_ec_overwrites,
    "fast_read": _set_fast_read,
    **dict.fromkeys(BOOL_FLAGS, _set_flag),
    **dict.fromkeys(INT_OPTIONS, _set_int_option),
    **dict.fromkeys(FLOAT_OPTIONS, _set_float_option),
    **dict.fromkeys(STR_OPTIONS, _set_str_option),
}


@command("osd pool set")
def osd_pool_set(ctx: Ctx) -> Reply:
    m = ctx.state.pending_osdmap
    before = get_pool(m, ctx.args["pool"])
    var, val = ctx.args["var"], str(ctx.args["val"])
    setter = SETTERS.get(var)
    if setter is None:  # the cache-tier variables, on a pool that is no tier
        raise CephError(errno.EACCES,
                        f"pool '{before.pool_name}' is not a tier pool: variable not applicable")  # fmt: skip
    p = before.copy()
    setter(Setting(ctx, p, var, val))
    if p.to_plain() == before.to_plain():
        return Reply(outs=f"set pool {p.pool_id} {var} to {val}")
    p.last_change = m.epoch
    m.pools[p.pool_id] = p
    return Reply(outs=f"set pool {p.pool_id} {var} to {val}", changed={"osdmap"})
