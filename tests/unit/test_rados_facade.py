"""The `rados` facade without a cluster: errors, constants, state, types, config, aio.

Object I/O runs against `FakeCore`, an in-memory stand-in for RadosClient used only
by these unit tests.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import json
import pickle
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

import rados
from pyceph.common.errors import CephError
from rados import _core as rados_core
from rados import _handle

# -- an in-memory async core ------------------------------------------------------------


@dataclass
class _Out:
    r: int
    fields: dict[str, Any] = field(default_factory=dict)
    data: bytes = b""


@dataclass
class _Res:
    r: int
    version: int
    outs: list[_Out]


@dataclass
class _Pool:
    pool_id: int
    pool_name: str
    type: int = 1
    flags: int = 1
    stripe_width: int = 0
    application_metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    pool_snaps: dict[int, tuple[str, float]] = field(default_factory=dict)


class _Map:
    def __init__(self) -> None:
        self.epoch = 1
        self.pools: dict[int, _Pool] = {}

    def lookup_pool(self, name: str) -> int:
        for pid, p in self.pools.items():
            if p.pool_name == name:
                return pid
        return -1

    def get_pool(self, pid: int) -> _Pool | None:
        return self.pools.get(pid)


class _Obj:
    def __init__(self) -> None:
        self.data = bytearray()
        self.xattrs: dict[str, bytes] = {}
        self.omap: dict[str, bytes] = {}
        self.mtime = 0.0


class FakeCore:
    """Implements the RadosClient surface the facade uses, in memory."""

    instances: list[FakeCore] = []

    def __init__(self, config: Any) -> None:
        self.config = config
        self.osdmap = _Map()
        self.osdmap.pools[1] = _Pool(1, "rbd")
        self.objects: dict[tuple[int, str, str], _Obj] = {}
        self.version = 0
        self.fsid = "11111111-2222-3333-4444-555555555555"
        self.instance_id = 4242
        self.gate: asyncio.Event | None = None
        self.log: list[str] = []
        self.op_threads: set[str] = set()
        FakeCore.instances.append(self)

    async def connect(self, timeout: float = 0) -> None:
        if str(self.config.get("key") or "") == "bad":
            raise CephError(errno.EACCES, "auth failed")
        self.gate = asyncio.Event()
        self.gate.set()

    async def shutdown(self) -> None:
        self.log.append("shutdown")

    async def wait_for_latest_osdmap(self, timeout: float = 0) -> None:
        return None

    async def mon_command(
        self, cmd: str, inbuf: bytes = b"", timeout: float = 0, target: Any = None
    ) -> tuple[int, bytes, str]:
        c = json.loads(cmd)
        p = c.get("prefix")
        if p == "osd pool create":
            name = c["pool"]
            if self.osdmap.lookup_pool(name) >= 0:
                return 0, b"", f"pool '{name}' already exists"
            pid = max(self.osdmap.pools, default=0) + 1
            self.osdmap.pools[pid] = _Pool(pid, name)
            return 0, b"", f"pool '{name}' created"
        if p == "osd pool delete":
            if not c.get("yes_i_really_really_mean_it"):
                return -errno.EPERM, b"", "refused"
            pid = self.osdmap.lookup_pool(c["pool"])
            self.osdmap.pools.pop(pid, None)
            return 0, b"", f"pool '{c['pool']}' removed"
        return -errno.EINVAL, b"", f"unknown command {p}"

    async def pool_snap_create(self, pool_id: int, name: str) -> None:
        snaps = self.osdmap.pools[pool_id].pool_snaps
        if any(n == name for n, _ in snaps.values()):
            raise CephError(errno.EEXIST, f"snap {name} exists")
        snaps[len(snaps) + 1] = (name, time.time())

    async def pool_snap_remove(self, pool_id: int, name: str) -> None:
        snaps = self.osdmap.pools[pool_id].pool_snaps
        sid = next((i for i, (n, _) in snaps.items() if n == name), None)
        if sid is None:
            raise CephError(errno.ENOENT, f"snap {name} does not exist")
        del snaps[sid]

    async def mgr_command(self, cmd: str, inbuf: bytes = b"", timeout: float = 0, target=None):
        return -errno.EINVAL, b"", "no mgr"

    async def osd_command(self, osd: int, cmd: str, inbuf: bytes = b"", timeout: float = 0):
        return 0, b'{"osd": %d}' % osd, ""

    async def get_cluster_stats(self) -> dict[str, int]:
        return {"kb": 100, "kb_used": 1, "kb_avail": 99, "num_objects": len(self.objects)}

    async def pool_stats(self, pool_id: int) -> dict[str, int]:
        return {"num_objects": sum(1 for k in self.objects if k[0] == pool_id)}

    async def list_objects(self, pool_id: int, nspace: str | None):
        for pid, ns, oid in sorted(self.objects):
            if pid == pool_id and (nspace is None or ns == nspace):
                yield ns, oid, ""

    async def op(
        self, pool_id, oid, ops, *, nspace="", key="", snapid=0, snapc=None, flags=0, timeout=0
    ):
        self.op_threads.add(threading.current_thread().name)
        assert self.gate is not None
        await self.gate.wait()
        if pool_id not in self.osdmap.pools:
            raise CephError(errno.ENOENT, "no pool")
        k = (pool_id, nspace, oid)
        obj = self.objects.get(k)
        outs: list[_Out] = []
        wrote = False
        for name, args, data in ops:
            self.log.append(f"{name}:{oid}")
            if name in (
                "write",
                "write_full",
                "append",
                "create",
                "setxattr",
                "truncate",
                "zero",
                "writesame",
                "omap_set",
                "omap_clear",
                "omap_rm_keys",
            ):
                if obj is None:
                    if name == "create" or name not in ("truncate",):
                        obj = _Obj()
                    else:
                        return _Res(-errno.ENOENT, 0, [])
                wrote = True
            elif obj is None:
                r = -errno.ENOENT
                return _Res(r, 0, outs + [_Out(r)])
            o: _Out = _Out(0)
            if name == "write":
                off = args["offset"]
                if len(obj.data) < off:
                    obj.data.extend(b"\0" * (off - len(obj.data)))
                obj.data[off : off + len(data)] = data
            elif name == "write_full":
                obj.data = bytearray(data)
            elif name == "append":
                obj.data.extend(data)
            elif name == "truncate":
                del obj.data[args["size"] :]
            elif name == "zero":
                obj.data[args["offset"] : args["offset"] + args["length"]] = bytes(args["length"])
            elif name == "read":
                ln = args["length"] or len(obj.data)
                o.data = bytes(obj.data[args["offset"] : args["offset"] + ln])
            elif name == "stat":
                o.fields = {"size": len(obj.data), "mtime": obj.mtime}
            elif name == "delete":
                self.objects.pop(k, None)
                obj = None
                wrote = False
            elif name == "setxattr":
                obj.xattrs[args["name"]] = data
            elif name == "getxattr":
                if args["name"] not in obj.xattrs:
                    return _Res(-errno.ENODATA, 0, [_Out(-errno.ENODATA)])
                o.data = obj.xattrs[args["name"]]
            elif name == "getxattrs":
                o.fields = {"attrs": dict(obj.xattrs)}
            elif name == "rmxattr":
                obj.xattrs.pop(args["name"], None)
                wrote = True
            elif name == "cmpext":
                cur = bytes(obj.data[args["offset"] : args["offset"] + len(data)])
                for i, b in enumerate(data):
                    if i >= len(cur) or cur[i] != b:
                        return _Res(-rados.MAX_ERRNO - i, 0, [_Out(-rados.MAX_ERRNO - i)])
            elif name == "omap_set":
                obj.omap.update(args["kv"])
            elif name == "omap_get_vals":
                items = sorted(
                    (kk, vv)
                    for kk, vv in obj.omap.items()
                    if kk > args["start_after"] and kk.startswith(args["filter_prefix"])
                )
                o.fields = {"vals": [list(x) for x in items[: args["max_return"]]]}
            elif name == "omap_get_keys":
                keys = sorted(kk for kk in obj.omap if kk > args["start_after"])
                o.fields = {"keys": keys[: args["max_return"]]}
            elif name == "omap_get_vals_by_keys":
                o.fields = {"vals": [[kk, obj.omap[kk]] for kk in args["keys"] if kk in obj.omap]}
            elif name == "omap_clear":
                obj.omap.clear()
            elif name == "call":
                if (args["cls"], args["method"]) != ("hello", "say_hello"):
                    return _Res(-errno.EOPNOTSUPP, 0, [_Out(-errno.EOPNOTSUPP)])
                o.data = b"Hello, " + (data or b"world") + b"!"
            outs.append(o)
        if wrote and obj is not None:
            obj.mtime = time.time()
            self.objects[k] = obj
        self.version += 1
        return _Res(0, self.version, outs)


@pytest.fixture
def fake(monkeypatch):
    FakeCore.instances.clear()
    monkeypatch.setattr(_handle, "client_factory", FakeCore)
    yield FakeCore


@pytest.fixture
def cluster(fake):
    r = rados.Rados(conf={"key": "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="})
    r.connect()
    yield r
    r.shutdown()


@pytest.fixture
def ioctx(cluster):
    io = cluster.open_ioctx("rbd")
    yield io
    io.close()


# -- exceptions -----------------------------------------------------------------------------

ERRNO_TABLE = {
    1: "PermissionError",
    2: "ObjectNotFound",
    4: "InterruptedOrTimeoutError",
    5: "IOError",
    13: "PermissionDeniedError",
    16: "ObjectBusy",
    17: "ObjectExists",
    22: "InvalidArgumentError",
    28: "NoSpace",
    61: "NoData",
    106: "IsConnected",
    107: "NotConnected",
    108: "ConnectionShutdown",
    110: "TimedOut",
    115: "InProgress",
}


@pytest.mark.parametrize("err,name", sorted(ERRNO_TABLE.items()))
def test_make_ex_maps_every_errno(err, name):
    for ret in (err, -err):
        e = rados.make_ex(ret, "msg")
        assert type(e) is getattr(rados, name)
        assert e.errno == err
        assert isinstance(e, rados.Error)
        assert str(e).startswith(f"[errno {err}] ")
        assert str(e).endswith("(msg)")


def test_exception_str_format_and_hierarchy():
    e = rados.make_ex(-2, "error calling conf_set")
    assert str(e) == "[errno 2] RADOS object not found (error calling conf_set)"
    assert e.args[0] == "RADOS object not found (error calling conf_set)"
    assert not isinstance(e, OSError)  # the builtin
    assert isinstance(e, rados.OSError)
    assert rados.OSError is not OSError
    assert not issubclass(rados.IOError, IOError)
    assert not issubclass(rados.PermissionError, PermissionError)
    for name in (
        "InvalidArgumentError",
        "InProgress",
        "IsConnected",
        "RadosStateError",
        "IoctxStateError",
        "ObjectStateError",
        "LogicError",
        "ExtendMismatch",
    ):
        assert getattr(rados, name).__bases__ == (rados.Error,), name
    assert rados.OSError.__bases__ == (rados.Error,)
    assert rados.Error.__bases__ == (Exception,)
    assert str(rados.Error("MSG", errno=5)) == "[errno 5] MSG"
    assert str(rados.Error("MSG")) == "MSG"
    assert str(rados.RadosStateError("x")) == "RADOS rados state (x)"


def test_unmapped_errno_and_extend_mismatch():
    e = rados.make_ex(-errno.ECANCELED, "m")
    assert type(e) is rados.OSError and e.errno == errno.ECANCELED
    assert str(e) == "[errno 125] m"
    e = rados.make_ex(-(rados.MAX_ERRNO + 3), "cmp")
    assert type(e) is rados.ExtendMismatch
    assert e.offset == 3 and e.errno == rados.MAX_ERRNO + 3
    assert str(e) == "[errno 4098] object content does not match (cmp)"
    assert type(rados.make_ex(rados.MAX_ERRNO, "m")) is rados.OSError


def test_exceptions_do_not_pickle():
    with pytest.raises(AttributeError):
        pickle.dumps(rados.ObjectNotFound("x", errno=2))


# -- constants ------------------------------------------------------------------------------


def test_constants():
    spec = {
        "ADMIN_AUID": 0,
        "ANONYMOUS_AUID": 2**64 - 1,
        "LIBRADOS_ALL_NSPACES": "\x01",
        "LIBRADOS_CMPXATTR_OP_EQ": 1,
        "LIBRADOS_CMPXATTR_OP_NE": 2,
        "LIBRADOS_CMPXATTR_OP_GT": 3,
        "LIBRADOS_CMPXATTR_OP_GTE": 4,
        "LIBRADOS_CMPXATTR_OP_LT": 5,
        "LIBRADOS_CMPXATTR_OP_LTE": 6,
        "LIBRADOS_CREATE_EXCLUSIVE": 1,
        "LIBRADOS_CREATE_IDEMPOTENT": 0,
        "LIBRADOS_OPERATION_NOFLAG": 0,
        "LIBRADOS_OPERATION_BALANCE_READS": 1,
        "LIBRADOS_OPERATION_LOCALIZE_READS": 2,
        "LIBRADOS_OPERATION_ORDER_READS_WRITES": 4,
        "LIBRADOS_OPERATION_IGNORE_CACHE": 8,
        "LIBRADOS_OPERATION_SKIPRWLOCKS": 16,
        "LIBRADOS_OPERATION_IGNORE_OVERLAY": 32,
        "LIBRADOS_OP_FLAG_EXCL": 1,
        "LIBRADOS_OP_FLAG_FAILOK": 2,
        "LIBRADOS_OP_FLAG_FADVISE_RANDOM": 4,
        "LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL": 8,
        "LIBRADOS_OP_FLAG_FADVISE_WILLNEED": 16,
        "LIBRADOS_OP_FLAG_FADVISE_DONTNEED": 32,
        "LIBRADOS_OP_FLAG_FADVISE_NOCACHE": 64,
        "LIBRADOS_SNAP_HEAD": 2**64 - 2,
        "MAX_ERRNO": 4095,
        "MONITOR_LEVELS": ["debug", "info", "warn", "warning", "err", "error", "sec"],
    }
    for name, value in spec.items():
        assert getattr(rados, name) == value, name


def test_public_classes_exist():
    for name in (
        "Completion",
        "Ioctx",
        "MonitorLog",
        "Object",
        "ObjectIterator",
        "OmapIterator",
        "OpCtx",
        "Rados",
        "ReadOp",
        "ReadOpCtx",
        "Snap",
        "SnapIterator",
        "Version",
        "Watch",
        "WriteOp",
        "WriteOpCtx",
        "XattrIterator",
    ):
        assert isinstance(getattr(rados, name), type), name
    assert issubclass(rados.WriteOpCtx, rados.WriteOp) and issubclass(rados.WriteOpCtx, rados.OpCtx)
    assert rados.Rados.__module__ == "rados"
    assert str(rados.Rados().version()) == "3.0.0"


# -- construction and configuration -------------------------------------------------------------


def test_rados_init_errors():
    with pytest.raises(rados.Error, match="can't supply both rados_id and name"):
        rados.Rados(rados_id="admin", name="client.admin")
    for bad in ("invalid", "bad.invalid"):
        with pytest.raises(rados.Error) as ei:
            rados.Rados(name=bad)
        assert str(ei.value) == "rados_initialize failed with error code: -22"
    with pytest.raises(TypeError):
        rados.Rados(rados_id=b"admin")
    with pytest.raises(TypeError):
        rados.Rados(conffile=1.5)


def test_rados_default_state_reads_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("CEPH_CONF", str(tmp_path / "nope.conf"))
    r = rados.Rados()
    assert r.state == "configuring"
    assert r.conf_get("mon_host") == ""
    assert r.rados_id is None


def test_conffile_empty_searches_default_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("CEPH_CONF", str(tmp_path / "nope.conf"))
    with pytest.raises(rados.ObjectNotFound) as ei:
        rados.Rados(conffile="")
    assert "error calling conf_read_file" in str(ei.value)
    conf = tmp_path / "ceph.conf"
    conf.write_text("[global]\nmon host = 10.0.0.1:6789\nlog file = /dev/null\n")
    monkeypatch.setenv("CEPH_CONF", str(conf))
    r = rados.Rados(conffile="")
    assert "10.0.0.1" in r.conf_get("mon host")
    r2 = rados.Rados(conffile=str(conf), conf={"mon_host": "10.0.0.2:6789"})
    assert "10.0.0.2" in r2.conf_get("mon_host")
    with pytest.raises(rados.ObjectNotFound):
        rados.Rados(conffile=str(tmp_path / "missing.conf"))


def test_conf_get_set():
    r = rados.Rados()
    assert r.conf_get("no_such_option_xyz") is None
    with pytest.raises(rados.ObjectNotFound):
        r.conf_set("no_such_option_xyz", "1")
    with pytest.raises(rados.InvalidArgumentError):
        r.conf_set("rados_osd_op_timeout", "not-a-number")
    with pytest.raises(TypeError):
        r.conf_set("rados_osd_op_timeout", 5)
    with pytest.raises(TypeError):
        r.conf_get(b"rados_osd_op_timeout")
    r.conf_set("rados_osd_op_timeout", "7")
    assert r.conf_get("rados_osd_op_timeout") == "7"
    assert isinstance(r.conf_get("mon_osd_full_ratio"), str)
    r2 = rados.Rados(conf_defaults={"rados_osd_op_timeout": "3"})
    assert r2.conf_get("rados osd op timeout") == "3"


def test_conf_parse_argv_and_env(monkeypatch):
    r = rados.Rados()
    args = ["osd", "pool", "delete", "foobar", "foobar", "--yes-i-really-really-mean-it"]
    assert r.conf_parse_argv(args) == args
    assert r.conf_parse_argv([""]) == [""]
    assert r.conf_parse_argv([]) is None
    assert r.conf_parse_argv(["prog", "--rados-osd-op-timeout", "9", "foo"]) == ["prog", "foo"]
    assert r.conf_get("rados_osd_op_timeout") == "9"
    monkeypatch.setenv("MY_ARGS", "--rados_mon_op_timeout 11")
    r.conf_parse_env("MY_ARGS")
    assert r.conf_get("rados_mon_op_timeout") == "11"
    r.conf_parse_env("FOO_DOES_NOT_EXIST_BLAHBLAH")
    r.conf_parse_env()


# -- state machine ----------------------------------------------------------------------------

CONNECTED_ONLY = [
    ("pool_exists", ("foo",)),
    ("pool_lookup", ("foo",)),
    ("pool_reverse_lookup", (0,)),
    ("create_pool", ("foo",)),
    ("get_pool_base_tier", (0,)),
    ("delete_pool", ("foo",)),
    ("list_pools", ()),
    ("get_fsid", ()),
    ("open_ioctx", ("foo",)),
    ("open_ioctx2", (1,)),
    ("mon_command", ("", b"")),
    ("osd_command", (0, "", b"")),
    ("mgr_command", ("", b"")),
    ("pg_command", ("", "", b"")),
    ("wait_for_latest_osdmap", ()),
    ("blocklist_add", ("127.0.0.1/123", 0)),
    ("get_instance_id", ()),
    ("get_cluster_stats", ()),
    ("get_inconsistent_pgs", (1,)),
    ("get_addrs", ()),
]
CONFIGURING_OR_CONNECTED = [
    ("conf_read_file", ()),
    ("conf_parse_argv", (None,)),
    ("conf_parse_env", ()),
    ("conf_get", ("opt",)),
    ("conf_set", ("opt", "val")),
    ("ping_monitor", ("a",)),
]


def test_state_configuring():
    r = rados.Rados()
    assert r.state == "configuring"
    for name, args in CONNECTED_ONLY:
        with pytest.raises(rados.RadosStateError):
            getattr(r, name)(*args)
    with pytest.raises(rados.RadosStateError) as ei:
        r.list_pools()
    assert "in state configuring" in str(ei.value)
    r.require_state("configuring")


def test_state_connected_and_shutdown(fake):
    before = set(threading.enumerate())
    r = rados.Rados()
    with r:
        assert r.state == "connected"
        with pytest.raises(rados.RadosStateError):
            r.connect()
        r.require_state("connected")
    assert r.state == "shutdown"
    with pytest.raises(rados.RadosStateError):
        r.connect()
    for name, args in CONNECTED_ONLY + CONFIGURING_OR_CONNECTED:
        with pytest.raises(rados.RadosStateError):
            getattr(r, name)(*args)
    r.shutdown()  # idempotent
    # this handle's threads are gone (others, e.g. an embedded cluster's, may live on)
    assert not any(t.name.startswith("rados") for t in set(threading.enumerate()) - before)


def test_connect_errors_map(fake):
    r = rados.Rados(conf={"key": "bad"})
    with pytest.raises(rados.PermissionDeniedError) as ei:
        r.connect()
    assert "error connecting to the cluster" in str(ei.value)
    assert r.state == "configuring"


# -- types ---------------------------------------------------------------------------------------


def test_type_checks(cluster, ioctx):
    with pytest.raises(TypeError):
        cluster.create_pool(0xF00)
    with pytest.raises(TypeError):
        cluster.pool_exists(b"rbd")
    with pytest.raises(TypeError):
        cluster.open_ioctx(None)
    with pytest.raises(TypeError):
        cluster.mon_command("{}", "not bytes")
    with pytest.raises(TypeError, match="incorrect type"):
        ioctx.write(b"abc", b"x")
    with pytest.raises(TypeError, match="incorrect type"):
        ioctx.write("abc", "x")
    with pytest.raises(TypeError):
        ioctx.write_full("abc", None)
    with pytest.raises(TypeError):
        ioctx.read(b"abc")
    with pytest.raises(TypeError):
        ioctx.set_xattr("abc", "a", "str-value")
    with pytest.raises(TypeError):
        ioctx.set_namespace(b"ns")
    with pytest.raises(TypeError):
        ioctx.aio_write("abc", "x")
    with pytest.raises(TypeError):
        ioctx.set_omap(None, ("a",), (b"b",))


# -- cluster-level behaviour on the fake --------------------------------------------------------


def test_pools(cluster):
    assert cluster.get_fsid() == FakeCore.instances[0].fsid
    assert cluster.get_instance_id() == 4242
    assert cluster.list_pools() == ["rbd"]
    cluster.create_pool("foo")
    assert cluster.pool_exists("foo")
    with pytest.raises(rados.ObjectExists):
        cluster.create_pool("foo")
    with pytest.raises(rados.InvalidArgumentError):
        cluster.create_pool("")
    with pytest.raises(rados.InvalidArgumentError):
        cluster.create_pool("bar", auid=5)
    pid = cluster.pool_lookup("foo")
    assert cluster.pool_reverse_lookup(pid) == "foo"
    assert cluster.get_pool_base_tier(pid) == pid
    assert cluster.list_pools() == ["rbd", "foo"]
    cluster.delete_pool("foo")
    assert not cluster.pool_exists("foo")
    assert cluster.pool_lookup("foo") is None
    assert cluster.pool_reverse_lookup(99) is None
    with pytest.raises(rados.ObjectNotFound):
        cluster.delete_pool("foo")
    with pytest.raises(rados.ObjectNotFound):
        cluster.open_ioctx("foo")
    with pytest.raises(rados.ObjectNotFound):
        cluster.open_ioctx2(99)
    assert cluster.open_ioctx2(1).get_pool_name() == "rbd"
    assert cluster.get_cluster_stats()["kb"] == 100
    ret, out, outs = cluster.mon_command(json.dumps({"prefix": "nope"}), b"")
    assert ret == -errno.EINVAL and out == b"" and isinstance(outs, str)
    assert cluster.osd_command(3, "{}", b"") == (0, b'{"osd": 3}', "")
    assert cluster.wait_for_latest_osdmap() == 0


def test_object_io(ioctx):
    assert ioctx.write("abc", b"abc") == 0
    assert ioctx.read("abc") == b"abc"
    ioctx.write_full("abc", b"d")
    assert ioctx.read("abc") == b"d"
    ioctx.append("abc", b"ef")
    assert ioctx.read("abc", 2, 1) == b"ef"
    assert ioctx.trunc("abc", 1) == 0
    size, mtime = ioctx.stat("abc")
    assert size == 1 and isinstance(mtime, time.struct_time)
    ioctx.write("big", b"x" * 10000)
    assert len(ioctx.read("big")) == 8192
    assert ioctx.get_last_version() > 0
    assert ioctx.set_xattr("abc", "lang", b"en_US") is True
    assert ioctx.get_xattr("abc", "lang") == b"en_US"
    assert dict(ioctx.get_xattrs("abc")) == {"lang": b"en_US"}
    assert ioctx.rm_xattr("abc", "lang") is True
    with pytest.raises(rados.NoData):
        ioctx.get_xattr("abc", "lang")
    assert ioctx.cmpext("big", b"xx", 0) == 0
    assert ioctx.cmpext("big", b"xy", 0) == -rados.MAX_ERRNO - 1
    assert ioctx.execute("abc", "hello", "say_hello", b"") == (13, b"Hello, world!")
    assert ioctx.remove_object("abc") is True
    with pytest.raises(rados.ObjectNotFound) as ei:
        ioctx.read("abc")
    assert str(ei.value) == "[errno 2] RADOS object not found (Ioctx.read(rbd): failed to read abc)"
    with pytest.raises(rados.ObjectNotFound):
        ioctx.stat("abc")


def test_list_objects_and_object(ioctx):
    assert list(ioctx.list_objects()) == []
    ioctx.write("a", b"1")
    ioctx.write("b", b"22")
    ioctx.set_namespace("ns1")
    ioctx.write("c", b"333")
    assert ioctx.get_namespace() == "ns1"
    assert [o.key for o in ioctx.list_objects()] == ["c"]
    ioctx.set_namespace(rados.LIBRADOS_ALL_NSPACES)
    objs = list(ioctx.list_objects())
    assert sorted((o.nspace, o.key) for o in objs) == [("", "a"), ("", "b"), ("ns1", "c")]
    ioctx.set_namespace("")
    contents = {o.key: o.read() for o in objs}
    assert contents == {"a": b"1", "b": b"22", "c": b"333"}
    assert ioctx.get_namespace() == ""
    obj = rados.Object(ioctx, "b")
    assert obj.read(1) == b"2"
    assert obj.read(100) == b"2"
    obj.seek(0)
    obj.write(b"zz9")
    obj.seek(2)
    assert obj.read() == b"9"
    assert obj.stat()[0] == 3
    assert obj.set_xattr("k", b"v") and obj.get_xattr("k") == b"v"
    assert list(obj.get_xattrs()) == [("k", b"v")]
    assert str(obj) == "rados.Object(ioctx=%s,key=b,nspace=--default--,locator=None)" % ioctx
    obj.remove()
    with pytest.raises(rados.ObjectStateError):
        obj.read()


def test_ioctx_state(cluster):
    with cluster.open_ioctx("rbd") as io:
        assert io.get_pool_id() == 1
        assert io.get_pool_name() == "rbd"
        assert io.alignment() is None
        io.set_locator_key("loc")
        assert io.get_locator_key() == "loc"
    assert io.state == "closed"
    for call in (
        lambda: io.write("a", b""),
        lambda: io.read("a"),
        io.list_objects,
        io.get_last_version,
        lambda: io.stat("a"),
    ):
        with pytest.raises(rados.IoctxStateError):
            call()
    io.close()


def test_write_ops_and_omap(ioctx):
    with rados.WriteOpCtx() as op:
        op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
        op.write_full(b"12345")
        op.write(b"x", 2)
        ioctx.set_omap(op, ("1", "2", "3"), (b"aaa", b"bbb", "ccc"))
        op.set_flags(rados.LIBRADOS_OPERATION_SKIPRWLOCKS)
        ioctx.operate_write_op(op, "hw")
    assert ioctx.read("hw") == b"12x45"
    with rados.ReadOpCtx() as op:
        it, ret = ioctx.get_omap_vals(op, "", "", 4)
        assert ret == 0 and list(it) == []
        ioctx.operate_read_op(op, "hw")
        assert list(it) == [("1", b"aaa"), ("2", b"bbb"), ("3", b"ccc")]
    with rados.ReadOpCtx() as op:
        it, _ = ioctx.get_omap_keys(op, "", 2)
        ioctx.operate_read_op(op, "hw")
        assert list(it) == [("1", None), ("2", None)]
    with rados.ReadOpCtx() as op:
        it, _ = ioctx.get_omap_vals_by_keys(op, ("3",))
        with pytest.raises(rados.ObjectNotFound):
            ioctx.operate_read_op(op, "no_such")
    with rados.WriteOpCtx() as op:
        op.cmpext(b"19", 0)
        with pytest.raises(rados.ExtendMismatch) as ei:
            ioctx.operate_write_op(op, "hw")
        assert ei.value.offset == 1 and ei.value.errno == rados.MAX_ERRNO + 1
    with pytest.raises(rados.Error):
        ioctx.set_omap(rados.WriteOp(), ("a", "b"), (b"x",))


def test_pool_snaps(ioctx):
    assert list(ioctx.list_snaps()) == []
    with pytest.raises(rados.ObjectNotFound):
        ioctx.remove_snap("foo")
    ioctx.create_snap("foo")
    snap = ioctx.lookup_snap("foo")
    assert snap.name == "foo" and snap.snap_id == 1
    assert [s.name for s in ioctx.list_snaps()] == ["foo"]
    snap.get_timestamp()
    with pytest.raises(rados.ObjectExists):
        ioctx.create_snap("foo")


# -- asynchronous I/O and completions -------------------------------------------------------------


def _counter():
    lock = threading.Condition()
    state = {"n": 0, "threads": set()}

    def cb(comp, *rest):
        with lock:
            state["n"] += 1
            state["threads"].add(threading.current_thread().name)
            lock.notify_all()

    def wait(n):
        with lock:
            assert lock.wait_for(lambda: state["n"] >= n, timeout=5)

    return cb, wait, state


def test_aio_write_both_callbacks_on_finisher(ioctx):
    cb, wait, state = _counter()
    comp = ioctx.aio_write("foo", b"bar", 0, cb, cb)
    comp.wait_for_complete()
    comp.wait_for_safe()
    wait(2)
    assert comp.is_complete() and comp.is_safe()
    assert comp.get_return_value() == 0
    assert ioctx.read("foo") == b"bar"
    assert state["threads"] == {"rados-finisher"}
    assert FakeCore.instances[-1].op_threads == {"rados-loop"}


def test_aio_no_comp_ref_still_fires(ioctx):
    cb, wait, _ = _counter()
    ioctx.aio_write("foo", b"bar", 0, cb, cb)
    gc.collect()
    wait(2)
    assert ioctx.read("foo") == b"bar"


def test_aio_order_and_refcount(ioctx):
    cb, wait, _ = _counter()
    comp = ioctx.aio_write("foo", b"bar", 0, cb, cb)
    comp2 = ioctx.aio_append("foo", b"baz", cb, cb)
    comp2.wait_for_complete_and_cb()
    comp.wait_for_complete_and_cb()
    assert ioctx.read("foo") == b"barbaz"
    wait(4)
    assert sys.getrefcount(comp) == 2
    assert sys.getrefcount(comp2) == 2
    assert ioctx.complete_completions == [] and ioctx.safe_completions == []


def test_aio_read_blocked_then_released(cluster, ioctx):
    core = FakeCore.instances[-1]
    ioctx.write("foo", b"bar\0frob")
    retval = [None]
    done = threading.Event()

    def cb(comp, buf):
        retval[0] = buf
        done.set()

    lt = rados_core.loop_thread(cluster)
    lt.run(_clear(core))
    comp = ioctx.aio_read("foo", 8, 0, cb)
    time.sleep(0.2)
    assert comp.is_complete() is False
    assert retval[0] is None
    lt.run(_set(core))
    comp.wait_for_complete_and_cb()
    assert retval[0] == b"bar\0frob"
    assert comp.get_return_value() == 8
    assert sys.getrefcount(comp) == 2

    retval[0] = 1
    comp = ioctx.aio_read("missing", 8, 0, cb)
    comp.wait_for_complete_and_cb()
    assert retval[0] is None
    assert comp.get_return_value() == -errno.ENOENT
    assert sys.getrefcount(comp) == 2


async def _clear(core):
    core.gate.clear()


async def _set(core):
    core.gate.set()


def test_aio_stat_remove_flush(ioctx):
    got = []
    comp = ioctx.aio_stat("foo", lambda c, size, mtime: got.append((size, mtime)))
    comp.wait_for_complete_and_cb()
    assert comp.get_return_value() == -2 and got == [(None, None)]
    ioctx.write("foo", b"bar")
    comp = ioctx.aio_stat("foo", lambda c, size, mtime: got.append((size, mtime)))
    comp.wait_for_complete_and_cb()
    assert comp.get_return_value() == 0
    assert got[-1][0] == 3 and isinstance(got[-1][1], time.struct_time)
    for i in range(20):
        ioctx.aio_write_full(f"o{i}", b"x")
    ioctx.aio_flush()
    assert all(ioctx.read(f"o{i}") == b"x" for i in range(20))
    c = ioctx.aio_remove("foo")
    c.wait_for_complete()
    assert c.get_return_value() == 0
    out = []
    c = ioctx.aio_execute(
        "o1",
        "hello",
        "say_hello",
        b"nose",
        32,
        lambda c, d: out.append(d),
        lambda c, d: out.append(d),
    )
    c.wait_for_complete_and_cb()
    assert c.get_return_value() == 12 and out == [b"Hello, nose!", b"Hello, nose!"]


def test_callback_exception_does_not_break_finisher(ioctx, monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_type))

    def boom(comp):
        raise RuntimeError("boom")

    c = ioctx.aio_write("x", b"1", 0, boom)
    c.wait_for_complete_and_cb()
    assert seen == [RuntimeError]
    cb, wait, _ = _counter()
    ioctx.aio_write("x", b"2", 0, cb).wait_for_complete_and_cb()
    wait(1)


def test_shutdown_with_pending_aio_completes_waiters(fake):
    r = rados.Rados()
    r.connect()
    io = r.open_ioctx("rbd")
    core = FakeCore.instances[-1]
    rados_core.loop_thread(r).run(_clear(core))
    calls = []
    comp = io.aio_write("foo", b"x", 0, lambda c: calls.append(c.get_return_value()))
    r.shutdown()
    comp.wait_for_complete_and_cb()
    assert comp.get_return_value() == -errno.ESHUTDOWN
    assert calls == [-errno.ESHUTDOWN]
    with pytest.raises(rados.ConnectionShutdown):
        io.read("foo")
