"""Store-side decoders under hostile records (issue 10: every length, count and size read
from a store is bounded before anything is allocated).

A damaged disk (or a forged mon store) can hold any bytes where a PG's info, log entries,
dups and missing set, an object's info and SnapSet, or the monitor's full and incremental
OSD maps (and the CRUSH map inside) are kept. Each decoder must refuse such a record with
its named error — `CorruptRecord` (pgmeta, object info, snapset, OSDMap),
`IncrementalError`, `CrushError` — and must do so without allocating more than a small
multiple of the record: a count field of 2**32-1 fails before a list that long exists.
"""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.fuzzing import fuzz

from pyceph.common.packing import CorruptRecord
from pyceph.crush import binary as crush_binary
from pyceph.crush.map import CrushError, CrushMap
from pyceph.mon.osdmap_history import FULL_PREFIX, INC_PREFIX, OSDMapHistory
from pyceph.osd import pgmeta
from pyceph.osd.ops import ObjectInfo
from pyceph.osd.pglog import DupEntry, LogEntry
from pyceph.osd.snaps import SnapSet
from pyceph.osd.types import PastInterval, PGInfo
from pyceph.osdmap import incremental as inc_mod
from pyceph.osdmap.osdmap import OSD_IN, OsdInfo, OSDMap
from pyceph.osdmap.pool import Pool
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction

CID = "1.0_head"
FSID = "90a5bc37-9d49-4497-bd9f-506c05dafa54"
#: Most a decoder may allocate on a hostile record of a few bytes (tracemalloc peak).
ALLOC_LIMIT = 8 << 20
#: 2**32-1: the largest count a 32-bit length field can hold
U32_MAX = 2**32 - 1

#: msgpack headers announcing a container or string of 2**32-1 items or bytes
HOSTILE_HEADERS = {
    "array32": b"\xdd" + struct.pack(">I", U32_MAX),
    "map32": b"\xdf" + struct.pack(">I", U32_MAX),
    "str32": b"\xdb" + struct.pack(">I", U32_MAX),
    "bin32": b"\xc6" + struct.pack(">I", U32_MAX),
    "ext32": b"\xc9" + struct.pack(">I", U32_MAX) + b"\x01",
    "nested": b"\x94\xdd" + struct.pack(">I", U32_MAX),  # [<2**32-1 items>, ...]
    "deep": b"\x91" * 100_000,  # a list in a list in a list ...
    "truncated": b"\x94\x01",
    "empty": b"",
}


def _osdmap(max_osd: int = 2) -> OSDMap:
    c = CrushMap.new_default("host")
    c.add_bucket("h0", "host", "default")
    for o in range(2):
        c.add_osd(o, 1.0, {"host": "h0", "root": "default"})
    m = OSDMap(FSID, c)
    m.epoch = 3
    m.max_osd = max_osd
    for i in range(2):
        m.osds[i] = OsdInfo(i, up=True, weight=OSD_IN, public_addr=f"10.0.0.{i}:6800/{i}")
    m.pools[1] = Pool(1, "rbd", pg_num=8, pgp_num=8)
    m.pool_name["rbd"] = 1
    m.pool_max = 1
    return m


def _incremental() -> bytes:
    i = inc_mod.Incremental(4, FSID)
    i.new_state[0] = 1
    i.new_blocklist["10.0.0.9:0/1"] = 1.0
    return i.encode()


#: (name, decoder, its named error, a valid record it accepts)
DECODERS: list[tuple[str, Callable[[bytes], Any], type[Exception], bytes]] = [
    (
        "pg info",
        pgmeta.decode_info,
        CorruptRecord,
        msgpack.packb(
            PGInfo("1.0", (3, 7), past_intervals=[PastInterval(1, 2, [0, 1], 0, True)]).to_wire(),
            use_bin_type=True,
        ),
    ),
    (
        "pg intervals",
        pgmeta.decode_intervals,
        CorruptRecord,
        msgpack.packb(
            {"sis": 9, "past": [PastInterval(1, 2, [0, 1], 0, True).to_wire()]},
            use_bin_type=True,
        ),
    ),
    (
        "pg log entry",
        pgmeta.decode_entry,
        CorruptRecord,
        msgpack.packb(
            LogEntry("modify", ("o", "", ""), (3, 7), (3, 6), ("client.4", 1, 9), 5).to_wire(),
            use_bin_type=True,
        ),
    ),
    (
        "pg log dup",
        pgmeta.decode_dup,
        CorruptRecord,
        msgpack.packb(DupEntry(("client.4", 1, 9), (3, 7), 5, 0).to_wire(), use_bin_type=True),
    ),
    (
        "missing item",
        pgmeta.decode_missing,
        CorruptRecord,
        msgpack.packb([["o", "", ""], [3, 7]], use_bin_type=True),
    ),
    ("object info", ObjectInfo.decode, CorruptRecord, ObjectInfo(4096, (3, 7), 5, 1.5).encode()),
    (
        "snapset",
        SnapSet.decode,
        CorruptRecord,
        SnapSet(4, [2, 4], {2: [1, 2], 4: [3, 4]}, {2: 10, 4: 20}, {4: [(0, 5)]}).encode(),
    ),
    ("osdmap", OSDMap.decode, ValueError, _osdmap().encode()),
    ("incremental", inc_mod.Incremental.decode, inc_mod.IncrementalError, _incremental()),
    ("crush", crush_binary.decode, CrushError, _osdmap().crush.encode()),
]
IDS = [d[0] for d in DECODERS]


