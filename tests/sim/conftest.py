"""Simulator tests: a failing seeded test reports its seed and how to replay it."""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    seed = callspec.params.get("seed") if callspec is not None else None
    if rep.failed and seed is not None:
        test = item.nodeid.split("[")[0]
        rep.sections.append(
            ("simulator seed", f"seed={seed}; replay: PYCEPH_SIM_SEEDS={seed} pytest {test}")
        )
