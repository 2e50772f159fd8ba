"""Integration tests use the cluster fixtures of tests/conftest.py.

`make_cluster`, `shared_cluster`, `cluster_conf`, `own_cluster` and `cluster_factory`
live there so that tests/compat shares the same session cluster.
"""
