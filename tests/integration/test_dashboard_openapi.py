"""Schemathesis against the dashboard's OpenAPI document, on a real cluster over HTTPS.

The document is read from the running module (`/docs/api.json`); every operation
but logout (it would end the test's own session) gets `EXAMPLES` generated
requests with the admin's token and the versioned Accept header. No answer may
be a 5xx, and every answer must have a documented status code and media type and
conform to its schema.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from tests.conftest import make_cluster
from tests.dashboard_client import V1, Dashboard, cmd, start_dashboard

import rados

#: generated requests per operation (keeps the run well under two minutes)
EXAMPLES = 8
#: operations not fuzzed, and why
EXCLUDED = {"/api/auth/logout": "it would block the test's own token"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Dashboard, str]]:
    """The running dashboard and the path of its certificate (for `requests`)."""
    with tempfile.TemporaryDirectory(prefix="pyceph-dash-oas-") as tmp:
        cluster = make_cluster(os.path.join(tmp, "c"))
        r = rados.Rados(conffile=cluster.conf_path)
        try:
            r.connect()
            dash = start_dashboard(r)
            ca = os.path.join(tmp, "ca.pem")
            with open(ca, "w") as f:
                f.write(cmd(r, prefix="config-key get", key="mgr/dashboard/crt")[1])
            yield dash, ca
        finally:
            r.shutdown()
            cluster.stop()


@pytest.fixture(scope="module")
def api_schema(live: tuple[Dashboard, str]) -> Any:
    dash, _ = live
    status, _, doc = dash.request("GET", "/docs/api.json", accept=None)
    assert status == 200
    for path in EXCLUDED:
        del doc["paths"][path]
    return schemathesis.openapi.from_dict(doc)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_document(case: Any, live: tuple[Dashboard, str]) -> None:
    dash, ca = live
    headers = {"Authorization": f"Bearer {dash.tokens['admin']}", "Accept": V1}
    resp = case.call_and_validate(
        base_url=f"https://127.0.0.1:{dash.port}",
        headers=headers,
        checks=CHECKS,
        verify=ca,
        timeout=30,
    )
    # the admin's token stays valid through the run (some generated cases drop it
    # on purpose, to see the refusal): with it, no answer is a refusal
    if resp.request.headers.get("Authorization") == headers["Authorization"]:
        assert resp.status_code not in (401, 403), (case.operation.label, resp.text)
