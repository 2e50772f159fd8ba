"""Fixtures that start real clusters (daemon processes on loopback) in temporary dirs.

Shared by tests/integration and tests/compat: both use the one session-scoped
`shared_cluster`, so a run of the whole suite starts it once.
"""

from __future__ import annotations

import compileall
import os
import tempfile
import uuid
from collections.abc import Iterator

import pytest

import rados
from pyceph.cli.localcluster import LocalCluster

#: Failure detection and reporting shortened so tests finish in seconds.
FAST_OPTIONS = {
    "osd_heartbeat_interval": "1",
    "osd_heartbeat_grace": "3",
    "mon_osd_down_out_interval": "600",
    "mgr_stats_period": "1",
    "mon_tick_interval": "1",
    "osd_pool_default_pg_num": "8",
    "pyceph_osd_capacity": "1G",
    "mgr_module_path": "",  # built-in modules only; tests that load others set the path
}


#: The package tree the daemons the tests spawn import.
SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def pytest_configure(config: pytest.Config) -> None:
    """Compile the tree's bytecode once, before any worker starts: with
    PYTHONDONTWRITEBYTECODE set (as on CI machines) every daemon a test spawns would
    otherwise compile every module it imports, at every start (a third of a daemon's
    start-up). An installed package has its bytecode; this gives the checkout the same."""
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        compileall.compile_dir(SRC, quiet=1)


#: Where tests may connect: this machine only (loopback); embedded and simulated
#: clusters use in-memory networks, real daemons listen on 127.0.0.1.
LOOPBACK_PREFIXES = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    """Refuse, and fail the run on, any connection the test process makes off this machine
    through pyceph's network seam or a Python socket (an in-memory address dialed on the
    real network is a bug: a mgr module once did that)."""
    import socket

    from pyceph.common.runtime import TcpNetwork

    dialed: list[str] = []
    orig_net, orig_sock = TcpNetwork.connect, socket.socket.connect

    def check(host: object, port: object) -> None:
        if not str(host).startswith(LOOPBACK_PREFIXES):
            dialed.append(f"{host}:{port}")
            raise ConnectionRefusedError(f"tests may not connect off this machine: {host}:{port}")

    async def net_connect(self, host, port, factory):  # type: ignore[no-untyped-def]
        check(host, port)
        return await orig_net(self, host, port, factory)

    def sock_connect(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return orig_sock(self, address)

    mp = pytest.MonkeyPatch()
    mp.setattr(TcpNetwork, "connect", net_connect)
    mp.setattr(socket.socket, "connect", sock_connect)
    try:
        yield
    finally:
        mp.undo()
    assert not dialed, f"the tests dialed addresses off this machine: {sorted(set(dialed))}"


def make_cluster(tmp: str, num_osds: int = 3, **overrides: str) -> LocalCluster:
    """Create and start a cluster in `tmp`; the caller stops it."""
    cluster = LocalCluster(tmp)
    try:
        cluster.create_and_start(num_osds=num_osds, overrides={**FAST_OPTIONS, **overrides})
        cluster.wait_ready()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def shared_cluster() -> Iterator[LocalCluster]:
    """One cluster for the tests that do not kill daemons."""
    with tempfile.TemporaryDirectory(prefix="pyceph-it-") as tmp:
        cluster = make_cluster(os.path.join(tmp, "c"))
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def cluster_conf(shared_cluster: LocalCluster) -> str:
    """Path to the shared cluster's ceph.conf."""
    return shared_cluster.conf_path


@pytest.fixture
def own_cluster(tmp_path) -> Iterator[LocalCluster]:
    """A cluster of the test's own, for tests that kill or restart daemons."""
    cluster = make_cluster(str(tmp_path / "c"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_factory(tmp_path) -> Iterator:
    """Make clusters with option overrides; all are stopped after the test."""
    made: list[LocalCluster] = []

    def make(num_osds: int = 3, **overrides: str) -> LocalCluster:
        cluster = make_cluster(str(tmp_path / f"c{len(made)}"), num_osds, **overrides)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()


@pytest.fixture
def cluster(cluster_conf: str) -> Iterator[rados.Rados]:
    """A connected `rados.Rados` handle on the shared cluster."""
    r = rados.Rados(conffile=cluster_conf)
    r.connect(timeout=30)
    try:
        yield r
    finally:
        r.shutdown()


@pytest.fixture
def pool(cluster: rados.Rados) -> Iterator[str]:
    """A fresh pool of the test's own, removed afterwards."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    cluster.create_pool(name)
    try:
        yield name
    finally:
        if cluster.pool_exists(name):
            cluster.delete_pool(name)


@pytest.fixture
def ioctx(cluster: rados.Rados, pool: str) -> Iterator[rados.Ioctx]:
    """An open I/O context on the test's own pool."""
    io = cluster.open_ioctx(pool)
    try:
        yield io
    finally:
        io.close()
