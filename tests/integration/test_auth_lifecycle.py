"""The cephx lifecycle on real daemons: tickets renew, expire and die with their user.

One cluster with a four-second `auth_service_ticket_ttl` (upstream's default is an
hour): a client doing I/O for several ticket lifetimes never sees an error (its
tickets are renewed at three quarters of their life and presented again on its live
connections); a user removed with `ceph auth rm` or re-keyed with `ceph auth import`
while connected is refused at once on a new session and loses its live session within
one ticket period; a recorded handshake replayed byte for byte on a new connection is
refused; `ceph auth get -o` writes its keyring 0600.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import LocalCluster

TTL = 4.0
#: How long the I/O loop runs: several ticket lifetimes.
IO_SECONDS = 3 * TTL
#: A removed user must have lost access within a ticket period (plus scheduling slack).
LOSS_BOUND = TTL + 4.0


@pytest.fixture(scope="module")
def lc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    from tests.conftest import make_cluster

    c = make_cluster(
        str(tmp_path_factory.mktemp("authlc") / "c"),
        2,
        auth_service_ticket_ttl=str(TTL),
        osd_pool_default_size="2",
    )
    try:
        yield c
    finally:
        c.stop()


def _admin(lc: LocalCluster) -> rados.Rados:
    r = rados.Rados(conffile=lc.conf_path)
    r.connect(timeout=30)
    return r


def _cmd(r: rados.Rados, **cmd: object) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def _user(lc: LocalCluster, admin: rados.Rados, name: str, caps: list[str]) -> str:
    ret, out, err = _cmd(admin, prefix="auth get-or-create", entity=name, caps=caps)
    assert ret == 0, err
    path = os.path.join(os.path.dirname(lc.conf_path), f"{name}.keyring")
    with open(path, "wb") as f:
        f.write(out)
    return path


#: The removed user's op timeout (ops otherwise wait for access forever, as upstream's).
OP_TIMEOUT = 3


def _as(lc: LocalCluster, name: str, keyring: str) -> rados.Rados:
    conf = {"keyring": keyring, "rados_osd_op_timeout": str(OP_TIMEOUT)}
    r = rados.Rados(conffile=lc.conf_path, name=name, conf=conf)
    r.connect(timeout=30)
    return r


def test_io_across_many_ticket_lifetimes_never_fails(lc: LocalCluster) -> None:
    admin = _admin(lc)
    try:
        pool = f"io-{uuid.uuid4().hex[:6]}"
        admin.create_pool(pool)
        io = admin.open_ioctx(pool)
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < IO_SECONDS:
            io.write_full(f"o{n % 16}", b"x%d" % n)
            assert io.read(f"o{n % 16}") == b"x%d" % n
            assert _cmd(admin, prefix="osd pool ls")[0] == 0
            n += 1
        assert n > 10
        io.close()
    finally:
        admin.shutdown()


def test_removed_user_loses_access(lc: LocalCluster) -> None:
    admin = _admin(lc)
    try:
        pool = f"rm-{uuid.uuid4().hex[:6]}"
        admin.create_pool(pool)
        name = f"client.gone{uuid.uuid4().hex[:4]}"
        kr = _user(lc, admin, name, ["mon", "allow r", "osd", f"allow rw pool={pool}"])
        user = _as(lc, name, kr)
        io = user.open_ioctx(pool)
        io.write_full("a", b"1")
        assert _cmd(admin, prefix="auth rm", entity=name)[0] == 0
        # at once for a new session
        with pytest.raises(rados.Error) as e:
            _as(lc, name, kr)
        assert e.value.errno in (errno.EACCES, errno.EPERM, errno.ETIMEDOUT)
        # and within one ticket period for the live one
        t0 = time.monotonic()

        def refused() -> bool:
            try:
                io.write_full("a", b"2")
                return False
            except rados.Error:
                return True

        wait_until(refused, "the removed user's writes to be refused", LOSS_BOUND + OP_TIMEOUT)
        assert time.monotonic() - t0 < LOSS_BOUND + OP_TIMEOUT
        with pytest.raises(rados.Error):
            io.write_full("a", b"3")
        assert admin.open_ioctx(pool).read("a") in (b"1", b"2")
        user.shutdown()
    finally:
        admin.shutdown()


def test_rekeyed_user_loses_access_and_new_key_works(lc: LocalCluster) -> None:
    admin = _admin(lc)
    try:
        pool = f"rk-{uuid.uuid4().hex[:6]}"
        admin.create_pool(pool)
        name = f"client.rekey{uuid.uuid4().hex[:4]}"
        caps = ["mon", "allow r", "osd", f"allow rw pool={pool}"]
        old_kr = _user(lc, admin, name, caps)
        user = _as(lc, name, old_kr)
        io = user.open_ioctx(pool)
        io.write_full("a", b"1")
        # a new key for the same entity, imported as an operator would
        other = f"client.tmp{uuid.uuid4().hex[:4]}"
        ret, out, err = _cmd(admin, prefix="auth get-or-create", entity=other, caps=caps)
        assert ret == 0, err
        new_key = out.decode().split("key = ")[1].split()[0]
        _cmd(admin, prefix="auth rm", entity=other)
        text = f'[{name}]\n\tkey = {new_key}\n\tcaps mon = "allow r"\n'
        text += f'\tcaps osd = "allow rw pool={pool}"\n'
        ret, _, err = admin.mon_command(json.dumps({"prefix": "auth import"}), text.encode())
        assert ret == 0, err
        with pytest.raises(rados.Error):
            _as(lc, name, old_kr)
        new_kr = os.path.join(os.path.dirname(lc.conf_path), f"{name}.new.keyring")
        with open(new_kr, "w") as f:
            f.write(text)
        fresh = _as(lc, name, new_kr)
        fresh.open_ioctx(pool).write_full("b", b"new")

        def refused() -> bool:
            try:
                io.write_full("a", b"2")
                return False
            except rados.Error:
                return True

        wait_until(refused, "the old key's writes to be refused", LOSS_BOUND + OP_TIMEOUT)
        fresh.open_ioctx(pool).write_full("b", b"still")
        fresh.shutdown()
        user.shutdown()
    finally:
        admin.shutdown()


async def _capture_handshake(mon: tuple[str, int], entity: str, secret: bytes) -> bytes:
    """Authenticate through a recording proxy; the client's bytes, as sent."""
    from pyceph.common.runtime import real_runtime
    from pyceph.msg.handshake import Credentials
    from pyceph.msg.messenger import Messenger

    sent = bytearray()

    async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter, rec: bool) -> None:
        while data := await r.read(65536):
            if rec:
                sent.extend(data)
            w.write(data)
            await w.drain()
        w.close()

    async def handle(cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        sr, sw = await asyncio.open_connection(*mon)
        await asyncio.gather(pipe(cr, sw, True), pipe(sr, cw, False), return_exceptions=True)

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    m = Messenger(
        real_runtime(),
        entity,
        lambda c, msg: None,
        credentials=lambda p: Credentials(entity, secret=secret),
    )
    conn = await m.connect(("127.0.0.1", port), "mon")
    assert conn.peer is not None and conn.peer.entity.startswith("mon.")
    await m.shutdown()
    proxy.close()
    return bytes(sent)


async def _replay(mon: tuple[str, int], raw: bytes) -> list[tuple[str, dict]]:
    """Send recorded bytes on a new connection; the frames the monitor answers with."""
    from pyceph.msg.frame import FrameDecoder
    from pyceph.msg.message import TYPE_NAMES, unpack_head

    r, w = await asyncio.open_connection(*mon)
    w.write(raw)
    await w.drain()
    dec = FrameDecoder()
    got: list[tuple[str, dict]] = []
    while data := await asyncio.wait_for(r.read(65536), 10):
        got += [(TYPE_NAMES[f.type], unpack_head(f.head)) for f in dec.feed(data)]
    w.close()
    return got


def test_replayed_handshake_is_refused(lc: LocalCluster) -> None:
    from pyceph.common.addr import parse_mon_host
    from pyceph.common.keyring import Keyring

    admin = _admin(lc)
    try:
        mon = parse_mon_host(admin.conf_get("mon_host"))[0]
        keyring = admin.conf_get("keyring").split(",")[0]
    finally:
        admin.shutdown()
    secret = Keyring.load(keyring).get_secret("client.admin")
    assert secret is not None
    raw = asyncio.run(_capture_handshake(mon, "client.admin", secret))
    got = asyncio.run(_replay(mon, raw))
    types = [t for t, _ in got]
    assert types[0] == "auth_challenge"  # a fresh challenge the recording cannot answer
    assert types[-1] == "auth_fail" and got[-1][1]["errno"] == errno.EACCES
    assert "auth_done" not in types


def test_keyring_written_by_the_cli_is_private(lc: LocalCluster, tmp_path) -> None:
    out = tmp_path / "admin.keyring"
    subprocess.run(
        [sys.executable, "-m", "pyceph.cli.ceph_main", "-c", lc.conf_path,
         "auth", "get", "client.admin", "-o", str(out)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert "[client.admin]" in out.read_text()
