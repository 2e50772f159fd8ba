"""The model a randomized RADOS workload is checked against (sans-I/O).

Upstream's `ceph_test_rados` (`src/test/osd/RadosModel.h`, `TestRados.cc`) drives many
objects with a weighted op mix and checks every read against what the acknowledged ops
must have left behind. This is that model, with no I/O: the driver
(`pyceph.sim.workload`) tells it what it submits and what came back, and it answers
"this read is possible" or raises `ModelViolation`.

An object's model is the *set* of states it may be in, not one state: an op whose
outcome is unknown (it timed out, the client gave up) may or may not have applied, so it
forks every possible state in two; an acknowledged op applies to each possible state and
keeps those whose predicted result code matches the one the OSD returned; a read keeps
only the state it saw. As upstream's model, one op per object is in flight at a time
(`oid_in_use`), many objects at once.

Snapshots follow what the OSD does:

* a *pool* snapshot is taken while ops are in flight: every state an object may have
  been in between the moment the snapshot was asked for and the moment it was
  acknowledged (the client then has the map with it, and the OSD applies later ops only
  once it has that map too) is a possible content of the snapshot;
* a *self-managed* snapshot freezes an object when the first write carrying a snap
  context with that snap id reaches it (upstream's `make_writeable` clones the head
  then), so its content is the object's state just before that write, or the head's
  current state while no such write has happened.

Reads at a snapshot are checked against those sets, and `rollback` makes the head any of
its snapshot's possible states (upstream `_rollback_to`: rolling back to a snap at which
the object did not exist deletes the head).

Semantics of the mutations (upstream `PrimaryLogPG::do_osd_ops`): writes, appends,
setxattr, omap set and omap header create the object; truncate of a missing object is
a no-op; delete, and rmxattr/omap key removal on a missing object, fail with ENOENT;
removing an xattr that is not set succeeds.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

#: States a single object's model may hold before the model refuses to fork further (the
#: workload narrows uncertainty by reading an object right after an unknown outcome).
MAX_STATES = 256
#: Entries of each object's op history kept for a violation report.
HISTORY_LEN = 40

#: Result codes that say "the outcome is unknown" rather than "the op failed".
UNKNOWN_ERRNOS = frozenset({errno.ETIMEDOUT, errno.ESHUTDOWN, errno.ECONNRESET})


class ModelViolation(AssertionError):
    """A read or a result code no acknowledged history can explain."""


@dataclass(frozen=True)
class ObjState:
    """What a client can observe of an existing object."""

    data: bytes = b""
    xattrs: tuple[tuple[str, bytes], ...] = ()
    omap: tuple[tuple[str, bytes], ...] = ()
    header: bytes = b""

    @staticmethod
    def make(
        data: bytes = b"",
        xattrs: Mapping[str, bytes] | None = None,
        omap: Mapping[str, bytes] | None = None,
        header: bytes = b"",
    ) -> ObjState:
        return ObjState(
            bytes(data),
            tuple(sorted((k, bytes(v)) for k, v in (xattrs or {}).items())),
            tuple(sorted((k, bytes(v)) for k, v in (omap or {}).items())),
            bytes(header),
        )

    def describe(self) -> str:
        return (
            f"size={len(self.data)} data[:16]={self.data[:16]!r} "
            f"xattrs={[k for k, _ in self.xattrs]} omap={[k for k, _ in self.omap]} "
            f"header={self.header[:16]!r}"
        )


#: A possible state: an ObjState, or None when the object does not exist.
State = ObjState | None


@dataclass(frozen=True)
class Mutation:
    """One write op of the workload (a single RADOS sub-op, or a rollback).

    kind: write | write_full | append | truncate | remove | setxattr | rmxattr |
    omap_set | omap_rm | omap_header | rollback
    """

    kind: str
    offset: int = 0
    data: bytes = b""
    name: str = ""
    kv: tuple[tuple[str, bytes], ...] = ()
    keys: tuple[str, ...] = ()
    snap: int = 0

    def describe(self) -> str:
        parts = [self.kind]
        if self.kind in ("write", "truncate"):
            parts.append(f"off={self.offset}")
        if self.data:
            parts.append(f"len={len(self.data)}")
        if self.name:
            parts.append(f"name={self.name}")
        if self.kv:
            parts.append(f"keys={[k for k, _ in self.kv]}")
        if self.keys:
            parts.append(f"keys={list(self.keys)}")
        if self.kind == "rollback":
            parts.append(f"snap={self.snap}")
        return " ".join(parts)


def _with(d: tuple[tuple[str, bytes], ...], sets: Iterable[tuple[str, bytes]]) -> tuple:
    m = dict(d)
    m.update(sets)
    return tuple(sorted(m.items()))


def _without(d: tuple[tuple[str, bytes], ...], keys: Iterable[str]) -> tuple:
    drop = set(keys)
    return tuple(kv for kv in d if kv[0] not in drop)


def apply(state: State, m: Mutation) -> tuple[int, State]:
    """(result code, new state) of mutation `m` on `state` (a failed op changes nothing).

    Rollback is not a function of the head's state: `Model` handles it."""
    s = state if state is not None else ObjState()
    k = m.kind
    if k == "write":
        buf = s.data
        if m.offset > len(buf):
            buf = buf + b"\0" * (m.offset - len(buf))
        buf = buf[: m.offset] + m.data + buf[m.offset + len(m.data) :]
        return 0, replace(s, data=buf)
    if k == "write_full":
        return 0, replace(s, data=m.data)
    if k == "append":
        return 0, replace(s, data=s.data + m.data)
    if k == "setxattr":
        return 0, replace(s, xattrs=_with(s.xattrs, [(m.name, m.data)]))
    if k == "omap_set":
        return 0, replace(s, omap=_with(s.omap, m.kv))
    if k == "omap_header":
        return 0, replace(s, header=m.data)
    if k == "truncate":
        if state is None:
            return 0, None
        buf = s.data[: m.offset] + b"\0" * max(0, m.offset - len(s.data))
        return 0, replace(s, data=buf)
    if state is None:  # the rest need an existing object
        return -errno.ENOENT, None
    if k == "remove":
        return 0, None
    if k == "rmxattr":
        return 0, replace(s, xattrs=_without(s.xattrs, [m.name]))
    if k == "omap_rm":
        return 0, replace(s, omap=_without(s.omap, m.keys))
    raise ValueError(f"unknown mutation {k!r}")


