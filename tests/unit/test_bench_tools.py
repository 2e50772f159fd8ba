"""The benchmark harness's pure parts: output parsers, statistics, row selection, the
table, and the profile tools (bench/ holds scripts, not a package: imported by path)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import compare  # noqa: E402
import flamegraph  # noqa: E402
import harness  # noqa: E402
import profile_summary  # noqa: E402

#: The summary upstream's `rados bench ... write` prints (Ceph 16.2), abridged.
RADOS_WRITE = """\
Total time run:         5.0213
Total writes made:      3120
Write size:             4096
Object size:            4096
Bandwidth (MB/sec):     2.42713
Stddev Bandwidth:       0.19
Max bandwidth (MB/sec): 2.69
Min bandwidth (MB/sec): 2.1
Average IOPS:           621
Stddev IOPS:            48.6
Max IOPS:               690
Min IOPS:               538
Average Latency(s):     0.0257
Stddev Latency(s):      0.0101
Max latency(s):         0.104
Min latency(s):         0.0016
"""

RBD_TAIL = "elapsed: 8   ops: 4096   ops/sec: 511.87   bytes/sec: 2.0 MiB/s\n"

PROFILE = """\
thread (1): main;run (a.py:1);op (b.py:2);crush (c.py:3) 6
thread (1): main;run (a.py:1);op (b.py:2);send (c.py:9) 3
thread (1): main;run (a.py:1);idle (d.py:4) 1
"""


def test_parse_rados_bench() -> None:
    r = harness.parse_rados_bench(RADOS_WRITE)
    assert (r.mbps, r.iops, r.lat, r.ops, r.seconds) == (2.42713, 621.0, 0.0257, 3120, 5.0213)
    with pytest.raises(ValueError):
        harness.parse_rados_bench("no summary here")


def test_parse_rbd_bench() -> None:
    r = harness.parse_rbd_bench("bench  type write io_size 4096\n" + RBD_TAIL)
    assert r.iops == 511.87 and r.ops == 4096 and r.seconds == 8.0
    assert r.mbps == pytest.approx(2.0 * (1 << 20) / 1e6)


def test_summary_median_and_range() -> None:
    s = harness.Summary.of([3.0, 1.0, 2.0, None])  # type: ignore[list-item]
    assert s is not None and (s.median, s.low, s.high, s.n) == (2.0, 1.0, 3.0, 3)
    assert harness.Summary.of([]) is None


def test_rows_selection_and_table() -> None:
    rows = compare.all_rows()
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))
    picked = compare.selected(rows, ["rados-4K-write", "startup"])
    assert [r.id for r in picked] == ["rados-4K-write-s3", "rados-4K-write-s1", "startup"]
    figures = {
        "pyceph": {"rados-4K-write-s3": [600.0, 700.0, 650.0], "startup": [2.0]},
        "refceph": {"rados-4K-write-s3": [1300.0], "startup": [40.0]},
    }
    text = compare.table(picked, figures)
    assert "| rados bench 4K write size 3 | IOPS | higher | 650 (600–700) | 1300 | 0.50× |" in text
    assert "| start to ready | s | lower | 2.00 | 40.00 | 0.05× |" in text
    assert "size 1" not in text  # no figures, no row


def test_profile_summary_percentages() -> None:
    by_thread = profile_summary.parse(PROFILE.splitlines())
    assert list(by_thread) == ["thread (1): main"]
    rows = profile_summary.summarise(by_thread["thread (1): main"], top=3)
    assert rows[1].split()[:2] == ["100.0", "0.0"] and "run (a.py)" in rows[1]
    assert any(r.split()[:2] == ["90.0", "0.0"] and "op (b.py)" in r for r in rows)
    assert any(
        r.split()[0] == "60.0" and "crush (c.py)" in r for r in rows[rows.index("top self:") :]
    )


def test_flamegraph_svg() -> None:
    root = flamegraph.build(PROFILE.splitlines())
    assert root.count == 10
    op = root.children["thread (1): main"].children["run (a.py:1)"].children["op (b.py:2)"]
    assert op.count == 9 and set(op.children) == {"crush (c.py:3)", "send (c.py:9)"}
    svg = flamegraph.render(root, "t")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "crush (c.py:3) (6 samples, 60.00%)" in svg