def _refused(decode: Callable[[bytes], Any], err: type[Exception], raw: bytes) -> None:
    """`decode(raw)` raises `err` (or succeeds) within ALLOC_LIMIT bytes; nothing else."""
    tracemalloc.start()
    try:
        decode(raw)
    except err:
        pass
    finally:
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < ALLOC_LIMIT + 2 * len(raw), f"{peak} bytes allocated for {len(raw)}"


@pytest.mark.parametrize(("name", "decode", "err", "good"), DECODERS, ids=IDS)
def test_valid_record_decodes(name: str, decode: Any, err: type, good: bytes) -> None:
    decode(good)


@pytest.mark.parametrize("header", sorted(HOSTILE_HEADERS))
@pytest.mark.parametrize(("name", "decode", "err", "good"), DECODERS, ids=IDS)
def test_hostile_length_fields_fail_before_allocating(
    name: str, decode: Any, err: type, good: bytes, header: str
) -> None:
    raw = HOSTILE_HEADERS[header]
    with pytest.raises(err):
        decode(raw)
    _refused(decode, err, raw)


def test_osdmap_with_huge_max_osd_is_refused_before_its_arrays() -> None:
    # max_osd sizes per-OSD arrays (weights, up sets): 2**32-1 would be 32 GiB of them
    raw = _osdmap(max_osd=U32_MAX).encode()
    with pytest.raises(CorruptRecord, match="max_osd"):
        OSDMap.decode(raw)
    _refused(OSDMap.decode, CorruptRecord, raw)
    # as the monitor's history and a received map read it: the incremental module's error
    with pytest.raises(inc_mod.IncrementalError):
        inc_mod._decode_full(raw)


def test_crush_map_with_huge_device_count_is_refused() -> None:
    good = _osdmap().crush.encode()
    # header: magic, max_buckets (s32), max_rules (u32), max_devices (s32)
    hostile = good[:12] + struct.pack("<i", 2**31 - 1) + good[16:]
    with pytest.raises(CrushError, match="header"):
        crush_binary.decode(hostile)
    _refused(crush_binary.decode, CrushError, hostile)
    # inside a full map
    d = msgpack.unpackb(_osdmap().encode(), raw=False, strict_map_key=False)
    d["crush"] = hostile
    with pytest.raises(ValueError):
        OSDMap.decode(msgpack.packb(d, use_bin_type=True))


def test_pg_load_refuses_a_corrupt_log_entry_by_name() -> None:
    s = MemStore()
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(CID))
    t = Transaction()
    pgmeta.write_info(t, CID, PGInfo("1.0", (3, 7)))
    pgmeta.write_entry(t, CID, LogEntry("modify", ("o", "", ""), (3, 7)))
    s.apply_transaction(t)
    info, log, missing = pgmeta.load(s, CID, "1.0")
    assert info.last_update == (3, 7) and len(log.entries) == 1 and not missing
    # the entry's record overwritten with a count of 2**32-1
    key = pgmeta.LOG_PREFIX + struct.pack(">QQ", 3, 7)
    s.apply_transaction(Transaction().meta_set(CID, key, HOSTILE_HEADERS["array32"]))
    with pytest.raises(CorruptRecord, match="pg log entry"):
        pgmeta.load(s, CID, "1.0")


def _mutations(good: bytes) -> st.SearchStrategy[bytes]:
    """A valid record with bytes flipped, cut short, or a 32-bit count spliced in."""
    pos = st.integers(0, max(len(good) - 1, 0))
    flips = st.lists(st.tuples(pos, st.integers(0, 255)), min_size=1, max_size=4).map(
        lambda fs: bytes(dict(fs).get(i, b) for i, b in enumerate(good))
    )
    cuts = pos.map(lambda n: good[:n])
    splices = st.tuples(pos, st.sampled_from(sorted(HOSTILE_HEADERS.values()))).map(
        lambda p: good[: p[0]] + p[1] + good[p[0] :]
    )
    return flips | cuts | splices


@pytest.mark.parametrize(("name", "decode", "err", "good"), DECODERS, ids=IDS)
@fuzz(60)
@given(data=st.data())
def test_mutated_records_decode_or_fail_by_name(
    name: str, decode: Any, err: type, good: bytes, data: st.DataObject
) -> None:
    raw = data.draw(_mutations(good))
    _refused(decode, err, raw)


def test_monitor_history_refuses_corrupt_stored_maps_by_name() -> None:
    good = _osdmap().encode()
    hostile = HOSTILE_HEADERS["map32"]
    keys = {f"{INC_PREFIX}4": _incremental(), f"{INC_PREFIX}5": _incremental()}
    # a pinned full map that does not decode: rebuilding epoch 4 from it fails by name
    h = OSDMapHistory.restore({**keys, f"{FULL_PREFIX}3": hostile}, good, 5)
    with pytest.raises(CorruptRecord):
        h.full(4)
    # an incremental that does not decode
    h = OSDMapHistory.restore({**keys, f"{FULL_PREFIX}3": good, f"{INC_PREFIX}4": hostile}, good, 5)
    with pytest.raises(inc_mod.IncrementalError):
        h.full(4)
