"""`FaultPlan`: what goes wrong on the simulated network, and when.

It is the `LinkModel` of a `MemNetwork`: per-link one-way latency (a base plus uniform
jitter), the probability that a write resets the connection (the messenger speaks a
stream protocol, so a lost segment is a reset, as TCP would eventually report), the
probability that a write arrives with one byte flipped (which the frame crc32c must
catch), and partitions between named hosts that hold traffic and new connections until
`heal()`. Every draw comes from a per-link stream forked from one seeded `SimRand`, so a
run is reproducible from its seed and turning a fault on for one link does not change
the draws on any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from pyceph.sim.memnet import MemNetwork
from pyceph.sim.rand import SimRand

#: A connect across a partition gives up (ETIMEDOUT) after this long (SYN retries).
CONNECT_TIMEOUT = 30.0
#: Data held by a partition this long resets its connection (TCP retransmit timeout).
STALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class LinkSpec:
    """How one direction of a link behaves."""

    latency: float = 0.0002  # seconds, one way
    jitter: float = 0.0003  # extra delay drawn uniformly in [0, jitter)
    drop: float = 0.0  # probability that a write resets the connection
    corrupt: float = 0.0  # probability that a write has one byte flipped


@dataclass
class FaultStats:
    """What the plan did (for tests and reports)."""

    writes: int = 0
    resets: int = 0
    corruptions: int = 0


class FaultPlan:
    """Latency, drops, corruption and partitions between named hosts."""

    def __init__(
        self,
        rand: SimRand,
        default: LinkSpec | None = None,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        stall_timeout: float = STALL_TIMEOUT,
    ) -> None:
        self.rand = rand
        self.default = default or LinkSpec()
        self.connect_timeout = connect_timeout
        self.stall_timeout = stall_timeout
        self._links: dict[tuple[str, str], LinkSpec] = {}
        self._host_specs: dict[str, LinkSpec] = {}
        self._rngs: dict[tuple[str, str], SimRand] = {}
        self._cut: set[frozenset[str]] = set()
        self._isolated: set[str] = set()
        self._nets: list[MemNetwork] = []
        self.stats = FaultStats()

    def attach(self, net: MemNetwork) -> None:
        """Make this plan `net`'s link model (and notify it when partitions change)."""
        net.model = self
        self._nets.append(net)

    # -- configuration ------------------------------------------------------------------
    def set_link(self, a: str, b: str, spec: LinkSpec, both_ways: bool = True) -> None:
        """Give the link a→b (and b→a) its own behaviour."""
        self._links[(a, b)] = spec
        if both_ways:
            self._links[(b, a)] = spec

    def set_host(self, host: str, spec: LinkSpec) -> None:
        """Every link from or to `host` (unless a link has its own spec)."""
        self._host_specs[host] = spec

    def set_default(self, **changes: float) -> None:
        """Change the default spec's fields, e.g. `set_default(drop=0.01)`."""
        self.default = replace(self.default, **changes)

    def spec(self, src: str, dst: str) -> LinkSpec:
        s = self._links.get((src, dst))
        if s is not None:
            return s
        return self._host_specs.get(src) or self._host_specs.get(dst) or self.default

    # -- partitions ---------------------------------------------------------------------
    def partition(self, a: str | Iterable[str], b: str | Iterable[str]) -> None:
        """Cut every host of group `a` from every host of group `b` (both directions)."""
        ga = {a} if isinstance(a, str) else set(a)
        gb = {b} if isinstance(b, str) else set(b)
        for x in sorted(ga):
            for y in sorted(gb):
                if x != y:
                    self._cut.add(frozenset((x, y)))

    def isolate(self, host: str) -> None:
        """Cut `host` from every other host."""
        self._isolated.add(host)

    def heal(self, a: str | None = None, b: str | None = None) -> None:
        """End every partition (or just a↔b, or every cut involving `a`)."""
        if a is None:
            self._cut.clear()
            self._isolated.clear()
        elif b is None:
            self._isolated.discard(a)
            self._cut = {c for c in self._cut if a not in c}
        else:
            self._cut.discard(frozenset((a, b)))
        for net in self._nets:
            net.links_changed()

    def partitioned(self) -> list[tuple[str, str]]:
        cuts = [tuple(sorted(c)) for c in self._cut]
        return sorted(cuts) + [(h, "*") for h in sorted(self._isolated)]  # type: ignore[misc]

    # -- the LinkModel interface --------------------------------------------------------
    def _rng(self, src: str, dst: str) -> SimRand:
        r = self._rngs.get((src, dst))
        if r is None:
            r = self._rngs[(src, dst)] = self.rand.fork(f"link:{src}>{dst}")
        return r

    def blocked(self, src: str, dst: str) -> bool:
        if src == dst:
            return False
        if src in self._isolated or dst in self._isolated:
            return True
        return frozenset((src, dst)) in self._cut

    def delay(self, src: str, dst: str) -> float:
        s = self.spec(src, dst)
        if s.jitter > 0:
            return s.latency + s.jitter * self._rng(src, dst).random()
        return s.latency

    def mangle(self, src: str, dst: str, data: bytes) -> bytes | None:
        self.stats.writes += 1
        s = self.spec(src, dst)
        if s.drop <= 0 and s.corrupt <= 0:
            return data
        rng = self._rng(src, dst)
        if s.drop > 0 and rng.random() < s.drop:
            self.stats.resets += 1
            return None
        if s.corrupt > 0 and rng.random() < s.corrupt and data:
            i = rng.randrange(len(data))
            bit = 1 << rng.randrange(8)
            self.stats.corruptions += 1
            return data[:i] + bytes([data[i] ^ bit]) + data[i + 1 :]
        return data
