"""SnapSet clone overlaps (upstream clone_overlap): the ranges of each clone identical to
the next newer state, kept through writes and snapshot trimming and reported by
list_snaps — what librbd's diff between snapshots reads."""

from __future__ import annotations

import msgpack

from pyceph.osd.snaps import SnapSet, extents_intersect, extents_subtract, modified_ranges


def test_interval_helpers() -> None:
    assert extents_subtract([(0, 100)], [(10, 5), (50, 100)]) == [(0, 10), (15, 35)]
    assert extents_subtract([(0, 10)], []) == [(0, 10)]
    assert extents_intersect([(0, 20), (40, 20)], [(10, 40)]) == [(10, 10), (40, 10)]


def test_modified_ranges_follow_the_size() -> None:
    muts = [("write", (100, b"x" * 10)), ("zero", (0, 5)), ("truncate", (50,))]
    # the truncate cuts from 50 to the size the write left (110)
    assert modified_ranges(muts, 20) == [(0, 5), (50, 60)]
    assert modified_ranges([("write_full", (b"ab",))], 4096) == [(0, 4096)]
    assert modified_ranges([("remove", ())], 300) == [(0, 300)]
    assert modified_ranges([("truncate", (500,))], 300) == []  # growing touches nothing


def test_overlap_through_writes_and_trim() -> None:
    ss = SnapSet()
    assert ss.make_clone((4, [4]), 4096) == 4
    assert ss.clone_overlap[4] == [(0, 4096)]
    ss.note_modified([(100, 10)])
    assert ss.clone_overlap[4] == [(0, 100), (110, 3986)]
    assert ss.make_clone((6, [6, 4]), 4096) == 6
    ss.note_modified([(0, 50)])  # only the newest clone compares with the head
    assert ss.clone_overlap == {4: [(0, 100), (110, 3986)], 6: [(50, 4046)]}
    gone, changed = ss.trim({6})
    assert (gone, changed) == ([6], True)
    # clone 4 now compares with the head: alike only where both steps were
    assert ss.clone_overlap == {4: [(50, 50), (110, 3986)]}


def test_encoding_round_trip_and_old_snapsets() -> None:
    ss = SnapSet()
    ss.make_clone((3, [3]), 10)
    ss.note_modified([(2, 2)])
    assert SnapSet.decode(ss.encode()).clone_overlap == {3: [(0, 2), (4, 6)]}
    old = msgpack.packb([3, [[3, [3], 10]]])  # written before overlaps were kept
    assert SnapSet.decode(old).clone_overlap == {}  # nothing known alike
