"""The monitor's OSDMap history: an incremental per epoch, full maps pinned at intervals.

Upstream's OSDMonitor stores, for each committed epoch N, the incremental `N` and the
full map `full_N`, trims what no PG or OSD can still need (`pyceph.mon.lec`: below the
cluster's lowest last_epoch_clean, keeping `mon_min_osdmap_epochs`), and (with
`mon_osdmap_full_prune_*`) keeps only every `mon_osdmap_full_prune_interval`-th full map,
rebuilding the others from the nearest pinned one plus incrementals. Here the pinning is
the default: incrementals for every kept epoch, full maps for pinned epochs (multiples
of the interval, and the oldest kept) and the newest.

Serving a subscriber (`OSDMonitor::send_incremental`) is `plan()`: the incrementals
from the epoch it wants, at most `osd_map_message_max` epochs per message, or the newest
full map when it is new or its epoch is trimmed. Sans-I/O: the monitor persists `puts()`/`take_deletes()` and
sends what `plan()` returns.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from pyceph.osdmap.incremental import KIND_FULL, KIND_INC, Incremental, MapEntry, apply
from pyceph.osdmap.osdmap import OSDMap

INC_PREFIX = "osdmap_inc/"
FULL_PREFIX = "osdmap_full/"
#: before incrementals, every epoch's full map was stored under this prefix
LEGACY_PREFIX = "osdmap/"
#: full maps rebuilt on demand that stay cached (upstream mon_osd_cache_size bounds these)
DEFAULT_CACHE = 16


class OSDMapHistory:
    """Committed epochs [first, last]: incrementals, pinned full maps, the newest map."""

    def __init__(self, cache_size: int = DEFAULT_CACHE) -> None:
        self.first = 0
        self.last = 0
        self.incs: dict[int, bytes] = {}
        #: pinned full maps (stored) plus the newest one (stored as the state's `osdmap`)
        self.fulls: dict[int, bytes] = {}
        self.pinned: set[int] = set()
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._deletes: list[str] = []

    # ------------------------------------------------------------ building
    def start(self, epoch: int, full: bytes) -> None:
        """The first epoch we have (a new cluster's, or what a store restored)."""
        self.first = self.last = epoch
        self.incs.clear()
        self.fulls = {epoch: full}
        self.pinned = {epoch}
        self._cache.clear()

    def commit(self, epoch: int, inc: bytes, full: bytes, interval: int, trim_to: int = 0) -> None:
        """Record epoch `last + 1`, then drop epochs before `trim_to` (0: none)."""
        if epoch != self.last + 1:
            raise ValueError(f"epoch {epoch} does not follow {self.last}")
        if self.last not in self.pinned:
            self.fulls.pop(self.last, None)
        self.incs[epoch] = inc
        self.fulls[epoch] = full
        if interval > 0 and epoch % interval == 0:
            self.pinned.add(epoch)
        self.last = epoch
        if trim_to:
            self.trim(trim_to)

    def trim(self, to: int) -> None:
        """Drop epochs older than `to`, as far as the newest pinned full map at or below it
        (the oldest epoch kept must be a full map)."""
        cands = [p for p in self.pinned if p <= min(to, self.last)]
        if not cands or max(cands) <= self.first:
            return
        nf = max(cands)
        for e in [e for e in self.incs if e < nf]:
            del self.incs[e]
            self._deletes.append(f"{INC_PREFIX}{e}")
        for p in [p for p in self.pinned if p < nf]:
            self.pinned.discard(p)
            self.fulls.pop(p, None)
            self._deletes.append(f"{FULL_PREFIX}{p}")
        for e in [e for e in self._cache if e < nf]:
            del self._cache[e]
        self.first = nf

    # ------------------------------------------------------------ persistence
    def puts(self, everything: bool = False) -> dict[str, bytes]:
        """Store keys for the newest epoch (or all of them): its incremental, pinned full."""
        epochs = sorted(self.incs) if everything else [self.last]
        out: dict[str, bytes] = {}
        for e in epochs:
            if e in self.incs:
                out[f"{INC_PREFIX}{e}"] = self.incs[e]
        pins = sorted(self.pinned) if everything else [self.last]
        for p in pins:
            if p in self.pinned and p in self.fulls:
                out[f"{FULL_PREFIX}{p}"] = self.fulls[p]
        return out

    def take_deletes(self) -> list[str]:
        """Store keys dropped since the last call (trimmed epochs, legacy keys)."""
        out, self._deletes = self._deletes, []
        return out

    @classmethod
    def restore(
        cls, data: Mapping[str, bytes], current: bytes, epoch: int, cache_size: int = DEFAULT_CACHE
    ) -> OSDMapHistory:
        """Rebuild from stored keys; keeps the longest usable run of epochs ending at
        `epoch` (the current map, whose encoding is `current`)."""
        h = cls(cache_size)
        h.start(epoch, current)
        incs: dict[int, bytes] = {}
        fulls: dict[int, bytes] = {}
        for k, v in data.items():
            for prefix, into in ((INC_PREFIX, incs), (FULL_PREFIX, fulls)):
                if k.startswith(prefix) and k[len(prefix) :].isdigit():
                    into[int(k[len(prefix) :])] = v
            if k.startswith(LEGACY_PREFIX) and k[len(LEGACY_PREFIX) :].isdigit():
                h._deletes.append(k)
        lo = epoch  # incrementals (lo, epoch] are all present
        while lo - 1 >= 0 and lo in incs:
            lo -= 1
        usable = [p for p in fulls if lo <= p <= epoch]
        first = min(usable) if usable else epoch
        h.first = first
        h.incs = {e: b for e, b in incs.items() if first <= e <= epoch}
        h.pinned = {p for p in usable if p >= first} | {epoch}
        h.fulls = {p: fulls[p] for p in h.pinned if p in fulls}
        h.fulls[epoch] = current
        if epoch not in fulls:
            h.pinned.discard(epoch)
        h._deletes += [f"{INC_PREFIX}{e}" for e in incs if e not in h.incs]
        h._deletes += [f"{FULL_PREFIX}{p}" for p in fulls if p not in h.pinned]
        if h.first not in h.pinned:  # the oldest kept epoch is always rebuildable
            h.pinned.add(h.first)
        return h

    # ------------------------------------------------------------ reading
    def full(self, epoch: int) -> bytes | None:
        """The full map of a kept epoch, rebuilt from a pinned one if need be."""
        if epoch in self.fulls:
            return self.fulls[epoch]
        if not self.first <= epoch <= self.last:
            return None
        hit = self._cache.get(epoch)
        if hit is not None:
            self._cache.move_to_end(epoch)
            return hit
        base = max((p for p in self.fulls if p <= epoch), default=None)
        if base is None:
            return None
        m = OSDMap.decode(self.fulls[base])
        for e in range(base + 1, epoch + 1):
            inc = self.incs.get(e)
            if inc is None:
                return None
            m = apply(m, Incremental.decode(inc))
        out = m.encode()
        self._cache[epoch] = out
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def plan(self, want: int, max_epochs: int) -> list[list[MapEntry]]:
        """Messages for a subscriber that wants epochs from `want` on (it holds want-1).

        Empty when it is up to date. Every epoch's incremental when all of them are kept
        (as upstream's `send_incremental`, even when the newest full map is smaller: an
        OSD must see every epoch to build its PGs' past intervals); the newest full map
        otherwise (a new subscriber, or one behind the oldest kept epoch).
        """
        if want > self.last:
            return []
        newest = self.fulls[self.last]
        if want > 0:
            epochs = range(want, self.last + 1)
            if all(e in self.incs for e in epochs):
                step = max(1, max_epochs)
                return [
                    [MapEntry(e, KIND_INC, self.incs[e]) for e in epochs[i : i + step]]
                    for i in range(0, len(epochs), step)
                ]
        return [[MapEntry(self.last, KIND_FULL, newest)]]
