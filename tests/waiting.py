"""Bounded waiting for a condition, the one way tests wait (never sleep-and-hope)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How often a condition is polled while it is false.
POLL_INTERVAL = 0.1


def wait_until(pred: Callable[[], T], what: str, timeout: float) -> T:
    """Poll `pred` until it returns a true value (returned); AssertionError naming `what`
    once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_INTERVAL)
