"""Pacific's global_id reclaim (CVE-2021-20288) and its two health checks, on real daemons.

A client that reconnects to a monitor may claim the global_id it had. It proves the
claim with the auth ticket the monitor gave it (secure reclaim, what every pyceph client
does); without one, the claim is refused unless `auth_allow_insecure_global_id_reclaim`
(upstream's default `true`) lets it through, and then the session is named in
AUTH_INSECURE_GLOBAL_ID_RECLAIM. While the option is true the monitor warns
AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED. `mon_warn_on_insecure_global_id_reclaim[_allowed]`
silence them. Texts as `src/mon/HealthMonitor.cc` (Ceph 16.2.15).

A new `LocalCluster` (like the reference's start script) sets the option false and is
HEALTH_OK; the module's cluster sets it true, as a fresh upstream cluster has it.
"""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.waiting import wait_until

import rados
from pyceph.cli.localcluster import LocalCluster
from pyceph.common.addr import parse_mon_host
from pyceph.common.errors import CephError
from pyceph.common.keyring import Keyring
from pyceph.common.runtime import real_runtime
from pyceph.msg.handshake import Credentials
from pyceph.msg.messenger import Messenger

ENTITY = "client.admin"
RECLAIM = "AUTH_INSECURE_GLOBAL_ID_RECLAIM"
ALLOWED = "AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED"
#: How long a health change may take to show (a command round trip, a session reset).
HEALTH_WAIT = 20.0


@pytest.fixture(scope="module")
def insecure_ok(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    from tests.conftest import make_cluster

    c = make_cluster(
        str(tmp_path_factory.mktemp("reclaim") / "c"),
        1,
        auth_allow_insecure_global_id_reclaim="true",
        osd_pool_default_size="1",
        mon_warn_on_pool_no_redundancy="false",
    )
    try:
        yield c
    finally:
        c.stop()


def _admin(conf: str) -> rados.Rados:
    r = rados.Rados(conffile=conf)
    r.connect(timeout=30)
    return r


def _mon(r: rados.Rados, **cmd: Any) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def _checks(r: rados.Rados) -> dict[str, Any]:
    ret, out, err = _mon(r, prefix="health", detail="detail", format="json")
    assert ret == 0, err
    return json.loads(out).get("checks", {})


class Session:
    """A raw monitor session of client.admin, claiming a global_id as told."""

    def __init__(self, admin: rados.Rados) -> None:
        self.mon = parse_mon_host(admin.conf_get("mon_host"))[0]
        secret = Keyring.load(admin.conf_get("keyring").split(",")[0]).get_secret(ENTITY)
        assert secret is not None
        self.secret = secret

    async def open(self, global_id: int = 0, ticket: bytes | None = None) -> tuple[Messenger, Any]:
        creds = Credentials(ENTITY, secret=self.secret, global_id=global_id, old_ticket=ticket)
        m = Messenger(real_runtime(), ENTITY, lambda c, msg: None, credentials=lambda p: creds)
        try:
            conn = await m.connect(self.mon, "mon")
        except BaseException:
            await m.shutdown()
            raise
        assert conn.peer is not None
        return m, conn.peer.extras


def test_a_new_local_cluster_refuses_insecure_reclaim_and_is_quiet(cluster_conf: str) -> None:
    admin = _admin(cluster_conf)
    try:
        assert not {RECLAIM, ALLOWED} & set(_checks(admin))
        s = Session(admin)

        async def scenario() -> None:
            m, ex = await s.open()
            gid, ticket = int(ex["global_id"]), bytes(ex["auth_ticket"])
            await m.shutdown()
            m2, ex2 = await s.open(gid, ticket)  # secure reclaim: the same id back
            assert ex2["global_id"] == gid
            await m2.shutdown()
            with pytest.raises(CephError) as e:  # the id without its ticket: refused
                await s.open(gid)
            assert e.value.errno == errno.EACCES

        asyncio.run(scenario())
        assert not {RECLAIM, ALLOWED} & set(_checks(admin))
    finally:
        admin.shutdown()


def test_insecure_reclaim_allowed_warns_as_upstream(insecure_ok: LocalCluster) -> None:
    admin = _admin(insecure_ok.conf_path)
    try:
        checks = _checks(admin)
        assert checks[ALLOWED] == {
            "severity": "HEALTH_WARN",
            "summary": {"message": "mon is allowing insecure global_id reclaim", "count": 1},
            "detail": [{"message": "mon.a has auth_allow_insecure_global_id_reclaim set to true"}],
            "muted": False,
        }
        assert RECLAIM not in checks  # every client so far reclaimed securely or not at all
        s = Session(admin)

        async def scenario() -> None:
            m, ex = await s.open()
            gid = int(ex["global_id"])
            await m.shutdown()
            m2, ex2 = await s.open(gid)  # no ticket: let through, and named in health
            assert ex2["global_id"] == gid
            try:
                c = await asyncio.to_thread(_checks, admin)
                assert c[RECLAIM]["severity"] == "HEALTH_WARN"
                assert c[RECLAIM]["summary"] == {
                    "message": "client is using insecure global_id reclaim",
                    "count": 1,
                }
                [d] = c[RECLAIM]["detail"]
                assert d["message"].startswith(f"{ENTITY} at 127.0.0.1:")
                assert d["message"].endswith(" is using insecure global_id reclaim")
            finally:
                await m2.shutdown()

        asyncio.run(scenario())
        # the session is gone: so is the warning
        wait_until(lambda: RECLAIM not in _checks(admin), "the insecure session forgotten",
                   HEALTH_WAIT)  # fmt: skip
        ret, _, err = _mon(admin, prefix="config set", who="mon",
                           name="mon_warn_on_insecure_global_id_reclaim_allowed", value="false")  # fmt: skip
        assert ret == 0, err
        wait_until(lambda: ALLOWED not in _checks(admin), "the ALLOWED warning muted by option",
                   HEALTH_WAIT)  # fmt: skip
    finally:
        admin.shutdown()
