"""Render a py-spy collapsed-stack profile (`py-spy record -f raw`) as a flame graph SVG.

py-spy writes either an SVG or the raw stacks, not both; `compare.py --profile` records
the raw stacks (which `profile_summary.py` turns into the top-frame tables of
`docs/perf/README.md`) and this draws the same samples as a flame graph: the root at the
bottom, each frame as wide as its share of the samples, a tooltip (`<title>`) with the
frame, its sample count and percentage. Frames narrower than `MIN_WIDTH_PX` are dropped
(they would be invisible anyway).

    python bench/flamegraph.py PROFILE.txt OUT.svg [--title TEXT]
"""

from __future__ import annotations

import argparse
import html
import sys
import zlib
from dataclasses import dataclass, field

WIDTH_PX = 1200
FRAME_PX = 16
MARGIN_PX = 10
TITLE_PX = 30
FONT_PX = 11
#: Frames narrower than this are not drawn.
MIN_WIDTH_PX = 0.3
#: Roughly how wide one character of the label font is, to know when a label fits.
CHAR_PX = 6.5


@dataclass
class Node:
    """One frame in the merged call tree: its samples and its callees."""

    name: str
    count: int = 0
    children: dict[str, Node] = field(default_factory=dict)


def build(lines: list[str]) -> Node:
    """The call tree of every stack in the profile (all threads under one root)."""
    root = Node("all")
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        n = int(count)
        root.count += n
        node = root
        for frame in stack.split(";"):
            child = node.children.get(frame)
            if child is None:
                child = node.children[frame] = Node(frame)
            child.count += n
            node = child
    return root


def _depth(node: Node) -> int:
    return 1 + max((_depth(c) for c in node.children.values()), default=0)


def _color(name: str) -> str:
    h = zlib.crc32(name.encode())
    return f"rgb({205 + h % 50},{(h >> 8) % 180 + 40},{(h >> 16) % 50})"


def render(root: Node, title: str) -> str:
    """The SVG text of `root`'s flame graph."""
    depth = _depth(root)
    height = TITLE_PX + depth * FRAME_PX + 2 * MARGIN_PX
    scale = (WIDTH_PX - 2 * MARGIN_PX) / max(root.count, 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" '
        f'font-family="monospace" font-size="{FONT_PX}">',
        '<rect width="100%" height="100%" fill="#f8f8f8"/>',
        f'<text x="{WIDTH_PX / 2}" y="{TITLE_PX - 10}" text-anchor="middle" '
        f'font-size="{FONT_PX + 4}">{html.escape(title)}</text>',
    ]

    def draw(node: Node, x: float, level: int) -> None:
        w = node.count * scale
        if w < MIN_WIDTH_PX:
            return
        y = height - MARGIN_PX - (level + 1) * FRAME_PX
        pct = 100 * node.count / max(root.count, 1)
        label = html.escape(node.name)
        out.append(
            f"<g><title>{label} ({node.count} samples, {pct:.2f}%)</title>"
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{FRAME_PX - 1}" '
            f'fill="{_color(node.name)}" rx="2"/>'
        )
        chars = int((w - 4) / CHAR_PX)
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[: chars - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + FRAME_PX - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            draw(child, cx, level + 1)
            cx += child.count * scale

    draw(root, MARGIN_PX, 0)
    out.append("</svg>")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile")
    ap.add_argument("svg")
    ap.add_argument("--title", default="")
    a = ap.parse_args(argv)
    with open(a.profile) as f:
        root = build(f.readlines())
    with open(a.svg, "w") as f:
        f.write(render(root, a.title or a.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
