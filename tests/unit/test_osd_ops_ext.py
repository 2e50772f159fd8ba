"""The librados ops beyond plain data and xattrs (upstream do_osd_ops): omap, cmpext,
writesame, assert_version, object-class calls, FAILOK, watch/notify — on a MemStore, then
watch/notify and omap replication through in-process OSDs."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
from dataclasses import dataclass, field
from typing import Any

import msgpack
import pytest

from pyceph.cls.context import Origin
from pyceph.common.packing import CorruptRecord
from pyceph.osd.fakes import FakePool, InProcCluster
from pyceph.osd.ops import (
    FLAG_RETURNVEC,
    MAX_ERRNO,
    OP_FLAG_FAILOK,
    Limits,
    ObjectInfo,
    OpEnv,
    execute,
    load_oi,
)
from pyceph.osd.types import object_key, pg_cid
from pyceph.osd.watch import WatchRegistry
from pyceph.store.memstore import MemStore
from pyceph.store.transaction import Transaction
from pyceph.store.types import ObjectKey

CID = "1.0_head"
K = ObjectKey("obj", pool=1)


def store():
    s = MemStore()
    s.mkfs()
    s.mount()
    s.apply_transaction(Transaction().create_collection(CID))
    return s


def run(s, ops, data=b"", limits=None, v=(1, 1), env=None):
    res = execute(s, CID, K, ops, data, limits or Limits(), v, v[1], 1.0, env=env)
    if res.r == 0 and res.txn.ops:
        s.apply_transaction(res.txn)
    return res


def omap_set(s, **kv):
    return run(s, [["omap_set", {"kv": {k: v.encode() for k, v in kv.items()}}]])


# -- omap -----------------------------------------------------------------------------------
def test_omap_set_creates_the_object_and_reads_page():
    s = store()
    assert omap_set(s, a="1", b="2", c="3", d="4").r == 0
    assert run(s, [["stat", {}]]).outs[0]["size"] == 0
    r = run(s, [["omap_get_vals", {"start_after": "", "filter_prefix": "", "max_return": 2}]])
    assert r.outs[0]["vals"] == [["a", b"1"], ["b", b"2"]] and r.outs[0]["more"] is True
    r = run(s, [["omap_get_vals", {"start_after": "b", "filter_prefix": "", "max_return": 9}]])
    assert r.outs[0]["vals"] == [["c", b"3"], ["d", b"4"]] and r.outs[0]["more"] is False
    r = run(s, [["omap_get_keys", {"start_after": "a", "max_return": 2}]])
    assert r.outs[0] == {"r": 0, "keys": ["b", "c"], "more": True}
    r = run(s, [["omap_get_vals_by_keys", {"keys": ["d", "zz", "a"]}]])
    assert r.outs[0]["vals"] == [["a", b"1"], ["d", b"4"]]


def test_omap_prefix_and_request_cap():
    s = store()
    omap_set(s, ab="1", ac="2", b="3", aa="0")
    r = run(s, [["omap_get_vals", {"start_after": "aa", "filter_prefix": "a", "max_return": 9}]])
    assert r.outs[0]["vals"] == [["ab", b"1"], ["ac", b"2"]]
    lim = Limits(max_omap_entries=2)  # osd_max_omap_entries_per_request
    r = run(s, [["omap_get_keys", {"start_after": "", "max_return": 100}]], limits=lim)
    assert r.outs[0]["keys"] == ["aa", "ab"] and r.outs[0]["more"] is True


def test_omap_rm_clear_range_header():
    s = store()
    omap_set(s, k1="a", k2="b", k3="c", k4="d")
    assert run(s, [["omap_rm_keys", {"keys": ["k1", "nope"]}]]).r == 0
    assert run(s, [["omap_rm_range", {"key_begin": "k2", "key_end": "k4"}]]).r == 0
    r = run(s, [["omap_get_keys", {"start_after": "", "max_return": 10}]])
    assert r.outs[0]["keys"] == ["k4"]
    assert run(s, [["omap_set_header", {"dlen": 3}]], b"hdr").r == 0
    assert run(s, [["omap_get_header", {}]]).outdata == [b"hdr"]
    assert run(s, [["omap_clear", {}]]).r == 0
    r = run(s, [["omap_get_keys", {"start_after": "", "max_return": 10}], ["omap_get_header", {}]])
    assert r.outs[0]["keys"] == [] and r.outdata == [b""]


def test_omap_on_missing_object():
    s = store()
    for op in (
        ["omap_get_vals", {"start_after": "", "filter_prefix": "", "max_return": 1}],
        ["omap_get_keys", {"start_after": "", "max_return": 1}],
        ["omap_get_vals_by_keys", {"keys": ["a"]}],
        ["omap_rm_keys", {"keys": ["a"]}],
        ["omap_clear", {}],
        ["omap_rm_range", {"key_begin": "a", "key_end": "b"}],
        ["omap_cmp", {"key": "a", "val": b"", "op": 1}],
    ):
        assert run(s, [op]).r == -errno.ENOENT, op


def test_omap_cmp():
    s = store()
    omap_set(s, k="5")

    def cmp(val, op, key="k"):
        ops = [["omap_cmp", {"key": key, "val": val, "op": op}], ["omap_set", {"kv": {"x": b"1"}}]]
        return run(s, ops).r

    assert cmp(b"5", 1) == 0
    assert cmp(b"6", 1) == -errno.ECANCELED
    assert cmp(b"6", 5) == 0  # stored < given
    assert cmp(b"4", 5) == -errno.ECANCELED
    assert cmp(b"4", 3) == 0  # stored > given
    assert cmp(b"5", 2) == -errno.EINVAL  # NE is not an omap comparison
    assert cmp(b"", 1, key="missing") == 0  # a missing key compares as empty


def test_omap_is_unsupported_on_erasure_pools():
    s = store()
    env = OpEnv(supports_omap=False)
    assert run(s, [["omap_set", {"kv": {"a": b"1"}}]], env=env).r == -errno.EOPNOTSUPP
    run(s, [["write_full", {"dlen": 1}]], b"x")
    assert run(s, [["omap_clear", {}]], env=env).r == -errno.EOPNOTSUPP


def test_omap_past_store_limits_fails_alone():
    s = store()
    s.limits = dataclasses.replace(s.limits, max_omap_key_len=8)
    assert run(s, [["omap_set", {"kv": {"k" * 9: b"v"}}]]).r == -errno.ENAMETOOLONG
    assert run(s, [["stat", {}]]).r == -errno.ENOENT


# -- data ops ---------------------------------------------------------------------------------
def test_cmpext():
    s = store()
    run(s, [["write_full", {"dlen": 5}]], b"12345")
    assert run(s, [["cmpext", {"offset": 0, "dlen": 3}]], b"123").r == 0
    assert run(s, [["cmpext", {"offset": 1, "dlen": 3}]], b"2x4").r == -(MAX_ERRNO + 1)
    assert run(s, [["cmpext", {"offset": 3, "dlen": 4}]], b"45\0\0").r == 0  # zeros past EOF
    assert run(s, [["cmpext", {"offset": 3, "dlen": 3}]], b"45x").r == -(MAX_ERRNO + 2)
    ops = [["cmpext", {"offset": 0, "dlen": 1}], ["write_full", {"dlen": 1}]]
    assert run(s, ops, b"9z").r == -MAX_ERRNO
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"12345"]
    assert run(s, [["cmpext", {"offset": 0, "dlen": 1}]], b"1").r == 0
    s2 = store()  # a read vector needs the object
    assert run(s2, [["cmpext", {"offset": 0, "dlen": 1}]], b"\0").r == -errno.ENOENT


def test_writesame():
    s = store()
    assert run(s, [["writesame", {"offset": 2, "length": 6, "dlen": 2}]], b"ab").r == 0
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"\0\0ababab"]
    assert run(s, [["writesame", {"offset": 0, "length": 5, "dlen": 2}]], b"ab").r == (
        -errno.EINVAL
    )
    assert run(s, [["writesame", {"offset": 0, "length": 4, "dlen": 0}]]).r == -errno.EINVAL
    r = run(s, [["writesame", {"offset": 0, "length": 0, "dlen": 2}]], b"ab")
    assert r.r == 0 and not r.modified


def test_assert_version():
    s = store()
    run(s, [["write_full", {"dlen": 1}]], b"a", v=(1, 7))
    assert run(s, [["assert_version", {"ver": 7}]]).r == 0
    assert run(s, [["assert_version", {"ver": 6}]]).r == -errno.ERANGE
    assert run(s, [["assert_version", {"ver": 8}]]).r == -errno.EOVERFLOW
    assert run(s, [["assert_version", {"ver": 0}]]).r == -errno.EINVAL


def test_reads_see_earlier_writes_of_their_vector():
    s = store()
    ops = [
        ["write_full", {"dlen": 3}],
        ["setxattr", {"name": "a", "dlen": 1}],
        ["omap_set", {"kv": {"k": b"v"}}],
        ["read", {"offset": 0, "length": 0}],
        ["getxattr", {"name": "a"}],
        ["omap_get_vals_by_keys", {"keys": ["k"]}],
    ]
    r = run(s, ops, b"abcX", env=OpEnv(flags=FLAG_RETURNVEC))
    assert r.r == 0 and r.outdata == [b"abc", b"X"]
    assert r.outs[5]["vals"] == [["k", b"v"]]
    r = run(s, [["write_full", {"dlen": 1}], ["read", {"offset": 0, "length": 0}]], b"z")
    assert r.outdata == []  # without RETURNVEC a write returns no per-op output


def test_failok_lets_the_vector_go_on():
    s = store()
    ops = [
        ["rmxattr", {"name": "x", "flags": OP_FLAG_FAILOK}],
        ["write_full", {"dlen": 1}],
    ]
    r = run(s, ops, b"a")
    assert r.r == 0 and r.modified
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"a"]


def test_delete_then_recreate_in_one_vector():
    s = store()
    run(s, [["write_full", {"dlen": 3}], ["setxattr", {"name": "a", "dlen": 1}]], b"abc1")
    r = run(s, [["delete", {}], ["write_full", {"dlen": 1}]], b"z")
    assert r.r == 0 and r.exists
    assert run(s, [["getxattrs", {}]]).outs[0]["attrs"] == {}
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"z"]


# -- object classes ---------------------------------------------------------------------------
def test_call_hello():
    s = store()
    assert run(s, [["call", {"cls": "hello", "method": "say_hello"}]]).r == -errno.ENOENT
    r = run(s, [["call", {"cls": "hello", "method": "record_hello", "dlen": 3}]], b"you")
    assert r.r == 0 and r.modified and r.outdata == []
    assert run(s, [["read", {"offset": 0, "length": 0}]]).outdata == [b"Hello, you!"]
    r = run(s, [["call", {"cls": "hello", "method": "record_hello", "dlen": 3}]], b"two")
    assert r.r == -errno.EEXIST
    r = run(s, [["call", {"cls": "hello", "method": "say_hello", "dlen": 2}]], b"me")
    assert r.r == 0 and r.outdata == [b"Hello, me!"]
    r = run(s, [["call", {"cls": "hello", "method": "replay"}]])
    assert r.outdata == [b"Hello, you!"]
    assert run(s, [["call", {"cls": "hello", "method": "nope"}]]).r == -errno.EOPNOTSUPP
    # upstream: a class outside osd_class_load_list is EPERM (rados.PermissionError)
    assert run(s, [["call", {"cls": "nope", "method": "x"}]]).r == -errno.EPERM


def test_call_writes_see_the_vector():
    s = store()
    ops = [
        ["write_full", {"dlen": 1}],
        ["call", {"cls": "hello", "method": "record_hello", "dlen": 1}],
    ]
    assert run(s, ops, b"xy").r == -errno.EEXIST  # the method saw the earlier write
    assert run(s, [["stat", {}]]).r == -errno.ENOENT  # and nothing was applied


def test_is_write_classifies_calls_by_method_flags():
    from pyceph.osd.ops import is_write

    assert is_write([["call", {"cls": "hello", "method": "record_hello"}]])
    assert not is_write([["call", {"cls": "hello", "method": "say_hello"}]])
    assert not is_write([["call", {"cls": "nope", "method": "x"}]])
    assert is_write([["omap_set", {"kv": {}}]]) and not is_write([["omap_get_keys", {}]])
    # a watch or unwatch changes the object info's watcher records; a ping reads them
    assert is_write([["watch", {}]]) and is_write([["watch", {"op": "unwatch"}]])
    assert is_write([["watch", {"op": "reconnect"}]])
    assert not is_write([["watch", {"op": "ping"}], ["notify", {}], ["notify_ack", {}]])


def test_lock_class_keys_lockers_by_origin():
    from pyceph.cls.context import Origin

    s = store()
    run(s, [["write_full", {"dlen": 0}]])
    from pyceph.cls.lock import encode_input

    def lock(cookie, who):
        args = {"name": "l", "type": 1, "cookie": cookie, "tag": "", "description": ""}
        data = encode_input("lock", {**args, "duration": 0.0, "flags": 0})
        op = [["call", {"cls": "lock", "method": "lock", "dlen": len(data)}]]
        return run(s, op, data, env=OpEnv(origin=Origin(who, "1.2.3.4:0/1"))).r

    assert lock("c", "client.1") == 0
    assert lock("c", "client.1") == -errno.EEXIST
    assert lock("c", "client.2") == -errno.EBUSY


# -- watch ops --------------------------------------------------------------------------------
def test_watch_ops_validate_and_return_effects():
    s = store()
    assert run(s, [["watch", {"op": "watch", "cookie": 1}]]).r == -errno.ENOENT
    assert run(s, [["notify", {"timeout_ms": 1}]]).r == -errno.ENOENT
    assert run(s, [["list_watchers", {}]]).r == -errno.ENOENT
    r = run(s, [["notify_ack", {"notify_id": 1, "cookie": 1}]])  # no object needed
    assert r.r == 0 and r.effects[0][0] == "notify_ack"
    run(s, [["write_full", {"dlen": 0}]])
    mtime = load_oi(s, CID, K).mtime
    assert run(s, [["watch", {"op": "ping", "cookie": 7}]], env=OpEnv(gid=9)).r == -errno.ENOTCONN
    # a watch writes its record into the object info (upstream object_info_t::watchers)
    me = OpEnv(gid=9, origin=Origin("client.9", "a"), now=50.0)
    r = run(s, [["watch", {"op": "watch", "cookie": 7, "timeout": 5}]], v=(1, 2), env=me)
    assert r.r == 0 and r.modified and r.effects[0][0] == "watch"
    oi = load_oi(s, CID, K)
    assert oi.watchers == {(9, 7): (5, "a")} and oi.version == (1, 2) and oi.mtime == mtime
    # watching again changes nothing; the default timeout is the OSD's
    r = run(s, [["watch", {"op": "watch", "cookie": 7}]], v=(1, 3), env=me)
    assert r.r == 0 and not r.modified and r.effects[0][1]["timeout"] == 5
    r = run(
        s,
        [["watch", {"op": "watch", "cookie": 8}]],
        v=(1, 3),
        env=dataclasses.replace(me, watch_timeout=11),
    )
    assert r.modified and load_oi(s, CID, K).watchers[(9, 8)] == (11, "a")
    # a record whose connection this primary does not know: the client must reconnect
    ws = {(9, 7): {"connected": False}}
    r = run(s, [["watch", {"op": "ping", "cookie": 7}]], env=OpEnv(gid=9, watchers=ws))
    assert r.r == -errno.ETIMEDOUT
    r = run(s, [["watch", {"op": "ping", "cookie": 7}]], env=OpEnv(gid=9))
    assert r.r == -errno.ETIMEDOUT
    ws[(9, 7)]["connected"] = True
    assert run(s, [["watch", {"op": "ping", "cookie": 7}]], env=OpEnv(gid=9, watchers=ws)).r == 0
    # list_watchers reads the records
    r = run(s, [["list_watchers", {}]])
    assert r.outs[0]["watchers"] == [
        {"name": "client.9", "watcher_id": 9, "cookie": 7, "addr": "a", "timeout_seconds": 5},
        {"name": "client.9", "watcher_id": 9, "cookie": 8, "addr": "a", "timeout_seconds": 11},
    ]
    r = run(s, [["watch", {"op": "unwatch", "cookie": 8}]], v=(1, 4), env=me)
    assert r.modified and set(load_oi(s, CID, K).watchers) == {(9, 7)}
    r = run(s, [["watch", {"op": "unwatch", "cookie": 8}]], v=(1, 5), env=me)
    assert r.r == 0 and not r.modified
    assert run(s, [["watch", {"op": "bogus", "cookie": 8}]], env=me).r == -errno.EINVAL
    r = run(s, [["notify", {"timeout_ms": 1000, "dlen": 2}]], b"hi")
    assert r.effects == [("notify", 0, {"timeout_ms": 1000, "dlen": 2}, b"hi")]
    # a data write keeps the records; the delete takes them with the object
    run(s, [["write", {"off": 0, "dlen": 1}]], b"x", v=(1, 6))
    assert set(load_oi(s, CID, K).watchers) == {(9, 7)}
    assert run(s, [["delete", {}]]).effects == [("disconnect",)]


def test_object_info_watchers_round_trip_and_old_records_decode():
    oi = ObjectInfo(3, (2, 5), 4, 1.5, {(9, 7): (30, "1.2.3.4:0/5"), (1, 2): (5, "x")})
    assert ObjectInfo.decode(oi.encode()) == oi
    old = msgpack.packb([3, [2, 5], 4, 1.5])  # written before watchers were persisted
    assert ObjectInfo.decode(old) == ObjectInfo(3, (2, 5), 4, 1.5)
    with pytest.raises(CorruptRecord):
        ObjectInfo.decode(msgpack.packb([3, [2, 5], 4, 1.5, [[1, 2, 3]]]))


@dataclass
class FakePeer:
    global_id: int


@dataclass
class FakeConn:
    gid: int
    sent: list[tuple[str, dict[str, Any], bytes]] = field(default_factory=list)
    closed: bool = False
    peer_addr: tuple[str, int] = ("127.0.0.1", 5555)

    @property
    def peer(self) -> FakePeer:
        return FakePeer(self.gid)

    def send(self, mtype: str, head: dict[str, Any], data: bytes = b"") -> None:
        self.sent.append((mtype, dict(head), bytes(data)))


def test_watch_registry_notify_ack_timeout_and_disconnect():
    async def main():
        reg = WatchRegistry(1)
        oid = ("", "o", "")
        c1, c2 = FakeConn(1), FakeConn(2)
        reg.watch(oid, 1, 10, 30.0, "a1", c1, 0.0)
        reg.watch(oid, 2, 20, 30.0, "a2", c2, 0.0)
        n = reg.notify(oid, 5, b"hello", 1.0, 3)
        assert n is not None and n.notify_id >> 32 == 3
        assert c1.sent[0][0] == "watch_notify" and c1.sent[0][2] == b"hello"
        assert c1.sent[0][1]["notifier"] == 5 and c1.sent[0][1]["cookie"] == 10
        reg.ack(n.notify_id, 1, 10, b"r1", 0.5)
        assert not n.done.done()
        reg.ack(n.notify_id, 2, 20, b"r2", 0.5)
        assert n.done.done()
        assert n.result() == ([[1, 10, b"r1"], [2, 20, b"r2"]], [])
        reg.finish(n)
        # a disconnected watcher gets the notify when it reconnects
        c2.closed = True
        n2 = reg.notify(oid, 5, b"again", 1.0, 3)
        assert len(c2.sent) == 1
        c3 = FakeConn(2)
        reg.watch(oid, 2, 20, 30.0, "a2", c3, 1.0)
        assert c3.sent[0][2] == b"again"
        reg.ack(n2.notify_id, 1, 10, b"", 1.0)
        assert n2.result() == ([[1, 10, b""]], [[2, 20]])  # still pending: a timeout
        reg.finish(n2)
        # silent watchers are reaped; deleting the object ends the others with ENOTCONN
        reg.ping(oid, 2, 20, 20.0)
        expired = reg.expired(31.5)
        assert [(w.gid, w.cookie) for w in expired] == [(1, 10)]
        reg.unwatch(oid, 1, 10)  # the PG removes the record first (a write), then this
        assert set(reg.watchers[oid]) == {(2, 20)}
        reg.disconnect_object(oid)
        assert c3.sent[-1][1] == {"event": "disconnect", "cookie": 20, "err": -errno.ENOTCONN}
        assert not reg

    asyncio.run(main())


def test_watch_registry_restores_records_as_disconnected_watchers():
    """A new primary's view (upstream populate_obc_watchers): the records come back
    disconnected; a notify waits for them and they get it when they reconnect; one that
    never comes back times out of the notify, then expires."""

    async def main():
        reg = WatchRegistry(1)
        oid = ("", "o", "")
        c1 = FakeConn(1)
        reg.watch(oid, 1, 10, 30.0, "a1", c1, 0.0)  # reconnected already
        records = {(1, 10): (30, "a1"), (2, 20): (5, "a2")}
        assert reg.restore(oid, records, 100.0) == 1
        assert reg.restore(oid, records, 101.0) == 0  # idempotent
        assert reg.view(oid)[(2, 20)] == {"addr": "a2", "timeout_seconds": 5, "connected": False}
        assert reg.view(oid)[(1, 10)]["connected"]
        n = reg.notify(oid, 5, b"hi", 10.0, 3)
        assert n.pending == {(1, 10), (2, 20)}
        reg.ack(n.notify_id, 1, 10, b"r1", 100.5)
        assert not n.done.done()  # still waiting for the disconnected one
        c2 = FakeConn(2)
        reg.watch(oid, 2, 20, 5.0, "a2", c2, 101.0)  # its reconnect: the notify is re-sent
        assert c2.sent[0][1]["notify_id"] == n.notify_id and c2.sent[0][2] == b"hi"
        reg.ack(n.notify_id, 2, 20, b"r2", 101.5)
        assert n.done.done() and n.result() == ([[1, 10, b"r1"], [2, 20, b"r2"]], [])
        reg.finish(n)
        # one that never reconnects: the notify lists it, then its timeout expires it
        reg.restore(oid, {(3, 30): (5, "a3")}, 102.0)
        n = reg.notify(oid, 5, b"x", 1.0, 3)
        reg.ack(n.notify_id, 1, 10, b"", 102.0)
        reg.ack(n.notify_id, 2, 20, b"", 102.0)
        assert n.result() == ([[1, 10, b""], [2, 20, b""]], [[3, 30]])
        reg.finish(n)
        assert reg.expired(106.5) == []
        reg.ping(oid, 1, 10, 107.0)
        reg.ping(oid, 2, 20, 107.0)
        assert [(w.gid, w.cookie) for w in reg.expired(107.5)] == [(3, 30)]
        # a blocklisted client leaves its notifies at once and expires at the next pass
        n = reg.notify(oid, 5, b"y", 10.0, 3)
        assert reg.drop_blocklisted(lambda addr: addr == "a2") == 1
        assert n.pending == {(1, 10), (3, 30)}
        assert {(w.gid, w.cookie) for w in reg.expired(107.5)} == {(2, 20), (3, 30)}
        assert reg.drop_blocklisted(lambda addr: addr == "a2") == 0

    asyncio.run(main())


def _head(c: InProcCluster, name: str, ops: list[Any]) -> dict[str, Any]:
    c.tid += 1
    return {
        "tid": c.tid,
        "reqid": ["client.test", c.client_nonce, c.tid],
        "epoch": c.map.epoch,
        "pool": 1,
        "ps": c.locate(1, name),
        "oid": name,
        "nspace": "",
        "key": "",
        "ops": ops,
    }


async def _op(c: InProcCluster, name: str, ops: list[Any], data: bytes = b"", conn=None):
    _u, _p, _a, primary = c.map.pg_to_up_acting_osds(1, c.locate(1, name))
    osd = c.running[primary]
    h, d = await osd.handle("client.test", "osd_op", _head(c, name, ops), data, None, conn)
    return h, bytes(d)


def test_a_write_that_changes_nothing_is_answered_like_a_read():
    """A watch the object info already records (a client re-sending its watch) writes
    nothing: no PG log entry, the object's own version in the reply (upstream execute_ctx
    on an empty transaction); a failed write still logs its error for dup detection."""

    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        h, _ = await c.op(1, "obj", [["write_full", {"dlen": 1}]], b"x")
        assert h["r"] == 0
        w1 = FakeConn(101)
        watch = {"op": "watch", "cookie": 1, "timeout": 30}
        first, _ = await _op(c, "obj", [["watch", watch]], conn=w1)
        assert first["r"] == 0
        _u, _p, _a, primary = c.map.pg_to_up_acting_osds(1, 0)
        pg = c.running[primary].pgs[(1, 0)]
        head = pg.log.head
        again, _ = await _op(c, "obj", [["watch", watch]], conn=w1)
        assert again["r"] == 0 and again["version"] == first["version"]
        assert pg.log.head == head
        gone = {"op": "reconnect", "cookie": 9}  # no such record
        bad, _ = await _op(c, "obj", [["watch", gone]], conn=w1)
        assert bad["r"] == -errno.ENOTCONN
        assert pg.log.head > head  # the error is logged
        await c.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_notify_through_the_pg():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=4)})
        await c.start()
        await c.wait_clean()
        h, _ = await c.op(1, "obj", [["write_full", {"dlen": 1}]], b"x")
        assert h["r"] == 0
        w1, w2 = FakeConn(101), FakeConn(102)
        for conn, cookie in ((w1, 1), (w2, 2)):
            h, _ = await _op(c, "obj", [["watch", {"op": "watch", "cookie": cookie}]], conn=conn)
            assert h["r"] == 0
        h, _ = await _op(c, "obj", [["list_watchers", {}]])
        assert [w["watcher_id"] for w in h["ops"][0]["watchers"]] == [101, 102]

        async def answer(conn, cookie, reply):
            while not conn.sent:
                await asyncio.sleep(0.001)
            _t, head, data = conn.sent.pop()
            ack = {"notify_id": head["notify_id"], "cookie": cookie, "dlen": len(reply)}
            await _op(c, "obj", [["notify_ack", ack]], reply, conn=conn)
            return data

        notifier = FakeConn(200)
        notify = asyncio.ensure_future(
            _op(c, "obj", [["notify", {"timeout_ms": 5000, "dlen": 4}]], b"ping", notifier)
        )
        got = await asyncio.gather(answer(w1, 1, b"a1"), answer(w2, 2, b"a2"))
        assert got == [b"ping", b"ping"]
        h, _ = await notify
        assert h["r"] == 0
        assert h["ops"][0]["acks"] == [[101, 1, b"a1"], [102, 2, b"a2"]]
        assert h["ops"][0]["timeouts"] == []
        # an unanswered notify times out with the silent watcher listed
        h, _ = await _op(c, "obj", [["notify", {"timeout_ms": 1000, "dlen": 1}]], b"?", notifier)
        assert h["r"] == -errno.ETIMEDOUT
        assert h["ops"][0]["timeouts"] == [[101, 1], [102, 2]]
        # unwatch one; delete the object: the other gets -ENOTCONN
        w1.sent.clear()
        w2.sent.clear()
        h, _ = await _op(c, "obj", [["watch", {"op": "unwatch", "cookie": 1}]], conn=w1)
        assert h["r"] == 0
        h, _ = await c.op(1, "obj", [["delete", {}]])
        assert h["r"] == 0
        assert w1.sent == []
        assert w2.sent == [("watch_notify", {"event": "disconnect", "cookie": 2, "err": -107}, b"")]
        h, _ = await _op(c, "obj", [["notify", {"timeout_ms": 1000}]], conn=notifier)
        assert h["r"] == -errno.ENOENT
        await c.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_watchers_survive_a_primary_change():
    """Watch records are replicated writes; a new primary restores them as disconnected
    watchers: a notify waits for them, the one that reconnects gets it, the one that never
    does is listed in the timeouts and, at its watch timeout, its record is removed on
    every replica; a blocklisted client's record goes at once (upstream
    populate_obc_watchers / check_blocklisted_obc_watchers / handle_watch_timeout)."""

    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        assert (await c.op(1, "obj", [["write_full", {"dlen": 1}]], b"x"))[0]["r"] == 0
        w1, w2 = FakeConn(101), FakeConn(102)
        w3 = FakeConn(103)  # a client the new map blocklists (its address nonce: 7)
        for conn, cookie, timeout, nonce in ((w1, 1, 30, 1), (w2, 2, 2, 1), (w3, 3, 30, 7)):
            c.client_nonce = nonce
            watch = {"op": "watch", "cookie": cookie, "timeout": timeout}
            assert (await _op(c, "obj", [["watch", watch]], conn=conn))[0]["r"] == 0
        c.client_nonce = 1
        key = object_key(1, ("", "obj", ""))
        for s in c.stores.values():
            assert set(load_oi(s, pg_cid(1, 0), key).watchers) == {(101, 1), (102, 2), (103, 3)}
        _u, _p, _acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        await c.kill(primary)
        await c.wait_active()
        m = c.map.next()
        m.blocklist = {"127.0.0.1:0/7": 0.0}
        c.publish(m)
        h, _ = await c.op(1, "obj", [["list_watchers", {}]])
        assert [w["watcher_id"] for w in h["ops"][0]["watchers"]] == [101, 102, 103]

        notifier = FakeConn(200)
        notify = asyncio.ensure_future(
            _op(c, "obj", [["notify", {"timeout_ms": 1000, "dlen": 2}]], b"hi", notifier)
        )
        # the client's ping finds its watch disconnected, so it reconnects
        w1 = FakeConn(101)
        ping = {"op": "ping", "cookie": 1}
        assert (await _op(c, "obj", [["watch", ping]], conn=w1))[0]["r"] == -errno.ETIMEDOUT
        assert (await _op(c, "obj", [["watch", {**ping, "op": "reconnect"}]], conn=w1))[0]["r"] == 0
        assert (await _op(c, "obj", [["watch", ping]], conn=w1))[0]["r"] == 0
        deadline = asyncio.get_running_loop().time() + 10
        while not w1.sent:  # the notify reaches the reconnected watcher
            assert asyncio.get_running_loop().time() < deadline, "no notify after reconnect"
            await asyncio.sleep(0.01)
        _t, head, data = w1.sent[0]
        assert data == b"hi"
        ack = {"notify_id": head["notify_id"], "cookie": 1, "dlen": 2}
        await _op(c, "obj", [["notify_ack", ack]], b"ok", conn=w1)
        h, _ = await notify
        assert h["r"] == -errno.ETIMEDOUT
        assert h["ops"][0]["acks"] == [[101, 1, b"ok"]]
        assert h["ops"][0]["timeouts"] == [[102, 2]]
        # the silent watcher's timeout removes its record, on every replica
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            h, _ = await c.op(1, "obj", [["list_watchers", {}]])
            if [w["watcher_id"] for w in h["ops"][0]["watchers"]] == [101]:
                break
            assert asyncio.get_running_loop().time() < deadline, "the watch never timed out"
            await asyncio.sleep(0.05)
        for i in c.running:
            assert set(load_oi(c.stores[i], pg_cid(1, 0), key).watchers) == {(101, 1)}
        # its client comes back too late: the watch is over, it is not registered again
        # (upstream -ENOTCONN: the application must watch anew, knowing it missed notifies)
        back = {"op": "reconnect", "cookie": 2}
        assert (await _op(c, "obj", [["watch", back]], conn=w2))[0]["r"] == -errno.ENOTCONN
        ping = {**back, "op": "ping"}
        assert (await _op(c, "obj", [["watch", ping]], conn=w2))[0]["r"] == -errno.ENOTCONN
        h, _ = await c.op(1, "obj", [["list_watchers", {}]])
        assert [w["watcher_id"] for w in h["ops"][0]["watchers"]] == [101]
        await c.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_omap_is_replicated_and_recovered():
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1, size=3, min_size=2)})
        await c.start()
        await c.wait_clean()
        h, _ = await c.op(1, "om", [["omap_set", {"kv": {"a": b"1", "b": b"2"}}]])
        assert h["r"] == 0
        key = object_key(1, ("", "om", ""))
        for s in c.stores.values():
            assert dict(s.omap_get_values(pg_cid(1, 0), key)) == {"a": b"1", "b": b"2"}
        # a replica misses writes while down and gets the omap back by recovery
        _u, _p, acting, primary = c.map.pg_to_up_acting_osds(1, 0)
        victim = next(o for o in acting if o != primary)
        await c.kill(victim)
        await c.wait_active()
        h, _ = await c.op(1, "om", [["omap_rm_keys", {"keys": ["a"]}]])
        assert h["r"] == 0
        h, _ = await c.op(1, "om", [["omap_set", {"kv": {"c": b"3"}}]])
        assert h["r"] == 0
        await c.revive(victim)
        await c.wait_clean()
        s = c.stores[victim]
        assert dict(s.omap_get_values(pg_cid(1, 0), key)) == {"b": b"2", "c": b"3"}
        await c.stop()

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("method", ["say_hello", "record_hello"])
def test_call_through_the_pg(method):
    async def main():
        c = InProcCluster(3, {1: FakePool(pg_num=1)})
        await c.start()
        await c.wait_clean()
        if method == "say_hello":
            await c.op(1, "h", [["write_full", {"dlen": 0}]])
        h, d = await c.op(1, "h", [["call", {"cls": "hello", "method": method, "dlen": 1}]], b"x")
        assert h["r"] == 0
        if method == "say_hello":
            assert d == b"Hello, x!"
        else:
            assert d == b""
            for i, s in c.stores.items():
                assert s.read(pg_cid(1, 0), object_key(1, ("", "h", ""))) == b"Hello, x!", i
        await c.stop()

    asyncio.run(asyncio.wait_for(main(), 60))
