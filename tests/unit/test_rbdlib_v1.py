"""The format-1 header codec of `pyceph.rbdlib.v1` (sans-I/O): struct
rbd_obj_header_ondisk as src/include/rbd_types.h lays it out."""

from __future__ import annotations

import errno
import random
import struct

import pytest

from pyceph.common.errors import CephError
from pyceph.rbdlib import v1


def test_a_new_header_is_112_bytes_in_upstreams_layout():
    raw = v1.encode_header("rb.0.102f.6b8b4567", 8 << 20, 22)
    assert len(raw) == 112 == v1.HEADER_STRUCT.size
    assert raw[:40] == v1.RBD_HEADER_TEXT.ljust(40, b"\0")
    assert raw[40:64] == b"rb.0.102f.6b8b4567".ljust(24, b"\0")
    assert raw[64:68] == b"RBD\0" and raw[68:76] == b"001.005\0"
    assert raw[76] == 22  # options.order
    assert struct.unpack_from("<Q", raw, v1.IMAGE_SIZE_OFFSET)[0] == 8 << 20
    assert raw[88:] == bytes(24)  # snap_seq, snap_count, reserved, snap_names_len
    hdr = v1.parse_header(raw)
    assert (hdr.block_name, hdr.order, hdr.image_size) == ("rb.0.102f.6b8b4567", 22, 8 << 20)
    assert (hdr.snap_seq, hdr.snap_count) == (0, 0)


def test_a_header_with_snapshots_parses_its_fixed_part():
    raw = bytearray(v1.encode_header("rb.0.1.2", 4096, 12))
    struct.pack_into("<QI", raw, 88, 7, 1)  # snap_seq 7, one snapshot
    raw += struct.pack("<QQ", 7, 4096) + b"s1\0"
    hdr = v1.parse_header(bytes(raw))
    assert (hdr.snap_seq, hdr.snap_count, hdr.image_size) == (7, 1, 4096)


def test_short_and_foreign_headers():
    with pytest.raises(CephError) as ei:
        v1.parse_header(b"<<< Rados Block Device Image >>>\n")
    assert ei.value.errno == errno.EIO  # "v1 header too small"
    with pytest.raises(CephError) as ei:
        v1.parse_header(bytes(112))
    assert ei.value.errno == errno.ENXIO  # "unrecognized v1 header"


def test_block_name_is_hi_lo_of_the_global_id_and_a_random_word():
    rng = random.Random(1)
    name = v1.block_name(0x1_0000_102F, rng)
    hi, lo, extra = name.split(".")[1:]
    assert (name[:3], hi, lo) == ("rb.", "1", "102f")
    assert 0 <= int(extra, 16) < 0xFFFFFFFF
