"""PG merge arithmetic and the OSD's ready-to-merge decision (upstream pg_t::get_parent,
is_merge_source, is_merge_target; OSDService::send_ready_to_merge; PeeringState::merge_from).

A pool's pg_num shrinks one PG at a time: the monitor first lowers `pg_num_pending` to
pg_num - 1; the source (the last PG, seed pg_num - 1) and its target (the source's
parent: its seed with the top bit cleared) hold client ops ("premerge"); their primary
tells the monitor both are active+clean on the same acting set with no op running, and
the monitor then lowers pg_num. Every OSD holding the source folds it into the target at
the map epoch that lowered pg_num: objects move with the store's collection merge, and
the merged log starts empty at the newer of the two heads (both were clean and quiet, so
every member holds the same objects; the requests the logs named are kept as dups so a
resent write is still answered once).

An OSD that was down while the pool shrank may see pg_num drop by several steps at once:
every PG it holds at or above the new pg_num folds into the PG its seed folds into. Its
copies are older than the acting set's, so the merged PG is marked behind (empty, at
version 0) and peering backfills it. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyceph.osd.pglog import DupEntry, LogEntry
from pyceph.osd.split import split_children
from pyceph.osd.types import ZERO, Version


def parent(ps: int) -> int:
    """Upstream pg_t::get_parent: the seed with its highest set bit cleared."""
    if ps <= 0:
        raise ValueError("PG 0 has no parent")
    return ps & ~(1 << (ps.bit_length() - 1))


def is_merge_source(ps: int, old_pg_num: int, new_pg_num: int) -> bool:
    """Does PG `ps` disappear (fold into another) when pg_num goes from old to new?"""
    return new_pg_num <= ps < old_pg_num


def merge_target(ps: int, new_pg_num: int) -> int:
    """The PG a merge source folds into under `new_pg_num` (its parent, repeatedly)."""
    while ps >= new_pg_num:
        ps = parent(ps)
    return ps


def is_merge_target(ps: int, old_pg_num: int, new_pg_num: int) -> bool:
    """Does PG `ps` receive merge sources when pg_num goes from old to new? (Upstream:
    it would split into them going the other way.)"""
    return ps < new_pg_num < old_pg_num and bool(split_children(ps, new_pg_num, old_pg_num))


def merge_sources(ps: int, old_pg_num: int, new_pg_num: int) -> list[int]:
    """The PGs that fold into `ps` when pg_num goes from old to new."""
    return split_children(ps, new_pg_num, old_pg_num) if new_pg_num < old_pg_num else []


# -- the ready-to-merge decision (primary of the source) --------------------------------
@dataclass(frozen=True)
class MergePeer:
    """What the ready-to-merge decision needs of one local PG."""

    primary: bool
    active_clean: bool
    #: premerge, with no client op or local commit running: the log stays put
    quiesced: bool
    acting: tuple[int, ...]
    last_update: Version
    last_epoch_started: int
    last_epoch_clean: int


def ready_to_merge(
    pool: int, pg_num: int, pg_num_pending: int, pgs: dict[int, MergePeer]
) -> dict[str, Any] | None:
    """The `pg_ready_to_merge` message this OSD owes the monitor for `pool`, or None.

    Only a pending single-step shrink asks anything, and only of the source's primary.
    Ready when the source and its target are both here, both primary here, both
    active+clean, with the same acting set (upstream also requires the latter of the
    mgr before it lowers pg_num_pending), and both quiesced: client ops wait while a
    merge is pending (upstream's premerge PGs are peered, not active), so the versions
    reported are every member's last. Not quiesced yet: nothing to say (None) until the
    running ops end. Otherwise "not ready", which makes the monitor back off
    (pg_num_pending returns to pg_num) until the mgr tries again."""
    if pg_num_pending != pg_num - 1 or pg_num < 2:
        return None
    src_ps = pg_num - 1
    src = pgs.get(src_ps)
    if src is None or not src.primary:
        return None
    tgt_ps = parent(src_ps)
    tgt = pgs.get(tgt_ps)
    ready = (
        tgt is not None
        and tgt.primary
        and src.active_clean
        and tgt.active_clean
        and src.acting == tgt.acting
    )
    if ready and not (src.quiesced and tgt is not None and tgt.quiesced):
        return None
    return {
        "pgid": f"{pool}.{src_ps:x}",
        "source_version": list(src.last_update),
        "target_version": list(tgt.last_update if tgt is not None else ZERO),
        "last_epoch_started": max(src.last_epoch_started, tgt.last_epoch_started if tgt else 0),
        "last_epoch_clean": max(src.last_epoch_clean, tgt.last_epoch_clean if tgt else 0),
        "ready": ready,
    }


# -- the merged log ---------------------------------------------------------------------
def merged_dups(dups: list[list[DupEntry]], entries: list[list[LogEntry]]) -> list[DupEntry]:
    """Upstream pg_log_t::merge_from keeps every dup of the merging logs; the entries
    themselves are dropped (the merged log starts empty), so their requests become dups
    too: a client that resends a write the source applied gets its answer, not a replay."""
    out: dict[Any, DupEntry] = {}
    for ds in dups:
        for d in ds:
            out[d.reqid] = d
    for es in entries:
        for e in es:
            if e.reqid is not None:
                out[e.reqid] = DupEntry(e.reqid, e.version, e.user_version, e.r)
    return sorted(out.values(), key=lambda d: d.version)


def caught_up(
    old_pg_num: int,
    new_pg_num: int,
    meta: dict[str, Any] | None,
    pool: int,
    source_ps: int,
    source_lu: Version,
    target_lu: Version,
) -> bool:
    """Did this OSD's copies of a one-step merge hold everything the primary reported
    ready with (upstream last_pg_merge_meta source_version/target_version)? A jump over
    several steps cannot be checked: the copies are older than the acting set's."""
    if old_pg_num - new_pg_num != 1 or not meta:
        return False
    if meta.get("source_pgid") != f"{pool}.{source_ps:x}":
        return False
    sv = _ver(meta.get("source_version"))
    tv = _ver(meta.get("target_version"))
    return source_lu >= sv and target_lu >= tv


def _ver(v: Any) -> Version:
    if isinstance(v, str):
        e, _, n = v.partition("'")
        return (int(e), int(n))
    if isinstance(v, list | tuple) and len(v) == 2:
        return (int(v[0]), int(v[1]))
    return ZERO


__all__ = [
    "MergePeer",
    "caught_up",
    "is_merge_source",
    "is_merge_target",
    "merge_sources",
    "merge_target",
    "merged_dups",
    "parent",
    "ready_to_merge",
]
