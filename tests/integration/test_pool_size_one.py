"""A pool of size 1 serves writes (the PG activated while an op waited used to leave the
op waiting for a wake-up that never came), and the monitor obeys its own section of the
config database (`ceph config set mon mon_allow_pool_size_one true`), as upstream's does."""

from __future__ import annotations

import json

import rados

SIZE_ONE = {"prefix": "osd pool set", "var": "size", "val": "1", "yes_i_really_mean_it": True}


def _mon(r: rados.Rados, **cmd: object) -> tuple[int, bytes, str]:
    return r.mon_command(json.dumps(cmd), b"")


def test_size_one_pool_takes_writes_once_the_monitor_allows_it(tmp_path):
    # a DIR cluster: its OSDs commit to LMDB off the loop, which opens the window between
    # a PG turning active and its activation being durable
    conf = {"mon_host": f"embedded:{tmp_path}", "rados_osd_op_timeout": "10"}
    with rados.Rados(conf=conf) as r:
        r.create_pool("refused")
        ret, _, outs = _mon(r, pool="refused", **SIZE_ONE)
        assert ret == -1 and outs == "configuring pool size as 1 is disabled by default."
        assert _mon(r, prefix="config set", who="mon", name="mon_allow_pool_size_one",
                    value="true")[0] == 0  # fmt: skip
        r.create_pool("one")
        ret, _, outs = _mon(r, pool="one", **SIZE_ONE)
        assert ret == 0, outs
        with r.open_ioctx("one") as io:
            # at once, while the PGs re-peer for the new size: ops that reach a PG during
            # its activation must run when it completes
            comps = [io.aio_write_full(f"o{i}", b"%d" % i) for i in range(32)]
            for c in comps:
                c.wait_for_complete()
                assert c.get_return_value() == 0
            assert [io.read(f"o{i}") for i in range(32)] == [b"%d" % i for i in range(32)]
        assert _mon(r, prefix="config rm", who="mon", name="mon_allow_pool_size_one")[0] == 0
        assert _mon(r, pool="refused", **SIZE_ONE)[0] == -1
