"""Summarise a py-spy collapsed-stack profile (`py-spy record -f raw`): where time goes.

py-spy's raw format is one line per distinct stack, ``frame;frame;...;frame COUNT``,
each frame ``function (file:line)``. This prints, per thread (``--threads`` profiles
start each stack with the thread), the frames with the most samples: *self* (the frame
on top of the stack) and *total* (the frame anywhere in the stack), as percentages of
that thread's samples. Used to write `docs/perf/README.md`.

    python bench/profile_summary.py PROFILE.txt [--top 25] [--thread SUBSTRING]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict

#: A frame's line number is dropped so one function's lines add up.
_LINE = re.compile(r":\d+\)$")


def _frame(text: str) -> str:
    return _LINE.sub(")", text.strip())


def parse(lines: list[str]) -> dict[str, list[tuple[list[str], int]]]:
    """Stacks (outermost frame first) with their sample counts, by thread."""
    out: dict[str, list[tuple[list[str], int]]] = defaultdict(list)
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith(("thread", "process")) else "all"
        if thread != "all":
            frames = frames[1:]
            if frames and frames[0].startswith("thread"):
                thread, frames = frames[0], frames[1:]
        out[thread].append(([_frame(f) for f in frames], int(count)))
    return out


def summarise(stacks: list[tuple[list[str], int]], top: int) -> list[str]:
    """Rows `total% self% frame` for the `top` frames by inclusive samples."""
    total_samples = sum(c for _s, c in stacks) or 1
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for frames, count in stacks:
        if frames:
            self_c[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    rows = [f"{'total%':>7} {'self%':>6}  frame   ({total_samples} samples)"]
    for f, c in incl.most_common(top):
        rows.append(f"{100 * c / total_samples:7.1f} {100 * self_c[f] / total_samples:6.1f}  {f}")
    rows.append("top self:")
    for f, c in self_c.most_common(top):
        rows.append(f"{'':7} {100 * c / total_samples:6.1f}  {f}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--thread", default="", help="only threads whose name contains this")
    a = ap.parse_args(argv)
    with open(a.profile) as f:
        by_thread = parse(f.readlines())
    for thread, stacks in sorted(by_thread.items(), key=lambda kv: -sum(c for _s, c in kv[1])):
        if a.thread not in thread:
            continue
        print(f"== {thread}")
        print("\n".join(summarise(stacks, a.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
