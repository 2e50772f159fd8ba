"""Striping math and names of the rbd engine (sans-I/O) against upstream's Striper."""

from __future__ import annotations

import random

import pytest

from pyceph.common.errors import CephError
from pyceph.rbdlib import features as F
from pyceph.rbdlib.layout import (
    Layout,
    data_object_name,
    generate_image_id,
    object_map_name,
)


def test_names() -> None:
    assert data_object_name("rbd_data.abc", 0x1F) == "rbd_data.abc.000000000000001f"
    assert object_map_name("abc") == "rbd_object_map.abc"
    assert object_map_name("abc", 4) == "rbd_object_map.abc.0000000000000004"
    iid = generate_image_id(0x1234, random.Random(1))
    assert iid.startswith("1234") and len(iid) <= 14


def test_num_objects() -> None:
    assert Layout(22).num_objects(0) == 0
    assert Layout(22).num_objects(1) == 1
    assert Layout(22).num_objects(4 << 20) == 1
    assert Layout(22).num_objects((4 << 20) + 1) == 2
    # 4 objects of 4 MiB in a set, 64 KiB units: 65 KiB touches 2 objects
    assert Layout(22, 65536, 4).num_objects(65 * 1024) == 2
    assert Layout(22, 65536, 4).num_objects(16 << 20) == 4


@pytest.mark.parametrize("layout", [Layout(12), Layout(13, 1024, 3), Layout(14, 4096, 2)])
def test_file_to_extents_round_trip(layout: Layout) -> None:
    rng = random.Random(7)
    size = layout.period * 3 + 777
    for _ in range(200):
        off = rng.randrange(size)
        length = rng.randrange(1, size - off + 1)
        covered = bytearray(length)
        for ext in layout.file_to_extents(off, length):
            assert sum(n for _, n in ext.buffer_extents) == ext.length
            assert ext.offset + ext.length <= layout.object_size
            files = layout.object_to_file(ext.objectno, ext.offset, ext.length)
            pos = 0
            for (boff, blen), _ in zip(ext.buffer_extents, ext.buffer_extents, strict=True):
                for i in range(blen):
                    covered[boff + i] += 1
                pos += blen
            # the object's image extents are exactly the buffer extents shifted by off
            flat = [(b + off, n) for b, n in ext.buffer_extents]
            assert _merge(flat) == _merge(files)
        assert all(c == 1 for c in covered)


def _merge(ext: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for o, n in sorted(ext):
        if out and out[-1][0] + out[-1][1] == o:
            out[-1] = (out[-1][0], out[-1][1] + n)
        else:
            out.append((o, n))
    return out


def test_features_strings() -> None:
    assert F.features_to_string(61) == "deep-flatten,exclusive-lock,fast-diff,layering,object-map"
    assert F.features_from_string("layering, exclusive-lock") == 5
    assert F.features_from_string("61") == 61
    assert F.features_from_string("") == F.RBD_FEATURES_DEFAULT
    with pytest.raises(CephError) as ei:
        F.features_from_string("bogus")
    assert ei.value.errno == 22
    with pytest.raises(CephError):
        F.features_to_string(1 << 20)
