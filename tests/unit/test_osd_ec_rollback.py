"""EC rollback data alone (upstream ObjectModDesc, PGBackend rollback/rollforward): a
shard transaction stashed with `ec_rollback.plan`, applied to a real MemStore, then
undone, leaves the store exactly as before; rolled forward, it leaves no stash. Also the
pure peering side: divergent entries with rollback data are undone in place, and the
authoritative log of an EC PG is the oldest that every newer shard can roll back to."""

from __future__ import annotations

import pytest

from pyceph.osd import ec_rollback
from pyceph.osd.ec_rollback import CommitTracker, is_stash
from pyceph.osd.peering import can_rollback_to, choose_ec_authoritative
from pyceph.osd.pglog import MODIFY, LogEntry, PGLog, diff_against_auth
from pyceph.osd.snaps import object_keys
from pyceph.osd.types import PGInfo
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

CID = "1.0s0_head"
HEAD_KEY = ObjectKey("obj", pool=1, hash=7)
CLONE_KEY = ObjectKey("obj", pool=1, hash=7, snap=4)
GEN = 12


def _store() -> MemStore:
    return MemStore.with_collections(CID)


def _with_object(data: bytes = b"0123456789" * 100) -> MemStore:
    s = _store()
    t = Transaction().touch(CID, HEAD_KEY).write(CID, HEAD_KEY, 0, data)
    t.setattrs(CID, HEAD_KEY, {"_": b"oi-v1", "_user": b"u1"})
    t.omap_setkeys(CID, HEAD_KEY, {"k": b"v"})
    s.apply_transaction(t)
    return s


def _snapshot(s: MemStore) -> dict:
    """Every object of the collection: data, attrs, omap (stash objects included)."""
    out = {}
    keys, _ = s.collection_list(CID, None, 1000)
    for k in keys:
        out[k] = (
            bytes(s.read(CID, k)),
            {n: bytes(v) for n, v in s.getattrs(CID, k).items()},
            [(n, bytes(v)) for n, v in s.omap_get_values(CID, k)],
        )
    return out


def _old(s: MemStore):
    def old(k: ObjectKey, attrs: bool):
        if not s.exists(CID, k):
            return False, 0, {}
        got = {n: bytes(v) for n, v in s.getattrs(CID, k).items()} if attrs else {}
        return True, s.stat(CID, k), got

    return old


def _apply_then_undo(s: MemStore, txn: Transaction) -> ec_rollback.RollbackInfo:
    before = _snapshot(s)
    stash, info = ec_rollback.plan(txn, CID, GEN, _old(s))
    s.apply_transaction(Transaction().append(stash).append(txn))
    assert _snapshot(s) != before, "the transaction changed nothing"
    # the stash travels through the log entry's wire form
    info = ec_rollback.RollbackInfo.from_wire(info.to_wire())
    s.apply_transaction(ec_rollback.undo(info, CID))
    assert _snapshot(s) == before
    return info


