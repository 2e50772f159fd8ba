"""What a PG log keeps in memory as writes go by: entries and dups stay within their
bounds, and entries decoded from the wire (a replica's, a reloaded log's) share their
client's entity name and their op name instead of holding a string each."""

from __future__ import annotations

import msgpack

from pyceph.osd.pglog import MODIFY, LogEntry, PGLog

MIN_ENTRIES = 250  # osd_min_pg_log_entries
DUPS_TRACKED = 3000  # osd_pg_log_dups_tracked


def _from_wire(i: int) -> LogEntry:
    w = [MODIFY, ["", f"obj{i}", ""], [5, i], [5, i - 1], ["client.4123", 77, i], i, 0]
    return LogEntry.from_wire(msgpack.unpackb(msgpack.packb(w)))  # fresh strings, as received


def test_log_and_dups_stay_within_their_bounds_under_many_writes():
    log = PGLog()
    for i in range(1, 4 * DUPS_TRACKED):
        log.append(_from_wire(i))
        if len(log) > MIN_ENTRIES:
            to = log.calc_trim_to(log.head, MIN_ENTRIES)
            assert to is not None
            log.trim(to, DUPS_TRACKED)
        assert len(log) <= MIN_ENTRIES and len(log.dups) <= DUPS_TRACKED
    assert len(log.dups) == DUPS_TRACKED
    assert log.lookup_reqid(("client.4123", 77, 1)) is None  # evicted long ago
    assert log.lookup_reqid(("client.4123", 77, 4 * DUPS_TRACKED - 1)) is not None


def test_decoded_entries_share_entity_and_op_strings():
    a, b = _from_wire(1), _from_wire(2)
    assert a.reqid is not None and b.reqid is not None
    assert a.reqid[0] is b.reqid[0]
    assert a.op is MODIFY and b.op is MODIFY
