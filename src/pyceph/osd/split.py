"""PG split arithmetic: which PGs a grown pool splits off, and how a PG's log and missing
set divide between a parent and its children (upstream pg_t::is_split, get_split_bits,
pg_log_t::split_out_child).

When `pg_num` grows from `old` to `new`, an object whose placement seed is `ps` under
`old` keeps its PG or moves to one of the parent's children: the PG its hash folds into
with `ceph_stable_mod` under `new`. Every OSD holding the parent splits it the same way at
the same map epoch, so their children's logs agree as their parents' did. Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable

from pyceph.crush.hash import ceph_stable_mod
from pyceph.osd.pglog import LogEntry
from pyceph.osd.types import Oid, Version, object_hash
from pyceph.osdmap.pool import calc_mask


def split_children(ps: int, old_pg_num: int, new_pg_num: int) -> list[int]:
    """The PGs `ps` splits into when pg_num grows from old to new (upstream is_split)."""
    if new_pg_num <= old_pg_num or ps >= old_pg_num:
        return []
    mask = calc_mask(old_pg_num)
    return [c for c in range(old_pg_num, new_pg_num) if ceph_stable_mod(c, old_pg_num, mask) == ps]


def split_bits(ps: int, pg_num: int) -> int:
    """How many low hash bits name PG `ps` under `pg_num` (upstream get_split_bits): the
    store moves a child's objects by `hash & ((1 << bits) - 1) == ps`."""
    if pg_num == 1:
        return 0
    p = pg_num.bit_length()  # the p with pg_num in [2^(p-1), 2^p)
    half = 1 << (p - 1)
    return p if ps % half < pg_num % half else p - 1


def pg_of(oid: Oid, pg_num: int) -> int:
    """The PG seed an object folds into under `pg_num`."""
    return ceph_stable_mod(object_hash(oid), pg_num, calc_mask(pg_num))


def partition(
    entries: list[LogEntry], missing: dict[Oid, Version], owner: Callable[[Oid], int]
) -> tuple[dict[int, list[LogEntry]], dict[int, dict[Oid, Version]]]:
    """Log entries and missing objects grouped by the PG `owner` assigns each object
    (entries keep their order)."""
    by_pg: dict[int, list[LogEntry]] = {}
    for e in entries:
        by_pg.setdefault(owner(e.oid), []).append(e)
    miss: dict[int, dict[Oid, Version]] = {}
    for oid, v in missing.items():
        miss.setdefault(owner(oid), {})[oid] = v
    return by_pg, miss


__all__ = ["partition", "pg_of", "split_bits", "split_children"]
