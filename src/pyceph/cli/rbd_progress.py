"""Progress lines of the `rbd` tool on stderr: upstream's utils::ProgressContext.

``\\r<operation>: N% complete...`` each time the whole percentage grows, then
``\\r<operation>: 100% complete...done.`` (or ``...failed.`` at the last
percentage); all of it suppressed by ``--no-progress``. An instance is also the
``on_progress(offset, total)`` callback the rbd module's long operations accept.
"""

from __future__ import annotations

from typing import IO

__all__ = ["ProgressContext", "percentage"]


def percentage(part: int, whole: int) -> int:
    """utils::get_percentage: integer percent, 0 when `whole` is 0."""
    return (100 * part // whole) if whole else 0


class ProgressContext:
    """Prints `operation` progress to `err` unless `no_progress`."""

    def __init__(self, operation: str, no_progress: bool, err: IO[str]) -> None:
        self.operation = operation
        self.progress = not no_progress
        self.err = err
        self.last_pc = 0

    def update_progress(self, offset: int, total: int) -> int:
        if self.progress:
            pc = percentage(offset, total)
            if pc > self.last_pc:
                self.err.write(f"\r{self.operation}: {pc}% complete...")
                self.err.flush()
                self.last_pc = pc
        return 0

    __call__ = update_progress

    def finish(self) -> None:
        if self.progress:
            self.err.write(f"\r{self.operation}: 100% complete...done.\n")
            self.err.flush()

    def fail(self) -> None:
        if self.progress:
            self.err.write(f"\r{self.operation}: {self.last_pc}% complete...failed.\n")
            self.err.flush()
