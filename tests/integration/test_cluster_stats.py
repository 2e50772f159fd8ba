"""Capacity is known the moment a cluster reports itself ready (upstream's librados test
asserts kb, kb_avail and kb_used > 0 right after start)."""

from __future__ import annotations

import rados


def test_stats_are_ready_when_pyceph_up_returns(cluster_factory):
    # mgr_stats_period at its default (5 s): readiness must not depend on a short period
    cluster = cluster_factory(mgr_stats_period="5")
    with rados.Rados(conffile=cluster.conf_path) as r:
        st = r.get_cluster_stats()
    assert st["kb"] > 0 and st["kb_avail"] > 0
    assert st["kb_used"] > 0, "the stores hold metadata; used space is their real usage"
    assert st["kb_avail"] <= st["kb"] - st["kb_used"] + 3  # rounding of three OSDs


def test_embedded_cluster_knows_its_capacity_at_connect():
    with rados.Rados(conf={"mon_host": "embedded:"}) as r:
        st = r.get_cluster_stats()
        assert st["kb"] > 0 and st["kb_avail"] > 0
