"""Watch/notify on an erasure-coded pool: the watcher record is object metadata written to
every shard (upstream object_info_t::watchers), read back by list_watchers, removed by
the unwatch."""

from __future__ import annotations

import json
import uuid

import rados
from pyceph.client.ioctx import IoCtx
from rados import _core as rados_core

#: Bound on one notify (ms): the watcher answers at once.
NOTIFY_TIMEOUT_MS = 5000


def _cmd(r: rados.Rados, **cmd) -> None:
    ret, _, outs = r.mon_command(json.dumps(cmd), b"")
    assert ret == 0, outs


def test_watch_records_on_an_erasure_coded_pool(cluster_conf):
    tag = uuid.uuid4().hex[:8]
    profile, pool = f"wecp-{tag}", f"wec-{tag}"
    with rados.Rados(conffile=cluster_conf) as r:
        _cmd(r, prefix="osd erasure-code-profile set", name=profile,
             profile=["k=2", "m=1", "crush-failure-domain=osd"])  # fmt: skip
        _cmd(r, prefix="osd pool create", pool=pool, pg_num=4, pool_type="erasure",
             erasure_code_profile=profile)  # fmt: skip
        try:
            io = r.open_ioctx(pool)
            io.write_full("o", b"data" * 1024)
            got = []
            watch = io.watch("o", lambda *a: got.append(a[3]) or b"ack")
            lister = IoCtx(rados_core.core_client(r), r.pool_lookup(pool))
            ws = rados_core.run(r, lister.list_watchers("o"))
            assert [(w["cookie"], w["timeout_seconds"]) for w in ws] == [(watch.get_id(), 30)]
            assert io.notify("o", "hi", NOTIFY_TIMEOUT_MS) and got == [b"hi"]
            assert io.read("o", 8) == b"datadata" and io.stat("o")[0] == 4096
            watch.close()
            assert rados_core.run(r, lister.list_watchers("o")) == []
            io.close()
        finally:
            r.delete_pool(pool)
