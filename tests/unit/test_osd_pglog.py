"""PG log: ordering, dup index, trimming, and the diff against an authoritative log."""

from __future__ import annotations

import pytest

from pyceph.osd.pglog import (
    DELETE,
    MODIFY,
    LogEntry,
    PGLog,
    choose_authoritative,
    diff_against_auth,
)
from pyceph.osd.types import PGInfo


def E(e, v, name, op=MODIFY, prior=(0, 0), tid=None):
    return LogEntry(op, ("", name, ""), (e, v), prior, ("client.a", 1, tid or v), v, 0)


def test_append_must_advance_and_reqids_are_indexed():
    log = PGLog()
    log.append(E(1, 1, "a"))
    log.append(E(1, 2, "b"))
    assert log.head == (1, 2)
    with pytest.raises(ValueError):
        log.append(E(1, 2, "c"))
    assert log.lookup_reqid(("client.a", 1, 2)) == ((1, 2), 2, 0)
    assert log.lookup_reqid(("client.a", 1, 9)) is None


def test_trim_moves_reqids_to_bounded_dups():
    log = PGLog(entries=[E(1, v, "o") for v in range(1, 11)])
    trimmed, evicted = log.trim((1, 6), dups_tracked=4)
    assert [e.version for e in trimmed] == [(1, v) for v in range(1, 7)]
    assert log.tail == (1, 6) and len(log) == 4
    assert [d.version for d in evicted] == [(1, 1), (1, 2)]
    assert log.lookup_reqid(("client.a", 1, 5)) == ((1, 5), 5, 0)  # from dups
    assert log.lookup_reqid(("client.a", 1, 1)) is None  # evicted


def test_calc_trim_to_respects_target_and_limit():
    log = PGLog(entries=[E(1, v, "o") for v in range(1, 11)])
    assert log.calc_trim_to((1, 10), 20) is None
    assert log.calc_trim_to((1, 10), 4) == (1, 6)
    assert log.calc_trim_to((1, 3), 4) == (1, 3)


def test_calc_trim_to_trims_in_batches_of_trim_min_at_most_trim_max():
    log = PGLog(entries=[E(1, v, "o") for v in range(1, 11)])
    assert log.calc_trim_to((1, 10), 4, trim_min=7) is None  # 6 due: wait for a batch
    assert log.calc_trim_to((1, 10), 4, trim_min=6) == (1, 6)
    assert log.calc_trim_to((1, 10), 4, trim_min=2, trim_max=3) == (1, 3)
    # a bound below the batch size wins (upstream: trim_max < trim_min trims anyway)
    assert log.calc_trim_to((1, 10), 8, trim_min=5, trim_max=2) == (1, 2)
    assert log.calc_trim_to((1, 2), 4, trim_min=6) == (1, 2)  # never past the limit


def test_diff_finds_missing_and_deletes_after_common_point():
    auth = PGLog(
        entries=[
            E(1, 1, "a"),
            E(1, 2, "b"),
            E(2, 3, "a", prior=(1, 1)),
            E(2, 4, "b", DELETE, prior=(1, 2)),
        ]
    )
    d = diff_against_auth(auth, (1, 2), [E(1, 1, "a"), E(1, 2, "b")])
    assert not d.backfill and d.common == (1, 2)
    assert d.missing == {("", "a", ""): (2, 3)}
    assert d.deletes == {("", "b", "")}
    assert [e.version for e in d.entries] == [(2, 3), (2, 4)]


def test_divergent_entries_are_rolled_back_to_prior_state():
    auth = PGLog(entries=[E(1, 1, "a"), E(1, 2, "b"), E(3, 3, "c")])
    peer = [E(1, 1, "a"), E(1, 2, "b"), E(2, 3, "a", prior=(1, 1)), E(2, 4, "new")]
    d = diff_against_auth(auth, (2, 4), peer)
    assert d.common == (1, 2)
    assert [e.version for e in d.divergent] == [(2, 3), (2, 4)]
    # "a" goes back to its 1'1 state; "new" did not exist; "c" is missing
    assert d.missing == {("", "a", ""): (1, 1), ("", "c", ""): (3, 3)}
    assert d.deletes == {("", "new", "")}


def test_peer_older_than_auth_tail_needs_backfill():
    auth = PGLog(entries=[E(1, v, "o") for v in range(1, 11)])
    auth.trim((1, 5), 100)
    d = diff_against_auth(auth, (1, 3), [E(1, 1, "o"), E(1, 2, "o"), E(1, 3, "o")])
    assert d.backfill
    assert [e.version for e in d.entries] == [(1, v) for v in range(6, 11)]


def test_newest_last_epoch_started_beats_longer_log():
    old = PGInfo("1.0", last_update=(5, 10), last_epoch_started=4)
    new = PGInfo("1.0", last_update=(5, 9), last_epoch_started=7)
    assert choose_authoritative({0: old, 1: new}, 0) == 1
    same = PGInfo("1.0", last_update=(5, 9), last_epoch_started=7)
    assert choose_authoritative({1: new, 2: same}, 2) == 2  # tie: the primary
