"""OSD perf metric queries (pyceph.common.perf_query): the mgr's registry and an OSD's
counts, end to end without daemons, as rbd_support's queries use them."""

from __future__ import annotations

import errno
from dataclasses import replace

from pyceph.common.perf_query import OpFacts, OsdPerfQueries, OsdPerfStats

#: rbd_support's query (rbd_support/perf.py prepare_osd_perf_query) for pool 2.
RBD_QUERY = {
    "key_descriptor": [
        {"type": "pool_id", "regex": "^(2)$"},
        {"type": "namespace", "regex": "^(.*)$"},
        {"type": "object_name", "regex": "^(?:rbd|journal)_data\\.(?:([0-9]+)\\.)?([^.]+)\\."},
    ],
    "performance_counter_descriptors": [
        "write_ops", "read_ops", "write_bytes", "read_bytes", "write_latency", "read_latency",
    ],
    "limit": {"order_by": "write_ops", "max_count": 256},
}  # fmt: skip

WRITE = OpFacts(
    client_id="client.4100",
    client_address="127.0.0.1:0/1",
    pool_id=2,
    namespace="",
    osd_id=0,
    pg_id="2.3",
    object_name="rbd_data.abc123.0000000000000001",
    snap_id=None,
    reads=False,
    writes=True,
    in_bytes=4096,
    out_bytes=0,
    latency=0.002,
)
READ = replace(WRITE, reads=True, writes=False, in_bytes=0, out_bytes=8192, latency=0.001)


def _osd_for(mgr: OsdPerfQueries) -> OsdPerfStats:
    osd = OsdPerfStats()
    osd.set_queries(mgr.wire())
    return osd


def test_rbd_support_query_counts_per_image_and_hands_over_once() -> None:
    mgr = OsdPerfQueries()
    qid = mgr.add(RBD_QUERY)
    assert qid is not None
    osd = _osd_for(mgr)
    for _ in range(3):
        osd.record(WRITE)
    osd.record(READ)
    osd.record(replace(WRITE, pool_id=3))  # another pool: not this query's
    osd.record(replace(WRITE, object_name="rbd_header.abc123"))  # not a data object
    mgr.ingest(osd.take_report())
    got = mgr.take_counters(qid)
    assert got == {
        "counters": [
            {
                "k": [["2"], [""], ["", "abc123"]],
                "c": [[3, 0], [1, 0], [3 * 4096, 0], [8192, 0], [6_000_000, 3], [1_000_000, 1]],
            }
        ]
    }
    assert mgr.take_counters(qid) == {"counters": []}  # handed over, then afresh
    assert osd.take_report() == [{"id": mgr.wire()[0]["id"], "counters": []}]


def test_reports_add_up_across_osds_and_into_every_id_of_one_query() -> None:
    mgr = OsdPerfQueries()
    a, b = mgr.add(RBD_QUERY), mgr.add(RBD_QUERY)
    assert a is not None and b is not None and a != b
    assert len(mgr.wire()) == 1  # one count on the OSDs for both ids
    for osd_id in (0, 1):
        osd = _osd_for(mgr)
        osd.record(replace(WRITE, osd_id=osd_id))
        mgr.ingest(osd.take_report())
    for qid in (a, b):
        (entry,) = mgr.take_counters(qid)["counters"]  # type: ignore[index]
        assert entry["c"][0] == [2, 0]


def test_limit_keeps_the_top_keys_by_its_counter() -> None:
    query = {**RBD_QUERY, "limit": {"order_by": "write_ops", "max_count": 1}}
    mgr = OsdPerfQueries()
    qid = mgr.add(query)
    osd = _osd_for(mgr)
    osd.record(replace(WRITE, object_name="rbd_data.quiet.0000000000000000"))
    for _ in range(2):
        osd.record(replace(WRITE, object_name="rbd_data.busy.0000000000000000"))
    mgr.ingest(osd.take_report())
    (entry,) = mgr.take_counters(qid)["counters"]  # type: ignore[index,arg-type]
    assert entry["k"][2] == ["", "busy"]


def test_invalid_queries_are_refused_with_none_as_upstream() -> None:
    mgr = OsdPerfQueries()
    bad = [
        None,
        {"key_descriptor": [], "performance_counter_descriptors": ["write_ops"]},
        {**RBD_QUERY, "key_descriptor": [{"type": "pool_id", "regex": ".*"}]},  # no group
        {**RBD_QUERY, "key_descriptor": [{"type": "colour", "regex": "(.*)"}]},
        {**RBD_QUERY, "key_descriptor": [{"type": "pool_id", "regex": "(unclosed"}]},
        {**RBD_QUERY, "performance_counter_descriptors": ["speed"]},
        {**RBD_QUERY, "limit": {"order_by": "speed", "max_count": 3}},
        {**RBD_QUERY, "limit": {"order_by": "write_ops", "max_count": 0}},
    ]
    for q in bad:
        assert mgr.add(q) is None, q
    assert mgr.wire() == [] and mgr.version == 0


def test_removing_a_query_stops_its_counting() -> None:
    mgr = OsdPerfQueries()
    qid = mgr.add(RBD_QUERY)
    assert qid is not None
    osd = _osd_for(mgr)
    osd.record(WRITE)
    report = osd.take_report()
    assert mgr.remove(qid) == 0
    assert mgr.remove(qid) == -errno.ENOENT
    mgr.ingest(report)  # a report for a query removed meanwhile is dropped
    assert mgr.take_counters(qid) is None
    osd.set_queries(mgr.wire())
    assert not osd.active
    osd.record(WRITE)
    assert osd.take_report() == []


def test_sub_keys_of_each_kind() -> None:
    mgr = OsdPerfQueries()
    kinds = ("client_id", "client_address", "osd_id", "pg_id", "snap_id")
    qid = mgr.add({
        "key_descriptor": [{"type": k, "regex": "^(.*)$"} for k in kinds],
        "performance_counter_descriptors": ["ops", "bytes", "latency"],
    })  # fmt: skip
    osd = _osd_for(mgr)
    osd.record(replace(READ, snap_id=0x1F, osd_id=2))
    mgr.ingest(osd.take_report())
    (entry,) = mgr.take_counters(qid)["counters"]  # type: ignore[arg-type,index]
    assert entry["k"] == [["client.4100"], ["127.0.0.1:0/1"], ["2"], ["2.3"], ["1f"]]
    assert entry["c"] == [[1, 0], [8192, 0], [1_000_000, 1]]
