"""`SimRand`: deterministic randomness for the simulator, derived from one seed.

Every consumer (each daemon, the fault plan, each network link) gets its own stream,
forked by name with `fork(label)`. Streams are seeded with strings, which Python hashes
with SHA-512 (not the per-process `hash()`), so a seed reproduces the same bytes in any
process, and one consumer drawing more numbers never shifts another's.
"""

from __future__ import annotations

import random


class SimRand:
    """Seeded `pyceph.common.runtime.Rand` (keys, nonces, jitter: all reproducible)."""

    def __init__(self, seed: int | str | bytes) -> None:
        self.seed = seed
        self._r = random.Random(seed if isinstance(seed, int) else str(seed))

    def fork(self, label: str) -> SimRand:
        """An independent stream for `label`, a function of this stream's seed only."""
        return SimRand(f"{self.seed}/{label}")

    def randbytes(self, n: int) -> bytes:
        return self._r.randbytes(n)

    def random(self) -> float:
        return self._r.random()

    def randrange(self, stop: int) -> int:
        return self._r.randrange(stop)

    def uniform(self, a: float, b: float) -> float:
        return self._r.uniform(a, b)

    def expovariate(self, lambd: float) -> float:
        return self._r.expovariate(lambd)

    def choice(self, seq: list[str]) -> str:
        return self._r.choice(seq)
