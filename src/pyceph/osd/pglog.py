"""The PG log (upstream PGLog): ordered entries with versions, the reqid dup index, trimming,
and the pure log arithmetic peering needs (divergence, missing sets against an
authoritative log).

Versions are unique per PG: each is issued once by the primary of one interval, so two
logs holding the same version hold the same operation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyceph.osd.ec_rollback import RollbackInfo
from pyceph.osd.types import ZERO, Oid, ReqId, Version, oid_of, reqid_of, ver

MODIFY = "modify"
DELETE = "delete"
ERROR = "error"  # a failed write, logged so a resend gets the same error
_OPS = {MODIFY: MODIFY, DELETE: DELETE, ERROR: ERROR}


@dataclass(slots=True)
class LogEntry:
    """One PG log entry (upstream pg_log_entry_t)."""

    op: str
    oid: Oid
    version: Version
    prior_version: Version = ZERO
    reqid: ReqId | None = None
    user_version: int = 0
    r: int = 0
    #: erasure-coded PGs: how this shard undoes the entry (`pyceph.osd.ec_rollback`);
    #: None once rolled forward (or never applied here: it came with a log to adopt)
    rollback: RollbackInfo | None = None

    def to_wire(self) -> list[Any]:
        w = [
            self.op,
            list(self.oid),
            list(self.version),
            list(self.prior_version),
            list(self.reqid) if self.reqid else None,
            self.user_version,
            self.r,
        ]
        if self.rollback is not None:
            w.append(self.rollback.to_wire())
        return w

    @classmethod
    def from_wire(cls, w: list[Any]) -> LogEntry:
        return cls(
            _OPS.get(w[0]) or str(w[0]),  # the module's constant, not a string per entry
            oid_of(w[1]),
            ver(w[2]),
            ver(w[3]),
            reqid_of(w[4]),
            int(w[5]),
            int(w[6]),
            RollbackInfo.from_wire(w[7]) if len(w) > 7 and w[7] is not None else None,
        )

    def without_rollback(self) -> LogEntry:
        """The same entry with no rollback data (another shard's, or rolled forward)."""
        if self.rollback is None:
            return self
        return LogEntry(
            self.op, self.oid, self.version, self.prior_version, self.reqid,
            self.user_version, self.r,
        )  # fmt: skip


@dataclass(slots=True)
class DupEntry:
    """What a trimmed write returned, kept so a late resend is still answered once."""

    reqid: ReqId
    version: Version
    user_version: int
    r: int

    def to_wire(self) -> list[Any]:
        return [list(self.reqid), list(self.version), self.user_version, self.r]

    @classmethod
    def from_wire(cls, w: list[Any]) -> DupEntry:
        rq = reqid_of(w[0])
        assert rq is not None
        return cls(rq, ver(w[1]), int(w[2]), int(w[3]))


class PGLog:
    """Entries in (tail, head], an index by reqid, and dups of trimmed entries."""

    def __init__(
        self,
        tail: Version = ZERO,
        entries: list[LogEntry] | None = None,
        dups: list[DupEntry] | None = None,
    ) -> None:
        self.tail = tail
        self.entries: list[LogEntry] = []
        self._reqids: dict[ReqId, LogEntry] = {}
        self.dups: OrderedDict[ReqId, DupEntry] = OrderedDict()
        for d in dups or []:
            self.dups[d.reqid] = d
        for e in sorted(entries or [], key=lambda e: e.version):
            self.append(e)

    @property
    def head(self) -> Version:
        return self.entries[-1].version if self.entries else self.tail

    def __len__(self) -> int:
        return len(self.entries)

    def append(self, e: LogEntry) -> None:
        if e.version <= self.head:
            raise ValueError(f"log entry {e.version} not after head {self.head}")
        self.entries.append(e)
        if e.reqid is not None:
            self._reqids[e.reqid] = e

    def lookup_reqid(self, reqid: ReqId) -> tuple[Version, int, int] | None:
        """(version, user_version, r) of a logged or dup-tracked request."""
        e = self._reqids.get(reqid)
        if e is not None:
            return e.version, e.user_version, e.r
        d = self.dups.get(reqid)
        if d is not None:
            return d.version, d.user_version, d.r
        return None

    def versions(self) -> set[Version]:
        return {e.version for e in self.entries}

    def entries_after(self, v: Version) -> list[LogEntry]:
        """Entries with version > v (oldest first)."""
        lo, hi = 0, len(self.entries)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.entries[mid].version <= v:
                lo = mid + 1
            else:
                hi = mid
        return self.entries[lo:]

    def trim(self, to: Version, dups_tracked: int) -> tuple[list[LogEntry], list[DupEntry]]:
        """Drop entries <= `to`; their reqids move to the dup index (bounded by
        `dups_tracked`). Returns the trimmed entries and the dups evicted."""
        n = 0
        while n < len(self.entries) and self.entries[n].version <= to:
            n += 1
        trimmed, self.entries = self.entries[:n], self.entries[n:]
        if trimmed:
            self.tail = trimmed[-1].version
        for e in trimmed:
            if e.reqid is not None:
                self._reqids.pop(e.reqid, None)
                self.dups[e.reqid] = DupEntry(e.reqid, e.version, e.user_version, e.r)
        evicted = []
        while len(self.dups) > dups_tracked:
            evicted.append(self.dups.popitem(last=False)[1])
        return trimmed, evicted

    def rewind_to(self, v: Version) -> list[LogEntry]:
        """Remove entries newer than `v` (divergent); returns them, oldest first."""
        keep = [e for e in self.entries if e.version <= v]
        gone = self.entries[len(keep) :]
        self.entries = keep
        for e in gone:
            if e.reqid is not None:
                self._reqids.pop(e.reqid, None)
        return gone

    def split_out(self, moves: Callable[[LogEntry], bool]) -> list[LogEntry]:
        """Remove the entries `moves` selects (a PG split hands them to a child); returns
        them, oldest first. The dup index stays: a child gets a copy of it."""
        gone = [e for e in self.entries if moves(e)]
        if gone:
            self.entries = [e for e in self.entries if not moves(e)]
            for e in gone:
                if e.reqid is not None:
                    self._reqids.pop(e.reqid, None)
        return gone

    def reset(self, tail: Version, entries: list[LogEntry]) -> None:
        """Replace the whole log (backfill: the peer's old log is unrelated)."""
        self.tail = tail
        self.entries = []
        self._reqids.clear()
        for e in entries:
            self.append(e)

    def calc_trim_to(
        self, limit: Version, target_len: int, trim_min: int = 1, trim_max: int = 0
    ) -> Version | None:
        """Newest version to trim so at most `target_len` entries remain, never past
        `limit` (the oldest last_complete among the acting set).

        As upstream's calc_trim_to: at most `trim_max` entries at once (0: no bound), and
        none until at least `trim_min` are due (osd_pg_log_trim_min: the log is trimmed
        in batches, not by one entry per write) unless `trim_max` is below `trim_min`."""
        excess = len(self.entries) - target_len
        if trim_max > 0:
            excess = min(excess, trim_max)
        if excess <= 0 or (excess < trim_min and not 0 < trim_max < trim_min):
            return None
        cand = self.entries[excess - 1].version
        if cand > limit:
            ok = [e.version for e in self.entries[:excess] if e.version <= limit]
            if not ok:
                return None
            cand = ok[-1]
        return cand


@dataclass
class LogDiff:
    """How a peer's log relates to the authoritative one (upstream proc_replica_log)."""

    backfill: bool = False
    common: Version = ZERO
    divergent: list[LogEntry] = field(default_factory=list)
    #: objects the peer must get (oid -> version the authoritative log requires)
    missing: dict[Oid, Version] = field(default_factory=dict)
    #: objects the peer must delete (deleted in the auth log, or created by a divergent entry)
    deletes: set[Oid] = field(default_factory=set)
    #: the auth entries the peer must append after rewinding to `common`
    entries: list[LogEntry] = field(default_factory=list)
    #: versions of divergent entries the peer undoes locally with their rollback data,
    #: newest first (erasure-coded PGs, upstream _merge_object_divergent_entries)
    rollback: list[Version] = field(default_factory=list)


def diff_against_auth(
    auth: PGLog,
    peer_last_update: Version,
    peer_entries: list[LogEntry],
    peer_missing: dict[Oid, Version] | None = None,
    peer_tail: Version | None = None,
) -> LogDiff:
    """What a peer with `peer_entries` (its log, oldest first) must do to match `auth`.

    A peer whose head is older than the auth tail cannot be caught up from the log and
    needs a backfill. Otherwise every peer entry newer than the auth tail that the auth
    log lacks is divergent: its object goes back to the auth's state (missing at the
    version before the divergence, or deleted if it did not exist then); every auth
    entry newer than the common point is missing on the peer. The peer's log tail
    (`peer_tail`), when the auth log holds it, is a common point too: the peer applied
    everything up to it (an EC auth log may end where a newer peer's log begins).
    """
    d = LogDiff()
    if peer_last_update < auth.tail and auth.tail != ZERO:
        d.backfill = True
        d.entries = list(auth.entries)
        return d
    auth_versions = auth.versions()
    matched = [e.version for e in peer_entries if e.version in auth_versions]
    common = max(matched) if matched else min(auth.tail, peer_last_update)
    if peer_last_update <= auth.head and peer_last_update in auth_versions:
        common = max(common, peer_last_update)
    if (
        peer_tail is not None
        and (peer_tail in auth_versions or peer_tail == auth.tail)
        and peer_tail <= auth.head
    ):
        common = max(common, peer_tail)
    d.common = common
    d.divergent = [e for e in peer_entries if e.version > common]
    missing: dict[Oid, Version] = dict(peer_missing or {})
    # Divergent objects first: back to their state before the divergence. An object
    # whose every divergent entry carries rollback data (erasure-coded PGs) is undone
    # in place; otherwise it is missing at the version before its oldest divergent entry
    # (or deleted if it did not exist then).
    by_oid: dict[Oid, list[LogEntry]] = {}
    for e in d.divergent:
        if e.op != ERROR:
            by_oid.setdefault(e.oid, []).append(e)
    for oid, es in by_oid.items():
        if oid in missing:
            continue
        if all(e.rollback is not None for e in es):
            d.rollback.extend(e.version for e in es)
            continue
        first = es[0]
        if first.prior_version == ZERO:
            d.deletes.add(oid)
        else:
            missing[oid] = first.prior_version
    d.rollback.sort(reverse=True)
    d.entries = auth.entries_after(common)
    for e in d.entries:
        if e.op == ERROR:
            continue
        if e.op == DELETE:
            missing.pop(e.oid, None)
            d.deletes.add(e.oid)
        else:
            d.deletes.discard(e.oid)
            missing[e.oid] = e.version
    for oid in d.deletes:
        missing.pop(oid, None)
    d.missing = missing
    if d.rollback:
        # an object the auth log changes again is recovered or deleted anyway
        oid_at = {e.version: e.oid for e in d.divergent}
        d.rollback = [
            v for v in d.rollback if oid_at[v] not in missing and oid_at[v] not in d.deletes
        ]
    return d


def choose_authoritative(infos: dict[int, Any], primary: int) -> int | None:
    """Upstream find_best_info: the newest last_epoch_started wins, then the newest
    last_update, then the longest log (oldest tail), then the current primary."""
    best: int | None = None
    best_key: tuple[Any, ...] | None = None
    for osd, info in sorted(infos.items()):
        key = (
            info.last_epoch_started,
            info.last_update,
            (-info.log_tail[0], -info.log_tail[1]),
            osd == primary,
        )
        if best_key is None or key > best_key:
            best, best_key = osd, key
    return best