CASES = {
    "create": lambda: (
        Transaction()
        .touch(CID, ObjectKey("new", pool=1, hash=3))
        .write(CID, ObjectKey("new", pool=1, hash=3), 0, b"fresh")
    ),
    "append": lambda: Transaction().write(CID, HEAD_KEY, 1000, b"more" * 50),
    "write_full": lambda: (
        Transaction()
        .truncate(CID, HEAD_KEY, 0)
        .write(CID, HEAD_KEY, 0, b"x" * 300)
        .setattrs(CID, HEAD_KEY, {"_": b"oi-v2"})
    ),
    "delete": lambda: Transaction().remove(CID, HEAD_KEY),
    "setattrs": lambda: (
        Transaction()
        .setattrs(CID, HEAD_KEY, {"_": b"oi-v2", "_new": b"n"})
        .rmattr(CID, HEAD_KEY, "_user")
    ),
    "partial_overwrite": lambda: (
        Transaction().truncate(CID, HEAD_KEY, 512).write(CID, HEAD_KEY, 512, b"y" * 700)
    ),
    "shrink": lambda: Transaction().truncate(CID, HEAD_KEY, 100),
    "omap": lambda: Transaction().omap_setkeys(CID, HEAD_KEY, {"k2": b"v2"}),
    "clone_then_write": lambda: (
        Transaction()
        .clone(CID, HEAD_KEY, CLONE_KEY)
        .truncate(CID, HEAD_KEY, 0)
        .write(CID, HEAD_KEY, 0, b"z" * 10)
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_undo_restores_the_shard_exactly(case):
    s = _with_object()
    info = _apply_then_undo(s, CASES[case]())
    assert not any(is_stash(k) for k in _snapshot(s)), "undo leaves no stash"
    assert info.gen == GEN


def test_a_pure_append_stashes_no_data():
    s = _with_object()
    stash, info = ec_rollback.plan(CASES["append"](), CID, GEN, _old(s))
    assert stash.empty() and info.keys[0].stash_from is None and info.keys[0].lo == 1000


def test_partial_overwrite_stashes_only_the_overwritten_tail():
    s = _with_object()
    stash, info = ec_rollback.plan(CASES["partial_overwrite"](), CID, GEN, _old(s))
    s.apply_transaction(stash)
    g = ec_rollback.stash_key(HEAD_KEY, GEN)
    assert bytes(s.read(CID, g)) == (b"0123456789" * 100)[512:]


def test_rolled_forward_entry_leaves_the_new_state_and_no_stash():
    s = _with_object()
    txn = CASES["delete"]()
    stash, info = ec_rollback.plan(txn, CID, GEN, _old(s))
    s.apply_transaction(Transaction().append(stash).append(txn))
    assert any(is_stash(k) for k in _snapshot(s))
    s.apply_transaction(ec_rollback.forget(info, CID))
    assert _snapshot(s) == {}


def test_undo_newest_first_across_two_entries():
    s = _with_object()
    before = _snapshot(s)
    infos = []
    for gen, txn in ((20, CASES["partial_overwrite"]()), (21, CASES["write_full"]())):
        stash, info = ec_rollback.plan(txn, CID, gen, _old(s))
        s.apply_transaction(Transaction().append(stash).append(txn))
        infos.append(info)
    for info in reversed(infos):
        s.apply_transaction(ec_rollback.undo(info, CID))
    assert _snapshot(s) == before


def test_commit_tracker_advances_over_contiguous_commits_only():
    ct = CommitTracker((3, 1))
    for v in ((3, 2), (3, 3), (3, 4)):
        ct.submitted(v)
    ct.committed((3, 3))
    assert ct.to == (3, 1)
    ct.committed((3, 2))
    assert ct.to == (3, 3)
    ct.committed((3, 4))
    assert ct.to == (3, 4)
    ct.reset((4, 9))
    ct.committed((3, 5))  # from an old interval
    assert ct.to == (4, 9)


def _entry(v, prior, rollback=True, oid=("", "obj", "")):
    info = ec_rollback.RollbackInfo(v[1]) if rollback else None
    return LogEntry(MODIFY, oid, v, prior, None, v[1], 0, info)


def test_divergent_entries_with_rollback_data_are_undone_not_recovered():
    auth = PGLog((1, 0), [_entry((1, 1), (0, 0), False), _entry((1, 2), (1, 1), False)])
    peer = [
        _entry((1, 1), (0, 0), False),
        _entry((1, 2), (1, 1), False),
        _entry((1, 3), (1, 2)),
        _entry((1, 4), (1, 3)),
    ]
    d = diff_against_auth(auth, (1, 4), peer)
    assert d.rollback == [(1, 4), (1, 3)] and not d.missing and not d.deletes


def test_a_divergent_entry_without_rollback_data_makes_the_object_missing():
    auth = PGLog((1, 0), [_entry((1, 1), (0, 0), False)])
    peer = [_entry((1, 1), (0, 0), False), _entry((1, 2), (1, 1), False), _entry((1, 3), (1, 2))]
    d = diff_against_auth(auth, (1, 3), peer)
    assert d.rollback == [] and d.missing == {("", "obj", ""): (1, 1)}


def _info(lu, les=5):
    return PGInfo("1.0", last_update=lu, log_tail=(1, 0), last_epoch_started=les)


def test_ec_auth_is_the_oldest_log_every_newer_shard_can_roll_back_to():
    # k=2 m=1, shard 2 down: shard 0 applied 5'9, shard 1 did not
    infos = {0: _info((5, 9)), 1: _info((5, 8))}
    crt = {0: (5, 8), 1: (5, 7)}
    assert choose_ec_authoritative(infos, 0, 2, {0: 0, 1: 1}, crt) == 1
    # k=2 m=2: two shards past the oldest, both able to undo
    infos = {0: _info((5, 9)), 1: _info((5, 9)), 2: _info((5, 8)), 3: _info((5, 7))}
    crt = {0: (5, 6), 1: (5, 6), 2: (5, 6), 3: (5, 6)}
    assert choose_ec_authoritative(infos, 0, 2, {o: o for o in infos}, crt) == 3


def test_ec_auth_skips_a_log_some_shard_cannot_roll_back_to():
    infos = {0: _info((5, 9)), 1: _info((5, 9)), 2: _info((5, 8))}
    crt = {0: (5, 9), 1: (5, 8), 2: (5, 8)}  # osd.0 rolled 5'9 forward
    assert choose_ec_authoritative(infos, 2, 2, {0: 0, 1: 1, 2: 2}, crt) in (0, 1)


def test_can_rollback_to_is_the_newest_entry_without_rollback_data():
    entries = [_entry((1, 1), (0, 0), False), _entry((1, 2), (1, 1)), _entry((1, 3), (1, 2))]
    assert can_rollback_to((1, 0), entries) == (1, 1)
    assert can_rollback_to((1, 0), entries[1:]) == (1, 0)


def test_stash_objects_are_no_client_objects():
    s = _with_object()
    stats = s.collection_stats(CID)
    txn = CASES["partial_overwrite"]()
    stash, _info = ec_rollback.plan(txn, CID, GEN, _old(s))
    s.apply_transaction(Transaction().append(stash).append(txn))
    assert any(is_stash(k) for k in _snapshot(s))
    after = s.collection_stats(CID)
    assert (after.objects, after.clones) == (stats.objects, stats.clones)
    assert object_keys(s, CID, HEAD_KEY) == [HEAD_KEY]


def test_a_peer_log_starting_at_the_auth_head_rolls_back_from_there():
    # the auth (oldest last_update) ends at 1'4; the peer trimmed up to 1'4 and holds
    # 1'5..1'6 with rollback data: it undoes those, nothing is missing
    auth = PGLog((1, 2), [_entry((1, 3), (0, 0), False), _entry((1, 4), (1, 3), False)])
    peer = [_entry((1, 5), (1, 4)), _entry((1, 6), (1, 5), oid=("", "b", ""))]
    d = diff_against_auth(auth, (1, 6), peer, peer_tail=(1, 4))
    assert d.common == (1, 4) and d.rollback == [(1, 6), (1, 5)]
    assert not d.missing and not d.entries


def test_large_old_attrs_stash_the_whole_object_not_the_log_entry():
    s = _with_object()
    big = b"x" * (ec_rollback.MAX_INLINE_ATTR_BYTES + 1)
    s.apply_transaction(Transaction().setattrs(CID, HEAD_KEY, {"_big": big}))
    info = _apply_then_undo(s, Transaction().setattrs(CID, HEAD_KEY, {"_big": b"small"}))
    assert info.keys[0].whole and info.keys[0].attrs is None
