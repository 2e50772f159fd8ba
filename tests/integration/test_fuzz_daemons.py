"""Hostile peers against real daemons (issue 10 item 4): raw TCP sockets to the monitor
and an OSD send garbage, truncated frames, oversized and malformed frames, a stalled half
frame and a flood of connections. Each is dropped (the stalled one after
`ms_connection_ready_timeout`, the flood beyond `pyceph_ms_max_unauthenticated` at once);
afterwards both daemons still serve (`rados` write/read, `ceph status`) and the cluster
did not change (osdmap epoch, object set)."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Callable

import pytest
from tests.waiting import wait_until

import rados
from pyceph.msg.frame import PREAMBLE, PREAMBLE_CRC, crc32c, encode_frame
from pyceph.msg.message import TYPE_CODES, pack_head

#: The options the cluster runs with: a short ready timeout and a small cap, so the test
#: sees both act within seconds.
READY_TIMEOUT = 3
MAX_UNAUTHENTICATED = 16
#: Bound on waiting for a daemon to drop a peer: the ready timeout plus the sweep period
#: and scheduling slack on a loaded machine.
DROP_WAIT = READY_TIMEOUT * 4.0
#: Sockets of the flood: more than the cap.
FLOOD = MAX_UNAUTHENTICATED * 3
POOL = "fuzzpool"


def _frame(mtype: str, head: object, data: bytes = b"") -> bytes:
    return b"".join(bytes(b) for b in encode_frame(TYPE_CODES[mtype], 1, pack_head(head), data))


def _preamble(hlen: int, dlen: int, ftype: int = 1) -> bytes:
    pre = PREAMBLE.pack(0xCE9F, 0, ftype, 0, 1, hlen, dlen)
    return pre + PREAMBLE_CRC.pack(crc32c(pre))


def _connect(addr: tuple[str, int]) -> socket.socket:
    s = socket.create_connection(addr, timeout=5)
    s.settimeout(0.2)
    return s


def _dropped(s: socket.socket) -> bool:
    """Whether the daemon has closed the connection (reads past anything it sent)."""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (TimeoutError, BlockingIOError):
        return False


def _wait_dropped(s: socket.socket, what: str, timeout: float = DROP_WAIT) -> None:
    wait_until(lambda: _dropped(s), what, timeout)
    s.close()


def _send_and_expect_drop(addr: tuple[str, int], payload: bytes, what: str) -> None:
    s = _connect(addr)
    try:
        s.sendall(payload)
    except (ConnectionResetError, BrokenPipeError):
        s.close()
        return
    _wait_dropped(s, what)


def _attacks(rng: random.Random) -> list[tuple[str, bytes]]:
    hello = _frame("auth_hello", {"entity": "client.admin", "nonce": b"n" * 16})
    return [
        ("random bytes", rng.randbytes(4096)),
        ("a corrupt preamble", bytearray(hello[:4]) + b"\xff" + hello[5:]),
        ("a frame with a bad crc", hello[:-1] + bytes([hello[-1] ^ 0xFF])),
        ("an oversized frame before authentication", _preamble(16, 100 << 20)),
        ("a head that is not a map", _frame("auth_hello", [1, 2, 3])),
        ("a nonce that is an integer", _frame("auth_hello", {"entity": "x", "nonce": 10**9})),
        ("an unknown message type", _frame("auth_hello", {})[:4] + b"\xff\xff" + b"\0" * 40),
        ("an osd_op before authentication", _frame("osd_op", {"pool": 1, "ps": 0, "oid": "o"})),
        ("a proof without a hello", _frame("auth_proof", {"proof": b"p" * 32})),
    ]


def _state(r: rados.Rados) -> tuple[int, list[str]]:
    ret, out, _ = r.mon_command(json.dumps({"prefix": "osd dump", "format": "json"}), b"")
    assert ret == 0
    with r.open_ioctx(POOL) as io:
        objects = sorted(o.key for o in io.list_objects())
    return json.loads(out)["epoch"], objects


def _serves(r: rados.Rados, name: str) -> None:
    with r.open_ioctx(POOL) as io:
        io.write_full(name, name.encode())
        assert io.read(name) == name.encode()
        io.remove_object(name)
    ret, out, _ = r.mon_command(json.dumps({"prefix": "status", "format": "json"}), b"")
    assert ret == 0 and json.loads(out)["osdmap"]["num_up_osds"] == 1


@pytest.fixture
def fuzz_cluster(cluster_factory: Callable) -> rados.Rados:
    c = cluster_factory(
        1,
        osd_pool_default_size="1",
        ms_connection_ready_timeout=str(READY_TIMEOUT),
        pyceph_ms_max_unauthenticated=str(MAX_UNAUTHENTICATED),
    )
    r = rados.Rados(conffile=c.conf_path)
    r.connect(timeout=30)
    r.create_pool(POOL)
    with r.open_ioctx(POOL) as io:
        for i in range(5):
            io.write_full(f"obj{i}", b"x" * i)
    yield r
    r.shutdown()


def _targets(r: rados.Rados) -> dict[str, tuple[str, int]]:
    ret, out, _ = r.mon_command(json.dumps({"prefix": "osd dump", "format": "json"}), b"")
    assert ret == 0
    osd = json.loads(out)["osds"][0]["public_addr"]  # "127.0.0.1:6800/123"
    host, port = osd.split("/")[0].rsplit(":", 1)
    mon = r.conf_get("mon_host").split(",")[0].removeprefix("v2:").removeprefix("v1:")
    mhost, mport = mon.rsplit(":", 1)
    return {"mon": (mhost, int(mport)), "osd": (host, int(port))}


def test_hostile_peers_are_dropped_and_daemons_keep_serving(fuzz_cluster: rados.Rados) -> None:
    r = fuzz_cluster
    before = _state(r)
    rng = random.Random(1)
    for name, addr in _targets(r).items():
        for what, payload in _attacks(rng):
            _send_and_expect_drop(addr, bytes(payload), f"{name} drops {what}")
        # truncated: every prefix length class of a valid hello, then the peer goes away
        hello = _frame("auth_hello", {"entity": "client.admin", "nonce": b"n" * 16})
        for cut in (1, 27, 28, 40, len(hello) - 1):
            s = _connect(addr)
            s.sendall(hello[:cut])
            s.close()
        # stalled mid-frame: dropped after the ready timeout, not before
        stalled = _connect(addr)
        stalled.sendall(hello[:40])
        t0 = time.monotonic()
        _wait_dropped(stalled, f"{name} drops a stalled half frame")
        assert time.monotonic() - t0 >= READY_TIMEOUT * 0.5
        # a flood: more sockets than the cap; the ones over it are closed at once, and the
        # daemon still serves a real client meanwhile (after the idle ones time out)
        flood = [_connect(addr) for _ in range(FLOOD)]
        try:
            wait_until(
                lambda flood=flood: sum(map(_dropped, flood)) >= FLOOD - MAX_UNAUTHENTICATED,
                f"{name} refuses connections over the cap",
                DROP_WAIT,
            )
            _serves(r, f"during-flood-{name}")
            for s in flood:
                _wait_dropped(s, f"{name} drops idle unauthenticated peers")
        finally:
            for s in flood:
                s.close()
    _serves(r, "after")
    assert _state(r) == before
