"""Object snapshots on a MemStore: SnapSet, copy-on-write clones, reads at a snap, rollback
and trimming (upstream make_writeable, find_object_context, _rollback_to, trim_object)."""

from __future__ import annotations

import errno

from pyceph.osd.ops import OI_ATTR, Limits, ObjectInfo, OpEnv, execute
from pyceph.osd.snaps import SS_ATTR, SnapSet, load_snapset, snap_context, snap_key, trim_txn
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import HEAD, SNAPDIR, ObjectKey

CID = "1.0_head"
K = ObjectKey("obj", pool=1, hash=7)


def store():
    s = MemStore()
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(CID))
    return s


class Runner:
    def __init__(self):
        self.s = store()
        self.v = 0

    def op(self, ops, data=b"", snapc=None, snapid=HEAD):
        self.v += 1
        env = OpEnv(now=1.0, snapc=snapc, snapid=snapid)
        res = execute(self.s, CID, K, ops, data, Limits(), (1, self.v), self.v, 1.0, env=env)
        if res.r == 0 and res.txn.ops:
            self.s.apply_transaction(res.txn)
        return res

    def write(self, data, snapc=None):
        return self.op([["write_full", {"dlen": len(data)}]], data, snapc=snapc)

    def read(self, snapid=HEAD):
        res = self.op([["read", {"offset": 0, "length": 0}]], snapid=snapid)
        return res.r, (res.outdata[0] if res.outdata else b"")

    def store_keys(self):
        return self.s.collection_list(CID, None, 100)[0]


def test_snapset_roundtrip_and_resolve():
    ss = SnapSet(5, [2, 4], {2: [2, 1], 4: [4, 3]}, {2: 10, 4: 20})
    assert SnapSet.decode(ss.encode()) == ss
    assert ss.resolve(HEAD, True) == HEAD
    assert ss.resolve(HEAD, False) is None
    assert ss.resolve(1, True) == 2 and ss.resolve(2, True) == 2
    assert ss.resolve(3, True) == 4 and ss.resolve(4, True) == 4
    assert ss.resolve(5, True) is None  # written at seq 5 with no clone: created after
    assert ss.resolve(6, True) == HEAD and ss.resolve(6, False) is None


def test_snap_context_filters_removed_and_uses_pool_snaps():
    class Pool:
        snap_seq = 4
        pool_snaps = {2: ("a", 0.0), 4: ("b", 0.0)}
        removed_snaps = [3]

        def is_pool_snaps_mode(self):
            return True

    assert snap_context(Pool(), None) == (4, [4, 2])
    Pool.is_pool_snaps_mode = lambda self: False  # type: ignore[method-assign]
    assert snap_context(Pool(), [3, [3, 1]]) == (3, [1])
    assert snap_context(Pool(), None) is None


def test_write_after_snap_clones_once():
    r = Runner()
    assert r.write(b"v1").r == 0
    assert load_snapset(r.s, CID, K)[0] is None  # no snaps: no SnapSet written
    assert r.write(b"v2", snapc=(2, [2])).r == 0
    assert r.write(b"v3", snapc=(2, [2])).r == 0  # second write under the same snap: no clone
    keys = r.store_keys()
    assert [k.snap for k in keys] == [2, HEAD]
    ss, on_snapdir = load_snapset(r.s, CID, K)
    assert not on_snapdir
    assert ss.seq == 2 and ss.clones == [2] and ss.clone_snaps == {2: [2]}
    assert ss.clone_size == {2: 2}
    assert r.s.read(CID, snap_key(K, 2)) == b"v1"
    # the clone carries no SnapSet of its own
    assert SS_ATTR not in r.s.getattrs(CID, snap_key(K, 2))
    assert r.read() == (0, b"v3")
    assert r.read(2) == (0, b"v1")
    assert r.read(1)[0] == -errno.ENOENT  # not a snap this clone serves
    assert r.read(3) == (0, b"v3")  # newer than the SnapSet: the head


def test_object_created_after_snap_is_enoent_there():
    r = Runner()
    r.write(b"new", snapc=(3, [3]))
    assert r.read(3)[0] == -errno.ENOENT
    assert r.read(4) == (0, b"new")
    assert [k.snap for k in r.store_keys()] == [HEAD]


def test_writes_at_a_snap_are_refused():
    r = Runner()
    r.write(b"x")
    res = r.op([["write_full", {"dlen": 1}]], b"y", snapid=2)
    assert res.r == -errno.EROFS


def test_delete_keeps_clones_on_a_snapdir():
    r = Runner()
    r.write(b"old")
    assert r.op([["setxattr", {"name": "a", "dlen": 1}]], b"A").r == 0
    assert r.op([["delete", {}]], snapc=(2, [2])).r == 0
    assert [k.snap for k in r.store_keys()] == [2, SNAPDIR]
    assert r.read()[0] == -errno.ENOENT
    assert r.op([["stat", {}]]).r == -errno.ENOENT
    assert r.read(2) == (0, b"old")
    res = r.op([["getxattr", {"name": "a"}]], snapid=2)
    assert res.r == 0 and res.outdata == [b"A"]
    ss, on_snapdir = load_snapset(r.s, CID, K)
    assert on_snapdir and ss.clones == [2]
    # recreating the head moves the SnapSet back onto it
    r.write(b"again", snapc=(2, [2]))
    assert [k.snap for k in r.store_keys()] == [2, HEAD]
    assert r.read() == (0, b"again") and r.read(2) == (0, b"old")


