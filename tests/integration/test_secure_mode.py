"""Secure mode on real daemons: a cluster whose every connection is `secure`, and the
mode negotiated between ends that prefer or allow different modes.

With `ms_cluster_mode`, `ms_service_mode` and `ms_client_mode` (and the `ms_mon_*`
ones) all `secure`, every connection — client to mon, client to OSD, OSD to OSD, OSD
and mgr to mon, mon to mgr — negotiates `secure` and rados I/O works. A client that
only speaks `crc` is refused by such a cluster; one that prefers `crc` but allows
`secure` is served in `secure`; one that prefers `secure` on a `crc secure` cluster
gets `secure` and one preferring `crc` gets `crc` (the connector's first mode that the
acceptor allows, as upstream msgr2).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import rados
from pyceph.cli.localcluster import LocalCluster
from rados import _core as rados_core

SECURE_ALL = {
    name: "secure"
    for name in (
        "ms_cluster_mode",
        "ms_service_mode",
        "ms_client_mode",
        "ms_mon_cluster_mode",
        "ms_mon_service_mode",
        "ms_mon_client_mode",
    )
}


@pytest.fixture(scope="module")
def secure_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    from tests.conftest import make_cluster

    c = make_cluster(
        str(tmp_path_factory.mktemp("secure") / "c"), 2, osd_pool_default_size="2", **SECURE_ALL
    )
    try:
        yield c
    finally:
        c.stop()


def _modes(r: rados.Rados) -> dict[str, str]:
    """The negotiated mode of each of the client's connections, by peer entity."""
    conns = rados_core.core_client(r).monc.msgr.connections()
    return {c.peer.entity: c.mode for c in conns if c.peer is not None}


def _client(lc: LocalCluster, **conf: str) -> rados.Rados:
    r = rados.Rados(conffile=lc.conf_path, conf=conf)
    r.connect(timeout=30)
    return r


def test_rados_io_with_every_connection_secure(secure_cluster: LocalCluster) -> None:
    r = _client(secure_cluster)
    try:
        pool = f"s-{uuid.uuid4().hex[:6]}"
        r.create_pool(pool)
        io = r.open_ioctx(pool)
        big = bytes(range(256)) * 4096 * 4  # 4 MiB
        io.write_full("big", big)
        io.write_full("small", b"x" * 4096)
        assert io.read("big", len(big)) == big
        assert io.read("small") == b"x" * 4096
        assert {o.key for o in io.list_objects()} == {"big", "small"}
        modes = _modes(r)
        assert modes and set(modes.values()) == {"secure"}, modes
        assert any(e.startswith("osd.") for e in modes) and any(e.startswith("mon.") for e in modes)
        io.close()
    finally:
        r.shutdown()


def test_a_crc_only_client_is_refused(secure_cluster: LocalCluster) -> None:
    r = rados.Rados(
        conffile=secure_cluster.conf_path,
        conf={"ms_mon_client_mode": "crc", "ms_client_mode": "crc"},
    )
    with pytest.raises(rados.Error):
        r.connect(timeout=5)
    r.shutdown()


def test_a_client_preferring_crc_is_served_secure(secure_cluster: LocalCluster) -> None:
    r = _client(secure_cluster, ms_mon_client_mode="crc secure", ms_client_mode="crc secure")
    try:
        pool = f"m-{uuid.uuid4().hex[:6]}"
        r.create_pool(pool)
        r.open_ioctx(pool).write_full("o", b"1")
        assert set(_modes(r).values()) == {"secure"}
    finally:
        r.shutdown()


def test_mixed_preferences_on_a_default_cluster(cluster_conf: str) -> None:
    """The shared cluster has upstream's defaults: services allow `crc secure`, monitors
    `secure crc`; the connector's first allowed choice wins."""
    prefer_secure = rados.Rados(
        conffile=cluster_conf, conf={"ms_client_mode": "secure crc", "ms_mon_client_mode": "crc"}
    )
    prefer_secure.connect(timeout=30)
    default = rados.Rados(conffile=cluster_conf)
    default.connect(timeout=30)
    try:
        pool = f"x-{uuid.uuid4().hex[:6]}"
        default.create_pool(pool)
        for r in (prefer_secure, default):
            r.open_ioctx(pool).write_full("o", b"1")
        a = _modes(prefer_secure)
        b = _modes(default)
        assert {m for e, m in a.items() if e.startswith("osd.")} == {"secure"}
        assert {m for e, m in a.items() if e.startswith("mon.")} == {"crc"}
        assert {m for e, m in b.items() if e.startswith("osd.")} == {"crc"}
        assert {m for e, m in b.items() if e.startswith("mon.")} == {"secure"}
        default.delete_pool(pool)
    finally:
        prefer_secure.shutdown()
        default.shutdown()
