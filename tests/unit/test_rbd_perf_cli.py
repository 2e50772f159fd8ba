"""`rbd perf image iostat|iotop` formatting (pyceph.cli.rbd_perf), from the rbd_support
module's JSON as 16.2 sends it."""

from __future__ import annotations

from pyceph.cli.rbd_perf import format_stat, image_stats, next_sort, top_header, top_row

REPORT = {
    "timestamp": 1796650000.0,
    "stat_descriptors": [
        "write_ops",
        "read_ops",
        "write_bytes",
        "read_bytes",
        "write_latency",
        "read_latency",
    ],  # fmt: skip
    "pool_descriptors": {"0": "rbd", "1": "data/ns1"},
    "stats": [
        {"0/img": [92.0, 0.0, 376832.0, 0.0, 174630000.0, 0.0]},
        {"1/other": [0.0, 5.0, 0.0, 20480.0, 0.0, 1500.0]},
        {"7/unknown-pool": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]},
    ],
}


def test_image_stats_map_pools_and_descriptor_order() -> None:
    stats = image_stats(REPORT)
    assert [(p, n, i) for p, n, i, _ in stats] == [("rbd", "", "img"), ("data", "ns1", "other")]
    assert stats[1][3] == [0.0, 5.0, 0.0, 20480.0, 0.0, 1500.0]
    swapped = {**REPORT, "stat_descriptors": ["read_ops", "write_ops"], "stats": [{"0/a": [3, 4]}]}
    assert image_stats(swapped)[0][3][:2] == [4.0, 3.0]


def test_format_stat_as_perf_cc() -> None:
    assert format_stat("write_ops", 92) == "92/s"
    assert format_stat("write_bytes", 376832) == "368 KiB/s"
    assert format_stat("write_latency", 174_630_000) == "174.63 ms"
    assert format_stat("read_latency", 1500) == "1.50 us"
    assert format_stat("read_latency", 2.5e9) == "2.50 s"
    assert format_stat("read_latency", 0) == "0.00 ns"


def test_iotop_lines() -> None:
    header = top_header("read_ops")
    assert header.startswith("  WRITES OPS   >READS OPS ") and header.endswith("IMAGE")
    stats = image_stats(REPORT)
    assert top_row("", stats[1]).endswith(" data/ns1/other")
    assert top_row("rbd", stats[0]).endswith(" img")
    assert top_row("rbd", stats[0]).startswith("        92/s ")
    assert next_sort("write_ops", -1) == "write_ops"
    assert next_sort("write_ops", 1) == "read_ops"
    assert next_sort("read_latency", 1) == "read_latency"
