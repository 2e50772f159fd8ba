"""`clusterstate.MonKeyCache`: module threads asking `get('health')` at once share one
monitor round trip; an answer is reused for its TTL, a failure is not kept, and the
MgrMap and config database are always read fresh."""

from __future__ import annotations

import threading
from typing import Any

from pyceph.mgr.modules.clusterstate import MonKeyCache


class Monitor:
    """Counts fetches; each answer says which fetch made it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False

    def fetch(self, name: str) -> Any:
        self.gate.wait(10)
        self.calls.append(name)
        return None if self.fail else {"name": name, "n": len(self.calls)}


def test_concurrent_callers_share_one_fetch() -> None:
    mon, now = Monitor(), [0.0]
    cache = MonKeyCache(mon.fetch, lambda: now[0])
    mon.gate.clear()
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("health"))) for _ in range(8)]
    for t in threads:
        t.start()
    mon.gate.set()
    for t in threads:
        t.join(10)
    assert mon.calls == ["health"] and got == [{"name": "health", "n": 1}] * 8


def test_ttl_copies_failures_and_fresh_names() -> None:
    mon, now = Monitor(), [0.0]
    cache = MonKeyCache(mon.fetch, lambda: now[0], ttl=1.0)
    first = cache.get("df")
    first["n"] = 99  # a caller's copy is its own
    now[0] = 0.5
    assert cache.get("df") == {"name": "df", "n": 1}
    now[0] = 1.0
    assert cache.get("df") == {"name": "df", "n": 2}
    # the MgrMap and the config database: fetched every time
    assert cache.get("mgr_map")["n"] == 3 and cache.get("mgr_map")["n"] == 4
    mon.fail = True
    assert cache.get("health") is None and cache.get("health") is None
    assert mon.calls.count("health") == 2
