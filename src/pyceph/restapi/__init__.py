"""The `ceph-rest-api` REST API v0.1: every mon and mgr command as a URL.

Upstream's `src/pybind/ceph_rest_api.py` (Dumpling to Luminous, removed in Mimic)
turned the monitor's `get_command_descriptions` into a Flask application: the
command's words are the path under `/api/v0.1`, its other arguments the query
string, GET for read-only commands and PUT for the rest. This package is that API
as a sans-I/O core plus an aiohttp application factory, shared by the standalone
`ceph-rest-api` command (`pyceph.cli.rest_api_main`) and the `restapi` mgr module:

- `routes`: the URL tree built from command descriptors, the method rule, help;
- `params`: query parameters validated against a descriptor (`pyceph.common.cmdargs`);
- `formats`: output formats (plain text, the JSON envelope, XML) and their choice;
- `app`: the aiohttp application, given an async "run this command" callable;
- `client`: that callable over a `rados.Rados` handle (both hosts use it).

`Runner` and `make_app` are imported from `app` on first use: the mgr loads the
`restapi` module at every start to learn its options, without the web stack.
"""

from __future__ import annotations

from typing import Any

from pyceph.restapi.routes import DEFAULT_BASE_URL, RouteTable

#: upstream's default cephx user of ceph-rest-api (ceph_rest_api.py DEFAULT_CLIENTNAME)
DEFAULT_CLIENT_NAME = "client.restapi"
#: where ceph-rest-api listens by default (upstream's was 0.0.0.0:5000; loopback here)
DEFAULT_ADDR = "127.0.0.1:5000"

__all__ = [
    "DEFAULT_ADDR",
    "DEFAULT_BASE_URL",
    "DEFAULT_CLIENT_NAME",
    "RouteTable",
    "Runner",
    "make_app",
]


def __getattr__(name: str) -> Any:
    """`Runner` and `make_app`, from `pyceph.restapi.app` when first asked for."""
    if name in ("Runner", "make_app"):
        from pyceph.restapi import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