def _show(states: Iterable[State]) -> str:
    out = []
    for st in states:
        out.append("  absent" if st is None else "  " + st.describe())
    return "\n".join(sorted(out))


@dataclass
class _InFlight:
    what: str
    mutation: Mutation | None  # None: a read
    snap: int  # the snap a read is at (0: head)


@dataclass
class _Object:
    name: str
    states: set[State] = field(default_factory=lambda: {None})
    inflight: _InFlight | None = None
    history: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.history.append(text)
        del self.history[:-HISTORY_LEN]


@dataclass
class _PoolSnapWindow:
    """A pool snapshot being taken: every state each object passes through meanwhile."""

    seen: dict[str, set[State]]


@dataclass
class _Snap:
    kind: str  # "pool" | "self"
    #: object -> its possible contents at this snap (for self-managed snaps: once frozen)
    frozen: dict[str, set[State]]


class Model:
    """Expected state of a set of objects in one pool, under a stream of ops.

    The driver calls `begin` before it submits an op on an object and exactly one of
    `ack` (with the op's result code) or `read_result` when it completes; snapshot
    operations go through `pool_snap_begin`/`pool_snap_end`, `selfmanaged_snap` and
    `snap_removed`."""

    def __init__(
        self, names: Iterable[str], pool: str = "pool", clock: Callable[[], float] | None = None
    ) -> None:
        """`clock`, when given, stamps each history entry (the driver's time)."""
        self.pool = pool
        self.clock = clock
        self.objects = {n: _Object(n) for n in names}
        self.snaps: dict[int, _Snap] = {}
        self._windows: list[_PoolSnapWindow] = []
        self.seq = 0  # counts ops, for history entries

    # -- bookkeeping --------------------------------------------------------------------
    def in_use(self, name: str) -> bool:
        return self.objects[name].inflight is not None

    def possible(self, name: str, snap: int = 0) -> set[State]:
        """The states `name` may be in now (at the head, or at `snap`)."""
        o = self.objects[name]
        if not snap:
            return set(o.states)
        s = self.snaps[snap]
        return set(s.frozen.get(name, o.states))

    def certain(self, name: str) -> bool:
        return len(self.objects[name].states) == 1

    def may_exist(self, name: str) -> bool:
        return any(s is not None for s in self.objects[name].states)

    def _note(self, o: _Object, text: str) -> None:
        o.note(f"[{self.clock():.3f}] {text}" if self.clock is not None else text)

    def _fail(self, o: _Object, msg: str) -> None:
        hist = "\n".join("  " + h for h in o.history)
        raise ModelViolation(f"{self.pool}/{o.name}: {msg}\nhistory (oldest first):\n{hist}")

    # -- ops on objects -------------------------------------------------------------------
    def begin(
        self,
        name: str,
        mutation: Mutation | None = None,
        *,
        snap: int = 0,
        snapc: Iterable[int] = (),
    ) -> None:
        """An op on `name` is about to be submitted: a mutation (with the self-managed
        snap ids its snap context carries), or a read at the head (snap 0) or a snap."""
        o = self.objects[name]
        if o.inflight is not None:
            raise RuntimeError(f"{name} already has an op in flight: {o.inflight.what}")
        if snap and snap not in self.snaps:
            raise RuntimeError(f"read at unknown snap {snap}")
        if mutation is not None:
            if mutation.kind == "rollback" and mutation.snap not in self.snaps:
                raise RuntimeError(f"rollback to unknown snap {mutation.snap}")
            for sid in snapc:
                sn = self.snaps.get(sid)
                if sn is not None and sn.kind == "self" and name not in sn.frozen:
                    sn.frozen[name] = set(o.states)
        self.seq += 1
        what = mutation.describe() if mutation is not None else "read"
        what = f"#{self.seq} {what}" + (f" @snap {snap}" if snap else "")
        o.inflight = _InFlight(what, mutation, snap)
        if mutation is not None:
            for w in self._windows:  # the op may apply before the snapshot or not
                w.seen.setdefault(name, set()).update(o.states, self._outcomes(o, mutation))
        self._note(o, f"{what} submitted")

    def _outcomes(self, o: _Object, m: Mutation) -> set[State]:
        return {ns for _r, ns in self._apply_all(o, m)}

    def _apply_all(self, o: _Object, m: Mutation) -> list[tuple[int, State]]:
        if m.kind == "rollback":
            target = self.possible(o.name, m.snap)
            return [(0, t) for _ in o.states for t in target]
        return [apply(s, m) for s in o.states]

    def ack(self, name: str, r: int) -> None:
        """The mutation in flight on `name` completed with result code `r` (negative
        errno); an errno in UNKNOWN_ERRNOS leaves it "may or may not have applied"."""
        o = self.objects[name]
        fl = o.inflight
        if fl is None or fl.mutation is None:
            raise RuntimeError(f"ack on {name} without a mutation in flight")
        o.inflight = None
        outcomes = self._apply_all(o, fl.mutation)
        if -r in UNKNOWN_ERRNOS:
            new = set(o.states) | {ns for _r, ns in outcomes}
            self._note(o, f"{fl.what} -> r={r}: outcome unknown ({len(new)} possible states)")
            if len(new) > MAX_STATES:
                raise RuntimeError(f"{name}: more than {MAX_STATES} possible states")
        else:
            new = {ns for er, ns in outcomes if er == r}
            self._note(o, f"{fl.what} -> r={r}")
            if not new:
                expected = sorted({er for er, _ in outcomes})
                self._fail(o, f"{fl.what} returned r={r}, the model expects r in {expected}")
        o.states = new
        for w in self._windows:
            w.seen.setdefault(name, set()).update(new)

    def read_result(self, name: str, observed: State | int) -> None:
        """The read in flight on `name` completed: the state it saw (None: ENOENT), or a
        negative errno in UNKNOWN_ERRNOS (nothing learnt). Raises `ModelViolation` when no
        possible state matches."""
        o = self.objects[name]
        fl = o.inflight
        if fl is None or fl.mutation is not None:
            raise RuntimeError(f"read result on {name} without a read in flight")
        o.inflight = None
        if isinstance(observed, int):
            if -observed not in UNKNOWN_ERRNOS:
                self._fail(o, f"{fl.what} failed with r={observed}")
            self._note(o, f"{fl.what} -> r={observed}: nothing learnt")
            return
        valid = self.possible(name, fl.snap)
        seen = "absent" if observed is None else observed.describe()
        if observed not in valid:
            self._note(o, f"{fl.what} -> saw {seen}")
            self._fail(
                o,
                f"{fl.what} saw {seen}\nbut the acknowledged ops allow only:\n{_show(valid)}"
                + (
                    f"\nfull data seen: {observed.data!r}"
                    if observed is not None and len(observed.data) <= 64
                    else ""
                ),
            )
        self._note(o, f"{fl.what} -> ok ({seen})")
        if fl.snap:
            sn = self.snaps[fl.snap]
            if o.name in sn.frozen:
                sn.frozen[o.name] = {observed}
            else:
                o.states = {observed}
        else:
            o.states = {observed}

    # -- snapshots ------------------------------------------------------------------------
    def pool_snap_begin(self) -> _PoolSnapWindow:
        """A pool snapshot is being created: start collecting what it may contain."""
        w = _PoolSnapWindow({})
        for n, o in self.objects.items():
            seen = set(o.states)
            if o.inflight is not None and o.inflight.mutation is not None:
                seen |= self._outcomes(o, o.inflight.mutation)
            w.seen[n] = seen
        self._windows.append(w)
        return w

    def pool_snap_end(self, w: _PoolSnapWindow, snapid: int | None) -> None:
        """The pool snapshot was created as `snapid` (None: it failed)."""
        self._windows.remove(w)
        if snapid is not None:
            self.snaps[snapid] = _Snap("pool", {n: set(s) for n, s in w.seen.items()})

    def selfmanaged_snap(self, snapid: int) -> None:
        """A self-managed snap id was allocated; later writes carry it in their context."""
        self.snaps[snapid] = _Snap("self", {})

    def snap_removed(self, snapid: int) -> None:
        """The snap is being removed: nothing reads it or rolls back to it any more."""
        self.snaps.pop(snapid, None)

    # -- reports ----------------------------------------------------------------------
    def history(self, name: str) -> list[str]:
        return list(self.objects[name].history)
