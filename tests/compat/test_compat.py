"""pyceph's `rados` against the outcomes recorded from the reference Ceph.

Every scenario in scenarios/ runs in a subprocess under this interpreter (pyceph's
drop-in `rados`) against the shared session cluster, and each step's outcome must
equal the one in expected/<scenario>.json (recorded by record.py from Debian's
python3-rados against a real Ceph 16.2.15). Steps listed in known_gaps.json are
pyceph's known differences: they must still differ, so fixing one makes this test
ask for its removal from the list.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("compat_runner", os.path.join(HERE, "runner.py"))
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

SCENARIOS = runner.scenario_names()

with open(os.path.join(HERE, "known_gaps.json")) as _f:
    KNOWN_GAPS: dict[str, dict[str, str]] = {
        k: v for k, v in json.load(_f).items() if not k.startswith("_")
    }


@pytest.fixture(scope="module")
def outcomes(cluster_conf: str) -> dict[str, dict]:
    """Every scenario's pyceph outcomes, run concurrently against the shared cluster."""
    with ThreadPoolExecutor(len(SCENARIOS)) as ex:
        results = ex.map(
            lambda name: runner.run_scenario(sys.executable, name, cluster_conf, timeout=120),
            SCENARIOS,
        )
        return dict(zip(SCENARIOS, results, strict=True))


def _fmt(outcome: dict | None) -> str:
    if outcome is None:
        return "(step not reported)"
    shown = {k: outcome.get(k) for k in runner.COMPARED}
    if outcome.get("detail"):
        shown["detail"] = outcome["detail"]
    return json.dumps(shown, sort_keys=True)[:600]


def test_every_scenario_is_recorded():
    recorded = sorted(f[:-5] for f in os.listdir(runner.EXPECTED_DIR) if f.endswith(".json"))
    assert recorded == SCENARIOS


def test_known_gaps_name_recorded_steps():
    """known_gaps.json only names scenarios and steps that exist, each with a reason."""
    for scenario, gaps in KNOWN_GAPS.items():
        assert scenario in SCENARIOS, scenario
        steps = {s["step"] for s in runner.load_expected(scenario)["steps"]}
        for step, reason in gaps.items():
            assert step in steps, f"{scenario}: no recorded step {step!r}"
            assert isinstance(reason, str) and reason.strip(), f"{scenario}/{step}: no reason"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_matches_reference(scenario: str, outcomes: dict[str, dict]) -> None:
    expected = runner.load_expected(scenario)["steps"]
    got = outcomes[scenario]
    actual = {s["step"]: s for s in got["steps"]}
    gaps = KNOWN_GAPS.get(scenario, {})
    problems = []
    harness = actual.get("__harness__")
    if harness is not None:
        problems.append(f"harness: {harness['detail']}\nstderr: {got['stderr']}")
    for exp in expected:
        name = exp["step"]
        diff = runner.compare_step(exp, actual.get(name))
        if name in gaps:
            if not diff:
                problems.append(
                    f"{name}: now matches the reference; remove it from known_gaps.json "
                    f"({gaps[name]})"
                )
        elif diff:
            problems.append(
                f"{name}: differs in {diff}\n   expected {_fmt(exp)}\n   pyceph   "
                f"{_fmt(actual.get(name))}"
            )
    extra = sorted(set(actual) - {e["step"] for e in expected} - {"__harness__"})
    if extra:
        problems.append(f"steps not in the recording (re-record?): {extra}")
    assert not problems, f"{scenario}: {len(problems)} problem(s)\n" + "\n".join(problems)
