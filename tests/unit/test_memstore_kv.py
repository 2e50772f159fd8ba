"""MemKV, the memory store's ordered key spaces: order, ranges, and scans that change the
space as they go (resuming after the last key returned, as an LMDB cursor does)."""

from __future__ import annotations

import random

from pyceph.store.memstore import MemKV

SPACE = 0


def _kv(keys: list[bytes]) -> MemKV:
    kv = MemKV()
    for k in keys:
        kv.put(SPACE, k, b"v" + k)
    return kv


def test_ordered_ranges_and_overwrites() -> None:
    rng = random.Random(7)
    keys = [bytes([rng.randrange(256), i]) for i in range(200)]
    kv = _kv(keys)
    kv.put(SPACE, keys[0], b"new")  # an overwrite adds no second key
    got = [k for k, _v in kv.iterate(SPACE, b"", None)]
    assert got == sorted(set(keys))
    lo, hi = sorted(keys)[10], sorted(keys)[20]
    assert [k for k, _ in kv.iterate(SPACE, lo, hi)] == sorted(keys)[10:20]
    assert kv.get(SPACE, keys[0]) == b"new"
    kv.delete(SPACE, keys[0])
    kv.delete(SPACE, b"absent")
    assert kv.get(SPACE, keys[0]) is None
    assert len(list(kv.iterate(SPACE, b"", None))) == len(set(keys)) - 1


def test_deleting_while_scanning_skips_nothing() -> None:
    keys = [b"a", b"b", b"c", b"d", b"e"]
    kv = _kv(keys)
    seen = []
    for k, _v in kv.iterate(SPACE, b"", None):
        seen.append(k)
        kv.delete(SPACE, k)
    assert seen == keys
    assert list(kv.iterate(SPACE, b"", None)) == []


def test_inserting_while_scanning_sees_later_keys_only() -> None:
    kv = _kv([b"b", b"d"])
    seen = []
    for k, _v in kv.iterate(SPACE, b"", None):
        seen.append(k)
        if k == b"b":
            kv.put(SPACE, b"a", b"")  # behind the scan: not seen
            kv.put(SPACE, b"c", b"")  # ahead of it: seen
    assert seen == [b"b", b"c", b"d"]
