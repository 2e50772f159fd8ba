"""`ceph-rest-api`'s command line: upstream's flags and user name rules (no cluster)."""

from __future__ import annotations

import subprocess
import sys

from pyceph.cli.rest_api_main import client_name, parse_args


def test_usage_is_upstreams() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pyceph.cli.rest_api_main", "-h"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    assert out.stdout.startswith("usage: ceph-rest-api [-h] [-c CONF] [--cluster CLUSTER] [-n NAME] [-i ID]")  # fmt: skip
    assert "Ceph REST API webapp" in out.stdout


def test_client_name() -> None:
    assert client_name(parse_args([])) == "client.restapi"  # upstream's DEFAULT_CLIENTNAME
    assert client_name(parse_args(["-i", "api"])) == "client.api"
    assert client_name(parse_args(["--id", "api", "-n", "client.admin"])) == "client.admin"
    args = parse_args(["-c", "/etc/ceph/x.conf", "--cluster", "x"])
    assert (args.conf, args.cluster) == ("/etc/ceph/x.conf", "x")
