"""A blocklisted client's watches end on the OSD at once (upstream
PrimaryLogPG::check_blocklisted_watchers): a dead client must not hold up every notify on
the object (an rbd header's) until its watch times out."""

from __future__ import annotations

import time

from tests.waiting import wait_until

import rados
from pyceph.client.ioctx import IoCtx
from rados import _core as rados_core

#: How long the new map may take to reach the OSD and drop the watch.
DROP_BOUND = 10.0


def test_blocklisted_watcher_is_dropped(tmp_path):
    conf = {"mon_host": f"embedded:{tmp_path}"}
    with rados.Rados(conf=conf) as victim, rados.Rados(conf=conf) as admin:
        admin.create_pool("w")
        vio = victim.open_ioctx("w")
        vio.write_full("hdr", b"x")
        watch = vio.watch("hdr", lambda *a: b"")
        io = IoCtx(rados_core.core_client(admin), admin.pool_lookup("w"))
        assert len(rados_core.run(admin, io.list_watchers("hdr"))) == 1

        admin.blocklist_add(victim.get_addrs())
        wait_until(
            lambda: not rados_core.run(admin, io.list_watchers("hdr")),
            "the blocklisted client's watch to go",
            DROP_BOUND,
        )
        t0 = time.monotonic()
        admin.open_ioctx("w").notify("hdr", "ping", timeout_ms=5000)
        assert time.monotonic() - t0 < 2.0, "notify waited for the blocklisted watcher"
        del watch
