"""PG peering as a sans-I/O state machine (upstream PeeringState, simplified).

Inputs: map changes (`advance_map`, fed every epoch in order so past intervals are
exact, as upstream's PastIntervals::check_new_interval; `restore_view` after a restart,
with the epoch the stored interval state belongs to), peers' answers to queries (`on_info`,
`on_query_failed`), activation acks (`on_activated`), recovery progress
(`on_recovered`). Outputs: a list of effects for the shell to carry out (query an
OSD, ask the monitor for up_thru, activate replicas with a log plan, report state).

The primary probes every up OSD of the current and past intervals (since the last
interval that went active), refuses to go active while some past interval that may
have accepted writes has no surviving member (state "down"), picks the authoritative
log (newest last_epoch_started, then newest last_update), adopts it, computes each
replica's divergent entries and missing objects, obtains up_thru for the interval,
then activates.

Remapped backfill (upstream PeeringState::choose_acting / calc_replicated_acting): when
members of `up` cannot be caught up from the log (they need a backfill), the primary
wants an acting set of complete OSDs instead (`calc_acting`), asks the monitor for it as
a pg_temp (`RequestPGTemp`, upstream queue_want_pg_temp) and waits for the map; under
that pg_temp the incomplete up members are backfill targets: activated and sent every
write, but not acting. When they are complete the primary asks for the pg_temp to go.
Erasure-coded PGs do the same by position (upstream calc_ec_acting): the position in
acting is the shard id, the pg_temp keeps every shard where it is (holes included), and
a backfill target receives the shard of its up position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyceph.crush.mapper import CRUSH_ITEM_NONE
from pyceph.osd.pglog import LogDiff, LogEntry, PGLog, choose_authoritative, diff_against_auth
from pyceph.osd.types import ZERO, Oid, PastInterval, PGInfo, Version

#: the k of upstream's default erasure-code profile
DEFAULT_EC_K = 2

# States (upstream names where one exists).
INITIAL = "initial"
PEERING = "peering"
WAIT_UP_THRU = "wait_up_thru"
ACTIVATING = "activating"
ACTIVE = "active"
DOWN = "down"
PEERED = "peered"  # peered, but fewer than min_size acting members: no I/O
#: upstream NeedActingChange: the primary asked the monitor for another acting set
WAIT_ACTING = "wait_acting"
REPLICA = "replica"
STRAY = "stray"
DELETED = "deleted"


@dataclass(frozen=True)
class PGMapView:
    """What one PG needs to know about one OSDMap epoch."""

    epoch: int
    up: tuple[int, ...]
    up_primary: int
    acting: tuple[int, ...]
    primary: int
    size: int
    min_size: int
    up_osds: frozenset[int]
    up_thru: dict[int, int] = field(default_factory=dict, hash=False, compare=False)
    pool_exists: bool = True
    #: erasure-coded pools: the acting set by position (shard i on shards[i], -1 for
    #: CRUSH_ITEM_NONE); () for replicated pools
    shards: tuple[int, ...] = ()
    #: the pool's pg_num: a change (a split) starts a new interval
    pg_num: int = 0
    #: erasure-coded pools: the up set by position (-1 for CRUSH_ITEM_NONE); ()
    #: for replicated pools
    up_shards: tuple[int, ...] = ()
    #: erasure-coded pools: the profile's k (data shards); 0 for replicated pools
    ec_k: int = 0

    @classmethod
    def from_osdmap(cls, m: Any, pool: int, ps: int) -> PGMapView:
        p = m.pools.get(pool)
        up_osds = frozenset(i for i, o in m.osds.items() if o.exists and o.up)
        up_thru = {i: o.up_thru for i, o in m.osds.items()}
        if p is None:
            return cls(m.epoch, (), -1, (), -1, 0, 0, up_osds, up_thru, False)
        up, upp, acting, primary = m.pg_to_up_acting_osds(pool, ps)
        none = CRUSH_ITEM_NONE  # PGMapView's position tuples use -1 for it
        ec = int(getattr(p, "type", 1)) == 3
        shards = tuple(-1 if o == none else o for o in acting) if ec else ()
        up_shards = tuple(-1 if o == none else o for o in up) if ec else ()
        return cls(
            m.epoch,
            tuple(o for o in up if o != none),
            upp,
            tuple(o for o in acting if o != none),
            primary,
            int(p.size),
            int(p.min_size),
            up_osds,
            up_thru,
            shards=shards,
            pg_num=int(p.pg_num),
            up_shards=up_shards,
            ec_k=_profile_k(m, p) if ec else 0,
        )

    def shard_of(self, osd: int) -> int | None:
        """The shard `osd` holds in an erasure-coded PG (None: none, or replicated)."""
        try:
            return self.shards.index(osd)
        except ValueError:
            return None

    def up_shard_of(self, osd: int) -> int | None:
        """The shard `osd` is mapped to by `up` in an erasure-coded PG (None: none)."""
        try:
            return self.up_shards.index(osd)
        except ValueError:
            return None

    def is_up(self, osd: int) -> bool:
        return osd in self.up_osds


def _profile_k(m: Any, pool: Any) -> int:
    """The k of an erasure-coded pool's profile (upstream's default profile: 2)."""
    profiles = getattr(m, "erasure_code_profiles", None) or {}
    profile = profiles.get(getattr(pool, "erasure_code_profile", "")) or {}
    return int(profile.get("k", DEFAULT_EC_K))


def is_new_interval(old: PGMapView, new: PGMapView) -> bool:
    """Upstream PastIntervals::is_new_interval (a pg_num change counts for every PG of the
    pool, upstream only for the PGs it splits: re-peering the others costs a moment)."""
    return (
        old.acting != new.acting
        or old.up != new.up
        or old.primary != new.primary
        or old.up_primary != new.up_primary
        or old.size != new.size
        or old.min_size != new.min_size
        or old.pool_exists != new.pool_exists
        or old.shards != new.shards
        or old.pg_num != new.pg_num
    )


def starts_interval(old: PGMapView | None, new: PGMapView) -> bool:
    """Does epoch `new` start a new interval after `old`, the epoch the PG last saw?
    Also when epochs were skipped (a map we could not get): what happened in them is
    unknown, so the PG peers afresh rather than claim one interval spans them."""
    return old is None or new.epoch > old.epoch + 1 or is_new_interval(old, new)


def close_interval(first: int, last_view: PGMapView) -> PastInterval:
    """The interval that ended with `last_view`: it may have gone read/write if it had
    min_size members and its primary got up_thru at or after its start."""
    rw = (
        len(last_view.acting) >= max(last_view.min_size, 1)
        and last_view.primary >= 0
        and last_view.up_thru.get(last_view.primary, 0) >= first
    )
    return PastInterval(first, last_view.epoch, list(last_view.acting), last_view.primary, rw)


def calc_acting(
    up: tuple[int, ...],
    up_primary: int,
    acting: tuple[int, ...],
    size: int,
    complete: dict[int, bool],
    last_update: dict[int, Version],
    auth: int,
) -> tuple[tuple[int, ...], frozenset[int]]:
    """Upstream calc_replicated_acting: the acting set we want and the backfill targets.

    `complete` holds every OSD that answered, True when it can be caught up from the
    authoritative log (False: it needs a backfill). The primary is the up primary when
    complete, else the authoritative OSD; then the complete up members in order; then,
    while short of `size`, complete members of the current acting set and then other
    complete OSDs, newest last_update first. Incomplete up members are backfill targets."""
    primary = up_primary if complete.get(up_primary) else auth
    want = [primary]
    backfill: set[int] = set()
    for o in up:
        if o == primary:
            continue
        if complete.get(o):
            want.append(o)
        elif o in complete:
            backfill.add(o)

    def newest(osds: list[int]) -> list[int]:
        return sorted(osds, key=lambda o: (last_update.get(o, ZERO), -o), reverse=True)

    others = [o for o in complete if o not in acting]
    for o in newest([o for o in acting if o in complete]) + newest(others):
        if len(want) >= size:
            break
        if complete.get(o) and o not in want and o not in backfill:
            want.append(o)
    return tuple(want), frozenset(backfill)


def choose_ec_authoritative(
    infos: dict[int, PGInfo],
    primary: int,
    k: int,
    shard_of: dict[int, int | None],
    can_rollback_to: dict[int, Version] | None = None,
) -> int | None:
    """The authoritative log of an erasure-coded PG (upstream find_best_info for a pool
    that requires rollback): among the newest last_epoch_started, the OLDEST
    last_update wins. A newer entry was not committed by every acting shard (an
    acknowledged one was), so it was never rolled forward: every shard that applied it
    still holds its rollback data and undoes it locally (`pyceph.osd.ec_rollback`).

    `can_rollback_to` (osd -> the oldest version its log can be rolled back to; every
    OSD can roll back to its own last_update when absent) guards what upstream asserts:
    the chosen last_update must be one every newer shard can roll back to, and at least
    k distinct shards must be at it or past it (else it could not be decoded). When the
    oldest fails that, the next oldest is tried; when none passes (rollback data lost),
    the newest last_update at least k shards reached, whose entries are rebuilt from
    them. Ties: the longest log, then the primary."""
    if not infos:
        return None
    les = max(i.last_epoch_started for i in infos.values())
    newest = {o: i for o, i in infos.items() if i.last_epoch_started == les}
    crt = can_rollback_to or {}
    lus = sorted({i.last_update for i in newest.values()})

    def reached(lu: Version) -> bool:
        shards = {shard_of.get(o, o) for o, i in newest.items() if i.last_update >= lu}
        return len(shards) >= max(k, 1)

    def undoable(lu: Version) -> bool:
        return all(crt.get(o, i.last_update) <= lu for o, i in newest.items() if i.last_update > lu)

    target = next((lu for lu in lus if reached(lu) and undoable(lu)), None)
    if target is None:
        target = next((lu for lu in reversed(lus) if reached(lu)), lus[0])
    best: int | None = None
    best_key: tuple[Any, ...] | None = None
    for osd, info in sorted(newest.items()):
        if info.last_update != target:
            continue
        key = ((-info.log_tail[0], -info.log_tail[1]), osd == primary)
        if best_key is None or key > best_key:
            best, best_key = osd, key
    return best


def can_rollback_to(tail: Version, entries: list[LogEntry]) -> Version:
    """The oldest version a shard's log can be undone to: the newest entry without
    rollback data (rolled forward, or adopted from another log), else the tail
    (upstream pg_log_t::can_rollback_to)."""
    for e in reversed(entries):
        if e.rollback is None:
            return e.version
    return tail


def calc_ec_acting(
    up: tuple[int, ...],
    acting: tuple[int, ...],
    size: int,
    complete: dict[int, bool],
    shard_of: dict[int, int | None],
) -> tuple[tuple[int, ...], frozenset[int]]:
    """Upstream PeeringState::calc_ec_acting: the acting set we want, by position (the
    position is the shard id; -1 is a hole, CRUSH_ITEM_NONE), and the backfill targets.

    `up` and `acting` are by position (-1 for holes); `complete` holds every OSD that
    answered (True when it can be caught up from the authoritative log) and `shard_of`
    the shard each of them holds. For each position: the up OSD if it is complete for
    that shard, else (the up OSD then being a backfill target of that shard) the acting
    OSD there if complete for it, else the lowest complete OSD holding that shard, else
    a hole. An OSD of ours holds one shard of a PG (upstream's pg_shard_t allows more):
    an up OSD wanted acting for the shard it holds is not a backfill target of its up
    position until that shard is complete elsewhere."""

    def ok(osd: int, pos: int) -> bool:
        return osd >= 0 and bool(complete.get(osd)) and shard_of.get(osd) == pos

    want = [-1] * size
    backfill: set[int] = set()
    for i in range(size):
        u = up[i] if i < len(up) else -1
        if ok(u, i):
            want[i] = u
            continue
        if u >= 0 and u in complete:
            backfill.add(u)
        a = acting[i] if i < len(acting) else -1
        if ok(a, i):
            want[i] = a
            continue
        for o in sorted(complete):
            if ok(o, i) and o not in want:
                want[i] = o
                break
    # An OSD serving its shard elsewhere in `want` is not yet a target: it becomes one
    # once its shard is complete on the up OSD of that position (the next pg_temp).
    return tuple(want), frozenset(backfill - set(want))


# -- effects ------------------------------------------------------------------
@dataclass
class Query:
    osd: int


@dataclass
class NeedUpThru:
    epoch: int


@dataclass
class ActivatePlan:
    """What one member must do to match the authoritative log."""

    osd: int
    backfill: bool
    common: Version
    entries: list[LogEntry]
    missing: dict[Oid, Version]
    deletes: set[Oid]
    #: erasure-coded pools: the shard the member holds from now on (it drops the one
    #: it held when that differs, and is backfilled)
    shard: int | None = None
    #: erasure-coded pools: its divergent entries it undoes with their rollback data
    rollback: list[Version] = field(default_factory=list)

    @classmethod
    def from_diff(cls, osd: int, d: LogDiff) -> ActivatePlan:
        """The plan of `osd`, whose log differs from the authoritative one by `d`."""
        return cls(osd, d.backfill, d.common, d.entries, d.missing, d.deletes, rollback=d.rollback)


@dataclass
class Activate:
    """Apply `own` locally, send the other plans, then report acks via on_activated."""

    epoch: int
    own: ActivatePlan
    #: the authoritative log's tail (for backfilled logs)
    tail: Version
    replicas: list[ActivatePlan]
    auth: int


@dataclass
class RequestPGTemp:
    """Ask the monitor for pg_temp `osds` (() removes it): upstream MOSDPGTemp."""

    osds: tuple[int, ...]


@dataclass
class StateChange:
    state: str


@dataclass
class Clean:
    epoch: int
    strays: list[int]


Effect = Query | NeedUpThru | Activate | RequestPGTemp | StateChange | Clean


@dataclass
class PeerReport:
    info: PGInfo
    entries: list[LogEntry]
    missing: dict[Oid, Version]


class Peering:
    """One PG's peering state on one OSD."""

    def __init__(
        self,
        whoami: int,
        info: PGInfo,
        log: PGLog,
        missing: dict[Oid, Version],
        shard: int | None = None,
    ):
        self.whoami = whoami
        #: erasure-coded pools: the shard this OSD holds; peers' in `peer_shards`
        self.shard = shard
        self.peer_shards: dict[int, int | None] = {}
        self.info = info
        self.log = log
        self.missing = missing  # objects this OSD lacks (oid -> needed version)
        self.state = INITIAL
        self.view: PGMapView | None = None
        self.probe: set[int] = set()
        self.replies: dict[int, PeerReport] = {}
        self.failed: set[int] = set()
        self.peer_missing: dict[int, dict[Oid, Version]] = {}
        self.peer_diffs: dict[int, LogDiff] = {}
        self.activated: set[int] = set()
        self.pending_activation: Activate | None = None
        self.strays: set[int] = set()
        #: up members that are not acting and get a backfill (upstream backfill_targets)
        self.backfill_targets: set[int] = set()
        #: erasure-coded PGs: up members that would be backfill targets of another shard
        #: than the one they hold, while an acting member still recovers that one (they
        #: serve it as strays until it has; `_check_clean` then starts the next interval)
        self.deferred_targets: set[int] = set()
        #: the pg_temp we asked the monitor for and still wait on (() = its removal)
        self.want_pg_temp: tuple[int, ...] | None = None

    # -- roles ------------------------------------------------------------------
    @property
    def is_primary(self) -> bool:
        return self.view is not None and self.view.primary == self.whoami

    @property
    def acting_replicas(self) -> list[int]:
        if self.view is None:
            return []
        return [o for o in self.view.acting if o != self.whoami]

    @property
    def acting_backfill_replicas(self) -> list[int]:
        """Every OSD but us that gets the PG's writes (upstream acting_recovery_backfill)."""
        return self.acting_replicas + sorted(self.backfill_targets)

    @property
    def remapped(self) -> bool:
        """Acting differs from up (a pg_temp is in place): upstream PG_STATE_REMAPPED."""
        return self.view is not None and self.view.acting != self.view.up

    def backfill_pending(self) -> bool:
        """Does some backfill target still miss objects?"""
        return any(self.peer_missing.get(o) for o in self.backfill_targets)

    def _set_state(self, s: str, fx: list[Effect]) -> None:
        if s != self.state:
            self.state = s
            fx.append(StateChange(s))

    # -- map changes -------------------------------------------------------------
    def restore_view(self, view: PGMapView) -> None:
        """After a restart: the map epoch our stored interval state belongs to. The next
        `advance_map` closes the interval against it, or peers again within it."""
        self.view = view
        self.state = INITIAL

    def advance_map(self, view: PGMapView) -> list[Effect]:
        """Feed a new map epoch; starts a new peering round on an interval change."""
        fx: list[Effect] = []
        old = self.view
        new_interval = starts_interval(old, view)
        if old is not None and new_interval:
            pi = close_interval(self.info.same_interval_since or old.epoch, old)
            self.info.past_intervals.append(pi)
        self.view = view
        if not view.pool_exists:
            self._set_state(DELETED, fx)
            return fx
        if new_interval:
            self.info.same_interval_since = view.epoch
            self._start_interval(fx)
        elif self.state == INITIAL:
            # restarted within the interval we stored (upstream Initial -> Reset ->
            # Started): peer again, same_interval_since unchanged
            self._start_interval(fx)
        elif self.state == WAIT_UP_THRU:
            self._maybe_activate(fx)
        elif self.state in (PEERING, DOWN):
            self._probe_more(fx)
        if not new_interval and self.want_pg_temp is not None and self.is_primary:
            # upstream resends MOSDPGTemp until a map carries it
            fx.append(RequestPGTemp(self.want_pg_temp))
        return fx

    def _start_interval(self, fx: list[Effect]) -> None:
        view = self.view
        assert view is not None
        self.replies.clear()
        self.peer_shards.clear()
        self.failed.clear()
        self.peer_missing.clear()
        self.peer_diffs.clear()
        self.activated.clear()
        self.pending_activation = None
        self.backfill_targets = set()
        self.deferred_targets = set()
        self.want_pg_temp = None
        if view.primary == self.whoami:
            self._set_state(PEERING, fx)
            self.probe = set()
            self._probe_more(fx)
        elif self.whoami in view.acting:
            self._set_state(REPLICA, fx)
        else:
            self._set_state(STRAY, fx)

    def prior_set(self) -> tuple[set[int], bool]:
        """OSDs to probe, and whether some possibly-written past interval has no
        member up (the PG is then "down" until one returns)."""
        view = self.view
        assert view is not None
        probe = set(view.up) | set(view.acting)
        blocked = False
        for pi in self.info.past_intervals:
            if pi.last < self.info.last_epoch_started:
                continue
            alive = [o for o in pi.acting if view.is_up(o) or o == self.whoami]
            probe.update(alive)
            if pi.maybe_went_rw and not alive:
                blocked = True
        probe.discard(-1)
        return probe, blocked

    def _probe_more(self, fx: list[Effect]) -> None:
        probe, _ = self.prior_set()
        for osd in sorted(probe - self.probe):
            if osd == self.whoami:
                continue
            fx.append(Query(osd))
        self.probe |= probe
        self._check_peered(fx)

    # -- peer answers -------------------------------------------------------------
    def on_info(
        self,
        osd: int,
        info: PGInfo,
        entries: list[LogEntry],
        missing: dict[Oid, Version],
        shard: int | None = None,
    ) -> list[Effect]:
        """A peer's answer to our query (or its unsolicited notify); `shard`: the shard
        it holds of an erasure-coded PG."""
        fx: list[Effect] = []
        if not self.is_primary or self.state not in (PEERING, DOWN):
            return fx
        self.replies[osd] = PeerReport(info, entries, missing)
        self.peer_shards[osd] = shard
        self.failed.discard(osd)
        # Past intervals other OSDs saw widen our prior set.
        known = {(p.first, p.last) for p in self.info.past_intervals}
        for p in info.past_intervals:
            if (p.first, p.last) not in known and p.last >= self.info.last_epoch_started:
                self.info.past_intervals.append(p)
                known.add((p.first, p.last))
        self._probe_more(fx)
        return fx

    def on_query_failed(self, osd: int) -> list[Effect]:
        fx: list[Effect] = []
        if self.is_primary and self.state in (PEERING, DOWN):
            self.failed.add(osd)
            self._check_peered(fx)
        return fx

    def _check_peered(self, fx: list[Effect]) -> None:
        view = self.view
        assert view is not None
        waiting = {o for o in self.probe if o != self.whoami and o not in self.replies}
        if waiting - self.failed:
            return
        responders = set(self.replies) | {self.whoami}
        for pi in self.info.past_intervals:
            if pi.last < self.info.last_epoch_started or not pi.maybe_went_rw:
                continue
            if not responders & set(pi.acting):
                self._set_state(DOWN, fx)
                return
        if any(o not in responders for o in view.acting):
            # An acting member did not answer: wait for the map to drop it.
            self._set_state(DOWN, fx)
            return
        if len(view.acting) < max(view.min_size, 1):
            self._set_state(PEERED, fx)
            return
        self._choose_and_plan(fx)

    def _choose_and_plan(self, fx: list[Effect]) -> None:
        view = self.view
        assert view is not None
        infos = {o: r.info for o, r in self.replies.items()}
        infos[self.whoami] = self.info
        if view.shards:
            shard_of = {**self.peer_shards, self.whoami: self.shard}
            crt = {o: can_rollback_to(r.info.log_tail, r.entries) for o, r in self.replies.items()}
            crt[self.whoami] = can_rollback_to(self.log.tail, self.log.entries)
            auth = choose_ec_authoritative(infos, self.whoami, view.ec_k, shard_of, crt)
        else:
            auth = choose_authoritative(infos, self.whoami)
        assert auth is not None
        if auth == self.whoami:
            auth_log = PGLog(self.log.tail, list(self.log.entries))
            auth_luv = self.info.last_user_version
            own = ActivatePlan(self.whoami, False, self.log.head, [], dict(self.missing), set())
        else:
            rep = self.replies[auth]
            auth_log = PGLog(rep.info.log_tail, list(rep.entries))
            auth_luv = rep.info.last_user_version
            d = diff_against_auth(
                auth_log, self.info.last_update, self.log.entries, self.missing, self.log.tail
            )
            # The auth's own missing set says what *its* store lacks, not ours: we lack
            # what our log and missing set say, plus the auth entries after the common point.
            own = ActivatePlan.from_diff(self.whoami, d)
        for osd, rep in self.replies.items():
            self.peer_diffs[osd] = diff_against_auth(
                auth_log, rep.info.last_update, rep.entries, rep.missing, rep.info.log_tail
            )
        if self._want_other_acting(auth, own, fx):
            return
        self.info.last_user_version = max(self.info.last_user_version, auth_luv)
        plans: list[ActivatePlan] = []
        self.strays = set()
        if view.shards:
            own = self._reshard(own, auth_log)
        for osd, rep in self.replies.items():
            d = self.peer_diffs[osd]
            if osd in view.acting or osd in self.backfill_targets:
                plan = ActivatePlan.from_diff(osd, d)
                if view.shards:
                    plan = self._reshard(plan, auth_log)
                    d.backfill = plan.backfill
                plans.append(plan)
                self.peer_missing[osd] = dict(d.missing)
            elif rep.info.last_update != (0, 0) or rep.entries:
                self.strays.add(osd)
        self.pending_activation = Activate(view.epoch, own, auth_log.tail, plans, auth)
        self._set_state(WAIT_UP_THRU, fx)
        self._maybe_activate(fx)

    def _want_other_acting(self, auth: int, own: ActivatePlan, fx: list[Effect]) -> bool:
        """Upstream choose_acting: True when we asked the monitor for another acting set
        (and wait for the map); otherwise sets the backfill targets of this interval."""
        view = self.view
        assert view is not None
        complete = {o: not d.backfill for o, d in self.peer_diffs.items()}
        complete[self.whoami] = not own.backfill
        if view.shards:
            return self._want_other_ec_acting(complete, own, fx)
        lus = {o: r.info.last_update for o, r in self.replies.items()}
        lus[self.whoami] = self.info.last_update
        want, targets = calc_acting(
            view.up, view.up_primary, view.acting, view.size, complete, lus, auth
        )
        if want != view.acting and len(want) >= max(view.min_size, 1):
            self.want_pg_temp = () if want == view.up else want
            fx.append(RequestPGTemp(self.want_pg_temp))
            self._set_state(WAIT_ACTING, fx)
            return True
        # Too few complete OSDs for a pg_temp: the up set stays acting and its
        # incomplete members are backfilled while acting (and the PG is degraded).
        self.backfill_targets = set(targets) - set(view.acting)
        return False

    def _want_other_ec_acting(
        self, complete: dict[int, bool], own: ActivatePlan, fx: list[Effect]
    ) -> bool:
        """choose_acting for an erasure-coded PG (`calc_ec_acting`): the pg_temp keeps
        every shard on its position, holes included."""
        view = self.view
        assert view is not None
        shard_of = dict(self.peer_shards)
        shard_of[self.whoami] = self.shard
        up = view.up_shards or view.shards
        want, targets = calc_ec_acting(up, view.shards, view.size, complete, shard_of)
        members = [o for o in want if o >= 0]
        if len(members) < max(view.min_size, 1):
            # Too few complete OSDs for a pg_temp: the acting set stays and its
            # incomplete members are backfilled while acting (each takes the shard
            # of its position at activation).
            return False
        if want != view.shards:
            temp = tuple(CRUSH_ITEM_NONE if o < 0 else o for o in want)
            self.want_pg_temp = () if want == up else temp
            fx.append(RequestPGTemp(self.want_pg_temp))
            self._set_state(WAIT_ACTING, fx)
            return True
        self.deferred_targets = self._shard_still_needed(targets, want, own)
        self.backfill_targets = set(targets) - self.deferred_targets
        return False

    def _shard_still_needed(
        self, targets: frozenset[int], acting: tuple[int, ...], own: ActivatePlan
    ) -> set[int]:
        """The targets that hold another shard than their up position's while that
        shard's acting member lacks objects (or is itself backfilled): becoming a target
        would drop the shard they hold (an OSD of ours holds one shard of a PG; upstream's
        pg_shard_t may hold both), and with it a copy recovery may need."""
        view = self.view
        assert view is not None
        out = set()
        for t in targets:
            held = self.held_shard(t)
            if held is None or held == view.up_shard_of(t) or not 0 <= held < len(acting):
                continue
            holder = acting[held]
            if holder == self.whoami:
                lacking = bool(own.missing)
            elif holder >= 0 and holder not in targets:
                d = self.peer_diffs.get(holder)
                lacking = d is None or bool(d.missing)
            else:
                lacking = True
            if lacking:
                out.add(t)
        return out

    def assigned_shard(self, osd: int) -> int | None:
        """The shard an acting member or backfill target of an erasure-coded PG holds
        in this interval: its acting position, else (a target) its up position."""
        view = self.view
        if view is None or not view.shards:
            return None
        shard = view.shard_of(osd)
        return shard if shard is not None else self.backfill_shard(osd)

    def held_shard(self, osd: int) -> int | None:
        """The shard `osd` reported holding (ours for us)."""
        return self.shard if osd == self.whoami else self.peer_shards.get(osd)

    def _reshard(self, plan: ActivatePlan, auth_log: PGLog) -> ActivatePlan:
        """An erasure-coded member's plan with its shard; one that holds another shard
        drops it and is backfilled with the authoritative log."""
        shard = self.assigned_shard(plan.osd)
        plan.shard = shard
        if shard is None or shard == self.held_shard(plan.osd):
            return plan
        return ActivatePlan(plan.osd, True, ZERO, list(auth_log.entries), {}, set(), shard=shard)

    def stray_shards(self, oid: Oid) -> dict[int, int]:
        """Erasure-coded PGs: OSDs outside acting and the backfill targets that hold a
        shard of `oid` at the authoritative version (upstream's missing_loc also
        counts strays), osd -> shard."""
        view = self.view
        out: dict[int, int] = {}
        if view is None:
            return out
        for osd, shard in self.peer_shards.items():
            d = self.peer_diffs.get(osd)
            if shard is None or d is None or d.backfill or osd in view.acting:
                continue
            if osd in self.backfill_targets or oid in d.missing or oid in d.deletes:
                continue
            out[osd] = shard
        return out

    def backfill_shard(self, osd: int) -> int | None:
        """The shard a backfill target of an erasure-coded PG receives: its up position."""
        view = self.view
        if view is None or osd not in self.backfill_targets:
            return None
        return view.up_shard_of(osd)

    def _maybe_activate(self, fx: list[Effect]) -> None:
        view = self.view
        assert view is not None and self.pending_activation is not None
        sis = self.info.same_interval_since
        if view.up_thru.get(self.whoami, 0) < sis:
            fx.append(NeedUpThru(sis))
            return
        act = self.pending_activation
        act.epoch = view.epoch
        self._set_state(ACTIVATING, fx)
        fx.append(act)
        self._check_all_activated(fx)

    def activation_applied(self, act: Activate) -> None:
        """The shell applied `act.own`: adopt the resulting state."""
        self.missing = dict(act.own.missing)
        self.info.last_epoch_started = act.epoch

    # -- activation and recovery -------------------------------------------------------
    def on_activated(self, osd: int) -> list[Effect]:
        fx: list[Effect] = []
        if self.state == ACTIVATING:
            self.activated.add(osd)
            self._check_all_activated(fx)
        return fx

    def _check_all_activated(self, fx: list[Effect]) -> None:
        if all(o in self.activated for o in self.acting_backfill_replicas):
            self._set_state(ACTIVE, fx)
            # Intervals before this activation no longer constrain peering.
            self.info.past_intervals = []
            self._check_clean(fx)

    def missing_loc(self, oid: Oid) -> list[int]:
        """Peers known to hold `oid` at the authoritative version."""
        out = []
        for osd, d in self.peer_diffs.items():
            if d.backfill or oid in d.deletes:
                continue
            pm = self.peer_missing.get(osd, d.missing)
            if oid in pm:
                continue
            out.append(osd)
        auth = self.pending_activation.auth if self.pending_activation else None
        out.sort(key=lambda o: (o != auth, o))
        return out

    def on_recovered(self, osd: int, oid: Oid) -> list[Effect]:
        fx: list[Effect] = []
        if osd == self.whoami:
            self.missing.pop(oid, None)
        else:
            self.peer_missing.get(osd, {}).pop(oid, None)
        if osd in self.peer_diffs:
            self.peer_diffs[osd].missing.pop(oid, None)
        self._check_clean(fx)
        return fx

    def is_degraded(self, oid: Oid) -> bool:
        return oid in self.missing or any(oid in m for m in self.peer_missing.values())

    def is_clean(self) -> bool:
        view = self.view
        return (
            self.state == ACTIVE
            and view is not None
            and len(view.acting) >= view.size
            and not self.missing
            and not any(self.peer_missing.get(o) for o in self.acting_backfill_replicas)
        )

    def _check_clean(self, fx: list[Effect]) -> None:
        if self.is_clean():
            assert self.view is not None
            self.info.last_epoch_clean = self.view.epoch
            fx.append(Clean(self.view.epoch, sorted(self.strays)))
            self.strays = set()
        view = self.view
        if (
            self.state == ACTIVE
            and view is not None
            and view.shards
            and self.want_pg_temp is None
            and view.shards != view.up_shards
            and not self.missing
            and not any(self.peer_missing.get(o) for o in self.acting_backfill_replicas)
        ):
            # the targets are complete: the acting set they make with the members
            # (up, or the next step towards it)
            complete = {o: True for o in self.acting_backfill_replicas + [self.whoami]}
            shard_of = {o: self.assigned_shard(o) for o in complete}
            want, _ = calc_ec_acting(view.up_shards, view.shards, view.size, complete, shard_of)
            if want != view.shards:
                temp = tuple(CRUSH_ITEM_NONE if o < 0 else o for o in want)
                self.want_pg_temp = () if want == view.up_shards else temp
                fx.append(RequestPGTemp(self.want_pg_temp))
            elif self.deferred_targets:
                # the shards they held are recovered: a new interval makes them targets
                self.want_pg_temp = ()
                fx.append(RequestPGTemp(()))
            return
        if (
            self.state == ACTIVE
            and view is not None
            and self.backfill_targets
            and self.want_pg_temp is None
            and view.acting != view.up
            and set(view.up) - set(view.acting) <= self.backfill_targets
            and not self.missing
            and not any(self.peer_missing.get(o) for o in self.acting_backfill_replicas)
        ):
            # upstream Backfilled: the targets are complete, let the map make up acting
            self.want_pg_temp = ()
            fx.append(RequestPGTemp(()))
