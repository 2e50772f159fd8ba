"""The messenger's bounds on what a peer can make a daemon hold, and the client throttle.

Every bound is an option (upstream names where upstream has one):

- `pyceph_max_message_size` / `pyceph_ms_max_head_len`: the largest data segment and head
  a frame may announce (upstream bounds a message by its segment lengths the same way);
- `pyceph_ms_max_preauth_frame`: before a peer has authenticated, only handshake-sized
  frames are accepted, so an anonymous peer cannot make us allocate a large buffer;
- `ms_connection_ready_timeout`: an accepted connection that has not authenticated within
  it is dropped (upstream AsyncConnection's connection-ready timer);
- `ms_connection_idle_timeout`: a connection that stalls in the middle of a frame for this
  long is dropped (upstream's idle timer, restricted to a half-received frame so healthy
  idle sessions stay open);
- `pyceph_ms_max_unauthenticated`: accepted connections not yet authenticated, per daemon;
  more are refused at once;
- `osd_client_message_size_cap` / `osd_client_message_cap`: the OSD's throttle on client
  bytes and messages in flight (upstream's `osd_client_message_size_cap` policy throttler):
  beyond it the OSD stops reading from clients until ops complete.

`ClientThrottle` is sans-I/O: it counts and says which readers to pause and resume; the
messenger and the OSD do the pausing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pyceph.common.options import OPTIONS

__all__ = ["ClientThrottle", "MsgrLimits"]


def _default(name: str) -> Any:
    return OPTIONS[name].default


#: How often (as a fraction of the shortest timeout) the messenger looks for stalled peers.
SWEEP_FRACTION = 4
#: Shortest sweep period in seconds, however short the timeouts are set.
MIN_SWEEP_PERIOD = 0.05


@dataclass(frozen=True)
class MsgrLimits:
    """The bounds one messenger applies to every connection it accepts or opens."""

    max_head_len: int = _default("pyceph_ms_max_head_len")
    max_data_len: int = _default("pyceph_max_message_size")
    max_preauth_frame: int = _default("pyceph_ms_max_preauth_frame")
    ready_timeout: float = float(_default("ms_connection_ready_timeout"))
    stall_timeout: float = float(_default("ms_connection_idle_timeout"))
    max_unauthenticated: int = _default("pyceph_ms_max_unauthenticated")

    @classmethod
    def from_config(cls, cfg: Any) -> MsgrLimits:
        """The limits a daemon's config sets (`cfg.get(name)` gives typed values)."""
        return cls(
            max_head_len=int(cfg.get("pyceph_ms_max_head_len")),
            max_data_len=int(cfg.get("pyceph_max_message_size")),
            max_preauth_frame=int(cfg.get("pyceph_ms_max_preauth_frame")),
            ready_timeout=float(cfg.get("ms_connection_ready_timeout")),
            stall_timeout=float(cfg.get("ms_connection_idle_timeout")),
            max_unauthenticated=int(cfg.get("pyceph_ms_max_unauthenticated")),
        )

    def sweep_period(self) -> float:
        """How often stalled and unauthenticated connections are looked for."""
        shortest = min(self.ready_timeout, self.stall_timeout)
        return max(shortest / SWEEP_FRACTION, MIN_SWEEP_PERIOD)


class ClientThrottle:
    """Bytes and messages of client requests in flight (upstream's policy throttler).

    `take` always admits the message it is given (it has been read already) and answers
    whether its reader must now pause; `put` returns the paused readers to resume once
    the counts are back under both caps. Readers resume in the order they paused.
    """

    def __init__(self, max_bytes: int, max_messages: int) -> None:
        self.max_bytes = max_bytes
        self.max_messages = max_messages
        self.bytes = 0
        self.messages = 0
        self._paused: deque[Any] = deque()

    @classmethod
    def from_config(cls, cfg: Any) -> ClientThrottle:
        """The caps `cfg` sets (the options' defaults when there is no config)."""
        get = cfg.get if cfg is not None else _default
        return cls(int(get("osd_client_message_size_cap")), int(get("osd_client_message_cap")))

    @contextmanager
    def held(self, nbytes: int, reader: Any) -> Iterator[None]:
        """Count one message while its op runs; `reader` (a Connection, or None) stops
        reading while the caps are reached and resumes once ops complete."""
        if self.take(nbytes, reader) and reader is not None:
            reader.pause_reading()
        try:
            yield
        finally:
            for r in self.put(nbytes):
                r.resume_reading()

    def over(self) -> bool:
        """Whether in-flight client work has reached a cap."""
        return (self.max_bytes > 0 and self.bytes >= self.max_bytes) or (
            self.max_messages > 0 and self.messages >= self.max_messages
        )

    def take(self, nbytes: int, reader: Any) -> bool:
        """Count one message of `nbytes` from `reader`; True when `reader` must pause."""
        self.bytes += nbytes
        self.messages += 1
        if self.over():
            if reader is not None and reader not in self._paused:
                self._paused.append(reader)
            return True
        return False

    def put(self, nbytes: int) -> list[Any]:
        """A message of `nbytes` is done; the readers that may read again."""
        self.bytes = max(self.bytes - nbytes, 0)
        self.messages = max(self.messages - 1, 0)
        resume: list[Any] = []
        while self._paused and not self.over():
            resume.append(self._paused.popleft())
        return resume

    def forget(self, reader: Any) -> None:
        """`reader` is gone (its connection closed): never resume it."""
        try:
            self._paused.remove(reader)
        except ValueError:
            pass

    @property
    def paused(self) -> int:
        return len(self._paused)