def test_several_snaps_and_clones():
    r = Runner()
    r.write(b"a")
    r.write(b"b", snapc=(1, [1]))
    r.write(b"c", snapc=(3, [3, 2, 1]))  # snaps 2 and 3 taken since: one clone serves both
    ss = load_snapset(r.s, CID, K)[0]
    assert ss.clones == [1, 3] and ss.clone_snaps == {1: [1], 3: [3, 2]}
    assert [r.read(i)[1] for i in (1, 2, 3, 4)] == [b"a", b"b", b"b", b"c"]


def test_rollback():
    r = Runner()
    r.write(b"one")
    r.op([["omap_set", {"kv": {"k": b"v1"}}]])
    r.write(b"two!", snapc=(2, [2]))
    r.op([["omap_set", {"kv": {"k": b"v2"}}]], snapc=(2, [2]))
    assert r.op([["rollback", {"snapid": 2}]], snapc=(2, [2])).r == 0
    assert r.read() == (0, b"one")
    res = r.op([["omap_get_vals_by_keys", {"keys": ["k"]}]])
    assert res.outs[0]["vals"] == [["k", b"v1"]]
    assert r.op([["stat", {}]]).outs[0]["size"] == 3
    # rolling back to a snap where the object did not exist deletes the head
    r2 = Runner()
    r2.write(b"x", snapc=(5, [5]))
    assert r2.op([["rollback", {"snapid": 5}]], snapc=(5, [5])).r == 0
    assert r2.read()[0] == -errno.ENOENT
    # rollback of a deleted object from its snapdir brings it back
    r3 = Runner()
    r3.write(b"keep")
    r3.op([["delete", {}]], snapc=(1, [1]))
    assert r3.op([["rollback", {"snapid": 1}]], snapc=(1, [1])).r == 0
    assert r3.read() == (0, b"keep")
    assert [k.snap for k in r3.store_keys()] == [1, HEAD]


def test_rollback_with_a_newer_snap_clones_first():
    r = Runner()
    r.write(b"s1")
    r.write(b"s2", snapc=(1, [1]))
    assert r.op([["rollback", {"snapid": 1}]], snapc=(2, [2, 1])).r == 0
    assert r.read() == (0, b"s1")
    assert r.read(2) == (0, b"s2")  # the state at snap 2 was preserved before the rollback


def test_list_snaps():
    r = Runner()
    r.write(b"a")
    r.write(b"bb", snapc=(1, [1]))
    res = r.op([["list_snaps", {}]])
    assert res.r == 0
    assert res.outs[0]["clones"] == [
        {"cloneid": 1, "snaps": [1], "size": 1, "overlap": []},  # the write covered it
        {"cloneid": HEAD, "snaps": [], "size": 2, "overlap": []},
    ]
    r.op([["delete", {}]], snapc=(1, [1]))
    res = r.op([["list_snaps", {}]])
    assert res.r == 0 and [c["cloneid"] for c in res.outs[0]["clones"]] == [1]
    assert Runner().op([["list_snaps", {}]]).r == -errno.ENOENT


def _stamp(b):
    oi = ObjectInfo.decode(b)
    oi.version = (9, 9)
    return oi.encode()


def test_trim_deletes_only_unneeded_clones():
    r = Runner()
    r.write(b"a")
    r.write(b"b", snapc=(1, [1]))
    r.write(b"c", snapc=(3, [3, 2, 1]))
    assert trim_txn(r.s, CID, K, {7}, OI_ATTR, _stamp) is None  # nothing to do
    t, gone = trim_txn(r.s, CID, K, {2}, OI_ATTR, _stamp)
    r.s.apply_transaction(t)
    assert not gone
    ss = load_snapset(r.s, CID, K)[0]
    assert ss.clones == [1, 3] and ss.clone_snaps[3] == [3]
    t, gone = trim_txn(r.s, CID, K, {1, 2}, OI_ATTR, _stamp)
    r.s.apply_transaction(t)
    assert [k.snap for k in r.store_keys()] == [3, HEAD]
    assert ObjectInfo.decode(r.s.getattr(CID, K, OI_ATTR)).version == (9, 9)
    assert r.read(1)[0] == -errno.ENOENT
    assert r.read(3) == (0, b"b")


def test_trim_of_a_deleted_object_removes_the_snapdir():
    r = Runner()
    r.write(b"a")
    r.op([["delete", {}]], snapc=(1, [1]))
    t, gone = trim_txn(r.s, CID, K, {1}, OI_ATTR, _stamp)
    r.s.apply_transaction(t)
    assert gone and r.store_keys() == []


def test_removed_snaps_get_no_new_clone():
    class Pool:
        removed_snaps = [2]

    r = Runner()
    r.write(b"a")
    snapc = snap_context(Pool(), [2, [2]])
    assert snapc == (2, [])
    r.write(b"b", snapc=snapc)
    assert [k.snap for k in r.store_keys()] == [HEAD]
    assert load_snapset(r.s, CID, K)[0].seq == 2
